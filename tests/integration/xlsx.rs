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
    let mut expected = vec!["Invoice".to_string()];
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
    // The data rows add up to the total, which a blank row sets apart.
    let blank = &data[data.len() - 2];
    assert!(blank.iter().all(|c| matches!(c, Data::Empty)), "{blank:?}");
    let sum: f64 = data[..data.len() - 2].iter().map(|r| number(&r[4])).sum();
    assert!((sum - number(&total[4])).abs() < 1e-9);
}

#[test]
fn itemised_sheets_filter_data_rows_only_with_subtotals_below_and_typed_cells() {
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
    // The data rows: one block under the header, each naming its group in
    // the first column; then a blank row; then the subtotals and the total.
    let body = &rows[HEADER_ROW + 1..];
    let blank = body
        .iter()
        .position(|r| r.iter().all(|c| matches!(c, Data::Empty)))
        .expect("a blank row between the data and the subtotals");
    let mut sums: Vec<(String, f64)> = Vec::new();
    for row in &body[..blank] {
        let group = text(&row[0]);
        match sums.last_mut() {
            Some((g, sum)) if *g == group => *sum += number(&row[charge]),
            _ => sums.push((group, number(&row[charge]))),
        }
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
    let groups: Vec<&str> = sums.iter().map(|(g, _)| g.as_str()).collect();
    assert_eq!(
        groups,
        ["+441134960003", "+442079460001", "02079460002"],
        "leading + and 0 kept"
    );
    let closing = &body[blank + 1..];
    assert_eq!(
        closing.len(),
        sums.len() + 1,
        "a subtotal per group, then the total"
    );
    for ((group, sum), row) in sums.iter().zip(closing) {
        assert_eq!(text(&row[0]), format!("Subtotal {group}"));
        assert!((number(&row[charge]) - sum).abs() < 1e-9, "{group}");
    }
    let total = closing.last().unwrap();
    assert_eq!(text(&total[0]), "Total");
    let m = manifest(dir.path());
    assert!((number(&total[charge]) - money(&m["totals"]["call_charge"])).abs() < 1e-9);
    // The autofilter spans the header and the data rows, nothing below.
    let xml = zip_entry(
        &path,
        &format!(
            "xl/worksheets/sheet{}.xml",
            sheet_index(&book, "Number calls")
        ),
    );
    let last_col = (b'A' + header.len() as u8 - 1) as char;
    let want = format!(
        "<autoFilter ref=\"A{}:{last_col}{}\"",
        HEADER_ROW + 1,
        HEADER_ROW + 1 + blank
    );
    assert!(
        xml.contains(&want),
        "{want} in {}",
        &xml[xml.find("<autoFilter").unwrap()..][..60]
    );
}

/// The number of a sheet's part in the xlsx container (`sheetN.xml`).
fn sheet_index(book: &Xlsx<std::io::BufReader<std::fs::File>>, name: &str) -> usize {
    book.sheet_names().iter().position(|n| n == name).unwrap() + 1
}

#[test]
fn times_show_their_zone_so_the_repeated_hour_of_a_dst_change_reads_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_xlsx(dir.path(), &fixture("profiles/everything.toml"), &[]);
    let styles = zip_entry(&path, "xl/styles.xml");
    assert!(
        styles.contains("yyyy-mm-dd hh:mm:ss &quot;BST&quot;")
            && styles.contains("yyyy-mm-dd hh:mm:ss &quot;GMT&quot;"),
        "a time format per offset of the zone in the period: {styles}"
    );
    // 01:50 BST then 01:30 GMT on 2026-10-25: the two cells take the two
    // formats, in the order of the instants.
    let book: Xlsx<_> = open_workbook(&path).unwrap();
    let xml = zip_entry(
        &path,
        &format!(
            "xl/worksheets/sheet{}.xml",
            sheet_index(&book, "Customer calls")
        ),
    );
    let style_of = |call: &str| -> String {
        let at = xml.find(call).unwrap_or_else(|| panic!("{call}"));
        let row = &xml[at..];
        let cell = &row[row.find("<c r=\"C").unwrap()..];
        cell.split("s=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(style_of("C-1015"), style_of("C-1016"));
    assert_eq!(style_of("C-1016"), style_of("C-1017"), "both GMT");
}

#[test]
fn the_first_sheet_gives_the_invoice_its_totals_and_links_to_every_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_xlsx(
        dir.path(),
        &fixture("profiles/everything.toml"),
        &["--customer-name", "ACME Ltd"],
    );
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let rows = sheet(&mut book, "Invoice");
    assert_eq!(text(&rows[0][0]), "Usage report");
    let find = |label: &str| {
        rows.iter()
            .find(|r| matches!(&r[0], Data::String(s) if s == label))
            .unwrap_or_else(|| panic!("{label}"))
            .clone()
    };
    assert_eq!(text(&find("Customer")[1]), "ACME Ltd (ACME)");
    assert_eq!(text(&find("Invoice")[1]), "INV-2026-10-0042");
    assert_eq!(text(&find("Period")[1]), "2026-10-01 to 2026-10-31");
    assert_eq!(text(&find("Company")[1]), "Example Telecom Ltd");
    let m = manifest(dir.path());
    assert_eq!(
        number(&find("Calls")[1]),
        m["totals"]["calls"].as_f64().unwrap()
    );
    for (label, key) in [
        ("Call charges", "call_charge"),
        ("Transaction amount", "transaction_amount"),
        ("Total", "total"),
    ] {
        assert!(
            (number(&find(label)[1]) - money(&m["totals"][key])).abs() < 1e-9,
            "{label}"
        );
    }
    let listed: Vec<String> = rows
        .iter()
        .skip_while(|r| !matches!(&r[0], Data::String(s) if s == "Sheet"))
        .skip(1)
        .map(|r| text(&r[0]))
        .collect();
    assert_eq!(listed, book.sheet_names()[1..]);
    let xml = zip_entry(&path, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains("location=\"'Site calls'!A1\""),
        "each sheet is a link: {xml}"
    );
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
    assert_eq!(
        book.sheet_names(),
        ["Invoice", "Site calls", "Site calls (2)"]
    );
    let first = sheet(&mut book, "Site calls");
    assert_eq!(first.len(), 1_048_576, "full");
    let second = sheet(&mut book, "Site calls (2)");
    assert_eq!(text(&second[0][0]), "Site calls");
    assert_eq!(text(&second[HEADER_ROW][0]), "Site", "header repeated");
    // The data continue; then the subtotals of both groups and the total.
    let data_on_first = first.len() - (HEADER_ROW + 1);
    let data_on_second = CALLS - data_on_first;
    let after = &second[HEADER_ROW + 1 + data_on_second..];
    assert!(after[0].iter().all(|c| matches!(c, Data::Empty)));
    assert_eq!(text(&after[1][0]), "Subtotal Annex");
    assert!((number(&after[1][2]) - 0.10).abs() < 1e-6);
    assert_eq!(text(&after[2][0]), "Subtotal Main");
    let last = second.last().unwrap();
    assert_eq!(text(&last[0]), "Total");
    assert!((number(&last[2]) - CALLS as f64 * 0.01).abs() < 1e-6);
    let m = manifest(&out);
    assert_eq!(m["totals"]["call_charge"], "10486.00");
    assert_eq!(m["attachments"][0]["rows"], CALLS as u64);
}

/// The first match of `pattern`'s attribute `name` in an XML text.
fn attribute<'x>(xml: &'x str, element: &str, name: &str) -> Option<&'x str> {
    let at = xml.find(&format!("<{element} "))?;
    let tag = &xml[at..at + xml[at..].find('>')?];
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

#[test]
fn every_sheet_prints_one_page_wide_with_its_header_on_every_page_and_a_footer() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_xlsx(
        dir.path(),
        "fixtures/profiles/everything.toml",
        &["--customer-name", "Smith & Sons <Ltd>", "--paper", "letter"],
    );
    let book: Xlsx<_> = open_workbook(&path).unwrap();
    let names = book.sheet_names();
    let entries = zip_entries(&std::fs::read(&path).unwrap());
    let workbook = &entries["xl/workbook.xml"];
    let mut orientations = std::collections::BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        let xml = &entries[&format!("xl/worksheets/sheet{}.xml", i + 1)];
        // Letter paper, fit to one page wide and as many pages down as it takes.
        assert_eq!(
            attribute(xml, "pageSetup", "paperSize"),
            Some("1"),
            "{name}"
        );
        assert_eq!(
            attribute(xml, "pageSetup", "fitToHeight"),
            Some("0"),
            "{name}"
        );
        assert_eq!(
            attribute(xml, "pageSetUpPr", "fitToPage"),
            Some("1"),
            "{name}"
        );
        let orientation = attribute(xml, "pageSetup", "orientation").unwrap();
        orientations.insert((name.clone(), orientation.to_string()));
        // The footer names the customer and invoice, its `&` doubled so it
        // prints as text, and numbers the pages.
        let footer = &xml[xml.find("<oddFooter>").unwrap() + 11..xml.find("</oddFooter>").unwrap()];
        assert_eq!(
            footer,
            "&amp;LCustomer: Smith &amp;&amp; Sons &lt;Ltd&gt; (ACME) · Invoice: INV-2026-10-0042&amp;RPage &amp;P of &amp;N",
            "{name}"
        );
        // Every report sheet repeats its title block and header row.
        let titles = format!(
            "<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"{i}\">'{}'!$1:${}</definedName>",
            name.replace('\'', "''"),
            HEADER_ROW + 1
        );
        assert_eq!(workbook.contains(&titles), i > 0, "{name}: {titles}");
    }
    // The fourteen columns of the customer's calls print in landscape; the
    // invoice's first sheet and a summary fit a portrait page.
    assert!(
        orientations.contains(&("Customer calls".into(), "landscape".into())),
        "{orientations:?}"
    );
    assert!(
        orientations.contains(&("Invoice".into(), "portrait".into())),
        "{orientations:?}"
    );
    assert!(
        orientations.contains(&("Site summary".into(), "portrait".into())),
        "{orientations:?}"
    );
}

#[test]
fn a_long_or_tricky_customer_name_never_pushes_the_ids_out_of_the_footer() {
    let dir = tempfile::tempdir().unwrap();
    let long = "Very Long Holdings International ".repeat(8);
    for (name, shows) in [
        (long.as_str(), "Very Long Holdings"),
        ("Tom &[Page] Co", "Tom &amp;&amp;\u{200B}[Page] Co"),
    ] {
        let out = dir.path().join(format!("out{}", name.len()));
        let path = render_xlsx(
            &out,
            "fixtures/profiles/everything.toml",
            &["--customer-name", name],
        );
        let entries = zip_entries(&std::fs::read(&path).unwrap());
        let xml = &entries["xl/worksheets/sheet1.xml"];
        let footer = &xml[xml.find("<oddFooter>").unwrap() + 11..xml.find("</oddFooter>").unwrap()];
        assert!(footer.contains(shows), "{footer}");
        assert!(
            footer.ends_with("(ACME) · Invoice: INV-2026-10-0042&amp;RPage &amp;P of &amp;N"),
            "{footer}"
        );
        let units = footer
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .encode_utf16()
            .count();
        assert!(units <= 255, "{units}");
    }
}
