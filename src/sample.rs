//! `usage-report sample`: a seeded, stratified sample of an invoice's records
//! for the finance team — every group of every level the profile selects
//! still appears, and the same seed always picks the same records.

use crate::hash::Rng;
use crate::level::Level;
use crate::profile::Profile;
use crate::records::{Dataset, Sym};

/// What a sample kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleSize {
    /// Records in the sample.
    pub rows: u64,
    /// Records of the invoice it was drawn from.
    pub of: u64,
}

/// Keeps a sample of `rows` records of `data` (calls and transactions
/// together): first one record of every group of every level the profile
/// selects (so no group vanishes; this may exceed `rows`), then records in
/// seeded random order up to `rows`. Kept records stay in input order.
pub fn sample(data: &mut Dataset, profile: &Profile, rows: u64, seed: u64) -> SampleSize {
    let calls = data.calls.len();
    let total = calls + data.transactions.len();
    // A seeded permutation of all records (Fisher-Yates).
    let mut order: Vec<usize> = (0..total).collect();
    let mut rng = Rng::new(seed);
    for i in (1..total).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let levels: Vec<Level> = Level::ALL
        .into_iter()
        .filter(|l| profile.has_level(*l))
        .collect();
    let key = |i: usize, level: Level| -> Sym {
        if i < calls {
            data.calls[i].key(level)
        } else {
            data.transactions[i - calls].key(level)
        }
    };
    let mut keep = vec![false; total];
    let mut kept = 0u64;
    for level in &levels {
        let mut seen = rustc_hash::FxHashSet::default();
        for &i in &order {
            if seen.insert(key(i, *level)) && !keep[i] {
                keep[i] = true;
                kept += 1;
            }
        }
    }
    for &i in &order {
        if kept >= rows {
            break;
        }
        if !keep[i] {
            keep[i] = true;
            kept += 1;
        }
    }
    let mut index = 0;
    data.calls.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    data.transactions.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    SampleSize {
        rows: kept,
        of: total as u64,
    }
}
