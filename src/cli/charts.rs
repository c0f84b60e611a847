//! The chart commands `course` and `gallery`, and the scenario options they
//! share with `check`: no file means the built-in reference scenario, and
//! `--seed`, `--patients` and `--replicate` pick the virtual patients.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{Error, Result};
use crate::output::chartfile::ChartFile;
use crate::output::outdir::{result_dir_name, CHARTS_DIR};
use crate::plot::course::draw::parse_years;
use crate::plot::course::draw::CourseNotes;
use crate::plot::story::{find_story, Story};
use crate::plot::{CourseSim, Format, Style};
use crate::scenario;
use crate::study::Study;

/// Which scenario and which virtual patients.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// Scenario file (TOML); without it, the built-in reference scenario
    pub scenario: Option<PathBuf>,
    /// Patients per replicate (overrides the scenario's `patients`)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=scenario::limits::MAX_PATIENTS))]
    pub patients: Option<u64>,
    /// Seed, 0 to 2^63-1 (overrides the scenario's `seed`)
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=scenario::limits::MAX_SEED))]
    pub seed: Option<u64>,
    /// Replicate to draw patients from (0 to replicates-1; each replicate
    /// has its own draws of distribution-valued parameters and patients)
    #[arg(long, default_value_t = 0)]
    pub replicate: u32,
}

impl ScenarioArgs {
    /// Loads the scenario (or the built-in reference) with the overrides
    /// applied and resolves it into a study.
    pub fn load(&self) -> Result<Study> {
        let loaded = match &self.scenario {
            Some(p) => scenario::load_file(p)?,
            None => scenario::reference(),
        };
        if self.replicate >= loaded.scenario.replicates {
            return Err(Error::Usage(format!(
                "--replicate {} does not exist: scenario {} has replicates 0 to {}",
                self.replicate,
                loaded.name(),
                loaded.scenario.replicates - 1
            )));
        }
        super::resolve_with_overrides(loaded, self.patients, self.seed)
    }
}

/// Options of `course`.
#[derive(Debug, Args)]
pub struct CourseArgs {
    /// The scenario and its patients.
    #[command(flatten)]
    pub source: ScenarioArgs,
    /// Patient index (0 .. patients-1); or give --story instead
    #[arg(long, conflicts_with = "story")]
    pub patient: Option<u64>,
    /// Draw a patient whose course tells this story: the most typical one
    /// (nearest the median of the story's defining measures among the
    /// patients who tell it; each story's measures are listed below), or
    /// the one of --rank
    #[arg(long, value_enum)]
    pub story: Option<Story>,
    /// With --story: draw the K-th most typical patient (1 = the most
    /// typical; 2, 3, ... the next ones)
    #[arg(long, value_name = "K", default_value_t = 1, requires = "story",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub rank: u64,
    /// The chart's title (default: patient, sex, onset age, genotype)
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Arm to follow (default: the first)
    #[arg(long)]
    pub arm: Option<String>,
    /// Image file, .png or .svg (default:
    /// output/charts/<scenario name>/course-<patient>.png under the current
    /// directory, where no `run` replaces it); an existing file is replaced
    /// only if it is a chart crmo-sim wrote, unchanged
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the image file even if crmo-sim did not write it: the old
    /// file is moved aside to <file>.old-<time>, never deleted
    #[arg(long)]
    pub replace: bool,
    /// paper (documents, screens) or slide (1920x1080, large text, thick lines)
    #[arg(long, value_enum, default_value_t = Style::Paper)]
    pub style: Style,
    /// Width in pixels (default: 1600 paper, 1920 slide)
    #[arg(long, value_parser = clap::value_parser!(u32).range(400..=8000))]
    pub width: Option<u32>,
    /// Height in pixels (default: 900 paper, 1080 slide)
    #[arg(long, value_parser = clap::value_parser!(u32).range(300..=8000))]
    pub height: Option<u32>,
    /// Time window A..B in years since onset (default: onset to a year after the last event)
    #[arg(long, value_parser = parse_years, value_name = "A..B")]
    pub years: Option<(f64, f64)>,
}

/// Options of `gallery`.
#[derive(Debug, Args)]
pub struct GalleryArgs {
    /// The scenario and its patients.
    #[command(flatten)]
    pub source: ScenarioArgs,
    /// Number of course charts (default: 6 on paper, 3 on slides; a slide
    /// gallery is one row of at most 3)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=24))]
    pub count: Option<u64>,
    /// Arm to follow (default: the first)
    #[arg(long)]
    pub arm: Option<String>,
    /// Image file, .png or .svg (default:
    /// output/charts/<scenario name>/gallery.png under the current directory,
    /// where no `run` replaces it); an existing file is replaced only if it
    /// is a chart crmo-sim wrote, unchanged
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the image file even if crmo-sim did not write it: the old
    /// file is moved aside to <file>.old-<time>, never deleted
    #[arg(long)]
    pub replace: bool,
    /// paper or slide (larger text, thicker lines)
    #[arg(long, value_enum, default_value_t = Style::Paper)]
    pub style: Style,
    /// Width in pixels; the height follows from the panel grid
    #[arg(long, value_parser = clap::value_parser!(u32).range(400..=8000))]
    pub width: Option<u32>,
}

/// Options of `check`.
#[derive(Debug, Args)]
#[command(after_long_help = crate::scenario::names::field_list())]
pub struct CheckArgs {
    /// The scenario and its patients.
    #[command(flatten)]
    pub source: ScenarioArgs,
}

/// What `course` says when told neither which patient nor which story:
/// both ways to choose, with every story's name.
fn no_patient_message() -> String {
    let stories: Vec<&str> = Story::ALL.iter().map(|s| s.name()).collect();
    format!(
        "course draws one patient: give --patient N (0 to patients-1) or --story NAME (the first patient whose course tells the story; NAME is one of {})",
        stories.join(", ")
    )
}

/// Where an image goes: `--out`, else `output/charts/<scenario>/<default_name>`,
/// a place no `run` replaces. Either way under the rule of [`ChartFile`]:
/// checked (and its directory created) now, written at commit.
fn image_file(
    study: &Study,
    out: Option<&Path>,
    default_name: &str,
    replace: bool,
) -> Result<(PathBuf, ChartFile)> {
    let path = out.map_or_else(
        || {
            Path::new("output")
                .join(CHARTS_DIR)
                .join(result_dir_name(&study.name()))
                .join(default_name)
        },
        Path::to_path_buf,
    );
    let file = ChartFile::new(&path, replace)?;
    Ok((path, file))
}

/// `crmo-sim check`: validates and prints the resolved parameters
/// (single-threaded). It resolves the same [`Study`] `run` does, so it
/// accepts and refuses exactly what `run` does; `--replicate` picks whose
/// drawn values it prints.
/// With `quiet`, it only validates: the exit code tells.
pub fn check(args: &CheckArgs, quiet: bool) -> Result<()> {
    let study = args.source.load()?;
    if quiet {
        return Ok(());
    }
    let text = super::listing::scenario_listing_of(&study, args.source.replicate);
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is a normal end, not an error.
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// `crmo-sim course`: one patient's chart, chosen by number or by story
/// (single-threaded; a story search simulates patients one by one until
/// one matches). With `quiet`, nothing goes to standard output.
pub fn course(args: &CourseArgs, quiet: bool) -> Result<()> {
    // Checked here rather than by clap, whose message would name --patient only.
    if args.patient.is_none() && args.story.is_none() {
        return Err(Error::Usage(no_patient_message()));
    }
    let study = args.source.load()?;
    Format::of(args.out.as_deref().unwrap_or(Path::new("x.png")))?;
    let sim = CourseSim::new(&study, args.arm.as_deref(), args.source.replicate)?;
    let (patient, pick) = match (args.patient, args.story) {
        (Some(p), _) => (p, None),
        (None, Some(story)) => {
            let rank = usize::try_from(args.rank).unwrap_or(usize::MAX);
            match find_story(&sim, story, rank)? {
                Ok(pick) => (pick.patient, Some((story, pick))),
                Err(matching) => {
                    return Err(Error::NotFound(no_story_message(
                        &study, &sim, args, story, matching,
                    )))
                }
            }
        }
        (None, None) => return Err(Error::Usage(no_patient_message())),
    };
    let trace = sim.trace(patient)?;
    let (path, file) = image_file(
        &study,
        args.out.as_deref(),
        &format!("course-{patient}.png"),
        args.replace,
    )?;
    let (w, h) = args.style.size();
    let notes = CourseNotes {
        title: args.title.clone(),
        marks: pick
            .as_ref()
            .map(|(_, p)| p.told.marks.clone())
            .unwrap_or_default(),
    };
    crate::plot::course::draw::render_course_noted(
        &trace,
        file.draw_path(),
        (args.width.unwrap_or(w), args.height.unwrap_or(h)),
        args.style,
        args.years,
        &notes,
    )?;
    super::print_warnings(&file.commit()?);
    if quiet {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    if let Some((story, pick)) = pick {
        let _ = writeln!(
            out,
            "patient {patient} (arm {}, replicate {}, rank {} of {}) tells the story {}: {}",
            sim.arm_name(),
            args.source.replicate,
            pick.rank,
            pick.matching,
            story.name(),
            pick.told.why
        );
    }
    let _ = writeln!(out, "{}", path.display());
    Ok(())
}

/// Why `course --story` found no patient: the scenario has none who can
/// tell it (no Majeed patients at all), none of the arm and replicate
/// tells it, or fewer than `--rank` do.
fn no_story_message(
    study: &Study,
    sim: &CourseSim,
    args: &CourseArgs,
    story: Story,
    matching: usize,
) -> String {
    let whose = format!(
        "scenario {} (patients 0 to {}, replicate {}, arm {})",
        study.name(),
        sim.patients() - 1,
        args.source.replicate,
        sim.arm_name()
    );
    if story == Story::Majeed && sim.majeed_frac() == 0.0 {
        format!(
            "{whose} has no Majeed patients: its [cohort] majeed_frac is 0; use a scenario with majeed_frac above 0, such as scenarios/majeed.toml"
        )
    } else if matching == 0 {
        format!(
            "no patient of {whose} tells the story {}; try another arm, scenario, --seed or more --patients",
            story.name()
        )
    } else {
        format!(
            "only {matching} patient(s) of {whose} tell the story {}: --rank {} is beyond them; give --rank 1 to {matching}, or more --patients",
            story.name(),
            args.rank
        )
    }
}

/// `crmo-sim gallery`: a grid of course charts (single-threaded; scans a few
/// thousand patients to pick a spread of course types). With `quiet`,
/// nothing goes to standard output.
pub fn gallery(args: &GalleryArgs, quiet: bool) -> Result<()> {
    let study = args.source.load()?;
    Format::of(args.out.as_deref().unwrap_or(Path::new("x.png")))?;
    let count = args.count.map_or(
        match args.style {
            Style::Paper => 6,
            Style::Slide => crate::plot::gallery::MAX_SLIDE_GALLERY,
        },
        |c| c as usize,
    );
    crate::plot::gallery::check_count(args.style, count)?;
    let sim = CourseSim::new(&study, args.arm.as_deref(), args.source.replicate)?;
    let (path, file) = image_file(&study, args.out.as_deref(), "gallery.png", args.replace)?;
    crate::plot::gallery::gallery_of(
        &sim,
        &study.name(),
        count,
        file.draw_path(),
        args.style,
        args.width,
    )?;
    super::print_warnings(&file.commit()?);
    if !quiet {
        let _ = writeln!(std::io::stdout().lock(), "{}", path.display());
    }
    Ok(())
}
