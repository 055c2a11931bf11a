//! A records file's header, resolved once into column positions (the row
//! loop then only indexes), with every missing required column named at
//! once.

use super::input::Input;
use super::reader::ReadOptions;
use crate::column::{Applies, Column};
use crate::error::{Error, Result};

pub(super) const CALL_REQUIRED: [Column; 4] = [
    Column::CallId,
    Column::StartTime,
    Column::Duration,
    Column::Charge,
];
pub(super) const TRANSACTION_REQUIRED: [Column; 3] =
    [Column::TransactionId, Column::Date, Column::Amount];
/// Leading columns of partition files: where each record came from (read
/// as such only in a run's own spill files and in the listed parts of a
/// partitioned dataset; elsewhere they are unknown columns, so input cannot
/// choose where its errors are said to be).
pub const SOURCE_FILE: &str = "_source_file";
pub const SOURCE_LINE: &str = "_source_line";

/// Column positions of one file's header, resolved once; the row loop then
/// only indexes.
pub(super) struct Header {
    pub(super) position: [Option<usize>; Column::ALL.len()],
    pub(super) width: usize,
    /// The header as written (for partition files).
    pub(super) raw: csv::ByteRecord,
    /// Partition files lead with the original file and line of each record.
    pub(super) source: Option<(usize, usize)>,
}

impl Header {
    pub(super) fn resolve(
        input: &Input,
        raw: &csv::ByteRecord,
        options: &ReadOptions,
    ) -> Result<Header> {
        let path = input.path();
        let leads = raw.get(0) == Some(SOURCE_FILE.as_bytes())
            && raw.get(1) == Some(SOURCE_LINE.as_bytes());
        // A run's own spill files always lead with them; the parts of a
        // partitioned dataset may.
        let source = if options.partition_files {
            if !leads {
                return Err(Error::input(&path, "not a partition file of this run"));
            }
            Some((0, 1))
        } else if leads && matches!(input, Input::Part { .. }) {
            Some((0, 1))
        } else if leads {
            // A part of a partition whose list is missing (an interrupted
            // partition, a part copied out of its folder): read as records
            // it would be rendered as the wrong shard's, or named wrongly.
            return Err(Error::input(
                &path,
                "leads with _source_file and _source_line: a part of a partition, but no _partition.json of its folder lists it (was the partition interrupted?); read its shard's folder, or partition again",
            ));
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

    pub(super) fn has(&self, column: Column) -> bool {
        self.position[column as usize].is_some()
    }

    pub(super) fn missing(&self, columns: &[Column]) -> Vec<&'static str> {
        columns
            .iter()
            .filter(|c| !self.has(**c))
            .map(|c| c.key())
            .collect()
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
