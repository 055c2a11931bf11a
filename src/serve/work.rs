//! What the service renders: one invoice (operators), a sample as a zip
//! (finance), and billing runs in the background, one at a time
//! (operators). Rendering is CPU-bound: it runs on the blocking pool (and
//! rayon's one pool under it), never on the runtime's threads.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::invoice::parse_day;
use crate::pipeline::{render, InvoiceJob, RenderJob, SampleRequest};
use crate::records::{BadRecordPolicy, Input};
use crate::render::{Format, RenderOptions};
use crate::run::catalog::{Catalog, Chosen};
use crate::run::progress::{Event, Reporter};
use crate::run::{invoice_folders, run, RunOptions};

/// Renders one invoice of the catalogue into `out/<its folder>`, as a run
/// would name it; `Err(Usage)` when the profile rules refuse it.
pub fn render_invoice(
    catalog_dir: &Path,
    inputs: &[Input],
    out: &Path,
    id: &str,
    formats: &[Format],
) -> Result<(String, Value)> {
    let catalog = Catalog::load(catalog_dir)?;
    let chosen = catalog.chosen(id, None)?;
    let folder = invoice_folders(&catalog)[id].clone();
    let value = render_entry(&chosen, chosen.profile, inputs, formats, &out.join(&folder))?;
    Ok((folder, value))
}

/// Renders an invoice of the catalogue with a profile (its own, or one
/// being edited) into `out_dir`; returns the manifest.
fn render_entry(
    chosen: &Chosen<'_>,
    profile: &crate::profile::Profile,
    inputs: &[Input],
    formats: &[Format],
    out_dir: &Path,
) -> Result<Value> {
    let manifest = render(&RenderJob {
        invoice: InvoiceJob {
            profile,
            invoice: &chosen.invoice,
            formats,
            options: RenderOptions::default(),
            itemisation: chosen.itemisation,
            sample: None,
            out_dir,
        },
        inputs,
        policy: BadRecordPolicy::Fail,
        dedupe: false,
    })?;
    Ok(serde_json::from_slice(&manifest.to_json()).expect("a manifest is JSON"))
}

/// One report of a preview: what it shows and how many rows.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewReport {
    pub level: String,
    pub report: String,
    /// The CSV attachment's header: the columns, as labelled.
    pub columns: Vec<String>,
    pub rows: u64,
}

/// A file to download: its bytes and name.
pub type Download = (Vec<u8>, String);

/// Renders an invoice with a profile that need not be saved — in a scratch
/// folder the caller never sees — and gives what its attachments hold: the
/// reports with their columns and rows (from the CSV form), and, when
/// `download` names a format, that format's file (or a zip of its files).
pub fn preview(
    catalog_dir: &Path,
    inputs: &[Input],
    profile: &crate::profile::Profile,
    id: &str,
    download: Option<Format>,
) -> Result<(Vec<PreviewReport>, Option<Download>)> {
    let catalog = Catalog::load(catalog_dir)?;
    let entry = catalog.entry(id)?;
    // The invoice as the catalogue has it, whatever profile it names: the
    // preview shows what the given profile would make of it.
    let chosen = Chosen {
        invoice: catalog.invoice(entry)?,
        profile,
        itemisation: catalog.customers[&entry.customer_id].itemisation,
        formats: None,
    };
    let scratch = crate::output::Scratch::new("preview")?;
    let dir = scratch.path();
    let formats = download.map_or(vec![Format::Csv], |f| vec![f]);
    let manifest = render_entry(&chosen, profile, inputs, &formats, dir)?;
    let files = crate::manifest::listed_files(&manifest);
    if let Some(format) = download {
        let file = match files.as_slice() {
            [one] if !one.ends_with(".csv") => {
                let bytes =
                    std::fs::read(dir.join(one)).map_err(|e| Error::io(dir.join(one), e))?;
                (bytes, one.clone())
            }
            _ => {
                let names: Vec<&str> = files.iter().map(String::as_str).collect();
                let zip = crate::output::deterministic_zip(dir, &names, "preview.zip")?;
                (zip, format!("{}.zip", format.key()))
            }
        };
        return Ok((Vec::new(), Some(file)));
    }
    let mut reports: Vec<PreviewReport> = Vec::new();
    for a in manifest["attachments"].as_array().into_iter().flatten() {
        let (Some(level), Some(report), Some(path)) = (
            a["level"].as_str(),
            a["report"].as_str(),
            a["path"].as_str(),
        ) else {
            continue;
        };
        let rows = a["rows"].as_u64().unwrap_or(0);
        if let Some(seen) = reports
            .iter_mut()
            .find(|r| r.level == level && r.report == report)
        {
            seen.rows += rows;
            continue;
        }
        let columns = csv::ReaderBuilder::new()
            .delimiter(profile.human_csv().0)
            .from_path(dir.join(path))
            .and_then(|mut r| r.headers().cloned())
            .map(|h| {
                h.iter()
                    .map(|c| c.trim_start_matches('\u{feff}').to_string())
                    .collect()
            })
            .unwrap_or_default();
        reports.push(PreviewReport {
            level: level.to_string(),
            report: report.to_string(),
            columns,
            rows,
        });
    }
    let order = |r: &PreviewReport| {
        (
            crate::level::Level::ALL
                .iter()
                .position(|l| l.key() == r.level),
            crate::level::ReportKind::ALL
                .iter()
                .position(|k| k.key() == r.report),
        )
    };
    reports.sort_by_key(order);
    Ok((reports, None))
}

/// A sample request as `POST /api/samples` sends it.
pub struct SampleAsk {
    pub customer: String,
    pub from: String,
    pub to: String,
    pub profile: String,
    pub rows: u64,
    pub seed: u64,
    pub formats: Vec<Format>,
}

/// Renders a sample (`usage-report sample`'s bytes) into a temporary folder
/// and returns its files as one deterministic zip.
pub fn sample_zip(catalog_dir: &Path, inputs: &[Input], ask: &SampleAsk) -> Result<Vec<u8>> {
    let catalog = Catalog::load(catalog_dir)?;
    let profile = catalog
        .profiles
        .get(&ask.profile)
        .ok_or_else(|| Error::Usage(format!("no profile is named {:?}", ask.profile)))?;
    let customer = catalog
        .customers
        .get(&ask.customer)
        .ok_or_else(|| Error::Usage(format!("no customer {:?}", ask.customer)))?;
    let from = parse_day("from", &ask.from)?;
    let to = parse_day("to", &ask.to)?;
    let invoice = customer.invoice(None, from, to)?;
    let scratch = crate::output::Scratch::new("sample")?;
    let dir = scratch.path();
    render(&RenderJob {
        invoice: InvoiceJob {
            profile,
            invoice: &invoice,
            formats: &ask.formats,
            options: RenderOptions::default(),
            itemisation: customer.itemisation,
            sample: Some(SampleRequest {
                rows: ask.rows,
                seed: ask.seed,
            }),
            out_dir: dir,
        },
        inputs,
        policy: BadRecordPolicy::Fail,
        dedupe: false,
    })?;
    zip_folder(dir)
}

/// Every file of a folder in one zip (see [`crate::output::deterministic_zip`]).
fn zip_folder(dir: &Path) -> Result<Vec<u8>> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::output::deterministic_zip(dir, &names, "sample.zip")
}

/// A billing run started through the API.
pub struct RunState {
    pub id: u64,
    pub records: AtomicU64,
    pub done: AtomicU64,
    pub invoices: AtomicU64,
    /// `None` while running; then the run.json, or the error.
    pub finished: Mutex<Option<std::result::Result<Value, String>>>,
}

impl RunState {
    pub fn view(&self) -> Value {
        let finished = self
            .finished
            .lock()
            .expect("no panics while holding the lock");
        let state = match &*finished {
            None => "running",
            Some(Ok(_)) => "finished",
            Some(Err(_)) => "failed",
        };
        json!({
            "id": self.id.to_string(),
            "state": state,
            "records_read": self.records.load(Ordering::Relaxed),
            "invoices_done": self.done.load(Ordering::Relaxed),
            "invoices": self.invoices.load(Ordering::Relaxed),
            "run": finished.as_ref().and_then(|r| r.as_ref().ok()),
            "error": finished.as_ref().and_then(|r| r.as_ref().err()),
        })
    }
}

impl Reporter for RunState {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Read { records, invoices } => {
                self.records.store(records, Ordering::Relaxed);
                self.invoices.store(invoices as u64, Ordering::Relaxed);
            }
            Event::Invoice { .. } => {
                self.done.fetch_add(1, Ordering::Relaxed);
            }
            Event::Reading { .. } | Event::Done { .. } => {}
        }
    }
}

/// Runs a billing run to completion into `out`, reporting on `state`.
pub fn billing_run(
    catalog_dir: &Path,
    inputs: &[Input],
    out: &Path,
    formats: Option<Vec<Format>>,
    state: Arc<RunState>,
) {
    let result = (|| {
        let catalog = Catalog::load(catalog_dir)?;
        let options = RunOptions {
            formats,
            ..RunOptions::default()
        };
        let report = run(&catalog, inputs, out, &options, state.as_ref())?;
        Ok::<_, Error>(serde_json::to_value(&report).expect("a run report is JSON"))
    })();
    *state
        .finished
        .lock()
        .expect("no panics while holding the lock") = Some(result.map_err(|e| e.to_string()));
}
