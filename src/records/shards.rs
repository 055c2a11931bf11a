//! A partitioned dataset's shard folders (`DIR/shard=K`, written by
//! `usage-report partition` or the Spark job): the lists of parts
//! (`_partition.json`, or `_partition-P.json` per part of a partition split
//! across machines) that say which files a folder holds, which shard it is,
//! which files the partition read, and what it could place in no shard.
//! A folder is read as exactly the parts its lists name.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, RecordProblem, Result};

/// The name of a shard folder's list of its parts (`_partition-P.json` for
/// part P of a partition split across machines).
pub const PART_LIST: &str = "_partition.json";

/// Whether a file name is a shard folder's list of parts.
pub fn is_part_list(name: &str) -> bool {
    name == PART_LIST
        || name
            .strip_prefix("_partition-")
            .and_then(|rest| rest.strip_suffix(".json"))
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A shard folder's list of its parts, as written.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartList {
    pub partition_version: u32,
    /// `K/N`: the records of the customers whose id hashes to K of N.
    pub shard: String,
    /// `P/M` when this list is one machine's part of the input files.
    #[serde(default)]
    pub part: Option<String>,
    /// The inputs the partition (its part) read: what manifests name.
    pub files: Vec<String>,
    /// For a part of a split partition: a SHA-256 of the names of all the
    /// partition's inputs (every part's), so parts given different input
    /// lists are refused together.
    #[serde(default)]
    pub inputs_sha256: Option<String>,
    /// Their physical lines (what manifests count as `lines`); 0 for
    /// Parquet inputs and tables.
    #[serde(default)]
    pub lines: u64,
    /// Records of those files the partition could place in no shard (no
    /// readable customer), and the first one's problem: a run over the
    /// shard fails for it under `--on-bad-record fail`, as a run over the
    /// files would.
    #[serde(default)]
    pub rejected: u64,
    #[serde(default)]
    pub first_rejected: Option<RecordProblem>,
    pub parts: Vec<ListedPart>,
}

/// One part file of a shard.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListedPart {
    /// The file's name in the shard folder.
    pub file: String,
    /// The one input it was cut from, if one.
    pub from: Option<String>,
    pub records: u64,
}

/// One part of a shard's folder, as its list gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardPart {
    pub path: PathBuf,
    pub from: Option<String>,
    /// The records the list says it holds (a read of fewer or more is an
    /// error: the part changed since it was written).
    pub records: u64,
}

/// A shard's folder, from its lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardFolder {
    pub dir: PathBuf,
    /// K and N.
    pub shard: (u32, u32),
    /// The files the partition read, each once, in order.
    pub files: Vec<String>,
    pub lines: u64,
    /// Each part file, the one input it was cut from, and its records.
    pub parts: Vec<ShardPart>,
    /// Records the partition placed in no shard, and the first's problem.
    pub rejected: u64,
    pub first_rejected: Option<RecordProblem>,
}

impl ShardFolder {
    /// Reads a folder's lists (sorted by name): one partition's, of one
    /// shard; with parts of a split partition, every part of it, each once,
    /// none reading a file another read.
    pub fn read(dir: &Path, lists: &[&PathBuf]) -> Result<ShardFolder> {
        let mut folder = ShardFolder {
            dir: dir.to_path_buf(),
            shard: (0, 1),
            files: Vec::new(),
            lines: 0,
            parts: Vec::new(),
            rejected: 0,
            first_rejected: None,
        };
        let mut shard: Option<String> = None;
        let mut split: Option<u32> = None;
        let mut parts_seen = HashSet::new();
        let mut names = HashSet::new();
        let mut inputs: Option<Option<String>> = None;
        for (i, list) in lists.iter().enumerate() {
            let text = std::fs::read_to_string(list).map_err(|e| Error::io(list, e))?;
            let this: PartList = serde_json::from_str(&text)
                .map_err(|e| Error::input(list, format!("not a partition's list of parts: {e}")))?;
            let bad = |why: String| Error::input(list, why);
            if this.partition_version != 1 {
                return Err(bad(format!(
                    "partition_version {} is not one this version reads (1)",
                    this.partition_version
                )));
            }
            // One partition, one shard.
            match &shard {
                None => {
                    folder.shard = parse_fraction(&this.shard)
                        .ok_or_else(|| bad(format!("shard {:?} is not K/N", this.shard)))?;
                    shard = Some(this.shard.clone());
                }
                Some(first) if *first != this.shard => {
                    return Err(bad(format!(
                        "is a list of shard {}, the folder's other list of shard {first}: parts of different partitions",
                        this.shard
                    )))
                }
                Some(_) => {}
            }
            // A split partition's lists are its parts 0..M, sorted by name.
            match (&this.part, i) {
                (None, 0) if lists.len() == 1 => {}
                (None, _) => {
                    return Err(bad(
                        "is one of several lists but names no part P/M of a split partition".into(),
                    ))
                }
                (Some(part), _) => {
                    let (p, m) = parse_fraction(part)
                        .ok_or_else(|| bad(format!("part {part:?} is not P/M")))?;
                    if split.is_some_and(|first| first != m) || p as usize != i {
                        return Err(bad(format!(
                            "is part {part} where part {i}/{} was expected: parts of different partitions, or a part missing",
                            split.unwrap_or(m)
                        )));
                    }
                    split = Some(m);
                }
            }
            // The parts of a split partition were cut from one list of inputs.
            match &inputs {
                None => inputs = Some(this.inputs_sha256.clone()),
                Some(first) if *first != this.inputs_sha256 => {
                    return Err(bad(
                        "was cut from another list of input files than the folder's other parts: give every part of the partition the same --records".into(),
                    ))
                }
                Some(_) => {}
            }
            for file in this.files {
                if !names.insert(file.clone()) {
                    return Err(bad(format!(
                        "names {file:?}, which another part of the partition read too"
                    )));
                }
                folder.files.push(file);
            }
            folder.lines += this.lines;
            folder.rejected += this.rejected;
            if folder.first_rejected.is_none() {
                folder.first_rejected = this.first_rejected;
            }
            for part in this.parts {
                // A name, never a path: a list cannot point outside its folder.
                let plain = !part.file.is_empty()
                    && !part.file.contains(['/', '\\'])
                    && part.file != ".."
                    && !part.file.starts_with(['.', '_']);
                if !plain {
                    return Err(bad(format!(
                        "part {:?} is not a file name in this folder",
                        part.file
                    )));
                }
                if !parts_seen.insert(part.file.clone()) {
                    return Err(bad(format!(
                        "part {:?} is listed twice in this folder",
                        part.file
                    )));
                }
                let path = dir.join(&part.file);
                // A file of the folder itself: not a link to elsewhere.
                let regular = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
                if !regular {
                    return Err(bad(format!(
                        "lists part {:?}, which is missing (or not a plain file of the folder)",
                        part.file
                    )));
                }
                folder.parts.push(ShardPart {
                    path,
                    from: part.from,
                    records: part.records,
                });
            }
        }
        if let Some(m) = split {
            if lists.len() != m as usize {
                return Err(Error::input(
                    dir,
                    format!(
                        "holds {} of the {m} parts of a split partition: partition the other parts' files too",
                        lists.len()
                    ),
                ));
            }
        }
        Ok(folder)
    }

    /// `K/N`.
    pub fn shard_text(&self) -> String {
        format!("{}/{}", self.shard.0, self.shard.1)
    }
}

/// `K/N` with `K < N`.
fn parse_fraction(text: &str) -> Option<(u32, u32)> {
    let (k, n) = text.split_once('/')?;
    let (k, n): (u32, u32) = (k.parse().ok()?, n.parse().ok()?);
    (k < n).then_some((k, n))
}

/// The shard folders among inputs, with their K/N, so a run or a render
/// can check they are the ones it is for.
pub fn shard_folders(inputs: &[super::Input]) -> impl Iterator<Item = &ShardFolder> {
    inputs.iter().filter_map(|input| match input {
        super::Input::Shard(folder) => Some(&**folder),
        _ => None,
    })
}
