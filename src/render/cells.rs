//! Cell formatting shared by every renderer: machine text for CSV, and the
//! formula-injection guard. A column's kind alone decides how its cell looks.

use std::fmt::Write;

use chrono::SecondsFormat;
use chrono_tz::Tz;

use crate::column::ColumnKind;
use crate::money::Decimal;
use crate::report::{Cell, InvoiceReports};

/// The facts every document opens with: customer, invoice, period (first
/// and last day billed), time zone and profile.
pub fn title_block(reports: &InvoiceReports<'_>) -> [(&'static str, String); 5] {
    let invoice = reports.invoice;
    let last_day = invoice.to.pred_opt().unwrap_or(invoice.to);
    [
        ("Customer", invoice.customer_id.clone()),
        ("Invoice", invoice.display_id()),
        (
            "Period",
            format!(
                "{} to {}",
                invoice.from.format("%Y-%m-%d"),
                last_day.format("%Y-%m-%d")
            ),
        ),
        ("Time zone", invoice.zone_name().to_string()),
        ("Profile", reports.profile.name.clone()),
    ]
}

/// Appends the CSV text of a cell to `out`: exact decimals (at least two
/// places for money), whole seconds, RFC 3339 timestamps in the invoice's
/// zone, ISO dates. Free text is sanitised when `sanitize` is set.
pub fn write_machine_text(
    out: &mut String,
    cell: Cell<'_>,
    kind: ColumnKind,
    tz: Tz,
    sanitize: bool,
) {
    match cell {
        Cell::Text(t) => {
            if sanitize && needs_guard(t, kind) {
                out.push('\'');
            }
            out.push_str(t);
        }
        Cell::Money(d) => d.write_exact(out, 2),
        Cell::Number(d) => d.write_exact(out, 0),
        Cell::Duration(s) | Cell::Count(s) => {
            let _ = write!(out, "{s}");
        }
        Cell::Timestamp(t) => out.push_str(
            &t.with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false),
        ),
        Cell::Date(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        Cell::Empty => {}
    }
}

/// The text a person reads for a cell (PDF): money rounded half-up to two
/// places with thousands separators, rates and quantities exact, durations as
/// h:mm:ss, timestamps in the invoice's zone with the zone's abbreviation (so
/// the repeated hour of a DST change is unambiguous).
pub fn display_text<'c>(cell: Cell<'c>, kind: ColumnKind, tz: Tz) -> std::borrow::Cow<'c, str> {
    use std::borrow::Cow;
    match cell {
        Cell::Text(t) => Cow::Borrowed(t),
        Cell::Money(d) if kind == ColumnKind::Rate => Cow::Owned(d.to_exact_string(2)),
        Cell::Money(d) => Cow::Owned(d.to_display(2, Some(','), '.')),
        Cell::Number(d) => Cow::Owned(d.to_exact_string(0)),
        Cell::Duration(s) => Cow::Owned(format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)),
        Cell::Count(n) => Cow::Owned(Decimal::from_int(n as i64).to_display(0, Some(','), '.')),
        Cell::Timestamp(t) => Cow::Owned(
            t.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string(),
        ),
        Cell::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
        Cell::Empty => Cow::Borrowed(""),
    }
}

/// Whether a text cell would be read as a formula by a spreadsheet and must
/// be neutralised. Numbers and well-formed phone numbers never are: a
/// leading `+` or `-` is part of their value.
pub fn needs_guard(text: &str, kind: ColumnKind) -> bool {
    let Some(&first) = text.as_bytes().first() else {
        return false;
    };
    if !matches!(first, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') {
        return false;
    }
    if kind == ColumnKind::Phone && is_phone_number(text) {
        return false;
    }
    !is_plain_number(text)
}

/// `-12.50`, `+3`: a sign, digits and at most one decimal point.
fn is_plain_number(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut digits = 0;
    let mut points = 0;
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return false,
        }
    }
    digits > 0 && points <= 1
}

/// `+44 20 7946 0000`, `020-7946-0000`, `(020) 7946 0000`: digits with an
/// optional leading `+` and the usual separators.
pub fn is_phone_number(text: &str) -> bool {
    let body = text.strip_prefix('+').unwrap_or(text);
    body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_guarded_but_numbers_and_phones_are_not() {
        assert!(needs_guard("=HYPERLINK(\"x\")", ColumnKind::Text));
        assert!(needs_guard("@SUM(A1)", ColumnKind::Text));
        assert!(needs_guard("+1+cmd|' /C calc'!A0", ColumnKind::Phone));
        assert!(needs_guard("\tx", ColumnKind::Id));
        assert!(!needs_guard("-12.50", ColumnKind::Text));
        assert!(!needs_guard("+442079460000", ColumnKind::Phone));
        assert!(!needs_guard("+44 20 7946 0000", ColumnKind::Phone));
        assert!(!needs_guard("Plain text", ColumnKind::Text));
        assert!(!needs_guard("", ColumnKind::Text));
    }

    #[test]
    fn machine_text_is_exact() {
        let mut s = String::new();
        write_machine_text(
            &mut s,
            Cell::Money(Decimal::parse("0.012345").unwrap()),
            ColumnKind::Money,
            Tz::UTC,
            true,
        );
        assert_eq!(s, "0.012345");
        s.clear();
        let t = "2026-10-25T00:30:00Z".parse().unwrap();
        write_machine_text(
            &mut s,
            Cell::Timestamp(t),
            ColumnKind::Timestamp,
            Tz::Europe__London,
            true,
        );
        assert_eq!(s, "2026-10-25T01:30:00+01:00");
        s.clear();
        write_machine_text(&mut s, Cell::Text("=1+1"), ColumnKind::Text, Tz::UTC, true);
        assert_eq!(s, "'=1+1");
    }
}
