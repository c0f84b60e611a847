//! Natural-history parameters: one list, from which the scenario table, the
//! Majeed override table, the per-replicate values and the printed listing are
//! all generated, so a parameter is declared (with its default and source) once.

use rand::Rng;
use serde::Deserialize;

use super::dist::{
    FlareRate, InitialLesions, LesionsPerFlare, MgPerL, Months, MonthsOrNever, Param, PerYear,
    Prob, SdLog, Shape, Variance, Vas, VasSd, Weeks, YearsOrNever,
};

macro_rules! natural_history_params {
    (
        $( $(#[doc = $doc:literal])+ $name:ident : $kind:ty = $default:expr, $source:literal; )*
        removed { $( $old:ident => $why:literal; )* }
    ) => {
        /// Deserializers of removed fields: each refuses its field, at its
        /// line and column, with a message naming what replaced it.
        pub mod removed_fields {
            $(
                /// Marker of a removed field.
                #[allow(non_camel_case_types)]
                #[derive(Debug, Clone, Copy)]
                pub struct $old;
                impl super::RemovedField for $old {
                    const MESSAGE: &'static str = concat!("`", stringify!($old), "` was removed: ", $why);
                }
            )*
        }

        /// `[natural_history]`: every model parameter of the disease course for
        /// sporadic CRMO, with `[natural_history.majeed]` overrides for Majeed syndrome.
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct NaturalHistory {
            $( $(#[doc = $doc])+ pub $name: Param<$kind>, )*
            /// Values that differ for Majeed syndrome (on top of the built-in Majeed defaults).
            pub majeed: NaturalHistoryOverrides,
            /// Relative weights of lesion sites.
            pub site_weights: super::SiteWeights,
            $( #[doc(hidden)] pub $old: Option<Removed<removed_fields::$old>>, )*
        }

        impl Default for NaturalHistory {
            fn default() -> Self {
                Self {
                    $( $name: Param::fixed($default), )*
                    majeed: NaturalHistoryOverrides::default(),
                    site_weights: super::SiteWeights::default(),
                    $( $old: None, )*
                }
            }
        }

        /// `[natural_history.majeed]`: any natural-history field, applied to Majeed patients only.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct NaturalHistoryOverrides {
            $( $(#[doc = $doc])+ pub $name: Option<Param<$kind>>, )*
            $( #[doc(hidden)] pub $old: Option<Removed<removed_fields::$old>>, )*
        }

        /// Natural-history values of one replicate and genotype (all draws done).
        #[derive(Debug, Clone, PartialEq)]
        pub struct NaturalHistoryValues {
            $( $(#[doc = $doc])+ pub $name: f64, )*
        }

        impl NaturalHistory {
            /// Draws one replicate's values (fixed values are returned as they are).
            pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> NaturalHistoryValues {
                self.draw_recorded(rng, &mut |_, _, _| {})
            }

            /// As [`NaturalHistory::draw`]; `record` receives `(field, value)`
            /// of every value drawn from a distribution.
            pub fn draw_recorded<R: Rng + ?Sized>(
                &self,
                rng: &mut R,
                record: &mut dyn FnMut(&'static str, f64, String),
            ) -> NaturalHistoryValues {
                NaturalHistoryValues { $( $name: {
                    let v = self.$name.draw(rng);
                    if self.$name.is_random() {
                        record(stringify!($name), v, self.$name.to_string());
                    }
                    v
                }, )* }
            }

            /// Draws the Majeed values: each overridden field gets its own draw,
            /// the rest are shared with the sporadic values of the same replicate.
            pub fn draw_majeed<R: Rng + ?Sized>(
                &self,
                sporadic: &NaturalHistoryValues,
                rng: &mut R,
            ) -> NaturalHistoryValues {
                self.draw_majeed_recorded(sporadic, rng, &mut |_, _, _| {})
            }

            /// As [`NaturalHistory::draw_majeed`], recording values drawn from a distribution.
            pub fn draw_majeed_recorded<R: Rng + ?Sized>(
                &self,
                sporadic: &NaturalHistoryValues,
                rng: &mut R,
                record: &mut dyn FnMut(&'static str, f64, String),
            ) -> NaturalHistoryValues {
                let builtin = NaturalHistoryOverrides::majeed_builtin();
                NaturalHistoryValues {
                    $( $name: match (&self.majeed.$name, &builtin.$name) {
                        (Some(p), _) | (None, Some(p)) => {
                            let v = p.draw(rng);
                            if p.is_random() {
                                record(stringify!($name), v, p.to_string());
                            }
                            v
                        }
                        (None, None) => sporadic.$name,
                    }, )*
                }
            }

            /// Rows `(name, sporadic value, majeed value, description, source)` for `check`.
            pub fn listing(&self) -> Vec<ParamRow> {
                let builtin = NaturalHistoryOverrides::majeed_builtin();
                vec![ $( ParamRow {
                    name: stringify!($name),
                    value: self.$name.to_string(),
                    majeed: match (&self.majeed.$name, &builtin.$name) {
                        (Some(p), _) | (None, Some(p)) => Some(p.to_string()),
                        (None, None) => None,
                    },
                    doc: concat!($($doc),+).trim(),
                    source: $source,
                }, )* ]
            }
        }
    };
}

/// A field that was removed from the scenario format, and what replaced it.
pub trait RemovedField {
    /// The refusal, naming the replacement.
    const MESSAGE: &'static str;
}

/// The value of a removed field: deserializing it always fails with the
/// field's [`RemovedField::MESSAGE`], at the value's line and column.
#[derive(Debug, Clone, Copy)]
pub struct Removed<M>(std::marker::PhantomData<M>);

impl<'de, M: RemovedField> Deserialize<'de> for Removed<M> {
    fn deserialize<D: serde::Deserializer<'de>>(_d: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(M::MESSAGE))
    }
}

/// One line of the resolved-parameter listing.
#[derive(Debug, Clone)]
pub struct ParamRow {
    /// Field name in the scenario file.
    pub name: &'static str,
    /// Value for sporadic CRMO.
    pub value: String,
    /// Value for Majeed syndrome when it differs.
    pub majeed: Option<String>,
    /// What the parameter means, with its unit.
    pub doc: &'static str,
    /// Where the default comes from.
    pub source: &'static str,
}

natural_history_params! {
    /// Relapse hazard per year of the active phase once the previous episode has subsided, before frailty and treatment.
    flare_rate_per_year: FlareRate = 3.0, "calibrated to C2 [Schnabel2017] and C9 [Jansson2007] (trade-off with C8 [JobDeslandre2001], see docs/calibration.md)";
    /// Mean duration of the presenting (first) episode, weeks (gamma distributed).
    first_flare_duration_mean_weeks: Weeks = 70.0, "calibrated to C1 [Beck2010], C5 [Roderick2016] and C9 [Jansson2007]: pain for months before diagnosis (median delay 15 months)";
    /// Shape of the gamma duration of the first episode (1 = exponential).
    first_flare_duration_shape: Shape = 2.0, "assumption";
    /// Mean duration of a later flare (relapse), weeks (gamma distributed).
    flare_duration_mean_weeks: Weeks = 12.0, "assumption: bone pain >= 6 weeks (ACR/EULAR); reference figures suggest 10";
    /// Shape of the gamma duration of later flares (1 = exponential).
    flare_duration_shape: Shape = 2.0, "assumption";
    /// Variance of the gamma frailty (mean 1) multiplying flare hazard and new-lesion rate; 0 = none.
    frailty_variance: Variance = 1.5, "calibrated to C2 [Schnabel2017] with C8 [JobDeslandre2001]: a chronic minority carries most relapses";
    /// Median length of the active disease phase (onset to burnout), years; inf = never. No flare starts after it; a flare running then ends first.
    resolution_median_years: YearsOrNever = 3.0, "assumption from [Jansson2007] (active 21 months) and [JobDeslandre2001] (5.3 years)";
    /// Log-scale spread of the lognormal resolution time.
    resolution_sdlog: SdLog = 1.5, "assumption; with the median, calibrated to C9 [Jansson2007] (IQR 9-52 months)";
    /// Probability that the presenting flare shows a lesion (the first one at onset). 1 = always, as CRMO presents; 0 with `initial_extra_lesions_mean = 0` and `new_lesions_per_flare = 0` = a course without lesions (the flare process alone), which then draws and tracks nothing for lesions.
    p_lesion_at_onset: Prob = 1.0, "CRMO presents with at least one bone lesion (definition); 0 only for models of the flare process alone";
    /// Mean number of lesions at onset beyond the first (negative binomial).
    initial_extra_lesions_mean: InitialLesions = 3.0, "[Roderick2016] 3.95 per patient; [Eurofever2018] 4.1 on MRI";
    /// Dispersion (size) of that negative binomial; 1 = geometric.
    initial_extra_lesions_dispersion: Shape = 1.6, "calibrated to C4/C7 [Roderick2016] (1, geometric, leaves too many solitary lesions once some heal before diagnosis; 2 too few once the early route diagnoses some patients before any lesion heals)";
    /// Probability that a lesion present at onset is clinically silent.
    p_silent_initial: Prob = 0.29, "[Roderick2016] 47 of 162 lesions found only by MRI";
    /// Probability that a lesion appearing in a later flare is clinically silent.
    p_silent_new: Prob = 0.5, "[Beck2010] 67% of radiological relapses silent";
    /// Mean number of new lesions per flare (Poisson, times frailty and treatment).
    new_lesions_per_flare: LesionsPerFlare = 0.5, "assumption";
    /// Mean duration of the lytic imaging stage, months (untreated).
    lesion_lytic_months: Months = 6.0, "calibrated to C4 [Roderick2016]: stages sum to 24 months untreated (reference suggests ~12, an assumption; 6 months on pamidronate [Miettunen2009])";
    /// Mean duration of the mixed lytic/sclerotic stage, months.
    lesion_mixed_months: Months = 8.0, "calibrated, see lesion_lytic_months";
    /// Mean duration of the sclerotic stage before healing, months.
    lesion_sclerotic_months: Months = 10.0, "calibrated, see lesion_lytic_months";
    /// Gamma shape of each stage duration.
    lesion_stage_shape: Shape = 2.0, "assumption";
    /// Mean pain during a flare, VAS 0-10.
    pain_mean_vas: Vas = 6.0, "assumption";
    /// Standard deviation of flare pain, VAS points (truncated to 1-10).
    pain_sd_vas: VasSd = 2.0, "assumption";
    /// Probability of fever in a flare.
    p_fever: Prob = 0.25, "[Wipff2013] 0.20; [China2022] 0.44; [Russia2023] 0.34";
    /// Probability that CRP is raised (>= 10 mg/l) in a flare.
    p_crp_raised: Prob = 0.5, "[Wipff2013] 0.66; [Bhat2018] 0.40; [dAngelo2021] 0.61";
    /// Median CRP when raised, mg/l (lognormal, at least 10).
    crp_raised_median_mg_l: MgPerL = 15.0, "assumption; sets the markedly-raised share for Bristol criterion 1 (C7)";
    /// Log-scale spread of a raised CRP.
    crp_raised_sdlog: SdLog = 0.5, "assumption";
    /// CRP above which Bristol criterion 1 fails ("markedly raised"), mg/l.
    crp_cutoff_mg_l: MgPerL = 30.0, "assumption: [Roderick2016] cut-off, to check against the paper's table";
    /// Probability per flare that an active vertebral lesion fractures.
    p_vertebral_fracture_per_flare: Prob = 0.02, "assumption: no per-flare rate published [dAngelo2021]";
    /// Probability of an abnormal blood cell count at diagnosis.
    p_abnormal_blood_count: Prob = 0.05, "assumption: normal count is typical of NBO [Jansson2009]; calibrated to C6";
    /// Median months of symptoms (time in flares) before diagnosis (lognormal): diagnosis comes once the patient has been in pain that long; inf: never (with `p_early_diagnosis` 0, no patient is diagnosed).
    symptomatic_months_to_diagnosis_median: MonthsOrNever = 10.0, "calibrated to C5 [Roderick2016] median delay 15 months; [Walsh2015] mean 12";
    /// Log-scale spread of the symptomatic time before diagnosis.
    symptomatic_months_to_diagnosis_sdlog: SdLog = 0.2, "assumption: nearly everyone with a year of pain is diagnosed";
    /// Probability of the early diagnosis route: an acute presentation (worked up for infection or malignancy, a vertebral or clavicle lesion) diagnosed within weeks, while the presenting flare runs.
    p_early_diagnosis: Prob = 0.1, "assumption: delays run from 0 months [Roderick2016] and 1.5 months [dAngelo2021, median 4]; sets the shortest delays without moving C5";
    /// Mean time from onset to diagnosis on the early route, months (exponential).
    early_diagnosis_months_mean: Months = 1.5, "assumption: [dAngelo2021] shortest delay 1.5 months";
    /// Pain between flares while a painful lesion is still inflamed on MRI, VAS 0-10 (for the PedCNO core set).
    residual_pain_vas: Vas = 1.5, "assumption: MRI inflammation outlasts pain [Miettunen2009]; a patient between flares may keep some pain and functional limitation";
    /// Loss-to-follow-up hazard after diagnosis, per year.
    loss_to_follow_up_per_year: PerYear = 0.03, "assumption";
    /// Probability of palmoplantar pustulosis at onset.
    p_ppp_at_onset: Prob = 0.07, "[Walsh2015] 24%; [Eurofever2018] 5%";
    /// Probability of psoriasis at onset.
    p_psoriasis_at_onset: Prob = 0.05, "[Walsh2015] 9%; [Eurofever2018] 4%";
    /// Probability of severe acne at onset.
    p_acne_at_onset: Prob = 0.06, "[Walsh2015] 12%; [Eurofever2018] 5%";
    /// Probability of inflammatory bowel disease at onset.
    p_ibd_at_onset: Prob = 0.04, "[Eurofever2018] GI symptoms 8%";
    /// Probability of arthritis at onset.
    p_arthritis_at_onset: Prob = 0.03, "[Schnabel2017] 7/56 ever, at median 4.9 years: most arthritis comes later";
    /// Yearly hazard of palmoplantar pustulosis starting later.
    ppp_per_year: PerYear = 0.01, "assumption: brings the ever-share near [Walsh2015]";
    /// Yearly hazard of psoriasis starting later.
    psoriasis_per_year: PerYear = 0.008, "assumption";
    /// Yearly hazard of acne starting later.
    acne_per_year: PerYear = 0.01, "assumption";
    /// Yearly hazard of inflammatory bowel disease starting later.
    ibd_per_year: PerYear = 0.005, "assumption";
    /// Yearly hazard of arthritis starting later.
    arthritis_per_year: PerYear = 0.01, "[Schnabel2017]: with 0.03 at onset, 0.12 ever within 10 years (7/56 = 0.125)";
    removed {
        diagnostic_delay_median_months => "diagnosis now follows time in pain; use `symptomatic_months_to_diagnosis_median` (months of symptoms before diagnosis)";
        diagnostic_delay_sdlog => "diagnosis now follows time in pain; use `symptomatic_months_to_diagnosis_sdlog`";
    }
}

impl NaturalHistoryOverrides {
    /// The built-in Majeed syndrome values: infantile, persistent, febrile, with
    /// congenital dyserythropoietic anaemia. [Majeed] summaries; rates are assumptions.
    pub fn majeed_builtin() -> Self {
        Self {
            flare_rate_per_year: Some(Param::fixed(3.0)),
            first_flare_duration_mean_weeks: Some(Param::fixed(12.0)),
            flare_duration_mean_weeks: Some(Param::fixed(12.0)),
            resolution_median_years: Some(Param::fixed(f64::INFINITY)),
            p_fever: Some(Param::fixed(0.6)),
            p_crp_raised: Some(Param::fixed(0.8)),
            p_abnormal_blood_count: Some(Param::fixed(1.0)),
            new_lesions_per_flare: Some(Param::fixed(0.8)),
            ..Self::default()
        }
    }
}
