//! `usage-report render`: golden output, determinism, reconciliation with
//! the reference implementation, inputs from stdin and gzip.

use std::path::Path;

use crate::reference::assert_agrees_with_reference;
use crate::util::*;

const RECORDS: &str = "fixtures/records.csv";
const EVERYTHING: &str = "fixtures/profiles/everything.toml";

fn render_to(dir: &Path, profile: &str, extra: &[&str]) -> String {
    let out = dir.display().to_string();
    let mut args = acme_args(profile, RECORDS, &out);
    args.extend_from_slice(extra);
    ok(&args)
}

#[test]
fn everything_profile_matches_golden_files_with_labels() {
    let dir = tempfile::tempdir().unwrap();
    render_to(dir.path(), EVERYTHING, &[]);
    assert_golden(dir.path(), "everything-labels");
}

#[test]
fn keys_header_matches_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    render_to(
        dir.path(),
        "fixtures/profiles/site-detail.toml",
        &["--header", "keys"],
    );
    assert_golden(dir.path(), "site-detail-keys");
}

#[test]
fn one_line_summary_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    render_to(
        dir.path(),
        "fixtures/profiles/one-line-summary.toml",
        &["--header", "keys"],
    );
    let rows = csv_rows(&dir.path().join("customer_summary.csv"));
    assert_eq!(
        rows,
        vec![
            vec![
                "customer_id",
                "calls",
                "duration",
                "billed_duration",
                "call_charge",
                "transactions",
                "transaction_amount",
                "total"
            ],
            vec![
                "ACME",
                "20",
                "8396",
                "8780",
                "8.287576",
                "5",
                "41.82",
                "50.107576"
            ],
        ]
    );
}

#[test]
fn same_input_gives_identical_bytes_at_any_thread_count() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    render_to(a.path(), EVERYTHING, &["--jobs", "1"]);
    render_to(b.path(), EVERYTHING, &["--jobs", "4"]);
    assert_eq!(files(a.path()), files(b.path()));
}

#[test]
fn manifest_counts_reconcile_and_hashes_match_files() {
    let dir = tempfile::tempdir().unwrap();
    render_to(dir.path(), EVERYTHING, &[]);
    let m = manifest(dir.path());
    let input = &m["input"];
    let n = |k: &str| input[k].as_u64().unwrap();
    assert_eq!(n("records"), 31);
    assert_eq!(
        n("records"),
        n("in_scope") + n("out_of_scope") + n("rejected")
    );
    assert_eq!(n("in_scope"), 25);
    assert_eq!(m["time_zone"], "Europe/London");
    assert_eq!(m["invoice"], "INV-2026-10-0042");
    let attachments = m["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 16);
    assert_attachments_whole(dir.path());
    for a in attachments {
        let lines = csv_rows(&dir.path().join(a["path"].as_str().unwrap())).len() as u64;
        assert_eq!(a["rows"].as_u64().unwrap() + 1, lines, "{}", a["path"]);
    }
}

#[test]
fn totals_match_an_independent_computation_on_the_fixtures() {
    for tz in ["Europe/London", "UTC"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().display().to_string();
        let mut args = acme_args(EVERYTHING, RECORDS, &out);
        let zone = args.iter().position(|a| *a == "Europe/London").unwrap();
        args[zone] = tz;
        args.extend(["--header", "keys"]);
        ok(&args);
        let tz: chrono_tz::Tz = tz.parse().unwrap();
        assert_agrees_with_reference(
            dir.path(),
            &[&root().join(RECORDS)],
            "ACME",
            "2026-10-01",
            "2026-11-01",
            tz,
        );
    }
}

#[test]
fn totals_match_an_independent_computation_on_generated_records() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [3u64, 11] {
        let records = dir.path().join(format!("gen-{seed}.csv"));
        generate(&records, 3000, 12, seed, None);
        for customer in ["CUST00001", "CUST00007"] {
            let out = dir.path().join(format!("out-{seed}-{customer}"));
            ok(&[
                "render",
                "--profile",
                EVERYTHING,
                "--records",
                records.to_str().unwrap(),
                "--customer",
                customer,
                "--from",
                "2026-10-08",
                "--to",
                "2026-10-22",
                "--timezone",
                "America/New_York",
                "--header",
                "keys",
                "--out",
                out.to_str().unwrap(),
            ]);
            let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
            assert_agrees_with_reference(
                &out,
                &[&records],
                customer,
                "2026-10-08",
                "2026-10-22",
                tz,
            );
        }
    }
}

#[test]
fn itemised_rows_are_in_key_then_time_then_id_order() {
    let dir = tempfile::tempdir().unwrap();
    render_to(dir.path(), EVERYTHING, &["--header", "keys"]);
    let rows = csv_rows(&dir.path().join("number_calls.csv"));
    let header = &rows[0];
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (number, start, id) = (at("number"), at("start_time"), at("call_id"));
    let keys: Vec<(String, chrono::DateTime<chrono::Utc>, String)> = rows[1..]
        .iter()
        .map(|r| (r[number].clone(), r[start].parse().unwrap(), r[id].clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Two calls at the same instant are ordered by call id.
    let same: Vec<&String> = keys
        .iter()
        .filter(|k| k.1.to_rfc3339() == "2026-10-14T08:30:00+00:00")
        .map(|k| &k.2)
        .collect();
    assert_eq!(same, ["C-1012", "C-1013"]);
}

#[test]
fn records_from_stdin_and_gzip_give_the_same_attachments() {
    let plain = tempfile::tempdir().unwrap();
    render_to(plain.path(), EVERYTHING, &[]);

    let bytes = std::fs::read(root().join(RECORDS)).unwrap();
    let from_stdin = tempfile::tempdir().unwrap();
    let out = from_stdin.path().display().to_string();
    let out_run = run_with_stdin(&acme_args(EVERYTHING, "-", &out), Some(&bytes));
    assert!(
        out_run.status.success(),
        "{}",
        String::from_utf8_lossy(&out_run.stderr)
    );

    let gz_dir = tempfile::tempdir().unwrap();
    let gz_path = gz_dir.path().join("records.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &bytes).unwrap();
    std::fs::write(&gz_path, enc.finish().unwrap()).unwrap();
    let from_gz = tempfile::tempdir().unwrap();
    let out = from_gz.path().display().to_string();
    ok(&acme_args(EVERYTHING, gz_path.to_str().unwrap(), &out));

    let without_manifest = |dir: &Path| {
        let mut f = files(dir);
        f.remove("manifest.json");
        f
    };
    assert_eq!(
        without_manifest(plain.path()),
        without_manifest(from_stdin.path())
    );
    assert_eq!(
        without_manifest(plain.path()),
        without_manifest(from_gz.path())
    );
    assert_eq!(manifest(from_stdin.path())["input"]["files"][0], "-");
}

#[test]
fn columns_in_any_order_with_extras_and_a_bom_read_the_same() {
    let bytes = std::fs::read_to_string(root().join(RECORDS)).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut reordered: Vec<String> = headers.iter().rev().cloned().collect();
    reordered.push("carrier_note".into());
    writer.write_record(&reordered).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        let mut fields: Vec<&str> = row.iter().rev().collect();
        fields.push("ignored");
        writer.write_record(&fields).unwrap();
    }
    let mut shuffled = b"\xEF\xBB\xBF".to_vec();
    shuffled.extend(writer.into_inner().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shuffled.csv");
    std::fs::write(&path, shuffled).unwrap();

    let a = tempfile::tempdir().unwrap();
    render_to(a.path(), EVERYTHING, &[]);
    let b = tempfile::tempdir().unwrap();
    let out = b.path().display().to_string();
    ok(&acme_args(EVERYTHING, path.to_str().unwrap(), &out));
    let strip = |dir: &Path| {
        let mut f = files(dir);
        f.remove("manifest.json");
        f
    };
    assert_eq!(strip(a.path()), strip(b.path()));
}

#[test]
fn a_header_without_records_gives_a_valid_empty_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("header.csv");
    std::fs::write(
        &path,
        "record_type,customer_id,call_id,start_time,duration,charge\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&acme_args(
        EVERYTHING,
        path.to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    let rows = csv_rows(&out.join("customer_summary.csv"));
    assert_eq!(
        rows[1],
        vec!["ACME", "0", "0", "0", "0.00", "0", "0.00", "0.00"]
    );
    let calls = std::fs::read(out.join("site_calls.csv")).unwrap();
    assert!(!calls.is_empty(), "never a 0-byte file");
    assert_eq!(manifest(&out)["input"]["records"], 0);
}

#[test]
fn formula_like_text_is_neutralised_unless_asked_not_to() {
    let dir = tempfile::tempdir().unwrap();
    render_to(dir.path(), EVERYTHING, &["--header", "keys"]);
    let text = std::fs::read_to_string(dir.path().join("customer_transactions.csv")).unwrap();
    assert!(text.contains(",'-5% loyalty credit,"), "{text}");
    assert!(text.contains(",-1.68"), "amounts stay numbers: {text}");
    assert!(
        text.contains(",+442079460001,"),
        "phone numbers are left alone"
    );

    let raw = tempfile::tempdir().unwrap();
    render_to(
        raw.path(),
        EVERYTHING,
        &["--header", "keys", "--no-sanitize"],
    );
    let text = std::fs::read_to_string(raw.path().join("customer_transactions.csv")).unwrap();
    assert!(text.contains(",-5% loyalty credit,"), "{text}");
}

/// The workbook and the PDF of each bundled profile as a person reads them:
/// every sheet's cells with their types (read back with calamine; dates
/// and durations come back as date-times, so formats show), and the PDF's
/// text page by page. Golden text files, reviewed on change
/// (`UPDATE_GOLDEN=1 cargo test --test integration golden`).
#[test]
fn bundled_profiles_documents_match_golden_text() {
    use calamine::{Data, Reader};
    for profile in ["everything", "site-detail", "one-line-summary"] {
        let dir = tempfile::tempdir().unwrap();
        render_to(
            dir.path(),
            &format!("fixtures/profiles/{profile}.toml"),
            &["--format", "xlsx,pdf"],
        );
        let text = dir.path().join("text");
        std::fs::create_dir_all(&text).unwrap();
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook(dir.path().join("INV-2026-10-0042_usage.xlsx")).unwrap();
        let mut cells = String::new();
        for name in book.sheet_names() {
            cells.push_str(&format!("== {name}\n"));
            let range = book.worksheet_range(&name).unwrap();
            for (r, row) in range.rows().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let shown = match cell {
                        Data::Empty => continue,
                        Data::String(s) => format!("text {s:?}"),
                        Data::Float(f) => format!("number {f}"),
                        Data::Int(i) => format!("number {i}"),
                        Data::Bool(b) => format!("bool {b}"),
                        Data::DateTime(d) => format!("date-time {}", d.as_f64()),
                        other => format!("{other:?}"),
                    };
                    cells.push_str(&format!("{r},{c}: {shown}\n"));
                }
            }
        }
        std::fs::write(text.join(format!("{profile}.xlsx.txt")), cells).unwrap();
        let pdf = std::fs::read(dir.path().join("INV-2026-10-0042_usage.pdf")).unwrap();
        let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).unwrap();
        let mut out = String::new();
        for (i, page) in pages.iter().enumerate() {
            out.push_str(&format!("== page {}\n{}\n", i + 1, page.trim_end()));
        }
        std::fs::write(text.join(format!("{profile}.pdf.txt")), out).unwrap();
        assert_golden(&text, &format!("documents/{profile}"));
    }
}

/// The customer level's calls report when no call has an empty site,
/// campaign, number or call type (so the level's one empty key is ranked
/// with no other): one group holding every call, its subtotal their sum.
#[test]
fn a_customer_calls_report_with_every_field_filled_has_one_group() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records.csv");
    std::fs::write(
        &records,
        "record_type,customer_id,site,campaign,number,call_id,start_time,call_type,duration,charge\n\
         call,ACME,London,Spring,+441,C1,2026-10-02T09:00:00Z,local,60,0.10\n\
         call,ACME,Leeds,Autumn,+442,C2,2026-10-01T09:00:00Z,mobile,30,0.25\n\
         call,ACME,London,Spring,+441,C3,2026-10-03T09:00:00Z,local,90,1.05\n",
    )
    .unwrap();
    let profile = dir.path().join("calls.toml");
    std::fs::write(
        &profile,
        "name = \"Calls\"\ncall_columns = [\"call_id\", \"start_time\", \"charge\"]\n[reports]\ncustomer = [\"calls\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&acme_args(
        profile.to_str().unwrap(),
        records.to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    let rows = csv_rows(&out.join("customer_calls.csv"));
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(ids, ["C2", "C1", "C3"], "{rows:?}");
    assert_eq!(manifest(&out)["totals"]["call_charge"], "1.40");
}
