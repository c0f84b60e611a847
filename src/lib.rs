//! crmo-sim: a stochastic disease-course simulation engine for chronic
//! recurrent multifocal osteomyelitis (CRMO/CNO) and Majeed syndrome.
//!
//! A scenario file ([`scenario`]) describes a virtual cohort; the engine
//! ([`engine`]) simulates each patient's flares, remissions, lesions,
//! diagnosis and treatment in continuous time, in parallel and exactly
//! reproducibly into accumulators; [`results`] holds the merged results and
//! every estimate made from them; [`output`] writes CSV summaries and the
//! manifest, and [`plot`] draws charts, both reading [`results`]. A scenario is resolved once into a
//! [`study::Study`], which every command goes through. The
//! command-line interface lives in [`cli`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod calibrate;
pub mod cli;
pub mod economics;
pub mod engine;
pub mod error;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod plot;
pub mod results;
pub mod scenario;
pub mod study;
pub mod trial;
pub mod validation;

pub use error::{Error, Result};
