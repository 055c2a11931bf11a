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
    pub(super) timestamp: Format,
    pub(super) date: Format,
    pub(super) count: Format,
    pub(super) quantity: Format,
    pub(super) total_text: Format,
    pub(super) total_money: Format,
    pub(super) total_duration: Format,
    pub(super) total_count: Format,
}

impl Styles {
    pub(super) fn new(look: &crate::locale::Presentation) -> Styles {
        let money_format = look.excel_money_format();
        let date_format = look.excel_date_format();
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
            timestamp: Format::new().set_num_format(format!("{date_format} hh:mm:ss")),
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
    pub(super) fn all(&self) -> [&Format; 17] {
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
            timestamp,
            date,
            count,
            quantity,
            total_text,
            total_money,
            total_duration,
            total_count,
        } = self;
        [
            title,
            fact,
            header,
            header_number,
            heading,
            quoted,
            money,
            rate,
            duration,
            timestamp,
            date,
            count,
            quantity,
            total_text,
            total_money,
            total_duration,
            total_count,
        ]
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
            ColumnKind::Timestamp => Some(&self.timestamp),
            ColumnKind::Date => Some(&self.date),
            ColumnKind::Count => Some(&self.count),
            ColumnKind::Quantity => Some(&self.quantity),
        }
    }
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
