//! Lesions of the simulated patient: those present at onset, new ones in
//! later flares, reactivation of an old painful lesion, vertebral fractures
//! and the imaging stages each lesion goes through until it heals.
//!
//! Every change of a lesion goes through [`LesionBook`], which keeps the
//! active lesions, their pending stage changes and counts, so that events
//! touch only the lesions they concern.

mod active;
mod book;

pub(super) use book::LesionBook;

use rand::Rng;
use rand_distr::{Distribution, Poisson};

use crate::model::{Site, Stage};

use super::{EventKind, Lesion, Limit, Observer, Sim, NEVER};
use crate::scenario::limits::MAX_LESIONS;

impl<O: Observer> Sim<'_, '_, O> {
    /// The lesions present at onset; at least one is painful (the patient presents with pain).
    pub(super) fn draw_initial_lesions(&mut self, count: u32) {
        self.out.initial_lesions = count;
        for _ in 0..self.out.initial_lesions {
            let silent = self.rng.lesions.random::<f64>() < self.g.values.p_silent_initial;
            self.add_lesion(!silent);
        }
        if self.scratch.book.symptomatic.is_empty() {
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

    /// Draws a new lesion's site, side and stage durations (Lesions stream)
    /// and starts it as lytic; returns its number.
    pub(super) fn add_lesion(&mut self, symptomatic: bool) -> u32 {
        let r = &mut self.rng.lesions;
        let site = self.m.draw_site(r);
        let side_u: f64 = r.random();
        let side = if site.is_paired() {
            1 + u8::from(side_u < 0.5)
        } else {
            0
        };
        // Lytic, mixed, sclerotic: drawn in that order.
        let [lytic, mixed, sclerotic] = &self.g.stage_durations;
        let base_days = [lytic.sample(r), mixed.sample(r), sclerotic.sample(r)];
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
        if mean.to_bits() != self.new_lesion_count.0.to_bits() {
            // Same draws as `poisson(mean, ..)`, without rebuilding the
            // distribution at every flare.
            let dist = (mean > 0.0).then(|| Poisson::new(mean).ok()).flatten();
            self.new_lesion_count = (mean, dist);
        }
        let n = self
            .new_lesion_count
            .1
            .map_or(0, |d| d.sample(&mut self.rng.lesions) as u64);
        if self.scratch.lesions.len() as u64 + n > MAX_LESIONS as u64 {
            self.out.limit = Some(Limit::Lesions);
            return;
        }
        let mut any_symptomatic = false;
        for _ in 0..n {
            let silent = self.rng.lesions.random::<f64>() < self.g.values.p_silent_new;
            let i = self.add_lesion(!silent);
            any_symptomatic |= !silent;
            self.out.new_lesions += 1;
            let l = self.scratch.lesions[i as usize];
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
        let k = (self.rng.lesions.random::<f64>() * n_symptomatic as f64) as usize;
        let Some(&i) = symptomatic.get(k.min(n_symptomatic.saturating_sub(1))) else {
            return;
        };
        let i = i as usize;
        let heal = self.effects.heal_time_factor;
        let day = self.day;
        let l = &mut self.scratch.lesions[i];
        let was_active = l.is_active();
        l.stage = Stage::Lytic;
        l.stage_end_day = day + l.base_days[0] * heal;
        let book = &mut self.scratch.book;
        if was_active {
            book.rescheduled(i, l.stage_end_day);
        } else {
            book.revived(i, l);
        }
        self.obs
            .event(day, EventKind::LesionReactivated { lesion: i as u32 });
    }

    pub(super) fn check_fractures(&mut self) {
        let p = self.g.values.p_vertebral_fracture_per_flare;
        if p <= 0.0 {
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

    pub(super) fn advance_lesion(&mut self, i: usize, day: f64) {
        let heal = self.effects.heal_time_factor;
        let (in_flare, flare_end) = (self.in_flare, self.flare.end_day);
        let l = &mut self.scratch.lesions[i];
        if l.stage == Stage::Sclerotic && l.symptomatic && in_flare {
            // A painful lesion does not heal while the flare it carries goes
            // on: healing waits for the end of the flare.
            l.stage_end_day = flare_end.max(day);
            self.scratch.book.rescheduled(i, l.stage_end_day);
            return;
        }
        l.stage = l.stage.next();
        l.stage_end_day = match l.stage {
            Stage::Healed => NEVER,
            s => day + l.base_days[s as usize] * heal,
        };
        let stage = l.stage;
        let book = &mut self.scratch.book;
        if l.is_active() {
            book.rescheduled(i, l.stage_end_day);
        } else {
            book.healed(i, l);
        }
        self.obs.event(
            day,
            EventKind::LesionStage {
                lesion: i as u32,
                stage,
            },
        );
    }

    /// Active painful lesions (for the activity score).
    pub(super) fn painful_active_lesions(&self) -> u32 {
        self.scratch.book.painful_active
    }
}

/// Poisson draw via `rand_distr` (0 for a non-positive mean).
pub(super) fn poisson<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean).map_or(0, |d| d.sample(rng) as u64)
}
