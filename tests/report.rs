//! `report.html`: self-contained (nothing loaded from elsewhere) and holding
//! every table and cohort plot; and, with a real browser (headless
//! Chromium, `#[ignore]`d for plain `cargo test`; `.ci/run` installs Debian's
//! `chromium` and runs it), rendered to a screenshot that is not blank and a
//! DOM that holds every plot and table.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::OnceLock;

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Ids of the tables and plots every two-arm report holds.
const PARTS: [&str; 10] = [
    "manifest",
    "headline-table",
    "differences-table",
    "metrics-table",
    "plot-occupancy",
    "plot-states_by_arm",
    "plot-km_remission",
    "plot-flares",
    "plot-drug_exposure",
    "plot-mean_pain",
];

/// One small two-arm run, shared by the tests of this file.
fn report() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-run");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Command::cargo_bin("crmo-sim")
            .unwrap()
            .current_dir(root())
            .args([
                "run",
                "scenarios/early-bisphosphonate.toml",
                "--patients",
                "600",
                "-q",
                "--out",
            ])
            .arg(dir.join("out"))
            .assert()
            .success();
        dir.join("out").join("report.html")
    })
}

#[test]
fn the_report_is_self_contained_and_complete() {
    let html = std::fs::read_to_string(report()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in PARTS {
        assert!(html.contains(&format!("id=\"{id}\"")), "no {id}");
    }
    assert_eq!(
        html.matches("<svg").count(),
        6,
        "one inline SVG per cohort plot"
    );
    // Nothing to fetch: no scripts, linked style sheets, images or fonts.
    for tag in [
        "<script", "<link", "<img", "<iframe", "@import", "url(", "src=",
    ] {
        assert!(!html.contains(tag), "report.html has {tag}");
    }
    for attr in ["href=\"http", "href='http", "xlink:href=\"http"] {
        assert!(!html.contains(attr), "report.html links {attr}");
    }
    // The manifest lists it, with its hash.
    let manifest = std::fs::read_to_string(report().with_file_name("manifest.json")).unwrap();
    assert!(manifest.contains("report.html"));
}

/// Chromium's command name: `$CHROMIUM`, else `chromium`.
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Runs headless Chromium on `url` with `extra` arguments, without network
/// services or a profile of its own.
fn headless(extra: &[String], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.extend_from_slice(extra);
    args.push(url.to_string());
    Process::new(chromium())
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e} (install chromium)", chromium()))
}

#[test]
#[ignore = "needs headless Chromium; .ci/run installs it and runs this test"]
fn the_report_renders_in_headless_chromium() {
    let url = format!("file://{}", report().display());
    let dom = headless(&["--dump-dom".into()], &url);
    assert!(dom.status.success(), "{dom:?}");
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in PARTS {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "rendered DOM lacks {id}"
        );
    }
    assert_eq!(dom.matches("<svg").count(), 6, "rendered DOM lacks plots");
    assert!(dom.contains("Paired differences") && dom.contains("pamidronate-first"));

    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("report.png");
    let out = headless(
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400".into(),
        ],
        &url,
    );
    assert!(out.status.success(), "{out:?}");
    let img = image::open(&shot).unwrap().to_luma8();
    assert_eq!(img.dimensions(), (1280, 2400));
    let n = f64::from(img.width() * img.height());
    let inked = img.pixels().filter(|p| p.0[0] < 200).count() as f64 / n;
    let mean = img.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / n;
    let var = img
        .pixels()
        .map(|p| (f64::from(p.0[0]) - mean).powi(2))
        .sum::<f64>()
        / n;
    println!("screenshot: {inked:.3} inked, grey variance {var:.0}");
    assert!(inked > 0.01 && var > 100.0, "the screenshot looks blank");
}

/// Ids of the economics and PSA sections of a report with `[economics]`
/// and several replicates.
const ECONOMICS_PARTS: [&str; 8] = [
    "economics-frame",
    "cea-table",
    "nmb-table",
    "psa-parameters",
    "evppi-table",
    "plot-ce_plane",
    "plot-ceac",
    "plot-evpi",
];

/// The shipped cost-effectiveness study, small, run once for this file.
fn economics_report() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-economics-run");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Command::cargo_bin("crmo-sim")
            .unwrap()
            .current_dir(root())
            .args([
                "run",
                "scenarios/cost-effectiveness.toml",
                "--patients",
                "100",
                "-q",
                "--out",
            ])
            .arg(dir.join("out"))
            .assert()
            .success();
        dir.join("out").join("report.html")
    })
}

#[test]
fn the_economics_report_has_its_sections_and_stays_self_contained() {
    let html = std::fs::read_to_string(economics_report()).unwrap();
    for id in PARTS.iter().chain(&ECONOMICS_PARTS) {
        assert!(html.contains(&format!("id=\"{id}\"")), "no {id}");
    }
    for words in [
        "Probabilistic sensitivity analysis",
        "health care payer",
        "price year",
        "drugs.tnf_inhibitor.flare_hazard_ratio",
    ] {
        assert!(html.contains(words), "no {words}");
    }
    assert_eq!(
        html.matches("<svg").count(),
        9,
        "cohort plots, CE plane, CEAC, EVPI"
    );
    for tag in [
        "<script", "<link", "<img", "<iframe", "@import", "url(", "src=",
    ] {
        assert!(!html.contains(tag), "report.html has {tag}");
    }
}

#[test]
#[ignore = "needs headless Chromium; .ci/run installs it and runs this test"]
fn the_economics_report_renders_in_headless_chromium() {
    let url = format!("file://{}", economics_report().display());
    let dom = headless(&["--dump-dom".into()], &url);
    assert!(dom.status.success(), "{dom:?}");
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in PARTS.iter().chain(&ECONOMICS_PARTS) {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "rendered DOM lacks {id}"
        );
    }
    assert_eq!(dom.matches("<svg").count(), 9, "rendered DOM lacks plots");
    assert!(dom.contains("Economics") && dom.contains("carra-dmard"));
}

/// A number of the differences table as a value: a true minus sign, an
/// explicit plus, thousands separated by commas.
fn table_number(text: &str) -> f64 {
    text.replace('−', "-")
        .replace(['+', ','], "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

/// The differences table of `report` holds only what differs, grouped by
/// outcome, one column per compared arm, each value as `differences.csv`
/// has it at the precision shown; every metric of `differences.csv` it
/// leaves out is named once below it.
fn assert_readable_differences(report: &Path) {
    let html = std::fs::read_to_string(report).unwrap();
    let table = html
        .split("<table id=\"differences-table\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("a differences table");
    let left_out = html
        .split("<p id=\"differences-left-out\">")
        .nth(1)
        .and_then(|p| p.split("</p>").next())
        .unwrap_or("");
    let csv = std::fs::read_to_string(report.with_file_name("differences.csv")).unwrap();
    // (arm, metric) -> mean difference; the arms in order of appearance.
    let mut means = std::collections::HashMap::new();
    let mut arms: Vec<String> = Vec::new();
    let mut metrics: Vec<String> = Vec::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (arm, metric, mean) = (f[0].to_string(), f[2].to_string(), f[4]);
        if !arms.contains(&arm) {
            arms.push(arm.clone());
        }
        if !metrics.contains(&metric) {
            metrics.push(metric.clone());
        }
        means.insert((arm, metric), mean.parse::<f64>().ok());
    }
    assert!(
        !table.contains("0 – 0") && !table.contains("[0, 0]"),
        "a row where nothing differs"
    );
    assert!(
        table.contains("<tr class=\"group\"><th colspan=")
            && table.contains(">Flares and course</th>"),
        "rows are not grouped by outcome"
    );
    let header = table.lines().next().unwrap();
    for arm in &arms {
        assert!(header.contains(&format!("<th>{arm} − ")), "no column {arm}");
    }
    let mut shown = 0;
    for row in table.lines().filter(|l| l.starts_with("<tr><td><code>")) {
        let metric = row["<tr><td><code>".len()..]
            .split("</code>")
            .next()
            .unwrap();
        let cells: Vec<&str> = row
            .split("<td class=\"n\">")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap())
            .collect();
        assert_eq!(cells.len(), arms.len(), "{row}");
        assert!(
            cells.iter().any(|c| *c != "–"),
            "a row without values: {row}"
        );
        for (arm, cell) in arms.iter().zip(&cells) {
            let expected = means[&(arm.clone(), metric.to_string())];
            let Some(expected) = expected else {
                assert_eq!(*cell, "–", "{metric} {arm}");
                continue;
            };
            if *cell == "equal" {
                assert_eq!(expected, 0.0, "{metric} {arm}");
                continue;
            }
            let mean = cell.split(" [").next().unwrap();
            let decimals = mean.split('.').nth(1).map_or(0, str::len);
            let half_unit = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-12;
            assert!(
                (table_number(mean) - expected).abs() <= half_unit,
                "{metric} {arm}: shown {mean}, differences.csv {expected}"
            );
        }
        assert!(!left_out.contains(&format!("<code>{metric}</code>")));
        shown += 1;
    }
    let named = left_out.matches("<code>").count();
    assert!(
        left_out.contains("<code>female_frac</code>"),
        "female_frac (the same patients in every arm) is not said to be left out"
    );
    for metric in &metrics {
        assert!(
            table.contains(&format!("<code>{metric}</code>"))
                || left_out.contains(&format!("<code>{metric}</code>")),
            "{metric} is neither shown nor said to be left out"
        );
    }
    assert_eq!(shown + named, metrics.len(), "a metric shown twice");
}

#[test]
fn the_differences_table_shows_only_what_differs_grouped_by_outcome() {
    assert_readable_differences(report());
    // Four arms: three columns against the reference.
    assert_readable_differences(economics_report());
}
