//! The economics plots, drawn from the economic results only: the
//! cost-effectiveness plane (each replicate's incremental costs against
//! incremental QALYs, with the threshold line), the acceptability curves
//! with the acceptability frontier, the EVPI curve and the tornado diagram.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::economics::cea::{cea_rows, Status};
use crate::economics::owsa::OwsaRow;
use crate::economics::psa::{ceac_rows, evpi_rows};
use crate::economics::EconomicInputs;
use crate::error::{Error, Result};

use super::palette as pal;
use super::{draw_legend, draw_title, legend_height, text, DrawResult, Figure, Swatch};

/// Size of the economics plots, pixels.
pub const ECONOMICS_PLOT_SIZE: (u32, u32) = (1400, 900);

/// A labelled series: its label, colour index and points.
pub(crate) type LabelledPoints = (String, usize, Vec<(f64, f64)>);

/// A chart of lines and point clouds on two numeric axes.
#[derive(Debug, Clone, Default)]
pub(crate) struct XyChart {
    pub(crate) title: String,
    pub(crate) subtitle: String,
    pub(crate) x_desc: String,
    pub(crate) y_desc: String,
    /// Labelled lines (drawn with their colour index).
    pub(crate) lines: Vec<LabelledPoints>,
    /// Labelled point clouds.
    pub(crate) clouds: Vec<LabelledPoints>,
    /// Points marked with a black ring (the acceptability frontier).
    pub(crate) marks: Vec<(f64, f64)>,
    /// Label of the marks in the legend.
    pub(crate) marks_label: String,
    /// A dashed line through the origin with this slope (the threshold).
    pub(crate) slope: Option<(String, f64)>,
    /// Fixed y range (else from the data).
    pub(crate) y_range: Option<(f64, f64)>,
}

fn span(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    if lo.is_finite() && hi > lo {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 1.0, hi + 1.0)
    } else {
        (0.0, 1.0)
    }
}

/// A tick label with thousands kept short.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Figure for XyChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = root.dim_in_pixel();
        let px = super::Style::Paper.base_px(w, h);
        let top = draw_title(root, &self.title, &self.subtitle, px * 1.4)?;
        let body = root.split_vertically(top).1;
        let mut entries: Vec<(Swatch, String)> = Vec::new();
        for (label, c, _) in self.lines.iter().chain(&self.clouds) {
            entries.push((Swatch::Line(pal::series(*c), LINE_WIDTH), label.clone()));
        }
        if !self.marks.is_empty() {
            entries.push((Swatch::Line(BLACK, 2), self.marks_label.clone()));
        }
        if let Some((label, _)) = &self.slope {
            entries.push((Swatch::Dashed(RGBColor(0x55, 0x55, 0x55), 2), label.clone()));
        }
        let lh = legend_height(&body, &entries, px)? + (px * 0.8) as u32;
        let (_, bh) = body.dim_in_pixel();
        let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
        draw_legend(&lower.margin((px * 0.4) as u32, 0, 0, 0), &entries, px)?;
        self.chart(&upper, px)
    }
}

impl XyChart {
    fn chart<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, px: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let points = || {
            self.lines
                .iter()
                .chain(&self.clouds)
                .flat_map(|(_, _, p)| p.iter().copied())
        };
        let (x0, x1) = span(points().map(|p| p.0));
        let pad = (x1 - x0) * 0.05;
        let (xa, xb) = (x0 - pad, x1 + pad);
        // A fixed range is the whole plot (a probability of 0 on the axis
        // line); a range from the data has room around it.
        let (ya, yb) = self.y_range.unwrap_or_else(|| {
            let (y0, y1) = span(points().map(|p| p.1));
            let pad = (y1 - y0) * 0.06;
            (y0 - pad, y1 + pad)
        });
        let mut chart = ChartBuilder::on(area)
            .margin((px * 1.0) as u32)
            .x_label_area_size((px * 3.0) as u32)
            .y_label_area_size((px * 5.5) as u32)
            .build_cartesian_2d(xa..xb, ya..yb)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(pal::GRID.stroke_width(1))
            .label_style(text(px * 0.9))
            .axis_desc_style(text(px))
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        if let Some((_, k)) = self.slope {
            // The part of y = k x inside the plot.
            let seg: Vec<(f64, f64)> = (0..=200)
                .map(|i| xa + (xb - xa) * f64::from(i) / 200.0)
                .map(|x| (x, k * x))
                .filter(|(_, y)| *y >= ya && *y <= yb)
                .collect();
            let grey = RGBColor(0x55, 0x55, 0x55);
            for pair in seg.chunks(2) {
                chart.draw_series(LineSeries::new(pair.to_vec(), grey.stroke_width(2)))?;
            }
        }
        let r = (px * 0.22).max(2.0) as i32;
        for (_, c, pts) in &self.clouds {
            let colour = pal::series(*c).mix(0.55);
            chart.draw_series(pts.iter().map(|p| Circle::new(*p, r, colour.filled())))?;
        }
        // With a fixed range, the lines (and the rings on them) are held
        // inside it: a line's stroke, not only its middle, stays between
        // the pixel rows of its bounds.
        let (top, bottom) = (
            chart.backend_coord(&(xa, yb)).1,
            chart.backend_coord(&(xa, ya)).1,
        );
        let base = area.get_base_pixel();
        let at = |p: &(f64, f64), width: u32| -> (i32, i32) {
            let (x, y) = chart.backend_coord(p);
            let y = match self.y_range {
                Some(_) => within_rows(y, (top, bottom), width),
                None => y,
            };
            (x - base.0, y - base.1)
        };
        for (_, c, pts) in &self.lines {
            area.draw(&PathElement::new(
                pts.iter().map(|p| at(p, LINE_WIDTH)).collect::<Vec<_>>(),
                pal::series(*c).stroke_width(LINE_WIDTH),
            ))?;
        }
        let ring = (px * 0.45) as i32;
        for p in &self.marks {
            area.draw(&Circle::new(at(p, LINE_WIDTH), ring, BLACK.stroke_width(2)))?;
        }
        Ok(())
    }
}

/// Stroke width of a chart's lines, pixels.
const LINE_WIDTH: u32 = 3;

/// Pixel row `y` of the middle of a line `width` pixels wide, moved inside
/// the rows `top..=bottom` far enough that the whole stroke stays within
/// them: a value at a bound is drawn along it, not across it.
fn within_rows(y: i32, (top, bottom): (i32, i32), width: u32) -> i32 {
    let half = width.div_ceil(2) as i32;
    y.clamp(top + half, (bottom - half).max(top + half))
}

/// Renders `chart` as `name.png` and `name.svg` into `dir`.
pub(crate) fn render_both(chart: &XyChart, dir: &Path, name: &str) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let (w, h) = ECONOMICS_PLOT_SIZE;
    let mut out = Vec::new();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("{name}.{ext}"));
        super::render(chart, &path, w, h)?;
        out.push(path);
    }
    Ok(out)
}

/// The threshold the CE plane draws: the middle of the grid.
pub fn plane_threshold(wtp: &[f64]) -> f64 {
    wtp.get(wtp.len() / 2).copied().unwrap_or(0.0)
}

/// The CE plane, CEAC and EVPI plots (PNG and SVG) of a PSA into `dir`.
pub fn economics_plots(inputs: &EconomicInputs, caption: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = render_both(&ce_plane(inputs, caption), dir, "ce_plane")?;
    out.extend(render_both(&ceac_chart(inputs, caption), dir, "ceac")?);
    out.extend(render_both(&evpi_chart(inputs, caption), dir, "evpi")?);
    Ok(out)
}

/// Each replicate's incremental costs against incremental QALYs of every
/// arm against the reference strategy of the incremental analysis.
fn ce_plane(inputs: &EconomicInputs, caption: &str) -> XyChart {
    let rows = cea_rows(inputs);
    let reference = rows
        .iter()
        .find(|r| r.status == Status::Reference)
        .map_or(0, |r| {
            inputs.arms.iter().position(|a| *a == r.arm).unwrap_or(0)
        });
    let wtp = plane_threshold(&inputs.wtp);
    let clouds = (0..inputs.arms.len())
        .filter(|&a| a != reference)
        .map(|a| {
            let pts = (0..inputs.replicates())
                .map(|r| {
                    (
                        inputs.qalys[a][r] - inputs.qalys[reference][r],
                        inputs.costs[a][r] - inputs.costs[reference][r],
                    )
                })
                .collect();
            (inputs.arms[a].clone(), a, pts)
        })
        .collect();
    XyChart {
        title: format!(
            "Cost-effectiveness plane against {}",
            inputs.arms[reference]
        ),
        subtitle: format!(
            "{caption} · one point per replicate (parameter draw), the same patients in every arm"
        ),
        x_desc: "incremental QALYs per patient".into(),
        y_desc: "incremental costs per patient".into(),
        clouds,
        slope: Some((format!("threshold {} per QALY", tick(wtp)), wtp)),
        ..XyChart::default()
    }
}

/// The acceptability curves, the frontier ringed.
fn ceac_chart(inputs: &EconomicInputs, caption: &str) -> XyChart {
    let rows = ceac_rows(inputs);
    let lines = inputs
        .arms
        .iter()
        .enumerate()
        .map(|(a, arm)| {
            let pts = rows
                .iter()
                .filter(|r| r.arm == *arm)
                .map(|r| (r.wtp, r.probability_cost_effective))
                .collect();
            (arm.clone(), a, pts)
        })
        .collect();
    XyChart {
        title: "Cost-effectiveness acceptability curves".into(),
        subtitle: format!(
            "{caption} · {} replicates · ringed: the acceptability frontier (highest expected net benefit)",
            inputs.replicates()
        ),
        x_desc: "willingness to pay per QALY".into(),
        y_desc: "probability cost-effective".into(),
        lines,
        marks: rows
            .iter()
            .filter(|r| r.on_frontier)
            .map(|r| (r.wtp, r.probability_cost_effective))
            .collect(),
        marks_label: "frontier".into(),
        y_range: Some((0.0, 1.0)),
        ..XyChart::default()
    }
}

/// EVPI per patient against the threshold.
fn evpi_chart(inputs: &EconomicInputs, caption: &str) -> XyChart {
    let pts = evpi_rows(inputs)
        .into_iter()
        .map(|r| (r.wtp, r.evpi_per_patient))
        .collect();
    XyChart {
        title: "Expected value of perfect information".into(),
        subtitle: format!(
            "{caption} · per patient, {} replicates",
            inputs.replicates()
        ),
        x_desc: "willingness to pay per QALY".into(),
        y_desc: "EVPI per patient".into(),
        lines: vec![("EVPI".into(), 0, pts)],
        ..XyChart::default()
    }
}

/// A tornado diagram of one outcome: per parameter, a bar from the outcome
/// at its low value to the outcome at its high value, widest on top.
#[derive(Debug, Clone)]
pub(crate) struct Tornado {
    title: String,
    subtitle: String,
    outcome: String,
    base: f64,
    /// `(parameter, outcome at low, outcome at high)`, widest first.
    bars: Vec<(String, f64, f64)>,
}

impl Tornado {
    /// The tornado of `outcome` from the rows of `owsa.csv`.
    pub(crate) fn of(rows: &[OwsaRow], outcome: &str, caption: &str) -> Option<Self> {
        let mine: Vec<&OwsaRow> = rows.iter().filter(|r| r.outcome == outcome).collect();
        let base = mine.first()?.base;
        let mut bars: Vec<(String, f64, f64)> = mine
            .iter()
            .map(|r| (r.parameter.clone(), r.low, r.high))
            .collect();
        bars.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()));
        Some(Tornado {
            title: format!("One-way sensitivity: {outcome}"),
            subtitle: format!(
                "{caption} · each parameter at the 2.5th and 97.5th percentiles of its distribution, the others at their means, the same patients · base {}",
                tick(base)
            ),
            outcome: outcome.to_string(),
            base,
            bars,
        })
    }
}

impl Figure for Tornado {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = root.dim_in_pixel();
        let px = super::Style::Paper.base_px(w, h);
        let top = draw_title(root, &self.title, &self.subtitle, px * 1.4)?;
        let body = root.split_vertically(top).1;
        let entries = vec![
            (
                Swatch::Box(pal::series(0), 1.0),
                "parameter at its low value".to_string(),
            ),
            (
                Swatch::Box(pal::series(1), 1.0),
                "parameter at its high value".to_string(),
            ),
        ];
        let lh = legend_height(&body, &entries, px)? + (px * 0.8) as u32;
        let (_, bh) = body.dim_in_pixel();
        let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
        draw_legend(&lower.margin((px * 0.4) as u32, 0, 0, 0), &entries, px)?;
        let n = self.bars.len();
        let (x0, x1) = span(self.bars.iter().flat_map(|b| [b.1, b.2]).chain([self.base]));
        let pad = (x1 - x0) * 0.05;
        let longest = self.bars.iter().map(|b| b.0.len()).max().unwrap_or(10);
        let mut chart = ChartBuilder::on(&upper)
            .margin((px * 1.0) as u32)
            .x_label_area_size((px * 3.0) as u32)
            .y_label_area_size((px * 0.55 * longest as f64).max(px * 6.0) as u32)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), -0.5..(n as f64 - 0.5))?;
        // Bar k (from the bottom) is centred on y = k.
        let names: Vec<String> = self.bars.iter().rev().map(|b| b.0.clone()).collect();
        let label = |y: f64| {
            let k = y.round();
            if (y - k).abs() < 1e-6 && k >= 0.0 {
                names.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .max_light_lines(0)
            .disable_y_mesh()
            .bold_line_style(pal::GRID.stroke_width(1))
            .label_style(text(px * 0.85))
            .axis_desc_style(text(px))
            .x_desc(self.outcome.as_str())
            .x_label_formatter(&|v| tick(*v))
            .y_labels(n.max(1) + 1)
            .y_label_formatter(&|v| label(*v))
            .draw()?;
        for (k, (_, low, high)) in self.bars.iter().rev().enumerate() {
            let y = k as f64;
            for (value, colour) in [(*low, pal::series(0)), (*high, pal::series(1))] {
                let (a, b) = if value < self.base {
                    (value, self.base)
                } else {
                    (self.base, value)
                };
                chart.draw_series([Rectangle::new(
                    [(a, y - 0.35), (b, y + 0.35)],
                    colour.mix(0.85).filled(),
                )])?;
            }
        }
        chart.draw_series(LineSeries::new(
            [(self.base, -0.5), (self.base, n as f64 - 0.5)],
            BLACK.stroke_width(2),
        ))?;
        Ok(())
    }
}

/// Draws one tornado diagram per outcome of `rows` into `dir` as
/// `tornado_<outcome>.png` and `.svg`.
pub fn tornado_plots(rows: &[OwsaRow], caption: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let mut outcomes: Vec<&str> = Vec::new();
    for r in rows {
        if !outcomes.contains(&r.outcome.as_str()) {
            outcomes.push(&r.outcome);
        }
    }
    let (w, h) = ECONOMICS_PLOT_SIZE;
    let mut out = Vec::new();
    for o in outcomes {
        let Some(t) = Tornado::of(rows, o, caption) else {
            continue;
        };
        for ext in ["png", "svg"] {
            let path = dir.join(format!("tornado_{o}.{ext}"));
            super::render(&t, &path, w, h)?;
            out.push(path);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pixels of an image, row by row.
    fn rendered(chart: &XyChart) -> (usize, Vec<u8>) {
        super::super::init_fonts();
        let (w, h) = ECONOMICS_PLOT_SIZE;
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            super::super::draw_root(chart, &root).unwrap();
        }
        (w as usize, buf)
    }

    #[test]
    fn acceptability_curves_stay_inside_0_to_1_and_lie_on_the_axis_at_0() {
        // Curves at 0, creeping up and falling back with sharp corners, and
        // at 1; nothing else in the chart is coloured (grid and axes are
        // grey and black).
        let wtp: Vec<f64> = (0..=50).map(|i| f64::from(i) * 2000.0).collect();
        let curve = |f: &dyn Fn(f64) -> f64| wtp.iter().map(|&x| (x, f(x))).collect();
        let chart = XyChart {
            lines: vec![
                (
                    "low".into(),
                    0,
                    curve(&|x| {
                        if (60e3..64e3).contains(&x) {
                            0.005
                        } else {
                            0.0
                        }
                    }),
                ),
                (
                    "high".into(),
                    1,
                    curve(&|x| if x < 8e3 { 0.0 } else { 1.0 }),
                ),
                (
                    "steep".into(),
                    3,
                    curve(&|x| if x < 30e3 { 1.0 - x / 30e3 } else { 0.0 }),
                ),
            ],
            marks: wtp.iter().map(|&x| (x, 1.0)).collect(),
            y_range: Some((0.0, 1.0)),
            ..XyChart::default()
        };
        let (w, px) = rendered(&chart);

        let rgb = |x: usize, y: usize| {
            let i = (y * w + x) * 3;
            (px[i], px[i + 1], px[i + 2])
        };
        let h = px.len() / 3 / w;
        // The x axis: the row with the most black pixels; the top of the
        // plot (probability 1): the top of the y axis, the column with the
        // most black pixels.
        let black = |x: usize, y: usize| rgb(x, y) == (0, 0, 0);
        let axis = (0..h)
            .max_by_key(|&y| (0..w).filter(|&x| black(x, y)).count())
            .unwrap();
        let y_axis = (0..w)
            .max_by_key(|&x| (0..h).filter(|&y| black(x, y)).count())
            .unwrap();
        let top = (0..h).find(|&y| black(y_axis, y)).unwrap();
        let coloured = |(r, g, b): (u8, u8, u8)| r.max(g).max(b) - r.min(g).min(b) > 24;
        let mut lowest = 0;
        // From the title down to the tick labels (the legend's swatches
        // are further down).
        for y in 0..axis + 20 {
            for x in 0..w {
                if coloured(rgb(x, y)) {
                    assert!(
                        y <= axis,
                        "a curve at row {y}, below the axis at row {axis}"
                    );
                    assert!(y >= top, "a curve at row {y}, above the row of 1 ({top})");
                    lowest = lowest.max(y);
                }
            }
        }
        assert!(
            lowest + 3 >= axis,
            "a probability of 0 drawn at row {lowest}, the axis at {axis}"
        );
    }
}
