//! The lesion and drug panels of a course chart: lesion bars by bone and
//! side, shaded by imaging stage; drug bars in each drug's fixed colour with
//! effect onsets, courses and the reasons drugs stopped.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::engine::model_values::DAYS_PER_YEAR;
use crate::engine::patient::StopReason;
use crate::model::{Site, Stage};

use super::frame::{clip, draw_markers, Chart2d, Frame};
use super::{CourseTrace, LesionTrace};
use crate::plot::palette as pal;
use crate::plot::{anchored, bold, fmt_tick, text, DrawResult};

/// A row of the lesion panel: one bone and side, with its lesions in lanes.
pub(crate) struct LesionRow {
    pub(crate) label: String,
    /// (index into trace.lesions, lane)
    pub(crate) lesions: Vec<(usize, usize)>,
    pub(crate) lanes: usize,
}

fn site_label(site: Site) -> &'static str {
    match site {
        Site::UpperLimb => "upper limb",
        Site::SternumRibs => "sternum/ribs",
        s => s.as_str(),
    }
}

/// Groups lesions into rows by (site, side), in site order, and gives
/// lesions whose periods overlap separate lanes within a row.
pub(crate) fn lesion_rows(t: &CourseTrace) -> Vec<LesionRow> {
    let mut keys: Vec<(Site, u8)> = t.lesions.iter().map(|l| (l.site, l.side)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(site, side)| {
            let mut members: Vec<usize> = (0..t.lesions.len())
                .filter(|&i| t.lesions[i].site == site && t.lesions[i].side == side)
                .collect();
            let span = |i: usize| {
                let a = &t.lesions[i].active;
                (
                    a.first().map_or(0.0, |p| p.0),
                    a.last().map_or(0.0, |p| p.1),
                )
            };
            members.sort_by(|&a, &b| span(a).0.total_cmp(&span(b).0));
            let mut lane_end: Vec<f64> = Vec::new();
            let mut lesions = Vec::new();
            for i in members {
                let (s, e) = span(i);
                let lane = match lane_end.iter().position(|&end| end <= s) {
                    Some(l) => l,
                    None => {
                        lane_end.push(f64::NEG_INFINITY);
                        lane_end.len() - 1
                    }
                };
                lane_end[lane] = e;
                lesions.push((i, lane));
            }
            let side_txt = match side {
                1 => " (L)",
                2 => " (R)",
                _ => "",
            };
            LesionRow {
                label: format!("{}{}", site_label(site), side_txt),
                lesions,
                lanes: lane_end.len().max(1),
            }
        })
        .collect()
}

/// Drugs the patient received, in order of first start.
pub(crate) fn drug_rows(t: &CourseTrace) -> Vec<(u16, String)> {
    let mut rows: Vec<(u16, String)> = Vec::new();
    for s in &t.drug_spans {
        if !rows.iter().any(|r| r.0 == s.drug) {
            rows.push((s.drug, s.name.clone()));
        }
    }
    rows
}

/// Writes row labels right-aligned left of the plotting area.
pub(crate) fn row_labels<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    chart: &Chart2d<'_, DB>,
    labels: &[(f64, String)],
    px: f64,
    floor: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let base = panel.get_base_pixel();
    let style = anchored(text((px * 0.85).max(floor)), HPos::Right, VPos::Center);
    for (y, s) in labels {
        let (x, yy) = chart.backend_coord(&(0.0, *y));
        panel.draw_text(s, &style, (x - base.0 - (px * 0.5) as i32, yy - base.1))?;
    }
    Ok(())
}

/// Writes a panel name, rotated, at the left edge of the panel, centred on
/// the plotting area; also frames the plotting area.
pub(crate) fn panel_name<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    chart: &Chart2d<'_, DB>,
    name: &str,
    px: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (ys, xs) = (
        chart.plotting_area().get_y_axis_pixel_range(),
        chart.plotting_area().get_x_axis_pixel_range(),
    );
    let base = panel.get_base_pixel();
    panel.draw(&Rectangle::new(
        [
            (xs.start - base.0, ys.start - base.1),
            (xs.end - base.0, ys.end - base.1),
        ],
        pal::GREY.stroke_width(1),
    ))?;
    let style =
        bold(px)
            .transform(FontTransform::Rotate270)
            .pos(plotters::style::text_anchor::Pos::new(
                HPos::Center,
                VPos::Top,
            ));
    let mid = (ys.start + ys.end) / 2 - base.1;
    panel.draw_text(name, &style, ((px * 0.3) as i32, mid))?;
    Ok(())
}

/// The periods of a lesion by imaging stage, `(start_day, end_day, stage)`,
/// within its active periods (healed time is not drawn).
pub(crate) fn stage_periods(l: &LesionTrace) -> Vec<(f64, f64, Stage)> {
    let mut v = Vec::new();
    for &(a, b) in &l.active {
        let mut inside: Vec<(f64, Stage)> = l
            .stages
            .iter()
            .copied()
            .filter(|&(d, s)| d >= a && d < b && s != Stage::Healed)
            .collect();
        if !inside.first().is_some_and(|f| f.0 <= a) {
            // The stage carried over from before the period (or lytic).
            let before = l
                .stages
                .iter()
                .rev()
                .find(|&&(d, s)| d <= a && s != Stage::Healed)
                .map_or(Stage::Lytic, |x| x.1);
            inside.insert(0, (a, before));
        }
        for (k, &(d, s)) in inside.iter().enumerate() {
            let end = inside.get(k + 1).map_or(b, |n| n.0);
            if end > d || (end == d && inside.len() == 1) {
                v.push((d, end, s));
            }
        }
    }
    v
}

fn stage_colour(s: Stage) -> RGBColor {
    match s {
        Stage::Lytic | Stage::Healed => pal::LYTIC,
        Stage::Mixed => pal::MIXED,
        Stage::Sclerotic => pal::SCLEROTIC,
    }
}

/// Vertical grid at the year ticks, no y grid; no labels.
fn plain_mesh<DB: DrawingBackend>(chart: &mut Chart2d<'_, DB>, f: &Frame) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(f.ticks())
        .max_light_lines(0)
        .bold_line_style(pal::GRID.stroke_width(1))
        .axis_style(pal::GREY.stroke_width(1))
        .y_labels(0)
        .x_label_formatter(&|_| String::new())
        .draw()?;
    Ok(())
}

pub(crate) fn draw_lesions<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    rows: &[LesionRow],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = f.px;
    let n = rows.len().max(1) as f64;
    let mut chart = f.builder(panel, 0, 0).build_cartesian_2d(f.x(), 0.0..n)?;
    plain_mesh(&mut chart, f)?;
    // Row bands for readability.
    let (x0, x1) = f.opt.years;
    chart.draw_series((0..rows.len()).filter(|r| r % 2 == 1).map(|r| {
        let y = n - r as f64;
        Rectangle::new(
            [(x0, y - 1.0), (x1, y)],
            RGBColor(0xF2, 0xF2, 0xF2).filled(),
        )
    }))?;
    draw_markers(&mut chart, t, f, n)?;
    let mut labels = Vec::new();
    // Lesions in no row (left out on slides) are not drawn.
    let mut lane_geom = vec![None; t.lesions.len()];
    for (r, row) in rows.iter().enumerate() {
        let top = n - r as f64 - 0.12;
        let lane_h = 0.76 / row.lanes as f64;
        labels.push((n - r as f64 - 0.5, row.label.clone()));
        for &(i, lane) in &row.lesions {
            let y1 = top - lane as f64 * lane_h;
            lane_geom[i] = Some((y1 - lane_h * 0.88, y1));
        }
    }
    let sliver = f.span() / 400.0;
    for (i, l) in t.lesions.iter().enumerate() {
        let Some((y0, y1)) = lane_geom[i] else {
            continue;
        };
        for (a, b, stage) in stage_periods(l) {
            let Some((a, b)) = clip(f, a, b) else {
                continue;
            };
            // At least a sliver wide, so short periods stay visible.
            let b = b.max(a + sliver);
            let colour = stage_colour(stage);
            let alpha = if l.symptomatic { 0.95 } else { 0.35 };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, y0), (b, y1)],
                colour.mix(alpha).filled(),
            )))?;
        }
        if !l.symptomatic {
            // Silent lesions: pale, with an outline around each active period.
            for &(a, b) in &l.active {
                if let Some((a, b)) = clip(f, a, b) {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(a, y0), (b.max(a + sliver), y1)],
                        pal::LYTIC.stroke_width(f.line(1) + 1),
                    )))?;
                }
            }
        }
    }
    let cross = (px * 0.45) as i32;
    chart.draw_series(t.fractures.iter().filter_map(|fr| {
        let i = fr.lesion as usize;
        let (y0, y1) = (*lane_geom.get(i)?)?;
        let x = fr.day / DAYS_PER_YEAR;
        (x0..=x1).contains(&x).then(|| {
            Cross::new(
                (x, (y0 + y1) / 2.0),
                cross,
                pal::VERMILLION.stroke_width(f.line(3)),
            )
        })
    }))?;
    row_labels(panel, &chart, &labels, px, f.floor())?;
    panel_name(panel, &chart, "lesions", px)?;
    Ok(())
}

pub(crate) fn draw_treatment<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    drugs: &[(u16, String)],
    bottom: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = f.px;
    let slide = f.opt.slide_layout();
    let n = drugs.len().max(1) as f64;
    let mut chart = f
        .builder(panel, 0, bottom)
        .build_cartesian_2d(f.x(), 0.0..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(f.ticks())
        .max_light_lines(0)
        .bold_line_style(pal::GRID.stroke_width(1))
        .axis_style(pal::GREY.stroke_width(1))
        .y_labels(0)
        .x_label_formatter(&|v| {
            if slide {
                format!("year {}", fmt_tick(*v))
            } else {
                fmt_tick(*v)
            }
        })
        .label_style(text(f.opt.text_px(0.9)))
        .axis_desc_style(text(px))
        .x_desc(if slide { "" } else { "years since onset" })
        .draw()?;
    draw_markers(&mut chart, t, f, n)?;
    if drugs.is_empty() {
        let short = f.opt.slide_compact();
        let msg = match (!t.treated_arm, t.diagnosis_day.is_none(), short) {
            (true, _, false) => "no treatment in this arm (natural history)",
            (true, _, true) => "untreated arm",
            (false, true, false) => "no treatment: never diagnosed",
            (false, true, true) => "never diagnosed",
            (false, false, _) => "no drug given",
        };
        let (x0, x1) = f.opt.years;
        let (x, y) = chart.backend_coord(&((x0 + x1) / 2.0, 0.5));
        let base = panel.get_base_pixel();
        panel.draw_text(
            msg,
            &anchored(
                text(f.opt.text_px(0.9)).color(&RGBColor(0x55, 0x55, 0x55)),
                HPos::Center,
                VPos::Center,
            ),
            (x - base.0, y - base.1),
        )?;
    }
    let row = |d: u16| drugs.iter().position(|r| r.0 == d).unwrap_or(0);
    let centre = |d: u16| n - row(d) as f64 - 0.5;
    let colour = |d: u16| {
        pal::drug(
            &drugs
                .iter()
                .find(|r| r.0 == d)
                .map_or(String::new(), |r| r.1.clone()),
        )
    };
    let sliver = f.span() / 400.0;
    for s in &t.drug_spans {
        let Some((a, b)) = clip(f, s.start_day, s.end_day) else {
            continue;
        };
        let y = centre(s.drug);
        // Drugs given in courses show their effect window pale and each course solid.
        let given_in_courses = t.drug_courses.iter().any(|c| c.drug == s.drug);
        let alpha = if given_in_courses { 0.3 } else { 0.9 };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a, y - 0.3), (b.max(a + sliver), y + 0.3)],
            colour(s.drug).mix(alpha).filled(),
        )))?;
    }
    for c in &t.drug_courses {
        let Some((a, b)) = clip(f, c.day, c.day + c.days) else {
            continue;
        };
        let y = centre(c.drug);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a, y - 0.38), (b.max(a + f.span() / 250.0), y + 0.38)],
            colour(c.drug).filled(),
        )))?;
    }
    let r = (px * 0.35) as i32;
    let inside = |d: f64| (f.opt.years.0..=f.opt.years.1).contains(&(d / DAYS_PER_YEAR));
    for e in t.drug_effects.iter().filter(|e| inside(e.day)) {
        let pos = (e.day / DAYS_PER_YEAR, centre(e.drug));
        if e.responder {
            chart.draw_series(std::iter::once(Circle::new(pos, r, pal::BLACK.filled())))?;
        } else {
            chart.draw_series(std::iter::once(
                EmptyElement::at(pos)
                    + Circle::new((0, 0), r, WHITE.filled())
                    + Circle::new((0, 0), r, pal::BLACK.stroke_width(f.line(2))),
            ))?;
        }
    }
    for s in t.drug_spans.iter().filter(|s| inside(s.end_day)) {
        let pos = (s.end_day / DAYS_PER_YEAR, centre(s.drug) + 0.3);
        match s.stop {
            // Shapes apart from the pain panel's fever triangle and CRP
            // diamond: escalation points on to the next step.
            Some(StopReason::Escalation) => {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(pos) + crate::plot::right_triangle(r + 2, pal::BLACK.filled()),
                ))?;
            }
            Some(StopReason::Taper) => {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(pos) + crate::plot::down_triangle(r + 2, pal::BLACK.filled()),
                ))?;
            }
            Some(StopReason::AdverseEvent) => {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(pos)
                        + Rectangle::new([(-r, -r), (r, r)], pal::VERMILLION.filled()),
                ))?;
            }
            // A course ending or the ladder running out needs no mark: the bar ends.
            _ => {}
        }
    }
    if !f.opt.compact {
        let labels: Vec<(f64, String)> = drugs
            .iter()
            .map(|(d, name)| {
                let label = if slide {
                    super::slide::short_drug_name(name)
                } else {
                    name.clone()
                };
                (centre(*d), label)
            })
            .collect();
        row_labels(panel, &chart, &labels, px, f.floor())?;
        panel_name(panel, &chart, "drugs", px)?;
    }
    Ok(())
}
