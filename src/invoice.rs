//! The invoice a usage report is attached to: customer, billing period and
//! time zone, and the scope rule that decides which records belong to it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::records::Router;

/// One invoice's identity and period. The period is `[from 00:00, to 00:00)`
/// in the invoice's time zone: `--to` is the first day *not* billed.
#[derive(Clone, Debug, PartialEq)]
pub struct Invoice {
    pub id: Option<String>,
    pub customer_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: Tz,
    /// The customer's ISO 4217 currency, when known (for money symbols).
    pub currency: Option<String>,
    /// The customer's name, when known: documents show it beside the id.
    pub customer_name: Option<String>,
    start_utc: DateTime<Utc>,
    end_utc: DateTime<Utc>,
}

impl Invoice {
    pub fn new(
        id: Option<String>,
        customer_id: String,
        from: NaiveDate,
        to: NaiveDate,
        time_zone: Tz,
    ) -> Result<Invoice> {
        if customer_id.trim().is_empty() {
            return Err(Error::Usage("the customer id is empty".into()));
        }
        if from >= to {
            return Err(Error::Usage(format!(
                "the period is empty: it starts {from} and must end after that ({to} is the first day not billed)"
            )));
        }
        Ok(Invoice {
            start_utc: local_midnight(time_zone, from),
            end_utc: local_midnight(time_zone, to),
            id,
            customer_id,
            from,
            to,
            time_zone,
            currency: None,
            customer_name: None,
        })
    }

    /// The same invoice, billed in this currency.
    pub fn with_currency(mut self, currency: Option<String>) -> Invoice {
        self.currency = currency;
        self
    }

    /// The customer's name (empty: none).
    pub fn with_customer_name(mut self, name: Option<String>) -> Invoice {
        self.customer_name = name.filter(|n| !n.trim().is_empty());
        self
    }

    /// Who the documents are for: "ACME Ltd (ACME)", or the id alone.
    pub fn customer_shown(&self) -> String {
        match &self.customer_name {
            Some(name) if name != &self.customer_id => format!("{name} ({})", self.customer_id),
            _ => self.customer_id.clone(),
        }
    }

    /// Whether a call started within the period.
    pub fn covers_instant(&self, start: DateTime<Utc>) -> bool {
        self.start_utc <= start && start < self.end_utc
    }

    /// Whether a transaction's date falls within the period.
    pub fn covers_date(&self, date: NaiveDate) -> bool {
        self.from <= date && date < self.to
    }

    /// The IANA name of the invoice's time zone.
    pub fn zone_name(&self) -> &'static str {
        self.time_zone.name()
    }

    /// The invoice id, or a stand-in built from customer and period.
    pub fn display_id(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("{}-{}", self.customer_id, self.from.format("%Y%m%d")))
    }
}

/// Parses an IANA time zone name; the error says what was expected.
pub fn parse_time_zone(name: &str) -> std::result::Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!("unknown time zone {name:?}; expected an IANA name such as Europe/London or UTC")
    })
}

/// Checks an ISO 4217 currency code's shape (three capital letters).
pub fn check_currency(code: &str) -> std::result::Result<(), String> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!("{code:?} is not an ISO 4217 code such as GBP"))
    }
}

/// Parses a `YYYY-MM-DD` command-line date with a clear error.
pub fn parse_day(flag: &str, text: &str) -> Result<NaiveDate> {
    crate::records::parse_date(text)
        .map_err(|reason| Error::Usage(format!("{flag} {text:?} {reason}")))
}

/// The first instant of a local day. Where midnight does not exist (a DST gap
/// at 00:00) the day starts at the first local time that does; where it is
/// ambiguous, at the earlier one.
fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    let mut local = midnight;
    loop {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += Duration::minutes(15);
    }
}

impl Router for Invoice {
    fn invoices(&self) -> usize {
        1
    }

    fn serves(&self, customer_id: &str) -> bool {
        customer_id == self.customer_id
    }

    fn route_call(&self, customer_id: &str, start: DateTime<Utc>) -> Option<usize> {
        (customer_id == self.customer_id && self.covers_instant(start)).then_some(0)
    }

    fn route_transaction(&self, customer_id: &str, date: NaiveDate) -> Option<usize> {
        (customer_id == self.customer_id && self.covers_date(date)).then_some(0)
    }

    fn customers(&self) -> Option<Vec<&str>> {
        Some(vec![&self.customer_id])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn period_is_local_midnight_to_local_midnight() {
        let tz = parse_time_zone("Europe/London").unwrap();
        let inv =
            Invoice::new(None, "C1".into(), day("2026-10-01"), day("2026-11-01"), tz).unwrap();
        // 1 October 00:00 BST is 30 September 23:00 UTC.
        assert!(inv.covers_instant("2026-09-30T23:00:00Z".parse().unwrap()));
        assert!(!inv.covers_instant("2026-09-30T22:59:59Z".parse().unwrap()));
        // 1 November 00:00 GMT is 1 November 00:00 UTC (exclusive).
        assert!(inv.covers_instant("2026-10-31T23:59:59Z".parse().unwrap()));
        assert!(!inv.covers_instant("2026-11-01T00:00:00Z".parse().unwrap()));
        assert!(inv.covers_date(day("2026-10-31")) && !inv.covers_date(day("2026-11-01")));
    }

    #[test]
    fn bad_zone_and_empty_period_are_usage_errors() {
        assert!(parse_time_zone("Mars/Olympus")
            .unwrap_err()
            .to_string()
            .contains("unknown time zone"));
        let err = Invoice::new(
            None,
            "C".into(),
            day("2026-10-02"),
            day("2026-10-01"),
            Tz::UTC,
        )
        .unwrap_err();
        assert!(err.to_string().contains("period is empty"));
    }

    #[test]
    fn midnight_in_a_dst_gap_starts_at_the_first_real_time() {
        // Chile springs forward at 00:00 on 2026-09-06: the day starts at 01:00 local.
        let tz = parse_time_zone("America/Santiago").unwrap();
        let start = local_midnight(tz, day("2026-09-06"));
        assert_eq!(start.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }
}
