//! The bad-input corpus: one case per kind of bad record or file, each with
//! the error it must give by default and, for record-level problems, the
//! rejects.csv line it must give under `--on-bad-record skip`.

use crate::util::*;

const HEADER: &str = "record_type,customer_id,site,campaign,number,call_id,start_time,caller,dialled,destination,call_type,direction,duration,billed_duration,rate,charge,transaction_id,date,transaction_type,description,quantity,unit_price,amount\n";
const GOOD_CALL: &str = "call,ACME,London,,+4420,C1,2026-10-02T10:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,0.015,,,,,,,\n";

/// A record-level case: one bad line after a good one. `expected` is the
/// whole error message after the file name (`file:3: column X: ...`).
struct Case {
    name: &'static str,
    line: &'static [u8],
    expected: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "locale-formatted money",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,\"12,50\",,,,,,,\n",
        expected: "3: column charge: \"12,50\" is not a decimal: use '.' as the decimal point and no thousands separators, e.g. 1234.50",
    },
    Case {
        name: "non-numeric money",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,free,,,,,,,\n",
        expected: "3: column charge: \"free\" is not a decimal: expected digits with an optional '.' and sign",
    },
    Case {
        name: "NaN money",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,NaN,,,,,,,\n",
        expected: "3: column charge: \"NaN\" is not a decimal: NaN and infinity are not amounts",
    },
    Case {
        name: "infinite money",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,inf,,,,,,,\n",
        expected: "3: column charge: \"inf\" is not a decimal: NaN and infinity are not amounts",
    },
    Case {
        name: "over-precise money",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,0.1234567,,,,,,,\n",
        expected: "3: column charge: \"0.1234567\" is not a decimal: more than 6 decimal places",
    },
    Case {
        name: "negative duration",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,-5,60,0.015,0.01,,,,,,,\n",
        expected: "3: column duration: \"-5\" is negative; expected whole seconds >= 0",
    },
    Case {
        name: "fractional duration",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,12.5,60,0.015,0.01,,,,,,,\n",
        expected: "3: column duration: \"12.5\" is not whole seconds; expected an integer >= 0",
    },
    Case {
        name: "billed duration without duration",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,,60,0.015,0.01,,,,,,,\n",
        expected: "3: column duration: is empty but billed_duration is set; a call needs its duration",
    },
    Case {
        name: "timestamp without offset",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00,+4420,0161,UK,national,outbound,60,60,0.015,0.01,,,,,,,\n",
        expected: "3: column start_time: \"2026-10-02T11:00:00\" has no UTC offset; expected RFC 3339 with an offset or Z, e.g. 2026-10-01T09:30:00Z",
    },
    Case {
        name: "unparseable timestamp",
        line: b"call,ACME,London,,+4420,C2,last tuesday,+4420,0161,UK,national,outbound,60,60,0.015,0.01,,,,,,,\n",
        expected: "3: column start_time: \"last tuesday\" is not a timestamp; expected RFC 3339, e.g. 2026-10-01T09:30:00+01:00",
    },
    Case {
        name: "date that does not exist",
        line: b"transaction,ACME,London,,+4420,,,,,,,,,,,,T1,2026-02-30,fee,Fee,1,1,1\n",
        expected: "3: column date: \"2026-02-30\" is not a date that exists",
    },
    Case {
        name: "unknown record type",
        line: b"refund,ACME,London,,+4420,,,,,,,,,,,,T1,2026-10-02,fee,Fee,1,1,1\n",
        expected: "3: column record_type: \"refund\" is not a record type; expected \"call\" or \"transaction\"",
    },
    Case {
        name: "ragged row",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z\n",
        expected: "3: has 7 fields but the header has 23",
    },
    Case {
        name: "Latin-1 text",
        line: b"call,ACME,Z\xfcrich,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,0.01,,,,,,,\n",
        expected: "3: column site: is not valid UTF-8 (byte 0xFC at offset 1); records must be UTF-8, convert Latin-1/Windows-1252 files first",
    },
    Case {
        name: "missing charge",
        line: b"call,ACME,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,,,,,,,,\n",
        expected: "3: column charge: is empty; a decimal amount is required",
    },
    Case {
        name: "missing customer",
        line: b"call,,London,,+4420,C2,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,0.01,,,,,,,\n",
        expected: "3: column customer_id: is empty; a value is required",
    },
];

fn write_case(dir: &std::path::Path, case: &Case) -> std::path::PathBuf {
    let path = dir.join("records.csv");
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(GOOD_CALL.as_bytes());
    bytes.extend_from_slice(case.line);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn each_bad_record_fails_with_file_line_column_and_expectation() {
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let path = write_case(dir.path(), case);
        let out = dir.path().join("out");
        let stderr = fails(
            &acme_args(
                &fixture("profiles/everything.toml"),
                path.to_str().unwrap(),
                out.to_str().unwrap(),
            ),
            1,
        );
        let want = format!("usage-report: {}:{}\n", path.display(), case.expected);
        assert_eq!(stderr, want, "case {:?}", case.name);
        assert!(
            !out.exists(),
            "case {:?}: nothing is written on failure",
            case.name
        );
    }
}

#[test]
fn each_bad_record_is_rejected_with_its_reason_under_skip() {
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let path = write_case(dir.path(), case);
        let out = dir.path().join("out");
        let profile = fixture("profiles/everything.toml");
        let mut args = acme_args(&profile, path.to_str().unwrap(), out.to_str().unwrap());
        args.extend(["--on-bad-record", "skip"]);
        ok(&args);
        let m = manifest(&out);
        assert_eq!(m["input"]["records"], 2, "case {:?}", case.name);
        assert_eq!(m["input"]["in_scope"], 1, "case {:?}", case.name);
        assert_eq!(m["input"]["rejected"], 1, "case {:?}", case.name);
        assert_eq!(m["input"]["rejects_file"], "rejects.csv");
        let rejects = csv_rows(&out.join("rejects.csv"));
        assert_eq!(rejects[0], ["file", "line", "column", "reason", "record"]);
        assert_eq!(rejects.len(), 2, "case {:?}", case.name);
        let (line_col, reason) = case.expected.split_once(": ").unwrap();
        assert_eq!(rejects[1][1], line_col, "case {:?}", case.name);
        let expected_reason = match reason.strip_prefix("column ") {
            Some(rest) => {
                let (column, reason) = rest.split_once(": ").unwrap();
                assert_eq!(rejects[1][2], column, "case {:?}", case.name);
                reason
            }
            None => reason,
        };
        assert_eq!(rejects[1][3], expected_reason, "case {:?}", case.name);
        assert!(
            !rejects[1][4].contains('\u{FFFD}'),
            "no silent replacement characters"
        );
    }
}

#[test]
fn file_level_problems_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", vec![], "the file is empty; a records file needs at least a header row"),
        (
            "utf16.csv",
            b"\xFF\xFEr\0e\0".to_vec(),
            "the file is UTF-16; records must be UTF-8 (save it as \"CSV UTF-8\")",
        ),
        (
            "missing.csv",
            b"site,number,charge\ncall,1,2\n".to_vec(),
            "line 1: missing required columns: record_type, customer_id, call_id, start_time, duration, transaction_id, date, amount",
        ),
        (
            "calls-missing.csv",
            b"record_type,customer_id,transaction_id,date,amount\ncall,ACME,T,2026-10-01,1\n".to_vec(),
            "line 2: call records need columns call_id, start_time, duration, charge missing from the header",
        ),
        (
            "twice.csv",
            b"record_type,customer_id,charge,charge\n".to_vec(),
            "line 1: column \"charge\" appears twice in the header",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dir.path().join("out");
        let stderr = fails(
            &acme_args(
                &fixture("profiles/everything.toml"),
                path.to_str().unwrap(),
                out.to_str().unwrap(),
            ),
            1,
        );
        assert_eq!(
            stderr,
            format!("usage-report: {}: {expected}\n", path.display()),
            "{name}"
        );
    }
}

#[test]
fn out_of_scope_records_are_counted_not_validated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.csv");
    let other = "call,GLOBEX,London,,+4420,C9,2026-10-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,\"12,50\",,,,,,,\n";
    let later = "call,ACME,London,,+4420,C8,2026-12-02T11:00:00Z,+4420,0161,UK,national,outbound,60,60,0.015,0.01,,,,,,,\n";
    std::fs::write(&path, format!("{HEADER}{GOOD_CALL}{other}{later}")).unwrap();
    let out = dir.path().join("out");
    ok(&acme_args(
        &fixture("profiles/everything.toml"),
        path.to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    let m = manifest(&out);
    assert_eq!(m["input"]["out_of_scope"], 2);
    assert_eq!(m["input"]["in_scope"], 1);
}

#[test]
fn duplicate_call_ids_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.csv");
    std::fs::write(&path, format!("{HEADER}{GOOD_CALL}{GOOD_CALL}")).unwrap();
    let out = dir.path().join("out");
    ok(&acme_args(
        &fixture("profiles/everything.toml"),
        path.to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_eq!(
        manifest(&out)["warnings"][0],
        "call_id \"C1\" appears 2 times"
    );
}

#[test]
fn a_bad_profile_lists_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("bad.toml");
    std::fs::write(
        &profile,
        "name = \"Bad\"\ncall_columns = [\"start_time\", \"dialed\", \"start_time\"]\n[reports]\nsite = [\"sumary\", \"calls\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let stderr = fails(
        &acme_args(
            profile.to_str().unwrap(),
            &fixture("records.csv"),
            out.to_str().unwrap(),
        ),
        2,
    );
    let expected = format!(
        "usage-report: profile {}: 3 problems\n  reports.site[0]: unknown report type \"sumary\" (did you mean \"summary\"?); report types are summary, call_types, calls, transactions\n  call_columns[1]: unknown column \"dialed\" (did you mean \"dialled\"?)\n  call_columns[2]: duplicate column \"start_time\"\n",
        profile.display()
    );
    assert_eq!(stderr, expected);
}

#[test]
fn unknown_time_zone_and_format_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        &out,
    );
    let zone = args.iter().position(|a| *a == "Europe/London").unwrap();
    args[zone] = "Europe/Atlantis";
    let stderr = fails(&args, 2);
    assert!(
        stderr.contains("unknown time zone \"Europe/Atlantis\""),
        "{stderr}"
    );

    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        "fixtures/records.csv",
        &out,
    );
    args.extend(["--format", "csv,docx"]);
    let stderr = fails(&args, 2);
    assert!(stderr.contains("unknown format \"docx\""), "{stderr}");
}

#[test]
fn windows_line_ends_read_the_same_and_errors_name_the_true_line() {
    // Excel writes \r\n: the same records, the same attachments, and an
    // error on line 4 says line 4 (a blank \r\n line on line 3 included).
    let dir = tempfile::tempdir().unwrap();
    let lf = std::fs::read_to_string(fixture("records.csv")).unwrap();
    let crlf = dir.path().join("crlf.csv");
    std::fs::write(&crlf, lf.replace('\n', "\r\n")).unwrap();
    let profile = fixture("profiles/everything.toml");
    let (a, b) = (dir.path().join("lf"), dir.path().join("crlf"));
    ok(&acme_args(
        &profile,
        &fixture("records.csv"),
        a.to_str().unwrap(),
    ));
    ok(&acme_args(
        &profile,
        crlf.to_str().unwrap(),
        b.to_str().unwrap(),
    ));
    let (mut fa, mut fb) = (files(&a), files(&b));
    fa.remove("manifest.json");
    fb.remove("manifest.json");
    assert_eq!(fa, fb);
    assert_eq!(manifest(&a)["totals"], manifest(&b)["totals"]);

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "record_type,customer_id,call_id,start_time,duration,charge\r\n\
         call,ACME,C1,2026-10-02T10:00:00Z,60,0.10\r\n\
         \r\n\
         call,ACME,C2,2026-10-02T11:00:00Z,60,1x5\r\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let stderr = fails(
        &acme_args(&profile, bad.to_str().unwrap(), out.to_str().unwrap()),
        1,
    );
    assert!(
        stderr.contains("bad.csv:4: column charge: \"1x5\" is not a decimal"),
        "{stderr}"
    );
}
