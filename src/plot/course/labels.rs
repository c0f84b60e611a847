//! Where the text of the pain panel goes: imaging visits (a square with
//! `+n`, the lesions found, to its right) along the bottom, and the labels
//! of the vertical lines (diagnosis with its criteria, resolution, loss to
//! follow-up, new conditions) in rows from the top, each in the first row
//! where it overlaps no other label and no imaging mark.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::{shown, Chart2d, Frame};
use super::CourseTrace;
use crate::engine::model_values::DAYS_PER_YEAR;
use crate::plot::palette as pal;
use crate::plot::{anchored, bold, text, DrawResult};

/// A box in backend pixels: `(x0, y0, x1, y1)`, inclusive.
pub(crate) type Rect = (i32, i32, i32, i32);

fn intersects(a: &Rect, b: &Rect) -> bool {
    a.0 <= b.2 && b.0 <= a.2 && a.1 <= b.3 && b.1 <= a.3
}

/// The pixels two boxes share.
fn overlap(a: &Rect, b: &Rect) -> i32 {
    let w = a.2.min(b.2) - a.0.max(b.0) + 1;
    let h = a.3.min(b.3) - a.1.max(b.1) + 1;
    w.max(0) * h.max(0)
}

/// Draws the imaging visits along the bottom of the pain panel, each `+n`
/// placed by [`place_count`] clear of the other squares and counts and of
/// `avoid` (CRP and fever marks, a story's arrows) where there is room;
/// returns the boxes of the squares and their `+n` texts.
pub(crate) fn draw_imaging<DB: DrawingBackend>(
    chart: &mut Chart2d<'_, DB>,
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    avoid: &[Rect],
) -> Result<Vec<Rect>, DrawingAreaErrorKind<DB::ErrorType>>
where
    DB::ErrorType: 'static,
{
    let s = (f.px * 0.35) as i32;
    let base = panel.get_base_pixel();
    let label = text(f.opt.text_px(0.85));
    let xs = chart.plotting_area().get_x_axis_pixel_range();
    let ys = chart.plotting_area().get_y_axis_pixel_range();
    let marks: Vec<_> = t.imaging.iter().filter(|m| shown(f.opt, m.day)).collect();
    let mut boxes = Vec::new();
    for m in &marks {
        let (x, y) = chart.backend_coord(&(m.day / DAYS_PER_YEAR, 0.0));
        let y = y - s - 3;
        panel.draw(&Rectangle::new(
            [
                (x - s - base.0, y - s - base.1),
                (x + s - base.0, y + s - base.1),
            ],
            pal::BLACK.stroke_width(f.line(1) + 1),
        ))?;
        boxes.push((x - s, y - s, x + s, y + s));
    }
    for (m, square) in marks.iter().zip(boxes.clone()) {
        if m.found == 0 {
            continue;
        }
        let txt = format!("+{}", m.found);
        let (tw, th) = panel.estimate_text_size(&txt, &label)?;
        let (tw, th) = (tw as i32, th as i32);
        // The squares and `avoid` are marks; the counts placed so far, labels.
        let (squares, counts) = boxes.split_at(marks.len());
        let others: Vec<Rect> = squares.iter().chain(avoid).copied().collect();
        let room = CountRoom {
            left: xs.start,
            right: xs.end,
            top: ys.start,
        };
        let spot = place_count(square, (tw, th), room, counts, &others);
        panel.draw_text(
            &txt,
            &anchored(label.clone(), HPos::Left, VPos::Top),
            (spot.0 - base.0, spot.1 - base.1),
        )?;
        boxes.push(spot);
    }
    Ok(boxes)
}

/// Where an imaging count may go: x from `left` to `right`, y from `top`
/// down (pixels).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountRoom {
    pub(crate) left: i32,
    pub(crate) right: i32,
    pub(crate) top: i32,
}

/// The box of an imaging square's `+n` text of `size`: right of the
/// square, clear of the line through it (the diagnosis line runs through
/// the imaging at diagnosis); else left of it; else above it, in the row
/// just above or the one above that (higher, a count would stand apart
/// from its square, among the line labels). The first of these that
/// meets no other label and no mark; where every one meets something, the
/// one meeting the fewest labels, then the fewest marks (as
/// [`place_labels`] does: a count over a mark hides a little of it, one
/// over another label makes both unreadable), then covering the least of
/// them.
pub(crate) fn place_count(
    square: Rect,
    (tw, th): (i32, i32),
    room: CountRoom,
    labels: &[Rect],
    marks: &[Rect],
) -> Rect {
    let (x, y) = ((square.0 + square.2) / 2, (square.1 + square.3) / 2);
    let right = (square.2 + 3, y - th / 2, square.2 + 3 + tw, y + th / 2);
    let left = (square.0 - 3 - tw, y - th / 2, square.0 - 3, y + th / 2);
    let above = (0..)
        .map(|row| {
            let bottom = square.1 - 2 - row * (th + 2);
            (x - tw / 2, bottom - th, x + tw / 2, bottom)
        })
        .take(ROWS_ABOVE)
        .filter(|r| r.1 >= room.top);
    let inside = |r: &Rect| r.0 >= room.left && r.2 <= room.right;
    let spots: Vec<Rect> = [right, left]
        .into_iter()
        .chain(above)
        .filter(inside)
        .collect();
    let meets = |boxes: &[Rect], r: &Rect| boxes.iter().filter(|b| intersects(b, r)).count();
    let covered = |boxes: &[Rect], r: &Rect| boxes.iter().map(|b| overlap(b, r)).sum::<i32>();
    spots
        .iter()
        .min_by_key(|r| (meets(labels, r), meets(marks, r), covered(marks, r)))
        .copied()
        .unwrap_or((x - tw / 2, square.1 - 2 - th, x + tw / 2, square.1 - 2))
}

/// Rows above its square an imaging count may take.
const ROWS_ABOVE: usize = 2;

/// A label of a vertical line to be placed: the line's x, the text's size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineLabel {
    /// The line's x, pixels.
    pub(crate) x: i32,
    /// Text width and height, pixels.
    pub(crate) size: (u32, u32),
}

/// The room the labels may use: x from `left` to `right`, rows from `top`
/// (the first row's top) down to `bottom`, `gap` pixels between a label and
/// its line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabelRoom {
    pub(crate) left: i32,
    pub(crate) right: i32,
    pub(crate) top: i32,
    pub(crate) bottom: i32,
    pub(crate) gap: i32,
}

/// Places labels (in order) right of their line, or left of it where the
/// right side would leave the room, each in the first row from the top
/// where its box meets no box placed before and none of `taken`. Returns
/// each label's box and whether it is left of its line; a label that fits
/// no row (more labels than rows) gets the row meeting the fewest other
/// labels, then the fewest of `taken` (the top one of those), None only if
/// the room has no row at all: a label drawn over a mark or an arrow hides
/// a little of it, one drawn over another label makes both unreadable.
pub(crate) fn place_labels(
    labels: &[LineLabel],
    taken: &[Rect],
    room: LabelRoom,
) -> Vec<Option<(Rect, bool)>> {
    let mut placed: Vec<Rect> = taken.to_vec();
    let mut out: Vec<Option<(Rect, bool)>> = Vec::new();
    for l in labels {
        let (w, h) = (l.size.0 as i32, l.size.1 as i32);
        let flip = l.x + room.gap + w > room.right && l.x - room.gap - w >= room.left;
        let x0 = if flip {
            l.x - room.gap - w
        } else {
            l.x + room.gap
        };
        let row_h = h + 2;
        let rows = ((room.bottom - room.top + 2) / row_h).max(0);
        let at = |r: i32| -> Rect {
            let y0 = room.top + r * row_h;
            (x0, y0, x0 + w, y0 + h - 1)
        };
        let free = (0..rows).find(|&r| !placed.iter().any(|p| intersects(p, &at(r))));
        let chosen = free.map(at).or_else(|| {
            // Crowded: the row meeting the fewest labels, then the fewest marks.
            let meets =
                |boxes: &[Rect], r: i32| boxes.iter().filter(|p| intersects(p, &at(r))).count();
            (0..rows)
                .min_by_key(|&r| (meets(&placed[taken.len()..], r), meets(taken, r)))
                .map(at)
        });
        if let Some(r) = chosen {
            placed.push(r);
        }
        out.push(chosen.map(|r| (r, flip)));
    }
    out
}

/// Labels of the vertical lines (diagnosis with its criteria, resolution,
/// loss to follow-up, new conditions), from `label_y` (data units, the
/// middle of the first row) down, clear of each other and of `taken`.
pub(crate) fn draw_line_labels<DB: DrawingBackend>(
    chart: &Chart2d<'_, DB>,
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    label_y: f64,
    taken: &[Rect],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let label = text(f.opt.text_px(0.85));
    let mut labels = line_labels(t, f.opt.slide_layout());
    labels.retain(|l| shown(f.opt, l.0));
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let xs = chart.plotting_area().get_x_axis_pixel_range();
    let ys = chart.plotting_area().get_y_axis_pixel_range();
    let mut sized = Vec::new();
    for (d, s, _) in &labels {
        let (x, _) = chart.backend_coord(&(d / DAYS_PER_YEAR, label_y));
        sized.push(LineLabel {
            x,
            size: panel.estimate_text_size(s, &label)?,
        });
    }
    let first_h = sized.first().map_or(0, |l| l.size.1 as i32);
    let (_, y_mid) = chart.backend_coord(&(0.0, label_y));
    let room = LabelRoom {
        left: xs.start,
        right: xs.end,
        top: (y_mid - first_h / 2).max(ys.start),
        bottom: ys.end,
        gap: 4,
    };
    let base = panel.get_base_pixel();
    for ((_, s, c), spot) in labels.iter().zip(place_labels(&sized, taken, room)) {
        let Some((r, _)) = spot else { continue };
        // A label that could not keep clear of a story's arrow hides it.
        let crossed = taken.iter().any(|b| intersects(b, &r));
        if f.opt.slide_layout() || crossed {
            // Slide text is large: keep the other lines from running through it.
            panel.draw(&Rectangle::new(
                [
                    (r.0 - base.0 - 2, r.1 - base.1 - (r.3 - r.1) / 4),
                    (r.2 - base.0 + 2, r.3 - base.1),
                ],
                WHITE.mix(if crossed { 1.0 } else { 0.85 }).filled(),
            ))?;
        }
        panel.draw_text(
            s,
            &anchored(label.color(c), HPos::Left, VPos::Top),
            (r.0 - base.0, r.1 - base.1),
        )?;
    }
    Ok(())
}

/// A story's marks laid out in a band above the pain panel's plot: each
/// label's box (panel pixels) and its event's x, and the band's height.
#[derive(Debug, Default)]
pub(crate) struct MarkPlan {
    /// Per mark shown: day, label, box `(x0, y0, x1, y1)` in panel pixels,
    /// and the x of its event in panel pixels.
    marks: Vec<(f64, String, Rect, i32)>,
    /// Height of the band, pixels (0 without marks).
    pub(crate) band: u32,
}

/// Lays out the story's marks shown in the window: in rows above the plot,
/// each right of its event's x, else left of it, else in the next row, so
/// labels never overlap; vertical arrows then run from each label's row
/// down to the pain line.
pub(crate) fn plan_marks<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    f: &Frame,
) -> DrawResult<MarkPlan>
where
    DB::ErrorType: 'static,
{
    let style = bold(f.opt.text_px(0.85));
    let (w, _) = panel.dim_in_pixel();
    // The plot's x range as the frame lays it out (see `Frame::builder`).
    let (x0, x1) = (
        f64::from(f.left),
        f64::from(w) - f64::from(f.right) - f.px * 0.5,
    );
    let (y0, y1) = f.opt.years;
    let to_x = |day: f64| (x0 + (day / DAYS_PER_YEAR - y0) / (y1 - y0) * (x1 - x0)) as i32;
    let mut shown_marks: Vec<&(f64, String)> =
        f.opt.marks.iter().filter(|m| shown(f.opt, m.0)).collect();
    shown_marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let row_h = (f.opt.text_px(0.85) * 1.3) as i32;
    let gap = (f.px * 0.3) as i32;
    let mut placed: Vec<(f64, String, Rect, i32)> = Vec::new();
    let mut rows = 0;
    for (i, (day, label)) in shown_marks.iter().enumerate() {
        let (tw, th) = panel.estimate_text_size(label, &style)?;
        let (tw, th) = (tw as i32, th as i32);
        let x = to_x(*day);
        // The first label ends at its arrow, later ones start at theirs,
        // so two marks close together share a row.
        let sides = if i == 0 {
            [x - gap - tw, x + gap]
        } else {
            [x + gap, x - gap - tw]
        };
        let spot = (0..4)
            .flat_map(|row| sides.map(|left| (row, left)))
            .map(|(row, left)| {
                let y = (f.px * 0.2) as i32 + row * row_h;
                (left, y, left + tw, y + th)
            })
            .find(|r| r.0 >= 0 && r.2 <= w as i32 && !placed.iter().any(|p| intersects(&p.2, r)));
        let Some(r) = spot else { continue };
        rows = rows.max((r.1 - (f.px * 0.2) as i32) / row_h + 1);
        placed.push((*day, label.clone(), r, x));
    }
    Ok(MarkPlan {
        band: if placed.is_empty() {
            0
        } else {
            (rows * row_h) as u32 + (f.px * 0.3) as u32
        },
        marks: placed,
    })
}

/// Draws the planned marks: each label (bold) and a vertical arrow from its
/// row down to the pain line at its day. Returns the boxes the labels and
/// arrows take (backend pixels), for the other labels to keep clear of.
pub(crate) fn draw_marks<DB: DrawingBackend>(
    chart: &Chart2d<'_, DB>,
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    plan: &MarkPlan,
) -> DrawResult<Vec<Rect>>
where
    DB::ErrorType: 'static,
{
    let style = bold(f.opt.text_px(0.85));
    let base = panel.get_base_pixel();
    let mut taken = Vec::new();
    for (day, label, r, _) in &plan.marks {
        let (x, _) = chart.backend_coord(&(day / DAYS_PER_YEAR, 0.0));
        let (_, y) = chart.backend_coord(&(0.0, pain_at(t, *day)));
        let x = x - base.0;
        let from = (x, (r.1 + r.3) / 2);
        let tip = (x, y - base.1 - f.line(2) as i32 - 2);
        draw_arrow(panel, f, from, tip)?;
        panel.draw_text(
            label,
            &anchored(style.clone(), HPos::Left, VPos::Top),
            (r.0, r.1),
        )?;
        // The shaft only: a line label may start right beside it.
        let w = f.line(2) as i32 / 2 + 1;
        taken.push((
            x - w + base.0,
            from.1 + base.1,
            x + w + base.0,
            tip.1 + base.1,
        ));
        taken.push((r.0 + base.0, r.1 + base.1, r.2 + base.0, r.3 + base.1));
    }
    Ok(taken)
}

/// The pain line's height at `day`: the flare's pain during a flare, else 0.
fn pain_at(t: &CourseTrace, day: f64) -> f64 {
    t.flares
        .iter()
        .find(|fl| fl.start_day <= day && day <= fl.end_day)
        .map_or(0.0, |fl| fl.pain)
}

/// An arrow from `from` to `to` (panel pixels): a line and a filled head
/// whose tip is at `to`.
fn draw_arrow<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    f: &Frame,
    from: (i32, i32),
    to: (i32, i32),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let head = f.px * 0.5;
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let len = dx.hypot(dy);
    if len < head * 1.5 {
        return Ok(());
    }
    let (ux, uy) = (dx / len, dy / len);
    let at = |along: f64, across: f64| -> (i32, i32) {
        (
            (f64::from(to.0) - ux * along - uy * across).round() as i32,
            (f64::from(to.1) - uy * along + ux * across).round() as i32,
        )
    };
    let colour = pal::BLACK;
    panel.draw(&PathElement::new(
        vec![from, at(head * 0.8, 0.0)],
        colour.stroke_width(f.line(2)),
    ))?;
    panel.draw(&Polygon::new(
        vec![to, at(head, head * 0.45), at(head, -head * 0.45)],
        colour.filled(),
    ))?;
    Ok(())
}

/// The vertical lines' labels: `(day, text, colour)`.
fn line_labels(t: &CourseTrace, short: bool) -> Vec<(f64, String, RGBColor)> {
    let mut labels: Vec<(f64, String, RGBColor)> = Vec::new();
    if let Some(d) = t.diagnosis.filter(|_| short) {
        let s = super::slide::diagnosis_label(d.jansson, d.bristol_1);
        labels.push((d.day, s, pal::BLACK));
    } else if let Some(d) = &t.diagnosis {
        labels.push((
            d.day,
            format!(
                "diagnosis: Jansson {}{}, Bristol 1 {}",
                d.jansson,
                if d.jansson >= crate::model::criteria::JANSSON_THRESHOLD {
                    " (≥39)"
                } else {
                    ""
                },
                if d.bristol_1 { "met" } else { "not met" }
            ),
            pal::BLACK,
        ));
    }
    if let Some(d) = t.resolution_day {
        labels.push((d, "resolved".into(), pal::BLUISH_GREEN));
    }
    if let Some(d) = t.lost_day {
        labels.push((d, "lost to follow-up".into(), RGBColor(0x55, 0x55, 0x55)));
    }
    for (d, c) in &t.condition_onsets {
        labels.push((*d, format!("{} starts", c.words()), pal::REDDISH_PURPLE));
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> LabelRoom {
        LabelRoom {
            left: 100,
            right: 1500,
            top: 50,
            bottom: 400,
            gap: 4,
        }
    }

    #[test]
    fn labels_never_overlap_each_other_or_the_imaging_marks() {
        // Imaging marks along the bottom, one with "+3" where the diagnosis
        // line is; lines close together and near the right edge.
        let taken: Vec<Rect> = vec![(290, 370, 310, 390), (314, 372, 350, 388)];
        let labels: Vec<LineLabel> = [300, 320, 330, 1480, 1490]
            .iter()
            .map(|&x| LineLabel { x, size: (600, 30) })
            .collect();
        let spots = place_labels(&labels, &taken, room());
        let rects: Vec<Rect> = spots.iter().map(|s| s.unwrap().0).collect();
        for (i, a) in rects.iter().enumerate() {
            for t in &taken {
                assert!(!intersects(a, t), "label {i} {a:?} meets mark {t:?}");
            }
            for (j, b) in rects.iter().enumerate().skip(i + 1) {
                assert!(!intersects(a, b), "labels {i} {a:?} and {j} {b:?} overlap");
            }
            assert!(
                a.0 >= 100 && a.2 <= 1500 && a.1 >= 50 && a.3 <= 400,
                "{a:?}"
            );
        }
        // Near the right edge a label goes left of its line.
        assert!(spots[3].unwrap().1);
        assert!(!spots[0].unwrap().1);
    }

    #[test]
    fn a_crowded_label_crosses_a_mark_rather_than_another_label() {
        // Three rows; an arrow's shaft and a mark in the lower two where
        // the second label goes, the first label in the top one: no row is
        // free, and the top one meets the fewest boxes.
        let room = LabelRoom {
            bottom: 50 + 3 * 32 - 2,
            ..room()
        };
        let taken: Vec<Rect> = vec![(500, 82, 504, 400), (600, 82, 620, 143)];
        let labels = [
            LineLabel {
                x: 300,
                size: (300, 30),
            },
            LineLabel {
                x: 350,
                size: (300, 30),
            },
        ];
        let spots = place_labels(&labels, &taken, room);
        let (a, b) = (spots[0].unwrap().0, spots[1].unwrap().0);
        assert!(!intersects(&a, &b), "{a:?} and {b:?} overlap");
        assert!(intersects(&b, &taken[0]), "{b:?} found a free row");
        assert_eq!(b.1, 50 + 32, "{b:?} is not the top row of the fewest marks");
    }

    #[test]
    fn a_crowded_imaging_count_rises_above_a_mark_over_its_square() {
        // A square with a CRP diamond just left of it, another square right
        // of it and a diamond over its top: right, left and the row just
        // above all meet a mark; the next row up is free.
        let square: Rect = (400, 300, 416, 316);
        let squares: Vec<Rect> = vec![square, (420, 300, 436, 316)];
        let diamonds: Vec<Rect> = vec![(370, 296, 392, 318), (402, 280, 424, 302)];
        let marks: Vec<Rect> = squares.iter().chain(&diamonds).copied().collect();
        let room = CountRoom {
            left: 100,
            right: 1500,
            top: 50,
        };
        let r = place_count(square, (24, 20), room, &[], &marks);
        for m in &marks[1..] {
            assert!(!intersects(&r, m), "{r:?} meets {m:?}");
        }
        assert!(r.3 < square.1, "{r:?} is not above the square");
        assert_eq!(r.3, square.1 - 2 - 22, "{r:?} rose further than needed");
        // With nothing around, right of the square.
        let r = place_count(square, (24, 20), room, &[], &[square]);
        assert_eq!(r.0, square.2 + 3);
        // One mark in each spot: the one covering the least of its mark.
        let marks: Vec<Rect> = vec![
            square,
            (430, 290, 460, 330),
            (360, 300, 398, 330),
            (396, 278, 397, 279),
            (396, 256, 420, 276),
        ];
        let r = place_count(square, (24, 20), room, &[], &marks);
        assert_eq!(r, (396, 278, 420, 298), "not the spot covering least");
        // Boxed in: the spot meeting no other count.
        let room = CountRoom { top: 256, ..room };
        let counts: Vec<Rect> = vec![(419, 298, 443, 318)];
        let wall: Vec<Rect> = vec![(300, 200, 500, 299), (360, 300, 399, 316)];
        let r = place_count(square, (24, 20), room, &counts, &wall);
        assert!(!intersects(&r, &counts[0]), "{r:?} meets another count");
    }

    #[test]
    fn a_label_moves_down_past_a_mark_only_as_far_as_needed() {
        let taken: Vec<Rect> = vec![(300, 50, 320, 70)];
        let one = [LineLabel {
            x: 290,
            size: (100, 20),
        }];
        let (r, _) = place_labels(&one, &taken, room())[0].unwrap();
        assert_eq!(r.1, 50 + 22, "{r:?}");
        let (r, _) = place_labels(&one, &[], room())[0].unwrap();
        assert_eq!(r.1, 50);
    }
}
