//! The tables of a sweep's result directory: `sweep.csv` (every grid
//! point's `summary.csv`), `metrics.csv` (every point's `metrics.csv`) and,
//! with several arms, `differences.csv` (every point's paired differences),
//! each row led by the point's number and its swept values. A point's rows
//! are made by the same writers as a plain run's files, so they read
//! exactly as that run's would (numbers with up to 6 decimals).

use crate::error::Result;
use crate::results::CohortResult;

use super::cells::{csv_error, fmt_num, to_csv_with_header};
use super::tables::{differences_csv, metrics_csv, summary_csv};

/// The swept parameters and each grid point's values, in file order.
#[derive(Debug, Clone, Copy)]
pub struct SweepGrid<'a> {
    /// The swept parameters' dotted paths.
    pub parameters: &'a [String],
    /// Each grid point's values, one per parameter.
    pub points: &'a [Vec<f64>],
}

/// The sweep tables as (file name, CSV text): `sweep.csv`, `metrics.csv`
/// and (with several arms) `differences.csv`. `results` holds one result
/// per grid point.
pub fn sweep_tables(
    grid: SweepGrid<'_>,
    results: &[CohortResult],
) -> Result<Vec<(String, String)>> {
    let mut tables = vec![
        (
            "sweep.csv".to_string(),
            per_point("sweep.csv", grid, results, summary_csv)?,
        ),
        (
            "metrics.csv".to_string(),
            per_point("metrics.csv", grid, results, metrics_csv)?,
        ),
    ];
    if results.first().is_some_and(|r| r.arms.len() > 1) {
        tables.push((
            "differences.csv".to_string(),
            per_point("differences.csv", grid, results, differences_csv)?,
        ));
    }
    Ok(tables)
}

/// One table over all grid points: each point's table as `table` writes it
/// for a plain run, its rows led by `point` and the swept values.
fn per_point(
    name: &str,
    grid: SweepGrid<'_>,
    results: &[CohortResult],
    table: fn(&CohortResult) -> Result<String>,
) -> Result<String> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(grid.parameters.iter().cloned());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (point, (values, res)) in grid.points.iter().zip(results).enumerate() {
        let text = table(res)?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        if point == 0 {
            let own = reader.headers().map_err(|e| csv_error(name, e))?;
            header.extend(own.iter().map(String::from));
        }
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(name, e))?;
            let mut row = vec![point.to_string()];
            row.extend(values.iter().map(|v| fmt_num(*v)));
            row.extend(record.iter().map(String::from));
            rows.push(row);
        }
    }
    to_csv_with_header(name, &header, rows)
}
