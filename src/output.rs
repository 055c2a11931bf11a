//! The output folder: every file is written to a temporary name in the target
//! folder, made durable (fsync) and renamed into place once complete, so a
//! reader (or a run killed half-way, or a power cut) sees either the whole
//! file or none. Attachments are hashed while they are written.
//!
//! A process may give up durability (`--no-sync`, [`set_durable`]): files
//! are still written to temporary names and renamed whole, but not made
//! durable first — the operating system writes them when it will, so a
//! power cut can leave a renamed file empty. For scratch runs, tmpfs, or
//! output copied elsewhere at once; the run's `run.json` says so.
//!
//! Waiting for the disk is taken off the rendering threads: an attachment's
//! fsync and rename run on a few committer threads while rendering goes on
//! (concurrent fsyncs also share the file system's journal commits). Any
//! other file of the folder — the manifest, last — is written only once
//! every attachment before it is in place, and its error, if any, is
//! reported then.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Whether files are made durable before they are renamed into place (and
/// folders after): on unless the process said otherwise.
static DURABLE: AtomicBool = AtomicBool::new(true);

/// Makes every later write of this process durable (the default) or not
/// (`--no-sync`).
pub fn set_durable(on: bool) {
    DURABLE.store(on, Ordering::Relaxed);
}

/// Whether this process makes its files durable.
pub fn durable() -> bool {
    DURABLE.load(Ordering::Relaxed)
}

/// Makes a written file durable, unless the process gave that up.
fn sync_file(file: &File) -> io::Result<()> {
    match durable() {
        true => file.sync_all(),
        false => Ok(()),
    }
}

/// Suffix of files being written; never an attachment.
const PARTIAL: &str = ".partial";

/// One attachment as listed in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// Path relative to the output folder.
    pub path: String,
    pub format: &'static str,
    /// The report's level, or `null` for a file holding several reports.
    pub level: Option<&'static str>,
    /// The report's type, or `null` for a file holding several reports.
    pub report: Option<&'static str>,
    /// Data rows (records or summary lines), not counting headers or totals.
    pub rows: u64,
    pub sha256: String,
    /// For the per-group files of `split`: the group's key.
    pub group: Option<String>,
    /// For the zip of `split_zip`: the files in it, each with its hash.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Attachment>,
}

/// What an attachment is, before it is written.
pub struct AttachmentMeta {
    pub file_name: String,
    pub format: &'static str,
    pub level: Option<&'static str>,
    pub report: Option<&'static str>,
}

/// A folder receiving an invoice's files.
pub struct OutputDir {
    dir: PathBuf,
    attachments: Mutex<Vec<Attachment>>,
    warnings: Mutex<Vec<String>>,
    pending: Arc<Pending>,
}

/// Attachments written but not yet durable and in place.
#[derive(Default)]
struct Pending {
    state: Mutex<PendingState>,
    done: Condvar,
}

#[derive(Default)]
struct PendingState {
    count: usize,
    /// The first commit that failed.
    error: Option<Error>,
}

/// A file written to its temporary name, to be made durable and renamed.
struct Commit {
    file: File,
    temp: PathBuf,
    target: PathBuf,
}

impl Commit {
    fn run(self) -> Result<()> {
        let at = |e: std::io::Error| Error::io(&self.target, e);
        let result = sync_file(&self.file)
            .and_then(|()| fs::rename(&self.temp, &self.target))
            .map_err(at);
        if result.is_err() {
            let _ = fs::remove_file(&self.temp);
        } else {
            crate::fault::reached("attachment");
        }
        result
    }
}

type CommitJob = Box<dyn FnOnce() + Send>;

/// Threads that only wait for the disk.
const COMMITTERS: usize = 4;
/// Commits queued at most; rendering waits beyond (bounds open files).
const QUEUED_COMMITS: usize = 64;

/// The committer threads' queue, started on first use; `None` if threads
/// cannot be started (commits then run where they are submitted).
fn committers() -> Option<&'static SyncSender<CommitJob>> {
    static QUEUE: OnceLock<Option<SyncSender<CommitJob>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (sender, receiver) = sync_channel::<CommitJob>(QUEUED_COMMITS);
            let receiver = Arc::new(Mutex::new(receiver));
            for i in 0..COMMITTERS {
                let receiver = Arc::clone(&receiver);
                std::thread::Builder::new()
                    .name(format!("usage-report-commit-{i}"))
                    .spawn(move || loop {
                        let job = receiver.lock().map(|r| r.recv());
                        match job {
                            Ok(Ok(job)) => job(),
                            _ => return,
                        }
                    })
                    .ok()?;
            }
            Some(sender)
        })
        .as_ref()
}

impl OutputDir {
    /// Creates the folder if needed and removes temporary files an earlier,
    /// interrupted write left behind (complete files are kept and rewritten).
    pub fn create(dir: &Path) -> Result<OutputDir> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(PARTIAL) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            attachments: Mutex::new(Vec::new()),
            warnings: Mutex::new(Vec::new()),
            pending: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes one attachment atomically; `write` returns its row count.
    pub fn attachment(
        &self,
        meta: AttachmentMeta,
        write: impl FnOnce(&mut (dyn Write + Send)) -> Result<u64>,
    ) -> Result<()> {
        let (rows, sha256) = self.write(&meta.file_name, write, true)?;
        self.attachments
            .lock()
            .expect("no panics while holding the lock")
            .push(Attachment {
                path: meta.file_name,
                format: meta.format,
                level: meta.level,
                report: meta.report,
                rows,
                sha256,
                group: None,
                entries: Vec::new(),
            });
        Ok(())
    }

    /// Records the files a zip attachment holds (see [`Attachment::entries`]).
    pub fn set_entries(&self, file_name: &str, entries: Vec<Attachment>) {
        let mut list = self
            .attachments
            .lock()
            .expect("no panics while holding the lock");
        if let Some(a) = list.iter_mut().find(|a| a.path == file_name) {
            a.entries = entries;
        }
    }

    /// Adds attachments written elsewhere (a sub-folder's), already hashed.
    pub fn adopt(&self, attachments: Vec<Attachment>) {
        self.attachments
            .lock()
            .expect("no panics while holding the lock")
            .extend(attachments);
    }

    /// Writes any file atomically, once every attachment before it is in
    /// place, and returns what `write` returned and the file's SHA-256.
    pub fn file<T>(
        &self,
        name: &str,
        write: impl FnOnce(&mut (dyn Write + Send)) -> Result<T>,
    ) -> Result<(T, String)> {
        self.committed()?;
        // The renames before it are durable before this file appears: after
        // a power cut a manifest never lists an attachment that is missing.
        // (Its own rename may be lost with it: the folder then reads as
        // incomplete, and a rerun completes it.)
        sync_dir(&self.dir)?;
        self.write(name, write, false)
    }

    /// Waits until every attachment written so far is durable and in place;
    /// the first that failed is the error.
    pub fn committed(&self) -> Result<()> {
        let mut state = self
            .pending
            .state
            .lock()
            .expect("no panics while holding the lock");
        while state.count > 0 {
            state = self
                .pending
                .done
                .wait(state)
                .expect("no panics while holding the lock");
        }
        match state.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes `name` to a temporary file, then makes it durable and renames
    /// it into place: here, or with `deferred` on a committer thread.
    fn write<T>(
        &self,
        name: &str,
        write: impl FnOnce(&mut (dyn Write + Send)) -> Result<T>,
        deferred: bool,
    ) -> Result<(T, String)> {
        let target = self.dir.join(name);
        let temp = self
            .dir
            .join(format!(".{name}.{}{PARTIAL}", std::process::id()));
        // Errors name the file the user asked for, with its folder.
        let at = |e: std::io::Error| Error::io(&target, e);
        let written = (|| {
            let file = File::create(&temp).map_err(at)?;
            let mut out = HashingWriter {
                inner: BufWriter::with_capacity(1 << 16, file),
                hasher: Sha256::new(),
            };
            let value = write(&mut out).map_err(|e| match e {
                Error::Io { path, source } if path.is_relative() => {
                    Error::io(self.dir.join(path), source)
                }
                other => other,
            })?;
            out.inner.flush().map_err(at)?;
            let file = out.inner.into_inner().map_err(|e| at(e.into_error()))?;
            Ok((value, crate::hash::hex(&out.hasher.finalize()), file))
        })();
        let (value, sha256, file) = match written {
            Ok(written) => written,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        };
        let commit = Commit { file, temp, target };
        match committers().filter(|_| deferred) {
            Some(queue) => {
                self.pending
                    .state
                    .lock()
                    .expect("no panics while holding the lock")
                    .count += 1;
                let pending = Arc::clone(&self.pending);
                let job: CommitJob = Box::new(move || {
                    let result = commit.run();
                    let mut state = pending
                        .state
                        .lock()
                        .expect("no panics while holding the lock");
                    state.count -= 1;
                    if let Err(e) = result {
                        state.error.get_or_insert(e);
                    }
                    pending.done.notify_all();
                });
                if let Err(unsent) = queue.send(job) {
                    // The committers are gone: commit here.
                    (unsent.0)();
                }
            }
            None => commit.run()?,
        }
        Ok((value, sha256))
    }

    /// Records a warning for the manifest (e.g. a cell cut to a format's limit).
    pub fn warn(&self, warning: String) {
        self.warnings
            .lock()
            .expect("no panics while holding the lock")
            .push(warning);
    }

    /// The warnings recorded, sorted (renderers run in parallel).
    pub fn warnings(&self) -> Vec<String> {
        let mut list = self
            .warnings
            .lock()
            .expect("no panics while holding the lock")
            .clone();
        list.sort();
        list
    }

    /// The attachments written so far, in path order (deterministic whatever
    /// order parallel renderers finished in).
    pub fn attachments(&self) -> Vec<Attachment> {
        let mut list = self
            .attachments
            .lock()
            .expect("no panics while holding the lock")
            .clone();
        list.sort_by(|a, b| a.path.cmp(&b.path));
        list
    }
}

impl Drop for OutputDir {
    /// No rename happens after the folder is let go (errors were reported
    /// by `file` or `committed`, or the invoice failed already).
    fn drop(&mut self) {
        let _ = self.committed();
    }
}

struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The files `paths` (relative to `dir`) in one zip named `name`: sorted,
/// deflated, with fixed times and permissions, so the same files give the
/// same bytes.
pub fn deterministic_zip(dir: &Path, paths: &[&str], name: &str) -> Result<Vec<u8>> {
    let zip_error = |e: zip::result::ZipError| Error::output(name, "the zip", e);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut paths = paths.to_vec();
    paths.sort_unstable();
    for path in paths {
        let bytes = fs::read(dir.join(path)).map_err(|e| Error::io(dir.join(path), e))?;
        zip.start_file(path, options).map_err(zip_error)?;
        zip.write_all(&bytes).map_err(|e| Error::io(name, e))?;
    }
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

/// Writes a whole file atomically outside an attachment folder (a
/// catalogue's profile or table, the users file): a temporary name beside
/// it, fsync, rename, then the folder fsynced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().to_string());
    let temp = dir.join(format!(".{name}.{}{PARTIAL}", std::process::id()));
    let written = File::create(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            sync_file(&f)
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(Error::io(path, e));
    }
    sync_dir(dir)
}

/// Makes the entries of a folder (renames, removals) durable (unless the
/// process gave that up).
pub fn sync_dir(dir: &Path) -> Result<()> {
    if !durable() {
        return Ok(());
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Safe, unique names for a list of raw names (ids, group keys): each made
/// safe ([`safe_file_name`]), and unique as file systems compare names —
/// ignoring case and Unicode normalisation ([`name_key`]), so a folder
/// copied to Windows or macOS cannot merge with another. The first of names
/// equal after that keeps it; the others are numbered `~2`, `~3`, … with
/// the first number free among *all* final names, including raw names that
/// end in `~2` themselves. No name equals one of `reserved` (the files of
/// the folder the names live in).
pub fn unique_names(raw: &[&str], reserved: &[&str]) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    let bases: Vec<String> = raw.iter().map(|r| safe_file_name(r)).collect();
    let keys: Vec<String> = bases.iter().map(|b| name_key(b)).collect();
    let reserved: HashSet<String> = reserved.iter().map(|r| name_key(r)).collect();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        if !reserved.contains(key) {
            first.entry(key).or_insert(i);
        }
    }
    let mut taken: HashSet<String> = reserved.iter().chain(&keys).cloned().collect();
    // Per name, the next number to try: many ids that clean up alike cost
    // one step each, not a search from ~2 every time.
    let mut next: HashMap<&str, u64> = HashMap::new();
    bases
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, (base, key))| {
            if first.get(key.as_str()) == Some(&i) {
                return base.clone();
            }
            let n = next.entry(key).or_insert(2);
            loop {
                let candidate = numbered(base, *n);
                *n += 1;
                if taken.insert(name_key(&candidate)) {
                    return candidate;
                }
            }
        })
        .collect()
}

/// How file systems compare a name: Unicode compatibility-normalised and
/// case-folded (macOS normalises, Windows and macOS ignore case). Folding
/// goes through upper case, so letters that differ only in lower case
/// (final and medial sigma) compare equal, as NTFS's upper-case table has
/// them; the key is a bit stricter than any one file system, never looser.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded = name
        .nfkc()
        .collect::<String>()
        .to_uppercase()
        .to_lowercase();
    folded.nfkc().collect()
}

/// `base~n`, with `base` cut so the whole stays within [`safe_file_name`]'s
/// length limit.
fn numbered(base: &str, n: u64) -> String {
    let suffix = format!("~{n}");
    let mut cut = base.len().min(MAX_NAME_BYTES - suffix.len());
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &base[..cut])
}

/// Longest file name made from data, in bytes.
const MAX_NAME_BYTES: usize = 100;

/// Turns data (an invoice id, a site name) into a file name that is safe on
/// every common file system and cannot leave its folder: path separators,
/// `..`, control characters and characters Windows forbids become `_`;
/// Windows device names get a `_` suffix; names are cut to 100 bytes.
pub fn safe_file_name(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    name = name
        .trim_matches(|c: char| c == ' ' || c == '.')
        .to_string();
    if name.is_empty() {
        name = "_".to_string();
    }
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    const RESERVED: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if RESERVED.contains(&stem.as_str()) {
        name.insert(stem.len(), '_');
    }
    if name.len() > MAX_NAME_BYTES {
        let mut cut = MAX_NAME_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

/// A fresh folder under the system's temporary folder,
/// `usage-report-KIND-…`, created here alone (creating fails on one that
/// exists, so two processes or threads never share one) and private to this
/// user, removed with everything in it when dropped.
pub struct Scratch {
    path: std::path::PathBuf,
}

impl Scratch {
    pub fn new(kind: &str) -> Result<Scratch> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("usage-report-{kind}-{}-{nanos:x}-{n}", std::process::id());
            let path = std::env::temp_dir().join(name);
            // Readable by this user alone: it may hold a customer's calls.
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&path) {
                Ok(()) => return Ok(Scratch { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_or_collide_with_devices() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name(".."), "_");
        assert_eq!(safe_file_name("/abs/path"), "_abs_path");
        assert_eq!(safe_file_name("a\\b\0c"), "a_b_c");
        assert_eq!(safe_file_name("CON"), "CON_");
        assert_eq!(safe_file_name("nul.txt"), "nul_.txt");
        assert_eq!(safe_file_name(&"é".repeat(80)).len(), 100);
        assert_eq!(safe_file_name("INV-2026/10 #7"), "INV-2026_10 #7");
    }

    #[test]
    fn files_appear_whole_with_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        let (n, sha) = out
            .file("a.txt", |w| {
                w.write_all(b"abc").map_err(|e| Error::io("a.txt", e))?;
                Ok(3)
            })
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.txt")]);
    }

    #[test]
    fn leftovers_of_an_interrupted_write_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".a.csv.123.partial"), b"half").unwrap();
        fs::write(dir.path().join("a.csv"), b"whole").unwrap();
        OutputDir::create(dir.path()).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.csv")]);
    }

    fn meta(name: &str) -> AttachmentMeta {
        AttachmentMeta {
            file_name: name.into(),
            format: "csv",
            level: None,
            report: None,
        }
    }

    #[test]
    fn attachments_are_in_place_before_the_next_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        for i in 0..20 {
            out.attachment(meta(&format!("{i}.csv")), |w| {
                w.write_all(b"x").map_err(|e| Error::io("x", e))?;
                Ok(1)
            })
            .unwrap();
        }
        out.file("manifest.json", |_| Ok(())).unwrap();
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 21, "{names:?}");
        assert!(names.iter().all(|n| !n.ends_with(PARTIAL)));
    }

    #[test]
    fn a_failed_commit_is_the_next_files_error() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the attachment should go: the rename fails.
        fs::create_dir(dir.path().join("a.csv")).unwrap();
        fs::write(dir.path().join("a.csv").join("keep"), b"").unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        out.attachment(meta("a.csv"), |_| Ok(0)).unwrap();
        let e = out.file("manifest.json", |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("a.csv"), "{e}");
        assert!(!dir.path().join("manifest.json").exists());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.csv")]);
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        let r: Result<((), String)> = out.file("b.txt", |w| {
            w.write_all(b"half").map_err(|e| Error::io("b.txt", e))?;
            Err(Error::Usage("stop".into()))
        });
        assert!(r.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
