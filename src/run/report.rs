//! `run.json`: what happened to every invoice of a run, and the run's
//! reconciliation with its input. Written last.

use serde::{Deserialize, Serialize};

use super::Shard;
use crate::manifest::TotalsSection;

/// What happened to one invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Rendered,
    /// Left alone by `--skip-unchanged`: its attachments are those of the
    /// same input, already in place.
    Unchanged,
    NoProfile,
    Refused,
    Failed,
}

/// One invoice's line in run.json.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvoiceOutcome {
    pub invoice: String,
    pub customer: String,
    pub status: Status,
    pub reason: Option<String>,
    pub profile: Option<String>,
    /// The SHA-256 of the profile as resolved for the invoice (the
    /// manifest's `profile_sha256`): which invoices a profile change touches.
    #[serde(default)]
    pub profile_sha256: Option<String>,
    /// Records of this invoice's customer and period.
    pub in_scope: u64,
    /// The invoice's folder and manifest, relative to the run's folder.
    pub folder: Option<String>,
    pub manifest: Option<String>,
    pub totals: Option<TotalsSection>,
    /// For an invoice failed by a bad record: where it is and what is wrong.
    pub bad_record: Option<crate::error::RecordProblem>,
    /// Repeated calls of this invoice dropped by `--dedupe` (in the
    /// manifest; here only to reconcile the run's counts).
    #[serde(skip)]
    pub duplicates_dropped: u64,
}

/// run.json.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunReport {
    pub run_version: u32,
    pub generator: String,
    /// SHA-256 of the catalogue's files (profiles, customers.csv,
    /// invoices.csv) as the run read them: the shards of one run agree.
    #[serde(default)]
    pub catalogue: String,
    pub shard: Shard,
    /// The run was limited to these invoices (`--invoice`; empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoices_chosen: Vec<String>,
    /// The run was limited to these customers' invoices (`--customer`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customers_chosen: Vec<String>,
    pub input: RunInput,
    pub summary: RunSummary,
    /// Customers with invoices in this run of whom the input holds no record
    /// at all (in any period).
    #[serde(default)]
    pub customers_without_records: Vec<String>,
    /// Folders of the output whose manifest is of an invoice the catalogue
    /// no longer lists (left in place; remove them when they are archived).
    #[serde(default)]
    pub stale_folders: Vec<String>,
    /// Why the run stopped before its end (then no invoice is reported and
    /// the counts are zero); `null` for a run that finished.
    pub error: Option<String>,
    /// Whether the run made its files durable before renaming them into
    /// place (`false` under `--no-sync`).
    #[serde(default = "yes")]
    pub durable: bool,
    pub invoices: Vec<InvoiceOutcome>,
}

fn yes() -> bool {
    true
}

/// The run's reconciliation with its input:
/// `records = in_scope + not_invoiced + rejected`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunInput {
    pub files: Vec<String>,
    /// Physical lines of text in the CSV files (header included).
    pub lines: u64,
    pub records: u64,
    /// Records of the invoices of this shard (all statuses).
    pub in_scope: u64,
    /// Records of no invoice of this shard (other customers, periods or shards).
    pub not_invoiced: u64,
    /// Of `not_invoiced`, the records of this run's customers that no
    /// invoice's period holds, per customer (customers with none left out);
    /// the rest are other customers' records.
    #[serde(default)]
    pub not_invoiced_by_customer: std::collections::BTreeMap<String, u64>,
    pub rejected: u64,
    /// Of `rejected`, the records no customer can be told of (an empty
    /// customer id, a quoting mistake): every shard of a split rejects
    /// these; a bad record of a known customer is rejected only by the shard
    /// that owns it (the others count it as not invoiced).
    #[serde(default)]
    pub rejected_without_customer: u64,
    /// Of `rejected`, repeated calls dropped by `--dedupe`.
    pub duplicates_dropped: u64,
    pub rejects_file: Option<String>,
    /// In a merged run.json: every shard's `rejects.csv`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejects_files: Vec<String>,
    /// The sources sent only the records of this run's customers (a
    /// partition's shard folder, a database filtered by customer): the
    /// shards of a split read disjoint records, whose counts add up.
    #[serde(default)]
    pub own_customers_only: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunSummary {
    pub invoices: u64,
    pub rendered: u64,
    /// Left alone by `--skip-unchanged`.
    #[serde(default)]
    pub unchanged: u64,
    pub no_profile: u64,
    pub refused: u64,
    pub failed: u64,
}

pub const RUN_FILE: &str = "run.json";
