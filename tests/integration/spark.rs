//! The Spark integration (`integrations/spark/usage_report_spark.py`) against
//! one `usage-report run`: Spark in `local[2]` splits generated records into
//! four shards, each task runs the binary on its shard, and together they
//! must write the same invoice folders, byte for byte, with a `runs.json`
//! that reconciles with the single run.
//!
//! Needs `USAGE_REPORT_SPARK_PYTHON`, a Python with the pinned pyspark and
//! pyarrow, and Java 17: `.ci/spark-env` sets both up. Without them these
//! tests fail, never skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::util::*;

const SHARDS: usize = 4;

fn job_script() -> PathBuf {
    root().join("integrations/spark/usage_report_spark.py")
}

/// The venv's Python, checked to run and to hold pyspark and pyarrow.
fn spark_python() -> PathBuf {
    let python = std::env::var_os("USAGE_REPORT_SPARK_PYTHON").unwrap_or_else(|| {
        panic!(
            "USAGE_REPORT_SPARK_PYTHON is not set: source .ci/spark-env first \
             (it makes the venv with the pinned pyspark and checks Java 17); \
             the Spark tests never skip"
        )
    });
    let python = PathBuf::from(python);
    let out = Command::new(&python)
        .args(["-c", "import pyspark, pyarrow; print(pyspark.__version__)"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "USAGE_REPORT_SPARK_PYTHON={} does not run: {e}; source .ci/spark-env",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "USAGE_REPORT_SPARK_PYTHON={} lacks pyspark or pyarrow: {}; source .ci/spark-env",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let java = match std::env::var_os("JAVA_HOME") {
        Some(home) => PathBuf::from(home).join("bin/java"),
        None => PathBuf::from("java"),
    };
    let version = Command::new(&java).arg("-version").output();
    assert!(
        matches!(&version, Ok(v) if v.status.success()),
        "Spark needs Java 17: `{} -version` failed ({version:?}); set JAVA_HOME or source .ci/spark-env",
        java.display()
    );
    python
}

/// Runs a Python with the Spark job's environment: workers and driver are
/// the same interpreter.
fn python_cmd(python: &Path, args: &[&str]) -> Output {
    Command::new(python)
        .args(args)
        .env("PYSPARK_PYTHON", python)
        .env("PYSPARK_DRIVER_PYTHON", python)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("the Python starts")
}

/// The last lines of a process's standard error, for a failure message.
fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The invoice folders of a run's output (every folder at its top) and
/// their files by path relative to the output (`INV-00001/manifest.json`):
/// attachments and manifests, leaving out run-level files such as run.json
/// and rejects.csv.
fn invoice_files(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !path.is_dir() || name.starts_with('.') {
            continue;
        }
        for (rel, bytes) in files(&path) {
            found.insert(format!("{name}/{rel}"), bytes);
        }
    }
    found
}

fn folder_of(rel: &str) -> &str {
    rel.split('/').next().unwrap()
}

#[test]
fn spark_shards_write_the_invoices_of_one_run_byte_for_byte() {
    let python = spark_python();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("records.csv");
    let catalog = dir.path().join("catalog");
    generate(&data, 20_000, 40, 7, Some(catalog.as_path()));
    let (data, catalog) = (data.to_str().unwrap(), catalog.to_str().unwrap());

    // The reference: one run of the whole input.
    let single = dir.path().join("single");
    ok(&[
        "run",
        "--catalog",
        catalog,
        "--records",
        data,
        "--out",
        single.to_str().unwrap(),
        "--jobs",
        "1",
    ]);
    let reference = run_report(&single);

    // The same input through Spark, four shards on two local cores.
    let target = dir.path().join("spark");
    let work = dir.path().join("work");
    let shards = SHARDS.to_string();
    let script = job_script();
    let out = python_cmd(
        &python,
        &[
            script.to_str().unwrap(),
            "--master",
            "local[2]",
            "--records",
            data,
            "--shards",
            &shards,
            "--catalog",
            catalog,
            "--binary",
            env!("CARGO_BIN_EXE_usage-report"),
            "--target",
            target.to_str().unwrap(),
            "--work",
            work.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "the Spark job failed ({:?}):\n{}",
        out.status,
        tail(&out.stderr, 60)
    );

    // Every invoice folder of the single run comes from exactly one shard,
    // with the same files holding the same bytes.
    let expected = invoice_files(&single);
    assert!(
        expected.keys().any(|rel| rel.ends_with("/manifest.json")),
        "the single run wrote invoices"
    );
    let mut actual: BTreeMap<String, (usize, Vec<u8>)> = BTreeMap::new();
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for k in 0..SHARDS {
        let shard_out = target.join(format!("shard={k}"));
        assert!(
            shard_out.join("run.json").is_file(),
            "{} has run.json",
            shard_out.display()
        );
        for (rel, bytes) in invoice_files(&shard_out) {
            let folder = folder_of(&rel).to_string();
            match owner.insert(folder.clone(), k) {
                Some(other) if other != k => panic!("{folder} rendered by shards {other} and {k}"),
                _ => {}
            }
            actual.insert(rel, (k, bytes));
        }
    }
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the shards' invoice files differ from the single run's"
    );
    for (rel, bytes) in &expected {
        let (k, got) = &actual[rel];
        assert!(
            got == bytes,
            "{rel} from shard={k} differs from the single run's\n--- spark ---\n{}\n--- single ---\n{}",
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(bytes)
        );
    }

    // runs.json: every shard finished, and the shards add up to the run.
    let text = std::fs::read_to_string(target.join("runs.json")).expect("runs.json written");
    let runs: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(runs["reconciled"], true, "{text}");
    assert_eq!(runs["shards"], SHARDS, "{text}");
    let shard_runs = runs["runs"].as_array().unwrap();
    assert_eq!(shard_runs.len(), SHARDS, "{text}");
    for (k, run) in shard_runs.iter().enumerate() {
        assert_eq!(run["shard"], format!("{k}/{SHARDS}"), "{text}");
        assert_eq!(run["status"], "done", "{run}");
        assert_eq!(run["exit_code"], 0, "{run}");
        assert_eq!(run["records"], run["records_given"], "{run}");
    }
    let input = &reference["input"];
    assert_eq!(runs["input_records"], input["records"], "{text}");
    let totals = &runs["totals"];
    for field in ["records", "in_scope", "not_invoiced", "rejected"] {
        assert_eq!(totals[field], input[field], "totals.{field}: {text}");
    }
    let summary = &reference["summary"];
    for field in [
        "invoices",
        "rendered",
        "unchanged",
        "no_profile",
        "refused",
        "failed",
    ] {
        assert_eq!(totals[field], summary[field], "totals.{field}: {text}");
    }
    assert_eq!(
        owner.len() as u64,
        summary["rendered"].as_u64().unwrap(),
        "every rendered invoice has one folder among the shards"
    );
}

#[test]
fn the_job_hashes_customer_ids_with_the_shared_vectors() {
    // Plain Python, no Spark: the job's FNV-1a against shard_vectors.json.
    let python = spark_python();
    let vectors = root().join("integrations/spark/test_vectors.py");
    let out = python_cmd(&python, &[vectors.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "integrations/spark/test_vectors.py failed:\n{}",
        tail(&out.stderr, 40)
    );
    let script = job_script();
    let out = python_cmd(&python, &[script.to_str().unwrap(), "--self-check"]);
    assert!(
        out.status.success(),
        "--self-check failed:\n{}",
        tail(&out.stderr, 40)
    );
}
