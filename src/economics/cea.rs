//! Incremental analysis over all arms, on the arm means: strategies sorted
//! by costs, strongly dominated ones removed (another costs no more and
//! gives at least as many QALYs, one of them strictly), then extendedly
//! dominated ones (a strategy whose ICER against the previous undominated
//! strategy exceeds that of the next one), repeated until the ICERs rise
//! along the frontier; ICERs are against the previous strategy on the
//! frontier. These are the conventions of dampack's `calculate_icers` and
//! hesim's `icer` (Drummond et al., Methods for the Economic Evaluation of
//! Health Care Programmes, 4th ed., 2015).
//!
//! Net monetary benefit per arm at each threshold is `wtp · QALYs − costs`
//! (Stinnett & Mullahy 1998).

use serde::Serialize;

use super::EconomicInputs;

/// Where a strategy stands in the incremental analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The cheapest strategy on the frontier.
    Reference,
    /// On the frontier (not dominated).
    Frontier,
    /// Another strategy costs no more and gives at least as many QALYs.
    Dominated,
    /// A mix of two frontier strategies would beat it.
    ExtendedlyDominated,
}

impl Status {
    /// As written in `cea.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reference => "reference",
            Status::Frontier => "frontier",
            Status::Dominated => "dominated",
            Status::ExtendedlyDominated => "extendedly_dominated",
        }
    }
}

/// One row of `cea.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CeaRow {
    /// Arm name.
    pub arm: String,
    /// Mean discounted costs per patient.
    pub costs: f64,
    /// Mean discounted QALYs per patient.
    pub qalys: f64,
    /// Costs minus those of the previous frontier strategy (frontier rows only).
    pub incremental_costs: Option<f64>,
    /// QALYs minus those of the previous frontier strategy (frontier rows only).
    pub incremental_qalys: Option<f64>,
    /// Incremental cost per QALY gained against the previous frontier strategy.
    pub icer: Option<f64>,
    /// Where the strategy stands.
    pub status: Status,
}

/// The incremental analysis of strategies with mean `costs` and `qalys`:
/// one status per strategy (input order).
pub fn frontier(costs: &[f64], qalys: &[f64]) -> Vec<Status> {
    let n = costs.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| {
        costs[i]
            .total_cmp(&costs[j])
            .then(qalys[j].total_cmp(&qalys[i]))
    });
    let mut status = vec![Status::Frontier; n];
    // Strong dominance: a cheaper (or equally cheap) strategy earlier in
    // cost order gives at least as many QALYs.
    let mut best_q = f64::NEG_INFINITY;
    let mut kept = Vec::new();
    for &i in &order {
        if qalys[i] <= best_q {
            status[i] = Status::Dominated;
        } else {
            best_q = qalys[i];
            kept.push(i);
        }
    }
    // Extended dominance: ICERs must rise along the frontier.
    loop {
        let icer = |a: usize, b: usize| (costs[b] - costs[a]) / (qalys[b] - qalys[a]);
        let out = (1..kept.len().saturating_sub(1))
            .find(|&k| icer(kept[k - 1], kept[k]) > icer(kept[k], kept[k + 1]));
        match out {
            Some(k) => {
                status[kept[k]] = Status::ExtendedlyDominated;
                kept.remove(k);
            }
            None => break,
        }
    }
    if let Some(&first) = kept.first() {
        status[first] = Status::Reference;
    }
    status
}

/// The rows of `cea.csv`, sorted by costs (ties: more QALYs first).
pub fn cea_rows(inputs: &EconomicInputs) -> Vec<CeaRow> {
    let n = inputs.arms.len();
    let (costs, qalys): (Vec<f64>, Vec<f64>) = (0..n).map(|a| inputs.means(a)).unzip();
    let status = frontier(&costs, &qalys);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| {
        costs[i]
            .total_cmp(&costs[j])
            .then(qalys[j].total_cmp(&qalys[i]))
    });
    let mut previous: Option<usize> = None;
    order
        .into_iter()
        .map(|a| {
            let mut row = CeaRow {
                arm: inputs.arms[a].clone(),
                costs: costs[a],
                qalys: qalys[a],
                incremental_costs: None,
                incremental_qalys: None,
                icer: None,
                status: status[a],
            };
            match status[a] {
                Status::Reference => previous = Some(a),
                Status::Frontier => {
                    if let Some(p) = previous {
                        let (dc, dq) = (costs[a] - costs[p], qalys[a] - qalys[p]);
                        row.incremental_costs = Some(dc);
                        row.incremental_qalys = Some(dq);
                        row.icer = Some(dc / dq);
                    }
                    previous = Some(a);
                }
                _ => {}
            }
            row
        })
        .collect()
}

/// One row of `nmb.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NmbRow {
    /// Willingness to pay per QALY.
    pub wtp: f64,
    /// Arm name.
    pub arm: String,
    /// Mean net monetary benefit per patient over replicates.
    pub nmb_per_patient: f64,
    /// 2.5th percentile over replicates (replicates > 1 only).
    pub lower_95: Option<f64>,
    /// 97.5th percentile over replicates (replicates > 1 only).
    pub upper_95: Option<f64>,
}

/// Net monetary benefit of every arm at every threshold, with the 95%
/// interval of the replicates (parameter uncertainty) when there are several.
pub fn nmb_rows(inputs: &EconomicInputs) -> Vec<NmbRow> {
    let reps = inputs.replicates();
    let mut rows = Vec::new();
    for &wtp in &inputs.wtp {
        for (a, arm) in inputs.arms.iter().enumerate() {
            let mut v: Vec<f64> = (0..reps).map(|r| inputs.nmb(a, r, wtp)).collect();
            let nmb = super::mean(&v);
            let (lower_95, upper_95) = if reps > 1 {
                v.sort_by(f64::total_cmp);
                (
                    Some(crate::results::summary::percentile(&v, 0.025)),
                    Some(crate::results::summary::percentile(&v, 0.975)),
                )
            } else {
                (None, None)
            };
            rows.push(NmbRow {
                wtp,
                arm: arm.clone(),
                nmb_per_patient: nmb,
                lower_95,
                upper_95,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominance_and_extended_dominance() {
        // A (10, 1), B (20, 0.5) dominated by A, C (30, 2), D (100, 2.2)
        // and E (40, 2.1): ICER A->C 13.3, C->E 100, E->D 1200: all rise.
        // F (35, 2.02): C->F 250 > F->E 62.5, so F is extendedly dominated.
        let costs = [10.0, 20.0, 30.0, 100.0, 40.0, 35.0];
        let qalys = [1.0, 0.5, 2.0, 2.2, 2.1, 2.02];
        let s = frontier(&costs, &qalys);
        assert_eq!(
            s,
            vec![
                Status::Reference,
                Status::Dominated,
                Status::Frontier,
                Status::Frontier,
                Status::Frontier,
                Status::ExtendedlyDominated
            ]
        );
    }
}
