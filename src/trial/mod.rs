//! Virtual trials (`crmo-sim trial`): how many children would a CRMO trial
//! need? Each simulated trial enrols its own patients into each arm, from
//! an entry point (diagnosis, or failure of the usual first step), until
//! every arm is full; measures the endpoint from entry; and applies the
//! endpoint's test to every arm against the control. Over many trials the
//! share of rejections is the power (or, with identical arms, the type I
//! error), per sample size.
//!
//! - [`design`]: the `[trial]` table and the flags, checked.
//! - [`endpoint`]: the endpoints, measured from the engine's per-patient
//!   outcome, and how loss to follow-up enters each.
//! - [`run`]: enrolment and one trial; trials are independent units of
//!   work, so threads, shards and `merge` give the same bytes.
//! - [`stats`]: the tests (distribution functions from `statrs`).
//! - [`results`]: power, group means, screening and the sample-size search.
//! - [`output`]: the CSV files and `trial_design.json`.
//! - [`report`]: `report.html`, the page a person opens.
//! - [`shard`]: `trial --shard K/N` and the merge of its shards.
//!
//! Random streams: an arm of a trial has its own key, named by (seed,
//! patients per arm, trial, arm) through the stream purpose
//! [`crate::engine::rng::Purpose::Trial`]; its patients are numbered from 0
//! under that key, the key of the replicate whose parameter values the
//! trials use (0 unless `--replicate R`: parameters given as distributions
//! take that replicate's draws in every trial, so running the trials for
//! several replicates shows how the answer moves with the drug effects).

pub mod design;
pub mod endpoint;
pub mod output;
pub mod report;
pub mod results;
pub mod run;
pub mod shard;
pub mod stats;

use crate::error::Result;
use crate::study::Study;

use design::TrialDesign;
use run::{TrialContext, TrialRecord};

/// The trials of a design, all sizes, in size and trial order.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRun {
    /// The design.
    pub design: TrialDesign,
    /// The study's arm names.
    pub arms: Vec<String>,
    /// Every trial, sorted by size then trial.
    pub records: Vec<TrialRecord>,
}

impl TrialRun {
    /// Puts records of several batches (grid, bisection steps, shards) in
    /// size and trial order.
    pub fn new(design: TrialDesign, arms: Vec<String>, mut records: Vec<TrialRecord>) -> Self {
        records.sort_by_key(|r| (r.per_arm, r.trial));
        TrialRun {
            design,
            arms,
            records,
        }
    }

    /// Patient-years observed over every screened patient.
    pub fn patient_years(&self) -> f64 {
        self.records.iter().map(|r| r.observed_days).sum::<f64>()
            / crate::engine::units::DAYS_PER_YEAR
    }

    /// Patients screened over every trial and arm.
    pub fn screened(&self) -> u64 {
        self.records
            .iter()
            .flat_map(|r| r.groups.iter().map(|g| g.screened))
            .sum()
    }
}

/// Runs every trial of `design` on the current rayon pool: the grid of
/// sizes, then, with a target power, the bisection steps between the
/// largest size below it and the smallest above it (one size at a time).
/// `progress` receives enrolled patients as trials finish.
pub fn run_design(
    study: &Study,
    design: &TrialDesign,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<TrialRun> {
    let ctx = TrialContext::new(study, design)?;
    let mut records = ctx.run_units(0..ctx.units(), progress)?;
    if let Some(target) = design.target_power {
        loop {
            let run = TrialRun::new(design.clone(), study.arm_names(), records.clone());
            let rows = results::power_rows(design, &run.arms, &run.records);
            let Some(n) = results::next_bisection(&rows, target) else {
                break;
            };
            records.extend(ctx.run_size(n, progress)?);
        }
    }
    Ok(TrialRun::new(design.clone(), study.arm_names(), records))
}
