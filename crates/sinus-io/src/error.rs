//! One error type for every reader and writer in this crate.
//!
//! Parsers work on bytes and know nothing of files, so they return an [`Error`] without a path; the
//! file-level entry points attach the path with [`Error::in_file`] before returning. The CLI prints
//! the `Display` form, which always names the file (when known) and the problem.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias used throughout `sinus-io`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, independent of where.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The operating system refused a read or write.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The content does not follow the format (bad syntax, impossible value).
    #[error("{0}")]
    Malformed(String),
    /// The file ends before the content it declares.
    #[error("truncated: {0}")]
    Truncated(String),
    /// Valid by the format's rules but not something this reader implements.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A declared size exceeds what this reader will allocate.
    #[error("too large: {0}")]
    TooLarge(String),
    /// A checksum stored in the file does not match the data.
    #[error("checksum mismatch: {0}")]
    Checksum(String),
    /// Network failure or unexpected server answer while downloading.
    #[error("network: {0}")]
    Network(String),
    /// A downloaded file's digest differs from the published one.
    #[error("integrity: {0}")]
    Integrity(String),
    /// Bad argument from the caller (e.g. a value that cannot be encoded in the chosen format).
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// An error with the file it concerns and, when known, a location inside it (line, byte offset).
#[derive(Debug)]
pub struct Error {
    /// The file the error concerns, when known.
    pub path: Option<PathBuf>,
    /// Where in the file: "line 3", "byte 1024", "signal 1", ...
    pub location: Option<String>,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// A new error of `kind` with no file or location yet.
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            path: None,
            location: None,
            kind,
        }
    }
    /// Content that does not follow the format.
    pub fn malformed(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Malformed(msg.into()))
    }
    /// Content that ends early.
    pub fn truncated(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Truncated(msg.into()))
    }
    /// A valid feature this reader does not implement.
    pub fn unsupported(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported(msg.into()))
    }
    /// A declared size beyond the allocation limit.
    pub fn too_large(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge(msg.into()))
    }
    /// A stored checksum that does not match.
    pub fn checksum(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Checksum(msg.into()))
    }
    /// A bad argument from the caller.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid(msg.into()))
    }
    /// Attach the file path, keeping an existing one (the innermost file is the most precise).
    pub fn in_file(mut self, path: impl AsRef<Path>) -> Self {
        if self.path.is_none() {
            self.path = Some(path.as_ref().to_path_buf());
        }
        self
    }
    /// Attach a location inside the file, keeping an existing one.
    pub fn at(mut self, location: impl Into<String>) -> Self {
        if self.location.is_none() {
            self.location = Some(location.into());
        }
        self
    }
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, err: std::io::Error) -> Self {
        Self::new(ErrorKind::Io(err)).in_file(path)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
        if let Some(l) = &self.location {
            write!(f, "{l}: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::new(ErrorKind::Io(e))
    }
}

/// Extension to attach a path to any `Result<T, Error>` in one call.
pub trait ResultExt<T> {
    /// Attach `path` to the error, if any.
    fn in_file(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn in_file(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| e.in_file(path))
    }
}

/// Largest number of samples (all signals together) a reader will allocate for one record:
/// 2^31 samples = 8 GiB of `i32`, far above any PhysioNet record (MIT-BIH: 1.3 M) yet small
/// enough that a corrupt header cannot make us request terabytes.
pub const MAX_TOTAL_SAMPLES: u64 = 1 << 31;
