//! Charts for teaching: every `--story` finds a patient whose `events.csv`
//! rows tell that story; slide-style text is at least 2.5% of the image
//! height (measured on the PNG: capitals on the cohort plots, the font size
//! on course charts); legends list only what a chart draws; a
//! drug keeps its colour across arms whose ladders differ; the score panel
//! shows the documented activity score.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crmo_sim::engine::cohort::{NoRows, RowSink};
use crmo_sim::output::rows::CsvRows;
use crmo_sim::plot::cohort::{render_cohort_plot_with, render_km_plot, Kind};
use crmo_sim::plot::course::draw::render_course_with;
use crmo_sim::plot::course::{render_course, CourseSim};
use crmo_sim::plot::gallery::gallery_with;
use crmo_sim::plot::palette;
use crmo_sim::plot::Style;
use crmo_sim::scenario::{self, LoadedScenario};
use crmo_sim::study::Study;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crmo() -> Command {
    let mut c = Command::cargo_bin("crmo-sim").unwrap();
    c.current_dir(root());
    c
}

fn loaded(path: &str) -> LoadedScenario {
    scenario::load_file(&root().join(path)).unwrap()
}

fn load(path: &str) -> Study {
    Study::resolve(loaded(path)).unwrap()
}

// ------------------------------------------------------------------ stories

/// One patient's rows of `events.csv` (event, time, and the named columns).
type Rows = Vec<BTreeMap<String, String>>;

/// Runs `l` with `patients` patients through the library with both
/// per-patient files and returns (events of `patient` in the first arm,
/// its `patients.csv` row).
fn patient_rows(mut l: LoadedScenario, patient: u64) -> (Rows, BTreeMap<String, String>) {
    l.scenario.patients = patient + 1;
    let study = Study::resolve(l).unwrap();
    let (names, drugs) = (study.arm_names(), study.drug_names());
    let dir = tempfile::tempdir().unwrap();
    let mut sink = CsvRows::new(
        dir.path(),
        names.clone(),
        drugs.clone(),
        (true, true),
        crmo_sim::scenario::Compression::None,
    )
    .unwrap();
    study.run(&mut sink, &|_| {}).unwrap();
    sink.finish().unwrap();
    let read = |name: &str| -> Rows {
        let mut r = csv::Reader::from_path(dir.path().join(name)).unwrap();
        let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        r.records()
            .map(|x| {
                h.iter()
                    .cloned()
                    .zip(x.unwrap().iter().map(String::from))
                    .collect()
            })
            .filter(|m: &BTreeMap<String, String>| {
                m["arm"] == names[0] && m["patient"] == patient.to_string()
            })
            .collect()
    };
    let p = read("patients.csv").remove(0);
    (read("events.csv"), p)
}

fn times(ev: &Rows, event: &str) -> Vec<f64> {
    ev.iter()
        .filter(|r| r["event"] == event)
        .map(|r| r["time_days"].parse().unwrap())
        .collect()
}

/// The story, checked from the patient's CSV rows alone.
fn tells(story: &str, ev: &Rows, p: &BTreeMap<String, String>, ladder: usize) -> bool {
    let starts = times(ev, "flare_start");
    let ends = times(ev, "flare_end");
    let lost = !times(ev, "lost_to_follow_up").is_empty();
    let in_flare_at_end = starts.len() > ends.len();
    let burnt_out = !times(ev, "burnout").is_empty();
    let with = |event: &str, col: &str, value: &str| -> Vec<f64> {
        ev.iter()
            .filter(|r| r["event"] == event && r[col] == value)
            .map(|r| r["time_days"].parse().unwrap())
            .collect()
    };
    match story {
        "monophasic" => starts.len() == 1 && !in_flare_at_end && !lost,
        "relapsing" => {
            starts.len() >= 2 && !in_flare_at_end && !lost && (burnt_out || starts.len() < 6)
        }
        "persistent" => in_flare_at_end || (starts.len() >= 6 && !burnt_out),
        "relapse-after-taper" => with("drug_stop", "reason", "taper")
            .iter()
            .any(|&t| starts.iter().any(|&s| s > t)),
        "top-of-ladder" => !with("drug_start", "step", &ladder.to_string()).is_empty(),
        "adverse-event" => !with("drug_stop", "reason", "adverse_event").is_empty(),
        "fracture" => !times(ev, "vertebral_fracture").is_empty(),
        "silent-lesions" => ev
            .iter()
            .filter(|r| r["event"] == "lesion_new" && r["symptomatic"] == "false")
            .any(|r| {
                ev.iter()
                    .any(|s| s["event"] == "lesion_seen" && s["lesion"] == r["lesion"])
            }),
        "late-diagnosis" => times(ev, "diagnosis").iter().any(|&d| d > 2.0 * 365.25),
        "majeed" => p["genotype"] == "majeed",
        _ => panic!("unknown story {story}"),
    }
}

#[test]
fn every_story_finds_a_patient_whose_events_tell_it() {
    let dir = tempfile::tempdir().unwrap();
    let stories = [
        "monophasic",
        "relapsing",
        "persistent",
        "relapse-after-taper",
        "top-of-ladder",
        "adverse-event",
        "fracture",
        "silent-lesions",
        "late-diagnosis",
        "majeed",
    ];
    for story in stories {
        let file = if story == "majeed" {
            "scenarios/majeed.toml"
        } else {
            "scenarios/reference.toml"
        };
        let out = dir.path().join(format!("{story}.png"));
        let o = crmo()
            .args(["course", file, "--story", story, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{story}: {o:?}");
        // "patient N (replicate 0, arm A) tells the story S: why"
        let line = stdout.lines().next().unwrap();
        assert!(
            line.contains(&format!("tells the story {story}: ")),
            "{line}"
        );
        let patient: u64 = line
            .strip_prefix("patient ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{story}: no patient number in {line:?}"));
        assert!(out.exists());
        let ladder = CourseSim::new(&load(file), None, 0).unwrap().ladder_len();
        let (ev, p) = patient_rows(loaded(file), patient);
        assert!(
            tells(story, &ev, &p, ladder),
            "{story}: patient {patient}'s events do not tell it ({line})"
        );
        println!("{line}");
    }
}

#[test]
fn stories_fail_clearly() {
    let o = crmo()
        .args(["course", "--story", "happy-ending"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for s in [
        "monophasic",
        "relapse-after-taper",
        "late-diagnosis",
        "majeed",
    ] {
        assert!(err.contains(s), "{err}");
    }
    // Patient 0 of the reference is diagnosed after 7 months: no late diagnosis.
    let dir = tempfile::tempdir().unwrap();
    let o = crmo()
        .args([
            "course",
            "--story",
            "late-diagnosis",
            "--patients",
            "1",
            "--out",
        ])
        .arg(dir.path().join("x.png"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no patient"));
    assert!(!dir.path().join("x.png").exists());
}

// ---------------------------------------------------------------- text size

/// Heights of the text lines of a chart: the pixels where the full PNG and
/// the PNG drawn without text differ are grouped into glyphs (connected
/// components) and glyphs into lines (overlapping rows, close columns).
fn text_line_heights(full: &Path, bare: &Path) -> Vec<u32> {
    let a = image::open(full).unwrap().to_rgb8();
    let b = image::open(bare).unwrap().to_rgb8();
    let (w, h) = a.dimensions();
    let differs = |x: u32, y: u32| {
        let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
        (0..3).any(|i| p[i].abs_diff(q[i]) > 40)
    };
    let mut seen = vec![false; (w * h) as usize];
    // Glyph boxes (x0, y0, x1, y1).
    let mut glyphs: Vec<(u32, u32, u32, u32)> = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if seen[(y * w + x) as usize] || !differs(x, y) {
                continue;
            }
            let mut stack = vec![(x, y)];
            seen[(y * w + x) as usize] = true;
            let mut bb = (x, y, x, y);
            while let Some((cx, cy)) = stack.pop() {
                bb = (bb.0.min(cx), bb.1.min(cy), bb.2.max(cx), bb.3.max(cy));
                for (dx, dy) in [
                    (-1i32, 0i32),
                    (1, 0),
                    (0, -1),
                    (0, 1),
                    (1, 1),
                    (-1, -1),
                    (1, -1),
                    (-1, 1),
                ] {
                    let (nx, ny) = (cx as i32 + dx, cy as i32 + dy);
                    if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                        continue;
                    }
                    let (nx, ny) = (nx as u32, ny as u32);
                    if !seen[(ny * w + nx) as usize] && differs(nx, ny) {
                        seen[(ny * w + nx) as usize] = true;
                        stack.push((nx, ny));
                    }
                }
            }
            // Rotated names (panels at the left edge, the CRP axis at the
            // right) are measured across, so leave them out.
            if f64::from(bb.2) > 0.03 * f64::from(w) && f64::from(bb.0) < 0.97 * f64::from(w) {
                glyphs.push(bb);
            }
        }
    }
    // Merge glyphs into lines: boxes that overlap vertically and lie within
    // a glyph height of each other horizontally, and pieces of one glyph
    // cut by a chart line it crosses (stacked within 3 pixels).
    let lines = merge_boxes(glyphs);
    // Ignore specks (a dot or a dash on its own, anti-aliasing fringes):
    // under 0.4% of the height, a third of the smallest paper text.
    lines
        .iter()
        .map(|l| l.3 - l.1 + 1)
        .filter(|&hgt| f64::from(hgt) > 0.004 * f64::from(h))
        .collect()
}

/// Merges boxes `(x0, y0, x1, y1)` until no two belong together.
fn merge_boxes(mut boxes: Vec<(u32, u32, u32, u32)>) -> Vec<(u32, u32, u32, u32)> {
    let together = |a: &(u32, u32, u32, u32), b: &(u32, u32, u32, u32)| {
        let v_overlap = a.3.min(b.3) as i64 - a.1.max(b.1) as i64;
        let h_overlap = a.2.min(b.2) as i64 - a.0.max(b.0) as i64;
        let height = (a.3 - a.1).max(b.3 - b.1) as i64 + 1;
        (v_overlap >= 0 && h_overlap > -height) || (h_overlap >= 0 && v_overlap >= -3)
    };
    loop {
        let mut merged = false;
        let mut out: Vec<(u32, u32, u32, u32)> = Vec::new();
        for b in boxes {
            match out.iter_mut().find(|o| together(o, &b)) {
                Some(o) => {
                    *o = (o.0.min(b.0), o.1.min(b.1), o.2.max(b.2), o.3.max(b.3));
                    merged = true;
                }
                None => out.push(b),
            }
        }
        boxes = out;
        if !merged {
            return boxes;
        }
    }
}

/// The lowest text line of a chart drawn by `draw(path, with_text)` at
/// `size`, as a share of the image height, and the number of lines found.
fn lowest_line(size: (u32, u32), draw: impl Fn(&Path, bool)) -> (f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let (full, bare) = (dir.path().join("full.png"), dir.path().join("bare.png"));
    draw(&full, true);
    draw(&bare, false);
    let heights = text_line_heights(&full, &bare);
    let min = *heights.iter().min().unwrap();
    (f64::from(min) / f64::from(size.1), heights.len())
}

fn course_lowest_line(style: Style) -> (f64, usize) {
    let l = load("scenarios/reference.toml");
    let sim = CourseSim::new(&l, None, 0).unwrap();
    let t = sim.trace(60).unwrap();
    let size = style.size();
    lowest_line(size, |path, with_text| {
        render_course_with(&t, path, size, style, None, with_text).unwrap()
    })
}

/// A course chart on slides (patient 60 of the reference scenario: many
/// flares, lesions and drugs) has the capitals and digits of its smallest
/// text at least 2.5% of the image height, measured as ink on the PNG; on
/// paper its text is smaller, so the measurement can fail.
#[test]
fn slide_course_chart_capitals_are_at_least_two_and_a_half_percent_of_the_height() {
    let (slide, lines) = course_lowest_line(Style::Slide);
    println!(
        "course chart, slide: {lines} text lines, the lowest {:.2}% of the height",
        100.0 * slide
    );
    assert!(lines > 25, "only {lines} text lines found");
    assert!(
        slide >= 0.025,
        "the lowest text line is {:.2}% of the height, under 2.5%",
        100.0 * slide
    );
    let (paper, _) = course_lowest_line(Style::Paper);
    println!(
        "course chart, paper: the lowest text line {:.2}% of the height",
        100.0 * paper
    );
    assert!(paper < 0.025);
}

/// The lowest text line of each cohort plot of a small two-arm run.
fn cohort_lowest_lines(style: Style) -> Vec<(Kind, f64, usize)> {
    let mut l = loaded("scenarios/early-bisphosphonate.toml");
    l.scenario.patients = 300;
    let study = Study::resolve(l).unwrap();
    let res = study.run(&mut NoRows, &|_| {}).unwrap();
    let drugs = study.drug_names();
    let size = style.size();
    Kind::ALL
        .into_iter()
        .map(|kind| {
            let (share, lines) = lowest_line(size, |path, with_text| {
                render_cohort_plot_with(&res, &drugs, "test", kind, path, size, style, with_text)
                    .unwrap()
            });
            (kind, share, lines)
        })
        .collect()
}

/// On every cohort plot in the slide style (Kaplan–Meier with its numbers
/// at risk, occupancy, states by arm, flares, drug exposure, pain) the
/// smallest text has capitals and digits at least 2.5% of the image height,
/// measured as ink on the PNG; on paper it is smaller, so the measurement
/// can fail.
#[test]
fn slide_cohort_plot_capitals_are_at_least_two_and_a_half_percent_of_the_height() {
    for (kind, slide, lines) in cohort_lowest_lines(Style::Slide) {
        println!(
            "{kind:?}, slide: {lines} text lines, the lowest {:.2}% of the height",
            100.0 * slide
        );
        assert!(lines >= 8, "{kind:?}: only {lines} text lines found");
        assert!(
            slide >= 0.025,
            "{kind:?}: the lowest text line is {:.2}% of the height, under 2.5%",
            100.0 * slide
        );
    }
    for (kind, paper, _) in cohort_lowest_lines(Style::Paper) {
        println!(
            "{kind:?}, paper: the lowest text line {:.2}% of the height",
            100.0 * paper
        );
        assert!(paper < 0.025, "{kind:?}");
    }
}

// ------------------------------------------------------ plot area on slides

/// A study of `arms` arms (distinct ladders, 1,500 patients) for the
/// cohort plots.
fn arms_study(arms: usize) -> Study {
    let ladders = [
        r#"["nsaid", "pamidronate", "tnf_inhibitor"]"#,
        r#"["pamidronate", "tnf_inhibitor"]"#,
        r#"["methotrexate", "tnf_inhibitor"]"#,
        r#"["tnf_inhibitor"]"#,
        r#"["nsaid", "methotrexate"]"#,
        r#"["nsaid", "zoledronate"]"#,
        r#"["sulfasalazine", "tnf_inhibitor"]"#,
        r#"["glucocorticoid", "methotrexate"]"#,
    ];
    let mut toml = String::from("name = \"arms\"\nseed = 3\npatients = 1500\nhorizon_years = 8\n");
    for (i, ladder) in ladders.iter().take(arms).enumerate() {
        toml += &format!(
            "\n[[arm]]\nname = \"strategy-number-{i}\"\nladder = {ladder}\nmin_weeks_on_step = 26\n"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arms.toml");
    std::fs::write(&path, toml).unwrap();
    Study::resolve(scenario::load_file(&path).unwrap()).unwrap()
}

/// The height of a chart's plot frame on a PNG, pixels: the longest
/// vertical run of black pixels, which is the y axis (curves are coloured,
/// text and ticks are short).
fn frame_height(png: &Path) -> u32 {
    let img = image::open(png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let mut best = 0;
    for x in 0..w {
        let mut run = 0;
        for y in 0..h {
            if img.get_pixel(x, y).0.iter().all(|&c| c < 60) {
                run += 1;
                best = best.max(run);
            } else {
                run = 0;
            }
        }
    }
    best
}

/// On slides the Kaplan–Meier plot keeps at least half the image height
/// for its plot area with 1, 4 and 8 arms, with and without the numbers
/// at risk (measured on the PNG: the y axis's length). Before the table
/// went beside the plot, 4 arms left about 60 px of 1080.
#[test]
fn slide_km_plot_area_is_at_least_half_the_height() {
    let dir = tempfile::tempdir().unwrap();
    for arms in [1, 4, 8] {
        let study = arms_study(arms);
        let res = study.run(&mut NoRows, &|_| {}).unwrap();
        for at_risk in [true, false] {
            let png = dir.path().join(format!("km-{arms}-{at_risk}.png"));
            let size = Style::Slide.size();
            render_km_plot(&res, "arms", &png, size, Style::Slide, at_risk).unwrap();
            let plot = frame_height(&png);
            println!(
                "{arms} arms, at risk {at_risk}: plot area {plot} px of {}",
                size.1
            );
            assert!(
                2 * plot >= size.1,
                "{arms} arms, at risk {at_risk}: plot area {plot} px of {}",
                size.1
            );
        }
    }
}

// ------------------------------------------------------------ legends, colours

fn svg_of(l: &Study, arm: Option<&str>, patient: u64) -> String {
    let sim = CourseSim::new(l, arm, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.svg");
    render_course(
        &sim.trace(patient).unwrap(),
        &path,
        (1600, 900),
        Style::Paper,
        None,
    )
    .unwrap();
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_legend_lists_only_what_the_chart_draws() {
    let l = load("scenarios/reference.toml");
    let sim = CourseSim::new(&l, None, 0).unwrap();
    // A patient without fracture or adverse event, and one with a fracture.
    let (mut plain, mut broken) = (None, None);
    for p in 0..400 {
        let t = sim.trace(p).unwrap();
        let ae = t
            .drug_spans
            .iter()
            .any(|s| s.stop == Some(crmo_sim::engine::patient::StopReason::AdverseEvent));
        if t.fractures.is_empty() && !ae && plain.is_none() {
            plain = Some(p);
        }
        if !t.fractures.is_empty() && broken.is_none() {
            broken = Some(p);
        }
    }
    let plain = svg_of(&l, None, plain.unwrap());
    assert!(
        !plain.contains("vertebral fracture"),
        "legend lists a fracture not drawn"
    );
    assert!(!plain.contains("adverse event"));
    assert!(svg_of(&l, None, broken.unwrap()).contains("vertebral fracture"));
    // An untreated arm: no drug marks in the legend.
    let nh = load("scenarios/natural-history.toml");
    let svg = svg_of(&nh, None, 0);
    for drug_mark in ["escalation", "taper", "drug acts", "effect window"] {
        assert!(!svg.contains(drug_mark), "untreated legend has {drug_mark}");
    }
    assert!(svg.contains("pain (VAS: visual analogue scale, 0-10)"));
}

/// The activity score is drawn on slides too: over the pain panel, with its
/// legend entry; a course without flares in the window shows neither.
#[test]
fn slide_course_charts_draw_the_activity_score() {
    let l = load("scenarios/reference.toml");
    let sim = CourseSim::new(&l, None, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let violet = plotters::style::RGBColor(0x5E, 0x3C, 0x99);
    let draw = |years: Option<(f64, f64)>, name: &str| {
        let t = sim.trace(27).unwrap();
        let png = dir.path().join(format!("{name}.png"));
        render_course(&t, &png, (1920, 1080), Style::Slide, years).unwrap();
        let svg = dir.path().join(format!("{name}.svg"));
        render_course(&t, &svg, (1920, 1080), Style::Slide, years).unwrap();
        let svg = std::fs::read_to_string(svg).unwrap();
        let legend = svg.lines().any(|l| l.trim() == "activity");
        (pixels_of(&png, violet), legend)
    };
    let (ink, legend) = draw(None, "whole");
    assert!(ink > 500, "{ink} score pixels");
    assert!(legend, "no activity legend entry");
    // Patient 27 resolves in year 0.9: nothing to score after year 7.
    let (ink, legend) = draw(Some((7.0, 10.0)), "late");
    assert_eq!(ink, 0);
    assert!(!legend, "activity in the legend of a window without flares");
}

/// Pixels of exactly colour `c` in a PNG.
fn pixels_of(path: &Path, c: plotters::style::RGBColor) -> usize {
    image::open(path)
        .unwrap()
        .to_rgb8()
        .pixels()
        .filter(|p| p.0 == [c.0, c.1, c.2])
        .count()
}

#[test]
fn a_drug_keeps_its_colour_in_arms_whose_ladders_differ() {
    let l = load("scenarios/early-bisphosphonate.toml");
    // First arm: nsaid, pamidronate, tnf_inhibitor; second: pamidronate, tnf_inhibitor.
    let first = CourseSim::new(&l, Some("nsaid-first"), 0).unwrap();
    let second = CourseSim::new(&l, Some("pamidronate-first"), 0).unwrap();
    let gets = |sim: &CourseSim, p: u64| {
        sim.trace(p)
            .unwrap()
            .drug_spans
            .iter()
            .any(|s| s.name == "pamidronate")
    };
    let p = (0..500)
        .find(|&p| gets(&first, p) && gets(&second, p))
        .expect("a patient given pamidronate in both arms");
    let dir = tempfile::tempdir().unwrap();
    let pam = palette::drug("pamidronate");
    let nsaid = palette::drug("nsaid");
    for (name, sim) in [("a.png", &first), ("b.png", &second)] {
        let path = dir.path().join(name);
        render_course(
            &sim.trace(p).unwrap(),
            &path,
            (1600, 900),
            Style::Paper,
            None,
        )
        .unwrap();
        assert!(pixels_of(&path, pam) > 30, "{name}: no pamidronate colour");
    }
    // Position 1 of the second ladder is pamidronate, not the first ladder's
    // position-1 drug: the NSAID colour appears only where the NSAID is given.
    assert_eq!(pixels_of(&dir.path().join("b.png"), nsaid), 0);
    for (n, c) in palette::DRUGS {
        for lesion in [palette::LYTIC, palette::MIXED, palette::SCLEROTIC] {
            assert_ne!(c, lesion, "{n} shares a lesion colour");
        }
    }
}

// ------------------------------------------------------------ activity score

/// The score panel draws the model's disease activity score: for every
/// flare, the documented formula (0.5 × pain, plus 1.5 if febrile, plus 1
/// if CRP is at least 10 mg/l, plus 0.5 per painful active lesion up to 4,
/// capped at 10) worked out here from the flare and the lesions of the
/// trace, and 0 between flares.
#[test]
fn the_score_panel_shows_the_documented_activity_score() {
    let l = load("scenarios/reference.toml");
    let sim = CourseSim::new(&l, None, 0).unwrap();
    let (mut flares, mut exact) = (0, 0);
    for p in 0..150 {
        let t = sim.trace(p).unwrap();
        for s in &t.activity {
            assert!(
                t.flares
                    .iter()
                    .any(|f| f.start_day <= s.start_day && s.end_day <= f.end_day + 1e-9),
                "patient {p}: a score outside any flare at day {}",
                s.start_day
            );
        }
        for f in t.flares.iter().filter(|f| f.end_day > f.start_day) {
            flares += 1;
            let d = f.start_day;
            let painful = t
                .lesions
                .iter()
                .filter(|l| l.symptomatic && l.active.iter().any(|&(a, b)| a <= d && d < b))
                .count()
                .min(4) as f64;
            let base = 0.5 * f.pain
                + if f.fever { 1.5 } else { 0.0 }
                + if f.crp_mg_l >= 10.0 { 1.0 } else { 0.0 };
            let expected = (base + 0.5 * painful).min(10.0);
            let shown = t
                .activity
                .iter()
                .find(|s| s.start_day >= d && s.start_day < f.end_day)
                .unwrap_or_else(|| panic!("patient {p}: no score for the flare at day {d}"));
            assert!(
                shown.score >= base.min(10.0) - 1e-9
                    && shown.score <= (base + 2.0).min(10.0) + 1e-9,
                "patient {p}, flare at day {d}: score {} outside [{base}, {base} + 2]",
                shown.score
            );
            if (shown.score - expected).abs() < 1e-9 {
                exact += 1;
            } else {
                println!(
                    "patient {p}, flare at day {d}: {} against {expected}",
                    shown.score
                );
            }
        }
    }
    assert!(flares > 300, "only {flares} flares");
    assert_eq!(exact, flares, "flares whose score is not the formula's");
}

fn gallery_lowest_line(style: Style) -> (f64, usize) {
    let l = load("scenarios/reference.toml");
    let sim = CourseSim::new(&l, None, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe.png");
    let count = if style == Style::Slide { 3 } else { 6 };
    gallery_with(&sim, "reference", count, &probe, style, None, true).unwrap();
    let size = image::image_dimensions(&probe).unwrap();
    lowest_line(size, |path, with_text| {
        gallery_with(&sim, "reference", count, path, style, None, with_text).unwrap()
    })
}

/// A slide gallery (three compact panels of the reference scenario, one of
/// each course class) has the capitals and digits of its smallest text at
/// least 2.5% of the image height, measured as ink on the PNG; the paper
/// gallery's text is smaller, so the measurement can fail.
#[test]
fn slide_gallery_capitals_are_at_least_two_and_a_half_percent_of_the_height() {
    let (slide, lines) = gallery_lowest_line(Style::Slide);
    println!(
        "gallery, slide: {lines} text lines, the lowest {:.2}% of the height",
        100.0 * slide
    );
    assert!(lines > 20, "only {lines} text lines found");
    assert!(
        slide >= 0.025,
        "the lowest text line is {:.2}% of the height, under 2.5%",
        100.0 * slide
    );
    let (paper, _) = gallery_lowest_line(Style::Paper);
    println!(
        "gallery, paper: the lowest text line {:.2}% of the height",
        100.0 * paper
    );
    assert!(paper < 0.025);
}

/// A slide gallery holds one row of at most three courses: `--count 4`
/// with `--style slide` is a usage error (exit 2) and writes nothing.
#[test]
fn slide_gallery_of_more_than_three_courses_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.png");
    let o = crmo()
        .args(["gallery", "--style", "slide", "--count", "4", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in ["at most 3 courses", "--count 3", "--style paper"] {
        assert!(err.contains(want), "{err}");
    }
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
