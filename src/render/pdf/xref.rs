//! Object streams for the many small objects of a tagged document — a
//! structure element per table cell, a parent-tree array per page — and
//! the cross-reference stream that finds them (PDF 1.5; PDF/A-2 and -3
//! allow both). Written as plain objects they would make a 100,000-row
//! attachment ten times its size; packed and deflated they cost little.

use std::io::Write;

use pdf_writer::Ref;

use super::deflate::{Deflater, Kind};

/// How pdf-writer starts a file (and how ours starts).
const HEADER: &[u8] = b"%PDF-1.7\n%\x80\x80\x80\x80\n\n";

/// Where the document goes as it is made: the pages' content and the
/// packed structure tree are written to the file as soon as they are
/// deflated, each one's place noted for the cross-reference stream, so a
/// document's memory does not grow with its pages. The few objects left
/// (page dictionaries, fonts, outline, metadata) follow at the end.
pub(super) struct Sink<'w> {
    out: &'w mut (dyn Write + Send),
    /// Bytes written so far.
    position: u64,
    /// Each object written here: its id and where it starts.
    placed: Vec<(i32, u64)>,
    /// The first write that failed (reported when the document ends).
    failed: Option<std::io::Error>,
}

impl<'w> Sink<'w> {
    /// Starts the file with the header.
    pub fn new(out: &'w mut (dyn Write + Send)) -> Sink<'w> {
        let mut sink = Sink {
            out,
            position: 0,
            placed: Vec::new(),
            failed: None,
        };
        sink.write(HEADER);
        sink
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            if let Err(e) = self.out.write_all(bytes) {
                self.failed = Some(e);
            }
        }
        self.position += bytes.len() as u64;
    }

    /// Writes stream object `id` of deflated `data`, its dictionary holding
    /// `entries` besides its length and filter.
    pub fn stream(&mut self, id: Ref, entries: &str, data: &[u8]) {
        self.placed.push((id.get(), self.position));
        let head = format!(
            "{} 0 obj\n<</Length {}/Filter/FlateDecode{entries}>>\nstream\n",
            id.get(),
            data.len()
        );
        self.write(head.as_bytes());
        self.write(data);
        self.write(b"\nendstream\nendobj\n\n");
    }
}

/// Objects packed this many to a stream.
const PER_STREAM: usize = 4096;

/// Small objects waiting to be packed, and where the packed ones went.
#[derive(Default)]
pub(super) struct ObjectStreams {
    body: Vec<u8>,
    /// The waiting objects: id and offset in `body`.
    waiting: Vec<(i32, usize)>,
    /// Where the packed objects went, as runs of consecutive ids packed
    /// side by side (a few per stream, not one entry per object).
    packed: Vec<Packed>,
}

/// Objects `first..first + count`, packed in stream `stream` from index
/// `index` on.
#[derive(Clone, Copy, Debug)]
struct Packed {
    first: i32,
    stream: i32,
    index: u32,
    count: u32,
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
    pub fn flush(&mut self, sink: &mut Sink, deflater: &mut Deflater, id: Ref) {
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
        deflater.submit(sink, id, kind, data);
        for (index, (object, _)) in self.waiting.iter().enumerate() {
            match self.packed.last_mut() {
                Some(run)
                    if run.stream == id.get()
                        && run.first + run.count as i32 == *object
                        && run.index + run.count == index as u32 =>
                {
                    run.count += 1
                }
                _ => self.packed.push(Packed {
                    first: *object,
                    stream: id.get(),
                    index: index as u32,
                    count: 1,
                }),
            }
        }
        self.waiting.clear();
        self.body.clear();
    }

    /// Ends the file: the objects pdf-writer holds (its `file`, without
    /// its header and its own cross-reference stream `xref`; `written` says
    /// where its objects lie in it) after what the sink has written, then a
    /// cross-reference stream under the same id that finds every object —
    /// pdf-writer's, the sink's where they were written, the packed ones in
    /// their streams. The first failed write, if any, is the error.
    #[allow(clippy::too_many_arguments)]
    pub fn assemble(
        &self,
        sink: &mut Sink,
        file: Vec<u8>,
        written: &[(usize, u64)],
        xref: Ref,
        catalog: Ref,
        info: Ref,
        id: &[u8],
    ) -> std::io::Result<()> {
        assert!(self.waiting.is_empty(), "every object is packed");
        assert!(file.starts_with(HEADER), "pdf-writer's header");
        let start = find_last(&file, b"startxref\n").expect("pdf-writer ends with startxref");
        let digits = &file[start + 10..];
        let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(0);
        let table: usize = std::str::from_utf8(&digits[..end])
            .expect("digits")
            .parse()
            .expect("an offset");
        // pdf-writer's objects land after the sink's: its offsets move by
        // what the sink wrote (both files start with the same header).
        let shift = sink.position - HEADER.len() as u64;
        let written = written
            .iter()
            .filter(|(object, _)| *object != xref.get() as usize)
            .map(|(object, offset)| (*object, offset + shift));
        let count = xref.get() as usize;
        let largest = self
            .packed
            .iter()
            .map(|p| p.first + p.count as i32 - 1)
            .chain(sink.placed.iter().map(|p| p.0))
            .max()
            .unwrap_or(0) as usize;
        sink.write(&file[HEADER.len()..table]);
        // The stream itself comes last, where the table was.
        let at = sink.position;
        let xref_id = count.max(largest + 1);
        debug_assert_eq!(xref_id, count, "pdf-writer's stream id is the last");
        let size = xref_id + 1;
        // Each entry as the stream holds it: a kind, a field wide enough for
        // the largest offset or stream number, and a generation (two bytes).
        // Entries are made in id order from the few runs and single objects
        // and deflated as they are made, so no table of every object is
        // held (a tagged document has a dozen objects per table row).
        let largest_field = at.max(size as u64);
        let width = ((u64::BITS - largest_field.leading_zeros()).div_ceil(8)).max(1) as usize;
        let mut places: Vec<(usize, Place)> = written
            .map(|(object, offset)| (object, Place::At(offset)))
            .chain(
                sink.placed
                    .iter()
                    .map(|(o, offset)| (*o as usize, Place::At(*offset))),
            )
            .chain(
                self.packed
                    .iter()
                    .map(|run| (run.first as usize, Place::Packed(*run))),
            )
            .collect();
        places.push((xref_id, Place::At(at)));
        places.sort_by_key(|(object, _)| *object);
        let mut deflate = flate2::write::ZlibEncoder::new(
            Vec::with_capacity(size / 2 + 64),
            flate2::Compression::new(6),
        );
        let mut rows: Vec<u8> = Vec::with_capacity(1 << 16);
        let entry = |rows: &mut Vec<u8>, kind: u8, field: u64, generation: u16| {
            rows.push(kind);
            rows.extend_from_slice(&field.to_be_bytes()[8 - width..]);
            rows.extend_from_slice(&generation.to_be_bytes());
        };
        let mut next = 0usize;
        let mut places = places.into_iter().peekable();
        while next < size {
            // The free head of the list, and objects no one wrote (free).
            let until = places.peek().map_or(size, |(object, _)| *object);
            while next < until {
                let generation = if next == 0 { 65535 } else { 0 };
                entry(&mut rows, 0, 0, generation);
                next += 1;
            }
            if let Some((object, place)) = places.next() {
                assert!(object >= next, "object {object} placed twice");
                match place {
                    Place::At(offset) => {
                        entry(&mut rows, 1, offset, 0);
                        next = object + 1;
                    }
                    Place::Packed(run) => {
                        for i in 0..run.count {
                            entry(&mut rows, 2, run.stream as u64, (run.index + i) as u16);
                        }
                        next = object + run.count as usize;
                    }
                }
            }
            if rows.len() >= 1 << 16 || next >= size {
                std::io::Write::write_all(&mut deflate, &rows).expect("deflating to memory");
                rows.clear();
            }
        }
        let data = deflate.finish().expect("deflating to memory");

        let hex: String = id.iter().map(|b| format!("{b:02X}")).collect();
        let dict = format!(
            "{xref_id} 0 obj\n<</Type/XRef/Size {size}/W[1 {width} 2]/Root {} 0 R/Info {} 0 R/ID[<{hex}><{hex}>]/Filter/FlateDecode/Length {}>>\nstream\n",
            catalog.get(),
            info.get(),
            data.len()
        );
        sink.write(dict.as_bytes());
        sink.write(&data);
        sink.write(b"\nendstream\nendobj\nstartxref\n");
        sink.write(at.to_string().as_bytes());
        sink.write(b"\n%%EOF");
        match sink.failed.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The objects a cross-reference stream pdf-writer made for the ids up to
/// `xref` finds in its file: id and offset of each occupied entry.
pub(super) fn occupied(data: &[u8], xref: Ref) -> Vec<(usize, u64)> {
    let entries = xref.get() as usize + 1;
    assert_eq!(data.len() % entries, 0, "whole entries");
    let row = data.len() / entries;
    data.chunks_exact(row)
        .enumerate()
        .filter(|(_, entry)| entry[0] == 1)
        .map(|(object, entry)| {
            let offset = entry[1..row - 2]
                .iter()
                .fold(0u64, |n, b| (n << 8) | *b as u64);
            (object, offset)
        })
        .collect()
}

/// Where an object lies: at an offset of the file, or packed in a stream.
enum Place {
    At(u64),
    Packed(Packed),
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
