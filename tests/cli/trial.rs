//! `crmo-sim trial`: every file with its header, byte-identical tables
//! whatever the threads or shard split, the sample-size search, trial 0's
//! data reproducing its log-rank p-value, and bad input refused with exit
//! code 2 and nothing written.

use std::path::Path;

use super::errors::assert_refused;
use super::util::{crmo, files, output, snapshot, success, tempdir, write_scenario};

/// A small two-arm trial scenario (short horizon for speed).
const TWO_ARMS: &str = r#"
name = "two-arm-trial"
seed = 5
horizon_years = 4

[[arm]]
name = "nsaid-first"
ladder = ["nsaid", "pamidronate"]

[[arm]]
name = "early-pamidronate"
ladder = ["pamidronate"]

[trial]
per_arm = [10, 20]
trials = 40
endpoint = "time_to_relapse"
"#;

/// The tables that must not depend on threads or shards.
const TABLES: [&str; 4] = [
    "power.csv",
    "trials.csv",
    "trial_patients.csv",
    "screening.csv",
];

fn trial_into(
    dir: &Path,
    scenario: &Path,
    out: &str,
    extra: &[&str],
) -> std::collections::BTreeMap<String, Vec<u8>> {
    success(
        crmo()
            .arg("trial")
            .arg(scenario)
            .args(["--out", out, "-q"])
            .args(extra)
            .current_dir(dir),
    );
    files(&dir.join(out))
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn trial_writes_every_file_with_its_header() {
    let tmp = tempdir();
    let s = write_scenario(tmp.path(), "t.toml", TWO_ARMS);
    let f = trial_into(tmp.path(), &s, "out", &["--threads", "2"]);
    assert_eq!(
        first_line(&f["power.csv"]),
        "per_arm,arm,control,endpoint,test,trials,power,power_lower_95,power_upper_95,control_mean,arm_mean,effect_mean"
    );
    assert_eq!(
        first_line(&f["trials.csv"]),
        "per_arm,trial,arm,control,endpoint,estimate,p_value,reject"
    );
    assert_eq!(
        first_line(&f["trial_patients.csv"]),
        "per_arm,trial,group,patient,value,time_days,event"
    );
    // One row per size and comparison; one per trial; trial 0 of each size.
    let lines = |name: &str| String::from_utf8_lossy(&f[name]).lines().count();
    assert_eq!(lines("power.csv"), 1 + 2);
    assert_eq!(lines("trials.csv"), 1 + 2 * 40);
    assert_eq!(lines("trial_patients.csv"), 1 + 2 * 10 + 2 * 20);
    let manifest: serde_json::Value = serde_json::from_slice(&f["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "crmo-sim result v1");
    for name in TABLES {
        assert!(
            manifest["sha256"][name].is_string(),
            "{name} not in the manifest"
        );
    }
    let plots = tmp.path().join("out/plots");
    assert!(plots.join("power.png").is_file() && plots.join("power.svg").is_file());
    let report = String::from_utf8_lossy(&f["report.html"]);
    for id in [
        "design-table",
        "power-table",
        "plot-power",
        "screening-table",
    ] {
        assert!(
            report.contains(&format!("id=\"{id}\"")),
            "report.html lacks {id}"
        );
    }
    assert!(!report.contains("src=\"http") && !report.contains("<script"));
    let design: serde_json::Value = serde_json::from_slice(&f["trial_design.json"]).unwrap();
    assert_eq!(design["test"], "log_rank");
    assert_eq!(
        design["loss_to_follow_up"],
        "censored at loss to follow-up or the end of follow-up"
    );
}

#[test]
fn tables_are_the_same_whatever_the_threads_or_shards() {
    let tmp = tempdir();
    let s = write_scenario(tmp.path(), "t.toml", TWO_ARMS);
    let one = trial_into(tmp.path(), &s, "one", &["--threads", "1"]);
    let two = trial_into(tmp.path(), &s, "two", &["--threads", "2"]);
    trial_into(tmp.path(), &s, "s0", &["--shard", "0/2", "--threads", "2"]);
    trial_into(tmp.path(), &s, "s1", &["--shard", "1/2", "--threads", "1"]);
    success(
        crmo()
            .args(["merge", "s1", "s0", "--out", "merged", "-q"])
            .current_dir(tmp.path()),
    );
    let merged = files(&tmp.path().join("merged"));
    for name in TABLES {
        assert!(one[name] == two[name], "{name}: threads 1 and 2 differ");
        assert!(
            one[name] == merged[name],
            "{name}: the 2-shard merge differs"
        );
    }
    // A merge with a shard missing is refused.
    let o = output(
        crmo()
            .args(["merge", "s0", "--out", "half", "-q"])
            .current_dir(tmp.path()),
    );
    assert_refused(&o, "merge of one shard of two", &["shards"]);
    assert!(!tmp.path().join("half").exists());
}

#[test]
fn target_power_bisects_between_the_grid_sizes() {
    let tmp = tempdir();
    let s = write_scenario(tmp.path(), "t.toml", TWO_ARMS);
    let f = trial_into(
        tmp.path(),
        &s,
        "out",
        &[
            "--endpoint",
            "pedcno50_12_months",
            "--per-arm",
            "4,64",
            "--trials",
            "100",
            "--target-power",
            "0.5",
        ],
    );
    let sizes: Vec<u64> = String::from_utf8_lossy(&f["power.csv"])
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    // More sizes than the grid, all between its ends, ascending.
    assert!(sizes.len() > 2, "{sizes:?}");
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
    let answer = String::from_utf8_lossy(&f["sample_size.csv"]).to_string();
    let row: Vec<&str> = answer.lines().nth(1).unwrap().split(',').collect();
    let n: u64 = row[4].parse().unwrap();
    let power: f64 = row[5].parse().unwrap();
    assert!(power >= 0.5 && sizes.contains(&n));
    // The size below the answer that was simulated did not reach it.
    let below = String::from_utf8_lossy(&f["power.csv"])
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].parse::<u64>().unwrap(), c[6].parse::<f64>().unwrap())
        })
        .filter(|(m, _)| *m < n)
        .all(|(_, p)| p < 0.5);
    assert!(below, "{answer}");
}

#[test]
fn bad_trial_input_is_refused_and_nothing_written() {
    let tmp = tempdir();
    let s = write_scenario(tmp.path(), "t.toml", TWO_ARMS);
    write_scenario(
        tmp.path(),
        "one.toml",
        "[[arm]]\nname = \"only\"\nladder = [\"nsaid\"]\n",
    );
    write_scenario(tmp.path(), "typo.toml", "[trial]\nper_arms = [10]\n");
    let before = snapshot(tmp.path());
    let s = s.to_string_lossy().into_owned();
    let cases: [(&[&str], &[&str]); 8] = [
        (&[&s, "--per-arm", "0"], &["0 patients per arm"]),
        (&[&s, "--per-arm", "20,0,40"], &["0 patients per arm"]),
        (
            &[&s, "--endpoint", "relapse_free"],
            &["unknown endpoint", "time_to_relapse"],
        ),
        (&[&s, "--alpha", "0"], &["(0, 0.5]"]),
        (&[&s, "--alpha", "0.6"], &["(0, 0.5]"]),
        (
            &[&s, "--control", "placebo"],
            &["does not exist", "nsaid-first"],
        ),
        (&["one.toml"], &["at least two arms"]),
        (&["typo.toml"], &["line 2, column 1", "unknown field"]),
    ];
    for (args, expect) in cases {
        let o = output(
            crmo()
                .arg("trial")
                .args(args)
                .args(["--out", "out", "-q"])
                .current_dir(tmp.path()),
        );
        assert_refused(&o, &format!("{args:?}"), expect);
        assert_eq!(snapshot(tmp.path()), before, "{args:?} wrote something");
    }
    // The default output directory is not created either.
    let o = output(
        crmo()
            .args(["trial", &s, "--alpha", "-0.1", "-q"])
            .current_dir(tmp.path()),
    );
    assert_refused(&o, "negative alpha", &["(0, 0.5]"]);
    assert_eq!(snapshot(tmp.path()), before);
    assert!(!tmp.path().join("output").exists());
}
