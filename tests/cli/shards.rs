//! Shards and merge: `run --shard K/N` as separate processes, merged, gives
//! the bytes of one run; a missing, duplicated or foreign shard is refused;
//! `check` and `run` refuse the same scenarios, with a location.

use std::path::{Path, PathBuf};

use crate::util::{crmo, files, output, run_into, success, tempdir, write_scenario, Output};

/// Two arms (so `differences.csv`), three replicates with drawn parameters
/// (so `parameters.csv`, `replicates.csv`), per-patient rows, and 2100
/// patients: 3 chunks a replicate, 9 work units to split.
const STUDY: &str = r#"name = "sharded"
seed = 7
patients = 2100
horizon_years = 4
replicates = 3
[natural_history]
flare_rate_per_year = { dist = "lognormal", median = 1.5, sdlog = 0.3 }
[drugs.nsaid]
p_response = { dist = "beta", alpha = 6, beta = 4 }
[output]
patients = true
[[arm]]
name = "nsaid_first"
ladder = ["nsaid", "methotrexate"]
[[arm]]
name = "untreated"
untreated = true
"#;

/// The files every merged result must reproduce byte for byte.
const COMPARED: [&str; 7] = [
    "summary.csv",
    "timeseries.csv",
    "km.csv",
    "differences.csv",
    "parameters.csv",
    "replicates.csv",
    "patients.csv",
];

fn shard(scenario: &Path, k: u32, n: u32, out: &Path, extra: &[&str]) {
    let mut cmd = crmo();
    cmd.arg("run")
        .arg(scenario)
        .args(["--shard", &format!("{k}/{n}"), "-q", "--out"])
        .arg(out)
        .args(extra);
    success(&mut cmd);
}

fn merge(dirs: &[PathBuf], out: &Path) -> Output {
    let mut cmd = crmo();
    cmd.arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .args(["-q", "--no-plots"]);
    output(&mut cmd)
}

#[test]
fn three_shards_merge_to_the_bytes_of_one_run() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "study.toml", STUDY);
    let whole = run_into(&[path.to_str().unwrap()], &tmp.path().join("whole"), &[]);
    let dirs: Vec<PathBuf> = (0..3)
        .map(|k| tmp.path().join(format!("shard{k}")))
        .collect();
    // Separate processes, different thread counts, merged in another order.
    for (k, dir) in dirs.iter().enumerate() {
        shard(
            &path,
            k as u32,
            3,
            dir,
            &["--threads", &(k % 2 + 1).to_string()],
        );
    }
    let o = merge(
        &[dirs[2].clone(), dirs[0].clone(), dirs[1].clone()],
        &tmp.path().join("merged"),
    );
    assert_eq!(o.code, Some(0), "{o:#?}");
    let merged = files(&tmp.path().join("merged"));
    for name in COMPARED {
        assert!(whole.contains_key(name), "the run wrote no {name}");
        assert!(
            merged.get(name) == whole.get(name),
            "{name} of the merge differs from the single run"
        );
    }
}

#[test]
fn missing_duplicated_and_foreign_shards_are_refused() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "study.toml", STUDY.replace("2100", "1100"));
    let d = |name: &str| tmp.path().join(name);
    for k in 0..3 {
        shard(&path, k, 3, &d(&format!("s{k}")), &[]);
    }
    shard(&path, 1, 3, &d("other-seed"), &["--seed", "8"]);
    shard(&path, 1, 4, &d("other-split"), &[]);
    let out = d("merged");
    let cases: [(&[&str], &str); 5] = [
        (&["s0", "s1"], "missing shard 2/3"),
        (&["s0", "s1", "s1", "s2"], "shard 1/3 is given twice"),
        (&["s0", "other-seed", "s2"], "another seed (8 against 7)"),
        (&["s0", "s2", "other-split"], "another split"),
        (
            &["s0", "s1", "nothing-here"],
            "is not a crmo-sim shard directory",
        ),
    ];
    for (given, expect) in cases {
        let dirs: Vec<PathBuf> = given.iter().map(|n| d(n)).collect();
        let o = merge(&dirs, &out);
        assert_eq!(o.code, Some(2), "{given:?}: {o:#?}");
        assert!(o.stderr.contains(expect), "{given:?}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert!(!out.exists(), "{given:?}: a refused merge wrote output");
    }
    let other = write_scenario(
        tmp.path(),
        "other.toml",
        STUDY.replace("seed = 7", "seed = 7 # edited"),
    );
    shard(&other, 2, 3, &d("other-text"), &[]);
    let o = merge(&[d("s0"), d("s1"), d("other-text")], &out);
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(o.stderr.contains("another scenario"), "{}", o.stderr);
}

/// What `check` refuses, `run` refuses, with the same located message, and
/// the other way round.
#[test]
fn check_and_run_refuse_the_same_limits_with_a_location() {
    let tmp = tempdir();
    let many: Vec<String> = (0..17).map(|i| format!("d{i}")).collect();
    let mut seventeen = String::new();
    for d in &many {
        seventeen += &format!("[drugs.{d}]\np_response = 0.5\n");
    }
    seventeen += &format!(
        "[[arm]]\nname = \"many\"\nladder = [{}]\n",
        many.iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let cases = [
        (
            "five.toml",
            "[[arm]]\nname = \"big\"\nladder = [\"nsaid\", \"nsaid+methotrexate+sulfasalazine+pamidronate+tnf_inhibitor\"]\n"
                .to_string(),
            "line 3, column 20",
            "combines 5 drugs; at most 4",
        ),
        ("seventeen.toml", seventeen, "line 37, column", "more than 16 different drugs"),
    ];
    for (name, text, at, what) in cases {
        let path = write_scenario(tmp.path(), name, text);
        let check = output(crmo().arg("check").arg(&path));
        let out = tmp.path().join(format!("{name}.out"));
        let run = output(
            crmo()
                .arg("run")
                .arg(&path)
                .arg("--out")
                .arg(&out)
                .arg("-q"),
        );
        for (cmd, o) in [("check", &check), ("run", &run)] {
            assert_eq!(o.code, Some(2), "{cmd} {name}: {o:#?}");
            assert!(
                o.stderr.contains(at) && o.stderr.contains(what),
                "{cmd} {name}: {}",
                o.stderr
            );
        }
        assert_eq!(check.stderr, run.stderr, "{name}: check and run disagree");
        assert!(!out.exists());
    }
}

/// `merge --style slide` draws the cohort plots as `run --style slide`
/// does: the same files, byte for byte, at the slide size.
#[test]
fn merge_draws_the_plots_in_the_style_asked_for() {
    let tmp = tempdir();
    let path = write_scenario(
        tmp.path(),
        "study.toml",
        STUDY
            .replace("2100", "1100")
            .replace("replicates = 3", "replicates = 1"),
    );
    let d = |name: &str| tmp.path().join(name);
    let mut cmd = crmo();
    cmd.arg("run")
        .arg(&path)
        .args(["-q", "--style", "slide", "--out"])
        .arg(d("whole"));
    success(&mut cmd);
    for k in 0..2 {
        shard(&path, k, 2, &d(&format!("s{k}")), &[]);
    }
    for style in ["slide", "paper"] {
        let mut cmd = crmo();
        cmd.arg("merge")
            .args([d("s1"), d("s0")])
            .args(["-q", "--style", style, "--out"])
            .arg(d(style));
        success(&mut cmd);
    }
    let whole = crate::util::snapshot(&d("whole"));
    let slide = crate::util::snapshot(&d("slide"));
    let paper = crate::util::snapshot(&d("paper"));
    let pngs: Vec<&PathBuf> = whole
        .keys()
        .filter(|k| k.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(pngs.len() >= 3, "{:?}", whole.keys());
    for name in pngs {
        assert!(
            slide.get(name) == whole.get(name),
            "{}: merge --style slide differs from run --style slide",
            name.display()
        );
        let size = |bytes: &Option<Vec<u8>>| {
            let img = image::load_from_memory(bytes.as_deref().unwrap()).unwrap();
            (img.width(), img.height())
        };
        assert_eq!(size(&slide[name]), (1920, 1080), "{}", name.display());
        assert_eq!(size(&paper[name]), (1600, 900), "{}", name.display());
    }
}

/// Shards with per-patient rows for the damage tests: two shards of a small
/// study, plain or gzip.
const PARTS: &str = "name = \"parts\"\nseed = 3\npatients = 700\nhorizon_years = 3\n[output]\npatients = true\nevents = true\n";

/// Copies the shard directories `from` to fresh `to` directories.
fn copy_shards(from: &[PathBuf], to: &[PathBuf]) {
    for (a, b) in from.iter().zip(to) {
        let _ = std::fs::remove_dir_all(b);
        std::fs::create_dir(b).unwrap();
        for e in std::fs::read_dir(a).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), b.join(e.file_name())).unwrap();
        }
    }
}

/// Asserts a merge is refused with exit 2 naming `dir` and `file`, writes no
/// output and leaves the shards as they were.
fn assert_refused(dirs: &[PathBuf], out: &Path, names: &[&str], what: &str) {
    let before: Vec<_> = dirs.iter().map(|d| crate::util::snapshot(d)).collect();
    let o = merge(dirs, out);
    assert_eq!(o.code, Some(2), "{what}: {o:#?}");
    assert!(!o.stderr.contains("panicked"), "{what}: {}", o.stderr);
    for name in names {
        assert!(
            o.stderr.contains(name),
            "{what}: {name} not named in {}",
            o.stderr
        );
    }
    assert!(
        !out.exists(),
        "{what}: a refused merge wrote {}",
        out.display()
    );
    let after: Vec<_> = dirs.iter().map(|d| crate::util::snapshot(d)).collect();
    assert!(before == after, "{what}: a refused merge changed a shard");
}

/// `merge` verifies every file of every shard against the SHA-256 its
/// manifest records before reading it: one flipped byte anywhere in any
/// part file, a truncated, edited or shortened CSV, bytes after a gzip
/// stream, a manifest that describes another shard — each is refused with
/// exit 2 naming the shard and the file, and nothing is written. An honest
/// merge of the same shards still gives the bytes of one run.
#[test]
fn merge_refuses_damaged_parts_and_writes_nothing() {
    let tmp = tempdir();
    let d = |name: &str| tmp.path().join(name);
    let plain = write_scenario(tmp.path(), "parts.toml", PARTS);
    let gzip = write_scenario(
        tmp.path(),
        "gz.toml",
        format!("{PARTS}compression = \"gzip\"\n"),
    );
    let shards: Vec<PathBuf> = (0..2).map(|k| d(&format!("s{k}"))).collect();
    let gz_shards: Vec<PathBuf> = (0..2).map(|k| d(&format!("z{k}"))).collect();
    for k in 0..2 {
        shard(&plain, k, 2, &shards[k as usize], &[]);
        shard(&gzip, k, 2, &gz_shards[k as usize], &[]);
    }
    let work: Vec<PathBuf> = (0..2).map(|k| d(&format!("w{k}"))).collect();
    let out = d("merged");
    // One flipped byte at the start, middle and end of every listed file.
    for k in 0..2 {
        for file in ["shard.crmo", "patients.csv", "events.csv"] {
            let len = std::fs::metadata(shards[k].join(file)).unwrap().len() as usize;
            for at in [0, len / 2, len - 1] {
                copy_shards(&shards, &work);
                let path = work[k].join(file);
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[at] ^= 0x10;
                std::fs::write(&path, bytes).unwrap();
                let shard_name = format!("w{k}");
                assert_refused(
                    &work,
                    &out,
                    &[&shard_name, file, "SHA-256"],
                    &format!("{file} of shard {k}, byte {at} flipped"),
                );
            }
        }
    }
    // Whole-row damage to the CSV parts.
    type Damage = fn(&str) -> String;
    let damages: [(&str, &str, Damage); 3] = [
        ("events.csv", "cut in half", |t| {
            t[..t.len() / 2].to_string()
        }),
        ("patients.csv", "a cell edited", |t| {
            let second = t.find('\n').unwrap() + 1;
            let comma = second + t[second..].find(',').unwrap();
            format!("{}9{}", &t[..comma], &t[comma..])
        }),
        ("patients.csv", "a row deleted", |t| {
            let mut lines: Vec<&str> = t.lines().collect();
            lines.remove(3);
            lines.join("\n") + "\n"
        }),
    ];
    for (file, what, damage) in damages {
        copy_shards(&shards, &work);
        let path = work[1].join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, damage(&text)).unwrap();
        assert_refused(&work, &out, &["w1", file], &format!("{file}: {what}"));
    }
    // Bytes after the gzip stream (here a second, empty gzip stream, which a
    // lenient reader would take as more of the same file).
    let gz_work: Vec<PathBuf> = (0..2).map(|k| d(&format!("g{k}"))).collect();
    copy_shards(&gz_shards, &gz_work);
    let path = gz_work[0].join("events.csv.gz");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    std::fs::write(&path, bytes).unwrap();
    assert_refused(
        &gz_work,
        &out,
        &["g0", "events.csv.gz"],
        "bytes after the gzip stream",
    );
    // A manifest edited to describe another seed (its own hash is not listed).
    copy_shards(&shards, &work);
    let path = work[0].join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"seed\": 3,"), "{text}");
    std::fs::write(&path, text.replace("\"seed\": 3,", "\"seed\": 4,")).unwrap();
    assert_refused(
        &work,
        &out,
        &["w0", "shard.crmo", "seed 3 against 4"],
        "manifest of another seed",
    );
    // A part the manifest does not list.
    copy_shards(&shards, &work);
    std::fs::rename(work[1].join("events.csv"), work[1].join("events.csv.gz")).unwrap();
    assert_refused(&work, &out, &["w1", "events.csv"], "a renamed part");
    // The honest shards still merge, to the bytes of one run.
    let whole = run_into(&[plain.to_str().unwrap()], &d("whole"), &[]);
    copy_shards(&shards, &work);
    let o = merge(&work, &out);
    assert_eq!(o.code, Some(0), "{o:#?}");
    let merged = files(&out);
    for name in ["summary.csv", "patients.csv", "events.csv", "km.csv"] {
        assert!(merged[name] == whole[name], "{name} of the merge differs");
    }
    let gz_out = d("gz-merged");
    let o = merge(&gz_shards, &gz_out);
    assert_eq!(o.code, Some(0), "{o:#?}");
}

/// `merge --out` may not be one of its shards, hold one or lie inside one,
/// whether named as written, through a symbolic link or through `..`: exit 2,
/// the shards untouched.
#[test]
fn merge_refuses_an_out_among_its_inputs() {
    let tmp = tempdir();
    let d = |name: &str| tmp.path().join(name);
    let plain = write_scenario(tmp.path(), "parts.toml", PARTS);
    let shards: Vec<PathBuf> = (0..2).map(|k| d(&format!("s{k}"))).collect();
    for k in 0..2 {
        shard(&plain, k, 2, &shards[k as usize], &[]);
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&shards[1], d("link")).unwrap();
    let outs: Vec<(PathBuf, &str)> = vec![
        (shards[0].clone(), "is the shard directory"),
        (d("s0/../s1"), "is the shard directory"),
        (tmp.path().to_path_buf(), "holds the shard directory"),
        (d("s1/results"), "lies inside the shard directory"),
        #[cfg(unix)]
        (d("link"), "is the shard directory"),
    ];
    for (out, what) in outs {
        let before: Vec<_> = shards.iter().map(|s| crate::util::snapshot(s)).collect();
        let o = merge(&shards, &out);
        assert_eq!(o.code, Some(2), "--out {}: {o:#?}", out.display());
        assert!(o.stderr.contains(what), "{}", o.stderr);
        let after: Vec<_> = shards.iter().map(|s| crate::util::snapshot(s)).collect();
        assert!(before == after, "--out {} changed a shard", out.display());
    }
    assert!(!d("s1/results").exists());
}
