//! Staging directories: where a run writes its result (and `course` and
//! `gallery` their image) before the swap. Each is named
//! `.crmo-sim-staging.<host>.<pid>.<start>.<random>` and holds a marker file,
//! [`MARKER_FILE`], created exclusively (never through a link) and holding
//! the directory's own name: a name alone proves nothing, since anyone may
//! name a directory that way. A later run removes only marked staging
//! directories of this host whose process is gone, and another host's only
//! when over a day old (a shared file system); an unmarked one is removed
//! only when empty, or when it is a crmo-sim result whose every file still
//! holds what its manifest records (a result swapped out by a killed run).
//! A marked directory is always removed with its marker last
//! ([`remove_marked`]), so a run killed while removing one leaves it still
//! marked for the next run to finish, never an unmarked directory of result
//! files that no run can tell from a user's.
//! What a run has under way is registered here, and [`remove_unfinished`]
//! removes it (the current staging directory, a chart's temporary file and
//! the target's lock file): the command line calls it on SIGINT, SIGTERM and
//! SIGHUP before the process ends; the library itself handles no signals.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::platform::{host_name, process_state, unix_now, ProcessState};

/// Start of every staging directory's name.
pub const STAGING_PREFIX: &str = ".crmo-sim-staging.";
/// Start of the name of every chart's temporary file (same marker fields).
/// These live only inside staging directories, so no other file named like
/// one is ever removed.
pub const CHART_PREFIX: &str = ".crmo-sim-chart.";
pub use super::ownership::MARKER_FILE;
/// Age after which another host's staging directory counts as abandoned.
const FOREIGN_HOST_MAX_AGE_SECONDS: u64 = 24 * 3600;

/// Who created a staging directory, read back from its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Host name, reduced to `[A-Za-z0-9-_]`.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Creation time, seconds since the Unix epoch.
    pub started_unix: u64,
}

impl Marker {
    /// The marker of this process, now.
    pub fn current() -> Self {
        Self {
            host: host_token(&host_name()),
            pid: std::process::id(),
            started_unix: unix_now(),
        }
    }

    /// The name prefix of a staging directory (a random suffix follows).
    fn prefix(&self, kind: &str) -> String {
        format!("{kind}{}.{}.{}.", self.host, self.pid, self.started_unix)
    }

    /// Reads the marker from the name of a staging directory or a chart's
    /// temporary file.
    pub fn parse(name: &str) -> Option<Self> {
        let marked = name
            .strip_prefix(STAGING_PREFIX)
            .or_else(|| name.strip_prefix(CHART_PREFIX))?;
        let mut parts = marked.split('.');
        let host = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let started_unix = parts.next()?.parse().ok()?;
        parts.next()?;
        Some(Self {
            host,
            pid,
            started_unix,
        })
    }

    /// Whether a staging directory with this marker was abandoned: its
    /// process on this host is gone, or (another host's) it is over a day old.
    fn is_abandoned(&self, this_host: &str, now_unix: u64) -> bool {
        if self.host == this_host {
            self.pid != std::process::id()
                && process_state(self.pid, self.started_unix) == ProcessState::Gone
        } else {
            now_unix.saturating_sub(self.started_unix) > FOREIGN_HOST_MAX_AGE_SECONDS
        }
    }
}

/// A host name as a name token: at most 40 of `[A-Za-z0-9-_]` (dots, which
/// separate the marker's fields, become `_`).
fn host_token(host: &str) -> String {
    let token: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if token.is_empty() {
        "unknown".into()
    } else {
        token
    }
}

/// Registers the lock file that an interrupt removes (None: the run released it).
pub fn register_lock(lock: Option<(PathBuf, FileId)>) {
    active().lock = lock;
}

/// A file's identity (device and inode number on Unix): a name is checked
/// to still be the same file before crmo-sim removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(u64, u64);

impl FileId {
    /// The identity of the file `meta` describes.
    pub fn of(meta: &fs::Metadata) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileId(meta.dev(), meta.ino())
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            FileId(0, 0)
        }
    }
}

/// Removes `path` only while it is still the regular file `id` (not a link,
/// not a file put in its place since).
pub fn remove_if_same(path: &Path, id: FileId) {
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && FileId::of(&m) == id) {
        let _ = fs::remove_file(path);
    }
}

/// Registers the temporary file of a chart being drawn, which an interrupt
/// removes (None: it was renamed into place or removed).
pub fn register_temp_file(path: Option<PathBuf>) {
    active().temp_file = path;
}

/// Creates a new marked staging directory in `parent` and registers it for
/// removal on SIGINT/SIGTERM/SIGHUP.
pub fn create(parent: &Path) -> io::Result<PathBuf> {
    let mut active = active();
    let dir = tempfile::Builder::new()
        .prefix(&Marker::current().prefix(STAGING_PREFIX))
        .rand_bytes(8)
        .tempdir_in(parent)?
        .keep();
    active.staging = Some(dir.clone());
    // `create_new` fails on any existing entry, a link included, so the
    // marker is always a file of this process.
    let marked = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(MARKER_FILE))
        .and_then(|mut f| io::Write::write_all(&mut f, marker_text(&dir).as_bytes()));
    if let Err(e) = marked {
        let _ = remove_marked(&dir);
        active.staging = None;
        return Err(e);
    }
    Ok(dir)
}

/// What a staging directory's marker file holds: the directory's name.
fn marker_text(dir: &Path) -> String {
    format!(
        "{}\n",
        dir.file_name().unwrap_or_default().to_string_lossy()
    )
}

/// Whether `dir` holds its marker file (a regular file, not a link, with
/// the directory's name in it): proof that crmo-sim created it as staging.
pub fn is_marked(dir: &Path) -> bool {
    let path = dir.join(MARKER_FILE);
    fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() < 4096)
        && fs::read(&path).is_ok_and(|text| text == marker_text(dir).as_bytes())
}

/// Removes the marker of a finished staging directory just before it
/// becomes a result, which must hold only files its manifest lists.
pub fn unmark(dir: &Path) -> io::Result<()> {
    match fs::remove_file(dir.join(MARKER_FILE)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Creates the temporary file of a chart that will be renamed to a name
/// ending in `.ext`, in `dir` (a staging directory), and registers it for
/// removal on interrupt.
pub fn chart_temp_file(dir: &Path, ext: &str) -> io::Result<tempfile::NamedTempFile> {
    let (prefix, suffix) = (Marker::current().prefix(CHART_PREFIX), format!(".{ext}"));
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix).rand_bytes(8);
    // The file becomes the chart itself, so it is created with the mode of
    // any other output file (0666 less the umask, as the CSVs get), not
    // tempfile's private 0600: a colleague who can read the CSVs can open
    // the charts too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let file = builder.tempfile_in(dir)?;
    register_temp_file(Some(file.path().to_path_buf()));
    Ok(file)
}

/// Removes the abandoned staging directories in `parent` (this host's whose
/// process is gone, another host's over a day old): a marked one whole, an
/// unmarked one only as far as it is empty or a crmo-sim result's unchanged
/// files (see the module doc), or holding nothing but its own (perhaps
/// half-written) marker and files `own_file` recognises as crmo-sim's (a
/// chart run killed between unmarking its staging and tidying up leaves
/// its marked charts there). Returns those removed. Failures are skipped:
/// cleaning up after another run never stops this one. Links are never
/// followed.
pub fn remove_abandoned(parent: &Path, own_file: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let this_host = host_token(&host_name());
    let now = unix_now();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(marker) = name.to_str().and_then(Marker::parse) else {
            continue;
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let is_staging = kind.is_dir() && name.to_string_lossy().starts_with(STAGING_PREFIX);
        if !is_staging || !marker.is_abandoned(&this_host, now) {
            continue;
        }
        let dir = entry.path();
        let gone = if is_marked(&dir) {
            remove_marked(&dir).is_ok()
        } else {
            // Unmarked: a run killed between creating the directory and
            // marking it (empty), or a result swapped out or about to be
            // swapped in by a killed run (its own files, unless a user
            // changed them), or a user's directory (left alone).
            fs::remove_dir(&dir).is_ok()
                || super::ownership::remove_unchanged(&dir).unwrap_or(false)
                || remove_if_only_own_files(&dir, own_file)
        };
        if gone {
            removed.push(dir);
        }
    }
    removed
}

/// Removes the staging directory `dir` with its marker file last, so that
/// the directory stays marked (and a later run removes it whole) until
/// nothing else is left in it, however far a run killed during the removal
/// got. Removed in the order the directory lists them, as a plain recursive
/// removal goes, the marker could go first: a kill then left an unmarked
/// directory of result files, which no run can tell from a user's and which
/// is therefore kept for ever. Links are removed, never followed. A `dir`
/// already unmarked (a finished result about to be swapped in) is removed
/// the same way.
pub fn remove_marked(dir: &Path) -> io::Result<()> {
    remove_marker_last(dir, &mut remove_entry)
}

/// Removes one entry of a staging directory: a file or link, or a
/// directory with everything in it.
fn remove_entry(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// [`remove_marked`], with `remove` removing each entry but the marker
/// (tests stop it part way, as a kill would).
fn remove_marker_last(
    dir: &Path,
    remove: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() != MARKER_FILE {
            remove(&entry.path())?;
        }
    }
    match fs::remove_file(dir.join(MARKER_FILE)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::remove_dir(dir)
}

/// Removes `dir` if it holds only regular files that are its own marker
/// (whole, or cut short by a kill while it was written) or that `own_file`
/// recognises; anything else and it is left whole.
fn remove_if_only_own_files(dir: &Path, own_file: &dyn Fn(&Path) -> bool) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut files = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let path = entry.path();
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        let own = is_file
            && if entry.file_name() == MARKER_FILE {
                is_cut_marker(dir, &path)
            } else {
                own_file(&path)
            };
        if !own {
            return false;
        }
        files.push(path);
    }
    files.iter().all(|f| fs::remove_file(f).is_ok()) && fs::remove_dir(dir).is_ok()
}

/// Whether the marker file at `path` holds the start of (or all of) the
/// text `dir`'s marker is written with.
fn is_cut_marker(dir: &Path, path: &Path) -> bool {
    fs::read(path).is_ok_and(|text| marker_text(dir).as_bytes().starts_with(&text))
}

/// What an interrupt must remove before the process ends.
#[derive(Debug, Default)]
pub struct Active {
    /// The unfinished result.
    pub staging: Option<PathBuf>,
    /// The target's lock file (removed while still locked, as a finished
    /// run does).
    pub lock: Option<(PathBuf, FileId)>,
    /// A chart being drawn into a temporary file.
    pub temp_file: Option<PathBuf>,
}

static ACTIVE: Mutex<Active> = Mutex::new(Active {
    staging: None,
    lock: None,
    temp_file: None,
});

/// Holds the interrupt handler off while the staging directory changes hands
/// (the swap): while the guard lives, a signal waits.
pub fn active() -> MutexGuard<'static, Active> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes what an interrupted run leaves unfinished: the staging directory
/// (the earlier result stays as it was), the target's lock file and a
/// chart's temporary file. Returns the registry, still locked, so that no
/// swap starts before the caller ends the process, and whether an
/// unfinished result was removed.
///
/// The library installs no signal handler: a front end calls this from its
/// own (the command line's exits with code 130 after it).
pub fn remove_unfinished() -> (MutexGuard<'static, Active>, bool) {
    let mut active = active();
    let removed = match active.staging.take() {
        Some(dir) => {
            let _ = remove_marked(&dir);
            true
        }
        None => false,
    };
    if let Some((lock, id)) = active.lock.take().filter(|_| cfg!(unix)) {
        remove_if_same(&lock, id);
    }
    if let Some(file) = active.temp_file.take() {
        let _ = fs::remove_file(file);
    }
    (active, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_through_names() {
        let m = Marker {
            host: host_token("node-7.cluster.example.org"),
            pid: 4242,
            started_unix: 1_795_621_762,
        };
        assert_eq!(m.host, "node-7_cluster_example_org");
        let name = format!("{}Ab3dE9xy", m.prefix(STAGING_PREFIX));
        assert_eq!(Marker::parse(&name), Some(m.clone()));
        let chart = format!("{}Ab3dE9xy.png", m.prefix(CHART_PREFIX));
        assert_eq!(Marker::parse(&chart), Some(m));
        assert_eq!(Marker::parse(".crmo-sim-staging-old"), None);
        assert_eq!(Marker::parse(".crmo-sim-staging.h.notapid.1.x"), None);
    }

    #[test]
    fn only_abandoned_staging_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let host = host_token(&host_name());
        let now = unix_now();
        let dead = format!("{STAGING_PREFIX}{host}.99999999.{now}.aaaa");
        let mine = format!("{STAGING_PREFIX}{host}.{}.{now}.bbbb", std::process::id());
        let other_recent = format!("{STAGING_PREFIX}otherhost.1.{now}.cccc");
        let other_old = format!("{STAGING_PREFIX}otherhost.1.{}.dddd", now - 2 * 86_400);
        // Named like a dead run's staging directory, but not marked: a
        // user's directory, kept with its contents.
        let users = format!("{STAGING_PREFIX}{host}.99999999.{now}.eeee");
        // Marked, but the marker names another directory: copied, not created.
        let copied = format!("{STAGING_PREFIX}{host}.99999999.{now}.ffff");
        let empty_dead = format!("{STAGING_PREFIX}{host}.99999999.{now}.gggg");
        for name in [&dead, &mine, &other_recent, &other_old, &users, &copied] {
            let dir = tmp.path().join(name);
            fs::create_dir(&dir).unwrap();
            fs::write(dir.join("f"), "x").unwrap();
            if name != &users {
                let marked_as = if name == &copied { &dead } else { name };
                fs::write(dir.join(MARKER_FILE), format!("{marked_as}\n")).unwrap();
            }
        }
        fs::create_dir(tmp.path().join(&empty_dead)).unwrap();
        fs::create_dir(tmp.path().join("user-dir")).unwrap();
        fs::write(tmp.path().join("user-dir/f"), "x").unwrap();
        let mut removed = remove_abandoned(tmp.path(), &|_| false);
        removed.sort();
        let mut expected = [&dead, &other_old, &empty_dead].map(|n| tmp.path().join(n));
        expected.sort();
        assert_eq!(removed, expected);
        for kept in [
            &mine,
            &other_recent,
            &users,
            &copied,
            &"user-dir".to_string(),
        ] {
            assert!(tmp.path().join(kept).join("f").exists(), "{kept} removed");
        }
    }

    #[test]
    fn a_killed_chart_runs_own_leftovers_are_removed_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let host = host_token(&host_name());
        let now = unix_now();
        let own = |path: &Path| path.file_name().is_some_and(|n| n == "chart.png");
        // Unmarked before the swap: only its chart is left.
        let unmarked = format!("{STAGING_PREFIX}{host}.99999999.{now}.aaaa");
        // Killed while writing the marker: a part of the marker's text.
        let cut = format!("{STAGING_PREFIX}{host}.99999999.{now}.bbbb");
        // A chart and a file crmo-sim cannot tell as its own: kept whole.
        let foreign = format!("{STAGING_PREFIX}{host}.99999999.{now}.cccc");
        for name in [&unmarked, &cut, &foreign] {
            let dir = tmp.path().join(name);
            fs::create_dir(&dir).unwrap();
            fs::write(dir.join("chart.png"), "x").unwrap();
        }
        fs::write(tmp.path().join(&cut).join(MARKER_FILE), &cut[..10]).unwrap();
        fs::write(tmp.path().join(&foreign).join("notes.txt"), "x").unwrap();
        let mut removed = remove_abandoned(tmp.path(), &own);
        removed.sort();
        let mut expected = [&unmarked, &cut].map(|n| tmp.path().join(n));
        expected.sort();
        assert_eq!(removed, expected);
        assert!(tmp.path().join(&foreign).join("notes.txt").exists());
        assert!(tmp.path().join(&foreign).join("chart.png").exists());
    }

    /// A run killed while removing a dead run's marked staging directory
    /// (the next run's first step) left, when the marker went first, an
    /// unmarked directory of CSVs that no later run removed. Stopped after
    /// every number of removals, the directory is still marked, and the
    /// next run's clean-up removes what is left.
    #[test]
    fn a_removal_cut_short_leaves_the_directory_marked() {
        let tmp = tempfile::tempdir().unwrap();
        let host = host_token(&host_name());
        let name = format!("{STAGING_PREFIX}{host}.99999999.{}.aaaa", unix_now());
        let dir = tmp.path().join(&name);
        let files = [
            "km.csv",
            "manifest.json",
            "metrics.csv",
            "report.html",
            "summary.csv",
            "timeseries.csv",
        ];
        for kill_after in 0..=files.len() + 1 {
            fs::create_dir(&dir).unwrap();
            fs::write(dir.join(MARKER_FILE), marker_text(&dir)).unwrap();
            for file in files {
                fs::write(dir.join(file), "x").unwrap();
            }
            fs::create_dir(dir.join("plots")).unwrap();
            fs::write(dir.join("plots/flares.png"), "x").unwrap();
            let mut removals = 0;
            let mut killed_after = |path: &Path| {
                if removals == kill_after {
                    return Err(io::Error::other("killed"));
                }
                removals += 1;
                remove_entry(path)
            };
            let finished = remove_marker_last(&dir, &mut killed_after).is_ok();
            assert_eq!(finished, !dir.exists(), "after {kill_after} removals");
            if !finished {
                assert!(is_marked(&dir), "unmarked after {kill_after} removals");
                assert_eq!(remove_abandoned(tmp.path(), &|_| false), vec![dir.clone()]);
            }
            assert!(!dir.exists(), "left after {kill_after} removals");
        }
    }

    #[test]
    fn a_staging_directory_is_marked_until_unmarked() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = create(tmp.path()).unwrap();
        assert!(is_marked(&dir));
        unmark(&dir).unwrap();
        assert!(!is_marked(&dir));
        active().staging = None;
        fs::remove_dir(&dir).unwrap();
    }
}
