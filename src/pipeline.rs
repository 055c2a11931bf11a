//! One invoice, end to end: read the records under the profile's projection,
//! build the report model, run every chosen renderer in parallel, then write
//! `rejects.csv` and, last, `manifest.json`.

use std::path::Path;

use crate::error::{Error, Result};
use crate::invoice::Invoice;
use crate::manifest::{InputSection, Manifest, Period, TotalsSection, MANIFEST_VERSION};
use crate::output::OutputDir;
use crate::profile::Profile;
use crate::records::{
    read_records, BadRecordPolicy, Dataset, Input, InputCounts, ReadOptions, Reject,
};
use crate::render::{Format, RenderOptions};
use crate::report::InvoiceReports;

/// Most duplicate call ids named one by one in the manifest's warnings.
const DUPLICATE_WARNINGS: usize = 20;

/// A render from records files: which files to read, how, and the invoice
/// to make of them.
pub struct RenderJob<'a> {
    pub invoice: InvoiceJob<'a>,
    pub inputs: &'a [Input],
    pub policy: BadRecordPolicy,
    /// Drop repeated call ids (counted as rejected) instead of only warning.
    pub dedupe: bool,
}

/// `usage-report sample`: how many records, drawn with which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleRequest {
    pub rows: u64,
    pub seed: u64,
}

/// What the read found for one invoice, besides its records.
pub struct InvoiceInput<'a> {
    pub files: Vec<String>,
    pub counts: InputCounts,
    pub rejects: Rejects<'a>,
    /// The [`input_hash`] to record in the manifest, when it was computed.
    pub input_hash: Option<String>,
    pub warnings: Vec<String>,
    /// Repeated call ids were dropped (`--dedupe`), for the manifest.
    pub dedupe: bool,
}

/// Where the records rejected under `--on-bad-record skip` are listed.
pub enum Rejects<'a> {
    /// Not skipping: nothing was rejected, no rejects file.
    None,
    /// Write them to `rejects.csv` in the invoice's folder.
    Here(&'a [Reject]),
    /// Already written elsewhere (a billing run's own `rejects.csv`); the
    /// manifest points there with this relative path.
    Elsewhere(String),
}

/// What to make of one invoice's records: the profile, the invoice, the
/// formats and where they go.
pub struct InvoiceJob<'a> {
    pub profile: &'a Profile,
    pub invoice: &'a Invoice,
    pub formats: &'a [Format],
    pub options: RenderOptions,
    /// `false` when the customer has not consented to itemised bills.
    pub itemisation: bool,
    /// Render a seeded sample of the records instead of them all.
    pub sample: Option<SampleRequest>,
    pub out_dir: &'a Path,
}

/// Renders one invoice: reads, groups, writes attachments and the manifest.
/// Under the default policy a bad record stops it before anything is written.
pub fn render(job: &RenderJob<'_>) -> Result<Manifest> {
    // A partition's shard folder holds only its shard's customers.
    let customer = &job.invoice.invoice.customer_id;
    for folder in crate::records::shard_folders(job.inputs) {
        let (k, n) = folder.shard;
        let owner = crate::hash::shard_of(customer, n);
        if owner != k {
            return Err(Error::Usage(format!(
                "--records {}: the folder holds shard {k}/{n} of a partition; customer {customer}'s records are in shard {owner}/{n}",
                folder.dir.display()
            )));
        }
    }
    let options = ReadOptions {
        projection: job.invoice.profile.projection(),
        policy: job.policy,
        by_customer: false,
        partition_files: false,
    };
    let mut outcome = read_records(job.inputs, job.invoice.invoice, &options)?;
    if let Some(warning) = absent_customer(job.invoice.invoice, &outcome) {
        outcome.warnings.push(warning);
    }
    if job.invoice.profile.legs == crate::profile::Legs::Combined {
        let customer = &job.invoice.invoice.customer_id;
        let warnings =
            check_call_groups(&outcome.leg_groups, customer, job.policy).map_err(Error::Record)?;
        outcome.warnings.extend(warnings);
    }
    let mut data = outcome.datasets.pop().expect("one invoice, one dataset");
    let (duplicates, dropped) = check_duplicates(&mut data, job.dedupe);
    outcome.counts.drop_duplicates(dropped);
    outcome.warnings.extend(duplicates);
    let input = InvoiceInput {
        files: Input::names(job.inputs),
        counts: outcome.counts,
        rejects: match job.policy {
            BadRecordPolicy::Fail => Rejects::None,
            BadRecordPolicy::Skip => Rejects::Here(&outcome.rejects),
        },
        warnings: outcome.warnings,
        input_hash: None,
        dedupe: job.dedupe,
    };
    write_invoice(&job.invoice, data, input)
}

/// A combined view's check that each call group of the customer's legs
/// belongs to that customer alone (`groups`: what the read saw of every
/// customer). Under the fail policy the first group billed to two customers
/// is an error naming both records; under skip each such group is a
/// warning, its legs shown on their own.
pub fn check_call_groups(
    groups: &crate::records::LegGroups,
    customer: &str,
    policy: BadRecordPolicy,
) -> std::result::Result<Vec<String>, crate::error::RecordProblem> {
    let mut warnings = Vec::new();
    for split in groups.of(customer) {
        match policy {
            BadRecordPolicy::Fail => return Err(split.at.clone()),
            BadRecordPolicy::Skip => warnings.push(format!(
                "{}: customer {customer:?}'s legs of the group are shown without the other customer's",
                split.at
            )),
        }
    }
    Ok(warnings)
}

/// Where the itemised detail a PDF leaves out (`pdf_max_detail_rows`) is,
/// in words, and a warning when the PDF leaves detail out and no other
/// format holds it.
fn detail_elsewhere(
    reports: &InvoiceReports,
    formats: &[Format],
) -> (Option<String>, Option<String>) {
    let others: Vec<String> = formats
        .iter()
        .filter(|f| **f != Format::Pdf)
        .map(|f| f.key().to_uppercase())
        .collect();
    let words = reports.settings.look.words();
    let and = format!(" {} ", words.get(crate::locale::Msg::And));
    let place = match others.as_slice() {
        [] => None,
        [one] => Some(words.fill(crate::locale::Msg::TheAttachment, &[("formats", one)])),
        many => Some(words.fill(
            crate::locale::Msg::TheAttachments,
            &[("formats", &many.join(&and))],
        )),
    };
    let left_out = reports.settings.pdf_max_detail_rows.map_or(0, |max| {
        reports
            .reports
            .iter()
            .filter(|r| r.spec.kind.is_itemised() && r.row_count() > max)
            .count()
    });
    let warning = (formats.contains(&Format::Pdf) && place.is_none() && left_out > 0).then(|| {
        format!(
            "the PDF leaves out the itemised rows of {left_out} report(s) (pdf_max_detail_rows) and no CSV or XLSX attachment was written: that detail is in no attachment"
        )
    });
    (place, warning)
}

/// When the invoice's customer has no record in the input at all while
/// others do — a mistyped id, most likely — what to warn, with the closest
/// id seen.
fn absent_customer(invoice: &Invoice, outcome: &crate::records::ReadOutcome) -> Option<String> {
    let id = &invoice.customer_id;
    if outcome.served > 0 || outcome.other_customers.is_empty() {
        return None;
    }
    let others = &outcome.other_customers;
    let folded = crate::output::name_key(id);
    let closest = others
        .iter()
        .find(|o| crate::output::name_key(o) == folded)
        .map(String::as_str)
        .or_else(|| {
            let lower: Vec<(String, &str)> = others
                .iter()
                .map(|o| (o.to_lowercase(), o.as_str()))
                .collect();
            crate::error::did_you_mean(&id.to_lowercase(), lower.iter().map(|(l, _)| l.as_str()))
                .and_then(|hit| lower.iter().find(|(l, _)| l == hit).map(|(_, o)| *o))
        });
    let hint = closest.map_or(String::new(), |c| format!("; did you mean {c:?}?"));
    Some(format!(
        "customer {id:?} occurs nowhere in the input ({} records of other customers){hint}",
        outcome.counts.out_of_scope
    ))
}

/// The build of the engine itself: the SHA-256 of the running program
/// (read once), so any new build — whatever its version number says —
/// renders everything again; the version alone if it cannot be read.
fn engine_build() -> &'static str {
    static BUILD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BUILD.get_or_init(|| {
        std::env::current_exe()
            .and_then(std::fs::read)
            .map(|bytes| crate::hash::sha256_hex(&bytes))
            .unwrap_or_default()
    })
}

/// What an invoice's attachments are made from, as one SHA-256: the
/// engine's build, the resolved profile, the invoice (customer, period,
/// zone, currency), the formats and render options, the customer's
/// consent, the counts of the customer's records the manifest gives, and
/// the content of its records as the profile shows them. The
/// same hash means the same attachments: `run --skip-unchanged` leaves an
/// invoice whose manifest records it alone.
pub fn input_hash(job: &InvoiceJob<'_>, data: &Dataset, input: &InvoiceInput<'_>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let settings = format!(
        "usage-report {} {}\n{:?}\n{:?}\n{:?}\n{:?}\n{}\n{:?}\n{:?}\n",
        env!("CARGO_PKG_VERSION"),
        engine_build(),
        job.profile,
        job.invoice,
        job.formats,
        job.options,
        job.itemisation,
        job.sample.map(|s| (s.rows, s.seed)),
        // What the manifest says of this customer's records must still be
        // true (the files' names and line count are the run's, not the
        // invoice's: a kept manifest shows those of the run that rendered it).
        (
            input.counts.records,
            input.counts.in_scope,
            input.counts.out_of_scope,
            input.counts.rejected,
            input.counts.duplicates_dropped
        ),
    );
    hash.update(settings.as_bytes());
    hash.update(data.content_digest(job.profile.projection()));
    crate::hash::hex(&hash.finalize())
}

/// The one path from an invoice's records to its files, for every face
/// (render, sample, billing runs): the customer's consent, a sample if asked
/// for, privacy, then the report model, every format's renderer in
/// parallel, split groups, `rejects.csv`, and `manifest.json` last.
pub fn write_invoice(
    job: &InvoiceJob<'_>,
    mut data: Dataset,
    mut input: InvoiceInput<'_>,
) -> Result<Manifest> {
    let (consented, withheld) = consent(job.profile, job.itemisation);
    let profile = consented.as_ref();
    if profile.legs == crate::profile::Legs::Combined {
        // Under the skip policy a group that cannot be merged is shown leg
        // by leg (each leg is a charged call); under fail it stops here.
        let broken = match input.rejects {
            Rejects::None => crate::records::Broken::Fail,
            Rejects::Here(_) | Rejects::Elsewhere(_) => crate::records::Broken::Separate,
        };
        let combined = crate::records::combine_legs(&mut data, broken).map_err(Error::Record)?;
        input.warnings.extend(combined.warnings);
    }
    let mut options = job.options.clone();
    if let Some(request) = job.sample {
        let whole = crate::report::Totals::of(&data.calls, &data.transactions)?;
        // Records, not rows: a combined call stands for its legs.
        let records = |d: &Dataset| {
            d.calls.iter().map(|c| u64::from(c.legs)).sum::<u64>() + d.transactions.len() as u64
        };
        let before = records(&data);
        let size = crate::sample::sample(&mut data, profile, request.rows, request.seed);
        // Records not drawn into the sample are out of its scope.
        let kept = records(&data);
        let left_out = before - kept;
        input.counts.in_scope -= left_out;
        input.counts.out_of_scope += left_out;
        if size.rows > request.rows {
            input.warnings.push(format!(
                "the sample has {} records, more than the {} asked for, so that every group of every level appears",
                size.rows, request.rows
            ));
        }
        options.sample = Some(crate::render::SampleLabel {
            rows: kept,
            of: before,
            seed: request.seed,
            whole_total: whole.total(),
            whole_calls: whole.calls,
        });
    }
    apply_privacy(profile, &mut data);
    input.warnings.extend(withheld);
    let (invoice, formats, out_dir) = (job.invoice, job.formats, job.out_dir);
    let reports = InvoiceReports::build(invoice, profile, &data)?;
    let out = OutputDir::create(out_dir)?;
    let previous = crate::manifest::retire(out_dir)?;
    let (place, warning) = detail_elsewhere(&reports, formats);
    options.detail_elsewhere = place;
    let renderers: Vec<_> = formats.iter().map(|f| f.renderer(&options)).collect();
    use rayon::prelude::*;
    renderers
        .par_iter()
        .try_for_each(|r| r.render(&reports, &out))?;

    if let Some(level) = profile.split {
        write_split(
            profile,
            invoice,
            &data,
            formats,
            &options,
            &out,
            level,
            &reports.totals,
        )?;
    }
    let rejects_file = match &input.rejects {
        Rejects::None => None,
        Rejects::Here(rejects) => {
            write_rejects(&out, rejects, options.sanitize)?;
            Some(REJECTS_FILE.to_string())
        }
        Rejects::Elsewhere(path) => Some(path.clone()),
    };
    // Every new file is in place: the previous render's others go before
    // the new manifest lists this one's.
    out.committed()?;
    let current: Vec<String> = out
        .attachments()
        .into_iter()
        .map(|a| a.path)
        .chain(rejects_file.clone())
        .collect();
    let current: Vec<&str> = current.iter().map(String::as_str).collect();
    crate::manifest::remove_stale(out_dir, &previous, &current);
    let mut warnings = input.warnings;
    warnings.extend(warning);
    warnings.extend(crate::report::direction_warning(profile, &data));
    warnings.extend(out.warnings());
    let manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        generator: format!("usage-report {}", env!("CARGO_PKG_VERSION")),
        invoice: invoice.id.clone(),
        customer: invoice.customer_id.clone(),
        profile: profile.name.clone(),
        period: Period {
            from: invoice.from.to_string(),
            to: invoice.to.to_string(),
        },
        time_zone: invoice.zone_name().to_string(),
        currency: invoice.currency.clone(),
        input: InputSection {
            files: input.files,
            counts: input.counts,
            rejects_file,
        },
        totals: TotalsSection::from(&reports.totals),
        attachments: out.attachments(),
        warnings,
        sample: options.sample.map(|s| crate::manifest::SampleSection {
            asked: job.sample.map_or(s.rows, |r| r.rows),
            rows: s.rows,
            of: s.of,
            seed: s.seed,
            whole_calls: s.whole_calls,
            whole_total: s.whole_total.to_exact_string(2),
        }),
        input_hash: input.input_hash,
        profile_document: job.profile.to_document(),
        profile_sha256: job.profile.sha256(),
        rendered: crate::manifest::RenderedSection {
            formats: formats.iter().map(|f| f.key().to_string()).collect(),
            header: options.header.key().to_string(),
            sanitize: options.sanitize,
            paper: options.paper.key().to_string(),
            itemisation: job.itemisation,
            customer_name: invoice.customer_name.clone(),
            on_bad_record: match input.rejects {
                Rejects::None => "fail",
                Rejects::Here(_) | Rejects::Elsewhere(_) => "skip",
            }
            .to_string(),
            dedupe: input.dedupe,
            legs: job.profile.legs.key().to_string(),
        },
    };
    let json = manifest.to_json();
    out.file(MANIFEST_FILE, |w| {
        w.write_all(&json).map_err(|e| Error::io(MANIFEST_FILE, e))
    })?;
    crate::fault::reached("manifest");
    Ok(manifest)
}

pub use crate::manifest::MANIFEST_FILE;
pub const REJECTS_FILE: &str = "rejects.csv";

/// `split`: for every group of the level, the profile's reports at that level
/// for that group only, in `split-<level>/<group>/` (or, with `split_zip`,
/// in one `<invoice>_by_<level>.zip`). Every group's totals are checked to
/// add up to the invoice's.
#[allow(clippy::too_many_arguments)]
fn write_split(
    profile: &Profile,
    invoice: &Invoice,
    data: &Dataset,
    formats: &[Format],
    options: &RenderOptions,
    out: &OutputDir,
    level: crate::level::Level,
    invoice_totals: &crate::report::Totals,
) -> Result<()> {
    let mut group_profile = profile.clone();
    group_profile.reports.retain(|r| r.level == level);
    group_profile.split = None;
    let groups = crate::report::group_datasets(data, level);
    // Titles name a group in the document's words; folder names are the
    // same in every locale (a pipeline finds them by name).
    let named = |words: crate::locale::Words| -> Vec<String> {
        groups
            .iter()
            .map(|(k, _)| match data.str(*k) {
                "" => words.no_key(level).to_string(),
                text => text.to_string(),
            })
            .collect()
    };
    let words = crate::locale::Presentation::new(profile.locale, None).words();
    let labels = named(words);
    let english = named(crate::locale::Words::default());
    let label_refs: Vec<&str> = english.iter().map(String::as_str).collect();
    let folders = crate::output::unique_names(&label_refs, &[]);
    let base = format!("split-{}", level.key());
    let mut sum = crate::report::Totals::default();
    let mut attachments = Vec::new();
    for (((key, group), label), folder) in groups.iter().zip(&labels).zip(&folders) {
        let reports = InvoiceReports::build(invoice, &group_profile, group)?;
        sum.merge(&reports.totals)
            .map_err(|_| Error::Overflow(format!("the {} groups", level.key())))?;
        let dir = out.path().join(&base).join(folder);
        let group_out = OutputDir::create(&dir)?;
        let mut group_options = options.clone();
        group_options.scope = Some(format!("{} {label}", words.level(level)));
        for format in formats {
            format
                .renderer(&group_options)
                .render(&reports, &group_out)?;
        }
        group_out.committed()?;
        crate::output::sync_dir(&dir)?;
        for w in group_out.warnings() {
            out.warn(w);
        }
        for mut a in group_out.attachments() {
            a.path = format!("{base}/{folder}/{}", a.path);
            a.group = Some(data.str(*key).to_string());
            attachments.push(a);
        }
    }
    // The groups partition the invoice's records.
    if &sum != invoice_totals {
        return Err(Error::Reconcile(format!(
            "the {} groups add up to {sum:?}, the invoice to {invoice_totals:?}",
            level.key()
        )));
    }
    if !profile.split_zip {
        // The groups' folders are entries of this one: durable before the
        // manifest lists their files.
        if !groups.is_empty() {
            crate::output::sync_dir(&out.path().join(&base))?;
        }
        out.adopt(attachments);
        return Ok(());
    }
    let name = format!(
        "{}_by_{}.zip",
        crate::output::safe_file_name(&invoice.display_id()),
        level.key()
    );
    let rows = attachments.iter().map(|a| a.rows).sum();
    let meta = crate::output::AttachmentMeta {
        file_name: name.clone(),
        format: "zip",
        level: Some(level.key()),
        report: None,
    };
    out.attachment(meta, |w| {
        let paths: Vec<&str> = attachments.iter().map(|a| a.path.as_str()).collect();
        let bytes = crate::output::deterministic_zip(out.path(), &paths, &name)?;
        w.write_all(&bytes).map_err(|e| Error::io(&name, e))?;
        Ok(rows)
    })?;
    out.set_entries(&name, attachments);
    let _ = std::fs::remove_dir_all(out.path().join(&base));
    Ok(())
}

/// `rejects.csv`: file, line, column, reason and the raw record, one line per
/// rejected record, in input order. Text a spreadsheet would run as a
/// formula gets a leading `'` like every other CSV written (unless
/// `sanitize` is off); the raw record is recovered by removing it.
pub fn write_rejects(out: &OutputDir, rejects: &[Reject], sanitize: bool) -> Result<()> {
    write_rejects_as(out, REJECTS_FILE, rejects, sanitize)
}

/// [`write_rejects`] under another name (a partition's part writes
/// `rejects-P.csv`).
pub fn write_rejects_as(
    out: &OutputDir,
    name: &str,
    rejects: &[Reject],
    sanitize: bool,
) -> Result<()> {
    // A field that starts with ' is guarded too, so removing one leading '
    // from a field that has one always gives the text back.
    let guard = |text: &str| -> String {
        let formula = crate::render::cells::needs_guard(text, crate::column::ColumnKind::Text);
        if sanitize && (formula || text.starts_with('\'')) {
            format!("'{text}")
        } else {
            text.to_string()
        }
    };
    out.file(name, |w| {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(w);
        let io = |e: csv::Error| Error::csv(name, e);
        csv.write_record(["file", "line", "column", "reason", "record"])
            .map_err(io)?;
        for r in rejects {
            let line = r.problem.line.to_string();
            let column = r.problem.column.as_deref().unwrap_or("");
            csv.write_record([
                guard(&r.problem.file),
                line,
                column.to_string(),
                guard(&r.problem.reason),
                guard(&r.raw),
            ])
            .map_err(io)?;
        }
        csv.flush().map_err(|e| Error::io(name, e))?;
        Ok(())
    })?;
    Ok(())
}

/// The profile as a customer's consent allows: without consent to itemised
/// bills its `calls` reports are withheld, and a warning says which and why.
pub fn consent(
    profile: &Profile,
    itemisation: bool,
) -> (std::borrow::Cow<'_, Profile>, Option<String>) {
    if itemisation || !profile.has_kind(crate::level::ReportKind::Calls) {
        return (std::borrow::Cow::Borrowed(profile), None);
    }
    let (limited, withheld) = profile.without_itemisation();
    let note = format!(
        "itemised call reports withheld ({}): the customer has not consented to itemised bills",
        withheld.join(", ")
    );
    (std::borrow::Cow::Owned(limited), Some(note))
}

/// Applies the profile's privacy options to an invoice's records before any
/// report is built: `mask_dialled_digits` hides the last digits of every
/// dialled number, in every format.
pub fn apply_privacy(profile: &Profile, data: &mut Dataset) {
    let Some(digits) = profile.mask_dialled_digits.filter(|d| *d > 0) else {
        return;
    };
    let Dataset { strings, calls, .. } = data;
    let strings = std::sync::Arc::make_mut(strings);
    // Dialled numbers are stored a call each (not interned): one masked
    // copy each.
    for c in calls.iter_mut() {
        let text = mask_digits(strings.get(c.dialled), digits);
        c.dialled = strings.push(&text);
    }
}

/// `0207946 0000` with 4 → `0207946 ****`: the last `digits` digits become
/// `*`, separators stay.
pub fn mask_digits(text: &str, digits: u32) -> String {
    let mut left = digits;
    let mut out: Vec<char> = text.chars().collect();
    for ch in out.iter_mut().rev() {
        if left == 0 {
            break;
        }
        if ch.is_ascii_digit() {
            *ch = '*';
            left -= 1;
        }
    }
    out.into_iter().collect()
}

/// Finds call ids that appear more than once in an invoice: each is named in
/// a warning (up to 20, then a count); with `drop`, every repeat after the
/// first occurrence in input order is removed. Returns the warnings and the
/// number of calls dropped.
pub fn check_duplicates(data: &mut Dataset, drop: bool) -> (Vec<String>, u64) {
    // The legs of a forwarded call may share its call id: a repeat is the
    // same id on the same leg. Call ids are stored, not interned: their
    // text is compared.
    let strings = std::sync::Arc::clone(&data.strings);
    let mut seen: rustc_hash::FxHashMap<(&str, crate::records::Leg), u32> =
        rustc_hash::FxHashMap::default();
    seen.reserve(data.calls.len());
    for c in &data.calls {
        *seen.entry((strings.get(c.call_id), c.leg)).or_default() += 1;
    }
    let mut repeated: Vec<(&str, u32)> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|((s, _), n)| (*s, *n))
        .collect();
    repeated.sort();
    let verb = if drop { "; repeats dropped" } else { "" };
    let mut warnings: Vec<String> = repeated
        .iter()
        .take(DUPLICATE_WARNINGS)
        .map(|(id, n)| format!("call_id {id:?} appears {n} times{verb}"))
        .collect();
    if repeated.len() > DUPLICATE_WARNINGS {
        warnings.push(format!(
            "{} more call ids appear more than once{verb}",
            repeated.len() - DUPLICATE_WARNINGS
        ));
    }
    let mut dropped = 0;
    if drop && !repeated.is_empty() {
        let mut kept: rustc_hash::FxHashSet<(&str, crate::records::Leg)> =
            rustc_hash::FxHashSet::default();
        let before = data.calls.len();
        data.calls
            .retain(|c| kept.insert((strings.get(c.call_id), c.leg)));
        dropped = (before - data.calls.len()) as u64;
    }
    (warnings, dropped)
}
