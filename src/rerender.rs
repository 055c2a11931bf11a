//! `usage-report rerender`: an invoice rendered again from its own
//! manifest — the profile as it was resolved then (`profile_document`,
//! checked against `profile_sha256`), the invoice, period, zone, currency,
//! formats and options it recorded — so an attachment can be reproduced
//! years later, after the catalogue's profile was edited or retired. The
//! same records give byte-identical attachments; other records give the
//! changes of the totals, named.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::invoice::{check_currency, parse_day, parse_time_zone, Invoice};
use crate::manifest::{Manifest, TotalsSection};
use crate::pipeline::{render, InvoiceJob, RenderJob, SampleRequest};
use crate::profile::Profile;
use crate::records::{BadRecordPolicy, Input};
use crate::render::{Format, HeaderStyle, Paper, RenderOptions};

/// What a rerender made: the new manifest, the totals that differ from the
/// old one's, in words ("calls: 20 → 21"), and the attachments whose bytes
/// differ from those the old manifest lists (new, changed or no longer
/// written); both empty when the render is the same.
pub struct Rerendered {
    pub manifest: Manifest,
    pub changed: Vec<String>,
    pub attachments_changed: Vec<String>,
}

/// Renders the invoice of the manifest at `manifest_path` again from
/// `inputs` into `out_dir` (never the manifest's own folder: its archived
/// attachments are what the render is compared with).
pub fn rerender(manifest_path: &Path, inputs: &[Input], out_dir: &Path) -> Result<Rerendered> {
    let folder = match manifest_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let (Ok(a), Ok(b)) = (folder.canonicalize(), out_dir.canonicalize()) {
        if a == b {
            return Err(Error::Usage(format!(
                "--out {}: the manifest's own folder; render again into another folder",
                out_dir.display()
            )));
        }
    }
    let bytes = std::fs::read(manifest_path).map_err(|e| Error::io(manifest_path, e))?;
    let old: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{}: not a manifest (not JSON: {e})",
            manifest_path.display()
        ))
    })?;
    // Keys are looked up as `a/b` and named as `a.b`.
    let at = |key: &str, reason: &str| {
        Error::Usage(format!(
            "{}: {}: {reason}",
            manifest_path.display(),
            key.replace('/', ".")
        ))
    };
    let text = |key: &str| -> Result<String> {
        pointer(&old, key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| at(key, "missing or not text"))
    };
    let flag = |key: &str| -> Result<bool> {
        pointer(&old, key)
            .and_then(Value::as_bool)
            .ok_or_else(|| at(key, "missing or not true/false"))
    };
    let optional = |key: &str| {
        pointer(&old, key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };

    // The profile as it was, unless the manifest was edited since.
    let document = pointer(&old, "profile_document").ok_or_else(|| {
        at(
            "profile_document",
            "missing: the manifest was written before usage-report kept the profile with each invoice",
        )
    })?;
    let compact = serde_json::to_vec(document).expect("JSON serialises");
    let recorded = text("profile_sha256")?;
    if Profile::document_sha256(document) != recorded {
        return Err(at(
            "profile_document",
            "does not hash to the manifest's profile_sha256 (the manifest was edited)",
        ));
    }
    let source = format!("{} profile_document", manifest_path.display());
    let profile = Profile::parse(
        std::str::from_utf8(&compact).expect("JSON is UTF-8"),
        true,
        &source,
    )?;

    let zone = text("time_zone")?;
    let tz = parse_time_zone(&zone).map_err(|reason| at("time_zone", &reason))?;
    let currency = match optional("currency") {
        Some(code) => {
            check_currency(&code).map_err(|reason| at("currency", &reason))?;
            Some(code)
        }
        None => None,
    };
    let invoice = Invoice::new(
        optional("invoice"),
        text("customer")?,
        parse_day("period.from", &text("period/from")?)?,
        parse_day("period.to", &text("period/to")?)?,
        tz,
    )?
    .with_currency(currency)
    .with_customer_name(optional("rendered/customer_name"));
    let mut formats: Vec<Format> = pointer(&old, "rendered/formats")
        .and_then(Value::as_array)
        .ok_or_else(|| at("rendered/formats", "missing"))?
        .iter()
        .map(|f| {
            let key = f.as_str().unwrap_or_default();
            Format::ALL
                .into_iter()
                .find(|format| format.key() == key)
                .ok_or_else(|| at("rendered/formats", &format!("unknown format {key:?}")))
        })
        .collect::<Result<_>>()?;
    formats.sort();
    formats.dedup();
    let header = text("rendered/header")?;
    let paper = text("rendered/paper")?;
    let options = RenderOptions {
        header: HeaderStyle::ALL
            .into_iter()
            .find(|h| h.key() == header)
            .ok_or_else(|| at("rendered/header", "expected labels or keys"))?,
        paper: Paper::ALL
            .into_iter()
            .find(|p| p.key() == paper)
            .ok_or_else(|| at("rendered/paper", "expected a4 or letter"))?,
        sanitize: flag("rendered/sanitize")?,
        ..RenderOptions::default()
    };
    let policy = match text("rendered/on_bad_record")?.as_str() {
        "fail" => BadRecordPolicy::Fail,
        "skip" => BadRecordPolicy::Skip,
        _ => return Err(at("rendered/on_bad_record", "expected fail or skip")),
    };
    let sample = match pointer(&old, "sample") {
        None | Some(Value::Null) => None,
        Some(s) => Some(SampleRequest {
            rows: s["asked"]
                .as_u64()
                .ok_or_else(|| at("sample/asked", "missing"))?,
            seed: s["seed"]
                .as_u64()
                .ok_or_else(|| at("sample/seed", "missing"))?,
        }),
    };
    let manifest = render(&RenderJob {
        invoice: InvoiceJob {
            profile: &profile,
            invoice: &invoice,
            formats: &formats,
            options,
            itemisation: flag("rendered/itemisation")?,
            sample,
            out_dir,
        },
        inputs,
        policy,
        dedupe: flag("rendered/dedupe")?,
    })?;
    let before: Option<TotalsSection> = pointer(&old, "totals")
        .cloned()
        .and_then(|t| serde_json::from_value(t).ok());
    let changed = match before {
        Some(before) => totals_changed(&before, &manifest.totals),
        None => vec!["the old manifest has no totals to compare".to_string()],
    };
    let was = hashes(pointer(&old, "attachments").cloned().unwrap_or_default());
    let now = hashes(serde_json::to_value(&manifest.attachments).expect("attachments serialise"));
    let mut attachments_changed = Vec::new();
    let paths: std::collections::BTreeSet<&String> = was.keys().chain(now.keys()).collect();
    for path in paths {
        match (was.get(path), now.get(path)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => attachments_changed.push(format!("{path} differs")),
            (Some(_), None) => attachments_changed.push(format!("{path} is no longer written")),
            (None, _) => attachments_changed.push(format!("{path} is new")),
        }
    }
    Ok(Rerendered {
        manifest,
        changed,
        attachments_changed,
    })
}

/// A manifest's attachments by path, with their SHA-256.
fn hashes(attachments: Value) -> std::collections::BTreeMap<String, String> {
    attachments
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some((
                a["path"].as_str()?.to_string(),
                a["sha256"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A value at a `/`-separated path of a JSON object.
fn pointer<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    value.pointer(&format!("/{path}"))
}

/// The totals that differ, each as "name: before → after".
fn totals_changed(before: &TotalsSection, after: &TotalsSection) -> Vec<String> {
    let pairs = [
        ("calls", before.calls.to_string(), after.calls.to_string()),
        (
            "duration",
            before.duration.to_string(),
            after.duration.to_string(),
        ),
        (
            "billed_duration",
            before.billed_duration.to_string(),
            after.billed_duration.to_string(),
        ),
        (
            "call_charge",
            before.call_charge.clone(),
            after.call_charge.clone(),
        ),
        (
            "transactions",
            before.transactions.to_string(),
            after.transactions.to_string(),
        ),
        (
            "transaction_amount",
            before.transaction_amount.clone(),
            after.transaction_amount.clone(),
        ),
        ("total", before.total.clone(), after.total.clone()),
    ];
    pairs
        .into_iter()
        .filter(|(_, b, a)| b != a)
        .map(|(name, b, a)| format!("{name}: {b} \u{2192} {a}"))
        .collect()
}
