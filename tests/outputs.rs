//! Output files a researcher reads without the source: `metrics.csv` defines
//! every metric of `summary.csv`; `differences.csv` pairs rates per patient
//! (checked against a second computation from `patients.csv`); `patients.csv`
//! and `events.csv` hold one type per column; the metric list and the
//! per-patient columns of `docs/outputs.md` match the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;

use crmo_sim::output::rows::{events_header, patients_header, EVENT_NAMES};
use crmo_sim::output::tables::{readme_metrics_block, README_METRICS_BEGIN};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Patients of the shared two-arm run.
const PATIENTS: u64 = 400;

/// One two-arm run (early bisphosphonate vs NSAID first) with both
/// per-patient files, shared by the tests of this file.
fn run_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Under cargo's per-target scratch directory: a static is never
        // dropped, so a temporary directory would be left behind.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outputs-run");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::fs::read_to_string(root().join("scenarios/early-bisphosphonate.toml"))
            .unwrap()
            + "\n[output]\npatients = true\nevents = true\n";
        let scenario = dir.join("eb.toml");
        std::fs::write(&scenario, text).unwrap();
        Command::cargo_bin("crmo-sim")
            .unwrap()
            .current_dir(root())
            .args(["run", "--no-plots", "-q", "--patients"])
            .arg(PATIENTS.to_string())
            .arg("--out")
            .arg(dir.join("out"))
            .arg(&scenario)
            .assert()
            .success();
        dir
    })
}

/// A CSV file of the shared run as (header, rows).
fn table(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(run_dir().join("out").join(name)).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn metrics_csv_defines_every_summary_metric() {
    let (h, defs) = table("metrics.csv");
    assert_eq!(h, ["metric", "unit", "population", "definition"]);
    for d in &defs {
        assert!(
            d.iter().all(|c| !c.trim().is_empty()),
            "empty cell in {d:?}"
        );
    }
    let defined: BTreeSet<&str> = defs.iter().map(|d| d[0].as_str()).collect();
    assert_eq!(defined.len(), defs.len(), "a metric is defined twice");
    let (_, summary) = table("summary.csv");
    let used: BTreeSet<&str> = summary.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        used, defined,
        "summary.csv and metrics.csv list different metrics"
    );
}

/// Per (arm, patient): flares, observed days, flare days.
fn per_patient() -> BTreeMap<(String, u64), (f64, f64, f64)> {
    let (h, rows) = table("patients.csv");
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (arm, pat, fl, obs, fd) = (
        col("arm"),
        col("patient"),
        col("flares"),
        col("observed_days"),
        col("flare_days"),
    );
    rows.iter()
        .map(|r| {
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            (
                (r[arm].clone(), r[pat].parse().unwrap()),
                (f(fl), f(obs), f(fd)),
            )
        })
        .collect()
}

/// A patient's rate from (flares, observed days, flare days).
type Rate = fn((f64, f64, f64)) -> f64;

/// `flares_per_patient_year` and `time_in_flare_frac` are in
/// `differences.csv` as the mean of per-patient rate differences; recomputed
/// here from `patients.csv` (a second path: per-patient rows, not the
/// accumulators).
#[test]
fn rate_differences_are_means_of_per_patient_rate_differences() {
    let (h, diffs) = table("differences.csv");
    assert_eq!(
        h,
        [
            "arm",
            "reference_arm",
            "metric",
            "paired_on",
            "mean_difference",
            "lower_95",
            "upper_95",
            "std_error"
        ]
    );
    let p = per_patient();
    let (a0, a1) = ("nsaid-first", "pamidronate-first");
    let rates: [(&str, Rate); 2] = [
        ("flares_per_patient_year", |(f, o, _)| f / (o / 365.25)),
        ("time_in_flare_frac", |(_, o, d)| d / o),
    ];
    for (metric, rate) in rates {
        let row = diffs
            .iter()
            .find(|r| r[2] == metric)
            .unwrap_or_else(|| panic!("no {metric} in differences.csv"));
        assert_eq!((row[0].as_str(), row[3].as_str()), (a1, "patient rate"));
        let d: Vec<f64> = (0..PATIENTS)
            .map(|i| rate(p[&(a1.into(), i)]) - rate(p[&(a0.into(), i)]))
            .collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let got: f64 = row[4].parse().unwrap();
        assert!(
            (got - mean).abs() < 1e-4 * (1.0 + mean.abs()),
            "{metric}: differences.csv {got}, from patients.csv {mean}"
        );
        let (lo, hi): (f64, f64) = (row[5].parse().unwrap(), row[6].parse().unwrap());
        assert!(lo < got && got < hi, "{metric}: interval {lo}..{hi}");
    }
}

/// The type of one cell: bool, integer, number or text.
fn kind(cell: &str) -> &'static str {
    if cell == "true" || cell == "false" {
        "bool"
    } else if cell.parse::<i64>().is_ok() {
        "integer"
    } else if cell.parse::<f64>().is_ok() {
        "number"
    } else {
        "text"
    }
}

/// Every column holds one type (integers count as numbers in a number
/// column), and no cell packs `key=value` pairs.
fn assert_one_type_per_column(name: &str) -> Vec<String> {
    let (h, rows) = table(name);
    assert!(!rows.is_empty(), "{name} is empty");
    let mut kinds: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); h.len()];
    for r in &rows {
        assert_eq!(r.len(), h.len(), "{name}: {r:?}");
        for (i, c) in r.iter().enumerate() {
            assert!(
                !c.contains('=') && !c.contains(';'),
                "{name}: packed cell {c:?}"
            );
            if !c.is_empty() {
                kinds[i].insert(kind(c));
            }
        }
    }
    for (col, k) in h.iter().zip(&mut kinds) {
        if k.contains("number") {
            k.remove("integer");
        }
        assert!(k.len() <= 1, "{name}: column {col} holds {k:?}");
    }
    h
}

#[test]
fn patients_and_events_have_one_type_per_column() {
    let ph = assert_one_type_per_column("patients.csv");
    // The ladder's drugs, then the class switch of the TNF inhibitor.
    let drugs: Vec<String> = ["nsaid", "pamidronate", "tnf_inhibitor", "adalimumab"]
        .map(String::from)
        .to_vec();
    assert_eq!(ph, patients_header(&drugs));
    for c in [
        "psoriasis_onset_day",
        "responder_pamidronate",
        "resolved_day",
    ] {
        assert!(ph.iter().any(|x| x == c), "patients.csv has no {c}");
    }
    let eh = assert_one_type_per_column("events.csv");
    assert_eq!(eh, events_header());
    for c in ["fever", "crp_mg_l", "pain_vas", "jansson_score", "days"] {
        assert!(eh.iter().any(|x| x == c), "events.csv has no {c}");
    }
    // Typed flare columns are filled on every flare start.
    let (_, rows) = table("events.csv");
    let col = |n: &str| eh.iter().position(|x| x == n).unwrap();
    let starts: Vec<_> = rows
        .iter()
        .filter(|r| r[col("event")] == "flare_start")
        .collect();
    assert!(!starts.is_empty());
    for r in starts {
        assert!(["true", "false"].contains(&r[col("fever")].as_str()));
        assert!(r[col("crp_mg_l")].parse::<f64>().unwrap() >= 0.0);
        let pain: f64 = r[col("pain_vas")].parse().unwrap();
        assert!((0.0..=10.0).contains(&pain));
    }
}

#[test]
fn documented_metric_list_is_generated_from_the_metric_table() {
    let doc = std::fs::read_to_string(root().join("docs/outputs.md")).unwrap();
    assert!(
        doc.contains(README_METRICS_BEGIN),
        "docs/outputs.md has no metric list"
    );
    assert!(
        doc.contains(&readme_metrics_block()),
        "the metric list of docs/outputs.md is stale: run `cargo run --release --example readme_images -- metrics`"
    );
}

#[test]
fn docs_name_every_per_patient_column_and_event() {
    let doc = std::fs::read_to_string(root().join("docs/outputs.md")).unwrap();
    let named = |s: &str| doc.contains(&format!("`{s}`"));
    for c in events_header() {
        assert!(
            named(&c),
            "docs/outputs.md does not describe events.csv column {c}"
        );
    }
    for c in patients_header(&[]) {
        assert!(
            named(&c),
            "docs/outputs.md does not describe patients.csv column {c}"
        );
    }
    for c in [
        "<condition>_onset_day",
        "days_on_<drug>",
        "responder_<drug>",
    ] {
        assert!(named(c), "docs/outputs.md does not describe {c}");
    }
    for e in EVENT_NAMES {
        assert!(
            doc.contains(&format!("| `{e}` |")),
            "docs/outputs.md does not describe event {e}"
        );
    }
    // Every event name the writer can produce is in the list.
    let (h, rows) = table("events.csv");
    let ev = h.iter().position(|x| x == "event").unwrap();
    for r in rows {
        assert!(
            EVENT_NAMES.contains(&r[ev].as_str()),
            "undocumented event {}",
            r[ev]
        );
    }
}
