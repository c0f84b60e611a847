//! The library leaves the terminal and the process to its front ends: no
//! code under `src/` outside the command line (`src/cli.rs`, `src/cli/`,
//! `src/main.rs`) prints, exits or installs a signal handler. A notebook or
//! a service calling the library must not have its output written to or its
//! process ended.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// What only a front end may do.
const FORBIDDEN: [&str; 6] = [
    "process::exit",
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "ctrlc",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `path` (relative to the repository) is command-line code.
fn is_front_end(path: &Path) -> bool {
    path.starts_with("src/cli")
        || path == Path::new("src/cli.rs")
        || path == Path::new("src/main.rs")
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

/// The forbidden uses in one file's code (comments left out), as "line: text".
fn forbidden_uses(text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let code = line.split("//").next().unwrap_or_default();
            FORBIDDEN
                .iter()
                .any(|f| code.contains(f))
                .then(|| format!("{}: {}", i + 1, line.trim()))
        })
        .collect()
}

#[test]
fn the_library_neither_prints_nor_exits_nor_handles_signals() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    assert!(files.len() > 50, "src/ has only {} files?", files.len());
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in files.iter().filter(|p| !is_front_end(p)) {
        let text = fs::read_to_string(root().join(path)).expect("read source");
        let uses = forbidden_uses(&text);
        if !uses.is_empty() {
            found.insert(path.to_string_lossy().replace('\\', "/"), uses);
        }
    }
    assert!(
        found.is_empty(),
        "printing, exiting or signal handling in library code (only src/cli/ and \
         src/main.rs may):\n{found:#?}"
    );
}

#[test]
fn the_check_sees_what_it_looks_for() {
    assert_eq!(
        forbidden_uses("let x = 1;\n// println!(\"in a comment\")"),
        Vec::<String>::new()
    );
    assert_eq!(
        forbidden_uses("fn f() {\n    eprintln!(\"x\");\n}"),
        vec!["2: eprintln!(\"x\");"]
    );
    assert_eq!(forbidden_uses("std::process::exit(130);").len(), 1);
    assert_eq!(
        forbidden_uses("let _ = ctrlc::set_handler(|| {});").len(),
        1
    );
}
