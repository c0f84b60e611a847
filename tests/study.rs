//! The resolved study: arms and drugs are found by name, so listing the
//! arms in another order changes no arm's results; per-patient rows reach
//! their sink in patient order, in pieces of bounded size.

use std::collections::BTreeMap;

use crmo_sim::engine::cohort::NoRows;
use crmo_sim::scenario::parse;
use crmo_sim::study::psa::replicate_rows;
use crmo_sim::study::Study;

const ARMS: [&str; 3] = [
    "[[arm]]\nname = \"nsaid_mtx\"\nladder = [\"nsaid\", \"methotrexate\", \"pamidronate\"]\n",
    "[[arm]]\nname = \"bisphosphonate\"\nladder = [\"pamidronate\", \"tnf_inhibitor\"]\n",
    "[[arm]]\nname = \"untreated\"\nuntreated = true\n",
];

const HEAD: &str = "seed = 3\npatients = 1500\nhorizon_years = 5\nreplicates = 2\n\
[drugs.nsaid]\np_response = { dist = \"beta\", alpha = 5, beta = 5 }\n\
[drugs.pamidronate]\nflare_hazard_ratio = { dist = \"uniform\", min = 0.1, max = 0.5 }\n";

/// Summary values by (arm, metric), as bits.
type Summary = BTreeMap<(String, String), [u64; 4]>;
/// Replicate estimates by (replicate, arm, metric), as bits.
type Replicates = BTreeMap<(u32, String, String), Option<u64>>;

/// Every (arm, metric) summary value and every replicate's estimate.
fn results(order: [usize; 3]) -> (Summary, Replicates) {
    let text = order.iter().fold(HEAD.to_string(), |t, &i| t + ARMS[i]);
    let study = Study::resolve(parse(&text, "order.toml").unwrap()).unwrap();
    let res = study.run(&mut NoRows, &|_| {}).unwrap();
    let summary = res
        .summary()
        .iter()
        .map(|r| {
            let bits = [r.mean, r.lower_95, r.upper_95, r.mcse].map(f64::to_bits);
            ((r.arm.clone(), r.metric.clone()), bits)
        })
        .collect();
    let reps = replicate_rows(&res)
        .into_iter()
        .map(|r| ((r.replicate, r.arm, r.metric), r.value.map(f64::to_bits)))
        .collect();
    (summary, reps)
}

#[test]
fn reordering_arms_leaves_every_arm_unchanged() {
    let (a_summary, a_reps) = results([0, 1, 2]);
    for order in [[2, 1, 0], [1, 2, 0]] {
        let (b_summary, b_reps) = results(order);
        assert_eq!(a_summary.len(), b_summary.len());
        for (key, value) in &a_summary {
            assert_eq!(
                b_summary.get(key),
                Some(value),
                "{key:?} changed with arm order {order:?}"
            );
        }
        assert_eq!(
            a_reps, b_reps,
            "replicate estimates changed with arm order {order:?}"
        );
    }
    // The arms really differ (else the comparison would prove little).
    let flares =
        |arm: &str| a_summary[&(arm.to_string(), "flares_per_patient_year".to_string())][0];
    assert_ne!(flares("nsaid_mtx"), flares("untreated"));
    assert_ne!(flares("bisphosphonate"), flares("nsaid_mtx"));
}

/// A drug's drawn values are found by its name: the same whichever arm
/// lists it first.
#[test]
fn drug_values_are_keyed_by_name() {
    let study = |order: [usize; 3]| {
        let text = order.iter().fold(HEAD.to_string(), |t, &i| t + ARMS[i]);
        Study::resolve(parse(&text, "order.toml").unwrap()).unwrap()
    };
    let (a, b) = (study([0, 1, 2]), study([1, 0, 2]));
    assert_ne!(
        a.drug_names(),
        b.drug_names(),
        "the table order follows the arms"
    );
    for r in 0..2 {
        let (ma, mb) = (a.replicate_model(r), b.replicate_model(r));
        for d in &ma.drugs {
            let other = mb.drugs.iter().find(|e| e.name == d.name).unwrap();
            assert_eq!(d.values, other.values, "replicate {r}, drug {}", d.name);
        }
        let mut da = ma.drawn.clone();
        let mut db = mb.drawn.clone();
        da.sort_by(|x, y| x.parameter.cmp(&y.parameter));
        db.sort_by(|x, y| x.parameter.cmp(&y.parameter));
        assert_eq!(da, db);
    }
}

/// A sink that records the patients it receives and the largest piece.
#[derive(Default)]
struct PieceRecorder {
    /// (replicate, patient, arm) in the order received.
    order: Vec<(u32, u64, usize)>,
    /// Bytes in memory of the largest piece of rows received at once.
    largest_piece: u64,
    /// Bytes of every piece.
    total: u64,
}

impl crmo_sim::engine::cohort::RowSink for PieceRecorder {
    fn wants_rows(&self) -> bool {
        true
    }
    fn write_chunk(
        &mut self,
        replicate: u32,
        rows: &[crmo_sim::engine::cohort::PatientRows],
    ) -> crmo_sim::Result<()> {
        let bytes = rows.iter().map(|r| r.held_bytes()).sum();
        self.largest_piece = self.largest_piece.max(bytes);
        self.total += bytes;
        self.order
            .extend(rows.iter().map(|r| (replicate, r.outcome.patient, r.arm)));
        Ok(())
    }
}

/// Issue 20: with `events = true`, a scenario with a weekly flare rate kept
/// a whole chunk's event logs (1,024 patients) and four chunks per thread in
/// memory, about 2 GB at one thread over 100 years. Rows are now handed out
/// in pieces sized so that a batch (`BATCH_CHUNKS_PER_THREAD` pieces per
/// thread) holds about `ROW_BUFFER_BYTES`: one piece holds at most twice its
/// share (the margin covers patients heavier than those that sized it).
/// Here each patient holds about 0.2 MB of events, so a chunk of 300
/// patients in one piece (as before) is about 60 MB, over the 32 MB bound.
/// The rows still arrive in patient order, each patient and arm once.
#[test]
fn rows_of_heavy_patients_are_held_in_bounded_pieces() {
    use crmo_sim::engine::cohort::{BATCH_CHUNKS_PER_THREAD, ROW_BUFFER_BYTES};
    let text = "name = \"weekly\"\nseed = 5\npatients = 300\nreplicates = 2\nhorizon_years = 25\n\
[natural_history]\nflare_rate_per_year = 52\nflare_duration_mean_weeks = 0.001\n\
first_flare_duration_mean_weeks = 0.001\nresolution_median_years = inf\n\
loss_to_follow_up_per_year = 0\nfrailty_variance = 0\nnew_lesions_per_flare = 0\n\
initial_extra_lesions_mean = 0\n[imaging]\nfollow_up_every_months = 0.25\n\
[[arm]]\nname = \"a\"\nladder = [\"glucocorticoid\", \"pamidronate\", \"tnf_inhibitor\"]\n\
assess_every_weeks = 1\nmin_weeks_on_step = 0\nstop_after_remission_weeks = 0.001\n\
escalate_when = \"active\"\n[output]\nevents = true\n";
    let study = Study::resolve(parse(text, "weekly.toml").unwrap()).unwrap();
    let mut sink = PieceRecorder::default();
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| study.run(&mut sink, &|_| {}))
        .unwrap();
    let share = ROW_BUFFER_BYTES / BATCH_CHUNKS_PER_THREAD;
    // Each replicate's chunk holds more than the bound: one piece per
    // chunk would fail.
    assert!(sink.total / 2 > 2 * share, "{} bytes of rows", sink.total);
    assert!(
        sink.largest_piece <= 2 * share,
        "a piece of {} bytes of rows, over twice the {share} of one piece",
        sink.largest_piece
    );
    let expected: Vec<(u32, u64, usize)> = (0..2)
        .flat_map(|r| (0..300).map(move |p| (r, p, 0)))
        .collect();
    assert_eq!(sink.order, expected);
}

/// A part of the model a scenario leaves inert costs nothing and yields
/// nothing: the two-state scenario (no lesions, fever, conditions, burnout
/// or loss to follow-up) leaves the metrics resting on those parts empty,
/// with the reason in their definition, and computes the others; the
/// reference scenario leaves nothing inert.
#[test]
fn metrics_of_inert_parts_are_empty_with_their_reason() {
    let root = env!("CARGO_MANIFEST_DIR");
    let load = |name: &str, patients: u64| {
        let path = format!("{root}/scenarios/{name}");
        let mut loaded = crmo_sim::scenario::load_file(path.as_ref()).unwrap();
        loaded.scenario.patients = patients;
        let study = Study::resolve(loaded).unwrap();
        study.run(&mut NoRows, &|_| {}).unwrap()
    };
    let two_state = load("two-state.toml", 2000);
    let row = |name: &str| {
        two_state
            .summary()
            .iter()
            .find(|r| r.metric == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .mean
    };
    for inert in [
        "initial_lesions_mean",
        "fever_per_flare_frac",
        "resolved_frac",
        "diagnosed_frac",
        "diagnostic_delay_mean_days",
        "remission_12_months_frac",
        "flares_per_patient_year_after_diagnosis",
    ] {
        assert!(row(inert).is_nan(), "{inert} is not computed");
        let m = two_state.metrics.iter().find(|m| m.name == inert).unwrap();
        assert!(m.inert.is_some(), "{inert} says why");
    }
    assert!(row("flares_per_patient") > 10.0);
    assert!(row("time_in_flare_frac") > 0.1);
    let definitions = crmo_sim::output::tables::metric_definitions(&two_state.metrics);
    let lesions = definitions
        .iter()
        .find(|d| d.metric == "initial_lesions_mean")
        .unwrap();
    assert!(
        lesions
            .definition
            .contains("not computed: the scenario has no lesions"),
        "{}",
        lesions.definition
    );
    let diagnosis = definitions
        .iter()
        .find(|d| d.metric == "diagnostic_delay_median_days")
        .unwrap();
    assert!(
        diagnosis
            .definition
            .contains("not computed: the scenario diagnoses no one"),
        "{}",
        diagnosis.definition
    );
    let reference = load("reference.toml", 200);
    assert!(reference.metrics.iter().all(|m| m.inert.is_none()));
}
