//! XLSX attachments: one workbook per invoice, a sheet per report, written
//! with rust_xlsxwriter in constant-memory mode (rows stream to temporary
//! files, so memory stays flat however long a sheet is).
//!
//! Cells are typed: money, durations, timestamps and counts are numbers with
//! a number format (the exact value stored, not a rounded string); phone
//! numbers and ids are always text. Totals are numbers computed by the engine,
//! not formulas. Each sheet's data rows form one block under an autofilter,
//! with subtotals and the total below it, so sorting and filtering never mix
//! them; a report longer than a sheet continues on "… (2)" sheets with the
//! header repeated. Times carry their zone's abbreviation in their number
//! format ("2026-10-25 01:30:00 GMT"), so the repeated hour of a DST change
//! reads as such. The first sheet, "Invoice", gives the invoice's facts and
//! totals and links to every other sheet.

use std::sync::Mutex;

use rayon::prelude::*;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

mod limits;
mod styles;

use self::limits::{digits, excel_serial, first_excel_day, fits_a_double, grouped_digits, Limits};
use self::styles::{SheetNames, Styles};
use super::cells::{needs_guard, title_block};
use super::{Format as AttachmentFormat, RenderOptions, Renderer};
use crate::column::{Column, ColumnKind};
use crate::error::{Error, Result};
use crate::locale::Msg;
use crate::output::{AttachmentMeta, OutputDir};
use crate::report::{Cell, InvoiceReports, Report, Row, Totals};

/// Rows a worksheet holds (Excel's limit).
pub const SHEET_ROWS: u32 = 1_048_576;
/// Widest column set from content, in characters.
const MAX_WIDTH: usize = 60;
/// Zip deflate level of workbooks. Deflate is a third of the time of writing
/// a workbook; measured with zlib-rs on 100,000 itemised calls (33 MB of
/// sheet XML): level 1 7.7 MB, level 2 5.5 MB, level 3 4.9 MB (deflate 20%
/// slower than level 2), level 6 4.4 MB (60% slower). Level 1 switches to a
/// much weaker algorithm; level 3 keeps most of level 6's size for a small
/// part of its time.
const ZIP_LEVEL: u8 = 3;

pub struct XlsxRenderer {
    options: RenderOptions,
}

impl XlsxRenderer {
    pub fn new(options: RenderOptions) -> Self {
        XlsxRenderer { options }
    }

    /// The workbook's file name, e.g. `INV-2026-10-0042_usage.xlsx`.
    pub fn file_name(&self, reports: &InvoiceReports<'_>) -> String {
        self.options.document_name(reports, "xlsx")
    }
}

impl Renderer for XlsxRenderer {
    fn render(&self, reports: &InvoiceReports<'_>, out: &OutputDir) -> Result<()> {
        let name = self.file_name(reports);
        let xlsx_error = |e: XlsxError| Error::output(&name, "the workbook", e);
        let mut workbook = Workbook::new();
        workbook.set_tempdir(out.path()).map_err(xlsx_error)?;
        workbook.set_zip_compression_level(ZIP_LEVEL);
        workbook.set_properties(&properties(reports, &self.options).map_err(xlsx_error)?);
        let styles = Styles::new(
            &reports.settings.look,
            reports.invoice.time_zone,
            (reports.invoice.from, reports.invoice.to),
        );
        // Format indices fixed up front, in one order: sheets are written in
        // parallel and must not number formats in the order they meet them.
        // (`register_format` is hidden from rust_xlsxwriter's docs but its
        // source names this use: multi-threaded constant-memory writing;
        // the version is pinned.)
        for format in styles.all() {
            workbook.register_format(format);
        }
        // Each report's sheets are written on a core of their own (a sheet
        // is one thread's work) and added to the workbook in report order,
        // named then, so names do not depend on which sheet finished first.
        let factory = Mutex::new(&mut workbook);
        let written: Vec<Result<SheetWriter<'_, '_>, XlsxError>> = reports
            .reports
            .par_iter()
            .map(|report| {
                let mut writer = SheetWriter {
                    options: &self.options,
                    reports,
                    report,
                    styles: &styles,
                    sanitize: self.options.sanitize,
                    factory: &factory,
                    sheets: Vec::new(),
                    sheet: None,
                    row: 0,
                    part: 0,
                    header_row: 0,
                    last_data_row: None,
                    widths: Vec::new(),
                    limits: Limits::default(),
                };
                writer.write()?;
                Ok(writer)
            })
            .collect();
        let mut rows = 0u64;
        let mut names = SheetNames::default();
        let mut limits = Limits::default();
        let mut sheets = Vec::new();
        let overview_name = names.unique(reports.words().get(Msg::Invoice));
        for (writer, report) in written.into_iter().zip(&reports.reports) {
            let writer = writer.map_err(xlsx_error)?;
            limits.add(writer.limits);
            rows += report.row_count();
            for (part, (wanted, sheet)) in writer.sheets.into_iter().enumerate() {
                sheets.push((names.unique(&wanted), sheet, report, part));
            }
        }
        let contents: Vec<(&str, &Report, usize)> = sheets
            .iter()
            .map(|(name, _, report, part)| (name.as_str(), *report, *part))
            .collect();
        let mut overview = self
            .overview(reports, &styles, &contents, &mut limits)
            .map_err(xlsx_error)?;
        overview.set_name(overview_name).map_err(xlsx_error)?;
        workbook.push_worksheet(overview);
        for (name, mut sheet, _, _) in sheets {
            sheet.set_name(name).map_err(xlsx_error)?;
            workbook.push_worksheet(sheet);
        }
        for warning in limits.warnings(&name) {
            out.warn(warning);
        }
        let meta = AttachmentMeta {
            file_name: name.clone(),
            format: AttachmentFormat::Xlsx.key(),
            level: None,
            report: None,
        };
        out.attachment(meta, |w| {
            workbook.save_to_writer(w).map_err(xlsx_error)?;
            Ok(rows)
        })
    }
}

impl XlsxRenderer {
    /// The first sheet: the invoice's facts and usage totals, and a link to
    /// every other sheet with what it holds.
    fn overview(
        &self,
        reports: &InvoiceReports<'_>,
        styles: &Styles,
        contents: &[(&str, &Report, usize)],
        limits: &mut Limits,
    ) -> Result<Worksheet, XlsxError> {
        let mut sheet = Worksheet::new();
        let words = reports.words();
        let title = self.options.title(words.get(Msg::UsageReport), words);
        sheet.write_string_with_format(0, 0, &title, &styles.title)?;
        let mut facts = title_block(reports, &self.options);
        if let Some(company) = &reports.settings.company {
            facts.push((words.get(Msg::Company), company.clone()));
        }
        let mut r = 1;
        for (label, value) in &facts {
            write_fact(
                &mut sheet,
                r,
                label,
                value,
                styles,
                self.options.sanitize,
                limits,
            )?;
            r += 1;
        }
        r += 1;
        sheet.write_string_with_format(r, 0, words.get(Msg::UsageTotals), &styles.header)?;
        sheet.write_string_with_format(r, 1, "", &styles.header_number)?;
        r += 1;
        let totals = reports.totals;
        let zone = reports.invoice.zone_name();
        for column in Column::SUMMARY {
            let label = words.column(column, zone, true);
            let total = column == Column::Total;
            let text_style = if total {
                &styles.total_text
            } else {
                &styles.fact
            };
            sheet.write_string_with_format(r, 0, label, text_style)?;
            let (value, style) = match totals.cell(column) {
                Some(Cell::Money(d)) => {
                    limits.inexact_numbers += u64::from(!fits_a_double(d));
                    (
                        d.to_f64_lossy(),
                        styles.money_style(d, total, &reports.settings.look),
                    )
                }
                Some(Cell::Duration(s)) => (s as f64 / 86_400.0, &styles.duration),
                Some(Cell::Count(n)) => (n as f64, &styles.count),
                _ => continue,
            };
            sheet.write_number_with_format(r, 1, value, style)?;
            r += 1;
        }
        r += 1;
        sheet.write_string_with_format(r, 0, words.get(Msg::Sheet), &styles.header)?;
        sheet.write_string_with_format(r, 1, words.get(Msg::Report), &styles.header)?;
        sheet.write_string_with_format(r, 2, words.get(Msg::Rows), &styles.header_number)?;
        r += 1;
        for (name, report, part) in contents {
            // A sheet name in a link is quoted, its own quotes doubled.
            let link = format!("internal:'{}'!A1", name.replace('\'', "''"));
            sheet.write_url_with_text(r, 0, link.as_str(), *name)?;
            // The report, where the sheet's name does not say it whole
            // (cut to Excel's 31 characters, numbered, or continued).
            let what = self.options.title(&reports.title_of(report), words);
            if *part == 0 {
                if what != *name {
                    sheet.write_string(r, 1, what)?;
                }
                sheet.write_number_with_format(r, 2, report.row_count() as f64, &styles.count)?;
            } else {
                sheet.write_string(r, 1, words.fill(Msg::Continued, &[("title", &what)]))?;
            }
            r += 1;
        }
        let widest =
            |texts: &mut dyn Iterator<Item = usize>| texts.max().unwrap_or(0).min(MAX_WIDTH);
        let first = widest(
            &mut facts
                .iter()
                .map(|(l, _)| l.chars().count())
                .chain(contents.iter().map(|(n, _, _)| n.chars().count()))
                .chain([18]),
        );
        let second = widest(&mut facts.iter().map(|(_, v)| v.chars().count()).chain([24]));
        sheet.set_column_width(0, (first + 2) as f64)?;
        sheet.set_column_width(1, (second + 2) as f64)?;
        sheet.set_column_width(2, 12)?;
        print_setup(
            &mut sheet,
            reports,
            &self.options,
            first + second + 16,
            None,
        )?;
        Ok(sheet)
    }
}

/// Column widths (in characters) a portrait page prints at 80% or more:
/// A4 or Letter less Excel's default margins holds about 90 at full size.
/// Wider sheets print in landscape.
const PORTRAIT_WIDTH: usize = 112;

/// How a sheet prints from Excel or LibreOffice: on the run's paper, one
/// page wide (landscape when its columns are wider than a portrait page
/// holds), the rows down to `repeat` (title block and header) at the top of
/// every page, and a footer naming the customer and the invoice with "Page
/// N of M".
fn print_setup(
    sheet: &mut Worksheet,
    reports: &InvoiceReports<'_>,
    options: &RenderOptions,
    width: usize,
    repeat: Option<u32>,
) -> Result<(), XlsxError> {
    // Excel's paper codes: 9 is A4, 1 is Letter.
    sheet.set_paper_size(match options.paper {
        super::Paper::A4 => 9,
        super::Paper::Letter => 1,
    });
    if width > PORTRAIT_WIDTH {
        sheet.set_landscape();
    } else {
        sheet.set_portrait();
    }
    sheet.set_print_fit_to_pages(1, 0);
    if let Some(last) = repeat {
        sheet.set_repeat_rows(0, last)?;
    }
    sheet.set_footer(footer(reports));
    Ok(())
}

/// Most UTF-16 units Excel keeps in a header or footer, its codes included.
const FOOTER_UNITS: usize = 255;

/// The printed footer: customer and invoice on the left, "Page &P of &N"
/// on the right. Text from data is shown as text: `&` (Excel's code mark)
/// is doubled, with a zero-width space between a doubled `&` and a `[` so
/// that rust_xlsxwriter's `&[Page]`-style names cannot match either;
/// control characters become spaces; and a customer name too long for the
/// 255 units Excel keeps is cut with an ellipsis, never the customer id or
/// the invoice.
fn footer(reports: &InvoiceReports<'_>) -> String {
    let words = reports.words();
    let invoice = reports.invoice;
    let page = words.fill(Msg::PageOf, &[("n", "&P"), ("count", "&N")]);
    let id = &invoice.customer_id;
    let (name, rest) = match &invoice.customer_name {
        Some(name) if name != id => (name.as_str(), format!(" ({id})")),
        _ => ("", id.clone()),
    };
    let head = format!("{}: ", words.get(Msg::Customer));
    let tail = format!(
        "{rest} · {}: {}",
        words.get(Msg::Invoice),
        invoice.display_id()
    );
    let units = |t: &str| t.encode_utf16().count();
    let room = FOOTER_UNITS.saturating_sub(units("&L&R") + units(&page));
    let mut left = Escaped::default();
    left.push_all(&head, usize::MAX);
    let tail_units = {
        let mut t = Escaped::default();
        t.push_all(&tail, usize::MAX);
        t.units
    };
    // The name gives way first: cut, with an ellipsis, to leave the rest room.
    let for_name = room.saturating_sub(left.units + tail_units);
    let mut shown = Escaped::default();
    if !shown.push_all(name, for_name) {
        shown = Escaped::default();
        shown.push_all(name, for_name.saturating_sub(1));
        shown.text.push('\u{2026}');
        shown.units += 1;
    }
    left.text.push_str(&shown.text);
    left.units += shown.units;
    // Ids longer than Excel keeps lose their end.
    left.push_all(&tail, room);
    format!("&L{}&R{page}", left.text)
}

/// Footer text from data, escaped as Excel prints it: `&` doubled, a
/// zero-width space between a doubled `&` and a `[`, control characters as
/// spaces; `units` counts UTF-16 units as Excel does.
#[derive(Default)]
struct Escaped {
    text: String,
    units: usize,
}

impl Escaped {
    /// Appends `text` while the total stays within `limit` units; `false`
    /// when it stopped short.
    fn push_all(&mut self, text: &str, limit: usize) -> bool {
        for c in text.chars() {
            let piece: &str = match c {
                '&' => "&&",
                '[' if self.text.ends_with("&&") => "\u{200B}[",
                c if c.is_control() => " ",
                _ => "",
            };
            let added = if piece.is_empty() {
                c.len_utf16()
            } else {
                piece.encode_utf16().count()
            };
            if self.units + added > limit {
                return false;
            }
            if piece.is_empty() {
                self.text.push(c);
            } else {
                self.text.push_str(piece);
            }
            self.units += added;
        }
        true
    }
}

/// One fact of a title block: its label, and its value as text (guarded
/// when a spreadsheet would read it as a formula).
fn write_fact(
    sheet: &mut Worksheet,
    r: u32,
    label: &str,
    value: &str,
    styles: &Styles,
    sanitize: bool,
    limits: &mut Limits,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(r, 0, label, &styles.fact)?;
    let value = limits.fit(value);
    if sanitize && needs_guard(&value, ColumnKind::Text) {
        sheet.write_string_with_format(r, 1, value, &styles.quoted)?;
    } else {
        sheet.write_string(r, 1, value)?;
    }
    Ok(())
}

fn properties(
    reports: &InvoiceReports<'_>,
    options: &RenderOptions,
) -> Result<DocProperties, XlsxError> {
    let to = reports.invoice.to;
    use chrono::Datelike;
    let created = ExcelDateTime::from_ymd(to.year() as u16, to.month() as u8, to.day() as u8)?;
    let (title, subject) = options.document_title(reports);
    let mut p = DocProperties::new()
        .set_title(title)
        .set_subject(subject)
        .set_author("usage-report")
        .set_creation_datetime(&created);
    if let Some(company) = &reports.settings.company {
        p = p.set_company(company);
    }
    Ok(p)
}

/// Writes one report onto one or more sheets.
struct SheetWriter<'w, 'a> {
    options: &'w RenderOptions,
    reports: &'w InvoiceReports<'a>,
    report: &'w Report,
    styles: &'w Styles,
    sanitize: bool,
    /// Where new sheets come from (the workbook, shared by the writers).
    factory: &'w Mutex<&'a mut Workbook>,
    /// Finished sheets and the names they want, in order.
    sheets: Vec<(String, Worksheet)>,
    /// The sheet being written, and the name it wants.
    sheet: Option<(String, Worksheet)>,
    /// Next row to write on the current sheet.
    row: u32,
    /// Sheets written so far for this report.
    part: u32,
    /// The current sheet's header row, and its last data row: the
    /// filtered range.
    header_row: u32,
    last_data_row: Option<u32>,
    /// Widest content per column, in characters.
    widths: Vec<usize>,
    /// What the format could not hold as given, for the manifest's warnings.
    limits: Limits,
}

impl SheetWriter<'_, '_> {
    /// The data rows first, one contiguous block under the header that
    /// sorting and filtering may reorder (an itemised row names its group in
    /// the first column), then, below it and outside the filter, the
    /// subtotals per group and the total.
    fn write(&mut self) -> Result<(), XlsxError> {
        self.start_sheet()?;
        let report = self.report;
        let level = report.spec.level;
        for group in &report.groups {
            for row in self.reports.rows(group) {
                self.ensure_room()?;
                self.data_row(row)?;
            }
        }
        // A blank row sets the subtotals and the total apart from the data
        // (and keeps Excel from taking them into the filtered range).
        self.ensure_room()?;
        self.row += 1;
        if report.spec.kind.is_itemised() {
            for group in &report.groups {
                let (what, parts) = self.reports.subtotal_labels(level, group.key);
                if let Some(split) = &group.by_direction {
                    for (part, totals) in parts.iter().zip(split) {
                        self.ensure_room()?;
                        self.totals_row(part, totals)?;
                    }
                }
                self.ensure_room()?;
                self.totals_row(&what, &group.subtotal)?;
            }
        }
        self.ensure_room()?;
        self.totals_row(self.reports.words().get(Msg::Total), &report.total)?;
        self.finish_sheet()
    }

    /// Opens the next sheet of this report: title block and header.
    fn start_sheet(&mut self) -> Result<(), XlsxError> {
        self.part += 1;
        let title = self
            .options
            .title(&self.reports.title_of(self.report), self.reports.words());
        let wanted = if self.part == 1 {
            title.clone()
        } else {
            format!("{title} ({})", self.part)
        };
        let mut sheet = self
            .factory
            .lock()
            .expect("no panics while holding the lock")
            .new_worksheet_with_constant_memory()?;
        sheet.write_string_with_format(0, 0, &title, &self.styles.title)?;
        let facts = title_block(self.reports, self.options);
        for (i, (label, value)) in facts.iter().enumerate() {
            let (styles, sanitize) = (self.styles, self.sanitize);
            write_fact(
                &mut sheet,
                1 + i as u32,
                label,
                value,
                styles,
                sanitize,
                &mut self.limits,
            )?;
        }
        // Under the title block: a title, the facts, a blank line.
        let header_row = facts.len() as u32 + 2;
        self.header_row = header_row;
        let zone = self.reports.invoice.zone_name();
        self.widths = vec![0; self.report.columns.len()];
        for (c, column) in self.report.columns.iter().enumerate() {
            let label = self.reports.words().column(*column, zone, true);
            // Spreadsheets right-align numbers and date-times: so do their headers.
            let right = column.kind().is_numeric()
                || matches!(column.kind(), ColumnKind::Timestamp | ColumnKind::Date);
            let style = if right {
                &self.styles.header_number
            } else {
                &self.styles.header
            };
            sheet.write_string_with_format(header_row, c as u16, &label, style)?;
            self.widths[c] = label.chars().count() + 2;
        }
        sheet.set_freeze_panes(header_row + 1, 0)?;
        // After the title block and header (already flushed or formatted),
        // before any data row.
        for (c, column) in self.report.columns.iter().enumerate() {
            if let Some(style) = self.styles.body(column.kind()) {
                sheet.set_column_format(c as u16, style)?;
            }
        }
        self.sheet = Some((wanted, sheet));
        self.row = header_row + 1;
        self.last_data_row = None;
        Ok(())
    }

    /// Moves to a continuation sheet when the current one is full.
    fn ensure_room(&mut self) -> Result<(), XlsxError> {
        if self.row < SHEET_ROWS {
            return Ok(());
        }
        self.finish_sheet()?;
        self.start_sheet()
    }

    fn finish_sheet(&mut self) -> Result<(), XlsxError> {
        let Some((wanted, mut sheet)) = self.sheet.take() else {
            return Ok(());
        };
        // The filter covers the header and the data rows only: sorting or
        // filtering never moves a subtotal or the total among the data.
        if let Some(last) = self.last_data_row {
            let last_col = self.report.columns.len().saturating_sub(1) as u16;
            sheet.autofilter(self.header_row, 0, last, last_col)?;
        }
        // The title block's first column holds labels like "Time zone".
        if let Some(w) = self.widths.first_mut() {
            *w = (*w).max(12);
        }
        for (c, width) in self.widths.iter().enumerate() {
            sheet.set_column_width(c as u16, (*width).min(MAX_WIDTH) as f64)?;
        }
        let width = self.widths.iter().map(|w| (*w).min(MAX_WIDTH)).sum();
        print_setup(
            &mut sheet,
            self.reports,
            self.options,
            width,
            Some(self.header_row),
        )?;
        self.sheets.push((wanted, sheet));
        Ok(())
    }

    fn sheet(&mut self) -> &mut Worksheet {
        &mut self
            .sheet
            .as_mut()
            .expect("a sheet is open while writing")
            .1
    }

    fn data_row(&mut self, row: Row<'_>) -> Result<(), XlsxError> {
        let report = self.report;
        let level = report.spec.level;
        let r = self.row;
        for (c, column) in report.columns.iter().enumerate() {
            let cell = self.reports.cell(level, row, *column);
            let width = self.cell(r, c as u16, cell, column.kind(), false)?;
            self.widths[c] = self.widths[c].max(width);
        }
        self.last_data_row = Some(r);
        self.row += 1;
        Ok(())
    }

    fn totals_row(&mut self, label: &str, totals: &Totals) -> Result<(), XlsxError> {
        // The first column is the level's key, never a measure: it takes the label.
        let (r, report, style) = (self.row, self.report, &self.styles.total_text);
        let label = self.limits.fit(label).into_owned();
        self.sheet().write_string_with_format(r, 0, label, style)?;
        for (c, column) in report.columns.iter().enumerate().skip(1) {
            match totals.cell(*column) {
                Some(cell) => {
                    let width = self.cell(r, c as u16, cell, column.kind(), true)?;
                    self.widths[c] = self.widths[c].max(width);
                }
                None => {
                    self.sheet().write_blank(r, c as u16, style)?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }

    /// Writes one typed cell; returns its width in characters.
    fn cell(
        &mut self,
        r: u32,
        c: u16,
        cell: Cell<'_>,
        kind: ColumnKind,
        total: bool,
    ) -> Result<usize, XlsxError> {
        let styles = self.styles;
        let tz = self.reports.invoice.time_zone;
        let sanitize = self.sanitize;
        match cell {
            Cell::Empty => Ok(0),
            Cell::Label(label) => {
                let text = label.shown(self.reports.words());
                let width = text.chars().count();
                self.sheet().write_string(r, c, text)?;
                Ok(width)
            }
            Cell::Text(t) => {
                let text = self.limits.fit(t).into_owned();
                let width = text.chars().count();
                if sanitize && needs_guard(&text, kind) {
                    self.sheet()
                        .write_string_with_format(r, c, text, &styles.quoted)?;
                } else {
                    // Plain text needs no format (and skips the format lookup per cell).
                    self.sheet().write_string(r, c, text)?;
                }
                Ok(width)
            }
            Cell::Money(d) => {
                let style = match (total, kind) {
                    (false, ColumnKind::Rate) => &styles.rate,
                    _ => styles.money_style(d, total, &self.reports.settings.look),
                };
                self.limits.inexact_numbers += u64::from(!fits_a_double(d));
                self.number(r, c, d.to_f64_lossy(), style, kind)?;
                Ok(grouped_digits(d.micros().unsigned_abs() / 1_000_000)
                    + 3
                    + usize::from(d.is_negative()))
            }
            Cell::Number(d) => {
                self.limits.inexact_numbers += u64::from(!fits_a_double(d));
                self.number(r, c, d.to_f64_lossy(), &styles.quantity, kind)?;
                Ok(d.to_exact_string(0).len())
            }
            Cell::Duration(s) => {
                let style = if total {
                    &styles.total_duration
                } else {
                    &styles.duration
                };
                self.number(r, c, s as f64 / 86_400.0, style, kind)?;
                Ok(digits(s as u128 / 3600) + 6)
            }
            Cell::Count(n) => {
                let style = if total {
                    &styles.total_count
                } else {
                    &styles.count
                };
                self.number(r, c, n as f64, style, kind)?;
                Ok(grouped_digits(n as u128))
            }
            Cell::Timestamp(t) => {
                let local = t.with_timezone(&tz).naive_local();
                if local.date() < first_excel_day() {
                    return self.early(r, c, cell, kind);
                }
                let Some(style) = styles.timestamp(tz, t, super::cells::utc_offset(tz, t)) else {
                    self.limits.times_as_text += 1;
                    return self.as_text(r, c, cell, kind);
                };
                self.number(r, c, excel_serial(local), style, kind)?;
                Ok(24)
            }
            Cell::Date(d) => {
                if d < first_excel_day() {
                    return self.early(r, c, cell, kind);
                }
                let serial = excel_serial(d.and_hms_opt(0, 0, 0).expect("midnight"));
                self.number(r, c, serial, &styles.date, kind)?;
                Ok(10)
            }
        }
    }
}

impl SheetWriter<'_, '_> {
    /// Writes a date or time Excel's date numbers cannot show as its exact
    /// text (as in the CSV), counted for a warning.
    fn early(
        &mut self,
        r: u32,
        c: u16,
        cell: Cell<'_>,
        kind: ColumnKind,
    ) -> Result<usize, XlsxError> {
        self.limits.early_dates += 1;
        self.as_text(r, c, cell, kind)
    }

    /// Writes a date or time as its exact text, as in the CSV (RFC 3339,
    /// with its offset).
    fn as_text(
        &mut self,
        r: u32,
        c: u16,
        cell: Cell<'_>,
        kind: ColumnKind,
    ) -> Result<usize, XlsxError> {
        let mut text = String::new();
        super::cells::write_machine_text(
            &mut text,
            cell,
            kind,
            self.reports.invoice.time_zone,
            false,
        );
        let width = text.chars().count();
        self.sheet().write_string(r, c, text)?;
        Ok(width)
    }

    /// Writes a number in `style`: without a format when that is the
    /// column's own format (see [`Styles::body`]).
    fn number(
        &mut self,
        r: u32,
        c: u16,
        value: f64,
        style: &Format,
        kind: ColumnKind,
    ) -> Result<(), XlsxError> {
        let styles = self.styles;
        let sheet = self.sheet();
        if styles
            .body(kind)
            .is_some_and(|own| std::ptr::eq(own, style))
        {
            sheet.write_number(r, c, value)?;
        } else {
            sheet.write_number_with_format(r, c, value, style)?;
        }
        Ok(())
    }
}
