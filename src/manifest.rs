//! `manifest.json`: what an invoice's attachments hold, the counts that
//! reconcile them with the input, exact totals, and each file's hash. It is
//! written last, so its presence means every attachment it lists is complete.

use serde::Serialize;

use crate::output::Attachment;
use crate::records::InputCounts;
use crate::report::Totals;

/// Version of the manifest's shape; bumped only for incompatible changes.
pub const MANIFEST_VERSION: u32 = 1;

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
}

/// A sample's size: `rows` of the invoice's `of` records, drawn with `seed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SampleSection {
    pub rows: u64,
    pub of: u64,
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Period {
    /// First day billed.
    pub from: String,
    /// First day not billed.
    pub to: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct InputSection {
    pub files: Vec<String>,
    pub records: u64,
    pub in_scope: u64,
    pub out_of_scope: u64,
    pub rejected: u64,
    /// Of `rejected`, repeated calls dropped by `--dedupe`.
    pub duplicates_dropped: u64,
    /// `rejects.csv` when records were skipped under `--on-bad-record skip`.
    pub rejects_file: Option<String>,
}

impl InputSection {
    pub fn new(files: Vec<String>, counts: InputCounts, rejects_file: Option<String>) -> Self {
        InputSection {
            files,
            records: counts.records,
            in_scope: counts.in_scope,
            out_of_scope: counts.out_of_scope,
            rejected: counts.rejected,
            duplicates_dropped: counts.duplicates_dropped,
            rejects_file,
        }
    }
}

/// Exact totals; money as decimal strings at full precision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
