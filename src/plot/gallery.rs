//! Galleries: a grid of course charts chosen to show the range of courses.
//!
//! Patients are sorted by course shape ([`CourseShape`]) after scanning
//! the first [`GALLERY_SCAN`] patient indices of replicate 0 in order, so the
//! choice is deterministic; the gallery then takes a spread of patients from
//! each class (from few to many flares).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::engine::patient::Outcome;
use crate::error::{Error, Result};
use crate::study::Study;

use super::course::draw::{course_legend, default_years, draw_course};
use super::course::{CourseOptions, CourseSim, CourseTrace};
use super::{draw_legend, draw_title, legend_height, DrawResult, Figure, Style, Swatch};

/// How many patient indices are scanned to course_shape courses.
pub const GALLERY_SCAN: u64 = 3000;
/// Most panels in one gallery.
pub const MAX_GALLERY: usize = 36;
/// Most panels in a slide gallery: one row, what a lecture slide shows readably.
pub const MAX_SLIDE_GALLERY: usize = 3;
/// Flares (without resolution) from which an unresolved course counts as ongoing.
pub const ONGOING_MIN_FLARES: u32 = 6;

/// The shape of a disease course as a gallery sorts it: by flare count and
/// state at the end of observation. Not the course class of `summary.csv`
/// and `patients.csv` ([`crate::engine::outcome::CourseClass`], which rests
/// on the 6-month flare-free gap among diagnosed patients); the gallery's
/// labels and the `--story` names use the clinical words, see [`CourseShape::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CourseShape {
    /// One flare only, then remission for good.
    SingleFlare,
    /// Several flares, in remission or resolved at the end.
    Recurring,
    /// Active at the end, or many flares without resolution.
    Ongoing,
}

impl CourseShape {
    /// All shapes, in display order.
    pub const ALL: [CourseShape; 3] = [
        CourseShape::SingleFlare,
        CourseShape::Recurring,
        CourseShape::Ongoing,
    ];

    /// Lower-case name for labels: the clinical word closest to the shape.
    pub fn as_str(self) -> &'static str {
        match self {
            CourseShape::SingleFlare => "monophasic",
            CourseShape::Recurring => "relapsing",
            CourseShape::Ongoing => "persistent",
        }
    }
}

/// The shape of a simulated course:
/// - ongoing: in a flare at the end of observation, or at least
///   [`ONGOING_MIN_FLARES`] flares and not resolved;
/// - single flare: exactly one flare (and not ongoing);
/// - recurring: several flares, then remission or resolution at the end.
pub fn course_shape(o: &Outcome) -> CourseShape {
    if o.active_at_end || (o.resolved_day.is_none() && o.flares >= ONGOING_MIN_FLARES) {
        CourseShape::Ongoing
    } else if o.flares <= 1 {
        CourseShape::SingleFlare
    } else {
        CourseShape::Recurring
    }
}

/// The patients a gallery shows, with how the scanned patients split into classes.
#[derive(Debug, Clone)]
pub struct GalleryPicks {
    /// Patients scanned (indices `0..scanned`).
    pub scanned: u64,
    /// Of those observed to the horizon, how many fell in each class of [`CourseShape::ALL`].
    pub class_counts: [u64; 3],
    /// Chosen patients with their class, in display order (by class, then flares).
    pub picks: Vec<(CourseShape, u64)>,
}

/// Chooses `count` patients that show the range of courses in `sim`'s arm
/// and replicate: scans patients `0..min(patients, GALLERY_SCAN)`, keeps
/// those observed to the horizon (not lost to follow-up), classifies them,
/// shares `count` among the classes (relapsing first, then persistent, then
/// monophasic, moving spare places on when a class runs out) and, within a
/// class, takes evenly spaced patients in order of flare count.
pub fn pick_courses(sim: &CourseSim, count: usize) -> Result<GalleryPicks> {
    if count == 0 || count > MAX_GALLERY {
        return Err(Error::Usage(format!(
            "a gallery shows 1 to {MAX_GALLERY} patients, not {count}"
        )));
    }
    let scanned = sim.patients().min(GALLERY_SCAN);
    let mut by_class: [Vec<(u32, u64)>; 3] = Default::default();
    for p in 0..scanned {
        let (o, _) = sim.simulate(p)?;
        if o.lost_day.is_some() {
            continue;
        }
        by_class[course_shape(&o) as usize].push((o.flares, p));
    }
    for v in &mut by_class {
        v.sort_unstable();
    }
    let class_counts = [0, 1, 2].map(|c| by_class[c].len() as u64);
    // Share the places: relapsing, persistent, monophasic, round robin.
    let priority = [1usize, 2, 0];
    let mut quota = [0usize; 3];
    let mut left = count;
    while left > 0 {
        let before = left;
        for &c in &priority {
            if left > 0 && quota[c] < by_class[c].len() {
                quota[c] += 1;
                left -= 1;
            }
        }
        if left == before {
            break; // fewer patients than places
        }
    }
    let mut picks = Vec::new();
    for c in 0..3 {
        let m = by_class[c].len();
        let k = quota[c];
        for j in 0..k {
            let i = (((j as f64 + 0.5) * m as f64 / k as f64) as usize).min(m - 1);
            picks.push((CourseShape::ALL[c], by_class[c][i].1));
        }
    }
    if picks.is_empty() {
        return Err(Error::Usage(format!(
            "no patient among the first {scanned} is observed to the horizon; nothing to show"
        )));
    }
    Ok(GalleryPicks {
        scanned,
        class_counts,
        picks,
    })
}

/// Width over height of one gallery panel (fixed, so the image height
/// follows from the width and the panel grid).
pub const PANEL_ASPECT: f64 = 1.6;

/// Columns of a gallery of `n` panels.
fn columns(n: usize) -> usize {
    match n {
        1 => 1,
        2 | 4 => 2,
        3 | 5 | 6 | 9 => 3,
        _ => 4,
    }
}

/// Renders a gallery of `count` course charts (1 to [`MAX_GALLERY`]) to
/// `path` (PNG or SVG by extension), each panel labelled with its course
/// class and patient index. The image is `width` pixels wide (default: the
/// style's width); its height follows from the panel grid at a fixed panel
/// aspect ([`PANEL_ASPECT`]). On slides the gallery is one row of at most
/// [`MAX_SLIDE_GALLERY`] compact panels (more is a usage error), with a
/// one-line title and no class summary.
///
/// Single-threaded: scanning [`GALLERY_SCAN`] patients takes well under a
/// second in a release build.
pub fn gallery(
    study: &Study,
    arm: Option<&str>,
    count: usize,
    path: &Path,
    style: Style,
    width: Option<u32>,
) -> Result<()> {
    super::Format::of(path)?;
    let sim = CourseSim::new(study, arm, 0)?;
    gallery_of(&sim, &study.name(), count, path, style, width)
}

/// [`gallery`] with the patients of `sim` (its arm and replicate).
pub fn gallery_of(
    sim: &CourseSim,
    scenario: &str,
    count: usize,
    path: &Path,
    style: Style,
    width: Option<u32>,
) -> Result<()> {
    gallery_with(sim, scenario, count, path, style, width, true)
}

/// Refuses a slide gallery of more than [`MAX_SLIDE_GALLERY`] courses (a
/// usage error naming the remedies).
pub fn check_count(style: Style, count: usize) -> Result<()> {
    if style == Style::Slide && count > MAX_SLIDE_GALLERY {
        return Err(Error::Usage(format!(
            "a slide gallery holds at most {MAX_SLIDE_GALLERY} courses (one row, readable on a slide), not {count}: use --count {MAX_SLIDE_GALLERY}, or --style paper for more"
        )));
    }
    Ok(())
}

/// [`gallery_of`] with or without its text: the PNG without text differs
/// from the full gallery exactly where text is drawn, which is how its text
/// size is measured on the image.
pub fn gallery_with(
    sim: &CourseSim,
    scenario: &str,
    count: usize,
    path: &Path,
    style: Style,
    width: Option<u32>,
    with_text: bool,
) -> Result<()> {
    super::Format::of(path)?;
    check_count(style, count)?;
    let picks = pick_courses(sim, count)?;
    let traces = picks
        .picks
        .iter()
        .map(|&(c, p)| Ok((c, sim.trace(p)?)))
        .collect::<Result<Vec<_>>>()?;
    let n = traces.len();
    let cols = match style {
        Style::Paper => columns(n),
        Style::Slide => n,
    };
    let rows = n.div_ceil(cols);
    let width = width.unwrap_or(match (style, n) {
        (Style::Paper, 1) => 1600,
        (Style::Paper, _) => cols as u32 * 1000,
        (Style::Slide, _) => 1920,
    });
    let (px, height) = gallery_geometry(style, width, cols, rows);
    let arm_name = traces[0].1.arm.clone();
    let g = Gallery {
        px,
        style,
        traces,
        cols,
        rows,
        title: match style {
            Style::Paper => format!(
                "Courses of CRMO: {n} virtual patient{} (scenario {}, arm {})",
                if n == 1 { "" } else { "s" },
                scenario,
                arm_name
            ),
            Style::Slide => format!(
                "CRMO courses: {n} virtual patient{}",
                if n == 1 { "" } else { "s" }
            ),
        },
        subtitle: match style {
            Style::Paper => class_summary(&picks),
            Style::Slide => String::new(),
        },
    };
    super::render_with(&g, path, width, height, with_text)
}

/// Base text size and image height of a gallery `width` pixels wide with a
/// grid of `cols` x `rows` panels. On paper the panels have a fixed aspect
/// ([`PANEL_ASPECT`]) and text scales with the panel (15 px in a 1000-px
/// panel). On slides the grid is one row as high as a panel a third of the
/// width at [`SLIDE_PANEL_ASPECT`] (fewer panels are wider, not taller),
/// and the text is sized as [`Style::cap_px`] sizes it: the capitals of the
/// smallest text are 2.5% of the image height, solved together with the
/// header (title and legend: [`SLIDE_HEADER_LINES`] base text lines).
fn gallery_geometry(style: Style, width: u32, cols: usize, rows: usize) -> (f64, u32) {
    let paper_px = (15.0 * f64::from(width) / cols as f64 / 1000.0).clamp(8.0, 40.0);
    match style {
        Style::Paper => {
            let grid_h = rows as f64 * f64::from(width) / cols as f64 / PANEL_ASPECT;
            (paper_px, (grid_h + 9.0 * paper_px).ceil() as u32)
        }
        Style::Slide => {
            let grid_h =
                rows as f64 * f64::from(width) / MAX_SLIDE_GALLERY as f64 / SLIDE_PANEL_ASPECT;
            let k = 0.025 / (super::SMALLEST_TEXT * super::CAP_SHARE);
            let px = (k * grid_h / (1.0 - SLIDE_HEADER_LINES * k)).max(paper_px);
            (px, (grid_h + SLIDE_HEADER_LINES * px).ceil() as u32)
        }
    }
}

/// Width over height of a panel of a three-panel slide gallery (compact
/// panels: title, pain, drugs and the time axis).
pub const SLIDE_PANEL_ASPECT: f64 = 1.2;

/// Header of a slide gallery in base text lines: a one-line title (3 lines
/// at 1.5 times the base size with its spacing) and a legend of short labels
/// in three rows (1.5 lines each) with its margin.
const SLIDE_HEADER_LINES: f64 = 8.5;

/// "Of the first 3000 patients observed to the horizon: 20% monophasic, ...".
fn class_summary(p: &GalleryPicks) -> String {
    let n: u64 = p.class_counts.iter().sum();
    let parts: Vec<String> = CourseShape::ALL
        .iter()
        .zip(p.class_counts)
        .map(|(c, k)| format!("{:.0}% {}", 100.0 * k as f64 / n.max(1) as f64, c.as_str()))
        .collect();
    format!(
        "Among patients 0-{} observed to the horizon ({n}): {}; panels span each class from fewest to most flares",
        p.scanned.saturating_sub(1),
        parts.join(", ")
    )
}

struct Gallery {
    /// Base text size in the panels.
    px: f64,
    style: Style,
    traces: Vec<(CourseShape, CourseTrace)>,
    cols: usize,
    rows: usize,
    title: String,
    subtitle: String,
}

impl Figure for Gallery {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let px = self.px;
        let top = draw_title(root, &self.title, &self.subtitle, px * 1.5)?;
        let body = root.split_vertically(top).1;
        let options = |t: &CourseTrace| CourseOptions {
            px,
            style: self.style,
            title: None,
            legend: false,
            years: default_years(t),
            compact: self.style == Style::Slide,
            marks: Vec::new(),
        };
        // One legend for all panels: the union of what they show.
        let mut entries: Vec<(Swatch, String)> = Vec::new();
        for (_, t) in &self.traces {
            for e in course_legend(t, &options(t)) {
                if !entries.iter().any(|x| x.1 == e.1) {
                    entries.push(e);
                }
            }
        }
        let lh = legend_height(&body, &entries, px)? + (px * 0.8) as u32;
        let (_, bh) = body.dim_in_pixel();
        let (grid, legend) = body.split_vertically(bh.saturating_sub(lh));
        draw_legend(&legend.margin((px * 0.4) as u32, 0, 0, 0), &entries, px)?;
        let panels = grid.split_evenly((self.rows, self.cols));
        for (panel, (class, t)) in panels.iter().zip(&self.traces) {
            let inner = panel.margin(6, 6, 6, 6);
            let (w, h) = inner.dim_in_pixel();
            inner.draw(&Rectangle::new(
                [(0, 0), (w as i32 - 1, h as i32 - 1)],
                super::palette::GRID.stroke_width(2),
            ))?;
            let subtitle = if self.style == Style::Slide {
                String::new()
            } else {
                format!(
                    "{}, onset at {:.1} y, {} · {}",
                    t.sex(),
                    t.onset_age_years,
                    t.genotype.as_str(),
                    t.summary()
                )
            };
            let title = if self.style == Style::Slide {
                slide_panel_title(&inner, *class, t.patient, px)?
            } else {
                format!("{}: patient {}", class.as_str(), t.patient)
            };
            let opts = CourseOptions {
                title: Some((title, subtitle)),
                ..options(t)
            };
            draw_course(&inner.margin(2, 4, 4, 4), t, &opts)?;
        }
        Ok(())
    }
}

/// A slide panel's one-line title: "relapsing · patient 2623", or
/// "relapsing · 2623" where that does not fit the panel.
fn slide_panel_title<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    class: CourseShape,
    patient: u64,
    px: f64,
) -> DrawResult<String>
where
    DB::ErrorType: 'static,
{
    let long = format!("{} · patient {patient}", class.as_str());
    let (w, _) = panel.dim_in_pixel();
    let (tw, _) = panel.estimate_text_size(&long, &super::bold(px))?;
    Ok(if f64::from(tw) <= 0.92 * f64::from(w) {
        long
    } else {
        format!("{} · {patient}", class.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_flares_and_end_state() {
        let mut o = Outcome {
            flares: 1,
            ..Outcome::default()
        };
        assert_eq!(course_shape(&o), CourseShape::SingleFlare);
        o.flares = 3;
        assert_eq!(course_shape(&o), CourseShape::Recurring);
        o.active_at_end = true;
        assert_eq!(course_shape(&o), CourseShape::Ongoing);
        o.active_at_end = false;
        o.flares = ONGOING_MIN_FLARES;
        assert_eq!(course_shape(&o), CourseShape::Ongoing);
        o.resolved_day = Some(100.0);
        assert_eq!(course_shape(&o), CourseShape::Recurring);
    }
}
