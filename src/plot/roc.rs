//! The ROC plot of `crmo-sim criteria`: sensitivity against 1 − specificity
//! for every cut-off of each score (a line with its AUC), each yes/no rule
//! as a point, and the Jansson cut-off of 39 marked. Drawn from the merged
//! [`CriteriaResult`] only.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::model::criteria::JANSSON_THRESHOLD;
use crate::validation::{CriteriaResult, Criterion};

use super::palette as pal;
use super::{draw_legend, draw_title, legend_height, text, DrawResult, Figure, Style, Swatch};

/// One curve: its label, colour, whether it is a score (a line) and its
/// points `(threshold, 1 - specificity, sensitivity)`.
struct Curve {
    label: String,
    colour: RGBColor,
    score: bool,
    points: Vec<(u32, f64, f64)>,
}

struct RocPlot {
    title: String,
    subtitle: String,
    curves: Vec<Curve>,
    style: Style,
}

/// Renders `roc.png` and `roc.svg` into `dir` (created if needed).
pub fn roc_plots(
    res: &CriteriaResult,
    caption: &str,
    dir: &Path,
    style: Style,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let plot = roc_plot(res, caption, style);
    let (w, h) = style.size();
    let mut written = Vec::new();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("roc.{ext}"));
        super::render(&plot, &path, w, h)?;
        written.push(path);
    }
    Ok(written)
}

fn roc_plot(res: &CriteriaResult, caption: &str, style: Style) -> RocPlot {
    let aucs = res.aucs();
    let roc = res.roc();
    let curves = res
        .criteria
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let points: Vec<(u32, f64, f64)> = roc
                .iter()
                .filter(|p| p.criterion == c)
                .filter(|p| c.is_score() || p.threshold == 1)
                .map(|p| (p.threshold, 1.0 - p.specificity, p.sensitivity))
                .collect();
            let label = match aucs.iter().find(|(a, _)| *a == c) {
                Some((_, a)) => format!(
                    "{} [{}]: AUC {:.3} ({:.3}-{:.3})",
                    name(c),
                    c.source(),
                    a.auc,
                    a.lower,
                    a.upper
                ),
                None => format!("{} [{}]", name(c), c.source()),
            };
            Curve {
                label,
                colour: pal::series(i),
                score: c.is_score(),
                points,
            }
        })
        .collect();
    RocPlot {
        title: "Diagnostic criteria: CRMO against its mimics".into(),
        subtitle: format!(
            "{caption} · {} CRMO patients at diagnosis, {} mimics (prevalence {:.3}) · each point a cut-off",
            res.tally.crmo().count,
            res.tally.controls().count,
            res.case_mix_prevalence
        ),
        curves,
        style,
    }
}

fn name(c: Criterion) -> &'static str {
    match c {
        Criterion::Jansson => "Jansson score",
        Criterion::Bristol1 => "Bristol criterion 1",
    }
}

impl Figure for RocPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = root.dim_in_pixel();
        let px = self.style.cap_px(w, h);
        let top = draw_title(root, &self.title, &self.subtitle, px * 1.4)?;
        let body = root.split_vertically(top).1;
        let mut entries: Vec<(Swatch, String)> = self
            .curves
            .iter()
            .map(|c| {
                let swatch = if c.score {
                    Swatch::Line(c.colour, 3)
                } else {
                    Swatch::Diamond(c.colour)
                };
                (swatch, c.label.clone())
            })
            .collect();
        if self.curves.iter().any(|c| c.score) {
            entries.push((
                Swatch::Ring(pal::BLACK),
                format!("Jansson cut-off {JANSSON_THRESHOLD}"),
            ));
        }
        entries.push((Swatch::Dashed(pal::GREY, 2), "chance".into()));
        let lh = legend_height(&body, &entries, px)? + (px * 0.8) as u32;
        let (_, bh) = body.dim_in_pixel();
        let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
        draw_legend(&lower.margin((px * 0.4) as u32, 0, 0, 0), &entries, px)?;
        self.chart(&upper, px)
    }
}

impl RocPlot {
    fn chart<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, px: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        // A square plot, centred.
        let (w, h) = area.dim_in_pixel();
        let side = h + (px * 6.0) as u32;
        let pad = w.saturating_sub(side) / 2;
        let area = area.margin(0, 0, pad, pad);
        let mut chart = ChartBuilder::on(&area)
            .margin((px * 1.0) as u32)
            .x_label_area_size((px * 3.0) as u32)
            .y_label_area_size((px * 4.0) as u32)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(pal::GRID.stroke_width(1))
            .label_style(text(px * 0.9))
            .axis_desc_style(text(px))
            .x_desc("1 - specificity (mimics called CRMO)")
            .y_desc("sensitivity (CRMO recognised)")
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .draw()?;
        chart.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            (px * 0.6) as u32,
            (px * 0.4) as u32,
            pal::GREY.stroke_width(self.style.line(2)),
        ))?;
        let r = (px * 0.3) as i32;
        for c in &self.curves {
            if c.score {
                chart.draw_series(LineSeries::new(
                    c.points.iter().map(|p| (p.1, p.2)),
                    c.colour.stroke_width(self.style.line(3)),
                ))?;
                chart.draw_series(
                    c.points
                        .iter()
                        .map(|p| Circle::new((p.1, p.2), r, c.colour.filled())),
                )?;
                for p in c.points.iter().filter(|p| p.0 == JANSSON_THRESHOLD) {
                    chart.draw_series([Circle::new(
                        (p.1, p.2),
                        r * 3,
                        pal::BLACK.stroke_width(self.style.line(2)),
                    )])?;
                    chart.draw_series([Text::new(
                        format!("≥ {JANSSON_THRESHOLD}"),
                        (p.1 + 0.03, p.2 - 0.04),
                        text(px),
                    )])?;
                }
            } else {
                let style = c.colour.filled();
                chart.draw_series(
                    c.points
                        .iter()
                        .map(|p| EmptyElement::at((p.1, p.2)) + super::diamond(r * 3, style)),
                )?;
            }
        }
        Ok(())
    }
}
