//! `crmo-sim check`: validates a scenario and prints the resolved parameters
//! (file values, defaults, distributions, Majeed values) to stdout, writing nothing.

use std::collections::BTreeMap;

use crate::util::{crmo, root, snapshot, success, tempdir, write_scenario};

const SCENARIO: &str = r#"# A scenario that sets a few values and leaves the rest to the defaults.
name = "listing"
seed = 11
patients = 2500
horizon_years = 6
replicates = 3

[cohort]
female_frac = 0.7

[natural_history]
p_fever = 0.3
flare_rate_per_year = { dist = "gamma", mean = 2, shape = 4 }

[natural_history.majeed]
p_fever = 0.7

[natural_history.site_weights]
tibia = 0.5

[output]
timeseries_step_weeks = 4
"#;

#[test]
fn check_prints_the_resolved_parameters() {
    let tmp = tempdir();
    let path = write_scenario(tmp.path(), "listing.toml", SCENARIO);
    let before = snapshot(tmp.path());
    let o = success(crmo().arg("check").arg(&path).current_dir(tmp.path()));
    assert_eq!(o.stderr, "", "check writes nothing to stderr");
    let expected = [
        format!("scenario listing ({}): valid", path.display()),
        "seed 11, 2500 patients, 3 replicate(s), horizon 6 years".to_string(),
        // Values from the file.
        "female_frac = 0.7".into(),
        "p_fever = 0.3  [majeed: 0.7]".into(),
        "flare_rate_per_year = gamma(mean 2, shape 4)".into(),
        "tibia = 0.5".into(),
        "timeseries_step_weeks = 4".into(),
        // A default of the cohort table.
        "onset_age_years = normal(".into(),
    ];
    for line in &expected {
        assert!(
            o.stdout.contains(line.as_str()),
            "missing {line:?} in:\n{}",
            o.stdout
        );
    }
    // Every other natural-history parameter is listed with its default (and
    // the built-in Majeed value where that differs), taken from the library.
    let defaults = crmo_sim::scenario::NaturalHistory::default().listing();
    assert!(defaults.len() > 30);
    for row in defaults {
        if ["p_fever", "flare_rate_per_year"].contains(&row.name) {
            continue;
        }
        let majeed = row
            .majeed
            .map_or(String::new(), |m| format!("  [majeed: {m}]"));
        let line = format!("  {} = {}{}\n", row.name, row.value, majeed);
        assert!(
            o.stdout.contains(&line),
            "missing {line:?} in:\n{}",
            o.stdout
        );
        assert!(
            o.stdout.contains(row.source),
            "source of {} not shown",
            row.name
        );
    }
    assert_eq!(snapshot(tmp.path()), before, "check must not write files");
}

#[test]
fn check_names_the_reference_scenario() {
    let o = success(crmo().args(["check", "scenarios/reference.toml"]));
    assert!(
        o.stdout
            .starts_with("scenario reference (scenarios/reference.toml): valid\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("seed 20261125, 20000 patients"),
        "{}",
        o.stdout
    );
}

#[test]
fn check_without_a_file_checks_the_reference_with_overrides() {
    let o = crate::util::output(crmo().args(["check", "--seed", "5", "--patients", "300"]));
    assert_eq!(o.code, Some(0), "{o:#?}");
    assert!(
        o.stdout.contains("scenario reference") && o.stdout.contains("seed 5, 300 patients"),
        "{}",
        o.stdout
    );
    let o = crate::util::output(crmo().args(["check", "--replicate", "1"]));
    assert_eq!(o.code, Some(2), "{o:#?}");
    assert!(o.stderr.contains("replicates 0 to 0"), "{}", o.stderr);
}

/// The values `check` resolves for the built-in reference, by field:
/// `(value, Majeed value where it differs)`.
fn resolved_defaults() -> BTreeMap<String, (String, Option<String>)> {
    let o = success(crmo().arg("check"));
    let mut values = BTreeMap::new();
    for line in o.stdout.lines() {
        let Some((field, rest)) = line.strip_prefix("  ").and_then(|l| l.split_once(" = ")) else {
            continue;
        };
        if field.starts_with(' ') {
            continue;
        }
        let (value, majeed) = match rest.split_once("  [majeed: ") {
            Some((v, m)) => (v, Some(m.trim_end_matches(']').to_string())),
            None => (rest, None),
        };
        values.insert(field.to_string(), (value.to_string(), majeed));
    }
    values
}

/// The `[natural_history]` table of docs/scenarios.md states the defaults the program
/// uses (and their Majeed values), so the guide cannot drift from the code.
#[test]
fn documented_natural_history_defaults_match_check() {
    let resolved = resolved_defaults();
    let doc = std::fs::read_to_string(root().join("docs/scenarios.md")).unwrap();
    let table = doc
        .split("## `[natural_history]`")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/scenarios.md has a [natural_history] section");
    let mut compared = 0;
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let field = cells[1].trim_matches('`');
        let Some((value, majeed)) = resolved.get(field) else {
            panic!(
                "docs/scenarios.md [natural_history] lists `{field}`, which check does not print"
            );
        };
        assert_eq!(cells[2], value, "documented default of {field}");
        let documented_majeed = (!cells[3].is_empty()).then(|| cells[3].to_string());
        assert_eq!(
            documented_majeed.as_ref().or(Some(value)),
            majeed.as_ref().or(Some(value)),
            "documented Majeed default of {field}"
        );
        compared += 1;
    }
    assert!(compared >= 30, "only {compared} documented rows compared");
}

/// The field table of `[drugs.NAME]` in docs/scenarios.md lists exactly the
/// declared drug fields, in their order, so the guide cannot drift from the
/// declaration (the costs are documented with `[economics]`).
#[test]
fn documented_drug_fields_are_the_declared_ones() {
    let doc = std::fs::read_to_string(root().join("docs/scenarios.md")).unwrap();
    let section = doc
        .split("## `[drugs.NAME]`")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/scenarios.md has a [drugs.NAME] section");
    let table = section
        .split("| field | unit | meaning |")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a field table in the [drugs.NAME] section");
    let documented: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('`').nth(1).unwrap())
        .collect();
    let declared: Vec<&str> = crmo_sim::scenario::treatment::DRUG_FIELDS
        .iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(documented, declared);
}
