//! Which scenario a call names: the built-in reference, a file, or TOML
//! text, as the Python side decided (see `crmo_sim._source`), as the
//! library's [`ScenarioSource`].

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crmo_sim::pipeline::ScenarioSource;

/// The name TOML text goes by in messages.
pub const TEXT_ORIGIN: &str = "<string>";

/// The source named by `kind` ("builtin", "path" or "text") and `value`.
pub fn from_python(kind: &str, value: Option<String>) -> PyResult<ScenarioSource> {
    match (kind, value) {
        ("builtin", _) => Ok(ScenarioSource::Builtin),
        ("path", Some(p)) => Ok(ScenarioSource::Path(PathBuf::from(p))),
        ("text", Some(text)) => Ok(ScenarioSource::Text {
            text,
            origin: TEXT_ORIGIN.to_string(),
        }),
        (kind, _) => Err(PyValueError::new_err(format!(
            "unknown scenario source kind {kind:?} (expected builtin, path or text, each but builtin with a value)"
        ))),
    }
}
