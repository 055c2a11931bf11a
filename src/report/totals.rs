//! Usage totals: counts, seconds and exact money, added with overflow checks.

use super::Cell;
use crate::column::Column;
use crate::money::{Decimal, Overflow};
use crate::records::{Call, Transaction};

/// The totals of a set of records. Every group, report and invoice carries
/// one; they are compared field by field when reconciling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub calls: u64,
    pub duration: u64,
    pub billed_duration: u64,
    pub call_charge: Decimal,
    pub transactions: u64,
    pub transaction_amount: Decimal,
}

impl Totals {
    pub fn of(calls: &[Call], transactions: &[Transaction]) -> Result<Totals, crate::error::Error> {
        let mut t = Totals::default();
        let overflow = |_| crate::error::Error::Overflow("the invoice totals".into());
        for c in calls {
            t.add_call(c).map_err(overflow)?;
        }
        for x in transactions {
            t.add_transaction(x).map_err(overflow)?;
        }
        Ok(t)
    }

    pub fn add_call(&mut self, call: &Call) -> Result<(), Overflow> {
        self.calls += 1;
        self.duration += call.duration as u64;
        self.billed_duration += call.billed_duration as u64;
        self.call_charge = self.call_charge.checked_add(call.charge)?;
        Ok(())
    }

    pub fn add_transaction(&mut self, t: &Transaction) -> Result<(), Overflow> {
        self.transactions += 1;
        self.transaction_amount = self.transaction_amount.checked_add(t.amount)?;
        Ok(())
    }

    pub fn merge(&mut self, other: &Totals) -> Result<(), Overflow> {
        self.calls += other.calls;
        self.duration += other.duration;
        self.billed_duration += other.billed_duration;
        self.call_charge = self.call_charge.checked_add(other.call_charge)?;
        self.transactions += other.transactions;
        self.transaction_amount = self
            .transaction_amount
            .checked_add(other.transaction_amount)?;
        Ok(())
    }

    /// Call charges plus transaction amounts. Both are far inside the range
    /// (parsed amounts have at most 18 integer digits), so this cannot overflow.
    pub fn total(&self) -> Decimal {
        self.call_charge
            .checked_add(self.transaction_amount)
            .expect("totals stay far below the i128 range")
    }

    /// The value a totals row shows under a column: the measure itself in
    /// summaries, the summed field under an itemised column (`duration`,
    /// `billed_duration`, `charge`, `amount`), nothing elsewhere.
    pub fn cell(&self, column: Column) -> Option<Cell<'static>> {
        Some(match column {
            Column::Calls => Cell::Count(self.calls),
            Column::Duration => Cell::Duration(self.duration),
            Column::BilledDuration => Cell::Duration(self.billed_duration),
            Column::CallCharge | Column::Charge => Cell::Money(self.call_charge),
            Column::Transactions => Cell::Count(self.transactions),
            Column::TransactionAmount | Column::Amount => Cell::Money(self.transaction_amount),
            Column::Total => Cell::Money(self.total()),
            _ => return None,
        })
    }

    /// The part of the totals that calls contribute.
    pub fn calls_part(&self) -> (u64, u64, u64, Decimal) {
        (
            self.calls,
            self.duration,
            self.billed_duration,
            self.call_charge,
        )
    }

    /// The part of the totals that transactions contribute.
    pub fn transactions_part(&self) -> (u64, Decimal) {
        (self.transactions, self.transaction_amount)
    }
}
