//! One validation layer: every rule a scenario must pass beyond its single
//! fields lives in `src/scenario/validate/`, runs in the order its module
//! documentation gives, and reports the first rule broken. A rule added
//! elsewhere is caught by looking for where `Error::Invalid` is built.

use std::fs;
use std::path::{Path, PathBuf};

use crmo_sim::error::Error;
use crmo_sim::scenario::validate::{LOAD_RULES, RESOLVE_RULES};
use crmo_sim::scenario::{parse, LoadedScenario};
use crmo_sim::study::Study;

/// The validation layer's folder, relative to the repository.
const LAYER: &str = "src/scenario/validate";

/// Files outside the layer that may build `Error::Invalid`, and why.
const ALLOWED: [(&str, &str); 1] = [(
    "src/calibrate/targets.rs",
    "the calibration targets file (CSV), not a scenario",
)];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, relative to the repository root.
fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path.strip_prefix(root()).expect("under root").to_path_buf());
        }
    }
}

/// Lines of `text` that build an `Error::Invalid` (a struct literal whose
/// first field is `path`), as opposed to matching one (`{ .. }`).
fn constructions(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for (offset, _) in text.match_indices("Error::Invalid {") {
        let after = text[offset + "Error::Invalid {".len()..].trim_start();
        if after.starts_with("path") {
            found.push(text[..offset].matches('\n').count() + 1);
        }
    }
    found
}

#[test]
fn invalid_scenario_errors_are_built_only_in_the_validation_layer() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut outside = Vec::new();
    let mut inside = 0;
    for file in &files {
        let text = fs::read_to_string(root().join(file)).expect("read source");
        let lines = constructions(&text);
        if file.starts_with(LAYER) {
            inside += lines.len();
        } else if !ALLOWED.iter().any(|(f, _)| file == Path::new(f)) {
            outside.extend(lines.iter().map(|l| format!("{}:{l}", file.display())));
        }
    }
    assert!(inside > 5, "the layer builds its errors ({inside} found)");
    assert!(
        outside.is_empty(),
        "scenario rules outside {LAYER} (move them into the layer, or add the file to ALLOWED with the reason): {outside:?}"
    );
}

#[test]
fn the_search_tells_building_from_matching() {
    let built =
        "return Err(Error::Invalid {\n    path: p,\n    location: None,\n    message: m,\n});";
    assert_eq!(constructions(built), vec![1]);
    assert!(constructions("Error::Invalid { .. } => 2").is_empty());
    assert!(constructions("Error::Invalid { message, .. } => m").is_empty());
}

#[test]
fn the_rules_run_in_the_documented_order() {
    let load: Vec<&str> = LOAD_RULES.iter().map(|(name, _)| *name).collect();
    let resolve: Vec<&str> = RESOLVE_RULES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        load,
        [
            "site_weights",
            "treatment",
            "onset_ages",
            "differential",
            "run_size"
        ]
    );
    assert_eq!(resolve, ["engine_limits", "reference_arm", "sweep_table"]);
    // The module documentation names the rules in the same order.
    let doc = fs::read_to_string(root().join(LAYER).join("mod.rs")).expect("read the layer");
    let doc: String = doc
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join(" ");
    let words = [
        "LOAD_RULES",
        "site weights",
        "treatment",
        "onset-age",
        "[differential]",
        "run size",
        "RESOLVE_RULES",
        "drug slots",
        "reference arm",
        "[sweep]",
    ];
    let mut from = 0;
    for w in words {
        let at = doc[from..]
            .find(w)
            .unwrap_or_else(|| panic!("the doc names {w} after the rule before it"));
        from += at + w.len();
    }
}

fn loaded(text: &str) -> crmo_sim::error::Result<LoadedScenario> {
    parse(text, "t.toml")
}

fn message(e: Error) -> String {
    match e {
        Error::Invalid { message, .. } => message,
        other => panic!("expected a scenario error, got {other}"),
    }
}

#[test]
fn the_first_rule_broken_is_the_one_reported() {
    let weights = "[natural_history.site_weights]\ntibia = -1\n";
    let differential = "[differential.case_mix]\ncrmo = 0\n";
    let e = loaded(&format!("{weights}{differential}")).unwrap_err();
    assert!(message(e).starts_with("site weight tibia = -1"));
    let e = loaded(differential).unwrap_err();
    assert!(message(e).starts_with("case_mix.crmo = 0"));
}

#[test]
fn resolve_rules_see_the_scenario_as_a_command_changed_it() {
    let text = "[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\n";
    let mut l = loaded(text).expect("a valid scenario");
    l.scenario.reference_arm = Some(toml::Spanned::new(0..0, "b".to_string()));
    let e = Study::resolve(l).unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.toml: reference_arm = \"b\" is not an arm of the scenario: arms are a"
    );
}
