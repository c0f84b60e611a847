//! `run`, `run --shard K/N` and `merge`: simulate a study (or a slice of
//! it), and write its result files through a staging directory. The helpers
//! here are shared with `calibrate` ([`super::calibrate`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::engine::cohort::{NoRows, RowSink};
use crate::error::{Error, Result};
use crate::output::outdir::{result_dir_name, Staging};
use crate::output::rowfile::join_parts;
use crate::output::rows::{fmt_num, CsvRows};
use crate::output::writer::{
    sha256_hex, write_manifest, write_run, RunInfo, SweepInfo, SweepPointInfo,
};
use crate::plot::report::ReportCalibration;
use crate::results::headline::HEADLINE;
use crate::results::CohortResult;
use crate::scenario::LoadedScenario;
use crate::study::shard::{merge_shards, ShardFile, ShardSpec, StudyIdentity};
use crate::study::Study;

use super::{load, progress_bar, with_threads, MergeArgs, RunArgs};

/// The study named on the command line, with `--patients`/`--seed` and
/// `--reference-arm` applied.
pub(super) fn load_study(args: &RunArgs) -> Result<Study> {
    let mut loaded = load(args.scenario.as_deref())?;
    super::thread_count(args.threads)?;
    if let Some(name) = &args.reference_arm {
        set_reference_arm(&mut loaded, name)?;
    }
    super::resolve_with_overrides(loaded, args.patients, args.seed)
}

/// Sets the scenario's `reference_arm` to `name` (`--reference-arm`, or
/// what a shard records), refusing a name that is not one of its arms.
pub(crate) fn set_reference_arm(loaded: &mut LoadedScenario, name: &str) -> Result<()> {
    let arms = crate::study::arm_names_of(&loaded.scenario);
    if !arms.iter().any(|a| a == name) {
        return Err(Error::Usage(format!(
            "{}: --reference-arm {}",
            loaded.origin,
            crate::study::unknown_reference_arm(name, &arms)
        )));
    }
    loaded.scenario.reference_arm = Some(toml::Spanned::new(0..0, name.to_string()));
    Ok(())
}

/// Names the scenario file in a per-patient limit error (the engine does not know it).
fn with_origin(e: Error, origin: &str) -> Error {
    match e {
        Error::PatientLimit(m) => Error::PatientLimit(format!("{origin}: {m}")),
        e => e,
    }
}

/// The per-patient row writer the study asks for, writing into `dir`.
pub(super) fn row_sink(study: &Study, dir: &Path) -> Result<Box<dyn RowSink>> {
    let s = study.scenario();
    let o = &s.output;
    let rows = s.patients * u64::from(s.replicates) * study.arm_names().len() as u64;
    let on = (o.patients, o.events);
    for w in crate::output::rows::size_warnings(rows, s.horizon_years, on, o.compression) {
        eprintln!("warning: {w}");
    }
    Ok(if o.patients || o.events {
        Box::new(CsvRows::new(
            dir,
            study.arm_names(),
            study.drug_names(),
            (o.patients, o.events),
            o.compression,
        )?)
    } else {
        Box::new(NoRows)
    })
}

/// The manifest of a run, before its files are listed.
pub(super) fn run_info(
    study: &Study,
    threads: usize,
    patient_years: f64,
    wall_seconds: f64,
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
        // Arguments need not be UTF-8 (paths): record them lossily, never panic.
        command_line: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
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

/// The per-patient files a study writes.
fn row_files(study: &Study) -> Vec<String> {
    let o = &study.scenario().output;
    [(o.patients, "patients.csv"), (o.events, "events.csv")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| o.compression.file_name(name))
        .collect()
}

/// Simulates work units `units` of the study (multi-threaded on `threads`
/// workers; the result does not depend on them) with a progress bar;
/// returns the accumulators per grid point, the thread count and seconds.
pub(super) fn simulate(
    study: &Study,
    units: std::ops::Range<u64>,
    sink: &mut dyn RowSink,
    threads: Option<u64>,
    quiet: bool,
) -> Result<(Vec<crate::engine::cohort::Accumulators>, usize, f64)> {
    let pb = progress_bar(study.work_patients(&units), quiet);
    let started = Instant::now();
    let (accs, threads) = with_threads(threads, || {
        let r = study.run_slice(units, sink, &|n| pb.inc(n));
        (r, rayon::current_num_threads())
    })?;
    let accs = accs.map_err(|e| with_origin(e, &study.loaded().origin))?;
    pb.finish_and_clear();
    sink.finish()?;
    Ok((accs, threads, started.elapsed().as_secs_f64()))
}

/// Simulates the whole study, per-patient rows into `dir`: the merged
/// results and the manifest facts of the run.
pub(super) fn simulate_whole(
    study: &Study,
    dir: &Path,
    args: &RunArgs,
) -> Result<(Vec<CohortResult>, RunInfo)> {
    let mut sink = row_sink(study, dir)?;
    let (accs, threads, wall_seconds) = simulate(
        study,
        0..study.work_units(),
        sink.as_mut(),
        args.threads,
        args.quiet,
    )?;
    drop(sink);
    let results = study.results(accs);
    let patient_years = results.iter().map(|r| r.patient_years).sum();
    let info = run_info(study, threads, patient_years, wall_seconds);
    Ok((results, info))
}

/// `crmo-sim run`: simulates the cohort (multi-threaded over patient
/// chunks) and writes every output file, staged and renamed into place.
/// With `--shard K/N` it runs slice K only and writes that slice's
/// accumulators for `merge`.
pub(super) fn run(args: &RunArgs) -> Result<PathBuf> {
    let study = load_study(args)?;
    if let Some(shard) = args.shard {
        return run_shard(&study, shard, args);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(result_dir_name(&study.name())));
    let staging = Staging::new(&out, args.replace)?;
    let (results, mut info) = simulate_whole(&study, staging.path(), args)?;
    let plots = (!args.no_plots).then_some(args.style);
    let calibration = reference_calibration(&study, &results);
    write_results(
        &study,
        &results,
        staging.path(),
        &mut info,
        plots,
        calibration,
    )?;
    let target = staging.commit()?;
    if !args.quiet {
        print_summary(&study, &results, &target, info.wall_seconds);
    }
    Ok(target)
}

/// Writes the result files of a whole study (run or merge) into `dir`. A
/// study: the PSA tables, the cohort plots, then summary, differences, time
/// series, Kaplan–Meier curves and the manifest. A sweep: `sweep.csv`, the
/// sweep plot and the manifest. `plots` is the style of the plots (None: no
/// plots). `calibration` is the report's calibration section, if any.
pub(super) fn write_results(
    study: &Study,
    results: &[CohortResult],
    dir: &Path,
    info: &mut RunInfo,
    plots: Option<crate::plot::Style>,
    calibration: Option<ReportCalibration>,
) -> Result<()> {
    if let Some(sweep) = study.sweep() {
        crate::study::sweep::write_sweep_csv(sweep, results, dir)?;
        if plots.is_some() {
            crate::plot::sweep::sweep_plots(sweep, results, &study.name(), &dir.join("plots"))?;
        }
        return write_manifest(dir, info);
    }
    let result = &results[0];
    if crate::study::psa::wants_tables(study) {
        crate::study::psa::write_tables(study, result, dir)?;
    }
    if let Some(inputs) = crate::economics::EconomicInputs::of(study, result) {
        crate::economics::files::write_economics(&inputs, dir)?;
        if plots.is_some() && inputs.replicates() > 1 {
            crate::plot::economics::economics_plots(&inputs, &study.name(), &dir.join("plots"))?;
        }
    }
    let drugs = study.drug_names();
    if let Some(style) = plots {
        crate::plot::cohort::cohort_plots(
            result,
            &drugs,
            &study.name(),
            &dir.join("plots"),
            style,
        )?;
    }
    write_report(study, result, dir, info, calibration)?;
    write_run(dir, result, &drugs, info)
}

/// Writes `report.html`: the run's facts (the manifest's fields but the
/// machine-specific ones: threads, timing, command line),
/// headline and difference tables, the plots, and the calibration table if
/// given.
fn write_report(
    study: &Study,
    result: &CohortResult,
    dir: &Path,
    info: &RunInfo,
    calibration: Option<ReportCalibration>,
) -> Result<()> {
    let facts = serde_json::to_value(info)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        // Machine-specific fields stay in manifest.json only, so the report
        // is identical whatever the thread count, machine or command line.
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
        .collect();
    let name = study.name();
    let input = crate::plot::report::ReportInput {
        scenario: &name,
        scenario_text: &study.loaded().text,
        facts,
        calibration,
        economics: report_economics(study, result),
    };
    crate::plot::report::write_report(dir, result, &input)
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

/// `crmo-sim run --shard K/N`: runs slice K of the work (multi-threaded,
/// like `run`) and writes its accumulators (`shard.crmo`), its part of any
/// per-patient files and a manifest into the shard directory.
fn run_shard(study: &Study, shard: ShardSpec, args: &RunArgs) -> Result<PathBuf> {
    let out = args.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!(
            "{}-shard-{}-of-{}",
            result_dir_name(&study.name()),
            shard.index,
            shard.count
        ))
    });
    let staging = Staging::new(&out, args.replace)?;
    let mut sink = row_sink(study, staging.path())?;
    let units = study.shard_units(shard);
    let (points, threads, wall_seconds) = simulate(
        study,
        units.clone(),
        sink.as_mut(),
        args.threads,
        args.quiet,
    )?;
    drop(sink);
    let days: f64 = points.iter().map(|a| a.observed_days.value()).sum();
    let patient_years = days / crate::engine::units::DAYS_PER_YEAR;
    let file = ShardFile {
        identity: StudyIdentity::of(study, shard.count),
        shard,
        scenario_text: study.loaded().text.clone(),
        scenario_origin: study.loaded().origin.clone(),
        units: (units.start, units.end),
        wall_seconds,
        points,
    };
    file.write(staging.path())?;
    let mut info = run_info(study, threads, patient_years, wall_seconds);
    info.shard = Some(shard.to_string());
    write_manifest(staging.path(), &mut info)?;
    let target = staging.commit()?;
    if !args.quiet {
        println!(
            "shard {shard}: work units {}..{} of {}, {:.0} patient-years in {:.2} s\nshard in {}/",
            units.start,
            units.end,
            study.work_units(),
            patient_years,
            wall_seconds,
            target.display()
        );
    }
    Ok(target)
}

/// `crmo-sim merge`: reads all N shards of a run, checks they belong
/// together, and writes exactly the files one `run` writes (single-threaded
/// apart from the plots; merging is a sum of integers).
pub(super) fn merge(args: &MergeArgs) -> Result<()> {
    let merged = merge_shards(&args.shards)?;
    let study = &merged.study;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(result_dir_name(&study.name())));
    refuse_out_among_inputs(&out, &merged.dirs)?;
    let staging = Staging::new(&out, args.replace)?;
    let calibration = reference_calibration(study, &merged.results);
    let patient_years = merged.results.iter().map(|r| r.patient_years).sum();
    let mut info = run_info(study, 0, patient_years, merged.wall_seconds);
    let compression = study.scenario().output.compression;
    for f in row_files(study) {
        join_parts(&merged.dirs, &f, &staging.path().join(&f), compression)?;
    }
    write_results(
        study,
        &merged.results,
        staging.path(),
        &mut info,
        (!args.no_plots).then_some(args.style),
        calibration,
    )?;
    let target = staging.commit()?;
    if !args.quiet {
        print_summary(study, &merged.results, &target, merged.wall_seconds);
    }
    Ok(())
}

/// Refuses a merge's `--out` that is one of its shard directories, holds
/// one or lies inside one: the result would replace a shard it reads, or
/// be written into it. Paths are compared as the file system resolves
/// them, so a link or `..` to a shard is caught too.
fn refuse_out_among_inputs(out: &Path, shards: &[PathBuf]) -> Result<()> {
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

/// The short table printed after a run or merge.
fn print_summary(study: &Study, results: &[CohortResult], target: &Path, wall_seconds: f64) {
    match study.sweep() {
        Some(sweep) => print_sweep(sweep, results, target, wall_seconds),
        None => print_headline(&results[0], target, wall_seconds),
    }
}

fn print_headline(res: &CohortResult, target: &Path, wall_seconds: f64) {
    let rows = res.summary();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} patients x {} replicate(s), {:.0} patient-years in {:.2} s",
        res.patients,
        res.replicates.len(),
        res.patient_years,
        wall_seconds
    );
    for arm in &res.arms {
        let _ = writeln!(out, "\narm {arm}");
        let _ = writeln!(
            out,
            "  {:<40} {:>10} {:>21}",
            "metric", "mean", "95% interval"
        );
        for (metric, label) in HEADLINE {
            if let Some(r) = rows.iter().find(|r| &r.arm == arm && r.metric == metric) {
                let _ = writeln!(
                    out,
                    "  {:<40} {:>10} {:>21}",
                    label,
                    fmt_num(round3(r.mean)),
                    format!(
                        "{} - {}",
                        fmt_num(round3(r.lower_95)),
                        fmt_num(round3(r.upper_95))
                    )
                );
            }
        }
    }
    print_headline_differences(&mut out, res);
    let _ = writeln!(out, "\nresults in {}/", target.display());
}

/// The headline metrics' paired differences of each arm from the reference
/// arm (the rows of `differences.csv`; nothing with one arm).
fn print_headline_differences(out: &mut impl Write, res: &CohortResult) {
    let rows = res.differences();
    let compared = res.arms.iter().filter(|a| *a != res.reference_arm());
    for arm in compared {
        let _ = writeln!(
            out,
            "\narm {arm} minus {} (paired, same patients)",
            res.reference_arm()
        );
        let _ = writeln!(
            out,
            "  {:<40} {:>10} {:>21}",
            "metric", "difference", "95% interval"
        );
        for (metric, label) in HEADLINE {
            if let Some(r) = rows.iter().find(|r| &r.arm == arm && r.metric == metric) {
                let _ = writeln!(
                    out,
                    "  {:<40} {:>10} {:>21}",
                    label,
                    fmt_num(round3(r.mean_difference)),
                    format!(
                        "{} - {}",
                        fmt_num(round3(r.lower_95)),
                        fmt_num(round3(r.upper_95))
                    )
                );
            }
        }
    }
}

/// The swept metric at every grid point, per arm.
fn print_sweep(
    sweep: &crate::study::sweep::Sweep,
    results: &[CohortResult],
    target: &Path,
    wall_seconds: f64,
) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "sweep of {} grid point(s) in {:.2} s; {} (mean, 95% interval):",
        sweep.points.len(),
        wall_seconds,
        sweep.metric
    );
    for (p, res) in sweep.points.iter().zip(results) {
        let at: Vec<String> = sweep
            .parameters
            .iter()
            .zip(&p.values)
            .map(|(q, v)| format!("{} = {v}", q.path))
            .collect();
        let _ = writeln!(out, "\n  {}", at.join(", "));
        for r in res.summary().iter().filter(|r| r.metric == sweep.metric) {
            let _ = writeln!(
                out,
                "    {:<30} {:>10} {:>21}",
                r.arm,
                fmt_num(round3(r.mean)),
                format!(
                    "{} - {}",
                    fmt_num(round3(r.lower_95)),
                    fmt_num(round3(r.upper_95))
                )
            );
        }
    }
    let _ = writeln!(out, "\nresults in {}/", target.display());
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The report's calibration section of a run or merge: the reference
/// scenario (not a sweep) against the published targets C1–C15.
fn reference_calibration(study: &Study, results: &[CohortResult]) -> Option<ReportCalibration> {
    (study.name() == "reference" && study.sweep().is_none()).then(|| ReportCalibration {
        rows: crate::calibrate::calibration_rows(&results[0]),
        against: "the published targets".into(),
    })
}
