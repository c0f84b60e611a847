//! The active (not healed) lesions in lesion order, each with the day of its
//! next stage change, and a lower bound on the earliest of those days.
//!
//! Scans that draw random numbers per lesion walk this list (so they keep
//! lesion order and skip healed lesions). Stage changes are applied in
//! sweeps over the list when the patient's lesions are next looked at
//! ([`ActiveLesions::sweep`]); the lower bound lets the engine skip a sweep
//! when nothing is due, without keeping the exact earliest day up to date
//! at every change.

use super::NEVER;

/// Active lesions, ascending, with their stage-change days.
#[derive(Debug, Clone)]
pub(in crate::engine::patient) struct ActiveLesions {
    /// `(stage_end_day, lesion)`, ascending lesion.
    entries: Vec<(f64, u32)>,
    /// No entry's day is before this one (it may be earlier than all of them).
    due: f64,
}

impl Default for ActiveLesions {
    fn default() -> Self {
        ActiveLesions {
            entries: Vec::new(),
            due: NEVER,
        }
    }
}

/// Up to when pending stage changes are applied: those before `day`, and
/// those on `day` itself when `inclusive` (the event about to happen comes
/// after a stage change on the same day).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::engine::patient) struct Until {
    /// The day of the event about to happen.
    pub day: f64,
    /// Stage changes on `day` come first.
    pub inclusive: bool,
}

impl Until {
    /// True if a change on `day` is due.
    #[inline(always)]
    pub(in crate::engine::patient) fn reaches(self, day: f64) -> bool {
        // `a < b || a == b` is `a <= b` for every pair of floats: one
        // comparison whichever `inclusive` is.
        if self.inclusive {
            day <= self.day
        } else {
            day < self.day
        }
    }
}

impl ActiveLesions {
    /// Empties the list for the next patient (keeps the buffer).
    pub(in crate::engine::patient) fn clear(&mut self) {
        self.entries.clear();
        self.due = NEVER;
    }

    /// Number of active lesions.
    #[inline]
    pub(in crate::engine::patient) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The `k`-th active lesion in lesion order.
    #[inline]
    pub(in crate::engine::patient) fn lesion(&self, k: usize) -> usize {
        self.entries[k].1 as usize
    }

    /// The active lesions in lesion order.
    pub(in crate::engine::patient) fn lesions(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries.iter().map(|e| e.1 as usize)
    }

    /// True if some stage change may be due by `until`.
    #[inline(always)]
    pub(in crate::engine::patient) fn any_due(&self, until: Until) -> bool {
        until.reaches(self.due)
    }

    /// A new lesion, numbered above every other, changes stage on `day`.
    #[inline]
    pub(in crate::engine::patient) fn push(&mut self, lesion: usize, day: f64) {
        debug_assert!(self
            .entries
            .last()
            .map_or(true, |e| (e.1 as usize) < lesion));
        self.entries.push((day, lesion as u32));
        self.lower_due(day);
    }

    /// Active lesion `lesion` now changes stage on `day`.
    #[inline]
    pub(in crate::engine::patient) fn reschedule(&mut self, lesion: usize, day: f64) {
        if let Ok(at) = self.search(lesion) {
            self.entries[at].0 = day;
            self.lower_due(day);
        }
    }

    /// The `k`-th active lesion (in lesion order) now changes stage on `day`.
    #[inline]
    pub(in crate::engine::patient) fn reschedule_at(&mut self, k: usize, day: f64) {
        self.entries[k].0 = day;
        self.lower_due(day);
    }

    /// Healed lesion `lesion` is active again and changes stage on `day`.
    pub(in crate::engine::patient) fn insert(&mut self, lesion: usize, day: f64) {
        match self.search(lesion) {
            Ok(at) => self.entries[at].0 = day,
            Err(at) => self.entries.insert(at, (day, lesion as u32)),
        }
        self.lower_due(day);
    }

    /// Keeps [`Self::due`] a lower bound after an entry moved to `day`
    /// (days are never NaN, so a plain `<` is `f64::min`).
    #[inline(always)]
    fn lower_due(&mut self, day: f64) {
        if day < self.due {
            self.due = day;
        }
    }

    fn search(&self, lesion: usize) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&(lesion as u32), |e| e.1)
    }

    /// Hands every lesion with a change due by `until` to `advance` (lesion,
    /// day of its change), in lesion order. `advance` returns the lesion's
    /// next change day, or `None` once it has healed (it leaves the list).
    #[inline]
    pub(in crate::engine::patient) fn sweep(
        &mut self,
        until: Until,
        advance: impl FnMut(usize, f64) -> Option<f64>,
    ) {
        // `Until::reaches` as a single comparison (`a < b || a == b` is
        // `a <= b` for every pair of floats), so the scan of the mostly
        // not-due entries is one compare each.
        let day = until.day;
        if until.inclusive {
            self.sweep_where(|d| d <= day, advance);
        } else {
            self.sweep_where(|d| d < day, advance);
        }
    }

    /// [`Self::sweep`] with "due" given as a predicate on the change day.
    /// Most entries are not due, so the scan writes only the days that
    /// change and marks healed lesions, which leave the list afterwards.
    #[inline(always)]
    fn sweep_where(
        &mut self,
        is_due: impl Fn(f64) -> bool,
        mut advance: impl FnMut(usize, f64) -> Option<f64>,
    ) {
        let mut due = NEVER;
        let mut any_healed = false;
        for (day, lesion) in self.entries.iter_mut() {
            if is_due(*day) {
                match advance(*lesion as usize, *day) {
                    Some(next) => *day = next,
                    None => {
                        *lesion = HEALED;
                        any_healed = true;
                        continue;
                    }
                }
            }
            // The lowest day (days are never NaN, so a plain `<` is `f64::min`).
            if *day < due {
                due = *day;
            }
        }
        if any_healed {
            self.entries.retain(|e| e.1 != HEALED);
        }
        self.due = due;
    }
}

/// Marks an entry whose lesion healed during a sweep (no lesion has this
/// number: lesions are capped far below it).
const HEALED: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_keeps_lesion_order_and_drops_healed_lesions() {
        let mut list = ActiveLesions::default();
        for (i, d) in [9.0, 5.0, 7.0, 5.0].into_iter().enumerate() {
            list.push(i, d);
        }
        let until = Until {
            day: 7.0,
            inclusive: false,
        };
        assert!(list.any_due(until));
        let mut seen = Vec::new();
        // Lesion 1 heals; lesion 3 moves to day 20.
        list.sweep(until, |i, d| {
            seen.push((i, d));
            (i == 3).then_some(20.0)
        });
        assert_eq!(seen, vec![(1, 5.0), (3, 5.0)]);
        assert_eq!(list.lesions().collect::<Vec<_>>(), vec![0, 2, 3]);
        assert!(!list.any_due(until));
        assert!(list.any_due(Until {
            day: 7.0,
            inclusive: true
        }));
        list.insert(1, 6.0);
        list.reschedule(3, 1.0);
        assert_eq!(list.lesions().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert!(list.any_due(Until {
            day: 1.5,
            inclusive: false
        }));
    }
}
