//! Validation of a profile document into a [`Profile`]: every problem is
//! collected with its key path, with "did you mean" hints, before any
//! record is read.

use serde_json::Value;

use super::{Availability, Legs, Profile};
use crate::column::Column;
use crate::error::{did_you_mean, Problem};
use crate::level::{Level, ReportKind, ReportSpec};
use crate::locale::Locale;
use crate::money::Decimal;

const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "description",
    "availability",
    "customer",
    "customer_groups",
    "company",
    "reports",
    "call_columns",
    "transaction_columns",
    "pdf_max_detail_rows",
    "pdf_embed_csv",
    "logo",
    "logo_sha256",
    "brand_color",
    "font",
    "font_sha256",
    "font_bold",
    "font_bold_sha256",
    "mask_dialled_digits",
    "minimum_itemised_charge",
    "hide_zero_rows",
    "locale",
    "split_direction",
    "top_destinations",
    "split",
    "split_zip",
    "csv_delimiter",
    "csv_bom",
    "legs",
];

pub(super) struct Validator<'f> {
    pub(super) problems: Vec<Problem>,
    /// Where the files the profile names are.
    pub(super) files: super::Files<'f>,
}

impl Validator<'_> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(super) fn profile(&mut self, doc: &Value) -> Option<Profile> {
        let Some(table) = doc.as_object() else {
            self.problem(
                "",
                "a profile is a table of keys (name, reports, call_columns, ...)",
            );
            return None;
        };
        let mut keys: Vec<&String> = table.keys().collect();
        keys.sort();
        for key in keys {
            if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
                let hint = hint(did_you_mean(key, TOP_LEVEL_KEYS.iter().copied()));
                self.problem(key.clone(), format!("unknown key{hint}"));
            }
        }
        let name = self.string(table.get("name"), "name").unwrap_or_default();
        if name.trim().is_empty() {
            self.problem("name", "a profile needs a non-empty name");
        } else if name.trim() != name || name.chars().any(char::is_control) {
            // Catalogue tables trim what they hold: " X" would be read back
            // as "X", another profile.
            self.problem(
                "name",
                format!("{name:?} starts or ends with white space or holds a control character; a profile's name is plain text"),
            );
        }
        let description = self
            .string(table.get("description"), "description")
            .unwrap_or_default();
        let availability = match self
            .string(table.get("availability"), "availability")
            .as_deref()
        {
            None | Some("active") => Availability::Active,
            Some("historic") => Availability::Historic,
            Some(other) => {
                self.problem(
                    "availability",
                    format!(
                        "{other:?} is not an availability; expected \"active\" or \"historic\""
                    ),
                );
                Availability::Active
            }
        };
        let customer = self
            .string(table.get("customer"), "customer")
            .filter(|c| !c.is_empty());
        let customer_groups = self.strings(table.get("customer_groups"), "customer_groups");
        for (i, g) in customer_groups.iter().enumerate() {
            if g.trim().is_empty() {
                self.problem(format!("customer_groups[{i}]"), "empty group name");
            }
        }
        let company = self
            .string(table.get("company"), "company")
            .filter(|c| !c.is_empty());
        let reports = self.reports(table.get("reports"));
        let call_columns = self.columns(table.get("call_columns"), "call_columns", true);
        let transaction_columns = self.columns(
            table.get("transaction_columns"),
            "transaction_columns",
            false,
        );

        if reports.iter().any(|r| r.kind == ReportKind::Calls) && call_columns.is_empty() {
            self.problem(
                "call_columns",
                "the profile selects a calls report but lists no call columns",
            );
        }
        if reports.iter().any(|r| r.kind == ReportKind::Transactions)
            && transaction_columns.is_empty()
        {
            self.problem(
                "transaction_columns",
                "the profile selects a transactions report but lists no transaction columns",
            );
        }
        let pdf_max_detail_rows =
            self.count(table.get("pdf_max_detail_rows"), "pdf_max_detail_rows");
        let mask_dialled_digits = self
            .count(table.get("mask_dialled_digits"), "mask_dialled_digits")
            .and_then(|n| {
                if n > 15 {
                    self.problem(
                        "mask_dialled_digits",
                        format!("{n} is more digits than a phone number has; expected 0 to 15"),
                    );
                    None
                } else {
                    Some(n as u32)
                }
            });
        let minimum_itemised_charge = self
            .string(
                table.get("minimum_itemised_charge"),
                "minimum_itemised_charge",
            )
            .and_then(|t| match Decimal::parse(&t) {
                Ok(d) if !d.is_negative() => Some(d),
                Ok(_) => {
                    self.problem(
                        "minimum_itemised_charge",
                        format!("{t:?} is negative; expected an amount >= 0"),
                    );
                    None
                }
                Err(e) => {
                    self.problem(
                        "minimum_itemised_charge",
                        format!(
                            "{t:?} is not a decimal: {e} (write it as a string, e.g. \"1.00\")"
                        ),
                    );
                    None
                }
            });
        let hide_zero_rows = self.flag(table.get("hide_zero_rows"), "hide_zero_rows");
        let pdf_embed_csv = self.flag(table.get("pdf_embed_csv"), "pdf_embed_csv");
        let logo = self.file(table, "logo", super::brand::load_logo);
        let font = self.file(table, "font", super::brand::load_font);
        let font_bold = self.file(table, "font_bold", super::brand::load_font);
        let brand_color = self
            .string(table.get("brand_color"), "brand_color")
            .and_then(|text| match super::Rgb::parse(&text) {
                Ok(color) => Some(color),
                Err(reason) => {
                    self.problem("brand_color", reason);
                    None
                }
            });
        let locale =
            self.string(table.get("locale"), "locale")
                .and_then(|key| match Locale::parse(&key) {
                    Ok(locale) => Some(locale),
                    Err(reason) => {
                        self.problem("locale", reason);
                        None
                    }
                });
        let split_direction = self.flag(table.get("split_direction"), "split_direction");
        let top_destinations = self
            .count(table.get("top_destinations"), "top_destinations")
            .and_then(|n| {
                if n == 0 || n > 1000 {
                    self.problem(
                        "top_destinations",
                        format!("{n} is out of range; expected 1 to 1000"),
                    );
                    None
                } else {
                    Some(n as u32)
                }
            });
        let split = self.string(table.get("split"), "split").and_then(|key| match Level::from_key(&key) {
            Some(level) if level != Level::Customer => {
                if !reports.iter().any(|r| r.level == level) {
                    self.problem("split", format!("{key:?} splits by {key}, but reports.{key} selects no report"));
                }
                Some(level)
            }
            _ => {
                self.problem("split", format!("{key:?} is not a level to split by; expected \"site\", \"campaign\" or \"number\""));
                None
            }
        });
        let split_zip = self.flag(table.get("split_zip"), "split_zip");
        if split_zip && split.is_none() && self.problems.iter().all(|p| p.path != "split") {
            self.problem(
                "split_zip",
                "bundles the files of split, but split is not set",
            );
        }
        let csv_delimiter = self
            .string(table.get("csv_delimiter"), "csv_delimiter")
            .and_then(|text| match text.as_str() {
                "," => Some(b','),
                ";" => Some(b';'),
                "tab" | "\t" => Some(b'\t'),
                _ => {
                    self.problem(
                        "csv_delimiter",
                        format!("{text:?} is not a delimiter; expected \",\", \";\" or \"tab\""),
                    );
                    None
                }
            });
        let csv_bom = table
            .get("csv_bom")
            .map(|value| self.flag(Some(value), "csv_bom"));
        let legs = match self.string(table.get("legs"), "legs").as_deref() {
            None | Some("separate") => Legs::Separate,
            Some("combined") => Legs::Combined,
            Some(other) => {
                self.problem(
                    "legs",
                    format!("{other:?} is not a view of forwarded calls; expected \"separate\" or \"combined\""),
                );
                Legs::Separate
            }
        };
        Some(Profile {
            legs,
            csv_delimiter,
            csv_bom,
            split,
            split_zip,
            split_direction,
            top_destinations,
            locale,
            mask_dialled_digits,
            minimum_itemised_charge,
            hide_zero_rows,
            pdf_max_detail_rows,
            pdf_embed_csv,
            logo,
            brand_color,
            font,
            font_bold,
            name,
            description,
            availability,
            customer,
            customer_groups,
            company,
            reports,
            call_columns,
            transaction_columns,
        })
    }

    /// A file the profile names under `key` (a logo, a font), read and
    /// checked by `load`, pinned by `{key}_sha256` if the profile says.
    fn file<T>(
        &mut self,
        table: &serde_json::Map<String, Value>,
        key: &str,
        load: fn(&str, super::Files, Option<&str>) -> Result<T, String>,
    ) -> Option<T> {
        let pin = format!("{key}_sha256");
        let pinned = self.string(table.get(&pin), &pin).filter(|digest| {
            let hex = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex {
                self.problem(
                    &pin,
                    format!("{digest:?} is not a SHA-256; expected 64 hexadecimal digits"),
                );
            }
            hex
        });
        let Some(written) = self.string(table.get(key), key) else {
            if pinned.is_some() {
                self.problem(pin, format!("pins a file, but {key} is not set"));
            }
            return None;
        };
        load(&written, self.files, pinned.as_deref())
            .map_err(|reason| self.problem(key, reason))
            .ok()
    }

    fn string(&mut self, value: Option<&Value>, path: &str) -> Option<String> {
        match value? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.problem(
                    path,
                    format!("expected a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// `true` or `false` (absent: false).
    fn flag(&mut self, value: Option<&Value>, path: &str) -> bool {
        match value {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.problem(
                    path,
                    format!("expected true or false, found {}", describe(other)),
                );
                false
            }
        }
    }

    /// A whole number >= 0.
    fn count(&mut self, value: Option<&Value>, path: &str) -> Option<u64> {
        let value = value?;
        match value.as_u64() {
            Some(n) => Some(n),
            None => {
                self.problem(
                    path,
                    format!("expected a whole number >= 0, found {}", describe(value)),
                );
                None
            }
        }
    }

    fn strings(&mut self, value: Option<&Value>, path: &str) -> Vec<String> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.problem(
                path,
                format!("expected a list of strings, found {}", type_name(value)),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.problem(
                    format!("{path}[{i}]"),
                    format!("expected a string, found {}", type_name(item)),
                ),
            }
        }
        out
    }

    fn reports(&mut self, value: Option<&Value>) -> Vec<ReportSpec> {
        let Some(value) = value else {
            self.problem(
                "reports",
                "missing: choose report types per level, e.g. [reports] customer = [\"summary\"]",
            );
            return Vec::new();
        };
        let Some(table) = value.as_object() else {
            self.problem(
                "reports",
                format!("expected a table of levels, found {}", type_name(value)),
            );
            return Vec::new();
        };
        let level_keys: Vec<&str> = Level::ALL.iter().map(|l| l.key()).collect();
        let mut specs = Vec::new();
        let mut keys: Vec<&String> = table.keys().collect();
        keys.sort();
        for key in keys {
            let path = format!("reports.{key}");
            let Some(level) = Level::from_key(key) else {
                let hint = hint(did_you_mean(key, level_keys.iter().copied()));
                self.problem(
                    path,
                    format!("unknown level{hint}; levels are customer, site, campaign, number"),
                );
                continue;
            };
            let kinds = self.strings(table.get(key.as_str()), &path);
            let mut seen = Vec::new();
            for (i, kind_key) in kinds.iter().enumerate() {
                let item = format!("{path}[{i}]");
                match ReportKind::from_key(kind_key) {
                    Some(kind) if seen.contains(&kind) => {
                        self.problem(item, format!("duplicate report type {kind_key:?}"));
                    }
                    Some(kind) => {
                        seen.push(kind);
                        specs.push(ReportSpec { level, kind });
                    }
                    None => {
                        let names: Vec<&str> = ReportKind::ALL.iter().map(|k| k.key()).collect();
                        let hint = hint(did_you_mean(kind_key, names.iter().copied()));
                        self.problem(
                            item,
                            format!(
                                "unknown report type {kind_key:?}{hint}; report types are {}",
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        if specs.is_empty() && self.problems.iter().all(|p| !p.path.starts_with("reports")) {
            self.problem("reports", "selects no report at any level");
        }
        specs.sort();
        specs
    }

    fn columns(&mut self, value: Option<&Value>, path: &str, calls: bool) -> Vec<Column> {
        let names = self.strings(value, path);
        let mut out: Vec<Column> = Vec::new();
        let allowed = |c: Column| {
            if calls {
                c.is_call_column()
            } else {
                c.is_transaction_column()
            }
        };
        for (i, name) in names.iter().enumerate() {
            let item = format!("{path}[{i}]");
            match Column::from_key(name) {
                Some(c) if allowed(c) => {
                    if out.contains(&c) {
                        self.problem(item, format!("duplicate column {name:?}"));
                    } else {
                        out.push(c);
                    }
                }
                Some(_) => {
                    let what = if calls { "call" } else { "transaction" };
                    self.problem(item, format!("{name:?} is not a {what} column"));
                }
                None => {
                    let candidates: Vec<&str> = Column::ALL
                        .iter()
                        .filter(|c| allowed(**c))
                        .map(|c| c.key())
                        .collect();
                    let hint = hint(did_you_mean(name, candidates.iter().copied()));
                    self.problem(item, format!("unknown column {name:?}{hint}"));
                }
            }
        }
        out
    }
}

fn hint(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default()
}

/// A value as a message shows it: the value itself for scalars.
fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        other => type_name(other).to_string(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}
