//! `report.html` of `crmo-sim criteria`: one self-contained page with the
//! run's facts, each criterion at its usual cut-off and the Jansson score
//! at every cut-off that changes a count, the AUC, the ROC plot (inline
//! SVG), the Jansson items by population, the interval methods and the
//! scenario text. Read from the merged [`CriteriaResult`] only.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::validation::tables::AUC_METHOD;
use crate::validation::{CriteriaResult, CriterionEstimate};

use super::report::{esc, num, REPORT, STYLE};

/// What the page shows besides the result.
#[derive(Debug, Clone)]
pub struct CriteriaReportInput<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Scenario text (TOML).
    pub scenario_text: &'a str,
    /// The run's facts as `(name, value)`.
    pub facts: Vec<(String, String)>,
}

/// Writes `report.html` into `dir`; the ROC plot is read from
/// `dir/plots/roc.svg` when it was drawn.
pub fn write_criteria_report(
    dir: &Path,
    res: &CriteriaResult,
    input: &CriteriaReportInput<'_>,
) -> Result<()> {
    let mut h = String::new();
    let title = format!(
        "crmo-sim criteria: scenario {} against its mimics",
        esc(input.scenario)
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    h.push_str("<h2 id=\"run\">Run</h2>\n<table id=\"manifest\">\n");
    for (k, v) in &input.facts {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    h.push_str("</table>\n");
    criteria_table(&mut h, res);
    roc_plot(&mut h, dir)?;
    items_table(&mut h, res);
    let _ = write!(
        h,
        "<h2 id=\"scenario\">Scenario</h2>\n<pre>{}</pre>\n</body></html>\n",
        esc(input.scenario_text)
    );
    let path = dir.join(REPORT);
    std::fs::write(&path, h).map_err(|e| Error::output(&path, e))
}

/// The rows shown: every criterion, and of a score the cut-offs where the
/// sensitivity or specificity changes (all of them are in `criteria.csv`).
fn shown(res: &CriteriaResult) -> Vec<CriterionEstimate> {
    let all = res.estimates();
    let mut rows: Vec<CriterionEstimate> = Vec::new();
    for e in all {
        let same = rows.last().is_some_and(|p| {
            p.criterion == e.criterion
                && p.prevalence == e.prevalence
                && p.table.true_pos == e.table.true_pos
                && p.table.false_pos == e.table.false_pos
        });
        if !same {
            rows.push(e);
        }
    }
    rows
}

fn criteria_table(h: &mut String, res: &CriteriaResult) {
    let _ = write!(
        h,
        "<h2 id=\"criteria\">Criteria</h2>\n<p>{} CRMO patients at diagnosis against {} mimics. Positive at or above the cut-off. Sensitivity and specificity with Wilson score intervals; PPV and NPV at the prevalence shown (the case mix's, and <code>--prevalence</code>), with the logit interval of Mercaldo, Lau &amp; Zhou (2007). Cut-offs that change no count are left out here; <code>criteria.csv</code> has them all.</p>\n<table id=\"criteria-table\"><tr><th>criterion</th><th>cut-off</th><th>sensitivity</th><th>specificity</th><th>prevalence</th><th>PPV</th><th>NPV</th></tr>\n",
        res.tally.crmo().count,
        res.tally.controls().count
    );
    let ci = |v: (f64, f64, f64)| format!("{} ({} – {})", num(v.0), num(v.1), num(v.2));
    for e in shown(res) {
        let _ = writeln!(
            h,
            "<tr><td>{} [{}]</td><td class=\"n\">≥ {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            e.criterion.as_str(),
            e.criterion.source(),
            e.threshold,
            ci(e.sensitivity),
            ci(e.specificity),
            num(e.prevalence),
            ci(e.ppv),
            ci(e.npv)
        );
    }
    h.push_str("</table>\n");
    for (c, a) in res.aucs() {
        let _ = writeln!(
            h,
            "<p id=\"auc-{}\">AUC of {}: <b>{}</b> (95% {} – {}; {}).</p>",
            c.as_str(),
            c.as_str(),
            num(a.auc),
            num(a.lower),
            num(a.upper),
            esc(AUC_METHOD)
        );
    }
}

fn roc_plot(h: &mut String, dir: &Path) -> Result<()> {
    h.push_str("<h2 id=\"plots\">ROC curves</h2>\n");
    let path = dir.join("plots").join("roc.svg");
    if !path.is_file() {
        h.push_str("<p>The plot was not drawn (<code>--no-plots</code>).</p>\n");
        return Ok(());
    }
    let svg = std::fs::read_to_string(&path).map_err(|e| Error::output(&path, e))?;
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    let _ = writeln!(
        h,
        "<figure id=\"plot-roc\">{svg}<figcaption>plots/roc.svg</figcaption></figure>"
    );
    Ok(())
}

fn items_table(h: &mut String, res: &CriteriaResult) {
    h.push_str("<h2 id=\"items\">What the answer rests on: the Jansson items by population</h2>\n<p>Share of each population with each item, and the odds ratio of CRMO against the pooled mimics beside the published (multivariable) one [Jansson2009]. The mimic frequencies are assumptions (see <code>crmo-sim check</code> and docs/criteria.md).</p>\n<table id=\"items-table\"><tr><th>item</th><th>points</th><th>published OR</th><th>simulated OR</th>");
    let pops = res.populations();
    for (name, _) in &pops {
        let _ = write!(h, "<th>{}</th>", esc(name));
    }
    h.push_str("</tr>\n");
    for i in res.items() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(i.item),
            i.points,
            num(i.published_odds_ratio),
            num(i.simulated_odds_ratio)
        );
        for s in &i.shares {
            let _ = write!(h, "<td class=\"n\">{}</td>", num(*s));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("<tr><td>children</td><td></td><td></td><td></td>");
    for (_, p) in &pops {
        let _ = write!(h, "<td class=\"n\">{}</td>", p.count);
    }
    h.push_str("</tr>\n</table>\n");
}
