//! Usage-report profiles: the file as written (TOML, or JSON of the same
//! shape) → a validated, typed [`Profile`].
//!
//! Validation is complete before any record is read: every problem is found
//! and reported at once with its key path (`reports.site[1]: unknown report
//! type "sumary" (did you mean "summary"?)`).

pub mod brand;
pub mod diff;
mod document;
mod validate;

use std::path::Path;

pub use self::brand::{BrandFont, Files, Logo, Rgb};
use self::document::{invalid, parse_document};
use self::validate::Validator;
use crate::column::{Column, Projection};
use crate::error::{Error, Problems, Result};
use crate::level::{Level, ReportKind, ReportSpec};
use crate::locale::Locale;
use crate::money::Decimal;

/// The keys of a profile that name files (each pinned by `{key}_sha256`).
pub const FILE_KEYS: [&str; 3] = ["logo", "font", "font_bold"];

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

/// How forwarded calls are itemised (profile key `legs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legs {
    /// Each leg its own row, as the records have them.
    #[default]
    Separate,
    /// One row per `call_group`: the A-leg's start and caller, the B-leg's
    /// dialled number and destination, billed duration and charge summed
    /// over the legs; summaries count the call once.
    Combined,
}

impl Legs {
    pub const ALL: [Legs; 2] = [Legs::Separate, Legs::Combined];

    pub fn key(self) -> &'static str {
        match self {
            Legs::Separate => "separate",
            Legs::Combined => "combined",
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
    /// The PDF carries the invoice's machine CSV reports (`--header keys`,
    /// exact values) as embedded files, so one archived file holds both the
    /// readable and the exact form.
    pub pdf_embed_csv: bool,
    /// The company's logo on the PDF cover (`logo`: a PNG or SVG file).
    pub logo: Option<Logo>,
    /// The company's colour (`brand_color`): the PDF's rules and bands, and
    /// its headings where the colour reads well on white.
    pub brand_color: Option<Rgb>,
    /// The company's font (`font`): the PDF draws with it first, the
    /// bundled faces drawing what it lacks.
    pub font: Option<BrandFont>,
    /// Its bold (`font_bold`); without it bold text is drawn with `font`.
    pub font_bold: Option<BrandFont>,
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
    /// Between the fields of human CSV (`--header labels`): `,`, `;` or a
    /// tab. `None`: `;` where the locale's decimal mark is a comma, else `,`.
    pub csv_delimiter: Option<u8>,
    /// A UTF-8 byte order mark at the start of human CSV. `None`: with the
    /// `;` of a comma-decimal locale.
    pub csv_bom: Option<bool>,
    /// Forwarded calls: each leg its own row, or one row per call group.
    pub legs: Legs,
}

impl Profile {
    /// Reads and validates a profile file; `.json` files are JSON, anything
    /// else TOML.
    pub fn load(path: &Path) -> Result<Profile> {
        let source = path.display().to_string();
        // A profile that cannot be read is a wrong request (exit 2), like an
        // invalid one.
        let bytes =
            std::fs::read(path).map_err(|e| invalid(&source, format!("cannot be read: {e}")))?;
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
        // Files the profile names (its logo) are relative to its folder.
        let folder = match path.parent() {
            Some(p) if p.as_os_str().is_empty() => Path::new("."),
            Some(p) => p,
            None => Path::new("."),
        };
        Profile::parse_with_files(&text, is_json, &source, Files::Folder(folder))
    }

    /// A profile file's text as the document it holds (TOML, or JSON with
    /// duplicate keys refused), not yet validated: the shape the API shows.
    pub fn document(text: &str, is_json: bool, source: &str) -> Result<serde_json::Value> {
        parse_document(text, is_json, source)
    }

    /// Parses and validates profile text; `source` names it in messages.
    /// Files it names (a logo) need absolute paths: see
    /// [`Profile::parse_with_files`].
    pub fn parse(text: &str, is_json: bool, source: &str) -> Result<Profile> {
        Profile::parse_with_files(text, is_json, source, Files::None)
    }

    /// Parses and validates profile text whose relative file paths (a
    /// logo) lead where `files` says; the files are read and checked.
    pub fn parse_with_files(
        text: &str,
        is_json: bool,
        source: &str,
        files: Files,
    ) -> Result<Profile> {
        let value = parse_document(text, is_json, source)?;
        let mut v = Validator {
            problems: Vec::new(),
            files,
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

    /// The profile as a document of the shape of profile files (JSON), every
    /// key that holds a value spelled out, in one order: what a manifest
    /// keeps so the invoice can be rendered again from it
    /// ([`Profile::parse`] reads it back to an equal profile).
    pub fn to_document(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let mut doc = Map::new();
        doc.insert("name".into(), json!(self.name));
        doc.insert("description".into(), json!(self.description));
        doc.insert("availability".into(), json!(self.availability.key()));
        if let Some(customer) = &self.customer {
            doc.insert("customer".into(), json!(customer));
        }
        doc.insert("customer_groups".into(), json!(self.customer_groups));
        if let Some(company) = &self.company {
            doc.insert("company".into(), json!(company));
        }
        let mut reports = Map::new();
        for level in Level::ALL {
            let kinds: Vec<&str> = self
                .reports
                .iter()
                .filter(|r| r.level == level)
                .map(|r| r.kind.key())
                .collect();
            if !kinds.is_empty() {
                reports.insert(level.key().into(), json!(kinds));
            }
        }
        doc.insert("reports".into(), Value::Object(reports));
        let keys = |columns: &[Column]| json!(columns.iter().map(|c| c.key()).collect::<Vec<_>>());
        doc.insert("call_columns".into(), keys(&self.call_columns));
        doc.insert(
            "transaction_columns".into(),
            keys(&self.transaction_columns),
        );
        if let Some(n) = self.pdf_max_detail_rows {
            doc.insert("pdf_max_detail_rows".into(), json!(n));
        }
        if self.pdf_embed_csv {
            doc.insert("pdf_embed_csv".into(), json!(true));
        }
        // The logo by its absolute place and pinned by its digest: the
        // document renders the same logo again, or says the file changed.
        if let Some(logo) = &self.logo {
            doc.insert("logo".into(), json!(logo.path.to_string_lossy()));
            doc.insert("logo_sha256".into(), json!(logo.sha256));
        }
        if let Some(color) = self.brand_color {
            doc.insert("brand_color".into(), json!(color.key()));
        }
        for (key, font) in [("font", &self.font), ("font_bold", &self.font_bold)] {
            if let Some(font) = font {
                doc.insert(key.into(), json!(font.path.to_string_lossy()));
                doc.insert(format!("{key}_sha256"), json!(font.sha256));
            }
        }
        if let Some(n) = self.mask_dialled_digits {
            doc.insert("mask_dialled_digits".into(), json!(n));
        }
        if let Some(d) = self.minimum_itemised_charge {
            doc.insert(
                "minimum_itemised_charge".into(),
                json!(d.to_exact_string(2)),
            );
        }
        doc.insert("hide_zero_rows".into(), json!(self.hide_zero_rows));
        if let Some(locale) = self.locale {
            doc.insert("locale".into(), json!(locale.key()));
        }
        doc.insert("split_direction".into(), json!(self.split_direction));
        if let Some(n) = self.top_destinations {
            doc.insert("top_destinations".into(), json!(n));
        }
        if let Some(level) = self.split {
            doc.insert("split".into(), json!(level.key()));
        }
        doc.insert("split_zip".into(), json!(self.split_zip));
        if let Some(d) = self.csv_delimiter {
            let text = match d {
                b'\t' => "tab".to_string(),
                other => (other as char).to_string(),
            };
            doc.insert("csv_delimiter".into(), json!(text));
        }
        if let Some(bom) = self.csv_bom {
            doc.insert("csv_bom".into(), json!(bom));
        }
        doc.insert("legs".into(), json!(self.legs.key()));
        Value::Object(doc)
    }

    /// The SHA-256 of [`Profile::to_document`]: the same for equal
    /// profiles, whatever file or catalogue they came from
    /// ([`Profile::document_sha256`]).
    pub fn sha256(&self) -> String {
        Profile::document_sha256(&self.to_document())
    }

    /// The SHA-256 of a profile document as compact JSON, hex, without the
    /// places of the files it names (`logo`, `font`, `font_bold`): those are
    /// known by their digests, which it keeps, so a catalogue moved or
    /// copied elsewhere holds the same profiles.
    pub fn document_sha256(document: &serde_json::Value) -> String {
        let mut document = document.clone();
        if let Some(map) = document.as_object_mut() {
            for key in FILE_KEYS {
                map.remove(key);
            }
        }
        let bytes = serde_json::to_vec(&document).expect("a document serialises");
        crate::hash::sha256_hex(&bytes)
    }

    /// Human CSV's delimiter and whether it starts with a byte order mark:
    /// the profile's `csv_delimiter` and `csv_bom`, else `;` and a BOM
    /// where the locale's decimal mark is a comma (as Excel there expects),
    /// else `,` and none.
    pub fn human_csv(&self) -> (u8, bool) {
        let excel = self.locale.is_some_and(|l| l.separators().0 == ',');
        let delimiter = self
            .csv_delimiter
            .unwrap_or(if excel { b';' } else { b',' });
        (delimiter, self.csv_bom.unwrap_or(excel))
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
        if self.legs == Legs::Combined {
            p.add(Column::Leg);
            p.add(Column::CallGroup);
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
            "name = \"x\"\nmask_dialled_digits = 4\nminimum_itemised_charge = \"1.00\"\nhide_zero_rows = true\npdf_embed_csv = true\n[reports]\nsite = [\"summary\"]\n",
            false,
            "p.toml",
        )
        .unwrap();
        assert!(p.pdf_embed_csv);
        assert_eq!(p.mask_dialled_digits, Some(4));
        assert_eq!(
            p.minimum_itemised_charge,
            Some(Decimal::parse("1").unwrap())
        );
        assert!(p.hide_zero_rows);
        assert_eq!(
            problems("name = \"x\"\nmask_dialled_digits = 40\nminimum_itemised_charge = \"1,00\"\nhide_zero_rows = \"yes\"\npdf_embed_csv = 1\n[reports]\nsite = [\"summary\"]\n"),
            vec![
                "mask_dialled_digits: 40 is more digits than a phone number has; expected 0 to 15",
                "minimum_itemised_charge: \"1,00\" is not a decimal: use '.' as the decimal point and no thousands separators, e.g. 1234.50 (write it as a string, e.g. \"1.00\")",
                "hide_zero_rows: expected true or false, found \"yes\"",
                "pdf_embed_csv: expected true or false, found 1",
            ]
        );
    }

    #[test]
    fn a_profile_reads_back_from_its_document() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut files: Vec<_> = ["profiles", "catalog/profiles"]
            .iter()
            .flat_map(|d| std::fs::read_dir(dir.join(d)).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 8);
        for path in files {
            let profile = Profile::load(&path).unwrap();
            let text = serde_json::to_string(&profile.to_document()).unwrap();
            let back = Profile::parse(&text, true, "document").unwrap();
            assert_eq!(back, profile, "{}", path.display());
            assert_eq!(back.sha256(), profile.sha256());
        }
        let every = Profile::parse(
            "name = \"x\"\ndescription = \"d\"\navailability = \"historic\"\ncustomer = \"ACME\"\ncustomer_groups = [\"g\"]\ncompany = \"C\"\npdf_max_detail_rows = 3\nmask_dialled_digits = 2\nminimum_itemised_charge = \"0.015\"\nhide_zero_rows = true\nlocale = \"fr-FR\"\nsplit_direction = true\ntop_destinations = 4\nsplit = \"site\"\nsplit_zip = true\ncsv_delimiter = \"tab\"\ncsv_bom = false\nlegs = \"combined\"\ncall_columns = [\"charge\", \"caller\"]\n[reports]\nsite = [\"calls\", \"summary\"]\n",
            false,
            "p.toml",
        )
        .unwrap();
        let text = serde_json::to_string(&every.to_document()).unwrap();
        assert_eq!(Profile::parse(&text, true, "document").unwrap(), every);
    }

    #[test]
    fn human_csv_delimiter_and_byte_order_mark_are_validated() {
        assert_eq!(
            problems("name = \"x\"\ncsv_delimiter = \"|\"\ncsv_bom = \"yes\"\n[reports]\nsite = [\"summary\"]\n"),
            vec![
                "csv_delimiter: \"|\" is not a delimiter; expected \",\", \";\" or \"tab\"",
                "csv_bom: expected true or false, found \"yes\"",
            ]
        );
        assert_eq!(
            problems("name = \"x\"\nlegs = \"merged\"\n[reports]\nsite = [\"summary\"]\n"),
            vec!["legs: \"merged\" is not a view of forwarded calls; expected \"separate\" or \"combined\""]
        );
        let p = Profile::parse(
            "name = \"x\"\ncsv_delimiter = \"tab\"\ncsv_bom = false\n[reports]\nsite = [\"summary\"]\n",
            false,
            "p.toml",
        )
        .unwrap();
        assert_eq!((p.csv_delimiter, p.csv_bom), (Some(b'\t'), Some(false)));
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
