//! `[differential]`: the virtual differential diagnosis that `crmo-sim
//! criteria` validates the diagnostic criteria against — the case mix (CRMO
//! and its mimics), the criteria to apply, and the feature distributions of
//! each mimic population with per-population overrides.
//!
//! Every mimic parameter is declared once below (doc, default for each
//! population, source), and a macro derives the override tables, the drawn
//! values and the `check` listing. The sources ([Jansson2009]) give odds
//! ratios of NBO against the pooled controls, not the controls' feature
//! frequencies, so every default is an **assumption** shaped by those odds
//! ratios and by the usual presentation of each disease; docs/criteria.md
//! ("Validating criteria") shows the odds ratios they reproduce.

use rand::Rng;
use serde::{Deserialize, Deserializer};

use super::dist::{num, InitialLesions, MgPerL, Param, Positive, Prob, SdLog};

/// A mimic population: a disease the criteria must tell CRMO apart from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mimic {
    /// Proven bacterial osteomyelitis.
    BacterialOsteomyelitis,
    /// Malignant bone tumour, including leukaemia or lymphoma with bone involvement.
    MalignantTumour,
    /// Benign bone tumour (osteoid osteoma, bone cysts, fibrous lesions, ...).
    BenignTumour,
}

impl Mimic {
    /// Every mimic, in the order of the output files.
    pub const ALL: [Mimic; 3] = [
        Mimic::BacterialOsteomyelitis,
        Mimic::MalignantTumour,
        Mimic::BenignTumour,
    ];

    /// The name in scenario files and CSV columns.
    pub fn as_str(self) -> &'static str {
        match self {
            Mimic::BacterialOsteomyelitis => "bacterial_osteomyelitis",
            Mimic::MalignantTumour => "malignant_tumour",
            Mimic::BenignTumour => "benign_tumour",
        }
    }
}

/// A case-mix share: a finite number >= 0 (counts or fractions; only the
/// ratios matter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share(pub f64);

impl<'de> Deserialize<'de> for Share {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let x = super::NumberLike::deserialize(d)?.0;
        if (0.0..=1e12).contains(&x) {
            Ok(Share(x))
        } else {
            Err(serde::de::Error::custom(format!(
                "share {} is not allowed: expected a number from 0 to 1e12 (a count or a fraction; only the ratios matter)",
                num(x)
            )))
        }
    }
}

/// `[differential.case_mix]`: relative numbers of CRMO patients and of each
/// mimic population. Default: [Jansson2009]'s 102 NBO against 22 bacterial
/// osteomyelitis, 48 malignant and 52 benign bone tumours.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaseMix {
    /// CRMO (nonbacterial osteitis).
    pub crmo: Share,
    /// Proven bacterial osteomyelitis.
    pub bacterial_osteomyelitis: Share,
    /// Malignant bone tumours (including leukaemia and lymphoma).
    pub malignant_tumour: Share,
    /// Benign bone tumours.
    pub benign_tumour: Share,
}

impl Default for CaseMix {
    fn default() -> Self {
        CaseMix {
            crmo: Share(102.0),
            bacterial_osteomyelitis: Share(22.0),
            malignant_tumour: Share(48.0),
            benign_tumour: Share(52.0),
        }
    }
}

impl CaseMix {
    /// The share of one mimic.
    pub fn mimic(&self, m: Mimic) -> f64 {
        match m {
            Mimic::BacterialOsteomyelitis => self.bacterial_osteomyelitis.0,
            Mimic::MalignantTumour => self.malignant_tumour.0,
            Mimic::BenignTumour => self.benign_tumour.0,
        }
    }

    /// Sum of the mimic shares.
    pub fn mimics(&self) -> f64 {
        Mimic::ALL.iter().map(|m| self.mimic(*m)).sum()
    }

    /// The prevalence of CRMO in this case mix.
    pub fn prevalence(&self) -> f64 {
        self.crmo.0 / (self.crmo.0 + self.mimics())
    }

    /// Mimics of population `m` simulated beside `patients` CRMO patients:
    /// in proportion to the case mix, at least one when its share is above 0.
    pub fn mimic_count(&self, m: Mimic, patients: u64) -> u64 {
        let share = self.mimic(m);
        if share <= 0.0 || self.crmo.0 <= 0.0 {
            return 0;
        }
        ((patients as f64 * share / self.crmo.0).round() as u64).max(1)
    }
}

/// The source `check` names for a mimic parameter the scenario sets.
pub const SET_IN_SCENARIO: &str = "set in this scenario";

macro_rules! mimic_params {
    ( $( $(#[doc = $doc:literal])+ $name:ident : $kind:ty = [$bo:expr, $mt:expr, $bt:expr], $source:literal; )* ) => {
        /// `[differential.<mimic>]`: any mimic feature parameter, overriding the
        /// built-in default of that population.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct MimicOverrides {
            $( $(#[doc = $doc])+ pub $name: Option<Param<$kind>>, )*
        }

        /// The feature parameters of one mimic population (built-in defaults
        /// with the scenario's overrides applied).
        #[derive(Debug, Clone)]
        pub struct MimicParams {
            $( $(#[doc = $doc])+ pub $name: Param<$kind>, )*
        }

        /// The values of one mimic population in one replicate (all draws done).
        #[derive(Debug, Clone, PartialEq)]
        pub struct MimicValues {
            $( $(#[doc = $doc])+ pub $name: f64, )*
        }

        impl MimicParams {
            /// The built-in defaults of `m`.
            pub fn builtin(m: Mimic) -> Self {
                let i = m as usize;
                MimicParams { $( $name: Param::fixed([$bo, $mt, $bt][i]), )* }
            }

            /// The defaults of `m` with `o` applied.
            pub fn with(m: Mimic, o: &MimicOverrides) -> Self {
                let b = Self::builtin(m);
                MimicParams { $( $name: o.$name.clone().unwrap_or(b.$name), )* }
            }

            /// Draws one replicate's values (fixed values as they are).
            pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> MimicValues {
                MimicValues { $( $name: self.$name.draw(rng), )* }
            }

            /// `(name, value, doc, source)` of every parameter, for `check`.
            pub fn listing(&self, o: &MimicOverrides) -> Vec<(&'static str, String, &'static str, &'static str)> {
                vec![ $( (
                    stringify!($name),
                    self.$name.to_string(),
                    concat!($($doc),+).trim(),
                    if o.$name.is_some() { SET_IN_SCENARIO } else { $source },
                ), )* ]
            }
        }
    };
}

mimic_params! {
    /// Mean age at presentation, years (drawn normal, sd `age_sd_years`, kept in [3, 18]).
    age_mean_years: Positive = [8.0, 11.0, 12.0],
        "assumption: paediatric series older than 3 years [Jansson2009]; acute osteomyelitis younger, bone tumours in adolescence";
    /// Standard deviation of the age at presentation, years.
    age_sd_years: Positive = [4.0, 4.0, 4.0], "assumption";
    /// Fever at presentation (the item 'normal body temperature' is its absence).
    p_fever: Prob = [0.75, 0.35, 0.05],
        "assumption shaped by [Jansson2009] (OR 20.3 for normal temperature)";
    /// An abnormal blood cell count (leukocytosis, cytopenia, blasts, anaemia).
    p_abnormal_blood_count: Prob = [0.65, 0.75, 0.10],
        "assumption shaped by [Jansson2009] (OR 81.5 for a normal count)";
    /// Median CRP at presentation, mg/l (log-normal).
    crp_median_mg_l: MgPerL = [40.0, 4.0, 2.0],
        "assumption shaped by [Jansson2009] (OR 6.9 for CRP >= 1 mg/dl)";
    /// Log-scale spread of the CRP.
    crp_sdlog: SdLog = [1.0, 1.3, 1.0], "assumption";
    /// More than one radiologically proven lesion.
    p_multifocal: Prob = [0.08, 0.25, 0.04],
        "assumption shaped by [Jansson2009] (OR 10.9 for more than one lesion)";
    /// Mean lesions beyond the second in a multifocal presentation (Poisson).
    extra_lesions_mean: InitialLesions = [0.5, 1.5, 0.5], "assumption";
    /// Symmetric lesions (same site on both sides), among multifocal presentations.
    p_symmetric: Prob = [0.10, 0.20, 0.10],
        "assumption shaped by [Jansson2009] (OR 30.0 for symmetric lesions)";
    /// A lesion with marginal sclerosis on imaging.
    p_marginal_sclerosis: Prob = [0.20, 0.10, 0.35],
        "assumption shaped by [Jansson2009] (OR 26.8 for marginal sclerosis)";
    /// A lesion in a vertebra, clavicle or the sternum.
    p_vertebral_clavicular_sternal: Prob = [0.06, 0.08, 0.04],
        "assumption shaped by [Jansson2009] (OR 13.9 for this site)";
    /// Share of those vertebral, clavicular or sternal sites that are the clavicle.
    clavicle_share: Prob = [0.30, 0.20, 0.20], "assumption";
}

/// The criteria `crmo-sim criteria` knows: name, what it is, source.
pub const KNOWN_CRITERIA: [(&str, &str, &str); 2] = [
    (
        "jansson",
        "Jansson score (0-63), positive at or above each cut-off",
        "Jansson2009",
    ),
    (
        "bristol_1",
        "Bristol criterion 1: diagnosis without biopsy (more than one bone or the clavicle alone, CRP not above crp_cutoff_mg_l)",
        "Roderick2016",
    ),
];

/// `[differential]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Differential {
    /// Relative numbers of CRMO patients and of each mimic.
    pub case_mix: CaseMix,
    /// The criteria to apply (default: every known criterion).
    pub criteria: Option<Vec<toml::Spanned<String>>>,
    /// Overrides for bacterial osteomyelitis.
    pub bacterial_osteomyelitis: MimicOverrides,
    /// Overrides for malignant bone tumours.
    pub malignant_tumour: MimicOverrides,
    /// Overrides for benign bone tumours.
    pub benign_tumour: MimicOverrides,
}

impl Differential {
    /// The overrides of mimic `m`.
    pub fn overrides(&self, m: Mimic) -> &MimicOverrides {
        match m {
            Mimic::BacterialOsteomyelitis => &self.bacterial_osteomyelitis,
            Mimic::MalignantTumour => &self.malignant_tumour,
            Mimic::BenignTumour => &self.benign_tumour,
        }
    }

    /// The parameters of mimic `m`.
    pub fn params(&self, m: Mimic) -> MimicParams {
        MimicParams::with(m, self.overrides(m))
    }

    /// The names of the criteria to apply, in [`KNOWN_CRITERIA`] order.
    pub fn criteria_names(&self) -> Vec<&'static str> {
        KNOWN_CRITERIA
            .iter()
            .map(|c| c.0)
            .filter(|n| {
                self.criteria
                    .as_ref()
                    .map_or(true, |l| l.iter().any(|s| s.get_ref() == n))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_case_mix_is_jansson_2009() {
        let m = CaseMix::default();
        assert_eq!(m.mimics(), 122.0);
        assert!((m.prevalence() - 102.0 / 224.0).abs() < 1e-15);
        assert_eq!(m.mimic_count(Mimic::MalignantTumour, 102), 48);
        assert_eq!(m.mimic_count(Mimic::BenignTumour, 1), 1);
    }

    #[test]
    fn overrides_replace_one_population_only() {
        let o = MimicOverrides {
            p_fever: Some(Param::fixed(0.5)),
            ..MimicOverrides::default()
        };
        let p = MimicParams::with(Mimic::BenignTumour, &o);
        assert_eq!(p.p_fever.central(), 0.5);
        let b = MimicParams::builtin(Mimic::BenignTumour);
        assert_eq!(
            p.p_marginal_sclerosis.central(),
            b.p_marginal_sclerosis.central()
        );
    }
}
