//! The report's table of paired differences, made to be read: one row per
//! metric and one column per compared arm, rows grouped by outcome, only
//! metrics on which some arm differs from the reference, and every value
//! with the precision its size calls for. `differences.csv` keeps every row;
//! the table lists the metrics it leaves out, for the report to say once.
//! The report (`report.rs`) draws it as HTML.

use crate::results::summary::DifferenceRow;
use crate::results::CohortResult;

/// The outcome a metric belongs to, in the order the table shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Flares, relapses, course classes, burnout and follow-up.
    Course,
    /// Remission, PedCNO response, activity score, response to a drug.
    Response,
    /// Lesions and vertebral fractures.
    Lesions,
    /// Diagnosis and the criteria at diagnosis.
    Diagnosis,
    /// Drugs received, escalation, adverse events.
    Treatment,
    /// Associated conditions.
    Conditions,
    /// Costs and QALYs (with `[economics]`).
    Economics,
    /// What patients bring at onset (the same in every arm by design).
    Baseline,
    /// Anything the rules below do not name.
    Other,
}

impl Outcome {
    /// The group's heading in the table.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Course => "Flares and course",
            Outcome::Response => "Remission and response",
            Outcome::Lesions => "Lesions and fractures",
            Outcome::Diagnosis => "Diagnosis",
            Outcome::Treatment => "Treatment",
            Outcome::Conditions => "Associated conditions",
            Outcome::Economics => "Costs and QALYs",
            Outcome::Baseline => "At onset",
            Outcome::Other => "Other outcomes",
        }
    }

    /// The outcome of a metric, from its name. The rules are tried in
    /// order because names share words: `second_step_12_months_frac` is
    /// about treatment although it has a time point, and
    /// `lesions_seen_at_diagnosis_mean` about diagnosis although it counts
    /// lesions.
    pub fn of(metric: &str) -> Outcome {
        let has = |words: &[&str]| words.iter().any(|w| metric.contains(w));
        let starts = |words: &[&str]| words.iter().any(|w| metric.starts_with(w));
        if starts(&["costs_", "qalys_"]) {
            Outcome::Economics
        } else if starts(&[
            "received_",
            "days_on_",
            "treated_days",
            "adverse_event",
            "never_escalated",
            "untreated_while",
            "second_step",
            "reached_step",
        ]) {
            Outcome::Treatment
        } else if starts(&["remission_", "pedcno", "activity_score", "flare_ended_"])
            || starts(&["not_in_flare_", "mri_clear_"])
        {
            Outcome::Response
        } else if starts(&["diagnos", "jansson", "bristol"]) || has(&["at_diagnosis"]) {
            Outcome::Diagnosis
        } else if starts(&["female", "majeed", "onset_age", "initial_lesions"]) {
            Outcome::Baseline
        } else if has(&["lesion", "fracture"]) {
            Outcome::Lesions
        } else if has(&["_ever_frac", "condition"]) {
            Outcome::Conditions
        } else if has(&[
            "flare", "relapse", "course_", "active_", "resolved", "lost_", "observed",
        ]) {
            Outcome::Course
        } else {
            Outcome::Other
        }
    }
}

/// One arm's paired difference on one metric: mean and 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Mean paired difference (arm − reference).
    pub mean: f64,
    /// Lower end of the 95% interval.
    pub lower: f64,
    /// Upper end of the 95% interval.
    pub upper: f64,
}

impl Cell {
    fn of(row: &DifferenceRow) -> Option<Cell> {
        let cell = Cell {
            mean: row.mean_difference,
            lower: row.lower_95,
            upper: row.upper_95,
        };
        cell.mean.is_finite().then_some(cell)
    }

    /// Whether the arm equals the reference on every patient (a difference
    /// of exactly 0 with an interval of width 0).
    fn is_zero(&self) -> bool {
        self.mean == 0.0 && self.lower == 0.0 && self.upper == 0.0
    }
}

/// One row of the table: a metric and one cell per compared arm (None: the
/// arm has no paired value).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Metric name, as in `differences.csv`.
    pub metric: String,
    /// Whether each patient's own rate is paired (else the patient's value).
    pub per_patient_rate: bool,
    /// Per compared arm, in scenario order.
    pub cells: Vec<Option<Cell>>,
}

/// The differences table: what is shown and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct DifferenceTable {
    /// The compared arms (every arm but the reference), in scenario order.
    pub arms: Vec<String>,
    /// The shown rows by outcome, outcomes in display order, metrics in
    /// output order.
    pub groups: Vec<(Outcome, Vec<Line>)>,
    /// Metrics on which every arm equals the reference exactly.
    pub equal: Vec<String>,
    /// Metrics no arm has a paired value for.
    pub without_value: Vec<String>,
}

impl DifferenceTable {
    /// The table of `res`'s paired differences.
    pub fn of(res: &CohortResult) -> DifferenceTable {
        let reference = res.reference_arm();
        let arms: Vec<String> = res
            .arms
            .iter()
            .filter(|a| a.as_str() != reference)
            .cloned()
            .collect();
        let rows = res.differences();
        let mut metrics: Vec<&str> = Vec::new();
        for r in rows {
            if !metrics.contains(&r.metric.as_str()) {
                metrics.push(&r.metric);
            }
        }
        let mut table = DifferenceTable {
            arms,
            groups: Vec::new(),
            equal: Vec::new(),
            without_value: Vec::new(),
        };
        for metric in metrics {
            let of_metric: Vec<&DifferenceRow> =
                rows.iter().filter(|r| r.metric == metric).collect();
            let cells: Vec<Option<Cell>> = table
                .arms
                .iter()
                .map(|arm| {
                    of_metric
                        .iter()
                        .find(|r| &r.arm == arm)
                        .and_then(|r| Cell::of(r))
                })
                .collect();
            if cells.iter().all(Option::is_none) {
                table.without_value.push(metric.to_string());
            } else if cells.iter().flatten().all(Cell::is_zero) {
                table.equal.push(metric.to_string());
            } else {
                table.push(Line {
                    metric: metric.to_string(),
                    per_patient_rate: of_metric.iter().any(|r| r.paired_on == "patient rate"),
                    cells,
                });
            }
        }
        table.groups.sort_by_key(|(outcome, _)| *outcome);
        table
    }

    /// The table of `metrics` only (the headline metrics of a sweep's
    /// point, say): the other rows, and the other metrics left out, go.
    pub fn restricted_to(mut self, metrics: &[&str]) -> DifferenceTable {
        let kept = |m: &String| metrics.contains(&m.as_str());
        for (_, lines) in &mut self.groups {
            lines.retain(|l| kept(&l.metric));
        }
        self.groups.retain(|(_, lines)| !lines.is_empty());
        self.equal.retain(kept);
        self.without_value.retain(kept);
        self
    }

    fn push(&mut self, line: Line) {
        let outcome = Outcome::of(&line.metric);
        match self.groups.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, lines)) => lines.push(line),
            None => self.groups.push((outcome, vec![line])),
        }
    }
}

/// A cell's text: the mean and interval with a shared precision, "equal"
/// where the arm equals the reference on every patient, or "–" where the
/// arm has no paired value.
pub fn cell_text(cell: Option<Cell>) -> String {
    let Some(c) = cell else {
        return "–".into();
    };
    if c.is_zero() {
        return "equal".into();
    }
    let decimals = decimals_for(&[c.mean, c.lower, c.upper]);
    let f = |x: f64| signed(x, decimals);
    if c.lower.is_finite() && c.upper.is_finite() {
        format!("{} [{}, {}]", f(c.mean), f(c.lower), f(c.upper))
    } else {
        f(c.mean)
    }
}

/// Decimals that give the largest of `values` three significant digits (at
/// most 6, none for values of 100 or more), so a mean and its interval are
/// printed alike.
pub fn decimals_for(values: &[f64]) -> usize {
    let largest = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    if largest == 0.0 {
        return 0;
    }
    let magnitude = largest.log10().floor() as i32;
    (2 - magnitude).clamp(0, 6) as usize
}

/// `x` with `decimals` decimals, an explicit sign (a true minus sign) and
/// thousands separated by commas; a value that rounds to 0 is "0".
pub fn signed(x: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, x.abs());
    if text.chars().all(|c| c == '0' || c == '.') {
        return "0".into();
    }
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(w, f)| (w, f));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if x < 0.0 { '−' } else { '+' };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_follows_the_largest_value() {
        assert_eq!(decimals_for(&[0.0937, 0.08, 0.1]), 3);
        assert_eq!(decimals_for(&[0.0937, 0.0801, 0.0999]), 4);
        assert_eq!(decimals_for(&[-33.4, -40.0, -20.0]), 1);
        assert_eq!(decimals_for(&[4041.2, 3000.0, 5000.0]), 0);
        assert_eq!(decimals_for(&[0.0, 0.0]), 0);
        assert_eq!(decimals_for(&[1e-9]), 6);
    }

    #[test]
    fn numbers_carry_a_sign_and_thousands() {
        assert_eq!(signed(0.0937, 4), "+0.0937");
        assert_eq!(signed(-0.0937, 3), "−0.094");
        assert_eq!(signed(-4041.4, 0), "−4,041");
        assert_eq!(signed(125420.0, 0), "+125,420");
        assert_eq!(signed(-0.00001, 3), "0");
        assert_eq!(
            cell_text(Some(Cell {
                mean: -0.096,
                lower: -0.0981,
                upper: -0.0939
            })),
            "−0.0960 [−0.0981, −0.0939]"
        );
        assert_eq!(cell_text(None), "–");
        let zero = Cell {
            mean: 0.0,
            lower: 0.0,
            upper: 0.0,
        };
        assert_eq!(cell_text(Some(zero)), "equal");
    }

    #[test]
    fn metrics_fall_into_their_outcomes() {
        for (metric, outcome) in [
            ("flares_per_patient_year", Outcome::Course),
            ("flares_per_patient_year_after_diagnosis", Outcome::Course),
            ("ever_relapsed_after_diagnosis_frac", Outcome::Course),
            ("course_persistent_frac", Outcome::Course),
            ("resolved_frac", Outcome::Course),
            ("remission_12_months_frac", Outcome::Response),
            ("pedcno70_12_months_frac", Outcome::Response),
            ("activity_score_ge4_frac_year_1", Outcome::Response),
            (
                "mri_clear_12_months_after_pamidronate_frac",
                Outcome::Response,
            ),
            ("active_seen_lesions_year_1_mean", Outcome::Lesions),
            ("new_lesions_per_flare", Outcome::Lesions),
            ("vertebral_fracture_frac", Outcome::Lesions),
            ("lesions_seen_at_diagnosis_mean", Outcome::Diagnosis),
            ("diagnostic_delay_median_days", Outcome::Diagnosis),
            ("jansson_ge39_frac", Outcome::Diagnosis),
            ("second_step_12_months_frac", Outcome::Treatment),
            ("received_nsaid_frac", Outcome::Treatment),
            ("adverse_events_per_patient", Outcome::Treatment),
            ("psoriasis_ever_frac", Outcome::Conditions),
            ("any_condition_at_onset_frac", Outcome::Conditions),
            ("costs_drugs_per_patient", Outcome::Economics),
            ("qalys_per_patient", Outcome::Economics),
            ("female_frac", Outcome::Baseline),
            ("initial_lesions_mean", Outcome::Baseline),
        ] {
            assert_eq!(Outcome::of(metric), outcome, "{metric}");
        }
    }
}
