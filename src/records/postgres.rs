//! Records straight from PostgreSQL: `postgresql://USER@HOST[:PORT]/DB?table=NAME`
//! (or `&query=SELECT …`) streams rows with `COPY (…) TO STDOUT` as CSV
//! into the same reader and validation as a CSV file, so values arrive as
//! text (numerics exact, dates ISO, times in UTC) and errors name the source
//! and row: "postgresql table usage_records, row 10423: column charge: …".
//!
//! Rows come in the server's order unless `&order=col1,col2` orders them
//! (for row numbers, and the record `--dedupe` keeps, that never change).
//! Only the columns the read needs are selected, and only the rows of the
//! customers the read serves when it serves a known few (a render's
//! customer, a run's or a shard's customers), so the server filters.
//! Credentials come from the URL or the standard `PGUSER`, `PGPASSWORD`,
//! `PGHOST`, `PGPORT` and `PGDATABASE` variables, and are never part of a
//! message: a source is named by its table ("postgresql table NAME") or as
//! "postgresql query". Connections are plain TCP or a Unix socket (no TLS
//! in this build: reach a remote server through a TLS tunnel).

use std::io::BufRead;

use super::header::{CALL_REQUIRED, TRANSACTION_REQUIRED};
use super::input::Input;
use super::reader::{Destination, ReadOptions, ReadOutcome};
use super::Router;
use crate::column::{Applies, Column};
use crate::error::{Error, Result};

/// Most customers a read names in its filter; beyond that the server
/// sends every row and the reader counts the others out of scope.
const MOST_FILTERED_CUSTOMERS: usize = 10_000;

/// A PostgreSQL records source, parsed from its URL.
#[derive(Clone, PartialEq, Eq)]
pub struct PgSource {
    /// The connection settings (a secret: may hold the password).
    config: String,
    relation: Relation,
    /// Columns to order the rows by (`&order=a,b`), so row numbers and the
    /// record `--dedupe` keeps are the same on every read.
    order: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Relation {
    Table(String),
    Query(String),
}

/// Never shows the connection settings.
impl std::fmt::Debug for PgSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSource")
            .field("relation", &self.relation)
            .finish_non_exhaustive()
    }
}

impl PgSource {
    /// Whether a `--records` argument is a PostgreSQL URL.
    pub fn is_url(arg: &str) -> bool {
        arg.starts_with("postgresql://") || arg.starts_with("postgres://")
    }

    /// Parses `postgresql://…?table=NAME` or `…?query=SELECT …`; other
    /// parameters (`sslmode`, `connect_timeout`, `application_name`, …)
    /// are the driver's. Messages never repeat the URL.
    pub fn parse(url: &str) -> Result<PgSource> {
        let bad = |why: &str| Error::Usage(format!("--records postgresql://…: {why}"));
        let (base, params) = url.split_once('?').unwrap_or((url, ""));
        let mut table = None;
        let mut query = None;
        let mut order = Vec::new();
        let mut others = form_urlencoded::Serializer::new(String::new());
        for (key, value) in form_urlencoded::parse(params.as_bytes()) {
            let once = |slot: &Option<String>| match slot {
                Some(_) => Err(bad(&format!("?{key}= is given twice"))),
                None => Ok(Some(value.to_string())),
            };
            match &*key {
                "table" => table = once(&table)?,
                "query" => query = once(&query)?,
                "order" => {
                    order = value
                        .split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect()
                }
                _ => {
                    others.append_pair(&key, &value);
                }
            }
        }
        let relation = match (table, query) {
            (Some(t), None) if !t.trim().is_empty() => Relation::Table(t),
            (None, Some(q)) if !q.trim().is_empty() => Relation::Query(q),
            (Some(_), Some(_)) => return Err(bad("give ?table=NAME or ?query=SELECT …, not both")),
            _ => {
                return Err(bad(
                    "say what to read: ?table=NAME or ?query=SELECT … (URL-encoded)",
                ))
            }
        };
        let others = others.finish();
        let config = if others.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{others}")
        };
        config
            .parse::<postgres::Config>()
            .map_err(|e| bad(&format!("not a valid connection URL: {e}")))?;
        Ok(PgSource {
            config,
            relation,
            order,
        })
    }

    /// How messages and manifests name the source.
    pub fn name(&self) -> String {
        match &self.relation {
            Relation::Table(t) => format!("postgresql table {t}"),
            Relation::Query(_) => "postgresql query".to_string(),
        }
    }

    /// The settings of the URL, completed from the `PG*` variables.
    fn connection(&self) -> postgres::Config {
        let mut config: postgres::Config = self.config.parse().expect("checked when parsed");
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if config.get_hosts().is_empty() {
            config.host(&var("PGHOST").unwrap_or_else(|| "localhost".into()));
        }
        if config.get_ports().is_empty() {
            if let Some(port) = var("PGPORT").and_then(|p| p.parse().ok()) {
                config.port(port);
            }
        }
        if config.get_user().is_none() {
            if let Some(user) = var("PGUSER").or_else(|| var("USER")) {
                config.user(&user);
            }
        }
        if config.get_password().is_none() {
            if let Some(password) = var("PGPASSWORD") {
                config.password(password);
            }
        }
        if config.get_dbname().is_none() {
            if let Some(db) = var("PGDATABASE") {
                config.dbname(&db);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("usage-report");
        }
        config
    }
}

/// A name as an SQL identifier: `schema.table` → `"schema"."table"`, each
/// part quoted (a quote doubled), so no name can be read as SQL.
fn identifier(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// Text as an SQL string literal (with `standard_conforming_strings` on).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether a read needs a column: the profile's, the ones every record
/// needs, and the legs' (checked whatever the profile shows).
fn needed(column: Column, options: &ReadOptions) -> bool {
    column.applies() != Applies::Measure
        && (options.projection.contains(column)
            || CALL_REQUIRED.contains(&column)
            || TRANSACTION_REQUIRED.contains(&column)
            || matches!(
                column,
                Column::RecordType | Column::CustomerId | Column::Leg | Column::CallGroup
            ))
}

/// Whether a column holds an amount or a count that must be exact.
fn exact(column: Column) -> bool {
    matches!(
        column,
        Column::Duration
            | Column::BilledDuration
            | Column::Rate
            | Column::Charge
            | Column::Quantity
            | Column::UnitPrice
            | Column::Amount
    )
}

/// Reads a PostgreSQL source: the needed columns of the table or query,
/// filtered to the customers the router serves when they are few, as CSV.
pub(super) fn read_postgres<D: Destination>(
    source: &PgSource,
    input: &Input,
    router: &dyn Router,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    destination: &mut D,
) -> Result<bool> {
    let name = source.name();
    let refused = |what: &str, e: postgres::Error| {
        Error::input(
            &name,
            format!(
                "{what}: {}",
                e.as_db_error().map_or(e.to_string(), |db| {
                    format!("{}: {}", db.severity(), db.message())
                })
            ),
        )
    };
    let mut client = source
        .connection()
        .connect(postgres::NoTls)
        .map_err(|e| refused("cannot connect to the server", e))?;
    client
        .batch_execute(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET standard_conforming_strings = on; SET client_encoding = 'UTF8'",
        )
        .map_err(|e| refused("cannot set up the session", e))?;
    let relation = match &source.relation {
        Relation::Table(t) => identifier(t),
        // On a line of its own: a query ending in a `--` comment still ends.
        Relation::Query(q) => format!("({q}\n) AS usage_records_query"),
    };
    // The columns the source has, without running it.
    let probe = client
        .prepare(&format!("SELECT * FROM {relation}"))
        .map_err(|e| refused("the server refused the query", e))?;
    let mut select = Vec::new();
    let mut has_customer = false;
    for field in probe.columns() {
        let Some(column) = Column::from_key(field.name()) else {
            continue;
        };
        if !needed(column, options) {
            continue;
        }
        has_customer |= column == Column::CustomerId;
        let quoted = identifier(field.name());
        let ty = field.type_();
        if exact(column)
            && matches!(
                *ty,
                postgres::types::Type::FLOAT4 | postgres::types::Type::FLOAT8
            )
        {
            return Err(Error::input(
                &name,
                format!(
                    "column {} is {} (floating point); amounts and durations must be exact: numeric, integer or text",
                    field.name(),
                    ty.name()
                ),
            ));
        }
        select.push(if *ty == postgres::types::Type::TIMESTAMPTZ {
            // RFC 3339 in UTC, as the reader expects; a time before year 1
            // or an infinity keeps the server's text, which the reader
            // refuses for the row.
            format!(
                "CASE WHEN NOT isfinite({quoted}) OR {quoted} < '0001-01-01T00:00:00Z' THEN {quoted}::text \
                 ELSE to_char({quoted} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END AS {quoted}"
            )
        } else {
            quoted
        });
    }
    if select.is_empty() {
        return Err(Error::input(
            &name,
            "has no column of the records schema (record_type, customer_id, …)",
        ));
    }
    let filter = router
        .customers()
        .filter(|c| has_customer && c.len() <= MOST_FILTERED_CUSTOMERS)
        .filter(|c| c.iter().all(|id| !id.contains('\0')))
        .map(|mut c| {
            c.sort_unstable();
            // Rows of no readable customer are read too: they are rejected
            // as a file's would be.
            let mut of = vec![
                "\"customer_id\" IS NULL".to_string(),
                "\"customer_id\" !~ '\\S'".to_string(),
            ];
            if !c.is_empty() {
                let ids: Vec<String> = c.iter().map(|id| literal(id)).collect();
                of.insert(0, format!("\"customer_id\" IN ({})", ids.join(", ")));
            }
            format!(" WHERE {}", of.join(" OR "))
        })
        .unwrap_or_default();
    let order = if source.order.is_empty() {
        String::new()
    } else {
        let columns: Vec<String> = source.order.iter().map(|c| identifier(c)).collect();
        format!(" ORDER BY {}", columns.join(", "))
    };
    let copy = format!(
        "COPY (SELECT {} FROM {relation}{filter}{order}) TO STDOUT WITH (FORMAT csv, HEADER true)",
        select.join(", ")
    );
    let reader = client
        .copy_out(&copy)
        .map_err(|e| refused("the server refused the query", e))?;
    let reader: Box<dyn BufRead + Send + '_> = Box::new(reader);
    // One reader: a row's number is its place in the whole answer.
    super::reader::read_one(input, reader, router, options, outcome, destination)?;
    Ok(!filter.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_table_or_query_and_never_show_the_password() {
        let source = PgSource::parse(
            "postgresql://billing:s3cret@db.example:5433/cdr?table=usage_records&sslmode=disable",
        )
        .unwrap();
        assert_eq!(source.name(), "postgresql table usage_records");
        assert!(!format!("{source:?}").contains("s3cret"));
        let config = source.connection();
        assert_eq!(config.get_user(), Some("billing"));
        assert_eq!(config.get_ports(), &[5433]);
        let query =
            PgSource::parse("postgres://u@h/db?query=SELECT%20*%20FROM%20x%20WHERE%20a%3D1")
                .unwrap();
        assert_eq!(query.name(), "postgresql query");
        assert_eq!(
            query.relation,
            Relation::Query("SELECT * FROM x WHERE a=1".into())
        );
        for (url, says) in [
            ("postgresql://u:pw@h/db", "say what to read"),
            ("postgresql://u:pw@h/db?table=a&query=b", "not both"),
            (
                "postgresql://u:pw@h:notaport/db?table=a",
                "not a valid connection URL",
            ),
        ] {
            let e = PgSource::parse(url).unwrap_err().to_string();
            assert!(e.contains(says) && !e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn names_and_values_are_quoted_so_none_is_read_as_sql() {
        assert_eq!(identifier("usage"), "\"usage\"");
        assert_eq!(identifier("billing.usage"), "\"billing\".\"usage\"");
        assert_eq!(
            identifier("x\"; DROP TABLE y; --"),
            "\"x\"\"; DROP TABLE y; --\""
        );
        assert_eq!(literal("O'Brien"), "'O''Brien'");
    }
}
