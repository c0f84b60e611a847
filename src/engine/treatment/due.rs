//! What the strategy does when its own events fall due: the end of
//! lasting effects, each drug's effect onset, course, adverse event and
//! end, then the assessment. Drugs and lasting effects with nothing due
//! are skipped by their cached earliest days.

use super::{effects, Intervals, Observer, Phase, StopReason, TreatmentState, MAX_STEP_DRUGS};

impl TreatmentState<'_> {
    /// Handles everything due at `day`, drug by drug, then the assessment.
    pub(super) fn scheduled<O: Observer>(
        &mut self,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        if self.lasting_next <= day {
            self.expire_lasting(day);
        }
        if self.courses_next < day {
            self.give_courses_before(day, obs);
        }
        let due = effects::earliest_of(self.drugs_due, self.courses_next);
        if due <= day && self.drugs_due_by(day, obs, intervals) {
            return;
        }
        if let Phase::OnStep(_) = self.phase {
            if self.next_assess <= day {
                self.assess(day, obs, intervals);
            }
        }
    }

    /// Handles the drugs' own events due by `day`: effect onset, course,
    /// adverse event, end of the drug. True after an adverse event: the
    /// change of step it causes replaces that day's assessment.
    fn drugs_due_by<O: Observer>(
        &mut self,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) -> bool {
        for slot in 0..MAX_STEP_DRUGS {
            // Drugs with nothing due are skipped by their slot's due days
            // alone (a copy of the slot only when due).
            if self.slot_due[slot] > day && self.slot_course[slot] > day {
                continue;
            }
            let Some(mut d) = self.on[slot] else {
                continue;
            };
            if !d.effect_announced && d.effect_day <= day {
                self.announce_effect(&mut d, day, obs);
            }
            if d.next_course_day <= day {
                self.give_course(&mut d, day, obs);
            }
            self.store_slot::<O>(slot, d);
            if d.ae_day <= day {
                self.stop_slot(slot, day, StopReason::AdverseEvent, obs, intervals);
                self.outcome.adverse_events += 1;
                self.had_adverse_event |= 1 << d.drug;
                self.after_adverse_event(Some(d.drug), day, obs, intervals);
                return true;
            }
            if d.stop_day <= day {
                self.stop_slot(slot, day, StopReason::CourseEnd, obs, intervals);
            }
        }
        false
    }
}
