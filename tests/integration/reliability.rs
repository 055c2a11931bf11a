//! Hostile input and faults: repeated calls, huge fields and rows, file
//! names from data, unwritable output, a run killed half-way.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::*;

const HEADER: &str =
    "record_type,customer_id,site,call_id,start_time,duration,charge,destination\n";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn dedupe_drops_repeats_and_counts_them_as_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let call = "call,ACME,London,C1,2026-10-02T10:00:00Z,60,0.50,UK\n";
    let other = "call,ACME,London,C2,2026-10-03T10:00:00Z,60,0.25,UK\n";
    let records = write(
        dir.path(),
        "r.csv",
        &format!("{HEADER}{call}{other}{call}{call}"),
    );
    let out = dir.path().join("out");
    let profile = fixture("profiles/everything.toml");
    let mut args = acme_args(&profile, &records, out.to_str().unwrap());
    args.push("--dedupe");
    ok(&args);
    let m = manifest(&out);
    assert_eq!(m["input"]["records"], 4);
    assert_eq!(m["input"]["in_scope"], 2);
    assert_eq!(m["input"]["rejected"], 2);
    assert_eq!(m["input"]["duplicates_dropped"], 2);
    assert_eq!(m["totals"]["calls"], 2);
    assert_eq!(m["totals"]["call_charge"], "0.75");
    let warnings = m["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w == "call_id \"C1\" appears 3 times; repeats dropped"),
        "{warnings:?}"
    );
}

#[test]
fn a_ten_megabyte_field_is_carried_and_cut_only_where_a_format_must() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(10 * 1024 * 1024);
    let records = write(
        dir.path(),
        "r.csv",
        &format!("{HEADER}call,ACME,London,C1,2026-10-02T10:00:00Z,60,0.50,{huge}\n"),
    );
    let out = dir.path().join("out");
    let profile = fixture("profiles/everything.toml");
    let mut args = acme_args(&profile, &records, out.to_str().unwrap());
    args.extend(["--format", "csv,xlsx,pdf"]);
    ok(&args);
    let calls = std::fs::read_to_string(out.join("customer_calls.csv")).unwrap();
    assert!(calls.contains(&huge), "the CSV keeps the field whole");
    let m = manifest(&out);
    let warnings: Vec<&str> = m["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("longer than Excel's 32767 characters were cut")),
        "{warnings:?}"
    );
}

#[test]
fn a_million_columns_are_read_or_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let extra: String = (0..1_000_000).map(|i| format!(",x{i}")).collect();
    let blanks = ",".repeat(1_000_000);
    let wide_header =
        format!("record_type,customer_id,call_id,start_time,duration,charge{extra}\n");
    let good = format!("call,ACME,C1,2026-10-02T10:00:00Z,60,0.50{blanks}\n");
    let records = write(dir.path(), "wide.csv", &format!("{wide_header}{good}"));
    let out = dir.path().join("out");
    let profile = fixture("profiles/one-line-summary.toml");
    ok(&acme_args(&profile, &records, out.to_str().unwrap()));
    assert_eq!(manifest(&out)["totals"]["calls"], 1);

    let ragged = write(
        dir.path(),
        "ragged.csv",
        &format!("{HEADER}call,ACME,London,C1,2026-10-02T10:00:00Z,60,0.50,UK{blanks}\n"),
    );
    let stderr = fails(&acme_args(&profile, &ragged, out.to_str().unwrap()), 1);
    assert!(
        stderr.contains("ragged.csv:2: has 1000008 fields but the header has 8"),
        "{stderr}"
    );
}

#[test]
fn file_names_from_data_stay_inside_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let long = "L".repeat(300);
    let ids = [
        "../../escape",
        "/etc/passwd",
        "CON",
        "nul.txt",
        "a/b",
        "a\\b",
        "A:B",
        &long,
    ];
    let mut invoices = String::from("invoice_id,customer_id,from,to,profile,formats\n");
    for (i, id) in ids.iter().enumerate() {
        invoices.push_str(&format!(
            "\"{id}\",C,2026-{:02}-01,2026-{:02}-01,,csv;xlsx;pdf\n",
            i + 1,
            i + 2
        ));
    }
    let cat = catalog(
        &dir.path().join("cat"),
        &[(
            "p.toml",
            "name = \"P\"\n[reports]\ncustomer = [\"summary\"]\n",
        )],
        "customer_id,name,groups,default_profile,timezone,currency\nC,C,,P,UTC,GBP\n",
        &invoices,
    );
    let records = write(
        dir.path(),
        "r.csv",
        &format!("{HEADER}call,C,London,C1,2026-01-02T10:00:00Z,60,0.50,UK\n"),
    );
    let out = dir.path().join("out");
    let output = run(&[
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--records",
        &records,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = run_report(&out);
    let mut folders: Vec<String> = report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["folder"].as_str().unwrap().to_string())
        .collect();
    folders.sort();
    let mut expected = vec![
        "_.._escape".to_string(),
        "_etc_passwd".to_string(),
        "CON_".to_string(),
        "nul_.txt".to_string(),
        "A_B".to_string(),
        "a_b~2".to_string(),
        "a_b~3".to_string(),
        "L".repeat(100),
    ];
    expected.sort();
    assert_eq!(folders, expected);
    // Nothing was written outside the output folder.
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut outside = outside;
    outside.sort();
    assert_eq!(outside, ["cat", "out", "r.csv"]);
    for folder in &folders {
        let m = manifest(&out.join(folder));
        assert_eq!(m["attachments"].as_array().unwrap().len(), 3, "{folder}");
    }
}

#[test]
fn an_unwritable_output_is_a_clear_error_and_other_invoices_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file where a folder should be").unwrap();
    let profile = fixture("profiles/everything.toml");
    let stderr = fails(
        &acme_args(
            &profile,
            &fixture("records.csv"),
            blocker.join("out").to_str().unwrap(),
        ),
        1,
    );
    assert!(
        stderr.contains(&format!("{}", blocker.join("out").display())),
        "{stderr}"
    );

    // In a run, one invoice's folder is blocked: it fails, the others render.
    let out = dir.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("INV-2026-10-0043"), "blocks GLOBEX's folder").unwrap();
    let output = run(&[
        "run",
        "--catalog",
        "fixtures/catalog",
        "--records",
        "fixtures/records.csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report = run_report(&out);
    let globex = report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["invoice"] == "INV-2026-10-0043")
        .unwrap();
    assert_eq!(globex["status"], "failed");
    assert!(
        globex["reason"]
            .as_str()
            .unwrap()
            .contains("INV-2026-10-0043"),
        "{}",
        globex["reason"]
    );
    assert!(out.join("INV-2026-10-0042/manifest.json").exists());
}

#[test]
fn a_run_killed_half_way_leaves_whole_files_and_can_be_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("r.csv");
    generate(&records, 150000, 40, 9, None);
    let mut customers = String::from("customer_id,name,groups,default_profile,timezone,currency\n");
    let mut invoices = String::from("invoice_id,customer_id,from,to,profile,formats\n");
    for i in 1..=40 {
        customers.push_str(&format!(
            "CUST{i:05},Customer {i},business,Site detail,Europe/London,GBP\n"
        ));
        invoices.push_str(&format!(
            "INV-{i:05},CUST{i:05},2026-10-01,2026-11-01,,csv;xlsx;pdf\n"
        ));
    }
    let site_detail = std::fs::read_to_string(fixture("profiles/site-detail.toml")).unwrap();
    let cat = catalog(
        &dir.path().join("cat"),
        &[("site-detail.toml", &site_detail)],
        &customers,
        &invoices,
    );
    let args = |out: &Path| {
        vec![
            "run".to_string(),
            "--catalog".into(),
            cat.display().to_string(),
            "--records".into(),
            records.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let clean = dir.path().join("clean");
    let status = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args(args(&clean))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let killed = dir.path().join("killed");
    // Stop the run at named points, as a kill would (the debug binary's
    // fault hook): once read, after some attachments, after some invoices.
    for point in [
        "read:1",
        "attachment:5",
        "manifest:3",
        "attachment:70",
        "manifest:30",
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_usage-report"))
            .args(args(&killed))
            .env("USAGE_REPORT_ABORT_AT", point)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the run stopped at {point}");
        // Every manifest present describes files that are whole.
        if killed.exists() {
            for entry in std::fs::read_dir(&killed).unwrap() {
                let folder = entry.unwrap().path();
                if folder.join("manifest.json").exists() {
                    assert_attachments_whole(&folder);
                }
            }
        }
    }
    let status = Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args(args(&killed))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        files(&killed),
        files(&clean),
        "re-running completes the job, byte for byte, with no leftovers"
    );
}

/// A small tmpfs standing in for a full disk; `None` where mounting is not
/// permitted (the test needs root, as CI has).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        let point = dir.join("disk");
        std::fs::create_dir_all(&point).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                point.to_str().unwrap(),
            ])
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(SmallDisk(point))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_written_invoices_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    // CI runs as root; elsewhere this fails rather than pass unseen.
    let disk = SmallDisk::mount(dir.path(), "48k")
        .expect("mounting a small tmpfs (this test needs root, as CI has)");
    // Rendering one invoice at a time, the disk fills part-way: the invoices
    // that did not fit fail with the cause, those before are kept.
    let out = disk.0.join("run");
    let output = run(&[
        "--jobs",
        "1",
        "run",
        "--catalog",
        "fixtures/catalog",
        "--records",
        "fixtures/records.csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    let full = stderr.contains("No space left on device") || {
        let report = std::fs::read_to_string(out.join("run.json")).unwrap_or_default();
        report.contains("No space left on device")
    };
    assert!(full, "the error names the cause: {stderr}");
    // Invoices rendered before the disk filled are kept, whole.
    let kept: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    assert!(!kept.is_empty(), "{stderr}");
    for folder in &kept {
        assert_attachments_whole(folder);
    }
    // No half-written file is left anywhere.
    fn partials(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() {
                            partials(&p)
                        } else {
                            usize::from(p.to_string_lossy().ends_with(".partial"))
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    assert_eq!(partials(&out), 0);
}

#[test]
fn a_large_file_read_on_every_core_gives_the_same_result_as_one_reader() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("gen.csv");
    generate(&generated, 150000, 3, 4, None);
    // Add records that straddle lines (a quoted newline) and a bad one, in
    // the middle of the file where chunk boundaries fall.
    let text = std::fs::read_to_string(&generated).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines[0];
    let blank = |n: usize| ",".repeat(n);
    let multi = format!(
        "transaction,CUST00001,London HQ,,+44 20 0000 0000{}TX-MULTI,2026-10-05,fee,\"first line\nsecond line\",1,1.00,1.00",
        blank(12)
    );
    let bad = format!("call,CUST00001,London HQ,,+44 20 0000 0000,CL-BAD,2026-10-07T10:00:00Z{}60,60,0.01,\"1,5\"{}", blank(6), blank(7));
    assert_eq!(header.split(',').count(), 23);
    let at = lines.len() * 2 / 5;
    lines.insert(at, &multi);
    let at = lines.len() * 7 / 10;
    lines.insert(at, &bad);
    let records = dir.path().join("records.csv");
    std::fs::write(&records, lines.join("\n") + "\n").unwrap();
    assert!(
        std::fs::metadata(&records).unwrap().len() > 16 << 20,
        "large enough to be read in chunks"
    );

    let profile = fixture("profiles/everything.toml");
    let render = |jobs: &str, out: &Path, skip: bool| {
        let mut args = vec![
            "--jobs",
            jobs,
            "render",
            "--profile",
            &profile,
            "--records",
            records.to_str().unwrap(),
            "--customer",
            "CUST00001",
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-01",
            "--header",
            "keys",
            "--out",
            out.to_str().unwrap(),
        ];
        if skip {
            args.extend(["--on-bad-record", "skip"]);
        }
        run(&args)
    };
    let one = dir.path().join("one");
    let many = dir.path().join("many");
    assert!(render("1", &one, true).status.success());
    assert!(render("4", &many, true).status.success());
    assert_eq!(files(&one), files(&many));
    let rejects = csv_rows(&many.join("rejects.csv"));
    assert_eq!(rejects.len(), 2);
    let expected_line = (lines.iter().position(|l| l.contains("CL-BAD")).unwrap() + 2).to_string();
    assert_eq!(
        rejects[1][1], expected_line,
        "line numbers count the quoted newline"
    );
    let described = csv_rows(&many.join("customer_transactions.csv"));
    assert!(described
        .iter()
        .any(|r| r.iter().any(|f| f == "first line\nsecond line")));
    // Without skip, both stop at the same record with the same message.
    let a = render("1", &dir.path().join("a"), false);
    let b = render("4", &dir.path().join("b"), false);
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
}

#[test]
fn a_quote_inside_an_unquoted_field_does_not_mislead_the_parallel_reader() {
    // Over 4 MiB, so it would be read in chunks: a description with an inch
    // mark (read literally by the CSV parser), then quoted fields with line
    // breaks where the chunks would meet.
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("gen.csv");
    let catalog = dir.path().join("cat");
    generate(&generated, 60000, 3, 5, Some(&catalog));
    let text = std::fs::read_to_string(&generated).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let columns = lines[0].split(',').count();
    let transaction = |id: &str, description: &str| {
        let mut fields = vec![""; columns];
        for (i, v) in [
            (0, "transaction"),
            (1, "CUST00001"),
            (2, "Leeds Depot"),
            (16, id),
            (17, "2026-10-05"),
            (18, "equipment"),
            (19, description),
            (20, "1"),
            (21, "99.00"),
            (22, "99.00"),
        ] {
            fields[i] = v;
        }
        fields.join(",")
    };
    assert_eq!(lines[0].split(',').nth(19), Some("description"));
    lines.insert(5, transaction("TX-INCH", "Monitor 27\" screen"));
    let n = lines.len();
    for k in 1..8 {
        lines.insert(
            n * k / 8,
            transaction(&format!("TX-LINES-{k}"), "\"first line\nsecond line\""),
        );
    }
    let records = dir.path().join("records.csv");
    std::fs::write(&records, lines.join("\n") + "\n").unwrap();
    assert!(std::fs::metadata(&records).unwrap().len() > 4 << 20);
    let run_with = |jobs: &str, out: &Path| {
        ok(&[
            "--jobs",
            jobs,
            "run",
            "--catalog",
            catalog.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
    };
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    run_with("1", &one);
    run_with("2", &two);
    assert_eq!(files(&one), files(&two));
    let calls = std::fs::read_to_string(one.join("INV-00001/customer_transactions.csv")).unwrap();
    assert!(
        calls.contains("Monitor 27\"\" screen"),
        "the inch mark is kept"
    );
}
