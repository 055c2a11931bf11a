//! The embedded fonts, vendored with their licences: DejaVu Sans Condensed
//! and its bold (Latin, Greek, Cyrillic), Noto Sans Arabic, Hebrew,
//! Devanagari and Thai in both weights, then Droid Sans Fallback (Chinese
//! and Japanese) and Nanum Square (Korean). Each character is drawn with
//! the first face of the chain that has it (a script's own Noto face first
//! for its letters); a document embeds a subset of just the glyphs it used
//! of each face, as a CID font with a ToUnicode map, so the text can be
//! searched and copied.
//!
//! Text in Latin, Greek, Cyrillic, Chinese, Japanese and Korean is drawn
//! a glyph per character (the fast path). Text with right-to-left letters,
//! a script that needs shaping (Arabic joining, Indic conjuncts, Thai
//! marks) or bidi controls is ordered with the Unicode bidi algorithm,
//! shaped with rustybuzz run by run, and drawn with the glyphs' own
//! advances and offsets inside an `ActualText` span that carries it in
//! logical order for search, copy and screen readers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use rustybuzz::{Direction, UnicodeBuffer};
use subsetter::GlyphRemapper;
use unicode_bidi::{BidiClass, BidiInfo};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::report::BrandFont;

/// Longest prefix of a text that is measured to fit a column.
const MAX_FITTED_CHARS: usize = 1024;

/// Most shaped texts one document font keeps (a table repeats its values);
/// past it the cache starts again.
const MAX_SHAPED: usize = 4096;

/// Characters below this are looked up in a table, not a map.
const LATIN: usize = 256;

/// The characters of a text composed (NFC). Text of characters below
/// U+0300 is composed already (none of them combines with another or
/// decomposes), so most text skips the normaliser.
fn composed(text: &str) -> impl Iterator<Item = char> + '_ {
    let plain = text.bytes().all(|b| b < 0xCC);
    let (fast, slow) = match plain {
        true => (Some(text.chars()), None),
        false => (None, Some(text.nfc())),
    };
    fast.into_iter().flatten().chain(slow.into_iter().flatten())
}

/// Shown, and counted as a warning, for a character no font can draw.
pub const PLACEHOLDER: char = '\u{FFFD}';

/// Which of the two weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// A vendored face: its file and PostScript name.
struct Source {
    data: &'static [u8],
    postscript_name: &'static str,
}

macro_rules! source {
    ($file:literal, $name:literal) => {
        Source {
            data: include_bytes!(concat!("fonts/", $file)),
            postscript_name: $name,
        }
    };
}

/// The vendored faces, in [`FaceId`] order.
static SOURCES: [Source; 12] = [
    source!("DejaVuSansCondensed.ttf", "DejaVuSansCondensed"),
    source!("DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed-Bold"),
    source!("NotoSansArabic-Regular.ttf", "NotoSansArabic-Regular"),
    source!("NotoSansArabic-Bold.ttf", "NotoSansArabic-Bold"),
    source!("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Regular"),
    source!("NotoSansHebrew-Bold.ttf", "NotoSansHebrew-Bold"),
    source!(
        "NotoSansDevanagari-Regular.ttf",
        "NotoSansDevanagari-Regular"
    ),
    source!("NotoSansDevanagari-Bold.ttf", "NotoSansDevanagari-Bold"),
    source!("NotoSansThai-Regular.ttf", "NotoSansThai-Regular"),
    source!("NotoSansThai-Bold.ttf", "NotoSansThai-Bold"),
    source!("DroidSansFallbackFull.ttf", "DroidSansFallbackFull"),
    source!("NanumSquareR.ttf", "NanumSquareR"),
];

/// A vendored face by its place in [`SOURCES`].
type FaceId = usize;

/// The faces of each weight, in the order they are tried: DejaVu, the
/// Noto faces of the scripts DejaVu lacks, then the CJK and Hangul faces
/// (which have one weight).
const CHAINS: [[FaceId; VENDORED]; 2] = [[0, 2, 4, 6, 8, 10, 11], [1, 3, 5, 7, 9, 10, 11]];

/// The vendored faces one weight draws with: its own and the fallbacks.
const VENDORED: usize = 7;

/// The most faces one weight draws with: a profile's brand face, then
/// the vendored ones.
pub const CHAIN: usize = VENDORED + 1;

/// A face a document can draw with, parsed once for the process's life:
/// its file, its PostScript name and the face shaping reads.
struct Typeface {
    data: &'static [u8],
    postscript_name: String,
    face: rustybuzz::Face<'static>,
}

/// The vendored faces, shared by every document of the process.
fn vendored() -> &'static [Typeface] {
    static FACES: OnceLock<Vec<Typeface>> = OnceLock::new();
    FACES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|s| Typeface {
                data: s.data,
                postscript_name: s.postscript_name.to_string(),
                face: rustybuzz::Face::from_slice(s.data, 0).expect("the vendored font parses"),
            })
            .collect()
    })
}

/// A profile's brand face, parsed once per distinct file and kept for the
/// process's life (a service renders with the same few fonts again and
/// again; what is kept is bounded by the distinct font files profiles
/// name).
fn brand(font: &BrandFont) -> &'static Typeface {
    static BRANDS: Mutex<Vec<(String, &'static Typeface)>> = Mutex::new(Vec::new());
    let mut brands = BRANDS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&(_, face)) = brands.iter().find(|(sha, _)| *sha == font.sha256) {
        return face;
    }
    let data: &'static [u8] = Box::leak(font.data.to_vec().into_boxed_slice());
    let face =
        rustybuzz::Face::from_slice(data, 0).expect("a profile's font was checked as it loaded");
    let typeface: &'static Typeface = Box::leak(Box::new(Typeface {
        data,
        postscript_name: font.postscript_name.clone(),
        face,
    }));
    brands.push((font.sha256.clone(), typeface));
    typeface
}

/// The place among a weight's vendored faces of the face made for a
/// character's script, tried before the chain's order: a word is drawn in
/// one face, so it joins and shapes.
fn script_slot(ch: char) -> Option<usize> {
    Some(match ch as u32 {
        0x0600..=0x06FF | 0x0750..=0x077F | 0x0870..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFE => {
            1
        }
        0x0590..=0x05FF | 0xFB1D..=0xFB4F => 2,
        0x0900..=0x097F | 0xA8E0..=0xA8FF | 0x1CD0..=0x1CFF => 3,
        0x0E00..=0x0E7F => 4,
        _ => return None,
    })
}

/// Whether a character is drawn as nothing but may steer order or shaping
/// (Unicode's default ignorables: joiners, bidi controls, BOM, variation
/// selectors).
fn is_default_ignorable(ch: char) -> bool {
    matches!(ch as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// Whether a character needs the shaped path: it is written right to
/// left, belongs to a script whose letters change form or order when
/// shaped, or is an invisible control.
fn needs_shaping(ch: char) -> bool {
    if (ch as u32) < 0x0590 {
        return false;
    }
    matches!(ch as u32,
        0x1100..=0x11FF | 0xA960..=0xA97F | 0xD7B0..=0xD7FF // Hangul jamo
        | 0x3099..=0x309A // combining kana voicing marks
        | 0x0590..=0x08FF // Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic
        | 0x0900..=0x0DFF // Indic scripts
        | 0x0E00..=0x0EFF // Thai, Lao
        | 0x0F00..=0x109F // Tibetan, Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0xA8E0..=0xA8FF | 0x1CD0..=0x1CFF // Devanagari extensions, Vedic
        | 0xFB1D..=0xFDFF // Hebrew and Arabic presentation forms
        | 0xFE70..=0xFEFF // Arabic presentation forms B
    ) || is_default_ignorable(ch)
        || matches!(
            unicode_bidi::bidi_class(ch),
            BidiClass::R | BidiClass::AL | BidiClass::AN
        )
}

/// Whether a text takes the shaped path (most text is checked by its
/// bytes alone: nothing below U+0590 needs shaping).
fn is_simple(text: &str) -> bool {
    text.bytes().all(|b| b < 0xD6) || !text.chars().any(needs_shaping)
}

/// Whether a character belongs with the one before it, in its face, when
/// that face has it: combining marks, joiners and spaces.
fn follows(ch: char) -> bool {
    is_combining_mark(ch) || is_default_ignorable(ch) || ch == ' ' || ch == '\u{A0}'
}

/// One face as used by one document: the glyphs it drew (remapped to the
/// subset's ids) and what text each stands for.
struct FaceUse {
    typeface: &'static Typeface,
    units_per_em: f32,
    remapper: GlyphRemapper,
    /// Per new glyph id: the character it shows (for ToUnicode).
    unicode: Vec<Option<char>>,
    /// New glyph ids that show more than one character (a ligature, a
    /// conjunct), with the text they show.
    clusters: BTreeMap<u16, String>,
    /// Per new glyph id: the advance in font units.
    advances: Vec<u16>,
}

impl FaceUse {
    fn new(typeface: &'static Typeface) -> FaceUse {
        FaceUse {
            typeface,
            units_per_em: typeface.face.units_per_em() as f32,
            remapper: GlyphRemapper::new(),
            unicode: vec![None],
            clusters: BTreeMap::new(),
            advances: vec![0],
        }
    }

    fn has(&self, ch: char) -> bool {
        self.typeface.face.glyph_index(ch).is_some()
    }

    /// The subset id of the face's glyph `gid` and its width in ems as the
    /// PDF's widths array gives it.
    fn place(&mut self, gid: u16) -> (u16, f32) {
        let advance = self
            .typeface
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(gid))
            .unwrap_or(0);
        let new = self.remapper.remap(gid);
        let slot = new as usize;
        if self.unicode.len() <= slot {
            self.unicode.resize(slot + 1, None);
            self.advances.resize(slot + 1, 0);
        }
        self.advances[slot] = advance;
        (
            new,
            (advance as f32 * 1000.0 / self.units_per_em).round() / 1000.0,
        )
    }

    /// Records the text a subset glyph shows, unless it already shows one.
    /// A ligature of right-to-left text is drawn in visual order and its
    /// text is given in that order too, so that readers which reverse
    /// right-to-left glyphs into logical order (poppler, pdf.js) get it
    /// right.
    fn stands_for(&mut self, new: u16, text: &str, rtl: bool) {
        let slot = new as usize;
        if self.unicode[slot].is_some() || self.clusters.contains_key(&new) {
            return;
        }
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(ch), None) => self.unicode[slot] = Some(ch),
            (Some(_), Some(_)) => {
                let text = match rtl {
                    true => text.chars().rev().collect(),
                    false => text.to_string(),
                };
                self.clusters.insert(new, text);
            }
            _ => {}
        }
    }

    /// The subset glyph of `ch` and its advance in ems, if the face has it.
    fn lookup(&mut self, ch: char) -> Option<(u16, f32)> {
        let face = &self.typeface.face;
        let gid = face.glyph_index(ch)?;
        let advance = face.glyph_hor_advance(gid).unwrap_or(0);
        let (new, _) = self.place(gid.0);
        self.unicode[new as usize].get_or_insert(ch);
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

/// A glyph placed by shaping: its face's slot and subset id, and in ems
/// the width the PDF moves by, the advance shaping gave it, and where it
/// is drawn from the pen.
#[derive(Clone, Copy)]
struct Placed {
    slot: u8,
    id: u16,
    width: f32,
    advance: f32,
    dx: f32,
    dy: f32,
}

/// A text shaped and ordered for drawing, left to right.
#[derive(Default)]
struct Shaped {
    glyphs: Vec<Placed>,
    /// The whole advance in ems.
    advance: f32,
    /// Characters drawn as the placeholder.
    missing: u64,
    /// Glyphs of left-to-right text whose shaping reordered or joined its
    /// characters, with that text (for `ActualText`): a range of `glyphs`.
    spans: Vec<(std::ops::Range<usize>, String)>,
}

/// The fonts of one weight as used by one document: its DejaVu face, then
/// the fallback faces, tried in that order for each character.
pub struct DocFont {
    weight: Weight,
    /// The brand face, if the profile names one, then the vendored faces.
    chain: Vec<FaceUse>,
    /// The glyphs of Latin-1 characters, looked up once (most text).
    latin: [Option<Option<Glyph>>; LATIN],
    cache: HashMap<char, Option<Glyph>>,
    shaped: HashMap<Box<str>, Shaped>,
    buffer: Option<UnicodeBuffer>,
    placeholder: Glyph,
    pub missing: u64,
}

/// A run of glyphs in one face at one height.
pub struct Run {
    pub slot: usize,
    /// How far above the baseline, in ems (marks placed by shaping).
    pub rise: f32,
    /// Where its glyph ids end in [`Runs::glyphs`].
    pub end: usize,
    /// The text this run and the runs up to `.0` show, when it opens an
    /// `ActualText` span.
    pub actual: Option<(usize, String)>,
}

/// The glyph ids of a text (two bytes each) in runs of one face, with the
/// moves between glyphs that shaping asks for. Reused from text to text.
#[derive(Default)]
pub struct Runs {
    pub glyphs: Vec<u8>,
    pub runs: Vec<Run>,
    /// Moves before the glyph starting at a byte of `glyphs`, in
    /// thousandths of an em, leftwards (as a PDF `TJ` array has them).
    pub moves: Vec<(usize, f32)>,
    /// The next glyph opens a new run.
    cut: bool,
}

impl Runs {
    /// Each run with its glyph ids and the moves within it, each at its
    /// byte within the run's glyphs.
    pub fn each(&self) -> impl Iterator<Item = (&Run, &[u8], Vec<(usize, f32)>)> {
        let mut start = 0;
        self.runs.iter().map(move |run| {
            let glyphs = &self.glyphs[start..run.end];
            let moves = self
                .moves
                .iter()
                .filter(|(at, _)| *at >= start && *at < run.end)
                .map(|(at, amount)| (at - start, *amount))
                .collect();
            start = run.end;
            (run, glyphs, moves)
        })
    }

    fn push(&mut self, slot: usize, rise: f32, id: u16) {
        self.glyphs.extend_from_slice(&id.to_be_bytes());
        match self.runs.last_mut() {
            Some(last) if last.slot == slot && last.rise == rise && !self.cut => {
                last.end = self.glyphs.len()
            }
            _ => self.runs.push(Run {
                slot,
                rise,
                end: self.glyphs.len(),
                actual: None,
            }),
        }
        self.cut = false;
    }
}

impl DocFont {
    /// The fonts of `weight`: the profile's brand face first, when it
    /// names one, then the vendored faces for what it lacks.
    pub fn new(weight: Weight, brand_face: Option<&BrandFont>) -> DocFont {
        let vendored = vendored();
        let chain: Vec<FaceUse> = brand_face
            .map(brand)
            .into_iter()
            .chain(CHAINS[weight as usize].iter().map(|&id| &vendored[id]))
            .map(FaceUse::new)
            .collect();
        let mut font = DocFont {
            weight,
            chain,
            latin: [None; LATIN],
            cache: HashMap::new(),
            shaped: HashMap::new(),
            buffer: None,
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

    /// Where the vendored faces start in the chain (1 after a brand face).
    fn vendored_from(&self) -> usize {
        self.chain.len() - VENDORED
    }

    /// The faces of the chain: 0 is the weight's own, then the fallbacks.
    pub fn slots(&self) -> usize {
        self.chain.len()
    }

    fn lookup(&mut self, ch: char) -> Option<Glyph> {
        let latin = (ch as usize) < LATIN;
        if latin {
            if let Some(hit) = self.latin[ch as usize] {
                return hit;
            }
        } else if let Some(hit) = self.cache.get(&ch) {
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
        if latin {
            self.latin[ch as usize] = Some(found);
        } else {
            self.cache.insert(ch, found);
        }
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
        if !is_simple(text) {
            return self.shape_cached(text).advance * size;
        }
        let mut ems = 0.0f32;
        for ch in composed(text) {
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
        out.moves.clear();
        out.cut = false;
        if !is_simple(text) {
            return self.encode_shaped(text, out);
        }
        for ch in composed(text) {
            let Some(glyph) = self.glyph(ch) else {
                continue;
            };
            out.push(glyph.slot as usize, 0.0, glyph.id);
        }
    }

    /// The glyphs of a shaped text, each moved to where shaping put it: by
    /// `TJ` moves along the line, by runs at a rise across it.
    fn encode_shaped(&mut self, text: &str, out: &mut Runs) {
        let shaped = self.shape_cached(text);
        let missing = shaped.missing;
        let mut spans = shaped.spans.iter().peekable();
        let mut open: Option<(usize, usize, String)> = None;
        // The PDF moves the pen by each glyph's width; shaping wants it
        // moved by the glyph's advance, and the glyph drawn from its offset.
        let mut pending = 0.0f32;
        for (i, g) in shaped.glyphs.iter().enumerate() {
            if let Some((range, text)) = spans.next_if(|(range, _)| range.start == i) {
                out.cut = true;
                open = Some((out.runs.len(), range.end, text.clone()));
            }
            let before = pending - g.dx;
            if before.abs() >= 0.0005 {
                out.moves.push((out.glyphs.len(), before * 1000.0));
            }
            out.push(g.slot as usize, g.dy, g.id);
            pending = g.dx + g.width - g.advance;
            if open.as_ref().is_some_and(|(_, end, _)| *end == i + 1) {
                let (first, _, text) = open.take().expect("a span is open");
                out.runs[first].actual = Some((out.runs.len(), text));
                out.cut = true;
            }
        }
        self.missing += missing;
    }

    /// The shaped form of `text`, kept for the values a table repeats.
    fn shape_cached(&mut self, text: &str) -> &Shaped {
        if !self.shaped.contains_key(text) {
            if self.shaped.len() >= MAX_SHAPED {
                self.shaped.clear();
            }
            let shaped = self.shape(text);
            self.shaped.insert(text.into(), shaped);
        }
        &self.shaped[text]
    }

    /// Orders `text` with the bidi algorithm, splits each directional run
    /// into runs of one face, and shapes each.
    fn shape(&mut self, text: &str) -> Shaped {
        let text: String = text.nfc().filter(|c| !c.is_control()).collect();
        let mut out = Shaped::default();
        let bidi = BidiInfo::new(&text, None);
        for para in &bidi.paragraphs {
            let (levels, runs) = bidi.visual_runs(para, para.range.clone());
            for run in runs {
                let rtl = levels[run.start].is_rtl();
                let mut pieces = self.itemise(&text[run.clone()]);
                if rtl {
                    pieces.reverse();
                }
                for (slot, range) in pieces {
                    let piece = &text[run.start + range.start..run.start + range.end];
                    match slot {
                        Some(slot) => self.shape_piece(slot, piece, rtl, &mut out),
                        None => {
                            for _ in piece.chars() {
                                self.push_placeholder(&mut out);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn push_placeholder(&mut self, out: &mut Shaped) {
        let p = self.placeholder;
        out.glyphs.push(Placed {
            slot: p.slot,
            id: p.id,
            width: (p.advance * 1000.0).round() / 1000.0,
            advance: p.advance,
            dx: 0.0,
            dy: 0.0,
        });
        out.advance += p.advance;
        out.missing += 1;
    }

    /// Splits a directional run (logical order) into pieces of one face:
    /// a letter's script face first, then the chain; marks, joiners and
    /// spaces stay with the letter before them. `None`: no face has it.
    fn itemise(&self, run: &str) -> Vec<(Option<usize>, std::ops::Range<usize>)> {
        let mut pieces: Vec<(Option<usize>, std::ops::Range<usize>)> = Vec::new();
        for (at, ch) in run.char_indices() {
            let previous = pieces.last().and_then(|(slot, _)| *slot);
            let slot = match previous {
                Some(prev)
                    if follows(ch) && (is_default_ignorable(ch) || self.chain[prev].has(ch)) =>
                {
                    Some(prev)
                }
                _ if is_default_ignorable(ch) => Some(0),
                _ => script_slot(ch)
                    .map(|s| s + self.vendored_from())
                    .filter(|s| self.chain[*s].has(ch))
                    .or_else(|| self.chain.iter().position(|f| f.has(ch))),
            };
            let end = at + ch.len_utf8();
            match pieces.last_mut() {
                Some((last, range)) if *last == slot => range.end = end,
                _ => pieces.push((slot, at..end)),
            }
        }
        pieces
    }

    /// Shapes one piece in the face of `slot`, appending its glyphs in
    /// visual order.
    fn shape_piece(&mut self, slot: usize, piece: &str, rtl: bool, out: &mut Shaped) {
        let face = &self.chain[slot].typeface.face;
        let mut buffer = self.buffer.take().unwrap_or_default();
        buffer.push_str(piece);
        // Each character keeps its own cluster where the font allows it (a
        // mark apart from its letter), so each glyph maps to the text it
        // shows; ligatures and conjuncts still merge theirs.
        buffer.set_cluster_level(rustybuzz::BufferClusterLevel::Characters);
        buffer.guess_segment_properties();
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        let glyphs = rustybuzz::shape(face, &[], buffer);
        let upem = self.chain[slot].units_per_em;
        let mut starts: Vec<usize> = glyphs
            .glyph_infos()
            .iter()
            .map(|i| i.cluster as usize)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut last_cluster = usize::MAX;
        let first = out.glyphs.len();
        for (info, pos) in glyphs.glyph_infos().iter().zip(glyphs.glyph_positions()) {
            if info.glyph_id == 0 {
                self.push_placeholder(out);
                continue;
            }
            let cluster = info.cluster as usize;
            let (id, width) = self.chain[slot].place(info.glyph_id as u16);
            if cluster != last_cluster {
                let end = starts
                    .get(starts.partition_point(|s| *s <= cluster))
                    .copied()
                    .unwrap_or(piece.len());
                self.chain[slot].stands_for(id, &piece[cluster..end], rtl);
                last_cluster = cluster;
            }
            let advance = pos.x_advance as f32 / upem;
            out.glyphs.push(Placed {
                slot: slot as u8,
                id,
                width,
                advance,
                dx: pos.x_offset as f32 / upem,
                dy: pos.y_offset as f32 / upem,
            });
            out.advance += advance;
        }
        // Left-to-right shaping may draw a mark before its letter (Devanagari)
        // or join letters: the text goes with the glyphs as written.
        // Right-to-left glyphs are left to the reader's own reordering, which
        // ActualText would defeat (poppler reverses it again).
        if !rtl && piece.chars().any(needs_shaping) {
            out.spans.push((first..out.glyphs.len(), piece.to_string()));
        }
        self.buffer = Some(glyphs.clear());
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
        if !is_simple(text) {
            return std::borrow::Cow::Owned(self.fit_shaped(text, size, width));
        }
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

    /// The longest start of a shaped text that fits with an ellipsis, cut
    /// only where a letter begins (never between a letter and its marks):
    /// its shaped width is not the sum of its characters', so each
    /// candidate is shaped (without keeping it), in a binary search.
    fn fit_shaped(&mut self, text: &str, size: f32, width: f32) -> String {
        let cuts: Vec<usize> = text
            .char_indices()
            .filter(|(_, ch)| !follows(*ch) || *ch == ' ')
            .map(|(at, _)| at)
            .collect();
        let fits = |cut: usize, font: &mut DocFont| {
            let candidate = format!("{}…", &text[..cut]);
            font.shape(&candidate).advance * size <= width
        };
        // cuts[0] is 0: the ellipsis alone is the least that is shown.
        let (mut low, mut high) = (0usize, cuts.len());
        while high - low > 1 {
            let mid = (low + high) / 2;
            if fits(cuts[mid], self) {
                low = mid;
            } else {
                high = mid;
            }
        }
        let cut = cuts.get(low).copied().unwrap_or(0);
        format!("{}…", &text[..cut])
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
        let source = used.typeface;
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
            .stem_v(
                if self.weight == Weight::Bold && slot == self.vendored_from() {
                    140.0
                } else {
                    80.0
                },
            )
            .font_file2(refs.file);
        pdf.stream(refs.file, &compressed)
            .filter(Filter::FlateDecode);
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, ch) in used.unicode.iter().enumerate() {
            if let Some(ch) = ch {
                cmap.pair(gid as u16, *ch);
            } else if let Some(text) = used.clusters.get(&(gid as u16)) {
                cmap.pair_with_multiple(gid as u16, text.chars());
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
