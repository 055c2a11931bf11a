//! Parquet records, with the same column names as CSV. Only the projected
//! columns are decoded; each row's fields are turned into text and validated
//! by the same code as CSV rows, so errors and rejects read the same (the
//! "line" of a Parquet record is its 1-based row number).
//!
//! Amounts must be exact: DECIMAL, integer or text columns are read; a
//! floating-point money, rate, quantity or duration column is refused.

use std::fmt::Write as _;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use parquet::basic::{LogicalType, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::{Type, TypePtr};

use super::reader::{Header, Input, ReadOptions, ReadOutcome, Sink};
use super::Router;
use crate::column::{Applies, Column};
use crate::error::{Error, Result};

pub(super) fn read_parquet(
    input: &Input,
    bytes: Bytes,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    partition: Option<&mut super::spill::Partitioner>,
) -> Result<()> {
    let path = input.path();
    let reader = SerializedFileReader::new(bytes)
        .map_err(|e| Error::input(&path, format!("not a readable Parquet file: {e}")))?;
    let schema = reader.metadata().file_metadata().schema();
    let mut kept: Vec<TypePtr> = Vec::new();
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
    let names: Vec<&str> = kept.iter().map(|f| f.name()).collect();
    let header = Header::resolve(input, &csv::ByteRecord::from(names))?;
    let projection = Type::group_type_builder(schema.name())
        .with_fields(kept)
        .build()
        .map_err(|e| Error::input(&path, format!("cannot select columns: {e}")))?;
    let rows = reader
        .get_row_iter(Some(projection))
        .map_err(|e| Error::input(&path, format!("cannot read rows: {e}")))?;
    let mut sink = Sink::new(input, header, router, options, outcome, partition);
    let mut record = csv::ByteRecord::new();
    let mut text = String::new();
    for (i, row) in rows.enumerate() {
        let number = i as u64 + 1;
        let row = row.map_err(|e| Error::input(&path, format!("row {number}: {e}")))?;
        record.clear();
        for (_, field) in row.get_column_iter() {
            match field {
                Field::Bytes(b) => record.push_field(b.data()),
                other => {
                    field_text(other, &mut text);
                    record.push_field(text.as_bytes());
                }
            }
        }
        sink.record(number, &record)?;
    }
    Ok(())
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
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_every_digit() {
        let mut s = String::new();
        decimal_text(&12345i32.to_be_bytes(), 4, &mut s);
        assert_eq!(s, "1.2345");
        let mut t = String::new();
        decimal_text(&(-5i64).to_be_bytes(), 3, &mut t);
        assert_eq!(t, "-0.005");
        let mut u = String::new();
        decimal_text(&[0x01, 0x00], 0, &mut u);
        assert_eq!(u, "256");
    }
}
