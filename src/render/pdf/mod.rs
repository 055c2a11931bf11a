//! PDF attachments: one paginated document per invoice, written directly
//! with pdf-writer. The table layout is ours: column widths from the content,
//! portrait or landscape per report, a repeated header on every page, group
//! headings, subtotals and totals, and "Page n of N" footers.
//!
//! Deterministic by construction: objects are written in a fixed order, dates
//! come from the invoice, and the document ID is a hash of the content. Text
//! is drawn with embedded, subset fonts (see `font`): DejaVu Sans Condensed
//! for Latin, Greek and Cyrillic; Noto Sans for Arabic, Hebrew, Devanagari
//! and Thai, shaped and in bidi order; Droid Sans Fallback for Chinese and
//! Japanese; Nanum Square for Korean. A character no bundled font has is
//! shown as "�" and counted in the manifest's warnings.

mod archive;
mod deflate;
mod font;
mod page;
mod table;
mod tags;
mod xref;

use std::borrow::Cow;

use pdf_writer::types::TableHeaderScope;
use pdf_writer::{Content, Pdf, Ref};
use sha2::{Digest, Sha256};

use self::font::{DocFont, FontRefs, Weight};
use self::tags::{Role, Tags};
use super::cells::{display_text, title_block};
use super::csv::{CsvFile, CsvRenderer};
use super::{Format, Paper, RenderOptions, Renderer};
use crate::column::Column;
use crate::error::{Error, Result};
use crate::locale::{Msg, Presentation};
use crate::output::{Attachment, AttachmentMeta, OutputDir};
use crate::report::InvoiceReports;

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
/// Smallest font a table is set in before free text is cut.
const MIN_FONT: f32 = 6.0;
/// Text columns are sized from this many rows; numbers from all of them.
const TEXT_SAMPLE_ROWS: usize = 5_000;
/// The most indirect objects a PDF/A-2 or -3 file may number (ISO 19005-2,
/// 6.1.13): about 760,000 itemised rows of a tagged table.
const PDF_A_MAX_OBJECTS: u64 = 8_388_607;

/// Most groups of one itemised report the bookmarks list (a report of more
/// says so in the manifest).
const MAX_GROUP_BOOKMARKS: usize = 1_000;

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
        // With `pdf_embed_csv` the machine CSV reports travel inside the PDF
        // (PDF/A-3 associated files), and the manifest lists them.
        let embedded = match reports.settings.pdf_embed_csv {
            true => CsvRenderer::machine_files(&self.options, reports)?,
            false => Vec::new(),
        };
        let entries: Vec<Attachment> = embedded
            .iter()
            .map(|file| Attachment {
                path: file.name.clone(),
                format: Format::Csv.key(),
                level: Some(file.level),
                report: Some(file.report),
                rows: file.rows,
                sha256: crate::hash::sha256_hex(&file.bytes),
                group: None,
                entries: Vec::new(),
            })
            .collect();
        let meta = AttachmentMeta {
            file_name: name.clone(),
            format: Format::Pdf.key(),
            level: None,
            report: None,
        };
        // The document is written into the attachment as it is made.
        let mut missing = 0;
        out.attachment(meta, |w| {
            let mut doc = Document::new(reports, &self.options, w);
            doc.embedded = embedded;
            doc.open(Role::Document);
            doc.cover();
            for report in &reports.reports {
                doc.section(report);
            }
            missing = doc.regular.missing + doc.bold.missing;
            let rows = doc.rows;
            for bookmark in doc.outline.iter().filter(|b| b.unlisted > 0) {
                out.warn(format!(
                    "{name}: the bookmarks of \"{}\" list its first {} groups of {}",
                    bookmark.title,
                    bookmark.groups.len(),
                    bookmark.groups.len() + bookmark.unlisted
                ));
            }
            let objects = doc
                .finish()
                .map_err(|e| Error::output(&name, "the PDF", e))?;
            if let Some(warning) = too_many_objects(&name, objects) {
                out.warn(warning);
            }
            Ok(rows)
        })?;
        if missing > 0 {
            out.warn(format!(
                "{name}: {missing} character(s) the PDF cannot draw (no bundled font has them) are shown as \u{FFFD}; the CSV and XLSX hold them as written"
            ));
        }
        if !entries.is_empty() {
            out.set_entries(&name, entries);
        }
        Ok(())
    }
}

/// A tagged table costs an object a cell: past PDF/A-2's limit the
/// archival claim no longer holds, and the manifest says so.
fn too_many_objects(name: &str, objects: u64) -> Option<String> {
    (objects > PDF_A_MAX_OBJECTS).then(|| format!(
        "{name}: {objects} objects, more than the {PDF_A_MAX_OBJECTS} PDF/A allows, so it is not a valid PDF/A; set the profile's pdf_max_detail_rows to keep itemised detail in the CSV and XLSX"
    ))
}

/// Page width and height in points, portrait.
fn paper_size(paper: Paper) -> (f32, f32) {
    match paper {
        Paper::A4 => (595.28, 841.89),
        Paper::Letter => (612.0, 792.0),
    }
}

/// A finished page: its objects and size.
#[derive(Clone, Copy)]
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
    /// Each column's header, on one line or two.
    headers: Vec<Vec<String>>,
    widths: Vec<f32>,
    numeric: Vec<bool>,
    size: (f32, f32),
    font_size: f32,
    row: f32,
}

struct Document<'r, 'a, 'w> {
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
    /// The runs of the text being drawn (reused).
    runs: font::Runs,
    hasher: Sha256,
    /// Data rows drawn (records or summary lines).
    rows: u64,
    /// The itemised group being drawn and its rows drawn so far, carried
    /// from page to page.
    carry: Option<Carry>,
    /// The document's bookmarks: the cover and each report, with the groups
    /// of an itemised report beneath it.
    outline: Vec<Bookmark>,
    /// The machine CSV reports the PDF carries (`pdf_embed_csv`).
    embedded: Vec<CsvFile>,
    /// The structure tree (tagged PDF).
    tags: Tags,
    /// The fill gray and font the page's content has set, so they are
    /// written only when they change.
    ink: Ink,
    /// Streams being deflated beside the layout.
    deflater: deflate::Deflater,
    /// The logo's image, drawn on the cover.
    logo_ref: Option<Ref>,
    /// The file, written as the document is made.
    sink: xref::Sink<'w>,
}

/// What a page's content stream has set so far.
#[derive(Clone, Copy, Default)]
struct Ink {
    fill: Option<Fill>,
    /// Weight, face slot and size.
    font: Option<(u8, u8, f32)>,
}

/// The colour text and areas are filled with.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Fill {
    Gray(f32),
    Rgb([f32; 3]),
}

impl From<f32> for Fill {
    fn from(gray: f32) -> Fill {
        Fill::Gray(gray)
    }
}

/// Where a bookmark leads: a page (its index) and a height on it.
#[derive(Clone, Copy)]
struct Place {
    page: usize,
    top: f32,
}

/// A bookmark of the outline, with its groups.
struct Bookmark {
    title: String,
    place: Place,
    groups: Vec<(String, Place)>,
    /// Groups beyond [`MAX_GROUP_BOOKMARKS`], not listed.
    unlisted: usize,
}

/// An itemised group's running subtotal, carried across a page break.
#[derive(Clone)]
struct Carry {
    /// The group as named in headings, e.g. "London HQ".
    label: String,
    running: crate::report::Totals,
    rows: u64,
}

impl<'r, 'a, 'w> Document<'r, 'a, 'w> {
    fn new(
        reports: &'r InvoiceReports<'a>,
        options: &'r RenderOptions,
        out: &'w mut (dyn std::io::Write + Send),
    ) -> Self {
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
        let tree_root = Ref::new(next);
        next += 1;
        let portrait = paper_size(paper);
        let look = &reports.settings.look;
        let lang = if look.localised {
            look.locale.key()
        } else {
            "en"
        };
        Document {
            look: reports.settings.look.clone(),
            reports,
            options,
            pdf: Pdf::new(),
            next,
            regular: DocFont::new(Weight::Regular, reports.settings.fonts[0].as_ref()),
            bold: DocFont::new(Weight::Bold, reports.settings.fonts[1].as_ref()),
            regular_refs,
            bold_refs,
            portrait,
            pages: Vec::new(),
            content: None,
            size: portrait,
            y: 0.0,
            runs: font::Runs::default(),
            hasher: Sha256::new(),
            rows: 0,
            carry: None,
            outline: Vec::new(),
            embedded: Vec::new(),
            tags: Tags::new(tree_root, lang),
            ink: Ink::default(),
            deflater: deflate::Deflater::default(),
            logo_ref: None,
            sink: xref::Sink::new(out),
        }
    }

    /// Where the next line starts on the current page.
    fn here(&self) -> Place {
        Place {
            page: self.pages.len() - 1,
            top: self.y,
        }
    }

    /// Page 1: what the document is, for whom, and the invoice's usage totals.
    fn cover(&mut self) {
        self.new_page(self.portrait);
        let reports = self.reports;
        let top = self.y;
        let words = reports.words();
        let title = self.options.title(words.get(Msg::UsageReport), words);
        self.outline.push(Bookmark {
            title: title.clone(),
            place: self.here(),
            groups: Vec::new(),
            unlisted: 0,
        });
        let line = self.size.0 - 2.0 * MARGIN;
        let pen = |weight, size| Pen { weight, size };
        // The company at the right, the title left of it; both cut rather
        // than run off the page or over each other.
        let mut company_width = 0.0;
        // Read first: the title, then the company.
        let company = reports.settings.company.as_ref().map(|company| {
            let shown = self.bold.fit(company, 10.0, line / 2.0).into_owned();
            company_width = self.bold.measure(&shown, 10.0);
            shown
        });
        // The logo at the top right, the company left of it.
        let mut facts_from = top - 40.0;
        let logo_width = match reports.settings.logo.clone() {
            Some(image) => {
                let (w, h) = image.drawn_size();
                let x = self.size.0 - MARGIN - w;
                let bottom = top + 4.0 - h;
                self.logo(&image, x, bottom, (w, h));
                // The facts below run under the logo: clear of it.
                facts_from = facts_from.min(bottom - 10.0);
                w + 10.0
            }
            None => 0.0,
        };
        let room = line - logo_width - company_width - if company_width > 0.0 { 12.0 } else { 0.0 };
        let heading = self.heading_fill();
        self.tagged(Role::H1, |doc| {
            doc.text_within(
                pen(Weight::Bold, 18.0),
                MARGIN,
                top - 16.0,
                room,
                &title,
                heading,
            )
        });
        if let Some(shown) = company {
            let x = self.size.0 - MARGIN - logo_width - company_width;
            self.tagged(Role::P, |doc| {
                doc.text(Weight::Bold, 10.0, x, top - 12.0, &shown, 0.3)
            });
        }
        let mut y = facts_from;
        // The facts as a table of row headers and values.
        self.open(Role::Table);
        for (label, value) in title_block(reports, self.options) {
            self.open(Role::TR);
            self.tagged(Role::TH(TableHeaderScope::Row, 1), |doc| {
                doc.text_within(pen(Weight::Bold, 9.0), MARGIN, y, 76.0, label, 0.3)
            });
            self.tagged(Role::TD(1), |doc| {
                doc.text_within(
                    pen(Weight::Regular, 9.0),
                    MARGIN + 80.0,
                    y,
                    line - 80.0,
                    &value,
                    0.0,
                )
            });
            self.close();
            y -= 13.0;
        }
        self.close();
        y -= 10.0;
        self.tagged(Role::H2, |doc| {
            doc.text(
                Weight::Bold,
                11.0,
                MARGIN,
                y,
                words.get(Msg::UsageTotals),
                heading,
            )
        });
        y -= 6.0;
        self.rule(MARGIN, y, 260.0, 0.6);
        y -= 12.0;
        let t = reports.totals;
        let tz = reports.invoice.time_zone;
        let zone = reports.invoice.zone_name();
        self.open(Role::Table);
        for column in Column::SUMMARY {
            let label = &words.column(column, zone, true);
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
            self.open(Role::TR);
            self.tagged(Role::TH(TableHeaderScope::Row, 1), |doc| {
                doc.text(weight, 9.0, MARGIN, y, label, 0.0)
            });
            let w = self.font(weight).measure(&value, 9.0);
            self.tagged(Role::TD(1), |doc| {
                doc.text(weight, 9.0, MARGIN + 260.0 - w, y, &value, 0.0)
            });
            self.close();
            y -= 13.0;
        }
        self.close();
        self.y = y - 18.0;
    }
}

/// The first `chars` characters of a text (a width is capped long before).
fn prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_past_pdf_a_object_limit_is_said_to_be_no_pdf_a() {
        assert_eq!(too_many_objects("x.pdf", PDF_A_MAX_OBJECTS), None);
        let warning = too_many_objects("x.pdf", PDF_A_MAX_OBJECTS + 1).unwrap();
        assert!(warning.starts_with("x.pdf: 8388608 objects"), "{warning}");
        assert!(warning.contains("pdf_max_detail_rows"), "{warning}");
    }
}
