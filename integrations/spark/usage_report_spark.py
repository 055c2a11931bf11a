#!/usr/bin/env python3
"""A usage-report billing run on Spark: Spark reads the records, splits them
into N shards by the engine's own customer hash, and every task renders its
shard with `usage-report run --shard K/N` over only that shard's records.

The driver then writes `<target>/runs.json` with every shard's summary and
checks that the shards add up to one run: records, in-scope records and
invoice statuses. The engine does the billing; Spark only moves records, so
the attachments are byte-identical to one `usage-report run` over the same
input. See the README section "Past one machine: Spark and Kubernetes".

    python usage_report_spark.py --records calls.csv --shards 4 \\
        --catalog cat --binary usage-report --target /shared/out -- --format csv

Everything after `--` goes to `usage-report run` unchanged. Nothing here
imports pyspark until Spark is needed, so the hash and its test vectors run
with plain Python (`test_vectors.py`, or `--self-check`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# --- The shard hash: the engine's, bit for bit (src/run/mod.rs `Shard::owns`).

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a64(text: str) -> int:
    """64-bit FNV-1a of the text's UTF-8 bytes: xor each byte, then multiply."""
    h = FNV_OFFSET
    for b in text.encode("utf-8"):
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def shard_of(customer_id: str | None, count: int) -> int:
    """The shard that renders a customer's invoices. The id is the field's raw
    text, never trimmed; a missing one (a Parquet null) is the empty id."""
    return fnv1a64(customer_id or "") % count


VECTORS_FILE = Path(__file__).resolve().with_name("shard_vectors.json")


def check_vectors(path: Path = VECTORS_FILE) -> int:
    """Checks the hash against the vectors shared with the Rust tests; returns
    how many were checked, raises AssertionError on the first mismatch."""
    vectors = json.loads(path.read_text(encoding="utf-8"))
    assert vectors, f"{path} holds no vectors"
    for v in vectors:
        cid = v["customer_id"]
        got = f"{fnv1a64(cid):016x}"
        assert got == v["fnv1a64"], f"fnv1a64({cid!r}) = {got}, vectors say {v['fnv1a64']}"
        for n, k in v["shards"].items():
            got_k = shard_of(cid, int(n))
            assert got_k == k, f"shard of {cid!r} in {n} = {got_k}, vectors say {k}"
    return len(vectors)


# Published FNV-1a 64 test values, checked at start-up so a job whose copy of
# this file was mangled refuses to shard anything.
_FNV_KNOWN = {"": 0xCBF29CE484222325, "a": 0xAF63DC4C8601EC8C, "foobar": 0x85944171F73967E8}


def _assert_hash_sane() -> None:
    for text, want in _FNV_KNOWN.items():
        if fnv1a64(text) != want:
            raise SystemExit(f"usage-report-spark: fnv1a64({text!r}) is wrong; refusing to shard")


# --- The command line.

PARTITION_VERSION = 1
PART_FILE = "part-00000.parquet"
PARTITION_FILE = "_partition.json"
RUNS_FILE = "runs.json"
# `usage-report run` flags the job sets itself for every shard.
RESERVED = ("--shard", "--records", "--out", "--catalog", "--invoice", "--customer")
# Columns the engine parses as decimals or whole numbers: a floating-point
# Parquet column among them is refused, as the engine refuses it.
NUMERIC_COLUMNS = ("duration", "billed_duration", "rate", "charge", "quantity", "unit_price", "amount")
# Helper columns that carry each record's input position through the shuffle.
_ARG, _FILE, _ROW = "__usage_report_arg", "__usage_report_file", "__usage_report_row"


def parse_args(argv: list[str]) -> argparse.Namespace:
    if "--" in argv:
        cut = argv.index("--")
        own, passthrough = argv[:cut], argv[cut + 1 :]
    else:
        own, passthrough = argv, []
    p = argparse.ArgumentParser(
        prog="usage_report_spark.py",
        description="Render a usage-report billing run on Spark, one task per shard. "
        "Arguments after `--` go to `usage-report run` unchanged.",
    )
    p.add_argument("--records", action="append", default=[], metavar="PATH",
                   help="records to read: a file, folder or glob Spark reads (repeat for several)")
    p.add_argument("--format", choices=("csv", "parquet"),
                   help="format of the --records (default: parquet for *.parquet/*.parq, else csv)")
    p.add_argument("--table", metavar="NAME", help="read the records from this Spark table instead")
    p.add_argument("--shards", type=int, metavar="N", help="number of shards (tasks)")
    p.add_argument("--catalog", metavar="DIR", help="the catalogue folder (a path, or the name it was shipped under)")
    p.add_argument("--binary", metavar="PATH", default="usage-report",
                   help="the usage-report binary (a path, or the name it was shipped under; default usage-report)")
    p.add_argument("--target", metavar="DIR",
                   help="where every shard's output goes: a filesystem path visible to the driver and every executor")
    p.add_argument("--work", metavar="DIR",
                   help="local scratch on each executor (default: a new temporary folder per task)")
    p.add_argument("--keep-work", action="store_true", help="leave each task's scratch folder in place")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="--jobs for each shard's run (default: spark.task.cpus, usually 1)")
    p.add_argument("--master", help="Spark master (default: spark-submit's, else $SPARK_MASTER, else local[2])")
    p.add_argument("--ship", action="store_true",
                   help="ship --binary and --catalog from the driver to the executors (SparkContext.addFile)")
    p.add_argument("--self-check", action="store_true",
                   help="check the shard hash against shard_vectors.json and exit (no Spark)")
    args = p.parse_args(own)
    args.passthrough = passthrough
    if args.self_check:
        return args
    problems = []
    if not args.records and not args.table:
        problems.append("give --records PATH (repeatable) or --table NAME")
    if args.records and args.table:
        problems.append("--records and --table exclude each other")
    if args.shards is None or args.shards < 1:
        problems.append("--shards N is required, N >= 1")
    for flag in ("catalog", "target"):
        if not getattr(args, flag):
            problems.append(f"--{flag} is required")
    if args.jobs is not None and args.jobs < 1:
        problems.append("--jobs must be at least 1")
    for a in passthrough:
        if a.split("=", 1)[0] in RESERVED:
            problems.append(f"{a.split('=', 1)[0]} after `--` is set by the job itself for each shard")
    if problems:
        p.error("; ".join(problems))
    return args


# --- The driver.


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.self_check:
        n = check_vectors()
        print(f"usage-report-spark: fnv1a64 agrees with {n} vectors in {VECTORS_FILE.name}")
        return 0
    _assert_hash_sane()
    started = time.time()
    spark, scratch = start_spark(args)
    try:
        return run_job(spark, args, started)
    finally:
        spark.stop()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def start_spark(args):
    """A SparkSession: spark-submit's when launched by it, else local. Local
    mode never touches the network: no UI, loopback only, local scratch."""
    launched_by_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    master = args.master or (None if launched_by_submit else os.environ.get("SPARK_MASTER") or "local[2]")
    scratch = None
    if master and master.startswith("local"):
        # Python workers must be this interpreter (the venv with pyspark and pyarrow).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        scratch = tempfile.mkdtemp(prefix="usage-report-spark-local-")
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("usage-report")
    if master:
        b = b.master(master)
    # Timestamps of Parquet sources print in UTC; the console progress bar
    # would interleave with the engine's own lines.
    b = b.config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
    if scratch:
        b = (b.config("spark.ui.enabled", "false")
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.local.dir", scratch)
             .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
             .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={scratch}"))
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark, scratch


def input_format(path: str, given: str | None) -> str:
    if given:
        return given
    return "parquet" if path.lower().rstrip("/").endswith((".parquet", ".parq")) else "csv"


def local_files(path: str) -> list[str] | None:
    """A local folder's records files in the engine's order and under the
    names it gives them: each folder's entries by name, folders followed
    (links to folders not), hidden and `_…` names, `*.json` and
    `rejects*.csv` left out. None when `path` is not a local folder (a file,
    a glob, hdfs://…): Spark expands it."""
    if "://" in path or not os.path.isdir(path):
        return None
    found = []

    def walk(folder: str) -> None:
        with os.scandir(folder) as entries:
            for e in sorted(entries, key=lambda e: e.name):
                if e.name.startswith((".", "_")):
                    continue
                if e.is_dir(follow_symlinks=False):
                    walk(os.path.join(folder, e.name))
                elif e.is_file() and not (e.name.endswith(".json")
                                          or (e.name.startswith("rejects") and e.name.endswith(".csv"))):
                    found.append(os.path.join(folder, e.name))

    walk(path)
    return found


def csv_reader(reader):
    return (reader.option("header", "true").option("inferSchema", "false")
            # Quoted fields may hold line breaks: a file is read whole, in
            # order. RFC 4180 quoting: `""` inside quotes is a quote.
            .option("multiLine", "true").option("quote", '"').option("escape", '"')
            .option("encoding", "UTF-8")
            # Every file's header must match the first's; a ragged row stops
            # the job rather than being padded or cut.
            .option("enforceSchema", "false").option("mode", "FAILFAST"))


def read_records(spark, args):
    """Every records source as one DataFrame of string columns with the
    original names, plus the helper columns holding each record's position
    (argument, file, row within the file). Also returns the input names the
    engine would give (a local folder's files, else the argument) and the
    physical lines of the CSV inputs, which the shards' manifests report."""
    from pyspark.sql import functions as F

    frames, names, lines = [], [], 0
    sources = [("table", args.table)] if args.table else [("path", r) for r in args.records]
    for i, (kind, source) in enumerate(sources):
        if kind == "table":
            df, fmt = spark.table(source), "table"
            names.append(f"table:{source}")
        else:
            fmt = input_format(source, args.format)
            paths = local_files(source)
            if paths == []:
                raise SystemExit(f"usage-report-spark: {source}: no records files in the folder")
            names.extend(paths or [source])
            paths = paths or [source]
            recursive = "true" if paths == [source] and "://" in source else "false"

            def reader():  # options accumulate on a reader: a new one each time
                return spark.read.option("recursiveFileLookup", recursive)

            if fmt == "csv":
                df = csv_reader(reader()).csv(paths)
                # Physical lines as the engine counts them: every `\n`, and a
                # last line without one.
                lines += reader().option("lineSep", "\n").text(paths).count()
            else:
                df = reader().option("mergeSchema", "true").parquet(*paths)
        df = as_text(df, fmt, source)
        df = (df.withColumn(_ARG, F.lit(i))
              .withColumn(_FILE, F.coalesce(F.input_file_name(), F.lit("")))
              .withColumn(_ROW, F.monotonically_increasing_id()))
        frames.append(df)
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other, allowMissingColumns=True)
    data_columns = [c for c in df.columns if c not in (_ARG, _FILE, _ROW)]
    if "customer_id" not in data_columns:
        raise SystemExit(f"usage-report-spark: the records have no customer_id column (columns: {data_columns})")
    df = df.select(*[quoted(c) for c in data_columns + [_ARG, _FILE, _ROW]])
    return df, data_columns, names, lines


def file_ranks(names: list[str]) -> dict[str, int]:
    """Each local input file's place in the engine's order, by the paths
    Spark reports for it (absolute, links resolved or not)."""
    ranks: dict[str, int] = {}
    for rank, name in enumerate(names):
        if "://" in name or name.startswith("table:"):
            continue
        for path in (os.path.abspath(name), os.path.realpath(name)):
            ranks.setdefault(path, rank)
    return ranks


def file_rank(ranks: dict[str, int], uri: str) -> int:
    """The rank of the file Spark names with `uri` (file:///…); files Spark
    expanded itself (globs, hdfs://…) come after, ordered by name."""
    if not uri:
        return 0
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        return len(ranks)
    return ranks.get(unquote(parsed.path), len(ranks))


def quoted(name: str):
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def as_text(df, fmt: str, source: str):
    """Every column as the exact text the engine would read. CSV columns are
    text already (an empty field reads as null: written back as empty);
    Parquet and table columns are cast, timestamps as RFC 3339 in UTC."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    cols = []
    for field in df.schema.fields:
        name, c = field.name, quoted(field.name)
        clean = name.lstrip("\ufeff")  # a UTF-8 BOM the CSV reader left on the first name
        t = field.dataType
        if fmt == "csv":
            c = F.coalesce(c, F.lit(""))
        elif isinstance(t, (T.FloatType, T.DoubleType)) and clean in NUMERIC_COLUMNS:
            raise SystemExit(f"usage-report-spark: {source}: column {clean} is floating point; "
                             "amounts must be DECIMAL, integer or text (the engine refuses floats too)")
        elif isinstance(t, T.TimestampType) or type(t).__name__ == "TimestampNTZType":
            whole = F.date_format(c, "yyyy-MM-dd'T'HH:mm:ssXXX")
            frac = F.date_format(c, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
            c = F.when(F.date_format(c, "SSSSSS") == "000000", whole).otherwise(frac)
        elif not isinstance(t, T.StringType):
            c = c.cast("string")
        cols.append(c.alias(clean))
    return df.select(*cols)


def run_job(spark, args, started: float) -> int:
    from pyspark.sql import functions as F

    n = args.shards
    sc = spark.sparkContext
    df, columns, names, lines = read_records(spark, args)
    # Spark decodes text with replacement: a byte that is not UTF-8 becomes
    # U+FFFD, where the engine would refuse the record. Refuse it here.
    replaced = F.instr(F.concat_ws("\n", *[quoted(c) for c in columns]), "\ufffd") > 0
    try:
        counts = df.agg(F.count(F.lit(1)).alias("records"),
                        F.sum(F.when(replaced, 1).otherwise(0)).alias("replaced")).first()
        input_records = counts["records"]
        if counts["replaced"]:
            where = df.filter(replaced).select(_FILE, "customer_id").first()
            print(f"usage-report-spark: {counts['replaced']} record(s) hold U+FFFD, the mark of bytes that "
                  f"are not UTF-8 (the first in {where[0] or 'the table'}, customer {where[1]!r}); "
                  "convert the records to UTF-8 first. No shard ran.", file=sys.stderr)
            return 1
    except Exception as e:  # Py4JJavaError and kin: Spark's own log has the trace
        said = [line.strip() for line in str(e).splitlines() if line.strip()]
        cause = next((line for line in said if "Malformed CSV record" in line or "CSV header" in line),
                     said[0] if said else type(e).__name__)
        print(f"usage-report-spark: reading the records failed, no shard ran: {cause}", file=sys.stderr)
        return 1

    if args.ship:
        sc.addFile(os.path.abspath(args.binary))
        sc.addFile(os.path.abspath(args.catalog), recursive=True)
    jobs = args.jobs or int(sc.getConf().get("spark.task.cpus", "1"))
    cfg = {
        "shards": n,
        "columns": columns,
        "files": names,
        "lines": lines,
        "binary": args.binary if not os.path.exists(args.binary) else os.path.abspath(args.binary),
        "catalog": args.catalog if not os.path.exists(args.catalog) else os.path.abspath(args.catalog),
        "target": os.path.abspath(args.target),
        "work": args.work,
        "keep_work": args.keep_work,
        "jobs": jobs,
        "passthrough": list(args.passthrough),
    }
    os.makedirs(cfg["target"], exist_ok=True)
    customer = columns.index("customer_id")
    ncols = len(columns)

    ranks = file_ranks(names)

    def keyed(row):
        # Key: (shard, argument, file's rank, file, row): the partitioner
        # sends it to partition `shard`, the sort keeps each shard in the
        # order one run would read the records.
        uri = row[ncols + 1]
        return ((shard_of(row[customer], n), row[ncols], file_rank(ranks, uri), uri, row[ncols + 2]),
                tuple(row[:ncols]))

    summaries = (df.rdd.map(keyed)
                 .repartitionAndSortWithinPartitions(n, partitionFunc=lambda key: key[0])
                 .mapPartitionsWithIndex(lambda index, rows: [shard_task(cfg, index, rows)])
                 .collect())
    report = reconcile(summaries, n, input_records)
    report.update({
        "target": cfg["target"],
        "records_arguments": list(args.records) if args.records else [f"table:{args.table}"],
        "input_files": names,
        "input_lines": lines,
        "columns": columns,
        "catalog": args.catalog,
        "binary": args.binary,
        "passthrough": cfg["passthrough"],
        "spark": {"master": sc.master, "application_id": sc.applicationId, "version": spark.version},
        "seconds": round(time.time() - started, 3),
    })
    stale = sorted(d.name for d in Path(cfg["target"]).glob("shard=*")
                   if d.is_dir() and not (d.name[6:].isdigit() and int(d.name[6:]) < n))
    report["stale_shard_folders"] = stale
    write_json_atomic(Path(cfg["target"]) / RUNS_FILE, report)

    for run in report["runs"]:
        print(f"usage-report-spark: shard {run['shard']}: {run['status']} (exit {run['exit_code']}), "
              f"{run['records']} records, {run['invoices']} invoices", file=sys.stderr)
    for check in report["checks"]:
        if not check["ok"]:
            print(f"usage-report-spark: check failed: {check['name']}: {check['detail']}", file=sys.stderr)
    if stale:
        print(f"usage-report-spark: {cfg['target']} also holds {', '.join(stale)} from another run", file=sys.stderr)
    t = report["totals"]
    print(f"usage-report-spark: {n} shards, {input_records} records, {t['invoices']} invoices "
          f"({t['rendered']} rendered, {t['refused']} refused, {t['failed']} failed); "
          f"reconciled: {str(report['reconciled']).lower()}; {cfg['target']}/{RUNS_FILE}", file=sys.stderr)
    if not report["reconciled"] or any(r["status"] == "failed" for r in report["runs"]):
        return 1
    return 3 if any(r["status"] == "refused" for r in report["runs"]) else 0


# --- One task: one shard.


def shard_task(cfg: dict, shard: int, rows) -> dict:
    """Writes the shard's records to local Parquet with their _partition.json,
    runs `usage-report run --shard K/N` over them and copies its output folder
    to the target. Any failure becomes the shard's summary, never a lost task."""
    n = cfg["shards"]
    began = time.time()
    summary = {"shard": shard, "host": socket.gethostname(), "exit_code": None, "status": "failed",
               "records_given": 0, "error": None, "stderr_tail": [], "run": None}
    work = None
    try:
        work = (Path(cfg["work"]).resolve() if cfg["work"]
                else Path(tempfile.mkdtemp(prefix="usage-report-spark-")))
        records_dir = work / f"shard={shard}"
        out_dir = work / "out" / f"shard={shard}"
        for d in (records_dir, out_dir):
            shutil.rmtree(d, ignore_errors=True)
        records_dir.mkdir(parents=True)
        out_dir.parent.mkdir(parents=True, exist_ok=True)

        count = write_parquet(records_dir / PART_FILE, cfg["columns"], (values for _, values in rows))
        summary["records_given"] = count
        partition = {
            "partition_version": PARTITION_VERSION,
            "shard": f"{shard}/{n}",
            "files": cfg["files"],
            "lines": cfg["lines"],
            "parts": [{"file": PART_FILE, "from": None, "records": count}] if count else [],
        }
        write_json_atomic(records_dir / PARTITION_FILE, partition)

        binary = locate_binary(cfg["binary"], work)
        catalog = locate(cfg["catalog"], "catalogue", is_catalog)
        cmd = [binary, "run", "--shard", f"{shard}/{n}", "--catalog", catalog,
               "--records", str(records_dir), "--out", str(out_dir)]
        if not any(a.split("=", 1)[0] == "--jobs" for a in cfg["passthrough"]):
            cmd += ["--jobs", str(cfg["jobs"])]
        cmd += cfg["passthrough"]
        summary["command"] = cmd
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, errors="replace")
        sys.stderr.write(proc.stderr)  # the task's log keeps the engine's own lines
        summary["exit_code"] = proc.returncode
        summary["stderr_tail"] = proc.stderr.splitlines()[-20:]

        run_file = out_dir / "run.json"
        if run_file.is_file():
            summary["run"] = digest_run(json.loads(run_file.read_text(encoding="utf-8")))
        if out_dir.is_dir():  # a run that could not start (exit 2) leaves none
            copy_into(out_dir, Path(cfg["target"]) / f"shard={shard}")
        error = summary["run"] and summary["run"]["error"]
        if proc.returncode == 0 and summary["run"] and not error:
            summary["status"] = "done"
        elif proc.returncode == 3 and summary["run"] and not error:
            summary["status"] = "refused"
        else:
            summary["error"] = error or (f"usage-report exited with {proc.returncode}"
                                         + ("" if summary["run"] else " and wrote no run.json"))
    except Exception as e:  # reported in runs.json; the driver fails the job
        summary["error"] = f"{type(e).__name__}: {e}"
    finally:
        if work is not None and not cfg["keep_work"]:
            if cfg["work"]:
                shutil.rmtree(work / f"shard={shard}", ignore_errors=True)
                shutil.rmtree(work / "out" / f"shard={shard}", ignore_errors=True)
                try:
                    (work / "out").rmdir()  # once no other task of this executor uses it
                except OSError:
                    pass
            else:
                shutil.rmtree(work, ignore_errors=True)
    summary["seconds"] = round(time.time() - began, 3)
    return summary


def write_parquet(path: Path, columns: list[str], rows, batch: int = 65536) -> int:
    """Streams rows of text into one Parquet file of UTF-8 string columns;
    writes nothing for no rows. Returns the count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(c, pa.string()) for c in columns])
    writer, count, buf = None, 0, []

    def flush():
        nonlocal writer
        if writer is None:
            writer = pq.ParquetWriter(str(path), schema)
        arrays = [pa.array([r[i] for r in buf], pa.string()) for i in range(len(columns))]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        buf.clear()

    try:
        for r in rows:
            buf.append(r)
            count += 1
            if len(buf) == batch:
                flush()
        if buf:
            flush()
    finally:
        if writer is not None:
            writer.close()
    return count


def is_catalog(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "invoices.csv"))


def locate(given: str, what: str, ok) -> str:
    """The path of a file shipped with the job, on this executor: as given
    (local mode, or a path every node has), else by its name among the files
    Spark shipped (--files, --archives, --ship) or in the working folder. An
    archive unpacked to a folder holding one folder is looked into."""
    name = os.path.basename(given.rstrip("/"))
    tried = [given]
    try:
        from pyspark import SparkFiles

        tried.append(os.path.join(SparkFiles.getRootDirectory(), name))
    except Exception:
        pass
    tried.append(os.path.join(os.getcwd(), name))
    for path in tried:
        if ok(path):
            return os.path.abspath(path)
        if os.path.isdir(path):
            inner = [os.path.join(path, d) for d in os.listdir(path)]
            inner = [d for d in inner if os.path.isdir(d) and ok(d)]
            if len(inner) == 1:
                return os.path.abspath(inner[0])
    raise FileNotFoundError(f"{what} {given!r} is not on executor {socket.gethostname()}: tried "
                            + ", ".join(tried) + " (ship it with spark-submit --files/--archives, or --ship)")


def locate_binary(given: str, work: Path) -> str:
    path = locate(given, "binary", os.path.isfile)
    if not os.access(path, os.X_OK):
        # A shipped file may have lost its mode: run a private executable copy.
        copy = work / "bin" / os.path.basename(path)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        copy.chmod(0o755)
        path = str(copy)
    return path


def copy_into(src: Path, dest: Path) -> None:
    """Copies a shard's output folder to the target under a temporary name,
    then renames it into place, so a folder there is always whole; a retried
    task replaces the folder of its earlier attempt."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{socket.gethostname()}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    if dest.exists():
        shutil.rmtree(dest)
    os.rename(tmp, dest)


def digest_run(run: dict) -> dict:
    """What the driver needs of a shard's run.json."""
    return {
        "input": run.get("input", {}),
        "summary": run.get("summary", {}),
        "error": run.get("error"),
        "customers_without_records": run.get("customers_without_records", []),
        "invoices": [{k: inv.get(k) for k in ("invoice", "customer", "status", "in_scope", "folder")}
                     for inv in run.get("invoices", [])],
    }


def write_json_atomic(path: Path, value) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --- The driver's answer.

INPUT_SUMS = ("records", "in_scope", "not_invoiced", "rejected", "rejected_without_customer",
              "duplicates_dropped")
STATUS_SUMS = ("invoices", "rendered", "unchanged", "no_profile", "refused", "failed")


def reconcile(summaries: list[dict], n: int, input_records: int) -> dict:
    """runs.json: every shard's summary, the totals, and the checks that the
    shards add up to one run over the input Spark read."""
    checks = []

    def check(name, ok, detail=""):
        checks.append({"name": name, "ok": bool(ok), "detail": "" if ok else detail})

    by_shard = {}
    for s in summaries:
        by_shard.setdefault(s["shard"], []).append(s)
    missing = [k for k in range(n) if k not in by_shard]
    twice = [k for k, v in by_shard.items() if len(v) > 1]
    check("every shard ran once", not missing and not twice,
          f"missing shards {missing}, shards reported twice {twice}")

    runs, totals = [], {k: 0 for k in INPUT_SUMS + STATUS_SUMS}
    owner = {}
    for s in sorted(summaries, key=lambda s: s["shard"]):
        k, run = s["shard"], s["run"] or {}
        inp, summ, invoices = run.get("input", {}), run.get("summary", {}), run.get("invoices", [])
        row = {"shard": f"{k}/{n}", "status": s["status"], "exit_code": s["exit_code"],
               "error": s["error"], "host": s["host"], "seconds": s["seconds"],
               "records_given": s["records_given"]}
        row.update({f: inp.get(f, 0) for f in INPUT_SUMS})
        row.update({f: summ.get(f, 0) for f in STATUS_SUMS})
        row["invoice_list"] = invoices
        if s["status"] == "failed":
            row["stderr_tail"] = s["stderr_tail"]
        runs.append(row)
        if not s["run"]:
            check(f"shard {k}: run.json", False, s["error"] or "no run.json")
            continue
        for f in INPUT_SUMS + STATUS_SUMS:
            totals[f] += row[f]
        check(f"shard {k}: read the records it was given", inp.get("records") == s["records_given"],
              f"run.json says {inp.get('records')} records, the task gave {s['records_given']}")
        parts = inp.get("in_scope", 0) + inp.get("not_invoiced", 0) + inp.get("rejected", 0)
        check(f"shard {k}: records = in_scope + not_invoiced + rejected", inp.get("records") == parts,
              f"{inp.get('records')} != {parts}")
        inv_scope = sum(i.get("in_scope") or 0 for i in invoices)
        check(f"shard {k}: in_scope = the invoices' in_scope", inp.get("in_scope") == inv_scope,
              f"{inp.get('in_scope')} != {inv_scope}")
        counted = {st: sum(1 for i in invoices if i.get("status") == st) for st in STATUS_SUMS[1:]}
        check(f"shard {k}: statuses add up",
              summ.get("invoices") == len(invoices) and all(summ.get(st, 0) == c for st, c in counted.items()),
              f"summary {summ}, invoices listed {len(invoices)}, statuses {counted}")
        foreign = [i["invoice"] for i in invoices if shard_of(i.get("customer"), n) != k]
        check(f"shard {k}: only its own customers", not foreign, f"invoices of other shards: {foreign[:10]}")
        for i in invoices:
            owner.setdefault(i["invoice"], []).append(k)

    dup = {inv: ks for inv, ks in owner.items() if len(ks) > 1}
    check("every invoice in one shard", not dup, f"in several shards: {dict(list(dup.items())[:10])}")
    check("records = what Spark read", totals["records"] == input_records,
          f"the shards read {totals['records']} records, Spark read {input_records}")
    check("records = in_scope + not_invoiced + rejected",
          totals["records"] == totals["in_scope"] + totals["not_invoiced"] + totals["rejected"],
          f"{totals}")
    return {
        "runs_version": 1,
        "shards": n,
        "input_records": input_records,
        "reconciled": all(c["ok"] for c in checks),
        "totals": totals,
        "checks": checks,
        "runs": runs,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
