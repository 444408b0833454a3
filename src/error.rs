//! Error types of the two places where dockdoc meets the outside world: probes and check files.

use std::path::PathBuf;

/// Why a probe could not read its source. Probes turn these into unknown facts.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Something other than a regular file where a file is read: `kind` names it ("a
    /// directory", "a FIFO", "a character device", …).
    #[error("{path}: is {kind}, expected a regular file")]
    NotAFile { path: String, kind: &'static str },
    #[error("{path}: larger than {limit} bytes, refusing to read it")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Other(String),
}

/// A problem with a check file, located at file:line:col (line 0: the file as a whole, shown
/// as just the file).
#[derive(Debug, thiserror::Error)]
pub struct CatalogError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file.display(), self.message),
            line => write!(
                f,
                "{}:{line}:{}: {}",
                self.file.display(),
                self.column,
                self.message
            ),
        }
    }
}
