//! The README's virtual-trial worked example: runs
//! `scenarios/trial-nsaid-vs-pamidronate.toml` with a target power of 0.8
//! (as `crmo-sim trial scenarios/trial-nsaid-vs-pamidronate.toml
//! --target-power 0.8` does), draws its power curve to
//! `docs/images/trial-power.png` and prints the README's table.
//!
//! ```text
//! cargo run --release --example readme_trial
//! ```

use std::path::Path;
use std::process::ExitCode;

use crmo_sim::plot::power::{power_plots, PowerCaption};
use crmo_sim::trial::design::{trial_study, Overrides, TrialDesign};
use crmo_sim::trial::results::{power_rows, sample_size_rows};
use crmo_sim::trial::run_design;

fn main() -> ExitCode {
    match example() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn example() -> crmo_sim::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let flags = Overrides {
        target_power: Some(0.8),
        ..Overrides::default()
    };
    let loaded =
        crmo_sim::scenario::load_file(&root.join("scenarios/trial-nsaid-vs-pamidronate.toml"))?;
    let study = trial_study(loaded, &flags)?;
    let design = TrialDesign::resolve(&study, &flags)?;
    let run = run_design(&study, &design, &|_| {})?;
    let rows = power_rows(&run.design, &run.arms, &run.records);
    let tmp = tempfile::tempdir().map_err(|e| crmo_sim::Error::output("temporary directory", e))?;
    let caption = PowerCaption {
        scenario: study.name(),
        alpha: design.alpha,
        target: design.target_power,
        entry: design.entry.as_str().into(),
    };
    power_plots(&rows, &caption, tmp.path(), crmo_sim::plot::Style::Paper)?;
    let image = root.join("docs/images/trial-power.png");
    std::fs::copy(tmp.path().join("power.png"), &image)
        .map_err(|e| crmo_sim::Error::output(&image, e))?;
    println!("| patients per arm | power [95% interval] | PedCNO50 at 12 months, NSAID-first | early pamidronate | difference |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.3} [{:.3}, {:.3}] | {:.3} | {:.3} | {:+.3} |",
            r.per_arm,
            r.power,
            r.power_lower_95,
            r.power_upper_95,
            r.control_mean.unwrap_or(f64::NAN),
            r.arm_mean.unwrap_or(f64::NAN),
            r.effect_mean.unwrap_or(f64::NAN)
        );
    }
    for s in sample_size_rows(&rows, 0.8) {
        println!(
            "\nsmallest size reaching 0.8: {:?} per arm (power {:?})",
            s.per_arm, s.power
        );
    }
    println!("\nimage written to {}", image.display());
    Ok(())
}
