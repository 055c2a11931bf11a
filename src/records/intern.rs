//! The strings of a dataset: records carry a 4-byte [`Sym`] for each text
//! field. Texts that repeat — group keys, call types, destinations — are
//! interned: each distinct one is stored once, so grouping compares
//! symbols, not strings. Texts that (nearly) never repeat — call ids,
//! callers, dialled numbers — are only stored ([`Interner::push`]): looking
//! each up in a table of a million others would cost a cache miss a field
//! for nothing, so their symbols say nothing about equality.
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

/// The strings of one dataset.
#[derive(Clone, Debug)]
pub struct Interner {
    /// Every string, back to back, in symbol order.
    text: String,
    /// Where each symbol's string ends in `text` (it starts where the
    /// previous one ends).
    ends: Vec<usize>,
    /// The interned strings once more, back to back: a lookup reads these
    /// few hot bytes, not `text` and `ends`, where a million stored ids lie
    /// between two interned strings.
    keys: String,
    /// Each interned string: its symbol, hash and place in `keys`.
    table: HashTable<Key>,
}

#[derive(Clone, Copy, Debug)]
struct Key {
    sym: Sym,
    hash: u32,
    start: u32,
    len: u32,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            text: String::new(),
            ends: Vec::new(),
            keys: String::new(),
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
    /// The symbol of `s`: the same for equal strings.
    pub fn intern(&mut self, s: &str) -> Sym {
        match self.find(s) {
            Some(sym) => sym,
            None => {
                let sym = self.push(s);
                self.insert(s, sym);
                sym
            }
        }
    }

    /// The interned symbol of a string equal to `s`, if there is one.
    fn find(&self, s: &str) -> Option<Sym> {
        let h = hash(s);
        let keys = self.keys.as_bytes();
        let bytes = s.as_bytes();
        self.table
            .find(spread(h), |k| {
                k.hash == h
                    && k.len as usize == bytes.len()
                    && &keys[k.start as usize..(k.start + k.len) as usize] == bytes
            })
            .map(|k| k.sym)
    }

    /// Interns `s` (not interned yet) as `sym`, which holds it.
    fn insert(&mut self, s: &str, sym: Sym) {
        let start = u32::try_from(self.keys.len()).expect("4 GiB of distinct repeating texts");
        self.keys.push_str(s);
        let key = Key {
            sym,
            hash: hash(s),
            start,
            len: s.len() as u32,
        };
        self.table
            .insert_unique(spread(key.hash), key, |k| spread(k.hash));
    }

    /// Stores a string without looking for an equal one: a new symbol
    /// every time, and never one [`Interner::intern`] returns.
    pub fn push(&mut self, s: &str) -> Sym {
        let sym = Sym(u32::try_from(self.ends.len()).expect("more than 4 billion strings"));
        self.text.push_str(s);
        self.ends.push(self.text.len());
        sym
    }

    /// Appends every string of `other` (as [`Interner::push`] would, in
    /// symbol order, in one copy) and returns what its symbol 0 became:
    /// symbol `s` of `other` is `base + s` here. Interned strings among
    /// them are not interned here until [`Interner::adopt`] says so.
    pub fn append(&mut self, other: &Interner) -> u32 {
        u32::try_from(self.ends.len() + other.ends.len()).expect("more than 4 billion strings");
        let base = self.ends.len() as u32;
        let shift = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| end + shift));
        base
    }

    /// The interned symbol for the text of `sym` (stored here already):
    /// an equal string interned before, or `sym` itself, interned now.
    pub fn adopt(&mut self, sym: Sym) -> Sym {
        let s = &self.text[span(&self.ends, sym)];
        if let Some(found) = self.find(s) {
            return found;
        }
        let s = s.to_string();
        self.insert(&s, sym);
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

    #[test]
    fn pushed_strings_are_stored_not_shared_and_append_keeps_both_kinds() {
        let mut a = Interner::default();
        let x = a.intern("London");
        let p = a.push("London");
        assert_ne!(x, p);
        assert_eq!(a.get(p), "London");
        assert_eq!(a.intern("London"), x, "a pushed string is never interned");

        let mut b = Interner::default();
        let y = b.intern("Paris");
        let z = b.intern("London");
        let q = b.push("CL0000000001");
        let base = a.append(&b);
        let moved = |s: Sym| Sym(base + s.0);
        assert_eq!(a.get(moved(q)), "CL0000000001");
        assert_eq!(a.adopt(moved(z)), x, "an equal interned string is found");
        let paris = a.adopt(moved(y));
        assert_eq!(paris, moved(y), "a new one is interned where it lies");
        assert_eq!(a.intern("Paris"), paris);
        assert_eq!(a.adopt(moved(Sym::EMPTY)), Sym::EMPTY);
    }
}
