//! `crmo_sim.course_chart`: one virtual patient's course chart (PNG or SVG
//! by extension), chosen by number or by story, written through the
//! library's chart file under the command line's rule: an existing file is
//! replaced only if it is a chart crmo-sim wrote, unchanged (or, with
//! `replace`, moved aside, never deleted).

use std::path::{Path, PathBuf};

use crmo_sim::output::chartfile::ChartFile;
use crmo_sim::output::outdir::{result_dir_name, CHARTS_DIR};
use crmo_sim::plot::course::draw::{render_course_noted, CourseNotes};
use crmo_sim::plot::story::{find_story, Story};
use crmo_sim::plot::{CourseSim, Format, Style};
use crmo_sim::study::Study;
use crmo_sim::{Error, Result};

/// What to draw and where.
#[derive(Debug, Clone)]
pub struct ChartRequest {
    /// Patient index, or None to search by `story`.
    pub patient: Option<u64>,
    /// The story to search for when no patient is given.
    pub story: Option<String>,
    /// With a story: the rank of the patient drawn (1 = the most typical).
    pub rank: usize,
    /// The chart's title (None: patient, sex, onset age, genotype).
    pub title: Option<String>,
    /// "paper" or "slide".
    pub style: String,
    /// Image file; None for `output/charts/<scenario>/course-<patient>.png`.
    pub path: Option<PathBuf>,
    /// Arm to follow (None: the first).
    pub arm: Option<String>,
    /// Replicate to draw the patient from.
    pub replicate: u32,
    /// Move a file crmo-sim did not write aside instead of refusing.
    pub replace: bool,
    /// Width and height in pixels (None: the style's size).
    pub size: (Option<u32>, Option<u32>),
    /// Time window in years since onset.
    pub years: Option<(f64, f64)>,
}

/// What was drawn.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// The image file.
    pub path: PathBuf,
    /// The patient drawn.
    pub patient: u64,
    /// Why the patient tells the story, when chosen by story.
    pub why: Option<String>,
    /// What the user should know (e.g. a previous file kept aside).
    pub warnings: Vec<String>,
}

/// Draws the chart (single-threaded: one patient takes microseconds; a
/// story search simulates patients one by one until one matches).
pub fn course_chart(study: &Study, req: &ChartRequest) -> Result<Drawn> {
    let style = style_named(&req.style)?;
    let story = req.story.as_deref().map(story_named).transpose()?;
    if let Some(path) = &req.path {
        Format::of(path)?;
    }
    let sim = CourseSim::new(study, req.arm.as_deref(), req.replicate)?;
    let (patient, pick) = match (req.patient, story) {
        (Some(p), _) => (p, None),
        (None, Some(story)) => match find_story(&sim, story, req.rank)? {
            Ok(pick) => (pick.patient, Some(pick)),
            Err(matching) => {
                return Err(Error::NotFound(format!(
                    "{matching} patient(s) of scenario {} (patients 0 to {}, replicate {}, arm {}) tell the story {}, fewer than rank {}; try rank=1, another arm, scenario, seed or more patients",
                    study.name(),
                    sim.patients() - 1,
                    req.replicate,
                    sim.arm_name(),
                    story.name(),
                    req.rank
                )))
            }
        },
        (None, None) => return Err(Error::Usage(no_patient_message())),
    };
    let trace = sim.trace(patient)?;
    let path = req.path.clone().unwrap_or_else(|| {
        Path::new("output")
            .join(CHARTS_DIR)
            .join(result_dir_name(&study.name()))
            .join(format!("course-{patient}.png"))
    });
    let file = ChartFile::new(&path, req.replace)?;
    let (w, h) = style.size();
    let notes = CourseNotes {
        title: req.title.clone(),
        marks: pick
            .as_ref()
            .map(|p| p.told.marks.clone())
            .unwrap_or_default(),
    };
    render_course_noted(
        &trace,
        file.draw_path(),
        (req.size.0.unwrap_or(w), req.size.1.unwrap_or(h)),
        style,
        req.years,
        &notes,
    )?;
    let warnings = file.commit()?;
    Ok(Drawn {
        path,
        patient,
        why: pick.map(|p| p.told.why),
        warnings,
    })
}

/// The chart style named `name`.
fn style_named(name: &str) -> Result<Style> {
    match name {
        "paper" => Ok(Style::Paper),
        "slide" => Ok(Style::Slide),
        other => Err(Error::Usage(format!(
            "style {other:?} is not a chart style: expected \"paper\" (documents, screens) or \"slide\" (1920x1080, large text)"
        ))),
    }
}

/// The story named `name`, as `crmo-sim course --story` spells it
/// (`relapse-after-taper`) or with underscores, as Python names go.
fn story_named(name: &str) -> Result<Story> {
    let spelled = name.replace('_', "-");
    Story::ALL
        .iter()
        .copied()
        .find(|s| s.name() == spelled)
        .ok_or_else(|| {
            Error::Usage(format!(
                "story {name:?} is not a story: expected one of {}",
                story_names()
            ))
        })
}

/// Every story's name, comma-separated.
fn story_names() -> String {
    Story::ALL
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The refusal when neither a patient nor a story is given.
fn no_patient_message() -> String {
    format!(
        "course_chart draws one patient: give patient=N (0 to patients-1) or story=NAME (the first patient whose course tells the story; NAME is one of {})",
        story_names()
    )
}
