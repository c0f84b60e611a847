//! Writing results: `summary.csv`, `metrics.csv`, `differences.csv`,
//! `timeseries.csv`, `km.csv`, optional `patients.csv` and `events.csv` (plain or
//! `.csv.gz`), and
//! `manifest.json`, into a staging directory that replaces the result
//! directory in one atomic step only when complete, under the ownership rule
//! of [`outdir`]. Every CSV is written through the `csv` crate from typed
//! rows.

pub mod cells;
pub mod chartfile;
pub mod outdir;
pub mod ownership;
pub mod platform;
pub mod rowfile;
pub mod rows;
pub mod staging;
pub mod sweep;
pub mod tables;
pub mod writer;

pub use writer::{write_run, RunInfo};
