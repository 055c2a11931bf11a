//! How people in a locale read numbers, money and dates: the profile's
//! `locale` and the customer's ISO 4217 currency decide separators, date
//! order, the currency symbol and its place, and the currency's minor units
//! (JPY has none, BHD three). Used by PDF text, XLSX number formats and
//! human CSV (`--header labels` with a locale); machine CSV (`--header
//! keys`) stays exact and locale-free.

pub mod words;

use crate::money::Decimal;

pub use self::words::{Lang, Msg, Words};

/// A supported locale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Locale {
    #[default]
    EnGb,
    EnUs,
    DeDe,
    FrFr,
}

impl Locale {
    pub const ALL: [Locale; 4] = [Locale::EnGb, Locale::EnUs, Locale::DeDe, Locale::FrFr];

    pub fn key(self) -> &'static str {
        match self {
            Locale::EnGb => "en-GB",
            Locale::EnUs => "en-US",
            Locale::DeDe => "de-DE",
            Locale::FrFr => "fr-FR",
        }
    }

    pub fn from_key(key: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|l| l.key() == key)
    }

    /// The locale of a key, or why there is none: the words a profile's
    /// `locale` and `render --locale` both give.
    pub fn parse(key: &str) -> Result<Locale, String> {
        Locale::from_key(key).ok_or_else(|| {
            let known: Vec<&str> = Locale::ALL.iter().map(|l| l.key()).collect();
            format!(
                "{key:?} is not a supported locale; expected one of {}",
                known.join(", ")
            )
        })
    }

    /// Decimal mark and thousands separator.
    pub fn separators(self) -> (char, char) {
        match self {
            Locale::EnGb | Locale::EnUs => ('.', ','),
            Locale::DeDe => (',', '.'),
            // French groups digits with a narrow no-break space.
            Locale::FrFr => (',', '\u{202F}'),
        }
    }

    /// strftime pattern of a date.
    pub fn date_pattern(self) -> &'static str {
        match self {
            Locale::EnGb | Locale::FrFr => "%d/%m/%Y",
            Locale::EnUs => "%m/%d/%Y",
            Locale::DeDe => "%d.%m.%Y",
        }
    }

    /// Whether the currency symbol follows the amount (`1.234,56 €`).
    fn symbol_after(self) -> bool {
        matches!(self, Locale::DeDe | Locale::FrFr)
    }
}

/// A currency: its symbol and minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency {
    pub code: String,
    pub symbol: String,
    pub minor_units: u32,
}

impl Currency {
    /// The currency of an ISO 4217 code. Codes without a well-known symbol
    /// show the code itself; minor units follow ISO 4217 (2 unless listed).
    pub fn from_code(code: &str) -> Currency {
        let symbol = match code {
            "GBP" => "£",
            "USD" => "$",
            "EUR" => "€",
            "JPY" => "¥",
            "INR" => "₹",
            "KRW" => "₩",
            other => other,
        };
        let minor_units = match code {
            "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "XOF" | "XAF" | "UGX" | "PYG" | "RWF" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
            _ => 2,
        };
        Currency {
            code: code.to_string(),
            symbol: symbol.to_string(),
            minor_units,
        }
    }
}

/// How amounts and dates are shown to a person. Without a locale: ISO
/// dates, `.` and `,`, and no currency symbol unless a currency is known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Presentation {
    pub locale: Locale,
    /// Whether a locale was chosen (otherwise dates stay ISO 8601).
    pub localised: bool,
    pub currency: Option<Currency>,
}

impl Presentation {
    /// From the profile's `locale` and the customer's currency code.
    pub fn new(locale: Option<Locale>, currency: Option<&str>) -> Presentation {
        Presentation {
            locale: locale.unwrap_or_default(),
            localised: locale.is_some(),
            currency: currency.map(Currency::from_code),
        }
    }

    /// The words of the documents: the locale's language, or English.
    pub fn words(&self) -> Words {
        Words::new(match (self.localised, self.locale) {
            (false, _) | (true, Locale::EnGb | Locale::EnUs) => Lang::English,
            (true, Locale::DeDe) => Lang::German,
            (true, Locale::FrFr) => Lang::French,
        })
    }

    /// strftime pattern of a date: the locale's, or ISO 8601.
    pub fn date_pattern(&self) -> &'static str {
        if self.localised {
            self.locale.date_pattern()
        } else {
            "%Y-%m-%d"
        }
    }

    /// Excel's code for the same date pattern.
    pub fn excel_date_format(&self) -> &'static str {
        match (self.localised, self.locale) {
            (false, _) => "yyyy-mm-dd",
            (true, Locale::EnGb | Locale::FrFr) => "dd/mm/yyyy",
            (true, Locale::EnUs) => "mm/dd/yyyy",
            (true, Locale::DeDe) => "dd.mm.yyyy",
        }
    }

    /// Money exactly as rated, with at least the currency's minor units (2
    /// without a currency): `0.035` stays `£0.035`, `12.5` shows `£12.50`.
    /// Never rounded, so the rows shown of any table add up to its subtotal
    /// and total as shown (a document that rounded each row would not).
    pub fn money(&self, d: Decimal) -> String {
        let (mark, thousands) = self.locale.separators();
        let places = self.minor_units().max(d.places());
        let number = d.to_display(places, Some(thousands), mark);
        match &self.currency {
            None => number,
            Some(c) if self.locale.symbol_after() => format!("{number}\u{00A0}{}", c.symbol),
            Some(c) => match number.strip_prefix('-') {
                Some(abs) => format!("-{}{abs}", c.symbol),
                None => format!("{}{number}", c.symbol),
            },
        }
    }

    /// An exact decimal (a rate, a quantity) with the locale's decimal
    /// mark and thousands separator: every digit it has, at least
    /// `min_places` decimals.
    pub fn exact(&self, d: Decimal, min_places: u32) -> String {
        let (mark, thousands) = self.locale.separators();
        d.to_display(d.places().max(min_places), Some(thousands), mark)
    }

    /// A count with the locale's thousands separator.
    pub fn count(&self, n: u64) -> String {
        let (mark, thousands) = self.locale.separators();
        Decimal::from_int(n as i64).to_display(0, Some(thousands), mark)
    }

    /// The currency's minor units: 2 without a currency.
    pub fn minor_units(&self) -> u32 {
        self.currency.as_ref().map_or(2, |c| c.minor_units)
    }

    /// The Excel number format of money in this currency, e.g.
    /// `"£"#,##0.00####` or `#,##0.00#### "€"` (Excel shows its own
    /// separators): the minor units always, further decimals as rated, so a
    /// cell shows its exact value as [`Presentation::money`] does. A currency
    /// without minor units takes `#,##0` (with `#,##0.######` a whole amount
    /// would end in a bare decimal mark); an amount with a fraction of it
    /// takes [`Presentation::excel_fraction_format`].
    pub fn excel_money_format(&self) -> String {
        let places = self.minor_units();
        let number = if places == 0 {
            "#,##0".to_string()
        } else {
            let optional = crate::money::SCALE.saturating_sub(places) as usize;
            format!(
                "#,##0.{}{}",
                "0".repeat(places as usize),
                "#".repeat(optional)
            )
        };
        self.with_symbol(number)
    }

    /// The Excel format of an amount with decimals its currency has no
    /// minor units for (¥0.5): up to six places.
    pub fn excel_fraction_format(&self) -> String {
        match self.minor_units() {
            0 => self.with_symbol("#,##0.######".to_string()),
            _ => self.excel_money_format(),
        }
    }

    fn with_symbol(&self, number: String) -> String {
        match &self.currency {
            None => number,
            Some(c) if self.locale.symbol_after() => format!("{number} \"{}\"", c.symbol),
            Some(c) => format!("\"{}\"{number}", c.symbol),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    fn show(locale: Locale, code: Option<&str>, amount: &str) -> String {
        Presentation::new(Some(locale), code).money(d(amount))
    }

    #[test]
    fn money_follows_locale_and_currency() {
        assert_eq!(show(Locale::EnGb, Some("GBP"), "1234.565"), "£1,234.565");
        assert_eq!(show(Locale::EnGb, Some("GBP"), "0.035"), "£0.035");
        assert_eq!(show(Locale::EnUs, Some("USD"), "-1234.5"), "-$1,234.50");
        assert_eq!(show(Locale::DeDe, Some("EUR"), "1234.5"), "1.234,50\u{a0}€");
        assert_eq!(
            show(Locale::FrFr, Some("EUR"), "1234567.891"),
            "1\u{202f}234\u{202f}567,891\u{a0}€"
        );
        assert_eq!(show(Locale::EnGb, Some("JPY"), "1234"), "¥1,234");
        assert_eq!(show(Locale::EnGb, Some("JPY"), "1234.5"), "¥1,234.5");
        assert_eq!(show(Locale::EnGb, Some("BHD"), "12.3456"), "BHD12.3456");
        assert_eq!(show(Locale::EnGb, Some("BHD"), "12.3"), "BHD12.300");
        assert_eq!(show(Locale::EnGb, None, "12.345"), "12.345");
    }

    #[test]
    fn excel_formats_carry_symbol_and_minor_units() {
        let p = |l, c: &str| Presentation::new(Some(l), Some(c));
        assert_eq!(
            p(Locale::EnGb, "GBP").excel_money_format(),
            "\"£\"#,##0.00####"
        );
        assert_eq!(
            p(Locale::DeDe, "EUR").excel_money_format(),
            "#,##0.00#### \"€\""
        );
        assert_eq!(p(Locale::EnUs, "JPY").excel_money_format(), "\"¥\"#,##0");
        assert_eq!(
            p(Locale::EnUs, "JPY").excel_fraction_format(),
            "\"¥\"#,##0.######"
        );
        assert_eq!(
            p(Locale::EnGb, "BHD").excel_money_format(),
            "\"BHD\"#,##0.000###"
        );
    }

    #[test]
    fn exact_values_and_counts_use_the_locale_marks() {
        let de = Presentation::new(Some(Locale::DeDe), None);
        assert_eq!(de.exact(d("0.123456"), 2), "0,123456");
        assert_eq!(de.exact(d("123456789.5"), 0), "123.456.789,5");
        assert_eq!(de.exact(d("12"), 2), "12,00");
        assert_eq!(de.count(1234567), "1.234.567");
    }
}
