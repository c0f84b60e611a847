//! Trial endpoints, each measured from a patient's entry into the trial, and
//! how loss to follow-up enters each one:
//!
//! | endpoint | kind | loss to follow-up before the time point |
//! |---|---|---|
//! | `pedcno50_6_months`, `pedcno50_12_months` | binary | missing (complete cases) |
//! | `flare_free_12_months` | binary | missing (complete cases) |
//! | `time_to_relapse` | time to event | censors |
//! | `flares_per_patient_year` | count over time observed | shortens the time observed |
//! | `activity_score_12_months` | continuous | missing (complete cases) |
//!
//! Values come from the engine's own per-patient outcome ([`Outcome`]: the
//! PedCNO core sets and checkpoints after diagnosis, loss to follow-up) and
//! from the flare start and end days the course reports to an observer
//! ([`FlareLog`]); nothing of the disease course is computed here.

use crate::engine::events::{EventKind, Observer};
use crate::engine::outcome::Outcome;
use crate::engine::units::DAYS_PER_YEAR;

/// The test of a binary endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryTest {
    /// Pearson's chi-square without continuity correction (the two-proportion z-test).
    ChiSquare,
    /// Fisher's exact test, two-sided.
    Fisher,
}

/// A year, the 12-month time point (the engine's second checkpoint).
const TWELVE_MONTHS_DAYS: f64 = DAYS_PER_YEAR;

/// A trial endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// PedCNO50 response 6 months after entry, against entry (binary).
    PedCno50At6Months,
    /// PedCNO50 response 12 months after entry, against entry (binary).
    PedCno50At12Months,
    /// Flare-free 12 months after entry: the flare running at entry (if any)
    /// has ended and no new flare has started within the 12 months (binary).
    FlareFree12Months,
    /// Days from entry to the first flare that starts after entry.
    TimeToRelapse,
    /// Flares starting after entry, per patient-year observed in follow-up.
    FlaresPerPatientYear,
    /// Disease activity score (0-10) 12 months after entry.
    ActivityScore12Months,
}

/// What kind of value an endpoint is, which decides its test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 0 or 1.
    Binary,
    /// A time with an event or censoring.
    TimeToEvent,
    /// A count over an exposure time.
    Rate,
    /// A real number.
    Continuous,
}

impl Endpoint {
    /// Every endpoint, in the order the help lists them.
    pub const ALL: [Endpoint; 6] = [
        Endpoint::PedCno50At6Months,
        Endpoint::PedCno50At12Months,
        Endpoint::FlareFree12Months,
        Endpoint::TimeToRelapse,
        Endpoint::FlaresPerPatientYear,
        Endpoint::ActivityScore12Months,
    ];

    /// The name in `--endpoint` and the CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::PedCno50At6Months => "pedcno50_6_months",
            Endpoint::PedCno50At12Months => "pedcno50_12_months",
            Endpoint::FlareFree12Months => "flare_free_12_months",
            Endpoint::TimeToRelapse => "time_to_relapse",
            Endpoint::FlaresPerPatientYear => "flares_per_patient_year",
            Endpoint::ActivityScore12Months => "activity_score_12_months",
        }
    }

    /// The endpoint called `name`.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The kind of value.
    pub fn kind(self) -> Kind {
        match self {
            Endpoint::PedCno50At6Months
            | Endpoint::PedCno50At12Months
            | Endpoint::FlareFree12Months => Kind::Binary,
            Endpoint::TimeToRelapse => Kind::TimeToEvent,
            Endpoint::FlaresPerPatientYear => Kind::Rate,
            Endpoint::ActivityScore12Months => Kind::Continuous,
        }
    }

    /// The test applied (the name in the `test` column of `power.csv`).
    pub fn test_name(self, binary: BinaryTest) -> &'static str {
        match (self.kind(), binary) {
            (Kind::Binary, BinaryTest::ChiSquare) => "pearson_chi_square",
            (Kind::Binary, BinaryTest::Fisher) => "fisher_exact",
            (Kind::TimeToEvent, _) => "log_rank",
            (Kind::Rate, _) => "quasi_poisson_rate_ratio",
            (Kind::Continuous, _) => "welch_t",
        }
    }

    /// What `estimate` (and `effect_mean`) of a comparison is.
    pub fn estimate_name(self) -> &'static str {
        match self.kind() {
            Kind::Binary => "risk difference, arm minus control",
            Kind::TimeToEvent => {
                "hazard ratio, arm against control, from the log-rank (O/E ratio: (O_arm/E_arm)/(O_control/E_control))"
            }
            Kind::Rate => "rate ratio, arm against control (pooled flares over pooled years)",
            Kind::Continuous => "difference in means, arm minus control",
        }
    }

    /// What `control_mean` and `arm_mean` are: the mean over trials of
    /// this summary of each group.
    pub fn group_summary_name(self) -> &'static str {
        match self.kind() {
            Kind::Binary => "share of analysed patients with the outcome",
            Kind::TimeToEvent => "share of patients with a relapse observed in follow-up",
            Kind::Rate => "flares per patient-year (pooled)",
            Kind::Continuous => "mean score of analysed patients",
        }
    }

    /// How loss to follow-up (and the end of follow-up) enters the endpoint.
    pub fn missing_rule(self) -> &'static str {
        match self.kind() {
            Kind::Binary | Kind::Continuous => {
                "missing if lost to follow-up before the time point; complete cases are analysed"
            }
            Kind::TimeToEvent => "censored at loss to follow-up or the end of follow-up",
            Kind::Rate => "flares and time counted until loss to follow-up or the end of follow-up",
        }
    }

    /// Whether the endpoint can be measured from an entry later than
    /// diagnosis (the PedCNO core set and the activity checkpoints of the
    /// engine are kept at diagnosis and 6 and 12 months after it).
    pub fn after_any_entry(self) -> bool {
        matches!(
            self,
            Endpoint::FlareFree12Months | Endpoint::TimeToRelapse | Endpoint::FlaresPerPatientYear
        )
    }

    /// The endpoint of one enrolled patient who entered on `entry_day`,
    /// followed for `follow_up_days` (entry plus follow-up lies within the
    /// horizon: enrolment sees to it).
    pub fn measure(self, course: &Course, entry_day: f64, follow_up_days: f64) -> Measure {
        let end = course.outcome.observed_days.min(entry_day + follow_up_days);
        match self {
            Endpoint::PedCno50At6Months => pedcno50(course.outcome, 1),
            Endpoint::PedCno50At12Months => pedcno50(course.outcome, 2),
            Endpoint::FlareFree12Months => flare_free(course, entry_day + TWELVE_MONTHS_DAYS),
            Endpoint::TimeToRelapse => {
                let relapse = course.first_start_after(entry_day).filter(|&d| d <= end);
                Measure {
                    value: None,
                    time_days: Some(relapse.unwrap_or(end) - entry_day),
                    event: Some(relapse.is_some()),
                }
            }
            Endpoint::FlaresPerPatientYear => {
                let exposure = end - entry_day;
                Measure {
                    value: (exposure > 0.0).then(|| course.starts_within(entry_day, end) as f64),
                    time_days: Some(exposure),
                    event: None,
                }
            }
            Endpoint::ActivityScore12Months => {
                let c = &course.outcome.checkpoints;
                Measure {
                    value: (c.state[1] != 0).then_some(f64::from(c.activity[1])),
                    time_days: None,
                    event: None,
                }
            }
        }
    }
}

/// PedCNO50 at checkpoint `k` (1: 6 months, 2: 12 months after diagnosis)
/// against the core set at diagnosis; missing when not observed then.
fn pedcno50(o: &Outcome, k: usize) -> Measure {
    let value = match (&o.core_set[0], &o.core_set[k]) {
        (Some(base), Some(now)) => Some(if now.pedcno(base, 50.0) { 1.0 } else { 0.0 }),
        _ => None,
    };
    Measure {
        value,
        time_days: None,
        event: None,
    }
}

/// Flare-free at `day`: observed then, not in a flare then, and no flare
/// started after entry up to it.
fn flare_free(course: &Course, day: f64) -> Measure {
    let entry = day - TWELVE_MONTHS_DAYS;
    let value = (course.outcome.observed_days > day).then(|| {
        let in_flare = course.flares.iter().any(|&(s, e)| s <= day && day < e);
        let started = course.starts_within(entry, day) > 0;
        if in_flare || started {
            0.0
        } else {
            1.0
        }
    });
    Measure {
        value,
        time_days: None,
        event: None,
    }
}

/// One patient's endpoint value: a value (binary 0/1, a count or a score;
/// None when missing), a time in days (time to event or exposure) and
/// whether the event was observed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Measure {
    /// Binary outcome, flare count or score (None: missing).
    pub value: Option<f64>,
    /// Days from entry to the event or censoring, or days of exposure.
    pub time_days: Option<f64>,
    /// Event observed (time to event only).
    pub event: Option<bool>,
}

/// What the trial reads of one simulated course.
#[derive(Debug, Clone, Copy)]
pub struct Course<'a> {
    /// The engine's per-patient outcome.
    pub outcome: &'a Outcome,
    /// Flares `(start_day, end_day)` in order; a flare still running at the
    /// end of observation ends at infinity.
    pub flares: &'a [(f64, f64)],
}

impl Course<'_> {
    /// The first flare start strictly after `day`.
    pub fn first_start_after(&self, day: f64) -> Option<f64> {
        self.flares.iter().map(|f| f.0).find(|&s| s > day)
    }

    /// Flares started in `(from, to]`.
    pub fn starts_within(&self, from: f64, to: f64) -> usize {
        self.flares
            .iter()
            .filter(|f| f.0 > from && f.0 <= to)
            .count()
    }
}

/// An observer that keeps the flares of a course.
#[derive(Debug, Default, Clone)]
pub struct FlareLog {
    /// Flares `(start_day, end_day)`; end infinity while running.
    pub flares: Vec<(f64, f64)>,
}

impl FlareLog {
    /// Empties the log for the next patient.
    pub fn clear(&mut self) {
        self.flares.clear();
    }
}

impl Observer for FlareLog {
    const TAKES_COURSES: bool = false;

    fn event(&mut self, day: f64, kind: EventKind) {
        match kind {
            EventKind::FlareStart { .. } => self.flares.push((day, f64::INFINITY)),
            EventKind::FlareEnd => {
                if let Some(f) = self.flares.last_mut() {
                    f.1 = day;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(observed_days: f64) -> Outcome {
        Outcome {
            observed_days,
            ..Outcome::default()
        }
    }

    #[test]
    fn time_to_relapse_counts_the_first_flare_after_entry() {
        let o = outcome(3000.0);
        let flares = [(0.0, 400.0), (700.0, 800.0), (900.0, f64::INFINITY)];
        let c = Course {
            outcome: &o,
            flares: &flares,
        };
        let m = Endpoint::TimeToRelapse.measure(&c, 300.0, 730.5);
        assert_eq!(m.time_days, Some(400.0));
        assert_eq!(m.event, Some(true));
        // A relapse after the end of follow-up is censored at its end.
        let m = Endpoint::TimeToRelapse.measure(&c, 300.0, 200.0);
        assert_eq!((m.time_days, m.event), (Some(200.0), Some(false)));
        let r = Endpoint::FlaresPerPatientYear.measure(&c, 300.0, 730.5);
        assert_eq!((r.value, r.time_days), (Some(2.0), Some(730.5)));
    }

    #[test]
    fn loss_to_follow_up_censors_or_is_missing() {
        let o = outcome(500.0);
        let flares = [(0.0, 400.0), (600.0, 700.0)];
        let c = Course {
            outcome: &o,
            flares: &flares,
        };
        let m = Endpoint::TimeToRelapse.measure(&c, 300.0, 730.5);
        assert_eq!((m.time_days, m.event), (Some(200.0), Some(false)));
        assert_eq!(
            Endpoint::FlareFree12Months.measure(&c, 300.0, 730.5).value,
            None
        );
        assert_eq!(
            Endpoint::FlaresPerPatientYear
                .measure(&c, 300.0, 730.5)
                .time_days,
            Some(200.0)
        );
    }

    #[test]
    fn flare_free_needs_the_entry_flare_over_and_no_new_one() {
        let o = outcome(5000.0);
        let entry = 100.0;
        let at = |flares: &[(f64, f64)]| {
            let c = Course {
                outcome: &o,
                flares,
            };
            Endpoint::FlareFree12Months.measure(&c, entry, 730.5).value
        };
        assert_eq!(at(&[(0.0, 200.0)]), Some(1.0));
        assert_eq!(at(&[(0.0, 600.0)]), Some(0.0));
        assert_eq!(at(&[(0.0, 200.0), (300.0, 350.0)]), Some(0.0));
        assert_eq!(at(&[(0.0, 200.0), (500.0, 550.0)]), Some(1.0));
    }
}
