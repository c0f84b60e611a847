//! Bad input is refused before any work: exit code 2, one message on stderr
//! that names the file, the line and column, and what would be valid; no
//! panic; and no output directory is created or touched.

use std::fs;
use std::path::Path;

use crate::util::{crmo, output, snapshot, tempdir, Output};

/// A malformed scenario and the words its message must contain.
struct Case {
    /// File stem (the message must name the file).
    name: &'static str,
    /// File content.
    text: &'static [u8],
    /// Fragments of the expected message.
    expect: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "scenario_name_starting_with_a_dash",
        text: b"seed = 1\nname = \"-cmd\"\n",
        expect: &["line 2, column 8", "must not start with '-'"],
    },
    Case {
        name: "arm_name_starting_with_a_dash",
        text: b"[[arm]]\nname = \"-1+2\"\nladder = [\"nsaid\"]\n",
        expect: &["line 2, column 8", "arm name \"-1+2\" is not allowed", "must not start with '-'"],
    },
    Case {
        name: "drug_name_starting_with_a_dash",
        text: b"[drugs.-x]\np_response = 0.5\n",
        expect: &["line 1, column", "drug name \"-x\" is not allowed", "must not start with '-'"],
    },
    Case {
        name: "misspelled_top_level_field",
        text: b"seed = 1\npatiens = 5\n",
        expect: &["line 2, column 1", "unknown field `patiens`", "expected one of", "`patients`"],
    },
    Case {
        name: "misspelled_field_in_table",
        text: b"[natural_history]\nflare_rate_per_yr = 1\n",
        expect: &["line 2, column 1", "unknown field `flare_rate_per_yr`", "`flare_rate_per_year`"],
    },
    Case {
        name: "unknown_field_in_cohort",
        text: b"[cohort]\nfemale_fraction = 0.5\n",
        expect: &["line 2, column 1", "unknown field `female_fraction`", "`female_frac`"],
    },
    Case {
        name: "unknown_field_in_distribution",
        text: b"[natural_history]\nflare_rate_per_year = { dist = \"gamma\", mean = 1, shap = 2 }\n",
        expect: &["line 2, column", "unknown field `shap`", "`shape`"],
    },
    Case {
        name: "unknown_table",
        text: b"[treatments]\nnsaid = true\n",
        expect: &["line 1, column", "unknown field `treatments`", "`natural_history`"],
    },
    Case {
        name: "wrong_type_string_for_count",
        text: b"patients = \"many\"\n",
        expect: &["line 1, column 12", "invalid type: string \"many\""],
    },
    Case {
        name: "wrong_type_string_for_parameter",
        text: b"[natural_history]\np_fever = \"high\"\n",
        expect: &[
            "line 2, column 11",
            "invalid type",
            "a probability between 0 and 1 or a distribution table",
        ],
    },
    Case {
        name: "wrong_type_for_switch",
        text: b"[output]\npatients = \"yes\"\n",
        expect: &["line 2, column 12", "invalid type", "boolean"],
    },
    Case {
        name: "probability_above_one",
        text: b"[natural_history]\np_fever = 1.5\n",
        expect: &["line 2, column 11", "1.5 is not allowed", "a probability between 0 and 1"],
    },
    Case {
        name: "negative_probability",
        text: b"[cohort]\nfemale_frac = -0.1\n",
        expect: &["line 2, column 15", "-0.1 is not allowed", "a probability between 0 and 1"],
    },
    Case {
        name: "probability_nan",
        text: b"[natural_history]\np_crp_raised = nan\n",
        expect: &["line 2, column 16", "NaN is not allowed", "a probability between 0 and 1"],
    },
    Case {
        name: "negative_rate",
        text: b"[natural_history]\nflare_rate_per_year = -1\n",
        expect: &["line 2, column 23", "-1 is not allowed", "a rate above 0 and at most 52 per year"],
    },
    Case {
        name: "negative_yearly_hazard",
        text: b"[natural_history]\nppp_per_year = -0.01\n",
        expect: &["line 2, column 16", "-0.01 is not allowed", "a rate from 0 to 52 per year"],
    },
    Case {
        name: "infinite_rate",
        text: b"[natural_history]\nflare_rate_per_year = inf\n",
        expect: &["line 2, column 23", "inf is not allowed", "a rate above 0 and at most 52 per year"],
    },
    Case {
        name: "zero_flare_duration",
        text: b"[natural_history]\nflare_duration_mean_weeks = 0\n",
        expect: &["line 2, column 29", "0 is not allowed", "a number of weeks from 0.001 to 5200"],
    },
    Case {
        name: "inverted_uniform_bounds",
        text: b"[natural_history]\np_fever = { dist = \"uniform\", min = 0.8, max = 0.2 }\n",
        expect: &["line 2, column 11", "inverted", "min = 0.8 must be below max = 0.2"],
    },
    Case {
        name: "inverted_truncation_bounds",
        text: b"[cohort]\nonset_age_years = { dist = \"normal\", mean = 10, sd = 3, min = 18, max = 2 }\n",
        expect: &["line 2, column 19", "inverted", "min = 18 must be below max = 2"],
    },
    Case {
        name: "unknown_distribution",
        text: b"[natural_history]\np_fever = { dist = \"weibull\", shape = 1 }\n",
        expect: &[
            "line 2, column 20",
            "unknown variant `weibull`",
            "`normal`, `lognormal`, `gamma`, `beta`, `uniform`",
        ],
    },
    Case {
        name: "unbounded_normal_probability",
        text: b"[natural_history]\np_fever = { dist = \"normal\", mean = 0.5, sd = 0.1 }\n",
        expect: &[
            "line 2, column 11",
            "can take values in [-inf, inf]",
            "a probability between 0 and 1",
            "add `min`/`max` bounds",
        ],
    },
    Case {
        name: "unbounded_onset_age",
        text: b"# ages\n[cohort]\nonset_age_years = { dist = \"normal\", mean = 10, sd = 3 }\n",
        expect: &["line 3, column 1", "ages must lie in [0, 100]", "add `min`/`max` bounds"],
    },
    Case {
        name: "cohort_size_zero",
        text: b"patients = 0\n",
        expect: &["line 1, column 12", "patients = 0 is not allowed", "from 1 to 10000000"],
    },
    Case {
        name: "cohort_size_negative",
        text: b"patients = -5\n",
        expect: &["line 1, column 12", "patients = -5 is not allowed", "from 1 to 10000000"],
    },
    Case {
        name: "horizon_zero",
        text: b"horizon_years = 0\n",
        expect: &["line 1, column 17", "horizon_years = 0 is not allowed", "above 0 and at most 100"],
    },
    Case {
        name: "horizon_too_long",
        text: b"horizon_years = 1000\n",
        expect: &["line 1, column 17", "is not allowed", "above 0 and at most 100"],
    },
    Case {
        name: "replicates_zero",
        text: b"replicates = 0\n",
        expect: &["line 1, column 14", "replicates = 0 is not allowed", "from 1 to 100000"],
    },
    Case {
        name: "grid_step_zero",
        text: b"[output]\ntimeseries_step_weeks = 0\n",
        expect: &["line 2, column 25", "is not allowed", "from 1 to 520"],
    },
    Case {
        name: "unknown_compression",
        text: b"[output]\ncompression = \"zip\"\n",
        expect: &["line 2, column 15", "compression = \"zip\" is not allowed", "\"none\"", "\"gzip\""],
    },
    Case {
        name: "compression_not_a_string",
        text: b"[output]\ncompression = true\n",
        expect: &["line 2, column 15", "compression = true is not allowed", "\"gzip\""],
    },
    Case {
        name: "bad_name",
        text: b"name = \"../etc\"\n",
        expect: &["line 1, column 8", "is not allowed", "letters, digits, '-', '_' or '.'"],
    },
    Case {
        name: "empty_name",
        text: b"name = \"\"\n",
        expect: &["line 1, column 8", "is not allowed", "letters, digits"],
    },
    Case {
        name: "negative_site_weight",
        text: b"[natural_history.site_weights]\ntibia = -1\n",
        expect: &["line 2, column 1", "site weight tibia = -1", "finite numbers >= 0"],
    },
    Case {
        name: "all_site_weights_zero",
        text: b"[natural_history.site_weights]\ntibia = 0\nfemur = 0\npelvis = 0\nspine = 0\nclavicle = 0\nfibula = 0\nfoot = 0\nupper_limb = 0\nmandible = 0\nsternum_ribs = 0\nother = 0\n",
        expect: &["line", "column", "site weights", "positive weight"],
    },
    Case {
        name: "unknown_imaging_modality",
        text: b"[imaging]\nat_diagnosis = \"ct\"\n",
        expect: &["line 2, column 16", "unknown variant `ct`", "`wbmri`", "`scintigraphy`"],
    },
    Case {
        name: "toml_syntax_error",
        text: b"seed = = 1\n",
        expect: &["line 1, column 8", "TOML parse error"],
    },
    Case {
        name: "unclosed_table_header",
        text: b"seed = 1\n[natural_history\np_fever = 0.2\n",
        expect: &["line 2, column", "TOML parse error"],
    },
    Case {
        name: "duplicate_key",
        text: b"seed = 1\nseed = 2\n",
        expect: &["line 2, column 1", "duplicate key"],
    },
    Case {
        name: "negative_seed",
        text: b"seed = -1\n",
        expect: &["line 1, column 8", "seed = -1 is not allowed", "from 0 to 9223372036854775807"],
    },
    Case {
        name: "unknown_drug_in_ladder",
        text: b"[[arm]]\nname = \"a\"\nladder = [\"nsaid\", \"aspirin\"]\n",
        expect: &["line 3, column 20", "unknown drug `aspirin`", "known drugs are nsaid"],
    },
    Case {
        name: "empty_ladder",
        text: b"[[arm]]\nname = \"a\"\nladder = []\n",
        expect: &["line 3, column 10", "empty ladder", "at least one step"],
    },
    Case {
        name: "duplicate_arm_names",
        text: b"[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n",
        expect: &["line 5, column 8", "two arms are named `a`", "must be unique"],
    },
    Case {
        name: "unknown_escalation_rule",
        text: b"[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\nescalate_when = \"sometimes\"\n",
        expect: &["line 4, column 17", "unknown variant `sometimes`", "`active`"],
    },
    Case {
        name: "misspelled_drug_field",
        text: b"[drugs.nsaid]\np_respons = 0.5\n",
        expect: &["line 2, column 1", "unknown field `p_respons`", "`p_response`"],
    },
    Case {
        name: "drug_response_above_one",
        text: b"[drugs.nsaid]\np_response = 2\n",
        expect: &["line 2, column 14", "2 is not allowed", "a probability between 0 and 1"],
    },
    Case {
        name: "arm_without_name",
        text: b"[[arm]]\nladder = [\"nsaid\"]\n",
        expect: &["line 1, column 1", "missing field `name`"],
    },
    Case {
        name: "invalid_utf8",
        text: b"seed = 1\nname = \"\xff\xfe\"\n",
        expect: &["line 2, column 9", "invalid UTF-8", "UTF-8 text"],
    },
];

/// Common checks of a refusal: exit code 2, no panic, the fragments.
pub fn assert_refused(o: &Output, what: &str, expect: &[&str]) {
    assert_eq!(o.code, Some(2), "{what}: expected exit code 2: {o:#?}");
    assert!(
        !o.stderr.contains("panicked"),
        "{what}: panic: {}",
        o.stderr
    );
    assert!(
        o.stdout.is_empty(),
        "{what}: stdout not empty: {}",
        o.stdout
    );
    assert!(o.stderr.starts_with("error: "), "{what}: {}", o.stderr);
    for e in expect {
        assert!(
            o.stderr.contains(e),
            "{what}: message lacks {e:?}:\n{}",
            o.stderr
        );
    }
}

/// Runs `run FILE --out out`, `run FILE` (default output under the working
/// directory) and `check FILE` in `dir`, which holds `out/sentinel.txt`;
/// each must be refused, and `dir` must be unchanged afterwards.
pub fn assert_refused_untouched(dir: &Path, file: &str, expect: &[&str]) {
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("sentinel.txt"), "an earlier result").unwrap();
    let before = snapshot(dir);
    let commands: [&[&str]; 3] = [
        &["run", file, "--out", "out", "-q"],
        &["run", file, "-q"],
        &["check", file],
    ];
    for args in commands {
        let o = output(crmo().current_dir(dir).args(args));
        assert_refused(&o, &format!("{args:?}"), expect);
        assert_eq!(snapshot(dir), before, "{args:?} changed {}", dir.display());
    }
    assert!(out.join("sentinel.txt").exists());
}

#[test]
fn malformed_scenarios_are_refused_with_located_messages() {
    assert!(CASES.len() >= 15);
    for case in CASES {
        let tmp = tempdir();
        let file = format!("{}.toml", case.name);
        fs::write(tmp.path().join(&file), case.text).unwrap();
        let mut expect = vec![file.as_str()];
        expect.extend(case.expect);
        assert_refused_untouched(tmp.path(), &file, &expect);
        // The library refuses it too (the same message, without "error: ").
        let err = crmo_sim::scenario::load_file(&tmp.path().join(&file))
            .expect_err(case.name)
            .to_string();
        assert!(err.contains(case.expect[0]), "{}: {err}", case.name);
    }
}

#[test]
fn missing_file_is_refused() {
    let tmp = tempdir();
    assert_refused_untouched(
        tmp.path(),
        "no-such-scenario.toml",
        &["cannot read scenario no-such-scenario.toml", "No such file"],
    );
}

#[test]
fn directory_instead_of_file_is_refused() {
    let tmp = tempdir();
    fs::create_dir(tmp.path().join("folder.toml")).unwrap();
    assert_refused_untouched(
        tmp.path(),
        "folder.toml",
        &[
            "folder.toml is a directory",
            "expected a scenario file (.toml)",
        ],
    );
}

#[test]
fn zero_patients_on_the_command_line_is_refused() {
    let tmp = tempdir();
    fs::write(tmp.path().join("ok.toml"), "seed = 1\n").unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("sentinel.txt"), "an earlier result").unwrap();
    let before = snapshot(tmp.path());
    let cases: [(&[&str], &str); 4] = [
        (
            &["run", "ok.toml", "--patients", "0", "--out", "out"],
            "--patients",
        ),
        (&["run", "--patients", "0", "--out", "out"], "--patients"),
        (
            &["run", "ok.toml", "--threads", "0", "--out", "out"],
            "--threads",
        ),
        (
            &["run", "ok.toml", "--patiens", "10", "--out", "out"],
            "--patiens",
        ),
    ];
    for (args, option) in cases {
        let o = output(crmo().current_dir(tmp.path()).args(args));
        assert_eq!(o.code, Some(2), "{args:?}: {o:#?}");
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert!(o.stderr.contains(option), "{args:?}: {}", o.stderr);
        assert_eq!(snapshot(tmp.path()), before, "{args:?} touched files");
    }
    let o = output(
        crmo()
            .current_dir(tmp.path())
            .args(["run", "ok.toml", "--patients", "0"]),
    );
    assert!(
        o.stderr.contains("invalid value '0' for '--patients"),
        "{}",
        o.stderr
    );
}

#[test]
fn output_path_that_is_a_file_is_refused() {
    let tmp = tempdir();
    fs::write(tmp.path().join("ok.toml"), "seed = 1\n").unwrap();
    fs::write(tmp.path().join("taken"), "not a directory").unwrap();
    let before = snapshot(tmp.path());
    let o = output(crmo().current_dir(tmp.path()).args([
        "run",
        "ok.toml",
        "--patients",
        "10",
        "--out",
        "taken",
        "-q",
    ]));
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(o.stderr.contains("taken"), "{}", o.stderr);
    assert!(o.stderr.contains("is not a directory"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"));
    assert_eq!(snapshot(tmp.path()), before);
}

/// `--out .` (the working directory) can never be replaced as a whole: it is
/// refused up front (exit 2) and nothing is left behind.
#[test]
fn output_to_the_working_directory_is_refused_cleanly() {
    let tmp = tempdir();
    fs::write(tmp.path().join("ok.toml"), "seed = 1\n").unwrap();
    let before = snapshot(tmp.path());
    let o = output(crmo().current_dir(tmp.path()).args([
        "run",
        "ok.toml",
        "--patients",
        "10",
        "--no-plots",
        "--out",
        ".",
        "-q",
    ]));
    assert_eq!(snapshot(tmp.path()), before, "files left behind: {o:#?}");
    assert_eq!(o.code, Some(2), "{o:#?}");
}
