//! The disease activity score of a course chart: the model's score (0-10;
//! 0 between flares) as a filled step line in a panel of its own under the
//! pain panel, sharing its time axis, or on slides as a line over pain
//! (both run 0-10), where a panel of its own would squeeze the lesions.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{panel_name, row_labels};
use super::frame::{clip, draw_markers, Frame};
use super::CourseTrace;
use crate::engine::model_values::DAYS_PER_YEAR;
use crate::plot::palette as pal;
use crate::plot::{fmt_tick, DrawResult};

/// The colour of the score: a dark violet, distinct from pain (black),
/// flares (vermillion shading), fever (orange), CRP (reddish purple), the
/// lesion blues and the drug colours.
pub(crate) const SCORE: RGBColor = RGBColor(0x5E, 0x3C, 0x99);

/// Draws the score panel into `panel`.
pub(crate) fn draw_score<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = f.px;
    // Headroom above 10 keeps the top tick clear of the pain panel's 0.
    let ymax = 12.5;
    let mut chart = f
        .builder(panel, 0, 0)
        .build_cartesian_2d(f.x(), 0.0..ymax)?;
    let (x0, x1) = f.opt.years;
    chart.draw_series(
        [5.0, 10.0].map(|y| PathElement::new(vec![(x0, y), (x1, y)], pal::GRID.stroke_width(1))),
    )?;
    draw_markers(&mut chart, t, f, ymax)?;
    chart.draw_series(t.activity.iter().filter_map(|s| {
        let (a, b) = clip(f, s.start_day, s.end_day)?;
        Some(Rectangle::new(
            [(a, 0.0), (b, s.score)],
            SCORE.mix(0.3).filled(),
        ))
    }))?;
    overlay_score(&mut chart, t, f)?;
    let ticks = [0.0, 5.0, 10.0].map(|y| (y, fmt_tick(y)));
    row_labels(panel, &chart, &ticks, px * 0.9 / 0.85, f.floor())?;
    panel_name(panel, &chart, "score", px)?;
    Ok(())
}

/// The score as a step line on its 0-10 scale: over the pain panel on
/// slides, the outline of the filled score panel otherwise.
pub(crate) fn overlay_score<DB: DrawingBackend>(
    chart: &mut crate::plot::Chart2d<'_, DB>,
    t: &CourseTrace,
    f: &Frame,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let line = step_line(t, f.opt.years);
    chart.draw_series(LineSeries::new(line, SCORE.stroke_width(f.line(2))))?;
    Ok(())
}

/// The score as a step polyline over the window, 0 between flares.
fn step_line(t: &CourseTrace, (x0, x1): (f64, f64)) -> Vec<(f64, f64)> {
    let mut pts = vec![(x0, 0.0)];
    for s in &t.activity {
        let (a, b) = (s.start_day / DAYS_PER_YEAR, s.end_day / DAYS_PER_YEAR);
        if b < x0 || a > x1 {
            continue;
        }
        let (a, b) = (a.max(x0), b.min(x1));
        pts.extend([(a, 0.0), (a, s.score), (b, s.score), (b, 0.0)]);
    }
    let end = (t.end_day / DAYS_PER_YEAR).min(x1);
    if end > x0 {
        pts.push((end, 0.0));
    }
    pts
}
