//! Golden outputs: small runs of every shipped scenario (`scenarios/*.toml`)
//! compared byte for byte with the files kept under `tests/golden/<case>/`.
//!
//! A change of any number in any CSV of these runs fails this test, so a
//! change of outputs shows up as a diff of `tests/golden/` in the commit that
//! makes it (and its message says why). `scripts/regen-golden.sh` rewrites the
//! files: it runs this test with `CRMO_SIM_REGEN_GOLDEN=1`.
//!
//! Plots are not drawn (`--no-plots`; they are checked in `tests/plots.rs`),
//! so `report.html` holds no pictures and is compared too. `manifest.json` is
//! kept without the fields that legitimately vary from run to run: the
//! command line (it names the temporary output directory) and the wall time.
//! Each case runs a copy of its scenario named `<case>.toml` from a temporary
//! working directory, so the scenario's path is the same at every run.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Set to `1` to write the golden files instead of comparing with them.
const REGEN_VAR: &str = "CRMO_SIM_REGEN_GOLDEN";

/// Fields of `manifest.json` left out of its golden copy (see the module doc).
const VARYING_MANIFEST_FIELDS: [&str; 2] = ["command_line", "wall_seconds"];

/// Patients per run: enough for every arm, metric and curve to have values,
/// few enough for the whole test to take seconds in a release build.
const PATIENTS: &str = "300";

/// Patients of the case with per-patient and per-event rows.
const ROW_PATIENTS: &str = "60";

/// What the rows case appends to the reference scenario.
const ROWS_OUTPUT: &str = "\n[output]\npatients = true\nevents = true\n";

/// One golden run: a directory name under `tests/golden/` and how to make it.
struct Case {
    /// Directory under `tests/golden/`.
    name: String,
    /// `run` or `calibrate`.
    command: &'static str,
    /// The scenario text, run from a copy in the temporary directory.
    scenario_text: String,
    /// Patients per replicate.
    patients: &'static str,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden_root() -> PathBuf {
    root().join("tests/golden")
}

/// The shipped scenarios, by file stem, in name order.
fn shipped_scenarios() -> BTreeMap<String, String> {
    fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, fs::read_to_string(&p).expect("scenario is text"))
        })
        .collect()
}

/// Every case: each shipped scenario run as shipped (with fewer patients),
/// the reference scenario with `patients.csv` and `events.csv`, and the
/// reference scenario's calibration (`calibration.csv`).
fn cases() -> Vec<Case> {
    let scenarios = shipped_scenarios();
    let mut cases: Vec<Case> = scenarios
        .iter()
        .map(|(stem, text)| Case {
            name: stem.clone(),
            command: "run",
            scenario_text: text.clone(),
            patients: PATIENTS,
        })
        .collect();
    let reference = scenarios["reference"].clone();
    cases.push(Case {
        name: "reference-rows".into(),
        command: "run",
        scenario_text: reference.clone() + ROWS_OUTPUT,
        patients: ROW_PATIENTS,
    });
    cases.push(Case {
        name: "reference-calibrate".into(),
        command: "calibrate",
        scenario_text: reference,
        patients: PATIENTS,
    });
    cases
}

/// Runs one case into `out` and returns its files as they are compared.
fn run_case(case: &Case, scratch: &Path, out: &Path) -> BTreeMap<String, Vec<u8>> {
    let scenario = format!("{}.toml", case.name);
    fs::write(scratch.join(&scenario), &case.scenario_text).expect("write scenario copy");
    let output = Command::cargo_bin("crmo-sim")
        .expect("the crmo-sim binary is built")
        .current_dir(scratch)
        .env_remove("RAYON_NUM_THREADS")
        .timeout(std::time::Duration::from_secs(120))
        .arg(case.command)
        .arg(&scenario)
        .args(["--patients", case.patients, "--threads", "2"])
        .args(["-q", "--no-plots", "--out"])
        .arg(out)
        .output()
        .expect("crmo-sim runs");
    assert!(
        output.status.success(),
        "{}: crmo-sim {} failed: {}",
        case.name,
        case.command,
        String::from_utf8_lossy(&output.stderr)
    );
    comparable_files(out)
}

/// The files of a result directory as they are kept: everything but the
/// plots directory, with `manifest.json` stripped of its varying fields.
fn comparable_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).expect("read output directory") {
        let entry = entry.expect("directory entry");
        if !entry.file_type().expect("file type").is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = fs::read(entry.path()).expect("read output file");
        let bytes = if name == "manifest.json" {
            stable_manifest(&bytes)
        } else {
            bytes
        };
        files.insert(name, bytes);
    }
    files
}

/// `manifest.json` without [`VARYING_MANIFEST_FIELDS`], pretty-printed.
fn stable_manifest(bytes: &[u8]) -> Vec<u8> {
    let mut manifest: serde_json::Value =
        serde_json::from_slice(bytes).expect("manifest.json is JSON");
    let object = manifest.as_object_mut().expect("manifest is an object");
    for field in VARYING_MANIFEST_FIELDS {
        assert!(
            object.remove(field).is_some(),
            "manifest.json has no `{field}`: update VARYING_MANIFEST_FIELDS"
        );
    }
    let mut text = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    text.push(b'\n');
    text
}

/// Where two files first differ, as "line N: expected … / got …".
fn first_difference(expected: &[u8], got: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let got = String::from_utf8_lossy(got);
    let mut e_lines = expected.lines();
    let mut g_lines = got.lines();
    for line in 1.. {
        match (e_lines.next(), g_lines.next()) {
            (Some(e), Some(g)) if e == g => continue,
            (None, None) => return "same lines, different line endings".into(),
            (e, g) => {
                return format!(
                    "line {line}:\n  expected {}\n  got      {}",
                    e.unwrap_or("(end of file)"),
                    g.unwrap_or("(end of file)")
                )
            }
        }
    }
    unreachable!("lines() ends")
}

/// The files kept for one case.
fn golden_files(case_dir: &Path) -> BTreeMap<String, Vec<u8>> {
    if !case_dir.is_dir() {
        return BTreeMap::new();
    }
    fs::read_dir(case_dir)
        .expect("read golden directory")
        .map(|e| e.expect("directory entry").path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).expect("read golden file"))
        })
        .collect()
}

/// Replaces the golden files of one case with `files`.
fn write_golden(case_dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    if case_dir.exists() {
        fs::remove_dir_all(case_dir).expect("remove old golden files");
    }
    fs::create_dir_all(case_dir).expect("create golden directory");
    for (name, bytes) in files {
        fs::write(case_dir.join(name), bytes).expect("write golden file");
    }
}

/// The differences between one case's golden files and a fresh run.
fn differences(
    case: &str,
    expected: &BTreeMap<String, Vec<u8>>,
    got: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let mut found = Vec::new();
    let names: BTreeSet<&String> = expected.keys().chain(got.keys()).collect();
    for name in names {
        match (expected.get(name), got.get(name)) {
            (Some(e), Some(g)) if e == g => {}
            (Some(e), Some(g)) => found.push(format!(
                "{case}/{name} differs at {}",
                first_difference(e, g)
            )),
            (Some(_), None) => found.push(format!("{case}/{name} is no longer written")),
            (None, _) => found.push(format!("{case}/{name} is new")),
        }
    }
    found
}

#[test]
fn every_shipped_scenario_reproduces_its_golden_outputs() {
    let regen = std::env::var(REGEN_VAR).is_ok_and(|v| v == "1");
    let scratch = tempfile::Builder::new()
        .prefix("crmo-sim-golden-")
        .tempdir()
        .expect("temporary directory");
    let cases = cases();
    let mut found = Vec::new();
    for case in &cases {
        let got = run_case(case, scratch.path(), &scratch.path().join(&case.name));
        assert!(
            got.contains_key("summary.csv"),
            "{}: no summary.csv",
            case.name
        );
        let case_dir = golden_root().join(&case.name);
        if regen {
            write_golden(&case_dir, &got);
        } else {
            found.extend(differences(&case.name, &golden_files(&case_dir), &got));
        }
    }
    let kept: BTreeSet<String> = fs::read_dir(golden_root())
        .expect("tests/golden/ exists")
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let made: BTreeSet<String> = cases.iter().map(|c| c.name.clone()).collect();
    for stale in kept.difference(&made) {
        found.push(format!("tests/golden/{stale} belongs to no case"));
    }
    assert!(
        found.is_empty(),
        "outputs differ from tests/golden/ (if the change is intended, run \
         scripts/regen-golden.sh and say why in the commit message):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rows_case_writes_patient_and_event_rows() {
    let dir = golden_root().join("reference-rows");
    for name in ["patients.csv", "events.csv"] {
        let text = fs::read_to_string(dir.join(name)).expect("golden rows file");
        assert!(
            text.lines().count() > 1,
            "{name} of the rows case has no rows"
        );
    }
}
