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
    /// Times in the invoice's zone, one format per UTC offset the zone has
    /// in the period, each ending in its abbreviation ("BST", "GMT"); the
    /// first is the column's own format.
    pub(super) timestamps: Vec<(i32, Format)>,
    pub(super) date: Format,
    pub(super) count: Format,
    pub(super) quantity: Format,
    pub(super) total_text: Format,
    pub(super) total_money: Format,
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
                (offset, Format::new().set_num_format(format))
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
            total_duration,
            total_count,
        ];
        all.extend(timestamps.iter().map(|(_, format)| format));
        all
    }

    /// The format of a time at a UTC offset, `None` for an offset the zone
    /// does not have in the period (the time is then written as text).
    pub(super) fn timestamp(&self, offset: i32) -> Option<&Format> {
        self.timestamps
            .iter()
            .find(|(o, _)| *o == offset)
            .map(|(_, format)| format)
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
            ColumnKind::Timestamp => self.timestamps.first().map(|(_, format)| format),
            ColumnKind::Date => Some(&self.date),
            ColumnKind::Count => Some(&self.count),
            ColumnKind::Quantity => Some(&self.quantity),
        }
    }
}

/// The UTC offsets a zone has from a day before `from` to a day after `to`
/// (records fall in between), with their abbreviations, in order of first
/// appearance: looked up every quarter hour, the granularity of every
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
            if !found.iter().any(|(o, _)| *o == seconds) {
                found.push((seconds, offset.to_string()));
            }
        }
        at += step;
    }
    found
}

/// Sheet names: readable, at most 31 characters, none of `[]:*?/\`, unique
/// (case-insensitively, as Excel compares them).
#[derive(Default)]
pub(super) struct SheetNames {
    used: Vec<String>,
}

impl SheetNames {
    pub(super) fn unique(&mut self, wanted: &str) -> String {
        let clean: String = wanted
            .chars()
            .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
            .collect();
        let clean = clean.trim_matches('\'').to_string();
        let mut n = 1;
        loop {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!(" ({n})")
            };
            let room = 31 - suffix.chars().count();
            let base: String = clean.chars().take(room).collect();
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
    }
}
