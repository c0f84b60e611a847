//! The result directory's life: crmo-sim deletes only files it wrote and can
//! prove it wrote (see [`super::ownership`]). A run
//!
//! 1. resolves `--out` and refuses, before any work, a target that is the
//!    working directory or a parent of it, not a directory, a dangling link
//!    or a mount point;
//! 2. takes the target's lock file, so a second run into the same target
//!    fails at once with a clear message;
//! 3. refuses (exit 2, naming the first foreign file) when the target holds
//!    anything crmo-sim did not write, unless `--replace` was given;
//! 4. writes into a marked staging directory beside the target (see
//!    [`super::staging`]);
//! 5. fsyncs it, re-checks the target, and swaps the two in one atomic step
//!    (`renameat2(RENAME_EXCHANGE)`), then deletes the old result's own files.
//!    With `--replace` the old directory is moved aside to
//!    `<out>.old-<time>` instead and nothing is deleted.
//!
//! At every moment the target holds either the whole previous result or the
//! whole new one.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

use super::ownership::{check_owned, remove_owned, Foreign};
use super::platform::{self, exchange, rename_noreplace, sync_dir};
use super::staging;

/// A staging directory that becomes the result directory on [`Staging::commit`].
/// Dropped without commit, it is removed.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    shown: PathBuf,
    replace: bool,
    finished: bool,
    /// The atomic exchange ([`platform::exchange`]; replaced in tests to
    /// exercise the two-rename fallback).
    exchange: fn(&Path, &Path) -> io::Result<bool>,
    _lock: TargetLock,
}

impl Staging {
    /// Checks `target` and prepares a staging directory beside it (creating
    /// the parent if needed); every refusal happens here, before any work.
    ///
    /// Without `replace`, an existing target must be empty or hold only a
    /// crmo-sim result's own files. With `replace`, the existing target will
    /// be moved aside whole at commit.
    pub fn new(target: &Path, replace: bool) -> Result<Self> {
        let resolved = resolve_target(target)?;
        let parent = parent_of(&resolved);
        let lock = TargetLock::acquire(&parent, &resolved, target)?;
        if !replace {
            refuse_foreign(&resolved, target)?;
        }
        for dir in staging::remove_abandoned(&parent) {
            eprintln!(
                "removed {}, left unfinished by an interrupted crmo-sim run",
                dir.display()
            );
        }
        let dir = staging::create(&parent).map_err(|e| Error::output(&parent, e))?;
        Ok(Self {
            dir,
            target: resolved,
            shown: target.to_path_buf(),
            replace,
            finished: false,
            exchange,
            _lock: lock,
        })
    }

    /// Where files are written until commit.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Makes the staged result the target directory (see the module doc);
    /// returns the target's path.
    pub fn commit(mut self) -> Result<PathBuf> {
        platform::sync_tree(&self.dir).map_err(|e| Error::output(&self.dir, e))?;
        // An interrupt waits from here until the staging directory has
        // changed hands, so it never removes half of a swap.
        let mut active = staging::active();
        let outcome = if self.replace {
            self.swap_aside()
        } else {
            self.swap_owned()
        };
        if self.finished {
            active.staging = None;
        }
        outcome?;
        let parent = parent_of(&self.target);
        sync_dir(&parent).map_err(|e| Error::output(&parent, e))?;
        Ok(self.target.clone())
    }

    /// Swaps the staged result in and deletes the previous result's files.
    fn swap_owned(&mut self) -> Result<()> {
        let target = self.target.clone();
        // A target may appear (or vanish) between a check and a rename when
        // something other than crmo-sim writes there; look again then.
        for _ in 0..3 {
            let Some(owned) = self.recheck()? else {
                match rename_noreplace(&self.dir, &target) {
                    Ok(()) => {
                        self.finished = true;
                        return Ok(());
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(Error::output(&target, e)),
                }
            };
            let old =
                if (self.exchange)(&self.dir, &target).map_err(|e| Error::output(&target, e))? {
                    self.dir.clone()
                } else {
                    // Two steps where the file system cannot exchange: a kill
                    // between them leaves the previous result, whole, in
                    // `<out>.old-<time>`.
                    let old = unique_sibling(&target, "old");
                    rename_noreplace(&target, &old).map_err(|e| Error::output(&target, e))?;
                    rename_noreplace(&self.dir, &target).map_err(|e| Error::output(&target, e))?;
                    old
                };
            self.finished = true;
            let _ = sync_dir(&parent_of(&target));
            self.remove_old(&old, &owned);
            return Ok(());
        }
        Err(Error::output(
            &target,
            io::Error::other("the directory kept appearing and disappearing"),
        ))
    }

    /// Deletes the previous result's own files after the swap. Whatever is
    /// left (a file added in the instant before the swap, a file that cannot
    /// be deleted) stays, in `<out>.old-<time>`; the run has succeeded
    /// either way.
    fn remove_old(&self, old: &Path, owned: &super::ownership::Owned) {
        if let Ok(true) = remove_owned(old, owned) {
            return;
        }
        let aside = unique_sibling(&self.target, "old");
        let kept = if rename_noreplace(old, &aside).is_ok() {
            aside
        } else {
            old.to_path_buf()
        };
        eprintln!(
            "warning: not everything of the previous result in {} could be removed; what is left is in {}",
            self.shown.display(),
            kept.display()
        );
    }

    /// `--replace`: the whole previous target moves to `<out>.old-<time>`.
    fn swap_aside(&mut self) -> Result<()> {
        let target = self.target.clone();
        if fs::symlink_metadata(&target).is_err() {
            rename_noreplace(&self.dir, &target).map_err(|e| Error::output(&target, e))?;
            self.finished = true;
            return Ok(());
        }
        let aside = unique_sibling(&target, "old");
        // The new result takes the aside name first, then the two swap: a
        // kill in between leaves the target untouched (and the new result,
        // whole, under the aside name).
        rename_noreplace(&self.dir, &aside).map_err(|e| Error::output(&aside, e))?;
        self.finished = true;
        if !(self.exchange)(&aside, &target).map_err(|e| Error::output(&target, e))? {
            // The file system cannot exchange: the old directory moves to a
            // second aside name, then the new result into place.
            let old = unique_sibling(&target, "old");
            rename_noreplace(&target, &old).map_err(|e| Error::output(&target, e))?;
            rename_noreplace(&aside, &target).map_err(|e| Error::output(&target, e))?;
            eprintln!(
                "the previous contents of {} were moved to {}",
                self.shown.display(),
                old.display()
            );
            return Ok(());
        }
        eprintln!(
            "the previous contents of {} were moved to {}",
            self.shown.display(),
            aside.display()
        );
        Ok(())
    }

    /// Checks the target again just before the swap: None when it is gone,
    /// its own entries when it is a crmo-sim result (or empty). If it gained
    /// a foreign file during the run, the new result is kept beside it and
    /// the run is refused.
    fn recheck(&mut self) -> Result<Option<super::ownership::Owned>> {
        let target = &self.target;
        match fs::symlink_metadata(target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::output(target, e)),
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(self.keep_new_result("was replaced by a file during the run")),
        }
        match check_owned(target).map_err(|e| Error::output(target, e))? {
            Ok(owned) => Ok(Some(owned)),
            Err(foreign) => {
                Err(self
                    .keep_new_result(&format!("changed during the run: it now holds {foreign}")))
            }
        }
    }

    /// Moves the finished result to `<out>.new-<time>` and explains why.
    fn keep_new_result(&mut self, what_happened: &str) -> Error {
        let kept = unique_sibling(&self.target, "new");
        match rename_noreplace(&self.dir, &kept) {
            Ok(()) => {
                self.finished = true;
                Error::Usage(format!(
                    "output directory {} {what_happened}; crmo-sim deletes only files it wrote, so it was not changed. The new result is in {}",
                    self.shown.display(),
                    kept.display()
                ))
            }
            Err(e) => Error::output(&kept, e),
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let mut active = staging::active();
            let _ = fs::remove_dir_all(&self.dir);
            active.staging = None;
        }
    }
}

/// Refuses a target that holds anything crmo-sim did not write.
fn refuse_foreign(target: &Path, shown: &Path) -> Result<()> {
    if fs::symlink_metadata(target).is_err() {
        return Ok(());
    }
    match check_owned(target).map_err(|e| Error::output(target, e))? {
        Ok(_) => Ok(()),
        Err(foreign) => Err(foreign_error(shown, &foreign)),
    }
}

fn foreign_error(shown: &Path, foreign: &Foreign) -> Error {
    Error::Usage(format!(
        "output directory {} holds {foreign}. crmo-sim deletes only files it wrote, so nothing was changed: move that away, choose another --out, or add --replace to move the whole directory aside to {}.old-<time> (nothing is deleted)",
        shown.display(),
        shown.display()
    ))
}

/// The absolute, resolved target: refused when it is the working directory
/// or a parent of it, not a directory, a dangling link, or a mount point.
fn resolve_target(target: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| Error::output(".", e))?;
    let mut absolute = normalise(&cwd.join(target));
    let refuse_cwd = |p: &Path| {
        if p.parent().is_none() || cwd.starts_with(p) {
            Err(Error::Usage(format!(
                "--out {} is the working directory or one of its parents; choose a directory for the results, e.g. --out results/my-run",
                target.display()
            )))
        } else {
            Ok(())
        }
    };
    refuse_cwd(&absolute)?;
    if fs::symlink_metadata(&absolute).is_ok_and(|m| m.file_type().is_symlink()) {
        absolute = fs::canonicalize(&absolute).map_err(|_| {
            let to = fs::read_link(&absolute).unwrap_or_default();
            Error::Usage(format!(
                "--out {} is a symbolic link to {}, which does not exist; create that directory or choose another --out",
                target.display(),
                to.display()
            ))
        })?;
        refuse_cwd(&absolute)?;
    }
    let parent = parent_of(&absolute);
    fs::create_dir_all(&parent).map_err(|e| Error::output(&parent, e))?;
    let parent = fs::canonicalize(&parent).map_err(|e| Error::output(&parent, e))?;
    let absolute = parent.join(absolute.file_name().unwrap_or(OsStr::new("")));
    refuse_cwd(&absolute)?;
    if let Ok(meta) = fs::symlink_metadata(&absolute) {
        if !meta.is_dir() {
            return Err(Error::Usage(format!(
                "output path {} is taken by a file that is not a directory; choose another --out",
                target.display()
            )));
        }
        if platform::is_mount_point(&absolute).map_err(|e| Error::output(&absolute, e))? {
            return Err(Error::Usage(format!(
                "--out {} is a mount point, which cannot be replaced as a whole; write into a directory inside it, e.g. --out {}",
                target.display(),
                target.join("results").display()
            )));
        }
    }
    Ok(absolute)
}

/// The parent directory of an absolute target (never empty).
fn parent_of(target: &Path) -> PathBuf {
    target
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// Removes `.` and resolves `..` lexically (the path may not exist yet).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `<target>.<what>-<UTC time>`, with `-2`, `-3`, ... when taken.
fn unique_sibling(target: &Path, what: &str) -> PathBuf {
    let stamp = platform::utc_stamp(platform::unix_now());
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{what}-{stamp}"));
    let first = target.with_file_name(&name);
    let mut candidate = first.clone();
    let mut n = 2;
    while fs::symlink_metadata(&candidate).is_ok() {
        let mut numbered = name.clone();
        numbered.push(format!("-{n}"));
        candidate = target.with_file_name(numbered);
        n += 1;
    }
    candidate
}

/// The lock file of one target, held for a whole run: a second run into the
/// same target fails at once instead of racing the first one's swap. The
/// lock file lives beside the target and is removed when the run ends.
#[derive(Debug)]
struct TargetLock {
    _file: fs::File,
    path: PathBuf,
}

impl TargetLock {
    fn acquire(parent: &Path, target: &Path, shown: &Path) -> Result<Self> {
        let path = parent.join(lock_name(target.file_name().unwrap_or_default()));
        // The previous holder removes the file as it ends; a lock taken on a
        // file that is no longer at `path` is retried on the new file.
        for _ in 0..16 {
            let file = fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| Error::output(&path, e))?;
            match try_lock(&file) {
                Ok(true) if is_same_file(&file, &path) => {
                    staging::register_lock(Some(path.clone()));
                    return Ok(Self { _file: file, path });
                }
                Ok(true) => continue,
                Ok(false) => {
                    return Err(Error::Usage(format!(
                        "another crmo-sim run is writing to {} now (lock {}); wait for it to finish or choose another --out",
                        shown.display(),
                        path.display()
                    )))
                }
                Err(e) => return Err(Error::output(&path, e)),
            }
        }
        Err(Error::output(
            &path,
            io::Error::other("the lock file kept changing"),
        ))
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        staging::register_lock(None);
        // Removed while still locked; see `acquire` for why that is safe.
        if cfg!(unix) {
            let _ = fs::remove_file(&self.path);
        }
        // `_file` closes after this, which releases the lock.
    }
}

/// Takes an exclusive lock on `file` without waiting: false when another
/// process holds it.
#[cfg(unix)]
fn try_lock(file: &fs::File) -> io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Takes an exclusive lock on `file` without waiting: false when another
/// process holds it.
#[cfg(not(unix))]
#[allow(clippy::incompatible_msrv)]
fn try_lock(file: &fs::File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(fs::TryLockError::WouldBlock) => Ok(false),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

/// `.<name>.crmo-sim-lock` (hashed when the name is too long for one).
fn lock_name(target_name: &OsStr) -> String {
    let name = target_name.to_string_lossy();
    if name.len() <= 200 {
        format!(".{name}.crmo-sim-lock")
    } else {
        let hash = super::writer::sha256_hex(&name);
        format!(".crmo-sim-lock-{}", &hash[..16])
    }
}

#[cfg(unix)]
fn is_same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_same_file(_file: &fs::File, _path: &Path) -> bool {
    true
}

/// The default result directory name for a scenario name: characters other
/// than ASCII letters, digits, `-`, `_` and `.` become `_`; leading and trailing
/// dots and spaces go (so `.`, `..` and hidden names cannot arise); at most
/// 100 characters; `scenario` when nothing is left. `charts` is where
/// `course` and `gallery` put their images, so a scenario of that name gets
/// `charts-run`.
pub fn result_dir_name(scenario_name: &str) -> String {
    let cleaned: String = scenario_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let trimmed = cleaned.trim_matches(|c| c == '.' || c == ' ');
    match trimmed {
        "" => "scenario".into(),
        CHARTS_DIR => format!("{CHARTS_DIR}-run"),
        name => name.into(),
    }
}

/// The directory under `output/` where `course` and `gallery` write by
/// default (one subdirectory per scenario); no `run` ever replaces it.
pub const CHARTS_DIR: &str = "charts";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_safe_directory_names() {
        for (stem, want) in [
            (".", "scenario"),
            ("..", "scenario"),
            ("", "scenario"),
            (".hidden", "hidden"),
            ("my.study.v2", "my.study.v2"),
            ("a/b", "a_b"),
            ("a\\..\\b", "a_.._b"),
            ("trailing.", "trailing"),
            ("charts", "charts-run"),
            ("étude", "_tude"),
            ("natural-history", "natural-history"),
        ] {
            assert_eq!(result_dir_name(stem), want, "{stem:?}");
        }
        assert_eq!(result_dir_name(&"x".repeat(300)).len(), 100);
    }

    /// A finished result in `dir` holding `file` (and its manifest).
    fn write_result(dir: &Path, file: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(file), text).unwrap();
        let l = super::super::ownership::list_result(dir).unwrap();
        let json = serde_json::json!({
            "format": super::super::ownership::RESULT_MARKER,
            "files": l.entries.iter().cloned().chain(["manifest.json".to_string()]).collect::<Vec<_>>(),
            "sha256": l.sha256,
        });
        fs::write(dir.join("manifest.json"), json.to_string()).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    /// Both swaps, with the atomic exchange and with the two-rename fallback
    /// of file systems that cannot exchange: the new result is in place, the
    /// old one's files are gone (or, with `replace`, kept aside whole).
    #[test]
    fn swaps_with_and_without_an_atomic_exchange() {
        let no_exchange: fn(&Path, &Path) -> io::Result<bool> = |_, _| Ok(false);
        for (exchange, replace) in [
            (
                platform::exchange as fn(&Path, &Path) -> io::Result<bool>,
                false,
            ),
            (no_exchange, false),
            (platform::exchange, true),
            (no_exchange, true),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let target = tmp.path().join("res");
            write_result(&target, "old.csv", "old");
            let mut staging = Staging::new(&target, replace).unwrap();
            staging.exchange = exchange;
            write_result(staging.path(), "new.csv", "new");
            assert_eq!(staging.commit().unwrap(), target);
            assert_eq!(fs::read_to_string(target.join("new.csv")).unwrap(), "new");
            assert!(!target.join("old.csv").exists());
            let left = names(tmp.path());
            if replace {
                assert_eq!(left.len(), 2, "{left:?}");
                assert!(left[1].starts_with("res.old-"), "{left:?}");
                let aside = tmp.path().join(&left[1]);
                assert_eq!(fs::read_to_string(aside.join("old.csv")).unwrap(), "old");
            } else {
                assert_eq!(left, ["res"]);
            }
        }
    }

    #[test]
    fn siblings_are_unique() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("res");
        let a = unique_sibling(&target, "old");
        fs::create_dir(&a).unwrap();
        let b = unique_sibling(&target, "old");
        assert_ne!(a, b);
        assert!(b.to_string_lossy().ends_with("-2"), "{}", b.display());
    }
}
