//! The command line itself: the mode of every file written, the global `-q`,
//! shell completions and the manual page, "did you mean" for a misspelt
//! scenario field, and what `--help` and a missing `--patient` say.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::util::{crmo, output, success, tempdir, write_scenario};

/// Every regular file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).expect("read directory") {
        let path = entry.expect("directory entry").path();
        let kind = fs::symlink_metadata(&path).expect("stat").file_type();
        if kind.is_dir() {
            found.extend(files_under(&path));
        } else if kind.is_file() {
            found.push(path);
        }
    }
    found
}

/// Runs crmo-sim with `args` in `cwd` under umask 0022 (through `sh`, as
/// the test process's own umask is not the test's to change).
#[cfg(unix)]
fn under_umask_0022(cwd: &Path, args: &[&str]) {
    let bin = assert_cmd::cargo::cargo_bin("crmo-sim");
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.arg("-c")
        .arg("umask 0022 && exec \"$@\"")
        .arg("sh")
        .arg(bin)
        .args(args)
        .current_dir(cwd)
        .env_remove("RAYON_NUM_THREADS")
        .timeout(crate::util::TIMEOUT);
    success(&mut cmd);
}

#[cfg(unix)]
#[test]
fn every_file_of_run_course_and_gallery_is_0644_under_umask_0022() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempdir();
    let cwd = tmp.path();
    under_umask_0022(cwd, &["run", "--patients", "200", "--out", "run", "-q"]);
    under_umask_0022(cwd, &["course", "--patient", "3", "--out", "course.png"]);
    under_umask_0022(cwd, &["course", "--patient", "3", "--out", "course.svg"]);
    // The default place, output/charts/<scenario>/, as a user gets it.
    under_umask_0022(cwd, &["gallery", "--count", "2"]);
    under_umask_0022(cwd, &["gallery", "--count", "2", "--out", "gallery.svg"]);
    let files = files_under(cwd);
    let charts = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "svg"))
        .count();
    assert!(charts >= 8, "too few charts written: {files:?}");
    for path in &files {
        let mode = fs::metadata(path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{} has mode {mode:o}", path.display());
    }
}

#[test]
fn global_quiet_silences_course_gallery_check_and_calibrate() {
    let tmp = tempdir();
    let out = |name: &str| tmp.path().join(name).to_string_lossy().into_owned();
    let (course, gallery, cal) = (out("c.png"), out("g.png"), out("cal"));
    // Without -q each of these prints something, so an empty stdout below
    // is -q's doing.
    let loud = success(crmo().args(["course", "--patient", "1", "--out", &course, "--replace"]));
    assert!(loud.stdout.contains("c.png"), "{loud:?}");
    let cases: [Vec<&str>; 5] = [
        vec!["course", "--patient", "1", "--out", &course, "-q"],
        vec!["-q", "course", "--story", "relapsing", "--out", &course],
        vec!["gallery", "--count", "1", "--out", &gallery, "--quiet"],
        vec!["check", "-q"],
        vec![
            "calibrate",
            "--patients",
            "300",
            "--no-plots",
            "--out",
            &cal,
            "-q",
        ],
    ];
    for args in cases {
        let o = success(crmo().args(&args));
        assert_eq!(o.stdout, "", "{args:?} printed with -q");
    }
    assert!(Path::new(&gallery).is_file());
    let table = fs::read_to_string(tmp.path().join("cal/calibration.csv")).expect("written");
    assert!(table.lines().count() > 1, "{table}");
    let loud_check = success(crmo().arg("check"));
    assert!(!loud_check.stdout.is_empty());
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let o = success(crmo().args(["completions", "bash"]));
    assert!(
        o.stdout.contains("crmo-sim"),
        "{}",
        &o.stdout[..200.min(o.stdout.len())]
    );
    let Ok(mut bash) = std::process::Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
    else {
        eprintln!("bash not installed: syntax check skipped");
        return;
    };
    use std::io::Write;
    bash.stdin
        .take()
        .expect("stdin")
        .write_all(o.stdout.as_bytes())
        .expect("write script");
    assert!(
        bash.wait().expect("bash runs").success(),
        "bash -n refused the script"
    );
    for shell in ["zsh", "fish"] {
        let o = success(crmo().args(["completions", shell]));
        assert!(o.stdout.contains("calibrate"), "{shell}: {}", o.stdout);
    }
    let bad = output(crmo().args(["completions", "tcsh"]));
    assert_eq!(bad.code, Some(2), "{bad:?}");
}

#[test]
fn manpage_is_roff_naming_every_command_and_option() {
    let o = success(crmo().arg("manpage"));
    assert!(
        o.stdout.starts_with(".ie") || o.stdout.contains("\n.TH "),
        "no .TH"
    );
    for command in [
        "run",
        "check",
        "calibrate",
        "course",
        "gallery",
        "merge",
        "completions",
        "manpage",
    ] {
        assert!(
            o.stdout.contains(&format!("COMMAND {command}\"")),
            "{command} missing"
        );
    }
    assert!(o.stdout.contains("\\-\\-story") || o.stdout.contains("--story"));
    let Ok(mut man) = std::process::Command::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("man not installed: rendering skipped");
        return;
    };
    {
        use std::io::Write;
        let mut stdin = man.stdin.take().expect("stdin");
        stdin.write_all(o.stdout.as_bytes()).expect("write page");
    }
    let shown = man.wait_with_output().expect("man runs");
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(
        text.contains("COMMAND course") && text.contains("--story"),
        "{text}"
    );
}

#[test]
fn misspelt_scenario_field_gets_did_you_mean_and_is_not_cut_off() {
    let tmp = tempdir();
    let file = write_scenario(
        tmp.path(),
        "typo.toml",
        "[natural_history]\nflare_rate_per_yer = 2\n",
    );
    let file = file.to_string_lossy().into_owned();
    let out = tmp.path().join("out").to_string_lossy().into_owned();
    for args in [
        vec!["check", &file],
        vec!["run", &file, "--out", &out, "-q"],
    ] {
        let o = output(crmo().args(&args));
        assert_eq!(o.code, Some(2), "{o:?}");
        assert!(
            o.stderr.contains("did you mean `flare_rate_per_year`?"),
            "{}",
            o.stderr
        );
        assert!(!o.stderr.contains("more bytes"), "{}", o.stderr);
        assert!(o.stderr.contains("check --help"), "{}", o.stderr);
    }
    // The whole list is where the message points.
    let help = success(crmo().args(["check", "--help"])).stdout;
    for name in [
        "[natural_history]",
        "`flare_rate_per_year`",
        "`diagnostic_delay_sdlog`",
        "[[arm]]",
        "`ladder`",
        "[drugs.NAME]",
        "`p_response`",
    ] {
        assert!(help.contains(name), "check --help lacks {name}:\n{help}");
    }
}

#[test]
fn course_without_patient_names_both_ways_to_choose() {
    let o = output(crmo().arg("course"));
    assert_eq!(o.code, Some(2), "{o:?}");
    assert!(
        o.stderr.contains("--patient") && o.stderr.contains("--story"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("relapse-after-taper"), "{}", o.stderr);
}

#[test]
fn help_states_the_real_default_chart_paths_and_whole_style_text() {
    let tmp = tempdir();
    for (command, args, help_path, file) in [
        (
            "course",
            vec!["--patient", "2"],
            "output/charts/<scenario name>/course-<patient>.png",
            "output/charts/reference/course-2.png",
        ),
        (
            "gallery",
            vec!["--count", "1"],
            "output/charts/<scenario name>/gallery.png",
            "output/charts/reference/gallery.png",
        ),
    ] {
        let help = success(crmo().args([command, "--help"])).stdout;
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(help_path), "{command} --help:\n{help}");
        assert!(flat.contains("under the current directory"), "{help}");
        // The slide style's description says what it promises for the
        // gallery too (it used to stop at "on the gallery the font size").
        assert!(
            flat.contains("on the gallery (one row of at most 3 courses) every text has a font size of at least 2.5% of the image height"),
            "{help}"
        );
        // What the help says is where the chart goes.
        let o = success(crmo().current_dir(tmp.path()).arg(command).args(&args));
        assert_eq!(o.stdout.trim(), file, "{o:?}");
        assert!(tmp.path().join(file).is_file(), "{file} not written");
    }
}
