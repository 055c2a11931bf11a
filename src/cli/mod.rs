//! Command-line arguments: argument structs only, converted into the
//! library's validated types before anything runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use usage_report::error::{Error, Result};
use usage_report::invoice::{check_currency, parse_day, parse_time_zone, Invoice};
use usage_report::locale::Locale;
use usage_report::profile::{ExpertLevel, Profile};
use usage_report::records::{BadRecordPolicy, Input};
use usage_report::render::{Format, HeaderStyle, Paper, RenderOptions};
use usage_report::run::catalog::Catalog;
use usage_report::run::partition::{PartFormat, PartitionOptions};
use usage_report::run::progress::LogFormat;
use usage_report::run::{RunOptions, Shard};

/// Renders the usage reports attached to telecom invoices.
#[derive(Debug, Parser)]
#[command(name = "usage-report", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    pub jobs: Option<usize>,
    /// Do not make written files durable (fsync) before renaming them into
    /// place: faster on a slow disk, but a power cut can leave a renamed
    /// file empty. For scratch runs, tmpfs, or output copied elsewhere at
    /// once; run.json records `"durable": false`.
    #[arg(long, global = true)]
    pub no_sync: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render one invoice's usage attachments and manifest.json.
    Render(RenderArgs),
    /// Render an invoice again from its manifest: the profile, invoice, period, zone, formats and options it recorded.
    Rerender(RerenderArgs),
    /// Render an invoice's attachments from a seeded, stratified sample of its records.
    Sample(SampleArgs),
    /// Generate seeded synthetic records for tests and benchmarks.
    Gen(GenArgs),
    /// Render every invoice of a catalogue in one pass over the records.
    Run(RunArgs),
    /// Split records into one folder per shard in one pass, for runs that
    /// each read only their shard (`run --shard K/N --records DIR/shard=K`).
    Partition(PartitionArgs),
    /// Work with the run.json of finished runs.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// List, show and check the profiles of a catalogue.
    Profiles {
        #[command(subcommand)]
        command: ProfilesCommand,
    },
    /// Validate profile files and report every problem at once.
    CheckProfile(CheckProfileArgs),
    /// Serve the catalogue as an HTTP API with users, roles and an audit log.
    Serve(ServeArgs),
    /// Add and list the users of `serve` (kept in DIR/users.toml).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Merge the run.json of every shard of a run into OUT/run.json, checking
    /// that they reconcile (each shard once, the same input, no invoice twice).
    Merge {
        /// Where the merged run.json goes (created if missing).
        out: PathBuf,
        /// The output folder of each shard.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The catalogue folder: profiles/, customers.csv, invoices.csv, users.toml.
    #[arg(long, value_name = "DIR")]
    pub catalog: PathBuf,
    /// Records file(s) the service renders from; repeat for several.
    #[arg(long, value_name = "FILE")]
    pub records: Vec<String>,
    /// Address to listen on (loopback by default; put TLS in front for more).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Folder for rendered attachments (default DIR/out).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user (or set a user's role and password); the password is read
    /// from standard input, never from the command line.
    Add {
        name: String,
        #[arg(long, value_parser = role)]
        role: usage_report::serve::users::Role,
        /// Which profiles lists show: historic ones from standard up.
        #[arg(long, value_parser = expert_level, default_value = "basic")]
        expert_level: ExpertLevel,
        #[arg(long, value_name = "DIR")]
        catalog: PathBuf,
    },
    /// List the users and their roles.
    List {
        #[arg(long, value_name = "DIR")]
        catalog: PathBuf,
    },
}

/// `--role`: one of the service's roles by key.
fn role(text: &str) -> std::result::Result<usage_report::serve::users::Role, String> {
    use usage_report::serve::users::Role;
    Role::from_key(text).ok_or_else(|| {
        let keys: Vec<&str> = Role::ALL.iter().map(|r| r.key()).collect();
        format!("expected one of {}", keys.join(", "))
    })
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List the catalogue's profiles (historic ones from --expert-level standard up).
    List {
        #[arg(long, value_name = "DIR")]
        catalog: PathBuf,
        /// Who is looking: historic profiles show at standard and above.
        #[arg(long, value_parser = expert_level, default_value = "basic")]
        expert_level: ExpertLevel,
    },
    /// Show one profile in full.
    Show {
        /// The profile's name.
        name: String,
        #[arg(long, value_name = "DIR")]
        catalog: PathBuf,
    },
    /// Validate every profile, customer and invoice of the catalogue; report all problems,
    /// and warn of every invoice a run would refuse or leave without a profile.
    Check {
        #[arg(long, value_name = "DIR")]
        catalog: PathBuf,
        /// Treat those warnings as problems (exit 2 when there is one).
        #[arg(long)]
        strict: bool,
    },
    /// What changes from one profile to another, in words; with records, what it does to an invoice's attachments.
    Diff(Box<DiffArgs>),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old profile: a file, or with --catalog (when no such file exists) the name of one of its profiles.
    pub old: String,
    /// The new profile: a file.
    pub new: PathBuf,
    /// The catalogue OLD names a profile of (and --invoice an invoice of).
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// Records to render the invoice from with both profiles (nothing is written); repeat for several.
    #[arg(long, value_name = "FILE")]
    pub records: Vec<String>,
    /// The catalogue's invoice to render (with --catalog and --records).
    #[arg(long, value_name = "ID", requires = "catalog", requires = "records", conflicts_with_all = ["customer", "from", "to", "timezone", "currency"])]
    pub invoice: Option<String>,
    /// The customer to render (with --records, --from and --to).
    #[arg(long, value_name = "ID", requires_all = ["records", "from", "to"])]
    pub customer: Option<String>,
    #[arg(long, value_name = "YYYY-MM-DD", requires = "customer")]
    pub from: Option<String>,
    #[arg(long, value_name = "YYYY-MM-DD", requires = "customer")]
    pub to: Option<String>,
    /// IANA time zone of the period [default: UTC].
    #[arg(long, value_name = "IANA_ZONE", requires = "customer")]
    pub timezone: Option<String>,
    #[arg(long, value_name = "CODE", requires = "customer")]
    pub currency: Option<String>,
    /// Attachment formats to compare, a comma list [default: the invoice's formats with --invoice, else csv].
    #[arg(long, value_name = "LIST")]
    pub attachments: Option<String>,
    /// text for people, json for programs (the console).
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

/// A `profiles diff` request, checked.
pub struct DiffRequest {
    pub old: Profile,
    pub new: Profile,
    /// The invoice to render with both, when records were given.
    pub case: Option<DiffCase>,
}

pub struct DiffCase {
    pub invoice: Invoice,
    pub inputs: Vec<Input>,
    pub formats: Vec<Format>,
    pub itemisation: bool,
}

impl DiffArgs {
    /// Loads both profiles (and the catalogue), and checks the invoice.
    pub fn validate(&self) -> Result<DiffRequest> {
        let catalog = self
            .catalog
            .as_deref()
            .map(|dir| Catalog::load_for_run(dir, false))
            .transpose()?;
        // OLD is a file when one is there, else (with --catalog) a name.
        let old_file = std::path::Path::new(&self.old);
        let old = match &catalog {
            Some(_) if old_file.is_file() => Profile::load(old_file)?,
            Some(catalog) => catalog.profiles.get(&self.old).cloned().ok_or_else(|| {
                let names = catalog.profiles.keys().map(String::as_str);
                let hint = usage_report::error::did_you_mean(&self.old, names)
                    .map(|n| format!("; did you mean {n:?}?"))
                    .unwrap_or_default();
                Error::Usage(format!(
                    "no profile is named {:?} in the catalogue {}{hint}",
                    self.old,
                    catalog.dir.display()
                ))
            })?,
            None => Profile::load(std::path::Path::new(&self.old))?,
        };
        let new = Profile::load(&self.new)?;
        let attachments = self.attachments.as_deref().map(formats).transpose()?;
        if self.records.iter().any(|r| r == "-") {
            return Err(Error::Usage(
                "--records -: the invoice is rendered twice, once per profile, and standard input can be read once; give files".into(),
            ));
        }
        let inputs: Vec<Input> = Input::from_args(&self.records)?;
        let case = match (&self.invoice, &self.customer, &catalog) {
            (Some(id), _, Some(catalog)) => {
                let entry = catalog.entry(id)?;
                Some(DiffCase {
                    invoice: catalog.invoice(entry)?,
                    inputs,
                    formats: attachments
                        .or_else(|| entry.formats.clone())
                        .unwrap_or_else(|| vec![Format::Csv]),
                    itemisation: catalog.customers[&entry.customer_id].itemisation,
                })
            }
            (None, Some(customer), _) => {
                let day = |v: &Option<String>| v.clone().unwrap_or_default();
                let invoice = invoice_of(
                    None,
                    customer.clone(),
                    (&day(&self.from), &day(&self.to)),
                    self.timezone.as_deref(),
                    self.currency.as_ref(),
                )?;
                Some(DiffCase {
                    invoice,
                    inputs,
                    formats: attachments.unwrap_or_else(|| vec![Format::Csv]),
                    itemisation: true,
                })
            }
            _ if !inputs.is_empty() => {
                return Err(Error::Usage(
                    "--records needs the invoice to render: --invoice ID (with --catalog) or --customer, --from and --to".into(),
                ))
            }
            _ => None,
        };
        Ok(DiffRequest { old, new, case })
    }
}

/// How much of the configuration a user sees, as in the billing platform.

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The catalogue folder: profiles/, customers.csv, invoices.csv.
    #[arg(long, value_name = "DIR")]
    pub catalog: PathBuf,
    /// Records file (CSV, gzip-compressed CSV or Parquet, recognised by content); repeat for several; a folder reads every records file under it, sorted by path (a partition's shard folder, DIR/shard=K, the parts its _partition.json lists); `-` reads standard input; `postgresql://USER@HOST[:PORT]/DB?table=NAME` (or `?query=SELECT …`) reads PostgreSQL.
    #[arg(long, value_name = "FILE", required = true)]
    pub records: Vec<String>,
    /// Output folder: one folder per invoice plus run.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Formats for every invoice (default: each invoice's `formats`, else csv).
    #[arg(long, value_name = "LIST")]
    pub format: Option<String>,
    /// Render only shard K of N (0-based), chosen by a stable hash of the customer id.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Partition the records to disk in N buckets first and render one bucket
    /// at a time (memory bounded by the largest bucket). Default: 1 (all in
    /// memory) up to 1 GiB of input, then one per 512 MiB.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub partitions: Option<u32>,
    /// What to do with a bad record: fail its customer's invoices, or skip it into rejects.csv.
    #[arg(long, value_enum, default_value_t = BadRecordArg::Fail)]
    pub on_bad_record: BadRecordArg,
    /// Progress and log lines: text (a bar on a terminal) or json (one object per line).
    #[arg(long, value_enum, default_value_t = LogFormatArg::Text)]
    pub log_format: LogFormatArg,
    /// CSV header row: human labels or the schema's keys.
    #[arg(long, value_enum, default_value_t = HeaderArg::Labels)]
    pub header: HeaderArg,
    /// Do not neutralise free text that spreadsheets would read as a formula.
    #[arg(long)]
    pub no_sanitize: bool,
    /// Drop repeated call ids (keeping the first in input order) and count them as rejected.
    #[arg(long)]
    pub dedupe: bool,
    /// PDF page size.
    #[arg(long, value_enum, default_value_t = PaperArg::A4)]
    pub paper: PaperArg,
    /// Render only this invoice of the catalogue; repeat for several.
    #[arg(long = "invoice", value_name = "ID")]
    pub invoices: Vec<String>,
    /// Render only the invoices of this customer; repeat for several.
    #[arg(long = "customer", value_name = "ID")]
    pub customers: Vec<String>,
    /// Any catalogue problem stops the run (by default a problem of one
    /// customer's or invoice's row fails only the invoices it concerns).
    #[arg(long)]
    pub strict_catalogue: bool,
    /// Record each invoice's input hash (records, profile, options) in its
    /// manifest, and leave alone an invoice whose manifest records the same.
    #[arg(long)]
    pub skip_unchanged: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(arg: LogFormatArg) -> LogFormat {
        match arg {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The usage-report profile (TOML, or JSON of the same shape); with --catalog, instead of the one the catalogue's rules give the invoice.
    #[arg(long, value_name = "PROFILE", required_unless_present = "catalog")]
    pub profile: Option<PathBuf>,
    /// Records file (CSV, gzip-compressed CSV or Parquet, recognised by content); repeat for several; a folder reads every records file under it, sorted by path (a partition's shard folder, DIR/shard=K, the parts its _partition.json lists); `-` reads standard input; `postgresql://USER@HOST[:PORT]/DB?table=NAME` (or `?query=SELECT …`) reads PostgreSQL.
    #[arg(long, value_name = "FILE", required = true)]
    pub records: Vec<String>,
    /// Take the invoice named by --invoice from this catalogue: its customer, period, the customer's zone, currency, name and consent, and the profile the rules give it.
    #[arg(long, value_name = "DIR", requires = "invoice")]
    pub catalog: Option<PathBuf>,
    /// The invoiced customer's id.
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "catalog",
        conflicts_with = "catalog"
    )]
    pub customer: Option<String>,
    /// First day of the billing period (YYYY-MM-DD).
    #[arg(
        long,
        value_name = "YYYY-MM-DD",
        required_unless_present = "catalog",
        conflicts_with = "catalog"
    )]
    pub from: Option<String>,
    /// First day after the billing period (YYYY-MM-DD, exclusive).
    #[arg(
        long,
        value_name = "YYYY-MM-DD",
        required_unless_present = "catalog",
        conflicts_with = "catalog"
    )]
    pub to: Option<String>,
    /// IANA time zone of the period and of the times shown [default: UTC].
    #[arg(long, value_name = "IANA_ZONE", conflicts_with = "catalog")]
    pub timezone: Option<String>,
    /// The invoice id, shown in titles and the manifest; with --catalog, the catalogue's invoice to render.
    #[arg(long, value_name = "ID")]
    pub invoice: Option<String>,
    /// The customer's ISO 4217 currency (e.g. GBP, JPY): money symbols and minor units in PDF and XLSX.
    #[arg(long, value_name = "CODE", conflicts_with = "catalog")]
    pub currency: Option<String>,
    /// The customer's name, shown beside the id on the cover and sheet titles.
    #[arg(long, value_name = "NAME", conflicts_with = "catalog")]
    pub customer_name: Option<String>,
    /// The documents' language and number, date and money style (en-GB, en-US, de-DE, fr-FR), instead of the profile's `locale`.
    #[arg(long, value_name = "LOCALE")]
    pub locale: Option<String>,
    /// Attachment formats, a comma list [default: csv; with --catalog, the invoice's formats, else csv].
    #[arg(long, value_name = "LIST")]
    pub format: Option<String>,
    /// CSV header row: human labels or the schema's keys.
    #[arg(long, value_enum, default_value_t = HeaderArg::Labels)]
    pub header: HeaderArg,
    /// What to do with a bad record: stop before writing anything, or skip it into rejects.csv.
    #[arg(long, value_enum, default_value_t = BadRecordArg::Fail)]
    pub on_bad_record: BadRecordArg,
    /// Do not neutralise free text that spreadsheets would read as a formula (for machine consumers).
    #[arg(long)]
    pub no_sanitize: bool,
    /// Drop repeated call ids (keeping the first in input order) and count them as rejected.
    #[arg(long)]
    pub dedupe: bool,
    /// The customer has not consented to itemised bills: withhold `calls` reports.
    #[arg(long)]
    pub no_itemisation: bool,
    /// PDF page size.
    #[arg(long, value_enum, default_value_t = PaperArg::A4)]
    pub paper: PaperArg,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RerenderArgs {
    /// The manifest.json of the invoice to render again.
    #[arg(long, value_name = "PATH")]
    pub manifest: PathBuf,
    /// Records file (CSV, gzip-compressed CSV or Parquet, recognised by content); repeat for several; a folder reads every records file under it, sorted by path (a partition's shard folder, DIR/shard=K, the parts its _partition.json lists); `-` reads standard input; `postgresql://USER@HOST[:PORT]/DB?table=NAME` (or `?query=SELECT …`) reads PostgreSQL.
    #[arg(long, value_name = "FILE", required = true)]
    pub records: Vec<String>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub render: RenderArgs,
    /// Records in the sample (every group of every selected level still appears).
    #[arg(long, value_name = "N")]
    pub rows: u64,
    /// Random seed: the same seed gives the same sample.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PaperArg {
    A4,
    Letter,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum HeaderArg {
    Labels,
    Keys,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BadRecordArg {
    Fail,
    Skip,
}

#[derive(Debug, Args)]
pub struct PartitionArgs {
    /// Records file (CSV, gzip-compressed CSV or Parquet, recognised by content); repeat for several; a folder reads every records file under it, sorted by path (a partition's shard folder, DIR/shard=K, the parts its _partition.json lists); `-` reads standard input; `postgresql://USER@HOST[:PORT]/DB?table=NAME` (or `?query=SELECT …`) reads PostgreSQL.
    #[arg(long, required = true, value_name = "FILE")]
    pub records: Vec<String>,
    /// Number of shards: a customer's records go to shard fnv1a64(customer_id) % N, as `run --shard K/N` chooses.
    #[arg(long, value_name = "N")]
    pub shards: u32,
    /// The folder to write: DIR/shard=K/part-NNNNN.csv, DIR/partition.json, DIR/rejects.csv.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Format of the part files.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: PartFormatArg,
    /// Partition only part P of M of the input files (consecutive, in order), so that M machines each read their share; parts may write into one shared folder.
    #[arg(long, value_name = "P/M")]
    pub part: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PartFormatArg {
    Csv,
    Parquet,
}

impl PartitionArgs {
    /// The inputs and options, checked.
    pub fn validate(&self) -> Result<(Vec<Input>, PartitionOptions)> {
        let part = self
            .part
            .as_deref()
            .map(|p| Shard::parse(p).map_err(|e| Error::Usage(format!("--part {e}"))))
            .transpose()?;
        if part.is_some() && self.records.iter().any(|r| r == "-") {
            return Err(Error::Usage(
                "--records - with --part: standard input cannot be split by file; give files"
                    .into(),
            ));
        }
        let options = PartitionOptions {
            shards: self.shards,
            format: match self.format {
                PartFormatArg::Csv => PartFormat::Csv,
                PartFormatArg::Parquet => PartFormat::Parquet,
            },
            part,
        };
        Ok((Input::from_args(&self.records)?, options))
    }
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of calls.
    #[arg(long, value_name = "N")]
    pub calls: u64,
    /// Number of customers (sizes are skewed).
    #[arg(long, value_name = "K", default_value_t = 20)]
    pub customers: u32,
    /// Random seed: the same seed gives the same file.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// First day of the generated period.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-10-01")]
    pub from: String,
    /// First day after the generated period.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-11-01")]
    pub to: String,
    /// Output file (`.gz` compresses); `-` writes standard output.
    #[arg(long, value_name = "FILE")]
    pub out: String,
    /// Also write a catalogue for the generated customers (the "everything"
    /// profile, one invoice each) into this folder, for `usage-report run`.
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// The catalogue's profile (every customer's default) instead of the
    /// bundled "everything", e.g. `fixtures/profiles/full-detail.toml`.
    #[arg(long, value_name = "FILE", requires = "catalog")]
    pub catalog_profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckProfileArgs {
    /// Profile files to validate.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
}

/// A render request, validated.
pub struct RenderRequest {
    pub profile: Profile,
    pub invoice: Invoice,
    /// The customer consented to itemised bills.
    pub itemisation: bool,
    pub inputs: Vec<Input>,
    pub formats: Vec<Format>,
    pub options: RenderOptions,
    pub policy: BadRecordPolicy,
}

/// Render options from the flags both `render` and `run` take.
fn render_options(header: HeaderArg, no_sanitize: bool, paper: PaperArg) -> RenderOptions {
    RenderOptions {
        sample: None,
        scope: None,
        header: match header {
            HeaderArg::Labels => HeaderStyle::Labels,
            HeaderArg::Keys => HeaderStyle::Keys,
        },
        sanitize: !no_sanitize,
        paper: match paper {
            PaperArg::A4 => Paper::A4,
            PaperArg::Letter => Paper::Letter,
        },
        ..RenderOptions::default()
    }
}

impl BadRecordArg {
    fn policy(self) -> BadRecordPolicy {
        match self {
            BadRecordArg::Fail => BadRecordPolicy::Fail,
            BadRecordArg::Skip => BadRecordPolicy::Skip,
        }
    }
}

impl RunArgs {
    /// Checks the flags of a billing run.
    pub fn validate(&self) -> Result<(RunOptions, Vec<Input>, LogFormat)> {
        let options = RunOptions {
            formats: self.format.as_deref().map(formats).transpose()?,
            render: render_options(self.header, self.no_sanitize, self.paper),
            policy: self.on_bad_record.policy(),
            shard: self
                .shard
                .as_deref()
                .map(|text| {
                    Shard::parse(text).map_err(|reason| Error::Usage(format!("--shard {reason}")))
                })
                .transpose()?
                .unwrap_or_default(),
            dedupe: self.dedupe,
            partitions: self.partitions,
            invoices: self.invoices.clone(),
            customers: self.customers.clone(),
            skip_unchanged: self.skip_unchanged,
        };
        let log = self.log_format.into();
        Ok((options, Input::from_args(&self.records)?, log))
    }
}

impl RenderArgs {
    /// Checks every value, and loads the profile (and the catalogue with
    /// --catalog); records are read later.
    pub fn validate(&self) -> Result<RenderRequest> {
        let locale = self
            .locale
            .as_deref()
            .map(|key| {
                Locale::parse(key).map_err(|reason| Error::Usage(format!("--locale {reason}")))
            })
            .transpose()?;
        let formats = self.format.as_deref().map(formats).transpose()?;
        let (invoice, mut profile, itemisation, formats) = match &self.catalog {
            Some(dir) => {
                // As a run reads it: a problem in another customer's or
                // invoice's row does not stop this invoice.
                let catalog = Catalog::load_for_run(dir, false)?;
                let id = self.invoice.as_deref().unwrap_or_default();
                let instead = self.profile.as_deref().map(Profile::load).transpose()?;
                let chosen = catalog.chosen(id, instead.as_ref())?;
                let formats = formats.or(chosen.formats);
                (
                    chosen.invoice,
                    chosen.profile.clone(),
                    chosen.itemisation,
                    formats,
                )
            }
            None => {
                // clap requires these without --catalog.
                let given = |value: &Option<String>, flag: &str| {
                    value.clone().ok_or_else(|| {
                        Error::Usage(format!("{flag} is required without --catalog"))
                    })
                };
                let invoice = invoice_of(
                    self.invoice.clone(),
                    given(&self.customer, "--customer")?,
                    (&given(&self.from, "--from")?, &given(&self.to, "--to")?),
                    self.timezone.as_deref(),
                    self.currency.as_ref(),
                )?
                .with_customer_name(self.customer_name.clone());
                let path = self.profile.as_ref().ok_or_else(|| {
                    Error::Usage("--profile is required without --catalog".into())
                })?;
                (invoice, Profile::load(path)?, true, formats)
            }
        };
        if locale.is_some() {
            profile.locale = locale;
        }
        Ok(RenderRequest {
            profile,
            invoice,
            itemisation: itemisation && !self.no_itemisation,
            inputs: Input::from_args(&self.records)?,
            formats: formats.unwrap_or_else(|| vec![Format::Csv]),
            options: render_options(self.header, self.no_sanitize, self.paper),
            policy: self.on_bad_record.policy(),
        })
    }
}

/// The invoice `--customer`, `--from`, `--to`, `--timezone` (default UTC)
/// and `--currency` describe, each checked and named when wrong.
fn invoice_of(
    id: Option<String>,
    customer: String,
    (from, to): (&str, &str),
    timezone: Option<&str>,
    currency: Option<&String>,
) -> Result<Invoice> {
    let tz = parse_time_zone(timezone.unwrap_or("UTC"))
        .map_err(|reason| Error::Usage(format!("--timezone: {reason}")))?;
    let (from, to) = (parse_day("--from", from)?, parse_day("--to", to)?);
    if let Some(code) = currency {
        check_currency(code).map_err(|reason| Error::Usage(format!("--currency {reason}")))?;
    }
    Ok(Invoice::new(id, customer, from, to, tz)?.with_currency(currency.cloned()))
}

/// `--expert-level`: one of the library's expert levels by key.
fn expert_level(text: &str) -> std::result::Result<ExpertLevel, String> {
    ExpertLevel::from_key(text).ok_or_else(|| {
        let keys: Vec<&str> = ExpertLevel::ALL.iter().map(|l| l.key()).collect();
        format!("expected one of {}", keys.join(", "))
    })
}

/// `--format`: a comma list of attachment formats.
fn formats(text: &str) -> Result<Vec<Format>> {
    Format::parse_list(text, ',').map_err(|reason| Error::Usage(format!("--format {reason}")))
}
