//! Partitioning a record stream to disk, for billing runs whose records do
//! not fit in memory: one pass writes each record of a served customer,
//! unchanged and with its original file and line, to the file of its
//! customer's bucket; the run then reads and renders one bucket at a time, so
//! memory is bounded by the largest bucket rather than by the whole stream.
//!
//! Records fail or are counted in the partitioning pass exactly as they would
//! be when read directly (shape, record type, customer); everything else is
//! checked when the bucket is read, with messages naming the original file.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::records::{
    read_input, Destination, Identified, Input, ReadOptions, ReadOutcome, Record, RecordFault,
    Router, SOURCE_FILE, SOURCE_LINE,
};

/// The bucket of a customer among `buckets`: a hash independent of the
/// shard hash (64-bit FNV-1a then a SplitMix64 finaliser), so buckets split
/// a shard's customers evenly.
pub fn bucket_of(customer_id: &str, buckets: u32) -> u32 {
    let hash = crate::hash::mix64(crate::hash::fnv1a64(customer_id.as_bytes()));
    (hash % buckets as u64) as u32
}

/// How records are spread over buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// A run's own spill, by [`bucket_of`]; the pass notes every leg for
    /// the run.
    Spill,
    /// A dataset's shards, by the shard hash ([`crate::hash::shard_of`]); legs
    /// are left to the runs that read the shards. With `fixed_width` (for
    /// Parquet parts) a record of another width than its header's stops
    /// the partition.
    Shards { fixed_width: bool },
}

impl Scheme {
    fn bucket(self, customer_id: &str, buckets: u32) -> u32 {
        match self {
            Scheme::Spill => bucket_of(customer_id, buckets),
            Scheme::Shards { .. } => crate::hash::shard_of(customer_id, buckets),
        }
    }
}

/// A bucket's open partition file.
struct PartWriter {
    path: PathBuf,
    csv: csv::Writer<BufWriter<File>>,
    records: u64,
}

/// A partition file written: its bucket's records from one input (or one
/// chunk of it), each led by its original file and line.
#[derive(Clone, Debug)]
pub struct WrittenPart {
    pub path: PathBuf,
    /// The input's position among those read.
    pub input: usize,
    pub records: u64,
}

/// Writes records to per-bucket files, one file per input and bucket (each
/// keeps its input's header, so records stay byte-for-byte as read).
pub struct Partitioner {
    dir: PathBuf,
    buckets: u32,
    scheme: Scheme,
    input: usize,
    /// For a chunk of an input read on its own thread: the chunk's number.
    chunk: Option<usize>,
    writers: FxHashMap<u32, PartWriter>,
    parts: Vec<Vec<WrittenPart>>,
}

impl Partitioner {
    /// Writes into `dir`, a bucket per customer by the scheme.
    pub(super) fn new(dir: &Path, buckets: u32, scheme: Scheme) -> Result<Partitioner> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(Partitioner {
            dir: dir.to_path_buf(),
            buckets,
            scheme,
            input: 0,
            chunk: None,
            writers: FxHashMap::default(),
            parts: vec![Vec::new(); buckets as usize],
        })
    }

    fn write<'r>(
        &mut self,
        customer_id: &str,
        file: &str,
        line: u64,
        header: impl Iterator<Item = &'r [u8]>,
        record: impl Iterator<Item = &'r [u8]>,
    ) -> Result<()> {
        let bucket = self.scheme.bucket(customer_id, self.buckets);
        if !self.writers.contains_key(&bucket) {
            let name = match self.chunk {
                Some(chunk) => format!("part-{:04}-{chunk:04}-{bucket:04}.csv", self.input),
                None => format!("part-{:04}-{bucket:04}.csv", self.input),
            };
            let path = self.dir.join(name);
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(BufWriter::with_capacity(1 << 16, file));
            let mut head = csv::ByteRecord::new();
            head.push_field(SOURCE_FILE.as_bytes());
            head.push_field(SOURCE_LINE.as_bytes());
            head.extend(header);
            w.write_byte_record(&head)
                .map_err(|e| Error::csv(&path, e))?;
            self.writers.insert(
                bucket,
                PartWriter {
                    path,
                    csv: w,
                    records: 0,
                },
            );
        }
        let part = self.writers.get_mut(&bucket).expect("inserted above");
        let (path, w) = (&part.path, &mut part.csv);
        w.write_field(file.as_bytes())
            .map_err(|e| Error::csv(path, e))?;
        w.write_field(line.to_string())
            .map_err(|e| Error::csv(path, e))?;
        for field in record {
            w.write_field(field).map_err(|e| Error::csv(path, e))?;
        }
        w.write_record(None::<&[u8]>)
            .map_err(|e| Error::csv(path, e))?;
        part.records += 1;
        Ok(())
    }

    /// Closes the open files, adding them to their buckets.
    fn flush(&mut self) -> Result<()> {
        let mut writers: Vec<(u32, PartWriter)> = self.writers.drain().collect();
        writers.sort_by_key(|(b, _)| *b);
        for (bucket, mut part) in writers {
            part.csv.flush().map_err(|e| Error::io(&part.path, e))?;
            self.parts[bucket as usize].push(WrittenPart {
                path: part.path,
                input: self.input,
                records: part.records,
            });
        }
        Ok(())
    }

    /// The files written, per bucket, in input order.
    pub(super) fn into_parts(self) -> Vec<Vec<WrittenPart>> {
        self.parts
    }

    pub(super) fn finish_input(&mut self) -> Result<()> {
        self.flush()?;
        self.input += 1;
        Ok(())
    }
}

/// A partitioning pass's destination: each record of a served customer is
/// written, unchanged, to its bucket's file; it is counted when the bucket
/// is read.
impl Destination for Partitioner {
    /// A partitioner for one part of the current input, writing files of
    /// its own; [`Destination::absorb`] takes them back in part order.
    fn part(&self, chunk: usize) -> Partitioner {
        Partitioner {
            dir: self.dir.clone(),
            buckets: self.buckets,
            scheme: self.scheme,
            input: self.input,
            chunk: Some(chunk),
            writers: FxHashMap::default(),
            parts: vec![Vec::new(); self.buckets as usize],
        }
    }

    fn absorb(&mut self, mut chunk: Partitioner) -> Result<()> {
        chunk.flush()?;
        for (mine, theirs) in self.parts.iter_mut().zip(chunk.parts) {
            mine.extend(theirs);
        }
        Ok(())
    }

    fn take(
        &mut self,
        record: &Record<'_>,
        who: &Identified<'_>,
        _: &dyn Router,
    ) -> std::result::Result<bool, RecordFault> {
        let (file, line) = record.origin();
        let (header, fields) = record.fields();
        // Its shard's run would judge the record; a Parquet part cannot
        // hold it for that run, and rejecting it here would let the run
        // render an invoice a run over the file fails.
        if self.scheme == (Scheme::Shards { fixed_width: true }) && header.len() != fields.len() {
            return Err(RecordFault::Fatal(Error::Record(crate::error::RecordProblem {
                file: file.to_string(),
                line,
                column: None,
                reason: format!(
                    "has {} fields but the header has {}; a Parquet part holds records of its header's width only: correct the record, or partition to CSV, whose part keeps it for its shard's run to judge",
                    fields.len(),
                    header.len()
                ),
            })));
        }
        self.write(who.customer, file, line, header, fields)
            .map(|()| true)
            .map_err(RecordFault::Fatal)
    }

    fn is_final(&self) -> bool {
        false
    }

    /// A run's own spill notes legs in its first pass; a dataset's
    /// partition leaves them to the runs that read it.
    fn notes_legs(&self) -> bool {
        self.scheme == Scheme::Spill
    }

    /// A dataset's partition moves every record whose customer it can read
    /// to that customer's shard; the shard's run checks the rest.
    fn takes_unchecked(&self) -> bool {
        self.scheme != Scheme::Spill
    }
}

/// The result of a partitioning pass.
pub struct Partitioned {
    /// Per bucket, its files (read them together as one input set).
    pub parts: Vec<Vec<PathBuf>>,
    /// Records seen, those of no served customer (out of scope), and those
    /// rejected before their customer was known.
    pub outcome: ReadOutcome,
}

/// Writes every record of a customer the router serves to its bucket's file
/// under `dir`; counts the others as out of scope.
pub fn partition_records(
    inputs: &[Input],
    router: &dyn Router,
    options: &ReadOptions,
    dir: &Path,
    buckets: u32,
) -> Result<Partitioned> {
    let mut partitioner = Partitioner::new(dir, buckets.max(1), Scheme::Spill)?;
    let mut outcome = ReadOutcome::default();
    for input in inputs {
        read_input(input, router, options, &mut outcome, &mut partitioner)?;
        partitioner.finish_input()?;
    }
    Ok(Partitioned {
        parts: partitioner
            .parts
            .into_iter()
            .map(|parts| parts.into_iter().map(|p| p.path).collect())
            .collect(),
        outcome,
    })
}

/// Input bytes above which a run partitions its records to disk first.
const SPILL_ABOVE: u64 = 1 << 30;
/// Input bytes per partition when spilling.
const BYTES_PER_PARTITION: u64 = 512 << 20;

/// How many partitions a run over these inputs uses: one (all in memory)
/// unless their size suggests otherwise. Compressed inputs count as larger.
pub fn auto_partitions(inputs: &[Input]) -> u32 {
    let mut bytes = 0u64;
    for input in inputs {
        if let Some(p) = input.file() {
            let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            let name = p.to_string_lossy();
            let factor = if name.ends_with(".gz") {
                6
            } else if name.ends_with(".parquet") {
                4
            } else {
                1
            };
            bytes += size * factor;
        }
    }
    if bytes <= SPILL_ABOVE {
        1
    } else {
        bytes.div_ceil(BYTES_PER_PARTITION) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_spread_customers_and_are_stable() {
        let mut sizes = [0u32; 4];
        for i in 0..4000 {
            sizes[bucket_of(&format!("CUST{i:05}"), 4) as usize] += 1;
        }
        assert!(sizes.iter().all(|n| *n > 800), "{sizes:?}");
        assert_eq!(bucket_of("ACME", 7), bucket_of("ACME", 7));
    }
}
