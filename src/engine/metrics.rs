//! The per-patient metrics summarised in `summary.csv`: each is a function
//! from one patient's [`Outcome`] to an observation `(y, x)`, estimated as
//! `sum(y) / sum(x)` over the patients it applies to (a mean when x = 1, a
//! share when y is 0/1, a rate or share-of-lesions when x varies).

use crate::model::criteria::JANSSON_THRESHOLD;
use crate::model::{Condition, Genotype};

use super::model_values::DAYS_PER_YEAR;
use super::patient::{anniversary_index, Outcome, N_CHECKPOINTS};

mod course;
use course::{activity_metrics, course_treatment_metrics};

/// The observation of one patient given an argument (see [`Metric::observe`]).
pub(super) type Observe = fn(&Outcome, usize) -> Option<(f64, f64)>;

/// How a metric is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// Mean of y over patients (x = 1): paired differences apply.
    Mean,
    /// Ratio of sums, e.g. events per patient-year.
    Ratio,
}

/// One metric of `summary.csv`.
#[derive(Clone)]
pub struct Metric {
    /// Name in the `metric` column (units in the name).
    pub name: String,
    /// What it means.
    pub description: String,
    /// How it is estimated.
    pub estimator: Estimator,
    /// Unit of the value (`fraction`, `days`, `flares per patient-year`, ...).
    pub unit: &'static str,
    /// Whom (or what) the value is averaged over: its denominator.
    pub population: &'static str,
    /// Whether `differences.csv` reports a paired difference between arms
    /// (false where the same metric means different things in different
    /// arms, e.g. ladder positions that hold different drugs).
    pub paired: bool,
    /// The observation of one patient (given `arg`), or None if the metric does not apply.
    pub observe: fn(&Outcome, usize) -> Option<(f64, f64)>,
    /// Argument of `observe` (a checkpoint, drug or step index).
    pub arg: usize,
}

/// A metric as declared in the static list.
#[derive(Clone, Copy)]
struct Def {
    name: &'static str,
    description: &'static str,
    estimator: Estimator,
    unit: &'static str,
    population: &'static str,
    observe: fn(&Outcome, usize) -> Option<(f64, f64)>,
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
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

/// The natural-history metrics, in output order (used by every arm).
const NATURAL_HISTORY: &[Def] = &[
    Def {
        name: "female_frac",
        description: "share of girls",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.female),
    },
    Def {
        name: "majeed_frac",
        description: "share with Majeed syndrome (LPIN2)",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.genotype == Some(Genotype::Majeed)),
    },
    Def {
        name: "onset_age_mean_years",
        description: "mean age at disease onset",
        estimator: Estimator::Mean,
        unit: "years",
        population: "all patients",
        observe: |o, _| mean(o.onset_age_years),
    },
    Def {
        name: "observed_years_per_patient",
        description: "mean follow-up from onset to loss to follow-up or the horizon",
        estimator: Estimator::Mean,
        unit: "years",
        population: "all patients",
        observe: |o, _| mean(o.observed_days / DAYS_PER_YEAR),
    },
    Def {
        name: "flares_per_patient",
        description: "mean flares per patient while observed, including the flare at onset",
        estimator: Estimator::Mean,
        unit: "flares",
        population: "all patients",
        observe: |o, _| mean(f64::from(o.flares)),
    },
    Def {
        name: "flares_per_patient_year",
        description: "flares started while observed divided by the patient-years observed, pooled over patients (sum of flares / sum of observed years)",
        estimator: Estimator::Ratio,
        unit: "flares per patient-year",
        population: "all patients (pooled observed time)",
        observe: |o, _| Some((f64::from(o.flares), o.observed_days / DAYS_PER_YEAR)),
    },
    Def {
        name: "time_in_flare_frac",
        description: "days in a flare divided by days observed, pooled over patients (sum / sum)",
        estimator: Estimator::Ratio,
        unit: "fraction",
        population: "all patients (pooled observed time)",
        observe: |o, _| Some((o.flare_days, o.observed_days)),
    },
    Def {
        name: "fever_per_flare_frac",
        description: "share of flares that come with fever (sum of febrile flares / sum of flares)",
        estimator: Estimator::Ratio,
        unit: "fraction",
        population: "all flares",
        observe: |o, _| Some((f64::from(o.fevers), f64::from(o.flares))),
    },
    Def {
        name: "initial_lesions_mean",
        description: "mean lesions present at onset, seen or not",
        estimator: Estimator::Mean,
        unit: "lesions",
        population: "all patients",
        observe: |o, _| mean(f64::from(o.initial_lesions)),
    },
    Def {
        name: "new_lesions_per_flare",
        description: "lesions appearing after onset divided by the flares after the one at onset (sum / sum)",
        estimator: Estimator::Ratio,
        unit: "lesions per flare",
        population: "flares after the one at onset",
        observe: |o, _| {
            Some((
                f64::from(o.new_lesions),
                f64::from(o.flares.saturating_sub(1)),
            ))
        },
    },
    Def {
        name: "vertebral_fracture_frac",
        description: "share with at least one vertebral fracture while observed",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.fractures > 0),
    },
    Def {
        name: "diagnosed_frac",
        description: "share diagnosed while observed (before loss to follow-up and the horizon)",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.diagnosis.is_some()),
    },
    Def {
        name: "diagnostic_delay_mean_days",
        description: "mean time from onset to diagnosis",
        estimator: Estimator::Mean,
        unit: "days",
        population: "diagnosed patients",
        observe: |o, _| o.diagnosis.map(|d| (d.day, 1.0)),
    },
    Def {
        name: "lesions_seen_at_diagnosis_mean",
        description: "mean lesions seen at diagnosis: symptomatic ones plus silent ones that imaging found",
        estimator: Estimator::Mean,
        unit: "lesions",
        population: "diagnosed patients",
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(d.findings.lesions_seen), 1.0))
        },
    },
    Def {
        name: "silent_lesion_share_at_diagnosis",
        description: "share of the lesions seen at diagnosis that are clinically silent, pooled (sum / sum; target C3)",
        estimator: Estimator::Ratio,
        unit: "fraction",
        population: "lesions seen at diagnosis",
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(d.silent_seen), f64::from(d.findings.lesions_seen)))
        },
    },
    Def {
        name: "solitary_lesion_frac_at_diagnosis",
        description: "share with exactly one lesion seen at diagnosis (target C4)",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "diagnosed patients",
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(u8::from(d.findings.lesions_seen == 1)), 1.0))
        },
    },
    Def {
        name: "jansson_score_mean",
        description: "mean Jansson score at diagnosis",
        estimator: Estimator::Mean,
        unit: "score points",
        population: "diagnosed patients",
        observe: |o, _| o.diagnosis.map(|d| (f64::from(d.jansson), 1.0)),
    },
    Def {
        name: "jansson_ge39_frac",
        description: "share with a Jansson score of 39 or more at diagnosis (target C6)",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "diagnosed patients",
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(u8::from(d.jansson >= JANSSON_THRESHOLD)), 1.0))
        },
    },
    Def {
        name: "bristol_criterion1_frac",
        description: "share meeting Bristol criterion 1 at diagnosis, so no biopsy is needed (target C7)",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "diagnosed patients",
        observe: |o, _| o.diagnosis.map(|d| (f64::from(u8::from(d.bristol_1)), 1.0)),
    },
    Def {
        name: "resolved_frac",
        description: "share resolved by the end of their observation: the disease burnt out (no new flares can start) and the flare running then, if any, has ended",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.resolved_day.is_some() && !o.active_at_end),
    },
    Def {
        name: "lost_to_follow_up_frac",
        description: "share lost to follow-up before the horizon",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.lost_day.is_some()),
    },
    Def {
        name: "active_at_end_frac",
        description: "share in a flare at the end of their own observation (loss to follow-up or the horizon); timeseries.csv instead counts patients lost earlier as lost, so its active_frac at the horizon is lower",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.active_at_end),
    },
    Def {
        name: "any_condition_at_onset_frac",
        description: "share with an associated condition already present at onset",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| share(o.conditions_at_onset != 0),
    },
    Def {
        name: "ppp_ever_frac",
        description: "share with palmoplantar pustulosis at onset or later while observed",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| ever(o, Condition::Ppp),
    },
    Def {
        name: "psoriasis_ever_frac",
        description: "share with psoriasis at onset or later while observed",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| ever(o, Condition::Psoriasis),
    },
    Def {
        name: "acne_ever_frac",
        description: "share with severe acne at onset or later while observed",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| ever(o, Condition::Acne),
    },
    Def {
        name: "ibd_ever_frac",
        description: "share with inflammatory bowel disease at onset or later while observed",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| ever(o, Condition::Ibd),
    },
    Def {
        name: "arthritis_ever_frac",
        description: "share with arthritis at onset or later while observed",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "all patients",
        observe: |o, _| ever(o, Condition::Arthritis),
    },
];

/// Name of the median diagnostic delay row (estimated from a histogram).
pub const MEDIAN_DELAY: &str = "diagnostic_delay_median_days";
/// Name of the median active period row (estimated from a histogram), months (C9).
pub const MEDIAN_ACTIVE_PERIOD: &str = "active_period_median_months";
/// Unit, population and definition of [`MEDIAN_ACTIVE_PERIOD`] (for `metrics.csv`).
pub const MEDIAN_ACTIVE_PERIOD_DEFINITION: (&str, &str, &str) = (
    "months",
    "all patients",
    "median active period: onset to the end of the last flare within observation (C9), from a histogram of whole days",
);
/// Unit, population and definition of [`MEDIAN_DELAY`] (for `metrics.csv`).
pub const MEDIAN_DELAY_DEFINITION: (&str, &str, &str) = (
    "days",
    "diagnosed patients",
    "median time from onset to diagnosis, from a histogram of whole days; its interval comes from the replicates (or from the histogram with one replicate)",
);

impl Metric {
    /// The per-patient quantity whose paired difference `differences.csv`
    /// reports, or None when the metric has no meaningful paired difference.
    pub fn paired_quantity(&self) -> Option<&'static str> {
        match (self.paired, self.estimator) {
            (false, _) => None,
            (true, Estimator::Mean) => Some("patient value"),
            (true, Estimator::Ratio) => Some("patient rate"),
        }
    }

    /// One patient's contribution to a paired difference between arms, from
    /// its observations `obs` in this arm and `first` in the first arm: the
    /// difference of the values (means) or of the per-patient rates `y / x`
    /// (ratios; None when either rate is undefined).
    #[inline]
    pub fn paired_difference(&self, obs: (f64, f64), first: (f64, f64)) -> Option<f64> {
        match self.estimator {
            _ if !self.paired => None,
            Estimator::Mean => Some(obs.0 - first.0),
            Estimator::Ratio => {
                (obs.1 > 0.0 && first.1 > 0.0).then(|| obs.0 / obs.1 - first.0 / first.1)
            }
        }
    }
}

/// The shape of a metric besides its name, description and observation.
#[derive(Clone, Copy)]
struct Kind {
    estimator: Estimator,
    unit: &'static str,
    population: &'static str,
    paired: bool,
}

const SHARE_OF_DIAGNOSED: Kind = Kind {
    estimator: Estimator::Mean,
    unit: "fraction",
    population: "diagnosed patients",
    paired: true,
};

const MEAN_OF_DIAGNOSED: fn(&'static str) -> Kind = |unit| Kind {
    unit,
    ..SHARE_OF_DIAGNOSED
};

fn metric(
    name: String,
    description: String,
    kind: Kind,
    observe: fn(&Outcome, usize) -> Option<(f64, f64)>,
    arg: usize,
) -> Metric {
    Metric {
        name,
        description,
        estimator: kind.estimator,
        unit: kind.unit,
        population: kind.population,
        paired: kind.paired,
        observe,
        arg,
    }
}

fn remission_at(o: &Outcome, i: usize) -> Option<(f64, f64)> {
    match o.checkpoints.state[i] {
        0 => None,
        s => share(s == 2),
    }
}

fn observed_count(o: &Outcome, i: usize, count: u16) -> Option<(f64, f64)> {
    (o.checkpoints.state[i] != 0).then_some((f64::from(count), 1.0))
}

fn diagnosed_mean(o: &Outcome, v: f64) -> Option<(f64, f64)> {
    o.diagnosis.map(|_| (v, 1.0))
}

/// Every metric of a scenario: natural history, outcomes after diagnosis at
/// 6/12/24 months and at each anniversary within `horizon_years`, and, when
/// `drugs`/`max_steps` are not empty, treatment outcomes.
pub fn metrics_for(horizon_years: f64, drugs: &[String], max_steps: usize) -> Vec<Metric> {
    let mut v: Vec<Metric> = NATURAL_HISTORY
        .iter()
        .chain(course::COURSE)
        .map(|d| {
            let kind = Kind {
                estimator: d.estimator,
                unit: d.unit,
                population: d.population,
                paired: true,
            };
            metric(d.name.into(), d.description.into(), kind, d.observe, 0)
        })
        .collect();
    let years = (horizon_years.ceil() as usize)
        .saturating_sub(1)
        .min(N_CHECKPOINTS - 1);
    v.push(metric(
        "ever_relapsed_after_diagnosis_frac".into(),
        "share with a flare starting after a remission that began after diagnosis".into(),
        SHARE_OF_DIAGNOSED,
        |o, _| {
            o.diagnosis.map(|_| {
                (
                    f64::from(u8::from(o.first_relapse_after_dx_day.is_some())),
                    1.0,
                )
            })
        },
        0,
    ));
    let at_checkpoint = Kind {
        population: "diagnosed patients still observed at the time point",
        ..SHARE_OF_DIAGNOSED
    };
    v.push(metric(
        "remission_6_months_frac".into(),
        "share not in a flare 6 months after diagnosis".into(),
        at_checkpoint,
        remission_at,
        0,
    ));
    for y in 1..=years {
        v.push(metric(
            format!("remission_{}_months_frac", 12 * y),
            format!("share not in a flare {} months after diagnosis", 12 * y),
            at_checkpoint,
            remission_at,
            anniversary_index(y),
        ));
    }
    let lesions_at_checkpoint = Kind {
        unit: "lesions",
        ..at_checkpoint
    };
    for y in 1..=years {
        v.push(metric(
            format!("active_symptomatic_lesions_year_{y}_mean"),
            format!("mean active symptomatic lesions {y} year(s) after diagnosis"),
            lesions_at_checkpoint,
            |o, i| observed_count(o, i, o.checkpoints.symptomatic_lesions[i]),
            anniversary_index(y),
        ));
        v.push(metric(
            format!("active_seen_lesions_year_{y}_mean"),
            format!("mean active lesions that imaging has seen, {y} year(s) after diagnosis"),
            lesions_at_checkpoint,
            |o, i| observed_count(o, i, o.checkpoints.seen_lesions[i]),
            anniversary_index(y),
        ));
    }
    activity_metrics(&mut v, years, at_checkpoint);
    if max_steps == 0 {
        return v;
    }
    treatment_metrics(&mut v, drugs, max_steps);
    course_treatment_metrics(&mut v, drugs);
    v
}

/// The metrics of treated arms, appended to `v`.
fn treatment_metrics(v: &mut Vec<Metric>, drugs: &[String], max_steps: usize) {
    v.push(metric(
        "flares_per_patient_year_on_treatment".into(),
        "flares starting while on a treatment step divided by the patient-years on a treatment step (sum / sum)".into(),
        Kind {
            estimator: Estimator::Ratio,
            unit: "flares per patient-year",
            population: "patients ever treated (pooled time on treatment)",
            paired: true,
        },
        |o, _| {
            Some((
                f64::from(o.treatment.flares_on_treatment),
                o.treatment.treated_days / DAYS_PER_YEAR,
            ))
        },
        0,
    ));
    v.push(metric(
        "treated_days_mean".into(),
        "mean days on a treatment step".into(),
        MEAN_OF_DIAGNOSED("days"),
        |o, _| diagnosed_mean(o, o.treatment.treated_days),
        0,
    ));
    for (d, name) in drugs.iter().enumerate() {
        v.push(metric(
            format!("received_{name}_frac"),
            format!("share given {name} at least once"),
            SHARE_OF_DIAGNOSED,
            |o, d| diagnosed_mean(o, f64::from(u8::from(o.treatment.drug_days[d] > 0.0))),
            d,
        ));
        v.push(metric(
            format!("days_on_{name}_mean"),
            format!(
                "mean days exposed to {name} (a drug given in courses counts its infusion days only)"
            ),
            MEAN_OF_DIAGNOSED("days"),
            |o, d| diagnosed_mean(o, o.treatment.drug_days[d]),
            d,
        ));
    }
    for k in 1..=max_steps {
        v.push(metric(
            format!("reached_step_{k}_frac"),
            format!("share who reached ladder step {k} (steps are positions in each arm's own ladder, so differences.csv compares drugs through received_<drug>_frac instead)"),
            Kind {
                paired: false,
                ..SHARE_OF_DIAGNOSED
            },
            |o, k| {
                diagnosed_mean(
                    o,
                    f64::from(u8::from(usize::from(o.treatment.steps_reached) >= k)),
                )
            },
            k,
        ));
    }
    v.push(metric(
        "adverse_events_per_patient".into(),
        "mean drugs stopped for an adverse event".into(),
        MEAN_OF_DIAGNOSED("drug stops"),
        |o, _| diagnosed_mean(o, f64::from(o.treatment.adverse_events)),
        0,
    ));
    v.push(metric(
        "adverse_event_frac".into(),
        "share with at least one drug stopped for an adverse event".into(),
        SHARE_OF_DIAGNOSED,
        |o, _| diagnosed_mean(o, f64::from(u8::from(o.treatment.adverse_events > 0))),
        0,
    ));
}
