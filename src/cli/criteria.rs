//! `criteria`: the virtual differential diagnosis. Simulates the scenario's
//! CRMO cohort to diagnosis beside its mimic populations (`[differential]`)
//! — whole, or as shards (`--shard K/N`) that `--merge` adds up — applies
//! every criterion, and writes `criteria.csv`, `roc.csv`,
//! `auc.csv`, `items.csv`, `populations.csv`, the ROC plot, `report.html`
//! and the manifest through a staging directory, like `run`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::engine::differential::DifferentialTally;
use crate::error::{Error, Result};
use crate::model::criteria::JANSSON_THRESHOLD;
use crate::output::outdir::result_dir_name;
use crate::output::rows::fmt_num;
use crate::output::writer::RunInfo;
use crate::pipeline::{run_info, OutputDir};
use crate::plot::criteria_report::{write_criteria_report, CriteriaReportInput};
use crate::scenario::differential::Mimic;
use crate::study::shard::ShardSpec;
use crate::validation::shard::{merge_criteria_shards, CriteriaShard};
use crate::validation::{tables, CriteriaResult, CriteriaStudy, Criterion};

use super::run::load_study;
use super::{progress_bar, with_threads, CriteriaArgs, RunArgs};

/// `crmo-sim criteria`: the whole run, one shard of it (`--shard K/N`) or
/// the merge of N shards (`--merge DIR...`).
pub(super) fn criteria(args: &CriteriaArgs) -> Result<PathBuf> {
    if let Some(p) = args.prevalence {
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::Usage(format!(
                "--prevalence {} is not allowed: expected a number above 0 and below 1",
                crate::scenario::dist::num(p)
            )));
        }
    }
    if !args.merge.is_empty() {
        return merge(args);
    }
    let cs = CriteriaStudy::resolve(load_study(&args.run)?)?;
    match args.run.shard {
        Some(shard) => run_shard(&cs, shard, args),
        None => run_whole(&cs, args),
    }
}

/// Simulates work units `units` with a progress bar: the tally, the
/// thread count and the seconds taken.
fn simulate(
    cs: &CriteriaStudy,
    units: std::ops::Range<u64>,
    run: &RunArgs,
) -> Result<(DifferentialTally, usize, f64)> {
    let pb = progress_bar(cs.spec().children_in(&units), run.quiet);
    let started = Instant::now();
    let (tally, threads) = with_threads(run.threads, || {
        (cs.run(units, &|n| pb.inc(n)), rayon::current_num_threads())
    })?;
    let tally = tally.map_err(|e| match e {
        Error::PatientLimit(m) => {
            Error::PatientLimit(format!("{}: {m}", cs.study().loaded().origin))
        }
        e => e,
    })?;
    pb.finish_and_clear();
    Ok((tally, threads, started.elapsed().as_secs_f64()))
}

/// The default result directory: `output/<scenario>-criteria`.
fn default_out(cs: &CriteriaStudy) -> PathBuf {
    Path::new("output").join(format!("{}-criteria", result_dir_name(&cs.study().name())))
}

/// The whole differential in one run.
fn run_whole(cs: &CriteriaStudy, args: &CriteriaArgs) -> Result<PathBuf> {
    let run = &args.run;
    let out = run.out.clone().unwrap_or_else(|| default_out(cs));
    let staging = OutputDir::prepare(&out, run.replace)?;
    let (tally, threads, wall_seconds) = simulate(cs, 0..cs.units(), run)?;
    let res = cs.result(tally, args.prevalence);
    let mut info = run_info(
        cs.study(),
        threads,
        0.0,
        wall_seconds,
        &super::command_line(),
    );
    write_outputs(cs, &res, staging.path(), &info, run)?;
    let target = commit(staging, &mut info)?;
    if !run.quiet {
        print_table(&res, &target);
    }
    Ok(target)
}

/// `--shard K/N`: slice K of the work units, its tally in `criteria-shard.json`.
fn run_shard(cs: &CriteriaStudy, shard: ShardSpec, args: &CriteriaArgs) -> Result<PathBuf> {
    let run = &args.run;
    let out = run.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!(
            "{}-criteria-shard-{}-of-{}",
            result_dir_name(&cs.study().name()),
            shard.index,
            shard.count
        ))
    });
    let staging = OutputDir::prepare(&out, run.replace)?;
    let units = shard.units(cs.units());
    let (tally, threads, wall_seconds) = simulate(cs, units.clone(), run)?;
    CriteriaShard::new(cs, shard, tally).write(staging.path())?;
    let mut info = run_info(
        cs.study(),
        threads,
        0.0,
        wall_seconds,
        &super::command_line(),
    );
    let target = commit(staging, &mut info)?;
    if !run.quiet {
        println!(
            "criteria shard {shard}: work units {}..{} of {} in {:.2} s\nshard in {}/",
            units.start,
            units.end,
            cs.units(),
            wall_seconds,
            target.display()
        );
    }
    Ok(target)
}

/// `--merge DIR...`: the N shards of one run into exactly its files.
fn merge(args: &CriteriaArgs) -> Result<PathBuf> {
    let run = &args.run;
    let (cs, tally) = merge_criteria_shards(&args.merge)?;
    let out = run.out.clone().unwrap_or_else(|| default_out(&cs));
    let staging = OutputDir::prepare(&out, run.replace)?;
    let res = cs.result(tally, args.prevalence);
    let mut info = run_info(cs.study(), 0, 0.0, 0.0, &super::command_line());
    write_outputs(&cs, &res, staging.path(), &info, run)?;
    let target = commit(staging, &mut info)?;
    if !run.quiet {
        print_table(&res, &target);
    }
    Ok(target)
}

/// Writes the manifest, puts the result directory in place and prints the
/// warnings; returns where it is.
fn commit(out: OutputDir, info: &mut RunInfo) -> Result<PathBuf> {
    let written = out.commit(info)?;
    super::print_warnings(&written.warnings);
    Ok(written.dir)
}

/// Writes every file of a whole run (or merge) into `dir`: the tables, the
/// ROC plot and `report.html` (the manifest comes at commit).
fn write_outputs(
    cs: &CriteriaStudy,
    res: &CriteriaResult,
    dir: &Path,
    info: &RunInfo,
    run: &RunArgs,
) -> Result<()> {
    for (name, text) in [
        ("criteria.csv", tables::criteria_csv(res)?),
        ("roc.csv", tables::roc_csv(res)?),
        ("auc.csv", tables::auc_csv(res)?),
        ("items.csv", tables::items_csv(res)?),
        ("populations.csv", tables::populations_csv(res)?),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Error::output(&path, e))?;
    }
    if !run.no_plots {
        crate::plot::roc::roc_plots(res, &cs.study().name(), &dir.join("plots"), run.style)?;
    }
    write_report(cs, res, dir, info)
}

/// Writes `report.html`: the run's facts (the manifest's, but those that
/// vary by machine or run), the criteria, the ROC plot and the items.
fn write_report(
    cs: &CriteriaStudy,
    res: &CriteriaResult,
    dir: &Path,
    info: &RunInfo,
) -> Result<()> {
    let study = cs.study();
    let mut facts: Vec<(String, String)> = vec![
        ("scenario".into(), info.scenario.clone()),
        ("scenario_source".into(), info.scenario_source.clone()),
        ("scenario_sha256".into(), info.scenario_sha256.clone()),
        ("crmo_sim_version".into(), info.crmo_sim_version.clone()),
        ("seed".into(), info.seed.to_string()),
        (
            "crmo_patients_per_replicate".into(),
            info.patients.to_string(),
        ),
        ("replicates".into(), info.replicates.to_string()),
        ("horizon_years".into(), info.horizon_years.to_string()),
        ("arm_simulated_to_diagnosis".into(), info.arms[0].clone()),
        (
            "case_mix_prevalence".into(),
            fmt_num(res.case_mix_prevalence),
        ),
    ];
    for (m, n) in Mimic::ALL.iter().zip(cs.mimics()) {
        facts.push((format!("{}_per_replicate", m.as_str()), n.to_string()));
    }
    facts.push(("rng".into(), info.rng.clone()));
    let name = study.name();
    let input = CriteriaReportInput {
        scenario: &name,
        scenario_text: &study.loaded().text,
        facts,
    };
    write_criteria_report(dir, res, &input)
}

/// The short table printed after a run: each criterion at its usual
/// cut-off, with the AUC of each score.
fn print_table(res: &CriteriaResult, target: &Path) {
    let mut out = std::io::stdout().lock();
    let crmo = res.tally.crmo().count;
    let controls = res.tally.controls().count;
    let _ = writeln!(
        out,
        "{crmo} CRMO patients at diagnosis against {controls} mimics (prevalence {})",
        fmt_num(res.case_mix_prevalence)
    );
    let _ = writeln!(
        out,
        "  {:<12} {:>9} {:>24} {:>24} {:>8} {:>8} {:>10}",
        "criterion",
        "threshold",
        "sensitivity (95%)",
        "specificity (95%)",
        "ppv",
        "npv",
        "prevalence"
    );
    for prevalence in res.prevalences() {
        for &c in &res.criteria {
            let t = match c {
                Criterion::Jansson => JANSSON_THRESHOLD,
                Criterion::Bristol1 => 1,
            };
            let e = res.estimate(c, t, prevalence);
            let ci = |v: (f64, f64, f64)| format!("{:.3} ({:.3}-{:.3})", v.0, v.1, v.2);
            let _ = writeln!(
                out,
                "  {:<12} {:>9} {:>24} {:>24} {:>8.3} {:>8.3} {:>10}",
                c.as_str(),
                t,
                ci(e.sensitivity),
                ci(e.specificity),
                e.ppv.0,
                e.npv.0,
                fmt_num(prevalence)
            );
        }
    }
    for (c, a) in res.aucs() {
        let _ = writeln!(
            out,
            "AUC of {}: {:.3} (95% {:.3}-{:.3}, DeLong)",
            c.as_str(),
            a.auc,
            a.lower,
            a.upper
        );
    }
    let _ = writeln!(out, "\nresults in {}/", target.display());
}
