//! Time units of the simulation (the engine counts days; scenario files speak
//! in weeks, months and years) and the rounding of a value to whole units of
//! a fixed-point scale, which the patient loop and the accumulators share.

/// Days per year (Julian).
pub const DAYS_PER_YEAR: f64 = 365.25;
/// Days per month (a twelfth of a Julian year).
pub const DAYS_PER_MONTH: f64 = DAYS_PER_YEAR / 12.0;

/// 2^52: a number in [0, 2^52) plus this is that number rounded to a whole
/// one (the spacing of doubles there is 1), half to even.
pub(crate) const ROUNDING_SHIFT: f64 = 4_503_599_627_370_496.0;

/// `x.round() as i64` for `0 <= x < 2^52`, without the library call that
/// `round()` is on baseline x86-64, nor a float-to-integer conversion (whose
/// saturation checks cost more than the rounding): `x + 2^52` rounds `x`
/// to a whole `r`, half to even, which the low bits of the sum hold; the
/// remainder `x - r` is exact, and is 0.5 only where a half went down to
/// even, which `round()` takes up instead.
#[inline(always)]
pub(crate) fn round_nonnegative(x: f64) -> i64 {
    debug_assert!((0.0..ROUNDING_SHIFT).contains(&x), "{x} is in [0, 2^52)");
    let shifted = x + ROUNDING_SHIFT;
    let r = shifted.to_bits().wrapping_sub(ROUNDING_SHIFT.to_bits()) as i64;
    r + i64::from(x - (shifted - ROUNDING_SHIFT) >= 0.5)
}
