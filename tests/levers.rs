//! Paired tests of the drug levers on the same virtual patients (common
//! random numbers): each lever does what it says and nothing else.
//!
//! - induction only (a drug that only shortens the symptomatic flare) does
//!   not add flares or relapses: the relief does not bring the next flare
//!   forward;
//! - maintenance only (a relapse hazard ratio while given) lowers the
//!   relapse hazard by that ratio while the drug is given and not after it
//!   is stopped;
//! - a lasting effect (`lasting_hazard_ratio` for `lasting_weeks`) holds
//!   after stopping, for its window only, and is absent without it.
//!
//! Hazards are estimated as flare starts per day at risk (out of a flare)
//! within a window; in the Markov configuration used here (no frailty, no
//! burnout, exponential flares, first flare like the others) the relapse
//! hazard is exactly the drug's ratio times the untreated one. The log rate
//! ratio of two windows has standard error sqrt(1/N1 + 1/N2) (Poisson
//! counts); every check uses 4 standard errors (two-sided false-alarm rate
//! 6.3e-5 each, seeds fixed).

use crmo_sim::engine::cohort::{Arm, NoRows};
use crmo_sim::engine::model_values::ReplicateModel;
use crmo_sim::engine::patient::{EventKind, EventLog, Outcome, Scratch};
use crmo_sim::scenario::parse;
use crmo_sim::study::Study;

const Z: f64 = 4.0;

fn simulate(model: &ReplicateModel, arm: &Arm, patient: u64) -> (Outcome, EventLog) {
    let mut log = EventLog::default();
    let o = arm.simulate(model, patient, &mut Scratch::default(), &mut log);
    (o, log)
}

/// Flare starts and days out of a flare within `[from, to)`.
fn starts_and_exposure(log: &EventLog, end: f64, from: f64, to: f64) -> (f64, f64) {
    let (mut starts, mut exposure) = (0.0, 0.0);
    let mut remission_since: Option<f64> = None;
    let mut add = |a: f64, b: f64| {
        let (a, b) = (a.max(from), b.min(to));
        if b > a {
            exposure += b - a;
        }
    };
    for (day, kind) in &log.0 {
        match kind {
            EventKind::FlareStart { .. } => {
                if let Some(s) = remission_since.take() {
                    add(s, *day);
                }
                if *day > 0.0 && (from..to).contains(day) {
                    starts += 1.0;
                }
            }
            EventKind::FlareEnd => remission_since = Some(*day),
            _ => {}
        }
    }
    if let Some(s) = remission_since {
        add(s, end);
    }
    (starts, exposure)
}

/// A two-state Markov course (see the module doc) with three arms.
const MARKOV: &str = r#"
seed = 515
patients = 2500
horizon_years = 8

[natural_history]
flare_rate_per_year = 3
flare_duration_mean_weeks = 8
flare_duration_shape = 1
first_flare_duration_mean_weeks = 8
first_flare_duration_shape = 1
frailty_variance = 0
resolution_median_years = inf
loss_to_follow_up_per_year = 0

[drugs.maintenance]
p_response = 1
onset_lag_weeks = 0
flare_hazard_ratio = 0.4
max_weeks = 104

[drugs.lasting]
p_response = 1
onset_lag_weeks = 0
flare_hazard_ratio = 0.4
max_weeks = 104
lasting_hazard_ratio = 0.5
lasting_weeks = 52

[[arm]]
name = "none"
untreated = true

[[arm]]
name = "maintenance"
ladder = ["maintenance"]
stop_after_remission_weeks = inf

[[arm]]
name = "lasting"
ladder = ["lasting"]
stop_after_remission_weeks = inf
"#;

/// Windows after diagnosis (days from diagnosis): on the drug, the year
/// after stopping, and the rest.
const ON: (f64, f64) = (0.0, 728.0);
const YEAR_AFTER: (f64, f64) = (728.0, 728.0 + 364.0);
const LATER: (f64, f64) = (728.0 + 364.0, f64::INFINITY);

/// Per arm and window: (flare starts, days at risk), summed over patients.
fn window_counts() -> Vec<[(f64, f64); 3]> {
    let study = Study::resolve(parse(MARKOV, "levers.toml").unwrap()).unwrap();
    let model = study.replicate_model(0);
    let arms = study.arms();
    let mut totals = vec![[(0.0, 0.0); 3]; arms.len()];
    for p in 0..study.scenario().patients {
        let runs: Vec<(Outcome, EventLog)> = arms.iter().map(|a| simulate(&model, a, p)).collect();
        let Some(dx) = runs[0].0.diagnosis.map(|d| d.day) else {
            continue;
        };
        for (a, (o, log)) in runs.iter().enumerate() {
            assert_eq!(
                o.diagnosis.map(|d| d.day),
                Some(dx),
                "common random numbers"
            );
            for (w, (from, to)) in [ON, YEAR_AFTER, LATER].into_iter().enumerate() {
                let (n, t) = starts_and_exposure(log, o.observed_days, dx + from, dx + to);
                totals[a][w].0 += n;
                totals[a][w].1 += t;
            }
        }
    }
    totals
}

/// Log rate ratio of arm `a` against arm 0 in window `w`, and its standard error.
fn log_ratio(t: &[[(f64, f64); 3]], a: usize, w: usize) -> (f64, f64) {
    let ((n1, t1), (n0, t0)) = (t[a][w], t[0][w]);
    assert!(n1 > 200.0 && n0 > 200.0, "too few flares: {n1}, {n0}");
    ((n1 / t1 / (n0 / t0)).ln(), (1.0 / n1 + 1.0 / n0).sqrt())
}

fn assert_ratio(what: &str, (lr, se): (f64, f64), expected: f64) {
    let z = (lr - expected.ln()) / se;
    println!(
        "{what}: rate ratio {:.3} (expected {expected}), z = {z:.2}",
        lr.exp()
    );
    assert!(z.abs() < Z, "{what}: rate ratio {} vs {expected}", lr.exp());
}

fn assert_not_ratio(what: &str, (lr, se): (f64, f64), excluded: f64) {
    let z = (lr - excluded.ln()) / se;
    assert!(
        z.abs() > Z,
        "{what}: rate ratio {} cannot be told from {excluded} (z = {z:.2})",
        lr.exp()
    );
}

#[test]
fn maintenance_acts_while_given_and_not_after_stopping() {
    let t = window_counts();
    // Arm 0 is untreated; ratios are against it.
    let (maintenance, lasting) = (1, 2);
    // On the drug: the relapse hazard is multiplied by 0.4.
    assert_ratio(
        "maintenance, on the drug",
        log_ratio(&t, maintenance, 0),
        0.4,
    );
    assert_ratio("lasting drug, on the drug", log_ratio(&t, lasting, 0), 0.4);
    // After stopping, without a lasting effect: the untreated hazard again.
    let after = log_ratio(&t, maintenance, 1);
    assert_ratio("maintenance, year after stopping", after, 1.0);
    assert_not_ratio("maintenance, year after stopping", after, 0.4);
    assert_ratio("maintenance, later", log_ratio(&t, maintenance, 2), 1.0);
    // A lasting effect holds for its window after stopping, then ends.
    let lasting_after = log_ratio(&t, lasting, 1);
    assert_ratio("lasting, year after stopping", lasting_after, 0.5);
    assert_not_ratio("lasting, year after stopping", lasting_after, 1.0);
    assert_ratio("lasting, later", log_ratio(&t, lasting, 2), 1.0);
}

/// A drug that only ends flares sooner (induction, every patient a
/// responder) on the reference natural history: the same flares start on
/// the same days, so flares and relapses do not rise, while time in flare
/// after diagnosis falls.
#[test]
fn induction_only_adds_no_flares_or_relapses() {
    let text = r#"
seed = 99
patients = 2000
horizon_years = 10

[drugs.relief]
p_response = 1
onset_lag_weeks = 0
flare_duration_factor = 0.3

[[arm]]
name = "none"
untreated = true

[[arm]]
name = "relief"
ladder = ["relief"]
stop_after_remission_weeks = inf
"#;
    let study = Study::resolve(parse(text, "relief.toml").unwrap()).unwrap();
    let model = study.replicate_model(0);
    let arms = study.arms();
    for p in 0..200 {
        let starts = |log: &EventLog| -> Vec<f64> {
            log.0
                .iter()
                .filter(|(_, k)| matches!(k, EventKind::FlareStart { .. }))
                .map(|e| e.0)
                .collect()
        };
        let (_, a) = simulate(&model, &arms[0], p);
        let (_, b) = simulate(&model, &arms[1], p);
        // The same days up to rounding (the hazard budget is spent in more
        // pieces when the drug adds events).
        let (a, b) = (starts(&a), starts(&b));
        assert_eq!(a.len(), b.len(), "patient {p}: {a:?} vs {b:?}");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "patient {p}: flare at {x} vs {y}");
        }
    }
    let res = study.run(&mut NoRows, &|_| {}).unwrap();
    let diffs = res.differences();
    let diff = |m: &str| {
        diffs
            .iter()
            .find(|d| d.arm == "relief" && d.metric == m)
            .unwrap_or_else(|| panic!("no difference row {m}"))
            .clone()
    };
    for m in ["flares_per_patient", "ever_relapsed_after_diagnosis_frac"] {
        let d = diff(m);
        println!(
            "{m}: paired difference {} [{}, {}]",
            d.mean_difference, d.lower_95, d.upper_95
        );
        assert!(d.lower_95 <= 0.0, "{m}: induction alone raised it: {d:?}");
    }
    let d = diff("time_in_flare_after_diagnosis_frac");
    println!("time in flare after diagnosis: {d:?}");
    assert!(d.upper_95 < 0.0, "the drug must act: {d:?}");
}
