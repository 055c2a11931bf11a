//! A workbook's cell formats, made once and registered in one order, and
//! its sheet names: readable, valid and unique.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder};

use crate::column::ColumnKind;

/// The cell formats of a workbook, made once.
pub(super) struct Styles {
    pub(super) title: Format,
    pub(super) fact: Format,
    pub(super) header: Format,
    pub(super) header_number: Format,
    pub(super) heading: Format,
    pub(super) quoted: Format,
    pub(super) money: Format,
    pub(super) rate: Format,
    pub(super) duration: Format,
    /// Times in the invoice's zone, one format per UTC offset and
    /// abbreviation the zone has in the period, each ending in its
    /// abbreviation ("BST", "GMT"); the first is the column's own format.
    pub(super) timestamps: Vec<(i32, String, Format)>,
    pub(super) date: Format,
    pub(super) count: Format,
    pub(super) quantity: Format,
    pub(super) total_text: Format,
    pub(super) total_money: Format,
    /// Money with decimals its currency has no minor units for (¥0.5).
    pub(super) fraction: Format,
    pub(super) total_fraction: Format,
    pub(super) total_duration: Format,
    pub(super) total_count: Format,
}

impl Styles {
    /// The styles of a workbook in `look`, with a time format for each
    /// offset the zone `tz` has from `from` to `to`.
    pub(super) fn new(
        look: &crate::locale::Presentation,
        tz: chrono_tz::Tz,
        (from, to): (chrono::NaiveDate, chrono::NaiveDate),
    ) -> Styles {
        let money_format = look.excel_money_format();
        let date_format = look.excel_date_format();
        let timestamps = zone_offsets(tz, from, to)
            .into_iter()
            .map(|(offset, abbreviation)| {
                let shown: String = abbreviation.chars().filter(|c| *c != '"').collect();
                let format = format!("{date_format} hh:mm:ss \"{shown}\"");
                (offset, abbreviation, Format::new().set_num_format(format))
            })
            .collect();
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xDDE4EE))
            .set_border_bottom(FormatBorder::Thin);
        let total = Format::new().set_bold().set_border_top(FormatBorder::Thin);
        Styles {
            title: Format::new().set_bold().set_font_size(14),
            fact: Format::new().set_font_color(Color::RGB(0x44546A)),
            header_number: header.clone().set_align(FormatAlign::Right),
            header,
            heading: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xF2F2F2)),
            quoted: Format::new().set_quote_prefix(),
            money: Format::new().set_num_format(&money_format),
            rate: Format::new().set_num_format("#,##0.00####"),
            duration: Format::new().set_num_format("[h]:mm:ss"),
            timestamps,
            date: Format::new().set_num_format(date_format),
            count: Format::new().set_num_format("#,##0"),
            quantity: Format::new().set_num_format("General"),
            total_text: total.clone(),
            total_money: total.clone().set_num_format(&money_format),
            fraction: Format::new().set_num_format(look.excel_fraction_format()),
            total_fraction: total.clone().set_num_format(look.excel_fraction_format()),
            total_duration: total.clone().set_num_format("[h]:mm:ss"),
            total_count: total.set_num_format("#,##0"),
        }
    }
}

impl Styles {
    /// Every style, in a fixed order. (Destructured without `..`, so a
    /// style added to [`Styles`] cannot be left out.)
    pub(super) fn all(&self) -> Vec<&Format> {
        let Styles {
            title,
            fact,
            header,
            header_number,
            heading,
            quoted,
            money,
            rate,
            duration,
            timestamps,
            date,
            count,
            quantity,
            total_text,
            total_money,
            fraction,
            total_fraction,
            total_duration,
            total_count,
        } = self;
        let mut all = vec![
            title,
            fact,
            header,
            header_number,
            heading,
            quoted,
            money,
            rate,
            duration,
            date,
            count,
            quantity,
            total_text,
            total_money,
            fraction,
            total_fraction,
            total_duration,
            total_count,
        ];
        all.extend(timestamps.iter().map(|(_, _, format)| format));
        all
    }

    /// The format of an amount (of a total row, or not): the currency's,
    /// or with more places for a fraction the currency has no minor units
    /// for.
    pub(super) fn money_style(
        &self,
        amount: crate::money::Decimal,
        total: bool,
        look: &crate::locale::Presentation,
    ) -> &Format {
        match (total, amount.places() > look.minor_units()) {
            (false, false) => &self.money,
            (false, true) => &self.fraction,
            (true, false) => &self.total_money,
            (true, true) => &self.total_fraction,
        }
    }

    /// The format of a time, by its UTC offset in `tz` (and, where the zone
    /// had two names for one offset in the period — America/Whitehorse's
    /// PDT and MST — by its name); `None` for a time the period's formats
    /// do not cover (it is then written as text).
    pub(super) fn timestamp(
        &self,
        tz: chrono_tz::Tz,
        t: chrono::DateTime<chrono::Utc>,
        offset: i32,
    ) -> Option<&Format> {
        let mut same = self.timestamps.iter().filter(|(o, _, _)| *o == offset);
        let first = same.next()?;
        if same.next().is_none() {
            return Some(&first.2);
        }
        use chrono::TimeZone;
        let name = tz.offset_from_utc_datetime(&t.naive_utc()).to_string();
        self.timestamps
            .iter()
            .find(|(o, a, _)| *o == offset && *a == name)
            .map(|(_, _, format)| format)
    }

    /// The style of a column's data cells, set once as the column's format:
    /// cells written without a format take it, which spares rust_xlsxwriter
    /// a format lookup per cell.
    pub(super) fn body(&self, kind: ColumnKind) -> Option<&Format> {
        match kind {
            ColumnKind::Text | ColumnKind::Phone | ColumnKind::Id => None,
            ColumnKind::Money => Some(&self.money),
            ColumnKind::Rate => Some(&self.rate),
            ColumnKind::Duration => Some(&self.duration),
            ColumnKind::Timestamp => self.timestamps.first().map(|(_, _, format)| format),
            ColumnKind::Date => Some(&self.date),
            ColumnKind::Count => Some(&self.count),
            ColumnKind::Quantity => Some(&self.quantity),
        }
    }
}

/// The UTC offsets a zone has from a day before `from` to a day after `to`
/// (records fall in between), each with its abbreviation (one offset may
/// have two), in order of first appearance: looked up every quarter hour, the granularity of every
/// transition in the zone database since 1970.
fn zone_offsets(
    tz: chrono_tz::Tz,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Vec<(i32, String)> {
    use chrono::{Offset, TimeZone};
    let start = from
        .pred_opt()
        .unwrap_or(from)
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let end = to
        .succ_opt()
        .unwrap_or(to)
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    // A quarter hour, or coarser for periods of years (never more than
    // 100,000 lookups).
    let span = (end - start).num_seconds().max(0);
    let step = (span / 100_000).max(900);
    let mut found: Vec<(i32, String)> = Vec::new();
    let mut at = start.timestamp();
    while at <= end.timestamp() {
        if let Some(instant) = chrono::DateTime::from_timestamp(at, 0) {
            let offset = tz.offset_from_utc_datetime(&instant.naive_utc());
            let seconds = offset.fix().local_minus_utc();
            let name = offset.to_string();
            if !found.iter().any(|(o, n)| *o == seconds && *n == name) {
                found.push((seconds, name));
            }
        }
        at += step;
    }
    found
}

/// Sheet names: readable, at most 31 characters, none of `[]:*?/\`, no
/// control character or XML non-character, not starting or ending with an
/// apostrophe, unique (case-insensitively, as Excel compares them). A name
/// too long keeps its closing "(…)" — "(sample)", "(2)" — and is cut
/// before it.
#[derive(Default)]
pub(super) struct SheetNames {
    used: Vec<String>,
}

impl SheetNames {
    pub(super) fn unique(&mut self, wanted: &str) -> String {
        let clean: String = wanted
            .chars()
            .map(|c| {
                let unusable = "[]:*?/\\".contains(c)
                    || c.is_control()
                    || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{FDD0}'..='\u{FDEF}');
                if unusable {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        // The closing "(…)" of a title is kept whole when the name is cut.
        let (title, tail) = match clean.rfind(" (") {
            Some(at) if clean.ends_with(')') && clean.len() - at <= 20 => clean.split_at(at),
            _ => (clean.as_str(), ""),
        };
        let mut n = 1;
        loop {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!(" ({n})")
            };
            let room = 31usize.saturating_sub(suffix.chars().count());
            let whole = title.chars().count() + tail.chars().count();
            let base: String = if whole <= room {
                format!("{title}{tail}")
            } else {
                let keep = room.saturating_sub(tail.chars().count());
                let cut: String = title.chars().take(keep).collect();
                format!("{cut}{tail}").chars().take(room).collect()
            };
            // Excel refuses a name that starts or ends with an apostrophe,
            // or is empty.
            let base = base.trim_matches('\'').trim();
            let base = if base.is_empty() { "Sheet" } else { base };
            let candidate = format!("{base}{suffix}");
            if !self.used.iter().any(|u| u.eq_ignore_ascii_case(&candidate)) {
                self.used.push(candidate.clone());
                return candidate;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_has_both_offsets_of_a_dst_change() {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let london = zone_offsets(chrono_tz::Europe::London, day(1), day(31));
        assert_eq!(
            london,
            vec![(3600, "BST".to_string()), (0, "GMT".to_string())]
        );
        let utc = zone_offsets(chrono_tz::UTC, day(1), day(31));
        assert_eq!(utc, vec![(0, "UTC".to_string())]);
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut names = SheetNames::default();
        assert_eq!(names.unique("Site summary"), "Site summary");
        assert_eq!(names.unique("site summary"), "site summary (2)");
        assert_eq!(names.unique("A/B:C*D?[E]"), "A_B_C_D__E_");
        let long = names.unique(&"x".repeat(40));
        assert_eq!(long.chars().count(), 31);
        let again = names.unique(&"x".repeat(40));
        assert!(again.ends_with(" (2)") && again.chars().count() == 31);
        // Cut before a closing "(…)"; never an apostrophe at either end.
        assert_eq!(
            names.unique("Synthèse par client (échantillon)"),
            "Synthèse par clie (échantillon)"
        );
        assert_eq!(
            names.unique("Site calls — Site St Christoph's Campus"),
            "Site calls — Site St Christoph"
        );
        assert_eq!(names.unique("'Hara'"), "Hara");
        assert_eq!(names.unique("VT\u{b}x\u{FFFE}"), "VT_x_");
        assert_eq!(names.unique("''"), "Sheet");
    }
}
