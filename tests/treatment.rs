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

mod common;
use common::{calibration_rows, Calibrated};

use crmo_sim::engine::cohort::NoRows;
use crmo_sim::output::tables::{km_csv, summary_csv, timeseries_csv};
use crmo_sim::results::summary::SummaryRow;
use crmo_sim::results::CohortResult;
use crmo_sim::study::Study;

// ---------------------------------------------------------------- helpers

/// Parses scenario text and runs its whole cohort in-process.
fn run_text(text: &str) -> (CohortResult, Vec<String>) {
    let loaded = crmo_sim::scenario::parse(text, "x.toml").expect("valid scenario");
    let study = Study::resolve(loaded).expect("study resolves");
    let res = study.run(&mut NoRows, &|_| {}).expect("cohort runs");
    (res, study.drug_names())
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
    let plain_summary = summary_by_metric(&summary_csv(&plain).unwrap(), "natural_history", "nh");
    let multi_summary: HashMap<String, String> =
        summary_by_metric(&summary_csv(&multi).unwrap(), "natural_history", "nh")
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
    let treated = summary_by_metric(&summary_csv(&multi).unwrap(), "treated", "nh");
    let differing = treated
        .iter()
        .filter(|(m, l)| plain_summary.iter().any(|(pm, pl)| pm == m && pl != l))
        .count();
    assert!(
        differing > 10,
        "the treated arm differs in {differing} rows"
    );

    // timeseries.csv: the natural-history columns (the first 10) are
    // identical; the untreated arm is on no drug.
    let ts_plain = arm_lines(
        &timeseries_csv(&plain, &plain_drugs).unwrap(),
        "natural_history",
    );
    let ts_multi = arm_lines(&timeseries_csv(&multi, &drugs).unwrap(), "natural_history");
    assert_eq!(ts_plain.len(), ts_multi.len());
    assert!(ts_plain.len() > 300);
    for (p, m) in ts_plain.iter().zip(&ts_multi) {
        assert_eq!(p, &fields(m, 10, "natural_history"));
        let drug_cols: Vec<&str> = m.split(',').skip(10).collect();
        assert_eq!(drug_cols, vec!["0", "0"], "untreated arm on a drug: {m}");
    }

    // km.csv: identical rows.
    let km_plain = arm_lines(&km_csv(&plain).unwrap(), "natural_history");
    let km_multi = arm_lines(&km_csv(&multi).unwrap(), "natural_history");
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
    // Each arm's drugs, then their class switches (`adalimumab` for the
    // TNF inhibitor), before the next arm's.
    assert_eq!(
        both_drugs,
        vec![
            "nsaid",
            "pamidronate",
            "tnf_inhibitor",
            "adalimumab",
            "methotrexate"
        ]
    );

    let alone_summary = summary_by_metric(&summary_csv(&alone).unwrap(), "ladder", "a");
    let both_summary: HashMap<String, String> =
        summary_by_metric(&summary_csv(&both).unwrap(), "ladder", "a")
            .into_iter()
            .collect();
    assert!(alone_summary
        .iter()
        .any(|(m, _)| m == "days_on_pamidronate_mean"));
    for (metric, line) in &alone_summary {
        assert_eq!(both_summary.get(metric), Some(line), "summary row {metric}");
    }
    // The second arm differs from the first.
    let mtx = summary_by_metric(&summary_csv(&both).unwrap(), "mtx", "a");
    assert!(mtx
        .iter()
        .any(|(m, l)| m == "treated_days_mean" && both_summary[m] != *l));

    // timeseries.csv: the first arm's columns (natural history and its four
    // drugs) are identical.
    let ts_alone = arm_lines(&timeseries_csv(&alone, &alone_drugs).unwrap(), "ladder");
    let ts_both = arm_lines(&timeseries_csv(&both, &both_drugs).unwrap(), "ladder");
    assert_eq!(ts_alone.len(), ts_both.len());
    for (a, b) in ts_alone.iter().zip(&ts_both) {
        assert_eq!(a, &fields(b, 14, "ladder"));
    }
    assert_eq!(
        arm_lines(&km_csv(&alone).unwrap(), "ladder"),
        arm_lines(&km_csv(&both).unwrap(), "ladder")
    );
}

// --------------------------------------------- 2. neutral drug, drug rate

/// A drug whose every effect is 1 changes no flare outcome: the natural
/// history runs on its own streams, so the untreated and placebo arms see
/// the same flares.
#[test]
fn neutral_placebo_gives_exactly_the_untreated_flares() {
    let text = format!(
        "{SMALL}\n[drugs.placebo]\np_response = 1\nflare_hazard_ratio = 1\n\
         flare_duration_factor = 1\nlesion_factor = 1\nheal_time_factor = 1\n\n\
         [[arm]]\nname = \"none\"\nuntreated = true\n\n\
         [[arm]]\nname = \"placebo\"\nladder = [\"placebo\"]\n"
    );
    let (res, drugs) = run_text(&text);
    assert_eq!(drugs, vec!["placebo"]);
    let rows = res.summary();
    for metric in [
        "flares_per_patient",
        "flares_per_patient_year",
        "time_in_flare_frac",
        "new_lesions_per_flare",
        "fever_per_flare_frac",
        "active_at_end_frac",
        "resolved_frac",
        "diagnostic_delay_mean_days",
        "ever_relapsed_after_diagnosis_frac",
        "remission_6_months_frac",
        "remission_12_months_frac",
        "remission_60_months_frac",
        "active_symptomatic_lesions_year_2_mean",
        "vertebral_fracture_frac",
    ] {
        let (a, b) = (row(rows, "none", metric), row(rows, "placebo", metric));
        assert_eq!(
            (a.mean, a.mcse),
            (b.mean, b.mcse),
            "{metric}: untreated {a:?} vs placebo {b:?}"
        );
    }
    // The placebo is really given (so the equality is not vacuous).
    assert!(row(rows, "placebo", "days_on_placebo_mean").mean > 100.0);
    // Diagnosis comes in a flare, so every diagnosed patient of the untreated
    // arm spends time in a flare given no drug; the placebo arm starts its
    // drug at diagnosis and gives it while the patient is active.
    let untreated_active = |arm| row(rows, arm, "untreated_while_active_frac").mean;
    assert_eq!(untreated_active("none"), 1.0);
    assert!(
        untreated_active("placebo") < 0.05,
        "{}",
        untreated_active("placebo")
    );
    // Every paired difference is exactly zero.
    for d in res.differences() {
        if d.metric.starts_with("days_on_")
            || d.metric.starts_with("received_")
            || d.metric == "untreated_while_active_frac"
            || d.metric.starts_with("reached_step")
            || d.metric == "treated_days_mean"
        {
            continue;
        }
        assert!(
            d.mean_difference == 0.0 || d.mean_difference.is_nan(),
            "{}: paired difference {}",
            d.metric,
            d.mean_difference
        );
    }
    // Kaplan-Meier curves (first remission, first relapse, ...) and the
    // natural-history columns of the time series are identical.
    let km = km_csv(&res).unwrap();
    let km_none: Vec<String> = arm_lines(&km, "none")
        .iter()
        .map(|l| fields(l, usize::MAX, "x"))
        .collect();
    let km_placebo: Vec<String> = arm_lines(&km, "placebo")
        .iter()
        .map(|l| fields(l, usize::MAX, "x"))
        .collect();
    assert!(km_none.len() > 100);
    assert_eq!(km_none, km_placebo);
    let ts = timeseries_csv(&res, &drugs).unwrap();
    let ts_none: Vec<String> = arm_lines(&ts, "none")
        .iter()
        .map(|l| fields(l, 10, "x"))
        .collect();
    let ts_placebo: Vec<String> = arm_lines(&ts, "placebo")
        .iter()
        .map(|l| fields(l, 10, "x"))
        .collect();
    assert_eq!(ts_none, ts_placebo);
}

/// On a drug with flare hazard ratio r (response certain, no lag, no adverse
/// events, never tapered), without frailty, burnout or loss to follow-up and
/// with exponential flares, the course on treatment is a two-state Markov
/// chain: remission -> flare at b = r * rate, flare -> remission at a = 1 /
/// mean duration. Its long-run flare-start rate is a b / (a + b).
///
/// Finite horizon: treatment starts at diagnosis, always inside a flare (the
/// flare running then is not counted: it started before treatment), so a
/// patient treated for T days expects c (T - (1 - exp(-s T)) / s) flare
/// starts, c = a b / s, s = a + b. With T of about 48 years, exp(-s T) is
/// below 1e-30, and the ratio estimator sum(N) / sum(T) expects
/// c (1 - 1 / (s mean(T))). mean(T) = horizon - E[diagnosis day], worked out
/// below from the untreated course before diagnosis.
#[test]
fn drug_hazard_ratio_gives_the_analytic_on_drug_flare_rate() {
    const RATE: f64 = 1.5; // flares per year in remission, untreated
    const MEAN_WEEKS: f64 = 40.0; // mean flare duration
    const R: f64 = 0.4; // hazard ratio on the drug
    const HORIZON_YEARS: f64 = 50.0;
    const DX_MEDIAN_MONTHS: f64 = 12.0;
    const DX_SDLOG: f64 = 0.9;
    let text = format!(
        r#"
name = "rate"
seed = 424242
patients = 2000
horizon_years = {HORIZON_YEARS}

[natural_history]
flare_rate_per_year = {RATE}
flare_duration_mean_weeks = {MEAN_WEEKS}
flare_duration_shape = 1
first_flare_duration_mean_weeks = {MEAN_WEEKS}
first_flare_duration_shape = 1
frailty_variance = 0
resolution_median_years = inf
loss_to_follow_up_per_year = 0
symptomatic_months_to_diagnosis_median = {DX_MEDIAN_MONTHS}
symptomatic_months_to_diagnosis_sdlog = {DX_SDLOG}
p_early_diagnosis = 0

[drugs.halver]
p_response = 1
onset_lag_weeks = 0
flare_hazard_ratio = {R}
flare_duration_factor = 1
lesion_factor = 1
heal_time_factor = 1
adverse_event_per_year = 0

[[arm]]
name = "on_drug"
ladder = ["halver"]
stop_after_remission_weeks = inf
"#
    );
    let (res, _) = run_text(&text);
    let rows = res.summary();
    // Treated from diagnosis to the end without a stop: the flare rate after
    // diagnosis is the on-drug rate.
    let est = row(rows, "on_drug", "flares_per_patient_year_after_diagnosis");

    // Rates per day.
    let year = 365.25;
    let a = 1.0 / (MEAN_WEEKS * 7.0);
    let b0 = RATE / year;
    let b = R * b0;
    let s = a + b;
    let c = a * b / s;

    // E[diagnosis day]: diagnosis comes once the time in flares reaches
    // D ~ lognormal(median 12 months, sdlog 0.9). Untreated, from a flare at
    // onset, flares end at rate a per day of flare (memoryless), so before D
    // days of flare have passed, Poisson(a D) flares have ended, each
    // followed by a remission of mean 1 / b0. So E[dx | D] = D (1 + a / b0)
    // and E[dx] = E[D] (1 + a / b0), E[D] = median * exp(sdlog^2 / 2).
    let e_d = DX_MEDIAN_MONTHS * year / 12.0 * (DX_SDLOG * DX_SDLOG / 2.0).exp();
    let mean_dx = e_d * (1.0 + a / b0);
    let mean_t = HORIZON_YEARS * year - mean_dx;
    let expected = c * (1.0 - 1.0 / (s * mean_t)) * year;
    let long_run = c * year;

    // Predicted Monte Carlo error: the flare count of an alternating process
    // with exponential phases has variance c T CV^2 for large T, CV^2 the
    // squared coefficient of variation of one cycle, (a^2 + b^2) / (a + b)^2.
    let cv2 = (a * a + b * b) / (s * s);
    let n = res.patients as f64;
    let predicted_se = (c * year * cv2 / (n * mean_t / year)).sqrt();

    let treated_row = row(rows, "on_drug", "treated_days_mean");
    let treated = treated_row.mean;
    println!(
        "on-drug flare rate: simulated {:.5} (mcse {:.5}), analytic {:.5} \
         (long-run {:.5}); predicted se {:.5}; mean days treated {:.1} vs analytic {:.1}",
        est.mean, est.mcse, expected, long_run, predicted_se, treated, mean_t
    );
    // The reported mcse is the delta-method error of the ratio; it must agree
    // with the analytic prediction (its own sampling error is a few percent).
    assert!(
        (0.85..1.15).contains(&(est.mcse / predicted_se)),
        "mcse {} vs predicted {}",
        est.mcse,
        predicted_se
    );
    // 4 standard errors: two-sided false-alarm rate 6.3e-5.
    assert!(
        (est.mean - expected).abs() < 4.0 * est.mcse,
        "on-drug flare rate {} vs analytic {} (mcse {})",
        est.mean,
        expected,
        est.mcse
    );
    // The mean time treated, horizon - E[dx], within 4 of its standard
    // errors (the diagnosis day's spread is wide: the error is about 24 days
    // for 2000 patients).
    assert!(
        (treated - mean_t).abs() < 4.0 * treated_row.mcse,
        "mean days treated {treated} vs analytic {mean_t} (mcse {})",
        treated_row.mcse
    );
}

// ------------------------------------------------ 3. paired differences

/// The paired difference of two arms on the same patients has a smaller
/// standard error than the difference of two independent estimates.
#[test]
fn paired_differences_are_more_precise_than_unpaired() {
    let text = read(&root().join("scenarios/early-bisphosphonate.toml"))
        .replace("patients = 20000", "patients = 3000");
    assert!(text.contains("patients = 3000"));
    let (res, _) = run_text(&text);
    let rows = res.summary();
    let diffs = res.differences();
    let (ref_arm, arm) = ("nsaid-first", "pamidronate-first");
    let mut checked = 0;
    for metric in [
        "remission_12_months_frac",
        "remission_24_months_frac",
        "remission_6_months_frac",
        "flares_per_patient",
        "ever_relapsed_after_diagnosis_frac",
    ] {
        let d = diffs
            .iter()
            .find(|d| d.arm == arm && d.reference_arm == ref_arm && d.metric == metric)
            .unwrap_or_else(|| panic!("no difference row for {metric}"));
        let (a, b) = (row(rows, ref_arm, metric), row(rows, arm, metric));
        let unpaired = (a.mcse * a.mcse + b.mcse * b.mcse).sqrt();
        println!(
            "{metric}: difference {:.4}, paired se {:.5}, unpaired se {:.5}, ratio {:.3}",
            d.mean_difference,
            d.std_error,
            unpaired,
            d.std_error / unpaired
        );
        // Both arms observe the same patients at the same times (loss to
        // follow-up and diagnosis are natural history), so the mean paired
        // difference is the difference of the means.
        assert!(
            (d.mean_difference - (b.mean - a.mean)).abs() < 1e-12,
            "{metric}: {} vs {}",
            d.mean_difference,
            b.mean - a.mean
        );
        assert!(d.std_error > 0.0);
        assert!(
            d.std_error < unpaired,
            "{metric}: paired se {} not below unpaired {}",
            d.std_error,
            unpaired
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

// ------------------------------------------------ 4. calibration C1-C7

/// `crmo-sim calibrate` of the built-in reference scenario, run once for all
/// seven target tests; its `calibration.csv` by id.
fn calibration() -> &'static HashMap<String, Calibrated> {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static ROWS: OnceLock<HashMap<String, Calibrated>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let dir = DIR.get_or_init(tempdir);
        let out = dir.path().join("calibrate");
        crmo()
            .args(["calibrate", "--out"])
            .arg(&out)
            .arg("-q")
            .assert()
            .success();
        let text = read(&out.join("calibration.csv"));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            header.join(","),
            "id,target,published,tolerance,simulated,mcse,inside"
        );
        calibration_rows(&mut reader)
    })
}

/// Checks target `id` against the published value and tolerance written here.
fn assert_target(id: &str, source: &str, published: f64, tolerance: f64) {
    let c = calibration()
        .get(id)
        .unwrap_or_else(|| panic!("{id} missing from calibration.csv"));
    println!(
        "{id} [{source}]: simulated {:.4} (mcse {:.4}), published {published} ± {tolerance}; \
         margin to the edge {:.1} mcse",
        c.simulated,
        c.mcse,
        (tolerance - (c.simulated - published).abs()) / c.mcse
    );
    assert_eq!(
        (c.published, c.tolerance),
        (published, tolerance),
        "{id}: calibration.csv states a different target than [{source}]"
    );
    assert!(c.simulated.is_finite() && c.mcse.is_finite() && c.mcse > 0.0);
    assert!(
        (c.simulated - published).abs() <= tolerance,
        "{id} [{source}]: simulated {} outside {published} ± {tolerance}",
        c.simulated
    );
    assert!(c.inside, "{id}: the `inside` column disagrees");
    // Inside by more than 4 Monte Carlo errors, so the model's expected value
    // (not just this sample) lies inside; false-alarm rate 3.2e-5 one-sided.
    assert!(
        (c.simulated - published).abs() + 4.0 * c.mcse <= tolerance,
        "{id} [{source}]: inside only by Monte Carlo luck ({} ± 4 x {})",
        c.simulated,
        c.mcse
    );
}

/// C1: symptom-free 6 months after diagnosis on NSAID, 43% ± 12 [Beck2010].
#[test]
fn c1_symptom_free_at_6_months_beck2010() {
    assert_target("C1", "Beck2010", 0.43, 0.12);
}

/// C2: median time from diagnosis to first relapse, 29 ± 9 months [Schnabel2017].
#[test]
fn c2_median_months_to_first_relapse_schnabel2017() {
    assert_target("C2", "Schnabel2017", 29.0, 9.0);
}

/// C3: share of lesions at diagnosis that are clinically silent, 0.29 ± 0.07 [Roderick2016].
#[test]
fn c3_silent_lesion_share_roderick2016() {
    assert_target("C3", "Roderick2016", 0.29, 0.07);
}

/// C4: share with a solitary lesion after imaging at diagnosis, 0.24 ± 0.08 [Roderick2016].
#[test]
fn c4_solitary_lesion_share_roderick2016() {
    assert_target("C4", "Roderick2016", 0.24, 0.08);
}

/// C5: median diagnostic delay, 15 ± 6 months [Roderick2016].
#[test]
fn c5_median_diagnostic_delay_months_roderick2016() {
    assert_target("C5", "Roderick2016", 15.0, 6.0);
}

/// C6: share with a Jansson score >= 39, 0.68 ± 0.10 [Jansson2009].
#[test]
fn c6_jansson_score_ge39_jansson2009() {
    assert_target("C6", "Jansson2009", 0.68, 0.10);
}

/// C7: share meeting Bristol criterion 1 (no biopsy), 0.83 ± 0.10 [Roderick2016].
#[test]
fn c7_bristol_criterion1_roderick2016() {
    assert_target("C7", "Roderick2016", 0.83, 0.10);
}

// ------------------------------------------------------- 5. bad input

/// Writes `text` as `bad.toml` and checks that both `check` and `run` refuse
/// it with exit code 2 and a message naming the file, a line among `lines`
/// and a column, containing every word of `words`, without panicking and
/// without writing any output.
fn refused(text: &str, lines: &[usize], words: &[&str]) -> String {
    let dir = tempdir();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).expect("write scenario");
    let out = dir.path().join("out");
    let mut last = String::new();
    for args in [vec!["check"], vec!["run", "-q", "--out"]] {
        let mut cmd = crmo();
        cmd.args(&args);
        if args[0] == "run" {
            cmd.arg(&out);
        }
        let o = cmd.arg(&path).output().expect("crmo-sim runs");
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        println!("{} ->\n{stderr}", args[0]);
        assert_eq!(o.status.code(), Some(2), "{}: {stderr}", args[0]);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("bad.toml"), "file not named: {stderr}");
        assert!(stderr.contains("column"), "no column: {stderr}");
        assert!(
            lines.iter().any(|l| stderr.contains(&format!("line {l},"))),
            "none of lines {lines:?} named: {stderr}"
        );
        for w in words {
            assert!(stderr.contains(w), "{w:?} missing from: {stderr}");
        }
        assert!(!out.exists(), "a refused run wrote {}", out.display());
        last = stderr;
    }
    last
}

#[test]
fn unknown_drug_in_a_ladder_is_refused_with_the_known_drugs() {
    refused(
        "horizon_years = 5\n\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\", \"aspirinx\"]\n",
        &[5],
        &[
            "unknown drug `aspirinx`",
            "known drugs are",
            "nsaid",
            "methotrexate",
            "pamidronate",
            "tnf_inhibitor",
            "il1_blocker",
            "[drugs.NAME]",
        ],
    );
}

#[test]
fn empty_ladder_is_refused_with_a_hint_to_untreated() {
    refused(
        "horizon_years = 5\n\n[[arm]]\nname = \"a\"\nladder = []\n",
        &[5],
        &["empty ladder", "untreated = true"],
    );
}

#[test]
fn escalation_rule_that_can_never_fire_is_refused() {
    refused(
        "horizon_years = 1\n\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\", \"pamidronate\"]\nmin_weeks_on_step = 60\n",
        &[5, 6],
        &["min_weeks_on_step", "never", "lower it"],
    );
}

#[test]
fn drug_lag_beyond_the_horizon_is_refused() {
    refused(
        "horizon_years = 1\n\n[drugs.nsaid]\nonset_lag_weeks = 60\n\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n",
        &[4, 8],
        &["nsaid", "60 weeks", "horizon", "onset_lag_weeks"],
    );
}

#[test]
fn two_arms_with_the_same_name_are_refused() {
    refused(
        "[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n\n[[arm]]\nname = \"a\"\nuntreated = true\n",
        &[6],
        &["two arms", "`a`", "unique"],
    );
}

#[test]
fn new_drug_without_p_response_is_refused() {
    refused(
        "[drugs.newdrug]\nflare_hazard_ratio = 0.5\n\n[[arm]]\nname = \"a\"\nladder = [\"newdrug\"]\n",
        &[1],
        &["newdrug", "not in the catalogue", "p_response"],
    );
}

#[test]
fn unknown_field_in_an_arm_is_refused() {
    refused(
        "[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\ncolour = \"red\"\n",
        &[4],
        &["unknown field `colour`", "ladder", "min_weeks_on_step"],
    );
}

#[test]
fn unknown_field_in_a_catalogue_drug_is_refused() {
    refused(
        "[drugs.nsaid]\np_respons = 0.5\n\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n",
        &[2],
        &[
            "unknown field `p_respons`",
            "did you mean `p_response`?",
            "check --help",
        ],
    );
}

/// A removed field is refused at its line with the name of its replacement.
#[test]
fn removed_diagnostic_delay_field_names_its_replacement() {
    refused(
        "horizon_years = 5\n[natural_history]\ndiagnostic_delay_median_months = 12\n",
        &[3],
        &[
            "diagnostic_delay_median_months",
            "was removed",
            "symptomatic_months_to_diagnosis_median",
        ],
    );
    refused(
        "[natural_history.majeed]\ndiagnostic_delay_sdlog = 0.9\n",
        &[2],
        &["was removed", "symptomatic_months_to_diagnosis_sdlog"],
    );
}

#[test]
fn malformed_course_fields_are_refused() {
    refused(
        "[natural_history]\nfirst_flare_duration_mean_weeks = 0\n",
        &[2],
        &["from 0.001 to 5200"],
    );
    refused(
        "[drugs.pamidronate]\nlasting_hazard_ratio = -0.5\n\n[[arm]]\nname = \"a\"\nladder = [\"pamidronate\"]\n",
        &[2],
        &["from 0 to 100"],
    );
    refused(
        "[drugs.pamidronate]\nlasting_weeks = \"long\"\n\n[[arm]]\nname = \"a\"\nladder = [\"pamidronate\"]\n",
        &[2],
        &["lasting_weeks"],
    );
    refused(
        "[[arm]]\nname = \"a\"\nladder = [\"nsaid\", \"tnf_inhibitor\"]\non_adverse_event_at_top = \"sideways\"\n",
        &[4],
        &["on_adverse_event_at_top", "previous", "stop", "known drug"],
    );
    refused(
        "[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\nescalate_when = \"sometimes\"\n",
        &[4],
        &["no_response"],
    );
    refused(
        "[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\nstop_after_remission_weeks_majeed = 0\n",
        &[4],
        &["greater than 0"],
    );
}

// ---------------------------------------------------- 6. multi-arm outputs

/// `early-bisphosphonate.toml` writes paired differences, summary rows of
/// both arms and per-drug exposure columns.
#[test]
fn multi_arm_run_writes_differences_and_drug_columns() {
    let dir = tempdir();
    let out = dir.path().join("eb");
    crmo()
        .args([
            "run",
            "scenarios/early-bisphosphonate.toml",
            "--patients",
            "2000",
            "-q",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let (first, second) = ("nsaid-first", "pamidronate-first");

    let diffs = read(&out.join("differences.csv"));
    let mut lines = diffs.lines();
    assert_eq!(
        lines.next(),
        Some("arm,reference_arm,metric,paired_on,mean_difference,lower_95,upper_95,std_error")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() > 20, "{} difference rows", rows.len());
    for r in &rows {
        assert_eq!(r.len(), 8, "{r:?}");
        assert_eq!((r[0], r[1]), (second, first), "{r:?}");
        assert!(["patient value", "patient rate"].contains(&r[3]), "{r:?}");
        // An empty cell is a difference without observations (e.g. a drug one arm never gives).
        let v: Vec<f64> = r[4..7]
            .iter()
            .map(|x| {
                if x.is_empty() {
                    f64::NAN
                } else {
                    x.parse().expect("number")
                }
            })
            .collect();
        if v.iter().all(|x| x.is_finite()) {
            assert!(v[1] <= v[0] && v[0] <= v[2], "interval {r:?}");
        }
    }
    for m in [
        "remission_12_months_frac",
        "remission_24_months_frac",
        "ever_relapsed_after_diagnosis_frac",
        "days_on_nsaid_mean",
    ] {
        assert!(rows.iter().any(|r| r[2] == m), "no difference row {m}");
    }
    // Ratio metrics pair per-patient rates; ladder positions are not paired
    // (the two ladders hold different drugs at each step).
    for m in ["flares_per_patient_year", "time_in_flare_frac"] {
        assert!(
            rows.iter().any(|r| r[2] == m && r[3] == "patient rate"),
            "no rate difference {m}"
        );
    }
    assert!(!rows.iter().any(|r| r[2].starts_with("reached_step_")));

    let summary = read(&out.join("summary.csv"));
    assert_eq!(
        summary.lines().next(),
        Some("arm,metric,mean,lower_95,upper_95,mcse")
    );
    for arm in [first, second] {
        let metrics: Vec<String> = arm_lines(&summary, arm)
            .iter()
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect();
        for m in [
            "flares_per_patient",
            "remission_12_months_frac",
            "flares_per_patient_year_after_diagnosis",
            "days_on_nsaid_mean",
            "days_on_pamidronate_mean",
            "days_on_tnf_inhibitor_mean",
            "reached_step_3_frac",
            "adverse_event_frac",
        ] {
            assert!(metrics.iter().any(|x| x == m), "{arm}: no summary row {m}");
        }
    }
    // The pamidronate-first ladder never gives an NSAID.
    let no_nsaid = arm_lines(&summary, second)
        .into_iter()
        .find(|l| l.starts_with(&format!("{second},days_on_nsaid_mean,")))
        .unwrap();
    assert!(
        no_nsaid.starts_with(&format!("{second},days_on_nsaid_mean,0,")),
        "{no_nsaid}"
    );

    let ts = read(&out.join("timeseries.csv"));
    let header: Vec<&str> = ts.lines().next().unwrap().split(',').collect();
    // The ladders' drugs, then the TNF inhibitor's class switch.
    assert_eq!(
        &header[header.len() - 4..],
        &[
            "on_nsaid_frac",
            "on_pamidronate_frac",
            "on_tnf_inhibitor_frac",
            "on_adalimumab_frac"
        ]
    );
    let max_col = |arm: &str, col: usize| {
        arm_lines(&ts, arm)
            .iter()
            .map(|l| l.split(',').nth(col).unwrap().parse::<f64>().unwrap())
            .fold(0.0, f64::max)
    };
    let nsaid_col = header.len() - 4;
    assert!(max_col(first, nsaid_col) > 0.3, "NSAID-first arm on NSAID");
    assert_eq!(
        max_col(second, nsaid_col),
        0.0,
        "pamidronate-first arm on NSAID"
    );
    assert!(
        max_col(second, nsaid_col + 2) > 0.0,
        "pamidronate-first arm reaches TNF"
    );
}

/// With `[output] events = true`, `events.csv` records drug starts and stops.
#[test]
fn events_csv_records_drug_starts_and_stops() {
    let dir = tempdir();
    let text =
        read(&root().join("scenarios/early-bisphosphonate.toml")) + "\n[output]\nevents = true\n";
    let path = dir.path().join("eb-events.toml");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("out");
    crmo()
        .args(["run", "--patients", "200", "-q", "--out"])
        .arg(&out)
        .arg(&path)
        .assert()
        .success();
    let mut rdr = csv::Reader::from_path(out.join("events.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (drug, step, reason) = (col("drug"), col("step"), col("reason"));
    assert_eq!((col("arm"), col("event")), (0, 4));
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let of = |arm: &str, event: &str| {
        rows.iter()
            .filter(|r| r[0] == arm && r[4] == event)
            .collect::<Vec<_>>()
    };
    let starts = of("nsaid-first", "drug_start");
    let stops = of("nsaid-first", "drug_stop");
    assert!(!starts.is_empty() && !stops.is_empty());
    // The first step of the NSAID-first arm is the NSAID, at step 1.
    assert!(
        starts.iter().any(|r| r[drug] == "nsaid" && r[step] == "1"),
        "{:?}",
        starts[0]
    );
    assert!(of("pamidronate-first", "drug_start")
        .iter()
        .all(|r| r[drug] != "nsaid"));
    assert!(of("pamidronate-first", "drug_start")
        .iter()
        .any(|r| r[drug] == "pamidronate" && r[step] == "1"));
    // Stops carry their reason.
    let reasons = [
        "escalation",
        "taper",
        "adverse_event",
        "course_end",
        "top_of_ladder",
    ];
    for r in &stops {
        assert!(reasons.contains(&r[reason].as_str()), "stop reason {:?}", r);
    }
    assert!(stops.iter().any(|r| r[reason] == "escalation"));
}

/// A treatment state reset for patient after patient, as the cohort runner
/// keeps one per arm, simulates every patient of the reference scenario's
/// arms exactly as a state built fresh for each: the same outcome, events,
/// state segments and drug intervals.
#[test]
fn a_reset_treatment_state_simulates_as_a_fresh_one() {
    use crmo_sim::engine::patient::{EventLog, Outcome, Scratch};
    let text = read(&root().join("scenarios/reference.toml"));
    let loaded = crmo_sim::scenario::parse(&text, "reference.toml").expect("valid scenario");
    let study = Study::resolve(loaded).expect("study resolves");
    let model = study.replicate_model(0);
    let mut treated = 0;
    for arm in study.arms().iter().filter(|a| a.plan.is_some()) {
        let mut state = arm.treatment_state(&model);
        let (mut reused_scratch, mut reused) = (Scratch::default(), Outcome::default());
        for p in 0..300 {
            let mut reused_log = EventLog::default();
            arm.simulate_reusing(
                &model,
                p,
                state.as_mut(),
                &mut reused_scratch,
                &mut reused_log,
                &mut reused,
            );
            let (mut fresh_scratch, mut fresh_log) = (Scratch::default(), EventLog::default());
            let fresh = arm.simulate(&model, p, &mut fresh_scratch, &mut fresh_log);
            assert_eq!(format!("{reused:?}"), format!("{fresh:?}"), "patient {p}");
            assert_eq!(reused_log.0, fresh_log.0, "patient {p}");
            assert_eq!(reused_scratch.segments, fresh_scratch.segments);
            assert_eq!(reused_scratch.drug_intervals, fresh_scratch.drug_intervals);
            treated += usize::from(fresh.treatment.steps_reached > 0);
        }
    }
    // The comparison means something only if patients were treated (and
    // so left state behind for the next one).
    assert!(treated > 100, "{treated} treated patients");
}

/// Courses given when the strategy next acts, as for the cohort runner's
/// observer (which takes no course events), simulate every patient of the
/// shipped scenarios with bisphosphonate courses exactly as courses taken
/// each as an event of the course (as for an event log): the same outcome,
/// state segments and drug intervals.
#[test]
fn courses_given_late_simulate_as_courses_taken_as_events() {
    use crmo_sim::engine::patient::{Discard, EventKind, EventLog, Scratch};
    for name in ["reference", "early-bisphosphonate"] {
        let text = read(&root().join(format!("scenarios/{name}.toml")));
        let loaded = crmo_sim::scenario::parse(&text, "s.toml").expect("valid scenario");
        let study = Study::resolve(loaded).expect("study resolves");
        let model = study.replicate_model(0);
        let mut courses = 0;
        for arm in study.arms().iter().filter(|a| a.plan.is_some()) {
            for p in 0..300 {
                let (mut each_scratch, mut log) = (Scratch::default(), EventLog::default());
                let each = arm.simulate(&model, p, &mut each_scratch, &mut log);
                let mut late_scratch = Scratch::default();
                let late = arm.simulate(&model, p, &mut late_scratch, &mut Discard);
                assert_eq!(
                    format!("{late:?}"),
                    format!("{each:?}"),
                    "{name}, patient {p}"
                );
                assert_eq!(late_scratch.segments, each_scratch.segments);
                assert_eq!(late_scratch.drug_intervals, each_scratch.drug_intervals);
                courses += log
                    .0
                    .iter()
                    .filter(|(_, kind)| matches!(kind, EventKind::DrugCourse { .. }))
                    .count();
            }
        }
        // The comparison means something only if courses were given.
        assert!(courses > 300, "{name}: {courses} courses");
    }
}
