//! Object streams for the many small objects of a tagged document — a
//! structure element per table cell, a parent-tree array per page — and
//! the cross-reference stream that finds them (PDF 1.5; PDF/A-2 and -3
//! allow both). Written as plain objects they would make a 100,000-row
//! attachment ten times its size; packed and deflated they cost little.

use pdf_writer::{Pdf, Ref};

use super::deflate::{Deflater, Kind};
use super::font::miniz_compress;

/// Objects packed this many to a stream.
const PER_STREAM: usize = 4096;

/// Small objects waiting to be packed, and where the packed ones went.
#[derive(Default)]
pub(super) struct ObjectStreams {
    body: Vec<u8>,
    /// The waiting objects: id and offset in `body`.
    waiting: Vec<(i32, usize)>,
    /// Each packed object: its id, its stream's id and its index there.
    packed: Vec<(i32, i32, u32)>,
}

impl ObjectStreams {
    /// Starts object `id`; its bytes (a dictionary or array, without
    /// `obj`/`endobj`) go into the returned buffer.
    pub fn object(&mut self, id: Ref) -> &mut Vec<u8> {
        self.waiting.push((id.get(), self.body.len()));
        &mut self.body
    }

    /// Whether a stream's worth of objects is waiting.
    pub fn full(&self) -> bool {
        self.waiting.len() >= PER_STREAM
    }

    /// Packs the waiting objects into stream `id`, deflated beside the
    /// layout.
    pub fn flush(&mut self, pdf: &mut Pdf, deflater: &mut Deflater, id: Ref) {
        if self.waiting.is_empty() {
            return;
        }
        let mut data = Vec::with_capacity(self.body.len() + self.waiting.len() * 12);
        for (object, offset) in &self.waiting {
            push_int(&mut data, *object as u64);
            data.push(b' ');
            push_int(&mut data, *offset as u64);
            data.push(b' ');
        }
        let first = data.len();
        data.extend_from_slice(&self.body);
        let kind = Kind::Objects {
            count: self.waiting.len() as i32,
            first: first as i32,
        };
        deflater.submit(pdf, id, kind, data);
        for (index, (object, _)) in self.waiting.iter().enumerate() {
            self.packed.push((*object, id.get(), index as u32));
        }
        self.waiting.clear();
        self.body.clear();
    }

    /// Rewrites a finished file's cross-reference table and trailer as a
    /// cross-reference stream that also finds the packed objects.
    pub fn assemble(&self, file: Vec<u8>, catalog: Ref, info: Ref, id: &[u8]) -> Vec<u8> {
        assert!(self.waiting.is_empty(), "every object is packed");
        let text = |at: usize| -> &[u8] { &file[at..] };
        let start = find_last(&file, b"startxref\n").expect("pdf-writer ends with startxref");
        let digits = &file[start + 10..];
        let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(0);
        let table: usize = std::str::from_utf8(&digits[..end])
            .expect("digits")
            .parse()
            .expect("an offset");
        // "xref\n0 N\n", then N entries of 20 bytes.
        let header = text(table);
        let line = header
            .iter()
            .skip(5)
            .position(|b| *b == b'\n')
            .expect("a line")
            + 5;
        let count: usize = std::str::from_utf8(&header[7..line])
            .expect("digits")
            .trim()
            .parse()
            .expect("a count");
        let mut entries: Vec<(u8, u64, u32)> = (0..count)
            .map(|i| {
                let entry = &header[line + 1 + 20 * i..line + 1 + 20 * (i + 1)];
                let offset: u64 = std::str::from_utf8(&entry[..10]).unwrap().parse().unwrap();
                match entry[17] {
                    b'n' => (1, offset, 0),
                    _ => (0, 0, if i == 0 { 65535 } else { 0 }),
                }
            })
            .collect();
        let largest = self.packed.iter().map(|p| p.0 as usize).max().unwrap_or(0);
        if entries.len() <= largest {
            entries.resize(largest + 1, (0, 0, 0));
        }
        for (object, stream, index) in &self.packed {
            entries[*object as usize] = (2, *stream as u64, *index);
        }
        // The stream itself comes last, where the table was.
        let xref_id = entries.len();
        entries.push((1, table as u64, 0));
        let largest = entries.iter().map(|e| e.1).max().unwrap_or(0);
        let width = ((u64::BITS - largest.leading_zeros()).div_ceil(8)).max(1) as usize;
        let mut data = Vec::with_capacity(entries.len() * (3 + width));
        for (kind, field, generation) in &entries {
            data.push(*kind);
            data.extend_from_slice(&field.to_be_bytes()[8 - width..]);
            data.extend_from_slice(&(*generation as u16).to_be_bytes());
        }
        let data = miniz_compress(&data);
        let mut out = file;
        out.truncate(table);
        let hex: String = id.iter().map(|b| format!("{b:02X}")).collect();
        let dict = format!(
            "{xref_id} 0 obj\n<</Type/XRef/Size {}/W[1 {width} 2]/Root {} 0 R/Info {} 0 R/ID[<{hex}><{hex}>]/Filter/FlateDecode/Length {}>>\nstream\n",
            entries.len(),
            catalog.get(),
            info.get(),
            data.len()
        );
        out.extend_from_slice(dict.as_bytes());
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\nendstream\nendobj\nstartxref\n");
        out.extend_from_slice(table.to_string().as_bytes());
        out.extend_from_slice(b"\n%%EOF");
        out
    }
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Appends a number in decimal.
pub(super) fn push_int(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}
