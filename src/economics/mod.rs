//! Health-economic analysis of a run's results: the incremental analysis
//! ([`cea`]: dominance, extended dominance, ICERs on the frontier, net
//! monetary benefit), the probabilistic sensitivity analysis ([`psa`]:
//! acceptability curves and frontier, EVPI, EVPPI) and their CSV files.
//!
//! Everything here reads merged results ([`CohortResult`]) and the
//! study's per-replicate parameter draws; nothing runs the engine. Costs
//! and QALYs per patient are each replicate's estimates of the
//! `costs_per_patient` and `qalys_per_patient` metrics, which the engine
//! accrues ([`crate::engine::accrual`]) and accumulates in integers, so
//! every number here is the same whatever the threads or shards.

pub mod cea;
pub mod files;
pub mod owsa;
pub mod psa;

use crate::results::CohortResult;
use crate::study::Study;

/// Discounted costs per patient (metric name).
pub const COSTS: &str = "costs_per_patient";
/// Discounted QALYs per patient (metric name).
pub const QALYS: &str = "qalys_per_patient";

/// What the analysis reads: per arm and replicate, costs and QALYs per
/// patient; the thresholds; and every parameter drawn from a distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct EconomicInputs {
    /// Arm names, in scenario order.
    pub arms: Vec<String>,
    /// Per arm, per replicate: discounted costs per patient.
    pub costs: Vec<Vec<f64>>,
    /// Per arm, per replicate: discounted QALYs per patient.
    pub qalys: Vec<Vec<f64>>,
    /// Willingness-to-pay thresholds per QALY.
    pub wtp: Vec<f64>,
    /// Per parameter drawn from a distribution: its path and per-replicate values.
    pub parameters: Vec<(String, Vec<f64>)>,
}

impl EconomicInputs {
    /// The inputs of a study with `[economics]` (None without it).
    pub fn of(study: &Study, res: &CohortResult) -> Option<Self> {
        let e = study.scenario().economics.as_ref()?;
        let mut inputs = EconomicInputs::from_result(res, e.wtp.values().to_vec())?;
        inputs.parameters = drawn_parameters(study);
        Some(inputs)
    }

    /// Costs and QALYs of every arm and replicate of `res` (None when the
    /// result has no economic metrics); no parameters.
    pub fn from_result(res: &CohortResult, wtp: Vec<f64>) -> Option<Self> {
        let index = |name: &str| res.metrics.iter().position(|m| m.name == name);
        let (c, q) = (index(COSTS)?, index(QALYS)?);
        let per_arm = |m: usize| -> Vec<Vec<f64>> {
            (0..res.arms.len())
                .map(|a| {
                    res.replicates
                        .iter()
                        .map(|r| r.arms[a].stats[m].estimate())
                        .collect()
                })
                .collect()
        };
        Some(EconomicInputs {
            arms: res.arms.clone(),
            costs: per_arm(c),
            qalys: per_arm(q),
            wtp,
            parameters: Vec::new(),
        })
    }

    /// Replicates.
    pub fn replicates(&self) -> usize {
        self.costs.first().map_or(0, Vec::len)
    }

    /// Mean over replicates of arm `a`'s costs and QALYs.
    pub fn means(&self, a: usize) -> (f64, f64) {
        (mean(&self.costs[a]), mean(&self.qalys[a]))
    }

    /// Net monetary benefit `wtp · QALYs − costs` of arm `a` in replicate `r`.
    pub fn nmb(&self, a: usize, r: usize, wtp: f64) -> f64 {
        wtp * self.qalys[a][r] - self.costs[a][r]
    }
}

/// Every parameter a replicate draws from a distribution, with its value in
/// each replicate (the paths of `parameters.csv`).
pub fn drawn_parameters(study: &Study) -> Vec<(String, Vec<f64>)> {
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    for r in 0..study.scenario().replicates {
        for (k, d) in study.replicate_model(r).drawn.into_iter().enumerate() {
            match out.get_mut(k) {
                Some((path, values)) if *path == d.parameter => values.push(d.value),
                _ => out.push((d.parameter, vec![d.value])),
            }
        }
    }
    out
}

/// The mean of `xs` (NaN when empty).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}
