//! `usage-report run` and `profiles` over the fixture catalogue: every
//! profile rule, a failed invoice among good ones, shards, reconciliation and
//! determinism.

use std::path::Path;

use serde_json::Value;

use crate::util::*;

const CATALOG: &str = "fixtures/catalog";

fn run_catalog(out: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "run",
        "--catalog",
        CATALOG,
        "--records",
        "fixtures/records.csv",
        "--records",
        "fixtures/catalog/records.csv",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = run(&args);
    let code = output.status.code().unwrap();
    let report = run_report(out);
    (code, report)
}

fn invoice<'v>(report: &'v Value, id: &str) -> &'v Value {
    report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["invoice"] == id)
        .unwrap_or_else(|| panic!("{id} in run.json"))
}

#[test]
fn each_profile_rule_decides_an_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let (code, report) = run_catalog(dir.path(), &[]);
    assert_eq!(code, 3, "refused invoices, none failed: exit code 3");
    let status = |id: &str| invoice(&report, id)["status"].as_str().unwrap().to_string();
    let reason = |id: &str| {
        invoice(&report, id)["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // The customer's default profile.
    assert_eq!(status("INV-2026-10-0042"), "rendered");
    assert_eq!(
        invoice(&report, "INV-2026-10-0042")["profile"],
        "Site detail"
    );
    // A default profile restricted to a group the customer is in.
    assert_eq!(status("INV-2026-10-0043"), "rendered");
    assert_eq!(
        invoice(&report, "INV-2026-10-0043")["profile"],
        "Enterprise detail"
    );
    // A historic default is refused for a new invoice…
    assert_eq!(status("INV-2026-10-0044"), "refused");
    assert!(
        reason("INV-2026-10-0044").contains("\"Legacy 2019\" is historic"),
        "{}",
        reason("INV-2026-10-0044")
    );
    // …but serves the old invoice that names it.
    assert_eq!(status("INV-2019-12-0007"), "rendered");
    assert_eq!(
        invoice(&report, "INV-2019-12-0007")["profile"],
        "Legacy 2019"
    );
    // No profile at all: no attachment, and the run says so.
    assert_eq!(status("INV-2026-10-0045"), "no_profile");
    assert!(reason("INV-2026-10-0045")
        .contains("neither invoice INV-2026-10-0045 nor customer UMBRELLA names a profile"));
    assert!(!dir.path().join("INV-2026-10-0045").exists());
    // The invoice's own profile, restricted to another customer.
    assert_eq!(status("INV-2026-11-0046"), "refused");
    assert_eq!(
        reason("INV-2026-11-0046"),
        "profile \"ACME bespoke\" is restricted to customer \"ACME\"; this invoice is for customer \"UMBRELLA\""
    );
    // The invoice's own profile, restricted to groups the customer is not in.
    assert_eq!(status("INV-2026-10-0047"), "refused");
    assert_eq!(
        reason("INV-2026-10-0047"),
        "profile \"Enterprise detail\" is restricted to customer groups [enterprise]; customer \"HOOLI\" is in [smb]"
    );
    // The invoice's formats apply: ACME's invoice asks for all three.
    let acme = dir.path().join("INV-2026-10-0042");
    assert!(
        acme.join("INV-2026-10-0042_usage.xlsx").exists()
            && acme.join("INV-2026-10-0042_usage.pdf").exists()
    );
    // Periods are in each customer's zone: 23:30 UTC on 31 October is November in Berlin.
    assert_eq!(invoice(&report, "INV-2026-11-0048")["in_scope"], 3);
}

#[test]
fn run_totals_reconcile_with_the_input_and_the_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = run_catalog(dir.path(), &[]);
    let input = &report["input"];
    let n = |k: &str| input[k].as_u64().unwrap();
    assert_eq!(n("records"), 40);
    assert_eq!(
        n("records"),
        n("in_scope") + n("not_invoiced") + n("rejected")
    );
    let invoices = report["invoices"].as_array().unwrap();
    let sum: u64 = invoices
        .iter()
        .map(|i| i["in_scope"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, n("in_scope"));
    for i in invoices.iter().filter(|i| i["status"] == "rendered") {
        let m = manifest(&dir.path().join(i["folder"].as_str().unwrap()));
        assert_eq!(m["totals"], i["totals"]);
        assert_eq!(m["input"]["in_scope"], i["in_scope"]);
        assert_eq!(m["invoice"], i["invoice"]);
    }
    // ACME's invoice in the run matches a single render of the same invoice.
    let single = tempfile::tempdir().unwrap();
    let out = single.path().display().to_string();
    let profile = fixture("catalog/profiles/site-detail.toml");
    ok(&acme_args(&profile, "fixtures/records.csv", &out));
    assert_eq!(
        manifest(single.path())["totals"],
        invoice(&report, "INV-2026-10-0042")["totals"]
    );
}

#[test]
fn one_failed_invoice_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "record_type,customer_id,call_id,start_time,duration,charge\ncall,GLOBEX,G-9,2026-10-09T10:00:00Z,60,\"1,50\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = run(&[
        "run",
        "--catalog",
        CATALOG,
        "--records",
        "fixtures/records.csv",
        "--records",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report = run_report(&out);
    assert_eq!(invoice(&report, "INV-2026-10-0043")["status"], "failed");
    let reason = invoice(&report, "INV-2026-10-0043")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("bad.csv:2: column charge: \"1,50\" is not a decimal"),
        "{reason}"
    );
    assert_eq!(invoice(&report, "INV-2026-10-0042")["status"], "rendered");
    assert!(out.join("INV-2026-10-0042/manifest.json").exists());
    assert_eq!(report["input"]["rejected"], 1);

    // With skip, the record goes to the run's rejects.csv and GLOBEX renders.
    let skipped = dir.path().join("skipped");
    run(&[
        "run",
        "--catalog",
        CATALOG,
        "--records",
        "fixtures/records.csv",
        "--records",
        bad.to_str().unwrap(),
        "--out",
        skipped.to_str().unwrap(),
        "--on-bad-record",
        "skip",
    ]);
    let report = run_report(&skipped);
    assert_eq!(invoice(&report, "INV-2026-10-0043")["status"], "rendered");
    assert_eq!(csv_rows(&skipped.join("rejects.csv")).len(), 2);
    assert_eq!(
        manifest(&skipped.join("INV-2026-10-0043"))["input"]["rejects_file"],
        "../rejects.csv"
    );
}

#[test]
fn shards_together_render_each_invoice_exactly_once_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let (_, whole_report) = run_catalog(&whole, &[]);
    let mut seen: Vec<String> = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let out = dir.path().join(format!("shard{k}"));
        let (_, report) = run_catalog(&out, &["--shard", &shard]);
        assert_eq!(report["shard"]["index"], k);
        let input = &report["input"];
        assert_eq!(
            input["records"].as_u64().unwrap(),
            input["in_scope"].as_u64().unwrap()
                + input["not_invoiced"].as_u64().unwrap()
                + input["rejected"].as_u64().unwrap()
        );
        for i in report["invoices"].as_array().unwrap() {
            let id = i["invoice"].as_str().unwrap().to_string();
            if i["status"] == "rendered" {
                let folder = i["folder"].as_str().unwrap();
                assert_eq!(files(&out.join(folder)), files(&whole.join(folder)), "{id}");
            }
            seen.push(id);
        }
    }
    seen.sort();
    let mut all: Vec<String> = whole_report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invoice"].as_str().unwrap().to_string())
        .collect();
    all.sort();
    assert_eq!(seen, all);
}

#[test]
fn rerunning_gives_identical_files_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    run_catalog(&a, &["--jobs", "1"]);
    run_catalog(&b, &["--jobs", "3"]);
    assert_eq!(files(&a), files(&b));
    // Running again into the same folder completes it to the same bytes.
    run_catalog(&a, &[]);
    assert_eq!(files(&a), files(&b));
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = run(&[
        "run",
        "--catalog",
        CATALOG,
        "--records",
        "fixtures/records.csv",
        "--out",
        out.to_str().unwrap(),
        "--log-format",
        "json",
    ]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let events: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.first().unwrap()["event"], "reading");
    assert_eq!(events.last().unwrap()["event"], "done");
    assert_eq!(events.iter().filter(|e| e["event"] == "invoice").count(), 8);
    // Collector-ready: a time, a level and the event on every line; the
    // invoice, customer and folder on invoice lines.
    for e in &events {
        let time = e["time"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
        assert!(
            ["info", "warn", "error"].contains(&e["level"].as_str().unwrap()),
            "{e}"
        );
    }
    let acme = events
        .iter()
        .find(|e| e["invoice"] == "INV-2026-10-0042")
        .unwrap();
    assert_eq!(acme["customer"], "ACME");
    assert_eq!(acme["folder"], "INV-2026-10-0042");
    assert_eq!(acme["level"], "info");
    let refused = events
        .iter()
        .find(|e| e["invoice"] == "INV-2026-11-0046")
        .unwrap();
    assert_eq!(refused["level"], "warn");

    // A bad record: the failed invoice's line carries it, structured.
    let bad = dir.path().join("bad.csv");
    let mut text = std::fs::read_to_string(fixture("records.csv")).unwrap();
    text.push_str("call,ACME,London HQ,Spring,+442079460001,C-BAD,2026-10-05T10:00:00Z,+442079460001,+441134960000,Leeds,national,outbound,60,60,0.05,12.5x,,,,,,,\n");
    std::fs::write(&bad, text).unwrap();
    let output = run(&[
        "run",
        "--catalog",
        CATALOG,
        "--records",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--log-format",
        "json",
    ]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let failed: Value = stderr
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["status"] == "failed")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(failed["level"], "error");
    assert_eq!(failed["error"]["line"], 33, "{failed}");
    assert!(failed["error"]["file"]
        .as_str()
        .unwrap()
        .ends_with("bad.csv"));
    assert_eq!(failed["error"]["column"], "charge", "{failed}");
    // A fatal error is JSON too.
    let output = run(&[
        "run",
        "--catalog",
        CATALOG,
        "--records",
        "missing.csv",
        "--out",
        out.to_str().unwrap(),
        "--log-format",
        "json",
    ]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let last: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "fatal");
    assert_eq!(last["level"], "error");
    assert!(
        last["message"].as_str().unwrap().contains("missing.csv"),
        "{last}"
    );
}

#[test]
fn profiles_list_hides_historic_below_standard_level() {
    let out = run(&["profiles", "list", "--catalog", CATALOG]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("Site detail") && !listing.contains("Legacy 2019"),
        "{listing}"
    );
    let out = run(&[
        "profiles",
        "list",
        "--catalog",
        CATALOG,
        "--expert-level",
        "standard",
    ]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("Legacy 2019") && listing.contains("historic"),
        "{listing}"
    );
    let out = run(&[
        "profiles",
        "show",
        "Enterprise detail",
        "--catalog",
        CATALOG,
    ]);
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        shown.contains("groups:        enterprise") && shown.contains("Number calls"),
        "{shown}"
    );
    let out = run(&["profiles", "check", "--catalog", CATALOG]);
    assert!(out.status.success());
}

#[test]
fn catalogue_check_warns_of_what_a_run_would_refuse_and_strict_fails_on_it() {
    let out = run(&["profiles", "check", "--catalog", CATALOG]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("4 would not render"), "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    for needle in [
        "invoices.csv:4: column customer_id: invoice INV-2026-10-0044 would be refused: profile \"Legacy 2019\" is historic",
        "invoices.csv:6: column customer_id: invoice INV-2026-10-0045 gets no usage attachment",
        "invoices.csv:7: column profile: invoice INV-2026-11-0046 would be refused: profile \"ACME bespoke\" is restricted to customer \"ACME\"",
        "invoices.csv:8: column profile: invoice INV-2026-10-0047 would be refused: profile \"Enterprise detail\" is restricted to customer groups",
    ] {
        assert!(stderr.contains(needle), "{needle}\n{stderr}");
    }
    assert_eq!(stderr.lines().count(), 4, "{stderr}");
    // The same verdicts as a run gives.
    let stderr = fails(&["profiles", "check", "--catalog", CATALOG, "--strict"], 2);
    assert!(stderr.contains("(--strict): 4 problems"), "{stderr}");
    assert!(
        stderr.contains("invoices.csv:7: column profile"),
        "{stderr}"
    );
}

#[test]
fn catalogue_check_reports_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalog(
        dir.path(),
        &[
            ("a.toml", "name = \"A\"\n[reports]\ncustomer = [\"summary\"]\n"),
            ("b.toml", "name = \"A\"\n[reports]\ncustomer = [\"sumary\"]\n"),
        ],
        "customer_id,name,groups,default_profile,timezone,currency\nC1,One,,B,Mars/Base,gbp\n",
        "invoice_id,customer_id,from,to,profile,formats\nI1,C9,2026-10-01,2026-11-01,,csv\nI2,C1,2026-10-01,2026-09-01,A,docx\n",
    );
    let stderr = fails(
        &["profiles", "check", "--catalog", cat.to_str().unwrap()],
        2,
    );
    for needle in [
        "b.toml: reports.customer[0]: unknown report type \"sumary\"",
        "customers.csv:2: column timezone: unknown time zone \"Mars/Base\"",
        "customers.csv:2: column default_profile: no profile is named \"B\"",
        "customers.csv:2: column currency: \"gbp\" is not an ISO 4217 code",
        "invoices.csv:2: column customer_id: customer \"C9\" is not in customers.csv",
        "invoices.csv:3: column to: the period is empty",
        "invoices.csv:3: column formats: unknown format \"docx\"",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

#[test]
fn partitioning_to_disk_gives_the_same_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "record_type,customer_id,call_id,start_time,duration,charge\n\
         call,GLOBEX,G-9,2026-10-09T10:00:00Z,60,\"1,50\"\n\
         refund,ACME,A-9,2026-10-09T10:00:00Z,60,1\n\
         call,ACME,C-1001,2026-10-09T10:00:00Z,60,0.10\n",
    )
    .unwrap();
    let run_with = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "run",
            "--catalog",
            CATALOG,
            "--records",
            "fixtures/records.csv",
            "--records",
            "fixtures/catalog/records.csv",
            "--records",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--on-bad-record",
            "skip",
        ];
        args.extend_from_slice(extra);
        run(&args);
    };
    let memory = dir.path().join("memory");
    run_with(&memory, &["--partitions", "1"]);
    for n in ["2", "5"] {
        let spilled = dir.path().join(format!("spilled-{n}"));
        run_with(&spilled, &["--partitions", n]);
        assert_eq!(files(&spilled), files(&memory), "--partitions {n}");
        assert!(
            !spilled.join(".spill").exists(),
            "partition files are removed"
        );
    }
    let report = run_report(&memory);
    assert_eq!(report["input"]["rejected"], 2);
    // The invoice's manifest counts its customer's records: ACME's 22 plus the new call.
    let m = manifest(&memory.join("INV-2026-10-0042"));
    let n = |k: &str| m["input"][k].as_u64().unwrap();
    assert_eq!(
        n("records"),
        n("in_scope") + n("out_of_scope") + n("rejected")
    );
    assert_eq!(n("rejected"), 1, "the refund record of ACME");
}

#[test]
fn a_customer_without_consent_gets_no_itemised_calls_in_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let site_detail = std::fs::read_to_string(fixture("profiles/site-detail.toml")).unwrap();
    let cat = catalog(
        &dir.path().join("cat"),
        &[("site-detail.toml", &site_detail)],
        "customer_id,name,groups,default_profile,timezone,currency,itemisation\nACME,ACME Ltd,business,Site detail,Europe/London,GBP,false\n",
        "invoice_id,customer_id,from,to\nI-1,ACME,2026-10-01,2026-11-01\n",
    );
    let out = dir.path().join("out");
    let output = run(&[
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--records",
        "fixtures/records.csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    assert!(out.join("I-1/site_summary.csv").exists() && !out.join("I-1/site_calls.csv").exists());
    let m = manifest(&out.join("I-1"));
    assert_eq!(m["currency"], "GBP");
    assert!(m["warnings"].as_array().unwrap().iter().any(|w| w
        .as_str()
        .unwrap()
        .contains("has not consented to itemised bills")));
}

#[test]
fn partitioning_a_large_file_on_every_core_gives_the_same_run() {
    // Large enough (over 4 MiB) to be partitioned by chunks in parallel.
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("gen.csv");
    let catalog = dir.path().join("catalog");
    generate(&generated, 45000, 4, 8, Some(&catalog));
    // A bad record in the middle, where chunk boundaries fall.
    let text = std::fs::read_to_string(&generated).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let columns = lines[0].split(',').count();
    let bad = format!(
        "call,CUST00002,London HQ,,+44 20 0000 0000,CL-BAD,2026-10-07T10:00:00Z{}",
        ",".repeat(columns - 7)
    );
    let at = lines.len() / 2;
    lines.insert(at, &bad);
    let records = dir.path().join("records.csv");
    std::fs::write(&records, lines.join("\n") + "\n").unwrap();
    assert!(std::fs::metadata(&records).unwrap().len() > 4 << 20);
    let run_records = |out: &Path, jobs: &str, partitions: &str, records: &Path, extra: &[&str]| {
        let mut args = vec![
            "--jobs",
            jobs,
            "run",
            "--catalog",
            catalog.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--on-bad-record",
            "skip",
            "--partitions",
            partitions,
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let run_with = |out: &Path, jobs: &str, partitions: &str| {
        run_records(out, jobs, partitions, &records, &[]);
    };
    let memory = dir.path().join("memory");
    run_with(&memory, "1", "1");
    let spilled = dir.path().join("spilled");
    run_with(&spilled, "4", "3");
    assert_eq!(files(&spilled), files(&memory));
    let rejects = std::fs::read_to_string(memory.join("rejects.csv")).unwrap();
    assert!(rejects.contains(&format!(",{},", at + 1)), "{rejects}");
    assert_eq!(run_report(&memory)["durable"], true);
    // The same records gzip-compressed, read as a stream on every core,
    // and written without making files durable: the same attachments and
    // rejects (the manifests name the other input), and run.json says the
    // files were not made durable.
    let gz = dir.path().join("records.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &std::fs::read(&records).unwrap()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let streamed = dir.path().join("streamed");
    let no_sync = ["--no-sync"];
    run_records(&streamed, "4", "1", &gz, &no_sync);
    let attachments = |dir: &Path| {
        let mut all = files(dir);
        all.retain(|name, _| {
            !name.ends_with("manifest.json") && !name.ends_with("run.json") && name != "rejects.csv"
        });
        all
    };
    assert!(attachments(&streamed) == attachments(&memory));
    let rejected = std::fs::read_to_string(streamed.join("rejects.csv")).unwrap();
    assert_eq!(
        rejected.replace("records.csv.gz", "records.csv"),
        rejects,
        "the same record rejected at the same line"
    );
    assert_eq!(run_report(&streamed)["durable"], false);
    assert_eq!(
        run_report(&streamed)["input"]["records"],
        run_report(&memory)["input"]["records"]
    );
}

#[test]
fn a_catalogue_with_windows_line_ends_names_the_true_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalog(
        dir.path(),
        &[("a.toml", "name = \"A\"\n[reports]\ncustomer = [\"summary\"]\n")],
        "customer_id,name,groups,default_profile,timezone,currency\r\nC1,One,,A,Europe/London,GBP\r\n\r\nC2,Two,,A,Mars/Base,GBP\r\n",
        "invoice_id,customer_id,from,to,profile,formats\r\nI1,C1,2026-10-01,2026-11-01,,csv\r\n",
    );
    let stderr = fails(
        &["profiles", "check", "--catalog", cat.to_str().unwrap()],
        2,
    );
    assert!(
        stderr.contains("customers.csv:4: column timezone: unknown time zone \"Mars/Base\""),
        "{stderr}"
    );
    assert!(!stderr.contains("invoices.csv"), "{stderr}");
}

#[test]
fn a_run_lists_customers_without_records_and_folders_of_invoices_gone_from_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    fails(
        &[
            "run",
            "--catalog",
            CATALOG,
            "--records",
            &fixture("catalog/records.csv"),
            "--out",
            out_s,
        ],
        3,
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    // Every invoiced customer that the records never mention.
    let seen: std::collections::BTreeSet<String> =
        std::fs::read_to_string(fixture("catalog/records.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(1).map(str::to_string))
            .collect();
    let expected: Vec<String> = ["ACME", "GLOBEX", "HOOLI", "INITECH", "UMBRELLA"]
        .into_iter()
        .filter(|c| !seen.contains(*c))
        .map(str::to_string)
        .collect();
    assert_eq!(
        report["customers_without_records"],
        serde_json::json!(expected)
    );
    assert_eq!(report["stale_folders"], serde_json::json!([]));
    // An invoice removed from the catalogue: its folder stays and is listed.
    let cat = fixture_catalogue(dir.path());
    let invoices = std::fs::read_to_string(fixture("catalog/invoices.csv")).unwrap();
    let kept: String = invoices
        .lines()
        .filter(|l| !l.starts_with("INV-2026-10-0042"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(cat.join("invoices.csv"), kept).unwrap();
    fails(
        &[
            "run",
            "--catalog",
            cat.to_str().unwrap(),
            "--records",
            &fixture("catalog/records.csv"),
            "--out",
            out_s,
        ],
        3,
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        report["stale_folders"],
        serde_json::json!(["INV-2026-10-0042"])
    );
    assert!(
        out.join("INV-2026-10-0042").join("manifest.json").exists(),
        "left in place"
    );
}

#[test]
fn a_mistyped_customer_is_named_with_the_closest_id_seen() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let records = fixture("records.csv");
    let profile = fixture("profiles/everything.toml");
    let mut args = acme_args(&profile, &records, &out);
    let at = args.iter().position(|a| *a == "ACME").unwrap();
    args[at] = "acme";
    let stderr = ok(&args);
    assert!(
        stderr.contains("customer \"acme\" occurs nowhere in the input")
            && stderr.contains("did you mean \"ACME\"?"),
        "{stderr}"
    );
    let warnings = manifest(dir.path())["warnings"].to_string();
    assert!(
        warnings.contains("did you mean \\\"ACME\\\"?"),
        "{warnings}"
    );
    // A customer with records, none in the period: no such warning.
    let quiet = tempfile::tempdir().unwrap();
    let out = quiet.path().display().to_string();
    let mut args = acme_args(&profile, &records, &out);
    let from = args.iter().position(|a| *a == "2026-10-01").unwrap();
    args[from] = "2020-01-01";
    let to = args.iter().position(|a| *a == "2026-11-01").unwrap();
    args[to] = "2020-02-01";
    let stderr = ok(&args);
    assert!(!stderr.contains("occurs nowhere"), "{stderr}");
}

#[test]
fn a_run_that_stops_after_it_began_still_writes_run_json_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let missing = dir.path().join("missing.csv");
    let stderr = fails(
        &[
            "run",
            "--catalog",
            CATALOG,
            "--records",
            missing.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        1,
    );
    assert!(stderr.contains("missing.csv"), "{stderr}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert!(
        report["error"].as_str().unwrap().contains("missing.csv"),
        "{report}"
    );
    assert_eq!(report["invoices"], serde_json::json!([]));
    // A run that could not start (an invalid catalogue) writes none: exit 2.
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(bad.join("profiles")).unwrap();
    std::fs::write(bad.join("customers.csv"), "customer_id,name\n").unwrap();
    let out = dir.path().join("out2");
    fails(
        &[
            "run",
            "--catalog",
            bad.to_str().unwrap(),
            "--records",
            &fixture("records.csv"),
            "--out",
            out.to_str().unwrap(),
        ],
        2,
    );
    assert!(!out.join("run.json").exists());
}

fn run_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap()
}

#[test]
fn a_run_can_be_limited_to_invoices_or_customers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("one");
    let records = fixture("records.csv");
    ok(&[
        "run",
        "--catalog",
        CATALOG,
        "--records",
        &records,
        "--out",
        out.to_str().unwrap(),
        "--invoice",
        "INV-2026-10-0042",
    ]);
    let report = run_json(&out);
    let ids: Vec<&str> = report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invoice"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["INV-2026-10-0042"]);
    assert_eq!(report["invoices"][0]["status"], "rendered");
    let out = dir.path().join("initech");
    fails(
        &[
            "run",
            "--catalog",
            CATALOG,
            "--records",
            &records,
            "--out",
            out.to_str().unwrap(),
            "--customer",
            "INITECH",
        ],
        3,
    );
    assert_eq!(run_json(&out)["summary"]["invoices"], 2);
    let stderr = fails(
        &[
            "run",
            "--catalog",
            CATALOG,
            "--records",
            &records,
            "--out",
            out.to_str().unwrap(),
            "--invoice",
            "INV-2026-10-042",
        ],
        2,
    );
    assert!(
        stderr.contains("did you mean \"INV-2026-10-0042\"?"),
        "{stderr}"
    );
}

#[test]
fn the_shards_of_a_run_merge_into_the_run_it_would_have_been() {
    let dir = tempfile::tempdir().unwrap();
    let records = [fixture("records.csv"), fixture("catalog/records.csv")];
    let run_into = |out: &Path, shard: Option<&str>| {
        let mut args = vec![
            "run",
            "--catalog",
            CATALOG,
            "--records",
            &records[0],
            "--records",
            &records[1],
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        run(&args);
    };
    let whole = dir.path().join("whole");
    run_into(&whole, None);
    let out = dir.path().join("merged");
    for k in 0..3 {
        run_into(&out.join(format!("s{k}")), Some(&format!("{k}/3")));
    }
    let shards: Vec<String> = (0..3)
        .map(|k| out.join(format!("s{k}")).display().to_string())
        .collect();
    let mut args = vec!["runs", "merge", out.to_str().unwrap()];
    args.extend(shards.iter().map(String::as_str));
    let stdout = String::from_utf8(run(&args).stdout).unwrap();
    assert!(stdout.contains("3 shards merged: 8 invoices"), "{stdout}");
    let (merged, whole) = (run_json(&out), run_json(&whole));
    for key in ["records", "in_scope", "not_invoiced", "rejected", "lines"] {
        assert_eq!(merged["input"][key], whole["input"][key], "{key}");
    }
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(
        merged["input"]["not_invoiced_by_customer"],
        whole["input"]["not_invoiced_by_customer"]
    );
    assert_eq!(
        merged["customers_without_records"],
        whole["customers_without_records"]
    );
    let statuses = |r: &Value| -> Vec<(String, String)> {
        r["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["invoice"].as_str().unwrap().to_string(),
                    i["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(statuses(&merged), statuses(&whole));
    // Folders are found from the merged run.json's place.
    for i in merged["invoices"].as_array().unwrap() {
        if let Some(m) = i["manifest"].as_str() {
            assert!(out.join(m).exists(), "{m}");
        }
    }
    // A missing shard, or one given twice, does not merge.
    let stderr = fails(
        &[
            "runs",
            "merge",
            out.to_str().unwrap(),
            &shards[0],
            &shards[1],
        ],
        1,
    );
    assert!(stderr.contains("shard(s) 2/3 missing"), "{stderr}");
    let stderr = fails(
        &[
            "runs",
            "merge",
            out.to_str().unwrap(),
            &shards[0],
            &shards[0],
            &shards[1],
        ],
        1,
    );
    assert!(stderr.contains("given twice"), "{stderr}");
}

#[test]
fn a_catalogue_problem_of_one_row_fails_only_the_invoices_it_concerns() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture_catalogue(dir.path());
    // GLOBEX's time zone is wrong; one of HOOLI's invoices names a format
    // that does not exist.
    let customers = std::fs::read_to_string(fixture("catalog/customers.csv"))
        .unwrap()
        .replace("America/Chicago", "America/Chikago");
    std::fs::write(cat.join("customers.csv"), customers).unwrap();
    let invoices = std::fs::read_to_string(fixture("catalog/invoices.csv"))
        .unwrap()
        .replace(
            "INV-2026-11-0048,HOOLI,2026-11-01,2026-12-01,,csv",
            "INV-2026-11-0048,HOOLI,2026-11-01,2026-12-01,,docx",
        );
    std::fs::write(cat.join("invoices.csv"), invoices).unwrap();
    let out = dir.path().join("out");
    let args = [
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--records",
        &fixture("records.csv"),
        "--records",
        &fixture("catalog/records.csv"),
        "--out",
        out.to_str().unwrap(),
    ];
    fails(&args, 1);
    let report = run_json(&out);
    let status = |id: &str| invoice(&report, id)["status"].as_str().unwrap().to_string();
    let reason = |id: &str| {
        invoice(&report, id)["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(status("INV-2026-10-0043"), "failed");
    assert!(
        reason("INV-2026-10-0043").contains("customers.csv:3: column timezone"),
        "{}",
        reason("INV-2026-10-0043")
    );
    assert_eq!(status("INV-2026-11-0048"), "failed");
    assert!(
        reason("INV-2026-11-0048").contains("invoices.csv:9: column formats"),
        "{}",
        reason("INV-2026-11-0048")
    );
    // The others render as ever, and the run reconciles.
    assert_eq!(status("INV-2026-10-0042"), "rendered");
    assert_eq!(report["summary"]["invoices"], 8);
    let input = &report["input"];
    assert_eq!(
        input["records"].as_u64().unwrap(),
        input["in_scope"].as_u64().unwrap()
            + input["not_invoiced"].as_u64().unwrap()
            + input["rejected"].as_u64().unwrap()
    );
    // --strict-catalogue: all or nothing, as before.
    let strict = dir.path().join("strict");
    let mut strict_args = args.to_vec();
    strict_args[8] = strict.to_str().unwrap();
    strict_args.push("--strict-catalogue");
    let stderr = fails(&strict_args, 2);
    assert!(
        stderr.contains("column timezone") && stderr.contains("column formats"),
        "{stderr}"
    );
    assert!(!strict.join("run.json").exists());
    // A problem of the whole catalogue (an id listed twice) still stops it.
    let twice = std::fs::read_to_string(cat.join("invoices.csv")).unwrap()
        + "INV-2026-10-0042,ACME,2025-10-01,2025-11-01,,csv\n";
    std::fs::write(cat.join("invoices.csv"), twice).unwrap();
    let stderr = fails(&args, 2);
    assert!(stderr.contains("is listed twice"), "{stderr}");
}

#[test]
fn skip_unchanged_leaves_alone_the_invoices_whose_input_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records.csv");
    std::fs::copy(fixture("records.csv"), &records).unwrap();
    let out = dir.path().join("out");
    let run_it = |jobs: &str| {
        run(&[
            "--jobs",
            jobs,
            "run",
            "--catalog",
            CATALOG,
            "--records",
            records.to_str().unwrap(),
            "--records",
            &fixture("catalog/records.csv"),
            "--out",
            out.to_str().unwrap(),
            "--skip-unchanged",
        ]);
        run_json(&out)
    };
    let first = run_it("2");
    let rendered = first["summary"]["rendered"].as_u64().unwrap();
    assert!(rendered > 0);
    assert_eq!(first["summary"]["unchanged"], 0);
    let acme = out.join("INV-2026-10-0042");
    let hash = manifest(&acme)["input_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    let before = std::fs::read(acme.join("manifest.json")).unwrap();
    let modified = std::fs::metadata(acme.join("INV-2026-10-0042_usage.pdf"))
        .unwrap()
        .modified()
        .unwrap();
    // The same input, on another thread count: nothing is rendered again.
    let second = run_it("1");
    assert_eq!(second["summary"]["unchanged"], rendered);
    assert_eq!(second["summary"]["rendered"], 0);
    assert_eq!(invoice(&second, "INV-2026-10-0042")["status"], "unchanged");
    assert_eq!(
        invoice(&second, "INV-2026-10-0042")["totals"],
        invoice(&first, "INV-2026-10-0042")["totals"]
    );
    assert_eq!(std::fs::read(acme.join("manifest.json")).unwrap(), before);
    assert_eq!(
        std::fs::metadata(acme.join("INV-2026-10-0042_usage.pdf"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    // One of ACME's calls corrected: only ACME's invoice is rendered again.
    let text = std::fs::read_to_string(&records)
        .unwrap()
        .replacen(",0.045,", ",0.046,", 1);
    std::fs::write(&records, text).unwrap();
    let third = run_it("2");
    assert_eq!(invoice(&third, "INV-2026-10-0042")["status"], "rendered");
    assert_eq!(third["summary"]["rendered"], 1);
    assert_eq!(third["summary"]["unchanged"], rendered - 1);
    assert_ne!(manifest(&acme)["input_hash"].as_str().unwrap(), hash);
    // A missing attachment is rendered again, whatever the hash says.
    std::fs::remove_file(acme.join("INV-2026-10-0042_usage.pdf")).unwrap();
    let fourth = run_it("2");
    assert_eq!(invoice(&fourth, "INV-2026-10-0042")["status"], "rendered");
    assert!(acme.join("INV-2026-10-0042_usage.pdf").exists());
}

#[test]
fn shards_with_bad_records_merge_into_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    // A bad charge of ACME, and a record no customer can be told of.
    let records = dir.path().join("bad.csv");
    let mut text = std::fs::read_to_string(fixture("records.csv")).unwrap();
    text.push_str("call,ACME,London HQ,Spring,+442079460001,C-BAD,2026-10-05T10:00:00Z,+442079460001,+441134960000,Leeds,national,outbound,60,60,0.05,12.5x,,,,,,,\n");
    text.push_str("call,,London HQ,Spring,+442079460001,C-NOBODY,2026-10-05T10:00:00Z,+442079460001,+441134960000,Leeds,national,outbound,60,60,0.05,0.10,,,,,,,\n");
    std::fs::write(&records, text).unwrap();
    let run_into = |out: &Path, shard: Option<&str>| {
        let mut args = vec![
            "run",
            "--catalog",
            CATALOG,
            "--records",
            records.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--on-bad-record",
            "skip",
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        run(&args);
    };
    let whole = dir.path().join("whole");
    run_into(&whole, None);
    let out = dir.path().join("merged");
    let shards: Vec<String> = (0..3)
        .map(|k| {
            let d = out.join(format!("s{k}"));
            run_into(&d, Some(&format!("{k}/3")));
            d.display().to_string()
        })
        .collect();
    let mut args = vec!["runs", "merge", out.to_str().unwrap()];
    args.extend(shards.iter().map(String::as_str));
    let merged_run = run(&args);
    assert_ne!(
        merged_run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&merged_run.stderr)
    );
    let (merged, whole) = (run_json(&out), run_json(&whole));
    assert_eq!(whole["input"]["rejected"], 2);
    assert_eq!(whole["input"]["rejected_without_customer"], 1);
    for key in [
        "records",
        "in_scope",
        "not_invoiced",
        "rejected",
        "rejected_without_customer",
    ] {
        assert_eq!(merged["input"][key], whole["input"][key], "{key}");
    }
    assert_eq!(
        merged["input"]["rejects_files"].as_array().unwrap().len(),
        3
    );
    // The merged folder cannot be a shard's own.
    let stderr = fails(
        &[
            "runs", "merge", &shards[0], &shards[0], &shards[1], &shards[2],
        ],
        2,
    );
    assert!(stderr.contains("a shard's own folder"), "{stderr}");
}

#[test]
fn overlapping_invoices_both_fail_and_a_run_that_cannot_start_leaves_no_old_run_json() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture_catalogue(dir.path());
    // INV-2026-10-0042 was typed a month too long: it overlaps 0099.
    let invoices = std::fs::read_to_string(fixture("catalog/invoices.csv"))
        .unwrap()
        .replace(
            "INV-2026-10-0042,ACME,2026-10-01,2026-11-01",
            "INV-2026-10-0042,ACME,2026-10-01,2026-12-01",
        )
        + "INV-2026-11-0099,ACME,2026-11-01,2026-12-01,,csv\n";
    std::fs::write(cat.join("invoices.csv"), invoices).unwrap();
    let out = dir.path().join("out");
    fails(
        &[
            "run",
            "--catalog",
            cat.to_str().unwrap(),
            "--records",
            &fixture("records.csv"),
            "--out",
            out.to_str().unwrap(),
        ],
        1,
    );
    let report = run_json(&out);
    for id in ["INV-2026-10-0042", "INV-2026-11-0099"] {
        assert_eq!(invoice(&report, id)["status"], "failed", "{id}");
        assert!(
            invoice(&report, id)["reason"]
                .as_str()
                .unwrap()
                .contains("overlaps"),
            "{id}"
        );
    }
    // A run that does not start (a mistyped --invoice) removes the earlier
    // run.json rather than leave yesterday's answer beside today's exit 2.
    assert!(out.join("run.json").exists());
    fails(
        &[
            "run",
            "--catalog",
            cat.to_str().unwrap(),
            "--records",
            &fixture("records.csv"),
            "--out",
            out.to_str().unwrap(),
            "--invoice",
            "NOPE",
        ],
        2,
    );
    assert!(!out.join("run.json").exists());
}

#[test]
fn skip_unchanged_sees_through_order_and_notices_formats_and_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records.csv");
    let original = std::fs::read_to_string(fixture("records.csv")).unwrap();
    std::fs::write(&records, &original).unwrap();
    let out = dir.path().join("out");
    let run_it = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--catalog",
            CATALOG,
            "--records",
            records.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--skip-unchanged",
            "--invoice",
            "INV-2026-10-0042",
        ];
        args.extend_from_slice(extra);
        run(&args);
        invoice(&run_json(&out), "INV-2026-10-0042")["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(run_it(&[]), "rendered");
    // The same records in reverse order: the same input.
    let mut lines: Vec<&str> = original.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    std::fs::write(&records, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    assert_eq!(run_it(&[]), "unchanged");
    // Other formats: rendered again.
    assert_eq!(run_it(&["--format", "csv"]), "rendered");
    assert_eq!(run_it(&["--format", "csv"]), "unchanged");
    // An attachment damaged in place: rendered again.
    let folder = out.join("INV-2026-10-0042");
    let csv = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .unwrap();
    let mut bytes = std::fs::read(&csv).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&csv, bytes).unwrap();
    assert_eq!(run_it(&["--format", "csv"]), "rendered");
}

#[test]
fn records_that_share_key_time_and_id_are_ordered_by_content_not_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(fixture("records.csv")).unwrap();
    let t1 = "transaction,ACME,London HQ,,+442079460001,,,,,,,,,,,,T-DUP,2026-10-20,rental,Alpha,1,5.00,5.00\n";
    let t2 = "transaction,ACME,London HQ,,+442079460001,,,,,,,,,,,,T-DUP,2026-10-20,rental,Beta,1,7.00,7.00\n";
    let c1 = "call,ACME,London HQ,,+442079460001,C-DUP,2026-10-21T09:00:00Z,+442079460001,+441134960001,Leeds,national,outbound,60,60,0.05,0.05,,,,,,,\n";
    let c2 = "call,ACME,London HQ,,+442079460001,C-DUP,2026-10-21T09:00:00Z,+442079460001,+441134960002,Leeds,national,outbound,90,90,0.05,0.08,,,,,,,\n";
    let render_with = |name: &str, extra: String| {
        let records = dir.path().join(format!("{name}.csv"));
        std::fs::write(&records, format!("{base}{extra}")).unwrap();
        let out = dir.path().join(name);
        let profile = fixture("profiles/everything.toml");
        let out_s = out.display().to_string();
        let records_s = records.display().to_string();
        let mut args = acme_args(&profile, &records_s, &out_s);
        args.extend(["--format", "csv,xlsx,pdf"]);
        ok(&args);
        out
    };
    let a = render_with("a", format!("{t1}{t2}{c1}{c2}"));
    let b = render_with("b", format!("{c2}{t2}{c1}{t1}"));
    for file in [
        "customer_transactions.csv",
        "customer_calls.csv",
        "INV-2026-10-0042_usage.xlsx",
        "INV-2026-10-0042_usage.pdf",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file} does not depend on the input's order"
        );
    }
}

/// A copy of the fixture catalogue in `dir/cat`, to change in a test.
fn fixture_catalogue(dir: &Path) -> std::path::PathBuf {
    let cat = dir.join("cat");
    std::fs::create_dir_all(cat.join("profiles")).unwrap();
    for entry in std::fs::read_dir(fixture("catalog/profiles")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), cat.join("profiles").join(entry.file_name())).unwrap();
    }
    for table in ["customers.csv", "invoices.csv"] {
        std::fs::copy(fixture(&format!("catalog/{table}")), cat.join(table)).unwrap();
    }
    cat
}

#[test]
fn an_invoice_renders_again_from_its_manifest_after_its_profile_was_edited_and_retired() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture_catalogue(dir.path());
    let out = dir.path().join("out");
    let (records, catalogue_records) = (fixture("records.csv"), fixture("catalog/records.csv"));
    // Exit 3: the fixture catalogue has invoices the rules refuse.
    let run_args = |out: &Path| {
        let done = run(&[
            "run",
            "--catalog",
            cat.to_str().unwrap(),
            "--records",
            &records,
            "--records",
            &catalogue_records,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            done.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    };
    run_args(&out);
    let folder = out.join("INV-2026-10-0042");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    // The manifest keeps the profile as resolved, and its hash; run.json
    // lists the hash per invoice.
    assert_eq!(manifest["profile"], "Site detail");
    assert_eq!(manifest["profile_document"]["name"], "Site detail");
    assert_eq!(
        manifest["profile_document"]["reports"]["site"],
        serde_json::json!(["summary", "calls"])
    );
    let sha = manifest["profile_sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    let report = run_json(&out);
    let listed = report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["invoice"] == "INV-2026-10-0042")
        .unwrap();
    assert_eq!(listed["profile_sha256"].as_str(), Some(sha));
    assert_eq!(
        manifest["rendered"]["formats"],
        serde_json::json!(["csv", "xlsx", "pdf"])
    );
    assert_eq!(manifest["rendered"]["customer_name"], "ACME Ltd");

    // The catalogue's profile is edited and retired.
    let profile = cat.join("profiles/site-detail.toml");
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        text.replace("availability = \"active\"", "availability = \"historic\"")
            .replace("site = [\"summary\", \"calls\"]", "site = [\"summary\"]"),
    )
    .unwrap();
    // The same records give the same bytes, from the manifest alone.
    let again = dir.path().join("again");
    let said = ok(&rerender_args(
        folder.join("manifest.json").to_str().unwrap(),
        &[&records, &catalogue_records],
        again.to_str().unwrap(),
    )
    .iter()
    .map(String::as_str)
    .collect::<Vec<_>>());
    assert!(
        said.contains("the same attachments, byte for byte"),
        "{said}"
    );
    // Every attachment byte for byte (the manifest's input counts are a
    // run's or a render's own: a run counts the records of the customers
    // it bills).
    let again_manifest: Value =
        serde_json::from_slice(&std::fs::read(again.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(again_manifest["attachments"], manifest["attachments"]);
    assert_eq!(again_manifest["profile_sha256"], manifest["profile_sha256"]);
    let listed = manifest["attachments"].as_array().unwrap();
    assert_eq!(listed.len(), 5);
    for attachment in listed {
        let file = attachment["path"].as_str().unwrap();
        let same =
            std::fs::read(folder.join(file)).unwrap() == std::fs::read(again.join(file)).unwrap();
        assert!(same, "{file} differs");
    }
    // A run now refuses the invoice (its customer's default is historic):
    // the manifest is what still renders it.
    let now = dir.path().join("now");
    run_args(&now);
    let refused = run_json(&now)["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["invoice"] == "INV-2026-10-0042")
        .unwrap()
        .clone();
    assert_eq!(refused["status"], "refused");
    assert!(refused["reason"].as_str().unwrap().contains("historic"));

    // Other records: the changed totals are named.
    let fewer = dir.path().join("fewer.csv");
    let kept: String = std::fs::read_to_string(&records)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("C-1020"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&fewer, kept).unwrap();
    let said = ok(&rerender_args(
        folder.join("manifest.json").to_str().unwrap(),
        &[fewer.to_str().unwrap(), &catalogue_records],
        dir.path().join("fewer").to_str().unwrap(),
    )
    .iter()
    .map(String::as_str)
    .collect::<Vec<_>>());
    assert!(
        said.contains("totals changed: calls: 20 \u{2192} 19;"),
        "{said}"
    );
    assert!(
        said.contains("call_charge: 8.287576 \u{2192} 8.272576"),
        "{said}"
    );

    // A manifest whose profile was edited by hand is refused.
    let mut forged = manifest.clone();
    forged["profile_document"]["call_columns"] = serde_json::json!(["charge"]);
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let refused = fails(
        &rerender_args(
            forged_path.to_str().unwrap(),
            &[&records],
            dir.path().join("forged").to_str().unwrap(),
        )
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        2,
    );
    assert!(
        refused.contains("does not hash to the manifest's profile_sha256"),
        "{refused}"
    );
    // The manifest's own folder is never written over.
    let own = fails(
        &rerender_args(
            folder.join("manifest.json").to_str().unwrap(),
            &[&records],
            folder.to_str().unwrap(),
        )
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        2,
    );
    assert!(own.contains("the manifest's own folder"), "{own}");
    // Other records with the same totals: the attachments that differ are named.
    let renamed = dir.path().join("renamed.csv");
    let text = std::fs::read_to_string(&records).unwrap();
    std::fs::write(&renamed, text.replace("London HQ", "London Head Office")).unwrap();
    let said = ok(&rerender_args(
        folder.join("manifest.json").to_str().unwrap(),
        &[renamed.to_str().unwrap(), &catalogue_records],
        dir.path().join("renamed").to_str().unwrap(),
    )
    .iter()
    .map(String::as_str)
    .collect::<Vec<_>>());
    assert!(
        said.contains("the totals are those of the manifest, but the records differ")
            && said.contains("site_summary.csv differs"),
        "{said}"
    );
    // A currency render would refuse is refused here too.
    let mut odd = manifest.clone();
    odd["currency"] = serde_json::json!("../x");
    let odd_path = dir.path().join("odd.json");
    std::fs::write(&odd_path, serde_json::to_vec(&odd).unwrap()).unwrap();
    let odd_out = dir.path().join("odd");
    let said = fails(
        &rerender_args(
            odd_path.to_str().unwrap(),
            &[&records],
            odd_out.to_str().unwrap(),
        )
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        2,
    );
    assert!(said.contains("odd.json: currency:"), "{said}");
}

#[test]
fn a_catalogue_column_named_almost_right_is_a_problem_not_a_silent_default() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture_catalogue(dir.path());
    let customers = std::fs::read_to_string(cat.join("customers.csv")).unwrap();
    std::fs::write(
        cat.join("customers.csv"),
        customers.replacen("itemisation", "itemization", 1),
    )
    .unwrap();
    let said = fails(
        &["profiles", "check", "--catalog", cat.to_str().unwrap()],
        2,
    );
    assert!(
        said.contains(
            "customers.csv:1: unknown column \"itemization\" (did you mean \"itemisation\"?)"
        ),
        "{said}"
    );
    // A column of the exporting system's own is left alone.
    let extra: String = customers
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l},account_manager\n"),
            _ => format!("{l},Jo\n"),
        })
        .collect();
    std::fs::write(cat.join("customers.csv"), extra).unwrap();
    ok(&["profiles", "check", "--catalog", cat.to_str().unwrap()]);
}

#[test]
fn render_from_the_catalogue_takes_the_invoice_formats_and_ignores_other_rows_problems() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture_catalogue(dir.path());
    // Another customer's row is broken (a time zone that does not exist).
    let customers = std::fs::read_to_string(cat.join("customers.csv")).unwrap();
    std::fs::write(
        cat.join("customers.csv"),
        customers.replace(
            "GLOBEX,Globex Corporation,enterprise,Enterprise detail,America/Chicago",
            "GLOBEX,Globex Corporation,enterprise,Enterprise detail,America/Chicagoo",
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&[
        "render",
        "--catalog",
        cat.to_str().unwrap(),
        "--invoice",
        "INV-2026-10-0042",
        "--records",
        &fixture("records.csv"),
        "--out",
        out.to_str().unwrap(),
    ]);
    // invoices.csv says csv;xlsx;pdf for this invoice.
    let m = manifest(&out);
    assert_eq!(
        m["rendered"]["formats"],
        serde_json::json!(["csv", "xlsx", "pdf"])
    );
    // The broken customer's invoice is refused with its problem.
    let said = fails(
        &[
            "render",
            "--catalog",
            cat.to_str().unwrap(),
            "--invoice",
            "INV-2026-10-0043",
            "--records",
            &fixture("records.csv"),
            "--out",
            dir.path().join("globex").to_str().unwrap(),
        ],
        2,
    );
    assert!(
        said.contains("invoice INV-2026-10-0043: the catalogue:")
            && said.contains("America/Chicagoo"),
        "{said}"
    );
}

#[test]
fn profiles_diff_names_each_change_and_what_it_does_to_an_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture_catalogue(dir.path());
    // "Site detail" with the calls report dropped, a column moved and added,
    // and German words.
    let edited = dir.path().join("site-detail-new.toml");
    std::fs::write(
        &edited,
        "name = \"Site detail\"\ndescription = \"Site summaries and itemised calls per site\"\ncustomer_groups = [\"business\", \"enterprise\"]\nlocale = \"de-DE\"\ncall_columns = [\"charge\", \"start_time\", \"caller\", \"dialled\", \"destination\", \"duration\", \"call_type\"]\ntransaction_columns = [\"date\", \"description\", \"amount\"]\n[reports]\ncustomer = [\"summary\", \"calls\"]\nsite = [\"summary\"]\n",
    )
    .unwrap();
    let said = stdout_of(&[
        "profiles",
        "diff",
        "Site detail",
        edited.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
    ]);
    for line in [
        "profile \"Site detail\" \u{2192} \"Site detail\": 5 changes",
        "reports.customer: calls report added",
        "reports.site: calls report removed",
        "call_columns: call_type added at position 7",
        "call_columns: charge moved from 6 to 1",
        "locale: (none) \u{2192} \"de-DE\"",
    ] {
        assert!(said.contains(line), "{line:?} in\n{said}");
    }
    // With the invoice, per attachment, as a real render of both shows it.
    let json = stdout_of(&[
        "profiles",
        "diff",
        "Site detail",
        edited.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
        "--invoice",
        "INV-2026-10-0042",
        "--records",
        &fixture("records.csv"),
        "--attachments",
        "csv",
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&json).unwrap();
    let verdicts: Vec<(String, String, Value, Value)> = report["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["verdict"].as_str().unwrap().to_string(),
                a["rows_before"].clone(),
                a["rows_after"].clone(),
            )
        })
        .collect();
    let verdict = |path: &str| verdicts.iter().find(|v| v.0 == path).unwrap().clone();
    assert_eq!(verdict("customer_calls.csv").1, "added");
    assert_eq!(verdict("customer_calls.csv").3, serde_json::json!(20));
    assert_eq!(verdict("site_calls.csv").1, "removed");
    // German words change the human CSV of the summaries.
    assert_eq!(verdict("site_summary.csv").1, "changed");
    assert_eq!(verdict("site_summary.csv").2, verdict("site_summary.csv").3);
    // Matches real renders of both profiles.
    let render_with = |profile: &str, out: &Path| {
        ok(&[
            "render",
            "--catalog",
            cat.to_str().unwrap(),
            "--invoice",
            "INV-2026-10-0042",
            "--profile",
            profile,
            "--records",
            &fixture("records.csv"),
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ]);
        crate::util::files(out)
    };
    let old_files = render_with(
        &fixture("catalog/profiles/site-detail.toml"),
        &dir.path().join("old"),
    );
    let new_files = render_with(edited.to_str().unwrap(), &dir.path().join("new"));
    for (path, verdict, _, _) in &verdicts {
        let expected = match (old_files.get(path), new_files.get(path)) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            (Some(a), Some(b)) if a == b => "unchanged",
            _ => "changed",
        };
        assert_eq!(verdict, expected, "{path}");
    }
    // Nothing was written beside the catalogue.
    assert!(!cat.join("out").exists());
    // Two files with --catalog: OLD is read as the file it is.
    let old_file = fixture("catalog/profiles/site-detail.toml");
    let said = stdout_of(&[
        "profiles",
        "diff",
        &old_file,
        edited.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
    ]);
    assert!(said.contains("5 changes"), "{said}");
}

/// Runs, asserts success, and returns standard output.
fn stdout_of(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "usage-report {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `rerender` of a manifest from records into a folder.
fn rerender_args(manifest: &str, records: &[&str], out: &str) -> Vec<String> {
    let mut args = vec!["rerender".to_string(), "--manifest".into(), manifest.into()];
    for r in records {
        args.extend(["--records".to_string(), r.to_string()]);
    }
    args.extend(["--out".to_string(), out.to_string()]);
    args
}
