//! What one simulated patient yields: activity states and segments, lesions,
//! the findings at diagnosis, checkpoints after diagnosis, the PedCNO core
//! set and the course class. Everything the accumulators and per-patient
//! rows need, and nothing of the loop that produced it.

use crate::model::criteria::Findings;
use crate::model::{Genotype, Site, Stage};

use super::model_values::DAYS_PER_YEAR;
use super::treatment::TreatmentOutcome;
use crate::scenario::limits::{MAX_EVENTS, MAX_LESIONS};

/// Activity state of a patient, as counted in `timeseries.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// In a flare.
    Active = 0,
    /// Between flares.
    Remission = 1,
    /// The active disease phase is over (burnt out): no more flares.
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
    /// Disease activity score (0-10) during the stretch; 0 outside flares.
    pub activity: f64,
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

    /// MRI inflammation (bone-marrow oedema): the lytic and mixed stages.
    /// A sclerotic lesion is healing and no longer inflamed (assumption;
    /// complete MRI resolution takes months even on pamidronate
    /// [Miettunen2009]).
    pub fn is_inflamed(&self) -> bool {
        matches!(self.stage, Stage::Lytic | Stage::Mixed)
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
    /// Flares started within the first 5.3 years from onset (C8).
    pub flares_first_5_3_years: u32,
    /// Flares started after diagnosis.
    pub flares_after_dx: u32,
    /// Days in flares after diagnosis.
    pub flare_days_after_dx: f64,
    /// End of the last flare within observation (the end of observation if
    /// a flare is still running): the active period from onset (C9).
    pub last_flare_end_day: f64,
    /// Longest disease-free interval before an episode: from the later of
    /// the previous episode's natural end and the resolution of the last
    /// MRI inflammation, to the start of the next episode (0 with one
    /// episode or none free).
    pub longest_inactive_gap_days: f64,
    /// End of the active disease phase (natural burnout; inf: beyond any
    /// horizon). The same in every arm.
    pub burnout_day: f64,
    /// Days in a flare after diagnosis with no drug given (treated arms).
    pub untreated_active_days: f64,
    /// The PedCNO core set at diagnosis, 6 and 12 months after it.
    pub core_set: [Option<CoreSet>; 3],
    /// Treatment outcomes (empty without treatment).
    pub treatment: TreatmentOutcome,
    /// States and lesion counts at fixed times after diagnosis.
    pub checkpoints: Checkpoints,
    /// A per-patient limit this course hit; it stopped early and the run fails.
    pub limit: Option<Limit>,
    /// Costs and QALYs (zero without `[economics]`).
    pub economics: super::accrual::Accrued,
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
            // Every field that raises the count of lesions a patient gathers:
            // the natural history (also its Majeed overrides), drugs that
            // multiply new lesions or relapses, and the length of the course.
            Limit::Lesions => format!(
                "more than {MAX_LESIONS} lesions (the most one patient may have); lower in [natural_history] (and [natural_history.majeed]) `initial_extra_lesions_mean`, `new_lesions_per_flare`, `flare_rate_per_year`, `frailty_variance` or `resolution_median_years`; in [drugs.NAME] a `lesion_factor`, `flare_hazard_ratio` or `lasting_hazard_ratio` above 1; or `horizon_years`"
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
    /// Disease activity score (0-10).
    pub activity: [f32; N_CHECKPOINTS],
}

impl Default for Checkpoints {
    fn default() -> Self {
        Self {
            state: [0; N_CHECKPOINTS],
            symptomatic_lesions: [0; N_CHECKPOINTS],
            seen_lesions: [0; N_CHECKPOINTS],
            activity: [0.0; N_CHECKPOINTS],
        }
    }
}

/// The variables of the PedCNO core set [Beck2010] as the model has them,
/// taken at the clinic visits at diagnosis and 6 and 12 months after it.
///
/// All five are derived from simulated quantities (assumption, stated in the
/// docs/model.md and `metrics.csv`): pain is the flare's pain (VAS), or between
/// flares `residual_pain_vas` while a painful lesion is still inflamed on
/// MRI, else 0; the patient global is that pain; the physician global is
/// the [`activity score`](activity_score) of that pain, the flare's fever
/// and CRP, and the MRI-inflamed lesions; the MRI lesion count and the
/// worst lesion's severity (lytic 2, mixed 1) come from the lesions that are
/// inflamed (lytic or mixed) and seen on imaging or painful; the CHAQ is
/// 0.15 x pain (0-1.5).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CoreSet {
    /// Physician global assessment, 0-10.
    pub physician_global: f64,
    /// Patient/parent global assessment, 0-10.
    pub patient_global: f64,
    /// MRI-inflamed lesions seen on imaging (or painful).
    pub mri_lesions: f64,
    /// Severity of the worst of them: lytic 2, mixed 1, none 0.
    pub worst_lesion: f64,
    /// Childhood health assessment questionnaire, 0-3.
    pub chaq: f64,
}

impl CoreSet {
    fn values(&self) -> [f64; 5] {
        [
            self.physician_global,
            self.patient_global,
            self.mri_lesions,
            self.worst_lesion,
            self.chaq,
        ]
    }

    /// PedCNO`pct` response of `self` against `baseline` [Beck2010]: at least
    /// `pct`% improvement in at least three of the five variables, and no more
    /// than one of the others worse by more than 30%. A variable at 0 at
    /// baseline cannot improve; it worsens if it rises above 0.
    #[inline]
    pub fn pedcno(&self, baseline: &CoreSet, pct: f64) -> bool {
        self.pedcno_at(baseline, [pct])[0]
    }

    /// The PedCNO responses at several levels `pcts` at once (each as
    /// [`CoreSet::pedcno`] gives it), comparing each variable once.
    #[inline]
    pub fn pedcno_at<const N: usize>(&self, baseline: &CoreSet, pcts: [f64; N]) -> [bool; N] {
        let (now, base) = (self.values(), baseline.values());
        let mut improved = [0; N];
        let mut worsened = [0; N];
        for (x, b) in now.iter().zip(base) {
            let change = (b > 0.0).then(|| (b - x) / b);
            let worse = (b > 0.0 && *x > 1.3 * b) || (b == 0.0 && *x > 0.0);
            for k in 0..N {
                if change.is_some_and(|c| c >= pcts[k] / 100.0) {
                    improved[k] += 1;
                } else if worse {
                    worsened[k] += 1;
                }
            }
        }
        std::array::from_fn(|k| improved[k] >= 3 && worsened[k] <= 1)
    }
}

/// The disease activity score (0-10), a physician-global-style score of a
/// flare: 0.5 x pain (VAS) + 1.5 if febrile + 1 if CRP >= 10 mg/l + 0.5 per
/// active painful lesion (at most 4), capped at 10. Between flares the score
/// is 0: clinically silent activity seen only on imaging is not scored.
/// The weights are an assumption (no published PGA formula for CNO).
pub fn activity_score(pain: f64, fever: bool, crp_mg_l: f64, painful_lesions: u32) -> f64 {
    let s = 0.5 * pain
        + if fever { 1.5 } else { 0.0 }
        + if crp_mg_l >= 10.0 { 1.0 } else { 0.0 }
        + 0.5 * f64::from(painful_lesions.min(4));
    s.min(10.0)
}

/// Course class among diagnosed patients, on disease activity: natural
/// episodes of inflammation and MRI inflammation of lesions, never the
/// symptomatic flare, so a drug that only shortens symptoms changes no
/// class [Jansson2007; Schnabel2017 distinguish these courses].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourseClass {
    /// One episode and no relapse within observation.
    Monophasic,
    /// Relapses, with a disease-free interval (no episode running, no lesion
    /// inflamed on MRI) of 6 months or more before one of them.
    Relapsing,
    /// Relapses, never 6 months disease-free before any of them.
    Persistent,
}

/// A disease-free interval of this many days separates relapsing from persistent courses.
pub const PERSISTENT_GAP_DAYS: f64 = DAYS_PER_YEAR / 2.0;

impl CourseClass {
    /// Name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            CourseClass::Monophasic => "monophasic",
            CourseClass::Relapsing => "relapsing",
            CourseClass::Persistent => "persistent",
        }
    }
}

impl Outcome {
    /// Sets `self` to the outcome of patient `patient` of `genotype` before
    /// the course starts, in place (every other field at its default).
    #[inline]
    pub fn reset(&mut self, patient: u64, genotype: Genotype) {
        *self = Outcome {
            patient,
            genotype: Some(genotype),
            ..Outcome::default()
        };
    }

    /// The course class (None for patients never diagnosed).
    pub fn course_class(&self) -> Option<CourseClass> {
        self.diagnosis?;
        Some(if self.flares <= 1 {
            CourseClass::Monophasic
        } else if self.longest_inactive_gap_days < PERSISTENT_GAP_DAYS {
            CourseClass::Persistent
        } else {
            CourseClass::Relapsing
        })
    }
}
