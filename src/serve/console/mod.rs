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
mod jobs;
mod pages;
mod profiles;
mod tables;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

use self::pages::{page, refusal, respond, Fields};
use super::actions::{self, Reference};
use super::sessions::Session;
use super::users::Permission;
use super::{ApiError, App};

/// The session cookie's name.
const COOKIE: &str = "usage_report_session";

type Page = Result<Response, Response>;
/// A page's query parameters.
type Params = Query<HashMap<String, String>>;

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/static/console.css", get(stylesheet))
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signout", post(sign_out))
        .route("/profiles", get(profiles::profiles))
        .route("/expert-level", post(profiles::expert_level))
        .route("/profiles/new", get(profiles::new_profile))
        .route("/profiles/edit", get(profiles::edit_profile))
        .route("/profiles/form", post(profiles::profile_form))
        .route("/profiles/historic", post(profiles::make_historic))
        .route("/profiles/delete", post(profiles::delete_profile))
        .route(
            "/customers",
            get(|State(app), headers, Query(query)| {
                tables::table(app, headers, query, tables::customers_page)
            }),
        )
        .route(
            "/customers/profile",
            post(|State(app), headers, body| {
                tables::set_profile(app, headers, body, Reference::CustomerDefault)
            }),
        )
        .route(
            "/invoices",
            get(|State(app), headers, Query(query)| {
                tables::table(app, headers, query, tables::invoices_page)
            }),
        )
        .route(
            "/invoices/profile",
            post(|State(app), headers, body| {
                tables::set_profile(app, headers, body, Reference::Invoice)
            }),
        )
        .route("/attachments", get(tables::attachment))
        .route("/samples", get(jobs::samples_page).post(jobs::sample))
        .route("/runs", get(jobs::runs_page).post(jobs::start_run))
        .route("/runs/view", get(jobs::run_page))
        .route("/audit", get(tables::audit))
        .layer(axum::middleware::from_fn(pages::secure_headers))
        .layer(axum::extract::DefaultBodyLimit::max(super::BODY_LIMIT))
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

/// Whether the browser says a post comes from this server: its `Origin`,
/// or failing that its `Referer`, names this host (browsers send one of
/// them with every form post).
fn said_same_origin(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::ORIGIN) {
        return same_origin(headers);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://"))
        .is_some_and(|(_, rest)| !host.is_empty() && rest.split('/').next() == Some(host))
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

async fn sign_in_page(Query(query): Params) -> Response {
    let message = query
        .contains_key("ended")
        .then_some("Your session has ended: sign in again.");
    respond(StatusCode::OK, sign_in_form(message, ""))
}

async fn sign_in(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let user = fields.get("user").unwrap_or_default();
    // No session yet, so no token: the browser must say the form is ours
    // (another site cannot sign a visitor in to an account of its choosing).
    if !said_same_origin(&headers) {
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
            respond(e.status, sign_in_form(Some(&message), user))
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
