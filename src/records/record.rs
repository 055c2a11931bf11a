//! One record as read: its fields by the header's positions, the checks
//! every record passes before its customer is known, and the parse of a
//! call or transaction into its invoice's dataset.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use super::header::{plural, Header, CALL_REQUIRED, TRANSACTION_REQUIRED};
use super::value::{parse_date, parse_duration, parse_timestamp};
use super::{Call, Dataset, Interner, Leg, LegOrigin, Router, Sym, Transaction};
use crate::column::{Column, Projection};
use crate::error::{Error, RecordProblem};
use crate::money::Decimal;

/// Longest raw record copied into rejects.csv; the rest is counted, not kept.
const RAW_LIMIT: usize = 4096;

/// Why a record was not taken.
pub enum RecordFault {
    /// The record is bad; the policy decides.
    Bad(RecordProblem),
    /// The file cannot be read further (e.g. a record type whose columns are missing).
    Fatal(Error),
}

/// One record as read, with where it came from.
pub struct Record<'a> {
    pub(super) file: &'a str,
    pub(super) line: u64,
    pub(super) header: &'a Header,
    pub(super) record: &'a csv::ByteRecord,
    /// The record's fields back to back, when they are valid UTF-8 as a
    /// whole (checked once, not per field).
    pub(super) whole: Option<&'a str>,
    pub(super) projection: Projection,
}

/// What the checks every record passes found: its type and customer.
pub struct Identified<'a> {
    pub is_call: bool,
    pub customer: &'a str,
}

impl Record<'_> {
    pub(super) fn problem(&self, column: Option<Column>, reason: String) -> RecordFault {
        RecordFault::Bad(RecordProblem {
            file: self.file.to_string(),
            line: self.line,
            column: column.map(|c| c.key().to_string()),
            reason,
        })
    }

    /// The text of a field, `""` when the file has no such column.
    pub(super) fn text(&self, column: Column) -> Result<&str, RecordFault> {
        let Some(i) = self.header.position[column as usize] else {
            return Ok("");
        };
        // A field of a valid whole is valid unless a character straddles
        // its ends (then `get` says so and the field is checked alone).
        if let Some(text) = self
            .whole
            .zip(self.record.range(i))
            .and_then(|(whole, range)| whole.get(range))
        {
            return Ok(text);
        }
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

    pub(super) fn required(&self, column: Column) -> Result<&str, RecordFault> {
        let t = self.text(column)?;
        if t.trim().is_empty() {
            return Err(self.problem(Some(column), "is empty; a value is required".into()));
        }
        Ok(t)
    }

    pub(super) fn decimal(
        &self,
        column: Column,
        required: bool,
    ) -> Result<Option<Decimal>, RecordFault> {
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

    pub(super) fn typed<T>(
        &self,
        column: Column,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<T, RecordFault> {
        let t = self.required(column)?;
        parse(t).map_err(|reason| self.problem(Some(column), format!("{t:?} {reason}")))
    }

    /// Keeps a projected text field in the dataset's strings —
    /// [`Interner::intern`] for texts that repeat, [`Interner::push`] for
    /// those that seldom do; unprojected fields stay empty and are never
    /// parsed.
    pub(super) fn sym(
        &self,
        column: Column,
        strings: &mut Interner,
        keep: fn(&mut Interner, &str) -> Sym,
    ) -> Result<Sym, RecordFault> {
        if !self.projection.contains(column) {
            return Ok(Sym::EMPTY);
        }
        let t = self.text(column)?;
        Ok(keep(strings, t))
    }

    /// The checks every record passes before its customer is known: shape,
    /// record type, the type's columns, and a customer id. Returns whether it
    /// is a call, and the customer id.
    pub(super) fn identify(
        &self,
        path: &Path,
        checked_types: &mut [bool; 2],
    ) -> Result<Identified<'_>, RecordFault> {
        if self.record.len() != self.header.width {
            // Counted without a partition file's leading origin columns.
            let origin = if self.header.source.is_some() { 2 } else { 0 };
            return Err(self.problem(
                None,
                format!(
                    "has {} fields but the header has {}",
                    self.record.len().saturating_sub(origin),
                    self.header.width - origin
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
        if !std::mem::replace(&mut checked_types[usize::from(is_call)], true) {
            let missing = self.header.missing(required);
            if !missing.is_empty() {
                return Err(RecordFault::Fatal(Error::input(
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
        let customer = self.required(Column::CustomerId)?;
        Ok(Identified { is_call, customer })
    }

    /// Parses a record of a served customer into the dataset of the invoice
    /// whose period holds it; `Ok(false)` when no invoice's does.
    pub(super) fn route(
        &self,
        who: &Identified<'_>,
        router: &dyn Router,
        datasets: &mut [Dataset],
    ) -> Result<bool, RecordFault> {
        if who.is_call {
            let start = self.typed(Column::StartTime, parse_timestamp)?;
            match router.route_call(who.customer, start) {
                Some(i) => self.call(start, &mut datasets[i]).map(|()| true),
                None => Ok(false),
            }
        } else {
            let date = self.typed(Column::Date, parse_date)?;
            match router.route_transaction(who.customer, date) {
                Some(i) => self.transaction(date, &mut datasets[i]).map(|()| true),
                None => Ok(false),
            }
        }
    }

    /// Where the record came from: its file and line (a partition file's
    /// record names its original place).
    pub fn origin(&self) -> (&str, u64) {
        (self.file, self.line)
    }

    /// The record's own fields as read, and the header they belong to
    /// (without the leading columns that name a partition file's origins).
    pub fn fields(&self) -> (csv::ByteRecordIter<'_>, csv::ByteRecordIter<'_>) {
        let mut header = self.header.raw.iter();
        let mut record = self.record.iter();
        if self.header.source.is_some() {
            header.nth(1);
            record.nth(1);
        }
        (header, record)
    }

    pub(super) fn call(&self, start: DateTime<Utc>, data: &mut Dataset) -> Result<(), RecordFault> {
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
        // Read whenever the file has the column, whatever the profile: a
        // record is valid or not the same way in every render of it.
        let leg = match self.text(Column::Leg)?.trim() {
            "" => Leg::None,
            "A" | "a" => Leg::A,
            "B" | "b" => Leg::B,
            other => {
                return Err(self.problem(
                    Some(Column::Leg),
                    format!("{other:?} is not a leg; expected A, B or empty (an ordinary call)"),
                ))
            }
        };
        if leg != Leg::None && self.text(Column::CallGroup)?.trim().is_empty() {
            return Err(self.problem(
                Some(Column::CallGroup),
                format!(
                    "is empty, but the record is the {}-leg of a forwarded call; a leg needs the call_group its legs share",
                    leg.key()
                ),
            ));
        }
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
            site: self.sym(Column::Site, strings, Interner::intern)?,
            campaign: self.sym(Column::Campaign, strings, Interner::intern)?,
            number: self.sym(Column::Number, strings, Interner::intern)?,
            call_id: strings.push(self.text(Column::CallId)?),
            caller: self.sym(Column::Caller, strings, Interner::push)?,
            dialled: self.sym(Column::Dialled, strings, Interner::push)?,
            destination: self.sym(Column::Destination, strings, Interner::intern)?,
            call_type: self.sym(Column::CallType, strings, Interner::intern)?,
            direction: self.sym(Column::Direction, strings, Interner::intern)?,
            start,
            duration,
            billed_duration,
            rate,
            charge,
            leg,
            call_group: match leg {
                Leg::None => self.sym(Column::CallGroup, strings, Interner::intern)?,
                _ => strings.intern(self.text(Column::CallGroup)?.trim()),
            },
            legs: 1,
        };
        if leg != Leg::None {
            let origin = LegOrigin {
                file: data.strings_mut().intern(self.file),
                line: self.line,
            };
            data.leg_origins
                .entry((call.call_id, leg))
                .or_default()
                .push(origin);
        }
        data.calls.push(call);
        Ok(())
    }

    pub(super) fn transaction(
        &self,
        date: NaiveDate,
        data: &mut Dataset,
    ) -> Result<(), RecordFault> {
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
            site: self.sym(Column::Site, strings, Interner::intern)?,
            campaign: self.sym(Column::Campaign, strings, Interner::intern)?,
            number: self.sym(Column::Number, strings, Interner::intern)?,
            transaction_id: strings.push(self.text(Column::TransactionId)?),
            date,
            transaction_type: self.sym(Column::TransactionType, strings, Interner::intern)?,
            description: self.sym(Column::Description, strings, Interner::intern)?,
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
pub(super) fn raw_text(record: &csv::ByteRecord, skip: usize) -> String {
    let mut bytes = Vec::new();
    for (i, field) in record.iter().skip(skip).enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        match std::str::from_utf8(field) {
            Ok(_) => crate::csv_field::push(&mut bytes, field),
            Err(_) => {
                let escaped = field.escape_ascii().to_string();
                crate::csv_field::push(&mut bytes, escaped.as_bytes());
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
