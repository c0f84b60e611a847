//! Calibration report: the published targets C1–C15 of the reference
//! figures, compared with a simulated cohort (first arm), each with its Monte
//! Carlo error. C1–C7 describe the patient at or just after diagnosis,
//! C8–C12 the course after it, and C13–C15 what treatment does (the PedCNO70
//! response, complete MRI resolution after pamidronate and its time): with
//! C10–C12 they are the targets a ladder of useless drugs must miss (the
//! placebo rule, `tests/placebo.rs`).
//!
//! [`targets`] reads a researcher's own targets (`--targets FILE.csv`) and
//! defines the standardised distance; [`space`] and [`fit`] are
//! `calibrate --fit`, the search for parameter values closest to the
//! targets; [`fitted`] writes the scenario with the values found.

mod defaults;
pub mod fit;
pub mod fitted;
pub mod space;
pub mod targets;

use std::borrow::Cow;

use crate::engine::cohort::CohortResult;
use crate::engine::model_values::DAYS_PER_MONTH;
use crate::output::km::{kaplan_meier, km_median_with_interval};
use crate::output::rows::fmt_num;
use crate::output::summary::summary_rows;

/// A calibration target: one of the published targets C1–C15, or a line
/// of a `--targets` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Identifier (C1..C15, or the file's `id`).
    pub id: Cow<'static, str>,
    /// What is measured.
    pub target: Cow<'static, str>,
    /// Published value.
    pub published: f64,
    /// Tolerance (±).
    pub tolerance: f64,
    /// Source key in the reference figures (for a targets file: the
    /// summary metric and arm it reads).
    pub source: Cow<'static, str>,
}

/// The calibration targets of the reference figures.
pub const TARGETS: [Target; 15] = [
    Target {
        id: Cow::Borrowed("C1"),
        target: Cow::Borrowed(
            "symptom-free 6 months after diagnosis (NSAID for the first 6 months)",
        ),
        published: 0.43,
        tolerance: 0.12,
        source: Cow::Borrowed("Beck2010"),
    },
    Target {
        id: Cow::Borrowed("C2"),
        target: Cow::Borrowed("median time from diagnosis to first relapse, months (Kaplan-Meier)"),
        published: 29.0,
        tolerance: 9.0,
        source: Cow::Borrowed("Schnabel2017"),
    },
    Target {
        id: Cow::Borrowed("C3"),
        target: Cow::Borrowed("share of lesions at diagnosis that are clinically silent"),
        published: 0.29,
        tolerance: 0.07,
        source: Cow::Borrowed("Roderick2016"),
    },
    Target {
        id: Cow::Borrowed("C4"),
        target: Cow::Borrowed(
            "share of patients with a solitary lesion after imaging at diagnosis",
        ),
        published: 0.24,
        tolerance: 0.08,
        source: Cow::Borrowed("Roderick2016"),
    },
    Target {
        id: Cow::Borrowed("C5"),
        target: Cow::Borrowed("median diagnostic delay, months"),
        published: 15.0,
        tolerance: 6.0,
        source: Cow::Borrowed("Roderick2016"),
    },
    Target {
        id: Cow::Borrowed("C6"),
        target: Cow::Borrowed("share of patients with Jansson score >= 39"),
        published: 0.68,
        tolerance: 0.10,
        source: Cow::Borrowed("Jansson2009"),
    },
    Target {
        id: Cow::Borrowed("C7"),
        target: Cow::Borrowed("share meeting Bristol criterion 1 (no biopsy needed)"),
        published: 0.83,
        tolerance: 0.10,
        source: Cow::Borrowed("Roderick2016"),
    },
    Target {
        id: Cow::Borrowed("C8"),
        target: Cow::Borrowed("flares per patient over the first 5.3 years from onset"),
        published: 5.9,
        tolerance: 2.0,
        source: Cow::Borrowed("JobDeslandre2001"),
    },
    Target {
        id: Cow::Borrowed("C9"),
        target: Cow::Borrowed("median active period (onset to the end of the last flare), months"),
        published: 21.0,
        tolerance: 8.0,
        source: Cow::Borrowed("Jansson2007"),
    },
    Target {
        id: Cow::Borrowed("C10"),
        target: Cow::Borrowed("flare ended 12 weeks after starting pamidronate in it (share)"),
        published: 0.85,
        tolerance: 0.15,
        source: Cow::Borrowed("Miettunen2009"),
    },
    Target {
        id: Cow::Borrowed("C11"),
        target: Cow::Borrowed("not in a flare 6 months after starting a TNF inhibitor (share)"),
        published: 0.90,
        tolerance: 0.12,
        source: Cow::Borrowed("Biologics2021"),
    },
    Target {
        id: Cow::Borrowed("C12"),
        target: Cow::Borrowed(
            "second-line drug (second ladder step) within 12 months of diagnosis",
        ),
        published: 0.17,
        tolerance: 0.07,
        source: Cow::Borrowed("NPRD2021"),
    },
    Target {
        id: Cow::Borrowed("C13"),
        target: Cow::Borrowed("PedCNO70 response 12 months after diagnosis (share)"),
        published: 0.43,
        tolerance: 0.12,
        source: Cow::Borrowed("NPRD2021"),
    },
    Target {
        id: Cow::Borrowed("C14"),
        target: Cow::Borrowed(
            "complete MRI resolution at the first imaging >= 12 months after pamidronate",
        ),
        published: 0.425,
        tolerance: 0.15,
        source: Cow::Borrowed("Pamidronate2019"),
    },
    Target {
        id: Cow::Borrowed("C15"),
        target: Cow::Borrowed(
            "months from first pamidronate to complete MRI resolution (within 24 months)",
        ),
        published: 6.0,
        tolerance: 3.0,
        source: Cow::Borrowed("Miettunen2009"),
    },
];

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRow {
    /// The target.
    pub target: Target,
    /// Simulated value.
    pub simulated: f64,
    /// Its Monte Carlo standard error.
    pub mcse: f64,
    /// Why the target does not apply to this scenario (then it is never "inside").
    pub not_applicable: Option<String>,
}

impl CalibrationRow {
    /// Whether the target applies and the simulated value lies within the published tolerance.
    pub fn inside(&self) -> bool {
        self.not_applicable.is_none()
            && (self.simulated - self.target.published).abs() <= self.target.tolerance
    }

    /// `true`, `false`, or `n/a` when the target does not apply.
    pub fn status(&self) -> &'static str {
        match (&self.not_applicable, self.inside()) {
            (Some(_), _) => "n/a",
            (None, true) => "true",
            (None, false) => "false",
        }
    }
}

/// Marks the targets that do not describe `s`: all of them for a cohort
/// that is mostly Majeed syndrome (they come from sporadic CRMO), and C1 when
/// the first arm does not start with six months of NSAID alone.
pub fn mark_not_applicable(rows: &mut [CalibrationRow], s: &crate::scenario::Scenario) {
    let majeed = s.cohort.majeed_frac.central();
    let first_arm = s.arm.first();
    let nsaid_first = first_arm.is_some_and(|a| {
        crate::scenario::treatment::ladder_steps(a)
            .first()
            .is_some_and(|step| step.len() == 1 && step[0] == "nsaid")
            && a.min_weeks_on_step >= 26.0
    });
    for r in rows.iter_mut() {
        let why = if majeed > 0.5 {
            Some(format!(
                "the targets describe sporadic CRMO; majeed_frac = {}",
                crate::scenario::dist::num(majeed)
            ))
        } else if r.target.id == "C1" && !nsaid_first {
            Some("the first arm does not give NSAID alone for the first 6 months (ladder starting with \"nsaid\", min_weeks_on_step >= 26)".to_string())
        } else {
            None
        };
        r.not_applicable = why.or(r.not_applicable.take());
    }
}

/// Compares the first arm of a run with every target.
pub fn calibration_rows(res: &CohortResult) -> Vec<CalibrationRow> {
    let arm = &res.arms[0];
    let rows = summary_rows(res);
    let metric = |name: &str| {
        rows.iter()
            .find(|r| &r.arm == arm && r.metric == name)
            .map_or((f64::NAN, f64::NAN), |r| (r.mean, r.mcse))
    };
    let km = kaplan_meier(&res.curves[0].km[3]);
    let (med, _, _, se) = km_median_with_interval(&km);
    let (delay, delay_se) = metric("diagnostic_delay_median_days");
    let values = [
        metric("remission_6_months_frac"),
        (med / DAYS_PER_MONTH, se / DAYS_PER_MONTH),
        metric("silent_lesion_share_at_diagnosis"),
        metric("solitary_lesion_frac_at_diagnosis"),
        (delay / DAYS_PER_MONTH, delay_se / DAYS_PER_MONTH),
        metric("jansson_ge39_frac"),
        metric("bristol_criterion1_frac"),
        metric("flares_first_5_3_years_mean"),
        metric("active_period_median_months"),
        metric("flare_ended_12_weeks_after_pamidronate_frac"),
        metric("not_in_flare_6_months_after_tnf_inhibitor_frac"),
        metric("second_step_12_months_frac"),
        metric("pedcno70_12_months_frac"),
        metric("mri_clear_12_months_after_pamidronate_frac"),
        metric("mri_clear_months_after_pamidronate_mean"),
    ];
    TARGETS
        .iter()
        .zip(values)
        .map(|(t, (simulated, mcse))| CalibrationRow {
            target: t.clone(),
            simulated,
            mcse,
            not_applicable: (!simulated.is_finite())
                .then(|| "no simulated value (no patient reached this point)".to_string()),
        })
        .collect()
}

/// A value with three decimals, or `-` when there is none (never `NaN`).
fn three_places(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "-".into()
    }
}

/// The report as a table for the terminal, under `title`.
pub fn calibration_table(rows: &[CalibrationRow], title: &str) -> String {
    let mut s = format!("{title}\n");
    s += &format!(
        "{:<4} {:<70} {:>9} {:>9} {:>10} {:>8} {:>8}  source\n",
        "id", "target", "published", "tol (±)", "simulated", "mcse", "inside"
    );
    for r in rows {
        s += &format!(
            "{:<4} {:<70} {:>9} {:>9} {:>10} {:>8} {:>8}  [{}]\n",
            r.target.id,
            r.target.target,
            fmt_num(r.target.published),
            fmt_num(r.target.tolerance),
            three_places(r.simulated),
            three_places(r.mcse),
            match r.status() {
                "true" => "yes",
                "false" => "NO",
                other => other,
            },
            r.target.source
        );
    }
    for r in rows {
        if let Some(why) = &r.not_applicable {
            s += &format!("{}: does not apply: {why}\n", r.target.id);
        }
    }
    s
}
