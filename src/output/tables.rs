//! The cohort-level CSV tables — `summary.csv`, `differences.csv`,
//! `metrics.csv`, `timeseries.csv`, `km.csv` and `calibration.csv` — as typed
//! rows serialised with the `csv` crate (so names with commas or quotes are
//! quoted correctly), plus the metric list of the README, generated from the
//! same metric table as `metrics.csv`.

use serde::Serialize;

use crate::calibrate::CalibrationRow;
use crate::engine::accum::{Occupancy, ENDPOINTS};
use crate::engine::cohort::CohortResult;
use crate::engine::metrics::{
    Metric, MEDIAN_ACTIVE_PERIOD, MEDIAN_ACTIVE_PERIOD_DEFINITION, MEDIAN_DELAY,
    MEDIAN_DELAY_DEFINITION,
};
use crate::error::{Error, Result};
use crate::plot::cohort::pain_band;

use super::km::kaplan_meier;
use super::rows::Num;
use super::summary::{difference_rows, summary_rows};

/// Serialises `rows` (with a header from the first row's field names) to CSV text.
fn to_csv<T: Serialize>(name: &str, rows: impl IntoIterator<Item = T>) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| csv_error(name, e))?;
    }
    finish(name, w)
}

/// Like [`to_csv`] with an explicit header (for rows whose columns depend on the scenario).
fn to_csv_with_header<T: Serialize>(
    name: &str,
    header: &[String],
    rows: impl IntoIterator<Item = T>,
) -> Result<String> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(header).map_err(|e| csv_error(name, e))?;
    for r in rows {
        w.serialize(r).map_err(|e| csv_error(name, e))?;
    }
    finish(name, w)
}

fn finish(name: &str, w: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = w
        .into_inner()
        .map_err(|e| Error::output(name, std::io::Error::other(e.to_string())))?;
    String::from_utf8(bytes).map_err(|e| Error::output(name, std::io::Error::other(e)))
}

/// Turns a `csv` error on file `name` into an output error.
pub(crate) fn csv_error(name: &str, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::output(name, io),
        other => Error::output(name, std::io::Error::other(format!("{other:?}"))),
    }
}

/// A row of `summary.csv`.
#[derive(Serialize)]
struct SummaryRecord<'a> {
    arm: &'a str,
    metric: &'a str,
    mean: Num,
    lower_95: Num,
    upper_95: Num,
    mcse: Num,
}

/// `summary.csv`: per arm and metric, the mean, 95% interval and Monte Carlo error.
pub fn summary_csv(res: &CohortResult) -> Result<String> {
    let rows = summary_rows(res);
    to_csv(
        "summary.csv",
        rows.iter().map(|r| SummaryRecord {
            arm: &r.arm,
            metric: &r.metric,
            mean: Num(r.mean),
            lower_95: Num(r.lower_95),
            upper_95: Num(r.upper_95),
            mcse: Num(r.mcse),
        }),
    )
}

/// A row of `differences.csv`.
#[derive(Serialize)]
struct DifferenceRecord<'a> {
    arm: &'a str,
    reference_arm: &'a str,
    metric: &'a str,
    paired_on: &'a str,
    mean_difference: Num,
    lower_95: Num,
    upper_95: Num,
    std_error: Num,
}

/// `differences.csv`: paired differences of each arm from the first, for
/// every metric that has a meaningful one (`paired_on` says whether the
/// per-patient values or the per-patient rates were paired).
pub fn differences_csv(res: &CohortResult) -> Result<String> {
    let rows = difference_rows(res);
    to_csv(
        "differences.csv",
        rows.iter().map(|r| DifferenceRecord {
            arm: &r.arm,
            reference_arm: &r.reference_arm,
            metric: &r.metric,
            paired_on: r.paired_on,
            mean_difference: Num(r.mean_difference),
            lower_95: Num(r.lower_95),
            upper_95: Num(r.upper_95),
            std_error: Num(r.std_error),
        }),
    )
}

/// One row of `metrics.csv`: what a metric of `summary.csv` means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricDefinition {
    /// Name, as in `summary.csv`.
    pub metric: String,
    /// Unit of the value.
    pub unit: String,
    /// Whom the value is averaged over (the denominator).
    pub population: String,
    /// What it is, including how it is estimated and, for metrics with a
    /// paired difference, what `differences.csv` pairs.
    pub definition: String,
}

/// The definitions of every metric of `summary.csv`, in its order.
pub fn metric_definitions(metrics: &[Metric]) -> Vec<MetricDefinition> {
    let mut v: Vec<MetricDefinition> = metrics
        .iter()
        .map(|m| MetricDefinition {
            metric: m.name.clone(),
            unit: m.unit.into(),
            population: m.population.into(),
            definition: match m.paired_quantity() {
                Some("patient rate") => format!(
                    "{}; differences.csv pairs each patient's own rate between arms",
                    m.description
                ),
                _ => m.description.clone(),
            },
        })
        .collect();
    for (name, (unit, population, definition)) in [
        (MEDIAN_DELAY, MEDIAN_DELAY_DEFINITION),
        (MEDIAN_ACTIVE_PERIOD, MEDIAN_ACTIVE_PERIOD_DEFINITION),
    ] {
        v.push(MetricDefinition {
            metric: name.into(),
            unit: unit.into(),
            population: population.into(),
            definition: definition.into(),
        });
    }
    v
}

/// `metrics.csv`: unit, population and definition of every metric of `summary.csv`.
pub fn metrics_csv(res: &CohortResult) -> Result<String> {
    to_csv("metrics.csv", metric_definitions(&res.metrics))
}

/// The metric list of the README (a Markdown table), from the same
/// definitions as `metrics.csv`.
pub fn metrics_markdown(metrics: &[Metric]) -> String {
    let mut s = String::from("| metric | unit | population | definition |\n|---|---|---|---|\n");
    for d in metric_definitions(metrics) {
        // Markdown would read `<drug>` as an HTML tag.
        let cell = |t: &str| t.replace('<', "&lt;").replace('|', "\\|");
        s += &format!(
            "| `{}` | {} | {} | {} |\n",
            d.metric,
            cell(&d.unit),
            cell(&d.population),
            cell(&d.definition)
        );
    }
    s
}

/// Marks the start of the generated metric list in README.md.
pub const README_METRICS_BEGIN: &str =
    "<!-- metric list: generated by `cargo run --example readme_images`; do not edit -->";
/// Marks its end.
pub const README_METRICS_END: &str = "<!-- end of metric list -->";

/// The README's metric list (between the markers): every metric of a
/// treated scenario, with `<drug>` standing for each drug of the scenario.
pub fn readme_metrics_block() -> String {
    let metrics = crate::engine::metrics::metrics_for(2.0, &["<drug>".to_string()], 1);
    format!(
        "{README_METRICS_BEGIN}\n{}{README_METRICS_END}",
        metrics_markdown(&metrics)
    )
}

/// README.md text with its metric list replaced by [`readme_metrics_block`]
/// (None when the markers are missing).
pub fn with_readme_metrics(readme: &str) -> Option<String> {
    let start = readme.find(README_METRICS_BEGIN)?;
    let end = readme[start..].find(README_METRICS_END)? + start + README_METRICS_END.len();
    Some(format!(
        "{}{}{}",
        &readme[..start],
        readme_metrics_block(),
        &readme[end..]
    ))
}

/// The fixed columns of a `timeseries.csv` row.
#[derive(Serialize)]
struct TimeseriesRecord<'a> {
    arm: &'a str,
    week: usize,
    time_days: usize,
    active_frac: Num,
    remission_frac: Num,
    resolved_frac: Num,
    lost_frac: Num,
    mean_pain_vas: Num,
    mean_pain_lower_95: Num,
    mean_pain_upper_95: Num,
}

/// Header of `timeseries.csv` for the given drugs.
pub fn timeseries_header(drugs: &[String]) -> Vec<String> {
    let mut h: Vec<String> = [
        "arm",
        "week",
        "time_days",
        "active_frac",
        "remission_frac",
        "resolved_frac",
        "lost_frac",
        "mean_pain_vas",
        "mean_pain_lower_95",
        "mean_pain_upper_95",
    ]
    .map(String::from)
    .to_vec();
    h.extend(drugs.iter().map(|d| format!("on_{d}_frac")));
    h
}

/// `timeseries.csv`: state occupancy, mean pain and drug exposure on the time grid.
pub fn timeseries_csv(res: &CohortResult, drugs: &[String]) -> Result<String> {
    let total = (res.patients * res.replicates.len() as u64) as f64;
    let mut rows = Vec::new();
    for (arm, curves) in res.arms.iter().zip(&res.curves) {
        let occ = &curves.occupancy;
        let states: Vec<Vec<i64>> = occ.states.iter().map(|d| Occupancy::values(d)).collect();
        let pain = Occupancy::values(&occ.pain);
        let pain_sq = Occupancy::values(&occ.pain_sq);
        let drug_rows: Vec<Vec<i64>> = occ.drugs.iter().map(|d| Occupancy::values(d)).collect();
        let step = occ.step_days as usize;
        for i in 0..occ.points() {
            let observed = (states[0][i] + states[1][i] + states[2][i]) as f64;
            let (mean, lo, hi) = pain_band(pain[i], pain_sq[i], observed);
            let share = |v: i64| Num(v as f64 / total);
            let fixed = TimeseriesRecord {
                arm,
                week: i * step / 7,
                time_days: i * step,
                active_frac: share(states[0][i]),
                remission_frac: share(states[1][i]),
                resolved_frac: share(states[2][i]),
                lost_frac: share(states[3][i]),
                mean_pain_vas: Num(mean),
                mean_pain_lower_95: Num(lo),
                mean_pain_upper_95: Num(hi),
            };
            let on: Vec<Num> = drug_rows.iter().map(|d| share(d[i])).collect();
            rows.push((fixed, on));
        }
    }
    to_csv_with_header("timeseries.csv", &timeseries_header(drugs), rows)
}

/// A row of `timeseries_from_diagnosis.csv`.
#[derive(Serialize)]
struct FromDiagnosisRecord<'a> {
    arm: &'a str,
    month_since_diagnosis: usize,
    active_frac: Num,
    remission_frac: Num,
    resolved_frac: Num,
    lost_frac: Num,
    mean_activity_score: Num,
    observed: i64,
}

/// `timeseries_from_diagnosis.csv`: among diagnosed patients whose month
/// since diagnosis still lies within the horizon, the share in each state
/// and the mean activity score of those observed, monthly, with `observed`,
/// the number of patients behind the month (diagnosed, within the horizon,
/// not lost): months resting on few patients are noisy.
pub fn timeseries_from_diagnosis_csv(res: &CohortResult) -> Result<String> {
    let mut rows = Vec::new();
    for (arm, curves) in res.arms.iter().zip(&res.curves) {
        let f = &curves.from_diagnosis;
        let states: Vec<Vec<i64>> = f.states.iter().map(|d| Occupancy::values(d)).collect();
        let activity = Occupancy::values(&f.activity);
        for m in 0..f.points() {
            let total: i64 = states.iter().map(|s| s[m]).sum();
            if total == 0 {
                break;
            }
            let observed = (states[0][m] + states[1][m] + states[2][m]) as f64;
            let share = |v: i64| Num(v as f64 / total as f64);
            rows.push(FromDiagnosisRecord {
                arm,
                month_since_diagnosis: m,
                active_frac: share(states[0][m]),
                remission_frac: share(states[1][m]),
                resolved_frac: share(states[2][m]),
                lost_frac: share(states[3][m]),
                mean_activity_score: Num(activity[m] as f64
                    / crate::engine::from_diagnosis::ACTIVITY_SCALE
                    / observed),
                observed: states[0][m] + states[1][m] + states[2][m],
            });
        }
    }
    to_csv("timeseries_from_diagnosis.csv", rows)
}

/// A row of `km.csv`.
#[derive(Serialize)]
struct KmRecord<'a> {
    arm: &'a str,
    endpoint: &'a str,
    time_days: usize,
    at_risk: u64,
    events: u64,
    censored: u64,
    survival: Num,
    lower_95: Num,
    upper_95: Num,
}

/// `km.csv`: Kaplan–Meier curves of every endpoint with Greenwood bands.
pub fn km_csv(res: &CohortResult) -> Result<String> {
    let mut rows = Vec::new();
    for (arm, curves) in res.arms.iter().zip(&res.curves) {
        for (endpoint, counts) in ENDPOINTS.iter().zip(&curves.km) {
            for r in kaplan_meier(counts) {
                rows.push(KmRecord {
                    arm,
                    endpoint,
                    time_days: r.day,
                    at_risk: r.at_risk,
                    events: r.events,
                    censored: r.censored,
                    survival: Num(r.survival),
                    lower_95: Num(r.lower_95),
                    upper_95: Num(r.upper_95),
                });
            }
        }
    }
    to_csv("km.csv", rows)
}

/// Characters that make a spreadsheet read a cell as a formula when they
/// start it (OWASP, "CSV Injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell of free text from the user (a `--targets` id or description) as
/// written to a CSV file: text that a spreadsheet would run as a formula
/// (`=HYPERLINK(...)`, `+1`, `@SUM(...)`, ...) gets a leading `'`, the OWASP
/// convention, so it opens as text. Other text is written as it is. Names
/// (scenario, arm, drug) need no such care: they cannot start with any of
/// these characters ([`crate::scenario::limits::name_problem`]).
pub fn text_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(FORMULA_STARTS) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A row of `calibration.csv`.
#[derive(Serialize)]
struct CalibrationRecord<'a> {
    id: std::borrow::Cow<'a, str>,
    target: std::borrow::Cow<'a, str>,
    published: Num,
    tolerance: Num,
    simulated: Num,
    mcse: Num,
    inside: &'static str,
}

/// `calibration.csv`: the simulated value of each published target.
pub fn calibration_csv(rows: &[CalibrationRow]) -> Result<String> {
    to_csv(
        "calibration.csv",
        rows.iter().map(|r| CalibrationRecord {
            id: text_cell(&r.target.id),
            target: text_cell(&r.target.target),
            published: Num(r.target.published),
            tolerance: Num(r.target.tolerance),
            simulated: Num(r.simulated),
            mcse: Num(r.mcse),
            inside: r.status(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_commas_and_quotes_are_quoted() {
        #[derive(Serialize)]
        struct R<'a> {
            arm: &'a str,
            x: Num,
        }
        let s = to_csv(
            "t.csv",
            [R {
                arm: "a,\"b\"",
                x: Num(0.5),
            }],
        )
        .unwrap();
        assert_eq!(s, "arm,x\n\"a,\"\"b\"\"\",0.5\n");
        let mut r = csv::Reader::from_reader(s.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[0], "a,\"b\"");
    }

    #[test]
    fn formula_like_text_opens_as_text() {
        for (given, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("C1 delay", "C1 delay"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(text_cell(given), written, "{given:?}");
        }
    }

    #[test]
    fn not_a_number_is_an_empty_cell() {
        #[derive(Serialize)]
        struct R {
            x: Num,
            y: Num,
        }
        let s = to_csv(
            "t.csv",
            [R {
                x: Num(f64::NAN),
                y: Num(1.0 / 3.0),
            }],
        )
        .unwrap();
        assert_eq!(s, "x,y\n,0.333333\n");
    }
}
