//! The files of `crmo-sim criteria`, as typed rows serialised with the `csv`
//! crate: `criteria.csv` (every criterion and cut-off with 95% intervals),
//! `roc.csv`, `auc.csv`, `items.csv` (the Jansson items by population, with
//! the odds ratios they give) and `populations.csv`.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::output::rows::Num;

use super::CriteriaResult;

/// Names the AUC interval in `auc.csv`.
pub const AUC_METHOD: &str = "Mann-Whitney; DeLong 1988 standard error, normal 95% interval";

fn to_csv<T: Serialize>(name: &str, rows: impl IntoIterator<Item = T>) -> Result<String> {
    let err = |e: csv::Error| Error::output(name, std::io::Error::other(e.to_string()));
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::output(name, std::io::Error::other(e.to_string())))?;
    String::from_utf8(bytes).map_err(|e| Error::output(name, std::io::Error::other(e)))
}

#[derive(Serialize)]
struct CriteriaRecord {
    criterion: &'static str,
    threshold: u32,
    sensitivity: Num,
    specificity: Num,
    ppv: Num,
    npv: Num,
    prevalence: Num,
    sensitivity_lower_95: Num,
    sensitivity_upper_95: Num,
    specificity_lower_95: Num,
    specificity_upper_95: Num,
    ppv_lower_95: Num,
    ppv_upper_95: Num,
    npv_lower_95: Num,
    npv_upper_95: Num,
    cases: u64,
    true_positives: u64,
    controls: u64,
    false_positives: u64,
    source: &'static str,
}

/// `criteria.csv`: sensitivity and specificity (Wilson intervals),
/// predictive values (logit intervals) at each prevalence, and the counts.
pub fn criteria_csv(res: &CriteriaResult) -> Result<String> {
    to_csv(
        "criteria.csv",
        res.estimates().into_iter().map(|e| CriteriaRecord {
            criterion: e.criterion.as_str(),
            threshold: e.threshold,
            sensitivity: Num(e.sensitivity.0),
            specificity: Num(e.specificity.0),
            ppv: Num(e.ppv.0),
            npv: Num(e.npv.0),
            prevalence: Num(e.prevalence),
            sensitivity_lower_95: Num(e.sensitivity.1),
            sensitivity_upper_95: Num(e.sensitivity.2),
            specificity_lower_95: Num(e.specificity.1),
            specificity_upper_95: Num(e.specificity.2),
            ppv_lower_95: Num(e.ppv.1),
            ppv_upper_95: Num(e.ppv.2),
            npv_lower_95: Num(e.npv.1),
            npv_upper_95: Num(e.npv.2),
            cases: e.table.cases,
            true_positives: e.table.true_pos,
            controls: e.table.controls,
            false_positives: e.table.false_pos,
            source: e.criterion.source(),
        }),
    )
}

#[derive(Serialize)]
struct RocRecord {
    criterion: &'static str,
    threshold: u32,
    sensitivity: Num,
    specificity: Num,
}

/// `roc.csv`: every criterion's ROC points, cut-offs ascending.
pub fn roc_csv(res: &CriteriaResult) -> Result<String> {
    to_csv(
        "roc.csv",
        res.roc().into_iter().map(|p| RocRecord {
            criterion: p.criterion.as_str(),
            threshold: p.threshold,
            sensitivity: Num(p.sensitivity),
            specificity: Num(p.specificity),
        }),
    )
}

#[derive(Serialize)]
struct AucRecord {
    criterion: &'static str,
    auc: Num,
    auc_lower_95: Num,
    auc_upper_95: Num,
    auc_se: Num,
    cases: u64,
    controls: u64,
    method: &'static str,
}

/// `auc.csv`: the area under each score's ROC curve.
pub fn auc_csv(res: &CriteriaResult) -> Result<String> {
    let (cases, controls) = (res.tally.crmo().count, res.tally.controls().count);
    to_csv(
        "auc.csv",
        res.aucs().into_iter().map(|(c, a)| AucRecord {
            criterion: c.as_str(),
            auc: Num(a.auc),
            auc_lower_95: Num(a.lower),
            auc_upper_95: Num(a.upper),
            auc_se: Num(a.se),
            cases,
            controls,
            method: AUC_METHOD,
        }),
    )
}

#[derive(Serialize)]
struct ItemRecord {
    item: &'static str,
    points: u32,
    published_odds_ratio: Num,
    simulated_odds_ratio: Num,
    crmo_frac: Num,
    all_mimics_frac: Num,
    bacterial_osteomyelitis_frac: Num,
    malignant_tumour_frac: Num,
    benign_tumour_frac: Num,
}

/// `items.csv`: each Jansson item's share per population and the odds
/// ratio of CRMO against the pooled mimics beside [Jansson2009]'s.
pub fn items_csv(res: &CriteriaResult) -> Result<String> {
    to_csv(
        "items.csv",
        res.items().into_iter().map(|i| ItemRecord {
            item: i.item,
            points: i.points,
            published_odds_ratio: Num(i.published_odds_ratio),
            simulated_odds_ratio: Num(i.simulated_odds_ratio),
            crmo_frac: Num(i.shares[0]),
            all_mimics_frac: Num(i.shares[1]),
            bacterial_osteomyelitis_frac: Num(i.shares[2]),
            malignant_tumour_frac: Num(i.shares[3]),
            benign_tumour_frac: Num(i.shares[4]),
        }),
    )
}

#[derive(Serialize)]
struct PopulationRecord {
    population: &'static str,
    children: u64,
    mean_age_years: Num,
    jansson_mean: Num,
    jansson_ge39_frac: Num,
    bristol_1_frac: Num,
    undiagnosed: u64,
}

/// `populations.csv`: each population's size, mean age (CRMO: at
/// diagnosis), mean Jansson score and share positive by each criterion;
/// `undiagnosed` counts CRMO patients not diagnosed within the horizon
/// (left out of the sensitivity, as in `summary.csv`).
pub fn populations_csv(res: &CriteriaResult) -> Result<String> {
    let ages = res.mean_ages();
    to_csv(
        "populations.csv",
        res.populations()
            .into_iter()
            .zip(ages)
            .map(|((name, p), age)| {
                let n = p.count as f64;
                let score: f64 = p
                    .jansson
                    .iter()
                    .enumerate()
                    .map(|(s, k)| s as f64 * *k as f64)
                    .sum();
                PopulationRecord {
                    population: name,
                    children: p.count,
                    mean_age_years: Num(age),
                    jansson_mean: Num(score / n),
                    jansson_ge39_frac: Num(p.jansson
                        [crate::model::criteria::JANSSON_THRESHOLD as usize..]
                        .iter()
                        .sum::<u64>() as f64
                        / n),
                    bristol_1_frac: Num(p.bristol_1 as f64 / n),
                    undiagnosed: p.undiagnosed,
                }
            }),
    )
}
