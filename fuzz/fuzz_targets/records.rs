//! Any bytes as a records file: the reader must return records or a clear
//! error, never panic, and always account for every record it saw.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usage_report::invoice::Invoice;
use usage_report::column::Projection;
use usage_report::records::{read_records, BadRecordPolicy, Input, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let invoice = Invoice::new(None, "ACME".into(), day("2026-10-01"), day("2026-11-01"), chrono_tz::UTC).unwrap();
    for policy in [BadRecordPolicy::Fail, BadRecordPolicy::Skip] {
        let options = ReadOptions { projection: Projection::all(), policy, by_customer: true, partition_files: false };
        let input = Input::Memory { name: "fuzz.csv".into(), bytes: data.to_vec().into() };
        if let Ok(outcome) = read_records(&[input], &invoice, &options) {
            let c = outcome.counts;
            assert_eq!(c.records, c.in_scope + c.out_of_scope + c.rejected);
        }
    }
});
