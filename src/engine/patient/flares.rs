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
//! events for every patient (`flares/tests.rs`): it is how such a model
//! runs faster, not a different model. Its segments go to any
//! [`Segments`] sink as they close, so the time series can take them
//! without their being stored.

use rand::Rng;
use rand_distr::Distribution;

use super::super::exp1::exp1;

use crate::model::Genotype;
use crate::scenario::limits::MAX_EVENTS;

use super::super::model_values::{GammaDuration, GenotypeModel, ReplicateModel};
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

/// The pain of every flare of `m`'s patients under an arm without
/// treatment, when it is one fixed value (the patients run on this kernel
/// and every genotype the cohort has gives the same pain): what lets the
/// pain sums of the time series be counted instead of added.
pub fn fixed_flare_pain(m: &ReplicateModel) -> Option<f64> {
    if !applies(m) {
        return None;
    }
    let sporadic = FixedFeatures::of(&m.sporadic).pain;
    let majeed = FixedFeatures::of(&m.majeed).pain;
    match (m.majeed_frac <= 0.0, m.majeed_frac >= 1.0) {
        (true, _) => Some(sporadic),
        (_, true) => Some(majeed),
        _ => (sporadic == majeed).then_some(sporadic),
    }
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

/// Where a course's state segments go as they close.
pub trait Segments {
    /// Whether an empty segment (ending where it starts) may be pushed,
    /// changing nothing: then the course need not test for one at every
    /// segment. A sink that keeps the segments must not take them.
    const TAKES_EMPTY: bool = false;

    /// Takes the next segment (segments come in time order, each starting
    /// where the one before ended).
    fn push(&mut self, segment: Segment);

    /// Takes the next segment of a course, which starts where the last
    /// segment pushed ended (or at day 0, the course's first): what lets a
    /// sink reuse what it found for that end.
    #[inline(always)]
    fn push_next(&mut self, segment: Segment) {
        self.push(segment);
    }
}

impl Segments for Vec<Segment> {
    #[inline(always)]
    fn push(&mut self, segment: Segment) {
        Vec::push(self, segment);
    }
}

/// Simulates patient `patient` of `m` (for which [`applies`] holds), with
/// no treatment; `scratch` holds the course's segments afterwards.
pub(super) fn simulate<O: Observer>(
    m: &ReplicateModel,
    patient: u64,
    scratch: &mut Scratch,
    obs: &mut O,
) -> Outcome {
    scratch.lesions.clear();
    scratch.book.clear();
    scratch.segments.clear();
    scratch.drug_intervals.clear();
    let mut outcome = Outcome::default();
    simulate_into(m, patient, &mut scratch.segments, obs, &mut outcome);
    outcome
}

/// [`simulate_patient`](super::simulate_patient) without treatment for a
/// model where [`runs_on_flare_kernel`](super::runs_on_flare_kernel)
/// holds: [`simulate`], the segments going to `segments` as they close (a
/// consumer of segments, the time series, can take them without their
/// being stored), and the outcome written to `out`: only the fields a
/// course on this kernel can change are written, so the others must be at
/// their defaults ([`Outcome::default`]), as they stay in a slot that only
/// this kernel writes. That spares building and copying a whole
/// [`Outcome`] per patient. Inlined into its caller.
#[inline(always)]
pub fn simulate_into<O: Observer, S: Segments>(
    m: &ReplicateModel,
    patient: u64,
    segments: &mut S,
    obs: &mut O,
    out: &mut Outcome,
) {
    let key = &m.key;
    let mut baseline = key.stream(patient, Purpose::Baseline);
    let genotype = if baseline.random::<f64>() < m.majeed_frac {
        Genotype::Majeed
    } else {
        Genotype::Sporadic
    };
    let g = m.genotype(genotype);
    // The baseline draws that matter: the rest of the general loop's
    // baseline draws (clocks of inert parts) decide nothing here.
    let female = baseline.random::<f64>() < m.female_frac;
    let age_dist = match genotype {
        Genotype::Sporadic => &m.onset_age,
        Genotype::Majeed => &m.majeed_onset_age,
    };
    let onset_age_years = age_dist.sample(&mut baseline);
    let frailty = g.frailty.as_ref().map_or(1.0, |d| d.sample(&mut baseline));
    obs.event(0.0, EventKind::Onset);
    let course = Course {
        g,
        features: FixedFeatures::of(g),
        hazard: g.flare_hazard_per_day * frailty,
        horizon: m.horizon_days,
        timing: key.stream(patient, Purpose::FlareTiming),
        flare_features: key.stream(patient, Purpose::FlareFeatures),
    };
    // The exponential durations of the two-state model are drawn without
    // the choice of sampler at every flare.
    let end = match g.flare_duration {
        GammaDuration::Erlang { k: 1, scale } => course.run(Exponential(scale), segments, obs),
        ref any => course.run(any, segments, obs),
    };
    let c = end.counts;
    out.patient = patient;
    out.genotype = Some(genotype);
    out.female = female;
    out.onset_age_years = onset_age_years;
    out.frailty = frailty;
    out.flares = c.flares;
    out.flares_first_5_3_years = c.flares_first_5_3_years;
    out.flare_days = c.flare_days;
    out.longest_inactive_gap_days = c.longest_inactive_gap_days;
    out.first_remission_day = c.first_remission_day;
    out.first_relapse_day = c.first_relapse_day;
    out.observed_days = end.day;
    out.burnout_day = NEVER;
    out.active_at_end = end.in_flare;
    out.last_flare_end_day = if end.in_flare {
        end.day
    } else {
        end.last_flare_end
    };
    out.limit = end.limit;
}

/// The natural duration of a flare after the first.
trait Duration {
    fn sample(&self, rng: &mut super::super::rng::Stream) -> f64;
}

/// Exponential durations of this mean: what
/// [`GammaDuration::Erlang`] of shape 1 draws.
struct Exponential(f64);

impl Duration for Exponential {
    #[inline(always)]
    fn sample(&self, rng: &mut super::super::rng::Stream) -> f64 {
        let a = exp1(rng);
        a * self.0
    }
}

impl Duration for &GammaDuration {
    #[inline(always)]
    fn sample(&self, rng: &mut super::super::rng::Stream) -> f64 {
        Distribution::sample(*self, rng)
    }
}

/// How a course ended.
struct End {
    counts: Counts,
    /// End of observation.
    day: f64,
    in_flare: bool,
    /// End of the last flare that ended (what the outcome's
    /// `last_flare_end_day` says when the course ends out of a flare).
    last_flare_end: f64,
    limit: Option<Limit>,
}

/// What a patient's course runs on: fixed for the patient.
struct Course<'a> {
    g: &'a GenotypeModel,
    features: FixedFeatures,
    /// Relapse hazard per day (baseline × frailty; no drug changes it).
    hazard: f64,
    horizon: f64,
    timing: super::super::rng::Stream,
    flare_features: super::super::rng::Stream,
}

/// What the course has counted, written to the [`Outcome`] at its end.
struct Counts {
    flares: u32,
    flares_first_5_3_years: u32,
    flare_days: f64,
    longest_inactive_gap_days: f64,
    first_remission_day: Option<f64>,
    first_relapse_day: Option<f64>,
}

/// Flares started before the general loop's event cap stops the course.
/// The general loop counts two events a cycle of [`Course::run`]'s loop,
/// at the cycle's start (event `2j + 1` of cycle `j`, the cycle that ends
/// flare `j + 1`) and after the flare's end (event `2j + 2`); the cap
/// being even, the count first passes it at a cycle's start, in cycle
/// `MAX_EVENTS / 2`, when that many flares and one more have started: so
/// that is the one check needed.
const MAX_FLARES: u32 = MAX_EVENTS / 2;
const _: () = assert!(
    MAX_EVENTS % 2 == 0,
    "the event cap is passed at a cycle's start"
);

/// The open segment of the course: where it started.
struct Open<'s, S> {
    start: f64,
    segments: &'s mut S,
}

impl<S: Segments> Open<'_, S> {
    /// Closes the open segment at `day` if it is not empty, and opens the next.
    #[inline(always)]
    fn close(&mut self, day: f64, state: State, features: &FixedFeatures) {
        if S::TAKES_EMPTY || day > self.start {
            let (pain, activity) = if state == State::Active {
                (features.pain, features.activity)
            } else {
                (0.0, 0.0)
            };
            self.segments.push_next(Segment {
                start_day: self.start,
                end_day: day,
                state,
                pain,
                activity,
            });
        }
        self.start = day;
    }
}

/// A flare of the course.
#[derive(Clone, Copy)]
struct Flare {
    start: f64,
    /// Its natural end (no drug shortens it), which is also where the
    /// episode has run its course.
    end: f64,
    /// The hazard budget of the remission after it.
    budget: f64,
}

/// Cycles whose draws are made ahead, together: the next flares' natural
/// durations, then their hazard budgets, each from its own stream in the
/// order the general loop draws them. Drawing them in a loop of their own
/// keeps each stream's state in registers while it draws, out of the way
/// of the cycles' own work. The draws of a course's last cycles that it
/// does not reach are never used (the streams are the patient's, for this
/// purpose only), so no number the course uses changes.
const AHEAD: usize = 4;

/// The draws of [`AHEAD`] cycles.
struct Ahead {
    naturals: [f64; AHEAD],
    budgets: [f64; AHEAD],
}

const _: () = assert!(
    MAX_FLARES % AHEAD as u32 == 0,
    "the flare cap is passed at a block's start"
);

impl Ahead {
    #[inline(always)]
    fn draw<D: Duration>(
        later: &D,
        flare_features: &mut super::super::rng::Stream,
        timing: &mut super::super::rng::Stream,
    ) -> Ahead {
        let mut ahead = Ahead {
            naturals: [0.0; AHEAD],
            budgets: [0.0; AHEAD],
        };
        for natural in &mut ahead.naturals {
            *natural = later.sample(flare_features);
        }
        for budget in &mut ahead.budgets {
            *budget = exp1(timing);
        }
        ahead
    }
}

/// When a remission that starts at `day` with hazard budget `budget` ends.
trait Relapse: Copy {
    fn after(self, day: f64, budget: f64) -> f64;
}

/// The budget is spent at this hazard per day (> 0).
#[derive(Clone, Copy)]
struct Hazard(f64);

impl Relapse for Hazard {
    #[inline(always)]
    fn after(self, day: f64, budget: f64) -> f64 {
        // The general loop spends the budget from `day.max(episode_end)`,
        // which is `day`: the remission starts where the episode ends.
        day + budget / self.0
    }
}

/// No hazard: a remission never ends.
#[derive(Clone, Copy)]
struct NoRelapse;

impl Relapse for NoRelapse {
    #[inline(always)]
    fn after(self, _: f64, _: f64) -> f64 {
        NEVER
    }
}

/// How a course ends: `(day, in a flare, limit)`.
type Stop = (f64, bool, Option<Limit>);

/// What the course keeps as its flares end and remissions run: the
/// state of [`Course::run`]'s loop besides the current flare.
struct FlareEnds<'s, S, R> {
    open: Open<'s, S>,
    features: FixedFeatures,
    relapse: R,
    horizon: f64,
    /// Remissions ending at or after this bound are looked at more
    /// closely: past the horizon the course ends; past 5.3 years, the
    /// flares started so far are those of the first 5.3 years.
    bound: f64,
    flare_days: f64,
    longest_gap: f64,
    first_5_3_years: Option<u32>,
}

impl<S: Segments, R: Relapse> FlareEnds<'_, S, R> {
    /// Ends `flare`, the course's `flares`-th, and runs the remission
    /// after it: the day the next flare starts, or how the course ends
    /// first.
    #[inline(always)]
    fn end<O: Observer>(&mut self, flare: &Flare, flares: u32, obs: &mut O) -> Result<f64, Stop> {
        // The horizon comes first on its day (no time here is NaN).
        if flare.end >= self.horizon {
            return Err((self.horizon, true, None));
        }
        let day = flare.end;
        self.open.close(day, State::Active, &self.features);
        self.flare_days += day - flare.start;
        obs.event(day, EventKind::FlareEnd);
        let start = self.relapse.after(day, flare.budget);
        if start >= self.bound {
            if start >= self.horizon {
                return Err((self.horizon, false, None));
            }
            self.first_5_3_years = Some(flares);
            self.bound = self.horizon;
        }
        self.open.close(start, State::Remission, &self.features);
        // Disease-free since the episode ran its course (no lesion is ever
        // inflamed on MRI, so the general loop's `episode_end.max(0.0)` is
        // the flare's end, which is >= 0). Neither side is NaN, so a
        // comparison is `f64::max`.
        let gap = start - day;
        if gap > self.longest_gap {
            self.longest_gap = gap;
        }
        Ok(start)
    }
}

impl Course<'_> {
    /// Flares and remissions in turn, each ended by the next event or the
    /// horizon (which ends the course before an event due on its day).
    /// Whether remissions end at all is decided here, once per patient.
    #[inline(always)]
    fn run<D: Duration, O: Observer, S: Segments>(
        self,
        later: D,
        segments: &mut S,
        obs: &mut O,
    ) -> End {
        let hazard = self.hazard;
        if hazard > 0.0 {
            self.run_with(later, Hazard(hazard), segments, obs)
        } else {
            self.run_with(later, NoRelapse, segments, obs)
        }
    }

    /// [`Course::run`] with remissions ended by `relapse`. The state lives
    /// in locals: this loop is all a patient costs. What the general loop
    /// notes at some cycles only (the first remission and relapse, the
    /// flares of the first 5.3 years) is found outside the loop's common
    /// path.
    #[inline(always)]
    fn run_with<D: Duration, R: Relapse, O: Observer, S: Segments>(
        mut self,
        later: D,
        relapse: R,
        segments: &mut S,
        obs: &mut O,
    ) -> End {
        let horizon = self.horizon;
        // The flare at onset (no segment before it to close).
        let natural = self.g.first_flare_duration.sample(&mut self.flare_features);
        let budget = exp1(&mut self.timing);
        let mut flare = self.start_flare(0.0, natural, budget, obs);
        let first = flare;
        let mut flares = 1;
        let mut ends = FlareEnds {
            open: Open {
                start: 0.0,
                segments,
            },
            features: self.features,
            relapse,
            horizon,
            bound: horizon.min(C8_DAYS),
            flare_days: 0.0,
            longest_gap: 0.0,
            first_5_3_years: None,
        };
        let (day, in_flare, limit) = 'course: loop {
            // A block of cycles starts with a multiple of AHEAD flares and
            // one more started: the cap is passed here if anywhere.
            if flares > MAX_FLARES {
                break 'course (flare.start, true, Some(Limit::Events));
            }
            // The block's first remission comes before its draws: a course
            // that ends there makes none.
            let start = match ends.end(&flare, flares, obs) {
                Ok(start) => start,
                Err(end) => break 'course end,
            };
            let ahead = Ahead::draw(&later, &mut self.flare_features, &mut self.timing);
            flare = self.start_flare(start, ahead.naturals[0], ahead.budgets[0], obs);
            flares += 1;
            for k in 1..AHEAD {
                let start = match ends.end(&flare, flares, obs) {
                    Ok(start) => start,
                    Err(end) => break 'course end,
                };
                flare = self.start_flare(start, ahead.naturals[k], ahead.budgets[k], obs);
                flares += 1;
            }
        };
        let FlareEnds {
            mut open,
            features,
            mut flare_days,
            longest_gap,
            first_5_3_years,
            ..
        } = ends;
        // The end of observation, in a flare or not.
        if in_flare {
            flare_days += day - flare.start;
            open.close(day, State::Active, &features);
        } else {
            open.close(day, State::Remission, &features);
        }
        obs.event(day, EventKind::End);
        // The first flare ended (the first remission) if a second one
        // started or the course ended out of it; the second flare (the
        // first relapse) started where the first remission ended.
        let first_remission_day = (flares > 1 || !in_flare).then_some(first.end);
        let first_relapse_day = (flares > 1).then(|| relapse.after(first.end, first.budget));
        End {
            counts: Counts {
                flares,
                flares_first_5_3_years: first_5_3_years.unwrap_or(flares),
                flare_days,
                longest_inactive_gap_days: longest_gap,
                first_remission_day,
                first_relapse_day,
            },
            day,
            in_flare,
            last_flare_end: flare.end,
            limit,
        }
    }

    /// A flare of natural duration `natural` starts at `day`, with hazard
    /// budget `budget` for the remission after it.
    #[inline(always)]
    fn start_flare<O: Observer>(
        &mut self,
        day: f64,
        natural: f64,
        budget: f64,
        obs: &mut O,
    ) -> Flare {
        obs.event(
            day,
            EventKind::FlareStart {
                pain: self.features.pain,
                fever: false,
                crp_mg_l: self.features.crp_mg_l,
            },
        );
        Flare {
            start: day,
            end: day + natural,
            budget,
        }
    }
}

#[cfg(test)]
mod tests;
