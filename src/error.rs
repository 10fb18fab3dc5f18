//! The library's error type: every failure a user can cause names the file, column and row.

use std::path::PathBuf;

/// Everything that can go wrong in `clv`, from reading a log to fitting a model.
#[derive(Debug, thiserror::Error)]
pub enum ClvError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{}: unsupported file type (expected .csv or .parquet)", path.display())]
    UnknownFormat { path: PathBuf },

    #[error("{}: no data rows", path.display())]
    EmptyInput { path: PathBuf },

    #[error("{}: no column '{column}'{}; the columns are: {}", path.display(), suggestion_text(suggestion), available.join(", "))]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: Vec<String>,
        suggestion: Option<String>,
    },

    #[error("{}: column '{column}', data row {row}: {message}", path.display())]
    BadValue {
        path: PathBuf,
        column: String,
        /// 1-based data row (the header is not counted).
        row: usize,
        message: String,
    },

    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },

    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    #[error("{model} fit did not converge: {reason}")]
    NotConverged { model: &'static str, reason: String },

    #[error("{model}: {reason}")]
    Model { model: &'static str, reason: String },

    #[error("{context}: {source}")]
    Polars {
        context: String,
        source: polars::prelude::PolarsError,
    },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, ClvError>;

/// Attaches a context line (usually the file being read or written) to a Polars error.
pub(crate) trait PolarsContext<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::prelude::PolarsResult<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| ClvError::Polars {
            context: context(),
            source,
        })
    }
}
