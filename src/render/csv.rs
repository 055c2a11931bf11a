//! CSV attachments: one RFC 4180 file per report, a header row and data rows
//! only (no subtotal rows, so a machine can re-add them). Values are exact.
//!
//! Itemised calls dominate the output (every level lists every call), so
//! each call's fields are encoded once per invoice ([`EncodedCalls`]) and
//! each level's report copies them in its own order.

use chrono_tz::Tz;

use super::cells::{display_text, write_machine_text};
use super::{Format, HeaderStyle, RenderOptions, Renderer};
use crate::column::Column;
use crate::error::{Error, Result};
use crate::level::ReportKind;
use crate::locale::Presentation;
use crate::output::{AttachmentMeta, OutputDir};
use crate::report::{Cell, InvoiceReports, Report, Row};

pub struct CsvRenderer {
    options: RenderOptions,
}

impl CsvRenderer {
    pub fn new(options: RenderOptions) -> Self {
        CsvRenderer { options }
    }

    /// The file name of a report's CSV attachment, e.g. `site_calls.csv`
    /// (`sample_site_calls.csv` for a sample).
    pub fn file_name(&self, report: &Report) -> String {
        self.options.file_name(format!(
            "{}_{}.csv",
            report.spec.level.key(),
            report.spec.kind.key()
        ))
    }

    /// The invoice's machine CSV reports in memory — schema keys, exact
    /// values: the bytes `--header keys` writes — for a PDF to embed
    /// (`pdf_embed_csv`).
    pub fn machine_files(
        options: &RenderOptions,
        reports: &InvoiceReports<'_>,
    ) -> Result<Vec<CsvFile>> {
        let renderer = CsvRenderer::new(RenderOptions {
            header: HeaderStyle::Keys,
            ..options.clone()
        });
        let style = FieldStyle::new(&renderer.options, reports);
        let calls = EncodedCalls::new(reports, &style)?;
        reports
            .reports
            .iter()
            .map(|report| {
                let mut bytes = Vec::new();
                let rows =
                    renderer.write_report(reports, report, &style, calls.as_ref(), &mut bytes)?;
                Ok(CsvFile {
                    name: renderer.file_name(report),
                    level: report.spec.level.key(),
                    report: report.spec.kind.key(),
                    rows,
                    bytes,
                })
            })
            .collect()
    }

    fn write_report(
        &self,
        reports: &InvoiceReports<'_>,
        report: &Report,
        style: &FieldStyle,
        calls: Option<&EncodedCalls>,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64> {
        let name = self.file_name(report);
        let mut lines = Lines::new(out, &name, style.delimiter);
        if style.bom {
            lines.buf.extend_from_slice("\u{feff}".as_bytes());
            lines.record = lines.buf.len();
        }
        let zone = reports.invoice.zone_name();
        let words = style.look.words();
        for column in &report.columns {
            let label = match self.options.header {
                HeaderStyle::Labels => words.column(*column, zone, style.human),
                HeaderStyle::Keys => column.key().into(),
            };
            lines.field(label.as_bytes());
        }
        lines.end_record()?;
        // A calls report's row as runs of neighbouring encoded fields; in
        // the group without a key its key is written per row ("(no site)"
        // for people, empty in machine CSV).
        let calls = calls.filter(|_| report.spec.kind == ReportKind::Calls);
        let keyed: Option<Vec<Run>> = calls.map(|calls| calls.runs(&report.columns));
        let unkeyed: Option<Vec<Run>> = calls.map(|calls| {
            let (key, rest) = report.columns.split_first().expect("a report has its key");
            std::iter::once(Run::Column(*key))
                .chain(calls.runs(rest))
                .collect()
        });
        let level = report.spec.level;
        let mut text = String::with_capacity(64);
        let mut rows = 0u64;
        for group in &report.groups {
            let runs = match reports.key_text(level, group.key) {
                "" => &unkeyed,
                _ => &keyed,
            };
            for row in reports.rows(group) {
                match (&row, runs, calls) {
                    (Row::Call(index), Some(runs), Some(calls)) => {
                        for run in runs {
                            match *run {
                                Run::Encoded(first, last) => {
                                    lines.encoded(calls.fields(*index, first, last))
                                }
                                Run::Column(column) => {
                                    style.write(
                                        &mut text,
                                        reports.cell(level, row, column),
                                        column,
                                    );
                                    lines.field(text.as_bytes());
                                }
                            }
                        }
                    }
                    _ => {
                        for column in &report.columns {
                            style.write(&mut text, reports.cell(level, row, *column), *column);
                            lines.field(text.as_bytes());
                        }
                    }
                }
                lines.end_record()?;
                rows += 1;
            }
        }
        lines.finish()?;
        Ok(rows)
    }
}

/// A CSV report written to memory.
pub struct CsvFile {
    pub name: String,
    pub level: &'static str,
    pub report: &'static str,
    /// Data rows, as the manifest counts them.
    pub rows: u64,
    pub bytes: Vec<u8>,
}

/// How cells read in this invoice's CSV files.
struct FieldStyle {
    /// The header is for people (labels): groups without a key are named.
    labels: bool,
    /// Human CSV (labels) of a profile with a locale reads like the PDF:
    /// local separators, currency, dates and h:mm:ss. Otherwise values are
    /// exact and locale-free.
    human: bool,
    look: Presentation,
    tz: Tz,
    sanitize: bool,
    /// Between fields, and whether a UTF-8 byte order mark comes first:
    /// human CSV's (the profile's `human_csv`), machine CSV always `,` and
    /// none.
    delimiter: u8,
    bom: bool,
}

impl FieldStyle {
    fn new(options: &RenderOptions, reports: &InvoiceReports<'_>) -> FieldStyle {
        let labels = options.header == HeaderStyle::Labels;
        // Machine CSV (keys) is always comma-separated without a BOM.
        let (delimiter, bom) = match labels {
            true => reports.settings.human_csv,
            false => (b',', false),
        };
        FieldStyle {
            labels,
            human: labels && reports.settings.localised,
            delimiter,
            bom,
            look: reports.settings.look.clone(),
            tz: reports.invoice.time_zone,
            sanitize: options.sanitize,
        }
    }

    /// Whether text of `column` is written with a guard before it (see
    /// [`super::cells::needs_guard`]).
    fn guards(&self, text: &str, column: Column) -> bool {
        self.sanitize && super::cells::needs_guard(text, column.kind())
    }

    /// Replaces `out` with the text of a cell of `column`. Text is the same
    /// in both styles (sanitised when asked); values follow the style.
    fn write(&self, out: &mut String, cell: Cell<'_>, column: Column) {
        out.clear();
        // The engine's names in the document's words whenever the header
        // is for people; machine CSV has one fixed form (an empty key stays
        // empty, as the records have it).
        if let Cell::Label(label) = cell {
            match self.labels {
                true => out.push_str(&label.shown(self.look.words())),
                false => out.push_str(&label.machine()),
            }
            return;
        }
        let value = !matches!(cell, Cell::Text(_) | Cell::Empty);
        if self.human && value {
            out.push_str(&display_text(cell, column.kind(), self.tz, &self.look));
        } else {
            write_machine_text(out, cell, column.kind(), self.tz, self.sanitize);
        }
    }
}

/// The fields of every itemised call of an invoice, encoded once. Every
/// level's calls report shows the same cells of the same calls, only keyed
/// and ordered differently, so the reports copy these bytes instead of
/// formatting each call once per level. Calls are encoded in storage order
/// (in parallel, a chunk of calls per task).
struct EncodedCalls {
    /// The columns encoded, in the order of their fields per call.
    columns: Vec<Column>,
    chunks: Vec<EncodedChunk>,
}

/// [`EncodedCalls`] of up to `CHUNK_CALLS` consecutive calls.
struct EncodedChunk {
    bytes: Vec<u8>,
    /// The end of each field in `bytes`, `columns.len()` per call. A
    /// call's fields are separated by commas; calls follow each other
    /// directly.
    ends: Vec<u32>,
}

const CHUNK_CALLS: usize = 1024;

impl EncodedCalls {
    /// Encodes the columns of the invoice's calls reports, or `None` when it
    /// has none.
    fn new(reports: &InvoiceReports<'_>, style: &FieldStyle) -> Result<Option<EncodedCalls>> {
        use rayon::prelude::*;
        let mut columns: Vec<Column> = Vec::new();
        for report in reports
            .reports
            .iter()
            .filter(|r| r.spec.kind == ReportKind::Calls)
        {
            for column in &report.columns {
                // The customer is the same on every row; it stays per report.
                if *column != Column::CustomerId && !columns.contains(column) {
                    columns.push(*column);
                }
            }
        }
        if columns.is_empty() {
            return Ok(None);
        }
        let calls = reports.calls();
        let chunks = (0..calls.div_ceil(CHUNK_CALLS as u32))
            .into_par_iter()
            .map(|chunk| {
                let first = chunk * CHUNK_CALLS as u32;
                let ids = first..calls.min(first + CHUNK_CALLS as u32);
                let mut bytes = Vec::with_capacity(ids.len() * columns.len() * 12);
                let mut ends = Vec::with_capacity(ids.len() * columns.len());
                let mut text = String::with_capacity(64);
                for id in ids {
                    for (i, column) in columns.iter().enumerate() {
                        if i > 0 {
                            bytes.push(style.delimiter);
                        }
                        // Text as it stands goes straight in; values are
                        // written out first.
                        let field = match reports.call_cell(id, *column) {
                            Cell::Text(t) if !style.guards(t, *column) => t,
                            cell => {
                                style.write(&mut text, cell, *column);
                                &text
                            }
                        };
                        crate::csv_field::push_between(
                            &mut bytes,
                            field.as_bytes(),
                            style.delimiter,
                        );
                        ends.push(u32::try_from(bytes.len()).map_err(|_| {
                            Error::output(
                                reports.invoice.display_id(),
                                "the CSV",
                                format!("more than 4 GiB of text in {CHUNK_CALLS} calls"),
                            )
                        })?);
                    }
                }
                Ok(EncodedChunk { bytes, ends })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(EncodedCalls { columns, chunks }))
    }

    /// A report's columns as runs of neighbouring encoded fields (a
    /// site's calls: the site, then the fields before it, then those
    /// after), so a row is two or three copies.
    fn runs(&self, columns: &[Column]) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for column in columns {
            let slot = self.columns.iter().position(|c| c == column);
            match (slot, runs.last_mut()) {
                (Some(s), Some(Run::Encoded(_, last))) if *last + 1 == s => *last = s,
                (Some(s), _) => runs.push(Run::Encoded(s, s)),
                (None, _) => runs.push(Run::Column(*column)),
            }
        }
        runs
    }

    /// The encoded fields `first..=last` of the call at `index` in
    /// `Dataset::calls`, with the commas between them.
    fn fields(&self, index: u32, first: usize, last: usize) -> &[u8] {
        let index = index as usize;
        let chunk = &self.chunks[index / CHUNK_CALLS];
        let base = (index % CHUNK_CALLS) * self.columns.len();
        let start = match (first, base) {
            (0, 0) => 0,
            // A call's first field starts where the previous call ends.
            (0, _) => chunk.ends[base - 1] as usize,
            // Later fields start after their comma.
            _ => chunk.ends[base + first - 1] as usize + 1,
        };
        &chunk.bytes[start..chunk.ends[base + last] as usize]
    }
}

/// A stretch of a calls report's row.
enum Run {
    /// Encoded fields `first..=last`, side by side.
    Encoded(usize, usize),
    /// A column formatted per row (the customer, the same on every row).
    Column(Column),
}

/// CRLF-terminated records written to an attachment in large blocks.
struct Lines<'w> {
    out: &'w mut (dyn std::io::Write + Send),
    name: &'w str,
    buf: Vec<u8>,
    /// Where the current record starts in `buf`.
    record: usize,
    fields: usize,
    delimiter: u8,
}

const BLOCK: usize = 1 << 16;

impl<'w> Lines<'w> {
    fn new(out: &'w mut (dyn std::io::Write + Send), name: &'w str, delimiter: u8) -> Lines<'w> {
        Lines {
            out,
            name,
            buf: Vec::with_capacity(BLOCK + 4096),
            record: 0,
            fields: 0,
            delimiter,
        }
    }

    /// Appends a field from its text.
    fn field(&mut self, text: &[u8]) {
        self.separate();
        crate::csv_field::push_between(&mut self.buf, text, self.delimiter);
    }

    /// Appends a field already encoded by [`push_field`].
    fn encoded(&mut self, field: &[u8]) {
        self.separate();
        self.buf.extend_from_slice(field);
    }

    fn separate(&mut self) {
        if self.fields > 0 {
            self.buf.push(self.delimiter);
        }
        self.fields += 1;
    }

    fn end_record(&mut self) -> Result<()> {
        // A record of one empty field would read as a blank line.
        if self.buf.len() == self.record {
            self.buf.extend_from_slice(b"\"\"");
        }
        self.buf.extend_from_slice(b"\r\n");
        self.fields = 0;
        if self.buf.len() >= BLOCK {
            self.out
                .write_all(&self.buf)
                .map_err(|e| Error::io(self.name, e))?;
            self.buf.clear();
        }
        self.record = self.buf.len();
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.out
            .write_all(&self.buf)
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io(self.name, e))?;
        self.buf.clear();
        Ok(())
    }
}

impl Renderer for CsvRenderer {
    fn render(&self, reports: &InvoiceReports<'_>, out: &OutputDir) -> Result<()> {
        use rayon::prelude::*;
        let style = FieldStyle::new(&self.options, reports);
        let calls = EncodedCalls::new(reports, &style)?;
        reports.reports.par_iter().try_for_each(|report| {
            let meta = AttachmentMeta {
                file_name: self.file_name(report),
                format: Format::Csv.key(),
                level: Some(report.spec.level.key()),
                report: Some(report.spec.kind.key()),
            };
            out.attachment(meta, |w| {
                self.write_report(reports, report, &style, calls.as_ref(), w)
            })
        })
    }
}
