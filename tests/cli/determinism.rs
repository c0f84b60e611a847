//! Determinism: the result files (summary.csv, timeseries.csv, km.csv, and
//! patients.csv/events.csv when asked) are byte-identical whatever the
//! thread count (RAYON_NUM_THREADS or --threads) and across re-runs.
//! Cohorts span several chunks of 1024 patients so that chunks really run
//! on different threads.

use crate::errors::assert_refused;
use crate::util::{assert_same_results, crmo, manifest, output, run_into, tempdir, write_scenario};

/// A scenario with several replicates and distribution-valued parameters
/// (drawn per replicate), so every part of the output is exercised.
const PSA: &str = r#"name = "psa"
seed = 99
horizon_years = 5
replicates = 3
[natural_history]
p_fever = { dist = "beta", alpha = 2, beta = 6 }
flare_rate_per_year = { dist = "lognormal", median = 1.5, sdlog = 0.3, max = 6 }
"#;

#[test]
fn rayon_num_threads_1_and_2_give_identical_files() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "psa.toml", PSA);
    let args = [path.to_str().unwrap(), "--patients", "2100"];
    let one = run_into(&args, &tmp.path().join("t1"), &[("RAYON_NUM_THREADS", "1")]);
    let two = run_into(&args, &tmp.path().join("t2"), &[("RAYON_NUM_THREADS", "2")]);
    // The variable took effect (else the comparison would prove nothing).
    assert_eq!(manifest(&one)["threads"], 1);
    assert_eq!(manifest(&two)["threads"], 2);
    assert_same_results(&one, &two, "RAYON_NUM_THREADS=1 vs 2");
    assert_eq!(
        manifest(&one)["patient_years"],
        manifest(&two)["patient_years"]
    );
}

#[test]
fn threads_option_1_and_2_give_identical_files() {
    let tmp = tempdir();
    let args = ["scenarios/natural-history.toml", "--patients", "3000"];
    let one = run_into(
        &[&args[..], &["--threads", "1"]].concat(),
        &tmp.path().join("t1"),
        &[],
    );
    let two = run_into(
        &[&args[..], &["--threads", "2"]].concat(),
        &tmp.path().join("t2"),
        &[],
    );
    assert_eq!(manifest(&one)["threads"], 1);
    assert_eq!(manifest(&two)["threads"], 2);
    assert_same_results(&one, &two, "--threads 1 vs 2");
}

#[test]
fn two_runs_give_identical_files() {
    let tmp = tempdir();
    let args = ["scenarios/natural-history.toml", "--patients", "2500"];
    let a = run_into(&args, &tmp.path().join("a"), &[]);
    let b = run_into(&args, &tmp.path().join("b"), &[]);
    assert_same_results(&a, &b, "run 1 vs run 2");
    let (ma, mb) = (manifest(&a), manifest(&b));
    for key in [
        "scenario_sha256",
        "seed",
        "patients",
        "patient_years",
        "files",
    ] {
        assert_eq!(ma[key], mb[key], "manifest {key}");
    }
}

#[test]
fn per_patient_files_are_identical_across_threads_and_runs() {
    let tmp = tempdir();
    let path = write_scenario(
        tmp.path(),
        "rows.toml",
        "seed = 5\nhorizon_years = 3\nreplicates = 2\n[output]\npatients = true\nevents = true\n",
    );
    let args = [path.to_str().unwrap(), "--patients", "2100"];
    let one = run_into(
        &[&args[..], &["--threads", "1"]].concat(),
        &tmp.path().join("t1"),
        &[],
    );
    let two = run_into(
        &[&args[..], &["--threads", "2"]].concat(),
        &tmp.path().join("t2"),
        &[],
    );
    let again = run_into(
        &[&args[..], &["--threads", "2"]].concat(),
        &tmp.path().join("t3"),
        &[("RAYON_NUM_THREADS", "1")],
    );
    for f in ["patients.csv", "events.csv"] {
        assert!(one.contains_key(f), "{f} missing");
    }
    // Header plus 2 replicates x 2100 patients.
    let rows = one["patients.csv"].iter().filter(|&&b| b == b'\n').count();
    assert_eq!(rows, 1 + 2 * 2100);
    assert_same_results(&one, &two, "per-patient files, --threads 1 vs 2");
    assert_same_results(&two, &again, "per-patient files, second run");
}

/// Many chunks (65 of 1,024 patients) with a short horizon (cheap in a
/// debug build): how chunks are shared out and merged does not change the
/// results either.
#[test]
fn identical_across_threads_beyond_one_batch() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "wide.toml", "seed = 8\nhorizon_years = 0.25\n");
    let args = [path.to_str().unwrap(), "--patients", "66000"];
    let one = run_into(
        &[&args[..], &["--threads", "1"]].concat(),
        &tmp.path().join("t1"),
        &[],
    );
    let two = run_into(
        &[&args[..], &["--threads", "2"]].concat(),
        &tmp.path().join("t2"),
        &[],
    );
    assert_same_results(&one, &two, "66,000 patients, --threads 1 vs 2");
}

/// Treatment arms (their own random streams, paired differences between
/// arms) are just as reproducible.
#[test]
fn treated_arms_are_identical_across_threads() {
    let tmp = tempdir();
    let args = ["scenarios/early-bisphosphonate.toml", "--patients", "2100"];
    let one = run_into(&args, &tmp.path().join("t1"), &[("RAYON_NUM_THREADS", "1")]);
    let two = run_into(&args, &tmp.path().join("t2"), &[("RAYON_NUM_THREADS", "2")]);
    assert!(
        one.contains_key("differences.csv"),
        "two arms give differences.csv"
    );
    assert_same_results(&one, &two, "treated arms, RAYON_NUM_THREADS=1 vs 2");
}

/// Recording the events (`events.csv`) does not change any other result:
/// the engine applies lesion stage changes in sweeps either way, and only
/// puts them in day order for a recording observer.
#[test]
fn recording_events_changes_no_other_result() {
    let tmp = tempdir();
    let reference = std::fs::read_to_string("scenarios/reference.toml").expect("reference.toml");
    let with =
        |events: bool| format!("{reference}\n[output]\npatients = true\nevents = {events}\n");
    let quiet = write_scenario(tmp.path(), "quiet.toml", with(false));
    let recorded = write_scenario(tmp.path(), "recorded.toml", with(true));
    let a = run_into(
        &[quiet.to_str().unwrap(), "--patients", "3000"],
        &tmp.path().join("quiet"),
        &[],
    );
    let b = run_into(
        &[recorded.to_str().unwrap(), "--patients", "3000"],
        &tmp.path().join("recorded"),
        &[],
    );
    assert!(!a.contains_key("events.csv") && b.contains_key("events.csv"));
    let stages = b["events.csv"]
        .split(|&c| c == b'\n')
        .filter(|line| line.windows(13).any(|w| w == b",lesion_stage"))
        .count();
    assert!(
        stages > 10_000,
        "the recorded run has its stage changes ({stages})"
    );
    // The CSV results (the manifest and report.html name the files written).
    let csvs: Vec<_> = a.keys().filter(|n| n.ends_with(".csv")).collect();
    assert!(csvs.len() >= 6, "{csvs:?}");
    for name in csvs {
        assert!(a[name] == b[name], "{name} differs with events recorded");
    }
}

/// Frail patients with many new lesions per flare: a few exceed the lesion
/// limit, patient 8,329 first, and patient 34,943 in the second half of the
/// cohort, where a second thread starts.
const LIMITED: &str = r#"name = "limited"
seed = 4
patients = 40000
horizon_years = 10
[natural_history]
new_lesions_per_flare = 5
frailty_variance = 5
"#;

/// A run that meets a per-patient limit fails naming the first such patient
/// in patient order, whatever the thread count and whether rows are written,
/// even when a thread meets a later one first.
#[test]
fn a_patient_limit_names_the_first_patient_whatever_the_threads() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "limited.toml", LIMITED);
    let rows = write_scenario(
        tmp.path(),
        "rows.toml",
        format!("{LIMITED}[output]\npatients = true\n"),
    );
    let refused = |scenario: &std::path::Path, extra: &[&str], patient: u32, what: &str| {
        let o = output(
            crmo()
                .arg("run")
                .arg(scenario)
                .args(extra)
                .args(["--no-plots", "-q", "--out"])
                .arg(tmp.path().join("out")),
        );
        let named = format!("patient {patient} of replicate 0");
        assert_refused(&o, what, &[&named, "more than 5000 lesions"]);
    };
    // The second half of the cohort has a patient of its own over the limit.
    refused(&path, &["--shard", "1/2"], 26404, "second half");
    for (scenario, threads) in [(&path, "1"), (&path, "2"), (&rows, "1"), (&rows, "2")] {
        let what = format!("{} at {threads} threads", scenario.display());
        refused(scenario, &["--threads", threads], 6004, &what);
    }
    // No patient before 6,004 is over the limit.
    let before = [path.to_str().unwrap(), "--patients", "6004"];
    run_into(&before, &tmp.path().join("before"), &[]);
}
