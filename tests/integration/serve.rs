//! `usage-report serve` over HTTP on 127.0.0.1 (port 0): sign-in, the roles'
//! permissions checked on the server, profiles with versions (no lost
//! update), the profile rules on customers and invoices, and the audit log.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::util::*;

/// A running server on a copy of the fixture catalogue, stopped on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    pub(crate) catalog: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        // What the README's console demo leaves in the fixture catalogue.
        if ["users.toml", "audit.jsonl", "out"].contains(&entry.file_name().to_str().unwrap()) {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn add_user(catalog: &Path, name: &str, role: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args([
            "users",
            "add",
            name,
            "--role",
            role,
            "--catalog",
            catalog.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("cat");
    copy_dir(&root().join("fixtures/catalog"), &catalog);
    for (name, role) in [
        ("ana", "editor"),
        ("eve", "editor"),
        ("vic", "viewer"),
        ("fin", "finance"),
        ("ops", "operator"),
        ("adm", "admin"),
    ] {
        add_user(&catalog, name, role, &format!("{name}-password"));
    }
    let records = [fixture("records.csv"), fixture("catalog/records.csv")];
    let mut child = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args([
            "serve",
            "--catalog",
            catalog.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--records", &records[0], "--records", &records[1]])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("usage-report: listening on ")
        .unwrap_or_else(|| panic!("the server says where it listens: {line:?}"))
        .to_string();
    Server {
        child,
        base,
        catalog,
        _dir: dir,
    }
}

/// One request: status, JSON body (`null` when none) and ETag.
pub(crate) fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let mut request = ureq::request(method, &format!("{}{path}", server.base));
    if let Some(t) = token {
        request = request.set("Authorization", &format!("Bearer {t}"));
    }
    for (k, v) in headers {
        request = request.set(k, v);
    }
    let result = match body {
        Some(b) => request.send_json(b),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = response.status();
    let etag = response
        .header("etag")
        .map(|e| e.trim_matches('"').to_string());
    let text = response.into_string().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body, etag)
}

pub(crate) fn login(server: &Server, user: &str) -> String {
    let (status, body, _) = call(
        server,
        "POST",
        "/api/login",
        None,
        &[],
        Some(json!({"user": user, "password": format!("{user}-password")})),
    );
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// `POST /api/profiles` of a profile document: the status and body.
fn post_profile(server: &Server, token: &str, profile: Value) -> (u16, Value) {
    let (status, body, _) = call(
        server,
        "POST",
        "/api/profiles",
        Some(token),
        &[],
        Some(profile),
    );
    (status, body)
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sign_in_and_the_roles_are_enforced_on_the_server() {
    let server = start();
    assert_eq!(
        ureq::get(&format!("{}/healthz", server.base))
            .call()
            .unwrap()
            .status(),
        200
    );
    // Wrong password and unknown user answer alike.
    let wrong = call(
        &server,
        "POST",
        "/api/login",
        None,
        &[],
        Some(json!({"user": "ana", "password": "nope-nope"})),
    );
    let unknown = call(
        &server,
        "POST",
        "/api/login",
        None,
        &[],
        Some(json!({"user": "zed", "password": "nope-nope"})),
    );
    assert_eq!((wrong.0, unknown.0), (401, 401));
    assert_eq!(wrong.1, unknown.1);
    let (status, body, _) = call(
        &server,
        "POST",
        "/api/login",
        None,
        &[],
        Some(json!({"user": "ana", "password": "ana-password"})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        (body["role"].as_str(), body["expert_level"].as_str()),
        (Some("editor"), Some("basic"))
    );
    assert!(
        body["token"].as_str().unwrap().len() >= 32,
        "128 bits at least"
    );
    // Without a token, with a bad one: 401.
    assert_eq!(
        call(&server, "GET", "/api/customers", None, &[], None).0,
        401
    );
    assert_eq!(
        call(
            &server,
            "GET",
            "/api/customers",
            Some("0123456789abcdef0123456789abcdef"),
            &[],
            None
        )
        .0,
        401
    );
    // A viewer reads customers and invoices, nothing about profiles.
    let viewer = login(&server, "vic");
    assert_eq!(
        call(&server, "GET", "/api/customers", Some(&viewer), &[], None).0,
        200
    );
    assert_eq!(
        call(&server, "GET", "/api/invoices", Some(&viewer), &[], None).0,
        200
    );
    assert_eq!(
        call(&server, "GET", "/api/profiles", Some(&viewer), &[], None).0,
        403
    );
    assert_eq!(
        call(
            &server,
            "GET",
            "/api/profiles/Everything",
            Some(&viewer),
            &[],
            None
        )
        .0,
        403
    );
    let file = server.catalog.join("profiles/everything.toml");
    let before = std::fs::read(&file).unwrap();
    let edit = json!({"name": "Everything", "reports": {"customer": ["summary"]}});
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/profiles/Everything",
            Some(&viewer),
            &[("If-Match", "x")],
            Some(edit.clone())
        )
        .0,
        403
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "a refused request changes nothing"
    );
    // Finance and operators read profiles but do not edit them; only the
    // admin reads the audit log.
    for role in ["fin", "ops"] {
        let token = login(&server, role);
        assert_eq!(
            call(&server, "GET", "/api/profiles", Some(&token), &[], None).0,
            200
        );
        assert_eq!(
            call(
                &server,
                "POST",
                "/api/profiles",
                Some(&token),
                &[],
                Some(json!({"name": "X", "reports": {"customer": ["summary"]}}))
            )
            .0,
            403
        );
        assert_eq!(
            call(&server, "GET", "/api/audit", Some(&token), &[], None).0,
            403
        );
    }
    assert_eq!(
        call(
            &server,
            "GET",
            "/api/audit",
            Some(&login(&server, "adm")),
            &[],
            None
        )
        .0,
        200
    );
}

#[test]
fn repeated_wrong_passwords_are_answered_429() {
    let server = start();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            call(
                &server,
                "POST",
                "/api/login",
                None,
                &[],
                Some(json!({"user": "ana", "password": "guess-guess"})),
            )
            .0,
        );
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(statuses[6], 429);
    // Even the right password waits.
    assert_eq!(
        call(
            &server,
            "POST",
            "/api/login",
            None,
            &[],
            Some(json!({"user": "ana", "password": "ana-password"}))
        )
        .0,
        429
    );
}

#[test]
fn profiles_are_listed_by_expert_level_and_edited_without_lost_updates() {
    let server = start();
    let editor = login(&server, "ana");
    let (_, list, _) = call(&server, "GET", "/api/profiles", Some(&editor), &[], None);
    assert!(
        !names(&list).contains(&"Legacy 2019".to_string()),
        "historic hidden at basic"
    );
    let (_, list, _) = call(
        &server,
        "GET",
        "/api/profiles?expert_level=standard",
        Some(&editor),
        &[],
        None,
    );
    assert!(names(&list).contains(&"Legacy 2019".to_string()));
    // A user at the standard expert level sees historic profiles by default.
    let mut child = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args([
            "users",
            "add",
            "sam",
            "--role",
            "editor",
            "--expert-level",
            "standard",
        ])
        .args(["--catalog", server.catalog.to_str().unwrap()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sam-password\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let (_, list, _) = call(
        &server,
        "GET",
        "/api/profiles",
        Some(&login(&server, "sam")),
        &[],
        None,
    );
    assert!(names(&list).contains(&"Legacy 2019".to_string()));
    // Historic profiles are always readable by name.
    let (status, legacy, etag) = call(
        &server,
        "GET",
        "/api/profiles/Legacy%202019",
        Some(&editor),
        &[],
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(legacy["availability"], "historic");
    assert_eq!(legacy["version"].as_str(), etag.as_deref());

    // Create: 201; the same name again: 409; a profile with problems: 422, all of them.
    let new = json!({"name": "Finance view", "description": "d", "call_columns": ["call_id", "charge"], "reports": {"site": ["summary", "calls"]}});
    let (status, created, _) = call(
        &server,
        "POST",
        "/api/profiles",
        Some(&editor),
        &[],
        Some(new.clone()),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        call(
            &server,
            "POST",
            "/api/profiles",
            Some(&editor),
            &[],
            Some(new.clone())
        )
        .0,
        409
    );
    let bad = json!({"name": "Bad", "call_columns": ["dialed", "charge", "charge"], "reports": {"site": ["sumary"]}});
    let (status, problems, _) = call(
        &server,
        "POST",
        "/api/profiles",
        Some(&editor),
        &[],
        Some(bad),
    );
    assert_eq!(status, 422);
    let problems: Vec<&str> = problems["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("did you mean \"summary\"")),
        "{problems:?}"
    );
    // A client names logos inside the catalogue only: no other file of
    // the server goes into a PDF.
    for logo in ["../../../etc/passwd", "/etc/passwd"] {
        let outside = json!({"name": "Outside", "logo": logo, "reports": {"site": ["summary"]}});
        let (status, body) = post_profile(&server, &editor, outside);
        assert_eq!(status, 422, "{logo}: {body}");
        assert!(
            body.to_string()
                .contains("leaves the profile catalogue's folder"),
            "{body}"
        );
        assert!(!body.to_string().contains("root:"), "{body}");
    }

    // Two editors edit the same version: one wins, the other is told (412).
    let (_, current, etag) = call(
        &server,
        "GET",
        "/api/profiles/Finance%20view",
        Some(&editor),
        &[],
        None,
    );
    let version = etag.unwrap();
    assert_eq!(current["version"].as_str(), Some(version.as_str()));
    let other = login(&server, "eve");
    let mut first = current.clone();
    first["description"] = json!("first save");
    let mut second = current.clone();
    second["description"] = json!("second save");
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/profiles/Finance%20view",
            Some(&editor),
            &[],
            Some(first.clone())
        )
        .0,
        428
    );
    let (status, saved, _) = call(
        &server,
        "PUT",
        "/api/profiles/Finance%20view",
        Some(&editor),
        &[("If-Match", &version)],
        Some(first),
    );
    assert_eq!(status, 200, "{saved}");
    let (status, _, _) = call(
        &server,
        "PUT",
        "/api/profiles/Finance%20view",
        Some(&other),
        &[("If-Match", &version)],
        Some(second),
    );
    assert_eq!(status, 412);
    let (_, now, _) = call(
        &server,
        "GET",
        "/api/profiles/Finance%20view",
        Some(&editor),
        &[],
        None,
    );
    assert_eq!(now["description"], "first save");
    assert_eq!(now["version"], saved["version"]);
    // A hand edit changes the version: the next save with the old one is refused.
    let file = std::fs::read_dir(server.catalog.join("profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).unwrap().contains("Finance view"))
        .unwrap();
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n# edited by hand\n");
    std::fs::write(&file, text).unwrap();
    let mut third = now.clone();
    third["description"] = json!("third");
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/profiles/Finance%20view",
            Some(&editor),
            &[("If-Match", now["version"].as_str().unwrap())],
            Some(third)
        )
        .0,
        412
    );
    // `profiles check` still passes on the catalogue the API wrote.
    ok(&[
        "profiles",
        "check",
        "--catalog",
        server.catalog.to_str().unwrap(),
    ]);

    // Deleting a profile in use is refused with who uses it; an unused one goes.
    let (status, body, _) = call(
        &server,
        "DELETE",
        "/api/profiles/Site%20detail",
        Some(&editor),
        &[],
        None,
    );
    assert_eq!(status, 409);
    assert_eq!(body["customers"], json!(["ACME"]));
    assert!(body["error"].as_str().unwrap().contains("historic"));
    assert_eq!(
        call(
            &server,
            "DELETE",
            "/api/profiles/Finance%20view",
            Some(&editor),
            &[],
            None
        )
        .0,
        204
    );
    assert_eq!(
        call(
            &server,
            "GET",
            "/api/profiles/Finance%20view",
            Some(&editor),
            &[],
            None
        )
        .0,
        404
    );

    // The audit log lists every change, with versions before and after.
    let (_, audit, _) = call(
        &server,
        "GET",
        "/api/audit",
        Some(&login(&server, "adm")),
        &[],
        None,
    );
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create profile", "update profile", "delete profile"]
    );
    assert_eq!(audit[1]["before"].as_str(), Some(version.as_str()));
    assert_eq!(audit[1]["user"], "ana");
}

#[test]
fn customers_and_invoices_point_at_profiles_under_the_rules() {
    let server = start();
    let editor = login(&server, "ana");
    let (_, invoices, _) = call(&server, "GET", "/api/invoices", Some(&editor), &[], None);
    let find = |list: &Value, id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        find(&invoices, "INV-2026-10-0042")["resolved"]["status"],
        "would_render"
    );
    let refused = find(&invoices, "INV-2026-10-0044")["resolved"].clone();
    assert_eq!(refused["status"], "refused");
    assert!(refused["reason"].as_str().unwrap().contains("historic"));
    // A historic profile as a customer's default: refused with run.json's reason.
    let (status, body, _) = call(
        &server,
        "PUT",
        "/api/customers/GLOBEX/default_profile",
        Some(&editor),
        &[],
        Some(json!({"profile": "Legacy 2019"})),
    );
    assert_eq!(status, 422);
    assert!(
        body["error"].as_str().unwrap().contains("is historic"),
        "{body}"
    );
    // A profile restricted to another customer: refused.
    let (status, body, _) = call(
        &server,
        "PUT",
        "/api/invoices/INV-2026-10-0043/profile",
        Some(&editor),
        &[],
        Some(json!({"profile": "ACME bespoke"})),
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("restricted to customer"),
        "{body}"
    );
    // An allowed choice lands in invoices.csv; null clears it.
    let (status, _, _) = call(
        &server,
        "PUT",
        "/api/invoices/INV-2026-10-0043/profile",
        Some(&editor),
        &[],
        Some(json!({"profile": "Everything"})),
    );
    assert_eq!(status, 200);
    let (_, invoices, _) = call(&server, "GET", "/api/invoices", Some(&editor), &[], None);
    assert_eq!(
        find(&invoices, "INV-2026-10-0043")["resolved"]["profile"],
        "Everything"
    );
    let (status, _, _) = call(
        &server,
        "PUT",
        "/api/customers/UMBRELLA/default_profile",
        Some(&editor),
        &[],
        Some(json!({"profile": "Everything"})),
    );
    assert_eq!(status, 200);
    let (_, customers, _) = call(&server, "GET", "/api/customers", Some(&editor), &[], None);
    assert_eq!(
        find(&customers, "UMBRELLA")["default_profile"],
        "Everything"
    );
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/customers/NOBODY/default_profile",
            Some(&editor),
            &[],
            Some(json!({"profile": null}))
        )
        .0,
        404
    );
    ok(&[
        "profiles",
        "check",
        "--catalog",
        server.catalog.to_str().unwrap(),
    ]);
    // The viewer may not point customers at profiles.
    let viewer = login(&server, "vic");
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/customers/UMBRELLA/default_profile",
            Some(&viewer),
            &[],
            Some(json!({"profile": null}))
        )
        .0,
        403
    );
    // No server path in any answer.
    let (_, body, _) = call(
        &server,
        "PUT",
        "/api/invoices/INV-2026-10-0043/profile",
        Some(&editor),
        &[],
        Some(json!({"profile": "No such"})),
    );
    assert!(
        !body.to_string().contains(server.catalog.to_str().unwrap()),
        "{body}"
    );
}

/// What the attack on the service found, each held: names that read back as
/// another profile, duplicate keys, parallel guessing, sessions outliving a
/// role change, If-Match forms, and catalogue tables kept as written.
#[test]
fn the_service_holds_against_what_an_attack_found() {
    let server = start();
    let editor = login(&server, "ana");
    // A name with white space at an end would be read back as another profile.
    let (status, body) = post_profile(
        &server,
        &editor,
        json!({"name": " ACME bespoke", "reports": {"customer": ["summary"]}}),
    );
    assert_eq!(status, 422, "{body}");
    // A key written twice is a problem, as in JSON profile files.
    let raw = ureq::post(&format!("{}/api/profiles", server.base))
        .set("Authorization", &format!("Bearer {editor}"))
        .set("Content-Type", "application/json")
        .send_string(r#"{"name":"dup-a","name":"dup-b","reports":{"customer":["summary"]}}"#);
    let status = match raw {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(status, 422);
    // If-Match: `*` matches, a weak tag never does, a list matches any member.
    let (_, current, etag) = call(
        &server,
        "GET",
        "/api/profiles/Everything",
        Some(&editor),
        &[],
        None,
    );
    let version = etag.unwrap();
    let weak = format!("W/\"{version}\"");
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/profiles/Everything",
            Some(&editor),
            &[("If-Match", &weak)],
            Some(current.clone())
        )
        .0,
        412
    );
    let list = format!("\"nope\", \"{version}\"");
    let (status, saved, _) = call(
        &server,
        "PUT",
        "/api/profiles/Everything",
        Some(&editor),
        &[("If-Match", &list)],
        Some(current.clone()),
    );
    assert_eq!(status, 200);
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/profiles/Everything",
            Some(&editor),
            &[("If-Match", "*")],
            Some(current)
        )
        .0,
        200,
        "{saved}"
    );
    // A table keeps its line ends and byte order mark.
    let customers = server.catalog.join("customers.csv");
    let text = std::fs::read_to_string(&customers).unwrap();
    std::fs::write(
        &customers,
        format!("\u{feff}{}", text.replace('\n', "\r\n")),
    )
    .unwrap();
    assert_eq!(
        call(
            &server,
            "PUT",
            "/api/customers/UMBRELLA/default_profile",
            Some(&editor),
            &[],
            Some(json!({"profile": "Everything"}))
        )
        .0,
        200
    );
    let after = std::fs::read(&customers).unwrap();
    assert!(
        after.starts_with(b"\xEF\xBB\xBF")
            && after.windows(2).filter(|w| w == b"\r\n").count() == text.lines().count()
    );
    // A demoted user's session ends at once; logging out ends it too.
    add_user(&server.catalog, "ana", "viewer", "ana-password");
    assert_eq!(
        call(&server, "GET", "/api/profiles", Some(&editor), &[], None).0,
        401
    );
    let viewer = login(&server, "vic");
    assert_eq!(
        call(&server, "POST", "/api/logout", Some(&viewer), &[], None).0,
        204
    );
    assert_eq!(
        call(&server, "GET", "/api/customers", Some(&viewer), &[], None).0,
        401
    );
    // Parallel guesses get no more tries than sequential ones.
    let base = server.base.clone();
    let guesses: Vec<_> = (0..12)
        .map(|_| {
            let base = base.clone();
            std::thread::spawn(move || {
                match ureq::post(&format!("{base}/api/login"))
                    .send_json(json!({"user": "ops", "password": "guess-guess"}))
                {
                    Ok(r) => r.status(),
                    Err(ureq::Error::Status(code, _)) => code,
                    Err(e) => panic!("{e}"),
                }
            })
        })
        .collect();
    let statuses: Vec<u16> = guesses.into_iter().map(|g| g.join().unwrap()).collect();
    assert!(
        statuses.iter().filter(|s| **s == 401).count() <= 5,
        "{statuses:?}"
    );
    // No server path in any answer, even for a catalogue named with a slash.
    let (_, body, _) = call(
        &server,
        "PUT",
        "/api/invoices/INV-2026-10-0043/profile",
        Some(&login(&server, "eve")),
        &[],
        Some(json!({"profile": "No such"})),
    );
    assert!(!body.to_string().contains("/tmp"), "{body}");
}

/// Raw bytes of a GET.
fn download(server: &Server, path: &str, token: &str) -> (u16, Vec<u8>) {
    let result = ureq::get(&format!("{}{path}", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call();
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{path}: {e}"),
    };
    let status = response.status();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).unwrap();
    (status, bytes)
}

/// Renders, samples and runs through the API give the CLI's bytes; runs
/// go one at a time; attachments are only the listed files; `/metrics`
/// counts requests by route.
#[test]
fn renders_samples_and_runs_through_the_api_match_the_command_line() {
    let server = start();
    let operator = login(&server, "ops");
    let viewer = login(&server, "vic");
    let body = json!({"formats": ["csv", "xlsx", "pdf"]});
    assert_eq!(
        call(
            &server,
            "POST",
            "/api/invoices/INV-2026-10-0042/render",
            Some(&viewer),
            &[],
            Some(body.clone())
        )
        .0,
        403
    );
    let (status, manifest, _) = call(
        &server,
        "POST",
        "/api/invoices/INV-2026-10-0042/render",
        Some(&operator),
        &[],
        Some(body),
    );
    assert_eq!(status, 200, "{manifest}");
    // The same invoice by the CLI: the same attachments, byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("cli");
    let records = [fixture("records.csv"), fixture("catalog/records.csv")];
    ok(&[
        "render",
        "--profile",
        &fixture("catalog/profiles/site-detail.toml"),
        "--records",
        &records[0],
        "--records",
        &records[1],
        "--customer",
        "ACME",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--timezone",
        "Europe/London",
        "--currency",
        "GBP",
        "--customer-name",
        "ACME Ltd",
        "--invoice",
        "INV-2026-10-0042",
        "--format",
        "csv,xlsx,pdf",
        "--out",
        cli.to_str().unwrap(),
    ]);
    for a in manifest["attachments"].as_array().unwrap() {
        let path = a["path"].as_str().unwrap();
        let (status, bytes) = download(
            &server,
            &format!("/api/invoices/INV-2026-10-0042/attachments/{path}"),
            &viewer,
        );
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            bytes,
            std::fs::read(cli.join(path)).unwrap(),
            "{path} as the CLI writes it"
        );
    }
    for bad in ["manifest.json", "..%2F..%2Fcustomers.csv", "nope.csv"] {
        assert_eq!(
            download(
                &server,
                &format!("/api/invoices/INV-2026-10-0042/attachments/{bad}"),
                &viewer
            )
            .0,
            404,
            "{bad}"
        );
    }
    // Renders of one invoice at once take turns: both land, whole.
    let parallel: Vec<_> = (0..4)
        .map(|_| {
            let (base, token) = (server.base.clone(), operator.clone());
            std::thread::spawn(move || {
                ureq::post(&format!("{base}/api/invoices/INV-2026-10-0042/render"))
                    .set("Authorization", &format!("Bearer {token}"))
                    .send_json(json!({"formats": ["csv", "pdf"]}))
                    .map(|r| r.status())
                    .unwrap_or_else(|e| match e {
                        ureq::Error::Status(code, _) => code,
                        other => panic!("{other}"),
                    })
            })
        })
        .collect();
    for render in parallel {
        assert_eq!(render.join().unwrap(), 200);
    }
    // A client that goes away mid-download does not take the server with it.
    {
        use std::io::Read;
        let address = server.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let pdf = "INV-2026-10-0042_usage.pdf";
        write!(
            stream,
            "GET /api/invoices/INV-2026-10-0042/attachments/{pdf} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {viewer}\r\n\r\n"
        )
        .unwrap();
        let mut first = [0u8; 16];
        stream.read_exact(&mut first).unwrap();
        assert!(first.starts_with(b"HTTP/1.1 200"));
        drop(stream);
        assert_eq!(
            download(
                &server,
                &format!("/api/invoices/INV-2026-10-0042/attachments/{pdf}"),
                &viewer
            )
            .0,
            200
        );
    }
    // A refused invoice names the rule's reason.
    let (status, body, _) = call(
        &server,
        "POST",
        "/api/invoices/INV-2026-10-0044/render",
        Some(&operator),
        &[],
        None,
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("historic"),
        "{body}"
    );
    let unknown = call(
        &server,
        "POST",
        "/api/invoices/NOPE/render",
        Some(&operator),
        &[],
        None,
    );
    assert_eq!(unknown.0, 404);

    // A sample: the zip holds what `usage-report sample` writes.
    let finance = login(&server, "fin");
    let ask = json!({"customer": "ACME", "from": "2026-10-01", "to": "2026-11-01", "profile": "Everything", "rows": 5, "seed": 7, "formats": ["csv"]});
    assert_eq!(
        call(
            &server,
            "POST",
            "/api/samples",
            Some(&operator),
            &[],
            Some(ask.clone())
        )
        .0,
        403
    );
    let response = ureq::post(&format!("{}/api/samples", server.base))
        .set("Authorization", &format!("Bearer {finance}"))
        .send_json(ask)
        .unwrap();
    let mut zip = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut zip).unwrap();
    let sample = dir.path().join("sample");
    ok(&[
        "sample",
        "--profile",
        &fixture("catalog/profiles/everything.toml"),
        "--records",
        &records[0],
        "--records",
        &records[1],
        "--customer",
        "ACME",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--timezone",
        "Europe/London",
        "--currency",
        "GBP",
        "--customer-name",
        "ACME Ltd",
        "--rows",
        "5",
        "--seed",
        "7",
        "--out",
        sample.to_str().unwrap(),
    ]);
    let zipped = crate::xlsx::zip_entries(&zip);
    let written = files(&sample);
    assert_eq!(
        zipped.keys().collect::<Vec<_>>(),
        written.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &written {
        assert!(
            zipped[name].as_bytes() == bytes.as_slice(),
            "{name} differs"
        );
    }

    // A run: 202, then finished with run.json reconciling like the CLI's.
    let (status, started, _) = call(
        &server,
        "POST",
        "/api/runs",
        Some(&operator),
        &[],
        Some(json!({})),
    );
    assert_eq!(status, 202);
    let id = started["id"].as_str().unwrap().to_string();
    let mut view = Value::Null;
    for _ in 0..400 {
        view = call(
            &server,
            "GET",
            &format!("/api/runs/{id}"),
            Some(&operator),
            &[],
            None,
        )
        .1;
        if view["state"] != "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(view["state"], "finished", "{view}");
    let input = &view["run"]["input"];
    let n = |k: &str| input[k].as_u64().unwrap();
    assert_eq!(
        n("records"),
        n("in_scope") + n("not_invoiced") + n("rejected")
    );
    assert_eq!(view["run"]["summary"]["rendered"], 4);

    // Metrics count by route pattern, never by the data in a path.
    let text = ureq::get(&format!("{}/metrics", server.base))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        text.contains("route=\"/api/invoices/{id}/render\",status=\"200\"} 5"),
        "{text}"
    );
    assert!(text.contains("usage_report_runs_total 1"), "{text}");
    assert!(!text.contains("INV-2026"), "{text}");
}

/// A profile saved through the API stays reviewable in git: comments, key
/// order and unchanged keys are kept, only what changed is rewritten.
#[test]
fn a_save_keeps_what_a_person_wrote_around_the_change() {
    let server = start();
    let editor = login(&server, "ana");
    let file = server.catalog.join("profiles/one-line-summary.toml");
    let before = std::fs::read_to_string(&file).unwrap();
    let (_, mut doc, etag) = call(
        &server,
        "GET",
        "/api/profiles/One-line%20summary",
        Some(&editor),
        &[],
        None,
    );
    doc["description"] = json!("One line, as agreed");
    let version = etag.unwrap();
    let (status, body, _) = call(
        &server,
        "PUT",
        "/api/profiles/One-line%20summary",
        Some(&editor),
        &[("If-Match", &version)],
        Some(doc),
    );
    assert_eq!(status, 200, "{body}");
    let after = std::fs::read_to_string(&file).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count(), "{after}");
    assert_eq!(
        changed.len(),
        1,
        "only the description line changes: {changed:?}"
    );
    assert!(changed[0].1.contains("One line, as agreed"));
    assert!(
        after.starts_with('#') == before.starts_with('#'),
        "the comment stays"
    );
}

/// A client that sends half a request and waits is cut off after the
/// header timeout, and others are served meanwhile.
#[test]
fn a_slow_client_is_cut_off() {
    use std::io::Read;
    let server = start();
    let address = server.base.trim_start_matches("http://");
    let mut slow = std::net::TcpStream::connect(address).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    assert_eq!(
        ureq::get(&format!("{}/healthz", server.base))
            .call()
            .unwrap()
            .status(),
        200
    );
    slow.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(15),
        "closed after {waited:?}"
    );
}

#[test]
fn a_client_that_stops_sending_its_body_is_let_go() {
    use std::io::Read;
    let server = start();
    let address = server.base.trim_start_matches("http://");
    let mut slow = std::net::TcpStream::connect(address).unwrap();
    slow.write_all(
        b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nuser=",
    )
    .unwrap();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[test]
fn sign_in_limits_hold_long_names_sessions_per_user_and_look_alike_profiles() {
    let server = start();
    // A user name too long to be one is a wrong user, not remembered.
    let long = "u".repeat(100_000);
    let (status, _, _) = call(
        &server,
        "POST",
        "/api/login",
        None,
        &[],
        Some(json!({"user": long, "password": "x"})),
    );
    assert_eq!(status, 401);
    // Signing in again and again keeps at most 16 sessions: the oldest end.
    let first = login(&server, "vic");
    for _ in 0..16 {
        login(&server, "vic");
    }
    let (status, _, _) = call(&server, "GET", "/api/customers", Some(&first), &[], None);
    assert_eq!(status, 401);
    let latest = login(&server, "vic");
    let (status, _, _) = call(&server, "GET", "/api/customers", Some(&latest), &[], None);
    assert_eq!(status, 200);
    // A profile whose name reads the same as another's is refused.
    let ana = login(&server, "ana");
    for name in ["\u{FF25}verything", "Everything\u{200B}", "EVERYTHING"] {
        let (status, body, _) = call(
            &server,
            "POST",
            "/api/profiles",
            Some(&ana),
            &[],
            Some(json!({"name": name, "reports": {"customer": ["summary"]}})),
        );
        assert_eq!(status, 409, "{name:?}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("reads the same"),
            "{body}"
        );
    }
    // Samples follow the profile rules: ACME's own profile is not UMBRELLA's.
    let fin = login(&server, "fin");
    let (status, body, _) = call(
        &server,
        "POST",
        "/api/samples",
        Some(&fin),
        &[],
        Some(
            json!({"customer": "UMBRELLA", "from": "2026-10-01", "to": "2026-11-01", "profile": "ACME bespoke", "rows": 5, "seed": 1}),
        ),
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("restricted to customer"),
        "{body}"
    );
}
