//! Rated records: the input schema, the in-memory dataset an invoice is built
//! from, and the readers that fill it (CSV, gzip-compressed CSV, standard
//! input) under a bad-record policy.
//!
//! Reading is projected: only the columns the profile needs (plus the ones
//! every total needs) are parsed and carried. Every record read ends in
//! exactly one place — an invoice's dataset, out of scope, or rejected — so
//! `records = in_scope + out_of_scope + rejected` always holds.

mod chunked;
mod guard;
mod header;
mod input;
mod intern;
mod legs;
mod parquet;
mod postgres;
mod reader;
mod record;
mod shards;
mod value;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

pub use guard::Guarded;
pub use header::{SOURCE_FILE, SOURCE_LINE};
pub use input::Input;
pub use intern::{Interner, Sym};
pub use legs::{combine_legs, Broken, Combined, LegGroups, SplitGroup};
pub use parquet::decoding_parquet;
pub use postgres::PgSource;
pub use reader::{
    read_input, read_records, CustomerCounts, Datasets, Destination, ReadOptions, ReadOutcome,
};
pub use record::{Identified, Record, RecordFault};
pub use shards::{
    is_part_list, shard_folders, ListedPart, PartList, ShardFolder, ShardPart, PART_LIST,
};

pub use value::{parse_date, parse_duration, parse_timestamp};

use crate::error::RecordProblem;
use crate::level::Level;
use crate::money::Decimal;

/// One rated call, projected: text fields the profile does not need are
/// [`Sym::EMPTY`], optional numbers `None`. The call id, caller and dialled
/// number are stored, not interned (see [`Interner::push`]): compare their
/// text, never their symbols.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub site: Sym,
    pub campaign: Sym,
    pub number: Sym,
    pub call_id: Sym,
    pub caller: Sym,
    pub dialled: Sym,
    pub destination: Sym,
    pub call_type: Sym,
    pub direction: Sym,
    pub start: DateTime<Utc>,
    pub duration: u32,
    pub billed_duration: u32,
    pub rate: Option<Decimal>,
    pub charge: Decimal,
    /// Which leg of a forwarded call this is, if any.
    pub leg: Leg,
    /// The reference the legs of one call share (`call_group`).
    pub call_group: Sym,
    /// The records this call stands for: 1, or the legs a combined view
    /// merged into it. (The three leg fields fit in the padding a call
    /// had, so a call is no larger for them.)
    pub legs: u16,
}

/// The leg of a forwarded call a record is: the A-leg (outside caller to
/// the customer's number) or the B-leg (the customer's number on to the
/// final destination); `None` for an ordinary call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leg {
    #[default]
    None,
    A,
    B,
}

impl Leg {
    /// The letter as records write it (empty for an ordinary call).
    pub fn key(self) -> &'static str {
        match self {
            Leg::None => "",
            Leg::A => "A",
            Leg::B => "B",
        }
    }
}

/// Where a leg record stood, for messages about its call group: its file
/// (interned with the dataset's strings) and line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegOrigin {
    pub file: Sym,
    pub line: u64,
}

/// One transaction (a one-off charge or a credit), projected like [`Call`];
/// its id is stored, not interned.
#[derive(Clone, Debug, PartialEq)]
pub struct Transaction {
    pub site: Sym,
    pub campaign: Sym,
    pub number: Sym,
    pub transaction_id: Sym,
    pub date: NaiveDate,
    pub transaction_type: Sym,
    pub description: Sym,
    pub quantity: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    pub amount: Decimal,
}

/// The group key at a level from a record's site, campaign and number (the
/// customer level has one group).
fn level_key(level: Level, site: Sym, campaign: Sym, number: Sym) -> Sym {
    match level {
        Level::Customer => Sym::EMPTY,
        Level::Site => site,
        Level::Campaign => campaign,
        Level::Number => number,
    }
}

impl Call {
    /// The group key of this call at a level.
    pub fn key(&self, level: Level) -> Sym {
        level_key(level, self.site, self.campaign, self.number)
    }
}

impl Transaction {
    /// The group key of this transaction at a level.
    pub fn key(&self, level: Level) -> Sym {
        level_key(level, self.site, self.campaign, self.number)
    }
}

/// The in-scope records of one invoice, with the strings they point into.
#[derive(Debug, Default)]
pub struct Dataset {
    /// Shared (copy-on-write) so that per-group views of an invoice do not
    /// copy its strings.
    pub strings: std::sync::Arc<Interner>,
    pub calls: Vec<Call>,
    pub transactions: Vec<Transaction>,
    /// Where each leg record stood, by its call id's symbol and leg (call
    /// ids are stored, so each symbol is one record's), for
    /// messages about its call group: kept beside the calls, so an ordinary
    /// call carries nothing for it.
    pub leg_origins: HashMap<(Sym, Leg), Vec<LegOrigin>>,
}

impl Dataset {
    pub fn str(&self, sym: Sym) -> &str {
        self.strings.get(sym)
    }

    pub fn in_scope(&self) -> u64 {
        (self.calls.len() + self.transactions.len()) as u64
    }

    /// A digest of the records' content as a profile shows it (the columns
    /// of `projection`), whatever their order and however their strings
    /// were interned: two datasets holding the same records give the same
    /// digest, and a changed, added or removed record changes it. Each
    /// record is hashed alone and the hashes are summed, then hashed with
    /// the counts.
    pub fn content_digest(&self, projection: crate::column::Projection) -> [u8; 32] {
        use crate::column::Column;
        use sha2::{Digest, Sha256};
        use std::fmt::Write as _;
        let mut sum = [0u64; 4];
        let mut buffer = String::new();
        let mut add = |buffer: &str| {
            let digest = Sha256::digest(buffer.as_bytes());
            for (lane, chunk) in sum.iter_mut().zip(digest.chunks_exact(8)) {
                let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                *lane = lane.wrapping_add(word);
            }
        };
        let text = |buffer: &mut String, column: Column, sym: Sym| {
            if projection.contains(column) {
                buffer.push_str(self.str(sym));
            }
            buffer.push('\u{1f}');
        };
        for c in &self.calls {
            buffer.clear();
            buffer.push('c');
            text(&mut buffer, Column::Site, c.site);
            text(&mut buffer, Column::Campaign, c.campaign);
            text(&mut buffer, Column::Number, c.number);
            buffer.push_str(self.str(c.call_id));
            buffer.push('\u{1f}');
            text(&mut buffer, Column::Caller, c.caller);
            text(&mut buffer, Column::Dialled, c.dialled);
            text(&mut buffer, Column::Destination, c.destination);
            text(&mut buffer, Column::CallType, c.call_type);
            text(&mut buffer, Column::Direction, c.direction);
            let rate = c.rate.filter(|_| projection.contains(Column::Rate));
            let _ = write!(
                buffer,
                "{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}\u{1f}{}\u{1f}",
                c.start.timestamp_nanos_opt().unwrap_or(i64::MIN),
                c.duration,
                c.billed_duration,
                rate.map(|r| r.to_string()),
                c.charge,
                c.leg.key()
            );
            text(&mut buffer, Column::CallGroup, c.call_group);
            add(&buffer);
        }
        for t in &self.transactions {
            buffer.clear();
            buffer.push('t');
            text(&mut buffer, Column::Site, t.site);
            text(&mut buffer, Column::Campaign, t.campaign);
            text(&mut buffer, Column::Number, t.number);
            buffer.push_str(self.str(t.transaction_id));
            buffer.push('\u{1f}');
            text(&mut buffer, Column::TransactionType, t.transaction_type);
            text(&mut buffer, Column::Description, t.description);
            let quantity = t.quantity.filter(|_| projection.contains(Column::Quantity));
            let unit_price = t
                .unit_price
                .filter(|_| projection.contains(Column::UnitPrice));
            let _ = write!(
                buffer,
                "{}\u{1f}{:?}\u{1f}{:?}\u{1f}{}",
                t.date,
                quantity.map(|q| q.to_string()),
                unit_price.map(|p| p.to_string()),
                t.amount
            );
            add(&buffer);
        }
        let mut total = Sha256::new();
        for lane in sum {
            total.update(lane.to_le_bytes());
        }
        total.update((self.calls.len() as u64).to_le_bytes());
        total.update((self.transactions.len() as u64).to_le_bytes());
        total.finalize().into()
    }

    /// The strings, for adding to them (copied first if shared).
    pub fn strings_mut(&mut self) -> &mut Interner {
        std::sync::Arc::make_mut(&mut self.strings)
    }

    /// Appends another dataset's records (read after these), re-interning
    /// their strings here.
    pub fn absorb(&mut self, other: Dataset) {
        if other.calls.is_empty() && other.transactions.is_empty() {
            return;
        }
        // Nothing here yet: the other's strings keep their symbols.
        if self.calls.is_empty() && self.transactions.is_empty() && self.strings.len() == 1 {
            *self = other;
            return;
        }
        // One copy of the other's strings; then the interned ones (group
        // keys and other repeating texts) are looked up here once each, the
        // stored ones (ids, callers, dialled numbers) just move.
        let Dataset {
            strings,
            calls,
            transactions,
            leg_origins,
        } = self;
        let strings = std::sync::Arc::make_mut(strings);
        let base = strings.append(&other.strings);
        let mut adopted: Vec<u32> = vec![u32::MAX; other.strings.len()];
        let mut m = |s: Sym| {
            let slot = &mut adopted[s.index()];
            if *slot == u32::MAX {
                *slot = strings.adopt(Sym(base + s.0)).0;
            }
            Sym(*slot)
        };
        let moved = |s: Sym| Sym(base + s.0);
        calls.extend(other.calls.into_iter().map(|mut c| {
            for s in [
                &mut c.site,
                &mut c.campaign,
                &mut c.number,
                &mut c.destination,
                &mut c.call_type,
                &mut c.direction,
                &mut c.call_group,
            ] {
                *s = m(*s);
            }
            for s in [&mut c.call_id, &mut c.caller, &mut c.dialled] {
                *s = moved(*s);
            }
            c
        }));
        let mut origins: Vec<_> = other.leg_origins.into_iter().collect();
        origins.sort_by_key(|((id, leg), _)| (id.index(), *leg));
        for ((id, leg), list) in origins {
            leg_origins
                .entry((moved(id), leg))
                .or_default()
                .extend(list.into_iter().map(|o| LegOrigin {
                    file: m(o.file),
                    line: o.line,
                }));
        }
        transactions.extend(other.transactions.into_iter().map(|mut t| {
            for s in [
                &mut t.site,
                &mut t.campaign,
                &mut t.number,
                &mut t.transaction_type,
                &mut t.description,
            ] {
                *s = m(*s);
            }
            t.transaction_id = moved(t.transaction_id);
            t
        }));
    }
}

/// What to do with a record that fails validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BadRecordPolicy {
    /// Stop before writing anything; the error names file, line and column.
    #[default]
    Fail,
    /// Leave the record out, write it to `rejects.csv` with its reason, and
    /// count it in the manifest.
    Skip,
}

/// A record left out under [`BadRecordPolicy::Skip`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub problem: RecordProblem,
    /// The record's `customer_id`, when it could be read: a billing run
    /// fails that customer's invoices for it under the fail policy.
    pub customer: Option<String>,
    /// The record as it stood in the file (fields re-joined with commas,
    /// invalid UTF-8 shown as `\xNN`).
    pub raw: String,
}

/// Counts that reconcile a read with its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct InputCounts {
    /// Physical lines of text in CSV inputs (header and blank lines
    /// included); Parquet inputs have none.
    pub lines: u64,
    pub records: u64,
    pub in_scope: u64,
    pub out_of_scope: u64,
    /// Bad records, and repeated calls dropped by `--dedupe`.
    pub rejected: u64,
    /// Of `rejected`, the repeated calls dropped by `--dedupe`.
    pub duplicates_dropped: u64,
}

impl InputCounts {
    /// Moves `n` dropped repeats from in scope to rejected.
    pub fn drop_duplicates(&mut self, n: u64) {
        self.in_scope -= n;
        self.rejected += n;
        self.duplicates_dropped += n;
    }
}

/// Where a record goes: the index of the invoice it belongs to, if any.
/// A single render has one invoice; a billing run routes to many.
pub trait Router: Sync {
    /// Number of invoices (datasets) this router fills.
    fn invoices(&self) -> usize;
    /// Whether any invoice is for this customer (others are out of scope
    /// whatever their dates).
    fn serves(&self, customer_id: &str) -> bool;
    fn route_call(&self, customer_id: &str, start: DateTime<Utc>) -> Option<usize>;
    fn route_transaction(&self, customer_id: &str, date: NaiveDate) -> Option<usize>;
    /// The customers it serves, when it can list them (a source that
    /// filters, like a database, then sends only their records).
    fn customers(&self) -> Option<Vec<&str>> {
        None
    }
}

/// A router for tests: every record into one invoice.
#[cfg(test)]
pub(crate) mod test_router {
    use chrono::{DateTime, NaiveDate, Utc};

    pub struct All;

    impl super::Router for All {
        fn invoices(&self) -> usize {
            1
        }
        fn serves(&self, _: &str) -> bool {
            true
        }
        fn route_call(&self, _: &str, _: DateTime<Utc>) -> Option<usize> {
            Some(0)
        }
        fn route_transaction(&self, _: &str, _: NaiveDate) -> Option<usize> {
            Some(0)
        }
    }
}
