//! PDF attachments: one paginated document per invoice, written directly
//! with pdf-writer. The table layout is ours: column widths from the content,
//! portrait or landscape per report, a repeated header on every page, group
//! headings, subtotals and totals, and "Page n of N" footers.
//!
//! Deterministic by construction: objects are written in a fixed order, dates
//! come from the invoice, and the document ID is a hash of the content. Text
//! is drawn with an embedded, subset DejaVu Sans Condensed that covers Latin,
//! Greek and Cyrillic; a character it cannot draw is shown as "�" and counted
//! in the manifest's warnings.

mod font;

use std::borrow::Cow;

use chrono::Datelike;
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};

use self::font::{miniz_compress, DocFont, FontRefs, Weight};
use super::cells::{display_text, title_block};
use super::{Format, Paper, RenderOptions, Renderer};
use crate::column::{Column, ColumnKind};
use crate::error::{Error, Result};
use crate::level::ReportKind;
use crate::locale::Presentation;
use crate::output::{AttachmentMeta, OutputDir};
use crate::report::{InvoiceReports, Report, Totals};

const MARGIN: f32 = 36.0;
const TOP: f32 = 40.0;
const BOTTOM: f32 = 44.0;
const FOOTER_Y: f32 = 24.0;
const BODY: f32 = 7.5;
const ROW: f32 = 10.5;
const PAD: f32 = 3.0;
/// Widest a text column grows before its text is cut with an ellipsis.
const MAX_TEXT_WIDTH: f32 = 190.0;
/// Narrowest a text column shrinks to when the page is too narrow.
const MIN_TEXT_WIDTH: f32 = 48.0;
/// Text columns are sized from this many rows; numbers from all of them.
const TEXT_SAMPLE_ROWS: usize = 5_000;

pub struct PdfRenderer {
    options: RenderOptions,
}

impl PdfRenderer {
    pub fn new(options: RenderOptions) -> Self {
        PdfRenderer { options }
    }

    /// The document's file name, e.g. `INV-2026-10-0042_usage.pdf`.
    pub fn file_name(&self, reports: &InvoiceReports<'_>) -> String {
        self.options.document_name(reports, "pdf")
    }
}

impl Renderer for PdfRenderer {
    fn render(&self, reports: &InvoiceReports<'_>, out: &OutputDir) -> Result<()> {
        let name = self.file_name(reports);
        let mut doc = Document::new(reports, &self.options);
        doc.cover();
        for report in &reports.reports {
            doc.section(report);
        }
        let missing = doc.regular.missing + doc.bold.missing;
        let rows = doc.rows;
        let bytes = doc
            .finish()
            .map_err(|e| Error::output(&name, "the PDF", e))?;
        if missing > 0 {
            out.warn(format!(
                "{name}: {missing} character(s) the PDF font cannot draw are shown as \u{FFFD}; the CSV and XLSX hold them as written"
            ));
        }
        let meta = AttachmentMeta {
            file_name: name.clone(),
            format: Format::Pdf.key(),
            level: None,
            report: None,
        };
        out.attachment(meta, |w| {
            w.write_all(&bytes).map_err(|e| Error::io(&name, e))?;
            Ok(rows)
        })
    }
}

/// Page width and height in points, portrait.
fn paper_size(paper: Paper) -> (f32, f32) {
    match paper {
        Paper::A4 => (595.28, 841.89),
        Paper::Letter => (612.0, 792.0),
    }
}

/// A finished page: its objects and size.
struct PageInfo {
    page: Ref,
    body: Ref,
    footer: Ref,
    size: (f32, f32),
}

/// A face at a size.
#[derive(Clone, Copy)]
struct Pen {
    weight: Weight,
    size: f32,
}

/// How a report's table is laid out.
struct Table {
    columns: Vec<Column>,
    widths: Vec<f32>,
    numeric: Vec<bool>,
    size: (f32, f32),
    font_size: f32,
    row: f32,
}

struct Document<'r, 'a> {
    reports: &'r InvoiceReports<'a>,
    options: &'r RenderOptions,
    look: Presentation,
    pdf: Pdf,
    next: i32,
    regular: DocFont,
    bold: DocFont,
    regular_refs: FontRefs,
    bold_refs: FontRefs,
    portrait: (f32, f32),
    pages: Vec<PageInfo>,
    content: Option<Content>,
    size: (f32, f32),
    /// Distance from the bottom of the page to the next line's top.
    y: f32,
    glyphs: Vec<u8>,
    hasher: Sha256,
    /// Data rows drawn (records or summary lines).
    rows: u64,
}

impl<'r, 'a> Document<'r, 'a> {
    fn new(reports: &'r InvoiceReports<'a>, options: &'r RenderOptions) -> Self {
        let paper = options.paper;
        let mut next = 4;
        let mut font_refs = || {
            let mut r = || {
                next += 1;
                Ref::new(next - 1)
            };
            FontRefs {
                type0: r(),
                cid: r(),
                descriptor: r(),
                file: r(),
                to_unicode: r(),
            }
        };
        let regular_refs = font_refs();
        let bold_refs = font_refs();
        let portrait = paper_size(paper);
        Document {
            look: reports.settings.look.clone(),
            reports,
            options,
            pdf: Pdf::new(),
            next,
            regular: DocFont::new(Weight::Regular),
            bold: DocFont::new(Weight::Bold),
            regular_refs,
            bold_refs,
            portrait,
            pages: Vec::new(),
            content: None,
            size: portrait,
            y: 0.0,
            glyphs: Vec::new(),
            hasher: Sha256::new(),
            rows: 0,
        }
    }

    fn alloc(&mut self) -> Ref {
        self.next += 1;
        Ref::new(self.next - 1)
    }

    fn font(&mut self, weight: Weight) -> &mut DocFont {
        match weight {
            Weight::Regular => &mut self.regular,
            Weight::Bold => &mut self.bold,
        }
    }

    /// Closes the current page (if any) and starts a new one of `size`.
    fn new_page(&mut self, size: (f32, f32)) {
        self.close_page();
        let (page, body, footer) = (self.alloc(), self.alloc(), self.alloc());
        self.pages.push(PageInfo {
            page,
            body,
            footer,
            size,
        });
        self.content = Some(Content::new());
        self.size = size;
        self.y = size.1 - TOP;
    }

    fn close_page(&mut self) {
        if let Some(content) = self.content.take() {
            let body = self.pages.last().expect("a page is open").body;
            let data = content.finish();
            self.hasher.update(data.as_slice());
            let compressed = miniz_compress(data.as_slice());
            self.pdf
                .stream(body, &compressed)
                .filter(Filter::FlateDecode);
        }
    }

    fn content(&mut self) -> &mut Content {
        self.content.as_mut().expect("a page is open")
    }

    /// Draws text with its left edge at `x` and baseline at `y`.
    fn text(&mut self, weight: Weight, size: f32, x: f32, y: f32, text: &str, gray: f32) {
        if text.is_empty() {
            return;
        }
        let mut glyphs = std::mem::take(&mut self.glyphs);
        glyphs.clear();
        self.font(weight).encode(text, &mut glyphs);
        let name = match weight {
            Weight::Regular => Name(b"R"),
            Weight::Bold => Name(b"B"),
        };
        let c = self.content();
        c.set_fill_gray(gray);
        c.begin_text();
        c.set_font(name, size);
        c.next_line(x, y);
        c.show(Str(&glyphs));
        c.end_text();
        self.glyphs = glyphs;
    }

    /// Draws text fitted into `[x, x + width]`, left or right aligned.
    fn cell_text(&mut self, pen: Pen, x: f32, width: f32, y: f32, text: &str, right: bool) {
        let Pen { weight, size } = pen;
        // Padding shrinks with the font, as the measured widths did.
        let pad = PAD * size / BODY;
        let inner = width - 2.0 * pad;
        let fitted: Cow<str> = self.font(weight).fit(text, size, inner);
        let fitted = fitted.into_owned();
        let left = if right {
            x + width - pad - self.font(weight).measure(&fitted, size)
        } else {
            x + pad
        };
        self.text(weight, size, left, y, &fitted, 0.0);
    }

    fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        let c = self.content();
        c.set_fill_gray(gray);
        c.rect(x, y, w, h);
        c.fill_nonzero();
    }

    fn rule(&mut self, x: f32, y: f32, w: f32, width: f32) {
        let c = self.content();
        c.set_stroke_gray(0.35);
        c.set_line_width(width);
        c.move_to(x, y);
        c.line_to(x + w, y);
        c.stroke();
    }

    /// Page 1: what the document is, for whom, and the invoice's usage totals.
    fn cover(&mut self) {
        self.new_page(self.portrait);
        let reports = self.reports;
        let top = self.y;
        let title = self.options.title("Usage report");
        self.text(Weight::Bold, 18.0, MARGIN, top - 16.0, &title, 0.0);
        if let Some(company) = &reports.settings.company {
            let w = self.bold.measure(company, 10.0);
            let x = self.size.0 - MARGIN - w;
            self.text(Weight::Bold, 10.0, x, top - 12.0, company, 0.3);
        }
        let mut y = top - 40.0;
        for (label, value) in title_block(reports, self.options) {
            self.text(Weight::Bold, 9.0, MARGIN, y, label, 0.3);
            self.text(Weight::Regular, 9.0, MARGIN + 80.0, y, &value, 0.0);
            y -= 13.0;
        }
        y -= 10.0;
        self.text(Weight::Bold, 11.0, MARGIN, y, "Usage totals", 0.0);
        y -= 6.0;
        self.rule(MARGIN, y, 260.0, 0.6);
        y -= 12.0;
        let t = reports.totals;
        let tz = reports.invoice.time_zone;
        let lines = [
            ("Calls", Column::Calls),
            ("Duration", Column::Duration),
            ("Billed duration", Column::BilledDuration),
            ("Call charges", Column::CallCharge),
            ("Transactions", Column::Transactions),
            ("Transaction amount", Column::TransactionAmount),
            ("Total", Column::Total),
        ];
        for (label, column) in lines {
            let value = t
                .cell(column)
                .map(|c| display_text(c, column.kind(), tz, &self.look).into_owned())
                .unwrap_or_default();
            let weight = if column == Column::Total {
                Weight::Bold
            } else {
                Weight::Regular
            };
            if column == Column::Total {
                self.rule(MARGIN, y + 9.0, 260.0, 0.6);
            }
            self.text(weight, 9.0, MARGIN, y, label, 0.0);
            let w = self.font(weight).measure(&value, 9.0);
            self.text(weight, 9.0, MARGIN + 260.0 - w, y, &value, 0.0);
            y -= 13.0;
        }
        self.y = y - 18.0;
    }

    /// Lays out a report's columns: widths from the content, then portrait,
    /// landscape, or (if still too wide) narrower text and a smaller font.
    fn table(&mut self, report: &Report) -> Table {
        let reports = self.reports;
        let tz = reports.invoice.time_zone;
        let zone = reports.invoice.zone_name();
        let level = report.spec.level;
        // Itemised tables name their group in a heading row, so the key
        // column would only repeat it.
        let skip = usize::from(report.spec.kind.is_itemised() && report.columns.len() > 1);
        let columns: Vec<Column> = report.columns[skip..].to_vec();
        let numeric: Vec<bool> = columns.iter().map(|c| c.kind().is_numeric()).collect();
        // Only free text may be cut; numbers, phone numbers, ids and times never are.
        let fixed: Vec<bool> = columns
            .iter()
            .map(|c| c.kind() != ColumnKind::Text)
            .collect();
        let mut widths: Vec<f32> = columns
            .iter()
            .map(|c| self.bold.measure(&c.display_label(zone), BODY) + 2.0 * PAD)
            .collect();
        let mut seen = 0usize;
        for group in &report.groups {
            for row in reports.rows(group) {
                seen += 1;
                for (i, column) in columns.iter().enumerate() {
                    if !fixed[i] && seen > TEXT_SAMPLE_ROWS {
                        continue;
                    }
                    let text = display_text(
                        reports.cell(level, row, *column),
                        column.kind(),
                        tz,
                        &self.look,
                    );
                    let w = self.regular.measure(prefix(&text, 512), BODY) + 2.0 * PAD;
                    widths[i] = widths[i].max(w);
                }
            }
            self.widen_for_totals(&mut widths, &columns, &group.subtotal);
        }
        self.widen_for_totals(&mut widths, &columns, &report.total);
        for i in 0..columns.len() {
            if !fixed[i] {
                widths[i] = widths[i].min(MAX_TEXT_WIDTH);
            }
        }
        // The first column also carries "Subtotal …" and "Total" labels.
        widths[0] = widths[0].max(self.bold.measure("Subtotal", BODY) + 2.0 * PAD);
        let natural: f32 = widths.iter().sum();
        let (pw, ph) = self.portrait;
        let size = if natural <= pw - 2.0 * MARGIN {
            (pw, ph)
        } else {
            (ph, pw)
        };
        let usable = size.0 - 2.0 * MARGIN;
        let mut font_size = BODY;
        let text_columns = fixed.iter().filter(|f| !**f).count();
        if natural > usable {
            // Shrink free-text columns towards their minimum first.
            let shrinkable: f32 = widths
                .iter()
                .zip(&fixed)
                .filter(|(_, f)| !**f)
                .map(|(w, _)| (*w - MIN_TEXT_WIDTH).max(0.0))
                .sum();
            if shrinkable > 0.0 {
                let take = (natural - usable).min(shrinkable) / shrinkable;
                for (w, f) in widths.iter_mut().zip(&fixed) {
                    if !*f {
                        *w -= (*w - MIN_TEXT_WIDTH).max(0.0) * take;
                    }
                }
            }
            // Still too wide: a smaller font for this table, never cut numbers.
            let now: f32 = widths.iter().sum();
            if now > usable {
                let scale = usable / now;
                font_size = BODY * scale;
                for w in &mut widths {
                    *w *= scale;
                }
            }
        } else if text_columns > 0 {
            // Spare width goes to the text columns, so the table spans the page.
            let spare = (usable - natural) / text_columns as f32;
            for (w, f) in widths.iter_mut().zip(&fixed) {
                if !*f {
                    *w += spare;
                }
            }
        }
        Table {
            columns,
            widths,
            numeric,
            size,
            font_size,
            row: ROW * font_size / BODY,
        }
    }

    /// Widens columns to fit a (bold) totals row.
    fn widen_for_totals(&mut self, widths: &mut [f32], columns: &[Column], totals: &Totals) {
        let tz = self.reports.invoice.time_zone;
        for (i, column) in columns.iter().enumerate() {
            if let Some(cell) = totals.cell(*column) {
                let text = display_text(cell, column.kind(), tz, &self.look);
                widths[i] = widths[i].max(self.bold.measure(&text, BODY) + 2.0 * PAD);
            }
        }
    }

    /// Moves to a new page (repeating the table header) when `needed` points
    /// do not fit on this one.
    fn ensure(&mut self, needed: f32, table: &Table, title: &str) {
        if self.y - needed >= BOTTOM {
            return;
        }
        self.new_page(table.size);
        let y = self.y;
        self.text(
            Weight::Bold,
            9.0,
            MARGIN,
            y - 9.0,
            &format!("{title} (continued)"),
            0.3,
        );
        self.y -= 16.0;
        self.header(table);
    }

    fn header(&mut self, table: &Table) {
        let zone = self.reports.invoice.zone_name();
        let total: f32 = table.widths.iter().sum();
        let (y, h) = (self.y, table.row + 2.0);
        self.fill(MARGIN, y - h, total, h, 0.88);
        let mut x = MARGIN;
        for (i, column) in table.columns.iter().enumerate() {
            let label = column.display_label(zone);
            self.cell_text(
                Pen {
                    weight: Weight::Bold,
                    size: table.font_size,
                },
                x,
                table.widths[i],
                y - h + 3.5,
                &label,
                table.numeric[i],
            );
            x += table.widths[i];
        }
        self.y -= h;
    }

    /// One report as a section: heading, header, rows, subtotals, total.
    fn section(&mut self, report: &Report) {
        let table = self.table(report);
        let title = self.options.title(&report.spec.title());
        let opening = 22.0 + 3.0 * table.row;
        if self.size != table.size || self.y - opening < BOTTOM {
            self.new_page(table.size);
        }
        let y = self.y;
        self.text(Weight::Bold, 12.0, MARGIN, y - 12.0, &title, 0.0);
        self.y -= 20.0;
        self.header(&table);
        let reports = self.reports;
        let level = report.spec.level;
        let limit = reports.settings.pdf_max_detail_rows;
        let itemised = report.spec.kind.is_itemised();
        if itemised && limit.is_some_and(|max| report.row_count() > max) {
            let note = format!(
                "{} rows: the itemised detail is in the CSV/XLSX attachment; subtotals per {} follow.",
                report.row_count(),
                level.key()
            );
            self.ensure(table.row, &table, &title);
            let y = self.y;
            self.text(
                Weight::Regular,
                table.font_size,
                MARGIN + PAD,
                y - table.row + 3.0,
                &note,
                0.3,
            );
            self.y -= table.row;
            for group in &report.groups {
                let label = format!("Subtotal {}", reports.group_label(level, group.key));
                self.totals_row(&table, &title, &label, &group.subtotal, false);
            }
        } else {
            for group in &report.groups {
                if itemised {
                    let label = format!(
                        "{}: {}",
                        level.label(),
                        reports.group_label(level, group.key)
                    );
                    self.ensure(2.0 * table.row, &table, &title);
                    let total_width: f32 = table.widths.iter().sum();
                    let (y, h) = (self.y, table.row);
                    self.fill(MARGIN, y - h, total_width, h, 0.95);
                    self.cell_text(
                        Pen {
                            weight: Weight::Bold,
                            size: table.font_size,
                        },
                        MARGIN,
                        total_width,
                        y - h + 3.0,
                        &label,
                        false,
                    );
                    self.y -= h;
                }
                let mut stripe = false;
                for row in reports.rows(group) {
                    self.ensure(table.row, &table, &title);
                    let y = self.y;
                    if stripe {
                        let total_width: f32 = table.widths.iter().sum();
                        self.fill(MARGIN, y - table.row, total_width, table.row, 0.975);
                    }
                    stripe = !stripe;
                    let mut x = MARGIN;
                    for (i, column) in table.columns.iter().enumerate() {
                        let cell = reports.cell(level, row, *column);
                        let text = display_text(
                            cell,
                            column.kind(),
                            reports.invoice.time_zone,
                            &self.look,
                        );
                        self.cell_text(
                            Pen {
                                weight: Weight::Regular,
                                size: table.font_size,
                            },
                            x,
                            table.widths[i],
                            y - table.row + 3.0,
                            &text,
                            table.numeric[i],
                        );
                        x += table.widths[i];
                    }
                    self.y -= table.row;
                    self.rows += 1;
                }
                if itemised {
                    let label = format!("Subtotal {}", reports.group_label(level, group.key));
                    if let Some(split) = &group.by_direction {
                        for (i, direction) in ["inbound", "outbound"].iter().enumerate() {
                            let part = format!("{label} ({direction})");
                            self.totals_row(&table, &title, &part, &split[i], false);
                        }
                    }
                    self.totals_row(&table, &title, &label, &group.subtotal, false);
                }
            }
        }
        if matches!(
            report.spec.kind,
            ReportKind::Summary | ReportKind::CallTypes
        ) || itemised
        {
            self.totals_row(&table, &title, "Total", &report.total, true);
        }
        self.y -= 14.0;
    }

    fn totals_row(
        &mut self,
        table: &Table,
        title: &str,
        label: &str,
        totals: &Totals,
        grand: bool,
    ) {
        // The label spans the leading columns that hold no total; a label too
        // long for them gets a line of its own above the figures.
        let label_columns = table
            .columns
            .iter()
            .take_while(|c| totals.cell(**c).is_none())
            .count()
            .max(1);
        let label_width: f32 = table.widths[..label_columns].iter().sum();
        let pad = PAD * table.font_size / BODY;
        let own_line = self.bold.measure(label, table.font_size) > label_width - 2.0 * pad;
        let lines = if own_line { 2.0 } else { 1.0 };
        self.ensure(lines * table.row + 2.0, table, title);
        let total_width: f32 = table.widths.iter().sum();
        let y = self.y;
        if grand {
            self.fill(
                MARGIN,
                y - lines * table.row,
                total_width,
                lines * table.row,
                0.9,
            );
        }
        self.rule(MARGIN, y, total_width, if grand { 0.8 } else { 0.4 });
        let (span, label_y) = if own_line {
            self.y -= table.row;
            (self.size.0 - 2.0 * MARGIN, y - table.row + 3.0)
        } else {
            (label_width, y - table.row + 3.0)
        };
        self.cell_text(
            Pen {
                weight: Weight::Bold,
                size: table.font_size,
            },
            MARGIN,
            span,
            label_y,
            label,
            false,
        );
        let y = self.y;
        let tz = self.reports.invoice.time_zone;
        let mut x = MARGIN;
        for (i, column) in table.columns.iter().enumerate() {
            if i >= label_columns {
                if let Some(cell) = totals.cell(*column) {
                    let text = display_text(cell, column.kind(), tz, &self.look);
                    self.cell_text(
                        Pen {
                            weight: Weight::Bold,
                            size: table.font_size,
                        },
                        x,
                        table.widths[i],
                        y - table.row + 3.0,
                        &text,
                        true,
                    );
                }
            }
            x += table.widths[i];
        }
        self.y -= table.row + 2.0;
    }

    /// Writes footers, fonts, the page tree and the trailer.
    fn finish(mut self) -> Result<Vec<u8>, String> {
        self.close_page();
        let count = self.pages.len();
        let invoice = self.reports.invoice;
        let left = format!("{} · Invoice {}", invoice.customer_id, invoice.display_id());
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        let pages = std::mem::take(&mut self.pages);
        for (i, page) in pages.iter().enumerate() {
            self.content = Some(Content::new());
            self.size = page.size;
            let right = format!("Page {} of {count}", i + 1);
            self.rule(MARGIN, FOOTER_Y + 10.0, page.size.0 - 2.0 * MARGIN, 0.3);
            self.text(Weight::Regular, 7.0, MARGIN, FOOTER_Y, &left, 0.35);
            let w = self.regular.measure(&right, 7.0);
            self.text(
                Weight::Regular,
                7.0,
                page.size.0 - MARGIN - w,
                FOOTER_Y,
                &right,
                0.35,
            );
            let data = self.content.take().expect("footer content").finish();
            self.hasher.update(data.as_slice());
            let compressed = miniz_compress(data.as_slice());
            self.pdf
                .stream(page.footer, &compressed)
                .filter(Filter::FlateDecode);
        }
        for page in &pages {
            let mut p = self.pdf.page(page.page);
            p.media_box(Rect::new(0.0, 0.0, page.size.0, page.size.1));
            p.parent(tree);
            p.contents_array([page.body, page.footer]);
            let mut resources = p.resources();
            let mut fonts = resources.fonts();
            fonts.pair(Name(b"R"), self.regular_refs.type0);
            fonts.pair(Name(b"B"), self.bold_refs.type0);
            fonts.finish();
            resources.finish();
            p.finish();
        }
        self.pdf
            .pages(tree)
            .kids(pages.iter().map(|p| p.page))
            .count(count as i32);
        self.pdf.catalog(catalog).pages(tree);
        // Subset tags are derived from the content, like the document ID.
        let digest = self.hasher.clone().finalize();
        let tag = |salt: u8| -> String {
            digest
                .iter()
                .skip(salt as usize)
                .take(6)
                .map(|b| (b'A' + b % 26) as char)
                .collect()
        };
        self.regular
            .embed(&mut self.pdf, self.regular_refs, &tag(0))?;
        self.bold.embed(&mut self.pdf, self.bold_refs, &tag(6))?;
        let to = invoice.to;
        let title = self
            .options
            .title(&format!("Usage report {}", invoice.display_id()));
        let mut doc_info = self.pdf.document_info(info);
        doc_info
            .title(TextStr(&title))
            .subject(TextStr(&format!(
                "Usage of customer {}",
                invoice.customer_id
            )))
            .producer(TextStr(concat!("usage-report ", env!("CARGO_PKG_VERSION"))))
            .creation_date(
                Date::new(to.year() as u16)
                    .month(to.month() as u8)
                    .day(to.day() as u8),
            );
        doc_info.finish();
        let id = digest[..16].to_vec();
        self.pdf.set_file_id((id.clone(), id));
        Ok(self.pdf.finish())
    }
}

/// The first `chars` characters of a text (a width is capped long before).
fn prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
