//! The embedded fonts (DejaVu Sans Condensed and its bold, vendored with
//! their licence): glyph lookup and measurement while drawing, then a subset
//! of just the glyphs used, embedded as a CID font with a ToUnicode map so the
//! text can be searched and copied.

use std::collections::HashMap;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::Face;

static REGULAR_DATA: &[u8] = include_bytes!("fonts/DejaVuSansCondensed.ttf");
static BOLD_DATA: &[u8] = include_bytes!("fonts/DejaVuSansCondensed-Bold.ttf");

/// Longest prefix of a text that is measured to fit a column.
const MAX_FITTED_CHARS: usize = 1024;

/// Shown, and counted as a warning, for a character the font cannot draw.
pub const PLACEHOLDER: char = '\u{FFFD}';

/// Which of the two embedded faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// A parsed face, shared by every document of the process.
struct Embedded {
    face: Face<'static>,
    data: &'static [u8],
    postscript_name: &'static str,
}

fn faces() -> &'static [Embedded; 2] {
    static FACES: OnceLock<[Embedded; 2]> = OnceLock::new();
    FACES.get_or_init(|| {
        let parse = |data: &'static [u8], name| Embedded {
            face: Face::parse(data, 0).expect("the vendored font parses"),
            data,
            postscript_name: name,
        };
        [
            parse(REGULAR_DATA, "DejaVuSansCondensed"),
            parse(BOLD_DATA, "DejaVuSansCondensed-Bold"),
        ]
    })
}

/// One face as used by one document: the glyphs it drew (remapped to the
/// subset's ids) and what text each stands for.
pub struct DocFont {
    weight: Weight,
    units_per_em: f32,
    remapper: GlyphRemapper,
    /// Per character: new glyph id and advance in font units.
    cache: HashMap<char, (u16, u16)>,
    /// Per new glyph id: the character it shows (for ToUnicode).
    unicode: Vec<Option<char>>,
    /// Per new glyph id: the advance in font units.
    advances: Vec<u16>,
    placeholder: (u16, u16),
    pub missing: u64,
}

impl DocFont {
    pub fn new(weight: Weight) -> DocFont {
        let face = &faces()[weight as usize].face;
        let mut font = DocFont {
            weight,
            units_per_em: face.units_per_em() as f32,
            remapper: GlyphRemapper::new(),
            cache: HashMap::new(),
            unicode: vec![None],
            advances: vec![0],
            placeholder: (0, 0),
            missing: 0,
        };
        let placeholder = font
            .lookup(PLACEHOLDER)
            .or_else(|| font.lookup('?'))
            .expect("the font has '?'");
        font.placeholder = placeholder;
        font
    }

    fn lookup(&mut self, ch: char) -> Option<(u16, u16)> {
        if let Some(hit) = self.cache.get(&ch) {
            return Some(*hit);
        }
        let face = &faces()[self.weight as usize].face;
        let gid = face.glyph_index(ch)?;
        let advance = face.glyph_hor_advance(gid).unwrap_or(0);
        let new = self.remapper.remap(gid.0);
        let slot = new as usize;
        if self.unicode.len() <= slot {
            self.unicode.resize(slot + 1, None);
            self.advances.resize(slot + 1, 0);
        }
        self.unicode[slot].get_or_insert(ch);
        self.advances[slot] = advance;
        self.cache.insert(ch, (new, advance));
        Some((new, advance))
    }

    /// The glyph and advance that draw `ch`: control characters are drawn as
    /// nothing; a character the font lacks as the placeholder (and counted).
    fn glyph(&mut self, ch: char) -> Option<(u16, u16)> {
        if ch.is_control() {
            return None;
        }
        match self.lookup(ch) {
            Some(g) => Some(g),
            None => {
                self.missing += 1;
                Some(self.placeholder)
            }
        }
    }

    /// Width of `text` at `size` points (characters the font lacks are
    /// measured as the placeholder but not counted until drawn).
    pub fn measure(&mut self, text: &str, size: f32) -> f32 {
        let mut units = 0u32;
        for ch in text.chars() {
            if ch.is_control() {
                continue;
            }
            let (_, adv) = self.lookup(ch).unwrap_or(self.placeholder);
            units += adv as u32;
        }
        units as f32 * size / self.units_per_em
    }

    /// Appends the glyph ids of `text` (two bytes each) to `out`.
    pub fn encode(&mut self, text: &str, out: &mut Vec<u8>) {
        for ch in text.chars() {
            if let Some((gid, _)) = self.glyph(ch) {
                out.extend_from_slice(&gid.to_be_bytes());
            }
        }
    }

    /// `text` cut with an ellipsis so that it fits `width` points.
    pub fn fit<'t>(&mut self, text: &'t str, size: f32, width: f32) -> std::borrow::Cow<'t, str> {
        // A column sized to its widest text must not cut it over rounding.
        let width = width + 0.01;
        // No column shows more than a few hundred characters: a huge field is
        // measured by its start only, and always cut.
        let text = match text.char_indices().nth(MAX_FITTED_CHARS) {
            Some((end, _)) => &text[..end],
            None => {
                if self.measure(text, size) <= width {
                    return std::borrow::Cow::Borrowed(text);
                }
                text
            }
        };
        let ellipsis = self.measure("…", size);
        let mut used = 0.0;
        let mut end = 0;
        for (i, ch) in text.char_indices() {
            let w = self.measure(ch.encode_utf8(&mut [0; 4]), size);
            if used + w + ellipsis > width {
                break;
            }
            used += w;
            end = i + ch.len_utf8();
        }
        std::borrow::Cow::Owned(format!("{}…", &text[..end]))
    }

    /// Writes the subset font, its descriptor, widths and ToUnicode map.
    pub fn embed(&self, pdf: &mut Pdf, refs: FontRefs, tag: &str) -> Result<(), String> {
        let source = &faces()[self.weight as usize];
        let face = &source.face;
        let subset = subsetter::subset(source.data, 0, &self.remapper)
            .map_err(|e| format!("font subset failed: {e}"))?;
        let compressed = miniz_compress(&subset);
        let base = format!("{tag}+{}", source.postscript_name);
        let base_name = Name(base.as_bytes());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(refs.type0)
            .base_font(base_name)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(refs.cid)
            .to_unicode(refs.to_unicode);
        let scale = 1000.0 / self.units_per_em;
        let mut cid = pdf.cid_font(refs.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(base_name)
            .system_info(system_info)
            .font_descriptor(refs.descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let widths: Vec<f32> = self
            .advances
            .iter()
            .map(|a| (*a as f32 * scale).round())
            .collect();
        cid.widths().consecutive(0, widths);
        cid.finish();
        let bbox = face.global_bounding_box();
        let s = |v: i16| v as f32 * scale;
        pdf.font_descriptor(refs.descriptor)
            .name(base_name)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                s(bbox.x_min),
                s(bbox.y_min),
                s(bbox.x_max),
                s(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(s(face.ascender()))
            .descent(s(face.descender()))
            .cap_height(s(face.capital_height().unwrap_or(face.ascender())))
            .stem_v(if self.weight == Weight::Bold {
                140.0
            } else {
                80.0
            })
            .font_file2(refs.file);
        pdf.stream(refs.file, &compressed)
            .filter(Filter::FlateDecode);
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, ch) in self.unicode.iter().enumerate() {
            if let Some(ch) = ch {
                cmap.pair(gid as u16, *ch);
            }
        }
        let cmap = cmap.finish();
        pdf.cmap(refs.to_unicode, cmap.as_slice());
        Ok(())
    }
}

/// The objects one embedded font needs.
#[derive(Clone, Copy)]
pub struct FontRefs {
    pub type0: Ref,
    pub cid: Ref,
    pub descriptor: Ref,
    pub file: Ref,
    pub to_unicode: Ref,
}

/// Deflates a stream for the PDF.
pub fn miniz_compress(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::new(6),
    );
    enc.write_all(data).expect("writing to memory");
    enc.finish().expect("writing to memory")
}
