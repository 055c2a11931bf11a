//! Billing runs: every invoice of a catalogue rendered from one pass over the
//! record stream, in parallel, with the profile rules applied per invoice.
//!
//! Records are routed to their invoice by customer and period whatever their
//! order; each invoice is then rendered on its own (rayon), and one invoice's
//! failure never stops the others. `run.json`, written last, says what
//! happened to every invoice and reconciles the run with its input.

pub mod catalog;
pub mod progress;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::Serialize;

use self::catalog::{Catalog, InvoiceEntry, Resolution};
use self::progress::{Event, Reporter};
use crate::error::{Error, Result};
use crate::invoice::Invoice;
use crate::manifest::TotalsSection;
use crate::output::{safe_file_name, OutputDir};
use crate::pipeline::{
    check_duplicates, write_invoice, write_rejects, InvoiceInput, Rejects, MANIFEST_FILE,
    REJECTS_FILE,
};
use crate::profile::Profile;
use crate::records::{
    read_records, BadRecordPolicy, Dataset, Input, InputCounts, Projection, ReadOptions, Router,
};
use crate::render::{Format, RenderOptions};

/// Which part of a run this process renders: shard `index` of `count`
/// (0-based), chosen by a stable hash of the customer id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// Parses `K/N` with `0 <= K < N`.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || {
            Error::Usage(format!(
                "--shard {text:?}: expected K/N with 0 <= K < N, e.g. 0/4"
            ))
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard renders the customer's invoices. The hash is
    /// 64-bit FNV-1a of the customer id's UTF-8 bytes, modulo the shard
    /// count: fixed forever, so N machines agree with no coordination.
    pub fn owns(&self, customer_id: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in customer_id.as_bytes() {
            hash ^= *b as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        (hash % self.count as u64) as u32 == self.index
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Formats for every invoice; `None` uses each invoice's own `formats`,
    /// or CSV.
    pub formats: Option<Vec<Format>>,
    pub render: RenderOptions,
    pub policy: BadRecordPolicy,
    pub shard: Shard,
    /// Drop repeated call ids within each invoice.
    pub dedupe: bool,
}

/// What happened to one invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Rendered,
    NoProfile,
    Refused,
    Failed,
}

/// One invoice's line in run.json.
#[derive(Clone, Debug, Serialize)]
pub struct InvoiceOutcome {
    pub invoice: String,
    pub customer: String,
    pub status: Status,
    pub reason: Option<String>,
    pub profile: Option<String>,
    /// Records of this invoice's customer and period.
    pub in_scope: u64,
    /// The invoice's folder and manifest, relative to the run's folder.
    pub folder: Option<String>,
    pub manifest: Option<String>,
    pub totals: Option<TotalsSection>,
}

/// run.json.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub run_version: u32,
    pub generator: String,
    pub shard: Shard,
    pub input: RunInput,
    pub summary: RunSummary,
    pub invoices: Vec<InvoiceOutcome>,
}

/// The run's reconciliation with its input:
/// `records = in_scope + not_invoiced + rejected`.
#[derive(Clone, Debug, Serialize)]
pub struct RunInput {
    pub files: Vec<String>,
    pub records: u64,
    /// Records of the invoices of this shard (all statuses).
    pub in_scope: u64,
    /// Records of no invoice of this shard (other customers, periods or shards).
    pub not_invoiced: u64,
    pub rejected: u64,
    /// Of `rejected`, repeated calls dropped by `--dedupe`.
    pub duplicates_dropped: u64,
    pub rejects_file: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RunSummary {
    pub invoices: u64,
    pub rendered: u64,
    pub no_profile: u64,
    pub refused: u64,
    pub failed: u64,
}

pub const RUN_FILE: &str = "run.json";

/// Routes each record to the invoice of its customer whose period holds it.
struct CatalogRouter {
    invoices: Vec<Invoice>,
    by_customer: HashMap<String, Vec<usize>>,
}

impl Router for CatalogRouter {
    fn invoices(&self) -> usize {
        self.invoices.len()
    }

    fn route_call(&self, customer_id: &str, start: DateTime<Utc>) -> Option<usize> {
        let list = self.by_customer.get(customer_id)?;
        list.iter()
            .copied()
            .find(|i| self.invoices[*i].covers_instant(start))
    }

    fn route_transaction(&self, customer_id: &str, date: NaiveDate) -> Option<usize> {
        let list = self.by_customer.get(customer_id)?;
        list.iter()
            .copied()
            .find(|i| self.invoices[*i].covers_date(date))
    }
}

/// Folder names for invoices: safe on any file system, unique even when two
/// ids sanitise to the same name (later ones get `~2`, `~3` in id order).
fn folder_names(ids: &[&str]) -> Vec<String> {
    let mut used: HashMap<String, u32> = HashMap::new();
    ids.iter()
        .map(|id| {
            let base = safe_file_name(id);
            let key = base.to_lowercase();
            let n = used.entry(key).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}~{n}")
            }
        })
        .collect()
}

/// Runs a billing run into `out_dir`. Errors only when the run cannot start
/// or its own files cannot be written; each invoice's fate is in the report.
pub fn run(
    catalog: &Catalog,
    inputs: &[Input],
    out_dir: &Path,
    options: &RunOptions,
    reporter: &dyn Reporter,
) -> Result<RunReport> {
    let mut entries: Vec<&InvoiceEntry> = catalog
        .invoices
        .iter()
        .filter(|e| options.shard.owns(&e.customer_id))
        .collect();
    entries.sort_by(|a, b| a.invoice_id.cmp(&b.invoice_id));
    let resolutions: Vec<Resolution<'_>> = entries.iter().map(|e| catalog.resolve(e)).collect();
    let invoices: Vec<Invoice> = entries
        .iter()
        .map(|e| catalog.invoice(e))
        .collect::<Result<_>>()?;
    let mut by_customer: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_customer
            .entry(e.customer_id.clone())
            .or_default()
            .push(i);
    }
    let router = CatalogRouter {
        invoices,
        by_customer,
    };

    let mut projection = Projection::default();
    for r in &resolutions {
        if let Resolution::Use(p) = r {
            projection = projection.union(Projection::for_profile(p));
        }
    }
    let read_options = ReadOptions {
        projection,
        // Read everything; the policy decides below, per invoice.
        policy: BadRecordPolicy::Skip,
    };
    reporter.event(Event::Reading {
        files: inputs.len(),
    });
    let outcome = read_records(inputs, &router, &read_options)?;
    reporter.event(Event::Read {
        records: outcome.counts.records,
        invoices: entries.len(),
    });

    let out = OutputDir::create(out_dir)?;
    let files: Vec<String> = inputs.iter().map(Input::name).collect();
    let rejects_file = match options.policy {
        BadRecordPolicy::Skip => {
            write_rejects(&out, &outcome.rejects)?;
            Some(REJECTS_FILE.to_string())
        }
        BadRecordPolicy::Fail => None,
    };
    let mut first_reject: HashMap<&str, String> = HashMap::new();
    for r in &outcome.rejects {
        if let Some(c) = &r.customer {
            first_reject
                .entry(c.as_str())
                .or_insert_with(|| r.problem.to_string());
        }
    }
    let ids: Vec<&str> = entries.iter().map(|e| e.invoice_id.as_str()).collect();
    let folders = folder_names(&ids);
    let counts = outcome.counts;
    let datasets: Vec<Dataset> = outcome.datasets;
    let warnings = outcome.warnings;

    // Repeats are found (and with --dedupe dropped) per invoice, before
    // anything is counted, so run.json and the manifests agree.
    let mut datasets = datasets;
    let duplicates: Vec<(Vec<String>, u64)> = datasets
        .iter_mut()
        .map(|d| check_duplicates(d, options.dedupe))
        .collect();
    let dropped: u64 = duplicates.iter().map(|(_, n)| n).sum();
    let mut counts = counts;
    counts.rejected += dropped;
    counts.duplicates_dropped += dropped;

    let job = |(i, data): (usize, Dataset)| -> InvoiceOutcome {
        let entry = entries[i];
        let invoice = &router.invoices[i];
        let in_scope = data.in_scope();
        let mut result = InvoiceOutcome {
            invoice: entry.invoice_id.clone(),
            customer: entry.customer_id.clone(),
            status: Status::Rendered,
            reason: None,
            profile: None,
            in_scope,
            folder: None,
            manifest: None,
            totals: None,
        };
        let profile: &Profile = match &resolutions[i] {
            Resolution::NoProfile => {
                result.status = Status::NoProfile;
                result.reason = Some(format!(
                    "no usage attachment: neither invoice {} nor customer {} names a profile",
                    entry.invoice_id, entry.customer_id
                ));
                return result;
            }
            Resolution::Refused(reason) => {
                result.status = Status::Refused;
                result.reason = Some(reason.clone());
                return result;
            }
            Resolution::Use(p) => p,
        };
        result.profile = Some(profile.name.clone());
        if options.policy == BadRecordPolicy::Fail {
            if let Some(problem) = first_reject.get(entry.customer_id.as_str()) {
                result.status = Status::Failed;
                result.reason = Some(format!(
                    "a record of customer {} is invalid: {problem}",
                    entry.customer_id
                ));
                return result;
            }
        }
        let formats: Vec<Format> = options
            .formats
            .clone()
            .or_else(|| entry.formats.clone())
            .unwrap_or_else(|| vec![Format::Csv]);
        let input = InvoiceInput {
            files: files.clone(),
            data: &data,
            counts: InputCounts {
                records: counts.records,
                in_scope,
                out_of_scope: counts.records - in_scope - counts.rejected,
                rejected: counts.rejected,
                duplicates_dropped: counts.duplicates_dropped,
            },
            rejects: match &rejects_file {
                Some(name) => Rejects::Elsewhere(format!("../{name}")),
                None => Rejects::None,
            },
            warnings: warnings.iter().chain(&duplicates[i].0).cloned().collect(),
        };
        let folder = &folders[i];
        match write_invoice(
            profile,
            invoice,
            &input,
            &formats,
            &options.render,
            &out_dir.join(folder),
        ) {
            Ok(manifest) => {
                result.folder = Some(folder.clone());
                result.manifest = Some(format!("{folder}/{MANIFEST_FILE}"));
                result.totals = Some(manifest.totals);
            }
            Err(e) => {
                result.status = Status::Failed;
                result.reason = Some(e.to_string());
            }
        }
        drop(data);
        result
    };
    let outcomes: Vec<InvoiceOutcome> = datasets
        .into_iter()
        .enumerate()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|item| {
            let outcome = job(item);
            reporter.event(Event::Invoice {
                invoice: &outcome.invoice,
                status: outcome.status,
                records: outcome.in_scope,
                reason: outcome.reason.as_deref(),
            });
            outcome
        })
        .collect();

    let mut summary = RunSummary {
        invoices: outcomes.len() as u64,
        ..RunSummary::default()
    };
    for o in &outcomes {
        match o.status {
            Status::Rendered => summary.rendered += 1,
            Status::NoProfile => summary.no_profile += 1,
            Status::Refused => summary.refused += 1,
            Status::Failed => summary.failed += 1,
        }
    }
    let in_scope: u64 = outcomes.iter().map(|o| o.in_scope).sum();
    let report = RunReport {
        run_version: 1,
        generator: format!("usage-report {}", env!("CARGO_PKG_VERSION")),
        shard: options.shard,
        input: RunInput {
            files,
            records: counts.records,
            in_scope,
            not_invoiced: counts.records - in_scope - counts.rejected,
            rejected: counts.rejected,
            duplicates_dropped: counts.duplicates_dropped,
            rejects_file,
        },
        summary,
        invoices: outcomes,
    };
    let mut json = serde_json::to_vec_pretty(&report).expect("a run report always serialises");
    json.push(b'\n');
    out.file(RUN_FILE, |w| {
        w.write_all(&json).map_err(|e| Error::io(RUN_FILE, e))
    })?;
    reporter.event(Event::Done {
        summary: &report.summary,
    });
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_customers() {
        let customers: Vec<String> = (0..1000).map(|i| format!("CUST{i:05}")).collect();
        let shards: Vec<Shard> = (0..4).map(|i| Shard { index: i, count: 4 }).collect();
        for c in &customers {
            assert_eq!(shards.iter().filter(|s| s.owns(c)).count(), 1);
        }
        let sizes: Vec<usize> = shards
            .iter()
            .map(|s| customers.iter().filter(|c| s.owns(c)).count())
            .collect();
        assert!(sizes.iter().all(|n| *n > 200), "{sizes:?}");
        assert!(Shard::parse("4/4").is_err() && Shard::parse("x").is_err());
        assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
    }

    #[test]
    fn folder_names_are_safe_and_unique() {
        assert_eq!(
            folder_names(&["A/1", "A:1", "a_1", "B"]),
            ["A_1", "A_1~2", "a_1~3", "B"]
        );
    }
}
