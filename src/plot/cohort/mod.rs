//! Cohort plots, drawn from the run's accumulators only (so they cost the same
//! for 10^3 or 10^8 patients): state occupancy over time (stacked per arm,
//! and each state with the arms overlaid), Kaplan–Meier time to first
//! remission after diagnosis, flares per patient, drug exposure over time and
//! mean pain with its 95% band ([`curves`]). Each is written as PNG and SVG,
//! in the paper or slide style.
//!
//! Every number drawn is an estimate of [`crate::results`] (time series,
//! Kaplan–Meier curves, flare shares), the same that the CSV files hold.

pub mod curves;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::engine::accum::Occupancy;
use crate::engine::cohort::FLARE_BINS;
use crate::engine::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use crate::engine::patient::N_STATES;
use crate::error::{Error, Result};
use crate::results::km::km_median;
use crate::results::CohortResult;

use super::palette as pal;
use super::{
    anchored, draw_legend, draw_title, fmt_tick, legend_height, text, DrawResult, Figure, Style,
    Swatch,
};

/// Index in [`crate::engine::accum::ENDPOINTS`] of the Kaplan–Meier endpoint
/// drawn: `first_remission_from_diagnosis`.
pub const KM_ENDPOINT: usize = 2;

/// `12345678` as `12,345,678`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Writes the cohort plots into `dir` (created if needed), each as PNG and
/// SVG, and returns the paths written: `occupancy`, `km_remission`,
/// `flares`, `drug_exposure` and `mean_pain`. `drugs` names the drug rows
/// of the occupancy accumulators; `caption` (e.g. the scenario name) is
/// shown on every plot with the cohort size.
///
/// Single-threaded; reads only the accumulators, so its cost does not grow
/// with the cohort.
pub fn cohort_plots(
    res: &CohortResult,
    drugs: &[String],
    caption: &str,
    dir: &Path,
    style: Style,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let mut written = Vec::new();
    for kind in Kind::ALL {
        for ext in ["png", "svg"] {
            let path = dir.join(format!("{}.{ext}", kind.file_stem()));
            render_cohort_plot(res, drugs, caption, kind, &path, style.size(), style)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Renders one cohort plot to `path` (PNG or SVG by extension), `width` x
/// `height` pixels, in `style`; `caption` as in [`cohort_plots`].
pub fn render_cohort_plot(
    res: &CohortResult,
    drugs: &[String],
    caption: &str,
    kind: Kind,
    path: &Path,
    (width, height): (u32, u32),
    style: Style,
) -> Result<()> {
    render_cohort_plot_with(
        res,
        drugs,
        caption,
        kind,
        path,
        (width, height),
        style,
        true,
    )
}

/// As [`render_cohort_plot`], a PNG drawn without its text when `with_text`
/// is false (the layout is the same): comparing the two finds the text on
/// the image, which is how the slide style's text size is measured.
#[allow(clippy::too_many_arguments)]
pub fn render_cohort_plot_with(
    res: &CohortResult,
    drugs: &[String],
    caption: &str,
    kind: Kind,
    path: &Path,
    (width, height): (u32, u32),
    style: Style,
    with_text: bool,
) -> Result<()> {
    let total = res.total_patients();
    let subtitle = if res.replicates.len() > 1 {
        format!(
            "{caption} · {} patients ({} × {} replicates)",
            thousands(total),
            thousands(res.patients),
            res.replicates.len()
        )
    } else {
        format!("{caption} · {} patients", thousands(total))
    };
    let p = Plot {
        res,
        drugs,
        subtitle,
        kind,
        style,
        at_risk: true,
    };
    super::render_with(&p, path, width, height, with_text)
}

/// Renders the Kaplan–Meier plot (as [`render_cohort_plot`] with
/// [`Kind::Km`]), with or without its numbers at risk.
pub fn render_km_plot(
    res: &CohortResult,
    caption: &str,
    path: &Path,
    (width, height): (u32, u32),
    style: Style,
    at_risk: bool,
) -> Result<()> {
    let p = Plot {
        res,
        drugs: &[],
        subtitle: format!("{caption} · {} patients", thousands(res.total_patients())),
        kind: Kind::Km,
        style,
        at_risk,
    };
    super::render(&p, path, width, height)
}

/// The cohort plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// State occupancy over time, one panel per arm.
    Occupancy,
    /// Each state over time in its own panel, arms overlaid.
    StatesByArm,
    /// Kaplan–Meier time to first remission after diagnosis, arms overlaid.
    Km,
    /// Flares per patient, arms side by side.
    Flares,
    /// Share of patients on each drug over time, one panel per arm.
    Drugs,
    /// Mean pain over time with 95% bands, arms overlaid.
    Pain,
}

impl Kind {
    /// Every cohort plot, in the order [`cohort_plots`] writes them.
    pub const ALL: [Kind; 6] = [
        Kind::Occupancy,
        Kind::StatesByArm,
        Kind::Km,
        Kind::Flares,
        Kind::Drugs,
        Kind::Pain,
    ];

    /// File name without extension: `occupancy`, `states_by_arm`,
    /// `km_remission`, `flares`, `drug_exposure` or `mean_pain`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Kind::Occupancy => "occupancy",
            Kind::StatesByArm => "states_by_arm",
            Kind::Km => "km_remission",
            Kind::Flares => "flares",
            Kind::Drugs => "drug_exposure",
            Kind::Pain => "mean_pain",
        }
    }
}

pub(crate) struct Plot<'a> {
    res: &'a CohortResult,
    drugs: &'a [String],
    subtitle: String,
    kind: Kind,
    style: Style,
    /// Draw the numbers at risk on the Kaplan–Meier plot.
    at_risk: bool,
}

/// Most legend rows a slide gives a cohort plot; arms that do not fit
/// are named beside the plot instead.
pub(crate) const SLIDE_LEGEND_ROWS: usize = 2;

impl Figure for Plot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = root.dim_in_pixel();
        let px = self.style.cap_px(w, h);
        let title = self.title();
        let top = draw_title(root, title, &self.subtitle, px * self.factor(1.4, 1.25))?;
        let body = root.split_vertically(top).1;
        let mut entries = self.legend(true);
        // On slides the Kaplan–Meier arms go beside the plot (with their
        // medians) when naming them below would take more than two rows.
        let mut arms_beside = false;
        if self.kind == Kind::Km
            && self.style == Style::Slide
            && super::legend_rows(&body, &entries, px)? > SLIDE_LEGEND_ROWS
        {
            entries = self.legend(false);
            arms_beside = true;
        }
        let body = if entries.is_empty() {
            body
        } else {
            let lh = legend_height(&body, &entries, px)? + self.gap(px, 0.8, 0.4);
            let (_, bh) = body.dim_in_pixel();
            let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
            draw_legend(&lower.margin(self.gap(px, 0.4, 0.2), 0, 0, 0), &entries, px)?;
            upper
        };
        match self.kind {
            Kind::Occupancy => self.occupancy(&body, px),
            Kind::StatesByArm => self.states_by_arm(&body, px),
            Kind::Km => self.km(&body, px, arms_beside),
            Kind::Flares => self.flares(&body, px),
            Kind::Drugs => self.drug_exposure(&body, px),
            Kind::Pain => self.pain(&body, px),
        }
    }
}

/// Splits `area` into one panel per arm (a near-square grid).
pub(crate) fn arm_panels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    n: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    let n = n.max(1);
    let cols = panel_cols(n);
    let rows = n.div_ceil(cols);
    let mut v = area.split_evenly((rows, cols));
    v.truncate(n);
    v
}

/// The legend swatch of arm `a`'s Kaplan–Meier curve: the first solid,
/// the others dashed.
pub(crate) fn km_swatch(a: usize, lw: u32) -> Swatch {
    if a == 0 {
        Swatch::Line(pal::series(a), lw)
    } else {
        Swatch::Dashed(pal::series(a), lw)
    }
}

/// Draws `title` rotated along the left edge of `area`, centred on its
/// height, and returns the area right of it: one axis name for a grid of
/// panels that share it, so names of neighbouring panels cannot run
/// together.
pub(crate) fn shared_y_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    px: f64,
) -> DrawResult<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let (_, h) = area.dim_in_pixel();
    let strip = (px * 1.6) as u32;
    let (left, rest) = area.split_horizontally(strip);
    let style = text(px)
        .transform(plotters::style::FontTransform::Rotate270)
        .pos(plotters::style::text_anchor::Pos::new(
            HPos::Center,
            VPos::Center,
        ));
    left.draw_text(title, &style, ((strip / 2) as i32, (h / 2) as i32))?;
    Ok(rest)
}

/// Columns of the panel grid for `n` panels (one row up to three).
fn panel_cols(n: usize) -> usize {
    let n = n.max(1);
    if n <= 3 {
        n
    } else {
        (n as f64).sqrt().ceil() as usize
    }
}

/// Length of the time axis, years: the last grid point, rounded up to a tenth.
pub(crate) fn years_axis(res: &CohortResult) -> f64 {
    let last = res.curves.first().map_or(1.0, |c| {
        let occ = &c.occupancy;
        (occ.points().saturating_sub(1) * occ.step_days as usize) as f64 / DAYS_PER_YEAR
    });
    ((last * 10.0).ceil() / 10.0).max(0.1)
}

/// A polygon between two curves (x ascending): `upper` then `lower` reversed.
pub(crate) fn band(xs: &[f64], lower: &[f64], upper: &[f64]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = xs.iter().copied().zip(upper.iter().copied()).collect();
    pts.extend(xs.iter().copied().zip(lower.iter().copied()).rev());
    pts
}

const STATE_NAMES: [&str; N_STATES] = [
    "active (flare)",
    "remission",
    "resolved",
    "lost to follow-up",
];
const STATE_COLOURS: [RGBColor; N_STATES] = [pal::ACTIVE, pal::REMISSION, pal::RESOLVED, pal::LOST];

impl Plot<'_> {
    /// The title: on slides short enough for one line of large text.
    fn title(&self) -> &'static str {
        let slide = self.style == Style::Slide;
        match self.kind {
            Kind::Occupancy => "Disease state over time",
            Kind::StatesByArm if slide => "Patients in each state, arms compared",
            Kind::StatesByArm => "Disease state over time, arms compared",
            Kind::Km if slide => "Time to first remission (Kaplan–Meier)",
            Kind::Km => "Time to first remission after diagnosis (Kaplan–Meier)",
            Kind::Flares => "Flares per patient",
            Kind::Drugs if slide => "Drug exposure (courses: effect window)",
            Kind::Drugs => "Drug exposure over time",
            Kind::Pain => "Mean pain over time",
        }
    }

    /// A margin or label area: `paper` x `px` on paper, `slide` x `px` on
    /// slides (tighter, so the plots keep their room beside large text).
    pub(crate) fn gap(&self, px: f64, paper: f64, slide: f64) -> u32 {
        (px * self.factor(paper, slide)) as u32
    }

    /// `paper` on paper, `slide` on slides.
    pub(crate) fn factor(&self, paper: f64, slide: f64) -> f64 {
        match self.style {
            Style::Paper => paper,
            Style::Slide => slide,
        }
    }

    /// An axis description: `slide` (shorter) on slides, else `paper`.
    pub(crate) fn desc(&self, paper: &'static str, slide: &'static str) -> &'static str {
        match self.style {
            Style::Paper => paper,
            Style::Slide => slide,
        }
    }

    /// How many tick labels plotters may put on the x and y axes of
    /// `chart` (fewer on slides, where labels are large).
    pub(crate) fn labels<DB: DrawingBackend>(
        &self,
        chart: &Chart2d<'_, DB>,
        px: f64,
    ) -> (usize, usize) {
        let (w, h) = chart.plotting_area().dim_in_pixel();
        (self.style.ticks(w, px, 4.0), self.style.ticks(h, px, 1.8))
    }

    /// The legend: only what the plot draws (on a slide's Kaplan–Meier
    /// plot, the arms only when `with_arms`; their medians then stand in
    /// the table beside the plot).
    fn legend(&self, with_arms: bool) -> Vec<(Swatch, String)> {
        let lw = self.style.line(3);
        let arms = || {
            self.res
                .arms
                .iter()
                .enumerate()
                .map(move |(a, name)| (Swatch::Line(pal::series(a), lw), name.clone()))
        };
        match self.kind {
            Kind::Occupancy => (0..N_STATES)
                .filter(|&s| self.state_seen(s))
                .map(|s| {
                    (
                        Swatch::Box(STATE_COLOURS[s], 0.85),
                        STATE_NAMES[s].to_string(),
                    )
                })
                .collect(),
            Kind::StatesByArm => arms().collect(),
            Kind::Km if self.style == Style::Slide => {
                let mut v: Vec<(Swatch, String)> = if with_arms {
                    self.res
                        .arms
                        .iter()
                        .enumerate()
                        .map(|(a, name)| (km_swatch(a, lw), name.clone()))
                        .collect()
                } else {
                    Vec::new()
                };
                v.push((Swatch::Box(pal::GREY, 0.35), "95% band".to_string()));
                v.push((Swatch::Tick(pal::BLACK), "censored".to_string()));
                v
            }
            Kind::Km => {
                let mut v: Vec<(Swatch, String)> = self
                    .res
                    .arms
                    .iter()
                    .enumerate()
                    .map(|(a, name)| {
                        let rows = self.res.km(a, KM_ENDPOINT);
                        // No curve at all (nobody diagnosed): "not reached"
                        // would say the curve stays high.
                        let median = if rows.is_empty() {
                            "nobody diagnosed".to_string()
                        } else {
                            km_median(rows).map_or("median not reached".to_string(), |d| {
                                format!("median {:.1} months", d / DAYS_PER_MONTH)
                            })
                        };
                        (km_swatch(a, lw), format!("{name} ({median})"))
                    })
                    .collect();
                v.push((
                    Swatch::Box(pal::GREY, 0.35),
                    "95% band (Greenwood)".to_string(),
                ));
                v
            }
            Kind::Flares => self
                .res
                .arms
                .iter()
                .enumerate()
                .map(|(a, name)| (Swatch::Box(pal::series(a), 0.85), name.clone()))
                .collect(),
            Kind::Drugs => self
                .drugs
                .iter()
                .enumerate()
                .filter(|&(d, _)| self.drug_given(d))
                .map(|(_, name)| {
                    // Slides name drugs in words, as the course charts do.
                    let label = match self.style {
                        Style::Paper => name.clone(),
                        Style::Slide => name.replace('_', " "),
                    };
                    (Swatch::Line(pal::drug(name), lw), label)
                })
                .collect(),
            Kind::Pain => {
                let mut v: Vec<(Swatch, String)> = arms().collect();
                v.push((
                    Swatch::Box(pal::GREY, 0.35),
                    "95% confidence band".to_string(),
                ));
                v
            }
        }
    }

    /// Whether any arm has anybody in state `s` at any time.
    fn state_seen(&self, s: usize) -> bool {
        self.res.curves.iter().any(|c| {
            Occupancy::values(&c.occupancy.states[s])
                .iter()
                .any(|&v| v > 0)
        })
    }

    /// Whether any arm gives drug `d` to anybody.
    fn drug_given(&self, d: usize) -> bool {
        self.res.curves.iter().any(|c| {
            c.occupancy
                .drugs
                .get(d)
                .is_some_and(|row| Occupancy::values(row).iter().any(|&v| v > 0))
        })
    }

    fn occupancy<DB: DrawingBackend>(&self, body: &DrawingArea<DB, Shift>, px: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let years = years_axis(self.res);
        let body = shared_y_title(body, "share of patients", px)?;
        for (a, panel) in arm_panels(&body, self.res.arms.len()).iter().enumerate() {
            let points = self.res.since_onset(a);
            let shares: Vec<[f64; N_STATES]> = points.iter().map(|p| p.shares).collect();
            let xs: Vec<f64> = points
                .iter()
                .map(|p| p.day as f64 / DAYS_PER_YEAR)
                .collect();
            let mut chart = ChartBuilder::on(panel)
                .caption(&self.res.arms[a], super::bold(px * 1.05))
                .margin(self.gap(px, 0.8, 0.7))
                .margin_right(self.gap(px, 1.0, 1.0))
                .x_label_area_size(self.x_area(px, self.names_time(a)))
                .y_label_area_size((px * 3.2) as u32)
                .build_cartesian_2d(0.0..years, 0.0..1.0)?;
            let mut lower = vec![0.0; xs.len()];
            for s in 0..N_STATES {
                let upper: Vec<f64> = lower.iter().zip(&shares).map(|(l, sh)| l + sh[s]).collect();
                chart.draw_series(std::iter::once(Polygon::new(
                    band(&xs, &lower, &upper),
                    STATE_COLOURS[s].mix(0.85).filled(),
                )))?;
                lower = upper;
            }
            // The mesh after the areas: white grid lines over them help reading off values.
            let (nx, ny) = self.labels(&chart, px);
            chart
                .configure_mesh()
                .max_light_lines(0)
                .bold_line_style(WHITE.mix(0.45).stroke_width(1))
                .x_labels(nx)
                .y_labels(ny)
                .label_style(text(px * 0.9))
                .axis_desc_style(text(px))
                .x_desc(if self.names_time(a) {
                    "years since onset"
                } else {
                    ""
                })
                .x_label_formatter(&|v| fmt_tick(*v))
                .y_label_formatter(&|v| super::fmt_percent(*v))
                .draw()?;
        }
        Ok(())
    }

    /// Whether arm panel `a` names its time axis: on slides only the
    /// bottom row of the grid does, so the panels keep their room.
    pub(crate) fn names_time(&self, a: usize) -> bool {
        let n = self.res.arms.len();
        self.style == Style::Paper || a + panel_cols(n) >= n
    }

    /// The x label area of a panel: tick labels and, if `named`, the axis name.
    pub(crate) fn x_area(&self, px: f64, named: bool) -> u32 {
        self.gap(px, 3.0, if named { 2.3 } else { 1.2 })
    }

    /// One panel per state (those anybody is in), the arms overlaid as lines.
    fn states_by_arm<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
        px: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let years = years_axis(self.res);
        let states: Vec<usize> = (0..N_STATES).filter(|&s| self.state_seen(s)).collect();
        let shares: Vec<Vec<[f64; N_STATES]>> = (0..self.res.arms.len())
            .map(|a| self.res.since_onset(a).iter().map(|p| p.shares).collect())
            .collect();
        let cols = panel_cols(states.len());
        let slide = self.style == Style::Slide;
        for (i, (panel, &s)) in arm_panels(body, states.len())
            .iter()
            .zip(&states)
            .enumerate()
        {
            let top = shares.iter().flatten().map(|x| x[s]).fold(0.0f64, f64::max);
            let ymax = if top > 0.0 { (top * 1.1).min(1.0) } else { 1.0 };
            // On slides the axes are named once (the bottom row names time,
            // the title says the shares are of patients), so panels keep
            // their room.
            let bottom = i + cols >= states.len();
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    STATE_NAMES[s],
                    super::bold(px * 1.05).color(&STATE_COLOURS[s]),
                )
                .margin(self.gap(px, 0.8, 0.7))
                .margin_right(self.gap(px, 1.0, 1.0))
                .x_label_area_size(self.gap(px, 3.0, if bottom { 2.3 } else { 1.2 }))
                .y_label_area_size(self.gap(px, 4.5, 2.8))
                .build_cartesian_2d(0.0..years, 0.0..ymax)?;
            let labels = self.labels(&chart, px);
            draw_percent_mesh(
                &mut chart,
                px,
                labels,
                if slide && !bottom {
                    ""
                } else {
                    "years since onset"
                },
                if slide { "" } else { "share of patients" },
            )?;
            for (a, arm) in shares.iter().enumerate() {
                let step = self.res.curves[a].occupancy.step_days as usize;
                let pts = arm
                    .iter()
                    .enumerate()
                    .map(|(i, x)| ((i * step) as f64 / DAYS_PER_YEAR, x[s]));
                let colour = pal::series(a).stroke_width(self.style.line(3));
                if a == 0 {
                    chart.draw_series(LineSeries::new(pts, colour))?;
                } else {
                    // Later arms dashed, so identical curves stay distinguishable.
                    let dash = (px * (0.6 + 0.3 * a as f64)) as i32;
                    chart.draw_series(DashedLineSeries::new(
                        pts,
                        dash,
                        (px * 0.5) as i32,
                        colour,
                    ))?;
                }
            }
        }
        Ok(())
    }

    fn flares<DB: DrawingBackend>(&self, body: &DrawingArea<DB, Shift>, px: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let shares: Vec<&[f64]> = (0..self.res.arms.len())
            .map(|a| self.res.flare_shares(a))
            .collect();
        let last = shares
            .iter()
            .filter_map(|s| s.iter().rposition(|&x| x > 0.0))
            .max()
            .unwrap_or(0)
            .max(5);
        let ymax = shares
            .iter()
            .flat_map(|s| s.iter().copied())
            .fold(0.0f64, f64::max)
            * 1.1;
        let ymax = if ymax > 0.0 { ymax } else { 1.0 };
        let first = shares
            .iter()
            .filter_map(|s| s.iter().position(|&x| x > 0.0))
            .min()
            .unwrap_or(0)
            .min(last);
        let bins = last + 1;
        let label = move |v: &f64| {
            let i = v.round();
            if (v - i).abs() > 1e-6 || i < 0.0 || i as usize >= bins {
                String::new()
            } else if i as usize == FLARE_BINS - 1 {
                format!("{}+", FLARE_BINS - 1)
            } else {
                format!("{i:.0}")
            }
        };
        let mut chart = ChartBuilder::on(body)
            .margin(self.gap(px, 1.0, 0.7))
            .x_label_area_size(self.gap(px, 3.0, 2.3))
            .y_label_area_size((px * 4.5) as u32)
            .build_cartesian_2d((first as f64 - 0.6)..(bins as f64 - 0.4), 0.0..ymax)?;
        let (nx, ny) = self.labels(&chart, px);
        // One label per bin on paper; on slides as many as keep apart.
        let x_labels = match self.style {
            Style::Paper => (bins - first).min(26),
            Style::Slide => (bins - first).min(26).min(nx),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .bold_line_style(pal::GRID.stroke_width(1))
            .x_labels(x_labels)
            .y_labels(ny)
            .x_label_formatter(&label)
            .label_style(text(px * 0.9))
            .axis_desc_style(text(px))
            .x_desc(self.desc(
                "flares per patient while observed (including the first)",
                "flares per patient (including the first)",
            ))
            .y_desc("share of patients")
            .y_label_formatter(&|v| super::fmt_percent(*v))
            .draw()?;
        let n = shares.len().max(1) as f64;
        let width = 0.8 / n;
        for (a, s) in shares.iter().enumerate() {
            let colour = pal::series(a);
            chart.draw_series(
                s.iter()
                    .take(bins)
                    .enumerate()
                    .filter(|(_, &v)| v > 0.0)
                    .map(|(i, &v)| {
                        let x0 = i as f64 - 0.4 + a as f64 * width;
                        Rectangle::new(
                            [(x0, 0.0), (x0 + width * 0.92, v)],
                            colour.mix(0.85).filled(),
                        )
                    }),
            )?;
        }
        Ok(())
    }
}

pub(crate) use crate::plot::Chart2d;

/// The grid and axes of a chart whose y axis is a share, in percent.
pub(crate) fn draw_percent_mesh<DB: DrawingBackend>(
    chart: &mut Chart2d<'_, DB>,
    px: f64,
    (nx, ny): (usize, usize),
    x_desc: &str,
    y_desc: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(pal::GRID.stroke_width(1))
        .x_labels(nx)
        .y_labels(ny)
        .label_style(text(px * 0.9))
        .axis_desc_style(text(px))
        .x_desc(x_desc)
        .x_label_formatter(&|v| fmt_tick(*v))
        .y_desc(y_desc)
        .y_label_formatter(&|v| super::fmt_percent(*v))
        .draw()?;
    Ok(())
}

/// Writes a grey message in the middle of a chart (for empty data).
pub(crate) fn no_data<DB: DrawingBackend>(
    chart: &Chart2d<'_, DB>,
    area: &DrawingArea<DB, Shift>,
    msg: &str,
    px: f64,
    at: (f64, f64),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x, y) = chart.backend_coord(&at);
    let base = area.get_base_pixel();
    area.draw_text(
        msg,
        &anchored(
            text(px * 1.3).color(&RGBColor(0x55, 0x55, 0x55)),
            HPos::Center,
            VPos::Center,
        ),
        (x - base.0, y - base.1),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
