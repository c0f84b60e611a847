//! `[[arm]]` in scenario files: one treatment strategy, its ladder and the
//! rules that move a patient along it (assessment, escalation, taper,
//! relapse, adverse events), with their defaults and allowed ranges.

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::*;
/// When an assessment escalates to the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalateWhen {
    /// The patient is in a flare at the assessment.
    Active,
    /// The patient has not been in remission for `remission_weeks` at the assessment.
    NotInRemission,
    /// Lack of response: in a flare at the assessment, and either the step's
    /// drugs brought no relief (the patient responds to none of them) or
    /// this is the third flare on the step within a year.
    NoResponse,
}

/// What happens on a relapse after treatment was tapered off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRelapse {
    /// Restart the step that was tapered (the last effective one).
    Restart,
    /// Start the step after it.
    Escalate,
}

/// What happens when escalation is due on the last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtTop {
    /// Stay on the last step.
    Continue,
    /// Stop all treatment.
    Stop,
}

/// `[[arm]]`: one treatment strategy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    /// Name in the `arm` column.
    pub name: Spanned<String>,
    /// Steps, first to last; a step is a drug name or drugs joined by `+`.
    #[serde(default)]
    pub ladder: Option<Spanned<Vec<Spanned<String>>>>,
    /// An arm without any treatment (for comparisons with no treatment).
    #[serde(default)]
    pub untreated: bool,
    /// Weeks between assessments.
    #[serde(default = "default_assess", deserialize_with = "positive_weeks")]
    pub assess_every_weeks: f64,
    /// Minimum weeks on a step before escalation.
    #[serde(default = "default_min_weeks", deserialize_with = "non_negative_weeks")]
    pub min_weeks_on_step: f64,
    /// The escalation rule.
    #[serde(default = "default_escalate")]
    pub escalate_when: EscalateWhen,
    /// Weeks of remission that count as "in remission" for `not_in_remission`.
    #[serde(
        default = "default_remission_weeks",
        deserialize_with = "non_negative_weeks"
    )]
    pub remission_weeks: f64,
    /// Weeks of sustained remission after which treatment is tapered off (inf: never).
    #[serde(
        default = "default_stop_after",
        deserialize_with = "positive_weeks_or_inf"
    )]
    pub stop_after_remission_weeks: f64,
    /// What a relapse after tapering does.
    #[serde(default = "default_on_relapse")]
    pub on_relapse_after_stop: OnRelapse,
    /// What escalation on the last step does.
    #[serde(default = "default_at_top")]
    pub at_top: AtTop,
    /// After an adverse event on the last step: `"previous"` (the step before,
    /// default), `"stop"` (no more treatment) or a drug name.
    #[serde(default)]
    pub on_adverse_event_at_top: Option<Spanned<String>>,
    /// Weeks of sustained remission after which Majeed patients are tapered off
    /// (inf, the default: the disease does not burn out [Majeed]).
    #[serde(
        default = "default_stop_after_majeed",
        deserialize_with = "positive_weeks_or_inf"
    )]
    pub stop_after_remission_weeks_majeed: f64,
    /// Weeks from the start of a flare on treatment to the clinic visit it
    /// brings (an assessment, between the scheduled ones).
    #[serde(
        default = "default_flare_visit",
        deserialize_with = "non_negative_weeks"
    )]
    pub flare_visit_weeks: f64,
}

/// The fallback after an adverse event on the last step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdverseEventAtTop {
    /// Go back to the step before (skipping drugs that caused adverse events).
    Previous,
    /// Stop treatment.
    Stop,
    /// Switch to this drug.
    Drug(String),
}

impl ArmSpec {
    /// The arm's fallback after an adverse event on the last step.
    pub fn adverse_event_at_top(&self) -> AdverseEventAtTop {
        match self
            .on_adverse_event_at_top
            .as_ref()
            .map(|s| s.get_ref().as_str())
        {
            None | Some("previous") => AdverseEventAtTop::Previous,
            Some("stop") => AdverseEventAtTop::Stop,
            Some(d) => AdverseEventAtTop::Drug(d.to_string()),
        }
    }
}

fn default_stop_after_majeed() -> f64 {
    f64::INFINITY
}

/// A relapse brings the patient to clinic within two weeks (assumption: the
/// sources give no figure; a flare on treatment is seen at once, not at the
/// next 12-weekly visit).
fn default_flare_visit() -> f64 {
    2.0
}

fn default_assess() -> f64 {
    12.0
}
fn default_min_weeks() -> f64 {
    12.0
}
fn default_escalate() -> EscalateWhen {
    EscalateWhen::NoResponse
}
fn default_remission_weeks() -> f64 {
    12.0
}
fn default_stop_after() -> f64 {
    52.0
}
fn default_on_relapse() -> OnRelapse {
    OnRelapse::Restart
}
fn default_at_top() -> AtTop {
    AtTop::Continue
}

fn weeks<'de, D: Deserializer<'de>>(
    d: D,
    ok: fn(f64) -> bool,
    allowed: &str,
) -> Result<f64, D::Error> {
    let v = crate::scenario::NumberLike::deserialize(d)?.0;
    if ok(v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "{} weeks is not allowed: expected {allowed}",
            num(v)
        )))
    }
}

/// Longest rule time of an arm, weeks (a century).
const MAX_RULE_WEEKS: f64 = 5200.0;

/// Assessments are at most weekly, so a patient's assessments stay countable.
fn positive_weeks<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    weeks(
        d,
        |v| (1.0..=MAX_RULE_WEEKS).contains(&v),
        "a number of weeks from 1 (weekly) to 5200",
    )
}

fn non_negative_weeks<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    weeks(
        d,
        |v| (0.0..=MAX_RULE_WEEKS).contains(&v),
        "a number of weeks from 0 to 5200",
    )
}

fn positive_weeks_or_inf<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    weeks(
        d,
        |v| v == f64::INFINITY || (v > 0.0 && v <= MAX_RULE_WEEKS),
        "a number of weeks greater than 0 and at most 5200, or inf for never",
    )
}
