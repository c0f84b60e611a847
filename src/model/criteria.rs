//! Clinical criteria computed from a patient's simulated findings at diagnosis:
//! the Jansson score [Jansson2009] and the Bristol criteria [Roderick2016].

/// What the clinician sees at diagnosis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    /// Blood cell count is normal.
    pub normal_blood_count: bool,
    /// Two lesions at the same paired site on opposite sides.
    pub symmetric_lesions: bool,
    /// A seen lesion shows marginal sclerosis (mixed or sclerotic stage).
    pub marginal_sclerosis: bool,
    /// No fever in the presenting flare.
    pub normal_temperature: bool,
    /// A seen lesion in a vertebra, clavicle or sternum.
    pub vertebral_clavicular_sternal: bool,
    /// Lesions seen on imaging (symptomatic plus detected silent ones).
    pub lesions_seen: u32,
    /// The only seen lesion is in the clavicle.
    pub solitary_clavicle: bool,
    /// CRP of the presenting flare, mg/l.
    pub crp_mg_l_x10: u32,
}

impl Findings {
    /// CRP in mg/l.
    pub fn crp_mg_l(&self) -> f64 {
        f64::from(self.crp_mg_l_x10) / 10.0
    }
}

/// Jansson score points per item.
///
/// The abstract of [Jansson2009] gives odds ratios, not points; the points are
/// derived as `round(63 * ln(OR_i) / sum(ln OR))`, which gives 13, 10, 10, 9,
/// 8, 7 and 6 (sum 63) for the odds ratios 81.5, 30.0, 26.8, 20.3, 13.9, 10.9, 6.9.
pub const JANSSON_POINTS: [(&str, f64, u32); 7] = [
    ("normal blood cell count", 81.5, 13),
    ("symmetric lesions", 30.0, 10),
    ("marginal sclerosis", 26.8, 10),
    ("normal body temperature", 20.3, 9),
    ("vertebral, clavicular or sternal lesion", 13.9, 8),
    ("more than one radiologically proven lesion", 10.9, 7),
    ("CRP >= 1 mg/dl", 6.9, 6),
];

/// Score at or above which NBO is considered likely (PPV 97%, sensitivity 68%).
pub const JANSSON_THRESHOLD: u32 = 39;

/// The Jansson score (0-63) of these findings.
pub fn jansson_score(f: &Findings) -> u32 {
    let items = [
        f.normal_blood_count,
        f.symmetric_lesions,
        f.marginal_sclerosis,
        f.normal_temperature,
        f.vertebral_clavicular_sternal,
        f.lesions_seen > 1,
        f.crp_mg_l_x10 >= 100,
    ];
    items
        .iter()
        .zip(JANSSON_POINTS.iter())
        .filter(|(hit, _)| **hit)
        .map(|(_, (_, _, pts))| pts)
        .sum()
}

/// Bristol criterion 1 (diagnosis without biopsy): typical findings (assumed),
/// more than one bone or the clavicle alone, and CRP not above `crp_cutoff_mg_l`.
pub fn bristol_criterion_1(f: &Findings, crp_cutoff_mg_l: f64) -> bool {
    (f.lesions_seen > 1 || f.solitary_clavicle) && f.crp_mg_l() <= crp_cutoff_mg_l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_follow_the_log_odds_rule() {
        let total: f64 = JANSSON_POINTS.iter().map(|(_, or, _)| or.ln()).sum();
        for (name, or, pts) in JANSSON_POINTS {
            assert_eq!((63.0 * or.ln() / total).round() as u32, pts, "{name}");
        }
        assert_eq!(JANSSON_POINTS.iter().map(|p| p.2).sum::<u32>(), 63);
    }

    #[test]
    fn score_adds_items() {
        let all = Findings {
            normal_blood_count: true,
            symmetric_lesions: true,
            marginal_sclerosis: true,
            normal_temperature: true,
            vertebral_clavicular_sternal: true,
            lesions_seen: 3,
            solitary_clavicle: false,
            crp_mg_l_x10: 150,
        };
        assert_eq!(jansson_score(&all), 63);
        let few = Findings {
            lesions_seen: 1,
            crp_mg_l_x10: 50,
            normal_blood_count: true,
            ..Findings::default()
        };
        assert_eq!(jansson_score(&few), 13);
    }

    #[test]
    fn bristol_needs_multifocal_or_clavicle_and_modest_crp() {
        let base = Findings {
            lesions_seen: 2,
            crp_mg_l_x10: 100,
            ..Findings::default()
        };
        assert!(bristol_criterion_1(&base, 30.0));
        assert!(!bristol_criterion_1(
            &Findings {
                crp_mg_l_x10: 400,
                ..base
            },
            30.0
        ));
        assert!(!bristol_criterion_1(
            &Findings {
                lesions_seen: 1,
                ..base
            },
            30.0
        ));
        assert!(bristol_criterion_1(
            &Findings {
                lesions_seen: 1,
                solitary_clavicle: true,
                ..base
            },
            30.0
        ));
    }
}
