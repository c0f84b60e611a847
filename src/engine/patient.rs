//! One virtual patient, simulated by a next-event loop over a fixed set of
//! candidate events (flare start/end, resolution, diagnosis, imaging, lesion
//! stage changes, condition onsets, loss to follow-up, treatment, horizon).
//!
//! Flare onsets are sampled exactly by cumulative-hazard inversion: one
//! `E ~ Exp(1)` per remission is spent across segments of constant hazard;
//! when the hazard changes (treatment), the unspent part is carried over.
//! The loop reuses the buffers in [`Scratch`], so it allocates nothing once warm.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Poisson};

use crate::model::criteria::{self, Findings};
use crate::model::{Condition, Genotype, Site, Stage};

use super::model_values::{GenotypeModel, ReplicateModel, DAYS_PER_YEAR};
use super::rng::Purpose;
use super::treatment::{Effects, TreatmentState, TreatmentTrigger};
use crate::scenario::limits::{MAX_EVENTS, MAX_LESIONS};

/// Activity state of a patient, as counted in `timeseries.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// In a flare.
    Active = 0,
    /// Between flares.
    Remission = 1,
    /// Disease has burnt out: no more flares.
    Resolved = 2,
    /// Lost to follow-up: not observed any more.
    Lost = 3,
}

/// Number of [`State`]s.
pub const N_STATES: usize = 4;

/// A stretch of time in one state, `[start_day, end_day)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start, days since onset.
    pub start_day: f64,
    /// End, days since onset.
    pub end_day: f64,
    /// The state.
    pub state: State,
    /// Pain (VAS) during the stretch; 0 outside flares.
    pub pain: f64,
}

/// A lesion and its imaging course.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lesion {
    /// Where it is.
    pub site: Site,
    /// 0 = midline/unpaired, 1 = left, 2 = right.
    pub side: u8,
    /// Clinically evident (painful) rather than silent.
    pub symptomatic: bool,
    /// Current stage.
    pub stage: Stage,
    /// When the current stage ends (days since onset).
    pub stage_end_day: f64,
    /// Untreated stage durations (lytic, mixed, sclerotic), days.
    pub base_days: [f64; 3],
    /// Has been seen on imaging (or clinically).
    pub seen: bool,
}

impl Lesion {
    /// Still active on imaging.
    pub fn is_active(&self) -> bool {
        self.stage != Stage::Healed
    }
}

/// What happened, for `events.csv` and course charts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    /// Disease onset (day 0).
    Onset,
    /// A flare starts.
    FlareStart {
        /// Pain, VAS 0-10.
        pain: f64,
        /// Fever.
        fever: bool,
        /// CRP, mg/l.
        crp_mg_l: f64,
    },
    /// A flare ends.
    FlareEnd,
    /// A lesion appears.
    LesionNew {
        /// Lesion number within the patient.
        lesion: u32,
        /// Site.
        site: Site,
        /// 0 unpaired, 1 left, 2 right.
        side: u8,
        /// Symptomatic rather than silent.
        symptomatic: bool,
    },
    /// An earlier lesion becomes active again.
    LesionReactivated {
        /// Lesion number.
        lesion: u32,
    },
    /// A lesion moves to another imaging stage.
    LesionStage {
        /// Lesion number.
        lesion: u32,
        /// New stage.
        stage: Stage,
    },
    /// Imaging finds a lesion.
    LesionSeen {
        /// Lesion number.
        lesion: u32,
    },
    /// A vertebral fracture.
    Fracture {
        /// Lesion number.
        lesion: u32,
    },
    /// Diagnosis.
    Diagnosis {
        /// Jansson score.
        jansson: u32,
        /// Bristol criterion 1 met.
        bristol_1: bool,
        /// Lesions seen.
        lesions_seen: u32,
    },
    /// Follow-up imaging.
    Imaging,
    /// An associated condition starts.
    ConditionOnset {
        /// Which one.
        condition: Condition,
    },
    /// The disease burns out.
    Resolution,
    /// Lost to follow-up.
    LostToFollowUp,
    /// A drug is started.
    DrugStart {
        /// Drug index in the catalogue.
        drug: u16,
        /// Ladder step (0-based).
        step: u16,
    },
    /// A drug starts to act (after its onset lag), for responders.
    DrugEffect {
        /// Drug index.
        drug: u16,
        /// Whether the patient responds.
        responder: bool,
    },
    /// A course of a drug given in courses (e.g. a pamidronate infusion cycle).
    DrugCourse {
        /// Drug index.
        drug: u16,
        /// Days the course lasts.
        days: f64,
    },
    /// A drug is stopped.
    DrugStop {
        /// Drug index.
        drug: u16,
        /// Why.
        reason: StopReason,
    },
    /// The end of the simulated horizon.
    End,
}

/// Why a drug was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Escalation to the next step.
    Escalation,
    /// Tapered after sustained remission.
    Taper,
    /// Adverse event.
    AdverseEvent,
    /// A fixed course ended.
    CourseEnd,
    /// Escalation was due on the last step and the strategy stops there.
    TopOfLadder,
}

impl StopReason {
    /// Name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Escalation => "escalation",
            StopReason::Taper => "taper",
            StopReason::AdverseEvent => "adverse_event",
            StopReason::CourseEnd => "course_end",
            StopReason::TopOfLadder => "top_of_ladder",
        }
    }
}

/// Receives a patient's events as they happen. The default observer does
/// nothing and compiles away.
pub trait Observer {
    /// Called for each event, in time order.
    fn event(&mut self, day: f64, kind: EventKind);
}

/// An observer that discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Observer for Discard {
    #[inline(always)]
    fn event(&mut self, _day: f64, _kind: EventKind) {}
}

/// An observer that keeps every event.
#[derive(Debug, Default, Clone)]
pub struct EventLog(pub Vec<(f64, EventKind)>);

impl Observer for EventLog {
    fn event(&mut self, day: f64, kind: EventKind) {
        self.0.push((day, kind));
    }
}

/// Findings and criteria at diagnosis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagnosis {
    /// Day of diagnosis since onset.
    pub day: f64,
    /// What was found.
    pub findings: Findings,
    /// Silent lesions among those seen.
    pub silent_seen: u32,
    /// Jansson score.
    pub jansson: u32,
    /// Bristol criterion 1 met.
    pub bristol_1: bool,
}

/// Everything the accumulators need from one patient.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Patient index.
    pub patient: u64,
    /// Genotype.
    pub genotype: Option<Genotype>,
    /// Girl.
    pub female: bool,
    /// Age at onset, years.
    pub onset_age_years: f64,
    /// Frailty.
    pub frailty: f64,
    /// Lesions at onset.
    pub initial_lesions: u32,
    /// Flares started (including the one at onset).
    pub flares: u32,
    /// Days spent in flares while observed.
    pub flare_days: f64,
    /// Days observed (until loss to follow-up or the horizon).
    pub observed_days: f64,
    /// Flares with fever.
    pub fevers: u32,
    /// Lesions that appeared after onset.
    pub new_lesions: u32,
    /// Vertebral fractures.
    pub fractures: u32,
    /// End of the first flare (first remission), days since onset.
    pub first_remission_day: Option<f64>,
    /// Start of the first flare after the first remission.
    pub first_relapse_day: Option<f64>,
    /// First remission after diagnosis.
    pub first_remission_after_dx_day: Option<f64>,
    /// First relapse after a remission after diagnosis.
    pub first_relapse_after_dx_day: Option<f64>,
    /// Disease resolved within the horizon, day.
    pub resolved_day: Option<f64>,
    /// Lost to follow-up, day.
    pub lost_day: Option<f64>,
    /// Diagnosis, if reached.
    pub diagnosis: Option<Diagnosis>,
    /// Conditions present at onset (bit set).
    pub conditions_at_onset: u8,
    /// Conditions ever present while observed (bit set).
    pub conditions_ever: u8,
    /// In flare at the end of observation.
    pub active_at_end: bool,
    /// Treatment outcomes (empty without treatment).
    pub treatment: super::treatment::TreatmentOutcome,
    /// States and lesion counts at fixed times after diagnosis.
    pub checkpoints: Checkpoints,
    /// A per-patient limit this course hit; it stopped early and the run fails.
    pub limit: Option<Limit>,
}

/// A per-patient limit ([`crate::scenario::limits`]) that a course reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// More than [`MAX_LESIONS`] lesions.
    Lesions,
    /// More than [`MAX_EVENTS`] events.
    Events,
}

impl Limit {
    /// What was exceeded and which parameters drive it, for the error message.
    pub fn describe(self) -> String {
        match self {
            Limit::Lesions => format!(
                "more than {MAX_LESIONS} lesions (the most one patient may have); lower `initial_extra_lesions_mean`, `new_lesions_per_flare`, `flare_rate_per_year` or `frailty_variance`"
            ),
            Limit::Events => format!(
                "more than {MAX_EVENTS} events (the most one course may have); lower `flare_rate_per_year` or `frailty_variance`, or raise `flare_duration_mean_weeks`"
            ),
        }
    }
}

/// Checkpoints after diagnosis: 6, 12 and 24 months, then every anniversary
/// from year 3 to year 100 (days after diagnosis).
pub const CHECKPOINT_DAYS: [f64; N_CHECKPOINTS] = checkpoint_days();
/// Number of checkpoints.
pub const N_CHECKPOINTS: usize = 101;

const fn checkpoint_days() -> [f64; N_CHECKPOINTS] {
    let mut d = [0.0; N_CHECKPOINTS];
    d[0] = DAYS_PER_YEAR / 2.0;
    d[1] = DAYS_PER_YEAR;
    d[2] = 2.0 * DAYS_PER_YEAR;
    let mut i = 3;
    while i < N_CHECKPOINTS {
        d[i] = i as f64 * DAYS_PER_YEAR;
        i += 1;
    }
    d
}

/// The index of the checkpoint `years` after diagnosis (whole years >= 1).
pub fn anniversary_index(years: usize) -> usize {
    years
}

/// What was seen at each checkpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Checkpoints {
    /// 0 not observed (before it, lost, or beyond the horizon), 1 in flare, 2 not in flare.
    pub state: [u8; N_CHECKPOINTS],
    /// Active symptomatic lesions.
    pub symptomatic_lesions: [u16; N_CHECKPOINTS],
    /// Active lesions seen on imaging.
    pub seen_lesions: [u16; N_CHECKPOINTS],
}

impl Default for Checkpoints {
    fn default() -> Self {
        Self {
            state: [0; N_CHECKPOINTS],
            symptomatic_lesions: [0; N_CHECKPOINTS],
            seen_lesions: [0; N_CHECKPOINTS],
        }
    }
}

/// Reusable buffers of one worker: lesions, state segments and drug intervals.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    /// Lesions of the current patient.
    pub lesions: Vec<Lesion>,
    /// State segments of the current patient.
    pub segments: Vec<Segment>,
    /// Drug exposure intervals `(drug, start_day, end_day)` of the current patient.
    pub drug_intervals: Vec<(u16, f64, f64)>,
}

/// Per-patient random streams.
struct Streams {
    baseline: super::rng::Stream,
    timing: super::rng::Stream,
    features: super::rng::Stream,
    lesions: super::rng::Stream,
    imaging: super::rng::Stream,
}

/// The mutable state of the patient being simulated.
struct Sim<'a, 't, O: Observer> {
    m: &'a ReplicateModel,
    g: &'a GenotypeModel,
    rng: Streams,
    obs: &'a mut O,
    scratch: &'a mut Scratch,
    out: Outcome,
    day: f64,
    frailty: f64,
    in_flare: bool,
    flare_end_day: f64,
    flare_pain: f64,
    flare_fever: bool,
    flare_crp_x10: u32,
    /// Unspent Exp(1) mass of the current remission.
    hazard_budget: f64,
    resolved: bool,
    resolution_day: f64,
    dx_clock_day: f64,
    dx_pending: bool,
    next_imaging_day: f64,
    ltfu_day: f64,
    condition_day: [f64; 5],
    abnormal_blood_count: bool,
    segment_start: f64,
    flare_start_day: f64,
    ltfu_after_dx_days: f64,
    effects: Effects,
    treatment: Option<&'a mut TreatmentState<'t>>,
    next_checkpoint: usize,
    /// Cached (index, day) of the next lesion stage change; refreshed whenever a lesion changes.
    next_lesion: (usize, f64),
}

const NEVER: f64 = f64::INFINITY;

/// Simulates one patient of one replicate, with an optional treatment strategy.
///
/// Single-threaded and pure: the result depends only on the model, the
/// strategy and the patient index.
pub fn simulate_patient<O: Observer>(
    m: &ReplicateModel,
    patient: u64,
    mut treatment: Option<&mut TreatmentState<'_>>,
    scratch: &mut Scratch,
    obs: &mut O,
) -> Outcome {
    let key = &m.key;
    let mut rng = Streams {
        baseline: key.stream(patient, Purpose::Baseline),
        timing: key.stream(patient, Purpose::FlareTiming),
        features: key.stream(patient, Purpose::FlareFeatures),
        lesions: key.stream(patient, Purpose::Lesions),
        imaging: key.stream(patient, Purpose::Imaging),
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
    scratch.segments.clear();
    scratch.drug_intervals.clear();
    let mut sim = Sim {
        m,
        g,
        obs,
        scratch,
        out: Outcome {
            patient,
            genotype: Some(genotype),
            ..Outcome::default()
        },
        day: 0.0,
        frailty: 1.0,
        in_flare: false,
        flare_end_day: NEVER,
        flare_pain: 0.0,
        flare_fever: false,
        flare_crp_x10: 0,
        hazard_budget: 0.0,
        resolved: false,
        resolution_day: NEVER,
        dx_clock_day: NEVER,
        dx_pending: false,
        next_imaging_day: NEVER,
        ltfu_day: NEVER,
        condition_day: [NEVER; 5],
        abnormal_blood_count: false,
        segment_start: 0.0,
        flare_start_day: 0.0,
        ltfu_after_dx_days: NEVER,
        effects: Effects::NONE,
        treatment,
        next_checkpoint: 0,
        next_lesion: (0, NEVER),
        rng,
    };
    sim.draw_baseline(genotype);
    sim.run();
    sim.out
}

impl<O: Observer> Sim<'_, '_, O> {
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
            if b.random::<f64>() < *p {
                self.out.conditions_at_onset |= Condition::ALL[i].bit();
            }
        }
        self.out.conditions_ever = self.out.conditions_at_onset;
        let extra = g.extra_lesions_mix.as_ref().map_or(0, |mix| {
            let lambda = mix.sample(b);
            poisson(lambda, b)
        });

        let c = &mut self.rng.baseline;
        self.resolution_day = g.resolution.as_ref().map_or(NEVER, |d| d.sample(c));
        self.dx_clock_day = g.diagnostic_delay.sample(c);
        let u_ltfu: f64 = Exp1.sample(c);
        if g.ltfu_per_day > 0.0 {
            self.ltfu_after_dx_days = u_ltfu / g.ltfu_per_day;
        }
        self.abnormal_blood_count = c.random::<f64>() < g.values.p_abnormal_blood_count;

        for (i, h) in g.condition_per_day.iter().enumerate() {
            let e: f64 = Exp1.sample(&mut self.rng.baseline);
            if self.out.conditions_at_onset & Condition::ALL[i].bit() == 0 && *h > 0.0 {
                self.condition_day[i] = e / h;
            }
        }

        if extra >= MAX_LESIONS as u64 {
            self.out.limit = Some(Limit::Lesions);
        }
        self.out.initial_lesions = 1 + extra.min(MAX_LESIONS as u64 - 1) as u32;
        for _ in 0..self.out.initial_lesions {
            let silent = self.rng.lesions.random::<f64>() < g.values.p_silent_initial;
            self.add_lesion(!silent);
        }
        // The patient presents with pain: at least one lesion is symptomatic.
        if !self.scratch.lesions.iter().any(|l| l.symptomatic) {
            self.scratch.lesions[0].symptomatic = true;
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
    fn add_lesion(&mut self, symptomatic: bool) -> u32 {
        let r = &mut self.rng.lesions;
        let site = self.m.draw_site(r);
        let side_u: f64 = r.random();
        let side = if site.is_paired() {
            1 + u8::from(side_u < 0.5)
        } else {
            0
        };
        let base_days = self.g.stage_durations.map(|d| d.sample(r));
        let lesion = Lesion {
            site,
            side,
            symptomatic,
            stage: Stage::Lytic,
            stage_end_day: self.day + base_days[0] * self.effects.heal_time_factor,
            base_days,
            seen: false,
        };
        self.scratch.lesions.push(lesion);
        if lesion.stage_end_day < self.next_lesion.1 {
            self.next_lesion = (self.scratch.lesions.len() - 1, lesion.stage_end_day);
        }
        (self.scratch.lesions.len() - 1) as u32
    }

    fn run(&mut self) {
        let horizon = self.m.horizon_days;
        self.start_flare(true);
        let mut events = 0u32;
        loop {
            events += 1;
            if events > MAX_EVENTS {
                self.out.limit = Some(Limit::Events);
            }
            if self.out.limit.is_some() {
                // The run fails on this patient: stop here rather than grow.
                self.finish(self.day);
                break;
            }
            let hazard = self.flare_hazard();
            let flare_start = if self.in_flare || self.resolved || hazard <= 0.0 {
                NEVER
            } else {
                self.day + self.hazard_budget / hazard
            };
            let (lesion_i, lesion_day) = self.next_lesion;
            let (cond_i, cond_day) = self
                .condition_day
                .iter()
                .enumerate()
                .fold((0, NEVER), |b, (i, &d)| if d < b.1 { (i, d) } else { b });
            let treat_day = self
                .treatment
                .as_ref()
                .map_or(NEVER, |t| t.next_event_day());
            let resolution = if self.resolved {
                NEVER
            } else {
                self.resolution_day
            };
            let dx_clock = if self.out.diagnosis.is_some() || self.dx_pending {
                NEVER
            } else {
                self.dx_clock_day
            };
            let flare_end = if self.in_flare {
                self.flare_end_day
            } else {
                NEVER
            };
            let checkpoint = self.checkpoint_day();
            let candidates = [
                flare_end,
                flare_start,
                resolution,
                dx_clock,
                self.next_imaging_day,
                lesion_day,
                cond_day,
                self.ltfu_day,
                treat_day,
                checkpoint,
                horizon,
            ];
            let (which, next) = candidates
                .iter()
                .enumerate()
                .fold((10, horizon), |b, (i, &d)| if d < b.1 { (i, d) } else { b });
            self.advance_to(next);
            match which {
                0 => self.end_flare(),
                1 => self.start_flare(false),
                2 => self.resolve(),
                3 => {
                    if self.in_flare {
                        self.diagnose();
                    } else {
                        self.dx_pending = true;
                    }
                }
                4 => self.follow_up_imaging(),
                5 => self.advance_lesion(lesion_i),
                6 => self.condition_onset(cond_i),
                7 => {
                    self.lose_to_follow_up();
                    break;
                }
                8 => self.treatment_event(),
                9 => self.record_checkpoint(),
                _ => {
                    self.finish(horizon);
                    break;
                }
            }
        }
    }

    fn flare_hazard(&self) -> f64 {
        self.g.flare_hazard_per_day * self.frailty * self.effects.flare_hazard_ratio
    }

    /// Moves the clock, spending hazard mass while in remission.
    fn advance_to(&mut self, day: f64) {
        if !self.in_flare && !self.resolved {
            self.hazard_budget -= (day - self.day) * self.flare_hazard();
            if self.hazard_budget < 0.0 {
                self.hazard_budget = 0.0;
            }
        }
        self.day = day;
    }

    fn refresh_next_lesion(&mut self) {
        self.next_lesion = self.next_lesion_change();
    }

    fn next_lesion_change(&self) -> (usize, f64) {
        self.scratch
            .lesions
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_active())
            .fold((0, NEVER), |b, (i, l)| {
                if l.stage_end_day < b.1 {
                    (i, l.stage_end_day)
                } else {
                    b
                }
            })
    }

    fn close_segment(&mut self, state: State, pain: f64) {
        if self.day > self.segment_start {
            self.scratch.segments.push(Segment {
                start_day: self.segment_start,
                end_day: self.day,
                state,
                pain,
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
        self.close_segment(state, 0.0);
        self.in_flare = true;
        self.flare_start_day = self.day;
        self.out.flares += 1;
        if self.out.first_remission_day.is_some() && self.out.first_relapse_day.is_none() {
            self.out.first_relapse_day = Some(self.day);
        }
        if self.out.first_remission_after_dx_day.is_some()
            && self.out.first_relapse_after_dx_day.is_none()
        {
            self.out.first_relapse_after_dx_day = Some(self.day);
        }
        self.draw_flare_features();
        if !at_onset {
            self.draw_new_lesions();
        }
        self.check_fractures();
        self.obs.event(
            self.day,
            EventKind::FlareStart {
                pain: self.flare_pain,
                fever: self.flare_fever,
                crp_mg_l: f64::from(self.flare_crp_x10) / 10.0,
            },
        );
        self.notify_treatment(TreatmentTrigger::FlareStart);
        if self.dx_pending {
            self.dx_pending = false;
            self.diagnose();
        }
    }

    fn draw_flare_features(&mut self) {
        let (g, f) = (self.g, &mut self.rng.features);
        let duration = g.flare_duration.sample(f) * self.effects.flare_duration_factor;
        self.flare_end_day = self.day + duration;
        self.flare_pain = g.pain.sample(f).clamp(1.0, 10.0);
        self.flare_fever = f.random::<f64>() < g.values.p_fever;
        let crp_raised = f.random::<f64>() < g.values.p_crp_raised;
        let crp = if crp_raised {
            g.crp_raised.sample(f).max(10.0)
        } else {
            0.5 + 9.4 * f.random::<f64>()
        };
        self.flare_crp_x10 = (crp * 10.0).round() as u32;
        if self.flare_fever {
            self.out.fevers += 1;
        }
    }

    fn draw_new_lesions(&mut self) {
        let mean = self.g.values.new_lesions_per_flare * self.frailty * self.effects.lesion_factor;
        let n = poisson(mean, &mut self.rng.lesions);
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
        let n_symptomatic = self
            .scratch
            .lesions
            .iter()
            .filter(|l| l.symptomatic)
            .count();
        let k = (self.rng.lesions.random::<f64>() * n_symptomatic as f64) as usize;
        let Some(i) = self
            .scratch
            .lesions
            .iter()
            .enumerate()
            .filter(|(_, l)| l.symptomatic)
            .map(|(i, _)| i)
            .nth(k.min(n_symptomatic.saturating_sub(1)))
        else {
            return;
        };
        let heal = self.effects.heal_time_factor;
        let day = self.day;
        let l = &mut self.scratch.lesions[i];
        l.stage = Stage::Lytic;
        l.stage_end_day = day + l.base_days[0] * heal;
        self.refresh_next_lesion();
        self.obs
            .event(day, EventKind::LesionReactivated { lesion: i as u32 });
    }

    fn check_fractures(&mut self) {
        let p = self.g.values.p_vertebral_fracture_per_flare;
        if p <= 0.0 {
            return;
        }
        for i in 0..self.scratch.lesions.len() {
            let l = self.scratch.lesions[i];
            if l.site == Site::Spine && l.is_active() && self.rng.features.random::<f64>() < p {
                self.out.fractures += 1;
                self.obs
                    .event(self.day, EventKind::Fracture { lesion: i as u32 });
            }
        }
    }

    fn end_flare(&mut self) {
        self.close_segment(State::Active, self.flare_pain);
        self.in_flare = false;
        self.out.flare_days += self.day - self.flare_start_day;
        if self.out.first_remission_day.is_none() {
            self.out.first_remission_day = Some(self.day);
        }
        if self.out.diagnosis.is_some() && self.out.first_remission_after_dx_day.is_none() {
            self.out.first_remission_after_dx_day = Some(self.day);
        }
        self.hazard_budget = Exp1.sample(&mut self.rng.timing);
        self.obs.event(self.day, EventKind::FlareEnd);
        self.notify_treatment(TreatmentTrigger::FlareEnd);
    }

    fn resolve(&mut self) {
        if !self.in_flare {
            self.close_segment(State::Remission, 0.0);
        }
        self.resolved = true;
        self.out.resolved_day = Some(self.day);
        self.obs.event(self.day, EventKind::Resolution);
    }

    fn diagnose(&mut self) {
        let sens = self.m.sensitivity_at_diagnosis;
        let mut f = Findings {
            normal_blood_count: !self.abnormal_blood_count,
            normal_temperature: !self.flare_fever,
            crp_mg_l_x10: self.flare_crp_x10,
            ..Findings::default()
        };
        let mut silent_seen = 0;
        let mut sides = [0u8; 11];
        let mut only_site = None;
        for i in 0..self.scratch.lesions.len() {
            let l = self.scratch.lesions[i];
            if !l.is_active() {
                continue;
            }
            let seen = l.symptomatic || l.seen || self.rng.imaging.random::<f64>() < sens;
            if !seen {
                continue;
            }
            if !l.seen {
                self.scratch.lesions[i].seen = true;
                self.obs
                    .event(self.day, EventKind::LesionSeen { lesion: i as u32 });
            }
            f.lesions_seen += 1;
            silent_seen += u32::from(!l.symptomatic);
            f.marginal_sclerosis |= l.stage >= Stage::Mixed;
            f.vertebral_clavicular_sternal |=
                matches!(l.site, Site::Spine | Site::Clavicle | Site::SternumRibs);
            sides[l.site as usize] |= 1 << l.side;
            only_site = Some(l.site);
        }
        f.symmetric_lesions = sides.iter().any(|s| s & 0b110 == 0b110);
        f.solitary_clavicle = f.lesions_seen == 1 && only_site == Some(Site::Clavicle);
        let jansson = criteria::jansson_score(&f);
        let bristol_1 = criteria::bristol_criterion_1(&f, self.g.values.crp_cutoff_mg_l);
        self.out.diagnosis = Some(Diagnosis {
            day: self.day,
            findings: f,
            silent_seen,
            jansson,
            bristol_1,
        });
        self.obs.event(
            self.day,
            EventKind::Diagnosis {
                jansson,
                bristol_1,
                lesions_seen: f.lesions_seen,
            },
        );
        self.ltfu_day = self.day + self.ltfu_after_dx_days;
        self.next_imaging_day = self.day + self.m.follow_up_every_days;
        self.notify_treatment(TreatmentTrigger::Diagnosis);
    }

    fn follow_up_imaging(&mut self) {
        self.obs.event(self.day, EventKind::Imaging);
        let sens = self.m.sensitivity_follow_up;
        for i in 0..self.scratch.lesions.len() {
            let l = self.scratch.lesions[i];
            if l.is_active() && !l.seen && self.rng.imaging.random::<f64>() < sens {
                self.scratch.lesions[i].seen = true;
                self.obs
                    .event(self.day, EventKind::LesionSeen { lesion: i as u32 });
            }
        }
        self.next_imaging_day = self.day + self.m.follow_up_every_days;
    }

    fn advance_lesion(&mut self, i: usize) {
        let heal = self.effects.heal_time_factor;
        let day = self.day;
        let (in_flare, flare_end) = (self.in_flare, self.flare_end_day);
        let l = &mut self.scratch.lesions[i];
        if l.stage == Stage::Sclerotic && l.symptomatic && in_flare {
            // A painful lesion does not heal while the flare it carries goes
            // on: healing waits for the end of the flare.
            l.stage_end_day = flare_end.max(day);
            self.refresh_next_lesion();
            return;
        }
        l.stage = l.stage.next();
        l.stage_end_day = match l.stage {
            Stage::Healed => NEVER,
            s => day + l.base_days[s as usize] * heal,
        };
        let stage = l.stage;
        self.refresh_next_lesion();
        self.obs.event(
            day,
            EventKind::LesionStage {
                lesion: i as u32,
                stage,
            },
        );
    }

    fn condition_onset(&mut self, i: usize) {
        self.condition_day[i] = NEVER;
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
        });
    }

    fn finish(&mut self, horizon: f64) {
        self.close_observation();
        self.obs.event(horizon, EventKind::End);
    }

    /// Closes the open segment and counts observed time.
    fn close_observation(&mut self) {
        let state = self.current_state();
        let pain = if self.in_flare { self.flare_pain } else { 0.0 };
        if self.in_flare {
            self.out.flare_days += self.day - self.segment_start;
        }
        self.close_segment(state, pain);
        self.out.observed_days = self.day;
        self.out.active_at_end = self.in_flare;
        let day = self.day;
        if let Some(t) = self.treatment.as_deref_mut() {
            t.close(day, &mut self.scratch.drug_intervals, self.obs);
            self.out.treatment = t.outcome();
        }
    }

    fn treatment_event(&mut self) {
        self.notify_treatment(TreatmentTrigger::Scheduled);
    }

    /// Day of the next checkpoint after diagnosis (never before diagnosis).
    fn checkpoint_day(&self) -> f64 {
        match (
            &self.out.diagnosis,
            CHECKPOINT_DAYS.get(self.next_checkpoint),
        ) {
            (Some(d), Some(offset)) => d.day + offset,
            _ => NEVER,
        }
    }

    fn record_checkpoint(&mut self) {
        let active = |l: &&Lesion| l.is_active();
        let c = &mut self.out.checkpoints;
        let i = self.next_checkpoint;
        c.state[i] = if self.in_flare { 1 } else { 2 };
        let lesions = &self.scratch.lesions;
        c.symptomatic_lesions[i] = lesions
            .iter()
            .filter(active)
            .filter(|l| l.symptomatic)
            .count() as u16;
        c.seen_lesions[i] = lesions.iter().filter(active).filter(|l| l.seen).count() as u16;
        self.next_checkpoint += 1;
    }

    /// Tells the strategy what happened and takes up its new drug effects.
    fn notify_treatment(&mut self, trigger: TreatmentTrigger) {
        let day = self.day;
        let in_flare = self.in_flare;
        if let Some(t) = self.treatment.as_deref_mut() {
            t.on(
                trigger,
                day,
                in_flare,
                self.obs,
                &mut self.scratch.drug_intervals,
            );
            let new = t.effects();
            if self.in_flare && new.flare_duration_factor != self.effects.flare_duration_factor {
                // A change of duration factor rescales the rest of the running flare.
                let rest = self.flare_end_day - day;
                self.flare_end_day =
                    day + rest * new.flare_duration_factor / self.effects.flare_duration_factor;
            }
            self.effects = new;
        }
    }
}

/// Poisson draw via `rand_distr` (0 for a non-positive mean).
fn poisson<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean).map_or(0, |d| d.sample(rng) as u64)
}
