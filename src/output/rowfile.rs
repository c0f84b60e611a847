//! The file a per-patient table (`patients.csv`, `events.csv`) goes to:
//! plain, or gzip-compressed under `[output] compression = "gzip"`, and
//! the joining of shards' parts of such a file by `merge`.
//!
//! A compressed file must be byte-identical for a given scenario and seed
//! whatever the thread count or shard split, so the gzip stream is fixed in
//! every respect: level 6, no time stamp, no file name, operating system
//! "unknown" (255), and the compressor always receives its input in blocks
//! of [`BLOCK`] bytes, so its output cannot depend on how the bytes arrived
//! (CSV records from a run, or decompressed shard parts in a merge).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::GzBuilder;

use crate::error::{Error, Result};
use crate::scenario::Compression;

/// Bytes handed to the compressor at a time.
pub const BLOCK: usize = 64 * 1024;

/// The compression level: zlib's default, a good size/speed balance.
const LEVEL: u32 = 6;

/// A writer for one per-patient file. `flush` pushes nothing into the
/// compressor (a deflate flush would change the bytes); [`RowFile::finish`]
/// ends the file and reports any failure.
pub enum RowFile {
    /// A plain CSV file.
    Plain(BufWriter<File>),
    /// A gzip stream, fed in fixed blocks.
    Gzip {
        /// The compressor, writing to the file.
        encoder: GzEncoder<File>,
        /// Bytes not yet handed to the compressor (less than [`BLOCK`]).
        pending: Vec<u8>,
    },
}

impl RowFile {
    /// Creates `path` (truncating it) for writing under `compression`.
    pub fn create(path: &Path, compression: Compression) -> Result<RowFile> {
        let file = File::create(path).map_err(|e| Error::output(path, e))?;
        Ok(Self::new(file, compression))
    }

    /// Writes into `file` under `compression`.
    pub fn new(file: File, compression: Compression) -> RowFile {
        match compression {
            Compression::None => RowFile::Plain(BufWriter::new(file)),
            Compression::Gzip => RowFile::Gzip {
                encoder: fixed_gzip_header().write(file, flate2::Compression::new(LEVEL)),
                pending: Vec::with_capacity(BLOCK),
            },
        }
    }

    /// Writes what is left and ends the file (the gzip trailer).
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            RowFile::Plain(mut w) => w.flush(),
            RowFile::Gzip {
                mut encoder,
                pending,
            } => {
                encoder.write_all(&pending)?;
                encoder.finish()?.flush()
            }
        }
    }
}

/// A gzip header that depends on nothing but the content: no time stamp,
/// no file name, operating system unknown.
fn fixed_gzip_header() -> GzBuilder {
    GzBuilder::new().mtime(0).operating_system(255)
}

impl Write for RowFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            RowFile::Plain(w) => w.write(buf),
            RowFile::Gzip { encoder, pending } => {
                let take = buf.len().min(BLOCK - pending.len());
                pending.extend_from_slice(&buf[..take]);
                if pending.len() == BLOCK {
                    encoder.write_all(pending)?;
                    pending.clear();
                }
                Ok(take)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            RowFile::Plain(w) => w.flush(),
            // A sync flush would put a marker into the stream where the
            // caller happened to flush; the file is completed by `finish`.
            RowFile::Gzip { .. } => Ok(()),
        }
    }
}

/// Opens a shard's part of a per-patient file for reading, decompressing
/// a gzip part strictly (see [`StrictGzip`]).
fn open_part(path: &Path, compression: Compression) -> std::io::Result<Box<dyn BufRead>> {
    let file = File::open(path)?;
    Ok(match compression {
        Compression::None => Box::new(BufReader::new(file)),
        Compression::Gzip => Box::new(BufReader::new(StrictGzip::new(BufReader::new(file)))),
    })
}

/// A gzip part as crmo-sim writes it: exactly one gzip member (its CRC and
/// length checked by the decoder) and nothing after it. A second member
/// or trailing bytes are an error, not silently ignored or appended.
struct StrictGzip<R: BufRead> {
    decoder: flate2::bufread::GzDecoder<R>,
}

impl<R: BufRead> StrictGzip<R> {
    fn new(inner: R) -> Self {
        StrictGzip {
            decoder: flate2::bufread::GzDecoder::new(inner),
        }
    }
}

impl<R: BufRead> Read for StrictGzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.decoder.read(buf)?;
        // The decoder reads from the file's buffer only what its one member
        // takes, so anything left there is after the stream.
        if n == 0 && !buf.is_empty() && !self.decoder.get_mut().fill_buf()?.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bytes after the end of the gzip stream (crmo-sim writes one gzip stream and nothing after it)",
            ));
        }
        Ok(n)
    }
}

/// Joins the shards' parts of the per-patient file `name` into `to`: the
/// first part whole, the others without their header line (shards hold
/// contiguous work in order). Compressed parts are decompressed and the
/// joined text compressed again, giving the bytes one run writes.
pub fn join_parts(dirs: &[PathBuf], name: &str, to: &Path, compression: Compression) -> Result<()> {
    let mut out = RowFile::create(to, compression)?;
    for (i, dir) in dirs.iter().enumerate() {
        let part = dir.join(name);
        let unreadable =
            |e: std::io::Error| Error::Shard(format!("{}: cannot read {name}: {e}", dir.display()));
        let mut reader = open_part(&part, compression).map_err(unreadable)?;
        if i > 0 {
            reader
                .read_until(b'\n', &mut Vec::new())
                .map_err(unreadable)?;
        }
        copy(&mut reader, &mut out, to).map_err(|e| match e {
            CopyError::Read(e) => unreadable(e),
            CopyError::Write(e) => e,
        })?;
    }
    out.finish().map_err(|e| Error::output(to, e))
}

enum CopyError {
    Read(std::io::Error),
    Write(Error),
}

/// `io::copy`, telling a damaged part (read) from a full disk (write).
fn copy(from: &mut dyn Read, to: &mut RowFile, path: &Path) -> std::result::Result<(), CopyError> {
    let mut buf = vec![0u8; BLOCK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n])
            .map_err(|e| CopyError::Write(Error::output(path, e)))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("{i},{},row {}\n", i * 7 % 13, i % 5).into_bytes())
            .collect()
    }

    fn gzip(data: &[u8], piece: usize) -> Vec<u8> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.gz");
        let mut w = RowFile::create(&path, Compression::Gzip).unwrap();
        for chunk in data.chunks(piece) {
            w.write_all(chunk).unwrap();
            w.flush().unwrap();
        }
        w.finish().unwrap();
        std::fs::read(path).unwrap()
    }

    #[test]
    fn compressed_bytes_do_not_depend_on_how_the_input_arrives() {
        let data = text(40_000);
        assert!(data.len() > 4 * BLOCK);
        let a = gzip(&data, 1);
        assert_eq!(a, gzip(&data, 977));
        assert_eq!(a, gzip(&data, BLOCK + 1));
        assert_eq!(a, gzip(&data, data.len()));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&a[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        // Header: magic, deflate, no flags, mtime 0, unknown OS.
        assert_eq!(&a[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    }

    fn read_strict(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        StrictGzip::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn a_gzip_part_is_one_stream_and_nothing_after_it() {
        let data = text(20_000);
        let one = gzip(&data, 4096);
        assert_eq!(read_strict(&one).unwrap(), data);
        let mut trailing = one.clone();
        trailing.extend_from_slice(b"junk");
        let Err(e) = read_strict(&trailing) else {
            panic!("bytes after the gzip stream were read");
        };
        assert!(
            e.to_string().contains("after the end of the gzip stream"),
            "{e}"
        );
        let mut two = one.clone();
        two.extend_from_slice(&gzip(b"1,2,row 3\n", 10));
        assert!(read_strict(&two).is_err(), "a second member was read");
        assert!(
            read_strict(&one[..one.len() - 3]).is_err(),
            "a cut stream was read"
        );
        let mut flipped = one.clone();
        let last = flipped.len() - 6;
        flipped[last] ^= 1;
        assert!(read_strict(&flipped).is_err(), "a wrong CRC was read");
    }
}
