//! The effects of a treatment state and its next own event: what the patient
//! loop reads at every event, so [`TreatmentState`] keeps both up to date
//! when its phase, drugs or lasting effects change instead of recomputing
//! them per event.

use super::{DrugModel, Phase, TreatmentState, MAX_DRUGS, NEVER};

/// Multipliers of the natural history in force at a moment (1 = no effect).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effects {
    /// Multiplies the relapse hazard (maintenance on a drug, lasting effects after one).
    pub flare_hazard_ratio: f64,
    /// Multiplies the symptomatic flare duration (induction; rescales the rest of a running flare too).
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

    fn combine(&mut self, d: &DrugModel, weight: f64) {
        // Non-responders get `weight` of the log effect (0: none).
        let scale = |f: f64| if weight == 1.0 { f } else { f.powf(weight) };
        self.flare_hazard_ratio *= scale(d.values.flare_hazard_ratio);
        self.flare_duration_factor *= scale(d.values.flare_duration_factor);
        self.lesion_factor *= scale(d.values.lesion_factor);
        self.heal_time_factor *= scale(d.values.heal_time_factor);
    }
}

impl TreatmentState<'_> {
    /// Brings the cached next event day and effects up to date after a
    /// change of phase, drugs or lasting effects.
    pub(super) fn refresh(&mut self) {
        self.next_day = self.compute_next_event_day();
        self.effects = self.compute_effects();
    }

    /// The lasting-effect ends of the drugs of the table (the rest of the
    /// array is never set).
    fn lasting(&self) -> &[f64] {
        &self.lasting_until[..self.drugs.len().min(MAX_DRUGS)]
    }

    fn compute_next_event_day(&self) -> f64 {
        let mut next = if matches!(self.phase, Phase::OnStep(_)) {
            self.next_assess
        } else {
            NEVER
        };
        for d in self.on.iter().flatten() {
            if !d.effect_announced {
                next = next.min(d.effect_day);
            }
            next = next.min(d.ae_day).min(d.stop_day).min(d.next_course_day);
        }
        for &until in self.lasting() {
            if until > 0.0 {
                next = next.min(until);
            }
        }
        next
    }

    fn compute_effects(&self) -> Effects {
        let mut e = Effects::NONE;
        for (d, &until) in self.lasting().iter().enumerate() {
            if until > 0.0 {
                e.flare_hazard_ratio *= self.drugs[d].values.lasting_hazard_ratio;
            }
        }
        for d in self.on.iter().flatten() {
            if !d.effect_announced {
                continue;
            }
            let drug = &self.drugs[usize::from(d.drug)];
            let weight = if d.responder {
                1.0
            } else {
                drug.values.partial_effect
            };
            if weight > 0.0 {
                e.combine(drug, weight);
            }
        }
        e
    }
}
