//! Sweep rules of the validation layer: the `[sweep]` table as written —
//! one or two parameters, each a list of numbers or a range `{ from, to,
//! steps }`, an optional `metric` in quotes, no per-patient files, at most
//! [`MAX_SWEEP_POINTS`] grid points — read into a [`SweepTable`]; and the
//! rules that need the grid's studies (the sweep's size, its metric, a grid
//! point that is not a valid scenario), which `study::sweep` calls.

use std::ops::Range;

use toml::Value;

use super::invalid_at;
use crate::error::{Error, Result};
use crate::scenario::limits::{MAX_SWEEP_POINTS, MAX_SWEEP_VALUES};
use crate::scenario::LoadedScenario;

/// One swept parameter as checked: its dotted path, its values (in the
/// order given) and the span of its key.
#[derive(Debug, Clone, PartialEq)]
pub struct SweptField {
    /// Dotted path of the scenario field.
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<f64>,
    /// Where the key is in the scenario text.
    pub span: Range<usize>,
}

/// The `[sweep]` table, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTable {
    /// The swept parameters, in file order.
    pub fields: Vec<SweptField>,
    /// The `metric` entry and its span, if given.
    pub metric: Option<(String, Range<usize>)>,
    /// Where the `[sweep]` table is.
    pub span: Range<usize>,
}

fn at(l: &LoadedScenario, span: Range<usize>, message: String) -> Error {
    invalid_at(l, span.start, message)
}

/// Rule `sweep_table`: reads `[sweep]` (None without one), refusing bad
/// entries, values and sizes at the line and column of the entry.
pub fn sweep_table(l: &LoadedScenario) -> Result<Option<SweepTable>> {
    let Some(table) = &l.scenario.sweep else {
        return Ok(None);
    };
    let mut entries: Vec<_> = table.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut fields: Vec<SweptField> = Vec::new();
    let mut metric: Option<(String, Range<usize>)> = None;
    for (key, value) in entries {
        let name = key.get_ref();
        if name == "metric" {
            match value.get_ref() {
                Value::String(m) => metric = Some((m.clone(), value.span())),
                _ => return Err(at(l, value.span(), "sweep `metric` must be a metric name in quotes, e.g. metric = \"flares_per_patient\"".into())),
            }
            continue;
        }
        if fields.len() == 2 {
            return Err(at(
                l,
                key.span(),
                format!("a sweep varies one or two parameters; `{name}` would be a third"),
            ));
        }
        let values = sweep_values(l, name, value)?;
        fields.push(SweptField {
            path: name.clone(),
            values,
            span: key.span(),
        });
    }
    if fields.is_empty() {
        return Err(at(
            l,
            table.span(),
            "[sweep] names no parameter: give one or two, e.g. \"natural_history.flare_rate_per_year\" = [0.5, 1.5, 3.0]".into(),
        ));
    }
    if l.scenario.output.patients || l.scenario.output.events {
        return Err(at(
            l,
            table.span(),
            "a sweep writes sweep.csv, not per-patient files: set [output] patients and events to false, or remove [sweep]".into(),
        ));
    }
    let n_points: usize = fields.iter().map(|p| p.values.len()).product();
    if n_points > MAX_SWEEP_POINTS {
        return Err(at(
            l,
            table.span(),
            format!("[sweep] has {n_points} grid points; at most {MAX_SWEEP_POINTS} are allowed: give fewer values"),
        ));
    }
    Ok(Some(SweepTable {
        fields,
        metric,
        span: table.span(),
    }))
}

/// The values of one swept parameter: a list, or `{ from, to, steps }`.
fn sweep_values(l: &LoadedScenario, name: &str, value: &toml::Spanned<Value>) -> Result<Vec<f64>> {
    let bad = |what: &str| {
        at(
            l,
            value.span(),
            format!("sweep values of `{name}` {what}: give a list of numbers, e.g. [0.5, 1.5, 3.0], or a range, e.g. {{ from = 0.5, to = 3.0, steps = 6 }} (steps counts values, ends included)"),
        )
    };
    let number = |v: &Value| match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    let values: Vec<f64> = match value.get_ref() {
        Value::Array(items) => items
            .iter()
            .map(number)
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| bad("are not all finite numbers"))?,
        Value::Table(t) => {
            if let Some(k) = t
                .keys()
                .find(|k| !["from", "to", "steps"].contains(&k.as_str()))
            {
                return Err(bad(&format!("have an unknown key `{k}`")));
            }
            let (Some(from), Some(to)) =
                (t.get("from").and_then(number), t.get("to").and_then(number))
            else {
                return Err(bad("need numbers `from` and `to`"));
            };
            let steps = match t.get("steps") {
                Some(Value::Integer(n)) if (2..=MAX_SWEEP_VALUES as i64).contains(n) => *n as usize,
                _ => {
                    return Err(bad(&format!(
                        "need a whole number `steps` from 2 to {MAX_SWEEP_VALUES}"
                    )))
                }
            };
            (0..steps)
                .map(|i| tidy(from + (to - from) * i as f64 / (steps - 1) as f64))
                .collect()
        }
        _ => return Err(bad("are neither a list nor a range")),
    };
    if values.is_empty() || values.len() > MAX_SWEEP_VALUES {
        return Err(bad(&format!("must number 1 to {MAX_SWEEP_VALUES}")));
    }
    Ok(values)
}

/// Rounds to 12 significant digits, so a range step prints as 0.6 rather
/// than 0.6000000000000001.
fn tidy(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// The sweep's metric (`metric`, else `default`) among the metrics of
/// `summary.csv` (`known`, from the first grid point's study).
pub fn sweep_metric(
    l: &LoadedScenario,
    table: &SweepTable,
    default: &str,
    known: &[String],
) -> Result<String> {
    let (metric, span) = table
        .metric
        .clone()
        .unwrap_or((default.into(), table.span.clone()));
    if known.contains(&metric) {
        return Ok(metric);
    }
    Err(at(
        l,
        span,
        format!(
            "unknown metric `{metric}` for the sweep plot: choose one of summary.csv's metrics, e.g. {}",
            known.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// A grid point (`values`, one per field) that cannot be set or is not a
/// valid scenario (`why`), blamed on the first swept parameter.
pub fn sweep_point(l: &LoadedScenario, table: &SweepTable, values: &[f64], why: &str) -> Error {
    let point: Vec<String> = table
        .fields
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{} = {v}", p.path))
        .collect();
    at(
        l,
        table.fields[0].span.clone(),
        format!(
            "the sweep point {} is not a valid scenario: {why}",
            point.join(", ")
        ),
    )
}

/// What went wrong at a grid point, without the location in the generated text.
pub fn reason(e: &Error) -> String {
    match e {
        Error::Scenario { message, .. } => {
            let lines: Vec<&str> = message.lines().collect();
            let after_caret = lines
                .iter()
                .rposition(|l| l.contains('^'))
                .map_or(0, |i| i + 1);
            lines[after_caret..].join(" ").trim().to_string()
        }
        Error::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
