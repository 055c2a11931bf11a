//! `usage-report partition` and `--records DIR/shard=K`: every record in
//! exactly one shard, the partition reconciles, and a run over a shard's
//! folder gives the same bytes as `run --shard K/N` over the original files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use usage_report::hash::shard_of;

use crate::util::*;

/// Generated records split into two files (the first large enough to be
/// read in parallel chunks), with a row of no customer, a row of the wrong
/// width and a multi-line quoted description in the second. Returns the
/// two files and the catalogue.
fn two_inputs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let all = dir.join("all.csv");
    let cat = dir.join("cat");
    generate(&all, 40_000, 30, 11, Some(&cat));
    let text = std::fs::read_to_string(&all).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    let (first, second) = lines.split_at(30_000);
    let a = dir.join("a.csv");
    std::fs::write(&a, format!("{header}\n{}\n", first.join("\n"))).unwrap();
    let mut second: Vec<String> = second.iter().map(|l| l.to_string()).collect();
    let fields = |line: &str| line.split(',').map(str::to_string).collect::<Vec<_>>();
    // A transaction's description over two lines (line 31 in the end).
    let transaction = second
        .iter()
        .position(|l| l.starts_with("transaction,") && !l.contains('"'))
        .expect("a transaction among the records");
    let mut quoted = fields(&second[transaction]);
    let description = header.split(',').position(|h| h == "description").unwrap();
    quoted[description] = "\"Two\nlines\"".into();
    second.remove(transaction);
    second.insert(27, quoted.join(","));
    // Line 11: an extra field (its customer known: the run judges it).
    let mut wide = second[4].clone();
    wide.push_str(",extra");
    second.insert(9, wide);
    // Line 21: no customer (the partition cannot place it).
    let mut nobody = fields(&second[5]);
    nobody[1] = String::new();
    second.insert(19, nobody.join(","));
    let b = dir.join("b.csv");
    std::fs::write(&b, format!("{header}\n{}\n", second.join("\n"))).unwrap();
    (a, b, cat)
}

/// Every record of a CSV file, of any width.
fn rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A shard run's files, but the run-level report and rejects (records the
/// partition rejected are in its own rejects file instead).
fn invoice_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = files(dir);
    all.retain(|name, _| name != "run.json" && name != "rejects.csv");
    all
}

/// `usage-report partition` of `inputs` into `shards` shards; its stderr.
fn partition_of(inputs: &[&Path], shards: &str, out: &Path, extra: &[&str]) -> String {
    ok(&partition_args(inputs, shards, out, extra))
}

/// The arguments of `usage-report partition`.
fn partition_args<'a>(
    inputs: &[&'a Path],
    shards: &'a str,
    out: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["partition"];
    for input in inputs {
        args.extend(["--records", input.to_str().unwrap()]);
    }
    args.extend(["--shards", shards, "--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    args
}

/// `run --shard` under `--on-bad-record skip`.
fn shard_run(cat: &Path, records: &[&Path], shard: &str, out: &Path) {
    assert_eq!(run_under(cat, records, shard, out, "skip"), Some(0));
}

/// `run --shard` under a policy; its exit code.
fn run_under(cat: &Path, records: &[&Path], shard: &str, out: &Path, policy: &str) -> Option<i32> {
    let output = run(&run_args(cat, records, shard, out, policy));
    assert!(
        output.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.code()
}

/// The arguments of `usage-report run --shard` under a policy.
fn run_args<'a>(
    cat: &'a Path,
    records: &[&'a Path],
    shard: &'a str,
    out: &'a Path,
    policy: &'a str,
) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--catalog",
        cat.to_str().unwrap(),
        "--shard",
        shard,
        "--on-bad-record",
        policy,
        "--out",
        out.to_str().unwrap(),
    ];
    for r in records {
        args.extend(["--records", r.to_str().unwrap()]);
    }
    args
}

/// Each invoice of a run.json with its status and reason.
fn statuses(out: &Path) -> Vec<(String, String, String)> {
    run_report(out)["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice"].to_string(),
                i["status"].to_string(),
                i["reason"].to_string(),
            )
        })
        .collect()
}

/// The data rows of every part file of a shard folder, in path order.
fn part_rows(shard: &Path) -> Vec<Vec<String>> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(shard)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    parts.sort();
    parts
        .iter()
        .flat_map(|p| rows(p))
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn every_record_lands_in_its_shard_once_and_shard_runs_equal_runs_over_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, cat) = two_inputs(dir.path());
    let parts = dir.path().join("parts");
    let said = partition_of(&[&a, &b], "3", &parts, &["--jobs", "2"]);
    assert!(said.contains("1 rejected (see rejects.csv)"), "{said}");

    // partition.json reconciles with the input.
    let report = read_json(&parts.join("partition.json"));
    let records_of = |path: &Path| rows(path).len() as u64;
    let (in_a, in_b) = (records_of(&a), records_of(&b));
    assert_eq!(report["files"][0]["records"], in_a);
    assert_eq!(report["files"][1]["records"], in_b);
    assert_eq!(report["records"], in_a + in_b);
    assert_eq!(report["rejected"], 1);
    let shards = report["shards"].as_array().unwrap();
    let written: u64 = shards.iter().map(|s| s["records"].as_u64().unwrap()).sum();
    assert_eq!(written + 1, in_a + in_b);

    // The row of no customer is rejected with its true file and line.
    let rejects = csv_rows(&parts.join("rejects.csv"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(rejects[1][0], b.to_str().unwrap());
    assert_eq!(rejects[1][1], "21");
    assert_eq!(rejects[1][2], "customer_id");

    // Every other record is in exactly one part, of its customer's shard,
    // with its original place and its fields unchanged.
    let original: BTreeMap<(String, String), Vec<String>> = [&a, &b]
        .iter()
        .flat_map(|path| {
            let name = path.to_str().unwrap().to_string();
            rows(path)
                .into_iter()
                .map(|r| {
                    let line = r.position().unwrap().line().to_string();
                    ((name.clone(), line), r.iter().map(str::to_string).collect())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut seen = BTreeMap::new();
    for (k, shard) in shards.iter().enumerate() {
        assert_eq!(shard["shard"], format!("{k}/3"));
        let rows = part_rows(&parts.join(format!("shard={k}")));
        assert_eq!(rows.len() as u64, shard["records"].as_u64().unwrap());
        for row in rows {
            let place = (row[0].clone(), row[1].clone());
            assert_eq!(original[&place], row[2..], "{place:?}");
            assert_eq!(shard_of(&row[3], 3), k as u32, "{place:?}");
            assert!(seen.insert(place, k).is_none(), "a record in two parts");
        }
    }
    assert_eq!(seen.len() as u64, written);
    assert!(seen.contains_key(&(b.to_str().unwrap().to_string(), "31".to_string())));

    // Runs over the shard folders give the bytes of runs over the original.
    for k in 0..3 {
        let shard = format!("{k}/3");
        let whole = dir.path().join(format!("whole{k}"));
        let mine = dir.path().join(format!("mine{k}"));
        shard_run(&cat, &[&a, &b], &shard, &whole);
        shard_run(&cat, &[&parts.join(format!("shard={k}"))], &shard, &mine);
        let (whole_files, mine_files) = (invoice_files(&whole), invoice_files(&mine));
        assert!(whole_files.len() > 10, "{:?}", whole_files.keys());
        for (name, bytes) in &whole_files {
            assert!(
                mine_files.get(name) == Some(bytes),
                "shard {shard}: {name} differs"
            );
        }
        assert_eq!(whole_files.len(), mine_files.len());
        // The run's rejects are the original's but the row the partition
        // rejected; the row of the wrong width is judged by its shard's run,
        // at its original place.
        let whole_rejects = csv_rows(&whole.join("rejects.csv"));
        let mine_rejects = csv_rows(&mine.join("rejects.csv"));
        let expected: Vec<_> = whole_rejects
            .into_iter()
            .filter(|r| r[1] != "21" || r[0] != b.to_str().unwrap())
            .collect();
        assert_eq!(mine_rejects, expected);
    }

    // Under the default policy a run over the shard fails what a run over
    // the files fails: the wrong-width row its customer's invoice, the row
    // of no customer (which the partition placed nowhere) every invoice.
    let (whole, mine) = (dir.path().join("whole-fail"), dir.path().join("mine-fail"));
    let code = run_under(&cat, &[&a, &b], "1/3", &whole, "fail");
    assert_eq!(code, Some(1));
    let shard = parts.join("shard=1");
    assert_eq!(run_under(&cat, &[&shard], "1/3", &mine, "fail"), code);
    assert_eq!(statuses(&mine), statuses(&whole));
    assert!(statuses(&mine)
        .iter()
        .all(|(_, status, _)| status == "\"failed\""));
    assert_eq!(invoice_files(&mine), invoice_files(&whole));

    // A shard's folder is for its own shard's run.
    let wrong_out = dir.path().join("wrong");
    let wrong = fails(&run_args(&cat, &[&shard], "2/3", &wrong_out, "fail"), 2);
    assert!(wrong.contains("holds shard 1/3 of a partition"), "{wrong}");

    // The shards' runs merge into one run.json: their records add up to
    // those the partition placed.
    let merged = dir.path().join("merged");
    let mut args = vec!["runs", "merge", merged.to_str().unwrap()];
    let mines: Vec<String> = (0..3)
        .map(|k| dir.path().join(format!("mine{k}")).display().to_string())
        .collect();
    args.extend(mines.iter().map(String::as_str));
    ok(&args);
    let merged = run_report(&merged);
    assert_eq!(merged["input"]["own_customers_only"], true);
    assert_eq!(merged["input"]["records"], written);
    assert_eq!(merged["summary"]["invoices"], 30);
}

#[test]
fn parts_split_by_input_file_equal_one_partition_and_parquet_parts_run_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, cat) = two_inputs(dir.path());
    let partition = |out: &Path, extra: &[&str]| partition_of(&[&a, &b], "2", out, extra);
    let one = dir.path().join("one");
    partition(&one, &[]);
    let split = dir.path().join("split");
    partition(&split, &["--part", "0/2"]);
    partition(&split, &["--part", "1/2"]);
    // Each part read one file; together they hold what one partition holds,
    // in the same order.
    let first = read_json(&split.join("partition-00000.json"));
    let second = read_json(&split.join("partition-00001.json"));
    assert_eq!(first["files"].as_array().unwrap().len(), 1);
    assert_eq!(second["files"][0]["file"], b.to_str().unwrap());
    assert_eq!(second["rejects_file"], "rejects-00001.csv");
    for k in 0..2 {
        let folder = format!("shard={k}");
        assert_eq!(
            part_rows(&split.join(&folder)),
            part_rows(&one.join(&folder))
        );
    }
    // A part written twice is refused; so is a folder that is not empty.
    let again = fails(&partition_args(&[&a], "2", &split, &["--part", "1/2"]), 2);
    assert!(again.contains("partition-00001.json"), "{again}");
    let busy = fails(&partition_args(&[&a], "2", &one, &[]), 2);
    assert!(busy.contains("not empty"), "{busy}");

    // A shard folder missing a part of a split partition is refused.
    let half = dir.path().join("half");
    partition(&half, &["--part", "0/2"]);
    let (half_shard, half_run) = (half.join("shard=1"), dir.path().join("half-run"));
    let missing = fails(&run_args(&cat, &[&half_shard], "1/2", &half_run, "fail"), 1);
    assert!(missing.contains("holds 1 of the 2 parts"), "{missing}");

    // A Parquet part cannot hold the row of the wrong width for its shard's
    // run: the partition stops on it, naming it.
    let refused = dir.path().join("refused");
    let out = run(&partition_args(
        &[&b],
        "2",
        &refused,
        &["--format", "parquet"],
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:11: has 24 fields but the header has 23",
            b.display()
        )),
        "{stderr}"
    );

    // Runs over the split folder and over Parquet parts give the bytes of
    // a run over the original.
    let parquet = dir.path().join("parquet");
    partition_of(&[&a], "2", &parquet, &["--format", "parquet"]);
    assert!(parquet.join("shard=1/part-00000.parquet").is_file());
    for (source, records) in [
        (&split, vec![a.as_path(), &b]),
        (&parquet, vec![a.as_path()]),
    ] {
        let whole = dir.path().join(format!("whole-{}", records.len()));
        shard_run(&cat, &records, "1/2", &whole);
        let out = dir.path().join(format!(
            "from-{}",
            source.file_name().unwrap().to_str().unwrap()
        ));
        shard_run(&cat, &[&source.join("shard=1")], "1/2", &out);
        let (whole_files, these) = (invoice_files(&whole), invoice_files(&out));
        assert!(whole_files.len() > 10);
        assert_eq!(these, whole_files, "{}", source.display());
    }
}

#[test]
fn empty_shards_still_name_their_files_and_the_shards_merge_into_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let (records, cat) = (dir.path().join("calls.csv"), dir.path().join("cat"));
    generate(&records, 3_000, 4, 5, Some(&cat));
    let parts = dir.path().join("parts");
    partition_of(&[&records], "8", &parts, &[]);
    let report = read_json(&parts.join("partition.json"));
    let empty = report["shards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["records"] == 0)
        .count();
    assert!(empty >= 4, "{report}");
    let whole = dir.path().join("whole");
    shard_run(&cat, &[&records], "0/1", &whole);
    let mut shards = Vec::new();
    for k in 0..8 {
        let out = dir.path().join(format!("shard{k}"));
        let folder = parts.join(format!("shard={k}"));
        shard_run(&cat, &[&folder], &format!("{k}/8"), &out);
        let report = run_report(&out);
        assert_eq!(report["input"]["files"][0], records.to_str().unwrap());
        assert!(report["input"]["lines"].as_u64().unwrap() > 3_000);
        shards.push(out.display().to_string());
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["runs", "merge", merged.to_str().unwrap()];
    args.extend(shards.iter().map(String::as_str));
    ok(&args);
    let (merged, whole) = (run_report(&merged), run_report(&whole));
    for key in [
        "files",
        "lines",
        "records",
        "in_scope",
        "not_invoiced",
        "rejected",
    ] {
        assert_eq!(merged["input"][key], whole["input"][key], "{key}");
    }
    assert_eq!(merged["summary"], whole["summary"]);
}

#[test]
fn a_shard_folder_is_exactly_the_parts_its_list_names() {
    let dir = tempfile::tempdir().unwrap();
    let records = fixture("records.csv");
    let parts = dir.path().join("parts");
    ok(&[
        "partition",
        "--records",
        &records,
        "--shards",
        "1",
        "--out",
        parts.to_str().unwrap(),
    ]);
    let shard = parts.join("shard=0");
    let render = |records: &Path| {
        let out = dir.path().join("out");
        let _ = std::fs::remove_dir_all(&out);
        run(&acme_args(
            "fixtures/profiles/everything.toml",
            records.to_str().unwrap(),
            out.to_str().unwrap(),
        ))
    };
    let good = render(&shard);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    // The manifest names the file the partition read, not its parts.
    let manifest = manifest(&dir.path().join("out"));
    assert_eq!(manifest["input"]["files"][0], records.as_str());

    let list_path = shard.join("_partition.json");
    let list = std::fs::read_to_string(&list_path).unwrap();
    // A file no list names is refused rather than read or left out unseen.
    std::fs::write(shard.join("part-00099.csv"), "record_type\n").unwrap();
    let stray = render(&shard);
    assert_eq!(stray.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stray.stderr).contains("no _partition.json lists"));
    std::fs::remove_file(shard.join("part-00099.csv")).unwrap();
    // A list cannot point outside its folder, nor name a part twice.
    for (hostile, says) in [
        (
            list.replace("\"part-00000.csv\"", "\"../../secret.csv\""),
            "is not a file name in this folder",
        ),
        (
            list.replacen(
                "\"parts\": [",
                "\"parts\": [{\"file\": \"part-00000.csv\", \"from\": null, \"records\": 1},",
                1,
            ),
            "listed twice",
        ),
        (
            list.replace("\"partition_version\": 1", "\"partition_version\": 9"),
            "partition_version 9",
        ),
    ] {
        std::fs::write(&list_path, &hostile).unwrap();
        let refused = render(&shard);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    std::fs::write(&list_path, &list).unwrap();
    assert!(render(&shard).status.success());

    // A part changed after the partition wrote it is refused, not read.
    let part = shard.join("part-00000.csv");
    let text = std::fs::read_to_string(&part).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let refuse = |changed: String, says: &str| {
        std::fs::write(&part, changed).unwrap();
        let refused = render(&shard);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    };
    let mut shorter = lines.clone();
    shorter.remove(3);
    refuse(shorter.join("\n") + "\n", "where its shard's list says");
    refuse(
        text.replacen(",3,", ",x3,", 1),
        "\"x3\" is not a line number",
    );
    std::fs::write(&part, &text).unwrap();
    // A folder inside a shard's folder is a stray too.
    std::fs::create_dir(shard.join("more")).unwrap();
    let stray = render(&shard);
    assert!(String::from_utf8_lossy(&stray.stderr).contains("no _partition.json lists"));
    std::fs::remove_dir(shard.join("more")).unwrap();
    // A part out of its folder (or a folder whose list is lost) is not read
    // as records of nowhere.
    let loose = dir.path().join("loose.csv");
    std::fs::copy(&part, &loose).unwrap();
    let refused = render(&loose);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no _partition.json of its folder lists it"),
        "{stderr}"
    );

    // Parts of one split partition cut from different lists of files are
    // refused together.
    let split = dir.path().join("split");
    let other = dir.path().join("other.csv");
    std::fs::copy(&records, &other).unwrap();
    let cut = |records: &[&str], part: &str| {
        let mut args = vec!["partition", "--shards", "1", "--part", part];
        for r in records {
            args.extend(["--records", r]);
        }
        args.extend(["--out", split.to_str().unwrap()]);
        ok(&args);
    };
    cut(&[&records, other.to_str().unwrap()], "0/2");
    cut(&[&records], "1/2");
    let refused = render(&split.join("shard=0"));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("cut from another list of input files"),
        "{stderr}"
    );
}
