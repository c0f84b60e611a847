//! Treatment in scenario files: the drug catalogue (`[drugs.NAME]`, built-in
//! defaults with their sources, overridable field by field, new drugs
//! allowed) and the arms (`[[arm]]`: a ladder of steps and its rules).

use std::collections::BTreeMap;

use toml::Spanned;

use super::dist::{num, Param};
use super::limits;
use crate::error::Error;

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

/// Checks the counts of drug tables, arms and ladder steps against
/// [`limits`] (drugs per step and per scenario are checked where the study
/// is resolved); returns the span to blame and the message.
fn check_sizes(
    drugs: &DrugTable,
    arms: &[ArmSpec],
) -> Result<(), (std::ops::Range<usize>, String)> {
    if let Some((name, _)) = drugs.iter().nth(limits::MAX_DRUG_TABLES) {
        return Err((
            name.span(),
            format!(
                "more than {} [drugs.NAME] tables: at most {} are allowed",
                limits::MAX_DRUG_TABLES,
                limits::MAX_DRUG_TABLES
            ),
        ));
    }
    if let Some(arm) = arms.get(limits::MAX_ARMS) {
        return Err((
            arm.name.span(),
            format!(
                "more than {} [[arm]] tables: at most {} arms are allowed",
                limits::MAX_ARMS,
                limits::MAX_ARMS
            ),
        ));
    }
    for arm in arms {
        let Some(ladder) = &arm.ladder else { continue };
        if let Some(step) = ladder.get_ref().get(limits::MAX_LADDER_STEPS) {
            return Err((
                step.span(),
                format!(
                    "the ladder of arm {} has {} steps: at most {} are allowed",
                    limits::shown(arm.name.get_ref()),
                    ladder.get_ref().len(),
                    limits::MAX_LADDER_STEPS
                ),
            ));
        }
    }
    Ok(())
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

/// Checks drugs and arms against each other and the horizon.
pub fn validate_treatment(
    drugs: &DrugTable,
    arms: &[ArmSpec],
    horizon_days: f64,
    text: &str,
    origin: &str,
) -> Result<(), Error> {
    let cat = catalogue();
    let catalogue_names: Vec<&str> = cat.iter().map(|c| c.name).collect();
    let at = |span: std::ops::Range<usize>, message: String| Error::Invalid {
        path: origin.to_string(),
        location: Some(super::line_column(text, span.start)),
        message,
    };
    check_sizes(drugs, arms).map_err(|(span, message)| at(span, message))?;
    for (name, spec) in drugs {
        if let Some(why) = limits::name_problem(name.get_ref()) {
            return Err(at(
                name.span(),
                format!(
                    "drug name {} is not allowed: {why}",
                    limits::shown(name.get_ref())
                ),
            ));
        }
        if !catalogue_names.contains(&name.get_ref().as_str()) && spec.p_response.is_none() {
            return Err(at(
                name.span(),
                format!(
                    "drug `{}` is not in the catalogue ({}); a new drug needs at least `p_response` (and usually `flare_hazard_ratio`)",
                    name.get_ref(),
                    catalogue_names.join(", ")
                ),
            ));
        }
    }
    let known = |d: &str| catalogue_names.contains(&d) || drugs.keys().any(|k| k.get_ref() == d);
    let mut seen: Vec<&str> = Vec::new();
    for arm in arms {
        let name = arm.name.get_ref();
        if let Some(why) = limits::name_problem(name) {
            return Err(at(
                arm.name.span(),
                format!("arm name {} is not allowed: {why}", limits::shown(name)),
            ));
        }
        if seen.contains(&name.as_str()) {
            return Err(at(
                arm.name.span(),
                format!("two arms are named `{name}`: arm names must be unique"),
            ));
        }
        seen.push(name);
        match (&arm.ladder, arm.untreated) {
            (Some(l), true) => {
                return Err(at(
                    l.span(),
                    format!("arm `{name}` has a ladder and `untreated = true`: give one or the other"),
                ))
            }
            (None, false) => {
                return Err(at(
                    arm.name.span(),
                    format!("arm `{name}` has no `ladder`: give one, e.g. ladder = [\"nsaid\", \"pamidronate\"], or set `untreated = true` for an arm without treatment"),
                ))
            }
            (Some(l), false) if l.get_ref().is_empty() => {
                return Err(at(
                    l.span(),
                    format!("arm `{name}` has an empty ladder: list at least one step, or set `untreated = true` for an arm without treatment"),
                ))
            }
            _ => {}
        }
        let Some(ladder) = &arm.ladder else { continue };
        for step in ladder.get_ref() {
            for d in step.get_ref().split('+').map(str::trim) {
                if !known(d) {
                    let mut all: Vec<String> =
                        catalogue_names.iter().map(|s| s.to_string()).collect();
                    all.extend(drugs.keys().map(|k| k.get_ref().clone()));
                    return Err(at(
                        step.span(),
                        format!(
                            "unknown drug `{}` in the ladder of arm `{name}`: known drugs are {}; define new ones in [drugs.NAME]",
                            limits::short(d),
                            all.join(", ")
                        ),
                    ));
                }
                // The lag as set in [drugs.NAME], else the catalogue's.
                let lag = drugs
                    .iter()
                    .find(|(k, _)| k.get_ref() == d)
                    .and_then(|(_, spec)| spec.onset_lag_weeks.as_ref())
                    .or_else(|| {
                        cat.iter()
                            .find(|c| c.name == d)
                            .and_then(|c| c.spec.onset_lag_weeks.as_ref())
                    })
                    .map(|p| p.central());
                if let Some(lag) = lag {
                    if lag * 7.0 >= horizon_days {
                        let lag_key = drugs.keys().find(|k| k.get_ref() == d).and_then(|k| {
                            let from = k.span().start;
                            super::locate_key(&text[from..], "onset_lag_weeks")
                                .map(|(l, c)| (l + super::line_column(text, from).0 - 1, c))
                        });
                        return Err(Error::Invalid {
                            path: origin.to_string(),
                            location: lag_key.or(Some(super::line_column(text, step.span().start))),
                            message: format!("drug `{d}` acts only after {} weeks, beyond the horizon of {:.0} days: it could never act; shorten `onset_lag_weeks` or lengthen `horizon_years`", num(lag), horizon_days),
                        });
                    }
                }
            }
        }
        if let (Some(f), AdverseEventAtTop::Drug(d)) =
            (&arm.on_adverse_event_at_top, arm.adverse_event_at_top())
        {
            if !known(&d) {
                return Err(at(
                    f.span(),
                    format!("on_adverse_event_at_top = {} in arm `{name}` is not allowed: expected \"previous\", \"stop\" or a known drug ({})", limits::shown(&d), catalogue_names.join(", ")),
                ));
            }
        }
        // Rule fields carry no span: point at the key within this arm's table.
        let arm_start = arm.name.span().start;
        let at_key = |key: &str, message: String| Error::Invalid {
            path: origin.to_string(),
            location: super::locate_key(&text[arm_start..], key)
                .map(|(l, c)| (l + super::line_column(text, arm_start).0 - 1, c))
                .or(Some(super::line_column(text, arm_start))),
            message,
        };
        let steps = ladder.get_ref().len();
        if steps > 1 && arm.min_weeks_on_step * 7.0 >= horizon_days {
            return Err(at_key(
                "min_weeks_on_step",
                format!("arm `{name}`: min_weeks_on_step = {} reaches beyond the horizon, so escalation can never fire; lower it below {:.0} weeks", num(arm.min_weeks_on_step), horizon_days / 7.0),
            ));
        }
        if steps > 1 && arm.assess_every_weeks * 7.0 >= horizon_days {
            return Err(at_key(
                "assess_every_weeks",
                format!("arm `{name}`: assess_every_weeks = {} is beyond the horizon, so no assessment (and no escalation) can ever happen; lower it below {:.0} weeks", num(arm.assess_every_weeks), horizon_days / 7.0),
            ));
        }
        if arm.escalate_when == EscalateWhen::NotInRemission
            && arm.remission_weeks * 7.0 >= horizon_days
        {
            return Err(at_key(
                "remission_weeks",
                format!("arm `{name}`: remission_weeks = {} is beyond the horizon, so every assessment would escalate; lower it", num(arm.remission_weeks)),
            ));
        }
    }
    Ok(())
}
