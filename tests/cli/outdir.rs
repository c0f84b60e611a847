//! The result-directory rule: crmo-sim deletes only files it wrote and can
//! prove it wrote, refuses (exit 2, naming the first foreign file, before any
//! work) a target holding anything else, swaps results atomically, and
//! survives kills, interrupts and concurrent runs without losing a file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::util::{crmo, files, manifest, output, snapshot, success, tempdir, Output};

/// A scenario without a `name`, so the default result name comes from the
/// file name.
const SCENARIO: &str = "seed = 11\nhorizon_years = 3\n";

/// Runs `args` in `dir` with a time limit: a refusal must come before any
/// work, so it must be quick even when the requested cohort is huge.
fn refused_within(dir: &Path, args: &[&str], seconds: u64) -> Output {
    let started = Instant::now();
    let o = output(
        crmo()
            .current_dir(dir)
            .args(args)
            .timeout(Duration::from_secs(seconds)),
    );
    assert_eq!(o.code, Some(2), "{args:?}: {o:#?}");
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert!(started.elapsed() < Duration::from_secs(seconds));
    o
}

/// A scenario whose simulation takes minutes (20 replicates of ten million
/// patients over ten years), far longer than the time limit of a refusal.
const HEAVY: &str = "seed = 11\nhorizon_years = 10\nreplicates = 20\npatients = 10000000\n";

/// `HEAVY` as a file outside the directories the tests compare.
fn heavy_scenario() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outdir-heavy.toml");
        fs::write(&path, HEAVY).unwrap();
        path.to_string_lossy().into_owned()
    })
}

/// `run HEAVY --out OUT -q --no-plots`.
fn run_args(out: &str) -> Vec<&str> {
    vec!["run", heavy_scenario(), "--out", out, "-q", "--no-plots"]
}

/// `dir`'s entries that are not hidden (leftovers users would see).
fn visible(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Every entry of `dir`, hidden ones included.
fn all_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A small finished result in `dir/name`.
fn small_result(dir: &Path, name: &str) -> PathBuf {
    fs::write(dir.join("s.toml"), SCENARIO).unwrap();
    let out = dir.join(name);
    success(
        crmo()
            .current_dir(dir)
            .args([
                "run",
                "s.toml",
                "--patients",
                "60",
                "-q",
                "--no-plots",
                "--out",
            ])
            .arg(&out),
    );
    out
}

/// Asserts that `dir` holds one whole crmo-sim result: a marked manifest
/// listing every entry, each file with its recorded SHA-256.
fn assert_complete_result(dir: &Path) {
    let m = manifest(&files(dir));
    assert_eq!(m["format"], "crmo-sim result v1", "{}", dir.display());
    let on_disk: Vec<String> = snapshot(dir)
        .into_iter()
        .map(|(p, bytes)| {
            let name = p.to_string_lossy().replace('\\', "/");
            if bytes.is_none() {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect();
    let mut listed: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let mut on_disk_sorted = on_disk.clone();
    on_disk_sorted.sort();
    assert_eq!(on_disk_sorted, listed, "{}: listing differs", dir.display());
    for (name, hash) in m["sha256"].as_object().unwrap() {
        let bytes = fs::read(dir.join(name)).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest, hash.as_str().unwrap(), "{name}");
    }
}

/// Issue reproducer: a web-extension folder (it has its own `manifest.json`)
/// given as `--out` used to be emptied.
#[test]
fn a_folder_with_someone_elses_manifest_is_refused_untouched() {
    let tmp = tempdir();
    fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    let ext = tmp.path().join("ext");
    fs::create_dir(&ext).unwrap();
    fs::write(ext.join("manifest.json"), "{}").unwrap();
    fs::write(ext.join("app.js"), "x").unwrap();
    let before = snapshot(tmp.path());
    let o = refused_within(tmp.path(), &run_args("ext"), 10);
    assert!(o.stderr.contains("app.js"), "{}", o.stderr);
    assert!(o.stderr.contains("not a crmo-sim result"), "{}", o.stderr);
    assert_eq!(snapshot(tmp.path()), before);
}

/// Notes, sub-folders and edits a user adds to a result are named and kept.
#[test]
fn what_a_user_adds_to_a_result_is_refused_and_kept() {
    type Change = fn(&Path);
    let cases: [(Change, &str, &str); 4] = [
        (
            |d| fs::write(d.join("notes.txt"), "mine").unwrap(),
            "notes.txt",
            "did not write",
        ),
        (
            |d| fs::create_dir(d.join("figures")).unwrap(),
            "figures",
            "did not write",
        ),
        (
            |d| fs::write(d.join("summary.csv"), "arm,metric\nmy edit\n").unwrap(),
            "summary.csv",
            "changed after crmo-sim wrote it",
        ),
        (
            |d| fs::write(d.join("manifest.json"), "{\"files\": []}").unwrap(),
            "km.csv",
            "marker",
        ),
    ];
    for (change, named, why) in cases {
        let tmp = tempdir();
        let out = small_result(tmp.path(), "res");
        change(&out);
        let before = snapshot(tmp.path());
        let o = refused_within(tmp.path(), &run_args("res"), 10);
        assert!(o.stderr.contains(named), "{named}: {}", o.stderr);
        assert!(o.stderr.contains(why), "{why}: {}", o.stderr);
        assert!(o.stderr.contains("--replace"), "{}", o.stderr);
        assert_eq!(snapshot(tmp.path()), before, "{named}");
    }
}

/// Issue reproducer: `run output/study/study.toml` used to delete the
/// scenario file it was reading.
#[test]
fn the_scenario_file_inside_its_own_result_is_kept() {
    let tmp = tempdir();
    fs::write(tmp.path().join("study.toml"), HEAVY).unwrap();
    let quick = ["--patients", "50", "-q", "--no-plots"];
    success(
        crmo()
            .current_dir(tmp.path())
            .args(["run", "study.toml"])
            .args(quick),
    );
    let inside = tmp.path().join("output/study/study.toml");
    fs::copy(tmp.path().join("study.toml"), &inside).unwrap();
    let before = snapshot(tmp.path());
    let o = refused_within(
        tmp.path(),
        &["run", "output/study/study.toml", "-q", "--no-plots"],
        10,
    );
    assert!(o.stderr.contains("study.toml"), "{}", o.stderr);
    assert_eq!(snapshot(tmp.path()), before);
}

/// `course` and `gallery` write to `output/charts/<scenario>/`, which no
/// `run` replaces; a run afterwards neither deletes them nor is refused.
#[test]
fn charts_live_where_no_run_replaces_them() {
    let tmp = tempdir();
    fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    let o = success(
        crmo()
            .current_dir(tmp.path())
            .args(["course", "s.toml", "--patient", "1"]),
    );
    let chart = tmp.path().join("output/charts/s/course-1.png");
    assert_eq!(o.stdout.trim(), "output/charts/s/course-1.png");
    let png = fs::read(&chart).expect("course chart written");
    success(crmo().current_dir(tmp.path()).args([
        "run",
        "s.toml",
        "--patients",
        "50",
        "-q",
        "--no-plots",
    ]));
    assert_eq!(fs::read(&chart).unwrap(), png);
    assert_complete_result(&tmp.path().join("output/s"));
    // A scenario named `charts` gets its own result directory.
    fs::write(tmp.path().join("charts.toml"), SCENARIO).unwrap();
    success(crmo().current_dir(tmp.path()).args([
        "run",
        "charts.toml",
        "--patients",
        "50",
        "-q",
        "--no-plots",
    ]));
    assert_complete_result(&tmp.path().join("output/charts-run"));
    assert_eq!(fs::read(&chart).unwrap(), png);
}

/// Issue reproducer: `..toml` used to write straight into `output/` and a
/// re-run deleted every other result there. Odd file names get a safe
/// default directory.
#[test]
fn odd_scenario_file_names_get_safe_result_names() {
    let tmp = tempdir();
    let other = small_result(tmp.path(), "output/other");
    let other_before = snapshot(&other);
    for (file, dir) in [
        ("..toml", "scenario"),
        (".hidden.toml", "hidden"),
        ("my.study.v2.toml", "my.study.v2"),
    ] {
        fs::write(tmp.path().join(file), SCENARIO).unwrap();
        for _ in 0..2 {
            success(crmo().current_dir(tmp.path()).args([
                "run",
                file,
                "--patients",
                "40",
                "-q",
                "--no-plots",
            ]));
        }
        assert_complete_result(&tmp.path().join("output").join(dir));
    }
    assert_eq!(snapshot(&other), other_before);
    assert_eq!(
        all_entries(&tmp.path().join("output")),
        ["hidden", "my.study.v2", "other", "scenario"]
    );
}

/// A result replaces an earlier one whole: files the new run does not write
/// go, and nothing is left beside it (no staging, no lock file).
#[test]
fn a_result_replaces_an_earlier_result_whole() {
    let tmp = tempdir();
    let with_rows = "seed = 11\nhorizon_years = 3\n[output]\npatients = true\n";
    fs::write(tmp.path().join("rows.toml"), with_rows).unwrap();
    fs::write(tmp.path().join("plain.toml"), SCENARIO).unwrap();
    let quick = ["--patients", "50", "-q", "--no-plots", "--out", "out"];
    success(
        crmo()
            .current_dir(tmp.path())
            .args(["run", "rows.toml"])
            .args(quick),
    );
    assert!(tmp.path().join("out/patients.csv").exists());
    success(
        crmo()
            .current_dir(tmp.path())
            .args(["run", "plain.toml"])
            .args(quick),
    );
    assert!(!tmp.path().join("out/patients.csv").exists());
    assert_complete_result(&tmp.path().join("out"));
    assert_eq!(all_entries(tmp.path()), ["out", "plain.toml", "rows.toml"]);
}

/// `--replace` moves the whole old directory aside and deletes nothing.
#[test]
fn replace_moves_the_old_directory_aside() {
    let tmp = tempdir();
    let out = small_result(tmp.path(), "res");
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let before = snapshot(&out);
    let o = success(crmo().current_dir(tmp.path()).args([
        "run",
        "s.toml",
        "--patients",
        "70",
        "-q",
        "--no-plots",
        "--out",
        "res",
        "--replace",
    ]));
    assert!(o.stderr.contains("moved to"), "{}", o.stderr);
    assert_complete_result(&out);
    assert!(!out.join("notes.txt").exists());
    let aside: Vec<String> = visible(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with("res.old-"))
        .collect();
    assert_eq!(aside.len(), 1, "{:?}", visible(tmp.path()));
    assert_eq!(snapshot(&tmp.path().join(&aside[0])), before);
    // A directory that is not a result at all is moved aside just the same.
    let docs = tmp.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("thesis.txt"), "months of work").unwrap();
    success(crmo().current_dir(tmp.path()).args([
        "run",
        "s.toml",
        "--patients",
        "30",
        "-q",
        "--no-plots",
        "--out",
        "docs",
        "--replace",
    ]));
    let kept: Vec<String> = visible(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with("docs.old-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        fs::read_to_string(tmp.path().join(&kept[0]).join("thesis.txt")).unwrap(),
        "months of work"
    );
}

/// Issue item 16: a dangling link and an empty mount point as `--out` are
/// refused before the run, not found after it.
#[test]
fn a_dangling_link_or_a_mount_point_is_refused_before_any_work() {
    let tmp = tempdir();
    fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.path().join("nowhere"), tmp.path().join("dangling"))
            .unwrap();
        let before = snapshot(tmp.path());
        let o = refused_within(tmp.path(), &run_args("dangling"), 10);
        assert!(o.stderr.contains("symbolic link"), "{}", o.stderr);
        assert!(o.stderr.contains("does not exist"), "{}", o.stderr);
        assert_eq!(snapshot(tmp.path()), before);

        // A link to an existing result is followed: the result is replaced,
        // the link stays.
        let real = small_result(tmp.path(), "real");
        std::os::unix::fs::symlink(&real, tmp.path().join("latest")).unwrap();
        success(crmo().current_dir(tmp.path()).args([
            "run",
            "s.toml",
            "--patients",
            "30",
            "-q",
            "--no-plots",
            "--out",
            "latest",
        ]));
        assert!(fs::symlink_metadata(tmp.path().join("latest"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(manifest(&files(&real))["patients"], 30);
    }
    let mount_point = tmp.path().join("mnt");
    fs::create_dir(&mount_point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "none"])
        .arg(&mount_point)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("mount point case skipped: mounting a tmpfs needs root");
        return;
    }
    let o = refused_within(tmp.path(), &run_args("mnt"), 10);
    let _ = std::process::Command::new("umount")
        .arg(&mount_point)
        .status();
    assert!(o.stderr.contains("mount point"), "{}", o.stderr);
    assert!(o.stderr.contains("mnt/results"), "{}", o.stderr);
}

/// Spawns `crmo-sim ARGS` in `dir` without waiting.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("crmo-sim"))
        .current_dir(dir)
        .args(args)
        .env_remove("RAYON_NUM_THREADS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("crmo-sim starts")
}

/// Waits until a staging directory exists in `dir` (the run has passed its
/// checks and is simulating).
fn wait_for_staging(dir: &Path, child: &mut Child) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(name) = all_entries(dir)
            .into_iter()
            .find(|n| n.starts_with(".crmo-sim-staging."))
        {
            return dir.join(name);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before staging"
        );
        assert!(Instant::now() < deadline, "no staging directory appeared");
        sleep(Duration::from_millis(2));
    }
}

/// Issue reproducer: a file created in `--out` during a run used to be
/// deleted when the result was moved into place. Now the target is left as
/// it is and the finished result is kept beside it.
#[test]
fn a_file_added_during_the_run_is_kept() {
    let tmp = tempdir();
    let out = small_result(tmp.path(), "res");
    let before = snapshot(&out);
    let mut child = spawn(
        tmp.path(),
        &[
            "run",
            "s.toml",
            "--patients",
            "400000",
            "-q",
            "--no-plots",
            "--out",
            "res",
        ],
    );
    wait_for_staging(tmp.path(), &mut child);
    fs::write(out.join("during.txt"), "written while the run was going").unwrap();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("during.txt"), "{stderr}");
    let mut now = snapshot(&out);
    assert!(now.remove(Path::new("during.txt")).is_some());
    assert_eq!(now, before, "the earlier result changed");
    let kept: Vec<String> = visible(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with("res.new-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", visible(tmp.path()));
    assert!(stderr.contains(&kept[0]), "{stderr}");
    assert_complete_result(&tmp.path().join(&kept[0]));
    assert_eq!(
        manifest(&files(&tmp.path().join(&kept[0])))["patients"],
        400000
    );
}

/// SIGTERM and SIGINT remove the unfinished result (and the lock file) and
/// leave the earlier result as it was.
#[cfg(unix)]
#[test]
fn an_interrupt_removes_the_unfinished_result() {
    let tmp = tempdir();
    let out = small_result(tmp.path(), "res");
    let before = snapshot(&out);
    use rustix::process::{kill_process, Pid, Signal};
    for signal in [Signal::TERM, Signal::INT] {
        let mut child = spawn(
            tmp.path(),
            &[
                "run",
                "s.toml",
                "--patients",
                "2000000",
                "-q",
                "--no-plots",
                "--out",
                "res",
            ],
        );
        let staging = wait_for_staging(tmp.path(), &mut child);
        let pid = Pid::from_raw(child.id() as i32).expect("a process id");
        kill_process(pid, signal).expect("signal sent");
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(130), "{signal:?}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(!staging.exists(), "{signal:?}: staging left");
        assert_eq!(snapshot(&out), before);
        assert_eq!(all_entries(tmp.path()), ["res", "s.toml"], "{signal:?}");
    }
}

/// Staging directories of killed runs are removed by the next run when their
/// process is gone; another host's only when over a day old.
#[test]
fn the_next_run_removes_only_abandoned_staging() {
    let tmp = tempdir();
    let out = small_result(tmp.path(), "res");
    let host = crmo_sim::output::staging::Marker::current().host;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let dead = format!(".crmo-sim-staging.{host}.99999999.{now}.abc");
    let other_host = format!(".crmo-sim-staging.elsewhere.12.{now}.def");
    let other_old = format!(".crmo-sim-staging.elsewhere.12.{}.ghi", now - 3 * 86_400);
    // Named like a dead run's staging directory but without the marker
    // crmo-sim puts in its own: a user's, kept with what it holds.
    let users = format!(".crmo-sim-staging.{host}.99999999.{now}.mine");
    for name in [&dead, &other_host, &other_old, &users] {
        fs::create_dir(tmp.path().join(name)).unwrap();
        fs::write(tmp.path().join(name).join("summary.csv"), "half").unwrap();
        if name != &users {
            fs::write(
                tmp.path().join(name).join(".crmo-sim-staging"),
                format!("{name}\n"),
            )
            .unwrap();
        }
    }
    let o = success(crmo().current_dir(tmp.path()).args([
        "run",
        "s.toml",
        "--patients",
        "30",
        "-q",
        "--no-plots",
        "--out",
        "res",
    ]));
    assert!(
        o.stderr.contains("interrupted crmo-sim run"),
        "{}",
        o.stderr
    );
    assert_complete_result(&out);
    assert_eq!(
        all_entries(tmp.path()),
        [other_host.as_str(), users.as_str(), "res", "s.toml"]
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join(&users).join("summary.csv")).unwrap(),
        "half"
    );
}

/// Several runs into one target at once: each ends cleanly (success, or the
/// lock's message), and the target holds one complete result.
#[test]
fn concurrent_runs_into_one_target_end_cleanly() {
    let tmp = tempdir();
    let out = small_result(tmp.path(), "res");
    for round in 0..3 {
        let children: Vec<Child> = (0..4)
            .map(|i| {
                let patients = (2000 + 1000 * i).to_string();
                spawn(
                    tmp.path(),
                    &[
                        "run",
                        "s.toml",
                        "--patients",
                        &patients,
                        "-q",
                        "--no-plots",
                        "--out",
                        "res",
                    ],
                )
            })
            .collect();
        let mut ok = 0;
        for child in children {
            let o = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            match o.status.code() {
                Some(0) => ok += 1,
                Some(2) => assert!(
                    stderr.contains("another crmo-sim run is writing to res"),
                    "{stderr}"
                ),
                other => panic!("round {round}: exit {other:?}: {stderr}"),
            }
        }
        assert!(ok >= 1, "round {round}: no run finished");
        assert_complete_result(&out);
        assert_eq!(all_entries(tmp.path()), ["res", "s.toml"], "round {round}");
    }
}

/// A tiny seeded generator (SplitMix64) for the kill times.
struct SplitMix(u64);

impl SplitMix {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The crash test: 20 runs killed with SIGKILL at random moments (from
/// start-up to past the end of a normal run, plots included). After each,
/// the target holds a whole result — the previous one byte for byte, or
/// the new one complete — and nothing half-written is visible; the next
/// normal run removes every leftover.
#[test]
fn runs_killed_at_random_moments_never_damage_the_result() {
    let tmp = tempdir();
    fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    let args = ["run", "s.toml", "--patients", "3000", "-q", "--out", "res"];
    success(crmo().current_dir(tmp.path()).args(args));
    // One more whole run, timed the way the killed ones are started.
    let started = Instant::now();
    assert!(spawn(tmp.path(), &args).wait().unwrap().success());
    let full_run = started.elapsed();
    let out = tmp.path().join("res");
    let first = snapshot(&out);
    let same_result = |a: &BTreeMap<PathBuf, Option<Vec<u8>>>,
                       b: &BTreeMap<PathBuf, Option<Vec<u8>>>| {
        a.keys().eq(b.keys())
            && a.iter()
                .filter(|(k, _)| k.as_path() != Path::new("manifest.json"))
                .all(|(k, v)| b[k] == *v)
    };
    let mut rng = SplitMix(20_261_125);
    let (mut kept, mut replaced, mut mid_run, mut empty_locks) = (0, 0, 0, 0);
    let mut previous = first.clone();
    for kill in 0..20 {
        let mut child = spawn(tmp.path(), &args);
        sleep(full_run.mul_f64(1.2 * rng.next_f64()));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // A kill between the lock file's creation and its text (tens of
        // microseconds at start-up) leaves it empty, which the next run
        // refuses to take as its own (an empty file of that name may be a
        // user's) and tells the user to remove: done here as they would.
        let lock = tmp.path().join(".res.crmo-sim-lock");
        if fs::metadata(&lock).is_ok_and(|m| m.len() == 0) {
            fs::remove_file(&lock).unwrap();
            empty_locks += 1;
        }
        let now = snapshot(&out);
        // This run's staging directory is named after its process id.
        let its_staging = format!(".{}.", child.id());
        if all_entries(tmp.path())
            .iter()
            .any(|n| n.starts_with(".crmo-sim-staging.") && n.contains(&its_staging))
        {
            mid_run += 1;
        }
        if now == previous {
            kept += 1;
        } else {
            // The kill came after the swap: the new result is whole, and
            // (same seed) equal to the previous one but for the manifest's
            // timing.
            assert!(same_result(&now, &first), "kill {kill}: a damaged result");
            assert_complete_result(&out);
            replaced += 1;
        }
        assert_eq!(
            visible(tmp.path()),
            ["res", "s.toml"],
            "kill {kill}: half a result is visible"
        );
        previous = now;
    }
    eprintln!(
        "20 kills ({full_run:?} per run): {kept} left the previous result, {replaced} found the new one in place, {mid_run} left a staging directory, {empty_locks} an empty lock file"
    );
    // The kill times cover the writing, not only the start-up.
    assert!(
        mid_run >= 5,
        "only {mid_run} kills landed while the result was being written"
    );
    success(crmo().current_dir(tmp.path()).args(args));
    assert_complete_result(&out);
    assert!(same_result(&snapshot(&out), &first));
    assert_eq!(
        all_entries(tmp.path()),
        ["res", "s.toml"],
        "leftovers not cleaned"
    );
}

/// Issue reproducer: a killed `course` used to leave a 0-byte PNG where a
/// good one was. Charts are drawn in a marked staging directory and swapped
/// in; the next chart removes the staging directories of killed ones.
#[test]
fn a_killed_chart_never_replaces_a_good_one() {
    let tmp = tempdir();
    fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    // The largest chart: encoding it takes long enough that random kills
    // land while the file is being written (with in-place writing, about
    // half of them left a cut or empty image).
    let args = [
        "course",
        "s.toml",
        "--patient",
        "2",
        "--width",
        "8000",
        "--height",
        "8000",
        "--out",
        "chart.png",
    ];
    let started = Instant::now();
    success(crmo().current_dir(tmp.path()).args(args));
    let full_run = started.elapsed();
    let good = fs::read(tmp.path().join("chart.png")).unwrap();
    assert!(good.starts_with(b"\x89PNG"));
    let mut rng = SplitMix(6);
    for kill in 0..10 {
        let mut child = spawn(tmp.path(), &args);
        sleep(full_run.mul_f64(0.2 + 0.9 * rng.next_f64()));
        let _ = child.kill();
        let _ = child.wait();
        let now = fs::read(tmp.path().join("chart.png")).unwrap();
        assert!(
            now == good,
            "kill {kill}: chart.png is {} bytes, not the {} of the good chart",
            now.len(),
            good.len()
        );
    }
    // The next chart removes the temporary files of the killed ones.
    success(crmo().current_dir(tmp.path()).args(args));
    assert!(fs::read(tmp.path().join("chart.png")).unwrap() == good);
    assert_eq!(all_entries(tmp.path()), ["chart.png", "s.toml"]);
}

/// Issue 20: an edit made to a result file after the run's final check of
/// the target, just before the swap, is never lost: the old result is moved
/// aside whole and its files are deleted only when they still hold what
/// crmo-sim wrote, so the edited file is found in `<out>.old-<time>` (with
/// the old manifest) and the run says where.
#[test]
fn an_edit_made_just_before_the_swap_is_kept() {
    let tmp = tempdir();
    let out = small_result(tmp.path(), "res");
    let pause = tmp.path().join("paused-before-swap");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("crmo-sim"))
        .current_dir(tmp.path())
        .args(["run", "s.toml", "--patients", "80", "-q", "--no-plots"])
        .args(["--out", "res"])
        .env(crmo_sim::output::outdir::PAUSE_BEFORE_SWAP_ENV, &pause)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pause.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(Instant::now() < deadline, "the run never reached the swap");
        sleep(Duration::from_millis(5));
    }
    let mut km = fs::read(out.join("km.csv")).unwrap();
    km.extend_from_slice(b"my note on the curves\n");
    fs::write(out.join("km.csv"), &km).unwrap();
    fs::remove_file(&pause).unwrap();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_complete_result(&out);
    let kept: Vec<String> = visible(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with("res.old-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}: {stderr}", all_entries(tmp.path()));
    assert!(stderr.contains(&kept[0]), "{stderr}");
    let aside = tmp.path().join(&kept[0]);
    assert_eq!(
        fs::read(aside.join("km.csv")).unwrap(),
        km,
        "the edit was lost"
    );
    // Only the edited file and the manifest saying what crmo-sim wrote stay.
    assert_eq!(all_entries(&aside), ["km.csv", "manifest.json"]);
    assert_eq!(all_entries(tmp.path()), ["res", kept[0].as_str(), "s.toml"]);
}

/// Without an edit, the same pause leaves nothing beside the new result:
/// the seam itself keeps nothing.
#[test]
fn an_unedited_swap_leaves_nothing_aside() {
    let tmp = tempdir();
    small_result(tmp.path(), "res");
    let pause = tmp.path().join("paused-before-swap");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("crmo-sim"))
        .current_dir(tmp.path())
        .args(["run", "s.toml", "--patients", "80", "-q", "--no-plots"])
        .args(["--out", "res"])
        .env(crmo_sim::output::outdir::PAUSE_BEFORE_SWAP_ENV, &pause)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pause.exists() {
        assert!(Instant::now() < deadline, "the run never reached the swap");
        sleep(Duration::from_millis(5));
    }
    fs::remove_file(&pause).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(all_entries(tmp.path()), ["res", "s.toml"]);
}

/// Issue 20: a user's file named like the target's lock file is neither
/// taken for the lock nor deleted, and a link of that name is never
/// followed (a dangling one used to make crmo-sim create the file it points
/// to). Exit 2, nothing changed.
#[cfg(unix)]
#[test]
fn a_file_or_link_named_like_the_lock_is_left_alone() {
    let tmp = tempdir();
    fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    let lock = tmp.path().join(".res.crmo-sim-lock");
    let args = [
        "run",
        "s.toml",
        "--patients",
        "30",
        "-q",
        "--no-plots",
        "--out",
        "res",
    ];
    for (what, make) in [
        (
            "a user's file",
            Box::new(|p: &Path| fs::write(p, "my notes").unwrap()) as Box<dyn Fn(&Path)>,
        ),
        (
            "an empty file",
            Box::new(|p: &Path| fs::write(p, "").unwrap()),
        ),
        (
            "a dangling link",
            Box::new(|p: &Path| std::os::unix::fs::symlink("elsewhere/made.txt", p).unwrap()),
        ),
        (
            "a link to a user's file",
            Box::new(|p: &Path| {
                fs::write(p.with_file_name("notes.txt"), "mine").unwrap();
                std::os::unix::fs::symlink("notes.txt", p).unwrap()
            }),
        ),
    ] {
        make(&lock);
        let before = snapshot(tmp.path());
        let o = refused_within(tmp.path(), &args, 30);
        assert!(
            o.stderr.contains("named like the lock file"),
            "{what}: {}",
            o.stderr
        );
        assert_eq!(snapshot(tmp.path()), before, "{what}");
        assert!(!tmp.path().join("elsewhere").exists(), "{what}");
        fs::remove_file(&lock).unwrap();
        let _ = fs::remove_file(tmp.path().join("notes.txt"));
    }
    // A lock file left by a killed run is crmo-sim's own: taken, then removed.
    success(crmo().current_dir(tmp.path()).args(args));
    assert_eq!(all_entries(tmp.path()), ["res", "s.toml"]);
}

/// Issue 20: `--out lnk/../res2` means what the shell means: `res2` beside
/// the directory `lnk` points to, not beside `lnk` (the path used to be
/// shortened as text, which replaced another result).
#[cfg(unix)]
#[test]
fn out_paths_resolve_through_links_as_the_kernel_does() {
    let tmp = tempdir();
    let other = small_result(tmp.path(), "res2");
    let other_before = snapshot(&other);
    fs::create_dir_all(tmp.path().join("deep/inner")).unwrap();
    std::os::unix::fs::symlink("deep/inner", tmp.path().join("lnk")).unwrap();
    success(crmo().current_dir(tmp.path()).args([
        "run",
        "s.toml",
        "--patients",
        "30",
        "-q",
        "--no-plots",
        "--out",
        "lnk/../res2",
    ]));
    assert_complete_result(&tmp.path().join("deep/res2"));
    assert_eq!(
        snapshot(&other),
        other_before,
        "the wrong result was replaced"
    );
}

/// The arguments of `course` (patient 1) or `gallery` (2 panels) of `s.toml`
/// in a small size, then `extra`.
fn chart_args<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command, "s.toml", "--width", "600"];
    if command == "course" {
        args.extend(["--patient", "1", "--height", "400"]);
    } else {
        args.extend(["--count", "2"]);
    }
    args.extend(extra);
    args
}

/// Issue 20: `course` and `gallery` obey the output-directory rule. A
/// user's file at `--out` or at the default `output/charts/<scenario>/`
/// path, or a link at `--out`, is refused with exit 2 and left as it was;
/// `--replace` moves a user's file aside to `<file>.old-<time>`; a chart
/// crmo-sim wrote is replaced without a trace, and one a user changed since
/// is not.
#[cfg(unix)]
#[test]
fn charts_never_replace_a_users_file() {
    let tmp = tempdir();
    fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    fs::write(tmp.path().join("target.txt"), "linked").unwrap();
    for (command, default) in [
        ("course", "output/charts/s/course-1.png"),
        ("gallery", "output/charts/s/gallery.png"),
    ] {
        for out in ["my-notes.png", "fig.svg", default] {
            let mut extra = vec![];
            if out != default {
                extra.extend(["--out", out]);
            }
            let path = tmp.path().join(out);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            // A user's file.
            fs::write(&path, "my own figure").unwrap();
            let before = snapshot(tmp.path());
            let o = refused_within(tmp.path(), &chart_args(command, &extra), 60);
            assert!(
                o.stderr.contains("not a chart crmo-sim wrote"),
                "{}",
                o.stderr
            );
            assert_eq!(snapshot(tmp.path()), before, "{command} {out}");
            // A link, to a file or dangling, even with --replace.
            fs::remove_file(&path).unwrap();
            for to in [
                tmp.path().join("target.txt"),
                tmp.path().join("nowhere.png"),
            ] {
                std::os::unix::fs::symlink(&to, &path).unwrap();
                let before = snapshot(tmp.path());
                for replace in [&[][..], &["--replace"][..]] {
                    let args = chart_args(command, &[&extra[..], replace].concat());
                    let o = refused_within(tmp.path(), &args, 60);
                    assert!(o.stderr.contains("symbolic link"), "{}", o.stderr);
                    assert_eq!(snapshot(tmp.path()), before, "{command} {out} link");
                }
                fs::remove_file(&path).unwrap();
            }
            // --replace moves a user's file aside, whole.
            fs::write(&path, "my own figure").unwrap();
            let o = success(
                crmo()
                    .current_dir(tmp.path())
                    .args(chart_args(command, &[&extra[..], &["--replace"]].concat())),
            );
            let dir = path.parent().unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let aside: Vec<String> = all_entries(dir)
                .into_iter()
                .filter(|n| n.starts_with(&format!("{name}.old-")))
                .collect();
            assert_eq!(aside.len(), 1, "{:?}", all_entries(dir));
            assert!(o.stderr.contains(&aside[0]), "{}", o.stderr);
            assert_eq!(
                fs::read_to_string(dir.join(&aside[0])).unwrap(),
                "my own figure"
            );
            fs::remove_file(dir.join(&aside[0])).unwrap();
            // A chart crmo-sim wrote is replaced, and nothing is left beside it.
            let before = all_entries(dir);
            success(
                crmo()
                    .current_dir(tmp.path())
                    .args(chart_args(command, &extra)),
            );
            assert_eq!(all_entries(dir), before, "{command} {out}");
            // ... but not once a user has changed it.
            let mut edited = fs::read(&path).unwrap();
            edited.extend_from_slice(b"\n");
            fs::write(&path, &edited).unwrap();
            refused_within(tmp.path(), &chart_args(command, &extra), 60);
            assert_eq!(fs::read(&path).unwrap(), edited);
            fs::remove_file(&path).unwrap();
        }
    }
    assert!(fs::read_to_string(tmp.path().join("target.txt")).unwrap() == "linked");
    assert!(!tmp.path().join("nowhere.png").exists());
}

/// A run killed (SIGKILL) at the last moment before the swap, when its
/// finished result is no longer marked as staging, leaves the previous
/// result whole; the next run removes the killed run's finished result
/// (every file as crmo-sim wrote it) and leaves nothing else behind.
#[cfg(unix)]
#[test]
fn a_run_killed_just_before_the_swap_leaves_the_old_result_and_no_trace() {
    let tmp = tempdir();
    let out = small_result(tmp.path(), "res");
    let before = snapshot(&out);
    let pause = tmp.path().join("paused-before-swap");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("crmo-sim"))
        .current_dir(tmp.path())
        .args(["run", "s.toml", "--patients", "80", "-q", "--no-plots"])
        .args(["--out", "res"])
        .env(crmo_sim::output::outdir::PAUSE_BEFORE_SWAP_ENV, &pause)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pause.exists() {
        assert!(Instant::now() < deadline, "the run never reached the swap");
        sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    fs::remove_file(&pause).unwrap();
    assert_eq!(snapshot(&out), before, "the previous result changed");
    let left: Vec<String> = all_entries(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with(".crmo-sim-staging."))
        .collect();
    assert_eq!(left.len(), 1, "{:?}", all_entries(tmp.path()));
    assert_complete_result(&tmp.path().join(&left[0]));
    let o = success(crmo().current_dir(tmp.path()).args([
        "run",
        "s.toml",
        "--patients",
        "30",
        "-q",
        "--no-plots",
        "--out",
        "res",
    ]));
    assert!(o.stderr.contains(&left[0]), "{}", o.stderr);
    assert_complete_result(&out);
    assert_eq!(all_entries(tmp.path()), ["res", "s.toml"]);
}

/// `owsa` writes a manifest like every other result directory, so a second
/// `owsa` into the same directory replaces the first instead of refusing
/// it as foreign.
#[test]
fn owsa_can_write_its_directory_again() {
    let tmp = tempdir();
    let scenario = crate::util::root().join("scenarios/cost-effectiveness.toml");
    let out = tmp.path().join("owsa");
    for _ in 0..2 {
        success(
            crmo()
                .arg("owsa")
                .arg(&scenario)
                .args(["--patients", "60", "--no-plots", "-q", "--out"])
                .arg(&out),
        );
    }
    let f = files(&out);
    assert_eq!(f.keys().collect::<Vec<_>>(), ["manifest.json", "owsa.csv"]);
    assert_eq!(manifest(&f)["patients"], 60);
}
