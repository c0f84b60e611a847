//! Unit tests of `scenario::dist`.

use super::*;

#[derive(Debug, Deserialize)]
struct Holder {
    p: Param<Prob>,
}

fn parse(s: &str) -> Result<Holder, String> {
    toml::from_str::<Holder>(s).map_err(|e| e.to_string())
}

#[test]
fn number_or_table() {
    assert_eq!(parse("p = 0.3").unwrap().p, Param::fixed(0.3));
    let h = parse("p = { dist = \"beta\", alpha = 2, beta = 5 }").unwrap();
    assert!(matches!(h.p, Param::Random(Dist::Beta { .. })));
}

#[test]
fn probability_out_of_range_is_located() {
    let e = parse("\np = 1.5").unwrap_err();
    assert!(e.contains("line 2"), "{e}");
    assert!(e.contains("between 0 and 1"), "{e}");
}

#[test]
fn unbounded_normal_is_not_a_probability() {
    let e = parse("p = { dist = \"normal\", mean = 0.5, sd = 0.1 }").unwrap_err();
    assert!(e.contains("add `min`/`max`"), "{e}");
    assert!(parse("p = { dist = \"normal\", mean = 0.5, sd = 0.1, min = 0, max = 1 }").is_ok());
}

#[test]
fn inverted_bounds_are_refused() {
    let e = parse("p = { dist = \"uniform\", min = 0.8, max = 0.2 }").unwrap_err();
    assert!(e.contains("inverted"), "{e}");
}

#[test]
fn truncated_draws_stay_inside() {
    use rand::SeedableRng;
    let d = Dist::Normal {
        mean: 10.0,
        sd: 3.3,
        min: Some(2.0),
        max: Some(18.0),
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for _ in 0..10_000 {
        let x = d.sample(&mut rng);
        assert!((2.0..=18.0).contains(&x));
    }
}

/// The sampling of the distributions `rand_distr` builds per attempt, as
/// `Dist::sample` drew before its samplers were specialised (but for a gamma
/// of shape below 1, whose boost `U^(1/shape)` is now `exp(-E / shape)`).
fn sample_with_rand_distr<R: Rng + ?Sized>(d: &Dist, rng: &mut R) -> f64 {
    use rand_distr::{Gamma, LogNormal, Normal};
    let (lo, hi) = d.support();
    let draw = |rng: &mut R| match *d {
        Dist::Normal { mean, sd, .. } => Normal::new(mean, sd).map_or(mean, |n| n.sample(rng)),
        Dist::Lognormal { median, sdlog, .. } => {
            LogNormal::new(median.ln(), sdlog).map_or(median, |n| n.sample(rng))
        }
        Dist::Gamma { mean, shape, .. } if shape < 1.0 => {
            let e: f64 = rng.sample(rand_distr::Exp1);
            Gamma::new(shape + 1.0, mean / shape)
                .map_or(mean, |g| g.sample(rng) * (-e * (1.0 / shape)).exp())
        }
        Dist::Gamma { mean, shape, .. } => {
            Gamma::new(shape, mean / shape).map_or(mean, |g| g.sample(rng))
        }
        Dist::Beta { alpha, beta, .. } => {
            Beta::new(alpha, beta).map_or(alpha / (alpha + beta), |b| b.sample(rng))
        }
        Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
    };
    for _ in 0..MAX_REJECTIONS {
        let x = draw(rng);
        if x >= lo && x <= hi {
            return x + 0.0;
        }
    }
    draw(rng).clamp(lo, hi) + 0.0
}

/// Every kind, truncated or not, draws the values and leaves the generator
/// where sampling through `rand_distr`'s own distributions does.
#[test]
fn draws_what_rand_distr_draws() {
    use rand::SeedableRng;
    let kinds = [
        Dist::Normal {
            mean: 10.0,
            sd: 3.3,
            min: Some(2.0),
            max: Some(18.0),
        },
        Dist::Normal {
            mean: -1.0,
            sd: 0.5,
            min: None,
            max: None,
        },
        Dist::Lognormal {
            median: 3.0,
            sdlog: 0.8,
            min: None,
            max: Some(6.0),
        },
        Dist::Gamma {
            mean: 1.0,
            shape: 0.667,
            min: Some(0.1),
            max: None,
        },
        Dist::Gamma {
            mean: 30.0,
            shape: 2.5,
            min: None,
            max: None,
        },
        Dist::Gamma {
            mean: 2.0,
            shape: 1.0,
            min: None,
            max: None,
        },
        Dist::Beta {
            alpha: 2.0,
            beta: 5.0,
            min: Some(0.1),
            max: Some(0.9),
        },
        Dist::Uniform {
            min: 0.25,
            max: 2.0,
        },
    ];
    for (k, d) in kinds.iter().enumerate() {
        let mut ours = rand_pcg::Pcg64Mcg::seed_from_u64(k as u64);
        let mut theirs = ours.clone();
        for _ in 0..20_000 {
            let a = d.sample(&mut ours);
            let b = sample_with_rand_distr(d, &mut theirs);
            assert_eq!(a.to_bits(), b.to_bits(), "{d}");
        }
        assert_eq!(ours, theirs, "{d}");
    }
}
