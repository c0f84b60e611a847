//! The library pipeline (`crmo_sim::pipeline`) against the command line and
//! against itself: `run_study` + `write_results` write the files `crmo-sim
//! run` writes, byte for byte; `StudyRun::tables` is the text of those
//! files; a cancelled run stops with `Error::Interrupted` and leaves the
//! target as it was; progress adds up to the work; the thread count changes
//! nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crmo_sim::pipeline::{
    self, load_study, run_study, run_study_into, write_results, NoProgress, OutputDir, Progress,
    RunOptions, ScenarioSource, WriteOptions,
};
use crmo_sim::Error;

/// Two arms, per-patient rows (so the spool is moved into place) and
/// paired differences.
const TWO_ARMS_WITH_ROWS: &str = r#"name = "two-arms"
seed = 7
patients = 700
replicates = 2
horizon_years = 4

[output]
patients = true
events = true

[[arm]]
name = "nsaid-first"
ladder = ["nsaid", "pamidronate"]

[[arm]]
name = "untreated"
untreated = true
"#;

fn text_source(text: &str) -> ScenarioSource {
    ScenarioSource::Text {
        text: text.into(),
        origin: "<string>".into(),
    }
}

/// The regular files directly in `dir`, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .expect("read result directory")
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).expect("read result file"))
        })
        .collect()
}

/// Every entry under `dir` (relative path -> bytes, None for a directory).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).expect("read directory") {
            let path = entry.expect("directory entry").path();
            let rel = path.strip_prefix(base).expect("under base").to_path_buf();
            if path.is_dir() {
                into.insert(rel, None);
                walk(base, &path, into);
            } else {
                into.insert(rel, Some(fs::read(&path).expect("read file")));
            }
        }
    }
    let mut map = BTreeMap::new();
    walk(dir, dir, &mut map);
    map
}

/// `crmo-sim run SCENARIO --out OUT -q --no-plots ARGS...`.
fn cli_run(scenario: &Path, out: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_crmo-sim"))
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(["-q", "--no-plots"])
        .args(args)
        .output()
        .expect("crmo-sim runs");
    assert!(
        o.status.success(),
        "crmo-sim run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs `source` through the library into `out` (no plots).
fn library_run(source: &ScenarioSource, opts: &RunOptions, out: &Path) -> pipeline::Written {
    let study = load_study(source, opts).expect("the scenario loads");
    let run = run_study(&study, opts, &NoProgress).expect("the study runs");
    write_results(&study, run, Some(out), &WriteOptions::default()).expect("results written")
}

/// Every file of the library's result directory, the row files and the
/// report included, is byte-identical to the command line's (the manifest
/// differs only in its command line and timing).
#[test]
fn the_library_writes_what_the_command_line_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("two-arms.toml");
    fs::write(&scenario, TWO_ARMS_WITH_ROWS).unwrap();
    let cases: [(ScenarioSource, PathBuf, Vec<&str>); 2] = [
        (ScenarioSource::Path(scenario.clone()), scenario, vec![]),
        (
            ScenarioSource::Path("scenarios/early-bisphosphonate.toml".into()),
            PathBuf::from("scenarios/early-bisphosphonate.toml"),
            vec!["--patients", "400", "--seed", "3"],
        ),
    ];
    for (i, (source, path, args)) in cases.into_iter().enumerate() {
        let by_cli = tmp.path().join(format!("cli-{i}"));
        cli_run(&path, &by_cli, &args);
        let opts = RunOptions {
            patients: (i == 1).then_some(400),
            seed: (i == 1).then_some(3),
            ..RunOptions::default()
        };
        let by_lib = tmp.path().join(format!("lib-{i}"));
        let written = library_run(&source, &opts, &by_lib);
        assert_eq!(written.dir, by_lib.canonicalize().unwrap());
        let (a, b) = (files(&by_cli), files(&by_lib));
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "case {i}: different files"
        );
        for name in a.keys().filter(|n| *n != "manifest.json") {
            assert!(a[name] == b[name], "case {i}: {name} differs");
        }
        if i == 0 {
            for rows in ["patients.csv", "events.csv"] {
                assert!(b[rows].len() > 1000, "{rows} is nearly empty");
            }
        }
    }
}

/// `tables()` gives every CSV file of the directory but the row files, in
/// the order written, with exactly the text of the file.
#[test]
fn tables_are_the_text_of_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let study = load_study(&text_source(TWO_ARMS_WITH_ROWS), &RunOptions::default()).unwrap();
    let run = run_study(&study, &RunOptions::default(), &NoProgress).unwrap();
    let tables = run.tables().unwrap();
    let spooled = run.row_files();
    assert_eq!(spooled.len(), 2, "{spooled:?}");
    assert!(spooled.iter().all(|p| p.is_file()));
    let out = tmp.path().join("out");
    write_results(&study, run, Some(&out), &WriteOptions::default()).unwrap();
    assert!(
        spooled.iter().all(|p| !p.exists()),
        "the spooled rows were left behind"
    );
    let written = files(&out);
    let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "parameters.csv",
            "replicates.csv",
            "summary.csv",
            "metrics.csv",
            "differences.csv",
            "timeseries.csv",
            "timeseries_from_diagnosis.csv",
            "km.csv"
        ]
    );
    for (name, text) in &tables {
        assert_eq!(
            written[name.as_str()],
            text.as_bytes(),
            "{name} differs from tables()"
        );
    }
    let csvs: Vec<&String> = written.keys().filter(|n| n.ends_with(".csv")).collect();
    assert_eq!(
        csvs.len(),
        tables.len() + 2,
        "tables() misses a CSV: {csvs:?}"
    );
}

/// Cancels at its first report of progress and counts the patients done.
#[derive(Default)]
struct CancelSoon {
    total: AtomicU64,
    done: AtomicU64,
    cancel: AtomicBool,
}

impl Progress for CancelSoon {
    fn start(&self, total_units: u64) {
        self.total.store(total_units, Ordering::SeqCst);
    }
    fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::SeqCst);
        self.cancel.store(true, Ordering::SeqCst);
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// A cancelled run stops early with `Error::Interrupted`; the earlier
/// result in the target directory stays as it was, and nothing of the
/// run is left beside it (no staging directory, no lock file).
#[test]
fn a_cancelled_run_is_interrupted_and_leaves_the_target_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let small = r#"name = "big"
seed = 1
patients = 200
horizon_years = 2

[output]
patients = true
"#;
    library_run(&text_source(small), &RunOptions::default(), &out);
    let before = snapshot(tmp.path());
    let opts = RunOptions {
        patients: Some(200_000),
        threads: Some(2),
        ..RunOptions::default()
    };
    let study = load_study(&text_source(small), &opts).unwrap();
    let dir = OutputDir::prepare(&out, false).unwrap();
    let progress = CancelSoon::default();
    let started = std::time::Instant::now();
    let outcome = run_study_into(&study, &opts, &progress, &dir);
    assert!(
        matches!(outcome, Err(Error::Interrupted)),
        "{:?}",
        outcome.map(|r| r.wall_seconds())
    );
    drop(dir);
    let (done, total) = (
        progress.done.load(Ordering::SeqCst),
        progress.total.load(Ordering::SeqCst),
    );
    assert_eq!(total, 200_000);
    assert!(
        done < total / 4,
        "the run went on after the cancel: {done} of {total} patients in {:?}",
        started.elapsed()
    );
    assert_eq!(
        snapshot(tmp.path()),
        before,
        "the cancelled run left traces"
    );
    // Without a prepared directory: the spooled rows go with the error.
    let outcome = run_study(&study, &opts, &CancelSoon::default());
    assert!(matches!(outcome, Err(Error::Interrupted)));
}

/// Counts the work announced and done.
#[derive(Default)]
struct Count {
    total: AtomicU64,
    starts: AtomicU64,
    done: AtomicU64,
}

impl Progress for Count {
    fn start(&self, total_units: u64) {
        self.total.store(total_units, Ordering::SeqCst);
        self.starts.fetch_add(1, Ordering::SeqCst);
    }
    fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::SeqCst);
    }
}

/// The announced total is the patients × replicates of the study (per
/// arm), the advances add up to it, and the totals of three shards add up
/// to the whole.
#[test]
fn progress_adds_up_to_the_work() {
    let opts = RunOptions {
        patients: Some(2500),
        threads: Some(2),
        ..RunOptions::default()
    };
    let study = load_study(&text_source(TWO_ARMS_WITH_ROWS), &opts).unwrap();
    let count = Count::default();
    run_study(&study, &opts, &count).unwrap();
    let total = count.total.load(Ordering::SeqCst);
    assert_eq!(total, 2500 * 2, "patients x replicates");
    assert_eq!(count.done.load(Ordering::SeqCst), total);
    assert_eq!(count.starts.load(Ordering::SeqCst), 1);
    let mut shards = 0;
    for k in 0..3 {
        let shard = RunOptions {
            shard: Some(format!("{k}/3").parse().unwrap()),
            ..opts.clone()
        };
        let count = Count::default();
        let run = run_study(&study, &shard, &count).unwrap();
        assert!(run.results().is_empty() && run.tables().unwrap().is_empty());
        assert_eq!(
            count.done.load(Ordering::SeqCst),
            count.total.load(Ordering::SeqCst)
        );
        shards += count.total.load(Ordering::SeqCst);
    }
    assert_eq!(shards, total);
}

/// One thread or two: the same tables, byte for byte (a sweep too).
#[test]
fn the_thread_count_changes_no_table() {
    let sweep = format!(
        "{TWO_ARMS_WITH_ROWS}\n[sweep]\n\"natural_history.flare_rate_per_year\" = [0.5, 2.0]\n"
    )
    .replace("patients = true\nevents = true\n", "");
    for text in [TWO_ARMS_WITH_ROWS.to_string(), sweep] {
        let tables: Vec<Vec<(String, String)>> = [1, 2]
            .map(|threads| {
                let opts = RunOptions {
                    patients: Some(3000),
                    threads: Some(threads),
                    ..RunOptions::default()
                };
                let study = load_study(&text_source(&text), &opts).unwrap();
                let run = run_study(&study, &opts, &NoProgress).unwrap();
                assert_eq!(run.threads(), threads);
                run.tables().unwrap()
            })
            .into_iter()
            .collect();
        assert!(!tables[0].is_empty());
        assert!(tables[0] == tables[1], "1 and 2 threads differ");
    }
}

/// A bad scenario given as text names its origin, line and column.
#[test]
fn a_bad_scenario_text_is_refused_with_its_location() {
    let text = "name = \"x\"\n[natural_history]\nflare_rate_per_year = \"lots\"\n";
    let e = load_study(&text_source(text), &RunOptions::default()).unwrap_err();
    let message = e.to_string();
    assert!(e.is_input_error(), "{message}");
    assert!(
        message.contains("<string>") && message.contains("line 3"),
        "{message}"
    );
}

/// What a PSA holds per replicate once run: each arm's metric sums and its
/// two day histograms at 4 bytes a day, each other arm's paired
/// differences, and nothing else (the curves are pooled per arm), without
/// spare capacity: about 140 kB a replicate of three arms over 10 years.
#[test]
fn a_replicate_holds_its_accumulators_once_at_four_bytes_a_day() {
    use crmo_sim::engine::accum::Stat;
    let text = format!(
        "{}\n[[arm]]\nname = \"pamidronate-first\"\nladder = [\"pamidronate\"]\n",
        TWO_ARMS_WITH_ROWS
            .replace("patients = 700", "patients = 40")
            .replace("replicates = 2", "replicates = 30")
            .replace("horizon_years = 4", "horizon_years = 10")
            .replace("patients = true\nevents = true\n", "")
    );
    let study = load_study(&text_source(&text), &RunOptions::default()).unwrap();
    let run = run_study(&study, &RunOptions::default(), &NoProgress).unwrap();
    let res = &run.results()[0];
    let (arms, metrics) = (res.arms.len(), res.metrics.len());
    assert_eq!((arms, res.replicates.len(), res.curves.len()), (3, 30, 3));
    let days = 3653 + 1;
    let expected =
        (arms * metrics + (arms - 1) * metrics) * size_of::<Stat>() + arms * 2 * days * 4;
    for (r, rep) in res.replicates.iter().enumerate() {
        let held: usize = rep
            .arms
            .iter()
            .map(|a| {
                a.stats.capacity() * size_of::<Stat>()
                    + (a.delay.counts.capacity() + a.active_period.counts.capacity())
                        * size_of_val(&a.delay.counts[0])
            })
            .sum::<usize>()
            + rep
                .differences
                .iter()
                .map(|d| d.capacity() * size_of::<Stat>())
                .sum::<usize>();
        assert_eq!(held, expected, "replicate {r}");
    }
    assert!(expected < 150_000, "{expected} bytes a replicate");
}
