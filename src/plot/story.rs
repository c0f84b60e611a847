//! Stories: finding a virtual patient whose course shows something a teacher
//! wants to show (`crmo-sim course --story NAME`). The search takes patients
//! in index order and stops at the first match, so it is deterministic; the
//! match comes with a sentence saying why.

use crate::engine::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use crate::engine::patient::{Outcome, StopReason};
use crate::error::Result;
use crate::model::Genotype;

use super::course::{CourseSim, CourseTrace};
use super::gallery::{course_shape, CourseShape};

/// A kind of course to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Story {
    /// One flare, then remission to the end of observation (observed to the horizon).
    Monophasic,
    /// Several flares, in remission or resolved at the end (observed to the horizon).
    Relapsing,
    /// In a flare at the end of observation, or many flares without resolution.
    Persistent,
    /// A drug tapered after sustained remission, then a new flare.
    RelapseAfterTaper,
    /// Reaches the last step of the arm's ladder (of two or more steps).
    TopOfLadder,
    /// A drug stopped for an adverse event.
    AdverseEvent,
    /// A vertebral fracture.
    Fracture,
    /// Clinically silent lesions found on imaging.
    SilentLesions,
    /// Diagnosed more than two years after onset.
    LateDiagnosis,
    /// Majeed syndrome (LPIN2).
    Majeed,
}

impl Story {
    /// Every story, in the order `--help` lists them.
    pub const ALL: [Story; 10] = [
        Story::Monophasic,
        Story::Relapsing,
        Story::Persistent,
        Story::RelapseAfterTaper,
        Story::TopOfLadder,
        Story::AdverseEvent,
        Story::Fracture,
        Story::SilentLesions,
        Story::LateDiagnosis,
        Story::Majeed,
    ];

    /// The name on the command line (`relapse-after-taper`).
    pub fn name(self) -> &'static str {
        match self {
            Story::Monophasic => "monophasic",
            Story::Relapsing => "relapsing",
            Story::Persistent => "persistent",
            Story::RelapseAfterTaper => "relapse-after-taper",
            Story::TopOfLadder => "top-of-ladder",
            Story::AdverseEvent => "adverse-event",
            Story::Fracture => "fracture",
            Story::SilentLesions => "silent-lesions",
            Story::LateDiagnosis => "late-diagnosis",
            Story::Majeed => "majeed",
        }
    }

    /// Why patient `t` (with outcome `o`, under a ladder of `ladder_len`
    /// steps) tells this story, or None if it does not.
    pub fn matches(self, t: &CourseTrace, o: &Outcome, ladder_len: usize) -> Option<String> {
        let year = |d: f64| format!("year {:.1}", d / DAYS_PER_YEAR);
        let observed_to_horizon = o.lost_day.is_none();
        match self {
            Story::Monophasic => (observed_to_horizon
                && course_shape(o) == CourseShape::SingleFlare)
                .then(|| {
                    let f = t.flares.first()?;
                    Some(format!(
                        "one flare ({:.1} months), then no other flare to the horizon ({})",
                        (f.end_day - f.start_day) / DAYS_PER_MONTH,
                        year(t.end_day)
                    ))
                })
                .flatten(),
            Story::Relapsing => (observed_to_horizon && course_shape(o) == CourseShape::Recurring)
                .then(|| {
                    format!(
                        "{} flares, the last ending in {}; out of flare at the horizon",
                        t.flares.len(),
                        year(t.flares.last().map_or(0.0, |f| f.end_day))
                    )
                }),
            Story::Persistent => (course_shape(o) == CourseShape::Ongoing).then(|| {
                if o.active_at_end {
                    format!(
                        "{} flares and still in a flare at the end of observation ({})",
                        t.flares.len(),
                        year(t.end_day)
                    )
                } else {
                    format!("{} flares without the disease burning out", t.flares.len())
                }
            }),
            Story::RelapseAfterTaper => t.drug_spans.iter().find_map(|s| {
                (s.stop == Some(StopReason::Taper)).then_some(())?;
                let flare = t.flares.iter().find(|f| f.start_day > s.end_day)?;
                Some(format!(
                    "{} tapered in {} after sustained remission; a new flare in {}",
                    s.name,
                    year(s.end_day),
                    year(flare.start_day)
                ))
            }),
            Story::TopOfLadder => (ladder_len >= 2)
                .then(|| {
                    let s = t
                        .drug_spans
                        .iter()
                        .find(|s| usize::from(s.step) + 1 == ladder_len)?;
                    Some(format!(
                        "reached step {ladder_len} of {ladder_len} ({}) in {}",
                        s.name,
                        year(s.start_day)
                    ))
                })
                .flatten(),
            Story::AdverseEvent => t.drug_spans.iter().find_map(|s| {
                (s.stop == Some(StopReason::AdverseEvent)).then(|| {
                    format!(
                        "{} stopped for an adverse event in {}",
                        s.name,
                        year(s.end_day)
                    )
                })
            }),
            Story::Fracture => t.fractures.first().map(|f| {
                format!(
                    "vertebral fracture in {} ({} in all)",
                    year(f.day),
                    t.fractures.len()
                )
            }),
            Story::SilentLesions => {
                let found: Vec<f64> = t
                    .lesions
                    .iter()
                    .filter(|l| !l.symptomatic)
                    .filter_map(|l| l.seen_day)
                    .collect();
                let first = found.iter().copied().fold(f64::INFINITY, f64::min);
                (!found.is_empty()).then(|| {
                    format!(
                        "{} clinically silent lesion(s) found on imaging, the first in {}",
                        found.len(),
                        year(first)
                    )
                })
            }
            Story::LateDiagnosis => t
                .diagnosis_day
                .filter(|&d| d > 2.0 * DAYS_PER_YEAR)
                .map(|d| format!("diagnosed {:.1} years after onset", d / DAYS_PER_YEAR)),
            Story::Majeed => (o.genotype == Some(Genotype::Majeed)).then(|| {
                format!(
                    "Majeed syndrome (LPIN2), onset at age {:.1}",
                    o.onset_age_years
                )
            }),
        }
    }
}

/// The first patient (in index order) of `sim`'s arm and replicate whose
/// course tells `story`, with why; None when no patient of the scenario does.
///
/// Single-threaded: patients are simulated one at a time until one matches.
pub fn find_story(sim: &CourseSim, story: Story) -> Result<Option<(u64, String)>> {
    for p in 0..sim.patients() {
        let (o, log) = sim.simulate(p)?;
        let t = sim.trace_of(&o, &log.0);
        if let Some(why) = story.matches(&t, &o, sim.ladder_len()) {
            return Ok(Some((p, why)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_story_has_its_command_line_name() {
        for s in Story::ALL {
            let v = s.to_possible_value().unwrap();
            assert_eq!(v.get_name(), s.name());
            assert_eq!(Story::from_str(s.name(), false), Ok(s));
        }
    }
}
