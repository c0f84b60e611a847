//! The output directory of a run: staged in a temporary directory beside the
//! target and renamed into place only when every file is written, so an
//! interrupted or failed run never leaves half a result where a good one stood.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::accum::{Occupancy, ENDPOINTS};
use crate::engine::cohort::CohortResult;
use crate::error::{Error, Result};

use super::km::kaplan_meier;
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

/// A temporary directory that becomes the output directory on [`Staging::commit`].
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl Staging {
    /// Creates the staging directory next to `target` (creating the parent if needed).
    ///
    /// An existing `target` is only ever replaced when it is an earlier
    /// crmo-sim result (it holds `manifest.json`) or empty; any other
    /// directory, and the working directory itself, is refused before any work.
    pub fn new(target: &Path) -> Result<Self> {
        let target = resolve_target(target)?;
        let parent = target
            .parent()
            .ok_or_else(|| Error::Usage(format!("cannot write results to {}", target.display())))?
            .to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| Error::output(&parent, e))?;
        let dir = tempfile::Builder::new()
            .prefix(".crmo-sim-staging-")
            .tempdir_in(&parent)
            .map_err(|e| Error::output(&parent, e))?;
        Ok(Self { dir, target })
    }

    /// Where files are written until commit.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces the target directory with the staged one.
    pub fn commit(self) -> Result<PathBuf> {
        let staged = self.dir.keep();
        let target = self.target;
        if target.exists() {
            let old = staged.with_extension("old");
            fs::rename(&target, &old).map_err(|e| Error::output(&target, e))?;
            fs::rename(&staged, &target).map_err(|e| Error::output(&target, e))?;
            fs::remove_dir_all(&old).map_err(|e| Error::output(&old, e))?;
        } else {
            fs::rename(&staged, &target).map_err(|e| Error::output(&target, e))?;
        }
        Ok(target)
    }
}

/// The absolute output path, refused when replacing it could destroy
/// something that is not a crmo-sim result.
fn resolve_target(target: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| Error::output(".", e))?;
    let absolute = normalise(&cwd.join(target));
    if absolute.parent().is_none() || cwd.starts_with(&absolute) {
        return Err(Error::Usage(format!(
            "--out {} is the working directory or one of its parents; choose a directory for the results, e.g. --out results/{}",
            target.display(),
            "my-run"
        )));
    }
    if absolute.exists() {
        if !absolute.is_dir() {
            return Err(Error::Usage(format!(
                "output path {} is taken by a file that is not a directory; choose another --out",
                target.display()
            )));
        }
        let is_result = absolute.join("manifest.json").is_file();
        let is_empty = fs::read_dir(&absolute)
            .map_err(|e| Error::output(&absolute, e))?
            .next()
            .is_none();
        if !is_result && !is_empty {
            return Err(Error::Usage(format!(
                "output directory {} exists and is not a crmo-sim result (no manifest.json), so it will not be replaced; choose another --out or empty it",
                target.display()
            )));
        }
    }
    Ok(absolute)
}

/// Removes `.` and resolves `..` lexically (the path may not exist yet).
fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

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
    /// Files written.
    pub files: Vec<String>,
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

/// Writes every result file and the manifest into `dir`; returns the file names.
pub fn write_run(
    dir: &Path,
    res: &CohortResult,
    drugs: &[String],
    info: &mut RunInfo,
) -> Result<()> {
    write_file(dir, "summary.csv", &summary_csv(res))?;
    info.files.push("summary.csv".into());
    if res.arms.len() > 1 {
        write_file(dir, "differences.csv", &differences_csv(res))?;
        info.files.push("differences.csv".into());
    }
    write_file(dir, "timeseries.csv", &timeseries_csv(res, drugs))?;
    write_file(dir, "km.csv", &km_csv(res))?;
    info.files.push("timeseries.csv".into());
    info.files.push("km.csv".into());
    info.files.push("manifest.json".into());
    info.files.sort();
    let json = serde_json::to_string_pretty(info)
        .map_err(|e| Error::output(dir.join("manifest.json"), e.into()))?;
    write_file(dir, "manifest.json", &(json + "\n"))
}
