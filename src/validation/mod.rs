//! Validating the diagnostic criteria (`crmo-sim criteria`): a study
//! resolved with its `[differential]` ([`CriteriaStudy`]), the run of the
//! CRMO cohort to diagnosis beside the mimic populations, and every estimate
//! made from the merged tally, computed once here ([`CriteriaResult`]):
//! sensitivity, specificity, predictive values at the case mix's prevalence
//! (and at one given on the command line), ROC points, the AUC of each
//! score, and the Jansson items by population with their odds ratios.
//! Writers ([`tables`]) and the ROC plot only read these.

pub mod shard;
pub mod stats;
pub mod tables;

use std::ops::Range;

use crate::engine::differential::{DifferentialSpec, DifferentialTally, PopulationTally};
use crate::engine::model_values::DAYS_PER_YEAR;
use crate::error::{Error, Result};
use crate::model::criteria::JANSSON_POINTS;
use crate::scenario::differential::{Mimic, KNOWN_CRITERIA};
use crate::study::Study;

use stats::{auc_delong, predictive_values, wilson, Auc, TwoByTwo};

/// A criterion: a score read at every cut-off, or a yes/no rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// The Jansson score [Jansson2009], positive at or above a cut-off.
    Jansson,
    /// Bristol criterion 1 [Roderick2016], positive when met.
    Bristol1,
}

impl Criterion {
    /// The criterion called `name` (one of [`KNOWN_CRITERIA`]).
    pub fn named(name: &str) -> Option<Criterion> {
        match name {
            "jansson" => Some(Criterion::Jansson),
            "bristol_1" => Some(Criterion::Bristol1),
            _ => None,
        }
    }

    /// Its name in the CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::Jansson => "jansson",
            Criterion::Bristol1 => "bristol_1",
        }
    }

    /// Its source key in the reference figures.
    pub fn source(self) -> &'static str {
        KNOWN_CRITERIA
            .iter()
            .find(|c| c.0 == self.as_str())
            .map_or("", |c| c.2)
    }

    /// Whether it is a score (with an AUC) rather than a yes/no rule.
    pub fn is_score(self) -> bool {
        matches!(self, Criterion::Jansson)
    }

    /// The cut-offs of the ROC curve: a child is positive when its value
    /// is at or above the cut-off (the first: everybody; the last: nobody).
    pub fn roc_thresholds(self) -> Range<u32> {
        match self {
            Criterion::Jansson => 0..65,
            Criterion::Bristol1 => 0..3,
        }
    }

    /// The cut-offs of `criteria.csv`: every one of a score; the rule itself
    /// (threshold 1) of a yes/no rule.
    pub fn table_thresholds(self) -> Range<u32> {
        match self {
            Criterion::Jansson => 0..65,
            Criterion::Bristol1 => 1..2,
        }
    }

    /// Children of `pop` positive at `threshold`.
    pub fn positives(self, pop: &PopulationTally, threshold: u32) -> u64 {
        match self {
            Criterion::Jansson => pop.jansson.iter().skip(threshold as usize).sum(),
            Criterion::Bristol1 => match threshold {
                0 => pop.count,
                1 => pop.bristol_1,
                _ => 0,
            },
        }
    }
}

/// A study resolved for `crmo-sim criteria`: the scenario's study, the
/// number of each mimic beside its patients, and the criteria to apply.
#[derive(Debug, Clone)]
pub struct CriteriaStudy {
    study: Study,
    mimics: [u64; 3],
    criteria: Vec<Criterion>,
}

impl CriteriaStudy {
    /// Checks what `criteria` needs beyond `run`: one cohort (no sweep) and a
    /// differential of bounded size.
    pub fn resolve(study: Study) -> Result<Self> {
        if study.sweep().is_some() {
            return Err(Error::Usage(format!(
                "{}: criteria validates one cohort: remove [sweep] (or run each value as its own scenario)",
                study.loaded().origin
            )));
        }
        let s = study.scenario();
        let mix = &s.differential.case_mix;
        let mimics = Mimic::ALL.map(|m| mix.mimic_count(m, s.patients));
        crate::scenario::validate::case_mix(study.loaded())?;
        let criteria = s
            .differential
            .criteria_names()
            .into_iter()
            .filter_map(Criterion::named)
            .collect();
        Ok(CriteriaStudy {
            study,
            mimics,
            criteria,
        })
    }

    /// The underlying study.
    pub fn study(&self) -> &Study {
        &self.study
    }

    /// Mimics per replicate, in [`Mimic::ALL`] order.
    pub fn mimics(&self) -> [u64; 3] {
        self.mimics
    }

    /// The criteria applied.
    pub fn criteria(&self) -> &[Criterion] {
        &self.criteria
    }

    /// The engine's view of the run.
    pub fn spec(&self) -> DifferentialSpec<'_> {
        DifferentialSpec {
            cohort: self.study.cohort(),
            mimics: self.mimics,
        }
    }

    /// Work units of the whole run.
    pub fn units(&self) -> u64 {
        self.spec().units()
    }

    /// Runs work units `units` (multi-threaded on rayon's current pool).
    pub fn run(
        &self,
        units: Range<u64>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<DifferentialTally> {
        self.spec().run(units, progress)
    }

    /// The estimates of a merged tally; `prevalence`: a further prevalence
    /// at which to give the predictive values.
    pub fn result(&self, tally: DifferentialTally, prevalence: Option<f64>) -> CriteriaResult {
        CriteriaResult {
            tally,
            criteria: self.criteria.clone(),
            case_mix_prevalence: self.study.scenario().differential.case_mix.prevalence(),
            prevalence,
        }
    }
}

/// The merged tally of a run and everything estimated from it.
#[derive(Debug, Clone, PartialEq)]
pub struct CriteriaResult {
    /// The counts.
    pub tally: DifferentialTally,
    /// The criteria applied.
    pub criteria: Vec<Criterion>,
    /// CRMO's share of the scenario's case mix.
    pub case_mix_prevalence: f64,
    /// A further prevalence for the predictive values (`--prevalence`).
    pub prevalence: Option<f64>,
}

/// One line of `criteria.csv`: a criterion at one cut-off and prevalence.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionEstimate {
    /// The criterion.
    pub criterion: Criterion,
    /// Positive at or above this value.
    pub threshold: u32,
    /// The counts.
    pub table: TwoByTwo,
    /// Sensitivity with its Wilson interval.
    pub sensitivity: (f64, f64, f64),
    /// Specificity with its Wilson interval.
    pub specificity: (f64, f64, f64),
    /// Positive predictive value with its logit interval.
    pub ppv: (f64, f64, f64),
    /// Negative predictive value with its logit interval.
    pub npv: (f64, f64, f64),
    /// The prevalence of the predictive values.
    pub prevalence: f64,
}

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocPoint {
    /// The criterion.
    pub criterion: Criterion,
    /// Positive at or above this value.
    pub threshold: u32,
    /// Sensitivity.
    pub sensitivity: f64,
    /// Specificity.
    pub specificity: f64,
}

/// One Jansson item across the populations.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemShares {
    /// What the item is.
    pub item: &'static str,
    /// Its points in the score.
    pub points: u32,
    /// The odds ratio of NBO against the controls [Jansson2009].
    pub published_odds_ratio: f64,
    /// The simulated odds ratio of CRMO against the pooled mimics.
    pub simulated_odds_ratio: f64,
    /// Share with the item: CRMO, the pooled mimics, then each mimic.
    pub shares: Vec<f64>,
}

impl CriteriaResult {
    /// The 2×2 table of `criterion` at `threshold`.
    pub fn table(&self, criterion: Criterion, threshold: u32) -> TwoByTwo {
        let crmo = self.tally.crmo();
        let controls = self.tally.controls();
        TwoByTwo {
            true_pos: criterion.positives(crmo, threshold),
            cases: crmo.count,
            false_pos: criterion.positives(&controls, threshold),
            controls: controls.count,
        }
    }

    /// The prevalences of the predictive values: the case mix's, then `--prevalence`.
    pub fn prevalences(&self) -> Vec<f64> {
        std::iter::once(self.case_mix_prevalence)
            .chain(self.prevalence)
            .collect()
    }

    /// Every line of `criteria.csv`: per prevalence, per criterion, per cut-off.
    pub fn estimates(&self) -> Vec<CriterionEstimate> {
        let mut rows = Vec::new();
        for prevalence in self.prevalences() {
            for &c in &self.criteria {
                for t in c.table_thresholds() {
                    rows.push(self.estimate(c, t, prevalence));
                }
            }
        }
        rows
    }

    /// `criterion` at `threshold`, predictive values at `prevalence`.
    pub fn estimate(
        &self,
        criterion: Criterion,
        threshold: u32,
        prevalence: f64,
    ) -> CriterionEstimate {
        let table = self.table(criterion, threshold);
        let sensitivity = wilson(table.true_pos, table.cases);
        let (sp, sp_lo, sp_hi) = wilson(table.false_pos, table.controls);
        let specificity = (1.0 - sp, 1.0 - sp_hi, 1.0 - sp_lo);
        let (ppv, npv) = predictive_values(sensitivity.0, specificity.0, prevalence);
        let (ppv_ci, npv_ci) = table.predictive_intervals(prevalence);
        // No interval for a value that does not exist (nobody tests negative).
        let defined = |v: f64, ci: (f64, f64)| if v.is_nan() { (f64::NAN, f64::NAN) } else { ci };
        let ((ppv_lo, ppv_hi), (npv_lo, npv_hi)) = (defined(ppv, ppv_ci), defined(npv, npv_ci));
        CriterionEstimate {
            criterion,
            threshold,
            table,
            sensitivity,
            specificity,
            ppv: (ppv, ppv_lo, ppv_hi),
            npv: (npv, npv_lo, npv_hi),
            prevalence,
        }
    }

    /// Every ROC point, per criterion, cut-offs ascending.
    pub fn roc(&self) -> Vec<RocPoint> {
        let mut points = Vec::new();
        for &c in &self.criteria {
            for t in c.roc_thresholds() {
                let table = self.table(c, t);
                points.push(RocPoint {
                    criterion: c,
                    threshold: t,
                    sensitivity: ratio(table.true_pos, table.cases),
                    specificity: 1.0 - ratio(table.false_pos, table.controls),
                });
            }
        }
        points
    }

    /// The AUC of every score.
    pub fn aucs(&self) -> Vec<(Criterion, Auc)> {
        let controls = self.tally.controls();
        self.criteria
            .iter()
            .filter(|c| c.is_score())
            .map(|&c| (c, auc_delong(&self.tally.crmo().jansson, &controls.jansson)))
            .collect()
    }

    /// The populations in column order: CRMO, the pooled mimics, each mimic.
    pub fn populations(&self) -> Vec<(&'static str, PopulationTally)> {
        let mut v = vec![
            ("crmo", self.tally.crmo().clone()),
            ("all_mimics", self.tally.controls()),
        ];
        for (m, p) in Mimic::ALL.iter().zip(&self.tally.populations[1..]) {
            v.push((m.as_str(), p.clone()));
        }
        v
    }

    /// Mean age at presentation (CRMO: at diagnosis) of each population, years.
    pub fn mean_ages(&self) -> Vec<f64> {
        self.populations()
            .iter()
            .map(|(_, p)| p.age_days as f64 / DAYS_PER_YEAR / p.count as f64)
            .collect()
    }

    /// The Jansson items: share in each population, and the odds ratio of
    /// CRMO against the pooled mimics beside the published one.
    pub fn items(&self) -> Vec<ItemShares> {
        let pops = self.populations();
        JANSSON_POINTS
            .iter()
            .enumerate()
            .map(|(i, (item, or, points))| {
                let shares: Vec<f64> = pops
                    .iter()
                    .map(|(_, p)| ratio(p.items[i], p.count))
                    .collect();
                let odds = |p: f64| p / (1.0 - p);
                ItemShares {
                    item,
                    points: *points,
                    published_odds_ratio: *or,
                    simulated_odds_ratio: odds(shares[0]) / odds(shares[1]),
                    shares,
                }
            })
            .collect()
    }
}

/// `k / n`, NaN when `n` is 0.
fn ratio(k: u64, n: u64) -> f64 {
    if n == 0 {
        f64::NAN
    } else {
        k as f64 / n as f64
    }
}
