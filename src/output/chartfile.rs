//! Where `course` and `gallery` put an image: the output-directory rule for a
//! single file. An existing file at the path is replaced only when crmo-sim
//! wrote it and nobody changed it since; anything else is refused (exit 2,
//! untouched) unless `--replace`, which moves it aside to `<file>.old-<time>`.
//! A link or a directory at the path is always refused.
//!
//! Proof of authorship travels inside the image: every chart carries a mark
//! holding the SHA-256 of the rest of its bytes (a PNG `tEXt` chunk just
//! before `IEND`; an XML comment after an SVG's last element). A file whose
//! mark is missing or does not match its bytes is not crmo-sim's.
//!
//! The image is drawn in a marked staging directory beside the target (see
//! [`super::staging`]), then swapped in with one atomic exchange, so the
//! path always holds a whole image; the previous image is then deleted only
//! if it still carries a valid mark (checked again after the swap), and
//! kept as `<file>.old-<time>` otherwise.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

use super::outdir::unique_sibling;
use super::platform::{exchange, rename_noreplace, sync_dir};
use super::staging;

/// An image being drawn for a path: checked at [`ChartFile::new`], placed at
/// [`ChartFile::commit`]. Dropped without commit, its staging directory goes
/// and the path is untouched.
#[derive(Debug)]
pub struct ChartFile {
    /// The path as the user gave it (for messages).
    shown: PathBuf,
    /// The path with its directory resolved.
    target: PathBuf,
    /// The marked staging directory the image is drawn in.
    staging: PathBuf,
    /// The file the image is drawn to, in `staging`.
    drawn: PathBuf,
    replace: bool,
    /// The previous file could be neither removed nor moved out of the
    /// staging directory, which must then stay.
    kept_in_staging: std::cell::Cell<bool>,
    /// What the user should hear about, handed out at commit (the library
    /// never prints).
    warnings: std::cell::RefCell<Vec<String>>,
}

impl ChartFile {
    /// Checks `path` (creating its directory if needed) and prepares a
    /// staging directory beside it; every refusal happens here, before any
    /// drawing. Without `replace`, an existing file must be a chart crmo-sim
    /// wrote, unchanged; with it, any regular file is moved aside at commit.
    pub fn new(path: &Path, replace: bool) -> Result<Self> {
        let target = resolve(path)?;
        check_target(&target, path, replace)?;
        let dir = target.parent().unwrap_or(Path::new("/"));
        let warnings = staging::remove_abandoned(dir, &|file| is_own_chart(file).unwrap_or(false))
            .iter()
            .map(|gone| super::outdir::abandoned_removed(gone))
            .collect();
        let staging = staging::create(dir).map_err(|e| Error::output(dir, e))?;
        let mut name = std::ffi::OsString::from("chart");
        if let Some(ext) = target.extension() {
            name.push(".");
            name.push(ext);
        }
        Ok(Self {
            shown: path.to_path_buf(),
            drawn: staging.join(name),
            target,
            staging,
            replace,
            kept_in_staging: std::cell::Cell::new(false),
            warnings: std::cell::RefCell::new(warnings),
        })
    }

    /// Where the image is to be drawn.
    pub fn draw_path(&self) -> &Path {
        &self.drawn
    }

    /// Marks the drawn image, makes it durable and puts it at the path;
    /// returns the warnings for the user (an abandoned staging directory
    /// removed, a previous file kept aside).
    pub fn commit(self) -> Result<Vec<String>> {
        let drawn = &self.drawn;
        let bytes = fs::read(drawn).map_err(|e| Error::output(drawn, e))?;
        fs::write(drawn, mark(&bytes, is_png(&self.target)))
            .map_err(|e| Error::output(drawn, e))?;
        fs::File::open(drawn)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::output(drawn, e))?;
        // Unmarked, the staging directory is never removed as a whole by a
        // later run, so a kill just after the exchange below cannot cost the
        // previous file, which then sits in it.
        staging::unmark(&self.staging).map_err(|e| Error::output(&self.staging, e))?;
        // An interrupt waits until the image has changed hands.
        let mut active = staging::active();
        let placed = self.place();
        if self.kept_in_staging.get() {
            active.staging = None;
        }
        drop(active);
        placed?;
        let dir = self.target.parent().unwrap_or(Path::new("/"));
        let _ = sync_dir(dir);
        Ok(self.warnings.take())
    }

    /// Puts the drawn image at the target: renamed there when the path is
    /// free, exchanged with the file there otherwise (which is then removed
    /// or kept aside, see [`ChartFile::dispose_of_previous`]). The target
    /// is checked again just before, as something other than crmo-sim may
    /// have written there while the image was drawn.
    fn place(&self) -> Result<()> {
        for _ in 0..3 {
            match fs::symlink_metadata(&self.target) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match rename_noreplace(&self.drawn, &self.target) {
                        Ok(()) => return Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(Error::output(&self.target, e)),
                    }
                }
                Err(e) => return Err(Error::output(&self.target, e)),
                Ok(_) => {}
            }
            if let Err(e) = check_target(&self.target, &self.shown, self.replace) {
                return Err(self.keep_new_chart(e));
            }
            if exchange(&self.drawn, &self.target).map_err(|e| Error::output(&self.target, e))? {
                // The previous file is now at the drawn image's name.
                self.dispose_of_previous(&self.drawn, true);
            } else {
                // Two steps where the file system cannot exchange: a kill
                // between them leaves the previous file in `<file>.old-<time>`.
                let aside = unique_sibling(&self.target, "old");
                rename_noreplace(&self.target, &aside)
                    .map_err(|e| Error::output(&self.target, e))?;
                rename_noreplace(&self.drawn, &self.target)
                    .map_err(|e| Error::output(&self.target, e))?;
                self.dispose_of_previous(&aside, false);
            }
            return Ok(());
        }
        Err(Error::output(
            &self.target,
            io::Error::other("the file kept appearing and disappearing"),
        ))
    }

    /// Removes the previous file at `at` if it is (still, checked now) a
    /// chart crmo-sim wrote; otherwise keeps it as `<file>.old-<time>` and
    /// says so.
    fn dispose_of_previous(&self, at: &Path, movable: bool) {
        if is_own_chart(at).unwrap_or(false) && fs::remove_file(at).is_ok() {
            return;
        }
        let kept = if movable {
            let aside = unique_sibling(&self.target, "old");
            match rename_noreplace(at, &aside) {
                Ok(()) => aside,
                Err(_) => {
                    self.kept_in_staging.set(true);
                    at.to_path_buf()
                }
            }
        } else {
            at.to_path_buf()
        };
        self.warnings
            .borrow_mut()
            .push(super::outdir::moved_aside(&self.shown, &kept));
    }

    /// A file that crmo-sim did not write appeared at the path while the
    /// image was drawn: the new image is kept beside it, and the command is
    /// refused with `why`.
    fn keep_new_chart(&self, why: Error) -> Error {
        let kept = unique_sibling(&self.target, "new");
        match rename_noreplace(&self.drawn, &kept) {
            Ok(()) => Error::Usage(format!("{why}. The new image is in {}", kept.display())),
            Err(e) => Error::output(&kept, e),
        }
    }
}

impl Drop for ChartFile {
    fn drop(&mut self) {
        if self.kept_in_staging.get() {
            return;
        }
        let mut active = staging::active();
        let _ = staging::remove_marked(&self.staging);
        active.staging = None;
    }
}

/// The path with its directory created and resolved by the file system (so
/// `lnk/../fig.png` means what the shell means); the file name is kept.
fn resolve(path: &Path) -> Result<PathBuf> {
    let name = match path.file_name() {
        Some(name) => name,
        None => {
            return Err(Error::Usage(format!(
                "--out {} names a directory; give an image file name ending in .png or .svg",
                path.display()
            )))
        }
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let dir = fs::canonicalize(dir).map_err(|e| Error::output(dir, e))?;
    Ok(dir.join(name))
}

/// Refuses a target that is a link, a directory or a special file, and a
/// regular file that is not an unchanged crmo-sim chart unless `replace`.
fn check_target(target: &Path, shown: &Path, replace: bool) -> Result<()> {
    let meta = match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::output(target, e)),
        Ok(meta) => meta,
    };
    let refuse = |what: &str| {
        Err(Error::Usage(format!(
            "{} is {what}; crmo-sim writes a chart only where no file is, or over a chart it wrote itself, so nothing was changed: choose another --out",
            shown.display()
        )))
    };
    if meta.file_type().is_symlink() {
        return refuse("a symbolic link (crmo-sim neither replaces a link nor writes through one)");
    }
    if meta.is_dir() {
        return refuse("a directory");
    }
    if !meta.is_file() {
        return refuse("a special file");
    }
    if replace || is_own_chart(target).map_err(|e| Error::output(target, e))? {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{} exists and is not a chart crmo-sim wrote (or it was changed since). crmo-sim replaces only its own files, so nothing was changed: choose another --out, or add --replace to move that file aside to {}.old-<time> (nothing is deleted)",
        shown.display(),
        shown.display()
    )))
}

/// Whether a path names a PNG (else an SVG): by extension, any case.
fn is_png(path: &Path) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// The end of every PNG: an empty `IEND` chunk.
const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
/// The `tEXt` keyword and text before the hash (PNG), and the comment
/// around it (SVG).
const PNG_MARK_TEXT: &[u8] = b"crmo-sim\0chart sha256=";
const SVG_MARK_START: &[u8] = b"<!-- crmo-sim chart sha256=";
const SVG_MARK_END: &[u8] = b" -->\n";
/// Hex digits of a SHA-256.
const HASH_HEX: usize = 64;

/// Bytes of the mark in an image of each kind.
fn mark_len(png: bool) -> usize {
    if png {
        // Length, type, data, CRC.
        4 + 4 + PNG_MARK_TEXT.len() + HASH_HEX + 4
    } else {
        SVG_MARK_START.len() + HASH_HEX + SVG_MARK_END.len()
    }
}

/// The image with its mark: for a PNG a `tEXt` chunk before `IEND` holding
/// the SHA-256 of the image without it; for an SVG a comment at the end
/// holding the SHA-256 of what precedes it.
pub fn mark(image: &[u8], png: bool) -> Vec<u8> {
    let hex = hex_of(Sha256::new_with_prefix(image));
    let mut out = Vec::with_capacity(image.len() + mark_len(png));
    if png && image.ends_with(&PNG_IEND) {
        let (body, iend) = image.split_at(image.len() - PNG_IEND.len());
        let mut data = PNG_MARK_TEXT.to_vec();
        data.extend_from_slice(&hex);
        let mut crc = flate2::Crc::new();
        crc.update(b"tEXt");
        crc.update(&data);
        out.extend_from_slice(body);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(b"tEXt");
        out.extend_from_slice(&data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
        out.extend_from_slice(iend);
    } else {
        out.extend_from_slice(image);
        out.extend_from_slice(SVG_MARK_START);
        out.extend_from_slice(&hex);
        out.extend_from_slice(SVG_MARK_END);
    }
    out
}

/// Whether the regular file at `path` carries a valid mark (read without
/// loading the whole file, which may be large and not an image at all).
pub fn is_own_chart(path: &Path) -> io::Result<bool> {
    let png = is_png(path);
    let mut file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    let tail_len = mark_len(png) as u64 + if png { PNG_IEND.len() as u64 } else { 0 };
    if len < tail_len {
        return Ok(false);
    }
    let body_len = len - tail_len;
    file.seek(SeekFrom::Start(body_len))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    let recorded = if png {
        let (chunk, iend) = tail.split_at(mark_len(true));
        let header = [
            &((PNG_MARK_TEXT.len() + HASH_HEX) as u32).to_be_bytes()[..],
            b"tEXt",
            PNG_MARK_TEXT,
        ]
        .concat();
        if iend != PNG_IEND || !chunk.starts_with(&header) {
            return Ok(false);
        }
        chunk[header.len()..header.len() + HASH_HEX].to_vec()
    } else {
        let Some(hex) = tail
            .strip_prefix(SVG_MARK_START)
            .and_then(|t| t.strip_suffix(SVG_MARK_END))
        else {
            return Ok(false);
        };
        hex.to_vec()
    };
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    io::copy(&mut (&mut file).take(body_len), &mut hasher)?;
    if png {
        hasher.update(PNG_IEND);
    }
    Ok(hex_of(hasher) == recorded.as_slice())
}

/// The hex digits of a finished SHA-256.
fn hex_of(hasher: Sha256) -> Vec<u8> {
    hasher
        .finalize()
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marked_image_is_recognised_and_any_change_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let mut png = b"\x89PNG\r\n\x1a\nsome image data".to_vec();
        png.extend_from_slice(&PNG_IEND);
        for (name, image) in [
            ("a.png", png.clone()),
            ("a.svg", b"<svg>...</svg>\n".to_vec()),
            ("b.PNG", png.clone()),
        ] {
            let path = tmp.path().join(name);
            fs::write(&path, &image).unwrap();
            assert!(!is_own_chart(&path).unwrap(), "{name} unmarked");
            let marked = mark(&image, is_png(&path));
            fs::write(&path, &marked).unwrap();
            assert!(is_own_chart(&path).unwrap(), "{name} marked");
            let mut edited = marked.clone();
            edited[3] ^= 1;
            fs::write(&path, &edited).unwrap();
            assert!(!is_own_chart(&path).unwrap(), "{name} edited");
        }
    }
}
