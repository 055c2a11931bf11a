//! The routes of the JSON API and their handlers. Each parses its request,
//! authorises it on the server, calls an action (`actions`), and answers
//! JSON.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::actions::{self, Reference};
use super::users::Permission;
use super::{ApiError, App};
use crate::profile::{ExpertLevel, Files, Profile};
use crate::run::catalog::{Catalog, InvoiceEntry};

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
        .layer(DefaultBodyLimit::max(super::BODY_LIMIT))
        .with_state(app)
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
    let (token, user) = actions::sign_in(&app, name, password).await?;
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
    let list: Vec<Value> = actions::profiles(&app, level)?
        .into_iter()
        .map(|line| {
            let p = line.profile;
            json!({
                "name": p.name,
                "description": p.description,
                "availability": p.availability.key(),
                "customer": p.customer,
                "customer_groups": p.customer_groups,
                "version": line.version,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn show_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Answer {
    app.authorize(&headers, Permission::ReadProfiles)?;
    let (mut value, version) = actions::profile(&app, &name)?;
    value["version"] = json!(version);
    Ok(([(header::ETAG, format!("\"{version}\""))], Json(value)).into_response())
}

/// A profile document from a request body, validated completely: 422 with
/// every problem otherwise. The `version` field, if any, is not part of it.
fn validated(app: &App, body: &Bytes) -> Result<(Value, Profile), ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the body is not UTF-8"))?;
    let folder = actions::client_files(app);
    actions::validated(text, Files::Within(&folder)).map_err(ApiError::from)
}

async fn create_profile(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    let (value, profile) = validated(&app, &body)?;
    let version = actions::create_profile(&app, &session.user, &value, &profile).await?;
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
    let (value, profile) = validated(&app, &body)?;
    let version =
        actions::update_profile(&app, &session.user, &name, &value, &profile, |current| {
            if_match(&headers, current) == Some(true)
        })
        .await?;
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
    actions::delete_profile(&app, &session.user, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_customers(State(app): State<Arc<App>>, headers: HeaderMap) -> Answer {
    app.authorize(&headers, Permission::ReadCatalogue)?;
    let catalog = actions::catalog(&app)?;
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
    let v = actions::verdict(catalog, entry);
    json!({ "status": v.status.key(), "profile": v.profile, "reason": v.reason })
}

async fn list_invoices(State(app): State<Arc<App>>, headers: HeaderMap) -> Answer {
    app.authorize(&headers, Permission::ReadCatalogue)?;
    let catalog = actions::catalog(&app)?;
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

async fn set_default_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    let choice = profile_choice(&body)?;
    actions::set_profile(
        &app,
        &session.user,
        Reference::CustomerDefault,
        &id,
        choice.clone(),
    )
    .await?;
    Ok(Json(json!({ "id": id, "profile": choice })).into_response())
}

async fn set_invoice_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let session = app.authorize(&headers, Permission::EditProfiles)?;
    let choice = profile_choice(&body)?;
    actions::set_profile(&app, &session.user, Reference::Invoice, &id, choice.clone()).await?;
    Ok(Json(json!({ "id": id, "profile": choice })).into_response())
}

async fn audit(State(app): State<Arc<App>>, headers: HeaderMap) -> Answer {
    app.authorize(&headers, Permission::Audit)?;
    Ok(Json(Value::Array(actions::audit_entries(&app)?)).into_response())
}

/// Counts every request — the API's and the console's — by method, route
/// (its pattern, not its data) and status, for `/metrics`.
pub(super) async fn count(
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
    if !actions::catalog(&app)?
        .invoices
        .iter()
        .any(|e| e.invoice_id == id)
    {
        return Err(actions::not_found("invoice with that id"));
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
        actions::blocking(move || super::work::render_invoice(&dir, &inputs, &out, &id, &formats))
            .await
            .map_err(|e| match e.status {
                StatusCode::BAD_REQUEST => ApiError::with(StatusCode::UNPROCESSABLE_ENTITY, e.body),
                _ => actions::relative(&app, e),
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
    let (bytes, kind) = actions::attachment(&app, &id, &file).await?;
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
    let zip = actions::sample(&app, ask).await?;
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
    let id = actions::start_run(&app, &session.user, chosen).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"id": id.to_string()}))).into_response())
}

async fn show_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    app.authorize(&headers, Permission::Render)?;
    Ok(Json(actions::run_view(&app, &id)?).into_response())
}
