//! Parquet reading against the CSV reader, types, row groups and corrupt
//! files.

use super::*;
use parquet::data_type::{BoolType, ByteArrayType, FixedLenByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use std::sync::Arc;

/// Every column type decoded a chunk at a time, in two row groups, with
/// nulls, negatives and required columns.
const SCHEMA: &str = "message m {
    optional binary text (UTF8);
    required binary raw;
    optional int32 i32;
    required int64 i64;
    optional int32 day (DATE);
    optional int32 d32 (DECIMAL(9,2));
    optional int64 d64 (DECIMAL(18,6));
    optional fixed_len_byte_array(16) dflba (DECIMAL(38,6));
    optional binary dbin (DECIMAL(20,3));
    optional int64 tsms (TIMESTAMP(MILLIS,true));
    optional int64 tsus (TIMESTAMP(MICROS,true));
    optional boolean flag;
}";

fn file() -> Bytes {
    let schema = Arc::new(parquet::schema::parser::parse_message_type(SCHEMA).unwrap());
    let mut out = Vec::new();
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(&mut out, schema, props).unwrap();
    for group_index in 0..2i64 {
        let mut group = writer.next_row_group().unwrap();
        // Rows 0..5 of this group; odd rows are null in optional columns.
        let defs: Vec<i16> = (0..5).map(|r| i16::from(r % 2 == 0)).collect();
        let present = |n: usize| (0..n).step_by(2).collect::<Vec<_>>();
        let k = group_index * 10;
        let mut c = 0;
        while let Some(mut column) = group.next_column().unwrap() {
            let opt = Some(&defs[..]);
            match c {
                0 => column.typed::<ByteArrayType>().write_batch(
                    &present(5)
                        .iter()
                        .map(|r| ByteArray::from(format!("Zoë {r}").as_str()))
                        .collect::<Vec<_>>(),
                    opt,
                    None,
                ),
                1 => column.typed::<ByteArrayType>().write_batch(
                    &(0..5)
                        .map(|r| ByteArray::from(vec![b'a' + r as u8, 0xC3, 0xA9]))
                        .collect::<Vec<_>>(),
                    None,
                    None,
                ),
                2 => column
                    .typed::<Int32Type>()
                    .write_batch(&[-7, 0, 2_147_483_647], opt, None),
                3 => column.typed::<Int64Type>().write_batch(
                    &[k, -1, i64::MAX, i64::MIN, 42],
                    None,
                    None,
                ),
                4 => column
                    .typed::<Int32Type>()
                    .write_batch(&[0, 20_388, -1], opt, None),
                5 => column
                    .typed::<Int32Type>()
                    .write_batch(&[-5, 12_345, 999_999_999], opt, None),
                6 => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(&[-5, 1_234_567, 35_000 + k], opt, None)
                }
                7 => column.typed::<FixedLenByteArrayType>().write_batch(
                    &[-1i128, 2_592_576, 10i128.pow(30)].map(|v| {
                        FixedLenByteArray::from(ByteArray::from(v.to_be_bytes().to_vec()))
                    }),
                    opt,
                    None,
                ),
                8 => column.typed::<ByteArrayType>().write_batch(
                    &[vec![0x80u8], vec![0x01, 0x00], vec![0x00]].map(ByteArray::from),
                    opt,
                    None,
                ),
                9 => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(&[0, 1_793_000_000_123, -1], opt, None)
                }
                10 => column.typed::<Int64Type>().write_batch(
                    &[1_793_000_000_123_456, 5, 0],
                    opt,
                    None,
                ),
                _ => column
                    .typed::<BoolType>()
                    .write_batch(&[true, false, true], opt, None),
            }
            .unwrap();
            column.close().unwrap();
            c += 1;
        }
        group.close().unwrap();
    }
    writer.close().unwrap();
    Bytes::from(out)
}

/// Files the fuzzer made: a column chunk pointing outside the file, and
/// pages the parquet crate panics on. Both are errors naming the file.
#[test]
fn corrupt_files_are_errors_not_crashes() {
    use crate::column::Projection;
    use crate::records::{read_records, test_router::All, BadRecordPolicy};
    let invoice = All;
    for (name, bytes, says) in [
        (
            "corrupt-offsets.parquet",
            &include_bytes!("../../../tests/data/corrupt-offsets.parquet")[..],
            "its data lies outside the file",
        ),
        (
            // Depending on which row group fails first: a decoding error,
            // or the crate's panic "Decoder for dict should have been set".
            "corrupt-pages.parquet",
            &include_bytes!("../../../tests/data/corrupt-pages.parquet")[..],
            "",
        ),
    ] {
        for policy in [BadRecordPolicy::Fail, BadRecordPolicy::Skip] {
            let options = ReadOptions {
                projection: Projection::all(),
                policy,
                by_customer: true,
                partition_files: false,
            };
            let input = Input::Memory {
                name: name.into(),
                bytes: bytes.into(),
            };
            let e = read_records(&[input], &invoice, &options)
                .err()
                .unwrap_or_else(|| panic!("{name} was read"))
                .to_string();
            assert!(
                e.starts_with(&format!("{name}: ")) && e.contains(says),
                "{e}"
            );
        }
    }
}

#[test]
fn a_decoder_panic_becomes_an_error_about_the_file() {
    let path = std::path::Path::new("x.parquet");
    let e = contained(path, || -> Result<()> { panic!("bad page") }).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.parquet: not a readable Parquet file: bad page"
    );
    let e = contained(path, || -> Result<()> { panic!("{} pages", 2) }).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.parquet: not a readable Parquet file: 2 pages"
    );
    assert_eq!(contained(path, || Ok(7)).unwrap(), 7);
    assert!(!DECODING.get(), "the flag is cleared after decoding");
}

#[test]
fn columns_decode_to_the_record_apis_text() {
    let reader = SerializedFileReader::new(file()).unwrap();
    let fields = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .to_vec();
    // Every column but the boolean is decoded a chunk at a time.
    let decodes: Vec<Option<Decode>> = fields.iter().map(|f| Decode::of(f)).collect();
    assert!(decodes[..11].iter().all(Option::is_some), "{decodes:?}");
    assert!(decodes[11].is_none());

    let mut by_record = Vec::new();
    let mut text = String::new();
    let eleven: Vec<TypePtr> = fields[..11].to_vec();
    let projection = Type::group_type_builder("m")
        .with_fields(eleven)
        .build()
        .unwrap();
    for row in reader.get_row_iter(Some(projection)).unwrap() {
        let mut record = csv::ByteRecord::new();
        row_record(&row.unwrap(), &mut text, &mut record);
        by_record.push(record);
    }
    let mut by_chunk = Vec::new();
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).unwrap();
        let mut chunks: Vec<Chunk> = (0..11)
            .map(|leaf| Chunk::read(group.as_ref(), leaf, decodes[leaf].unwrap(), 5).unwrap())
            .collect();
        for _ in 0..5 {
            let mut record = csv::ByteRecord::new();
            for chunk in &mut chunks {
                chunk.push_next(&mut text, &mut record);
            }
            by_chunk.push(record);
        }
    }
    assert_eq!(by_chunk.len(), 10);
    assert_eq!(by_chunk, by_record);
    // Spot checks of the text itself.
    let first = &by_chunk[0];
    assert_eq!(&first[0], "Zoë 0".as_bytes());
    assert_eq!(&first[4], b"1970-01-01");
    assert_eq!(&first[5], b"-0.05");
    assert_eq!(&first[7], b"-0.000001");
    assert_eq!(&first[8], b"-0.128");
    assert_eq!(&first[9], b"1970-01-01T00:00:00Z");
    assert_eq!(&by_chunk[1][2], b"");
}

#[test]
fn decimals_keep_every_digit() {
    let mut s = String::new();
    decimal_text(&12345i32.to_be_bytes(), 4, &mut s);
    assert_eq!(s, "1.2345");
    let mut t = String::new();
    decimal_text(&(-5i64).to_be_bytes(), 3, &mut t);
    assert_eq!(t, "-0.005");
    let mut u = String::new();
    decimal_text(&[0x01, 0x00], 0, &mut u);
    assert_eq!(u, "256");
}
