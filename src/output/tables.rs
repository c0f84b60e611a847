//! The cohort-level CSV tables — `summary.csv`, `differences.csv`,
//! `metrics.csv`, `timeseries.csv`, `timeseries_from_diagnosis.csv` and `km.csv` —
//! as typed
//! rows serialised with the `csv` crate (so names with commas or quotes are
//! quoted correctly), plus the metric list of `docs/outputs.md`, generated from the
//! same metric table as `metrics.csv`.

use serde::Serialize;

use crate::engine::accum::ENDPOINTS;
use crate::engine::metrics::{
    Metric, MEDIAN_ACTIVE_PERIOD, MEDIAN_ACTIVE_PERIOD_DEFINITION, MEDIAN_DELAY,
    MEDIAN_DELAY_DEFINITION,
};
use crate::error::Result;
use crate::results::CohortResult;

use super::cells::{to_csv, to_csv_with_header, Num};

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
    to_csv(
        "summary.csv",
        res.summary().iter().map(|r| SummaryRecord {
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
    to_csv(
        "differences.csv",
        res.differences().iter().map(|r| DifferenceRecord {
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
            definition: {
                let definition = match m.paired_quantity() {
                    Some("patient rate") => format!(
                        "{}; differences.csv pairs each patient's own rate between arms",
                        m.description
                    ),
                    _ => m.description.clone(),
                };
                // A metric resting on a part the scenario leaves inert has
                // empty values; the reason goes with its definition.
                match m.inert {
                    Some(part) => format!("{definition}; {}", part.reason()),
                    None => definition,
                }
            },
        })
        .collect();
    // The median delay is not computed when the mean delay is not (no
    // one is diagnosed), for the same reason.
    let delay_inert = metrics
        .iter()
        .find(|m| m.name == "diagnostic_delay_mean_days")
        .and_then(|m| m.inert);
    for (name, (unit, population, definition), inert) in [
        (MEDIAN_DELAY, MEDIAN_DELAY_DEFINITION, delay_inert),
        (MEDIAN_ACTIVE_PERIOD, MEDIAN_ACTIVE_PERIOD_DEFINITION, None),
    ] {
        v.push(MetricDefinition {
            metric: name.into(),
            unit: unit.into(),
            population: population.into(),
            definition: match inert {
                Some(part) => format!("{definition}; {}", part.reason()),
                None => definition.into(),
            },
        });
    }
    v
}

/// `metrics.csv`: unit, population and definition of every metric of `summary.csv`.
pub fn metrics_csv(res: &CohortResult) -> Result<String> {
    to_csv("metrics.csv", metric_definitions(&res.metrics))
}

/// The documented metric list (a Markdown table), from the same
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

/// Marks the start of the generated metric list in `docs/outputs.md`.
pub const README_METRICS_BEGIN: &str =
    "<!-- metric list: generated by `cargo run --example readme_images`; do not edit -->";
/// Marks its end.
pub const README_METRICS_END: &str = "<!-- end of metric list -->";

/// The metric list of `docs/outputs.md` (between the markers): every metric of a
/// treated scenario, with `<drug>` standing for each drug of the scenario.
pub fn readme_metrics_block() -> String {
    let metrics = crate::engine::metrics::metrics_for(2.0, &["<drug>".to_string()], 1);
    format!(
        "{README_METRICS_BEGIN}\n{}{README_METRICS_END}",
        metrics_markdown(&metrics)
    )
}

/// The text of `docs/outputs.md` with its metric list replaced by [`readme_metrics_block`]
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
    let mut rows = Vec::new();
    for (a, arm) in res.arms.iter().enumerate() {
        for p in res.since_onset(a) {
            let fixed = TimeseriesRecord {
                arm,
                week: p.day / 7,
                time_days: p.day,
                active_frac: Num(p.shares[0]),
                remission_frac: Num(p.shares[1]),
                resolved_frac: Num(p.shares[2]),
                lost_frac: Num(p.shares[3]),
                mean_pain_vas: Num(p.mean_pain),
                mean_pain_lower_95: Num(p.pain_lower_95),
                mean_pain_upper_95: Num(p.pain_upper_95),
            };
            let on: Vec<Num> = p.on_drug.iter().copied().map(Num).collect();
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
    for (a, arm) in res.arms.iter().enumerate() {
        for p in res.since_diagnosis(a) {
            rows.push(FromDiagnosisRecord {
                arm,
                month_since_diagnosis: p.month,
                active_frac: Num(p.shares[0]),
                remission_frac: Num(p.shares[1]),
                resolved_frac: Num(p.shares[2]),
                lost_frac: Num(p.shares[3]),
                mean_activity_score: Num(p.mean_activity_score),
                observed: p.observed,
            });
        }
    }
    if rows.is_empty() {
        // Nobody diagnosed (a scenario that diagnoses no one): the header
        // alone, so that the file still reads as a table with no rows.
        return Ok(format!("{FROM_DIAGNOSIS_HEADER}\n"));
    }
    to_csv("timeseries_from_diagnosis.csv", rows)
}

/// The header of `timeseries_from_diagnosis.csv` (the fields of
/// `FromDiagnosisRecord`, in order).
const FROM_DIAGNOSIS_HEADER: &str = "arm,month_since_diagnosis,active_frac,remission_frac,resolved_frac,lost_frac,mean_activity_score,observed";

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
    for (a, arm) in res.arms.iter().enumerate() {
        for (e, endpoint) in ENDPOINTS.iter().enumerate() {
            for r in res.km(a, e) {
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
