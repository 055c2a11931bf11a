//! The vocabulary of reports: the levels records are grouped at, the report
//! types, and a report as a profile selects it (a type at a level). A leaf:
//! every layer above speaks these words.

use crate::column::Column;

/// The level at which records are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Customer,
    Site,
    Campaign,
    Number,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Customer, Level::Site, Level::Campaign, Level::Number];

    pub fn key(self) -> &'static str {
        match self {
            Level::Customer => "customer",
            Level::Site => "site",
            Level::Campaign => "campaign",
            Level::Number => "number",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Customer => "Customer",
            Level::Site => "Site",
            Level::Campaign => "Campaign",
            Level::Number => "Number",
        }
    }

    pub fn from_key(key: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.key() == key)
    }

    /// The column holding this level's group key.
    pub fn key_column(self) -> Column {
        match self {
            Level::Customer => Column::CustomerId,
            Level::Site => Column::Site,
            Level::Campaign => Column::Campaign,
            Level::Number => Column::Number,
        }
    }
}

/// The type of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportKind {
    /// One row per group with the usage totals.
    Summary,
    /// One row per group and call type.
    CallTypes,
    /// Every call, itemised, grouped by the level's key.
    Calls,
    /// Every transaction, itemised, grouped by the level's key.
    Transactions,
}

impl ReportKind {
    pub const ALL: [ReportKind; 4] = [
        ReportKind::Summary,
        ReportKind::CallTypes,
        ReportKind::Calls,
        ReportKind::Transactions,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ReportKind::Summary => "summary",
            ReportKind::CallTypes => "call_types",
            ReportKind::Calls => "calls",
            ReportKind::Transactions => "transactions",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Summary => "summary",
            ReportKind::CallTypes => "call types",
            ReportKind::Calls => "calls",
            ReportKind::Transactions => "transactions",
        }
    }

    pub fn from_key(key: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Whether the report lists records one per row.
    pub fn is_itemised(self) -> bool {
        matches!(self, ReportKind::Calls | ReportKind::Transactions)
    }

    pub(crate) fn covers_calls(self) -> bool {
        !matches!(self, ReportKind::Transactions)
    }

    pub(crate) fn covers_transactions(self) -> bool {
        matches!(self, ReportKind::Summary | ReportKind::Transactions)
    }
}

/// One report the profile selects: a report type at a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportSpec {
    pub level: Level,
    pub kind: ReportKind,
}

impl ReportSpec {
    /// The report's human title, e.g. "Site summary", "Number call types".
    pub fn title(self) -> String {
        format!("{} {}", self.level.label(), self.kind.label())
    }
}
