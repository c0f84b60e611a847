//! The limits of what a scenario may ask for, so that every scenario `check`
//! accepts runs to completion in bounded time and memory. Each limit is
//! derived from what the model needs (docs/scenarios.md, "Limits"); value ranges of
//! single parameters live with their kinds in [`super::dist`], and the
//! checks that apply these limits to a scenario in [`super::validate`].

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

/// Most grid points of one sweep. Every point is a whole study kept in
/// memory until `sweep.csv` is written.
pub const MAX_SWEEP_POINTS: usize = 1_000;

/// Most values of one swept parameter.
pub const MAX_SWEEP_VALUES: usize = 1000;

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
