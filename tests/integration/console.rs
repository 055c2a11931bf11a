//! The console in a real browser (Chromium through WebDriver) against
//! `usage-report serve` on 127.0.0.1: what each role can do from its pages,
//! the editor's inline problems and conflicts, and that the server — not
//! the page — refuses what a role may not do.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::serve::{call, login, start, Server};
use crate::util::*;

fn sign_in(browser: &Browser, server: &Server, user: &str) {
    browser.goto(&format!("{}/signin", server.base));
    browser.fill("#user", user);
    browser.fill("#password", &format!("{user}-password"));
    browser.click("#sign-in");
    browser.wait_for(10, "signing in", |b| !b.url().ends_with("/signin"));
}

fn profile_file(server: &Server, stem: &str) -> String {
    std::fs::read_to_string(server.catalog.join("profiles").join(format!("{stem}.toml")))
        .unwrap_or_default()
}

/// The values of the hidden inputs holding an ordered column list.
fn column_list(browser: &Browser, list: &str) -> Vec<String> {
    browser
        .all(&format!("input[type=hidden][name={list}]"))
        .iter()
        .map(|e| browser.property(e, "value"))
        .collect()
}

fn check_catalogue(catalog: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args(["profiles", "check", "--catalog", catalog.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the catalogue stays valid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_editor_adds_a_profile_fixing_the_problems_shown_next_to_their_fields() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "ana");
    assert!(b.url().ends_with("/profiles"), "{}", b.url());
    b.screenshot("profiles-list");
    b.click("#add-profile");
    assert!(b.url().ends_with("/profiles/new"));
    b.fill("#name", "Console made");
    b.fill("#description", "Made in the browser");
    b.click("#report-site-calls");
    b.fill("#top_destinations", "0");
    b.click("#save");
    // Every problem at once, each beside its field; nothing saved.
    assert!(b.text("#problems").contains("nothing was saved"));
    assert!(
        b.text("#call_columns-error").contains("no call columns"),
        "{}",
        b.text("main")
    );
    assert!(b.text("#top_destinations-error").contains("out of range"));
    assert_eq!(b.property(&b.find("#name"), "value"), "Console made");
    assert_eq!(
        b.property(&b.find("#top_destinations"), "ariaInvalid"),
        "true"
    );
    b.screenshot("profile-editor-problems");
    assert!(profile_file(&server, "console-made").is_empty());
    // Ordered columns: add two, move the second up.
    b.choose("#call_columns_add", "charge");
    b.click("#call_columns-add-button");
    b.choose("#call_columns_add", "dialled");
    b.click("#call_columns-add-button");
    assert_eq!(column_list(&b, "call_columns"), ["charge", "dialled"]);
    b.click("button[value='call_columns:up:1']");
    assert_eq!(column_list(&b, "call_columns"), ["dialled", "charge"]);
    b.click("button[value='call_columns:remove:1']");
    assert_eq!(column_list(&b, "call_columns"), ["dialled"]);
    b.choose("#call_columns_add", "charge");
    b.click("#call_columns-add-button");
    // The moves kept what was typed and ticked.
    assert_eq!(b.property(&b.find("#report-site-calls"), "checked"), "true");
    b.fill("#top_destinations", "");
    b.choose("#customer", "ACME");
    b.script("window.scrollTo(0, 0);");
    b.screenshot("profile-editor");
    b.script("document.getElementById('report-site-calls').scrollIntoView();");
    b.screenshot("profile-editor-reports-and-columns");
    b.click("#save");
    assert!(b.url().contains("/profiles?saved="), "{}", b.text("main"));
    assert!(b.text("#notice").contains("Saved"));
    assert!(b.text("#profiles").contains("Console made"));
    assert!(b.text("#profiles").contains("Customer ACME"));
    let saved: toml::Table = toml::from_str(&profile_file(&server, "console-made")).unwrap();
    assert_eq!(
        saved["call_columns"],
        toml::Value::from(vec!["dialled", "charge"])
    );
    assert_eq!(saved["description"].as_str(), Some("Made in the browser"));
    assert_eq!(saved["customer"].as_str(), Some("ACME"));
    check_catalogue(&server.catalog);
}

#[test]
fn a_historic_profile_leaves_the_basic_list_and_shows_at_standard() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    // A new profile that one invoice names as its own.
    let token = login(&server, "ana");
    let body = json!({"name": "Retire me", "reports": {"customer": ["summary"]}});
    let (status, answer, _) = call(
        &server,
        "POST",
        "/api/profiles",
        Some(&token),
        &[],
        Some(body),
    );
    assert_eq!(status, 201, "{answer}");
    let (status, answer, _) = call(
        &server,
        "PUT",
        "/api/invoices/INV-2026-10-0045/profile",
        Some(&token),
        &[],
        Some(json!({"profile": "Retire me"})),
    );
    assert_eq!(status, 200, "{answer}");
    let b = Browser::new();
    sign_in(&b, &server, "ana");
    // Named by no one: may be deleted. In use: only made historic.
    b.goto(&format!("{}/profiles/edit?name=Everything", server.base));
    assert!(b.exists("#delete"));
    b.goto(&format!("{}/profiles/edit?name=Retire%20me", server.base));
    assert!(!b.exists("#delete"), "no delete for a profile in use");
    assert!(b.text("main").contains("it cannot be deleted"));
    b.click("#make-historic");
    assert!(
        b.text("#notice").contains("It is historic"),
        "{}",
        b.text("main")
    );
    let list = b.text("#profiles");
    assert!(!list.contains("Retire me"), "{list}");
    assert!(!list.contains("Legacy 2019"));
    assert!(b
        .text("main")
        .contains("Historic profiles are shown from the Standard"));
    b.choose("#expert_level", "standard");
    b.click("#expert-level-show");
    let list = b.text("#profiles");
    assert!(list.contains("Retire me"), "{list}");
    assert!(list.contains("Legacy 2019"));
    assert!(profile_file(&server, "retire-me").contains("availability = \"historic\""));
    // The invoice that names it keeps it.
    b.goto(&format!("{}/invoices", server.base));
    assert!(b.text("#invoices").contains("would render with Retire me"));
    // A customer's default cannot be retired from under it: what would stop
    // rendering is named, and nothing changes.
    let before = profile_file(&server, "site-detail");
    b.goto(&format!("{}/profiles/edit?name=Site%20detail", server.base));
    b.click("#make-historic");
    let notice = b.text("#notice");
    assert!(notice.starts_with("Not made historic"), "{notice}");
    assert!(
        notice.contains("customer ACME's new invoices")
            && notice.contains("invoice INV-2026-10-0042"),
        "{notice}"
    );
    assert_eq!(profile_file(&server, "site-detail"), before);
    b.screenshot("profile-historic-refused");
    check_catalogue(&server.catalog);
}

#[test]
fn saving_a_profile_unchanged_leaves_its_file_and_the_audit_log_alone() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "ana");
    b.choose("#expert_level", "standard");
    b.click("#expert-level-show");
    let stems = [
        "acme-bespoke",
        "enterprise-detail",
        "everything",
        "legacy-2019",
        "one-line-summary",
        "site-detail",
    ];
    for stem in stems {
        let before = profile_file(&server, stem);
        let name = before
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .unwrap()
            .trim_end_matches('"')
            .to_string();
        b.goto(&format!(
            "{}/profiles/edit?name={}",
            server.base,
            name.replace(' ', "%20")
        ));
        b.click("#save");
        assert!(
            b.text("#notice").contains("Saved"),
            "{stem}: {}",
            b.text("main")
        );
        assert_eq!(profile_file(&server, stem), before, "{stem} is unchanged");
    }
    assert!(
        !server.catalog.join("audit.jsonl").exists(),
        "nothing to audit"
    );
}

#[test]
fn a_second_session_saving_the_same_profile_is_told_and_nothing_is_overwritten() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let (ana, eve) = (Browser::new(), Browser::new());
    sign_in(&ana, &server, "ana");
    sign_in(&eve, &server, "eve");
    let page = format!("{}/profiles/edit?name=Everything", server.base);
    ana.goto(&page);
    eve.goto(&page);
    eve.fill("#description", "Eve's words");
    eve.click("#save");
    assert!(eve.text("#notice").contains("Saved"));
    ana.fill("#description", "Ana's words");
    ana.click("#save");
    assert!(
        ana.text("#notice").contains("Someone saved this profile"),
        "{}",
        ana.text("main")
    );
    // Ana's change is still in her form; the file holds Eve's.
    assert_eq!(
        ana.property(&ana.find("#description"), "value"),
        "Ana's words"
    );
    ana.screenshot("profile-editor-conflict");
    let file = profile_file(&server, "everything");
    assert!(file.contains("Eve's words") && !file.contains("Ana's words"));
    ana.click("#reload");
    assert_eq!(
        ana.property(&ana.find("#description"), "value"),
        "Eve's words"
    );
}

/// A raw form post with a session cookie, as a forger would send it.
fn post_form(server: &Server, path: &str, cookie: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let request = ureq::AgentBuilder::new()
        .redirects(0)
        .build()
        .post(&format!("{}{path}", server.base))
        .set("Origin", &server.base)
        .set("Cookie", &format!("usage_report_session={cookie}"));
    let result = request.send_form(fields);
    match result {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{path}: {e}"),
    }
}

#[test]
fn a_viewer_has_no_profile_pages_and_forged_posts_are_refused_by_the_server() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "vic");
    assert!(b.url().ends_with("/customers"), "{}", b.url());
    assert!(!b.exists("header nav a[href='/profiles']"));
    assert!(b.exists("header nav a[href='/invoices']"));
    assert!(!b.exists("#customers select"), "a viewer changes nothing");
    b.goto(&format!("{}/profiles", server.base));
    assert!(b.text("h1").contains("Not allowed"));
    assert!(!b.exists("#profiles"));
    b.goto(&format!("{}/profiles/edit?name=Everything", server.base));
    assert!(b.text("h1").contains("Not allowed"));
    // The viewer's own cookie and anti-forgery token, on forged posts.
    let cookie = b.cookie("usage_report_session");
    let csrf = b.property(&b.find("input[name=csrf]"), "value");
    let customers_before = std::fs::read(server.catalog.join("customers.csv")).unwrap();
    let forged: [(&str, Vec<(&str, &str)>); 5] = [
        (
            "/profiles/form",
            vec![
                ("csrf", &csrf),
                ("name", "Forged"),
                ("reports", "customer:summary"),
                ("op", "save"),
            ],
        ),
        (
            "/profiles/historic",
            vec![("csrf", &csrf), ("name", "Everything"), ("version", "x")],
        ),
        (
            "/customers/profile",
            vec![("csrf", &csrf), ("id", "ACME"), ("profile", "Everything")],
        ),
        ("/runs", vec![("csrf", &csrf)]),
        (
            "/samples",
            vec![
                ("csrf", &csrf),
                ("customer", "ACME"),
                ("from", "2026-10-01"),
                ("to", "2026-11-01"),
                ("profile", "Everything"),
                ("rows", "5"),
                ("seed", "1"),
                ("formats", "csv"),
            ],
        ),
    ];
    for (path, fields) in &forged {
        let (status, body) = post_form(&server, path, &cookie, fields);
        assert_eq!(status, 403, "{path}: {body}");
    }
    assert!(profile_file(&server, "forged").is_empty());
    assert_eq!(
        std::fs::read(server.catalog.join("customers.csv")).unwrap(),
        customers_before
    );
    // An editor's post without its token, or from another site, is refused
    // too; without a session it is 401.
    let editor = Browser::new();
    sign_in(&editor, &server, "ana");
    let cookie = editor.cookie("usage_report_session");
    let set = [("id", "ACME"), ("profile", "Everything")];
    assert_eq!(
        post_form(&server, "/customers/profile", &cookie, &set).0,
        403
    );
    let csrf = editor.property(&editor.find("input[name=csrf]"), "value");
    let with_token = [
        ("id", "ACME"),
        ("profile", "Everything"),
        ("csrf", csrf.as_str()),
    ];
    let cross_site = ureq::post(&format!("{}/customers/profile", server.base))
        .set("Cookie", &format!("usage_report_session={cookie}"))
        .set("Origin", "http://evil.example")
        .send_form(&with_token);
    assert!(matches!(cross_site, Err(ureq::Error::Status(403, _))));
    assert_eq!(
        post_form(&server, "/customers/profile", "nope", &with_token).0,
        401
    );
    assert_eq!(
        std::fs::read(server.catalog.join("customers.csv")).unwrap(),
        customers_before
    );
    // With both, the same post lands.
    assert_eq!(
        post_form(&server, "/customers/profile", &cookie, &with_token).0,
        303
    );
}

#[test]
fn an_invoice_or_customer_cannot_be_pointed_at_a_profile_the_rules_refuse() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "ana");
    b.goto(&format!("{}/invoices", server.base));
    let row = "form:has(input[value='INV-2026-10-0045'])";
    let before = std::fs::read(server.catalog.join("invoices.csv")).unwrap();
    b.choose(&format!("{row} select"), "ACME bespoke");
    b.click(&format!("{row} button"));
    let note = b.text(".row-note");
    assert!(note.starts_with("Not saved"), "{note}");
    assert!(
        note.contains("ACME"),
        "the reason names the restriction: {note}"
    );
    assert_eq!(
        std::fs::read(server.catalog.join("invoices.csv")).unwrap(),
        before
    );
    b.screenshot("invoices-refused");
    b.choose(&format!("{row} select"), "One-line summary");
    b.click(&format!("{row} button"));
    assert_eq!(b.text(".row-note"), "Saved.");
    let verdicts = b.text("#invoices");
    assert!(
        verdicts.contains("would render with One-line summary"),
        "{verdicts}"
    );
    // A customer's default, the same way.
    b.goto(&format!("{}/customers", server.base));
    let row = "form:has(input[value='HOOLI'])";
    b.choose(&format!("{row} select"), "ACME bespoke");
    b.click(&format!("{row} button"));
    assert!(b.text(".row-note").starts_with("Not saved"));
    check_catalogue(&server.catalog);
}

#[test]
fn finance_exports_a_sample_and_its_zip_holds_the_manifest() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "fin");
    assert!(
        !b.exists("#add-profile"),
        "finance reads profiles, edits none"
    );
    b.goto(&format!("{}/samples", server.base));
    b.choose("#customer", "ACME");
    b.choose("#profile", "Site detail");
    b.fill("#rows", "40");
    b.fill("#seed", "7");
    b.click("#format-xlsx");
    b.click("#format-pdf");
    b.screenshot("samples");
    b.click_to_download("#export-sample");
    let zip = b.downloaded("zip");
    assert!(zip.to_string_lossy().ends_with(".zip"), "{}", zip.display());
    let entries = crate::xlsx::zip_entries(&std::fs::read(&zip).unwrap());
    let manifest: Value = serde_json::from_str(&entries["manifest.json"]).unwrap();
    assert_eq!(manifest["customer"], json!("ACME"));
    assert_eq!(manifest["profile"], json!("Site detail"));
    assert_eq!(manifest["sample"]["seed"], json!(7));
    for a in manifest["attachments"].as_array().unwrap() {
        let path = a["path"].as_str().unwrap();
        assert!(entries.contains_key(path), "{path} is in the zip");
        assert_eq!(a["format"], json!("csv"));
    }
}

#[test]
fn an_operator_runs_billing_and_sees_the_statuses_the_command_line_gives() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "ops");
    b.goto(&format!("{}/runs", server.base));
    b.click("#start-run");
    assert!(b.url().contains("/runs/view?id=1"), "{}", b.url());
    b.wait_for(120, "the run to finish", |b| {
        b.text("#run-state") == "finished"
    });
    b.screenshot("run-finished");
    let rows = b.all("#run-invoices tbody tr");
    let mut seen = Vec::new();
    for i in 1..=rows.len() {
        let invoice = b.text(&format!("#run-invoices tbody tr:nth-child({i}) th"));
        let status = b.text(&format!("#run-invoices tbody tr:nth-child({i}) td.status"));
        seen.push((invoice, status));
    }
    // The same catalogue and records through the command line.
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args(["run", "--catalog", server.catalog.to_str().unwrap()])
        .args(["--records", &fixture("records.csv")])
        .args(["--records", &fixture("catalog/records.csv")])
        .args(["--out", out.path().to_str().unwrap()])
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("run.json")).unwrap())
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&run.stderr)));
    let expected: Vec<(String, String)> = report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice"].as_str().unwrap().to_string(),
                i["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(seen, expected);
    assert!(expected.iter().any(|(_, s)| s == "rendered"));
    assert!(expected.iter().any(|(_, s)| s != "rendered"));
    // The attachments are links the operator can follow.
    let link = b.find("#run-invoices a[href^='/attachments?']");
    let href = b.property(&link, "href");
    let cookie = b.cookie("usage_report_session");
    let file = ureq::get(&href)
        .set("Cookie", &format!("usage_report_session={cookie}"))
        .call()
        .unwrap();
    assert!(file
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
}

#[test]
fn names_from_data_are_shown_as_text_never_as_markup() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let token = login(&server, "ana");
    let name = "<img src=x onerror=alert(1)>";
    let (status, body, _) = call(
        &server,
        "POST",
        "/api/profiles",
        Some(&token),
        &[],
        Some(
            json!({"name": name, "description": "<script>alert(2)</script>\"'&", "reports": {"customer": ["summary"]}}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    // A customer whose name is markup, added to the catalogue by hand.
    let customers = server.catalog.join("customers.csv");
    let mut text = std::fs::read_to_string(&customers).unwrap();
    text.push_str("EVIL,<b>bold</b> Ltd,<i>grp</i>,,Europe/London,GBP,true\n");
    std::fs::write(&customers, text).unwrap();
    let b = Browser::new();
    sign_in(&b, &server, "ana");
    let list = b.text("#profiles");
    assert!(list.contains(name), "{list}");
    assert!(list.contains("<script>alert(2)</script>\"'&"));
    assert!(!b.exists("main img") && !b.exists("main script"));
    assert!(b.source().contains("&lt;img src=x onerror=alert(1)&gt;"));
    b.click("#profiles a[href*='onerror']");
    assert_eq!(b.property(&b.find("#name"), "value"), name);
    assert!(b.text("h1").contains(name));
    assert!(!b.exists("main img"));
    b.goto(&format!("{}/customers", server.base));
    assert!(b.text("#customers").contains("<b>bold</b> Ltd"));
    assert!(!b.exists("#customers b") && !b.exists("#customers i"));
    let groups = b.text("#customers");
    assert!(groups.contains("<i>grp</i>"));
}

#[test]
fn a_preview_shows_what_the_unsaved_profile_would_render_and_downloads_it() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "ana");
    b.goto(&format!("{}/profiles/edit?name=Site%20detail", server.base));
    // The invoice the rules give this profile is chosen already.
    assert_eq!(
        b.property(&b.find("#preview_invoice"), "value"),
        "INV-2026-10-0042"
    );
    b.choose("#call_columns_add", "rate");
    b.click("#call_columns-add-button");
    b.click("#preview-button");
    let table = b.text("#preview-table");
    assert!(table.contains("Site calls"), "{table}");
    // This form shows the rate; the saved version does not.
    let row = b.text("#preview-table tbody tr:nth-child(3)");
    assert!(row.contains("Site calls"), "{row}");
    let now = b.text("#preview-table tbody tr:nth-child(3) td:nth-child(3)");
    let saved = b.text("#preview-table tbody tr:nth-child(3) td:nth-child(5)");
    assert!(
        now.contains("Rate") && !saved.contains("Rate"),
        "{now} / {saved}"
    );
    assert_eq!(
        b.text("#preview-table tbody tr:nth-child(3) .badge"),
        "changed"
    );
    assert!(!b.exists("#preview-table tbody tr:nth-child(1) .badge"));
    // And in words, as `profiles diff` says it.
    assert_eq!(
        b.text("#preview-changes"),
        "call_columns: rate added at position 7"
    );
    b.screenshot("profile-preview");
    // Nothing was saved by previewing.
    assert!(!profile_file(&server, "site-detail").contains("rate"));
    b.click_to_download("button[value='download:pdf']");
    let pdf = b.downloaded("pdf");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    b.click_to_download("button[value='download:xlsx']");
    let xlsx = std::fs::read(b.downloaded("xlsx")).unwrap();
    let sheets = crate::xlsx::zip_entries(&xlsx);
    assert!(
        sheets.keys().any(|k| k.starts_with("xl/worksheets/")),
        "{:?}",
        sheets.keys()
    );
    b.click_to_download("button[value='download:csv']");
    // The CSV reports come as one zip.
    let csvs = crate::xlsx::zip_entries(&std::fs::read(b.downloaded("zip")).unwrap());
    let site_calls = &csvs["site_calls.csv"];
    assert!(
        site_calls
            .lines()
            .next()
            .unwrap()
            .contains("Rate per minute"),
        "{site_calls}"
    );
    // Previews write nothing: no attachments, no audit entry.
    assert!(!server.catalog.join("out").exists());
    assert!(!server.catalog.join("audit.jsonl").exists());
}

#[test]
fn sessions_end_on_sign_out_and_wrong_passwords_are_told() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    b.goto(&format!("{}/profiles", server.base));
    assert!(b.url().ends_with("/signin"));
    b.fill("#user", "ana");
    b.fill("#password", "wrong");
    b.click("#sign-in");
    assert_eq!(b.text("#notice"), "Wrong user or password.");
    b.screenshot("sign-in");
    sign_in(&b, &server, "adm");
    b.goto(&format!("{}/audit", server.base));
    assert!(b.exists("#audit"));
    let cookie = b.cookie("usage_report_session");
    b.click("#sign-out");
    assert!(b.url().ends_with("/signin"));
    // The server ended the session: the old cookie, replayed, gets nowhere.
    let replay = ureq::AgentBuilder::new()
        .redirects(0)
        .build()
        .get(&format!("{}/audit", server.base))
        .set("Cookie", &format!("usage_report_session={cookie}"))
        .call()
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert!(replay.header("location").unwrap().starts_with("/signin"));
    // A sign-in form posted from another site is refused.
    let forged = ureq::post(&format!("{}/signin", server.base))
        .set("Origin", "http://evil.example")
        .send_form(&[("user", "adm"), ("password", "adm-password")]);
    assert!(matches!(forged, Err(ureq::Error::Status(403, _))));
}

#[test]
fn pages_fit_a_phone_and_every_control_has_a_label() {
    let _one = crate::browser::one_at_a_time();
    let server = start();
    let b = Browser::new();
    sign_in(&b, &server, "adm");
    let unlabelled = "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))\
        .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name || e.id);";
    for page in [
        "/profiles",
        "/profiles/edit?name=Everything",
        "/profiles/new",
        "/customers",
        "/invoices",
        "/samples",
        "/runs",
        "/audit",
    ] {
        b.goto(&format!("{}{page}", server.base));
        assert_eq!(b.script(unlabelled), json!([]), "{page}");
    }
    b.window(390, 844);
    for page in [
        "/profiles",
        "/profiles/edit?name=Everything",
        "/customers",
        "/invoices",
        "/samples",
        "/runs",
        "/audit",
    ] {
        b.goto(&format!("{}{page}", server.base));
        let fits = b.script("return document.body.scrollWidth <= window.innerWidth;");
        assert_eq!(fits, json!(true), "{page} is wider than a phone");
    }
    b.screenshot("profile-editor-phone");
}
