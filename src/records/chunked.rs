//! Reading CSV on every core. A large plain file: one fast pass finds
//! record boundaries (newlines outside quotes) near equal offsets, then each
//! chunk is parsed by the ordinary reader into datasets of its own, and the
//! chunks are merged in file order (strings moved, repeating ones
//! re-interned, records appended), so the result — records, order, line
//! numbers, errors — is exactly that of reading the file from start to end.
//! A stream (gzip, standard input): one thread reads (and inflates) it and
//! cuts it into blocks at record starts by the same quoting watch, the
//! other cores parse the blocks as they come, and the blocks are merged in
//! order the same way ([`read_streamed`]). [`Sources::read_parts`] is the
//! read-in-parts-then-merge step for any input cut into independent parts
//! (Parquet row groups use it too).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
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
            .map(|i| self.read_part(shared.part(i), |sink| read_part(i, sink)))
            .collect();
        take_back(parts, outcome, destination)
    }

    /// Reads a part into `part_destination` (a part of the destination),
    /// with counts of its own.
    fn read_part<D: Destination>(
        &self,
        mut part_destination: D,
        read: impl FnOnce(&mut Sink<'_, D>) -> Result<()>,
    ) -> Result<(ReadOutcome, D)> {
        let mut part = ReadOutcome::default();
        let header = Header::resolve(self.input, self.header_row, self.options)?;
        let mut sink = Sink::new(
            self.input,
            header,
            self.router,
            self.options,
            &mut part,
            &mut part_destination,
        );
        read(&mut sink)?;
        Ok((part, part_destination))
    }
}

/// Takes the parts back in order: the earliest part's error is the first
/// error in input order.
fn take_back<D: Destination>(
    parts: Vec<Result<(ReadOutcome, D)>>,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<()> {
    let since = outcome.warnings.len();
    for part in parts {
        let (part, part_destination) = part?;
        merge(outcome, part, since);
        destination.absorb(part_destination)?;
    }
    Ok(())
}

/// Bytes of a stream parsed as one block (cut at the first record start
/// after this many).
pub(super) const STREAM_BLOCK: usize = 8 << 20;

/// Blocks read ahead of the parsers, per thread: the text a stream holds
/// in memory at once is about this many blocks per thread.
const BLOCKS_AHEAD: usize = 2;

/// A block of a stream: whole records, and the line the first starts on.
struct Block {
    bytes: Vec<u8>,
    first_line: u64,
}

/// Cuts a stream into [`Block`]s at record starts, by the quoting watch
/// every CSV read goes through.
struct Cutter<R> {
    guard: Guarded<R>,
    /// A block is cut at the first record start after this many bytes.
    block: usize,
    /// Bytes read but not yet cut off, and where they start in the stream.
    pending: Vec<u8>,
    pending_at: u64,
    first_line: u64,
    done: bool,
    /// The read error that ended the stream, given after the last block.
    failed: Option<std::io::Error>,
}

impl<R: Read> Cutter<R> {
    fn new(reader: R, block: usize) -> Cutter<R> {
        Cutter {
            guard: Guarded::new(reader),
            block,
            pending: Vec::with_capacity(block + (1 << 16)),
            pending_at: 0,
            first_line: 1,
            done: false,
            failed: None,
        }
    }

    /// The next block, `None` at the end. A read error ends the stream as it
    /// ends one reader's read: the records read whole before it are parsed
    /// first (their errors come first), then the error. A record grown past
    /// the limit goes into the last block whole, so that block's parse
    /// fails at its line as one reader's would.
    fn next(&mut self) -> Option<std::io::Result<Block>> {
        if self.done {
            return self.failed.take().map(Err);
        }
        let mut at = self.pending.len();
        loop {
            self.pending.resize(at + self.block.clamp(1, 1 << 16), 0);
            let n = match self.guard.read(&mut self.pending[at..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
                Err(e) => {
                    self.pending.truncate(at);
                    self.done = true;
                    let whole = match self.guard.oversize() {
                        Some(_) => self.pending.len(),
                        None => (self.guard.record_start().0 - self.pending_at) as usize,
                    };
                    if whole == 0 {
                        return Some(Err(e));
                    }
                    self.failed = Some(e);
                    return Some(Ok(self.take(whole)));
                }
            };
            at += n;
            self.pending.truncate(at);
            if n == 0 && self.guard.ended() {
                self.done = true;
                return (!self.pending.is_empty()).then(|| Ok(self.take(self.pending.len())));
            }
            let (start, line) = self.guard.cut();
            let cut = (start - self.pending_at) as usize;
            if cut >= self.block {
                let block = self.take(cut);
                self.first_line = line;
                return Some(Ok(block));
            }
        }
    }

    /// Cuts the first `cut` pending bytes off as a block.
    fn take(&mut self, cut: usize) -> Block {
        let rest = self.pending.split_off(cut);
        let mut bytes = std::mem::replace(&mut self.pending, rest);
        bytes.shrink_to_fit();
        self.pending.reserve(self.block + (1 << 16));
        self.pending_at += cut as u64;
        Block {
            bytes,
            first_line: self.first_line,
        }
    }
}

/// Reads a CSV stream — gzip-compressed or standard input — on every core:
/// a thread of its own reads and cuts it into blocks, the pool parses them
/// as they come, and each is taken back as soon as those before it are, so
/// only the blocks in flight are held. Records, line numbers and the first
/// error are those of one reader; after a failed block nothing later is
/// read or parsed. One block (a small input) is parsed here directly.
/// Blocks are cut at the first record start after `block` bytes
/// ([`STREAM_BLOCK`]).
pub(super) fn read_streamed<D: Destination>(
    block: usize,
    input: &Input,
    reader: Box<dyn BufRead + Send>,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let path = input.path();
    let mut cutter = Cutter::new(reader, block);
    let first = match cutter.next() {
        None => Block {
            bytes: Vec::new(),
            first_line: 1,
        },
        Some(Ok(block)) => block,
        Some(Err(e)) => return Err(Error::csv(&path, e.into())),
    };
    // The header is the first record of the first block.
    let header_row = header_row(&mut csv_reader(true, &first.bytes[..]), &path)?;
    Header::resolve(input, &header_row, options)?;
    let sources = Sources {
        input,
        header_row: &header_row,
        router,
        options,
    };
    let parse = |block: &Block, index: usize, sink: &mut Sink<'_, D>| {
        let mut csv = csv_reader(index == 0, &block.bytes[..]);
        feed(&mut csv, &path, block.first_line - 1, sink)
    };
    if cutter.done && cutter.failed.is_none() {
        let part = sources.read_part(destination.part(0), |sink| parse(&first, 0, sink));
        return take_back(vec![part], outcome, destination);
    }
    // The index of the first block that failed: none after it is needed.
    let failed = Arc::new(AtomicUsize::new(usize::MAX));
    let threads = rayon::current_num_threads();
    let (send, receive) =
        std::sync::mpsc::sync_channel::<(usize, std::io::Result<Block>)>(threads * BLOCKS_AHEAD);
    // Not joined: after a failure the parsers stop taking blocks and this
    // thread ends at its next one (a stream that never ends, like a
    // terminal, need not be read to its end to report the error).
    let stop = Arc::clone(&failed);
    std::thread::Builder::new()
        .name("usage-report-read".into())
        .spawn(move || {
            let blocks = std::iter::once(Ok(first)).chain(std::iter::from_fn(|| cutter.next()));
            for (index, block) in blocks.enumerate() {
                if stop.load(Ordering::Relaxed) < index || send.send((index, block)).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| Error::io(&path, e))?;
    /// Parts parsed, waiting for those before them; the next to take back.
    struct Taking<'t, D> {
        next: usize,
        waiting: std::collections::BTreeMap<usize, Result<(ReadOutcome, D)>>,
        outcome: &'t mut ReadOutcome,
        destination: &'t mut D,
        error: Option<Error>,
    }
    let since = outcome.warnings.len();
    let taking = Mutex::new(Taking {
        next: 0,
        waiting: Default::default(),
        outcome,
        destination,
        error: None,
    });
    let lock = || taking.lock().unwrap_or_else(|e| e.into_inner());
    let _ = receive
        .into_iter()
        .par_bridge()
        .try_for_each(|(index, block)| {
            if failed.load(Ordering::Relaxed) < index {
                return Err(());
            }
            let part_destination = lock().destination.part(index);
            let part = block
                .map_err(|e| Error::csv(&path, e.into()))
                .and_then(|block| {
                    sources.read_part(part_destination, |sink| parse(&block, index, sink))
                });
            let ok = part.is_ok();
            if !ok {
                failed.fetch_min(index, Ordering::Relaxed);
            }
            let mut taking = lock();
            let taking = &mut *taking;
            taking.waiting.insert(index, part);
            while let Some(part) = taking.waiting.remove(&taking.next) {
                taking.next += 1;
                if taking.error.is_some() {
                    continue;
                }
                match part {
                    Ok((part, part_destination)) => {
                        merge(taking.outcome, part, since);
                        if let Err(e) = taking.destination.absorb(part_destination) {
                            taking.error = Some(e);
                        }
                    }
                    Err(e) => taking.error = Some(e),
                }
            }
            // A failure stops the pool taking further blocks (all before this
            // one were taken already).
            if ok {
                Ok(())
            } else {
                Err(())
            }
        });
    let taking = taking.into_inner().unwrap_or_else(|e| e.into_inner());
    match taking.error {
        Some(e) => Err(e),
        None => Ok(()),
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
        let (offset, line) = guard.cut();
        let at = bom + offset;
        if at >= start + step && at < size {
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

/// Appends a later part's counts, rejects and warnings to the earlier ones';
/// a warning every part of this input gives (its header's) is kept once —
/// `since` is where this input's warnings begin, so another input's same
/// warning stays, as one reader of both would give it.
fn merge(into: &mut ReadOutcome, mut from: ReadOutcome, since: usize) {
    into.counts.lines += from.counts.lines;
    into.counts.records += from.counts.records;
    into.counts.out_of_scope += from.counts.out_of_scope;
    into.counts.rejected += from.counts.rejected;
    into.rejects.append(&mut from.rejects);
    for w in from.warnings {
        if !into.warnings[since..].contains(&w) {
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

    /// A stream cut into blocks of whole records, each parsed alone from
    /// its first line, reads as the whole: quotes, blank lines, CRLF and
    /// a last line without a line end included.
    #[test]
    fn stream_blocks_parse_as_the_whole() {
        let text = "h,i\r\n\"a \"\"x\"\" b\",\"\"\r\n\n\"c\nd\",e\r\nf,g\n\nMonitor 27\" screen,1\nlast,\"q\"";
        for block in 1..12 {
            let mut cutter = Cutter::new(text.as_bytes(), block);
            let mut blocks = Vec::new();
            while let Some(b) = cutter.next() {
                blocks.push(b.unwrap());
            }
            assert!(blocks.len() > 1, "block {block}: {}", blocks.len());
            let joined: Vec<u8> = blocks.iter().flat_map(|b| b.bytes.clone()).collect();
            assert_eq!(joined, text.as_bytes());
            let pieces: Vec<_> = blocks
                .iter()
                .flat_map(|b| parse(&b.bytes, b.first_line))
                .collect();
            assert_eq!(pieces, parse(text.as_bytes(), 1), "block {block}");
        }
    }

    /// A generated file read in many blocks on four threads gives the
    /// records, order, counts and rejects of one reader, and under the
    /// fail policy the same first error, wherever the bad records lie.
    #[test]
    fn a_stream_read_in_blocks_reads_as_one_reader() {
        use crate::column::Projection;
        use crate::records::{test_router::All, BadRecordPolicy, Dataset, Datasets};
        let spec = crate::gen::GenSpec {
            calls: 3000,
            customers: 3,
            seed: 7,
            from: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        };
        let mut good = Vec::new();
        crate::gen::generate(&spec, &mut good).unwrap();
        let text = String::from_utf8(good).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Two bad records far apart: start times that are no times.
        for at in [1200, 2500] {
            lines[at] = lines[at].replacen(":", "x", 1);
        }
        let bad = lines.join("\n") + "\n";
        let read = |bytes: &str, policy, block: Option<usize>| {
            let input = Input::Memory {
                name: "calls.csv".into(),
                bytes: bytes.as_bytes().into(),
            };
            let options = ReadOptions {
                projection: Projection::all(),
                policy,
                by_customer: true,
                partition_files: false,
            };
            let mut outcome = ReadOutcome::default();
            let mut datasets = Datasets(vec![Dataset::default()]);
            let reader = Box::new(std::io::Cursor::new(bytes.as_bytes().to_vec()));
            let result = match block {
                Some(block) => rayon::ThreadPoolBuilder::new()
                    .num_threads(4)
                    .build()
                    .unwrap()
                    .install(|| {
                        read_streamed(
                            block,
                            &input,
                            reader,
                            &All,
                            &options,
                            &mut outcome,
                            &mut datasets,
                        )
                    }),
                None => super::super::reader::read_one(
                    &input,
                    reader,
                    &All,
                    &options,
                    &mut outcome,
                    &mut datasets,
                ),
            };
            result.map(|()| {
                let data = &datasets.0[0];
                let ids: Vec<&str> = data.calls.iter().map(|c| data.str(c.call_id)).collect();
                (
                    format!("{:?} {:?}", outcome.counts, outcome.rejects),
                    ids.join(" "),
                    data.content_digest(Projection::all()),
                )
            })
        };
        for block in [2000, 9000, 50_000] {
            let one = read(&text, BadRecordPolicy::Fail, None).unwrap();
            assert_eq!(
                read(&text, BadRecordPolicy::Fail, Some(block)).unwrap(),
                one
            );
            let one = read(&bad, BadRecordPolicy::Skip, None).unwrap();
            assert!(
                one.0.contains("line: 1201") && one.0.contains("line: 2501"),
                "{}",
                one.0
            );
            assert_eq!(read(&bad, BadRecordPolicy::Skip, Some(block)).unwrap(), one);
            let one = read(&bad, BadRecordPolicy::Fail, None)
                .unwrap_err()
                .to_string();
            assert!(one.contains("calls.csv:1201: column start_time"), "{one}");
            let streamed = read(&bad, BadRecordPolicy::Fail, Some(block)).unwrap_err();
            assert_eq!(streamed.to_string(), one);
        }
    }

    /// Under the fail policy a bad record stops a stream's read: one that
    /// never ends (a terminal, a pipe left open) is not read to its end
    /// before the error is reported.
    #[test]
    fn a_bad_record_ends_the_read_of_an_endless_stream() {
        use crate::column::Projection;
        use crate::records::{test_router::All, BadRecordPolicy, Dataset, Datasets};
        /// A header, a bad record on line 3, then good records for ever.
        struct Endless {
            line: u64,
            pending: Vec<u8>,
        }
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                while self.pending.len() < buf.len() {
                    self.line += 1;
                    let record = match self.line {
                        1 => "record_type,customer_id,call_id,start_time,duration,charge\n"
                            .to_string(),
                        3 => "call,ACME,C3,not a time,60,0.10\n".to_string(),
                        n => format!("call,ACME,C{n},2026-10-02T09:00:00Z,60,0.10\n"),
                    };
                    self.pending.extend_from_slice(record.as_bytes());
                }
                let n = buf.len();
                buf.copy_from_slice(&self.pending[..n]);
                self.pending.drain(..n);
                Ok(n)
            }
        }
        let input = Input::Memory {
            name: "endless.csv".into(),
            bytes: Vec::new().into(),
        };
        let options = ReadOptions {
            projection: Projection::all(),
            policy: BadRecordPolicy::Fail,
            by_customer: false,
            partition_files: false,
        };
        let reader = Box::new(BufReader::new(Endless {
            line: 0,
            pending: Vec::new(),
        }));
        let error = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| {
                read_streamed(
                    4096,
                    &input,
                    reader,
                    &All,
                    &options,
                    &mut ReadOutcome::default(),
                    &mut Datasets(vec![Dataset::default()]),
                )
            })
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("endless.csv:3: column start_time"),
            "{error}"
        );
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
