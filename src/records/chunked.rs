//! Reading one large plain CSV file on every core: one fast pass finds
//! record boundaries (newlines outside quotes) near equal offsets, then each
//! chunk is parsed by the ordinary reader into datasets of its own, and the
//! chunks are merged in file order (strings re-interned, records appended),
//! so the result — records, order, line numbers, errors — is exactly that of
//! reading the file from start to end. [`Sources::read_parts`] is that
//! read-in-parts-then-merge step for any input cut into independent parts
//! (Parquet row groups use it too).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use rayon::prelude::*;

use super::header::Header;
use super::input::{Content, Input};
use super::reader::{csv_reader, feed, header_row, Destination, ReadOptions, ReadOutcome, Sink};
use super::Router;
use crate::error::{Error, Result};

/// Files smaller than this are read by one thread.
const PARALLEL_MIN_BYTES: u64 = 4 << 20;

/// A byte range of the file holding whole records, and the line its first
/// record starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk {
    start: u64,
    end: u64,
    first_line: u64,
}

/// Reads `input` in parallel chunks when it is a large plain CSV file and
/// more than one thread is available; returns `false` (nothing read) when it
/// is not, so the caller reads it the ordinary way.
pub(super) fn read_chunked<D: Destination>(
    input: &Input,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<bool> {
    let Input::Path(path) = input else {
        return Ok(false);
    };
    let threads = rayon::current_num_threads();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if threads < 2 || size < PARALLEL_MIN_BYTES {
        return Ok(false);
    }
    let mut head = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::io(path, e))?;
    // Compressed, Parquet and UTF-16 files take the ordinary path (which also
    // gives their errors).
    let Content::Csv { bom } = Content::of(&head[..n]) else {
        return Ok(false);
    };
    let Some(chunks) = boundaries(path, size, bom as u64, threads * 2)? else {
        return Ok(false);
    };
    if chunks.len() < 2 {
        return Ok(false);
    }
    // The header is the first record of the first chunk.
    let header_row = header_row(&mut csv_reader(true, chunk_reader(path, chunks[0])?), path)?;
    Header::resolve(input, &header_row, options)?;

    let sources = Sources {
        input,
        header_row: &header_row,
        router,
        options,
    };
    sources.read_parts(chunks.len(), outcome, destination, |i, sink| {
        // The first chunk's reader skips the header.
        let chunk = chunks[i];
        let mut csv = csv_reader(i == 0, chunk_reader(path, chunk)?);
        feed(&mut csv, path, chunk.first_line - 1, sink)
    })?;
    Ok(true)
}

/// One input whose parts (chunks of a CSV file, row groups of a Parquet
/// file) can be read independently.
pub(super) struct Sources<'a> {
    pub input: &'a Input,
    /// The input's header, as every part reads it.
    pub header_row: &'a csv::ByteRecord,
    pub router: &'a dyn Router,
    pub options: &'a ReadOptions,
}

impl Sources<'_> {
    /// Reads `count` parts on every core, each into a part of the
    /// destination (and counts of its own), and takes them back in part
    /// order: records, line numbers and the first error are those of
    /// reading the parts one after the other.
    pub(super) fn read_parts<D: Destination>(
        &self,
        count: usize,
        outcome: &mut ReadOutcome,
        destination: &mut D,
        read_part: impl Fn(usize, &mut Sink<'_, D>) -> Result<()> + Sync,
    ) -> Result<()> {
        let shared: &D = destination;
        let parts: Vec<Result<(ReadOutcome, D)>> = (0..count)
            .into_par_iter()
            .map(|i| {
                let mut part = ReadOutcome::default();
                let mut part_destination = shared.part(i);
                let header = Header::resolve(self.input, self.header_row, self.options)?;
                let mut sink = Sink::new(
                    self.input,
                    header,
                    self.router,
                    self.options,
                    &mut part,
                    &mut part_destination,
                );
                read_part(i, &mut sink)?;
                Ok((part, part_destination))
            })
            .collect();
        // The earliest part's error is the first error in input order.
        for part in parts {
            let (part, part_destination) = part?;
            merge(outcome, part);
            destination.absorb(part_destination)?;
        }
        Ok(())
    }
}

fn chunk_reader(path: &Path, chunk: Chunk) -> Result<BufReader<std::io::Take<File>>> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    file.seek(SeekFrom::Start(chunk.start))
        .map_err(|e| Error::io(path, e))?;
    Ok(BufReader::with_capacity(
        1 << 16,
        file.take(chunk.end - chunk.start),
    ))
}

/// Splits the file after newlines that end a record (outside quotes), near
/// `count` equal offsets, counting lines on the way. Quotes are counted, so
/// this follows the CSV parser only where quotes open and close fields as
/// RFC 4180 says; at the first quote that does not (one inside an unquoted
/// field, text after a closing quote — the parser reads those literally)
/// it gives up with `None` and the file is read by one thread.
fn boundaries(path: &Path, size: u64, bom: u64, count: usize) -> Result<Option<Vec<Chunk>>> {
    let mut file =
        BufReader::with_capacity(1 << 20, File::open(path).map_err(|e| Error::io(path, e))?);
    let step = (size / count as u64).max(1);
    let mut chunks = Vec::with_capacity(count);
    let mut start = bom;
    let mut first_line = 1u64;
    let mut lines = 0u64;
    let mut in_quotes = false;
    let mut offset = 0u64;
    let mut next_target = bom + step;
    let mut buf = vec![0u8; 1 << 20];
    // The byte before the block (the file's start counts as a line start),
    // and whether a closing quote ended the previous block.
    let mut before_block = b'\n';
    let mut closed_at_end = false;
    // Bytes that may precede an opening quote or follow a closing one (a
    // quote: the two halves of a doubled quote). Records end at `\n` only:
    // a `\r` is text to the parser, except the `\r` of a `\r\n` after a
    // closing quote, which the reader removes.
    let delimits = |b: u8| matches!(b, b',' | b'\n' | b'"');
    let may_follow_close = |next: &[u8]| match next {
        [b'\r', b'\n', ..] => true,
        [b'\r', ..] => false,
        [b, ..] => delimits(*b),
        [] => true,
    };
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        let block = &buf[..n];
        // A `\r` alone at the start of a block is given up on with the rest.
        if std::mem::take(&mut closed_at_end) && !may_follow_close(&block[..n.min(2)]) {
            return Ok(None);
        }
        for pos in memchr::memchr2_iter(b'"', b'\n', block) {
            if block[pos] == b'"' {
                if in_quotes {
                    let next = &block[pos + 1..(pos + 3).min(n)];
                    if next.is_empty() {
                        closed_at_end = true;
                    } else if !may_follow_close(next) || next == b"\r" {
                        // (A `\r` at the end of a block cannot be checked.)
                        return Ok(None);
                    }
                } else {
                    let before = if pos == 0 {
                        before_block
                    } else {
                        block[pos - 1]
                    };
                    if offset + pos as u64 > bom && !delimits(before) {
                        return Ok(None);
                    }
                }
                in_quotes = !in_quotes;
                continue;
            }
            lines += 1;
            let absolute = offset + pos as u64;
            // Not after a blank line: the parser reads blank lines as part of
            // the next record, so a chunk must start where a record ended.
            let blank = (if pos == 0 {
                before_block
            } else {
                block[pos - 1]
            }) == b'\n';
            if !in_quotes && !blank && absolute >= next_target && absolute + 1 < size {
                chunks.push(Chunk {
                    start,
                    end: absolute + 1,
                    first_line,
                });
                start = absolute + 1;
                first_line = lines + 1;
                next_target = start + step;
            }
        }
        before_block = block[n - 1];
        offset += n as u64;
    }
    chunks.push(Chunk {
        start,
        end: size,
        first_line,
    });
    Ok(Some(chunks))
}

/// Appends a later part's counts, rejects and warnings to the earlier ones'.
fn merge(into: &mut ReadOutcome, mut from: ReadOutcome) {
    into.counts.lines += from.counts.lines;
    into.counts.records += from.counts.records;
    into.counts.out_of_scope += from.counts.out_of_scope;
    into.counts.rejected += from.counts.rejected;
    into.rejects.append(&mut from.rejects);
    for w in from.warnings {
        if !into.warnings.contains(&w) {
            into.warnings.push(w);
        }
    }
    for (c, n) in from.by_customer {
        let t = into.by_customer.entry(c).or_default();
        t.records += n.records;
        t.rejected += n.rejected;
    }
}

#[cfg(test)]
mod tests {
    use super::super::reader::end_line;
    use super::*;

    #[test]
    fn boundaries_respect_quotes_and_count_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let text = "h\n\"a\nb\"\nc\n\"d\"\ne\n";
        std::fs::write(&path, text).unwrap();
        let chunks = boundaries(&path, text.len() as u64, 0, 5).unwrap().unwrap();
        // No chunk starts inside the quoted "a\nb".
        for c in &chunks {
            assert_ne!(c.start, 5, "{chunks:?}");
        }
        assert_eq!(chunks.last().unwrap().end, text.len() as u64);
        let joined: Vec<u8> = chunks
            .iter()
            .flat_map(|c| text.as_bytes()[c.start as usize..c.end as usize].to_vec())
            .collect();
        assert_eq!(joined, text.as_bytes());
        // Each chunk knows the line it starts on.
        for c in &chunks {
            let before = text.as_bytes()[..c.start as usize]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            assert_eq!(c.first_line, before + 1, "{c:?}");
        }
    }

    #[test]
    fn quotes_the_parser_reads_literally_stop_the_split() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let split = |text: &str| {
            std::fs::write(&path, text).unwrap();
            boundaries(&path, text.len() as u64, 0, 4)
                .unwrap()
                .map(|chunks| chunks.len())
        };
        // RFC 4180 quoting: doubled quotes, empty quoted fields, CRLF.
        assert!(split("h,i\r\n\"a \"\"x\"\" b\",\"\"\r\n\"c\nd\",e\r\nf,g\r\n").is_some());
        // A quote inside an unquoted field (the parser keeps it as text).
        assert_eq!(split("h,i\nMonitor 27\" screen,1\n\"a\nb\",c\nd,e\n"), None);
        // Text after a closing quote.
        assert_eq!(split("h,i\n\"a\"b,1\nc,d\ne,f\n"), None);
        // A quote after a \r (text to the parser: records end at \n), and a
        // \r after a closing quote that does not end the line.
        assert_eq!(split("h,i\n\r\",\",\na,b\nc,d\n"), None);
        assert_eq!(split("h,i\n\"a\"\rb,1\nc,d\ne,f\n"), None);
        // A closing quote at the very end is fine.
        assert!(split("h,i\nc,\"d\"").is_some());
        // The same decisions where the scan's 1 MiB reads meet.
        let at_seam = |before: &str, after: &str| {
            let mut text = "h,i\n".to_string();
            while text.len() < (1 << 20) - before.len() {
                text.push_str("ab,cd\n");
            }
            text.truncate((1 << 20) - before.len());
            text.push_str(before);
            text.push_str(after);
            split(&text)
        };
        assert!(at_seam("\n1,", "\"q\",2\n").is_some());
        assert_eq!(at_seam("\n1,x", "\"q,2\n"), None);
        assert!(at_seam("\n1,\"q\"", ",2\n").is_some());
        assert_eq!(at_seam("\n1,\"q\"", "x,2\n"), None);
    }

    /// Records and their line numbers, parsing `text` as the reader does.
    fn parse(text: &[u8], first_line: u64) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut csv = csv_reader(false, text);
        let mut out = Vec::new();
        let mut record = csv::ByteRecord::new();
        while csv.read_byte_record(&mut record).unwrap_or(false) {
            if end_line(&mut record) {
                let line = record.position().map_or(0, |p| p.line()) + first_line - 1;
                out.push((line, record.iter().map(<[u8]>::to_vec).collect()));
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Whenever the scan splits a text, parsing the chunks one by one
        /// gives the records and line numbers of parsing it whole.
        #[test]
        fn chunks_parse_as_the_whole(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'b', b',', b'"', b'\n', b'\r', b' ']),
                0..300,
            ),
            count in 2usize..7,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.csv");
            std::fs::write(&path, &bytes).unwrap();
            if let Some(chunks) = boundaries(&path, bytes.len() as u64, 0, count).unwrap() {
                let mut pieces = Vec::new();
                for c in &chunks {
                    pieces.extend(parse(&bytes[c.start as usize..c.end as usize], c.first_line));
                }
                proptest::prop_assert_eq!(pieces, parse(&bytes, 1));
            }
        }
    }
}
