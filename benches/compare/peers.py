"""The tools a billing team would otherwise use, doing the engine's work.

Each subcommand produces the same reports as `usage-report` for the same
generated input, so `compare.sh` can time them side by side and check that
the outputs agree. Thread counts are limited by the caller (environment and
flags) so every tool gets the same number of cores.
"""

import argparse
import csv
import decimal
import glob
import os
import sys
from pathlib import Path

LEVELS = [("customer", "customer_id"), ("site", "site"), ("campaign", "campaign"), ("number", "number")]
CALL_COLUMNS = ["call_id", "start_time", "site", "campaign", "number", "caller", "dialled", "destination",
                "call_type", "direction", "duration", "billed_duration", "rate", "charge"]
TX_COLUMNS = ["transaction_id", "date", "site", "number", "transaction_type", "description", "quantity",
              "unit_price", "amount"]
TEXT = ["record_type", "customer_id", "site", "campaign", "number", "call_id", "caller", "dialled",
        "destination", "call_type", "direction", "transaction_id", "transaction_type", "description"]


def profile(catalog):
    """The catalogue's one profile: its reports per level and its columns."""
    import tomllib
    paths = glob.glob(f"{catalog}/profiles/*.toml")
    if len(paths) != 1:
        sys.exit(f"expected one TOML profile in {catalog}/profiles, found {len(paths)}")
    with open(paths[0], "rb") as f:
        doc = tomllib.load(f)
    return doc["reports"], doc.get("call_columns", CALL_COLUMNS), doc.get("transaction_columns", TX_COLUMNS)


def customers(catalog):
    with open(Path(catalog) / "invoices.csv", newline="") as f:
        return sorted({row["customer_id"] for row in csv.DictReader(f)})


# ---------------------------------------------------------------- DuckDB
def duckdb_csv(args):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads={args.threads}")
    con.execute("SET preserve_insertion_order=false")
    types = {c: "VARCHAR" for c in TEXT}
    types.update({"start_time": "TIMESTAMPTZ", "duration": "BIGINT", "billed_duration": "BIGINT",
                  "rate": "DECIMAL(18,6)", "charge": "DECIMAL(18,6)", "date": "DATE",
                  "quantity": "DECIMAL(18,6)", "unit_price": "DECIMAL(18,6)", "amount": "DECIMAL(18,6)"})
    with open(args.records, newline="") as f:
        header = next(csv.reader(f))
    cols = ", ".join(f"'{k}': '{types.get(k, 'VARCHAR')}'" for k in header)
    con.execute("SET TimeZone='UTC'")
    con.execute(f"""
        CREATE TABLE r AS SELECT * REPLACE (coalesce(site, '') AS site, coalesce(campaign, '') AS campaign,
                                            coalesce(number, '') AS number)
        FROM read_csv('{args.records}', header=true, columns={{{cols}}})
        WHERE customer_id IN (SELECT customer_id FROM read_csv('{args.catalog}/invoices.csv', header=true, all_varchar=true))
          AND ((record_type = 'call' AND start_time >= TIMESTAMPTZ '2026-10-01 00:00:00+00'
                                    AND start_time <  TIMESTAMPTZ '2026-11-01 00:00:00+00')
            OR (record_type = 'transaction' AND date >= DATE '2026-10-01' AND date < DATE '2026-11-01'))
    """)
    out = args.out
    os.makedirs(out, exist_ok=True)
    reports, call_columns, tx_columns = profile(args.catalog)
    for level, key in LEVELS:
        keysel = "customer_id AS k" if key == "customer_id" else f"{key} AS k"
        summary = f"""
            SELECT customer_id AS cust, {keysel},
              count(*) FILTER (WHERE record_type='call') AS calls,
              coalesce(sum(duration), 0) AS duration,
              coalesce(sum(coalesce(billed_duration, duration)), 0) AS billed_duration,
              coalesce(sum(charge), 0) AS call_charge,
              count(*) FILTER (WHERE record_type='transaction') AS transactions,
              coalesce(sum(amount), 0) AS transaction_amount,
              coalesce(sum(charge), 0) + coalesce(sum(amount), 0) AS total
            FROM r GROUP BY ALL ORDER BY cust, k"""
        call_types = f"""
            SELECT customer_id AS cust, {keysel}, coalesce(call_type, '') AS call_type, count(*) AS calls,
              sum(duration) AS duration, sum(coalesce(billed_duration, duration)) AS billed_duration,
              sum(charge) AS call_charge
            FROM r WHERE record_type='call' GROUP BY ALL ORDER BY cust, k, call_type"""
        calls = f"""
            SELECT customer_id AS cust, {keysel}, {", ".join(call_columns)} FROM r WHERE record_type='call'
            ORDER BY cust, k, start_time, call_id"""
        txs = f"""
            SELECT customer_id AS cust, {keysel}, {", ".join(tx_columns)} FROM r WHERE record_type='transaction'
            ORDER BY cust, k, date, transaction_id"""
        for report, query in [("summary", summary), ("call_types", call_types), ("calls", calls),
                              ("transactions", txs)]:
            if report not in reports.get(level, []):
                continue
            con.execute(f"""COPY ({query}) TO '{out}/{level}_{report}'
                            (FORMAT CSV, HEADER, PARTITION_BY (cust), OVERWRITE_OR_IGNORE)""")


# ---------------------------------------------------------------- polars
def polars_csv(args):
    import polars as pl
    schema = {c: pl.String for c in TEXT}
    schema.update({"start_time": pl.String, "duration": pl.Int64, "billed_duration": pl.Int64,
                   "rate": pl.String, "charge": pl.String, "date": pl.String, "quantity": pl.String,
                   "unit_price": pl.String, "amount": pl.String})
    dec = pl.Decimal(18, 6)
    wanted = customers(args.catalog)
    df = (pl.scan_csv(args.records, schema=schema)
          .filter(pl.col("customer_id").is_in(wanted))
          .with_columns([pl.col(c).fill_null("") for c in ["site", "campaign", "number"]])
          .with_columns(pl.col("start_time").str.to_datetime(time_zone="UTC"),
                        pl.col("date").str.to_date(),
                        *[pl.col(c).cast(dec) for c in ["rate", "charge", "quantity", "unit_price", "amount"]],
                        pl.coalesce("billed_duration", "duration").alias("billed_duration"))
          .filter(((pl.col("record_type") == "call")
                   & (pl.col("start_time") >= pl.datetime(2026, 10, 1, time_zone="UTC"))
                   & (pl.col("start_time") < pl.datetime(2026, 11, 1, time_zone="UTC")))
                  | ((pl.col("record_type") == "transaction")
                     & (pl.col("date") >= pl.date(2026, 10, 1)) & (pl.col("date") < pl.date(2026, 11, 1))))
          .collect())
    calls = df.filter(pl.col("record_type") == "call")
    txs = df.filter(pl.col("record_type") == "transaction")
    wanted_reports, call_columns, tx_columns = profile(args.catalog)
    reports = {}
    for level, key in LEVELS:
        k = pl.col(key).alias("k")
        made = {
            "summary": lambda: (df.group_by("customer_id", k).agg(
                (pl.col("record_type") == "call").sum().alias("calls"),
                pl.col("duration").sum().alias("duration"),
                pl.col("billed_duration").sum().alias("billed_duration"),
                pl.col("charge").sum().alias("call_charge"),
                (pl.col("record_type") == "transaction").sum().alias("transactions"),
                pl.col("amount").sum().alias("transaction_amount"))
                .with_columns((pl.col("call_charge").fill_null(0) + pl.col("transaction_amount").fill_null(0)).alias("total"))
                .sort("customer_id", "k")),
            "call_types": lambda: (calls.group_by("customer_id", k, "call_type").agg(
                pl.len().alias("calls"), pl.col("duration").sum(), pl.col("billed_duration").sum(),
                pl.col("charge").sum().alias("call_charge")).sort("customer_id", "k", "call_type")),
            "calls": lambda: calls.sort("customer_id", key, "start_time", "call_id").select("customer_id", k, *call_columns),
            "transactions": lambda: txs.sort("customer_id", key, "date", "transaction_id").select("customer_id", k, *tx_columns),
        }
        for report in wanted_reports.get(level, []):
            reports[f"{level}_{report}"] = made[report]()
    for name, frame in reports.items():
        for (cust,), part in frame.partition_by("customer_id", as_dict=True, maintain_order=True).items():
            folder = Path(args.out) / name / f"cust={cust}"
            folder.mkdir(parents=True, exist_ok=True)
            part.drop("customer_id").write_csv(folder / "data_0.csv")


# ---------------------------------------------------------------- pandas + XlsxWriter
def pandas_xlsx(args):
    """The engine's workbook for one customer's itemised calls: a title block,
    a frozen, filterable header, typed cells and a total row."""
    import pandas as pd
    df = pd.read_csv(args.records, dtype=str, keep_default_na=False)
    calls = df[(df.record_type == "call") & (df.customer_id == args.customer)].copy()
    calls["start_time"] = pd.to_datetime(calls.start_time, utc=True).dt.tz_localize(None)
    calls["duration"] = calls.duration.astype(int) / 86400.0
    calls["charge"] = calls.charge.map(decimal.Decimal)
    calls = calls.sort_values(["start_time", "call_id"])
    total = sum(calls.charge, decimal.Decimal(0))
    calls["charge"] = calls.charge.astype(float)
    cols = ["customer_id", "call_id", "start_time", "dialled", "duration", "charge"]
    os.makedirs(args.out, exist_ok=True)
    title = 7  # title, five facts, a blank row
    # Not constant_memory: pandas writes a frame column by column, and
    # XlsxWriter's constant_memory mode drops writes to rows already flushed.
    with pd.ExcelWriter(Path(args.out) / "usage.xlsx", engine="xlsxwriter") as xw:
        wb = xw.book
        bold = wb.add_format({"bold": True})
        ws = wb.add_worksheet("Customer calls")
        xw.sheets["Customer calls"] = ws
        ws.write_string(0, 0, "Customer calls", wb.add_format({"bold": True, "font_size": 14}))
        for i, (k, v) in enumerate([("Customer", args.customer), ("Invoice", args.customer),
                                    ("Period", "2026-10-01 to 2026-10-31"), ("Time zone", "UTC"),
                                    ("Profile", "Calls")]):
            ws.write_string(1 + i, 0, k)
            ws.write_string(1 + i, 1, v)
        ws.set_column(2, 2, 19, wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}))
        ws.set_column(4, 4, 10, wb.add_format({"num_format": "[h]:mm:ss"}))
        ws.set_column(5, 5, 10, wb.add_format({"num_format": "#,##0.00"}))
        calls[cols].to_excel(xw, sheet_name="Customer calls", index=False, startrow=title)
        last = title + len(calls) + 1
        ws.write_string(last, 0, "Total", bold)
        ws.write_number(last, 4, calls.duration.sum(), wb.add_format({"bold": True, "num_format": "[h]:mm:ss"}))
        ws.write_number(last, 5, float(total), wb.add_format({"bold": True, "num_format": "#,##0.00"}))
        ws.freeze_panes(title + 1, 0)
        ws.autofilter(title, 0, last, len(cols) - 1)
    print(len(calls))


def check_xlsx(args):
    """Both workbooks list the same calls in the same order with the same charges."""
    from openpyxl import load_workbook

    def calls(path):
        book = load_workbook(path, read_only=True)
        # The engine's workbook opens with the invoice's overview sheet.
        ws = book["Customer calls"] if "Customer calls" in book.sheetnames else book.worksheets[0]
        ws.reset_dimensions()  # trust the rows, not the recorded dimension
        found = []
        for row in ws.iter_rows(values_only=True):
            if len(row) > 5 and isinstance(row[1], str) and row[1].startswith("CL"):
                found.append((row[1], round(decimal.Decimal(repr(row[5])), 6)))
        return found

    engine = calls(glob.glob(f"{args.engine}/*.xlsx")[0])
    peer = calls(glob.glob(f"{args.peer}/*.xlsx")[0])
    if engine != peer:
        print(f"DISAGREE: {len(engine)} vs {len(peer)} itemised calls")
        sys.exit(1)
    print(f"agree: {len(engine)} itemised calls in order, total {sum(c for _, c in engine)}")


# ---------------------------------------------------------------- ReportLab
def reportlab_pdf(args):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import LongTable, SimpleDocTemplate, TableStyle
    rows = []
    with open(args.records, newline="") as f:
        for row in csv.DictReader(f):
            if row["record_type"] == "call" and row["customer_id"] == args.customer:
                rows.append(row)
    rows.sort(key=lambda r: (r["start_time"], r["call_id"]))
    rows = rows[: args.rows]
    cols = ["call_id", "start_time", "caller", "dialled", "destination", "call_type", "duration",
            "billed_duration", "charge"]
    data = [cols] + [[r[c] for c in cols] for r in rows]
    doc = SimpleDocTemplate(args.out, pagesize=landscape(A4))
    table = LongTable(data, repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 7),
                               ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("ALIGN", (6, 1), (-1, -1), "RIGHT")]))
    doc.build([table])
    print(len(rows))


def check_pdf(args):
    """ReportLab's table lists the engine's first calls, in the same order."""
    import json
    import re
    from pypdf import PdfReader

    def call_ids(path, wanted=None):
        ids = []
        for page in PdfReader(path).pages:
            ids += re.findall(r"CL\d{10}", page.extract_text())
            if wanted is not None and len(ids) >= wanted:
                break
        return ids

    peer = call_ids(args.peer)
    engine_pdf = glob.glob(f"{args.engine}/*.pdf")[0]
    engine = call_ids(engine_pdf, len(peer))[: len(peer)]
    manifest = json.load(open(f"{args.engine}/manifest.json"))
    rows = sum(a["rows"] for a in manifest["attachments"])
    if engine != peer or rows != args.rows:
        print(f"DISAGREE: first {len(peer)} calls differ or the engine drew {rows} rows, not {args.rows}")
        sys.exit(1)
    print(f"agree: the same first {len(peer)} calls in order; the engine drew all {rows}")


# ---------------------------------------------------------------- agreement
def read_totals(path_glob, charge_col, key_col=None):
    """Sum of a money column per customer over CSV files."""
    totals = {}
    for path in glob.glob(path_glob, recursive=True):
        cust = next((p.split("=", 1)[1] for p in Path(path).parts if "=" in p), None)
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                c = cust or row.get(key_col)
                totals[c] = totals.get(c, decimal.Decimal(0)) + decimal.Decimal(row[charge_col] or "0")
    return totals


def check(args):
    """The engine's and a peer's customer summaries agree to the last digit."""
    engine = read_totals(f"{args.engine}/*/customer_summary.csv", "total", "customer_id")
    peer = read_totals(f"{args.peer}/customer_summary/**/*.csv", "total")
    rows_engine = sum(1 for p in glob.glob(f"{args.engine}/*/number_calls.csv") for _ in open(p)) - len(engine)
    rows_peer = sum(sum(1 for _ in open(p)) - 1 for p in glob.glob(f"{args.peer}/number_calls/**/*.csv", recursive=True))
    bad = [c for c in engine if engine[c] != peer.get(c)]
    if bad or len(engine) != len(peer) or rows_engine != rows_peer:
        print(f"DISAGREE: {len(bad)} customers differ; invoices {len(engine)} vs {len(peer)}; "
              f"itemised rows {rows_engine} vs {rows_peer}")
        sys.exit(1)
    print(f"agree: {len(engine)} invoices, total {sum(engine.values())}, {rows_engine} itemised calls")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ["duckdb-csv", "polars-csv"]:
        s = sub.add_parser(name)
        s.add_argument("--records", required=True)
        s.add_argument("--catalog", required=True)
        s.add_argument("--out", required=True)
        s.add_argument("--threads", type=int, default=os.cpu_count())
    s = sub.add_parser("pandas-xlsx")
    s.add_argument("--records", required=True)
    s.add_argument("--customer", required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("reportlab-pdf")
    s.add_argument("--records", required=True)
    s.add_argument("--customer", required=True)
    s.add_argument("--rows", type=int, required=True)
    s.add_argument("--out", required=True)
    for name in ["check", "check-xlsx", "check-pdf"]:
        s = sub.add_parser(name)
        s.add_argument("--engine", required=True)
        s.add_argument("--peer", required=True)
        s.add_argument("--rows", type=int, default=0)
    args = p.parse_args()
    {"duckdb-csv": duckdb_csv, "polars-csv": polars_csv, "pandas-xlsx": pandas_xlsx,
     "reportlab-pdf": reportlab_pdf, "check": check, "check-xlsx": check_xlsx,
     "check-pdf": check_pdf}[args.cmd](args)


if __name__ == "__main__":
    main()
