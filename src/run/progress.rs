//! What a billing run tells the person or pipeline watching it: a progress
//! bar on a terminal, plain log lines otherwise, JSON lines on request.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::{RunSummary, Status};
use crate::error::printable;

/// Something worth reporting.
pub enum Event<'a> {
    Reading {
        files: usize,
    },
    Read {
        records: u64,
        invoices: usize,
    },
    Invoice {
        invoice: &'a str,
        customer: &'a str,
        /// Its folder in the run's output, when it has one.
        folder: Option<&'a str>,
        status: Status,
        records: u64,
        reason: Option<&'a str>,
        /// The bad record that failed it, if one did.
        bad_record: Option<&'a crate::error::RecordProblem>,
    },
    Done {
        summary: &'a RunSummary,
    },
}

/// Receives events from any thread.
pub trait Reporter: Sync {
    fn event(&self, event: Event<'_>);
}

/// How to report, from `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// A progress bar on a terminal, plain lines otherwise.
    Text,
    /// One JSON object per line on standard error.
    Json,
}

/// Builds the reporter for a log format and the current standard error.
pub fn reporter(format: LogFormat) -> Box<dyn Reporter> {
    match format {
        LogFormat::Json => Box::new(JsonLines {
            start: Instant::now(),
        }),
        LogFormat::Text if std::io::stderr().is_terminal() => Box::new(Bar::new()),
        LogFormat::Text => Box::new(Lines {
            start: Instant::now(),
        }),
    }
}

fn status_key(status: Status) -> &'static str {
    match status {
        Status::Rendered => "rendered",
        Status::Unchanged => "unchanged",
        Status::NoProfile => "no_profile",
        Status::Refused => "refused",
        Status::Failed => "failed",
    }
}

/// Plain lines, for logs that are not a terminal.
struct Lines {
    start: Instant,
}

impl Reporter for Lines {
    fn event(&self, event: Event<'_>) {
        let secs = self.start.elapsed().as_secs_f64();
        let line = match event {
            Event::Reading { files } => format!("reading {files} records file(s)"),
            Event::Read { records, invoices } => {
                format!("read {records} records in {secs:.1}s ({:.0} records/s); rendering {invoices} invoices", records as f64 / secs.max(1e-9))
            }
            Event::Invoice {
                invoice,
                status,
                records,
                reason,
                ..
            } => match reason {
                Some(r) => format!("{invoice}: {} ({records} records): {r}", status_key(status)),
                None => format!("{invoice}: {} ({records} records)", status_key(status)),
            },
            Event::Done { summary } => format!(
                "done in {secs:.1}s: {} rendered, {} unchanged, {} no profile, {} refused, {} failed",
                summary.rendered, summary.unchanged, summary.no_profile, summary.refused, summary.failed
            ),
        };
        let _ = writeln!(std::io::stderr(), "usage-report: {}", printable(&line));
    }
}

/// JSON lines for pipelines that collect structured logs: every line has
/// `time` (RFC 3339, UTC), `level` (`info`, `warn`, `error`) and `event`;
/// invoice events name the invoice, customer and folder, and a failure by
/// a bad record carries it as `error: {file, line, column, reason}`.
struct JsonLines {
    start: Instant,
}

/// Now, as JSON lines stamp it.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Reporter for JsonLines {
    fn event(&self, event: Event<'_>) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let time = now();
        let value = match event {
            Event::Reading { files } => serde_json::json!({
                "time": time, "level": "info", "event": "reading", "files": files,
                "elapsed_s": elapsed
            }),
            Event::Read { records, invoices } => serde_json::json!({
                "time": time, "level": "info", "event": "read", "records": records,
                "invoices": invoices, "elapsed_s": elapsed
            }),
            Event::Invoice {
                invoice,
                customer,
                folder,
                status,
                records,
                reason,
                bad_record,
            } => {
                let level = match status {
                    Status::Rendered | Status::Unchanged | Status::NoProfile => "info",
                    Status::Refused => "warn",
                    Status::Failed => "error",
                };
                serde_json::json!({
                    "time": time, "level": level, "event": "invoice", "invoice": invoice,
                    "customer": customer, "folder": folder, "status": status_key(status),
                    "records": records, "reason": reason, "error": bad_record,
                    "elapsed_s": elapsed
                })
            }
            Event::Done { summary } => {
                let level = if summary.failed > 0 {
                    "error"
                } else if summary.refused > 0 {
                    "warn"
                } else {
                    "info"
                };
                serde_json::json!({
                    "time": time, "level": level, "event": "done", "summary": summary,
                    "elapsed_s": elapsed
                })
            }
        };
        let _ = writeln!(std::io::stderr(), "{value}");
    }
}

/// The error that stopped a command, as the log format wants it: a line of
/// text, or under JSON one object (`event: "fatal"`, the message, and
/// `error: {file, line, column, reason}` when a record is at fault).
pub fn fatal(format: LogFormat, error: &crate::error::Error) {
    match format {
        LogFormat::Text => eprintln!("usage-report: {error}"),
        LogFormat::Json => {
            let record = match error {
                crate::error::Error::Record(problem) => Some(problem),
                _ => None,
            };
            let value = serde_json::json!({
                "time": now(), "level": "error", "event": "fatal",
                "message": error.to_string(), "error": record,
                "exit_code": error.exit_code(),
            });
            eprintln!("{value}");
        }
    }
}

/// A progress bar for people at a terminal.
struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    start: Instant,
}

impl Bar {
    fn new() -> Bar {
        Bar {
            bar: Mutex::new(None),
            start: Instant::now(),
        }
    }
}

impl Reporter for Bar {
    fn event(&self, event: Event<'_>) {
        let mut slot = self.bar.lock().expect("no panics while reporting");
        match event {
            Event::Reading { files } => {
                let spinner = ProgressBar::new_spinner();
                spinner.set_message(format!("reading {files} records file(s)…"));
                spinner.enable_steady_tick(std::time::Duration::from_millis(120));
                *slot = Some(spinner);
            }
            Event::Read { records, invoices } => {
                if let Some(s) = slot.take() {
                    let secs = self.start.elapsed().as_secs_f64();
                    s.finish_with_message(format!("read {records} records in {secs:.1}s"));
                }
                let bar = ProgressBar::new(invoices as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} invoices  {per_sec}  ETA {eta}  {msg}",
                    )
                    .expect("a valid template"),
                );
                *slot = Some(bar);
            }
            Event::Invoice {
                invoice,
                status,
                reason,
                ..
            } => {
                if let Some(bar) = slot.as_ref() {
                    if status == Status::Failed || status == Status::Refused {
                        bar.println(printable(&format!(
                            "{invoice}: {}: {}",
                            status_key(status),
                            reason.unwrap_or("")
                        )));
                    }
                    bar.set_message(printable(invoice).into_owned());
                    bar.inc(1);
                }
            }
            Event::Done { summary } => {
                if let Some(bar) = slot.take() {
                    bar.finish_with_message(format!(
                        "{} rendered, {} unchanged, {} no profile, {} refused, {} failed",
                        summary.rendered,
                        summary.unchanged,
                        summary.no_profile,
                        summary.refused,
                        summary.failed
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn data_cannot_forge_log_lines() {
        assert_eq!(printable("INV-1"), "INV-1");
        assert_eq!(
            printable("INV\nusage-report: done\u{1b}[31m"),
            "INV\\nusage-report: done\\u{1b}[31m"
        );
    }
}
