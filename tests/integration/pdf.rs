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

/// The bundled fixture with text in every script, as a PDF.
fn render_scripts(dir: &Path, extra: &[&str]) -> PathBuf {
    render_pdf(
        dir,
        &fixture("profiles/scripts.toml"),
        &fixture("scripts.csv"),
        extra,
    )
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
    poppler_text_of("pdftotext", extra, path, &["-"]).replace(['\u{202B}', '\u{202C}'], "")
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
        let path = render_scripts(out, &["--jobs", jobs]);
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

/// The XMP packet of a PDF, from its catalog.
fn xmp_of(doc: &lopdf::Document) -> String {
    let stream = doc
        .catalog()
        .unwrap()
        .get_deref(b"Metadata", doc)
        .unwrap()
        .as_stream()
        .unwrap();
    assert!(
        stream.dict.get(b"Filter").is_err(),
        "PDF/A metadata is not compressed"
    );
    String::from_utf8(stream.content.clone()).unwrap()
}

#[test]
fn pdf_a_metadata_output_intent_fonts_and_embedded_csv_reports() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("embed.toml");
    let text = std::fs::read_to_string(fixture("profiles/scripts.toml")).unwrap();
    std::fs::write(&profile, format!("pdf_embed_csv = true\n{text}")).unwrap();
    let out = dir.path().join("out");
    let (records, folder) = (fixture("scripts.csv"), out.display().to_string());
    let mut args = acme_args(profile.to_str().unwrap(), &records, &folder);
    args.extend(["--format", "pdf,csv", "--header", "keys"]);
    ok(&args);
    let path = out.join("INV-2026-10-0042_usage.pdf");
    let doc = lopdf::Document::load(&path).unwrap();
    assert!(doc.trailer.get(b"Encrypt").is_err(), "no encryption");
    // XMP: PDF/A-3b (files are embedded), and the same title, producer
    // and date as the information dictionary.
    let xmp = xmp_of(&doc);
    assert!(xmp.contains("<pdfaid:part>3</pdfaid:part>"), "{xmp}");
    assert!(
        xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
        "{xmp}"
    );
    let info = doc
        .trailer
        .get_deref(b"Info", &doc)
        .unwrap()
        .as_dict()
        .unwrap();
    let title = String::from_utf8_lossy(info.get(b"Title").unwrap().as_str().unwrap()).to_string();
    assert!(
        xmp.contains(&format!(">{title}</rdf:li>")),
        "{title} in {xmp}"
    );
    assert!(xmp.contains("<xmp:CreateDate>2026-11-01T00:00:00Z</xmp:CreateDate>"));
    assert_eq!(
        info.get(b"CreationDate").unwrap().as_str().unwrap(),
        b"D:20261101000000Z"
    );
    // An sRGB output intent with its ICC profile.
    let catalog = doc.catalog().unwrap();
    let intents = catalog.get(b"OutputIntents").unwrap().as_array().unwrap();
    let intent = intents[0].as_dict().unwrap();
    assert_eq!(intent.get(b"S").unwrap().as_name().unwrap(), b"GTS_PDFA1");
    let icc = intent
        .get_deref(b"DestOutputProfile", &doc)
        .unwrap()
        .as_stream()
        .unwrap();
    assert_eq!(icc.dict.get(b"N").unwrap().as_i64().unwrap(), 3);
    assert_eq!(&icc.decompressed_content().unwrap()[36..40], b"acsp");
    // Every font is embedded.
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"Type").and_then(|t| t.as_name()).ok() == Some(b"FontDescriptor") {
            assert!(dict.get(b"FontFile2").is_ok(), "{dict:?}");
        }
    }
    // The embedded files are the CSV attachments, byte for byte, each an
    // associated file (Data) listed in the catalog and the manifest.
    let af = catalog.get(b"AF").unwrap().as_array().unwrap();
    let listed = &manifest(&out)["attachments"];
    let pdf_entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["format"] == "pdf")
        .unwrap();
    let entries = pdf_entry["entries"].as_array().unwrap();
    assert_eq!(af.len(), 4);
    assert_eq!(entries.len(), 4);
    for spec in af {
        let spec = doc.get_dictionary(spec.as_reference().unwrap()).unwrap();
        assert_eq!(
            spec.get(b"AFRelationship").unwrap().as_name().unwrap(),
            b"Data"
        );
        let name = String::from_utf8(spec.get(b"F").unwrap().as_str().unwrap().to_vec()).unwrap();
        let file = spec
            .get(b"EF")
            .unwrap()
            .as_dict()
            .unwrap()
            .get_deref(b"F", &doc)
            .unwrap()
            .as_stream()
            .unwrap();
        assert_eq!(
            file.dict.get(b"Subtype").unwrap().as_name().unwrap(),
            b"text/csv"
        );
        let bytes = file.decompressed_content().unwrap();
        assert_eq!(bytes, std::fs::read(out.join(&name)).unwrap(), "{name}");
        let entry = entries.iter().find(|e| e["path"] == name.as_str()).unwrap();
        assert_eq!(entry["sha256"], sha256_hex(&bytes), "{name}");
    }
    // Without embedded files the claim is PDF/A-2b, and nothing is embedded.
    let plain = render_scripts(&dir.path().join("plain"), &[]);
    let doc = lopdf::Document::load(&plain).unwrap();
    assert!(xmp_of(&doc).contains("<pdfaid:part>2</pdfaid:part>"));
    assert!(doc.catalog().unwrap().get(b"AF").is_err());
}

/// A structure element as poppler reads it back (`pdfinfo -struct-text`):
/// its type, attributes, text and children.
#[derive(Debug, Default)]
struct Tag {
    kind: String,
    attributes: Vec<String>,
    text: String,
    children: Vec<Tag>,
}

impl Tag {
    /// Every element below this one (and itself), depth first.
    fn all(&self) -> Vec<&Tag> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.all());
        }
        out
    }

    /// The text of it and everything below it.
    fn whole_text(&self) -> String {
        let mut text = self.text.clone();
        for child in &self.children {
            text.push_str(&child.whole_text());
        }
        text
    }
}

fn structure(path: &Path) -> Tag {
    let out = poppler_text_of("pdfinfo", &["-struct-text"], path, &[]);
    let mut stack: Vec<(usize, Tag)> = vec![(0, Tag::default())];
    for line in out.lines() {
        let depth = line.len() - line.trim_start().len();
        let item = line.trim();
        if item.is_empty() {
            continue;
        }
        if let Some(text) = item.strip_prefix('"') {
            stack
                .last_mut()
                .unwrap()
                .1
                .text
                .push_str(text.trim_end_matches('"'));
            continue;
        }
        if item.starts_with('/') {
            stack
                .last_mut()
                .unwrap()
                .1
                .attributes
                .push(item.to_string());
            continue;
        }
        while stack.len() > 1 && stack.last().unwrap().0 > depth {
            let (_, done) = stack.pop().unwrap();
            stack.last_mut().unwrap().1.children.push(done);
        }
        let kind = item.split([' ', ':']).next().unwrap().to_string();
        stack.push((
            depth + 1,
            Tag {
                kind,
                ..Tag::default()
            },
        ));
    }
    while stack.len() > 1 {
        let (_, done) = stack.pop().unwrap();
        stack.last_mut().unwrap().1.children.push(done);
    }
    stack.pop().unwrap().1
}

/// What a poppler tool prints for a PDF.
fn poppler_text_of(tool: &str, args: &[&str], path: &Path, after: &[&str]) -> String {
    let out = std::process::Command::new(tool)
        .args(args)
        .arg(path)
        .args(after)
        .output()
        .expect("poppler-utils run; .ci/run installs them");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn tagged_pdf_reads_in_order_with_headings_table_headers_and_furniture_as_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let path = render_pdf(
        dir.path(),
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        &[],
    );
    // The catalog says it is tagged, in which language, with its title
    // shown as the window title, and XMP claims PDF/UA-1.
    let doc = lopdf::Document::load(&path).unwrap();
    let catalog = doc.catalog().unwrap();
    let marked = catalog
        .get_deref(b"MarkInfo", &doc)
        .unwrap()
        .as_dict()
        .unwrap();
    assert!(marked.get(b"Marked").unwrap().as_bool().unwrap());
    assert_eq!(catalog.get(b"Lang").unwrap().as_str().unwrap(), b"en");
    let prefs = catalog
        .get_deref(b"ViewerPreferences", &doc)
        .unwrap()
        .as_dict()
        .unwrap();
    assert!(prefs.get(b"DisplayDocTitle").unwrap().as_bool().unwrap());
    assert!(xmp_of(&doc).contains("<pdfuaid:part>1</pdfuaid:part>"));
    for (_, page) in doc.get_pages() {
        let page = doc.get_dictionary(page).unwrap();
        assert!(page.get(b"StructParents").is_ok());
        assert_eq!(page.get(b"Tabs").unwrap().as_name().unwrap(), b"S");
    }
    // The tree: the cover's title and facts, then a section per report
    // whose heading is its bookmark's title.
    let tree = structure(&path);
    let document = &tree.children[0];
    assert_eq!(document.kind, "Document");
    assert_eq!(document.children[0].kind, "H1");
    assert_eq!(document.children[0].whole_text(), "Usage report");
    let sections: Vec<&Tag> = document
        .children
        .iter()
        .filter(|t| t.kind == "Sect")
        .collect();
    let titles: Vec<String> = bookmarks(&path)
        .into_iter()
        .filter(|b| b.top)
        .skip(1)
        .map(|b| b.title)
        .collect();
    let headings: Vec<String> = sections
        .iter()
        .map(|s| s.children[0].whole_text())
        .collect();
    assert_eq!(headings, titles);
    // Every table has header cells with a scope: a header row of column
    // headers, and totals rows headed by their label.
    for table in document.all().into_iter().filter(|t| t.kind == "Table") {
        let cells = table.all();
        assert!(
            cells.iter().any(|t| t.kind == "TH"),
            "a table without header cells: {table:?}"
        );
        for th in cells.iter().filter(|t| t.kind == "TH") {
            assert!(
                th.attributes.iter().any(|a| a.starts_with("/Scope")),
                "{th:?}"
            );
        }
    }
    let site_calls = sections
        .iter()
        .find(|s| s.children[0].whole_text() == "Site calls")
        .unwrap();
    let table = &site_calls.children[1];
    assert_eq!(table.children[0].kind, "THead");
    let columns: Vec<String> = table.children[0].children[0]
        .children
        .iter()
        .map(|th| th.whole_text())
        .collect();
    assert!(columns.contains(&"Charge".to_string()), "{columns:?}");
    // The groups are headings (level 3), named as their bookmarks are.
    let groups: Vec<String> = site_calls
        .all()
        .into_iter()
        .filter(|t| t.kind == "H3")
        .map(|t| t.whole_text())
        .collect();
    assert_eq!(groups, ["Site: Leeds, Depot 2", "Site: London HQ"]);
    // Footers are furniture: not in the tree, though on every page.
    let all_text = document.whole_text();
    assert!(!all_text.contains("Page 1 of"), "{all_text}");
    assert!(pages(&path)[0].contains("Page 1 of"));
}

#[test]
fn what_a_page_break_repeats_is_furniture_and_other_scripts_name_their_language() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("calls.csv");
    // Three pages: enough for every kind of furniture a page break adds;
    // poppler reads a structure tree in time quadratic in a page's cells.
    generate(&records, 90, 1, 1, None);
    let text = std::fs::read_to_string(&records).unwrap();
    std::fs::write(&records, text.replace("CUST00001", "ACME")).unwrap();
    let out = dir.path().join("out");
    let path = render_pdf(
        &out,
        "fixtures/profiles/site-detail.toml",
        records.to_str().unwrap(),
        &[],
    );
    let shown = poppler_text(&path, &[]);
    let tree = structure(&path);
    let read = tree.whole_text();
    for furniture in [
        "(continued)",
        "carried forward",
        "brought forward",
        "Page 2 of",
    ] {
        assert!(shown.contains(furniture), "{furniture} is drawn");
        assert!(!read.contains(furniture), "{furniture} is not read out");
    }
    // Each call is read once, though its table's header repeats per page.
    let calls = std::fs::read_to_string(&records)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("call,"))
        .count();
    let site_calls = tree
        .all()
        .into_iter()
        .find(|t| t.kind == "Sect" && t.children[0].whole_text() == "Site calls")
        .unwrap();
    let rows = site_calls
        .all()
        .into_iter()
        .filter(|t| t.kind == "TR" && t.children.iter().all(|c| c.kind == "TD"))
        .filter(|t| t.children.len() > 1)
        .count();
    assert_eq!(rows, calls, "one data row per call");
    // Text in another script than the document's names its language.
    let scripts = render_scripts(&dir.path().join("scripts"), &[]);
    let doc = lopdf::Document::load(&scripts).unwrap();
    let mut languages = std::collections::BTreeSet::new();
    for object in doc.objects.values() {
        if let Ok(dict) = object.as_dict() {
            if let Ok(lang) = dict.get(b"Lang").and_then(|l| l.as_str()) {
                languages.insert(String::from_utf8_lossy(lang).to_string());
            }
        }
    }
    for lang in ["ar", "he", "hi", "th", "ja", "zh", "ko", "el", "en"] {
        assert!(languages.contains(lang), "{lang} in {languages:?}");
    }
}

/// A profile of `everything.toml` with branding keys, written beside its
/// files in `dir`.
fn branded_profile(dir: &Path, keys: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixture("profiles/everything.toml")).unwrap();
    let path = dir.join("branded.toml");
    std::fs::write(&path, format!("{keys}\n{text}")).unwrap();
    path
}

/// The cover's logo image, if it has one: the image and its soft mask.
fn cover_logo(doc: &lopdf::Document) -> Option<(lopdf::Stream, Option<lopdf::Stream>)> {
    let first = *doc.get_pages().get(&1).unwrap();
    let page = doc.get_object(first).unwrap().as_dict().unwrap();
    let resources = page
        .get_deref(b"Resources", doc)
        .unwrap()
        .as_dict()
        .unwrap();
    let xobjects = resources
        .get_deref(b"XObject", doc)
        .ok()?
        .as_dict()
        .unwrap();
    let id = xobjects.get(b"Logo").unwrap().as_reference().unwrap();
    let image = doc.get_object(id).unwrap().as_stream().unwrap().clone();
    let mask = image.dict.get(b"SMask").ok().map(|m| {
        doc.get_object(m.as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap()
            .clone()
    });
    Some((image, mask))
}

#[test]
fn branding_draws_the_logo_and_colour_and_bad_files_are_profile_problems() {
    let dir = tempfile::tempdir().unwrap();
    // A PNG with transparent corners, 3:1, larger than the logo box needs.
    let mut png = resvg::tiny_skia::Pixmap::new(1200, 400).unwrap();
    let mut paint = resvg::tiny_skia::Paint::default();
    paint.set_color_rgba8(0x1F, 0x4E, 0x79, 255);
    let rect = resvg::tiny_skia::Rect::from_xywh(100.0, 50.0, 1000.0, 300.0).unwrap();
    png.fill_rect(rect, &paint, resvg::tiny_skia::Transform::identity(), None);
    std::fs::create_dir(dir.path().join("brand")).unwrap();
    png.save_png(dir.path().join("brand/logo.png")).unwrap();
    let profile = branded_profile(
        dir.path(),
        "logo = \"brand/logo.png\"\nbrand_color = \"#1f4e79\"",
    );
    let profile = profile.to_str().unwrap();
    ok(&["check-profile", profile]);
    let render =
        |out: &str| render_pdf(&dir.path().join(out), profile, &fixture("records.csv"), &[]);
    let path = render("png");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(render("again")).unwrap(),
        "the same logo gives the same bytes"
    );
    let doc = lopdf::Document::load(&path).unwrap();
    let (image, mask) = cover_logo(&doc).expect("the cover draws the logo");
    // Fitted to the 144 x 36 pt box at 4 pixels a point: 432 x 144.
    let size = |s: &lopdf::Stream| {
        (
            s.dict.get(b"Width").unwrap().as_i64().unwrap(),
            s.dict.get(b"Height").unwrap().as_i64().unwrap(),
        )
    };
    assert_eq!(size(&image), (432, 144));
    assert_eq!(
        image.dict.get(b"ColorSpace").unwrap().as_name().unwrap(),
        b"DeviceRGB"
    );
    let mask = mask.expect("transparent corners make a soft mask");
    assert_eq!(size(&mask), (432, 144));
    let alpha = mask.decompressed_content().unwrap();
    assert_eq!(alpha[0], 0, "a corner is transparent");
    assert_eq!(alpha[72 * 432 + 216], 255, "the middle is opaque");
    // The brand colour: headings filled with it (it reads well on white),
    // rules stroked with it.
    let first = *doc.get_pages().get(&1).unwrap();
    let content = String::from_utf8_lossy(&doc.get_page_content(first).unwrap()).to_string();
    assert!(
        content.contains("0.12156863 0.30588236 0.4745098 rg"),
        "{content:.600}"
    );
    assert!(content.contains("0.12156863 0.30588236 0.4745098 RG"));
    // The manifest's profile pins the logo by place and digest.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("png/manifest.json")).unwrap(),
    )
    .unwrap();
    let document = &manifest["profile_document"];
    let logo = std::path::absolute(dir.path().join("brand/logo.png")).unwrap();
    assert_eq!(document["logo"], logo.to_str().unwrap());
    assert_eq!(
        document["logo_sha256"],
        sha256_hex(&std::fs::read(&logo).unwrap())
    );
    assert_eq!(document["brand_color"], "#1F4E79");

    // An SVG logo is drawn to pixels at its fitted size. A colour with too
    // little contrast for text stays off the headings (#CC6600: 3.8:1) but
    // draws the rules; a pale one (#FFCC00: 1.5:1) draws neither.
    std::fs::write(
        dir.path().join("brand/logo.svg"),
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="18" fill="#c00"/></svg>"##,
    )
    .unwrap();
    for (colour, ink, rules) in [
        ("#CC6600", "0.8 0.4 0", true),
        ("#FFCC00", "1 0.8 0", false),
    ] {
        let keys = format!("logo = \"brand/logo.svg\"\nbrand_color = \"{colour}\"");
        let profile = branded_profile(dir.path(), &keys);
        let path = render_pdf(
            &dir.path().join(&colour[1..]),
            profile.to_str().unwrap(),
            &fixture("records.csv"),
            &[],
        );
        let doc = lopdf::Document::load(&path).unwrap();
        let (image, _) = cover_logo(&doc).unwrap();
        assert_eq!(size(&image), (144, 144));
        let first = *doc.get_pages().get(&1).unwrap();
        let content = String::from_utf8_lossy(&doc.get_page_content(first).unwrap()).to_string();
        assert_eq!(
            content.contains(&format!("{ink} RG")),
            rules,
            "{colour} rules"
        );
        assert!(
            !content.contains(&format!("{ink} rg")),
            "{colour} headings would not read"
        );
    }

    // Without branding there is no logo.
    let plain = render_pdf(
        &dir.path().join("plain"),
        &fixture("profiles/everything.toml"),
        &fixture("records.csv"),
        &[],
    );
    assert!(cover_logo(&lopdf::Document::load(&plain).unwrap()).is_none());

    // Each bad setting is a problem of the profile, named by its key.
    std::fs::write(dir.path().join("brand/notes.txt"), "not an image").unwrap();
    let zeros = "0".repeat(64);
    let pinned_wrong = format!("logo = \"brand/logo.png\"\nlogo_sha256 = \"{zeros}\"");
    let pin_alone = format!("logo_sha256 = \"{zeros}\"");
    std::fs::write(
        dir.path().join("brand/bitmap.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image href="data:image/png;base64,AAAA" width="4" height="4"/></svg>"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("brand/entities.svg"),
        r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><desc>&a;&a;</desc></svg>"#,
    )
    .unwrap();
    // What costs without bound to draw: a filter; a chain of masks as deep
    // as the file is long (it overflowed the stack at 3,000).
    std::fs::write(
        dir.path().join("brand/blur.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10"><filter id="f"><feGaussianBlur stdDeviation="1e9"/></filter><rect width="40" height="10" filter="url(#f)"/></svg>"#,
    )
    .unwrap();
    let masks: String = (1..3000)
        .map(|i| format!(r##"<mask id="m{i}"><rect width="10" height="10" fill="#fff" mask="url(#m{})"/></mask>"##, i - 1))
        .collect();
    std::fs::write(
        dir.path().join("brand/masks.svg"),
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{masks}<rect width="10" height="10" mask="url(#m2999)"/></svg>"#),
    )
    .unwrap();
    // A pipe would wait for a writer for ever; a clear PNG shows nothing.
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.path().join("brand/pipe.png"))
        .status()
        .unwrap();
    assert!(fifo.success());
    resvg::tiny_skia::Pixmap::new(40, 10)
        .unwrap()
        .save_png(dir.path().join("brand/clear.png"))
        .unwrap();
    // A PNG header claiming 2^31 x 2^20 pixels is refused before decoding.
    let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    huge.extend_from_slice(&(1u32 << 31).to_be_bytes());
    huge.extend_from_slice(&(1u32 << 20).to_be_bytes());
    huge.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0, 0]);
    std::fs::write(dir.path().join("brand/huge.png"), huge).unwrap();
    std::fs::write(
        dir.path().join("brand/text.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10"><text y="9">ACME</text></svg>"#,
    )
    .unwrap();
    for (keys, expected) in [
        ("logo = \"brand/missing.png\"", "logo: "),
        ("logo = \"brand/notes.txt\"", "neither a PNG nor an SVG"),
        ("logo = \"brand/text.svg\"", "convert the text to outlines"),
        ("logo = \"brand/bitmap.svg\"", "holds an <image> element"),
        ("logo = \"brand/blur.svg\"", "holds a filter"),
        ("logo = \"brand/masks.svg\"", "has more than 64 masks"),
        ("logo = \"brand/pipe.png\"", "is not a regular file"),
        ("logo = \"brand/clear.png\"", "draws nothing"),
        (
            "logo = \"brand/entities.svg\"",
            "not an SVG image that can be read",
        ),
        ("logo = \"brand/huge.png\"", "2147483648 x 1048576 pixels"),
        (
            "logo = \"brand/logo.png\"\nlogo_sha256 = \"00\"",
            "logo_sha256: \"00\" is not a SHA-256",
        ),
        (
            pinned_wrong.as_str(),
            "the profile pins (the file changed since)",
        ),
        (
            "brand_color = \"navy\"",
            "brand_color: \"navy\" is not a colour",
        ),
        (
            pin_alone.as_str(),
            "logo_sha256: pins a file, but logo is not set",
        ),
    ] {
        let profile = branded_profile(dir.path(), keys);
        let e = fails(&["check-profile", profile.to_str().unwrap()], 2);
        assert!(e.contains(expected), "{keys}: {e}");
    }
}

/// A font file with the big-endian `value` written at byte `at` of its
/// `table` (the table's checksum is left as it was: readers ignore it).
fn patched(font: &[u8], table: &[u8; 4], at: usize, value: u16) -> Vec<u8> {
    let mut out = font.to_vec();
    let tables = u16::from_be_bytes([font[4], font[5]]) as usize;
    let record = (0..tables)
        .map(|i| 12 + 16 * i)
        .find(|r| &font[*r..*r + 4] == table)
        .unwrap();
    let offset = u32::from_be_bytes(font[record + 8..record + 12].try_into().unwrap()) as usize;
    out[offset + at..offset + at + 2].copy_from_slice(&value.to_be_bytes());
    out
}

/// The PostScript names of the fonts a PDF embeds, without subset tags.
fn embedded_fonts(doc: &lopdf::Document) -> std::collections::BTreeSet<String> {
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Type").and_then(|t| t.as_name()).ok() == Some(b"Font".as_slice()))
        .filter(|d| d.get(b"Subtype").and_then(|t| t.as_name()).ok() == Some(b"Type0".as_slice()))
        .map(|d| {
            let name = d.get(b"BaseFont").unwrap().as_name().unwrap();
            let name = String::from_utf8_lossy(name).to_string();
            name.split_once('+')
                .map(|(_, n)| n.to_string())
                .unwrap_or(name)
        })
        .collect()
}

#[test]
fn a_brand_font_draws_first_and_the_bundled_faces_draw_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("brand")).unwrap();
    // A bold Latin face with no Arabic, Hebrew, Thai or CJK stands in for a
    // company's font: unmistakable where it draws.
    std::fs::copy(
        "src/render/pdf/fonts/DejaVuSansCondensed-Bold.ttf",
        dir.path().join("brand/corporate.ttf"),
    )
    .unwrap();
    let text = std::fs::read_to_string(fixture("profiles/scripts.toml")).unwrap();
    let profile = dir.path().join("brand.toml");
    std::fs::write(&profile, format!("font = \"brand/corporate.ttf\"\n{text}")).unwrap();
    let profile = profile.to_str().unwrap();
    ok(&["check-profile", profile]);
    let out = dir.path().join("out");
    let path = render_pdf(&out, profile, &fixture("scripts.csv"), &[]);
    let doc = lopdf::Document::load(&path).unwrap();
    let fonts = embedded_fonts(&doc);
    for face in [
        "NotoSansArabic-Regular",
        "NotoSansThai-Regular",
        "DroidSansFallbackFull",
        "NanumSquareR",
    ] {
        assert!(
            fonts.contains(face),
            "{face} draws what the brand face lacks: {fonts:?}"
        );
    }
    // Regular Latin text is drawn with the brand face: the first face, `R`.
    let first = *doc.get_pages().get(&1).unwrap();
    let (resources, _) = doc.get_page_resources(first).unwrap();
    let page_fonts = resources
        .unwrap()
        .get_deref(b"Font", &doc)
        .unwrap()
        .as_dict()
        .unwrap();
    let r = page_fonts.get_deref(b"R", &doc).unwrap().as_dict().unwrap();
    let name = String::from_utf8_lossy(r.get(b"BaseFont").unwrap().as_name().unwrap()).to_string();
    assert!(name.ends_with("+DejaVuSansCondensed-Bold"), "{name}");
    // Every value still reads back, and nothing is a placeholder.
    let shown = poppler_text(&path, &[]);
    assert!(!shown.contains('\u{FFFD}'));
    for word in ["Usage report", "القاهرة", "서울"] {
        assert!(shown.contains(word), "{word}");
    }
    let again = render_pdf(
        &dir.path().join("again"),
        profile,
        &fixture("scripts.csv"),
        &["--jobs", "1"],
    );
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(again).unwrap());

    // A file that is no font, or not the pinned one, is a profile problem.
    std::fs::write(dir.path().join("brand/notes.ttf"), "not a font").unwrap();
    let dejavu = std::fs::read("src/render/pdf/fonts/DejaVuSansCondensed.ttf").unwrap();
    for (name, table, at, value) in [
        ("restricted.ttf", b"OS/2", 8, 0x0002u16),
        ("bitmaps.ttf", b"OS/2", 8, 0x0200),
        ("whole.ttf", b"OS/2", 8, 0x0100),
        ("no-metrics.ttf", b"hhea", 34, 0),
        ("short-loca.ttf", b"head", 50, 0),
    ] {
        std::fs::write(
            dir.path().join("brand").join(name),
            patched(&dejavu, table, at, value),
        )
        .unwrap();
    }
    let zeros = "0".repeat(64);
    let pinned_wrong = format!("font = \"brand/corporate.ttf\"\nfont_sha256 = \"{zeros}\"");
    let pin_alone = format!("font_bold_sha256 = \"{zeros}\"");
    for (keys, expected) in [
        (
            "font = \"brand/notes.ttf\"",
            "is not a TrueType or OpenType font",
        ),
        ("font = \"brand/missing.ttf\"", "font: "),
        (
            pinned_wrong.as_str(),
            "the profile pins (the file changed since)",
        ),
        (pin_alone.as_str(), "pins a file, but font_bold is not set"),
        (
            "font = \"brand/restricted.ttf\"",
            "forbids embedding (OS/2 fsType: restricted",
        ),
        ("font = \"brand/bitmaps.ttf\"", "bitmaps only"),
        ("font = \"brand/whole.ttf\"", "no subsetting"),
        (
            "font = \"brand/no-metrics.ttf\"",
            "lacks the glyph outlines or widths",
        ),
        (
            "font = \"brand/short-loca.ttf\"",
            "cannot be cut to the glyphs a PDF embeds",
        ),
    ] {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, format!("{keys}\n{text}")).unwrap();
        let e = fails(&["check-profile", bad.to_str().unwrap()], 2);
        assert!(e.contains(expected), "{keys}: {e}");
    }
}
