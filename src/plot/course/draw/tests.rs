//! Unit tests of `plot::course::draw`.

use super::*;

#[test]
fn years_parse_as_a_range() {
    assert_eq!(parse_years("0..5"), Ok((0.0, 5.0)));
    assert_eq!(parse_years(" 1.5 .. 4"), Ok((1.5, 4.0)));
    for bad in ["5..1", "..3", "a..b", "3", "-1..2", "2..2"] {
        assert!(parse_years(bad).is_err(), "{bad}");
    }
}

#[test]
fn pain_line_clips_to_the_window() {
    let line = [(0.0, 0.0), (1.0, 0.0), (1.0, 6.0), (3.0, 6.0), (3.0, 0.0)];
    let c = clip_line(&line, (2.0, 4.0));
    assert_eq!(c, vec![(2.0, 6.0), (3.0, 6.0), (3.0, 6.0), (3.0, 0.0)]);
}
