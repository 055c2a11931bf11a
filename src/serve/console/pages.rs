//! The console's page frame and small pieces: the layout with the role's
//! navigation, posted form fields, links with escaped queries, and the
//! headers every console response carries. Templates are maud's: every
//! value is escaped as text; nothing from data is ever markup.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::serve::sessions::Session;
use crate::serve::users::Permission;

/// The fields of a posted form, in order (repeated names kept).
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a field, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A path with a query, each value percent-encoded.
pub fn link(path: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        serializer.append_pair(k, v);
    }
    format!("{path}?{}", serializer.finish())
}

/// An id-safe form of a data string (for element ids): letters, digits
/// and `-`, with a hash of the whole so two strings never share one.
pub fn slug(text: &str) -> String {
    let plain: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let digest = crate::hash::fnv1a64(text.as_bytes());
    format!("{plain}-{:08x}", digest as u32)
}

/// "1 invoice", "2 invoices".
pub fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// The main navigation: page, label, permission needed.
const NAV: [(&str, &str, Permission); 6] = [
    ("/profiles", "Profiles", Permission::ReadProfiles),
    ("/customers", "Customers", Permission::ReadCatalogue),
    ("/invoices", "Invoices", Permission::ReadCatalogue),
    ("/samples", "Samples", Permission::ExportSamples),
    ("/runs", "Runs", Permission::Render),
    ("/audit", "Audit", Permission::Audit),
];

/// The first page a role may see.
pub fn home(session: &Session) -> &'static str {
    NAV.iter()
        .find(|(_, _, p)| session.role.may(*p))
        .map_or("/invoices", |(path, _, _)| path)
}

/// A whole page: the frame, the role's navigation (`current` marked), a
/// heading, the body.
pub fn page(title: &str, who: Option<(&Session, &str)>, current: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — usage-report" }
                link rel="stylesheet" href="/static/console.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "usage-report" }
                    @if let Some((session, csrf)) = who {
                        nav aria-label="Main" {
                            ul {
                                @for (path, label, permission) in NAV {
                                    @if session.role.may(permission) {
                                        li { a href=(path) aria-current=[(path == current).then_some("page")] { (label) } }
                                    }
                                }
                            }
                        }
                        form.who method="post" action="/signout" {
                            span { (session.user) " · " (session.role.key()) }
                            (csrf_field(csrf))
                            button type="submit" id="sign-out" { "Sign out" }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An HTML answer with a status.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A page that says why not, with the status.
pub fn refusal(status: StatusCode, message: &str, who: Option<(&Session, &str)>) -> Response {
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::UNAUTHORIZED => "Sign in",
        _ => "Something went wrong",
    };
    respond(
        status,
        page(
            title,
            who,
            "",
            html! {
                div.notice.bad role="alert" { p { (message) } }
                @if status == StatusCode::UNAUTHORIZED { p { a href="/signin" { "Sign in" } } }
            },
        ),
    )
}

/// A file to download, named for the browser (the name made safe: ASCII
/// letters, digits, `.`, `-`, `_` only).
pub fn download(bytes: Vec<u8>, media_type: &'static str, name: &str) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Headers on every console answer: no script at all, no framing, no
/// sniffing, no caching of pages that hold catalogue data.
pub async fn secure_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
