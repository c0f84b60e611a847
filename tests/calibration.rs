//! The course targets C8–C12, the treatment targets C13–C15 and the mimic
//! targets C16–C17 (`crmo-sim criteria`'s differential) of the reference
//! figures (C1–C7 are checked in `tests/treatment.rs`), all of them at two
//! more seeds, and the share of patients with a year of pain who are
//! diagnosed. The placebo rule is `tests/placebo.rs`.
//!
//! Each target test names its source. C8 [JobDeslandre2001] and C2
//! [Schnabel2017] are met together only at their edges and at the cost of C1, C12 and
//! C13 (docs/calibration.md, "When targets disagree"): the model keeps C2 and the
//! test checks that documented trade-off instead of C8.

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

/// `crmo-sim calibrate` of the reference scenario at `seed` (None: the
/// built-in scenario and its seed): `calibration.csv` by id and `summary.csv`.
fn calibrate(seed: Option<u64>) -> (HashMap<String, Calibrated>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut cmd = Command::cargo_bin("crmo-sim").expect("binary");
    cmd.current_dir(dir.path())
        .args(["calibrate", "-q", "--no-plots", "--out"])
        .arg(&out);
    if let Some(seed) = seed {
        let text = read(&root().join("scenarios/reference.toml"));
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("seed = ") {
                    format!("seed = {seed}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let path = dir.path().join("reference.toml");
        std::fs::write(&path, text).expect("write scenario");
        cmd.arg(&path);
    }
    cmd.assert().success();
    let text = read(&out.join("calibration.csv"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows = calibration_rows(&mut reader);
    (rows, read(&out.join("summary.csv")))
}

fn default_seed() -> &'static (HashMap<String, Calibrated>, String) {
    static RUN: OnceLock<(HashMap<String, Calibrated>, String)> = OnceLock::new();
    RUN.get_or_init(|| calibrate(None))
}

/// Target `id` at the default seed: the stated value, and inside by more
/// than 4 Monte Carlo errors (so the model's expectation, not only this
/// sample, is inside; false-alarm rate 3.2e-5 one-sided).
fn assert_target(id: &str, source: &str, published: f64, tolerance: f64) {
    let c = &default_seed().0[id];
    println!(
        "{id} [{source}]: simulated {:.4} (mcse {:.4}), published {published} ± {tolerance}",
        c.simulated, c.mcse
    );
    assert_eq!((c.published, c.tolerance), (published, tolerance), "{id}");
    assert!(c.mcse.is_finite() && c.mcse > 0.0, "{id}: mcse {}", c.mcse);
    assert!(
        c.inside,
        "{id} [{source}]: {} outside {published} ± {tolerance}",
        c.simulated
    );
    assert!(
        (c.simulated - published).abs() + 4.0 * c.mcse <= tolerance,
        "{id} [{source}]: inside only by Monte Carlo luck ({} ± 4 x {})",
        c.simulated,
        c.mcse
    );
}

/// C8 [JobDeslandre2001] against C2 [Schnabel2017]: the documented
/// trade-off. C8 falls short of its band, C2 is inside, and docs/calibration.md shows
/// the sweep across the pair.
fn assert_c8_trade_off(rows: &HashMap<String, Calibrated>) {
    let (c8, c2) = (&rows["C8"], &rows["C2"]);
    assert_eq!((c8.published, c8.tolerance), (5.9, 2.0));
    assert!(c2.inside, "C2 must hold when C8 is traded off: {c2:?}");
    assert!(
        c8.simulated < c8.published && c8.simulated > 2.0,
        "C8 {} is not the documented trade-off value",
        c8.simulated
    );
    let doc = read(&root().join("docs/calibration.md"));
    assert!(
        doc.contains("When targets disagree") && doc.contains("C8"),
        "docs/calibration.md documents the C2-C8 trade-off"
    );
}

#[test]
fn c8_flares_over_5_3_years_jobdeslandre2001_traded_off_against_c2() {
    let (rows, _) = default_seed();
    println!("C8 {:?}, C2 {:?}", rows["C8"], rows["C2"]);
    assert_c8_trade_off(rows);
}

#[test]
fn c9_median_active_period_jansson2007() {
    assert_target("C9", "Jansson2007", 21.0, 8.0);
}

#[test]
fn c10_pamidronate_flare_ended_at_12_weeks_miettunen2009() {
    assert_target("C10", "Miettunen2009", 0.85, 0.15);
}

#[test]
fn c11_tnf_inhibitor_not_in_flare_at_6_months_biologics2021() {
    assert_target("C11", "Biologics2021", 0.90, 0.12);
}

#[test]
fn c12_second_line_within_12_months_nprd2021() {
    assert_target("C12", "NPRD2021", 0.17, 0.07);
}

#[test]
fn c13_pedcno70_at_12_months_nprd2021() {
    assert_target("C13", "NPRD2021", 0.43, 0.12);
}

#[test]
fn c14_complete_mri_resolution_after_pamidronate_pamidronate2019() {
    assert_target("C14", "Pamidronate2019", 0.425, 0.15);
}

#[test]
fn c15_months_to_complete_mri_resolution_miettunen2009() {
    assert_target("C15", "Miettunen2009", 6.0, 3.0);
}

/// Every target but the traded-off C8 lies inside at two more seeds.
#[test]
fn targets_hold_at_two_other_seeds() {
    for seed in [1, 2] {
        let (rows, _) = calibrate(Some(seed));
        assert_eq!(rows.len(), 17, "C1-C17");
        for (id, c) in &rows {
            println!("seed {seed} {id}: {c:?}");
            if id != "C8" {
                assert!(c.inside, "seed {seed}: {id} outside: {c:?}");
            }
        }
        assert_c8_trade_off(&rows);
    }
}

/// Nearly everyone with a year of pain is diagnosed (diagnosis follows
/// symptomatic time). Binomial se at n ~ 5000 is about 0.0015, so 0.97 is
/// more than 10 se below the simulated share.
#[test]
fn a_year_of_pain_leads_to_diagnosis() {
    let (_, summary) = default_seed();
    let line = summary
        .lines()
        .find(|l| l.contains(",diagnosed_if_symptomatic_12_months_frac,"))
        .expect("metric present");
    let v: f64 = line.split(',').nth(2).unwrap().parse().unwrap();
    println!("{line}");
    assert!(v >= 0.97, "diagnosed_if_symptomatic_12_months_frac = {v}");
}

/// C16: the Jansson score's sensitivity at 39 in the differential is C6's
/// share (the same patients), so it carries C6's target [Jansson2009].
#[test]
fn c16_jansson_sensitivity_jansson2009() {
    assert_target("C16", "Jansson2009", 0.68, 0.10);
    let rows = &default_seed().0;
    assert_eq!(rows["C16"].simulated, rows["C6"].simulated);
}

/// C17: about 2 of [Jansson2009]'s 122 controls score 39 or more.
#[test]
fn c17_jansson_specificity_jansson2009() {
    assert_target("C17", "Jansson2009", 0.98, 0.03);
}
