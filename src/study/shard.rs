//! Shards: a deterministic slice of a study's work, saved with its
//! accumulators in a versioned file (`shard.crmo`), and the merge of all
//! slices into exactly the single-machine result.
//!
//! File format: the 8 bytes `CRMOSHRD`, the format version as a
//! little-endian `u32`, then a [`ShardFile`] encoded with `postcard` (serde's
//! compact binary encoding with variable-length integers, so the mostly-small
//! counts of the accumulators take a byte or two each).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::cohort::Accumulators;
use crate::error::{Error, Result};
use crate::output::writer::sha256_hex;
use crate::results::CohortResult;
use crate::scenario::limits;

use super::Study;

/// Name of the accumulator file in a shard directory.
pub const SHARD_FILE: &str = "shard.crmo";
const MAGIC: &[u8; 8] = b"CRMOSHRD";
/// Version of the shard file format; bumped whenever [`ShardFile`] changes.
pub const FORMAT_VERSION: u32 = 2;

/// Slice `index` of `count` (`--shard K/N`, K from 0 like a Slurm array index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    /// K, from 0.
    pub index: u32,
    /// N.
    pub count: u32,
}

impl std::str::FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!("--shard {s:?} is not allowed: expected K/N with 0 <= K < N, e.g. 0/4 (K counts from 0, like $SLURM_ARRAY_TASK_ID)")
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardSpec {
    /// The work units of this shard out of `total`: contiguous, in order,
    /// sizes differing by at most one.
    pub fn units(&self, total: u64) -> std::ops::Range<u64> {
        let at = |k: u32| (u128::from(total) * u128::from(k) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// What identifies the study a shard belongs to: shards merge only when all
/// of these agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyIdentity {
    /// crmo-sim version that wrote the shard.
    pub crmo_sim_version: String,
    /// SHA-256 of the scenario text.
    pub scenario_sha256: String,
    /// Seed in force (after `--seed`).
    pub seed: u64,
    /// Patients per replicate in force (after `--patients`).
    pub patients: u64,
    /// Shards in the split (N).
    pub shards: u32,
    /// The reference arm chosen by the scenario or `--reference-arm`
    /// (None: the first arm); the paired differences are taken against it.
    pub reference_arm: Option<String>,
}

impl StudyIdentity {
    /// The identity of `study` split into `shards` shards.
    pub fn of(study: &Study, shards: u32) -> Self {
        StudyIdentity {
            crmo_sim_version: env!("CARGO_PKG_VERSION").into(),
            scenario_sha256: sha256_hex(&study.loaded().text),
            seed: study.scenario().seed,
            patients: study.scenario().patients,
            shards,
            reference_arm: study.chosen_reference_arm(),
        }
    }
}

/// The content of `shard.crmo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardFile {
    /// Which study.
    pub identity: StudyIdentity,
    /// Which shard (K of N).
    pub shard: ShardSpec,
    /// The scenario text (so `merge` needs nothing but the shards).
    pub scenario_text: String,
    /// Where the scenario was read from.
    pub scenario_origin: String,
    /// The work units this shard ran.
    pub units: (u64, u64),
    /// Seconds the shard's simulation took.
    pub wall_seconds: f64,
    /// The accumulators of the slice, one per grid point (one without a sweep).
    pub points: Vec<Accumulators>,
}

impl ShardFile {
    /// Writes the file into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(SHARD_FILE);
        let body = postcard::to_stdvec(self).map_err(|e| {
            Error::output(&path, std::io::Error::other(format!("cannot encode: {e}")))
        })?;
        let mut bytes = Vec::with_capacity(body.len() + 12);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&body);
        std::fs::write(&path, bytes).map_err(|e| Error::output(&path, e))
    }

    /// Reads the shard in directory `dir`, refusing anything that is not a
    /// shard of this format version.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(SHARD_FILE);
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::Shard(format!(
                "{} is not a crmo-sim shard directory: cannot read {}: {e}",
                dir.display(),
                path.display()
            ))
        })?;
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(Error::Shard(format!(
                "{} is not a crmo-sim shard file",
                path.display()
            )));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(Error::Shard(format!(
                "{} has shard format version {version}; this crmo-sim reads version {FORMAT_VERSION}: merge with the crmo-sim that wrote the shards",
                path.display()
            )));
        }
        let file: ShardFile = postcard::from_bytes(&bytes[12..]).map_err(|e| {
            Error::Shard(format!(
                "{} is damaged or truncated ({e}); run that shard again",
                path.display()
            ))
        })?;
        match file.inconsistency() {
            Some(what) => Err(Error::Shard(format!(
                "{} is damaged ({what}); run that shard again",
                path.display()
            ))),
            None => Ok(file),
        }
    }

    /// What a decoded file says that no crmo-sim wrote: a shard outside its
    /// split, a hash that is not SHA-256 hex, a seed or patient count outside
    /// the scenario limits. A merge trusts nothing else in the file.
    fn inconsistency(&self) -> Option<&'static str> {
        let id = &self.identity;
        if self.shard.count == 0 || self.shard.count != id.shards || self.shard.index >= id.shards {
            Some("its shard number is outside its split")
        } else if id.scenario_sha256.len() != 64
            || !id.scenario_sha256.bytes().all(|b| b.is_ascii_hexdigit())
        {
            Some("its scenario hash is not SHA-256")
        } else if !(1..=limits::MAX_PATIENTS).contains(&id.patients) || id.seed > limits::MAX_SEED {
            Some("its seed or patient count is outside the scenario limits")
        } else if sha256_hex(&self.scenario_text) != id.scenario_sha256 {
            Some("its scenario text does not have its scenario hash")
        } else {
            None
        }
    }
}

/// Shards read for a merge, checked to be exactly the N shards of one study.
#[derive(Debug)]
pub struct MergedShards {
    /// The study the shards belong to.
    pub study: Study,
    /// The merged results, one per grid point (one without a sweep).
    pub results: Vec<CohortResult>,
    /// The shard directories in shard order.
    pub dirs: Vec<PathBuf>,
    /// Summed simulation seconds of the shards.
    pub wall_seconds: f64,
}

/// Reads, checks and merges the shards in `dirs` (any order). Refuses, with
/// exit code 2, a directory that holds no shard, shards of different
/// studies (scenario, crmo-sim version, seed, patients or N), a shard given
/// twice and a missing shard.
pub fn merge_shards(dirs: &[PathBuf]) -> Result<MergedShards> {
    let mut shards: Vec<(PathBuf, ShardFile)> = Vec::new();
    for dir in dirs {
        let manifest = verify_files(dir)?;
        let file = ShardFile::read(dir)?;
        check_manifest(dir, &file, &manifest)?;
        shards.push((dir.clone(), file));
    }
    let Some((first_dir, first)) = shards.first() else {
        return Err(Error::Usage(
            "merge needs at least one shard directory".into(),
        ));
    };
    for (dir, s) in &shards[1..] {
        if let Some(what) = mismatch(&first.identity, &s.identity) {
            return Err(Error::Shard(format!(
                "{} does not belong with {}: {what}; merge only the shards of one run",
                dir.display(),
                first_dir.display()
            )));
        }
    }
    let n = first.identity.shards;
    // Only the given shards are indexed, so a split of any N costs nothing.
    let mut by_index: std::collections::BTreeMap<u32, usize> = Default::default();
    for (i, (dir, s)) in shards.iter().enumerate() {
        if let Some(&j) = by_index.get(&s.shard.index) {
            return Err(Error::Shard(format!(
                "shard {} is given twice ({} and {}): give each shard once",
                s.shard,
                shards[j].0.display(),
                dir.display()
            )));
        }
        by_index.insert(s.shard.index, i);
    }
    const LISTED: usize = 20;
    let missing_count = n as usize - by_index.len();
    let mut missing: Vec<String> = (0..n)
        .filter(|k| !by_index.contains_key(k))
        .take(LISTED)
        .map(|k| format!("{k}/{n}"))
        .collect();
    if missing_count > LISTED {
        missing.push(format!("and {} more", missing_count - LISTED));
    }
    if !missing.is_empty() {
        return Err(Error::Shard(format!(
            "missing shard{} {}: a merge needs all {n} shards of the run",
            if missing_count == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    let mut loaded = crate::scenario::parse(&first.scenario_text, &first.scenario_origin)?;
    loaded.scenario.seed = first.identity.seed;
    loaded.scenario.patients = first.identity.patients;
    if let Some(name) = &first.identity.reference_arm {
        loaded.scenario.reference_arm = Some(toml::Spanned::new(0..0, name.clone()));
    }
    let study = Study::resolve(loaded)?;
    let ordered: Vec<usize> = by_index.into_values().collect();
    let mut accs: Vec<Accumulators> = study
        .points()
        .iter()
        .map(|p| p.shape().accumulators(p.scenario().replicates))
        .collect();
    let mut expected_start = 0;
    for &i in &ordered {
        let s = &shards[i].1;
        let units = study.shard_units(s.shard);
        let fits = s.points.len() == accs.len()
            && s.points.iter().zip(&accs).all(|(a, b)| {
                a.replicates.len() == b.replicates.len() && a.curves.len() == b.curves.len()
            });
        if (s.units.0, s.units.1) != (units.start, units.end)
            || units.start != expected_start
            || !fits
        {
            return Err(Error::Shard(format!(
                "{} does not hold the work of shard {} of this study: run it again",
                shards[i].0.display(),
                s.shard
            )));
        }
        expected_start = units.end;
        for (a, b) in accs.iter_mut().zip(&s.points) {
            a.merge(b);
        }
    }
    let wall_seconds = shards.iter().map(|(_, s)| s.wall_seconds).sum();
    let dirs = ordered.iter().map(|&i| shards[i].0.clone()).collect();
    let results = study.results(accs);
    Ok(MergedShards {
        study,
        results,
        dirs,
        wall_seconds,
    })
}

/// The files of a shard directory a merge reads besides `shard.crmo`.
const PART_FILES: [&str; 4] = [
    "patients.csv",
    "events.csv",
    "patients.csv.gz",
    "events.csv.gz",
];

/// What a shard's `manifest.json` says about the shard (the rest of the
/// manifest is a run's, see [`crate::output::writer::RunInfo`]).
#[derive(Debug, Deserialize)]
struct ShardManifest {
    crmo_sim_version: String,
    scenario_sha256: String,
    seed: u64,
    patients: u64,
    shard: Option<String>,
    #[serde(default)]
    reference_arm: Option<String>,
}

/// Refuses a shard directory whose files are not those its `manifest.json`
/// records (each with its SHA-256), before any of them is read: a flipped
/// byte, a truncated or edited part, bytes appended to a gzip stream, a
/// part not listed. Returns what the manifest says about the shard.
fn verify_files(dir: &Path) -> Result<ShardManifest> {
    use crate::output::ownership::{verify_listed, Why, MANIFEST};
    let mut read = vec![SHARD_FILE];
    read.extend(PART_FILES);
    let shown = dir.display();
    let verdict = verify_listed(dir, &read)
        .map_err(|e| Error::Shard(format!("{shown}: cannot read the shard's files: {e}")))?;
    if let Err(foreign) = verdict {
        let entry = &foreign.entry;
        return Err(Error::Shard(match foreign.why {
            Why::NotAResult(reason) => {
                format!("{shown} is not a crmo-sim shard directory: {reason}")
            }
            Why::Changed => format!(
                "{shown}: {entry} is damaged or was changed after the shard was written (its SHA-256 is not the one {MANIFEST} records); run that shard again"
            ),
            Why::Missing => format!(
                "{shown}: {entry} is missing ({MANIFEST} lists it); run that shard again"
            ),
            Why::NotListed => format!(
                "{shown}: {entry} is not one of the shard's files ({MANIFEST} does not list it); run that shard again"
            ),
            Why::NotAFile => format!(
                "{shown}: {entry} is a link or special file, not the file the shard wrote; run that shard again"
            ),
        }));
    }
    let path = dir.join(MANIFEST);
    let unreadable = |e: String| {
        Error::Shard(format!(
            "{shown}: its {MANIFEST} is not a shard's ({e}); run that shard again"
        ))
    };
    let text = std::fs::read(&path).map_err(|e| unreadable(e.to_string()))?;
    serde_json::from_slice(&text).map_err(|e| unreadable(e.to_string()))
}

/// Refuses a `shard.crmo` that is not the shard its manifest describes:
/// another crmo-sim version, scenario, seed, patient count or slice.
fn check_manifest(dir: &Path, file: &ShardFile, m: &ShardManifest) -> Result<()> {
    let id = &file.identity;
    let recorded = m.shard.as_deref().unwrap_or("none");
    let differs = if m.crmo_sim_version != id.crmo_sim_version {
        Some(format!(
            "crmo-sim {} against {}",
            id.crmo_sim_version, m.crmo_sim_version
        ))
    } else if m.scenario_sha256 != id.scenario_sha256 {
        Some("another scenario hash".to_string())
    } else if m.seed != id.seed {
        Some(format!("seed {} against {}", id.seed, m.seed))
    } else if m.patients != id.patients {
        Some(format!("patients {} against {}", id.patients, m.patients))
    } else if recorded != file.shard.to_string() {
        Some(format!("shard {} against {recorded}", file.shard))
    } else if m.reference_arm != id.reference_arm {
        Some("another reference arm".to_string())
    } else {
        None
    };
    match differs {
        Some(what) => Err(Error::Shard(format!(
            "{}: {SHARD_FILE} is not the shard its manifest.json describes ({what}); run that shard again",
            dir.display()
        ))),
        None => Ok(()),
    }
}

/// What differs between two shards' studies, if anything.
fn mismatch(a: &StudyIdentity, b: &StudyIdentity) -> Option<String> {
    if a.crmo_sim_version != b.crmo_sim_version {
        return Some(format!(
            "written by crmo-sim {} and {}",
            b.crmo_sim_version, a.crmo_sim_version
        ));
    }
    if a.scenario_sha256 != b.scenario_sha256 {
        return Some(format!(
            "another scenario (sha256 {}... against {}...)",
            &b.scenario_sha256[..12],
            &a.scenario_sha256[..12]
        ));
    }
    if a.seed != b.seed {
        return Some(format!("another seed ({} against {})", b.seed, a.seed));
    }
    if a.patients != b.patients {
        return Some(format!(
            "another number of patients ({} against {})",
            b.patients, a.patients
        ));
    }
    if a.reference_arm != b.reference_arm {
        return Some(format!(
            "another reference arm ({} against {})",
            shown_reference(&b.reference_arm),
            shown_reference(&a.reference_arm)
        ));
    }
    if a.shards != b.shards {
        return Some(format!(
            "another split (N = {} against {})",
            b.shards, a.shards
        ));
    }
    None
}

/// A shard's reference arm in a message.
fn shown_reference(arm: &Option<String>) -> String {
    arm.as_ref()
        .map_or_else(|| "the first arm".to_string(), |a| format!("`{a}`"))
}

impl Study {
    /// The work units of shard `shard` of this study.
    pub fn shard_units(&self, shard: ShardSpec) -> std::ops::Range<u64> {
        shard.units(self.work_units())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_units_once_in_order() {
        for total in [0u64, 1, 2, 7, 10, 1000] {
            for n in 1..=9u32 {
                let mut next = 0;
                for k in 0..n {
                    let r = ShardSpec { index: k, count: n }.units(total);
                    assert_eq!(r.start, next);
                    assert!(r.end - r.start <= total / u64::from(n) + 1);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    fn identity() -> StudyIdentity {
        StudyIdentity {
            crmo_sim_version: "1.0.0".into(),
            scenario_sha256: "ab".repeat(32),
            seed: 1,
            patients: 100,
            shards: 3,
            reference_arm: None,
        }
    }

    #[test]
    fn shards_of_other_runs_are_named_by_what_differs() {
        let a = identity();
        assert_eq!(mismatch(&a, &a), None);
        type Change = fn(&mut StudyIdentity);
        let cases: [(Change, &str); 5] = [
            (
                |i| i.crmo_sim_version = "1.0.1".into(),
                "written by crmo-sim 1.0.1 and 1.0.0",
            ),
            (|i| i.scenario_sha256 = "cd".repeat(32), "another scenario"),
            (|i| i.seed = 2, "another seed (2 against 1)"),
            (
                |i| i.patients = 7,
                "another number of patients (7 against 100)",
            ),
            (|i| i.shards = 4, "another split (N = 4 against 3)"),
        ];
        for (change, expect) in cases {
            let mut b = identity();
            change(&mut b);
            let m = mismatch(&a, &b).expect("a difference");
            assert!(m.contains(expect), "{m}");
        }
    }

    #[test]
    fn damaged_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let study =
            Study::resolve(crate::scenario::parse("patients = 10", "t.toml").unwrap()).unwrap();
        let file = ShardFile {
            identity: StudyIdentity::of(&study, 1),
            shard: ShardSpec { index: 0, count: 1 },
            scenario_text: "patients = 10".into(),
            scenario_origin: "t.toml".into(),
            units: (0, 1),
            wall_seconds: 0.0,
            points: vec![study.shape().accumulators(1)],
        };
        file.write(dir.path()).unwrap();
        assert_eq!(ShardFile::read(dir.path()).unwrap(), file);
        let path = dir.path().join(SHARD_FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = ShardFile::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("damaged or truncated"), "{e}");
        let mut other = bytes.clone();
        other[8] = 99;
        std::fs::write(&path, &other).unwrap();
        let e = ShardFile::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("format version 99"), "{e}");
        let mut outside = file.clone();
        outside.shard = ShardSpec { index: 5, count: 1 };
        outside.write(dir.path()).unwrap();
        let e = ShardFile::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("outside its split"), "{e}");
        let mut no_patients = file.clone();
        no_patients.identity.patients = 0;
        no_patients.write(dir.path()).unwrap();
        let e = ShardFile::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("outside the scenario limits"), "{e}");
        let mut short_hash = file.clone();
        short_hash.identity.scenario_sha256 = "é".into();
        short_hash.write(dir.path()).unwrap();
        let e = ShardFile::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not SHA-256"), "{e}");
        std::fs::write(&path, b"not a shard at all").unwrap();
        let e = ShardFile::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a crmo-sim shard file"), "{e}");
    }

    #[test]
    fn shard_specs_parse_like_array_indices() {
        assert_eq!("2/3".parse(), Ok(ShardSpec { index: 2, count: 3 }));
        for bad in ["3/3", "1/0", "-1/3", "1", "a/b", "1/3/4"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
    }
}
