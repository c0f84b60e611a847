//! A mimic at presentation: what the clinician sees of a child with
//! bacterial osteomyelitis or a bone tumour, drawn from its population's
//! feature values ([`MimicValues`]), as the same [`Findings`] the criteria
//! read for a CRMO patient at diagnosis.

use rand::Rng;
use rand_distr::{Distribution, Poisson};

use super::criteria::Findings;
use crate::scenario::differential::MimicValues;
use crate::scenario::Dist;

/// Youngest and oldest age at presentation, years: [Jansson2009]'s
/// controls were older than 3; the clinics were paediatric.
pub const AGE_RANGE_YEARS: (f64, f64) = (3.0, 18.0);

/// One simulated mimic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MimicCase {
    /// Age at presentation, years.
    pub age_years: f64,
    /// What the criteria read.
    pub findings: Findings,
}

/// Draws one mimic from `v`. The draws come in a fixed order (age, fever,
/// blood count, CRP, multifocality, symmetry, sclerosis, site, clavicle,
/// then the number of extra lesions), each mimic from its own stream.
pub fn draw_mimic<R: Rng + ?Sized>(v: &MimicValues, rng: &mut R) -> MimicCase {
    let (lo, hi) = AGE_RANGE_YEARS;
    let age = Dist::Normal {
        mean: v.age_mean_years,
        sd: v.age_sd_years,
        min: None,
        max: None,
    };
    let age_years = age.sample_within(rng, lo, hi);
    let fever = rng.random::<f64>() < v.p_fever;
    let abnormal_count = rng.random::<f64>() < v.p_abnormal_blood_count;
    let crp = Dist::Lognormal {
        median: v.crp_median_mg_l,
        sdlog: v.crp_sdlog,
        min: None,
        max: None,
    }
    .sample(rng);
    let multifocal = rng.random::<f64>() < v.p_multifocal;
    let symmetric = rng.random::<f64>() < v.p_symmetric;
    let sclerosis = rng.random::<f64>() < v.p_marginal_sclerosis;
    let axial = rng.random::<f64>() < v.p_vertebral_clavicular_sternal;
    let clavicle = rng.random::<f64>() < v.clavicle_share;
    let extra = if multifocal {
        extra_lesions(v.extra_lesions_mean, rng)
    } else {
        0
    };
    let lesions_seen = if multifocal { 2 + extra } else { 1 };
    MimicCase {
        age_years,
        findings: Findings {
            normal_blood_count: !abnormal_count,
            symmetric_lesions: multifocal && symmetric,
            marginal_sclerosis: sclerosis,
            normal_temperature: !fever,
            vertebral_clavicular_sternal: axial,
            lesions_seen,
            solitary_clavicle: lesions_seen == 1 && axial && clavicle,
            crp_mg_l_x10: crp_x10(crp),
        },
    }
}

/// Extra lesions of a multifocal presentation: Poisson with `mean`, at most 50.
fn extra_lesions<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> u32 {
    match Poisson::new(mean) {
        Ok(p) => (p.sample(rng) as u32).min(50),
        Err(_) => 0,
    }
}

/// CRP in tenths of mg/l, as [`Findings`] holds it.
fn crp_x10(crp_mg_l: f64) -> u32 {
    (crp_mg_l * 10.0).round().clamp(0.0, f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::differential::{Mimic, MimicParams};
    use rand::SeedableRng;

    /// The shares of the drawn items match their probabilities: 20 000
    /// draws, tolerance 4 standard errors (false alarm about 6e-5 each).
    #[test]
    fn items_follow_their_probabilities() {
        let v = MimicParams::builtin(Mimic::BacterialOsteomyelitis)
            .draw(&mut rand_pcg::Pcg64::seed_from_u64(1));
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let n = 20_000;
        let (mut fever, mut multi, mut sym, mut ages) = (0u32, 0u32, 0u32, Vec::new());
        for _ in 0..n {
            let c = draw_mimic(&v, &mut rng);
            fever += u32::from(!c.findings.normal_temperature);
            multi += u32::from(c.findings.lesions_seen > 1);
            sym += u32::from(c.findings.symmetric_lesions);
            ages.push(c.age_years);
        }
        let check = |k: u32, p: f64, what: &str| {
            let se = (p * (1.0 - p) / f64::from(n)).sqrt();
            let share = f64::from(k) / f64::from(n);
            assert!((share - p).abs() < 4.0 * se, "{what}: {share} vs {p}");
        };
        check(fever, v.p_fever, "fever");
        check(multi, v.p_multifocal, "multifocal");
        check(sym, v.p_multifocal * v.p_symmetric, "symmetric");
        assert!(ages.iter().all(|a| (3.0..=18.0).contains(a)));
    }

    #[test]
    fn crp_is_kept_in_tenths() {
        assert_eq!(crp_x10(10.0), 100);
        assert_eq!(crp_x10(0.04), 0);
        assert_eq!(crp_x10(f64::INFINITY), u32::MAX);
    }
}
