//! Plot tests: every chart kind rendered to PNG and SVG in a temporary
//! directory (PNG decodes, has the requested size and is not blank; SVG holds
//! the axis titles and legend entries), and the course chart's data checked
//! against the patient's rows in `events.csv`.

use std::collections::BTreeMap;
use std::path::Path;

use crmo_sim::engine::cohort::{NoRows, RowSink};
use crmo_sim::output::rows::CsvRows;
use crmo_sim::output::tables::timeseries_csv;
use crmo_sim::plot::cohort::{cohort_plots, render_cohort_plot, Kind};
use crmo_sim::plot::course::{course_trace, render_course, CourseSim, CourseTrace};
use crmo_sim::plot::gallery::{gallery, pick_courses, CourseShape};
use crmo_sim::plot::Style;
use crmo_sim::results::CohortResult;
use crmo_sim::scenario::{self, LoadedScenario};
use crmo_sim::study::Study;
use crmo_sim::Error;

/// Patients per replicate in the small test cohorts.
const SMALL_COHORT: u64 = 2000;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn reference(patients: u64) -> LoadedScenario {
    let mut l = scenario::reference();
    l.scenario.patients = patients;
    l
}

fn load(path: &str, patients: u64) -> LoadedScenario {
    let mut l = scenario::load_file(&repo(path)).expect("bundled scenario is valid");
    l.scenario.patients = patients;
    l
}

fn cohort(l: &LoadedScenario) -> (CohortResult, Vec<String>) {
    let study = Study::resolve(l.clone()).unwrap();
    let res = study.run(&mut NoRows, &|_| {}).unwrap();
    (res, study.drug_names())
}

/// Decodes a PNG and checks its size and that it is not blank: the grey-level
/// variance must exceed 100 (a white image has 0; our charts have well over 1000)
/// and at least 2% of pixels must be non-white.
fn check_png(path: &Path, width: u32, height: u32) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
        .to_luma8();
    assert_eq!(img.dimensions(), (width, height), "{}", path.display());
    let n = f64::from(width * height);
    let mean = img.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / n;
    let var = img
        .pixels()
        .map(|p| (f64::from(p.0[0]) - mean).powi(2))
        .sum::<f64>()
        / n;
    let inked = img.pixels().filter(|p| p.0[0] < 250).count() as f64 / n;
    println!("{}: variance {var:.0}, inked {inked:.3}", path.display());
    assert!(
        var > 100.0,
        "{} looks blank (variance {var})",
        path.display()
    );
    assert!(
        inked > 0.02,
        "{} looks blank ({inked} inked)",
        path.display()
    );
}

/// Checks that an SVG file holds each of `texts`.
fn check_svg(path: &Path, texts: &[&str]) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.starts_with("<svg"), "{} is not SVG", path.display());
    for t in texts {
        assert!(svg.contains(t), "{} lacks {t:?}", path.display());
    }
}

#[test]
fn course_chart_png_and_svg() {
    let l = reference(SMALL_COHORT);
    let dir = tempfile::tempdir().unwrap();
    // A patient who was diagnosed and treated, so every panel has content.
    let trace = (0..200)
        .map(|p| course_trace(&Study::resolve(l.clone()).unwrap(), None, p).unwrap())
        .find(|t| t.diagnosis_day.is_some() && !t.drug_spans.is_empty() && t.flares.len() > 1)
        .expect("a treated patient among the first 200");
    for (w, h) in [(1600, 900), (800, 450)] {
        let png = dir.path().join(format!("course_{w}.png"));
        render_course(&trace, &png, (w, h), Style::Paper, None).unwrap();
        check_png(&png, w, h);
    }
    let svg = dir.path().join("course.svg");
    render_course(&trace, &svg, (1600, 900), Style::Paper, None).unwrap();
    let mut expected = vec![
        "years since onset",
        "age ",
        "pain (VAS: visual analogue scale, 0-10)",
        "CRP: C-reactive protein",
        "score",
        "disease activity score (0-10)",
        "lesions",
        "drugs",
        "flare",
        "lytic lesion",
        "diagnosis: Jansson",
        "CRP (mg/l)",
        "imaging (+n: lesions found)",
        "font-family=\"DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif\"",
    ];
    let title = format!("Patient {}:", trace.patient);
    expected.push(&title);
    let drug = trace.drug_spans[0].name.clone();
    expected.push(&drug);
    check_svg(&svg, &expected);
}

#[test]
fn course_chart_refuses_bad_input() {
    let l = reference(100);
    let t = course_trace(&Study::resolve(l.clone()).unwrap(), None, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let e = render_course(
        &t,
        &dir.path().join("c.pdf"),
        (1600, 900),
        Style::Paper,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Usage(_)) && e.to_string().contains(".png or .svg"),
        "{e}"
    );
    assert!(!dir.path().join("c.pdf").exists());
    let e =
        render_course(&t, &dir.path().join("c.png"), (10, 900), Style::Paper, None).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    let e = render_course(
        &t,
        &dir.path().join("c.png"),
        (1600, 900),
        Style::Paper,
        Some((0.0, 11.0)),
    )
    .unwrap_err();
    assert!(e.to_string().contains("0 <= A < B <= 10"), "{e}");

    let e = course_trace(&Study::resolve(l.clone()).unwrap(), Some("no-such-arm"), 0).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Usage(_)), "{msg}");
    assert!(
        msg.contains("no-such-arm") && msg.contains("nsaid-pamidronate-tnf"),
        "{msg}"
    );
    let e = course_trace(&Study::resolve(l.clone()).unwrap(), None, 100).unwrap_err();
    assert!(
        matches!(e, Error::Usage(_)) && e.to_string().contains("0 to 99"),
        "{e}"
    );
}

#[test]
fn gallery_png_and_svg() {
    let l = reference(SMALL_COHORT);
    let study = Study::resolve(l.clone()).unwrap();
    let sim = CourseSim::new(&study, None, 0).unwrap();
    let picks = pick_courses(&sim, 4).unwrap();
    assert_eq!(picks.picks.len(), 4);
    // Relapsing first, then persistent, then monophasic get the places.
    let classes: Vec<CourseShape> = picks.picks.iter().map(|p| p.0).collect();
    for c in CourseShape::ALL {
        if picks.class_counts[c as usize] > 0 {
            assert!(classes.contains(&c), "{c:?} missing from {classes:?}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("gallery.png");
    gallery(&study, None, 4, &png, Style::Paper, None).unwrap();
    // Two by two panels 1000 px wide at aspect 1.6, and 9 lines of 15-px header.
    check_png(&png, 2000, 2 * 625 + 9 * 15);
    // --width: the height follows at the same panel aspect (text at least 8 px).
    gallery(&study, None, 4, &png, Style::Paper, Some(1000)).unwrap();
    check_png(&png, 1000, 2 * 312 + 1 + 9 * 8);
    let svg = dir.path().join("gallery.svg");
    gallery(&study, None, 4, &svg, Style::Paper, None).unwrap();
    let labels: Vec<String> = picks
        .picks
        .iter()
        .map(|(c, p)| format!("{}: patient {p}", c.as_str()))
        .collect();
    let mut expected: Vec<&str> = labels.iter().map(String::as_str).collect();
    expected.extend(["years since onset", "age ", "flare", "lytic lesion"]);
    check_svg(&svg, &expected);
    let e = gallery(&study, None, 0, &png, Style::Paper, None).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
}

/// Compact (slide) gallery panels of courses without any drug keep their
/// strip: it carries the time axis and says why no drug was given.
#[test]
fn slide_gallery_panels_without_drugs_keep_their_time_axis() {
    let l = load("scenarios/natural-history.toml", SMALL_COHORT);
    let study = Study::resolve(l).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("gallery.svg");
    gallery(&study, None, 3, &svg, Style::Slide, None).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(text.matches("years since onset").count(), 3);
    assert_eq!(text.matches("untreated arm").count(), 3);
}

#[test]
fn cohort_plots_png_and_svg() {
    let l = load("scenarios/early-bisphosphonate.toml", SMALL_COHORT);
    let (res, drugs) = cohort(&l);
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let files = cohort_plots(&res, &drugs, "early-bisphosphonate", &plots, Style::Paper).unwrap();
    assert_eq!(files.len(), 12);
    for f in &files {
        assert!(f.exists(), "{}", f.display());
        if f.extension().unwrap() == "png" {
            check_png(f, 1600, 900);
        }
    }
    let arms: Vec<&str> = res.arms.iter().map(String::as_str).collect();
    let caption = "early-bisphosphonate · 2,000 patients";
    let svg = |name: &str| plots.join(format!("{name}.svg"));
    let mut occupancy = vec!["years since onset", "share of patients", "active (flare)"];
    occupancy.extend(["remission", "resolved", "lost to follow-up", caption]);
    occupancy.extend(&arms);
    check_svg(&svg("occupancy"), &occupancy);
    let mut states = vec!["active (flare)", "remission", caption];
    states.extend(&arms);
    check_svg(&svg("states_by_arm"), &states);
    let mut km = vec![
        "at risk",
        "months since diagnosis",
        "not yet in remission",
        "95% band",
        caption,
    ];
    km.extend(&arms);
    check_svg(&svg("km_remission"), &km);
    let mut flares = vec!["flares per patient", "share of patients", caption];
    flares.extend(&arms);
    check_svg(&svg("flares"), &flares);
    let mut exposure = vec![
        "years since onset",
        "share on the drug (courses: effect window)",
        caption,
    ];
    exposure.extend(drugs.iter().map(String::as_str));
    exposure.extend(&arms);
    check_svg(&svg("drug_exposure"), &exposure);
    let mut pain = vec![
        "years since onset",
        "mean pain, VAS 0-10",
        "95% confidence band",
    ];
    pain.push(caption);
    pain.extend(&arms);
    check_svg(&svg("mean_pain"), &pain);
}

#[test]
fn cohort_plots_without_treatment_say_so() {
    let l = load("scenarios/natural-history.toml", SMALL_COHORT);
    let (res, drugs) = cohort(&l);
    assert!(drugs.is_empty());
    let dir = tempfile::tempdir().unwrap();
    for ext in ["png", "svg"] {
        let path = dir.path().join(format!("drug_exposure.{ext}"));
        render_cohort_plot(
            &res,
            &drugs,
            "natural-history",
            Kind::Drugs,
            &path,
            (1200, 700),
            Style::Paper,
        )
        .unwrap();
    }
    check_png(&dir.path().join("drug_exposure.png"), 1200, 700);
    check_svg(
        &dir.path().join("drug_exposure.svg"),
        &["no treatment in this scenario", "years since onset"],
    );
}

/// `mean_pain_vas` and its band in `timeseries.csv` are the result's
/// mean-pain estimate, which the pain plot draws.
#[test]
fn mean_pain_matches_timeseries_csv() {
    let l = reference(500);
    let (res, drugs) = cohort(&l);
    let csv = timeseries_csv(&res, &drugs).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (mean_col, lo_col, hi_col) = (
        col("mean_pain_vas"),
        col("mean_pain_lower_95"),
        col("mean_pain_upper_95"),
    );
    let points = res.since_onset(0);
    let mut n = 0;
    for (row, p) in lines.zip(points) {
        let f: Vec<&str> = row.split(',').collect();
        for (c, v) in [
            (mean_col, p.mean_pain),
            (lo_col, p.pain_lower_95),
            (hi_col, p.pain_upper_95),
        ] {
            if f[c].is_empty() {
                assert!(v.is_nan());
            } else {
                let x: f64 = f[c].parse().unwrap();
                assert!((x - v).abs() < 1e-6, "{x} vs {v} at day {}", p.day);
            }
        }
        n += 1;
    }
    assert_eq!(n, points.len());
}

// ---- the course chart's data against events.csv ----

/// A lesion as `events.csv` tells it: site, symptomatic, active periods.
type LesionRows = (String, bool, Vec<(f64, f64)>);

/// What a course chart must show, derived independently from `events.csv` rows.
#[derive(Debug, Default)]
struct FromEvents {
    flares: Vec<(f64, f64)>,
    lesions: BTreeMap<u32, LesionRows>,
    fractures: Vec<(f64, u32)>,
    /// (drug, start, end, stop reason or "")
    drugs: Vec<(String, f64, f64, String)>,
    diagnosis: Option<f64>,
}

/// Reads the events of every (arm, replicate 0, patient) from `events.csv`.
fn events_by_patient(path: &Path) -> BTreeMap<(String, u64), FromEvents> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let h = rdr.headers().unwrap().clone();
    let idx = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (arm, rep, pat, time, event) = (
        idx("arm"),
        idx("replicate"),
        idx("patient"),
        idx("time_days"),
        idx("event"),
    );
    let (lesion, site, symp, stage, drug, reason) = (
        idx("lesion"),
        idx("site"),
        idx("symptomatic"),
        idx("stage"),
        idx("drug"),
        idx("reason"),
    );
    let mut out: BTreeMap<(String, u64), FromEvents> = BTreeMap::new();
    let mut healed: BTreeMap<(String, u64, u32), bool> = BTreeMap::new();
    for rec in rdr.records() {
        let r = rec.unwrap();
        assert_eq!(&r[rep], "0");
        let key = (r[arm].to_string(), r[pat].parse::<u64>().unwrap());
        let t: f64 = r[time].parse().unwrap();
        let e = out.entry(key.clone()).or_default();
        let lesion_id = || r[lesion].parse::<u32>().unwrap();
        match &r[event] {
            "flare_start" => e.flares.push((t, f64::NAN)),
            "flare_end" => e.flares.last_mut().unwrap().1 = t,
            "lesion_new" => {
                let id = lesion_id();
                e.lesions.insert(
                    id,
                    (r[site].to_string(), &r[symp] == "true", vec![(t, f64::NAN)]),
                );
                healed.insert((key.0.clone(), key.1, id), false);
            }
            "lesion_reactivated" => {
                let id = lesion_id();
                let h = healed.get_mut(&(key.0.clone(), key.1, id)).unwrap();
                if *h {
                    e.lesions.get_mut(&id).unwrap().2.push((t, f64::NAN));
                    *h = false;
                }
            }
            "lesion_stage" if &r[stage] == "healed" => {
                let id = lesion_id();
                e.lesions.get_mut(&id).unwrap().2.last_mut().unwrap().1 = t;
                healed.insert((key.0.clone(), key.1, id), true);
            }
            "vertebral_fracture" => e.fractures.push((t, lesion_id())),
            "diagnosis" => e.diagnosis = Some(t),
            "drug_start" => e
                .drugs
                .push((r[drug].to_string(), t, f64::NAN, String::new())),
            "drug_stop" => {
                let d = e
                    .drugs
                    .iter_mut()
                    .rev()
                    .find(|d| d.0 == r[drug] && d.2.is_nan())
                    .expect("a stop follows a start");
                d.2 = t;
                d.3 = r[reason].to_string();
            }
            "end" | "lost_to_follow_up" => {
                // Whatever is still open ends with observation.
                for f in e.flares.iter_mut().filter(|f| f.1.is_nan()) {
                    f.1 = t;
                }
                for l in e.lesions.values_mut() {
                    for p in l.2.iter_mut().filter(|p| p.1.is_nan()) {
                        p.1 = t;
                    }
                }
                for d in e.drugs.iter_mut().filter(|d| d.2.is_nan()) {
                    d.2 = t;
                }
            }
            _ => {}
        }
    }
    out
}

/// CSV times carry 6 decimals.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-5
}

fn assert_matches(t: &CourseTrace, ev: &FromEvents) {
    let who = format!("arm {} patient {}", t.arm, t.patient);
    let flares: Vec<(f64, f64)> = t.flares.iter().map(|f| (f.start_day, f.end_day)).collect();
    assert_eq!(flares.len(), ev.flares.len(), "{who}: flares");
    for (a, b) in flares.iter().zip(&ev.flares) {
        assert!(
            close(a.0, b.0) && close(a.1, b.1),
            "{who}: flare {a:?} vs {b:?}"
        );
    }
    assert_eq!(t.lesions.len(), ev.lesions.len(), "{who}: lesions");
    for l in &t.lesions {
        let (site, symptomatic, periods) = &ev.lesions[&l.lesion];
        assert_eq!(l.site.as_str(), site, "{who}: lesion {} site", l.lesion);
        assert_eq!(l.symptomatic, *symptomatic, "{who}: lesion {}", l.lesion);
        assert_eq!(
            l.active.len(),
            periods.len(),
            "{who}: lesion {} periods",
            l.lesion
        );
        for (a, b) in l.active.iter().zip(periods) {
            assert!(
                close(a.0, b.0) && close(a.1, b.1),
                "{who}: lesion {a:?} vs {b:?}"
            );
        }
    }
    assert_eq!(t.fractures.len(), ev.fractures.len(), "{who}: fractures");
    for (a, b) in t.fractures.iter().zip(&ev.fractures) {
        assert!(close(a.day, b.0) && a.lesion == b.1, "{who}: fracture");
    }
    assert_eq!(t.drug_spans.len(), ev.drugs.len(), "{who}: drug intervals");
    for (a, b) in t.drug_spans.iter().zip(&ev.drugs) {
        assert_eq!(a.name, b.0, "{who}");
        assert!(
            close(a.start_day, b.1) && close(a.end_day, b.2),
            "{who}: {a:?} vs {b:?}"
        );
        assert_eq!(a.stop.map_or("", |s| s.as_str()), b.3, "{who}: stop reason");
    }
    match (t.diagnosis_day, ev.diagnosis) {
        (Some(a), Some(b)) => assert!(close(a, b), "{who}: diagnosis"),
        (a, b) => assert_eq!(a.is_some(), b.is_some(), "{who}: diagnosis"),
    }
}

/// Runs a scenario with `[output] events = true` through the library and
/// checks every patient's course trace against its rows in `events.csv`.
fn check_traces_against_events(mut l: LoadedScenario, patients: u64) -> (usize, usize) {
    l.scenario.patients = patients;
    l.scenario.output.events = true;
    let study = Study::resolve(l).unwrap();
    let (names, drugs) = (study.arm_names(), study.drug_names());
    let dir = tempfile::tempdir().unwrap();
    let mut sink = CsvRows::new(
        dir.path(),
        names.clone(),
        drugs.clone(),
        (false, true),
        crmo_sim::scenario::Compression::None,
    )
    .unwrap();
    study.run(&mut sink, &|_| {}).unwrap();
    sink.finish().unwrap();
    let events = events_by_patient(&dir.path().join("events.csv"));
    assert_eq!(events.len() as u64, patients * names.len() as u64);
    let (mut with_drugs, mut with_reactivation) = (0, 0);
    for ((arm, p), ev) in &events {
        let t = course_trace(&study, Some(arm), *p).unwrap();
        assert_matches(&t, ev);
        with_drugs += usize::from(!t.drug_spans.is_empty());
        with_reactivation += usize::from(t.lesions.iter().any(|l| l.active.len() > 1));
    }
    (with_drugs, with_reactivation)
}

#[test]
fn course_trace_agrees_with_events_csv() {
    let (with_drugs, with_reactivation) = check_traces_against_events(reference(1), 300);
    // The comparison covered treatment and lesions that heal and come back.
    assert!(with_drugs > 50, "{with_drugs} treated patients");
    assert!(
        with_reactivation > 10,
        "{with_reactivation} with reactivated lesions"
    );
    let (with_drugs, _) =
        check_traces_against_events(load("scenarios/early-bisphosphonate.toml", 1), 150);
    assert!(with_drugs > 50);
}
