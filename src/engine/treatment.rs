//! Treatment of one patient: the drug effects in force and the strategy's
//! state machine (start at diagnosis, assess, escalate for lack of response,
//! taper, restart on relapse, switch on adverse events with a fallback at the
//! top of the ladder, courses of bisphosphonates, lasting effects of
//! disease-modifying drugs after stopping).
//!
//! The patient loop asks [`TreatmentState::next_event_day`] for the strategy's
//! next own event, tells it about diagnosis and flares through
//! [`TreatmentState::on`], and reads the [`Effects`] in force afterwards.
//! Responsiveness to each drug is a latent patient trait drawn from an
//! arm-independent stream of its own, so re-exposure behaves consistently
//! and all arms see the same responders; it is drawn when the drug is
//! started (the same value whenever drawn), so drugs never given cost nothing.

mod due;
mod effects;
mod plan;

use crate::model::Genotype;
use crate::scenario::treatment::{AtTop, EscalateWhen, OnRelapse};

pub use super::drugs::DrugModel;
use super::events::{EventKind, Observer, StopReason};
use super::exp1::exp1;
use super::model_values::ReplicateModel;
use super::rng::{Purpose, ReplicateKey, Stream};
pub use effects::Effects;
pub use plan::{Fallback, TreatmentOutcome, TreatmentPlan};

/// Tolerance, in days, for comparing scheduled days that are sums of
/// floating-point intervals (about a tenth of a second).
const SCHEDULE_SLACK_DAYS: f64 = 1e-6;

/// The scenario's limits size the per-patient drug arrays.
pub use crate::scenario::limits::{MAX_STEP_DRUGS, MAX_USED_DRUGS as MAX_DRUGS};
/// Course days remembered per drug for its yearly limit (a limit above this
/// counts as this many courses a year).
const COURSE_LOG: usize = 12;
/// Three flares on a step within this many days are a loss of response for
/// the `no_response` rule (assumption: escalation for frequent relapses
/// despite a drug the patient responds to, [CARRA2018] treatment plans).
const RELAPSES_WITHIN_DAYS: f64 = 365.25;
/// The window of a yearly course limit, days.
const YEAR_DAYS: f64 = 365.25;

const NEVER: f64 = f64::INFINITY;

/// What the patient loop tells the strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreatmentTrigger {
    /// The patient was diagnosed.
    Diagnosis,
    /// A flare started.
    FlareStart,
    /// A flare ended.
    FlareEnd,
    /// The strategy's own scheduled event is due.
    Scheduled,
}

/// A drug the patient is on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OnDrug {
    drug: u16,
    start: f64,
    effect_day: f64,
    effect_announced: bool,
    responder: bool,
    ae_day: f64,
    stop_day: f64,
    next_course_day: f64,
    courses: u32,
    /// The earliest of this drug's pending events (kept by [`OnDrug::update_due`]),
    /// so a scheduled event skips the drugs with nothing due.
    due: f64,
}

/// Where the patient is on the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Untreated,
    OnStep(usize),
    TaperedOff(usize),
    Stopped,
}

/// The treatment state of one patient under one plan.
#[derive(Debug, Clone)]
pub struct TreatmentState<'a> {
    plan: &'a TreatmentPlan,
    drugs: &'a [DrugModel],
    genotype: Genotype,
    /// Names the patient's streams (responsiveness per drug, treatment events).
    key: &'a ReplicateKey,
    patient: u64,
    /// The treatment-event stream, made when the first drug is started
    /// (untreated patients never need it).
    rng: Option<Stream>,
    phase: Phase,
    step_start: f64,
    /// The next assessment of the schedule (every `assess_every_days` from
    /// the step's start, or sooner after a flare). Assessments that change
    /// nothing are not events: this day is brought up to date when the
    /// strategy is next told something ([`TreatmentState::catch_up_assessments`]).
    next_assess: f64,
    on: [Option<OnDrug>; MAX_STEP_DRUGS],
    /// The slots of `on` that hold a drug (a bit per slot), so whether any
    /// drug is given is one test (the patient loop asks at every strategy event).
    slots_used: u8,
    /// Per slot of `on`, its drug's `due` (inf: empty), so the earliest of
    /// them and the slots with something due are found without reading
    /// the drugs.
    slot_due: [f64; MAX_STEP_DRUGS],
    /// Per slot of `on`, its drug's next course when courses are not
    /// events of their own (an observer that takes no course,
    /// [`Observer::TAKES_COURSES`]; inf otherwise, or no course to come):
    /// a course changes nothing else, so it is given when the strategy
    /// next acts on or after its day ([`TreatmentState::give_courses_before`]).
    slot_course: [f64; MAX_STEP_DRUGS],
    /// The earliest of `slot_course`, kept with `drugs_due`.
    courses_next: f64,
    /// Courses given late (`slot_course`), or put off by the yearly limit
    /// then, not yet counted as events of the course: the event cap counts
    /// each as the loop's step it would have been for an observer that
    /// takes courses.
    late_courses: u32,
    /// Whether what the patient loop reads after an event may have changed
    /// since the event began: a drug started or stopped, or the effects
    /// recomputed to other values.
    changed: bool,
    in_flare: bool,
    last_flare_end: f64,
    /// Flares that started on the current step.
    flares_on_step: u32,
    /// Start days of the last three flares on the current step (-inf: none).
    flare_starts_on_step: [f64; 3],
    /// Drugs stopped for an adverse event (bit per drug).
    had_adverse_event: u32,
    /// Drugs the patient failed (bit per drug): no response seen when the
    /// effect was due, or left for lack of response.
    failed: u32,
    /// Drugs started at least once (bit per drug): those with a first start day.
    started: u32,
    /// Drugs whose responsiveness has been drawn (bit per drug), and of
    /// those the ones the patient responds to: a fixed trait, so drawn once
    /// per patient however often the drug is given.
    responsiveness_drawn: u32,
    responders: u32,
    /// Per drug with a yearly course limit, the days of its last courses
    /// (a ring; -inf: none). A drug's ring is filled when its first course
    /// is logged (`course_logged`), so a patient pays only for the drugs
    /// given in courses.
    course_log: [[f64; COURSE_LOG]; MAX_DRUGS],
    /// The drugs whose ring in `course_log` is in use (bit per drug); the
    /// others hold no course and are not read.
    course_logged: u32,
    /// Per drug, the ring slot of its oldest remembered course, which the
    /// next course replaces: courses are logged in day order, so the ring
    /// read from this slot on is in ascending day order.
    course_next: [u8; MAX_DRUGS],
    /// Per drug, the day its lasting effect ends (0: none).
    lasting_until: [f64; MAX_DRUGS],
    treated_since: Option<f64>,
    horizon_days: f64,
    outcome: TreatmentOutcome,
    /// [`TreatmentState::next_event_day`], kept up to date by every change
    /// of the state (the patient loop asks for it at every event).
    next_day: f64,
    /// The first assessment that may act ([`TreatmentState::first_acting_assessment`]
    /// from the next one; inf off a step), recomputed by the next refresh
    /// only when `assess_stale` says something it depends on changed: the
    /// drugs' own events (effect onsets, courses) and the lasting effects
    /// leave it as it is, and a scan that ended at their next event goes on
    /// from where it ended once that event has passed.
    assess_day: f64,
    /// Whether the scan for `assess_day` ended at the drugs' or lasting
    /// effects' next event (or the horizon) rather than at an assessment
    /// that acts (or found none).
    assess_capped: bool,
    assess_stale: bool,
    /// The days of sustained remission before tapering, for the patient's genotype.
    taper_days: f64,
    /// The ladder steps that hold a drug given in courses (a bit per step),
    /// whose end is not a decision to stop.
    course_steps: u64,
    /// [`TreatmentState::effects`], recomputed by the next refresh only
    /// when `effects_stale` says a drug or lasting effect changed.
    effects: Effects,
    effects_stale: bool,
    /// The earliest lasting-effect end (inf: none or never ending) and
    /// whether any lasting effect holds, both kept with `lasting_until`.
    lasting_next: f64,
    any_lasting: bool,
    /// The earliest `due` of the drugs given, recomputed by the next
    /// refresh when `drugs_stale` says a drug slot changed.
    drugs_due: f64,
    drugs_stale: bool,
}

/// What an assessment decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Sustained remission: stop the drugs.
    Taper,
    /// In a flare with every drug of the step run out (its courses given):
    /// give the step again or move on.
    StepRunOut,
    /// Still active after the minimum time on the step: the next step.
    Escalate,
    /// Nothing changes.
    Stay,
}

/// Where drug intervals go: `(drug, start_day, end_day)`.
pub type Intervals = Vec<(u16, f64, f64)>;

impl<'a> TreatmentState<'a> {
    /// A patient's fresh state under `plan`; its streams are named by
    /// `model`'s key and `patient`.
    pub fn new(plan: &'a TreatmentPlan, model: &'a ReplicateModel, patient: u64) -> Self {
        TreatmentState {
            plan,
            drugs: &model.drugs,
            genotype: Genotype::Sporadic,
            key: &model.key,
            patient,
            rng: None,
            phase: Phase::Untreated,
            step_start: 0.0,
            next_assess: NEVER,
            on: [None; MAX_STEP_DRUGS],
            slots_used: 0,
            slot_due: [NEVER; MAX_STEP_DRUGS],
            slot_course: [NEVER; MAX_STEP_DRUGS],
            courses_next: NEVER,
            late_courses: 0,
            changed: false,
            in_flare: false,
            last_flare_end: 0.0,
            flares_on_step: 0,
            flare_starts_on_step: [f64::NEG_INFINITY; 3],
            had_adverse_event: 0,
            failed: 0,
            started: 0,
            responsiveness_drawn: 0,
            responders: 0,
            course_log: [[0.0; COURSE_LOG]; MAX_DRUGS],
            course_logged: 0,
            course_next: [0; MAX_DRUGS],
            lasting_until: [0.0; MAX_DRUGS],
            treated_since: None,
            horizon_days: model.horizon_days,
            outcome: TreatmentOutcome::default(),
            // Untreated, no drug and no lasting effect: nothing scheduled.
            next_day: NEVER,
            assess_day: NEVER,
            assess_capped: false,
            assess_stale: false,
            taper_days: taper_days(plan, Genotype::Sporadic),
            course_steps: course_steps(plan, &model.drugs),
            effects: Effects::NONE,
            effects_stale: false,
            lasting_next: NEVER,
            any_lasting: false,
            drugs_due: NEVER,
            drugs_stale: false,
        }
    }

    /// Makes this state patient `patient`'s fresh state under the same plan
    /// and model, as [`TreatmentState::new`] would build it, so a runner
    /// keeps one state per arm rather than building one per patient. The
    /// course-log rings keep their old days: none is marked in use, and a
    /// ring is filled when its first course is logged, so none is read
    /// before then (clearing them would cost more than the rest).
    pub fn reset(&mut self, patient: u64) {
        self.genotype = Genotype::Sporadic;
        self.patient = patient;
        self.rng = None;
        self.phase = Phase::Untreated;
        self.step_start = 0.0;
        self.next_assess = NEVER;
        self.on = [None; MAX_STEP_DRUGS];
        self.slots_used = 0;
        self.slot_due = [NEVER; MAX_STEP_DRUGS];
        self.slot_course = [NEVER; MAX_STEP_DRUGS];
        self.courses_next = NEVER;
        self.late_courses = 0;
        self.changed = false;
        self.in_flare = false;
        self.last_flare_end = 0.0;
        self.flares_on_step = 0;
        self.flare_starts_on_step = [f64::NEG_INFINITY; 3];
        self.had_adverse_event = 0;
        self.failed = 0;
        self.started = 0;
        self.responsiveness_drawn = 0;
        self.responders = 0;
        self.course_logged = 0;
        self.course_next = [0; MAX_DRUGS];
        self.lasting_until = [0.0; MAX_DRUGS];
        self.treated_since = None;
        self.outcome = TreatmentOutcome::default();
        self.next_day = NEVER;
        self.assess_day = NEVER;
        self.assess_capped = false;
        self.assess_stale = false;
        self.taper_days = taper_days(self.plan, Genotype::Sporadic);
        self.effects = Effects::NONE;
        self.effects_stale = false;
        self.lasting_next = NEVER;
        self.any_lasting = false;
        self.drugs_due = NEVER;
        self.drugs_stale = false;
    }

    /// Sets the patient's genotype (drawn by the patient loop at baseline).
    pub fn set_genotype(&mut self, g: Genotype) {
        self.genotype = g;
        self.taper_days = taper_days(self.plan, g);
    }

    /// Whether the patient responds to drug `d` (a fixed trait: drawn from
    /// the patient's stream for that drug alone, so the same whenever asked).
    pub fn is_responder(&self, d: u16) -> bool {
        let drug = &self.drugs[usize::from(d)];
        drug.responsiveness(self.key, self.patient) < drug.p_response(self.genotype)
    }

    /// [`TreatmentState::is_responder`], drawn once per drug and patient.
    fn responds_to(&mut self, d: u16) -> bool {
        let bit = 1 << d;
        if self.responsiveness_drawn & bit == 0 {
            self.responsiveness_drawn |= bit;
            if self.is_responder(d) {
                self.responders |= bit;
            }
        }
        self.responders & bit != 0
    }

    /// The first day drug `d` (table index) was started (inf: never).
    pub fn first_start_day(&self, d: usize) -> f64 {
        self.outcome
            .first_start_day
            .get(d)
            .copied()
            .unwrap_or(NEVER)
    }

    /// The drugs started at least once so far, a bit per drug table index
    /// (each started on or before the last day the strategy was told of).
    pub fn started_drugs(&self) -> u32 {
        self.started
    }

    /// The next day on which the strategy acts by itself.
    pub fn next_event_day(&self) -> f64 {
        self.next_day
    }

    /// Whether no drug is being given (a course drug counts between its courses).
    pub fn no_drug_on(&self) -> bool {
        debug_assert_eq!(self.slots_used == 0, self.on.iter().all(Option::is_none));
        self.slots_used == 0
    }

    /// Reacts to what happened to the patient. Returns whether the drugs
    /// given, their effects or the drugs started changed; when false, only
    /// [`TreatmentState::next_event_day`] may have moved, so the caller
    /// need not read the rest again.
    ///
    /// Inline: most flare starts and ends only count or note the day (off
    /// a step they change nothing else), so only those on a step and the
    /// triggers that may act leave the caller.
    #[inline]
    pub fn on<O: Observer>(
        &mut self,
        trigger: TreatmentTrigger,
        day: f64,
        in_flare: bool,
        obs: &mut O,
        intervals: &mut Intervals,
    ) -> bool {
        match (trigger, self.phase) {
            (TreatmentTrigger::FlareStart, Phase::Untreated | Phase::Stopped) => {
                self.in_flare = in_flare;
                false
            }
            (TreatmentTrigger::FlareStart, Phase::OnStep(_)) => {
                self.flare_start_on_step(day, in_flare);
                false
            }
            (TreatmentTrigger::FlareEnd, Phase::OnStep(_)) => {
                self.flare_end_on_step(day, in_flare);
                false
            }
            (TreatmentTrigger::FlareEnd, _) => {
                self.in_flare = in_flare;
                self.last_flare_end = day;
                false
            }
            _ => self.act_and_compare(trigger, day, in_flare, obs, intervals),
        }
    }

    /// A flare started on a step: the effects stay; the flare brings a
    /// visit, and may make an assessment act.
    #[inline(never)]
    fn flare_start_on_step(&mut self, day: f64, in_flare: bool) {
        self.catch_up_assessments(day);
        self.in_flare = in_flare;
        self.outcome.flares_on_treatment += 1;
        self.flares_on_step += 1;
        let [_, a, b] = self.flare_starts_on_step;
        self.flare_starts_on_step = [a, b, day];
        let visit = day + self.plan.flare_visit_days;
        if visit < self.next_assess {
            self.next_assess = visit;
        }
        self.rescan_assessments();
    }

    /// A flare ended on a step: it may make an assessment act (a taper
    /// after sustained remission).
    #[inline(never)]
    fn flare_end_on_step(&mut self, day: f64, in_flare: bool) {
        self.catch_up_assessments(day);
        self.in_flare = in_flare;
        self.last_flare_end = day;
        self.rescan_assessments();
    }

    /// [`TreatmentState::act`] for the triggers that may act, telling
    /// whether what the patient loop reads afterwards may have changed:
    /// whether any drug is given, the drugs started or the effects (any
    /// drug started or stopped counts as a change). Most acting events (a
    /// course given, an assessment that stays, an effect onset of a
    /// non-responder) change none of them.
    #[inline(never)]
    fn act_and_compare<O: Observer>(
        &mut self,
        trigger: TreatmentTrigger,
        day: f64,
        in_flare: bool,
        obs: &mut O,
        intervals: &mut Intervals,
    ) -> bool {
        self.catch_up_assessments(day);
        if in_flare != self.in_flare {
            self.in_flare = in_flare;
            self.assess_stale = true;
        }
        self.act(trigger, day, obs, intervals);
        self.changed
    }

    /// Takes the assessments due before `day` that changed nothing: until
    /// the strategy is told something new, what an assessment decides
    /// depends only on its day, so those before the first one that acts
    /// ([`TreatmentState::first_acting_assessment`]) are not events of
    /// their own; each would only have scheduled the next one.
    #[inline]
    fn catch_up_assessments(&mut self, day: f64) {
        if let Phase::OnStep(_) = self.phase {
            while self.next_assess < day {
                let next = self.next_assess + self.plan.assess_every_days;
                if next <= self.next_assess {
                    break;
                }
                self.next_assess = next;
            }
        }
    }

    /// The first assessment of the schedule, from `from` (a day of the
    /// schedule, [`TreatmentState::next_assess`] or a later one none
    /// before which acts) on, that may change something while nothing else
    /// happens (inf if none can): one where the patient is due to be
    /// tapered off or escalated, or the first one on or after `stop` (the
    /// drugs' or lasting effects' next event, taken as a scheduled event
    /// anyway, or the horizon), where the scan ends.
    #[inline(always)]
    fn first_acting_assessment(&self, from: f64, stop: f64) -> f64 {
        let every = self.plan.assess_every_days;
        // What `verdict` decides, with the parts that do not depend on the
        // day taken out of the scan: in a flare it depends on the day only
        // through the minimum time on the step, out of one through the time
        // since the flare ended.
        let min_days = self.plan.min_days_on_step;
        let step_start = self.step_start;
        let reaches_min = |day: f64| day - step_start + SCHEDULE_SLACK_DAYS >= min_days;
        if self.in_flare {
            if self.no_drug_on() && self.step_given_in_courses() {
                // The step has run out: the first assessment gives it again or moves on.
                return from;
            }
            if !self.still_active(from) {
                return NEVER;
            }
            return first_schedule_day(from, every, stop, reaches_min);
        }
        let (taper, since) = (self.taper_after_days(), self.last_flare_end);
        let tapers = |day: f64| day - since >= taper;
        match self.plan.escalate_when {
            EscalateWhen::NotInRemission => {
                let remission = self.plan.remission_days;
                first_schedule_day(from, every, stop, |day| {
                    tapers(day) || (day - since < remission && reaches_min(day))
                })
            }
            // Out of a flare only a taper can come.
            EscalateWhen::NoResponse | EscalateWhen::Active if taper.is_finite() => {
                first_schedule_day(from, every, stop, tapers)
            }
            EscalateWhen::NoResponse | EscalateWhen::Active => NEVER,
        }
    }

    /// The triggers that can change drugs, schedule or effects.
    #[inline]
    fn act<O: Observer>(
        &mut self,
        trigger: TreatmentTrigger,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        self.changed = false;
        match trigger {
            TreatmentTrigger::Diagnosis => self.enter_step(0, day, obs, intervals),
            TreatmentTrigger::FlareStart => match self.phase {
                Phase::TaperedOff(k) => {
                    let restart = match self.plan.on_relapse {
                        OnRelapse::Escalate if k + 1 < self.plan.steps.len() => k + 1,
                        _ => k,
                    };
                    if self.tolerated(&self.plan.steps[restart]) {
                        self.enter_step(restart, day, obs, intervals);
                    } else {
                        // The step holds a drug stopped for an adverse event:
                        // the arm's rule for that case picks what is given.
                        self.phase = Phase::OnStep(restart);
                        self.assess_stale = true;
                        let stopped = self.plan.steps[restart]
                            .iter()
                            .copied()
                            .find(|&d| !self.tolerated(&[d]));
                        self.after_adverse_event(stopped, day, obs, intervals);
                    }
                    self.outcome.flares_on_treatment += 1;
                }
                Phase::OnStep(_) | Phase::Untreated | Phase::Stopped => return,
            },
            TreatmentTrigger::FlareEnd => return,
            TreatmentTrigger::Scheduled => self.scheduled(day, obs, intervals),
        }
        self.refresh();
    }

    /// The effects in force now: those of the drugs given, and the lasting
    /// relapse-hazard effects of disease-modifying drugs stopped recently.
    pub fn effects(&self) -> Effects {
        self.effects
    }

    /// Closes open drug intervals at the end of observation.
    pub fn close<O: Observer>(&mut self, day: f64, intervals: &mut Intervals, obs: &mut O) {
        // A course due on the day observation ends would come after it
        // (loss to follow-up) or count no day (the horizon).
        if self.courses_next < day {
            self.give_courses_before(day, obs);
        }
        for slot in 0..MAX_STEP_DRUGS {
            if self.slots_used & 1 << slot == 0 {
                continue;
            }
            if let Some(d) = self.on[slot].take() {
                self.slots_used &= !(1 << slot);
                self.slot_due[slot] = NEVER;
                self.slot_course[slot] = NEVER;
                self.assess_stale = true;
                self.record_exposure(&d, day, intervals);
                self.effects_stale |= d.effect_announced;
                self.drugs_stale = true;
            }
        }
        self.stop_treated_clock(day);
        self.refresh();
    }

    /// The courses given late since the last call, which the patient loop
    /// counts against its event cap as the steps they would have been.
    pub fn take_late_courses(&mut self) -> u32 {
        std::mem::take(&mut self.late_courses)
    }

    /// The outcomes gathered.
    pub fn outcome(&self) -> TreatmentOutcome {
        self.outcome
    }

    fn stop_treated_clock(&mut self, day: f64) {
        if let Some(since) = self.treated_since.take() {
            self.outcome.treated_days += day - since;
        }
    }

    /// The time series counts every drug from start to stop (for a drug
    /// given in courses that is its effect window); exposure days count a
    /// course drug's infusion days only, recorded as the courses are given.
    fn record_exposure(&mut self, d: &OnDrug, day: f64, intervals: &mut Intervals) {
        if day > d.start {
            intervals.push((d.drug, d.start, day));
            if !self.drugs[usize::from(d.drug)].is_course() {
                self.outcome.drug_days[usize::from(d.drug)] += day - d.start;
            }
        }
    }

    fn enter_step<O: Observer>(
        &mut self,
        k: usize,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        let Some(step) = self.plan.steps.get(k) else {
            return;
        };
        self.enter_drugs(step, k, day, obs, intervals);
    }

    /// Puts the patient on `step` (the drugs of ladder step `k`, or a fallback).
    fn enter_drugs<O: Observer>(
        &mut self,
        step: &[u16],
        k: usize,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        if k > 0 {
            self.outcome.second_step_day = self.outcome.second_step_day.min(day);
        }
        self.flares_on_step = 0;
        self.flare_starts_on_step = [f64::NEG_INFINITY; 3];
        // Drugs that the new step keeps go on without a restart.
        for slot in 0..MAX_STEP_DRUGS {
            if self.slots_used & 1 << slot == 0 {
                continue;
            }
            if let Some(d) = &self.on[slot] {
                if !step.contains(&d.drug) {
                    self.stop_slot(slot, day, StopReason::Escalation, obs, intervals);
                }
            }
        }
        for &drug in step {
            if !self.on.iter().flatten().any(|d| d.drug == drug) {
                self.start_drug(drug, k, day, obs);
            }
        }
        self.phase = Phase::OnStep(k);
        self.assess_stale = true;
        let reached = u16::try_from(k + 1).unwrap_or(u16::MAX);
        self.outcome.steps_reached = self.outcome.steps_reached.max(reached);
        self.step_start = day;
        self.next_assess = day + self.plan.assess_every_days;
        if self.treated_since.is_none() {
            self.treated_since = Some(day);
        }
    }

    fn start_drug<O: Observer>(&mut self, drug: u16, step: usize, day: f64, obs: &mut O) {
        let Some(slot) = self.on.iter().position(Option::is_none) else {
            return;
        };
        let m = &self.drugs[usize::from(drug)];
        let (key, patient) = (self.key, self.patient);
        let rng = self
            .rng
            .get_or_insert_with(|| key.stream(patient, Purpose::Treatment));
        let e = exp1(rng);
        let responder = self.responds_to(drug);
        // On the drug again: its on-drug effect replaces the lasting one.
        if self.lasting_until[usize::from(drug)] > 0.0 {
            self.lasting_until[usize::from(drug)] = 0.0;
            self.lasting_changed();
        }
        // The effects change when the drug's effect sets in (at once
        // without an onset lag: `announce_effect` below), not at its start.
        let first = &mut self.outcome.first_start_day[usize::from(drug)];
        *first = first.min(day);
        self.started |= 1 << drug;
        self.outcome.last_drug = Some(drug);
        let mut d = OnDrug {
            drug,
            start: day,
            effect_day: day + m.lag_days,
            effect_announced: false,
            responder,
            ae_day: if m.ae_per_day > 0.0 {
                day + e / m.ae_per_day
            } else {
                NEVER
            },
            stop_day: day + m.max_days,
            next_course_day: NEVER,
            courses: 0,
            due: NEVER,
        };
        obs.event(
            day,
            EventKind::DrugStart {
                drug,
                step: step as u16,
            },
        );
        if m.is_course() {
            self.give_course(&mut d, day, obs);
        }
        if d.effect_day <= day {
            self.announce_effect(&mut d, day, obs);
        }
        if !O::TAKES_COURSES && m.is_course() {
            // The courses to come are no events: the end they bring is one.
            d.stop_day = d.stop_day.min(self.courses_end_day(&d));
        }
        self.store_slot::<O>(slot, d);
        self.slots_used |= 1 << slot;
        self.changed = true;
    }

    #[inline]
    fn give_course<O: Observer>(&mut self, d: &mut OnDrug, day: f64, obs: &mut O) {
        let m = &self.drugs[usize::from(d.drug)];
        if m.max_courses_per_year != u32::MAX {
            let drug = usize::from(d.drug);
            if self.course_logged & 1 << drug == 0 {
                self.course_logged |= 1 << drug;
                self.course_log[drug] = [f64::NEG_INFINITY; COURSE_LOG];
            }
            let limit = m.max_courses_per_year.min(COURSE_LOG as u32) as usize;
            let (log, next) = (&mut self.course_log[drug], &mut self.course_next[drug]);
            if let Some(wait) = log_course(log, next, day, limit) {
                d.next_course_day = wait;
                return;
            }
        }
        // A course that would run past the horizon counts only its days inside it.
        let end = (day + m.course_days).min(self.horizon_days);
        self.outcome.drug_days[usize::from(d.drug)] += end - day;
        obs.event(
            day,
            EventKind::DrugCourse {
                drug: d.drug,
                days: end - day,
            },
        );
        d.courses += 1;
        if d.courses >= m.max_courses {
            // After the last course the effect lasts one interval, then the drug ends.
            d.next_course_day = NEVER;
            d.stop_day = d.stop_day.min(day + m.course_every_days);
        } else {
            d.next_course_day = day + m.course_every_days;
        }
    }

    /// Stores drug `d` in `slot` with its due days. For an observer that
    /// takes no course ([`Observer::TAKES_COURSES`]) its next course is
    /// kept apart from them, to be given by the next scheduled event on or
    /// after its day.
    #[inline]
    fn store_slot<O: Observer>(&mut self, slot: usize, mut d: OnDrug) {
        let deferred = !O::TAKES_COURSES;
        d.update_due(deferred);
        self.on[slot] = Some(d);
        self.slot_due[slot] = d.due;
        self.slot_course[slot] = if deferred { d.next_course_day } else { NEVER };
        self.drugs_stale = true;
    }

    /// Gives the courses kept apart from the events (`slot_course`) that
    /// are due before `day`, each on its own day. A course changes nothing
    /// the strategy decides by or the patient loop reads, and the end of
    /// a drug's courses is an event of its own
    /// ([`TreatmentState::courses_end_day`]), so giving them late gives
    /// the same courses, in day order per drug.
    pub(super) fn give_courses_before<O: Observer>(&mut self, day: f64, obs: &mut O) {
        for slot in 0..MAX_STEP_DRUGS {
            if self.slot_course[slot] >= day {
                continue;
            }
            let Some(mut d) = self.on[slot] else {
                continue;
            };
            while d.next_course_day < day {
                let course_day = d.next_course_day;
                self.give_course(&mut d, course_day, obs);
                self.late_courses += 1;
            }
            self.store_slot::<O>(slot, d);
        }
        self.courses_next = effects::earliest(self.slot_course);
    }

    /// The day drug `d`'s courses end if nothing stops it before: one
    /// interval after its last course (inf: no last course, or none within
    /// the horizon). The courses to come are laid out as
    /// [`TreatmentState::give_course`] gives them, the yearly limit on a
    /// copy of the drug's ring (in use: the drug's first course was asked
    /// for at its start).
    fn courses_end_day(&self, d: &OnDrug) -> f64 {
        let m = &self.drugs[usize::from(d.drug)];
        if m.max_courses == u32::MAX {
            return NEVER;
        }
        let drug = usize::from(d.drug);
        let limited = m.max_courses_per_year != u32::MAX;
        let limit = m.max_courses_per_year.min(COURSE_LOG as u32) as usize;
        let (mut log, mut next) = (self.course_log[drug], self.course_next[drug]);
        let (mut day, mut courses) = (d.next_course_day, d.courses);
        while courses < m.max_courses && day <= self.horizon_days {
            if limited {
                if let Some(wait) = log_course(&mut log, &mut next, day, limit) {
                    day = wait;
                    continue;
                }
            }
            courses += 1;
            if courses >= m.max_courses {
                return day + m.course_every_days;
            }
            day += m.course_every_days;
        }
        NEVER
    }

    /// Whether a course of every drug of `step` may be given at `day` under
    /// its yearly limit (drugs given continuously always may).
    fn courses_allowed(&self, step: &[u16], day: f64) -> bool {
        step.iter().all(|&drug| {
            let limit = self.drugs[usize::from(drug)].max_courses_per_year;
            let d = usize::from(drug);
            limit == u32::MAX
                || self.course_logged & 1 << d == 0
                || year_limit_reached(
                    &self.course_log[d],
                    usize::from(self.course_next[d]),
                    day,
                    limit.min(COURSE_LOG as u32) as usize,
                )
                .is_none()
        })
    }

    fn announce_effect<O: Observer>(&mut self, d: &mut OnDrug, day: f64, obs: &mut O) {
        if !d.responder {
            // The clinician sees no response: the drug has failed.
            self.failed |= 1 << d.drug;
        }
        d.effect_announced = true;
        self.effects_stale = true;
        obs.event(
            day,
            EventKind::DrugEffect {
                drug: d.drug,
                responder: d.responder,
            },
        );
    }

    fn stop_slot<O: Observer>(
        &mut self,
        slot: usize,
        day: f64,
        reason: StopReason,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        if let Some(d) = self.on[slot].take() {
            self.slots_used &= !(1 << slot);
            self.slot_due[slot] = NEVER;
            self.slot_course[slot] = NEVER;
            self.changed = true;
            self.assess_stale = true;
            self.record_exposure(&d, day, intervals);
            let lasting = self.drugs[usize::from(d.drug)].lasting_days;
            if d.responder && d.effect_announced && lasting > 0.0 {
                self.lasting_until[usize::from(d.drug)] = day + lasting;
                self.lasting_changed();
            }
            // A drug stopped before its effect set in took nothing away.
            self.effects_stale |= d.effect_announced;
            self.drugs_stale = true;
            obs.event(
                day,
                EventKind::DrugStop {
                    drug: d.drug,
                    reason,
                },
            );
        }
    }

    fn stop_all<O: Observer>(
        &mut self,
        day: f64,
        reason: StopReason,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        for slot in 0..MAX_STEP_DRUGS {
            if self.slots_used & 1 << slot != 0 {
                self.stop_slot(slot, day, reason, obs, intervals);
            }
        }
        self.stop_treated_clock(day);
    }

    fn in_sustained_remission(&self, day: f64, weeks_days: f64) -> bool {
        !self.in_flare && day - self.last_flare_end >= weeks_days
    }

    fn taper_after_days(&self) -> f64 {
        self.taper_days
    }

    fn assess<O: Observer>(&mut self, day: f64, obs: &mut O, intervals: &mut Intervals) {
        self.next_assess = day + self.plan.assess_every_days;
        self.assess_stale = true;
        let Phase::OnStep(k) = self.phase else { return };
        match self.verdict(day) {
            Verdict::Taper => {
                self.stop_all(day, StopReason::Taper, obs, intervals);
                self.phase = Phase::TaperedOff(k);
            }
            Verdict::StepRunOut => self.after_step_ran_out(k, day, obs, intervals),
            Verdict::Escalate => self.escalate(day, obs, intervals),
            Verdict::Stay => {}
        }
    }

    /// The disease is back after the drugs of step `k` ran out (a drug given
    /// in courses had its last course): a step the patient responded to is
    /// given again within its yearly dose limit; otherwise the next step
    /// (or, at the top, the same step again once the limit allows).
    fn after_step_ran_out<O: Observer>(
        &mut self,
        k: usize,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        let plan = self.plan;
        let step = &plan.steps[k];
        let mut responded = false;
        for &d in step {
            if self.responds_to(d) {
                responded = true;
                break;
            }
        }
        let allowed = self.courses_allowed(step, day);
        if responded && allowed {
            self.enter_step(k, day, obs, intervals);
        } else if let Some(j) = self.next_usable_step(k) {
            self.mark_failed(step);
            self.enter_step(j, day, obs, intervals);
        } else if allowed {
            self.enter_step(k, day, obs, intervals);
        }
    }

    /// Whether the current step holds a drug given in courses (whose end
    /// is not a decision to stop: the next course may be due).
    fn step_given_in_courses(&self) -> bool {
        let Phase::OnStep(k) = self.phase else {
            return false;
        };
        // A ladder has at most 64 steps (`MAX_LADDER_STEPS`).
        self.course_steps >> k & 1 != 0
    }

    /// Marks the drugs of `step` as failed (left for lack of response).
    fn mark_failed(&mut self, step: &[u16]) {
        for &d in step {
            self.failed |= 1 << d;
        }
    }

    /// What an assessment on a step at `day` decides.
    #[inline]
    fn verdict(&self, day: f64) -> Verdict {
        if self.in_sustained_remission(day, self.taper_after_days()) {
            return Verdict::Taper;
        }
        if self.in_flare && self.no_drug_on() && self.step_given_in_courses() {
            return Verdict::StepRunOut;
        }
        let still_active = self.still_active(day);
        // The assessment due at exactly the minimum time on the step counts
        // as reaching it: assessment days are sums of floating-point days,
        // and their rounding must not decide an escalation.
        let on_step = day - self.step_start + SCHEDULE_SLACK_DAYS;
        if still_active && on_step >= self.plan.min_days_on_step {
            Verdict::Escalate
        } else {
            Verdict::Stay
        }
    }

    /// Whether the disease is still active at `day` by the arm's escalation rule.
    #[inline]
    fn still_active(&self, day: f64) -> bool {
        match self.plan.escalate_when {
            EscalateWhen::NotInRemission => {
                !self.in_sustained_remission(day, self.plan.remission_days)
            }
            EscalateWhen::NoResponse => {
                // The clinician sees whether the step's drugs relieved the pain:
                // a responder to any of them has responded.
                let responding = || self.on.iter().flatten().any(|d| d.responder);
                // A responder relapsing now and then stays on the step;
                // three flares on it within a year are a loss of response.
                let [first, _, last] = self.flare_starts_on_step;
                let relapsing = last - first <= RELAPSES_WITHIN_DAYS;
                self.in_flare && (relapsing || !responding())
            }
            EscalateWhen::Active => self.in_flare,
        }
    }

    /// After an adverse event on `stopped` (None: not known): first a
    /// drug of the same class in its place (a class switch), else the next
    /// step, or on the last step the arm's fallback. A drug that caused an
    /// adverse event is never given again, and a drug the patient failed is
    /// never the fallback.
    fn after_adverse_event<O: Observer>(
        &mut self,
        stopped: Option<u16>,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        let Phase::OnStep(k) = self.phase else { return };
        let plan = self.plan;
        let switch = stopped
            .and_then(|d| self.drugs[usize::from(d)].switch_to)
            .filter(|&alt| self.usable(&[alt]));
        if let (Some(d), Some(alt)) = (stopped, switch) {
            let mut step = [0u16; MAX_STEP_DRUGS];
            let drugs = &plan.steps[k];
            for (slot, &x) in step.iter_mut().zip(drugs) {
                *slot = if x == d { alt } else { x };
            }
            let n = drugs.len().min(MAX_STEP_DRUGS);
            if self.tolerated(&step[..n]) {
                self.enter_drugs(&step[..n], k, day, obs, intervals);
                return;
            }
        }
        if let Some(j) = self.next_usable_step(k) {
            self.enter_step(j, day, obs, intervals);
            return;
        }
        match plan.adverse_event_at_top {
            Fallback::Stop => {}
            Fallback::Previous => {
                if let Some(j) = (0..k).rev().find(|&j| self.usable(&plan.steps[j])) {
                    self.enter_step(j, day, obs, intervals);
                    return;
                }
            }
            Fallback::Drug(d) => {
                if self.usable(&[d]) {
                    self.enter_drugs(&[d], k, day, obs, intervals);
                    return;
                }
            }
        }
        self.stop_all(day, StopReason::AdverseEvent, obs, intervals);
        self.phase = Phase::Stopped;
        self.assess_stale = true;
    }

    fn escalate<O: Observer>(&mut self, day: f64, obs: &mut O, intervals: &mut Intervals) {
        let Phase::OnStep(k) = self.phase else { return };
        if let Some(j) = self.next_tolerated_step(k) {
            // Left for lack of response: the step's drugs have failed.
            let plan = self.plan;
            self.mark_failed(&plan.steps[k]);
            self.enter_step(j, day, obs, intervals);
        } else if self.plan.at_top == AtTop::Stop {
            self.stop_all(day, StopReason::TopOfLadder, obs, intervals);
            self.phase = Phase::Stopped;
            self.assess_stale = true;
        } else {
            // Stay on the last step; restart its clock so assessment waits again.
            self.step_start = day;
            self.assess_stale = true;
        }
    }

    /// Whether none of `drugs` has caused an adverse event in this patient.
    fn tolerated(&self, drugs: &[u16]) -> bool {
        drugs.iter().all(|d| self.had_adverse_event & (1 << d) == 0)
    }

    /// Whether none of `drugs` caused an adverse event or failed.
    fn usable(&self, drugs: &[u16]) -> bool {
        self.tolerated(drugs) && drugs.iter().all(|d| self.failed & (1 << d) == 0)
    }

    /// The first step after step `k` whose drugs are all usable (after an
    /// adverse event: neither stopped for one nor failed).
    fn next_usable_step(&self, k: usize) -> Option<usize> {
        (k + 1..self.plan.steps.len()).find(|&j| self.usable(&self.plan.steps[j]))
    }

    /// The first step after step `k` whose drugs have all been tolerated:
    /// a drug stopped for an adverse event is never given again, so
    /// escalation skips the steps that hold one.
    fn next_tolerated_step(&self, k: usize) -> Option<usize> {
        (k + 1..self.plan.steps.len()).find(|&j| self.tolerated(&self.plan.steps[j]))
    }
}

/// The days of sustained remission before tapering a patient of genotype `g` off.
fn taper_days(plan: &TreatmentPlan, g: Genotype) -> f64 {
    match g {
        Genotype::Sporadic => plan.stop_after_remission_days,
        Genotype::Majeed => plan.stop_after_remission_days_majeed,
    }
}

/// The steps of `plan` that hold a drug given in courses, a bit per step.
fn course_steps(plan: &TreatmentPlan, drugs: &[DrugModel]) -> u64 {
    plan.steps
        .iter()
        .enumerate()
        .filter(|(_, step)| step.iter().any(|&d| drugs[usize::from(d)].is_course()))
        .fold(0, |bits, (k, _)| bits | 1 << k)
}

/// The day of the oldest course of the year before `day` if that year
/// holds `limit` courses (1 to `COURSE_LOG`) of a drug's course log, else
/// None. A course is given only while the year before it holds fewer than
/// `limit`, so no year ever holds more (one that did would have held
/// `limit` at its last course): the year holds `limit` exactly when the
/// `limit`-th newest course falls in it, and that course is its oldest.
/// `oldest_slot` is the ring's oldest entry (courses are logged in day
/// order, -inf: empty).
#[inline]
fn year_limit_reached(
    log: &[f64; COURSE_LOG],
    oldest_slot: usize,
    day: f64,
    limit: usize,
) -> Option<f64> {
    debug_assert!((1..=COURSE_LOG).contains(&limit));
    let since = day - YEAR_DAYS + SCHEDULE_SLACK_DAYS;
    let t = log[(oldest_slot + COURSE_LOG - limit) % COURSE_LOG];
    (t > since).then_some(t)
}

/// Logs a course due at `day` in a drug's ring of courses under a yearly
/// limit of `limit` courses (`next`: the ring's oldest slot, which the
/// course replaces), or, when the year before `day` holds `limit` courses
/// already, returns the day the course waits for: the oldest course of
/// that year drops out of it.
#[inline]
fn log_course(log: &mut [f64; COURSE_LOG], next: &mut u8, day: f64, limit: usize) -> Option<f64> {
    if let Some(oldest) = year_limit_reached(log, usize::from(*next), day, limit) {
        return Some(oldest + YEAR_DAYS);
    }
    log[usize::from(*next)] = day;
    *next = if usize::from(*next) + 1 == COURSE_LOG {
        0
    } else {
        *next + 1
    };
    None
}

/// The first day of a schedule every `every` days from `from` on which
/// `acts` holds, or the first on or after `stop` (an interval too small to
/// move the day ends the scan there).
#[inline]
fn first_schedule_day(from: f64, every: f64, stop: f64, acts: impl Fn(f64) -> bool) -> f64 {
    let mut day = from;
    while day < stop && !acts(day) {
        let next = day + every;
        if next <= day {
            break;
        }
        day = next;
    }
    day
}

#[cfg(test)]
mod tests;
