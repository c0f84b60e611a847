//! Unit tests of `plot`.

use super::*;

#[test]
fn bundled_fonts_parse_and_register() {
    init_fonts();
    init_fonts();
    assert!(plotters::style::register_font(FONT, FontStyle::Normal, FONT_DATA).is_ok());
}

#[test]
fn format_follows_the_extension() {
    assert_eq!(Format::of(Path::new("a/b.PNG")).unwrap(), Format::Png);
    assert_eq!(Format::of(Path::new("b.svg")).unwrap(), Format::Svg);
    let e = Format::of(Path::new("b.pdf")).unwrap_err().to_string();
    assert!(e.contains(".png or .svg"), "{e}");
    assert!(Format::of(Path::new("noext")).is_err());
}

/// Tick labels of the positions plotters chooses, for ranges of many
/// sizes and label counts: distinct, and each reads back as its position.
#[test]
fn tick_labels_are_distinct_and_match_their_positions() {
    use plotters::coord::ranged1d::Ranged;
    use plotters::coord::types::RangedCoordf64;
    let ranges = [
        (0.0, 1.0),
        (0.3, 0.9),
        (0.2, 0.8),
        (0.0, 0.0004),
        (0.1995, 0.2005),
        (-3.0, 7.5),
        (0.0, 10.0),
        (12.0, 37.0),
        (1000.0, 1001.0),
        (0.0, 2_500_000.0),
    ];
    for (lo, hi) in ranges {
        let axis: RangedCoordf64 = (lo..hi).into();
        for n in [3, 5, 7, 11, 20] {
            let ticks = axis.key_points(n);
            let labels: Vec<String> = ticks.iter().map(|&v| fmt_tick(v)).collect();
            for (v, l) in ticks.iter().zip(&labels) {
                let back: f64 = l.parse().unwrap();
                let step = (hi - lo) / 1e6;
                assert!(
                    (back - v).abs() <= step,
                    "{lo}..{hi}, {n} ticks: {v} shown as {l}"
                );
            }
            let mut distinct = labels.clone();
            distinct.dedup();
            assert_eq!(distinct, labels, "{lo}..{hi}, {n} ticks");
            // No padding zeros: "0.2", not "0.2000".
            for l in &labels {
                assert!(!(l.contains('.') && l.ends_with('0')), "{l}");
            }
        }
    }
    assert_eq!(fmt_tick(0.45), "0.45");
    assert_eq!(fmt_tick(0.2), "0.2");
    assert_eq!(fmt_tick(5.0), "5");
    assert_eq!(fmt_tick(0.1 + 0.2), "0.3");
    assert_eq!(fmt_percent(0.025), "2.5%");
    assert_eq!(fmt_percent(0.5), "50%");
}
