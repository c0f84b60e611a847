//! Metrics of the course after diagnosis: course classes, PedCNO responses,
//! the activity score at each anniversary, how strategies ran (escalation,
//! untreated time in flares, second-line use) and the response to each drug
//! (C10, C11).

use super::super::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use super::super::patient::{CourseClass, Outcome};
use super::{
    about, count, diagnosed, flag, real, MetricLayout, Part, Value, Visit, Yearly, AT_CHECKPOINT,
    DIAGNOSED, FRACTION, PAIRED, UNPAIRED,
};

/// Course metrics of every arm, after the natural-history list.
#[inline(always)]
pub(super) fn course<V: Visit>(v: &mut V, layout: &MetricLayout) {
    v.mean(
        PAIRED,
        || {
            about(
                "flares_first_5_3_years_mean",
                "mean flares starting within 5.3 years of onset (C8)",
                "flares",
                "all patients",
            )
        },
        |o| count(o.flares_first_5_3_years),
    );
    v.mean(
        PAIRED,
        || about("active_period_mean_months", "mean active period: onset to the end of the last flare within observation (to the end of observation if a flare still runs)", "months", "all patients"),
        |o| real(o.last_flare_end_day / DAYS_PER_MONTH),
    );
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            about(
                "diagnosed_if_symptomatic_12_months_frac",
                "share diagnosed among patients with at least 12 months of cumulative flare time",
                FRACTION,
                "patients with at least 12 months in flares",
            )
        },
        |o| (o.flare_days >= DAYS_PER_YEAR).then_some(Value::Flag(o.diagnosis.is_some())),
    );
    let classes = [
        (
            CourseClass::Monophasic,
            "one episode of inflammation and no relapse within observation",
        ),
        (
            CourseClass::Relapsing,
            "several episodes, with 6 months or more disease-free (no episode running by its natural course, no lesion inflamed on MRI) before at least one of them [Jansson2007; Schnabel2017]; rests on natural episodes and imaging activity, so a drug that only shortens symptoms changes no class",
        ),
        (
            CourseClass::Persistent,
            "several episodes, never 6 months disease-free (no episode running by its natural course, no lesion inflamed on MRI) before any of them [Jansson2007; Schnabel2017]; rests on natural episodes and imaging activity, so a drug that only shortens symptoms changes no class",
        ),
    ];
    for (c, definition) in classes {
        layout.rests_on(v, Part::Diagnosis);
        v.mean(
            PAIRED,
            || {
                let name = c.as_str();
                about(
                    format!("course_{name}_frac"),
                    format!("{name} course: {definition}"),
                    FRACTION,
                    DIAGNOSED,
                )
            },
            |o| o.course_class().map(|k| Value::Flag(k == c)),
        );
    }
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            about(
                "flares_after_diagnosis_mean",
                "mean flares starting after diagnosis",
                "flares",
                DIAGNOSED,
            )
        },
        |o| diagnosed(o, Value::Count(o.flares_after_dx)),
    );
    layout.rests_on(v, Part::Diagnosis);
    v.ratio(
        || {
            about(
                "flares_per_patient_year_after_diagnosis",
                "flares starting after diagnosis divided by the patient-years observed after diagnosis (sum / sum), the same population and time base in every arm, treated or not; differences.csv pairs each patient's own rate between arms",
                "flares per patient-year",
                "diagnosed patients (pooled observed time after diagnosis)",
            )
        },
        |o| {
            o.diagnosis.map(|d| {
                let years = (o.observed_days - d.day).max(0.0) / DAYS_PER_YEAR;
                (Value::Count(o.flares_after_dx), Value::Real(years))
            })
        },
    );
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            about(
                "time_in_flare_after_diagnosis_frac",
                "mean share of each patient's observed time after diagnosis spent in flares",
                FRACTION,
                "diagnosed patients observed after diagnosis",
            )
        },
        |o| {
            o.diagnosis.and_then(|d| {
                let after = o.observed_days - d.day;
                (after > 0.0).then(|| Value::Real((o.flare_days_after_dx / after).min(1.0)))
            })
        },
    );
}

/// How the model derives the PedCNO core set (assumption; `metrics.csv`).
const PEDCNO_CORE_SET: &str = "Core set as modelled (assumption): pain = flare pain (VAS), or between flares residual_pain_vas while a painful lesion is still inflamed on MRI, else 0; patient global = pain; physician global = 0.5 pain + 1.5 fever + 1 (CRP >= 10 mg/l) + 0.5 min(MRI-inflamed lesions, 4), capped at 10; MRI lesions = lesions inflamed (lytic or mixed stage) and seen on imaging or painful; worst lesion = lytic 2, mixed 1, none 0; CHAQ = 0.15 pain";

/// The PedCNO levels reported, percent.
const PEDCNO_LEVELS: [u8; 3] = [30, 50, 70];

/// PedCNO responses at core-set index `i` (1: 6 months, 2: 12 months) at
/// each of [`PEDCNO_LEVELS`].
fn pedcno(o: &Outcome, i: usize) -> [Option<Value>; 3] {
    match (&o.core_set[0], &o.core_set[i]) {
        (Some(base), Some(now)) => now
            .pedcno_at(base, PEDCNO_LEVELS.map(f64::from))
            .map(|r| Some(Value::Flag(r))),
        _ => [None; 3],
    }
}

/// The day of diagnosis, if the patient was observed `days` after it.
fn observed_after_dx(o: &Outcome, days: f64) -> Option<f64> {
    o.diagnosis
        .map(|d| d.day)
        .filter(|dx| o.observed_days >= dx + days)
}

/// PedCNO responses at 6 and 12 months and the activity score at each anniversary.
#[inline(always)]
pub(super) fn activity<V: Visit>(v: &mut V, years: usize) {
    for (months, i) in [(6, 1), (12, 2)] {
        v.means(
            PAIRED,
            |k| {
                let pct = PEDCNO_LEVELS[k];
                about(
                    format!("pedcno{pct}_{months}_months_frac"),
                    format!("share with a PedCNO{pct} response [Beck2010] at the visit {months} months after diagnosis against the diagnosis visit: at least {pct}% better in 3 of the 5 core-set variables, at most one of the others more than 30% worse{}. {PEDCNO_CORE_SET}", if pct == 70 && months == 12 { " (target C13, [NPRD2021] 0.43)" } else { "" }),
                    FRACTION,
                    AT_CHECKPOINT,
                )
            },
            |o| pedcno(o, i),
        );
    }
    for y in 1..years + 1 {
        v.yearly(Yearly::Activity, y, || {
            about(
                format!("activity_score_mean_year_{y}"),
                format!("mean disease activity score {y} year(s) after diagnosis"),
                "score 0-10",
                AT_CHECKPOINT,
            )
        });
        v.yearly(Yearly::HighActivity, y, || {
            about(
                format!("activity_score_ge4_frac_year_{y}"),
                format!(
                    "share with a disease activity score of 4 or more {y} year(s) after diagnosis"
                ),
                FRACTION,
                AT_CHECKPOINT,
            )
        });
    }
}

/// How strategies ran (escalation, untreated time, second line) and the
/// response to each drug counted by calibration targets C10 and C11.
#[inline(always)]
pub(super) fn course_treatment<V: Visit>(v: &mut V, drugs: &[String]) {
    v.mean(
        UNPAIRED,
        || {
            about(
                "never_escalated_frac",
                "share who stay on the first ladder step, among patients who started treatment (no value in an arm without treatment)",
                FRACTION,
                "diagnosed patients who started treatment",
            )
        },
        |o| {
            let steps = o.treatment.steps_reached;
            o.diagnosis
                .filter(|_| steps >= 1)
                .map(|_| Value::Flag(steps == 1))
        },
    );
    v.mean(
        PAIRED,
        || {
            about(
                "untreated_while_active_frac",
                "share in a flare after diagnosis at some time while given no drug",
                FRACTION,
                DIAGNOSED,
            )
        },
        |o| diagnosed(o, Value::Flag(o.untreated_active_days > 0.0)),
    );
    v.mean(
        UNPAIRED,
        || {
            about(
                "second_step_12_months_frac",
                "share who started a second ladder step within 12 months of diagnosis (C12)",
                FRACTION,
                "diagnosed patients observed 12 months after diagnosis",
            )
        },
        |o| {
            observed_after_dx(o, DAYS_PER_YEAR)
                .map(|dx| Value::Flag(o.treatment.second_step_day <= dx + DAYS_PER_YEAR))
        },
    );
    for (d, name) in drugs.iter().enumerate() {
        v.mean(
            UNPAIRED,
            || {
                about(
                    format!("flare_ended_12_weeks_after_{name}_frac"),
                    format!(
                        "share whose flare ended within 12 weeks of first starting {name} in it"
                    ),
                    FRACTION,
                    "patients who first started the drug in a flare",
                )
            },
            |o| match o.treatment.flare_ended_12_weeks[d] {
                0 => None,
                x => flag(x == 2),
            },
        );
        v.mean(
            UNPAIRED,
            || {
                about(
                    format!("not_in_flare_6_months_after_{name}_frac"),
                    format!("share not in a flare 6 months after first starting {name}"),
                    FRACTION,
                    "patients who started the drug, observed 6 months later",
                )
            },
            |o| match o.treatment.not_in_flare_6_months[d] {
                0 => None,
                x => flag(x == 2),
            },
        );
        v.mean(
            UNPAIRED,
            || about(
                format!("mri_clear_12_months_after_{name}_frac"),
                format!("share with no lesion inflamed on MRI (every lesion sclerotic or healed) at the first follow-up imaging 12 months or more after first starting {name}{}", if name == "pamidronate" { " (target C14, [Pamidronate2019] 17/40)" } else { "" }),
                FRACTION,
                "patients who started the drug with an imaging visit 12 months or more later",
            ),
            |o| match o.treatment.mri_clear_12_months[d] {
                0 => None,
                x => flag(x == 2),
            },
        );
        v.mean(
            UNPAIRED,
            || about(
                format!("mri_clear_months_after_{name}_mean"),
                format!("mean months from first starting {name} to the first day no lesion is inflamed on MRI, among patients whose lesions all resolve within 24 months of the start{}", if name == "pamidronate" { " (target C15, [Miettunen2009] 6.0 months)" } else { "" }),
                "months",
                "patients who started the drug and whose lesions all resolved within 24 months",
            ),
            |o| {
                let start = o.treatment.first_start_day[d];
                let months = (o.treatment.mri_clear_day[d] - start) / DAYS_PER_MONTH;
                (months <= MRI_CLEAR_WITHIN_MONTHS).then_some(Value::Real(months))
            },
        );
    }
}

/// C15 counts patients whose lesions all resolve within 24 months.
const MRI_CLEAR_WITHIN_MONTHS: f64 = 24.0;
