//! Simulating a study (or a shard of it) into a [`StudyRun`]: in batches of
//! work units, so that a cancelled [`Progress`] stops the run within one
//! batch. Batches merge exactly (every accumulator is an integer), so the
//! results do not depend on where the batches fall, as they do not depend
//! on the thread count or a shard split.

use std::ops::Range;
use std::path::Path;
use std::time::Instant;

use crate::engine::cohort::{Accumulators, NoRows, RowSink};
use crate::error::{Error, Result};
use crate::output::rows::CsvRows;
use crate::study::Study;

use super::spool::RowSpool;
use super::{with_threads, Progress, RunOptions, ShardPart, StudyRun};

/// Runs the study (the shard of `opts`, if any), rows into `rows_into` when
/// given (else a private spool).
pub(super) fn run(
    study: &Study,
    opts: &RunOptions,
    progress: &dyn Progress,
    rows_into: Option<&Path>,
) -> Result<StudyRun> {
    let units = match opts.shard {
        Some(s) => study.shard_units(s),
        None => 0..study.work_units(),
    };
    let warnings = row_size_warnings(study);
    for w in &warnings {
        progress.warning(w);
    }
    let rows = RowSpool::new(study, rows_into)?;
    let mut sink = row_sink(study, rows.dir())?;
    progress.start(study.work_patients(&units));
    let started = Instant::now();
    let (accs, threads) = with_threads(opts.threads, || {
        let r = in_one_slice(study, units.clone(), sink.as_mut(), progress);
        (r, rayon::current_num_threads())
    })?;
    let accs = accs.map_err(|e| with_origin(e, &study.loaded().origin))?;
    sink.finish()?;
    drop(sink);
    let wall_seconds = started.elapsed().as_secs_f64();
    let (results, shard, patient_years) = match opts.shard {
        Some(spec) => {
            let days: f64 = accs.iter().map(|a| a.observed_days.value()).sum();
            let part = ShardPart {
                spec,
                units,
                points: accs,
            };
            (
                Vec::new(),
                Some(part),
                days / crate::engine::units::DAYS_PER_YEAR,
            )
        }
        None => {
            let results = study.results(accs);
            let years = results.iter().map(|r| r.patient_years).sum();
            (results, None, years)
        }
    };
    Ok(StudyRun {
        study: study.clone(),
        results,
        shard,
        threads,
        patient_years,
        wall_seconds,
        warnings,
        rows,
    })
}

/// Runs work units `units` on the current pool in one slice, asking
/// `progress` whether to stop as each chunk starts (one slice, so the
/// accumulators of every replicate are built and merged once).
fn in_one_slice(
    study: &Study,
    units: Range<u64>,
    sink: &mut dyn RowSink,
    progress: &dyn Progress,
) -> Result<Vec<Accumulators>> {
    if progress.cancelled() {
        return Err(Error::Interrupted);
    }
    let advance = |n: u64| progress.advance(n);
    let stop = || progress.cancelled();
    let total = study.run_slice_until(units, sink, &advance, &stop)?;
    if progress.cancelled() {
        return Err(Error::Interrupted);
    }
    Ok(total)
}

/// Warnings about per-patient files that will be large.
fn row_size_warnings(study: &Study) -> Vec<String> {
    let s = study.scenario();
    let o = &s.output;
    let rows = s.patients * u64::from(s.replicates) * study.arm_names().len() as u64;
    crate::output::rows::size_warnings(rows, s.horizon_years, (o.patients, o.events), o.compression)
}

/// The per-patient row writer the study asks for, writing into `dir`.
fn row_sink(study: &Study, dir: Option<&Path>) -> Result<Box<dyn RowSink>> {
    let o = &study.scenario().output;
    Ok(match dir {
        Some(dir) if o.patients || o.events => Box::new(CsvRows::new(
            dir,
            study.arm_names(),
            study.drug_names(),
            (o.patients, o.events),
            o.compression,
        )?),
        _ => Box::new(NoRows),
    })
}

/// Names the scenario file in a per-patient limit error (the engine does
/// not know it).
fn with_origin(e: Error, origin: &str) -> Error {
    match e {
        Error::PatientLimit(m) => Error::PatientLimit(format!("{origin}: {m}")),
        e => e,
    }
}
