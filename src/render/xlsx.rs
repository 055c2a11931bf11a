//! XLSX attachments: one workbook per invoice, a sheet per report, written
//! with rust_xlsxwriter in constant-memory mode (rows stream to temporary
//! files, so memory stays flat however long a sheet is).
//!
//! Cells are typed: money, durations, timestamps and counts are numbers with
//! a number format (the exact value stored, not a rounded string); phone
//! numbers and ids are always text. Totals are numbers computed by the engine,
//! not formulas. An itemised report longer than a sheet continues on
//! "… (2)" sheets with the header repeated and the running subtotal carried.

use std::sync::Mutex;

use chrono::{NaiveDate, NaiveDateTime};
use rayon::prelude::*;
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
    XlsxError,
};

use super::cells::{needs_guard, title_block};
use super::{Format as AttachmentFormat, RenderOptions, Renderer};
use crate::column::ColumnKind;
use crate::error::{Error, Result};
use crate::level::ReportKind;
use crate::output::{AttachmentMeta, OutputDir};
use crate::report::{Cell, Group, InvoiceReports, Report, Row, Totals};

/// Rows a worksheet holds (Excel's limit).
pub const SHEET_ROWS: u32 = 1_048_576;
/// Characters a cell holds (Excel's limit, in UTF-16 units).
const CELL_CHARS: usize = 32_767;
/// Widest column set from content, in characters.
const MAX_WIDTH: usize = 60;
/// Rows of the title block above each table (title, five facts, a blank line).
const TITLE_ROWS: u32 = 7;
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
        let styles = Styles::new(&reports.settings.look);
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
        for writer in written {
            let writer = writer.map_err(xlsx_error)?;
            limits.add(writer.limits);
            rows += writer.report.row_count();
            sheets.extend(writer.sheets);
        }
        for (wanted, mut sheet) in sheets {
            sheet.set_name(names.unique(&wanted)).map_err(xlsx_error)?;
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

fn properties(
    reports: &InvoiceReports<'_>,
    options: &RenderOptions,
) -> Result<DocProperties, XlsxError> {
    let to = reports.invoice.to;
    use chrono::Datelike;
    let created = ExcelDateTime::from_ymd(to.year() as u16, to.month() as u8, to.day() as u8)?;
    let mut p = DocProperties::new()
        .set_title(options.title(&format!("Usage report {}", reports.invoice.display_id())))
        .set_subject(format!("Usage of customer {}", reports.invoice.customer_id))
        .set_author("usage-report")
        .set_creation_datetime(&created);
    if let Some(company) = &reports.settings.company {
        p = p.set_company(company);
    }
    Ok(p)
}

/// The cell formats of a workbook, made once.
struct Styles {
    title: Format,
    fact: Format,
    header: Format,
    header_number: Format,
    heading: Format,
    quoted: Format,
    money: Format,
    rate: Format,
    duration: Format,
    timestamp: Format,
    date: Format,
    count: Format,
    quantity: Format,
    total_text: Format,
    total_money: Format,
    total_duration: Format,
    total_count: Format,
}

impl Styles {
    fn new(look: &crate::locale::Presentation) -> Styles {
        let money_format = look.excel_money_format();
        let date_format = look.excel_date_format();
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xDDE4EE))
            .set_border_bottom(FormatBorder::Thin);
        let total = Format::new().set_bold().set_border_top(FormatBorder::Thin);
        Styles {
            title: Format::new().set_bold().set_font_size(14),
            fact: Format::new().set_font_color(Color::RGB(0x44546A)),
            header_number: header.clone().set_align(FormatAlign::Right),
            header,
            heading: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xF2F2F2)),
            quoted: Format::new().set_quote_prefix(),
            money: Format::new().set_num_format(&money_format),
            rate: Format::new().set_num_format("#,##0.00####"),
            duration: Format::new().set_num_format("[h]:mm:ss"),
            timestamp: Format::new().set_num_format(format!("{date_format} hh:mm:ss")),
            date: Format::new().set_num_format(date_format),
            count: Format::new().set_num_format("#,##0"),
            quantity: Format::new().set_num_format("General"),
            total_text: total.clone(),
            total_money: total.clone().set_num_format(&money_format),
            total_duration: total.clone().set_num_format("[h]:mm:ss"),
            total_count: total.set_num_format("#,##0"),
        }
    }
}

impl Styles {
    /// Every style, in a fixed order. (Destructured without `..`, so a
    /// style added to [`Styles`] cannot be left out.)
    fn all(&self) -> [&Format; 17] {
        let Styles {
            title,
            fact,
            header,
            header_number,
            heading,
            quoted,
            money,
            rate,
            duration,
            timestamp,
            date,
            count,
            quantity,
            total_text,
            total_money,
            total_duration,
            total_count,
        } = self;
        [
            title,
            fact,
            header,
            header_number,
            heading,
            quoted,
            money,
            rate,
            duration,
            timestamp,
            date,
            count,
            quantity,
            total_text,
            total_money,
            total_duration,
            total_count,
        ]
    }

    /// The style of a column's data cells, set once as the column's format:
    /// cells written without a format take it, which spares rust_xlsxwriter
    /// a format lookup per cell.
    fn body(&self, kind: ColumnKind) -> Option<&Format> {
        match kind {
            ColumnKind::Text | ColumnKind::Phone | ColumnKind::Id => None,
            ColumnKind::Money => Some(&self.money),
            ColumnKind::Rate => Some(&self.rate),
            ColumnKind::Duration => Some(&self.duration),
            ColumnKind::Timestamp => Some(&self.timestamp),
            ColumnKind::Date => Some(&self.date),
            ColumnKind::Count => Some(&self.count),
            ColumnKind::Quantity => Some(&self.quantity),
        }
    }
}

/// Sheet names: readable, at most 31 characters, none of `[]:*?/\`, unique
/// (case-insensitively, as Excel compares them).
#[derive(Default)]
struct SheetNames {
    used: Vec<String>,
}

impl SheetNames {
    fn unique(&mut self, wanted: &str) -> String {
        let clean: String = wanted
            .chars()
            .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
            .collect();
        let clean = clean.trim_matches('\'').to_string();
        let mut n = 1;
        loop {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!(" ({n})")
            };
            let room = 31 - suffix.chars().count();
            let base: String = clean.chars().take(room).collect();
            let candidate = format!("{base}{suffix}");
            if !self.used.iter().any(|u| u.eq_ignore_ascii_case(&candidate)) {
                self.used.push(candidate.clone());
                return candidate;
            }
            n += 1;
        }
    }
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
    /// Widest content per column, in characters.
    widths: Vec<usize>,
    /// What the format could not hold as given, for the manifest's warnings.
    limits: Limits,
}

/// Values a workbook cannot hold as given, counted for a warning each.
#[derive(Clone, Copy, Debug, Default)]
struct Limits {
    /// Text longer than a cell holds, cut with an ellipsis.
    cut_cells: u64,
    /// Dates before 1900-03-01, which Excel's serial numbers get wrong:
    /// written as text.
    early_dates: u64,
    /// Money or quantities with more significant digits than a cell's
    /// binary floating-point number keeps.
    inexact_numbers: u64,
}

impl Limits {
    fn add(&mut self, other: Limits) {
        self.cut_cells += other.cut_cells;
        self.early_dates += other.early_dates;
        self.inexact_numbers += other.inexact_numbers;
    }

    fn warnings(&self, name: &str) -> Vec<String> {
        let mut list = Vec::new();
        if self.cut_cells > 0 {
            list.push(format!(
                "{name}: {} text cell(s) longer than Excel's {CELL_CHARS} characters were cut; the CSV holds them whole",
                self.cut_cells
            ));
        }
        if self.early_dates > 0 {
            list.push(format!(
                "{name}: {} date(s) before 1900-03-01 written as text: Excel's date numbers cannot show them",
                self.early_dates
            ));
        }
        if self.inexact_numbers > 0 {
            list.push(format!(
                "{name}: {} number(s) with more than {EXACT_DIGITS} significant digits are shown rounded: an Excel number holds no more; the CSV and the manifest hold them exactly",
                self.inexact_numbers
            ));
        }
        list
    }
}

/// Significant digits an Excel number (an IEEE double) always keeps.
const EXACT_DIGITS: usize = 15;

/// Whether a decimal keeps every digit as an Excel number.
fn fits_a_double(d: crate::money::Decimal) -> bool {
    let mut m = d.micros().unsigned_abs();
    if m == 0 {
        return true;
    }
    while m % 10 == 0 {
        m /= 10;
    }
    digits(m) <= EXACT_DIGITS
}

/// The first day Excel's date numbers are right for (it counts a
/// 1900-02-29 that never was).
fn first_excel_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 3, 1).expect("valid date")
}

impl SheetWriter<'_, '_> {
    fn write(&mut self) -> Result<(), XlsxError> {
        self.start_sheet(None)?;
        let report = self.report;
        let level = report.spec.level;
        match report.spec.kind {
            ReportKind::Summary | ReportKind::CallTypes => {
                for group in &report.groups {
                    for row in self.reports.rows(group) {
                        self.ensure_room(None)?;
                        self.data_row(row)?;
                    }
                }
            }
            ReportKind::Calls | ReportKind::Transactions => {
                for group in &report.groups {
                    let label = format!(
                        "{}: {}",
                        level.label(),
                        self.reports.group_label(level, group.key)
                    );
                    self.ensure_room(None)?;
                    self.heading_row(&label)?;
                    for (written, row) in self.reports.rows(group).enumerate() {
                        self.ensure_room(Some((&label, group, written as u64)))?;
                        self.data_row(row)?;
                    }
                    self.ensure_room(None)?;
                    let what = format!("Subtotal {}", self.reports.group_label(level, group.key));
                    if let Some(split) = &group.by_direction {
                        for (i, direction) in ["inbound", "outbound"].iter().enumerate() {
                            self.ensure_room(None)?;
                            self.totals_row(&format!("{what} ({direction})"), &split[i])?;
                        }
                    }
                    self.totals_row(&what, &group.subtotal)?;
                }
            }
        }
        self.ensure_room(None)?;
        self.totals_row("Total", &report.total)?;
        self.finish_sheet()
    }

    /// Opens the next sheet of this report: title block, header, and when
    /// continuing a group, a row carrying its running subtotal forward.
    fn start_sheet(&mut self, carried: Option<(&str, &Totals)>) -> Result<(), XlsxError> {
        self.part += 1;
        let title = self.options.title(&self.report.spec.title());
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
        for (i, (label, value)) in title_block(self.reports, self.options).iter().enumerate() {
            let r = 1 + i as u32;
            sheet.write_string_with_format(r, 0, *label, &self.styles.fact)?;
            let value = self.limits.fit(value);
            if self.sanitize && needs_guard(&value, ColumnKind::Text) {
                sheet.write_string_with_format(r, 1, value, &self.styles.quoted)?;
            } else {
                sheet.write_string(r, 1, value)?;
            }
        }
        let header_row = TITLE_ROWS - 1 + 1;
        let zone = self.reports.invoice.zone_name();
        self.widths = vec![0; self.report.columns.len()];
        for (c, column) in self.report.columns.iter().enumerate() {
            let label = column.display_label(zone);
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
        if let Some((label, running)) = carried {
            self.totals_row(&format!("{label}, brought forward"), running)?;
        }
        Ok(())
    }

    /// Moves to a continuation sheet when the current one is full. Each sheet
    /// keeps room for the rows that close a group (subtotal and total).
    /// `carried`: within an itemised group, its label, the group and the
    /// rows of it written so far (their subtotal, the model's, is carried).
    fn ensure_room(&mut self, carried: Option<(&str, &Group, u64)>) -> Result<(), XlsxError> {
        if self.row + 2 < SHEET_ROWS {
            return Ok(());
        }
        self.finish_sheet()?;
        let carried =
            carried.map(|(label, group, n)| (label, self.reports.subtotal_of_first(group, n)));
        self.start_sheet(carried.as_ref().map(|(label, totals)| (*label, totals)))
    }

    fn finish_sheet(&mut self) -> Result<(), XlsxError> {
        let Some((wanted, mut sheet)) = self.sheet.take() else {
            return Ok(());
        };
        let header_row = TITLE_ROWS;
        let last_col = self.report.columns.len().saturating_sub(1) as u16;
        sheet.autofilter(
            header_row,
            0,
            self.row.saturating_sub(1).max(header_row),
            last_col,
        )?;
        // The title block's first column holds labels like "Time zone".
        if let Some(w) = self.widths.first_mut() {
            *w = (*w).max(12);
        }
        for (c, width) in self.widths.iter().enumerate() {
            sheet.set_column_width(c as u16, (*width).min(MAX_WIDTH) as f64)?;
        }
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

    fn heading_row(&mut self, label: &str) -> Result<(), XlsxError> {
        let (row, styles) = (self.row, self.styles);
        let last = self.report.columns.len() as u16;
        let label = self.limits.fit(label).into_owned();
        let sheet = self.sheet();
        sheet.write_string_with_format(row, 0, label, &styles.heading)?;
        for c in 1..last {
            sheet.write_blank(row, c, &styles.heading)?;
        }
        self.row += 1;
        Ok(())
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
                    (true, _) => &styles.total_money,
                    (false, ColumnKind::Rate) => &styles.rate,
                    _ => &styles.money,
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
                self.number(r, c, excel_serial(local), &styles.timestamp, kind)?;
                Ok(19)
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

/// Decimal digits of `n` (at least one).
fn digits(mut n: u128) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Characters of `n` with thousands separators.
fn grouped_digits(n: u128) -> usize {
    let d = digits(n);
    d + (d - 1) / 3
}

/// Days since Excel's epoch (1899-12-30), with the time as a fraction.
fn excel_serial(t: NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .expect("valid date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight");
    let d = t - epoch;
    d.num_seconds() as f64 / 86_400.0 + d.subsec_nanos() as f64 / 86_400e9
}

impl Limits {
    /// Text as a cell can hold it: cut to Excel's limit with an ellipsis
    /// (and counted) when longer.
    fn fit<'t>(&mut self, t: &'t str) -> std::borrow::Cow<'t, str> {
        // UTF-16 units never outnumber bytes: count them only for long text.
        if t.len() > CELL_CHARS && t.encode_utf16().count() > CELL_CHARS {
            self.cut_cells += 1;
            std::borrow::Cow::Owned(cut_to_cell(t))
        } else {
            std::borrow::Cow::Borrowed(t)
        }
    }
}

/// Cuts text to Excel's cell limit, ending with an ellipsis.
fn cut_to_cell(t: &str) -> String {
    let mut out = String::new();
    let mut units = 0;
    for ch in t.chars() {
        units += ch.len_utf16();
        if units > CELL_CHARS - 1 {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut names = SheetNames::default();
        assert_eq!(names.unique("Site summary"), "Site summary");
        assert_eq!(names.unique("site summary"), "site summary (2)");
        assert_eq!(names.unique("A/B:C*D?[E]"), "A_B_C_D__E_");
        let long = names.unique(&"x".repeat(40));
        assert_eq!(long.chars().count(), 31);
        let again = names.unique(&"x".repeat(40));
        assert!(again.ends_with(" (2)") && again.chars().count() == 31);
    }

    #[test]
    fn widths_count_digits_and_separators() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(999), 3);
        assert_eq!(grouped_digits(1_234_567), 9);
        assert_eq!(grouped_digits(100), 3);
    }

    #[test]
    fn excel_serials_match_excel() {
        let t = NaiveDate::from_ymd_opt(2026, 10, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(excel_serial(t), 46296.5);
    }

    #[test]
    fn long_text_is_cut_to_the_cell_limit() {
        let cut = cut_to_cell(&"é".repeat(40_000));
        assert_eq!(cut.encode_utf16().count(), CELL_CHARS);
        assert!(cut.ends_with('…'));
    }
}
