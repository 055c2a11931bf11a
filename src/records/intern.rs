//! String interning: each distinct text of a dataset is stored once and
//! records carry a 4-byte [`Sym`]. Grouping compares symbols, not strings.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

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
    map: HashMap<Arc<str>, Sym>,
    strs: Vec<Arc<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        let empty: Arc<str> = Arc::from("");
        Interner {
            map: std::iter::once((empty.clone(), Sym::EMPTY)).collect(),
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

    pub fn len(&self) -> usize {
        self.strs.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Ranks of the given symbols in byte order of their strings, as a
    /// vector indexed by symbol (other symbols rank `u32::MAX`): sorting by
    /// rank sorts by text without comparing strings in the hot loop. Only
    /// the symbols asked for are sorted (group keys, not millions of ids).
    pub fn ranks(&self, syms: impl IntoIterator<Item = Sym>) -> Vec<u32> {
        let mut wanted = vec![false; self.strs.len()];
        for s in syms {
            wanted[s.index()] = true;
        }
        let mut order: Vec<u32> = (0..self.strs.len() as u32)
            .filter(|s| wanted[*s as usize])
            .collect();
        order.sort_unstable_by(|a, b| self.strs[*a as usize].cmp(&self.strs[*b as usize]));
        let mut ranks = vec![u32::MAX; self.strs.len()];
        for (rank, sym) in order.into_iter().enumerate() {
            ranks[sym as usize] = rank as u32;
        }
        ranks
    }
}
