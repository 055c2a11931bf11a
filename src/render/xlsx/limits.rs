//! What a workbook cannot hold as given — text past a cell's length, dates
//! before Excel's calendar, numbers past a double's digits — and how each
//! is written instead, counted for the manifest's warnings.

use chrono::{NaiveDate, NaiveDateTime};

/// Characters a cell holds (Excel's limit, in UTF-16 units).
pub(super) const CELL_CHARS: usize = 32_767;

/// Values a workbook cannot hold as given, counted for a warning each.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Limits {
    /// Text longer than a cell holds, cut with an ellipsis.
    pub(super) cut_cells: u64,
    /// Dates before 1900-03-01, which Excel's serial numbers get wrong:
    /// written as text.
    pub(super) early_dates: u64,
    /// Money or quantities with more significant digits than a cell's
    /// binary floating-point number keeps.
    pub(super) inexact_numbers: u64,
    /// Times at an offset of the zone not found in the period's (written
    /// as RFC 3339 text, with the offset).
    pub(super) times_as_text: u64,
}

impl Limits {
    pub(super) fn add(&mut self, other: Limits) {
        self.cut_cells += other.cut_cells;
        self.early_dates += other.early_dates;
        self.inexact_numbers += other.inexact_numbers;
        self.times_as_text += other.times_as_text;
    }

    pub(super) fn warnings(&self, name: &str) -> Vec<String> {
        let mut list = Vec::new();
        if self.cut_cells > 0 {
            list.push(format!(
                "{name}: {} text cell(s) longer than Excel's {CELL_CHARS} characters were cut; the CSV holds them whole",
                self.cut_cells
            ));
        }
        if self.early_dates > 0 {
            list.push(format!(
                "{name}: {} date(s) before 1900-03-01 written as text: Excel's date numbers cannot show them",
                self.early_dates
            ));
        }
        if self.times_as_text > 0 {
            list.push(format!(
                "{name}: {} time(s) at an offset of the zone not seen in the billing period are written as text with their offset",
                self.times_as_text
            ));
        }
        if self.inexact_numbers > 0 {
            list.push(format!(
                "{name}: {} number(s) with more than {EXACT_DIGITS} significant digits are shown rounded: an Excel number holds no more; the CSV and the manifest hold them exactly",
                self.inexact_numbers
            ));
        }
        list
    }
}

/// Significant digits an Excel number (an IEEE double) always keeps.
pub(super) const EXACT_DIGITS: usize = 15;

/// Whether a decimal keeps every digit as an Excel number.
pub(super) fn fits_a_double(d: crate::money::Decimal) -> bool {
    let mut m = d.micros().unsigned_abs();
    if m == 0 {
        return true;
    }
    while m % 10 == 0 {
        m /= 10;
    }
    digits(m) <= EXACT_DIGITS
}

/// The first day Excel's date numbers are right for (it counts a
/// 1900-02-29 that never was).
pub(super) fn first_excel_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 3, 1).expect("valid date")
}

/// Decimal digits of `n` (at least one).
pub(super) fn digits(mut n: u128) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Characters of `n` with thousands separators.
pub(super) fn grouped_digits(n: u128) -> usize {
    let d = digits(n);
    d + (d - 1) / 3
}

/// Days since Excel's epoch (1899-12-30), with the time as a fraction.
pub(super) fn excel_serial(t: NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .expect("valid date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight");
    let d = t - epoch;
    d.num_seconds() as f64 / 86_400.0 + d.subsec_nanos() as f64 / 86_400e9
}

impl Limits {
    /// Text as a cell can hold it: cut to Excel's limit with an ellipsis
    /// (and counted) when longer.
    pub(super) fn fit<'t>(&mut self, t: &'t str) -> std::borrow::Cow<'t, str> {
        // UTF-16 units never outnumber bytes: count them only for long text.
        if t.len() > CELL_CHARS && t.encode_utf16().count() > CELL_CHARS {
            self.cut_cells += 1;
            std::borrow::Cow::Owned(cut_to_cell(t))
        } else {
            std::borrow::Cow::Borrowed(t)
        }
    }
}

/// Cuts text to Excel's cell limit, ending with an ellipsis.
pub(super) fn cut_to_cell(t: &str) -> String {
    let mut out = String::new();
    let mut units = 0;
    for ch in t.chars() {
        units += ch.len_utf16();
        if units > CELL_CHARS - 1 {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_digits_and_separators() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(999), 3);
        assert_eq!(grouped_digits(1_234_567), 9);
        assert_eq!(grouped_digits(100), 3);
    }

    #[test]
    fn excel_serials_match_excel() {
        let t = NaiveDate::from_ymd_opt(2026, 10, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(excel_serial(t), 46296.5);
    }

    #[test]
    fn long_text_is_cut_to_the_cell_limit() {
        let cut = cut_to_cell(&"é".repeat(40_000));
        assert_eq!(cut.encode_utf16().count(), CELL_CHARS);
        assert!(cut.ends_with('…'));
    }
}
