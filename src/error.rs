//! Error types of the library: bad scenarios (with file, line and column) and
//! failures while writing results. Input errors map to exit code 2.

use std::io;

/// Everything that can go wrong in crmo-sim's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario text does not parse or a value is not allowed; `message`
    /// already holds the line, column, the offending line and a caret.
    #[error("{path}: {message}")]
    Scenario {
        /// The scenario file.
        path: String,
        /// The located message.
        message: String,
    },
    /// A cross-field check failed.
    #[error("{path}{}: {message}", location.map_or(String::new(), |(l, c)| format!(": line {l}, column {c}")))]
    Invalid {
        /// The scenario file.
        path: String,
        /// 1-based line and column of the offending key, when known.
        location: Option<(usize, usize)>,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The scenario file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The scenario file.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The scenario path is not a regular file (a directory, FIFO or device).
    #[error("{path} is {what}, not a regular file; expected a scenario file (.toml)")]
    NotAFile {
        /// The path given.
        path: String,
        /// What it is instead ("a directory", "a named pipe (FIFO)", ...).
        what: &'static str,
    },
    /// The scenario file is larger than crmo-sim reads.
    #[error("{path} is larger than {limit} bytes, the most a scenario file may have")]
    TooLarge {
        /// The scenario file.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A patient exceeded a per-patient limit while the cohort ran.
    #[error("{0}")]
    PatientLimit(String),
    /// The scenario file is not UTF-8 text.
    #[error("{path}: line {line}, column {column}: invalid UTF-8; scenario files must be UTF-8 text (TOML)")]
    NotUtf8 {
        /// The scenario file.
        path: String,
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column (in bytes) of the first bad byte.
        column: usize,
    },
    /// A command-line option is not allowed.
    #[error("{0}")]
    Usage(String),
    /// Shards cannot be merged (missing, duplicated, foreign or damaged).
    #[error("{0}")]
    Shard(String),
    /// Writing results failed.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// Nothing matched a search (e.g. no patient tells a story); exit code 1.
    #[error("{0}")]
    NotFound(String),
    /// The run was cancelled (an interrupt, or a front end's
    /// [`crate::pipeline::Progress`]); nothing was written.
    #[error("interrupted: the unfinished result was removed; nothing else was changed")]
    Interrupted,
    /// A plot could not be drawn.
    #[error("cannot draw {path}: {message}")]
    Plot {
        /// The image file.
        path: String,
        /// What failed.
        message: String,
    },
}

impl Error {
    /// Whether the error is the user's input (exit code 2) rather than the machine's.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Error::Scenario { .. }
                | Error::Invalid { .. }
                | Error::Read { .. }
                | Error::NotAFile { .. }
                | Error::TooLarge { .. }
                | Error::PatientLimit(_)
                | Error::NotUtf8 { .. }
                | Error::Usage(_)
                | Error::Shard(_)
        )
    }

    /// Wraps an I/O error on `path`.
    pub fn output(path: impl AsRef<std::path::Path>, source: io::Error) -> Self {
        Error::Output {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// Result with crmo-sim's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
