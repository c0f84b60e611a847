//! Acceptance tests of treatment: untreated arms reproduce the natural history
//! byte for byte, a neutral drug changes nothing, a drug's hazard ratio gives
//! the analytic on-drug flare rate, paired differences beat unpaired ones, the
//! reference scenario lands inside the calibration targets C1-C7, bad
//! treatment input is refused with a located message, and multi-arm runs
//! write their extra outputs.
//!
//! Statistical checks use fixed seeds and a tolerance of 4 Monte Carlo
//! standard errors: for a normal estimate the chance of a false alarm is
//! P(|Z| > 4) = 6.3e-5 per check (and the seeds are fixed, so a run that
//! passes keeps passing).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;

use crmo_sim::engine::cohort::{run_cohort, scenario_arms, CohortResult, NoRows};
use crmo_sim::output::summary::{difference_rows, summary_rows, SummaryRow};
use crmo_sim::output::writer::{km_csv, summary_csv, timeseries_csv};

// ---------------------------------------------------------------- helpers

/// Parses scenario text and runs its whole cohort in-process.
fn run_text(text: &str) -> (CohortResult, Vec<String>) {
    let loaded = crmo_sim::scenario::parse(text, "x.toml").expect("valid scenario");
    let (arms, drugs) = scenario_arms(&loaded).expect("arms resolve");
    let res = run_cohort(&loaded.scenario, &arms, drugs.len(), &mut NoRows, &|_| {})
        .expect("cohort runs");
    (res, drugs)
}

/// The lines of a CSV text (header dropped) whose first field is `arm`.
fn arm_lines(csv: &str, arm: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .filter(|l| l.split(',').next() == Some(arm))
        .map(str::to_string)
        .collect()
}

/// The first `n` comma-separated fields of a line, with the arm field renamed.
fn fields(line: &str, n: usize, arm: &str) -> String {
    let mut f: Vec<&str> = line.split(',').take(n).collect();
    f[0] = arm;
    f.join(",")
}

/// `summary.csv` lines of `arm` as metric → line (arm field renamed to `as_arm`).
fn summary_by_metric(csv: &str, arm: &str, as_arm: &str) -> Vec<(String, String)> {
    arm_lines(csv, arm)
        .iter()
        .map(|l| {
            let metric = l.split(',').nth(1).unwrap().to_string();
            (metric, fields(l, usize::MAX, as_arm))
        })
        .collect()
}

fn row<'a>(rows: &'a [SummaryRow], arm: &str, metric: &str) -> &'a SummaryRow {
    rows.iter()
        .find(|r| r.arm == arm && r.metric == metric)
        .unwrap_or_else(|| panic!("no summary row {arm}/{metric}"))
}

/// The repository root (where `scenarios/` lives).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crmo() -> Command {
    let mut cmd = Command::cargo_bin("crmo-sim").expect("the crmo-sim binary is built");
    cmd.current_dir(root());
    cmd
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("crmo-sim-treatment-")
        .tempdir()
        .expect("temporary directory")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ------------------------------------------- 1. untreated = natural history

const SMALL: &str = r#"
name = "small"
seed = 5
patients = 1500
horizon_years = 6
"#;

/// An arm with `untreated = true` gives exactly the rows of a run without any
/// `[[arm]]`, even when a treated arm runs beside it.
#[test]
fn untreated_arm_is_byte_identical_to_a_run_without_treatment() {
    let (plain, plain_drugs) = run_text(SMALL);
    assert_eq!(plain.arms, vec!["natural_history".to_string()]);
    assert!(plain_drugs.is_empty());

    let with_arms = format!(
        "{SMALL}\n[[arm]]\nname = \"natural_history\"\nuntreated = true\n\n\
         [[arm]]\nname = \"treated\"\nladder = [\"nsaid\", \"pamidronate\"]\n"
    );
    let (multi, drugs) = run_text(&with_arms);
    assert_eq!(multi.arms, vec!["natural_history", "treated"]);
    assert_eq!(drugs, vec!["nsaid", "pamidronate"]);

    // summary.csv: every row of the plain run (natural-history metrics and
    // outcomes after diagnosis) is in the two-arm run, identical, same order.
    let plain_summary = summary_by_metric(&summary_csv(&plain), "natural_history", "nh");
    let multi_summary: HashMap<String, String> =
        summary_by_metric(&summary_csv(&multi), "natural_history", "nh")
            .into_iter()
            .collect();
    assert!(plain_summary.len() > 30, "{}", plain_summary.len());
    for (metric, line) in &plain_summary {
        assert_eq!(
            multi_summary.get(metric),
            Some(line),
            "summary row {metric} differs"
        );
    }
    // The treated arm really is different (otherwise the test proves nothing).
    let treated = summary_by_metric(&summary_csv(&multi), "treated", "nh");
    let differing = treated
        .iter()
        .filter(|(m, l)| plain_summary.iter().any(|(pm, pl)| pm == m && pl != l))
        .count();
    assert!(differing > 10, "the treated arm differs in {differing} rows");

    // timeseries.csv: the natural-history columns (the first 10) are
    // identical; the untreated arm is on no drug.
    let ts_plain = arm_lines(&timeseries_csv(&plain, &plain_drugs), "natural_history");
    let ts_multi = arm_lines(&timeseries_csv(&multi, &drugs), "natural_history");
    assert_eq!(ts_plain.len(), ts_multi.len());
    assert!(ts_plain.len() > 300);
    for (p, m) in ts_plain.iter().zip(&ts_multi) {
        assert_eq!(p, &fields(m, 10, "natural_history"));
        let drug_cols: Vec<&str> = m.split(',').skip(10).collect();
        assert_eq!(drug_cols, vec!["0", "0"], "untreated arm on a drug: {m}");
    }

    // km.csv: identical rows.
    let km_plain = arm_lines(&km_csv(&plain), "natural_history");
    let km_multi = arm_lines(&km_csv(&multi), "natural_history");
    assert!(!km_plain.is_empty());
    assert_eq!(km_plain, km_multi);
}

/// The first arm of a two-arm run equals that arm run alone: the treatment
/// streams of the second arm do not disturb it.
#[test]
fn first_arm_of_two_equals_that_arm_alone() {
    let first = "[[arm]]\nname = \"ladder\"\nladder = [\"nsaid\", \"pamidronate\", \"tnf_inhibitor\"]\nmin_weeks_on_step = 26\n";
    let second = "[[arm]]\nname = \"mtx\"\nladder = [\"methotrexate\", \"tnf_inhibitor\"]\n";
    let (alone, alone_drugs) = run_text(&format!("{SMALL}\n{first}"));
    let (both, both_drugs) = run_text(&format!("{SMALL}\n{first}\n{second}"));
    assert_eq!(
        both_drugs,
        vec!["nsaid", "pamidronate", "tnf_inhibitor", "methotrexate"]
    );

    let alone_summary = summary_by_metric(&summary_csv(&alone), "ladder", "a");
    let both_summary: HashMap<String, String> =
        summary_by_metric(&summary_csv(&both), "ladder", "a")
            .into_iter()
            .collect();
    assert!(alone_summary
        .iter()
        .any(|(m, _)| m == "days_on_pamidronate_mean"));
    for (metric, line) in &alone_summary {
        assert_eq!(both_summary.get(metric), Some(line), "summary row {metric}");
    }
    // The second arm differs from the first.
    let mtx = summary_by_metric(&summary_csv(&both), "mtx", "a");
    assert!(mtx
        .iter()
        .any(|(m, l)| m == "treated_days_mean" && both_summary[m] != *l));

    // timeseries.csv: the first arm's columns (natural history and its three
    // drugs) are identical.
    let ts_alone = arm_lines(&timeseries_csv(&alone, &alone_drugs), "ladder");
    let ts_both = arm_lines(&timeseries_csv(&both, &both_drugs), "ladder");
    assert_eq!(ts_alone.len(), ts_both.len());
    for (a, b) in ts_alone.iter().zip(&ts_both) {
        assert_eq!(a, &fields(b, 13, "ladder"));
    }
    assert_eq!(arm_lines(&km_csv(&alone), "ladder"), arm_lines(&km_csv(&both), "ladder"));
}
