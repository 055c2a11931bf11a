//! String interning: each distinct text of a dataset is stored once and
//! records carry a 4-byte [`Sym`]. Grouping compares symbols, not strings.
//!
//! The strings live back to back in one buffer (no allocation per string,
//! and the strings of neighbouring records are neighbours in memory); the
//! lookup table holds a symbol and its string's hash, so growing it never
//! re-reads a string.

use std::hash::Hasher;

use hashbrown::HashTable;

/// A handle to a string in an [`Interner`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

impl Sym {
    /// The empty string, present in every interner.
    pub const EMPTY: Sym = Sym(0);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Distinct strings of one dataset.
#[derive(Clone, Debug)]
pub struct Interner {
    /// Every distinct string, back to back, in symbol order.
    text: String,
    /// Where each symbol's string ends in `text` (it starts where the
    /// previous one ends).
    ends: Vec<usize>,
    /// (symbol, hash of its string) for lookups.
    table: HashTable<(Sym, u32)>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            text: String::new(),
            ends: Vec::new(),
            table: HashTable::new(),
        };
        interner.intern("");
        interner
    }
}

/// The 32-bit hash kept per string, and the table's 64-bit hash spread from
/// it (the table takes its bucket and tag bits from different ends).
fn hash(s: &str) -> u32 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    let h = h.finish();
    (h ^ (h >> 32)) as u32
}

fn spread(h: u32) -> u64 {
    (h as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Where a symbol's string lies in the buffer.
fn span(ends: &[usize], sym: Sym) -> std::ops::Range<usize> {
    let start = match sym.index() {
        0 => 0,
        i => ends[i - 1],
    };
    start..ends[sym.index()]
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        let h = hash(s);
        let Interner { text, ends, table } = self;
        let found = table.find(spread(h), |(sym, sh)| {
            *sh == h && &text[span(ends, *sym)] == s
        });
        if let Some((sym, _)) = found {
            return *sym;
        }
        let sym = Sym(u32::try_from(ends.len()).expect("more than 4 billion distinct strings"));
        text.push_str(s);
        ends.push(text.len());
        table.insert_unique(spread(h), (sym, h), |(_, sh)| spread(*sh));
        sym
    }

    pub fn get(&self, sym: Sym) -> &str {
        &self.text[span(&self.ends, sym)]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Never true: the empty string is always interned (as [`Sym::EMPTY`]).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Ranks of the given symbols in byte order of their strings, as a
    /// vector indexed by symbol (other symbols rank `u32::MAX`): sorting by
    /// rank sorts by text without comparing strings in the hot loop. Only
    /// the symbols asked for are sorted (group keys, not millions of ids).
    pub fn ranks(&self, syms: impl IntoIterator<Item = Sym>) -> Vec<u32> {
        let mut wanted = vec![false; self.len()];
        for s in syms {
            wanted[s.index()] = true;
        }
        let mut order: Vec<u32> = (0..self.len() as u32)
            .filter(|s| wanted[*s as usize])
            .collect();
        order.sort_unstable_by(|a, b| self.get(Sym(*a)).cmp(self.get(Sym(*b))));
        let mut ranks = vec![u32::MAX; self.len()];
        for (rank, sym) in order.into_iter().enumerate() {
            ranks[sym as usize] = rank as u32;
        }
        ranks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_a_symbol_and_read_back() {
        let mut strings = Interner::default();
        let words: Vec<String> = (0..5000).map(|i| format!("w{}", i % 1234)).collect();
        let syms: Vec<Sym> = words.iter().map(|w| strings.intern(w)).collect();
        assert_eq!(strings.len(), 1235); // the empty string and 1234 words
        assert_eq!(strings.intern(""), Sym::EMPTY);
        for (w, s) in words.iter().zip(&syms) {
            assert_eq!(strings.get(*s), w);
            assert_eq!(strings.intern(w), *s);
        }
        assert_eq!(strings.get(Sym::EMPTY), "");
    }
}
