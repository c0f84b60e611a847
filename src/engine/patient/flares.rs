//! The course of a model in which only the flare process is live: no
//! lesions, flare features that draw nothing (fixed pain, no fever, CRP
//! never raised), no associated conditions, no burnout, no diagnosis (so no
//! imaging, checkpoints, loss to follow-up or treatment). Frailty, a
//! baseline draw, may vary. What is left is a renewal process of flares and
//! remissions, which this module runs as a loop of its own, alternating the
//! two without the general loop's candidate events.
//!
//! It draws the same numbers in the same order as the general loop
//! ([`super::simulate`]) and gives the same [`Outcome`], segments and
//! events for every patient (tests below): it is how such a model runs
//! faster, not a different model.

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use crate::model::Genotype;
use crate::scenario::limits::MAX_EVENTS;

use super::super::model_values::{GenotypeModel, ReplicateModel};
use super::super::outcome::activity_score;
use super::super::rng::Purpose;
use super::super::units::round_nonnegative;
use super::{
    EventKind, Limit, Observer, Outcome, Scratch, Segment, State, C8_DAYS, NEVER, NORMAL_CRP_MG_L,
};

/// Whether every patient of `m` without treatment runs on this kernel:
/// each genotype the cohort has leaves every part but the flare process
/// (and frailty) inert.
pub(super) fn applies(m: &ReplicateModel) -> bool {
    !m.has_lesions()
        && (m.majeed_frac >= 1.0 || flares_only(&m.sporadic))
        && (m.majeed_frac <= 0.0 || flares_only(&m.majeed))
}

/// Whether a genotype's course is the flare process alone: nothing drawn
/// per flare but its duration and the time to the next, no event but
/// flare starts and ends.
fn flares_only(g: &GenotypeModel) -> bool {
    let v = &g.values;
    g.resolution.is_none()
        && !g.can_diagnose()
        && v.pain_sd_vas <= 0.0
        && v.p_fever <= 0.0
        && v.p_crp_raised <= 0.0
        && g.p_condition_at_onset.iter().all(|&p| p <= 0.0)
        && g.condition_per_day.iter().all(|&h| h <= 0.0)
}

/// What every flare of a genotype has in common when its features draw nothing.
#[derive(Clone, Copy)]
struct FixedFeatures {
    pain: f64,
    crp_mg_l: f64,
    activity: f64,
}

impl FixedFeatures {
    /// The features the general loop gives every flare of `g`: the mean
    /// pain (clamped to the scale), no fever, the normal CRP.
    fn of(g: &GenotypeModel) -> Self {
        let pain = g.values.pain_mean_vas.clamp(1.0, 10.0);
        let crp_x10 = round_nonnegative(NORMAL_CRP_MG_L * 10.0) as u32;
        let crp_mg_l = f64::from(crp_x10) / 10.0;
        FixedFeatures {
            pain,
            crp_mg_l,
            activity: activity_score(pain, false, crp_mg_l, 0),
        }
    }
}

/// Simulates patient `patient` of `m` (for which [`applies`] holds), with
/// no treatment.
pub(super) fn simulate<O: Observer>(
    m: &ReplicateModel,
    patient: u64,
    scratch: &mut Scratch,
    obs: &mut O,
) -> Outcome {
    let key = &m.key;
    let mut baseline = key.stream(patient, Purpose::Baseline);
    let genotype = if baseline.random::<f64>() < m.majeed_frac {
        Genotype::Majeed
    } else {
        Genotype::Sporadic
    };
    let g = m.genotype(genotype);
    scratch.lesions.clear();
    scratch.book.clear();
    scratch.segments.clear();
    scratch.drug_intervals.clear();
    let mut out = Outcome {
        patient,
        genotype: Some(genotype),
        ..Outcome::default()
    };
    // The baseline draws that matter: the rest of the general loop's
    // baseline draws (clocks of inert parts) decide nothing here.
    out.female = baseline.random::<f64>() < m.female_frac;
    let age_dist = match genotype {
        Genotype::Sporadic => &m.onset_age,
        Genotype::Majeed => &m.majeed_onset_age,
    };
    out.onset_age_years = age_dist.sample(&mut baseline);
    out.frailty = g.frailty.as_ref().map_or(1.0, |d| d.sample(&mut baseline));
    obs.event(0.0, EventKind::Onset);
    let mut course = Course {
        g,
        features: FixedFeatures::of(g),
        hazard: g.flare_hazard_per_day * out.frailty,
        horizon: m.horizon_days,
        timing: key.stream(patient, Purpose::FlareTiming),
        flare_features: key.stream(patient, Purpose::FlareFeatures),
        segments: &mut scratch.segments,
        obs,
        out,
        day: 0.0,
        segment_start: 0.0,
        flare_start: 0.0,
        flare_end: 0.0,
        episode_end: 0.0,
        hazard_budget: 0.0,
        prev_flare_end: None,
        events: 0,
    };
    course.run();
    course.out
}

/// The patient being simulated.
struct Course<'a, O: Observer> {
    g: &'a GenotypeModel,
    features: FixedFeatures,
    /// Relapse hazard per day (baseline × frailty; no drug changes it).
    hazard: f64,
    horizon: f64,
    timing: super::super::rng::Stream,
    flare_features: super::super::rng::Stream,
    segments: &'a mut Vec<Segment>,
    obs: &'a mut O,
    out: Outcome,
    day: f64,
    segment_start: f64,
    flare_start: f64,
    /// End of the symptomatic flare: the episode's natural end (no drug
    /// shortens it).
    flare_end: f64,
    episode_end: f64,
    /// Exp(1) mass before the next episode.
    hazard_budget: f64,
    prev_flare_end: Option<f64>,
    /// Loop events so far (capped by [`MAX_EVENTS`], as in the general loop).
    events: u32,
}

impl<O: Observer> Course<'_, O> {
    /// Flares and remissions in turn, each ended by the next event or the
    /// horizon (which ends the course before an event due on its day).
    fn run(&mut self) {
        self.start_flare(true);
        loop {
            if self.counted_past_limit() {
                return self.finish(true);
            }
            if !(self.flare_end < self.horizon) {
                self.day = self.horizon;
                return self.finish(true);
            }
            self.day = self.flare_end;
            self.end_flare();
            if self.counted_past_limit() {
                return self.finish(false);
            }
            let start = self.next_flare_start();
            if !(start < self.horizon) {
                self.day = self.horizon;
                return self.finish(false);
            }
            self.day = start;
            self.start_flare(false);
        }
    }

    /// Counts one more loop event; true once past [`MAX_EVENTS`].
    #[inline(always)]
    fn counted_past_limit(&mut self) -> bool {
        self.events = self.events.saturating_add(1);
        if self.events > MAX_EVENTS {
            self.out.limit = Some(Limit::Events);
            return true;
        }
        false
    }

    /// Once the episode has run its course, the hazard budget is spent at
    /// the patient's hazard (never, without hazard).
    #[inline(always)]
    fn next_flare_start(&self) -> f64 {
        if self.hazard <= 0.0 {
            return NEVER;
        }
        self.day.max(self.episode_end) + self.hazard_budget / self.hazard
    }

    /// Closes the open segment at the current day, if it is not empty.
    #[inline(always)]
    fn close_segment(&mut self, state: State) {
        if self.day > self.segment_start {
            let (pain, activity) = if state == State::Active {
                (self.features.pain, self.features.activity)
            } else {
                (0.0, 0.0)
            };
            self.segments.push(Segment {
                start_day: self.segment_start,
                end_day: self.day,
                state,
                pain,
                activity,
            });
        }
        self.segment_start = self.day;
    }

    #[inline(always)]
    fn start_flare(&mut self, at_onset: bool) {
        self.close_segment(State::Remission);
        let (day, out) = (self.day, &mut self.out);
        out.flares += 1;
        if day < C8_DAYS {
            out.flares_first_5_3_years += 1;
        }
        if !at_onset {
            // Disease-free since the last episode ran its course (no lesion
            // is ever inflamed on MRI).
            let inactive_from = self.episode_end.max(0.0);
            out.longest_inactive_gap_days = out.longest_inactive_gap_days.max(day - inactive_from);
        }
        if out.first_remission_day.is_some() && out.first_relapse_day.is_none() {
            out.first_relapse_day = Some(day);
        }
        let natural = if at_onset {
            self.g.first_flare_duration.sample(&mut self.flare_features)
        } else {
            self.g.flare_duration.sample(&mut self.flare_features)
        };
        self.episode_end = day + natural;
        self.flare_start = day;
        self.flare_end = day + natural;
        self.hazard_budget = Exp1.sample(&mut self.timing);
        self.obs.event(
            day,
            EventKind::FlareStart {
                pain: self.features.pain,
                fever: false,
                crp_mg_l: self.features.crp_mg_l,
            },
        );
    }

    #[inline(always)]
    fn end_flare(&mut self) {
        self.close_segment(State::Active);
        let day = self.day;
        self.out.flare_days += day - self.flare_start;
        self.prev_flare_end = Some(day);
        if self.out.first_remission_day.is_none() {
            self.out.first_remission_day = Some(day);
        }
        self.obs.event(day, EventKind::FlareEnd);
    }

    /// Ends observation at the current day, in a flare or not.
    fn finish(&mut self, in_flare: bool) {
        let day = self.day;
        if in_flare {
            self.out.flare_days += day - self.flare_start;
            self.close_segment(State::Active);
        } else {
            self.close_segment(State::Remission);
        }
        let out = &mut self.out;
        out.observed_days = day;
        out.burnout_day = NEVER;
        out.active_at_end = in_flare;
        out.last_flare_end_day = if in_flare {
            day
        } else {
            self.prev_flare_end.unwrap_or(0.0)
        };
        self.obs.event(day, EventKind::End);
    }
}

#[cfg(test)]
mod tests;
