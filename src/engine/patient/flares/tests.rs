//! The flare kernel against the general loop: the same outcome, segments
//! and events for random eligible models and patients, and the same output
//! files for whole runs.

use proptest::prelude::*;

use super::super::{simulate as general_loop, EventLog, Outcome, Scratch, GENERAL_LOOP_ONLY};
use super::{applies, simulate as kernel};
use crate::engine::model_values::ReplicateModel;
use crate::scenario::Scenario;

/// A scenario whose only live part is the flare process (and frailty).
fn flares_only_toml(p: &Params) -> String {
    format!(
        "seed = {seed}
horizon_years = {horizon}
[natural_history]
flare_rate_per_year = {rate:?}
flare_duration_mean_weeks = {mean:?}
flare_duration_shape = {shape:?}
first_flare_duration_mean_weeks = {first_mean:?}
first_flare_duration_shape = {first_shape:?}
frailty_variance = {frailty:?}
pain_mean_vas = {pain:?}
pain_sd_vas = 0
resolution_median_years = inf
symptomatic_months_to_diagnosis_median = inf
p_early_diagnosis = 0
loss_to_follow_up_per_year = {ltfu:?}
p_abnormal_blood_count = 0.3
p_lesion_at_onset = 0
initial_extra_lesions_mean = 0
new_lesions_per_flare = 0
p_fever = 0
p_crp_raised = 0
p_ppp_at_onset = 0
p_psoriasis_at_onset = 0
p_acne_at_onset = 0
p_ibd_at_onset = 0
p_arthritis_at_onset = 0
ppp_per_year = 0
psoriasis_per_year = 0
acne_per_year = 0
ibd_per_year = 0
arthritis_per_year = 0
",
        seed = p.seed,
        horizon = p.horizon_years,
        rate = p.rate,
        mean = p.mean_weeks,
        shape = p.shape,
        first_mean = p.first_mean_weeks,
        first_shape = p.first_shape,
        frailty = p.frailty_variance,
        pain = p.pain,
        ltfu = p.ltfu,
    )
}

#[derive(Debug, Clone)]
struct Params {
    seed: u64,
    horizon_years: u32,
    rate: f64,
    mean_weeks: f64,
    shape: f64,
    first_mean_weeks: f64,
    first_shape: f64,
    frailty_variance: f64,
    pain: f64,
    ltfu: f64,
}

/// Gamma shapes: whole ones (drawn as sums of exponentials) and any other.
fn shape() -> impl Strategy<Value = f64> {
    prop_oneof![
        (1u32..=8).prop_map(f64::from),
        0.01f64..20.0,
        Just(ERLANG_PAST)
    ]
}

/// The first whole shape past the sums of exponentials (the general sampler).
const ERLANG_PAST: f64 = 9.0;

fn params() -> impl Strategy<Value = Params> {
    (
        (
            any::<u32>(),
            1u32..=40,
            0.05f64..52.0,
            0.01f64..60.0,
            shape(),
        ),
        (0.01f64..60.0, shape(), prop_oneof![Just(0.0), 0.0f64..10.0]),
        (0.0f64..10.0, prop_oneof![Just(0.0), 0.0f64..52.0]),
    )
        .prop_map(
            |(
                (seed, horizon_years, rate, mean_weeks, shape),
                (first_mean_weeks, first_shape, frailty_variance),
                (pain, ltfu),
            )| Params {
                seed: u64::from(seed),
                horizon_years,
                rate,
                mean_weeks,
                shape,
                first_mean_weeks,
                first_shape,
                frailty_variance,
                pain,
                ltfu,
            },
        )
}

fn model(text: &str) -> ReplicateModel {
    let s: Scenario = toml::from_str(text).unwrap();
    ReplicateModel::new(&s, &Default::default(), 0)
}

/// One patient's course as the general loop and the kernel run it: the
/// outcome, the segments and the events (each as text, which tells every
/// float apart, NaN and -0 included).
fn both(m: &ReplicateModel, patient: u64) -> [(String, String, String); 2] {
    let mut scratch = Scratch::default();
    let mut run = |via_kernel: bool| {
        let mut log = EventLog::default();
        let o: Outcome = if via_kernel {
            kernel(m, patient, &mut scratch, &mut log)
        } else {
            general_loop::<_, false>(m, patient, None, &mut scratch, &mut log)
        };
        (
            format!("{o:?}"),
            format!("{:?}", scratch.segments),
            format!("{:?}", log.0),
        )
    };
    [run(false), run(true)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every patient of every eligible model: the kernel's course is the
    /// general loop's, to the bit.
    #[test]
    fn the_kernel_runs_the_general_loops_course(p in params(), first in 0u64..1_000_000) {
        let m = model(&flares_only_toml(&p));
        prop_assert!(applies(&m));
        for patient in first..first + 20 {
            let [general, kernel] = both(&m, patient);
            prop_assert_eq!(&general.0, &kernel.0, "outcome of patient {}", patient);
            prop_assert_eq!(&general.1, &kernel.1, "segments of patient {}", patient);
            prop_assert_eq!(&general.2, &kernel.2, "events of patient {}", patient);
        }
    }
}

/// A patient past the event cap stops where the general loop stops, with
/// the same limit.
#[test]
fn the_kernel_stops_at_the_event_cap_as_the_general_loop_does() {
    let p = Params {
        seed: 7,
        horizon_years: 10,
        rate: 52.0,
        mean_weeks: 0.01,
        shape: 1.0,
        first_mean_weeks: 0.01,
        first_shape: 2.0,
        frailty_variance: 0.0,
        pain: 6.0,
        ltfu: 0.0,
    };
    let mut m = model(&flares_only_toml(&p));
    // Far past any horizon a scenario may have: about 10^6 flares.
    m.horizon_days = 1e7;
    for patient in 0..3 {
        let [general, kernel] = both(&m, patient);
        assert!(general.0.contains("limit: Some(Events)"), "{}", general.0);
        assert_eq!(general, kernel, "patient {patient}");
    }
}

/// What the kernel leaves to the general loop: any part besides the
/// flare process that a genotype of the cohort has.
#[test]
fn the_kernel_applies_only_to_the_flare_process() {
    let base = Params {
        seed: 1,
        horizon_years: 10,
        rate: 2.0,
        mean_weeks: 4.0,
        shape: 1.0,
        first_mean_weeks: 4.0,
        first_shape: 1.0,
        frailty_variance: 0.5,
        pain: 6.0,
        ltfu: 0.1,
    };
    let text = flares_only_toml(&base);
    assert!(applies(&model(&text)));
    for (field, live) in [
        ("p_lesion_at_onset = 0", "p_lesion_at_onset = 0.5"),
        ("new_lesions_per_flare = 0", "new_lesions_per_flare = 0.1"),
        ("pain_sd_vas = 0", "pain_sd_vas = 1"),
        ("p_fever = 0", "p_fever = 0.2"),
        ("p_crp_raised = 0", "p_crp_raised = 0.2"),
        (
            "resolution_median_years = inf",
            "resolution_median_years = 3",
        ),
        (
            "symptomatic_months_to_diagnosis_median = inf",
            "symptomatic_months_to_diagnosis_median = 10",
        ),
        ("p_early_diagnosis = 0", "p_early_diagnosis = 0.1"),
        ("p_ibd_at_onset = 0", "p_ibd_at_onset = 0.1"),
        ("acne_per_year = 0", "acne_per_year = 0.1"),
    ] {
        assert!(text.contains(field), "{field}");
        let m = model(&text.replace(field, live));
        assert!(!applies(&m), "{live}");
    }
    // Majeed patients have fever and lesions by default.
    let majeed = model(&format!("{text}[cohort]\nmajeed_frac = 0.1\n"));
    assert!(!applies(&majeed));
    assert!(!applies(&model("")), "the default model");
}

/// Output files of a whole run of `text`, with the kernel or without.
fn run_files(text: &str, general_loop_only: bool) -> Vec<String> {
    use crate::engine::cohort::NoRows;
    use crate::output::tables;
    let study =
        crate::study::Study::resolve(crate::scenario::parse(text, "kernel.toml").unwrap()).unwrap();
    GENERAL_LOOP_ONLY.store(general_loop_only, std::sync::atomic::Ordering::Relaxed);
    let res = study.run(&mut NoRows, &|_| {});
    GENERAL_LOOP_ONLY.store(false, std::sync::atomic::Ordering::Relaxed);
    let res = res.unwrap();
    vec![
        tables::summary_csv(&res).unwrap(),
        tables::metrics_csv(&res).unwrap(),
        tables::timeseries_csv(&res, &study.drug_names()).unwrap(),
        tables::timeseries_from_diagnosis_csv(&res).unwrap(),
        tables::km_csv(&res).unwrap(),
    ]
}

/// The shipped two-state scenario, and one with frailty, gamma durations
/// and two replicates: every output file is byte-identical whether the
/// patients run on the kernel or on the general loop.
#[test]
fn whole_runs_are_byte_identical_without_the_kernel() {
    let two_state = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/two-state.toml"
    ))
    .unwrap()
    .replace("patients = 200000", "patients = 3000");
    let varied = "patients = 2500\nreplicates = 2\n".to_string()
        + &flares_only_toml(&Params {
            seed: 11,
            horizon_years: 7,
            rate: 3.0,
            mean_weeks: 6.0,
            shape: 2.5,
            first_mean_weeks: 10.0,
            first_shape: 2.0,
            frailty_variance: 0.8,
            pain: 5.5,
            ltfu: 0.05,
        });
    for text in [two_state, varied] {
        assert!(applies(&model(&text)));
        let with = run_files(&text, false);
        let without = run_files(&text, true);
        for (a, b) in with.iter().zip(&without) {
            assert_eq!(a, b);
        }
    }
}
