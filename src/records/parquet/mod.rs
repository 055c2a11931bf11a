//! Parquet records, with the same column names as CSV. Only the projected
//! columns are decoded; each row's fields are turned into text and validated
//! by the same code as CSV rows, so errors and rejects read the same (the
//! "line" of a Parquet record is its 1-based row number).
//!
//! Flat columns of the usual types (text, integers, DECIMAL, DATE, UTC
//! timestamps in milli- or microseconds) are decoded a column chunk at a
//! time; a file with any other column type is read row by row through the
//! parquet crate's record API, which gives the same text.
//!
//! A malformed file is an error, never a crash: column chunks must lie
//! inside the file, and the parquet crate's own panics on corrupt pages are
//! caught (quietly) and reported as "not a readable Parquet file".
//!
//! Amounts must be exact: DECIMAL, integer or text columns are read; a
//! floating-point money, rate, quantity or duration column is refused.

use std::fmt::Write as _;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as PhysicalType};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, FixedLenByteArray};
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::{Type, TypePtr};

use super::chunked::Sources;
use super::header::Header;
use super::input::Input;
use super::reader::{Destination, ReadOptions, ReadOutcome, Sink};
use super::Router;
use crate::column::{Applies, Column};
use crate::error::{Error, Result};

/// Reads a Parquet file (run inside [`contained`], which turns the parquet
/// crate's panics on corrupt files into errors).
pub(super) fn read_parquet<D: Destination>(
    input: &Input,
    bytes: Bytes,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<()> {
    let path = input.path();
    let size = bytes.len() as u64;
    let reader = SerializedFileReader::new(bytes)
        .map_err(|e| Error::input(&path, format!("not a readable Parquet file: {e}")))?;
    check_layout(&reader, size).map_err(|problem| {
        Error::input(&path, format!("not a readable Parquet file: {problem}"))
    })?;
    let schema = reader.metadata().file_metadata().schema();
    let mut kept: Vec<TypePtr> = Vec::new();
    // A part of a partitioned dataset may lead with each record's original
    // file and line (see `Header::resolve`).
    let fields = schema.get_fields();
    if matches!(input, Input::Part { .. })
        && fields.len() >= 2
        && fields[0].name() == super::SOURCE_FILE
        && fields[1].name() == super::SOURCE_LINE
    {
        kept.extend(fields[..2].iter().cloned());
    }
    for field in schema.get_fields() {
        let Some(column) = Column::from_key(field.name()) else {
            continue;
        };
        if column.applies() == Applies::Measure || !options.projection.contains(column) {
            continue;
        }
        check_type(column, field).map_err(|problem| Error::input(&path, problem))?;
        kept.push(field.clone());
    }
    let names = csv::ByteRecord::from(kept.iter().map(|f| f.name()).collect::<Vec<_>>());
    let header = Header::resolve(input, &names, options)?;
    let columnar: Option<Vec<(usize, Decode)>> = kept
        .iter()
        .map(|field| {
            let leaf = schema_leaf(&reader, field.name())?;
            Some((leaf, Decode::of(field)?))
        })
        .collect();
    let read_error =
        |e: parquet::errors::ParquetError| Error::input(&path, format!("cannot read rows: {e}"));
    let Some(columnar) = columnar else {
        // Uncommon column types: row by row.
        let mut sink = Sink::new(input, header, router, options, outcome, destination);
        let mut record = csv::ByteRecord::new();
        let mut text = String::new();
        let projection = Type::group_type_builder(schema.name())
            .with_fields(kept)
            .build()
            .map_err(|e| Error::input(&path, format!("cannot select columns: {e}")))?;
        let rows = reader.get_row_iter(Some(projection)).map_err(read_error)?;
        for (i, row) in rows.enumerate() {
            let number = i as u64 + 1;
            let row = row.map_err(|e| Error::input(&path, format!("row {number}: {e}")))?;
            row_record(&row, &mut text, &mut record);
            sink.record(number, &record)?;
        }
        return Ok(());
    };
    // Row groups are read on every core, each into a part of its own, and
    // the parts merged in file order (as chunks of a CSV file are).
    let groups = reader.num_row_groups();
    let mut firsts = Vec::with_capacity(groups);
    let mut rows_before = 0u64;
    for g in 0..groups {
        firsts.push(rows_before);
        rows_before += reader.metadata().row_group(g).num_rows() as u64;
    }
    let read_group_rows = |g: usize, sink: &mut Sink<'_, D>| -> Result<()> {
        let group = reader.get_row_group(g).map_err(read_error)?;
        let rows = group.metadata().num_rows() as usize;
        let mut chunks = columnar
            .iter()
            .map(|(leaf, decode)| Chunk::read(group.as_ref(), *leaf, *decode, rows))
            .collect::<parquet::errors::Result<Vec<Chunk>>>()
            .map_err(read_error)?;
        let mut record = csv::ByteRecord::new();
        let mut text = String::new();
        for row in 0..rows {
            record.clear();
            for chunk in &mut chunks {
                chunk.push_next(&mut text, &mut record);
            }
            sink.record(firsts[g] + row as u64 + 1, &record)?;
        }
        Ok(())
    };
    // Row groups may be decoded on other threads: each is contained there.
    let read_group =
        |g: usize, sink: &mut Sink<'_, D>| contained(&path, || read_group_rows(g, sink));
    if groups < 2 || rayon::current_num_threads() < 2 {
        let mut sink = Sink::new(input, header, router, options, outcome, destination);
        for g in 0..groups {
            read_group(g, &mut sink)?;
        }
        return Ok(());
    }
    let sources = Sources {
        input,
        header_row: &names,
        router,
        options,
    };
    sources.read_parts(groups, outcome, destination, read_group)
}

thread_local! {
    /// Set while this thread decodes Parquet: panics are then caught and
    /// reported as errors.
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is decoding Parquet, where a panic of the
/// parquet crate is caught and becomes an error about the file. A program's
/// panic hook may stay silent then (the binary's does); the library leaves
/// the process-wide hook alone.
pub fn decoding_parquet() -> bool {
    DECODING.get()
}

/// Runs Parquet decoding, turning a panic of the parquet crate (it has
/// several on corrupt pages) into a clear error about the file.
pub(super) fn contained<T>(
    path: &std::path::Path,
    decode: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let was = DECODING.replace(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    DECODING.set(was);
    result.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".into());
        Err(Error::input(
            path,
            format!("not a readable Parquet file: {why}"),
        ))
    })
}

/// Checks that every column chunk the metadata describes lies inside the
/// file (the parquet crate panics on a negative offset or size).
fn check_layout(
    reader: &SerializedFileReader<Bytes>,
    size: u64,
) -> std::result::Result<(), String> {
    for (g, group) in reader.metadata().row_groups().iter().enumerate() {
        if group.num_rows() < 0 {
            return Err(format!("row group {g} has a negative row count"));
        }
        for column in group.columns() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or(column.data_page_offset());
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(column.compressed_size()).ok())
                .and_then(|(start, len)| start.checked_add(len))
                .is_some_and(|end| end <= size);
            if !inside {
                return Err(format!(
                    "row group {g}, column {}: its data lies outside the file",
                    column.column_path()
                ));
            }
        }
    }
    Ok(())
}

/// The leaf column index of a top-level field.
fn schema_leaf(reader: &SerializedFileReader<Bytes>, name: &str) -> Option<usize> {
    reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().parts() == [name])
}

/// How a flat column's values become the text the CSV reader would see (the
/// same text as [`field_text`] gives for the record API's fields).
#[derive(Clone, Copy, Debug)]
enum Decode {
    /// Text (or bytes) as stored.
    Raw,
    Int,
    Date,
    Decimal(i32),
    TimestampMillis,
    TimestampMicros,
}

impl Decode {
    /// `None` for types read row by row.
    fn of(field: &Type) -> Option<Decode> {
        let info = field.get_basic_info();
        if info.repetition() == Repetition::REPEATED {
            return None;
        }
        let logical = info.logical_type_ref();
        Some(
            match (field.get_physical_type(), info.converted_type(), logical) {
                (
                    PhysicalType::INT32
                    | PhysicalType::INT64
                    | PhysicalType::BYTE_ARRAY
                    | PhysicalType::FIXED_LEN_BYTE_ARRAY,
                    ConvertedType::DECIMAL,
                    _,
                ) => Decode::Decimal(field.get_scale()),
                (PhysicalType::BYTE_ARRAY, ConvertedType::NONE | ConvertedType::UTF8, None)
                | (PhysicalType::BYTE_ARRAY, ConvertedType::UTF8, Some(LogicalType::String)) => {
                    Decode::Raw
                }
                (PhysicalType::INT32, ConvertedType::NONE, None)
                | (PhysicalType::INT32, ConvertedType::INT_32, _)
                | (PhysicalType::INT64, ConvertedType::NONE, None)
                | (PhysicalType::INT64, ConvertedType::INT_64, _) => Decode::Int,
                (PhysicalType::INT32, ConvertedType::DATE, _) => Decode::Date,
                (PhysicalType::INT64, ConvertedType::TIMESTAMP_MILLIS, _) => {
                    Decode::TimestampMillis
                }
                (PhysicalType::INT64, ConvertedType::TIMESTAMP_MICROS, _) => {
                    Decode::TimestampMicros
                }
                _ => return None,
            },
        )
    }
}

/// One column of a row group, decoded, and where the next row is.
struct Chunk {
    decode: Decode,
    values: Values,
    /// Definition levels (empty for a required column: no nulls).
    defs: Vec<i16>,
    max_def: i16,
    row: usize,
    value: usize,
}

enum Values {
    Bytes(Vec<ByteArray>),
    Fixed(Vec<FixedLenByteArray>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
}

impl Chunk {
    fn read(
        group: &dyn RowGroupReader,
        leaf: usize,
        decode: Decode,
        rows: usize,
    ) -> parquet::errors::Result<Chunk> {
        let max_def = group.metadata().column(leaf).column_descr().max_def_level();
        let mut defs = Vec::with_capacity(if max_def > 0 { rows } else { 0 });
        macro_rules! read_all {
            ($reader:expr, $variant:ident) => {{
                let mut reader = $reader;
                let mut values = Vec::with_capacity(rows);
                let mut read = 0;
                while read < rows {
                    let levels = (max_def > 0).then_some(&mut defs);
                    let (records, _, _) =
                        reader.read_records(rows - read, levels, None, &mut values)?;
                    if records == 0 {
                        break;
                    }
                    read += records;
                }
                Values::$variant(values)
            }};
        }
        let values = match group.get_column_reader(leaf)? {
            ColumnReader::ByteArrayColumnReader(r) => read_all!(r, Bytes),
            ColumnReader::FixedLenByteArrayColumnReader(r) => read_all!(r, Fixed),
            ColumnReader::Int32ColumnReader(r) => read_all!(r, Int32),
            ColumnReader::Int64ColumnReader(r) => read_all!(r, Int64),
            _ => {
                return Err(parquet::errors::ParquetError::General(format!(
                    "column {leaf}: unexpected physical type"
                )))
            }
        };
        Ok(Chunk {
            decode,
            values,
            defs,
            max_def,
            row: 0,
            value: 0,
        })
    }

    /// Appends the next row's field to `record` (empty for a null); text
    /// columns go in as stored, so invalid UTF-8 meets the usual check.
    fn push_next(&mut self, text: &mut String, record: &mut csv::ByteRecord) {
        text.clear();
        let present = self.max_def == 0 || self.defs.get(self.row) == Some(&self.max_def);
        self.row += 1;
        if !present {
            record.push_field(b"");
            return;
        }
        let i = self.value;
        self.value += 1;
        match &self.values {
            Values::Bytes(v) => self.push_bytes(v.get(i).map(|b| b.data()), text, record),
            Values::Fixed(v) => self.push_bytes(v.get(i).map(|b| b.data()), text, record),
            Values::Int32(v) => {
                if let Some(n) = v.get(i) {
                    self.number(*n as i64, &n.to_be_bytes(), text);
                }
                record.push_field(text.as_bytes());
            }
            Values::Int64(v) => {
                if let Some(n) = v.get(i) {
                    self.number(*n, &n.to_be_bytes(), text);
                }
                record.push_field(text.as_bytes());
            }
        }
    }

    /// A byte-array value: a DECIMAL's text, or the bytes as stored.
    fn push_bytes(&self, bytes: Option<&[u8]>, text: &mut String, record: &mut csv::ByteRecord) {
        match (bytes, self.decode) {
            (Some(b), Decode::Decimal(scale)) => {
                decimal_text(b, scale, text);
                record.push_field(text.as_bytes());
            }
            (Some(b), _) => record.push_field(b),
            (None, _) => record.push_field(b""),
        }
    }

    /// An integer value's text; `be` is its big-endian bytes (a DECIMAL's
    /// unscaled value).
    fn number(&self, n: i64, be: &[u8], out: &mut String) {
        match self.decode {
            Decode::Decimal(scale) => decimal_text(be, scale, out),
            Decode::Date => field_text(&Field::Date(n as i32), out),
            Decode::TimestampMillis => {
                timestamp_text(DateTime::<Utc>::from_timestamp_millis(n), out)
            }
            Decode::TimestampMicros => {
                timestamp_text(DateTime::<Utc>::from_timestamp_micros(n), out)
            }
            Decode::Raw | Decode::Int => {
                let _ = write!(out, "{n}");
            }
        }
    }
}

/// Refuses column types that cannot hold the schema's values exactly.
fn check_type(column: Column, field: &Type) -> std::result::Result<(), String> {
    let key = column.key();
    if !field.is_primitive() {
        return Err(format!(
            "column {key} is a nested type; expected a plain column"
        ));
    }
    let exact = column.kind().is_numeric();
    let physical = field.get_physical_type();
    if exact && matches!(physical, PhysicalType::FLOAT | PhysicalType::DOUBLE) {
        return Err(format!(
            "column {key} is floating point ({physical}); amounts must be exact: store them as DECIMAL, integer or text"
        ));
    }
    match field.get_basic_info().logical_type_ref() {
        Some(LogicalType::Timestamp(t)) if !t.is_adjusted_to_u_t_c => Err(format!(
            "column {key} is a timestamp without time zone; expected UTC-adjusted timestamps or RFC 3339 text"
        )),
        _ => Ok(()),
    }
}

/// A record-API row's fields as the CSV reader would see them.
fn row_record(row: &parquet::record::Row, text: &mut String, record: &mut csv::ByteRecord) {
    record.clear();
    for (_, field) in row.get_column_iter() {
        match field {
            Field::Bytes(b) => record.push_field(b.data()),
            other => {
                field_text(other, text);
                record.push_field(text.as_bytes());
            }
        }
    }
}

/// The text of a field as the CSV reader would see it.
fn field_text(field: &Field, out: &mut String) {
    out.clear();
    match field {
        Field::Null => {}
        Field::Str(s) => out.push_str(s),
        Field::Decimal(d) => decimal_text(d.data(), d.scale(), out),
        Field::Date(days) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
            match epoch.checked_add_signed(TimeDelta::days(*days as i64)) {
                Some(d) => {
                    let _ = write!(out, "{}", d.format("%Y-%m-%d"));
                }
                None => {
                    let _ = write!(out, "day {days} since 1970-01-01");
                }
            }
        }
        Field::TimestampMillis(ms) => {
            timestamp_text(DateTime::<Utc>::from_timestamp_millis(*ms), out)
        }
        Field::TimestampMicros(us) => {
            timestamp_text(DateTime::<Utc>::from_timestamp_micros(*us), out)
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn timestamp_text(t: Option<DateTime<Utc>>, out: &mut String) {
    match t {
        Some(t) => out.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        None => out.push_str("out-of-range timestamp"),
    }
}

/// Big-endian two's complement unscaled value and a scale → exact text.
fn decimal_text(be: &[u8], scale: i32, out: &mut String) {
    if be.len() > 16 {
        out.push_str("decimal wider than 128 bits");
        return;
    }
    let negative = be.first().is_some_and(|b| b & 0x80 != 0);
    let mut buf = if negative { [0xFFu8; 16] } else { [0u8; 16] };
    buf[16 - be.len()..].copy_from_slice(be);
    let value = i128::from_be_bytes(buf);
    let digits = value.unsigned_abs().to_string();
    if negative {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (-scale) as usize));
        return;
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    out.push_str(int);
    out.push('.');
    out.push_str(frac);
}

#[cfg(test)]
mod tests;
