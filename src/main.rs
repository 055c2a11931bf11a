//! The `usage-report` binary: parse arguments, call the library, map the
//! result to an exit code (0 done, 1 failed on input or output, 2 bad usage,
//! profile or configuration).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use usage_report::cli::{CheckProfileArgs, Cli, Command, GenArgs, RenderArgs};
use usage_report::error::Error;
use usage_report::gen::{generate, GenSpec};
use usage_report::invoice::parse_day;
use usage_report::pipeline::{render, RenderJob};
use usage_report::profile::Profile;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(jobs) = cli.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
        {
            eprintln!("usage-report: cannot start {jobs} worker threads: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match &cli.command {
        Command::Render(args) => run_render(args),
        Command::Gen(args) => run_gen(args),
        Command::CheckProfile(args) => run_check_profile(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usage-report: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Usage(_) | Error::Invalid(_) => 2,
        _ => 1,
    }
}

fn run_render(args: &RenderArgs) -> Result<(), Error> {
    let request = args.validate()?;
    let profile = Profile::load(&args.profile)?;
    let manifest = render(&RenderJob {
        profile: &profile,
        invoice: &request.invoice,
        inputs: &request.inputs,
        formats: &request.formats,
        options: request.options,
        policy: request.policy,
        out_dir: &args.out,
    })?;
    let i = &manifest.input;
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

fn run_gen(args: &GenArgs) -> Result<(), Error> {
    let spec = GenSpec {
        calls: args.calls,
        customers: args.customers,
        seed: args.seed,
        from: parse_day("--from", &args.from)?,
        to: parse_day("--to", &args.to)?,
    };
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

fn run_check_profile(args: &CheckProfileArgs) -> Result<(), Error> {
    let mut failed = None;
    for path in &args.profiles {
        match Profile::load(path) {
            Ok(p) => println!(
                "{}: ok ({:?}, {} reports)",
                path.display(),
                p.name,
                p.reports.len()
            ),
            Err(e) => {
                eprintln!("usage-report: {e}");
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
