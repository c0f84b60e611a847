//! The simulation engine: random streams, the per-patient next-event loop,
//! treatment state, mergeable accumulators and the parallel cohort runner.

pub mod accrual;
pub mod accum;
pub mod cohort;
pub mod differential;
pub mod drugs;
pub mod events;
pub(crate) mod exp1;
pub mod from_diagnosis;
pub mod metrics;
pub mod model_values;
pub mod outcome;
pub mod patient;
pub mod rng;
mod tally;
pub mod treatment;
pub mod units;
