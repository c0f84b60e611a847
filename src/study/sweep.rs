//! Parameter sweeps: `[sweep]` names one or two scenario fields by dotted
//! path (`natural_history.flare_rate_per_year`, `drugs.nsaid.p_response`,
//! `arm.early.min_weeks_on_step`, `horizon_years`, ...), each with a list of
//! values or a range `{ from, to, steps }` (ends included). Every grid point
//! is the resolved scenario — `--patients` and `--seed` included — with
//! those values set, resolved into a full [`Study`] and run on the same
//! virtual patients (same seed: common random numbers), so differences
//! between points are not sampling noise. The run-size limits count every
//! point as it will run. `sweep.csv` gathers every point's summary.

use toml::Value;

use crate::error::{Error, Result};
pub(crate) use crate::scenario::validate::reason;
use crate::scenario::validate::{self, PointSize, SweepTable, SweptField};
use crate::scenario::{parse, LoadedScenario};

use super::Study;

/// The outcome the sweep plot shows unless `metric` names another.
pub const DEFAULT_METRIC: &str = "time_in_flare_frac";
/// Most values of one swept parameter.
pub use crate::scenario::limits::MAX_SWEEP_VALUES as MAX_VALUES;

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

/// Builds the grid of studies of a `[sweep]` table the validation layer
/// has read and checked (None without `[sweep]`). A grid point that is not
/// a valid scenario, a sweep too large to run and an unknown metric are
/// refused with the file, line and column of the entry.
pub fn resolve(l: &LoadedScenario, table: Option<&SweepTable>) -> Result<Option<Sweep>> {
    let Some(table) = table else {
        return Ok(None);
    };
    let document = point_template(l)?;
    let mut points = Vec::new();
    for values in grid(&table.fields) {
        let study = resolve_point(l, &document, table, &values)?;
        points.push(SweepPoint { values, study });
    }
    // Every grid point is a whole study, as it will run: the run size
    // counts all of them.
    let sizes: Vec<PointSize> = points
        .iter()
        .map(|p| PointSize::of(p.study.scenario()))
        .collect();
    validate::sweep_size(l, table.span.clone(), l.scenario.arm.len(), &sizes)?;
    let known: Vec<String> = summary_metric_names(&points[0].study);
    let metric = validate::sweep_metric(l, table, DEFAULT_METRIC, &known)?;
    Ok(Some(Sweep {
        parameters: table
            .fields
            .iter()
            .map(|f| SweepParameter {
                path: f.path.clone(),
                values: f.values.clone(),
            })
            .collect(),
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
/// checked like any scenario (errors located at the swept parameter).
fn resolve_point(
    l: &LoadedScenario,
    document: &toml::Table,
    table: &SweepTable,
    values: &[f64],
) -> Result<Study> {
    let mut doc = document.clone();
    for (field, &v) in table.fields.iter().zip(values) {
        set_path(&mut doc, &field.path, v)
            .map_err(|m| validate::invalid_at(l, field.span.start, m))?;
    }
    let text = toml::to_string(&doc).expect("a TOML table serialises");
    parse(&text, &l.origin)
        .and_then(Study::resolve)
        .map_err(|e| validate::sweep_point(l, table, values, &reason(&e)))
}

/// The metric names of `summary.csv` for a study.
pub(crate) fn summary_metric_names(study: &Study) -> Vec<String> {
    let mut names: Vec<String> = study.metrics().iter().map(|m| m.name.clone()).collect();
    names.push(crate::engine::metrics::MEDIAN_DELAY.to_string());
    names
}

/// Every combination of the parameters' values, the first varying slowest.
fn grid(fields: &[SweptField]) -> Vec<Vec<f64>> {
    fields.iter().fold(vec![Vec::new()], |acc, p| {
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
