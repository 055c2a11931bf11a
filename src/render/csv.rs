//! CSV attachments: one RFC 4180 file per report, a header row and data rows
//! only (no subtotal rows, so a machine can re-add them). Values are exact.

use super::cells::{display_text, presentation, write_machine_text};
use super::{Format, HeaderStyle, RenderOptions, Renderer};
use crate::error::{Error, Result};
use crate::output::{AttachmentMeta, OutputDir};
use crate::report::{Cell, InvoiceReports, Report};

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

    fn write_report(
        &self,
        reports: &InvoiceReports<'_>,
        report: &Report,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64> {
        let name = self.file_name(report);
        let io = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(e) => Error::io(&name, e),
            other => Error::Usage(format!("{name}: {other:?}")),
        };
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        let zone = reports.invoice.zone_name();
        // Human CSV (labels) of a profile with a locale reads like the PDF:
        // local separators, currency, dates and h:mm:ss. Otherwise values
        // are exact and locale-free.
        let human = self.options.header == HeaderStyle::Labels && reports.profile.locale.is_some();
        let look = presentation(reports);
        for column in &report.columns {
            match (self.options.header, human) {
                (HeaderStyle::Labels, true) => w.write_field(column.display_label(zone)),
                (HeaderStyle::Labels, false) => w.write_field(column.label(zone)),
                (HeaderStyle::Keys, _) => w.write_field(column.key()),
            }
            .map_err(io)?;
        }
        w.write_record(None::<&[u8]>).map_err(io)?;
        let tz = reports.invoice.time_zone;
        let level = report.spec.level;
        let mut buf = String::with_capacity(64);
        let mut rows = 0u64;
        for group in &report.groups {
            for row in reports.rows(group) {
                for column in &report.columns {
                    buf.clear();
                    let cell = reports.cell(level, row, *column);
                    match cell {
                        Cell::Text(_) | Cell::Empty => write_machine_text(
                            &mut buf,
                            cell,
                            column.kind(),
                            tz,
                            self.options.sanitize,
                        ),
                        _ if human => buf.push_str(&display_text(cell, column.kind(), tz, &look)),
                        _ => write_machine_text(
                            &mut buf,
                            cell,
                            column.kind(),
                            tz,
                            self.options.sanitize,
                        ),
                    }
                    w.write_field(buf.as_bytes()).map_err(io)?;
                }
                w.write_record(None::<&[u8]>).map_err(io)?;
                rows += 1;
            }
        }
        w.flush().map_err(|e| Error::io(&name, e))?;
        Ok(rows)
    }
}

impl Renderer for CsvRenderer {
    fn format(&self) -> Format {
        Format::Csv
    }

    fn render(&self, reports: &InvoiceReports<'_>, out: &OutputDir) -> Result<()> {
        use rayon::prelude::*;
        reports.reports.par_iter().try_for_each(|report| {
            let meta = AttachmentMeta {
                file_name: self.file_name(report),
                format: Format::Csv.key(),
                level: Some(report.spec.level.key()),
                report: Some(report.spec.kind.key()),
            };
            out.attachment(meta, |w| self.write_report(reports, report, w))
        })
    }
}
