use super::*;
use crate::engine::outcome::{CourseClass, Diagnosis};

/// Every metric's name and its observation `(y, x)` of one outcome.
struct Record<'o> {
    outcome: &'o Outcome,
    seen: Vec<(String, Option<(f64, f64)>)>,
}

impl Visit for Record<'_> {
    fn mean(
        &mut self,
        _: bool,
        about: impl FnOnce() -> About,
        value: impl FnOnce(&Outcome) -> Option<Value>,
    ) {
        let obs = value(self.outcome).map(|v| (v.as_f64(), 1.0));
        self.seen.push((about().name, obs));
    }

    fn ratio(
        &mut self,
        about: impl FnOnce() -> About,
        observation: impl FnOnce(&Outcome) -> Option<(f64, f64)>,
    ) {
        let obs = observation(self.outcome);
        self.seen.push((about().name, obs));
    }
}

fn observe(o: &Outcome, layout: &MetricLayout) -> Vec<(String, Option<(f64, f64)>)> {
    let mut r = Record {
        outcome: o,
        seen: Vec::new(),
    };
    visit(&mut r, layout);
    r.seen
}

fn drugs() -> Vec<String> {
    vec!["nsaid".into(), "tnf".into()]
}

#[test]
fn the_list_has_one_row_per_metric_with_unique_names() {
    let (years, steps) = (9, 3);
    let metrics = metrics_for(10.0, &drugs(), steps);
    let fixed = 28 + 8 + 2 + 6;
    let per_year = 5;
    let treated = 2 + 2 * 2 + steps + 2 + 3 + 2 * 2;
    assert_eq!(metrics.len(), fixed + per_year * years + treated);
    let mut names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), metrics.len());
    let untreated = metrics_for(10.0, &drugs(), 0);
    assert_eq!(untreated.len(), fixed + per_year * years);
    // The description and the observations walk the same list.
    let seen = observe(
        &Outcome::default(),
        &MetricLayout::new(10.0, &drugs(), steps),
    );
    let walked: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    let listed: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(walked, listed);
}

#[test]
fn observations_follow_the_definitions() {
    let mut o = Outcome {
        female: true,
        flares: 4,
        fevers: 1,
        observed_days: 2.0 * DAYS_PER_YEAR,
        flare_days: 100.0,
        new_lesions: 6,
        ..Outcome::default()
    };
    o.diagnosis = Some(Diagnosis {
        day: 50.0,
        findings: Default::default(),
        silent_seen: 1,
        jansson: 41,
        bristol_1: true,
    });
    o.diagnosis.as_mut().unwrap().findings.lesions_seen = 4;
    o.checkpoints.state[1] = 2;
    o.checkpoints.state[2] = 1;
    o.checkpoints.seen_lesions[1] = 3;
    o.checkpoints.activity[2] = 4.5;
    o.treatment.steps_reached = 2;
    o.treatment.drug_days[1] = 30.0;
    o.treatment.flare_ended_12_weeks[0] = 2;
    let seen = observe(&o, &MetricLayout::new(3.0, &drugs(), 2));
    let get = |name: &str| {
        seen.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no metric {name}"))
            .1
    };
    assert_eq!(get("female_frac"), Some((1.0, 1.0)));
    assert_eq!(get("majeed_frac"), Some((0.0, 1.0)));
    assert_eq!(get("flares_per_patient"), Some((4.0, 1.0)));
    assert_eq!(get("flares_per_patient_year"), Some((4.0, 2.0)));
    assert_eq!(get("new_lesions_per_flare"), Some((6.0, 3.0)));
    assert_eq!(get("fever_per_flare_frac"), Some((1.0, 4.0)));
    assert_eq!(get("diagnostic_delay_mean_days"), Some((50.0, 1.0)));
    assert_eq!(get("silent_lesion_share_at_diagnosis"), Some((1.0, 4.0)));
    assert_eq!(get("solitary_lesion_frac_at_diagnosis"), Some((0.0, 1.0)));
    assert_eq!(get("jansson_ge39_frac"), Some((1.0, 1.0)));
    assert_eq!(o.course_class(), Some(CourseClass::Persistent));
    assert_eq!(get("course_persistent_frac"), Some((1.0, 1.0)));
    assert_eq!(get("course_relapsing_frac"), Some((0.0, 1.0)));
    // Checkpoint 0 (6 months) was not observed; 12 months in remission,
    // 24 months in a flare.
    assert_eq!(get("remission_6_months_frac"), None);
    assert_eq!(get("remission_12_months_frac"), Some((1.0, 1.0)));
    assert_eq!(get("remission_24_months_frac"), Some((0.0, 1.0)));
    assert_eq!(get("active_seen_lesions_year_1_mean"), Some((3.0, 1.0)));
    assert_eq!(get("activity_score_mean_year_2"), Some((4.5, 1.0)));
    assert_eq!(get("activity_score_ge4_frac_year_2"), Some((1.0, 1.0)));
    assert_eq!(get("activity_score_ge4_frac_year_1"), Some((0.0, 1.0)));
    assert_eq!(get("pedcno50_6_months_frac"), None);
    assert_eq!(get("received_nsaid_frac"), Some((0.0, 1.0)));
    assert_eq!(get("received_tnf_frac"), Some((1.0, 1.0)));
    assert_eq!(get("days_on_tnf_mean"), Some((30.0, 1.0)));
    assert_eq!(get("reached_step_2_frac"), Some((1.0, 1.0)));
    assert_eq!(get("never_escalated_frac"), Some((0.0, 1.0)));
    assert_eq!(
        get("flare_ended_12_weeks_after_nsaid_frac"),
        Some((1.0, 1.0))
    );
    assert_eq!(get("flare_ended_12_weeks_after_tnf_frac"), None);
    // Undiagnosed patients are not counted in the diagnosed populations.
    let undiagnosed = observe(&Outcome::default(), &MetricLayout::new(3.0, &drugs(), 2));
    let pop = metrics_for(3.0, &drugs(), 2);
    for ((name, obs), m) in undiagnosed.iter().zip(&pop) {
        if m.population == DIAGNOSED {
            assert_eq!(*obs, None, "{name}");
        }
    }
}
