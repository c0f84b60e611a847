//! Kaplan–Meier estimates with Greenwood 95% bands, from per-day event and
//! censoring counts.

use crate::engine::accum::SurvivalCounts;

/// One step of a Kaplan–Meier curve (a day with events or censorings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmRow {
    /// Day (whole days since the time origin).
    pub day: usize,
    /// Subjects at risk at the start of the day.
    pub at_risk: u64,
    /// Events on the day.
    pub events: u64,
    /// Censorings on the day (counted after the day's events).
    pub censored: u64,
    /// Survival after the day.
    pub survival: f64,
    /// Greenwood standard error of the survival.
    pub std_error: f64,
    /// Lower end of the 95% band (plain Greenwood, clipped to [0, 1]).
    pub lower_95: f64,
    /// Upper end of the 95% band.
    pub upper_95: f64,
}

/// The Kaplan–Meier curve of the counts: one row per day with any event or censoring.
pub fn kaplan_meier(c: &SurvivalCounts) -> Vec<KmRow> {
    let mut at_risk: u64 = c.events.iter().sum::<u64>() + c.censored.iter().sum::<u64>();
    let mut survival = 1.0;
    let mut greenwood_sum = 0.0;
    let mut rows = Vec::new();
    for (day, (&d, &cens)) in c.events.iter().zip(&c.censored).enumerate() {
        if d == 0 && cens == 0 {
            continue;
        }
        if d > 0 {
            let n = at_risk as f64;
            let dd = d as f64;
            survival *= 1.0 - dd / n;
            if at_risk > d {
                greenwood_sum += dd / (n * (n - dd));
            }
        }
        let se = survival * greenwood_sum.sqrt();
        rows.push(KmRow {
            day,
            at_risk,
            events: d,
            censored: cens,
            survival,
            std_error: se,
            lower_95: (survival - 1.96 * se).clamp(0.0, 1.0),
            upper_95: (survival + 1.96 * se).clamp(0.0, 1.0),
        });
        at_risk -= d + cens;
    }
    rows
}

/// The median time (first day at which survival falls to 0.5 or below), if reached.
pub fn km_median(rows: &[KmRow]) -> Option<f64> {
    rows.iter()
        .find(|r| r.survival <= 0.5)
        .map(|r| r.day as f64)
}

/// The median with a 95% interval from the band (Brookmeyer–Crowley style:
/// the days where the lower and upper bands cross 0.5) and its implied standard error.
pub fn km_median_with_interval(rows: &[KmRow]) -> (f64, f64, f64, f64) {
    let cross = |f: fn(&KmRow) -> f64| {
        rows.iter()
            .find(|r| f(r) <= 0.5)
            .map_or(f64::NAN, |r| r.day as f64)
    };
    let med = km_median(rows).unwrap_or(f64::NAN);
    let lo = cross(|r| r.lower_95);
    let hi = cross(|r| r.upper_95);
    (med, lo, hi, (hi - lo) / (2.0 * 1.96))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survival_is_one_without_events() {
        let mut c = SurvivalCounts::new(10);
        c.add(3.0, false);
        let rows = kaplan_meier(&c);
        assert_eq!(rows[0].survival, 1.0);
        assert_eq!(rows[0].std_error, 0.0);
    }
}
