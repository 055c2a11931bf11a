//! Levels, report types, grouping and totals → the [`InvoiceReports`] model
//! every renderer walks.
//!
//! Grouping happens once, here; renderers never group or sum. Each selected
//! report is built in parallel, its groups and rows put in a documented total
//! order, and every report's totals are checked against the invoice's before
//! anything is written.

mod build;
mod model;
mod totals;

use rayon::prelude::*;

use build::build_report;
pub use build::{direction_warning, group_datasets, report_columns};
pub use model::{CallTypeRow, Cell, Group, Label, OtherCalls, Report, Row, Rows};
pub use totals::Totals;

use crate::column::Column;
use crate::error::{Error, Result};
use crate::invoice::Invoice;
use crate::level::Level;
use crate::locale::Presentation;
use crate::profile::Profile;
use crate::records::{Dataset, Sym};

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

/// The profile's branding as the documents draw it: the fitted logo, the
/// colour and the faces (renderers read these, never the profile).
pub use crate::profile::brand::{BrandFont, Image, Rgb};

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
    /// The PDF embeds the machine CSV reports (the profile's `pdf_embed_csv`).
    pub pdf_embed_csv: bool,
    /// Human CSV's delimiter and byte order mark ([`Profile::human_csv`]).
    pub human_csv: (u8, bool),
    /// The profile's logo, fitted to the PDF cover's logo box.
    pub logo: Option<std::sync::Arc<Image>>,
    /// The profile's brand colour.
    pub brand_color: Option<Rgb>,
    /// The profile's brand faces, regular and bold (`font`, and
    /// `font_bold` or else `font` again).
    pub fonts: [Option<BrandFont>; 2],
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
                pdf_embed_csv: profile.pdf_embed_csv,
                human_csv: profile.human_csv(),
                logo: profile.logo.as_ref().map(|l| l.image.clone()),
                brand_color: profile.brand_color,
                fonts: [
                    profile.font.clone(),
                    profile.font_bold.clone().or_else(|| profile.font.clone()),
                ],
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

    /// The words of this invoice's documents (the profile's locale).
    pub fn words(&self) -> crate::locale::Words {
        self.settings.look.words()
    }

    /// A report's title in the document's words: "Site calls".
    pub fn title_of(&self, report: &Report) -> String {
        self.words()
            .report_title(report.spec.level, report.spec.kind)
    }

    /// A group's subtotal label, "Subtotal London HQ", and those of its
    /// parts by direction, "Subtotal London HQ (inbound)" and "(outbound)".
    pub fn subtotal_labels(&self, level: Level, key: Sym) -> (String, [String; 2]) {
        use crate::locale::Msg;
        let words = self.words();
        let label = words.fill(Msg::Subtotal, &[("group", &self.group_label(level, key))]);
        let part = |msg| format!("{label} ({})", words.get(msg));
        let parts = [part(Msg::Inbound), part(Msg::Outbound)];
        (label, parts)
    }

    /// A group key for people: the key, or "(no site)" for the empty key.
    pub fn group_label(&self, level: Level, key: Sym) -> String {
        match self.key_text(level, key) {
            "" => self.settings.look.words().no_key(level).to_string(),
            text => text.to_string(),
        }
    }

    /// The key cell of a group's own row (a summary line, "Other calls"):
    /// the key, or [`Label::NoGroup`] for the empty key.
    fn key_cell(&self, level: Level, key: Sym) -> Cell<'_> {
        match self.key_text(level, key) {
            "" => Cell::Label(Label::NoGroup(level)),
            text => Cell::Text(text),
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
                    return self.key_cell(level, key);
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
                label_column,
            } => match column {
                c if c == label_column => Cell::Label(Label::OtherCalls(totals.calls)),
                c if c == level.key_column() => self.key_cell(level, key),
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
                c if c == level.key_column() => self.key_cell(level, key),
                Column::CallType => text(call_type),
                Column::Destination => match destination {
                    Some(Some(d)) => text(d),
                    Some(None) => Cell::Label(Label::OtherDestinations),
                    None => Cell::Empty,
                },
                _ => measure(totals),
            },
            // A record's group key names the empty group for people: a
            // spreadsheet filtered on "(no site)" finds its records too.
            Row::Call(id) => match self.call_cell(id, column) {
                Cell::Text("") if column == level.key_column() => {
                    Cell::Label(Label::NoGroup(level))
                }
                cell => cell,
            },
            Row::Transaction(id) => match self.transaction_cell(id, column) {
                Cell::Text("") if column == level.key_column() => {
                    Cell::Label(Label::NoGroup(level))
                }
                cell => cell,
            },
        }
    }

    /// The value of one column of an itemised transaction by its id.
    fn transaction_cell(&self, id: u32, column: Column) -> Cell<'_> {
        let text = |sym: Sym| Cell::Text(self.data.str(sym));
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

    /// Adds one row of a group (a record or "Other calls") to a running
    /// subtotal: what a page or sheet carries forward. Summary lines add
    /// nothing (they are groups, not records).
    pub fn add_row(&self, running: &mut Totals, row: Row<'_>) {
        // Sums of values already summed once without overflow cannot overflow.
        let _ = match row {
            Row::Call(id) => running.add_call(&self.data.calls[id as usize]),
            Row::Transaction(id) => running.add_transaction(&self.data.transactions[id as usize]),
            Row::Other { totals, .. } => running.merge(totals),
            Row::Summary { .. } | Row::CallType { .. } => Ok(()),
        };
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
            Column::Leg => Cell::Text(c.leg.key()),
            Column::CallGroup => text(c.call_group),
            Column::Legs => Cell::Count(c.legs as u64),
            _ => Cell::Empty,
        }
    }
}
