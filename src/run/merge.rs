//! `usage-report runs merge`: the `run.json` files of a run's shards as one
//! report, checked to reconcile first — every shard of one count present
//! once and finished, each having read the same input, no invoice twice —
//! so a pipeline that split a run over machines gets one answer to "was
//! everything rendered, and does it add up".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::report::{RunInput, RunReport, RunSummary, RUN_FILE};
use super::Shard;
use crate::error::{Error, Result};

/// Reads `DIR/run.json` of every shard, checks them, and returns the merged
/// report; paths in it (`folder`, `manifest`, `rejects_file`) are made
/// relative to `out`, where the caller writes it.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<RunReport> {
    if dirs.is_empty() {
        return Err(Error::Usage(
            "name the output folders of the shards to merge".into(),
        ));
    }
    let mut reports = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let path = dir.join(RUN_FILE);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let report: RunReport = serde_json::from_slice(&bytes)
            .map_err(|e| Error::input(&path, format!("is not a run.json: {e}")))?;
        if let Some(error) = &report.error {
            return Err(Error::input(
                &path,
                format!("the shard stopped before its end: {error}"),
            ));
        }
        if report.shard.count == 0 || report.shard.index >= report.shard.count {
            return Err(Error::input(
                &path,
                format!(
                    "shard {}/{} is not a shard: expected K/N with 0 <= K < N",
                    report.shard.index, report.shard.count
                ),
            ));
        }
        if !report.invoices_chosen.is_empty() || !report.customers_chosen.is_empty() {
            return Err(Error::input(
                &path,
                "the run was limited with --invoice or --customer: it is not a shard of the whole run",
            ));
        }
        reports.push((dir.as_path(), report));
    }
    let first = &reports[0].1;
    let count = first.shard.count;
    let mut seen = BTreeSet::new();
    for (dir, r) in &reports {
        let at = dir.display();
        if r.shard.count != count {
            return Err(mismatch(format!(
                "{at}: shard {}/{} of another split than {}/{count}",
                r.shard.index, r.shard.count, reports[0].1.shard.index
            )));
        }
        if !seen.insert(r.shard.index) {
            return Err(mismatch(format!(
                "{at}: shard {}/{count} is given twice",
                r.shard.index
            )));
        }
        if out == *dir
            || std::fs::canonicalize(out).ok() == std::fs::canonicalize(dir).ok() && out.exists()
        {
            return Err(Error::Usage(format!(
                "{at} is a shard's own folder: write the merged run.json elsewhere"
            )));
        }
        // Each shard may read its own copy of the input, at its own path.
        let names = |files: &[String]| -> Vec<String> {
            files
                .iter()
                .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f).to_string())
                .collect()
        };
        // Shards of a partition read only their own records, which add up;
        // the others each read every record.
        let own = first.input.own_customers_only;
        let same = names(&r.input.files) == names(&first.input.files)
            && r.input.lines == first.input.lines
            && r.input.own_customers_only == own
            && (own
                || r.input.records == first.input.records
                    && r.input.rejected_without_customer == first.input.rejected_without_customer)
            && r.catalogue == first.catalogue;
        if !same {
            return Err(mismatch(format!(
                "{at}: the shard read another catalogue or other input than {} ({} records of {:?}, against {} of {:?})",
                reports[0].0.display(),
                r.input.records,
                r.input.files,
                first.input.records,
                first.input.files
            )));
        }
        let parts = [r.input.in_scope, r.input.not_invoiced, r.input.rejected];
        let reconciles = parts.iter().try_fold(0u64, |sum, n| sum.checked_add(*n))
            == Some(r.input.records)
            && r.input.rejected >= r.input.rejected_without_customer;
        if !reconciles {
            return Err(mismatch(format!(
                "{at}: records {} != in_scope {} + not_invoiced {} + rejected {}",
                r.input.records, r.input.in_scope, r.input.not_invoiced, r.input.rejected
            )));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !seen.contains(k))
        .take(10)
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(mismatch(format!(
            "shard(s) {} missing: every shard of the split is needed",
            missing.join(", ")
        )));
    }

    let mut invoices = Vec::new();
    let mut ids = BTreeSet::new();
    let mut summary = RunSummary::default();
    // Every shard read every record: the records no customer can be told
    // of are rejected by each; the others only by the shard that owns the
    // customer (as are repeats dropped by --dedupe). Shards of a partition
    // read their own records: all their counts add up.
    let own = first.input.own_customers_only;
    let sum = |count: fn(&RunReport) -> u64| -> Result<u64> {
        reports.iter().try_fold(0u64, |total, (_, r)| {
            total
                .checked_add(count(r))
                .ok_or_else(|| mismatch("the shards' counts overflow".into()))
        })
    };
    let (records, unattributed) = if own {
        (
            sum(|r| r.input.records)?,
            sum(|r| r.input.rejected_without_customer)?,
        )
    } else {
        (first.input.records, first.input.rejected_without_customer)
    };
    let (mut in_scope, mut dropped, mut rejected) = (0u64, 0u64, unattributed);
    let overflow = || mismatch("the shards' counts overflow".into());
    let mut rejects_files = Vec::new();
    let mut not_invoiced_by_customer = BTreeMap::new();
    let mut without = BTreeSet::new();
    let mut stale = BTreeSet::new();
    for (dir, r) in &reports {
        let prefix = relative_to(dir, out);
        for mut o in r.invoices.clone() {
            if !ids.insert(o.invoice.clone()) {
                return Err(mismatch(format!(
                    "{}: invoice {} is in two shards",
                    dir.display(),
                    o.invoice
                )));
            }
            o.folder = o.folder.map(|f| join(&prefix, &f));
            o.manifest = o.manifest.map(|m| join(&prefix, &m));
            invoices.push(o);
        }
        rejected = rejected
            .checked_add(r.input.rejected - r.input.rejected_without_customer)
            .ok_or_else(overflow)?;
        if let Some(file) = &r.input.rejects_file {
            rejects_files.push(join(&prefix, file));
        }
        let add = |into: &mut u64, n: u64| -> Result<()> {
            *into = into.checked_add(n).ok_or_else(overflow)?;
            Ok(())
        };
        add(&mut summary.invoices, r.summary.invoices)?;
        add(&mut summary.rendered, r.summary.rendered)?;
        add(&mut summary.unchanged, r.summary.unchanged)?;
        add(&mut summary.no_profile, r.summary.no_profile)?;
        add(&mut summary.refused, r.summary.refused)?;
        add(&mut summary.failed, r.summary.failed)?;
        in_scope = in_scope
            .checked_add(r.input.in_scope)
            .ok_or_else(overflow)?;
        dropped = dropped
            .checked_add(r.input.duplicates_dropped)
            .ok_or_else(overflow)?;
        not_invoiced_by_customer.extend(r.input.not_invoiced_by_customer.clone());
        without.extend(r.customers_without_records.iter().cloned());
        stale.extend(r.stale_folders.iter().map(|f| join(&prefix, f)));
    }
    invoices.sort_by(|a, b| a.invoice.cmp(&b.invoice));
    let not_invoiced = records
        .checked_sub(in_scope.checked_add(rejected).ok_or_else(overflow)?)
        .ok_or_else(|| {
            mismatch(format!(
                "the shards hold {in_scope} records in scope and {rejected} rejected, more than the {records} read"
            ))
        })?;
    Ok(RunReport {
        run_version: first.run_version,
        generator: format!("usage-report {}", env!("CARGO_PKG_VERSION")),
        catalogue: first.catalogue.clone(),
        shard: Shard::default(),
        invoices_chosen: Vec::new(),
        customers_chosen: Vec::new(),
        input: RunInput {
            files: first.input.files.clone(),
            lines: first.input.lines,
            records,
            in_scope,
            not_invoiced,
            not_invoiced_by_customer,
            rejected,
            rejected_without_customer: unattributed,
            duplicates_dropped: dropped,
            rejects_file: None,
            rejects_files,
            own_customers_only: own,
        },
        summary,
        customers_without_records: without.into_iter().collect(),
        stale_folders: stale.into_iter().collect(),
        // Durable only if every shard's files were, and this one is.
        durable: crate::output::durable() && reports.iter().all(|(_, r)| r.durable),
        error: None,
        invoices,
    })
}

/// How to reach `dir` from `out`: `""` when they are one folder, the
/// rest of the path when `dir` is inside `out`, else `dir` itself.
fn relative_to(dir: &Path, out: &Path) -> String {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (dir, out) = (canonical(dir), canonical(out));
    match dir.strip_prefix(&out) {
        Ok(rest) => rest.to_string_lossy().replace('\\', "/"),
        Err(_) => dir.to_string_lossy().to_string(),
    }
}

fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{prefix}/{path}")
    }
}

/// The shards do not make one run: what the user gave does not fit.
fn mismatch(message: String) -> Error {
    Error::input("the shards", message)
}
