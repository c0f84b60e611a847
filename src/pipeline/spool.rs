//! Where a run's per-patient rows wait until the result directory is
//! written: the result's own staging directory, a private temporary
//! directory (moved into place later), or the parts in the shards of a
//! merge (joined when written).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::rowfile::join_parts;
use crate::study::Study;

/// The per-patient row files of a run and where they lie.
#[derive(Debug)]
pub(super) enum RowSpool {
    /// The scenario asks for no rows.
    None,
    /// Written straight into the result's staging directory.
    InPlace { dir: PathBuf, names: Vec<String> },
    /// Written into a private temporary directory, removed with the run.
    Temporary {
        dir: tempfile::TempDir,
        names: Vec<String>,
    },
    /// Parts in the shard directories of a merge, joined when written.
    Parts(Vec<PathBuf>),
}

/// The per-patient files a study writes (perhaps gzipped).
pub(super) fn row_file_names(study: &Study) -> Vec<String> {
    let o = &study.scenario().output;
    [(o.patients, "patients.csv"), (o.events, "events.csv")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| o.compression.file_name(name))
        .collect()
}

impl RowSpool {
    /// A spool for `study`'s rows: `into` when given, else a new private
    /// temporary directory (none when no rows are asked for).
    pub(super) fn new(study: &Study, into: Option<&Path>) -> Result<Self> {
        let names = row_file_names(study);
        if names.is_empty() {
            return Ok(Self::None);
        }
        Ok(match into {
            Some(dir) => Self::InPlace {
                dir: dir.to_path_buf(),
                names,
            },
            None => {
                let dir = tempfile::Builder::new()
                    .prefix(".crmo-sim-rows.")
                    .tempdir()
                    .map_err(|e| Error::output(std::env::temp_dir(), e))?;
                Self::Temporary { dir, names }
            }
        })
    }

    /// The directory rows are written into while the cohort runs.
    pub(super) fn dir(&self) -> Option<&Path> {
        match self {
            Self::InPlace { dir, .. } => Some(dir),
            Self::Temporary { dir, .. } => Some(dir.path()),
            Self::None | Self::Parts(_) => None,
        }
    }

    /// The row files as they lie now (none for shard parts).
    pub(super) fn files(&self) -> Vec<PathBuf> {
        match (self.dir(), self) {
            (Some(dir), Self::InPlace { names, .. } | Self::Temporary { names, .. }) => {
                names.iter().map(|n| dir.join(n)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Puts the row files into the result directory `to`.
    pub(super) fn place(&self, study: &Study, to: &Path) -> Result<()> {
        match self {
            Self::None => Ok(()),
            Self::InPlace { dir, names } => names
                .iter()
                .filter(|_| dir != to)
                .try_for_each(|n| move_file(&dir.join(n), &to.join(n))),
            Self::Temporary { dir, names } => names
                .iter()
                .try_for_each(|n| move_file(&dir.path().join(n), &to.join(n))),
            Self::Parts(dirs) => {
                let compression = study.scenario().output.compression;
                row_file_names(study)
                    .iter()
                    .try_for_each(|f| join_parts(dirs, f, &to.join(f), compression))
            }
        }
    }
}

/// Moves a file, copying it where a rename cannot (another file system);
/// the original stays where it was until its directory is removed.
fn move_file(from: &Path, to: &Path) -> Result<()> {
    if fs::rename(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| Error::output(to, e))
}
