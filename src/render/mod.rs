//! Renderers: one file per format behind one trait. Each walks the same
//! [`InvoiceReports`] model; none groups or sums. How a cell looks is decided
//! once, in [`cells`], from the column's kind.

pub mod cells;
mod csv;
mod pdf;
mod xlsx;

use crate::error::Result;
use crate::locale::{Msg, Words};
use crate::output::OutputDir;
use crate::report::InvoiceReports;

pub use self::csv::CsvRenderer;
pub use self::pdf::PdfRenderer;
pub use self::xlsx::XlsxRenderer;

/// An attachment format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Csv,
    Xlsx,
    Pdf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Csv, Format::Xlsx, Format::Pdf];

    pub fn key(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }

    /// Parses a comma list such as `csv` or `csv,xlsx`; order and repeats do
    /// not matter.
    pub fn parse_list(text: &str, separator: char) -> std::result::Result<Vec<Format>, String> {
        let known: Vec<&str> = Format::ALL.iter().map(|f| f.key()).collect();
        let mut formats = Vec::new();
        for part in text
            .split(separator)
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let format = Format::ALL
                .into_iter()
                .find(|f| f.key() == part)
                .ok_or_else(|| {
                    format!(
                        "unknown format {part:?}; expected a list of {} separated by '{separator}'",
                        known.join(", ")
                    )
                })?;
            formats.push(format);
        }
        if formats.is_empty() {
            return Err(format!(
                "names no format; expected a list of {} separated by '{separator}'",
                known.join(", ")
            ));
        }
        formats.sort();
        formats.dedup();
        Ok(formats)
    }

    /// The renderer for this format.
    pub fn renderer(self, options: &RenderOptions) -> Box<dyn Renderer> {
        match self {
            Format::Csv => Box::new(CsvRenderer::new(options.clone())),
            Format::Xlsx => Box::new(XlsxRenderer::new(options.clone())),
            Format::Pdf => Box::new(PdfRenderer::new(options.clone())),
        }
    }
}

/// Which header row CSV attachments carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeaderStyle {
    /// Human labels, e.g. "Start time (Europe/London)".
    #[default]
    Labels,
    /// The schema's stable keys, e.g. `start_time`.
    Keys,
}

/// PDF page size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Paper {
    #[default]
    A4,
    /// US Letter.
    Letter,
}

impl HeaderStyle {
    pub const ALL: [HeaderStyle; 2] = [HeaderStyle::Labels, HeaderStyle::Keys];

    /// The name `--header` takes.
    pub fn key(self) -> &'static str {
        match self {
            HeaderStyle::Labels => "labels",
            HeaderStyle::Keys => "keys",
        }
    }
}

impl Paper {
    pub const ALL: [Paper; 2] = [Paper::A4, Paper::Letter];

    /// The name `--paper` takes.
    pub fn key(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }
}

/// Options shared by every renderer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Set when the attachments show a sample, not the whole invoice: titles
    /// and file names say so.
    pub sample: Option<SampleLabel>,
    /// Set for the per-group files of `split`: the group shown, e.g.
    /// "Site London HQ"; titles name it.
    pub scope: Option<String>,
    pub header: HeaderStyle,
    /// Neutralise free text that a spreadsheet would read as a formula.
    pub sanitize: bool,
    pub paper: Paper,
    /// Where the itemised detail the PDF leaves out (`pdf_max_detail_rows`)
    /// is, in words — "the CSV and XLSX attachments" — or `None` when no
    /// other format of the invoice holds it.
    pub detail_elsewhere: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            sample: None,
            scope: None,
            header: HeaderStyle::Labels,
            sanitize: true,
            paper: Paper::A4,
            detail_elsewhere: None,
        }
    }
}

/// What a sample holds, for titles and file names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleLabel {
    pub rows: u64,
    pub of: u64,
    pub seed: u64,
    /// What the whole invoice holds, beside what the sample shows: its
    /// total (calls and transactions) and its calls.
    pub whole_total: crate::money::Decimal,
    pub whole_calls: u64,
}

impl RenderOptions {
    /// `name` as the attachment's file name: `sample_` in front for samples.
    pub fn file_name(&self, name: String) -> String {
        match self.sample {
            Some(_) => format!("sample_{name}"),
            None => name,
        }
    }

    /// The name of a one-per-invoice document, e.g. `INV-2026-10-0042_usage.pdf`.
    pub fn document_name(&self, reports: &InvoiceReports<'_>, extension: &str) -> String {
        let id = crate::output::safe_file_name(&reports.invoice.display_id());
        self.file_name(format!("{id}_usage.{extension}"))
    }

    /// A document's title and subject, as its properties give them (the
    /// window title of a PDF): "Usage report INV-1", "Usage of customer
    /// ACME Ltd (ACME)", in the document's words.
    pub fn document_title(&self, reports: &InvoiceReports<'_>) -> (String, String) {
        let words = reports.words();
        let invoice = reports.invoice;
        let title = format!("{} {}", words.get(Msg::UsageReport), invoice.display_id());
        let subject = words.fill(Msg::UsageOf, &[("customer", &invoice.customer_shown())]);
        (self.title(&title, words), subject)
    }

    /// A title as shown: the group of a per-group file after it, and
    /// "(sample)" for samples, in the document's words.
    pub fn title(&self, title: &str, words: Words) -> String {
        let mut t = title.to_string();
        if let Some(scope) = &self.scope {
            t.push_str(" — ");
            t.push_str(scope);
        }
        if self.sample.is_some() {
            t = words.fill(Msg::SampleTitle, &[("title", &t)]);
        }
        t
    }
}

/// Writes one format's attachments of an invoice into the output folder.
pub trait Renderer: Send + Sync {
    fn render(&self, reports: &InvoiceReports<'_>, out: &OutputDir) -> Result<()>;
}
