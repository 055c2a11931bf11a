//! Profile options finance teams and customers ask for: masked dialled
//! digits, no itemisation without consent, and noise control — each checked
//! in the rendered output, with totals that still add up.

use std::path::Path;

use crate::reference::micros;
use crate::util::*;
use sha2::Digest;

/// Writes the everything profile plus `options` and renders the fixtures
/// into `dir/out` with `extra` flags.
fn render_with(dir: &Path, options: &str, extra: &[&str]) -> std::path::PathBuf {
    let base = std::fs::read_to_string(root().join("fixtures/profiles/everything.toml")).unwrap();
    let profile = dir.join("p.toml");
    std::fs::write(&profile, format!("{options}\n{base}")).unwrap();
    let out = dir.join("out");
    let mut args = acme_args(
        profile.to_str().unwrap(),
        "fixtures/records.csv",
        out.to_str().unwrap(),
    );
    args.extend(["--header", "keys"]);
    args.extend_from_slice(extra);
    ok(&args);
    out
}

/// Rows of a human CSV written for Excel in a comma-decimal locale: a
/// byte order mark, then `;`-separated fields.
fn excel_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let body = text.strip_prefix('\u{feff}').expect("a byte order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(b';')
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

#[test]
fn dialled_digits_are_masked_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(
        dir.path(),
        "mask_dialled_digits = 4",
        &["--format", "csv,xlsx,pdf"],
    );
    let dialled = column(&csv_rows(&out.join("number_calls.csv")), "dialled");
    assert!(dialled.contains(&"0770090****".to_string()), "{dialled:?}");
    assert!(dialled.iter().all(|d| d.ends_with("****")), "{dialled:?}");
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(out.join("INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(pdf.contains("0770090****") && !pdf.contains("07700900123"));
    // Totals are untouched.
    assert_eq!(manifest(&out)["totals"]["call_charge"], "8.287576");
}

#[test]
fn without_consent_itemised_calls_are_withheld_and_the_manifest_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(dir.path(), "", &["--no-itemisation"]);
    assert!(!out.join("site_calls.csv").exists());
    assert!(out.join("site_summary.csv").exists() && out.join("site_transactions.csv").exists());
    let m = manifest(&out);
    let warnings: Vec<&str> = m["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.contains(
            &"itemised call reports withheld (Customer calls, Site calls, Campaign calls, Number calls): the customer has not consented to itemised bills"
        ),
        "{warnings:?}"
    );
}

#[test]
fn calls_below_the_minimum_charge_become_one_other_row_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(
        dir.path(),
        "minimum_itemised_charge = \"0.10\"",
        &["--format", "csv,xlsx,pdf"],
    );
    let rows = csv_rows(&out.join("site_calls.csv"));
    let ids = column(&rows, "call_id");
    assert!(ids.contains(&"Other calls (10)".to_string()), "{ids:?}");
    let charges = column(&rows, "charge");
    for (id, charge) in ids.iter().zip(&charges) {
        if !id.starts_with("Other") {
            assert!(micros(charge) >= 100_000, "{id} {charge}");
        }
    }
    // Listed calls plus the "Other calls" rows add up to the invoice.
    let sum: i128 = charges.iter().map(|c| micros(c)).sum();
    let m = manifest(&out);
    assert_eq!(sum, micros(m["totals"]["call_charge"].as_str().unwrap()));
    let durations: u64 = column(&rows, "duration")
        .iter()
        .map(|d| d.parse::<u64>().unwrap())
        .sum();
    assert_eq!(durations, m["totals"]["duration"].as_u64().unwrap());
}

#[test]
fn zero_rows_can_be_hidden_without_changing_totals() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(dir.path(), "hide_zero_rows = true", &[]);
    let types = column(&csv_rows(&out.join("customer_call_types.csv")), "call_type");
    assert!(
        !types.contains(&"freephone".to_string()),
        "free call types are hidden: {types:?}"
    );
    let rows = csv_rows(&out.join("customer_calls.csv"));
    let ids = column(&rows, "call_id");
    assert!(
        ids.contains(&"Other calls (3)".to_string()),
        "free calls are rolled up: {ids:?}"
    );
    let sum: i128 = column(&rows, "charge").iter().map(|c| micros(c)).sum();
    assert_eq!(
        sum,
        micros(manifest(&out)["totals"]["call_charge"].as_str().unwrap())
    );
}

#[test]
fn bad_option_values_are_clear_profile_errors() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        "name = \"x\"\nminimum_itemised_charge = 1\n[reports]\nsite = [\"summary\"]\n",
    )
    .unwrap();
    let stderr = fails(
        &acme_args(
            profile.to_str().unwrap(),
            "fixtures/records.csv",
            dir.path().join("o").to_str().unwrap(),
        ),
        2,
    );
    assert!(
        stderr.contains("minimum_itemised_charge: expected a string, found a number"),
        "{stderr}"
    );
}

fn sample_into(dir: &Path, seed: &str, rows: &str) -> std::path::PathBuf {
    let out = dir.join(format!("sample-{seed}-{rows}"));
    let profile = fixture("profiles/everything.toml");
    let mut args = acme_args(&profile, "fixtures/records.csv", out.to_str().unwrap());
    args[0] = "sample";
    args.extend([
        "--rows",
        rows,
        "--seed",
        seed,
        "--header",
        "keys",
        "--format",
        "csv,xlsx,pdf",
    ]);
    ok(&args);
    out
}

#[test]
fn a_sample_keeps_every_group_is_seeded_and_says_it_is_a_sample() {
    let dir = tempfile::tempdir().unwrap();
    let a = sample_into(dir.path(), "7", "10");
    let m = manifest(&a);
    assert_eq!(m["sample"]["of"], 25);
    assert_eq!(m["sample"]["seed"], 7);
    let rows = m["sample"]["rows"].as_u64().unwrap();
    assert!(rows >= 10, "{rows}");
    assert_eq!(m["input"]["in_scope"].as_u64().unwrap(), rows);
    let n = |k: &str| m["input"][k].as_u64().unwrap();
    assert_eq!(
        n("records"),
        n("in_scope") + n("out_of_scope") + n("rejected")
    );
    // Every group of every level is still there.
    let full = tempfile::tempdir().unwrap();
    let everything = fixture("profiles/everything.toml");
    let mut args = acme_args(
        &everything,
        "fixtures/records.csv",
        full.path().to_str().unwrap(),
    );
    args.extend(["--header", "keys"]);
    ok(&args);
    for level in ["site", "campaign", "number"] {
        let keys = |p: &Path| column(&csv_rows(p), level);
        assert_eq!(
            keys(&a.join(format!("sample_{level}_summary.csv"))),
            keys(&full.path().join(format!("{level}_summary.csv")))
        );
    }
    // Same seed, same bytes; another seed, another sample.
    let b = sample_into(dir.path(), "7", "10");
    let mut fa = files(&a);
    let mut fb = files(&b);
    fa.remove("manifest.json");
    fb.remove("manifest.json");
    assert_eq!(fa, fb);
    let c = sample_into(dir.path(), "8", "10");
    assert_ne!(
        std::fs::read(a.join("sample_customer_calls.csv")).unwrap(),
        std::fs::read(c.join("sample_customer_calls.csv")).unwrap()
    );
    // Titles say so.
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(a.join("sample_INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(
        pdf.contains("Usage report (sample)") && pdf.contains("not the whole invoice"),
        "{pdf}"
    );
}

#[test]
fn locale_and_currency_shape_pdf_and_xlsx_but_not_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(
        dir.path(),
        "locale = \"de-DE\"",
        &["--currency", "EUR", "--format", "csv,xlsx,pdf"],
    );
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(out.join("INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(
        pdf.contains("50,107576\u{a0}€"),
        "total in German with the euro sign after it"
    );
    assert!(pdf.contains("01.10.2026"), "German dates");
    assert!(
        pdf.contains("0,123456"),
        "rates keep every digit, with a decimal comma"
    );
    // Machine CSV (--header keys) stays exact and locale-free.
    let summary = std::fs::read_to_string(out.join("customer_summary.csv")).unwrap();
    assert!(summary.contains("50.107576"), "{summary}");
    // Human CSV (labels) reads like the PDF.
    let human = dir.path().join("human");
    let profile = dir.path().join("p.toml");
    let mut args = acme_args(
        profile.to_str().unwrap(),
        "fixtures/records.csv",
        human.to_str().unwrap(),
    );
    args.extend(["--currency", "EUR"]);
    ok(&args);
    // For Excel in a comma-decimal locale: a byte order mark and `;`.
    let bytes = std::fs::read(human.join("customer_summary.csv")).unwrap();
    assert!(
        bytes.starts_with("\u{feff}Kunde;Anrufe;Dauer;".as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&bytes[..40])
    );
    let rows = excel_rows(&bytes);
    assert_eq!(rows[0][2], "Dauer");
    assert_eq!(rows[1][2], "2:19:56");
    assert_eq!(rows[1][7], "50,107576\u{a0}€", "exact, as rated");
    let calls = std::fs::read_to_string(human.join("site_calls.csv")).unwrap();
    assert!(calls.contains("05.10.2026 11:11:11 BST"), "{calls}");
    let m = manifest(&out);
    assert_eq!(m["currency"], "EUR");

    let yen = tempfile::tempdir().unwrap();
    let out = render_with(
        yen.path(),
        "locale = \"en-US\"",
        &["--currency", "JPY", "--format", "pdf"],
    );
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(out.join("INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(
        pdf.contains("¥50.107576") && pdf.contains("¥12.5") && !pdf.contains("¥12.50"),
        "yen have no minor units to pad; amounts are shown as rated: {pdf}"
    );
    assert!(pdf.contains("10/01/2026"), "US dates");

    let bad = tempfile::tempdir().unwrap();
    let profile = bad.path().join("p.toml");
    std::fs::write(
        &profile,
        "name = \"x\"\nlocale = \"en-AU\"\n[reports]\nsite = [\"summary\"]\n",
    )
    .unwrap();
    let stderr = fails(
        &acme_args(
            profile.to_str().unwrap(),
            "fixtures/records.csv",
            bad.path().join("o").to_str().unwrap(),
        ),
        2,
    );
    assert!(stderr.contains("locale: \"en-AU\" is not a supported locale; expected one of en-GB, en-US, de-DE, fr-FR"), "{stderr}");
}

#[test]
fn direction_subtotals_and_top_destinations() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(
        dir.path(),
        "split_direction = true\ntop_destinations = 2",
        &["--format", "csv,xlsx,pdf"],
    );
    // Summaries append inbound and outbound columns that add up.
    let rows = csv_rows(&out.join("customer_summary.csv"));
    assert_eq!(
        rows[0][8..],
        [
            "inbound_calls",
            "inbound_duration",
            "inbound_call_charge",
            "outbound_calls",
            "outbound_duration",
            "outbound_call_charge"
        ]
    );
    assert_eq!(rows[1][1], "20");
    assert_eq!(rows[1][8], "1", "one inbound call");
    assert_eq!(rows[1][11], "19");
    assert_eq!(
        micros(&rows[1][10]) + micros(&rows[1][13]),
        micros(&rows[1][4])
    );
    // Itemised PDFs carry the direction subtotals.
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(out.join("INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(
        pdf.contains("Subtotal London HQ (inbound)")
            && pdf.contains("Subtotal London HQ (outbound)")
    );
    // Call types keep each group's two costliest destinations; the rest is "Other".
    let types = csv_rows(&out.join("customer_call_types.csv"));
    assert_eq!(types[0].last().unwrap(), "destination");
    let destinations: Vec<&str> = types[1..]
        .iter()
        .map(|r| r.last().unwrap().as_str())
        .collect();
    let named: std::collections::BTreeSet<&str> = destinations
        .iter()
        .copied()
        .filter(|d| *d != "Other")
        .collect();
    assert_eq!(
        named,
        ["Ελλάδα", "UK Mobile"].into_iter().collect(),
        "{destinations:?}"
    );
    let sum: i128 = types[1..].iter().map(|r| micros(&r[5])).sum();
    assert_eq!(
        sum,
        micros(manifest(&out)["totals"]["call_charge"].as_str().unwrap())
    );
}

#[test]
fn split_writes_one_set_of_files_per_group_and_can_zip_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(dir.path(), "split = \"number\"", &["--format", "csv,pdf"]);
    let m = manifest(&out);
    let split: Vec<&serde_json::Value> = m["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| !a["group"].is_null())
        .collect();
    let folders: std::collections::BTreeSet<&str> = split
        .iter()
        .map(|a| a["path"].as_str().unwrap().split('/').nth(1).unwrap())
        .collect();
    assert_eq!(
        folders,
        [
            "(no number)",
            "+441134960003",
            "+442079460001",
            "02079460002"
        ]
        .into_iter()
        .collect()
    );
    // Each group's files hold only its records, and the groups add up.
    let mut sum = 0;
    for folder in &folders {
        let rows = csv_rows(
            &out.join("split-number")
                .join(folder)
                .join("number_summary.csv"),
        );
        assert_eq!(rows.len(), 2, "{folder}: one summary line");
        sum += micros(&rows[1][7]);
    }
    assert_eq!(sum, micros(m["totals"]["total"].as_str().unwrap()));
    let pdf =
        std::fs::read(out.join("split-number/+442079460001/INV-2026-10-0042_usage.pdf")).unwrap();
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    assert!(
        text.contains("Number calls — Number +442079460001"),
        "{text}"
    );
    assert!(
        !text.contains("02079460002"),
        "another number's calls are not in this file"
    );

    let zipped = tempfile::tempdir().unwrap();
    let out = render_with(zipped.path(), "split = \"site\"\nsplit_zip = true", &[]);
    let zip = out.join("INV-2026-10-0042_by_site.zip");
    assert!(zip.exists() && !out.join("split-site").exists());
    let again = tempfile::tempdir().unwrap();
    let out2 = render_with(again.path(), "split = \"site\"\nsplit_zip = true", &[]);
    assert_eq!(
        std::fs::read(&zip).unwrap(),
        std::fs::read(out2.join("INV-2026-10-0042_by_site.zip")).unwrap()
    );
    let m = manifest(&out);
    let entry = m["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["format"] == "zip")
        .unwrap();
    assert_eq!(entry["level"], "site");
    // The manifest lists what is in the zip, each file with its hash.
    let bytes = std::fs::read(&zip).unwrap();
    let inside = crate::xlsx::zip_entries(&bytes);
    let entries = entry["entries"].as_array().unwrap();
    assert_eq!(entries.len(), inside.len());
    let mut rows = 0;
    for e in entries {
        let path = e["path"].as_str().unwrap();
        let text = &inside[path];
        let digest = sha2::Sha256::digest(text.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(e["sha256"], hex.as_str(), "{path}");
        rows += e["rows"].as_u64().unwrap();
    }
    assert_eq!(entry["rows"].as_u64().unwrap(), rows);
}

/// "Other calls (N)" is labelled whatever the call columns: with a profile
/// whose call columns lack `call_id`, the label stands in the first text
/// column shown, in every format, and machine CSV marks the row in the
/// appended `other_calls` column with N.
#[test]
fn other_calls_rows_say_what_they_are_without_a_call_id_column() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(fixture("profiles/site-detail.toml")).unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        format!("minimum_itemised_charge = \"0.10\"\nhide_zero_rows = true\n{base}"),
    )
    .unwrap();
    for header in ["keys", "labels"] {
        let out = dir.path().join(header);
        let mut args = acme_args(
            profile.to_str().unwrap(),
            "fixtures/records.csv",
            out.to_str().unwrap(),
        );
        args.extend(["--header", header, "--format", "csv,xlsx,pdf"]);
        ok(&args);
        let rows = csv_rows(&out.join("site_calls.csv"));
        let (caller, count) = match header {
            "keys" => ("caller", "other_calls"),
            _ => ("Caller", "Other calls"),
        };
        assert_eq!(
            rows[0].last().unwrap(),
            count,
            "appended last: {:?}",
            rows[0]
        );
        let labels = column(&rows, caller);
        let counts = column(&rows, count);
        let mut rolled = 0u64;
        let mut labelled = Vec::new();
        for (label, n) in labels.iter().zip(&counts) {
            if n.is_empty() {
                assert!(!label.starts_with("Other calls"), "{label}");
            } else {
                assert_eq!(label, &format!("Other calls ({n})"));
                rolled += n.parse::<u64>().unwrap();
                labelled.push(label.clone());
            }
        }
        assert!(!labelled.is_empty(), "{rows:?}");
        // Itemised rows plus the calls each "Other" row stands for are every call.
        let listed = counts.iter().filter(|n| n.is_empty()).count() as u64;
        assert_eq!(
            listed + rolled,
            manifest(&out)["totals"]["calls"].as_u64().unwrap()
        );
        // The same labels in the workbook and the PDF.
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook(out.join("INV-2026-10-0042_usage.xlsx")).unwrap();
        use calamine::Reader;
        let sheet = book.worksheet_range("Site calls").unwrap();
        let pdf = pdf_extract::extract_text_from_mem(
            &std::fs::read(out.join("INV-2026-10-0042_usage.pdf")).unwrap(),
        )
        .unwrap();
        for label in &labelled {
            assert!(
                sheet
                    .rows()
                    .flatten()
                    .any(|c| c == &calamine::Data::String(label.clone())),
                "{label} in the workbook"
            );
            assert!(pdf.contains(label.as_str()), "{label} in the PDF");
        }
    }
}

/// A masked dialled number is still a phone number: never formula-guarded.
#[test]
fn masked_numbers_are_not_prefixed() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_with(dir.path(), "mask_dialled_digits = 4", &[]);
    let dialled = column(&csv_rows(&out.join("number_calls.csv")), "dialled");
    assert!(dialled.iter().any(|d| d.starts_with('+')), "{dialled:?}");
    assert!(dialled.iter().all(|d| !d.starts_with('\'')), "{dialled:?}");
}

/// Documents say who they are for, by name beside the id; a sample says
/// how many records it stands for with the locale's separators.
#[test]
fn documents_name_the_customer_and_samples_count_with_separators() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("named");
    let out_s = out.display().to_string();
    let everything = fixture("profiles/everything.toml");
    let mut args = acme_args(&everything, "fixtures/records.csv", &out_s);
    args.extend(["--format", "pdf,xlsx", "--customer-name", "ACME Ltd"]);
    ok(&args);
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(out.join("INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(pdf.contains("ACME Ltd (ACME)"), "{pdf}");
    // A billing run takes the name from customers.csv.
    let run_out = dir.path().join("run");
    run(&[
        "run",
        "--catalog",
        "fixtures/catalog",
        "--records",
        "fixtures/records.csv",
        "--out",
        run_out.to_str().unwrap(),
        "--invoice",
        "INV-2026-10-0042",
    ]);
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(run_out.join("INV-2026-10-0042/INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(pdf.contains("ACME Ltd (ACME)"), "{pdf}");
    // 1,500 records, sampled: "10 of 1,500 records".
    let records = dir.path().join("many.csv");
    let mut text =
        String::from("record_type,customer_id,site,call_id,start_time,duration,charge\n");
    for i in 0..1500 {
        text.push_str(&format!(
            "call,ACME,London,c{i},2026-10-02T09:{:02}:00Z,60,0.01\n",
            i % 60
        ));
    }
    std::fs::write(&records, text).unwrap();
    let sample_out = dir.path().join("sample");
    let sample_s = sample_out.display().to_string();
    let mut args = acme_args(&everything, records.to_str().unwrap(), &sample_s);
    args[0] = "sample";
    args.extend(["--format", "pdf", "--rows", "10", "--seed", "3"]);
    ok(&args);
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(sample_out.join("sample_INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(pdf.contains("of 1,500 records (seed 3)"), "{pdf}");
    // Beside the sample's totals, the whole invoice's.
    assert!(pdf.contains("1,500 calls, total 15.00"), "{pdf}");
    let m = manifest(&sample_out);
    assert_eq!(m["sample"]["whole_calls"], 1500);
    assert_eq!(m["sample"]["whole_total"], "15.00");
    assert_ne!(
        m["totals"]["total"], "15.00",
        "the manifest's totals are the sample's"
    );
}

#[test]
fn sample_and_render_take_an_invoice_from_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sample");
    let catalog = fixture("catalog");
    let records = fixture("records.csv");
    ok(&[
        "sample",
        "--catalog",
        &catalog,
        "--invoice",
        "INV-2026-10-0042",
        "--records",
        &records,
        "--rows",
        "5",
        "--format",
        "pdf,csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    // Customer, period, zone, currency, name and profile are the catalogue's.
    let m = manifest(&out);
    assert_eq!(m["invoice"], "INV-2026-10-0042");
    assert_eq!(m["customer"], "ACME");
    assert_eq!(m["profile"], "Site detail");
    assert_eq!(m["currency"], "GBP");
    assert_eq!(m["period"]["from"], "2026-10-01");
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(out.join("sample_INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(pdf.contains("ACME Ltd (ACME)"), "{pdf}");
    assert!(
        pdf.contains("Europe/London") && pdf.contains("BST"),
        "{pdf}"
    );
    assert!(pdf.contains("5 of 25 records"), "{pdf}");

    // The rules hold: a profile the catalogue's rules refuse for the
    // invoice is refused, named in the catalogue or given instead.
    let refused = fails(
        &[
            "render",
            "--catalog",
            &catalog,
            "--invoice",
            "INV-2026-11-0046",
            "--records",
            &records,
            "--out",
            dir.path().join("refused").to_str().unwrap(),
        ],
        2,
    );
    assert!(
        refused.contains("profile \"ACME bespoke\" is restricted to customer \"ACME\""),
        "{refused}"
    );
    let bespoke = format!("{catalog}/profiles/acme-bespoke.toml");
    let instead = fails(
        &[
            "render",
            "--catalog",
            &catalog,
            "--invoice",
            "INV-2026-10-0045",
            "--profile",
            &bespoke,
            "--records",
            &records,
            "--out",
            dir.path().join("instead").to_str().unwrap(),
        ],
        2,
    );
    assert!(
        instead.contains("is restricted to customer \"ACME\""),
        "{instead}"
    );
    // A mistyped invoice id is named with the closest one.
    let typo = fails(
        &[
            "sample",
            "--catalog",
            &catalog,
            "--invoice",
            "INV-2026-10-004",
            "--records",
            &records,
            "--rows",
            "5",
            "--out",
            dir.path().join("typo").to_str().unwrap(),
        ],
        2,
    );
    assert!(
        typo.contains(&format!(
            "no invoice \"INV-2026-10-004\" in the catalogue {catalog}; did you mean \"INV-2026-10-0042\"?"
        )),
        "{typo}"
    );
    // What the catalogue decides cannot also be given.
    let both = fails(
        &[
            "render",
            "--catalog",
            &catalog,
            "--invoice",
            "INV-2026-10-0042",
            "--customer",
            "ACME",
            "--records",
            &records,
            "--out",
            dir.path().join("both").to_str().unwrap(),
        ],
        2,
    );
    assert!(both.contains("cannot be used with"), "{both}");
}

#[test]
fn every_visible_word_follows_the_locale_and_machine_csv_never_changes() {
    let dir = tempfile::tempdir().unwrap();
    let records = fixture("records.csv");
    let profile = fixture("profiles/everything.toml");
    let render = |locale: &str, header: &str| {
        let out = dir.path().join(format!("{locale}-{header}"));
        let out_text = out.display().to_string();
        let mut args = acme_args(&profile, &records, &out_text);
        args.extend(["--locale", locale, "--currency", "EUR", "--header", header]);
        args.extend(["--format", "csv,xlsx,pdf"]);
        ok(&args);
        out
    };
    for (locale, words, sheet, absent) in [
        (
            "de-DE",
            &[
                "Verbrauchsbericht",
                "Zeitraum",
                "01.10.2026 bis 31.10.2026",
                "Verbrauchssummen",
                "Anrufe je Standort",
                "Zwischensumme London HQ",
                "Summe",
                "Seite 1 von",
                "(ohne Standort)",
                "Rechnung INV-2026-10-0042",
                "Beginn",
            ][..],
            "Anrufe je Standort",
            &[
                "Usage report",
                "Subtotal",
                "Page 1 of",
                "(no site)",
                "Period",
            ][..],
        ),
        (
            "fr-FR",
            &[
                "Relevé de consommation",
                "du 01/10/2026 au 31/10/2026",
                "Totaux de consommation",
                "Appels par site",
                "Sous-total London HQ",
                "Page 1 sur",
                "(sans site)",
                "Facture INV-2026-10-0042",
            ][..],
            "Appels par site",
            &["Usage report", "Subtotal", "Page 1 of", "(no site)"][..],
        ),
    ] {
        let out = render(locale, "labels");
        let pdf = pdf_extract::extract_text_from_mem(
            &std::fs::read(out.join("INV-2026-10-0042_usage.pdf")).unwrap(),
        )
        .unwrap();
        for word in words {
            assert!(pdf.contains(word), "{locale}: {word:?} in\n{pdf}");
        }
        for word in absent {
            assert!(
                !pdf.contains(word),
                "{locale}: English {word:?} left in\n{pdf}"
            );
        }
        let xlsx =
            crate::xlsx::zip_entry(&out.join("INV-2026-10-0042_usage.xlsx"), "xl/workbook.xml");
        assert!(xlsx.contains(&format!("name=\"{sheet}\"")), "{xlsx}");
        // Human CSV for Excel there: a byte order mark, `;`, words and
        // numbers of the locale.
        let bytes = std::fs::read(out.join("site_summary.csv")).unwrap();
        let rows = excel_rows(&bytes);
        let no_site = words.iter().find(|w| w.starts_with('(')).unwrap();
        assert_eq!(&rows[1][0], no_site, "{locale}: {rows:?}");
        // Machine CSV keeps its keys, commas and exact values, whatever
        // the locale; file names never change.
        let machine = render(locale, "keys");
        let text = std::fs::read_to_string(machine.join("site_summary.csv")).unwrap();
        assert!(
            text.starts_with("site,calls,duration,billed_duration,call_charge,"),
            "{text}"
        );
        assert!(text.contains(",6.102576,"), "{text}");
    }
    // en-US keeps English words with US dates.
    let us = render("en-US", "labels");
    let pdf = pdf_extract::extract_text_from_mem(
        &std::fs::read(us.join("INV-2026-10-0042_usage.pdf")).unwrap(),
    )
    .unwrap();
    assert!(
        pdf.contains("Usage report") && pdf.contains("10/01/2026 to 10/31/2026"),
        "{pdf}"
    );
    let bytes = std::fs::read(us.join("site_summary.csv")).unwrap();
    assert!(
        bytes.starts_with(b"Site,Calls,"),
        "no BOM, commas: {:?}",
        String::from_utf8_lossy(&bytes[..20])
    );
    // An unknown locale is refused before anything is read.
    let bad = fails(
        &acme_args(&profile, &records, dir.path().join("bad").to_str().unwrap())
            .into_iter()
            .chain(["--locale", "de-AT"])
            .collect::<Vec<_>>(),
        2,
    );
    assert!(bad.contains("--locale \"de-AT\" is not a supported locale; expected one of en-GB, en-US, de-DE, fr-FR"), "{bad}");
}

#[test]
fn the_profile_can_choose_human_csv_delimiter_and_byte_order_mark() {
    // A German profile that wants plain commas and no BOM after all.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("de");
    let base = std::fs::read_to_string(root().join("fixtures/profiles/everything.toml")).unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        format!("locale = \"de-DE\"\ncsv_delimiter = \",\"\ncsv_bom = false\n{base}"),
    )
    .unwrap();
    ok(&acme_args(
        profile.to_str().unwrap(),
        "fixtures/records.csv",
        out.to_str().unwrap(),
    ));
    let text = std::fs::read_to_string(out.join("site_summary.csv")).unwrap();
    assert!(text.starts_with("Standort,Anrufe,"), "{text}");
    // An English profile that wants tabs and a BOM; machine CSV keeps commas.
    let profile = dir.path().join("q.toml");
    std::fs::write(
        &profile,
        format!("csv_delimiter = \"tab\"\ncsv_bom = true\n{base}"),
    )
    .unwrap();
    let out = dir.path().join("en");
    ok(&acme_args(
        profile.to_str().unwrap(),
        "fixtures/records.csv",
        out.to_str().unwrap(),
    ));
    let text = std::fs::read_to_string(out.join("site_summary.csv")).unwrap();
    assert!(text.starts_with("\u{feff}Site\tCalls\t"), "{text:?}");
    assert!(text.contains("\"Leeds, Depot 2\"\t6\t"), "{text:?}");
    let keys = dir.path().join("keys");
    let mut args = acme_args(
        profile.to_str().unwrap(),
        "fixtures/records.csv",
        keys.to_str().unwrap(),
    );
    args.extend(["--header", "keys"]);
    ok(&args);
    let text = std::fs::read_to_string(keys.join("site_summary.csv")).unwrap();
    assert!(text.starts_with("site,calls,"), "{text:?}");
}

#[test]
fn machine_csv_and_file_names_never_change_with_the_locale() {
    // Every option that makes the engine write words of its own: "Other
    // calls (N)", "Other" destinations, the empty site, split folders.
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("fixtures/profiles/everything.toml")).unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        format!("minimum_itemised_charge = \"0.05\"\ntop_destinations = 1\nsplit = \"site\"\nsplit_direction = true\n{base}"),
    )
    .unwrap();
    let render = |locale: Option<&str>| {
        let out = dir.path().join(locale.unwrap_or("none"));
        let mut args = acme_args(
            profile.to_str().unwrap(),
            "fixtures/records.csv",
            out.to_str().unwrap(),
        );
        args.extend(["--header", "keys", "--format", "csv"]);
        if let Some(locale) = locale {
            args.extend(["--locale", locale]);
        }
        ok(&args);
        let mut files = files(&out);
        files.remove("manifest.json");
        files.retain(|name, _| !name.ends_with("manifest.json"));
        files
    };
    let plain = render(None);
    let text = String::from_utf8(plain["customer_calls.csv"].clone()).unwrap();
    assert!(text.contains(",Other calls ("), "{text}");
    let types = String::from_utf8(plain["site_call_types.csv"].clone()).unwrap();
    assert!(types.contains(",Other\r\n"), "{types}");
    assert!(
        plain.keys().any(|k| k.starts_with("split-site/(no site)/")),
        "{:?}",
        plain.keys()
    );
    for locale in ["de-DE", "fr-FR", "en-US"] {
        let other = render(Some(locale));
        assert_eq!(
            other.keys().collect::<Vec<_>>(),
            plain.keys().collect::<Vec<_>>(),
            "{locale}: file names"
        );
        for (name, bytes) in &plain {
            assert!(other[name] == *bytes, "{locale}: {name} differs");
        }
    }
}
