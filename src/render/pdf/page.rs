//! Page primitives of a PDF document — pages, text runs, fills and rules —
//! and the assembly of the finished file.

use pdf_writer::types::PageMode;
use pdf_writer::{Content, Filter, Finish, Name, Rect, Ref, Str, TextStr};
use sha2::Digest;

use crate::locale::Msg;
use crate::report::Image;

use super::deflate::Kind;
use super::font::{miniz_compress, DocFont, FontRefs, Weight};
use super::*;

impl Document<'_, '_, '_> {
    pub(super) fn alloc(&mut self) -> Ref {
        self.next += 1;
        Ref::new(self.next - 1)
    }

    pub(super) fn font(&mut self, weight: Weight) -> &mut DocFont {
        match weight {
            Weight::Regular => &mut self.regular,
            Weight::Bold => &mut self.bold,
        }
    }

    /// Closes the current page (if any) and starts a new one of `size`.
    pub(super) fn new_page(&mut self, size: (f32, f32)) {
        self.close_page();
        let (page, body, footer) = (self.alloc(), self.alloc(), self.alloc());
        self.pages.push(PageInfo {
            page,
            body,
            footer,
            size,
        });
        self.content = Some(Content::new());
        self.ink = Ink::default();
        self.size = size;
        self.y = size.1 - TOP;
    }

    pub(super) fn close_page(&mut self) {
        if let Some(content) = self.content.take() {
            let body = self.pages.last().expect("a page is open").body;
            let data = content.finish();
            self.hasher.update(data.as_slice());
            self.deflater
                .submit(&mut self.sink, body, Kind::Content, data.into_vec());
            self.end_page_tags();
        }
    }

    pub(super) fn content(&mut self) -> &mut Content {
        self.content.as_mut().expect("a page is open")
    }

    /// Draws text with its left edge at `x` and baseline at `y`.
    pub(super) fn text(
        &mut self,
        weight: Weight,
        size: f32,
        x: f32,
        y: f32,
        text: &str,
        fill: impl Into<Fill>,
    ) {
        if text.is_empty() {
            return;
        }
        let fill = fill.into();
        let mut runs = std::mem::take(&mut self.runs);
        self.font(weight).encode(text, &mut runs);
        self.begin_content(text);
        let mut ink = self.ink;
        let c = self.content.as_mut().expect("a page is open");
        if ink.fill != Some(fill) {
            match fill {
                Fill::Gray(gray) => c.set_fill_gray(gray),
                Fill::Rgb([r, g, b]) => c.set_fill_rgb(r, g, b),
            };
            ink.fill = Some(fill);
        }
        c.begin_text();
        c.next_line(x, y);
        // Each run in its face; the text position moves on by the widths,
        // and by the moves shaping asks for between glyphs. Shaped glyphs
        // whose order or number differs from the text carry the text as
        // written (ActualText), for search, copy and screen readers.
        let mut rise = 0.0;
        let mut span_end = None;
        for (i, (run, glyphs, moves)) in runs.each().enumerate() {
            if let Some((end, text)) = &run.actual {
                c.begin_marked_content_with_properties(Name(b"Span"))
                    .properties()
                    .actual_text(TextStr(text));
                span_end = Some(*end);
            }
            // The font stays set from text to text on a page (text state
            // outlives BT/ET), so it is named only when it changes.
            let font = (weight as u8, run.slot as u8, size);
            if ink.font != Some(font) {
                c.set_font(Name(FONT_NAMES[weight as usize][run.slot]), size);
                ink.font = Some(font);
            }
            if run.rise != rise {
                rise = run.rise;
                c.set_rise(rise * size);
            }
            if moves.is_empty() {
                c.show(Str(glyphs));
            } else {
                let mut shown = c.show_positioned();
                let mut items = shown.items();
                let mut from = 0;
                for (at, amount) in moves {
                    if at > from {
                        items.show(Str(&glyphs[from..at]));
                    }
                    items.adjust(amount);
                    from = at;
                }
                if from < glyphs.len() {
                    items.show(Str(&glyphs[from..]));
                }
            }
            if span_end == Some(i + 1) {
                c.end_marked_content();
                span_end = None;
            }
        }
        if rise != 0.0 {
            c.set_rise(0.0);
        }
        c.end_text();
        c.end_marked_content();
        self.ink = ink;
        self.runs = runs;
    }

    /// Draws text from `x`, cut with an ellipsis at `width` (titles and
    /// facts made from data, which may be of any length).
    pub(super) fn text_within(
        &mut self,
        pen: Pen,
        x: f32,
        y: f32,
        width: f32,
        text: &str,
        fill: impl Into<Fill>,
    ) {
        let fitted = self
            .font(pen.weight)
            .fit(text, pen.size, width)
            .into_owned();
        self.text(pen.weight, pen.size, x, y, &fitted, fill);
    }

    /// Draws text fitted into `[x, x + width]`, left or right aligned.
    pub(super) fn cell_text(
        &mut self,
        pen: Pen,
        x: f32,
        width: f32,
        y: f32,
        text: &str,
        right: bool,
    ) {
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

    pub(super) fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        self.decoration();
        self.ink.fill = Some(Fill::Gray(gray));
        let c = self.content();
        c.set_fill_gray(gray);
        c.rect(x, y, w, h);
        c.fill_nonzero();
        c.end_marked_content();
    }

    /// Headings are drawn in the profile's brand colour where it reads
    /// well on white (contrast of at least 4.5:1, WCAG AA), else black.
    pub(super) fn heading_fill(&self) -> Fill {
        self.brand_ink(4.5).map_or(Fill::Gray(0.0), Fill::Rgb)
    }

    /// The profile's brand colour where it has at least `contrast` on
    /// white paper.
    fn brand_ink(&self, contrast: f32) -> Option<[f32; 3]> {
        self.reports
            .settings
            .brand_color
            .filter(|c| c.contrast_on_white() >= contrast)
            .map(|c| c.unit())
    }

    /// Draws the profile's logo with its lower left corner at `x`, `y`,
    /// `size` points large: decoration (the company's name is text beside
    /// it), written once as an image with its opacity as a soft mask.
    pub(super) fn logo(&mut self, image: &Image, x: f32, y: f32, size: (f32, f32)) {
        let (picture, mask) = (self.alloc(), self.alloc());
        let masked = image.alpha.as_ref().map(|_| mask);
        self.image(picture, image, &image.rgb, Pixels::Colours(masked));
        if let Some(alpha) = &image.alpha {
            self.image(mask, image, alpha, Pixels::Opacity);
        }
        self.logo_ref = Some(picture);
        self.decoration();
        let c = self.content();
        c.save_state();
        c.transform([size.0, 0.0, 0.0, size.1, x, y]);
        c.x_object(Name(LOGO_NAME));
        c.restore_state();
        c.end_marked_content();
    }

    /// Writes an image of `image`'s size: its colours, or its opacity.
    fn image(&mut self, at: Ref, image: &Image, pixels: &[u8], kind: Pixels) {
        let data = miniz_compress(pixels);
        self.hasher.update(&data);
        let mut xobject = self.pdf.image_xobject(at, &data);
        xobject.filter(Filter::FlateDecode);
        xobject
            .width(image.width as i32)
            .height(image.height as i32)
            .bits_per_component(8);
        match kind {
            Pixels::Colours(mask) => {
                xobject.color_space().device_rgb();
                if let Some(mask) = mask {
                    xobject.s_mask(mask);
                }
            }
            Pixels::Opacity => xobject.color_space().device_gray(),
        }
    }

    /// Draws a rule: in the brand colour where it shows on white (3:1,
    /// WCAG's contrast for graphics that carry meaning), else gray.
    pub(super) fn rule(&mut self, x: f32, y: f32, w: f32, width: f32) {
        let stroke = self.brand_ink(3.0);
        self.decoration();
        let c = self.content();
        match stroke {
            Some([r, g, b]) => c.set_stroke_rgb(r, g, b),
            None => c.set_stroke_gray(0.35),
        };
        c.set_line_width(width);
        c.move_to(x, y);
        c.line_to(x + w, y);
        c.stroke();
        c.end_marked_content();
    }

    /// Writes the bookmarks: each report (open, so its groups show) and the
    /// groups of an itemised report beneath it, each leading to its place.
    fn write_outline(&mut self, pages: &[PageInfo]) -> Option<Ref> {
        if self.outline.is_empty() {
            return None;
        }
        let outline = std::mem::take(&mut self.outline);
        let root = self.alloc();
        let tops: Vec<Ref> = outline.iter().map(|_| self.alloc()).collect();
        let children: Vec<Vec<Ref>> = outline
            .iter()
            .map(|b| b.groups.iter().map(|_| self.alloc()).collect())
            .collect();
        let visible = tops.len() + children.iter().map(Vec::len).sum::<usize>();
        let mut o = self.pdf.outline(root);
        o.first(tops[0])
            .last(tops[tops.len() - 1])
            .count(visible as i32);
        o.finish();
        let siblings =
            |refs: &[Ref], i: usize| (i.checked_sub(1).map(|p| refs[p]), refs.get(i + 1).copied());
        for (i, bookmark) in outline.iter().enumerate() {
            let mut item = self.pdf.outline_item(tops[i]);
            item.title(TextStr(&bookmark.title)).parent(root);
            let (prev, next) = siblings(&tops, i);
            if let Some(prev) = prev {
                item.prev(prev);
            }
            if let Some(next) = next {
                item.next(next);
            }
            let mine = &children[i];
            if let (Some(first), Some(last)) = (mine.first(), mine.last()) {
                item.first(*first).last(*last).count(mine.len() as i32);
            }
            item.dest()
                .page(pages[bookmark.place.page].page)
                .xyz(0.0, bookmark.place.top, None);
            item.finish();
            for (j, (name, place)) in bookmark.groups.iter().enumerate() {
                let mut child = self.pdf.outline_item(mine[j]);
                child.title(TextStr(name)).parent(tops[i]);
                let (prev, next) = siblings(mine, j);
                if let Some(prev) = prev {
                    child.prev(prev);
                }
                if let Some(next) = next {
                    child.next(next);
                }
                child
                    .dest()
                    .page(pages[place.page].page)
                    .xyz(0.0, place.top, None);
                child.finish();
            }
        }
        Some(root)
    }

    /// Writes footers, fonts, the page tree and the trailer.
    /// Returns how many objects the file numbers.
    pub(super) fn finish(mut self) -> Result<u64, String> {
        self.close_page();
        let count = self.pages.len();
        let invoice = self.reports.invoice;
        let words = self.reports.words();
        let left = words.fill(
            Msg::Footer,
            &[
                ("customer", &invoice.customer_id),
                ("invoice", &invoice.display_id()),
            ],
        );
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        self.write_tree();
        // Footers are page furniture; they are drawn with the pages still
        // listed (marking content needs the page).
        self.begin_furniture();
        let pages = self.pages.clone();
        for (i, page) in pages.iter().enumerate() {
            self.content = Some(Content::new());
            self.ink = Ink::default();
            self.size = page.size;
            let right = words.fill(
                Msg::PageOf,
                &[("n", &(i + 1).to_string()), ("count", &count.to_string())],
            );
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
            self.deflater
                .submit(&mut self.sink, page.footer, Kind::Content, data.into_vec());
        }
        self.deflater.write(&mut self.sink, true);
        self.end_furniture();
        self.pages.clear();
        // The faces each weight drew with: its own always, the fallback
        // when used.
        let mut embedded = Vec::new();
        for weight in [Weight::Regular, Weight::Bold] {
            for slot in 0..self.font(weight).slots() {
                if !self.font(weight).used(slot) {
                    continue;
                }
                let refs = match (weight, slot) {
                    (Weight::Regular, 0) => self.regular_refs,
                    (Weight::Bold, 0) => self.bold_refs,
                    _ => FontRefs {
                        type0: self.alloc(),
                        cid: self.alloc(),
                        descriptor: self.alloc(),
                        file: self.alloc(),
                        to_unicode: self.alloc(),
                    },
                };
                embedded.push((weight, slot, refs));
            }
        }
        for (i, page) in pages.iter().enumerate() {
            let mut p = self.pdf.page(page.page);
            p.media_box(Rect::new(0.0, 0.0, page.size.0, page.size.1));
            p.parent(tree);
            p.struct_parents(i as i32)
                .tab_order(pdf_writer::types::TabOrder::StructureOrder);
            p.contents_array([page.body, page.footer]);
            let mut resources = p.resources();
            let mut fonts = resources.fonts();
            for (weight, slot, refs) in &embedded {
                fonts.pair(Name(FONT_NAMES[*weight as usize][*slot]), refs.type0);
            }
            fonts.finish();
            if let (0, Some(logo)) = (i, self.logo_ref) {
                resources.x_objects().pair(Name(LOGO_NAME), logo);
            }
            resources.finish();
            p.finish();
        }
        self.pdf
            .pages(tree)
            .kids(pages.iter().map(|p| p.page))
            .count(count as i32);
        let outline = self.write_outline(&pages);
        // PDF/A: the facts of the information dictionary again as XMP (one
        // text for both, as PDF/A asks them to agree), the sRGB output
        // intent, and the embedded CSV reports.
        let (title, subject) = self.options.document_title(self.reports);
        let (title, subject) = (archive::plain(&title), archive::plain(&subject));
        let lang = self.tags.lang;
        let producer = concat!("usage-report ", env!("CARGO_PKG_VERSION"));
        let facts = archive::Facts {
            title: &title,
            subject: &subject,
            producer,
            date: invoice.to,
            lang,
        };
        let (metadata, icc) = (self.alloc(), self.alloc());
        let embeds = !self.embedded.is_empty();
        archive::write_metadata(
            &mut self.pdf,
            metadata,
            icc,
            &facts.xmp(archive::Facts::part(embeds)),
        );
        let files = std::mem::take(&mut self.embedded);
        let mut next = self.next;
        let specs = archive::embed_files(&mut self.pdf, &files, facts.pdf_date(), || {
            next += 1;
            Ref::new(next - 1)
        });
        self.next = next;
        let mut root = self.pdf.catalog(catalog);
        root.pages(tree);
        if let Some(outline) = outline {
            root.outlines(outline).page_mode(PageMode::UseOutlines);
        }
        root.metadata(metadata).lang(TextStr(lang));
        root.mark_info().marked(true);
        root.pair(Name(b"StructTreeRoot"), self.tags.root);
        root.viewer_preferences().display_doc_title(true);
        archive::output_intent(&mut root, icc);
        if embeds {
            let mut names = root.names();
            let mut tree = names.embedded_files();
            let mut entries = tree.names();
            for (name, spec) in &specs {
                entries.insert(Str(name.as_bytes()), *spec);
            }
            entries.finish();
            tree.finish();
            names.finish();
            root.insert(Name(b"AF"))
                .array()
                .items(specs.iter().map(|(_, spec)| *spec));
        }
        root.finish();
        // Subset tags are derived from the content, like the document ID.
        let digest = self.hasher.clone().finalize();
        // Six capital letters per embedded face, from the digest and the
        // face's place (any number of faces gets whole tags).
        let tag = |face: usize| -> String {
            let mut h = sha2::Sha256::new();
            h.update(digest);
            h.update((face as u64).to_be_bytes());
            h.finalize()
                .iter()
                .take(6)
                .map(|b| (b'A' + b % 26) as char)
                .collect()
        };
        for (i, (weight, slot, refs)) in embedded.iter().enumerate() {
            let font = match weight {
                Weight::Regular => &self.regular,
                Weight::Bold => &self.bold,
            };
            font.embed(*slot, &mut self.pdf, *refs, &tag(i))?;
        }
        let mut doc_info = self.pdf.document_info(info);
        doc_info
            .title(TextStr(&title))
            .subject(TextStr(&subject))
            .producer(TextStr(producer))
            .creation_date(facts.pdf_date());
        doc_info.finish();
        // The ID goes into the cross-reference stream (pdf-writer's trailer
        // is replaced by it).
        let id = digest[..16].to_vec();
        let streams = std::mem::take(&mut self.tags.streams);
        // pdf-writer ends its part with a cross-reference stream of its own
        // (six bytes an object up to the largest id, where its plain table
        // would take twenty); what it holds is read, and the stream itself
        // is replaced by ours under the same id.
        let objects = self.next as u64;
        let xref = self.alloc();
        let mut written = Vec::new();
        let file = std::mem::replace(&mut self.pdf, pdf_writer::Pdf::new())
            .finish_with_xref_stream_and_filter(xref, |data| {
                written = super::xref::occupied(data, xref);
                (
                    Vec::new(),
                    pdf_writer::XRefFilter::Single(Filter::FlateDecode),
                )
            });
        streams
            .assemble(&mut self.sink, file, &written, xref, catalog, info, &id)
            .map_err(|e| format!("cannot be written: {e}"))?;
        Ok(objects)
    }
}

/// What an image's pixels are.
enum Pixels {
    /// RGB, with the soft mask that gives their opacity, if any.
    Colours(Option<Ref>),
    /// One gray per pixel: the opacity of another image (a soft mask).
    Opacity,
}

/// The resource name of the logo (on the cover).
const LOGO_NAME: &[u8] = b"Logo";

/// The resource names of each weight's faces: `R` and `B` for the first
/// (the brand face, or DejaVu), then one per face after it.
const FONT_NAMES: [[&[u8]; super::font::CHAIN]; 2] = [
    [b"R", b"R1", b"R2", b"R3", b"R4", b"R5", b"R6", b"R7"],
    [b"B", b"B1", b"B2", b"B3", b"B4", b"B5", b"B6", b"B7"],
];
