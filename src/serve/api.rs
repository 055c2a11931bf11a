//! The routes of the API and their handlers. Each parses its request,
//! authorises it on the server, calls the library, and answers JSON.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::store;
use super::users::{Permission, Users};
use super::{ApiError, App};
use crate::profile::{ExpertLevel, Profile};
use crate::run::catalog::{Catalog, InvoiceEntry, Resolution};

/// Largest request body accepted (a profile is a few KiB).
const BODY_LIMIT: usize = 1 << 20;

type Answer = Result<Response, ApiError>;

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/profiles", get(list_profiles).post(create_profile))
        .route(
            "/api/profiles/{name}",
            get(show_profile).put(update_profile).delete(delete_profile),
        )
        .route("/api/customers", get(list_customers))
        .route(
            "/api/customers/{id}/default_profile",
            put(set_default_profile),
        )
        .route("/api/invoices", get(list_invoices))
        .route("/api/invoices/{id}/profile", put(set_invoice_profile))
        .route("/api/audit", get(audit))
        .route("/api/invoices/{id}/render", post(render_invoice))
        .route("/api/invoices/{id}/attachments/{file}", get(attachment))
        .route("/api/samples", post(sample))
        .route("/api/runs", post(start_run))
        .route("/api/runs/{id}", get(show_run))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(app.clone(), count))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
}

/// The catalogue as it is on disk now: loaded again only when one of its
/// files changed (name, size or modification time).
fn catalog(app: &App) -> Result<Arc<Catalog>, ApiError> {
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
fn relative(app: &App, mut error: ApiError) -> ApiError {
    let dir = app.options.catalog.display().to_string();
    if let Ok(text) = serde_json::to_string(&error.body) {
        let dir = dir.replace('\\', "\\\\");
        let text = text
            .replace(&format!("{dir}/"), "")
            .replace(&dir, "the catalogue");
        if let Ok(body) = serde_json::from_str(&text) {
            error.body = body;
        }
    }
    error
}

fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

async fn login(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let value = body_json(&body)?;
    let (Some(name), Some(password)) = (value["user"].as_str(), value["password"].as_str()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "expected {\"user\", \"password\"}",
        ));
    };
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
    Ok(Json(json!({
        "token": token,
        "role": user.role.key(),
        "expert_level": user.expert_level().key(),
    }))
    .into_response())
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Answer {
    app.authorize(&headers, Permission::ReadCatalogue)?;
    if let Some(token) = super::bearer(&headers) {
        app.sessions.close(token);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The expert level a list is shown at: `?expert_level=`, else the user's.
fn expert_level(
    query: &HashMap<String, String>,
    default: ExpertLevel,
) -> Result<ExpertLevel, ApiError> {
    match query.get("expert_level") {
        None => Ok(default),
        Some(key) => ExpertLevel::from_key(key).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "unknown expert level {key:?}; expected basic, standard, advanced or expert"
                ),
            )
        }),
    }
}

async fn list_profiles(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let session = app.authorize(&headers, Permission::ReadProfiles)?;
    let level = expert_level(&query, session.expert_level)?;
    let catalog = catalog(&app)?;
    let mut list = Vec::new();
    for p in catalog.profiles.values().filter(|p| p.visible_at(level)) {
        let path = &catalog.profile_files[&p.name];
        let bytes = std::fs::read(path)
            .map_err(|e| relative(&app, crate::error::Error::io(path, e).into()))?;
        let version = store::version(&bytes);
        list.push(json!({
            "name": p.name,
            "description": p.description,
            "availability": p.availability.key(),
            "customer": p.customer,
            "customer_groups": p.customer_groups,
            "version": version,
        }));
    }
    Ok(Json(Value::Array(list)).into_response())
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no {what}"))
}

async fn show_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Answer {
    app.authorize(&headers, Permission::ReadProfiles)?;
    let catalog = catalog(&app)?;
    let path = catalog
        .profile_files
        .get(&name)
        .ok_or_else(|| not_found("profile of that name"))?;
    let (mut value, version) =
        store::profile_document(path).map_err(|e| relative(&app, e.into()))?;
    value["version"] = json!(version);
    Ok(([(header::ETAG, format!("\"{version}\""))], Json(value)).into_response())
}

/// A profile document from a request body, validated completely: 422 with
/// every problem otherwise. The `version` field, if any, is not part of it.
fn validated(body: &Bytes) -> Result<(Value, Profile), ApiError> {
    // Parsed as JSON profile files are: a key written twice is a problem.
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the body is not UTF-8"))?;
    let mut value = Profile::document(text, true, "in the request").map_err(ApiError::from)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
    }
    let text = serde_json::to_string(&value).expect("JSON serialises");
    let profile = Profile::parse(&text, true, "in the request").map_err(ApiError::from)?;
    Ok((value, profile))
}

async fn create_profile(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    let (value, profile) = validated(&body)?;
    let _write = app.writes.lock().await;
    let catalog = catalog(&app)?;
    if catalog.profiles.contains_key(&profile.name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("a profile named {:?} exists", profile.name),
        ));
    }
    let path = store::new_profile_path(&catalog, &app.options.catalog, &profile.name);
    let bytes = store::profile_text(&value, false).map_err(ApiError::from)?;
    crate::output::write_atomically(&path, &bytes).map_err(|e| relative(&app, e.into()))?;
    let version = store::version(&bytes);
    store::audit(
        &app.options.catalog,
        &session.user,
        "create profile",
        &profile.name,
        None,
        Some(&version),
    )
    .map_err(|e| relative(&app, e.into()))?;
    Ok((
        StatusCode::CREATED,
        [(header::ETAG, format!("\"{version}\""))],
        Json(json!({ "name": profile.name, "version": version })),
    )
        .into_response())
}

/// Whether an `If-Match` header matches the current version: `*`, or one
/// of a list of strong tags (quoted or bare); a weak tag (`W/`) never
/// matches. `None` without the header.
fn if_match(headers: &HeaderMap, current: &str) -> Option<bool> {
    let value = headers.get(header::IF_MATCH)?.to_str().ok()?;
    Some(
        value
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || (!tag.starts_with("W/") && tag.trim_matches('"') == current)),
    )
}

async fn update_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    if !headers.contains_key(header::IF_MATCH) {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "send If-Match with the version you edited, so no change is overwritten unseen",
        ));
    }
    let (value, profile) = validated(&body)?;
    if profile.name != name {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the body names profile {:?}, the address {name:?}: a profile is not renamed; create a new one and make this one historic", profile.name)));
    }
    let _write = app.writes.lock().await;
    let catalog = catalog(&app)?;
    let path = catalog
        .profile_files
        .get(&name)
        .ok_or_else(|| not_found("profile of that name"))?;
    let (_, current) = store::profile_document(path).map_err(|e| relative(&app, e.into()))?;
    if if_match(&headers, &current) != Some(true) {
        return Err(ApiError::with(
            StatusCode::PRECONDITION_FAILED,
            json!({
                "error": "the profile changed since you read it: reload it, then apply your change again",
                "version": current,
            }),
        ));
    }
    let json_file = path.extension().is_some_and(|e| e == "json");
    let bytes = if json_file {
        store::profile_text(&value, true).map_err(ApiError::from)?
    } else {
        let original = std::fs::read_to_string(path)
            .map_err(|e| relative(&app, crate::error::Error::io(path, e).into()))?;
        store::edited_toml(&original, &value).map_err(ApiError::from)?
    };
    crate::output::write_atomically(path, &bytes).map_err(|e| relative(&app, e.into()))?;
    let version = store::version(&bytes);
    store::audit(
        &app.options.catalog,
        &session.user,
        "update profile",
        &name,
        Some(&current),
        Some(&version),
    )
    .map_err(|e| relative(&app, e.into()))?;
    Ok((
        [(header::ETAG, format!("\"{version}\""))],
        Json(json!({ "name": name, "version": version })),
    )
        .into_response())
}

async fn delete_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    let _write = app.writes.lock().await;
    let catalog = catalog(&app)?;
    let path = catalog
        .profile_files
        .get(&name)
        .ok_or_else(|| not_found("profile of that name"))?;
    let mut customers: Vec<&str> = catalog
        .customers
        .values()
        .filter(|c| c.default_profile.as_deref() == Some(name.as_str()))
        .map(|c| c.id.as_str())
        .collect();
    customers.sort_unstable();
    let invoices: Vec<&str> = catalog
        .invoices
        .iter()
        .filter(|i| i.profile.as_deref() == Some(name.as_str()))
        .map(|i| i.invoice_id.as_str())
        .collect();
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
    let (_, version) = store::profile_document(path).map_err(|e| relative(&app, e.into()))?;
    std::fs::remove_file(path)
        .and_then(|()| std::fs::File::open(app.options.catalog.join("profiles"))?.sync_all())
        .map_err(|e| relative(&app, crate::error::Error::io(path, e).into()))?;
    store::audit(
        &app.options.catalog,
        &session.user,
        "delete profile",
        &name,
        Some(&version),
        None,
    )
    .map_err(|e| relative(&app, e.into()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_customers(State(app): State<Arc<App>>, headers: HeaderMap) -> Answer {
    app.authorize(&headers, Permission::ReadCatalogue)?;
    let catalog = catalog(&app)?;
    let mut customers: Vec<_> = catalog.customers.values().collect();
    customers.sort_by(|a, b| a.id.cmp(&b.id));
    let list: Vec<Value> = customers
        .into_iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "groups": c.groups,
                "default_profile": c.default_profile,
                "timezone": c.time_zone.name(),
                "currency": c.currency,
                "itemisation": c.itemisation,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

/// What the profile rules make of an invoice, as `run.json` says it.
fn verdict(catalog: &Catalog, entry: &InvoiceEntry) -> Value {
    match catalog.resolve(entry) {
        Resolution::Use(p) => {
            json!({ "status": "would_render", "profile": p.name, "reason": null })
        }
        Resolution::NoProfile => {
            json!({ "status": "no_profile", "profile": null, "reason": "neither the invoice nor its customer names a profile" })
        }
        Resolution::Refused(reason) => {
            json!({ "status": "refused", "profile": null, "reason": reason })
        }
    }
}

async fn list_invoices(State(app): State<Arc<App>>, headers: HeaderMap) -> Answer {
    app.authorize(&headers, Permission::ReadCatalogue)?;
    let catalog = catalog(&app)?;
    let list: Vec<Value> = catalog
        .invoices
        .iter()
        .map(|i| json!({
            "id": i.invoice_id,
            "customer": i.customer_id,
            "from": i.from.to_string(),
            "to": i.to.to_string(),
            "profile": i.profile,
            "formats": i.formats.as_ref().map(|f| f.iter().map(|f| f.key()).collect::<Vec<_>>()),
            "resolved": verdict(&catalog, i),
        }))
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

/// `{"profile": NAME|null}` from a body.
fn profile_choice(body: &Bytes) -> Result<Option<String>, ApiError> {
    let value = body_json(body)?;
    match &value["profile"] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "expected {\"profile\": NAME or null}",
        )),
    }
}

/// Checks a changed catalogue with the profile rules (the verdict `run.json`
/// would give) and writes the changed table.
#[allow(clippy::too_many_arguments)]
async fn set_profile_reference(
    app: &App,
    user: &str,
    table: &str,
    key_column: &str,
    key: &str,
    column: &str,
    choice: Option<String>,
    check: impl Fn(&Catalog) -> Option<String>,
) -> Answer {
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
    let before = std::fs::read(&path)
        .map_err(|e| relative(app, crate::error::Error::io(&path, e).into()))?;
    let Some(bytes) = store::set_cell(
        &path,
        key_column,
        key,
        column,
        choice.as_deref().unwrap_or(""),
    )
    .map_err(|e| relative(app, e.into()))?
    else {
        return Err(not_found("row with that id"));
    };
    // The rules, applied to the catalogue as it would be.
    match table {
        "customers.csv" => {
            if let Some(c) = catalog.customers.get_mut(key) {
                c.default_profile = choice.clone();
            }
        }
        _ => {
            if let Some(i) = catalog.invoices.iter_mut().find(|i| i.invoice_id == key) {
                i.profile = choice.clone();
            }
        }
    }
    if let Some(reason) = check(&catalog) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, reason));
    }
    // The same validation as `profiles check`, on a copy of the catalogue
    // with the change: the real one never holds a change that fails it.
    store::check_with(&app.options.catalog, table, &bytes).map_err(|e| relative(app, e.into()))?;
    crate::output::write_atomically(&path, &bytes).map_err(|e| relative(app, e.into()))?;
    store::audit(
        &app.options.catalog,
        user,
        &format!("set {column}"),
        key,
        Some(&store::version(&before)),
        Some(&store::version(&bytes)),
    )
    .map_err(|e| relative(app, e.into()))?;
    Ok(Json(json!({ "id": key, "profile": choice })).into_response())
}

async fn set_default_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    let choice = profile_choice(&body)?;
    let customer = id.clone();
    set_profile_reference(
        &app,
        &session.user,
        "customers.csv",
        "customer_id",
        &id,
        "default_profile",
        choice,
        move |catalog| {
            // As a default, for a new invoice of this customer.
            let probe = InvoiceEntry {
                invoice_id: String::new(),
                customer_id: customer.clone(),
                from: chrono::NaiveDate::MIN,
                to: chrono::NaiveDate::MIN,
                profile: None,
                formats: None,
                line: 0,
            };
            catalog.customers.get(&customer)?;
            match catalog.resolve(&probe) {
                Resolution::Refused(reason) => Some(reason),
                _ => None,
            }
        },
    )
    .await
}

async fn set_invoice_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    let choice = profile_choice(&body)?;
    let invoice = id.clone();
    set_profile_reference(
        &app,
        &session.user,
        "invoices.csv",
        "invoice_id",
        &id,
        "profile",
        choice,
        move |catalog| {
            let entry = catalog.invoices.iter().find(|i| i.invoice_id == invoice)?;
            match catalog.resolve(entry) {
                Resolution::Refused(reason) => Some(reason),
                _ => None,
            }
        },
    )
    .await
}

async fn audit(State(app): State<Arc<App>>, headers: HeaderMap) -> Answer {
    app.authorize(&headers, Permission::Audit)?;
    let path = app.options.catalog.join("audit.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(relative(&app, crate::error::Error::io(&path, e).into())),
    };
    let entries: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Ok(Json(Value::Array(entries)).into_response())
}

/// Counts every request by method, route (its pattern, not its data) and
/// status, for `/metrics`.
async fn count(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let mut metrics = app
        .metrics
        .lock()
        .expect("no panics while holding the lock");
    *metrics
        .requests
        .entry((method, route, response.status().as_u16()))
        .or_default() += 1;
    response
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let text = app
        .metrics
        .lock()
        .expect("no panics while holding the lock")
        .text();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `{"formats": [...]}` as attachment formats (CSV when absent).
fn formats(value: &Value) -> Result<Vec<crate::render::Format>, ApiError> {
    match &value["formats"] {
        Value::Null => Ok(vec![crate::render::Format::Csv]),
        Value::Array(items) => {
            let keys: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            if keys.len() != items.len() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "formats: expected a list of csv, xlsx, pdf",
                ));
            }
            crate::render::Format::parse_list(&keys.join(","), ',').map_err(|reason| {
                ApiError::new(StatusCode::BAD_REQUEST, format!("formats {reason}"))
            })
        }
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "formats: expected a list of csv, xlsx, pdf",
        )),
    }
}

/// Runs CPU-bound work on the blocking pool.
async fn blocking<T: Send + 'static>(
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

async fn render_invoice(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    app.authorize(&headers, Permission::Render)?;
    let value = if body.is_empty() {
        json!({})
    } else {
        body_json(&body)?
    };
    let formats = formats(&value)?;
    let (dir, inputs, out) = (
        app.options.catalog.clone(),
        app.options.records.clone(),
        app.options.out.clone(),
    );
    let started = std::time::Instant::now();
    if !catalog(&app)?.invoices.iter().any(|e| e.invoice_id == id) {
        return Err(not_found("invoice with that id"));
    }
    let invoice_lock = app
        .rendering
        .lock()
        .expect("no panics while holding the lock")
        .entry(id.clone())
        .or_default()
        .clone();
    let _shared = app.output.read().await;
    let _alone = invoice_lock.lock().await;
    // A request the profile rules refuse is 422, as when the invoice is
    // pointed at a profile.
    let (_, manifest) =
        blocking(move || super::work::render_invoice(&dir, &inputs, &out, &id, &formats))
            .await
            .map_err(|e| match e.status {
                StatusCode::BAD_REQUEST => ApiError::with(StatusCode::UNPROCESSABLE_ENTITY, e.body),
                _ => relative(&app, e),
            })?;
    let mut metrics = app
        .metrics
        .lock()
        .expect("no panics while holding the lock");
    metrics.renders += 1;
    metrics.render_seconds += started.elapsed().as_secs_f64();
    Ok(Json(manifest).into_response())
}

/// A file the invoice's manifest lists, and nothing else (`..` included).
async fn attachment(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, file)): Path<(String, String)>,
) -> Answer {
    app.authorize(&headers, Permission::ReadCatalogue)?;
    let catalog = catalog(&app)?;
    let folders = crate::run::invoice_folders(&catalog);
    let folder = folders
        .get(id.as_str())
        .ok_or_else(|| not_found("such attachment"))?;
    let dir = app.options.out.join(folder);
    let manifest: Value = std::fs::read(dir.join(crate::manifest::MANIFEST_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| not_found("such attachment"))?;
    let listed = manifest["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["path"].as_str() == Some(file.as_str()));
    if !listed {
        return Err(not_found("such attachment"));
    }
    let bytes = tokio::fs::read(dir.join(&file))
        .await
        .map_err(|_| not_found("such attachment"))?;
    let kind = match file.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    };
    Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
}

async fn sample(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Answer {
    app.authorize(&headers, Permission::ExportSamples)?;
    let value = body_json(&body)?;
    let text = |key: &str| {
        value[key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, format!("{key}: expected text")))
    };
    let number = |key: &str| {
        value[key].as_u64().ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{key}: expected a whole number"),
            )
        })
    };
    let ask = super::work::SampleAsk {
        customer: text("customer")?,
        from: text("from")?,
        to: text("to")?,
        profile: text("profile")?,
        rows: number("rows")?,
        seed: number("seed")?,
        formats: formats(&value)?,
    };
    let (dir, inputs) = (app.options.catalog.clone(), app.options.records.clone());
    let zip = blocking(move || super::work::sample_zip(&dir, &inputs, &ask))
        .await
        .map_err(|e| relative(&app, e))?;
    Ok(([(header::CONTENT_TYPE, "application/zip")], zip).into_response())
}

async fn start_run(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Answer {
    let session = app.authorize(&headers, Permission::Render)?;
    let value = if body.is_empty() {
        json!({})
    } else {
        body_json(&body)?
    };
    let chosen = match value["formats"] {
        Value::Null => None,
        _ => Some(formats(&value)?),
    };
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
        let state = Arc::new(super::work::RunState {
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
        super::work::billing_run(&dir, &inputs, &out, chosen, running);
        drop(alone);
    });
    store::audit(
        &app.options.catalog,
        &session.user,
        "start run",
        &state.id.to_string(),
        None,
        None,
    )
    .map_err(|e| relative(&app, e.into()))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"id": state.id.to_string()})),
    )
        .into_response())
}

async fn show_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    app.authorize(&headers, Permission::Render)?;
    let runs = app.runs.lock().expect("no panics while holding the lock");
    let state = runs
        .as_ref()
        .filter(|r| r.id.to_string() == id)
        .ok_or_else(|| not_found("run with that id"))?;
    let view = state.view();
    drop(runs);
    Ok(relative(&app, ApiError::with(StatusCode::OK, view)).into_response())
}
