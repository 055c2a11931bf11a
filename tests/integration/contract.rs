//! The column contract that pipelines script against: with `--header keys`,
//! a column's key and position never change between versions; new columns
//! only append. This test pins the current contract — changing it is a
//! breaking change, not a fix.

use crate::util::*;

fn header(dir: &std::path::Path, file: &str) -> Vec<String> {
    csv_rows(&dir.join(file)).remove(0)
}

#[test]
fn report_columns_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let profile = fixture("profiles/everything.toml");
    let mut args = acme_args(
        &profile,
        "fixtures/records.csv",
        dir.path().to_str().unwrap(),
    );
    args.extend(["--header", "keys"]);
    ok(&args);
    let measures = [
        "calls",
        "duration",
        "billed_duration",
        "call_charge",
        "transactions",
        "transaction_amount",
        "total",
    ];
    for (level, key) in [
        ("customer", "customer_id"),
        ("site", "site"),
        ("campaign", "campaign"),
        ("number", "number"),
    ] {
        let mut summary = vec![key];
        summary.extend(measures);
        assert_eq!(header(dir.path(), &format!("{level}_summary.csv")), summary);
        assert_eq!(
            header(dir.path(), &format!("{level}_call_types.csv")),
            [
                key,
                "call_type",
                "calls",
                "duration",
                "billed_duration",
                "call_charge"
            ]
        );
        // Itemised reports: the level's key, then the profile's columns in
        // profile order (the key is not repeated).
        let calls = [
            "call_id",
            "start_time",
            "site",
            "campaign",
            "number",
            "caller",
            "dialled",
            "destination",
            "call_type",
            "direction",
            "duration",
            "billed_duration",
            "rate",
            "charge",
        ];
        let mut expected = vec![key];
        expected.extend(calls.iter().filter(|c| **c != key));
        assert_eq!(header(dir.path(), &format!("{level}_calls.csv")), expected);
        let txs = [
            "transaction_id",
            "date",
            "site",
            "number",
            "transaction_type",
            "description",
            "quantity",
            "unit_price",
            "amount",
        ];
        let mut expected = vec![key];
        expected.extend(txs.iter().filter(|c| **c != key));
        assert_eq!(
            header(dir.path(), &format!("{level}_transactions.csv")),
            expected
        );
    }
}

#[test]
fn manifest_fields_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    ok(&acme_args(
        &fixture("profiles/one-line-summary.toml"),
        "fixtures/records.csv",
        dir.path().to_str().unwrap(),
    ));
    let m = manifest(dir.path());
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    for k in [
        "manifest_version",
        "generator",
        "invoice",
        "customer",
        "profile",
        "period",
        "time_zone",
        "currency",
        "input",
        "totals",
        "attachments",
        "warnings",
        "sample",
    ] {
        assert!(m.get(k).is_some(), "manifest lacks {k}");
    }
    for k in [
        "files",
        "records",
        "in_scope",
        "out_of_scope",
        "rejected",
        "duplicates_dropped",
        "rejects_file",
    ] {
        assert!(
            keys(&m["input"]).contains(&k.to_string()),
            "input lacks {k}"
        );
    }
    for k in [
        "calls",
        "duration",
        "billed_duration",
        "call_charge",
        "transactions",
        "transaction_amount",
        "total",
    ] {
        assert!(
            keys(&m["totals"]).contains(&k.to_string()),
            "totals lack {k}"
        );
    }
    for k in ["path", "format", "level", "report", "rows", "sha256"] {
        assert!(
            keys(&m["attachments"][0]).contains(&k.to_string()),
            "attachments lack {k}"
        );
    }
}
