//! The limits of what a scenario may ask for, so that every scenario `check`
//! accepts runs to completion in bounded time and memory. Each limit is
//! derived from what the model needs (docs/scenarios.md, "Limits"); value ranges of
//! single parameters live with their kinds in [`super::dist`].

use super::dist::num;
use super::Scenario;

/// Largest scenario file, bytes (the shipped ones are a few kilobytes).
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;
/// Most patients per replicate.
pub const MAX_PATIENTS: u64 = 10_000_000;
/// Most replicates.
pub const MAX_REPLICATES: u32 = 100_000;
/// Most `[[arm]]` tables.
pub const MAX_ARMS: usize = 16;
/// Most `[drugs.NAME]` tables (catalogue overrides and new drugs).
pub const MAX_DRUG_TABLES: usize = 64;
/// Most steps in one ladder.
pub const MAX_LADDER_STEPS: usize = 64;
/// Most drugs the arms of one scenario use together (sizes the engine's
/// per-patient drug arrays).
pub const MAX_USED_DRUGS: usize = 16;
/// Most drugs combined in one ladder step (sizes the engine's per-step slots).
pub const MAX_STEP_DRUGS: usize = 4;
/// Most lesions one patient may have: ten times the most any patient of the
/// shipped scenarios reaches (about 500, Majeed syndrome over 15 years).
pub const MAX_LESIONS: usize = 5_000;
/// Most events (steps of the event loop) in one patient's course: weekly
/// imaging, assessments and courses over a century are about 16,000, and the
/// shipped scenarios reach about 2,500.
pub const MAX_EVENTS: u32 = 200_000;
/// Most patient courses one run simulates: patients x replicates x arms.
pub const MAX_COURSES: u64 = 1_000_000_000;
/// Most replicates x arms x horizon years: every replicate keeps, per arm,
/// a day-resolution histogram of the diagnostic delay (about 3 kB per year).
pub const MAX_REPLICATE_ARM_YEARS: f64 = 200_000.0;
/// Largest seed, the same in the file (a TOML integer) and on the command line.
pub const MAX_SEED: u64 = i64::MAX as u64;
/// Longest name (scenario, arm or drug), characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Why `s` cannot name an output directory, an arm or a drug, if it cannot.
///
/// Names end up in paths and CSV columns: only letters, digits, `-`, `_`
/// and `.` are allowed, and neither a leading dot nor a leading `-`.
pub fn name_problem(s: &str) -> Option<String> {
    const ALLOWED: &str = "use 1-100 letters, digits, '-', '_' or '.'";
    if s.is_empty() {
        return Some(format!("the name is empty: {ALLOWED}"));
    }
    let chars = s.chars().count();
    if chars > MAX_NAME_CHARS {
        return Some(format!(
            "the name has {chars} characters: {ALLOWED} (at most {MAX_NAME_CHARS})"
        ));
    }
    if s.starts_with('.') {
        return Some(format!(
            "a name must not start with '.' (it would make a hidden file, and `.` or `..` name a directory above the output): {ALLOWED}"
        ));
    }
    if s.starts_with('-') {
        return Some(format!(
            "a name must not start with '-' (in a CSV cell a spreadsheet would read it as a formula, and on a command line it reads as an option): {ALLOWED}"
        ));
    }
    s.chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .map(|(i, c)| {
            format!(
                "character {} ({c:?}) is not allowed (names appear in file paths and CSV columns): {ALLOWED}",
                i + 1
            )
        })
}

/// A name as messages show it: quoted, and cut after 40 characters.
pub fn shown(s: &str) -> String {
    const SHOWN: usize = 40;
    if s.chars().count() <= SHOWN {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head:?}... ({} bytes)", s.len())
    }
}

/// A name cut after 40 characters, unquoted (for names already known to be
/// printable, inside backticks).
pub fn short(s: &str) -> String {
    const SHOWN: usize = 40;
    if s.chars().count() <= SHOWN {
        s.to_string()
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head}... ({} bytes)", s.len())
    }
}

/// Cuts every line of a message to 300 characters (a parser error quotes the
/// offending line, which may be a megabyte long).
pub fn clip_lines(message: &str) -> String {
    const WIDTH: usize = 300;
    message
        .lines()
        .map(|l| {
            if l.chars().count() > WIDTH {
                let head: String = l.chars().take(WIDTH).collect();
                format!("{head}... ({} more bytes)", l.len() - head.len())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks the size of the whole run (after command-line overrides):
/// patients x replicates x arms, and the memory kept per replicate.
/// Returns what is wrong and what is allowed; the key to blame comes first.
pub fn check_run_size(s: &Scenario) -> Result<(), (&'static str, String)> {
    let arms = s.arm.len().max(1) as u64;
    let courses = s
        .patients
        .saturating_mul(u64::from(s.replicates))
        .saturating_mul(arms);
    if courses > MAX_COURSES {
        return Err((
            "patients",
            format!(
                "{} patients x {} replicate(s) x {arms} arm(s) = {courses} patient courses in all; at most {MAX_COURSES} are allowed in one run: lower `patients` or `replicates`",
                s.patients, s.replicates
            ),
        ));
    }
    let load = f64::from(s.replicates) * arms as f64 * s.horizon_years;
    if load > MAX_REPLICATE_ARM_YEARS {
        return Err((
            "replicates",
            format!(
                "{} replicate(s) x {arms} arm(s) x {} horizon years = {} in all; at most {} are allowed (each replicate keeps day-resolution results per arm): lower `replicates`",
                s.replicates,
                num(s.horizon_years),
                num(load),
                num(MAX_REPLICATE_ARM_YEARS)
            ),
        ));
    }
    Ok(())
}

/// Most grid points of one sweep. Every point is a whole study kept in
/// memory until `sweep.csv` is written.
pub const MAX_SWEEP_POINTS: usize = 1_000;

/// What a sweep grid point's pooled curves weigh, in replicates (see
/// [`check_sweep_size`]).
const CURVE_REPLICATES: f64 = 10.0;

/// What the run-size limits count of one sweep grid point, as it runs
/// (after command-line overrides and the point's own swept values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointSize {
    /// Patients per replicate.
    pub patients: u64,
    /// Replicates.
    pub replicates: u32,
    /// Horizon, years.
    pub horizon_years: f64,
}

impl PointSize {
    /// The size of a scenario's run.
    pub fn of(s: &Scenario) -> Self {
        PointSize {
            patients: s.patients,
            replicates: s.replicates,
            horizon_years: s.horizon_years,
        }
    }
}

/// Checks the size of a sweep whose grid points have `sizes`, each run with
/// `arms` arms: the limits of [`check_run_size`] summed over the points,
/// each point's curves counted as ten more replicates (docs/scenarios.md, "Limits").
/// The message gives the figures the points have.
pub fn check_sweep_size(arms: usize, sizes: &[PointSize]) -> Result<(), String> {
    let arms = arms.max(1) as u64;
    let n = sizes.len();
    let first = sizes.first().copied().unwrap_or(PointSize {
        patients: 0,
        replicates: 0,
        horizon_years: 0.0,
    });
    let uniform = sizes.iter().all(|p| *p == first);
    let courses = sizes.iter().fold(0u64, |sum, p| {
        sum.saturating_add(
            p.patients
                .saturating_mul(u64::from(p.replicates))
                .saturating_mul(arms),
        )
    });
    if courses > MAX_COURSES {
        let how = if uniform {
            format!(
                "{} patients x {} replicate(s) x {arms} arm(s) x {n} grid points",
                first.patients, first.replicates
            )
        } else {
            format!("patients x replicates x {arms} arm(s), summed over the {n} grid points")
        };
        return Err(format!(
            "{how} = {courses} patient courses in all; at most {MAX_COURSES} are allowed in one run: lower `patients` (or --patients), `replicates` or the number of sweep values"
        ));
    }
    // Besides its replicates' results, every grid point keeps its pooled
    // curves (time series, Kaplan-Meier) until sweep.csv is written: about
    // as much memory as ten replicates (measured: 1000 points of 2 arms
    // over 100 years took 7 GB).
    let load: f64 = sizes
        .iter()
        .map(|p| (f64::from(p.replicates) + CURVE_REPLICATES) * arms as f64 * p.horizon_years)
        .sum();
    if load > MAX_REPLICATE_ARM_YEARS {
        let how = if uniform {
            format!(
                "{n} grid points x ({} replicate(s) + {} for the curves) x {arms} arm(s) x {} horizon years",
                first.replicates,
                num(CURVE_REPLICATES),
                num(first.horizon_years)
            )
        } else {
            format!(
                "(replicates + {}) x {arms} arm(s) x horizon years, summed over the {n} grid points",
                num(CURVE_REPLICATES)
            )
        };
        return Err(format!(
            "{how} = {} in all; at most {} are allowed (every grid point keeps day-resolution results per replicate and arm, and its curves): lower `replicates`, `horizon_years` or the number of sweep values",
            num(load),
            num(MAX_REPLICATE_ARM_YEARS)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_why_they_are_refused() {
        assert_eq!(name_problem("nsaid-first_2.b"), None);
        assert!(name_problem(".hidden")
            .unwrap()
            .contains("must not start with '.'"));
        assert!(name_problem("..")
            .unwrap()
            .contains("must not start with '.'"));
        assert!(name_problem("a,b").unwrap().contains("character 2 (',')"));
        assert!(name_problem("-1+2")
            .unwrap()
            .contains("must not start with '-'"));
        assert_eq!(name_problem("a-1"), None);
        assert!(name_problem("").unwrap().contains("empty"));
        assert!(name_problem(&"x".repeat(101))
            .unwrap()
            .contains("101 characters"));
    }

    #[test]
    fn long_names_are_cut_in_messages() {
        let long = "y".repeat(1_000_000);
        let s = shown(&long);
        assert!(s.len() < 80, "{s}");
        assert!(s.contains("1000000 bytes"));
        assert!(clip_lines(&format!("a\n{long}\nb")).len() < 400);
    }
}
