//! The model's shapes: reports, their groups, the kinds of row a group
//! shows (data rows, "Other calls", call types, summaries) and typed cells.

use chrono::{DateTime, NaiveDate, Utc};

use super::Totals;
use crate::column::Column;
use crate::level::ReportSpec;
use crate::money::Decimal;
use crate::records::Sym;

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

/// The calls of a group shown as one row, "Other calls (17)".
pub struct OtherCalls {
    pub totals: Totals,
    /// The column that shows the label, whatever the profile's call
    /// columns (see [`label_column`]).
    pub label_column: Column,
}

impl Group {
    pub(super) fn new(key: Sym, subtotal: Totals, rows: Rows) -> Group {
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
    /// A name the engine gives, not the records: in the document's words
    /// for people, in one fixed form in machine CSV.
    Label(Label),
    Empty,
}

/// A name the engine puts in a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// The key of the group of records with no key at a level: "(no site)"
    /// for people, empty in machine CSV (as the records have it).
    NoGroup(crate::level::Level),
    /// The calls noise control rolled into one row: "Other calls (17)".
    OtherCalls(u64),
    /// With `top_destinations`, a call type's other destinations: "Other".
    OtherDestinations,
}

impl Label {
    /// The label for people, in `words`.
    pub fn shown(self, words: crate::locale::Words) -> std::borrow::Cow<'static, str> {
        use crate::locale::Msg;
        use std::borrow::Cow;
        match self {
            Label::NoGroup(level) => Cow::Borrowed(words.no_key(level)),
            Label::OtherCalls(n) => {
                Cow::Owned(words.fill(Msg::OtherCalls, &[("n", &n.to_string())]))
            }
            Label::OtherDestinations => Cow::Borrowed(words.get(Msg::OtherDestinations)),
        }
    }

    /// The label in machine CSV (`--header keys`), the same in every
    /// locale: a program can look for it.
    pub fn machine(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        match self {
            Label::NoGroup(_) => Cow::Borrowed(""),
            Label::OtherCalls(n) => Cow::Owned(format!("Other calls ({n})")),
            Label::OtherDestinations => Cow::Borrowed("Other"),
        }
    }
}

impl Report {
    /// Number of data rows (what a CSV attachment holds below its header).
    pub fn row_count(&self) -> u64 {
        self.groups.iter().map(Group::row_count).sum()
    }
}
