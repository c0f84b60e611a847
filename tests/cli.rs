//! Integration tests of the `crmo-sim` binary, as one test binary (one link,
//! like ripgrep's `tests/tests.rs`). Each module says what belongs in it.
//! The statistical checks live in `tests/analytic.rs`, the per-patient
//! property tests in `tests/invariants.rs`.

// Helpers shared by the modules: the command, temp dirs, directory snapshots.
#[path = "cli/util.rs"]
mod util;

// `crmo-sim run`: files written, headers, the built-in reference, scenarios.
#[path = "cli/run.rs"]
mod run;

// `crmo-sim check`: the resolved-parameter listing.
#[path = "cli/check.rs"]
mod check;

// Bad input: exit code 2, located messages, no panic, output untouched.
#[path = "cli/errors.rs"]
mod errors;

// Byte-identical outputs across thread counts and re-runs.
#[path = "cli/determinism.rs"]
mod determinism;

// `[output] compression = "gzip"`: identical bytes, plain content.
#[path = "cli/compression.rs"]
mod compression;

// Input bounds: every value `check` accepts runs in bounded time and memory,
// or is refused up front (limits, readers, threads, names, calibration).
#[path = "cli/bounds.rs"]
mod bounds;

// Shards and merge; check and run refuse the same scenarios.
#[path = "cli/shards.rs"]
mod shards;

// PSA tables (parameters.csv, replicates.csv) and check's replicate-0 values.
#[path = "cli/psa.rs"]
mod psa;

// Sweeps: sweep.csv, the sweep plot, located errors, shards.
#[path = "cli/sweep.rs"]
mod sweep;

// The result-directory rule: refusals, atomic swaps, kills, interrupts,
// concurrent runs, charts written whole.
#[path = "cli/outdir.rs"]
mod outdir;

// calibrate --fit and --targets: recovery of known values, fitted.toml,
// fit.csv, refusals of bad names, bounds and targets files.
#[path = "cli/fit.rs"]
mod fit;

// `crmo-sim criteria`: the virtual differential diagnosis, its files,
// estimates, refusals and determinism.
#[path = "cli/criteria.rs"]
mod criteria;
// The command line itself: chart file modes, the global -q, completions, the
// manual page, "did you mean" for scenario fields, help texts.
#[path = "cli/commandline.rs"]
mod commandline;
// `crmo-sim trial`: files, determinism across threads and shards, the
// sample-size search, refusals.
#[path = "cli/trial.rs"]
mod trial;

// `reference_arm` and `run --reference-arm`: paired differences against any arm.
#[path = "cli/reference.rs"]
mod reference;

// `course --story NAME --rank K`: the patients drawn, what is printed, and
// that each patient's events tell the story.
#[path = "cli/stories.rs"]
mod stories;
