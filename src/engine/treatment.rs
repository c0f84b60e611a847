//! Treatment of one patient: the drug effects in force and the strategy's
//! state machine. The patient loop asks it for its next scheduled event and
//! tells it about flares and diagnosis; it answers with the effects in force.

use super::patient::{EventKind, Observer};

/// Multipliers of the natural history in force at a moment (1 = no effect).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effects {
    /// Multiplies the flare hazard in remission.
    pub flare_hazard_ratio: f64,
    /// Multiplies the duration of flares that start now.
    pub flare_duration_factor: f64,
    /// Multiplies the mean number of new lesions per flare.
    pub lesion_factor: f64,
    /// Multiplies lesion stage durations that start now (< 1 heals faster).
    pub heal_time_factor: f64,
}

impl Effects {
    /// No treatment effect.
    pub const NONE: Effects = Effects {
        flare_hazard_ratio: 1.0,
        flare_duration_factor: 1.0,
        lesion_factor: 1.0,
        heal_time_factor: 1.0,
    };
}

/// What the patient loop tells the strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreatmentTrigger {
    /// The patient was diagnosed.
    Diagnosis,
    /// A flare started.
    FlareStart,
    /// A flare ended.
    FlareEnd,
    /// The strategy's own scheduled event is due.
    Scheduled,
}

/// Per-patient treatment outcomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreatmentOutcome {}

/// A resolved treatment strategy (one arm's ladder and rules).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreatmentPlan {}

/// The treatment state of one patient.
#[derive(Debug, Clone, Default)]
pub struct TreatmentState {}

impl TreatmentState {
    /// A patient's fresh state under `plan`.
    pub fn new(
        _plan: &TreatmentPlan,
        _model: &super::model_values::ReplicateModel,
        _patient: u64,
    ) -> Self {
        TreatmentState {}
    }

    /// The next day on which the strategy acts by itself.
    pub fn next_event_day(&self) -> f64 {
        f64::INFINITY
    }

    /// Reacts to what happened to the patient.
    pub fn on<O: Observer>(
        &mut self,
        _trigger: TreatmentTrigger,
        _day: f64,
        _in_flare: bool,
        _obs: &mut O,
        _intervals: &mut Vec<(u16, f64, f64)>,
    ) {
    }

    /// The effects in force now.
    pub fn effects(&self) -> Effects {
        Effects::NONE
    }

    /// Closes open drug intervals at the end of observation.
    pub fn close<O: Observer>(
        &mut self,
        _day: f64,
        _intervals: &mut Vec<(u16, f64, f64)>,
        _obs: &mut O,
    ) {
        let _ = EventKind::End;
    }

    /// The outcomes gathered.
    pub fn outcome(&self) -> TreatmentOutcome {
        TreatmentOutcome {}
    }
}
