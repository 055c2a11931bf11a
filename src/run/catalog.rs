//! The catalogue a billing run works from: `profiles/*.toml` (or `.json`),
//! `customers.csv` and `invoices.csv`. Loading validates everything and
//! reports every problem at once, each with its file, line and column.
//!
//! Profile rules from the product description live here too: which profile an
//! invoice uses, who may use a restricted profile, and when a historic profile
//! is refused.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::error::{Error, Problem, Problems, Result};
use crate::invoice::Invoice;
use crate::profile::{Availability, Profile};
use crate::records::parse_date;
use crate::render::Format;

/// A customer as `customers.csv` describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub groups: Vec<String>,
    pub default_profile: Option<String>,
    pub time_zone: Tz,
    /// ISO 4217 code, e.g. `GBP` (shown by locale-aware renderers).
    pub currency: Option<String>,
    /// `false` when the customer has not consented to itemised bills.
    pub itemisation: bool,
}

/// An invoice as `invoices.csv` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceEntry {
    pub invoice_id: String,
    pub customer_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The invoice's own profile choice, if any.
    pub profile: Option<String>,
    /// The invoice's own formats, if any.
    pub formats: Option<Vec<Format>>,
    /// Line in invoices.csv, for messages.
    pub line: u64,
}

/// A loaded, validated catalogue.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub dir: PathBuf,
    /// Profiles by name, in name order.
    pub profiles: BTreeMap<String, Profile>,
    /// The file each profile came from.
    pub profile_files: BTreeMap<String, PathBuf>,
    pub customers: HashMap<String, Customer>,
    /// Invoices in invoices.csv order.
    pub invoices: Vec<InvoiceEntry>,
    /// Invoices a problem of their own row or their customer's row makes
    /// unrenderable, with the problems (only [`Catalog::load_for_run`]
    /// loads a catalogue with any; such an invoice's entry has an empty
    /// period and takes no record).
    pub broken: BTreeMap<String, String>,
}

/// What a catalogue problem concerns: the whole catalogue, or only one
/// customer's or one invoice's row.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    Whole,
    Customer(String),
    Invoice(String),
}

/// One invoice of the catalogue, ready to render (see [`Catalog::chosen`]).
pub struct Chosen<'c> {
    pub invoice: Invoice,
    pub profile: &'c Profile,
    pub itemisation: bool,
    /// The invoice's own formats (invoices.csv), if it names any.
    pub formats: Option<Vec<Format>>,
}

/// Where an invoice's profile came from, and what it is.
#[derive(Debug, PartialEq)]
pub enum Resolution<'c> {
    /// The invoice named a profile, or its customer has a usable default.
    Use(&'c Profile),
    /// Neither the invoice nor the customer names a profile: no attachment.
    NoProfile,
    /// The profile may not be used for this invoice; the reason says why.
    Refused(String),
}

impl Catalog {
    /// Loads and validates `DIR/profiles/`, `DIR/customers.csv` and
    /// `DIR/invoices.csv`, reporting every problem at once.
    pub fn load(dir: &Path) -> Result<Catalog> {
        Catalog::load_for_run(dir, true)
    }

    /// Loads a catalogue for a billing run. With `strict`, as [`Catalog::load`]:
    /// any problem stops it. Otherwise a problem confined to one customer's
    /// or one invoice's row marks only the invoices it concerns as broken
    /// (listed in [`Catalog::broken`] with the problems); problems of the
    /// whole catalogue — an unreadable file, a missing column, an invalid
    /// profile, an empty or repeated id — still stop it.
    pub fn load_for_run(dir: &Path, strict: bool) -> Result<Catalog> {
        let mut problems = Vec::new();
        let mut scopes = Vec::new();
        let (profiles, profile_files) = load_profiles(dir, &mut problems)?;
        let customers = load_customers(dir, &profiles, &mut problems, &mut scopes)?;
        let invoices = load_invoices(dir, &profiles, &customers, &mut problems, &mut scopes)?;
        // The first scope given to a problem is its own (an overlap names
        // the other invoice's problem before its row's).
        let mut scope_map: HashMap<usize, Scope> = HashMap::new();
        for (i, scope) in scopes {
            scope_map.entry(i).or_insert(scope);
        }
        let scopes = scope_map;
        let scope_of = |i: usize| scopes.get(&i).cloned().unwrap_or(Scope::Whole);
        let whole = (0..problems.len()).any(|i| scope_of(i) == Scope::Whole);
        if !problems.is_empty() && (strict || whole) {
            return Err(Error::Invalid(Problems {
                source: format!("catalogue {}", dir.display()),
                problems,
            }));
        }
        let mut broken: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, problem) in problems.iter().enumerate() {
            let text = format!("the catalogue: {problem}");
            match scope_of(i) {
                Scope::Invoice(id) => broken.entry(id).or_default().push(text),
                Scope::Customer(c) => {
                    for e in invoices.iter().filter(|e| e.customer_id == c) {
                        broken
                            .entry(e.invoice_id.clone())
                            .or_default()
                            .push(text.clone());
                    }
                }
                Scope::Whole => unreachable!("checked above"),
            }
        }
        Ok(Catalog {
            dir: dir.to_path_buf(),
            profiles,
            profile_files,
            customers,
            invoices,
            broken: broken.into_iter().map(|(k, v)| (k, v.join("; "))).collect(),
        })
    }

    /// What a run would refuse or leave without an attachment, decided from
    /// the catalogue alone: one problem per such invoice, at its line of
    /// `invoices.csv` (the column that decides: `profile`, or the customer's
    /// default).
    pub fn rule_warnings(&self) -> Vec<Problem> {
        let path = self.dir.join("invoices.csv");
        self.invoices
            .iter()
            .filter_map(|entry| {
                let column = if entry.profile.is_some() { "profile" } else { "customer_id" };
                let message = match self.resolve(entry) {
                    Resolution::Use(_) => return None,
                    Resolution::NoProfile => format!(
                        "invoice {} gets no usage attachment: neither it nor customer {} names a profile",
                        entry.invoice_id, entry.customer_id
                    ),
                    Resolution::Refused(reason) => {
                        format!("invoice {} would be refused: {reason}", entry.invoice_id)
                    }
                };
                Some(Problem {
                    path: format!("{}:{}: column {column}", path.display(), entry.line),
                    message,
                })
            })
            .collect()
    }

    /// A new invoice of a customer that names no profile of its own: what
    /// the rules make of it is what the customer's default gives.
    pub fn default_probe(&self, customer: &str) -> InvoiceEntry {
        InvoiceEntry {
            invoice_id: String::new(),
            customer_id: customer.to_string(),
            from: chrono::NaiveDate::MIN,
            to: chrono::NaiveDate::MIN,
            profile: None,
            formats: None,
            line: 0,
        }
    }

    /// Applies the profile rules to one invoice:
    /// - its own profile if it names one, else its customer's default, else none;
    /// - a profile restricted to a customer serves only that customer, one
    ///   restricted to groups only customers in one of them (both restrictions
    ///   apply when both are set);
    /// - a historic profile serves invoices that name it, never as a default.
    pub fn resolve(&self, entry: &InvoiceEntry) -> Resolution<'_> {
        let customer = &self.customers[&entry.customer_id];
        let (name, from_default) = match (&entry.profile, &customer.default_profile) {
            (Some(own), _) => (own, false),
            (None, Some(default)) => (default, true),
            (None, None) => return Resolution::NoProfile,
        };
        let profile = &self.profiles[name];
        if from_default && profile.availability == Availability::Historic {
            return Resolution::Refused(format!(
                "profile {name:?} is historic: it serves invoices that name it, not as customer {}'s default for a new invoice",
                customer.id
            ));
        }
        if let Some(reason) = refusal(name, profile, customer) {
            return Resolution::Refused(reason);
        }
        Resolution::Use(profile)
    }

    /// The catalogue's invoice of an id.
    pub fn entry(&self, id: &str) -> Result<&InvoiceEntry> {
        self.invoices
            .iter()
            .find(|e| e.invoice_id == id)
            .ok_or_else(|| {
                let ids = self.invoices.iter().map(|e| e.invoice_id.as_str());
                let hint = crate::error::did_you_mean(id, ids)
                    .map(|c| format!("; did you mean {c:?}?"))
                    .unwrap_or_default();
                Error::Usage(format!(
                    "no invoice {id:?} in the catalogue {}{hint}",
                    self.dir.display()
                ))
            })
    }

    /// One invoice of the catalogue as a run renders it: the invoice (its
    /// customer's zone, currency and name), the profile the rules give it
    /// (or `instead`, which the rules' restrictions must allow), and whether
    /// its customer consented to itemisation. `Err(Usage)` when there is no
    /// such invoice, it gets no profile, or the rules refuse it.
    pub fn chosen<'p>(&'p self, id: &str, instead: Option<&'p Profile>) -> Result<Chosen<'p>> {
        let entry = self.entry(id)?;
        if let Some(problem) = self.broken.get(id) {
            return Err(Error::Usage(format!("invoice {id}: {problem}")));
        }
        let customer = &self.customers[&entry.customer_id];
        if let Some(profile) = instead {
            if let Some(reason) = refusal(&profile.name, profile, customer) {
                return Err(Error::Usage(reason));
            }
            return Ok(Chosen {
                invoice: self.invoice(entry)?,
                profile,
                itemisation: customer.itemisation,
                formats: entry.formats.clone(),
            });
        }
        let profile = match self.resolve(entry) {
            Resolution::Use(p) => p,
            Resolution::NoProfile => {
                return Err(Error::Usage(format!(
                    "invoice {id} gets no usage attachment: neither it nor its customer names a profile"
                )))
            }
            Resolution::Refused(reason) => return Err(Error::Usage(reason)),
        };
        Ok(Chosen {
            invoice: self.invoice(entry)?,
            profile,
            itemisation: customer.itemisation,
            formats: entry.formats.clone(),
        })
    }

    /// The invoice as the engine renders it (customer's time zone).
    pub fn invoice(&self, entry: &InvoiceEntry) -> Result<Invoice> {
        let customer = &self.customers[&entry.customer_id];
        customer.invoice(Some(entry.invoice_id.clone()), entry.from, entry.to)
    }
}

/// Why a profile may not serve a customer, if it may not: a profile
/// restricted to a customer serves only that customer, one restricted to
/// groups only customers in one of them (both apply when both are set).
fn refusal(name: &str, profile: &Profile, customer: &Customer) -> Option<String> {
    if let Some(only) = &profile.customer {
        if only != &customer.id {
            return Some(format!(
                "profile {name:?} is restricted to customer {only:?}; this invoice is for customer {:?}",
                customer.id
            ));
        }
    }
    if !profile.customer_groups.is_empty()
        && !profile
            .customer_groups
            .iter()
            .any(|g| customer.groups.contains(g))
    {
        return Some(format!(
            "profile {name:?} is restricted to customer groups [{}]; customer {:?} is in [{}]",
            profile.customer_groups.join(", "),
            customer.id,
            customer.groups.join(", ")
        ));
    }
    None
}

impl Customer {
    /// An invoice of this customer for a period: in the customer's zone and
    /// currency, with its name.
    pub fn invoice(&self, id: Option<String>, from: NaiveDate, to: NaiveDate) -> Result<Invoice> {
        Ok(Invoice::new(id, self.id.clone(), from, to, self.time_zone)?
            .with_currency(self.currency.clone())
            .with_customer_name(Some(self.name.clone())))
    }
}

fn load_profiles(
    dir: &Path,
    problems: &mut Vec<Problem>,
) -> Result<(BTreeMap<String, Profile>, BTreeMap<String, PathBuf>)> {
    let folder = dir.join("profiles");
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Problem {
                path: folder.display().to_string(),
                message: format!("cannot be read: {e}"),
            });
            return Ok((BTreeMap::new(), BTreeMap::new()));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml" || e == "json"))
        .collect();
    files.sort();
    let mut profiles = BTreeMap::new();
    let mut sources: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        match Profile::load(&file) {
            Ok(p) => {
                if let Some(first) = sources.get(&p.name) {
                    problems.push(Problem {
                        path: file.display().to_string(),
                        message: format!(
                            "profile name {:?} is already used by {}",
                            p.name,
                            first.display()
                        ),
                    });
                    continue;
                }
                sources.insert(p.name.clone(), file.clone());
                profiles.insert(p.name.clone(), p);
            }
            Err(Error::Invalid(p)) => {
                for problem in p.problems {
                    problems.push(Problem {
                        path: format!("{}: {}", file.display(), problem.path),
                        message: problem.message,
                    });
                }
            }
            // One unreadable file (a folder named x.toml, no permission)
            // is one problem among the others.
            Err(e) => problems.push(Problem {
                path: file.display().to_string(),
                message: e.to_string(),
            }),
        }
    }
    Ok((profiles, sources))
}

/// Rows of a catalogue CSV as header-name → value maps, with line numbers.
fn read_table(
    path: &Path,
    required: &[&str],
    optional: &[&str],
    problems: &mut Vec<Problem>,
) -> Result<Vec<(u64, HashMap<String, String>)>> {
    // Rows end at \n (the \r of a \r\n is trimmed): with \r\n as the
    // terminator the csv crate reports rows on the line before their own.
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => {
            problems.push(Problem {
                path: path.display().to_string(),
                message: format!("cannot be read: {e}"),
            });
            return Ok(Vec::new());
        }
    };
    // Read through the records' quoting watch: a quote left open cannot
    // merge rows (catalogue values never hold line breaks).
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_reader(crate::records::Guarded::new(file));
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::input(path, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !headers.iter().any(|h| h == r))
        .collect();
    // A column named like one of ours but not quite is a mistake that
    // would silently fall back to a default (a misspelt `itemisation`
    // would itemise a customer who refused it); other columns are the
    // exporting system's own and are left alone.
    let known: Vec<&str> = required.iter().chain(optional).copied().collect();
    for header in &headers {
        if known.contains(&header.as_str()) {
            continue;
        }
        let near = crate::error::did_you_mean(header, known.iter().copied()).or_else(|| {
            known
                .iter()
                .copied()
                .find(|k| k.eq_ignore_ascii_case(header))
        });
        if let Some(near) = near {
            problems.push(Problem {
                path: format!("{}:1", path.display()),
                message: format!(
                    "unknown column {header:?} (did you mean {near:?}?); the columns are {}",
                    known.join(", ")
                ),
            });
        }
    }
    if !missing.is_empty() {
        problems.push(Problem {
            path: format!("{}:1", path.display()),
            message: format!(
                "missing column{}: {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        });
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    let mut records = reader.records();
    let mut runaway = false;
    for record in records.by_ref() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(Problem {
                    path: format!("{}:{line}", path.display()),
                    message: match e.into_kind() {
                        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                        other => format!("{other:?}"),
                    },
                });
                continue;
            }
        };
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank \r\n line
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().any(|f| f.contains('\n')) {
            runaway = true;
            problems.push(Problem {
                path: format!("{}:{line}", path.display()),
                message: "a quoted field runs on over the next line (is a closing quote missing?); catalogue values never hold line breaks".into(),
            });
            continue;
        }
        if record.len() != headers.len() {
            problems.push(Problem {
                path: format!("{}:{line}", path.display()),
                message: format!(
                    "has {} fields but the header has {}",
                    record.len(),
                    headers.len()
                ),
            });
            continue;
        }
        let map = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_string))
            .collect();
        rows.push((line, map));
    }
    if let Some(line) = records.reader().get_ref().unterminated() {
        if !runaway {
            problems.push(Problem {
                path: format!("{}:{line}", path.display()),
                message: "a quoted field opened here is never closed".into(),
            });
        }
    }
    Ok(rows)
}

fn load_customers(
    dir: &Path,
    profiles: &BTreeMap<String, Profile>,
    problems: &mut Vec<Problem>,
    scopes: &mut Vec<(usize, Scope)>,
) -> Result<HashMap<String, Customer>> {
    let path = dir.join("customers.csv");
    let rows = read_table(
        &path,
        &[
            "customer_id",
            "name",
            "groups",
            "default_profile",
            "timezone",
            "currency",
        ],
        &["itemisation"],
        problems,
    )?;
    let mut customers = HashMap::new();
    for (line, row) in rows {
        let get = |k: &str| row.get(k).cloned().unwrap_or_default();
        let at = |column: &str| format!("{}:{line}: column {column}", path.display());
        let id = get("customer_id");
        if id.is_empty() {
            problems.push(Problem {
                path: at("customer_id"),
                message: "is empty".into(),
            });
            continue;
        }
        if customers.contains_key(&id) {
            problems.push(Problem {
                path: at("customer_id"),
                message: format!("customer {id:?} is listed twice"),
            });
            continue;
        }
        // Problems from here on concern only this customer's invoices.
        let before = problems.len();
        let zone_text = get("timezone");
        let time_zone = if zone_text.is_empty() {
            Tz::UTC
        } else {
            match crate::invoice::parse_time_zone(&zone_text) {
                Ok(tz) => tz,
                Err(message) => {
                    problems.push(Problem {
                        path: at("timezone"),
                        message,
                    });
                    Tz::UTC
                }
            }
        };
        let default_profile = Some(get("default_profile")).filter(|p| !p.is_empty());
        if let Some(name) = &default_profile {
            if !profiles.contains_key(name) {
                problems.push(Problem {
                    path: at("default_profile"),
                    message: unknown_profile(name, profiles),
                });
            }
        }
        let currency = Some(get("currency")).filter(|c| !c.is_empty());
        if let Some(Err(message)) = currency.as_deref().map(crate::invoice::check_currency) {
            problems.push(Problem {
                path: at("currency"),
                message,
            });
        }
        let itemisation = match get("itemisation").to_ascii_lowercase().as_str() {
            "" | "true" | "yes" => true,
            "false" | "no" => false,
            other => {
                problems.push(Problem {
                    path: at("itemisation"),
                    message: format!("{other:?} is not true or false"),
                });
                true
            }
        };
        for i in before..problems.len() {
            scopes.push((i, Scope::Customer(id.clone())));
        }
        let groups = get("groups")
            .split(';')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect();
        customers.insert(
            id.clone(),
            Customer {
                id,
                name: get("name"),
                groups,
                default_profile,
                time_zone,
                currency,
                itemisation,
            },
        );
    }
    Ok(customers)
}

fn unknown_profile(name: &str, profiles: &BTreeMap<String, Profile>) -> String {
    let hint = crate::error::did_you_mean(name, profiles.keys().map(String::as_str))
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default();
    format!("no profile is named {name:?}{hint}")
}

fn load_invoices(
    dir: &Path,
    profiles: &BTreeMap<String, Profile>,
    customers: &HashMap<String, Customer>,
    problems: &mut Vec<Problem>,
    scopes: &mut Vec<(usize, Scope)>,
) -> Result<Vec<InvoiceEntry>> {
    let path = dir.join("invoices.csv");
    let rows = read_table(
        &path,
        &["invoice_id", "customer_id", "from", "to"],
        &["profile", "formats"],
        problems,
    )?;
    let mut seen = HashSet::new();
    let mut invoices: Vec<InvoiceEntry> = Vec::new();
    for (line, row) in rows {
        let get = |k: &str| row.get(k).cloned().unwrap_or_default();
        let at = |column: &str| format!("{}:{line}: column {column}", path.display());
        let before = problems.len();
        let invoice_id = get("invoice_id");
        if invoice_id.is_empty() {
            problems.push(Problem {
                path: at("invoice_id"),
                message: "is empty".into(),
            });
            continue;
        } else if !seen.insert(invoice_id.clone()) {
            problems.push(Problem {
                path: at("invoice_id"),
                message: format!("invoice {invoice_id:?} is listed twice"),
            });
            continue;
        }
        // Problems from here on concern only this invoice.
        let confined = problems.len();
        let customer_id = get("customer_id");
        if !customers.contains_key(&customer_id) {
            problems.push(Problem {
                path: at("customer_id"),
                message: format!("customer {customer_id:?} is not in customers.csv"),
            });
        }
        let mut day = |column: &str| {
            let text = get(column);
            parse_date(&text)
                .map_err(|reason| {
                    problems.push(Problem {
                        path: at(column),
                        message: format!("{text:?} {reason}"),
                    })
                })
                .ok()
        };
        let (from, to) = (day("from"), day("to"));
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                problems.push(Problem {
                    path: at("to"),
                    message: format!("the period is empty: from {f} must be before to {t} (to is the first day not billed)"),
                });
            }
        }
        let profile = Some(get("profile")).filter(|p| !p.is_empty());
        if let Some(name) = &profile {
            if !profiles.contains_key(name) {
                problems.push(Problem {
                    path: at("profile"),
                    message: unknown_profile(name, profiles),
                });
            }
        }
        let formats_text = get("formats");
        let formats = if formats_text.is_empty() {
            None
        } else {
            match Format::parse_list(&formats_text, ';') {
                Ok(f) => Some(f),
                Err(message) => {
                    problems.push(Problem {
                        path: at("formats"),
                        message,
                    });
                    None
                }
            }
        };
        let broken = |problems: &Vec<Problem>, scopes: &mut Vec<(usize, Scope)>| {
            for i in confined..problems.len() {
                scopes.push((i, Scope::Invoice(invoice_id.clone())));
            }
            // Kept with an empty period (it takes no record) so a run can
            // report it as failed.
            InvoiceEntry {
                invoice_id: invoice_id.clone(),
                customer_id: customer_id.clone(),
                from: NaiveDate::MIN,
                to: NaiveDate::MIN,
                profile: None,
                formats: None,
                line,
            }
        };
        if problems.len() > before {
            invoices.push(broken(problems, scopes));
            continue;
        }
        let (from, to) = (from.expect("checked"), to.expect("checked"));
        if let Some(at_other) = invoices
            .iter()
            .position(|o| o.customer_id == customer_id && o.from < to && from < o.to)
        {
            // Either row may be the mistyped one: both fail, neither bills
            // the records they share.
            let other = invoices[at_other].clone();
            problems.push(Problem {
                path: format!("{}:{}: column from", path.display(), other.line),
                message: format!(
                    "invoice {:?} overlaps invoice {invoice_id:?} of the same customer ({from} to {to}); a record would be billed twice",
                    other.invoice_id
                ),
            });
            scopes.push((problems.len() - 1, Scope::Invoice(other.invoice_id.clone())));
            invoices[at_other].from = NaiveDate::MIN;
            invoices[at_other].to = NaiveDate::MIN;
            problems.push(Problem {
                path: at("from"),
                message: format!(
                    "invoice {invoice_id:?} overlaps invoice {:?} of the same customer ({} to {}); a record would be billed twice",
                    other.invoice_id, other.from, other.to
                ),
            });
            invoices.push(broken(problems, scopes));
            continue;
        }
        invoices.push(InvoiceEntry {
            invoice_id,
            customer_id,
            from,
            to,
            profile,
            formats,
            line,
        });
    }
    Ok(invoices)
}
