//! The console: the catalogue in the browser, served by `usage-report serve`
//! at `/` beside the JSON API. Pages are rendered on the server from
//! templates that escape every value (maud), with no script at all; forms
//! post back and each answer is a page, a redirect or a download. Every
//! request is authorised on the server with the role's permission (a
//! forged post for a forbidden action gets 403 like the API's), through a
//! session cookie (HttpOnly, SameSite=Strict) and, on every post, the
//! session's anti-forgery token and a same-origin check. The work itself is
//! the API's: each handler calls an action (`actions`).

// A handler's answer is a response either way (a page, or the page saying
// why not): both sides of its `Result` are `Response`s, large by nature.
#![allow(clippy::result_large_err)]

mod editor;
mod pages;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::Value;

use self::editor::{Choices, Notes, ProfileForm};
use self::pages::{csrf_field, html, link, page, refusal, Fields};
use super::actions::{self, Reference};
use super::sessions::Session;
use super::users::Permission;
use super::work::{PreviewReport, SampleAsk};
use super::{ApiError, App};
use crate::profile::ExpertLevel;
use crate::render::Format;

/// The session cookie's name.
const COOKIE: &str = "usage_report_session";

type Page = Result<Response, Response>;
type Q = Query<HashMap<String, String>>;

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/static/console.css", get(stylesheet))
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signout", post(sign_out))
        .route("/profiles", get(profiles))
        .route("/expert-level", post(expert_level))
        .route("/profiles/new", get(new_profile))
        .route("/profiles/edit", get(edit_profile))
        .route("/profiles/form", post(profile_form))
        .route("/profiles/historic", post(make_historic))
        .route("/profiles/delete", post(delete_profile))
        .route(
            "/customers",
            get(|State(app), headers, Query(query)| table(app, headers, query, customers_page)),
        )
        .route(
            "/customers/profile",
            post(|State(app), headers, body| {
                set_profile(app, headers, body, Reference::CustomerDefault)
            }),
        )
        .route(
            "/invoices",
            get(|State(app), headers, Query(query)| table(app, headers, query, invoices_page)),
        )
        .route(
            "/invoices/profile",
            post(|State(app), headers, body| set_profile(app, headers, body, Reference::Invoice)),
        )
        .route("/attachments", get(attachment))
        .route("/samples", get(samples_page).post(sample))
        .route("/runs", get(runs_page).post(start_run))
        .route("/runs/view", get(run_page))
        .route("/audit", get(audit))
        .layer(axum::middleware::from_fn(pages::secure_headers))
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .with_state(app)
}

/// A signed-in visitor: the session and its cookie's token.
struct Visitor {
    token: String,
    session: Session,
}

impl Visitor {
    fn who(&self) -> Option<(&Session, &str)> {
        Some((&self.session, &self.session.csrf))
    }

    fn may(&self, permission: Permission) -> bool {
        self.session.role.may(permission)
    }

    /// An action's error as a page.
    fn refused(&self, e: ApiError) -> Response {
        refusal(e.status, &e.text(), self.who())
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The visitor of a page, if it may do `permission`: otherwise a redirect
/// to sign in (no or an ended session) or a 403 page.
fn visitor(app: &App, headers: &HeaderMap, permission: Permission) -> Result<Visitor, Response> {
    let Some(token) = cookie_token(headers) else {
        return Err(Redirect::to("/signin").into_response());
    };
    match app.session(&token, permission) {
        Ok(session) => Ok(Visitor { token, session }),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            Err(Redirect::to("/signin?ended=1").into_response())
        }
        Err(e) => {
            // Signed in, but not allowed: the page says so, in the frame.
            let session = app.sessions.find(&token);
            let (message, _) = e.messages();
            Err(refusal(
                StatusCode::FORBIDDEN,
                &message,
                session.as_ref().map(|s| (s, s.csrf.as_str())),
            ))
        }
    }
}

/// A posted form from a visitor who may do `permission`: the same checks as
/// a page, plus the origin (when the browser says it) and the session's
/// anti-forgery token.
fn posted(
    app: &App,
    headers: &HeaderMap,
    body: &Bytes,
    permission: Permission,
) -> Result<(Visitor, Fields), Response> {
    let Some(token) = cookie_token(headers) else {
        return Err(refusal(StatusCode::UNAUTHORIZED, "Sign in first.", None));
    };
    let fields = Fields::parse(body);
    if !same_origin(headers) {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            "The form came from another site.",
            None,
        ));
    }
    let session = match app.session(&token, permission) {
        Ok(session) => session,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            return Err(refusal(
                StatusCode::UNAUTHORIZED,
                "Your session has ended: sign in again.",
                None,
            ))
        }
        Err(e) => {
            let session = app.sessions.find(&token);
            let (message, _) = e.messages();
            return Err(refusal(
                StatusCode::FORBIDDEN,
                &message,
                session.as_ref().map(|s| (s, s.csrf.as_str())),
            ));
        }
    };
    let sent = fields.get("csrf").unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            "The form has expired or did not come from this console: reload the page and try again.",
            Some((&session, &session.csrf)),
        ));
    }
    Ok((Visitor { token, session }, fields))
}

/// Whether a post's `Origin` (when sent) is this server.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

async fn root(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match visitor(&app, &headers, Permission::ReadCatalogue) {
        Ok(v) => see_other(pages::home(&v.session)),
        Err(response) => response,
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("console.css"),
    )
        .into_response()
}

fn sign_in_form(message: Option<&str>, user: &str) -> Markup {
    page(
        "Sign in",
        None,
        "",
        html! {
            @if let Some(message) = message {
                div.notice.bad role="alert" id="notice" { p { (message) } }
            }
            form.narrow method="post" action="/signin" {
                div.field {
                    label for="user" { "User" }
                    input #user type="text" name="user" value=(user) autocomplete="username" required autofocus;
                }
                div.field {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                div.actions { button.primary type="submit" id="sign-in" { "Sign in" } }
            }
        },
    )
}

async fn sign_in_page(Query(query): Q) -> Response {
    let message = query
        .contains_key("ended")
        .then_some("Your session has ended: sign in again.");
    html(StatusCode::OK, sign_in_form(message, ""))
}

async fn sign_in(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let user = fields.get("user").unwrap_or_default();
    if !same_origin(&headers) {
        return refusal(
            StatusCode::FORBIDDEN,
            "The form came from another site.",
            None,
        );
    }
    match actions::sign_in(&app, user, fields.get("password").unwrap_or_default()).await {
        Ok((token, _)) => {
            let session = app.sessions.find(&token).expect("just opened");
            let cookie = format!(
                "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                super::sessions::LIFETIME_SECONDS
            );
            let mut response = see_other(pages::home(&session));
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            let (message, _) = e.messages();
            let message = match e.status {
                StatusCode::UNAUTHORIZED => "Wrong user or password.".to_string(),
                _ => message,
            };
            html(e.status, sign_in_form(Some(&message), user))
        }
    }
}

async fn sign_out(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    match posted(&app, &headers, &body, Permission::ReadCatalogue) {
        Ok((v, _)) => app.sessions.close(&v.token),
        // A post without a valid session or token ends nothing.
        Err(response) if response.status() != StatusCode::UNAUTHORIZED => return response,
        Err(_) => {}
    }
    let mut response = see_other("/signin");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        ))
        .expect("a valid header"),
    );
    response
}

// ---- Profiles -----------------------------------------------------------

async fn profiles(State(app): State<Arc<App>>, headers: HeaderMap, Query(query): Q) -> Page {
    let v = visitor(&app, &headers, Permission::ReadProfiles)?;
    let level = v.session.expert_level;
    let list = actions::profiles(&app, level).map_err(|e| v.refused(e))?;
    let editor = v.may(Permission::EditProfiles);
    let body = html! {
        @if let Some(saved) = query.get("saved") {
            div.notice.good role="status" id="notice" { p { "Saved “" (saved) "”." } }
        }
        @if let Some(gone) = query.get("deleted") {
            div.notice.good role="status" id="notice" { p { "Deleted “" (gone) "”." } }
        }
        div.bar {
            form.inline method="post" action="/expert-level" {
                (csrf_field(&v.session.csrf))
                label for="expert_level" { "Expert level" }
                select #expert_level name="expert_level" {
                    @for l in ExpertLevel::ALL {
                        option value=(l.key()) selected[l == level] { (level_label(l)) }
                    }
                }
                button type="submit" id="expert-level-show" { "Show" }
            }
            @if editor {
                a.button.primary href="/profiles/new" id="add-profile" { "Add Invoice Usage Report Profile" }
            }
        }
        @if level < ExpertLevel::Standard {
            p.help { "Historic profiles are shown from the Standard expert level up." }
        }
        div.scroll {
            table #profiles {
                caption.visually-hidden { "Invoice Usage Report Profiles" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Description" } th scope="col" { "Availability" } th scope="col" { "Restricted to" } th scope="col" { "In use" } } }
                tbody {
                    @for line in &list {
                        @let p = &line.profile;
                        tr {
                            th scope="row" { a href=(link("/profiles/edit", &[("name", &p.name)])) { (p.name) } }
                            td { (p.description) }
                            td { (availability_label(p.availability.key())) }
                            td { (restriction(p)) }
                            td {
                                @if line.used_by.0.is_empty() && line.used_by.1.is_empty() { span.muted { "not in use" } }
                                @else { (pages::count(line.used_by.0.len(), "customer")) ", " (pages::count(line.used_by.1.len(), "invoice")) }
                            }
                        }
                    }
                }
            }
        }
        @if list.is_empty() { p { "No profiles at this expert level." } }
    };
    Ok(html(
        StatusCode::OK,
        page("Invoice Usage Report Profiles", v.who(), "/profiles", body),
    ))
}

/// Who may use a profile, in words.
fn restriction(p: &crate::profile::Profile) -> String {
    match (&p.customer, p.customer_groups.is_empty()) {
        (None, true) => "Everyone".into(),
        (Some(c), true) => format!("Customer {c}"),
        (None, false) => format!("Groups {}", p.customer_groups.join(", ")),
        (Some(c), false) => format!("Customer {c}; groups {}", p.customer_groups.join(", ")),
    }
}

fn level_label(level: ExpertLevel) -> &'static str {
    match level {
        ExpertLevel::Basic => "Basic",
        ExpertLevel::Standard => "Standard",
        ExpertLevel::Advanced => "Advanced",
        ExpertLevel::Expert => "Expert",
    }
}

fn availability_label(key: &str) -> &'static str {
    if key == "historic" {
        "Historic"
    } else {
        "Active"
    }
}

async fn expert_level(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::ReadProfiles)?;
    let Some(level) = fields.get("expert_level").and_then(ExpertLevel::from_key) else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "Unknown expert level: expected basic, standard, advanced or expert.",
            v.who(),
        ));
    };
    app.sessions.set_expert_level(&v.token, level);
    Ok(see_other("/profiles"))
}

/// The choices the editor offers, from the catalogue.
fn editor_page(
    app: &App,
    v: &Visitor,
    status: StatusCode,
    form: &ProfileForm,
    mut notes: Notes,
) -> Page {
    let catalog = actions::catalog(app).map_err(|e| v.refused(e))?;
    let mut customers: Vec<(&str, &str)> = catalog
        .customers
        .values()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    customers.sort_unstable();
    let mut groups: Vec<&str> = catalog
        .customers
        .values()
        .flat_map(|c| c.groups.iter().map(String::as_str))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let invoices = catalog
        .invoices
        .iter()
        .map(|i| (i.invoice_id.as_str(), i.customer_id.as_str()))
        .collect();
    if let Some(name) = &form.original {
        notes.used_by = Some(actions::used_by(&catalog, name));
    }
    let choices = Choices {
        customers,
        groups,
        invoices,
    };
    let title = match &form.original {
        Some(name) => format!("Profile “{name}”"),
        None => "Add Invoice Usage Report Profile".to_string(),
    };
    let editable = v.may(Permission::EditProfiles);
    let body = editor::form(form, &choices, &notes, editable, &v.session.csrf);
    Ok(html(status, page(&title, v.who(), "/profiles", body)))
}

async fn new_profile(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let v = visitor(&app, &headers, Permission::EditProfiles)?;
    let mut form = ProfileForm::default();
    form.reports
        .insert("customer".into(), vec!["summary".into()]);
    editor_page(&app, &v, StatusCode::OK, &form, Notes::default())
}

async fn edit_profile(State(app): State<Arc<App>>, headers: HeaderMap, Query(query): Q) -> Page {
    let v = visitor(&app, &headers, Permission::ReadProfiles)?;
    let name = query.get("name").cloned().unwrap_or_default();
    let (doc, version) = actions::profile(&app, &name).map_err(|e| v.refused(e))?;
    let mut form = ProfileForm::from_document(&name, &version, &doc);
    form.preview_invoice = first_invoice_using(&app, &name).unwrap_or_default();
    let mut notes = Notes::default();
    if query.contains_key("saved") {
        notes.message = Some(("Saved.".into(), false));
    }
    editor_page(&app, &v, StatusCode::OK, &form, notes)
}

/// The first invoice the rules give a profile, to preview by default.
fn first_invoice_using(app: &App, name: &str) -> Option<String> {
    let catalog = actions::catalog(app).ok()?;
    catalog
        .invoices
        .iter()
        .find(|i| actions::verdict(&catalog, i).profile.as_deref() == Some(name))
        .map(|i| i.invoice_id.clone())
}

/// Every post of the editor: a column move, a preview or download, or a save.
async fn profile_form(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::EditProfiles)?;
    let mut form = ProfileForm::from_fields(&fields);
    let op = fields.get("op").unwrap_or("save").to_string();
    if form.apply(&op, &fields) {
        return editor_page(&app, &v, StatusCode::OK, &form, Notes::default());
    }
    let saved = match &form.original {
        Some(name) => Some(actions::profile(&app, name).map_err(|e| v.refused(e))?),
        None => None,
    };
    let doc = form.document(saved.as_ref().map(|(d, _)| d));
    let text = serde_json::to_string(&doc).expect("JSON serialises");
    let (value, profile) = match actions::validated(&text) {
        Ok(valid) => valid,
        Err(crate::error::Error::Invalid(problems)) => {
            let mut notes = Notes::default();
            for p in problems.problems {
                notes
                    .problems
                    .entry(editor::field_of(&p.path))
                    .or_default()
                    .push(p.message);
            }
            return editor_page(&app, &v, StatusCode::UNPROCESSABLE_ENTITY, &form, notes);
        }
        Err(e) => return Err(v.refused(e.into())),
    };
    if op == "preview" || op.starts_with("download:") {
        return preview(&app, &v, &form, profile, saved.is_some(), &op).await;
    }
    if op != "save" {
        return Err(refusal(StatusCode::BAD_REQUEST, "Unknown action.", v.who()));
    }
    let result = match &form.original {
        None => actions::create_profile(&app, &v.session.user, &value, &profile).await,
        Some(name) => {
            let version = form.version.clone().unwrap_or_default();
            actions::update_profile(&app, &v.session.user, name, &value, &profile, |current| {
                current == version
            })
            .await
        }
    };
    match result {
        Ok(_) => Ok(see_other(&link("/profiles", &[("saved", &profile.name)]))),
        Err(e) => {
            let (message, _) = e.messages();
            let mut notes = Notes::default();
            match e.status {
                StatusCode::PRECONDITION_FAILED => {
                    notes.message = Some((
                        "Someone saved this profile after you opened it. Your changes are not saved; nothing was overwritten. Reload the saved version to see theirs, then make your change again.".into(),
                        true,
                    ));
                    notes.reload = true;
                }
                StatusCode::CONFLICT => {
                    notes.problems.insert("name".into(), vec![message]);
                }
                _ => notes.message = Some((message, true)),
            }
            editor_page(&app, &v, e.status, &form, notes)
        }
    }
}

/// The preview of the form's profile (and the saved version's) for the
/// chosen invoice, or a download of one format of it.
async fn preview(
    app: &App,
    v: &Visitor,
    form: &ProfileForm,
    profile: crate::profile::Profile,
    saved: bool,
    op: &str,
) -> Page {
    let (dir, inputs) = (app.options.catalog.clone(), app.options.records.clone());
    let invoice = form.preview_invoice.clone();
    if let Some(key) = op.strip_prefix("download:") {
        let format = Format::parse_list(key, ',')
            .ok()
            .and_then(|f| f.first().copied())
            .ok_or_else(|| refusal(StatusCode::BAD_REQUEST, "Unknown format.", v.who()))?;
        let id = invoice.clone();
        let (_, file) = actions::blocking(move || {
            super::work::preview(&dir, &inputs, &profile, &id, Some(format))
        })
        .await
        .map_err(|e| v.refused(actions::relative(app, e)))?;
        let (bytes, name) = file.expect("a download gives a file");
        let extension = name.rsplit('.').next().unwrap_or("bin").to_string();
        return Ok(pages::download(
            bytes,
            actions::media_type(&name),
            &format!("preview-{invoice}.{extension}"),
        ));
    }
    let catalog = actions::catalog(app).map_err(|e| v.refused(e))?;
    // What the rules would say of this profile for this invoice.
    let verdict = catalog
        .invoices
        .iter()
        .find(|i| i.invoice_id == invoice)
        .map(|entry| {
            let mut trial = (*catalog).clone();
            trial.profiles.insert(profile.name.clone(), profile.clone());
            let mut entry = entry.clone();
            entry.profile = Some(profile.name.clone());
            actions::verdict(&trial, &entry)
        });
    let current = saved
        .then(|| catalog.profiles.get(&profile.name).cloned())
        .flatten();
    let id = invoice.clone();
    let (now, before) = actions::blocking(move || {
        let (now, _) = super::work::preview(&dir, &inputs, &profile, &id, None)?;
        let before = match current {
            Some(p) => Some(super::work::preview(&dir, &inputs, &p, &id, None)?.0),
            None => None,
        };
        Ok((now, before))
    })
    .await
    .map_err(|e| v.refused(actions::relative(app, e)))?;
    let notes = Notes {
        preview: Some(preview_table(&invoice, &now, before.as_deref(), verdict)),
        ..Notes::default()
    };
    editor_page(app, v, StatusCode::OK, form, notes)
}

fn preview_table(
    invoice: &str,
    now: &[PreviewReport],
    before: Option<&[PreviewReport]>,
    verdict: Option<actions::Verdict>,
) -> Markup {
    let mut keys: Vec<(String, String)> = now
        .iter()
        .chain(before.into_iter().flatten())
        .map(|r| (r.level.clone(), r.report.clone()))
        .collect();
    keys.dedup();
    let mut seen = Vec::new();
    keys.retain(|k| {
        let new = !seen.contains(k);
        seen.push(k.clone());
        new
    });
    let find = |list: &[PreviewReport], k: &(String, String)| {
        list.iter()
            .find(|r| r.level == k.0 && r.report == k.1)
            .cloned()
    };
    let cell = |r: Option<PreviewReport>| {
        html! {
            @match r {
                Some(r) => { td.num { (r.rows) } td { (r.columns.join(", ")) } }
                None => { td.num { "—" } td { "not in this version" } }
            }
        }
    };
    html! {
        section #preview-result aria-live="polite" {
            h2 { "Preview for " (invoice) }
            @if let Some(v) = verdict {
                @if v.status == "refused" {
                    p.notice.bad { "The profile rules would refuse this profile for this invoice: " (v.reason.unwrap_or_default()) }
                }
            }
            div.scroll {
                table #preview-table {
                    thead {
                        tr {
                            th scope="col" rowspan="2" { "Report" }
                            th scope="colgroup" colspan="2" { "This form" }
                            @if before.is_some() { th scope="colgroup" colspan="2" { "Saved version" } }
                        }
                        tr {
                            th scope="col" { "Rows" } th scope="col" { "Columns" }
                            @if before.is_some() { th scope="col" { "Rows" } th scope="col" { "Columns" } }
                        }
                    }
                    tbody {
                        @for k in &keys {
                            @let changed = before.is_some_and(|b| find(now, k) != find(b, k));
                            tr.changed[changed] {
                                th scope="row" { (report_title(&k.0, &k.1)) @if changed { " " span.badge { "changed" } } }
                                (cell(find(now, k)))
                                @if let Some(before) = before { (cell(find(before, k))) }
                            }
                        }
                    }
                }
            }
            @if keys.is_empty() { p { "No reports." } }
        }
    }
}

fn report_title(level: &str, report: &str) -> String {
    let level = crate::level::Level::from_key(level).map_or(level, |l| l.label());
    let report = crate::level::ReportKind::from_key(report).map_or(report, |k| k.label());
    format!("{level} {}", report.to_lowercase())
}

/// Makes a profile historic: the saved document with `availability =
/// "historic"`, version-checked like any save.
async fn make_historic(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::EditProfiles)?;
    let name = fields.get("name").unwrap_or_default().to_string();
    let version = fields.get("version").unwrap_or_default().to_string();
    let (mut doc, _) = actions::profile(&app, &name).map_err(|e| v.refused(e))?;
    doc["availability"] = Value::from("historic");
    let text = serde_json::to_string(&doc).expect("JSON serialises");
    let (value, profile) = actions::validated(&text).map_err(|e| v.refused(e.into()))?;
    match actions::update_profile(&app, &v.session.user, &name, &value, &profile, |current| {
        current == version
    })
    .await
    {
        Ok(_) => Ok(see_other(&link("/profiles", &[("saved", &name)]))),
        Err(e) if e.status == StatusCode::PRECONDITION_FAILED => {
            let (doc, version) = actions::profile(&app, &name).map_err(|e| v.refused(e))?;
            let form = ProfileForm::from_document(&name, &version, &doc);
            let notes = Notes {
                message: Some(("Someone saved this profile after you opened it; it was not changed. Here is the saved version: make it historic again if you still want to.".into(), true)),
                ..Notes::default()
            };
            editor_page(&app, &v, StatusCode::PRECONDITION_FAILED, &form, notes)
        }
        Err(e) => Err(v.refused(e)),
    }
}

async fn delete_profile(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::EditProfiles)?;
    let name = fields.get("name").unwrap_or_default().to_string();
    actions::delete_profile(&app, &v.session.user, &name)
        .await
        .map_err(|e| v.refused(e))?;
    Ok(see_other(&link("/profiles", &[("deleted", &name)])))
}

// ---- Customers and invoices ---------------------------------------------

/// A select of every profile (and none) for a row's form.
fn profile_select(id: &str, names: &[&str], chosen: Option<&str>) -> Markup {
    html! {
        select id=(id) name="profile" {
            option value="" selected[chosen.is_none()] { "— none —" }
            @if let Some(c) = chosen {
                @if !names.contains(&c) { option value=(c) selected { (c) } }
            }
            @for n in names { option value=(n) selected[chosen == Some(*n)] { (n) } }
        }
    }
}

fn verdict_cell(v: &actions::Verdict) -> Markup {
    html! {
        @match v.status {
            "would_render" => { span.ok { "would render with " (v.profile.as_deref().unwrap_or("")) } }
            "no_profile" => { span.muted { "no profile: " (v.reason.as_deref().unwrap_or("")) } }
            _ => { span.bad { "refused: " (v.reason.as_deref().unwrap_or("")) } }
        }
    }
}

/// A row's outcome after a post: which row, and what happened.
type RowNote = Option<(String, String, bool)>;

/// A row's profile: a form to change it for editors, its name for others,
/// and the row's outcome after a post.
fn profile_cell(
    v: &Visitor,
    editor: bool,
    reference: Reference,
    key: &str,
    names: &[&str],
    chosen: Option<&str>,
    note: &RowNote,
) -> Markup {
    let (kind, action, label) = match reference {
        Reference::CustomerDefault => ("customer", "/customers/profile", "Default profile of"),
        Reference::Invoice => ("invoice", "/invoices/profile", "Profile of invoice"),
    };
    let id = format!("{kind}-{}", pages::slug(key));
    html! {
        @if editor {
            form.inline method="post" action=(action) {
                (csrf_field(&v.session.csrf))
                input type="hidden" name="id" value=(key);
                label.visually-hidden for=(id) { (label) " " (key) }
                (profile_select(&id, names, chosen))
                button type="submit" { "Save" }
            }
        } @else {
            (chosen.unwrap_or("—"))
        }
        (row_note(note, key))
    }
}

/// A page of a catalogue table, with a row's outcome.
type TablePage = fn(&App, &Visitor, StatusCode, RowNote) -> Page;

fn row_note(note: &RowNote, key: &str) -> Markup {
    html! {
        @if let Some((row, message, bad)) = note {
            @if row == key {
                p class=(if *bad { "row-note bad" } else { "row-note good" }) role=(if *bad { "alert" } else { "status" }) { (message) }
            }
        }
    }
}

/// A catalogue table's page, with "Saved." on the row just changed.
async fn table(
    app: Arc<App>,
    headers: HeaderMap,
    query: HashMap<String, String>,
    page: TablePage,
) -> Page {
    let v = visitor(&app, &headers, Permission::ReadCatalogue)?;
    let note = query
        .get("saved")
        .map(|id| (id.clone(), "Saved.".to_string(), false));
    page(&app, &v, StatusCode::OK, note)
}

fn customers_page(app: &App, v: &Visitor, status: StatusCode, note: RowNote) -> Page {
    let catalog = actions::catalog(app).map_err(|e| v.refused(e))?;
    let editor = v.may(Permission::EditProfiles);
    let mut names: Vec<&str> = catalog.profiles.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut list: Vec<_> = catalog.customers.values().collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    let body = html! {
        p.help { "A customer's default profile decides the usage attachment of its invoices that name none of their own." }
        div.scroll {
            table #customers {
                thead { tr { th scope="col" { "Customer" } th scope="col" { "Name" } th scope="col" { "Groups" } th scope="col" { "Time zone" } th scope="col" { "Currency" } th scope="col" { "Default profile" } th scope="col" { "New invoices" } } }
                tbody {
                    @for c in &list {
                        @let probe = crate::run::catalog::InvoiceEntry {
                            invoice_id: String::new(),
                            customer_id: c.id.clone(),
                            from: chrono::NaiveDate::MIN,
                            to: chrono::NaiveDate::MIN,
                            profile: None,
                            formats: None,
                            line: 0,
                        };
                        tr {
                            th scope="row" { (c.id) }
                            td { (c.name) }
                            td { (c.groups.join(", ")) }
                            td { (c.time_zone.name()) }
                            td { (c.currency.as_deref().unwrap_or("")) }
                            td { (profile_cell(v, editor, Reference::CustomerDefault, &c.id, &names, c.default_profile.as_deref(), &note)) }
                            td { (verdict_cell(&actions::verdict(&catalog, &probe))) }
                        }
                    }
                }
            }
        }
    };
    Ok(html(status, page("Customers", v.who(), "/customers", body)))
}

/// Points a customer (its default) or an invoice at a profile, or none; a
/// refused choice is shown on its row, not saved.
async fn set_profile(app: Arc<App>, headers: HeaderMap, body: Bytes, reference: Reference) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::EditProfiles)?;
    let id = fields.get("id").unwrap_or_default().to_string();
    let choice = fields
        .get("profile")
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let (path, page): (_, TablePage) = match reference {
        Reference::CustomerDefault => ("/customers", customers_page),
        Reference::Invoice => ("/invoices", invoices_page),
    };
    match actions::set_profile(&app, &v.session.user, reference, &id, choice).await {
        Ok(()) => Ok(see_other(&link(path, &[("saved", &id)]))),
        Err(e) => page(
            &app,
            &v,
            e.status,
            Some((id, format!("Not saved: {}", e.text()), true)),
        ),
    }
}

/// The attachments an invoice's manifest lists, if it was rendered.
fn rendered(app: &App, folder: Option<&String>) -> Vec<String> {
    let Some(folder) = folder else {
        return Vec::new();
    };
    std::fs::read(
        app.options
            .out
            .join(folder)
            .join(crate::manifest::MANIFEST_FILE),
    )
    .ok()
    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    .map(|m| {
        m["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["path"].as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

fn attachment_links(invoice: &str, files: &[String]) -> Markup {
    html! {
        @if files.is_empty() { span.muted { "—" } }
        ul.files {
            @for f in files {
                li { a href=(link("/attachments", &[("invoice", invoice), ("file", f)])) { (f) } }
            }
        }
    }
}

fn invoices_page(app: &App, v: &Visitor, status: StatusCode, note: RowNote) -> Page {
    let catalog = actions::catalog(app).map_err(|e| v.refused(e))?;
    let editor = v.may(Permission::EditProfiles);
    let mut names: Vec<&str> = catalog.profiles.keys().map(String::as_str).collect();
    names.sort_unstable();
    let folders = crate::run::invoice_folders(&catalog);
    let body = html! {
        p.help { "An invoice's own profile wins over its customer's default. The verdict is what a billing run would do." }
        div.scroll {
            table #invoices {
                thead { tr { th scope="col" { "Invoice" } th scope="col" { "Customer" } th scope="col" { "Period (first and last day)" } th scope="col" { "Own profile" } th scope="col" { "Verdict" } th scope="col" { "Attachments" } } }
                tbody {
                    @for i in &catalog.invoices {
                        tr {
                            th scope="row" { (i.invoice_id) }
                            td { (i.customer_id) }
                            // The catalogue's `to` is the first day after; people read the last day.
                            td.nowrap { (i.from) " to " (i.to.pred_opt().unwrap_or(i.to)) }
                            td { (profile_cell(v, editor, Reference::Invoice, &i.invoice_id, &names, i.profile.as_deref(), &note)) }
                            td { (verdict_cell(&actions::verdict(&catalog, i))) }
                            td { (attachment_links(&i.invoice_id, &rendered(app, folders.get(i.invoice_id.as_str())))) }
                        }
                    }
                }
            }
        }
    };
    Ok(html(status, page("Invoices", v.who(), "/invoices", body)))
}

async fn attachment(State(app): State<Arc<App>>, headers: HeaderMap, Query(query): Q) -> Page {
    let v = visitor(&app, &headers, Permission::ReadCatalogue)?;
    let (invoice, file) = (
        query.get("invoice").cloned().unwrap_or_default(),
        query.get("file").cloned().unwrap_or_default(),
    );
    let (bytes, kind) = actions::attachment(&app, &invoice, &file)
        .await
        .map_err(|e| v.refused(e))?;
    Ok(pages::download(bytes, kind, &file))
}

// ---- Samples, runs, audit -----------------------------------------------

fn samples_form(
    app: &App,
    v: &Visitor,
    status: StatusCode,
    fields: &Fields,
    message: Option<String>,
) -> Page {
    let catalog = actions::catalog(app).map_err(|e| v.refused(e))?;
    let mut customers: Vec<_> = catalog.customers.values().collect();
    customers.sort_by(|a, b| a.id.cmp(&b.id));
    let mut names: Vec<&str> = catalog
        .profiles
        .values()
        .filter(|p| p.visible_at(v.session.expert_level))
        .map(|p| p.name.as_str())
        .collect();
    names.sort_unstable();
    let value = |k: &str, default: &str| fields.get(k).unwrap_or(default).to_string();
    let formats = fields.all("formats");
    let body = html! {
        p.help { "A sample renders a customer's period with a profile from generated records — realistic rows, no real calls — to check a layout before it reaches customers." }
        @if let Some(message) = message {
            div.notice.bad role="alert" id="notice" { p { (message) } }
        }
        form.narrow method="post" action="/samples" {
            (csrf_field(&v.session.csrf))
            div.field {
                label for="customer" { "Customer" }
                select #customer name="customer" {
                    @for c in &customers { option value=(c.id) selected[fields.get("customer") == Some(c.id.as_str())] { (c.id) " — " (c.name) } }
                }
            }
            div.field { label for="from" { "From (first day)" } input #from type="date" name="from" value=(value("from", "2026-10-01")) required; }
            div.field { label for="to" { "To (first day after)" } input #to type="date" name="to" value=(value("to", "2026-11-01")) required; }
            div.field {
                label for="profile" { "Profile" }
                select #profile name="profile" {
                    @for n in &names { option value=(n) selected[fields.get("profile") == Some(*n)] { (n) } }
                }
            }
            div.field { label for="rows" { "Rows" } input #rows type="number" min="0" name="rows" value=(value("rows", "200")) required; }
            div.field { label for="seed" { "Seed" } input #seed type="number" min="0" name="seed" value=(value("seed", "1")) required; p.help { "The same seed gives the same sample." } }
            fieldset.field {
                legend { "Formats" }
                div.choices {
                    @for f in ["csv", "xlsx", "pdf"] {
                        label for=(format!("format-{f}")) {
                            input id=(format!("format-{f}")) type="checkbox" name="formats" value=(f) checked[formats.is_empty() || formats.iter().any(|x| x == f)];
                            " " (f.to_uppercase())
                        }
                    }
                }
            }
            div.actions { button.primary type="submit" id="export-sample" { "Download sample (zip)" } }
        }
    };
    Ok(html(status, page("Samples", v.who(), "/samples", body)))
}

async fn samples_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let v = visitor(&app, &headers, Permission::ExportSamples)?;
    samples_form(&app, &v, StatusCode::OK, &Fields(Vec::new()), None)
}

async fn sample(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::ExportSamples)?;
    let number = |k: &str| fields.get(k).and_then(|n| n.trim().parse::<u64>().ok());
    let keys: Vec<String> = fields.all("formats");
    let formats = Format::parse_list(&keys.join(","), ',');
    let (Some(rows), Some(seed), Ok(formats)) = (number("rows"), number("seed"), formats) else {
        let message =
            "Rows and seed are whole numbers, and at least one format is chosen.".to_string();
        return samples_form(
            &app,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            &fields,
            Some(message),
        );
    };
    let text = |k: &str| fields.get(k).unwrap_or_default().to_string();
    let ask = SampleAsk {
        customer: text("customer"),
        from: text("from"),
        to: text("to"),
        profile: text("profile"),
        rows,
        seed,
        formats,
    };
    let name = format!("sample-{}-{}.zip", ask.customer, ask.from);
    match actions::sample(&app, ask).await {
        Ok(zip) => Ok(pages::download(zip, "application/zip", &name)),
        Err(e) => samples_form(&app, &v, e.status, &fields, Some(e.text())),
    }
}

async fn runs_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let v = visitor(&app, &headers, Permission::Render)?;
    let latest = actions::latest_run(&app);
    let body = html! {
        p.help { "A billing run renders every invoice of the catalogue from the server's records into its output folder, each with the profile the rules give it." }
        form method="post" action="/runs" {
            (csrf_field(&v.session.csrf))
            button.primary type="submit" id="start-run" { "Start billing run" }
        }
        @if let Some(id) = latest {
            p { a href=(link("/runs/view", &[("id", &id.to_string())])) id="latest-run" { "Run " (id) } " (the latest)" }
        }
    };
    Ok(html(StatusCode::OK, page("Runs", v.who(), "/runs", body)))
}

async fn start_run(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (v, _) = posted(&app, &headers, &body, Permission::Render)?;
    match actions::start_run(&app, &v.session.user, None).await {
        Ok(id) => Ok(see_other(&link("/runs/view", &[("id", &id.to_string())]))),
        Err(e) if e.status == StatusCode::CONFLICT => {
            let id = e.body["id"].as_str().unwrap_or("").to_string();
            Ok(see_other(&link(
                "/runs/view",
                &[("id", &id), ("busy", "1")],
            )))
        }
        Err(e) => Err(v.refused(e)),
    }
}

async fn run_page(State(app): State<Arc<App>>, headers: HeaderMap, Query(query): Q) -> Page {
    let v = visitor(&app, &headers, Permission::Render)?;
    let id = query.get("id").cloned().unwrap_or_default();
    let view = actions::run_view(&app, &id).map_err(|e| v.refused(e))?;
    let state = view["state"].as_str().unwrap_or("");
    let running = state == "running";
    let n = |k: &str| view[k].as_u64().unwrap_or(0);
    let run = &view["run"];
    let body = html! {
        @if query.contains_key("busy") {
            div.notice.bad role="alert" { p { "A run is under way: one at a time. This is it." } }
        }
        dl.facts #run-progress aria-live="polite" {
            dt { "State" } dd #run-state { (state) }
            dt { "Records read" } dd #records-read { (n("records_read")) }
            dt { "Invoices done" } dd #invoices-done { (n("invoices_done")) " of " (n("invoices")) }
        }
        @if running { p.help { "This page refreshes every second while the run is under way." } }
        @if let Some(error) = view["error"].as_str() {
            div.notice.bad role="alert" { p { "The run failed: " (error) } }
        }
        @if run.is_object() {
            h2 { "Summary" }
            dl.facts #run-summary {
                @for (k, label) in [("invoices", "Invoices"), ("rendered", "Rendered"), ("no_profile", "No profile"), ("refused", "Refused"), ("failed", "Failed")] {
                    dt { (label) } dd id=(format!("summary-{k}")) { (run["summary"][k].as_u64().unwrap_or(0)) }
                }
                dt { "Records" } dd { (run["input"]["records"].as_u64().unwrap_or(0)) }
                dt { "Rejected" } dd { (run["input"]["rejected"].as_u64().unwrap_or(0)) }
            }
            h2 { "Invoices" }
            div.scroll {
                table #run-invoices {
                    thead { tr { th scope="col" { "Invoice" } th scope="col" { "Customer" } th scope="col" { "Status" } th scope="col" { "Reason" } th scope="col" { "Profile" } th scope="col" { "Attachments" } } }
                    tbody {
                        @for i in run["invoices"].as_array().into_iter().flatten() {
                            @let invoice = i["invoice"].as_str().unwrap_or("");
                            @let folder = i["folder"].as_str().map(str::to_string);
                            tr {
                                th scope="row" { (invoice) }
                                td { (i["customer"].as_str().unwrap_or("")) }
                                td.status { (i["status"].as_str().unwrap_or("")) }
                                td { (i["reason"].as_str().unwrap_or("")) }
                                td { (i["profile"].as_str().unwrap_or("")) }
                                td { (attachment_links(invoice, &rendered(&app, folder.as_ref()))) }
                            }
                        }
                    }
                }
            }
        }
    };
    let mut response = html(
        StatusCode::OK,
        page(&format!("Run {id}"), v.who(), "/runs", body),
    );
    if running {
        response
            .headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("1"));
    }
    Ok(response)
}

async fn audit(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let v = visitor(&app, &headers, Permission::Audit)?;
    let entries = actions::audit_entries(&app).map_err(|e| v.refused(e))?;
    let text = |e: &Value, k: &str| e[k].as_str().unwrap_or("").to_string();
    let body = html! {
        p.help { "Every change made through the service, newest first." }
        div.scroll {
            table #audit {
                thead { tr { th scope="col" { "Time (UTC)" } th scope="col" { "User" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Before" } th scope="col" { "After" } } }
                tbody {
                    @for e in entries.iter().rev() {
                        tr { td { (text(e, "time")) } td { (text(e, "user")) } td { (text(e, "action")) } td { (text(e, "target")) } td { code { (text(e, "before")) } } td { code { (text(e, "after")) } } }
                    }
                }
            }
        }
    };
    Ok(html(StatusCode::OK, page("Audit", v.who(), "/audit", body)))
}
