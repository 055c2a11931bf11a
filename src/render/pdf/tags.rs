//! The structure tree of a tagged PDF (PDF/UA-1): what each drawn text is
//! — a heading, a table's header cell with its scope, a data cell — in
//! reading order, and what is page furniture (footers, the headings and
//! table headers repeated on later pages, subtotals carried across a page
//! break, rules and fills), marked as artifact so assistive technology
//! skips it.
//!
//! An element is written as soon as it closes, into an object stream (see
//! `xref`), so memory holds only the open path (document, report, table,
//! row) with its children's references.

use pdf_writer::types::TableHeaderScope;
use pdf_writer::{Finish, Name, Ref};

use super::xref::{push_int, ObjectStreams};
use super::Document;

/// Appends `N 0 R `.
fn push_ref(out: &mut Vec<u8>, id: Ref) {
    push_int(out, id.get() as u64);
    out.extend_from_slice(b" 0 R ");
}

/// What a structure element is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Document,
    Sect,
    H1,
    H2,
    H3,
    P,
    Table,
    THead,
    TBody,
    TR,
    /// A header cell: what it heads, and how many columns it spans.
    TH(TableHeaderScope, i32),
    /// A data cell and how many columns it spans.
    TD(i32),
}

impl Role {
    /// Its structure type, also the tag of its marked content in the page.
    fn tag(self) -> Name<'static> {
        Name(match self {
            Role::Document => b"Document",
            Role::Sect => b"Sect",
            Role::H1 => b"H1",
            Role::H2 => b"H2",
            Role::H3 => b"H3",
            Role::P => b"P",
            Role::Table => b"Table",
            Role::THead => b"THead",
            Role::TBody => b"TBody",
            Role::TR => b"TR",
            Role::TH(..) => b"TH",
            Role::TD(_) => b"TD",
        })
    }
}

/// A child of an element: another element, or marked content on a page.
enum Kid {
    Element(Ref),
    Content { page: Ref, mcid: i32 },
}

/// An element still receiving children.
struct Open {
    id: Ref,
    role: Role,
    parent: Ref,
    kids: Vec<Kid>,
    /// The language of its text when its script says it differs from the
    /// document's (an Arabic site name in an English report).
    lang: Option<&'static str>,
}

/// The structure tree being written.
pub(super) struct Tags {
    /// The structure tree root.
    pub root: Ref,
    /// The document's language, e.g. `en` or `de-DE`.
    pub lang: &'static str,
    open: Vec<Open>,
    /// The document element, once closed.
    pub document: Option<Ref>,
    /// Per finished page, its parent-tree array (each MCID's element).
    pub page_arrays: Vec<Ref>,
    /// The open page's elements, by MCID.
    page_elements: Vec<Ref>,
    /// Inside page furniture: what is drawn is artifact, not content.
    furniture: u32,
    /// Elements opened inside page furniture: none is made.
    skipped: u32,
    /// Where the elements and parent-tree arrays are written.
    pub streams: ObjectStreams,
}

impl Tags {
    pub fn new(root: Ref, lang: &'static str) -> Tags {
        Tags {
            root,
            lang,
            open: Vec::new(),
            document: None,
            page_arrays: Vec::new(),
            page_elements: Vec::new(),
            furniture: 0,
            skipped: 0,
            streams: ObjectStreams::default(),
        }
    }
}

impl Document<'_, '_, '_> {
    /// Opens an element as the last child of the open one.
    /// (Inside page furniture no element is made.)
    pub(super) fn open(&mut self, role: Role) {
        if self.tags.furniture > 0 {
            self.tags.skipped += 1;
            return;
        }
        let id = self.alloc();
        let parent = self.tags.open.last().map_or(self.tags.root, |o| o.id);
        self.tags.open.push(Open {
            id,
            role,
            parent,
            kids: Vec::new(),
            lang: None,
        });
    }

    /// Closes the open element and writes it (into an object stream).
    pub(super) fn close(&mut self) {
        if self.tags.skipped > 0 {
            self.tags.skipped -= 1;
            return;
        }
        let open = self.tags.open.pop().expect("an element is open");
        let page = open.kids.iter().find_map(|kid| match kid {
            Kid::Content { page, .. } => Some(*page),
            Kid::Element(_) => None,
        });
        let out = self.tags.streams.object(open.id);
        // Written short (no optional /Type): a large table has an element
        // per cell.
        out.extend_from_slice(b"<</S/");
        out.extend_from_slice(open.role.tag().0);
        out.extend_from_slice(b"/P ");
        push_ref(out, open.parent);
        if let Some(page) = page {
            out.extend_from_slice(b"/Pg ");
            push_ref(out, page);
        }
        if let Some(lang) = open.lang {
            out.extend_from_slice(b"/Lang(");
            out.extend_from_slice(lang.as_bytes());
            out.push(b')');
        }
        match open.role {
            Role::TH(scope, span) => {
                out.extend_from_slice(match scope {
                    TableHeaderScope::Row => b"/A<</O/Table/Scope/Row",
                    TableHeaderScope::Column => b"/A<</O/Table/Scope/Column",
                    TableHeaderScope::Both => b"/A<</O/Table/Scope/Both",
                });
                if span > 1 {
                    out.extend_from_slice(b"/ColSpan ");
                    push_int(out, span as u64);
                }
                out.extend_from_slice(b">>");
            }
            Role::TD(span) if span > 1 => {
                out.extend_from_slice(b"/A<</O/Table/ColSpan ");
                push_int(out, span as u64);
                out.extend_from_slice(b">>");
            }
            _ => {}
        }
        let single = open.kids.len() == 1;
        out.extend_from_slice(if single { b"/K " } else { b"/K[" });
        for kid in &open.kids {
            match *kid {
                Kid::Element(id) => push_ref(out, id),
                Kid::Content { page: on, mcid } if Some(on) == page => {
                    push_int(out, mcid as u64);
                    if !single {
                        out.push(b' ');
                    }
                }
                Kid::Content { page: on, mcid } => {
                    out.extend_from_slice(b"<</Type/MCR/Pg ");
                    push_ref(out, on);
                    out.extend_from_slice(b"/MCID ");
                    push_int(out, mcid as u64);
                    out.extend_from_slice(b">> ");
                }
            }
        }
        out.extend_from_slice(if single { b">>\n" } else { b"]>>\n" });
        if self.tags.streams.full() {
            let stream = self.alloc();
            self.tags
                .streams
                .flush(&mut self.sink, &mut self.deflater, stream);
        }
        match self.tags.open.last_mut() {
            Some(parent) => parent.kids.push(Kid::Element(open.id)),
            None => self.tags.document = Some(open.id),
        }
    }

    /// An element holding one piece of drawn content.
    pub(super) fn tagged(&mut self, role: Role, draw: impl FnOnce(&mut Self)) {
        self.open(role);
        draw(self);
        self.close();
    }

    /// Draws page furniture: marked as artifact, not read out.
    pub(super) fn furniture(&mut self, draw: impl FnOnce(&mut Self)) {
        self.begin_furniture();
        draw(self);
        self.end_furniture();
    }

    pub(super) fn begin_furniture(&mut self) {
        self.tags.furniture += 1;
    }

    pub(super) fn end_furniture(&mut self) {
        self.tags.furniture -= 1;
    }

    /// Starts the marked content of `text`, drawn next: the open element's
    /// (with a new MCID), or an artifact.
    pub(super) fn begin_content(&mut self, text: &str) {
        let page = self.pages.last().expect("a page is open").page;
        let top = match self.tags.furniture {
            0 => self.tags.open.last_mut(),
            _ => None,
        };
        let Some(top) = top else {
            self.content().begin_marked_content(Name(b"Artifact"));
            return;
        };
        if top.lang.is_none() {
            top.lang = span_language(text, self.tags.lang);
        }
        let mcid = self.tags.page_elements.len() as i32;
        self.tags.page_elements.push(top.id);
        top.kids.push(Kid::Content { page, mcid });
        let tag = top.role.tag();
        self.content()
            .begin_marked_content_with_properties(tag)
            .properties()
            .identify(mcid);
    }

    /// Draws a decoration (a rule, a fill): always an artifact.
    pub(super) fn decoration(&mut self) {
        self.content().begin_marked_content(Name(b"Artifact"));
    }

    /// Writes the open page's parent-tree array: each MCID's element.
    pub(super) fn end_page_tags(&mut self) {
        let array = self.alloc();
        let elements = std::mem::take(&mut self.tags.page_elements);
        let out = self.tags.streams.object(array);
        out.push(b'[');
        for element in elements {
            push_ref(out, element);
        }
        out.extend_from_slice(b"]\n");
        self.tags.page_arrays.push(array);
    }

    /// Writes the structure tree root over the document element and the
    /// parent tree (page `i` has `/StructParents i`).
    pub(super) fn write_tree(&mut self) {
        while !self.tags.open.is_empty() {
            self.close();
        }
        let stream = self.alloc();
        self.tags
            .streams
            .flush(&mut self.sink, &mut self.deflater, stream);
        self.deflater.write(&mut self.sink, true);
        let mut root = self
            .pdf
            .indirect(self.tags.root)
            .start::<pdf_writer::writers::StructTreeRoot>();
        if let Some(document) = self.tags.document {
            root.child(document);
        }
        let mut parents = root.parent_tree();
        let mut nums = parents.nums();
        for (i, array) in self.tags.page_arrays.iter().enumerate() {
            nums.insert(i as i32, *array);
        }
        nums.finish();
        parents.finish();
        root.parent_tree_next_key(self.tags.page_arrays.len() as i32);
        root.finish();
    }
}

/// The language an element names for its text, when it differs from the
/// document's (`de-DE` is `de`): none where the text is in the document's
/// script, and none for text of Chinese characters alone in a Japanese
/// document, where they are as likely kanji.
fn span_language(text: &str, document: &str) -> Option<&'static str> {
    let document = document.split('-').next().unwrap_or_default();
    language_of(text).filter(|l| *l != document && !(*l == "zh" && document == "ja"))
}

/// The language a text's script names, where one script means one
/// language to a screen reader: Hebrew, Arabic, Devanagari (Hindi), Thai,
/// Korean, Greek, Japanese (kana), Chinese (Han without kana). Latin and
/// Cyrillic, shared by many languages, name none.
fn language_of(text: &str) -> Option<&'static str> {
    if text.bytes().all(|b| b < 0xCD) {
        return None;
    }
    if text.chars().any(|c| matches!(c as u32, 0x3040..=0x30FF)) {
        return Some("ja");
    }
    text.chars().find_map(|c| match c as u32 {
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Some("el"),
        0x0590..=0x05FF | 0xFB1D..=0xFB4F => Some("he"),
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFE => {
            Some("ar")
        }
        0x0900..=0x097F => Some("hi"),
        0x0E00..=0x0E7F => Some("th"),
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7A3 => Some("ko"),
        0x3400..=0x4DBF | 0x4E00..=0x9FFF => Some("zh"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::span_language;

    #[test]
    fn text_names_its_language_where_it_differs_from_the_document() {
        assert_eq!(span_language("London", "en"), None);
        assert_eq!(span_language("القاهرة", "en"), Some("ar"));
        assert_eq!(span_language("Ελλάδα", "el-GR"), None);
        assert_eq!(span_language("東京オフィス", "en"), Some("ja"));
        assert_eq!(span_language("北京办公室", "en"), Some("zh"));
        // Kanji alone in a Japanese document are read as Japanese.
        assert_eq!(span_language("東京", "ja-JP"), None);
        assert_eq!(span_language("서울", "ja-JP"), Some("ko"));
    }
}
