//! `trial --shard K/N`: a contiguous slice of the trials (units ordered by
//! size, then trial), saved with its trial records in `trial-shard.crmo`,
//! and the merge of all N slices into exactly the single-machine result.
//!
//! File format: the 8 bytes `CRMOTRIL`, the format version as a
//! little-endian `u32`, then a [`TrialShardFile`] encoded with `postcard`
//! (floats bit for bit).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::output::writer::sha256_hex;
use crate::study::shard::ShardSpec;
use crate::study::Study;

use super::design::{Overrides, TrialDesign};
use super::run::TrialRecord;
use super::TrialRun;

/// Name of the file in a trial shard directory.
pub const TRIAL_SHARD_FILE: &str = "trial-shard.crmo";
const MAGIC: &[u8; 8] = b"CRMOTRIL";
/// Version of the trial shard format.
pub const FORMAT_VERSION: u32 = 1;

/// What identifies the trials a shard belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialIdentity {
    /// crmo-sim version.
    pub crmo_sim_version: String,
    /// SHA-256 of the scenario text.
    pub scenario_sha256: String,
    /// Seed in force.
    pub seed: u64,
    /// The flags that overrode `[trial]`.
    pub flags: Overrides,
    /// Shards in the split.
    pub shards: u32,
}

/// The content of `trial-shard.crmo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialShardFile {
    /// Which trials.
    pub identity: TrialIdentity,
    /// Which shard.
    pub shard: ShardSpec,
    /// The scenario text (so a merge needs nothing else).
    pub scenario_text: String,
    /// Where it was read from.
    pub scenario_origin: String,
    /// The units this shard ran.
    pub units: (u64, u64),
    /// Seconds the shard took.
    pub wall_seconds: f64,
    /// Its trials, in unit order.
    pub records: Vec<TrialRecord>,
}

impl TrialShardFile {
    /// The identity of trials of `study` with `flags`, split `shards` ways.
    pub fn identity(study: &Study, flags: &Overrides, shards: u32) -> TrialIdentity {
        TrialIdentity {
            crmo_sim_version: env!("CARGO_PKG_VERSION").into(),
            scenario_sha256: sha256_hex(&study.loaded().text),
            seed: study.scenario().seed,
            flags: flags.clone(),
            shards,
        }
    }

    /// Writes the file into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(TRIAL_SHARD_FILE);
        let body = postcard::to_stdvec(self).map_err(|e| {
            Error::output(&path, std::io::Error::other(format!("cannot encode: {e}")))
        })?;
        let mut bytes = Vec::with_capacity(body.len() + 12);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&body);
        std::fs::write(&path, bytes).map_err(|e| Error::output(&path, e))
    }

    /// Reads the trial shard in `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(TRIAL_SHARD_FILE);
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::Shard(format!(
                "{} is not a crmo-sim trial shard directory: cannot read {}: {e}",
                dir.display(),
                path.display()
            ))
        })?;
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(Error::Shard(format!(
                "{} is not a crmo-sim trial shard file",
                path.display()
            )));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != FORMAT_VERSION {
            return Err(Error::Shard(format!(
                "{} has trial shard format version {version}; this crmo-sim reads version {FORMAT_VERSION}",
                path.display()
            )));
        }
        postcard::from_bytes(&bytes[12..]).map_err(|e| {
            Error::Shard(format!(
                "{} is damaged or truncated ({e}); run that shard again",
                path.display()
            ))
        })
    }
}

/// Whether `dir` holds a trial shard (rather than a `run` shard).
pub fn is_trial_shard(dir: &Path) -> bool {
    dir.join(TRIAL_SHARD_FILE).is_file()
}

/// Trial shards read and merged.
#[derive(Debug)]
pub struct MergedTrials {
    /// The study.
    pub study: Study,
    /// The merged trials.
    pub run: TrialRun,
    /// Summed seconds of the shards.
    pub wall_seconds: f64,
}

/// Reads the N shards in `dirs` (any order), checks that they are the whole
/// split of the same trials, and merges them.
pub fn merge_trial_shards(dirs: &[PathBuf]) -> Result<MergedTrials> {
    let mut shards = dirs
        .iter()
        .map(|d| Ok((d.clone(), TrialShardFile::read(d)?)))
        .collect::<Result<Vec<_>>>()?;
    let Some((first_dir, first)) = shards.first().cloned() else {
        return Err(Error::Shard(
            "merge needs at least one shard directory".into(),
        ));
    };
    for (dir, s) in &shards {
        if s.identity != first.identity {
            return Err(Error::Shard(format!(
                "{} and {} are shards of different trials (scenario, seed, flags, crmo-sim version or shard count differ)",
                first_dir.display(),
                dir.display()
            )));
        }
    }
    shards.sort_by_key(|(_, s)| s.shard.index);
    let n = first.identity.shards;
    for (k, (dir, s)) in shards.iter().enumerate() {
        if s.shard.index as usize != k {
            return Err(Error::Shard(format!(
                "shard {k}/{n} is missing or {} repeats shard {}",
                dir.display(),
                s.shard
            )));
        }
    }
    if shards.len() != n as usize {
        return Err(Error::Shard(format!(
            "{} of {n} shards given: every shard of the split is needed",
            shards.len()
        )));
    }
    let mut loaded = crate::scenario::parse(&first.scenario_text, &first.scenario_origin)?;
    loaded.scenario.seed = first.identity.seed;
    let study = super::design::trial_study(loaded, &first.identity.flags)?;
    let design = TrialDesign::resolve(&study, &first.identity.flags)?;
    let total = design.per_arm.len() as u64 * design.trials;
    let mut next = 0;
    for (dir, s) in &shards {
        let expect = s.shard.units(total);
        if s.units != (expect.start, expect.end) || s.units.0 != next {
            return Err(Error::Shard(format!(
                "{} does not hold the trials of shard {}",
                dir.display(),
                s.shard
            )));
        }
        next = s.units.1;
    }
    let arms = study.arms().len();
    for (dir, s) in &shards {
        if let Some(what) = s
            .records
            .iter()
            .find_map(|r| inconsistency(r, &design, arms))
        {
            return Err(Error::Shard(format!(
                "{} is damaged ({what}); run that shard again",
                dir.display()
            )));
        }
    }
    let wall_seconds = shards.iter().map(|(_, s)| s.wall_seconds).sum();
    let records = shards.into_iter().flat_map(|(_, s)| s.records).collect();
    let run = TrialRun::new(design, study.arm_names(), records);
    Ok(MergedTrials {
        study,
        run,
        wall_seconds,
    })
}

/// What a decoded trial record says that no crmo-sim wrote for `design`
/// with `arms` arms: a size or trial outside the design, or a number of
/// groups, comparisons or arm indices that does not fit the arms.
fn inconsistency(r: &TrialRecord, design: &TrialDesign, arms: usize) -> Option<&'static str> {
    if !design.per_arm.contains(&r.per_arm) || r.trial >= design.trials {
        Some("a trial outside the design")
    } else if r.groups.len() != arms
        || r.comparisons.len() + 1 != arms
        || r.comparisons.iter().any(|c| c.arm >= arms)
        || r.patients.iter().any(|p| p.arm >= arms)
    {
        Some("a trial whose arms do not match the scenario")
    } else {
        None
    }
}
