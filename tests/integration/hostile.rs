//! Hostile and careless input as upstream systems produce it: quotes left
//! open, ids that collide once made safe, reruns over old output, formula
//! text in rejects, endless records, bytes that arrive one at a time. Each
//! case failed on the engine before it was hardened (issue 12); reading
//! cases run through the serial and the parallel (chunked) reader.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::*;

const HEADER: &str = "record_type,customer_id,site,campaign,number,call_id,start_time,caller,dialled,destination,call_type,direction,duration,billed_duration,rate,charge,transaction_id,date,transaction_type,description,quantity,unit_price,amount\n";

fn call(customer: &str, id: &str, charge: &str) -> String {
    format!("call,{customer},London,,+4420,{id},2026-10-02T10:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,{charge},,,,,,,\n")
}

/// Good calls of ACME to pad a file past the parallel reader's threshold
/// (4 MiB), so the chunked reader takes it.
fn padding(count: usize, from: usize) -> String {
    (from..from + count)
        .map(|i| call("ACME", &format!("P{i}"), "0.01"))
        .collect()
}

/// Renders ACME's October invoice from `records`, CSV only.
fn render_records(dir: &Path, records: &Path, extra: &[&str]) -> std::process::Output {
    let out = dir.join("out");
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        records.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    args.extend_from_slice(extra);
    run(&args)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A file whose 3rd line opens a quote that is never closed, then more
/// calls: serial (small) and chunked (large, the quote in a later chunk).
#[test]
fn an_unterminated_quote_is_an_error_naming_its_line_never_a_lost_tail() {
    for (name, before) in [("serial", 1usize), ("chunked", 60_000)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let mut text = HEADER.to_string();
        text.push_str(&padding(before, 0));
        let open_line = before + 2;
        text.push_str("call,ACME,London,,+4420,BAD,2026-10-02T10:00:00Z,+4420,0161,\"Paris\n");
        text.push_str(&call("ACME", "X1", "100.00"));
        text.push_str(&call("ACME", "X2", "100.00"));
        std::fs::write(&path, &text).unwrap();
        for jobs in ["1", "4"] {
            let out = render_records(dir.path(), &path, &["--jobs", jobs]);
            assert_eq!(out.status.code(), Some(1), "{name} --jobs {jobs}");
            let e = stderr(&out);
            assert!(
                e.contains(&format!("in.csv:{open_line}: the quoted field opened on line {open_line} is never closed")),
                "{name} --jobs {jobs}: {e}"
            );
            assert!(!dir.path().join("out/manifest.json").exists());
        }
        // Under skip: rejected with its reason, and lines say what was read.
        let out = render_records(dir.path(), &path, &["--on-bad-record", "skip"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let m = manifest(&dir.path().join("out"));
        assert_eq!(m["input"]["rejected"], 1, "{name}");
        assert_eq!(m["input"]["records"], before as u64 + 1, "{name}");
        assert_eq!(m["input"]["lines"], before as u64 + 4, "{name}");
        let rejects = csv_rows(&dir.path().join("out/rejects.csv"));
        assert_eq!(rejects[1][1], open_line.to_string(), "{name}");
        assert!(rejects[1][3].contains("never closed"), "{rejects:?}");
    }
}

/// A quote opened and closed by a stray quote two lines later: the field
/// swallows a whole record, and the field count happens to match.
#[test]
fn a_field_that_swallows_a_whole_record_is_an_error_naming_both_lines() {
    for (name, before) in [("serial", 1usize), ("chunked", 60_000)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let mut text = HEADER.to_string();
        text.push_str(&padding(before, 0));
        let open_line = before + 2;
        text.push_str("call,ACME,London,,+4420,BAD,2026-10-02T10:00:00Z,+4420,0161,\"Paris,national,outbound,60,60,0.015,1.00,,,,,,,\n");
        text.push_str(&call("ACME", "SWALLOWED", "100.00"));
        text.push_str("call,ACME,London,,+4420,C4,2026-10-02T12:00:00Z,+4420,0161,UK\",national,outbound,60,60,0.015,2.00,,,,,,,\n");
        text.push_str(&call("ACME", "AFTER", "1.00"));
        std::fs::write(&path, &text).unwrap();
        let out = render_records(dir.path(), &path, &["--jobs", "2"]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let e = stderr(&out);
        assert!(
            e.contains(&format!(
                "in.csv:{open_line}: a quoted field on this line runs on into line {}, which reads as a whole record of 23 fields",
                open_line + 1
            )),
            "{name}: {e}"
        );
    }
}

/// A quote left open where every row quotes the field: the next row's
/// opening quote closes it, no whole line sits inside, and the field count
/// comes out right. The line the field ends on, read with the fields after
/// it, is a record: the error names it.
#[test]
fn a_field_that_swallows_the_start_of_one_record_is_an_error() {
    for (name, before) in [("serial", 1usize), ("chunked", 60_000)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let mut text = HEADER.to_string();
        text.push_str(&padding(before, 0));
        let open_line = before + 2;
        text.push_str("call,ACME,London,,+4420,BAD,2026-10-02T10:00:00Z,+4420,0161,\"Paris,national,outbound,60,60,0.015,1.00,,,,,,,\n");
        text.push_str("call,ACME,London,,+4420,C4,2026-10-02T12:00:00Z,+4420,0161,\"UK\",national,outbound,60,60,0.015,100.00,,,,,,,\n");
        text.push_str(&call("ACME", "AFTER", "1.00"));
        std::fs::write(&path, &text).unwrap();
        for jobs in ["1", "2"] {
            let out = render_records(dir.path(), &path, &["--jobs", jobs]);
            assert_eq!(out.status.code(), Some(1), "{name}");
            let e = stderr(&out);
            assert!(
                e.contains(&format!(
                    "in.csv:{open_line}: a quoted field on this line runs on into line {}, where a record of 23 fields starts",
                    open_line + 1
                )),
                "{name} --jobs {jobs}: {e}"
            );
        }
    }
}

/// A quoted field may hold line breaks: a multi-line description is text.
#[test]
fn quoted_line_breaks_in_text_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    let mut text = HEADER.to_string();
    text.push_str("transaction,ACME,London,,+4420,,,,,,,,,,,,T1,2026-10-03,fee,\"Line one\nline two, with a comma\",1,1,1\n");
    text.push_str(&call("ACME", "C1", "1.00"));
    std::fs::write(&path, &text).unwrap();
    let out = render_records(dir.path(), &path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = manifest(&dir.path().join("out"));
    assert_eq!(m["input"]["records"], 2);
    assert_eq!(m["input"]["lines"], 4);
}

/// Errors name the true line of a record after blank lines.
#[test]
fn a_record_after_blank_lines_is_named_by_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    let text = format!(
        "{HEADER}\n\ncall,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,free,,,,,,,\n"
    );
    std::fs::write(&path, text).unwrap();
    let e = stderr(&render_records(dir.path(), &path, &[]));
    assert!(e.contains("in.csv:4: column charge"), "{e}");
}

/// The last record, with no line end, after a blank line: its own line.
#[test]
fn the_last_record_after_a_blank_line_is_named_by_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    let text = format!(
        "{HEADER}{}\ncall,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,free,,,,,,,",
        call("ACME", "C1", "1.00")
    );
    std::fs::write(&path, text).unwrap();
    let e = stderr(&render_records(dir.path(), &path, &[]));
    assert!(e.contains("in.csv:4: column charge"), "{e}");
}

/// Gzip and standard input take the same path: the quote is found there too.
#[test]
fn an_unterminated_quote_in_gzip_and_on_standard_input_is_found() {
    let mut text = HEADER.to_string();
    text.push_str(&call("ACME", "C1", "1.00"));
    text.push_str("call,ACME,London,,+4420,BAD,2026-10-02T10:00:00Z,+4420,0161,\"Paris\n");
    text.push_str(&call("ACME", "X1", "100.00"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv.gz");
    std::fs::write(&path, &gz).unwrap();
    let e = stderr(&render_records(dir.path(), &path, &[]));
    assert!(
        e.contains("in.csv.gz:3: the quoted field opened on line 3"),
        "{e}"
    );
    let out = dir.path().join("stdin-out");
    let args = acme_args(
        "fixtures/profiles/everything.toml",
        "-",
        out.to_str().unwrap(),
    );
    let output = run_with_stdin(&args, Some(text.as_bytes()));
    let e = String::from_utf8_lossy(&output.stderr);
    assert!(e.contains("-:3: the quoted field opened on line 3"), "{e}");
}

/// Standard input that delivers its first bytes in separate reads: gzip
/// magic and a byte order mark split across reads are still recognised.
#[test]
fn standard_input_is_recognised_however_the_pipe_delivers_it() {
    let mut text = HEADER.to_string();
    text.push_str(&call("ACME", "C1", "1.00"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    for (name, bytes) in [("gzip", gz), ("bom", bom)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let args = acme_args(
            "fixtures/profiles/everything.toml",
            "-",
            out.to_str().unwrap(),
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_usage-report"))
            .args(&args)
            .current_dir(root())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for byte in &bytes[..2] {
            stdin.write_all(&[*byte]).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        stdin.write_all(&bytes[2..]).unwrap();
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(manifest(&out)["input"]["in_scope"], 1, "{name}");
    }
}

/// A stream with no line end grows no memory past the record limit.
#[test]
fn a_record_without_end_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let e = stderr(&render_records(dir.path(), Path::new("/dev/zero"), &[]));
    assert!(
        e.contains("/dev/zero: line 1: a record longer than 64 MiB"),
        "{e}"
    );
    // The same after a good header, on the line where the record starts.
    let path = dir.path().join("long.csv");
    let mut text = HEADER.to_string();
    text.push_str(&call("ACME", "C1", "1.00"));
    text.push_str("call,ACME,\"");
    text.push_str(&"x".repeat(65 << 20));
    std::fs::write(&path, text).unwrap();
    let out = render_records(dir.path(), &path, &["--on-bad-record", "skip"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("long.csv: line 3: a record longer than 64 MiB"));
}

/// Columns named like the internal partition columns are ordinary columns:
/// they cannot choose where an error is said to be.
#[test]
fn input_columns_cannot_forge_error_locations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    let text = format!(
        "_source_file,_source_line,{HEADER}/etc/shadow,999,call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,free,,,,,,,\n"
    );
    std::fs::write(&path, text).unwrap();
    // Outside a partition's listed shard folder such a file is refused,
    // named as itself; the place it claims is never believed.
    let e = stderr(&render_records(dir.path(), &path, &[]));
    assert!(
        e.contains("in.csv: leads with _source_file and _source_line"),
        "{e}"
    );
    assert!(!e.contains("shadow"), "{e}");
}

/// A catalogue of one invoice per customer, with these invoice ids, and
/// one call per customer whose charge tells the customer apart.
fn hostile_catalog(dir: &Path, ids: &[&str]) -> std::path::PathBuf {
    let mut customers = "customer_id,name,groups,default_profile,timezone,currency\n".to_string();
    let mut invoices = "invoice_id,customer_id,from,to,profile,formats\n".to_string();
    let mut records = HEADER.to_string();
    for (i, id) in ids.iter().enumerate() {
        customers.push_str(&format!("CUST{i},C {i},,Everything,UTC,GBP\n"));
        let quoted = format!("\"{}\"", id.replace('"', "\"\""));
        invoices.push_str(&format!(
            "{quoted},CUST{i},2026-10-01,2026-11-01,,csv;xlsx\n"
        ));
        records.push_str(&call(
            &format!("CUST{i}"),
            &format!("CALL{i}"),
            &format!("{}.00", i + 1),
        ));
    }
    let everything = std::fs::read_to_string(fixture("profiles/everything.toml")).unwrap();
    let cat = catalog(
        dir,
        &[("everything.toml", &everything)],
        &customers,
        &invoices,
    );
    std::fs::write(cat.join("records.csv"), records).unwrap();
    cat
}

/// Runs the catalogue and checks that every invoice has a folder of its own
/// whose attachments hold its customer's call only.
fn assert_each_invoice_alone(dir: &Path, ids: &[&str], jobs: &str) {
    let cat = hostile_catalog(&dir.join("cat"), ids);
    let out = dir.join(format!("out-{jobs}"));
    let records = cat.join("records.csv");
    let output = run(&[
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        jobs,
    ]);
    assert!(output.status.success(), "{ids:?}: {}", stderr(&output));
    let report = run_report(&out);
    let mut folders = std::collections::HashSet::new();
    for invoice in report["invoices"].as_array().unwrap() {
        assert_eq!(invoice["status"], "rendered", "{invoice}");
        let folder = invoice["folder"].as_str().unwrap();
        assert!(
            folders.insert(folder.to_lowercase()),
            "{folder} given twice: {ids:?}"
        );
        assert!(!["run.json", "rejects.csv"].contains(&folder.to_lowercase().as_str()));
        let m = manifest(&out.join(folder));
        assert_eq!(m["invoice"], invoice["invoice"]);
        assert_eq!(m["customer"], invoice["customer"]);
        assert_attachments_whole(&out.join(folder));
        let customer = invoice["customer"].as_str().unwrap();
        let calls = std::fs::read_to_string(out.join(folder).join("customer_calls.csv")).unwrap();
        let n: usize = customer.trim_start_matches("CUST").parse().unwrap();
        assert!(calls.contains(&format!("CALL{n}")), "{calls}");
        assert_eq!(calls.matches("CALL").count(), 1, "{folder}: {calls}");
        // Nothing but this invoice's files in its folder.
        let listed: std::collections::BTreeSet<String> = m["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap().to_string())
            .chain(["manifest.json".to_string()])
            .collect();
        assert_eq!(
            files(&out.join(folder))
                .keys()
                .cloned()
                .collect::<std::collections::BTreeSet<_>>(),
            listed
        );
    }
    assert!(out.join("run.json").is_file());
}

#[test]
fn invoice_folders_never_collide_nor_take_the_runs_own_names() {
    let dir = tempfile::tempdir().unwrap();
    for jobs in ["1", "4"] {
        assert_each_invoice_alone(dir.path(), &["INV", "inv", "inv~2"], jobs);
        assert_each_invoice_alone(dir.path(), &["A/1", "A:1", "A_1~2", "a_1"], jobs);
        assert_each_invoice_alone(dir.path(), &["run.json", "rejects.csv", "RUN.JSON~2"], jobs);
        assert_each_invoice_alone(dir.path(), &["caf\u{e9}", "cafe\u{301}", "CAF\u{c9}"], jobs);
    }
}

use proptest::strategy::Strategy;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
    /// Invoice ids from a hostile alphabet: case variants, separators,
    /// `~N` suffixes, dots, reserved names, normalisation variants.
    #[test]
    fn every_invoice_gets_its_own_folder(
        ids in proptest::collection::btree_set(
            proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "A", "/", "\\", ":", "~2", "~3", ".", "..", "run.json", "rejects.csv",
                    "CON", "\u{e9}", "e\u{301}", "\u{c9}", "_",
                ]),
                1..4,
            )
            .prop_map(|parts| parts.concat()),
            2..7,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_each_invoice_alone(dir.path(), &ids, "2");
    }
}

/// Split groups whose folder names collide: `""` is shown as "no site".
#[test]
fn split_groups_never_share_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    let mut text = HEADER.to_string();
    for (i, site) in ["", "no site", "no site~2", "NO SITE"].iter().enumerate() {
        text.push_str(&format!(
            "call,ACME,{site},,+4420,C{i},2026-10-02T10:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,{}.00,,,,,,,\n",
            i + 1
        ));
    }
    std::fs::write(&path, text).unwrap();
    for zip in ["false", "true"] {
        let profile = dir.path().join(format!("split-{zip}.toml"));
        std::fs::write(
            &profile,
            format!("name = \"Split\"\nsplit = \"site\"\nsplit_zip = {zip}\ncall_columns = [\"call_id\", \"charge\"]\n[reports]\nsite = [\"summary\", \"calls\"]\n"),
        )
        .unwrap();
        let out = dir.path().join(format!("out-{zip}"));
        let mut args = acme_args(
            profile.to_str().unwrap(),
            path.to_str().unwrap(),
            out.to_str().unwrap(),
        );
        args.extend(["--format", "csv,xlsx"]);
        ok(&args);
        let m = manifest(&out);
        let paths: Vec<&str> = m["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap())
            .collect();
        let unique: std::collections::HashSet<String> =
            paths.iter().map(|p| p.to_lowercase()).collect();
        assert_eq!(unique.len(), paths.len(), "{paths:?}");
        assert_attachments_whole(&out);
        if zip == "false" {
            assert_eq!(
                paths
                    .iter()
                    .filter(|p| p.ends_with("site_calls.csv"))
                    .count(),
                5,
                "{paths:?}"
            );
        }
    }
}

/// A rerun with fewer formats removes what the old manifest listed; a
/// rerun that fails leaves no manifest beside files it does not describe.
#[test]
fn a_rerun_never_leaves_a_manifest_that_describes_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        o,
    );
    args.extend(["--format", "csv,xlsx,pdf"]);
    ok(&args);
    assert!(out.join("INV-2026-10-0042_usage.xlsx").exists());
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        o,
    );
    args.extend(["--format", "csv"]);
    ok(&args);
    assert!(!out.join("INV-2026-10-0042_usage.xlsx").exists());
    assert!(!out.join("INV-2026-10-0042_usage.pdf").exists());
    let listed = manifest(&out)["attachments"].as_array().unwrap().len();
    assert_eq!(files(&out).len(), listed + 1);
    assert_attachments_whole(&out);

    // In a run: an invoice rendered, then failing on a rerun over a bad record.
    let cat = hostile_catalog(&dir.path().join("cat"), &["INV-1", "INV-2"]);
    let run_out = dir.path().join("run");
    let records = cat.join("records.csv");
    let args = |records: &Path| {
        vec![
            "run".to_string(),
            "--catalog".into(),
            cat.display().to_string(),
            "--records".into(),
            records.display().to_string(),
            "--out".into(),
            run_out.display().to_string(),
        ]
    };
    let first: Vec<String> = args(&records);
    ok(&first.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run_out.join("INV-1/manifest.json").exists());
    let mut text = std::fs::read_to_string(&records).unwrap();
    text.push_str("call,CUST0,London,,+4420,BAD,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,free,,,,,,,\n");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, text).unwrap();
    let second = args(&bad);
    let output = run(&second.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(1));
    let report = run_report(&run_out);
    assert_eq!(report["invoices"][0]["status"], "failed");
    assert!(!run_out.join("INV-1/manifest.json").exists());
    assert!(run_out.join("INV-2/manifest.json").exists());
}

/// A record whose quoting went wrong may hold records of any customer: in
/// a run under the fail policy it fails every invoice, not only the one of
/// the line where the quote opened.
#[test]
fn a_quoting_mistake_in_a_run_fails_every_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let cat = hostile_catalog(&dir.path().join("cat"), &["INV-1", "INV-2"]);
    let records = cat.join("records.csv");
    let mut text = std::fs::read_to_string(&records).unwrap();
    text.push_str("call,CUST0,London,,+4420,BAD,2026-10-02T10:00:00Z,+4420,0161,\"Paris\n");
    text.push_str(&call("CUST1", "SWALLOWED", "7.00"));
    std::fs::write(&records, text).unwrap();
    let out = dir.path().join("out");
    let output = run(&[
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    for invoice in run_report(&out)["invoices"].as_array().unwrap() {
        assert_eq!(invoice["status"], "failed", "{invoice}");
    }
}

/// A bad record whose customer cannot be told may belong to any invoice:
/// under the fail policy it fails them all.
#[test]
fn a_bad_record_without_a_customer_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let cat = hostile_catalog(&dir.path().join("cat"), &["INV-1", "INV-2"]);
    let records = cat.join("records.csv");
    let mut text = std::fs::read_to_string(&records).unwrap();
    text.push_str(&call("", "ORPHAN", "5.00"));
    std::fs::write(&records, text).unwrap();
    let out = dir.path().join("out");
    let base = [
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let output = run(&base);
    assert_eq!(output.status.code(), Some(1));
    let report = run_report(&out);
    for invoice in report["invoices"].as_array().unwrap() {
        assert_eq!(invoice["status"], "failed");
        assert!(invoice["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be told"));
    }
    let mut skip = base.to_vec();
    skip.extend(["--on-bad-record", "skip"]);
    ok(&skip);
    assert_eq!(run_report(&out)["input"]["rejected"], 1);
}

/// A render interrupted after the old manifest went and before the new one
/// came: the next render still removes what the old one listed and the new
/// one does not write.
#[test]
fn stale_files_go_even_after_an_interrupted_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        o,
    );
    args.extend(["--format", "csv,xlsx"]);
    ok(&args);
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        o,
    );
    args.extend(["--format", "csv"]);
    let status = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args(&args)
        .current_dir(root())
        .env("USAGE_REPORT_ABORT_AT", "attachment:2")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    assert!(!out.join("manifest.json").exists());
    ok(&args);
    assert!(!out.join("INV-2026-10-0042_usage.xlsx").exists());
    assert_eq!(
        files(&out).len(),
        manifest(&out)["attachments"].as_array().unwrap().len() + 1
    );
}

/// rejects.csv is a CSV like any other: formula text in it is guarded, and
/// the raw record is recovered by removing the leading `'`.
#[test]
fn rejects_csv_guards_formula_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("=1+1.csv");
    let mut text = HEADER.to_string();
    text.push_str("=cmd|' /C calc'!A0,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,1,,,,,,,\n");
    std::fs::write(&path, text).unwrap();
    let out = render_records(dir.path(), &path, &["--on-bad-record", "skip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rejects = csv_rows(&dir.path().join("out/rejects.csv"));
    assert!(rejects[1][4].starts_with("'=cmd|"), "{rejects:?}");
    assert!(rejects[1][4][1..].starts_with("=cmd|' /C calc'!A0,ACME,"));
    // A field that starts with ' is guarded too: removing one gives it back.
    let path = dir.path().join("quote.csv");
    let mut text = HEADER.to_string();
    text.push_str("'quoted,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,1,,,,,,,\n");
    std::fs::write(&path, text).unwrap();
    let out = render_records(dir.path(), &path, &["--on-bad-record", "skip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rejects = csv_rows(&dir.path().join("out/rejects.csv"));
    assert!(rejects[1][4].starts_with("''quoted,ACME,"), "{rejects:?}");
}

/// The smaller promises of issue 12: each a case that once went wrong.
mod edges {
    use super::*;

    #[test]
    fn json_profiles_refuse_a_key_written_twice_like_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(
            &path,
            r#"{"name": "A", "name": "B", "reports": {"customer": ["summary"]}}"#,
        )
        .unwrap();
        let e = fails(&["check-profile", path.to_str().unwrap()], 2);
        assert!(e.contains("key \"name\" appears twice"), "{e}");
        assert_eq!(e.matches("appears twice").count(), 1, "said once: {e}");
        // Not UTF-8: the request is wrong (2), not the records (1).
        let latin1 = dir.path().join("latin1.toml");
        std::fs::write(
            &latin1,
            b"name = \"Caf\xe9\"\n[reports]\ncustomer = [\"summary\"]\n",
        )
        .unwrap();
        let e = fails(&["check-profile", latin1.to_str().unwrap()], 2);
        assert!(e.contains("not UTF-8 (byte 0xE9"), "{e}");
    }

    #[test]
    fn catalogue_checks_go_on_past_a_ragged_row_and_a_folder_named_like_a_profile() {
        let dir = tempfile::tempdir().unwrap();
        let everything = std::fs::read_to_string(fixture("profiles/everything.toml")).unwrap();
        let cat = catalog(
            dir.path(),
            &[("everything.toml", &everything)],
            "customer_id,name,groups,default_profile,timezone,currency\nACME,Acme,,Everything,UTC,GBP\n",
            "invoice_id,customer_id,from,to,profile,formats\nINV-1,ACME,2026-10-01,2026-11-01\nINV-2,NOBODY,2026-10-01,2026-11-01,,csv\n",
        );
        std::fs::create_dir(cat.join("profiles/folder.toml")).unwrap();
        let e = fails(
            &["profiles", "check", "--catalog", cat.to_str().unwrap()],
            2,
        );
        assert!(
            e.contains("invoices.csv:2: has 4 fields but the header has 6"),
            "{e}"
        );
        assert!(e.contains("folder.toml"), "{e}");
        assert!(
            e.contains("NOBODY"),
            "the rows after it are still checked: {e}"
        );
    }

    /// "A record of another customer or period is out of scope and counted
    /// without further validation": another customer's bad time is theirs.
    #[test]
    fn another_customers_record_is_out_of_scope_unvalidated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let text = format!(
            "{HEADER}{}call,GLOBEX,London,,+4420,G1,yesterday,+4420,0161,UK,national,outbound,60,60,0.015,free,,,,,,,\n",
            call("ACME", "C1", "1.00")
        );
        std::fs::write(&path, text).unwrap();
        let out = render_records(dir.path(), &path, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let m = manifest(&dir.path().join("out"));
        assert_eq!(m["input"]["out_of_scope"], 1);
        assert_eq!(m["input"]["rejected"], 0);
    }

    /// Another customer's record is not validated at all: not even its
    /// record type.
    #[test]
    fn another_customers_record_of_unknown_type_is_out_of_scope() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let text = format!(
            "{HEADER}{}sms,GLOBEX,London,,+4420,S1,,,,,,,,,,,,,,,,,\n",
            call("ACME", "C1", "1.00")
        );
        std::fs::write(&path, text).unwrap();
        let out = render_records(dir.path(), &path, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            manifest(&dir.path().join("out"))["input"]["out_of_scope"],
            1
        );
    }

    /// Catalogue files are read through the same quoting watch: a quote left
    /// open cannot merge one customer's row into another's.
    #[test]
    fn a_quote_left_open_in_the_catalogue_is_a_problem_not_a_merge() {
        let dir = tempfile::tempdir().unwrap();
        let everything = std::fs::read_to_string(fixture("profiles/everything.toml")).unwrap();
        let cat = catalog(
            dir.path(),
            &[("everything.toml", &everything)],
            "customer_id,name,groups,default_profile,timezone,currency\nGLOBEX,\"Globex Corporation,,Everything,America/Chicago,USD\nINITECH,\"Initech\",,Everything,Asia/Tokyo,JPY\n",
            "invoice_id,customer_id,from,to,profile,formats\nINV-G,GLOBEX,2026-10-01,2026-11-01,,csv\n",
        );
        let e = fails(
            &["profiles", "check", "--catalog", cat.to_str().unwrap()],
            2,
        );
        assert!(
            e.contains("customers.csv:2: a quoted field runs on over the next line"),
            "{e}"
        );
        // And a quote never closed on the last line.
        std::fs::write(
            cat.join("invoices.csv"),
            "invoice_id,customer_id,from,to,profile,formats\nINV-G,\"GLOBEX,2026-10-01,2026-11-01,,csv",
        )
        .unwrap();
        let e = fails(
            &["profiles", "check", "--catalog", cat.to_str().unwrap()],
            2,
        );
        assert!(
            e.contains("invoices.csv:2: a quoted field opened here is never closed"),
            "{e}"
        );
    }

    /// A profile or catalogue that cannot be read is a wrong request (2).
    #[test]
    fn a_missing_profile_or_catalogue_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let args = acme_args(
            "/nonexistent/p.toml",
            "fixtures/records.csv",
            out.to_str().unwrap(),
        );
        let e = fails(&args, 2);
        assert!(e.contains("/nonexistent/p.toml"), "{e}");
        fails(
            &[
                "profiles",
                "list",
                "--catalog",
                dir.path().to_str().unwrap(),
            ],
            2,
        );
    }

    #[test]
    fn too_many_jobs_is_a_usage_error_at_once() {
        let e = fails(
            &[
                "--jobs",
                "100000",
                "profiles",
                "list",
                "--catalog",
                "fixtures/catalog",
            ],
            2,
        );
        assert!(e.contains("at most 1024 worker threads"), "{e}");
    }

    #[test]
    fn leap_seconds_are_refused_not_shown_as_59() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let text = format!(
            "{HEADER}call,ACME,London,,+4420,C1,2026-10-02T10:59:60Z,+4420,0161,UK,national,outbound,60,60,0.015,1.00,,,,,,,\n"
        );
        std::fs::write(&path, text).unwrap();
        let e = stderr(&render_records(dir.path(), &path, &[]));
        assert!(
            e.contains("in.csv:2: column start_time: \"2026-10-02T10:59:60Z\" is a leap second"),
            "{e}"
        );
    }

    /// Renders one invoice of `records` with a profile, CSV and XLSX, and
    /// returns the folder.
    fn render_with(dir: &Path, profile: &str, records: &str, extra: &[&str]) -> std::path::PathBuf {
        let p = dir.join("p.toml");
        std::fs::write(&p, profile).unwrap();
        let r = dir.join("in.csv");
        std::fs::write(&r, format!("{HEADER}{records}")).unwrap();
        let out = dir.join("out");
        let mut args = acme_args(
            p.to_str().unwrap(),
            r.to_str().unwrap(),
            out.to_str().unwrap(),
        );
        args.extend(["--format", "csv,xlsx"]);
        args.extend_from_slice(extra);
        ok(&args);
        out
    }

    fn warnings(out: &Path) -> String {
        manifest(out)["warnings"].to_string()
    }

    #[test]
    fn a_group_key_longer_than_a_cell_is_cut_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let site = "S".repeat(40_000);
        let out = render_with(
            dir.path(),
            "name = \"Sites\"\ncall_columns = [\"call_id\", \"charge\"]\n[reports]\nsite = [\"summary\", \"calls\"]\n",
            &format!("call,ACME,{site},,+4420,C1,2026-10-02T10:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,1.00,,,,,,,\n"),
            &[],
        );
        assert!(
            warnings(&out).contains("text cell(s) longer than Excel's 32767 characters were cut")
        );
        assert!(std::fs::read_to_string(out.join("site_calls.csv"))
            .unwrap()
            .contains(&site));
    }

    #[test]
    fn title_block_values_that_look_like_formulas_are_quoted_text() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut args = acme_args(
            "fixtures/profiles/everything.toml",
            "fixtures/records.csv",
            out.to_str().unwrap(),
        );
        let at = args.iter().position(|a| *a == "INV-2026-10-0042").unwrap();
        args[at] = "=HYPERLINK(\"x\")";
        args.extend(["--format", "xlsx"]);
        ok(&args);
        let book = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "xlsx"))
            .unwrap();
        let styles = crate::xlsx::zip_entry(&book, "xl/styles.xml");
        let xfs = &styles[styles.find("<cellXfs").unwrap()..];
        let quoted: Vec<usize> = xfs
            .split("<xf ")
            .skip(1)
            .enumerate()
            .filter(|(_, xf)| xf.contains("quotePrefix=\"1\""))
            .map(|(i, _)| i)
            .collect();
        // sheet1 is the overview (shared strings); sheet2 the first report's.
        let sheet = crate::xlsx::zip_entry(&book, "xl/worksheets/sheet2.xml");
        let at = sheet
            .find("=HYPERLINK")
            .expect("the invoice id in the title block");
        let cell = &sheet[sheet[..at].rfind("<c ").unwrap()..at];
        let style: usize = cell
            .split("s=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a style on {cell}"));
        assert!(
            quoted.contains(&style),
            "{cell} with style {style}, quoted: {quoted:?}"
        );
    }

    #[test]
    fn dates_before_1900_march_are_text_in_workbooks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.toml");
        std::fs::write(&p, "name = \"Old\"\ntransaction_columns = [\"date\", \"amount\"]\n[reports]\ncustomer = [\"transactions\"]\n").unwrap();
        let r = dir.path().join("in.csv");
        std::fs::write(
            &r,
            format!(
                "{HEADER}transaction,ACME,London,,+4420,,,,,,,,,,,,T1,1899-06-01,fee,Fee,1,1,1\n"
            ),
        )
        .unwrap();
        let out = dir.path().join("out");
        ok(&[
            "render",
            "--profile",
            p.to_str().unwrap(),
            "--records",
            r.to_str().unwrap(),
            "--customer",
            "ACME",
            "--from",
            "1899-01-01",
            "--to",
            "1900-01-01",
            "--format",
            "xlsx",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            warnings(&out).contains("1 date(s) before 1900-03-01 written as text"),
            "{}",
            warnings(&out)
        );
        let book = out.join("ACME-18990101_usage.xlsx");
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&book).unwrap();
        use calamine::Reader;
        let range = wb.worksheet_range("Customer transactions").unwrap();
        assert!(range
            .rows()
            .flatten()
            .any(|c| c == &calamine::Data::String("1899-06-01".into())));
    }

    #[test]
    fn money_an_excel_number_cannot_hold_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let out = render_with(
            dir.path(),
            "name = \"Big\"\n[reports]\ncustomer = [\"summary\"]\n",
            "call,ACME,London,,+4420,C1,2026-10-02T10:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,123456789012.123456,,,,,,,\n",
            &[],
        );
        assert!(
            warnings(&out).contains("more than 15 significant digits"),
            "{}",
            warnings(&out)
        );
        let exact = std::fs::read_to_string(out.join("customer_summary.csv")).unwrap();
        assert!(exact.contains("123456789012.123456"));
    }

    #[test]
    fn calls_of_no_direction_are_named_when_directions_are_split() {
        let dir = tempfile::tempdir().unwrap();
        let out = render_with(
            dir.path(),
            "name = \"Dir\"\nsplit_direction = true\n[reports]\ncustomer = [\"summary\"]\n",
            "call,ACME,London,,+4420,C1,2026-10-02T10:00:00Z,+4420,0161,UK,national,sideways,60,60,0.015,1.00,,,,,,,\n",
            &[],
        );
        assert!(warnings(&out).contains("1 call(s) have a direction that is neither inbound nor outbound (first: \\\"sideways\\\""), "{}", warnings(&out));
    }
}

/// Sheet names made from data: an apostrophe left at the end by Excel's
/// 31-character cut, a control character, a non-character — each still a
/// valid workbook, its names and links well-formed XML.
#[test]
fn sheet_names_from_data_stay_valid_whatever_the_site_is_called() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("r.csv");
    let mut text = HEADER.to_string();
    for (i, site) in [
        "St Christoph's Campus",
        "VT\u{b}x",
        "'Hara",
        "Bad\u{FFFE}Site",
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "call,ACME,\"{site}\",,+4420,C{i},2026-10-0{}T10:00:00Z,+4420,+4421,UK,local,outbound,60,60,0.01,0.01,,,,,,,\n",
            i + 1
        ));
    }
    std::fs::write(&records, text).unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        "name = \"Split\"\nsplit = \"site\"\ncall_columns = [\"call_id\", \"charge\"]\n[reports]\nsite = [\"summary\", \"calls\"]\n",
    )
    .unwrap();
    for locale in ["en-GB", "de-DE"] {
        let out = dir.path().join(locale);
        let mut args = acme_args(
            profile.to_str().unwrap(),
            records.to_str().unwrap(),
            out.to_str().unwrap(),
        );
        args.extend(["--format", "xlsx", "--locale", locale]);
        ok(&args);
        let mut books = 0;
        for (name, _) in files(&out).iter().filter(|(n, _)| n.ends_with(".xlsx")) {
            books += 1;
            let path = out.join(name);
            let workbook = crate::xlsx::zip_entry(&path, "xl/workbook.xml");
            for sheet in workbook.split("<sheet name=\"").skip(1) {
                let sheet_name = &sheet[..sheet.find('"').unwrap()];
                assert!(
                    !sheet_name.starts_with('\'') && !sheet_name.ends_with('\''),
                    "{name}: {sheet_name}"
                );
                assert!(sheet_name.chars().count() <= 31, "{sheet_name}");
                assert!(
                    !sheet_name
                        .chars()
                        .any(|c| c.is_control() || c == '\u{FFFE}'),
                    "{name}: {sheet_name:?}"
                );
            }
            let overview = crate::xlsx::zip_entry(&path, "xl/worksheets/sheet1.xml");
            assert!(
                !overview.chars().any(|c| c == '\u{b}' || c == '\u{FFFE}'),
                "{name}: the links are well-formed"
            );
            use calamine::Reader;
            let book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
            assert!(book.sheet_names().len() >= 3, "{name}");
        }
        assert_eq!(books, 5, "the invoice's workbook and one per site");
    }
}
