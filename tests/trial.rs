//! Virtual trials, statistically: the type I error of the log-rank and
//! chi-square tests under two identical arms, and the simulated power of a
//! binary endpoint against the normal-approximation power computed from
//! the simulated group means. Fixed seeds; tolerances from the Monte Carlo
//! standard error of a rejection rate, `sqrt(p (1 - p) / trials)`.

use crmo_sim::study::Study;
use crmo_sim::trial::design::{Overrides, TrialDesign};
use crmo_sim::trial::results::{power_rows, PowerRow};
use crmo_sim::trial::run_design;
use statrs::distribution::{ContinuousCDF, Normal};

/// Two arms with the same ladder: every difference between them is chance.
const IDENTICAL_ARMS: &str = r#"
name = "identical-arms"
seed = 2024
horizon_years = 5

[[arm]]
name = "usual-a"
ladder = ["nsaid", "pamidronate", "tnf_inhibitor"]

[[arm]]
name = "usual-b"
ladder = ["nsaid", "pamidronate", "tnf_inhibitor"]
"#;

/// NSAID only against a TNF inhibitor from diagnosis; nobody is lost to
/// follow-up, so every enrolled patient is analysed (the normal
/// approximation below takes `per_arm` patients per group).
const NSAID_VS_TNF: &str = r#"
name = "nsaid-vs-tnf"
seed = 77
horizon_years = 5

[natural_history]
loss_to_follow_up_per_year = 0

[[arm]]
name = "nsaid-only"
ladder = ["nsaid"]

[[arm]]
name = "early-tnf"
ladder = ["tnf_inhibitor"]
"#;

fn study(text: &str) -> Study {
    let loaded = crmo_sim::scenario::parse(text, "test.toml").expect("scenario parses");
    crmo_sim::trial::design::trial_study(loaded, &Overrides::default()).expect("scenario resolves")
}

fn power(text: &str, flags: Overrides) -> Vec<PowerRow> {
    let study = study(text);
    let design = TrialDesign::resolve(&study, &flags).expect("design resolves");
    let run = run_design(&study, &design, &|_| {}).expect("trials run");
    power_rows(&run.design, &run.arms, &run.records)
}

fn flags(endpoint: &str, per_arm: &[u64], trials: u64) -> Overrides {
    Overrides {
        per_arm: Some(per_arm.to_vec()),
        trials: Some(trials),
        endpoint: Some(endpoint.into()),
        ..Overrides::default()
    }
}

/// Three Monte Carlo standard errors of a rejection rate of 0.05 over
/// 2,000 trials (0.0146): a correct test falls outside 0.05 ± this with
/// probability about 0.003.
fn three_se_2000() -> f64 {
    3.0 * (0.05f64 * 0.95 / 2000.0).sqrt()
}

#[test]
fn log_rank_keeps_its_level_under_identical_arms() {
    let rows = power(IDENTICAL_ARMS, flags("time_to_relapse", &[40], 2000));
    let r = &rows[0];
    assert_eq!((r.test.as_str(), r.trials), ("log_rank", 2000));
    let tol = three_se_2000();
    println!("log-rank rejection rate {} (0.05 ± {tol})", r.power);
    assert!((r.power - 0.05).abs() <= tol, "rejection rate {}", r.power);
}

#[test]
fn chi_square_keeps_its_level_under_identical_arms() {
    let rows = power(IDENTICAL_ARMS, flags("pedcno50_12_months", &[40], 2000));
    let r = &rows[0];
    assert_eq!(r.test, "pearson_chi_square");
    let tol = three_se_2000();
    println!(
        "chi-square rejection rate {} (at most 0.05 + {tol})",
        r.power
    );
    assert!(r.power <= 0.05 + tol, "rejection rate {}", r.power);
    // Not a test that never rejects: a level test rejects about 5%.
    assert!(r.power >= 0.05 - tol, "rejection rate {}", r.power);
}

/// The normal-approximation power of the two-sided two-proportion z-test
/// with `n` per group: `Phi((|d| sqrt(n) - z sqrt(2 p q)) / sqrt(p0 q0 + p1 q1))`
/// plus the (negligible) opposite tail, with `p` the mean of p0 and p1.
fn normal_power(p0: f64, p1: f64, n: f64, alpha: f64) -> f64 {
    let phi = Normal::new(0.0, 1.0).expect("standard normal");
    let z = phi.inverse_cdf(1.0 - alpha / 2.0);
    let p = (p0 + p1) / 2.0;
    let null_sd = (2.0 * p * (1.0 - p)).sqrt();
    let alt_sd = (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt();
    let d = (p1 - p0).abs() * n.sqrt();
    phi.cdf((d - z * null_sd) / alt_sd) + phi.cdf((-d - z * null_sd) / alt_sd)
}

#[test]
fn simulated_power_agrees_with_the_normal_approximation() {
    let rows = power(
        NSAID_VS_TNF,
        flags("pedcno50_12_months", &[20, 40, 80], 1000),
    );
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let (p0, p1) = (r.control_mean.unwrap(), r.arm_mean.unwrap());
        let theory = normal_power(p0, p1, r.per_arm as f64, 0.05);
        println!(
            "{} per arm: control {p0:.4}, arm {p1:.4}, simulated power {:.4}, normal approximation {theory:.4}",
            r.per_arm, r.power
        );
        // Monte Carlo SE at most 0.016 (1,000 trials); 0.05 allows about
        // three of them plus the approximation's own error.
        assert!(
            (r.power - theory).abs() <= 0.05,
            "{} per arm: simulated {} against {theory}",
            r.per_arm,
            r.power
        );
        assert!(r.power > 0.05, "the arms differ: power above the level");
    }
    // Power grows with the size.
    assert!(rows[0].power < rows[1].power && rows[1].power < rows[2].power);
}
