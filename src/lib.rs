//! # usage-report
//!
//! Renders the usage reports attached to telecom invoices.
//!
//! The pipeline: a [`Profile`](profile::Profile) (which report types appear
//! at each level and which columns they show) and a stream of rated call and
//! transaction records go in; the records are read under the profile's
//! projection and routed to their invoice ([`records`]); each selected report
//! is grouped and totalled once, in parallel, into the
//! [`InvoiceReports`](report::InvoiceReports) model ([`report`]), which is
//! checked to reconcile with the invoice totals; one renderer per format walks
//! that model ([`render`]); files are written atomically with their hashes
//! ([`output`]), and `manifest.json` last ([`manifest`]).
//!
//! ```
//! use usage_report::{invoice::Invoice, profile::Profile, records::{Input, BadRecordPolicy}};
//! use usage_report::pipeline::{render, InvoiceJob, RenderJob};
//! use usage_report::render::{Format, RenderOptions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let records = dir.path().join("records.csv");
//! std::fs::write(&records, "record_type,customer_id,site,call_id,start_time,duration,charge\n\
//!     call,ACME,London,c1,2026-10-02T09:00:00Z,61,0.0183\n\
//!     call,ACME,Leeds,c2,2026-10-03T10:00:00Z,30,0.01\n").unwrap();
//! let profile = Profile::parse(r#"
//!     name = "Site summary"
//!     [reports]
//!     site = ["summary"]
//! "#, false, "inline").unwrap();
//! let from = "2026-10-01".parse().unwrap();
//! let to = "2026-11-01".parse().unwrap();
//! let invoice = Invoice::new(Some("INV-1".into()), "ACME".into(), from, to, chrono_tz::UTC).unwrap();
//! let manifest = render(&RenderJob {
//!     invoice: InvoiceJob {
//!         profile: &profile,
//!         invoice: &invoice,
//!         formats: &[Format::Csv],
//!         options: RenderOptions::default(),
//!         itemisation: true,
//!         sample: None,
//!         out_dir: &dir.path().join("out"),
//!     },
//!     inputs: &[Input::Path(records)],
//!     policy: BadRecordPolicy::Fail,
//!     dedupe: false,
//! }).unwrap();
//! assert_eq!(manifest.totals.call_charge, "0.0283");
//! assert_eq!(manifest.attachments[0].path, "site_summary.csv");
//! ```

pub mod column;
pub mod compare;
pub mod csv_field;
pub mod error;
pub mod fault;
pub mod gen;
pub mod hash;
pub mod invoice;
pub mod level;
pub mod locale;
pub mod manifest;
pub mod money;
pub mod output;
pub mod pipeline;
pub mod profile;
pub mod records;
pub mod render;
pub mod report;
pub mod rerender;
pub mod run;
pub mod sample;
#[cfg(feature = "serve")]
pub mod serve;

pub use error::{Error, Result};
