"""Beyond one machine, on one machine: the three steps of the README's "When one machine is not
enough" on a simulated log in Parquet partitions, each step a separate process, timed with its
peak memory.

    python benches/scale_out.py CLV_BINARY CUSTOMERS [PARTITIONS (64)] [DIR (target/scale_out)]

Run it where `import duckdb` works (target/python-venv after `bash tests/run.sh` has it). Steps:
1. `clv simulate --customers N --partitions K`: the log as K Parquet files;
2. DuckDB runs `clv sql --compressed` over them: the compressed summary (one Parquet file);
3. DuckDB runs `clv sql` over them: the full RFM summary, written as K hive partitions
   (bucket = customer_id mod K);
4. `clv fit` on the compressed summary;
5. `clv predict` over the K RFM partitions.
DuckDB runs with 2 threads and a 3 GB memory limit (it spills to disk beyond). Prints a Markdown
table: wall time and peak resident memory of each step, rows in and out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

DUCKDB_STEP = """
import duckdb, sys
sql, target, partitions = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET memory_limit = '3GB'")
con.execute("SET preserve_insertion_order = false")
body = sql.strip()
if partitions:
    con.execute(f"COPY (SELECT *, customer_id % {partitions} AS bucket FROM ({body})) TO '{target}' (FORMAT parquet, PARTITION_BY (bucket))")
else:
    con.execute(f"COPY ({body}) TO '{target}' (FORMAT parquet)")
"""


def timed(label: str, command: list[str], rows: list) -> None:
    """Runs `command` under /usr/bin/time; appends (label, seconds, peak MB, stdout's last line)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{label} failed:\n{done.stdout}\n{done.stderr}")
    peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    said = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    rows.append((label, seconds, peak_mb, said))
    print(f"{label}: {seconds:.1f} s, {peak_mb:.0f} MB  {said}", file=sys.stderr)


def main() -> None:
    clv, customers = sys.argv[1], int(sys.argv[2])
    partitions = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    root = Path(sys.argv[4] if len(sys.argv) > 4 else "target/scale_out")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log, rfm, predictions = root / "log", root / "rfm", root / "predictions"
    compressed, model = root / "compressed.parquet", root / "model.json"
    step = root / "duckdb_step.py"
    step.write_text(DUCKDB_STEP)
    table = f"read_parquet('{log}/*.parquet')"
    rows: list = []
    timed("1. clv simulate --partitions", [clv, "simulate", "--customers", str(customers), "--seed", "42",
                                           "--partitions", str(partitions), "-o", str(log)], rows)
    for name, extra in (("compressed", ["--compressed"]), ("full", [])):
        sql = subprocess.run([clv, "sql", "--dialect", "duckdb", "--table", table, *extra], check=True,
                             capture_output=True, text=True).stdout
        (root / f"{name}.sql").write_text(sql)
    timed("2. DuckDB: compressed summary (clv sql --compressed)",
          [sys.executable, str(step), str(root / "compressed.sql"), str(compressed), "0"], rows)
    timed(f"3. DuckDB: RFM summary in {partitions} partitions (clv sql)",
          [sys.executable, str(step), str(root / "full.sql"), str(rfm), str(partitions)], rows)
    timed("4. clv fit on the compressed summary", [clv, "fit", str(compressed), "-o", str(model)], rows)
    timed(f"5. clv predict over the {partitions} partitions",
          [clv, "predict", str(rfm), "--model-file", str(model), "-o", str(predictions)], rows)
    fitted = json.loads(model.read_text())
    print(f"\n{customers:,} customers in {partitions} partitions; log {sum(f.stat().st_size for f in log.glob('*.parquet')) / 1e9:.2f} GB of Parquet.\n")
    print("| step | wall time (s) | peak memory (MB) | output |")
    print("|---|---|---|---|")
    for label, seconds, peak, said in rows:
        print(f"| {label} | {seconds:.1f} | {peak:.0f} | {said[:120]} |")
    print(f"| total | {sum(r[1] for r in rows):.1f} | {max(r[2] for r in rows):.0f} | |")
    params = fitted["purchase"]["params"]
    print("\nBG/NBD on the compressed summary: " + ", ".join(f"{k} = {v:.4f}" for k, v in params.items())
          + f" ({fitted['purchase']['n_customers']:,} customers)")


if __name__ == "__main__":
    main()
