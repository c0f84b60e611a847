//! `course --story NAME --rank K`: which patient a story draws, what it
//! prints, and that the patient's own rows of `run`'s `events.csv` tell
//! the story (checked here from the CSV, independently of the code that
//! finds and ranks the patients).

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{crmo, root, tempdir};

/// Patients the stories are drawn from (and the `run` that checks them).
const PATIENTS: &str = "3000";

/// A copy of scenario `file` that also writes `events.csv` and `patients.csv`.
fn with_events(dir: &Path, file: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let path = dir.join(Path::new(file).file_name().unwrap());
    std::fs::write(
        &path,
        format!("{text}\n[output]\nevents = true\npatients = true\n"),
    )
    .unwrap();
    path
}

/// Runs `course <scenario> --story <story> <extra>` and returns its
/// standard output's first line and the patient number it names.
fn story(scenario: &Path, story: &str, extra: &[&str]) -> (String, u64) {
    let dir = tempdir();
    let o = crmo()
        .arg("course")
        .arg(scenario)
        .args(["--story", story, "--patients", PATIENTS])
        .args(extra)
        .arg("--out")
        .arg(dir.path().join("c.png"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{story}: {o:?}");
    assert!(dir.path().join("c.png").exists());
    let stdout = String::from_utf8(o.stdout).unwrap();
    let line = stdout.lines().next().unwrap().to_string();
    let patient = line
        .strip_prefix("patient ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{story}: no `patient N` first in {stdout:?}"));
    assert!(
        line.contains(&format!("tells the story {story}: ")),
        "{line}"
    );
    (line, patient)
}

/// One row of a CSV file, by column name.
type Row = BTreeMap<String, String>;

/// The `events.csv` rows of `run` of `scenario` for each (arm, patient).
fn events(scenario: &Path) -> BTreeMap<(String, u64), Vec<Row>> {
    let dir = tempdir();
    let out = dir.path().join("run");
    crmo()
        .arg("run")
        .arg(scenario)
        .args(["--patients", PATIENTS, "-q", "--no-plots", "--out"])
        .arg(&out)
        .assert()
        .success();
    let mut r = csv::Reader::from_path(out.join("events.csv")).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut by: BTreeMap<(String, u64), Vec<Row>> = BTreeMap::new();
    for rec in r.records() {
        let row: Row = h
            .iter()
            .cloned()
            .zip(rec.unwrap().iter().map(String::from))
            .collect();
        let key = (row["arm"].clone(), row["patient"].parse().unwrap());
        by.entry(key).or_default().push(row);
    }
    by
}

fn day(r: &Row) -> f64 {
    r["time_days"].parse().unwrap()
}

fn times(ev: &[Row], event: &str) -> Vec<f64> {
    ev.iter().filter(|r| r["event"] == event).map(day).collect()
}

/// Whether the patient responds to `drug` (a `drug_effect` row with
/// `responder` true) between `from` and `to`.
fn responds(ev: &[Row], drug: &str, from: f64, to: f64) -> bool {
    ev.iter().any(|r| {
        r["event"] == "drug_effect"
            && r["drug"] == drug
            && r["responder"] == "true"
            && (from..=to).contains(&day(r))
    })
}

/// The story told by the rows alone.
fn tells(story: &str, ev: &[Row], ladder: usize) -> bool {
    let flares = times(ev, "flare_start");
    let diagnosed = !times(ev, "diagnosis").is_empty();
    let lost = !times(ev, "lost_to_follow_up").is_empty();
    let stops = |reason: &str| -> Vec<&Row> {
        ev.iter()
            .filter(|r| r["event"] == "drug_stop" && r["reason"] == reason)
            .collect()
    };
    let start_of = |stop: &Row| -> f64 {
        ev.iter()
            .filter(|r| {
                r["event"] == "drug_start" && r["drug"] == stop["drug"] && day(r) <= day(stop)
            })
            .map(day)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    match story {
        "monophasic" => diagnosed && !lost && flares.len() == 1,
        "relapsing" => diagnosed && !lost && flares.len() >= 2,
        "relapse-after-taper" => stops("taper").iter().any(|s| {
            responds(ev, &s["drug"], start_of(s), day(s)) && flares.iter().any(|&f| f > day(s))
        }),
        "top-of-ladder" => {
            ev.iter().any(|r| {
                r["event"] == "drug_start"
                    && r["step"] == ladder.to_string()
                    && responds(ev, &r["drug"], day(r), f64::INFINITY)
            }) && stops("adverse_event").is_empty()
        }
        "adverse-event" => !stops("adverse_event").is_empty(),
        _ => panic!("no check for {story}"),
    }
}

/// The acceptance points: relapsing and relapse-after-taper draw different
/// patients, and so do top-of-ladder and adverse-event; each drawn patient's
/// own events tell its story (the taper patient responded to the drug
/// tapered, the top-of-ladder patient responds at the top, the monophasic
/// patient is diagnosed).
#[test]
fn stories_draw_patients_whose_events_tell_them() {
    let dir = tempdir();
    let scenario = with_events(dir.path(), "scenarios/reference.toml");
    let by = events(&scenario);
    let arm = "nsaid-pamidronate-tnf".to_string();
    let mut drawn = BTreeMap::new();
    for name in [
        "monophasic",
        "relapsing",
        "relapse-after-taper",
        "top-of-ladder",
        "adverse-event",
    ] {
        let (line, p) = story(&scenario, name, &[]);
        let ev = &by[&(arm.clone(), p)];
        assert!(
            tells(name, ev, 3),
            "{name}: patient {p}'s events do not tell it ({line})"
        );
        drawn.insert(name, p);
    }
    assert_ne!(drawn["relapsing"], drawn["relapse-after-taper"]);
    assert_ne!(drawn["top-of-ladder"], drawn["adverse-event"]);
}

/// `--rank 2` draws another patient than `--rank 1` (the default), who
/// tells the story too; a rank beyond the matching patients is refused.
#[test]
fn rank_two_is_another_patient_of_the_story() {
    let scenario = root().join("scenarios/reference.toml");
    let (first, p1) = story(&scenario, "relapse-after-taper", &[]);
    let (second, p2) = story(&scenario, "relapse-after-taper", &["--rank", "2"]);
    assert_ne!(p1, p2, "{first}\n{second}");
    assert!(first.contains("rank 1 of "), "{first}");
    assert!(second.contains("rank 2 of "), "{second}");
    let dir = tempdir();
    let o = crmo()
        .args([
            "course",
            "--story",
            "fracture",
            "--patients",
            "200",
            "--rank",
            "1000",
            "--out",
        ])
        .arg(dir.path().join("c.png"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--rank 1000"), "{err}");
    assert!(!dir.path().join("c.png").exists());
}

/// `-q` silences `course --story`; the chart is still written.
#[test]
fn quiet_story_prints_nothing() {
    let dir = tempdir();
    let out = dir.path().join("c.png");
    let o = crmo()
        .args([
            "course",
            "--story",
            "monophasic",
            "--patients",
            "500",
            "-q",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(out.exists());
}

/// On `nsaid-then-il1` the Majeed patient drawn responds to the drug the
/// arm ends on; a scenario without Majeed patients says so.
#[test]
fn majeed_story_shows_a_response_or_says_there_are_no_majeed_patients() {
    let dir = tempdir();
    let scenario = with_events(dir.path(), "scenarios/majeed.toml");
    let by = events(&scenario);
    let (line, p) = story(&scenario, "majeed", &["--arm", "nsaid-then-il1"]);
    let ev = &by[&("nsaid-then-il1".to_string(), p)];
    let last = ev
        .iter()
        .rev()
        .find(|r| r["event"] == "drug_start")
        .unwrap();
    assert!(
        responds(ev, &last["drug"], day(last), f64::INFINITY),
        "patient {p} does not respond to {} ({line})",
        last["drug"]
    );
    let o = crmo()
        .args(["course", "--story", "majeed", "--patients", "100", "--out"])
        .arg(dir.path().join("m.png"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no Majeed patients"), "{err}");
    assert!(!err.contains("more --patients"), "{err}");
}
