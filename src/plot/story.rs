//! Stories: finding a virtual patient whose course shows something a teacher
//! wants to show (`crmo-sim course --story NAME [--rank K]`).
//!
//! Every patient of the arm and replicate is simulated; those whose course
//! tells the story are ranked by how typical they are of it, and the K-th
//! is drawn. **Typical** means close to the middle of the story's patients:
//! each story names its defining measures (say, the year of the taper and
//! the months from taper to relapse); each measure is centred on its median
//! among the patients who tell the story and scaled by their interquartile
//! range, and patients are ranked by the Euclidean distance of their scaled
//! measures from the medians (ties by patient index). So `--rank 1` is the
//! most typical patient, and the ranking is deterministic.
//!
//! A match comes with a sentence saying why, and with the marks a chart
//! points at (the taper, the relapse, the fracture, ...).

use crate::engine::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use crate::engine::patient::{Outcome, StopReason};
use crate::error::Result;
use crate::model::Genotype;

use super::course::{CourseSim, CourseTrace, DrugSpan};
use super::gallery::{course_shape, CourseShape};

/// A kind of course to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Story {
    /// Diagnosed; one flare, then no other to the horizon (typical: the
    /// median flare length and time to diagnosis)
    Monophasic,
    /// Diagnosed; several flares, out of flare at the horizon, no relapse
    /// after a taper (typical: the median number of flares and year of the
    /// last)
    Relapsing,
    /// In a flare at the end of observation, or many flares without
    /// resolution (typical: the median number of flares)
    Persistent,
    /// A drug the patient responded to, tapered after sustained remission,
    /// then a new flare (typical: the median year of the taper and months
    /// to the relapse)
    RelapseAfterTaper,
    /// Climbs the arm's ladder (two or more steps) by escalation, without an
    /// adverse event, to its last step and responds there (typical: the
    /// median year of reaching it)
    TopOfLadder,
    /// A drug stopped for an adverse event (typical: the median year of it)
    AdverseEvent,
    /// A vertebral fracture (typical: the median year of the first and
    /// number of fractures)
    Fracture,
    /// Clinically silent lesions found on imaging (typical: the median
    /// number found and year of the first)
    SilentLesions,
    /// Diagnosed more than two years after onset (typical: the median delay)
    LateDiagnosis,
    /// Majeed syndrome (LPIN2), diagnosed; on a treated arm responding to
    /// the last drug given (typical: the median onset age and number of
    /// flares)
    Majeed,
}

/// What a patient's course shows for a story: why it tells it, the
/// story's defining measures (for ranking) and the events a chart marks.
#[derive(Debug, Clone, PartialEq)]
pub struct Told {
    /// Why the patient tells the story, one sentence.
    pub why: String,
    /// The story's defining measures, in the story's fixed order.
    pub measures: Vec<f64>,
    /// The events to point at: `(day since onset, label)`.
    pub marks: Vec<(f64, String)>,
}

/// The patient `course --story` draws.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryPick {
    /// Patient index.
    pub patient: u64,
    /// Its rank (1 = most typical).
    pub rank: usize,
    /// How many patients of the arm and replicate tell the story.
    pub matching: usize,
    /// Why it tells the story, and what to mark.
    pub told: Told,
}

fn year(d: f64) -> String {
    format!("year {:.1}", d / DAYS_PER_YEAR)
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
        self.told(t, o, ladder_len).map(|told| told.why)
    }

    /// What patient `t` shows for this story (see [`Told`]), or None if
    /// the course does not tell it.
    pub fn told(self, t: &CourseTrace, o: &Outcome, ladder_len: usize) -> Option<Told> {
        let diagnosed = t.diagnosis_day.is_some();
        let to_horizon = o.lost_day.is_none();
        match self {
            Story::Monophasic => {
                (diagnosed && to_horizon && course_shape(o) == CourseShape::SingleFlare)
                    .then_some(())?;
                let f = t.flares.first()?;
                let months = (f.end_day - f.start_day) / DAYS_PER_MONTH;
                Some(Told {
                    why: format!(
                        "one flare ({months:.1} months), diagnosed, then no other flare to the horizon ({})",
                        year(t.end_day)
                    ),
                    measures: vec![months, t.diagnosis_day? / DAYS_PER_MONTH],
                    marks: vec![(f.start_day, "the only flare".into())],
                })
            }
            Story::Relapsing => {
                (diagnosed && to_horizon && course_shape(o) == CourseShape::Recurring)
                    .then_some(())?;
                if relapse_after_taper(t).is_some() {
                    return None;
                }
                let second = t.flares.get(1)?;
                let last = t.flares.last()?.end_day;
                Some(Told {
                    why: format!(
                        "{} flares, the last ending in {}; out of flare at the horizon",
                        t.flares.len(),
                        year(last)
                    ),
                    measures: vec![t.flares.len() as f64, last / DAYS_PER_YEAR],
                    marks: vec![(second.start_day, "first relapse".into())],
                })
            }
            Story::Persistent => {
                (course_shape(o) == CourseShape::Ongoing).then_some(())?;
                let last = t.flares.last()?;
                let (why, mark) = if o.active_at_end {
                    (
                        format!(
                            "{} flares and still in a flare at the end of observation ({})",
                            t.flares.len(),
                            year(t.end_day)
                        ),
                        "still in a flare",
                    )
                } else {
                    (
                        format!("{} flares without the disease burning out", t.flares.len()),
                        "flares go on",
                    )
                };
                Some(Told {
                    why,
                    measures: vec![t.flares.len() as f64],
                    marks: vec![(last.start_day, mark.into())],
                })
            }
            Story::RelapseAfterTaper => {
                let (s, relapse) = relapse_after_taper(t)?;
                Some(Told {
                    why: format!(
                        "responded to {}, tapered in {} after sustained remission; a new flare in {}",
                        s.name,
                        year(s.end_day),
                        year(relapse)
                    ),
                    measures: vec![
                        s.end_day / DAYS_PER_YEAR,
                        (relapse - s.end_day) / DAYS_PER_MONTH,
                    ],
                    marks: vec![
                        (s.end_day, format!("{} tapered", words(&s.name))),
                        (relapse, "relapse".into()),
                    ],
                })
            }
            Story::TopOfLadder => {
                (ladder_len >= 2).then_some(())?;
                let top = t
                    .drug_spans
                    .iter()
                    .find(|s| usize::from(s.step) + 1 == ladder_len)?;
                // Up by escalation only, and no adverse event at all: the
                // adverse-event story tells those.
                let climbed = t
                    .drug_spans
                    .iter()
                    .filter(|s| s.start_day < top.start_day)
                    .all(|s| s.stop == Some(StopReason::Escalation))
                    && !t
                        .drug_spans
                        .iter()
                        .any(|s| s.stop == Some(StopReason::AdverseEvent));
                (climbed && responds_to(t, top)).then_some(())?;
                Some(Told {
                    why: format!(
                        "climbed to step {ladder_len} of {ladder_len} ({}) in {} and responds to it",
                        top.name,
                        year(top.start_day)
                    ),
                    measures: vec![top.start_day / DAYS_PER_YEAR],
                    marks: vec![(
                        top.start_day,
                        format!("step {ladder_len}: {}", words(&top.name)),
                    )],
                })
            }
            Story::AdverseEvent => {
                let s = t
                    .drug_spans
                    .iter()
                    .find(|s| s.stop == Some(StopReason::AdverseEvent))?;
                Some(Told {
                    why: format!(
                        "{} stopped for an adverse event in {}",
                        s.name,
                        year(s.end_day)
                    ),
                    measures: vec![s.end_day / DAYS_PER_YEAR],
                    marks: vec![(s.end_day, format!("{} stopped", words(&s.name)))],
                })
            }
            Story::Fracture => {
                let f = t.fractures.first()?;
                Some(Told {
                    why: format!(
                        "vertebral fracture in {} ({} in all)",
                        year(f.day),
                        t.fractures.len()
                    ),
                    measures: vec![f.day / DAYS_PER_YEAR, t.fractures.len() as f64],
                    marks: vec![(f.day, "vertebral fracture".into())],
                })
            }
            Story::SilentLesions => {
                let found: Vec<f64> = t
                    .lesions
                    .iter()
                    .filter(|l| !l.symptomatic)
                    .filter_map(|l| l.seen_day)
                    .collect();
                let first = found.iter().copied().reduce(f64::min)?;
                Some(Told {
                    why: format!(
                        "{} clinically silent lesion(s) found on imaging, the first in {}",
                        found.len(),
                        year(first)
                    ),
                    measures: vec![found.len() as f64, first / DAYS_PER_YEAR],
                    marks: vec![(first, "silent lesion found".into())],
                })
            }
            Story::LateDiagnosis => {
                let d = t.diagnosis_day.filter(|&d| d > 2.0 * DAYS_PER_YEAR)?;
                Some(Told {
                    why: format!("diagnosed {:.1} years after onset", d / DAYS_PER_YEAR),
                    measures: vec![d / DAYS_PER_YEAR],
                    marks: vec![(d, format!("diagnosed after {:.1} years", d / DAYS_PER_YEAR))],
                })
            }
            Story::Majeed => {
                (o.genotype == Some(Genotype::Majeed) && diagnosed).then_some(())?;
                let mut why = format!(
                    "Majeed syndrome (LPIN2), onset at age {:.1}",
                    o.onset_age_years
                );
                let mut marks = Vec::new();
                if let Some(last) = t.drug_spans.last() {
                    // On a treated arm the story is the response to the drug it ends on.
                    let e = t
                        .drug_effects
                        .iter()
                        .find(|e| e.drug == last.drug && e.responder)?;
                    why += &format!(", responds to {} in {}", last.name, year(e.day));
                    marks.push((e.day, format!("responds to {}", words(&last.name))));
                } else if let Some(f) = t.flares.first() {
                    marks.push((f.start_day, "first flare".into()));
                }
                Some(Told {
                    why,
                    measures: vec![o.onset_age_years, t.flares.len() as f64],
                    marks,
                })
            }
        }
    }
}

/// A drug name in words (`tnf inhibitor`).
fn words(name: &str) -> String {
    name.replace('_', " ")
}

/// Whether the patient responds to the drug of span `s` (an effect onset
/// of that drug, as a responder, within the span).
fn responds_to(t: &CourseTrace, s: &DrugSpan) -> bool {
    t.drug_effects
        .iter()
        .any(|e| e.drug == s.drug && e.responder && e.day >= s.start_day && e.day <= s.end_day)
}

/// The first taper of a drug the patient responded to that is followed by
/// a flare: the span and the day of the flare.
fn relapse_after_taper(t: &CourseTrace) -> Option<(&DrugSpan, f64)> {
    t.drug_spans.iter().find_map(|s| {
        (s.stop == Some(StopReason::Taper) && responds_to(t, s)).then_some(())?;
        let flare = t.flares.iter().find(|f| f.start_day > s.end_day)?;
        Some((s, flare.start_day))
    })
}

/// The median of `v` (not empty), sorted in place.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The quantile `q` of sorted `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Ranks `found` (patient, measures) by typicality: the distance of the
/// measures, each centred on its median and scaled by its interquartile
/// range (1 where that is 0), from the medians; ties by patient index.
/// Returns the indices into `found`, most typical first.
pub fn rank_by_typicality(found: &[(u64, Vec<f64>)]) -> Vec<usize> {
    let dims = found.first().map_or(0, |f| f.1.len());
    let centre: Vec<(f64, f64)> = (0..dims)
        .map(|j| {
            let mut col: Vec<f64> = found.iter().map(|f| f.1[j]).collect();
            let m = median(&mut col);
            let iqr = quantile(&col, 0.75) - quantile(&col, 0.25);
            (m, if iqr > 0.0 { iqr } else { 1.0 })
        })
        .collect();
    let distance = |m: &[f64]| -> f64 {
        m.iter()
            .zip(&centre)
            .map(|(x, (c, s))| ((x - c) / s).powi(2))
            .sum::<f64>()
    };
    let mut order: Vec<(f64, u64, usize)> = found
        .iter()
        .enumerate()
        .map(|(i, (p, m))| (distance(m), *p, i))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, _, i)| i).collect()
}

/// The patient of rank `rank` (1 = most typical, see the module doc) of
/// `sim`'s arm and replicate whose course tells `story`; Ok(Err(matching))
/// when fewer than `rank` patients tell it (`matching` of them do).
///
/// Single-threaded: every patient of the arm and replicate is simulated
/// once (microseconds each), in index order.
pub fn find_story(
    sim: &CourseSim,
    story: Story,
    rank: usize,
) -> Result<std::result::Result<StoryPick, usize>> {
    let mut found: Vec<(u64, Vec<f64>)> = Vec::new();
    let mut told: Vec<Told> = Vec::new();
    for p in 0..sim.patients() {
        let (o, log) = sim.simulate(p)?;
        let t = sim.trace_of(&o, &log.0);
        if let Some(m) = story.told(&t, &o, sim.ladder_len()) {
            found.push((p, m.measures.clone()));
            told.push(m);
        }
    }
    let order = rank_by_typicality(&found);
    let Some(&i) = rank.checked_sub(1).and_then(|r| order.get(r)) else {
        return Ok(Err(found.len()));
    };
    Ok(Ok(StoryPick {
        patient: found[i].0,
        rank,
        matching: found.len(),
        told: told.swap_remove(i),
    }))
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

    #[test]
    fn the_most_typical_patient_is_nearest_the_medians() {
        // Measures (years, flares): the medians are 2.5 and 5, both
        // interquartile ranges 1.
        let found = vec![
            (10, vec![1.0, 9.0]),
            (11, vec![2.0, 5.0]),
            (12, vec![3.0, 4.0]),
            (13, vec![2.5, 5.0]),
            (14, vec![9.0, 1.0]),
        ];
        let order = rank_by_typicality(&found);
        assert_eq!(order, vec![3, 1, 2, 0, 4]);
        // Ties go to the lower patient index.
        let tied = vec![(5, vec![1.0]), (3, vec![3.0]), (4, vec![2.0])];
        assert_eq!(rank_by_typicality(&tied), vec![2, 1, 0]);
    }
}
