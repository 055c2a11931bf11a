//! Opening a records input: a file, standard input or bytes in memory,
//! recognised by content (gzip, Parquet, UTF-16, CSV with or without a byte
//! order mark), never by name.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A records input: a file (plain or gzip-compressed CSV) or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
    /// Records already in memory (tests, fuzzing, embedding), with a name
    /// for messages.
    Memory {
        name: String,
        bytes: std::sync::Arc<[u8]>,
    },
    /// A shard's folder of a partitioned dataset (`usage-report
    /// partition`, the Spark job): the parts its `_partition.json` lists,
    /// standing for the files the partition read.
    Shard(std::sync::Arc<super::shards::ShardFolder>),
    /// One part file of a shard's folder, as its read reads it: a file
    /// whose leading `_source_file` and `_source_line` columns, when it has
    /// them, name each record's original place; `from` is the one input it
    /// was cut from, if one.
    Part {
        path: PathBuf,
        from: Option<String>,
    },
    /// Rows of a PostgreSQL table or query (`postgresql://…?table=NAME`).
    Postgres(super::postgres::PgSource),
}

impl Input {
    /// `-` is standard input, `postgresql://…` a database source; anything
    /// else a path.
    pub fn from_arg(arg: &str) -> Result<Input> {
        if arg == "-" {
            Ok(Input::Stdin)
        } else if super::postgres::PgSource::is_url(arg) {
            super::postgres::PgSource::parse(arg).map(Input::Postgres)
        } else {
            Ok(Input::Path(PathBuf::from(arg)))
        }
    }

    /// The inputs a command line names: `-` is standard input; a folder is
    /// every records file under it, sorted by path, leaving out hidden
    /// files, files starting with `_` (`_SUCCESS`), JSON files and
    /// `rejects*.csv` (a partition's own files), and not following links to
    /// folders; anything else a path. A folder holding `_partition*.json`
    /// (a shard of a partitioned dataset) is exactly the parts those list,
    /// in their order, as one [`Input::Shard`]. Each file stays its own input,
    /// so messages name it and its line. A folder with no records file is
    /// an error, unless a `_partition.json` says its shard is empty.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Vec<Input>> {
        let mut inputs = Vec::new();
        for arg in args {
            let arg = arg.as_ref();
            let path = Path::new(arg);
            if arg != "-" && !super::postgres::PgSource::is_url(arg) && path.is_dir() {
                let mut found = Vec::new();
                let partitioned = records_under(path, &mut found)?;
                if found.is_empty() && !partitioned {
                    return Err(Error::Usage(format!(
                        "--records {arg}: the folder holds no records file"
                    )));
                }
                inputs.extend(found);
            } else {
                inputs.push(Input::from_arg(arg)?);
            }
        }
        Ok(inputs)
    }

    /// The name used in messages about the input itself.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) | Input::Part { path: p, .. } => p.display().to_string(),
            Input::Shard(folder) => folder.dir.display().to_string(),
            Input::Stdin => "-".to_string(),
            Input::Memory { name, .. } => name.clone(),
            Input::Postgres(source) => source.name(),
        }
    }

    /// The input a record's own problems are said to be in when it names no
    /// other place: a part cut from one input names that input.
    pub(super) fn origin_name(&self) -> String {
        match self {
            Input::Part {
                from: Some(from), ..
            } => from.clone(),
            _ => self.name(),
        }
    }

    /// The files a manifest says its records were read from: each input's
    /// name, or for a shard's folder the files the partition read; each
    /// once, in order.
    pub fn names(inputs: &[Input]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for input in inputs {
            let own;
            let these: &[String] = match input {
                Input::Shard(folder) => &folder.files,
                _ => {
                    own = [input.name()];
                    &own
                }
            };
            for name in these {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names
    }

    /// The file on disk, for inputs that are one.
    pub(crate) fn file(&self) -> Option<&Path> {
        match self {
            Input::Path(p) | Input::Part { path: p, .. } => Some(p),
            Input::Stdin | Input::Memory { .. } | Input::Postgres(_) | Input::Shard(_) => None,
        }
    }

    pub(super) fn path(&self) -> PathBuf {
        match self {
            Input::Path(p) | Input::Part { path: p, .. } => p.clone(),
            Input::Stdin => PathBuf::from("-"),
            Input::Memory { name, .. } => PathBuf::from(name),
            Input::Postgres(source) => PathBuf::from(source.name()),
            Input::Shard(folder) => folder.dir.clone(),
        }
    }
}

/// The records files under a folder, at any depth, sorted by path (see
/// [`Input::from_args`]); `true` when the folder is a partition's shard.
fn records_under(dir: &Path, out: &mut Vec<Input>) -> Result<bool> {
    let mut entries: Vec<(String, PathBuf, std::fs::FileType)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        entries.push((entry.file_name().to_string_lossy().to_string(), path, kind));
    }
    entries.sort_by(|a, b| a.1.cmp(&b.1));
    let lists: Vec<&PathBuf> = entries
        .iter()
        .filter(|(name, ..)| super::shards::is_part_list(name))
        .map(|(_, path, _)| path)
        .collect();
    if !lists.is_empty() {
        let folder = super::shards::ShardFolder::read(dir, &lists)?;
        // A records file no list names is a leftover, or a part of another
        // run: reading it, or leaving it out unseen, would both be wrong.
        for (name, path, kind) in &entries {
            let stray = !name.starts_with(['.', '_'])
                && !name.ends_with(".json")
                && (kind.is_dir() || !folder.parts.iter().any(|part| part.path == *path));
            if stray {
                return Err(Error::input(
                    path,
                    "a file in a partition's shard folder that no _partition.json lists; remove it, or partition again",
                ));
            }
        }
        out.push(Input::Shard(std::sync::Arc::new(folder)));
        return Ok(true);
    }
    for (name, path, kind) in entries {
        // Hidden files, and the markers Spark and Hadoop write beside their
        // parts (`_SUCCESS`, `_committed_…`).
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        // Folders are followed, links to folders are not (no loops).
        if kind.is_dir() {
            records_under(&path, out)?;
        } else if (kind.is_file() || path.is_file())
            && !(name.ends_with(".json") || (name.starts_with("rejects") && name.ends_with(".csv")))
        {
            out.push(Input::Path(path));
        }
    }
    Ok(false)
}

/// An opened input, by content (not by file name).
pub(super) enum Opened {
    Csv(Box<dyn BufRead + Send>),
    Parquet(bytes::Bytes),
}

/// What a file is, by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Content {
    Empty,
    Parquet,
    Gzip,
    Utf16,
    /// Text, taken as CSV; `bom` is the length of a UTF-8 byte order mark.
    Csv {
        bom: usize,
    },
}

impl Content {
    /// Recognises a file from (at least) its first four bytes.
    pub(super) fn of(head: &[u8]) -> Content {
        if head.is_empty() {
            Content::Empty
        } else if head.starts_with(b"PAR1") {
            Content::Parquet
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Content::Gzip
        } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            Content::Utf16
        } else if head.starts_with(b"\xEF\xBB\xBF") {
            Content::Csv { bom: 3 }
        } else {
            Content::Csv { bom: 0 }
        }
    }
}

/// Opens an input, undoing gzip and a UTF-8 BOM, recognising Parquet by its
/// magic bytes, and refusing encodings the reader would otherwise misread.
pub(super) fn open(input: &Input) -> Result<Opened> {
    let path = input.path();
    let raw: Box<dyn Read + Send> = match input {
        Input::Path(p) | Input::Part { path: p, .. } => {
            Box::new(File::open(p).map_err(|e| Error::io(p, e))?)
        }
        Input::Stdin => Box::new(io::stdin()),
        Input::Memory { bytes, .. } => Box::new(io::Cursor::new(bytes.clone())),
        Input::Postgres(_) => unreachable!("a database is read by records::postgres"),
        Input::Shard(_) => unreachable!("a shard's folder is read part by part"),
    };
    let (head, mut reader) = sniff(raw, &path)?;
    let mut content = Content::of(&head);
    match content {
        Content::Parquet => {
            let mut all = Vec::new();
            reader
                .read_to_end(&mut all)
                .map_err(|e| Error::io(&path, e))?;
            return Ok(Opened::Parquet(bytes::Bytes::from(all)));
        }
        Content::Gzip => {
            let decoder = flate2::bufread::MultiGzDecoder::new(reader);
            let (head, decoded) = sniff(Box::new(decoder), &path)?;
            reader = decoded;
            content = match Content::of(&head) {
                Content::Parquet => return Err(Error::input(
                    &path,
                    "a gzip-compressed Parquet file; Parquet compresses itself, read it as it is",
                )),
                // Gzip in gzip is read as text (and fails as such).
                Content::Gzip => Content::Csv { bom: 0 },
                inner => inner,
            };
        }
        _ => {}
    }
    match content {
        Content::Empty => Err(Error::input(
            &path,
            "the file is empty; a records file needs at least a header row",
        )),
        Content::Utf16 => Err(Error::input(
            &path,
            "the file is UTF-16; records must be UTF-8 (save it as \"CSV UTF-8\")",
        )),
        Content::Csv { bom } => {
            io::copy(&mut reader.by_ref().take(bom as u64), &mut io::sink())
                .map_err(|e| Error::io(&path, e))?;
            Ok(Opened::Csv(reader))
        }
        Content::Parquet | Content::Gzip => unreachable!("handled above"),
    }
}

/// Bytes [`Content::of`] needs to recognise a file.
const SNIFF_BYTES: usize = 4;

/// Reads the first bytes of a stream however it delivers them (a pipe may
/// hand over one byte at a time), and gives them back with a reader that
/// still starts at the beginning.
fn sniff(mut raw: Box<dyn Read + Send>, path: &Path) -> Result<(Vec<u8>, Box<dyn BufRead + Send>)> {
    let mut head = [0u8; SNIFF_BYTES];
    let mut len = 0;
    while len < SNIFF_BYTES {
        match raw.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let head = head[..len].to_vec();
    let reader = io::Cursor::new(head.clone()).chain(raw);
    Ok((head, Box::new(BufReader::with_capacity(1 << 16, reader))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(bytes: &[u8]) -> Result<&'static str> {
        let input = Input::Memory {
            name: "in.csv".into(),
            bytes: bytes.into(),
        };
        Ok(match open(&input)? {
            Opened::Csv(_) => "csv",
            Opened::Parquet(_) => "parquet",
        })
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn inputs_are_recognised_by_their_first_bytes() {
        assert_eq!(Content::of(b""), Content::Empty);
        assert_eq!(Content::of(b"PAR1"), Content::Parquet);
        assert_eq!(Content::of(&[0x1f, 0x8b, 8, 0]), Content::Gzip);
        assert_eq!(Content::of(&[0xFF, 0xFE, b'r', 0]), Content::Utf16);
        assert_eq!(Content::of(b"\xEF\xBB\xBFre"), Content::Csv { bom: 3 });
        assert_eq!(Content::of(b"reco"), Content::Csv { bom: 0 });
        assert_eq!(opened(b"record_type\n").unwrap(), "csv");
        assert_eq!(opened(&gzip(b"\xEF\xBB\xBFrecord_type\n")).unwrap(), "csv");
        assert_eq!(opened(b"PAR1....").unwrap(), "parquet");
        for (bytes, says) in [
            (b"".to_vec(), "the file is empty"),
            (gzip(b""), "the file is empty"),
            (vec![0xFF, 0xFE, b'r', 0], "UTF-16"),
            (gzip(&[0xFE, 0xFF, 0, b'r']), "UTF-16"),
            (gzip(b"PAR1...."), "gzip-compressed Parquet"),
        ] {
            let e = opened(&bytes).unwrap_err().to_string();
            assert!(e.starts_with("in.csv: ") && e.contains(says), "{e}");
        }
    }
}
