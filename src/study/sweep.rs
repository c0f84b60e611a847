//! Parameter sweeps: `[sweep]` names one or two scenario fields by dotted
//! path (`natural_history.flare_rate_per_year`, `drugs.nsaid.p_response`,
//! `arm.early.min_weeks_on_step`, `horizon_years`, ...), each with a list of
//! values or a range `{ from, to, steps }` (ends included). Every grid point
//! is the resolved scenario — `--patients` and `--seed` included — with
//! those values set, resolved into a full [`Study`] and run on the same
//! virtual patients (same seed: common random numbers), so differences
//! between points are not sampling noise. The run-size limits count every
//! point as it will run. `sweep.csv` gathers every point's summary.

use std::ops::Range;

use toml::Value;

use crate::error::{Error, Result};
use crate::scenario::limits::{check_sweep_size, PointSize, MAX_SWEEP_POINTS as MAX_POINTS};
use crate::scenario::{line_column, parse, LoadedScenario};

use super::Study;

/// The outcome the sweep plot shows unless `metric` names another.
pub const DEFAULT_METRIC: &str = "time_in_flare_frac";
/// Most values of one swept parameter.
pub const MAX_VALUES: usize = 1000;

/// One swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepParameter {
    /// Dotted path of the scenario field.
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<f64>,
}

/// One grid point: the values of the swept parameters and its study.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    /// One value per swept parameter.
    pub values: Vec<f64>,
    /// The scenario with these values.
    pub study: Study,
}

/// A resolved sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The swept parameters, in file order (the first is the plot's x axis).
    pub parameters: Vec<SweepParameter>,
    /// The metric the sweep plot shows.
    pub metric: String,
    /// The grid points, the first parameter varying slowest.
    pub points: Vec<SweepPoint>,
}

fn at(l: &LoadedScenario, span: Range<usize>, message: String) -> Error {
    Error::Invalid {
        path: l.origin.clone(),
        location: Some(line_column(&l.text, span.start)),
        message,
    }
}

/// Reads `[sweep]` of a loaded scenario into its grid of studies (None
/// without `[sweep]`). Bad paths, values and metrics are refused with the
/// file, line and column of the entry.
pub fn resolve(l: &LoadedScenario) -> Result<Option<Sweep>> {
    let Some(table) = &l.scenario.sweep else {
        return Ok(None);
    };
    let mut entries: Vec<_> = table.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut parameters: Vec<(SweepParameter, Range<usize>)> = Vec::new();
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
        if parameters.len() == 2 {
            return Err(at(
                l,
                key.span(),
                format!("a sweep varies one or two parameters; `{name}` would be a third"),
            ));
        }
        let values = sweep_values(l, name, value)?;
        parameters.push((
            SweepParameter {
                path: name.clone(),
                values,
            },
            key.span(),
        ));
    }
    if parameters.is_empty() {
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
    let n_points: usize = parameters.iter().map(|(p, _)| p.values.len()).product();
    if n_points > MAX_POINTS {
        return Err(at(
            l,
            table.span(),
            format!("[sweep] has {n_points} grid points; at most {MAX_POINTS} are allowed: give fewer values"),
        ));
    }
    let document = point_template(l)?;
    let mut points = Vec::new();
    for values in grid(&parameters) {
        let study = resolve_point(l, &document, &parameters, &values)?;
        points.push(SweepPoint { values, study });
    }
    // Every grid point is a whole study, as it will run: the run size
    // counts all of them.
    let sizes: Vec<PointSize> = points
        .iter()
        .map(|p| PointSize::of(p.study.scenario()))
        .collect();
    check_sweep_size(l.scenario.arm.len(), &sizes)
        .map_err(|m| at(l, table.span(), format!("[sweep] is too large: {m}")))?;
    let (metric, metric_span) = metric.unwrap_or((DEFAULT_METRIC.into(), table.span()));
    let known: Vec<String> = summary_metric_names(&points[0].study);
    if !known.contains(&metric) {
        return Err(at(
            l,
            metric_span,
            format!(
                "unknown metric `{metric}` for the sweep plot: choose one of summary.csv's metrics, e.g. {}",
                known.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(Some(Sweep {
        parameters: parameters.into_iter().map(|(p, _)| p).collect(),
        metric,
        points,
    }))
}

/// The document every grid point starts from: the scenario's tables without
/// `[sweep]`, and the run settings of the resolved scenario (seed, patients,
/// replicates, horizon: after `--patients` and `--seed`), so a point differs
/// from the study that holds it in its swept values only.
fn point_template(l: &LoadedScenario) -> Result<toml::Table> {
    let mut document: toml::Table = toml::from_str(&l.text).map_err(|e| Error::Scenario {
        path: l.origin.clone(),
        message: e.to_string(),
    })?;
    document.remove("sweep");
    let s = &l.scenario;
    // Seeds and patient counts are at most i64::MAX (limits::MAX_SEED,
    // MAX_PATIENTS), so they fit a TOML integer.
    let run_settings = [
        ("seed", Value::Integer(s.seed as i64)),
        ("patients", Value::Integer(s.patients as i64)),
        ("replicates", Value::Integer(i64::from(s.replicates))),
        ("horizon_years", Value::Float(s.horizon_years)),
    ];
    for (key, value) in run_settings {
        document.insert(key.into(), value);
    }
    Ok(document)
}

/// The study of one grid point: the template with the point's values set,
/// checked like any scenario (errors located at the first swept parameter).
fn resolve_point(
    l: &LoadedScenario,
    document: &toml::Table,
    parameters: &[(SweepParameter, Range<usize>)],
    values: &[f64],
) -> Result<Study> {
    let mut doc = document.clone();
    for ((p, span), &v) in parameters.iter().zip(values) {
        set_path(&mut doc, &p.path, v).map_err(|m| at(l, span.clone(), m))?;
    }
    let text = toml::to_string(&doc).expect("a TOML table serialises");
    parse(&text, &l.origin)
        .and_then(Study::resolve)
        .map_err(|e| {
            let point: Vec<String> = parameters
                .iter()
                .zip(values)
                .map(|((p, _), v)| format!("{} = {v}", p.path))
                .collect();
            at(
                l,
                parameters[0].1.clone(),
                format!(
                    "the sweep point {} is not a valid scenario: {}",
                    point.join(", "),
                    reason(&e)
                ),
            )
        })
}

/// The metric names of `summary.csv` for a study.
pub(crate) fn summary_metric_names(study: &Study) -> Vec<String> {
    let mut names: Vec<String> = study.metrics().iter().map(|m| m.name.clone()).collect();
    names.push(crate::engine::metrics::MEDIAN_DELAY.to_string());
    names
}

/// What went wrong at a grid point, without the location in the generated text.
pub(crate) fn reason(e: &Error) -> String {
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
                Some(Value::Integer(n)) if (2..=MAX_VALUES as i64).contains(n) => *n as usize,
                _ => {
                    return Err(bad(&format!(
                        "need a whole number `steps` from 2 to {MAX_VALUES}"
                    )))
                }
            };
            (0..steps)
                .map(|i| tidy(from + (to - from) * i as f64 / (steps - 1) as f64))
                .collect()
        }
        _ => return Err(bad("are neither a list nor a range")),
    };
    if values.is_empty() || values.len() > MAX_VALUES {
        return Err(bad(&format!("must number 1 to {MAX_VALUES}")));
    }
    Ok(values)
}

/// Rounds to 12 significant digits, so a range step prints as 0.6 rather
/// than 0.6000000000000001.
fn tidy(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// Every combination of the parameters' values, the first varying slowest.
fn grid(parameters: &[(SweepParameter, Range<usize>)]) -> Vec<Vec<f64>> {
    parameters.iter().fold(vec![Vec::new()], |acc, (p, _)| {
        acc.iter()
            .flat_map(|prefix| {
                p.values.iter().map(move |&v| {
                    let mut next = prefix.clone();
                    next.push(v);
                    next
                })
            })
            .collect()
    })
}

/// Sets the field at a dotted path to `v`. `arm.NAME.field` finds the arm by
/// name; missing tables on the way (e.g. `[drugs.nsaid]`) are created. A
/// field written as a whole number stays one.
fn set_path(doc: &mut toml::Table, path: &str, v: f64) -> std::result::Result<(), String> {
    let (table, last) = field_table(doc, path)?;
    let whole = v.fract() == 0.0 && v.abs() < 9.0e15;
    let keep_integer = match table.get(last) {
        Some(Value::Integer(_)) => true,
        None => !path.contains('.') && ["patients", "seed", "replicates"].contains(&last),
        _ => false,
    };
    let value = if keep_integer {
        if !whole {
            return Err(format!("`{path}` takes a whole number, not {v}"));
        }
        Value::Integer(v as i64)
    } else {
        Value::Float(v)
    };
    table.insert(last.to_string(), value);
    Ok(())
}

/// Sets the field at a dotted path to the real number `v`, written as a
/// float whatever the field held before (calibrate --fit searches real
/// values); the path is resolved exactly as for a sweep.
pub(crate) fn set_path_real(
    doc: &mut toml::Table,
    path: &str,
    v: f64,
) -> std::result::Result<(), String> {
    let (table, last) = field_table(doc, path)?;
    table.insert(last.to_string(), Value::Float(v));
    Ok(())
}

/// The value at a dotted path as written in the scenario (None: not
/// written, so the field has its default).
pub(crate) fn get_path(
    doc: &toml::Table,
    path: &str,
) -> std::result::Result<Option<Value>, String> {
    let mut doc = doc.clone();
    let (table, last) = field_table(&mut doc, path)?;
    Ok(table.get(last).cloned())
}

/// The table holding the field at a dotted path, and the field's name.
/// `arm.NAME.field` finds the arm by name; missing tables on the way are
/// created.
fn field_table<'a, 'p>(
    doc: &'a mut toml::Table,
    path: &'p str,
) -> std::result::Result<(&'a mut toml::Table, &'p str), String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{path}` is not a dotted path of a scenario field"));
    }
    let (last, walk) = parts.split_last().expect("split gives at least one part");
    let mut table = doc;
    let mut i = 0;
    while i < walk.len() {
        let part = walk[i];
        if part == "arm" {
            let Some(name) = walk.get(i + 1) else {
                return Err(format!(
                    "`{path}`: name the arm, e.g. arm.NAME.min_weeks_on_step"
                ));
            };
            let arms = table.get_mut("arm").and_then(Value::as_array_mut);
            let names: Vec<String> = arms
                .as_ref()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.get("name")?.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let arm = arms.and_then(|a| {
                a.iter_mut()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
            });
            table = match arm.and_then(Value::as_table_mut) {
                Some(t) => t,
                None => {
                    return Err(format!(
                        "`{path}`: the scenario has no arm named `{name}` (arms: {})",
                        if names.is_empty() {
                            "none".into()
                        } else {
                            names.join(", ")
                        }
                    ))
                }
            };
            i += 2;
            continue;
        }
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(toml::Table::new()));
        table = match entry.as_table_mut() {
            Some(t) => t,
            None => {
                return Err(format!(
                    "`{path}`: `{part}` is a value, not a table of fields"
                ))
            }
        };
        i += 1;
    }
    Ok((table, last))
}
