//! Probabilistic sensitivity analysis from the replicates (each replicate
//! draws its own parameter values, on the same virtual patients):
//!
//! - **CEAC** (cost-effectiveness acceptability curves): at each threshold,
//!   the share of replicates in which each arm has the highest net
//!   monetary benefit (a tie goes to the first such arm in scenario
//!   order); the shares sum to 1. The **CEAF** (frontier) marks the arm
//!   with the highest expected net benefit (Fenwick, Claxton & Sculpher
//!   2001; as BCEA's `ceac` and `ceaf`).
//! - **EVPI** per patient: `E[max_a NMB_a] − max_a E[NMB_a]` over
//!   replicates (as BCEA's `evi`).
//! - **EVPPI** per patient and parameter, by the regression-based method of
//!   Strong, Oakley & Brennan (2014, Med Decis Making 34:311–326): each
//!   arm's net benefit, relative to the first arm, is regressed on the
//!   parameter, and `EVPPI = mean_r max_a ĝ_a(θ_r) − max_a mean_r ĝ_a(θ_r)`.
//!   The smoother is a polynomial in the parameter's rank (scaled to
//!   [−1, 1]) of degree 0 to 3, chosen per arm by the Bayesian information
//!   criterion, in place of the generalised additive model of the paper; a
//!   parameter that changes nothing then gets a flat fit and an EVPPI near
//!   0. Estimates are clamped to [0, EVPI].

use serde::Serialize;

use super::EconomicInputs;

/// One row of `ceac.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CeacRow {
    /// Willingness to pay per QALY.
    pub wtp: f64,
    /// Arm name.
    pub arm: String,
    /// Share of replicates in which the arm has the highest net benefit.
    pub probability_cost_effective: f64,
    /// Whether the arm has the highest expected net benefit (the CEAF).
    pub on_frontier: bool,
}

/// One row of `evpi.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvpiRow {
    /// Willingness to pay per QALY.
    pub wtp: f64,
    /// Expected value of perfect information per patient.
    pub evpi_per_patient: f64,
}

/// One row of `evppi.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvppiRow {
    /// Willingness to pay per QALY.
    pub wtp: f64,
    /// Scenario path of the parameter.
    pub parameter: String,
    /// Expected value of partial perfect information per patient.
    pub evppi_per_patient: f64,
}

/// The index of the largest value (the first on a tie).
fn argmax(xs: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, x) in xs.enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

/// Per arm, each replicate's net benefit at `wtp`.
fn nmb_table(inputs: &EconomicInputs, wtp: f64) -> Vec<Vec<f64>> {
    (0..inputs.arms.len())
        .map(|a| {
            (0..inputs.replicates())
                .map(|r| inputs.nmb(a, r, wtp))
                .collect()
        })
        .collect()
}

/// The rows of `ceac.csv`: threshold by threshold, arm by arm.
pub fn ceac_rows(inputs: &EconomicInputs) -> Vec<CeacRow> {
    let reps = inputs.replicates();
    let mut rows = Vec::new();
    for &wtp in &inputs.wtp {
        let nmb = nmb_table(inputs, wtp);
        let mut wins = vec![0usize; inputs.arms.len()];
        for r in 0..reps {
            wins[argmax(nmb.iter().map(|v| v[r]))] += 1;
        }
        let best = argmax(nmb.iter().map(|v| super::mean(v)));
        for (a, arm) in inputs.arms.iter().enumerate() {
            rows.push(CeacRow {
                wtp,
                arm: arm.clone(),
                probability_cost_effective: wins[a] as f64 / reps as f64,
                on_frontier: a == best,
            });
        }
    }
    rows
}

/// EVPI per patient from per-arm net benefits per replicate.
fn evpi_of(nmb: &[Vec<f64>]) -> f64 {
    let reps = nmb.first().map_or(0, Vec::len);
    let perfect = (0..reps)
        .map(|r| nmb.iter().map(|v| v[r]).fold(f64::NEG_INFINITY, f64::max))
        .sum::<f64>()
        / reps as f64;
    let current = nmb
        .iter()
        .map(|v| super::mean(v))
        .fold(f64::NEG_INFINITY, f64::max);
    (perfect - current).max(0.0)
}

/// The rows of `evpi.csv`.
pub fn evpi_rows(inputs: &EconomicInputs) -> Vec<EvpiRow> {
    inputs
        .wtp
        .iter()
        .map(|&wtp| EvpiRow {
            wtp,
            evpi_per_patient: evpi_of(&nmb_table(inputs, wtp)),
        })
        .collect()
}

/// The rows of `evppi.csv`: threshold by threshold, parameter by parameter.
pub fn evppi_rows(inputs: &EconomicInputs) -> Vec<EvppiRow> {
    evppi_rows_at(inputs, &inputs.wtp)
}

/// The rows of `evppi.csv` at the thresholds `thresholds` only, each the
/// same as in the whole table (every threshold is fitted on its own): the
/// report shows one threshold, and the regressions of all of them cost as
/// much as the rest of a large PSA's tables.
pub fn evppi_rows_at(inputs: &EconomicInputs, thresholds: &[f64]) -> Vec<EvppiRow> {
    let bases: Vec<(&str, Basis)> = inputs
        .parameters
        .iter()
        .map(|(p, v)| (p.as_str(), Basis::of(v)))
        .collect();
    let mut rows = Vec::new();
    for &wtp in thresholds {
        let nmb = nmb_table(inputs, wtp);
        let evpi = evpi_of(&nmb);
        for (parameter, basis) in &bases {
            rows.push(EvppiRow {
                wtp,
                parameter: parameter.to_string(),
                evppi_per_patient: evppi(&nmb, basis).clamp(0.0, evpi),
            });
        }
    }
    rows
}

/// Most polynomial terms of the smoother (degree 3 and the intercept).
const TERMS: usize = 4;

/// The polynomial basis of one parameter: its values' ranks scaled to
/// [−1, 1] (ties share their mean rank), and their powers.
#[derive(Debug, Clone)]
pub struct Basis {
    x: Vec<f64>,
}

impl Basis {
    /// The basis of a parameter with these per-replicate values.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
        let mut rank = vec![0.0; n];
        let mut k = 0;
        while k < n {
            let mut m = k;
            while m + 1 < n && values[order[m + 1]] == values[order[k]] {
                m += 1;
            }
            let mean_rank = (k + m) as f64 / 2.0;
            for &i in &order[k..=m] {
                rank[i] = mean_rank;
            }
            k = m + 1;
        }
        let scale = (n.max(2) - 1) as f64;
        Basis {
            x: rank.iter().map(|r| 2.0 * r / scale - 1.0).collect(),
        }
    }

    /// Row `r` of the design matrix with `terms` columns.
    fn row(&self, r: usize, terms: usize) -> [f64; TERMS] {
        let mut out = [0.0; TERMS];
        let mut p = 1.0;
        for o in out.iter_mut().take(terms) {
            *o = p;
            p *= self.x[r];
        }
        out
    }

    /// The fitted values of the least-squares regression of `y` on the
    /// basis, with the number of terms (1 to 4) the BIC chooses.
    pub fn smooth(&self, y: &[f64]) -> Vec<f64> {
        let n = y.len();
        let mut best: Option<(f64, Vec<f64>)> = None;
        for terms in 1..=TERMS.min(n.saturating_sub(1)).max(1) {
            let Some(fit) = self.fit(y, terms) else {
                continue;
            };
            let rss: f64 = fit.iter().zip(y).map(|(f, y)| (y - f) * (y - f)).sum();
            let nf = n as f64;
            let bic = nf * (rss.max(f64::MIN_POSITIVE) / nf).ln() + terms as f64 * nf.ln();
            if best.as_ref().map_or(true, |(b, _)| bic < *b) {
                best = Some((bic, fit));
            }
        }
        best.map_or_else(|| vec![super::mean(y); n], |(_, fit)| fit)
    }

    /// Least squares with `terms` columns (None if the normal equations are singular).
    fn fit(&self, y: &[f64], terms: usize) -> Option<Vec<f64>> {
        let mut a = [[0.0; TERMS + 1]; TERMS];
        for (r, &yr) in y.iter().enumerate() {
            let row = self.row(r, terms);
            for (ai, &xi) in a.iter_mut().zip(&row).take(terms) {
                for (aij, &xj) in ai.iter_mut().zip(&row).take(terms) {
                    *aij += xi * xj;
                }
                ai[TERMS] += xi * yr;
            }
        }
        let beta = solve(&mut a, terms)?;
        Some(
            (0..y.len())
                .map(|r| {
                    let row = self.row(r, terms);
                    (0..terms).map(|i| row[i] * beta[i]).sum()
                })
                .collect(),
        )
    }
}

/// Solves the `terms × terms` system in `a` (right-hand side in the last
/// column) by Gaussian elimination with partial pivoting.
fn solve(a: &mut [[f64; TERMS + 1]; TERMS], terms: usize) -> Option<[f64; TERMS]> {
    for c in 0..terms {
        let p = (c..terms).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        let pivot = a[c];
        for row in a.iter_mut().take(terms).skip(c + 1) {
            let f = row[c] / pivot[c];
            for (x, q) in row.iter_mut().zip(&pivot).skip(c) {
                *x -= f * q;
            }
        }
    }
    let mut beta = [0.0; TERMS];
    for c in (0..terms).rev() {
        let known: f64 = a[c][c + 1..terms]
            .iter()
            .zip(&beta[c + 1..terms])
            .map(|(x, b)| x * b)
            .sum();
        beta[c] = (a[c][TERMS] - known) / a[c][c];
    }
    Some(beta)
}

/// EVPPI of one parameter (unclamped) from per-arm net benefits.
fn evppi(nmb: &[Vec<f64>], basis: &Basis) -> f64 {
    let reps = nmb.first().map_or(0, Vec::len);
    if reps < 2 {
        return 0.0;
    }
    // Net benefit relative to the first arm, smoothed per arm.
    let fitted: Vec<Vec<f64>> = nmb
        .iter()
        .map(|v| {
            let incremental: Vec<f64> = v.iter().zip(&nmb[0]).map(|(x, b)| x - b).collect();
            basis.smooth(&incremental)
        })
        .collect();
    let perfect = (0..reps)
        .map(|r| {
            fitted
                .iter()
                .map(|f| f[r])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .sum::<f64>()
        / reps as f64;
    let current = fitted
        .iter()
        .map(|f| super::mean(f))
        .fold(f64::NEG_INFINITY, f64::max);
    perfect - current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_fit_for_noise_and_an_exact_fit_for_a_cubic() {
        let theta: Vec<f64> = (0..200).map(|i| f64::from(i) * 0.37 % 11.0).collect();
        let basis = Basis::of(&theta);
        let cubic: Vec<f64> = basis.x.iter().map(|x| 1.0 + 2.0 * x - x * x * x).collect();
        let fit = basis.smooth(&cubic);
        for (f, y) in fit.iter().zip(&cubic) {
            assert!((f - y).abs() < 1e-9);
        }
        let constant = vec![3.0; 200];
        assert!(basis
            .smooth(&constant)
            .iter()
            .all(|f| (f - 3.0).abs() < 1e-9));
    }

    #[test]
    fn evppi_of_the_parameter_that_decides_is_the_evpi() {
        // Arm 1 beats arm 0 by theta - 0.5: knowing theta is perfect information.
        let theta: Vec<f64> = (0..400).map(|i| (f64::from(i) + 0.5) / 400.0).collect();
        let nmb = vec![vec![0.0; 400], theta.iter().map(|t| t - 0.5).collect()];
        let evpi = evpi_of(&nmb);
        let e = evppi(&nmb, &Basis::of(&theta));
        assert!((evpi - 0.125).abs() < 1e-3, "{evpi}");
        assert!((e - evpi).abs() < 1e-9, "{e} vs {evpi}");
    }
}
