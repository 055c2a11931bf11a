//! `manifest.json`: what an invoice's attachments hold, the counts that
//! reconcile them with the input, exact totals, and each file's hash. It is
//! written last, so its presence means every attachment it lists is complete.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::output::sync_dir;

use crate::output::Attachment;
use crate::records::InputCounts;
use crate::report::Totals;

/// Version of the manifest's shape; bumped only for incompatible changes.
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest's file name in an invoice's folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The manifest a folder holds, read back as JSON; `None` when there is
/// none or it does not read.
pub fn read_back(dir: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(dir.join(MANIFEST_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The files a manifest lists as attachments.
pub fn listed_files(manifest: &serde_json::Value) -> Vec<String> {
    manifest["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["path"].as_str().map(str::to_string))
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub manifest_version: u32,
    /// `usage-report <version>`.
    pub generator: String,
    pub invoice: Option<String>,
    pub customer: String,
    pub profile: String,
    pub period: Period,
    pub time_zone: String,
    /// The customer's ISO 4217 currency, when known.
    pub currency: Option<String>,
    pub input: InputSection,
    pub totals: TotalsSection,
    pub attachments: Vec<Attachment>,
    pub warnings: Vec<String>,
    /// Set when the attachments show a seeded sample (`usage-report sample`),
    /// not the whole invoice.
    pub sample: Option<SampleSection>,
    /// What the attachments were made from, as `run --skip-unchanged`
    /// records it (see `pipeline::input_hash`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_hash: Option<String>,
    /// The profile as resolved for this invoice, in the shape of profile
    /// files with every key spelled out: the invoice can be rendered again
    /// from it (`usage-report rerender`) after the catalogue's profile was
    /// edited or retired.
    pub profile_document: serde_json::Value,
    /// The SHA-256 of `profile_document` as compact JSON: equal profiles,
    /// equal hashes.
    pub profile_sha256: String,
    /// How the attachments were rendered, besides the profile and the
    /// records: what `rerender` repeats.
    pub rendered: RenderedSection,
}

/// The choices an invoice's attachments were rendered with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenderedSection {
    /// `csv`, `xlsx`, `pdf`.
    pub formats: Vec<String>,
    /// `labels` or `keys`.
    pub header: String,
    pub sanitize: bool,
    /// `a4` or `letter`.
    pub paper: String,
    /// Whether the customer consented to itemised bills.
    pub itemisation: bool,
    /// The customer's name shown beside the id, when known.
    pub customer_name: Option<String>,
    /// `fail` or `skip`.
    pub on_bad_record: String,
    /// Repeated call ids dropped (`--dedupe`).
    pub dedupe: bool,
    /// Forwarded calls: `separate` (each leg a row) or `combined` (one row
    /// per call group).
    pub legs: String,
}

/// A sample's size: `rows` of the invoice's `of` records, drawn with `seed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SampleSection {
    /// The records asked for (`--rows`); `rows` may be more, so that every
    /// group appears.
    pub asked: u64,
    pub rows: u64,
    pub of: u64,
    pub seed: u64,
    /// The whole invoice's calls and total (exact), beside the sample's
    /// own totals in `totals`.
    pub whole_calls: u64,
    pub whole_total: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Period {
    /// First day billed.
    pub from: String,
    /// First day not billed.
    pub to: String,
}

/// The input the attachments were made from, and the counts that reconcile
/// with it: `records = in_scope + out_of_scope + rejected`.
#[derive(Clone, Debug, Serialize)]
pub struct InputSection {
    pub files: Vec<String>,
    #[serde(flatten)]
    pub counts: InputCounts,
    /// `rejects.csv` when records were skipped under `--on-bad-record skip`.
    pub rejects_file: Option<String>,
}

/// Exact totals; money as decimal strings at full precision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TotalsSection {
    pub calls: u64,
    pub duration: u64,
    pub billed_duration: u64,
    pub call_charge: String,
    pub transactions: u64,
    pub transaction_amount: String,
    pub total: String,
}

impl From<&Totals> for TotalsSection {
    fn from(t: &Totals) -> Self {
        TotalsSection {
            calls: t.calls,
            duration: t.duration,
            billed_duration: t.billed_duration,
            call_charge: t.call_charge.to_exact_string(2),
            transactions: t.transactions,
            transaction_amount: t.transaction_amount.to_exact_string(2),
            total: t.total().to_exact_string(2),
        }
    }
}

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a manifest always serialises");
        bytes.push(b'\n');
        bytes
    }
}

/// Where a retired manifest's files are listed until the render that
/// replaces it has removed those it does not write again.
const RETIRED_FILE: &str = ".manifest.retired";

/// Before an invoice's folder is written again: its previous manifest is
/// removed (and the removal made durable) before any new file is written,
/// so a manifest never lists files of another render. The files it listed
/// (attachments, a local rejects file) are kept in a list beside it until
/// [`remove_stale`] has removed those the new render does not write; a render
/// interrupted in between finds them there. Returns that list.
pub fn retire(dir: &Path) -> Result<Vec<String>> {
    let retired = dir.join(RETIRED_FILE);
    let mut listed: Vec<String> = match std::fs::read(&retired) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&retired, e)),
    };
    let path = dir.join(MANIFEST_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(listed),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let old: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let paths = old["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["path"].as_str())
        .chain(old["input"]["rejects_file"].as_str());
    for path in paths {
        if !listed.iter().any(|l| l == path) {
            listed.push(path.to_string());
        }
    }
    // The list is durable before the manifest that held it goes.
    let temp = dir.join(format!("{RETIRED_FILE}.{}.partial", std::process::id()));
    let json = serde_json::to_vec(&listed).expect("a list of paths serialises");
    std::fs::File::create(&temp)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, &json)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, &retired))
        .map_err(|e| Error::io(&retired, e))?;
    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)?;
    Ok(listed)
}

/// Removes the files a retired manifest listed that the new render did not
/// write (fewer formats, fewer split groups), folders they leave empty, and
/// the list itself; call it once every new file is in place, before the new
/// manifest. Names are compared as file systems compare them (a file the new
/// render wrote under another case is the same file). Only plain relative
/// paths inside the folder are touched.
pub fn remove_stale(dir: &Path, previous: &[String], current: &[&str]) {
    let current: std::collections::HashSet<String> =
        current.iter().map(|p| crate::output::name_key(p)).collect();
    for old in previous {
        let relative = Path::new(old);
        let plain = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if current.contains(&crate::output::name_key(old)) || !plain {
            continue;
        }
        let _ = std::fs::remove_file(dir.join(relative));
        // Folders of split groups left empty; remove_dir fails on the rest.
        for parent in relative.ancestors().skip(1) {
            if parent.as_os_str().is_empty() || std::fs::remove_dir(dir.join(parent)).is_err() {
                break;
            }
        }
    }
    let _ = std::fs::remove_file(dir.join(RETIRED_FILE));
}
