//! Forwarded calls: the legs of one call (`leg` A or B, sharing a
//! `call_group`) shown separately or combined into one row per call, with
//! money totals the same either way; the combined rows checked against a
//! combination computed here, the slow obvious way.

use std::collections::BTreeMap;
use std::path::Path;

use crate::reference::micros;
use crate::util::*;

const HEADER: &str = "record_type,customer_id,site,number,call_id,start_time,caller,dialled,destination,call_type,direction,duration,billed_duration,rate,charge,leg,call_group\n";

/// Ordinary calls, two complete forwarded calls (one written B before A),
/// and a B-leg whose A-leg started before the period.
fn records(dir: &Path) -> std::path::PathBuf {
    let rows = [
        "call,ACME,HQ,+442000,O1,2026-10-02T09:00:00Z,+442000,+441610,UK,national,outbound,60,60,0.01,0.01,,",
        "call,ACME,HQ,+442000,A1,2026-10-03T10:00:00Z,+33100,+442000,France,international,inbound,300,300,0.00,0.02,A,G1",
        "call,ACME,HQ,+442000,B1,2026-10-03T10:00:05Z,+442000,+447700,UK Mobile,mobile,outbound,295,300,0.035,0.175,B,G1",
        "call,ACME,Depot,+442001,B2,2026-10-04T11:00:04Z,+442001,+12025550,United States,international,outbound,120,120,0.05,0.10,B,G2",
        "call,ACME,Depot,+442001,A2,2026-10-04T11:00:00Z,+4930100,+442001,Germany,international,inbound,124,180,0.00,0.03,A,G2",
        "call,ACME,HQ,+442000,A3,2026-09-30T23:59:50Z,+33199,+442000,France,international,inbound,30,60,0.00,0.01,A,G3",
        "call,ACME,HQ,+442000,B3,2026-10-01T00:00:01Z,+442000,+441619,UK,national,outbound,19,60,0.015,0.015,B,G3",
        "call,ACME,HQ,+442000,O2,2026-10-05T09:00:00Z,+442000,+441611,UK,national,outbound,61,120,0.01,0.02,,",
    ];
    let path = dir.join("forwarded.csv");
    std::fs::write(&path, format!("{HEADER}{}\n", rows.join("\n"))).unwrap();
    path
}

fn profile(dir: &Path, legs: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{legs}.toml"));
    std::fs::write(
        &path,
        format!("name = \"Calls\"\nlegs = \"{legs}\"\ncall_columns = [\"call_id\", \"start_time\", \"caller\", \"dialled\", \"destination\", \"duration\", \"billed_duration\", \"charge\"]\n[reports]\ncustomer = [\"summary\", \"calls\"]\nsite = [\"summary\"]\n"),
    )
    .unwrap();
    path
}

/// `render` of ACME's October invoice with a profile, into `out`.
fn render_args(profile: &Path, records: &Path, out: &Path) -> Vec<String> {
    [
        "render",
        "--profile",
        &profile.display().to_string(),
        "--records",
        &records.display().to_string(),
        "--customer",
        "ACME",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--out",
        &out.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn render(dir: &Path, legs: &str, records: &Path, extra: &[&str]) -> (std::path::PathBuf, String) {
    let out = dir.join(format!("out-{legs}-{}", extra.join("")));
    let profile = profile(dir, legs);
    let mut args = render_args(&profile, records, &out);
    args.extend(
        ["--header", "keys"]
            .into_iter()
            .chain(extra.iter().copied())
            .map(String::from),
    );
    let said = ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    (out, said)
}

/// The combined view computed here from the file's rows: one row per call
/// group with both legs in the period, keyed by the A-leg's call id.
fn expected_combined(records: &Path) -> BTreeMap<String, Vec<String>> {
    let rows = csv_rows(records);
    let header = &rows[0];
    let at =
        |row: &Vec<String>, key: &str| row[header.iter().position(|h| h == key).unwrap()].clone();
    let in_period: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| at(r, "start_time").as_str() >= "2026-10-01")
        .collect();
    let mut by_group: BTreeMap<String, Vec<&Vec<String>>> = BTreeMap::new();
    for r in &in_period {
        if !at(r, "leg").is_empty() {
            by_group.entry(at(r, "call_group")).or_default().push(r);
        }
    }
    let mut out = BTreeMap::new();
    for legs in by_group.values() {
        let a = legs.iter().find(|r| at(r, "leg") == "A");
        let b = legs.iter().find(|r| at(r, "leg") == "B");
        let (Some(a), Some(b)) = (a, b) else { continue };
        let billed: u64 = legs
            .iter()
            .map(|r| at(r, "billed_duration").parse::<u64>().unwrap())
            .sum();
        let charge: i128 = legs.iter().map(|r| micros(&at(r, "charge"))).sum();
        out.insert(
            at(a, "call_id"),
            vec![
                at(a, "caller"),
                at(b, "dialled"),
                at(b, "destination"),
                at(a, "duration"),
                billed.to_string(),
                charge.to_string(),
                legs.len().to_string(),
            ],
        );
    }
    out
}

#[test]
fn forwarded_calls_combine_into_one_row_per_call_with_the_same_money() {
    let dir = tempfile::tempdir().unwrap();
    let records = records(dir.path());
    let (separate, _) = render(dir.path(), "separate", &records, &[]);
    let (combined, said) = render(dir.path(), "combined", &records, &[]);
    let (ms, mc) = (manifest(&separate), manifest(&combined));
    assert_eq!(ms["rendered"]["legs"], "separate");
    assert_eq!(mc["rendered"]["legs"], "combined");
    // Money is the same; the two complete pairs count once each.
    for key in ["call_charge", "total", "billed_duration"] {
        assert_eq!(ms["totals"][key], mc["totals"][key], "{key}");
    }
    assert_eq!(ms["totals"]["calls"], 7);
    assert_eq!(mc["totals"]["calls"], 5);
    // The orphan B-leg is shown on its own, named with its file and line.
    let warnings = mc["warnings"].to_string();
    assert!(
        warnings.contains("forwarded.csv:8: B-leg of call group \\\"G3\\\" without its A-leg"),
        "{warnings}"
    );
    assert!(said.contains("without its A-leg"), "{said}");
    // The combined rows are those computed here.
    let rows = csv_rows(&combined.join("customer_calls.csv"));
    let header = &rows[0];
    assert_eq!(header.last().unwrap(), "legs");
    let at =
        |row: &Vec<String>, key: &str| row[header.iter().position(|h| h == key).unwrap()].clone();
    let expected = expected_combined(&records);
    assert_eq!(expected.len(), 2);
    for (id, want) in &expected {
        let row = rows
            .iter()
            .find(|r| &at(r, "call_id") == id)
            .unwrap_or_else(|| panic!("{id}"));
        let got = vec![
            at(row, "caller"),
            at(row, "dialled"),
            at(row, "destination"),
            at(row, "duration"),
            at(row, "billed_duration"),
            micros(&at(row, "charge")).to_string(),
            at(row, "legs"),
        ];
        assert_eq!(&got, want, "{id}");
    }
    assert!(!rows
        .iter()
        .any(|r| at(r, "call_id") == "B1" || at(r, "call_id") == "B2"));
    assert!(rows
        .iter()
        .any(|r| at(r, "call_id") == "B3" && at(r, "legs") == "1"));
    // Rows in time order, whatever the input order (A2 was written after B2).
    let ids: Vec<String> = rows[1..].iter().map(|r| at(r, "call_id")).collect();
    assert_eq!(ids, ["B3", "O1", "A1", "A2", "O2"]);
    // Every format renders the combined view, the same bytes every time.
    let (a, _) = render(
        dir.path(),
        "combined",
        &records,
        &["--format", "csv,xlsx,pdf", "--jobs", "1"],
    );
    let (b, _) = render(
        dir.path(),
        "combined",
        &records,
        &["--format", "csv,xlsx,pdf", "--jobs", "3"],
    );
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        if name != "manifest.json" {
            assert!(fb[name] == *bytes, "{name} differs");
        }
    }
}

#[test]
fn a_bad_call_group_is_named_by_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{HEADER}call,ACME,HQ,+442000,A1,2026-10-03T10:00:00Z,+33100,+442000,France,international,inbound,300,300,0,0.02,A,G1\ncall,ACME,HQ,+442000,A9,2026-10-03T10:00:01Z,+33101,+442000,France,international,inbound,300,300,0,0.02,A,G1\ncall,ACME,HQ,+442000,B1,2026-10-03T10:00:05Z,+442000,+447700,UK Mobile,mobile,outbound,295,300,0.035,0.175,B,G1\n"
        ),
    )
    .unwrap();
    let profile = profile(dir.path(), "combined");
    let args = |out: &str| render_args(&profile, &bad, &dir.path().join(out));
    let fail: Vec<String> = args("fail");
    let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
    let said = fails(&fail, 1);
    assert!(
        said.contains(
            "bad.csv:3: column leg: a second A-leg of call group \"G1\" (the first is at "
        ) && said.contains("bad.csv:2)"),
        "{said}"
    );
    // Two A-legs sharing one call id are still told apart by their lines.
    let text = std::fs::read_to_string(&bad).unwrap();
    std::fs::write(&bad, text.replace(",A9,", ",A1,")).unwrap();
    let said = fails(&fail, 1);
    assert!(
        said.contains("bad.csv:3: column leg:") && said.contains("bad.csv:2)"),
        "{said}"
    );
    std::fs::write(&bad, text).unwrap();
    // Under skip the group is shown leg by leg (each leg is a charged
    // call), and the manifest says why.
    let mut skip: Vec<String> = args("skip");
    skip.extend(["--on-bad-record".into(), "skip".into()]);
    let skip: Vec<&str> = skip.iter().map(String::as_str).collect();
    ok(&skip);
    let m = manifest(&dir.path().join("skip"));
    assert_eq!(m["totals"]["calls"], 3);
    assert!(
        m["warnings"]
            .to_string()
            .contains("the group's 3 legs are shown on their own"),
        "{}",
        m["warnings"]
    );
    // A leg without its group, and a leg that is neither A nor B.
    for (row, column, reason) in [
        ("call,ACME,HQ,+442000,A1,2026-10-03T10:00:00Z,+33100,+442000,France,international,inbound,300,300,0,0.02,A,", "call_group", "a leg needs the call_group its legs share"),
        ("call,ACME,HQ,+442000,A1,2026-10-03T10:00:00Z,+33100,+442000,France,international,inbound,300,300,0,0.02,C,G1", "leg", "\"C\" is not a leg; expected A, B or empty"),
    ] {
        std::fs::write(&bad, format!("{HEADER}{row}\n")).unwrap();
        let said = fails(&fail, 1);
        assert!(said.contains(&format!("bad.csv:2: column {column}: ")) && said.contains(reason), "{said}");
    }
}

#[test]
fn legs_sharing_a_call_id_are_not_repeats_and_a_sample_counts_records() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("shared.csv");
    let mut rows = String::from(HEADER);
    for i in 0..6 {
        rows.push_str(&format!("call,ACME,HQ,+442000,X{i},2026-10-0{}T10:00:00Z,+33100,+442000,France,international,inbound,60,60,0,0.01,A,G{i}\n", i + 1));
        rows.push_str(&format!("call,ACME,HQ,+442000,X{i},2026-10-0{}T10:00:05Z,+442000,+447700,UK Mobile,mobile,outbound,60,60,0.035,0.035,B,G{i}\n", i + 1));
    }
    std::fs::write(&records, rows).unwrap();
    // --dedupe: an A-leg and its B-leg may share the call's id.
    let (out, _) = render(dir.path(), "combined", &records, &["--dedupe"]);
    let m = manifest(&out);
    assert_eq!(m["input"]["duplicates_dropped"], 0);
    assert_eq!(m["totals"]["calls"], 6);
    assert_eq!(m["totals"]["call_charge"], "0.27");
    // A sample of combined calls counts the records they stand for.
    let profile = profile(dir.path(), "combined");
    let sample = dir.path().join("sample");
    ok(&[
        "sample",
        "--profile",
        profile.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--customer",
        "ACME",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--rows",
        "2",
        "--out",
        sample.to_str().unwrap(),
    ]);
    let m = manifest(&sample);
    let calls = m["totals"]["calls"].as_u64().unwrap();
    let in_scope = m["input"]["in_scope"].as_u64().unwrap();
    assert_eq!(
        in_scope,
        2 * calls,
        "each sampled call stands for its two legs: {m}"
    );
    assert_eq!(in_scope + m["input"]["out_of_scope"].as_u64().unwrap(), 12);
    assert_eq!(m["sample"]["of"], 12);
}

#[test]
fn a_run_names_the_record_of_a_group_it_cannot_merge() {
    let dir = tempfile::tempdir().unwrap();
    let profile = std::fs::read_to_string(profile(dir.path(), "combined")).unwrap();
    let cat = catalog(
        &dir.path().join("cat"),
        &[("calls.toml", &profile)],
        "customer_id,name,groups,default_profile,timezone,currency\nACME,ACME Ltd,,Calls,UTC,GBP\n",
        "invoice_id,customer_id,from,to\nINV-1,ACME,2026-10-01,2026-11-01\n",
    );
    let records = dir.path().join("bad.csv");
    std::fs::write(
        &records,
        format!("{HEADER}call,ACME,HQ,+442000,A1,2026-10-03T10:00:00Z,+33100,+442000,France,international,inbound,300,300,0,0.02,A,G1\ncall,ACME,HQ,+442000,A9,2026-10-03T10:00:01Z,+33101,+442000,France,international,inbound,300,300,0,0.02,A,G1\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let done = run(&[
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        done.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report = run_report(&out);
    let invoice = &report["invoices"][0];
    assert_eq!(invoice["status"], "failed");
    assert_eq!(invoice["bad_record"]["line"], 3);
    assert_eq!(invoice["bad_record"]["column"], "leg");
    assert!(invoice["bad_record"]["file"]
        .as_str()
        .unwrap()
        .ends_with("bad.csv"));
}

#[test]
fn a_call_group_billed_to_two_customers_is_named_in_render_and_in_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("split.csv");
    std::fs::write(
        &records,
        format!("{HEADER}call,ACME,HQ,+442000,A1,2026-10-03T10:00:00Z,+33100,+442000,France,international,inbound,300,300,0,0.02,A,G1\ncall,ACME,HQ,+442000,O1,2026-10-03T11:00:00Z,+442000,+441610,UK,national,outbound,60,60,0.01,0.01,,\ncall,GLOBEX,HQ,+442001,B1,2026-10-03T10:00:05Z,+442001,+447700,UK Mobile,mobile,outbound,295,300,0.035,0.175,B,G1\n"),
    )
    .unwrap();
    let profile = profile(dir.path(), "combined");
    let render = |out: &str, extra: &[&str]| {
        let mut args = render_args(&profile, &records, &dir.path().join(out));
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let failed = render("fail", &[]);
    assert_eq!(failed.status.code(), Some(1));
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(
        said.contains("split.csv:4: column call_group: call group \"G1\" has legs billed to customer \"ACME\" (at ")
            && said.contains("split.csv:2) and to customer \"GLOBEX\""),
        "{said}"
    );
    let skipped = render("skip", &["--on-bad-record", "skip"]);
    assert!(skipped.status.success());
    let m = manifest(&dir.path().join("skip"));
    assert!(
        m["warnings"]
            .to_string()
            .contains("shown without the other customer's"),
        "{}",
        m["warnings"]
    );
    // The same verdict in a run, read in memory or partitioned to disk.
    let text = std::fs::read_to_string(profile).unwrap();
    let cat = catalog(
        &dir.path().join("cat"),
        &[("calls.toml", &text)],
        "customer_id,name,groups,default_profile,timezone,currency\nACME,ACME Ltd,,Calls,UTC,GBP\nGLOBEX,Globex,,Calls,UTC,GBP\n",
        "invoice_id,customer_id,from,to\nINV-A,ACME,2026-10-01,2026-11-01\nINV-G,GLOBEX,2026-10-01,2026-11-01\n",
    );
    for partitions in ["1", "3"] {
        let out = dir.path().join(format!("run-{partitions}"));
        let done = run(&[
            "run",
            "--catalog",
            cat.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
            "--partitions",
            partitions,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            done.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let report = run_report(&out);
        for invoice in report["invoices"].as_array().unwrap() {
            assert_eq!(invoice["status"], "failed", "{partitions}: {invoice}");
            assert_eq!(invoice["bad_record"]["column"], "call_group", "{invoice}");
        }
    }
}
