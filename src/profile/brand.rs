//! A profile's branding: the company's logo (PNG or SVG) and colour. The
//! logo is read, decoded and fitted when the profile is loaded, so a
//! missing, unreadable or broken file is a problem at `check-profile`, not
//! a failed render at the end of a billing run.

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

/// Two logos are the same logo when they are the same bytes from the same
/// place (the pixels follow from the bytes).
impl PartialEq for Logo {
    fn eq(&self, other: &Logo) -> bool {
        self.path == other.path && self.sha256 == other.sha256
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

/// Reads, checks and fits a logo: a PNG, or an SVG with no external files.
/// `pinned` is a SHA-256 the profile expects of the file.
pub fn load_logo(written: &str, files: Files, pinned: Option<&str>) -> Result<Logo, String> {
    let path = files.resolve(written)?;
    let path = std::path::absolute(&path).unwrap_or(path);
    let shown = path.display();
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{shown} cannot be read: {e}"))?
        .len();
    if size > MAX_LOGO_BYTES {
        return Err(format!(
            "{shown} is {size} bytes; a logo file is at most {MAX_LOGO_BYTES} bytes"
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("{shown} cannot be read: {e}"))?;
    let sha256 = crate::hash::sha256_hex(&bytes);
    if let Some(pinned) = pinned {
        if !pinned.eq_ignore_ascii_case(&sha256) {
            return Err(format!(
                "{shown} has SHA-256 {sha256}, not the {pinned} the profile pins (the file changed since)"
            ));
        }
    }
    let pixmap = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let png = Pixmap::decode_png(&bytes)
            .map_err(|e| format!("{shown} is not a PNG image that can be decoded: {e}"))?;
        fit_raster(png)
    } else if is_svg(&path, &bytes) {
        render_svg(&bytes).map_err(|e| format!("{shown}: {e}"))?
    } else {
        return Err(format!(
            "{shown} is neither a PNG nor an SVG image; a logo is one of those"
        ));
    };
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

/// An SVG drawn at its fitted size. External files are never read: an
/// image inside the logo must be inline (`data:`).
fn render_svg(bytes: &[u8]) -> Result<Pixmap, String> {
    let mut options = usvg::Options::default();
    options.image_href_resolver.resolve_string = Box::new(|_, _| None);
    let tree = usvg::Tree::from_data(bytes, &options)
        .map_err(|e| format!("not an SVG image that can be read: {e}"))?;
    let text = String::from_utf8_lossy(bytes);
    if text.contains("<text") {
        return Err(
            "holds text (<text>), which is drawn with fonts the server may not have; convert the text to outlines (paths) in the drawing program".into(),
        );
    }
    let size = tree.size();
    let (w, h, scale) = fitted(size.width(), size.height());
    let mut pixmap = Pixmap::new(w, h).ok_or("has no size to draw")?;
    resvg::render(
        &tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    if pixmap.pixels().iter().all(|p| p.alpha() == 0) {
        return Err("draws nothing (every pixel is transparent)".into());
    }
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
