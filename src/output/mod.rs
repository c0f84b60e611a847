//! Writing results: `summary.csv`, `metrics.csv`, `differences.csv`,
//! `timeseries.csv`, `km.csv`, optional `patients.csv` and `events.csv`, and
//! `manifest.json`, into a temporary directory that is renamed into place
//! only when complete. Every CSV is written through the `csv` crate from
//! typed rows.

pub mod km;
pub mod rows;
pub mod summary;
pub mod tables;
pub mod writer;

pub use summary::{summary_rows, SummaryRow};
pub use writer::{write_run, RunInfo};
