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

#[test]
fn capped_lesion_rows_count_the_lesions_left_out() {
    let row = |label: &str, n: usize| LesionRow {
        label: label.to_string(),
        lesions: (0..n).map(|i| (i, 0)).collect(),
        lanes: 1,
    };
    let mut rows = vec![row("a", 1), row("b", 2), row("c", 3), row("d", 1)];
    cap_lesion_rows(&mut rows, 4);
    assert_eq!(rows.len(), 4, "rows that fit stay");
    cap_lesion_rows(&mut rows, 3);
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["a", "b", "+4 more"]);
    assert!(rows[2].lesions.is_empty());
}
