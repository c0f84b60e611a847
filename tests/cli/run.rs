//! `crmo-sim run`: which files are written, their headers and shape, the
//! manifest, the built-in reference scenario, and the scenario files.

use std::fs;

use sha2::{Digest, Sha256};

use crate::util::{crmo, manifest, root, run_into, success, tempdir, write_scenario};

/// The CSV lines of a file.
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .expect("CSV is UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn run_writes_every_file_with_its_header() {
    let tmp = tempdir();
    let out = tmp.path().join("nh");
    // The default run, cohort plots included.
    success(
        crmo()
            .args([
                "run",
                "scenarios/natural-history.toml",
                "--patients",
                "1500",
                "-q",
            ])
            .arg("--out")
            .arg(&out),
    );
    let plots = fs::read_dir(out.join("plots"))
        .expect("plots/ is written by default")
        .count();
    assert!(plots > 0, "plots/ is empty");
    let f = crate::util::files(&out);
    let names: Vec<&str> = f.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "km.csv",
            "manifest.json",
            "metrics.csv",
            "report.html",
            "summary.csv",
            "timeseries.csv",
            "timeseries_from_diagnosis.csv"
        ]
    );
    let from_dx = lines(&f["timeseries_from_diagnosis.csv"]);
    assert_eq!(
        from_dx[0],
        "arm,month_since_diagnosis,active_frac,remission_frac,resolved_frac,lost_frac,mean_activity_score,observed"
    );
    assert!(from_dx.len() > 24, "monthly rows from diagnosis");

    let summary = lines(&f["summary.csv"]);
    assert_eq!(summary[0], "arm,metric,mean,lower_95,upper_95,mcse");
    for metric in [
        "flares_per_patient_year",
        "time_in_flare_frac",
        "diagnostic_delay_median_days",
        "resolved_frac",
    ] {
        assert!(
            summary
                .iter()
                .any(|l| l.starts_with(&format!("natural_history,{metric},"))),
            "no {metric} row in summary.csv"
        );
    }
    for l in &summary[1..] {
        assert_eq!(l.split(',').count(), 6, "{l}");
    }

    let km = lines(&f["km.csv"]);
    assert_eq!(
        km[0],
        "arm,endpoint,time_days,at_risk,events,censored,survival,lower_95,upper_95"
    );
    // The first remission is reached or censored by every patient: the curve
    // from onset starts with the whole cohort at risk.
    let first = km
        .iter()
        .find(|l| l.starts_with("natural_history,first_remission_from_onset,"))
        .expect("first remission curve");
    assert_eq!(first.split(',').nth(3), Some("1500"), "{first}");

    // Time series: weekly grid from day 0; the state shares of every week add
    // up to 1 (each patient is in exactly one state at every grid time).
    let ts = lines(&f["timeseries.csv"]);
    assert!(ts[0].starts_with(
        "arm,week,time_days,active_frac,remission_frac,resolved_frac,lost_frac,mean_pain_vas"
    ));
    let mut week = 0;
    for l in &ts[1..] {
        let c: Vec<&str> = l.split(',').collect();
        assert_eq!(c[0], "natural_history");
        assert_eq!(c[1], week.to_string(), "{l}");
        assert_eq!(c[2], (7 * week).to_string(), "{l}");
        let shares: f64 = c[3..7].iter().map(|x| x.parse::<f64>().unwrap()).sum();
        assert!(
            (shares - 1.0).abs() < 5e-6,
            "week {week}: shares add to {shares}"
        );
        week += 1;
    }
    // 10 years = 3652.5 days: weeks 0..=521.
    assert_eq!(week, 522);

    let m = manifest(&f);
    let text = fs::read(root().join("scenarios/natural-history.toml")).unwrap();
    let sha: String = Sha256::digest(&text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(m["scenario"], "natural-history");
    assert_eq!(m["scenario_sha256"], sha.as_str());
    assert_eq!(m["seed"], 7);
    assert_eq!(m["patients"], 1500);
    assert_eq!(m["replicates"], 1);
    // The manifest lists every file (each plot too) with its SHA-256, and
    // carries the marker that proves the directory is a crmo-sim result.
    assert_eq!(m["format"], "crmo-sim result v1");
    let listed: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut expected = vec![
        "km.csv".to_string(),
        "manifest.json".into(),
        "metrics.csv".into(),
        "plots/".into(),
        "report.html".into(),
        "summary.csv".into(),
        "timeseries.csv".into(),
        "timeseries_from_diagnosis.csv".into(),
    ];
    for plot in fs::read_dir(out.join("plots")).unwrap() {
        let name = plot.unwrap().file_name().to_string_lossy().into_owned();
        expected.push(format!("plots/{name}"));
    }
    expected.sort();
    assert_eq!(listed, expected);
    for name in listed
        .iter()
        .filter(|n| !n.ends_with('/') && **n != "manifest.json")
    {
        let sha: String = Sha256::digest(fs::read(out.join(name)).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(m["sha256"][name], sha.as_str(), "{name}");
    }
    assert!(m["patient_years"].as_f64().unwrap() > 1500.0);
}

#[test]
fn run_without_a_file_runs_the_builtin_reference() {
    let tmp = tempdir();
    let builtin = run_into(&["--patients", "600"], &tmp.path().join("a"), &[]);
    let file = run_into(
        &["scenarios/reference.toml", "--patients", "600"],
        &tmp.path().join("b"),
        &[],
    );
    crate::util::assert_same_results(&builtin, &file, "built-in vs scenarios/reference.toml");
    let (a, b) = (manifest(&builtin), manifest(&file));
    assert_eq!(a["scenario"], "reference");
    assert_eq!(a["scenario"], b["scenario"]);
    assert_eq!(a["scenario_sha256"], b["scenario_sha256"]);
    assert_eq!(a["seed"], b["seed"]);
}

#[test]
fn embedded_reference_is_the_scenario_file() {
    let file = fs::read_to_string(root().join("scenarios/reference.toml")).unwrap();
    assert_eq!(crmo_sim::scenario::REFERENCE_TOML, file);
    let builtin = crmo_sim::scenario::reference();
    assert_eq!(builtin.text, file);
    assert_eq!(builtin.name(), "reference");
}

#[test]
fn every_scenario_file_parses() {
    let mut n = 0;
    for entry in fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        if let Err(e) = crmo_sim::scenario::load_file(&path) {
            panic!("{} does not parse: {e}", path.display());
        }
        let o = success(crmo().arg("check").arg(&path));
        assert!(o.stdout.contains(": valid"), "{}", o.stdout);
        n += 1;
    }
    assert!(n >= 2, "only {n} scenario files found");
}

#[test]
fn an_empty_file_is_a_valid_scenario() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "empty.toml", "");
    let o = success(crmo().arg("check").arg(&path));
    assert!(o.stdout.contains("scenario empty"), "{}", o.stdout);
    assert!(o.stdout.contains(": valid"), "{}", o.stdout);
    let loaded = crmo_sim::scenario::parse("", "empty.toml").expect("empty is valid");
    assert_eq!(loaded.scenario.patients, 10_000);
    let f = run_into(
        &[path.to_str().unwrap(), "--patients", "300"],
        &tmp.path().join("out"),
        &[],
    );
    let m = manifest(&f);
    assert_eq!(m["scenario"], "empty");
    assert_eq!(m["patients"], 300);
    assert_eq!(m["horizon_years"], 10.0);
}

/// `--out` naming a directory that is not a crmo-sim result must never be
/// replaced: `--out ~/Documents` is refused and every file kept. (The whole
/// rule is tested in `outdir.rs`.)
#[test]
fn an_unrelated_directory_is_not_replaced() {
    let tmp = tempdir();
    let out = tmp.path().join("documents");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("thesis.txt"), "months of work").unwrap();
    let o = crate::util::output(
        crmo()
            .args(["run", "scenarios/natural-history.toml", "--patients", "50"])
            .args(["-q", "--no-plots", "--out"])
            .arg(&out),
    );
    assert!(
        out.join("thesis.txt").exists(),
        "thesis.txt was deleted: {o:#?}"
    );
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(o.stderr.contains("thesis.txt"), "{}", o.stderr);
}

#[test]
fn per_patient_files_when_asked() {
    let tmp = tempdir();
    let path = write_scenario(
        tmp.path(),
        "rows.toml",
        "seed = 3\nhorizon_years = 4\n[output]\npatients = true\nevents = true\n",
    );
    let f = run_into(
        &[path.to_str().unwrap(), "--patients", "150"],
        &tmp.path().join("out"),
        &[],
    );
    assert!(f.contains_key("patients.csv") && f.contains_key("events.csv"));
    let m = manifest(&f);
    let listed = m["files"].as_array().unwrap();
    assert!(listed.contains(&"patients.csv".into()) && listed.contains(&"events.csv".into()));

    let patients = lines(&f["patients.csv"]);
    assert!(patients[0].starts_with("arm,replicate,patient,sex,genotype,"));
    assert_eq!(patients.len(), 151);
    for (i, l) in patients[1..].iter().enumerate() {
        assert!(l.starts_with(&format!("natural_history,0,{i},")), "{l}");
    }

    // Events: patients in order; within a patient, onset first and times sorted.
    let events = lines(&f["events.csv"]);
    assert!(events[0].starts_with("arm,replicate,patient,time_days,event,"));
    let mut last: Option<(u64, f64)> = None;
    let mut onsets = 0;
    for l in &events[1..] {
        let c: Vec<&str> = l.split(',').collect();
        let (p, t): (u64, f64) = (c[2].parse().unwrap(), c[3].parse().unwrap());
        match last {
            Some((lp, lt)) if lp == p => assert!(t >= lt, "time goes back: {l}"),
            Some((lp, _)) => {
                assert_eq!(p, lp + 1, "patients out of order: {l}");
                assert_eq!(c[4], "onset", "{l}");
            }
            None => assert_eq!((p, c[4]), (0, "onset")),
        }
        assert!((0.0..=4.0 * 365.25).contains(&t), "{l}");
        onsets += usize::from(c[4] == "onset");
        last = Some((p, t));
    }
    assert_eq!(onsets, 150);
}

#[test]
fn without_quiet_run_prints_a_headline_table() {
    let tmp = tempdir();
    let o = success(
        crmo()
            .args([
                "run",
                "scenarios/natural-history.toml",
                "--patients",
                "200",
                "--no-plots",
                "--out",
            ])
            .arg(tmp.path().join("out")),
    );
    assert!(
        o.stdout.contains("200 patients x 1 replicate(s)"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("flares per patient-year"), "{}", o.stdout);
    assert!(o.stdout.contains("results in"), "{}", o.stdout);
}

#[test]
fn seed_option_changes_the_results() {
    let tmp = tempdir();
    let args = ["scenarios/natural-history.toml", "--patients", "300"];
    let a = run_into(&args, &tmp.path().join("a"), &[]);
    let b = run_into(
        &[args.as_slice(), &["--seed", "8"]].concat(),
        &tmp.path().join("b"),
        &[],
    );
    assert_eq!(manifest(&b)["seed"], 8);
    assert_ne!(a["summary.csv"], b["summary.csv"]);
}

#[test]
fn help_on_every_command() {
    for args in [&["--help"][..], &["run", "--help"], &["check", "--help"]] {
        let o = success(crmo().args(args));
        assert!(o.stdout.contains("Usage"), "{args:?}: {}", o.stdout);
    }
    let o = success(crmo().arg("--version"));
    assert!(o.stdout.contains(env!("CARGO_PKG_VERSION")));
}

/// Every TOML block of the README (and of docs/*.md) is a valid scenario,
/// so the documentation cannot drift from the schema.
#[test]
fn every_toml_block_in_the_docs_parses() {
    let mut docs = vec![root().join("README.md")];
    if let Ok(dir) = fs::read_dir(root().join("docs")) {
        docs.extend(
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("md")),
        );
    }
    let mut blocks = 0;
    for doc in docs {
        let text = fs::read_to_string(&doc).unwrap();
        let mut lines = text.lines().enumerate();
        while let Some((i, line)) = lines.next() {
            if line.trim() != "```toml" {
                continue;
            }
            let block: Vec<&str> = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| l.trim() != "```")
                .collect();
            let origin = format!("{} (block at line {})", doc.display(), i + 1);
            if let Err(e) = crmo_sim::scenario::parse(&block.join("\n"), &origin) {
                panic!("{e}");
            }
            blocks += 1;
        }
    }
    assert!(blocks >= 1, "no TOML block found in the docs");
}

/// A scenario that diagnoses no one (`scenarios/two-state.toml`) still
/// writes `timeseries_from_diagnosis.csv` as a table (the header of a run
/// that diagnoses, no rows), and its printed headline table leaves out the
/// metrics without a value instead of showing dashes, saying how many.
#[test]
fn a_run_without_diagnoses_writes_headers_and_no_dashes() {
    let tmp = tempdir();
    let diagnosing = tmp.path().join("nh");
    success(
        crmo()
            .args(["run", "scenarios/natural-history.toml", "--patients", "300"])
            .args(["--no-plots", "-q", "--out"])
            .arg(&diagnosing),
    );
    let out = tmp.path().join("two-state");
    let printed = success(
        crmo()
            .args(["run", "scenarios/two-state.toml", "--patients", "300"])
            .args(["--out"])
            .arg(&out),
    );
    let header = |dir: &std::path::Path| {
        let text = fs::read_to_string(dir.join("timeseries_from_diagnosis.csv")).unwrap();
        text.lines().next().map(str::to_string)
    };
    let text = fs::read_to_string(out.join("timeseries_from_diagnosis.csv")).unwrap();
    assert_eq!(text.lines().count(), 1, "header only: {text:?}");
    assert_eq!(header(&out), header(&diagnosing));
    let stdout = printed.stdout;
    assert!(
        stdout.contains("flares per patient-year"),
        "the live metrics are shown:\n{stdout}"
    );
    assert!(
        !stdout.contains("diagnosis"),
        "no diagnosis metric without a value is shown:\n{stdout}"
    );
    assert!(
        stdout.contains("9 more without a value here: metrics.csv says why"),
        "{stdout}"
    );
    // The report's headline table likewise, naming them under the table.
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !report.contains("– (– – –)"),
        "a row of dashes in the report"
    );
    let note = report
        .split("id=\"headline-table-without-value\">")
        .nth(1)
        .expect("the report names the metrics without a value");
    assert!(note.starts_with("Without a value in this run"), "{note}");
    assert!(note.contains("median diagnostic delay (days)"), "{note}");
    // The Kaplan-Meier plot after diagnosis says nobody was diagnosed, with
    // no table of numbers at risk and no "median not reached".
    let km = fs::read_to_string(out.join("plots/km_remission.svg")).unwrap();
    assert!(
        km.contains("nobody was diagnosed"),
        "the empty plot says why"
    );
    assert!(km.contains("natural_history (nobody diagnosed)"), "legend");
    assert!(!km.contains("median not reached"), "no median for no curve");
    assert!(
        !km.contains("at risk"),
        "no at-risk table without anyone at risk"
    );
}
