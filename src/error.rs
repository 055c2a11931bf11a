//! The engine's one error type. Every message says where the problem is —
//! file and line, column, or profile key path — and what would be right.

use std::path::{Path, PathBuf};

/// A problem with one record: where it is and what is wrong with it. It is
/// either fatal (the default) or a line in `rejects.csv` (`--on-bad-record skip`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordProblem {
    /// The records file as the user named it (`-` for standard input).
    pub file: String,
    /// 1-based line of the record's first line in a CSV file; for Parquet
    /// and databases, the record's 1-based row.
    pub line: u64,
    /// Column key, when one column is at fault.
    pub column: Option<String>,
    /// What is wrong and what was expected.
    pub reason: String,
}

impl std::fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A database source ("postgresql table NAME") has rows, not lines.
        if self.file.starts_with("postgresql ") {
            write!(f, "{}, row {}: ", printable(&self.file), self.line)?;
        } else {
            write!(f, "{}:{}: ", printable(&self.file), self.line)?;
        }
        if let Some(column) = &self.column {
            write!(f, "column {column}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// One problem found while validating a profile or catalogue, with the key
/// path that holds it (e.g. `reports.site[1]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem of one document, reported at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problems {
    pub source: String,
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}: {} problem{}",
            self.source,
            n,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The profile (or catalogue) is invalid; every problem is listed.
    #[error("{0}")]
    Invalid(Problems),
    /// A record is invalid and the policy is to fail.
    #[error("{0}")]
    Record(RecordProblem),
    /// A whole input file is unusable (empty, wrong encoding, missing columns).
    #[error("{}: {problem}", shown(path))]
    Input { path: PathBuf, problem: String },
    /// Reading or writing a file failed.
    #[error("{}: {source}", shown(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing an attachment failed in its format's writer (workbook, zip,
    /// PDF); the file is not written.
    #[error("{}: writing {what}: {source}", shown(path))]
    Output {
        path: PathBuf,
        /// What was being written: "the workbook", "the zip", "the PDF".
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A request value is wrong (time zone, period, format list).
    #[error("{0}")]
    Usage(String),
    /// A sum left the exact range; nothing is written.
    #[error("amount overflow while summing {0}")]
    Overflow(String),
    /// The engine's own cross-check failed; nothing is written. This is a bug.
    #[error("internal check failed, nothing written: {0}")]
    Reconcile(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub fn output(
        path: impl AsRef<Path>,
        what: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Output {
            path: path.as_ref().to_path_buf(),
            what,
            source: source.into(),
        }
    }

    /// An error of the csv crate on a file: its I/O error, or what it found.
    pub fn csv(path: impl AsRef<Path>, e: csv::Error) -> Self {
        if e.is_io_error() {
            match e.into_kind() {
                csv::ErrorKind::Io(io) => return Error::io(path, io),
                _ => unreachable!("checked to be an I/O error"),
            }
        }
        Error::input(path, e.to_string())
    }

    /// The process exit code for this error: 2 when the request itself is
    /// wrong (a bad flag value, an invalid profile or catalogue), 1 when
    /// the records or the output failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Invalid(_) => 2,
            Error::Record(_)
            | Error::Input { .. }
            | Error::Io { .. }
            | Error::Output { .. }
            | Error::Overflow(_)
            | Error::Reconcile(_) => 1,
        }
    }

    pub fn input(path: impl AsRef<Path>, problem: impl Into<String>) -> Self {
        Error::Input {
            path: path.as_ref().to_path_buf(),
            problem: problem.into(),
        }
    }
}

/// Text from data (invoice ids, reasons quoting records) as a log line may
/// show it: control characters (a line break, an ANSI escape) are escaped,
/// so data can neither forge a log line nor drive a terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A path as messages show it: control characters in a file name made from
/// data cannot forge a line.
fn shown(path: &Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

/// Closest candidate within a small edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["summary", "call_types", "calls", "transactions"];
        assert_eq!(did_you_mean("sumary", keys), Some("summary"));
        assert_eq!(did_you_mean("call_type", keys), Some("call_types"));
        assert_eq!(did_you_mean("invoices", keys), None);
    }
}
