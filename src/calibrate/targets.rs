//! Which targets a calibration compares with: the published targets C1–C15,
//! or a researcher's own targets read from a CSV file (`--targets FILE.csv`,
//! columns `id,target,metric,published,tolerance` and optionally `arm`),
//! each naming a metric of `summary.csv`. Also the standardised distance
//! that `calibrate --fit` minimises.

use std::borrow::Cow;
use std::path::Path;

use crate::engine::cohort::CohortResult;
use crate::error::{Error, Result};
use crate::output::summary::summary_rows;
use crate::scenario::Scenario;
use crate::study::Study;

use super::{calibration_rows, mark_not_applicable, CalibrationRow, Target};

/// Largest targets file, bytes.
pub const MAX_TARGETS_BYTES: u64 = 1 << 20;
/// Most targets in one file.
pub const MAX_TARGETS: usize = 1000;
/// The columns a targets file must have.
pub const REQUIRED_COLUMNS: [&str; 5] = ["id", "target", "metric", "published", "tolerance"];
/// The optional column: the arm whose summary metric is compared (empty or
/// missing: the first arm).
pub const ARM_COLUMN: &str = "arm";

/// One line of a targets file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileTarget {
    /// The target (its `source` says which metric and arm).
    pub target: Target,
    /// The `summary.csv` metric compared with `published`.
    pub metric: String,
    /// The arm (None: the first arm).
    pub arm: Option<String>,
    /// Line of the file (1-based), for messages.
    pub line: u64,
    /// Columns (1-based) of `metric` and `arm` in the file, for messages.
    pub columns: (usize, usize),
}

/// The targets a calibration compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// The published targets C1–C15, first arm (built in).
    Published,
    /// Targets read from a file.
    File {
        /// The file, as given.
        path: String,
        /// Its targets, in file order.
        targets: Vec<FileTarget>,
    },
}

impl Targets {
    /// Reads a targets file, or the published targets without one.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        match path {
            None => Ok(Targets::Published),
            Some(p) => read_targets_file(p),
        }
    }

    /// Checks every metric and arm of a targets file against the study: an
    /// unknown metric or arm is refused with its line, listing what exists.
    pub fn check_against(&self, study: &Study) -> Result<()> {
        let Targets::File { path, targets } = self else {
            return Ok(());
        };
        let known = crate::study::sweep::summary_metric_names(study);
        let unknown: Vec<&FileTarget> = targets
            .iter()
            .filter(|t| !known.contains(&t.metric))
            .collect();
        if let Some(first) = unknown.first() {
            let listed: Vec<String> = unknown
                .iter()
                .map(|t| format!("`{}` (line {})", t.metric, t.line))
                .collect();
            return Err(Error::Invalid {
                path: path.clone(),
                location: Some((first.line as usize, first.columns.0)),
                message: format!(
                    "unknown metric {}: `metric` names a metric of summary.csv for this scenario, one of: {}",
                    listed.join(", "),
                    known.join(", ")
                ),
            });
        }
        let arms = study.arm_names();
        if let Some(t) = targets
            .iter()
            .find(|t| t.arm.as_ref().is_some_and(|a| !arms.contains(a)))
        {
            return Err(Error::Invalid {
                path: path.clone(),
                location: Some((t.line as usize, t.columns.1)),
                message: format!(
                    "the scenario has no arm `{}`: arms are {} (leave `arm` empty for the first arm)",
                    t.arm.as_deref().unwrap_or_default(),
                    arms.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// The simulated value of every target in a result, with its Monte Carlo
    /// error; targets that do not apply to the scenario are marked.
    pub fn rows(&self, res: &CohortResult, scenario: &Scenario) -> Vec<CalibrationRow> {
        match self {
            Targets::Published => {
                let mut rows = calibration_rows(res);
                mark_not_applicable(&mut rows, scenario);
                rows
            }
            Targets::File { targets, .. } => file_rows(targets, res),
        }
    }

    /// Whether these are the published targets (the PedCNO70 comparison is
    /// printed with them only).
    pub fn is_published(&self) -> bool {
        matches!(self, Targets::Published)
    }
}

/// The standardised distance of a calibration from its targets:
/// the sum over targets of ((simulated - published) / tolerance)^2, over the
/// targets that apply (`not_applicable` is None). A target that applies but
/// has no simulated value makes the distance infinite.
pub fn distance(rows: &[CalibrationRow]) -> f64 {
    rows.iter()
        .filter(|r| r.not_applicable.is_none())
        .map(standardised_square)
        .sum()
}

/// ((simulated - published) / tolerance)^2, infinite without a simulated value.
pub fn standardised_square(r: &CalibrationRow) -> f64 {
    let z = (r.simulated - r.target.published) / r.target.tolerance;
    if z.is_finite() {
        z * z
    } else {
        f64::INFINITY
    }
}

/// The simulated values of a file's targets: the mean and Monte Carlo
/// error of the named summary metric in the named arm (default the first).
fn file_rows(targets: &[FileTarget], res: &CohortResult) -> Vec<CalibrationRow> {
    let summary = summary_rows(res);
    targets
        .iter()
        .map(|t| {
            let arm = t.arm.as_deref().unwrap_or(&res.arms[0]);
            let (simulated, mcse) = summary
                .iter()
                .find(|r| r.arm == arm && r.metric == t.metric)
                .map_or((f64::NAN, f64::NAN), |r| (r.mean, r.mcse));
            CalibrationRow {
                target: t.target.clone(),
                simulated,
                mcse,
                not_applicable: (!simulated.is_finite())
                    .then(|| "no simulated value (no patient reached this point)".to_string()),
            }
        })
        .collect()
}

/// An error at a line and column of the targets file.
fn at(path: &Path, line: u64, column: usize, message: String) -> Error {
    Error::Invalid {
        path: path.display().to_string(),
        location: Some((line as usize, column)),
        message,
    }
}

/// Reads and checks a targets file (CSV with a header line).
fn read_targets_file(path: &Path) -> Result<Targets> {
    let shown = path.display().to_string();
    let cannot = |why: String| Error::Usage(format!("--targets {shown}: {why}"));
    let meta = std::fs::metadata(path).map_err(|e| cannot(format!("cannot read it: {e}")))?;
    if !meta.is_file() {
        return Err(cannot(format!(
            "not a regular file; expected a CSV file with columns {}",
            REQUIRED_COLUMNS.join(",")
        )));
    }
    if meta.len() > MAX_TARGETS_BYTES {
        return Err(cannot(format!(
            "{} bytes; a targets file may have at most {MAX_TARGETS_BYTES}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| cannot(format!("cannot read it: {e}")))?;
    parse_targets(&bytes, path)
}

/// Parses the text of a targets file; `path` names it in messages.
pub fn parse_targets(bytes: &[u8], path: &Path) -> Result<Targets> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let headers = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
    let index = |name: &str| headers.iter().position(|h| h == name);
    if let Some((i, h)) = headers
        .iter()
        .enumerate()
        .find(|(_, h)| !REQUIRED_COLUMNS.contains(h) && *h != ARM_COLUMN)
    {
        return Err(at(
            path,
            1,
            i + 1,
            format!(
                "unknown column `{h}`: the columns are {} and optionally {ARM_COLUMN}",
                REQUIRED_COLUMNS.join(",")
            ),
        ));
    }
    let mut columns = [0usize; 5];
    for (slot, name) in columns.iter_mut().zip(REQUIRED_COLUMNS) {
        *slot = index(name).ok_or_else(|| {
            at(
                path,
                1,
                1,
                format!(
                    "the header has no column `{name}`: a targets file starts with the line {}[,{ARM_COLUMN}]",
                    REQUIRED_COLUMNS.join(",")
                ),
            )
        })?;
    }
    let arm_column = index(ARM_COLUMN);
    let mut targets: Vec<FileTarget> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        if targets.len() == MAX_TARGETS {
            return Err(at(
                path,
                line,
                1,
                format!("more than {MAX_TARGETS} targets; at most {MAX_TARGETS} are allowed"),
            ));
        }
        let cell = |i: usize| record.get(i).unwrap_or_default();
        let [id_at, target_at, metric_at, published_at, tolerance_at] = columns;
        let id = cell(id_at);
        if id.is_empty() {
            return Err(at(
                path,
                line,
                id_at + 1,
                "empty `id`: give each target a name, e.g. T1".into(),
            ));
        }
        if let Some(earlier) = targets.iter().find(|t| t.target.id == id) {
            return Err(at(
                path,
                line,
                id_at + 1,
                format!(
                    "`id` {id} is already used on line {}: ids must differ",
                    earlier.line
                ),
            ));
        }
        let metric = cell(metric_at);
        if metric.is_empty() {
            return Err(at(
                path,
                line,
                metric_at + 1,
                "empty `metric`: name a metric of summary.csv, e.g. flares_per_patient_year".into(),
            ));
        }
        let number = |i: usize, name: &str| -> Result<f64> {
            cell(i)
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    at(
                        path,
                        line,
                        i + 1,
                        format!("`{name}` is {:?}, not a finite number", cell(i)),
                    )
                })
        };
        let published = number(published_at, "published")?;
        let tolerance = number(tolerance_at, "tolerance")?;
        if tolerance <= 0.0 {
            return Err(at(
                path,
                line,
                tolerance_at + 1,
                format!(
                    "`tolerance` is {tolerance}: it must be above 0 (the distance divides by it)"
                ),
            ));
        }
        let arm = arm_column
            .map(|i| cell(i).to_string())
            .filter(|a| !a.is_empty());
        let source = match &arm {
            Some(a) => format!("summary.csv {metric}, arm {a}"),
            None => format!("summary.csv {metric}"),
        };
        targets.push(FileTarget {
            target: Target {
                id: Cow::Owned(id.to_string()),
                target: Cow::Owned(cell(target_at).to_string()),
                published,
                tolerance,
                source: Cow::Owned(source),
            },
            metric: metric.to_string(),
            arm,
            line,
            columns: (metric_at + 1, arm_column.map_or(0, |i| i + 1)),
        });
    }
    if targets.is_empty() {
        return Err(at(
            path,
            1,
            1,
            "the file has a header but no target: add lines of id,target,metric,published,tolerance".into(),
        ));
    }
    Ok(Targets::File {
        path: path.display().to_string(),
        targets,
    })
}

/// A CSV error with its line (and field) where the csv crate knows them.
fn csv_error(path: &Path, e: &csv::Error) -> Error {
    let line = e.position().map_or(1, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this line has {len} fields, the header {expected_len}: every line needs one value per column"),
        csv::ErrorKind::Utf8 { err, .. } => {
            return at(
                path,
                line,
                err.field() + 1,
                "invalid UTF-8; a targets file is UTF-8 text".into(),
            )
        }
        _ => format!("not a readable CSV file: {e}"),
    };
    at(path, line, 1, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Targets> {
        parse_targets(text.as_bytes(), Path::new("t.csv"))
    }

    #[test]
    fn a_file_reads_in_order_with_its_lines() {
        let t = parse("id,target,metric,published,tolerance,arm\nA,flares,flares_per_patient_year,1.1,0.3,\nB,x,time_in_flare_frac,0.2,0.05,b\n").unwrap();
        let Targets::File { targets, .. } = t else {
            panic!("a file")
        };
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].line, 2);
        assert_eq!(targets[0].arm, None);
        assert_eq!(targets[1].arm.as_deref(), Some("b"));
        assert_eq!(targets[1].target.published, 0.2);
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        let e = parse("id,target,metric,published,tolerance\nA,x,m,1,0.1\nB,x,m,abc,0.1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 4"), "{e}");
        assert!(e.contains("published"), "{e}");
        let e = parse("id,target,metric,published,tolerance\nA,x,m,1,0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column 5"), "{e}");
        let e = parse("id,target,metric,published,tolerance\nA,x,m,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = parse("id,target,metric,published\nA,x,m,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column `tolerance`"), "{e}");
        let e = parse("id,target,metric,published,tolerance,extra\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1, column 6"), "{e}");
        let e = parse("id,target,metric,published,tolerance\nA,x,m,1,1\nA,y,m,1,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("already used on line 2"), "{e}");
    }

    #[test]
    fn the_distance_sums_standardised_squares_of_applicable_targets() {
        let row = |published: f64, tolerance: f64, simulated: f64, na: bool| CalibrationRow {
            target: Target {
                id: Cow::Borrowed("X"),
                target: Cow::Borrowed(""),
                published,
                tolerance,
                source: Cow::Borrowed(""),
            },
            simulated,
            mcse: 0.0,
            not_applicable: na.then(|| "n/a".to_string()),
        };
        let rows = [
            row(1.0, 0.5, 2.0, false),
            row(10.0, 2.0, 7.0, false),
            row(0.0, 1.0, 100.0, true),
        ];
        assert_eq!(distance(&rows), 4.0 + 2.25);
        assert_eq!(distance(&[row(1.0, 1.0, f64::NAN, false)]), f64::INFINITY);
    }
}
