//! Unit tests of `plot::course`.

use super::*;

fn outcome() -> Outcome {
    Outcome {
        patient: 3,
        genotype: Some(Genotype::Sporadic),
        female: true,
        onset_age_years: 9.5,
        observed_days: 1000.0,
        ..Outcome::default()
    }
}

#[test]
fn trace_pairs_starts_and_stops() {
    use EventKind::*;
    let ev = vec![
        (0.0, Onset),
        (
            0.0,
            LesionNew {
                lesion: 0,
                site: Site::Tibia,
                side: 1,
                symptomatic: true,
            },
        ),
        (
            0.0,
            FlareStart {
                pain: 6.0,
                fever: true,
                crp_mg_l: 20.0,
            },
        ),
        (50.0, FlareEnd),
        (100.0, DrugStart { drug: 1, step: 0 }),
        (
            114.0,
            DrugEffect {
                drug: 1,
                responder: false,
            },
        ),
        (
            200.0,
            DrugStop {
                drug: 1,
                reason: StopReason::Escalation,
            },
        ),
        (200.0, DrugStart { drug: 0, step: 1 }),
        (
            300.0,
            LesionStage {
                lesion: 0,
                stage: Stage::Mixed,
            },
        ),
        (
            400.0,
            LesionStage {
                lesion: 0,
                stage: Stage::Healed,
            },
        ),
        (500.0, LesionReactivated { lesion: 0 }),
        (
            600.0,
            FlareStart {
                pain: 4.0,
                fever: false,
                crp_mg_l: 3.0,
            },
        ),
        (1000.0, End),
    ];
    let drugs = vec!["nsaid".to_string(), "methotrexate".to_string()];
    let t = CourseTrace::from_events(&outcome(), &ev, &drugs, "s", "a", 1000.0);
    assert_eq!(t.flares.len(), 2);
    assert_eq!((t.flares[0].start_day, t.flares[0].end_day), (0.0, 50.0));
    assert!(t.flares[1].open);
    assert_eq!(t.flares[1].end_day, 1000.0);
    assert_eq!(t.lesions[0].active, vec![(0.0, 400.0), (500.0, 1000.0)]);
    assert_eq!(t.drug_spans.len(), 2);
    assert_eq!(t.drug_spans[0].name, "methotrexate");
    assert_eq!(t.drug_spans[0].stop, Some(StopReason::Escalation));
    assert_eq!(
        (t.drug_spans[1].start_day, t.drug_spans[1].end_day),
        (200.0, 1000.0)
    );
    assert_eq!(t.drug_spans[1].stop, None);
    assert_eq!(bars::drug_rows(&t).len(), 2);
}

#[test]
fn overlapping_lesions_at_one_site_get_lanes() {
    let mk = |lesion, a: f64, b: f64| LesionTrace {
        lesion,
        site: Site::Femur,
        side: 2,
        symptomatic: true,
        active: vec![(a, b)],
        seen_day: None,
        stages: vec![(a, Stage::Lytic)],
    };
    let mut t = CourseTrace::from_events(&outcome(), &[], &[], "s", "a", 1000.0);
    t.lesions = vec![mk(0, 0.0, 100.0), mk(1, 50.0, 150.0), mk(2, 120.0, 200.0)];
    let rows = bars::lesion_rows(&t);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].lanes, 2);
    assert_eq!(rows[0].label, "femur (R)");
}
