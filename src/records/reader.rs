//! The record reader: checks each input's header, then takes it row by row
//! (CSV through a quoting watch, Parquet by row groups) and gives every
//! record to a [`Destination`] — the invoices' datasets, or a billing run's
//! bucket files — reusing one record buffer for the whole file. Every record
//! ends in exactly one place: taken, out of scope, or rejected.

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::guard::{Guarded, MAX_RECORD_BYTES};
use super::header::{Header, CALL_REQUIRED, TRANSACTION_REQUIRED};
use super::input::{open, Input, Opened};
use super::record::{raw_text, Identified, Record, RecordFault};
use super::{BadRecordPolicy, Dataset, InputCounts, Reject, Router};
use crate::column::{Applies, Column, Projection};
use crate::error::{Error, Result};

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
    /// Customer ids the read saw but no invoice is for (at most
    /// [`OTHER_CUSTOMERS`]): to say "did you mean" when an invoice's
    /// customer occurs nowhere.
    pub other_customers: std::collections::BTreeSet<String>,
    /// Records whose customer an invoice is for, in its period or not.
    pub served: u64,
    /// The customers of each call group's legs, of every customer and
    /// period (noted in a read's first pass only).
    pub leg_groups: super::legs::LegGroups,
    /// Whether every source sent only the records of the customers read
    /// for (a partition's shard, a database filtered by customer): shards
    /// of a run then read disjoint records, which add up when merged.
    /// `None` before any input is read.
    pub own_customers_only: Option<bool>,
    /// The first record a partition placed in no shard (no readable
    /// customer), from a shard folder read under the skip policy: a run
    /// fails every invoice for it under the fail policy, as a run over the
    /// partition's files would.
    pub unplaced: Option<crate::error::RecordProblem>,
    /// The files of a partition whose lines a read of its shards counted.
    pub lines_of: std::collections::BTreeSet<String>,
}

/// Most distinct other customer ids a read keeps.
pub const OTHER_CUSTOMERS: usize = 1000;

impl ReadOutcome {
    /// Notes a customer id no invoice is for. The first [`OTHER_CUSTOMERS`]
    /// in byte order are kept — the same ones however the input was cut
    /// into parts.
    pub(super) fn other_customer(&mut self, id: &str) {
        if self.other_customers.contains(id) {
            return;
        }
        if self.other_customers.len() >= OTHER_CUSTOMERS {
            match self.other_customers.last() {
                Some(last) if last.as_str() > id => {
                    self.other_customers.pop_last();
                }
                _ => return,
            }
        }
        self.other_customers.insert(id.to_string());
    }
}

/// Records of one customer seen by a read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomerCounts {
    pub records: u64,
    pub rejected: u64,
}
/// Where a read puts the records of the customers its router serves.
/// Parts of one input may be read on several threads, each into a part of
/// the destination, taken back in input order.
pub trait Destination: Send + Sync + Sized {
    /// A destination for part `index` of the current input.
    fn part(&self, index: usize) -> Self;
    /// Takes back a part's records, after those of every earlier part.
    fn absorb(&mut self, part: Self) -> Result<()>;
    /// Takes one record of a served customer, checked for shape, record
    /// type and customer; `Ok(false)` when it is out of scope after all
    /// (its period is no invoice's).
    fn take(
        &mut self,
        record: &Record<'_>,
        who: &Identified<'_>,
        router: &dyn Router,
    ) -> std::result::Result<bool, RecordFault>;
    /// Whether records taken here are final: counted per customer now, not
    /// when a later pass reads them again.
    fn is_final(&self) -> bool {
        true
    }
    /// Whether the read notes every leg's call group and customer, for the
    /// run that renders them (a pass that only moves records on to other
    /// runs does not).
    fn notes_legs(&self) -> bool {
        true
    }
    /// Whether records are taken as soon as their customer is read, before
    /// any other check (`who.is_call` is then not known): for a pass that
    /// moves them on to the runs that check them.
    fn takes_unchecked(&self) -> bool {
        false
    }
}

/// The records of each invoice the router routes to, parsed.
pub struct Datasets(pub Vec<Dataset>);

impl Destination for Datasets {
    fn part(&self, _: usize) -> Datasets {
        Datasets((0..self.0.len()).map(|_| Dataset::default()).collect())
    }

    fn absorb(&mut self, part: Datasets) -> Result<()> {
        self.0
            .par_iter_mut()
            .zip(part.0.into_par_iter())
            .for_each(|(target, source)| target.absorb(source));
        Ok(())
    }

    fn take(
        &mut self,
        record: &Record<'_>,
        who: &Identified<'_>,
        router: &dyn Router,
    ) -> std::result::Result<bool, RecordFault> {
        record.route(who, router, &mut self.0)
    }
}

/// Reads every input in order into one dataset per invoice of the router.
/// Under [`BadRecordPolicy::Fail`] the first bad record stops the read with
/// an error naming file, line and column.
pub fn read_records(
    inputs: &[Input],
    router: &dyn Router,
    options: &ReadOptions,
) -> Result<ReadOutcome> {
    let mut datasets = Datasets((0..router.invoices()).map(|_| Dataset::default()).collect());
    let mut outcome = ReadOutcome::default();
    for input in inputs {
        read_input(input, router, options, &mut outcome, &mut datasets)?;
    }
    outcome.counts.in_scope = datasets.0.iter().map(Dataset::in_scope).sum();
    outcome.datasets = datasets.0;
    Ok(outcome)
}

/// Reads one input into a destination: a large plain CSV file in chunks
/// cut by offset, any other CSV stream in blocks cut as it is read, both on
/// every core; Parquet by row groups.
pub fn read_input<D: Destination>(
    input: &Input,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<()> {
    let lines_before = outcome.counts.lines;
    let own_customers_only = match input {
        Input::Postgres(source) => {
            let filtered = super::postgres::read_postgres(
                source,
                input,
                router,
                options,
                outcome,
                destination,
            )?;
            // A database has rows, not lines.
            outcome.counts.lines = lines_before;
            filtered
        }
        Input::Shard(folder) => {
            // What the partition placed in no shard fails a read under the
            // fail policy, as it would have failed a read of the files.
            if let Some(problem) = &folder.first_rejected {
                match options.policy {
                    BadRecordPolicy::Fail => return Err(Error::Record(problem.clone())),
                    BadRecordPolicy::Skip => {
                        outcome.unplaced.get_or_insert_with(|| problem.clone());
                    }
                }
            }
            for part in &folder.parts {
                let input = Input::Part {
                    path: part.path.clone(),
                    from: part.from.clone(),
                };
                let before = outcome.counts.records;
                read_input(&input, router, options, outcome, destination)?;
                let read = outcome.counts.records - before;
                if read != part.records {
                    return Err(Error::input(
                        &part.path,
                        format!(
                            "holds {read} records where its shard's list says {}: the part was changed after the partition wrote it; partition again",
                            part.records
                        ),
                    ));
                }
            }
            // Its lines are those of the files it was cut from, counted
            // once however many of the partition's shards are read.
            outcome.counts.lines = lines_before;
            if folder.files.iter().any(|f| !outcome.lines_of.contains(f)) {
                outcome.counts.lines += folder.lines;
                outcome.lines_of.extend(folder.files.iter().cloned());
            }
            true
        }
        _ => {
            if !super::chunked::read_chunked(input, router, options, outcome, destination)? {
                match open(input)? {
                    Opened::Csv(reader) => {
                        read_csv(input, reader, router, options, outcome, destination)
                    }
                    Opened::Parquet(bytes) => super::parquet::contained(&input.path(), || {
                        super::parquet::read_parquet(
                            input,
                            bytes,
                            router,
                            options,
                            outcome,
                            destination,
                        )
                    }),
                }?;
            }
            matches!(input, Input::Part { .. })
        }
    };
    outcome.own_customers_only =
        Some(outcome.own_customers_only.unwrap_or(true) && own_customers_only);
    Ok(())
}

pub(super) fn read_csv<D: Destination>(
    input: &Input,
    reader: Box<dyn BufRead + Send>,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<()> {
    // On every core when there are others: the stream is cut into blocks
    // read as they come (gzip, standard input).
    if rayon::current_num_threads() > 1 {
        return super::chunked::read_streamed(
            super::chunked::STREAM_BLOCK,
            input,
            reader,
            router,
            options,
            outcome,
            destination,
        );
    }
    read_one(input, reader, router, options, outcome, destination)
}

/// Reads a CSV stream from start to end on this thread.
pub(super) fn read_one<D: Destination>(
    input: &Input,
    reader: Box<dyn BufRead + Send + '_>,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<()> {
    let path = input.path();
    let mut csv = csv_reader(true, reader);
    let header = Header::resolve(input, &header_row(&mut csv, &path)?, options)?;
    let mut sink = Sink::new(input, header, router, options, outcome, destination);
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
pub(super) fn feed<R: Read, D: Destination>(
    csv: &mut csv::Reader<Guarded<R>>,
    path: &Path,
    lines_before: u64,
    sink: &mut Sink<'_, D>,
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
        let guard = csv.get_ref();
        // A record over the limit is refused when it is reached, before any
        // record after it, however the text was read.
        if let Some(line) = guard.oversize().filter(|l| (start..after).contains(l)) {
            return Err(oversize(path, line + lines_before));
        }
        let at_end = csv.position().byte() == guard.delivered() && guard.ended();
        // The parser counts blank lines before a record as its own, and a
        // record normally takes one line: only a longer span, or the last
        // record (which may end without a line end), needs a look.
        if after - start <= 1 && !at_end {
            sink.record(start + lines_before, &record)?;
            continue;
        }
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
/// a line which reads as a record of the header's width — a whole line
/// inside it, or the line it ends on read with the fields after it (a
/// closing quote is missing, and a later quote closed the field). A quoted
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
            if reads_as_record(segment, width, false) {
                let swallowed = line + lines_before_field + i as u64;
                return Some(format!(
                    "a quoted field on this line runs on into line {swallowed}, which reads as a whole record of {width} fields: is a closing quote missing?"
                ));
            }
        }
        lines_before_field += segments.len() as u64 - 1;
    }
    // The line the last multi-line field ends on, with the fields after it.
    let last = record.iter().rposition(|f| f.contains(&b'\n'))?;
    let field = &record[last];
    let mut tail = field[field.iter().rposition(|b| *b == b'\n')? + 1..].to_vec();
    for after in record.iter().skip(last + 1) {
        tail.push(b',');
        crate::csv_field::push(&mut tail, after);
    }
    if reads_as_record(&tail, width, true) {
        return Some(format!(
            "a quoted field on this line runs on into line {}, where a record of {width} fields starts: is a closing quote missing?",
            line + lines_before_field
        ));
    }
    None
}

/// Whether text parses as exactly one record of the header's width (and,
/// with `typed`, one that starts with a record type).
fn reads_as_record(text: &[u8], width: usize, typed: bool) -> bool {
    let mut reader = csv_reader(false, text);
    let mut fields = csv::ByteRecord::new();
    matches!(reader.read_byte_record(&mut fields), Ok(true))
        && fields.len() == width
        && matches!(
            reader.read_byte_record(&mut csv::ByteRecord::new()),
            Ok(false)
        )
        && (!typed
            || matches!(
                fields.get(0).map(<[u8]>::trim_ascii),
                Some(b"call" | b"transaction")
            ))
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
        Some(line) => oversize(path, line + lines_before),
        None => Error::csv(path, e),
    }
}

/// The error of a record (starting on `line`) longer than the limit.
fn oversize(path: &Path, line: u64) -> Error {
    Error::input(
        path,
        format!(
            "line {line}: a record longer than {} MiB (no line end, or a quote never closed); records are limited to that size",
            MAX_RECORD_BYTES >> 20
        ),
    )
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
/// exactly one place: its destination, the out-of-scope count, or the
/// rejects.
pub(super) struct Sink<'a, D: Destination> {
    file: String,
    path: PathBuf,
    pub(super) header: Header,
    router: &'a dyn Router,
    options: &'a ReadOptions,
    pub(super) outcome: &'a mut ReadOutcome,
    /// Whether the header was checked for the columns of calls, of
    /// transactions.
    checked_types: [bool; 2],
    destination: &'a mut D,
    /// The last customer id no invoice is for, to note each run once.
    last_other: Option<String>,
    /// For a database, the rows taken so far: a record's place is its row
    /// (a text value may span lines), not its line.
    rows: Option<u64>,
}

impl<'a, D: Destination> Sink<'a, D> {
    /// A sink giving the records of served customers to `destination`.
    pub(super) fn new(
        input: &Input,
        header: Header,
        router: &'a dyn Router,
        options: &'a ReadOptions,
        outcome: &'a mut ReadOutcome,
        destination: &'a mut D,
    ) -> Sink<'a, D> {
        let file = input.name();
        // A spill file's columns were reported on when it was written; a
        // part's are reported as its input's.
        let origin = input.origin_name();
        let columns = if options.partition_files {
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
                    "{origin}: no column {:?}; its values are shown empty",
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
            checked_types: [false; 2],
            destination,
            last_other: None,
            rows: matches!(input, Input::Postgres(_)).then_some(0),
        }
    }

    /// Takes one record; `line` is its line in a CSV file or its 1-based
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
        let line = match &mut self.rows {
            Some(row) => {
                *row += 1;
                *row
            }
            None => line,
        };
        // Records from a partition file carry their original place.
        let (file, line, skip) = match self.header.source {
            Some((f, l)) => {
                let file = String::from_utf8_lossy(record.get(f).unwrap_or_default());
                let Some(original) = std::str::from_utf8(record.get(l).unwrap_or_default())
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok())
                    .filter(|n| *n > 0)
                else {
                    return Err(Error::input(
                        &self.path,
                        format!(
                            "line {line}: {:?} is not a line number; the part was changed after the partition wrote it",
                            String::from_utf8_lossy(record.get(l).unwrap_or_default())
                        ),
                    ));
                };
                (file, original, 2)
            }
            None => (Cow::Borrowed(self.file.as_str()), line, 0),
        };
        let row = Record {
            file: &file,
            line,
            header: &self.header,
            record,
            whole: std::str::from_utf8(record.as_slice()).ok(),
            projection: self.options.projection,
        };
        // A record of a customer no invoice is for is out of scope whatever
        // its other fields hold: it is not validated further.
        let shape_fault = bad.is_some();
        // The customer id, read (and checked as UTF-8) once per record.
        let customer_id = match bad {
            Some(_) => None,
            None => row
                .text(Column::CustomerId)
                .ok()
                .filter(|c| !c.trim().is_empty()),
        };
        let other_customer = customer_id.filter(|c| !self.router.serves(c));
        if let Some(c) = other_customer {
            // Records come grouped by customer, mostly: one look per run of them.
            if self.last_other.as_deref() != Some(c) {
                self.outcome.other_customer(c);
                self.last_other = Some(c.to_string());
            }
        }
        if customer_id.is_some() && other_customer.is_none() {
            self.outcome.served += 1;
        }
        // Every leg, of any customer or period, for the check that a call
        // group belongs to one customer (the first pass of a read only: a
        // partition's records were noted when it was written).
        let notes_legs = self.header.has(Column::Leg)
            && !self.options.partition_files
            && self.destination.notes_legs();
        if let Some(customer) = customer_id.filter(|_| notes_legs) {
            let leg = row.text(Column::Leg).unwrap_or_default().trim();
            let group = row.text(Column::CallGroup).unwrap_or_default().trim();
            if !leg.is_empty() && !group.is_empty() {
                self.outcome
                    .leg_groups
                    .note(group, customer.trim(), &file, line);
            }
        }
        let result = match bad {
            Some(reason) => Err(row.problem(None, reason)),
            None if other_customer.is_some() => Ok(false),
            // A record moved on to the run that checks it is taken as soon
            // as its customer is read, so that run judges it exactly as a
            // run over this input would.
            None if self.destination.takes_unchecked() && customer_id.is_some() => {
                let who = Identified {
                    is_call: false,
                    customer: customer_id.unwrap_or_default(),
                };
                self.destination.take(&row, &who, self.router)
            }
            None => row
                .identify(&self.path, &mut self.checked_types)
                .and_then(|who| self.destination.take(&row, &who, self.router)),
        };
        // A record whose quoting went wrong may hold records of any
        // customer: it is charged to none (a run then fails every invoice
        // under the fail policy).
        let customer = || {
            Some(())
                .filter(|()| !shape_fault)
                .and_then(|()| row.text(Column::CustomerId).ok())
                .filter(|c| !c.is_empty())
        };
        let rejected = match result {
            Ok(true) => false,
            Ok(false) => {
                self.outcome.counts.out_of_scope += 1;
                false
            }
            Err(RecordFault::Fatal(e)) => return Err(e),
            Err(RecordFault::Bad(problem)) => match self.options.policy {
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
        // a pass that only moves records on counts those it rejects (the
        // others are counted when they are read again).
        if self.options.by_customer && (self.destination.is_final() || rejected) {
            if let Some(c) = customer().filter(|c| self.router.serves(c)) {
                // Looked up before it is copied: a copy per record is not free.
                let counts = match self.outcome.by_customer.get_mut(c) {
                    Some(counts) => counts,
                    None => self.outcome.by_customer.entry(c.to_string()).or_default(),
                };
                counts.records += 1;
                counts.rejected += u64::from(rejected);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids kept for "did you mean" are the first in byte order, the
    /// same whatever order they come in (or parts they are read in).
    #[test]
    fn other_customers_kept_do_not_depend_on_order() {
        let ids: Vec<String> = (0..OTHER_CUSTOMERS + 500)
            .map(|i| format!("C{i:05}"))
            .collect();
        let mut forward = ReadOutcome::default();
        ids.iter().for_each(|id| forward.other_customer(id));
        let mut backward = ReadOutcome::default();
        ids.iter().rev().for_each(|id| backward.other_customer(id));
        assert_eq!(forward.other_customers, backward.other_customers);
        assert_eq!(forward.other_customers.len(), OTHER_CUSTOMERS);
        assert_eq!(
            forward.other_customers.last().unwrap(),
            &format!("C{:05}", OTHER_CUSTOMERS - 1)
        );
    }
}
