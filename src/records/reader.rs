//! The record reader: opens each input (file, gzip, standard input), checks
//! its encoding and header, then parses row by row into the invoice datasets
//! a [`Router`] chooses, reusing one record buffer for the whole file.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use super::guard::{Guarded, MAX_RECORD_BYTES};
use super::value::{parse_date, parse_duration, parse_timestamp};
use super::{BadRecordPolicy, Call, Dataset, InputCounts, Reject, Router, Sym, Transaction};
use crate::column::{Applies, Column, Projection};
use crate::error::{Error, RecordProblem, Result};
use crate::money::Decimal;

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

/// How to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    pub projection: Projection,
    pub policy: BadRecordPolicy,
    /// Count records and rejects per served customer (billing runs).
    pub by_customer: bool,
    /// The inputs are partition files a billing run wrote itself: their two
    /// leading columns name each record's original file and line. Columns
    /// of those names in any other input are ordinary unknown columns, so
    /// input can never choose where its errors are said to be.
    pub partition_files: bool,
}

/// What a read produced: one dataset per routed invoice, the counts that
/// reconcile with the input, and the rejects kept under the skip policy.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    pub datasets: Vec<Dataset>,
    pub counts: InputCounts,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<String>,
    /// With `ReadOptions::by_customer`: records and rejects per customer the
    /// router serves.
    pub by_customer: rustc_hash::FxHashMap<String, CustomerCounts>,
}

/// Records of one customer seen by a read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomerCounts {
    pub records: u64,
    pub rejected: u64,
}

const CALL_REQUIRED: [Column; 4] = [
    Column::CallId,
    Column::StartTime,
    Column::Duration,
    Column::Charge,
];
const TRANSACTION_REQUIRED: [Column; 3] = [Column::TransactionId, Column::Date, Column::Amount];
/// Leading columns of partition files: where each record came from.
pub(super) const SOURCE_FILE: &str = "_source_file";
pub(super) const SOURCE_LINE: &str = "_source_line";
/// Longest raw record copied into rejects.csv; the rest is counted, not kept.
const RAW_LIMIT: usize = 4096;

/// Reads every input in order and routes each record. Under
/// [`BadRecordPolicy::Fail`] the first bad record stops the read with an
/// error naming file, line and column.
pub fn read_records(
    inputs: &[Input],
    router: &dyn Router,
    options: &ReadOptions,
) -> Result<ReadOutcome> {
    let mut outcome = ReadOutcome {
        datasets: (0..router.invoices()).map(|_| Dataset::default()).collect(),
        ..ReadOutcome::default()
    };
    for input in inputs {
        if !super::chunked::read_chunked(input, router, options, &mut outcome, None)? {
            read_input(input, router, options, &mut outcome, None)?;
        }
    }
    outcome.counts.in_scope = outcome.datasets.iter().map(Dataset::in_scope).sum();
    Ok(outcome)
}

/// Reads one input into `outcome`, or with a partitioner, into its buckets.
pub(super) fn read_input(
    input: &Input,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    partition: Option<&mut super::spill::Partitioner>,
) -> Result<()> {
    match open(input)? {
        Opened::Csv(reader) => read_csv(input, reader, router, options, outcome, partition),
        Opened::Parquet(bytes) => {
            super::parquet::read_parquet(input, bytes, router, options, outcome, partition)
        }
    }
}

/// An opened input, by content (not by file name).
enum Opened {
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
fn open(input: &Input) -> Result<Opened> {
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

/// Column positions of one file's header, resolved once; the row loop then
/// only indexes.
pub(super) struct Header {
    position: [Option<usize>; Column::ALL.len()],
    width: usize,
    /// The header as written (for partition files).
    raw: csv::ByteRecord,
    /// Partition files lead with the original file and line of each record.
    source: Option<(usize, usize)>,
}

impl Header {
    pub(super) fn resolve(
        input: &Input,
        raw: &csv::ByteRecord,
        options: &ReadOptions,
    ) -> Result<Header> {
        let path = input.path();
        let source = if options.partition_files {
            if raw.get(0) != Some(SOURCE_FILE.as_bytes())
                || raw.get(1) != Some(SOURCE_LINE.as_bytes())
            {
                return Err(Error::input(&path, "not a partition file of this run"));
            }
            Some((0, 1))
        } else {
            None
        };
        let skip = if source.is_some() { 2 } else { 0 };
        let mut position = [None; Column::ALL.len()];
        for (i, name) in raw.iter().enumerate().skip(skip) {
            let name = std::str::from_utf8(name).map_err(|_| {
                Error::input(&path, format!("header column {} is not valid UTF-8", i + 1))
            })?;
            let Some(column) = Column::from_key(name.trim()) else {
                continue;
            };
            if column.applies() == Applies::Measure {
                continue;
            }
            if position[column as usize].is_some() {
                return Err(Error::input(
                    &path,
                    format!("line 1: column {name:?} appears twice in the header"),
                ));
            }
            position[column as usize] = Some(i);
        }
        let header = Header {
            position,
            width: raw.len(),
            raw: raw.clone(),
            source,
        };
        let mut missing: Vec<&str> = [Column::RecordType, Column::CustomerId]
            .into_iter()
            .filter(|c| !header.has(*c))
            .map(Column::key)
            .collect();
        let calls_missing = header.missing(&CALL_REQUIRED);
        let transactions_missing = header.missing(&TRANSACTION_REQUIRED);
        if !calls_missing.is_empty() && !transactions_missing.is_empty() {
            missing.extend(calls_missing.iter().chain(&transactions_missing));
        }
        if !missing.is_empty() {
            return Err(Error::input(
                &path,
                format!(
                    "line 1: missing required column{}: {}",
                    plural(missing.len()),
                    missing.join(", ")
                ),
            ));
        }
        Ok(header)
    }

    fn has(&self, column: Column) -> bool {
        self.position[column as usize].is_some()
    }

    fn missing(&self, columns: &[Column]) -> Vec<&'static str> {
        columns
            .iter()
            .filter(|c| !self.has(**c))
            .map(|c| c.key())
            .collect()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn read_csv(
    input: &Input,
    reader: Box<dyn BufRead>,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    partition: Option<&mut super::spill::Partitioner>,
) -> Result<()> {
    let path = input.path();
    let mut csv = csv_reader(true, reader);
    let header = Header::resolve(input, &header_row(&mut csv, &path)?, options)?;
    let mut sink = Sink::new(input, header, router, options, outcome, partition);
    feed(&mut csv, &path, 0, &mut sink)
}

/// The header row of a CSV reader made with `has_headers`, its line end
/// removed.
pub(super) fn header_row<R: Read>(
    csv: &mut csv::Reader<Guarded<R>>,
    path: &Path,
) -> Result<csv::ByteRecord> {
    let mut row = match csv.byte_headers() {
        Ok(row) => row.clone(),
        Err(e) => return Err(read_failure(csv, path, 0, e)),
    };
    if let Some(opened) = csv.get_ref().unterminated() {
        return Err(Error::input(
            path,
            format!("line {opened}: the header opens a quoted field that is never closed"),
        ));
    }
    end_line(&mut row);
    Ok(row)
}

/// Gives every record of a CSV reader to the sink, with its line: the
/// reader's own, after `lines_before` lines of the file. A record whose
/// quoted field is never closed, or takes in whole lines that read as
/// records of their own, is a bad record (see [`shape_problem`]).
pub(super) fn feed<R: Read>(
    csv: &mut csv::Reader<Guarded<R>>,
    path: &Path,
    lines_before: u64,
    sink: &mut Sink,
) -> Result<()> {
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => {
                sink.outcome.counts.lines += csv.get_ref().lines();
                return Ok(());
            }
            Err(e) => return Err(read_failure(csv, path, lines_before, e)),
        }
        if !end_line(&mut record) {
            continue;
        }
        let start = record.position().map_or(0, |p| p.line());
        let after = csv.position().line();
        // The parser counts blank lines before a record as its own, and a
        // record normally takes one line: only a longer span needs a look.
        if after - start <= 1 && csv.get_ref().unterminated().is_none() {
            sink.record(start + lines_before, &record)?;
            continue;
        }
        let guard = csv.get_ref();
        let at_end = csv.position().byte() == guard.delivered() && guard.ended();
        let unterminated = guard.unterminated().filter(|_| at_end);
        let inner = memchr::memchr_iter(b'\n', record.as_slice()).count() as u64;
        // A record ends at a line end outside quotes, or at the end of the
        // input (then without one, or inside an open quote).
        let terminated = !(at_end && (unterminated.is_some() || guard.last_byte() != b'\n'));
        let line = after - inner - u64::from(terminated) + lines_before;
        let last_line = guard.lines() + lines_before;
        let unterminated = unterminated.map(|l| l + lines_before);
        match shape_problem(&record, sink.header.width, line, unterminated, last_line) {
            Some(reason) => sink.bad_shape(line, &record, reason)?,
            None => sink.record(line, &record)?,
        }
    }
}

/// Why a record that spans several lines is not what its writer meant, if
/// it is not: a quoted field still open at the end of the input (every line
/// after its opening quote became its text), or a quoted field that takes in
/// a whole line which reads as a record of the header's width (a closing
/// quote is missing, and a later stray quote closed the field). A quoted
/// field may hold line breaks otherwise.
fn shape_problem(
    record: &csv::ByteRecord,
    width: usize,
    line: u64,
    unterminated: Option<u64>,
    last_line: u64,
) -> Option<String> {
    if let Some(opened) = unterminated {
        return Some(format!(
            "the quoted field opened on line {opened} is never closed: lines {opened} to {last_line}, the rest of the file, were read as its text; close the quote, or double a quote meant as text (\"\")"
        ));
    }
    let mut lines_before_field = 0u64;
    for field in record.iter() {
        let segments: Vec<&[u8]> = field.split(|b| *b == b'\n').collect();
        // The first segment ends its line, the last starts one: the ones
        // between are whole lines inside the field.
        for (i, segment) in segments.iter().enumerate().skip(1) {
            if i + 1 == segments.len() {
                break;
            }
            let mut reader = csv_reader(false, *segment);
            let mut fields = csv::ByteRecord::new();
            let whole = matches!(reader.read_byte_record(&mut fields), Ok(true))
                && fields.len() == width
                && matches!(
                    reader.read_byte_record(&mut csv::ByteRecord::new()),
                    Ok(false)
                );
            if whole {
                let swallowed = line + lines_before_field + i as u64;
                return Some(format!(
                    "a quoted field on this line runs on into line {swallowed}, which reads as a whole record of {width} fields: is a closing quote missing?"
                ));
            }
        }
        lines_before_field += segments.len() as u64 - 1;
    }
    None
}

/// The error of a CSV read that failed: a record over the size limit, or
/// the reader's own error.
fn read_failure<R: Read>(
    csv: &csv::Reader<Guarded<R>>,
    path: &Path,
    lines_before: u64,
    e: csv::Error,
) -> Error {
    match csv.get_ref().oversize() {
        Some(line) => Error::input(
            path,
            format!(
                "line {}: a record longer than {} MiB (no line end, or a quote never closed); records are limited to that size",
                line + lines_before,
                MAX_RECORD_BYTES >> 20
            ),
        ),
        None => Error::csv(path, e),
    }
}

/// The CSV reader every records file is read with. Records end at `\n`
/// only (a `\r` before it is removed by [`end_line`]): with `\r\n` as the
/// terminator the csv crate reports each record after the first on the
/// line before its own, and Excel writes `\r\n`. The text is read through
/// a [`Guarded`] watch.
pub(super) fn csv_reader<R: Read>(has_headers: bool, reader: R) -> csv::Reader<Guarded<R>> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(has_headers)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(Guarded::new(reader))
}

/// Removes the `\r` of a `\r\n` line end from a record's last field;
/// `false` for a blank `\r\n` line, which is not a record.
pub(super) fn end_line(record: &mut csv::ByteRecord) -> bool {
    let Some(last) = record.len().checked_sub(1) else {
        return true;
    };
    let field = &record[last];
    if field.last() != Some(&b'\r') {
        return true;
    }
    if last == 0 && field.len() == 1 {
        return false;
    }
    let kept = field[..field.len() - 1].to_vec();
    let position = record.position().cloned();
    record.truncate(last);
    record.push_field(&kept);
    record.set_position(position);
    true
}

/// Takes the records of one file, whatever its format, and puts each in
/// exactly one place: a dataset, the out-of-scope count, or the rejects.
pub(super) struct Sink<'a> {
    file: String,
    path: PathBuf,
    header: Header,
    router: &'a dyn Router,
    options: &'a ReadOptions,
    outcome: &'a mut ReadOutcome,
    checked_types: HashSet<&'static str>,
    /// In a partitioning pass, where records of served customers go.
    partition: Option<&'a mut super::spill::Partitioner>,
}

impl<'a> Sink<'a> {
    /// A sink routing records to datasets, or with a partitioner, writing
    /// the records of served customers to their bucket's file.
    pub(super) fn new(
        input: &Input,
        header: Header,
        router: &'a dyn Router,
        options: &'a ReadOptions,
        outcome: &'a mut ReadOutcome,
        partition: Option<&'a mut super::spill::Partitioner>,
    ) -> Sink<'a> {
        let file = input.name();
        // A partition file's columns were reported on when it was written.
        let columns = if header.source.is_some() {
            &[][..]
        } else {
            Column::ALL
        };
        for column in columns {
            let optional = !matches!(column.applies(), Applies::Measure)
                && !CALL_REQUIRED.contains(column)
                && !TRANSACTION_REQUIRED.contains(column);
            if optional
                && options.projection.contains(*column)
                && !header.has(*column)
                && *column != Column::BilledDuration
            {
                outcome.warnings.push(format!(
                    "{file}: no column {:?}; its values are shown empty",
                    column.key()
                ));
            }
        }
        Sink {
            file,
            path: input.path(),
            header,
            router,
            options,
            outcome,
            checked_types: HashSet::new(),
            partition,
        }
    }

    /// Routes one record; `line` is its line in a CSV file or its 1-based
    /// row in a Parquet file.
    pub(super) fn record(&mut self, line: u64, record: &csv::ByteRecord) -> Result<()> {
        self.take(line, record, None)
    }

    /// Takes a record already known to be bad (its shape betrays a quoting
    /// mistake): rejected or failed by the policy like any bad record.
    pub(super) fn bad_shape(
        &mut self,
        line: u64,
        record: &csv::ByteRecord,
        reason: String,
    ) -> Result<()> {
        self.take(line, record, Some(reason))
    }

    fn take(&mut self, line: u64, record: &csv::ByteRecord, bad: Option<String>) -> Result<()> {
        self.outcome.counts.records += 1;
        // Records from a partition file carry their original place.
        let (file, line, skip) = match self.header.source {
            Some((f, l)) => {
                let file = String::from_utf8_lossy(record.get(f).unwrap_or_default());
                let line = std::str::from_utf8(record.get(l).unwrap_or_default())
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(line);
                (file, line, 2)
            }
            None => (Cow::Borrowed(self.file.as_str()), line, 0),
        };
        let row = Row {
            file: &file,
            line,
            header: &self.header,
            record,
            projection: self.options.projection,
        };
        let result = match (bad, self.partition.as_deref_mut()) {
            (Some(reason), _) => Err(row.problem(None, reason)),
            (None, Some(partitioner)) => row
                .identify(&self.path, &mut self.checked_types)
                .and_then(|(_, customer)| {
                    if self.router.serves(customer) {
                        partitioner
                            .write(customer, &file, line, &self.header.raw, record)
                            .map_err(RowError::Fatal)
                    } else {
                        self.outcome.counts.out_of_scope += 1;
                        Ok(())
                    }
                }),
            (None, None) => row.route(
                self.router,
                self.outcome,
                &self.path,
                &mut self.checked_types,
            ),
        };
        let customer = || row.text(Column::CustomerId).ok().filter(|c| !c.is_empty());
        let rejected = match result {
            Ok(()) => false,
            Err(RowError::Fatal(e)) => return Err(e),
            Err(RowError::Bad(problem)) => match self.options.policy {
                BadRecordPolicy::Fail => return Err(Error::Record(problem)),
                BadRecordPolicy::Skip => {
                    self.outcome.counts.rejected += 1;
                    self.outcome.rejects.push(Reject {
                        raw: raw_text(record, skip),
                        customer: customer().map(str::to_string),
                        problem,
                    });
                    true
                }
            },
        };
        // A billing run reports, per customer, the records it saw of them;
        // a partitioning pass counts only those it rejects (the others are
        // counted when their bucket is read).
        if self.options.by_customer && (self.partition.is_none() || rejected) {
            if let Some(c) = customer().filter(|c| self.router.serves(c)) {
                let counts = self.outcome.by_customer.entry(c.to_string()).or_default();
                counts.records += 1;
                counts.rejected += u64::from(rejected);
            }
        }
        Ok(())
    }
}

enum RowError {
    /// The record is bad; the policy decides.
    Bad(RecordProblem),
    /// The file cannot be read further (e.g. a record type whose columns are missing).
    Fatal(Error),
}

struct Row<'a> {
    file: &'a str,
    line: u64,
    header: &'a Header,
    record: &'a csv::ByteRecord,
    projection: Projection,
}

impl Row<'_> {
    fn problem(&self, column: Option<Column>, reason: String) -> RowError {
        RowError::Bad(RecordProblem {
            file: self.file.to_string(),
            line: self.line,
            column: column.map(|c| c.key().to_string()),
            reason,
        })
    }

    /// The text of a field, `""` when the file has no such column.
    fn text(&self, column: Column) -> Result<&str, RowError> {
        let Some(i) = self.header.position[column as usize] else {
            return Ok("");
        };
        let bytes = self.record.get(i).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|e| {
            let bad = bytes[e.valid_up_to()];
            self.problem(
                Some(column),
                format!(
                    "is not valid UTF-8 (byte 0x{bad:02X} at offset {}); records must be UTF-8, convert Latin-1/Windows-1252 files first",
                    e.valid_up_to()
                ),
            )
        })
    }

    fn required(&self, column: Column) -> Result<&str, RowError> {
        let t = self.text(column)?;
        if t.trim().is_empty() {
            return Err(self.problem(Some(column), "is empty; a value is required".into()));
        }
        Ok(t)
    }

    fn decimal(&self, column: Column, required: bool) -> Result<Option<Decimal>, RowError> {
        let t = self.text(column)?;
        if t.trim().is_empty() {
            return if required {
                Err(self.problem(
                    Some(column),
                    "is empty; a decimal amount is required".into(),
                ))
            } else {
                Ok(None)
            };
        }
        Decimal::parse(t)
            .map(Some)
            .map_err(|e| self.problem(Some(column), format!("{t:?} is not a decimal: {e}")))
    }

    fn typed<T>(
        &self,
        column: Column,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<T, RowError> {
        let t = self.required(column)?;
        parse(t).map_err(|reason| self.problem(Some(column), format!("{t:?} {reason}")))
    }

    /// Interns a projected text field into the dataset; unprojected fields
    /// stay empty and are never parsed.
    fn sym(&self, column: Column, strings: &mut super::Interner) -> Result<Sym, RowError> {
        if !self.projection.contains(column) {
            return Ok(Sym::EMPTY);
        }
        let t = self.text(column)?;
        Ok(strings.intern(t))
    }

    /// The checks every record passes before its customer is known: shape,
    /// record type, the type's columns, and a customer id. Returns whether it
    /// is a call, and the customer id.
    fn identify(
        &self,
        path: &Path,
        checked_types: &mut HashSet<&'static str>,
    ) -> Result<(bool, &str), RowError> {
        if self.record.len() != self.header.width {
            return Err(self.problem(
                None,
                format!(
                    "has {} fields but the header has {}",
                    self.record.len(),
                    self.header.width
                ),
            ));
        }
        let record_type = self.required(Column::RecordType)?;
        let (is_call, required, type_key) = match record_type.trim() {
            "call" => (true, &CALL_REQUIRED[..], "call"),
            "transaction" => (false, &TRANSACTION_REQUIRED[..], "transaction"),
            other => {
                return Err(self.problem(
                    Some(Column::RecordType),
                    format!("{other:?} is not a record type; expected \"call\" or \"transaction\""),
                ))
            }
        };
        if checked_types.insert(type_key) {
            let missing = self.header.missing(required);
            if !missing.is_empty() {
                return Err(RowError::Fatal(Error::input(
                    path,
                    format!(
                        "line {}: {type_key} records need column{} {} missing from the header",
                        self.line,
                        plural(missing.len()),
                        missing.join(", ")
                    ),
                )));
            }
        }
        let customer_id = self.required(Column::CustomerId)?;
        Ok((is_call, customer_id))
    }

    fn route(
        &self,
        router: &dyn Router,
        outcome: &mut ReadOutcome,
        path: &Path,
        checked_types: &mut HashSet<&'static str>,
    ) -> Result<(), RowError> {
        let (is_call, customer_id) = self.identify(path, checked_types)?;
        if is_call {
            let start = self.typed(Column::StartTime, parse_timestamp)?;
            match router.route_call(customer_id, start) {
                Some(i) => self.call(start, &mut outcome.datasets[i]),
                None => {
                    outcome.counts.out_of_scope += 1;
                    Ok(())
                }
            }
        } else {
            let date = self.typed(Column::Date, parse_date)?;
            match router.route_transaction(customer_id, date) {
                Some(i) => self.transaction(date, &mut outcome.datasets[i]),
                None => {
                    outcome.counts.out_of_scope += 1;
                    Ok(())
                }
            }
        }
    }

    fn call(&self, start: DateTime<Utc>, data: &mut Dataset) -> Result<(), RowError> {
        // Parse everything before interning so a rejected record leaves no trace.
        let duration_text = self.text(Column::Duration)?;
        let billed_text = self.text(Column::BilledDuration)?;
        if duration_text.trim().is_empty() && !billed_text.trim().is_empty() {
            return Err(self.problem(
                Some(Column::Duration),
                "is empty but billed_duration is set; a call needs its duration".into(),
            ));
        }
        let duration = self.typed(Column::Duration, parse_duration)?;
        let billed_duration = if billed_text.trim().is_empty() {
            duration
        } else {
            self.typed(Column::BilledDuration, parse_duration)?
        };
        let charge = self.decimal(Column::Charge, true)?.unwrap_or_default();
        let rate = if self.projection.contains(Column::Rate) {
            self.decimal(Column::Rate, false)?
        } else {
            None
        };
        self.required(Column::CallId)?;
        for c in [
            Column::Site,
            Column::Campaign,
            Column::Number,
            Column::Caller,
            Column::Dialled,
            Column::Destination,
            Column::CallType,
            Column::Direction,
        ] {
            if self.projection.contains(c) {
                self.text(c)?;
            }
        }
        // One copy-on-write check per record, not per field.
        let strings = data.strings_mut();
        let call = Call {
            site: self.sym(Column::Site, strings)?,
            campaign: self.sym(Column::Campaign, strings)?,
            number: self.sym(Column::Number, strings)?,
            call_id: strings.intern(self.text(Column::CallId)?),
            caller: self.sym(Column::Caller, strings)?,
            dialled: self.sym(Column::Dialled, strings)?,
            destination: self.sym(Column::Destination, strings)?,
            call_type: self.sym(Column::CallType, strings)?,
            direction: self.sym(Column::Direction, strings)?,
            start,
            duration,
            billed_duration,
            rate,
            charge,
        };
        data.calls.push(call);
        Ok(())
    }

    fn transaction(&self, date: NaiveDate, data: &mut Dataset) -> Result<(), RowError> {
        let amount = self.decimal(Column::Amount, true)?.unwrap_or_default();
        let quantity = if self.projection.contains(Column::Quantity) {
            self.decimal(Column::Quantity, false)?
        } else {
            None
        };
        let unit_price = if self.projection.contains(Column::UnitPrice) {
            self.decimal(Column::UnitPrice, false)?
        } else {
            None
        };
        self.required(Column::TransactionId)?;
        for c in [
            Column::Site,
            Column::Campaign,
            Column::Number,
            Column::TransactionType,
            Column::Description,
        ] {
            if self.projection.contains(c) {
                self.text(c)?;
            }
        }
        let strings = data.strings_mut();
        let transaction = Transaction {
            site: self.sym(Column::Site, strings)?,
            campaign: self.sym(Column::Campaign, strings)?,
            number: self.sym(Column::Number, strings)?,
            transaction_id: strings.intern(self.text(Column::TransactionId)?),
            date,
            transaction_type: self.sym(Column::TransactionType, strings)?,
            description: self.sym(Column::Description, strings)?,
            quantity,
            unit_price,
            amount,
        };
        data.transactions.push(transaction);
        Ok(())
    }
}

/// The record as text for rejects.csv: fields re-joined as CSV, invalid
/// UTF-8 escaped as `\xNN` (never replaced), long records cut with a note.
fn raw_text(record: &csv::ByteRecord, skip: usize) -> String {
    let mut bytes = Vec::new();
    for (i, field) in record.iter().skip(skip).enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        match std::str::from_utf8(field) {
            Ok(_) => crate::output::push_csv_field(&mut bytes, field),
            Err(_) => {
                let escaped = field.escape_ascii().to_string();
                crate::output::push_csv_field(&mut bytes, escaped.as_bytes());
            }
        }
        if bytes.len() > RAW_LIMIT {
            break;
        }
    }
    let mut out = String::from_utf8(bytes).expect("fields are UTF-8 or escaped to ASCII");
    if out.len() > RAW_LIMIT {
        let total: usize = record.iter().skip(skip).map(|f| f.len() + 1).sum();
        let mut cut = RAW_LIMIT;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&format!("… [record of {total} bytes cut]"));
    }
    out
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
