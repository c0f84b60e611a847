//! The legend of a course chart: only the marks the chart draws inside its
//! time window (flares, fever, CRP, imaging, lesion stages, drugs, events).

use super::bars::drug_rows;
use super::frame::{overlaps, scored_in_window, shown, CourseOptions};
use super::CourseTrace;
use crate::engine::model_values::DAYS_PER_YEAR;
use crate::engine::patient::StopReason;
use crate::model::Stage;
use crate::plot::palette as pal;
use crate::plot::Swatch;

/// The legend entries of a course chart: only marks the chart draws in its window.
pub(crate) fn course_legend(t: &CourseTrace, opt: &CourseOptions) -> Vec<(Swatch, String)> {
    course_legend_of(t, opt, &vec![true; t.lesions.len()])
}

/// [`course_legend`] when only the lesions marked in `drawn` are drawn
/// (slides leave out the lesion rows that do not fit).
pub(crate) fn course_legend_of(
    t: &CourseTrace,
    opt: &CourseOptions,
    drawn: &[bool],
) -> Vec<(Swatch, String)> {
    let drawn = |i: usize| drawn.get(i).copied().unwrap_or(false);
    let lw = opt.style.line(2);
    let flares: Vec<_> = t
        .flares
        .iter()
        .filter(|f| overlaps(opt, f.start_day, f.end_day))
        .collect();
    let mut v = vec![(
        Swatch::Line(pal::BLACK, lw),
        "pain (VAS: visual analogue scale, 0-10)".to_string(),
    )];
    let mut add = |on: bool, swatch: Swatch, label: &str| {
        if on {
            v.push((swatch, label.to_string()));
        }
    };
    add(!flares.is_empty(), Swatch::Box(pal::ACTIVE, 0.25), "flare");
    add(
        flares.iter().any(|f| f.fever),
        Swatch::Triangle(pal::ORANGE),
        "fever",
    );
    // Compact panels draw no score, CRP, imaging or lesions.
    let full = !opt.compact;
    add(
        full && if opt.slide_layout() {
            scored_in_window(t, opt)
        } else {
            !t.activity.is_empty()
        },
        Swatch::Line(super::score::SCORE, lw),
        "disease activity score (0-10)",
    );
    add(
        full && !flares.is_empty(),
        Swatch::Diamond(pal::REDDISH_PURPLE),
        "CRP: C-reactive protein (mg/l, right axis)",
    );
    add(
        full && t.imaging.iter().any(|m| shown(opt, m.day)),
        Swatch::Hollow(pal::BLACK),
        if t.imaging.iter().any(|m| shown(opt, m.day) && m.found > 0) {
            "imaging (+n: lesions found)"
        } else {
            "imaging"
        },
    );
    let stages = if full {
        stages_shown(t, opt, drawn)
    } else {
        Vec::new()
    };
    let all_stages = [
        (Stage::Lytic, pal::LYTIC, "lytic lesion"),
        (Stage::Mixed, pal::MIXED, "mixed lytic/sclerotic"),
        (Stage::Sclerotic, pal::SCLEROTIC, "sclerotic"),
    ];
    if opt.slide_layout() && stages.len() >= 2 {
        // Slides name the stages in one entry, darkest first, to save a row.
        let shown: Vec<_> = all_stages
            .iter()
            .filter(|s| stages.contains(&s.0))
            .collect();
        let colour = |i: usize| shown[i.min(shown.len() - 1)].1;
        let words = [
            ("lytic lesion", "lytic"),
            ("mixed lytic/sclerotic", "mixed"),
        ];
        let label: Vec<&str> = shown
            .iter()
            .map(|s| words.iter().find(|w| w.0 == s.2).map_or(s.2, |w| w.1))
            .collect();
        add(
            true,
            Swatch::Stages([colour(0), colour(1), colour(2)]),
            &label.join(", "),
        );
    } else {
        for (stage, colour, label) in all_stages {
            add(stages.contains(&stage), Swatch::Box(colour, 0.95), label);
        }
    }
    add(
        full && t.lesions.iter().enumerate().any(|(i, l)| {
            drawn(i) && !l.symptomatic && l.active.iter().any(|p| overlaps(opt, p.0, p.1))
        }),
        Swatch::Hollow(pal::LYTIC),
        "silent lesion (pale)",
    );
    add(
        full && t
            .fractures
            .iter()
            .any(|f| drawn(f.lesion as usize) && shown(opt, f.day)),
        Swatch::Cross(pal::VERMILLION),
        "vertebral fracture",
    );
    // Slides label these lines on the chart itself (with the
    // diagnosis's criteria), so the legend need not repeat them.
    let labelled = opt.slide_layout();
    add(
        !labelled && t.diagnosis_day.is_some_and(|d| shown(opt, d)),
        Swatch::Dashed(pal::BLACK, lw),
        "diagnosis",
    );
    add(
        !labelled && t.resolution_day.is_some_and(|d| shown(opt, d)),
        Swatch::Dashed(pal::BLUISH_GREEN, lw),
        "resolved",
    );
    add(
        !labelled && t.lost_day.is_some_and(|d| d / DAYS_PER_YEAR <= opt.years.1),
        Swatch::Box(pal::LOST, 0.3),
        "lost to follow-up",
    );
    let effects: Vec<_> = t
        .drug_effects
        .iter()
        .filter(|e| shown(opt, e.day))
        .collect();
    add(
        effects.iter().any(|e| e.responder),
        Swatch::Dot(pal::BLACK),
        "drug acts (responder)",
    );
    add(
        effects.iter().any(|e| !e.responder),
        Swatch::Ring(pal::BLACK),
        "drug acts (non-responder)",
    );
    // The swatch is the pale bar as drawn: the colour of the (first) drug
    // given in courses.
    if let Some(c) = t.drug_courses.iter().find(|c| shown(opt, c.day)) {
        let name = t
            .drug_spans
            .iter()
            .find(|s| s.drug == c.drug)
            .map_or("", |s| s.name.as_str());
        add(
            true,
            Swatch::Box(pal::drug(name), 0.3),
            "effect window of a course (pale)",
        );
    }
    let stopped = |r: StopReason| {
        t.drug_spans
            .iter()
            .any(|s| s.stop == Some(r) && shown(opt, s.end_day))
    };
    add(
        stopped(StopReason::Escalation),
        Swatch::RightTriangle(pal::BLACK),
        "escalation",
    );
    add(
        stopped(StopReason::Taper),
        Swatch::DownTriangle(pal::BLACK),
        "taper",
    );
    add(
        stopped(StopReason::AdverseEvent),
        Swatch::Square(pal::VERMILLION),
        "adverse event",
    );
    if opt.compact {
        // Compact panels have no drug row labels: the legend names the colours.
        for (_, name) in drug_rows(t) {
            let label = if opt.style == crate::plot::Style::Slide {
                super::slide::short_drug_name(&name)
            } else {
                name.clone()
            };
            v.push((Swatch::Box(pal::drug(&name), 0.9), label));
        }
    }
    if opt.slide_layout() || opt.slide_compact() {
        for e in &mut v {
            e.1 = super::slide::short_legend_label(&e.1);
        }
    }
    v
}

/// The imaging stages of the lesion periods the window shows.
fn stages_shown(t: &CourseTrace, opt: &CourseOptions, drawn: impl Fn(usize) -> bool) -> Vec<Stage> {
    let mut v = Vec::new();
    for (_, l) in t.lesions.iter().enumerate().filter(|(i, _)| drawn(*i)) {
        for (a, b, stage) in super::bars::stage_periods(l) {
            if overlaps(opt, a, b) && !v.contains(&stage) {
                v.push(stage);
            }
        }
    }
    v
}
