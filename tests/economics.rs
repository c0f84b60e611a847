//! Health economics: costs and QALYs against closed forms, the incremental
//! analysis against an independent frontier, the PSA files against values
//! recomputed from `replicates.csv`, determinism across threads and shards,
//! and refusals of bad `[economics]` input.
//!
//! Statistical checks use a fixed seed and the tolerance
//! `|estimate - expected| < 4 * se` (two-sided false-alarm rate 6.3e-5 per
//! comparison for a normal estimate).

use crmo_sim::engine::cohort::NoRows;
use crmo_sim::results::CohortResult;
use crmo_sim::scenario::parse;
use crmo_sim::study::Study;

/// Runs a scenario text through the library.
fn run(text: &str) -> CohortResult {
    let study = Study::resolve(parse(text, "test.toml").expect("valid scenario")).unwrap();
    study.run(&mut NoRows, &|_| {}).unwrap()
}

/// `(mean, mcse)` of `metric` in arm `arm` of `summary.csv`'s rows.
fn summary(res: &CohortResult, arm: &str, metric: &str) -> (f64, f64) {
    let r = res
        .summary()
        .iter()
        .find(|r| r.arm == arm && r.metric == metric)
        .unwrap_or_else(|| panic!("no row {arm}/{metric}"));
    (r.mean, r.mcse)
}

/// `scenarios/two-state.toml` with utilities flare 0.5, remission and
/// resolved 1, QALYs discounted at 3.5%.
fn two_state_with_economics() -> String {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/two-state.toml"
    ))
    .unwrap();
    format!(
        "{base}
[economics]
discount_effects = 0.035

[economics.utilities]
flare = 0.5
remission = 1.0
resolved = 1.0
"
    )
}

/// ∫₀¹⁰ (1.035)^(−t) [1 − 0.5 · P_flare(t)] dt with
/// P_flare(t) = b/(a+b) + a/(a+b)·e^(−(a+b)t), a = 365.25/30, b = 2 per
/// year, in closed form: with r = ln 1.035 and s = a + b,
/// ∫₀ᴴ e^(−rt) dt = (1 − e^(−rH))/r and ∫₀ᴴ e^(−(r+s)t) dt = (1 − e^(−(r+s)H))/(r+s).
fn two_state_discounted_qalys() -> f64 {
    let (a, b, h) = (365.25 / 30.0, 2.0, 10.0);
    let (r, s) = (1.035f64.ln(), a + b);
    let plain = (1.0 - (-r * h).exp()) / r;
    let decay = (1.0 - (-(r + s) * h).exp()) / (r + s);
    let flare = b / s * plain + a / s * decay;
    plain - 0.5 * flare
}

#[test]
fn two_state_qalys_match_the_closed_form() {
    let res = run(&two_state_with_economics());
    assert_eq!(res.patients, 200_000);
    let arm = "natural_history";
    let (q, se) = summary(&res, arm, "qalys_per_patient");
    let expected = two_state_discounted_qalys();
    let z = (q - expected) / se;
    println!("discounted QALYs {q:.6}, closed form {expected:.6}, se {se:.6}, z {z:+.2}");
    assert!(se > 0.0 && z.abs() < 4.0, "z = {z}");
    // Undiscounted: 10 years at utility 1 less 0.5 per year in a flare.
    let (undiscounted, _) = summary(&res, arm, "qalys_undiscounted_per_patient");
    let (flare_frac, _) = summary(&res, arm, "time_in_flare_frac");
    let identity = 10.0 - 0.5 * 10.0 * flare_frac;
    println!("undiscounted QALYs {undiscounted:.9}, 10 - 5 * time_in_flare_frac = {identity:.9}");
    assert!((undiscounted - identity).abs() < 1e-6);
}

/// Writes `text` to a temporary scenario file and runs `check` on it.
fn check_refuses(text: &str, line_col: &str, words: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crmo-sim"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains(line_col), "{stderr}");
    assert!(stderr.contains(words), "{stderr}");
}

#[test]
fn bad_economics_input_is_refused_with_its_place() {
    check_refuses(
        "patients = 10\n[economics.costs]\nvisit = -5\n",
        "line 3, column 9",
        "expected a finite number of 0 or more",
    );
    check_refuses(
        "[economics.utilities]\nremission = 1.01\n",
        "line 2, column 13",
        "expected a utility from -1 to 1",
    );
    check_refuses(
        "[economics]\ndiscount_costs = 0.21\n",
        "line 2, column 18",
        "discount rate from 0 to 0.2",
    );
    check_refuses(
        "[economics]\ndiscount_effects = -0.01\n",
        "line 2, column 20",
        "discount rate from 0 to 0.2",
    );
    check_refuses(
        "[economics]\nwtp = []\n",
        "line 2, column 7",
        "`wtp` is empty",
    );
    check_refuses(
        "[economics]\nwtp = { max = 1000, step = 0 }\n",
        "line 2, column 7",
        "step a finite number above 0",
    );
    check_refuses(
        "[drugs.nsaid]\ncost_per_course = -1\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n",
        "line 2, column 19",
        "expected a finite number of 0 or more",
    );
    check_refuses(
        "[economics.costs]\nflare = { dist = \"normal\", mean = 100, sd = 50 }\n",
        "line 2, column 9",
        "add `min`/`max` bounds",
    );
}

/// A PSA over two strategies whose ranking changes within the threshold
/// grid: distributions on drug effects and on the TNF inhibitor's cost,
/// and on the cost of radiographs, which no arm uses (imaging is MRI).
const PSA_STUDY: &str = r#"name = "psa-test"
seed = 5
patients = 300
replicates = 200
horizon_years = 5

[drugs.nsaid]
p_response = { dist = "beta", alpha = 16, beta = 4 }
[drugs.tnf_inhibitor]
flare_hazard_ratio = { dist = "lognormal", median = 0.4, sdlog = 0.5, max = 1.5 }
cost_per_day = { dist = "gamma", mean = 10, shape = 4 }

[[arm]]
name = "nsaid"
ladder = ["nsaid"]

[[arm]]
name = "nsaid-tnf"
ladder = ["nsaid", "tnf_inhibitor"]

[[arm]]
name = "untreated"
untreated = true

[[arm]]
name = "nsaid-methotrexate"
ladder = ["nsaid", "methotrexate"]

[drugs.placebo]
p_response = 0
cost_per_day = 2

[[arm]]
name = "placebo"
ladder = ["placebo"]

[economics]
wtp = { max = 200000, step = 20000 }
[economics.costs]
imaging_radiograph = { dist = "gamma", mean = 60, shape = 10 }
"#;

/// Runs `crmo-sim ARGS --out OUT -q --no-plots`; panics on failure.
fn cli(args: &[&str], out: &std::path::Path) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_crmo-sim"))
        .args(args)
        .args(["-q", "--no-plots", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A CSV file as rows of fields keyed by the header.
fn read_csv(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// `|a - b| <= 1e-6 · max(|a|, |b|)` (or both below 1e-9).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) || (a - b).abs() < 1e-9
}

/// Per arm, per replicate, (costs, QALYs) read back from `replicates.csv`.
fn replicate_table(dir: &std::path::Path, arms: &[&str]) -> Vec<Vec<(f64, f64)>> {
    let rows = read_csv(&dir.join("replicates.csv"));
    arms.iter()
        .map(|arm| {
            let get = |metric: &str| -> Vec<f64> {
                let mut v: Vec<(usize, f64)> = rows
                    .iter()
                    .filter(|r| r["arm"] == *arm && r["metric"] == metric)
                    .map(|r| (r["replicate"].parse().unwrap(), num(&r["value"])))
                    .collect();
                v.sort_by_key(|x| x.0);
                v.into_iter().map(|x| x.1).collect()
            };
            get("costs_per_patient")
                .into_iter()
                .zip(get("qalys_per_patient"))
                .collect()
        })
        .collect()
}

/// An independent frontier: a strategy is dominated if another costs no
/// more and gives at least as many QALYs (one strictly), extendedly
/// dominated if it lies above the lower convex hull of the others in the
/// cost-effectiveness plane (some pair of undominated strategies, one
/// less and one more effective, mixes to fewer costs at its QALYs).
fn independent_status(c: &[f64], q: &[f64]) -> Vec<&'static str> {
    let n = c.len();
    let dominated: Vec<bool> = (0..n)
        .map(|k| {
            (0..n).any(|j| j != k && c[j] <= c[k] && q[j] >= q[k] && (c[j] < c[k] || q[j] > q[k]))
        })
        .collect();
    let extended: Vec<bool> = (0..n)
        .map(|k| {
            !dominated[k]
                && (0..n).any(|i| {
                    (0..n).any(|j| {
                        !dominated[i] && !dominated[j] && q[i] < q[k] && q[k] < q[j] && {
                            let w = (q[k] - q[i]) / (q[j] - q[i]);
                            c[i] + w * (c[j] - c[i]) < c[k]
                        }
                    })
                })
        })
        .collect();
    let cheapest = (0..n)
        .filter(|&k| !dominated[k] && !extended[k])
        .min_by(|&a, &b| c[a].total_cmp(&c[b]))
        .unwrap();
    (0..n)
        .map(|k| {
            if dominated[k] {
                "dominated"
            } else if extended[k] {
                "extendedly_dominated"
            } else if k == cheapest {
                "reference"
            } else {
                "frontier"
            }
        })
        .collect()
}

#[test]
fn cea_ceac_evpi_and_evppi_agree_with_values_recomputed_from_replicates() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("psa.toml");
    std::fs::write(&path, PSA_STUDY).unwrap();
    let out = tmp.path().join("out");
    cli(&["run", path.to_str().unwrap()], &out);
    let arms = [
        "nsaid",
        "nsaid-tnf",
        "untreated",
        "nsaid-methotrexate",
        "placebo",
    ];
    let table = replicate_table(&out, &arms);
    let reps = table[0].len();
    assert_eq!(reps, 200);

    // cea.csv against the independent frontier on the arm means.
    let means: Vec<(f64, f64)> = table
        .iter()
        .map(|v| {
            let n = v.len() as f64;
            (
                v.iter().map(|x| x.0).sum::<f64>() / n,
                v.iter().map(|x| x.1).sum::<f64>() / n,
            )
        })
        .collect();
    let (c, q): (Vec<f64>, Vec<f64>) = means.iter().copied().unzip();
    let expected = independent_status(&c, &q);
    let cea = read_csv(&out.join("cea.csv"));
    assert_eq!(cea.len(), arms.len());
    let costs_in_order: Vec<f64> = cea.iter().map(|r| num(&r["costs"])).collect();
    assert!(
        costs_in_order.windows(2).all(|w| w[0] <= w[1]),
        "sorted by costs"
    );
    let mut previous: Option<usize> = None;
    let mut order: Vec<usize> = (0..arms.len()).collect();
    order.sort_by(|&a, &b| c[a].total_cmp(&c[b]));
    for (row, &a) in cea.iter().zip(&order) {
        assert_eq!(row["arm"], arms[a]);
        assert!(close(num(&row["costs"]), c[a]) && close(num(&row["qalys"]), q[a]));
        assert_eq!(row["status"], expected[a], "arm {}", arms[a]);
        match expected[a] {
            "reference" => previous = Some(a),
            "frontier" => {
                let p = previous.unwrap();
                let icer = (c[a] - c[p]) / (q[a] - q[p]);
                assert!(close(num(&row["icer"]), icer), "{} vs {icer}", row["icer"]);
                assert!(close(num(&row["incremental_costs"]), c[a] - c[p]));
                previous = Some(a);
            }
            _ => assert_eq!(row["icer"], ""),
        }
    }
    println!("statuses {expected:?}");
    assert_eq!(
        expected[4], "dominated",
        "placebo: the costs of no treatment and more"
    );

    // ceac.csv and evpi.csv from per-replicate NMB = wtp · QALYs − costs.
    let ceac = read_csv(&out.join("ceac.csv"));
    let evpi = read_csv(&out.join("evpi.csv"));
    let wtps: Vec<f64> = evpi.iter().map(|r| num(&r["wtp"])).collect();
    assert_eq!(wtps.len(), 11);
    let mut max_evpi: f64 = 0.0;
    for (i, &wtp) in wtps.iter().enumerate() {
        let nmb = |a: usize, r: usize| wtp * table[a][r].1 - table[a][r].0;
        let mut wins = [0usize; 5];
        let mut perfect = 0.0;
        for r in 0..reps {
            let best = (0..arms.len())
                .max_by(|&x, &y| nmb(x, r).total_cmp(&nmb(y, r)).then(y.cmp(&x)))
                .unwrap();
            wins[best] += 1;
            perfect += nmb(best, r);
        }
        let expected_nmb: Vec<f64> = (0..arms.len())
            .map(|a| (0..reps).map(|r| nmb(a, r)).sum::<f64>() / reps as f64)
            .collect();
        let current = expected_nmb
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let value = perfect / reps as f64 - current;
        let written = num(&evpi[i]["evpi_per_patient"]);
        assert!(
            close(written, value.max(0.0)),
            "wtp {wtp}: {written} vs {value}"
        );
        max_evpi = max_evpi.max(value);
        let mut total = 0.0;
        for (a, arm) in arms.iter().enumerate() {
            let row = ceac
                .iter()
                .find(|r| num(&r["wtp"]) == wtp && r["arm"] == *arm)
                .unwrap();
            let p = num(&row["probability_cost_effective"]);
            assert!(close(p, wins[a] as f64 / reps as f64), "{wtp} {arm}");
            total += p;
            let best = expected_nmb.iter().all(|&x| x <= expected_nmb[a]);
            assert_eq!(row["on_frontier"] == "true", best, "{wtp} {arm}");
        }
        assert!((total - 1.0).abs() < 1e-9);
    }
    assert!(max_evpi > 0.0, "the test study has decision uncertainty");

    // EVPPI within [0, EVPI]; a parameter that changes no arm gets < 10%.
    let evppi = read_csv(&out.join("evppi.csv"));
    for row in &evppi {
        let wtp = num(&row["wtp"]);
        let i = wtps.iter().position(|&w| w == wtp).unwrap();
        let (e, total) = (
            num(&row["evppi_per_patient"]),
            num(&evpi[i]["evpi_per_patient"]),
        );
        assert!(e >= 0.0 && e <= total + 1e-9, "{row:?}");
        if row["parameter"] == "economics.costs.imaging_radiograph" {
            assert!(e <= 0.1 * total, "{row:?} against EVPI {total}");
        }
    }
    let parameters: std::collections::BTreeSet<&str> =
        evppi.iter().map(|r| r["parameter"].as_str()).collect();
    assert_eq!(
        parameters.into_iter().collect::<Vec<_>>(),
        [
            "drugs.nsaid.p_response",
            "drugs.tnf_inhibitor.cost_per_day",
            "drugs.tnf_inhibitor.flare_hazard_ratio",
            "economics.costs.imaging_radiograph"
        ]
    );
}

/// The economics files every equivalent run must reproduce byte for byte.
const ECONOMICS_FILES: [&str; 7] = [
    "summary.csv",
    "replicates.csv",
    "cea.csv",
    "nmb.csv",
    "ceac.csv",
    "evpi.csv",
    "evppi.csv",
];

#[test]
fn threads_and_shards_give_the_same_economics_files() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("psa.toml");
    let small = PSA_STUDY
        .replace("replicates = 200", "replicates = 6")
        .replace("patients = 300", "patients = 2500");
    std::fs::write(&path, small).unwrap();
    let scenario = path.to_str().unwrap();
    let d = |n: &str| tmp.path().join(n);
    cli(&["run", scenario, "--threads", "1"], &d("one"));
    cli(&["run", scenario, "--threads", "2"], &d("two"));
    for k in 0..3 {
        cli(
            &["run", scenario, "--shard", &format!("{k}/3")],
            &d(&format!("shard{k}")),
        );
    }
    let shards: Vec<String> = (0..3)
        .map(|k| d(&format!("shard{k}")).display().to_string())
        .collect();
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    cli(&args, &d("merged"));
    for name in ECONOMICS_FILES {
        let one = std::fs::read(d("one").join(name)).unwrap();
        assert!(!one.is_empty());
        assert_eq!(one, std::fs::read(d("two").join(name)).unwrap(), "{name}");
        assert_eq!(
            one,
            std::fs::read(d("merged").join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn one_way_sensitivity_varies_one_parameter_on_the_same_patients() {
    use crmo_sim::economics::owsa::{owsa, ranges, with_values, OwsaOutcome};
    let text = PSA_STUDY.replace("patients = 300", "patients = 400");
    let loaded = parse(&text, "psa.toml").unwrap();
    let r = ranges(&loaded).unwrap();
    let cost = r
        .iter()
        .find(|r| r.parameter == "drugs.tnf_inhibitor.cost_per_day")
        .unwrap();
    // gamma(mean 10, shape 4) = 1.25 · chi-square(8): percentiles 1.25 · 2.1797
    // and 1.25 · 17.5345; 100,001 draws put them within 1%.
    assert!(
        (cost.low_value / (1.25 * 2.1797) - 1.0).abs() < 0.01,
        "{cost:?}"
    );
    assert!(
        (cost.high_value / (1.25 * 17.5345) - 1.0).abs() < 0.01,
        "{cost:?}"
    );
    assert!((cost.base_value / 10.0 - 1.0).abs() < 0.01, "{cost:?}");
    let wtp = 60_000.0;
    let rows = owsa(&loaded, &OwsaOutcome::IncrementalNmb { wtp }, &|_, _| {}).unwrap();
    assert_eq!(
        rows.len(),
        r.len() * 4,
        "one row per parameter and arm after the first"
    );
    // The base: every parameter at its mean, one replicate, the same patients.
    let base_values: Vec<(&str, f64)> = r
        .iter()
        .map(|x| (x.parameter.as_str(), x.base_value))
        .collect();
    let base = with_values(&loaded, &base_values)
        .unwrap()
        .run(&mut NoRows, &|_| {})
        .unwrap();
    let nmb = |res: &CohortResult, arm: &str| {
        let (c, _) = summary(res, arm, "costs_per_patient");
        let (q, _) = summary(res, arm, "qalys_per_patient");
        wtp * q - c
    };
    let expected_base = nmb(&base, "nsaid-tnf") - nmb(&base, "nsaid");
    for row in &rows {
        let first = rows.iter().find(|x| x.outcome == row.outcome).unwrap();
        assert_eq!(row.base, first.base, "one base run for every parameter");
        if row.outcome == "incremental_nmb_nsaid-tnf_vs_nsaid" {
            assert!((row.base - expected_base).abs() < 1e-6 * expected_base.abs().max(1.0));
        }
        if row.parameter == "economics.costs.imaging_radiograph" {
            // Radiographs are never taken: the outcome does not move.
            assert_eq!((row.low, row.high), (row.base, row.base), "{row:?}");
        }
        if row.parameter == "drugs.tnf_inhibitor.cost_per_day"
            && row.outcome == "incremental_nmb_nsaid-tnf_vs_nsaid"
        {
            assert!(row.high < row.base && row.base < row.low, "{row:?}");
        }
    }
}
