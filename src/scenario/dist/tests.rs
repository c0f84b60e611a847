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
