//! The events of a patient's course, as observers receive them (for
//! `events.csv` and course charts), and the observers themselves. Both the
//! patient loop and the treatment state machine emit events, so they live
//! here rather than in either.

use crate::model::{Condition, Site, Stage};

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
    /// False for an observer that ignores every event, so the engine can
    /// skip putting events in order for it.
    const RECORDS: bool = true;

    /// False for an observer that ignores [`EventKind::DrugCourse`]: the
    /// treatment strategy then gives a drug's courses when it next acts
    /// rather than each as an event of its own, so this observer may be
    /// told of a course after later events.
    const TAKES_COURSES: bool = true;

    /// Called for each event, in time order (courses aside, see
    /// [`Observer::TAKES_COURSES`]).
    fn event(&mut self, day: f64, kind: EventKind);
}

/// An observer that discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Observer for Discard {
    const RECORDS: bool = false;
    const TAKES_COURSES: bool = false;

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
