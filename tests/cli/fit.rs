//! `calibrate --fit` and `calibrate --targets`: recovery of known parameter
//! values, the files a fit writes, and refusals of bad names, bounds and
//! targets files (exit code 2, nothing written).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::util::{crmo, output, success, tempdir, write_scenario};

const RATE: &str = "natural_history.flare_rate_per_year";
const DURATION: &str = "natural_history.flare_duration_mean_weeks";
/// The defaults the fit starts from (the defaults table of docs/scenarios.md).
const DEFAULT_RATE: f64 = 3.0;
const DEFAULT_DURATION: f64 = 12.0;
/// The values the targets are computed with.
const TRUE_RATE: f64 = 5.0;
const TRUE_DURATION: f64 = 20.0;
/// The metrics the targets read: flares per patient moves mostly with the
/// rate, time in flare with rate and duration, so together they pin both.
const METRICS: [&str; 2] = ["flares_per_patient", "time_in_flare_frac"];

/// A small natural-history scenario (no treatment arm), fast to simulate.
fn scenario(seed: u64, values: Option<(f64, f64)>) -> String {
    let mut s = format!("name = \"recovery\"\nseed = {seed}\npatients = 5000\nhorizon_years = 5\n");
    if let Some((rate, duration)) = values {
        s += &format!(
            "\n[natural_history]\nflare_rate_per_year = {rate}\nflare_duration_mean_weeks = {duration}\n"
        );
    }
    s
}

/// Mean and Monte Carlo error of the summary metrics of a run.
fn summary(dir: &Path) -> HashMap<String, (f64, f64)> {
    let mut r = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let num = |i: usize| rec[i].parse::<f64>().unwrap_or(f64::NAN);
            (rec[1].to_string(), (num(2), num(5)))
        })
        .collect()
}

/// Runs a scenario text and returns its summary.
fn run_summary(dir: &Path, name: &str, text: &str) -> HashMap<String, (f64, f64)> {
    let file = write_scenario(dir, &format!("{name}.toml"), text);
    let out = dir.join(format!("{name}-out"));
    success(
        crmo()
            .args(["run", "-q", "--no-plots", "--out"])
            .arg(&out)
            .arg(&file),
    );
    summary(&out)
}

/// The fit recovers the flare rate and the later-flare duration from
/// targets computed by a run with known values, on other patients (another
/// seed), within the Monte Carlo error of the targets.
///
/// The tolerance is derived, not chosen: the fitted values solve
/// m(θ̂) = m_truth for the two metrics m, so by the delta method
/// θ̂ - θ ≈ J⁻¹ (e_truth - e_fit), where J = ∂m/∂θ (measured here by central
/// differences on the fit's patients) and e are the Monte Carlo errors of
/// the two independent cohorts, each with standard error `mcse` per metric.
/// Whatever the correlation of the two metrics' errors, the standard error
/// of component k is at most Σ_j |J⁻¹_kj| mcse_j per cohort, so √2 times
/// that for two cohorts; the test allows 3 of those. It can fail: the
/// defaults lie more than 5 such errors from the true values, so a fit that
/// does not move (or moves the wrong way) is caught.
#[test]
fn fit_recovers_known_parameters_within_monte_carlo_error() {
    let tmp = tempdir();
    let dir = tmp.path();
    let truth = run_summary(
        dir,
        "truth",
        &scenario(99, Some((TRUE_RATE, TRUE_DURATION))),
    );
    let mut targets = String::from("id,target,metric,published,tolerance\n");
    for (i, m) in METRICS.iter().enumerate() {
        let (mean, mcse) = truth[*m];
        // The tolerance is the truth's own Monte Carlo error: the distance
        // counts differences in units of sampling noise.
        targets += &format!("R{i},{m} of the truth run,{m},{mean},{mcse}\n");
    }
    fs::write(dir.join("targets.csv"), targets).unwrap();
    let base = write_scenario(dir, "base.toml", scenario(7, None));
    let out = dir.join("fit-out");
    let o = success(
        crmo()
            .args(["calibrate", "--no-plots", "--targets"])
            .arg(dir.join("targets.csv"))
            .args(["--fit", &format!("{RATE}=1..10,{DURATION}=4..40")])
            .args(["--max-iters", "80", "--out"])
            .arg(&out)
            .arg(&base),
    );

    // fit.csv: the header, the start at the defaults, a best distance that never rises.
    let fit_csv = fs::read_to_string(out.join("fit.csv")).unwrap();
    let mut lines = fit_csv.lines();
    assert_eq!(
        lines.next(),
        Some(format!("iteration,{RATE},{DURATION},distance").as_str())
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert!(rows.len() >= 3, "{fit_csv}");
    assert_eq!(rows[0][..3], [0.0, DEFAULT_RATE, DEFAULT_DURATION]);
    for (i, pair) in rows.windows(2).enumerate() {
        assert_eq!(pair[1][0], pair[0][0] + 1.0, "iterations count up");
        assert!(
            pair[1][3] <= pair[0][3],
            "distance rose at row {}: {fit_csv}",
            i + 1
        );
    }
    assert!(rows.last().unwrap()[3] < rows[0][3], "{fit_csv}");
    // The trace printed one line per iteration.
    assert_eq!(
        o.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            .count(),
        rows.len(),
        "{}",
        o.stdout
    );

    // fitted.toml: valid for `check`, and holds the values the fit found.
    let fitted = out.join("fitted.toml");
    success(crmo().arg("check").arg(&fitted));
    let doc: toml::Table = toml::from_str(&fs::read_to_string(&fitted).unwrap()).unwrap();
    let nh = doc["natural_history"].as_table().unwrap();
    let rate = nh["flare_rate_per_year"].as_float().unwrap();
    let duration = nh["flare_duration_mean_weeks"].as_float().unwrap();
    let last = rows.last().unwrap();
    assert!(
        (rate - last[1]).abs() <= 1e-5 * last[1],
        "{rate} vs {last:?}"
    );
    assert!(
        (duration - last[2]).abs() <= 1e-5 * last[2],
        "{duration} vs {last:?}"
    );

    // The Jacobian of the metrics at the true values, on the fit's patients.
    let at = |r: f64, d: f64, name: &str| {
        let s = run_summary(dir, name, &scenario(7, Some((r, d))));
        METRICS.map(|m| s[m].0)
    };
    let (hr, hd) = (0.5, 2.0);
    let (rp, rm) = (
        at(TRUE_RATE + hr, TRUE_DURATION, "rp"),
        at(TRUE_RATE - hr, TRUE_DURATION, "rm"),
    );
    let (dp, dm) = (
        at(TRUE_RATE, TRUE_DURATION + hd, "dp"),
        at(TRUE_RATE, TRUE_DURATION - hd, "dm"),
    );
    let j = [
        [(rp[0] - rm[0]) / (2.0 * hr), (dp[0] - dm[0]) / (2.0 * hd)],
        [(rp[1] - rm[1]) / (2.0 * hr), (dp[1] - dm[1]) / (2.0 * hd)],
    ];
    let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
    assert!(
        det.abs() > 0.0,
        "the metrics must pin both parameters: {j:?}"
    );
    let inverse = [
        [j[1][1] / det, -j[0][1] / det],
        [-j[1][0] / det, j[0][0] / det],
    ];
    let mcse = METRICS.map(|m| truth[m].1);
    let se =
        |k: usize| (inverse[k][0].abs() * mcse[0] + inverse[k][1].abs() * mcse[1]) * 2f64.sqrt();
    let (se_rate, se_duration) = (se(0), se(1));
    assert!(
        (DEFAULT_RATE - TRUE_RATE).abs() > 5.0 * se_rate
            && (DEFAULT_DURATION - TRUE_DURATION).abs() > 5.0 * se_duration,
        "the test must be able to fail: standard errors {se_rate}, {se_duration}"
    );
    assert!(
        (rate - TRUE_RATE).abs() <= 3.0 * se_rate,
        "rate {rate}, true {TRUE_RATE}, allowed ± {}\n{}",
        3.0 * se_rate,
        o.stdout
    );
    assert!(
        (duration - TRUE_DURATION).abs() <= 3.0 * se_duration,
        "duration {duration}, true {TRUE_DURATION}, allowed ± {}\n{}",
        3.0 * se_duration,
        o.stdout
    );

    // calibration.csv is the fitted scenario's: both targets inside.
    let cal = fs::read_to_string(out.join("calibration.csv")).unwrap();
    assert!(
        cal.starts_with("id,target,published,tolerance,simulated,mcse,inside\n"),
        "{cal}"
    );
    assert_eq!(
        cal.lines().filter(|l| l.ends_with(",true")).count(),
        2,
        "{cal}"
    );
    assert!(out.join("summary.csv").is_file());
}

/// `calibrate --targets`: each target reads its summary metric from the
/// same run's summary.csv (first arm, or the arm the file names).
#[test]
fn targets_file_reads_summary_metrics() {
    let tmp = tempdir();
    let dir = tmp.path();
    let file = write_scenario(
        dir,
        "two.toml",
        "patients = 500\nhorizon_years = 3\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n[[arm]]\nname = \"none\"\nuntreated = true\n",
    );
    fs::write(
        dir.join("t.csv"),
        "id,target,metric,published,tolerance,arm\nF,flares,flares_per_patient_year,1.1,0.3,\nU,untreated flares,flares_per_patient_year,1.1,0.3,none\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = success(
        crmo()
            .args(["calibrate", "--no-plots", "--targets"])
            .arg(dir.join("t.csv"))
            .arg("--out")
            .arg(&out)
            .arg(&file),
    );
    assert!(o.stdout.contains("distance to the targets"), "{}", o.stdout);
    let mut sum = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let means: HashMap<(String, String), String> = sum
        .records()
        .map(|r| {
            let r = r.unwrap();
            ((r[0].to_string(), r[1].to_string()), r[2].to_string())
        })
        .collect();
    let mut cal = csv::Reader::from_path(out.join("calibration.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = cal.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let simulated = |i: usize| rows[i][4].parse::<f64>().unwrap();
    let mean = |arm: &str| {
        means[&(arm.to_string(), "flares_per_patient_year".to_string())]
            .parse::<f64>()
            .unwrap()
    };
    assert!((simulated(0) - mean("a")).abs() < 1e-5, "{rows:?}");
    assert!((simulated(1) - mean("none")).abs() < 1e-5, "{rows:?}");
    assert_ne!(simulated(0), simulated(1));
    // The report shows the file's targets, not the published ones.
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    let section = report
        .split("<h2 id=\"calibration\">")
        .nth(1)
        .expect("report.html has a calibration section");
    assert!(section.contains("the targets of"), "{section}");
    assert!(section.contains("<td>F</td>") && section.contains("<td>U</td>"));
    assert!(!section.contains("<td>C1</td>"), "{section}");
}

/// Runs `calibrate ARGS` in a fresh directory; it must exit 2 without a
/// panic and write nothing. Returns standard error.
fn refused(args: &[&str], targets: Option<&str>) -> String {
    let tmp = tempdir();
    if let Some(text) = targets {
        fs::write(tmp.path().join("t.csv"), text).unwrap();
    }
    let o = output(
        crmo()
            .current_dir(tmp.path())
            .args(["calibrate", "--patients", "200", "--out", "out"])
            .args(args),
    );
    assert_eq!(o.code, Some(2), "{args:?}: {o:#?}");
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert!(!tmp.path().join("out").exists(), "{args:?} wrote output");
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "t.csv")
        .collect();
    assert!(left.is_empty(), "{args:?} left {left:?}");
    o.stderr
}

#[test]
fn bad_fit_names_are_refused_with_the_names_that_exist() {
    let e = refused(&["--fit", "natural_history.flare_rate"], None);
    assert!(e.contains("--fit natural_history.flare_rate"), "{e}");
    assert!(
        e.contains("flare_rate_per_year") && e.contains("resolution_median_years"),
        "{e}"
    );
    let e = refused(&["--fit", "drugs.nsaid.p_respons"], None);
    assert!(e.contains("p_response, p_response_majeed"), "{e}");
    let e = refused(&["--fit", "natural.flare_rate_per_year"], None);
    assert!(
        e.contains("natural_history.NAME") && e.contains("drugs.nsaid.NAME"),
        "{e}"
    );
    let e = refused(&["--fit", "arm.other.min_weeks_on_step"], None);
    assert!(e.contains("no arm named `other`"), "{e}");
    let e = refused(&["--fit", "seed"], None);
    assert!(e.contains("not a model parameter"), "{e}");
}

#[test]
fn bad_fit_bounds_are_refused() {
    let e = refused(&["--fit", &format!("{RATE}=6..2")], None);
    assert!(e.contains("LO = 6 must be below HI = 2"), "{e}");
    let e = refused(&["--fit", &format!("{RATE}=2..2")], None);
    assert!(e.contains("must be below"), "{e}");
    let e = refused(&["--fit", &format!("{RATE}=0..6")], None);
    assert!(e.contains("LO = 0 is outside the allowed range"), "{e}");
    assert!(e.contains("above 0 and at most 52"), "{e}");
    let e = refused(&["--fit", "natural_history.p_fever=0.1..1.5"], None);
    assert!(e.contains("HI = 1.5 is outside the allowed range"), "{e}");
    let e = refused(&["--fit", &format!("{RATE}=1..x")], None);
    assert!(e.contains("not two finite numbers"), "{e}");
    let e = refused(&["--fit", &format!("{RATE},{RATE}=1..2")], None);
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn malformed_targets_files_are_refused_with_line_and_column() {
    let header = "id,target,metric,published,tolerance\n";
    let e = refused(
        &["--targets", "t.csv"],
        Some(&format!(
            "{header}A,x,flares_per_patient,1,0.5\nB,y,flares_per_patient,one,0.5\n"
        )),
    );
    assert!(e.contains("t.csv: line 3, column 4"), "{e}");
    assert!(e.contains("`published` is \"one\""), "{e}");
    let e = refused(
        &["--targets", "t.csv"],
        Some(&format!("{header}A,x,flares_per_patient,1\n")),
    );
    assert!(e.contains("t.csv: line 2"), "{e}");
    let e = refused(
        &["--targets", "t.csv", "--fit", RATE],
        Some(&format!("{header}A,x,flares_per_patient,1,-1\n")),
    );
    assert!(
        e.contains("line 2, column 5") && e.contains("above 0"),
        "{e}"
    );
    let e = refused(
        &["--targets", "t.csv"],
        Some(&format!(
            "{header}A,x,flares_per_patient,1,1\nB,y,flare_count,1,1\nC,z,nope,1,1\n"
        )),
    );
    assert!(e.contains("line 3, column 3"), "{e}");
    assert!(e.contains("`flare_count` (line 3), `nope` (line 4)"), "{e}");
    assert!(
        e.contains("flares_per_patient_year") && e.contains("time_in_flare_frac"),
        "{e}"
    );
    let e = refused(&["--targets", "t.csv"], Some("id,metric\n"));
    assert!(e.contains("no column `target`"), "{e}");
    let e = refused(&["--targets", "missing.csv"], None);
    assert!(e.contains("missing.csv"), "{e}");
}

/// A fit is deterministic: the same scenario and seed give byte-identical
/// `fit.csv`, `fitted.toml` and `calibration.csv` on 1 and 2 threads.
#[test]
fn fit_outputs_do_not_depend_on_the_thread_count() {
    let tmp = tempdir();
    let dir = tmp.path();
    let base = write_scenario(dir, "base.toml", scenario(3, None));
    fs::write(
        dir.join("t.csv"),
        "id,target,metric,published,tolerance\nA,flares,flares_per_patient,3.0,0.1\n",
    )
    .unwrap();
    let fit_with = |threads: &str| {
        let out = dir.join(format!("out-{threads}"));
        success(
            crmo()
                .args(["calibrate", "-q", "--no-plots", "--threads", threads])
                .args(["--patients", "1000", "--max-iters", "8", "--targets"])
                .arg(dir.join("t.csv"))
                .args(["--fit", &format!("{RATE}=1..10"), "--out"])
                .arg(&out)
                .arg(&base),
        );
        ["fit.csv", "fitted.toml", "calibration.csv", "summary.csv"]
            .map(|f| fs::read(out.join(f)).unwrap())
    };
    assert_eq!(fit_with("1"), fit_with("2"));
}

/// A targets file's free text that a spreadsheet would run as a formula
/// (`=HYPERLINK(...)`, `@SUM(...)`, `+1`, `-1`) is written to
/// calibration.csv with a leading `'` (OWASP), so it opens as text; plain
/// text is written as it is.
#[test]
fn formula_like_targets_are_written_as_text() {
    let tmp = tempdir();
    let dir = tmp.path();
    let file = write_scenario(dir, "s.toml", "patients = 200\nhorizon_years = 2\n");
    fs::write(
        dir.join("t.csv"),
        "id,target,metric,published,tolerance\n\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",@SUM(1),flares_per_patient_year,1.1,0.3\n+1,-1,flares_per_patient_year,1.1,0.3\nplain,a=b,flares_per_patient_year,1.1,0.3\n",
    )
    .unwrap();
    let out = dir.join("out");
    success(
        crmo()
            .args(["calibrate", "-q", "--no-plots", "--targets"])
            .arg(dir.join("t.csv"))
            .arg("--out")
            .arg(&out)
            .arg(&file),
    );
    let text = fs::read_to_string(out.join("calibration.csv")).unwrap();
    let mut cal = csv::Reader::from_reader(text.as_bytes());
    let cells: Vec<(String, String)> = cal
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string())
        })
        .collect();
    assert_eq!(
        cells,
        [
            (
                "'=HYPERLINK(\"http://x\",\"y\")".to_string(),
                "'@SUM(1)".to_string()
            ),
            ("'+1".to_string(), "'-1".to_string()),
            ("plain".to_string(), "a=b".to_string()),
        ],
        "{text}"
    );
}
