//! Probabilistic sensitivity analysis: `parameters.csv` holds the values
//! each replicate drew, with the distribution's quantiles; `replicates.csv`
//! holds each replicate's estimates; `check` prints replicate 0's draws.

use crate::util::{crmo, run_into, success, tempdir, write_scenario};

const MEDIAN: f64 = 1.5;
const SDLOG: f64 = 0.4;
const REPLICATES: usize = 2000;

fn scenario() -> String {
    format!(
        "name = \"psa\"\nseed = 5\npatients = 1\nhorizon_years = 1\nreplicates = {REPLICATES}\n\
         [natural_history]\nflare_rate_per_year = {{ dist = \"lognormal\", median = {MEDIAN}, sdlog = {SDLOG} }}\n\
         p_fever = {{ dist = \"beta\", alpha = 2, beta = 6 }}\n"
    )
}

/// Standard normal CDF from the complementary error function
/// (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
fn phi(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

/// The values of one parameter in `parameters.csv`, by replicate.
fn draws(csv: &[u8], parameter: &str) -> Vec<(usize, f64)> {
    let text = String::from_utf8_lossy(csv);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("replicate,parameter,value"));
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1] == parameter).then(|| (f[0].parse().unwrap(), f[2].parse().unwrap()))
        })
        .collect()
}

/// The empirical 2.5% and 97.5% quantiles of the lognormal draws sit where
/// the lognormal's CDF is 0.025 and 0.975, within 4 binomial standard
/// errors of the quantile's probability (sqrt(p(1-p)/n) = 0.0035 for
/// n = 2000; a false alarm about once in 16,000 runs).
#[test]
fn drawn_values_follow_their_distribution() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "psa.toml", scenario());
    let out = run_into(&[path.to_str().unwrap()], &tmp.path().join("out"), &[]);
    let rates = draws(
        &out["parameters.csv"],
        "natural_history.flare_rate_per_year",
    );
    assert_eq!(rates.len(), REPLICATES);
    assert!(rates.iter().enumerate().all(|(i, (r, _))| *r == i));
    let mut v: Vec<f64> = rates.iter().map(|r| r.1).collect();
    v.sort_by(f64::total_cmp);
    let cdf = |x: f64| phi((x.ln() - MEDIAN.ln()) / SDLOG);
    for p in [0.025, 0.975] {
        let h = (v.len() - 1) as f64 * p;
        let q = v[h.floor() as usize]
            + (h - h.floor()) * (v[h.ceil() as usize] - v[h.floor() as usize]);
        let se = (p * (1.0 - p) / v.len() as f64).sqrt();
        println!(
            "p {p}: empirical quantile {q:.4}, lognormal CDF there {:.4} (tolerance {:.4})",
            cdf(q),
            4.0 * se
        );
        assert!(
            (cdf(q) - p).abs() < 4.0 * se,
            "quantile {p}: F({q}) = {}",
            cdf(q)
        );
    }
    let fever = draws(&out["parameters.csv"], "natural_history.p_fever");
    assert_eq!(fever.len(), REPLICATES);
    // replicates.csv: every replicate, arm and metric once.
    let reps = String::from_utf8_lossy(&out["replicates.csv"]).into_owned();
    assert!(reps.starts_with("replicate,arm,metric,value\n"));
    let summary_rows = String::from_utf8_lossy(&out["summary.csv"]).lines().count() - 1;
    assert_eq!(reps.lines().count() - 1, REPLICATES * summary_rows);
}

/// `check` prints the value replicate 0 draws (the one `parameters.csv`
/// records for replicate 0) and the distribution it came from.
#[test]
fn check_prints_the_values_replicate_0_uses() {
    let tmp = tempdir();
    let text = scenario().replace("replicates = 2000", "replicates = 3");
    let path = write_scenario(tmp.path(), "psa.toml", text);
    let listing = success(crmo().arg("check").arg(&path)).stdout;
    let out = run_into(&[path.to_str().unwrap()], &tmp.path().join("out"), &[]);
    for parameter in [
        "natural_history.flare_rate_per_year",
        "natural_history.p_fever",
    ] {
        let all = draws(&out["parameters.csv"], parameter);
        let first = all[0].1;
        assert_ne!(first, all[1].1, "replicates draw their own values");
        let line = listing
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{parameter} = ")))
            .unwrap_or_else(|| panic!("check does not list {parameter}:\n{listing}"));
        assert!(line.contains(&format!("= {first} ")), "{line} vs {first}");
        assert!(line.contains("drawn from"), "{line}");
    }
    assert!(listing.contains("lognormal"), "{listing}");
}
