//! One arm's strategy resolved against the drug table, and what treatment
//! yields per patient.

use crate::scenario::treatment::{
    ladder_steps, AdverseEventAtTop, ArmSpec, AtTop, EscalateWhen, OnRelapse,
};

use super::{MAX_DRUGS, NEVER};

/// What follows an adverse event on the last step of a ladder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fallback {
    /// The step before it (or the closest earlier one without an adverse event).
    #[default]
    Previous,
    /// No more treatment.
    Stop,
    /// This drug (table index).
    Drug(u16),
}

/// One arm's strategy, resolved: steps as drug indices, rules in days.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatmentPlan {
    /// Steps, each a list of drug indices.
    pub steps: Vec<Vec<u16>>,
    /// Days between assessments.
    pub assess_every_days: f64,
    /// Minimum days on a step before escalation.
    pub min_days_on_step: f64,
    /// Escalation rule.
    pub escalate_when: EscalateWhen,
    /// Days of remission that count as "in remission".
    pub remission_days: f64,
    /// Days of sustained remission before tapering.
    pub stop_after_remission_days: f64,
    /// The same for Majeed patients.
    pub stop_after_remission_days_majeed: f64,
    /// After an adverse event on the last step.
    pub adverse_event_at_top: Fallback,
    /// Relapse after tapering.
    pub on_relapse: OnRelapse,
    /// Escalation due on the last step.
    pub at_top: AtTop,
    /// Days from the start of a flare on treatment to the visit it brings.
    pub flare_visit_days: f64,
}

impl TreatmentPlan {
    /// Resolves an arm, finding each drug of its ladder by name with
    /// `index`; a name `index` does not know is returned as the error.
    pub fn from_spec(arm: &ArmSpec, index: impl Fn(&str) -> Option<u16>) -> Result<Self, String> {
        let steps = ladder_steps(arm)
            .iter()
            .map(|step| {
                step.iter()
                    .map(|d| index(d).ok_or_else(|| d.clone()))
                    .collect::<Result<Vec<u16>, String>>()
            })
            .collect::<Result<Vec<_>, String>>()?;
        let adverse_event_at_top = match arm.adverse_event_at_top() {
            AdverseEventAtTop::Previous => Fallback::Previous,
            AdverseEventAtTop::Stop => Fallback::Stop,
            AdverseEventAtTop::Drug(d) => Fallback::Drug(index(&d).ok_or(d)?),
        };
        Ok(TreatmentPlan {
            steps,
            assess_every_days: arm.assess_every_weeks * 7.0,
            min_days_on_step: arm.min_weeks_on_step * 7.0,
            escalate_when: arm.escalate_when,
            remission_days: arm.remission_weeks * 7.0,
            stop_after_remission_days: arm.stop_after_remission_weeks * 7.0,
            stop_after_remission_days_majeed: arm.stop_after_remission_weeks_majeed * 7.0,
            adverse_event_at_top,
            on_relapse: arm.on_relapse_after_stop,
            at_top: arm.at_top,
            flare_visit_days: arm.flare_visit_weeks * 7.0,
        })
    }
}

/// Per-patient treatment outcomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreatmentOutcome {
    /// Days exposed to each drug (courses count their infusion days).
    pub drug_days: [f64; MAX_DRUGS],
    /// Highest ladder step reached (1-based; 0 = never treated).
    pub steps_reached: u16,
    /// Drugs stopped for adverse events.
    pub adverse_events: u32,
    /// Flares that started while on a treatment step.
    pub flares_on_treatment: u32,
    /// Days on a treatment step.
    pub treated_days: f64,
    /// First day each drug was started (inf: never).
    pub first_start_day: [f64; MAX_DRUGS],
    /// First day a step after the first was started (inf: never).
    pub second_step_day: f64,
    /// The drug started last.
    pub last_drug: Option<u16>,
    /// Per drug: 0 not started in a flare, 1 that flare went on for 12 weeks, 2 it ended (C10).
    pub flare_ended_12_weeks: [u8; MAX_DRUGS],
    /// Per drug: 0 not observed 6 months after the start, 1 in a flare then, 2 not (C11).
    pub not_in_flare_6_months: [u8; MAX_DRUGS],
    /// Per drug: the first day on or after its first start with no lesion
    /// inflamed on MRI (inf: not within observation) (C15).
    pub mri_clear_day: [f64; MAX_DRUGS],
    /// Per drug: 0 no imaging 12 months or more after the first start, 1 the
    /// first such imaging found an inflamed lesion, 2 it found none (C14).
    pub mri_clear_12_months: [u8; MAX_DRUGS],
}

impl Default for TreatmentOutcome {
    fn default() -> Self {
        Self {
            drug_days: [0.0; MAX_DRUGS],
            steps_reached: 0,
            adverse_events: 0,
            flares_on_treatment: 0,
            treated_days: 0.0,
            first_start_day: [NEVER; MAX_DRUGS],
            second_step_day: NEVER,
            last_drug: None,
            flare_ended_12_weeks: [0; MAX_DRUGS],
            not_in_flare_6_months: [0; MAX_DRUGS],
            mri_clear_day: [NEVER; MAX_DRUGS],
            mri_clear_12_months: [0; MAX_DRUGS],
        }
    }
}
