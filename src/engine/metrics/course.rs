//! Metrics of the course after diagnosis: course classes, PedCNO responses,
//! the activity score at each anniversary, how strategies ran (escalation,
//! untreated time in flares, second-line use) and the response to each drug
//! (C10, C11).

use super::super::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use super::super::patient::{CourseClass, Outcome};
use super::{
    diagnosed_mean, mean, metric, share, Def, Estimator, Kind, Metric, Observe, SHARE_OF_DIAGNOSED,
};

/// Course metrics of every arm, after the natural-history list.
pub(super) const COURSE: &[Def] = &[
    Def {
        name: "flares_first_5_3_years_mean",
        description: "mean flares starting within 5.3 years of onset (C8)",
        estimator: Estimator::Mean,
        unit: "flares",
        population: "all patients",
        observe: |o, _| mean(f64::from(o.flares_first_5_3_years)),
    },
    Def {
        name: "active_period_mean_months",
        description: "mean active period: onset to the end of the last flare within observation (to the end of observation if a flare still runs)",
        estimator: Estimator::Mean,
        unit: "months",
        population: "all patients",
        observe: |o, _| mean(o.last_flare_end_day / DAYS_PER_MONTH),
    },
    Def {
        name: "diagnosed_if_symptomatic_12_months_frac",
        description: "share diagnosed among patients with at least 12 months of cumulative flare time",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "patients with at least 12 months in flares",
        observe: |o, _| {
            (o.flare_days >= DAYS_PER_YEAR)
                .then(|| (f64::from(u8::from(o.diagnosis.is_some())), 1.0))
        },
    },
    Def {
        name: "course_monophasic_frac",
        description: "monophasic course: one episode and no relapse within observation",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "diagnosed patients",
        observe: |o, _| course_is(o, CourseClass::Monophasic),
    },
    Def {
        name: "course_relapsing_frac",
        description: "relapsing course: several flares with a flare-free interval of 6 months or more",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "diagnosed patients",
        observe: |o, _| course_is(o, CourseClass::Relapsing),
    },
    Def {
        name: "course_persistent_frac",
        description: "persistent course: several flares and never 6 months flare-free between them",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "diagnosed patients",
        observe: |o, _| course_is(o, CourseClass::Persistent),
    },
    Def {
        name: "flares_after_diagnosis_mean",
        description: "mean flares starting after diagnosis",
        estimator: Estimator::Mean,
        unit: "flares",
        population: "diagnosed patients",
        observe: |o, _| o.diagnosis.map(|_| (f64::from(o.flares_after_dx), 1.0)),
    },
    Def {
        name: "time_in_flare_after_diagnosis_frac",
        description: "mean share of each patient's observed time after diagnosis spent in flares",
        estimator: Estimator::Mean,
        unit: "fraction",
        population: "diagnosed patients observed after diagnosis",
        observe: |o, _| {
            o.diagnosis.and_then(|d| {
                let after = o.observed_days - d.day;
                (after > 0.0).then(|| ((o.flare_days_after_dx / after).min(1.0), 1.0))
            })
        },
    },
];

/// 1 if the diagnosed patient's course is of class `c`.
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

/// The day of diagnosis, if the patient was observed `days` after it.
fn observed_after_dx(o: &Outcome, days: f64) -> Option<f64> {
    o.diagnosis
        .map(|d| d.day)
        .filter(|dx| o.observed_days >= dx + days)
}

fn observed_value(o: &Outcome, i: usize, v: f64) -> Option<(f64, f64)> {
    (o.checkpoints.state[i] != 0).then_some((v, 1.0))
}

/// PedCNO responses at 6 and 12 months and the activity score at each anniversary.
pub(super) fn activity_metrics(v: &mut Vec<Metric>, years: usize, at_checkpoint: Kind) {
    let observe: [Observe; 3] = [
        |o, i| pedcno(o, i, 30.0),
        |o, i| pedcno(o, i, 50.0),
        |o, i| pedcno(o, i, 70.0),
    ];
    for (months, i) in [(6, 1), (12, 2)] {
        for (pct, f) in [30, 50, 70].into_iter().zip(observe) {
            v.push(metric(
                format!("pedcno{pct}_{months}_months_frac"),
                format!("share with a PedCNO{pct} response {months} months after diagnosis, against the core set at diagnosis"),
                at_checkpoint,
                f,
                i,
            ));
        }
    }
    let score = Kind {
        unit: "score 0-10",
        ..at_checkpoint
    };
    for y in 1..=years {
        v.push(metric(
            format!("activity_score_mean_year_{y}"),
            format!("mean disease activity score {y} year(s) after diagnosis"),
            score,
            |o, i| observed_value(o, i, f64::from(o.checkpoints.activity[i])),
            super::anniversary_index(y),
        ));
        v.push(metric(
            format!("activity_score_ge4_frac_year_{y}"),
            format!("share with a disease activity score of 4 or more {y} year(s) after diagnosis"),
            at_checkpoint,
            |o, i| {
                let high = o.checkpoints.activity[i] >= 4.0;
                observed_value(o, i, f64::from(u8::from(high)))
            },
            super::anniversary_index(y),
        ));
    }
}

/// How strategies ran (escalation, untreated time, second line) and the
/// response to each drug counted by calibration targets C10 and C11.
pub(super) fn course_treatment_metrics(v: &mut Vec<Metric>, drugs: &[String]) {
    v.push(metric(
        "never_escalated_frac".into(),
        "share who stay on the first ladder step".into(),
        Kind {
            paired: false,
            ..SHARE_OF_DIAGNOSED
        },
        |o, _| diagnosed_mean(o, f64::from(u8::from(o.treatment.steps_reached <= 1))),
        0,
    ));
    v.push(metric(
        "untreated_while_active_frac".into(),
        "share in a flare after diagnosis at some time while given no drug".into(),
        SHARE_OF_DIAGNOSED,
        |o, _| diagnosed_mean(o, f64::from(u8::from(o.untreated_active_days > 0.0))),
        0,
    ));
    v.push(metric(
        "second_step_12_months_frac".into(),
        "share who started a second ladder step within 12 months of diagnosis (C12)".into(),
        Kind {
            population: "diagnosed patients observed 12 months after diagnosis",
            paired: false,
            ..SHARE_OF_DIAGNOSED
        },
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
            format!("share whose flare ended within 12 weeks of first starting {name} in it"),
            Kind {
                population: "patients who first started the drug in a flare",
                paired: false,
                ..SHARE_OF_DIAGNOSED
            },
            |o, d| match o.treatment.flare_ended_12_weeks[d] {
                0 => None,
                x => share(x == 2),
            },
            d,
        ));
        v.push(metric(
            format!("not_in_flare_6_months_after_{name}_frac"),
            format!("share not in a flare 6 months after first starting {name}"),
            Kind {
                population: "patients who started the drug, observed 6 months later",
                paired: false,
                ..SHARE_OF_DIAGNOSED
            },
            |o, d| match o.treatment.not_in_flare_6_months[d] {
                0 => None,
                x => share(x == 2),
            },
            d,
        ));
    }
}
