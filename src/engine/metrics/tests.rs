use super::*;
use crate::engine::outcome::{CoreSet, CourseClass, Diagnosis};
use crate::engine::units::DAYS_PER_YEAR;

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

    fn means<const N: usize>(
        &mut self,
        _: bool,
        about: impl Fn(usize) -> About,
        values: impl FnOnce(&Outcome) -> [Option<Value>; N],
    ) {
        for (k, v) in values(self.outcome).into_iter().enumerate() {
            self.seen
                .push((about(k).name, v.map(|v| (v.as_f64(), 1.0))));
        }
    }

    fn ratio(
        &mut self,
        about: impl FnOnce() -> About,
        observation: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
    ) {
        let obs = observation(self.outcome).map(|(y, x)| (y.as_f64(), x.as_f64()));
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
fn every_list_has_the_leading_metrics() {
    let shortest = metrics_of(
        &MetricLayout::new(0.5, &[], 0).with_inert(
            Inert::NONE
                .with(Part::Diagnosis)
                .with(Part::Lesions)
                .with(Part::Fever),
        ),
    );
    assert!(shortest.len() >= LEADING, "{} metrics", shortest.len());
    let longest = metrics_for(10.0, &drugs(), 3);
    assert_eq!(
        shortest[..LEADING]
            .iter()
            .map(|m| &m.name)
            .collect::<Vec<_>>(),
        longest[..LEADING]
            .iter()
            .map(|m| &m.name)
            .collect::<Vec<_>>(),
        "the leading metrics come first in every list"
    );
}

#[test]
fn the_list_has_one_row_per_metric_with_unique_names() {
    let (years, steps) = (9, 3);
    let metrics = metrics_for(10.0, &drugs(), steps);
    let fixed = 28 + 9 + 2 + 6;
    let per_year = 5;
    let treated = 1 + 2 * 2 + steps + 2 + 3 + 4 * 2;
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

/// PedCNO as defined [Beck2010], one level at a time: the reference the
/// several-levels-at-once evaluation is checked against.
fn pedcno_one_level(now: &CoreSet, base: &CoreSet, pct: f64) -> bool {
    let now = [
        now.physician_global,
        now.patient_global,
        now.mri_lesions,
        now.worst_lesion,
        now.chaq,
    ];
    let base = [
        base.physician_global,
        base.patient_global,
        base.mri_lesions,
        base.worst_lesion,
        base.chaq,
    ];
    let (mut improved, mut worsened) = (0, 0);
    for (x, b) in now.into_iter().zip(base) {
        if b > 0.0 && (b - x) / b >= pct / 100.0 {
            improved += 1;
        } else if (b > 0.0 && x > 1.3 * b) || (b == 0.0 && x > 0.0) {
            worsened += 1;
        }
    }
    improved >= 3 && worsened <= 1
}

#[test]
fn pedcno_levels_at_once_match_one_at_a_time() {
    // Values on a coarse grid (0 and exact 30/50/70% changes included).
    let grid = [0.0, 0.3, 0.5, 0.7, 1.0, 1.3, 1.31, 2.0, 3.0, 10.0];
    let mut rng = 12345u64;
    let mut pick = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        grid[(rng >> 33) as usize % grid.len()]
    };
    let mut responses = 0;
    for _ in 0..5000 {
        let mut set = || CoreSet {
            physician_global: pick(),
            patient_global: pick(),
            mri_lesions: pick(),
            worst_lesion: pick(),
            chaq: pick(),
        };
        let (base, now) = (set(), set());
        let levels = [30.0, 50.0, 70.0];
        let at_once = now.pedcno_at(&base, levels);
        for (k, pct) in levels.into_iter().enumerate() {
            assert_eq!(
                at_once[k],
                pedcno_one_level(&now, &base, pct),
                "{base:?} {now:?} {pct}"
            );
            assert_eq!(now.pedcno(&base, pct), at_once[k]);
        }
        responses += usize::from(at_once[0]);
    }
    // Both answers occur.
    assert!(responses > 0 && responses < 5000);
}

/// Every inert part at once.
fn all_inert() -> Inert {
    Part::ALL.into_iter().fold(Inert::NONE, Inert::with)
}

#[test]
fn metrics_resting_on_inert_parts_are_marked_with_their_reason() {
    let layout = MetricLayout::new(10.0, &drugs(), 0);
    let marked = |inert: Inert| -> Vec<String> {
        metrics_of(&layout.clone().with_inert(inert))
            .into_iter()
            .filter(|m| m.inert.is_some())
            .map(|m| m.name)
            .collect()
    };
    assert!(marked(Inert::NONE).is_empty());
    assert_eq!(
        marked(Inert::NONE.with(Part::Fever)),
        vec!["fever_per_flare_frac"]
    );
    let mut expected: Vec<String> = [
        "fever_per_flare_frac",
        "initial_lesions_mean",
        "new_lesions_per_flare",
        "vertebral_fracture_frac",
        "lesions_seen_at_diagnosis_mean",
        "silent_lesion_share_at_diagnosis",
        "solitary_lesion_frac_at_diagnosis",
        "resolved_frac",
        "lost_to_follow_up_frac",
        "any_condition_at_onset_frac",
        "ppp_ever_frac",
        "psoriasis_ever_frac",
        "acne_ever_frac",
        "ibd_ever_frac",
        "arthritis_ever_frac",
    ]
    .map(String::from)
    .to_vec();
    for y in 1..=9 {
        expected.push(format!("active_symptomatic_lesions_year_{y}_mean"));
        expected.push(format!("active_seen_lesions_year_{y}_mean"));
    }
    let but_diagnosis = Part::ALL
        .into_iter()
        .filter(|&p| p != Part::Diagnosis)
        .fold(Inert::NONE, Inert::with);
    let mut got = marked(but_diagnosis);
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected);
    // Without diagnosis, exactly the metrics of the diagnosed (by name or
    // population) are not computed; with every part inert, those too.
    let no_diagnosis = layout.clone().with_inert(Inert::NONE.with(Part::Diagnosis));
    for m in metrics_of(&no_diagnosis) {
        let of_the_diagnosed = m.name.contains("diagnos") || m.population.contains("diagnos");
        assert_eq!(m.inert.is_some(), of_the_diagnosed, "{}", m.name);
    }
    let all = marked(all_inert());
    assert!(expected.iter().all(|m| all.contains(m)));
    assert!(all.len() > expected.len() + 40);
    // The reason names the parameters that switch the part off.
    assert!(Part::Lesions.reason().contains("new_lesions_per_flare"));
}
