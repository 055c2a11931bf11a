//! `--records postgresql://…`: records read from a table or a query give the
//! attachments the same records give from CSV; a bad value names the row, a
//! refused query the server's reason, a wrong password says so without the
//! password. The server is the throw-away one `.ci/run` starts
//! (`.ci/postgres`); without it these tests fail, never skip.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::util::*;

/// The test server's URL (with its password).
fn server() -> String {
    std::env::var("USAGE_REPORT_TEST_PG").expect(
        "USAGE_REPORT_TEST_PG is not set: run the tests with `bash .ci/run`, which starts a throw-away PostgreSQL server",
    )
}

/// A schema of its own for each test (tests run in parallel).
fn schema(client: &mut postgres::Client) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .unwrap();
    name
}

const TYPED: &str = "record_type text, customer_id text, site text, campaign text, number text, \
    call_id text, start_time timestamptz, caller text, dialled text, destination text, \
    call_type text, direction text, duration integer, billed_duration integer, rate numeric, \
    charge numeric, transaction_id text, date date, transaction_type text, description text, \
    quantity numeric, unit_price numeric, amount numeric";

/// Creates `table` with `columns` and loads CSV files into it with COPY.
fn load(client: &mut postgres::Client, table: &str, columns: &str, files: &[&str]) {
    use std::io::Write;
    client
        .batch_execute(&format!("CREATE TABLE {table} ({columns})"))
        .unwrap();
    for file in files {
        let mut writer = client
            .copy_in(&format!(
                "COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)"
            ))
            .unwrap();
        writer
            .write_all(&std::fs::read(root().join(file)).unwrap())
            .unwrap();
        writer.finish().unwrap();
    }
}

fn url(table: &str) -> String {
    format!("{}?table={table}", server())
}

/// Every file of a render but its manifest.
fn attachments(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut all = files(dir);
    all.remove("manifest.json");
    all
}

fn render_from(records: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        records,
        out.to_str().unwrap(),
    );
    args.extend(["--format", "csv,xlsx,pdf"]);
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_typed_table_gives_the_attachments_its_csv_gives() {
    let mut client = postgres::Client::connect(&server(), postgres::NoTls).unwrap();
    let schema = schema(&mut client);
    let table = format!("{schema}.usage_records");
    load(&mut client, &table, TYPED, &["fixtures/records.csv"]);
    let dir = tempfile::tempdir().unwrap();
    let (from_csv, from_db) = (dir.path().join("csv"), dir.path().join("db"));
    let csv = render_from("fixtures/records.csv", &from_csv, &[]);
    assert!(csv.status.success());
    let db = render_from(&url(&table), &from_db, &[]);
    let stderr = String::from_utf8_lossy(&db.stderr);
    assert!(db.status.success(), "{stderr}");
    let (expected, got) = (attachments(&from_csv), attachments(&from_db));
    assert!(expected.len() >= 10, "{:?}", expected.keys());
    for (name, bytes) in &expected {
        assert!(got.get(name) == Some(bytes), "{name} differs");
    }
    assert_eq!(expected.len(), got.len());
    // The manifest names the table, never the password; the totals agree.
    let (m_csv, m_db) = (manifest(&from_csv), manifest(&from_db));
    assert_eq!(m_db["totals"], m_csv["totals"]);
    assert_eq!(
        m_db["input"]["files"][0],
        format!("postgresql table {table}")
    );
    assert_eq!(m_db["input"]["in_scope"], m_csv["input"]["in_scope"]);
    let password = server()
        .split_once("usage_report:")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(p, _)| p.to_string())
        .unwrap();
    let manifest_text = std::fs::read_to_string(from_db.join("manifest.json")).unwrap();
    assert!(!manifest_text.contains(&password) && !stderr.contains(&password));
    // The server sent ACME's rows only: the others were never read.
    let others: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {table} WHERE customer_id <> 'ACME'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(others > 0);
    assert_eq!(
        m_db["input"]["out_of_scope"].as_u64().unwrap() + others as u64,
        m_csv["input"]["out_of_scope"].as_u64().unwrap()
    );

    // A query is a source too, its parameters URL-encoded.
    let query = format!(
        "{}?query=SELECT%20*%20FROM%20{table}%20WHERE%20call_type%20%3C%3E%20%27mobile%27",
        server()
    );
    let filtered = dir.path().join("query");
    let out = render_from(&query, &filtered, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(manifest(&filtered)["input"]["files"][0], "postgresql query");
    let calls = std::fs::read_to_string(filtered.join("customer_calls.csv")).unwrap();
    assert!(
        calls.contains("national") && !calls.contains(",mobile,"),
        "{calls}"
    );
}

#[test]
fn a_bad_value_names_its_row_and_a_refused_query_the_servers_reason() {
    let mut client = postgres::Client::connect(&server(), postgres::NoTls).unwrap();
    let schema = schema(&mut client);
    let text_columns: String = std::fs::read_to_string(root().join("fixtures/records.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(|c| format!("{c} text"))
        .collect::<Vec<_>>()
        .join(", ");
    let table = format!("{schema}.raw_records");
    load(
        &mut client,
        &table,
        &text_columns,
        &["fixtures/records.csv"],
    );
    client
        .batch_execute(&format!(
            "INSERT INTO {table} (record_type, customer_id, call_id, start_time, duration, charge) \
             VALUES ('call', 'ACME', 'C-BAD', '2026-10-02T10:00:00Z', '60', '0.1O'); \
             INSERT INTO {table} (record_type, customer_id, call_id, start_time, duration, charge) \
             VALUES ('call', NULL, 'C-NOBODY', '2026-10-02T11:00:00Z', '60', '0.10')"
        ))
        .unwrap();
    let rows: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0);
    let dir = tempfile::tempdir().unwrap();
    let failed = render_from(&url(&table), &dir.path().join("fail"), &[]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    // Rows are counted among the rows the server sent: ACME's, in order.
    let acme: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {table} WHERE customer_id = 'ACME'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(rows > acme);
    assert!(
        stderr.contains(&format!(
            "postgresql table {table}, row {acme}: column charge: \"0.1O\" is not a decimal"
        )),
        "{stderr}"
    );
    // Under skip the row is a reject with the same place; the row of no
    // customer is sent too (the filter keeps it) and rejected as in a file.
    let skipped = dir.path().join("skip");
    let out = render_from(&url(&table), &skipped, &["--on-bad-record", "skip"]);
    assert!(out.status.success());
    let rejects = csv_rows(&skipped.join("rejects.csv"));
    assert_eq!(rejects.len(), 3, "{rejects:?}");
    assert_eq!(rejects[1][0], format!("postgresql table {table}"));
    assert_eq!(rejects[1][1], acme.to_string());
    assert_eq!(rejects[2][1], (acme + 1).to_string());
    assert_eq!(rejects[2][2], "customer_id");
    // Ordered rows give their numbers in that order.
    let ordered = dir.path().join("ordered");
    let by_id = format!("{}&order=call_id", url(&table));
    let out = render_from(&by_id, &ordered, &["--on-bad-record", "skip"]);
    assert!(out.status.success());
    let first_id: String = client
        .query_one(
            &format!(
                "SELECT count(*)::text FROM {table} WHERE (customer_id = 'ACME' OR customer_id IS NULL) AND call_id <= 'C-BAD'"
            ),
            &[],
        )
        .unwrap()
        .get(0);
    let rejects = csv_rows(&ordered.join("rejects.csv"));
    assert_eq!(rejects[1][1], first_id, "{rejects:?}");

    // A query the server refuses, a table that is not there.
    let query = format!("{}?query=SELECT%20*%20FROM%20no_such_table", server());
    let refused = render_from(&query, &dir.path().join("refused"), &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        stderr.contains("postgresql query: the server refused the query")
            && stderr.contains("relation \"no_such_table\" does not exist"),
        "{stderr}"
    );
    // A time before year 1 or an infinity is a bad row, not a time of today.
    let times = format!("{schema}.times");
    load(&mut client, &times, TYPED, &["fixtures/records.csv"]);
    client
        .batch_execute(&format!(
            "UPDATE {times} SET start_time = '2026-10-15 12:00:00+00 BC' WHERE call_id = 'C-1001'; \
             UPDATE {times} SET start_time = 'infinity' WHERE call_id = 'C-1002'"
        ))
        .unwrap();
    let out = render_from(
        &url(&times),
        &dir.path().join("times"),
        &["--on-bad-record", "skip"],
    );
    assert!(out.status.success());
    let rejects = csv_rows(&dir.path().join("times/rejects.csv"));
    let reasons: Vec<&str> = rejects.iter().skip(1).map(|r| r[3].as_str()).collect();
    assert_eq!(reasons.len(), 2, "{rejects:?}");
    assert!(reasons.iter().any(|r| r.contains("BC")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("infinity")),
        "{reasons:?}"
    );
    // A parameter given twice is a wrong request.
    let twice = format!("{}&table=other", url(&times));
    let out = render_from(&twice, &dir.path().join("twice"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("?table= is given twice"));
    // Money as floating point is refused before a row is read.
    let floats = format!("{schema}.floats");
    client
        .batch_execute(&format!(
            "CREATE TABLE {floats} (record_type text, customer_id text, call_id text, start_time timestamptz, duration integer, charge double precision)"
        ))
        .unwrap();
    let out = render_from(&url(&floats), &dir.path().join("floats"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("column charge is float8 (floating point)"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_password_is_a_clear_error_without_the_password() {
    let wrong = "not-the-Pa55word";
    let base = server();
    let (user, rest) = base.split_once("usage_report:").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    let url = format!("{user}usage_report:{wrong}@{host}?table=usage_records");
    let dir = tempfile::tempdir().unwrap();
    let out = render_from(&url, &dir.path().join("out"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr.contains("cannot connect to the server")
            && stderr.contains("password authentication failed"),
        "{stderr}"
    );
    assert!(!stderr.contains(wrong), "{stderr}");
    // The password may come from PGPASSWORD instead of the URL.
    let (_, password_and_host) = base.split_once("usage_report:").unwrap();
    let (password, host) = password_and_host.split_once('@').unwrap();
    let mut client = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    let schema = schema(&mut client);
    let table = format!("{schema}.usage_records");
    load(&mut client, &table, TYPED, &["fixtures/records.csv"]);
    let mut args = acme_args(
        "fixtures/profiles/everything.toml",
        "",
        dir.path().join("env").to_str().unwrap(),
    )
    .into_iter()
    .map(str::to_string)
    .collect::<Vec<_>>();
    let at = args.iter().position(|a| a.is_empty()).unwrap();
    args[at] = format!("postgresql://usage_report@{host}?table={table}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_usage-report"))
        .args(&args)
        .current_dir(root())
        .env("PGPASSWORD", password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_run_reads_a_shards_customers_from_the_database_and_renders_what_csv_renders() {
    let mut client = postgres::Client::connect(&server(), postgres::NoTls).unwrap();
    let schema = schema(&mut client);
    let table = format!("{schema}.usage_records");
    load(
        &mut client,
        &table,
        TYPED,
        &["fixtures/records.csv", "fixtures/catalog/records.csv"],
    );
    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("both.csv");
    let mut text = std::fs::read_to_string(root().join("fixtures/records.csv")).unwrap();
    let extra = std::fs::read_to_string(root().join("fixtures/catalog/records.csv")).unwrap();
    text.push_str(extra.split_once('\n').unwrap().1);
    std::fs::write(&both, text).unwrap();
    for shard in ["0/2", "1/2"] {
        let outs = [dir.path().join("from-csv"), dir.path().join("from-db")];
        for (out, records) in outs
            .iter()
            .zip([both.to_str().unwrap().to_string(), url(&table)])
        {
            let _ = std::fs::remove_dir_all(out);
            let o = run(&[
                "run",
                "--catalog",
                "fixtures/catalog",
                "--records",
                &records,
                "--shard",
                shard,
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(
                matches!(o.status.code(), Some(0 | 1 | 3)),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let mut expected = files(&outs[0]);
        let mut got = files(&outs[1]);
        expected.retain(|name, _| !name.ends_with("manifest.json") && !name.ends_with("run.json"));
        got.retain(|name, _| !name.ends_with("manifest.json") && !name.ends_with("run.json"));
        assert!(!expected.is_empty());
        assert_eq!(
            expected.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &expected {
            assert!(got[name] == *bytes, "shard {shard}: {name} differs");
        }
        // The shard read only its own customers' rows.
        let report = run_report(&outs[1]);
        assert_eq!(report["input"]["own_customers_only"], true);
    }
}
