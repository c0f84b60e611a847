//! Time units of the simulation (the engine counts days; scenario files speak
//! in weeks, months and years) and the rounding of a value to whole units of
//! a fixed-point scale, which the patient loop and the accumulators share.

/// Days per year (Julian).
pub const DAYS_PER_YEAR: f64 = 365.25;
/// Days per month (a twelfth of a Julian year).
pub const DAYS_PER_MONTH: f64 = DAYS_PER_YEAR / 12.0;

/// `x.round() as i64` for `0 <= x < 2^52`, without the library call that
/// `round()` is on baseline x86-64 (the fractional part `x - trunc(x)` is
/// exact, so the result is the same: halves round away from zero).
#[inline(always)]
pub(crate) fn round_nonnegative(x: f64) -> i64 {
    let t = x as i64;
    t + i64::from(x - t as f64 >= 0.5)
}
