//! Build script: records the versions of the random-number crates, as
//! resolved in `Cargo.lock`, for `manifest.json` (their algorithms fix every
//! simulated value, so a result names them). They are read from the lock
//! file rather than written by hand, so the manifest cannot name a version
//! the binary was not built with.

use std::path::Path;

/// The random-number crates and the environment variable each version goes to.
const RNG_CRATES: [(&str, &str); 4] = [
    ("rand", "CRMO_SIM_RAND_VERSION"),
    ("rand_chacha", "CRMO_SIM_RAND_CHACHA_VERSION"),
    ("rand_pcg", "CRMO_SIM_RAND_PCG_VERSION"),
    ("rand_distr", "CRMO_SIM_RAND_DISTR_VERSION"),
];

fn main() {
    let lock_path =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the random-number crate versions are read from it",
            lock_path.display()
        )
    });
    let packages = packages(&lock);
    let own = packages
        .iter()
        .find(|p| p.name == env!("CARGO_PKG_NAME"))
        .expect("Cargo.lock lists this package");
    for (name, var) in RNG_CRATES {
        println!(
            "cargo:rustc-env={var}={}",
            version_used(own, &packages, name)
        );
    }
}

/// One `[[package]]` entry of `Cargo.lock`.
struct Package {
    name: String,
    version: String,
    /// As written: `name` alone, or `name version` when several versions
    /// of `name` are in the lock file.
    dependencies: Vec<String>,
}

/// The `[[package]]` entries of a lock file (only the fields used here).
fn packages(lock: &str) -> Vec<Package> {
    lock.split("[[package]]")
        .skip(1)
        .map(|block| {
            let field = |key: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or_default()
                    .to_string()
            };
            let dependencies = block
                .split_once("dependencies = [")
                .map(|(_, rest)| rest.split(']').next().unwrap_or_default())
                .unwrap_or_default()
                .lines()
                .map(|l| l.trim().trim_end_matches(',').trim_matches('"').to_string())
                .filter(|d| !d.is_empty())
                .collect();
            Package {
                name: field("name"),
                version: field("version"),
                dependencies,
            }
        })
        .collect()
}

/// The version of `name` that `own` depends on.
fn version_used(own: &Package, packages: &[Package], name: &str) -> String {
    let dep = own
        .dependencies
        .iter()
        .find(|d| d.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("Cargo.lock: {} does not depend on {name}", own.name));
    if let Some((_, version)) = dep.split_once(' ') {
        return version.split(' ').next().unwrap_or(version).to_string();
    }
    let versions: Vec<&Package> = packages.iter().filter(|p| p.name == name).collect();
    match versions.as_slice() {
        [only] => only.version.clone(),
        _ => panic!("Cargo.lock: {} versions of {name}", versions.len()),
    }
}
