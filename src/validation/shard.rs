//! Shards of `crmo-sim criteria`: `--shard K/N` runs a contiguous slice of
//! the differential's work units and writes its integer tally with what
//! identifies the run (`criteria-shard.json`); `--merge` checks that N
//! shards of one run are all there, each once, and adds their tallies into
//! exactly the tally of the whole run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::differential::DifferentialTally;
use crate::error::{Error, Result};
use crate::study::shard::ShardSpec;
use crate::study::Study;

use super::CriteriaStudy;

/// The file a criteria shard writes.
pub const SHARD_FILE: &str = "criteria-shard.json";
/// Marks the file's format.
const FORMAT: &str = "crmo-sim criteria shard 1";
/// Largest shard file read, bytes.
const MAX_SHARD_BYTES: u64 = 64 << 20;

/// One shard of a criteria run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriteriaShard {
    /// [`FORMAT`].
    pub format: String,
    /// crmo-sim version that wrote it.
    pub crmo_sim_version: String,
    /// K.
    pub index: u32,
    /// N.
    pub count: u32,
    /// The work units it ran, `[start, end)`.
    pub units: (u64, u64),
    /// Work units of the whole run.
    pub total_units: u64,
    /// The scenario text.
    pub scenario_text: String,
    /// Where the scenario came from.
    pub scenario_origin: String,
    /// CRMO patients per replicate (after `--patients`).
    pub patients: u64,
    /// Seed (after `--seed`).
    pub seed: u64,
    /// The tally of its units.
    pub tally: DifferentialTally,
}

impl CriteriaShard {
    /// The shard `shard` of `cs` with its tally.
    pub fn new(cs: &CriteriaStudy, shard: ShardSpec, tally: DifferentialTally) -> Self {
        let study = cs.study();
        let units = shard.units(cs.units());
        CriteriaShard {
            format: FORMAT.into(),
            crmo_sim_version: env!("CARGO_PKG_VERSION").into(),
            index: shard.index,
            count: shard.count,
            units: (units.start, units.end),
            total_units: cs.units(),
            scenario_text: study.loaded().text.clone(),
            scenario_origin: study.loaded().origin.clone(),
            patients: study.scenario().patients,
            seed: study.scenario().seed,
            tally,
        }
    }

    /// Writes [`SHARD_FILE`] into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(SHARD_FILE);
        let json = serde_json::to_string(self).map_err(|e| Error::output(&path, e.into()))?;
        std::fs::write(&path, json + "\n").map_err(|e| Error::output(&path, e))
    }

    /// Reads [`SHARD_FILE`] from `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(SHARD_FILE);
        let bad = |why: String| Error::Shard(format!("{}: {why}", path.display()));
        let size = std::fs::metadata(&path)
            .map_err(|e| {
                bad(format!(
                    "cannot read ({e}); expected a directory written by `criteria --shard K/N`"
                ))
            })?
            .len();
        if size > MAX_SHARD_BYTES {
            return Err(bad(format!("larger than {MAX_SHARD_BYTES} bytes")));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read ({e})")))?;
        let shard: CriteriaShard =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a criteria shard ({e})")))?;
        if shard.format != FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {FORMAT:?}",
                shard.format
            )));
        }
        Ok(shard)
    }

    /// Whether `other` belongs to the same run.
    fn same_run(&self, other: &CriteriaShard) -> bool {
        (
            &self.crmo_sim_version,
            self.count,
            self.total_units,
            &self.scenario_text,
            self.patients,
            self.seed,
        ) == (
            &other.crmo_sim_version,
            other.count,
            other.total_units,
            &other.scenario_text,
            other.patients,
            other.seed,
        )
    }
}

/// The merged run of the shards in `dirs`: its study and the whole tally.
/// Refused (exit 2) unless they are the N shards of one run, each once,
/// written by this version, with the units the split gives them.
pub fn merge_criteria_shards(dirs: &[PathBuf]) -> Result<(CriteriaStudy, DifferentialTally)> {
    let shards: Vec<CriteriaShard> = dirs
        .iter()
        .map(|d| CriteriaShard::read(d))
        .collect::<Result<_>>()?;
    let first = shards
        .first()
        .ok_or_else(|| Error::Shard("no shard directories given".into()))?;
    let name = |i: usize| dirs[i].display().to_string();
    for (i, s) in shards.iter().enumerate() {
        if !first.same_run(s) {
            return Err(Error::Shard(format!(
                "{} and {} are not shards of the same criteria run (scenario, seed, patients, shard count or version differ)",
                name(0),
                name(i)
            )));
        }
        let spec = ShardSpec {
            index: s.index,
            count: s.count,
        };
        let units = spec.units(s.total_units);
        if s.index >= s.count || (units.start, units.end) != s.units {
            return Err(Error::Shard(format!(
                "{}: shard {}/{} holds the wrong work units",
                name(i),
                s.index,
                s.count
            )));
        }
        if let Some(j) = shards[..i].iter().position(|t| t.index == s.index) {
            return Err(Error::Shard(format!(
                "{} and {} are both shard {}/{}",
                name(j),
                name(i),
                s.index,
                s.count
            )));
        }
    }
    let missing: Vec<String> = (0..first.count)
        .filter(|k| !shards.iter().any(|s| s.index == *k))
        .map(|k| format!("{k}/{}", first.count))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Shard(format!(
            "shard(s) {} missing",
            missing.join(", ")
        )));
    }
    let mut loaded = crate::scenario::parse(&first.scenario_text, &first.scenario_origin)?;
    loaded.scenario.patients = first.patients;
    loaded.scenario.seed = first.seed;
    let cs = CriteriaStudy::resolve(Study::resolve(loaded)?)?;
    if cs.units() != first.total_units {
        return Err(Error::Shard(format!(
            "{}: the shards were split over {} work units, this version makes {}",
            name(0),
            first.total_units,
            cs.units()
        )));
    }
    let mut tally = DifferentialTally::default();
    for s in &shards {
        tally.merge(&s.tally);
    }
    Ok((cs, tally))
}
