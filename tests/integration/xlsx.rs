//! XLSX attachments read back with calamine: sheet names, headers, cell
//! types, subtotals and totals against the manifest, determinism, and the
//! continuation sheets of a report longer than one sheet.

use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};

use crate::util::*;

const HEADER_ROW: usize = 7;

fn render_xlsx(dir: &Path, profile: &str, extra: &[&str]) -> PathBuf {
    let out = dir.display().to_string();
    let mut args = acme_args(profile, "fixtures/records.csv", &out);
    args.extend(["--format", "csv,xlsx"]);
    args.extend_from_slice(extra);
    ok(&args);
    dir.join("INV-2026-10-0042_usage.xlsx")
}

fn sheet(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, name: &str) -> Vec<Vec<Data>> {
    let range = book.worksheet_range(name).unwrap();
    assert_eq!(range.start(), Some((0, 0)));
    range.rows().map(|r| r.to_vec()).collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        // An empty string is stored as no value at all.
        Data::Empty => String::new(),
        other => panic!("expected text, found {other:?}"),
    }
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        Data::DateTime(t) => t.as_f64(),
        other => panic!("expected a number, found {other:?}"),
    }
}

fn money(m: &serde_json::Value) -> f64 {
    m.as_str().unwrap().parse().unwrap()
}

#[test]
fn workbook_has_a_readable_sheet_per_report_in_fixed_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_xlsx(dir.path(), &fixture("profiles/everything.toml"), &[]);
    let book: Xlsx<_> = open_workbook(&path).unwrap();
    let mut expected = Vec::new();
    for level in ["Customer", "Site", "Campaign", "Number"] {
        for kind in ["summary", "call types", "calls", "transactions"] {
            expected.push(format!("{level} {kind}"));
        }
    }
    assert_eq!(book.sheet_names(), expected);
    let m = manifest(dir.path());
    let xlsx = m["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["format"] == "xlsx")
        .unwrap();
    assert_eq!(xlsx["path"], "INV-2026-10-0042_usage.xlsx");
    assert_eq!(xlsx["level"], serde_json::Value::Null);
}

#[test]
fn title_block_header_and_summary_totals() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_xlsx(dir.path(), &fixture("profiles/everything.toml"), &[]);
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let rows = sheet(&mut book, "Site summary");
    assert_eq!(text(&rows[0][0]), "Site summary");
    let facts: Vec<(String, String)> = rows[1..6]
        .iter()
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect();
    assert_eq!(
        facts,
        [
            ("Customer", "ACME"),
            ("Invoice", "INV-2026-10-0042"),
            ("Period", "2026-10-01 to 2026-10-31"),
            ("Time zone", "Europe/London"),
            ("Profile", "Everything"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let header: Vec<String> = rows[HEADER_ROW].iter().map(text).collect();
    assert_eq!(
        header,
        [
            "Site",
            "Calls",
            "Duration",
            "Billed duration",
            "Call charges",
            "Transactions",
            "Transaction amount",
            "Total"
        ]
    );
    let data = &rows[HEADER_ROW + 1..];
    assert_eq!(
        text(&data[0][0]),
        "(no site)",
        "the empty site is its own group, named as in headings"
    );
    assert_eq!(text(&data[1][0]), "Leeds, Depot 2");
    let total = data.last().unwrap();
    assert_eq!(text(&total[0]), "Total");
    let m = manifest(dir.path());
    assert_eq!(number(&total[1]), m["totals"]["calls"].as_f64().unwrap());
    assert!((number(&total[4]) - money(&m["totals"]["call_charge"])).abs() < 1e-9);
    assert!((number(&total[6]) - money(&m["totals"]["transaction_amount"])).abs() < 1e-9);
    assert!((number(&total[7]) - money(&m["totals"]["total"])).abs() < 1e-9);
    // Durations are Excel durations: seconds / 86400.
    assert!(
        (number(&total[2]) * 86_400.0 - m["totals"]["duration"].as_f64().unwrap()).abs() < 1e-6
    );
    // Rows between header and total add up to the total.
    let sum: f64 = data[..data.len() - 1].iter().map(|r| number(&r[4])).sum();
    assert!((sum - number(&total[4])).abs() < 1e-9);
}

#[test]
fn itemised_sheets_have_headings_subtotals_and_typed_cells() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_xlsx(dir.path(), &fixture("profiles/everything.toml"), &[]);
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let rows = sheet(&mut book, "Number calls");
    let header: Vec<String> = rows[HEADER_ROW].iter().map(text).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (charge, start, number_col, duration) = (
        col("Charge"),
        col("Start time (Europe/London)"),
        col("Number"),
        col("Duration"),
    );
    let mut group_sum = 0.0;
    let mut groups = Vec::new();
    let mut grand = None;
    for row in &rows[HEADER_ROW + 1..] {
        let first = match &row[0] {
            Data::String(s) => s.clone(),
            _ => String::new(),
        };
        if let Some(label) = first.strip_prefix("Number: ") {
            groups.push(label.to_string());
            group_sum = 0.0;
        } else if first.starts_with("Subtotal ") {
            assert!((number(&row[charge]) - group_sum).abs() < 1e-9, "{first}");
        } else if first == "Total" {
            grand = Some(number(&row[charge]));
        } else {
            group_sum += number(&row[charge]);
            assert!(
                matches!(row[start], Data::DateTime(_)),
                "start_time is a date-time: {:?}",
                row[start]
            );
            assert!(
                matches!(row[duration], Data::DateTime(_)),
                "duration is an Excel duration: {:?}",
                row[duration]
            );
            assert!(
                matches!(row[number_col], Data::String(_)),
                "numbers stay text: {:?}",
                row[number_col]
            );
        }
    }
    assert_eq!(
        groups,
        ["+441134960003", "+442079460001", "02079460002"],
        "leading + and 0 kept"
    );
    let m = manifest(dir.path());
    assert!((grand.unwrap() - money(&m["totals"]["call_charge"])).abs() < 1e-9);
}

#[test]
fn formula_like_text_is_written_as_quoted_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_xlsx(dir.path(), &fixture("profiles/everything.toml"), &[]);
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let rows = sheet(&mut book, "Customer transactions");
    let found = rows
        .iter()
        .flatten()
        .any(|c| matches!(c, Data::String(s) if s == "-5% loyalty credit"));
    assert!(
        found,
        "the text itself is unchanged; the cell carries a quote prefix"
    );
    let raw = zip_entry(&path, "xl/styles.xml");
    assert!(
        raw.contains("quotePrefix=\"1\""),
        "a quote-prefix style exists"
    );
}

/// One file of the xlsx zip container, as text.
pub fn zip_entry(path: &Path, name: &str) -> String {
    let bytes = std::fs::read(path).unwrap();
    let mut archive = zip_archive(&bytes);
    archive
        .remove(name)
        .unwrap_or_else(|| panic!("{name} in {path:?}"))
}

/// The entries of a zip as text, in name order.
pub fn zip_entries(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    zip_archive(bytes).into_iter().collect()
}

/// A minimal reader of the zip central directory (stored or deflated).
fn zip_archive(bytes: &[u8]) -> std::collections::HashMap<String, String> {
    use std::io::Read;
    let mut out = std::collections::HashMap::new();
    let eocd = (0..bytes.len() - 21)
        .rev()
        .find(|&i| bytes[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .unwrap();
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
    let u32_at = |i: usize| {
        u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize
    };
    let entries = u16_at(eocd + 10);
    let mut p = u32_at(eocd + 16);
    for _ in 0..entries {
        let method = u16_at(p + 10);
        let size = u32_at(p + 20);
        let name_len = u16_at(p + 28);
        let extra = u16_at(p + 30) + u16_at(p + 32);
        let local = u32_at(p + 42);
        let name = String::from_utf8(bytes[p + 46..p + 46 + name_len].to_vec()).unwrap();
        let data_start = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        let data = &bytes[data_start..data_start + size];
        let mut text = String::new();
        if method == 8 {
            flate2::read::DeflateDecoder::new(data)
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = String::from_utf8_lossy(data).to_string();
        }
        out.insert(name, text);
        p += 46 + name_len + extra;
    }
    out
}

#[test]
fn same_input_gives_a_byte_identical_workbook() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let pa = render_xlsx(
        a.path(),
        &fixture("profiles/everything.toml"),
        &["--jobs", "1"],
    );
    let pb = render_xlsx(
        b.path(),
        &fixture("profiles/everything.toml"),
        &["--jobs", "3"],
    );
    assert_eq!(std::fs::read(pa).unwrap(), std::fs::read(pb).unwrap());
    let core = zip_entry(
        &a.path().join("INV-2026-10-0042_usage.xlsx"),
        "docProps/core.xml",
    );
    assert!(
        core.contains("2026-11-01T00:00:00Z"),
        "creation time comes from the invoice: {core}"
    );
    assert!(core.contains("Usage report INV-2026-10-0042"));
}

#[test]
fn a_report_longer_than_a_sheet_continues_on_numbered_sheets() {
    const CALLS: usize = 1_048_600;
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("many.csv");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&records).unwrap());
        writeln!(
            w,
            "record_type,customer_id,site,call_id,start_time,duration,charge"
        )
        .unwrap();
        for i in 0..CALLS {
            let site = if i < 10 { "Annex" } else { "Main" };
            writeln!(
                w,
                "call,BIG,{site},c{i:08},2026-10-{:02}T{:02}:{:02}:00Z,60,0.01",
                1 + i % 28,
                i / 60 % 24,
                i % 60
            )
            .unwrap();
        }
    }
    let profile = dir.path().join("calls.toml");
    std::fs::write(&profile, "name = \"Calls\"\ncall_columns = [\"call_id\", \"charge\"]\n[reports]\nsite = [\"calls\"]\n").unwrap();
    let out = dir.path().join("out");
    ok(&[
        "render",
        "--profile",
        profile.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--customer",
        "BIG",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--invoice",
        "BIG-1",
        "--format",
        "xlsx",
        "--out",
        out.to_str().unwrap(),
    ]);
    let mut book: Xlsx<_> = open_workbook(out.join("BIG-1_usage.xlsx")).unwrap();
    assert_eq!(book.sheet_names(), ["Site calls", "Site calls (2)"]);
    let first = sheet(&mut book, "Site calls");
    // Full, but for two rows kept for a group's subtotal and the grand total.
    assert_eq!(first.len(), 1_048_576 - 2);
    let second = sheet(&mut book, "Site calls (2)");
    assert_eq!(text(&second[0][0]), "Site calls");
    assert_eq!(text(&second[HEADER_ROW][0]), "Site", "header repeated");
    // The first row after the header carries the running subtotal forward.
    let carried = &second[HEADER_ROW + 1];
    assert_eq!(text(&carried[0]), "Site: Main, brought forward");
    let data_rows_first = first.len() - (HEADER_ROW + 1) - 3; // Annex heading+subtotal, Main heading
    let main_on_first = data_rows_first - 10;
    assert!((number(&carried[2]) - main_on_first as f64 * 0.01).abs() < 1e-6);
    let last = second.last().unwrap();
    assert_eq!(text(&last[0]), "Total");
    assert!((number(&last[2]) - CALLS as f64 * 0.01).abs() < 1e-6);
    let m = manifest(&out);
    assert_eq!(m["totals"]["call_charge"], "10486.00");
    assert_eq!(m["attachments"][0]["rows"], CALLS as u64);
}
