//! What every panel of a course chart shares: the options (style, time
//! window), the frame that lines the panels' x axes up, the window tests and
//! the markers drawn on every panel. The panel modules import this and
//! nothing of each other's drawing.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::CourseTrace;
use crate::engine::model_values::DAYS_PER_YEAR;
use crate::plot::palette as pal;
use crate::plot::{DrawResult, Style};

/// How a course chart is drawn.
#[derive(Debug, Clone)]
pub struct CourseOptions {
    /// Base text size, pixels.
    pub px: f64,
    /// Paper or slide.
    pub style: Style,
    /// Title and subtitle (None: no title).
    pub title: Option<(String, String)>,
    /// Draw the legend below the chart.
    pub legend: bool,
    /// The time window, years since onset.
    pub years: (f64, f64),
    /// Only pain, flares, diagnosis and drugs (no lesions, age, CRP or
    /// imaging): for gallery panels on slides, where text is large.
    pub compact: bool,
    /// Events a story points at, `(day since onset, label)`: each gets its
    /// label in the pain panel with an arrow down to the pain line.
    pub marks: Vec<(f64, String)>,
}

impl CourseOptions {
    /// A full chart on a slide: every text at least the base size (whose
    /// capitals are 2.5% of the height), short labels, no age axis.
    pub(crate) fn slide_layout(&self) -> bool {
        self.style == Style::Slide && !self.compact
    }

    /// A compact gallery panel on a slide: few ticks, short words.
    pub(crate) fn slide_compact(&self) -> bool {
        self.style == Style::Slide && self.compact
    }

    /// A text size, pixels: `k` times the base size, but never below the
    /// base size in the slide layout.
    pub(crate) fn text_px(&self, k: f64) -> f64 {
        if self.slide_layout() {
            self.px * k.max(1.0)
        } else {
            self.px * k
        }
    }
}

/// Whether day `d` falls in the window.
pub(crate) fn shown(opt: &CourseOptions, d: f64) -> bool {
    let y = d / DAYS_PER_YEAR;
    opt.years.0 <= y && y <= opt.years.1
}

/// Whether `[a, b]` (days) overlaps the window.
pub(crate) fn overlaps(opt: &CourseOptions, a: f64, b: f64) -> bool {
    a / DAYS_PER_YEAR <= opt.years.1 && b / DAYS_PER_YEAR >= opt.years.0
}

pub(crate) use crate::plot::Chart2d;

/// Geometry shared by the three panels so their x axes line up.
pub(crate) struct Frame<'o> {
    pub(crate) px: f64,
    pub(crate) left: u32,
    pub(crate) right: u32,
    pub(crate) opt: &'o CourseOptions,
}

impl Frame<'_> {
    pub(crate) fn builder<'a, 'b, DB: DrawingBackend>(
        &self,
        panel: &'a DrawingArea<DB, Shift>,
        top: u32,
        bottom: u32,
    ) -> ChartBuilder<'a, 'b, DB> {
        let mut b = ChartBuilder::on(panel);
        b.margin_right((self.px * 0.5) as u32)
            .margin_top((self.px * 0.3) as u32)
            .set_label_area_size(LabelAreaPosition::Left, self.left)
            .set_label_area_size(LabelAreaPosition::Right, self.right)
            .set_label_area_size(LabelAreaPosition::Top, top)
            .set_label_area_size(LabelAreaPosition::Bottom, bottom);
        b
    }

    /// The x range, years since onset.
    pub(crate) fn x(&self) -> std::ops::Range<f64> {
        self.opt.years.0..self.opt.years.1
    }

    /// Width of the window, years.
    pub(crate) fn span(&self) -> f64 {
        self.opt.years.1 - self.opt.years.0
    }

    /// Number of x labels: about one a year, at most 12 (on slides about
    /// one every two years, at most 7).
    pub(crate) fn ticks(&self) -> usize {
        let years = self.span();
        if self.opt.slide_layout() {
            ((years / 2.0).ceil() as usize + 1).clamp(2, 7)
        } else if self.opt.slide_compact() {
            // A third of a slide: a tick every 2 or 5 years.
            ((years / 2.0).ceil() as usize + 1).clamp(2, 6)
        } else if years <= 12.0 {
            years.ceil() as usize + 1
        } else {
            12
        }
    }

    /// The smallest text size, pixels: the base size in the slide layout,
    /// none otherwise.
    pub(crate) fn floor(&self) -> f64 {
        if self.opt.slide_layout() {
            self.px
        } else {
            0.0
        }
    }

    /// A line width scaled by the style.
    pub(crate) fn line(&self, paper: u32) -> u32 {
        self.opt.style.line(paper)
    }
}

/// Marks common to all panels: lost to follow-up shading, diagnosis and resolution lines.
pub(crate) fn draw_markers<DB: DrawingBackend>(
    chart: &mut Chart2d<'_, DB>,
    t: &CourseTrace,
    f: &Frame,
    ymax: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if let Some(l) = t.lost_day {
        let a = (l / DAYS_PER_YEAR).max(f.opt.years.0);
        if a < f.opt.years.1 {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, 0.0), (f.opt.years.1, ymax)],
                pal::LOST.mix(0.3).filled(),
            )))?;
        }
    }
    let dash = (f.px * 0.5) as i32;
    for (day, colour) in [
        (t.diagnosis_day, pal::BLACK),
        (t.resolution_day, pal::BLUISH_GREEN),
    ] {
        if let Some(d) = day.filter(|&d| shown(f.opt, d)) {
            let x = d / DAYS_PER_YEAR;
            chart.draw_series(DashedLineSeries::new(
                vec![(x, 0.0), (x, ymax)],
                dash,
                dash * 2 / 3,
                colour.stroke_width(f.line(2)),
            ))?;
        }
    }
    Ok(())
}

/// Whether the course has an activity score inside the chart's window.
pub(crate) fn scored_in_window(t: &CourseTrace, opt: &CourseOptions) -> bool {
    t.activity
        .iter()
        .any(|s| s.score > 0.0 && overlaps(opt, s.start_day, s.end_day))
}

/// Clips `[a, b]` (days) to the window, in years; None if outside it.
pub(crate) fn clip(f: &Frame, a: f64, b: f64) -> Option<(f64, f64)> {
    let (x0, x1) = f.opt.years;
    let (a, b) = ((a / DAYS_PER_YEAR).max(x0), (b / DAYS_PER_YEAR).min(x1));
    (a <= b).then_some((a, b))
}
