//! The tests of a two-arm comparison and the interval of a simulated power.
//! Distribution functions come from `statrs`; only the test statistics are
//! computed here.
//!
//! - Binary: Pearson's chi-square without continuity correction (the
//!   two-proportion z-test with pooled variance), or Fisher's exact test
//!   (two-sided: the sum of the hypergeometric probabilities of every table
//!   no more likely than the one observed, as R's `fisher.test`).
//! - Time to event: the log-rank test (Mantel–Haenszel variance with ties),
//!   with the hazard ratio estimated by the O/E ratio.
//! - Rate: a quasi-Poisson Wald test of the log rate ratio: the Poisson
//!   standard error `sqrt(1/y_arm + 1/y_control)` scaled by the square root
//!   of the Pearson dispersion of the two-group Poisson fit (at least 1), so
//!   overdispersed counts (frailty) do not inflate the type I error.
//! - Continuous: Welch's t-test (Welch–Satterthwaite degrees of freedom).
//! - Power: the Wilson score interval of a binomial proportion.

use statrs::distribution::{
    ChiSquared, ContinuousCDF, Discrete, Hypergeometric, Normal, StudentsT,
};

/// What a test returns: the effect estimate (None when undefined, e.g. a
/// rate ratio without events) and the two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The estimate.
    pub estimate: Option<f64>,
    /// The two-sided p-value, in [0, 1].
    pub p_value: f64,
}

/// Upper tail of the chi-square distribution with 1 degree of freedom.
fn chi2_1_sf(x: f64) -> f64 {
    match ChiSquared::new(1.0) {
        Ok(d) if x.is_finite() => d.sf(x).clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// Two-sided p-value of a standard normal statistic.
fn normal_two_sided(z: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(d) if z.is_finite() => (2.0 * d.sf(z.abs())).clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// Pearson's chi-square test of `x0` of `n0` against `x1` of `n1`, without
/// continuity correction; the estimate is the risk difference `p1 - p0`.
/// With no variation at all (every patient or none with the outcome), p = 1.
pub fn chi_square(x0: u64, n0: u64, x1: u64, n1: u64) -> TestResult {
    if n0 == 0 || n1 == 0 {
        return TestResult {
            estimate: None,
            p_value: 1.0,
        };
    }
    let (n0f, n1f) = (n0 as f64, n1 as f64);
    let (p0, p1) = (x0 as f64 / n0f, x1 as f64 / n1f);
    let pooled = (x0 + x1) as f64 / (n0f + n1f);
    let var = pooled * (1.0 - pooled) * (1.0 / n0f + 1.0 / n1f);
    let p_value = if var > 0.0 {
        chi2_1_sf((p1 - p0).powi(2) / var)
    } else {
        1.0
    };
    TestResult {
        estimate: Some(p1 - p0),
        p_value,
    }
}

/// Fisher's exact test, two-sided, of the same table as [`chi_square`].
pub fn fisher_exact(x0: u64, n0: u64, x1: u64, n1: u64) -> TestResult {
    if n0 == 0 || n1 == 0 {
        return TestResult {
            estimate: None,
            p_value: 1.0,
        };
    }
    let successes = x0 + x1;
    let total = n0 + n1;
    // x1 ~ Hypergeometric(population total, successes, draws n1).
    let p_value = match Hypergeometric::new(total, successes, n1) {
        Ok(h) => {
            let observed = h.pmf(x1);
            let lo = successes.saturating_sub(n0);
            let hi = successes.min(n1);
            // R's relative tolerance for "no more likely than observed".
            let limit = observed * (1.0 + 1e-7);
            (lo..=hi)
                .map(|k| h.pmf(k))
                .filter(|&p| p <= limit)
                .sum::<f64>()
                .clamp(0.0, 1.0)
        }
        Err(_) => 1.0,
    };
    TestResult {
        estimate: Some(x1 as f64 / n1 as f64 - x0 as f64 / n0 as f64),
        p_value,
    }
}

/// One patient of a time-to-event comparison: time and whether the event
/// was observed (false: censored).
pub type Survival = (f64, bool);

/// The log-rank statistic of two groups: observed and expected events of
/// each, and the variance of `O_1 - E_1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    /// Observed events, control and arm.
    pub observed: [f64; 2],
    /// Expected events under the null, control and arm.
    pub expected: [f64; 2],
    /// Hypergeometric variance of `O_arm - E_arm` (with ties).
    pub variance: f64,
}

impl LogRank {
    /// Computes the statistic of `control` against `arm`. At each distinct
    /// event time with `d` events among `n` at risk (`n1` in the arm), the
    /// arm expects `d n1 / n` with variance `d (n1/n) (1 - n1/n) (n - d) / (n - 1)`;
    /// patients censored at an event time are still at risk then.
    pub fn of(control: &[Survival], arm: &[Survival]) -> LogRank {
        let mut all: Vec<(f64, bool, usize)> = control
            .iter()
            .map(|&(t, e)| (t, e, 0))
            .chain(arm.iter().map(|&(t, e)| (t, e, 1)))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut at_risk = [control.len() as f64, arm.len() as f64];
        let mut lr = LogRank {
            observed: [0.0; 2],
            expected: [0.0; 2],
            variance: 0.0,
        };
        let mut i = 0;
        while i < all.len() {
            let t = all[i].0;
            let mut j = i;
            let mut d = [0.0; 2];
            let mut leaving = [0.0; 2];
            while j < all.len() && all[j].0 == t {
                let g = all[j].2;
                leaving[g] += 1.0;
                if all[j].1 {
                    d[g] += 1.0;
                }
                j += 1;
            }
            let n = at_risk[0] + at_risk[1];
            let dt = d[0] + d[1];
            if dt > 0.0 && n > 0.0 {
                for g in 0..2 {
                    lr.observed[g] += d[g];
                    lr.expected[g] += dt * at_risk[g] / n;
                }
                if n > 1.0 {
                    let f = at_risk[1] / n;
                    lr.variance += dt * f * (1.0 - f) * (n - dt) / (n - 1.0);
                }
            }
            at_risk[0] -= leaving[0];
            at_risk[1] -= leaving[1];
            i = j;
        }
        lr
    }

    /// The chi-square statistic `(O_arm - E_arm)^2 / V` (0 without variance).
    pub fn chi_square(&self) -> f64 {
        if self.variance > 0.0 {
            (self.observed[1] - self.expected[1]).powi(2) / self.variance
        } else {
            0.0
        }
    }

    /// The hazard ratio of the arm against the control by the O/E ratio
    /// (None when a group has no expected or no observed events).
    pub fn hazard_ratio(&self) -> Option<f64> {
        let [o0, o1] = self.observed;
        let [e0, e1] = self.expected;
        (o0 > 0.0 && e0 > 0.0 && e1 > 0.0).then(|| (o1 / e1) / (o0 / e0))
    }
}

/// The log-rank test of `arm` against `control`; the estimate is the O/E
/// hazard ratio.
pub fn log_rank(control: &[Survival], arm: &[Survival]) -> TestResult {
    let lr = LogRank::of(control, arm);
    TestResult {
        estimate: lr.hazard_ratio(),
        p_value: if lr.variance > 0.0 {
            chi2_1_sf(lr.chi_square())
        } else {
            1.0
        },
    }
}

/// One patient of a rate comparison: events and exposure time.
pub type Count = (f64, f64);

/// The quasi-Poisson Wald test of the rate ratio of `arm` against
/// `control` (pooled events over pooled exposure in each group).
pub fn quasi_poisson(control: &[Count], arm: &[Count]) -> TestResult {
    let sums = |g: &[Count]| g.iter().fold((0.0, 0.0), |(y, t), c| (y + c.0, t + c.1));
    let ((y0, t0), (y1, t1)) = (sums(control), sums(arm));
    if y0 <= 0.0 || y1 <= 0.0 || t0 <= 0.0 || t1 <= 0.0 {
        return TestResult {
            estimate: (y1 + y0 > 0.0 && t0 > 0.0 && t1 > 0.0 && y0 > 0.0)
                .then(|| (y1 / t1) / (y0 / t0)),
            p_value: 1.0,
        };
    }
    let (r0, r1) = (y0 / t0, y1 / t1);
    let pearson = |g: &[Count], rate: f64| -> f64 {
        g.iter()
            .filter(|c| c.1 > 0.0)
            .map(|&(y, t)| (y - rate * t).powi(2) / (rate * t))
            .sum()
    };
    let n = (control.len() + arm.len()) as f64;
    let dispersion = if n > 2.0 {
        ((pearson(control, r0) + pearson(arm, r1)) / (n - 2.0)).max(1.0)
    } else {
        1.0
    };
    let se = (dispersion * (1.0 / y0 + 1.0 / y1)).sqrt();
    let log_rr = (r1 / r0).ln();
    TestResult {
        estimate: Some(r1 / r0),
        p_value: normal_two_sided(log_rr / se),
    }
}

/// Mean and unbiased variance.
fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 {
        x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}

/// Welch's t-test of `arm` against `control`; the estimate is the
/// difference in means (arm minus control). Groups of fewer than two, or
/// without any variance, give p = 1 unless the means differ with no
/// variance at all (p = 0).
pub fn welch(control: &[f64], arm: &[f64]) -> TestResult {
    if control.is_empty() || arm.is_empty() {
        return TestResult {
            estimate: None,
            p_value: 1.0,
        };
    }
    let (m0, v0) = mean_var(control);
    let (m1, v1) = mean_var(arm);
    let diff = m1 - m0;
    if control.len() < 2 || arm.len() < 2 {
        return TestResult {
            estimate: Some(diff),
            p_value: 1.0,
        };
    }
    let (s0, s1) = (v0 / control.len() as f64, v1 / arm.len() as f64);
    let se2 = s0 + s1;
    if se2 <= 0.0 {
        return TestResult {
            estimate: Some(diff),
            p_value: if diff == 0.0 { 1.0 } else { 0.0 },
        };
    }
    let df =
        se2 * se2 / (s0 * s0 / (control.len() as f64 - 1.0) + s1 * s1 / (arm.len() as f64 - 1.0));
    let t = diff / se2.sqrt();
    let p_value = match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => (2.0 * d.sf(t.abs())).clamp(0.0, 1.0),
        Err(_) => 1.0,
    };
    TestResult {
        estimate: Some(diff),
        p_value,
    }
}

/// The 97.5% point of the standard normal distribution.
pub fn z_975() -> f64 {
    Normal::new(0.0, 1.0).map_or(1.959_963_984_540_054, |d| d.inverse_cdf(0.975))
}

/// The Wilson score 95% interval of `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = z_975();
    let nf = n as f64;
    let p = k as f64 / nf;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / (1.0 + z2 / nf);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log-rank example worked by hand: control times 1, 2+, 3, 4
    /// (+: censored), arm times 2, 3, 5+.
    ///
    /// | t | n0 | n1 | d0 | d1 | E1 = d n1/n | V = d (n1/n)(1-n1/n)(n-d)/(n-1) |
    /// |---|---|---|---|---|---|---|
    /// | 1 | 4 | 3 | 1 | 0 | 3/7 | 12/49 |
    /// | 2 | 3 | 3 | 0 | 1 | 1/2 | 1/4 (the control censored at 2 is still at risk) |
    /// | 3 | 2 | 2 | 1 | 1 | 1 | 1/3 (d = 2: 2 · 1/4 · 2/3) |
    /// | 4 | 1 | 1 | 1 | 0 | 1/2 | 1/4 |
    ///
    /// O1 = 2, E1 = 17/7, V = 12/49 + 1/4 + 1/3 + 1/4 = 317/294;
    /// chi-square = (3/7)^2 / (317/294) = 54/317. O0 = 3, E0 = 5 - 17/7 = 18/7,
    /// so the O/E hazard ratio is (2 / (17/7)) / (3 / (18/7)) = 12/17.
    #[test]
    fn log_rank_matches_a_hand_computed_example() {
        let control = [(1.0, true), (2.0, false), (3.0, true), (4.0, true)];
        let arm = [(2.0, true), (3.0, true), (5.0, false)];
        let lr = LogRank::of(&control, &arm);
        assert_eq!(lr.observed, [3.0, 2.0]);
        assert!((lr.expected[1] - 17.0 / 7.0).abs() < 1e-12);
        assert!((lr.expected[0] - 18.0 / 7.0).abs() < 1e-12);
        assert!((lr.variance - 317.0 / 294.0).abs() < 1e-12);
        assert!((lr.chi_square() - 54.0 / 317.0).abs() < 1e-12);
        assert!((lr.hazard_ratio().unwrap() - 12.0 / 17.0).abs() < 1e-12);
        // p = P(chi2_1 > 54/317) = erfc(sqrt(27/317)) = 0.67980359899...
        let p = log_rank(&control, &arm).p_value;
        assert!((p - 0.679_803_598_990_3).abs() < 1e-9, "p = {p}");
    }

    #[test]
    fn chi_square_is_the_squared_two_proportion_z() {
        // 10/40 against 20/40: pooled 0.375, z = 0.25 / sqrt(0.375 * 0.625 / 20).
        let r = chi_square(10, 40, 20, 40);
        let z = 0.25 / (0.375f64 * 0.625 / 20.0).sqrt();
        assert!((r.estimate.unwrap() - 0.25).abs() < 1e-12);
        assert!((r.p_value - normal_two_sided(z)).abs() < 1e-12);
        // scipy.stats.chi2_contingency([[10, 30], [20, 20]], correction=False): p = 0.0209...
        assert!(
            (r.p_value - 0.020_921_335_337_794).abs() < 1e-9,
            "{}",
            r.p_value
        );
        assert_eq!(chi_square(0, 20, 0, 20).p_value, 1.0);
    }

    #[test]
    fn fisher_matches_a_known_table() {
        // R: fisher.test(matrix(c(3, 1, 1, 3), 2)) p-value = 0.4857 (= 34/70).
        let r = fisher_exact(3, 4, 1, 4);
        assert!((r.p_value - 34.0 / 70.0).abs() < 1e-12, "{}", r.p_value);
        // The tea-tasting table is symmetric: every table of the margins but
        // the observed one's mirror is less likely.
        assert!((fisher_exact(0, 4, 4, 4).p_value - 2.0 / 70.0).abs() < 1e-12);
    }

    #[test]
    fn welch_matches_a_known_example() {
        // By hand: means 2.5 and 6, variances 5/3 and 10, so t = 3.5 /
        // sqrt(5/12 + 2) = 2.25144 on df = (29/12)^2 / ((5/12)^2/3 + 2^2/4)
        // = 5.52079; two-sided p = 0.0691336 (the t density integrated
        // numerically, Simpson's rule with 200,000 intervals).
        let r = welch(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.0, 10.0]);
        assert!((r.estimate.unwrap() - 3.5).abs() < 1e-12);
        assert!((r.p_value - 0.069_133_593).abs() < 1e-7, "{}", r.p_value);
    }

    #[test]
    fn quasi_poisson_equals_poisson_without_overdispersion() {
        // Equal exposures and counts at their group means: dispersion 0,
        // taken as 1, so the test is the Poisson Wald test.
        let c = [(2.0, 1.0); 10];
        let a = [(1.0, 1.0); 10];
        let r = quasi_poisson(&c, &a);
        assert!((r.estimate.unwrap() - 0.5).abs() < 1e-12);
        let z = 0.5f64.ln() / (1.0 / 20.0 + 1.0 / 10.0f64).sqrt();
        assert!((r.p_value - normal_two_sided(z)).abs() < 1e-12);
    }

    #[test]
    fn wilson_matches_the_formula() {
        // 50 of 100: 0.5 -/+ about 0.0961 (centre 0.5).
        let (lo, hi) = wilson(50, 100);
        assert!((lo - 0.403_831).abs() < 1e-5 && (hi - 0.596_169).abs() < 1e-5);
        assert!(wilson(0, 10).0.abs() < 1e-12);
    }
}
