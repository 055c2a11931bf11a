//! `usage-report partition`: one pass over records files that writes each
//! record, unchanged, into the folder of its shard — the customers
//! [`Shard::owns`] gives shard K, so `run --shard K/N --records DIR/shard=K`
//! reads only its own records and renders exactly what `run --shard K/N`
//! over the original files renders.
//!
//! The layout is a partitioned dataset other engines read too:
//! `DIR/shard=K/part-NNNNN.csv` (or `.parquet`), each part leading with
//! `_source_file` and `_source_line` (every record's original place, so a
//! shard's errors and rejects name it) followed by the input's own columns
//! and fields; `DIR/shard=K/_partition.json` lists the shard's parts and
//! the files they came from (so a shard run's manifests name those files);
//! `DIR/rejects.csv` holds the rows that could not be read; and
//! `DIR/partition.json`, written last, reconciles: `records` = the sum of
//! the shards' records + `rejected`.
//!
//! `--part P/M` splits the work by input file across machines: part P reads
//! its share of the files (consecutive, in order) and writes
//! `part-P-NNNNN` files and `partition-P.json`, `rejects-P.csv` and
//! `_partition-P.json` lists, so parts written into one shared folder never
//! collide and together equal one partition of all the files.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::Serialize;

use super::spill::{Partitioner, Scheme, WrittenPart};
use super::Shard;
use crate::column::Projection;
use crate::error::{Error, RecordProblem, Result};
use crate::output::{write_atomically, OutputDir};
use crate::records::{
    read_input, BadRecordPolicy, Input, ListedPart, PartList, ReadOptions, ReadOutcome, Router,
    PART_LIST,
};

/// The format of the part files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PartFormat {
    #[default]
    Csv,
    /// Every column as UTF-8 text, so values stay exactly as read.
    Parquet,
}

impl PartFormat {
    fn extension(self) -> &'static str {
        match self {
            PartFormat::Csv => "csv",
            PartFormat::Parquet => "parquet",
        }
    }
}

/// What to partition, and how.
#[derive(Clone, Copy, Debug)]
pub struct PartitionOptions {
    pub shards: u32,
    pub format: PartFormat,
    /// This machine's share of the input files (`--part P/M`).
    pub part: Option<Shard>,
}

/// `partition.json`: what a partition read and wrote, reconciled.
#[derive(Clone, Debug, Serialize)]
pub struct PartitionReport {
    pub partition_version: u32,
    pub generator: String,
    /// N: records are in the folder of shard `fnv1a64(customer_id) % N`.
    pub shard_count: u32,
    pub hash: &'static str,
    pub format: &'static str,
    /// `P/M` when this is one machine's part of the input files.
    pub part: Option<String>,
    /// Each input file read, with its records.
    pub files: Vec<FileRead>,
    /// Records read: the sum of the shards' records and `rejected`.
    pub records: u64,
    /// Rows that could not be read (their customer unknown), in
    /// `rejects_file`.
    pub rejected: u64,
    pub rejects_file: Option<String>,
    pub shards: Vec<ShardWritten>,
}

/// One input file a partition read.
#[derive(Clone, Debug, Serialize)]
pub struct FileRead {
    pub file: String,
    pub records: u64,
}

/// One shard's folder as a partition wrote it.
#[derive(Clone, Debug, Serialize)]
pub struct ShardWritten {
    /// `K/N`.
    pub shard: String,
    pub folder: String,
    pub records: u64,
    /// Its part files (folder-relative), in input order.
    pub parts: Vec<String>,
}

/// A partition's own file name: `partition.json`, or `partition-P.json`
/// for part P (and likewise the rejects and the shard folders' lists).
fn own_name(stem: &str, part: Option<Shard>, extension: &str) -> String {
    match part {
        Some(p) => format!("{stem}-{:05}.{extension}", p.index),
        None => format!("{stem}.{extension}"),
    }
}

/// Serves every customer and routes nothing: a partition takes every
/// record whose shape, record type and customer are readable.
struct EveryCustomer;

impl Router for EveryCustomer {
    fn invoices(&self) -> usize {
        0
    }
    fn serves(&self, _: &str) -> bool {
        true
    }
    fn route_call(&self, _: &str, _: DateTime<Utc>) -> Option<usize> {
        None
    }
    fn route_transaction(&self, _: &str, _: NaiveDate) -> Option<usize> {
        None
    }
}

/// Partitions `inputs` (this machine's share of them, with `--part`) into
/// `out`. The folder must be new or empty; with `--part`, it may hold the
/// other parts' files, never this part's own.
pub fn partition(
    inputs: &[Input],
    out: &Path,
    options: &PartitionOptions,
) -> Result<PartitionReport> {
    if options.shards == 0 {
        return Err(Error::Usage("--shards 0: at least 1".into()));
    }
    // A shard's folder holds records of the files its list names: read
    // together with those files (a folder holding both) each record would
    // be partitioned twice.
    let shards = inputs
        .iter()
        .filter(|i| matches!(i, Input::Shard(_)))
        .count();
    if shards > 0 && shards < inputs.len() {
        return Err(Error::Usage(
            "--records: a partition's shard folders and other records files together; partition a partition (its folder) or records files, not both".into(),
        ));
    }
    // The parts of a split partition agree on the whole list of inputs.
    let inputs_sha256 = crate::hash::sha256_hex(Input::names(inputs).join("\n").as_bytes());
    let report_name = own_name("partition", options.part, "json");
    prepare(out, options.part, &report_name)?;
    let mine: &[Input] = match options.part {
        None => inputs,
        Some(p) => {
            let share = |k: u32| inputs.len() * k as usize / p.count as usize;
            &inputs[share(p.index)..share(p.index + 1)]
        }
    };
    let scratch = out.join(own_name(".partition-scratch", options.part, "tmp"));
    let _ = std::fs::remove_dir_all(&scratch);
    let mut partitioner = Partitioner::new(
        &scratch,
        options.shards,
        Scheme::Shards {
            fixed_width: options.format == PartFormat::Parquet,
        },
    )?;
    let read_options = ReadOptions {
        projection: Projection::all(),
        policy: BadRecordPolicy::Skip,
        by_customer: false,
        partition_files: false,
    };
    let mut outcome = ReadOutcome::default();
    let mut files = Vec::with_capacity(mine.len());
    let names: Arc<[String]> = Input::names(mine).into();
    for input in mine {
        let before = outcome.counts.records;
        read_input(
            input,
            &EveryCustomer,
            &read_options,
            &mut outcome,
            &mut partitioner,
        )?;
        partitioner.finish_input()?;
        files.push(FileRead {
            file: input.name(),
            records: outcome.counts.records - before,
        });
    }
    let froms: Vec<String> = mine.iter().map(Input::name).collect();
    let lines = outcome.counts.lines;
    let shards = partitioner
        .into_parts()
        .into_iter()
        .enumerate()
        .map(|(k, parts)| {
            write_shard(
                out,
                Shard {
                    index: k as u32,
                    count: options.shards,
                },
                parts,
                &froms,
                (&names, lines, &inputs_sha256),
                (
                    outcome.counts.rejected,
                    outcome.rejects.first().map(|r| &r.problem),
                ),
                options,
            )
        })
        .collect::<Result<Vec<ShardWritten>>>()?;
    let _ = std::fs::remove_dir_all(&scratch);
    let rejects_file = if outcome.rejects.is_empty() {
        None
    } else {
        let name = own_name("rejects", options.part, "csv");
        crate::pipeline::write_rejects_as(&OutputDir::create(out)?, &name, &outcome.rejects, true)?;
        Some(name)
    };
    let report = PartitionReport {
        partition_version: 1,
        generator: format!("usage-report {}", env!("CARGO_PKG_VERSION")),
        shard_count: options.shards,
        hash: "fnv1a64(customer_id) % shard_count",
        format: options.format.extension(),
        part: options.part.map(|p| format!("{}/{}", p.index, p.count)),
        files,
        records: outcome.counts.records,
        rejected: outcome.counts.rejected,
        rejects_file,
        shards,
    };
    let sum: u64 = report.shards.iter().map(|s| s.records).sum();
    if sum + report.rejected != report.records {
        return Err(Error::Usage(format!(
            "partition does not reconcile: {} records read, {sum} written and {} rejected",
            report.records, report.rejected
        )));
    }
    let json = serde_json::to_vec_pretty(&report).expect("a report serialises");
    write_atomically(&out.join(&report_name), &json)?;
    Ok(report)
}

/// Makes sure `out` can take this partition: new or empty, or with
/// `--part` holding none of this part's own files.
fn prepare(out: &Path, part: Option<Shard>, report_name: &str) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    match part {
        None => {
            if let Some(entry) = entries.next() {
                let entry = entry.map_err(|e| Error::io(out, e))?;
                return Err(Error::Usage(format!(
                    "--out {}: the folder is not empty (it holds {:?}); a partition writes into a new or empty folder",
                    out.display(),
                    entry.file_name()
                )));
            }
        }
        Some(p) => {
            for name in ["partition.json", report_name] {
                if out.join(name).exists() {
                    return Err(Error::Usage(format!(
                        "--out {}: it already holds {name}; part {}/{} was written there before",
                        out.display(),
                        p.index,
                        p.count
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Moves a shard's parts into its folder under their final names (or
/// writes them as Parquet), and writes the folder's list of parts.
fn write_shard(
    out: &Path,
    shard: Shard,
    parts: Vec<WrittenPart>,
    froms: &[String],
    (names, lines, inputs_sha256): (&Arc<[String]>, u64, &str),
    rejected: (u64, Option<&RecordProblem>),
    options: &PartitionOptions,
) -> Result<ShardWritten> {
    let folder = format!("shard={}", shard.index);
    let dir = out.join(&folder);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let prefix = match options.part {
        Some(p) => format!("part-{:05}-", p.index),
        None => "part-".to_string(),
    };
    let named: Vec<(WrittenPart, String)> = parts
        .into_iter()
        .enumerate()
        .map(|(seq, part)| {
            let name = format!("{prefix}{seq:05}.{}", options.format.extension());
            (part, name)
        })
        .collect();
    named
        .par_iter()
        .map(|(part, name)| {
            let target = dir.join(name);
            match options.format {
                PartFormat::Csv => {
                    std::fs::rename(&part.path, &target).map_err(|e| Error::io(&target, e))
                }
                PartFormat::Parquet => {
                    to_parquet(&part.path, &target)?;
                    std::fs::remove_file(&part.path).map_err(|e| Error::io(&part.path, e))
                }
            }
        })
        .collect::<Result<()>>()?;
    let list = PartList {
        partition_version: 1,
        shard: format!("{}/{}", shard.index, shard.count),
        part: options.part.map(|p| format!("{}/{}", p.index, p.count)),
        files: names.to_vec(),
        inputs_sha256: options.part.map(|_| inputs_sha256.to_string()),
        lines,
        rejected: rejected.0,
        first_rejected: rejected.1.cloned(),
        parts: named
            .iter()
            .map(|(part, name)| ListedPart {
                file: name.clone(),
                from: froms.get(part.input).cloned(),
                records: part.records,
            })
            .collect(),
    };
    let json = serde_json::to_vec_pretty(&list).expect("a list serialises");
    let list_name = own_name("_partition", options.part, "json");
    debug_assert!(options.part.is_some() || list_name == PART_LIST);
    write_atomically(&dir.join(list_name), &json)?;
    Ok(ShardWritten {
        shard: list.shard,
        folder,
        records: named.iter().map(|(p, _)| p.records).sum(),
        parts: named.into_iter().map(|(_, name)| name).collect(),
    })
}

/// Rows per Parquet row group.
const ROW_GROUP: usize = 64 * 1024;

/// Writes a partition's CSV part as Parquet: the same columns, every one
/// UTF-8 text (values exactly as read), Snappy-compressed.
fn to_parquet(csv_part: &Path, target: &Path) -> Result<()> {
    use parquet::basic::{Compression, ConvertedType, Repetition, Type as Physical};
    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;

    let failed = |e: parquet::errors::ParquetError| {
        Error::input(target, format!("cannot write Parquet: {e}"))
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(csv_part)
        .map_err(|e| Error::csv(csv_part, e))?;
    let header = reader
        .byte_headers()
        .map_err(|e| Error::csv(csv_part, e))?
        .clone();
    let fields = header
        .iter()
        .map(|name| {
            let name = String::from_utf8_lossy(name);
            Type::primitive_type_builder(&name, Physical::BYTE_ARRAY)
                .with_repetition(Repetition::REQUIRED)
                .with_converted_type(ConvertedType::UTF8)
                .build()
                .map(Arc::new)
        })
        .collect::<parquet::errors::Result<Vec<_>>>()
        .map_err(failed)?;
    let schema = Type::group_type_builder("records")
        .with_fields(fields)
        .build()
        .map_err(failed)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("usage-report {}", env!("CARGO_PKG_VERSION")))
        .build();
    let file = File::create(target).map_err(|e| Error::io(target, e))?;
    let mut writer = SerializedFileWriter::new(
        BufWriter::with_capacity(1 << 16, file),
        Arc::new(schema),
        Arc::new(properties),
    )
    .map_err(failed)?;
    let width = header.len();
    let mut columns: Vec<Vec<ByteArray>> = vec![Vec::with_capacity(ROW_GROUP); width];
    let mut record = csv::ByteRecord::new();
    let mut flush = |columns: &mut Vec<Vec<ByteArray>>| -> Result<()> {
        if columns[0].is_empty() {
            return Ok(());
        }
        let mut group = writer.next_row_group().map_err(failed)?;
        for values in columns.iter_mut() {
            let mut column = group
                .next_column()
                .map_err(failed)?
                .expect("one column per header field");
            column
                .typed::<ByteArrayType>()
                .write_batch(values, None, None)
                .map_err(failed)?;
            column.close().map_err(failed)?;
            values.clear();
        }
        group.close().map_err(failed)?;
        Ok(())
    };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(Error::csv(csv_part, e)),
        }
        // Parts hold only records of the header's width (others are
        // rejected when read).
        for (i, values) in columns.iter_mut().enumerate() {
            values.push(ByteArray::from(record.get(i).unwrap_or_default().to_vec()));
        }
        if columns[0].len() == ROW_GROUP {
            flush(&mut columns)?;
        }
    }
    flush(&mut columns)?;
    let mut inner = writer.into_inner().map_err(failed)?;
    std::io::Write::flush(&mut inner).map_err(|e| Error::io(target, e))?;
    Ok(())
}
