//! Lesions of the simulated patient: those present at onset, new ones in
//! later flares, reactivation of an old painful lesion, vertebral fractures
//! and the imaging stages each lesion goes through until it heals.
//!
//! Every change of a lesion goes through [`LesionBook`], which keeps the
//! active lesions, their pending stage changes and counts, so that events
//! touch only the lesions they concern.

mod active;
mod book;

pub(super) use active::Until;
pub(super) use book::LesionBook;

use rand::{Rng, RngCore};
use rand_distr::{Distribution, Poisson};

use crate::engine::exp1::exp1;
use crate::model::{Site, Stage};

use super::{later, split_uniform, EventKind, Lesion, Limit, Observer, Sim, NEVER};
use crate::scenario::limits::MAX_LESIONS;

impl<O: Observer, const L: bool> Sim<'_, '_, O, L> {
    /// The lesions present at onset; at least one is painful (the patient presents with pain).
    pub(super) fn draw_initial_lesions(&mut self, count: u32) {
        self.out.initial_lesions = count;
        for _ in 0..self.out.initial_lesions {
            self.add_lesion(self.g.values.p_silent_initial);
        }
        if self.scratch.book.symptomatic.is_empty() && !self.scratch.lesions.is_empty() {
            self.scratch.lesions[0].symptomatic = true;
            self.scratch.book.made_symptomatic(0);
        }
        self.obs.event(0.0, EventKind::Onset);
        for (i, l) in self.scratch.lesions.iter().enumerate() {
            self.obs.event(
                0.0,
                EventKind::LesionNew {
                    lesion: i as u32,
                    site: l.site,
                    side: l.side,
                    symptomatic: l.symptomatic,
                },
            );
        }
    }

    /// Draws whether a new lesion is silent (probability `p_silent`), its
    /// site, side and stage durations (Lesions stream) and starts it as
    /// lytic; returns its number.
    pub(super) fn add_lesion(&mut self, p_silent: f64) -> u32 {
        // Drawn from a local copy of the generator, put back at the end:
        // through `self` its state would be stored after every draw.
        let mut rng = self.rng.lesions.clone();
        let r = &mut rng;
        // One random word decides silent, site and side: its top 53 bits are
        // the uniform `random::<f64>()` makes, split into the silent chance
        // and a uniform for the site; its lowest bit, which that uniform
        // does not use, is the side.
        let word = r.next_u64();
        let mut site_u = unit_f64(word);
        let silent = split_uniform(&mut site_u, p_silent);
        let site = self.m.site_at(site_u);
        let side = if site.is_paired() {
            1 + (word & 1) as u8
        } else {
            0
        };
        let symptomatic = !silent;
        // Lytic, mixed, sclerotic: drawn in that order (with the default
        // shape, each the sum of two Exp(1) draws, as `GammaDuration` draws it).
        let base_days = match self.g.stage_erlang2_scales {
            Some([a, b, c]) => [
                (exp1(r) + exp1(r)) * a,
                (exp1(r) + exp1(r)) * b,
                (exp1(r) + exp1(r)) * c,
            ],
            None => {
                let [lytic, mixed, sclerotic] = &self.g.stage_durations;
                [lytic.sample(r), mixed.sample(r), sclerotic.sample(r)]
            }
        };
        self.rng.lesions = rng;
        let lesion = Lesion {
            site,
            side,
            symptomatic,
            stage: Stage::Lytic,
            stage_end_day: self.day + base_days[0] * self.effects.heal_time_factor,
            base_days,
            seen: false,
        };
        let i = self.scratch.lesions.len();
        self.scratch.lesions.push(lesion);
        self.scratch.book.added(i, &lesion);
        i as u32
    }

    pub(super) fn draw_new_lesions(&mut self) {
        let mean = self.g.values.new_lesions_per_flare * self.frailty * self.effects.lesion_factor;
        if mean.to_bits() != self.new_lesion_count.mean.to_bits() {
            // Built only when the mean changes, not at every flare.
            self.new_lesion_count = PoissonCount::new(mean);
        }
        let n = self.new_lesion_count.sample(&mut self.rng.lesions);
        if self.scratch.lesions.len() as u64 + n > MAX_LESIONS as u64 {
            self.out.limit = Some(Limit::Lesions);
            return;
        }
        let mut any_symptomatic = false;
        for _ in 0..n {
            let i = self.add_lesion(self.g.values.p_silent_new);
            let l = self.scratch.lesions[i as usize];
            any_symptomatic |= l.symptomatic;
            self.out.new_lesions += 1;
            self.obs.event(
                self.day,
                EventKind::LesionNew {
                    lesion: i,
                    site: l.site,
                    side: l.side,
                    symptomatic: l.symptomatic,
                },
            );
        }
        if !any_symptomatic {
            self.reactivate_lesion();
        }
    }

    /// A flare without a new painful lesion is carried by an earlier
    /// symptomatic lesion becoming active again.
    fn reactivate_lesion(&mut self) {
        let symptomatic = &self.scratch.book.symptomatic;
        let n_symptomatic = symptomatic.len();
        // With one candidate (or none) the choice draws nothing.
        let k = if n_symptomatic > 1 {
            (self.rng.lesions.random::<f64>() * n_symptomatic as f64) as usize
        } else {
            0
        };
        let Some(&i) = symptomatic.get(k.min(n_symptomatic.saturating_sub(1))) else {
            return;
        };
        let i = i as usize;
        let heal = self.effects.heal_time_factor;
        let day = self.day;
        let l = &mut self.scratch.lesions[i];
        let was_active = l.is_active();
        let was_inflamed = l.is_inflamed();
        l.stage = Stage::Lytic;
        l.stage_end_day = day + l.base_days[0] * heal;
        let book = &mut self.scratch.book;
        if was_active {
            book.rescheduled(i, l.stage_end_day);
            // A sclerotic lesion that flares again is inflamed again.
            book.inflamed += u32::from(!was_inflamed);
        } else {
            book.revived(i, l);
        }
        self.obs
            .event(day, EventKind::LesionReactivated { lesion: i as u32 });
    }

    pub(super) fn check_fractures(&mut self) {
        let p = self.g.values.p_vertebral_fracture_per_flare;
        if !L || p <= 0.0 {
            return;
        }
        // One draw per active spinal lesion, in lesion order.
        for k in 0..self.scratch.book.active.len() {
            let i = self.scratch.book.active.lesion(k);
            if self.scratch.lesions[i].site == Site::Spine && self.rng.features.random::<f64>() < p
            {
                self.out.fractures += 1;
                self.obs
                    .event(self.day, EventKind::Fracture { lesion: i as u32 });
            }
        }
    }

    /// Applies the lesions' stage changes due by `until`. Stage changes
    /// draw no random numbers and affect only their own lesion, and nothing
    /// they depend on (the flare, the healing factor) changes between loop
    /// events, so they are applied here, before the next event reads the
    /// lesions, rather than each as a loop event. A recording observer gets
    /// them in the order of their days (ties: lesion order), as if each had
    /// been an event.
    #[inline]
    pub(super) fn catch_up_lesions(&mut self, until: Until) {
        if !L || !self.scratch.book.active.any_due(until) {
            return;
        }
        let rules = StageRules {
            heal_time_factor: self.effects.heal_time_factor,
            episode_end_day: self.episode_end_day,
        };
        let scratch = &mut *self.scratch;
        let (book, lesions, log) = (
            &mut scratch.book,
            &mut scratch.lesions,
            &mut scratch.stage_log,
        );
        // Two copies of the sweep: without an observer that records, the
        // change log is compiled out.
        let (changes, cleared) = if O::RECORDS {
            book.catch_up::<true>(lesions, until, rules, log)
        } else {
            book.catch_up::<false>(lesions, until, rules, log)
        };
        self.count_events(changes);
        if let Some(day) = cleared {
            self.imaging_cleared(day);
        }
        if O::RECORDS {
            self.emit_stage_changes();
        }
    }

    /// Passes the stage changes of the last catch-up to the observer in the
    /// order of their days (a stable sort keeps each lesion's own order).
    #[cold]
    fn emit_stage_changes(&mut self) {
        let log = &mut self.scratch.stage_log;
        in_day_order(log);
        for &(day, lesion, stage) in log.iter() {
            self.obs
                .event(day, EventKind::LesionStage { lesion, stage });
        }
        log.clear();
    }

    /// Active painful lesions (for the activity score).
    pub(super) fn painful_active_lesions(&self) -> u32 {
        if !L {
            return 0;
        }
        self.scratch.book.painful_active
    }

    /// The healing factor in force changed from `old` to `new`: the rest of
    /// every running stage heals at the new speed (a painful lesion waiting
    /// for its episode to end keeps the wait; only its resolution after the
    /// episode changes), as induction rescales the rest of a running flare.
    pub(super) fn rescale_healing(&mut self, old: f64, new: f64) {
        if old <= 0.0 || old == new {
            return;
        }
        let ratio = new / old;
        let (day, episode_end) = (self.day, self.episode_end_day);
        for k in 0..self.scratch.book.active.len() {
            let i = self.scratch.book.active.lesion(k);
            let l = &mut self.scratch.lesions[i];
            let waiting = l.symptomatic
                && day < episode_end
                && l.stage >= Stage::Mixed
                && l.stage_end_day >= episode_end;
            let from = if waiting { episode_end } else { day };
            if l.stage_end_day > from {
                l.stage_end_day = from + (l.stage_end_day - from) * ratio;
                // The lesion's place in the active list is known: no search.
                self.scratch.book.active.reschedule_at(k, l.stage_end_day);
            }
        }
    }

    /// Active lesions with MRI inflammation, and those of them that are
    /// painful and those that imaging has seen (or that are painful, so
    /// clinically evident), for the PedCNO core set at a visit.
    pub(super) fn inflamed_lesions(&self) -> InflamedCount {
        let mut c = InflamedCount::default();
        if !L {
            return c;
        }
        for i in self.scratch.book.active.lesions() {
            let l = &self.scratch.lesions[i];
            if !l.is_inflamed() {
                continue;
            }
            c.painful += u32::from(l.symptomatic);
            if l.seen || l.symptomatic {
                c.seen += 1;
                c.worst = c.worst.max(match l.stage {
                    Stage::Lytic => 2,
                    _ => 1,
                });
            }
        }
        c
    }
}

/// MRI-inflamed lesions at a visit (see [`Sim::inflamed_lesions`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct InflamedCount {
    /// Painful inflamed lesions.
    pub painful: u32,
    /// Inflamed lesions seen on imaging or painful.
    pub seen: u32,
    /// Severity of the worst of those: lytic 2, mixed 1, none 0.
    pub worst: u8,
}

/// Puts a catch-up's stage changes in the order of their days, ties in
/// lesion order (they come lesion by lesion, each lesion's in its order).
fn in_day_order(log: &mut [(f64, u32, Stage)]) {
    log.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
}

/// What a lesion's stage changes depend on, constant between loop events.
#[derive(Debug, Clone, Copy)]
pub(super) struct StageRules {
    /// Multiplies the stage durations of stages starting now.
    pub heal_time_factor: f64,
    /// When the current (or last) episode of inflammation has run its
    /// natural course; drugs do not move it.
    pub episode_end_day: f64,
}

impl LesionBook {
    /// Applies every stage change due by `until` to `lesions`, keeping the
    /// book in step; returns how many there were (each one an event of the
    /// course). With `RECORD`, `log` receives `(day, lesion, new stage)` of
    /// each change but the waits for an episode's end, lesion by lesion.
    /// Also returns the day the last MRI inflammation resolved, when the
    /// sweep left no lesion inflamed and resolved at least one (no lesion
    /// becomes inflamed within a sweep, so that is the latest resolution).
    // Forced inline: a sweep is a few dozen instructions, and a call
    // saved and restored six registers around each one.
    #[inline(always)]
    pub(super) fn catch_up<const RECORD: bool>(
        &mut self,
        lesions: &mut [Lesion],
        until: Until,
        rules: StageRules,
        log: &mut Vec<(f64, u32, Stage)>,
    ) -> (u32, Option<f64>) {
        // The counts live in a local during the sweep: kept in `self` they
        // would be reloaded and stored at every change, as the compiler cannot
        // tell them apart from the lesions written in between.
        let mut tally = SweepTally {
            changes: 0,
            resolved: f64::NEG_INFINITY,
            inflamed: self.inflamed,
            painful_healed: 0,
            seen_healed: 0,
        };
        // Forced inline: the sweep has two copies (inclusive or not), and a
        // closure called from both is otherwise kept out of line.
        self.active.sweep(
            until,
            #[inline(always)]
            |i, day| tally.advance_stages::<RECORD>(&mut lesions[i], i, day, until, rules, log),
        );
        self.inflamed = tally.inflamed;
        self.painful_active -= tally.painful_healed;
        self.seen_active -= tally.seen_healed;
        let any_resolved = tally.resolved > f64::NEG_INFINITY;
        (
            tally.changes,
            (any_resolved && tally.inflamed == 0).then_some(tally.resolved),
        )
    }
}

/// What one sweep counts as it applies stage changes.
struct SweepTally {
    /// Stage changes applied (waits for an episode's end included).
    changes: u32,
    /// The latest day an inflamed lesion turned sclerotic (-inf: none).
    resolved: f64,
    /// Lesions with MRI inflammation.
    inflamed: u32,
    /// Symptomatic lesions that healed.
    painful_healed: u32,
    /// Lesions seen on imaging that healed.
    seen_healed: u32,
}

impl SweepTally {
    /// Moves lesion `l` (number `i`) through its stage changes from `day`
    /// while they are due by `until`, counting them and, with `RECORD`,
    /// recording each change in `log`. Returns the day of its next change,
    /// or `None` once healed.
    #[inline(always)]
    fn advance_stages<const RECORD: bool>(
        &mut self,
        l: &mut Lesion,
        i: usize,
        mut day: f64,
        until: Until,
        rules: StageRules,
        log: &mut Vec<(f64, u32, Stage)>,
    ) -> Option<f64> {
        loop {
            self.changes += 1;
            if let Some(wait) = episode_wait(l, day, rules) {
                // The episode's natural end is not a loop event: a wait that
                // is already due goes on in this sweep, so changes stay in
                // day order.
                l.stage_end_day = wait;
                day = wait;
                if !until.reaches(day) {
                    return Some(day);
                }
                continue;
            }
            if l.stage == Stage::Mixed {
                self.resolved = later(self.resolved, day);
                self.inflamed -= 1;
            }
            l.stage = l.stage.next();
            if RECORD {
                log.push((day, i as u32, l.stage));
            }
            let base_days = match l.stage {
                Stage::Healed => {
                    l.stage_end_day = NEVER;
                    self.painful_healed += u32::from(l.symptomatic);
                    self.seen_healed += u32::from(l.seen);
                    return None;
                }
                stage => l.base_days[stage as usize],
            };
            l.stage_end_day = day + base_days * rules.heal_time_factor;
            day = l.stage_end_day;
            if !until.reaches(day) {
                return Some(day);
            }
        }
    }
}

/// When a painful lesion due to change stage at `day` must wait for the
/// running episode of inflammation (None: it changes now). The MRI
/// inflammation of a painful lesion lasts the episode it carries: its mixed
/// stage (still inflamed) resolves a mixed-stage duration after the episode
/// has run its natural course (inflammation outlasts pain and resolves over
/// months [Miettunen2009]; assumption), and it does not heal while an
/// episode runs. Episodes are natural, so drugs that only shorten symptoms
/// move neither; healing drugs shorten the resolution through the factor.
#[inline(always)]
fn episode_wait(l: &Lesion, day: f64, rules: StageRules) -> Option<f64> {
    if !l.symptomatic || day >= rules.episode_end_day {
        return None;
    }
    match l.stage {
        Stage::Mixed => Some(rules.episode_end_day + l.base_days[1] * rules.heal_time_factor),
        Stage::Sclerotic => Some(rules.episode_end_day),
        Stage::Lytic | Stage::Healed => None,
    }
}

/// The uniform in [0, 1) that `rng.random::<f64>()` makes of the random
/// word `word` (its top 53 bits).
#[inline(always)]
fn unit_f64(word: u64) -> f64 {
    (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Poisson draw (0 for a non-positive mean, without a draw).
pub(super) fn poisson<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> u64 {
    PoissonCount::new(mean).sample(rng)
}

/// Means below this are drawn by inversion (one uniform, about `mean`
/// steps); larger ones by `rand_distr`'s rejection sampler, whose cost does
/// not grow with the mean (and `exp(-mean)` would underflow far above it).
const INVERSION_MAX_MEAN: f64 = 12.0;

/// A Poisson count with a given mean, ready to draw.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoissonCount {
    /// The mean (NaN: not set).
    pub mean: f64,
    /// How it is drawn.
    method: PoissonMethod,
}

#[derive(Debug, Clone, Copy)]
enum PoissonMethod {
    /// Always 0 (a mean that is not positive, or not finite), no draw.
    Zero,
    /// Inversion: the first `k` whose cumulative probability exceeds one
    /// uniform, starting from `P(0) = exp(-mean)`.
    Inversion { p0: f64 },
    /// `rand_distr`'s sampler, for large means.
    Large(Poisson<f64>),
}

impl PoissonCount {
    /// Not yet set: any mean differs from it.
    pub(super) const UNSET: PoissonCount = PoissonCount {
        mean: f64::NAN,
        method: PoissonMethod::Zero,
    };

    /// A Poisson count with mean `mean` (0 when it is not positive).
    pub(super) fn new(mean: f64) -> Self {
        let positive = mean > 0.0 && mean.is_finite();
        let method = if !positive {
            PoissonMethod::Zero
        } else if mean < INVERSION_MAX_MEAN {
            PoissonMethod::Inversion { p0: (-mean).exp() }
        } else {
            Poisson::new(mean).map_or(PoissonMethod::Zero, PoissonMethod::Large)
        };
        PoissonCount { mean, method }
    }

    /// One draw.
    #[inline]
    pub(super) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match self.method {
            PoissonMethod::Zero => 0,
            PoissonMethod::Inversion { p0 } => {
                let u: f64 = rng.random();
                let (mut k, mut p, mut cdf) = (0u64, p0, p0);
                while u >= cdf {
                    k += 1;
                    p *= self.mean / k as f64;
                    // The rounded cumulative sum may stop short of a `u`
                    // just below 1: once the terms vanish, stop there.
                    if p == 0.0 {
                        break;
                    }
                    cdf += p;
                }
                k
            }
            PoissonMethod::Large(d) => d.sample(rng) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{RngCore, SeedableRng};

    /// Draws by inversion have the Poisson's probability of 0, mean and
    /// variance (all λ); tolerance 4 standard errors (false alarm ~6e-5
    /// per check). Means at or above the cut-off go to `rand_distr`, and a
    /// mean that is not positive gives 0 without a draw.
    #[test]
    fn poisson_counts_have_the_poisson_moments() {
        let n = 200_000;
        for mean in [0.05, 0.5, 3.0, 11.9, 40.0] {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
            let d = PoissonCount::new(mean);
            assert_eq!(
                matches!(d.method, PoissonMethod::Large(_)),
                mean >= INVERSION_MAX_MEAN
            );
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng) as f64).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se_mean = (mean / n as f64).sqrt();
            assert!((m - mean).abs() < 4.0 * se_mean, "mean {m} for {mean}");
            // Var of the sample variance of a Poisson: (λ + 2λ²)/n.
            let se_var = ((mean + 2.0 * mean * mean) / n as f64).sqrt();
            assert!((v - mean).abs() < 4.0 * se_var, "variance {v} for {mean}");
            let p0 = (-mean).exp();
            let zeros = xs.iter().filter(|&&x| x == 0.0).count() as f64 / n as f64;
            let se_p0 = (p0 * (1.0 - p0) / n as f64).sqrt();
            assert!((zeros - p0).abs() <= 4.0 * se_p0, "P(0) {zeros} for {mean}");
        }
        for mean in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
            let before = rng.clone();
            assert_eq!(PoissonCount::new(mean).sample(&mut rng), 0);
            assert_eq!(rng, before, "a draw for mean {mean}");
        }
    }

    /// The split uniform decides the event with its probability and leaves
    /// a uniform independent of it: the rescaled value's mean and its share
    /// below 0.3 are those of a uniform on either side.
    #[test]
    fn a_split_chance_leaves_a_uniform_on_either_side() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        let (n, p) = (200_000, 0.29);
        let mut sides = [(0usize, 0.0, 0usize); 2];
        for _ in 0..n {
            let mut v = unit_f64(rng.next_u64());
            let hit = split_uniform(&mut v, p);
            assert!((0.0..=1.0).contains(&v));
            let s = &mut sides[usize::from(hit)];
            *s = (s.0 + 1, s.1 + v, s.2 + usize::from(v < 0.3));
        }
        let share = sides[1].0 as f64 / n as f64;
        assert!((share - p).abs() < 4.0 * (p * (1.0 - p) / n as f64).sqrt());
        for (k, sum, low) in sides {
            let k = k as f64;
            // A uniform's mean has sd sqrt(1/12 / k); a share 0.3's sqrt(0.21 / k).
            assert!((sum / k - 0.5).abs() < 4.0 * (1.0 / 12.0 / k).sqrt());
            assert!((low as f64 / k - 0.3).abs() < 4.0 * (0.21 / k).sqrt());
        }
    }

    /// The reference: stage changes one at a time, always the earliest due
    /// one (ties: the lowest lesion), as when each change was a loop event.
    /// Returns the changes in the order they happened and how many
    /// (waits included).
    fn one_at_a_time(
        lesions: &mut [Lesion],
        until: Until,
        rules: StageRules,
    ) -> (Vec<(f64, u32, Stage)>, u32) {
        let (mut log, mut changes) = (Vec::new(), 0);
        loop {
            let mut next: Option<(usize, f64)> = None;
            for (i, l) in lesions.iter().enumerate() {
                let d = l.stage_end_day;
                if l.is_active() && until.reaches(d) && next.map_or(true, |(_, b)| d < b) {
                    next = Some((i, d));
                }
            }
            let Some((i, day)) = next else {
                return (log, changes);
            };
            changes += 1;
            let l = &mut lesions[i];
            if l.symptomatic && day < rules.episode_end_day {
                match l.stage {
                    Stage::Mixed => {
                        l.stage_end_day =
                            rules.episode_end_day + l.base_days[1] * rules.heal_time_factor;
                        continue;
                    }
                    Stage::Sclerotic => {
                        l.stage_end_day = rules.episode_end_day;
                        continue;
                    }
                    _ => {}
                }
            }
            l.stage = l.stage.next();
            l.stage_end_day = match l.stage {
                Stage::Healed => NEVER,
                s => day + l.base_days[s as usize] * rules.heal_time_factor,
            };
            log.push((day, i as u32, l.stage));
        }
    }

    fn lesion() -> impl Strategy<Value = Lesion> {
        // Few distinct days and durations (zero included) so ties are common.
        let day = prop_oneof![3 => (0u8..8).prop_map(f64::from), 1 => 0.0f64..10.0];
        let base = prop_oneof![(0u8..4).prop_map(f64::from), 0.0f64..5.0];
        (
            0u8..4,
            any::<bool>(),
            any::<bool>(),
            day,
            [base.clone(), base.clone(), base],
        )
            .prop_map(|(stage, symptomatic, seen, day, base_days)| {
                let stage =
                    [Stage::Lytic, Stage::Mixed, Stage::Sclerotic, Stage::Healed][stage as usize];
                Lesion {
                    site: Site::Tibia,
                    side: 0,
                    symptomatic,
                    stage,
                    stage_end_day: if stage == Stage::Healed { NEVER } else { day },
                    base_days,
                    seen,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn a_catch_up_is_the_changes_one_at_a_time(
            mut lesions in prop::collection::vec(lesion(), 0..12),
            until_day in prop_oneof![(0u8..10).prop_map(f64::from), 0.0f64..12.0],
            inclusive in any::<bool>(),
            heal in prop_oneof![Just(1.0), Just(0.5), Just(0.0)],
            episode_runs in any::<bool>(),
            episode_extra in 0.001f64..5.0,
        ) {
            let until = Until { day: until_day, inclusive };
            // A running episode ends after the event about to happen; a
            // finished one ended before every change.
            let rules = StageRules {
                heal_time_factor: heal,
                episode_end_day: if episode_runs { until_day + episode_extra } else { -1.0 },
            };
            let mut book = LesionBook::default();
            for (i, l) in lesions.iter().enumerate() {
                if l.is_active() {
                    book.active.push(i, l.stage_end_day);
                    book.painful_active += u32::from(l.symptomatic);
                    book.seen_active += u32::from(l.seen);
                    book.inflamed += u32::from(l.is_inflamed());
                }
            }
            let mut expected = lesions.clone();
            let (expected_log, expected_changes) = one_at_a_time(&mut expected, until, rules);

            // The sweep without the log changes the lesions the same way.
            let (mut quiet_lesions, mut quiet_book) = (lesions.clone(), book.clone());
            let mut unused = Vec::new();
            let quiet_changes =
                quiet_book.catch_up::<false>(&mut quiet_lesions, until, rules, &mut unused);
            prop_assert!(unused.is_empty());

            let mut log = Vec::new();
            let (changes, cleared) = book.catch_up::<true>(&mut lesions, until, rules, &mut log);
            prop_assert_eq!(quiet_changes, (changes, cleared));
            prop_assert_eq!(quiet_book.active.lesions().collect::<Vec<_>>(), book.active.lesions().collect::<Vec<_>>());
            for (a, b) in quiet_lesions.iter().zip(&lesions) {
                prop_assert_eq!(a.stage, b.stage);
                prop_assert_eq!(a.stage_end_day.to_bits(), b.stage_end_day.to_bits());
            }
            in_day_order(&mut log);

            prop_assert_eq!(changes, expected_changes);
            prop_assert_eq!(&log, &expected_log);
            for (a, b) in lesions.iter().zip(&expected) {
                prop_assert_eq!(a.stage, b.stage);
                prop_assert_eq!(a.stage_end_day.to_bits(), b.stage_end_day.to_bits());
            }
            let active: Vec<usize> = (0..expected.len()).filter(|&i| expected[i].is_active()).collect();
            prop_assert_eq!(book.active.lesions().collect::<Vec<_>>(), active.clone());
            let painful = active.iter().filter(|&&i| expected[i].symptomatic).count() as u32;
            let seen = active.iter().filter(|&&i| expected[i].seen).count() as u32;
            prop_assert_eq!((book.painful_active, book.seen_active), (painful, seen));
            let inflamed = expected.iter().filter(|l| l.is_inflamed()).count() as u32;
            prop_assert_eq!(book.inflamed, inflamed);
            if let Some(day) = cleared {
                prop_assert_eq!(inflamed, 0);
                prop_assert!(day <= until_day);
            }
            prop_assert!(!book.active.any_due(until), "nothing left due");
        }
    }
}
