//! Proof that crmo-sim wrote a directory's files, so that only those are ever
//! deleted. A result's `manifest.json` carries a marker ([`RESULT_MARKER`]),
//! lists every entry of the directory (directories with a trailing `/`) and
//! the SHA-256 of every file; an entry counts as crmo-sim's own only when it
//! is listed there and, for a file, still has the recorded content. Anything
//! else is foreign, and a directory holding anything foreign is never
//! replaced.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The marker file in every staging directory: it holds the directory's
/// name. It is not part of the result: the manifest does not list it and
/// it is removed just before the swap.
pub const MARKER_FILE: &str = ".crmo-sim-staging";

/// The value of `format` in the manifest of every crmo-sim result.
pub const RESULT_MARKER: &str = "crmo-sim result v1";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// A larger "manifest" is not one of crmo-sim's (which list a few files).
const MANIFEST_MAX_BYTES: u64 = 64 << 20;

/// Every entry under a directory, as a manifest lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Relative paths with `/` separators in walk order (sorted at every
    /// level); directories end in `/`.
    pub entries: Vec<String>,
    /// SHA-256 (hex) of every file.
    pub sha256: BTreeMap<String, String>,
}

/// Lists and hashes everything under `dir` (a staging directory holding
/// only files crmo-sim has just written), but for the staging directory's
/// own marker, which is gone before the directory becomes a result.
pub fn list_result(dir: &Path) -> io::Result<Listing> {
    let mut listing = Listing::default();
    for (rel, kind) in walk(dir)? {
        if rel == MARKER_FILE {
            continue;
        }
        match kind {
            Kind::Dir => listing.entries.push(format!("{rel}/")),
            Kind::File => {
                listing
                    .sha256
                    .insert(rel.clone(), sha256_file(&dir.join(&rel))?);
                listing.entries.push(rel);
            }
            Kind::Other | Kind::Unlistable => {
                return Err(io::Error::other(format!(
                    "{rel} in {} is not a file or directory with a UTF-8 name",
                    dir.display()
                )))
            }
        }
    }
    Ok(listing)
}

/// Why an entry of a target directory is not crmo-sim's to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The directory has no `manifest.json` marked as a crmo-sim result.
    NotAResult(String),
    /// The manifest does not list it.
    NotListed,
    /// Listed, but its content is not what crmo-sim wrote.
    Changed,
    /// A symbolic link or special file (crmo-sim writes neither).
    NotAFile,
    /// Listed in the manifest, but gone.
    Missing,
}

/// The first entry of a directory that crmo-sim did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    /// Its path relative to the directory (`/` separators).
    pub entry: String,
    /// Why it is not crmo-sim's.
    pub why: Why,
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = &self.entry;
        match &self.why {
            Why::NotAResult(reason) => write!(
                f,
                "{entry} (the directory is not a crmo-sim result: {reason})"
            ),
            Why::NotListed => write!(
                f,
                "{entry}, which crmo-sim did not write (not listed in its {MANIFEST})"
            ),
            Why::Changed => write!(f, "{entry}, which was changed after crmo-sim wrote it"),
            Why::NotAFile => write!(
                f,
                "{entry}, a link or special file that crmo-sim did not write"
            ),
            Why::Missing => write!(f, "{entry}, listed in its {MANIFEST} but missing"),
        }
    }
}

/// Entries crmo-sim proved it wrote, in walk order (parents before children).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owned {
    /// Relative paths; directories end in `/`.
    pub entries: Vec<String>,
}

/// Decides whether everything in the existing directory `dir` is crmo-sim's
/// own: `Ok(Ok(owned))` when it is (an empty directory owns nothing),
/// `Ok(Err(foreign))` naming the first entry that is not.
pub fn check_owned(dir: &Path) -> io::Result<std::result::Result<Owned, Foreign>> {
    let manifest = read_manifest(dir);
    let mut owned = Owned::default();
    for (rel, kind) in walk(dir)? {
        let verdict = match (&manifest, kind) {
            (_, Kind::Other) => Err(Why::NotAFile),
            (_, Kind::Unlistable) => Err(Why::NotListed),
            (Err(reason), _) => Err(Why::NotAResult(reason.clone())),
            (Ok(_), Kind::File) if rel == MANIFEST => Ok(rel.clone()),
            (Ok(m), Kind::Dir) => {
                let listed = format!("{rel}/");
                if m.entries.contains(&listed) {
                    Ok(listed)
                } else {
                    Err(Why::NotListed)
                }
            }
            (Ok(m), Kind::File) => match m.sha256.get(&rel) {
                None => Err(Why::NotListed),
                Some(want) if *want != sha256_file(&dir.join(&rel))? => Err(Why::Changed),
                Some(_) => Ok(rel.clone()),
            },
        };
        match verdict {
            Ok(entry) => owned.entries.push(entry),
            Err(why) => return Ok(Err(Foreign { entry: rel, why })),
        }
    }
    Ok(Ok(owned))
}

/// Checks, before any of them is read, that the files of a crmo-sim
/// directory are those its manifest records: every listed file present, a
/// regular file, with its recorded SHA-256; and each of `read` (the files a
/// reader of the directory will open) listed when present. Other files are
/// left alone: nothing reads them. `Ok(Err(foreign))` names the first file
/// that fails, [`Why::NotAResult`] (entry `manifest.json`) a directory
/// without a crmo-sim manifest.
pub fn verify_listed(dir: &Path, read: &[&str]) -> io::Result<std::result::Result<(), Foreign>> {
    let foreign = |entry: &str, why| {
        Ok(Err(Foreign {
            entry: entry.to_string(),
            why,
        }))
    };
    let listing = match read_manifest(dir) {
        Ok(l) => l,
        Err(reason) => return foreign(MANIFEST, Why::NotAResult(reason)),
    };
    for (name, want) in &listing.sha256 {
        match fs::symlink_metadata(dir.join(name)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return foreign(name, Why::Missing),
            Err(e) => return Err(e),
            Ok(meta) if !meta.is_file() => return foreign(name, Why::NotAFile),
            Ok(_) if sha256_file(&dir.join(name))? != *want => return foreign(name, Why::Changed),
            Ok(_) => {}
        }
    }
    for name in read {
        if !listing.sha256.contains_key(*name) && fs::symlink_metadata(dir.join(name)).is_ok() {
            return foreign(name, Why::NotListed);
        }
    }
    Ok(Ok(()))
}

/// Deletes the files of the result directory `dir` that still hold exactly
/// what its manifest records, each checked just before it goes, then its
/// listed directories once empty, then the manifest and `dir` itself once
/// nothing else is left. Returns whether `dir` is gone; a file that was
/// changed, added or cannot be read stays, with the manifest that tells
/// what crmo-sim wrote. Nothing is deleted from a directory that is not a
/// crmo-sim result.
///
/// This is how a previous result is removed after the swap: its files were
/// checked before it, but may have been edited since.
pub fn remove_unchanged(dir: &Path) -> io::Result<bool> {
    let Ok(manifest) = read_manifest(dir) else {
        return Ok(false);
    };
    // Children before their parents.
    for (rel, kind) in walk(dir)?.into_iter().rev() {
        let path = dir.join(&rel);
        match kind {
            Kind::File if rel == MANIFEST => {}
            Kind::File => {
                let unchanged = manifest
                    .sha256
                    .get(&rel)
                    .is_some_and(|want| sha256_file(&path).is_ok_and(|got| got == *want));
                if unchanged {
                    fs::remove_file(&path)?;
                }
            }
            Kind::Dir if manifest.entries.contains(&format!("{rel}/")) => {
                // Not empty when something in it was kept.
                let _ = fs::remove_dir(&path);
            }
            _ => {}
        }
    }
    let only_manifest = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()?
        == [std::ffi::OsString::from(MANIFEST)];
    if !only_manifest {
        return Ok(false);
    }
    fs::remove_file(dir.join(MANIFEST))?;
    Ok(fs::remove_dir(dir).is_ok())
}

/// The manifest's listing, or why the directory is not a crmo-sim result.
fn read_manifest(dir: &Path) -> std::result::Result<Listing, String> {
    let path = dir.join(MANIFEST);
    let meta = fs::symlink_metadata(&path).map_err(|_| format!("no {MANIFEST}"))?;
    if !meta.is_file() || meta.len() > MANIFEST_MAX_BYTES {
        return Err(format!("its {MANIFEST} is not one crmo-sim writes"));
    }
    let not_ours = || format!("its {MANIFEST} has no \"format\": \"{RESULT_MARKER}\" marker");
    let text = fs::read(&path).map_err(|e| format!("cannot read its {MANIFEST}: {e}"))?;
    let json: serde_json::Value = serde_json::from_slice(&text).map_err(|_| not_ours())?;
    if json.get("format").and_then(|v| v.as_str()) != Some(RESULT_MARKER) {
        return Err(not_ours());
    }
    let entries = json
        .get("files")
        .and_then(|v| v.as_array())
        .ok_or_else(not_ours)?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let sha256 = json
        .get("sha256")
        .and_then(|v| v.as_object())
        .ok_or_else(not_ours)?
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|h| (k.clone(), h.to_string())))
        .collect();
    Ok(Listing { entries, sha256 })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    /// A link or special file.
    Other,
    /// A name that is not UTF-8, which no manifest can list.
    Unlistable,
}

/// Every entry under `dir`, depth first and sorted by name at each level,
/// without following links. A name that is not UTF-8 cannot be listed in a
/// manifest, so it is reported as [`Kind::Unlistable`] under a lossy name.
fn walk(dir: &Path) -> io::Result<Vec<(String, Kind)>> {
    fn visit(base: &Path, rel: &str, out: &mut Vec<(String, Kind)>) -> io::Result<()> {
        let mut names: Vec<(std::ffi::OsString, fs::FileType)> = fs::read_dir(base.join(rel))?
            .map(|e| e.and_then(|e| Ok((e.file_name(), e.file_type()?))))
            .collect::<io::Result<_>>()?;
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, ty) in names {
            let utf8 = name.to_str();
            let name = name.to_string_lossy();
            let child = if rel.is_empty() {
                name.into_owned()
            } else {
                format!("{rel}/{name}")
            };
            let kind = match (utf8, ty.is_dir(), ty.is_file()) {
                (None, _, _) => Kind::Unlistable,
                (_, true, _) => Kind::Dir,
                (_, _, true) => Kind::File,
                _ => Kind::Other,
            };
            out.push((child.clone(), kind));
            if kind == Kind::Dir {
                visit(base, &child, out)?;
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(dir, "", &mut out)?;
    Ok(out)
}

/// SHA-256 of a file's bytes, in hex.
fn sha256_file(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut fs::File::open(path)?, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory holding a result as crmo-sim writes it.
    fn result_dir() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::write(d.join("summary.csv"), "a,b\n").unwrap();
        fs::create_dir(d.join("plots")).unwrap();
        fs::write(d.join("plots/km.png"), [1u8, 2, 3]).unwrap();
        let l = list_result(d).unwrap();
        let json = serde_json::json!({
            "format": RESULT_MARKER,
            "files": l.entries.iter().cloned().chain([MANIFEST.to_string()]).collect::<Vec<_>>(),
            "sha256": l.sha256,
        });
        fs::write(d.join(MANIFEST), json.to_string()).unwrap();
        tmp
    }

    #[test]
    fn a_fresh_result_is_owned_whole() {
        let tmp = result_dir();
        let owned = check_owned(tmp.path()).unwrap().unwrap();
        assert_eq!(
            owned.entries,
            ["manifest.json", "plots/", "plots/km.png", "summary.csv"]
        );
        assert!(remove_unchanged(tmp.path()).unwrap());
        assert!(!tmp.path().exists());
    }

    #[test]
    fn an_added_file_is_foreign_and_named() {
        let tmp = result_dir();
        fs::write(tmp.path().join("plots/notes.txt"), "mine").unwrap();
        let foreign = check_owned(tmp.path()).unwrap().unwrap_err();
        assert_eq!(foreign.entry, "plots/notes.txt");
        assert_eq!(foreign.why, Why::NotListed);
    }

    #[test]
    fn an_edited_file_is_foreign() {
        let tmp = result_dir();
        fs::write(tmp.path().join("summary.csv"), "a,b\nmy edit\n").unwrap();
        let foreign = check_owned(tmp.path()).unwrap().unwrap_err();
        assert_eq!(
            (foreign.entry.as_str(), foreign.why),
            ("summary.csv", Why::Changed)
        );
    }

    #[test]
    fn a_manifest_without_the_marker_proves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(MANIFEST), "{}").unwrap();
        fs::write(tmp.path().join("app.js"), "x").unwrap();
        let foreign = check_owned(tmp.path()).unwrap().unwrap_err();
        assert_eq!(foreign.entry, "app.js");
        assert!(matches!(foreign.why, Why::NotAResult(r) if r.contains("marker")));
    }

    #[test]
    fn verify_listed_names_the_first_file_that_differs() {
        let tmp = result_dir();
        let d = tmp.path();
        assert_eq!(verify_listed(d, &["summary.csv"]).unwrap(), Ok(()));
        fs::write(d.join("notes.txt"), "mine").unwrap();
        assert_eq!(verify_listed(d, &["summary.csv"]).unwrap(), Ok(()));
        let why = |read: &[&str]| verify_listed(d, read).unwrap().unwrap_err();
        assert_eq!(why(&["notes.txt"]).why, Why::NotListed);
        fs::write(d.join("plots/km.png"), [1u8, 2, 4]).unwrap();
        assert_eq!(
            (why(&[]).entry.as_str(), why(&[]).why),
            ("plots/km.png", Why::Changed)
        );
        fs::remove_file(d.join("plots/km.png")).unwrap();
        assert_eq!(why(&[]).why, Why::Missing);
        fs::remove_file(d.join(MANIFEST)).unwrap();
        assert!(matches!(why(&[]).why, Why::NotAResult(_)));
    }

    #[test]
    fn an_empty_directory_owns_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(check_owned(tmp.path()).unwrap().unwrap(), Owned::default());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_foreign_even_when_listed() {
        let tmp = result_dir();
        fs::remove_file(tmp.path().join("summary.csv")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", tmp.path().join("summary.csv")).unwrap();
        let foreign = check_owned(tmp.path()).unwrap().unwrap_err();
        assert_eq!(
            (foreign.entry.as_str(), foreign.why),
            ("summary.csv", Why::NotAFile)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_is_foreign() {
        use std::os::unix::ffi::OsStrExt;
        let tmp = result_dir();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        fs::write(tmp.path().join(name), "mine").unwrap();
        let foreign = check_owned(tmp.path()).unwrap().unwrap_err();
        assert_eq!(
            (foreign.entry.as_str(), foreign.why),
            ("caf\u{fffd}.txt", Why::NotListed)
        );
    }

    /// Issue 20: an edit made after the check (between the final check and
    /// the swap) is found when the old result is removed, and kept with the
    /// manifest; everything unchanged goes.
    #[test]
    fn remove_unchanged_keeps_what_was_edited_after_the_check() {
        let tmp = result_dir();
        fs::write(tmp.path().join("plots/km.png"), "my edit").unwrap();
        assert!(!remove_unchanged(tmp.path()).unwrap());
        assert_eq!(
            fs::read_to_string(tmp.path().join("plots/km.png")).unwrap(),
            "my edit"
        );
        assert!(tmp.path().join(MANIFEST).exists());
        assert!(!tmp.path().join("summary.csv").exists());
        let tmp = result_dir();
        assert!(remove_unchanged(tmp.path()).unwrap());
        assert!(!tmp.path().exists());
        let not_a_result = tempfile::tempdir().unwrap();
        fs::write(not_a_result.path().join("summary.csv"), "a,b\n").unwrap();
        assert!(!remove_unchanged(not_a_result.path()).unwrap());
        assert!(not_a_result.path().join("summary.csv").exists());
    }

    #[test]
    fn remove_unchanged_leaves_what_appeared_later() {
        let tmp = result_dir();
        fs::write(tmp.path().join("plots/late.txt"), "mine").unwrap();
        assert!(!remove_unchanged(tmp.path()).unwrap());
        assert_eq!(
            fs::read_to_string(tmp.path().join("plots/late.txt")).unwrap(),
            "mine"
        );
        assert!(!tmp.path().join("summary.csv").exists());
    }
}
