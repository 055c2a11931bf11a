//! Levels, report types, grouping and totals → the [`InvoiceReports`] model
//! every renderer walks.
//!
//! Grouping happens once, here; renderers never group or sum. Each selected
//! report is built in parallel, its groups and rows put in a documented total
//! order, and every report's totals are checked against the invoice's before
//! anything is written.

mod totals;

use rustc_hash::FxHashMap as HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;

pub use totals::Totals;

use crate::column::Column;
use crate::error::{Error, Result};
use crate::invoice::Invoice;
use crate::level::{Level, ReportKind, ReportSpec};
use crate::locale::Presentation;
use crate::money::Decimal;
use crate::profile::Profile;
use crate::records::{Call, Dataset, Sym, Transaction};

/// Everything an invoice's attachments show, grouped and totalled once: the
/// resolved document every renderer walks. It carries what the documents
/// say about themselves ([`Settings`]), sections ([`Report`]) with their
/// columns, groups and row kinds (data rows, "Other calls", subtotals by
/// direction, totals), and the cells of every row. Renderers see neither
/// the profile nor the records, and never add money: every sum they show
/// (a "brought forward" too) is the model's.
pub struct InvoiceReports<'a> {
    pub invoice: &'a Invoice,
    pub settings: Settings,
    data: &'a Dataset,
    /// Totals of every in-scope record of the invoice.
    pub totals: Totals,
    /// The selected reports in the profile's fixed order.
    pub reports: Vec<Report>,
}

/// One report: a report type at a level.
pub struct Report {
    pub spec: ReportSpec,
    pub columns: Vec<Column>,
    pub groups: Vec<Group>,
    /// The report's grand total (the calls part, the transactions part, or both).
    pub total: Totals,
}

/// One group of a report: the records sharing the level's key.
pub struct Group {
    pub key: Sym,
    pub subtotal: Totals,
    pub rows: Rows,
    /// Calls rolled into one "Other calls" row by the profile's noise
    /// control (below `minimum_itemised_charge`, or free with
    /// `hide_zero_rows`); they still count in the subtotal.
    pub other: Option<OtherCalls>,
    /// A summary row left out by `hide_zero_rows` (it still counts in the
    /// report's total).
    pub hidden: bool,
    /// With `split_direction`: the group's inbound and outbound call totals
    /// (calls with another direction count in neither).
    pub by_direction: Option<[Totals; 2]>,
}

/// The calls of a group shown as one row.
pub struct OtherCalls {
    pub totals: Totals,
    /// "Other calls (17)".
    pub label: String,
    /// The column that shows the label, whatever the profile's call
    /// columns (see [`label_column`]).
    pub label_column: Column,
}

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

impl Group {
    fn new(key: Sym, subtotal: Totals, rows: Rows) -> Group {
        Group {
            key,
            subtotal,
            rows,
            other: None,
            hidden: false,
            by_direction: None,
        }
    }

    /// Data rows this group shows (records, summary lines, "Other calls").
    pub fn row_count(&self) -> u64 {
        if self.hidden {
            return 0;
        }
        self.rows.len() as u64 + u64::from(self.other.is_some())
    }
}

/// The rows of a group, as indices into the dataset (never copied).
pub enum Rows {
    /// A summary row: the group's subtotal is the row.
    Summary,
    /// One row per call type, in call type order.
    /// One row per call type — with `top_destinations`, per call type and
    /// destination (`None`: the group's other destinations together).
    CallTypes(Vec<CallTypeRow>),
    /// Indices into `Dataset::calls`, in report order.
    Calls(Vec<u32>),
    /// Indices into `Dataset::transactions`, in report order.
    Transactions(Vec<u32>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Summary => 1,
            Rows::CallTypes(v) => v.len(),
            Rows::Calls(v) | Rows::Transactions(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A call types row's place: group key, call type, and with
/// `top_destinations` the destination (`None`: "Other").
type CallTypeKey = (Sym, Sym, Option<Option<Sym>>);

/// A row of a call types report.
pub struct CallTypeRow {
    pub call_type: Sym,
    /// With `top_destinations`: the destination, or `None` for "Other".
    pub destination: Option<Option<Sym>>,
    pub totals: Totals,
}

/// One row of a report, borrowed from the model.
#[derive(Clone, Copy)]
pub enum Row<'r> {
    Summary {
        key: Sym,
        totals: &'r Totals,
        /// With `split_direction`: inbound and outbound call totals.
        by_direction: Option<&'r [Totals; 2]>,
    },
    CallType {
        key: Sym,
        call_type: Sym,
        /// With `top_destinations`: the destination, `None` for "Other".
        destination: Option<Option<Sym>>,
        totals: &'r Totals,
    },
    /// An itemised call, by its stable id (see [`InvoiceReports::calls`]).
    Call(u32),
    /// An itemised transaction, by its stable id.
    Transaction(u32),
    /// The calls of a group rolled into one row by noise control.
    Other {
        key: Sym,
        totals: &'r Totals,
        label: &'r str,
        label_column: Column,
    },
}

/// A typed cell value; the column's kind decides how it is shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'r> {
    Text(&'r str),
    Money(Decimal),
    Duration(u64),
    Timestamp(DateTime<Utc>),
    Date(NaiveDate),
    Count(u64),
    Number(Decimal),
    Empty,
}

impl Report {
    /// Number of data rows (what a CSV attachment holds below its header).
    pub fn row_count(&self) -> u64 {
        self.groups.iter().map(Group::row_count).sum()
    }
}

/// What the documents of an invoice say about themselves, settled from the
/// profile and the customer: names, the company, how amounts and dates
/// read, and the PDF's detail limit.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The profile's name, shown in every title block.
    pub profile_name: String,
    /// The profile's `company`: PDF cover and document properties.
    pub company: Option<String>,
    /// Whether the profile sets a locale (human CSV then reads like the PDF).
    pub localised: bool,
    /// Separators, date order and currency, from the locale and currency.
    pub look: Presentation,
    /// Itemised reports longer than this show only subtotals in the PDF.
    pub pdf_max_detail_rows: Option<u64>,
}

impl<'a> InvoiceReports<'a> {
    /// Groups and totals every report of the profile, in parallel, and checks
    /// that every report reconciles with the invoice totals.
    pub fn build(
        invoice: &'a Invoice,
        profile: &'a Profile,
        data: &'a Dataset,
    ) -> Result<InvoiceReports<'a>> {
        let totals = Totals::of(&data.calls, &data.transactions)?;
        // Group keys and call types are ranked once; ids are compared as
        // text only where time ties.
        let keys = data
            .calls
            .iter()
            .flat_map(|c| [c.site, c.campaign, c.number, c.call_type])
            .chain(
                data.transactions
                    .iter()
                    .flat_map(|t| [t.site, t.campaign, t.number]),
            );
        let ranks = data.strings.ranks(keys);
        let reports = profile
            .reports
            .par_iter()
            .map(|spec| build_report(*spec, profile, data, &ranks))
            .collect::<Result<Vec<_>>>()?;
        let built = InvoiceReports {
            invoice,
            settings: Settings {
                profile_name: profile.name.clone(),
                company: profile.company.clone(),
                localised: profile.locale.is_some(),
                look: Presentation::new(profile.locale, invoice.currency.as_deref()),
                pdf_max_detail_rows: profile.pdf_max_detail_rows,
            },
            data,
            totals,
            reports,
        };
        built.reconcile()?;
        Ok(built)
    }

    /// Every group adds up to its report's total, and every report's total
    /// equals the invoice's for the records it covers.
    fn reconcile(&self) -> Result<()> {
        for report in &self.reports {
            let name = format!("{} {}", report.spec.level.key(), report.spec.kind.key());
            let mut sum = Totals::default();
            for g in &report.groups {
                sum.merge(&g.subtotal)
                    .map_err(|_| Error::Overflow(name.clone()))?;
            }
            if sum != report.total {
                return Err(Error::Reconcile(format!(
                    "{name}: groups add up to {sum:?}, report total is {:?}",
                    report.total
                )));
            }
            let kind = report.spec.kind;
            let calls_ok =
                !kind.covers_calls() || report.total.calls_part() == self.totals.calls_part();
            let tx_ok = !kind.covers_transactions()
                || report.total.transactions_part() == self.totals.transactions_part();
            if !calls_ok || !tx_ok {
                return Err(Error::Reconcile(format!(
                    "{name}: total {:?} differs from the invoice total {:?}",
                    report.total, self.totals
                )));
            }
        }
        Ok(())
    }

    /// The text of a group key at a level (the customer id at customer level).
    pub fn key_text(&self, level: crate::report::Level, key: Sym) -> &str {
        match level {
            Level::Customer => &self.invoice.customer_id,
            _ => self.data.str(key),
        }
    }

    /// A group key for people: the key, or "(no site)" for the empty key.
    pub fn group_label(&self, level: Level, key: Sym) -> String {
        match self.key_text(level, key) {
            "" => format!("(no {})", level.key()),
            text => text.to_string(),
        }
    }

    /// The rows of a group, in report order.
    pub fn rows<'r>(&'r self, group: &'r Group) -> Box<dyn Iterator<Item = Row<'r>> + 'r> {
        if group.hidden {
            return Box::new(std::iter::empty());
        }
        let other = group.other.as_ref().map(|o| Row::Other {
            key: group.key,
            totals: &o.totals,
            label: &o.label,
            label_column: o.label_column,
        });
        let rows: Box<dyn Iterator<Item = Row<'r>> + 'r> = match &group.rows {
            Rows::Summary => Box::new(std::iter::once(Row::Summary {
                key: group.key,
                totals: &group.subtotal,
                by_direction: group.by_direction.as_ref(),
            })),
            Rows::CallTypes(v) => Box::new(v.iter().map(move |r| Row::CallType {
                key: group.key,
                call_type: r.call_type,
                destination: r.destination,
                totals: &r.totals,
            })),
            Rows::Calls(v) => Box::new(v.iter().map(|i| Row::Call(*i))),
            Rows::Transactions(v) => Box::new(v.iter().map(|i| Row::Transaction(*i))),
        };
        Box::new(rows.chain(other))
    }

    /// The value of one column in one row of a report.
    pub fn cell<'r>(&'r self, level: Level, row: Row<'r>, column: Column) -> Cell<'r> {
        let text = |sym: Sym| Cell::Text(self.data.str(sym));
        let measure = |totals: &Totals| totals.cell(column).unwrap_or(Cell::Empty);
        if column == Column::CustomerId {
            return Cell::Text(&self.invoice.customer_id);
        }
        match row {
            Row::Summary {
                key,
                totals,
                by_direction,
            } => {
                if column == level.key_column() {
                    return Cell::Text(self.key_text(level, key));
                }
                match (column.direction(), by_direction) {
                    (Some((dir, inner)), Some(split)) => {
                        split[dir].cell(inner).unwrap_or(Cell::Empty)
                    }
                    (Some(_), None) => Cell::Empty,
                    (None, _) => measure(totals),
                }
            }
            Row::Other {
                key,
                totals,
                label,
                label_column,
            } => match column {
                c if c == label_column => Cell::Text(label),
                c if c == level.key_column() => Cell::Text(self.key_text(level, key)),
                Column::OtherCalls => Cell::Count(totals.calls),
                Column::Duration | Column::BilledDuration | Column::Charge => measure(totals),
                _ => Cell::Empty,
            },
            Row::CallType {
                key,
                call_type,
                destination,
                totals,
            } => match column {
                c if c == level.key_column() => Cell::Text(self.key_text(level, key)),
                Column::CallType => text(call_type),
                Column::Destination => match destination {
                    Some(Some(d)) => text(d),
                    Some(None) => Cell::Text("Other"),
                    None => Cell::Empty,
                },
                _ => measure(totals),
            },
            Row::Call(id) => self.call_cell(id, column),
            Row::Transaction(id) => {
                let t = &self.data.transactions[id as usize];
                match column {
                    Column::Site => text(t.site),
                    Column::Campaign => text(t.campaign),
                    Column::Number => text(t.number),
                    Column::TransactionId => text(t.transaction_id),
                    Column::Date => Cell::Date(t.date),
                    Column::TransactionType => text(t.transaction_type),
                    Column::Description => text(t.description),
                    Column::Quantity => t.quantity.map_or(Cell::Empty, Cell::Number),
                    Column::UnitPrice => t.unit_price.map_or(Cell::Empty, Cell::Money),
                    Column::Amount => Cell::Money(t.amount),
                    _ => Cell::Empty,
                }
            }
        }
    }

    /// The subtotal of a group's first `n` rows (records and "Other calls"
    /// in report order): what a continuation sheet carries forward.
    pub fn subtotal_of_first(&self, group: &Group, n: u64) -> Totals {
        let mut running = Totals::default();
        for row in self.rows(group).take(n as usize) {
            // Sums of values already summed once without overflow cannot overflow.
            let _ = match row {
                Row::Call(id) => running.add_call(&self.data.calls[id as usize]),
                Row::Transaction(id) => {
                    running.add_transaction(&self.data.transactions[id as usize])
                }
                Row::Other { totals, .. } => running.merge(totals),
                Row::Summary { .. } | Row::CallType { .. } => Ok(()),
            };
        }
        running
    }

    /// The itemised calls' stable ids, `0..calls()`: a call's cells are the
    /// same in every level's calls report, so a renderer may format each
    /// call once per invoice ([`InvoiceReports::call_cell`]) and reuse it.
    pub fn calls(&self) -> u32 {
        self.data.calls.len() as u32
    }

    /// The value of one column of an itemised call by its id: the same in
    /// every level's calls report (only the customer column is the
    /// invoice's).
    pub fn call_cell(&self, id: u32, column: Column) -> Cell<'_> {
        let c = &self.data.calls[id as usize];
        let text = |sym: Sym| Cell::Text(self.data.str(sym));
        match column {
            Column::CustomerId => Cell::Text(&self.invoice.customer_id),
            Column::Site => text(c.site),
            Column::Campaign => text(c.campaign),
            Column::Number => text(c.number),
            Column::CallId => text(c.call_id),
            Column::StartTime => Cell::Timestamp(c.start),
            Column::Caller => text(c.caller),
            Column::Dialled => text(c.dialled),
            Column::Destination => text(c.destination),
            Column::CallType => text(c.call_type),
            Column::Direction => text(c.direction),
            Column::Duration => Cell::Duration(c.duration as u64),
            Column::BilledDuration => Cell::Duration(c.billed_duration as u64),
            Column::Rate => c.rate.map_or(Cell::Empty, Cell::Money),
            Column::Charge => Cell::Money(c.charge),
            _ => Cell::Empty,
        }
    }
}

/// The columns of a report: the level's key first, then the report's own.
pub fn report_columns(spec: ReportSpec, profile: &Profile) -> Vec<Column> {
    let key = spec.level.key_column();
    let mut columns = vec![key];
    match spec.kind {
        ReportKind::Summary => {
            columns.extend([
                Column::Calls,
                Column::Duration,
                Column::BilledDuration,
                Column::CallCharge,
                Column::Transactions,
                Column::TransactionAmount,
                Column::Total,
            ]);
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
        }
        ReportKind::Transactions => {
            columns.extend(profile.transaction_columns.iter().filter(|c| **c != key))
        }
    }
    columns
}

fn build_report(
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
                        label: format!("Other calls ({})", other.calls),
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
    fn add_to(&self, totals: &mut Totals) -> std::result::Result<(), crate::money::Overflow> {
        totals.add_transaction(self)
    }
}

/// Orders records by (group key, time, id, input position) — ids compared
/// as text only where key and time tie — and cuts them into totalled
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
                data.str(ra.id()).cmp(data.str(rb.id())).then(a.cmp(b))
            });
        }
    }
    let order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
    split_runs(
        order,
        |i| records[i as usize].key(level),
        wrap,
        |t, i| records[i as usize].add_to(t),
    )
}

/// Cuts an ordered index into groups of equal key, totalling each.
fn split_runs(
    order: Vec<u32>,
    key: impl Fn(u32) -> Sym,
    wrap: fn(Vec<u32>) -> Rows,
    add: impl Fn(&mut Totals, u32) -> std::result::Result<(), crate::money::Overflow>,
) -> std::result::Result<Vec<Group>, crate::money::Overflow> {
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let k = key(order[start]);
        let mut end = start;
        let mut subtotal = Totals::default();
        while end < order.len() && key(order[end]) == k {
            add(&mut subtotal, order[end])?;
            end += 1;
        }
        groups.push(Group::new(k, subtotal, wrap(order[start..end].to_vec())));
        start = end;
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
        calls: Vec::new(),
        transactions: Vec::new(),
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
