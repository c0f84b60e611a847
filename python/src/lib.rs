//! The native module `crmo_sim._native`: thin calls from Python into the
//! crmo-sim library. Each call resolves the scenario the Python side named
//! (see [`source`]), does its work with the GIL released, and hands back
//! plain values (CSV text, paths, dicts) that the Python package turns into
//! pandas data frames. Errors become the exceptions of `crmo_sim.errors`
//! ([`errors`]).

mod chart;
mod errors;
mod resolved;
mod run_study;
mod source;
mod value;

use std::path::PathBuf;

use pyo3::prelude::*;

use crmo_sim::pipeline::{self, RunOptions, WriteOptions};

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
    let source = source::from_python(kind, value)?;
    let options = RunOptions {
        patients,
        seed,
        ..RunOptions::default()
    };
    let resolved = py
        .detach(|| pipeline::load_study(&source, &options).map(|study| resolved::resolved(&study)))
        .map_err(errors::to_py)?;
    resolved.to_python(py)
}

/// Draws one patient's course chart and returns `(path, patient, why,
/// warnings)` (see `crmo_sim.course_chart`). Single-threaded, without the
/// GIL.
#[pyfunction]
#[pyo3(signature = (kind, value, patient, story, style, path, arm, replicate, replace, width, height, years, patients, seed, rank=1, title=None))]
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
    rank: usize,
    title: Option<String>,
) -> PyResult<(PathBuf, u64, Option<String>, Vec<String>)> {
    let source = source::from_python(kind, value)?;
    let options = RunOptions {
        patients,
        seed,
        ..RunOptions::default()
    };
    let request = chart::ChartRequest {
        patient,
        story,
        rank,
        title,
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
            let study = pipeline::load_study(&source, &options)?;
            chart::course_chart(&study, &request)
        })
        .map_err(errors::to_py)?;
    Ok((drawn.path, drawn.patient, drawn.why, drawn.warnings))
}

/// What `run` returns to Python: the tables as (file name, CSV text), the
/// directory written, the warnings and the simulation's seconds.
type RunReturn = (Vec<(String, String)>, PathBuf, Vec<String>, f64);

/// Runs a scenario, writes its result directory to `out`, and returns
/// `(tables, dir, warnings, wall_seconds)`: each CSV table as (file name,
/// text), the directory written, the warnings and the simulation's time
/// (see `crmo_sim.run`). The simulation runs on `threads` workers without
/// the GIL; Ctrl-C cancels it, and `progress(done, total)` is called while
/// it runs (see [`run_study`]).
#[pyfunction]
#[pyo3(signature = (kind, value, patients, seed, threads, out, replace, plots, reference_arm, command, progress=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    kind: &str,
    value: Option<String>,
    patients: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    out: PathBuf,
    replace: bool,
    plots: bool,
    reference_arm: Option<String>,
    command: Vec<String>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<RunReturn> {
    let request = run_study::RunRequest {
        source: source::from_python(kind, value)?,
        options: RunOptions {
            patients,
            seed,
            threads,
            reference_arm,
            ..RunOptions::default()
        },
        out,
        write: WriteOptions {
            replace,
            plots,
            command,
            ..WriteOptions::default()
        },
    };
    let output = run_study::run(py, &request, progress.as_ref())?;
    Ok((
        output.tables,
        output.dir,
        output.warnings,
        output.wall_seconds,
    ))
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(course_chart, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add("TEXT_ORIGIN", source::TEXT_ORIGIN)?;
    // The package's version is the engine's: the two are built together.
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_PATIENTS", crmo_sim::scenario::limits::MAX_PATIENTS)?;
    m.add("MAX_SEED", crmo_sim::scenario::limits::MAX_SEED)?;
    m.add("MAX_THREADS", pipeline::MAX_THREADS)?;
    Ok(())
}
