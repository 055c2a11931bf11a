//! What a profile change does to an invoice's attachments: the invoice
//! rendered with each profile, the real render into a scratch folder that
//! is removed after (the caller's folders are never written), and every
//! attachment compared — added, removed, changed (rows before and after)
//! or unchanged.

use serde::Serialize;

use crate::error::Result;
use crate::invoice::Invoice;
use crate::output::{Attachment, Scratch};
use crate::pipeline::{render, InvoiceJob, RenderJob};
use crate::profile::Profile;
use crate::records::{BadRecordPolicy, Input};
use crate::render::{Format, RenderOptions};

/// What becomes of one attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The attachment's path in the invoice's folder.
    pub path: String,
    /// `added`, `removed`, `changed` or `unchanged`.
    pub verdict: &'static str,
    pub rows_before: Option<u64>,
    pub rows_after: Option<u64>,
}

/// The invoice whose attachments are compared, and from what.
pub struct Case<'a> {
    pub invoice: &'a Invoice,
    pub inputs: &'a [Input],
    pub formats: &'a [Format],
    /// The customer consented to itemised bills.
    pub itemisation: bool,
}

/// Every attachment of the invoice under `old` and under `new`, in path
/// order.
pub fn compare(old: &Profile, new: &Profile, case: &Case<'_>) -> Result<Vec<Verdict>> {
    let before = attachments(old, case)?;
    let after = attachments(new, case)?;
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    Ok(paths
        .into_iter()
        .map(|path| {
            let (b, a) = (before.get(path), after.get(path));
            let verdict = match (b, a) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                (Some(b), Some(a)) if b.sha256 == a.sha256 => "unchanged",
                _ => "changed",
            };
            Verdict {
                path: path.clone(),
                verdict,
                rows_before: b.map(|x| x.rows),
                rows_after: a.map(|x| x.rows),
            }
        })
        .collect())
}

/// The attachments the invoice gets under `profile`, by path.
fn attachments(
    profile: &Profile,
    case: &Case<'_>,
) -> Result<std::collections::BTreeMap<String, Attachment>> {
    let scratch = Scratch::new("compare")?;
    let manifest = render(&RenderJob {
        invoice: InvoiceJob {
            profile,
            invoice: case.invoice,
            formats: case.formats,
            options: RenderOptions::default(),
            itemisation: case.itemisation,
            sample: None,
            out_dir: scratch.path(),
        },
        inputs: case.inputs,
        policy: BadRecordPolicy::Fail,
        dedupe: false,
    })?;
    Ok(manifest
        .attachments
        .into_iter()
        .map(|a| (a.path.clone(), a))
        .collect())
}
