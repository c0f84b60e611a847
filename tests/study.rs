//! The resolved study: arms and drugs are found by name, so listing the
//! arms in another order changes no arm's results.

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
