//! What the engine keeps up to date about the patient's lesions so that no
//! event has to walk every lesion the patient ever had: the active lesions
//! in lesion order with their pending stage changes, the symptomatic ones,
//! and the counts that checkpoints and the activity score read.

use super::active::ActiveLesions;
use super::Lesion;

/// Indexes over `Scratch::lesions` of the current patient, kept in step
/// with every change of a lesion's stage, end day or flags.
#[derive(Debug, Default, Clone)]
pub(in crate::engine::patient) struct LesionBook {
    /// Active lesions with their next stage change.
    pub(in crate::engine::patient) active: ActiveLesions,
    /// Symptomatic lesions (healed or not), ascending.
    pub(in crate::engine::patient) symptomatic: Vec<u32>,
    /// Active symptomatic lesions.
    pub(in crate::engine::patient) painful_active: u32,
    /// Active lesions seen on imaging.
    pub(in crate::engine::patient) seen_active: u32,
    /// Lesions with MRI inflammation (lytic or mixed).
    pub(in crate::engine::patient) inflamed: u32,
}

impl LesionBook {
    /// Forgets the previous patient (keeps the buffers).
    pub(in crate::engine::patient) fn clear(&mut self) {
        self.active.clear();
        self.symptomatic.clear();
        self.painful_active = 0;
        self.seen_active = 0;
        self.inflamed = 0;
    }

    /// Lesion `i`, the highest number so far, has just appeared (active).
    #[inline]
    pub(in crate::engine::patient) fn added(&mut self, i: usize, l: &Lesion) {
        self.active.push(i, l.stage_end_day);
        if l.symptomatic {
            self.symptomatic.push(i as u32);
        }
        self.count_in(l);
    }

    /// Lesion `i` (active, silent so far) is made symptomatic.
    pub(in crate::engine::patient) fn made_symptomatic(&mut self, i: usize) {
        if let Err(at) = self.symptomatic.binary_search(&(i as u32)) {
            self.symptomatic.insert(at, i as u32);
            self.painful_active += 1;
        }
    }

    /// An active lesion has been seen for the first time.
    #[inline]
    pub(in crate::engine::patient) fn seen(&mut self) {
        self.seen_active += 1;
    }

    /// Active lesion `i` has a new stage end.
    #[inline]
    pub(in crate::engine::patient) fn rescheduled(&mut self, i: usize, day: f64) {
        self.active.reschedule(i, day);
    }

    /// Healed lesion `i` (`l` after the change) is active again.
    pub(in crate::engine::patient) fn revived(&mut self, i: usize, l: &Lesion) {
        self.active.insert(i, l.stage_end_day);
        self.count_in(l);
    }

    #[inline]
    fn count_in(&mut self, l: &Lesion) {
        self.painful_active += u32::from(l.symptomatic);
        self.seen_active += u32::from(l.seen);
        self.inflamed += u32::from(l.is_inflamed());
    }
}
