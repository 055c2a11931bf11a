//! Cell formatting shared by every renderer: machine text for CSV, and the
//! formula-injection guard. A column's kind alone decides how its cell looks.

use std::fmt::Write;

use chrono_tz::Tz;

use crate::column::ColumnKind;
use crate::locale::{Msg, Presentation};
use crate::money::push_digits;
use crate::report::{Cell, InvoiceReports};

/// The facts every document opens with: customer, invoice, period (first
/// and last day billed), time zone and profile.
pub fn title_block(
    reports: &InvoiceReports<'_>,
    options: &super::RenderOptions,
) -> Vec<(&'static str, String)> {
    let invoice = reports.invoice;
    let look = &reports.settings.look;
    let words = look.words();
    let last_day = invoice.to.pred_opt().unwrap_or(invoice.to);
    let day = look.date_pattern();
    let (from, to) = (
        invoice.from.format(day).to_string(),
        last_day.format(day).to_string(),
    );
    let mut facts = vec![
        (words.get(Msg::Customer), invoice.customer_shown()),
        (words.get(Msg::Invoice), invoice.display_id()),
        (
            words.get(Msg::Period),
            words.fill(Msg::PeriodRange, &[("from", &from), ("to", &to)]),
        ),
        (words.get(Msg::TimeZone), invoice.zone_name().to_string()),
        (
            words.get(Msg::Profile),
            reports.settings.profile_name.clone(),
        ),
    ];
    if let Some(sample) = options.sample {
        facts.push((
            words.get(Msg::Sample),
            words.fill(
                Msg::SampleOf,
                &[
                    ("rows", &look.count(sample.rows)),
                    ("of", &look.count(sample.of)),
                    ("seed", &sample.seed.to_string()),
                ],
            ),
        ));
        facts.push((
            words.get(Msg::WholeInvoice),
            words.fill(
                Msg::WholeInvoiceTotals,
                &[
                    ("calls", &look.count(sample.whole_calls)),
                    ("total", &look.money(sample.whole_total)),
                ],
            ),
        ));
    }
    facts
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
        Cell::Duration(s) | Cell::Count(s) => push_digits(out, s, 1),
        Cell::Timestamp(t) => write_rfc3339(out, t, tz),
        Cell::Date(d) => write_date(out, d),
        Cell::Label(label) => out.push_str(&label.machine()),
        Cell::Empty => {}
    }
}

/// `2026-10-25T01:30:00+01:00`: RFC 3339 in the invoice's zone, written
/// digit by digit (this runs for every itemised call).
fn write_rfc3339(out: &mut String, t: chrono::DateTime<chrono::Utc>, tz: Tz) {
    use chrono::{Datelike, Timelike};
    // RFC 3339 has no seconds in offsets: a historical offset such as
    // -00:44:30 (local mean time) is rounded as chrono rounds it (-00:45),
    // and the local time shown is that of the rounded offset, so the text
    // still names the exact instant.
    let exact = utc_offset(tz, t);
    let minutes = (exact.unsigned_abs() + 30) / 60;
    let offset = exact.signum() * (minutes * 60) as i32;
    let local = t.naive_utc() + chrono::Duration::seconds(offset as i64);
    // Whole seconds in years 0 to 9999, nearly every call: the 25 bytes in
    // place, one copy.
    if local.nanosecond() == 0 && (0..=9999).contains(&local.year()) {
        let mut text = *b"0000-00-00T00:00:00+00:00";
        let mut put = |at: usize, n: u32, width: usize| {
            let mut n = n;
            for i in (at..at + width).rev() {
                text[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, local.year() as u32, 4);
        put(5, local.month(), 2);
        put(8, local.day(), 2);
        put(11, local.hour(), 2);
        put(14, local.minute(), 2);
        put(17, local.second(), 2);
        put(20, minutes / 60, 2);
        put(23, minutes % 60, 2);
        if offset < 0 {
            text[19] = b'-';
        }
        out.push_str(std::str::from_utf8(&text).expect("ASCII"));
        return;
    }
    write_date(out, local.date());
    out.push('T');
    push_digits(out, local.hour() as u64, 2);
    out.push(':');
    push_digits(out, local.minute() as u64, 2);
    out.push(':');
    push_digits(out, local.second() as u64, 2);
    let nanos = local.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        // Same digits as chrono's AutoSi: milli, micro or nano.
        out.push('.');
        if nanos % 1_000_000 == 0 {
            push_digits(out, (nanos / 1_000_000) as u64, 3);
        } else if nanos % 1_000 == 0 {
            push_digits(out, (nanos / 1_000) as u64, 6);
        } else {
            push_digits(out, nanos as u64, 9);
        }
    }
    out.push(if offset < 0 { '-' } else { '+' });
    push_digits(out, (minutes / 60) as u64, 2);
    out.push(':');
    push_digits(out, (minutes % 60) as u64, 2);
}

/// The zone's UTC offset at an instant, in seconds. Each thread keeps the
/// answers for a few thousand UTC quarter hours (a month has 2,976), so
/// itemised calls in any order are looked up about once per quarter hour —
/// but an answer is kept only when the offset is the same at both ends of
/// its quarter hour, so an instant near a transition is always looked up
/// afresh.
pub(crate) fn utc_offset(tz: Tz, t: chrono::DateTime<chrono::Utc>) -> i32 {
    use chrono::{Offset, TimeZone};
    use std::cell::RefCell;
    const SLOTS: usize = 4096;
    thread_local! {
        static KNOWN: RefCell<Vec<(Tz, i64, i32)>> = const { RefCell::new(Vec::new()) };
    }
    let at = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0).map(|d| {
            tz.offset_from_utc_datetime(&d.naive_utc())
                .fix()
                .local_minus_utc()
        })
    };
    let quarter = t.timestamp().div_euclid(900);
    let slot = quarter.rem_euclid(SLOTS as i64) as usize;
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        if known.is_empty() {
            known.resize(SLOTS, (Tz::UTC, i64::MIN, 0));
        }
        match known[slot] {
            (z, q, offset) if z == tz && q == quarter => offset,
            _ => {
                let offset = tz
                    .offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc();
                let (start, end) = (at(quarter * 900), at(quarter * 900 + 899));
                if start == Some(offset) && end == Some(offset) {
                    known[slot] = (tz, quarter, offset);
                }
                offset
            }
        }
    })
}

/// `2026-10-25`.
fn write_date(out: &mut String, d: chrono::NaiveDate) {
    use chrono::Datelike;
    let year = d.year();
    if !(0..=9999).contains(&year) {
        let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        return;
    }
    push_digits(out, year as u64, 4);
    out.push('-');
    push_digits(out, d.month() as u64, 2);
    out.push('-');
    push_digits(out, d.day() as u64, 2);
}

/// The text a person reads for a cell (PDF): money rounded half-up to the
/// currency's minor units (two without one) with the locale's separators and
/// symbol, rates and quantities exact, durations as
/// h:mm:ss, timestamps in the invoice's zone with the zone's abbreviation (so
/// the repeated hour of a DST change is unambiguous).
pub fn display_text<'c>(
    cell: Cell<'c>,
    kind: ColumnKind,
    tz: Tz,
    p: &Presentation,
) -> std::borrow::Cow<'c, str> {
    use std::borrow::Cow;
    match cell {
        Cell::Text(t) => Cow::Borrowed(t),
        Cell::Money(d) if kind == ColumnKind::Rate => Cow::Owned(p.exact(d, 2)),
        Cell::Money(d) => Cow::Owned(p.money(d)),
        Cell::Number(d) => Cow::Owned(p.exact(d, 0)),
        Cell::Duration(s) => Cow::Owned(format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)),
        Cell::Count(n) => Cow::Owned(p.count(n)),
        Cell::Timestamp(t) => {
            let pattern = format!("{} %H:%M:%S %Z", p.date_pattern());
            Cow::Owned(t.with_timezone(&tz).format(&pattern).to_string())
        }
        Cell::Date(d) => Cow::Owned(d.format(p.date_pattern()).to_string()),
        Cell::Label(label) => label.shown(p.words()),
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
/// optional leading `+` and the usual separators. A number that starts with
/// `-`, or with `+` and holds a `-`, `(`, `)` or `.`, is not taken as one: a
/// spreadsheet would compute it (`+44-20-7946` is -7922).
pub fn is_phone_number(text: &str) -> bool {
    // The common case, in one look at the bytes: `+` and digits.
    if let Some(digits) = text.strip_prefix('+') {
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return true;
        }
    }
    if text.starts_with('-') || (text.starts_with('+') && text.contains(['-', '(', ')', '.'])) {
        return false;
    }
    let body = text.strip_prefix('+').unwrap_or(text);
    let separator = |c: char| matches!(c, ' ' | '-' | '(' | ')' | '.');
    // A masked number (`mask_dialled_digits`) ends in `*` for its hidden
    // digits: after the first `*` only `*` and separators follow, so no
    // arithmetic (`+1*2`) passes as a number.
    let (digits, mask) = body.split_at(body.find('*').unwrap_or(body.len()));
    digits.chars().any(|c| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || separator(c))
        && mask.chars().all(|c| c == '*' || separator(c))
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
        // Masked numbers are phone numbers too; arithmetic is not.
        assert!(!needs_guard("+44207946****", ColumnKind::Phone));
        assert!(!needs_guard("+44 20 79** ****", ColumnKind::Phone));
        assert!(needs_guard("+1*2", ColumnKind::Phone));
        assert!(needs_guard("+44****1", ColumnKind::Phone));
        assert!(!needs_guard("+44 20 7946 0000", ColumnKind::Phone));
        // Arithmetic a spreadsheet would compute is guarded.
        assert!(needs_guard("+44-20-7946", ColumnKind::Phone));
        assert!(needs_guard("-1-1", ColumnKind::Phone));
        assert!(needs_guard("+44(20)7946", ColumnKind::Phone));
        assert!(!needs_guard("020-7946-0000", ColumnKind::Phone));
        assert!(!needs_guard("Plain text", ColumnKind::Text));
        assert!(!needs_guard("", ColumnKind::Text));
    }

    #[test]
    fn machine_text_is_exact() {
        let mut s = String::new();
        write_machine_text(
            &mut s,
            Cell::Money(crate::money::Decimal::parse("0.012345").unwrap()),
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
        // The same as chrono's RFC 3339 writer, across zones and fractions.
        for (text, zone) in [
            ("2026-10-25T01:30:00Z", "Europe/London"),
            // Across the DST change, in one thread, one after another.
            ("2026-10-25T00:45:00Z", "Europe/London"),
            ("2026-10-25T00:59:59Z", "Europe/London"),
            ("2026-10-25T01:00:00Z", "Europe/London"),
            ("2026-10-25T01:00:01Z", "Europe/London"),
            ("1972-01-07T00:40:00Z", "Africa/Monrovia"),
            ("1972-01-07T00:45:00Z", "Africa/Monrovia"),
            ("2026-03-01T12:00:00.250Z", "America/St_Johns"),
            ("2026-07-01T00:00:00.000001Z", "Asia/Kathmandu"),
            ("1999-12-31T23:59:59Z", "UTC"),
        ] {
            let t: chrono::DateTime<chrono::Utc> = text.parse().unwrap();
            let tz: Tz = zone.parse().unwrap();
            s.clear();
            write_machine_text(&mut s, Cell::Timestamp(t), ColumnKind::Timestamp, tz, true);
            // The text always names the exact instant.
            assert_eq!(chrono::DateTime::parse_from_rfc3339(&s).unwrap(), t, "{s}");
            // Local mean time (-00:44:30) is shown at its rounded offset;
            // every other zone as chrono writes it.
            if zone != "Africa/Monrovia" {
                assert_eq!(
                    s,
                    t.with_timezone(&tz)
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                    "{text} in {zone}"
                );
            }
        }
        s.clear();
        let t: chrono::DateTime<chrono::Utc> = "1972-01-07T00:40:00Z".parse().unwrap();
        let monrovia: Tz = "Africa/Monrovia".parse().unwrap();
        write_machine_text(
            &mut s,
            Cell::Timestamp(t),
            ColumnKind::Timestamp,
            monrovia,
            true,
        );
        assert_eq!(s, "1972-01-06T23:55:00-00:45");
        s.clear();
        write_machine_text(&mut s, Cell::Text("=1+1"), ColumnKind::Text, Tz::UTC, true);
        assert_eq!(s, "'=1+1");
    }
}
