//! Probabilistic sensitivity analysis tables: `parameters.csv` (every value
//! a replicate drew from a distribution) and `replicates.csv` (every
//! replicate's estimate of every metric, per arm), both tidy, for decision
//! models that need the joint draws.

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
    let per_arm: Vec<Vec<(String, Vec<f64>)>> = (0..res.arms.len())
        .map(|a| replicate_estimates(res, a))
        .collect();
    let mut rows = Vec::new();
    for r in 0..res.replicates.len() {
        for (arm, metrics) in res.arms.iter().zip(&per_arm) {
            for (metric, values) in metrics {
                let v = values[r];
                rows.push(ReplicateRow {
                    replicate: r as u32,
                    arm: arm.clone(),
                    metric: metric.clone(),
                    value: v.is_finite().then_some(v),
                });
            }
        }
    }
    rows
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

/// Writes `parameters.csv` and `replicates.csv` into `dir` (a header is
/// written even when there are no rows); returns the file names.
pub fn write_tables(study: &Study, res: &CohortResult, dir: &Path) -> Result<Vec<String>> {
    let params = parameter_rows(study);
    if params.is_empty() {
        write_header(dir, "parameters.csv", "replicate,parameter,value")?;
    } else {
        write_rows(dir, "parameters.csv", &params)?;
    }
    write_rows(dir, "replicates.csv", &replicate_rows(res))?;
    Ok(vec!["parameters.csv".into(), "replicates.csv".into()])
}

fn write_header(dir: &Path, name: &str, header: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, format!("{header}\n")).map_err(|e| Error::output(&path, e))
}
