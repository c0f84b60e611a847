//! The few file-system and process facts the result-directory rule needs that
//! the standard library does not offer: an atomic exchange of two directories,
//! a rename that never replaces, mount-point detection, whether a process is
//! still alive, the host name, and durable (fsynced) trees. Each has a
//! conservative fallback where the platform lacks the primitive.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Swaps the directory entries `a` and `b` in one atomic step
/// (`renameat2(RENAME_EXCHANGE)` on Linux, `renameatx_np(RENAME_SWAP)` on
/// macOS); both must exist. Returns false, having changed nothing, where the
/// platform or the file system (some network and cluster file systems)
/// cannot exchange.
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios"
    ))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            Err(e) if [Errno::INVAL, Errno::NOSYS, Errno::OPNOTSUPP].contains(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios"
    )))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// Renames `from` to `to`, failing with `AlreadyExists` instead of replacing
/// anything at `to` (atomically where the platform can; elsewhere the check
/// and the rename are two steps, which the target lock makes safe between
/// crmo-sim runs).
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios"
    ))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // Some file systems (old kernels, some network file systems)
            // lack the flag: fall back to the two-step form below.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    fs::rename(from, to)
}

/// Whether `dir` is the root of a mounted file system (a directory that can
/// never be renamed or replaced).
pub fn is_mount_point(dir: &Path) -> io::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{statx, AtFlags, StatxAttributes, StatxFlags, CWD};
        // statx knows bind mounts too, which share their device number with
        // the parent; older kernels do not report the attribute.
        if let Ok(st) = statx(CWD, dir, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::BASIC_STATS) {
            if st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT) {
                return Ok(st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT));
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let parent = dir.join("..");
        Ok(fs::symlink_metadata(dir)?.dev() != fs::metadata(parent)?.dev())
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(false)
    }
}

/// The verdict on a process named by a staging directory's marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessState {
    /// No process has this id now.
    Gone,
    /// A process with this id exists (or this platform cannot tell).
    MaybeAlive,
}

/// Whether the process `pid` of this host that was running at
/// `running_at_unix` still exists. A process with that id that started
/// later (the id was reused) does not count, where the platform tells
/// (Linux).
pub fn process_state(pid: u32, running_at_unix: u64) -> ProcessState {
    #[cfg(unix)]
    {
        let Some(raw) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return ProcessState::Gone;
        };
        match rustix::process::test_kill_process(raw) {
            Err(rustix::io::Errno::SRCH) => ProcessState::Gone,
            // Two seconds of slack for the boot time's rounding.
            _ if process_start_unix(pid).is_some_and(|t| t > running_at_unix + 2) => {
                ProcessState::Gone
            }
            // Ok, or EPERM: it exists (perhaps as another user).
            _ => ProcessState::MaybeAlive,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (pid, running_at_unix);
        ProcessState::MaybeAlive
    }
}

/// When process `pid` started, seconds since the Unix epoch (Linux: from
/// `/proc/<pid>/stat` and the boot time in `/proc/stat`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn process_start_unix(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22, counted after the command name, which may hold spaces and
    // parentheses itself.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let ticks: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let boot: u64 = fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(boot + ticks / rustix::param::clock_ticks_per_second())
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn process_start_unix(_pid: u32) -> Option<u64> {
    None
}

/// This machine's host name ("unknown" when it cannot be read).
pub fn host_name() -> String {
    #[cfg(unix)]
    {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned()
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
    }
}

/// Flushes every file and directory under `dir` (and `dir` itself) to
/// stable storage, so that a crash after the following rename cannot leave
/// a result whose files are empty or short.
pub fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            fs::File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

/// Flushes a directory's entries (the names created or renamed in it).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Windows cannot open a directory as a file; its renames are
        // journalled by NTFS.
        let _ = dir;
        Ok(())
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A UTC time stamp usable in a file name on every platform
/// (`20261125T154922Z`: no colons).
pub fn utc_stamp(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let secs = unix_seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`, exact for every day count used here).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps_match_known_dates() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        // 2000-02-29 12:34:56 UTC (a leap day), from `date -u -d @951827696`.
        assert_eq!(utc_stamp(951_827_696), "20000229T123456Z");
        // 2026-11-25 15:49:22 UTC.
        assert_eq!(utc_stamp(1_795_621_762), "20261125T154922Z");
    }

    #[test]
    fn exchange_swaps_two_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("from-a"), "a").unwrap();
        fs::write(b.join("from-b"), "b").unwrap();
        let exchanged = exchange(&a, &b).unwrap();
        if cfg!(target_os = "linux") {
            assert!(exchanged, "tmpfs and local file systems can exchange");
        }
        if exchanged {
            assert!(a.join("from-b").exists() && b.join("from-a").exists());
        } else {
            assert!(a.join("from-a").exists() && b.join("from-b").exists());
        }
    }

    #[test]
    fn rename_noreplace_never_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        let e = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(a.exists());
        rename_noreplace(&a, &tmp.path().join("c")).unwrap();
        assert!(!a.exists() && tmp.path().join("c").is_dir());
    }

    #[test]
    fn this_process_is_alive_and_an_unused_id_is_gone() {
        let me = std::process::id();
        assert_eq!(process_state(me, unix_now()), ProcessState::MaybeAlive);
        if cfg!(unix) {
            // Above the largest pid Linux hands out (2^22).
            assert_eq!(process_state(99_999_999, unix_now()), ProcessState::Gone);
        }
        if cfg!(target_os = "linux") {
            // A marker written a day before this process started names
            // another process that had the same id.
            assert_eq!(process_state(me, unix_now() - 86_400), ProcessState::Gone);
        }
    }

    #[test]
    fn a_plain_directory_is_not_a_mount_point() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!is_mount_point(tmp.path()).unwrap());
    }
}
