//! The active (not healed) lesions in lesion order, each with the day of its
//! next stage change, and the earliest of those changes.
//!
//! Scans that draw random numbers per lesion walk this list (so they keep
//! lesion order and skip healed lesions); the earliest change is cached and
//! recomputed only when the lesion holding it changes, by a scan of this
//! compact list rather than of every lesion the patient ever had.

use super::NEVER;

/// Marks "no pending change" in [`ActiveLesions::first`].
const NONE: usize = usize::MAX;

/// Active lesions, ascending, with their stage-change days.
#[derive(Debug, Clone)]
pub(in crate::engine::patient) struct ActiveLesions {
    /// `(stage_end_day, lesion)`, ascending lesion.
    entries: Vec<(f64, u32)>,
    /// Position in `entries` of the earliest day (ties: the lowest lesion),
    /// [`NONE`] when no day is before [`NEVER`].
    first: usize,
}

impl Default for ActiveLesions {
    fn default() -> Self {
        ActiveLesions {
            entries: Vec::new(),
            first: NONE,
        }
    }
}

impl ActiveLesions {
    /// Empties the list for the next patient (keeps the buffer).
    pub(in crate::engine::patient) fn clear(&mut self) {
        self.entries.clear();
        self.first = NONE;
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

    /// The earliest stage change as `(lesion, day)`, or `(0, NEVER)` when
    /// none is pending (what a scan of all lesions in order returns).
    #[inline]
    pub(in crate::engine::patient) fn first(&self) -> (usize, f64) {
        match self.entries.get(self.first) {
            Some(&(day, lesion)) => (lesion as usize, day),
            None => (0, NEVER),
        }
    }

    /// A new lesion, numbered above every other, changes stage on `day`.
    #[inline]
    pub(in crate::engine::patient) fn push(&mut self, lesion: usize, day: f64) {
        debug_assert!(self
            .entries
            .last()
            .map_or(true, |e| (e.1 as usize) < lesion));
        self.entries.push((day, lesion as u32));
        // Highest lesion number: it wins only with a strictly earlier day.
        if day < self.first_day() {
            self.first = self.entries.len() - 1;
        }
    }

    /// Active lesion `lesion` now changes stage on `day`.
    #[inline]
    pub(in crate::engine::patient) fn reschedule(&mut self, lesion: usize, day: f64) {
        let Some(at) = self.position(lesion) else {
            return;
        };
        let old = self.entries[at].0;
        self.entries[at].0 = day;
        if at == self.first {
            // Still the earliest unless it moved later.
            if day > old || day.is_nan() {
                self.rescan();
            }
        } else {
            self.consider(at);
        }
    }

    /// Healed lesion `lesion` is active again and changes stage on `day`.
    pub(in crate::engine::patient) fn insert(&mut self, lesion: usize, day: f64) {
        let Err(at) = self.search(lesion) else {
            return self.reschedule(lesion, day);
        };
        self.entries.insert(at, (day, lesion as u32));
        if self.first != NONE && at <= self.first {
            self.first += 1;
        }
        self.consider(at);
    }

    /// Lesion `lesion` has healed: it leaves the list.
    #[inline]
    pub(in crate::engine::patient) fn remove(&mut self, lesion: usize) {
        let Some(at) = self.position(lesion) else {
            return;
        };
        self.entries.remove(at);
        if at == self.first {
            self.rescan();
        } else if self.first != NONE && at < self.first {
            self.first -= 1;
        }
    }

    fn first_day(&self) -> f64 {
        self.entries.get(self.first).map_or(NEVER, |e| e.0)
    }

    /// Makes the entry at `at` the earliest if it comes before the cached one.
    #[inline]
    fn consider(&mut self, at: usize) {
        let (day, first_day) = (self.entries[at].0, self.first_day());
        // A cached earliest day is always before NEVER, so a tie needs one.
        let tie_before = self.first != NONE && day == first_day && at < self.first;
        if day < first_day || tie_before {
            self.first = at;
        }
    }

    /// Where lesion `lesion` is in `entries` (the earliest is the usual one).
    #[inline]
    fn position(&self, lesion: usize) -> Option<usize> {
        match self.entries.get(self.first) {
            Some(e) if e.1 as usize == lesion => Some(self.first),
            _ => self.search(lesion).ok(),
        }
    }

    fn search(&self, lesion: usize) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&(lesion as u32), |e| e.1)
    }

    /// The earliest day by a scan in lesion order; a strict `<` keeps the
    /// lowest lesion on ties.
    fn rescan(&mut self) {
        let mut best = NEVER;
        self.first = NONE;
        for (k, &(day, _)) in self.entries.iter().enumerate() {
            if day < best {
                best = day;
                self.first = k;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: a scan of every lesion in order keeping the first
    /// strictly earlier day of an active one (how the engine found the next
    /// lesion event before this list existed).
    fn scan(days: &[Option<f64>]) -> (usize, f64) {
        days.iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|d| (i, d)))
            .fold((0, NEVER), |b, (i, d)| if d < b.1 { (i, d) } else { b })
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A new lesion.
        Add(f64),
        /// Lesion `i % count` gets a new day (heals and comes back as needed).
        Set(usize, f64),
        Heal(usize),
    }

    fn day() -> impl Strategy<Value = f64> {
        // Few distinct days so that ties are common; NEVER included.
        prop_oneof![
            3 => (0u8..6).prop_map(f64::from),
            1 => Just(NEVER),
            2 => 0.0f64..1000.0,
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => day().prop_map(Op::Add),
            3 => (any::<usize>(), day()).prop_map(|(i, d)| Op::Set(i, d)),
            2 => any::<usize>().prop_map(Op::Heal),
        ]
    }

    proptest! {
        // Cheap cases: many of them.
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn first_is_what_a_scan_finds(ops in prop::collection::vec(op(), 0..300)) {
            let mut list = ActiveLesions::default();
                let mut days: Vec<Option<f64>> = Vec::new();
            for op in ops {
                match op {
                    Op::Add(d) => {
                        list.push(days.len(), d);
                        days.push(Some(d));
                    }
                    Op::Set(i, d) if !days.is_empty() => {
                        let i = i % days.len();
                        if days[i].is_some() {
                            list.reschedule(i, d);
                        } else {
                            list.insert(i, d);
                        }
                        days[i] = Some(d);
                    }
                    Op::Heal(i) if !days.is_empty() => {
                        let i = i % days.len();
                        list.remove(i);
                        days[i] = None;
                    }
                    _ => {}
                }
                prop_assert_eq!(list.first(), scan(&days));
                let active: Vec<usize> =
                    days.iter().enumerate().filter(|(_, d)| d.is_some()).map(|(i, _)| i).collect();
                prop_assert_eq!(list.lesions().collect::<Vec<_>>(), active);
            }
        }
    }

    #[test]
    fn ties_go_to_the_lower_lesion() {
        let mut list = ActiveLesions::default();
        for (i, d) in [9.0, 5.0, 5.0, 5.0].into_iter().enumerate() {
            list.push(i, d);
        }
        assert_eq!(list.first(), (1, 5.0));
        list.remove(1);
        assert_eq!(list.first(), (2, 5.0));
        list.reschedule(2, 9.0);
        assert_eq!(list.first(), (3, 5.0));
        list.insert(1, 5.0);
        assert_eq!(list.first(), (1, 5.0));
        list.remove(1);
        list.remove(3);
        assert_eq!(list.first(), (0, 9.0));
        list.reschedule(0, NEVER);
        list.reschedule(2, NEVER);
        assert_eq!(list.first(), (0, NEVER));
    }
}
