//! The scenario validation layer: every rule a scenario must pass beyond
//! what reading it checks, in one place and one order, each returning
//! [`Error::Invalid`] with the file, line and column of the key to blame
//! and what is allowed (or [`Error::Usage`] where a command-line option,
//! not the file, broke the rule).
//!
//! A scenario meets the rules in this order:
//!
//! 1. **Fields** (types and ranges of single values, distributions),
//!    while the TOML is read: the kinds of [`crate::scenario::dist`]
//!    (`Param<Prob>`, `checked_dist`, ...) and the deserializers of
//!    `scenario`, `treatment` and `economics` refuse a bad value at its own
//!    line and column. Every `[economics]` field is checked here;
//!    `[trial]` fields only by type (their ranges with the flags, stage 6).
//! 2. **On load** — [`validate`], run by [`crate::scenario::parse`] once
//!    per scenario text, goes through [`LOAD_RULES`]: site weights, the
//!    treatment (sizes, names, ladders and arms), the onset-age
//!    distributions' support, `[differential]`, the run size.
//! 3. **Command-line changes** — [`overrides`] (no `--patients` or
//!    `--seed` for a field the sweep varies), [`run_size_with_overrides`]
//!    (the run size with `--patients`) and [`reference_arm_option`]
//!    (`--reference-arm`, or what a shard records), called by the pipeline.
//! 4. **On resolve** — [`resolve`], run by `Study::resolve` once per
//!    study, goes through [`RESOLVE_RULES`]: the engine's drug slots, the
//!    reference arm, the `[sweep]` table (entries, values, no per-patient
//!    files, grid points). They run on the scenario as the command changed
//!    it (`--reference-arm`, a trial's usual first step put before every
//!    ladder), which is why they wait until then.
//! 5. **Sweep grid** — every grid point is a scenario that goes through
//!    stages 1-4 itself ([`sweep_point`] names the point that fails); then
//!    [`sweep_size`] counts all points and [`sweep_metric`] finds the
//!    plotted metric among the points' metrics (`study::sweep` calls them).
//! 6. **Command designs** — `crmo-sim criteria` adds [`case_mix`];
//!    `crmo-sim trial` adds [`trial_first_step`] before it puts the usual
//!    first step before every ladder (stage 4 then checks the ladders it
//!    made). The rest of the trial design (`[trial]` with its flags: sizes,
//!    endpoint, level, control arm) is checked by `trial::design`, which
//!    needs the trial's endpoints and the study's arms.

mod size;
mod sweep;
mod treatment;

pub(crate) use size::spanned_steps;
pub use size::{case_mix, overrides, run_size_with_overrides, sweep_size, PointSize};
pub use sweep::{reason, sweep_metric, sweep_point, SweepTable, SweptField};

use crate::error::{Error, Result};
use crate::scenario::differential::KNOWN_CRITERIA;
use crate::scenario::dist::num;
use crate::scenario::treatment::ArmSpec;
use crate::scenario::{arm_names_of, line_column, locate_key, LoadedScenario, SiteWeights};

/// A rule: passes, or says where the scenario breaks it.
pub type Rule = fn(&LoadedScenario) -> Result<()>;

/// The rules every loaded scenario passes, in the order they run (the
/// first broken rule is the one reported).
pub const LOAD_RULES: [(&str, Rule); 5] = [
    ("site_weights", site_weights),
    ("treatment", treatment::arms_and_ladders),
    ("onset_ages", onset_ages),
    ("differential", differential),
    ("run_size", size::run_size),
];

/// What the rules on resolve read from the scenario for the study.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Index of the reference arm among the arms.
    pub reference: usize,
    /// The `[sweep]` table, checked (None without one).
    pub sweep: Option<SweepTable>,
}

/// A rule on resolve: passes (filling in what it read), or says where
/// the scenario breaks it.
pub type ResolveRule = fn(&LoadedScenario, &mut Resolved) -> Result<()>;

/// The rules a scenario passes when it is resolved into a study, in order.
pub const RESOLVE_RULES: [(&str, ResolveRule); 3] = [
    ("engine_limits", |l, _| size::engine_limits(l)),
    ("reference_arm", |l, r| {
        r.reference = reference_arm(l)?;
        Ok(())
    }),
    ("sweep_table", |l, r| {
        r.sweep = sweep::sweep_table(l)?;
        Ok(())
    }),
];

/// Runs [`LOAD_RULES`] in order on a scenario just read.
pub fn validate(l: &LoadedScenario) -> Result<()> {
    LOAD_RULES.iter().try_for_each(|(_, rule)| rule(l))
}

/// Runs [`RESOLVE_RULES`] in order on a scenario about to become a
/// study; returns what they read.
pub fn resolve(l: &LoadedScenario) -> Result<Resolved> {
    let mut resolved = Resolved::default();
    for (_, rule) in RESOLVE_RULES {
        rule(l, &mut resolved)?;
    }
    Ok(resolved)
}

/// An error at a byte offset of the scenario text.
pub fn invalid_at(l: &LoadedScenario, offset: usize, message: String) -> Error {
    Error::Invalid {
        path: l.origin.clone(),
        location: Some(line_column(&l.text, offset)),
        message,
    }
}

/// An error at the first line that sets `key` (fields without a span).
fn at_key(l: &LoadedScenario, key: &str, message: String) -> Error {
    Error::Invalid {
        path: l.origin.clone(),
        location: locate_key(&l.text, key),
        message,
    }
}

/// Rule `site_weights`: finite, not negative, not all 0.
fn site_weights(s: &LoadedScenario) -> Result<()> {
    let weights = s.scenario.natural_history.site_weights.as_array();
    let names = SiteWeights::NAMES;
    if let Some((name, w)) = names
        .iter()
        .zip(weights)
        .find(|(_, w)| !w.is_finite() || *w < 0.0)
    {
        return Err(Error::Invalid {
            path: s.origin.clone(),
            location: locate_key(&s.text, name).or_else(|| locate_key(&s.text, "site_weights")),
            message: format!(
                "site weight {name} = {} is not allowed: weights must be finite numbers >= 0",
                num(w)
            ),
        });
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(at_key(
            s,
            "site_weights",
            "site weights must not all be 0: give at least one site a positive weight".into(),
        ));
    }
    Ok(())
}

/// Rule `onset_ages`: the onset-age distributions give ages in [0, 100].
fn onset_ages(s: &LoadedScenario) -> Result<()> {
    let onset = &s.scenario.cohort;
    for (key, d) in [
        ("onset_age_years", &onset.onset_age_years),
        ("majeed_onset_age_years", &onset.majeed_onset_age_years),
    ] {
        let (lo, hi) = d.support();
        if lo < 0.0 || hi > 100.0 {
            return Err(at_key(
                s,
                key,
                format!(
                    "{key} = {d} can give ages in [{}, {}]; ages must lie in [0, 100]: add `min`/`max` bounds",
                    num(lo),
                    num(hi)
                ),
            ));
        }
    }
    Ok(())
}

/// Rule `differential`: CRMO and at least one mimic in
/// the case mix, known and distinct criteria. Errors name file, line and column.
pub(super) fn differential(s: &LoadedScenario) -> Result<()> {
    let d = &s.scenario.differential;
    let invalid = |key: &str, message: String| Error::Invalid {
        path: s.origin.clone(),
        location: locate_key(&s.text, key).or_else(|| locate_key(&s.text, "differential")),
        message,
    };
    if d.case_mix.crmo.0 <= 0.0 {
        return Err(invalid(
            "crmo",
            "case_mix.crmo = 0 is not allowed: the criteria need CRMO patients (a share above 0)"
                .into(),
        ));
    }
    if d.case_mix.mimics() <= 0.0 {
        return Err(invalid(
            "case_mix",
            "the case mix has no mimics: give bacterial_osteomyelitis, malignant_tumour or benign_tumour a share above 0".into(),
        ));
    }
    let known: Vec<&str> = KNOWN_CRITERIA.iter().map(|c| c.0).collect();
    let list = d.criteria.as_deref().unwrap_or_default();
    for (i, c) in list.iter().enumerate() {
        let (line, column) = crate::scenario::line_column(&s.text, c.span().start);
        let at = |message: String| Error::Invalid {
            path: s.origin.clone(),
            location: Some((line, column)),
            message,
        };
        if !known.contains(&c.get_ref().as_str()) {
            return Err(at(format!(
                "unknown criterion {}: expected one of {}",
                crate::scenario::limits::shown(c.get_ref()),
                known.join(", ")
            )));
        }
        if list[..i].iter().any(|e| e.get_ref() == c.get_ref()) {
            return Err(at(format!("criterion `{}` is listed twice", c.get_ref())));
        }
    }
    if d.criteria.as_ref().is_some_and(|l| l.is_empty()) {
        return Err(invalid(
            "criteria",
            format!(
                "criteria = [] is not allowed: name at least one of {}",
                known.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The usual first step of a `first_step_failed` trial (`drugs`, from
/// `[trial] first_step`): catalogue drugs or the scenario's `[drugs.NAME]`.
pub fn trial_first_step(l: &LoadedScenario, drugs: &[String]) -> Result<()> {
    let known = crate::scenario::treatment::catalogue();
    let Some(bad) = drugs.iter().find(|d| {
        !known.iter().any(|c| c.name == d.as_str())
            && !l.scenario.drugs.iter().any(|(k, _)| k.get_ref() == *d)
    }) else {
        return Ok(());
    };
    Err(Error::Usage(format!(
        "{}: [trial] first_step: unknown drug {}: expected a catalogue drug ({}) or one of the scenario's [drugs.NAME] tables",
        l.origin,
        crate::scenario::limits::shown(bad),
        known.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
    )))
}

/// Words for an unknown reference arm: what was asked and which arms exist.
pub fn unknown_reference_arm(name: &str, arms: &[String]) -> String {
    format!(
        "{name:?} is not an arm of the scenario: arms are {}",
        arms.join(", ")
    )
}

/// A reference arm set by a command-line option (or recorded by a shard):
/// one of the scenario's arms, else a usage error.
pub fn reference_arm_option(l: &LoadedScenario, name: &str) -> Result<()> {
    let arms = arm_names_of(&l.scenario);
    if arms.iter().any(|a| a == name) {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{}: --reference-arm {}",
        l.origin,
        unknown_reference_arm(name, &arms)
    )))
}

/// Rule `reference_arm`: the index of the scenario's `reference_arm`
/// among its arms (0 without one); an unknown name is refused at its place
/// in the file (an override from the command line has no place: an empty
/// span).
pub fn reference_arm(l: &LoadedScenario) -> Result<usize> {
    let Some(name) = &l.scenario.reference_arm else {
        return Ok(0);
    };
    let names = arm_names_of(&l.scenario);
    names
        .iter()
        .position(|a| a == name.get_ref())
        .ok_or_else(|| Error::Invalid {
            path: l.origin.clone(),
            location: (!name.span().is_empty()).then(|| line_column(&l.text, name.span().start)),
            message: format!(
                "reference_arm = {}",
                unknown_reference_arm(name.get_ref(), &names)
            ),
        })
}

/// A ladder drug the drug table does not know, at the step that names it
/// (the `treatment` rule refuses these first; this is the study's own
/// guard when it resolves the ladders).
pub fn unknown_ladder_drug(
    l: &LoadedScenario,
    arm: &ArmSpec,
    unknown: &str,
    known: &[String],
) -> Error {
    let at = spanned_steps(arm)
        .into_iter()
        .find(|(_, st)| st.iter().any(|d| d == unknown))
        .map_or(arm.name.span().start, |(span, _)| span.start);
    invalid_at(
        l,
        at,
        format!(
            "unknown drug `{unknown}` in the ladder of arm `{}`: known drugs are {}",
            arm.name.get_ref(),
            known.join(", ")
        ),
    )
}
