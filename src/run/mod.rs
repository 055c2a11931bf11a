//! Billing runs: every invoice of a catalogue rendered from one pass over the
//! record stream, in parallel, with the profile rules applied per invoice.
//!
//! Records are routed to their invoice by customer and period whatever their
//! order; each invoice is then rendered on its own (rayon), and one invoice's
//! failure never stops the others. `run.json`, written last, says what
//! happened to every invoice and reconciles the run with its input.

pub mod catalog;
pub mod merge;
pub mod partition;
pub mod progress;
mod report;
mod router;
mod spill;

pub use self::report::{InvoiceOutcome, RunInput, RunReport, RunSummary, Status, RUN_FILE};

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use self::catalog::{Catalog, InvoiceEntry, Resolution};
use self::progress::{Event, Reporter};
use self::router::CatalogRouter;
use self::spill::{auto_partitions, bucket_of, partition_records};
use crate::error::{Error, Result};
use crate::invoice::Invoice;
use crate::output::{unique_names, OutputDir};
use crate::pipeline::{
    check_duplicates, write_invoice, write_rejects, InvoiceInput, InvoiceJob, Rejects,
    MANIFEST_FILE, REJECTS_FILE,
};
use crate::profile::Profile;
use crate::records::{
    read_records, BadRecordPolicy, CustomerCounts, Dataset, Input, InputCounts, ReadOptions,
    ReadOutcome,
};
use crate::render::{Format, RenderOptions};

/// Which part of a run this process renders: shard `index` of `count`
/// (0-based), chosen by a stable hash of the customer id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    pub fn parse(text: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("{text:?}: expected K/N with 0 <= K < N, e.g. 0/4");
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
        crate::hash::shard_of(customer_id, self.count) == self.index
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
    /// Partitions of the record stream on disk (1: all in memory); `None`
    /// chooses from the input's size.
    pub partitions: Option<u32>,
    /// Render only these invoices (empty: every invoice of the shard).
    pub invoices: Vec<String>,
    /// Render only the invoices of these customers (empty: every customer).
    pub customers: Vec<String>,
    /// Record each invoice's input hash in its manifest, and leave alone an
    /// invoice whose manifest already records the same (`unchanged`).
    pub skip_unchanged: bool,
}

/// What the passes over the input have found so far.
#[derive(Default)]
struct Tally {
    counts: InputCounts,
    rejects: Vec<crate::records::Reject>,
    warnings: Vec<String>,
    by_customer: HashMap<String, CustomerCounts>,
    first_reject: HashMap<String, crate::error::RecordProblem>,
    /// The first bad record whose customer cannot be told: it may belong
    /// to any invoice.
    orphan_reject: Option<crate::error::RecordProblem>,
    /// The customers of each call group's legs, from the first pass.
    leg_groups: crate::records::LegGroups,
    /// Whether the sources sent only the records of this run's customers.
    own_customers_only: Option<bool>,
}

impl Tally {
    /// Adds a pass's findings; `count_records` is false for a pass over
    /// partition files, whose records were counted when partitioned.
    fn add(&mut self, outcome: &mut ReadOutcome, count_records: bool) {
        if count_records {
            self.counts.lines += outcome.counts.lines;
            self.counts.records += outcome.counts.records;
            self.leg_groups
                .merge(std::mem::take(&mut outcome.leg_groups));
        }
        if let Some(own) = outcome.own_customers_only {
            self.own_customers_only = Some(self.own_customers_only.unwrap_or(true) && own);
        }
        if let Some(problem) = outcome.unplaced.take() {
            self.orphan_reject.get_or_insert(problem);
        }
        self.counts.out_of_scope += outcome.counts.out_of_scope;
        self.counts.rejected += outcome.counts.rejected;
        for r in &outcome.rejects {
            match &r.customer {
                Some(c) => {
                    self.first_reject
                        .entry(c.clone())
                        .or_insert_with(|| r.problem.clone());
                }
                None => {
                    self.orphan_reject.get_or_insert_with(|| r.problem.clone());
                }
            }
        }
        self.rejects.append(&mut outcome.rejects);
        for w in outcome.warnings.drain(..) {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        for (c, n) in outcome.by_customer.drain() {
            let t = self.by_customer.entry(c).or_default();
            t.records += n.records;
            t.rejected += n.rejected;
        }
    }
}

/// Everything invoice rendering needs that does not change during a run.
struct Plan<'a> {
    entries: Vec<&'a InvoiceEntry>,
    /// Each invoice's customer.
    customers: Vec<&'a catalog::Customer>,
    resolutions: Vec<Resolution<'a>>,
    router: CatalogRouter,
    folders: Vec<String>,
    files: Vec<String>,
}

/// Files of a run's folder besides the invoices' folders; no invoice folder
/// is ever given one of these names.
pub const RUN_FILES: [&str; 2] = [RUN_FILE, REJECTS_FILE];

/// Every invoice's folder in a run's folder, by invoice id: made from the id
/// ([`unique_names`]), decided over the whole catalogue, in id order, so a
/// shard names an invoice's folder as an unsharded run does.
pub fn invoice_folders(catalog: &Catalog) -> HashMap<&str, String> {
    let mut ids: Vec<&str> = catalog
        .invoices
        .iter()
        .map(|e| e.invoice_id.as_str())
        .collect();
    ids.sort_unstable();
    let folders = unique_names(&ids, &RUN_FILES);
    ids.into_iter().zip(folders).collect()
}

/// Removes an earlier run's `run.json` and `rejects.csv` from `out_dir`,
/// if any: done before anything else, so a run that stops — or never
/// starts — leaves no earlier answer behind.
pub fn forget_previous(out_dir: &Path) -> Result<()> {
    for file in RUN_FILES {
        match std::fs::remove_file(out_dir.join(file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(out_dir.join(file), e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The totals of the invoice already in `dir`, when its manifest records
/// `hash` and every attachment it lists is there with the size and SHA-256
/// the manifest gives: nothing to render again.
fn unchanged(dir: &Path, hash: &str) -> Option<crate::manifest::TotalsSection> {
    let manifest = crate::manifest::read_back(dir)?;
    if manifest["input_hash"].as_str() != Some(hash) {
        return None;
    }
    let intact = |a: &serde_json::Value| {
        let (Some(path), Some(sha256)) = (a["path"].as_str(), a["sha256"].as_str()) else {
            return false;
        };
        std::fs::read(dir.join(path)).is_ok_and(|bytes| crate::hash::sha256_hex(&bytes) == sha256)
    };
    let complete = manifest["attachments"].as_array()?.iter().all(intact);
    complete
        .then(|| serde_json::from_value(manifest["totals"].clone()).ok())
        .flatten()
}

/// Every invoice and customer a run is limited to exists in the catalogue
/// (an unknown one is a mistake to stop at, with the closest id).
fn check_chosen(catalog: &Catalog, options: &RunOptions) -> Result<()> {
    let mut problems = Vec::new();
    let invoices: Vec<&str> = catalog
        .invoices
        .iter()
        .map(|e| e.invoice_id.as_str())
        .collect();
    for id in &options.invoices {
        if !invoices.contains(&id.as_str()) {
            let hint = crate::error::did_you_mean(id, invoices.iter().copied())
                .map_or(String::new(), |c| format!("; did you mean {c:?}?"));
            problems.push(format!(
                "--invoice {id:?}: invoices.csv has no such invoice{hint}"
            ));
        }
    }
    for id in &options.customers {
        if !catalog.invoices.iter().any(|e| &e.customer_id == id) {
            // Customers with an invoice, in id order (a hint never names
            // the id itself, and is the same every time).
            let mut ids: Vec<&str> = catalog
                .invoices
                .iter()
                .map(|e| e.customer_id.as_str())
                .filter(|c| c != id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let hint = crate::error::did_you_mean(id, ids)
                .map_or(String::new(), |c| format!("; did you mean {c:?}?"));
            problems.push(format!(
                "--customer {id:?}: no invoice of invoices.csv is for this customer{hint}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(problems.join("; ")))
    }
}

/// run.json for a run that stopped before its end: the error, the files,
/// and no invoice (none is reported done; the folders written so far are
/// whole, each with its own manifest). Best effort: the error that stopped
/// the run is what the caller reports.
fn write_failed_report(out: &OutputDir, shard: Shard, files: &[String], error: &Error) {
    let report = RunReport {
        run_version: 1,
        generator: format!("usage-report {}", env!("CARGO_PKG_VERSION")),
        catalogue: String::new(),
        shard,
        invoices_chosen: Vec::new(),
        customers_chosen: Vec::new(),
        input: RunInput {
            files: files.to_vec(),
            lines: 0,
            records: 0,
            in_scope: 0,
            not_invoiced: 0,
            not_invoiced_by_customer: Default::default(),
            rejected: 0,
            rejected_without_customer: 0,
            duplicates_dropped: 0,
            rejects_file: None,
            rejects_files: Vec::new(),
            own_customers_only: false,
        },
        summary: RunSummary::default(),
        customers_without_records: Vec::new(),
        stale_folders: Vec::new(),
        durable: crate::output::durable(),
        error: Some(error.to_string()),
        invoices: Vec::new(),
    };
    let mut json = serde_json::to_vec_pretty(&report).expect("a run report always serialises");
    json.push(b'\n');
    let _ = out.file(RUN_FILE, |w| {
        w.write_all(&json).map_err(|e| Error::io(RUN_FILE, e))
    });
}

/// SHA-256 of the catalogue's files as read, in a fixed order: profile
/// files by name, then customers.csv and invoices.csv.
fn catalogue_digest(catalog: &Catalog) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let files = catalog.profile_files.values().cloned().chain([
        catalog.dir.join("customers.csv"),
        catalog.dir.join("invoices.csv"),
    ]);
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_default();
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    crate::hash::hex(&hash.finalize())
}

/// Folders of the output holding the manifest of an invoice the catalogue
/// no longer lists: listed in run.json, never removed (a catalogue edited
/// by mistake must not delete archived attachments).
fn stale_folders(catalog: &Catalog, out_dir: &Path) -> Vec<String> {
    let known: std::collections::HashSet<&str> = catalog
        .invoices
        .iter()
        .map(|e| e.invoice_id.as_str())
        .collect();
    let mut stale: Vec<String> = std::fs::read_dir(out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let manifest = crate::manifest::read_back(&e.path())?;
            let invoice = manifest["invoice"].as_str()?;
            (!known.contains(invoice)).then(|| e.file_name().to_string_lossy().to_string())
        })
        .collect();
    stale.sort_unstable();
    stale
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
    forget_previous(out_dir)?;
    check_chosen(catalog, options)?;
    // A partition's shard folder holds only its shard's customers.
    let shard = options.shard;
    for folder in crate::records::shard_folders(inputs) {
        if folder.shard != (shard.index, shard.count) {
            return Err(Error::Usage(format!(
                "--records {}: the folder holds shard {} of a partition, and this run is shard {}/{}: run it with --shard {}",
                folder.dir.display(),
                folder.shard_text(),
                shard.index,
                shard.count,
                folder.shard_text()
            )));
        }
    }
    let mut entries: Vec<&InvoiceEntry> = catalog
        .invoices
        .iter()
        .filter(|e| options.shard.owns(&e.customer_id))
        .filter(|e| options.invoices.is_empty() || options.invoices.contains(&e.invoice_id))
        .filter(|e| options.customers.is_empty() || options.customers.contains(&e.customer_id))
        .collect();
    entries.sort_by(|a, b| a.invoice_id.cmp(&b.invoice_id));
    // Invoices a problem of their own catalogue row (or their customer's)
    // makes unrenderable fail with it; the others are rendered.
    let (broken, entries): (Vec<&InvoiceEntry>, Vec<&InvoiceEntry>) = entries
        .into_iter()
        .partition(|e| catalog.broken.contains_key(&e.invoice_id));
    let resolutions: Vec<Resolution<'_>> = entries.iter().map(|e| catalog.resolve(e)).collect();
    let invoices: Vec<Invoice> = entries
        .iter()
        .map(|e| catalog.invoice(e))
        .collect::<Result<_>>()?;
    let mut by_customer: rustc_hash::FxHashMap<String, Vec<usize>> = Default::default();
    for (i, e) in entries.iter().enumerate() {
        by_customer
            .entry(e.customer_id.clone())
            .or_default()
            .push(i);
    }
    let mut projection = crate::column::Projection::default();
    for r in &resolutions {
        if let Resolution::Use(p) = r {
            projection = projection.union(p.projection());
        }
    }
    let read_options = ReadOptions {
        projection,
        // Read everything; the policy decides per invoice.
        policy: BadRecordPolicy::Skip,
        by_customer: true,
        partition_files: false,
    };
    let folders = invoice_folders(catalog);
    let plan = Plan {
        customers: entries
            .iter()
            .map(|e| &catalog.customers[&e.customer_id])
            .collect(),
        folders: entries
            .iter()
            .map(|e| folders[e.invoice_id.as_str()].clone())
            .collect(),
        files: Input::names(inputs),
        router: CatalogRouter {
            invoices,
            by_customer,
        },
        entries,
        resolutions,
    };
    let out = OutputDir::create(out_dir)?;
    crate::output::sync_dir(out_dir)?;
    // From here the run has begun: whatever stops it, run.json says why.
    let result = (|| -> Result<RunReport> {
        let mut tally = Tally::default();
        let mut outcomes: Vec<Option<InvoiceOutcome>> = vec![None; plan.entries.len()];
        let partitions = options
            .partitions
            .unwrap_or_else(|| auto_partitions(inputs))
            .max(1);
        reporter.event(Event::Reading {
            files: inputs.len(),
        });
        // Records in memory (one batch of every invoice), or partitioned to
        // disk first (a batch per bucket, read when its turn comes).
        let spill = out_dir.join(".spill");
        let (mut in_memory, buckets) = if partitions == 1 {
            let mut outcome = read_records(inputs, &plan.router, &read_options)?;
            crate::fault::reached("read");
            tally.add(&mut outcome, true);
            let all: Vec<usize> = (0..plan.entries.len()).collect();
            (Some(outcome.datasets), vec![(all, Vec::new())])
        } else {
            let _ = std::fs::remove_dir_all(&spill);
            let mut partitioned =
                partition_records(inputs, &plan.router, &read_options, &spill, partitions)?;
            tally.add(&mut partitioned.outcome, true);
            let buckets = partitioned
                .parts
                .into_iter()
                .enumerate()
                .map(|(bucket, parts)| {
                    let mine: Vec<usize> = (0..plan.entries.len())
                        .filter(|i| {
                            bucket_of(&plan.entries[*i].customer_id, partitions) == bucket as u32
                        })
                        .collect();
                    (mine, parts)
                })
                .collect();
            (None, buckets)
        };
        reporter.event(Event::Read {
            records: tally.counts.records,
            invoices: plan.entries.len(),
        });
        let bucket_options = ReadOptions {
            partition_files: true,
            ..read_options
        };
        for (indices, parts) in buckets {
            let datasets = match in_memory.take() {
                Some(datasets) => datasets,
                None => {
                    let part_inputs: Vec<Input> =
                        parts.iter().map(|p| Input::Path(p.clone())).collect();
                    let mut outcome = read_records(&part_inputs, &plan.router, &bucket_options)?;
                    tally.add(&mut outcome, false);
                    outcome.datasets
                }
            };
            render_invoices(
                &plan,
                &indices,
                datasets,
                &mut tally,
                options,
                out_dir,
                &mut outcomes,
                reporter,
            );
            for p in parts {
                let _ = std::fs::remove_file(p);
            }
        }
        if partitions > 1 {
            let _ = std::fs::remove_dir_all(&spill);
        }
        let mut outcomes: Vec<InvoiceOutcome> = outcomes
            .into_iter()
            .map(|o| o.expect("every invoice is rendered once"))
            .collect();
        for entry in &broken {
            let mut reason = catalog.broken.get(&entry.invoice_id).cloned();
            if let Err(e) = retire_unrendered(&out_dir.join(&folders[entry.invoice_id.as_str()])) {
                reason = Some(format!("{}; {e}", reason.unwrap_or_default()));
            }
            let outcome = InvoiceOutcome {
                invoice: entry.invoice_id.clone(),
                customer: entry.customer_id.clone(),
                status: Status::Failed,
                reason,
                profile: None,
                profile_sha256: None,
                in_scope: 0,
                folder: None,
                manifest: None,
                totals: None,
                bad_record: None,
                duplicates_dropped: 0,
            };
            report_invoice(reporter, &outcome);
            outcomes.push(outcome);
        }
        outcomes.sort_by(|a, b| a.invoice.cmp(&b.invoice));
        // Rejects in input order, however the passes found them.
        let file_index = |name: &str| {
            plan.files
                .iter()
                .position(|f| f == name)
                .unwrap_or(usize::MAX)
        };
        tally
            .rejects
            .sort_by_key(|r| (file_index(&r.problem.file), r.problem.line));
        let rejects_file = if tally.rejects.is_empty() && options.policy == BadRecordPolicy::Fail {
            None
        } else {
            write_rejects(&out, &tally.rejects, options.render.sanitize)?;
            Some(REJECTS_FILE.to_string())
        };

        let mut summary = RunSummary {
            invoices: outcomes.len() as u64,
            ..RunSummary::default()
        };
        for o in &outcomes {
            match o.status {
                Status::Rendered => summary.rendered += 1,
                Status::Unchanged => summary.unchanged += 1,
                Status::NoProfile => summary.no_profile += 1,
                Status::Refused => summary.refused += 1,
                Status::Failed => summary.failed += 1,
            }
        }
        let in_scope: u64 = outcomes.iter().map(|o| o.in_scope).sum();
        // Invoiced customers the input never mentions: a mistyped id in the
        // catalogue, or records that did not arrive.
        let mut customers_without_records: Vec<String> = plan
            .entries
            .iter()
            .map(|e| e.customer_id.clone())
            .filter(|c| !tally.by_customer.contains_key(c))
            .collect();
        customers_without_records.sort_unstable();
        customers_without_records.dedup();
        let stale_folders = stale_folders(catalog, out_dir);
        let rejected_without_customer = tally
            .rejects
            .iter()
            .filter(|r| r.customer.is_none())
            .count() as u64;
        // Records of this run's customers that no invoice took (other
        // periods), per customer; the rest are other customers'.
        let mut not_invoiced_by_customer = std::collections::BTreeMap::new();
        for (customer, seen) in &tally.by_customer {
            let taken: u64 = outcomes
                .iter()
                .filter(|o| &o.customer == customer)
                .map(|o| o.in_scope + o.duplicates_dropped)
                .sum();
            let left = seen.records.saturating_sub(seen.rejected + taken);
            debug_assert_eq!(left, seen.records - seen.rejected - taken);
            if left > 0 {
                not_invoiced_by_customer.insert(customer.clone(), left);
            }
        }
        let counts = tally.counts;
        let report = RunReport {
            run_version: 1,
            generator: format!("usage-report {}", env!("CARGO_PKG_VERSION")),
            catalogue: catalogue_digest(catalog),
            shard: options.shard,
            invoices_chosen: options.invoices.clone(),
            customers_chosen: options.customers.clone(),
            input: RunInput {
                files: plan.files.clone(),
                lines: counts.lines,
                records: counts.records,
                in_scope,
                not_invoiced: counts.records - in_scope - counts.rejected,
                not_invoiced_by_customer,
                rejected: counts.rejected,
                rejected_without_customer,
                duplicates_dropped: counts.duplicates_dropped,
                rejects_file,
                rejects_files: Vec::new(),
                own_customers_only: tally.own_customers_only == Some(true),
            },
            summary,
            customers_without_records,
            stale_folders,
            durable: crate::output::durable(),
            error: None,
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
    })();
    if let Err(e) = &result {
        write_failed_report(&out, options.shard, &plan.files, e);
    }
    result
}

/// Retires the manifest in the folder of an invoice this run did not
/// render, if an earlier run left one: the folder must not look rendered.
fn retire_unrendered(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        crate::manifest::retire(dir)?;
    }
    Ok(())
}

/// Tells the reporter what happened to an invoice.
fn report_invoice(reporter: &dyn Reporter, outcome: &InvoiceOutcome) {
    reporter.event(Event::Invoice {
        invoice: &outcome.invoice,
        customer: &outcome.customer,
        folder: outcome.folder.as_deref(),
        status: outcome.status,
        records: outcome.in_scope,
        reason: outcome.reason.as_deref(),
        bad_record: outcome.bad_record.as_ref(),
    });
}

/// Renders the invoices `indices` (in parallel) from the datasets a read
/// produced, and records what happened to each.
#[allow(clippy::too_many_arguments)]
fn render_invoices(
    plan: &Plan<'_>,
    indices: &[usize],
    mut datasets: Vec<Dataset>,
    tally: &mut Tally,
    options: &RunOptions,
    out_dir: &Path,
    outcomes: &mut [Option<InvoiceOutcome>],
    reporter: &dyn Reporter,
) {
    // Repeats are found (and with --dedupe dropped) per invoice before
    // anything is counted, so run.json and the manifests agree.
    let mut items: Vec<(usize, Dataset, Vec<String>, u64)> = Vec::with_capacity(indices.len());
    for &i in indices {
        let mut data = std::mem::take(&mut datasets[i]);
        let (warnings, dropped) = check_duplicates(&mut data, options.dedupe);
        tally.counts.rejected += dropped;
        tally.counts.duplicates_dropped += dropped;
        items.push((i, data, warnings, dropped));
    }
    drop(datasets);
    let tally = &*tally;
    let results: Vec<(usize, InvoiceOutcome)> = items
        .into_par_iter()
        .map(|(i, data, duplicates, dropped)| {
            let mut outcome =
                render_one(plan, i, data, duplicates, dropped, tally, options, out_dir);
            if !matches!(outcome.status, Status::Rendered | Status::Unchanged) {
                if let Err(e) = retire_unrendered(&out_dir.join(&plan.folders[i])) {
                    outcome.status = Status::Failed;
                    outcome.reason = Some(e.to_string());
                }
            }
            report_invoice(reporter, &outcome);
            (i, outcome)
        })
        .collect();
    for (i, outcome) in results {
        outcomes[i] = Some(outcome);
    }
}

#[allow(clippy::too_many_arguments)]
fn render_one(
    plan: &Plan<'_>,
    i: usize,
    data: Dataset,
    duplicates: Vec<String>,
    dropped: u64,
    tally: &Tally,
    options: &RunOptions,
    out_dir: &Path,
) -> InvoiceOutcome {
    let entry = plan.entries[i];
    let invoice = &plan.router.invoices[i];
    let in_scope = data.in_scope();
    let mut result = InvoiceOutcome {
        invoice: entry.invoice_id.clone(),
        customer: entry.customer_id.clone(),
        status: Status::Rendered,
        reason: None,
        profile: None,
        profile_sha256: None,
        in_scope,
        folder: None,
        manifest: None,
        totals: None,
        bad_record: None,
        duplicates_dropped: dropped,
    };
    let profile: &Profile = match &plan.resolutions[i] {
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
    result.profile_sha256 = Some(profile.sha256());
    if options.policy == BadRecordPolicy::Fail {
        let reason = match (
            tally.first_reject.get(&entry.customer_id),
            &tally.orphan_reject,
        ) {
            (Some(problem), _) => Some(format!(
                "a record of customer {} is invalid: {problem}",
                entry.customer_id
            )),
            (None, Some(problem)) => Some(format!(
                "a record whose customer cannot be told is invalid, and may belong to this invoice: {problem}"
            )),
            (None, None) => None,
        };
        if let Some(reason) = reason {
            result.status = Status::Failed;
            result.reason = Some(reason);
            result.bad_record = tally
                .first_reject
                .get(&entry.customer_id)
                .or(tally.orphan_reject.as_ref())
                .cloned();
            return result;
        }
    }
    // A combined view needs each call group billed to this customer alone.
    let mut split_groups = Vec::new();
    if profile.legs == crate::profile::Legs::Combined {
        match crate::pipeline::check_call_groups(
            &tally.leg_groups,
            &entry.customer_id,
            options.policy,
        ) {
            Ok(warnings) => split_groups = warnings,
            Err(problem) => {
                result.status = Status::Failed;
                result.reason = Some(problem.to_string());
                result.bad_record = Some(problem);
                return result;
            }
        }
    }
    let formats: Vec<Format> = options
        .formats
        .clone()
        .or_else(|| entry.formats.clone())
        .unwrap_or_else(|| vec![Format::Csv]);
    // The invoice's manifest counts the records of its customer.
    let seen = tally
        .by_customer
        .get(&entry.customer_id)
        .copied()
        .unwrap_or_default();
    let rejected = seen.rejected + dropped;
    let input = InvoiceInput {
        files: plan.files.clone(),
        counts: InputCounts {
            lines: tally.counts.lines,
            records: seen.records,
            in_scope,
            out_of_scope: seen.records - in_scope - rejected,
            rejected,
            duplicates_dropped: dropped,
        },
        rejects: if seen.rejected > 0 || options.policy == BadRecordPolicy::Skip {
            Rejects::Elsewhere(format!("../{REJECTS_FILE}"))
        } else {
            Rejects::None
        },
        warnings: tally
            .warnings
            .iter()
            .chain(&duplicates)
            .chain(&split_groups)
            .cloned()
            .collect(),
        input_hash: None,
        dedupe: options.dedupe,
    };
    let folder = &plan.folders[i];
    let job = InvoiceJob {
        profile,
        invoice,
        formats: &formats,
        options: options.render.clone(),
        itemisation: plan.customers[i].itemisation,
        sample: None,
        out_dir: &out_dir.join(folder),
    };
    let mut input = input;
    if options.skip_unchanged {
        let hash = crate::pipeline::input_hash(&job, &data, &input);
        if let Some(totals) = unchanged(job.out_dir, &hash) {
            result.status = Status::Unchanged;
            result.folder = Some(folder.clone());
            result.manifest = Some(format!("{folder}/{MANIFEST_FILE}"));
            result.totals = Some(totals);
            return result;
        }
        input.input_hash = Some(hash);
    }
    match write_invoice(&job, data, input) {
        Ok(manifest) => {
            result.folder = Some(folder.clone());
            result.manifest = Some(format!("{folder}/{MANIFEST_FILE}"));
            result.totals = Some(manifest.totals);
        }
        Err(e) => {
            result.status = Status::Failed;
            result.reason = Some(e.to_string());
            // A record at fault (a call group that cannot be merged) is
            // named in run.json and the log, as a bad record read is.
            if let Error::Record(problem) = &e {
                result.bad_record = Some(problem.clone());
            }
            // The folder, only when the render left one.
            result.folder = out_dir.join(folder).is_dir().then(|| folder.clone());
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors the Spark job checks its own hash against.
    #[test]
    fn the_shard_hash_matches_the_vectors_shared_with_the_spark_job() {
        let vectors: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../integrations/spark/shard_vectors.json"))
                .unwrap();
        assert!(vectors.len() >= 10);
        for v in &vectors {
            let id = v["customer_id"].as_str().unwrap();
            let hash = crate::hash::fnv1a64(id.as_bytes());
            assert_eq!(format!("{hash:016x}"), v["fnv1a64"], "{id:?}");
            for (count, shard) in v["shards"].as_object().unwrap() {
                let count: u32 = count.parse().unwrap();
                assert_eq!(
                    crate::hash::shard_of(id, count),
                    shard.as_u64().unwrap() as u32,
                    "{id:?}"
                );
                let owner = Shard {
                    index: crate::hash::shard_of(id, count),
                    count,
                };
                assert!(owner.owns(id));
            }
        }
    }

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
            unique_names(&["A/1", "A:1", "a_1", "B"], &RUN_FILES),
            ["A_1", "A_1~2", "a_1~3", "B"]
        );
        // A literal `~2` keeps its name; the numbered one takes the next free.
        assert_eq!(
            unique_names(&["INV", "inv", "inv~2"], &RUN_FILES),
            ["INV", "inv~3", "inv~2"]
        );
        // Normalisation: NFC and NFD spellings of é are one name.
        assert_eq!(
            unique_names(&["caf\u{e9}", "cafe\u{301}", "CAF\u{c9}"], &[]),
            ["caf\u{e9}", "cafe\u{301}~2", "CAF\u{c9}~3"]
        );
        // Final and medial sigma are one letter to NTFS's upper-case table.
        assert_eq!(
            unique_names(&["\u{391}\u{3a3}", "\u{3b1}\u{3c3}"], &[]),
            ["\u{391}\u{3a3}", "\u{3b1}\u{3c3}~2"]
        );
        // The run's own files are never an invoice's folder.
        assert_eq!(
            unique_names(&["run.json", "REJECTS.csv", "run.json~2"], &RUN_FILES),
            ["run.json~3", "REJECTS.csv~2", "run.json~2"]
        );
    }
}
