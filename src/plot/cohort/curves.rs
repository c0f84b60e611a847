//! The curve plots of a cohort: Kaplan–Meier time to first remission after
//! diagnosis (with censoring ticks and a numbers-at-risk table), drug
//! exposure over time (each drug in its fixed colour; a drug given in
//! courses counts its whole effect window) and mean pain.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::engine::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use crate::results::km::KmRow;
use crate::results::timeseries::TimePoint;

use super::{arm_panels, band, draw_percent_mesh, no_data, years_axis, Plot, KM_ENDPOINT};
use crate::plot::palette as pal;
use crate::plot::{anchored, bold, fmt_tick, text, Chart2d, DrawResult, Style};

impl Plot<'_> {
    /// The Kaplan–Meier plot. On paper the numbers at risk stand below
    /// the plot, aligned with its months. On slides a table beside the plot
    /// gives per arm (its line, and its name when `arms_beside`) the
    /// numbers at risk at three times and the median, so the plot keeps at
    /// least half the image height for any number of arms.
    pub(super) fn km<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
        px: f64,
        arms_beside: bool,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let curves: Vec<&[KmRow]> = (0..self.res.arms.len())
            .map(|a| self.res.km(a, KM_ENDPOINT))
            .collect();
        // Show until every curve is below 2% or runs out of patients at risk.
        let last_day = curves
            .iter()
            .map(|rows| {
                rows.iter()
                    .find(|r| r.survival < 0.02)
                    .or(rows.last())
                    .map_or(0, |r| r.day)
            })
            .max()
            .unwrap_or(0);
        let months = ((last_day as f64 * 1.05) / DAYS_PER_MONTH).max(1.0).ceil();
        let slide = self.style == Style::Slide;
        let any = curves.iter().any(|c| !c.is_empty());
        let (body, table) = if slide && any {
            // Beside the curves: the table of arms (none when nobody was
            // ever at risk).
            let side = self.side_table(body, &curves, months, px, arms_beside)?;
            let (bw, _) = body.dim_in_pixel();
            let (plot, table) = body.split_horizontally(bw.saturating_sub(side.width));
            side.draw(&table, px, self.style.line(3))?;
            (plot, None)
        } else if self.at_risk && any {
            // Below the curves: the numbers at risk, one row per arm (none
            // when nobody was ever at risk).
            let row_h = px * 1.5;
            let table_h = (row_h * (self.res.arms.len() as f64 + 1.3)) as u32;
            let (_, bh) = body.dim_in_pixel();
            let (plot, table) = body.split_vertically(bh.saturating_sub(table_h));
            (plot, Some(table))
        } else {
            (body.clone(), None)
        };
        let body = &body;
        let mut chart = ChartBuilder::on(body)
            .margin(self.gap(px, 1.0, 0.7))
            // On slides only room for the half of the top tick label above the frame.
            .margin_top(self.gap(px, 1.0, 0.5))
            .margin_bottom(self.gap(px, 1.0, 0.1))
            .x_label_area_size(self.gap(px, 3.0, 2.3))
            .y_label_area_size((px * 4.5) as u32)
            .build_cartesian_2d(0.0..months, 0.0..1.02)?;
        let labels = self.labels(&chart, px);
        draw_percent_mesh(
            &mut chart,
            px,
            labels,
            if slide {
                "months since diagnosis"
            } else {
                "months since diagnosis (| censored)"
            },
            "not yet in remission",
        )?;
        for (a, rows) in curves.iter().enumerate() {
            let colour = pal::series(a);
            let lw = self.style.line(3);
            // Step functions: survival and band just after each day.
            let mut xs = vec![0.0];
            let (mut s, mut lo, mut hi) = (vec![1.0], vec![1.0], vec![1.0]);
            for r in rows.iter().filter(|r| r.events > 0) {
                let x = r.day as f64 / DAYS_PER_MONTH;
                if x > months {
                    break;
                }
                let (ps, pl, ph) = (s[s.len() - 1], lo[lo.len() - 1], hi[hi.len() - 1]);
                xs.extend([x, x]);
                s.extend([ps, r.survival]);
                lo.extend([pl, r.lower_95]);
                hi.extend([ph, r.upper_95]);
            }
            let end = rows
                .last()
                .map_or(0.0, |r| r.day as f64 / DAYS_PER_MONTH)
                .min(months);
            if end > xs[xs.len() - 1] {
                xs.push(end);
                s.push(s[s.len() - 1]);
                lo.push(lo[lo.len() - 1]);
                hi.push(hi[hi.len() - 1]);
            }
            chart.draw_series(std::iter::once(Polygon::new(
                band(&xs, &lo, &hi),
                colour.mix(0.2).filled(),
            )))?;
            let line = xs.iter().copied().zip(s.iter().copied());
            if a == 0 {
                chart.draw_series(LineSeries::new(line, colour.stroke_width(lw)))?;
            } else {
                // Later arms dashed, so identical curves stay distinguishable.
                let dash = (px * (0.6 + 0.3 * a as f64)) as i32;
                chart.draw_series(DashedLineSeries::new(
                    line,
                    dash,
                    (px * 0.5) as i32,
                    colour.stroke_width(lw),
                ))?;
            }
            draw_censor_ticks(&mut chart, rows, months, colour, px)?;
        }
        if let Some(table) = table {
            self.risk_table(&chart, &table, &curves, months, px)?;
        }
        if !any {
            no_data(
                &chart,
                body,
                "nobody was diagnosed",
                px,
                (months / 2.0, 0.5),
            )?;
        }
        Ok(())
    }

    /// The drug-exposure axes: years since onset against the share on a
    /// drug, with the effect window of courses named on paper.
    fn exposure_mesh<DB: DrawingBackend>(
        &self,
        chart: &mut Chart2d<'_, DB>,
        px: f64,
        names_time: bool,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let labels = self.labels(chart, px);
        let x_desc = if names_time { "years since onset" } else { "" };
        draw_percent_mesh(chart, px, labels, x_desc, "")
    }

    pub(super) fn drug_exposure<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
        px: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let years = years_axis(self.res);
        // One axis name for the grid, so the panels' names cannot run together.
        let body = &super::shared_y_title(
            body,
            self.desc(
                "share on the drug (courses: effect window)",
                "share on the drug",
            ),
            px,
        )?;
        if self.drugs.is_empty() {
            let mut chart = ChartBuilder::on(body)
                .margin(self.gap(px, 1.0, 0.7))
                .x_label_area_size(self.gap(px, 3.0, 2.3))
                .y_label_area_size((px * 4.5) as u32)
                .build_cartesian_2d(0.0..years, 0.0..1.0)?;
            self.exposure_mesh(&mut chart, px, true)?;
            no_data(
                &chart,
                body,
                "no treatment in this scenario",
                px,
                (years / 2.0, 0.5),
            )?;
            return Ok(());
        }
        // Per arm, per drug: the share on the drug at each grid point.
        let per_arm: Vec<Vec<Vec<f64>>> = (0..self.res.arms.len())
            .map(|a| {
                let points = self.res.since_onset(a);
                let drugs = points.first().map_or(0, |p| p.on_drug.len());
                (0..drugs)
                    .map(|d| points.iter().map(|p| p.on_drug[d]).collect())
                    .collect()
            })
            .collect();
        // One y scale for all arms, so panels compare at a glance.
        let top = per_arm
            .iter()
            .flatten()
            .flatten()
            .copied()
            .fold(0.0f64, f64::max);
        let ymax = if top > 0.0 { (top * 1.1).min(1.0) } else { 1.0 };
        for (a, panel) in arm_panels(body, self.res.arms.len()).iter().enumerate() {
            let points = self.res.since_onset(a);
            let rows = &per_arm[a];
            let peak = rows.iter().flatten().copied().fold(0.0f64, f64::max);
            let mut chart = ChartBuilder::on(panel)
                .caption(&self.res.arms[a], bold(px * 1.05))
                .margin(self.gap(px, 0.8, 0.7))
                .margin_right(self.gap(px, 1.0, 1.0))
                .x_label_area_size(self.x_area(px, self.names_time(a)))
                .y_label_area_size((px * 3.2) as u32)
                .build_cartesian_2d(0.0..years, 0.0..ymax)?;
            self.exposure_mesh(&mut chart, px, self.names_time(a))?;
            for (d, row) in rows.iter().enumerate() {
                if row.iter().all(|&v| v == 0.0) {
                    continue;
                }
                let colour = pal::drug(&self.drugs[d]);
                chart.draw_series(LineSeries::new(
                    points
                        .iter()
                        .zip(row)
                        .map(|(p, &v)| (p.day as f64 / DAYS_PER_YEAR, v)),
                    colour.stroke_width(self.style.line(3)),
                ))?;
            }
            if peak == 0.0 {
                no_data(
                    &chart,
                    panel,
                    "no treatment in this arm",
                    px,
                    (years / 2.0, ymax / 2.0),
                )?;
            }
        }
        Ok(())
    }

    pub(super) fn pain<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
        px: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let years = years_axis(self.res);
        let series: Vec<&[TimePoint]> = (0..self.res.arms.len())
            .map(|a| self.res.since_onset(a))
            .collect();
        let peak = series
            .iter()
            .flat_map(|points| points.iter())
            .map(|p| p.pain_upper_95)
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let ymax = if peak > 0.0 {
            (peak * 1.1).min(10.0)
        } else {
            10.0
        };
        let mut chart = ChartBuilder::on(body)
            .margin(self.gap(px, 1.0, 0.7))
            .x_label_area_size(self.gap(px, 3.0, 2.3))
            .y_label_area_size((px * 4.5) as u32)
            .build_cartesian_2d(0.0..years, 0.0..ymax)?;
        let (nx, ny) = self.labels(&chart, px);
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(pal::GRID.stroke_width(1))
            .x_labels(nx)
            .y_labels(ny)
            .label_style(text(px * 0.9))
            .axis_desc_style(text(px))
            .x_desc("years since onset")
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .y_desc(self.desc(
                "mean pain, VAS 0-10 (0 outside flares)",
                "mean pain (VAS 0-10)",
            ))
            .draw()?;
        for (a, pts) in series.iter().enumerate() {
            let colour = pal::series(a);
            let ok: Vec<&TimePoint> = pts.iter().filter(|p| p.mean_pain.is_finite()).collect();
            let xs: Vec<f64> = ok.iter().map(|p| p.day as f64 / DAYS_PER_YEAR).collect();
            let lo: Vec<f64> = ok.iter().map(|p| p.pain_lower_95).collect();
            let hi: Vec<f64> = ok.iter().map(|p| p.pain_upper_95).collect();
            chart.draw_series(std::iter::once(Polygon::new(
                band(&xs, &lo, &hi),
                colour.mix(0.2).filled(),
            )))?;
            chart.draw_series(LineSeries::new(
                ok.iter()
                    .map(|p| (p.day as f64 / DAYS_PER_YEAR, p.mean_pain)),
                colour.stroke_width(self.style.line(3)),
            ))?;
        }
        Ok(())
    }

    /// The numbers at risk under the KM plot: per arm, patients still at
    /// risk at each labelled month, aligned with the x axis.
    fn risk_table<DB: DrawingBackend>(
        &self,
        chart: &super::Chart2d<'_, DB>,
        table: &DrawingArea<DB, Shift>,
        curves: &[&[KmRow]],
        months: f64,
        px: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let base = table.get_base_pixel();
        let row_h = px * self.factor(1.5, 1.25);
        let small = px * 0.9;
        let plot_left = chart.plotting_area().get_x_axis_pixel_range().start;
        table.draw_text(
            "at risk",
            &anchored(bold(small), HPos::Right, VPos::Center),
            (plot_left - base.0 - (px * 0.6) as i32, (row_h * 0.5) as i32),
        )?;
        let step = risk_step(
            months,
            if self.style == Style::Slide {
                6.0
            } else {
                10.0
            },
        );
        // Each row is marked by its arm's line (the legend names the arms),
        // clear of the widest month-0 count centred on the axis.
        let mut widest = 0;
        for rows in curves {
            let count = at_risk(rows, 0.0).to_string();
            widest = widest.max(table.estimate_text_size(&count, &text(small))?.0);
        }
        let (left, right) = risk_line_span(plot_left - base.0, widest, px);
        for (a, rows) in curves.iter().enumerate() {
            let y = (row_h * (a as f64 + 1.5)) as i32;
            table.draw(&PathElement::new(
                vec![(left, y), (right, y)],
                pal::series(a).stroke_width(self.style.line(3)),
            ))?;
            let mut m = 0.0;
            while m <= months + 1e-9 {
                let (x, _) = chart.backend_coord(&(m, 0.0));
                table.draw_text(
                    &at_risk(rows, m * DAYS_PER_MONTH).to_string(),
                    &anchored(text(small), HPos::Center, VPos::Center),
                    (x - base.0, y),
                )?;
                m += step;
            }
        }
        Ok(())
    }
}

/// The x span of the line marking an arm's row of numbers at risk, for
/// the plot's left edge at `axis_x` and month-0 counts (centred on it) at
/// most `count_width` pixels wide: one and a half text heights long and
/// ending two text heights before the widest count, so line and number
/// stand apart whatever the cohort size (a line that would pass the left
/// edge of the table is shortened).
fn risk_line_span(axis_x: i32, count_width: u32, px: f64) -> (i32, i32) {
    let right = axis_x - (count_width as i32 + 1) / 2 - (px * 2.0) as i32;
    ((right - (px * 1.5) as i32).max(0), right)
}

/// Month step of the numbers-at-risk columns (at most `most` columns
/// after the first).
fn risk_step(months: f64, most: f64) -> f64 {
    [1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 60.0]
        .into_iter()
        .find(|s| months / s <= most)
        .unwrap_or(120.0)
}

/// Patients at risk just after day `day` (KM convention: those whose time is
/// later than `day`).
pub(crate) fn at_risk(rows: &[KmRow], day: f64) -> u64 {
    match rows.iter().find(|r| r.day as f64 > day) {
        Some(r) => r.at_risk,
        None => 0,
    }
}

/// Short vertical ticks on a KM curve where patients were censored,
/// thinned to one tick per 1/60 of the axis and thin, so they mark the
/// curve without hiding it (or the other arms' curves).
fn draw_censor_ticks<DB: DrawingBackend>(
    chart: &mut super::Chart2d<'_, DB>,
    rows: &[KmRow],
    months: f64,
    colour: RGBColor,
    px: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let half = (px * 0.22) as i32;
    let mut last_bin = -1i64;
    for r in rows.iter().filter(|r| r.censored > 0) {
        let x = r.day as f64 / DAYS_PER_MONTH;
        if x > months {
            break;
        }
        let bin = (x / months * CENSOR_BINS) as i64;
        if bin == last_bin {
            continue;
        }
        last_bin = bin;
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, r.survival))
                + PathElement::new(vec![(0, -half), (0, half)], colour.stroke_width(2)),
        ))?;
    }
    Ok(())
}

/// At most this many censoring ticks per curve (one per 1/60 of the axis).
const CENSOR_BINS: f64 = 60.0;

/// The heading of the numbers at risk beside a slide's Kaplan–Meier plot
/// (the months stand below it).
const AT_RISK: &str = "at risk at month";

/// The table beside a slide's Kaplan–Meier plot: one row per arm.
struct SideTable {
    /// Column headers (first header row: bold group names; second: the
    /// column names), then per arm its cells.
    groups: Vec<(usize, usize, String)>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Column widths, pixels (the first column holds the arm's line).
    cols: Vec<u32>,
    /// Total width, pixels.
    width: u32,
    /// Whether arms are named (rather than only shown by their line).
    named: bool,
    /// Swatches of the arms.
    swatches: Vec<crate::plot::Swatch>,
}

impl SideTable {
    /// Draws the table at the top of `area`: header rows, then one row per
    /// arm with its line, name (if named) and cells.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        px: f64,
        lw: u32,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let small = px * 0.9;
        let row_h = (px * 1.3) as i32;
        let top = (px * 0.9) as i32;
        let x_of = |c: usize| -> i32 { self.cols[..c].iter().sum::<u32>() as i32 };
        for (from, to, name) in &self.groups {
            let mid = (x_of(*from) + x_of(*to)) / 2;
            area.draw_text(
                name,
                &anchored(bold(small), HPos::Center, VPos::Center),
                (mid, top),
            )?;
        }
        for (c, h) in self.header.iter().enumerate() {
            let x = x_of(c) + self.cols[c] as i32 / 2;
            area.draw_text(
                h,
                &anchored(text(small), HPos::Center, VPos::Center),
                (x, top + row_h),
            )?;
        }
        for (a, cells) in self.rows.iter().enumerate() {
            let y = top + row_h * (a as i32 + 2);
            let sw = (px * 1.6) as i32;
            let x0 = (self.cols[0] as i32 - sw) / 2;
            match self.swatches[a] {
                crate::plot::Swatch::Dashed(c, _) => {
                    area.draw(&plotters::element::DashedPathElement::new(
                        vec![(x0, y), (x0 + sw, y)],
                        (px * 0.35) as i32,
                        (px * 0.25) as i32,
                        c.stroke_width(lw),
                    ))?;
                }
                crate::plot::Swatch::Line(c, _) => {
                    area.draw(&PathElement::new(
                        vec![(x0, y), (x0 + sw, y)],
                        c.stroke_width(lw),
                    ))?;
                }
                _ => {}
            }
            if self.named {
                area.draw_text(
                    &cells[0],
                    &anchored(text(small), HPos::Left, VPos::Center),
                    (x_of(1), y),
                )?;
            }
            for (c, cell) in cells.iter().enumerate().skip(usize::from(self.named)) {
                let col = c + 1;
                area.draw_text(
                    cell,
                    &anchored(text(small), HPos::Right, VPos::Center),
                    (x_of(col) + self.cols[col] as i32 - (px * 0.4) as i32, y),
                )?;
            }
        }
        Ok(())
    }
}

impl Plot<'_> {
    /// Lays out the table beside a slide's Kaplan–Meier plot: per arm its
    /// line, its name when `named`, the numbers at risk at month 0 and two
    /// later times (when the plot shows them) and the median in months.
    fn side_table<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        curves: &[&[KmRow]],
        months: f64,
        px: f64,
        named: bool,
    ) -> DrawResult<SideTable>
    where
        DB::ErrorType: 'static,
    {
        let small = px * 0.9;
        let step = risk_step(months, 3.0);
        let times: Vec<f64> = if self.at_risk {
            (0..4)
                .map(|i| i as f64 * step)
                .filter(|&m| m <= months + 1e-9)
                .collect()
        } else {
            Vec::new()
        };
        let mut header: Vec<String> = vec![String::new()];
        if named {
            header.push(String::new());
        }
        header.extend(times.iter().map(|m| format!("{m:.0}")));
        header.push("months".to_string());
        let rows: Vec<Vec<String>> = curves
            .iter()
            .enumerate()
            .map(|(a, rows)| {
                let mut cells = Vec::new();
                if named {
                    cells.push(self.res.arms[a].clone());
                }
                cells.extend(
                    times
                        .iter()
                        .map(|m| at_risk(rows, m * DAYS_PER_MONTH).to_string()),
                );
                cells.push(km_median_months(rows));
                cells
            })
            .collect();
        let width_of = |s: &str, bold_text: bool| -> DrawResult<u32> {
            let style = if bold_text { bold(small) } else { text(small) };
            Ok(area.estimate_text_size(s, &style)?.0)
        };
        let pad = (px * 0.8) as u32;
        let mut cols = vec![(px * 2.2) as u32];
        let n_cells = header.len() - 1;
        for c in 0..n_cells {
            let mut w = width_of(&header[c + 1], false)?;
            for r in &rows {
                w = w.max(width_of(&r[c], false)?);
            }
            cols.push(w + pad);
        }
        let mut groups = Vec::new();
        let first_num = 1 + usize::from(named);
        if !times.is_empty() {
            let (from, to) = (first_num, first_num + times.len());
            let need = width_of(AT_RISK, true)? + pad;
            let have: u32 = cols[from..to].iter().sum();
            if need > have {
                cols[to - 1] += need - have;
            }
            groups.push((from, to, AT_RISK.to_string()));
        }
        let last = cols.len() - 1;
        let need = width_of("median", true)? + pad;
        cols[last] = cols[last].max(need);
        groups.push((last, last + 1, "median".to_string()));
        let lw = self.style.line(3);
        Ok(SideTable {
            groups,
            header,
            rows,
            width: cols.iter().sum::<u32>() + (px * 0.6) as u32,
            cols,
            named,
            swatches: (0..curves.len()).map(|a| super::km_swatch(a, lw)).collect(),
        })
    }
}

/// The median time to the event of a Kaplan–Meier curve, months, one
/// decimal ("not reached" as "–").
fn km_median_months(rows: &[KmRow]) -> String {
    crate::results::km::km_median(rows)
        .map_or("–".to_string(), |d| format!("{:.1}", d / DAYS_PER_MONTH))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: usize, at_risk: u64) -> KmRow {
        KmRow {
            day,
            at_risk,
            events: 1,
            censored: 0,
            survival: 1.0,
            std_error: 0.0,
            lower_95: 1.0,
            upper_95: 1.0,
        }
    }

    #[test]
    fn the_arm_line_keeps_clear_of_the_month_0_count() {
        crate::plot::init_fonts();
        // The paper style's text height at the default image size.
        let px = 18.0;
        let style = text(px * 0.9);
        for count in ["7", "4247", "20000", "1000000"] {
            let (width, _) = style.font.box_size(count).unwrap();
            let axis = 200;
            let (left, right) = risk_line_span(axis, width, px);
            let count_left = axis - (width as i32 + 1) / 2;
            assert!(
                count_left - right >= 2 * px as i32,
                "{count}: line ends at {right}, count starts at {count_left}"
            );
            assert!(right - left >= px as i32, "{count}: a line too short");
        }
    }

    #[test]
    fn numbers_at_risk_are_those_still_followed_after_the_time() {
        let rows = [row(10, 100), row(20, 90), row(40, 50)];
        assert_eq!(at_risk(&rows, 0.0), 100);
        assert_eq!(at_risk(&rows, 10.0), 90);
        assert_eq!(at_risk(&rows, 25.0), 50);
        assert_eq!(at_risk(&rows, 40.0), 0);
        assert_eq!(risk_step(24.0, 10.0), 3.0);
        assert_eq!(risk_step(24.0, 6.0), 6.0);
        assert_eq!(risk_step(5.0, 10.0), 1.0);
    }
}
