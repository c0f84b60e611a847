//! The sweep plot: the chosen outcome (mean and 95% interval) against the
//! first swept parameter, one line per arm (and per value of a second swept
//! parameter). Drawn from the merged results only.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::results::CohortResult;
use crate::study::sweep::Sweep;

use super::palette as pal;
use super::{draw_legend, draw_title, fmt_tick, legend_height, text, DrawResult, Figure, Swatch};

/// Size of the sweep plot, pixels.
pub const SWEEP_PLOT_SIZE: (u32, u32) = (1400, 900);

/// One line of the plot: its label and points `(x, mean, lower, upper)`.
type Series = (String, Vec<(f64, f64, f64, f64)>);

/// The lines: per arm (and second-parameter value), the metric at each
/// value of the first parameter, in grid order. Lines of one arm that are
/// identical (an untreated arm does not depend on a drug's parameter) are
/// drawn once, labelled with every value they stand for.
fn series(sweep: &Sweep, results: &[CohortResult]) -> Vec<Series> {
    type Points = Vec<(f64, f64, f64, f64)>;
    // (arm, second-parameter value) -> points
    let mut lines: Vec<(String, Option<f64>, Points)> = Vec::new();
    for (p, res) in sweep.points.iter().zip(results) {
        for r in res.summary().iter().filter(|r| r.metric == sweep.metric) {
            let second = p.values.get(1).copied();
            let point = (p.values[0], r.mean, r.lower_95, r.upper_95);
            match lines
                .iter_mut()
                .find(|(a, v, _)| *a == r.arm && *v == second)
            {
                Some((_, _, pts)) => pts.push(point),
                None => lines.push((r.arm.clone(), second, vec![point])),
            }
        }
    }
    let bits = |pts: &Points| -> Vec<[u64; 4]> {
        pts.iter()
            .map(|q| [q.0, q.1, q.2, q.3].map(f64::to_bits))
            .collect()
    };
    // Identical lines of an arm: (arm, values it stands for, points).
    let mut groups: Vec<(String, Vec<f64>, Points)> = Vec::new();
    for (arm, second, mut pts) in lines {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        match groups
            .iter_mut()
            .find(|(a, _, p)| *a == arm && bits(p) == bits(&pts))
        {
            Some((_, values, _)) => values.extend(second),
            None => groups.push((arm, second.into_iter().collect(), pts)),
        }
    }
    let all_second = sweep.parameters.get(1).map_or(0, |q| q.values.len());
    groups
        .into_iter()
        .map(|(arm, values, pts)| {
            let label = match sweep.parameters.get(1) {
                Some(q) if values.len() < all_second => {
                    let v: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                    format!("{arm} · {} = {}", short(&q.path), v.join(", "))
                }
                _ => arm,
            };
            (label, pts)
        })
        .collect()
}

/// The last part of a dotted path (the field name).
fn short(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

struct Plot {
    title: String,
    subtitle: String,
    x_desc: String,
    y_desc: String,
    lines: Vec<Series>,
}

/// Renders `sweep.png` and `sweep.svg` into `dir` (created if needed).
/// Single-threaded.
pub fn sweep_plots(
    sweep: &Sweep,
    results: &[CohortResult],
    caption: &str,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let mut written = Vec::new();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("sweep.{ext}"));
        let (w, h) = SWEEP_PLOT_SIZE;
        render_sweep_plot(sweep, results, caption, &path, w, h)?;
        written.push(path);
    }
    Ok(written)
}

/// Renders the sweep plot to `path` (PNG or SVG by extension).
pub fn render_sweep_plot(
    sweep: &Sweep,
    results: &[CohortResult],
    caption: &str,
    path: &Path,
    width: u32,
    height: u32,
) -> Result<()> {
    let x = &sweep.parameters[0].path;
    let patients = results.first().map_or(0, |r| r.patients);
    let plot = Plot {
        title: format!("{} by {}", sweep.metric, short(x)),
        subtitle: format!(
            "{caption} · {} grid points, {patients} patients each, the same patients at every point · 95% intervals",
            sweep.points.len()
        ),
        x_desc: x.clone(),
        y_desc: sweep.metric.clone(),
        lines: series(sweep, results),
    };
    super::render(&plot, path, width, height)
}

impl Figure for Plot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = root.dim_in_pixel();
        let px = super::Style::Paper.base_px(w, h);
        let top = draw_title(root, &self.title, &self.subtitle, px * 1.4)?;
        let body = root.split_vertically(top).1;
        let entries: Vec<(Swatch, String)> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, (label, _))| (Swatch::Line(pal::series(i), 3), label.clone()))
            .collect();
        let lh = legend_height(&body, &entries, px)? + (px * 0.8) as u32;
        let (_, bh) = body.dim_in_pixel();
        let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
        draw_legend(&lower.margin((px * 0.4) as u32, 0, 0, 0), &entries, px)?;
        self.chart(&upper, px)
    }
}

impl Plot {
    fn chart<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, px: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let pts = self.lines.iter().flat_map(|(_, p)| p.iter());
        let finite = |v: f64| v.is_finite().then_some(v);
        let xs: Vec<f64> = pts.clone().map(|p| p.0).collect();
        let ys: Vec<f64> = pts
            .flat_map(|p| [p.1, p.2, p.3])
            .filter_map(finite)
            .collect();
        let (x0, x1) = span(&xs);
        let (y0, y1) = span(&ys);
        let pad_x = ((x1 - x0) * 0.05).max(1e-9);
        let pad_y = ((y1 - y0) * 0.08).max(y1.abs() * 0.05).max(1e-9);
        let y_lo = if y0 >= 0.0 {
            (y0 - pad_y).max(0.0)
        } else {
            y0 - pad_y
        };
        let mut chart = ChartBuilder::on(area)
            .margin((px * 1.0) as u32)
            .x_label_area_size((px * 3.0) as u32)
            .y_label_area_size((px * 5.0) as u32)
            .build_cartesian_2d((x0 - pad_x)..(x1 + pad_x), y_lo..(y1 + pad_y))?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(pal::GRID.stroke_width(1))
            .label_style(text(px * 0.9))
            .axis_desc_style(text(px))
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .draw()?;
        let r = (px * 0.35) as i32;
        for (i, (_, p)) in self.lines.iter().enumerate() {
            let colour = pal::series(i);
            let shown: Vec<_> = p.iter().filter(|q| q.1.is_finite()).collect();
            chart.draw_series(LineSeries::new(
                shown.iter().map(|q| (q.0, q.1)),
                colour.stroke_width(3),
            ))?;
            chart.draw_series(
                shown
                    .iter()
                    .map(|q| Circle::new((q.0, q.1), r, colour.filled())),
            )?;
            for q in shown.iter().filter(|q| q.2.is_finite() && q.3.is_finite()) {
                chart.draw_series(LineSeries::new(
                    [(q.0, q.2), (q.0, q.3)],
                    colour.stroke_width(2),
                ))?;
            }
        }
        Ok(())
    }
}

/// Smallest and largest value (0..1 without values).
fn span(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}
