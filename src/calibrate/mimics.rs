//! Calibration targets of the mimic populations (C16, C17): the Jansson
//! score at its cut-off of 39 recognises the CRMO cohort as often as
//! [Jansson2009] reports (sensitivity, as C6), and calls about 2 of its 122
//! controls CRMO (specificity 0.98 in that paper's case mix: 22 bacterial
//! osteomyelitis, 48 malignant and 52 benign bone tumours).

use std::borrow::Cow;

use crate::engine::differential::DifferentialTally;
use crate::model::criteria::JANSSON_THRESHOLD;
use crate::scenario::differential::{CaseMix, Mimic};
use crate::validation::Criterion;

use super::{CalibrationRow, Target};

/// C16 and C17 of the reference figures.
pub const MIMIC_TARGETS: [Target; 2] = [
    Target {
        id: Cow::Borrowed("C16"),
        target: Cow::Borrowed("sensitivity of Jansson score >= 39 (crmo-sim criteria)"),
        published: 0.68,
        tolerance: 0.10,
        source: Cow::Borrowed("Jansson2009"),
    },
    Target {
        id: Cow::Borrowed("C17"),
        target: Cow::Borrowed("specificity of Jansson score >= 39 (mimics in Jansson2009's mix)"),
        published: 0.98,
        tolerance: 0.03,
        source: Cow::Borrowed("Jansson2009"),
    },
];

/// C16 and C17 from a differential's tally. C17 weighs each mimic
/// population's specificity by [Jansson2009]'s mix of controls (22:48:52),
/// whatever the scenario's case mix; its standard error is that of the
/// weighted mean of independent proportions.
pub fn mimic_rows(tally: &DifferentialTally) -> Vec<CalibrationRow> {
    let t = JANSSON_THRESHOLD;
    let crmo = tally.crmo();
    let proportion = |k: u64, n: u64| {
        let p = k as f64 / n as f64;
        (p, (p * (1.0 - p) / n as f64).sqrt())
    };
    let sensitivity = proportion(Criterion::Jansson.positives(crmo, t), crmo.count);
    let mix = CaseMix::default();
    let mut specificity = (0.0, 0.0);
    for (m, pop) in Mimic::ALL.iter().zip(&tally.populations[1..]) {
        let w = mix.mimic(*m) / mix.mimics();
        let (fp, se) = proportion(Criterion::Jansson.positives(pop, t), pop.count);
        specificity.0 += w * (1.0 - fp);
        specificity.1 += (w * se).powi(2);
    }
    specificity.1 = specificity.1.sqrt();
    MIMIC_TARGETS
        .iter()
        .zip([sensitivity, specificity])
        .map(|(target, (simulated, mcse))| CalibrationRow {
            target: target.clone(),
            simulated,
            mcse,
            not_applicable: (!simulated.is_finite())
                .then(|| "no simulated value (a population is empty)".to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c17_weighs_the_populations_by_jansson_2009() {
        let mut tally = DifferentialTally::default();
        let pops = &mut tally.populations;
        pops[0].count = 100;
        pops[0].jansson[50] = 70;
        pops[0].jansson[0] = 30;
        // Every bacterial osteomyelitis negative, every tumour half positive.
        for (i, n) in [(1, 10u64), (2, 1000), (3, 4)] {
            pops[i].count = n;
            pops[i].jansson[0] = if i == 1 { n } else { n / 2 };
            pops[i].jansson[60] = if i == 1 { 0 } else { n / 2 };
        }
        let rows = mimic_rows(&tally);
        assert!((rows[0].simulated - 0.70).abs() < 1e-12);
        let expected = (22.0 * 1.0 + 48.0 * 0.5 + 52.0 * 0.5) / 122.0;
        assert!((rows[1].simulated - expected).abs() < 1e-12);
    }
}
