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

use crate::engine::accum::{Occupancy, ENDPOINTS};
use crate::engine::cohort::CohortResult;
use crate::error::{Error, Result};

use super::km::kaplan_meier;
use super::ownership::{list_result, MANIFEST, RESULT_MARKER};
use super::rows::fmt_num;
use super::summary::{difference_rows, summary_rows};
use crate::plot::cohort::pain_band;

/// Header of `summary.csv`.
pub const SUMMARY_HEADER: &str = "arm,metric,mean,lower_95,upper_95,mcse";
/// Header of `differences.csv`.
pub const DIFFERENCES_HEADER: &str = "arm,reference_arm,metric,mean_difference,lower_95,upper_95";
/// Header of `km.csv`.
pub const KM_HEADER: &str =
    "arm,endpoint,time_days,at_risk,events,censored,survival,lower_95,upper_95";

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

/// `summary.csv` as text.
pub fn summary_csv(res: &CohortResult) -> String {
    let mut s = format!("{SUMMARY_HEADER}\n");
    for r in summary_rows(res) {
        s += &format!(
            "{},{},{},{},{},{}\n",
            r.arm,
            r.metric,
            fmt_num(r.mean),
            fmt_num(r.lower_95),
            fmt_num(r.upper_95),
            fmt_num(r.mcse)
        );
    }
    s
}

/// `differences.csv` as text.
pub fn differences_csv(res: &CohortResult) -> String {
    let mut s = format!("{DIFFERENCES_HEADER}\n");
    for r in difference_rows(res) {
        s += &format!(
            "{},{},{},{},{},{}\n",
            r.arm,
            r.reference_arm,
            r.metric,
            fmt_num(r.mean_difference),
            fmt_num(r.lower_95),
            fmt_num(r.upper_95)
        );
    }
    s
}

/// Header of `timeseries.csv` for the given drugs.
pub fn timeseries_header(drugs: &[String]) -> String {
    let mut h = "arm,week,time_days,active_frac,remission_frac,resolved_frac,lost_frac,mean_pain_vas,mean_pain_lower_95,mean_pain_upper_95".to_string();
    for d in drugs {
        h += &format!(",on_{d}_frac");
    }
    h
}

/// `timeseries.csv` as text.
pub fn timeseries_csv(res: &CohortResult, drugs: &[String]) -> String {
    let total = (res.patients * res.replicates.len() as u64) as f64;
    let mut s = timeseries_header(drugs) + "\n";
    for (arm, curves) in res.arms.iter().zip(&res.curves) {
        let occ = &curves.occupancy;
        let states: Vec<Vec<i64>> = occ.states.iter().map(|d| Occupancy::values(d)).collect();
        let pain = Occupancy::values(&occ.pain);
        let pain_sq = Occupancy::values(&occ.pain_sq);
        let drug_rows: Vec<Vec<i64>> = occ.drugs.iter().map(|d| Occupancy::values(d)).collect();
        for i in 0..occ.points() {
            let step = occ.step_days as usize;
            let observed = (states[0][i] + states[1][i] + states[2][i]) as f64;
            let (mean, lo, hi) = pain_band(pain[i], pain_sq[i], observed);
            s += &format!(
                "{arm},{},{},{},{},{},{},{},{},{}",
                i * step / 7,
                i * step,
                fmt_num(states[0][i] as f64 / total),
                fmt_num(states[1][i] as f64 / total),
                fmt_num(states[2][i] as f64 / total),
                fmt_num(states[3][i] as f64 / total),
                fmt_num(mean),
                fmt_num(lo),
                fmt_num(hi)
            );
            for d in &drug_rows {
                s += &format!(",{}", fmt_num(d[i] as f64 / total));
            }
            s.push('\n');
        }
    }
    s
}

/// `km.csv` as text.
pub fn km_csv(res: &CohortResult) -> String {
    let mut s = format!("{KM_HEADER}\n");
    for (arm, curves) in res.arms.iter().zip(&res.curves) {
        for (endpoint, counts) in ENDPOINTS.iter().zip(&curves.km) {
            for r in kaplan_meier(counts) {
                s += &format!(
                    "{arm},{endpoint},{},{},{},{},{},{},{}\n",
                    r.day,
                    r.at_risk,
                    r.events,
                    r.censored,
                    fmt_num(r.survival),
                    fmt_num(r.lower_95),
                    fmt_num(r.upper_95)
                );
            }
        }
    }
    s
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
    write_file(dir, "summary.csv", &summary_csv(res))?;
    if res.arms.len() > 1 {
        write_file(dir, "differences.csv", &differences_csv(res))?;
    }
    write_file(dir, "timeseries.csv", &timeseries_csv(res, drugs))?;
    write_file(dir, "km.csv", &km_csv(res))?;
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
