//! The catalogue's files as the service reads and writes them: a version for
//! each profile file (a hash of its bytes, so a hand edit changes it),
//! atomic writes of profiles and tables, and the append-only audit log.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::run::catalog::Catalog;

/// The version of a file's bytes: what `ETag` and `If-Match` carry.
pub fn version(bytes: &[u8]) -> String {
    crate::hash::hex(&Sha256::digest(bytes)[..8])
}

/// A profile file's document and version.
pub fn profile_document(path: &Path) -> Result<(Value, String)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    let is_json = path.extension().is_some_and(|e| e == "json");
    let value = crate::profile::Profile::document(&text, is_json, &path.display().to_string())?;
    Ok((value, version(&bytes)))
}

/// A TOML profile file edited to hold `value`, keeping what a person wrote
/// around it: comments, key order, and every key whose value did not
/// change stays as it was; changed keys are replaced, removed keys go, new
/// keys are added at the end.
pub fn edited_toml(original: &str, value: &Value) -> Result<Vec<u8>> {
    let before = crate::profile::Profile::document(original, false, "the profile file")?;
    let mut doc: toml_edit::DocumentMut = original
        .parse()
        .map_err(|e| Error::Usage(format!("the profile file is not TOML: {e}")))?;
    let new: toml_edit::DocumentMut = String::from_utf8(profile_text(value, false)?)
        .expect("TOML is text")
        .parse()
        .map_err(|e| Error::Usage(format!("the profile cannot be written as TOML: {e}")))?;
    let old_keys: Vec<String> = doc.iter().map(|(k, _)| k.to_string()).collect();
    for key in old_keys {
        if !new.contains_key(&key) {
            doc.remove(&key);
        }
    }
    for (key, item) in new.iter() {
        if before.get(key) == value.get(key) && doc.contains_key(key) {
            continue;
        }
        match doc.get_mut(key) {
            Some(existing) => *existing = item.clone(),
            None => {
                doc.insert(key, item.clone());
            }
        }
    }
    Ok(doc.to_string().into_bytes())
}

/// The profile document as file text, in the file's own format (a new
/// profile is TOML, the catalogue's usual form).
pub fn profile_text(value: &Value, json: bool) -> Result<Vec<u8>> {
    if json {
        let mut bytes = serde_json::to_vec_pretty(value).expect("JSON serialises");
        bytes.push(b'\n');
        return Ok(bytes);
    }
    fn strip_nulls(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip_nulls(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
            other => other.clone(),
        }
    }
    toml::to_string_pretty(&strip_nulls(value))
        .map(String::into_bytes)
        .map_err(|e| Error::Usage(format!("the profile cannot be written as TOML: {e}")))
}

/// A file name for a new profile: made from its name, unique in the folder.
pub fn new_profile_path(catalog: &Catalog, dir: &Path, name: &str) -> PathBuf {
    let taken: Vec<String> = std::fs::read_dir(dir.join("profiles"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".toml")
                .to_string()
        })
        .collect();
    let _ = catalog;
    let mut raw: Vec<&str> = taken.iter().map(String::as_str).collect();
    let wanted = name.to_ascii_lowercase().replace(' ', "-");
    raw.push(&wanted);
    let names = crate::output::unique_names(&raw, &[]);
    dir.join("profiles").join(format!(
        "{}.toml",
        names.last().expect("one name per raw name")
    ))
}

/// Sets one cell of a catalogue table (`customers.csv`, `invoices.csv`): the
/// row whose `key_column` is `key`, column `column`. Returns the file's new
/// bytes, or `None` when no row has that key.
pub fn set_cell(
    path: &Path,
    key_column: &str,
    key: &str,
    column: &str,
    value: &str,
) -> Result<Option<Vec<u8>>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::csv(path, e))?;
    let mut headers = reader.headers().map_err(|e| Error::csv(path, e))?.clone();
    let key_at = headers
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}') == key_column);
    let Some(key_at) = key_at else {
        return Ok(None);
    };
    let at = match headers.iter().position(|h| h == column) {
        Some(at) => at,
        None => {
            headers.push_field(column);
            headers.len() - 1
        }
    };
    let mut rows = Vec::new();
    let mut found = false;
    for record in reader.records() {
        let record = record.map_err(|e| Error::csv(path, e))?;
        let mut fields: Vec<String> = record.iter().map(str::to_string).collect();
        while fields.len() < headers.len() {
            fields.push(String::new());
        }
        if fields[key_at].trim() == key {
            fields[at] = value.to_string();
            found = true;
        }
        rows.push(fields);
    }
    if !found {
        return Ok(None);
    }
    // Kept as the file was written: its line ends and byte order mark.
    let original = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let terminator = if original.windows(2).any(|w| w == b"\r\n") {
        csv::Terminator::CRLF
    } else {
        csv::Terminator::Any(b'\n')
    };
    let mut out = Vec::new();
    if original.starts_with(b"\xEF\xBB\xBF") {
        out.extend_from_slice(b"\xEF\xBB\xBF");
        let fields: Vec<String> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if i == 0 {
                    h.trim_start_matches('\u{feff}').to_string()
                } else {
                    h.to_string()
                }
            })
            .collect();
        headers = csv::StringRecord::from(fields);
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(terminator)
        .from_writer(out);
    writer
        .write_record(&headers)
        .map_err(|e| Error::csv(path, e))?;
    for row in &rows {
        writer.write_record(row).map_err(|e| Error::csv(path, e))?;
    }
    Ok(Some(
        writer
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?,
    ))
}

/// One change, appended to `DIR/audit.jsonl` (and made durable) once it has
/// landed.
pub fn audit(
    dir: &Path,
    user: &str,
    action: &str,
    target: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<()> {
    let path = dir.join("audit.jsonl");
    let line = serde_json::json!({
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "user": user,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
    });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    writeln!(file, "{line}")
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&path, e))
}

/// Validates the catalogue as it would be with `table` replaced by `bytes`,
/// on a copy in a temporary folder (the same code as `profiles check`).
pub fn check_with(dir: &Path, table: &str, bytes: &[u8]) -> Result<()> {
    let scratch = crate::output::Scratch::new("check")?;
    let copy = scratch.path();
    // The profiles are read where they are: the logos and fonts they name
    // are relative to their folder. Only the tables are copies.
    let profiles = std::fs::canonicalize(dir.join("profiles")).map_err(|e| Error::io(dir, e))?;
    let link = copy.join("profiles");
    std::os::unix::fs::symlink(&profiles, &link).map_err(|e| Error::io(&link, e))?;
    for name in ["customers.csv", "invoices.csv"] {
        let target = copy.join(name);
        if name == table {
            std::fs::write(&target, bytes).map_err(|e| Error::io(&target, e))?;
        } else {
            std::fs::copy(dir.join(name), &target).map_err(|e| Error::io(&target, e))?;
        }
    }
    Catalog::load(copy).map(|_| ()).map_err(|e| match e {
        Error::Invalid(mut p) => {
            // Problems name the real catalogue's files, not the copy's.
            let (from, to) = (copy.display().to_string(), dir.display().to_string());
            p.source = p.source.replace(&from, &to);
            for problem in &mut p.problems {
                problem.path = problem.path.replace(&from, &to);
            }
            Error::Invalid(p)
        }
        other => other,
    })
}
