//! `usage-report serve`: the catalogue — profiles, customers, invoices — as
//! an HTTP API with the seed's permissions, another face over the same
//! library as the command line. A handler authenticates, checks the role's
//! permission on the server, calls the library, and maps its error to a
//! status in one place ([`ApiError`]). The catalogue folder stays the source
//! of truth: every read loads it afresh (a file changed by hand is picked
//! up), every write is validated, atomic and audited.

mod actions;
mod api;
mod console;
mod sessions;
mod store;
pub mod users;
mod work;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use self::sessions::{Session, Sessions};
use self::users::Permission;
use crate::error::{Error, Result};
use crate::records::Input;

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The catalogue folder (profiles/, customers.csv, invoices.csv, users.toml).
    pub catalog: PathBuf,
    pub records: Vec<Input>,
    /// Where to listen; loopback unless asked otherwise.
    pub listen: SocketAddr,
    /// Rendered attachments (default `DIR/out`).
    pub out: PathBuf,
}

/// What every handler shares.
pub(crate) struct App {
    options: ServeOptions,
    sessions: Sessions,
    /// One write to the catalogue at a time: a version check and the write
    /// it guards are one step.
    writes: tokio::sync::Mutex<()>,
    /// Password checks running at once (each takes ~19 MiB and a core for
    /// a moment): a flood of sign-ins waits here instead of growing memory.
    checks: tokio::sync::Semaphore,
    /// Previews and samples rendering at once (each reads the records and
    /// renders in memory): more wait their turn.
    renders: tokio::sync::Semaphore,
    /// Output folders: a render holds it shared (and its invoice's lock), a
    /// run holds it alone — two writers never share a folder.
    output: Arc<tokio::sync::RwLock<()>>,
    /// One render of an invoice at a time: a second waits for the first.
    rendering: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The catalogue as last loaded, with the stamp of its files (names,
    /// sizes, modification times): loaded again whenever the stamp changes,
    /// so a hand edit is seen at the next request.
    loaded: std::sync::Mutex<Option<(Stamp, Arc<crate::run::catalog::Catalog>)>>,
    /// The billing run started through the API, if any (one at a time).
    runs: std::sync::Mutex<Option<Arc<work::RunState>>>,
    /// Requests by route and status, render times, runs: `/metrics`.
    metrics: std::sync::Mutex<Metrics>,
}

/// The files of a catalogue as last seen: path, size, modification time.
type Stamp = Vec<(PathBuf, u64, std::time::SystemTime)>;

/// What `/metrics` reports, in Prometheus' text format.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: std::collections::BTreeMap<(String, String, u16), u64>,
    renders: u64,
    render_seconds: f64,
    runs: u64,
}

impl Metrics {
    fn text(&self) -> String {
        let mut out = String::from("# TYPE usage_report_requests_total counter\n");
        for ((method, route, status), n) in &self.requests {
            out.push_str(&format!(
                "usage_report_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "# TYPE usage_report_render_seconds summary\nusage_report_render_seconds_count {}\nusage_report_render_seconds_sum {:.6}\n# TYPE usage_report_runs_total counter\nusage_report_runs_total {}\n",
            self.renders, self.render_seconds, self.runs
        ));
        out
    }
}

/// Serves until the process is stopped. Prints the address it listens on
/// (`usage-report: listening on http://127.0.0.1:8080`) once it does.
pub fn serve(mut options: ServeOptions) -> Result<()> {
    // One spelling of the folder (no trailing slash), so answers can leave
    // it out.
    if let Ok(canonical) = std::fs::canonicalize(&options.catalog) {
        options.catalog = canonical;
    }
    // Refuse to start on a catalogue that does not load.
    crate::run::catalog::Catalog::load(&options.catalog)?;
    users::Users::load(&options.catalog)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the server's runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", options.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", options.listen)))?;
        eprintln!("usage-report: listening on http://{address}");
        let app = Arc::new(App {
            options,
            sessions: Sessions::default(),
            writes: tokio::sync::Mutex::new(()),
            checks: tokio::sync::Semaphore::new(2),
            renders: tokio::sync::Semaphore::new(2),
            output: Arc::default(),
            loaded: std::sync::Mutex::new(None),
            rendering: std::sync::Mutex::default(),
            runs: std::sync::Mutex::new(None),
            metrics: std::sync::Mutex::new(Metrics::default()),
        });
        let router = api::router(app.clone())
            .merge(console::router(app.clone()))
            .layer(axum::middleware::from_fn_with_state(app, api::count))
            .layer(axum::middleware::from_fn(read_body));
        accept(listener, router).await
    })
}

/// Largest request body accepted (a profile is a few KiB, a form the same).
const BODY_LIMIT: usize = 1 << 20;

/// Connections served at once; more wait to be accepted.
const CONNECTIONS: usize = 512;
/// How long a client may take to send a request's headers (and, between
/// requests on a kept-alive connection, to start the next): a slow or idle
/// client cannot hold a connection forever.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads a request's body whole before any handler sees it, within
/// [`HEADER_TIMEOUT`] and [`BODY_LIMIT`]: a client that stops sending its
/// body is answered 408 and let go, instead of holding a connection.
async fn read_body(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(HEADER_TIMEOUT, axum::body::to_bytes(body, BODY_LIMIT)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {BODY_LIMIT} bytes"),
            )
            .into_response()
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            )
            .into_response()
        }
    };
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    next.run(request).await
}

/// Serves connections one task each, at most [`CONNECTIONS`] at once, each
/// with [`HEADER_TIMEOUT`] on the headers of every request.
async fn accept(listener: tokio::net::TcpListener, router: axum::Router) -> Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    loop {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait, then go on.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(io, service)
                .await;
            drop(slot);
        });
    }
}

impl App {
    /// The session of a request's bearer token, if it may do `permission`:
    /// 401 without a valid token, 403 without the permission.
    fn authorize(&self, headers: &HeaderMap, permission: Permission) -> Result<Session, ApiError> {
        let token = bearer(headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: send Authorization: Bearer TOKEN",
            )
        })?;
        self.session(token, permission)
    }

    /// The session of a token (the API's bearer token or the console's
    /// cookie), if it may do `permission`: 401 when the token is unknown,
    /// expired or its account changed, 403 without the permission.
    fn session(&self, token: &str, permission: Permission) -> Result<Session, ApiError> {
        let session = self.sessions.find(token).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the token is unknown or has expired: sign in again",
            )
        })?;
        // A session ends when its user is removed or changes password or
        // role (users.toml is read afresh: a change by the CLI counts).
        let current = users::Users::load(&self.options.catalog)
            .ok()
            .and_then(|u| u.list().iter().find(|u| u.name == session.user).cloned());
        if !current.is_some_and(|u| u.hash == session.hash && u.role == session.role) {
            self.sessions.close(token);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the account changed: sign in again",
            ));
        }
        if !session.role.may(permission) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("the {} role may not do this", session.role.key()),
            ));
        }
        Ok(session)
    }
}

/// The token of a request's `Authorization: Bearer TOKEN` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// An error as the API answers it: a status and a JSON body. Library errors
/// map to statuses here, and only here; no server path or internal detail
/// reaches a client beyond what the library's message says of the request.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: serde_json::Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: serde_json::json!({ "error": message.into() }),
        }
    }

    fn with(status: StatusCode, body: serde_json::Value) -> ApiError {
        ApiError { status, body }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Invalid(problems) => ApiError::with(
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({
                    "error": problems.source,
                    "problems": problems.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                }),
            ),
            Error::Usage(message) => ApiError::new(StatusCode::BAD_REQUEST, message),
            // Server-side failures: the client learns that, not the server's paths.
            Error::Io { .. } | Error::Output { .. } => {
                eprintln!("usage-report: {e}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server could not read or write its files",
                )
            }
            other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
        }
    }
}

impl ApiError {
    /// The message, and each problem when the body lists them.
    pub(crate) fn messages(&self) -> (String, Vec<String>) {
        let message = self.body["error"].as_str().unwrap_or("").to_string();
        let problems = self.body["problems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        (message, problems)
    }
}

impl ApiError {
    /// The message and its problems as one line of text.
    pub(crate) fn text(&self) -> String {
        let (message, problems) = self.messages();
        [message]
            .into_iter()
            .chain(problems)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}
