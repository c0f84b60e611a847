//! Drawing a course chart: the default time window, the legend (only what
//! the chart shows), the panel layout and the activity panel (pain, flares,
//! fever, CRP, imaging visits, diagnosis with its criteria). The options and
//! the frame the panels share are in [`super::frame`].

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::engine::model_values::DAYS_PER_YEAR;
use crate::error::{Error, Result};

use super::bars::{draw_lesions, draw_treatment, drug_rows, lesion_rows, panel_name, LesionRow};
use super::labels::{draw_imaging, draw_line_labels};
use super::score::draw_score;
use super::CourseTrace;
use crate::plot::palette as pal;
use crate::plot::{
    bold, draw_legend, draw_title, fmt_tick, legend_height, text, DrawResult, Figure, Style,
};

use super::frame::{clip, draw_markers, overlaps, scored_in_window, shown, CourseOptions, Frame};
pub(crate) use super::legend::course_legend;
use super::legend::course_legend_of;

/// Renders a course chart to `path` (PNG or SVG by extension; anything else
/// is a usage error), `width` x `height` pixels, in `style`, showing years
/// `years` since onset (default: [`default_years`]).
///
/// Single-threaded.
pub fn render_course(
    trace: &CourseTrace,
    path: &Path,
    size: (u32, u32),
    style: Style,
    years: Option<(f64, f64)>,
) -> Result<()> {
    render_course_with(trace, path, size, style, years, true)
}

/// What a story adds to a course chart: a title of its own and the events
/// it points at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CourseNotes {
    /// Replaces the title line (the subtitle stays).
    pub title: Option<String>,
    /// Events to point at, `(day since onset, label)`: each label sits in
    /// the pain panel with an arrow down to the pain line at that day.
    pub marks: Vec<(f64, String)>,
}

/// [`render_course`] with a story's title and marks.
pub fn render_course_noted(
    trace: &CourseTrace,
    path: &Path,
    size: (u32, u32),
    style: Style,
    years: Option<(f64, f64)>,
    notes: &CourseNotes,
) -> Result<()> {
    render_course_full(trace, path, size, style, years, notes, true)
}

/// [`render_course`] with or without its text: the PNG without text
/// differs from the full chart exactly where text is drawn, which is how
/// the text size of a chart is measured on the image.
pub fn render_course_with(
    trace: &CourseTrace,
    path: &Path,
    size: (u32, u32),
    style: Style,
    years: Option<(f64, f64)>,
    with_text: bool,
) -> Result<()> {
    let notes = CourseNotes::default();
    render_course_full(trace, path, size, style, years, &notes, with_text)
}

fn render_course_full(
    trace: &CourseTrace,
    path: &Path,
    (width, height): (u32, u32),
    style: Style,
    years: Option<(f64, f64)>,
    notes: &CourseNotes,
    with_text: bool,
) -> Result<()> {
    struct Chart<'a>(&'a CourseTrace, CourseOptions);
    impl Figure for Chart<'_> {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
        where
            DB::ErrorType: 'static,
        {
            draw_course(root, self.0, &self.1)
        }
    }
    let years = match years {
        Some(y) => check_years(trace, y)?,
        None => default_years(trace),
    };
    let slide = style == Style::Slide;
    let opts = CourseOptions {
        px: if slide {
            style.cap_px(width, height) * crate::plot::SMALLEST_TEXT
        } else {
            style.base_px(width, height)
        },
        style,
        title: Some(if let Some(title) = &notes.title {
            let sub = if slide {
                trace.slide_subtitle()
            } else {
                format!("{} · {}", trace.title(), trace.summary())
            };
            (title.clone(), sub)
        } else if slide {
            (trace.slide_title(), trace.slide_subtitle())
        } else {
            (
                trace.title(),
                format!(
                    "{} · scenario {}, arm {}",
                    trace.summary(),
                    trace.scenario,
                    trace.arm
                ),
            )
        }),
        legend: true,
        years,
        compact: false,
        marks: notes.marks.clone(),
    };
    crate::plot::render_with(&Chart(trace, opts), path, width, height, with_text)
}

/// The window a course chart shows by default: from onset to a year after
/// the last thing that happens (flare, drug change, diagnosis, resolution,
/// fracture, lesion healing), in whole years, at least two years, at most
/// the horizon.
pub fn default_years(t: &CourseTrace) -> (f64, f64) {
    let mut last: f64 = t.diagnosis_day.unwrap_or(0.0);
    for f in &t.flares {
        last = last.max(f.end_day);
    }
    for s in &t.drug_spans {
        last = last.max(s.end_day);
    }
    for l in &t.lesions {
        last = last.max(l.active.last().map_or(0.0, |p| p.1));
    }
    for d in [t.resolution_day, t.lost_day].into_iter().flatten() {
        last = last.max(d);
    }
    for f in &t.fractures {
        last = last.max(f.day);
    }
    let horizon = t.horizon_days / DAYS_PER_YEAR;
    let end = (last / DAYS_PER_YEAR + 1.0).ceil().max(2.0).min(horizon);
    (0.0, end.max(0.1))
}

/// Checks a window given with `--years A..B` against the horizon.
fn check_years(t: &CourseTrace, (a, b): (f64, f64)) -> Result<(f64, f64)> {
    let horizon = t.horizon_days / DAYS_PER_YEAR;
    if a.is_finite() && b.is_finite() && 0.0 <= a && a < b && b <= horizon + 1e-9 {
        Ok((a, b))
    } else {
        Err(Error::Usage(format!(
            "--years {a}..{b} is not a window of this course: give A..B with 0 <= A < B <= {horizon} (the horizon, years since onset)"
        )))
    }
}

/// Parses `A..B` (years since onset; numbers with or without decimals).
pub fn parse_years(s: &str) -> std::result::Result<(f64, f64), String> {
    let bad = || format!("expected A..B in years since onset, e.g. 0..5 or 1.5..4, not `{s}`");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let a: f64 = a.trim().parse().map_err(|_| bad())?;
    let b: f64 = b.trim().parse().map_err(|_| bad())?;
    if a.is_finite() && b.is_finite() && 0.0 <= a && a < b {
        Ok((a, b))
    } else {
        Err(bad())
    }
}

/// Draws a whole course chart (title, panels, legend) into `area`.
pub(crate) fn draw_course<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    opt: &CourseOptions,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = opt.px;
    let mut body = area.clone();
    if let Some((title, sub)) = &opt.title {
        // On slides the subtitle (at 0.7 of the title) is still base size.
        let size = if opt.slide_layout() {
            px / 0.7
        } else if opt.slide_compact() {
            // One line in a third of a slide: bold at the base size.
            px
        } else {
            px * 1.35
        };
        let h = draw_title(area, title, sub, size)?;
        body = area.split_vertically(h).1;
    }
    if !opt.legend {
        return draw_panels(&body, t, opt).map(|_| ());
    }
    // The legend's room is set by all its entries; on slides it is drawn
    // after the panels, with the entries of the lesions they drew.
    let entries = slide_fit(&body, course_legend(t, opt), opt)?;
    let lh = legend_height(&body, &entries, px)? + (px * 0.6) as u32;
    let (_, bh) = body.dim_in_pixel();
    let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
    if !opt.slide_layout() {
        // Only slides leave lesions out: all entries stand.
        draw_legend(&lower, &entries, px)?;
        return draw_panels(&upper, t, opt).map(|_| ());
    }
    let drawn = draw_panels(&upper, t, opt)?;
    let entries = slide_fit(&lower, course_legend_of(t, opt, &drawn), opt)?;
    draw_legend(&lower, &entries, px)
}

/// Entries a slide's legend may leave out, in this order, while it takes
/// more than two rows: the pain line (the panel is named "pain" and it is
/// its only black line).
const SLIDE_OPTIONAL: [&str; 1] = ["pain"];

/// The legend of a slide in at most two rows where leaving out
/// [`SLIDE_OPTIONAL`] entries achieves it; other charts keep every entry.
fn slide_fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    mut entries: Vec<(crate::plot::Swatch, String)>,
    opt: &CourseOptions,
) -> DrawResult<Vec<(crate::plot::Swatch, String)>>
where
    DB::ErrorType: 'static,
{
    if !opt.slide_layout() {
        return Ok(entries);
    }
    for label in SLIDE_OPTIONAL {
        if crate::plot::legend_rows(area, &entries, opt.px)? <= 2 {
            break;
        }
        entries.retain(|e| e.1 != label);
    }
    Ok(entries)
}

/// Draws the panels; returns which lesions they drew.
fn draw_panels<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    opt: &CourseOptions,
) -> DrawResult<Vec<bool>>
where
    DB::ErrorType: 'static,
{
    if opt.compact {
        draw_compact(body, t, opt)?;
        return Ok(vec![true; t.lesions.len()]);
    }
    let px = opt.px;
    let (_, h) = body.dim_in_pixel();
    let h = f64::from(h);
    let frame = Frame {
        px,
        left: (px * 9.0) as u32,
        right: (px * 3.6) as u32,
        opt,
    };
    let slide = opt.slide_layout();
    // On slides the x ticks say "year n", so no axis name below them.
    let axis_h = if slide { px * 1.6 } else { px * 3.0 };
    let mut rows = lesion_rows(t);
    let drugs = drug_rows(t);
    let treat_rows = drugs.len().max(1) as f64;
    // Plotting heights at least as tall as the rotated panel names.
    let name_h = |s: &str| -> DrawResult<f64> {
        Ok(f64::from(body.estimate_text_size(s, &bold(px))?.0) + px)
    };
    let row_h = if slide { 1.25 } else { 1.4 };
    let treat_h = (treat_rows * px * row_h).max(name_h("drugs")?) + axis_h + px * 0.6;
    let rest = (h - treat_h).max(px * 10.0);
    // No age axis on slides: the title gives the onset age.
    let top = if slide { px * 0.4 } else { px * 1.7 };
    // A story's marks take a band above the pain panel's plot.
    let marks = super::labels::plan_marks(body, &frame)?;
    let top = top + f64::from(marks.band);
    // The score panel, when the trace has a score: tall enough for its
    // rotated name, never more than a third of what it shares with pain.
    // Slides draw it over the pain panel instead (same 0-10 scale): a panel
    // of its own at slide text would squeeze the lesions.
    let score_want = if t.activity.is_empty() || slide {
        0.0
    } else {
        name_h("score")?.max(px * 3.5).min(rest * 0.2)
    };
    // The pain panel keeps room for its name and the line labels; lesion
    // rows give way first (down to about a text line each).
    let pain_min = if slide {
        // Room for three tick labels, the line labels and the imaging marks.
        name_h("pain")?.max(px * 5.5) + top
    } else {
        name_h("pain")? + top + px
    };
    if slide {
        // Slides cap the lesion rows at what fits a text line each.
        let fit = ((rest - pain_min - score_want - px * 0.5) / (px * 1.1)).floor();
        cap_lesion_rows(&mut rows, (fit as usize).max(2));
    }
    let n_rows = rows.len().max(1) as f64;
    let lesion_h = (n_rows * px * 1.7 + px)
        .max(name_h("lesions")? + px * 0.5)
        .min(rest - pain_min - score_want)
        .max(n_rows * px * if slide { 1.1 } else { 1.05 })
        .min(rest * if slide { 0.6 } else { 0.5 });
    let activity_h = rest - lesion_h;
    let score_h = score_want.min((activity_h - top) / 3.0);
    let (activity, lower) = body.split_vertically((activity_h - score_h) as u32);
    let (score, lower) = lower.split_vertically(score_h as u32);
    let (lesions, treatment) = lower.split_vertically(lesion_h as u32);
    draw_activity(&activity, t, &frame, top as u32, &marks)?;
    if score_h > 0.0 {
        draw_score(&score, t, &frame)?;
    }
    draw_lesions(&lesions, t, &frame, &rows)?;
    draw_treatment(&treatment, t, &frame, &drugs, axis_h as u32)?;
    let mut drawn = vec![false; t.lesions.len()];
    for &(i, _) in rows.iter().flat_map(|r| &r.lesions) {
        drawn[i] = true;
    }
    Ok(drawn)
}

/// Keeps at most `max` lesion rows: the first `max - 1` and a last row
/// saying how many lesions are left out.
fn cap_lesion_rows(rows: &mut Vec<LesionRow>, max: usize) {
    if rows.len() <= max {
        return;
    }
    let hidden: usize = rows[max - 1..].iter().map(|r| r.lesions.len()).sum();
    rows.truncate(max - 1);
    rows.push(LesionRow {
        label: format!("+{hidden} more"),
        lesions: Vec::new(),
        lanes: 1,
    });
}

/// A compact course: pain and flares above a strip of drugs, one x axis.
fn draw_compact<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    opt: &CourseOptions,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = opt.px;
    let frame = Frame {
        px,
        left: (px * 2.2) as u32,
        right: (px * 0.5) as u32,
        opt,
    };
    let (_, h) = body.dim_in_pixel();
    let drugs = drug_rows(t);
    let axis_h = px * 2.6;
    // A course without drugs keeps its strip: it carries the x axis and
    // says why no drug was given.
    let strip = drugs.len().max(1) as f64 * px * 0.7 + axis_h + px * 0.4;
    let (activity, treatment) = body.split_vertically((f64::from(h) - strip).max(px * 4.0) as u32);
    let no_marks = super::labels::MarkPlan::default();
    draw_activity(&activity, t, &frame, 0, &no_marks)?;
    draw_treatment(&treatment, t, &frame, &drugs, axis_h as u32)?;
    Ok(())
}

fn draw_activity<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    top: u32,
    marks: &super::labels::MarkPlan,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = f.px;
    // Pain runs 0-10; above it, room for the labels of the vertical lines.
    let (_, panel_h) = panel.dim_in_pixel();
    let plot_h = (f64::from(panel_h) - f64::from(top) - px * 0.3).max(px * 4.0);
    // Room above pain 10 for a row of line labels, or two when a story's
    // arrows may push a label into a second row.
    let label_rows = if marks.band > 0 { 2.0 } else { 1.0 };
    let ymax = if f.opt.compact {
        11.0
    } else {
        (10.0 * plot_h / (plot_h - px * 1.8 * label_rows)).clamp(11.5, 20.0)
    };
    let flares: Vec<_> = t
        .flares
        .iter()
        .filter(|fl| overlaps(f.opt, fl.start_day, fl.end_day))
        .collect();
    let crp_max = flares.iter().map(|fl| fl.crp_mg_l).fold(10.0f64, f64::max) * 1.2;
    let chart = f
        .builder(panel, top, 0)
        .build_cartesian_2d(f.x(), 0.0..ymax)?;
    let age0 = t.onset_age_years;
    let mut chart = chart.set_secondary_coord(
        age0 + f.opt.years.0..age0 + f.opt.years.1,
        0.0..crp_max * ymax / 10.0,
    );
    let tick_style = text(f.opt.text_px(0.9));
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(f.ticks())
        .max_light_lines(0)
        .bold_line_style(pal::GRID.stroke_width(1))
        .axis_style(pal::GREY.stroke_width(1))
        .y_labels(if f.opt.slide_compact() { 3 } else { 6 })
        .y_label_formatter(&|v| {
            if *v <= 10.0 {
                fmt_tick(*v)
            } else {
                String::new()
            }
        })
        .label_style(tick_style.clone())
        .draw()?;
    let compact = f.opt.compact;
    chart
        .configure_secondary_axes()
        .x_labels(if compact || f.opt.slide_layout() {
            0
        } else {
            f.ticks()
        })
        .x_label_formatter(&|v| format!("age {}", fmt_tick(*v)))
        .y_labels(if flares.is_empty() || compact { 0 } else { 4 })
        .y_label_formatter(&|v| {
            if *v <= crp_max {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .label_style(tick_style)
        .axis_desc_style(text(f.opt.text_px(0.9)))
        .y_desc(if flares.is_empty() || compact {
            ""
        } else {
            "CRP (mg/l)"
        })
        .draw()?;
    chart.draw_series(flares.iter().filter_map(|fl| {
        let (a, b) = clip(f, fl.start_day, fl.end_day)?;
        Some(Rectangle::new(
            [(a, 0.0), (b, 10.0)],
            pal::ACTIVE.mix(0.25).filled(),
        ))
    }))?;
    draw_markers(&mut chart, t, f, ymax)?;
    if f.opt.slide_layout() && scored_in_window(t, f.opt) {
        // Under the pain line, so pain stays on top where they meet.
        super::score::overlay_score(&mut chart, t, f)?;
    }
    let mut line = vec![(0.0, 0.0)];
    for fl in &t.flares {
        let (a, b) = (fl.start_day / DAYS_PER_YEAR, fl.end_day / DAYS_PER_YEAR);
        line.extend([(a, 0.0), (a, fl.pain), (b, fl.pain), (b, 0.0)]);
    }
    line.push((t.end_day / DAYS_PER_YEAR, 0.0));
    let line = clip_line(&line, f.opt.years);
    chart.draw_series(LineSeries::new(line, pal::BLACK.stroke_width(f.line(2))))?;
    let r = (px * 0.45) as i32;
    chart.draw_series(
        flares
            .iter()
            .filter(|fl| fl.fever && shown(f.opt, fl.start_day))
            .map(|fl| {
                TriangleMarker::new(
                    (fl.start_day / DAYS_PER_YEAR, fl.pain + 0.8),
                    r,
                    pal::ORANGE.filled(),
                )
            }),
    )?;
    if compact {
        return Ok(());
    }
    // CRP of each flare, a diamond on the right axis at the flare's middle.
    for fl in &flares {
        let Some((a, b)) = clip(f, fl.start_day, fl.end_day) else {
            continue;
        };
        let y = fl.crp_mg_l / crp_max * 10.0;
        chart.draw_series(std::iter::once(
            EmptyElement::at(((a + b) / 2.0, y))
                + crate::plot::diamond(r, pal::REDDISH_PURPLE.filled()),
        ))?;
    }
    // Labels keep clear of the CRP and fever marks as well as the imaging.
    let mut taken: Vec<super::labels::Rect> = Vec::new();
    for fl in &flares {
        let Some((a, b)) = clip(f, fl.start_day, fl.end_day) else {
            continue;
        };
        let (x, y) = chart.backend_coord(&((a + b) / 2.0, fl.crp_mg_l / crp_max * 10.0));
        taken.push((x - r, y - r, x + r, y + r));
        if fl.fever && shown(f.opt, fl.start_day) {
            let (x, y) = chart.backend_coord(&(fl.start_day / DAYS_PER_YEAR, fl.pain + 0.8));
            taken.push((x - r, y - r, x + r, y + r));
        }
    }
    taken.extend(super::labels::draw_marks(&chart, panel, t, f, marks)?);
    let imaging = draw_imaging(&mut chart, panel, t, f, &taken)?;
    taken.extend(imaging);
    draw_line_labels(&chart, panel, t, f, (ymax + 10.0) / 2.0, &taken)?;
    panel_name(panel, &chart, "pain", px)?;
    Ok(())
}

/// The pain line restricted to the window (a polyline of vertical and
/// horizontal steps, so clipping x keeps it exact).
fn clip_line(pts: &[(f64, f64)], (x0, x1): (f64, f64)) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for w in pts.windows(2) {
        let ((a, ya), (b, yb)) = (w[0], w[1]);
        if b < x0 || a > x1 {
            continue;
        }
        out.push((a.clamp(x0, x1), ya));
        out.push((b.clamp(x0, x1), yb));
    }
    out
}

#[cfg(test)]
mod tests;
