//! Property tests of single simulated patients: with random valid parameters
//! (natural history, and a treatment ladder for some cases), every patient's
//! course must be well formed.
//!
//! - events are in time order and within [0, horizon];
//! - flares alternate start/end from a flare at onset, so they never overlap;
//! - no flare starts after the disease resolved, nor after loss to follow-up;
//! - resolution never happens inside a running flare;
//! - after an adverse event the patient is given another drug at once,
//!   never one that failed, unless the arm says
//!   `on_adverse_event_at_top = "stop"` (or every drug of the table caused
//!   one or failed);
//! - the outcome agrees with the event log and the state segments (flare
//!   count, flare days, observed time, new lesions);
//! - the state segments tile [0, horizon] without gaps or overlaps;
//! - re-running a patient, with fresh or reused scratch buffers, gives the
//!   same outcome and events;
//! - every arm sees the same patient (common random numbers): baseline
//!   features and the course up to diagnosis do not depend on the arm.
//!
//! The number of cases is modest (48 by default; `PROPTEST_CASES` overrides it).

use crmo_sim::engine::cohort::Arm;
use crmo_sim::engine::model_values::{ReplicateModel, DAYS_PER_YEAR};
use crmo_sim::engine::patient::{
    simulate_patient, EventKind, EventLog, Outcome, Scratch, State, StopReason,
};
use crmo_sim::engine::treatment::TreatmentState;
use crmo_sim::scenario::parse;
use crmo_sim::study::Study;
use proptest::prelude::*;

/// Parameters of one generated scenario.
#[derive(Debug, Clone)]
struct Params {
    seed: u64,
    horizon_years: f64,
    flare_rate_per_year: f64,
    flare_duration_mean_weeks: f64,
    flare_duration_shape: f64,
    first_flare_duration_mean_weeks: f64,
    frailty_variance: f64,
    resolution_median_years: f64,
    resolution_sdlog: f64,
    new_lesions_per_flare: f64,
    p_silent_new: f64,
    loss_to_follow_up_per_year: f64,
    symptomatic_months_to_diagnosis_median: f64,
    p_vertebral_fracture_per_flare: f64,
    majeed_frac: f64,
    treated: bool,
    /// Adverse-event hazard of every ladder drug, per year (high values exercise the fallbacks).
    adverse_events_per_year: f64,
}

fn params() -> impl Strategy<Value = Params> {
    (
        (
            0u64..(i64::MAX as u64), // TOML integers are i64
            0.05f64..20.0,
            0.05f64..12.0,
            0.05f64..30.0,
            0.3f64..5.0,
            prop_oneof![Just(0.0), 0.01f64..2.0],
            prop_oneof![Just(f64::INFINITY), 0.1f64..15.0],
            0.0f64..1.5,
        ),
        (
            0.0f64..3.0,
            0.0f64..=1.0,
            0.0f64..0.5,
            0.5f64..48.0,
            0.0f64..0.3,
            prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0],
            any::<bool>(),
            0.05f64..120.0,
            0.0f64..20.0,
        ),
    )
        .prop_map(|(a, b)| Params {
            seed: a.0,
            // Drugs that could never act within the horizon are refused, so
            // treated scenarios run at least a year.
            horizon_years: if b.6 { 1.0 + a.1 } else { a.1 },
            flare_rate_per_year: a.2,
            flare_duration_mean_weeks: a.3,
            flare_duration_shape: a.4,
            first_flare_duration_mean_weeks: b.7,
            frailty_variance: a.5,
            resolution_median_years: a.6,
            resolution_sdlog: a.7,
            new_lesions_per_flare: b.0,
            p_silent_new: b.1,
            loss_to_follow_up_per_year: b.2,
            symptomatic_months_to_diagnosis_median: b.3,
            p_vertebral_fracture_per_flare: b.4,
            majeed_frac: b.5,
            treated: b.6,
            adverse_events_per_year: b.8,
        })
}

/// The scenario text of `p` (going through the parser, as users do).
fn scenario_text(p: &Params) -> String {
    let mut t = format!(
        "seed = {}
horizon_years = {:?}
[cohort]
majeed_frac = {:?}
[natural_history]
flare_rate_per_year = {:?}
flare_duration_mean_weeks = {:?}
flare_duration_shape = {:?}
first_flare_duration_mean_weeks = {:?}
first_flare_duration_shape = {:?}
frailty_variance = {:?}
resolution_median_years = {}
resolution_sdlog = {:?}
new_lesions_per_flare = {:?}
p_silent_new = {:?}
loss_to_follow_up_per_year = {:?}
symptomatic_months_to_diagnosis_median = {:?}
p_vertebral_fracture_per_flare = {:?}
",
        p.seed,
        p.horizon_years,
        p.majeed_frac,
        p.flare_rate_per_year,
        p.flare_duration_mean_weeks,
        p.flare_duration_shape,
        p.first_flare_duration_mean_weeks,
        p.flare_duration_shape,
        p.frailty_variance,
        if p.resolution_median_years.is_finite() {
            format!("{:?}", p.resolution_median_years)
        } else {
            "inf".to_string()
        },
        p.resolution_sdlog,
        p.new_lesions_per_flare,
        p.p_silent_new,
        p.loss_to_follow_up_per_year,
        p.symptomatic_months_to_diagnosis_median,
        p.p_vertebral_fracture_per_flare,
    );
    if p.treated {
        let ae = p.adverse_events_per_year;
        t += &format!(
            r#"
[drugs.nsaid]
adverse_event_per_year = {ae:?}
[drugs.methotrexate]
adverse_event_per_year = {ae:?}
[drugs.tnf_inhibitor]
adverse_event_per_year = {ae:?}

[[arm]]
name = "untreated"
untreated = true

[[arm]]
name = "ladder"
ladder = ["nsaid", "methotrexate", "tnf_inhibitor"]
assess_every_weeks = 8
min_weeks_on_step = 12
stop_after_remission_weeks = 26
escalate_when = "no_response"

[[arm]]
name = "ladder-stop"
ladder = ["nsaid", "methotrexate", "tnf_inhibitor"]
on_adverse_event_at_top = "stop"
"#
        );
    }
    t
}

/// One patient under one arm.
fn simulate(
    model: &ReplicateModel,
    arm: &Arm,
    patient: u64,
    scratch: &mut Scratch,
) -> (Outcome, EventLog) {
    let mut log = EventLog::default();
    let mut state = arm
        .plan
        .as_ref()
        .map(|plan| TreatmentState::new(plan, model, patient));
    let o = simulate_patient(model, patient, state.as_mut(), scratch, &mut log);
    (o, log)
}

/// Checks one patient's course; `scratch` holds its segments.
fn check_course(
    o: &Outcome,
    log: &EventLog,
    scratch: &Scratch,
    horizon: f64,
) -> Result<(), TestCaseError> {
    let ev = &log.0;
    prop_assert!(!ev.is_empty());
    prop_assert_eq!(ev[0], (0.0, EventKind::Onset));
    // Time order, within [0, horizon].
    for w in ev.windows(2) {
        prop_assert!(
            w[0].0 <= w[1].0,
            "events out of order: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
    for (day, kind) in ev {
        prop_assert!(
            (0.0..=horizon).contains(day),
            "{kind:?} at day {day} outside [0, {horizon}]"
        );
    }
    // Flares alternate start/end, starting at onset; none after resolution.
    let mut in_flare = false;
    let mut starts = 0;
    let mut flare_days = 0.0;
    let mut flare_start = 0.0;
    for (day, kind) in ev {
        match kind {
            EventKind::FlareStart { pain, .. } => {
                prop_assert!(!in_flare, "flare starts during a flare at day {day}");
                prop_assert!((1.0..=10.0).contains(pain));
                if starts == 0 {
                    prop_assert_eq!(*day, 0.0, "the first flare is at onset");
                }
                if let Some(r) = o.resolved_day {
                    prop_assert!(*day < r, "flare at day {day} after resolution at {r}");
                }
                in_flare = true;
                starts += 1;
                flare_start = *day;
            }
            EventKind::Resolution => {
                prop_assert!(!in_flare, "resolution inside a running flare at day {day}");
            }
            EventKind::FlareEnd => {
                prop_assert!(in_flare, "flare ends outside a flare at day {day}");
                in_flare = false;
                flare_days += day - flare_start;
            }
            _ => {}
        }
    }
    if in_flare {
        flare_days += o.observed_days - flare_start;
    }
    prop_assert_eq!(in_flare, o.active_at_end);
    prop_assert_eq!(starts, o.flares);
    prop_assert!((flare_days - o.flare_days).abs() <= 1e-6 * (1.0 + flare_days));
    prop_assert!(o.flare_days <= o.observed_days + 1e-9);

    // Observation ends at loss to follow-up (the last event) or the horizon.
    let last = ev.last().unwrap();
    match o.lost_day {
        Some(l) => {
            prop_assert_eq!(*last, (l, EventKind::LostToFollowUp));
            prop_assert_eq!(o.observed_days, l);
            prop_assert!(
                o.diagnosis.is_some_and(|d| d.day <= l),
                "lost before diagnosis"
            );
        }
        None => {
            prop_assert_eq!(*last, (horizon, EventKind::End));
            prop_assert_eq!(o.observed_days, horizon);
        }
    }
    let new_lesions = ev
        .iter()
        .filter(|(d, k)| *d > 0.0 && matches!(k, EventKind::LesionNew { .. }))
        .count();
    prop_assert_eq!(new_lesions, o.new_lesions as usize);
    if let Some(d) = o.diagnosis {
        prop_assert!(d.day <= o.observed_days);
    }

    // State segments tile [0, horizon]; flare segments sum to the flare days.
    let segs = &scratch.segments;
    prop_assert!(!segs.is_empty());
    prop_assert_eq!(segs[0].start_day, 0.0);
    prop_assert_eq!(segs.last().unwrap().end_day, horizon);
    for w in segs.windows(2) {
        prop_assert_eq!(w[0].end_day, w[1].start_day, "gap or overlap: {:?}", w);
    }
    let mut active = 0.0;
    for s in segs {
        prop_assert!(s.start_day < s.end_day, "empty segment {:?}", s);
        if s.state == State::Active {
            active += s.end_day - s.start_day;
        }
        if s.state == State::Lost {
            prop_assert_eq!(Some(s.start_day), o.lost_day);
        }
    }
    prop_assert!((active - o.flare_days).abs() <= 1e-6 * (1.0 + active));
    Ok(())
}

/// After an adverse event the patient is put on another drug at once (its
/// class switch, the next step, or on the last step the fallback), unless
/// the arm says `stop` or every drug of the table is ruled out: it caused an
/// adverse event or failed (no response seen, or left for lack of
/// response). A failed drug is never the one started.
fn check_adverse_event_fallback(
    log: &EventLog,
    stop_at_top: bool,
    table_drugs: usize,
) -> Result<(), TestCaseError> {
    let ev = &log.0;
    let mut ruled_out: Vec<u16> = Vec::new();
    let mut failed: Vec<u16> = Vec::new();
    let rule_out = |d: u16, list: &mut Vec<u16>| {
        if !list.contains(&d) {
            list.push(d);
        }
    };
    for (i, (day, kind)) in ev.iter().enumerate() {
        match kind {
            EventKind::DrugEffect {
                drug,
                responder: false,
            }
            | EventKind::DrugStop {
                drug,
                reason: StopReason::Escalation,
            } => {
                rule_out(*drug, &mut ruled_out);
                rule_out(*drug, &mut failed);
            }
            EventKind::DrugStop {
                drug,
                reason: StopReason::AdverseEvent,
            } => {
                rule_out(*drug, &mut ruled_out);
                let started: Vec<u16> = ev[i + 1..]
                    .iter()
                    .take_while(|(d, _)| d == day)
                    .filter_map(|(_, k)| match k {
                        EventKind::DrugStart { drug, .. } => Some(*drug),
                        _ => None,
                    })
                    .collect();
                // The top step holds the TNF inhibitor (2) or its switch (3).
                let top_stop = stop_at_top && *drug >= 2;
                let all_ruled_out = ruled_out.len() >= table_drugs;
                prop_assert!(
                    !started.is_empty() || top_stop || all_ruled_out,
                    "untreated after an adverse event of drug {drug} at day {day}: {ev:?}"
                );
                prop_assert!(
                    started.iter().all(|d| !failed.contains(d)),
                    "a failed drug after an adverse event at day {day}: {ev:?}"
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_course_is_well_formed(p in params(), patients in prop::collection::vec(0u64..1_000_000, 3)) {
        let loaded = parse(&scenario_text(&p), "prop.toml").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let study = Study::resolve(loaded).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let arms = study.arms();
        let model = study.replicate_model(0);
        let horizon = p.horizon_years * DAYS_PER_YEAR;
        prop_assert_eq!(model.horizon_days, horizon);
        let mut shared = Scratch::default();
        for &patient in &patients {
            let mut per_arm = Vec::new();
            for arm in arms {
                let (o, log) = simulate(&model, arm, patient, &mut shared);
                check_course(&o, &log, &shared, horizon)?;
                if arm.plan.is_some() {
                    check_adverse_event_fallback(&log, arm.name == "ladder-stop", 4)?;
                }
                // Re-running, with fresh buffers, gives the same patient.
                let mut fresh = Scratch::default();
                let (o2, log2) = simulate(&model, arm, patient, &mut fresh);
                prop_assert_eq!(format!("{o:?}"), format!("{o2:?}"));
                prop_assert_eq!(&log.0, &log2.0);
                prop_assert_eq!(&shared.segments, &fresh.segments);
                per_arm.push((o, log));
            }
            // Common random numbers: the same patient in every arm, with the
            // same course up to (and including) diagnosis.
            let (o0, log0) = &per_arm[0];
            for (o, log) in &per_arm[1..] {
                prop_assert_eq!(o.genotype, o0.genotype);
                prop_assert_eq!(o.female, o0.female);
                prop_assert_eq!(o.onset_age_years, o0.onset_age_years);
                prop_assert_eq!(o.frailty, o0.frailty);
                prop_assert_eq!(o.initial_lesions, o0.initial_lesions);
                prop_assert_eq!(o.conditions_at_onset, o0.conditions_at_onset);
                prop_assert_eq!(o.diagnosis.map(|d| d.day), o0.diagnosis.map(|d| d.day));
                let cut = o0.diagnosis.map_or(f64::INFINITY, |d| d.day);
                let before = |l: &EventLog| -> Vec<(f64, EventKind)> {
                    l.0.iter().copied().filter(|(d, _)| *d < cut).collect()
                };
                prop_assert_eq!(before(log), before(log0));
            }
        }
    }
}

/// Without treatment, a patient's course does not depend on the horizon up
/// to the shorter horizon (streams are per patient and purpose, not per step).
#[test]
fn a_longer_horizon_extends_the_same_course() {
    let text = |h: f64| format!("seed = 17\nhorizon_years = {h:?}\n");
    let short = parse(&text(3.0), "a.toml").unwrap();
    let long = parse(&text(9.0), "b.toml").unwrap();
    let (short, long) = (
        Study::resolve(short).unwrap(),
        Study::resolve(long).unwrap(),
    );
    let (ms, ml) = (short.replicate_model(0), long.replicate_model(0));
    let arms = short.arms();
    let cut = ms.horizon_days;
    let mut scratch = Scratch::default();
    for p in 0..200 {
        let (_, a) = simulate(&ms, &arms[0], p, &mut scratch);
        let (_, b) = simulate(&ml, &arms[0], p, &mut scratch);
        let upto = |l: &EventLog| -> Vec<(f64, EventKind)> {
            l.0.iter()
                .copied()
                .filter(|(d, k)| *d < cut && *k != EventKind::End)
                .collect()
        };
        assert_eq!(upto(&a), upto(&b), "patient {p}");
    }
}

/// A patient is diagnosed in a flare; the flare is carried by an active
/// lesion, so at least one lesion should be seen at diagnosis.
///
/// Known model bug (reported, not fixed here: src/ belongs to another
/// change): lesion stage clocks run independently of the flare, so a long
/// flare can outlast every lesion, and a patient diagnosed late in it has
/// `lesions_seen == 0` (55 of these 3000 patients with long, heavy-tailed
/// flares; 1.3% of diagnosed patients with the defaults). Run with `--ignored`.
#[test]
fn diagnosis_sees_at_least_one_lesion() {
    let text = "seed = 1
[natural_history]
flare_duration_mean_weeks = 25
flare_duration_shape = 0.3
first_flare_duration_mean_weeks = 25
first_flare_duration_shape = 0.3
symptomatic_months_to_diagnosis_median = 40
";
    let loaded = parse(text, "long-flares.toml").unwrap();
    let study = Study::resolve(loaded).unwrap();
    let model = study.replicate_model(0);
    let arms = study.arms();
    let mut scratch = Scratch::default();
    let mut bad = Vec::new();
    for p in 0..3000 {
        let (o, _) = simulate(&model, &arms[0], p, &mut scratch);
        if o.diagnosis.is_some_and(|d| d.findings.lesions_seen == 0) {
            bad.push(p);
        }
    }
    assert!(
        bad.is_empty(),
        "{} patients diagnosed with no lesion seen, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
}
