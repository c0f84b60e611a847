//! `crmo-sim criteria`: the files and their headers, the sensitivity of the
//! Jansson score against `run`'s share on the same patients, the default
//! case mix's specificity, monotone ROC points, the AUC against an
//! independent computation, predictive values at `--prevalence`,
//! refusals of bad differentials, and identical bytes on 1 and 2 threads.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::errors::assert_refused;
use crate::util::{crmo, files, output, run_into, snapshot, success, tempdir, write_scenario};

/// The header `criteria.csv` starts with.
const CRITERIA_HEADER: &str = "criterion,threshold,sensitivity,specificity,ppv,npv,prevalence";
/// The header of `roc.csv`.
const ROC_HEADER: &str = "criterion,threshold,sensitivity,specificity";

/// `crmo-sim criteria ARGS... --out OUT -q --no-plots`; returns OUT's files.
fn criteria_into(args: &[&str], out: &Path) -> BTreeMap<String, Vec<u8>> {
    success(
        crmo()
            .arg("criteria")
            .args(args)
            .arg("--out")
            .arg(out)
            .args(["-q", "--no-plots"]),
    );
    files(out)
}

/// The rows of a CSV file as maps from column to cell.
fn rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} is not a number", row[col]))
}

/// The row of `criterion` at `threshold` (first prevalence).
fn at<'a>(
    rows: &'a [BTreeMap<String, String>],
    criterion: &str,
    threshold: u32,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["criterion"] == criterion && r["threshold"] == threshold.to_string())
        .unwrap_or_else(|| panic!("no row {criterion} {threshold}"))
}

/// The reference scenario's differential, run once for the tests that read it.
fn reference() -> &'static BTreeMap<String, Vec<u8>> {
    static RUN: std::sync::OnceLock<BTreeMap<String, Vec<u8>>> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempdir();
        criteria_into(&["scenarios/reference.toml"], &tmp.path().join("out"))
    })
}

#[test]
fn writes_criteria_and_roc_with_their_headers() {
    let f = reference();
    for name in [
        "criteria.csv",
        "roc.csv",
        "auc.csv",
        "items.csv",
        "populations.csv",
        "manifest.json",
    ] {
        assert!(f.contains_key(name), "{name} missing");
    }
    let first = |name: &str| {
        String::from_utf8_lossy(&f[name])
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        first("criteria.csv").starts_with(&format!("{CRITERIA_HEADER},")),
        "{}",
        first("criteria.csv")
    );
    assert!(first("criteria.csv").contains("sensitivity_lower_95,sensitivity_upper_95"));
    assert_eq!(first("roc.csv"), ROC_HEADER);
    let c = rows(&f["criteria.csv"]);
    // Every Jansson cut-off and Bristol criterion 1, at the case mix's prevalence.
    assert_eq!(c.iter().filter(|r| r["criterion"] == "jansson").count(), 65);
    assert_eq!(
        c.iter().filter(|r| r["criterion"] == "bristol_1").count(),
        1
    );
    // Everybody positive at 0: no NPV, and no interval for it.
    let zero = at(&c, "jansson", 0);
    assert_eq!(
        (zero["npv"].as_str(), zero["npv_lower_95"].as_str()),
        ("", "")
    );
    assert!(f.contains_key("report.html"));
    let report = String::from_utf8_lossy(&f["report.html"]);
    assert!(report.contains("id=\"criteria-table\"") && report.contains("id=\"auc-jansson\""));
    let prevalence = num(&c[0], "prevalence");
    assert!((prevalence - 102.0 / 224.0).abs() < 1e-6, "{prevalence}");
}

/// The sensitivity of `jansson` at 39 is `run`'s `jansson_ge39_frac` on the
/// same seed and patients: the same patients, diagnosed the same way.
#[test]
fn jansson_sensitivity_is_runs_share() {
    let tmp = tempdir();
    let args = [
        "scenarios/reference.toml",
        "--patients",
        "3000",
        "--seed",
        "11",
    ];
    let c = criteria_into(&args, &tmp.path().join("criteria"));
    let run = run_into(&args, &tmp.path().join("run"), &[]);
    let summary = rows(&run["summary.csv"]);
    let share = summary
        .iter()
        .find(|r| r["metric"] == "jansson_ge39_frac")
        .map(|r| num(r, "mean"))
        .expect("jansson_ge39_frac in summary.csv");
    let sensitivity = num(at(&rows(&c["criteria.csv"]), "jansson", 39), "sensitivity");
    println!("sensitivity {sensitivity}, run {share}");
    assert!(
        (sensitivity - share).abs() <= 1e-6,
        "{sensitivity} vs {share}"
    );
}

/// In [Jansson2009]'s case mix about 2 of 122 controls score 39 or more:
/// specificity 0.98 ± 0.03 (target C17). Its Monte Carlo error at about
/// 24 000 mimics is under 0.001, far inside the tolerance.
#[test]
fn jansson_specificity_in_the_default_case_mix() {
    let c = rows(&reference()["criteria.csv"]);
    let row = at(&c, "jansson", 39);
    let sp = num(row, "specificity");
    println!(
        "specificity at 39: {sp} ({} - {})",
        row["specificity_lower_95"], row["specificity_upper_95"]
    );
    assert!((sp - 0.98).abs() <= 0.03, "{sp}");
    assert!(num(row, "specificity_lower_95") <= sp && sp <= num(row, "specificity_upper_95"));
    // PPV at [Jansson2009]'s 102:122 is about their 0.97.
    let ppv = num(row, "ppv");
    assert!((ppv - 0.97).abs() <= 0.03, "{ppv}");
}

/// Raising the cut-off never gains sensitivity nor loses specificity;
/// the ends are (1, 0) and (0, 1).
#[test]
fn roc_points_are_monotone_in_the_threshold() {
    let roc = rows(&reference()["roc.csv"]);
    for criterion in ["jansson", "bristol_1"] {
        let pts: Vec<(u32, f64, f64)> = roc
            .iter()
            .filter(|r| r["criterion"] == criterion)
            .map(|r| {
                (
                    r["threshold"].parse().unwrap(),
                    num(r, "sensitivity"),
                    num(r, "specificity"),
                )
            })
            .collect();
        assert!(pts.len() >= 3, "{criterion}");
        for w in pts.windows(2) {
            assert!(w[1].0 > w[0].0, "{criterion}: thresholds ascend");
            assert!(
                w[1].1 <= w[0].1,
                "{criterion}: sensitivity rises at {}",
                w[1].0
            );
            assert!(
                w[1].2 >= w[0].2,
                "{criterion}: specificity falls at {}",
                w[1].0
            );
        }
        let (first, last) = (pts[0], pts[pts.len() - 1]);
        assert_eq!((first.1, first.2), (1.0, 0.0), "{criterion}");
        assert_eq!((last.1, last.2), (0.0, 1.0), "{criterion}");
    }
}

/// The AUC of `auc.csv` (Mann–Whitney from the score histograms) against
/// two independent computations from the files: the trapezoidal area
/// under the ROC points of `roc.csv`, and pair counting over the score
/// histograms rebuilt from `criteria.csv`'s counts (ties count half).
/// Both agree up to the 6 decimals of the files.
#[test]
fn auc_is_high_and_matches_independent_computations() {
    let f = reference();
    let auc_row = rows(&f["auc.csv"])
        .into_iter()
        .find(|r| r["criterion"] == "jansson")
        .expect("jansson in auc.csv");
    let auc = num(&auc_row, "auc");
    println!(
        "AUC {auc} ({} - {})",
        auc_row["auc_lower_95"], auc_row["auc_upper_95"]
    );
    assert!(auc > 0.85 && auc <= 1.0, "{auc}");
    assert!(num(&auc_row, "auc_lower_95") < auc && auc < num(&auc_row, "auc_upper_95"));

    let mut pts: Vec<(f64, f64)> = rows(&f["roc.csv"])
        .iter()
        .filter(|r| r["criterion"] == "jansson")
        .map(|r| (1.0 - num(r, "specificity"), num(r, "sensitivity")))
        .collect();
    pts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let trapezoid: f64 = pts
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum();
    assert!(
        (trapezoid - auc).abs() < 1e-5,
        "trapezoid {trapezoid} vs {auc}"
    );

    // Counts at or above each cut-off -> children at each score.
    let c = rows(&f["criteria.csv"]);
    let at_or_above = |col: &str| -> Vec<u64> {
        (0..=64)
            .map(|t| at(&c, "jansson", t)[col].parse().unwrap())
            .collect()
    };
    let histogram = |v: Vec<u64>| -> Vec<u64> { (0..64).map(|s| v[s] - v[s + 1]).collect() };
    let cases = histogram(at_or_above("true_positives"));
    let controls = histogram(at_or_above("false_positives"));
    let (mut concordant, mut pairs) = (0.0f64, 0.0f64);
    for (s, &a) in cases.iter().enumerate() {
        for (t, &b) in controls.iter().enumerate() {
            let n = (a * b) as f64;
            pairs += n;
            concordant += n * match s.cmp(&t) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            };
        }
    }
    let counted = concordant / pairs;
    assert!(
        (counted - auc).abs() < 1e-6,
        "pair count {counted} vs {auc}"
    );
}

/// `--prevalence P` adds each row again with the predictive values at P,
/// by Bayes' theorem from the same sensitivity and specificity.
#[test]
fn predictive_values_at_a_given_prevalence() {
    let tmp = tempdir();
    let args = [
        "scenarios/reference.toml",
        "--patients",
        "2000",
        "--prevalence",
        "0.05",
    ];
    let c = rows(&criteria_into(&args, &tmp.path().join("out"))["criteria.csv"]);
    let at_p: Vec<_> = c.iter().filter(|r| r["prevalence"] == "0.05").collect();
    assert_eq!(at_p.len(), 66, "every row again at 0.05");
    for r in at_p
        .iter()
        .filter(|r| r["threshold"] == "39" || r["criterion"] == "bristol_1")
    {
        let (se, sp) = (num(r, "sensitivity"), num(r, "specificity"));
        let ppv = 0.05 * se / (0.05 * se + 0.95 * (1.0 - sp));
        let npv = 0.95 * sp / (0.95 * sp + 0.05 * (1.0 - se));
        // The files carry 6 decimals of se and sp.
        assert!((num(r, "ppv") - ppv).abs() < 1e-4, "{r:?}");
        assert!((num(r, "npv") - npv).abs() < 1e-4, "{r:?}");
    }
    let o = output(
        crmo()
            .args(["criteria", "--prevalence", "1.5", "--out"])
            .arg(tmp.path().join("bad")),
    );
    assert_refused(&o, "--prevalence 1.5", &["--prevalence 1.5 is not allowed"]);
    assert!(!tmp.path().join("bad").exists());
}

/// A case mix without mimics, a negative share and an unknown criterion are
/// refused before any work: exit 2, a located message, nothing written.
#[test]
fn bad_differentials_are_refused_and_nothing_is_written() {
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "no-mimics",
            "[differential.case_mix]\nbacterial_osteomyelitis = 0\nmalignant_tumour = 0\nbenign_tumour = 0\n",
            &["line 1, column 1", "the case mix has no mimics"],
        ),
        (
            "negative",
            "[differential.case_mix]\nmalignant_tumour = -3\n",
            &["line 2, column 20", "share -3 is not allowed"],
        ),
        (
            "unknown-criterion",
            "[differential]\ncriteria = [\"jansson\", \"bristol_2\"]\n",
            &["line 2, column 24", "unknown criterion \"bristol_2\"", "jansson, bristol_1"],
        ),
        (
            "bad-mimic-value",
            "[differential.benign_tumour]\np_fever = 1.2\n",
            &["line 2, column 11", "a probability between 0 and 1"],
        ),
    ];
    for (name, text, expect) in cases {
        let tmp = tempdir();
        let file = format!("{name}.toml");
        write_scenario(tmp.path(), &file, text);
        let before = snapshot(tmp.path());
        for args in [
            vec!["criteria", file.as_str(), "--out", "out", "-q"],
            vec!["criteria", file.as_str(), "-q"],
            vec!["check", file.as_str()],
        ] {
            let o = output(crmo().current_dir(tmp.path()).args(&args));
            assert_refused(&o, &format!("{name}: {args:?}"), expect);
            assert_eq!(
                snapshot(tmp.path()),
                before,
                "{name}: {args:?} wrote something"
            );
        }
    }
}

#[test]
fn one_and_two_threads_give_identical_bytes() {
    let tmp = tempdir();
    let args = ["scenarios/reference.toml", "--patients", "3000"];
    let one = criteria_into(
        &[&args[..], &["--threads", "1"]].concat(),
        &tmp.path().join("one"),
    );
    let two = criteria_into(
        &[&args[..], &["--threads", "2"]].concat(),
        &tmp.path().join("two"),
    );
    for name in [
        "criteria.csv",
        "roc.csv",
        "auc.csv",
        "items.csv",
        "populations.csv",
    ] {
        assert!(
            one[name] == two[name],
            "{name} differs between 1 and 2 threads"
        );
    }
}

/// The mimics draw from streams of their own: changing every mimic
/// parameter and the case mix leaves `run`'s results and the CRMO side of
/// the differential unchanged.
#[test]
fn mimics_leave_the_crmo_cohort_untouched() {
    let tmp = tempdir();
    let base = fs::read_to_string(crate::util::root().join("scenarios/reference.toml")).unwrap();
    let changed = format!(
        "{base}\n[differential]\ncase_mix = {{ crmo = 1, benign_tumour = 3 }}\n[differential.benign_tumour]\np_fever = {{ dist = \"beta\", alpha = 2, beta = 8 }}\np_marginal_sclerosis = 0.9\n"
    );
    let a = write_scenario(tmp.path(), "a.toml", &base);
    let b = write_scenario(tmp.path(), "b.toml", &changed);
    let run = |p: &Path, out: &str| {
        run_into(
            &[p.to_str().unwrap(), "--patients", "2000"],
            &tmp.path().join(out),
            &[],
        )
    };
    let (ra, rb) = (run(&a, "ra"), run(&b, "rb"));
    for name in crate::util::RESULT_FILES {
        assert!(ra[name] == rb[name], "{name} changed with the mimics");
    }
    let crit = |p: &Path, out: &str| {
        let f = criteria_into(
            &[p.to_str().unwrap(), "--patients", "2000"],
            &tmp.path().join(out),
        );
        rows(&f["populations.csv"])
            .into_iter()
            .find(|r| r["population"] == "crmo")
            .unwrap()
    };
    let (ca, cb) = (crit(&a, "ca"), crit(&b, "cb"));
    assert_eq!(ca, cb);
}

/// The `[differential]` example of docs/criteria.md ("Validating criteria")
/// is a valid scenario.
#[test]
fn the_documented_example_is_valid() {
    let doc = fs::read_to_string(crate::util::root().join("docs/criteria.md")).unwrap();
    let section = doc
        .split("# Validating criteria")
        .nth(1)
        .expect("docs/criteria.md has a section Validating criteria");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a TOML example in the section");
    assert!(block.contains("[differential"));
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "example.toml", block);
    let o = success(crmo().arg("check").arg(&path));
    assert!(
        o.stdout
            .contains("case_mix: crmo 10, bacterial_osteomyelitis 20"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("p_marginal_sclerosis: 0.2 / 0.1 / beta(7, 13)*"),
        "{}",
        o.stdout
    );
}

/// `--shard K/N` for K = 0..2 and `--merge` give exactly the files of the
/// whole run; a missing or repeated shard is refused with nothing written.
#[test]
fn shards_merge_into_the_whole_run() {
    let tmp = tempdir();
    let p = tmp.path();
    let args = [
        "scenarios/reference.toml",
        "--patients",
        "2500",
        "--seed",
        "5",
    ];
    let whole = criteria_into(&args, &p.join("whole"));
    let dirs: Vec<String> = (0..3)
        .map(|k| {
            let dir = p.join(format!("shard{k}"));
            let shard = format!("{k}/3");
            success(
                crmo()
                    .arg("criteria")
                    .args(args)
                    .args(["--shard", &shard, "-q", "--out"])
                    .arg(&dir),
            );
            assert!(dir.join("criteria-shard.json").is_file());
            dir.to_str().unwrap().to_string()
        })
        .collect();
    let merged = criteria_into(
        &["--merge", &dirs[2], &dirs[0], &dirs[1]],
        &p.join("merged"),
    );
    for name in [
        "criteria.csv",
        "roc.csv",
        "auc.csv",
        "items.csv",
        "populations.csv",
        "report.html",
    ] {
        assert!(
            whole[name] == merged[name],
            "{name}: merge differs from the whole run"
        );
    }
    for (shards, why) in [
        (vec![&dirs[0], &dirs[1]], "shard(s) 2/3 missing"),
        (
            vec![&dirs[0], &dirs[0], &dirs[1], &dirs[2]],
            "are both shard 0/3",
        ),
    ] {
        let out = p.join("refused");
        let o = output(
            crmo()
                .args(["criteria", "--merge"])
                .args(&shards)
                .arg("--out")
                .arg(&out),
        );
        assert_refused(&o, why, &[why]);
        assert!(!out.exists(), "{why}: wrote {}", out.display());
    }
}
