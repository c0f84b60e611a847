//! The per-patient metrics summarised in `summary.csv`: each is a function
//! from one patient's [`Outcome`] to an observation `(y, x)`, estimated as
//! `sum(y) / sum(x)` over the patients it applies to (a mean when x = 1, a
//! share when y is 0/1, a rate or share-of-lesions when x varies).

use crate::model::criteria::JANSSON_THRESHOLD;
use crate::model::{Condition, Genotype};

use super::model_values::DAYS_PER_YEAR;
use super::patient::Outcome;

/// How a metric is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// Mean of y over patients (x = 1): paired differences apply.
    Mean,
    /// Ratio of sums, e.g. events per patient-year.
    Ratio,
}

/// One metric of `summary.csv`.
#[derive(Clone, Copy)]
pub struct Metric {
    /// Name in the `metric` column (units in the name).
    pub name: &'static str,
    /// What it means.
    pub description: &'static str,
    /// How it is estimated.
    pub estimator: Estimator,
    /// The observation of one patient, or None if the metric does not apply.
    pub observe: fn(&Outcome) -> Option<(f64, f64)>,
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn mean(v: f64) -> Option<(f64, f64)> {
    Some((v, 1.0))
}

fn share(b: bool) -> Option<(f64, f64)> {
    Some((f64::from(u8::from(b)), 1.0))
}

fn ever(o: &Outcome, c: Condition) -> Option<(f64, f64)> {
    share(o.conditions_ever & c.bit() != 0)
}

/// The natural-history metrics, in output order.
pub const NATURAL_HISTORY: &[Metric] = &[
    Metric {
        name: "female_frac",
        description: "share of girls",
        estimator: Estimator::Mean,
        observe: |o| share(o.female),
    },
    Metric {
        name: "majeed_frac",
        description: "share with Majeed syndrome",
        estimator: Estimator::Mean,
        observe: |o| share(o.genotype == Some(Genotype::Majeed)),
    },
    Metric {
        name: "onset_age_mean_years",
        description: "mean age at onset",
        estimator: Estimator::Mean,
        observe: |o| mean(o.onset_age_years),
    },
    Metric {
        name: "observed_years_per_patient",
        description: "mean follow-up from onset to loss to follow-up or horizon",
        estimator: Estimator::Mean,
        observe: |o| mean(o.observed_days / DAYS_PER_YEAR),
    },
    Metric {
        name: "flares_per_patient",
        description: "mean flares per patient, including the one at onset",
        estimator: Estimator::Mean,
        observe: |o| mean(f64::from(o.flares)),
    },
    Metric {
        name: "flares_per_patient_year",
        description: "flares per observed patient-year",
        estimator: Estimator::Ratio,
        observe: |o| Some((f64::from(o.flares), o.observed_days / DAYS_PER_YEAR)),
    },
    Metric {
        name: "time_in_flare_frac",
        description: "share of observed time spent in flares",
        estimator: Estimator::Ratio,
        observe: |o| Some((o.flare_days, o.observed_days)),
    },
    Metric {
        name: "fever_per_flare_frac",
        description: "share of flares with fever",
        estimator: Estimator::Ratio,
        observe: |o| Some((f64::from(o.fevers), f64::from(o.flares))),
    },
    Metric {
        name: "initial_lesions_mean",
        description: "mean lesions at onset (seen or not)",
        estimator: Estimator::Mean,
        observe: |o| mean(f64::from(o.initial_lesions)),
    },
    Metric {
        name: "new_lesions_per_flare",
        description: "new lesions per flare after the first",
        estimator: Estimator::Ratio,
        observe: |o| {
            Some((
                f64::from(o.new_lesions),
                f64::from(o.flares.saturating_sub(1)),
            ))
        },
    },
    Metric {
        name: "vertebral_fracture_frac",
        description: "share with at least one vertebral fracture",
        estimator: Estimator::Mean,
        observe: |o| share(o.fractures > 0),
    },
    Metric {
        name: "diagnosed_frac",
        description: "share diagnosed within the horizon",
        estimator: Estimator::Mean,
        observe: |o| share(o.diagnosis.is_some()),
    },
    Metric {
        name: "diagnostic_delay_mean_days",
        description: "mean time from onset to diagnosis (diagnosed patients)",
        estimator: Estimator::Mean,
        observe: |o| o.diagnosis.map(|d| (d.day, 1.0)),
    },
    Metric {
        name: "lesions_seen_at_diagnosis_mean",
        description: "mean lesions seen at diagnosis (symptomatic plus silent ones imaging found)",
        estimator: Estimator::Mean,
        observe: |o| {
            o.diagnosis
                .map(|d| (f64::from(d.findings.lesions_seen), 1.0))
        },
    },
    Metric {
        name: "silent_lesion_share_at_diagnosis",
        description: "share of lesions seen at diagnosis that are clinically silent (C3)",
        estimator: Estimator::Ratio,
        observe: |o| {
            o.diagnosis
                .map(|d| (f64::from(d.silent_seen), f64::from(d.findings.lesions_seen)))
        },
    },
    Metric {
        name: "solitary_lesion_frac_at_diagnosis",
        description: "share of diagnosed patients with one lesion seen (C4)",
        estimator: Estimator::Mean,
        observe: |o| {
            o.diagnosis
                .map(|d| (f64::from(u8::from(d.findings.lesions_seen == 1)), 1.0))
        },
    },
    Metric {
        name: "jansson_score_mean",
        description: "mean Jansson score at diagnosis",
        estimator: Estimator::Mean,
        observe: |o| o.diagnosis.map(|d| (f64::from(d.jansson), 1.0)),
    },
    Metric {
        name: "jansson_ge39_frac",
        description: "share of diagnosed patients with Jansson score >= 39 (C6)",
        estimator: Estimator::Mean,
        observe: |o| {
            o.diagnosis
                .map(|d| (f64::from(u8::from(d.jansson >= JANSSON_THRESHOLD)), 1.0))
        },
    },
    Metric {
        name: "bristol_criterion1_frac",
        description:
            "share of diagnosed patients meeting Bristol criterion 1, no biopsy needed (C7)",
        estimator: Estimator::Mean,
        observe: |o| o.diagnosis.map(|d| (f64::from(u8::from(d.bristol_1)), 1.0)),
    },
    Metric {
        name: "resolved_frac",
        description: "share whose disease resolved (burnt out) within observation",
        estimator: Estimator::Mean,
        observe: |o| share(o.resolved_day.is_some()),
    },
    Metric {
        name: "lost_to_follow_up_frac",
        description: "share lost to follow-up",
        estimator: Estimator::Mean,
        observe: |o| share(o.lost_day.is_some()),
    },
    Metric {
        name: "active_at_end_frac",
        description: "share in a flare at the end of observation",
        estimator: Estimator::Mean,
        observe: |o| share(o.active_at_end),
    },
    Metric {
        name: "any_condition_at_onset_frac",
        description: "share with an associated condition at onset",
        estimator: Estimator::Mean,
        observe: |o| share(o.conditions_at_onset != 0),
    },
    Metric {
        name: "ppp_ever_frac",
        description: "share ever with palmoplantar pustulosis",
        estimator: Estimator::Mean,
        observe: |o| ever(o, Condition::Ppp),
    },
    Metric {
        name: "psoriasis_ever_frac",
        description: "share ever with psoriasis",
        estimator: Estimator::Mean,
        observe: |o| ever(o, Condition::Psoriasis),
    },
    Metric {
        name: "acne_ever_frac",
        description: "share ever with severe acne",
        estimator: Estimator::Mean,
        observe: |o| ever(o, Condition::Acne),
    },
    Metric {
        name: "ibd_ever_frac",
        description: "share ever with inflammatory bowel disease",
        estimator: Estimator::Mean,
        observe: |o| ever(o, Condition::Ibd),
    },
    Metric {
        name: "arthritis_ever_frac",
        description: "share ever with arthritis",
        estimator: Estimator::Mean,
        observe: |o| ever(o, Condition::Arthritis),
    },
];

/// Name of the median diagnostic delay row (estimated from a histogram).
pub const MEDIAN_DELAY: &str = "diagnostic_delay_median_days";
