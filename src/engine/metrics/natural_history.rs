//! The natural-history metrics (used by every arm) and the findings at diagnosis.

use crate::model::criteria::JANSSON_THRESHOLD;
use crate::model::{Condition, Genotype};

use super::super::model_values::DAYS_PER_YEAR;
use super::super::patient::Outcome;
use super::{
    about, count, flag, real, MetricLayout, Part, Value, Visit, ALL, DIAGNOSED, FRACTION, PAIRED,
};

/// The natural-history metrics (used by every arm).
#[inline(always)]
pub(super) fn natural_history<V: Visit>(v: &mut V, layout: &MetricLayout) {
    let share_of_all = |name, description| about(name, description, FRACTION, ALL);
    v.mean(
        PAIRED,
        || share_of_all("female_frac", "share of girls"),
        |o| flag(o.female),
    );
    v.mean(
        PAIRED,
        || share_of_all("majeed_frac", "share with Majeed syndrome (LPIN2)"),
        |o| flag(o.genotype == Some(Genotype::Majeed)),
    );
    v.mean(
        PAIRED,
        || {
            about(
                "onset_age_mean_years",
                "mean age at disease onset",
                "years",
                ALL,
            )
        },
        |o| real(o.onset_age_years),
    );
    v.mean(
        PAIRED,
        || {
            about(
                "observed_years_per_patient",
                "mean follow-up from onset to loss to follow-up or the horizon",
                "years",
                ALL,
            )
        },
        |o| real(o.observed_days / DAYS_PER_YEAR),
    );
    v.mean(
        PAIRED,
        || {
            about(
                "flares_per_patient",
                "mean flares per patient while observed, including the flare at onset",
                "flares",
                ALL,
            )
        },
        |o| count(o.flares),
    );
    v.ratio(
        || about("flares_per_patient_year", "flares started while observed divided by the patient-years observed, pooled over patients (sum of flares / sum of observed years)", "flares per patient-year", "all patients (pooled observed time)"),
        |o| Some((Value::Count(o.flares), Value::Real(o.observed_days / DAYS_PER_YEAR))),
    );
    v.ratio(
        || {
            about(
                "time_in_flare_frac",
                "days in a flare divided by days observed, pooled over patients (sum / sum)",
                FRACTION,
                "all patients (pooled observed time)",
            )
        },
        |o| Some((Value::Real(o.flare_days), Value::Real(o.observed_days))),
    );
    layout.rests_on(v, Part::Fever);
    v.ratio(
        || {
            about(
                "fever_per_flare_frac",
                "share of flares that come with fever (sum of febrile flares / sum of flares)",
                FRACTION,
                "all flares",
            )
        },
        |o| Some((Value::Count(o.fevers), Value::Count(o.flares))),
    );
    layout.rests_on(v, Part::Lesions);
    v.mean(
        PAIRED,
        || {
            about(
                "initial_lesions_mean",
                "mean lesions present at onset, seen or not",
                "lesions",
                ALL,
            )
        },
        |o| count(o.initial_lesions),
    );
    layout.rests_on(v, Part::Lesions);
    v.ratio(
        || about("new_lesions_per_flare", "lesions appearing after onset divided by the flares after the one at onset (sum / sum)", "lesions per flare", "flares after the one at onset"),
        |o| Some((Value::Count(o.new_lesions), Value::Count(o.flares.saturating_sub(1)))),
    );
    layout.rests_on(v, Part::Fractures);
    v.mean(
        PAIRED,
        || {
            share_of_all(
                "vertebral_fracture_frac",
                "share with at least one vertebral fracture while observed",
            )
        },
        |o| flag(o.fractures > 0),
    );
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            share_of_all(
                "diagnosed_frac",
                "share diagnosed while observed (before loss to follow-up and the horizon)",
            )
        },
        |o| flag(o.diagnosis.is_some()),
    );
    at_diagnosis(v, layout);
    layout.rests_on(v, Part::Resolution);
    v.mean(
        PAIRED,
        || share_of_all("resolved_frac", "share resolved by the end of their observation: the disease burnt out (no new flares can start) and the flare running then, if any, has ended"),
        |o| flag(o.resolved_day.is_some() && !o.active_at_end),
    );
    layout.rests_on(v, Part::LossToFollowUp);
    v.mean(
        PAIRED,
        || {
            share_of_all(
                "lost_to_follow_up_frac",
                "share lost to follow-up before the horizon",
            )
        },
        |o| flag(o.lost_day.is_some()),
    );
    v.mean(
        PAIRED,
        || share_of_all("active_at_end_frac", "share in a flare at the end of their own observation (loss to follow-up or the horizon); timeseries.csv instead counts patients lost earlier as lost, so its active_frac at the horizon is lower"),
        |o| flag(o.active_at_end),
    );
    layout.rests_on(v, Part::Conditions);
    v.mean(
        PAIRED,
        || {
            share_of_all(
                "any_condition_at_onset_frac",
                "share with an associated condition already present at onset",
            )
        },
        |o| flag(o.conditions_at_onset != 0),
    );
    let conditions = [
        ("ppp", "palmoplantar pustulosis", Condition::Ppp),
        ("psoriasis", "psoriasis", Condition::Psoriasis),
        ("acne", "severe acne", Condition::Acne),
        ("ibd", "inflammatory bowel disease", Condition::Ibd),
        ("arthritis", "arthritis", Condition::Arthritis),
    ];
    for (key, name, c) in conditions {
        layout.rests_on(v, Part::Conditions);
        v.mean(
            PAIRED,
            || {
                about(
                    format!("{key}_ever_frac"),
                    format!("share with {name} at onset or later while observed"),
                    FRACTION,
                    ALL,
                )
            },
            |o| ever(o, c),
        );
    }
}

/// The findings at diagnosis.
#[inline(always)]
fn at_diagnosis<V: Visit>(v: &mut V, layout: &MetricLayout) {
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            about(
                "diagnostic_delay_mean_days",
                "mean time from onset to diagnosis",
                "days",
                DIAGNOSED,
            )
        },
        |o| o.diagnosis.map(|d| Value::Real(d.day)),
    );
    layout.rests_on(v, Part::Lesions);
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || about("lesions_seen_at_diagnosis_mean", "mean lesions seen at diagnosis: symptomatic ones plus silent ones that imaging found", "lesions", DIAGNOSED),
        |o| o.diagnosis.map(|d| Value::Count(d.findings.lesions_seen)),
    );
    layout.rests_on(v, Part::Lesions);
    layout.rests_on(v, Part::Diagnosis);
    v.ratio(
        || about("silent_lesion_share_at_diagnosis", "share of the lesions seen at diagnosis that are clinically silent, pooled (sum / sum; target C3)", FRACTION, "lesions seen at diagnosis"),
        |o| o.diagnosis.map(|d| (Value::Count(d.silent_seen), Value::Count(d.findings.lesions_seen))),
    );
    layout.rests_on(v, Part::Lesions);
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            about(
                "solitary_lesion_frac_at_diagnosis",
                "share with exactly one lesion seen at diagnosis (target C4)",
                FRACTION,
                DIAGNOSED,
            )
        },
        |o| {
            o.diagnosis
                .map(|d| Value::Flag(d.findings.lesions_seen == 1))
        },
    );
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            about(
                "jansson_score_mean",
                "mean Jansson score at diagnosis",
                "score points",
                DIAGNOSED,
            )
        },
        |o| o.diagnosis.map(|d| Value::Count(d.jansson)),
    );
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || {
            about(
                "jansson_ge39_frac",
                "share with a Jansson score of 39 or more at diagnosis (target C6)",
                FRACTION,
                DIAGNOSED,
            )
        },
        |o| {
            o.diagnosis
                .map(|d| Value::Flag(d.jansson >= JANSSON_THRESHOLD))
        },
    );
    layout.rests_on(v, Part::Diagnosis);
    v.mean(
        PAIRED,
        || about("bristol_criterion1_frac", "share meeting Bristol criterion 1 at diagnosis, so no biopsy is needed (target C7)", FRACTION, DIAGNOSED),
        |o| o.diagnosis.map(|d| Value::Flag(d.bristol_1)),
    );
}

fn ever(o: &Outcome, c: Condition) -> Option<Value> {
    flag(o.conditions_ever & c.bit() != 0)
}
