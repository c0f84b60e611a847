//! `[trial]`: the design of the virtual trials `crmo-sim trial` runs, as the
//! scenario file writes it. Every field is optional (command-line flags
//! override them); [`crate::trial::design`] checks the combination and
//! resolves it against the scenario's arms.

use serde::Deserialize;

/// The `[trial]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialTable {
    /// Patients per arm, one trial size each (default 20, 40, 80).
    pub per_arm: Option<Vec<u64>>,
    /// Simulated trials per size (default 1000).
    pub trials: Option<u64>,
    /// The primary endpoint (default `pedcno50_12_months`).
    pub endpoint: Option<String>,
    /// Two-sided significance level, in (0, 0.5] (default 0.05).
    pub alpha: Option<f64>,
    /// The control arm (default: the first arm).
    pub control: Option<String>,
    /// Entry: `diagnosis` (default) or `first_step_failed`.
    pub enrol: Option<String>,
    /// The usual first step whose failure is the entry of a
    /// `first_step_failed` design (a drug or drugs joined by `+`; default `nsaid`).
    pub first_step: Option<String>,
    /// Test of a binary endpoint: `chi_square` (default) or `fisher`.
    pub binary_test: Option<String>,
    /// Months each patient is followed from entry, at least 12 (default 24).
    pub follow_up_months: Option<f64>,
    /// The power whose smallest per-arm size is searched (none by default).
    pub target_power: Option<f64>,
}
