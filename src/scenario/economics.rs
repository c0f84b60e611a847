//! `[economics]`: what health-economic evaluation needs from a scenario —
//! currency, price year and perspective (reported), discount rates, the
//! willingness-to-pay grid, unit costs (`[economics.costs]`, and per drug
//! `cost_per_day`/`cost_per_course` in `[drugs.NAME]`) and utilities
//! (`[economics.utilities]`).
//!
//! Every number is a [`Param`]: a fixed value or a distribution drawn once
//! per replicate, with its allowed range in the type, so a negative cost, a
//! utility above 1 or a discount rate outside [0, 0.2] is refused at its own
//! line and column. Each field is declared once (doc, default, source) and
//! the struct, its defaults, its per-replicate draw and the `check` listing
//! are generated from that declaration.

use std::fmt;

use rand::Rng;
use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::dist::{num, DiscountRate, NonNegative, Param, Utility, UtilityLoss, UtilityPerVas};
use super::Modality;

/// Default willingness-to-pay grid: 0 to this, per QALY (assumption).
pub const DEFAULT_WTP_MAX: f64 = 100_000.0;
/// Default step of the willingness-to-pay grid (assumption).
pub const DEFAULT_WTP_STEP: f64 = 1_000.0;
/// Most points a willingness-to-pay grid may have.
pub const MAX_WTP_POINTS: usize = 10_001;

/// One row of the `check` listing of `[economics]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EconomicsRow {
    /// Scenario path, e.g. `economics.costs.visit`.
    pub path: String,
    /// The value as written (a number or a distribution).
    pub value: String,
    /// What it means.
    pub doc: &'static str,
    /// Where the default comes from.
    pub source: &'static str,
}

/// Declares a table of economic parameters once: the struct (with serde
/// defaults and `deny_unknown_fields`), its `Default`, the per-replicate
/// values and the `check` listing.
macro_rules! economic_params {
    (
        $(#[doc = $tdoc:literal])+
        $table:ident => $values:ident, $prefix:literal {
            $( $(#[doc = $doc:literal])+ $name:ident : $kind:ty = $default:expr, $source:literal; )*
        }
    ) => {
        $(#[doc = $tdoc])+
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $table {
            $( $(#[doc = $doc])+ pub $name: Param<$kind>, )*
        }

        impl Default for $table {
            fn default() -> Self {
                Self { $( $name: Param::fixed($default), )* }
            }
        }

        /// One replicate's values of the table (all draws done).
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $values {
            $( $(#[doc = $doc])+ pub $name: f64, )*
        }

        impl $table {
            /// Draws one replicate's values; `record` receives `(path, value,
            /// distribution)` of every value drawn from a distribution.
            pub fn draw_recorded<R: Rng + ?Sized>(
                &self,
                rng: &mut R,
                record: &mut dyn FnMut(String, f64, String),
            ) -> $values {
                $values { $( $name: {
                    let v = self.$name.draw(rng);
                    if self.$name.is_random() {
                        record(concat!($prefix, stringify!($name)).to_string(), v, self.$name.to_string());
                    }
                    v
                }, )* }
            }

            /// The rows of the `check` listing.
            pub fn listing(&self) -> Vec<EconomicsRow> {
                vec![ $( EconomicsRow {
                    path: concat!($prefix, stringify!($name)).to_string(),
                    value: self.$name.to_string(),
                    doc: concat!($($doc),+).trim(),
                    source: $source,
                }, )* ]
            }

            /// The central value (fixed value or distribution mean) of the
            /// field at `path`, and a mutable handle on it, for one-way
            /// sensitivity analysis.
            pub fn field_mut(&mut self, path: &str) -> Option<&mut dyn ParamSlot> {
                match path {
                    $( concat!($prefix, stringify!($name)) => Some(&mut self.$name), )*
                    _ => None,
                }
            }
        }
    };
}

/// A parameter whose value one-way sensitivity analysis sets.
pub trait ParamSlot {
    /// Replaces the parameter by a fixed value.
    fn set_fixed(&mut self, x: f64);
    /// The fixed value, or the distribution's mean.
    fn central_value(&self) -> f64;
    /// The distribution, if the parameter is drawn from one.
    fn distribution(&self) -> Option<&super::Dist>;
}

impl<K: super::dist::Kind> ParamSlot for Param<K> {
    fn set_fixed(&mut self, x: f64) {
        *self = Param::fixed(x);
    }
    fn central_value(&self) -> f64 {
        self.central()
    }
    fn distribution(&self) -> Option<&super::Dist> {
        match self {
            Param::Random(d) => Some(d),
            Param::Fixed(..) => None,
        }
    }
}

economic_params! {
    /// `[economics.costs]`: unit costs in the scenario's currency and price
    /// year (illustrative defaults: no CRMO unit costs are published).
    Costs => CostValues, "economics.costs." {
        /// Cost of a clinic visit (each flare after diagnosis and each scheduled follow-up).
        visit: NonNegative = 150.0, "assumption (illustrative)";
        /// Cost of a whole-body MRI.
        imaging_wbmri: NonNegative = 700.0, "assumption (illustrative)";
        /// Cost of a bone scintigraphy.
        imaging_scintigraphy: NonNegative = 400.0, "assumption (illustrative)";
        /// Cost of plain radiographs.
        imaging_radiograph: NonNegative = 60.0, "assumption (illustrative)";
        /// Cost of a flare (analgesia, primary care), at its start.
        flare: NonNegative = 200.0, "assumption (illustrative)";
        /// Cost of an adverse event that stops a drug.
        adverse_event: NonNegative = 500.0, "assumption (illustrative)";
        /// Cost of the diagnostic work-up (specialist visits, blood tests, biopsy where done), at diagnosis; imaging at diagnosis is costed apart.
        diagnosis: NonNegative = 1000.0, "assumption (illustrative)";
    }
}

economic_params! {
    /// `[economics.utilities]`: health-state utilities (1 = full health) and
    /// decrements (no CRMO utilities are published).
    Utilities => UtilityValues, "economics.utilities." {
        /// Utility while in a flare.
        flare: Utility = 0.6, "assumption (illustrative): bone pain with limited function";
        /// Utility in remission (between flares of the active phase).
        remission: Utility = 0.85, "assumption (illustrative)";
        /// Utility once the disease has resolved (burnt out).
        resolved: Utility = 0.9, "assumption (illustrative)";
        /// Utility lost per pain point (VAS 0-10) in a flare, on top of `flare`: flare utility = flare - this x pain. 0 = off.
        flare_pain_decrement_per_vas: UtilityPerVas = 0.0, "off unless given";
        /// QALYs lost at each adverse event that stops a drug.
        adverse_event_qaly_loss: UtilityLoss = 0.0, "zero unless given";
        /// Utility lost on each infusion day of a drug given in courses.
        infusion_day_disutility: UtilityLoss = 0.0, "zero unless given";
    }
}

/// `[economics]`: costs, utilities, discounting and the reporting frame.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Economics {
    /// Currency of every cost (reported).
    pub currency: String,
    /// Price year of every cost (reported).
    pub price_year: u32,
    /// Perspective of the evaluation (reported).
    pub perspective: String,
    /// Annual discount rate of costs.
    pub discount_costs: Param<DiscountRate>,
    /// Annual discount rate of health effects (QALYs).
    pub discount_effects: Param<DiscountRate>,
    /// Willingness-to-pay thresholds per QALY for the curves and net benefit.
    pub wtp: WtpGrid,
    /// Unit costs.
    pub costs: Costs,
    /// Utilities.
    pub utilities: Utilities,
}

/// Source of the default discount rates.
pub const DISCOUNT_SOURCE: &str = "[NICE2022] 3.5% a year for costs and effects";

impl Default for Economics {
    fn default() -> Self {
        Self {
            currency: "EUR".into(),
            price_year: 2024,
            perspective: "health care payer".into(),
            discount_costs: Param::fixed(0.035),
            discount_effects: Param::fixed(0.035),
            wtp: WtpGrid::default(),
            costs: Costs::default(),
            utilities: Utilities::default(),
        }
    }
}

impl Economics {
    /// The `check` listing: discount rates, costs and utilities with their
    /// sources (drug costs are listed by the drug table).
    pub fn listing(&self) -> Vec<EconomicsRow> {
        let mut rows = vec![
            EconomicsRow {
                path: "economics.discount_costs".into(),
                value: self.discount_costs.to_string(),
                doc: "Annual discount rate of costs, applied continuously as (1 + d)^(-t).",
                source: DISCOUNT_SOURCE,
            },
            EconomicsRow {
                path: "economics.discount_effects".into(),
                value: self.discount_effects.to_string(),
                doc: "Annual discount rate of QALYs, applied continuously as (1 + d)^(-t).",
                source: DISCOUNT_SOURCE,
            },
        ];
        rows.extend(self.costs.listing());
        rows.extend(self.utilities.listing());
        rows
    }

    /// The parameter at scenario path `path` (`economics.…`), for one-way
    /// sensitivity analysis.
    pub fn field_mut(&mut self, path: &str) -> Option<&mut dyn ParamSlot> {
        match path {
            "economics.discount_costs" => Some(&mut self.discount_costs),
            "economics.discount_effects" => Some(&mut self.discount_effects),
            p if p.starts_with("economics.costs.") => self.costs.field_mut(p),
            p if p.starts_with("economics.utilities.") => self.utilities.field_mut(p),
            _ => None,
        }
    }

    /// Draws one replicate's values of the table (drug costs apart).
    pub fn draw_recorded<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        record: &mut dyn FnMut(String, f64, String),
    ) -> (f64, f64, CostValues, UtilityValues) {
        let mut one = |path: &str, p: &Param<DiscountRate>, rng: &mut R| {
            let v = p.draw(rng);
            if p.is_random() {
                record(path.to_string(), v, p.to_string());
            }
            v
        };
        let dc = one("economics.discount_costs", &self.discount_costs, rng);
        let de = one("economics.discount_effects", &self.discount_effects, rng);
        let costs = self.costs.draw_recorded(rng, record);
        let utilities = self.utilities.draw_recorded(rng, record);
        (dc, de, costs, utilities)
    }
}

impl CostValues {
    /// The cost of one imaging study by `modality`.
    pub fn imaging(&self, modality: Modality) -> f64 {
        match modality {
            Modality::Wbmri => self.imaging_wbmri,
            Modality::Scintigraphy => self.imaging_scintigraphy,
            Modality::Radiograph => self.imaging_radiograph,
        }
    }
}

/// The willingness-to-pay thresholds per QALY, ascending and distinct.
#[derive(Debug, Clone, PartialEq)]
pub struct WtpGrid(pub Vec<f64>);

impl Default for WtpGrid {
    fn default() -> Self {
        WtpGrid::range(DEFAULT_WTP_MAX, DEFAULT_WTP_STEP)
    }
}

impl WtpGrid {
    /// 0, step, 2·step, … up to `max` (inclusive, to rounding).
    pub fn range(max: f64, step: f64) -> Self {
        let n = (max / step + 1e-9).floor() as usize;
        WtpGrid((0..=n).map(|k| k as f64 * step).collect())
    }

    /// The thresholds.
    pub fn values(&self) -> &[f64] {
        &self.0
    }
}

impl fmt::Display for WtpGrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.0;
        match v.len() {
            0 => f.write_str("(empty)"),
            1 => write!(f, "{}", num(v[0])),
            n => write!(f, "{} to {} ({n} thresholds)", num(v[0]), num(v[n - 1])),
        }
    }
}

/// `wtp` as written: a list of thresholds, or `{ max, step }` from 0.
#[derive(Deserialize)]
#[serde(untagged)]
enum WtpSpec {
    List(Vec<super::NumberLike>),
    Range(WtpRange),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WtpRange {
    max: super::NumberLike,
    step: super::NumberLike,
}

impl<'de> Deserialize<'de> for WtpGrid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = WtpSpec::deserialize(d).map_err(|_| {
            de::Error::custom(
                "wtp must be a list of thresholds per QALY, e.g. [0, 20000, 30000], or { max = 100000, step = 1000 }",
            )
        })?;
        let grid = match spec {
            WtpSpec::List(v) => {
                let mut v: Vec<f64> = v.into_iter().map(|x| x.0).collect();
                if let Some(x) = v.iter().find(|x| !x.is_finite() || **x < 0.0) {
                    return Err(de::Error::custom(format!(
                        "wtp threshold {} is not allowed: thresholds are finite numbers of 0 or more",
                        num(*x)
                    )));
                }
                v.sort_by(f64::total_cmp);
                v.dedup();
                v
            }
            WtpSpec::Range(r) => {
                let (max, step) = (r.max.0, r.step.0);
                if !(max.is_finite() && max >= 0.0 && step.is_finite() && step > 0.0) {
                    return Err(de::Error::custom(format!(
                        "wtp = {{ max = {}, step = {} }} is not allowed: max must be a finite number of 0 or more and step a finite number above 0",
                        num(max),
                        num(step)
                    )));
                }
                WtpGrid::range(max, step).0
            }
        };
        if grid.is_empty() {
            return Err(de::Error::custom(
                "the willingness-to-pay grid `wtp` is empty: give at least one threshold, e.g. [0, 20000, 30000]",
            ));
        }
        if grid.len() > MAX_WTP_POINTS {
            return Err(de::Error::custom(format!(
                "the willingness-to-pay grid has {} thresholds; at most {MAX_WTP_POINTS} are allowed (use a larger step)",
                grid.len()
            )));
        }
        Ok(WtpGrid(grid))
    }
}

/// The illustrative default cost of a catalogue drug, `(per day, per
/// course)`, with its source; 0 for drugs not in the catalogue.
pub fn catalogue_drug_cost(name: &str) -> (f64, f64, &'static str) {
    const SRC: &str = "assumption (illustrative list price)";
    match name {
        "nsaid" => (0.5, 0.0, SRC),
        "glucocorticoid" => (0.3, 0.0, SRC),
        "methotrexate" => (1.5, 0.0, SRC),
        "sulfasalazine" => (1.0, 0.0, SRC),
        "pamidronate" => (
            0.0,
            1500.0,
            "assumption (illustrative: 3 day-case infusions)",
        ),
        "zoledronate" => (0.0, 800.0, "assumption (illustrative: 1 day-case infusion)"),
        "tnf_inhibitor" => (
            30.0,
            0.0,
            "assumption (illustrative: biosimilar adalimumab)",
        ),
        "il1_blocker" => (150.0, 0.0, SRC),
        _ => (0.0, 0.0, "zero unless given (not in the catalogue)"),
    }
}
