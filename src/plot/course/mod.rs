//! Course charts of one virtual patient: the [`CourseTrace`] (what is drawn,
//! derived only from the patient's event log), the simulation of one
//! patient for a chart ([`CourseSim`]), and the rendering ([`draw`]:
//! layout, legend and the pain panel; [`bars`]: the lesion and drug
//! panels; `score`: the disease activity score panel; `labels`: where the
//! labels of imaging visits and vertical lines go).
//!
//! The chart stacks four panels on a shared x axis of years since onset
//! (age on the top axis): (a) pain (VAS) as a line, flares shaded, fever and
//! CRP marked, imaging visits and what they found; (a') the disease
//! activity score (0-10) as a step line, when the trace has it; (b) lesions —
//! one row per bone and side, a bar over each lesion's active period shaded
//! by imaging stage (lytic, mixed, sclerotic; solid: symptomatic, pale and
//! outlined: silent), fractures marked; (c) treatment — a Gantt strip with
//! one row per drug in the drug's fixed colour, escalations, tapering,
//! adverse events and drug-effect onsets marked. Diagnosis is a dashed
//! vertical line across all panels, labelled with the Jansson score and the
//! Bristol criterion. The title gives sex, onset age, genotype and
//! associated conditions.

pub mod bars;
pub mod draw;
pub mod frame;
mod labels;
mod legend;
mod score;
mod slide;

pub use draw::render_course;
pub use frame::CourseOptions;

use crate::engine::cohort::Arm;
use crate::engine::model_values::{ReplicateModel, DAYS_PER_MONTH, DAYS_PER_YEAR};
use crate::engine::outcome::{Segment, State};
use crate::engine::patient::{EventKind, EventLog, Outcome, Scratch, StopReason};
use crate::error::{Error, Result};
use crate::model::{Condition, Genotype, Site, Stage};
use crate::study::Study;

/// One flare: `[start_day, end_day)` with its features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlareSpan {
    /// Start, days since onset.
    pub start_day: f64,
    /// End, days since onset (the end of observation if still active then).
    pub end_day: f64,
    /// Pain, VAS 0-10.
    pub pain: f64,
    /// Fever during the flare.
    pub fever: bool,
    /// CRP, mg/l.
    pub crp_mg_l: f64,
    /// Still active at the end of observation (no `FlareEnd` event).
    pub open: bool,
}

/// One lesion and the periods in which it is active on imaging.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionTrace {
    /// Lesion number within the patient.
    pub lesion: u32,
    /// Site.
    pub site: Site,
    /// 0 unpaired, 1 left, 2 right.
    pub side: u8,
    /// Symptomatic (painful) rather than silent.
    pub symptomatic: bool,
    /// Active periods `(start_day, end_day)`: from appearance (or
    /// reactivation after healing) until healed, or the end of observation.
    pub active: Vec<(f64, f64)>,
    /// First seen on imaging or clinically, days since onset.
    pub seen_day: Option<f64>,
    /// Imaging stages in time order: `(day, stage)`; `lytic` at appearance
    /// and reactivation, `healed` closes an active period.
    pub stages: Vec<(f64, Stage)>,
}

/// An imaging visit (at diagnosis or follow-up) and how many lesions it
/// found that had not been seen before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImagingMark {
    /// Day since onset.
    pub day: f64,
    /// Lesions first seen at this visit.
    pub found: u32,
    /// The imaging at diagnosis (rather than follow-up).
    pub at_diagnosis: bool,
}

/// The clinical criteria at diagnosis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiagnosisMark {
    /// Day since onset.
    pub day: f64,
    /// Jansson score.
    pub jansson: u32,
    /// Bristol criterion 1 met.
    pub bristol_1: bool,
    /// Lesions seen at diagnosis.
    pub lesions_seen: u32,
}

/// A stretch with a constant disease activity score (a flare).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivitySpan {
    /// Start, days since onset.
    pub start_day: f64,
    /// End, days since onset.
    pub end_day: f64,
    /// The disease activity score (0-10) the model gives the stretch.
    pub score: f64,
}

/// A vertebral fracture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FractureMark {
    /// Day since onset.
    pub day: f64,
    /// The lesion it happened in.
    pub lesion: u32,
}

/// One stretch on one drug, `[start_day, end_day)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugSpan {
    /// Drug index in the scenario's drug list.
    pub drug: u16,
    /// Drug name.
    pub name: String,
    /// Ladder step (0-based).
    pub step: u16,
    /// Start, days since onset.
    pub start_day: f64,
    /// End, days since onset (the end of observation if never stopped).
    pub end_day: f64,
    /// Why it stopped (None: still on it at the end of observation).
    pub stop: Option<StopReason>,
}

/// When a drug starts to act, and whether the patient responds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrugEffectMark {
    /// Day since onset.
    pub day: f64,
    /// Drug index.
    pub drug: u16,
    /// Responder.
    pub responder: bool,
}

/// One course (infusion cycle) of a drug given in courses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrugCourseMark {
    /// Day since onset.
    pub day: f64,
    /// Drug index.
    pub drug: u16,
    /// Days the course lasts.
    pub days: f64,
}

/// Everything a course chart draws, derived from one patient's events.
#[derive(Debug, Clone, PartialEq)]
pub struct CourseTrace {
    /// Scenario name.
    pub scenario: String,
    /// Arm name.
    pub arm: String,
    /// Whether the arm treats at all (has a strategy).
    pub treated_arm: bool,
    /// Patient index (replicate 0).
    pub patient: u64,
    /// Girl.
    pub female: bool,
    /// Age at onset, years.
    pub onset_age_years: f64,
    /// Genotype.
    pub genotype: Genotype,
    /// Associated conditions present at onset (bit set).
    pub conditions_at_onset: u8,
    /// Associated conditions ever present (bit set).
    pub conditions_ever: u8,
    /// Simulated horizon, days.
    pub horizon_days: f64,
    /// End of observation (loss to follow-up or the horizon), days.
    pub end_day: f64,
    /// Flares, in time order.
    pub flares: Vec<FlareSpan>,
    /// Lesions, by lesion number.
    pub lesions: Vec<LesionTrace>,
    /// Vertebral fractures.
    pub fractures: Vec<FractureMark>,
    /// Drug stretches, in order of start.
    pub drug_spans: Vec<DrugSpan>,
    /// Drug effect onsets.
    pub drug_effects: Vec<DrugEffectMark>,
    /// Courses of drugs given in courses (the span shows the effect window).
    pub drug_courses: Vec<DrugCourseMark>,
    /// Diagnosis day, if diagnosed.
    pub diagnosis_day: Option<f64>,
    /// Criteria at diagnosis, if diagnosed.
    pub diagnosis: Option<DiagnosisMark>,
    /// Imaging visits.
    pub imaging: Vec<ImagingMark>,
    /// Replicate the patient belongs to.
    pub replicate: u32,
    /// Day the patient is resolved (burnt out and out of flare), if within observation.
    pub resolution_day: Option<f64>,
    /// Day lost to follow-up, if lost.
    pub lost_day: Option<f64>,
    /// Associated conditions that started after onset.
    pub condition_onsets: Vec<(f64, Condition)>,
    /// The disease activity score (0-10) over time: the flares' stretches
    /// with their score, 0 elsewhere. Taken from the simulation's state
    /// segments by [`CourseSim::trace`]; empty in a trace built from
    /// events alone (the score is not an event).
    pub activity: Vec<ActivitySpan>,
}

impl CourseTrace {
    /// Builds the trace from a patient's outcome and events (as produced by
    /// [`simulate_patient`] with an [`EventLog`]); `drugs` names the drug
    /// indices of the events.
    pub fn from_events(
        outcome: &Outcome,
        events: &[(f64, EventKind)],
        drugs: &[String],
        scenario: &str,
        arm: &str,
        horizon_days: f64,
    ) -> CourseTrace {
        let last_day = events.last().map_or(0.0, |e| e.0);
        let end_day = if outcome.observed_days > 0.0 {
            outcome.observed_days
        } else {
            last_day
        };
        let mut t = CourseTrace {
            scenario: scenario.to_string(),
            arm: arm.to_string(),
            treated_arm: false,
            patient: outcome.patient,
            female: outcome.female,
            onset_age_years: outcome.onset_age_years,
            genotype: outcome.genotype.unwrap_or(Genotype::Sporadic),
            conditions_at_onset: outcome.conditions_at_onset,
            conditions_ever: outcome.conditions_ever,
            horizon_days,
            end_day,
            flares: Vec::new(),
            lesions: Vec::new(),
            fractures: Vec::new(),
            drug_spans: Vec::new(),
            drug_effects: Vec::new(),
            drug_courses: Vec::new(),
            diagnosis_day: None,
            diagnosis: None,
            imaging: Vec::new(),
            replicate: 0,
            resolution_day: None,
            lost_day: None,
            condition_onsets: Vec::new(),
            activity: Vec::new(),
        };
        // Per lesion: whether it is healed (so a reactivation opens a new period).
        let mut healed: Vec<bool> = Vec::new();
        let mut burnout_in_flare = false;
        let name = |d: u16| {
            drugs
                .get(usize::from(d))
                .cloned()
                .unwrap_or_else(|| format!("drug {d}"))
        };
        for &(day, kind) in events {
            match kind {
                EventKind::FlareStart {
                    pain,
                    fever,
                    crp_mg_l,
                } => t.flares.push(FlareSpan {
                    start_day: day,
                    end_day: end_day.max(day),
                    pain,
                    fever,
                    crp_mg_l,
                    open: true,
                }),
                EventKind::FlareEnd => {
                    if let Some(f) = t.flares.last_mut().filter(|f| f.open) {
                        f.end_day = day;
                        f.open = false;
                    }
                    if burnout_in_flare {
                        t.resolution_day = Some(day);
                        burnout_in_flare = false;
                    }
                }
                EventKind::LesionNew {
                    lesion,
                    site,
                    side,
                    symptomatic,
                } => {
                    let i = lesion as usize;
                    if t.lesions.len() <= i {
                        t.lesions.resize_with(i + 1, || LesionTrace {
                            lesion: 0,
                            site: Site::Other,
                            side: 0,
                            symptomatic: false,
                            active: Vec::new(),
                            seen_day: None,
                            stages: Vec::new(),
                        });
                        healed.resize(i + 1, true);
                    }
                    t.lesions[i] = LesionTrace {
                        lesion,
                        site,
                        side,
                        symptomatic,
                        active: vec![(day, f64::NAN)],
                        seen_day: None,
                        stages: vec![(day, Stage::Lytic)],
                    };
                    healed[i] = false;
                }
                EventKind::LesionReactivated { lesion } => {
                    let i = lesion as usize;
                    if i < t.lesions.len() {
                        t.lesions[i].stages.push((day, Stage::Lytic));
                        if healed[i] {
                            t.lesions[i].active.push((day, f64::NAN));
                            healed[i] = false;
                        }
                    }
                }
                EventKind::LesionStage { lesion, stage } => {
                    let i = lesion as usize;
                    if let Some(l) = t.lesions.get_mut(i) {
                        l.stages.push((day, stage));
                    }
                    if stage == Stage::Healed && i < t.lesions.len() && !healed[i] {
                        if let Some(p) = t.lesions[i].active.last_mut() {
                            p.1 = day;
                        }
                        healed[i] = true;
                    }
                }
                EventKind::LesionSeen { lesion } => {
                    if let Some(l) = t.lesions.get_mut(lesion as usize) {
                        l.seen_day.get_or_insert(day);
                    }
                    // Follow-up finds come right after their imaging event.
                    if let Some(im) = t.imaging.last_mut().filter(|m| m.day == day) {
                        im.found += 1;
                    }
                }
                EventKind::Fracture { lesion } => t.fractures.push(FractureMark { day, lesion }),
                EventKind::Diagnosis {
                    jansson,
                    bristol_1,
                    lesions_seen,
                } => {
                    t.diagnosis_day.get_or_insert(day);
                    t.diagnosis.get_or_insert(DiagnosisMark {
                        day,
                        jansson,
                        bristol_1,
                        lesions_seen,
                    });
                    t.imaging.push(ImagingMark {
                        day,
                        found: lesions_seen,
                        at_diagnosis: true,
                    });
                }
                EventKind::Imaging => t.imaging.push(ImagingMark {
                    day,
                    found: 0,
                    at_diagnosis: false,
                }),
                EventKind::ConditionOnset { condition } => {
                    t.condition_onsets.push((day, condition));
                }
                // Resolved means burnt out and out of flare: a flare
                // running at burnout delays it to that flare's end.
                EventKind::Resolution => {
                    if t.flares.last().is_some_and(|f| f.open) {
                        burnout_in_flare = true;
                    } else {
                        t.resolution_day = Some(day);
                    }
                }
                EventKind::LostToFollowUp => t.lost_day = Some(day),
                EventKind::DrugStart { drug, step } => t.drug_spans.push(DrugSpan {
                    drug,
                    name: name(drug),
                    step,
                    start_day: day,
                    end_day: f64::NAN,
                    stop: None,
                }),
                EventKind::DrugEffect { drug, responder } => {
                    t.drug_effects.push(DrugEffectMark {
                        day,
                        drug,
                        responder,
                    });
                }
                EventKind::DrugCourse { drug, days } => {
                    t.drug_courses.push(DrugCourseMark { day, drug, days });
                }
                EventKind::DrugStop { drug, reason } => {
                    if let Some(s) = t
                        .drug_spans
                        .iter_mut()
                        .rev()
                        .find(|s| s.drug == drug && s.end_day.is_nan())
                    {
                        s.end_day = day;
                        s.stop = Some(reason);
                    }
                }
                EventKind::Onset | EventKind::End => {}
            }
        }
        for l in &mut t.lesions {
            for p in &mut l.active {
                if p.1.is_nan() {
                    p.1 = end_day.max(p.0);
                }
            }
        }
        for s in &mut t.drug_spans {
            if s.end_day.is_nan() {
                s.end_day = end_day.max(s.start_day);
            }
        }
        t
    }

    /// Sex as a word for titles.
    pub fn sex(&self) -> &'static str {
        if self.female {
            "girl"
        } else {
            "boy"
        }
    }

    /// Lesions that were never symptomatic.
    pub fn silent_lesions(&self) -> usize {
        self.lesions.iter().filter(|l| !l.symptomatic).count()
    }

    /// The associated conditions as text: those at onset, then later ones with their year.
    pub fn conditions_text(&self) -> String {
        let mut parts = Vec::new();
        if self.conditions_at_onset != 0 {
            let names: Vec<&str> = Condition::ALL
                .iter()
                .filter(|c| self.conditions_at_onset & c.bit() != 0)
                .map(|c| c.words())
                .collect();
            parts.push(format!("{} at onset", names.join(", ")));
        }
        for (day, c) in &self.condition_onsets {
            parts.push(format!(
                "{} from year {:.1}",
                c.words(),
                day / DAYS_PER_YEAR
            ));
        }
        if parts.is_empty() {
            "no associated conditions".to_string()
        } else {
            format!("with {}", parts.join(", "))
        }
    }

    /// The standard title line: patient, sex, onset age, genotype, conditions.
    pub fn title(&self) -> String {
        format!(
            "Patient {}: {}, onset at age {:.1}, {}, {}",
            self.patient,
            self.sex(),
            self.onset_age_years,
            genotype_label(self.genotype),
            self.conditions_text()
        )
    }

    /// A one-line summary of the course (flares, lesions, diagnosis, end).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} flare{}, {} lesion{} ({} silent)",
            self.flares.len(),
            if self.flares.len() == 1 { "" } else { "s" },
            self.lesions.len(),
            if self.lesions.len() == 1 { "" } else { "s" },
            self.silent_lesions()
        );
        match self.diagnosis_day {
            Some(d) => s += &format!(", diagnosed after {:.0} months", d / DAYS_PER_MONTH),
            None => s += ", never diagnosed",
        }
        if let Some(d) = self.resolution_day {
            s += &format!(", resolved in year {:.1}", d / DAYS_PER_YEAR);
        }
        if let Some(d) = self.lost_day {
            s += &format!(", lost to follow-up in year {:.1}", d / DAYS_PER_YEAR);
        }
        s
    }
}

fn genotype_label(g: Genotype) -> &'static str {
    match g {
        Genotype::Sporadic => "sporadic CRMO",
        Genotype::Majeed => "Majeed syndrome (LPIN2)",
    }
}

/// One scenario arm and replicate, set up once, to simulate single patients
/// for charts (and to search for a patient whose course tells a story).
///
/// The patients are the same virtual patients as in `crmo-sim run` (same
/// streams), so a trace matches that patient's rows in `events.csv`.
#[derive(Debug)]
pub struct CourseSim {
    model: ReplicateModel,
    arm: Arm,
    drugs: Vec<String>,
    scenario: String,
    patients: u64,
    replicate: u32,
}

impl CourseSim {
    /// Sets up arm `arm` (the first when None) of replicate `replicate`.
    pub fn new(study: &Study, arm: Option<&str>, replicate: u32) -> Result<CourseSim> {
        let s = study.scenario();
        if replicate >= s.replicates {
            return Err(Error::Usage(format!(
                "replicate {replicate} does not exist: scenario {} has replicates 0 to {}",
                study.name(),
                s.replicates - 1
            )));
        }
        Ok(CourseSim {
            model: study.replicate_model(replicate),
            arm: study.arm(arm)?.clone(),
            drugs: study.drug_names(),
            scenario: study.name(),
            patients: s.patients,
            replicate,
        })
    }

    /// Patients per replicate.
    pub fn patients(&self) -> u64 {
        self.patients
    }

    /// Simulates patient `patient` and returns its outcome and events.
    pub fn simulate(&self, patient: u64) -> Result<(Outcome, EventLog)> {
        self.simulate_with_segments(patient)
            .map(|(outcome, log, _)| (outcome, log))
    }

    /// [`CourseSim::simulate`], also returning the patient's state segments
    /// (which carry the disease activity score).
    fn simulate_with_segments(&self, patient: u64) -> Result<(Outcome, EventLog, Vec<Segment>)> {
        if patient >= self.patients {
            return Err(Error::Usage(format!(
                "patient {patient} does not exist: scenario {} has patients 0 to {}",
                self.scenario,
                self.patients - 1
            )));
        }
        let mut log = EventLog::default();
        let mut scratch = Scratch::default();
        let outcome = self
            .arm
            .simulate(&self.model, patient, &mut scratch, &mut log);
        if let Some(limit) = outcome.limit {
            return Err(Error::PatientLimit(format!(
                "scenario {}: patient {patient} (arm `{}`) has {}",
                self.scenario,
                self.arm.name,
                limit.describe()
            )));
        }
        Ok((outcome, log, scratch.segments))
    }

    /// The replicate's share of Majeed patients.
    pub fn majeed_frac(&self) -> f64 {
        self.model.majeed_frac
    }

    /// The arm's name.
    pub fn arm_name(&self) -> &str {
        &self.arm.name
    }

    /// Steps of the arm's ladder (0 for an untreated arm).
    pub fn ladder_len(&self) -> usize {
        self.arm.plan.as_ref().map_or(0, |p| p.steps.len())
    }

    /// The course trace of patient `patient`, with its activity score.
    pub fn trace(&self, patient: u64) -> Result<CourseTrace> {
        let (outcome, log, segments) = self.simulate_with_segments(patient)?;
        let mut t = self.trace_of(&outcome, &log.0);
        t.activity = segments
            .iter()
            .filter(|s| s.state == State::Active && s.activity > 0.0)
            .map(|s| ActivitySpan {
                start_day: s.start_day,
                end_day: s.end_day,
                score: s.activity,
            })
            .collect();
        Ok(t)
    }

    /// The course trace of a patient simulated by [`CourseSim::simulate`].
    pub fn trace_of(&self, outcome: &Outcome, events: &[(f64, EventKind)]) -> CourseTrace {
        let mut t = CourseTrace::from_events(
            outcome,
            events,
            &self.drugs,
            &self.scenario,
            &self.arm.name,
            self.model.horizon_days,
        );
        t.treated_arm = self.arm.plan.is_some();
        t.replicate = self.replicate;
        t
    }
}

/// Simulates patient `patient` of replicate 0 under arm `arm` (the first arm
/// when None) and returns its course trace (see [`CourseSim`]).
///
/// Single-threaded: one patient takes microseconds.
pub fn course_trace(study: &Study, arm: Option<&str>, patient: u64) -> Result<CourseTrace> {
    CourseSim::new(study, arm, 0)?.trace(patient)
}

#[cfg(test)]
mod tests;
