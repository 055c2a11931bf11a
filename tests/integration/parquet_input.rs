//! Parquet records: the fixture set written as Parquet (text, integer,
//! DECIMAL and UTC timestamp columns) renders the same attachments as CSV.

use std::path::Path;
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::util::*;

/// Writes `fixtures/records.csv` as Parquet: durations as INT64, charge and
/// amount as DECIMAL(18,6), start_time as a UTC timestamp in milliseconds,
/// everything else as UTF-8 text; empty fields become nulls. With
/// `charge_type = "double"` the charge column is floating point instead.
fn write_fixture_parquet(path: &Path, charge_type: &str) {
    let (headers, rows) = fixture_rows();
    write_parquet(path, &headers, &rows, charge_type, 1);
}

fn fixture_rows() -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(root().join("fixtures/records.csv")).unwrap();
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    (headers, rows)
}

/// Writes rows as Parquet in `groups` row groups of about equal size.
fn write_parquet(
    path: &Path,
    headers: &[String],
    rows: &[csv::StringRecord],
    charge_type: &str,
    groups: usize,
) {
    let kind = |name: &str| match name {
        "duration" | "billed_duration" => "int64",
        "charge" | "amount" => "decimal",
        "start_time" => "timestamp",
        _ => "text",
    };
    let mut message = String::from("message records {\n");
    for h in headers {
        let line = match kind(h) {
            "int64" => format!("  optional int64 {h};\n"),
            "decimal" if h == "charge" && charge_type == "double" => {
                format!("  optional double {h};\n")
            }
            "decimal" => format!("  optional int64 {h} (DECIMAL(18,6));\n"),
            "timestamp" => format!("  optional int64 {h} (TIMESTAMP(MILLIS,true));\n"),
            _ => format!("  optional binary {h} (UTF8);\n"),
        };
        message.push_str(&line);
    }
    message.push('}');
    let schema = Arc::new(parse_message_type(&message).unwrap());
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))
            .unwrap();
    for part in rows.chunks(rows.len().div_ceil(groups)) {
        let mut group = writer.next_row_group().unwrap();
        let mut index = 0;
        while let Some(mut column) = group.next_column().unwrap() {
            let name = &headers[index];
            let cells: Vec<&str> = part.iter().map(|r| &r[index]).collect();
            let defs: Vec<i16> = cells.iter().map(|c| i16::from(!c.is_empty())).collect();
            let present = cells.iter().filter(|c| !c.is_empty());
            match kind(name) {
                "text" => {
                    let values: Vec<ByteArray> = present
                        .map(|c| ByteArray::from(c.as_bytes().to_vec()))
                        .collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&values, Some(&defs), None)
                        .unwrap();
                }
                "timestamp" => {
                    let values: Vec<i64> = present
                        .map(|c| {
                            chrono::DateTime::parse_from_rfc3339(c)
                                .unwrap()
                                .timestamp_millis()
                        })
                        .collect();
                    column
                        .typed::<Int64Type>()
                        .write_batch(&values, Some(&defs), None)
                        .unwrap();
                }
                "decimal" if name == "charge" && charge_type == "double" => {
                    let values: Vec<f64> = present.map(|c| c.parse().unwrap()).collect();
                    column
                        .typed::<parquet::data_type::DoubleType>()
                        .write_batch(&values, Some(&defs), None)
                        .unwrap();
                }
                "decimal" => {
                    let values: Vec<i64> = present
                        .map(|c| crate::reference::micros(c) as i64)
                        .collect();
                    column
                        .typed::<Int64Type>()
                        .write_batch(&values, Some(&defs), None)
                        .unwrap();
                }
                _ => {
                    let values: Vec<i64> = present.map(|c| c.parse().unwrap()).collect();
                    column
                        .typed::<Int64Type>()
                        .write_batch(&values, Some(&defs), None)
                        .unwrap();
                }
            }
            column.close().unwrap();
            index += 1;
        }
        group.close().unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn parquet_records_render_the_same_attachments_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("records.parquet");
    write_fixture_parquet(&parquet, "decimal");
    let profile = fixture("profiles/everything.toml");
    let from_csv = dir.path().join("csv");
    ok(&acme_args(
        &profile,
        &fixture("records.csv"),
        from_csv.to_str().unwrap(),
    ));
    let from_parquet = dir.path().join("parquet");
    ok(&acme_args(
        &profile,
        parquet.to_str().unwrap(),
        from_parquet.to_str().unwrap(),
    ));
    let mut a = files(&from_csv);
    let mut b = files(&from_parquet);
    a.remove("manifest.json");
    b.remove("manifest.json");
    assert_eq!(a, b);
    let m = manifest(&from_parquet);
    assert_eq!(m["totals"], manifest(&from_csv)["totals"]);
    assert_eq!(m["input"]["records"], 31);
}

#[test]
fn row_groups_read_on_every_core_give_the_same_attachments_and_row_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (headers, mut rows) = fixture_rows();
    // An ACME call without a call id: rejected, named by its row number.
    let call_id = headers.iter().position(|h| h == "call_id").unwrap();
    let bad = rows
        .iter()
        .position(|r| &r[0] == "call" && &r[1] == "ACME" && r.len() > call_id)
        .unwrap()
        + 9;
    let mut fields: Vec<String> = rows[bad].iter().map(str::to_string).collect();
    assert_eq!(&fields[1], "ACME", "row {bad} is ACME's");
    fields[call_id].clear();
    rows[bad] = csv::StringRecord::from(fields);
    let parquet = dir.path().join("records.parquet");
    write_parquet(&parquet, &headers, &rows, "decimal", 4);
    let csv_file = dir.path().join("records.csv");
    let mut w = csv::Writer::from_path(&csv_file).unwrap();
    w.write_record(&headers).unwrap();
    for r in &rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    let profile = fixture("profiles/everything.toml");
    let render = |records: &Path, out: &Path| {
        let mut args = vec!["--jobs", "4"];
        args.extend(acme_args(
            &profile,
            records.to_str().unwrap(),
            out.to_str().unwrap(),
        ));
        args.extend(["--on-bad-record", "skip"]);
        ok(&args);
    };
    let (from_csv, from_parquet) = (dir.path().join("csv"), dir.path().join("parquet"));
    render(&csv_file, &from_csv);
    render(&parquet, &from_parquet);
    let mut a = files(&from_csv);
    let mut b = files(&from_parquet);
    for name in ["manifest.json", "rejects.csv"] {
        a.remove(name);
        b.remove(name);
    }
    assert_eq!(a, b);
    let rejects = csv_rows(&from_parquet.join("rejects.csv"));
    assert_eq!(rejects.len(), 2, "a header and one record: {rejects:?}");
    assert_eq!(rejects[0][1], "line");
    assert_eq!(rejects[1][1], (bad + 1).to_string(), "{rejects:?}");
    assert_eq!(manifest(&from_parquet)["input"], {
        let mut input = manifest(&from_csv)["input"].clone();
        input["files"] = manifest(&from_parquet)["input"]["files"].clone();
        input["rejects_file"] = manifest(&from_parquet)["input"]["rejects_file"].clone();
        // Lines are the CSV file's text lines; a Parquet file has none.
        input["lines"] = 0.into();
        input
    });
}

#[test]
fn floating_point_money_in_parquet_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("records.parquet");
    write_fixture_parquet(&parquet, "double");
    let out = dir.path().join("out");
    let stderr = fails(
        &acme_args(
            &fixture("profiles/everything.toml"),
            parquet.to_str().unwrap(),
            out.to_str().unwrap(),
        ),
        1,
    );
    assert_eq!(
        stderr,
        format!(
            "usage-report: {}: column charge is floating point (DOUBLE); amounts must be exact: store them as DECIMAL, integer or text\n",
            parquet.display()
        )
    );
}

/// A folder of records files reads as the files it holds, sorted by path:
/// the same attachments as the one file they were cut from, and a bad
/// record named by its real file and line.
#[test]
fn a_folder_of_records_files_reads_as_its_files_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("records.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let body: Vec<&str> = lines.collect();
    let parts = dir.path().join("data");
    std::fs::create_dir_all(parts.join("shard=1")).unwrap();
    std::fs::create_dir_all(parts.join("shard=0")).unwrap();
    let (first, second) = body.split_at(body.len() / 2);
    std::fs::write(
        parts.join("shard=0/part-00000.csv"),
        format!("{header}\n{}\n", first.join("\n")),
    )
    .unwrap();
    std::fs::write(
        parts.join("shard=1/part-00000.csv"),
        format!("{header}\n{}\n", second.join("\n")),
    )
    .unwrap();
    std::fs::write(parts.join("partition.json"), "{}").unwrap();
    std::fs::write(parts.join(".hidden"), "not records").unwrap();
    std::fs::write(parts.join("shard=0/_SUCCESS"), "").unwrap();
    let profile = fixture("profiles/everything.toml");
    let render = |records: &str, out: &Path| {
        let out_text = out.display().to_string();
        let mut args = acme_args(&profile, records, &out_text);
        args.extend(["--format", "csv,pdf"]);
        ok(&args);
        let mut files = files(out);
        files.remove("manifest.json");
        files
    };
    let whole = render(&fixture("records.csv"), &dir.path().join("whole"));
    let from_folder = render(parts.to_str().unwrap(), &dir.path().join("folder"));
    assert_eq!(whole, from_folder);
    let m = manifest(&dir.path().join("folder"));
    let listed: Vec<&str> = m["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(
        listed[0].ends_with("shard=0/part-00000.csv")
            && listed[1].ends_with("shard=1/part-00000.csv"),
        "{listed:?}"
    );
    // A bad record is named by its own file and line.
    std::fs::write(
        parts.join("shard=1/part-00001.csv"),
        format!(
            "{header}\n{}\n",
            second[0].replace(",outbound,", ",outbound,x")
        ),
    )
    .unwrap();
    let out = dir.path().join("bad");
    let said = fails(
        &acme_args(
            &fixture("profiles/everything.toml"),
            parts.to_str().unwrap(),
            out.to_str().unwrap(),
        ),
        1,
    );
    assert!(said.contains("shard=1/part-00001.csv:2:"), "{said}");
    // A folder without records is refused.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let said = fails(
        &acme_args(
            &fixture("profiles/everything.toml"),
            empty.to_str().unwrap(),
            out.to_str().unwrap(),
        ),
        2,
    );
    assert!(said.contains("the folder holds no records file"), "{said}");
}
