//! PDF attachments, read back as text: cover block, section headings,
//! repeated table headers, subtotals and totals against the manifest, page
//! count and footers, glyph placeholders, determinism.

use std::path::{Path, PathBuf};

use crate::util::*;

fn render_pdf(dir: &Path, profile: &str, records: &str, extra: &[&str]) -> PathBuf {
    let out = dir.display().to_string();
    let mut args = acme_args(profile, records, &out);
    args.extend(["--format", "pdf"]);
    args.extend_from_slice(extra);
    ok(&args);
    dir.join("INV-2026-10-0042_usage.pdf")
}

/// The text of each page.
fn pages(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    pdf_extract::extract_text_from_mem_by_pages(&bytes).unwrap()
}

#[test]
fn cover_sections_subtotals_and_footers() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_pdf(
        dir.path(),
        &fixture("profiles/everything.toml"),
        &fixture("records.csv"),
        &[],
    );
    let pages = pages(&path);
    let all = pages.join("\n");
    let first = &pages[0];
    for needle in [
        "Usage report",
        "Example Telecom Ltd",
        "ACME",
        "INV-2026-10-0042",
        "2026-10-01 to 2026-10-31",
        "Europe/London",
        "Everything",
        "Usage totals",
    ] {
        assert!(first.contains(needle), "page 1 lacks {needle:?}:\n{first}");
    }
    // The cover's totals are the manifest's, exactly (at least 2 places).
    let m = manifest(dir.path());
    assert_eq!(m["totals"]["call_charge"], "8.287576");
    assert!(
        first.contains("8.287576") && first.contains("41.82") && first.contains("50.107576"),
        "{first}"
    );
    for title in [
        "Customer summary",
        "Site calls",
        "Campaign call types",
        "Number transactions",
    ] {
        assert!(all.contains(title), "no section {title:?}");
    }
    for subtotal in [
        "Subtotal London HQ",
        "Subtotal Leeds, Depot 2",
        "Subtotal (no site)",
        "Subtotal (no campaign)",
        "Subtotal +442079460001",
    ] {
        assert!(all.contains(subtotal), "no {subtotal:?}");
    }
    // Greek and Cyrillic are drawn, not dropped.
    assert!(all.contains("Ελλάδα") && all.contains("Россия") && all.contains("Réseau Été"));
    for (i, text) in pages.iter().enumerate() {
        let footer = format!("Page {} of {}", i + 1, pages.len());
        assert!(text.contains(&footer), "page {} lacks {footer:?}", i + 1);
        assert!(
            text.contains("ACME · Invoice INV-2026-10-0042"),
            "page {} footer",
            i + 1
        );
    }
    assert!(
        m["warnings"].as_array().unwrap().is_empty(),
        "{:?}",
        m["warnings"]
    );
}

#[test]
fn long_reports_repeat_their_header_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("gen.csv");
    generate(&records, 3000, 1, 5, None);
    let profile = dir.path().join("calls.toml");
    std::fs::write(
        &profile,
        "name = \"Calls\"\ncompany = \"Example\"\ncall_columns = [\"start_time\", \"dialled\", \"duration\", \"charge\"]\n[reports]\ncustomer = [\"calls\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&[
        "render",
        "--profile",
        profile.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--customer",
        "CUST00001",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--invoice",
        "INV-2026-10-0042",
        "--format",
        "pdf",
        "--out",
        out.to_str().unwrap(),
    ]);
    let pages = pages(&out.join("INV-2026-10-0042_usage.pdf"));
    assert!(pages.len() > 30, "{} pages", pages.len());
    for (i, text) in pages.iter().enumerate().skip(2) {
        assert!(
            text.contains("Customer calls \u{2014} CUST00001 (continued)"),
            "the continued group is named on page {}",
            i + 1
        );
        assert!(
            text.contains("Start time (UTC)") && text.contains("Charge"),
            "header on page {}",
            i + 1
        );
    }
    let m = manifest(&out);
    let calls = m["totals"]["calls"].as_u64().unwrap();
    assert_eq!(m["attachments"][0]["rows"].as_u64().unwrap(), calls);
    let last = pages.last().unwrap();
    assert!(last.contains("Total"), "{last}");
}

/// An amount as printed ("£1,234.035", "0.01") in millionths, exactly.
fn printed_micros(text: &str) -> i128 {
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    assert!(frac.len() <= 6, "{text}");
    let negative = int.starts_with('-');
    let int: i128 = int.trim_start_matches('-').parse().unwrap_or(0);
    let frac: i128 = format!("{frac:0<6}").parse().unwrap();
    let v = int * 1_000_000 + frac;
    if negative {
        -v
    } else {
        v
    }
}

/// Re-adds the charges printed in a site calls report, page by page, as a
/// customer would: every group's rows add up to its printed subtotal, a
/// page's carried-forward figure is its rows plus what it brought forward,
/// the next page brings that figure forward, and the subtotals add up to the
/// printed total. Returns (groups, page breaks inside a group, the total).
fn readd_site_calls(pages: &[String]) -> (usize, usize, i128) {
    let (mut running, mut carried, mut subtotals) = (0i128, None, 0i128);
    let (mut groups, mut breaks, mut total) = (0, 0, None);
    for line in pages.iter().flat_map(|p| p.lines()) {
        let line = line.trim();
        let Some(last) = line.split_whitespace().last() else {
            continue;
        };
        if line.starts_with("CL") {
            running += printed_micros(last);
        } else if line.contains(" brought forward") {
            assert_eq!(Some(printed_micros(last)), carried.take(), "{line}");
        } else if line.contains(" carried forward") {
            assert_eq!(printed_micros(last), running, "{line}");
            carried = Some(running);
            breaks += 1;
        } else if line.starts_with("Subtotal ") {
            assert_eq!(printed_micros(last), running, "{line}");
            subtotals += running;
            running = 0;
            groups += 1;
        } else if line.starts_with("Total") {
            total = Some(printed_micros(last));
        }
    }
    assert_eq!(
        total,
        Some(subtotals),
        "the printed total is the sum of the printed subtotals"
    );
    (groups, breaks, subtotals)
}

#[test]
fn printed_rows_add_up_to_printed_subtotals_and_carry_across_pages() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("gen.csv");
    generate(&records, 3000, 2, 3, None);
    let profile = dir.path().join("calls.toml");
    std::fs::write(
        &profile,
        "name = \"Calls\"\ncall_columns = [\"call_id\", \"destination\", \"charge\"]\n[reports]\nsite = [\"calls\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let out_text = out.display().to_string();
    let records_text = records.display().to_string();
    let mut args = acme_args(profile.to_str().unwrap(), &records_text, &out_text);
    args[6] = "CUST00001";
    args.extend(["--format", "pdf", "--currency", "GBP"]);
    ok(&args);
    let pdf = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .unwrap();
    let generated = pages(&pdf);
    let (groups, breaks, total) = readd_site_calls(&generated);
    assert!(
        groups >= 3 && breaks >= 10,
        "{groups} groups, {breaks} breaks"
    );
    let m = manifest(&out);
    assert_eq!(
        total,
        printed_micros(m["totals"]["call_charge"].as_str().unwrap())
    );
    // Rated to a tenth of a penny, shown so: nothing is rounded away.
    let all = generated.join("\n");
    assert!(all.contains("£0.045") || all.contains("£0.035"), "{all}");

    // The fixture's London HQ: 0.035 and 0.045 are printed as rated, and
    // the rows add up to the subtotal (2.19 against 2.21 when rounded).
    let fixture_out = tempfile::tempdir().unwrap();
    let path = render_pdf(
        fixture_out.path(),
        profile.to_str().unwrap(),
        &fixture("records.csv"),
        &[],
    );
    let fixture_pages = pages(&path);
    let (groups, _, _) = readd_site_calls(
        &fixture_pages
            .iter()
            .map(|p| p.replace("C-", "CL"))
            .collect::<Vec<_>>(),
    );
    assert_eq!(groups, 2);
}

#[test]
fn the_profile_can_limit_pdf_detail_to_subtotals() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("limited.toml");
    std::fs::write(
        &profile,
        "name = \"Limited\"\npdf_max_detail_rows = 5\ncall_columns = [\"call_id\", \"charge\"]\n[reports]\nsite = [\"calls\"]\n",
    )
    .unwrap();
    let path = render_pdf(
        dir.path(),
        profile.to_str().unwrap(),
        &fixture("records.csv"),
        &[],
    );
    let all = pages(&path).join("\n");
    // A PDF alone: the detail is in no attachment, and it says so.
    assert!(
        all.contains("20 rows: the itemised detail is left out of this document"),
        "{all}"
    );
    assert!(all.contains("Subtotal London HQ") && all.contains("Total"));
    assert!(!all.contains("C-1001"), "no itemised call is listed");
    let warnings = manifest(dir.path())["warnings"].to_string();
    assert!(
        warnings.contains("no CSV or XLSX attachment was written: that detail is in no attachment"),
        "{warnings}"
    );
    // With the CSV beside it, the PDF points there, and nothing is warned.
    let both = tempfile::tempdir().unwrap();
    let out = both.path().display().to_string();
    let records = fixture("records.csv");
    let mut args = acme_args(profile.to_str().unwrap(), &records, &out);
    args.extend(["--format", "csv,pdf"]);
    ok(&args);
    let all = pages(&both.path().join("INV-2026-10-0042_usage.pdf")).join("\n");
    assert!(
        all.contains("20 rows: the itemised detail is in the CSV attachment"),
        "{all}"
    );
    assert!(!manifest(both.path())["warnings"]
        .to_string()
        .contains("in no attachment"));
}

/// What `pdftotext` (poppler) reads from a PDF, with the bidi embedding
/// marks it puts around right-to-left text taken out.
fn poppler_text(path: &Path, extra: &[&str]) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(extra)
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs; .ci/run installs it");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .replace(['\u{202B}', '\u{202C}'], "")
}

/// Each embedded font's name and its ToUnicode pairs (glyph id, text).
fn to_unicode_maps(path: &Path) -> Vec<(String, Vec<(u16, String)>)> {
    let doc = lopdf::Document::load(path).unwrap();
    let mut fonts = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"Subtype").and_then(|s| s.as_name()).ok() != Some(b"Type0") {
            continue;
        }
        let name = String::from_utf8_lossy(dict.get(b"BaseFont").unwrap().as_name().unwrap());
        let stream = dict
            .get_deref(b"ToUnicode", &doc)
            .unwrap()
            .as_stream()
            .unwrap();
        let cmap = String::from_utf8(stream.decompressed_content().unwrap()).unwrap();
        let mut pairs = Vec::new();
        let mut inside = false;
        for line in cmap.lines() {
            if line.ends_with("beginbfchar") {
                inside = true;
            } else if line == "endbfchar" {
                inside = false;
            } else if inside {
                let hex: Vec<&str> = line
                    .split(['<', '>'])
                    .filter(|t| !t.trim().is_empty())
                    .collect();
                let units: Vec<u16> = hex[1]
                    .as_bytes()
                    .chunks(4)
                    .map(|c| u16::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
                    .collect();
                pairs.push((
                    u16::from_str_radix(hex[0], 16).unwrap(),
                    String::from_utf16(&units).unwrap(),
                ));
            }
        }
        fonts.push((name.to_string(), pairs));
    }
    fonts
}

/// The words of each line, as poppler places them: (page, top, left, right, word).
fn poppler_words(path: &Path) -> Vec<(usize, f32, f32, f32, String)> {
    let xml = poppler_text(path, &["-bbox"]);
    let mut page = 0;
    let mut words = Vec::new();
    for line in xml.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            page += 1;
        }
        let Some(rest) = line.strip_prefix("<word ") else {
            continue;
        };
        let attr = |name: &str| -> f32 {
            let at = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            rest[at..].split('"').next().unwrap().parse().unwrap()
        };
        let text = rest.split('>').nth(1).unwrap().split('<').next().unwrap();
        words.push((
            page,
            attr("yMin"),
            attr("xMin"),
            attr("xMax"),
            text.to_string(),
        ));
    }
    words
}

#[test]
fn every_script_is_drawn_shaped_and_ordered_and_reads_back_in_logical_order() {
    let dir = tempfile::tempdir().unwrap();
    let render = |out: &Path, jobs: &str| {
        let path = render_pdf(
            out,
            &fixture("profiles/scripts.toml"),
            &fixture("scripts.csv"),
            &["--jobs", jobs],
        );
        (path.clone(), std::fs::read(path).unwrap())
    };
    let (path, bytes) = render(&dir.path().join("one"), "1");
    // The same bytes at any thread count.
    assert_eq!(render(&dir.path().join("four"), "4").1, bytes);
    // Nothing is the placeholder: no warning, no U+FFFD.
    let warnings = manifest(&dir.path().join("one"))["warnings"].clone();
    assert_eq!(warnings, serde_json::json!([]), "{warnings}");
    let text = poppler_text(&path, &[]);
    assert!(!text.contains('\u{FFFD}'), "{text}");
    // Every value reads back as written, in logical order: right-to-left
    // words from glyphs drawn in visual order, shaped Devanagari and Thai
    // from their ActualText.
    let records = std::fs::read_to_string(fixture("scripts.csv")).unwrap();
    let mut checked = 0;
    for line in records.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        for value in [fields[2], fields[3], fields[9], fields[19]] {
            // A right-to-left value with a number is read in the order it
            // is seen (poppler puts the number first); the rest as written.
            if value.is_empty() || value.contains(" 2") {
                continue;
            }
            assert!(text.contains(value), "{value:?} in:\n{text}");
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked}");
    assert!(text.contains("2 مكتب دبي"), "{text}");
    // The fonts of each script are embedded as subsets.
    let maps = to_unicode_maps(&path);
    for face in [
        "NotoSansArabic-Regular",
        "NotoSansHebrew-Regular",
        "NotoSansDevanagari-Regular",
        "NotoSansThai-Regular",
        "DroidSansFallbackFull",
        "NanumSquareR",
    ] {
        assert!(maps.iter().any(|(name, _)| name.ends_with(face)), "{face}");
    }
    // Arabic is shaped: a letter drawn in two positional forms (alef alone
    // and joined, yeh at the end and in the middle of a word) is two glyphs
    // of the face, where
    // unshaped text would draw one.
    let (_, arabic) = maps
        .iter()
        .find(|(name, _)| name.ends_with("+NotoSansArabic-Regular"))
        .unwrap();
    let forms = |letter: &str| arabic.iter().filter(|(_, t)| t == letter).count();
    assert!(forms("\u{627}") >= 2, "alef: {arabic:?}");
    assert!(forms("\u{64A}") >= 2, "yeh: {arabic:?}");
    // No text runs into the next column: on each line, each word ends
    // before the next begins.
    // (Words of one line may differ in height by their fonts' ascents.)
    let words = poppler_words(&path);
    for a in &words {
        for b in &words {
            if a.0 == b.0 && (a.1 - b.1).abs() < 3.0 && a.2 < b.2 {
                assert!(a.3 <= b.2 + 0.5, "{a:?} overlaps {b:?}");
            }
        }
    }
}

#[test]
fn characters_no_font_covers_are_counted_and_invisible_controls_draw_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("scripts.csv");
    // Khmer has no bundled font; a right-to-left mark, a byte order mark
    // and a bidi isolate draw nothing and are not missing characters.
    // Decomposed kana (NFD), as Excel or macOS may export it, is drawn
    // composed.
    let sites = [
        "ភ្នំពេញ",
        "\u{200F}Cairo\u{FEFF}",
        "\u{2067}القاهرة\u{2069} 5",
        "\u{304B}\u{3099}東京オフィス",
    ];
    let mut csv = "record_type,customer_id,site,call_id,start_time,duration,charge\n".to_string();
    for (i, site) in sites.iter().enumerate() {
        csv.push_str(&format!(
            "call,ACME,{site},c{i},2026-10-02T10:00:00Z,60,0.10\n"
        ));
    }
    std::fs::write(&records, csv).unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        "name = \"Sites\"\n[reports]\nsite = [\"summary\"]\n",
    )
    .unwrap();
    let path = render_pdf(
        dir.path(),
        profile.to_str().unwrap(),
        records.to_str().unwrap(),
        &[],
    );
    let text = poppler_text(&path, &[]);
    assert!(text.contains(&"\u{FFFD}".repeat(7)), "{text}");
    assert!(text.contains("Cairo") && text.contains("القاهرة"), "{text}");
    assert!(text.contains("\u{304C}東京オフィス"), "composed: {text}");
    // Every subset's name starts with a tag of six capital letters.
    let raw = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
    let tags: Vec<&str> = raw
        .match_indices("/BaseFont /")
        .map(|(at, m)| raw[at + m.len()..].split('+').next().unwrap())
        .collect();
    assert!(tags.len() >= 6, "{tags:?}");
    assert!(
        tags.iter()
            .all(|t| t.len() == 6 && t.bytes().all(|b| b.is_ascii_uppercase())),
        "{tags:?}"
    );
    let warnings = manifest(dir.path())["warnings"].clone();
    assert_eq!(warnings.as_array().unwrap().len(), 1, "{warnings}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.contains("7 character(s) the PDF cannot draw"),
        "{warning}"
    );
}

#[test]
fn same_invoice_twice_gives_identical_pdf_bytes_and_letter_paper_works() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let pa = render_pdf(
        a.path(),
        &fixture("profiles/everything.toml"),
        &fixture("records.csv"),
        &["--jobs", "1"],
    );
    let pb = render_pdf(
        b.path(),
        &fixture("profiles/everything.toml"),
        &fixture("records.csv"),
        &["--jobs", "2"],
    );
    assert_eq!(std::fs::read(&pa).unwrap(), std::fs::read(&pb).unwrap());

    let c = tempfile::tempdir().unwrap();
    let pc = render_pdf(
        c.path(),
        &fixture("profiles/everything.toml"),
        &fixture("records.csv"),
        &["--paper", "letter"],
    );
    let doc = lopdf_page_sizes(&pc);
    assert!(
        doc.iter()
            .all(|(w, h)| (*w == 612.0 && *h == 792.0) || (*w == 792.0 && *h == 612.0)),
        "{doc:?}"
    );
    assert!(
        doc.iter().any(|(w, _)| *w == 792.0),
        "wide tables switch to landscape"
    );
}

/// Media boxes of every page, read from the raw file.
fn lopdf_page_sizes(path: &Path) -> Vec<(f32, f32)> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    text.match_indices("/MediaBox [")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let nums: Vec<f32> = rest
                .split(']')
                .next()
                .unwrap()
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect();
            (nums[2], nums[3])
        })
        .collect()
}

/// A bookmark read back from the raw file: its title, whether it is a
/// report's (top level), and the page number it leads to (1-based).
#[derive(Debug, PartialEq)]
struct Bookmark {
    title: String,
    top: bool,
    page: usize,
}

/// The outline of a PDF written by the engine (no object streams), in file
/// order: the cover, then each report followed by its groups.
fn bookmarks(path: &Path) -> Vec<Bookmark> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    // Every object's number and body.
    let mut objects = std::collections::BTreeMap::new();
    for (at, _) in text.match_indices(" 0 obj") {
        let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let number: usize = text[start..at].trim().parse().unwrap();
        let end = at + text[at..].find("endobj").unwrap();
        objects.insert(number, (at, text[at..end].to_string()));
    }
    let number_after = |body: &str, key: &str| -> Option<usize> {
        let at = body.find(key)? + key.len();
        body[at..].split_whitespace().next()?.parse().ok()
    };
    let root = objects
        .iter()
        .find(|(_, (_, body))| body.contains("/Type /Outlines"))
        .map(|(n, _)| *n)
        .expect("an outline");
    let mut page_numbers: Vec<(usize, usize)> = objects
        .iter()
        .filter(|(_, (_, body))| body.contains("/Type /Page") && !body.contains("/Type /Pages"))
        .map(|(n, (at, _))| (*at, *n))
        .collect();
    page_numbers.sort();
    let page_of = |object: usize| page_numbers.iter().position(|(_, n)| *n == object).unwrap() + 1;
    let mut found: Vec<(usize, Bookmark)> = Vec::new();
    for (at, body) in objects.values() {
        let Some(parent) = number_after(body, "/Parent ") else {
            continue;
        };
        let Some(title_at) = body.find("/Title ") else {
            continue;
        };
        let raw = &body[title_at + 7..];
        let title = if let Some(hex) = raw.strip_prefix("<FEFF") {
            let hex = &hex[..hex.find('>').unwrap()];
            let units: Vec<u16> = (0..hex.len())
                .step_by(4)
                .map(|i| u16::from_str_radix(&hex[i..i + 4], 16).unwrap())
                .collect();
            String::from_utf16(&units).unwrap()
        } else {
            let mut out = String::new();
            let mut chars = raw[1..].chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next().unwrap()),
                    ')' => break,
                    c => out.push(c),
                }
            }
            out
        };
        let dest = number_after(body, "/Dest [").unwrap();
        found.push((
            *at,
            Bookmark {
                title,
                top: parent == root,
                page: page_of(dest),
            },
        ));
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, b)| b).collect()
}

#[test]
fn bookmarks_lead_to_each_report_and_each_group_of_an_itemised_report() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = render_pdf(
        dir.path(),
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        &[],
    );
    let marks = bookmarks(&pdf);
    let page_texts = pages(&pdf);
    let tops: Vec<&str> = marks
        .iter()
        .filter(|b| b.top)
        .map(|b| b.title.as_str())
        .collect();
    assert_eq!(tops[0], "Usage report");
    assert_eq!(tops.len(), 17, "{tops:?}");
    assert!(tops.contains(&"Site calls") && tops.contains(&"Number transactions"));
    // Each report's bookmark leads to the page its title is on, and the
    // groups of the site calls to the pages of their headings.
    for mark in &marks {
        let page = &page_texts[mark.page - 1];
        assert!(page.contains(&mark.title), "{mark:?} not on its page");
    }
    let at = marks.iter().position(|b| b.title == "Site calls").unwrap();
    let groups: Vec<&str> = marks[at + 1..]
        .iter()
        .take_while(|b| !b.top)
        .map(|b| b.title.as_str())
        .collect();
    assert_eq!(groups, ["Leeds, Depot 2", "London HQ"]);
    // A campaign named in another script keeps its name.
    assert!(
        marks.iter().any(|b| !b.top && b.title == "Réseau Été"),
        "{marks:?}"
    );
}

#[test]
fn bookmarks_of_a_report_with_very_many_groups_are_capped_and_the_manifest_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("sites.csv");
    let mut csv = String::from("record_type,customer_id,site,call_id,start_time,duration,charge\n");
    for i in 0..1_005 {
        csv.push_str(&format!(
            "call,ACME,Site {i:04},C{i},2026-10-02T10:00:00Z,60,0.01\n"
        ));
    }
    std::fs::write(&records, csv).unwrap();
    let profile = dir.path().join("sites.toml");
    std::fs::write(
        &profile,
        "name = \"Sites\"\ncall_columns = [\"call_id\", \"charge\"]\n[reports]\nsite = [\"calls\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let pdf = render_pdf(
        &out,
        profile.to_str().unwrap(),
        records.to_str().unwrap(),
        &[],
    );
    let marks = bookmarks(&pdf);
    assert_eq!(marks.iter().filter(|b| !b.top).count(), 1_000);
    assert_eq!(marks.last().unwrap().title, "Site 0999");
    let warnings = manifest(&out)["warnings"].to_string();
    assert!(
        warnings.contains("the bookmarks of \\\"Site calls\\\" list its first 1000 groups of 1005"),
        "{warnings}"
    );
}
