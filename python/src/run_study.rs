//! `crmo_sim.run`: the simulation on a worker thread (with its own pool of
//! threads, without the GIL) while the calling thread waits in short slices
//! and lets Python look at its signals, so Ctrl-C cancels the run: the
//! worker is told through [`Progress::cancelled`], stops, removes what it
//! staged, and Python sees the `KeyboardInterrupt`. Between slices the
//! calling thread also reports progress to an optional Python callback; an
//! exception from it cancels the run the same way.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crmo_sim::pipeline::{
    self, OutputDir, Progress, RunOptions, ScenarioSource, StudyRun, WriteOptions,
};
use crmo_sim::study::Study;

use crate::errors::to_py;

/// How often the waiting thread lets Python handle signals: Ctrl-C takes
/// effect within this, plus the time the run needs to stop.
const SIGNAL_SLICE: Duration = Duration::from_millis(50);

/// What to run and where the result directory goes.
#[derive(Debug)]
pub struct RunRequest {
    /// The scenario.
    pub source: ScenarioSource,
    /// Overrides and threads.
    pub options: RunOptions,
    /// The result directory (a temporary one when Python passed no `out`).
    pub out: PathBuf,
    /// How it is written.
    pub write: WriteOptions,
}

/// What Python gets back.
#[derive(Debug)]
pub struct RunOutput {
    /// Each CSV table of the result directory: (file name, text).
    pub tables: Vec<(String, String)>,
    /// The result directory written.
    pub dir: PathBuf,
    /// Warnings of the run and of writing it.
    pub warnings: Vec<String>,
    /// Seconds the simulation took.
    pub wall_seconds: f64,
}

/// A [`Progress`] that can be cancelled from another thread, counts the
/// patients done, and tells a waiting thread when the run is over.
#[derive(Debug, Default)]
struct Cancellable {
    cancelled: AtomicBool,
    total: AtomicU64,
    done: AtomicU64,
    finished: Mutex<bool>,
    changed: Condvar,
}

impl Progress for Cancellable {
    fn start(&self, total_units: u64) {
        self.total.store(total_units, Ordering::Relaxed);
    }

    fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

impl Cancellable {
    /// Patients done and in all, as far as the run has said.
    fn counts(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    fn finish(&self) {
        *self.finished.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.changed.notify_all();
    }

    /// Waits at most `slice`; true once the run is over.
    fn wait(&self, slice: Duration) -> bool {
        let done = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        let (done, _) = self
            .changed
            .wait_timeout_while(done, slice, |done| !*done)
            .unwrap_or_else(|e| e.into_inner());
        *done
    }
}

/// Marks the run over when the worker ends, even by a panic.
struct FinishOnDrop<'a>(&'a Cancellable);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Loads the scenario, checks the result directory, runs the study and
/// writes it; `progress`, if given, is called as `progress(done, total)`
/// (patients) while it runs and once at the end. See the module
/// documentation for Ctrl-C.
pub fn run(
    py: Python<'_>,
    req: &RunRequest,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<RunOutput> {
    let (study, dir) = py
        .detach(|| {
            let study = pipeline::load_study(&req.source, &req.options)?;
            // Checked before the work, as the command line does: a refused
            // directory costs no simulation.
            let dir = OutputDir::prepare(&req.out, req.write.replace)?;
            Ok((study, dir))
        })
        .map_err(to_py)?;
    let run = simulate_interruptibly(py, &study, &req.options, &dir, progress)?;
    py.detach(|| {
        let tables = run.tables()?;
        let wall_seconds = run.wall_seconds();
        let written = pipeline::write_into(&study, run, dir, &req.write)?;
        Ok(RunOutput {
            tables,
            dir: written.dir,
            warnings: written.warnings,
            wall_seconds,
        })
    })
    .map_err(to_py)
}

/// Runs the study on a worker thread while this thread waits in slices of
/// [`SIGNAL_SLICE`] without the GIL, checking Python's signals and calling
/// `callback` between them. On an exception from either (a signal
/// handler's KeyboardInterrupt, or the callback's), the run is cancelled,
/// waited for, and the exception returned.
fn simulate_interruptibly(
    py: Python<'_>,
    study: &Study,
    options: &RunOptions,
    dir: &OutputDir,
    callback: Option<&Bound<'_, PyAny>>,
) -> PyResult<StudyRun> {
    let progress = Cancellable::default();
    let report = |progress: &Cancellable| match callback {
        Some(f) => f.call1(progress.counts()).map(drop),
        None => Ok(()),
    };
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let _finish = FinishOnDrop(&progress);
            pipeline::run_study_into(study, options, &progress, dir)
        });
        while !py.detach(|| progress.wait(SIGNAL_SLICE)) {
            if let Err(e) = py.check_signals().and_then(|()| report(&progress)) {
                progress.cancel();
                // The run stops soon; what it staged goes with it.
                let _ = py.detach(|| worker.join());
                return Err(e);
            }
        }
        let run = match py.detach(|| worker.join()) {
            Ok(result) => result.map_err(to_py)?,
            Err(_) => {
                return Err(PyRuntimeError::new_err(
                    "the simulation stopped on an internal error (a panic); please report it",
                ))
            }
        };
        report(&progress)?;
        Ok(run)
    })
}
