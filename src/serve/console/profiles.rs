//! The profile pages: the list with the expert level, the editor (add,
//! edit, preview, make historic, delete).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use maud::{html, Markup};
use serde_json::Value;

use super::editor::{self, Choices, Notes, ProfileForm};
use super::pages::{self, csrf_field, link, page, refusal, respond};
use super::{posted, see_other, visitor, Page, Params, Visitor};
use crate::profile::{ExpertLevel, Files};
use crate::render::Format;
use crate::serve::actions::{self, Status};
use crate::serve::users::Permission;
use crate::serve::work::PreviewReport;
use crate::serve::App;

pub(super) async fn profiles(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Params,
) -> Page {
    let v = visitor(&app, &headers, Permission::ReadProfiles)?;
    let level = v.session.expert_level;
    let list = actions::profiles(&app, level).map_err(|e| v.refused(e))?;
    let editor = v.may(Permission::EditProfiles);
    // A notice only says what is true of the catalogue.
    let catalog = actions::catalog(&app).map_err(|e| v.refused(e))?;
    let saved = query.get("saved").and_then(|n| catalog.profiles.get(n));
    let body = html! {
        @if let Some(saved) = saved {
            div.notice.good role="status" id="notice" {
                p {
                    "Saved “" (saved.name) "”."
                    @if !saved.visible_at(level) { " It is historic: lists show it from the Standard expert level up." }
                }
            }
        }
        @if let Some(gone) = query.get("deleted").filter(|n| !catalog.profiles.contains_key(*n)) {
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
                                @if line.used_by.is_empty() { span.muted { "not in use" } }
                                @else { (pages::count(line.used_by.customers.len(), "customer")) ", " (pages::count(line.used_by.invoices.len(), "invoice")) }
                            }
                        }
                    }
                }
            }
        }
        @if list.is_empty() { p { "No profiles at this expert level." } }
    };
    Ok(respond(
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

pub(super) async fn expert_level(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
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
    Ok(respond(status, page(&title, v.who(), "/profiles", body)))
}

pub(super) async fn new_profile(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let v = visitor(&app, &headers, Permission::EditProfiles)?;
    let mut form = ProfileForm::default();
    form.reports
        .insert("customer".into(), vec!["summary".into()]);
    editor_page(&app, &v, StatusCode::OK, &form, Notes::default())
}

pub(super) async fn edit_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Params,
) -> Page {
    let v = visitor(&app, &headers, Permission::ReadProfiles)?;
    let name = query.get("name").cloned().unwrap_or_default();
    let (doc, version) = actions::profile(&app, &name).map_err(|e| v.refused(e))?;
    let mut form = ProfileForm::from_document(&name, &version, &doc);
    form.preview_invoice = first_invoice_using(&app, &name).unwrap_or_default();
    editor_page(&app, &v, StatusCode::OK, &form, Notes::default())
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
pub(super) async fn profile_form(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
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
    let folder = actions::client_files(&app);
    let (value, profile) = match actions::validated(&text, Files::Within(&folder)) {
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
    let invoice = form.preview_invoice.clone();
    if let Some(key) = op.strip_prefix("download:") {
        let format = Format::parse_list(key, ',')
            .ok()
            .and_then(|f| f.first().copied())
            .ok_or_else(|| refusal(StatusCode::BAD_REQUEST, "Unknown format.", v.who()))?;
        let (_, file) = actions::preview(app, profile, &invoice, Some(format))
            .await
            .map_err(|e| v.refused(e))?;
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
    // What the form changes, in words (as `profiles diff` says it).
    let changes = current
        .as_ref()
        .map(|saved| crate::profile::diff::diff(saved, &profile));
    let (now, _) = actions::preview(app, profile, &invoice, None)
        .await
        .map_err(|e| v.refused(e))?;
    let before = match current {
        Some(p) => Some(
            actions::preview(app, p, &invoice, None)
                .await
                .map_err(|e| v.refused(e))?
                .0,
        ),
        None => None,
    };
    let notes = Notes {
        preview: Some(preview_table(
            &invoice,
            &now,
            before.as_deref(),
            verdict,
            changes.as_deref(),
        )),
        ..Notes::default()
    };
    editor_page(app, v, StatusCode::OK, form, notes)
}

fn preview_table(
    invoice: &str,
    now: &[PreviewReport],
    before: Option<&[PreviewReport]>,
    verdict: Option<actions::Verdict>,
    changes: Option<&[crate::profile::diff::Change]>,
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
            @if let Some(changes) = changes {
                h3 { "What this form changes" }
                @if changes.is_empty() {
                    p #preview-changes { "Nothing: the form is the saved profile." }
                } @else {
                    ul #preview-changes {
                        @for change in changes { li { (change.to_string()) } }
                    }
                }
            }
            @if let Some(v) = verdict {
                @if v.status == Status::Refused {
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
pub(super) async fn make_historic(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::EditProfiles)?;
    let name = fields.get("name").unwrap_or_default().to_string();
    let version = fields.get("version").unwrap_or_default().to_string();
    let (mut doc, _) = actions::profile(&app, &name).map_err(|e| v.refused(e))?;
    doc["availability"] = Value::from("historic");
    let text = serde_json::to_string(&doc).expect("JSON serialises");
    // The catalogue's own document: its files are where an administrator
    // put them.
    let folder = actions::client_files(&app);
    let (value, profile) =
        actions::validated(&text, Files::Folder(&folder)).map_err(|e| v.refused(e.into()))?;
    match actions::update_profile(&app, &v.session.user, &name, &value, &profile, |current| {
        current == version
    })
    .await
    {
        Ok(_) => Ok(see_other(&link("/profiles", &[("saved", &name)]))),
        // The saved version, with why it was not made historic.
        Err(e) => {
            let (doc, version) = actions::profile(&app, &name).map_err(|e| v.refused(e))?;
            let form = ProfileForm::from_document(&name, &version, &doc);
            let message = match e.status {
                StatusCode::PRECONDITION_FAILED => "Someone saved this profile after you opened it; it was not changed. Here is the saved version: make it historic again if you still want to.".to_string(),
                _ => format!("Not made historic: {}", e.text()),
            };
            let notes = Notes {
                message: Some((message, true)),
                ..Notes::default()
            };
            editor_page(&app, &v, e.status, &form, notes)
        }
    }
}

pub(super) async fn delete_profile(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let (v, fields) = posted(&app, &headers, &body, Permission::EditProfiles)?;
    let name = fields.get("name").unwrap_or_default().to_string();
    actions::delete_profile(&app, &v.session.user, &name)
        .await
        .map_err(|e| v.refused(e))?;
    Ok(see_other(&link("/profiles", &[("deleted", &name)])))
}
