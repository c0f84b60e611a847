//! One-way sensitivity analysis: every parameter the scenario draws from a
//! distribution is set, one at a time, to its low and high value (the 2.5th
//! and 97.5th percentiles of its distribution, truncation included) with
//! every other such parameter at its base value (its distribution's mean),
//! each setting one replicate on the same virtual patients (same seed:
//! common random numbers), so the differences are the parameter's own.
//!
//! The outcome is the incremental net monetary benefit per patient of each
//! arm against the reference arm (the scenario's `reference_arm`, else the
//! first) at one threshold (the default), or any metric of
//! `summary.csv` per arm. Percentiles and means come from a fixed number of
//! draws of a fixed stream, so they are the same on every machine.

use rand::SeedableRng;
use serde::Serialize;

use crate::engine::cohort::NoRows;
use crate::error::{Error, Result};
use crate::results::summary::percentile;
use crate::results::CohortResult;
use crate::scenario::{parse, Dist, LoadedScenario};
use crate::study::sweep::{get_path, set_path_real};
use crate::study::Study;

use super::EconomicInputs;

/// Draws behind each parameter's percentiles and mean.
pub const QUANTILE_DRAWS: usize = 100_001;

/// One parameter's range.
#[derive(Debug, Clone, PartialEq)]
pub struct OwsaRange {
    /// Scenario path.
    pub parameter: String,
    /// Base value (the distribution's mean).
    pub base_value: f64,
    /// 2.5th percentile.
    pub low_value: f64,
    /// 97.5th percentile.
    pub high_value: f64,
}

/// What the analysis reports.
#[derive(Debug, Clone, PartialEq)]
pub enum OwsaOutcome {
    /// Net monetary benefit per patient of each arm minus the reference
    /// arm's (the scenario's `reference_arm`, else the first), at `wtp`.
    IncrementalNmb {
        /// Willingness to pay per QALY.
        wtp: f64,
    },
    /// A metric of `summary.csv`, per arm.
    Metric(String),
}

/// One row of `owsa.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwsaRow {
    /// Scenario path of the parameter.
    pub parameter: String,
    /// Its low value.
    pub low_value: f64,
    /// Its high value.
    pub high_value: f64,
    /// The outcome (with the arm it belongs to).
    pub outcome: String,
    /// The outcome with every parameter at its base value.
    pub base: f64,
    /// The outcome with this parameter at its low value.
    pub low: f64,
    /// The outcome with this parameter at its high value.
    pub high: f64,
}

/// The scenario as a TOML table.
fn document(loaded: &LoadedScenario) -> Result<toml::Table> {
    loaded
        .text
        .parse::<toml::Table>()
        .map_err(|e| Error::Scenario {
            path: loaded.origin.clone(),
            message: e.to_string(),
        })
}

/// The range of every parameter the scenario draws from a distribution, in
/// the order of `parameters.csv`.
pub fn ranges(loaded: &LoadedScenario) -> Result<Vec<OwsaRange>> {
    let study = Study::resolve(loaded.clone())?;
    let doc = document(loaded)?;
    study
        .replicate_model(0)
        .drawn
        .into_iter()
        .map(|d| {
            let dist = get_path(&doc, &d.parameter)
                .ok()
                .flatten()
                .and_then(|v| v.try_into::<Dist>().ok())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "{}: the distribution of `{}` cannot be read back for one-way sensitivity analysis",
                        loaded.origin, d.parameter
                    ))
                })?;
            Ok(range_of(&d.parameter, &dist))
        })
        .collect()
}

/// Percentiles and mean of `dist` from [`QUANTILE_DRAWS`] draws of a fixed stream.
fn range_of(parameter: &str, dist: &Dist) -> OwsaRange {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(0x6f77_7361);
    let mut v: Vec<f64> = (0..QUANTILE_DRAWS).map(|_| dist.sample(&mut rng)).collect();
    let base_value = super::mean(&v);
    v.sort_by(f64::total_cmp);
    OwsaRange {
        parameter: parameter.to_string(),
        base_value,
        low_value: percentile(&v, 0.025),
        high_value: percentile(&v, 0.975),
    }
}

/// The scenario with one replicate, no sweep, and the fields at `values` set.
pub fn with_values(loaded: &LoadedScenario, values: &[(&str, f64)]) -> Result<Study> {
    let mut doc = document(loaded)?;
    doc.insert("replicates".into(), toml::Value::Integer(1));
    doc.remove("sweep");
    for (path, v) in values {
        set_path_real(&mut doc, path, *v).map_err(Error::Usage)?;
    }
    let text = toml::to_string(&doc).map_err(|e| Error::Usage(e.to_string()))?;
    let origin = format!("{} (one-way sensitivity analysis)", loaded.origin);
    Study::resolve(parse(&text, &origin)?)
}

/// The outcomes of one run: `(name, value)` per arm (per arm after the
/// first for incremental net benefit).
pub fn outcomes(res: &CohortResult, outcome: &OwsaOutcome) -> Result<Vec<(String, f64)>> {
    match outcome {
        OwsaOutcome::IncrementalNmb { wtp } => {
            let inputs = EconomicInputs::from_result(res, vec![*wtp]).ok_or_else(|| {
                Error::Usage(
                    "incremental net benefit needs [economics] in the scenario (or choose --outcome METRIC)"
                        .into(),
                )
            })?;
            let reference = res.reference;
            let name = &inputs.arms[reference];
            Ok((0..inputs.arms.len())
                .filter(|&a| a != reference)
                .map(|a| {
                    (
                        format!("incremental_nmb_{}_vs_{name}", inputs.arms[a]),
                        inputs.nmb(a, 0, *wtp) - inputs.nmb(reference, 0, *wtp),
                    )
                })
                .collect())
        }
        OwsaOutcome::Metric(m) => {
            let rows: Vec<(String, f64)> = res
                .summary()
                .iter()
                .filter(|r| r.metric == *m)
                .map(|r| (format!("{m}_{}", r.arm), r.mean))
                .collect();
            if rows.is_empty() {
                return Err(Error::Usage(format!(
                    "--outcome {m} is not a metric of summary.csv (see metrics.csv)"
                )));
            }
            Ok(rows)
        }
    }
}

/// Runs the one-way sensitivity analysis: the base setting, then each
/// parameter low and high (multi-threaded on rayon's current pool per
/// run). `progress` receives each finished run's number (1 to 2P + 1).
pub fn owsa(
    loaded: &LoadedScenario,
    outcome: &OwsaOutcome,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<OwsaRow>> {
    let ranges = ranges(loaded)?;
    if ranges.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no parameter is given as a distribution, so there is nothing to vary (give the uncertain parameters distributions, e.g. p_response = {{ dist = \"beta\", alpha = 16, beta = 4 }})",
            loaded.origin
        )));
    }
    let total = 2 * ranges.len() + 1;
    let base_values: Vec<(&str, f64)> = ranges
        .iter()
        .map(|r| (r.parameter.as_str(), r.base_value))
        .collect();
    let run = |values: &[(&str, f64)]| -> Result<Vec<(String, f64)>> {
        let study = with_values(loaded, values)?;
        let res = study.run(&mut NoRows, &|_| {})?;
        outcomes(&res, outcome)
    };
    let base = run(&base_values)?;
    progress(1, total);
    let mut rows = Vec::new();
    for (k, r) in ranges.iter().enumerate() {
        let at = |v: f64| {
            let mut values = base_values.clone();
            values[k].1 = v;
            run(&values)
        };
        let low = at(r.low_value)?;
        progress(2 * k + 2, total);
        let high = at(r.high_value)?;
        progress(2 * k + 3, total);
        for (((name, b), (_, l)), (_, h)) in base.iter().zip(&low).zip(&high) {
            rows.push(OwsaRow {
                parameter: r.parameter.clone(),
                low_value: r.low_value,
                high_value: r.high_value,
                outcome: name.clone(),
                base: *b,
                low: *l,
                high: *h,
            });
        }
    }
    Ok(rows)
}
