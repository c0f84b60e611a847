//! Treatment a researcher can test: the reference ladder against no
//! treatment on the same patients, a drug that only shortens symptoms, the
//! placebo rule, and how the ladder behaves as a clinician would (read from
//! `events.csv`), the natural burnout day and the diagnosis routes (read from
//! `patients.csv`).
//!
//! Each statistical check states its standard error: a paired difference is
//! compared with its threshold after 4 standard errors (one-sided
//! false-alarm rate 3.2e-5 when the model sits exactly at the threshold).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;

mod common;
use common::{calibration_rows, Calibrated};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The reference scenario with `patients`, `extra` TOML before its arm and
/// `arms_first` arm tables listed before the reference arm.
fn reference_with(patients: u32, extra: &str, arms_first: &str) -> String {
    let text = read(&root().join("scenarios/reference.toml"));
    let mut out = String::new();
    let mut added = false;
    for line in text.lines() {
        if line.starts_with("patients = ") {
            out += &format!("patients = {patients}\n");
            continue;
        }
        if line.starts_with("[[arm]]") && !added {
            out += extra;
            out += "\n";
            out += arms_first;
            out += "\n";
            added = true;
        }
        out += line;
        out += "\n";
    }
    out
}

/// Runs `command` (`run` or `calibrate`) on scenario `text` and returns the
/// output directory (kept with the temporary directory).
fn run(command: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, text).expect("write scenario");
    let out = dir.path().join("out");
    Command::cargo_bin("crmo-sim")
        .expect("binary")
        .current_dir(dir.path())
        .args([command, "-q", "--no-plots", "--out"])
        .arg(&out)
        .arg(&path)
        .assert()
        .success();
    (dir, out)
}

/// `summary.csv` as (arm, metric) -> (mean, mcse).
fn summary(out: &Path) -> HashMap<(String, String), (f64, f64)> {
    let text = read(&out.join("summary.csv"));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            let num = |i: usize| rec[i].parse::<f64>().unwrap_or(f64::NAN);
            ((rec[0].to_string(), rec[1].to_string()), (num(2), num(5)))
        })
        .collect()
}

/// `differences.csv` as metric -> (mean difference, standard error) of `arm`.
fn differences(out: &Path, arm: &str) -> HashMap<String, (f64, f64)> {
    let text = read(&out.join("differences.csv"));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.expect("row"))
        .filter(|rec| &rec[0] == arm)
        .map(|rec| {
            let num = |i: usize| rec[i].parse::<f64>().unwrap_or(f64::NAN);
            (rec[2].to_string(), (num(4), num(7)))
        })
        .collect()
}

const LADDER: &str = "nsaid-pamidronate-tnf";
const UNTREATED_ARM: &str = "[[arm]]\nname = \"untreated\"\nuntreated = true\n";

/// The reference ladder against an untreated arm listed first, 20,000 patients.
fn ladder_vs_untreated() -> &'static (tempfile::TempDir, PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| run("run", &reference_with(20_000, "", UNTREATED_ARM)))
}

/// PedCNO30, 50 and 70 are different thresholds: on the ladder, PedCNO30
/// exceeds PedCNO70 at 12 months by at least 0.05 (the difference of two
/// nested shares of the same patients; its standard error is at most that
/// of a share, sqrt(0.25 / n)).
#[test]
fn pedcno_thresholds_give_different_shares() {
    let (_, out) = ladder_vs_untreated();
    let s = summary(out);
    let get = |m: &str| s[&(LADDER.to_string(), m.to_string())];
    let (p30, se) = get("pedcno30_12_months_frac");
    let (p50, _) = get("pedcno50_12_months_frac");
    let (p70, _) = get("pedcno70_12_months_frac");
    println!(
        "PedCNO30/50/70 at 12 months on the ladder: {p30:.3} / {p50:.3} / {p70:.3} (mcse {se:.4})"
    );
    assert!(p30 >= p50 && p50 >= p70, "nested thresholds");
    assert!(
        p30 - p70 - 4.0 * 2.0 * se >= 0.05,
        "PedCNO30 - PedCNO70 = {:.3}",
        p30 - p70
    );
}

/// A working ladder scores better than no treatment: PedCNO70 at 12 months
/// at least 0.05 above the untreated arm (paired on the same patients).
#[test]
fn the_ladder_beats_no_treatment_on_pedcno70() {
    let (_, out) = ladder_vs_untreated();
    let d = differences(out, LADDER);
    let (diff, se) = d["pedcno70_12_months_frac"];
    println!("ladder - untreated PedCNO70 at 12 months: {diff:+.3} (se {se:.4})");
    assert!(diff - 4.0 * se >= 0.05, "difference {diff} (se {se})");
    // Every rate has one denominator in every arm.
    let s = summary(out);
    for arm in ["untreated", LADDER] {
        let (rate, _) = s[&(
            arm.to_string(),
            "flares_per_patient_year_after_diagnosis".to_string(),
        )];
        assert!(rate.is_finite() && rate > 0.0, "{arm}: {rate}");
    }
}

/// Burnout is natural history: `burnout_day` in `patients.csv` is the same
/// in every arm for every patient, while `resolved_day` (which waits for a
/// flare running at burnout) may differ.
#[test]
fn burnout_day_is_the_same_in_every_arm() {
    let text = reference_with(2_000, "[output]\npatients = true\n", UNTREATED_ARM);
    // `[output]` must come after the top-level keys and before the arms:
    // reference_with puts it before the first arm.
    let (_dir, out) = run("run", &text);
    let rows = read(&out.join("patients.csv"));
    let mut r = csv::Reader::from_reader(rows.as_bytes());
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (arm, patient, burnout) = (col("arm"), col("patient"), col("burnout_day"));
    let mut by_patient: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for rec in r.records() {
        let rec = rec.expect("row");
        by_patient
            .entry(rec[patient].to_string())
            .or_default()
            .push((rec[arm].to_string(), rec[burnout].to_string()));
    }
    assert_eq!(by_patient.len(), 2_000);
    let mut some_burnout = 0;
    for (p, arms) in &by_patient {
        assert_eq!(arms.len(), 2, "patient {p}");
        assert_eq!(arms[0].1, arms[1].1, "patient {p}: {arms:?}");
        some_burnout += usize::from(!arms[0].1.is_empty());
    }
    assert!(
        some_burnout > 1_000,
        "{some_burnout} burn out within 10 years"
    );
}

/// A drug that only shortens symptoms (`flare_duration_factor` 0.3, no other
/// effect) leaves the course classes as they are: they rest on natural
/// episodes and MRI inflammation, which it does not touch.
#[test]
fn an_induction_only_drug_changes_no_course_class() {
    let text = format!(
        "name = \"induction\"\nseed = 7\npatients = 20000\n\n[drugs.induction_only]\np_response = 1\nflare_duration_factor = 0.3\n\n{UNTREATED_ARM}\n[[arm]]\nname = \"induction\"\nladder = [\"induction_only\"]\n"
    );
    let (_dir, out) = run("run", &text);
    let d = differences(&out, "induction");
    let s = summary(&out);
    for metric in [
        "course_persistent_frac",
        "course_monophasic_frac",
        "course_relapsing_frac",
    ] {
        let (diff, se) = d[metric];
        println!("{metric}: induction - untreated {diff:+.4} (se {se:.4})");
        assert!(diff.abs() + 4.0 * se < 0.03, "{metric}: {diff} (se {se})");
    }
    // It does shorten symptoms.
    let flare = |arm: &str| {
        s[&(
            arm.to_string(),
            "time_in_flare_after_diagnosis_frac".to_string(),
        )]
            .0
    };
    assert!(flare("induction") < 0.8 * flare("untreated"));
}

/// The ladder as a clinician runs it, from `events.csv` (5,000 patients): at
/// most 2% of diagnosed patients spend more than 6 weeks at a stretch in a
/// flare with no drug given, and after a drug is stopped for an adverse
/// event the next drug started is never one the patient failed (a
/// `drug_effect` with `responder = false` earlier).
#[test]
fn the_ladder_leaves_no_flare_untreated_and_never_falls_back_on_a_failed_drug() {
    let text = reference_with(5_000, "[output]\nevents = true\n", "");
    let (_dir, out) = run("run", &text);
    let events = read(&out.join("events.csv"));
    let mut r = csv::Reader::from_reader(events.as_bytes());
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (patient, time, event, drug, responder, reason) = (
        col("patient"),
        col("time_days"),
        col("event"),
        col("drug"),
        col("responder"),
        col("reason"),
    );
    #[derive(Default)]
    struct Course {
        diagnosed: bool,
        in_flare: bool,
        on: Vec<String>,
        failed: Vec<String>,
        after_adverse_event: bool,
        untreated_since: Option<f64>,
        longest_untreated: f64,
    }
    let mut courses: HashMap<String, Course> = HashMap::new();
    let mut fallbacks_to_failed = Vec::new();
    let mut adverse_stops = 0;
    for rec in r.records() {
        let rec = rec.expect("row");
        let c = courses.entry(rec[patient].to_string()).or_default();
        let t: f64 = rec[time].parse().expect("time");
        let d = rec[drug].to_string();
        match &rec[event] {
            "diagnosis" => c.diagnosed = true,
            "flare_start" => c.in_flare = true,
            "flare_end" | "end" | "lost_to_follow_up" => c.in_flare = false,
            "drug_effect" if &rec[responder] == "false" => c.failed.push(d),
            "drug_start" => {
                if c.after_adverse_event && c.failed.contains(&d) {
                    fallbacks_to_failed.push((rec[patient].to_string(), d.clone(), t));
                }
                c.after_adverse_event = false;
                c.on.push(d);
            }
            "drug_stop" => {
                c.on.retain(|x| x != &d);
                if &rec[reason] == "adverse_event" {
                    c.after_adverse_event = true;
                    adverse_stops += 1;
                }
            }
            _ => {}
        }
        let untreated = c.diagnosed && c.in_flare && c.on.is_empty();
        match (untreated, c.untreated_since) {
            (true, None) => c.untreated_since = Some(t),
            (false, Some(since)) => {
                c.longest_untreated = c.longest_untreated.max(t - since);
                c.untreated_since = None;
            }
            _ => {}
        }
    }
    let diagnosed = courses.values().filter(|c| c.diagnosed).count();
    let long = courses
        .values()
        .filter(|c| c.diagnosed && c.longest_untreated > 42.0)
        .count();
    let share = long as f64 / diagnosed as f64;
    println!("{long} of {diagnosed} diagnosed patients ({share:.4}) more than 6 weeks in an untreated flare; {adverse_stops} adverse-event stops");
    assert!(diagnosed > 3_000);
    assert!(adverse_stops > 100, "the check sees adverse events");
    assert!(share <= 0.02, "{share}");
    assert!(
        fallbacks_to_failed.is_empty(),
        "failed drugs given after an adverse event: {:?}",
        &fallbacks_to_failed[..fallbacks_to_failed.len().min(5)]
    );
}

/// Diagnosis has an early route beside the symptomatic-time route: the 5th
/// percentile of `diagnosis_day` is at most 61 days, while the median delay
/// (C5 [Roderick2016], 15 +- 6 months) stays inside.
#[test]
fn an_early_route_gives_diagnoses_within_two_months_and_keeps_c5() {
    let text = reference_with(10_000, "[output]\npatients = true\n", "");
    let (_dir, out) = run("calibrate", &text);
    let rows = read(&out.join("patients.csv"));
    let mut r = csv::Reader::from_reader(rows.as_bytes());
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (diagnosed, day) = (col("diagnosed"), col("diagnosis_day"));
    let mut days: Vec<f64> = r
        .records()
        .map(|rec| rec.expect("row"))
        .filter(|rec| &rec[diagnosed] == "true")
        .map(|rec| rec[day].parse().expect("day"))
        .collect();
    days.sort_by(f64::total_cmp);
    let p5 = days[days.len() / 20];
    println!(
        "5th percentile of diagnosis_day: {p5:.1} days ({} diagnosed)",
        days.len()
    );
    assert!(p5 <= 61.0, "{p5}");
    let cal = read(&out.join("calibration.csv"));
    let c5: Calibrated = calibration_rows(&mut csv::Reader::from_reader(cal.as_bytes()))
        .remove("C5")
        .expect("C5");
    assert!(c5.inside, "C5 {c5:?}");
}

/// `timeseries_from_diagnosis.csv` says how many patients stand behind each
/// month: `observed` falls as months pass the horizon for late diagnoses.
#[test]
fn timeseries_from_diagnosis_has_observed() {
    let (_, out) = ladder_vs_untreated();
    let text = read(&out.join("timeseries_from_diagnosis.csv"));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().expect("header").clone();
    let at = headers
        .iter()
        .position(|h| h == "observed")
        .expect("observed column");
    let observed: Vec<i64> = r
        .records()
        .map(|rec| rec.expect("row")[at].parse().expect("count"))
        .collect();
    let (first, last) = (observed[0], observed[observed.len() - 1]);
    println!("observed: month 0 {first}, last month {last}");
    assert!(first > 15_000, "month 0: {first}");
    assert!(
        last * 10 < first,
        "late months rest on fewer patients: {last}"
    );
}
