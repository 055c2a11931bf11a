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
    let mut reader = csv::Reader::from_path(root().join("fixtures/records.csv")).unwrap();
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let kind = |name: &str| match name {
        "duration" | "billed_duration" => "int64",
        "charge" | "amount" => "decimal",
        "start_time" => "timestamp",
        _ => "text",
    };
    let mut message = String::from("message records {\n");
    for h in &headers {
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
    let mut group = writer.next_row_group().unwrap();
    let mut index = 0;
    while let Some(mut column) = group.next_column().unwrap() {
        let name = &headers[index];
        let cells: Vec<&str> = rows.iter().map(|r| &r[index]).collect();
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
