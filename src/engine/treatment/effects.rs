//! The effects of a treatment state and its next own event: what the patient
//! loop reads at every event, so [`TreatmentState`] keeps both up to date
//! when its phase, drugs or lasting effects change instead of recomputing
//! them per event. The effects (products over drugs) are recomputed only
//! when a drug or lasting effect changed; the next event day from per-drug
//! earliest days and the earliest lasting-effect end.

use super::{DrugModel, OnDrug, Phase, TreatmentState, MAX_DRUGS, NEVER};

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

    pub(super) fn combine(&mut self, d: &DrugModel, weight: f64) {
        // Non-responders get `weight` of the log effect (0: none).
        let scale = |f: f64| if weight == 1.0 { f } else { f.powf(weight) };
        self.flare_hazard_ratio *= scale(d.values.flare_hazard_ratio);
        self.flare_duration_factor *= scale(d.values.flare_duration_factor);
        self.lesion_factor *= scale(d.values.lesion_factor);
        self.heal_time_factor *= scale(d.values.heal_time_factor);
    }
}

/// The earlier of two days (inf if neither), as [`earliest`].
pub(super) fn earliest_of(a: f64, b: f64) -> f64 {
    earliest([a, b])
}

/// The earliest of `days` (inf if none): the same day as folding them with
/// `f64::min` from inf, NaN included (skipped by both), with one compare each.
pub(super) fn earliest(days: impl IntoIterator<Item = f64>) -> f64 {
    let mut first = NEVER;
    for d in days {
        if d < first {
            first = d;
        }
    }
    first
}

impl OnDrug {
    /// Brings `due` up to date after a change of this drug's events; the
    /// next course is left out of it when `courses_deferred` (given late,
    /// [`TreatmentState::give_courses_before`]).
    pub(super) fn update_due(&mut self, courses_deferred: bool) {
        let effect = if self.effect_announced {
            NEVER
        } else {
            self.effect_day
        };
        let course = if courses_deferred {
            NEVER
        } else {
            self.next_course_day
        };
        self.due = earliest([effect, self.ae_day, self.stop_day, course]);
    }
}

impl TreatmentState<'_> {
    /// Brings the cached next event day up to date after a change of
    /// phase, drugs, lasting effects or what an assessment decides, and the
    /// effects if they went stale.
    #[inline]
    pub(super) fn refresh(&mut self) {
        if self.drugs_stale {
            self.drugs_due = earliest(self.slot_due);
            self.courses_next = earliest(self.slot_course);
            self.drugs_stale = false;
        }
        self.refresh_assess_day();
        self.next_day = earliest([self.assess_day, self.drugs_due, self.lasting_next]);
        if self.effects_stale {
            let new = self.compute_effects();
            self.changed |= new != self.effects;
            self.effects = new;
            self.effects_stale = false;
        }
    }

    /// Brings the next event day up to date after a flare started or
    /// ended on a step, which changes only what the assessments decide:
    /// the drugs, lasting effects and effects are up to date (every event
    /// before ended with a refresh), so only the scan is taken again.
    #[inline]
    pub(super) fn rescan_assessments(&mut self) {
        debug_assert!(!self.drugs_stale && !self.effects_stale);
        debug_assert!(matches!(self.phase, Phase::OnStep(_)));
        let stop = earliest_of(self.drugs_due, self.lasting_next).min(self.horizon_days);
        self.assess_day = self.first_acting_assessment(self.next_assess, stop);
        self.assess_capped = self.assess_day >= stop;
        self.assess_stale = false;
        self.next_day = earliest([self.assess_day, self.drugs_due, self.lasting_next]);
    }

    /// Brings [`TreatmentState::assess_day`] up to date: a new scan from
    /// the next assessment when what the assessments decide changed, the
    /// scan taken on from where it ended when it ended at an event that
    /// has passed, else nothing (the days it passed still change nothing,
    /// and none of them is needed again).
    #[inline]
    fn refresh_assess_day(&mut self) {
        let stop = earliest_of(self.drugs_due, self.lasting_next).min(self.horizon_days);
        let from = if self.assess_stale {
            self.assess_stale = false;
            if !matches!(self.phase, Phase::OnStep(_)) {
                self.assess_day = NEVER;
                self.assess_capped = false;
                return;
            }
            self.next_assess
        } else if self.assess_capped && self.assess_day < stop {
            self.assess_day
        } else {
            return;
        };
        self.assess_day = self.first_acting_assessment(from, stop);
        self.assess_capped = self.assess_day >= stop;
    }

    /// Notes a change of `lasting_until`: its earliest end and the effects.
    pub(super) fn lasting_changed(&mut self) {
        self.lasting_next = self
            .lasting()
            .iter()
            .filter(|&&until| until > 0.0)
            .fold(NEVER, |next, &until| next.min(until));
        self.any_lasting = self.lasting().iter().any(|&until| until > 0.0);
        self.effects_stale = true;
    }

    /// Ends the lasting effects due by `day`.
    pub(super) fn expire_lasting(&mut self, day: f64) {
        let n = self.drugs.len().min(MAX_DRUGS);
        for until in self.lasting_until[..n].iter_mut() {
            if *until > 0.0 && *until <= day {
                *until = 0.0;
            }
        }
        self.lasting_changed();
    }

    /// The lasting-effect ends of the drugs of the table (the rest of the
    /// array is never set).
    pub(super) fn lasting(&self) -> &[f64] {
        &self.lasting_until[..self.drugs.len().min(MAX_DRUGS)]
    }

    /// The effects of the lasting effects and the drugs given, multiplied
    /// in a fixed order (drug table, then slots) so they are reproducible.
    #[inline(never)]
    pub(super) fn compute_effects(&self) -> Effects {
        let mut e = Effects::NONE;
        // Without a lasting effect (the usual case) its loop multiplies nothing.
        if self.any_lasting {
            for (d, &until) in self.lasting().iter().enumerate() {
                if until > 0.0 {
                    e.flare_hazard_ratio *= self.drugs[d].values.lasting_hazard_ratio;
                }
            }
        }
        // The slots given, in slot order (lowest bit first).
        let mut given = self.slots_used;
        while given != 0 {
            let slot = given.trailing_zeros() as usize;
            given &= given - 1;
            let Some(d) = &self.on[slot] else {
                continue;
            };
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
