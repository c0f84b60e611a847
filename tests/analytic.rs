//! Statistical checks of the simulator against values worked out by hand.
//!
//! Every expected value here comes from a formula (stated next to it), never
//! from an earlier run of the program. Each check uses a fixed seed and the
//! tolerance `|estimate - expected| < 4 * se`, where `se` is the Monte Carlo
//! standard error of the estimate; for a normal estimate the false-alarm rate
//! of one such comparison is P(|Z| > 4) = 6.3e-5, so the 15 comparisons in
//! this file together would fail by chance with probability about 8e-4 if
//! the seeds were changed (at the pinned seeds the outcome is deterministic).
//!
//! Cohorts are modest so the file runs in a few seconds in a debug build;
//! patients are simulated in parallel, in patient order, directly through the
//! library.

use crmo_sim::engine::accum::SurvivalCounts;
use crmo_sim::engine::cohort::NoRows;
use crmo_sim::engine::model_values::DAYS_PER_YEAR;
use crmo_sim::engine::patient::{simulate_patient, Discard, EventKind, EventLog, Outcome, Scratch};
use crmo_sim::results::km::{kaplan_meier, km_median};
use crmo_sim::results::CohortResult;
use crmo_sim::scenario::parse;
use crmo_sim::study::Study;
use rayon::prelude::*;

/// Tolerance in standard errors (two-sided false-alarm rate 6.3e-5 each).
const Z: f64 = 4.0;

/// Asserts `|estimate - expected| < Z * se`, printing the numbers first.
fn assert_close(what: &str, estimate: f64, expected: f64, se: f64) {
    let z = (estimate - expected) / se;
    println!("{what}: estimate {estimate:.6}, expected {expected:.6}, se {se:.6}, z {z:+.2}");
    assert!(
        se.is_finite() && se > 0.0,
        "{what}: bad standard error {se}"
    );
    assert!(
        z.abs() < Z,
        "{what}: estimate {estimate} differs from the analytic value {expected} by {z:.2} standard errors (se {se})"
    );
}

/// A scenario in which the activity process is a two-state Markov chain:
/// no frailty, no resolution, no loss to follow-up, exponential flares.
fn markov_scenario(
    seed: u64,
    patients: u64,
    rate_per_year: f64,
    flare_weeks: f64,
    horizon_years: f64,
) -> String {
    format!(
        "seed = {seed}
patients = {patients}
horizon_years = {horizon_years}
[natural_history]
flare_rate_per_year = {rate_per_year}
flare_duration_mean_weeks = {flare_weeks}
flare_duration_shape = 1
first_flare_duration_mean_weeks = {flare_weeks}
first_flare_duration_shape = 1
frailty_variance = 0
resolution_median_years = inf
loss_to_follow_up_per_year = 0
"
    )
}

/// Simulates patients `0..n` of replicate 0 without treatment, in parallel,
/// returned in patient order.
fn simulate(text: &str, n: u64) -> Vec<Outcome> {
    let study = Study::resolve(parse(text, "test.toml").expect("test scenario is valid")).unwrap();
    let model = study.replicate_model(0);
    (0..n)
        .into_par_iter()
        .map_init(Scratch::default, |scratch, p| {
            simulate_patient(&model, p, None, scratch, &mut Discard)
        })
        .collect()
}

/// Like [`simulate`], also keeping every patient's events.
fn simulate_logged(text: &str, n: u64) -> Vec<(Outcome, EventLog)> {
    let study = Study::resolve(parse(text, "test.toml").expect("test scenario is valid")).unwrap();
    let model = study.replicate_model(0);
    (0..n)
        .into_par_iter()
        .map_init(Scratch::default, |scratch, p| {
            let mut log = EventLog::default();
            let o = simulate_patient(&model, p, None, scratch, &mut log);
            (o, log)
        })
        .collect()
}

/// Sample mean and its standard error.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// The two-state Markov chain flare (rate `a` = 1/mean flare) <-> remission
/// (rate `b` = flare hazard), started in a flare at day 0, over `h` days.
struct Markov {
    a: f64,
    b: f64,
    h: f64,
}

impl Markov {
    fn new(rate_per_year: f64, flare_weeks: f64, horizon_years: f64) -> Self {
        Markov {
            a: 1.0 / (flare_weeks * 7.0),
            b: rate_per_year / DAYS_PER_YEAR,
            h: horizon_years * DAYS_PER_YEAR,
        }
    }

    /// Stationary share of time in flare, pi = b / (a + b)
    /// = mean_flare / (mean_flare + 1 / rate).
    fn pi(&self) -> f64 {
        self.b / (self.a + self.b)
    }

    /// P(flare at t | flare at 0) = pi + (1 - pi) e^{-(a+b) t}; its average
    /// over [0, H] is pi + (1 - pi) (1 - e^{-(a+b)H}) / ((a+b) H).
    fn expected_flare_fraction(&self) -> f64 {
        let (s, pi) = (self.a + self.b, self.pi());
        pi + (1.0 - pi) * (1.0 - (-s * self.h).exp()) / (s * self.h)
    }

    /// Flares start (after the one at onset) with rate b while in remission:
    /// E[N(H)] = 1 + b * integral_0^H P(remission at t) dt, with
    /// P(remission at t) = (1 - pi)(1 - e^{-(a+b)t}), so
    /// E[N(H)] = 1 + b (1 - pi) (H - (1 - e^{-(a+b)H}) / (a+b)).
    fn expected_flares(&self) -> f64 {
        let (s, pi) = (self.a + self.b, self.pi());
        1.0 + self.b * (1.0 - pi) * (self.h - (1.0 - (-s * self.h).exp()) / s)
    }
}

fn run(text: &str) -> CohortResult {
    let loaded = parse(text, "test.toml").expect("test scenario is valid");
    let study = Study::resolve(loaded).expect("study resolves");
    study.run(&mut NoRows, &|_| {}).expect("cohort runs")
}

/// (estimate, standard error) of a metric of the first arm, first replicate.
fn metric(res: &CohortResult, name: &str) -> (f64, f64) {
    let m = res
        .metrics
        .iter()
        .position(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"));
    let s = &res.replicates[0].arms[0].stats[m];
    (s.estimate(), s.std_error())
}

/// (a) and (b) through the cohort runner: rate 1.5/year, flares of mean 10
/// weeks, 10 years. pi = 70 / (70 + 243.5) = 0.2233; the finite-horizon
/// average adds (1 - pi) / ((a+b) H) = 0.0116 because every patient starts in a flare.
#[test]
fn markov_time_in_flare_and_flare_count_through_the_cohort_runner() {
    let (rate, weeks, years) = (1.5, 10.0, 10.0);
    let res = run(&markov_scenario(1, 8000, rate, weeks, years));
    assert_eq!(res.patients, 8000);
    let m = Markov::new(rate, weeks, years);

    // Every patient is observed for exactly H days (no loss to follow-up), so
    // the ratio estimator sum(flare days) / sum(observed days) is the mean of
    // the per-patient fractions and its delta-method se is the usual one.
    let (y, _) = metric(&res, "observed_years_per_patient");
    assert!((y - years).abs() < 1e-5, "observed years {y}");
    let (frac, se) = metric(&res, "time_in_flare_frac");
    assert_close(
        "time in flare, cohort",
        frac,
        m.expected_flare_fraction(),
        se,
    );
    // The long-run value alone would be wrong by ~0.0116 = many se: the
    // check can tell the start-in-flare transient apart.
    assert!((frac - m.pi()).abs() > Z * se);

    let (flares, se) = metric(&res, "flares_per_patient");
    assert_close(
        "flares per patient, cohort",
        flares,
        m.expected_flares(),
        se,
    );
}

/// (a) and (b) again with other rates, simulating patients directly: rate
/// 6/year, flares of mean 4 weeks, 3 years (pi = 0.315, (a+b) H = 57).
#[test]
fn markov_time_in_flare_and_flare_count_direct() {
    let (rate, weeks, years) = (6.0, 4.0, 3.0);
    let outcomes = simulate(&markov_scenario(2, 6000, rate, weeks, years), 6000);
    let m = Markov::new(rate, weeks, years);
    for o in &outcomes {
        assert_eq!(o.observed_days, m.h);
        assert!(o.lost_day.is_none() && o.resolved_day.is_none());
    }
    assert_markov_course(&outcomes, &m, "direct");
}

/// The shipped benchmark scenario (`scenarios/two-state.toml`, the model of
/// `scripts/bench-peers.sh`) is the two-state chain it says it is: rate
/// 2/year, flares of mean 30 days (also the first), 10 years. pi = 30 /
/// (30 + 182.6) = 0.1411, plus the start-in-flare transient 0.0019.
#[test]
fn shipped_two_state_scenario_is_the_markov_chain() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/two-state.toml");
    let text = std::fs::read_to_string(path).expect("scenarios/two-state.toml");
    let outcomes = simulate(&text, 20_000);
    let m = Markov::new(2.0, 30.0 / 7.0, 10.0);
    assert_markov_course(&outcomes, &m, "two-state.toml");
}

/// Time in flare and flares per patient of patients each observed for the
/// whole horizon, against the chain `m` (per-patient means and their se).
fn assert_markov_course(outcomes: &[Outcome], m: &Markov, source: &str) {
    let fracs: Vec<f64> = outcomes.iter().map(|o| o.flare_days / m.h).collect();
    let (frac, se) = mean_se(&fracs);
    assert_close(
        &format!("time in flare, {source}"),
        frac,
        m.expected_flare_fraction(),
        se,
    );
    let counts: Vec<f64> = outcomes.iter().map(|o| f64::from(o.flares)).collect();
    let (flares, se) = mean_se(&counts);
    assert_close(
        &format!("flares per patient, {source}"),
        flares,
        m.expected_flares(),
        se,
    );
}

/// Central moments of a negative binomial with mean `mu` and size `r`
/// (a Poisson with gamma(shape r, mean 1) mixing, i.e. frailty variance
/// theta = 1/r). With P = mu / r its cumulants are
/// k2 = mu (1 + P), k4 = mu (1 + P)(1 + 6P + 6P^2), and mu4 = k4 + 3 k2^2.
/// theta = 0 (r = inf) is the Poisson: k2 = k4 = mu.
fn mixed_poisson_moments(mu: f64, theta: f64) -> (f64, f64) {
    let p = mu * theta;
    let k2 = mu * (1.0 + p);
    let k4 = mu * (1.0 + p) * (1.0 + 6.0 * p + 6.0 * p * p);
    (k2, k4 + 3.0 * k2 * k2)
}

/// (c) With flares almost instantaneous (0.001 weeks = 0.007 days), the
/// flares after onset form a Poisson process of rate `rate * z` over the
/// horizon, so N - 1 is mixed Poisson with mean m = rate * H and
/// Var(N) = m + theta m^2 (gamma frailty of variance theta).
///
/// The standard error of the sample variance s^2 of n counts is
/// sqrt(mu4 / n - sigma^4 (n - 3) / (n (n - 1))), with the fourth central
/// moment mu4 from [`mixed_poisson_moments`]. The time spent in flares
/// (~16 x 0.007 days of 3652.5) shortens the exposure by 3e-5 relative,
/// far below the tolerance.
#[test]
fn frailty_adds_theta_m_squared_to_the_variance_of_flare_counts() {
    let (rate, years) = (1.5, 10.0);
    let m = rate * years;
    for (seed, theta, n) in [(3u64, 0.5, 16_000u64), (4, 0.0, 6_000)] {
        let text = format!(
            "seed = {seed}
horizon_years = {years}
[natural_history]
flare_rate_per_year = {rate}
flare_duration_mean_weeks = 0.001
flare_duration_shape = 1
first_flare_duration_mean_weeks = 0.001
first_flare_duration_shape = 1
frailty_variance = {theta}
resolution_median_years = inf
loss_to_follow_up_per_year = 0
initial_extra_lesions_mean = 0
"
        );
        let counts: Vec<f64> = simulate(&text, n)
            .iter()
            .map(|o| f64::from(o.flares))
            .collect();
        let nf = n as f64;
        let (mean, mean_se_) = mean_se(&counts);
        let s2 = counts.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (nf - 1.0);
        let (var, mu4) = mixed_poisson_moments(m, theta);
        assert!((var - (m + theta * m * m)).abs() < 1e-9);
        let se_s2 = (mu4 / nf - var * var * (nf - 3.0) / (nf * (nf - 1.0))).sqrt();
        assert_close(&format!("flares, theta {theta}"), mean, 1.0 + m, mean_se_);
        assert_close(&format!("Var(flares), theta {theta}"), s2, var, se_s2);
        if theta > 0.0 {
            // Without the theta m^2 term the variance would be m = 15, not 127.5.
            assert!((s2 - m).abs() > 20.0 * se_s2);
        }
    }
}

/// Checks the analytic fourth moment used above against a direct sum over
/// the negative binomial probabilities (a check of the formula, not the program).
#[test]
fn negative_binomial_fourth_moment_formula() {
    let (mu, theta) = (15.0f64, 0.5f64);
    let r = 1.0 / theta;
    let q = mu / (r + mu); // P(X = k) = C(k + r - 1, k) (1 - q)^r q^k
    let mut pk = (1.0 - q).powf(r);
    let (mut m1, mut m2, mut m4) = (0.0, 0.0, 0.0);
    let mut probs = Vec::new();
    for k in 0..5000 {
        probs.push(pk);
        pk *= (k as f64 + r) / (k as f64 + 1.0) * q;
    }
    for (k, p) in probs.iter().enumerate() {
        m1 += k as f64 * p;
    }
    for (k, p) in probs.iter().enumerate() {
        let d = k as f64 - m1;
        m2 += d * d * p;
        m4 += d.powi(4) * p;
    }
    let (var, mu4) = mixed_poisson_moments(mu, theta);
    assert!((m1 - mu).abs() < 1e-9, "{m1}");
    assert!((m2 - var).abs() < 1e-6, "{m2} vs {var}");
    assert!((m4 - mu4).abs() / mu4 < 1e-9, "{m4} vs {mu4}");
}

/// (d) Without frailty or treatment, each flare after onset brings
/// Poisson(nu) new lesions (nu = `new_lesions_per_flare`), independently of
/// when flares happen. Checked per flare from the event log: the mean count
/// is nu, the share of flares with none is e^{-nu}, the variance is nu
/// (se of a Poisson sample variance: sqrt((nu + 2 nu^2) / K)). A flare
/// without a new *symptomatic* lesion (probability e^{-nu (1 - p_silent_new)},
/// by Poisson thinning) reactivates an old lesion, which does not count as new.
#[test]
fn new_lesions_per_flare_are_poisson() {
    let (nu, p_silent) = (0.8, 0.3);
    let text = format!(
        "seed = 5
horizon_years = 5
[natural_history]
flare_rate_per_year = 6
flare_duration_mean_weeks = 1
first_flare_duration_mean_weeks = 1
frailty_variance = 0
resolution_median_years = inf
loss_to_follow_up_per_year = 0
new_lesions_per_flare = {nu}
p_silent_new = {p_silent}
"
    );
    let patients = simulate_logged(&text, 2000);
    // Per flare after onset: (new lesions, new symptomatic lesions, reactivations).
    let mut per_flare: Vec<(u32, u32, u32)> = Vec::new();
    for (o, log) in &patients {
        let mut new_after_onset = 0;
        let events = &log.0;
        for (i, (day, kind)) in events.iter().enumerate() {
            if *day > 0.0 && matches!(kind, EventKind::LesionNew { .. }) {
                new_after_onset += 1;
            }
            if !(matches!(kind, EventKind::FlareStart { .. }) && *day > 0.0) {
                continue;
            }
            let (mut new, mut symptomatic, mut reactivated) = (0, 0, 0);
            for (d, k) in events[..i].iter().rev().take_while(|(d, _)| d == day) {
                assert_eq!(d, day);
                match k {
                    EventKind::LesionNew { symptomatic: s, .. } => {
                        new += 1;
                        symptomatic += u32::from(*s);
                    }
                    EventKind::LesionReactivated { .. } => reactivated += 1,
                    _ => {}
                }
            }
            per_flare.push((new, symptomatic, reactivated));
        }
        assert_eq!(o.new_lesions, new_after_onset, "patient {}", o.patient);
        assert_eq!(o.flares as usize, events_of_flare_start(log));
    }
    let k = per_flare.len() as f64;
    assert!(k > 40_000.0, "only {k} flares");
    let total_new: u32 = per_flare.iter().map(|f| f.0).sum();
    let total_outcome: u32 = patients.iter().map(|(o, _)| o.new_lesions).sum();
    assert_eq!(total_new, total_outcome);

    let counts: Vec<f64> = per_flare.iter().map(|f| f64::from(f.0)).collect();
    let mean = counts.iter().sum::<f64>() / k;
    assert_close("new lesions per flare", mean, nu, (nu / k).sqrt());
    let s2 = counts.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (k - 1.0);
    assert_close(
        "variance of new lesions per flare",
        s2,
        nu,
        ((nu + 2.0 * nu * nu) / k).sqrt(),
    );
    let p0 = (-nu).exp();
    let zero = per_flare.iter().filter(|f| f.0 == 0).count() as f64 / k;
    assert_close(
        "flares without new lesions",
        zero,
        p0,
        (p0 * (1.0 - p0) / k).sqrt(),
    );

    let p_react = (-nu * (1.0 - p_silent)).exp();
    for f in &per_flare {
        // Exactly one old lesion flares up when no new painful lesion appears.
        assert_eq!(f.2, u32::from(f.1 == 0), "flare {f:?}");
    }
    let react = per_flare.iter().filter(|f| f.2 == 1).count() as f64 / k;
    assert_close(
        "flares carried by a reactivated lesion",
        react,
        p_react,
        (p_react * (1.0 - p_react) / k).sqrt(),
    );
}

fn events_of_flare_start(log: &EventLog) -> usize {
    log.0
        .iter()
        .filter(|(_, k)| matches!(k, EventKind::FlareStart { .. }))
        .count()
}

/// (d) through the cohort runner: the `new_lesions_per_flare` metric (new
/// lesions over flares after the first) estimates nu, with its ratio se.
#[test]
fn new_lesions_per_flare_metric() {
    let nu = 0.5;
    let text = format!(
        "seed = 6
patients = 3000
horizon_years = 5
[natural_history]
flare_rate_per_year = 4
frailty_variance = 0
new_lesions_per_flare = {nu}
"
    );
    let res = run(&text);
    let (est, se) = metric(&res, "new_lesions_per_flare");
    assert_close("new_lesions_per_flare metric", est, nu, se);
}

/// (e) Kaplan–Meier and Greenwood, worked by hand.
///
/// Seven subjects: events on days 2, 2, 5, 8; censored on days 3, 5, 10
/// (on day 5 the event comes before the censoring).
///
/// | day | at risk n | events d | censored | S = prod(1 - d/n)   | Greenwood sum(d / (n (n - d))) |
/// |-----|-----------|----------|----------|---------------------|--------------------------------|
/// |  2  |     7     |    2     |    0     | 5/7     = 0.714286  | 2/35              = 0.057143   |
/// |  3  |     5     |    0     |    1     | 5/7                 | 2/35                           |
/// |  5  |     4     |    1     |    1     | 15/28   = 0.535714  | 2/35 + 1/12 = 59/420 = 0.140476|
/// |  8  |     2     |    1     |    0     | 15/56   = 0.267857  | 59/420 + 1/2 = 269/420 = 0.640476 |
/// | 10  |     1     |    0     |    1     | 15/56               | 269/420                        |
///
/// se = S sqrt(Greenwood): day 2: 0.170747, day 5: 0.200787, day 8: 0.214365.
/// Band S +- 1.96 se clipped to [0, 1]: day 2: [0.379622, 1 (1.048950 clipped)],
/// day 5: [0.142173, 0.929256], day 8: [0 (-0.152299 clipped), 0.688013].
/// Median: the first day with S <= 0.5 is day 8.
#[test]
fn kaplan_meier_and_greenwood_by_hand() {
    let mut c = SurvivalCounts::new(12);
    for day in [2.0, 2.7, 5.1, 8.0] {
        c.add(day, true);
    }
    for day in [3.2, 5.9, 10.4] {
        c.add(day, false);
    }
    let rows = kaplan_meier(&c);
    let s2 = 5.0 / 7.0;
    let s5 = 15.0 / 28.0;
    let s8 = 15.0 / 56.0;
    let se2 = s2 * (2.0f64 / 35.0).sqrt();
    let se5 = s5 * (59.0f64 / 420.0).sqrt();
    let se8 = s8 * (269.0f64 / 420.0).sqrt();
    // (day, at risk, events, censored, survival, se, lower, upper)
    let expected = [
        (2, 7, 2, 0, s2, se2, 0.379_621_703_672, 1.0),
        (3, 5, 0, 1, s2, se2, 0.379_621_703_672, 1.0),
        (5, 4, 1, 1, s5, se5, 0.142_172_674_191, 0.929_255_897_237),
        (8, 2, 1, 0, s8, se8, 0.0, 0.688_013_363_804),
        (10, 1, 0, 1, s8, se8, 0.0, 0.688_013_363_804),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
    for (r, e) in rows.iter().zip(expected) {
        assert_eq!(
            (r.day, r.at_risk, r.events, r.censored),
            (e.0, e.1, e.2, e.3),
            "{r:?}"
        );
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(r.survival, e.4), "survival {r:?} vs {e:?}");
        assert!(close(r.std_error, e.5), "se {r:?} vs {e:?}");
        assert!(close(r.lower_95, e.6), "lower {r:?} vs {e:?}");
        assert!(close(r.upper_95, e.7), "upper {r:?} vs {e:?}");
    }
    // The hand values of the table, to 6 decimals.
    assert!((se2 - 0.170_747).abs() < 1e-6);
    assert!((se5 - 0.200_787).abs() < 1e-6);
    assert!((se8 - 0.214_365).abs() < 1e-6);
    assert_eq!(km_median(&rows), Some(8.0));
}

/// Without censoring, Kaplan–Meier is the empirical survival function and
/// Greenwood's variance is the binomial one, S (1 - S) / n.
#[test]
fn kaplan_meier_without_censoring_is_empirical() {
    let mut c = SurvivalCounts::new(20);
    let days = [1.5, 3.0, 3.5, 4.0, 9.0, 9.9, 12.0, 15.0, 15.5, 19.0];
    for d in days {
        c.add(d, true);
    }
    let n = days.len() as f64;
    let mut gone = 0.0;
    for r in kaplan_meier(&c) {
        gone += r.events as f64;
        let s = 1.0 - gone / n;
        assert!((r.survival - s).abs() < 1e-12);
        if s > 0.0 {
            assert!((r.std_error - (s * (1.0 - s) / n).sqrt()).abs() < 1e-12);
        }
    }
    assert_eq!(gone, n);
}
