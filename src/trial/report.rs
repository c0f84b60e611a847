//! `report.html` of a trial result: one self-contained page with the
//! design, the power table, the smallest size for a target power, the
//! screening counts, the power curve (inline SVG, read from `plots/` when
//! drawn) and the scenario text. Nothing is loaded from anywhere else.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};

use super::results::{power_rows, sample_size_rows, screening_rows};
use super::TrialRun;

/// File name of the report.
pub const REPORT: &str = "report.html";

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:1200px;color:#222;line-height:1.4}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f2f2f2}\
figure{margin:1.5em 0}figure svg{width:100%;height:auto;border:1px solid #eee}\
pre{background:#f7f7f7;padding:1em;overflow:auto}";

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number rounded to three decimals ("–" when absent).
fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or("–".into(), |v| format!("{v:.3}"))
}

/// Writes `report.html` into `dir`, which may already hold `plots/power.svg`.
pub fn write_report(dir: &Path, run: &TrialRun, scenario: &str, scenario_text: &str) -> Result<()> {
    let html = report_html(dir, run, scenario, scenario_text)?;
    let path = dir.join(REPORT);
    std::fs::write(&path, html).map_err(|e| Error::output(&path, e))
}

/// The report as HTML text.
pub fn report_html(
    dir: &Path,
    run: &TrialRun,
    scenario: &str,
    scenario_text: &str,
) -> Result<String> {
    let mut h = String::new();
    let title = format!("crmo-sim virtual trials: scenario {}", esc(scenario));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    design(&mut h, run);
    power(&mut h, run);
    plot(&mut h, dir)?;
    screening(&mut h, run);
    let _ = write!(
        h,
        "<h2 id=\"scenario\">Scenario</h2>\n<pre>{}</pre>\n</body></html>\n",
        esc(scenario_text)
    );
    Ok(h)
}

fn design(h: &mut String, run: &TrialRun) {
    let d = &run.design;
    let sizes: Vec<String> = super::results::sizes(&run.records)
        .iter()
        .map(u64::to_string)
        .collect();
    let rows = [
        ("arms", run.arms.join(", ")),
        ("control", run.arms[d.control].clone()),
        ("endpoint", d.endpoint.as_str().into()),
        ("test", d.test_name().into()),
        ("two-sided alpha", d.alpha.to_string()),
        ("patients per arm", sizes.join(", ")),
        ("simulated trials per size", d.trials.to_string()),
        ("entry", d.entry.as_str().into()),
        (
            "follow-up from entry, months",
            format!(
                "{}",
                d.follow_up_days / crate::engine::units::DAYS_PER_MONTH
            ),
        ),
        ("estimate", d.endpoint.estimate_name().into()),
        ("group means", d.endpoint.group_summary_name().into()),
        ("loss to follow-up", d.endpoint.missing_rule().into()),
        ("power interval", "Wilson score 95% interval".into()),
        ("parameter values of replicate", d.replicate.to_string()),
    ];
    h.push_str("<h2 id=\"design\">Design</h2>\n<table id=\"design-table\">\n");
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    h.push_str("</table>\n");
}

fn power(h: &mut String, run: &TrialRun) {
    let rows = power_rows(&run.design, &run.arms, &run.records);
    h.push_str("<h2 id=\"power\">Power</h2>\n<table id=\"power-table\">\n<tr><th>patients per arm</th><th>arm</th><th>against</th><th>power</th><th>95% interval</th><th>control mean</th><th>arm mean</th><th>mean effect</th></tr>\n");
    for r in &rows {
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3} – {:.3}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            r.per_arm,
            esc(&r.arm),
            esc(&r.control),
            r.power,
            r.power_lower_95,
            r.power_upper_95,
            num(r.control_mean),
            num(r.arm_mean),
            num(r.effect_mean)
        );
    }
    h.push_str("</table>\n");
    if let Some(target) = run.design.target_power {
        for s in sample_size_rows(&rows, target) {
            let _ = match s.per_arm {
                Some(n) => writeln!(
                    h,
                    "<p id=\"sample-size\">Smallest simulated size reaching power {target} for {}: <b>{n} per arm</b> (power {}).</p>",
                    esc(&s.arm),
                    num(s.power)
                ),
                None => writeln!(
                    h,
                    "<p id=\"sample-size\">No simulated size reached power {target} for {}.</p>",
                    esc(&s.arm)
                ),
            };
        }
    }
}

fn plot(h: &mut String, dir: &Path) -> Result<()> {
    let path = dir.join("plots").join("power.svg");
    if !path.is_file() {
        h.push_str("<p>The power curve was not drawn (<code>--no-plots</code>).</p>\n");
        return Ok(());
    }
    let svg = std::fs::read_to_string(&path).map_err(|e| Error::output(&path, e))?;
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    let _ = writeln!(
        h,
        "<figure id=\"plot-power\">{svg}<figcaption>plots/power.svg</figcaption></figure>"
    );
    Ok(())
}

fn screening(h: &mut String, run: &TrialRun) {
    h.push_str("<h2 id=\"screening\">Screening</h2>\n<table id=\"screening-table\">\n<tr><th>patients per arm</th><th>arm</th><th>enrolled</th><th>screened</th><th>enrolled share</th></tr>\n");
    for r in screening_rows(&run.arms, &run.records) {
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.3}</td></tr>",
            r.per_arm,
            esc(&r.arm),
            r.enrolled,
            r.screened,
            r.enrolled_frac
        );
    }
    h.push_str("</table>\n");
}
