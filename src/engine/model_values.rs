//! One replicate's model, ready to simulate: parameter values drawn, units
//! converted to days, and distribution objects built once instead of per draw.
//! Every value drawn from a distribution is recorded by its scenario path
//! (for `parameters.csv` and `check`).

use rand::Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Normal};

use crate::model::{Genotype, Site};
use crate::scenario::{Dist, Modality, NaturalHistoryValues, Scenario};

use super::accrual::EconomicsModel;
use super::drugs::{name_key, DrugModel, DrugTable};
use super::exp1::exp1;
use super::rng::ReplicateKey;
pub use super::units::{DAYS_PER_MONTH, DAYS_PER_YEAR};

/// One value a replicate drew from a distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnValue {
    /// The scenario path of the parameter, e.g. `natural_history.flare_rate_per_year`.
    pub parameter: String,
    /// The value drawn.
    pub value: f64,
    /// The distribution it was drawn from, as the scenario would write it.
    pub distribution: String,
}

/// Natural-history values of one genotype in simulation units (days).
#[derive(Debug, Clone)]
pub struct GenotypeModel {
    /// The values as drawn (scenario units), for reports.
    pub values: NaturalHistoryValues,
    /// Flare hazard in remission, per day.
    pub flare_hazard_per_day: f64,
    /// Natural duration of the first episode, days.
    pub first_flare_duration: GammaDuration,
    /// Natural duration of a later flare, days.
    pub flare_duration: GammaDuration,
    /// Frailty distribution (None: no frailty).
    pub frailty: Option<GammaDuration>,
    /// Resolution time from onset, days (None: never).
    pub resolution: Option<LogNormal<f64>>,
    /// Mixing gamma of the negative-binomial count of extra initial lesions (None: always 0).
    pub extra_lesions_mix: Option<GammaDuration>,
    /// Stage durations (lytic, mixed, sclerotic), days, untreated.
    pub stage_durations: [GammaDuration; 3],
    /// The scales of the three stage durations when all three are Erlang
    /// of shape 2 (the default shape), so that a new lesion draws them
    /// without dispatching on each one's kind.
    pub stage_erlang2_scales: Option<[f64; 3]>,
    /// Flare pain.
    pub pain: Normal<f64>,
    /// CRP when raised, mg/l.
    pub crp_raised: LogNormal<f64>,
    /// Days of symptoms (time in flares) before diagnosis (None: never).
    pub symptomatic_days_to_diagnosis: Option<LogNormal<f64>>,
    /// Loss-to-follow-up hazard per day after diagnosis.
    pub ltfu_per_day: f64,
    /// Probability of each condition at onset, in [`crate::model::Condition::ALL`] order.
    pub p_condition_at_onset: [f64; 5],
    /// Hazard per day of each condition starting later.
    pub condition_per_day: [f64; 5],
}

/// A whole replicate's model: both genotypes, the cohort and imaging.
#[derive(Debug, Clone)]
pub struct ReplicateModel {
    /// Replicate index.
    pub replicate: u32,
    /// Stream key of this replicate.
    pub key: ReplicateKey,
    /// Sporadic CRMO.
    pub sporadic: GenotypeModel,
    /// Majeed syndrome.
    pub majeed: GenotypeModel,
    /// Share of girls.
    pub female_frac: f64,
    /// Share of Majeed patients.
    pub majeed_frac: f64,
    /// Onset age, sporadic, years.
    pub onset_age: Dist,
    /// Onset age, Majeed, years.
    pub majeed_onset_age: Dist,
    /// Cumulative site weights, normalised to end at 1.
    pub site_cumulative: [f64; 11],
    /// For each of [`SITE_GUIDE_CELLS`] equal cells of [0, 1), the first
    /// site whose cumulative weight exceeds the cell's start: where the
    /// search for a uniform in that cell starts ([`Self::site_at`]).
    pub site_guide: [u8; SITE_GUIDE_CELLS],
    /// Sensitivity of imaging at diagnosis.
    pub sensitivity_at_diagnosis: f64,
    /// Sensitivity of follow-up imaging.
    pub sensitivity_follow_up: f64,
    /// Days between follow-up imaging.
    pub follow_up_every_days: f64,
    /// Horizon, days.
    pub horizon_days: f64,
    /// The drugs of the study's drug table (same order), this replicate's values.
    pub drugs: Vec<DrugModel>,
    /// Every value drawn from a distribution, in drawing order.
    pub drawn: Vec<DrawnValue>,
    /// Economic values (with `[economics]` only).
    pub economics: Option<EconomicsModel>,
}

impl ReplicateModel {
    /// Draws replicate `replicate`'s parameters and builds its model; the
    /// drugs are those of `drugs` (the study's table).
    pub fn new(s: &Scenario, drugs: &DrugTable, replicate: u32) -> Self {
        let key = ReplicateKey::new(s.seed, replicate);
        let mut rng = key.parameters();
        let mut drawn = Vec::new();
        let mut record = |parameter: String, value: f64, distribution: String| {
            drawn.push(DrawnValue {
                parameter,
                value,
                distribution,
            })
        };
        let female_frac = draw_at(
            "cohort.female_frac",
            &s.cohort.female_frac,
            &mut rng,
            &mut record,
        );
        let majeed_frac = draw_at(
            "cohort.majeed_frac",
            &s.cohort.majeed_frac,
            &mut rng,
            &mut record,
        );
        let sporadic_values = s.natural_history.draw_recorded(&mut rng, &mut |f, v, d| {
            record(format!("natural_history.{f}"), v, d)
        });
        let majeed_values =
            s.natural_history
                .draw_majeed_recorded(&sporadic_values, &mut rng, &mut |f, v, d| {
                    record(format!("natural_history.majeed.{f}"), v, d)
                });
        let im = &s.imaging;
        let sens_wbmri = draw_at(
            "imaging.sensitivity_wbmri",
            &im.sensitivity_wbmri,
            &mut rng,
            &mut record,
        );
        let sens_scint = draw_at(
            "imaging.sensitivity_scintigraphy",
            &im.sensitivity_scintigraphy,
            &mut rng,
            &mut record,
        );
        let sens_xray = draw_at(
            "imaging.sensitivity_radiograph",
            &im.sensitivity_radiograph,
            &mut rng,
            &mut record,
        );
        let sensitivity = |m: Modality| match m {
            Modality::Wbmri => sens_wbmri,
            Modality::Scintigraphy => sens_scint,
            Modality::Radiograph => sens_xray,
        };
        let follow_up_every_days = draw_at(
            "imaging.follow_up_every_months",
            &im.follow_up_every_months,
            &mut rng,
            &mut record,
        ) * DAYS_PER_MONTH;
        let drug_models = drugs.draw(&key, &mut record);
        let economics = s
            .economics
            .as_ref()
            .map(|e| economics_model(s, e, drugs, &key, &mut record));
        let weights = s.natural_history.site_weights.as_array();
        let total: f64 = weights.iter().sum();
        let mut site_cumulative = [0.0; 11];
        let mut acc = 0.0;
        for (c, w) in site_cumulative.iter_mut().zip(weights) {
            acc += w / total;
            *c = acc;
        }
        site_cumulative[10] = 1.0;
        let site_guide = std::array::from_fn(|cell| {
            let start = cell as f64 / SITE_GUIDE_CELLS as f64;
            first_site_above(&site_cumulative, start, 0) as u8
        });
        ReplicateModel {
            replicate,
            key,
            sporadic: GenotypeModel::new(sporadic_values),
            majeed: GenotypeModel::new(majeed_values),
            female_frac,
            majeed_frac,
            onset_age: s.cohort.onset_age_years.clone(),
            majeed_onset_age: s.cohort.majeed_onset_age_years.clone(),
            site_cumulative,
            site_guide,
            sensitivity_at_diagnosis: sensitivity(im.at_diagnosis),
            sensitivity_follow_up: sensitivity(im.follow_up),
            follow_up_every_days,
            horizon_days: s.horizon_years * DAYS_PER_YEAR,
            drugs: drug_models,
            drawn,
            economics,
        }
    }

    /// The model of one genotype.
    pub fn genotype(&self, g: Genotype) -> &GenotypeModel {
        match g {
            Genotype::Sporadic => &self.sporadic,
            Genotype::Majeed => &self.majeed,
        }
    }

    /// Whether any patient can have a lesion: one at onset or in a later
    /// flare, in a genotype the cohort has. Without, the lesion layer is compiled out
    /// of the patient loop (a scenario pays only for the parts it uses).
    pub fn has_lesions(&self) -> bool {
        let present = [
            (&self.sporadic, self.majeed_frac < 1.0),
            (&self.majeed, self.majeed_frac > 0.0),
        ];
        present.iter().any(|&(g, present)| {
            present
                && (g.values.p_lesion_at_onset > 0.0
                    || g.extra_lesions_mix.is_some()
                    || g.values.new_lesions_per_flare > 0.0)
        })
    }

    /// The lesion site that the uniform `u` in [0, 1) picks: the first
    /// whose cumulative weight exceeds `u`.
    #[inline]
    pub fn site_at(&self, u: f64) -> Site {
        // No site before the guide's one for u's cell can be it (their
        // cumulative weights are at most the cell's start), and a cell
        // holds about one boundary between sites: a step or two from there
        // rather than a scan from the first site. `u * 16` is exact, so u's
        // cell never starts above it.
        let cell = ((u * SITE_GUIDE_CELLS as f64) as usize).min(SITE_GUIDE_CELLS - 1);
        let from = usize::from(self.site_guide[cell]);
        Site::ALL[first_site_above(&self.site_cumulative, u, from)]
    }
}

/// Cells of the guide table that starts the search for a lesion's site.
pub const SITE_GUIDE_CELLS: usize = 16;

/// The first site from `from` on whose cumulative weight exceeds `u`, the
/// last (the rest of the weight) when none before it does.
#[inline(always)]
fn first_site_above(cumulative: &[f64; 11], u: f64, from: usize) -> usize {
    let mut i = from;
    while i < 10 && cumulative[i] <= u {
        i += 1;
    }
    i
}

/// Draws a replicate's value of one parameter, recording it under `path`
/// when it comes from a distribution.
fn draw_at<K: crate::scenario::dist::Kind>(
    path: &str,
    p: &crate::scenario::Param<K>,
    rng: &mut super::rng::Stream,
    record: &mut dyn FnMut(String, f64, String),
) -> f64 {
    let v = p.draw(rng);
    if p.is_random() {
        record(path.to_string(), v, p.to_string());
    }
    v
}

/// A gamma-distributed duration. A whole-number shape up to
/// [`ERLANG_MAX_SHAPE`] is drawn as a sum of exponentials (an Erlang
/// distribution, the same law), which is several times cheaper than the
/// general gamma sampler and these durations are drawn for every lesion stage.
// A plain one-byte tag: without it the variant is decoded from a niche in
// the general sampler's own tag, a few more instructions on every draw.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub enum GammaDuration {
    /// Sum of `k` exponentials, times `scale`.
    Erlang {
        /// Shape (number of exponentials).
        k: u32,
        /// Scale (mean / k).
        scale: f64,
    },
    /// Any other shape.
    Gamma(Gamma<f64>),
    /// A point mass: the gamma's spread is below floating-point resolution
    /// (a huge shape, or a scale that underflows), so every draw is the mean.
    Fixed(f64),
}

/// Largest whole shape drawn as a sum of exponentials.
pub const ERLANG_MAX_SHAPE: f64 = 8.0;

impl GammaDuration {
    /// A gamma duration with this mean and shape.
    pub fn new(mean: f64, shape: f64) -> Self {
        if shape.fract() == 0.0 && (1.0..=ERLANG_MAX_SHAPE).contains(&shape) {
            GammaDuration::Erlang {
                k: shape as u32,
                scale: mean / shape,
            }
        } else {
            Self::general(mean, shape)
        }
    }

    /// A gamma drawn by the general sampler (never the Erlang shortcut).
    pub fn general(mean: f64, shape: f64) -> Self {
        gamma(mean, shape).map_or(GammaDuration::Fixed(mean), GammaDuration::Gamma)
    }
}

impl Distribution<f64> for GammaDuration {
    // Inlined: stage and flare durations are drawn a few dozen times per
    // patient, and the common shapes (Erlang 1 and 2) are a few instructions
    // beside the call; the general sampler stays out of line.
    #[inline(always)]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            // The default shape of flare and stage durations: two draws
            // without the loop (the same sum: 0 + a + b = a + b).
            // Exponential durations (the two-state model): one draw, no loop.
            GammaDuration::Erlang { k: 1, scale } => {
                let a = exp1(rng);
                a * scale
            }
            GammaDuration::Erlang { k: 2, scale } => {
                let a = exp1(rng);
                let b = exp1(rng);
                (a + b) * scale
            }
            GammaDuration::Erlang { k, scale } => {
                let sum: f64 = (0..*k).map(|_| exp1(rng)).sum();
                sum * scale
            }
            GammaDuration::Gamma(g) => sample_general(g, rng),
            GammaDuration::Fixed(x) => *x,
        }
    }
}

/// The general gamma sampler, kept out of line so that the Erlang paths inline.
#[inline(never)]
fn sample_general<R: Rng + ?Sized>(g: &Gamma<f64>, rng: &mut R) -> f64 {
    g.sample(rng)
}

/// Gamma with a given mean and shape. Scenario limits keep means and shapes
/// in range; only a spread below floating-point resolution (a scale that
/// underflows to 0, or a shape that overflows) is refused here.
fn gamma(mean: f64, shape: f64) -> Option<Gamma<f64>> {
    Gamma::new(shape, mean / shape).ok()
}

/// Log-normal with a given median and log-sd; a zero log-sd is a point mass.
fn lognormal(median: f64, sdlog: f64) -> LogNormal<f64> {
    LogNormal::new(median.ln(), sdlog).expect("validated lognormal parameters")
}

impl GenotypeModel {
    /// Whether a patient can be diagnosed at all: after a finite amount of
    /// symptoms, or by the early route.
    pub fn can_diagnose(&self) -> bool {
        self.symptomatic_days_to_diagnosis.is_some() || self.values.p_early_diagnosis > 0.0
    }

    /// Converts drawn values into simulation units.
    pub fn new(v: NaturalHistoryValues) -> Self {
        let stage_shape = v.lesion_stage_shape;
        let stage_durations = [
            GammaDuration::new(v.lesion_lytic_months * DAYS_PER_MONTH, stage_shape),
            GammaDuration::new(v.lesion_mixed_months * DAYS_PER_MONTH, stage_shape),
            GammaDuration::new(v.lesion_sclerotic_months * DAYS_PER_MONTH, stage_shape),
        ];
        let stage_erlang2_scales = match stage_durations {
            [GammaDuration::Erlang { k: 2, scale: a }, GammaDuration::Erlang { k: 2, scale: b }, GammaDuration::Erlang { k: 2, scale: c }] => {
                Some([a, b, c])
            }
            _ => None,
        };
        GenotypeModel {
            flare_hazard_per_day: v.flare_rate_per_year / DAYS_PER_YEAR,
            first_flare_duration: GammaDuration::new(
                v.first_flare_duration_mean_weeks * 7.0,
                v.first_flare_duration_shape,
            ),
            flare_duration: GammaDuration::new(
                v.flare_duration_mean_weeks * 7.0,
                v.flare_duration_shape,
            ),
            // A variance below 1/f64::MAX makes the shape infinite: the
            // frailty is then 1 to machine precision.
            frailty: (v.frailty_variance > 0.0 && (1.0 / v.frailty_variance).is_finite())
                .then(|| GammaDuration::general(1.0, 1.0 / v.frailty_variance)),
            resolution: v.resolution_median_years.is_finite().then(|| {
                lognormal(
                    v.resolution_median_years * DAYS_PER_YEAR,
                    v.resolution_sdlog,
                )
            }),
            extra_lesions_mix: (v.initial_extra_lesions_mean > 0.0).then(|| {
                GammaDuration::general(
                    v.initial_extra_lesions_mean,
                    v.initial_extra_lesions_dispersion,
                )
            }),
            stage_durations,
            stage_erlang2_scales,
            pain: Normal::new(v.pain_mean_vas, v.pain_sd_vas).expect("validated pain"),
            crp_raised: lognormal(v.crp_raised_median_mg_l, v.crp_raised_sdlog),
            symptomatic_days_to_diagnosis: v
                .symptomatic_months_to_diagnosis_median
                .is_finite()
                .then(|| {
                    lognormal(
                        v.symptomatic_months_to_diagnosis_median * DAYS_PER_MONTH,
                        v.symptomatic_months_to_diagnosis_sdlog,
                    )
                }),
            ltfu_per_day: v.loss_to_follow_up_per_year / DAYS_PER_YEAR,
            p_condition_at_onset: [
                v.p_ppp_at_onset,
                v.p_psoriasis_at_onset,
                v.p_acne_at_onset,
                v.p_ibd_at_onset,
                v.p_arthritis_at_onset,
            ],
            condition_per_day: [
                v.ppp_per_year / DAYS_PER_YEAR,
                v.psoriasis_per_year / DAYS_PER_YEAR,
                v.acne_per_year / DAYS_PER_YEAR,
                v.ibd_per_year / DAYS_PER_YEAR,
                v.arthritis_per_year / DAYS_PER_YEAR,
            ],
            values: v,
        }
    }
}

/// One replicate's economic values: `[economics]` from its own stream, then
/// each drug's costs from a stream named by the drug (scenario value, else
/// the catalogue's illustrative default). Drawn values are recorded after
/// every model parameter, so `parameters.csv` keeps its earlier rows.
fn economics_model(
    s: &Scenario,
    e: &crate::scenario::economics::Economics,
    drugs: &DrugTable,
    key: &super::rng::ReplicateKey,
    record: &mut dyn FnMut(String, f64, String),
) -> EconomicsModel {
    let mut rng = key.economics_parameters(0);
    let (discount_costs, discount_effects, costs, utilities) = e.draw_recorded(&mut rng, record);
    let mut per_day = Vec::new();
    let mut per_course = Vec::new();
    for entry in drugs.entries() {
        let mut rng = key.economics_parameters(name_key(&entry.name));
        let (day, course, _) = crate::scenario::economics::catalogue_drug_cost(&entry.name);
        for (field, given, default, out) in [
            ("cost_per_day", &entry.spec.cost_per_day, day, &mut per_day),
            (
                "cost_per_course",
                &entry.spec.cost_per_course,
                course,
                &mut per_course,
            ),
        ] {
            out.push(match given {
                Some(p) => {
                    let v = p.draw(&mut rng);
                    if p.is_random() {
                        record(format!("drugs.{}.{field}", entry.name), v, p.to_string());
                    }
                    v
                }
                None => default,
            });
        }
    }
    EconomicsModel {
        discount_costs,
        discount_effects,
        imaging_at_diagnosis: costs.imaging(s.imaging.at_diagnosis),
        imaging_follow_up: costs.imaging(s.imaging.follow_up),
        costs,
        utilities,
        drug_cost_per_day: per_day,
        drug_cost_per_course: per_course,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The guided search picks the site the plain scan picks ("the first
    /// site whose cumulative weight exceeds u"), at and around every
    /// boundary, with empty sites and at the ends of [0, 1].
    #[test]
    fn the_guided_site_search_is_the_first_cumulative_weight_above_u() {
        let scan = |c: &[f64; 11], u: f64| c.iter().position(|&c| u < c).unwrap_or(10);
        let weights = [
            [30.0, 20.0, 15.0, 10.0, 8.0, 6.0, 4.0, 3.0, 2.0, 1.5, 0.5],
            [0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            [1.0; 11],
        ];
        for w in weights {
            let total: f64 = w.iter().sum();
            let mut c = [0.0; 11];
            let mut acc = 0.0;
            for (c, w) in c.iter_mut().zip(w) {
                acc += w / total;
                *c = acc;
            }
            c[10] = 1.0;
            let guide = std::array::from_fn(|cell| {
                first_site_above(&c, cell as f64 / SITE_GUIDE_CELLS as f64, 0) as u8
            });
            let scenario: crate::scenario::Scenario = toml::from_str("").unwrap();
            let mut m = ReplicateModel::new(&scenario, &Default::default(), 0);
            (m.site_cumulative, m.site_guide) = (c, guide);
            let mut us: Vec<f64> = (0..=1000).map(|k| f64::from(k) / 1000.0).collect();
            for b in c.iter().chain(&[0.0, 0.5, 1.0]) {
                us.extend(
                    [b.next_down(), *b, b.next_up()]
                        .into_iter()
                        .filter(|u| (0.0..=1.0).contains(u)),
                );
            }
            for u in us {
                assert_eq!(
                    m.site_at(u),
                    Site::ALL[scan(&c, u)],
                    "u = {u}, weights {w:?}"
                );
            }
        }
    }

    /// The Erlang path has the gamma's mean and variance (k·θ, k·θ²);
    /// tolerance 4 standard errors (false alarm ~6e-5 per check).
    #[test]
    fn erlang_durations_have_the_gamma_moments() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let d = GammaDuration::new(280.0, 2.0);
        assert!(matches!(d, GammaDuration::Erlang { k: 2, .. }));
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let (mu, sigma2) = (280.0, 2.0 * 140.0 * 140.0);
        assert!(
            (mean - mu).abs() < 4.0 * (sigma2 / n as f64).sqrt(),
            "mean {mean}"
        );
        // Var of the sample variance for a gamma: sigma^4 (2/(n-1) + 6/(k n)).
        let se_var = sigma2 * (2.0 / (n - 1) as f64 + 6.0 / (2.0 * n as f64)).sqrt();
        assert!(
            (var - sigma2).abs() < 4.0 * se_var,
            "variance {var} vs {sigma2}"
        );
        assert!(matches!(
            GammaDuration::new(1.0, 2.5),
            GammaDuration::Gamma(_)
        ));
    }
}
