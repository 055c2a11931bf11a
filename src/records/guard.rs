//! A watch on the raw text of a CSV input as the parser reads it: it follows
//! the parser's quoting (RFC 4180, records ending at `\n`) to know, at the
//! end of the input, whether a quoted field was left open and on which line
//! it opened; it counts physical lines; and it refuses a record (or header)
//! longer than [`MAX_RECORD_BYTES`], so a file with no line ends (or
//! `/dev/zero`) is an error naming its line, not an out-of-memory abort.
//!
//! The csv crate reads an unterminated quoted field to the end of the input
//! without complaint; without this watch every record after a stray quote
//! would silently become text of one field.

use std::io::{self, Read};

/// The longest record (or header) read, in bytes. Far above any real record
/// (a 10 MB field is read) and far below memory.
pub const MAX_RECORD_BYTES: u64 = 64 << 20;

/// Where the parser stands, as far as quoting is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quoting {
    /// Outside quotes.
    Out,
    /// Inside a quoted field that opened on this line.
    In { line: u64 },
    /// Just after a quote inside a quoted field: a closing quote, or the
    /// first half of a doubled quote.
    Closing { line: u64 },
}

/// Reads through to `inner`, watching the text go by.
pub struct Guarded<R> {
    inner: R,
    quoting: Quoting,
    /// The last byte delivered (a line start at the beginning).
    last: u8,
    /// Physical lines started so far (1-based line of the last byte).
    line: u64,
    /// Bytes delivered, and the offset where the current record began.
    offset: u64,
    record_start: u64,
    record_start_line: u64,
    /// Whether the line end before `record_start` ended a blank line.
    after_blank: bool,
    /// The last record start not right after a blank line, and its line:
    /// where a parallel reader may cut (a record preceded by blank lines is
    /// cut before them).
    cut: (u64, u64),
    /// Whether the input has ended.
    ended: bool,
    /// Set when a record grew past the limit: the line it started on.
    oversize: Option<u64>,
}

impl<R: Read> Guarded<R> {
    pub fn new(inner: R) -> Guarded<R> {
        Guarded {
            inner,
            quoting: Quoting::Out,
            last: b'\n',
            line: 1,
            offset: 0,
            record_start: 0,
            record_start_line: 1,
            after_blank: false,
            cut: (0, 1),
            ended: false,
            oversize: None,
        }
    }

    /// After the input ended: the line on which a quoted field opened and
    /// was never closed.
    pub fn unterminated(&self) -> Option<u64> {
        match self.quoting {
            Quoting::In { line } if self.ended => Some(line),
            _ => None,
        }
    }

    /// The line of a record that grew past [`MAX_RECORD_BYTES`], if one did.
    pub fn oversize(&self) -> Option<u64> {
        self.oversize
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.offset
    }

    /// Whether the input has ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The last byte delivered.
    pub fn last_byte(&self) -> u8 {
        self.last
    }

    /// Where the next record starts (after the last line end outside
    /// quotes delivered so far), its line, and whether a blank line ends
    /// right before it.
    pub fn record_start(&self) -> (u64, u64, bool) {
        (self.record_start, self.record_start_line, self.after_blank)
    }

    /// The last place a parallel reader may cut what was delivered so far,
    /// and its line: a record start not right after a blank line (the
    /// parser takes blank lines with the record after them, so a cut goes
    /// before them). Every record ending in a line of its own gives one, so
    /// cuts come however records and blank lines alternate.
    pub fn cut(&self) -> (u64, u64) {
        self.cut
    }

    /// Physical lines delivered so far: a last line without a line end
    /// counts.
    pub fn lines(&self) -> u64 {
        if self.offset == 0 {
            0
        } else if self.last == b'\n' {
            self.line - 1
        } else {
            self.line
        }
    }

    fn watch(&mut self, block: &[u8]) {
        let mut prev = self.last;
        let mut at = 0;
        for pos in memchr::memchr2_iter(b'"', b'\n', block) {
            if pos > at {
                // Bytes between events: only a closing quote's follower matters.
                if let Quoting::Closing { .. } = self.quoting {
                    self.quoting = Quoting::Out;
                }
                prev = block[pos - 1];
            }
            let byte = block[pos];
            if byte == b'\n' {
                self.line += 1;
                match self.quoting {
                    Quoting::In { .. } => {}
                    Quoting::Out | Quoting::Closing { .. } => {
                        self.quoting = Quoting::Out;
                        // A record that ends here is measured here, so the
                        // limit holds whatever the reads' sizes.
                        if self.offset + pos as u64 - self.record_start > MAX_RECORD_BYTES
                            && self.oversize.is_none()
                        {
                            self.oversize = Some(self.record_start_line);
                        }
                        self.record_start = self.offset + pos as u64 + 1;
                        self.record_start_line = self.line;
                        self.after_blank = prev == b'\n';
                        if !self.after_blank {
                            self.cut = (self.record_start, self.line);
                        }
                    }
                }
            } else {
                self.quoting = match self.quoting {
                    Quoting::In { line } => Quoting::Closing { line },
                    Quoting::Closing { line } => Quoting::In { line },
                    // A quote opens a field only at its start; elsewhere the
                    // parser keeps it as text.
                    Quoting::Out if matches!(prev, b',' | b'\n') => Quoting::In { line: self.line },
                    Quoting::Out => Quoting::Out,
                };
            }
            prev = byte;
            at = pos + 1;
        }
        if at < block.len() {
            if let Quoting::Closing { .. } = self.quoting {
                self.quoting = Quoting::Out;
            }
        }
        if let Some(&b) = block.last() {
            self.last = b;
        }
        self.offset += block.len() as u64;
        if self.offset - self.record_start > MAX_RECORD_BYTES && self.oversize.is_none() {
            self.oversize = Some(self.record_start_line);
        }
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.oversize.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a record longer than the limit",
            ));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.ended = true;
        } else {
            self.watch(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(text: &[u8], read_size: usize) -> Guarded<&[u8]> {
        let mut g = Guarded::new(text);
        let mut buf = vec![0u8; read_size];
        while g.read(&mut buf).unwrap() > 0 {}
        g
    }

    #[test]
    fn open_quotes_at_the_end_are_found_with_their_line() {
        for size in [1, 2, 3, 7, 4096] {
            assert_eq!(
                watched(b"h\na,\"Paris\nb\nc\n", size).unterminated(),
                Some(2)
            );
            assert_eq!(watched(b"h\na,\"Paris", size).unterminated(), Some(2));
            assert_eq!(watched(b"h\n\"a\"\"\nb", size).unterminated(), Some(2));
            assert_eq!(watched(b"h\na,\"Paris\"\nb\n", size).unterminated(), None);
            assert_eq!(watched(b"h\n\"a\"\"b\",\"\"\n", size).unterminated(), None);
            assert_eq!(watched(b"h\n\"a\nb\"\r\n", size).unterminated(), None);
            // Quotes inside an unquoted field, and after a closing quote, are text.
            assert_eq!(watched(b"h\n27\" screen,1\n", size).unterminated(), None);
            assert_eq!(watched(b"h\n\"a\"b\"c\n", size).unterminated(), None);
        }
    }

    #[test]
    fn lines_are_counted_physically() {
        assert_eq!(watched(b"", 8).lines(), 0);
        assert_eq!(watched(b"h\n", 8).lines(), 1);
        assert_eq!(watched(b"h\na", 8).lines(), 2);
        assert_eq!(watched(b"h\n\"a\nb\"\nc\n", 3).lines(), 4);
    }

    #[test]
    fn a_record_without_end_is_refused() {
        let mut g = Guarded::new(io::repeat(0));
        let mut buf = vec![0u8; 1 << 20];
        let error = loop {
            if let Err(e) = g.read(&mut buf) {
                break e;
            }
        };
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(g.oversize(), Some(1));
    }

    /// A record over the limit is found however the text is read — also
    /// when it ends within one read, with records after it.
    #[test]
    fn a_record_over_the_limit_is_found_whatever_the_reads() {
        let mut text = b"h\n".to_vec();
        text.extend(std::iter::repeat_n(b'a', MAX_RECORD_BYTES as usize + 1));
        text.extend_from_slice(b"\nshort\n");
        let mut g = Guarded::new(&text[..]);
        let mut buf = vec![0u8; text.len()];
        assert_eq!(g.read(&mut buf).unwrap(), text.len());
        assert_eq!(g.oversize(), Some(2));
        let mut exact = b"h\n".to_vec();
        exact.extend(std::iter::repeat_n(b'a', MAX_RECORD_BYTES as usize));
        exact.extend_from_slice(b"\nshort\n");
        assert_eq!(watched(&exact, exact.len()).oversize(), None);
    }

    /// Records each after a blank line still give places to cut (before
    /// the blank lines), however the reads fall.
    #[test]
    fn records_after_blank_lines_can_be_cut_before_them() {
        let text = b"h\n\nr1\n\nr2\n\nr3\n\n";
        for size in [1, 2, 3, 64] {
            let g = watched(text, size);
            assert_eq!(g.record_start(), (15, 9, true), "read {size} at a time");
            assert_eq!(g.cut(), (14, 8), "read {size} at a time");
        }
    }
}
