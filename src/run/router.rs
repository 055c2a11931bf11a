//! Routing in a billing run: each record goes to the invoice of its
//! customer whose period (in the customer's time zone) holds it.

use chrono::{DateTime, NaiveDate, Utc};

use crate::invoice::Invoice;
use crate::records::Router;

/// Routes each record to the invoice of its customer whose period holds it.
pub(super) struct CatalogRouter {
    pub(super) invoices: Vec<Invoice>,
    /// Looked up for every record: a fast hash (the keys are the
    /// catalogue's, so input cannot choose collisions among them).
    pub(super) by_customer: rustc_hash::FxHashMap<String, Vec<usize>>,
}

impl Router for CatalogRouter {
    fn invoices(&self) -> usize {
        self.invoices.len()
    }

    fn serves(&self, customer_id: &str) -> bool {
        self.by_customer.contains_key(customer_id)
    }

    fn customers(&self) -> Option<Vec<&str>> {
        Some(self.by_customer.keys().map(String::as_str).collect())
    }

    fn route_call(&self, customer_id: &str, start: DateTime<Utc>) -> Option<usize> {
        let list = self.by_customer.get(customer_id)?;
        list.iter()
            .copied()
            .find(|i| self.invoices[*i].covers_instant(start))
    }

    fn route_transaction(&self, customer_id: &str, date: NaiveDate) -> Option<usize> {
        let list = self.by_customer.get(customer_id)?;
        list.iter()
            .copied()
            .find(|i| self.invoices[*i].covers_date(date))
    }
}
