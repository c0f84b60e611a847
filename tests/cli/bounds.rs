//! Input bounds: every value `check` accepts runs to completion in bounded
//! time and memory, or is refused up front (exit 2, file, line, column and
//! the allowed range). One test per reproducer of the input-bounds work;
//! every command runs under the harness timeout ([`crate::util::TIMEOUT`]),
//! and refusals leave the directory they ran in unchanged.

use std::fs;
use std::path::Path;

use crate::errors::{assert_refused, assert_refused_untouched};
use crate::util::{crmo, output, snapshot, success, tempdir, write_scenario, Output};

/// Writes `text` as `name.toml` into a fresh directory and asserts that
/// `run` and `check` refuse it with `expect`, changing nothing.
fn refused(name: &str, text: &str, expect: &[&str]) {
    let tmp = tempdir();
    let file = format!("{name}.toml");
    write_scenario(tmp.path(), &file, text);
    let mut all = vec![file.as_str()];
    all.extend(expect);
    assert_refused_untouched(tmp.path(), &file, &all);
}

/// Runs `args` in `dir` and asserts success; nothing outside `out*/` may change.
fn runs_in(dir: &Path, args: &[&str]) -> Output {
    let outside = || {
        let mut m = snapshot(dir);
        m.retain(|p, _| !p.to_string_lossy().starts_with("out"));
        m
    };
    let before = outside();
    let o = success(crmo().current_dir(dir).args(args));
    let after = outside();
    let changed: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(changed.is_empty(), "{args:?} changed {changed:?}");
    o
}

/// Writes `text` and asserts that `run` completes (exit 0, no panic).
fn accepted_and_runs(text: &str) -> Output {
    let tmp = tempdir();
    write_scenario(tmp.path(), "s.toml", text);
    success(crmo().current_dir(tmp.path()).args(["check", "s.toml"]));
    runs_in(
        tmp.path(),
        &["run", "s.toml", "--out", "out", "-q", "--no-plots"],
    )
}

// Item 7: gamma panics.

#[test]
fn a_subnormal_frailty_variance_runs() {
    accepted_and_runs("patients = 200\n[natural_history]\nfrailty_variance = 1e-320\n");
}

#[test]
fn gamma_shapes_that_underflow_are_refused() {
    refused(
        "tiny_shape",
        "[natural_history]\nflare_duration_shape = { dist = \"gamma\", mean = 1, shape = 0.001 }\n",
        &[
            "line 2, column 24",
            "`shape` = 0.001 is not allowed",
            "from 0.01 to",
        ],
    );
    refused(
        "tiny_mean_huge_shape",
        "[natural_history]\nlesion_lytic_months = 1e-300\nlesion_stage_shape = 1e300\n",
        &[
            "line 2, column 23",
            "1e-300 is not allowed",
            "from 0.1 to 1200",
        ],
    );
    refused(
        "huge_stage_shape",
        "[natural_history]\nlesion_stage_shape = 1e300\n",
        &[
            "line 2, column 22",
            "1e300 is not allowed",
            "a shape from 0.01 to 1000",
        ],
    );
}

// Item 8: non-UTF-8 arguments.

#[cfg(unix)]
#[test]
fn non_utf8_paths_run_and_calibrate() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempdir();
    let name = OsStr::from_bytes(b"sc\xff\xfe.toml");
    fs::write(tmp.path().join(name), "patients = 50\n").unwrap();
    for cmd in ["run", "calibrate"] {
        let o = output(crmo().current_dir(tmp.path()).arg(cmd).arg(name).args([
            "--out",
            "out",
            "-q",
            "--no-plots",
        ]));
        assert_eq!(o.code, Some(0), "{cmd}: {o:#?}");
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    }
    // A non-UTF-8 value where text is needed is a clean usage error.
    let o = output(
        crmo()
            .current_dir(tmp.path())
            .args(["course"])
            .arg(name)
            .args(["--patient", "0", "--arm"])
            .arg(OsStr::from_bytes(b"\xff")),
    );
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(o.stderr.contains("invalid UTF-8"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

// Item 9: endless loops.

#[test]
fn negative_zero_is_zero() {
    accepted_and_runs(
        "patients = 200\n[drugs.nsaid]\nflare_hazard_ratio = -0.0\nlesion_factor = -0.0\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n",
    );
    accepted_and_runs(
        "patients = 200\n[drugs.nsaid]\nflare_hazard_ratio = { dist = \"uniform\", min = -0.0, max = 0.0000001 }\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n",
    );
}

#[test]
fn periods_too_short_to_finish_are_refused() {
    refused(
        "imaging_every_1e-320",
        "[imaging]\nfollow_up_every_months = 1e-320\n",
        &[
            "line 2, column 26",
            "1e-320 is not allowed",
            "from 0.25 (weekly) to 1200",
        ],
    );
    refused(
        "imaging_every_1e-6",
        "[imaging]\nfollow_up_every_months = 1e-6\n",
        &[
            "line 2, column 26",
            "1e-6 is not allowed",
            "from 0.25 (weekly)",
        ],
    );
    refused(
        "assess_every_1e-320",
        "[[arm]]\nname = \"a\"\nladder = [\"nsaid\", \"pamidronate\"]\nassess_every_weeks = 1e-320\n",
        &["line 4, column 22", "1e-320 weeks is not allowed", "from 1 (weekly) to 5200"],
    );
    refused(
        "shape_1e-320",
        "[natural_history]\nflare_duration_shape = 1e-320\n",
        &[
            "line 2, column 24",
            "1e-320 is not allowed",
            "a shape from 0.01",
        ],
    );
}

#[test]
fn lesion_counts_beyond_the_model_are_refused() {
    refused(
        "new_lesions_1e4",
        "[natural_history]\nnew_lesions_per_flare = 1e4\n",
        &["line 2, column 25", "10000 is not allowed", "from 0 to 10"],
    );
    refused(
        "initial_lesions_1e6",
        "[natural_history]\ninitial_extra_lesions_mean = 1e6\n",
        &[
            "line 2, column 30",
            "1000000 is not allowed",
            "from 0 to 50",
        ],
    );
}

// Item 10: single values that allocate gigabytes.

#[test]
fn values_that_would_allocate_gigabytes_are_refused() {
    refused(
        "initial_lesions_1e9",
        "[natural_history]\ninitial_extra_lesions_mean = 1e9\n",
        &[
            "line 2, column 30",
            "1000000000 is not allowed",
            "from 0 to 50",
        ],
    );
    refused(
        "courses_every_1e-6",
        "[drugs.pamidronate]\ncourse_every_weeks = 1e-6\nmax_courses = 1e308\n[[arm]]\nname = \"a\"\nladder = [\"pamidronate\"]\n",
        &["line 2, column 22", "1e-6 is not allowed", "from 1 to 520"],
    );
    refused(
        "courses_1e308",
        "[drugs.pamidronate]\nmax_courses = 1e308\n[[arm]]\nname = \"a\"\nladder = [\"pamidronate\"]\n",
        &["line 2, column 15", "1e308 is not allowed", "from 0 (no limit) to 5200"],
    );
}

/// A patient who would exceed a per-patient cap stops the run with exit 2,
/// naming the patient and the parameters; nothing is silently truncated.
#[test]
fn a_patient_beyond_the_lesion_cap_stops_the_run() {
    let tmp = tempdir();
    write_scenario(
        tmp.path(),
        "many.toml",
        "patients = 20\nhorizon_years = 100\n[natural_history]\nflare_rate_per_year = 52\nnew_lesions_per_flare = 10\nresolution_median_years = inf\nflare_duration_mean_weeks = 1\n",
    );
    success(crmo().current_dir(tmp.path()).args(["check", "many.toml"]));
    let o = output(crmo().current_dir(tmp.path()).args([
        "run",
        "many.toml",
        "--out",
        "out",
        "-q",
        "--no-plots",
    ]));
    assert_refused(
        &o,
        "run",
        &[
            "many.toml",
            "of replicate 0 (arm `natural_history`)",
            "more than 5000 lesions",
            "new_lesions_per_flare",
            "[natural_history.majeed]",
            "resolution_median_years",
            "`lesion_factor`",
            "`flare_hazard_ratio`",
            "`horizon_years`",
        ],
    );
    assert!(!tmp.path().join("out").exists(), "no result on failure");
}

#[test]
fn a_patient_beyond_the_event_cap_stops_the_run() {
    let tmp = tempdir();
    // 200 000 events need a frailty of about 20 (weekly flares for 100
    // years, a start and an end each): about 6 patients in 1000 have it
    // (gamma, variance 10), and without loss to follow-up they stay.
    write_scenario(
        tmp.path(),
        "busy.toml",
        "patients = 1000\nhorizon_years = 100\n[natural_history]\nflare_rate_per_year = 52\nnew_lesions_per_flare = 0\nfrailty_variance = 10\nresolution_median_years = inf\nflare_duration_mean_weeks = 0.001\ninitial_extra_lesions_mean = 0\nloss_to_follow_up_per_year = 0\n",
    );
    success(crmo().current_dir(tmp.path()).args(["check", "busy.toml"]));
    let o = output(crmo().current_dir(tmp.path()).args([
        "run",
        "busy.toml",
        "--out",
        "out",
        "-q",
        "--no-plots",
    ]));
    assert_refused(
        &o,
        "run",
        &[
            "busy.toml",
            "of replicate 0",
            "more than 200000 events",
            "flare_rate_per_year",
        ],
    );
}

// Item 11: files that are not regular, or too large.

#[cfg(unix)]
#[test]
fn devices_fifos_and_huge_files_are_refused_before_reading() {
    let o = output(crmo().args(["check", "/dev/zero"]));
    assert_refused(
        &o,
        "/dev/zero",
        &["/dev/zero is a device", "not a regular file"],
    );

    let tmp = tempdir();
    let fifo = tmp.path().join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        // (Not `assert_refused_untouched`: its snapshot would read the FIFO.)
        for cmd in ["check", "run"] {
            let o = output(crmo().current_dir(tmp.path()).args([cmd, "pipe.toml"]));
            assert_refused(&o, cmd, &["pipe.toml is a named pipe (FIFO)"]);
        }
        assert!(!tmp.path().join("output").exists());
    }

    let big = format!("seed = 1\n# {}\n", "x".repeat(1 << 20));
    refused("big", &big, &["larger than 1048576 bytes"]);
}

// Item 12: size without limit.

#[test]
fn too_many_arms_drugs_or_replicates_are_refused() {
    let arms: String = (0..17)
        .map(|i| format!("[[arm]]\nname = \"a{i}\"\nuntreated = true\n"))
        .collect();
    refused("arms", &arms, &["line 50, column 8", "at most 16 arms"]);
    let drugs: String = (0..65)
        .map(|i| format!("[drugs.d{i}]\np_response = 0.5\n"))
        .collect();
    refused("drugs", &drugs, &["at most 64 are allowed"]);
    let used: String = (0..17)
        .map(|i| format!("[drugs.d{i}]\np_response = 0.5\n"))
        .collect::<String>()
        + "[[arm]]\nname = \"a\"\nladder = ["
        + &(0..17)
            .map(|i| format!("\"d{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
        + "]\n";
    refused("used", &used, &["more than 16 different drugs"]);
    refused(
        "combined",
        "[[arm]]\nname = \"a\"\nladder = [\"nsaid+methotrexate+pamidronate+tnf_inhibitor+il1_blocker\"]\n",
        &["line 3, column 11", "combines 5 drugs", "at most 4"],
    );
    refused(
        "replicates",
        "patients = 100\nreplicates = 100000\n",
        &["line 2, column 1", "at most 200000", "lower `replicates`"],
    );
    refused(
        "unknown_array",
        &format!("zzz = [{}]\n", vec!["1"; 600_000].join(",")),
        &["larger than 1048576 bytes"],
    );
}

#[test]
fn a_command_line_cohort_beyond_the_run_size_is_refused() {
    let tmp = tempdir();
    write_scenario(tmp.path(), "s.toml", "replicates = 200\n");
    let before = snapshot(tmp.path());
    let o = output(crmo().current_dir(tmp.path()).args([
        "run",
        "s.toml",
        "--patients",
        "10000000",
        "-q",
    ]));
    assert_refused(
        &o,
        "--patients",
        &["s.toml", "patient courses", "at most 1000000000"],
    );
    assert_eq!(snapshot(tmp.path()), before);
}

// Item 13: threads.

#[test]
fn rayon_num_threads_is_checked_like_threads() {
    let tmp = tempdir();
    write_scenario(tmp.path(), "s.toml", "patients = 50\n");
    let before = snapshot(tmp.path());
    for bad in ["100000", "0", "many", ""] {
        let o = output(
            crmo()
                .current_dir(tmp.path())
                .env("RAYON_NUM_THREADS", bad)
                .args(["run", "s.toml", "--out", "out", "-q", "--no-plots"]),
        );
        assert_refused(
            &o,
            &format!("RAYON_NUM_THREADS={bad}"),
            &["RAYON_NUM_THREADS", "from 1 to 1024"],
        );
        assert_eq!(snapshot(tmp.path()), before);
    }
    let o = success(
        crmo()
            .current_dir(tmp.path())
            .env("RAYON_NUM_THREADS", "3")
            .args(["run", "s.toml", "--out", "out", "-q", "--no-plots"]),
    );
    assert!(o.stderr.is_empty(), "{}", o.stderr);
    let manifest = crate::util::manifest(&crate::util::files(&tmp.path().join("out")));
    assert_eq!(manifest["threads"], 3);
}

/// A pool that cannot be started is a clean error, not a panic. Every
/// worker asks for a 1 TiB stack (`RUST_MIN_STACK`) under a 600 MB address
/// space limit, so the first worker already fails: deterministic, where a
/// limit that only some workers hit could abort inside the C library of a
/// worker that did start.
#[cfg(target_os = "linux")]
#[test]
fn thread_spawn_failure_is_an_error_not_a_panic() {
    let tmp = tempdir();
    write_scenario(tmp.path(), "s.toml", "patients = 50\n");
    let bin = assert_cmd::cargo::cargo_bin("crmo-sim");
    let o = output(
        assert_cmd::Command::new("sh")
            .current_dir(tmp.path())
            .timeout(crate::util::TIMEOUT)
            .env_remove("RAYON_NUM_THREADS")
            .env("RUST_MIN_STACK", (1u64 << 40).to_string())
            .arg("-c")
            .arg(format!(
                "ulimit -v 600000 && exec '{}' run s.toml --threads 4 --out out -q --no-plots",
                bin.display()
            )),
    );
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(!tmp.path().join("out").exists(), "no output on failure");
    assert!(o.stderr.contains("cannot start 4 threads"), "{}", o.stderr);
}

// Item 14: the step counter.

#[test]
fn long_ladders_count_every_step() {
    // A drug without effect, so every patient's first flare outlasts the ladder.
    let ladder = |n: usize| vec!["\"placebo\""; n].join(", ");
    let text = |n: usize| {
        format!(
            "patients = 30\n[natural_history]\nfirst_flare_duration_mean_weeks = 520\nfirst_flare_duration_shape = 100\nflare_duration_mean_weeks = 520\nflare_duration_shape = 100\nresolution_median_years = inf\nloss_to_follow_up_per_year = 0\n[drugs.placebo]\np_response = 0\n[[arm]]\nname = \"long\"\nladder = [{}]\nassess_every_weeks = 1\nmin_weeks_on_step = 0\n",
            ladder(n)
        )
    };
    refused(
        "steps_65",
        &text(65),
        &["line 13, column", "65 steps", "at most 64"],
    );
    let tmp = tempdir();
    write_scenario(tmp.path(), "s.toml", text(64));
    runs_in(
        tmp.path(),
        &["run", "s.toml", "--out", "out", "-q", "--no-plots"],
    );
    let summary = fs::read_to_string(tmp.path().join("out/summary.csv")).unwrap();
    let row = summary
        .lines()
        .find(|l| l.contains("reached_step_64_frac"))
        .expect("a reached_step_64_frac row");
    let mean: f64 = row.split(',').nth(2).unwrap().parse().unwrap();
    assert!(
        mean > 0.5,
        "patients in a ten-year flare escalate weekly: {row}"
    );
}

// Items 15 and 17: names and messages.

#[test]
fn names_that_break_csv_or_paths_are_refused() {
    refused(
        "comma_drug",
        "[drugs.\"a,b\"]\np_response = 0.5\n",
        &[
            "line 1, column 8",
            "drug name \"a,b\"",
            "character 2 (',')",
            "letters, digits",
        ],
    );
    refused(
        "dot_drug",
        "[drugs.\".x\"]\np_response = 0.5\n",
        &["line 1, column 8", "must not start with '.'"],
    );
    refused(
        "quote_arm",
        "[[arm]]\nname = \"a\\\"b\"\nuntreated = true\n",
        &["line 2, column 8", "arm name", "character 2"],
    );
    refused(
        "dot_name",
        "name = \".hidden\"\n",
        &["line 1, column 8", "must not start with '.'", "hidden file"],
    );
}

#[test]
fn huge_names_and_tiny_numbers_give_short_readable_messages() {
    let tmp = tempdir();
    let huge = format!("name = \"{}\"\n", "y".repeat(500_000));
    write_scenario(tmp.path(), "huge.toml", &huge);
    let o = output(crmo().current_dir(tmp.path()).args(["check", "huge.toml"]));
    assert_refused(
        &o,
        "huge name",
        &["line 1, column 8", "500000 characters", "at most 100"],
    );
    assert!(o.stderr.len() < 2_000, "{} bytes", o.stderr.len());

    write_scenario(
        tmp.path(),
        "tiny.toml",
        "[natural_history]\nflare_duration_mean_weeks = 1e-320\n",
    );
    let o = output(crmo().current_dir(tmp.path()).args(["check", "tiny.toml"]));
    assert_refused(&o, "tiny number", &["1e-320 is not allowed"]);
    assert!(o.stderr.len() < 400, "{}", o.stderr);
}

#[test]
fn seeds_have_one_range_in_the_file_and_on_the_command_line() {
    let tmp = tempdir();
    write_scenario(
        tmp.path(),
        "max.toml",
        "seed = 9223372036854775807\npatients = 20\n",
    );
    success(crmo().current_dir(tmp.path()).args(["check", "max.toml"]));
    runs_in(
        tmp.path(),
        &[
            "run",
            "max.toml",
            "--seed",
            "9223372036854775807",
            "--out",
            "out",
            "-q",
            "--no-plots",
        ],
    );
    let o = output(crmo().current_dir(tmp.path()).args([
        "run",
        "max.toml",
        "--seed",
        "9223372036854775808",
        "-q",
    ]));
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(o.stderr.contains("0..=9223372036854775807"), "{}", o.stderr);
    refused(
        "seed_2_63",
        "seed = 9223372036854775808\n",
        &["line 1, column 8", "0 to 9223372036854775807"],
    );
}

// Item 18: calibration targets that do not apply.

#[test]
fn calibrate_says_which_targets_do_not_apply() {
    let tmp = tempdir();
    write_scenario(
        tmp.path(),
        "majeed.toml",
        "patients = 300\n[cohort]\nmajeed_frac = 1.0\n",
    );
    let o = runs_in(
        tmp.path(),
        &["calibrate", "majeed.toml", "--out", "out", "--no-plots"],
    );
    assert!(o.stdout.contains("C1: does not apply"), "{}", o.stdout);
    assert!(o.stdout.contains("sporadic CRMO"), "{}", o.stdout);
    assert!(
        !o.stdout.contains(" yes "),
        "no target is inside: {}",
        o.stdout
    );
    let csv = fs::read_to_string(tmp.path().join("out/calibration.csv")).unwrap();
    // C1-C12 and the mimic targets C16-C17.
    let n_targets =
        crmo_sim::calibrate::TARGETS.len() + crmo_sim::calibrate::mimics::MIMIC_TARGETS.len();
    assert_eq!(
        csv.lines().filter(|l| l.ends_with(",n/a")).count(),
        n_targets,
        "{csv}"
    );

    write_scenario(
        tmp.path(),
        "no_nsaid.toml",
        "patients = 300\n[[arm]]\nname = \"p\"\nladder = [\"pamidronate\"]\n",
    );
    let o = runs_in(
        tmp.path(),
        &["calibrate", "no_nsaid.toml", "--out", "out2", "--no-plots"],
    );
    assert!(o.stdout.contains("C1: does not apply"), "{}", o.stdout);
    assert!(!o.stdout.contains("C3: does not apply"), "{}", o.stdout);
    assert!(!o.stdout.contains("NaN"), "{}", o.stdout);
}

/// A simulated value that is not a number is never "inside".
#[test]
fn nan_is_never_inside() {
    use crmo_sim::calibrate::{CalibrationRow, TARGETS};
    let row = CalibrationRow {
        target: TARGETS[0].clone(),
        simulated: f64::NAN,
        mcse: f64::NAN,
        not_applicable: None,
    };
    assert!(!row.inside());
}
