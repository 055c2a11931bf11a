//! The `usage-report` binary: parse arguments, call the library, map the
//! result to an exit code (0 done, 1 failed on input or output, 2 bad usage,
//! profile or configuration).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

mod cli;

/// `println!` that ends quietly on a closed pipe (see [`say`]).
macro_rules! say {
    ($($arg:tt)*) => {
        say(format_args!($($arg)*))
    };
}

use cli::{
    CheckProfileArgs, Cli, Command, DiffArgs, DiffFormat, GenArgs, PartitionArgs, ProfilesCommand,
    RenderArgs, RerenderArgs, RunArgs, RunsCommand, ServeArgs, UsersCommand,
};
use usage_report::error::Error;
use usage_report::gen::{generate, GenSpec};
use usage_report::invoice::parse_day;
use usage_report::pipeline::{render, InvoiceJob, RenderJob, SampleRequest};
use usage_report::profile::Profile;
use usage_report::records::Input;
use usage_report::run::catalog::Catalog;
use usage_report::run::{progress, run};

/// Most worker threads `--jobs` starts: far above any machine's cores, far
/// below what stalls a process starting them.
const MAX_JOBS: usize = 1024;

fn main() -> ExitCode {
    // The parquet crate panics on some corrupt pages; the library catches
    // those panics and reports the file instead, so they are not printed.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !usage_report::records::decoding_parquet() {
            previous(info);
        }
    }));
    let cli = Cli::parse();
    if let Some(jobs) = cli.jobs {
        if jobs > MAX_JOBS {
            eprintln!("usage-report: --jobs {jobs}: at most {MAX_JOBS} worker threads");
            return ExitCode::from(2);
        }
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
        {
            eprintln!("usage-report: cannot start {jobs} worker threads: {e}");
            return ExitCode::from(2);
        }
    }
    usage_report::output::set_durable(!cli.no_sync);
    let result = match &cli.command {
        Command::Render(args) => run_render(args, None),
        Command::Rerender(args) => rerender(args),
        Command::Sample(args) => run_render(
            &args.render,
            Some(SampleRequest {
                rows: args.rows,
                seed: args.seed,
            }),
        ),
        Command::Gen(args) => run_gen(args),
        Command::CheckProfile(args) => run_check_profile(args),
        Command::Run(args) => return billing_run(args),
        Command::Partition(args) => run_partition(args),
        Command::Runs {
            command: RunsCommand::Merge { out, dirs },
        } => return merge_runs(out, dirs),
        Command::Profiles { command } => profiles(command),
        Command::Serve(args) => serve(args),
        Command::Users { command } => users(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usage-report: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run_render(args: &RenderArgs, sample: Option<SampleRequest>) -> Result<(), Error> {
    let request = args.validate()?;
    let manifest = render(&RenderJob {
        invoice: InvoiceJob {
            profile: &request.profile,
            invoice: &request.invoice,
            formats: &request.formats,
            options: request.options,
            itemisation: request.itemisation,
            sample,
            out_dir: &args.out,
        },
        inputs: &request.inputs,
        policy: request.policy,
        dedupe: args.dedupe,
    })?;
    let i = &manifest.input.counts;
    eprintln!(
        "usage-report: {} attachment{} for customer {} in {}: {} records read, {} in scope, {} out of scope, {} rejected",
        manifest.attachments.len(),
        if manifest.attachments.len() == 1 { "" } else { "s" },
        manifest.customer,
        args.out.display(),
        i.records,
        i.in_scope,
        i.out_of_scope,
        i.rejected
    );
    for w in &manifest.warnings {
        eprintln!("usage-report: warning: {w}");
    }
    Ok(())
}

/// `profiles diff`: the changes in words, and with records what they do to
/// the invoice's attachments.
fn profiles_diff(args: &DiffArgs) -> Result<(), Error> {
    let request = args.validate()?;
    let changes = usage_report::profile::diff::diff(&request.old, &request.new);
    let verdicts = match &request.case {
        Some(case) => Some(usage_report::compare::compare(
            &request.old,
            &request.new,
            &usage_report::compare::Case {
                invoice: &case.invoice,
                inputs: &case.inputs,
                formats: &case.formats,
                itemisation: case.itemisation,
            },
        )?),
        None => None,
    };
    if args.format == DiffFormat::Json {
        let mut value = serde_json::json!({
            "old": request.old.name,
            "new": request.new.name,
            "changes": changes,
        });
        if let (Some(verdicts), Some(case)) = (&verdicts, &request.case) {
            value["invoice"] = serde_json::json!(case.invoice.display_id());
            value["attachments"] = serde_json::json!(verdicts);
        }
        say!(
            "{}",
            serde_json::to_string_pretty(&value).expect("JSON serialises")
        );
        return Ok(());
    }
    say!(
        "profile {:?} \u{2192} {:?}: {} change{}",
        request.old.name,
        request.new.name,
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    );
    for change in &changes {
        say!("  {change}");
    }
    if let (Some(verdicts), Some(case)) = (&verdicts, &request.case) {
        say!(
            "attachments of {}:",
            usage_report::error::printable(&case.invoice.display_id())
        );
        for v in verdicts {
            let rows = |n: Option<u64>| n.map_or("-".to_string(), |n| n.to_string());
            say!(
                "  {:<9} {}  rows {} \u{2192} {}",
                v.verdict,
                v.path,
                rows(v.rows_before),
                rows(v.rows_after)
            );
        }
    }
    Ok(())
}

fn rerender(args: &RerenderArgs) -> Result<(), Error> {
    let inputs: Vec<Input> = Input::from_args(&args.records)?;
    let done = usage_report::rerender::rerender(&args.manifest, &inputs, &args.out)?;
    let m = &done.manifest;
    eprintln!(
        "usage-report: rendered {} again from {} into {}: {} attachment{}",
        usage_report::error::printable(m.invoice.as_deref().unwrap_or(&m.customer)),
        args.manifest.display(),
        args.out.display(),
        m.attachments.len(),
        if m.attachments.len() == 1 { "" } else { "s" },
    );
    match (done.changed.is_empty(), done.attachments_changed.is_empty()) {
        (true, true) => {
            eprintln!("usage-report: the same attachments, byte for byte, as the manifest lists")
        }
        (true, false) => eprintln!(
            "usage-report: the totals are those of the manifest, but the records differ from those rendered then: {}",
            done.attachments_changed.join("; ")
        ),
        (false, _) => eprintln!(
            "usage-report: the records differ from those rendered then; totals changed: {}; {}",
            done.changed.join("; "),
            done.attachments_changed.join("; ")
        ),
    }
    for w in &m.warnings {
        eprintln!("usage-report: warning: {w}");
    }
    Ok(())
}

fn run_gen(args: &GenArgs) -> Result<(), Error> {
    let spec = GenSpec {
        calls: args.calls,
        customers: args.customers,
        seed: args.seed,
        from: parse_day("--from", &args.from)?,
        to: parse_day("--to", &args.to)?,
    };
    if let Some(dir) = &args.catalog {
        usage_report::gen::write_catalog(&spec, dir, args.catalog_profile.as_deref())?;
    }
    if args.out == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        generate(&spec, &mut lock)?;
        return lock.flush().map_err(|e| Error::io("-", e));
    }
    let path = std::path::Path::new(&args.out);
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let written = if args.out.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(&mut buffered, flate2::Compression::fast());
        let n = generate(&spec, &mut gz)?;
        gz.finish().map_err(|e| Error::io(path, e))?;
        n
    } else {
        generate(&spec, &mut buffered)?
    };
    buffered.flush().map_err(|e| Error::io(path, e))?;
    eprintln!(
        "usage-report: wrote {written} records to {}",
        path.display()
    );
    Ok(())
}

/// A run's exit code when the profile rules refused some invoices and none
/// failed.
const REFUSED: u8 = 3;

/// `partition`: the records into shard folders; the summary on stderr.
fn run_partition(args: &PartitionArgs) -> Result<(), Error> {
    let (inputs, options) = args.validate()?;
    let report = usage_report::run::partition::partition(&inputs, &args.out, &options)?;
    eprintln!(
        "usage-report: {} records from {} file{} into {} shards in {}: {} written, {} rejected{}",
        report.records,
        report.files.len(),
        if report.files.len() == 1 { "" } else { "s" },
        report.shard_count,
        args.out.display(),
        report.records - report.rejected,
        report.rejected,
        report
            .rejects_file
            .as_deref()
            .map(|f| format!(" (see {f})"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Exit 0 when every invoice rendered (or has no profile), 1 when some
/// failed (or reading the records failed: run.json says why), 3 when none
/// failed but the profile rules refused some, 2 when the run could not
/// start (bad flags, an invalid catalogue).
fn billing_run(args: &RunArgs) -> ExitCode {
    let started = (|| {
        // An earlier run's report must not outlive this run, even one that
        // never starts: a pipeline would read yesterday's answer.
        usage_report::run::forget_previous(&args.out)?;
        let (options, inputs, log) = args.validate()?;
        let catalog = Catalog::load_for_run(&args.catalog, args.strict_catalogue)?;
        let reporter = progress::reporter(log);
        run(&catalog, &inputs, &args.out, &options, reporter.as_ref())
    })();
    match started {
        Ok(report) if report.summary.failed > 0 => ExitCode::from(1),
        Ok(report) if report.summary.refused > 0 => ExitCode::from(REFUSED),
        Ok(_) => ExitCode::SUCCESS,
        // 2 for a request that is wrong (it could not start), 1 for records
        // or output that failed once it had begun (run.json says why).
        Err(e) => {
            progress::fatal(args.log_format.into(), &e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// `runs merge`: exit 0 when the shards reconcile and every invoice
/// rendered (or has no profile), 1 when they do not reconcile or some
/// failed, 3 when the rules refused some, 2 for a wrong request — a run's
/// codes, for the whole run.
fn merge_runs(out: &std::path::Path, dirs: &[std::path::PathBuf]) -> ExitCode {
    let merged = (|| {
        let report = usage_report::run::merge::merge(dirs, out)?;
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let mut json = serde_json::to_vec_pretty(&report).expect("a run report always serialises");
        json.push(b'\n');
        usage_report::output::write_atomically(&out.join("run.json"), &json)?;
        Ok::<_, Error>(report)
    })();
    match merged {
        Ok(report) => {
            let s = &report.summary;
            say!(
                "{}: {} shards merged: {} invoices ({} rendered, {} unchanged, {} no profile, {} refused, {} failed); {} records = {} in scope + {} not invoiced + {} rejected",
                out.join("run.json").display(),
                dirs.len(),
                s.invoices,
                s.rendered,
                s.unchanged,
                s.no_profile,
                s.refused,
                s.failed,
                report.input.records,
                report.input.in_scope,
                report.input.not_invoiced,
                report.input.rejected
            );
            if s.failed > 0 {
                ExitCode::from(1)
            } else if s.refused > 0 {
                ExitCode::from(REFUSED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("usage-report: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn profiles(command: &ProfilesCommand) -> Result<(), Error> {
    match command {
        ProfilesCommand::List {
            catalog,
            expert_level,
        } => {
            let catalog = Catalog::load(catalog)?;
            say!(
                "{:<28} {:<10} {:<32} description",
                "name",
                "status",
                "restricted to"
            );
            for p in catalog
                .profiles
                .values()
                .filter(|p| p.visible_at(*expert_level))
            {
                say!(
                    "{:<28} {:<10} {:<32} {}",
                    p.name,
                    p.availability.key(),
                    p.restriction(),
                    p.description
                );
            }
            Ok(())
        }
        ProfilesCommand::Show { name, catalog } => {
            let catalog = Catalog::load(catalog)?;
            let Some(p) = catalog.profiles.get(name) else {
                let known: Vec<&str> = catalog.profiles.keys().map(String::as_str).collect();
                return Err(Error::Usage(format!(
                    "no profile is named {name:?}; the catalogue has: {}",
                    known.join(", ")
                )));
            };
            say!("name:          {}", p.name);
            say!("file:          {}", catalog.profile_files[name].display());
            say!("description:   {}", p.description);
            say!("availability:  {}", p.availability.key());
            say!(
                "customer:      {}",
                p.customer.as_deref().unwrap_or("(any)")
            );
            say!(
                "groups:        {}",
                if p.customer_groups.is_empty() {
                    "(any)".to_string()
                } else {
                    p.customer_groups.join(", ")
                }
            );
            say!("reports:");
            for r in &p.reports {
                say!("  {}", r.title());
            }
            let keys = |cols: &[usage_report::column::Column]| {
                cols.iter().map(|c| c.key()).collect::<Vec<_>>().join(", ")
            };
            say!("call columns:        {}", keys(&p.call_columns));
            say!("transaction columns: {}", keys(&p.transaction_columns));
            Ok(())
        }
        ProfilesCommand::Diff(args) => profiles_diff(args),
        ProfilesCommand::Check { catalog, strict } => {
            let loaded = Catalog::load(catalog)?;
            let warnings = loaded.rule_warnings();
            if *strict && !warnings.is_empty() {
                return Err(Error::Invalid(usage_report::error::Problems {
                    source: format!("catalogue {} (--strict)", catalog.display()),
                    problems: warnings,
                }));
            }
            for w in &warnings {
                eprintln!("usage-report: warning: {w}");
            }
            say!(
                "{}: ok ({} profiles, {} customers, {} invoices; {} would not render)",
                catalog.display(),
                loaded.profiles.len(),
                loaded.customers.len(),
                loaded.invoices.len(),
                warnings.len()
            );
            Ok(())
        }
    }
}

fn run_check_profile(args: &CheckProfileArgs) -> Result<(), Error> {
    let mut failed = 0;
    for path in &args.profiles {
        match Profile::load(path) {
            Ok(p) => say!(
                "{}: ok ({:?}, {} reports)",
                path.display(),
                p.name,
                p.reports.len()
            ),
            Err(e) => {
                eprintln!("usage-report: {e}");
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Error::Usage(format!(
            "{n} of {} profile files have problems (listed above)",
            args.profiles.len()
        ))),
    }
}

/// Writes one line to standard output. A reader that stops early
/// (`usage-report profiles list | head -1`) ends the program quietly: a
/// closed pipe is no error.
fn say(args: std::fmt::Arguments<'_>) {
    if let Err(e) = writeln!(std::io::stdout().lock(), "{args}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("usage-report: standard output: {e}");
        std::process::exit(1);
    }
}

fn serve(args: &ServeArgs) -> Result<(), Error> {
    usage_report::serve::serve(usage_report::serve::ServeOptions {
        catalog: args.catalog.clone(),
        records: Input::from_args(&args.records)?,
        listen: args.listen,
        out: args.out.clone().unwrap_or_else(|| args.catalog.join("out")),
    })
}

fn users(command: &UsersCommand) -> Result<(), Error> {
    use usage_report::serve::users::Users;
    match command {
        UsersCommand::Add {
            name,
            role,
            expert_level,
            catalog,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| Error::io("-", e))?;
            let password = password.trim_end_matches(['\n', '\r']);
            let mut users = Users::load(catalog)?;
            users.add(name, *role, *expert_level, password)?;
            eprintln!("usage-report: user {name:?} is {}", role.key());
            Ok(())
        }
        UsersCommand::List { catalog } => {
            let users = Users::load(catalog)?;
            say!("{:<24} {:<10} expert level", "name", "role");
            for u in users.list() {
                say!(
                    "{:<24} {:<10} {}",
                    u.name,
                    u.role.key(),
                    u.expert_level().key()
                );
            }
            Ok(())
        }
    }
}
