//! The embedded fonts, vendored with their licences: DejaVu Sans Condensed
//! and its bold (Latin, Greek, Cyrillic), then Droid Sans Fallback (Chinese
//! and Japanese) and Nanum Square (Korean) for what DejaVu lacks. Each character is drawn with
//! the first face of the chain that has it; a document embeds a subset of
//! just the glyphs it used of each face, as a CID font with a ToUnicode
//! map, so the text can be searched and copied.
//!
//! Scripts that need shaping or right-to-left ordering (Arabic, Hebrew,
//! Devanagari, Thai …) are not drawn yet: a character of theirs is shown as
//! the placeholder and counted, never drawn in a wrong form or order.

use std::collections::HashMap;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::Face;
use unicode_normalization::UnicodeNormalization;

static REGULAR_DATA: &[u8] = include_bytes!("fonts/DejaVuSansCondensed.ttf");
static BOLD_DATA: &[u8] = include_bytes!("fonts/DejaVuSansCondensed-Bold.ttf");
static CJK_DATA: &[u8] = include_bytes!("fonts/DroidSansFallbackFull.ttf");
static HANGUL_DATA: &[u8] = include_bytes!("fonts/NanumSquareR.ttf");

/// Longest prefix of a text that is measured to fit a column.
const MAX_FITTED_CHARS: usize = 1024;

/// Shown, and counted as a warning, for a character no font can draw.
pub const PLACEHOLDER: char = '\u{FFFD}';

/// Which of the two weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// The embedded faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaceId {
    Regular = 0,
    Bold = 1,
    Cjk = 2,
    Hangul = 3,
}

/// A parsed face, shared by every document of the process.
struct Embedded {
    face: Face<'static>,
    data: &'static [u8],
    postscript_name: &'static str,
}

fn faces() -> &'static [Embedded; 4] {
    static FACES: OnceLock<[Embedded; 4]> = OnceLock::new();
    FACES.get_or_init(|| {
        let parse = |data: &'static [u8], name| Embedded {
            face: Face::parse(data, 0).expect("the vendored font parses"),
            data,
            postscript_name: name,
        };
        [
            parse(REGULAR_DATA, "DejaVuSansCondensed"),
            parse(BOLD_DATA, "DejaVuSansCondensed-Bold"),
            parse(CJK_DATA, "DroidSansFallbackFull"),
            parse(HANGUL_DATA, "NanumSquareR"),
        ]
    })
}

/// Whether a character belongs to a script that is drawn only once shaped
/// or ordered right to left; until then it is the placeholder.
fn needs_shaping(ch: char) -> bool {
    matches!(ch as u32,
        0x1100..=0x11FF | 0xA960..=0xA97F | 0xD7B0..=0xD7FF // Hangul jamo (composed by shaping)
        | 0x3099..=0x309A // combining kana voicing marks
        | 0x0590..=0x08FF // Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic
        | 0x0900..=0x0DFF // Indic scripts
        | 0x0E00..=0x0EFF // Thai, Lao
        | 0x0F00..=0x109F // Tibetan, Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0xFB1D..=0xFDFF // Hebrew and Arabic presentation forms
        | 0xFE70..=0xFEFF // Arabic presentation forms B
    )
}

/// One face as used by one document: the glyphs it drew (remapped to the
/// subset's ids) and what text each stands for.
struct FaceUse {
    face: FaceId,
    units_per_em: f32,
    remapper: GlyphRemapper,
    /// Per new glyph id: the character it shows (for ToUnicode).
    unicode: Vec<Option<char>>,
    /// Per new glyph id: the advance in font units.
    advances: Vec<u16>,
}

impl FaceUse {
    fn new(face: FaceId) -> FaceUse {
        FaceUse {
            face,
            units_per_em: faces()[face as usize].face.units_per_em() as f32,
            remapper: GlyphRemapper::new(),
            unicode: vec![None],
            advances: vec![0],
        }
    }

    /// The subset glyph of `ch` and its advance in ems, if the face has it.
    fn lookup(&mut self, ch: char) -> Option<(u16, f32)> {
        let face = &faces()[self.face as usize].face;
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
        Some((new, advance as f32 / self.units_per_em))
    }

    /// Whether any glyph but `.notdef` was drawn with it.
    fn used(&self) -> bool {
        self.unicode.len() > 1
    }
}

/// A drawn glyph: the slot of its face in the chain, its subset id, and
/// its advance in ems.
#[derive(Clone, Copy)]
struct Glyph {
    slot: u8,
    id: u16,
    advance: f32,
}

/// The faces one weight draws with: its own and the fallbacks.
pub const CHAIN: usize = 3;

/// The fonts of one weight as used by one document: its DejaVu face, then
/// the fallback faces, tried in that order for each character.
pub struct DocFont {
    weight: Weight,
    chain: [FaceUse; CHAIN],
    cache: HashMap<char, Option<Glyph>>,
    placeholder: Glyph,
    pub missing: u64,
}

/// The glyph ids of a text (two bytes each) in runs of one face: each run
/// is its face's slot and where its glyphs end. Reused from text to text.
#[derive(Default)]
pub struct Runs {
    pub glyphs: Vec<u8>,
    pub runs: Vec<(usize, usize)>,
}

impl Runs {
    /// Each run: its face's slot and its glyph ids.
    pub fn each(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut start = 0;
        self.runs.iter().map(move |(slot, end)| {
            let glyphs = &self.glyphs[start..*end];
            start = *end;
            (*slot, glyphs)
        })
    }
}

impl DocFont {
    pub fn new(weight: Weight) -> DocFont {
        let primary = match weight {
            Weight::Regular => FaceId::Regular,
            Weight::Bold => FaceId::Bold,
        };
        let mut font = DocFont {
            weight,
            chain: [primary, FaceId::Cjk, FaceId::Hangul].map(FaceUse::new),
            cache: HashMap::new(),
            placeholder: Glyph {
                slot: 0,
                id: 0,
                advance: 0.0,
            },
            missing: 0,
        };
        let placeholder = font
            .lookup(PLACEHOLDER)
            .or_else(|| font.lookup('?'))
            .expect("the font has '?'");
        font.placeholder = placeholder;
        font
    }

    /// The faces of the chain: 0 is the weight's own, then the fallbacks.
    pub fn slots(&self) -> usize {
        self.chain.len()
    }

    fn lookup(&mut self, ch: char) -> Option<Glyph> {
        if let Some(hit) = self.cache.get(&ch) {
            return *hit;
        }
        let found = if needs_shaping(ch) {
            None
        } else {
            self.chain.iter_mut().enumerate().find_map(|(slot, face)| {
                face.lookup(ch).map(|(id, advance)| Glyph {
                    slot: slot as u8,
                    id,
                    advance,
                })
            })
        };
        self.cache.insert(ch, found);
        found
    }

    /// The glyph that draws `ch`: control characters are drawn as nothing;
    /// a character no face has as the placeholder (and counted).
    fn glyph(&mut self, ch: char) -> Option<Glyph> {
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

    /// Width of `text` at `size` points (characters no face has are
    /// measured as the placeholder but not counted until drawn). Text is
    /// measured and drawn composed (NFC): a letter and its combining mark,
    /// as Excel or macOS may export them, are the one glyph they make.
    pub fn measure(&mut self, text: &str, size: f32) -> f32 {
        let mut ems = 0.0f32;
        for ch in text.nfc() {
            if ch.is_control() {
                continue;
            }
            ems += self.lookup(ch).unwrap_or(self.placeholder).advance;
        }
        ems * size
    }

    /// The glyph ids of `text`, in runs of one face each.
    pub fn encode(&mut self, text: &str, out: &mut Runs) {
        out.glyphs.clear();
        out.runs.clear();
        for ch in text.nfc() {
            let Some(glyph) = self.glyph(ch) else {
                continue;
            };
            let slot = glyph.slot as usize;
            out.glyphs.extend_from_slice(&glyph.id.to_be_bytes());
            match out.runs.last_mut() {
                Some((last, end)) if *last == slot => *end = out.glyphs.len(),
                _ => out.runs.push((slot, out.glyphs.len())),
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

    /// Whether the face in `slot` drew anything (the weight's own face is
    /// always embedded: every page names it).
    pub fn used(&self, slot: usize) -> bool {
        slot == 0 || self.chain[slot].used()
    }

    /// Writes the subset of the face in `slot`, its descriptor, widths and
    /// ToUnicode map.
    pub fn embed(
        &self,
        slot: usize,
        pdf: &mut Pdf,
        refs: FontRefs,
        tag: &str,
    ) -> Result<(), String> {
        let used = &self.chain[slot];
        let source = &faces()[used.face as usize];
        let face = &source.face;
        let subset = subsetter::subset(source.data, 0, &used.remapper)
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
        let scale = 1000.0 / used.units_per_em;
        let mut cid = pdf.cid_font(refs.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(base_name)
            .system_info(system_info)
            .font_descriptor(refs.descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let widths: Vec<f32> = used
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
            .stem_v(if self.weight == Weight::Bold && slot == 0 {
                140.0
            } else {
                80.0
            })
            .font_file2(refs.file);
        pdf.stream(refs.file, &compressed)
            .filter(Filter::FlateDecode);
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, ch) in used.unicode.iter().enumerate() {
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
