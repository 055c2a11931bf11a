//! The column catalogue: every record field and every summary measure, with
//! its stable key, its human label and its kind. The kind alone decides how a
//! cell looks in each format (a `Phone` is always text; `Money` is a number in
//! XLSX and a formatted string in PDF).
//!
//! Keys and the order of report columns are a contract that pipelines script
//! against (`--header keys`): a key never changes, new columns only append.

/// How a column's values are typed and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// Free text (site names, descriptions): sanitised against formula injection.
    Text,
    /// A telephone number: always text, never a number, `+` and leading `0` kept.
    Phone,
    /// An identifier: always text.
    Id,
    /// An exact amount of money.
    Money,
    /// An exact price per minute.
    Rate,
    /// Whole seconds.
    Duration,
    /// An instant, shown in the invoice's time zone.
    Timestamp,
    /// A calendar date.
    Date,
    /// A count of records.
    Count,
    /// An exact quantity.
    Quantity,
}

impl ColumnKind {
    /// Kinds whose values are numbers: right-aligned wherever shown, exact
    /// wherever read.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ColumnKind::Money
                | ColumnKind::Rate
                | ColumnKind::Duration
                | ColumnKind::Count
                | ColumnKind::Quantity
        )
    }
}

/// Which record type a field belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    Both,
    Call,
    Transaction,
    /// A computed summary measure, not a record field.
    Measure,
}

macro_rules! columns {
    ($( $variant:ident => $key:literal, $label:literal, $kind:ident, $applies:ident; )*) => {
        /// A column of a report: a record field or a summary measure.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Column { $($variant),* }

        impl Column {
            /// Every column, in catalogue order.
            pub const ALL: &'static [Column] = &[$(Column::$variant),*];

            /// The stable machine key (also the record file's header name).
            pub fn key(self) -> &'static str {
                match self { $(Column::$variant => $key),* }
            }

            /// The human label used by `--header labels`, XLSX and PDF.
            pub fn base_label(self) -> &'static str {
                match self { $(Column::$variant => $label),* }
            }

            pub fn kind(self) -> ColumnKind {
                match self { $(Column::$variant => ColumnKind::$kind),* }
            }

            pub fn applies(self) -> Applies {
                match self { $(Column::$variant => Applies::$applies),* }
            }
        }
    };
}

columns! {
    RecordType => "record_type", "Record type", Text, Both;
    CustomerId => "customer_id", "Customer", Id, Both;
    Site => "site", "Site", Text, Both;
    Campaign => "campaign", "Campaign", Text, Both;
    Number => "number", "Number", Phone, Both;
    CallId => "call_id", "Call ID", Id, Call;
    StartTime => "start_time", "Start time", Timestamp, Call;
    Caller => "caller", "Caller", Phone, Call;
    Dialled => "dialled", "Dialled", Phone, Call;
    Destination => "destination", "Destination", Text, Call;
    CallType => "call_type", "Call type", Text, Call;
    Direction => "direction", "Direction", Text, Call;
    Duration => "duration", "Duration (s)", Duration, Call;
    BilledDuration => "billed_duration", "Billed duration (s)", Duration, Call;
    Rate => "rate", "Rate per minute", Rate, Call;
    Charge => "charge", "Charge", Money, Call;
    TransactionId => "transaction_id", "Transaction ID", Id, Transaction;
    Date => "date", "Date", Date, Transaction;
    TransactionType => "transaction_type", "Transaction type", Text, Transaction;
    Description => "description", "Description", Text, Transaction;
    Quantity => "quantity", "Quantity", Quantity, Transaction;
    UnitPrice => "unit_price", "Unit price", Money, Transaction;
    Amount => "amount", "Amount", Money, Transaction;
    Calls => "calls", "Calls", Count, Measure;
    CallCharge => "call_charge", "Call charges", Money, Measure;
    Transactions => "transactions", "Transactions", Count, Measure;
    TransactionAmount => "transaction_amount", "Transaction amount", Money, Measure;
    Total => "total", "Total", Money, Measure;
    InboundCalls => "inbound_calls", "Inbound calls", Count, Measure;
    InboundDuration => "inbound_duration", "Inbound duration (s)", Duration, Measure;
    InboundCallCharge => "inbound_call_charge", "Inbound call charges", Money, Measure;
    OutboundCalls => "outbound_calls", "Outbound calls", Count, Measure;
    OutboundDuration => "outbound_duration", "Outbound duration (s)", Duration, Measure;
    OutboundCallCharge => "outbound_call_charge", "Outbound call charges", Money, Measure;
    OtherCalls => "other_calls", "Other calls", Count, Measure;
    Leg => "leg", "Leg", Text, Call;
    CallGroup => "call_group", "Call group", Id, Call;
    Legs => "legs", "Legs", Count, Measure;
}

impl Column {
    /// The measures of a summary line, in order: a summary report's columns
    /// after its key, and the usage totals a document's cover lists (the
    /// last, the total, set apart).
    pub const SUMMARY: [Column; 7] = [
        Column::Calls,
        Column::Duration,
        Column::BilledDuration,
        Column::CallCharge,
        Column::Transactions,
        Column::TransactionAmount,
        Column::Total,
    ];

    /// The column named by a record file header or a profile entry.
    pub fn from_key(key: &str) -> Option<Column> {
        Column::ALL.iter().copied().find(|c| c.key() == key)
    }

    /// Whether a profile may list this column in `call_columns`.
    pub fn is_call_column(self) -> bool {
        matches!(self.applies(), Applies::Both | Applies::Call) && self != Column::RecordType
    }

    /// Whether a profile may list this column in `transaction_columns`.
    pub fn is_transaction_column(self) -> bool {
        matches!(self.applies(), Applies::Both | Applies::Transaction) && self != Column::RecordType
    }

    /// For the per-direction measures of `split_direction`: which direction
    /// (0 inbound, 1 outbound) and the plain measure it splits.
    pub fn direction(self) -> Option<(usize, Column)> {
        Some(match self {
            Column::InboundCalls => (0, Column::Calls),
            Column::InboundDuration => (0, Column::Duration),
            Column::InboundCallCharge => (0, Column::CallCharge),
            Column::OutboundCalls => (1, Column::Calls),
            Column::OutboundDuration => (1, Column::Duration),
            Column::OutboundCallCharge => (1, Column::CallCharge),
            _ => return None,
        })
    }

    /// The label where durations are shown as h:mm:ss (XLSX, PDF) rather
    /// than as seconds (CSV).
    pub fn display_label(self, time_zone: &str) -> String {
        match self {
            Column::Duration => "Duration".to_string(),
            Column::BilledDuration => "Billed duration".to_string(),
            Column::InboundDuration => "Inbound duration".to_string(),
            Column::OutboundDuration => "Outbound duration".to_string(),
            _ => self.label(time_zone),
        }
    }

    /// The human label; timestamps name the zone they are shown in.
    pub fn label(self, time_zone: &str) -> String {
        match self {
            Column::StartTime => format!("Start time ({time_zone})"),
            _ => self.base_label().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        for c in Column::ALL {
            assert_eq!(Column::from_key(c.key()), Some(*c));
        }
        let mut keys: Vec<_> = Column::ALL.iter().map(|c| c.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Column::ALL.len());
    }
}

/// Which fields a read must parse and carry. Built from the profile
/// (`Profile::projection`), so a column no report shows is never parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Projection {
    bits: u64,
}

impl Projection {
    /// Every field (for tools that need all of them, like `sample`).
    pub fn all() -> Projection {
        let mut p = Projection::default();
        for c in Column::ALL {
            p.add(*c);
        }
        p
    }

    /// The fields either projection needs.
    pub fn union(self, other: Projection) -> Projection {
        Projection {
            bits: self.bits | other.bits,
        }
    }

    pub fn add(&mut self, column: Column) {
        self.bits |= 1 << column as u32;
    }

    pub fn contains(&self, column: Column) -> bool {
        self.bits & (1 << column as u32) != 0
    }
}
