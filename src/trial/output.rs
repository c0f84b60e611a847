//! The files of a trial result: `power.csv`, `trials.csv`,
//! `trial_patients.csv`, `screening.csv`, `sample_size.csv` (with a target
//! power) and `trial_design.json`. Every row is a typed struct written with
//! `csv::Writer::serialize`; `manifest.json` and the plots are written by
//! the caller.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

use super::results::{power_rows, sample_size_rows, screening_rows};
use super::TrialRun;

/// One row of `trials.csv`.
#[derive(Debug, Serialize)]
struct TrialRow<'a> {
    per_arm: u64,
    trial: u64,
    arm: &'a str,
    control: &'a str,
    endpoint: &'a str,
    estimate: Option<f64>,
    p_value: f64,
    reject: bool,
}

/// One row of `trial_patients.csv`.
#[derive(Debug, Serialize)]
struct PatientRow<'a> {
    per_arm: u64,
    trial: u64,
    group: &'a str,
    patient: u64,
    value: Option<f64>,
    time_days: Option<f64>,
    event: Option<u8>,
}

/// `trial_design.json`: the design as run, and what every column means.
#[derive(Debug, Serialize)]
struct DesignFile<'a> {
    endpoint: &'a str,
    test: &'a str,
    alpha: f64,
    per_arm: &'a [u64],
    trials_per_size: u64,
    arms: &'a [String],
    control: &'a str,
    entry: &'a str,
    first_step: Option<String>,
    follow_up_months: f64,
    target_power: Option<f64>,
    estimate: &'a str,
    group_summary: &'a str,
    loss_to_follow_up: &'a str,
    power_interval: &'a str,
    replicate: u32,
    parameters: &'a str,
}

/// Writes `rows` as CSV to `dir/name`.
pub fn write_csv<T: Serialize>(dir: &Path, name: &str, rows: &[T], header: &str) -> Result<()> {
    let path = dir.join(name);
    let io = |e: csv::Error| Error::output(&path, std::io::Error::other(e.to_string()));
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(&path)
        .map_err(io)?;
    w.write_record(header.split(',')).map_err(io)?;
    for r in rows {
        w.serialize(r).map_err(io)?;
    }
    w.flush().map_err(|e| Error::output(&path, e))
}

/// Header of `power.csv`.
pub const POWER_HEADER: &str = "per_arm,arm,control,endpoint,test,trials,power,power_lower_95,power_upper_95,control_mean,arm_mean,effect_mean";
/// Header of `trials.csv`.
pub const TRIALS_HEADER: &str = "per_arm,trial,arm,control,endpoint,estimate,p_value,reject";
/// Header of `trial_patients.csv`.
pub const PATIENTS_HEADER: &str = "per_arm,trial,group,patient,value,time_days,event";
const SCREENING_HEADER: &str = "per_arm,arm,trials,enrolled,screened,enrolled_frac";
const SAMPLE_SIZE_HEADER: &str =
    "arm,control,endpoint,target_power,per_arm,power,power_lower_95,power_upper_95";

/// Writes every CSV file of `run` and `trial_design.json` into `dir`.
pub fn write_tables(dir: &Path, run: &TrialRun) -> Result<()> {
    let d = &run.design;
    let arms = &run.arms;
    let power = power_rows(d, arms, &run.records);
    write_csv(dir, "power.csv", &power, POWER_HEADER)?;
    write_csv(dir, "trials.csv", &trial_rows(run), TRIALS_HEADER)?;
    write_csv(
        dir,
        "trial_patients.csv",
        &patient_rows(run),
        PATIENTS_HEADER,
    )?;
    write_csv(
        dir,
        "screening.csv",
        &screening_rows(arms, &run.records),
        SCREENING_HEADER,
    )?;
    if let Some(target) = d.target_power {
        write_csv(
            dir,
            "sample_size.csv",
            &sample_size_rows(&power, target),
            SAMPLE_SIZE_HEADER,
        )?;
    }
    write_design(dir, run)
}

fn trial_rows(run: &TrialRun) -> Vec<TrialRow<'_>> {
    let d = &run.design;
    let control = run.arms[d.control].as_str();
    run.records
        .iter()
        .flat_map(|r| {
            r.comparisons.iter().map(move |c| TrialRow {
                per_arm: r.per_arm,
                trial: r.trial,
                arm: run.arms[c.arm].as_str(),
                control,
                endpoint: d.endpoint.as_str(),
                estimate: c.estimate,
                p_value: c.p_value,
                reject: c.reject,
            })
        })
        .collect()
}

fn patient_rows(run: &TrialRun) -> Vec<PatientRow<'_>> {
    run.records
        .iter()
        .flat_map(|r| {
            r.patients.iter().map(move |p| PatientRow {
                per_arm: r.per_arm,
                trial: r.trial,
                group: run.arms[p.arm].as_str(),
                patient: p.patient,
                value: p.value,
                time_days: p.time_days,
                event: p.event.map(u8::from),
            })
        })
        .collect()
}

fn write_design(dir: &Path, run: &TrialRun) -> Result<()> {
    let d = &run.design;
    let sizes = super::results::sizes(&run.records);
    let file = DesignFile {
        endpoint: d.endpoint.as_str(),
        test: d.test_name(),
        alpha: d.alpha,
        per_arm: &sizes,
        trials_per_size: d.trials,
        arms: &run.arms,
        control: &run.arms[d.control],
        entry: d.entry.as_str(),
        first_step: (d.entry == super::design::Entry::FirstStepFailed)
            .then(|| d.first_step.join("+")),
        follow_up_months: d.follow_up_days / crate::engine::units::DAYS_PER_MONTH,
        target_power: d.target_power,
        estimate: d.endpoint.estimate_name(),
        group_summary: d.endpoint.group_summary_name(),
        loss_to_follow_up: d.endpoint.missing_rule(),
        power_interval: "Wilson score 95% interval",
        replicate: d.replicate,
        parameters: "parameters given as distributions take this replicate's draws in every trial",
    };
    let path = dir.join("trial_design.json");
    let json = serde_json::to_string_pretty(&file)
        .map_err(|e| Error::output(&path, std::io::Error::other(e.to_string())))?;
    std::fs::write(&path, json + "\n").map_err(|e| Error::output(&path, e))
}
