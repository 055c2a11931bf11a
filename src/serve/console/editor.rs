//! The profile editor's form: a profile document as the form's fields (the
//! product description's three sections), the fields back into a document
//! the validator judges, the ordered column lists' moves, and the page.

use std::collections::BTreeMap;

use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::pages::{self, Fields};
use crate::column::Column;
use crate::level::{Level, ReportKind};
use crate::locale::Locale;

/// The two ordered column lists.
pub const LISTS: [(&str, &str); 2] = [
    ("transaction_columns", "Include Transaction Columns"),
    ("call_columns", "Include Call Columns"),
];

/// The options a profile has beyond reports and columns: key, label, help,
/// and whether the value is a whole number.
const TEXT_OPTIONS: [(&str, &str, &str, bool); 9] = [
    (
        "mask_dialled_digits",
        "Mask dialled digits",
        "Last digits of dialled numbers shown as x (0 to 15); empty: not masked",
        true,
    ),
    (
        "minimum_itemised_charge",
        "Minimum itemised charge",
        "Calls charged less are left out of itemised lists (still counted in totals), e.g. 0.05",
        false,
    ),
    (
        "top_destinations",
        "Top destinations",
        "Call-type reports show the N costliest destinations, the rest as one row (1 to 1000)",
        true,
    ),
    (
        "pdf_max_detail_rows",
        "PDF detail limit",
        "Most itemised rows in the PDF; the rest go to the CSV and XLSX only",
        true,
    ),
    (
        "company",
        "Company",
        "Shown on the PDF's cover and in headers",
        false,
    ),
    (
        "logo",
        "Logo",
        "A PNG or SVG file in the catalogue's profiles folder, e.g. brand/logo.svg; drawn at the top right of the PDF cover",
        false,
    ),
    (
        "brand_color",
        "Brand colour",
        "#RRGGBB: the PDF's rules, and its headings where the colour reads well on white",
        false,
    ),
    (
        "font",
        "Font",
        "A TrueType font file in the catalogue's profiles folder, e.g. brand/Corporate.ttf; the bundled fonts draw what it lacks",
        false,
    ),
    (
        "font_bold",
        "Bold font",
        "Its bold face (else bold text is drawn with the font above)",
        false,
    ),
];

/// The options chosen from a list (a select each): `locale`, `split`,
/// human CSV's delimiter and byte order mark (default: by the locale), and
/// how forwarded calls are itemised.
const CHOICES: [&str; 5] = ["locale", "split", "csv_delimiter", "csv_bom", "legs"];

const FLAGS: [(&str, &str); 4] = [
    ("hide_zero_rows", "Hide rows with nothing charged"),
    (
        "split_direction",
        "Split totals by direction (inbound / outbound)",
    ),
    ("split_zip", "Bundle the split files in one zip"),
    (
        "pdf_embed_csv",
        "Embed the machine CSV reports in the PDF (PDF/A-3)",
    ),
];

/// A profile as the editor holds it: every field as the form sends it.
#[derive(Clone, Debug, Default)]
pub struct ProfileForm {
    /// The profile being edited (`None`: a new one).
    pub original: Option<String>,
    /// The version of the file when it was opened.
    pub version: Option<String>,
    pub name: String,
    pub description: String,
    pub historic: bool,
    pub customer: String,
    pub groups: Vec<String>,
    /// Per level key, the report kinds in the profile's order.
    pub reports: BTreeMap<String, Vec<String>>,
    pub transaction_columns: Vec<String>,
    pub call_columns: Vec<String>,
    /// The text options by key ([`TEXT_OPTIONS`] and [`CHOICES`]).
    pub options: BTreeMap<String, String>,
    pub flags: BTreeMap<String, bool>,
    /// The invoice the preview renders.
    pub preview_invoice: String,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn texts(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(text)
        .collect()
}

impl ProfileForm {
    /// The form of a saved profile's document.
    pub fn from_document(name: &str, version: &str, doc: &Value) -> ProfileForm {
        let mut form = ProfileForm {
            original: Some(name.to_string()),
            version: Some(version.to_string()),
            name: text(&doc["name"]),
            description: text(&doc["description"]),
            historic: doc["availability"].as_str() == Some("historic"),
            customer: text(&doc["customer"]),
            groups: texts(doc.get("customer_groups")),
            transaction_columns: texts(doc.get("transaction_columns")),
            call_columns: texts(doc.get("call_columns")),
            ..ProfileForm::default()
        };
        for level in Level::ALL {
            let kinds = texts(doc["reports"].get(level.key()));
            if !kinds.is_empty() {
                form.reports.insert(level.key().to_string(), kinds);
            }
        }
        for key in TEXT_OPTIONS.iter().map(|o| o.0).chain(CHOICES) {
            form.options.insert(key.to_string(), text(&doc[key]));
        }
        for (key, _) in FLAGS {
            form.flags
                .insert(key.to_string(), doc[key].as_bool().unwrap_or(false));
        }
        form
    }

    /// The form as posted.
    pub fn from_fields(fields: &Fields) -> ProfileForm {
        let original = fields.get("original").filter(|o| !o.is_empty());
        let mut form = ProfileForm {
            original: original.map(str::to_string),
            version: fields
                .get("version")
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            // A saved profile keeps its name (the field is read-only).
            name: original
                .or(fields.get("name"))
                .unwrap_or_default()
                .to_string(),
            // Browsers send a text area's line breaks as CRLF.
            description: fields
                .get("description")
                .unwrap_or_default()
                .replace("\r\n", "\n"),
            historic: fields.get("availability") == Some("historic"),
            customer: fields.get("customer").unwrap_or_default().to_string(),
            groups: fields.all("customer_groups"),
            transaction_columns: fields.all("transaction_columns"),
            call_columns: fields.all("call_columns"),
            preview_invoice: fields
                .get("preview_invoice")
                .unwrap_or_default()
                .to_string(),
            ..ProfileForm::default()
        };
        // Free-text groups beside the known ones' boxes (a set: a form of
        // many groups costs linear time).
        let mut seen: std::collections::HashSet<String> = form.groups.iter().cloned().collect();
        for extra in fields
            .get("customer_groups_other")
            .unwrap_or_default()
            .split([',', ';'])
        {
            let extra = extra.trim();
            if !extra.is_empty() && seen.insert(extra.to_string()) {
                form.groups.push(extra.to_string());
            }
        }
        // Each level's kinds in the order the profile had them, new ones after.
        let before: Vec<String> = fields.all("reports_order");
        for level in Level::ALL {
            let chosen: Vec<String> = ReportKind::ALL
                .iter()
                .map(|k| k.key())
                .filter(|k| {
                    fields
                        .all("reports")
                        .iter()
                        .any(|r| *r == format!("{}:{k}", level.key()))
                })
                .map(str::to_string)
                .collect();
            if chosen.is_empty() {
                continue;
            }
            let mut ordered: Vec<String> = before
                .iter()
                .filter_map(|r| r.strip_prefix(&format!("{}:", level.key())))
                .filter(|k| chosen.iter().any(|c| c == k))
                .map(str::to_string)
                .collect();
            for k in chosen {
                if !ordered.contains(&k) {
                    ordered.push(k);
                }
            }
            form.reports.insert(level.key().to_string(), ordered);
        }
        for key in TEXT_OPTIONS.iter().map(|o| o.0).chain(CHOICES) {
            form.options.insert(
                key.to_string(),
                fields.get(key).unwrap_or_default().to_string(),
            );
        }
        for (key, _) in FLAGS {
            form.flags
                .insert(key.to_string(), fields.get(key).is_some());
        }
        form
    }

    fn list_mut(&mut self, key: &str) -> Option<&mut Vec<String>> {
        match key {
            "call_columns" => Some(&mut self.call_columns),
            "transaction_columns" => Some(&mut self.transaction_columns),
            _ => None,
        }
    }

    /// Applies a column list move: `LIST:add` (the column chosen in
    /// `LIST_add`), `LIST:up:I`, `LIST:down:I`, `LIST:remove:I`. Returns
    /// whether `op` was one.
    pub fn apply(&mut self, op: &str, fields: &Fields) -> bool {
        let mut parts = op.split(':');
        let (Some(list), Some(action)) = (parts.next(), parts.next()) else {
            return false;
        };
        let added = fields
            .get(&format!("{list}_add"))
            .unwrap_or_default()
            .to_string();
        let at: Option<usize> = parts.next().and_then(|i| i.parse().ok());
        let Some(columns) = self.list_mut(list) else {
            return false;
        };
        match (action, at) {
            ("add", _) => {
                if !added.is_empty() && !columns.contains(&added) {
                    columns.push(added);
                }
            }
            ("up", Some(i)) if i > 0 && i < columns.len() => columns.swap(i - 1, i),
            ("down", Some(i)) if i + 1 < columns.len() => columns.swap(i, i + 1),
            ("remove", Some(i)) if i < columns.len() => {
                columns.remove(i);
            }
            _ => return false,
        }
        true
    }

    /// The profile document the form describes, for the validator. Empty
    /// fields are left out; numbers are numbers when they read as one (the
    /// validator names anything else); a default a saved file spelled out
    /// (`hide_zero_rows = false`) stays spelled out.
    pub fn document(&self, saved: Option<&Value>) -> Value {
        let mut doc = Map::new();
        let had = |key: &str| saved.is_some_and(|s| s.get(key).is_some());
        doc.insert("name".into(), json!(self.name));
        if !self.description.is_empty() || had("description") {
            doc.insert("description".into(), json!(self.description));
        }
        if self.historic || had("availability") {
            let availability = if self.historic { "historic" } else { "active" };
            doc.insert("availability".into(), json!(availability));
        }
        if !self.customer.is_empty() {
            doc.insert("customer".into(), json!(self.customer));
        }
        for (key, list) in [
            ("customer_groups", &self.groups),
            ("call_columns", &self.call_columns),
            ("transaction_columns", &self.transaction_columns),
        ] {
            if !list.is_empty() || had(key) {
                doc.insert(key.into(), json!(list));
            }
        }
        for (key, value) in &self.options {
            if value.trim().is_empty() {
                continue;
            }
            let numeric = TEXT_OPTIONS.iter().any(|o| o.0 == key && o.3);
            let v = match (value.trim().parse::<u64>(), key.as_str(), value.as_str()) {
                (Ok(n), _, _) if numeric => json!(n),
                // A choice between yes, no and the default (left out).
                (_, "csv_bom", "true" | "false") => {
                    json!(value == "true")
                }
                _ => json!(value),
            };
            doc.insert(key.clone(), v);
        }
        for (key, on) in &self.flags {
            if *on || had(key) {
                doc.insert(key.clone(), json!(on));
            }
        }
        // A file the form leaves as it was keeps the digest that pins it
        // (the form has no field for digests).
        for key in crate::profile::FILE_KEYS {
            let pin = format!("{key}_sha256");
            if let (Some(saved), Some(value)) = (saved, doc.get(key)) {
                if saved.get(key) == Some(value) {
                    if let Some(digest) = saved.get(&pin) {
                        doc.insert(pin, digest.clone());
                    }
                }
            }
        }
        let mut reports = Map::new();
        for level in Level::ALL {
            if let Some(kinds) = self.reports.get(level.key()) {
                reports.insert(level.key().into(), json!(kinds));
            }
        }
        doc.insert("reports".into(), Value::Object(reports));
        Value::Object(doc)
    }
}

/// "call types" → "Call types".
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The field a validator problem belongs to: `reports.site[0]` →
/// `reports.site`, `call_columns[2]` → `call_columns`.
pub fn field_of(path: &str) -> String {
    let head = path.split('[').next().unwrap_or("");
    if let Some(level) = head.strip_prefix("reports.") {
        return format!("reports.{}", level.split('.').next().unwrap_or(""));
    }
    head.split('.').next().unwrap_or("").to_string()
}

/// Problems by field, as [`field_of`] places them.
pub type FieldProblems = BTreeMap<String, Vec<String>>;

/// What the editor knows of the catalogue to offer choices.
pub struct Choices<'a> {
    pub customers: Vec<(&'a str, &'a str)>,
    pub groups: Vec<&'a str>,
    pub invoices: Vec<(&'a str, &'a str)>,
}

/// What the page shows around the form.
#[derive(Default)]
pub struct Notes {
    /// Problems by field (empty key: the whole profile).
    pub problems: FieldProblems,
    /// A message at the top (saved, conflict, ...), and whether it is bad news.
    pub message: Option<(String, bool)>,
    /// Offer to reload the saved version (after a conflict).
    pub reload: bool,
    /// Customers and invoices naming the profile (no delete then).
    pub used_by: Option<crate::serve::actions::UsedBy>,
    /// The preview, when asked for.
    pub preview: Option<Markup>,
}

fn errors(problems: &FieldProblems, field: &str, id: &str) -> Markup {
    html! {
        @if let Some(list) = problems.get(field) {
            ul.errors id=(format!("{id}-error")) {
                @for p in list { li { (p) } }
            }
        }
    }
}

fn invalid(problems: &FieldProblems, field: &str) -> Option<&'static str> {
    problems.contains_key(field).then_some("true")
}

/// A select of one of [`CHOICES`]: the default (empty) first, then
/// `options` (value, shown), and a value the form holds that is none of
/// them kept selected, so the problem the validator finds in it shows.
fn choice(
    p: &FieldProblems,
    form: &ProfileForm,
    key: &str,
    label: &str,
    default: &str,
    options: &[(&str, &str)],
    help: Option<&str>,
) -> Markup {
    let current = form.options.get(key).map_or("", String::as_str);
    let known = current.is_empty() || options.iter().any(|(value, _)| *value == current);
    html! {
        div.field {
            label for=(key) { (label) }
            select id=(key) name=(key) aria-invalid=[invalid(p, key)] aria-describedby=[described(p, key, key)] {
                option value="" selected[current.is_empty()] { (default) }
                @for (value, shown) in options {
                    option value=(value) selected[*value == current] { (shown) }
                }
                @if !known {
                    option value=(current) selected { (current) }
                }
            }
            @if let Some(help) = help {
                p.help id=(format!("{key}-help")) { (help) }
            }
            (errors(p, key, key))
        }
    }
}

fn described(problems: &FieldProblems, field: &str, id: &str) -> Option<String> {
    problems.contains_key(field).then(|| format!("{id}-error"))
}

/// The add / edit page's form. `editable`: the user may save.
pub fn form(
    form: &ProfileForm,
    choices: &Choices,
    notes: &Notes,
    editable: bool,
    csrf: &str,
) -> Markup {
    let p = &notes.problems;
    // The profile's groups first, in its order (so saving keeps the
    // order), then the catalogue's others.
    let chosen: std::collections::HashSet<&str> = form.groups.iter().map(String::as_str).collect();
    let mut known_groups: Vec<&str> = form.groups.iter().map(String::as_str).collect();
    known_groups.extend(choices.groups.iter().filter(|g| !chosen.contains(*g)));
    known_groups.dedup();
    let disabled = !editable;
    html! {
        @if let Some((message, bad)) = &notes.message {
            div class=(if *bad { "notice bad" } else { "notice good" }) role=(if *bad { "alert" } else { "status" }) id="notice" {
                p { (message) }
                @if notes.reload {
                    @if let Some(name) = &form.original {
                        p { a.button href=(pages::link("/profiles/edit", &[("name", name)])) id="reload" { "Reload the saved version (discards your changes)" } }
                    }
                }
            }
        }
        @if !p.is_empty() {
            div.notice.bad role="alert" id="problems" {
                p { (pages::count(p.values().map(Vec::len).sum::<usize>(), "problem")) " — nothing was saved. Each is shown next to its field." }
                @if let Some(general) = p.get("") {
                    ul.errors { @for g in general { li { (g) } } }
                }
            }
        }
        form method="post" action="/profiles/form" id="profile-form" novalidate {
            (pages::csrf_field(csrf))
            // Enter in a text field saves (the first submit button of a form).
            @if editable {
                button.hidden-default type="submit" name="op" value="save" tabindex="-1" aria-hidden="true" { "Save" }
            }
            input type="hidden" name="original" value=(form.original.as_deref().unwrap_or(""));
            input type="hidden" name="version" value=(form.version.as_deref().unwrap_or(""));
            @for (level, kinds) in &form.reports {
                @for k in kinds { input type="hidden" name="reports_order" value=(format!("{level}:{k}")); }
            }
            fieldset disabled[disabled] {
                legend { "1. Profile" }
                div.field {
                    label for="name" { "Name" }
                    input #name type="text" name="name" value=(form.name) required
                        readonly[form.original.is_some()]
                        aria-invalid=[invalid(p, "name")] aria-describedby=[described(p, "name", "name")];
                    @if form.original.is_some() { p.help { "A saved profile keeps its name: to rename, add a new profile and make this one historic." } }
                    (errors(p, "name", "name"))
                }
                div.field {
                    label for="description" { "Description" }
                    textarea #description name="description" rows="2"
                        aria-invalid=[invalid(p, "description")] aria-describedby=[described(p, "description", "description")] { (form.description) }
                    (errors(p, "description", "description"))
                }
                div.field {
                    label for="availability" { "Availability" }
                    select #availability name="availability" aria-invalid=[invalid(p, "availability")] aria-describedby=[described(p, "availability", "availability")] {
                        option value="active" selected[!form.historic] { "Active" }
                        option value="historic" selected[form.historic] { "Historic (shown from the Standard expert level up; invoices that use it keep it)" }
                    }
                    (errors(p, "availability", "availability"))
                }
                div.field {
                    label for="customer" { "Customer" }
                    select #customer name="customer" aria-invalid=[invalid(p, "customer")] aria-describedby=[described(p, "customer", "customer")] {
                        option value="" selected[form.customer.is_empty()] { "— any customer —" }
                        @if !form.customer.is_empty() && !choices.customers.iter().any(|c| c.0 == form.customer) {
                            option value=(form.customer) selected { (form.customer) " (not in the catalogue)" }
                        }
                        @for (id, name) in &choices.customers {
                            option value=(id) selected[*id == form.customer] { (id) " — " (name) }
                        }
                    }
                    p.help { "Restricts the profile to this one customer." }
                    (errors(p, "customer", "customer"))
                }
                fieldset.field #groups aria-describedby=[described(p, "customer_groups", "groups")] {
                    legend { "Customer groups" }
                    div.choices {
                        @for g in &known_groups {
                            @let id = format!("group-{}", pages::slug(g));
                            label for=(id) {
                                input id=(id) type="checkbox" name="customer_groups" value=(g) checked[chosen.contains(g)];
                                " " (g)
                            }
                        }
                    }
                    label for="customer_groups_other" { "Other groups (comma-separated)" }
                    input #customer_groups_other type="text" name="customer_groups_other" value="";
                    p.help { "Restricts the profile to customers in any of these groups." }
                    (errors(p, "customer_groups", "groups"))
                }
            }
            fieldset disabled[disabled] {
                legend { "2. Usage reports" }
                (errors(p, "reports", "reports"))
                @for level in Level::ALL {
                    @let field = format!("reports.{}", level.key());
                    fieldset.field.level id=(format!("reports-{}", level.key())) aria-describedby=[described(p, &field, &field)] {
                        legend { (level.label()) " usage reports" }
                        div.choices {
                            @for kind in ReportKind::ALL {
                                @let id = format!("report-{}-{}", level.key(), kind.key());
                                @let on = form.reports.get(level.key()).is_some_and(|k| k.iter().any(|k| k == kind.key()));
                                label for=(id) {
                                    input id=(id) type="checkbox" name="reports" value=(format!("{}:{}", level.key(), kind.key())) checked[on];
                                    " " (capitalised(kind.label()))
                                }
                            }
                        }
                        (errors(p, &field, &field))
                    }
                }
            }
            fieldset disabled[disabled] {
                legend { "3. Columns and options" }
                @for (key, title) in LISTS {
                    @let columns = if key == "call_columns" { &form.call_columns } else { &form.transaction_columns };
                    @let allowed: Vec<Column> = Column::ALL.iter().copied().filter(|c| if key == "call_columns" { c.is_call_column() } else { c.is_transaction_column() }).collect();
                    fieldset.field.columns id=(key) aria-describedby=[described(p, key, key)] {
                        legend { (title) }
                        @if columns.is_empty() { p.help { "None yet." } }
                        ol {
                            @for (i, c) in columns.iter().enumerate() {
                                @let label = Column::from_key(c).map_or(c.as_str(), |c| c.base_label());
                                li {
                                    input type="hidden" name=(key) value=(c);
                                    span.column { (label) " " code { (c) } }
                                    span.moves {
                                        button type="submit" name="op" formaction=(format!("/profiles/form#{key}")) value=(format!("{key}:up:{i}")) disabled[i == 0] aria-label=(format!("Move {label} up")) { "↑" }
                                        button type="submit" name="op" formaction=(format!("/profiles/form#{key}")) value=(format!("{key}:down:{i}")) disabled[i + 1 == columns.len()] aria-label=(format!("Move {label} down")) { "↓" }
                                        button type="submit" name="op" formaction=(format!("/profiles/form#{key}")) value=(format!("{key}:remove:{i}")) aria-label=(format!("Remove {label}")) { "Remove" }
                                    }
                                }
                            }
                        }
                        @let add_id = format!("{key}_add");
                        div.add {
                            label for=(add_id) { "Add a column" }
                            select id=(add_id) name=(add_id) {
                                @for c in allowed.iter().filter(|c| !columns.iter().any(|x| x == c.key())) {
                                    option value=(c.key()) { (c.base_label()) " (" (c.key()) ")" }
                                }
                            }
                            button type="submit" name="op" formaction=(format!("/profiles/form#{key}")) value=(format!("{key}:add")) id=(format!("{key}-add-button")) { "Add" }
                        }
                        (errors(p, key, key))
                    }
                }
                div.options {
                    @for (key, label, help, numeric) in TEXT_OPTIONS {
                        div.field {
                            label for=(key) { (label) }
                            input id=(key) type="text" name=(key) value=(form.options.get(key).map_or("", String::as_str))
                                inputmode=[numeric.then_some("numeric")]
                                aria-invalid=[invalid(p, key)] aria-describedby=[described(p, key, key).or(Some(format!("{key}-help")))];
                            p.help id=(format!("{key}-help")) { (help) }
                            (errors(p, key, key))
                        }
                    }
                    div.field {
                        label for="locale" { "Locale" }
                        @let locale = form.options.get("locale").map_or("", String::as_str);
                        select #locale name="locale" aria-invalid=[invalid(p, "locale")] aria-describedby=[described(p, "locale", "locale")] {
                            option value="" selected[locale.is_empty()] { "— default (en-GB numbers) —" }
                            @if !locale.is_empty() && Locale::from_key(locale).is_none() {
                                option value=(locale) selected { (locale) }
                            }
                            @for l in Locale::ALL {
                                option value=(l.key()) selected[l.key() == locale] { (l.key()) }
                            }
                        }
                        (errors(p, "locale", "locale"))
                    }
                    div.field {
                        label for="split" { "Split" }
                        @let split = form.options.get("split").map_or("", String::as_str);
                        select #split name="split" aria-invalid=[invalid(p, "split")] aria-describedby=[described(p, "split", "split")] {
                            option value="" selected[split.is_empty()] { "— one attachment per format —" }
                            @for level in [Level::Site, Level::Campaign, Level::Number] {
                                option value=(level.key()) selected[level.key() == split] { "One file per " (level.label().to_lowercase()) }
                            }
                        }
                        (errors(p, "split", "split"))
                    }
                    (choice(p, form, "legs", "Forwarded calls", "— each leg its own row (default) —", &[("separate", "Each leg its own row"), ("combined", "One row per call (legs combined)")], None))
                    (choice(p, form, "csv_delimiter", "Human CSV delimiter", "— by the locale —", &[(",", "Comma (,)"), (";", "Semicolon (;)"), ("tab", "Tab")], Some("Default: ; where the locale's decimal mark is a comma (as Excel there expects), else a comma. Machine CSV always uses commas.")))
                    (choice(p, form, "csv_bom", "Human CSV byte order mark", "— by the locale —", &[("true", "Yes"), ("false", "No")], Some("Default: with the ; of a comma-decimal locale, so Excel reads the file as UTF-8.")))
                    @for (key, label) in FLAGS {
                        div.field.flag {
                            label for=(key) {
                                input id=(key) type="checkbox" name=(key) value="true" checked[form.flags.get(key).copied().unwrap_or(false)];
                                " " (label)
                            }
                            (errors(p, key, key))
                        }
                    }
                }
            }
            @if editable {
                div.actions {
                    button.primary type="submit" name="op" value="save" id="save" { "Save" }
                    a.button href="/profiles" { "Cancel" }
                }
            }
            @if editable {
            fieldset #preview {
                legend { "Preview" }
                p.help { "Renders the form as it is now — saved or not — for one invoice, beside the saved version." }
                div.field {
                    label for="preview_invoice" { "Invoice" }
                    select #preview_invoice name="preview_invoice" {
                        @for (id, customer) in &choices.invoices {
                            option value=(id) selected[*id == form.preview_invoice] { (id) " (" (customer) ")" }
                        }
                    }
                }
                div.actions {
                    button type="submit" name="op" formaction="/profiles/form#preview-result" value="preview" id="preview-button" { "Preview" }
                    button type="submit" name="op" value="download:pdf" { "Download PDF" }
                    button type="submit" name="op" value="download:xlsx" { "Download XLSX" }
                    button type="submit" name="op" value="download:csv" { "Download CSV (zip)" }
                }
                @if let Some(preview) = &notes.preview { (preview) }
            }
            }
        }
        @if editable {
            @if let (Some(name), Some(version)) = (&form.original, &form.version) {
                @let used_by = notes.used_by.clone().unwrap_or_default();
                @let (customers, invoices) = (used_by.customers, used_by.invoices);
                section.danger aria-labelledby="retire" {
                    h2 #retire { "Retire" }
                    @if !form.historic {
                        form method="post" action="/profiles/historic" {
                            (pages::csrf_field(csrf))
                            input type="hidden" name="name" value=(name);
                            input type="hidden" name="version" value=(version);
                            button type="submit" id="make-historic" { "Make historic" }
                            " Invoices that use it keep it; lists show it from the Standard expert level up."
                        }
                    }
                    @if customers.is_empty() && invoices.is_empty() {
                        form method="post" action="/profiles/delete" {
                            (pages::csrf_field(csrf))
                            input type="hidden" name="name" value=(name);
                            button.bad type="submit" id="delete" { "Delete" }
                            " No customer or invoice names it."
                        }
                    } @else {
                        p.help { "In use by " (pages::count(customers.len(), "customer")) " and " (pages::count(invoices.len(), "invoice")) ": it cannot be deleted." }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod csv_choice_tests {
    use super::*;

    #[test]
    fn human_csv_choices_survive_the_editor_and_default_when_left_empty() {
        let doc = json!({
            "name": "x",
            "reports": {"site": ["summary"]},
            "csv_delimiter": ";",
            "csv_bom": false,
        });
        let form = ProfileForm::from_document("x", "v1", &doc);
        let back = form.document(Some(&doc));
        assert_eq!(back["csv_delimiter"], json!(";"));
        assert_eq!(
            back["csv_bom"],
            json!(false),
            "a bool, not the text \"false\""
        );
        let mut cleared = form.clone();
        cleared.options.insert("csv_bom".into(), String::new());
        cleared
            .options
            .insert("csv_delimiter".into(), String::new());
        let back = cleared.document(Some(&doc));
        assert!(back.get("csv_bom").is_none() && back.get("csv_delimiter").is_none());
    }
}
