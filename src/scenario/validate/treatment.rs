//! Treatment rules of the validation layer: counts of drug tables, arms and
//! ladder steps, drug and arm names, every ladder step a known drug, the
//! arm's rule fields (one of `ladder` or `untreated`, the fallback at the
//! top) and timings that could never fire within the horizon.

use crate::error::{Error, Result};
use crate::scenario::dist::num;
use crate::scenario::limits;
use crate::scenario::treatment::{catalogue, AdverseEventAtTop, ArmSpec, DrugTable, EscalateWhen};
use crate::scenario::LoadedScenario;

/// Rule `treatment`: drugs and arms against each other and the horizon.
pub(super) fn arms_and_ladders(l: &LoadedScenario) -> Result<()> {
    let s = &l.scenario;
    validate_treatment(
        &s.drugs,
        &s.arm,
        s.horizon_years * 365.25,
        &l.text,
        &l.origin,
    )
}

/// Checks drugs and arms against each other and the horizon.
fn validate_treatment(
    drugs: &DrugTable,
    arms: &[ArmSpec],
    horizon_days: f64,
    text: &str,
    origin: &str,
) -> Result<()> {
    let cat = catalogue();
    let catalogue_names: Vec<&str> = cat.iter().map(|c| c.name).collect();
    let at = |span: std::ops::Range<usize>, message: String| Error::Invalid {
        path: origin.to_string(),
        location: Some(crate::scenario::line_column(text, span.start)),
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
                            crate::scenario::locate_key(&text[from..], "onset_lag_weeks").map(
                                |(l, c)| (l + crate::scenario::line_column(text, from).0 - 1, c),
                            )
                        });
                        return Err(Error::Invalid {
                            path: origin.to_string(),
                            location: lag_key.or(Some(crate::scenario::line_column(text, step.span().start))),
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
            location: crate::scenario::locate_key(&text[arm_start..], key)
                .map(|(l, c)| (l + crate::scenario::line_column(text, arm_start).0 - 1, c))
                .or(Some(crate::scenario::line_column(text, arm_start))),
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

/// Checks the counts of drug tables, arms and ladder steps against
/// [`limits`] (drugs per step and per scenario are rule `engine_limits`);
/// returns the span to blame and the message.
fn check_sizes(
    drugs: &DrugTable,
    arms: &[ArmSpec],
) -> std::result::Result<(), (std::ops::Range<usize>, String)> {
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
