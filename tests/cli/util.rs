//! Helpers shared by the CLI tests: the command (hyperfine's `tests/common.rs`
//! pattern), temporary directories, scenario files and directory snapshots.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The files of a run that must be byte-identical between equivalent runs
/// (`manifest.json` records timing and the command line, so it differs).
pub const RESULT_FILES: [&str; 3] = ["summary.csv", "timeseries.csv", "km.csv"];

/// The repository root (where `scenarios/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Longest any one command of these tests may take: a hang fails the test
/// instead of blocking it.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// `crmo-sim`, run from the repository root, with the thread count left to
/// the test (an inherited `RAYON_NUM_THREADS` is removed) and killed after [`TIMEOUT`].
pub fn crmo() -> Command {
    let mut cmd = Command::cargo_bin("crmo-sim").expect("the crmo-sim binary is built");
    cmd.current_dir(root());
    cmd.env_remove("RAYON_NUM_THREADS");
    cmd.timeout(TIMEOUT);
    cmd
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("crmo-sim-test-")
        .tempdir()
        .expect("temporary directory")
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_scenario(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write scenario");
    path
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Output {
    /// Exit code (None if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs a command to completion and captures its output.
pub fn output(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("crmo-sim runs");
    Output {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs a command that must succeed without a panic; returns its output.
pub fn success(cmd: &mut Command) -> Output {
    let o = output(cmd);
    assert_eq!(o.code, Some(0), "command failed: {o:#?}");
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    o
}

/// `crmo-sim run ARGS... --out OUT -q --no-plots` in the repository root;
/// returns OUT's files. (Plots are slow in a debug build and are tested in
/// `tests/plots.rs`; `run::run_writes_every_file_with_its_header` runs once with them.)
pub fn run_into(args: &[&str], out: &Path, envs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    let mut cmd = crmo();
    cmd.arg("run")
        .args(args)
        .arg("--out")
        .arg(out)
        .args(["-q", "--no-plots"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    success(&mut cmd);
    files(out)
}

/// The regular files directly in `dir`, by name.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .expect("read output directory")
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).expect("read output file"))
        })
        .collect()
}

/// Everything under `dir`: relative path -> file bytes (None for a
/// directory; a symbolic link, not followed, as `-> its target`).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).expect("read directory") {
            let path = entry.expect("directory entry").path();
            let rel = path.strip_prefix(base).expect("under base").to_path_buf();
            let kind = fs::symlink_metadata(&path).expect("stat").file_type();
            if kind.is_symlink() {
                let to = fs::read_link(&path).expect("read link");
                into.insert(rel, Some(format!("-> {}", to.display()).into_bytes()));
            } else if kind.is_dir() {
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

/// The parsed `manifest.json` of a run's files.
pub fn manifest(files: &BTreeMap<String, Vec<u8>>) -> serde_json::Value {
    serde_json::from_slice(&files["manifest.json"]).expect("manifest.json is JSON")
}

/// Asserts that the result files of two runs are byte-identical.
pub fn assert_same_results(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(a), names(b), "{what}: different files");
    for name in a.keys().filter(|n| n.as_str() != "manifest.json") {
        assert!(
            a[name] == b[name],
            "{what}: {name} differs ({} vs {} bytes)",
            a[name].len(),
            b[name].len()
        );
    }
    for name in RESULT_FILES {
        assert!(a.contains_key(name), "{what}: {name} missing");
    }
}
