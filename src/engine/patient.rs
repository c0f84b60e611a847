//! One virtual patient, simulated by a next-event loop over a fixed set of
//! named candidate events ([`Next`]: flare start/end, resolution, diagnosis,
//! imaging, condition onsets, loss to follow-up, treatment, checkpoints,
//! horizon). Lesion stage changes are events of the course too, but not of
//! the loop: they draw nothing and touch only their lesion, so they are
//! applied in one sweep before the next loop event looks at the lesions.
//!
//! Two time scales. The *active disease phase* runs from onset to burnout
//! (resolution); within it the patient has *episodes* of inflammation, each
//! with a natural duration drawn when it starts. The symptomatic flare of an
//! episode lasts its natural duration times the induction factor of the
//! drugs in force, so treatment can end a flare early; the next episode can
//! only start once the current one has run its natural course, with the
//! relapse hazard (frailty, maintenance and lasting drug effects) from then
//! on. Relieving symptoms therefore never brings the next flare forward.
//! No flare starts after burnout, and resolution waits for a running flare
//! to end.
//!
//! Relapses are sampled exactly by cumulative-hazard inversion: one
//! `E ~ Exp(1)` per episode is spent across segments of constant hazard;
//! when the hazard changes (treatment), the unspent part is carried over.
//! Diagnosis comes once the time spent in flares reaches a drawn amount of
//! symptomatic time, or earlier by the early route (an acute presentation
//! diagnosed while the presenting flare runs). Lesions carry the imaging
//! layer of disease activity: MRI inflammation in their lytic and mixed
//! stages, which outlasts the episode a painful lesion carries. The loop
//! reuses the buffers in [`Scratch`], so it allocates nothing once warm.

mod clinic;
mod flares;
mod lesions;

use rand::Rng;
use rand_distr::Distribution;

use super::exp1::exp1;

use lesions::poisson;

use crate::model::{Condition, Genotype, Stage};

use super::model_values::{GenotypeModel, ReplicateModel, DAYS_PER_YEAR};
use super::outcome::activity_score;
use super::rng::Purpose;
use super::treatment::{Effects, TreatmentState, TreatmentTrigger, MAX_DRUGS};
use crate::scenario::limits::{MAX_EVENTS, MAX_LESIONS};

pub use super::events::{Discard, EventKind, EventLog, Observer, StopReason};
pub use super::outcome::{
    anniversary_index, Checkpoints, CoreSet, CourseClass, Diagnosis, Lesion, Limit, Outcome,
    Segment, State, CHECKPOINT_DAYS, N_CHECKPOINTS, N_STATES,
};
pub use flares::{fixed_flare_pain, simulate_into as simulate_flares, Segments};

/// Reusable buffers of one worker: lesions, state segments and drug intervals.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    /// Lesions of the current patient.
    pub lesions: Vec<Lesion>,
    /// State segments of the current patient.
    pub segments: Vec<Segment>,
    /// Drug exposure intervals `(drug, start_day, end_day)` of the current patient.
    pub drug_intervals: Vec<(u16, f64, f64)>,
    /// Indexes and counts over `lesions`.
    book: lesions::LesionBook,
    /// Stage changes of one catch-up, for a recording observer.
    stage_log: Vec<(f64, u32, Stage)>,
}

/// Per-patient random streams.
struct Streams {
    baseline: super::rng::Stream,
    timing: super::rng::Stream,
    features: super::rng::Stream,
    lesions: super::rng::Stream,
    imaging: super::rng::Stream,
}

/// The candidate events of the loop. On a tie the one listed first happens
/// first, except the horizon, which ends the course before anything else
/// due on its day. Lesion stage changes are not loop events: on a tie they
/// come after imaging and before a condition onset
/// ([`Next::after_stage_changes`]). A condition onset is that of
/// [`Sim::next_condition`]: without a payload the candidate is one byte,
/// which the loop's comparisons carry along more cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Next {
    FlareEnd,
    FlareStart,
    Resolution,
    Diagnosis,
    Imaging,
    ConditionOnset,
    LostToFollowUp,
    Treatment,
    Checkpoint,
    Horizon,
}

impl Next {
    /// False for the events that neither read the lesions nor change what
    /// their stage changes depend on (the episode's end, the healing factor):
    /// the end of a flare (whose strategy event only notes the day) and
    /// resolution.
    #[inline(always)]
    fn reads_lesions(self) -> bool {
        !matches!(self, Next::FlareEnd | Next::Resolution)
    }

    /// True if a lesion stage change due on this event's day comes first.
    #[inline(always)]
    fn after_stage_changes(self) -> bool {
        matches!(
            self,
            Next::ConditionOnset | Next::LostToFollowUp | Next::Treatment | Next::Checkpoint
        )
    }
}

/// The features of the running (or last) flare.
#[derive(Debug, Clone, Copy, Default)]
struct Flare {
    start_day: f64,
    /// End of the symptomatic flare.
    end_day: f64,
    pain: f64,
    fever: bool,
    crp_x10: u32,
    activity: f64,
}

/// The mutable state of the patient being simulated.
/// `L` (lesions): whether the model has a lesion layer at all. Without one
/// (no lesion at onset, none later) every lesion pass is compiled out of
/// the loop rather than tested per event.
struct Sim<'a, 't, O: Observer, const L: bool> {
    m: &'a ReplicateModel,
    g: &'a GenotypeModel,
    rng: Streams,
    obs: &'a mut O,
    scratch: &'a mut Scratch,
    out: &'a mut Outcome,
    day: f64,
    frailty: f64,
    in_flare: bool,
    flare: Flare,
    /// When the current episode's inflammation has run its natural course.
    episode_end_day: f64,
    /// End of the previous symptomatic flare.
    prev_flare_end: Option<f64>,
    /// Unspent Exp(1) mass before the next episode, as of `budget_day`
    /// (or the episode's end, if later).
    hazard_budget: f64,
    /// Since when the hazard budget is unspent: it is spent only when the
    /// hazard changes, not at every event, since between changes the next
    /// episode's start is fixed ([`Sim::flare_start_day`]).
    budget_day: f64,
    /// Relapse hazard per day: baseline × frailty × drug hazard ratio,
    /// refreshed whenever frailty or the drug effects change.
    flare_hazard: f64,
    /// When the next episode starts if nothing changes (NEVER in a flare,
    /// after burnout or without hazard), kept up to date by the events that
    /// change the budget, the hazard or the phase.
    flare_start_day: f64,
    /// Up to when the time in flares after diagnosis has been counted
    /// (while in a flare after diagnosis, it is counted at the events that
    /// end it or change whether a drug is given).
    dx_flare_counted_to: f64,
    /// Whether no drug is given (as of the last strategy event).
    no_drug: bool,
    resolved: bool,
    /// Events so far, lesion stage changes included (capped by [`MAX_EVENTS`]).
    events: u32,
    /// End of the active disease phase (burnout).
    burnout_day: f64,
    /// Days in flares after which the patient is diagnosed.
    symptomatic_days_to_dx: f64,
    /// Day of diagnosis by the early route (an acute presentation worked
    /// up at once), if the presenting flare still runs then (NEVER: none).
    early_dx_day: f64,
    /// When the last MRI inflammation resolved (read only while no lesion
    /// is inflamed).
    quiet_since: f64,
    /// Per drug, the first day on or after its first start with no lesion
    /// inflamed (C15), and whether the first imaging 12 months or more
    /// after the first start found none (C14: 0 not yet, 1 no, 2 yes).
    mri_clear_day: [f64; MAX_DRUGS],
    /// The drugs whose `mri_clear_day` is set (a bit per drug), so the
    /// events that may clear one look only at the drugs started since.
    mri_cleared: u32,
    mri_clear_12_months: [u8; MAX_DRUGS],
    next_imaging_day: f64,
    /// Follow-up imaging visits scheduled since diagnosis.
    imaging_visits: u32,
    ltfu_day: f64,
    condition_day: [f64; 5],
    /// Cached (index, day) of the earliest condition onset; refreshed whenever `condition_day` changes.
    next_condition: (usize, f64),
    /// The earliest of the rare candidates that come before treatment on a
    /// tie (imaging, condition onset, loss to follow-up, in that order),
    /// refreshed whenever one of them changes ([`Sim::refresh_rare`]), so
    /// the loop compares one candidate for them instead of three.
    rare: (Next, f64),
    abnormal_blood_count: bool,
    segment_start: f64,
    ltfu_after_dx_days: f64,
    effects: Effects,
    treatment: Option<&'a mut TreatmentState<'t>>,
    next_checkpoint: usize,
    /// Day of the next checkpoint (never before diagnosis).
    next_checkpoint_day: f64,
    /// The new-lesion count distribution, rebuilt only when its mean changes.
    new_lesion_count: lesions::PoissonCount,
}

const NEVER: f64 = f64::INFINITY;
/// The CRP of every flare when a scenario rules raised CRP out, mg/l: the
/// middle of the normal values drawn otherwise (0.5 to 9.9).
const NORMAL_CRP_MG_L: f64 = 5.2;
/// C8 counts flares over the first 5.3 years from onset [JobDeslandre2001].
const C8_DAYS: f64 = 5.3 * DAYS_PER_YEAR;

/// Simulates one patient of one replicate, with an optional treatment strategy.
///
/// Single-threaded and pure: the result depends only on the model, the
/// strategy and the patient index.
pub fn simulate_patient<O: Observer>(
    m: &ReplicateModel,
    patient: u64,
    treatment: Option<&mut TreatmentState<'_>>,
    scratch: &mut Scratch,
    obs: &mut O,
) -> Outcome {
    let mut out = Outcome::default();
    simulate_patient_into(m, patient, treatment, scratch, obs, &mut out);
    out
}

/// [`simulate_patient`] with the outcome written to `out` (whatever it
/// held before is overwritten): a runner reusing one slot patient after
/// patient moves no outcome (a large value) per patient.
pub fn simulate_patient_into<O: Observer>(
    m: &ReplicateModel,
    patient: u64,
    treatment: Option<&mut TreatmentState<'_>>,
    scratch: &mut Scratch,
    obs: &mut O,
    out: &mut Outcome,
) {
    if treatment.is_none() && runs_on_flare_kernel(m) {
        *out = flares::simulate(m, patient, scratch, obs);
    } else if m.has_lesions() {
        simulate_into::<O, true>(m, patient, treatment, scratch, obs, out);
    } else {
        simulate_into::<O, false>(m, patient, treatment, scratch, obs, out);
    }
}

/// Set by tests to run every patient through the general loop, which the
/// flare kernel must match whole runs against.
#[cfg(test)]
pub(crate) static GENERAL_LOOP_ONLY: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
fn flare_kernel_enabled() -> bool {
    !GENERAL_LOOP_ONLY.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(test))]
#[inline(always)]
fn flare_kernel_enabled() -> bool {
    true
}

/// Whether [`simulate_flares`] simulates the patients of `m` under an arm
/// without treatment: the model has only the flare process live.
pub fn runs_on_flare_kernel(m: &ReplicateModel) -> bool {
    flares::applies(m) && flare_kernel_enabled()
}

/// [`simulate_patient`] on the general loop for a model with (`L`) or
/// without a lesion layer.
#[cfg(test)]
fn simulate<O: Observer, const L: bool>(
    m: &ReplicateModel,
    patient: u64,
    treatment: Option<&mut TreatmentState<'_>>,
    scratch: &mut Scratch,
    obs: &mut O,
) -> Outcome {
    let mut out = Outcome::default();
    simulate_into::<O, L>(m, patient, treatment, scratch, obs, &mut out);
    out
}

/// [`simulate_patient_into`] on the general loop for a model with (`L`)
/// or without a lesion layer.
fn simulate_into<O: Observer, const L: bool>(
    m: &ReplicateModel,
    patient: u64,
    mut treatment: Option<&mut TreatmentState<'_>>,
    scratch: &mut Scratch,
    obs: &mut O,
    out: &mut Outcome,
) {
    let key = &m.key;
    let mut rng = Streams {
        baseline: key.stream(patient, Purpose::Baseline),
        timing: key.stream(patient, Purpose::FlareTiming),
        features: key.stream(patient, Purpose::FlareFeatures),
        // Without a lesion layer nothing draws from these two: they are
        // not derived (a fixed generator stands in).
        lesions: if L {
            key.stream(patient, Purpose::Lesions)
        } else {
            super::rng::unused_stream()
        },
        imaging: if L {
            key.stream(patient, Purpose::Imaging)
        } else {
            super::rng::unused_stream()
        },
    };
    let genotype = if rng.baseline.random::<f64>() < m.majeed_frac {
        Genotype::Majeed
    } else {
        Genotype::Sporadic
    };
    let g = m.genotype(genotype);
    if let Some(t) = treatment.as_deref_mut() {
        t.set_genotype(genotype);
    }
    scratch.lesions.clear();
    scratch.book.clear();
    scratch.segments.clear();
    scratch.drug_intervals.clear();
    out.reset(patient, genotype);
    let mut sim = Sim::<O, L> {
        m,
        g,
        obs,
        scratch,
        out,
        day: 0.0,
        frailty: 1.0,
        in_flare: false,
        flare: Flare::default(),
        episode_end_day: 0.0,
        prev_flare_end: None,
        hazard_budget: 0.0,
        budget_day: 0.0,
        flare_hazard: 0.0,
        flare_start_day: NEVER,
        dx_flare_counted_to: 0.0,
        no_drug: true,
        resolved: false,
        events: 0,
        burnout_day: NEVER,
        symptomatic_days_to_dx: NEVER,
        early_dx_day: NEVER,
        quiet_since: 0.0,
        mri_clear_day: [NEVER; MAX_DRUGS],
        mri_cleared: 0,
        mri_clear_12_months: [0; MAX_DRUGS],
        next_imaging_day: NEVER,
        imaging_visits: 0,
        ltfu_day: NEVER,
        condition_day: [NEVER; 5],
        next_condition: (0, NEVER),
        rare: (Next::Imaging, NEVER),
        abnormal_blood_count: false,
        segment_start: 0.0,
        ltfu_after_dx_days: NEVER,
        effects: Effects::NONE,
        treatment,
        next_checkpoint: 0,
        next_checkpoint_day: NEVER,
        new_lesion_count: lesions::PoissonCount::UNSET,
        rng,
    };
    sim.draw_baseline(genotype);
    sim.run();
}

impl<O: Observer, const L: bool> Sim<'_, '_, O, L> {
    fn draw_baseline(&mut self, genotype: Genotype) {
        let (m, g) = (self.m, self.g);
        let b = &mut self.rng.baseline;
        self.out.female = b.random::<f64>() < m.female_frac;
        let age_dist = match genotype {
            Genotype::Sporadic => &m.onset_age,
            Genotype::Majeed => &m.majeed_onset_age,
        };
        self.out.onset_age_years = age_dist.sample(b);
        self.frailty = g.frailty.as_ref().map_or(1.0, |d| d.sample(b));
        self.out.frailty = self.frailty;
        for (i, p) in g.p_condition_at_onset.iter().enumerate() {
            if chance(b, *p) {
                self.out.conditions_at_onset |= Condition::ALL[i].bit();
            }
        }
        self.out.conditions_ever = self.out.conditions_at_onset;
        let extra = g.extra_lesions_mix.as_ref().map_or(0, |mix| {
            let lambda = mix.sample(b);
            poisson(lambda, b)
        });

        let c = &mut self.rng.baseline;
        self.burnout_day = g.resolution.as_ref().map_or(NEVER, |d| d.sample(c));
        self.symptomatic_days_to_dx = g
            .symptomatic_days_to_diagnosis
            .as_ref()
            .map_or(NEVER, |d| d.sample(c));
        // Clocks a scenario leaves inert (no hazard) draw nothing.
        if g.ltfu_per_day > 0.0 {
            let u_ltfu = exp1(c);
            self.ltfu_after_dx_days = u_ltfu / g.ltfu_per_day;
        }
        // The blood count is read at diagnosis only.
        if g.can_diagnose() {
            self.abnormal_blood_count = chance(c, g.values.p_abnormal_blood_count);
        }
        self.draw_diagnosis_route();

        for (i, h) in g.condition_per_day.iter().enumerate() {
            if *h > 0.0 {
                let e = exp1(&mut self.rng.baseline);
                if self.out.conditions_at_onset & Condition::ALL[i].bit() == 0 {
                    self.condition_day[i] = e / h;
                }
            }
        }
        self.next_condition = self.earliest_condition();
        self.refresh_rare();
        self.refresh_flare_hazard();
        if extra >= MAX_LESIONS as u64 {
            self.out.limit = Some(Limit::Lesions);
        }
        let presenting = u64::from(chance(&mut self.rng.baseline, g.values.p_lesion_at_onset));
        self.draw_initial_lesions((presenting + extra.min(MAX_LESIONS as u64 - 1)) as u32);
    }

    fn run(&mut self) {
        let horizon = self.m.horizon_days;
        self.start_flare(true);
        loop {
            self.count_events(1);
            if self.stopped_at_limit() {
                break;
            }
            let (next, day) = self.next_event(horizon);
            // An event that neither looks at the lesions nor changes how they
            // heal leaves the stage changes due to the next sweep (the same
            // changes: nothing they depend on changes in between), unless
            // the observer records them in day order.
            if O::RECORDS || next.reads_lesions() {
                self.catch_up_lesions(lesions::Until {
                    day,
                    inclusive: next.after_stage_changes(),
                });
                if self.stopped_at_limit() {
                    break;
                }
            }
            self.day = day;
            match next {
                Next::FlareEnd => self.end_flare(),
                Next::FlareStart => self.start_flare(false),
                Next::Resolution => self.resolve(),
                Next::Diagnosis => self.diagnose(),
                Next::Imaging => {
                    self.follow_up_imaging();
                    // The yearly visit images and then records its
                    // checkpoint: when nothing comes between, it is taken
                    // here as the next event, not chosen again by the loop.
                    if self.checkpoint_follows_imaging() {
                        debug_assert_eq!(self.next_event(horizon), (Next::Checkpoint, self.day));
                        self.count_events(1);
                        if self.stopped_at_limit() {
                            break;
                        }
                        self.record_checkpoint();
                    }
                }
                Next::ConditionOnset => self.condition_onset(self.next_condition.0),
                Next::LostToFollowUp => {
                    self.lose_to_follow_up();
                    break;
                }
                Next::Treatment => self.notify_treatment(TreatmentTrigger::Scheduled),
                Next::Checkpoint => self.record_checkpoint(),
                Next::Horizon => {
                    self.finish(horizon);
                    break;
                }
            }
        }
    }

    /// Whether the checkpoint is the event right after the imaging just
    /// done, with nothing to do before it: due today, with no condition
    /// onset, loss to follow-up or treatment event due today (they come
    /// first on a tie) and no lesion stage change due by the end of today
    /// (one would come between). The flare events, diagnosis and the
    /// horizon are later than today, or the loop would have chosen one of
    /// them before the imaging, which moves none of them.
    #[inline(always)]
    fn checkpoint_follows_imaging(&self) -> bool {
        let day = self.day;
        let treat_day = self
            .treatment
            .as_ref()
            .map_or(NEVER, |t| t.next_event_day());
        let stage_change_due = L
            && self.scratch.book.active.any_due(lesions::Until {
                day,
                inclusive: Next::Checkpoint.after_stage_changes(),
            });
        self.next_checkpoint_day == day && self.rare.1 > day && treat_day > day && !stage_change_due
    }

    /// Whether the course reached a limit, and if so closes it there: the
    /// run fails on this patient, so it stops rather than grow.
    #[inline(always)]
    fn stopped_at_limit(&mut self) -> bool {
        let stopped = self.out.limit.is_some();
        if stopped {
            self.finish(self.day);
        }
        stopped
    }

    /// Counts `n` more events of the course (loop events and lesion stage
    /// changes alike) against [`MAX_EVENTS`].
    fn count_events(&mut self, n: u32) {
        // No overflow: the course stops as soon as the count passes the cap,
        // and one call adds at most one catch-up's stage changes (a few per
        // lesion, at most MAX_LESIONS lesions).
        self.events += n;
        if self.events > MAX_EVENTS {
            self.out.limit = Some(Limit::Events);
        }
    }

    /// The earliest candidate event (ties go to the one listed first in [`Next`]).
    fn next_event(&self, horizon: f64) -> (Next, f64) {
        let treat_day = self
            .treatment
            .as_ref()
            .map_or(NEVER, |t| t.next_event_day());
        // A chain of strict comparisons in listed order (the same choice as a
        // fold over a candidate array, without building the array per event).
        let mut best = (Next::Horizon, horizon);
        // In a flare only its end and diagnosis can come; out of one, only
        // the next flare and resolution (the other two candidates are NEVER).
        if self.in_flare {
            earlier(&mut best, Next::FlareEnd, self.flare.end_day);
            earlier(&mut best, Next::Diagnosis, self.diagnosis_candidate());
        } else {
            earlier(&mut best, Next::FlareStart, self.flare_start_candidate());
            earlier(&mut best, Next::Resolution, self.resolution_candidate());
        }
        // The earliest of imaging, condition onset and loss to follow-up
        // (ties among them already settled in that order): the same choice
        // as comparing the three here in turn.
        earlier(&mut best, self.rare.0, self.rare.1);
        earlier(&mut best, Next::Treatment, treat_day);
        earlier(&mut best, Next::Checkpoint, self.next_checkpoint_day);
        best
    }

    /// Recomputes [`Sim::rare`] after imaging, a condition onset or loss
    /// to follow-up moved.
    fn refresh_rare(&mut self) {
        let mut rare = (Next::Imaging, self.next_imaging_day);
        earlier(&mut rare, Next::ConditionOnset, self.next_condition.1);
        earlier(&mut rare, Next::LostToFollowUp, self.ltfu_day);
        self.rare = rare;
    }

    /// The earliest pending condition onset (ties: the lowest index).
    fn earliest_condition(&self) -> (usize, f64) {
        self.condition_day
            .iter()
            .enumerate()
            .fold((0, NEVER), |b, (i, &d)| if d < b.1 { (i, d) } else { b })
    }

    /// The next episode starts once the current one has run its course and
    /// the hazard budget is spent, within the active phase.
    #[inline(always)]
    fn flare_start_candidate(&self) -> f64 {
        self.flare_start_day
    }

    /// Recomputes [`Sim::flare_start_day`] after the budget, the hazard or
    /// the phase changed: the budget is spent from `budget_day`, or from
    /// the end of the episode if later (not on or after the event that
    /// called this, whose day is `budget_day` or earlier).
    fn refresh_flare_start(&mut self) {
        let hazard = self.flare_hazard;
        self.flare_start_day = if self.in_flare || self.resolved || hazard <= 0.0 {
            NEVER
        } else {
            let start = later(self.budget_day, self.episode_end_day) + self.hazard_budget / hazard;
            if start < self.burnout_day {
                start
            } else {
                NEVER
            }
        };
    }

    /// Spends the hazard budget up to now at the hazard in force so far
    /// (out of a flare, after the episode's natural end); called before the
    /// hazard changes.
    fn spend_hazard_budget(&mut self) {
        if !self.in_flare && !self.resolved {
            let from = self.budget_day.max(self.episode_end_day);
            if self.day > from {
                self.hazard_budget =
                    (self.hazard_budget - (self.day - from) * self.flare_hazard).max(0.0);
            }
            self.budget_day = self.day;
        }
    }

    /// Burnout, unless a flare runs then: resolution waits for its end.
    fn resolution_candidate(&self) -> f64 {
        if self.resolved || self.in_flare {
            NEVER
        } else {
            later(self.burnout_day, self.day)
        }
    }

    /// Diagnosis once the time in flares reaches the patient's threshold,
    /// or earlier by the early route while the presenting flare runs.
    fn diagnosis_candidate(&self) -> f64 {
        if self.out.diagnosis.is_some() || !self.in_flare {
            return NEVER;
        }
        let before = self.out.flare_days;
        let symptomatic = self.flare.start_day + (self.symptomatic_days_to_dx - before);
        let early = if self.early_dx_day >= self.flare.start_day {
            self.early_dx_day
        } else {
            NEVER
        };
        symptomatic.min(early).max(self.day)
    }

    /// The early diagnosis route, from the baseline stream (arm-independent
    /// like every baseline draw): with probability `p_early_diagnosis` an
    /// acute presentation (worked up for infection or malignancy, a
    /// vertebral or clavicle lesion) is diagnosed an exponential time of
    /// mean `early_diagnosis_months_mean` after onset, if the presenting
    /// flare still runs then.
    fn draw_diagnosis_route(&mut self) {
        let v = &self.g.values;
        if v.p_early_diagnosis <= 0.0 {
            return;
        }
        let r = &mut self.rng.baseline;
        if r.random::<f64>() < v.p_early_diagnosis {
            let e = exp1(r);
            self.early_dx_day = e * v.early_diagnosis_months_mean * super::units::DAYS_PER_MONTH;
        }
    }

    fn refresh_flare_hazard(&mut self) {
        self.flare_hazard =
            self.g.flare_hazard_per_day * self.frailty * self.effects.flare_hazard_ratio;
    }

    /// Counts the time in a flare after diagnosis up to now, and of it
    /// the time without a drug; called before a flare ends, at the end of
    /// observation and when a drug starts or stops.
    fn count_flare_time_after_dx(&mut self) {
        if self.in_flare && self.out.diagnosis.is_some() {
            let days = self.day - self.dx_flare_counted_to;
            self.out.flare_days_after_dx += days;
            if self.no_drug {
                self.out.untreated_active_days += days;
            }
        }
        self.dx_flare_counted_to = self.day;
    }

    fn close_segment(&mut self, state: State) {
        if self.day > self.segment_start {
            let (pain, activity) = if state == State::Active {
                (self.flare.pain, self.flare.activity)
            } else {
                (0.0, 0.0)
            };
            self.scratch.segments.push(Segment {
                start_day: self.segment_start,
                end_day: self.day,
                state,
                pain,
                activity,
            });
        }
        self.segment_start = self.day;
    }

    fn current_state(&self) -> State {
        if self.in_flare {
            State::Active
        } else if self.resolved {
            State::Resolved
        } else {
            State::Remission
        }
    }

    fn start_flare(&mut self, at_onset: bool) {
        let state = self.current_state();
        self.close_segment(state);
        self.in_flare = true;
        self.flare_start_day = NEVER;
        self.dx_flare_counted_to = self.day;
        // The outcome through a local reference: its address is then read
        // once, not again after each count it takes.
        let (day, out) = (self.day, &mut *self.out);
        out.flares += 1;
        if day < C8_DAYS {
            out.flares_first_5_3_years += 1;
        }
        if out.diagnosis.is_some() {
            out.flares_after_dx += 1;
        }
        if !at_onset && (!L || self.scratch.book.inflamed == 0) {
            // Disease-free: the last episode had run its natural course and
            // no lesion was inflamed on MRI.
            let inactive_from = later(self.episode_end_day, self.quiet_since);
            out.longest_inactive_gap_days =
                later(out.longest_inactive_gap_days, day - inactive_from);
        }
        if out.first_remission_day.is_some() && out.first_relapse_day.is_none() {
            out.first_relapse_day = Some(day);
        }
        if out.first_remission_after_dx_day.is_some() && out.first_relapse_after_dx_day.is_none() {
            out.first_relapse_after_dx_day = Some(day);
        }
        self.draw_flare_features(at_onset);
        if L && !at_onset {
            self.draw_new_lesions();
        }
        self.flare.activity = activity_score(
            self.flare.pain,
            self.flare.fever,
            f64::from(self.flare.crp_x10) / 10.0,
            self.painful_active_lesions(),
        );
        self.check_fractures();
        self.obs.event(
            self.day,
            EventKind::FlareStart {
                pain: self.flare.pain,
                fever: self.flare.fever,
                crp_mg_l: f64::from(self.flare.crp_x10) / 10.0,
            },
        );
        self.notify_treatment(TreatmentTrigger::FlareStart);
    }

    /// Draws the episode's natural duration, the flare's features and the
    /// hazard budget of the interval after the episode.
    fn draw_flare_features(&mut self, first: bool) {
        let (g, f) = (self.g, &mut self.rng.features);
        let natural = if first {
            g.first_flare_duration.sample(f)
        } else {
            g.flare_duration.sample(f)
        };
        self.episode_end_day = self.day + natural;
        // A pain without spread, fever or raised CRP a scenario rules out
        // draws nothing: a scenario pays only for the features it uses.
        let pain = if g.values.pain_sd_vas > 0.0 {
            g.pain.sample(f)
        } else {
            g.values.pain_mean_vas
        }
        .clamp(1.0, 10.0);
        // Fever, a raised CRP and a normal CRP's value share one uniform:
        // each yes/no split leaves the uniform uniform on the branch taken,
        // so rescaling it serves the next draw (the CRP's 0.1 mg/L rounding
        // needs far fewer bits than the draw keeps).
        let v = &g.values;
        let draws = (v.p_fever > 0.0 && v.p_fever < 1.0) || v.p_crp_raised > 0.0;
        let mut u = if draws { f.random::<f64>() } else { 0.0 };
        let fever = split_uniform(&mut u, v.p_fever);
        let crp_raised = split_uniform(&mut u, v.p_crp_raised);
        let crp = if crp_raised {
            g.crp_raised.sample(f).max(10.0)
        } else if v.p_crp_raised > 0.0 {
            0.5 + 9.4 * u
        } else {
            // CRP is never raised: the middle of the normal range stands
            // for the value (it only ever counts as normal).
            NORMAL_CRP_MG_L
        };
        self.flare = Flare {
            start_day: self.day,
            end_day: self.day + natural * self.effects.flare_duration_factor,
            pain,
            fever,
            crp_x10: super::units::round_nonnegative(crp * 10.0) as u32,
            activity: 0.0,
        };
        if fever {
            self.out.fevers += 1;
        }
        self.hazard_budget = exp1(&mut self.rng.timing);
    }

    fn end_flare(&mut self) {
        self.close_segment(State::Active);
        self.count_flare_time_after_dx();
        self.in_flare = false;
        // Out of the flare the budget drawn at its start is spent from now
        // (once the episode has run its course).
        self.budget_day = self.day;
        self.refresh_flare_start();
        self.out.flare_days += self.day - self.flare.start_day;
        self.prev_flare_end = Some(self.day);
        if self.out.first_remission_day.is_none() {
            self.out.first_remission_day = Some(self.day);
        }
        if self.out.diagnosis.is_some() && self.out.first_remission_after_dx_day.is_none() {
            self.out.first_remission_after_dx_day = Some(self.day);
        }
        self.obs.event(self.day, EventKind::FlareEnd);
        self.notify_treatment(TreatmentTrigger::FlareEnd);
        if self.day >= self.burnout_day && !self.resolved {
            self.resolve();
        }
    }

    fn resolve(&mut self) {
        self.close_segment(State::Remission);
        self.resolved = true;
        self.flare_start_day = NEVER;
        self.out.resolved_day = Some(self.day);
        self.obs.event(self.day, EventKind::Resolution);
    }

    fn condition_onset(&mut self, i: usize) {
        self.condition_day[i] = NEVER;
        self.next_condition = self.earliest_condition();
        self.refresh_rare();
        let c = Condition::ALL[i];
        self.out.conditions_ever |= c.bit();
        self.obs
            .event(self.day, EventKind::ConditionOnset { condition: c });
    }

    fn lose_to_follow_up(&mut self) {
        let horizon = self.m.horizon_days;
        self.close_observation();
        self.out.lost_day = Some(self.day);
        self.obs.event(self.day, EventKind::LostToFollowUp);
        self.scratch.segments.push(Segment {
            start_day: self.day,
            end_day: horizon,
            state: State::Lost,
            pain: 0.0,
            activity: 0.0,
        });
    }

    fn finish(&mut self, horizon: f64) {
        self.close_observation();
        self.obs.event(horizon, EventKind::End);
    }

    /// Closes the open segment and counts observed time.
    fn close_observation(&mut self) {
        let state = self.current_state();
        self.count_flare_time_after_dx();
        if self.in_flare {
            self.out.flare_days += self.day - self.flare.start_day;
        }
        self.close_segment(state);
        self.out.observed_days = self.day;
        self.out.burnout_day = self.burnout_day;
        self.out.active_at_end = self.in_flare;
        self.out.last_flare_end_day = if self.in_flare {
            self.day
        } else {
            self.prev_flare_end.unwrap_or(0.0)
        };
        let day = self.day;
        if let Some(t) = self.treatment.as_deref_mut() {
            t.close(day, &mut self.scratch.drug_intervals, self.obs);
            // Courses given late count against the cap by the end of the
            // course, as their own steps would have, so that the cap means
            // about the same whatever the observer.
            let late = t.take_late_courses();
            self.out.treatment = t.outcome();
            self.out.treatment.mri_clear_day = self.mri_clear_day;
            self.out.treatment.mri_clear_12_months = self.mri_clear_12_months;
            self.check_drug_responses();
            self.count_events(late);
        }
    }

    /// Tells the strategy what happened and takes up its new drug effects.
    #[inline]
    fn notify_treatment(&mut self, trigger: TreatmentTrigger) {
        if self.treatment.is_some() {
            self.notify_strategy(trigger);
        }
    }

    fn notify_strategy(&mut self, trigger: TreatmentTrigger) {
        let day = self.day;
        let in_flare = self.in_flare;
        if let Some(t) = self.treatment.as_deref_mut() {
            let acted = t.on(
                trigger,
                day,
                in_flare,
                self.obs,
                &mut self.scratch.drug_intervals,
            );
            if !acted {
                // Nothing read below changed. (A drug started while a lesion
                // was inflamed is cleared when the last inflammation
                // resolves, `imaging_cleared`, so none is pending here.)
                return;
            }
            let new = t.effects();
            // An arm without treatment gives no drug at all; time in flares
            // is counted by whether a drug is given, so up to a change of it.
            let no_drug = t.no_drug_on();
            let started_clear = !L || self.scratch.book.inflamed == 0;
            if started_clear {
                // A drug started with no lesion inflamed: cleared at its start.
                clear_started_drugs(
                    &mut self.mri_clear_day,
                    &mut self.mri_cleared,
                    t.started_drugs(),
                    day,
                );
            }
            let old_heal = self.effects.heal_time_factor;
            if self.in_flare && new.flare_duration_factor != self.effects.flare_duration_factor {
                // Induction: a change of duration factor rescales the rest of the
                // running flare (the episode's natural course is unchanged).
                let rest = self.flare.end_day - day;
                self.flare.end_day =
                    day + rest * new.flare_duration_factor / self.effects.flare_duration_factor;
            }
            if no_drug != self.no_drug {
                self.count_flare_time_after_dx();
                self.no_drug = no_drug;
            }
            if new.flare_hazard_ratio != self.effects.flare_hazard_ratio {
                self.spend_hazard_budget();
                self.effects = new;
                self.refresh_flare_hazard();
                self.refresh_flare_start();
            }
            self.effects = new;
            if new.heal_time_factor != old_heal {
                self.rescale_healing(old_heal, new.heal_time_factor);
            }
        }
    }

    /// No lesion is inflamed any more since `day`: the course is quiet on
    /// MRI, and every drug started by then has reached complete resolution.
    fn imaging_cleared(&mut self, day: f64) {
        self.quiet_since = day;
        if let Some(t) = self.treatment.as_deref() {
            // Every drug started so far started on or before `day` (a
            // catch-up never reaches past the event about to happen).
            clear_started_drugs(
                &mut self.mri_clear_day,
                &mut self.mri_cleared,
                t.started_drugs(),
                day,
            );
        }
    }
}

/// Sets `day` as the MRI clearance day of every drug in `started` (a bit
/// per drug) that has none yet, marking it in `cleared`.
#[inline]
fn clear_started_drugs(
    clear_day: &mut [f64; MAX_DRUGS],
    cleared: &mut u32,
    started: u32,
    day: f64,
) {
    let mut pending = started & !*cleared;
    *cleared |= pending;
    while pending != 0 {
        let d = pending.trailing_zeros() as usize;
        clear_day[d] = day;
        pending &= pending - 1;
    }
}

/// True with probability `p`. A certain outcome (p = 0 or 1) draws no
/// random number: a scenario pays only for the features it uses.
#[inline(always)]
fn chance(rng: &mut super::rng::Stream, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rng.random::<f64>() < p
    }
}

/// True with probability `p` when `u` is uniform on [0, 1), leaving `u`
/// uniform on [0, 1) again given the answer (rescaled from the part of the
/// interval the answer took), so one uniform serves several draws. A certain
/// outcome (p = 0 or 1) leaves `u` as it was.
#[inline(always)]
fn split_uniform(u: &mut f64, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else if *u < p {
        *u /= p;
        true
    } else {
        *u = (*u - p) / (1.0 - p);
        false
    }
}

/// The later of two days. Days are never NaN, so this is `a.max(b)`
/// without the NaN handling `f64::max` compiles to.
#[inline(always)]
fn later(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

/// Takes `(next, day)` if it is strictly earlier than `best` (ties keep the
/// candidate considered first).
#[inline(always)]
fn earlier(best: &mut (Next, f64), next: Next, day: f64) {
    if day < best.1 {
        *best = (next, day);
    }
}

#[cfg(test)]
mod split_uniform_tests {
    use super::split_uniform;

    /// On an even grid of uniforms, two splits in turn answer yes with
    /// their probabilities and independently of each other, and what is
    /// left stays on [0, 1) with each branch's values spread evenly.
    #[test]
    fn splits_are_independent_and_leave_a_uniform() {
        let n = 1_000_000;
        let (p, q) = (0.3, 0.55);
        let mut counts = [[0u32; 2]; 2];
        let mut left_sum = [[0.0f64; 2]; 2];
        for i in 0..n {
            let mut u = (f64::from(i) + 0.5) / f64::from(n);
            let a = split_uniform(&mut u, p);
            let b = split_uniform(&mut u, q);
            assert!((0.0..1.0).contains(&u), "{u}");
            counts[usize::from(a)][usize::from(b)] += 1;
            left_sum[usize::from(a)][usize::from(b)] += u;
        }
        for (a, pa) in [(0, 1.0 - p), (1, p)] {
            for (b, qb) in [(0, 1.0 - q), (1, q)] {
                let share = f64::from(counts[a][b]) / f64::from(n);
                assert!((share - pa * qb).abs() < 1e-5, "{a} {b}: {share}");
                let mean_left = left_sum[a][b] / f64::from(counts[a][b]);
                assert!((mean_left - 0.5).abs() < 1e-4, "{a} {b}: {mean_left}");
            }
        }
        let mut u = 0.25;
        assert!(!split_uniform(&mut u, 0.0) && split_uniform(&mut u, 1.0));
        assert_eq!(u, 0.25, "a certain answer leaves the uniform as it was");
    }
}
