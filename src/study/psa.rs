//! Probabilistic sensitivity analysis tables: `parameters.csv` (every value
//! a replicate drew from a distribution) and `replicates.csv` (every
//! replicate's estimate of every metric, per arm), both tidy, for decision
//! models that need the joint draws.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::results::summary::replicate_estimates;
use crate::results::CohortResult;

use super::Study;

/// One row of `parameters.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterRow {
    /// Replicate index.
    pub replicate: u32,
    /// Scenario path of the parameter, e.g. `drugs.nsaid.p_response`.
    pub parameter: String,
    /// The value drawn.
    pub value: f64,
}

/// One row of `replicates.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicateRow {
    /// Replicate index.
    pub replicate: u32,
    /// Arm name.
    pub arm: String,
    /// Metric name.
    pub metric: String,
    /// The replicate's estimate (empty when the metric had no data).
    pub value: Option<f64>,
}

/// Whether a study writes the PSA tables: it has several replicates or draws
/// a parameter from a distribution.
pub fn wants_tables(study: &Study) -> bool {
    study.scenario().replicates > 1 || !study.replicate_model(0).drawn.is_empty()
}

/// The rows of `parameters.csv`, replicate by replicate in drawing order.
pub fn parameter_rows(study: &Study) -> Vec<ParameterRow> {
    (0..study.scenario().replicates)
        .flat_map(|r| {
            study
                .replicate_model(r)
                .drawn
                .into_iter()
                .map(move |d| ParameterRow {
                    replicate: r,
                    parameter: d.parameter,
                    value: d.value,
                })
        })
        .collect()
}

/// The rows of `replicates.csv`: replicate by replicate, arm by arm, in the
/// metric order of `summary.csv`.
pub fn replicate_rows(res: &CohortResult) -> Vec<ReplicateRow> {
    let estimates = per_arm_estimates(res);
    replicate_records(res, &estimates)
        .map(|r| ReplicateRow {
            replicate: r.replicate,
            arm: r.arm.to_string(),
            metric: r.metric.to_string(),
            value: r.value,
        })
        .collect()
}

/// A row of `replicates.csv` borrowing its names, serialised as
/// [`ReplicateRow`]: the table is written from these as they are made, so
/// a PSA never holds a row (and two strings) per replicate, arm and metric.
#[derive(Serialize)]
struct ReplicateRecord<'a> {
    replicate: u32,
    arm: &'a str,
    metric: &'a str,
    value: Option<f64>,
}

/// Per arm, per metric: its name and each replicate's estimate.
type PerArmEstimates = Vec<Vec<(String, Vec<f64>)>>;

fn per_arm_estimates(res: &CohortResult) -> PerArmEstimates {
    (0..res.arms.len())
        .map(|a| replicate_estimates(res, a))
        .collect()
}

/// The rows of `replicates.csv` in order (see [`replicate_rows`]).
fn replicate_records<'a>(
    res: &'a CohortResult,
    per_arm: &'a PerArmEstimates,
) -> impl Iterator<Item = ReplicateRecord<'a>> + 'a {
    (0..res.replicates.len()).flat_map(move |r| {
        res.arms
            .iter()
            .zip(per_arm)
            .flat_map(move |(arm, metrics)| {
                metrics.iter().map(move |(metric, values)| {
                    let v = values[r];
                    ReplicateRecord {
                        replicate: r as u32,
                        arm,
                        metric,
                        value: v.is_finite().then_some(v),
                    }
                })
            })
    })
}

/// Writes typed rows to `dir/name` with a header.
pub fn write_rows<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> Result<()> {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path).map_err(|e| Error::output(&path, e.into()))?;
    for r in rows {
        w.serialize(r).map_err(|e| Error::output(&path, e.into()))?;
    }
    w.flush().map_err(|e| Error::output(&path, e))
}

/// `parameters.csv` as CSV text (a header even when there are no rows).
pub fn parameters_csv(study: &Study) -> Result<String> {
    let params = parameter_rows(study);
    if params.is_empty() {
        return Ok("replicate,parameter,value\n".to_string());
    }
    csv_text("parameters.csv", &params)
}

/// Writes `replicates.csv` into `w` row by row as the rows are made: the
/// table grows with replicates × arms × metrics (about 28 kB a replicate
/// of three arms), so it is never held whole.
pub fn write_replicates_csv(res: &CohortResult, w: &mut dyn Write) -> std::io::Result<()> {
    let estimates = per_arm_estimates(res);
    let mut csv = csv::Writer::from_writer(w);
    for row in replicate_records(res, &estimates) {
        csv.serialize(row)?;
    }
    csv.flush()
}

/// Typed rows as CSV text with their header.
pub fn csv_text<T: Serialize>(name: &str, rows: impl IntoIterator<Item = T>) -> Result<String> {
    let err = |e: csv::Error| Error::output(name, e.into());
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::output(name, e.into_error()))?;
    String::from_utf8(bytes).map_err(|e| Error::output(name, std::io::Error::other(e)))
}
