//! Treatment in scenario files: the drug catalogue (`[drugs.NAME]`, built-in
//! defaults with their sources, overridable field by field, new drugs
//! allowed) and the arms (`[[arm]]`: a ladder of steps and its rules).

use std::collections::BTreeMap;

use toml::Spanned;

use super::dist::{num, Param};

mod arm;
mod drug;
pub use arm::*;
pub use drug::*;

/// One built-in drug: its name, values and where they come from.
#[derive(Debug, Clone)]
pub struct CatalogueDrug {
    /// Name used in `[drugs.NAME]` and ladders.
    pub name: &'static str,
    /// Default values.
    pub spec: DrugSpec,
    /// Sources of the defaults.
    pub source: &'static str,
}

#[allow(clippy::too_many_arguments)]
fn drug(
    p: f64,
    p_majeed: f64,
    lag_weeks: f64,
    hr: f64,
    duration: f64,
    lesion: f64,
    heal: f64,
    ae_per_year: f64,
) -> DrugSpec {
    DrugSpec {
        p_response: Some(Param::fixed(p)),
        p_response_majeed: Some(Param::fixed(p_majeed)),
        onset_lag_weeks: Some(Param::fixed(lag_weeks)),
        flare_hazard_ratio: Some(Param::fixed(hr)),
        flare_duration_factor: Some(Param::fixed(duration)),
        lesion_factor: Some(Param::fixed(lesion)),
        heal_time_factor: Some(Param::fixed(heal)),
        adverse_event_per_year: Some(Param::fixed(ae_per_year)),
        ..DrugSpec::neutral()
    }
}

/// A disease-modifying drug: after a responder stops it, the relapse hazard
/// stays multiplied by `hr` for `weeks`.
fn lasting(mut d: DrugSpec, hr: f64, weeks: f64) -> DrugSpec {
    d.lasting_hazard_ratio = Some(Param::fixed(hr));
    d.lasting_weeks = Some(Param::fixed(weeks));
    d
}

fn courses(mut d: DrugSpec, days: f64, every_weeks: f64, max: f64, per_year: f64) -> DrugSpec {
    d.course_days = Some(Param::fixed(days));
    d.course_every_weeks = Some(Param::fixed(every_weeks));
    d.max_courses = Some(Param::fixed(max));
    d.max_courses_per_year = Some(Param::fixed(per_year));
    d
}

/// The drug of the same class a patient is switched to when `name` is
/// stopped for an adverse event (None: the catalogue has none). A scenario
/// whose ladder holds `name` gets the partner in its drug table.
pub fn class_switch(name: &str) -> Option<&'static str> {
    match name {
        "tnf_inhibitor" => Some("adalimumab"),
        "adalimumab" => Some("tnf_inhibitor"),
        "il1_blocker" => Some("canakinumab"),
        "canakinumab" => Some("il1_blocker"),
        _ => None,
    }
}

/// Healing factor of the bisphosphonates for responders: calibrated to C14
/// [Pamidronate2019] and C15 [Miettunen2009].
const PAMIDRONATE_HEAL: f64 = 0.2;

/// The built-in drug catalogue. Response probabilities from the reference
/// figures; effect sizes, lags and adverse-event hazards are assumptions
/// (no per-drug hazard ratios are published for CRMO).
pub fn catalogue() -> Vec<CatalogueDrug> {
    let mut steroid = drug(0.90, 0.50, 0.5, 0.2, 0.3, 0.5, 1.0, 0.05);
    steroid.max_weeks = Some(Param::fixed(4.0));
    vec![
        CatalogueDrug {
            name: "nsaid",
            spec: drug(0.80, 0.10, 4.0, 0.7, 0.8, 0.5, 0.8, 0.03),
            source: "P(response) [Borzutzky2012] 57%, [Jansson2007] 85%, [Beck2010] 43% symptom-free at 6 months; Majeed 0.1 [MajeedIL1]; lag 4 weeks; symptomatic drug: mild induction (x0.8) and maintenance (x0.7), calibrated to C1 and C12 (0.8, between [Borzutzky2012] and [Jansson2007]); AE 0.03/yr: assumption",
        },
        CatalogueDrug {
            name: "glucocorticoid",
            spec: steroid,
            source: "P(response) [Borzutzky2012] 95% short-term; Majeed partial [MajeedIL1]; 4-week course, no lasting effect: assumption",
        },
        CatalogueDrug {
            name: "methotrexate",
            spec: drug(0.80, 0.30, 8.0, 0.35, 0.4, 0.5, 0.8, 0.10),
            source: "P(response) [Borzutzky2012] 91%, [Gamalero2020] 82%; lag 8 weeks, AE 0.10/yr: assumption",
        },
        CatalogueDrug {
            name: "sulfasalazine",
            spec: drug(0.65, 0.30, 8.0, 0.45, 0.5, 0.6, 0.9, 0.08),
            source: "P(response) [Borzutzky2012] 66%, [JobDeslandre2001] 4/5; lag 8 weeks, AE 0.08/yr: assumption",
        },
        CatalogueDrug {
            name: "pamidronate",
            spec: lasting(courses(drug(0.80, 0.30, 1.0, 0.7, 0.1, 0.3, PAMIDRONATE_HEAL, 0.02), 3.0, 12.0, 8.0, 3.0), 0.5, 52.0),
            source: "P(response) [Miettunen2009] 9/9, [Pamidronate2008] 4/5, [Bouchalova2019] 13/14; 3-day courses every 12 weeks, at most 3 a year (1 mg/kg/day for 3 days, at most 11.5 mg/kg/yr [Miettunen2009]); healing factor calibrated to C14 [Pamidronate2019] and C15 [Miettunen2009] (complete MRI resolution in 6 months); lasting effect (relapse hazard x0.5 for a year after stopping): assumption from [Bouchalova2019] 9/14 stopped for sustained inactivity",
        },
        CatalogueDrug {
            name: "zoledronate",
            spec: lasting(courses(drug(0.80, 0.30, 1.0, 0.7, 0.1, 0.3, PAMIDRONATE_HEAL, 0.02), 1.0, 26.0, 4.0, 2.0), 0.5, 52.0),
            source: "as pamidronate (assumption); one infusion every 26 weeks, at most 2 a year (assumption)",
        },
        CatalogueDrug {
            name: "tnf_inhibitor",
            spec: lasting(drug(0.85, 0.10, 4.0, 0.6, 0.25, 0.3, 0.6, 0.05), 0.7, 26.0),
            source: "P(response) [Borzutzky2012] 91%, [Biologics2021] 18/19; Majeed none to etanercept [MajeedIL1]; AE 0.05/yr, lasting effect x0.7 for 26 weeks: assumption",
        },
        CatalogueDrug {
            name: "adalimumab",
            spec: lasting(drug(0.85, 0.10, 4.0, 0.6, 0.25, 0.3, 0.6, 0.05), 0.7, 26.0),
            source: "a second TNF inhibitor, the class switch after an adverse event on `tnf_inhibitor`: as tnf_inhibitor, [Borzutzky2012] 91% (anti-TNF agents together), [Biologics2021] 18/19 on biologics, mostly anti-TNF (assumption: the same response to either agent)",
        },
        CatalogueDrug {
            name: "il1_blocker",
            spec: lasting(drug(0.50, 0.90, 1.0, 0.2, 0.25, 0.3, 0.6, 0.05), 0.7, 26.0),
            source: "Majeed 0.9 [MajeedIL1] (anakinra, canakinumab); sporadic 0.5, lasting effect x0.7 for 26 weeks: assumption",
        },
        CatalogueDrug {
            name: "canakinumab",
            spec: lasting(drug(0.50, 0.90, 1.0, 0.2, 0.25, 0.3, 0.6, 0.03), 0.7, 26.0),
            source: "a second IL-1 blocker, the class switch after an adverse event on `il1_blocker` (anakinra): Majeed 0.9, dramatic response to anakinra and to canakinumab in both brothers [MajeedIL1]; sporadic 0.5, AE 0.03/yr (monthly injections), lasting effect: assumption",
        },
    ]
}

/// `[drugs]` as written: drug name → fields.
pub type DrugTable = BTreeMap<Spanned<String>, DrugSpec>;

/// A drug as a scenario uses it: its name, the scenario's fields and the base they override.
#[derive(Debug, Clone)]
pub struct UsedDrug {
    /// Name.
    pub name: String,
    /// Fields set in the scenario.
    pub spec: DrugSpec,
    /// Catalogue entry, or the neutral drug for new drugs.
    pub base: DrugSpec,
}

/// The steps of an arm's ladder, each a list of drug names.
pub fn ladder_steps(arm: &ArmSpec) -> Vec<Vec<String>> {
    arm.ladder.as_ref().map_or_else(Vec::new, |l| {
        l.get_ref()
            .iter()
            .map(|step| {
                step.get_ref()
                    .split('+')
                    .map(|d| d.trim().to_string())
                    .collect()
            })
            .collect()
    })
}

/// The drugs the scenario's arms use, in order of first use; this order
/// indexes drugs in events, intervals and `timeseries.csv`.
pub fn used_drugs(drugs: &DrugTable, arms: &[ArmSpec]) -> Vec<UsedDrug> {
    let cat = catalogue();
    let mut names: Vec<String> = Vec::new();
    for arm in arms {
        let fallback = match arm.adverse_event_at_top() {
            AdverseEventAtTop::Drug(d) => vec![vec![d]],
            _ => Vec::new(),
        };
        let steps: Vec<Vec<String>> = ladder_steps(arm).into_iter().chain(fallback).collect();
        for d in steps.iter().flatten() {
            if !names.contains(d) {
                names.push(d.clone());
            }
        }
        // The class partners of the arm's drugs, after them (so an arm's
        // columns do not depend on the arms after it): the switch after an
        // adverse event.
        for d in steps.iter().flatten() {
            if let Some(partner) = class_switch(d) {
                if !names.iter().any(|n| n == partner) {
                    names.push(partner.to_string());
                }
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let spec = drugs
                .iter()
                .find(|(k, _)| k.get_ref() == &name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let base = cat
                .iter()
                .find(|c| c.name == name)
                .map_or_else(DrugSpec::neutral, |c| c.spec.clone());
            UsedDrug { name, spec, base }
        })
        .collect()
}
