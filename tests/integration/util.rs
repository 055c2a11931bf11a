//! Shared helpers: run the binary, read outputs, compare with golden files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> String {
    root().join("fixtures").join(name).display().to_string()
}

/// Runs `usage-report` with arguments, from the crate root.
pub fn run(args: &[&str]) -> Output {
    run_with_stdin(args, None)
}

pub fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_usage-report"));
    cmd.args(args).current_dir(root());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary starts");
    if let Some(bytes) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Runs and asserts success, returning stderr.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "usage-report {args:?} failed: {stderr}"
    );
    stderr
}

/// Runs and asserts the exit code, returning stderr.
pub fn fails(args: &[&str], code: i32) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(code),
        "usage-report {args:?}: {stderr}"
    );
    stderr
}

/// The standard ACME October render arguments with a profile and output folder.
pub fn acme_args<'a>(profile: &'a str, records: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "render",
        "--profile",
        profile,
        "--records",
        records,
        "--customer",
        "ACME",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--timezone",
        "Europe/London",
        "--invoice",
        "INV-2026-10-0042",
        "--out",
        out,
    ]
}

pub fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json written");
    serde_json::from_str(&text).unwrap()
}

/// `usage-report gen`: `calls` calls of `customers` customers with `seed`
/// into `out`, and with `catalog` a catalogue for them.
pub fn generate(out: &Path, calls: u64, customers: u64, seed: u64, catalog: Option<&Path>) {
    let (calls, customers, seed) = (calls.to_string(), customers.to_string(), seed.to_string());
    let mut args = vec![
        "gen",
        "--calls",
        &calls,
        "--customers",
        &customers,
        "--seed",
        &seed,
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(catalog) = catalog {
        args.extend(["--catalog", catalog.to_str().unwrap()]);
    }
    ok(&args);
}

/// Writes a catalogue folder: `profiles/<name>` files, `customers.csv`
/// and `invoices.csv`; returns the folder.
pub fn catalog(dir: &Path, profiles: &[(&str, &str)], customers: &str, invoices: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("profiles")).unwrap();
    for (name, text) in profiles {
        std::fs::write(dir.join("profiles").join(name), text).unwrap();
    }
    std::fs::write(dir.join("customers.csv"), customers).unwrap();
    std::fs::write(dir.join("invoices.csv"), invoices).unwrap();
    dir.to_path_buf()
}

/// A run's `run.json`.
pub fn run_report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("run.json")).expect("run.json written");
    serde_json::from_str(&text).unwrap()
}

/// Every file of a folder (recursively) by relative path.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// Compares a folder with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites
/// the golden copy instead (review the diff before committing it).
pub fn assert_golden(dir: &Path, name: &str) {
    let golden = root().join("tests/golden").join(name);
    let actual = files(dir);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        for (rel, bytes) in &actual {
            let path = golden.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        return;
    }
    let expected = files(&golden);
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "file list differs from tests/golden/{name}"
    );
    for (rel, bytes) in &actual {
        if bytes != &expected[rel] {
            panic!(
                "{rel} differs from tests/golden/{name}/{rel}\n--- actual ---\n{}\n--- expected ---\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&expected[rel])
            );
        }
    }
}

/// Reads a CSV attachment into rows of strings (header first).
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Asserts that every attachment the folder's manifest lists is whole: its
/// bytes hash to the manifest's SHA-256.
pub fn assert_attachments_whole(folder: &Path) {
    let m = manifest(folder);
    for a in m["attachments"].as_array().unwrap() {
        let bytes = std::fs::read(folder.join(a["path"].as_str().unwrap())).unwrap();
        assert_eq!(a["sha256"], sha256_hex(&bytes).as_str(), "{}", a["path"]);
    }
}

/// SHA-256 of bytes, in lowercase hex as manifests write it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
