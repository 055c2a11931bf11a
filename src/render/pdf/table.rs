//! Laying out a report's table across pages: column widths from the
//! content, landscape and narrowing when it does not fit, headers repeated
//! on every page, group headings, subtotals and totals.

use super::font::Weight;
use super::*;
use crate::column::{Column, ColumnKind};
use crate::level::ReportKind;
use crate::report::{Report, Totals};

impl Document<'_, '_> {
    /// Lays out a report's columns: widths from the content, then portrait,
    /// landscape, or (if still too wide) narrower text and a smaller font.
    pub(super) fn table(&mut self, report: &Report) -> Table {
        let reports = self.reports;
        let tz = reports.invoice.time_zone;
        let zone = reports.invoice.zone_name();
        let level = report.spec.level;
        // Itemised tables name their group in a heading row, so the key
        // column would only repeat it.
        let skip = usize::from(report.spec.kind.is_itemised() && report.columns.len() > 1);
        let columns: Vec<Column> = report.columns[skip..].to_vec();
        let numeric: Vec<bool> = columns.iter().map(|c| c.kind().is_numeric()).collect();
        // Only free text may be cut; numbers, phone numbers, ids and times never are.
        let fixed: Vec<bool> = columns
            .iter()
            .map(|c| c.kind() != ColumnKind::Text)
            .collect();
        let mut widths: Vec<f32> = columns
            .iter()
            .map(|c| self.bold.measure(&c.display_label(zone), BODY) + 2.0 * PAD)
            .collect();
        let mut seen = 0usize;
        for group in &report.groups {
            for row in reports.rows(group) {
                seen += 1;
                for (i, column) in columns.iter().enumerate() {
                    if !fixed[i] && seen > TEXT_SAMPLE_ROWS {
                        continue;
                    }
                    let text = display_text(
                        reports.cell(level, row, *column),
                        column.kind(),
                        tz,
                        &self.look,
                    );
                    let w = self.regular.measure(prefix(&text, 512), BODY) + 2.0 * PAD;
                    widths[i] = widths[i].max(w);
                }
            }
            self.widen_for_totals(&mut widths, &columns, &group.subtotal);
        }
        self.widen_for_totals(&mut widths, &columns, &report.total);
        for i in 0..columns.len() {
            if !fixed[i] {
                widths[i] = widths[i].min(MAX_TEXT_WIDTH);
            }
        }
        // The first column also carries "Subtotal …" and "Total" labels.
        widths[0] = widths[0].max(self.bold.measure("Subtotal", BODY) + 2.0 * PAD);
        let natural: f32 = widths.iter().sum();
        let (pw, ph) = self.portrait;
        let size = if natural <= pw - 2.0 * MARGIN {
            (pw, ph)
        } else {
            (ph, pw)
        };
        let usable = size.0 - 2.0 * MARGIN;
        let mut font_size = BODY;
        let text_columns = fixed.iter().filter(|f| !**f).count();
        if natural > usable {
            // Shrink free-text columns towards their minimum first.
            let shrinkable: f32 = widths
                .iter()
                .zip(&fixed)
                .filter(|(_, f)| !**f)
                .map(|(w, _)| (*w - MIN_TEXT_WIDTH).max(0.0))
                .sum();
            if shrinkable > 0.0 {
                let take = (natural - usable).min(shrinkable) / shrinkable;
                for (w, f) in widths.iter_mut().zip(&fixed) {
                    if !*f {
                        *w -= (*w - MIN_TEXT_WIDTH).max(0.0) * take;
                    }
                }
            }
            // Still too wide: a smaller font for this table, never cut numbers.
            let now: f32 = widths.iter().sum();
            if now > usable {
                let scale = usable / now;
                font_size = BODY * scale;
                for w in &mut widths {
                    *w *= scale;
                }
            }
        } else if text_columns > 0 {
            // Spare width goes to the text columns, so the table spans the page.
            let spare = (usable - natural) / text_columns as f32;
            for (w, f) in widths.iter_mut().zip(&fixed) {
                if !*f {
                    *w += spare;
                }
            }
        }
        Table {
            columns,
            widths,
            numeric,
            size,
            font_size,
            row: ROW * font_size / BODY,
        }
    }

    /// Widens columns to fit a (bold) totals row.
    pub(super) fn widen_for_totals(
        &mut self,
        widths: &mut [f32],
        columns: &[Column],
        totals: &Totals,
    ) {
        let tz = self.reports.invoice.time_zone;
        for (i, column) in columns.iter().enumerate() {
            if let Some(cell) = totals.cell(*column) {
                let text = display_text(cell, column.kind(), tz, &self.look);
                widths[i] = widths[i].max(self.bold.measure(&text, BODY) + 2.0 * PAD);
            }
        }
    }

    /// Moves to a new page (repeating the table header) when `needed` points
    /// do not fit on this one.
    pub(super) fn ensure(&mut self, needed: f32, table: &Table, title: &str) {
        if self.y - needed >= BOTTOM {
            return;
        }
        self.new_page(table.size);
        let y = self.y;
        self.text(
            Weight::Bold,
            9.0,
            MARGIN,
            y - 9.0,
            &format!("{title} (continued)"),
            0.3,
        );
        self.y -= 16.0;
        self.header(table);
    }

    pub(super) fn header(&mut self, table: &Table) {
        let zone = self.reports.invoice.zone_name();
        let total: f32 = table.widths.iter().sum();
        let (y, h) = (self.y, table.row + 2.0);
        self.fill(MARGIN, y - h, total, h, 0.88);
        let mut x = MARGIN;
        for (i, column) in table.columns.iter().enumerate() {
            let label = column.display_label(zone);
            self.cell_text(
                Pen {
                    weight: Weight::Bold,
                    size: table.font_size,
                },
                x,
                table.widths[i],
                y - h + 3.5,
                &label,
                table.numeric[i],
            );
            x += table.widths[i];
        }
        self.y -= h;
    }

    /// One report as a section: heading, header, rows, subtotals, total.
    pub(super) fn section(&mut self, report: &Report) {
        let table = self.table(report);
        let title = self.options.title(&report.spec.title());
        let opening = 22.0 + 3.0 * table.row;
        if self.size != table.size || self.y - opening < BOTTOM {
            self.new_page(table.size);
        }
        let y = self.y;
        self.text(Weight::Bold, 12.0, MARGIN, y - 12.0, &title, 0.0);
        self.y -= 20.0;
        self.header(&table);
        let reports = self.reports;
        let level = report.spec.level;
        let limit = reports.settings.pdf_max_detail_rows;
        let itemised = report.spec.kind.is_itemised();
        if itemised && limit.is_some_and(|max| report.row_count() > max) {
            let note = match &self.options.detail_elsewhere {
                Some(place) => format!(
                    "{} rows: the itemised detail is in {place}; subtotals per {} follow.",
                    report.row_count(),
                    level.key()
                ),
                None => format!(
                    "{} rows: the itemised detail is left out of this document; subtotals per {} follow.",
                    report.row_count(),
                    level.key()
                ),
            };
            self.ensure(table.row, &table, &title);
            let y = self.y;
            self.text(
                Weight::Regular,
                table.font_size,
                MARGIN + PAD,
                y - table.row + 3.0,
                &note,
                0.3,
            );
            self.y -= table.row;
            for group in &report.groups {
                let label = format!("Subtotal {}", reports.group_label(level, group.key));
                self.totals_row(&table, &title, &label, &group.subtotal, false);
            }
        } else {
            for group in &report.groups {
                if itemised {
                    let label = format!(
                        "{}: {}",
                        level.label(),
                        reports.group_label(level, group.key)
                    );
                    self.ensure(2.0 * table.row, &table, &title);
                    let total_width: f32 = table.widths.iter().sum();
                    let (y, h) = (self.y, table.row);
                    self.fill(MARGIN, y - h, total_width, h, 0.95);
                    self.cell_text(
                        Pen {
                            weight: Weight::Bold,
                            size: table.font_size,
                        },
                        MARGIN,
                        total_width,
                        y - h + 3.0,
                        &label,
                        false,
                    );
                    self.y -= h;
                }
                let mut stripe = false;
                for row in reports.rows(group) {
                    self.ensure(table.row, &table, &title);
                    let y = self.y;
                    if stripe {
                        let total_width: f32 = table.widths.iter().sum();
                        self.fill(MARGIN, y - table.row, total_width, table.row, 0.975);
                    }
                    stripe = !stripe;
                    let mut x = MARGIN;
                    for (i, column) in table.columns.iter().enumerate() {
                        let cell = reports.cell(level, row, *column);
                        let text = display_text(
                            cell,
                            column.kind(),
                            reports.invoice.time_zone,
                            &self.look,
                        );
                        self.cell_text(
                            Pen {
                                weight: Weight::Regular,
                                size: table.font_size,
                            },
                            x,
                            table.widths[i],
                            y - table.row + 3.0,
                            &text,
                            table.numeric[i],
                        );
                        x += table.widths[i];
                    }
                    self.y -= table.row;
                    self.rows += 1;
                }
                if itemised {
                    let label = format!("Subtotal {}", reports.group_label(level, group.key));
                    if let Some(split) = &group.by_direction {
                        for (i, direction) in ["inbound", "outbound"].iter().enumerate() {
                            let part = format!("{label} ({direction})");
                            self.totals_row(&table, &title, &part, &split[i], false);
                        }
                    }
                    self.totals_row(&table, &title, &label, &group.subtotal, false);
                }
            }
        }
        if matches!(
            report.spec.kind,
            ReportKind::Summary | ReportKind::CallTypes
        ) || itemised
        {
            self.totals_row(&table, &title, "Total", &report.total, true);
        }
        self.y -= 14.0;
    }

    pub(super) fn totals_row(
        &mut self,
        table: &Table,
        title: &str,
        label: &str,
        totals: &Totals,
        grand: bool,
    ) {
        // The label spans the leading columns that hold no total; a label too
        // long for them gets a line of its own above the figures.
        let label_columns = table
            .columns
            .iter()
            .take_while(|c| totals.cell(**c).is_none())
            .count()
            .max(1);
        let label_width: f32 = table.widths[..label_columns].iter().sum();
        let pad = PAD * table.font_size / BODY;
        let own_line = self.bold.measure(label, table.font_size) > label_width - 2.0 * pad;
        let lines = if own_line { 2.0 } else { 1.0 };
        self.ensure(lines * table.row + 2.0, table, title);
        let total_width: f32 = table.widths.iter().sum();
        let y = self.y;
        if grand {
            self.fill(
                MARGIN,
                y - lines * table.row,
                total_width,
                lines * table.row,
                0.9,
            );
        }
        self.rule(MARGIN, y, total_width, if grand { 0.8 } else { 0.4 });
        let (span, label_y) = if own_line {
            self.y -= table.row;
            (self.size.0 - 2.0 * MARGIN, y - table.row + 3.0)
        } else {
            (label_width, y - table.row + 3.0)
        };
        self.cell_text(
            Pen {
                weight: Weight::Bold,
                size: table.font_size,
            },
            MARGIN,
            span,
            label_y,
            label,
            false,
        );
        let y = self.y;
        let tz = self.reports.invoice.time_zone;
        let mut x = MARGIN;
        for (i, column) in table.columns.iter().enumerate() {
            if i >= label_columns {
                if let Some(cell) = totals.cell(*column) {
                    let text = display_text(cell, column.kind(), tz, &self.look);
                    self.cell_text(
                        Pen {
                            weight: Weight::Bold,
                            size: table.font_size,
                        },
                        x,
                        table.widths[i],
                        y - table.row + 3.0,
                        &text,
                        true,
                    );
                }
            }
            x += table.widths[i];
        }
        self.y -= table.row + 2.0;
    }
}
