//! Writing a [`StudyRun`] into a (staging) result directory, in the one
//! order every command uses: the per-patient rows, then the tables (PSA,
//! economics, summary, metrics, differences, time series, Kaplan–Meier, or
//! a sweep's tables), the plots, the report; the manifest last, when the
//! directory is committed. A shard writes its accumulators instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::sweep::{sweep_tables, SweepGrid};
use crate::output::tables::{
    differences_csv, km_csv, metrics_csv, summary_csv, timeseries_csv,
    timeseries_from_diagnosis_csv,
};
use crate::output::writer::{sha256_hex, RunInfo, SweepInfo, SweepPointInfo};
use crate::plot::report::ReportCalibration;
use crate::results::CohortResult;
use crate::study::shard::{ShardFile, StudyIdentity};
use crate::study::Study;

use super::{StudyRun, WriteOptions};

/// The manifest of a run, before its files are listed: the study, how it
/// ran (`threads`, seconds) and the command line that asked for it.
pub fn run_info(
    study: &Study,
    threads: usize,
    patient_years: f64,
    wall_seconds: f64,
    command: &[String],
) -> RunInfo {
    let s = study.scenario();
    RunInfo {
        crmo_sim_version: env!("CARGO_PKG_VERSION").into(),
        scenario: study.name(),
        scenario_source: study.loaded().origin.clone(),
        scenario_sha256: sha256_hex(&study.loaded().text),
        seed: s.seed,
        patients: s.patients,
        replicates: s.replicates,
        horizon_years: s.horizon_years,
        arms: study.arm_names(),
        sweep: study.sweep().map(sweep_info),
        shard: None,
        reference_arm: study.chosen_reference_arm(),
        threads,
        command_line: command.to_vec(),
        patient_years,
        wall_seconds,
        rng: crate::engine::rng::RNG_CRATES.into(),
        files: Vec::new(),
    }
}

/// What the manifest records of a sweep: every grid point as it runs.
fn sweep_info(sweep: &crate::study::sweep::Sweep) -> SweepInfo {
    SweepInfo {
        parameters: sweep.parameters.iter().map(|p| p.path.clone()).collect(),
        points: sweep
            .points
            .iter()
            .map(|p| {
                let s = p.study.scenario();
                SweepPointInfo {
                    values: p.values.clone(),
                    seed: s.seed,
                    patients: s.patients,
                    replicates: s.replicates,
                    horizon_years: s.horizon_years,
                }
            })
            .collect(),
    }
}

/// The CSV tables of the result directory (not the row files) as (file
/// name, text), in the order they are written; `extra` (e.g.
/// `calibration.csv`) comes last.
pub(super) fn tables(
    study: &Study,
    run: &StudyRun,
    extra: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let mut tables = Vec::new();
    each_table(study, run, extra, &mut |name, text| {
        let mut bytes = Vec::new();
        text(&mut bytes).map_err(|e| Error::output(name, e))?;
        let text =
            String::from_utf8(bytes).map_err(|e| Error::output(name, std::io::Error::other(e)))?;
        tables.push((name.to_string(), text));
        Ok(())
    })?;
    Ok(tables)
}

/// A table's text, written into whatever it is given (a file, or memory
/// for [`tables`]).
type TableText<'a> = &'a dyn Fn(&mut dyn Write) -> std::io::Result<()>;

/// What receives each table: its file name and its text.
type PutTable<'a> = dyn FnMut(&str, TableText<'_>) -> Result<()> + 'a;

/// Hands each CSV table of [`tables`] to `put` in the same order, as soon
/// as it is made: a writer holds one table's text at a time, and
/// `replicates.csv`, which grows with the replicates, not even that.
fn each_table(
    study: &Study,
    run: &StudyRun,
    extra: &[(String, String)],
    put: &mut PutTable<'_>,
) -> Result<()> {
    if run.shard.is_some() {
        return Ok(());
    }
    match study.sweep() {
        Some(sweep) => {
            let parameters: Vec<String> = sweep.parameters.iter().map(|p| p.path.clone()).collect();
            let points: Vec<Vec<f64>> = sweep.points.iter().map(|p| p.values.clone()).collect();
            let grid = SweepGrid {
                parameters: &parameters,
                points: &points,
            };
            for (name, text) in sweep_tables(grid, &run.results)? {
                put_text(put, &name, &text)?;
            }
        }
        None => study_tables(study, &run.results[0], put)?,
    }
    for (name, text) in extra {
        put_text(put, name, text)?;
    }
    Ok(())
}

/// Hands a table made as text to `put`.
fn put_text(put: &mut PutTable<'_>, name: &str, text: &str) -> Result<()> {
    put(name, &|w| w.write_all(text.as_bytes()))
}

/// The tables of a study without a sweep, each handed to `put` when made.
fn study_tables(study: &Study, res: &CohortResult, put: &mut PutTable<'_>) -> Result<()> {
    if crate::study::psa::wants_tables(study) {
        put_text(
            put,
            "parameters.csv",
            &crate::study::psa::parameters_csv(study)?,
        )?;
        put("replicates.csv", &|w| {
            crate::study::psa::write_replicates_csv(res, w)
        })?;
    }
    if let Some(inputs) = crate::economics::EconomicInputs::of(study, res) {
        for (name, text) in crate::economics::files::economics_tables(&inputs)? {
            put_text(put, &name, &text)?;
        }
    }
    let drugs = study.drug_names();
    let mut named = |name: &str, text: String| put_text(put, name, &text);
    named("summary.csv", summary_csv(res)?)?;
    named("metrics.csv", metrics_csv(res)?)?;
    if res.arms.len() > 1 {
        named("differences.csv", differences_csv(res)?)?;
    }
    named("timeseries.csv", timeseries_csv(res, &drugs)?)?;
    named(
        "timeseries_from_diagnosis.csv",
        timeseries_from_diagnosis_csv(res)?,
    )?;
    named("km.csv", km_csv(res)?)
}

/// Writes every file of `run` but the manifest into `dir`; returns the
/// manifest's facts, to be completed with the file list at commit.
pub(super) fn write_files(
    study: &Study,
    run: &StudyRun,
    dir: &Path,
    opts: &WriteOptions,
) -> Result<RunInfo> {
    let mut info = run_info(
        study,
        run.threads,
        run.patient_years,
        run.wall_seconds,
        &opts.command,
    );
    run.rows.place(study, dir)?;
    if let Some(part) = &run.shard {
        info.shard = Some(part.spec.to_string());
        write_shard(study, run, dir)?;
        return Ok(info);
    }
    each_table(study, run, &opts.extra_tables, &mut |name, text| {
        let path = dir.join(name);
        write_table(&path, text).map_err(|e| Error::output(&path, e))
    })?;
    if opts.plots {
        write_plots(study, &run.results, dir, opts.style)?;
    }
    match study.sweep() {
        Some(sweep) => write_sweep_report(study, sweep, &run.results, dir, &info)?,
        None => {
            let calibration = opts
                .calibration
                .clone()
                .or_else(|| reference_calibration(study, &run.results));
            write_report(study, &run.results[0], dir, &info, calibration)?;
        }
    }
    Ok(info)
}

/// Writes a table's text into the file `path`.
fn write_table(path: &Path, text: TableText<'_>) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    text(&mut file)?;
    file.flush()
}

/// The plots of a sweep (the swept metric) or of a study (economics with
/// several replicates, then the cohort plots).
fn write_plots(
    study: &Study,
    results: &[CohortResult],
    dir: &Path,
    style: crate::plot::Style,
) -> Result<()> {
    let plots = dir.join("plots");
    if let Some(sweep) = study.sweep() {
        crate::plot::sweep::sweep_plots(sweep, results, &study.name(), &plots)?;
        return Ok(());
    }
    let result = &results[0];
    if let Some(inputs) = crate::economics::EconomicInputs::of(study, result) {
        if inputs.replicates() > 1 {
            crate::plot::economics::economics_plots(&inputs, &study.name(), &plots)?;
        }
    }
    crate::plot::cohort::cohort_plots(result, &study.drug_names(), &study.name(), &plots, style)?;
    Ok(())
}

/// A shard's accumulators (`shard.crmo`), for `merge`.
fn write_shard(study: &Study, run: &StudyRun, dir: &Path) -> Result<()> {
    let Some(part) = &run.shard else {
        return Ok(());
    };
    ShardFile {
        identity: StudyIdentity::of(study, part.spec.count),
        shard: part.spec,
        scenario_text: study.loaded().text.clone(),
        scenario_origin: study.loaded().origin.clone(),
        units: (part.units.start, part.units.end),
        wall_seconds: run.wall_seconds,
        points: part.points.clone(),
    }
    .write(dir)
}

/// The report's facts: the manifest's fields but the machine-specific ones
/// (threads, timing, command line), so the report is identical whatever the
/// thread count, machine or command line.
fn report_facts(info: &RunInfo) -> Vec<(String, String)> {
    serde_json::to_value(info)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| {
            !["files", "threads", "wall_seconds", "command_line"].contains(&k.as_str())
        })
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect()
}

/// Writes `report.html`: the run's facts, headline and difference tables,
/// the plots, the economics and the calibration table if given.
fn write_report(
    study: &Study,
    result: &CohortResult,
    dir: &Path,
    info: &RunInfo,
    calibration: Option<ReportCalibration>,
) -> Result<()> {
    let name = study.name();
    let input = crate::plot::report::ReportInput {
        scenario: &name,
        scenario_text: &study.loaded().text,
        facts: report_facts(info),
        calibration,
        economics: report_economics(study, result),
    };
    crate::plot::report::write_report(dir, result, &input)
}

/// Writes a sweep's `report.html`: the facts, the swept metric at every
/// grid point, the sweep plots, and each point's headline and differences.
fn write_sweep_report(
    study: &Study,
    sweep: &crate::study::sweep::Sweep,
    results: &[CohortResult],
    dir: &Path,
    info: &RunInfo,
) -> Result<()> {
    let name = study.name();
    let parameters: Vec<String> = sweep.parameters.iter().map(|p| p.path.clone()).collect();
    let points: Vec<Vec<f64>> = sweep.points.iter().map(|p| p.values.clone()).collect();
    let input = crate::plot::report::SweepReportInput {
        scenario: &name,
        scenario_text: &study.loaded().text,
        facts: report_facts(info),
        parameters: &parameters,
        points: &points,
        metric: &sweep.metric,
    };
    crate::plot::report::write_sweep_report(dir, results, &input)
}

/// The report's economics and PSA sections, with `[economics]`.
fn report_economics(
    study: &Study,
    result: &CohortResult,
) -> Option<crate::plot::report::ReportEconomics> {
    let e = study.scenario().economics.as_ref()?;
    let inputs = crate::economics::EconomicInputs::of(study, result)?;
    let frame = vec![
        ("perspective".to_string(), e.perspective.clone()),
        (
            "time horizon".to_string(),
            format!("{} years from onset", study.scenario().horizon_years),
        ),
        (
            "discount rate, costs".to_string(),
            e.discount_costs.to_string(),
        ),
        (
            "discount rate, effects".to_string(),
            e.discount_effects.to_string(),
        ),
        ("currency".to_string(), e.currency.clone()),
        ("price year".to_string(), e.price_year.to_string()),
        ("willingness to pay per QALY".to_string(), e.wtp.to_string()),
    ];
    let distributions = study
        .replicate_model(0)
        .drawn
        .into_iter()
        .map(|d| (d.parameter, d.distribution))
        .collect();
    Some(crate::plot::report::ReportEconomics {
        frame,
        inputs,
        distributions,
    })
}

/// The report's calibration section of a run or merge of the reference
/// scenario (not a sweep): against the published targets C1–C15.
fn reference_calibration(study: &Study, results: &[CohortResult]) -> Option<ReportCalibration> {
    (study.name() == "reference" && study.sweep().is_none()).then(|| ReportCalibration {
        rows: crate::calibrate::calibration_rows(&results[0]),
        against: "the published targets".into(),
    })
}

/// Refuses a merge's output directory that is one of its shard
/// directories, holds one or lies inside one: the result would replace a
/// shard it reads, or be written into it. Paths are compared as the file
/// system resolves them, so a link or `..` to a shard is caught too.
pub(super) fn refuse_out_among_inputs(out: &Path, shards: &[PathBuf]) -> Result<()> {
    let target = resolved(out);
    for dir in shards {
        let Ok(shard) = dir.canonicalize() else {
            continue;
        };
        let relation = if target == shard {
            "is"
        } else if shard.starts_with(&target) {
            "holds"
        } else if target.starts_with(&shard) {
            "lies inside"
        } else {
            continue;
        };
        return Err(Error::Usage(format!(
            "--out {} {relation} the shard directory {}, which merge reads: choose an --out outside the shards",
            out.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// `path` as the file system resolves it: its longest existing part made
/// canonical (links and `..` followed), the rest appended as written.
fn resolved(path: &Path) -> PathBuf {
    let mut parts: Vec<std::path::Component> = path.components().collect();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let base = loop {
        let prefix: PathBuf = if parts.is_empty() {
            PathBuf::from(".")
        } else {
            parts.iter().collect()
        };
        if let Ok(real) = prefix.canonicalize() {
            break real;
        }
        match parts.pop() {
            Some(last) => rest.push(last.as_os_str().to_owned()),
            None => break prefix,
        }
    };
    rest.iter().rev().fold(base, |p, part| p.join(part))
}
