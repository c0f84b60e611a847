//! Treatment of one patient: the drug effects in force and the strategy's
//! state machine (start at diagnosis, assess, escalate, taper, restart on
//! relapse, switch on adverse events, courses of bisphosphonates).
//!
//! The patient loop asks [`TreatmentState::next_event_day`] for the strategy's
//! next own event, tells it about diagnosis and flares through
//! [`TreatmentState::on`], and reads the [`Effects`] in force afterwards.
//! Responsiveness to each drug is a latent patient trait drawn from an
//! arm-independent stream, so re-exposure behaves consistently and all arms
//! see the same responders.

use rand_distr::{Distribution, Exp1};

use crate::model::Genotype;
use crate::scenario::treatment::{ladder_steps, ArmSpec, AtTop, EscalateWhen, OnRelapse};

pub use super::drugs::DrugModel;
use super::model_values::ReplicateModel;
use super::patient::{EventKind, Observer, StopReason};
use super::rng::Purpose;

/// Most drugs a scenario may use (sizes the per-patient exposure arrays).
pub const MAX_DRUGS: usize = 16;
/// Most drugs in one ladder step.
pub const MAX_STEP_DRUGS: usize = 4;

const NEVER: f64 = f64::INFINITY;

/// Multipliers of the natural history in force at a moment (1 = no effect).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effects {
    /// Multiplies the flare hazard in remission.
    pub flare_hazard_ratio: f64,
    /// Multiplies flare duration (rescales the rest of a running flare too).
    pub flare_duration_factor: f64,
    /// Multiplies the mean number of new lesions per flare.
    pub lesion_factor: f64,
    /// Multiplies lesion stage durations that start now (< 1 heals faster).
    pub heal_time_factor: f64,
}

impl Effects {
    /// No treatment effect.
    pub const NONE: Effects = Effects {
        flare_hazard_ratio: 1.0,
        flare_duration_factor: 1.0,
        lesion_factor: 1.0,
        heal_time_factor: 1.0,
    };

    fn combine(&mut self, d: &DrugModel, weight: f64) {
        // Non-responders get `weight` of the log effect (0: none).
        let scale = |f: f64| if weight == 1.0 { f } else { f.powf(weight) };
        self.flare_hazard_ratio *= scale(d.values.flare_hazard_ratio);
        self.flare_duration_factor *= scale(d.values.flare_duration_factor);
        self.lesion_factor *= scale(d.values.lesion_factor);
        self.heal_time_factor *= scale(d.values.heal_time_factor);
    }
}

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

/// One arm's strategy, resolved: steps as drug indices, rules in days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreatmentPlan {
    /// Steps, each a list of drug indices.
    pub steps: Vec<Vec<u16>>,
    /// Days between assessments.
    pub assess_every_days: f64,
    /// Minimum days on a step before escalation.
    pub min_days_on_step: f64,
    /// Escalation rule.
    pub escalate_when: Option<EscalateWhen>,
    /// Days of remission that count as "in remission".
    pub remission_days: f64,
    /// Days of sustained remission before tapering.
    pub stop_after_remission_days: f64,
    /// Relapse after tapering.
    pub on_relapse: Option<OnRelapse>,
    /// Escalation due on the last step.
    pub at_top: Option<AtTop>,
}

impl TreatmentPlan {
    /// Resolves an arm, finding each drug of its ladder by name with
    /// `index`; a name `index` does not know is returned as the error.
    pub fn from_spec(arm: &ArmSpec, index: impl Fn(&str) -> Option<u16>) -> Result<Self, String> {
        let steps = ladder_steps(arm)
            .iter()
            .map(|step| {
                step.iter()
                    .map(|d| index(d).ok_or_else(|| d.clone()))
                    .collect::<Result<Vec<u16>, String>>()
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(TreatmentPlan {
            steps,
            assess_every_days: arm.assess_every_weeks * 7.0,
            min_days_on_step: arm.min_weeks_on_step * 7.0,
            escalate_when: Some(arm.escalate_when),
            remission_days: arm.remission_weeks * 7.0,
            stop_after_remission_days: arm.stop_after_remission_weeks * 7.0,
            on_relapse: Some(arm.on_relapse_after_stop),
            at_top: Some(arm.at_top),
        })
    }
}

/// Per-patient treatment outcomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreatmentOutcome {
    /// Days exposed to each drug (courses count their infusion days).
    pub drug_days: [f64; MAX_DRUGS],
    /// Highest ladder step reached (1-based; 0 = never treated).
    pub steps_reached: u16,
    /// Drugs stopped for adverse events.
    pub adverse_events: u32,
    /// Flares that started while on a treatment step.
    pub flares_on_treatment: u32,
    /// Days on a treatment step.
    pub treated_days: f64,
}

impl Default for TreatmentOutcome {
    fn default() -> Self {
        Self {
            drug_days: [0.0; MAX_DRUGS],
            steps_reached: 0,
            adverse_events: 0,
            flares_on_treatment: 0,
            treated_days: 0.0,
        }
    }
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
    responsiveness: [f64; MAX_DRUGS],
    rng: super::rng::Stream,
    phase: Phase,
    step_start: f64,
    next_assess: f64,
    on: [Option<OnDrug>; MAX_STEP_DRUGS],
    in_flare: bool,
    last_flare_end: f64,
    treated_since: Option<f64>,
    horizon_days: f64,
    outcome: TreatmentOutcome,
}

/// Where drug intervals go: `(drug, start_day, end_day)`.
pub type Intervals = Vec<(u16, f64, f64)>;

impl<'a> TreatmentState<'a> {
    /// A patient's fresh state under `plan`, with its latent responsiveness
    /// drawn from the arm-independent responsiveness stream.
    pub fn new(plan: &'a TreatmentPlan, model: &'a ReplicateModel, patient: u64) -> Self {
        let mut responsiveness = [1.0; MAX_DRUGS];
        for (u, drug) in responsiveness.iter_mut().zip(&model.drugs) {
            *u = drug.responsiveness(&model.key, patient);
        }
        TreatmentState {
            plan,
            drugs: &model.drugs,
            genotype: Genotype::Sporadic,
            responsiveness,
            rng: model.key.stream(patient, Purpose::Treatment),
            phase: Phase::Untreated,
            step_start: 0.0,
            next_assess: NEVER,
            on: [None; MAX_STEP_DRUGS],
            in_flare: false,
            last_flare_end: 0.0,
            treated_since: None,
            horizon_days: model.horizon_days,
            outcome: TreatmentOutcome::default(),
        }
    }

    /// Sets the patient's genotype (drawn by the patient loop at baseline).
    pub fn set_genotype(&mut self, g: Genotype) {
        self.genotype = g;
    }

    /// Whether the patient responds to drug `d` (a fixed trait).
    pub fn is_responder(&self, d: u16) -> bool {
        let drug = &self.drugs[usize::from(d)];
        self.responsiveness[usize::from(d)] < drug.p_response(self.genotype)
    }

    /// The next day on which the strategy acts by itself.
    pub fn next_event_day(&self) -> f64 {
        let mut next = if matches!(self.phase, Phase::OnStep(_)) {
            self.next_assess
        } else {
            NEVER
        };
        for d in self.on.iter().flatten() {
            if !d.effect_announced {
                next = next.min(d.effect_day);
            }
            next = next.min(d.ae_day).min(d.stop_day).min(d.next_course_day);
        }
        next
    }

    /// Reacts to what happened to the patient.
    pub fn on<O: Observer>(
        &mut self,
        trigger: TreatmentTrigger,
        day: f64,
        in_flare: bool,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        self.in_flare = in_flare;
        match trigger {
            TreatmentTrigger::Diagnosis => self.enter_step(0, day, obs, intervals),
            TreatmentTrigger::FlareStart => match self.phase {
                Phase::OnStep(_) => self.outcome.flares_on_treatment += 1,
                Phase::TaperedOff(k) => {
                    let restart = match self.plan.on_relapse {
                        Some(OnRelapse::Escalate) if k + 1 < self.plan.steps.len() => k + 1,
                        _ => k,
                    };
                    self.enter_step(restart, day, obs, intervals);
                    self.outcome.flares_on_treatment += 1;
                }
                Phase::Untreated | Phase::Stopped => {}
            },
            TreatmentTrigger::FlareEnd => self.last_flare_end = day,
            TreatmentTrigger::Scheduled => self.scheduled(day, obs, intervals),
        }
    }

    /// The effects in force now.
    pub fn effects(&self) -> Effects {
        let mut e = Effects::NONE;
        for d in self.on.iter().flatten() {
            if !d.effect_announced {
                continue;
            }
            let drug = &self.drugs[usize::from(d.drug)];
            let weight = if d.responder {
                1.0
            } else {
                drug.values.partial_effect
            };
            if weight > 0.0 {
                e.combine(drug, weight);
            }
        }
        e
    }

    /// Closes open drug intervals at the end of observation.
    pub fn close<O: Observer>(&mut self, day: f64, intervals: &mut Intervals, _obs: &mut O) {
        for slot in 0..MAX_STEP_DRUGS {
            if let Some(d) = self.on[slot].take() {
                self.record_exposure(&d, day, intervals);
            }
        }
        self.stop_treated_clock(day);
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

    /// Continuous drugs count their whole interval; course drugs record
    /// their courses as they are given, so only the open course is closed here.
    fn record_exposure(&mut self, d: &OnDrug, day: f64, intervals: &mut Intervals) {
        let drug = &self.drugs[usize::from(d.drug)];
        if drug.is_course() {
            return;
        }
        if day > d.start {
            intervals.push((d.drug, d.start, day));
            self.outcome.drug_days[usize::from(d.drug)] += day - d.start;
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
        // Drugs that the new step keeps go on without a restart.
        for slot in 0..MAX_STEP_DRUGS {
            if let Some(d) = self.on[slot] {
                if !step.contains(&d.drug) {
                    self.stop_slot(slot, day, StopReason::Escalation, obs, intervals);
                }
            }
        }
        for &drug in step {
            if !self.on.iter().flatten().any(|d| d.drug == drug) {
                self.start_drug(drug, k, day, obs, intervals);
            }
        }
        self.phase = Phase::OnStep(k);
        let reached = u16::try_from(k + 1).unwrap_or(u16::MAX);
        self.outcome.steps_reached = self.outcome.steps_reached.max(reached);
        self.step_start = day;
        self.next_assess = day + self.plan.assess_every_days;
        if self.treated_since.is_none() {
            self.treated_since = Some(day);
        }
    }

    fn start_drug<O: Observer>(
        &mut self,
        drug: u16,
        step: usize,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        let Some(slot) = self.on.iter().position(Option::is_none) else {
            return;
        };
        let m = &self.drugs[usize::from(drug)];
        let e: f64 = Exp1.sample(&mut self.rng);
        let mut d = OnDrug {
            drug,
            start: day,
            effect_day: day + m.lag_days,
            effect_announced: false,
            responder: self.is_responder(drug),
            ae_day: if m.ae_per_day > 0.0 {
                day + e / m.ae_per_day
            } else {
                NEVER
            },
            stop_day: day + m.max_days,
            next_course_day: NEVER,
            courses: 0,
        };
        obs.event(
            day,
            EventKind::DrugStart {
                drug,
                step: step as u16,
            },
        );
        if m.is_course() {
            self.give_course(&mut d, day, obs, intervals);
        }
        if d.effect_day <= day {
            self.announce_effect(&mut d, day, obs);
        }
        self.on[slot] = Some(d);
    }

    fn give_course<O: Observer>(
        &mut self,
        d: &mut OnDrug,
        day: f64,
        obs: &mut O,
        intervals: &mut Intervals,
    ) {
        let m = &self.drugs[usize::from(d.drug)];
        // A course that would run past the horizon counts only its days inside it.
        let end = (day + m.course_days).min(self.horizon_days);
        intervals.push((d.drug, day, end));
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

    fn announce_effect<O: Observer>(&self, d: &mut OnDrug, day: f64, obs: &mut O) {
        d.effect_announced = true;
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
            self.record_exposure(&d, day, intervals);
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
            self.stop_slot(slot, day, reason, obs, intervals);
        }
        self.stop_treated_clock(day);
    }

    /// Handles everything due at `day`, drug by drug, then the assessment.
    fn scheduled<O: Observer>(&mut self, day: f64, obs: &mut O, intervals: &mut Intervals) {
        for slot in 0..MAX_STEP_DRUGS {
            let Some(mut d) = self.on[slot] else { continue };
            if !d.effect_announced && d.effect_day <= day {
                self.announce_effect(&mut d, day, obs);
            }
            if d.next_course_day <= day {
                self.give_course(&mut d, day, obs, intervals);
            }
            self.on[slot] = Some(d);
            if d.ae_day <= day {
                self.stop_slot(slot, day, StopReason::AdverseEvent, obs, intervals);
                self.outcome.adverse_events += 1;
                self.escalate(day, obs, intervals);
                return;
            }
            if d.stop_day <= day {
                self.stop_slot(slot, day, StopReason::CourseEnd, obs, intervals);
            }
        }
        if let Phase::OnStep(_) = self.phase {
            if self.next_assess <= day {
                self.assess(day, obs, intervals);
            }
        }
    }

    fn in_sustained_remission(&self, day: f64, weeks_days: f64) -> bool {
        !self.in_flare && day - self.last_flare_end >= weeks_days
    }

    fn assess<O: Observer>(&mut self, day: f64, obs: &mut O, intervals: &mut Intervals) {
        self.next_assess = day + self.plan.assess_every_days;
        let Phase::OnStep(k) = self.phase else { return };
        if self.in_sustained_remission(day, self.plan.stop_after_remission_days) {
            self.stop_all(day, StopReason::Taper, obs, intervals);
            self.phase = Phase::TaperedOff(k);
            return;
        }
        let still_active = match self.plan.escalate_when {
            Some(EscalateWhen::NotInRemission) => {
                !self.in_sustained_remission(day, self.plan.remission_days)
            }
            _ => self.in_flare,
        };
        if still_active && day - self.step_start >= self.plan.min_days_on_step {
            self.escalate(day, obs, intervals);
        }
    }

    fn escalate<O: Observer>(&mut self, day: f64, obs: &mut O, intervals: &mut Intervals) {
        let Phase::OnStep(k) = self.phase else { return };
        if k + 1 < self.plan.steps.len() {
            self.enter_step(k + 1, day, obs, intervals);
        } else if self.plan.at_top == Some(AtTop::Stop) {
            self.stop_all(day, StopReason::TopOfLadder, obs, intervals);
            self.phase = Phase::Stopped;
        } else {
            // Stay on the last step; restart its clock so assessment waits again.
            self.step_start = day;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::patient::EventLog;
    use crate::scenario::treatment::DrugValues;
    use crate::scenario::Scenario;

    fn drug(name: &str, lag_weeks: f64, ae: f64, course_days: f64) -> DrugModel {
        DrugModel::new(
            name.into(),
            DrugValues {
                p_response: 1.0,
                p_response_majeed: 1.0,
                onset_lag_weeks: lag_weeks,
                flare_hazard_ratio: 0.5,
                flare_duration_factor: 0.5,
                lesion_factor: 0.5,
                heal_time_factor: 0.5,
                partial_effect: 0.0,
                adverse_event_per_year: ae,
                course_days,
                course_every_weeks: 12.0,
                max_courses: 2.0,
                max_weeks: 0.0,
            },
        )
    }

    fn plan(steps: Vec<Vec<u16>>) -> TreatmentPlan {
        TreatmentPlan {
            steps,
            assess_every_days: 28.0,
            min_days_on_step: 84.0,
            escalate_when: Some(EscalateWhen::Active),
            remission_days: 84.0,
            stop_after_remission_days: 168.0,
            on_relapse: Some(OnRelapse::Restart),
            at_top: Some(AtTop::Continue),
        }
    }

    struct Harness {
        model: ReplicateModel,
    }

    impl Harness {
        fn new(drugs: Vec<DrugModel>) -> Self {
            let s: Scenario = toml::from_str("").unwrap();
            let mut model = ReplicateModel::new(&s, &Default::default(), 0);
            model.drugs = drugs;
            Harness { model }
        }
    }

    /// Runs scheduled events up to `until`, returning the log.
    fn run_until(
        t: &mut TreatmentState,
        until: f64,
        log: &mut EventLog,
        iv: &mut Intervals,
        in_flare: bool,
    ) {
        loop {
            let next = t.next_event_day();
            if next > until {
                break;
            }
            t.on(TreatmentTrigger::Scheduled, next, in_flare, log, iv);
        }
    }

    fn starts(log: &EventLog) -> Vec<(f64, u16)> {
        log.0
            .iter()
            .filter_map(|(d, k)| match k {
                EventKind::DrugStart { drug, .. } => Some((*d, *drug)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn escalation_waits_for_the_minimum_time_on_step() {
        let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
        let p = plan(vec![vec![0], vec![1]]);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 100.0, true, &mut log, &mut iv);
        // Assessments at 128, 156 (< 84 days on step), 184 (= 84): escalate at 184.
        run_until(&mut t, 183.0, &mut log, &mut iv, true);
        assert_eq!(starts(&log), vec![(100.0, 0)]);
        run_until(&mut t, 184.0, &mut log, &mut iv, true);
        assert_eq!(starts(&log), vec![(100.0, 0), (184.0, 1)]);
        assert_eq!(iv, vec![(0, 100.0, 184.0)]);
        assert_eq!(t.outcome().steps_reached, 2);
    }

    #[test]
    fn no_escalation_when_in_remission() {
        let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
        let p = plan(vec![vec![0], vec![1]]);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
        t.on(TreatmentTrigger::FlareEnd, 10.0, false, &mut log, &mut iv);
        run_until(&mut t, 150.0, &mut log, &mut iv, false);
        assert_eq!(starts(&log).len(), 1);
    }

    #[test]
    fn taper_after_sustained_remission_then_restart_on_relapse() {
        let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0)]);
        let p = plan(vec![vec![0]]);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
        t.on(TreatmentTrigger::FlareEnd, 20.0, false, &mut log, &mut iv);
        // Remission since day 20; 168 days sustained at the assessment on day 196.
        run_until(&mut t, 195.0, &mut log, &mut iv, false);
        assert!(iv.is_empty());
        run_until(&mut t, 196.0, &mut log, &mut iv, false);
        assert_eq!(iv, vec![(0, 0.0, 196.0)]);
        assert!(log.0.iter().any(|(d, k)| *d == 196.0
            && matches!(
                k,
                EventKind::DrugStop {
                    reason: StopReason::Taper,
                    ..
                }
            )));
        assert_eq!(t.next_event_day(), NEVER);
        t.on(TreatmentTrigger::FlareStart, 300.0, true, &mut log, &mut iv);
        assert_eq!(starts(&log), vec![(0.0, 0), (300.0, 0)]);
        assert_eq!(t.outcome().flares_on_treatment, 1);
    }

    #[test]
    fn relapse_can_escalate_instead() {
        let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
        let mut p = plan(vec![vec![0], vec![1]]);
        p.on_relapse = Some(OnRelapse::Escalate);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
        t.on(TreatmentTrigger::FlareEnd, 1.0, false, &mut log, &mut iv);
        run_until(&mut t, 400.0, &mut log, &mut iv, false);
        t.on(TreatmentTrigger::FlareStart, 500.0, true, &mut log, &mut iv);
        assert_eq!(starts(&log), vec![(0.0, 0), (500.0, 1)]);
    }

    #[test]
    fn adverse_event_moves_to_the_next_step() {
        let h = Harness::new(vec![drug("a", 0.0, 50.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
        let p = plan(vec![vec![0], vec![1]]);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, false, &mut log, &mut iv);
        let ae = t.next_event_day();
        assert!(ae < 28.0, "a hazard of 50/yr fires within weeks: {ae}");
        t.on(TreatmentTrigger::Scheduled, ae, false, &mut log, &mut iv);
        assert_eq!(starts(&log), vec![(0.0, 0), (ae, 1)]);
        assert_eq!(t.outcome().adverse_events, 1);
        assert!(log.0.iter().any(|(_, k)| matches!(
            k,
            EventKind::DrugStop {
                reason: StopReason::AdverseEvent,
                ..
            }
        )));
    }

    #[test]
    fn top_of_ladder_continues_or_stops() {
        let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0)]);
        let p = plan(vec![vec![0]]);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
        run_until(&mut t, 400.0, &mut log, &mut iv, true);
        assert_eq!(starts(&log).len(), 1);
        assert!(iv.is_empty(), "still on the drug");

        let mut p = plan(vec![vec![0]]);
        p.at_top = Some(AtTop::Stop);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
        run_until(&mut t, 400.0, &mut log, &mut iv, true);
        assert_eq!(iv, vec![(0, 0.0, 84.0)]);
        assert_eq!(t.next_event_day(), NEVER);
    }

    #[test]
    fn courses_are_given_in_cycles_and_end() {
        let h = Harness::new(vec![drug("bp", 0.0, 0.0, 3.0)]);
        let p = plan(vec![vec![0]]);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, false, &mut log, &mut iv);
        t.on(TreatmentTrigger::FlareEnd, 0.0, false, &mut log, &mut iv);
        run_until(&mut t, 160.0, &mut log, &mut iv, false);
        // Two courses (days 0 and 84), effect until 168.
        assert_eq!(iv, vec![(0, 0.0, 3.0), (0, 84.0, 87.0)]);
        assert_eq!(t.outcome().drug_days[0], 6.0);
        assert!(t.effects().flare_hazard_ratio < 1.0);
        run_until(&mut t, 170.0, &mut log, &mut iv, false);
        assert_eq!(t.effects(), Effects::NONE);
    }

    #[test]
    fn onset_lag_delays_the_effect() {
        let h = Harness::new(vec![drug("a", 4.0, 0.0, 0.0)]);
        let p = plan(vec![vec![0]]);
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 10.0, true, &mut log, &mut iv);
        assert_eq!(t.effects(), Effects::NONE);
        assert_eq!(t.next_event_day(), 38.0);
        t.on(TreatmentTrigger::Scheduled, 38.0, true, &mut log, &mut iv);
        assert_eq!(t.effects().flare_hazard_ratio, 0.5);
    }

    /// The step counter does not wrap after 255 steps.
    #[test]
    fn steps_beyond_255_are_counted() {
        let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
        let mut p = plan((0..300).map(|k| vec![k % 2]).collect());
        p.min_days_on_step = 0.0;
        p.assess_every_days = 7.0;
        let mut t = TreatmentState::new(&p, &h.model, 0);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
        run_until(&mut t, 7.0 * 280.0, &mut log, &mut iv, true);
        assert_eq!(t.outcome().steps_reached, 281);
    }
}
