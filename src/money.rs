//! Exact decimal amounts: money, rates and quantities.
//!
//! A [`Decimal`] is an `i128` count of millionths (six decimal places, the
//! most a rated record may carry). Parsing is strict — no locale separators,
//! no exponents, no NaN/Inf, no silent rounding — and every sum is checked for
//! overflow, so a total is either exact or an error, never a wrong number.

use std::fmt;

/// Decimal places carried exactly by every amount.
pub const SCALE: u32 = 6;
const ONE: i128 = 10i128.pow(SCALE);
/// Integer digits accepted when parsing; keeps every parsed value far from
/// `i128` overflow so only sums can overflow (and those are checked).
const MAX_INTEGER_DIGITS: usize = 18;

/// An exact decimal with six fixed decimal places.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(i128);

/// Why a text is not a decimal; the message completes "… is not a decimal: ".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDecimalError(pub &'static str);

impl fmt::Display for ParseDecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A sum left the representable range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl Decimal {
    pub const ZERO: Decimal = Decimal(0);

    /// The value as millionths.
    pub fn micros(self) -> i128 {
        self.0
    }

    pub fn from_micros(micros: i128) -> Self {
        Decimal(micros)
    }

    pub fn from_int(units: i64) -> Self {
        Decimal(units as i128 * ONE)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Decimal) -> Result<Decimal, Overflow> {
        self.0.checked_add(other.0).map(Decimal).ok_or(Overflow)
    }

    /// Parses `-12.345`, `12`, `+0.5`, `.5`. Rejects everything else with a
    /// reason a user can act on.
    pub fn parse(text: &str) -> Result<Decimal, ParseDecimalError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(ParseDecimalError("empty"));
        }
        let (negative, body) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (int_part, frac_part) = match body.find('.') {
            Some(i) => (&body[..i], &body[i + 1..]),
            None => (body, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(ParseDecimalError("no digits"));
        }
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || !all_digits(frac_part) {
            if body.contains(',') {
                return Err(ParseDecimalError(
                    "use '.' as the decimal point and no thousands separators, e.g. 1234.50",
                ));
            }
            let lower = body.to_ascii_lowercase();
            if lower.contains("nan") || lower.contains("inf") {
                return Err(ParseDecimalError("NaN and infinity are not amounts"));
            }
            let exponent = lower.split_once('e').is_some_and(|(m, e)| {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                !m.is_empty()
                    && !e.is_empty()
                    && m.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && e.bytes().all(|b| b.is_ascii_digit())
            });
            if exponent {
                return Err(ParseDecimalError(
                    "exponents are not accepted; write the digits",
                ));
            }
            return Err(ParseDecimalError(
                "expected digits with an optional '.' and sign",
            ));
        }
        if frac_part.len() > SCALE as usize {
            return Err(ParseDecimalError("more than 6 decimal places"));
        }
        let int_digits = int_part.trim_start_matches('0');
        if int_digits.len() > MAX_INTEGER_DIGITS {
            return Err(ParseDecimalError("more than 18 integer digits"));
        }
        let mut value: i128 = 0;
        for b in int_digits.bytes() {
            value = value * 10 + (b - b'0') as i128;
        }
        let mut frac: i128 = 0;
        for b in frac_part.bytes() {
            frac = frac * 10 + (b - b'0') as i128;
        }
        frac *= 10i128.pow(SCALE - frac_part.len() as u32);
        let v = value * ONE + frac;
        Ok(Decimal(if negative { -v } else { v }))
    }

    /// Rounds half away from zero ("half-up" in billing usage) to `places`.
    pub fn round(self, places: u32) -> Decimal {
        let places = places.min(SCALE);
        let step = 10i128.pow(SCALE - places);
        if step == 1 {
            return self;
        }
        let half = step / 2;
        let magnitude = (self.0.abs() + half) / step * step;
        Decimal(if self.0 < 0 { -magnitude } else { magnitude })
    }

    /// The decimals the exact value needs: `12.50` → 1, `0.035` → 3, `7` → 0.
    pub fn places(self) -> u32 {
        let mut frac = self.0.unsigned_abs() % ONE as u128;
        let mut places = SCALE;
        while places > 0 && frac % 10 == 0 {
            frac /= 10;
            places -= 1;
        }
        places
    }

    /// Exact text with at least `min_places` decimals and no trailing zeros
    /// beyond them: `12.5` → `12.50`, `0.012345` → `0.012345`.
    pub fn to_exact_string(self, min_places: u32) -> String {
        let mut out = String::new();
        self.write_exact(&mut out, min_places);
        out
    }

    /// Appends the exact text (see [`Decimal::to_exact_string`]) to `out`.
    pub fn write_exact(self, out: &mut String, min_places: u32) {
        let abs = self.0.unsigned_abs();
        let (int, mut frac) = match u64::try_from(abs) {
            // The common case, without 128-bit division.
            Ok(small) => ((small / ONE as u64) as u128, small % ONE as u64),
            Err(_) => (abs / ONE as u128, (abs % ONE as u128) as u64),
        };
        let mut places = SCALE;
        while places > min_places && frac % 10 == 0 {
            frac /= 10;
            places -= 1;
        }
        if self.0 < 0 {
            out.push('-');
        }
        match u64::try_from(int) {
            Ok(int) => push_digits(out, int, 1),
            Err(_) => {
                use fmt::Write;
                let _ = write!(out, "{int}");
            }
        }
        if places > 0 {
            out.push('.');
            push_digits(out, frac, places as usize);
        }
    }

    /// The value rounded half-up to `places` decimals, shown with exactly that
    /// many, with an optional thousands separator and decimal mark.
    pub fn to_display(self, places: u32, thousands: Option<char>, decimal_mark: char) -> String {
        let rounded = self.round(places);
        let abs = rounded.0.unsigned_abs();
        let int = abs / ONE as u128;
        let frac = (abs % ONE as u128) / 10u128.pow(SCALE - places.min(SCALE));
        let digits = int.to_string();
        let mut out = String::with_capacity(digits.len() + 8);
        if rounded.0 < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if let Some(sep) = thousands {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(sep);
                }
            }
            out.push(c);
        }
        if places > 0 {
            out.push(decimal_mark);
            out.push_str(&format!("{:0width$}", frac, width = places as usize));
        }
        out
    }

    /// Nearest `f64`, for spreadsheet cells only (the exact value stays in the
    /// manifest and CSV). Never used for arithmetic.
    pub fn to_f64_lossy(self) -> f64 {
        // One rounding of the millionths, one of the quotient: the nearest
        // double for every value below 2^53 millionths (adding whole and
        // fraction parts separately gave 1.6800000000000002).
        self.0 as f64 / ONE as f64
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_exact_string(2))
    }
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
pub fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = i.min(buf.len() - width.clamp(1, 20));
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[start..]).expect("ASCII digits"));
}

/// Sums decimals, failing on overflow instead of wrapping.
pub fn checked_sum<I: IntoIterator<Item = Decimal>>(items: I) -> Result<Decimal, Overflow> {
    items
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, d| acc.checked_add(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_plain_decimals() {
        assert_eq!(d("12.5").micros(), 12_500_000);
        assert_eq!(d("-0.000001").micros(), -1);
        assert_eq!(d(".5").micros(), 500_000);
        assert_eq!(d("+3").micros(), 3_000_000);
        assert_eq!(d("007.10").micros(), 7_100_000);
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for bad in [
            "",
            "12,50",
            "1,234.50",
            "NaN",
            "inf",
            "1e3",
            "1.2.3",
            "12.3456789",
            "abc",
            "-",
            ".",
        ] {
            assert!(Decimal::parse(bad).is_err(), "{bad:?} should not parse");
        }
        assert_eq!(
            Decimal::parse("12,50").unwrap_err().0,
            "use '.' as the decimal point and no thousands separators, e.g. 1234.50"
        );
        assert_eq!(
            Decimal::parse("1.1234567").unwrap_err().0,
            "more than 6 decimal places"
        );
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(d("0.125").round(2), d("0.13"));
        assert_eq!(d("-0.125").round(2), d("-0.13"));
        assert_eq!(d("0.124999").round(2), d("0.12"));
        assert_eq!(d("2.5").round(0), d("3"));
    }

    #[test]
    fn exact_text_keeps_every_digit() {
        assert_eq!(d("12.5").to_exact_string(2), "12.50");
        assert_eq!(d("0.012345").to_exact_string(2), "0.012345");
        assert_eq!(d("-7").to_exact_string(2), "-7.00");
        assert_eq!(d("-0.5").to_exact_string(2), "-0.50");
        assert_eq!(d("3").to_exact_string(0), "3");
    }

    #[test]
    fn digits_are_padded() {
        let mut s = String::new();
        push_digits(&mut s, 0, 1);
        push_digits(&mut s, 7, 3);
        push_digits(&mut s, 1234, 2);
        push_digits(&mut s, u64::MAX, 1);
        assert_eq!(s, "0007123418446744073709551615");
    }

    #[test]
    fn display_text_rounds_and_groups() {
        assert_eq!(
            d("1234567.125").to_display(2, Some(','), '.'),
            "1,234,567.13"
        );
        assert_eq!(d("-1234.5").to_display(2, Some('.'), ','), "-1.234,50");
        assert_eq!(d("999.995").to_display(2, Some(','), '.'), "1,000.00");
        assert_eq!(d("12").to_display(0, None, '.'), "12");
    }

    #[test]
    fn sums_are_checked() {
        let big = Decimal::from_micros(i128::MAX - 1);
        assert_eq!(big.checked_add(d("1")), Err(Overflow));
        assert_eq!(checked_sum([d("0.1"), d("0.2")]).unwrap(), d("0.3"));
    }
}
