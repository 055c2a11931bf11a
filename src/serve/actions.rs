//! What the service does, once, for both of its faces: the JSON API
//! (`api`) and the browser console (`console`) parse a request their own
//! way, authorise it, then call one of these. Each takes already-parsed
//! values, applies the catalogue's rules, writes atomically, audits, and
//! fails with an [`ApiError`] whose status both faces show.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::users::{User, Users};
use super::{store, work, ApiError, App};
use crate::profile::{ExpertLevel, Files, Profile};
use crate::render::Format;
use crate::run::catalog::{Catalog, InvoiceEntry, Resolution};

/// The catalogue as it is on disk now: loaded again only when one of its
/// files changed (name, size or modification time).
pub fn catalog(app: &App) -> Result<Arc<Catalog>, ApiError> {
    let dir = &app.options.catalog;
    let mut stamp = Vec::new();
    let profiles = std::fs::read_dir(dir.join("profiles"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path());
    for path in profiles.chain([dir.join("customers.csv"), dir.join("invoices.csv")]) {
        if let Ok(meta) = std::fs::metadata(&path) {
            stamp.push((
                path,
                meta.len(),
                meta.modified().unwrap_or(std::time::UNIX_EPOCH),
            ));
        }
    }
    stamp.sort();
    let mut loaded = app.loaded.lock().expect("no panics while holding the lock");
    if let Some((seen, catalog)) = loaded.as_ref() {
        if *seen == stamp {
            return Ok(catalog.clone());
        }
    }
    let catalog = Arc::new(Catalog::load(dir).map_err(|e| relative(app, e.into()))?);
    *loaded = Some((stamp, catalog.clone()));
    Ok(catalog)
}

/// A library error's text with the catalogue folder's path taken out: a
/// client learns which file, not where the server keeps it.
pub fn relative(app: &App, mut error: ApiError) -> ApiError {
    let dir = app.options.catalog.display().to_string();
    if let Ok(text) = serde_json::to_string(&error.body) {
        let dir = dir.replace('\\', "\\\\");
        let text = text
            .replace(&format!("{dir}/"), "")
            .replace(&format!("catalogue {dir}"), "the catalogue")
            .replace(&dir, "the catalogue");
        if let Ok(body) = serde_json::from_str(&text) {
            error.body = body;
        }
    }
    error
}

/// An I/O or library error of the server's own files, made relative.
fn local(app: &App, e: crate::error::Error) -> ApiError {
    relative(app, e.into())
}

pub fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no {what}"))
}

/// Checks a user's password (on the blocking pool, a few at a time, with
/// the brake on guessing) and opens a session: its token and the user.
pub async fn sign_in(app: &App, name: &str, password: &str) -> Result<(String, User), ApiError> {
    if name.len() > super::sessions::MAX_USER_NAME {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong user or password",
        ));
    }
    if !app.sessions.begin(name) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong passwords for this user: wait a minute",
        ));
    }
    let permit = app.checks.acquire().await;
    let dir = app.options.catalog.clone();
    let (name_owned, password) = (name.to_string(), password.to_string());
    let user = tokio::task::spawn_blocking(move || {
        let users = Users::load(&dir)?;
        Ok::<_, crate::error::Error>(users.verify(&name_owned, &password).cloned())
    })
    .await;
    drop(permit);
    // The slot is given back whatever happened.
    let user = match user {
        Ok(Ok(user)) => user,
        Ok(Err(e)) => {
            app.sessions.end(name, false);
            return Err(e.into());
        }
        Err(_) => {
            app.sessions.end(name, false);
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "sign-in failed",
            ));
        }
    };
    app.sessions.end(name, user.is_some());
    let Some(user) = user else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong user or password",
        ));
    };
    let token = app
        .sessions
        .open(&user)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok((token, user))
}

/// One line of the profiles list.
pub struct ProfileLine {
    pub profile: Profile,
    pub version: String,
    pub used_by: UsedBy,
}

/// The profiles shown at an expert level, by name.
pub fn profiles(app: &App, level: ExpertLevel) -> Result<Vec<ProfileLine>, ApiError> {
    let catalog = catalog(app)?;
    let mut list = Vec::new();
    for p in catalog.profiles.values().filter(|p| p.visible_at(level)) {
        let path = &catalog.profile_files[&p.name];
        let bytes =
            std::fs::read(path).map_err(|e| local(app, crate::error::Error::io(path, e)))?;
        list.push(ProfileLine {
            profile: p.clone(),
            version: store::version(&bytes),
            used_by: used_by(&catalog, &p.name),
        });
    }
    list.sort_by(|a, b| a.profile.name.cmp(&b.profile.name));
    Ok(list)
}

/// A profile's document (the shape of profile files) and version.
pub fn profile(app: &App, name: &str) -> Result<(Value, String), ApiError> {
    let catalog = catalog(app)?;
    let path = profile_path(&catalog, name)?;
    store::profile_document(path).map_err(|e| local(app, e))
}

/// The file of a profile (404 when no profile has the name).
fn profile_path<'c>(catalog: &'c Catalog, name: &str) -> Result<&'c std::path::PathBuf, ApiError> {
    catalog
        .profile_files
        .get(name)
        .ok_or_else(|| not_found("profile of that name"))
}

/// Who names a profile: customers as their default, invoices as their own.
#[derive(Clone, Debug, Default)]
pub struct UsedBy {
    pub customers: Vec<String>,
    pub invoices: Vec<String>,
}

impl UsedBy {
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty() && self.invoices.is_empty()
    }
}

/// The customers whose default a profile is, and the invoices naming it.
pub fn used_by(catalog: &Catalog, name: &str) -> UsedBy {
    let mut customers: Vec<String> = catalog
        .customers
        .values()
        .filter(|c| c.default_profile.as_deref() == Some(name))
        .map(|c| c.id.clone())
        .collect();
    customers.sort_unstable();
    let invoices = catalog
        .invoices
        .iter()
        .filter(|i| i.profile.as_deref() == Some(name))
        .map(|i| i.invoice_id.clone())
        .collect();
    UsedBy {
        customers,
        invoices,
    }
}

/// Where the files a profile from a client names (its logo) may be: in
/// the catalogue's profiles folder, by relative paths, as they are read
/// when the saved profile is loaded again.
pub fn client_files(app: &App) -> PathBuf {
    app.options.catalog.join("profiles")
}

/// A profile document, validated completely (every problem at once); a
/// `version` key is not part of it. Files it names lead where `files`
/// says: [`Files::Within`] the catalogue for what a client sends.
pub fn validated(text: &str, files: Files) -> crate::error::Result<(Value, Profile)> {
    // Parsed as JSON profile files are: a key written twice is a problem.
    let mut value = Profile::document(text, true, "in the request")?;
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
    }
    let text = serde_json::to_string(&value).expect("JSON serialises");
    let profile = Profile::parse_with_files(&text, true, "in the request", files)?;
    Ok((value, profile))
}

/// Adds a profile as a new TOML file; 409 when the name is taken. Returns
/// its version.
pub async fn create_profile(
    app: &App,
    user: &str,
    value: &Value,
    profile: &Profile,
) -> Result<String, ApiError> {
    let _write = app.writes.lock().await;
    let catalog = catalog(app)?;
    let key = look_alike_key(&profile.name);
    if let Some(existing) = catalog.profiles.keys().find(|n| look_alike_key(n) == key) {
        let message = if *existing == profile.name {
            format!("a profile named {existing:?} exists")
        } else {
            format!(
                "a profile named {existing:?} exists, which reads the same as {:?} (they differ only in case, width or invisible characters)",
                profile.name
            )
        };
        return Err(ApiError::new(StatusCode::CONFLICT, message));
    }
    let path = store::new_profile_path(&catalog, &app.options.catalog, &profile.name);
    let bytes = store::profile_text(value, false).map_err(ApiError::from)?;
    crate::output::write_atomically(&path, &bytes).map_err(|e| local(app, e))?;
    let version = store::version(&bytes);
    store::audit(
        &app.options.catalog,
        user,
        "create profile",
        &profile.name,
        None,
        Some(&version),
    )
    .map_err(|e| local(app, e))?;
    Ok(version)
}

/// A name as people read it: Unicode-normalised, case-folded, without
/// invisible format characters — two names with one key cannot be told
/// apart in a list.
fn look_alike_key(name: &str) -> String {
    let visible: String = name
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
            )
        })
        .collect();
    crate::output::name_key(&visible)
}

/// Replaces a profile's document, if `edited` accepts its current version
/// (412 with the current version otherwise: nothing is overwritten unseen).
/// A TOML file keeps its comments and unchanged keys. Returns the new
/// version.
pub async fn update_profile(
    app: &App,
    user: &str,
    name: &str,
    value: &Value,
    profile: &Profile,
    edited: impl Fn(&str) -> bool,
) -> Result<String, ApiError> {
    if profile.name != name {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the body names profile {:?}, the address {name:?}: a profile is not renamed; create a new one and make this one historic", profile.name)));
    }
    let _write = app.writes.lock().await;
    let catalog = catalog(app)?;
    let path = profile_path(&catalog, name)?;
    let (_, current) = store::profile_document(path).map_err(|e| local(app, e))?;
    if !edited(&current) {
        return Err(ApiError::with(
            StatusCode::PRECONDITION_FAILED,
            json!({
                "error": CHANGED_SINCE_READ,
                "version": current,
            }),
        ));
    }
    // Retiring or restricting a profile must not stop what renders now.
    let mut after = (*catalog).clone();
    after.profiles.insert(name.to_string(), profile.clone());
    let stopped = stopped_by(&catalog, &after);
    if !stopped.is_empty() {
        return Err(ApiError::with(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "error": format!(
                    "the change would stop what renders with {name:?} now — {}; point them at another profile first",
                    stopped.join("; ")
                ),
                "stopped": stopped,
            }),
        ));
    }
    let json_file = path.extension().is_some_and(|e| e == "json");
    let bytes = if json_file {
        store::profile_text(value, true).map_err(ApiError::from)?
    } else {
        let original = std::fs::read_to_string(path)
            .map_err(|e| local(app, crate::error::Error::io(path, e)))?;
        store::edited_toml(&original, value).map_err(ApiError::from)?
    };
    let version = store::version(&bytes);
    if version == current {
        // Nothing changed: no write, nothing to audit.
        return Ok(version);
    }
    crate::output::write_atomically(path, &bytes).map_err(|e| local(app, e))?;
    store::audit(
        &app.options.catalog,
        user,
        "update profile",
        name,
        Some(&current),
        Some(&version),
    )
    .map_err(|e| local(app, e))?;
    Ok(version)
}

/// Why a profile was not saved when someone saved it in between.
pub const CHANGED_SINCE_READ: &str =
    "the profile changed since you read it: reload it, then apply your change again";

/// What renders with `before` and would be refused with `after`: each
/// invoice of the catalogue, and each customer's default for new invoices,
/// with the reason.
fn stopped_by(before: &Catalog, after: &Catalog) -> Vec<String> {
    let mut stopped = Vec::new();
    let mut customers: Vec<&String> = before.customers.keys().collect();
    customers.sort_unstable();
    let probes = customers.into_iter().map(|c| {
        (
            format!("customer {c}'s new invoices"),
            before.default_probe(c),
        )
    });
    let invoices = before
        .invoices
        .iter()
        .map(|i| (format!("invoice {}", i.invoice_id), i.clone()));
    for (what, entry) in probes.chain(invoices) {
        if let (Resolution::Use(_), Resolution::Refused(reason)) =
            (before.resolve(&entry), after.resolve(&entry))
        {
            stopped.push(format!("{what} ({reason})"));
        }
    }
    stopped
}

/// Removes a profile no customer or invoice names (409 listing them
/// otherwise: make it historic instead).
pub async fn delete_profile(app: &App, user: &str, name: &str) -> Result<(), ApiError> {
    let _write = app.writes.lock().await;
    let catalog = catalog(app)?;
    let path = profile_path(&catalog, name)?;
    let UsedBy {
        customers,
        invoices,
    } = used_by(&catalog, name);
    if !customers.is_empty() || !invoices.is_empty() {
        return Err(ApiError::with(
            StatusCode::CONFLICT,
            json!({
                "error": format!("profile {name:?} is in use: make it historic instead (availability = \"historic\"); invoices that name it keep it"),
                "customers": customers,
                "invoices": invoices,
            }),
        ));
    }
    let (_, version) = store::profile_document(path).map_err(|e| local(app, e))?;
    std::fs::remove_file(path)
        .and_then(|()| std::fs::File::open(app.options.catalog.join("profiles"))?.sync_all())
        .map_err(|e| local(app, crate::error::Error::io(path, e)))?;
    store::audit(
        &app.options.catalog,
        user,
        "delete profile",
        name,
        Some(&version),
        None,
    )
    .map_err(|e| local(app, e))
}

/// What the profile rules make of an invoice, as `run.json` says it.
pub struct Verdict {
    pub status: Status,
    pub profile: Option<String>,
    pub reason: Option<String>,
}

/// The rules' verdict on an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    WouldRender,
    NoProfile,
    Refused,
}

impl Status {
    /// As the API and `run.json` spell it.
    pub fn key(self) -> &'static str {
        match self {
            Status::WouldRender => "would_render",
            Status::NoProfile => "no_profile",
            Status::Refused => "refused",
        }
    }
}

pub fn verdict(catalog: &Catalog, entry: &InvoiceEntry) -> Verdict {
    match catalog.resolve(entry) {
        Resolution::Use(p) => Verdict {
            status: Status::WouldRender,
            profile: Some(p.name.clone()),
            reason: None,
        },
        Resolution::NoProfile => Verdict {
            status: Status::NoProfile,
            profile: None,
            reason: Some("neither the invoice nor its customer names a profile".into()),
        },
        Resolution::Refused(reason) => Verdict {
            status: Status::Refused,
            profile: None,
            reason: Some(reason),
        },
    }
}

/// Where a profile is chosen: a customer's default or an invoice's own.
#[derive(Clone, Copy)]
pub enum Reference {
    CustomerDefault,
    Invoice,
}

/// Points a customer (its default) or an invoice at a profile, or at none:
/// the catalogue as it would be is checked with the profile rules (a
/// refused choice is 422 with the reason) and with `profiles check`, then
/// the table is written and the change audited.
pub async fn set_profile(
    app: &App,
    user: &str,
    reference: Reference,
    key: &str,
    choice: Option<String>,
) -> Result<(), ApiError> {
    let (table, key_column, column) = match reference {
        Reference::CustomerDefault => ("customers.csv", "customer_id", "default_profile"),
        Reference::Invoice => ("invoices.csv", "invoice_id", "profile"),
    };
    let _write = app.writes.lock().await;
    let mut catalog = (*catalog(app)?).clone();
    if let Some(name) = &choice {
        if !catalog.profiles.contains_key(name) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("no profile is named {name:?}"),
            ));
        }
    }
    let path = app.options.catalog.join(table);
    let before = std::fs::read(&path).map_err(|e| local(app, crate::error::Error::io(&path, e)))?;
    let Some(bytes) = store::set_cell(
        &path,
        key_column,
        key,
        column,
        choice.as_deref().unwrap_or(""),
    )
    .map_err(|e| local(app, e))?
    else {
        return Err(not_found("row with that id"));
    };
    // The rules, applied to the catalogue as it would be.
    let probe = match reference {
        Reference::CustomerDefault => {
            let Some(c) = catalog.customers.get_mut(key) else {
                return Err(not_found("row with that id"));
            };
            c.default_profile = choice.clone();
            // As a default, for a new invoice of this customer.
            catalog.default_probe(key)
        }
        Reference::Invoice => {
            let Some(i) = catalog.invoices.iter_mut().find(|i| i.invoice_id == key) else {
                return Err(not_found("row with that id"));
            };
            i.profile = choice.clone();
            i.clone()
        }
    };
    if let Resolution::Refused(reason) = catalog.resolve(&probe) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, reason));
    }
    // The same validation as `profiles check`, on a copy of the catalogue
    // with the change: the real one never holds a change that fails it.
    store::check_with(&app.options.catalog, table, &bytes).map_err(|e| local(app, e))?;
    crate::output::write_atomically(&path, &bytes).map_err(|e| local(app, e))?;
    store::audit(
        &app.options.catalog,
        user,
        &format!("set {column}"),
        key,
        Some(&store::version(&before)),
        Some(&store::version(&bytes)),
    )
    .map_err(|e| local(app, e))
}

/// The audit log, oldest first.
pub fn audit_entries(app: &App) -> Result<Vec<Value>, ApiError> {
    let path = app.options.catalog.join("audit.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(local(app, crate::error::Error::io(&path, e))),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Runs CPU-bound work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::error::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the work stopped unexpectedly",
            )
        })?
        .map_err(ApiError::from)
}

/// A sample's files as one zip.
pub async fn sample(app: &App, ask: work::SampleAsk) -> Result<Vec<u8>, ApiError> {
    // The profile rules hold for samples too: a profile restricted to other
    // customers is refused (422), as it would be for an invoice naming it.
    let catalog = catalog(app)?;
    if catalog.customers.contains_key(&ask.customer) && catalog.profiles.contains_key(&ask.profile)
    {
        let mut entry = catalog.default_probe(&ask.customer);
        entry.profile = Some(ask.profile.clone());
        if let Resolution::Refused(reason) = catalog.resolve(&entry) {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, reason));
        }
    }
    let _turn = app.renders.acquire().await;
    let (dir, inputs) = (app.options.catalog.clone(), app.options.records.clone());
    blocking(move || work::sample_zip(&dir, &inputs, &ask))
        .await
        .map_err(|e| relative(app, e))
}

/// The preview of a profile (saved or not) for an invoice: its reports, or
/// one format's file when `download` names it (see [`work::preview`]).
pub async fn preview(
    app: &App,
    profile: Profile,
    invoice: &str,
    download: Option<Format>,
) -> Result<(Vec<work::PreviewReport>, Option<work::Download>), ApiError> {
    let _turn = app.renders.acquire().await;
    let (dir, inputs) = (app.options.catalog.clone(), app.options.records.clone());
    let invoice = invoice.to_string();
    blocking(move || work::preview(&dir, &inputs, &profile, &invoice, download))
        .await
        .map_err(|e| relative(app, e))
}

/// Starts a billing run in the background (409 while one is under way);
/// returns its id.
pub async fn start_run(
    app: &App,
    user: &str,
    formats: Option<Vec<Format>>,
) -> Result<u64, ApiError> {
    let state = {
        let mut runs = app.runs.lock().expect("no panics while holding the lock");
        if let Some(current) = runs.as_ref() {
            if current
                .finished
                .lock()
                .expect("no panics while holding the lock")
                .is_none()
            {
                return Err(ApiError::with(
                    StatusCode::CONFLICT,
                    json!({"error": "a run is under way: one at a time", "id": current.id.to_string()}),
                ));
            }
        }
        let id = runs.as_ref().map_or(1, |r| r.id + 1);
        let state = Arc::new(work::RunState {
            id,
            records: Default::default(),
            done: Default::default(),
            invoices: Default::default(),
            finished: std::sync::Mutex::new(None),
        });
        *runs = Some(state.clone());
        state
    };
    app.metrics
        .lock()
        .expect("no panics while holding the lock")
        .runs += 1;
    let (dir, inputs, out) = (
        app.options.catalog.clone(),
        app.options.records.clone(),
        app.options.out.clone(),
    );
    let running = state.clone();
    // The run has the output folders to itself: renders wait for it.
    let alone = app.output.clone().write_owned().await;
    tokio::task::spawn_blocking(move || {
        work::billing_run(&dir, &inputs, &out, formats, running);
        drop(alone);
    });
    store::audit(
        &app.options.catalog,
        user,
        "start run",
        &state.id.to_string(),
        None,
        None,
    )
    .map_err(|e| local(app, e))?;
    Ok(state.id)
}

/// A run's progress, then its `run.json` (see [`work::RunState::view`]).
pub fn run_view(app: &App, id: &str) -> Result<Value, ApiError> {
    let runs = app.runs.lock().expect("no panics while holding the lock");
    let state = runs
        .as_ref()
        .filter(|r| r.id.to_string() == id)
        .ok_or_else(|| not_found("run with that id"))?;
    let view = state.view();
    drop(runs);
    Ok(relative(app, ApiError::with(StatusCode::OK, view)).body)
}

/// The id of the latest run started through the service, if any.
pub fn latest_run(app: &App) -> Option<u64> {
    app.runs
        .lock()
        .expect("no panics while holding the lock")
        .as_ref()
        .map(|r| r.id)
}

/// A file the invoice's manifest lists, and nothing else (`..` included):
/// its bytes and media type.
pub async fn attachment(
    app: &App,
    id: &str,
    file: &str,
) -> Result<(Vec<u8>, &'static str), ApiError> {
    let catalog = catalog(app)?;
    let folders = crate::run::invoice_folders(&catalog);
    let folder = folders
        .get(id)
        .ok_or_else(|| not_found("such attachment"))?;
    let dir = app.options.out.join(folder);
    let manifest = crate::manifest::read_back(&dir).ok_or_else(|| not_found("such attachment"))?;
    if !crate::manifest::listed_files(&manifest)
        .iter()
        .any(|f| f == file)
    {
        return Err(not_found("such attachment"));
    }
    let bytes = tokio::fs::read(dir.join(file))
        .await
        .map_err(|_| not_found("such attachment"))?;
    Ok((bytes, media_type(file)))
}

/// The media type of an attachment by its extension.
pub fn media_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}
