//! The resolved scenario as `crmo_sim.check` returns it: the values
//! `crmo-sim check` prints, as nested dicts (defaults filled in, numbers as
//! numbers, distributions as the text `check` shows), the drug values and
//! draws of replicate 0, and the printed listing itself under `"listing"`.

use crmo_sim::scenario::names::variant_name;
use crmo_sim::scenario::treatment::ladder_steps;
use crmo_sim::study::Study;

use crate::value::Value;

/// The resolved scenario of `study`.
pub fn resolved(study: &Study) -> Value {
    let loaded = study.loaded();
    let s = &loaded.scenario;
    Value::map([
        ("name", Value::from(loaded.name())),
        ("source", Value::from(loaded.origin.as_str())),
        ("seed", Value::from(s.seed)),
        ("patients", Value::from(s.patients)),
        ("replicates", Value::from(s.replicates)),
        ("horizon_years", Value::from(s.horizon_years)),
        ("cohort", cohort(study)),
        ("natural_history", natural_history(study, false)),
        ("natural_history_majeed", natural_history(study, true)),
        ("site_weights", site_weights(study)),
        ("imaging", imaging(study)),
        ("output", output(study)),
        ("drugs", drugs(study)),
        ("arms", arms(study)),
        (
            "reference_arm",
            Value::from(study.arm_names()[study.reference()].clone()),
        ),
        ("differential", differential(study)),
        ("economics", economics(study)),
        ("drawn", drawn(study)),
        ("sweep", sweep(study)),
        (
            "listing",
            Value::from(crmo_sim::cli::scenario_listing(study)),
        ),
    ])
}

/// `[cohort]`.
fn cohort(study: &Study) -> Value {
    let c = &study.scenario().cohort;
    Value::map([
        ("female_frac", Value::shown(&c.female_frac.to_string())),
        (
            "onset_age_years",
            Value::shown(&c.onset_age_years.to_string()),
        ),
        ("majeed_frac", Value::shown(&c.majeed_frac.to_string())),
        (
            "majeed_onset_age_years",
            Value::shown(&c.majeed_onset_age_years.to_string()),
        ),
    ])
}

/// `[natural_history]`: the sporadic values, or (`majeed`) the Majeed
/// values where they differ from them.
fn natural_history(study: &Study, majeed: bool) -> Value {
    let rows = study.scenario().natural_history.listing();
    Value::Map(
        rows.into_iter()
            .filter_map(|row| {
                let value = if majeed { row.majeed? } else { row.value };
                Some((row.name.to_string(), Value::shown(&value)))
            })
            .collect(),
    )
}

/// `[natural_history.site_weights]`.
fn site_weights(study: &Study) -> Value {
    let w = study.scenario().natural_history.site_weights.as_array();
    Value::Map(
        crmo_sim::model::Site::ALL
            .iter()
            .zip(w)
            .map(|(site, weight)| (site.as_str().to_string(), Value::from(weight)))
            .collect(),
    )
}

/// `[imaging]`.
fn imaging(study: &Study) -> Value {
    let im = &study.scenario().imaging;
    Value::map([
        ("at_diagnosis", Value::from(variant_name(im.at_diagnosis))),
        ("follow_up", Value::from(variant_name(im.follow_up))),
        (
            "follow_up_every_months",
            Value::shown(&im.follow_up_every_months.to_string()),
        ),
        (
            "sensitivity_wbmri",
            Value::shown(&im.sensitivity_wbmri.to_string()),
        ),
        (
            "sensitivity_scintigraphy",
            Value::shown(&im.sensitivity_scintigraphy.to_string()),
        ),
        (
            "sensitivity_radiograph",
            Value::shown(&im.sensitivity_radiograph.to_string()),
        ),
    ])
}

/// `[output]`: which row files a run writes.
fn output(study: &Study) -> Value {
    let o = &study.scenario().output;
    Value::map([
        ("patients", Value::from(o.patients)),
        ("events", Value::from(o.events)),
        ("compression", Value::from(o.compression.as_str())),
        (
            "timeseries_step_weeks",
            Value::from(o.timeseries_step_weeks),
        ),
    ])
}

/// The drugs the arms use, with the values replicate 0 uses, every field
/// by the name a scenario writes (the library's one list of drug fields).
fn drugs(study: &Study) -> Value {
    let model = study.replicate_model(0);
    Value::Map(
        model
            .drugs
            .iter()
            .map(|d| {
                let values = d
                    .values
                    .by_name()
                    .into_iter()
                    .map(|(k, x)| (k.to_string(), Value::from(x)))
                    .collect();
                (d.name.clone(), Value::Map(values))
            })
            .collect(),
    )
}

/// `[[arm]]`: each strategy with its ladder (a list of steps, each a list
/// of drugs) and rules; the untreated natural history when none is given.
fn arms(study: &Study) -> Value {
    let s = study.scenario();
    if s.arm.is_empty() {
        return Value::List(vec![Value::map([
            ("name", Value::from(study.arm_names()[0].clone())),
            ("untreated", Value::from(true)),
            ("ladder", Value::List(Vec::new())),
        ])]);
    }
    Value::List(
        s.arm
            .iter()
            .map(|a| {
                let ladder = ladder_steps(a)
                    .into_iter()
                    .map(|step| Value::List(step.into_iter().map(Value::from).collect()))
                    .collect();
                Value::map([
                    ("name", Value::from(a.name.get_ref().clone())),
                    ("untreated", Value::from(a.untreated)),
                    ("ladder", Value::List(ladder)),
                    ("assess_every_weeks", Value::from(a.assess_every_weeks)),
                    ("min_weeks_on_step", Value::from(a.min_weeks_on_step)),
                    ("escalate_when", Value::from(variant_name(a.escalate_when))),
                    ("remission_weeks", Value::from(a.remission_weeks)),
                    (
                        "stop_after_remission_weeks",
                        Value::from(a.stop_after_remission_weeks),
                    ),
                    (
                        "on_relapse_after_stop",
                        Value::from(variant_name(a.on_relapse_after_stop)),
                    ),
                    ("at_top", Value::from(variant_name(a.at_top))),
                ])
            })
            .collect(),
    )
}

/// `[differential]`: the case mix and the criteria applied.
fn differential(study: &Study) -> Value {
    let d = &study.scenario().differential;
    let m = &d.case_mix;
    Value::map([
        (
            "case_mix",
            Value::map([
                ("crmo", Value::from(m.crmo.0)),
                (
                    "bacterial_osteomyelitis",
                    Value::from(m.bacterial_osteomyelitis.0),
                ),
                ("malignant_tumour", Value::from(m.malignant_tumour.0)),
                ("benign_tumour", Value::from(m.benign_tumour.0)),
            ]),
        ),
        ("crmo_prevalence", Value::from(m.prevalence())),
        (
            "criteria",
            Value::List(d.criteria_names().into_iter().map(Value::from).collect()),
        ),
    ])
}

/// `[economics]` by dotted path, or None when the scenario has none.
fn economics(study: &Study) -> Value {
    let Some(e) = &study.scenario().economics else {
        return Value::None;
    };
    Value::Map(
        e.listing()
            .into_iter()
            .map(|row| (row.path, Value::shown(&row.value)))
            .collect(),
    )
}

/// The values replicate 0 drew from distributions, by parameter.
fn drawn(study: &Study) -> Value {
    Value::Map(
        study
            .replicate_model(0)
            .drawn
            .into_iter()
            .map(|d| (d.parameter, Value::from(d.value)))
            .collect(),
    )
}

/// `[sweep]`: the swept parameters with their values, the metric shown and
/// the number of grid points; None without a sweep.
fn sweep(study: &Study) -> Value {
    let Some(sweep) = study.sweep() else {
        return Value::None;
    };
    Value::map([
        ("metric", Value::from(sweep.metric.clone())),
        ("points", Value::from(sweep.points.len() as u64)),
        (
            "parameters",
            Value::Map(
                sweep
                    .parameters
                    .iter()
                    .map(|p| {
                        let values = p.values.iter().map(|&v| Value::from(v)).collect();
                        (p.path.clone(), Value::List(values))
                    })
                    .collect(),
            ),
        ),
    ])
}
