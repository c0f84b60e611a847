//! Unit tests of the strategy state machine.

use super::*;
use crate::engine::patient::EventLog;
use crate::scenario::treatment::DrugValues;
use crate::scenario::Scenario;

fn drug(name: &str, lag_weeks: f64, ae: f64, course_days: f64) -> DrugModel {
    DrugModel::new(
        name.into(),
        DrugValues {
            p_response: 1.0,
            p_response_majeed: 1.0,
            onset_lag_weeks: lag_weeks,
            flare_hazard_ratio: 0.5,
            flare_duration_factor: 0.5,
            lesion_factor: 0.5,
            heal_time_factor: 0.5,
            partial_effect: 0.0,
            adverse_event_per_year: ae,
            course_days,
            course_every_weeks: 12.0,
            max_courses: 2.0,
            max_weeks: 0.0,
            lasting_hazard_ratio: 1.0,
            lasting_weeks: 0.0,
            max_courses_per_year: 0.0,
        },
    )
}

fn plan(steps: Vec<Vec<u16>>) -> TreatmentPlan {
    TreatmentPlan {
        steps,
        assess_every_days: 28.0,
        min_days_on_step: 84.0,
        escalate_when: EscalateWhen::Active,
        remission_days: 84.0,
        stop_after_remission_days: 168.0,
        stop_after_remission_days_majeed: 168.0,
        adverse_event_at_top: Fallback::Previous,
        on_relapse: OnRelapse::Restart,
        at_top: AtTop::Continue,
        flare_visit_days: 14.0,
    }
}

struct Harness {
    model: ReplicateModel,
}

impl Harness {
    fn new(drugs: Vec<DrugModel>) -> Self {
        let s: Scenario = toml::from_str("").unwrap();
        let mut model = ReplicateModel::new(&s, &Default::default(), 0);
        model.drugs = drugs;
        Harness { model }
    }
}

/// Runs scheduled events up to `until`, returning the log.
fn run_until(
    t: &mut TreatmentState,
    until: f64,
    log: &mut EventLog,
    iv: &mut Intervals,
    in_flare: bool,
) {
    loop {
        let next = t.next_event_day();
        if next > until {
            break;
        }
        t.on(TreatmentTrigger::Scheduled, next, in_flare, log, iv);
    }
}

fn starts(log: &EventLog) -> Vec<(f64, u16)> {
    log.0
        .iter()
        .filter_map(|(d, k)| match k {
            EventKind::DrugStart { drug, .. } => Some((*d, *drug)),
            _ => None,
        })
        .collect()
}

#[test]
fn escalation_waits_for_the_minimum_time_on_step() {
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
    let p = plan(vec![vec![0], vec![1]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 100.0, true, &mut log, &mut iv);
    // Assessments at 128, 156 (< 84 days on step), 184 (= 84): escalate at 184.
    run_until(&mut t, 183.0, &mut log, &mut iv, true);
    assert_eq!(starts(&log), vec![(100.0, 0)]);
    run_until(&mut t, 184.0, &mut log, &mut iv, true);
    assert_eq!(starts(&log), vec![(100.0, 0), (184.0, 1)]);
    assert_eq!(iv, vec![(0, 100.0, 184.0)]);
    assert_eq!(t.outcome().steps_reached, 2);
}

#[test]
fn no_escalation_when_in_remission() {
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
    let p = plan(vec![vec![0], vec![1]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    t.on(TreatmentTrigger::FlareEnd, 10.0, false, &mut log, &mut iv);
    run_until(&mut t, 150.0, &mut log, &mut iv, false);
    assert_eq!(starts(&log).len(), 1);
}

#[test]
fn taper_after_sustained_remission_then_restart_on_relapse() {
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0)]);
    let p = plan(vec![vec![0]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    t.on(TreatmentTrigger::FlareEnd, 20.0, false, &mut log, &mut iv);
    // Remission since day 20; 168 days sustained at the assessment on day 196.
    run_until(&mut t, 195.0, &mut log, &mut iv, false);
    assert!(iv.is_empty());
    run_until(&mut t, 196.0, &mut log, &mut iv, false);
    assert_eq!(iv, vec![(0, 0.0, 196.0)]);
    assert!(log.0.iter().any(|(d, k)| *d == 196.0
        && matches!(
            k,
            EventKind::DrugStop {
                reason: StopReason::Taper,
                ..
            }
        )));
    assert_eq!(t.next_event_day(), NEVER);
    t.on(TreatmentTrigger::FlareStart, 300.0, true, &mut log, &mut iv);
    assert_eq!(starts(&log), vec![(0.0, 0), (300.0, 0)]);
    assert_eq!(t.outcome().flares_on_treatment, 1);
}

#[test]
fn relapse_can_escalate_instead() {
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
    let mut p = plan(vec![vec![0], vec![1]]);
    p.on_relapse = OnRelapse::Escalate;
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    t.on(TreatmentTrigger::FlareEnd, 1.0, false, &mut log, &mut iv);
    run_until(&mut t, 400.0, &mut log, &mut iv, false);
    t.on(TreatmentTrigger::FlareStart, 500.0, true, &mut log, &mut iv);
    assert_eq!(starts(&log), vec![(0.0, 0), (500.0, 1)]);
}

#[test]
fn adverse_event_moves_to_the_next_step() {
    let h = Harness::new(vec![drug("a", 0.0, 50.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
    let p = plan(vec![vec![0], vec![1]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, false, &mut log, &mut iv);
    let ae = t.next_event_day();
    assert!(ae < 28.0, "a hazard of 50/yr fires within weeks: {ae}");
    t.on(TreatmentTrigger::Scheduled, ae, false, &mut log, &mut iv);
    assert_eq!(starts(&log), vec![(0.0, 0), (ae, 1)]);
    assert_eq!(t.outcome().adverse_events, 1);
    assert!(log.0.iter().any(|(_, k)| matches!(
        k,
        EventKind::DrugStop {
            reason: StopReason::AdverseEvent,
            ..
        }
    )));
}

#[test]
fn a_drug_stopped_for_an_adverse_event_is_never_given_again() {
    // Escalate to b, b's adverse event falls back to c (the arm's fallback
    // drug); while the flare goes on, later assessments must not escalate
    // back to b.
    let h = Harness::new(vec![
        drug("a", 0.0, 0.0, 0.0),
        drug("b", 0.0, 50.0, 0.0),
        drug("c", 0.0, 0.0, 0.0),
    ]);
    let mut p = plan(vec![vec![0], vec![1]]);
    p.adverse_event_at_top = Fallback::Drug(2);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 2000.0, &mut log, &mut iv, true);
    assert_eq!(t.outcome().adverse_events, 1);
    let b_starts = starts(&log).iter().filter(|(_, d)| *d == 1).count();
    assert_eq!(
        b_starts,
        1,
        "b restarted after its adverse event: {:?}",
        starts(&log)
    );
    assert_eq!(starts(&log).last().map(|s| s.1), Some(2), "on c");
}

#[test]
fn a_failed_drug_is_never_the_fallback_after_an_adverse_event() {
    // a is left for lack of response (in a flare at the assessment), b's
    // adverse event would fall back to the previous step, a: a failed, so
    // treatment stops instead.
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 50.0, 0.0)]);
    let p = plan(vec![vec![0], vec![1]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 2000.0, &mut log, &mut iv, true);
    assert_eq!(t.outcome().adverse_events, 1);
    let drugs: Vec<u16> = starts(&log).iter().map(|s| s.1).collect();
    assert_eq!(
        drugs,
        vec![0, 1],
        "a is not given again after b's adverse event"
    );
    assert!(t.no_drug_on());
}

#[test]
fn a_relapse_after_taper_never_restarts_a_drug_stopped_for_an_adverse_event() {
    // a -> b; b's adverse event falls back to c, c is tapered in remission,
    // and the relapse (on_relapse = escalate, at the top: the step of b)
    // must not start b again but the fallback c.
    let h = Harness::new(vec![
        drug("a", 0.0, 0.0, 0.0),
        drug("b", 0.0, 50.0, 0.0),
        drug("c", 0.0, 0.0, 0.0),
    ]);
    let mut p = plan(vec![vec![0], vec![1]]);
    p.on_relapse = OnRelapse::Escalate;
    p.adverse_event_at_top = Fallback::Drug(2);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 200.0, &mut log, &mut iv, true);
    t.on(TreatmentTrigger::FlareEnd, 200.0, false, &mut log, &mut iv);
    run_until(&mut t, 900.0, &mut log, &mut iv, false);
    assert!(
        log.0.iter().any(|(_, k)| matches!(
            k,
            EventKind::DrugStop {
                reason: StopReason::Taper,
                ..
            }
        )),
        "c is tapered in remission"
    );
    t.on(TreatmentTrigger::FlareStart, 900.0, true, &mut log, &mut iv);
    let drugs: Vec<u16> = starts(&log).iter().map(|s| s.1).collect();
    assert_eq!(
        drugs,
        vec![0, 1, 2, 2],
        "b only once; the relapse restarts the fallback c"
    );
}

#[test]
fn escalation_skips_a_step_whose_drug_caused_an_adverse_event() {
    // a -> b -> c; b's adverse event moves on to c, and c's later failure
    // with the fallback to the previous tolerated step lands on a, never b.
    let h = Harness::new(vec![
        drug("a", 0.0, 0.0, 0.0),
        drug("b", 0.0, 50.0, 0.0),
        drug("c", 0.0, 0.0, 0.0),
    ]);
    let p = plan(vec![vec![0], vec![1], vec![2]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 2000.0, &mut log, &mut iv, true);
    let drugs: Vec<u16> = starts(&log).iter().map(|s| s.1).collect();
    assert_eq!(drugs, vec![0, 1, 2], "one pass up the ladder, b once");
}

#[test]
fn top_of_ladder_continues_or_stops() {
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0)]);
    let p = plan(vec![vec![0]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 400.0, &mut log, &mut iv, true);
    assert_eq!(starts(&log).len(), 1);
    assert!(iv.is_empty(), "still on the drug");

    let mut p = plan(vec![vec![0]]);
    p.at_top = AtTop::Stop;
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 400.0, &mut log, &mut iv, true);
    assert_eq!(iv, vec![(0, 0.0, 84.0)]);
    assert_eq!(t.next_event_day(), NEVER);
}

#[test]
fn courses_are_given_in_cycles_and_end() {
    let h = Harness::new(vec![drug("bp", 0.0, 0.0, 3.0)]);
    let p = plan(vec![vec![0]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, false, &mut log, &mut iv);
    t.on(TreatmentTrigger::FlareEnd, 0.0, false, &mut log, &mut iv);
    run_until(&mut t, 160.0, &mut log, &mut iv, false);
    // Two courses (days 0 and 84) of 3 infusion days, effect until 168:
    // exposure days count infusions, the time series the effect window.
    assert!(iv.is_empty(), "still on the drug");
    assert_eq!(t.outcome().drug_days[0], 6.0);
    assert!(t.effects().flare_hazard_ratio < 1.0);
    run_until(&mut t, 170.0, &mut log, &mut iv, false);
    assert_eq!(t.effects(), Effects::NONE);
    assert_eq!(iv, vec![(0, 0.0, 168.0)]);
}

#[test]
fn onset_lag_delays_the_effect() {
    let h = Harness::new(vec![drug("a", 4.0, 0.0, 0.0)]);
    let p = plan(vec![vec![0]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 10.0, true, &mut log, &mut iv);
    assert_eq!(t.effects(), Effects::NONE);
    assert_eq!(t.next_event_day(), 38.0);
    t.on(TreatmentTrigger::Scheduled, 38.0, true, &mut log, &mut iv);
    assert_eq!(t.effects().flare_hazard_ratio, 0.5);
}

/// The step counter does not wrap after 255 steps.
#[test]
fn steps_beyond_255_are_counted() {
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
    let mut p = plan((0..300).map(|k| vec![k % 2]).collect());
    p.min_days_on_step = 0.0;
    p.assess_every_days = 7.0;
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 7.0 * 280.0, &mut log, &mut iv, true);
    assert_eq!(t.outcome().steps_reached, 281);
}

/// The next event day by a plain scan of every pending event (what the
/// cached day replaces), up to the horizon: the next assessment of the
/// schedule that decides anything but to stay, or is not before every
/// other event.
fn scan_next_event_day(t: &TreatmentState) -> f64 {
    let mut next = NEVER;
    for d in t.on.iter().flatten() {
        if !d.effect_announced {
            next = next.min(d.effect_day);
        }
        next = next.min(d.ae_day).min(d.stop_day).min(d.next_course_day);
    }
    for &until in t.lasting() {
        if until > 0.0 {
            next = next.min(until);
        }
    }
    if matches!(t.phase, Phase::OnStep(_)) {
        let mut assess = t.next_assess;
        while assess < next.min(t.horizon_days) && t.verdict(assess) == Verdict::Stay {
            assess += t.plan.assess_every_days;
        }
        next = next.min(assess);
    }
    next.min(t.horizon_days)
}

/// The effects by a plain product over every lasting effect and drug given.
fn scan_effects(t: &TreatmentState) -> Effects {
    let mut e = Effects::NONE;
    for (d, &until) in t.lasting().iter().enumerate() {
        if until > 0.0 {
            e.flare_hazard_ratio *= t.drugs[d].values.lasting_hazard_ratio;
        }
    }
    for d in t.on.iter().flatten().filter(|d| d.effect_announced) {
        let drug = &t.drugs[usize::from(d.drug)];
        let weight = if d.responder {
            1.0
        } else {
            drug.values.partial_effect
        };
        if weight > 0.0 {
            e.combine(drug, weight);
        }
    }
    e
}

fn varied_drug(name: &str, lag: f64, ae: f64, course: f64, lasting: f64) -> DrugModel {
    let mut d = drug(name, lag, ae, course);
    d = DrugModel::new(
        d.name.clone(),
        DrugValues {
            p_response: 0.6,
            partial_effect: 0.3,
            lasting_hazard_ratio: if lasting > 0.0 { 0.7 } else { 1.0 },
            lasting_weeks: lasting,
            max_weeks: if course > 0.0 { 0.0 } else { 60.0 },
            ..d.values
        },
    );
    d
}

/// The three drugs of the property tests' ladder, the second given in
/// courses (of 2 days), each with its own lag, adverse-event time and
/// lasting effect.
fn varied_drugs(lags: &[f64], ae: &[f64], lasting: &[f64]) -> Vec<DrugModel> {
    (0..3)
        .map(|i| {
            varied_drug(
                &format!("d{i}"),
                lags[i],
                ae[i],
                if i == 1 { 2.0 } else { 0.0 },
                lasting[i],
            )
        })
        .collect()
}

/// The property tests' ladder (d0, then d1, then d2 with d0) escalating by
/// rule `escalate` (0: while active, 1: no response, 2: not in remission).
fn varied_plan(escalate: usize) -> TreatmentPlan {
    let mut p = plan(vec![vec![0], vec![1], vec![2, 0]]);
    p.escalate_when = [
        EscalateWhen::Active,
        EscalateWhen::NoResponse,
        EscalateWhen::NotInRemission,
    ][escalate];
    p
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever happens to a patient, the cached next event day and effects
    /// equal a plain scan of the state.
    #[test]
    fn cached_day_and_effects_match_a_plain_scan(
        patient in 0u64..1000,
        lags in proptest::collection::vec(0.0f64..6.0, 3),
        ae in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 0.5f64..6.0], 3),
        lasting in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 4.0f64..40.0], 3),
        gaps in proptest::collection::vec(1.0f64..200.0, 1..40),
        escalate in 0usize..3,
    ) {
        let drugs = varied_drugs(&lags, &ae, &lasting);
        let h = Harness::new(drugs);
        let p = varied_plan(escalate);
        let mut t = TreatmentState::new(&p, &h.model, patient);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        let check = |t: &TreatmentState| {
            assert_eq!(t.next_event_day().min(t.horizon_days), scan_next_event_day(t));
            assert_eq!(t.effects(), scan_effects(t));
        };
        let (mut day, mut in_flare) = (5.0, true);
        t.on(TreatmentTrigger::Diagnosis, day, in_flare, &mut log, &mut iv);
        check(&t);
        for gap in gaps {
            // The strategy's own events up to the next flare start or end.
            while t.next_event_day() <= day + gap {
                let next = t.next_event_day();
                let mut slow = (t.clone(), log.clone(), iv.clone());
                slow.0.catch_up_assessments(next);
                slow.0.in_flare = in_flare;
                slow.0.act(TreatmentTrigger::Scheduled, next, &mut slow.1, &mut slow.2);
                t.on(TreatmentTrigger::Scheduled, next, in_flare, &mut log, &mut iv);
                check(&t);
                // A quiet assessment taken without `act` leaves what `act` would.
                assert_eq!(format!("{:?}", (&t, &log, &iv)), format!("{slow:?}"));
            }
            day += gap;
            in_flare = !in_flare;
            let trigger = if in_flare { TreatmentTrigger::FlareStart } else { TreatmentTrigger::FlareEnd };
            t.on(trigger, day, in_flare, &mut log, &mut iv);
            check(&t);
        }
        t.close(day, &mut iv, &mut log);
        check(&t);
    }

    /// Taking only the assessments that may act gives the same course of
    /// treatment as taking every assessment of the schedule as an event.
    #[test]
    fn skipping_quiet_assessments_changes_nothing(
        patient in 0u64..1000,
        lags in proptest::collection::vec(0.0f64..6.0, 3),
        ae in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 0.5f64..6.0], 3),
        lasting in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 4.0f64..40.0], 3),
        gaps in proptest::collection::vec(proptest::prop_oneof![1.0f64..200.0, proptest::strategy::Strategy::prop_map(1u8..30, |w| f64::from(w) * 14.0)], 1..40),
        escalate in 0usize..3,
        taper in proptest::prop_oneof![proptest::strategy::Just(f64::INFINITY), 28.0f64..400.0],
    ) {
        let drugs = varied_drugs(&lags, &ae, &lasting);
        let h = Harness::new(drugs);
        let mut p = varied_plan(escalate);
        p.stop_after_remission_days = taper;
        let mut fast = TreatmentState::new(&p, &h.model, patient);
        let mut every = fast.clone();
        let (mut fast_log, mut fast_iv) = (EventLog::default(), Intervals::new());
        let (mut every_log, mut every_iv) = (EventLog::default(), Intervals::new());
        // Every assessment of the schedule, quiet or not.
        let every_next = |t: &TreatmentState| {
            let assess = if matches!(t.phase, Phase::OnStep(_)) { t.next_assess } else { NEVER };
            assess.min(t.drugs_due).min(t.lasting_next)
        };
        let (mut day, mut in_flare) = (5.0, true);
        fast.on(TreatmentTrigger::Diagnosis, day, in_flare, &mut fast_log, &mut fast_iv);
        every.on(TreatmentTrigger::Diagnosis, day, in_flare, &mut every_log, &mut every_iv);
        for gap in gaps {
            // As in the patient loop, the strategy's own events due on the
            // day of a flare start or end come after it.
            while fast.next_event_day() < day + gap {
                let next = fast.next_event_day();
                fast.on(TreatmentTrigger::Scheduled, next, in_flare, &mut fast_log, &mut fast_iv);
            }
            while every_next(&every) < day + gap {
                let next = every_next(&every);
                every.on(TreatmentTrigger::Scheduled, next, in_flare, &mut every_log, &mut every_iv);
            }
            day += gap;
            in_flare = !in_flare;
            let trigger = if in_flare { TreatmentTrigger::FlareStart } else { TreatmentTrigger::FlareEnd };
            fast.on(trigger, day, in_flare, &mut fast_log, &mut fast_iv);
            every.on(trigger, day, in_flare, &mut every_log, &mut every_iv);
            proptest::prop_assert_eq!(fast.effects(), every.effects());
            proptest::prop_assert_eq!(fast.next_assess, every.next_assess);
        }
        fast.close(day, &mut fast_iv, &mut fast_log);
        every.close(day, &mut every_iv, &mut every_log);
        proptest::prop_assert_eq!(format!("{:?}", fast_log), format!("{:?}", every_log));
        proptest::prop_assert_eq!(fast_iv, every_iv);
        proptest::prop_assert_eq!(format!("{:?}", fast.outcome()), format!("{:?}", every.outcome()));
    }
}

/// Responsiveness drawn when a drug starts is the patient's trait for that
/// drug: the value of the drug's own stream, whatever else was drawn before.
#[test]
fn responsiveness_is_the_drugs_own_stream_whenever_drawn() {
    let d = varied_drug("a", 0.0, 0.0, 0.0, 0.0);
    let h = Harness::new(vec![varied_drug("b", 0.0, 0.0, 0.0, 0.0), d.clone()]);
    let p = plan(vec![vec![0], vec![1]]);
    let mut responders = 0;
    for patient in 0..200 {
        let u = d.responsiveness(&h.model.key, patient);
        let t = TreatmentState::new(&p, &h.model, patient);
        // The same answer before and after another drug's draw, and as
        // the drug's own stream and threshold say.
        let first = t.is_responder(1);
        let _ = t.is_responder(0);
        assert_eq!(first, t.is_responder(1));
        assert_eq!(first, u < d.values.p_response);
        responders += usize::from(first);
    }
    // Both kinds occur (p_response 0.6: 120 expected, sd about 7).
    assert!((90..150).contains(&responders), "{responders} of 200");
}

/// The assessment due at exactly the minimum time on a step escalates,
/// whatever the rounding of the step's start day: for this start day,
/// (start + 84) - start is not 84 in floating point.
#[test]
fn the_assessment_at_the_minimum_time_on_a_step_escalates() {
    let start = (1..10_000)
        .map(|k| 1000.0 + f64::from(k) / 7.0)
        .find(|&s: &f64| (s + 84.0) - s < 84.0)
        .expect("a start day whose difference rounds below 84");
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), drug("b", 0.0, 0.0, 0.0)]);
    let mut p = plan(vec![vec![0], vec![1]]);
    p.assess_every_days = 84.0;
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, start, true, &mut log, &mut iv);
    run_until(&mut t, start + 84.0, &mut log, &mut iv, true);
    assert_eq!(starts(&log), vec![(start, 0), (start + 84.0, 1)]);
}

/// Courses of drug `d` in the log (their days).
fn courses(log: &EventLog, d: u16) -> Vec<f64> {
    log.0
        .iter()
        .filter_map(|(day, k)| match k {
            EventKind::DrugCourse { drug, .. } if *drug == d => Some(*day),
            _ => None,
        })
        .collect()
}

#[test]
fn a_flare_brings_a_visit_that_gives_a_run_out_course_drug_again() {
    // a: 2 courses 12 weeks apart (responder), then it ends at day 168. A
    // flare on day 281 (the day after an assessment of the 28-day schedule)
    // brings a visit on day 295, which gives a again.
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 3.0), drug("b", 0.0, 0.0, 0.0)]);
    let mut p = plan(vec![vec![0], vec![1]]);
    p.stop_after_remission_days = f64::INFINITY;
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    t.on(TreatmentTrigger::FlareEnd, 10.0, false, &mut log, &mut iv);
    run_until(&mut t, 280.0, &mut log, &mut iv, false);
    assert_eq!(courses(&log, 0), vec![0.0, 84.0]);
    assert!(t.no_drug_on(), "a has run out");
    t.on(TreatmentTrigger::FlareStart, 281.0, true, &mut log, &mut iv);
    assert_eq!(
        t.next_event_day(),
        295.0,
        "the flare brings a visit in 2 weeks"
    );
    run_until(&mut t, 295.0, &mut log, &mut iv, true);
    assert_eq!(starts(&log), vec![(0.0, 0), (295.0, 0)], "a again, not b");
    assert_eq!(courses(&log, 0), vec![0.0, 84.0, 295.0]);
}

#[test]
fn a_run_out_course_drug_the_patient_failed_is_escalated() {
    let mut a = drug("a", 0.0, 0.0, 3.0);
    a.values.p_response = 0.0;
    let h = Harness::new(vec![a, drug("b", 0.0, 0.0, 0.0)]);
    let mut p = plan(vec![vec![0], vec![1]]);
    p.stop_after_remission_days = f64::INFINITY;
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    t.on(TreatmentTrigger::FlareEnd, 10.0, false, &mut log, &mut iv);
    run_until(&mut t, 280.0, &mut log, &mut iv, false);
    t.on(TreatmentTrigger::FlareStart, 281.0, true, &mut log, &mut iv);
    run_until(&mut t, 295.0, &mut log, &mut iv, true);
    assert_eq!(starts(&log), vec![(0.0, 0), (295.0, 1)]);
}

#[test]
fn a_yearly_course_limit_postpones_the_course_beyond_it() {
    // Courses every 4 weeks, at most 3 in any year: days 0, 28, 56, then
    // the fourth waits until the first leaves the year (day 365.25).
    let mut a = drug("a", 0.0, 0.0, 1.0);
    a.course_every_days = 28.0;
    a.max_courses = u32::MAX;
    a.max_courses_per_year = 3;
    let h = Harness::new(vec![a]);
    let mut p = plan(vec![vec![0]]);
    p.stop_after_remission_days = f64::INFINITY;
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 800.0, &mut log, &mut iv, true);
    let c = courses(&log, 0);
    assert_eq!(&c[..4], &[0.0, 28.0, 56.0, 365.25]);
    for (i, day) in c.iter().enumerate() {
        let in_year = c[..=i].iter().filter(|&&x| x > day - 365.25).count();
        assert!(in_year <= 3, "course on day {day}: {in_year} within a year");
    }
}

/// A state reset for another patient is that patient's fresh state, but
/// for the days left in its course-log rings, which it never reads: run
/// after courses under a yearly limit, the reset state equals a new one
/// once the rings are set alike, and gives the same courses as a new one.
#[test]
fn a_reset_state_is_a_fresh_one_but_for_its_unread_course_log() {
    let mut a = drug("a", 0.0, 0.0, 1.0);
    a.course_every_days = 28.0;
    a.max_courses = u32::MAX;
    a.max_courses_per_year = 3;
    let h = Harness::new(vec![a, drug("b", 0.0, 0.0, 0.0)]);
    let mut p = plan(vec![vec![0], vec![1]]);
    p.stop_after_remission_days = f64::INFINITY;
    let run = |t: &mut TreatmentState, start: f64| {
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        t.on(TreatmentTrigger::Diagnosis, start, true, &mut log, &mut iv);
        run_until(t, start + 900.0, &mut log, &mut iv, true);
        t.close(start + 1000.0, &mut iv, &mut log);
        (format!("{log:?}"), iv)
    };
    let mut reused = TreatmentState::new(&p, &h.model, 3);
    reused.set_genotype(Genotype::Majeed);
    run(&mut reused, 0.0);
    assert_ne!(reused.course_logged, 0, "the first patient logged courses");
    for patient in [4, 5, 6] {
        reused.reset(patient);
        let mut fresh = TreatmentState::new(&p, &h.model, patient);
        let mut same_rings = reused.clone();
        same_rings.course_log = fresh.course_log;
        assert_eq!(format!("{same_rings:?}"), format!("{fresh:?}"));
        // Later course days than the first patient's, so stale ring days
        // read by mistake would count against the yearly limit.
        let day = 100.0 * patient as f64;
        assert_eq!(run(&mut reused, day), run(&mut fresh, day));
        assert_eq!(
            format!("{:?}", reused.outcome()),
            format!("{:?}", fresh.outcome())
        );
        assert_ne!(reused.course_logged, 0);
    }
}

#[test]
fn an_adverse_event_switches_within_the_class() {
    // b (adverse events certain soon) has a class partner c: after b's
    // adverse event the patient gets c, not the previous step a.
    let mut b = drug("b", 0.0, 50.0, 0.0);
    b.switch_to = Some(2);
    let h = Harness::new(vec![drug("a", 0.0, 0.0, 0.0), b, drug("c", 0.0, 0.0, 0.0)]);
    let p = plan(vec![vec![0], vec![1]]);
    let mut t = TreatmentState::new(&p, &h.model, 0);
    let (mut log, mut iv) = (EventLog::default(), Intervals::new());
    t.on(TreatmentTrigger::Diagnosis, 0.0, true, &mut log, &mut iv);
    run_until(&mut t, 400.0, &mut log, &mut iv, true);
    let drugs: Vec<u16> = starts(&log).iter().map(|s| s.1).collect();
    assert_eq!(drugs, vec![0, 1, 2]);
}

/// The courses given in the year before `day` from a drug's course log,
/// and the day of the oldest of them (inf: none), by a walk back from the
/// newest course (`oldest_slot` is the ring's oldest entry): the reference
/// for [`year_limit_reached`].
fn year_of_courses(log: &[f64; COURSE_LOG], oldest_slot: usize, day: f64) -> (u32, f64) {
    let since = day - YEAR_DAYS + SCHEDULE_SLACK_DAYS;
    let (mut given, mut oldest) = (0, NEVER);
    let mut slot = oldest_slot;
    for _ in 0..COURSE_LOG {
        slot = if slot == 0 { COURSE_LOG - 1 } else { slot - 1 };
        let t = log[slot];
        if t <= since {
            break;
        }
        given += 1;
        oldest = t;
    }
    (given, oldest)
}

/// The walk back from the newest course finds what a scan of every
/// remembered course finds, for logs filled in day order past their length
/// (ties included) and at every day around them.
#[test]
fn course_ring_walk_matches_a_scan_of_the_log() {
    let mut log = [f64::NEG_INFINITY; COURSE_LOG];
    let mut next = 0usize;
    let mut day = 0.0;
    for k in 0..40u32 {
        // Gaps of 0 (a tie) to several months.
        day += f64::from((k * 37) % 150);
        log[next] = day;
        next = (next + 1) % COURSE_LOG;
        for at in [day, day + 1.0, day + 200.0, day + YEAR_DAYS, day + 400.0] {
            let since = at - YEAR_DAYS + SCHEDULE_SLACK_DAYS;
            let in_year = log.iter().filter(|&&t| t > since);
            let given = in_year.clone().count() as u32;
            let oldest = in_year.fold(NEVER, |m, &t| m.min(t));
            assert_eq!(year_of_courses(&log, next, at), (given, oldest), "at {at}");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever happens to a patient, an event the strategy reports as no
    /// change leaves what the patient loop reads after one as it was:
    /// whether any drug is given, the drugs started and the effects.
    #[test]
    fn an_event_reported_unchanged_changes_nothing_the_patient_reads(
        patient in 0u64..1000,
        lags in proptest::collection::vec(0.0f64..6.0, 3),
        ae in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 0.5f64..6.0], 3),
        lasting in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 4.0f64..40.0], 3),
        gaps in proptest::collection::vec(1.0f64..200.0, 1..40),
        escalate in 0usize..3,
        per_year in 1u32..4,
    ) {
        let mut drugs = varied_drugs(&lags, &ae, &lasting);
        drugs[1].max_courses_per_year = per_year;
        let h = Harness::new(drugs);
        let p = varied_plan(escalate);
        let mut t = TreatmentState::new(&p, &h.model, patient);
        let (mut log, mut iv) = (EventLog::default(), Intervals::new());
        let read = |t: &TreatmentState| (t.no_drug_on(), t.started_drugs(), t.effects());
        let mut notify = |t: &mut TreatmentState, trigger, day, in_flare| {
            let before = read(t);
            let changed = t.on(trigger, day, in_flare, &mut log, &mut iv);
            if !changed {
                assert_eq!(read(t), before, "{trigger:?} at {day}");
            }
        };
        let (mut day, mut in_flare) = (5.0, true);
        notify(&mut t, TreatmentTrigger::Diagnosis, day, in_flare);
        for gap in gaps {
            while t.next_event_day() <= day + gap {
                let next = t.next_event_day();
                notify(&mut t, TreatmentTrigger::Scheduled, next, in_flare);
            }
            day += gap;
            in_flare = !in_flare;
            let trigger = if in_flare { TreatmentTrigger::FlareStart } else { TreatmentTrigger::FlareEnd };
            notify(&mut t, trigger, day, in_flare);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Courses asked for at random days (ties included) and logged under
    /// a yearly limit: the look at the limit-th newest course finds the
    /// limit reached exactly when the walk over the year counts that many,
    /// with the same oldest course, at every request and at later days.
    #[test]
    fn the_limit_th_newest_course_decides_the_yearly_limit(
        limit in 1usize..=COURSE_LOG,
        gaps in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 0.0f64..200.0, proptest::strategy::Strategy::prop_map(1u8..20, |w| f64::from(w) * 28.0)], 1..80),
    ) {
        let mut log = [f64::NEG_INFINITY; COURSE_LOG];
        let mut next = 0usize;
        let mut day = 0.0;
        let walk = |log: &[f64; COURSE_LOG], next, at| {
            let (given, oldest) = year_of_courses(log, next, at);
            (given as usize >= limit).then_some(oldest)
        };
        for gap in gaps {
            day += gap;
            for at in [day, day + 30.0, day + YEAR_DAYS] {
                proptest::prop_assert_eq!(year_limit_reached(&log, next, at, limit), walk(&log, next, at));
            }
            if year_limit_reached(&log, next, day, limit).is_none() {
                log[next] = day;
                next = (next + 1) % COURSE_LOG;
            }
        }
    }
}

/// An event log that takes courses as they are given rather than each as
/// an event of its own ([`Observer::TAKES_COURSES`] false).
#[derive(Debug, Default, Clone)]
struct LateCourses(EventLog);

impl Observer for LateCourses {
    const TAKES_COURSES: bool = false;

    fn event(&mut self, day: f64, kind: EventKind) {
        self.0.event(day, kind);
    }
}

/// A log's courses in day order, and its other events as they came.
fn split_courses(log: &EventLog) -> (Vec<String>, Vec<String>) {
    let (mut courses, mut other) = (vec![], vec![]);
    for (day, kind) in &log.0 {
        match kind {
            EventKind::DrugCourse { .. } => courses.push((*day, format!("{kind:?}"))),
            _ => other.push(format!("{day} {kind:?}")),
        }
    }
    courses.sort_by(|a, b| a.0.total_cmp(&b.0));
    let courses = courses
        .into_iter()
        .map(|(d, k)| format!("{d} {k}"))
        .collect();
    (courses, other)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
    /// For an observer that takes no course events, courses given when the
    /// strategy next acts (with the end of a drug's courses an event of its
    /// own) give the same course of treatment as courses taken each as an
    /// event: the same events but for the courses' order, the same courses,
    /// drug intervals and outcomes, and at every flare start and end the
    /// same drugs given and effects.
    #[test]
    fn courses_given_late_change_nothing_but_their_order(
        patient in 0u64..1000,
        lags in proptest::collection::vec(0.0f64..6.0, 3),
        ae in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 0.5f64..6.0], 3),
        lasting in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0.0), 4.0f64..40.0], 3),
        gaps in proptest::collection::vec(proptest::prop_oneof![1.0f64..200.0, proptest::strategy::Strategy::prop_map(1u8..30, |w| f64::from(w) * 14.0)], 1..40),
        escalate in 0usize..3,
        max_courses in proptest::prop_oneof![proptest::strategy::Just(u32::MAX), 1u32..10],
        per_year in proptest::prop_oneof![proptest::strategy::Just(u32::MAX), 1u32..4],
        max_days in proptest::prop_oneof![proptest::strategy::Just(f64::INFINITY), 30.0f64..600.0],
    ) {
        let mut drugs = varied_drugs(&lags, &ae, &lasting);
        drugs[1].max_courses = max_courses;
        drugs[1].max_courses_per_year = per_year;
        drugs[1].max_days = max_days;
        let h = Harness::new(drugs);
        let p = varied_plan(escalate);
        let mut late = TreatmentState::new(&p, &h.model, patient);
        let mut each = late.clone();
        let (mut late_log, mut late_iv) = (LateCourses::default(), Intervals::new());
        let (mut each_log, mut each_iv) = (EventLog::default(), Intervals::new());
        let read = |t: &TreatmentState| (t.no_drug_on(), t.started_drugs(), t.effects());
        let horizon = each.horizon_days;
        let (mut day, mut in_flare) = (5.0, true);
        let (mut late_steps, mut each_steps) = (0usize, 0usize);
        late.on(TreatmentTrigger::Diagnosis, day, in_flare, &mut late_log, &mut late_iv);
        each.on(TreatmentTrigger::Diagnosis, day, in_flare, &mut each_log, &mut each_iv);
        for gap in gaps {
            // As in the patient loop, the strategy's own events due on the
            // day of a flare start or end come after it, and nothing comes
            // on or after the horizon, where observation ends.
            let until = (day + gap).min(horizon);
            while late.next_event_day() < until {
                late_steps += 1;
                let next = late.next_event_day();
                late.on(TreatmentTrigger::Scheduled, next, in_flare, &mut late_log, &mut late_iv);
            }
            while each.next_event_day() < until {
                each_steps += 1;
                let next = each.next_event_day();
                each.on(TreatmentTrigger::Scheduled, next, in_flare, &mut each_log, &mut each_iv);
            }
            if until == horizon {
                day = horizon;
                break;
            }
            day += gap;
            in_flare = !in_flare;
            let trigger = if in_flare { TreatmentTrigger::FlareStart } else { TreatmentTrigger::FlareEnd };
            late.on(trigger, day, in_flare, &mut late_log, &mut late_iv);
            each.on(trigger, day, in_flare, &mut each_log, &mut each_iv);
            proptest::prop_assert_eq!(read(&late), read(&each));
        }
        late.close(day, &mut late_iv, &mut late_log);
        each.close(day, &mut each_iv, &mut each_log);
        proptest::prop_assert_eq!(split_courses(&late_log.0), split_courses(&each_log));
        // The courses given late (or put off by the yearly limit) count
        // against the event cap at least as the scheduled steps they saved
        // (a step may have given a course and something else).
        let late_courses = late.take_late_courses() as usize;
        proptest::prop_assert!(late_courses + late_steps >= each_steps);
        proptest::prop_assert_eq!(late.take_late_courses(), 0);
        proptest::prop_assert_eq!(late_iv, each_iv);
        proptest::prop_assert_eq!(format!("{:?}", late.outcome()), format!("{:?}", each.outcome()));
    }
}
