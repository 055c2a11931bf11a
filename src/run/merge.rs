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
            return Err(Error::Reconcile(format!(
                "{}: the shard stopped before its end: {error}",
                path.display()
            )));
        }
        reports.push((dir.as_path(), report));
    }
    let first = &reports[0].1;
    let count = first.shard.count;
    let mut seen = BTreeSet::new();
    for (dir, r) in &reports {
        let at = dir.display();
        if r.shard.count != count {
            return Err(Error::Reconcile(format!(
                "{at}: shard {}/{} of another split than {}/{count}",
                r.shard.index, r.shard.count, reports[0].1.shard.index
            )));
        }
        if !seen.insert(r.shard.index) {
            return Err(Error::Reconcile(format!(
                "{at}: shard {}/{count} is given twice",
                r.shard.index
            )));
        }
        let same = r.input.files == first.input.files
            && r.input.lines == first.input.lines
            && r.input.records == first.input.records
            && bad_records(&r.input) == bad_records(&first.input);
        if !same {
            return Err(Error::Reconcile(format!(
                "{at}: the shard read other input than {} ({} records of {:?}, against {} of {:?})",
                reports[0].0.display(),
                r.input.records,
                r.input.files,
                first.input.records,
                first.input.files
            )));
        }
        let reconciles =
            r.input.records == r.input.in_scope + r.input.not_invoiced + r.input.rejected;
        if !reconciles {
            return Err(Error::Reconcile(format!(
                "{at}: records {} != in_scope {} + not_invoiced {} + rejected {}",
                r.input.records, r.input.in_scope, r.input.not_invoiced, r.input.rejected
            )));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !seen.contains(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Reconcile(format!(
            "shard(s) {} missing: every shard of the split is needed",
            missing.join(", ")
        )));
    }

    let mut invoices = Vec::new();
    let mut ids = BTreeSet::new();
    let mut summary = RunSummary::default();
    let (mut in_scope, mut dropped) = (0, 0);
    let mut not_invoiced_by_customer = BTreeMap::new();
    let mut without = BTreeSet::new();
    let mut stale = BTreeSet::new();
    for (dir, r) in &reports {
        let prefix = relative_to(dir, out);
        for mut o in r.invoices.clone() {
            if !ids.insert(o.invoice.clone()) {
                return Err(Error::Reconcile(format!(
                    "{}: invoice {} is in two shards",
                    dir.display(),
                    o.invoice
                )));
            }
            o.folder = o.folder.map(|f| join(&prefix, &f));
            o.manifest = o.manifest.map(|m| join(&prefix, &m));
            invoices.push(o);
        }
        summary.invoices += r.summary.invoices;
        summary.rendered += r.summary.rendered;
        summary.unchanged += r.summary.unchanged;
        summary.no_profile += r.summary.no_profile;
        summary.refused += r.summary.refused;
        summary.failed += r.summary.failed;
        in_scope += r.input.in_scope;
        dropped += r.input.duplicates_dropped;
        not_invoiced_by_customer.extend(r.input.not_invoiced_by_customer.clone());
        without.extend(r.customers_without_records.iter().cloned());
        stale.extend(r.stale_folders.iter().map(|f| join(&prefix, f)));
    }
    invoices.sort_by(|a, b| a.invoice.cmp(&b.invoice));
    // Every shard read every record: the bad ones are the same in each;
    // repeated calls were dropped by the shard of their invoice only.
    let rejected = bad_records(&first.input) + dropped;
    let not_invoiced = first
        .input
        .records
        .checked_sub(in_scope + rejected)
        .ok_or_else(|| {
            Error::Reconcile(format!(
                "the shards hold {in_scope} records in scope and {rejected} rejected, more than the {} read",
                first.input.records
            ))
        })?;
    let rejects_file = reports.iter().find_map(|(dir, r)| {
        r.input
            .rejects_file
            .as_ref()
            .map(|f| join(&relative_to(dir, out), f))
    });
    Ok(RunReport {
        run_version: first.run_version,
        generator: format!("usage-report {}", env!("CARGO_PKG_VERSION")),
        shard: Shard::default(),
        input: RunInput {
            files: first.input.files.clone(),
            lines: first.input.lines,
            records: first.input.records,
            in_scope,
            not_invoiced,
            not_invoiced_by_customer,
            rejected,
            duplicates_dropped: dropped,
            rejects_file,
        },
        summary,
        customers_without_records: without.into_iter().collect(),
        stale_folders: stale.into_iter().collect(),
        error: None,
        invoices,
    })
}

/// Rejected records that were bad (not repeats dropped by `--dedupe`).
fn bad_records(input: &RunInput) -> u64 {
    input.rejected - input.duplicates_dropped
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
