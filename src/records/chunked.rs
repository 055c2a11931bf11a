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

use super::guard::Guarded;
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
    let Some(path) = input.file() else {
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
    let Some(chunks) = boundaries(path, size, bom as u64, threads * 2, SCAN_BLOCK)? else {
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

/// Bytes the boundary scan reads at a time; a cut falls at the end of one.
const SCAN_BLOCK: usize = 1 << 20;

/// Splits the file where records start, near `count` equal offsets, with the
/// line each part starts on. The file is read through the same quoting
/// watch as every CSV read ([`Guarded`], which follows the parser exactly,
/// quotes it reads as text included), in blocks of `block` bytes; a part
/// ends at the last record start of the block that reaches its target, and
/// never right after a blank line (the parser takes blank lines with the
/// record after them). `None` when a record is too long to cut around (the
/// one reader then reports it).
fn boundaries(
    path: &Path,
    size: u64,
    bom: u64,
    count: usize,
    block: usize,
) -> Result<Option<Vec<Chunk>>> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    file.seek(SeekFrom::Start(bom))
        .map_err(|e| Error::io(path, e))?;
    let mut guard = Guarded::new(file);
    let step = ((size - bom) / count as u64).max(1);
    let mut chunks = Vec::with_capacity(count);
    let (mut start, mut first_line) = (bom, 1u64);
    let mut buf = vec![0u8; block];
    loop {
        let n = match guard.read(&mut buf) {
            Ok(n) => n,
            Err(_) if guard.oversize().is_some() => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        if n == 0 {
            break;
        }
        let (offset, line, after_blank) = guard.record_start();
        let at = bom + offset;
        if at >= start + step && at < size && !after_blank {
            chunks.push(Chunk {
                start,
                end: at,
                first_line,
            });
            (start, first_line) = (at, line);
        }
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
    into.served += from.served;
    into.leg_groups.merge(std::mem::take(&mut from.leg_groups));
    for c in from.other_customers {
        into.other_customer(&c);
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
        let chunks = boundaries(&path, text.len() as u64, 0, 5, 1)
            .unwrap()
            .unwrap();
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

    /// Quotes the parser reads as text are followed too (the scan is the
    /// parser's own quoting watch): such files are split like any other.
    #[test]
    fn quotes_the_parser_reads_literally_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        for text in [
            // RFC 4180 quoting: doubled quotes, empty quoted fields, CRLF.
            "h,i\r\n\"a \"\"x\"\" b\",\"\"\r\n\"c\nd\",e\r\nf,g\r\n",
            // A quote inside an unquoted field (the parser keeps it as text).
            "h,i\nMonitor 27\" screen,1\n\"a\nb\",c\nd,e\n",
            // Text after a closing quote.
            "h,i\n\"a\"b,1\nc,d\ne,f\n",
            // A quote after a \r (text: records end at \n), and a \r after a
            // closing quote that does not end the line.
            "h,i\n\r\",\",\na,b\nc,d\n",
            "h,i\n\"a\"\rb,1\nc,d\ne,f\n",
            // A closing quote at the very end.
            "h,i\nc,\"d\"",
        ] {
            std::fs::write(&path, text).unwrap();
            for block in [1, 2, 3, 7] {
                let chunks = boundaries(&path, text.len() as u64, 0, 4, block)
                    .unwrap()
                    .unwrap();
                assert!(
                    chunks.len() > 1,
                    "{text:?} in blocks of {block}: {chunks:?}"
                );
                let mut pieces = Vec::new();
                for c in &chunks {
                    pieces.extend(parse(
                        &text.as_bytes()[c.start as usize..c.end as usize],
                        c.first_line,
                    ));
                }
                assert_eq!(
                    pieces,
                    parse(text.as_bytes(), 1),
                    "{text:?} in blocks of {block}"
                );
            }
        }
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
        /// However the scan splits a text, parsing the chunks one by one
        /// gives the records and line numbers of parsing it whole.
        #[test]
        fn chunks_parse_as_the_whole(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'b', b',', b'"', b'\n', b'\r', b' ']),
                0..300,
            ),
            count in 2usize..7,
            block in 1usize..9,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.csv");
            std::fs::write(&path, &bytes).unwrap();
            let chunks = boundaries(&path, bytes.len() as u64, 0, count, block).unwrap().unwrap();
            let mut pieces = Vec::new();
            let mut next = 0;
            for c in &chunks {
                proptest::prop_assert_eq!(c.start, next);
                next = c.end;
                pieces.extend(parse(&bytes[c.start as usize..c.end as usize], c.first_line));
            }
            proptest::prop_assert_eq!(next, bytes.len() as u64);
            proptest::prop_assert_eq!(pieces, parse(&bytes, 1));
        }
    }
}
