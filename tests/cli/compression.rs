//! `[output] compression = "gzip"`: `patients.csv.gz` and `events.csv.gz`
//! decompress to the bytes of the plain files, and are byte-identical
//! across thread counts and shard splits (merge recompresses the shards'
//! parts into the bytes of one run).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use crate::util::{crmo, files, output, run_into, success, tempdir, write_scenario};

/// Two arms, two replicates, 2100 patients (3 chunks a replicate), both
/// per-patient files.
fn study(compression: &str) -> String {
    format!(
        r#"name = "gz"
seed = 11
patients = 2100
horizon_years = 3
replicates = 2
[output]
patients = true
events = true
compression = "{compression}"
[[arm]]
name = "nsaid_first"
ladder = ["nsaid", "methotrexate"]
[[arm]]
name = "untreated"
untreated = true
"#
    )
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip stream");
    out
}

const GZ_FILES: [&str; 2] = ["patients.csv.gz", "events.csv.gz"];

fn assert_same(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    for name in
        GZ_FILES
            .iter()
            .chain(&["summary.csv", "timeseries.csv", "km.csv", "differences.csv"])
    {
        assert!(a.contains_key(*name), "{what}: {name} missing");
        assert!(a.get(*name) == b.get(*name), "{what}: {name} differs");
    }
}

#[test]
fn gzip_files_hold_the_plain_bytes_and_do_not_depend_on_threads() {
    let tmp = tempdir();
    let gz = write_scenario(tmp.path(), "gz.toml", study("gzip"));
    let plain = write_scenario(tmp.path(), "plain.toml", study("none"));
    let p = run_into(&[plain.to_str().unwrap()], &tmp.path().join("p"), &[]);
    let one = run_into(
        &[gz.to_str().unwrap(), "--threads", "1"],
        &tmp.path().join("g1"),
        &[],
    );
    let two = run_into(
        &[gz.to_str().unwrap(), "--threads", "2"],
        &tmp.path().join("g2"),
        &[],
    );
    for name in ["patients.csv", "events.csv"] {
        assert!(!one.contains_key(name), "{name} written beside {name}.gz");
        let packed = &one[&format!("{name}.gz")];
        assert!(packed.len() * 2 < p[name].len(), "{name}.gz barely smaller");
        assert!(gunzip(packed) == p[name], "{name}.gz is not {name}");
    }
    // The other files (and their readers) do not change with compression.
    for name in [
        "summary.csv",
        "timeseries.csv",
        "km.csv",
        "differences.csv",
        "metrics.csv",
    ] {
        assert!(one[name] == p[name], "{name} changed with compression");
    }
    assert_same(&one, &two, "--threads 1 vs 2");
    let manifest: serde_json::Value = serde_json::from_slice(&one["manifest.json"]).unwrap();
    assert!(
        manifest["sha256"]["events.csv.gz"].is_string(),
        "{manifest}"
    );
}

#[test]
fn merged_gzip_shards_give_the_bytes_of_one_run() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "gz.toml", study("gzip"));
    let whole = run_into(&[path.to_str().unwrap()], &tmp.path().join("whole"), &[]);
    let dirs: Vec<PathBuf> = (0..3).map(|k| tmp.path().join(format!("s{k}"))).collect();
    for (k, dir) in dirs.iter().enumerate() {
        let mut cmd = crmo();
        cmd.arg("run")
            .arg(&path)
            .args(["--shard", &format!("{k}/3"), "-q", "--out"])
            .arg(dir)
            .args(["--threads", &(k % 2 + 1).to_string()]);
        success(&mut cmd);
        assert!(dir.join("events.csv.gz").is_file(), "shard {k} part");
    }
    let merged = tmp.path().join("merged");
    let mut cmd = crmo();
    cmd.arg("merge")
        .args([&dirs[1], &dirs[2], &dirs[0]])
        .arg("--out")
        .arg(&merged)
        .args(["-q", "--no-plots"]);
    success(&mut cmd);
    assert_same(&whole, &files(&merged), "merge of 3 shards vs one run");

    // A damaged part is refused, naming it.
    let part = dirs[1].join("events.csv.gz");
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    let mut cmd = crmo();
    cmd.arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(tmp.path().join("again"))
        .args(["-q", "--no-plots"]);
    let o = output(&mut cmd);
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(o.stderr.contains("events.csv.gz is damaged"), "{o:#?}");
    assert!(
        !tmp.path().join("again").exists(),
        "a failed merge left output"
    );
}
