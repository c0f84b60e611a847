//! The per-patient metrics summarised in `summary.csv`: each is a function
//! from one patient's [`Outcome`] to an observation `(y, x)`, estimated as
//! `sum(y) / sum(x)` over the patients it applies to (a mean when x = 1, a
//! share when y is 0/1, a rate or share-of-lesions when x varies).

use crate::model::criteria::JANSSON_THRESHOLD;
use crate::model::{Condition, Genotype};

use super::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use super::patient::{anniversary_index, CourseClass, Outcome, N_CHECKPOINTS};

fn course_is(o: &Outcome, c: CourseClass) -> Option<(f64, f64)> {
    o.course_class().map(|k| (f64::from(u8::from(k == c)), 1.0))
}

/// PedCNO response at core-set index `i` (1: 6 months, 2: 12 months) at `pct`%.
fn pedcno(o: &Outcome, i: usize, pct: f64) -> Option<(f64, f64)> {
    match (o.core_set[0], o.core_set[i]) {
        (Some(base), Some(now)) => share(now.pedcno(&base, pct)),
        _ => None,
    }
}

/// Whether the patient was observed `days` after diagnosis.
fn observed_after_dx(o: &Outcome, days: f64) -> Option<f64> {
    o.diagnosis
        .map(|d| d.day)
        .filter(|dx| o.observed_days >= dx + days)
}

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
        observe: |o, _| share(o.female),
    },
    Def {
        name: "majeed_frac",
        description: "share with Majeed syndrome",
        estimator: Estimator::Mean,
        observe: |o, _| share(o.genotype == Some(Genotype::Majeed)),
    },
    Def {
        name: "onset_age_mean_years",
        description: "mean age at onset",
        estimator: Estimator::Mean,
        observe: |o, _| mean(o.onset_age_years),
    },
    Def {
        name: "observed_years_per_patient",
        description: "mean follow-up from onset to loss to follow-up or horizon",
        estimator: Estimator::Mean,
        observe: |o, _| mean(o.observed_days / DAYS_PER_YEAR),
    },
    Def {
        name: "flares_per_patient",
        description: "mean flares per patient, including the one at onset",
        estimator: Estimator::Mean,
        observe: |o, _| mean(f64::from(o.flares)),
    },
    Def {
        name: "flares_per_patient_year",
        description: "flares per observed patient-year",
        estimator: Estimator::Ratio,
        observe: |o, _| Some((f64::from(o.flares), o.observed_days / DAYS_PER_YEAR)),
    },
    Def {
        name: "time_in_flare_frac",
        description: "share of observed time spent in flares",
        estimator: Estimator::Ratio,
        observe: |o, _| Some((o.flare_days, o.observed_days)),
    },
    Def {
        name: "fever_per_flare_frac",
        description: "share of flares with fever",
        estimator: Estimator::Ratio,
        observe: |o, _| Some((f64::from(o.fevers), f64::from(o.flares))),
    },
    Def {
        name: "initial_lesions_mean",
        description: "mean lesions at onset (seen or not)",
        estimator: Estimator::Mean,
        observe: |o, _| mean(f64::from(o.initial_lesions)),
    },
    Def {
        name: "new_lesions_per_flare",
        description: "new lesions per flare after the first",
        estimator: Estimator::Ratio,
        observe: |o, _| {
            Some((
                f64::from(o.new_lesions),
                f64::from(o.flares.saturating_sub(1)),
            ))
        },
    },
    Def {
        name: "vertebral_fracture_frac",
        description: "share with at least one vertebral fracture",
        estimator: Estimator::Mean,
        observe: |o, _| share(o.fractures > 0),
    },
    Def {
        name: "diagnosed_frac",
        description: "share diagnosed within the horizon",
        estimator: Estimator::Mean,
        observe: |o, _| share(o.diagnosis.is_some()),
    },
    Def {
        name: "diagnostic_delay_mean_days",
        description: "mean time from onset to diagnosis (diagnosed patients)",
        estimator: Estimator::Mean,
        observe: |o, _| o.diagnosis.map(|d| (d.day, 1.0)),
    },
    Def {
        name: "lesions_seen_at_diagnosis_mean",
        description: "mean lesions seen at diagnosis (symptomatic plus silent ones imaging found)",
        estimator: Estimator::Mean,
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(d.findings.lesions_seen), 1.0))
        },
    },
    Def {
        name: "silent_lesion_share_at_diagnosis",
        description: "share of lesions seen at diagnosis that are clinically silent (C3)",
        estimator: Estimator::Ratio,
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(d.silent_seen), f64::from(d.findings.lesions_seen)))
        },
    },
    Def {
        name: "solitary_lesion_frac_at_diagnosis",
        description: "share of diagnosed patients with one lesion seen (C4)",
        estimator: Estimator::Mean,
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(u8::from(d.findings.lesions_seen == 1)), 1.0))
        },
    },
    Def {
        name: "jansson_score_mean",
        description: "mean Jansson score at diagnosis",
        estimator: Estimator::Mean,
        observe: |o, _| o.diagnosis.map(|d| (f64::from(d.jansson), 1.0)),
    },
    Def {
        name: "jansson_ge39_frac",
        description: "share of diagnosed patients with Jansson score >= 39 (C6)",
        estimator: Estimator::Mean,
        observe: |o, _| {
            o.diagnosis
                .map(|d| (f64::from(u8::from(d.jansson >= JANSSON_THRESHOLD)), 1.0))
        },
    },
    Def {
        name: "bristol_criterion1_frac",
        description:
            "share of diagnosed patients meeting Bristol criterion 1, no biopsy needed (C7)",
        estimator: Estimator::Mean,
        observe: |o, _| o.diagnosis.map(|d| (f64::from(u8::from(d.bristol_1)), 1.0)),
    },
    Def {
        name: "resolved_frac",
        description: "share whose disease resolved (burnt out) within observation",
        estimator: Estimator::Mean,
        observe: |o, _| share(o.resolved_day.is_some()),
    },
    Def {
        name: "lost_to_follow_up_frac",
        description: "share lost to follow-up",
        estimator: Estimator::Mean,
        observe: |o, _| share(o.lost_day.is_some()),
    },
    Def {
        name: "active_at_end_frac",
        description: "share in a flare at the end of observation",
        estimator: Estimator::Mean,
        observe: |o, _| share(o.active_at_end),
    },
    Def {
        name: "flares_first_5_3_years_mean",
        description: "mean flares from onset over the first 5.3 years (C8)",
        estimator: Estimator::Mean,
        observe: |o, _| mean(f64::from(o.flares_first_5_3_years)),
    },
    Def {
        name: "active_period_mean_months",
        description: "mean active period: onset to the end of the last flare within observation",
        estimator: Estimator::Mean,
        observe: |o, _| mean(o.last_flare_end_day / DAYS_PER_MONTH),
    },
    Def {
        name: "diagnosed_if_symptomatic_12_months_frac",
        description: "share diagnosed among patients with at least 12 months in flares",
        estimator: Estimator::Mean,
        observe: |o, _| (o.flare_days >= DAYS_PER_YEAR).then(|| (f64::from(u8::from(o.diagnosis.is_some())), 1.0)),
    },
    Def {
        name: "course_monophasic_frac",
        description: "share of diagnosed patients with one episode and no relapse",
        estimator: Estimator::Mean,
        observe: |o, _| course_is(o, CourseClass::Monophasic),
    },
    Def {
        name: "course_relapsing_frac",
        description: "share of diagnosed patients with relapses and a flare-free interval of 6 months or more",
        estimator: Estimator::Mean,
        observe: |o, _| course_is(o, CourseClass::Relapsing),
    },
    Def {
        name: "course_persistent_frac",
        description: "share of diagnosed patients with several flares and never 6 months flare-free between them",
        estimator: Estimator::Mean,
        observe: |o, _| course_is(o, CourseClass::Persistent),
    },
    Def {
        name: "flares_after_diagnosis_mean",
        description: "mean flares starting after diagnosis (diagnosed patients)",
        estimator: Estimator::Mean,
        observe: |o, _| o.diagnosis.map(|_| (f64::from(o.flares_after_dx), 1.0)),
    },
    Def {
        name: "time_in_flare_after_diagnosis_frac",
        description: "share of observed time after diagnosis spent in flares (diagnosed patients)",
        estimator: Estimator::Mean,
        observe: |o, _| o.diagnosis.and_then(|d| {
            let after = o.observed_days - d.day;
            (after > 0.0).then(|| ((o.flare_days_after_dx / after).min(1.0), 1.0))
        }),
    },
    Def {
        name: "any_condition_at_onset_frac",
        description: "share with an associated condition at onset",
        estimator: Estimator::Mean,
        observe: |o, _| share(o.conditions_at_onset != 0),
    },
    Def {
        name: "ppp_ever_frac",
        description: "share ever with palmoplantar pustulosis",
        estimator: Estimator::Mean,
        observe: |o, _| ever(o, Condition::Ppp),
    },
    Def {
        name: "psoriasis_ever_frac",
        description: "share ever with psoriasis",
        estimator: Estimator::Mean,
        observe: |o, _| ever(o, Condition::Psoriasis),
    },
    Def {
        name: "acne_ever_frac",
        description: "share ever with severe acne",
        estimator: Estimator::Mean,
        observe: |o, _| ever(o, Condition::Acne),
    },
    Def {
        name: "ibd_ever_frac",
        description: "share ever with inflammatory bowel disease",
        estimator: Estimator::Mean,
        observe: |o, _| ever(o, Condition::Ibd),
    },
    Def {
        name: "arthritis_ever_frac",
        description: "share ever with arthritis",
        estimator: Estimator::Mean,
        observe: |o, _| ever(o, Condition::Arthritis),
    },
];

/// Name of the median diagnostic delay row (estimated from a histogram).
pub const MEDIAN_DELAY: &str = "diagnostic_delay_median_days";
/// Name of the median active period row (estimated from a histogram), months (C9).
pub const MEDIAN_ACTIVE_PERIOD: &str = "active_period_median_months";

fn metric(
    name: String,
    description: String,
    estimator: Estimator,
    observe: fn(&Outcome, usize) -> Option<(f64, f64)>,
    arg: usize,
) -> Metric {
    Metric {
        name,
        description,
        estimator,
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

fn observed_count_f(o: &Outcome, i: usize, v: f64) -> Option<(f64, f64)> {
    (o.checkpoints.state[i] != 0).then_some((v, 1.0))
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
        .map(|d| {
            metric(
                d.name.into(),
                d.description.into(),
                d.estimator,
                d.observe,
                0,
            )
        })
        .collect();
    let years = (horizon_years.ceil() as usize)
        .saturating_sub(1)
        .min(N_CHECKPOINTS - 1);
    v.push(metric(
        "ever_relapsed_after_diagnosis_frac".into(),
        "share of diagnosed patients with a relapse after a remission after diagnosis".into(),
        Estimator::Mean,
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
    v.push(metric(
        "remission_6_months_frac".into(),
        "share not in a flare 6 months after diagnosis (of those still observed)".into(),
        Estimator::Mean,
        remission_at,
        0,
    ));
    for y in 1..=years {
        v.push(metric(
            format!("remission_{}_months_frac", 12 * y),
            format!(
                "share not in a flare {} months after diagnosis (of those still observed)",
                12 * y
            ),
            Estimator::Mean,
            remission_at,
            anniversary_index(y),
        ));
    }
    for y in 1..=years {
        v.push(metric(
            format!("active_symptomatic_lesions_year_{y}_mean"),
            format!("mean active symptomatic lesions {y} year(s) after diagnosis"),
            Estimator::Mean,
            |o, i| observed_count(o, i, o.checkpoints.symptomatic_lesions[i]),
            anniversary_index(y),
        ));
        v.push(metric(
            format!("active_seen_lesions_year_{y}_mean"),
            format!("mean active lesions seen on imaging {y} year(s) after diagnosis"),
            Estimator::Mean,
            |o, i| observed_count(o, i, o.checkpoints.seen_lesions[i]),
            anniversary_index(y),
        ));
    }
    for (label, i) in [(6, 1), (12, 2)] {
        for pct in [30, 50, 70] {
            let f: fn(&Outcome, usize) -> Option<(f64, f64)> = match pct {
                30 => |o, i| pedcno(o, i, 30.0),
                50 => |o, i| pedcno(o, i, 50.0),
                _ => |o, i| pedcno(o, i, 70.0),
            };
            v.push(metric(
                format!("pedcno{pct}_{label}_months_frac"),
                format!("share with a PedCNO{pct} response {label} months after diagnosis (of those observed)"),
                Estimator::Mean,
                f,
                i,
            ));
        }
    }
    for y in 1..=years {
        v.push(metric(
            format!("activity_score_mean_year_{y}"),
            format!("mean disease activity score (0-10) {y} year(s) after diagnosis"),
            Estimator::Mean,
            |o, i| observed_count_f(o, i, f64::from(o.checkpoints.activity[i])),
            anniversary_index(y),
        ));
        v.push(metric(
            format!("activity_score_ge4_frac_year_{y}"),
            format!("share with a disease activity score of 4 or more {y} year(s) after diagnosis"),
            Estimator::Mean,
            |o, i| observed_count_f(o, i, f64::from(u8::from(o.checkpoints.activity[i] >= 4.0))),
            anniversary_index(y),
        ));
    }
    if max_steps == 0 {
        return v;
    }
    v.push(metric(
        "never_escalated_frac".into(),
        "share of diagnosed patients who stay on the first step".into(),
        Estimator::Mean,
        |o, _| diagnosed_mean(o, f64::from(u8::from(o.treatment.steps_reached <= 1))),
        0,
    ));
    v.push(metric(
        "untreated_while_active_frac".into(),
        "share of diagnosed patients in a flare after diagnosis while given no drug".into(),
        Estimator::Mean,
        |o, _| diagnosed_mean(o, f64::from(u8::from(o.untreated_active_days > 0.0))),
        0,
    ));
    v.push(metric(
        "second_step_12_months_frac".into(),
        "share of diagnosed patients (observed 12 months) who started a second ladder step within 12 months of diagnosis (C12)".into(),
        Estimator::Mean,
        |o, _| {
            observed_after_dx(o, DAYS_PER_YEAR).map(|dx| {
                let y = o.treatment.second_step_day <= dx + DAYS_PER_YEAR;
                (f64::from(u8::from(y)), 1.0)
            })
        },
        0,
    ));
    for (d, name) in drugs.iter().enumerate() {
        v.push(metric(
            format!("flare_ended_12_weeks_after_{name}_frac"),
            format!(
                "share of patients starting {name} in a flare whose flare ended within 12 weeks"
            ),
            Estimator::Mean,
            |o, d| match o.treatment.flare_ended_12_weeks[d] {
                0 => None,
                x => share(x == 2),
            },
            d,
        ));
        v.push(metric(
            format!("not_in_flare_6_months_after_{name}_frac"),
            format!("share of patients starting {name} who are not in a flare 6 months later"),
            Estimator::Mean,
            |o, d| match o.treatment.not_in_flare_6_months[d] {
                0 => None,
                x => share(x == 2),
            },
            d,
        ));
    }
    v.push(metric(
        "flares_per_patient_year_on_treatment".into(),
        "flares starting on a treatment step per patient-year on treatment".into(),
        Estimator::Ratio,
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
        "mean days on a treatment step (diagnosed patients)".into(),
        Estimator::Mean,
        |o, _| diagnosed_mean(o, o.treatment.treated_days),
        0,
    ));
    for (d, name) in drugs.iter().enumerate() {
        v.push(metric(
            format!("days_on_{name}_mean"),
            format!(
                "mean days exposed to {name} (diagnosed patients; courses count infusion days)"
            ),
            Estimator::Mean,
            |o, d| diagnosed_mean(o, o.treatment.drug_days[d]),
            d,
        ));
    }
    for k in 1..=max_steps {
        v.push(metric(
            format!("reached_step_{k}_frac"),
            format!("share of diagnosed patients who reached ladder step {k}"),
            Estimator::Mean,
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
        "mean drugs stopped for adverse events (diagnosed patients)".into(),
        Estimator::Mean,
        |o, _| diagnosed_mean(o, f64::from(o.treatment.adverse_events)),
        0,
    ));
    v.push(metric(
        "adverse_event_frac".into(),
        "share of diagnosed patients with at least one adverse event".into(),
        Estimator::Mean,
        |o, _| diagnosed_mean(o, f64::from(u8::from(o.treatment.adverse_events > 0))),
        0,
    ));
    v
}
