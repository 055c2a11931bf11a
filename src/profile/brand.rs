//! A profile's branding: the company's logo (PNG or SVG), colour and font.
//! Their files are read and checked when the profile is loaded (the logo
//! decoded and fitted, the font parsed and its licence read), so a missing,
//! unreadable or broken file is a problem at `check-profile`, not a failed
//! render at the end of a billing run.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use resvg::tiny_skia::{FilterQuality, Pixmap, PixmapPaint, Transform};
use resvg::usvg;

/// The box a logo is drawn in on the PDF cover, in points.
pub const LOGO_BOX: (f32, f32) = (144.0, 36.0);

/// Pixels per point of a fitted logo (288 dpi: sharp in print).
const PIXELS_PER_POINT: f32 = 4.0;

/// A logo file larger than this is refused before it is decoded.
const MAX_LOGO_BYTES: u64 = 8 << 20;

/// An SVG logo larger than this is refused before it is parsed (a logo's
/// drawing is small; a large one is likely made to cost).
const MAX_SVG_BYTES: u64 = 1 << 20;

/// The largest PNG logo, in pixels a side and in all, checked in its
/// header before it is decoded.
const MAX_LOGO_SIDE: u32 = 8192;
const MAX_LOGO_PIXELS: u64 = 16 << 20;

/// An SVG logo has at most this many XML nodes.
const MAX_SVG_NODES: u32 = 100_000;

/// An SVG logo has at most this many masks, clip paths, patterns, markers
/// and symbols together (each may refer to another).
const MAX_SVG_REFERENCES: usize = 64;

/// A font file larger than this is refused before it is parsed.
const MAX_FONT_BYTES: u64 = 32 << 20;

/// A colour as `#RRGGBB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub [u8; 3]);

impl Rgb {
    /// Reads `#RRGGBB` (either case).
    pub fn parse(text: &str) -> Result<Rgb, String> {
        let hex = text
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return Err(format!(
                "{text:?} is not a colour; expected \"#RRGGBB\", e.g. \"#1F4E79\""
            ));
        };
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits");
        Ok(Rgb([byte(0), byte(2), byte(4)]))
    }

    /// `#RRGGBB`, upper case: how documents write it.
    pub fn key(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02X}{g:02X}{b:02X}")
    }

    /// The colour's components from 0 to 1 (as PDF sets them).
    pub fn unit(self) -> [f32; 3] {
        self.0.map(|c| c as f32 / 255.0)
    }

    /// WCAG 2 contrast ratio against white paper (1 to 21).
    pub fn contrast_on_white(self) -> f32 {
        let linear = |c: u8| {
            let c = c as f32 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0.map(linear);
        let luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        1.05 / (luminance + 0.05)
    }
}

/// A logo as the profile names it and as it is drawn: the file's place and
/// digest, and its pixels fitted to [`LOGO_BOX`].
#[derive(Clone, Debug)]
pub struct Logo {
    /// The file, absolute.
    pub path: PathBuf,
    /// The SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub image: Arc<Image>,
}

/// Two logos are the same logo when they are the same bytes, wherever the
/// file is (the pixels follow from the bytes).
impl PartialEq for Logo {
    fn eq(&self, other: &Logo) -> bool {
        self.sha256 == other.sha256
    }
}

/// Pixels of a fitted logo: RGB, and the opacity of each pixel when any is
/// not opaque.
#[derive(Debug)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    pub alpha: Option<Vec<u8>>,
}

impl Image {
    /// The size it is drawn at in points: fitted into [`LOGO_BOX`], its
    /// proportions kept.
    pub fn drawn_size(&self) -> (f32, f32) {
        let (w, h) = (self.width as f32, self.height as f32);
        let scale = (LOGO_BOX.0 / w).min(LOGO_BOX.1 / h);
        (w * scale, h * scale)
    }
}

/// Where a profile's relative file paths lead.
#[derive(Clone, Copy, Debug)]
pub enum Files<'p> {
    /// A profile file's folder: any path, relative to it or absolute.
    Folder(&'p Path),
    /// A folder a client of the service may name files in: relative
    /// paths only, never out of it (no `..`), so a profile sent to the
    /// service cannot put another file of the server into a PDF.
    Within(&'p Path),
    /// No folder (a profile from a manifest): absolute paths only.
    None,
}

impl Files<'_> {
    /// The file a profile names, or why it may not be named.
    pub fn resolve(self, written: &str) -> Result<PathBuf, String> {
        let path = Path::new(written);
        match self {
            Files::Folder(folder) => Ok(folder.join(path)),
            Files::None if path.is_absolute() => Ok(path.to_path_buf()),
            Files::None => Err(format!(
                "{written:?} is relative, and this profile has no folder to be relative to; give an absolute path"
            )),
            Files::Within(folder) => {
                if path
                    .components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
                {
                    Ok(folder.join(path))
                } else {
                    Err(format!(
                        "{written:?} leaves the profile catalogue's folder; name a file inside it by a relative path without \"..\""
                    ))
                }
            }
        }
    }
}

/// A file a profile names, read: its absolute place, bytes and SHA-256.
struct Read {
    path: PathBuf,
    bytes: Vec<u8>,
    sha256: String,
}

/// Reads a file a profile names, at most `limit` bytes (`what` names it in
/// messages), and checks it against the SHA-256 the profile pins. The
/// file is opened once and read through that handle: a regular file only
/// (no device or pipe), and for [`Files::Within`] one that is inside the
/// folder once links are followed. Messages name the file as the profile
/// wrote it; with [`Files::Within`] they never say where the server keeps
/// it, how large it is or what its digest is (a client could probe with
/// them).
fn read(
    written: &str,
    files: Files,
    pinned: Option<&str>,
    what: &str,
    limit: u64,
) -> Result<Read, String> {
    use std::io::Read as _;
    let path = files.resolve(written)?;
    let path = std::path::absolute(&path).unwrap_or(path);
    let client = matches!(files, Files::Within(_));
    // Quoted, so a name from the profile cannot start a line of its own.
    let shown = match client {
        true => format!("{written:?}"),
        false => format!("{:?}", path.display().to_string()),
    };
    let unreadable = |e: std::io::Error| match client {
        true => format!("{shown} cannot be read"),
        false => format!("{shown} cannot be read: {e}"),
    };
    if let Files::Within(folder) = files {
        let inside = std::fs::canonicalize(folder)
            .and_then(|f| std::fs::canonicalize(&path).map(|p| p.starts_with(f)))
            .map_err(unreadable)?;
        if !inside {
            return Err(format!(
                "{shown} leads out of the profile catalogue's folder (a link); name a file inside it"
            ));
        }
    }
    // A pipe or device is refused before it is opened (opening a pipe
    // waits for a writer), and the opened file is checked again.
    let regular = |meta: std::fs::Metadata| match meta.is_file() {
        true => Ok(()),
        false => Err(format!("{shown} is not a regular file")),
    };
    regular(std::fs::metadata(&path).map_err(unreadable)?)?;
    let file = std::fs::File::open(&path).map_err(unreadable)?;
    regular(file.metadata().map_err(unreadable)?)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "{shown} is larger than a {what} file may be ({limit} bytes)"
        ));
    }
    let sha256 = crate::hash::sha256_hex(&bytes);
    if let Some(pinned) = pinned {
        if !pinned.eq_ignore_ascii_case(&sha256) {
            return Err(match client {
                true => format!("{shown} does not match the SHA-256 the profile pins"),
                false => format!(
                    "{shown} has SHA-256 {sha256}, not the {pinned} the profile pins (the file changed since)"
                ),
            });
        }
    }
    Ok(Read {
        path,
        bytes,
        sha256,
    })
}

/// A profile's font (`font`, `font_bold`): a TrueType face the PDF draws
/// with first, the bundled faces drawing what it lacks.
#[derive(Clone, Debug)]
pub struct BrandFont {
    /// The file, absolute.
    pub path: PathBuf,
    /// The SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub data: Arc<Vec<u8>>,
    /// Its PostScript name, as a PDF names the face (letters, digits and
    /// `-` only).
    pub postscript_name: String,
}

/// The same font is the same bytes, wherever the file is.
impl PartialEq for BrandFont {
    fn eq(&self, other: &BrandFont) -> bool {
        self.sha256 == other.sha256
    }
}

/// Reads and checks a font: TrueType outlines (a `.ttf`, or an `.otf`
/// with `glyf` outlines) whose licence allows embedding a subset, as a
/// PDF/A must embed every font it uses.
pub fn load_font(written: &str, files: Files, pinned: Option<&str>) -> Result<BrandFont, String> {
    let Read {
        path,
        bytes,
        sha256,
    } = read(written, files, pinned, "font", MAX_FONT_BYTES)?;
    let shown = format!("{written:?}");
    let face = ttf_parser::Face::parse(&bytes, 0)
        .map_err(|e| format!("{shown} is not a TrueType or OpenType font: {e}"))?;
    let tables = face.tables();
    if tables.cff.is_some() || tables.cff2.is_some() {
        return Err(format!(
            "{shown} has PostScript (CFF) outlines, which are not embedded here; use the font's TrueType version (.ttf)"
        ));
    }
    if tables.glyf.is_none() || tables.hmtx.is_none() {
        return Err(format!(
            "{shown} lacks the glyph outlines or widths a TrueType font has (glyf, hmtx)"
        ));
    }
    licence(&face).map_err(|reason| format!("{shown}: {reason}"))?;
    if face.glyph_index('0').is_none() {
        return Err(format!(
            "{shown} has no digits; a usage report is mostly numbers"
        ));
    }
    // What rendering does with it, tried now: shaping tables parse, and a
    // subset of the digits and letters can be cut and read back.
    let mut remapper = subsetter::GlyphRemapper::new();
    for ch in ('0'..='9').chain('A'..='Z').chain('a'..='z') {
        if let Some(glyph) = face.glyph_index(ch) {
            remapper.remap(glyph.0);
        }
    }
    let subset = subsetter::subset(&bytes, 0, &remapper)
        .map_err(|e| format!("{shown} cannot be cut to the glyphs a PDF embeds: {e}"))?;
    ttf_parser::Face::parse(&subset, 0)
        .map_err(|e| format!("{shown} cannot be cut to the glyphs a PDF embeds: {e}"))?;
    rustybuzz::Face::from_slice(&bytes, 0)
        .ok_or_else(|| format!("{shown} cannot be shaped (its tables do not parse)"))?;
    let name: String = face
        .names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
        .find_map(|n| n.to_string())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(56)
        .collect();
    Ok(BrandFont {
        path,
        sha256,
        data: Arc::new(bytes),
        postscript_name: if name.is_empty() {
            "BrandFont".into()
        } else {
            name
        },
    })
}

/// Whether a font's licence (OS/2 `fsType`) lets a PDF embed a subset of
/// its outlines. A font without an OS/2 table states no restriction.
fn licence(face: &ttf_parser::Face) -> Result<(), String> {
    let Some(os2) = face.raw_face().table(ttf_parser::Tag::from_bytes(b"OS/2")) else {
        return Ok(());
    };
    let Some(bits) = os2.get(8..10).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
        return Err("its OS/2 table is cut short (no fsType to say its licence)".into());
    };
    // Restricted (0x0002) unless a less strict bit is set with it (older
    // fonts may set several; the least strict applies).
    if bits & 0x0002 != 0 && bits & 0x000C == 0 {
        return Err("its licence forbids embedding (OS/2 fsType: restricted licence), and a PDF/A embeds every font it draws with".into());
    }
    if bits & 0x0100 != 0 {
        return Err("its licence forbids embedding a subset (OS/2 fsType: no subsetting), and the PDF embeds only the glyphs it draws".into());
    }
    if bits & 0x0200 != 0 {
        return Err("its licence allows embedding its bitmaps only (OS/2 fsType), not the outlines a PDF draws with".into());
    }
    Ok(())
}

/// Reads, checks and fits a logo: a PNG, or an SVG with no external files.
/// `pinned` is a SHA-256 the profile expects of the file.
pub fn load_logo(written: &str, files: Files, pinned: Option<&str>) -> Result<Logo, String> {
    let Read {
        path,
        bytes,
        sha256,
    } = read(written, files, pinned, "logo", MAX_LOGO_BYTES)?;
    let shown = format!("{written:?}");
    let pixmap = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        // The header's size is checked before anything is allocated for it.
        let side = |at: usize| {
            bytes
                .get(at..at + 4)
                .map(|b| u32::from_be_bytes(b.try_into().expect("four bytes")))
        };
        let (Some(width), Some(height)) = (side(16), side(20)) else {
            return Err(format!("{shown} is a PNG cut short"));
        };
        if bytes.get(12..16) != Some(b"IHDR".as_slice()) {
            return Err(format!(
                "{shown} is a PNG that does not start with its header (IHDR)"
            ));
        }
        if width > MAX_LOGO_SIDE
            || height > MAX_LOGO_SIDE
            || width as u64 * height as u64 > MAX_LOGO_PIXELS
        {
            return Err(format!(
                "{shown} is {width} x {height} pixels; a logo is at most {MAX_LOGO_SIDE} pixels a side and {MAX_LOGO_PIXELS} in all"
            ));
        }
        let png = Pixmap::decode_png(&bytes).map_err(|e| {
            // The decoder's own words, without the structures it prints.
            let reason = e.to_string();
            let reason = reason.split(" ChunkType").next().unwrap_or_default();
            format!("{shown} is not a PNG image that can be decoded ({reason})")
        })?;
        fit_raster(png)
    } else if is_svg(&path, &bytes) {
        if bytes.len() as u64 > MAX_SVG_BYTES {
            return Err(format!(
                "{shown} is larger than an SVG logo may be ({MAX_SVG_BYTES} bytes)"
            ));
        }
        render_svg(&bytes).map_err(|e| format!("{shown}: {e}"))?
    } else {
        return Err(format!(
            "{shown} is neither a PNG nor an SVG image; a logo is one of those"
        ));
    };
    if pixmap.pixels().iter().all(|p| p.alpha() == 0) {
        return Err(format!(
            "{shown} draws nothing (every pixel is transparent)"
        ));
    }
    Ok(Logo {
        path,
        sha256,
        image: Arc::new(image_of(&pixmap)),
    })
}

/// An SVG by name, or by an XML or `<svg` start.
fn is_svg(path: &Path, bytes: &[u8]) -> bool {
    let named = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let start = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).to_ascii_lowercase();
    named
        || start
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with("<?xml")
        || start.contains("<svg")
}

/// The size in pixels of a logo fitted into [`LOGO_BOX`] at
/// [`PIXELS_PER_POINT`], from its own size.
fn fitted(width: f32, height: f32) -> (u32, u32, f32) {
    let scale = (LOGO_BOX.0 * PIXELS_PER_POINT / width).min(LOGO_BOX.1 * PIXELS_PER_POINT / height);
    let w = (width * scale).round().max(1.0) as u32;
    let h = (height * scale).round().max(1.0) as u32;
    (w, h, scale)
}

/// A PNG made no larger than its drawn size needs (smaller ones stay as
/// they are): halved while twice too large, then scaled once, bicubic.
fn fit_raster(mut image: Pixmap) -> Pixmap {
    loop {
        let (w, h, scale) = fitted(image.width() as f32, image.height() as f32);
        if scale >= 1.0 {
            return image;
        }
        let (w, h, scale) = if scale < 0.5 {
            let (w, h) = ((image.width() / 2).max(1), (image.height() / 2).max(1));
            (w, h, 0.5)
        } else {
            (w, h, scale)
        };
        let mut smaller = Pixmap::new(w, h).expect("a smaller image has a size");
        let paint = PixmapPaint {
            quality: FilterQuality::Bicubic,
            ..PixmapPaint::default()
        };
        smaller.draw_pixmap(
            0,
            0,
            image.as_ref(),
            &paint,
            Transform::from_scale(scale, scale),
            None,
        );
        image = smaller;
    }
}

/// An SVG drawn at its fitted size. It is read without a DTD (no
/// entities to expand) and with a bounded number of nodes; it may not
/// hold text (drawn with fonts the server may not have), images (no file
/// it names is read, and inline ones would be decoded unbounded) or
/// filters, and few references.
fn render_svg(bytes: &[u8]) -> Result<Pixmap, String> {
    use usvg::roxmltree;
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    let parsing = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_SVG_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let xml = roxmltree::Document::parse_with_options(text, parsing)
        .map_err(|e| format!("not an SVG image that can be read: {e}"))?;
    // Filters cost without bound (a blur's radius, turbulence's octaves,
    // morphology's square); masks, clip paths, patterns and markers may
    // refer to each other in chains as deep as the file is long.
    let mut references = 0;
    for node in xml.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        if matches!(name, "mask" | "clipPath" | "pattern" | "marker" | "symbol") {
            references += 1;
            if references > MAX_SVG_REFERENCES {
                return Err(format!(
                    "has more than {MAX_SVG_REFERENCES} masks, clip paths, patterns, markers and symbols; a logo needs few"
                ));
            }
        }
        match name {
            "filter" => return Err(
                "holds a filter (<filter>), which can take without bound to draw; flatten the effect in the drawing program or save the logo as PNG".into(),
            ),
            "text" => return Err(
                "holds text (<text>), which is drawn with fonts the server may not have; convert the text to outlines (paths) in the drawing program".into(),
            ),
            "image" | "foreignObject" => return Err(format!(
                "holds an <{}> element; a logo is drawn from paths and shapes only (save a bitmap logo as PNG)",
                node.tag_name().name()
            )),
            _ => {}
        }
    }
    let mut options = usvg::Options::default();
    options.image_href_resolver.resolve_string = Box::new(|_, _| None);
    options.image_href_resolver.resolve_data = Box::new(|_, _, _| None);
    let tree = usvg::Tree::from_xmltree(&xml, &options)
        .map_err(|e| format!("not an SVG image that can be read: {e}"))?;
    let size = tree.size();
    let (w, h, scale) = fitted(size.width(), size.height());
    let mut pixmap = Pixmap::new(w, h).ok_or("has no size to draw")?;
    resvg::render(
        &tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Ok(pixmap)
}

/// The RGB and opacity of a drawn logo (tiny-skia keeps colours
/// multiplied by opacity; PDF wants them as they are).
fn image_of(pixmap: &Pixmap) -> Image {
    let pixels = pixmap.pixels();
    let mut rgb = Vec::with_capacity(pixels.len() * 3);
    let mut alpha = Vec::with_capacity(pixels.len());
    for p in pixels {
        let c = p.demultiply();
        rgb.extend_from_slice(&[c.red(), c.green(), c.blue()]);
        alpha.push(c.alpha());
    }
    let opaque = alpha.iter().all(|&a| a == 255);
    Image {
        width: pixmap.width(),
        height: pixmap.height(),
        rgb,
        alpha: (!opaque).then_some(alpha),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_read_as_written_and_measure_their_contrast() {
        assert_eq!(Rgb::parse("#1f4e79").unwrap().key(), "#1F4E79");
        for bad in ["1F4E79", "#1F4E7", "#1F4E7G", "#1F4E790", "red", ""] {
            assert!(Rgb::parse(bad).unwrap_err().contains("#RRGGBB"), "{bad}");
        }
        assert!((Rgb([0, 0, 0]).contrast_on_white() - 21.0).abs() < 0.01);
        assert!((Rgb([255, 255, 255]).contrast_on_white() - 1.0).abs() < 0.01);
        assert!(Rgb::parse("#1F4E79").unwrap().contrast_on_white() > 4.5);
        assert!(Rgb::parse("#FFCC00").unwrap().contrast_on_white() < 4.5);
    }

    #[test]
    fn a_service_profile_names_files_only_inside_its_folder() {
        let folder = Path::new("/srv/catalogue");
        assert_eq!(
            Files::Within(folder).resolve("brand/logo.png").unwrap(),
            folder.join("brand/logo.png")
        );
        for bad in ["../secret.png", "/etc/logo.png", "brand/../../x.png"] {
            assert!(Files::Within(folder).resolve(bad).is_err(), "{bad}");
        }
        assert!(Files::None.resolve("logo.png").is_err());
        assert!(Files::Folder(folder).resolve("/abs/logo.png").is_ok());
    }
}
