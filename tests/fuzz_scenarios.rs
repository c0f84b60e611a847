//! Scenario fuzzing: mutates the shipped scenarios (`scenarios/*.toml`) with
//! extreme and odd values and *runs* every mutant that `check` accepts, in
//! process, on a small cohort (at most 8 patients, 2 replicates). A mutant
//! must either be refused with a message or run to completion (or stop at a
//! per-patient limit with that error) within the time limit; a panic fails.
//!
//! 500 cases with a fixed seed run in `cargo test`; for more:
//! `CRMO_FUZZ_CASES=100000 cargo test --release --test fuzz_scenarios`
//! (`CRMO_FUZZ_SEED` picks another seed).
//!
//! A second test sends mutants through the `crmo-sim` binary: `check` and
//! `run --patients 3` (staging, per-patient files, gzip, sweeps, plots now
//! and then, the manifest). Whatever `check` accepts, `run` finishes (or
//! stops at a per-patient limit, exit 2, naming it); whatever `check`
//! refuses, `run` refuses with the same message and writes nothing; never
//! a panic or another exit code. 300 cases run in `cargo test`;
//! `scripts/fuzz-run.sh N [SEED]` runs N (`CRMO_FUZZ_RUN_CASES`,
//! `CRMO_FUZZ_SEED`).

use std::sync::mpsc;
use std::time::Duration;

use crmo_sim::engine::cohort::NoRows;
use crmo_sim::study::Study;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Keys a mutation may set, with the table they belong to.
const KEYS: &[(&str, &str)] = &[
    ("", "patients"),
    ("", "replicates"),
    ("", "horizon_years"),
    ("", "seed"),
    ("cohort", "female_frac"),
    ("cohort", "majeed_frac"),
    ("natural_history", "flare_rate_per_year"),
    ("natural_history", "first_flare_duration_mean_weeks"),
    ("natural_history", "flare_duration_mean_weeks"),
    ("natural_history", "flare_duration_shape"),
    ("natural_history", "frailty_variance"),
    ("natural_history", "resolution_median_years"),
    ("natural_history", "resolution_sdlog"),
    ("natural_history", "initial_extra_lesions_mean"),
    ("natural_history", "initial_extra_lesions_dispersion"),
    ("natural_history", "new_lesions_per_flare"),
    ("natural_history", "lesion_lytic_months"),
    ("natural_history", "lesion_stage_shape"),
    ("natural_history", "pain_sd_vas"),
    ("natural_history", "loss_to_follow_up_per_year"),
    ("natural_history", "p_vertebral_fracture_per_flare"),
    ("imaging", "follow_up_every_months"),
    ("drugs.nsaid", "flare_hazard_ratio"),
    ("drugs.nsaid", "lesion_factor"),
    ("drugs.nsaid", "adverse_event_per_year"),
    ("drugs.pamidronate", "course_every_weeks"),
    ("drugs.pamidronate", "max_courses"),
    ("drugs.pamidronate", "course_days"),
    ("drugs.pamidronate", "heal_time_factor"),
];

/// Values a mutation may write.
const VALUES: &[&str] = &[
    "0",
    "-0.0",
    "1e-320",
    "1e-6",
    "0.001",
    "0.01",
    "0.5",
    "1",
    "2",
    "10",
    "52",
    "53",
    "100",
    "1e4",
    "1e9",
    "1e308",
    "inf",
    "-inf",
    "nan",
    "-1",
    "9223372036854775807",
    "0.999999",
    "{ dist = \"gamma\", mean = 1, shape = 0.01 }",
    "{ dist = \"gamma\", mean = 1e-300, shape = 1000 }",
    "{ dist = \"lognormal\", median = 3, sdlog = 9 }",
    "{ dist = \"uniform\", min = -0.0, max = 1e-9 }",
    "{ dist = \"normal\", mean = 5, sd = 1e300, min = 0, max = 1 }",
    "{ dist = \"beta\", alpha = 0.01, beta = 0.01 }",
    "\"text\"",
    "true",
];

/// Small snippets a mutation may append.
const SNIPPETS: &[&str] = &[
    "\n[[arm]]\nname = \"fz\"\nladder = [\"nsaid\", \"pamidronate\", \"tnf_inhibitor\"]\nassess_every_weeks = 1\nmin_weeks_on_step = 0\n",
    "\n[[arm]]\nname = \"fz2\"\nuntreated = true\n",
    "\n[[arm]]\nname = \"fz3\"\nladder = [\"nsaid+methotrexate\", \"il1_blocker\"]\nescalate_when = \"not_in_remission\"\nstop_after_remission_weeks = inf\n",
    "\n[drugs.\"a,b\"]\np_response = 0.5\n",
    "\n[output]\nevents = true\npatients = true\n",
    "\n[output]\nevents = true\ncompression = \"gzip\"\n",
    "\n[sweep]\n\"natural_history.flare_rate_per_year\" = [0.5, 52]\n",
    "\n[sweep]\n\"horizon_years\" = { from = 1, to = 100, steps = 3 }\n\"patients\" = [1, 2]\n",
    "\n[sweep]\n\"drugs.nsaid.p_response\" = [0, 1]\nmetric = \"flares_per_patient\"\n",
    "\nname = \"-x\"\n",
];

fn mutate(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut t = text.to_string();
    for _ in 0..rng.random_range(1..=4) {
        match rng.random_range(0..4) {
            0 | 1 => {
                let (table, key) = KEYS[rng.random_range(0..KEYS.len())];
                let value = VALUES[rng.random_range(0..VALUES.len())];
                let line = format!("{key} = {value}");
                // Replace an existing assignment, else add the table at the end.
                let prefix = format!("{key} =");
                if let Some(pos) = t.lines().position(|l| l.trim_start().starts_with(&prefix)) {
                    let mut lines: Vec<&str> = t.lines().collect();
                    lines[pos] = &line;
                    t = lines.join("\n") + "\n";
                } else if table.is_empty() {
                    t = format!("{line}\n{t}");
                } else {
                    t += &format!("\n[{table}]\n{line}\n");
                }
            }
            2 => t += SNIPPETS[rng.random_range(0..SNIPPETS.len())],
            _ => {
                // Delete a line.
                let lines: Vec<&str> = t.lines().collect();
                if !lines.is_empty() {
                    let k = rng.random_range(0..lines.len());
                    t = lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != k)
                        .map(|(_, l)| *l)
                        .collect::<Vec<_>>()
                        .join("\n")
                        + "\n";
                }
            }
        }
    }
    t
}

/// What one case did.
#[derive(Debug)]
enum Verdict {
    Refused,
    Ran,
    StoppedAtLimit,
}

fn run_case(text: String) -> Result<Verdict, String> {
    let mut loaded = match crmo_sim::scenario::parse(&text, "fuzz.toml") {
        Ok(l) => l,
        Err(e) => {
            let m = e.to_string();
            return if m.is_empty() || m.len() > 20_000 {
                Err(format!("bad message ({} bytes)", m.len()))
            } else {
                Ok(Verdict::Refused)
            };
        }
    };
    loaded.scenario.patients = loaded.scenario.patients.min(8);
    loaded.scenario.replicates = loaded.scenario.replicates.min(2);
    let study = match Study::resolve(loaded) {
        Ok(s) => s,
        Err(_) => return Ok(Verdict::Refused),
    };
    match study.run_slice(0..study.work_units(), &mut NoRows, &|_| {}) {
        Ok(accs) => {
            let _ = study.results(accs);
            Ok(Verdict::Ran)
        }
        Err(crmo_sim::Error::PatientLimit(_)) => Ok(Verdict::StoppedAtLimit),
        Err(e) => Err(format!("accepted but failed: {e}")),
    }
}

#[test]
fn mutated_shipped_scenarios_run_or_are_refused() {
    let cases: usize = std::env::var("CRMO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("CRMO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_125);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut sources: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    sources.sort();
    assert!(sources.len() >= 4);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut ran, mut refused, mut limited) = (0, 0, 0);
    for case in 0..cases {
        let text = mutate(&sources[case % sources.len()], &mut rng);
        let (tx, rx) = mpsc::channel();
        let shown = text.clone();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(|| run_case(text))
                .unwrap_or_else(|_| Err("panicked".into()));
            let _ = tx.send(r);
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(Verdict::Ran)) => ran += 1,
            Ok(Ok(Verdict::Refused)) => refused += 1,
            Ok(Ok(Verdict::StoppedAtLimit)) => limited += 1,
            Ok(Err(why)) => panic!("case {case} (seed {seed}): {why}\n{shown}"),
            Err(_) => panic!("case {case} (seed {seed}) took over 60 s:\n{shown}"),
        }
    }
    println!("{cases} cases: {ran} ran, {limited} stopped at a limit, {refused} refused");
    assert!(ran > cases / 10, "too few mutants ran: {ran}");
}

/// What `check` and `run` did with one mutant, through the binary.
#[derive(Debug, PartialEq)]
enum CliVerdict {
    Refused,
    Ran,
    StoppedAtLimit,
}

/// Runs `check` and `run --patients 3` on one mutant in `dir` and checks
/// that they agree, that a refusal writes nothing and that a run writes a
/// whole result.
fn run_cli_case(dir: &std::path::Path, case: usize, text: &str) -> Result<CliVerdict, String> {
    let file = dir.join(format!("m{case}.toml"));
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let out = dir.join(format!("out{case}"));
    let threads = (case % 2 + 1).to_string();
    let plots = case % 25 == 0;
    let exec = |args: &[&std::ffi::OsStr]| {
        let mut cmd = assert_cmd::Command::cargo_bin("crmo-sim").map_err(|e| e.to_string())?;
        cmd.env_remove("RAYON_NUM_THREADS")
            .current_dir(dir)
            .timeout(Duration::from_secs(120))
            .args(args);
        let o = cmd.output().map_err(|e| e.to_string())?;
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        if stderr.contains("panicked") {
            return Err(format!("panicked: {stderr}"));
        }
        Ok((o.status.code(), stderr))
    };
    let (check, check_err) = exec(&[
        "check".as_ref(),
        file.as_os_str(),
        "--patients".as_ref(),
        "3".as_ref(),
    ])?;
    let mut run_args: Vec<&std::ffi::OsStr> = vec![
        "run".as_ref(),
        file.as_os_str(),
        "--patients".as_ref(),
        "3".as_ref(),
        "--threads".as_ref(),
        threads.as_ref(),
        "-q".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    if !plots {
        run_args.push("--no-plots".as_ref());
    }
    let (run, run_err) = exec(&run_args)?;
    let verdict = match (check, run) {
        (Some(0), Some(0)) => {
            let has = |f: &str| out.join(f).is_file();
            if !has("manifest.json") || !(has("summary.csv") || has("sweep.csv")) {
                return Err(format!(
                    "run exited 0 without a whole result in {}",
                    out.display()
                ));
            }
            CliVerdict::Ran
        }
        (Some(0), Some(2)) if run_err.contains("(the most one") => CliVerdict::StoppedAtLimit,
        (Some(2), Some(2)) if check_err == run_err && !check_err.trim().is_empty() => {
            CliVerdict::Refused
        }
        _ => {
            return Err(format!(
                "check exited {check:?} ({}), run exited {run:?} ({})",
                check_err.trim(),
                run_err.trim()
            ))
        }
    };
    if verdict != CliVerdict::Ran && out.exists() {
        return Err(format!("a refused run wrote {}", out.display()));
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_file(&file);
    Ok(verdict)
}

#[test]
fn mutants_go_through_check_and_run_on_the_command_line() {
    let cases: usize = std::env::var("CRMO_FUZZ_RUN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("CRMO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_206);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut sources: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    sources.sort();
    let tmp = tempfile::Builder::new()
        .prefix("crmo-sim-fuzz-")
        .tempdir()
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut ran, mut refused, mut limited) = (0, 0, 0);
    for case in 0..cases {
        let text = mutate(&sources[case % sources.len()], &mut rng);
        match run_cli_case(tmp.path(), case, &text) {
            Ok(CliVerdict::Ran) => ran += 1,
            Ok(CliVerdict::Refused) => refused += 1,
            Ok(CliVerdict::StoppedAtLimit) => limited += 1,
            Err(why) => panic!("case {case} (seed {seed}): {why}\n{text}"),
        }
    }
    println!("{cases} cases through the binary: {ran} ran, {limited} stopped at a limit, {refused} refused");
    assert!(ran > cases / 10, "too few mutants ran: {ran}");
    assert!(
        refused > 0,
        "no mutant was refused: the mutations are too tame"
    );
}
