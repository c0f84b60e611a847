//! Paired differences against any arm: `reference_arm` in the scenario or
//! `run --reference-arm`. Swapping the reference negates every paired
//! difference; with three arms, B − C is (B − A) − (C − A) on the same
//! patients; shards carry the choice into the merge; an unknown arm is
//! refused with exit code 2 and nothing written.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{crmo, output, success, tempdir, write_scenario};

/// Patients per run: every metric has values, and the runs take seconds.
const PATIENTS: &str = "400";

/// A row of `differences.csv`: mean difference, 95% interval, standard error.
type Row = (f64, f64, f64, f64);

/// Runs `scenario` into `out` with `extra` arguments; returns stdout.
fn run(scenario: &Path, out: &Path, extra: &[&str]) -> String {
    let mut cmd = crmo();
    cmd.args(["run", "--patients", PATIENTS, "--no-plots", "--out"])
        .arg(out)
        .arg(scenario)
        .args(extra);
    success(&mut cmd).stdout
}

/// `differences.csv` of `dir` by (arm, reference arm, metric), with the
/// `paired_on` column checked to be one of its two values.
fn differences(dir: &Path) -> BTreeMap<(String, String, String), Row> {
    let text = std::fs::read_to_string(dir.join("differences.csv")).expect("differences.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("arm,reference_arm,metric,paired_on,mean_difference,lower_95,upper_95,std_error")
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 8, "{line}");
            assert!(["patient value", "patient rate"].contains(&f[3]), "{line}");
            let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
            let key = (f[0].to_string(), f[1].to_string(), f[2].to_string());
            (key, (num(f[4]), num(f[5]), num(f[6]), num(f[7])))
        })
        .collect()
}

/// Whether two printed numbers agree within `tol` (both missing agrees).
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol
}

#[test]
fn the_second_arm_as_reference_negates_every_difference() {
    let tmp = tempdir();
    let scenario = crate::util::root().join("scenarios/early-bisphosphonate.toml");
    let (a, b) = (tmp.path().join("first"), tmp.path().join("second"));
    run(&scenario, &a, &["-q"]);
    let stdout = run(&scenario, &b, &["--reference-arm", "pamidronate-first"]);
    let (default, swapped) = (differences(&a), differences(&b));
    assert!(default.len() > 20, "{} rows", default.len());
    assert_eq!(default.len(), swapped.len());
    for ((arm, reference, metric), d) in &default {
        assert_eq!(
            (arm.as_str(), reference.as_str()),
            ("pamidronate-first", "nsaid-first")
        );
        let key = (reference.clone(), arm.clone(), metric.clone());
        let s = swapped
            .get(&key)
            .unwrap_or_else(|| panic!("no row {key:?}"));
        // Pairing the same patients the other way round negates each
        // patient's difference exactly, hence the mean, and swaps the ends
        // of the interval.
        let same = close(s.0, -d.0, 0.0)
            && close(s.1, -d.2, 0.0)
            && close(s.2, -d.1, 0.0)
            && close(s.3, d.3, 0.0);
        assert!(same, "{metric}: {d:?} against {s:?}");
    }
    // The console shows the headline differences against the chosen arm.
    assert!(
        stdout.contains("arm nsaid-first minus pamidronate-first (paired, same patients)"),
        "{stdout}"
    );
    assert!(stdout.contains("flares per patient-year"), "{stdout}");
    // The manifest records the choice.
    let manifest = std::fs::read_to_string(b.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"reference_arm\": \"pamidronate-first\""),
        "{manifest}"
    );
}

/// Three arms on the same patients: A (NSAID first), B (pamidronate first), C (no treatment).
const THREE_ARMS: &str = r#"name = "three-arms"
seed = 5
horizon_years = 5

[[arm]]
name = "A"
ladder = ["nsaid", "pamidronate", "tnf_inhibitor"]
min_weeks_on_step = 26

[[arm]]
name = "B"
ladder = ["pamidronate", "tnf_inhibitor"]
min_weeks_on_step = 26

[[arm]]
name = "C"
ladder = ["nsaid"]
"#;

#[test]
fn with_three_arms_b_minus_c_is_b_minus_a_minus_c_minus_a() {
    let tmp = tempdir();
    let scenario = write_scenario(tmp.path(), "three.toml", THREE_ARMS);
    let (a, c) = (tmp.path().join("vs-a"), tmp.path().join("vs-c"));
    run(&scenario, &a, &["-q"]);
    run(&scenario, &c, &["-q", "--reference-arm", "C"]);
    let (vs_a, vs_c) = (differences(&a), differences(&c));
    let key = |arm: &str, reference: &str, m: &str| (arm.into(), reference.into(), m.to_string());
    let metrics: Vec<String> = vs_a
        .keys()
        .filter(|(arm, _, _)| arm == "B")
        .map(|(_, _, m)| m.clone())
        .collect();
    // Metrics every patient has in every arm (the same patients are paired
    // in each of the three files), not a subgroup that depends on the arm.
    let everyone = [
        "time_in_flare_frac",
        "resolved_frac",
        "remission_24_months_frac",
        "flares_per_patient_year",
        "costs_per_patient",
    ];
    let mut checked = 0;
    for m in metrics
        .iter()
        .filter(|m| everyone.contains(&m.as_str()) || m.starts_with("received_"))
    {
        let b_a = vs_a[&key("B", "A", m)].0;
        let c_a = vs_a[&key("C", "A", m)].0;
        let b_c = vs_c[&key("B", "C", m)].0;
        // Each per-patient difference is summed on a 2^-20 grid and printed
        // to 6 significant digits: agreement well within 1e-5.
        assert!(
            close(b_c, b_a - c_a, 1e-5),
            "{m}: B-C {b_c}, (B-A)-(C-A) {}",
            b_a - c_a
        );
        let a_c = vs_c[&key("A", "C", m)].0;
        assert!(close(a_c, -c_a, 0.0), "{m}: A-C {a_c}, C-A {c_a}");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} metrics checked");
    // Rows come arm by arm in scenario order, the reference left out.
    let arms: Vec<&str> = std::fs::read_to_string(c.join("differences.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| if l.starts_with("A,") { "A" } else { "B" })
        .collect();
    let switch = arms.iter().position(|a| *a == "B").expect("rows of B");
    assert!(arms[..switch].iter().all(|a| *a == "A") && arms[switch..].iter().all(|a| *a == "B"));
}

#[test]
fn the_scenario_field_the_flag_and_a_sharded_run_agree() {
    let tmp = tempdir();
    let plain = write_scenario(tmp.path(), "three.toml", THREE_ARMS);
    let with_field = THREE_ARMS.replace(
        "horizon_years = 5\n",
        "horizon_years = 5\nreference_arm = \"B\"\n",
    );
    let field = write_scenario(tmp.path(), "field.toml", with_field);
    let d = |name: &str| tmp.path().join(name);
    run(&plain, &d("flag"), &["-q", "--reference-arm", "B"]);
    run(&field, &d("field"), &["-q"]);
    let read = |dir: &str| std::fs::read(d(dir).join("differences.csv")).unwrap();
    assert_eq!(read("flag"), read("field"));
    assert!(String::from_utf8(read("flag")).unwrap().contains("A,B,"));
    // Three shards with --reference-arm merge to the bytes of one run.
    for k in 0..3 {
        let mut cmd = crmo();
        cmd.args(["run", "--patients", PATIENTS, "-q", "--reference-arm", "B"])
            .args(["--shard", &format!("{k}/3"), "--out"])
            .arg(d(&format!("s{k}")))
            .arg(&plain);
        success(&mut cmd);
    }
    let mut merge = crmo();
    merge
        .args(["merge", "-q", "--no-plots", "--out"])
        .arg(d("merged"));
    for k in 0..3 {
        merge.arg(d(&format!("s{k}")));
    }
    success(&mut merge);
    for f in ["differences.csv", "summary.csv", "report.html"] {
        let one = std::fs::read(d("flag").join(f)).unwrap();
        assert!(
            one == std::fs::read(d("merged").join(f)).unwrap(),
            "{f} differs"
        );
    }
    // A shard with another reference arm does not belong with them.
    let mut cmd = crmo();
    cmd.args([
        "run",
        "--patients",
        PATIENTS,
        "-q",
        "--shard",
        "2/3",
        "--out",
    ])
    .arg(d("s2-first"))
    .arg(&plain);
    success(&mut cmd);
    let mut merge = crmo();
    merge
        .args(["merge", "-q", "--no-plots", "--out"])
        .arg(d("refused"));
    merge.arg(d("s0")).arg(d("s1")).arg(d("s2-first"));
    let o = output(&mut merge);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("another reference arm"), "{}", o.stderr);
    assert!(!d("refused").exists());
}

#[test]
fn an_unknown_reference_arm_is_refused_and_nothing_is_written() {
    let tmp = tempdir();
    let scenario = crate::util::root().join("scenarios/early-bisphosphonate.toml");
    let out = tmp.path().join("out");
    let mut cmd = crmo();
    cmd.args([
        "run",
        "--patients",
        PATIENTS,
        "--reference-arm",
        "tnf-first",
        "--out",
    ])
    .arg(&out)
    .arg(&scenario);
    let o = output(&mut cmd);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("--reference-arm \"tnf-first\" is not an arm"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("nsaid-first, pamidronate-first"),
        "{}",
        o.stderr
    );
    assert!(!out.exists(), "nothing is written");
    // In the scenario file: refused at its line and column, by check and run alike.
    let bad = THREE_ARMS.replace(
        "horizon_years = 5\n",
        "horizon_years = 5\nreference_arm = \"D\"\n",
    );
    let path = write_scenario(tmp.path(), "bad.toml", bad);
    for command in ["check", "run"] {
        let mut cmd = crmo();
        cmd.arg(command).arg(&path);
        if command == "run" {
            cmd.arg("--out").arg(&out);
        }
        let o = output(&mut cmd);
        assert_eq!(o.code, Some(2), "{command}: {}", o.stderr);
        assert!(
            o.stderr.contains("bad.toml: line 4, column 17: reference_arm = \"D\" is not an arm of the scenario: arms are A, B, C"),
            "{command}: {}",
            o.stderr
        );
        assert!(!out.exists(), "nothing is written");
    }
}
