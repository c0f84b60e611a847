//! The output directory of a run: staged in a temporary directory beside the
//! target and renamed into place only when every file is written, so an
//! interrupted or failed run never leaves half a result where a good one stood.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::cohort::CohortResult;
use crate::error::{Error, Result};

use super::tables::{differences_csv, km_csv, metrics_csv, summary_csv, timeseries_csv};

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

/// Writes every result file and the manifest into `dir`; returns the file names.
pub fn write_run(
    dir: &Path,
    res: &CohortResult,
    drugs: &[String],
    info: &mut RunInfo,
) -> Result<()> {
    write_file(dir, "summary.csv", &summary_csv(res)?)?;
    info.files.push("summary.csv".into());
    write_file(dir, "metrics.csv", &metrics_csv(res)?)?;
    info.files.push("metrics.csv".into());
    if res.arms.len() > 1 {
        write_file(dir, "differences.csv", &differences_csv(res)?)?;
        info.files.push("differences.csv".into());
    }
    write_file(dir, "timeseries.csv", &timeseries_csv(res, drugs)?)?;
    write_file(dir, "km.csv", &km_csv(res)?)?;
    info.files.push("timeseries.csv".into());
    info.files.push("km.csv".into());
    info.files.push("manifest.json".into());
    info.files.sort();
    let json = serde_json::to_string_pretty(info)
        .map_err(|e| Error::output(dir.join("manifest.json"), e.into()))?;
    write_file(dir, "manifest.json", &(json + "\n"))
}
