//! String interning: each distinct text of a dataset is stored once and
//! records carry a 4-byte [`Sym`]. Grouping compares symbols, not strings.

use std::collections::HashMap;
use std::sync::Arc;

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
#[derive(Debug)]
pub struct Interner {
    map: HashMap<Arc<str>, Sym>,
    strs: Vec<Arc<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        let empty: Arc<str> = Arc::from("");
        Interner {
            map: HashMap::from([(empty.clone(), Sym::EMPTY)]),
            strs: vec![empty],
        }
    }
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(sym) = self.map.get(s) {
            return *sym;
        }
        let sym =
            Sym(u32::try_from(self.strs.len()).expect("more than 4 billion distinct strings"));
        let owned: Arc<str> = Arc::from(s);
        self.map.insert(owned.clone(), sym);
        self.strs.push(owned);
        sym
    }

    pub fn get(&self, sym: Sym) -> &str {
        &self.strs[sym.index()]
    }

    /// The symbol of a string already interned.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.map.get(s).copied()
    }

    pub fn len(&self) -> usize {
        self.strs.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// For each symbol, its rank in byte order of the strings: sorting by
    /// rank sorts by text without comparing strings in the hot loop.
    pub fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.strs.len() as u32).collect();
        order.sort_unstable_by(|a, b| self.strs[*a as usize].cmp(&self.strs[*b as usize]));
        let mut ranks = vec![0u32; order.len()];
        for (rank, sym) in order.into_iter().enumerate() {
            ranks[sym as usize] = rank as u32;
        }
        ranks
    }
}
