//! The estimates of a criteria validation, from integer counts: Wilson score
//! intervals for sensitivity and specificity, predictive values at a given
//! prevalence with the logit interval of Mercaldo, Lau & Zhou (2007), and
//! the area under the ROC curve (Mann–Whitney) with DeLong's variance.

/// The 97.5% point of the standard normal distribution.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A proportion `k / n` with its 95% Wilson score interval (Wilson 1927);
/// NaN when `n` is 0.
pub fn wilson(k: u64, n: u64) -> (f64, f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (p, (centre - half).max(0.0), (centre + half).min(1.0))
}

/// Positive and negative predictive values of a test with sensitivity `se`
/// and specificity `sp` at `prevalence` (Bayes' theorem); NaN where nobody
/// tests positive (or negative).
pub fn predictive_values(se: f64, sp: f64, prevalence: f64) -> (f64, f64) {
    let (p, q) = (prevalence, 1.0 - prevalence);
    let ppv = p * se / (p * se + q * (1.0 - sp));
    let npv = q * sp / (q * sp + p * (1.0 - se));
    (nan_if_undefined(ppv), nan_if_undefined(npv))
}

fn nan_if_undefined(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::NAN
    }
}

/// Counts of a 2×2 table: cases (`true_pos` of `cases` positive) and
/// controls (`false_pos` of `controls` positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoByTwo {
    /// Cases testing positive.
    pub true_pos: u64,
    /// Cases.
    pub cases: u64,
    /// Controls testing positive.
    pub false_pos: u64,
    /// Controls.
    pub controls: u64,
}

impl TwoByTwo {
    /// 95% intervals of PPV and NPV at `prevalence` (taken as known): the
    /// logit interval of Mercaldo, Lau & Zhou (Stat Med 2007;26:2170),
    /// `logit(PPV) = ln(p·Se / ((1-p)(1-Sp)))` with variance
    /// `(1-Se)/(Se·n1) + Sp/((1-Sp)·n0)`, and likewise for NPV. When a cell
    /// of the table is empty, 0.5 is added to every cell (Haldane–Anscombe)
    /// for the interval only. `((ppv_lo, ppv_hi), (npv_lo, npv_hi))`; NaN
    /// without cases or controls.
    pub fn predictive_intervals(&self, prevalence: f64) -> ((f64, f64), (f64, f64)) {
        let nan = (f64::NAN, f64::NAN);
        if self.cases == 0 || self.controls == 0 || !(0.0..=1.0).contains(&prevalence) {
            return (nan, nan);
        }
        let cells = [
            self.true_pos,
            self.cases - self.true_pos,
            self.false_pos,
            self.controls - self.false_pos,
        ];
        let add = if cells.contains(&0) { 0.5 } else { 0.0 };
        let [tp, fneg, fp, tn] = cells.map(|c| c as f64 + add);
        let (n1, n0) = (tp + fneg, fp + tn);
        let (se, sp) = (tp / n1, tn / n0);
        let (p, q) = (prevalence, 1.0 - prevalence);
        let ppv_logit = (p * se / (q * (1.0 - sp))).ln();
        let ppv_var = (1.0 - se) / (se * n1) + sp / ((1.0 - sp) * n0);
        let npv_logit = (q * sp / (p * (1.0 - se))).ln();
        let npv_var = se / ((1.0 - se) * n1) + (1.0 - sp) / (sp * n0);
        (
            logit_interval(ppv_logit, ppv_var),
            logit_interval(npv_logit, npv_var),
        )
    }
}

/// `centre ± z·sqrt(var)` on the logit scale, back-transformed.
fn logit_interval(centre: f64, var: f64) -> (f64, f64) {
    let h = Z95 * var.sqrt();
    let expit = |x: f64| 1.0 / (1.0 + (-x).exp());
    if centre.is_nan() || h.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    (expit(centre - h), expit(centre + h))
}

/// The area under the ROC curve of a score with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Auc {
    /// Mann–Whitney estimate: P(case > control) + P(tie) / 2.
    pub auc: f64,
    /// DeLong standard error.
    pub se: f64,
    /// Lower end of the 95% interval (AUC ± 1.96 SE, within [0, 1]).
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
}

/// AUC of a score from histograms (index = score value) of cases and
/// controls: the Mann–Whitney statistic with the variance of DeLong,
/// DeLong & Clarke-Pearson (Biometrics 1988;44:837) computed from the
/// structural components of each score value. NaN without cases or controls.
pub fn auc_delong(cases: &[u64], controls: &[u64]) -> Auc {
    let m: u64 = cases.iter().sum();
    let n: u64 = controls.iter().sum();
    let nan = Auc {
        auc: f64::NAN,
        se: f64::NAN,
        lower: f64::NAN,
        upper: f64::NAN,
    };
    if m == 0 || n == 0 || cases.len() != controls.len() {
        return nan;
    }
    let (mf, nf) = (m as f64, n as f64);
    // Controls below each score value, and cases above it.
    let below: Vec<u64> = prefix(controls);
    let above: Vec<u64> = {
        let mut rev: Vec<u64> = cases.iter().rev().copied().collect();
        rev = prefix(&rev);
        rev.reverse();
        rev
    };
    // V10 of a case at score s; V01 of a control at score s.
    let v10 = |s: usize| (below[s] as f64 + 0.5 * controls[s] as f64) / nf;
    let v01 = |s: usize| (above[s] as f64 + 0.5 * cases[s] as f64) / mf;
    let auc: f64 = (0..cases.len())
        .map(|s| cases[s] as f64 * v10(s))
        .sum::<f64>()
        / mf;
    let spread = |counts: &[u64], v: &dyn Fn(usize) -> f64, total: f64| {
        if total < 2.0 {
            return 0.0;
        }
        (0..counts.len())
            .map(|s| counts[s] as f64 * (v(s) - auc).powi(2))
            .sum::<f64>()
            / (total - 1.0)
    };
    let s10 = spread(cases, &v10, mf);
    let s01 = spread(controls, &v01, nf);
    let se = (s10 / mf + s01 / nf).sqrt();
    Auc {
        auc,
        se,
        lower: (auc - Z95 * se).max(0.0),
        upper: (auc + Z95 * se).min(1.0),
    }
}

/// Counts strictly below each index.
fn prefix(counts: &[u64]) -> Vec<u64> {
    let mut sum = 0;
    counts
        .iter()
        .map(|c| {
            let before = sum;
            sum += c;
            before
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_textbook_value() {
        // 81 of 263: 0.308 (0.255, 0.366) (Newcombe 1998, Stat Med 17:857, table I example).
        let (p, lo, hi) = wilson(81, 263);
        assert!((p - 0.30798).abs() < 1e-4);
        assert!(
            (lo - 0.2553).abs() < 1e-3 && (hi - 0.3662).abs() < 1e-3,
            "{lo} {hi}"
        );
        let (_, lo, hi) = wilson(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-3);
    }

    #[test]
    fn predictive_values_follow_bayes() {
        // Jansson2009's mix: Se 0.68, Sp 0.98, 102:122 gives PPV about 0.97.
        let (ppv, npv) = predictive_values(0.68, 0.98, 102.0 / 224.0);
        assert!((ppv - 0.966).abs() < 0.002, "{ppv}");
        assert!((npv - 0.786).abs() < 0.002, "{npv}");
        let (ppv, _) = predictive_values(0.0, 1.0, 0.5);
        assert!(ppv.is_nan());
    }

    #[test]
    fn predictive_intervals_contain_the_estimate() {
        let t = TwoByTwo {
            true_pos: 70,
            cases: 100,
            false_pos: 3,
            controls: 120,
        };
        let p = 100.0 / 220.0;
        let se = 0.7;
        let sp = 117.0 / 120.0;
        let (ppv, npv) = predictive_values(se, sp, p);
        let ((a, b), (c, d)) = t.predictive_intervals(p);
        assert!(a < ppv && ppv < b && c < npv && npv < d);
        // Both ends of a logit interval are symmetric on the logit scale.
        let logit = |x: f64| (x / (1.0 - x)).ln();
        assert!(((logit(a) + logit(b)) / 2.0 - logit(ppv)).abs() < 1e-9);
    }

    /// The AUC from histograms equals the count of concordant pairs (ties
    /// half) over every pair, computed pair by pair.
    #[test]
    fn auc_is_the_pair_count() {
        let cases = [0, 1, 0, 3, 2, 4];
        let controls = [3, 2, 2, 1, 0, 1];
        let mut concordant = 0.0;
        let (mut m, mut n) = (0.0, 0.0);
        for (s, &a) in cases.iter().enumerate() {
            m += a as f64;
            for (t, &b) in controls.iter().enumerate() {
                let pairs = (a * b) as f64;
                concordant += pairs
                    * if s > t {
                        1.0
                    } else if s == t {
                        0.5
                    } else {
                        0.0
                    };
            }
        }
        n += controls.iter().sum::<u64>() as f64;
        let a = auc_delong(&cases, &controls);
        assert!((a.auc - concordant / (m * n)).abs() < 1e-12);
        assert!(a.lower < a.auc && a.auc < a.upper);
    }

    /// DeLong's variance equals the textbook formula written per child:
    /// V10 per case, V01 per control, sample variances.
    #[test]
    fn delong_variance_per_child() {
        let cases = [1u64, 0, 2, 3];
        let controls = [2u64, 2, 1, 0];
        let xs: Vec<usize> = expand(&cases);
        let ys: Vec<usize> = expand(&controls);
        let psi = |x: usize, y: usize| {
            if x > y {
                1.0
            } else if x == y {
                0.5
            } else {
                0.0
            }
        };
        let v10: Vec<f64> = xs
            .iter()
            .map(|&x| ys.iter().map(|&y| psi(x, y)).sum::<f64>() / ys.len() as f64)
            .collect();
        let v01: Vec<f64> = ys
            .iter()
            .map(|&y| xs.iter().map(|&x| psi(x, y)).sum::<f64>() / xs.len() as f64)
            .collect();
        let auc = v10.iter().sum::<f64>() / xs.len() as f64;
        let var =
            |v: &[f64]| v.iter().map(|a| (a - auc).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0);
        let se = (var(&v10) / xs.len() as f64 + var(&v01) / ys.len() as f64).sqrt();
        let a = auc_delong(&cases, &controls);
        assert!((a.auc - auc).abs() < 1e-12 && (a.se - se).abs() < 1e-12);
    }

    fn expand(h: &[u64]) -> Vec<usize> {
        h.iter()
            .enumerate()
            .flat_map(|(s, &k)| std::iter::repeat(s).take(k as usize))
            .collect()
    }
}
