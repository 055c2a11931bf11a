//! Building the model: each report's columns, its groups in the documented
//! order with exact subtotals, and the profile's options that reshape rows
//! (noise control, direction subtotals, top destinations).

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use super::{CallTypeRow, Group, OtherCalls, Report, Rows, Totals};
use crate::column::Column;
use crate::error::{Error, Result};
use crate::level::{Level, ReportKind, ReportSpec};
use crate::money::Decimal;
use crate::profile::{Legs, Profile};
use crate::records::{Call, Dataset, Sym, Transaction};

/// A call types row's place: group key, call type, and with
/// `top_destinations` the destination (`None`: "Other").
type CallTypeKey = (Sym, Sym, Option<Option<Sym>>);

/// Where an "Other calls (N)" row shows its label: the first text column
/// after the key (an id, a phone number, free text), else the first that
/// is not a number (a time), else the key column itself.
fn label_column(columns: &[Column]) -> Column {
    use crate::column::ColumnKind;
    let rest = || columns.iter().skip(1).copied();
    rest()
        .find(|c| {
            matches!(
                c.kind(),
                ColumnKind::Text | ColumnKind::Id | ColumnKind::Phone
            )
        })
        .or_else(|| rest().find(|c| !c.kind().is_numeric()))
        .unwrap_or(columns[0])
}

/// The columns of a report: the level's key first, then the report's own.
pub fn report_columns(spec: ReportSpec, profile: &Profile) -> Vec<Column> {
    let key = spec.level.key_column();
    let mut columns = vec![key];
    match spec.kind {
        ReportKind::Summary => {
            columns.extend(Column::SUMMARY);
            // Options append columns; they never move existing ones.
            if profile.split_direction {
                columns.extend([
                    Column::InboundCalls,
                    Column::InboundDuration,
                    Column::InboundCallCharge,
                    Column::OutboundCalls,
                    Column::OutboundDuration,
                    Column::OutboundCallCharge,
                ]);
            }
        }
        ReportKind::CallTypes => {
            columns.extend([
                Column::CallType,
                Column::Calls,
                Column::Duration,
                Column::BilledDuration,
                Column::CallCharge,
            ]);
            if profile.top_destinations.is_some() {
                columns.push(Column::Destination);
            }
        }
        ReportKind::Calls => {
            columns.extend(profile.call_columns.iter().filter(|c| **c != key));
            // Noise control rolls calls into "Other calls (N)" rows: this
            // column says which rows those are, and N, for programs.
            if profile.minimum_itemised_charge.is_some() || profile.hide_zero_rows {
                columns.push(Column::OtherCalls);
            }
            // One row per forwarded call: how many legs it stands for.
            if profile.legs == Legs::Combined {
                columns.push(Column::Legs);
            }
        }
        ReportKind::Transactions => {
            columns.extend(profile.transaction_columns.iter().filter(|c| **c != key))
        }
    }
    columns
}

pub(super) fn build_report(
    spec: ReportSpec,
    profile: &Profile,
    data: &Dataset,
    ranks: &[u32],
) -> Result<Report> {
    let level = spec.level;
    let overflow = |_| Error::Overflow(format!("{} {}", level.key(), spec.kind.key()));
    let rank = |s: Sym| ranks[s.index()];
    let mut groups: Vec<Group> = match spec.kind {
        ReportKind::Summary => {
            let mut per_key: HashMap<Sym, Totals> = HashMap::default();
            if level == Level::Customer {
                per_key.insert(Sym::EMPTY, Totals::default());
            }
            for c in &data.calls {
                per_key
                    .entry(c.key(level))
                    .or_default()
                    .add_call(c)
                    .map_err(overflow)?;
            }
            for t in &data.transactions {
                per_key
                    .entry(t.key(level))
                    .or_default()
                    .add_transaction(t)
                    .map_err(overflow)?;
            }
            per_key
                .into_iter()
                .map(|(key, subtotal)| Group::new(key, subtotal, Rows::Summary))
                .collect()
        }
        ReportKind::CallTypes => {
            // With top_destinations, each group's N costliest destinations
            // keep their own rows; the rest share one "Other" per call type.
            let top: Option<HashMap<Sym, rustc_hash::FxHashSet<Sym>>> =
                profile.top_destinations.map(|n| {
                    let mut spend: HashMap<(Sym, Sym), Decimal> = HashMap::default();
                    for c in &data.calls {
                        let e = spend.entry((c.key(level), c.destination)).or_default();
                        *e = e.checked_add(c.charge).unwrap_or(*e);
                    }
                    let mut per_group: HashMap<Sym, Vec<(Decimal, Sym)>> = HashMap::default();
                    for ((k, d), amount) in spend {
                        per_group.entry(k).or_default().push((amount, d));
                    }
                    per_group
                        .into_iter()
                        .map(|(k, mut v)| {
                            v.sort_by(|a, b| {
                                b.0.cmp(&a.0).then_with(|| data.str(a.1).cmp(data.str(b.1)))
                            });
                            (k, v.into_iter().take(n as usize).map(|(_, d)| d).collect())
                        })
                        .collect()
                });
            let mut per_type: HashMap<CallTypeKey, Totals> = HashMap::default();
            for c in &data.calls {
                let key = c.key(level);
                let destination = top.as_ref().map(|t| {
                    t.get(&key)
                        .filter(|s| s.contains(&c.destination))
                        .map(|_| c.destination)
                });
                per_type
                    .entry((key, c.call_type, destination))
                    .or_default()
                    .add_call(c)
                    .map_err(overflow)?;
            }
            let mut rows: Vec<(CallTypeKey, Totals)> = per_type.into_iter().collect();
            // "Other" sorts after the named destinations of its call type.
            rows.sort_unstable_by(|((ka, ta, da), _), ((kb, tb, db), _)| {
                (rank(*ka), rank(*ta))
                    .cmp(&(rank(*kb), rank(*tb)))
                    .then_with(|| match (da, db) {
                        (Some(Some(a)), Some(Some(b))) => data.str(*a).cmp(data.str(*b)),
                        (Some(None), Some(Some(_))) => std::cmp::Ordering::Greater,
                        (Some(Some(_)), Some(None)) => std::cmp::Ordering::Less,
                        _ => std::cmp::Ordering::Equal,
                    })
            });
            let mut groups: Vec<Group> = Vec::new();
            for ((key, call_type, destination), totals) in rows {
                if groups.last().is_none_or(|g| g.key != key) {
                    groups.push(Group::new(
                        key,
                        Totals::default(),
                        Rows::CallTypes(Vec::new()),
                    ));
                }
                let g = groups.last_mut().expect("pushed above");
                g.subtotal.merge(&totals).map_err(overflow)?;
                if let Rows::CallTypes(v) = &mut g.rows {
                    v.push(CallTypeRow {
                        call_type,
                        destination,
                        totals,
                    });
                }
            }
            groups
        }
        ReportKind::Calls => {
            itemise(&data.calls, level, data, &rank, Rows::Calls).map_err(overflow)?
        }
        ReportKind::Transactions => {
            itemise(&data.transactions, level, data, &rank, Rows::Transactions).map_err(overflow)?
        }
    };
    groups.sort_by_key(|g| rank(g.key));
    let columns = report_columns(spec, profile);
    apply_noise_control(&mut groups, spec.kind, &columns, profile, data).map_err(overflow)?;
    if profile.split_direction && matches!(spec.kind, ReportKind::Summary | ReportKind::Calls) {
        split_by_direction(&mut groups, level, data).map_err(overflow)?;
    }
    let mut total = Totals::default();
    for g in &groups {
        total.merge(&g.subtotal).map_err(overflow)?;
    }
    Ok(Report {
        spec,
        columns,
        groups,
        total,
    })
}

/// The direction subtotal a call's `direction` counts in: 0 inbound, 1
/// outbound, `None` for neither.
fn direction_of(text: &str) -> Option<usize> {
    match text.to_ascii_lowercase().as_str() {
        "inbound" | "in" => Some(0),
        "outbound" | "out" => Some(1),
        _ => None,
    }
}

/// With `split_direction`: a warning naming calls whose direction is
/// neither inbound nor outbound (they count in every total, in neither
/// direction's subtotal).
pub fn direction_warning(profile: &Profile, data: &Dataset) -> Option<String> {
    if !profile.split_direction {
        return None;
    }
    let mut unknown = data
        .calls
        .iter()
        .filter(|c| direction_of(data.str(c.direction)).is_none());
    let first = unknown.next()?;
    let count = 1 + unknown.count();
    Some(format!(
        "{count} call(s) have a direction that is neither inbound nor outbound (first: {:?}, call_id {:?}): they count in every total but in neither direction's subtotal",
        data.str(first.direction),
        data.str(first.call_id)
    ))
}

/// Inbound and outbound call totals per group, for `split_direction`.
fn split_by_direction(
    groups: &mut [Group],
    level: Level,
    data: &Dataset,
) -> std::result::Result<(), crate::money::Overflow> {
    let mut per_key: HashMap<Sym, [Totals; 2]> = HashMap::default();
    for c in &data.calls {
        let Some(dir) = direction_of(data.str(c.direction)) else {
            continue;
        };
        per_key.entry(c.key(level)).or_default()[dir].add_call(c)?;
    }
    for g in groups.iter_mut() {
        g.by_direction = Some(per_key.get(&g.key).copied().unwrap_or_default());
    }
    Ok(())
}

/// The profile's noise control: itemised calls below `minimum_itemised_charge`
/// (or free, with `hide_zero_rows`) become one "Other calls" row per group;
/// with `hide_zero_rows`, summary and call-type rows without money are left
/// out. Subtotals and totals are untouched, so they still add up.
fn apply_noise_control(
    groups: &mut [Group],
    kind: ReportKind,
    columns: &[Column],
    profile: &Profile,
    data: &Dataset,
) -> std::result::Result<(), crate::money::Overflow> {
    let minimum = profile.minimum_itemised_charge;
    let hide_zero = profile.hide_zero_rows;
    match kind {
        ReportKind::Calls if minimum.is_some() || hide_zero => {
            for g in groups.iter_mut() {
                let Rows::Calls(rows) = &mut g.rows else {
                    continue;
                };
                let mut other = Totals::default();
                let mut kept = Vec::with_capacity(rows.len());
                for &i in rows.iter() {
                    let c = &data.calls[i as usize];
                    let small =
                        minimum.is_some_and(|m| c.charge < m) || (hide_zero && c.charge.is_zero());
                    if small {
                        other.add_call(c)?;
                    } else {
                        kept.push(i);
                    }
                }
                *rows = kept;
                if other.calls > 0 {
                    g.other = Some(OtherCalls {
                        label_column: label_column(columns),
                        totals: other,
                    });
                }
            }
        }
        ReportKind::Summary if hide_zero => {
            for g in groups.iter_mut() {
                g.hidden =
                    g.subtotal.call_charge.is_zero() && g.subtotal.transaction_amount.is_zero();
            }
        }
        ReportKind::CallTypes if hide_zero => {
            for g in groups.iter_mut() {
                if let Rows::CallTypes(rows) = &mut g.rows {
                    rows.retain(|r| !r.totals.call_charge.is_zero());
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// What an itemised report needs of a record: its group key at a level, the
/// time it is ordered by, its id (the tie-break), and how it adds to totals.
trait Itemised: Sync {
    fn key(&self, level: Level) -> Sym;
    /// The record's time as a number below 2^96 that sorts like the time.
    fn when(&self) -> u128;
    fn id(&self) -> Sym;
    /// Every field as text, to order records that share key, time and id
    /// by what they hold rather than where they stood in the input.
    fn content(&self, data: &Dataset) -> String;
    fn add_to(&self, totals: &mut Totals) -> std::result::Result<(), crate::money::Overflow>;
}

impl Itemised for Call {
    fn key(&self, level: Level) -> Sym {
        Call::key(self, level)
    }
    fn when(&self) -> u128 {
        // Seconds with the sign bit flipped (so negative sorts first), then nanoseconds.
        let seconds = (self.start.timestamp() as u64) ^ (1 << 63);
        ((seconds as u128) << 32) | self.start.timestamp_subsec_nanos() as u128
    }
    fn id(&self) -> Sym {
        self.call_id
    }
    fn content(&self, data: &Dataset) -> String {
        let text = |s: Sym| data.str(s);
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            text(self.site),
            text(self.campaign),
            text(self.number),
            text(self.caller),
            text(self.dialled),
            text(self.destination),
            text(self.call_type),
            text(self.direction),
            self.duration,
            self.billed_duration,
            self.rate.map(|r| r.to_string()),
            self.charge,
            self.leg.key(),
            text(self.call_group),
            self.legs
        )
    }
    fn add_to(&self, totals: &mut Totals) -> std::result::Result<(), crate::money::Overflow> {
        totals.add_call(self)
    }
}

impl Itemised for Transaction {
    fn key(&self, level: Level) -> Sym {
        Transaction::key(self, level)
    }
    fn when(&self) -> u128 {
        use chrono::Datelike;
        (self.date.num_days_from_ce() as u32 ^ (1 << 31)) as u128
    }
    fn id(&self) -> Sym {
        self.transaction_id
    }
    fn content(&self, data: &Dataset) -> String {
        let text = |s: Sym| data.str(s);
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{:?}\u{1f}{}",
            text(self.site),
            text(self.campaign),
            text(self.number),
            text(self.transaction_type),
            text(self.description),
            self.quantity.map(|q| q.to_string()),
            self.unit_price.map(|p| p.to_string()),
            self.amount
        )
    }
    fn add_to(&self, totals: &mut Totals) -> std::result::Result<(), crate::money::Overflow> {
        totals.add_transaction(self)
    }
}

/// Orders records by (group key, time, id, content, input position) — ids
/// compared as text only where key and time tie, content only where the id
/// ties too, so the order never depends on the input's order unless two
/// records are the same — and cuts them into totalled
/// groups. Key rank and time are packed into one number per record first,
/// so the sort reads a flat array instead of the records.
fn itemise<R: Itemised>(
    records: &[R],
    level: Level,
    data: &Dataset,
    rank: &(impl Fn(Sym) -> u32 + Sync),
    wrap: fn(Vec<u32>) -> Rows,
) -> std::result::Result<Vec<Group>, crate::money::Overflow> {
    let mut keyed: Vec<(u128, u32)> = records
        .par_iter()
        .enumerate()
        .map(|(i, r)| (((rank(r.key(level)) as u128) << 96) | r.when(), i as u32))
        .collect();
    keyed.par_sort_unstable();
    for tied in keyed.chunk_by_mut(|a, b| a.0 == b.0) {
        if tied.len() > 1 {
            tied.sort_unstable_by(|(_, a), (_, b)| {
                let (ra, rb) = (&records[*a as usize], &records[*b as usize]);
                data.str(ra.id())
                    .cmp(data.str(rb.id()))
                    .then_with(|| ra.content(data).cmp(&rb.content(data)))
                    .then(a.cmp(b))
            });
        }
    }
    // Subtotals in one pass in storage order (memory read in sequence),
    // by the key's place among the sorted keys; the sorted index is then
    // cut where the key changes, without reading the records again. (A
    // key's rank may be u32::MAX — the customer level's one empty key when
    // no field is empty — so places are numbered, not ranks used.)
    let rank_of = |k: &(u128, u32)| (k.0 >> 96) as u32;
    let mut ranks: Vec<u32> = keyed.iter().map(rank_of).collect();
    ranks.dedup();
    let place = |key: Sym| ranks.binary_search(&rank(key)).expect("a ranked key");
    let mut subtotals = vec![Totals::default(); ranks.len()];
    for r in records {
        r.add_to(&mut subtotals[place(r.key(level))])?;
    }
    let mut groups = Vec::new();
    for run in keyed.chunk_by(|a, b| rank_of(a) == rank_of(b)) {
        let key = records[run[0].1 as usize].key(level);
        let subtotal = std::mem::take(&mut subtotals[place(key)]);
        groups.push(Group::new(
            key,
            subtotal,
            wrap(run.iter().map(|(_, i)| *i).collect()),
        ));
    }
    Ok(groups)
}

/// The records of each group at a level, in one pass, ordered by the group
/// key's text; each shares the invoice's strings and keeps the records'
/// input order (for `split`: one set of files per group).
pub fn group_datasets(data: &Dataset, level: Level) -> Vec<(Sym, Dataset)> {
    let mut by_key: HashMap<Sym, Dataset> = HashMap::default();
    let mut empty = || Dataset {
        strings: data.strings.clone(),
        ..Dataset::default()
    };
    for c in &data.calls {
        by_key
            .entry(c.key(level))
            .or_insert_with(&mut empty)
            .calls
            .push(c.clone());
    }
    for t in &data.transactions {
        by_key
            .entry(t.key(level))
            .or_insert_with(&mut empty)
            .transactions
            .push(t.clone());
    }
    let mut groups: Vec<(Sym, Dataset)> = by_key.into_iter().collect();
    groups.sort_by(|a, b| data.str(a.0).cmp(data.str(b.0)));
    groups
}
