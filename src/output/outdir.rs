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
//!    (`renameat2(RENAME_EXCHANGE)`), which moves the old result aside whole;
//!    then deletes the old result's files one by one, each only after
//!    checking once more that it still holds what crmo-sim wrote. A file
//!    edited after the last check (even in the instant before the swap) is
//!    kept, with the old manifest, in `<out>.old-<time>`, and the run says
//!    so. With `--replace` the old directory is moved aside to
//!    `<out>.old-<time>` instead and nothing is deleted.
//!
//! At every moment the target holds either the whole previous result or the
//! whole new one.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

use super::ownership::{check_owned, remove_unchanged, Foreign};
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
    /// What the user should hear about (abandoned staging directories
    /// removed, a previous result moved aside), handed out at commit.
    warnings: Vec<String>,
    _lock: TargetLock,
}

/// A committed result directory and what the user should hear about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The result directory.
    pub dir: PathBuf,
    /// Warnings for the user (a front end shows them; the library never
    /// prints): abandoned staging directories removed, a previous result
    /// moved aside or kept.
    pub warnings: Vec<String>,
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
        let warnings = staging::remove_abandoned(&parent, &|_| false)
            .into_iter()
            .map(|dir| abandoned_removed(&dir))
            .collect();
        let dir = staging::create(&parent).map_err(|e| Error::output(&parent, e))?;
        Ok(Self {
            dir,
            target: resolved,
            shown: target.to_path_buf(),
            replace,
            finished: false,
            exchange,
            warnings,
            _lock: lock,
        })
    }

    /// Where files are written until commit.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Makes the staged result the target directory (see the module doc);
    /// returns the target's path and the warnings of the whole life of the
    /// staging directory.
    pub fn commit(mut self) -> Result<Written> {
        platform::sync_tree(&self.dir).map_err(|e| Error::output(&self.dir, e))?;
        // From here the directory is a finished result: a later run that
        // finds it abandoned removes only its unchanged files.
        staging::unmark(&self.dir).map_err(|e| Error::output(&self.dir, e))?;
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
        Ok(Written {
            dir: self.target.clone(),
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    /// Swaps the staged result in and deletes the previous result's files.
    fn swap_owned(&mut self) -> Result<()> {
        let target = self.target.clone();
        // A target may appear (or vanish) between a check and a rename when
        // something other than crmo-sim writes there; look again then.
        for _ in 0..3 {
            if !self.recheck()? {
                match rename_noreplace(&self.dir, &target) {
                    Ok(()) => {
                        self.finished = true;
                        return Ok(());
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(Error::output(&target, e)),
                }
            }
            pause_before_swap_for_tests();
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
            self.remove_old(&old);
            return Ok(());
        }
        Err(Error::output(
            &target,
            io::Error::other("the directory kept appearing and disappearing"),
        ))
    }

    /// Deletes the previous result's files after the swap, each only if it
    /// still holds what crmo-sim wrote (checked again now: it may have been
    /// edited after the last check). Whatever is left (an edit, a file
    /// added in the instant before the swap, a file that cannot be deleted)
    /// stays, with the old manifest, in `<out>.old-<time>`; the run has
    /// succeeded either way.
    fn remove_old(&mut self, old: &Path) {
        if let Ok(true) = remove_unchanged(old) {
            return;
        }
        let kept = if *old == self.dir {
            // Still under the staging name: give it a name a user finds.
            let aside = unique_sibling(&self.target, "old");
            if rename_noreplace(old, &aside).is_ok() {
                aside
            } else {
                old.to_path_buf()
            }
        } else {
            old.to_path_buf()
        };
        self.warnings.push(format!(
            "the previous result in {} held files changed or added after crmo-sim's last check (or that could not be removed); they were kept, with its manifest, in {}",
            self.shown.display(),
            kept.display()
        ));
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
            self.warnings.push(moved_aside(&self.shown, &old));
            return Ok(());
        }
        self.warnings.push(moved_aside(&self.shown, &aside));
        Ok(())
    }

    /// Checks the target again just before the swap: false when it is gone,
    /// true when it is a crmo-sim result (or empty). If it gained a foreign
    /// file during the run, the new result is kept beside it and the run is
    /// refused.
    fn recheck(&mut self) -> Result<bool> {
        let target = &self.target;
        match fs::symlink_metadata(target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::output(target, e)),
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(self.keep_new_result("was replaced by a file during the run")),
        }
        match check_owned(target).map_err(|e| Error::output(target, e))? {
            Ok(_) => Ok(true),
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

/// The warning that an abandoned staging directory was removed.
pub(crate) fn abandoned_removed(dir: &Path) -> String {
    format!(
        "removed {}, left unfinished by an interrupted crmo-sim run",
        dir.display()
    )
}

/// The warning that the previous contents of `shown` now lie at `aside`.
pub(crate) fn moved_aside(shown: &Path, aside: &Path) -> String {
    format!(
        "the previous contents of {} were moved to {}",
        shown.display(),
        aside.display()
    )
}

/// The name of the environment variable that tests set to a file name to
/// pause a run between its final check of the target and the swap: the run
/// creates that file and waits (up to a minute) until it is removed. This
/// is how `tests/cli/outdir.rs` edits a result in that instant; nothing
/// else sets it.
pub const PAUSE_BEFORE_SWAP_ENV: &str = "CRMO_SIM_TEST_PAUSE_BEFORE_SWAP";

/// See [`PAUSE_BEFORE_SWAP_ENV`].
fn pause_before_swap_for_tests() {
    let Some(flag) = std::env::var_os(PAUSE_BEFORE_SWAP_ENV) else {
        return;
    };
    let flag = PathBuf::from(flag);
    if fs::write(&flag, b"").is_err() {
        return;
    }
    for _ in 0..6000 {
        if fs::symlink_metadata(&flag).is_err() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let mut active = staging::active();
            let _ = staging::remove_marked(&self.dir);
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
///
/// Everything before the last component is resolved by the file system, as
/// the kernel resolves it: `lnk/../res` is `res` beside the directory `lnk`
/// points to, not beside `lnk`. Only the last component is kept by name, so
/// that a target that does not exist yet can be named.
fn resolve_target(target: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| Error::output(".", e))?;
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
    let joined = cwd.join(target);
    let mut absolute = match joined.components().next_back() {
        Some(Component::Normal(name)) => {
            let parent = parent_of(&joined);
            fs::create_dir_all(&parent).map_err(|e| Error::output(&parent, e))?;
            let parent = fs::canonicalize(&parent).map_err(|e| Error::output(&parent, e))?;
            parent.join(name)
        }
        // A path ending in `..` (or the root) names an existing directory.
        _ => fs::canonicalize(&joined).map_err(|e| Error::output(target, e))?,
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

/// `<target>.<what>-<UTC time>`, with `-2`, `-3`, ... when taken.
pub(crate) fn unique_sibling(target: &Path, what: &str) -> PathBuf {
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
/// lock file lives beside the target, holds [`LOCK_TEXT`] (so that a user's
/// file of the same name is never taken for it), is never opened through a
/// link, and is removed when the run ends (only if it is still the same
/// file).
#[derive(Debug)]
struct TargetLock {
    _file: fs::File,
    path: PathBuf,
    id: staging::FileId,
}

/// What every lock file holds.
const LOCK_TEXT: &str = "crmo-sim lock: a crmo-sim run writes the directory beside this file\n";

impl TargetLock {
    fn acquire(parent: &Path, target: &Path, shown: &Path) -> Result<Self> {
        let path = parent.join(lock_name(target.file_name().unwrap_or_default()));
        let busy = || {
            Error::Usage(format!(
                "another crmo-sim run is writing to {} now (lock {}); wait for it to finish or choose another --out",
                shown.display(),
                path.display()
            ))
        };
        // The previous holder removes the file as it ends; a lock taken on a
        // file that is no longer at `path` is retried on the new file. A new
        // lock file is empty for the instant between its creation and its
        // text being written, so an empty one is looked at again.
        for _ in 0..16 {
            let (mut file, created) = open_lock_file(&path, shown)?;
            match try_lock(&file) {
                Ok(true) => {}
                Ok(false) => return Err(busy()),
                Err(e) => return Err(Error::output(&path, e)),
            }
            let Some(id) = same_file(&file, &path) else {
                continue;
            };
            if created {
                io::Write::write_all(&mut file, LOCK_TEXT.as_bytes())
                    .map_err(|e| Error::output(&path, e))?;
            } else {
                match lock_text(&mut file).map_err(|e| Error::output(&path, e))? {
                    LockText::Ours => {}
                    LockText::Empty => {
                        drop(file);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        continue;
                    }
                    LockText::Other => return Err(lock_in_the_way(&path, shown)),
                }
            }
            staging::register_lock(Some((path.clone(), id)));
            return Ok(Self {
                _file: file,
                path,
                id,
            });
        }
        match fs::read(&path) {
            Ok(text) if text.is_empty() => Err(lock_in_the_way(&path, shown)),
            _ => Err(Error::output(
                &path,
                io::Error::other("the lock file kept changing"),
            )),
        }
    }
}

/// Opens the lock file at `path`, creating it when absent (true when
/// created); never through a link, and only a regular file.
fn open_lock_file(path: &Path, shown: &Path) -> Result<(fs::File, bool)> {
    let mut create = fs::OpenOptions::new();
    // `create_new` (O_EXCL) never follows a link, even a dangling one.
    create.read(true).write(true).create_new(true);
    match create.open(path) {
        Ok(file) => return Ok((file, true)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::output(path, e)),
    }
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(lock_in_the_way(path, shown)),
        // Removed by the run that held it: create it again.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return open_lock_file(path, shown);
        }
        Err(e) => return Err(Error::output(path, e)),
    }
    let mut open = fs::OpenOptions::new();
    open.read(true).write(true);
    no_follow(&mut open);
    match open.open(path) {
        Ok(file) if file.metadata().is_ok_and(|m| m.is_file()) => Ok((file, false)),
        Ok(_) => Err(lock_in_the_way(path, shown)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => open_lock_file(path, shown),
        // ELOOP: a link was put there since the check above.
        Err(e) if e.raw_os_error() == Some(rustix_eloop()) => Err(lock_in_the_way(path, shown)),
        Err(e) => Err(Error::output(path, e)),
    }
}

/// Makes `open` fail on a link instead of following it (O_NOFOLLOW).
#[cfg(unix)]
fn no_follow(open: &mut fs::OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    open.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
}

#[cfg(not(unix))]
fn no_follow(_open: &mut fs::OpenOptions) {}

/// The error number of opening a link with O_NOFOLLOW.
fn rustix_eloop() -> i32 {
    #[cfg(unix)]
    {
        rustix::io::Errno::LOOP.raw_os_error()
    }
    #[cfg(not(unix))]
    {
        -1
    }
}

/// What an existing lock file holds.
enum LockText {
    /// [`LOCK_TEXT`]: crmo-sim's (left by a killed run, or by one that is
    /// ending).
    Ours,
    /// Nothing yet.
    Empty,
    /// Anything else: not crmo-sim's.
    Other,
}

fn lock_text(file: &mut fs::File) -> io::Result<LockText> {
    let mut text = Vec::new();
    io::Read::read_to_end(
        &mut io::Read::take(&mut *file, LOCK_TEXT.len() as u64 + 1),
        &mut text,
    )?;
    Ok(if text.is_empty() {
        LockText::Empty
    } else if text == LOCK_TEXT.as_bytes() {
        LockText::Ours
    } else {
        LockText::Other
    })
}

/// A file (or link) named like the target's lock that crmo-sim did not write.
fn lock_in_the_way(path: &Path, shown: &Path) -> Error {
    Error::Usage(format!(
        "{} is named like the lock file crmo-sim keeps beside --out {}, but crmo-sim did not write it, so it was left alone and nothing was changed; move it away or choose another --out (an empty one may be left by an earlier crmo-sim that was killed during a run: then remove it)",
        path.display(),
        shown.display()
    ))
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        staging::register_lock(None);
        // Removed while still locked (see `acquire` for why that is safe),
        // and only if it is still this file.
        if cfg!(unix) {
            staging::remove_if_same(&self.path, self.id);
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

/// The identity of `file` when `path` still names it (not a link).
fn same_file(file: &fs::File, path: &Path) -> Option<staging::FileId> {
    let mine = staging::FileId::of(&file.metadata().ok()?);
    let there = fs::symlink_metadata(path).ok()?;
    (there.is_file() && staging::FileId::of(&there) == mine).then_some(mine)
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
            assert_eq!(staging.commit().unwrap().dir, target);
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
