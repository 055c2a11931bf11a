//! The catalogue's tables: customers and invoices with the rules' verdicts
//! (and, for editors, the profile each names), their attachments, and the
//! audit log.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use maud::{html, Markup};
use serde_json::Value;

use super::pages::{self, csrf_field, link, page, respond};
use super::{posted, see_other, visitor, Page, Params, Visitor};
use crate::serve::actions::{self, Reference, Status};
use crate::serve::users::Permission;
use crate::serve::App;

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
            Status::WouldRender => { span.ok { "would render with " (v.profile.as_deref().unwrap_or("")) } }
            Status::NoProfile => { span.muted { "no profile: " (v.reason.as_deref().unwrap_or("")) } }
            Status::Refused => { span.bad { "refused: " (v.reason.as_deref().unwrap_or("")) } }
        }
    }
}

/// A row's outcome after a post: which row, and what happened.
pub(super) type RowNote = Option<(String, String, bool)>;

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
pub(super) type TablePage = fn(&App, &Visitor, StatusCode, RowNote) -> Page;

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
pub(super) async fn table(
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

pub(super) fn customers_page(app: &App, v: &Visitor, status: StatusCode, note: RowNote) -> Page {
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
                        @let probe = catalog.default_probe(&c.id);
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
    Ok(respond(
        status,
        page("Customers", v.who(), "/customers", body),
    ))
}

/// Points a customer (its default) or an invoice at a profile, or none; a
/// refused choice is shown on its row, not saved.
pub(super) async fn set_profile(
    app: Arc<App>,
    headers: HeaderMap,
    body: Bytes,
    reference: Reference,
) -> Page {
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
pub(super) fn rendered(app: &App, folder: Option<&String>) -> Vec<String> {
    let Some(folder) = folder else {
        return Vec::new();
    };
    crate::manifest::read_back(&app.options.out.join(folder))
        .map(|m| crate::manifest::listed_files(&m))
        .unwrap_or_default()
}

pub(super) fn attachment_links(invoice: &str, files: &[String]) -> Markup {
    html! {
        @if files.is_empty() { span.muted { "—" } }
        ul.files {
            @for f in files {
                li { a href=(link("/attachments", &[("invoice", invoice), ("file", f)])) { (f) } }
            }
        }
    }
}

pub(super) fn invoices_page(app: &App, v: &Visitor, status: StatusCode, note: RowNote) -> Page {
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
    Ok(respond(
        status,
        page("Invoices", v.who(), "/invoices", body),
    ))
}

pub(super) async fn attachment(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Params,
) -> Page {
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

pub(super) async fn audit(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
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
    Ok(respond(
        StatusCode::OK,
        page("Audit", v.who(), "/audit", body),
    ))
}
