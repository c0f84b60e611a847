//! The power curve of virtual trials (`crmo-sim trial`): simulated power
//! against patients per arm, one line per arm compared with the control,
//! with Wilson 95% intervals as bars, and dashed lines at the level (the
//! power of a test when arms do not differ) and at the target power.
//! Drawn from the rows of `power.csv` only.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::trial::results::PowerRow;

use super::palette as pal;
use super::{
    draw_legend, draw_title, fmt_tick, legend_height, text, DrawResult, Figure, Style, Swatch,
};

/// One line: the arm and its points (patients per arm, power, lower, upper).
type Line = (String, Vec<(f64, f64, f64, f64)>);

/// The power plot.
struct PowerPlot {
    title: String,
    subtitle: String,
    lines: Vec<Line>,
    alpha: f64,
    target: Option<f64>,
    style: Style,
}

/// What the caption of the power plot says besides the rows.
#[derive(Debug, Clone)]
pub struct PowerCaption {
    /// Scenario name.
    pub scenario: String,
    /// Two-sided level.
    pub alpha: f64,
    /// Target power, if searched.
    pub target: Option<f64>,
    /// Entry point of the trials.
    pub entry: String,
}

/// Renders `power.png` and `power.svg` into `dir` (created if needed) in
/// `style`.
pub fn power_plots(
    rows: &[PowerRow],
    caption: &PowerCaption,
    dir: &Path,
    style: Style,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let mut lines: Vec<Line> = Vec::new();
    for r in rows {
        let p = (
            r.per_arm as f64,
            r.power,
            r.power_lower_95,
            r.power_upper_95,
        );
        match lines.iter_mut().find(|(a, _)| *a == r.arm) {
            Some((_, pts)) => pts.push(p),
            None => lines.push((r.arm.clone(), vec![p])),
        }
    }
    let first = rows.first();
    let (endpoint, test, control, trials) = first.map_or(("", "", "", 0), |r| {
        (
            r.endpoint.as_str(),
            r.test.as_str(),
            r.control.as_str(),
            r.trials,
        )
    });
    let plot = PowerPlot {
        title: match style {
            Style::Paper => format!("Power by patients per arm: {endpoint}"),
            Style::Slide => format!("Power: {endpoint}"),
        },
        subtitle: match style {
            Style::Paper => format!(
                "{} · against {control} · {test}, two-sided alpha {} · {trials} simulated trials per size, entry at {} · Wilson 95% intervals",
                caption.scenario, caption.alpha, caption.entry
            ),
            Style::Slide => format!("against {control} · {test} · {trials} trials per size"),
        },
        lines,
        alpha: caption.alpha,
        target: caption.target,
        style,
    };
    let (w, h) = style.size();
    let mut written = Vec::new();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("power.{ext}"));
        super::render(&plot, &path, w, h)?;
        written.push(path);
    }
    Ok(written)
}

impl Figure for PowerPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = root.dim_in_pixel();
        let px = self.style.cap_px(w, h);
        let top = draw_title(root, &self.title, &self.subtitle, px * 1.3)?;
        let body = root.split_vertically(top).1;
        let lw = self.style.line(3);
        let mut entries: Vec<(Swatch, String)> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, (label, _))| (Swatch::Line(pal::series(i), lw), label.clone()))
            .collect();
        entries.push((
            Swatch::Dashed(pal::GREY, self.style.line(2)),
            "alpha (no difference)".into(),
        ));
        if self.target.is_some() {
            entries.push((
                Swatch::Dashed(pal::BLACK, self.style.line(2)),
                "target power".into(),
            ));
        }
        let lh = legend_height(&body, &entries, px)? + (px * 0.8) as u32;
        let (_, bh) = body.dim_in_pixel();
        let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
        draw_legend(&lower.margin((px * 0.4) as u32, 0, 0, 0), &entries, px)?;
        self.chart(&upper, px)
    }
}

impl PowerPlot {
    fn chart<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, px: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let xs: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.0))
            .collect();
        let x_hi = xs.iter().copied().fold(1.0, f64::max) * 1.05;
        let (w, _) = area.dim_in_pixel();
        let mut chart = ChartBuilder::on(area)
            .margin((px * 1.0) as u32)
            .x_label_area_size((px * 3.2) as u32)
            .y_label_area_size((px * 4.5) as u32)
            .build_cartesian_2d(0.0..x_hi, 0.0..1.0)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_labels(self.style.ticks(w, px, 4.0))
            .y_labels(6)
            .bold_line_style(pal::GRID.stroke_width(1))
            .label_style(text(px * 0.9))
            .axis_desc_style(text(px))
            .x_desc("patients per arm")
            .y_desc("power")
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .draw()?;
        let dashed = |y: f64, colour: RGBColor| {
            let n = 40;
            (0..n).filter(|k| k % 2 == 0).map(move |k| {
                let a = x_hi * f64::from(k) / f64::from(n);
                let b = x_hi * f64::from(k + 1) / f64::from(n);
                PathElement::new(
                    vec![(a, y), (b, y)],
                    colour.stroke_width(self.style.line(2)),
                )
            })
        };
        chart.draw_series(dashed(self.alpha, pal::GREY))?;
        if let Some(t) = self.target {
            chart.draw_series(dashed(t, pal::BLACK))?;
        }
        let r = (px * 0.35) as i32;
        for (i, (_, p)) in self.lines.iter().enumerate() {
            let colour = pal::series(i);
            chart.draw_series(LineSeries::new(
                p.iter().map(|q| (q.0, q.1)),
                colour.stroke_width(self.style.line(3)),
            ))?;
            chart.draw_series(
                p.iter()
                    .map(|q| Circle::new((q.0, q.1), r, colour.filled())),
            )?;
            for q in p {
                chart.draw_series(LineSeries::new(
                    [(q.0, q.2), (q.0, q.3)],
                    colour.stroke_width(self.style.line(2)),
                ))?;
            }
        }
        Ok(())
    }
}
