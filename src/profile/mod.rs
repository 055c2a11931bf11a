//! Usage-report profiles: the file as written (TOML, or JSON of the same
//! shape) → a validated, typed [`Profile`].
//!
//! Validation is complete before any record is read: every problem is found
//! and reported at once with its key path (`reports.site[1]: unknown report
//! type "sumary" (did you mean "summary"?)`).

use std::path::Path;

use serde_json::Value;

use crate::column::{Column, Projection};
use crate::error::{did_you_mean, Error, Problem, Problems, Result};
use crate::level::{Level, ReportKind, ReportSpec};
use crate::locale::Locale;
use crate::money::Decimal;

/// Whether a profile is offered for new invoices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Active,
    /// Retired: kept for invoices that already name it, refused as a default.
    Historic,
}

impl Availability {
    pub fn key(self) -> &'static str {
        match self {
            Availability::Active => "active",
            Availability::Historic => "historic",
        }
    }
}

/// How much of the catalogue a user sees. Historic profiles are visible
/// only from `Standard` up (they stay linked to the invoices that used them,
/// but are no choice for new work).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpertLevel {
    Basic,
    Standard,
    Advanced,
    Expert,
}

impl ExpertLevel {
    pub const ALL: [ExpertLevel; 4] = [
        ExpertLevel::Basic,
        ExpertLevel::Standard,
        ExpertLevel::Advanced,
        ExpertLevel::Expert,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ExpertLevel::Basic => "basic",
            ExpertLevel::Standard => "standard",
            ExpertLevel::Advanced => "advanced",
            ExpertLevel::Expert => "expert",
        }
    }

    pub fn from_key(key: &str) -> Option<ExpertLevel> {
        ExpertLevel::ALL.into_iter().find(|l| l.key() == key)
    }
}

/// A validated profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub availability: Availability,
    /// The one customer this profile is restricted to, if any.
    pub customer: Option<String>,
    /// Customer groups allowed to use this profile (empty: no group restriction).
    pub customer_groups: Vec<String>,
    /// Company shown in document properties and titles, if set.
    pub company: Option<String>,
    /// Selected reports in the fixed order: level (customer, site, campaign,
    /// number), then kind (summary, call_types, calls, transactions).
    pub reports: Vec<ReportSpec>,
    /// Columns of itemised call reports, in profile order.
    pub call_columns: Vec<Column>,
    /// Columns of itemised transaction reports, in profile order.
    pub transaction_columns: Vec<Column>,
    /// Itemised reports longer than this show only their subtotals in the
    /// PDF (the full detail stays in CSV/XLSX).
    pub pdf_max_detail_rows: Option<u64>,
    /// Privacy: hide the last K digits of dialled numbers in every format.
    pub mask_dialled_digits: Option<u32>,
    /// Noise control: itemised calls below this charge are rolled into one
    /// "Other calls" row per group (their totals still count).
    pub minimum_itemised_charge: Option<Decimal>,
    /// Noise control: itemised calls with a zero charge are rolled into the
    /// "Other calls" row, and summary rows with no money are left out.
    pub hide_zero_rows: bool,
    /// How PDF and XLSX show numbers, money and dates.
    pub locale: Option<Locale>,
    /// Inbound and outbound subtotals (summary columns; itemised subtotal rows).
    pub split_direction: bool,
    /// Call types reports list each group's N costliest destinations, the
    /// rest as "Other".
    pub top_destinations: Option<u32>,
    /// One set of attachments per group of this level, besides the
    /// invoice's own (the reports at that level, for that group only).
    pub split: Option<Level>,
    /// Bundle the per-group files into one .zip per invoice.
    pub split_zip: bool,
}

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
    "mask_dialled_digits",
    "minimum_itemised_charge",
    "hide_zero_rows",
    "locale",
    "split_direction",
    "top_destinations",
    "split",
    "split_zip",
];

impl Profile {
    /// Reads and validates a profile file; `.json` files are JSON, anything
    /// else TOML.
    pub fn load(path: &Path) -> Result<Profile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let source = path.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            invalid(
                &source,
                format!(
                    "not UTF-8 (byte 0x{:02X} at offset {}); save the profile as UTF-8",
                    e.as_bytes()[e.utf8_error().valid_up_to()],
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Profile::parse(&text, is_json, &source)
    }

    /// Parses and validates profile text; `source` names it in messages.
    pub fn parse(text: &str, is_json: bool, source: &str) -> Result<Profile> {
        let value = parse_document(text, is_json, source)?;
        let mut v = Validator {
            problems: Vec::new(),
        };
        let profile = v.profile(&value);
        match profile {
            Some(p) if v.problems.is_empty() => Ok(p),
            _ => Err(Error::Invalid(Problems {
                source: format!("profile {source}"),
                problems: v.problems,
            })),
        }
    }

    /// The profile for a customer who has not consented to itemised bills:
    /// its `calls` reports are withheld. Returns the titles withheld.
    pub fn without_itemisation(&self) -> (Profile, Vec<String>) {
        let mut p = self.clone();
        let withheld = p
            .reports
            .iter()
            .filter(|r| r.kind == ReportKind::Calls)
            .map(|r| r.title())
            .collect();
        p.reports.retain(|r| r.kind != ReportKind::Calls);
        (p, withheld)
    }

    /// The fields the profile's reports show, plus those every total needs:
    /// what a read of records for this profile must parse.
    pub fn projection(&self) -> Projection {
        let mut p = Projection::default();
        for c in [
            Column::RecordType,
            Column::CustomerId,
            Column::CallId,
            Column::StartTime,
            Column::Duration,
            Column::BilledDuration,
            Column::Charge,
            Column::TransactionId,
            Column::Date,
            Column::Amount,
        ] {
            p.add(c);
        }
        for spec in &self.reports {
            p.add(spec.level.key_column());
            if spec.kind == ReportKind::CallTypes {
                p.add(Column::CallType);
                if self.top_destinations.is_some() {
                    p.add(Column::Destination);
                }
            }
            if self.split_direction {
                p.add(Column::Direction);
            }
        }
        for c in self.call_columns.iter().chain(&self.transaction_columns) {
            p.add(*c);
        }
        p
    }

    /// Whether a user at this expert level sees the profile.
    pub fn visible_at(&self, level: ExpertLevel) -> bool {
        self.availability == Availability::Active || level >= ExpertLevel::Standard
    }

    /// Who may use the profile, in words: "everyone", "customer ACME",
    /// "groups business;enterprise", or both.
    pub fn restriction(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.customer {
            parts.push(format!("customer {c}"));
        }
        if !self.customer_groups.is_empty() {
            parts.push(format!("groups {}", self.customer_groups.join(";")));
        }
        if parts.is_empty() {
            "everyone".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// Whether the profile selects any report of this kind.
    pub fn has_kind(&self, kind: ReportKind) -> bool {
        self.reports.iter().any(|r| r.kind == kind)
    }

    /// Whether the profile selects any report at this level.
    pub fn has_level(&self, level: Level) -> bool {
        self.reports.iter().any(|r| r.level == level)
    }
}

/// A profile file's one problem that stops validation (it cannot be read).
fn invalid(source: &str, message: String) -> Error {
    Error::Invalid(Problems {
        source: format!("profile {source}"),
        problems: vec![Problem {
            path: String::new(),
            message,
        }],
    })
}

fn parse_document(text: &str, is_json: bool, source: &str) -> Result<Value> {
    if is_json {
        // TOML refuses a key written twice; JSON profiles do the same
        // rather than let the last one win silently.
        let strict: StrictJson = serde_json::from_str(text)
            .map_err(|e| invalid(source, format!("not valid JSON: {e}")))?;
        Ok(strict.0)
    } else {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| invalid(source, format!("not valid TOML: {e}")))?;
        serde_json::to_value(table)
            .map_err(|e| invalid(source, format!("unsupported TOML value: {e}")))
    }
}

/// A JSON value read with duplicate keys refused.
struct StrictJson(Value);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StrictJson;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(Value::String(v.to_string())))
            }
            fn visit_unit<E>(self) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<StrictJson, A::Error> {
                let mut items = Vec::new();
                while let Some(StrictJson(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(StrictJson(Value::Array(items)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<StrictJson, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if object.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!(
                            "key {key:?} appears twice"
                        )));
                    }
                    let StrictJson(v) = map.next_value()?;
                    object.insert(key, v);
                }
                Ok(StrictJson(Value::Object(object)))
            }
        }
        d.deserialize_any(Visitor)
    }
}

struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn profile(&mut self, doc: &Value) -> Option<Profile> {
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
        let locale = self.string(table.get("locale"), "locale").and_then(|key| {
            match Locale::from_key(&key) {
                Some(l) => Some(l),
                None => {
                    let known: Vec<&str> = Locale::ALL.iter().map(|l| l.key()).collect();
                    self.problem(
                        "locale",
                        format!(
                            "{key:?} is not a supported locale; expected one of {}",
                            known.join(", ")
                        ),
                    );
                    None
                }
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
        Some(Profile {
            split,
            split_zip,
            split_direction,
            top_destinations,
            locale,
            mask_dialled_digits,
            minimum_itemised_charge,
            hide_zero_rows,
            pdf_max_detail_rows,
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

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "Site detail"
description = "Per-site summaries and itemised calls"
customer_groups = ["enterprise"]
call_columns = ["start_time", "dialled", "duration", "charge"]
transaction_columns = ["date", "description", "amount"]

[reports]
site = ["calls", "summary"]
customer = ["summary"]
"#;

    fn problems(text: &str) -> Vec<String> {
        match Profile::parse(text, false, "p.toml") {
            Err(Error::Invalid(p)) => p.problems.iter().map(|p| p.to_string()).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn valid_profile_is_typed_and_ordered() {
        let p = Profile::parse(GOOD, false, "p.toml").unwrap();
        assert_eq!(p.name, "Site detail");
        assert_eq!(p.availability, Availability::Active);
        assert_eq!(
            p.reports,
            vec![
                ReportSpec {
                    level: Level::Customer,
                    kind: ReportKind::Summary
                },
                ReportSpec {
                    level: Level::Site,
                    kind: ReportKind::Summary
                },
                ReportSpec {
                    level: Level::Site,
                    kind: ReportKind::Calls
                },
            ]
        );
        assert_eq!(
            p.call_columns,
            vec![
                Column::StartTime,
                Column::Dialled,
                Column::Duration,
                Column::Charge
            ]
        );
    }

    #[test]
    fn json_profiles_have_the_same_shape() {
        let json = r#"{"name": "One line", "reports": {"customer": ["summary"]}}"#;
        let p = Profile::parse(json, true, "p.json").unwrap();
        assert_eq!(p.reports.len(), 1);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_path() {
        let text = r#"
name = ""
availabilty = "historic"
call_columns = ["start_time", "charg", "start_time", "amount"]
[reports]
site = ["sumary", "calls", "calls"]
building = ["summary"]
"#;
        assert_eq!(
            problems(text),
            vec![
                "availabilty: unknown key (did you mean \"availability\"?)",
                "name: a profile needs a non-empty name",
                "reports.building: unknown level; levels are customer, site, campaign, number",
                "reports.site[0]: unknown report type \"sumary\" (did you mean \"summary\"?); report types are summary, call_types, calls, transactions",
                "reports.site[2]: duplicate report type \"calls\"",
                "call_columns[1]: unknown column \"charg\" (did you mean \"charge\"?)",
                "call_columns[2]: duplicate column \"start_time\"",
                "call_columns[3]: \"amount\" is not a call column",
            ]
        );
    }

    #[test]
    fn a_profile_must_select_something() {
        assert_eq!(
            problems("name = \"x\"\n[reports]\nsite = []\n"),
            vec!["reports: selects no report at any level"]
        );
        assert!(problems("name = \"x\"")[0].starts_with("reports: missing"));
    }

    #[test]
    fn itemised_reports_need_columns() {
        assert_eq!(
            problems("name = \"x\"\n[reports]\nnumber = [\"transactions\"]\n"),
            vec!["transaction_columns: the profile selects a transactions report but lists no transaction columns"]
        );
    }

    #[test]
    fn options_are_validated() {
        let p = Profile::parse(
            "name = \"x\"\nmask_dialled_digits = 4\nminimum_itemised_charge = \"1.00\"\nhide_zero_rows = true\n[reports]\nsite = [\"summary\"]\n",
            false,
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.mask_dialled_digits, Some(4));
        assert_eq!(
            p.minimum_itemised_charge,
            Some(Decimal::parse("1").unwrap())
        );
        assert!(p.hide_zero_rows);
        assert_eq!(
            problems("name = \"x\"\nmask_dialled_digits = 40\nminimum_itemised_charge = \"1,00\"\nhide_zero_rows = \"yes\"\n[reports]\nsite = [\"summary\"]\n"),
            vec![
                "mask_dialled_digits: 40 is more digits than a phone number has; expected 0 to 15",
                "minimum_itemised_charge: \"1,00\" is not a decimal: use '.' as the decimal point and no thousands separators, e.g. 1234.50 (write it as a string, e.g. \"1.00\")",
                "hide_zero_rows: expected true or false, found \"yes\"",
            ]
        );
    }

    #[test]
    fn split_and_top_destinations_are_validated() {
        assert_eq!(
            problems("name = \"x\"\nsplit = \"customer\"\ntop_destinations = 0\n[reports]\nsite = [\"summary\"]\n"),
            vec![
                "top_destinations: 0 is out of range; expected 1 to 1000",
                "split: \"customer\" is not a level to split by; expected \"site\", \"campaign\" or \"number\"",
            ]
        );
        assert_eq!(
            problems("name = \"x\"\nsplit = \"number\"\n[reports]\nsite = [\"summary\"]\n"),
            vec!["split: \"number\" splits by number, but reports.number selects no report"]
        );
        assert_eq!(
            problems("name = \"x\"\nsplit_zip = true\n[reports]\nsite = [\"summary\"]\n"),
            vec!["split_zip: bundles the files of split, but split is not set"]
        );
    }

    #[test]
    fn bad_syntax_is_one_clear_problem() {
        let p = problems("name = ");
        assert!(p[0].starts_with("not valid TOML"), "{p:?}");
    }
}
