//! `report.html`: one self-contained page a person opens after a run — the
//! run's facts, the headline table per arm, the paired differences, every
//! cohort plot as inline SVG, the calibration table for the reference
//! scenario, the metric definitions and the scenario text. Nothing is loaded
//! from anywhere: no script, style sheet, font or image outside the page.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::output::rows::fmt_num;
use crate::output::tables::metric_definitions;
use crate::results::headline::HEADLINE;
use crate::results::CohortResult;

use super::cohort::Kind;
use super::differences::{cell_text, DifferenceTable};

/// File name of the report.
pub const REPORT: &str = "report.html";

/// What the report shows besides the results.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Scenario text (TOML).
    pub scenario_text: &'a str,
    /// The run's facts as `(name, value)` (version, seed, patients, ...).
    pub facts: Vec<(String, String)>,
    /// The calibration table, if any: its rows and what they are compared
    /// with ("the published targets", "the targets of FILE").
    pub calibration: Option<ReportCalibration>,
    /// The economics and PSA sections (with `[economics]`).
    pub economics: Option<ReportEconomics>,
}

/// What the economics and PSA sections show: the reporting frame CHEERS
/// 2022 asks for, the economic results, and the parameter table.
#[derive(Debug, Clone)]
pub struct ReportEconomics {
    /// `(item, value)`: perspective, horizon, discount rates, currency, price year.
    pub frame: Vec<(String, String)>,
    /// Costs and QALYs per arm and replicate, thresholds, parameters.
    pub inputs: crate::economics::EconomicInputs,
    /// Parameters drawn from distributions: `(path, distribution)`.
    pub distributions: Vec<(String, String)>,
}

/// The calibration section of a report.
#[derive(Debug, Clone)]
pub struct ReportCalibration {
    /// One row per target.
    pub rows: Vec<crate::calibrate::CalibrationRow>,
    /// What the rows are compared with, e.g. "the published targets".
    pub against: String,
}

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number for a table: three significant decimals at most.
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() {
        fmt_num((x * 1000.0).round() / 1000.0)
    } else {
        "–".into()
    }
}

/// The reports' style sheet (inline, so the page is self-contained).
pub(crate) const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:1200px;color:#222;line-height:1.4}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f2f2f2}\
figure{margin:1.5em 0}figure svg{width:100%;height:auto;border:1px solid #eee}\
pre{background:#f7f7f7;padding:1em;overflow:auto}";

/// Writes `report.html` into `dir` from the run's result; the cohort plots
/// are read from `dir/plots/*.svg` when they were drawn.
pub fn write_report(dir: &Path, res: &CohortResult, input: &ReportInput<'_>) -> Result<()> {
    let html = report_html(dir, res, input)?;
    let path = dir.join(REPORT);
    std::fs::write(&path, html).map_err(|e| Error::output(&path, e))
}

/// The report as HTML text.
pub fn report_html(dir: &Path, res: &CohortResult, input: &ReportInput<'_>) -> Result<String> {
    let mut h = String::new();
    let title = format!("crmo-sim report: scenario {}", esc(input.scenario));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    facts(&mut h, input);
    headline(&mut h, res);
    differences(&mut h, res);
    plots(&mut h, dir)?;
    if let Some(e) = &input.economics {
        economics(&mut h, dir, e)?;
    }
    if let Some(c) = &input.calibration {
        calibration(&mut h, c, &res.arms[0]);
    }
    definitions(&mut h, res);
    let _ = write!(
        h,
        "<h2 id=\"scenario\">Scenario</h2>\n<pre>{}</pre>\n</body></html>\n",
        esc(input.scenario_text)
    );
    Ok(h)
}

/// What a sweep's report shows besides the results of its grid points.
#[derive(Debug)]
pub struct SweepReportInput<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Scenario text (TOML).
    pub scenario_text: &'a str,
    /// The run's facts as `(name, value)`.
    pub facts: Vec<(String, String)>,
    /// The swept parameters' dotted paths.
    pub parameters: &'a [String],
    /// Each grid point's values, one per parameter.
    pub points: &'a [Vec<f64>],
    /// The metric of the sweep plot.
    pub metric: &'a str,
}

/// Writes a sweep's `report.html` into `dir`: the facts, the swept metric at
/// every grid point per arm (as `sweep.csv`), the sweep plots when drawn,
/// one section per point with its headline table and the headline metrics'
/// paired differences, the metric definitions and the scenario.
pub fn write_sweep_report(
    dir: &Path,
    results: &[CohortResult],
    input: &SweepReportInput<'_>,
) -> Result<()> {
    let html = sweep_report_html(dir, results, input)?;
    let path = dir.join(REPORT);
    std::fs::write(&path, html).map_err(|e| Error::output(&path, e))
}

/// A sweep's report as HTML text.
pub fn sweep_report_html(
    dir: &Path,
    results: &[CohortResult],
    input: &SweepReportInput<'_>,
) -> Result<String> {
    let mut h = String::new();
    let title = format!("crmo-sim report: sweep {}", esc(input.scenario));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    facts_table(&mut h, &input.facts);
    sweep_table(&mut h, results, input);
    sweep_plots_section(&mut h, dir)?;
    for (i, (values, res)) in input.points.iter().zip(results).enumerate() {
        let _ = writeln!(
            h,
            "<h2 id=\"point-{i}\">Point {i}: {}</h2>",
            esc(&point_label(input.parameters, values))
        );
        headline_table(&mut h, res, res.summary(), &format!("headline-table-{i}"));
        headline_differences(&mut h, res, i);
    }
    if let Some(res) = results.first() {
        definitions(&mut h, res);
    }
    let _ = write!(
        h,
        "<h2 id=\"scenario\">Scenario</h2>\n<pre>{}</pre>\n</body></html>\n",
        esc(input.scenario_text)
    );
    Ok(h)
}

/// `path = value, ...` of one grid point.
fn point_label(parameters: &[String], values: &[f64]) -> String {
    parameters
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{p} = {}", fmt_num(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The swept metric at every grid point: one row per point, one column per arm.
fn sweep_table(h: &mut String, results: &[CohortResult], input: &SweepReportInput<'_>) {
    let _ = write!(
        h,
        "<h2 id=\"sweep\">Sweep</h2>\n<p><code>{}</code>, mean and 95% interval per arm at every grid point; every metric of every point is in <code>sweep.csv</code>.</p>\n<table id=\"sweep-table\"><tr><th>point</th>",
        esc(input.metric)
    );
    for p in input.parameters {
        let _ = write!(h, "<th>{}</th>", esc(p));
    }
    let arms = results.first().map_or(&[][..], |r| &r.arms[..]);
    for arm in arms {
        let _ = write!(h, "<th>{}</th>", esc(arm));
    }
    h.push_str("</tr>\n");
    for (i, (values, res)) in input.points.iter().zip(results).enumerate() {
        let _ = write!(h, "<tr><td class=\"n\">{i}</td>");
        for v in values {
            let _ = write!(h, "<td class=\"n\">{}</td>", fmt_num(*v));
        }
        for arm in arms {
            match res
                .summary()
                .iter()
                .find(|r| &r.arm == arm && r.metric == input.metric)
            {
                Some(r) => {
                    let _ = write!(
                        h,
                        "<td class=\"n\">{} ({} – {})</td>",
                        num(r.mean),
                        num(r.lower_95),
                        num(r.upper_95)
                    );
                }
                None => h.push_str("<td></td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// Inlines the sweep plot's SVG when it was drawn.
fn sweep_plots_section(h: &mut String, dir: &Path) -> Result<()> {
    let path = dir.join("plots").join("sweep.svg");
    if !path.is_file() {
        return Ok(());
    }
    let svg = std::fs::read_to_string(&path).map_err(|e| Error::output(&path, e))?;
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    let _ = writeln!(
        h,
        "<h2 id=\"plots\">Plot</h2>\n<figure>{svg}<figcaption>plots/sweep.png</figcaption></figure>"
    );
    Ok(())
}

/// The headline metrics' paired differences of one grid point, as the
/// run's report draws its differences table (nothing with one arm; every
/// metric is in `differences.csv`).
fn headline_differences(h: &mut String, res: &CohortResult, point: usize) {
    if res.arms.len() < 2 {
        return;
    }
    let headline: Vec<&str> = HEADLINE.iter().map(|(metric, _)| *metric).collect();
    let table = DifferenceTable::of(res).restricted_to(&headline);
    differences_table(
        h,
        &table,
        res.reference_arm(),
        &format!("differences-table-{point}"),
    );
    differences_left_out(h, &table, &format!("differences-left-out-{point}"));
}

fn facts(h: &mut String, input: &ReportInput<'_>) {
    facts_table(h, &input.facts);
}

fn facts_table(h: &mut String, facts: &[(String, String)]) {
    h.push_str("<h2 id=\"run\">Run</h2>\n<table id=\"manifest\">\n");
    for (k, v) in facts {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    h.push_str("</table>\n<p>The command line, threads and timing are in <code>manifest.json</code>.</p>\n");
}

fn headline(h: &mut String, res: &CohortResult) {
    let rows = res.summary();
    h.push_str("<h2 id=\"headline\">Headline results</h2>\n<p>Mean and 95% interval per arm; every metric is in <code>summary.csv</code> and defined below.</p>\n");
    headline_table(h, res, rows, "headline-table");
}

/// The headline metrics' means and intervals per arm, as a table.
fn headline_table(
    h: &mut String,
    res: &CohortResult,
    rows: &[crate::results::summary::SummaryRow],
    id: &str,
) {
    let _ = write!(h, "<table id=\"{id}\"><tr><th>metric</th>");
    for arm in &res.arms {
        let _ = write!(h, "<th>{}</th>", esc(arm));
    }
    h.push_str("</tr>\n");
    let mut without_value = Vec::new();
    for (metric, label) in HEADLINE {
        if !rows.iter().any(|r| r.metric == metric) {
            continue;
        }
        // A metric no arm has a value for (not computed in this scenario,
        // or nobody to average over) would be a row of dashes: named
        // once under the table instead.
        if rows
            .iter()
            .filter(|r| r.metric == metric)
            .all(|r| r.mean.is_nan())
        {
            without_value.push(label);
            continue;
        }
        let _ = write!(h, "<tr><td>{}</td>", esc(label));
        for arm in &res.arms {
            match rows.iter().find(|r| &r.arm == arm && r.metric == metric) {
                Some(r) => {
                    let _ = write!(
                        h,
                        "<td class=\"n\">{} ({} – {})</td>",
                        num(r.mean),
                        num(r.lower_95),
                        num(r.upper_95)
                    );
                }
                None => h.push_str("<td></td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if !without_value.is_empty() {
        let _ = writeln!(
            h,
            "<p id=\"{id}-without-value\">Without a value in this run (<code>metrics.csv</code> says why): {}.</p>",
            esc(&without_value.join("; "))
        );
    }
}

fn differences(h: &mut String, res: &CohortResult) {
    h.push_str("<h2 id=\"differences\">Paired differences</h2>\n");
    if res.arms.len() < 2 {
        h.push_str("<p>One arm only: no differences.</p>\n");
        return;
    }
    let table = DifferenceTable::of(res);
    differences_table(h, &table, res.reference_arm(), "differences-table");
    differences_left_out(h, &table, "differences-left-out");
}

/// The differences table: a column per compared arm, a heading row per
/// outcome, a row per metric that differs.
fn differences_table(h: &mut String, table: &DifferenceTable, reference: &str, id: &str) {
    let _ = write!(
        h,
        "<p>Each arm minus <b>{}</b> on the same virtual patients: mean paired difference [95% interval], <i>equal</i> where the arm equals the reference on every patient; rates (†) are paired per patient. Every row is in <code>differences.csv</code>.</p>\n<table id=\"{id}\"><tr><th>metric</th>",
        esc(reference)
    );
    for arm in &table.arms {
        let _ = write!(h, "<th>{} − {}</th>", esc(arm), esc(reference));
    }
    h.push_str("</tr>\n");
    for (outcome, lines) in &table.groups {
        let _ = writeln!(
            h,
            "<tr class=\"group\"><th colspan=\"{}\">{}</th></tr>",
            table.arms.len() + 1,
            outcome.label()
        );
        for line in lines {
            let mark = if line.per_patient_rate { " †" } else { "" };
            let _ = write!(h, "<tr><td><code>{}</code>{mark}</td>", esc(&line.metric));
            for cell in &line.cells {
                let _ = write!(h, "<td class=\"n\">{}</td>", cell_text(*cell));
            }
            h.push_str("</tr>\n");
        }
    }
    h.push_str("</table>\n");
}

/// One sentence naming the metrics the differences table leaves out, and
/// why (nothing when it leaves none out).
fn differences_left_out(h: &mut String, table: &DifferenceTable, id: &str) {
    let names = |list: &[String]| {
        list.iter()
            .map(|m| format!("<code>{}</code>", esc(m)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !table.equal.is_empty() {
        parts.push(format!(
            "{} metric(s) on which every arm equals the reference patient by patient (fixed before treatment, or untouched by it): {}",
            table.equal.len(),
            names(&table.equal)
        ));
    }
    if !table.without_value.is_empty() {
        parts.push(format!(
            "{} metric(s) without a paired value in any arm (no patient has them in both arms): {}",
            table.without_value.len(),
            names(&table.without_value)
        ));
    }
    if !parts.is_empty() {
        let _ = writeln!(h, "<p id=\"{id}\">Left out: {}.</p>", parts.join("; "));
    }
}

/// Inlines every cohort plot's SVG (without its XML prologue).
fn plots(h: &mut String, dir: &Path) -> Result<()> {
    h.push_str("<h2 id=\"plots\">Plots</h2>\n");
    let plots = dir.join("plots");
    if !plots.is_dir() {
        h.push_str("<p>The plots were not drawn (<code>--no-plots</code>).</p>\n");
        return Ok(());
    }
    for kind in Kind::ALL {
        let path = plots.join(format!("{}.svg", kind.file_stem()));
        let svg = std::fs::read_to_string(&path).map_err(|e| Error::output(&path, e))?;
        let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(
            h,
            "<figure id=\"plot-{}\">{svg}<figcaption>plots/{}.svg</figcaption></figure>",
            kind.file_stem(),
            kind.file_stem()
        );
    }
    Ok(())
}

/// Inlines `plots/NAME.svg` as a figure if it was drawn.
fn inline_svg(h: &mut String, dir: &Path, name: &str) -> Result<()> {
    let path = dir.join("plots").join(format!("{name}.svg"));
    if !path.is_file() {
        return Ok(());
    }
    let svg = std::fs::read_to_string(&path).map_err(|e| Error::output(&path, e))?;
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    let _ = writeln!(
        h,
        "<figure id=\"plot-{name}\">{svg}<figcaption>plots/{name}.svg</figcaption></figure>"
    );
    Ok(())
}

/// The economics section (frame, incremental table, net benefit) and, with
/// several replicates, the PSA section (parameter distributions, CE plane,
/// CEAC, EVPI, EVPPI).
fn economics(h: &mut String, dir: &Path, e: &ReportEconomics) -> Result<()> {
    use crate::economics::{cea, psa};
    h.push_str("<h2 id=\"economics\">Economics</h2>\n<table id=\"economics-frame\">\n");
    for (k, v) in &e.frame {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    h.push_str("</table>\n<p>Incremental analysis on the arm means (<code>cea.csv</code>): sorted by costs; dominated and extendedly dominated strategies leave the frontier; ICERs against the previous frontier strategy.</p>\n<table id=\"cea-table\"><tr><th>arm</th><th>costs</th><th>QALYs</th><th>incremental costs</th><th>incremental QALYs</th><th>ICER</th><th>status</th></tr>\n");
    let opt = |x: Option<f64>| x.map_or(String::new(), num);
    for r in cea::cea_rows(&e.inputs) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&r.arm),
            num(r.costs),
            num(r.qalys),
            opt(r.incremental_costs),
            opt(r.incremental_qalys),
            opt(r.icer),
            r.status.as_str()
        );
    }
    h.push_str("</table>\n");
    let wtp = crate::plot::economics::plane_threshold(&e.inputs.wtp);
    let _ = write!(
        h,
        "<p>Net monetary benefit per patient at {} per QALY (every threshold in <code>nmb.csv</code>):</p>\n<table id=\"nmb-table\"><tr><th>arm</th><th>NMB</th><th>95% interval</th></tr>\n",
        num(wtp)
    );
    for r in cea::nmb_rows(&e.inputs).iter().filter(|r| r.wtp == wtp) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} – {}</td></tr>",
            esc(&r.arm),
            num(r.nmb_per_patient),
            opt(r.lower_95),
            opt(r.upper_95)
        );
    }
    h.push_str("</table>\n");
    if e.inputs.replicates() < 2 {
        h.push_str("<p>One replicate: no probabilistic sensitivity analysis.</p>\n");
        return Ok(());
    }
    let _ = write!(
        h,
        "<h2 id=\"psa\">Probabilistic sensitivity analysis</h2>\n<p>{} replicates, each drawing every parameter below once, on the same virtual patients.</p>\n<table id=\"psa-parameters\"><tr><th>parameter</th><th>distribution</th></tr>\n",
        e.inputs.replicates()
    );
    for (p, d) in &e.distributions {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            esc(p),
            esc(d)
        );
    }
    h.push_str("</table>\n");
    for name in ["ce_plane", "ceac", "evpi"] {
        inline_svg(h, dir, name)?;
    }
    let evpi = psa::evpi_rows(&e.inputs);
    if let Some(at) = evpi.iter().find(|r| r.wtp == wtp) {
        let _ = write!(
            h,
            "<p>At {} per QALY: EVPI {} per patient; EVPPI per parameter (<code>evppi.csv</code>):</p>\n<table id=\"evppi-table\"><tr><th>parameter</th><th>EVPPI per patient</th></tr>\n",
            num(wtp),
            num(at.evpi_per_patient)
        );
        let shown: Vec<f64> = e.inputs.wtp.iter().copied().filter(|&w| w == wtp).collect();
        for r in psa::evppi_rows_at(&e.inputs, &shown) {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
                esc(&r.parameter),
                num(r.evppi_per_patient)
            );
        }
        h.push_str("</table>\n");
    }
    let mut tornado: Vec<String> = std::fs::read_dir(dir.join("plots"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("tornado_") && n.ends_with(".svg"))
                .collect()
        })
        .unwrap_or_default();
    tornado.sort();
    for t in tornado {
        inline_svg(h, dir, t.trim_end_matches(".svg"))?;
    }
    Ok(())
}

fn calibration(h: &mut String, c: &ReportCalibration, arm: &str) {
    let _ = write!(
        h,
        "<h2 id=\"calibration\">Calibration</h2>\n<p>Arm <b>{}</b> against {}.</p>\n<table id=\"calibration-table\"><tr><th>id</th><th>target</th><th>published</th><th>tolerance</th><th>simulated</th><th>inside</th></tr>\n",
        esc(arm),
        esc(&c.against)
    );
    for r in &c.rows {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">± {}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            r.target.id,
            esc(&r.target.target),
            num(r.target.published),
            num(r.target.tolerance),
            num(r.simulated),
            if r.inside() { "yes" } else { "no" }
        );
    }
    h.push_str("</table>\n");
}

fn definitions(h: &mut String, res: &CohortResult) {
    h.push_str("<h2 id=\"metrics\">Metric definitions</h2>\n<details><summary>Every metric of <code>summary.csv</code> (as in <code>metrics.csv</code>)</summary>\n<table id=\"metrics-table\"><tr><th>metric</th><th>unit</th><th>population</th><th>definition</th></tr>\n");
    for d in metric_definitions(&res.metrics) {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.metric),
            esc(&d.unit),
            esc(&d.population),
            esc(&d.definition)
        );
    }
    h.push_str("</table></details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(num(0.12345), "0.123");
        assert_eq!(num(f64::NAN), "–");
    }
}
