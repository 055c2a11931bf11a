#!/usr/bin/env bash
# Times usage-report against the tools a billing team would otherwise use,
# on the same seeded input, with every tool limited to the same threads, and
# checks that their outputs agree. Prints one table (wall time, peak memory,
# ratio to the engine) from this one run.
#
#   benches/compare/compare.sh [CALLS] [CUSTOMERS] [THREADS]
#   benches/compare/compare.sh 1000000 200 2      # the default
#   TASKS=csv CSV_PEERS=duckdb benches/compare/compare.sh 10000000 1000 2
#                                                 # the large run (polars
#                                                 # needs ~2 GB per 10^6 calls)
#
# TASKS (default "csv xlsx pdf") picks the tasks, CSV_PEERS (default
# "duckdb polars") the peers of the CSV task, PROFILE (default
# fixtures/profiles/full-detail.toml: summaries at every level, call types
# per customer and campaign, itemised calls per site and number with ten
# call columns, transactions per number) the CSV task's profile; the
# generated callers and dialled numbers are random (nearly all distinct).
#
# Needs python3 (the peers are installed from PyPI into benches/compare/.venv)
# and /usr/bin/time. Work files go to benches/compare/work/ (git-ignored).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
calls=${1:-1000000}
customers=${2:-200}
threads=${3:-$(nproc)}
work="$here/work"
mkdir -p "$work"

if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
py="$here/.venv/bin/python"

(cd "$root" && cargo build --release --quiet)
engine="${CARGO_TARGET_DIR:-$root/target}/release/usage-report"

# Every tool gets the same number of threads.
export RAYON_NUM_THREADS=$threads POLARS_MAX_THREADS=$threads OMP_NUM_THREADS=$threads \
  OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

profile=${PROFILE:-$root/fixtures/profiles/full-detail.toml}
input="$work/calls-$calls-$customers.csv"
catalog="$work/catalog-$calls-$customers-$(basename "$profile" .toml)"
if [ ! -f "$input" ] || [ ! -d "$catalog" ]; then
  "$engine" gen --calls "$calls" --customers "$customers" --seed 1 --out "$input" \
    --catalog "$catalog" --catalog-profile "$profile"
fi
one="$work/calls-100000-1.csv"
[ -f "$one" ] || "$engine" gen --calls 100000 --customers 1 --seed 1 --out "$one"

results="$work/results.txt"
: > "$results"
# Earlier outputs are moved aside and deleted only after the measurements:
# on ext4 without a journal (this machine's disk) creating a file skips every
# inode freed in the last 5-35 seconds, one look each, so deleting ~2,000
# files right before a run made each new file of it cost ~0.5 ms of kernel
# time — for every tool, and not what a pipeline writing a new run's folder
# meets.
trash="$work/trash"
rm -rf "$trash"
trap 'rm -rf "$trash"' EXIT
# measure NAME TASK UNITS COMMAND...: wall seconds and peak RSS of one run.
measure() {
  local name=$1 task=$2 units=$3
  shift 3
  if [ -e "$work/out-$name" ]; then
    mkdir -p "$trash"
    mv "$work/out-$name" "$trash/$name-$(date +%s%N)"
  fi
  /usr/bin/time -f "%e %M" -o "$work/time-$name.txt" "$@" > "$work/log-$name.txt" 2>&1 || {
    echo "$name failed; see $work/log-$name.txt" >&2
    exit 1
  }
  read -r secs kb < "$work/time-$name.txt"
  echo "$task $name $secs $kb $units" >> "$results"
  echo "  $name: ${secs}s, $((kb / 1024)) MB" >&2
}

tasks=" ${TASKS:-csv xlsx pdf} "
csv_peers=${CSV_PEERS:-duckdb polars}

if [[ $tasks == *" csv "* ]]; then
echo "CSV reports of profile $(basename "$profile"), $calls calls, $customers customers, $threads threads:" >&2
measure engine csv "$calls" "$engine" --jobs "$threads" run --catalog "$catalog" --records "$input" \
  --out "$work/out-engine" --header keys --log-format json
# The peers leave their files to the OS to write; so does the engine here.
measure engine-no-sync csv "$calls" "$engine" --jobs "$threads" --no-sync run --catalog "$catalog" \
  --records "$input" --out "$work/out-engine-no-sync" --header keys --log-format json
for peer in $csv_peers; do
  measure "$peer" csv "$calls" "$py" "$here/peers.py" "$peer-csv" --records "$input" --catalog "$catalog" \
    --out "$work/out-$peer" --threads "$threads"
  "$py" "$here/peers.py" check --engine "$work/out-engine" --peer "$work/out-$peer"
done
fi

if [[ $tasks == *" xlsx "* ]]; then
echo "XLSX: 100,000 itemised calls in one workbook:" >&2
printf 'name = "Calls"\ncall_columns = ["call_id", "start_time", "dialled", "duration", "charge"]\n[reports]\ncustomer = ["calls"]\n' \
  > "$work/calls.toml"
measure engine-xlsx xlsx 100000 "$engine" --jobs "$threads" render --profile "$work/calls.toml" --records "$one" \
  --customer CUST00001 --from 2026-10-01 --to 2026-11-01 --format xlsx --out "$work/out-engine-xlsx"
measure pandas-xlsxwriter xlsx 100000 "$py" "$here/peers.py" pandas-xlsx --records "$one" --customer CUST00001 \
  --out "$work/out-pandas-xlsxwriter"
"$py" "$here/peers.py" check-xlsx --engine "$work/out-engine-xlsx" --peer "$work/out-pandas-xlsxwriter"

fi

if [[ $tasks == *" pdf "* ]]; then
pdf_rows=${PDF_PEER_ROWS:-10000}
echo "PDF: itemised call tables (engine 100,000 rows; ReportLab $pdf_rows rows):" >&2
printf 'name = "Calls"\ncall_columns = ["call_id", "start_time", "caller", "dialled", "destination", "call_type", "duration", "billed_duration", "charge"]\n[reports]\ncustomer = ["calls"]\n' \
  > "$work/calls9.toml"
measure engine-pdf pdf 100000 "$engine" --jobs "$threads" render --profile "$work/calls9.toml" --records "$one" \
  --customer CUST00001 --from 2026-10-01 --to 2026-11-01 --format pdf --out "$work/out-engine-pdf"
measure reportlab pdf "$pdf_rows" "$py" "$here/peers.py" reportlab-pdf --records "$one" --customer CUST00001 \
  --rows "$pdf_rows" --out "$work/reportlab.pdf"
"$py" "$here/peers.py" check-pdf --engine "$work/out-engine-pdf" --peer "$work/reportlab.pdf" --rows 100000

fi

"$py" - "$results" <<'EOF'
import sys
rows = [line.split() for line in open(sys.argv[1])]
engine = {}
for task, name, s, kb, u in rows:
    if name.startswith("engine"):
        engine.setdefault(task, (float(s), int(u)))
print(f"| task | tool | wall s | peak MB | units/s | engine is faster by |")
print(f"|---|---|---:|---:|---:|---:|")
for task, name, s, kb, units in rows:
    secs, units = float(s), int(units)
    rate = units / secs
    es, eu = engine[task]
    ratio = (eu / es) / rate
    print(f"| {task} | {name} | {secs:.2f} | {int(kb) // 1024} | {rate:,.0f} | {ratio:.1f}x |")
EOF
