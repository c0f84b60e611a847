//! The native module `crmo_sim._native`: thin calls from Python into the
//! crmo-sim library. Each call resolves the scenario the Python side named
//! (see [`source`]), does its work with the GIL released, and hands back
//! plain values (CSV text, paths, dicts) that the Python package turns into
//! pandas data frames. Errors become the exceptions of `crmo_sim.errors`
//! ([`errors`]).

mod chart;
mod errors;
mod resolved;
mod source;
mod value;

use std::path::PathBuf;

use pyo3::prelude::*;

use source::{Overrides, Source};

/// Validates the scenario and returns the resolved scenario as a dict (see
/// `crmo_sim.check`). Single-threaded.
#[pyfunction]
#[pyo3(signature = (kind, value=None, patients=None, seed=None))]
fn check<'py>(
    py: Python<'py>,
    kind: &str,
    value: Option<String>,
    patients: Option<u64>,
    seed: Option<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let source = Source::from_python(kind, value)?;
    let overrides = Overrides { patients, seed };
    let resolved = py
        .detach(|| source::load(&source, overrides).map(|study| resolved::resolved(&study)))
        .map_err(errors::to_py)?;
    resolved.to_python(py)
}

/// Draws one patient's course chart and returns `(path, patient, why)`
/// (see `crmo_sim.course_chart`). Single-threaded, without the GIL.
#[pyfunction]
#[pyo3(signature = (kind, value, patient, story, style, path, arm, replicate, replace, width, height, years, patients, seed))]
#[allow(clippy::too_many_arguments)]
fn course_chart(
    py: Python<'_>,
    kind: &str,
    value: Option<String>,
    patient: Option<u64>,
    story: Option<String>,
    style: String,
    path: Option<PathBuf>,
    arm: Option<String>,
    replicate: u32,
    replace: bool,
    width: Option<u32>,
    height: Option<u32>,
    years: Option<(f64, f64)>,
    patients: Option<u64>,
    seed: Option<u64>,
) -> PyResult<(PathBuf, u64, Option<String>)> {
    let source = Source::from_python(kind, value)?;
    let request = chart::ChartRequest {
        patient,
        story,
        style,
        path,
        arm,
        replicate,
        replace,
        size: (width, height),
        years,
    };
    let drawn = py
        .detach(|| {
            let study = source::load(&source, Overrides { patients, seed })?;
            chart::course_chart(&study, &request)
        })
        .map_err(errors::to_py)?;
    Ok((drawn.path, drawn.patient, drawn.why))
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(course_chart, m)?)?;
    m.add("TEXT_ORIGIN", source::TEXT_ORIGIN)?;
    // The package's version is the engine's: the two are built together.
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_PATIENTS", crmo_sim::scenario::limits::MAX_PATIENTS)?;
    m.add("MAX_SEED", crmo_sim::scenario::limits::MAX_SEED)?;
    m.add("MAX_THREADS", crmo_sim::cli::MAX_THREADS)?;
    Ok(())
}
