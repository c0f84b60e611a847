//! The placebo rule of the reference figures: the reference scenario with
//! every drug's `p_response` and `p_response_majeed` set to 0 and
//! `partial_effect` 0 (a ladder of useless drugs) must fall outside at
//! least four of the targets that test treatment (C10-C15), and its PedCNO70
//! 12 months after diagnosis must lie at least 0.05 below the reference
//! ladder's. A target that useless drugs meet does not test treatment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod common;
use common::{calibration_rows, Calibrated};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `crmo-sim calibrate` of scenario `text`: calibration rows by id and the
/// drugs the run used (from the `received_<drug>_frac` metrics).
fn calibrate(text: &str) -> (HashMap<String, Calibrated>, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, text).expect("write scenario");
    let out = dir.path().join("out");
    Command::cargo_bin("crmo-sim")
        .expect("binary")
        .current_dir(dir.path())
        .args(["calibrate", "-q", "--no-plots", "--out"])
        .arg(&out)
        .arg(&path)
        .assert()
        .success();
    let cal = read(&out.join("calibration.csv"));
    let rows = calibration_rows(&mut csv::Reader::from_reader(cal.as_bytes()));
    let mut drugs: Vec<String> = read(&out.join("summary.csv"))
        .lines()
        .filter_map(|l| l.split(',').nth(1))
        .filter_map(|m| m.strip_prefix("received_")?.strip_suffix("_frac"))
        .map(str::to_string)
        .collect();
    drugs.sort();
    drugs.dedup();
    (rows, drugs)
}

#[test]
fn useless_drugs_miss_the_treatment_targets() {
    let reference = read(&root().join("scenarios/reference.toml"));
    let (working, drugs) = calibrate(&reference);
    assert!(drugs.len() >= 3, "drugs {drugs:?}");
    let useless: String = drugs
        .iter()
        .map(|d| {
            format!("[drugs.{d}]\np_response = 0\np_response_majeed = 0\npartial_effect = 0\n\n")
        })
        .collect();
    let placebo = reference.replacen("[[arm]]", &format!("{useless}[[arm]]"), 1);
    let (placebo_rows, _) = calibrate(&placebo);
    let treatment_targets = ["C10", "C11", "C12", "C13", "C14", "C15"];
    let mut outside = Vec::new();
    for id in treatment_targets {
        let (w, p) = (&working[id], &placebo_rows[id]);
        println!(
            "{id}: working ladder {:.3} (inside {}), useless drugs {:.3} (inside {})",
            w.simulated, w.inside, p.simulated, p.inside
        );
        if !p.inside {
            outside.push(id);
        }
    }
    assert!(
        outside.len() >= 4,
        "useless drugs meet too many treatment targets; outside only {outside:?}"
    );
    // PedCNO70 at 12 months (C13): independent samples of the same size, so
    // the standard error of the difference is sqrt(mcse_w^2 + mcse_p^2).
    let (w, p) = (&working["C13"], &placebo_rows["C13"]);
    let se = (w.mcse * w.mcse + p.mcse * p.mcse).sqrt();
    println!(
        "PedCNO70 at 12 months: working {:.3}, useless {:.3} (se of difference {se:.4})",
        w.simulated, p.simulated
    );
    assert!(w.simulated - p.simulated - 4.0 * se >= 0.05);
}
