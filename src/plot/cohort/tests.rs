//! Unit tests of `plot::cohort`.

use super::*;
use crate::engine::accum::ENDPOINTS;
use crate::engine::patient::{Segment, State};

#[test]
fn the_km_plot_shows_remission_after_diagnosis() {
    assert_eq!(ENDPOINTS[KM_ENDPOINT], "first_remission_from_diagnosis");
}

#[test]
fn cohort_sizes_get_thousands_separators() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(12_345_678), "12,345,678");
}

#[test]
fn shares_sum_to_one() {
    let mut occ = Occupancy::new(4, 7, 0);
    let seg = |a: f64, b: f64, state, pain| Segment {
        start_day: a,
        end_day: b,
        state,
        pain,
        activity: pain / 2.0,
    };
    occ.add_segments(&[
        seg(0.0, 10.0, State::Active, 6.0),
        seg(10.0, 28.0, State::Remission, 0.0),
    ]);
    occ.add_segments(&[
        seg(0.0, 15.0, State::Active, 4.0),
        seg(15.0, 28.0, State::Lost, 0.0),
    ]);
    for s in state_shares(&occ, 2.0) {
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{s:?}");
    }
    let pain = mean_pain_series(&occ);
    assert_eq!(pain[0].observed, 2.0);
    assert!((pain[0].mean - 5.0).abs() < 1e-9);
    // Day 14: one patient in a flare (4), one in remission (0).
    assert!((pain[2].mean - 2.0).abs() < 1e-9);
    // Day 21: one observed patient in remission; the lost one does not count.
    assert_eq!((pain[3].observed, pain[3].mean), (1.0, 0.0));
    let f = flare_shares(&[0, 3, 1]);
    assert_eq!(f, vec![0.0, 0.75, 0.25]);
}
