//! Sweeps: every grid point is a full study on the same patients; flares
//! rise with the flare rate; the sweep plot renders; bad `[sweep]` entries
//! are refused with a location; sweeps shard and merge like any run.

use std::path::PathBuf;

use crate::util::{crmo, files, manifest, output, run_into, success, tempdir, write_scenario};

const RATES: [f64; 4] = [0.5, 1.0, 2.0, 4.0];

fn scenario(extra: &str) -> String {
    format!(
        "name = \"sweep\"\nseed = 21\npatients = 2000\nhorizon_years = 5\n\
         [[arm]]\nname = \"nsaid\"\nladder = [\"nsaid\", \"methotrexate\"]\n\
         [[arm]]\nname = \"none\"\nuntreated = true\n\
         [sweep]\n\"natural_history.flare_rate_per_year\" = [0.5, 1.0, 2.0, 4.0]\nmetric = \"flares_per_patient\"\n{extra}"
    )
}

/// `(rate, arm) -> (mean, mcse)` of `flares_per_patient` from sweep.csv.
fn flares(csv: &[u8]) -> Vec<(f64, String, f64, f64)> {
    let text = String::from_utf8_lossy(csv);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("point,natural_history.flare_rate_per_year,arm,metric,mean,lower_95,upper_95,mcse")
    );
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[3] == "flares_per_patient")
        .map(|f| {
            (
                f[1].parse().unwrap(),
                f[2].to_string(),
                f[4].parse().unwrap(),
                f[7].parse().unwrap(),
            )
        })
        .collect()
}

/// Flares per patient rise with the flare rate in every arm, each step by
/// more than 3 standard errors of the difference (taken as independent,
/// which overstates it: the points share their patients).
#[test]
fn flares_rise_with_the_flare_rate_and_the_plot_renders() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "sweep.toml", scenario(""));
    let out = tmp.path().join("out");
    success(
        crmo()
            .arg("run")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .arg("-q"),
    );
    let f = files(&out);
    let rows = flares(&f["sweep.csv"]);
    for arm in ["nsaid", "none"] {
        let series: Vec<_> = rows.iter().filter(|r| r.1 == arm).collect();
        assert_eq!(series.iter().map(|r| r.0).collect::<Vec<_>>(), RATES);
        for w in series.windows(2) {
            let (a, b) = (w[0], w[1]);
            let se = (a.3 * a.3 + b.3 * b.3).sqrt();
            assert!(
                b.2 - a.2 > 3.0 * se,
                "{arm}: {} at rate {} vs {} at rate {}",
                a.2,
                a.0,
                b.2,
                b.0
            );
        }
    }
    for name in ["sweep.png", "sweep.svg"] {
        let plot = out.join("plots").join(name);
        assert!(plot.is_file(), "{name} missing");
    }
    let img = image::open(out.join("plots/sweep.png"))
        .expect("sweep.png decodes")
        .to_luma8();
    assert_eq!(img.dimensions(), (1400, 900));
    let dark = img.pixels().filter(|p| p.0[0] < 200).count();
    assert!(
        dark > 1400 * 900 / 100,
        "the plot looks blank ({dark} dark pixels)"
    );
    assert!(
        !f.contains_key("summary.csv"),
        "a sweep writes sweep.csv, not summary.csv"
    );
}

#[test]
fn a_sweep_shards_and_merges_to_the_same_bytes() {
    let tmp = tempdir();
    let path = write_scenario(
        tmp.path(),
        "sweep.toml",
        scenario("\"drugs.nsaid.p_response\" = { from = 0.2, to = 0.8, steps = 2 }\n")
            .replace("2000", "1100"),
    );
    let whole = run_into(&[path.to_str().unwrap()], &tmp.path().join("whole"), &[]);
    let dirs: Vec<PathBuf> = (0..3).map(|k| tmp.path().join(format!("s{k}"))).collect();
    for (k, d) in dirs.iter().enumerate() {
        success(
            crmo()
                .arg("run")
                .arg(&path)
                .args(["--shard", &format!("{k}/3"), "-q", "--out"])
                .arg(d),
        );
    }
    let merged = tmp.path().join("merged");
    success(
        crmo()
            .arg("merge")
            .args(&dirs)
            .arg("--out")
            .arg(&merged)
            .args(["-q", "--no-plots"]),
    );
    let m = files(&merged);
    assert!(
        whole["sweep.csv"] == m["sweep.csv"],
        "sweep.csv of the merge differs"
    );
    let header = String::from_utf8_lossy(&m["sweep.csv"])
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        header.starts_with("point,natural_history.flare_rate_per_year,drugs.nsaid.p_response,arm"),
        "{header}"
    );
}

#[test]
fn bad_sweeps_are_refused_with_a_location() {
    let tmp = tempdir();
    let base = "seed = 1\npatients = 10\n[[arm]]\nname = \"early\"\nladder = [\"nsaid\", \"methotrexate\"]\n[sweep]\n";
    let cases = [
        (
            "\"natural_history.flare_rat\" = [1, 2]\n",
            "line 7, column 1",
            "unknown field `flare_rat`",
        ),
        (
            "\"natural_history.flare_rate_per_year\" = [1, -2]\n",
            "line 7, column 1",
            "flare_rate_per_year = -2",
        ),
        (
            "\"natural_history.flare_rate_per_year\" = \"fast\"\n",
            "line 7, column 41",
            "give a list of numbers",
        ),
        (
            "\"arm.late.min_weeks_on_step\" = [4, 8]\n",
            "line 7, column 1",
            "no arm named `late` (arms: early)",
        ),
        (
            "\"natural_history.flare_rate_per_year\" = { from = 1, to = 2, steps = 1 }\n",
            "line 7, column 41",
            "`steps` from 2",
        ),
        (
            "\"natural_history.flare_rate_per_year\" = [1, 2]\nmetric = \"flares\"\n",
            "line 8, column 10",
            "unknown metric `flares`",
        ),
    ];
    for (i, (sweep, at, what)) in cases.iter().enumerate() {
        let path = write_scenario(
            tmp.path(),
            &format!("bad{i}.toml"),
            format!("{base}{sweep}"),
        );
        for cmd in ["check", "run"] {
            let o = if cmd == "check" {
                output(crmo().arg("check").arg(&path))
            } else {
                output(
                    crmo()
                        .arg("run")
                        .arg(&path)
                        .arg("--out")
                        .arg(tmp.path().join("o"))
                        .arg("-q"),
                )
            };
            assert_eq!(o.code, Some(2), "{cmd} {sweep}: {o:#?}");
            assert!(
                o.stderr.contains(at) && o.stderr.contains(what),
                "{cmd} {sweep}: {}",
                o.stderr
            );
        }
    }
    // A sweep of an arm's rule by the arm's name works.
    let path = write_scenario(
        tmp.path(),
        "good.toml",
        format!("{base}\"arm.early.min_weeks_on_step\" = [4, 8]\n"),
    );
    let listing = success(crmo().arg("check").arg(&path)).stdout;
    assert!(
        listing.contains("arm.early.min_weeks_on_step = 4, 8"),
        "{listing}"
    );
}

/// The sweep of issue 20: acne at onset at two values, 200 patients.
const ACNE_SWEEP: &str =
    "name = \"sw\"\npatients = 200\n[sweep]\n\"natural_history.p_acne_at_onset\" = [0.1, 0.2]\n";

/// `--patients` and `--seed` reach every grid point: the sweep run with them
/// writes the same sweep.csv as the scenario with those values written in,
/// another one than without them, and the manifest records every point as
/// it ran.
#[test]
fn a_sweep_runs_with_the_command_lines_patients_and_seed() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "sw.toml", ACNE_SWEEP);
    let written = write_scenario(
        tmp.path(),
        "sw-written.toml",
        ACNE_SWEEP.replace("patients = 200", "patients = 5000\nseed = 99"),
    );
    let plain = run_into(&[path.to_str().unwrap()], &tmp.path().join("plain"), &[]);
    let overridden = run_into(
        &[path.to_str().unwrap(), "--patients", "5000", "--seed", "99"],
        &tmp.path().join("overridden"),
        &[],
    );
    let in_file = run_into(&[written.to_str().unwrap()], &tmp.path().join("file"), &[]);
    assert!(
        plain["sweep.csv"] != overridden["sweep.csv"],
        "--patients 5000 --seed 99 left sweep.csv unchanged"
    );
    assert!(
        overridden["sweep.csv"] == in_file["sweep.csv"],
        "the overrides do not run what the same values in the file run"
    );
    let m = manifest(&overridden);
    assert_eq!(
        (m["patients"].as_u64(), m["seed"].as_u64()),
        (Some(5000), Some(99))
    );
    let points = m["sweep"]["points"]
        .as_array()
        .expect("sweep points in the manifest");
    assert_eq!(points.len(), 2);
    for (p, value) in points.iter().zip([0.1, 0.2]) {
        assert_eq!(p["values"][0].as_f64(), Some(value), "{p}");
        assert_eq!(
            (p["patients"].as_u64(), p["seed"].as_u64()),
            (Some(5000), Some(99)),
            "{p}"
        );
    }
    assert_eq!(
        m["sweep"]["parameters"][0].as_str(),
        Some("natural_history.p_acne_at_onset")
    );
}

/// `check` and `run` agree on the run size of a sweep with `--patients`:
/// 150 points of 10,000,000 patients are refused by both, and by both
/// accepted with `--patients 1`, which then runs 1 patient a point.
#[test]
fn check_and_run_agree_on_the_size_of_a_sweep_with_patients() {
    let tmp = tempdir();
    let path = write_scenario(
        tmp.path(),
        "big.toml",
        "name = \"big\"\npatients = 10000000\n[sweep]\n\"natural_history.p_acne_at_onset\" = { from = 0.0, to = 0.5, steps = 150 }\n",
    );
    let out = tmp.path().join("out");
    let run = |extra: &[&str]| {
        output(
            crmo()
                .arg("run")
                .arg(&path)
                .args(extra)
                .arg("--out")
                .arg(&out)
                .args(["-q", "--no-plots"]),
        )
    };
    let check = |extra: &[&str]| output(crmo().arg("check").arg(&path).args(extra));
    for o in [check(&[]), run(&[])] {
        assert_eq!(o.code, Some(2), "{o:#?}");
        assert!(
            o.stderr.contains("10000000 patients x 1 replicate(s) x 1 arm(s) x 150 grid points = 1500000000 patient courses"),
            "{}",
            o.stderr
        );
        assert!(!out.exists(), "a refused run wrote {}", out.display());
    }
    assert_eq!(check(&["--patients", "1"]).code, Some(0));
    let o = run(&["--patients", "1"]);
    assert_eq!(o.code, Some(0), "{o:#?}");
    let m = manifest(&files(&out));
    let points = m["sweep"]["points"].as_array().expect("sweep points");
    assert_eq!(points.len(), 150);
    assert!(points.iter().all(|p| p["patients"].as_u64() == Some(1)));
    // And the other way round: patients the file allows, too many on the command line.
    let small = write_scenario(
        tmp.path(),
        "small.toml",
        "patients = 1\n[sweep]\n\"natural_history.p_acne_at_onset\" = { from = 0.0, to = 0.5, steps = 150 }\n",
    );
    for cmd in ["check", "run"] {
        let o = output(
            crmo()
                .arg(cmd)
                .arg(&small)
                .args(["--patients", "10000000", "--out"])
                .arg(tmp.path().join("small-out"))
                .arg("-q")
                .args(if cmd == "check" {
                    &[][..]
                } else {
                    &["--no-plots"][..]
                }),
        );
        assert_eq!(o.code, Some(2), "{cmd}: {o:#?}");
    }
}

/// The sweep-size message gives the figures the scenario has (not a
/// 100-year horizon it does not have), and a 182-point sweep over 10 years
/// is as allowed as the rule of docs/scenarios.md ("Limits") says; one over 100 years is not.
#[test]
fn the_sweep_size_rule_and_message_follow_the_readme() {
    let tmp = tempdir();
    let sweep = |horizon: u32| {
        format!("patients = 10\nhorizon_years = {horizon}\n[sweep]\n\"natural_history.p_acne_at_onset\" = {{ from = 0.0, to = 0.5, steps = 182 }}\n")
    };
    let fits = write_scenario(tmp.path(), "fits.toml", sweep(10));
    let listing = success(crmo().arg("check").arg(&fits)).stdout;
    assert!(listing.contains("182 grid point(s)"), "{listing}");
    let long = write_scenario(tmp.path(), "long.toml", sweep(100));
    let o = output(crmo().arg("check").arg(&long));
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(
        o.stderr.contains("182 grid points x (1 replicate(s) + 10 for the curves) x 1 arm(s) x 100 horizon years = 200200 in all; at most 200000"),
        "{}",
        o.stderr
    );
    let many = write_scenario(
        tmp.path(),
        "many.toml",
        "patients = 1\nhorizon_years = 0.1\n[sweep]\n\"natural_history.p_acne_at_onset\" = { from = 0.0, to = 0.5, steps = 40 }\n\"natural_history.p_ppp_at_onset\" = { from = 0.0, to = 0.5, steps = 26 }\n",
    );
    let o = output(crmo().arg("check").arg(&many));
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(
        o.stderr.contains("1040 grid points; at most 1000"),
        "{}",
        o.stderr
    );
}

/// `--patients` or `--seed` cannot override a field the sweep itself varies.
#[test]
fn an_override_of_a_swept_field_is_refused() {
    let tmp = tempdir();
    let path = write_scenario(
        tmp.path(),
        "seeds.toml",
        "patients = 10\n[sweep]\nseed = [1, 2]\n",
    );
    success(crmo().arg("check").arg(&path));
    for cmd in ["check", "run"] {
        let o = output(crmo().arg(cmd).arg(&path).args(["--seed", "5"]));
        assert_eq!(o.code, Some(2), "{cmd}: {o:#?}");
        assert!(
            o.stderr
                .contains("--seed cannot be used with a [sweep] of `seed`"),
            "{}",
            o.stderr
        );
    }
}

/// The CSV records of `bytes` after the header, as lists of cells.
fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::Reader::from_reader(bytes)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(String::from).collect())
        .collect()
}

/// The first line of a CSV file.
fn header(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Issue 25: a sweep's directory holds `metrics.csv`, `differences.csv`
/// (two arms) and `report.html` beside `sweep.csv`. Each point's rows of
/// the three tables are, cell for cell, the `summary.csv`, `metrics.csv`
/// and `differences.csv` of a plain run of that point's scenario (the
/// swept value written into the file, no `[sweep]`): an independent run,
/// compared as printed.
#[test]
fn every_sweep_point_has_the_tables_of_a_plain_run_of_its_scenario() {
    let tmp = tempdir();
    let base = "name = \"sweep\"\nseed = 21\npatients = 600\nhorizon_years = 5\n";
    let arms = "[[arm]]\nname = \"nsaid\"\nladder = [\"nsaid\", \"methotrexate\"]\n\
                [[arm]]\nname = \"none\"\nuntreated = true\n";
    let sweep = write_scenario(
        tmp.path(),
        "sweep.toml",
        format!("{base}{arms}[sweep]\n\"natural_history.flare_rate_per_year\" = [0.5, 2.0]\n"),
    );
    let point_1 = write_scenario(
        tmp.path(),
        "point-1.toml",
        format!("{base}[natural_history]\nflare_rate_per_year = 2.0\n{arms}"),
    );
    let swept = run_into(&[sweep.to_str().unwrap()], &tmp.path().join("sweep"), &[]);
    let plain = run_into(&[point_1.to_str().unwrap()], &tmp.path().join("plain"), &[]);
    let p = "point,natural_history.flare_rate_per_year";
    for (name, columns) in [
        ("sweep.csv", "arm,metric,mean,lower_95,upper_95,mcse"),
        ("metrics.csv", "metric,unit,population,definition"),
        (
            "differences.csv",
            "arm,reference_arm,metric,paired_on,mean_difference,lower_95,upper_95,std_error",
        ),
    ] {
        assert_eq!(header(&swept[name]), format!("{p},{columns}"), "{name}");
    }
    assert!(swept.contains_key("report.html"), "no report.html");
    for (name, plain_name) in [
        ("sweep.csv", "summary.csv"),
        ("metrics.csv", "metrics.csv"),
        ("differences.csv", "differences.csv"),
    ] {
        let of_point: Vec<Vec<String>> = records(&swept[name])
            .into_iter()
            .filter(|r| r[0] == "1")
            .map(|r| {
                assert_eq!(r[1], "2", "{name}: the swept value of point 1");
                r[2..].to_vec()
            })
            .collect();
        let expected = records(&plain[plain_name]);
        assert!(!expected.is_empty(), "{plain_name} is empty");
        assert!(
            of_point == expected,
            "{name} at point 1 differs from {plain_name} of the plain run"
        );
    }
    let report = String::from_utf8_lossy(&swept["report.html"]);
    for part in [
        "id=\"sweep-table\"",
        "Point 0: natural_history.flare_rate_per_year = 0.5",
        "id=\"differences-table-1\"",
    ] {
        assert!(report.contains(part), "report.html lacks {part}");
    }
}

/// Every number of a sweep's tables is written as `summary.csv` writes it:
/// at most 6 decimals, no trailing zeros.
#[test]
fn sweep_numbers_have_at_most_six_decimals() {
    let tmp = tempdir();
    let path = write_scenario(
        tmp.path(),
        "sweep.toml",
        scenario("").replace("2000", "300"),
    );
    let f = run_into(&[path.to_str().unwrap()], &tmp.path().join("out"), &[]);
    let mut numbers = 0;
    for name in ["sweep.csv", "differences.csv"] {
        for cell in records(&f[name]).iter().flatten() {
            if cell.parse::<f64>().is_err() {
                continue;
            }
            numbers += 1;
            if let Some((_, decimals)) = cell.split_once('.') {
                assert!(
                    decimals.len() <= 6 && !decimals.ends_with('0'),
                    "{name}: {cell}"
                );
            }
        }
    }
    assert!(numbers > 100, "only {numbers} numbers");
}
