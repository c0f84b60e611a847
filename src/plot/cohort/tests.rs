//! Unit tests of `plot::cohort`.

use super::*;
use crate::engine::accum::ENDPOINTS;

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
