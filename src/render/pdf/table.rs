//! Laying out a report's table across pages: column widths from the
//! content, landscape and narrowing when it does not fit, headers repeated
//! on every page, group headings, subtotals and totals.

use super::font::Weight;
use super::tags::Role;
use super::*;
use crate::column::{Column, ColumnKind};
use crate::level::ReportKind;
use crate::locale::Msg;
use crate::report::{Report, Totals};
use pdf_writer::types::TableHeaderScope;

impl Document<'_, '_, '_> {
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
        // What the content needs, apart from the header.
        let mut widths: Vec<f32> = vec![2.0 * PAD; columns.len()];
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
                    // Free text is capped long before 512 characters; what
                    // is never cut is measured whole.
                    let shown = if fixed[i] {
                        &text[..]
                    } else {
                        prefix(&text, 512)
                    };
                    let w = self.regular.measure(shown, BODY) + 2.0 * PAD;
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
        let subtotal = reports.words().fill(Msg::Subtotal, &[("group", "")]);
        widths[0] = widths[0].max(self.bold.measure(subtotal.trim(), BODY) + 2.0 * PAD);
        // Headers on one line, or on two when the table is too wide for that.
        let words = reports.words();
        let labels: Vec<String> = columns
            .iter()
            .map(|c| words.column(*c, zone, true))
            .collect();
        let one_line: Vec<Vec<String>> = labels.iter().map(|l| vec![l.clone()]).collect();
        let two_lines: Vec<Vec<String>> = labels.iter().map(|l| self.wrap_header(l)).collect();
        let header_width = |lines: &[String], font: &mut DocFont| {
            lines
                .iter()
                .map(|l| font.measure(l, BODY))
                .fold(0.0f32, f32::max)
                + 2.0 * PAD
        };
        let content = widths;
        let with_header = |headers: &[Vec<String>], font: &mut DocFont| -> Vec<f32> {
            content
                .iter()
                .zip(headers)
                .map(|(w, h)| w.max(header_width(h, font)))
                .collect()
        };
        let (pw, ph) = self.portrait;
        let mut headers = one_line;
        let mut widths = with_header(&headers, &mut self.bold);
        let natural: f32 = widths.iter().sum();
        // Portrait when the table fits whole; otherwise landscape, which
        // shows more before anything is made smaller.
        let size = if natural <= pw - 2.0 * MARGIN {
            (pw, ph)
        } else {
            (ph, pw)
        };
        let usable = size.0 - 2.0 * MARGIN;
        let mut scale = 1.0f32;
        let text_columns = fixed.iter().filter(|f| !**f).count();
        if natural > usable {
            // Too wide even in landscape, in this order until it fits:
            // headers on two lines; a smaller font, down to MIN_FONT; free
            // text cut, but never narrower than its header; a font smaller
            // still. Numbers, phone numbers, ids, times and headers are
            // never cut.
            headers = two_lines;
            widths = with_header(&headers, &mut self.bold);
            let sum = |w: &[f32]| w.iter().sum::<f32>();
            if sum(&widths) > usable {
                scale = (usable / sum(&widths)).max(MIN_FONT / BODY);
                for w in &mut widths {
                    *w *= scale;
                }
            }
            if sum(&widths) > usable {
                let mut floor = Vec::with_capacity(headers.len());
                for (h, f) in headers.iter().zip(&fixed) {
                    floor.push(match f {
                        true => f32::MAX,
                        false => {
                            (header_width(h, &mut self.bold) * scale).max(MIN_TEXT_WIDTH * scale)
                        }
                    });
                }
                // The widest free text gives way first: every text column
                // is capped at one width (never below its floor), the
                // largest cap that fits, so short values stay whole.
                let capped = |cap: f32| -> Vec<f32> {
                    widths
                        .iter()
                        .zip(&floor)
                        .map(|(w, f)| {
                            if *f == f32::MAX {
                                *w
                            } else {
                                w.min(cap.max(*f))
                            }
                        })
                        .collect()
                };
                let (mut low, mut high) = (0.0f32, widths.iter().copied().fold(0.0, f32::max));
                for _ in 0..32 {
                    let cap = (low + high) / 2.0;
                    if sum(&capped(cap)) > usable {
                        high = cap;
                    } else {
                        low = cap;
                    }
                }
                widths = capped(low);
            }
            if sum(&widths) > usable {
                let more = usable / sum(&widths);
                scale *= more;
                for w in &mut widths {
                    *w *= more;
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
        let font_size = BODY * scale;
        Table {
            columns,
            headers,
            widths,
            numeric,
            size,
            font_size,
            row: ROW * scale,
        }
    }

    /// A header label split at the space that makes its widest line
    /// narrowest ("Start time" / "(Europe/London)"), or kept whole.
    fn wrap_header(&mut self, label: &str) -> Vec<String> {
        let whole = self.bold.measure(label, BODY);
        let mut best: Option<(f32, &str, &str)> = None;
        for (at, _) in label.match_indices(' ') {
            let (a, b) = (&label[..at], &label[at + 1..]);
            let widest = self.bold.measure(a, BODY).max(self.bold.measure(b, BODY));
            if best.is_none_or(|(w, _, _)| widest < w) {
                best = Some((widest, a, b));
            }
        }
        match best {
            Some((widest, a, b)) if widest < whole => vec![a.to_string(), b.to_string()],
            _ => vec![label.to_string()],
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
    /// do not fit on this one. Within an itemised group the page keeps room
    /// to carry the group's running subtotal forward at its foot; the next
    /// page names the group in its heading and brings the subtotal forward.
    pub(super) fn ensure(&mut self, needed: f32, table: &Table, title: &str) {
        let reserve = match &self.carry {
            Some(_) => 2.0 * table.row + 2.0,
            None => 0.0,
        };
        if self.y - needed - reserve >= BOTTOM {
            return;
        }
        // What a page break repeats or carries is page furniture: the
        // content was read where it first appeared.
        self.furniture(|doc| doc.break_page(table, title));
    }

    /// Carries the running subtotal to the page's foot, starts the next
    /// page, and repeats the heading, the table header and the subtotal.
    fn break_page(&mut self, table: &Table, title: &str) {
        let carry = self.carry.clone().filter(|c| c.rows > 0);
        let words = self.reports.words();
        if let Some(carry) = &carry {
            let label = words.fill(Msg::CarriedForward, &[("group", &carry.label)]);
            self.draw_totals(table, &label, &carry.running, false);
        }
        self.new_page(table.size);
        let y = self.y;
        let heading = match &self.carry {
            Some(c) => format!("{title} \u{2014} {}", c.label),
            None => title.to_string(),
        };
        let heading = words.fill(Msg::Continued, &[("title", &heading)]);
        let (pen, width) = (
            Pen {
                weight: Weight::Bold,
                size: 9.0,
            },
            self.size.0 - 2.0 * MARGIN,
        );
        self.text_within(pen, MARGIN, y - 9.0, width, &heading, 0.3);
        self.y -= 16.0;
        self.header(table);
        if let Some(carry) = &carry {
            let label = words.fill(Msg::BroughtForward, &[("group", &carry.label)]);
            self.draw_totals(table, &label, &carry.running, false);
        }
    }

    pub(super) fn header(&mut self, table: &Table) {
        let total: f32 = table.widths.iter().sum();
        let lines = table.headers.iter().map(Vec::len).max().unwrap_or(1);
        let (y, h) = (self.y, lines as f32 * table.row + 2.0);
        self.fill(MARGIN, y - h, total, h, 0.88);
        self.open(Role::THead);
        self.open(Role::TR);
        let mut x = MARGIN;
        for (i, label) in table.headers.iter().enumerate() {
            self.open(Role::TH(TableHeaderScope::Column, 1));
            for (n, line) in label.iter().enumerate() {
                self.cell_text(
                    Pen {
                        weight: Weight::Bold,
                        size: table.font_size,
                    },
                    x,
                    table.widths[i],
                    y - (n + 1) as f32 * table.row + 1.5,
                    line,
                    table.numeric[i],
                );
            }
            self.close();
            x += table.widths[i];
        }
        self.close();
        self.close();
        self.y -= h;
    }

    /// One report as a section: heading, header, rows, subtotals, total.
    pub(super) fn section(&mut self, report: &Report) {
        let table = self.table(report);
        let title = self
            .options
            .title(&self.reports.title_of(report), self.reports.words());
        let opening = 22.0 + 4.0 * table.row;
        if self.size != table.size || self.y - opening < BOTTOM {
            self.new_page(table.size);
        }
        self.outline.push(Bookmark {
            title: title.clone(),
            place: self.here(),
            groups: Vec::new(),
            unlisted: 0,
        });
        let y = self.y;
        let (pen, width) = (
            Pen {
                weight: Weight::Bold,
                size: 12.0,
            },
            self.size.0 - 2.0 * MARGIN,
        );
        self.open(Role::Sect);
        let heading = self.heading_fill();
        self.tagged(Role::H2, |doc| {
            doc.text_within(pen, MARGIN, y - 12.0, width, &title, heading)
        });
        self.y -= 20.0;
        self.open(Role::Table);
        self.header(&table);
        self.open(Role::TBody);
        let columns = table.columns.len() as i32;
        let reports = self.reports;
        let level = report.spec.level;
        let limit = reports.settings.pdf_max_detail_rows;
        let itemised = report.spec.kind.is_itemised();
        if itemised && limit.is_some_and(|max| report.row_count() > max) {
            let words = reports.words();
            let rows = self.look.count(report.row_count());
            let per = words.level_in_sentence(level);
            let note = match &self.options.detail_elsewhere {
                Some(place) => words.fill(
                    Msg::DetailElsewhere,
                    &[("rows", &rows), ("place", place), ("level", &per)],
                ),
                None => words.fill(Msg::DetailLeftOut, &[("rows", &rows), ("level", &per)]),
            };
            self.ensure(table.row, &table, &title);
            let y = self.y;
            self.open(Role::TR);
            self.tagged(Role::TD(columns), |doc| {
                doc.text(
                    Weight::Regular,
                    table.font_size,
                    MARGIN + PAD,
                    y - table.row + 3.0,
                    &note,
                    0.3,
                )
            });
            self.close();
            self.y -= table.row;
            for group in &report.groups {
                let (label, _) = reports.subtotal_labels(level, group.key);
                self.totals_row(&table, &title, &label, &group.subtotal, false);
            }
        } else {
            for group in &report.groups {
                if itemised {
                    let name = reports.group_label(level, group.key);
                    let words = reports.words();
                    let label = words.fill(
                        Msg::GroupHeading,
                        &[("level", words.level(level)), ("group", &name)],
                    );
                    // The heading, a row, and room to carry the group on.
                    self.ensure(4.0 * table.row + 2.0, &table, &title);
                    let place = self.here();
                    let bookmark = self.outline.last_mut().expect("the report's bookmark");
                    if bookmark.groups.len() < MAX_GROUP_BOOKMARKS {
                        bookmark.groups.push((name.clone(), place));
                    } else {
                        bookmark.unlisted += 1;
                    }
                    self.carry = Some(Carry {
                        label: name,
                        running: Totals::default(),
                        rows: 0,
                    });
                    let total_width: f32 = table.widths.iter().sum();
                    let (y, h) = (self.y, table.row);
                    self.fill(MARGIN, y - h, total_width, h, 0.95);
                    // The group's heading: a row whose one cell spans the
                    // table and holds a heading, so readers list it.
                    self.open(Role::TR);
                    self.open(Role::TD(columns));
                    self.tagged(Role::H3, |doc| {
                        doc.cell_text(
                            Pen {
                                weight: Weight::Bold,
                                size: table.font_size,
                            },
                            MARGIN,
                            total_width,
                            y - h + 3.0,
                            &label,
                            false,
                        )
                    });
                    self.close();
                    self.close();
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
                    self.open(Role::TR);
                    let mut x = MARGIN;
                    for (i, column) in table.columns.iter().enumerate() {
                        let cell = reports.cell(level, row, *column);
                        let text = display_text(
                            cell,
                            column.kind(),
                            reports.invoice.time_zone,
                            &self.look,
                        );
                        self.open(Role::TD(1));
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
                        self.close();
                        x += table.widths[i];
                    }
                    self.close();
                    self.y -= table.row;
                    self.rows += 1;
                    if let Some(carry) = &mut self.carry {
                        reports.add_row(&mut carry.running, row);
                        carry.rows += 1;
                    }
                }
                if itemised {
                    let (label, parts) = reports.subtotal_labels(level, group.key);
                    if let Some(split) = &group.by_direction {
                        for (part, totals) in parts.iter().zip(split) {
                            self.totals_row(&table, &title, part, totals, false);
                        }
                    }
                    self.totals_row(&table, &title, &label, &group.subtotal, false);
                }
                self.carry = None;
            }
        }
        if matches!(
            report.spec.kind,
            ReportKind::Summary | ReportKind::CallTypes
        ) || itemised
        {
            let total = reports.words().get(Msg::Total);
            self.totals_row(&table, &title, total, &report.total, true);
        }
        self.close(); // TBody
        self.close(); // Table
        self.close(); // Sect
        self.y -= 14.0;
    }

    /// A totals row on the current page, or the next when it does not fit.
    pub(super) fn totals_row(
        &mut self,
        table: &Table,
        title: &str,
        label: &str,
        totals: &Totals,
        grand: bool,
    ) {
        let (lines, _) = self.totals_layout(table, label, totals);
        self.ensure(lines * table.row + 2.0, table, title);
        self.draw_totals(table, label, totals, grand);
    }

    /// How many lines a totals row takes (a label too long for the leading
    /// columns that hold no total gets a line of its own above the
    /// figures), and how many leading columns its label spans.
    fn totals_layout(&mut self, table: &Table, label: &str, totals: &Totals) -> (f32, usize) {
        let label_columns = table
            .columns
            .iter()
            .take_while(|c| totals.cell(**c).is_none())
            .count()
            .max(1);
        let label_width: f32 = table.widths[..label_columns].iter().sum();
        let pad = PAD * table.font_size / BODY;
        let own_line = self.bold.measure(label, table.font_size) > label_width - 2.0 * pad;
        (if own_line { 2.0 } else { 1.0 }, label_columns)
    }

    /// Draws a totals row where the page is, without moving to a new one.
    fn draw_totals(&mut self, table: &Table, label: &str, totals: &Totals, grand: bool) {
        let (lines, label_columns) = self.totals_layout(table, label, totals);
        let own_line = lines > 1.0;
        let label_width: f32 = table.widths[..label_columns].iter().sum();
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
        // A totals row: its label heads the row, over the columns it spans.
        self.open(Role::TR);
        self.open(Role::TH(TableHeaderScope::Row, label_columns as i32));
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
        self.close();
        let y = self.y;
        let tz = self.reports.invoice.time_zone;
        let mut x = MARGIN;
        for (i, column) in table.columns.iter().enumerate() {
            if i >= label_columns {
                self.open(Role::TD(1));
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
                self.close();
            }
            x += table.widths[i];
        }
        self.close();
        self.y -= table.row + 2.0;
    }
}
