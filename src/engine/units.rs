//! Time units of the simulation: the engine counts days; scenario files speak
//! in weeks, months and years.

/// Days per year (Julian).
pub const DAYS_PER_YEAR: f64 = 365.25;
/// Days per month (a twelfth of a Julian year).
pub const DAYS_PER_MONTH: f64 = DAYS_PER_YEAR / 12.0;
