//! The files of a result directory: the CSV tables and `manifest.json`, which
//! marks the directory as a crmo-sim result and lists (with SHA-256) every
//! file in it, so a later run can prove which files are its own. Where the
//! directory is written and how it replaces an earlier one is
//! [`super::outdir`]'s business.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::results::CohortResult;

use super::ownership::{list_result, MANIFEST, RESULT_MARKER};
use super::tables::{
    differences_csv, km_csv, metrics_csv, summary_csv, timeseries_csv,
    timeseries_from_diagnosis_csv,
};

/// What the manifest records about a run besides the results.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// crmo-sim version.
    pub crmo_sim_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Where the scenario came from.
    pub scenario_source: String,
    /// SHA-256 of the scenario text.
    pub scenario_sha256: String,
    /// Seed.
    pub seed: u64,
    /// Patients per replicate.
    pub patients: u64,
    /// Replicates.
    pub replicates: u32,
    /// Horizon, years.
    pub horizon_years: f64,
    /// Arms.
    pub arms: Vec<String>,
    /// A sweep's parameters and what every grid point ran (absent without
    /// `[sweep]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepInfo>,
    /// The slice of the work a shard ran (`K/N`, absent in a whole run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The arm `differences.csv` pairs against, when the scenario or
    /// `--reference-arm` chose one (absent: the first arm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_arm: Option<String>,
    /// Worker threads.
    pub threads: usize,
    /// The command line.
    pub command_line: Vec<String>,
    /// Patient-years simulated (all arms and replicates).
    pub patient_years: f64,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Versions of the random-number crates (values depend on them).
    pub rng: String,
    /// Every file and directory of the result (directories end in `/`);
    /// filled in by [`write_run`] from the directory itself.
    pub files: Vec<String>,
}

/// What the manifest records of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepInfo {
    /// The swept parameters' dotted paths, in `sweep.csv` order.
    pub parameters: Vec<String>,
    /// Every grid point as it ran, in `sweep.csv` order.
    pub points: Vec<SweepPointInfo>,
}

/// One grid point of a sweep as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPointInfo {
    /// The swept parameters' values.
    pub values: Vec<f64>,
    /// Seed.
    pub seed: u64,
    /// Patients per replicate.
    pub patients: u64,
    /// Replicates.
    pub replicates: u32,
    /// Horizon, years.
    pub horizon_years: f64,
}

/// `manifest.json`: the marker, the run's description and the SHA-256 of
/// every file, which together prove which files crmo-sim wrote.
#[derive(Debug, Serialize)]
struct Manifest<'a> {
    format: &'static str,
    #[serde(flatten)]
    run: &'a RunInfo,
    sha256: &'a BTreeMap<String, String>,
}

/// SHA-256 of a text, in hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_file(dir: &Path, name: &str, content: &str) -> Result<()> {
    let path = dir.join(name);
    let mut f = fs::File::create(&path).map_err(|e| Error::output(&path, e))?;
    f.write_all(content.as_bytes())
        .map_err(|e| Error::output(&path, e))
}

/// Writes every result file and then the manifest into `dir`, which already
/// holds the other files of the run (per-patient rows, plots, calibration);
/// the manifest lists and hashes everything found there.
pub fn write_run(
    dir: &Path,
    res: &CohortResult,
    drugs: &[String],
    info: &mut RunInfo,
) -> Result<()> {
    write_file(dir, "summary.csv", &summary_csv(res)?)?;
    write_file(dir, "metrics.csv", &metrics_csv(res)?)?;
    if res.arms.len() > 1 {
        write_file(dir, "differences.csv", &differences_csv(res)?)?;
    }
    write_file(dir, "timeseries.csv", &timeseries_csv(res, drugs)?)?;
    write_file(
        dir,
        "timeseries_from_diagnosis.csv",
        &timeseries_from_diagnosis_csv(res)?,
    )?;
    write_file(dir, "km.csv", &km_csv(res)?)?;
    write_manifest(dir, info)
}

/// Writes `manifest.json` listing everything now in `dir`.
pub fn write_manifest(dir: &Path, info: &mut RunInfo) -> Result<()> {
    let path = dir.join(MANIFEST);
    let listing = list_result(dir).map_err(|e| Error::output(dir, e))?;
    info.files = listing.entries;
    info.files.push(MANIFEST.into());
    info.files.sort();
    let manifest = Manifest {
        format: RESULT_MARKER,
        run: info,
        sha256: &listing.sha256,
    };
    let json =
        serde_json::to_string_pretty(&manifest).map_err(|e| Error::output(&path, e.into()))?;
    write_file(dir, MANIFEST, &(json + "\n"))
}
