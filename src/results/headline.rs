//! The headline metrics of a run: the few outcomes `run` prints after a run
//! and `report.html` shows first, each with the label both use.

/// Headline metrics as `(metric, label)`, in the order they are shown. A
/// metric a run does not have (no treatment, no ladder step 2) is skipped
/// where it is shown.
pub const HEADLINE: [(&str, &str); 14] = [
    (
        "remission_6_months_frac",
        "not in flare 6 months after diagnosis",
    ),
    (
        "remission_24_months_frac",
        "not in flare 24 months after diagnosis",
    ),
    ("reached_step_2_frac", "reached ladder step 2 (share)"),
    ("flares_per_patient_year", "flares per patient-year"),
    ("time_in_flare_frac", "time in flare (share)"),
    (
        "diagnostic_delay_median_days",
        "median diagnostic delay (days)",
    ),
    (
        "silent_lesion_share_at_diagnosis",
        "silent share of lesions at diagnosis",
    ),
    (
        "solitary_lesion_frac_at_diagnosis",
        "solitary lesion at diagnosis (share)",
    ),
    ("jansson_ge39_frac", "Jansson score ≥ 39 (share)"),
    ("bristol_criterion1_frac", "Bristol criterion 1 (share)"),
    ("resolved_frac", "resolved by end of observation (share)"),
    ("vertebral_fracture_frac", "vertebral fracture (share)"),
    ("adverse_event_frac", "adverse event (share of diagnosed)"),
    ("treated_days_mean", "days on treatment (mean, diagnosed)"),
];
