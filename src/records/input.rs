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
}

impl Input {
    /// `-` is standard input; anything else a path.
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }

    /// The inputs a command line names: `-` is standard input; a folder is
    /// every records file under it, sorted by path (a partitioned dataset,
    /// `DIR/shard=3/part-00000.csv`, …), leaving out hidden files, files
    /// starting with `_` (`_SUCCESS`), JSON files and `rejects.csv` (a
    /// partition's own files), and not following links to folders; anything else a
    /// path. Each file stays its own input, so messages name it and its
    /// line. A folder with no records file is an error.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Vec<Input>> {
        let mut inputs = Vec::new();
        for arg in args {
            let arg = arg.as_ref();
            let path = Path::new(arg);
            if arg != "-" && path.is_dir() {
                let mut files = Vec::new();
                records_under(path, &mut files)?;
                if files.is_empty() {
                    return Err(Error::Usage(format!(
                        "--records {arg}: the folder holds no records file"
                    )));
                }
                files.sort();
                inputs.extend(files.into_iter().map(Input::Path));
            } else {
                inputs.push(Input::from_arg(arg));
            }
        }
        Ok(inputs)
    }

    /// The name used in messages and the manifest.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
            Input::Memory { name, .. } => name.clone(),
        }
    }

    pub(super) fn path(&self) -> PathBuf {
        match self {
            Input::Path(p) => p.clone(),
            Input::Stdin => PathBuf::from("-"),
            Input::Memory { name, .. } => PathBuf::from(name),
        }
    }
}

/// The records files under a folder, at any depth (see
/// [`Input::from_args`]).
fn records_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        // Hidden files, and the markers Spark and Hadoop write beside their
        // parts (`_SUCCESS`, `_committed_…`).
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        // Folders are followed, links to folders are not (no loops).
        if kind.is_dir() {
            records_under(&path, out)?;
        } else if (kind.is_file() || path.is_file())
            && !(name.ends_with(".json") || name == "rejects.csv")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// An opened input, by content (not by file name).
pub(super) enum Opened {
    Csv(Box<dyn BufRead>),
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
    let raw: Box<dyn Read> = match input {
        Input::Path(p) => Box::new(File::open(p).map_err(|e| Error::io(p, e))?),
        Input::Stdin => Box::new(io::stdin()),
        Input::Memory { bytes, .. } => Box::new(io::Cursor::new(bytes.clone())),
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
fn sniff(mut raw: Box<dyn Read>, path: &Path) -> Result<(Vec<u8>, Box<dyn BufRead>)> {
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
