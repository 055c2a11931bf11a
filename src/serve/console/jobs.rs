//! The pages that start work: samples (finance) and billing runs
//! (operators), with a run's progress and outcome.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use maud::html;

use super::pages::{self, csrf_field, link, page, respond, Fields};
use super::tables::{attachment_links, rendered};
use super::{posted, see_other, visitor, Page, Params, Visitor};
use crate::render::Format;
use crate::serve::actions;
use crate::serve::users::Permission;
use crate::serve::work::SampleAsk;
use crate::serve::App;

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
        p.help { "A sample renders a customer's period with a profile from a seeded selection of that customer's real records (at least one per site, campaign and number) — to check a layout before it reaches customers. Its files say it is a sample." }
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
    Ok(respond(status, page("Samples", v.who(), "/samples", body)))
}

pub(super) async fn samples_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let v = visitor(&app, &headers, Permission::ExportSamples)?;
    samples_form(&app, &v, StatusCode::OK, &Fields(Vec::new()), None)
}

pub(super) async fn sample(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
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

pub(super) async fn runs_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
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
    Ok(respond(
        StatusCode::OK,
        page("Runs", v.who(), "/runs", body),
    ))
}

pub(super) async fn start_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
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

pub(super) async fn run_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Params,
) -> Page {
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
    let mut response = respond(
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
