//! Stage benchmarks of the engine, each reporting throughput (records, rows
//! or cells per second) on seeded generated input.
//!
//! Run in release (criterion does):
//!
//!     cargo bench --bench pipeline                         # everything
//!     cargo bench --bench pipeline -- xlsx                 # one group
//!     cargo bench --bench pipeline -- --save-baseline main # record a baseline
//!     cargo bench --bench pipeline -- --baseline main      # compare with it
//!
//! Groups: `read` (CSV parse + validate + route), `group` (grouping and totals
//! per level), `csv`, `xlsx` (next to `rust_xlsxwriter` alone writing the same
//! cells: the floor), `pdf`, and `end_to_end` (file in, attachments out).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rust_xlsxwriter::{Format as XlsxFormat, Workbook};

use usage_report::gen::{generate, GenSpec};
use usage_report::invoice::Invoice;
use usage_report::output::OutputDir;
use usage_report::pipeline::{render, InvoiceJob, RenderJob};
use usage_report::profile::Profile;
use usage_report::records::{read_records, BadRecordPolicy, Dataset, Input, ReadOptions, Router};
use usage_report::render::{Format, RenderOptions};
use usage_report::report::InvoiceReports;

/// Routes every record to one dataset (the benchmarks measure the engine,
/// not the scope rule).
struct Everything;

impl Router for Everything {
    fn invoices(&self) -> usize {
        1
    }
    fn serves(&self, _: &str) -> bool {
        true
    }
    fn route_call(&self, _: &str, _: DateTime<Utc>) -> Option<usize> {
        Some(0)
    }
    fn route_transaction(&self, _: &str, _: NaiveDate) -> Option<usize> {
        Some(0)
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn records_file(dir: &Path, calls: u64, customers: u32) -> std::path::PathBuf {
    let path = dir.join(format!("calls-{calls}-{customers}.csv"));
    let spec = GenSpec {
        calls,
        customers,
        seed: 42,
        from: day("2026-10-01"),
        to: day("2026-11-01"),
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    generate(&spec, &mut file).unwrap();
    path
}

fn profile(text: &str) -> Profile {
    Profile::parse(text, false, "bench").unwrap()
}

const EVERYTHING: &str = include_str!("../fixtures/profiles/everything.toml");

fn load(path: &Path, profile: &Profile) -> Dataset {
    let options = ReadOptions {
        projection: profile.projection(),
        policy: BadRecordPolicy::Fail,
        by_customer: false,
        partition_files: false,
    };
    let mut outcome =
        read_records(&[Input::Path(path.to_path_buf())], &Everything, &options).unwrap();
    outcome.datasets.pop().unwrap()
}

fn invoice() -> Invoice {
    Invoice::new(
        Some("BENCH-1".into()),
        "CUST00001".into(),
        day("2026-10-01"),
        day("2026-11-01"),
        chrono_tz::UTC,
    )
    .unwrap()
}

fn read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = records_file(dir.path(), 200_000, 20);
    let records = 200_000 + 20 * 30;
    let all = profile(EVERYTHING);
    let one_line = profile("name = \"One line\"\n[reports]\ncustomer = [\"summary\"]\n");
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(records));
    group.sample_size(10);
    for (name, p) in [("all_columns", &all), ("summary_projection", &one_line)] {
        group.bench_function(name, |b| b.iter(|| load(&path, p)));
    }
    group.finish();
}

fn grouping(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = records_file(dir.path(), 200_000, 1);
    let all = profile(EVERYTHING);
    let data = load(&path, &all);
    let inv = invoice();
    let mut group = c.benchmark_group("group");
    group.throughput(Throughput::Elements(data.calls.len() as u64));
    group.sample_size(10);
    for level in ["customer", "site", "campaign", "number"] {
        let p = profile(&format!(
            "name = \"L\"\ncall_columns = [\"call_id\", \"charge\"]\n[reports]\n{level} = [\"summary\", \"call_types\", \"calls\"]\n"
        ));
        group.bench_with_input(BenchmarkId::from_parameter(level), &p, |b, p| {
            b.iter(|| InvoiceReports::build(&inv, p, &data).unwrap().reports.len())
        });
    }
    group.bench_function("all_levels_all_reports", |b| {
        b.iter(|| {
            InvoiceReports::build(&inv, &all, &data)
                .unwrap()
                .reports
                .len()
        })
    });
    group.finish();
}

fn csv(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = records_file(dir.path(), 200_000, 1);
    let all = profile(EVERYTHING);
    let data = load(&path, &all);
    let inv = invoice();
    let reports = InvoiceReports::build(&inv, &all, &data).unwrap();
    let rows: u64 = reports.reports.iter().map(|r| r.row_count()).sum();
    let out = OutputDir::create(&dir.path().join("csv")).unwrap();
    let renderer = Format::Csv.renderer(&RenderOptions::default());
    let mut group = c.benchmark_group("csv");
    group.throughput(Throughput::Elements(rows));
    group.sample_size(10);
    group.bench_function("everything_profile_rows", |b| {
        b.iter(|| renderer.render(&reports, &out).unwrap())
    });
    group.finish();
}

const XLSX_ROWS: u64 = 1_000_000;
const XLSX_PROFILE: &str =
    "name = \"Calls\"\ncall_columns = [\"call_id\", \"start_time\", \"dialled\", \"duration\", \"charge\"]\n[reports]\ncustomer = [\"calls\"]\n";

fn xlsx(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = records_file(dir.path(), XLSX_ROWS, 1);
    let p = profile(XLSX_PROFILE);
    let data = load(&path, &p);
    let inv = invoice();
    let reports = InvoiceReports::build(&inv, &p, &data).unwrap();
    let columns = reports.reports[0].columns.len() as u64;
    let cells = data.calls.len() as u64 * columns;
    let out = OutputDir::create(&dir.path().join("xlsx")).unwrap();
    let renderer = Format::Xlsx.renderer(&RenderOptions::default());
    let mut group = c.benchmark_group("xlsx");
    group.throughput(Throughput::Elements(cells));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(40));
    group.bench_function("engine_1m_rows_cells", |b| {
        b.iter(|| renderer.render(&reports, &out).unwrap())
    });
    // The floor: rust_xlsxwriter alone, constant memory, the same typed cells
    // (formats set once per column, as the engine does).
    let calls = &data.calls;
    let strings = &data.strings;
    group.bench_function("rust_xlsxwriter_alone_cells", |b| {
        b.iter(|| {
            let mut workbook = Workbook::new();
            workbook.set_tempdir(dir.path()).unwrap();
            let money = XlsxFormat::new().set_num_format("#,##0.00");
            let time = XlsxFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
            let duration = XlsxFormat::new().set_num_format("[h]:mm:ss");
            let sheet = workbook.add_worksheet_with_constant_memory().unwrap();
            sheet.set_column_format(2, &time).unwrap();
            sheet.set_column_format(4, &duration).unwrap();
            sheet.set_column_format(5, &money).unwrap();
            for (i, call) in calls.iter().enumerate() {
                let r = i as u32 + 1;
                sheet.write_string(r, 0, "CUST00001").unwrap();
                sheet.write_string(r, 1, strings.get(call.call_id)).unwrap();
                let serial = call.start.timestamp() as f64 / 86_400.0 + 25_569.0;
                sheet.write_number(r, 2, serial).unwrap();
                sheet.write_string(r, 3, strings.get(call.dialled)).unwrap();
                sheet
                    .write_number(r, 4, call.duration as f64 / 86_400.0)
                    .unwrap();
                sheet
                    .write_number(r, 5, call.charge.to_f64_lossy())
                    .unwrap();
            }
            workbook.set_zip_compression_level(3);
            workbook.save_to_writer(std::io::sink()).unwrap();
        })
    });
    group.finish();
}

/// The records of `path` with every third call's destination in Japanese
/// or Arabic, alternately: text that is shaped, set right to left or drawn
/// from the fallback faces.
fn with_other_scripts(path: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let column = header.split(',').position(|h| h == "destination").unwrap();
    let mut out = format!("{header}\n");
    for (i, line) in lines.enumerate() {
        if line.starts_with("call,") && i % 3 == 0 {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields[column] = if i % 2 == 0 {
                "東京 日本"
            } else {
                "القاهرة مصر"
            };
            out.push_str(&fields.join(","));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let mixed = path.with_extension("scripts.csv");
    std::fs::write(&mixed, out).unwrap();
    mixed
}

fn pdf(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let latin = records_file(dir.path(), 100_000, 1);
    let mixed = with_other_scripts(&latin);
    let p = profile(
        "name = \"Calls\"\ncall_columns = [\"call_id\", \"start_time\", \"caller\", \"dialled\", \"destination\", \"call_type\", \"duration\", \"billed_duration\", \"charge\"]\n[reports]\ncustomer = [\"calls\"]\n",
    );
    let inv = invoice();
    let out = OutputDir::create(&dir.path().join("pdf")).unwrap();
    let renderer = Format::Pdf.renderer(&RenderOptions::default());
    let mut group = c.benchmark_group("pdf");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    // Rows per second: Latin text only, and a third of the rows in other
    // scripts.
    for (name, path) in [
        ("itemised_100k_rows", &latin),
        ("itemised_100k_rows_third_cjk_arabic", &mixed),
    ] {
        let data = load(path, &p);
        let reports = InvoiceReports::build(&inv, &p, &data).unwrap();
        group.throughput(Throughput::Elements(data.calls.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| renderer.render(&reports, &out).unwrap())
        });
    }
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = records_file(dir.path(), 200_000, 1);
    let all = profile(EVERYTHING);
    let inv = invoice();
    let inputs = [Input::Path(path)];
    let mut group = c.benchmark_group("end_to_end");
    group.throughput(Throughput::Elements(200_000));
    group.sample_size(10);
    group.bench_function("render_csv_everything_200k_calls", |b| {
        b.iter(|| {
            render(&RenderJob {
                invoice: InvoiceJob {
                    profile: &all,
                    invoice: &inv,
                    formats: &[Format::Csv],
                    options: RenderOptions::default(),
                    itemisation: true,
                    sample: None,
                    out_dir: &dir.path().join("e2e"),
                },
                inputs: &inputs,
                policy: BadRecordPolicy::Fail,
                dedupe: false,
            })
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, read, grouping, csv, xlsx, pdf, end_to_end);
criterion_main!(benches);
