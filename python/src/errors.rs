//! crmo-sim's errors as Python exceptions (classes of `crmo_sim.errors`):
//! a bad scenario is a `ScenarioError` (a `ValueError`) carrying the file,
//! line and column, with exactly the message the command line prints after
//! `error: `; an interrupted run is a `KeyboardInterrupt`.

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

use crmo_sim::Error;

/// The Python exception for a library error.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| match exception_of(py, &err) {
        Ok(e) => e,
        Err(import_failed) => import_failed,
    })
}

/// Builds the exception; an error here means `crmo_sim.errors` could not
/// be imported, which is then what Python sees.
fn exception_of(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let message = err.to_string();
    if is_interrupted(err) {
        return Ok(PyKeyboardInterrupt::new_err(message));
    }
    let errors = py.import("crmo_sim.errors")?;
    let (class, path, location) = classify(err, &message);
    let exception = errors.getattr(class)?.call1((
        message,
        path,
        location.map(|l| l.0),
        location.map(|l| l.1),
    ))?;
    Ok(PyErr::from_value(exception))
}

/// Whether the run stopped because it was cancelled.
fn is_interrupted(err: &Error) -> bool {
    matches!(err, Error::Interrupted)
}

/// The exception class, the scenario file and the 1-based line and column
/// of an error.
fn classify<'a>(
    err: &'a Error,
    message: &str,
) -> (&'static str, Option<&'a str>, Option<(usize, usize)>) {
    match err {
        Error::Scenario { path, .. } => ("ScenarioError", Some(path), line_column_in(message)),
        Error::Invalid { path, location, .. } => ("ScenarioError", Some(path), *location),
        Error::NotUtf8 { path, line, column } => {
            ("ScenarioError", Some(path), Some((*line, *column)))
        }
        Error::Read { path, .. } | Error::NotAFile { path, .. } | Error::TooLarge { path, .. } => {
            ("ScenarioError", Some(path), None)
        }
        Error::PatientLimit(_) => ("ScenarioError", None, None),
        Error::Usage(_) | Error::Shard(_) => ("UsageError", None, None),
        Error::Output { path, .. } => ("OutputError", Some(path), None),
        Error::NotFound(_) => ("NotFoundError", None, None),
        Error::Plot { path, .. } => ("PlotError", Some(path), None),
        _ => ("CrmoSimError", None, None),
    }
}

/// The first "line L, column C" of a message (TOML parse errors carry it
/// in their text).
fn line_column_in(message: &str) -> Option<(usize, usize)> {
    let at = message.find("line ")?;
    let rest = &message[at + "line ".len()..];
    let (line, rest) = rest.split_once(", column ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}
