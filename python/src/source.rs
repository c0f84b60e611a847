//! Which scenario a call names: the built-in reference, a file, or TOML
//! text, as the Python side decided (see `crmo_sim._scenario_source`), and
//! loading it into a study with the call's overrides.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crmo_sim::scenario;
use crmo_sim::study::Study;

/// The name TOML text goes by in messages.
pub const TEXT_ORIGIN: &str = "<string>";

/// A scenario named from Python.
#[derive(Debug, Clone)]
pub enum Source {
    /// The built-in reference scenario.
    Builtin,
    /// A scenario file.
    Path(PathBuf),
    /// TOML text.
    Text(String),
}

impl Source {
    /// The source named by `kind` ("builtin", "path" or "text") and `value`.
    pub fn from_python(kind: &str, value: Option<String>) -> PyResult<Source> {
        match (kind, value) {
            ("builtin", _) => Ok(Source::Builtin),
            ("path", Some(p)) => Ok(Source::Path(PathBuf::from(p))),
            ("text", Some(t)) => Ok(Source::Text(t)),
            (kind, _) => Err(PyValueError::new_err(format!(
                "unknown scenario source kind {kind:?} (expected builtin, path or text, each but builtin with a value)"
            ))),
        }
    }
}

/// Patients and seed that override the scenario's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// Patients per replicate.
    pub patients: Option<u64>,
    /// Seed.
    pub seed: Option<u64>,
}

/// Loads, validates and resolves the scenario with the overrides applied.
pub fn load(source: &Source, overrides: Overrides) -> crmo_sim::Result<Study> {
    let mut loaded = match source {
        Source::Builtin => scenario::reference(),
        Source::Path(p) => scenario::load_file(p)?,
        Source::Text(t) => scenario::parse(t, TEXT_ORIGIN)?,
    };
    if let Some(n) = overrides.patients {
        loaded.scenario.patients = n;
    }
    if let Some(s) = overrides.seed {
        loaded.scenario.seed = s;
    }
    Study::resolve(loaded)
}
