"""Each purchase model: the whole `clv fit --model M` process against lifetimes' fitter of M.

    python benches/compare_models.py CLV_BINARY [CUSTOMERS (100000)] [SEED (42)] [ROUNDS (3)]
    python benches/compare_models.py CLV_BINARY LOG_OR_TABLE.csv [ROUNDS (3)]
    python benches/compare_models.py --fresh CLV_BINARY ...   (either of the above)

Run it in a virtualenv with lifetimes (benches/lifetimes-requirements.txt) and clv's Python
package. The log is `clv.simulate(CUSTOMERS, seed=SEED)`; clv.lifetimes'
`summary_data_from_transaction_data` (lifetimes' conventions: weeks at daily resolution)
summarises it once, and that one
RFM table, written as CSV, is what both fit. clv's time is the whole process (start, read, the
purchase fit and the Gamma-Gamma fit, standard errors, the model file); lifetimes' is its
purchase-model `fit` alone, with no spend model. Rounds alternate the two tools; each cell is a
median, and every round's times are printed so the spread is visible. lifetimes' fitters are
warmed up first (`WARM_UP_FITS`), so that each is timed at its fastest. Given a CSV file instead,
clv's Python package is not needed: a log (customer_id, date, amount, as `clv simulate` writes
it) is summarised by lifetimes' own `summary_data_from_transaction_data`, with the same
conventions; an RFM table (frequency, recency, T, time_unit) is fitted as it is.

With `--fresh`, each of lifetimes' fits runs in a Python process of its own (this script with
`--time-one-fit`, on the table clv fits), as a user's script or notebook meets it, and is timed
alone (its `fit` call, not the start and the read): no warm-up, and glibc's malloc in the state a
new process has it in.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

warnings.simplefilter("ignore")

# numpy's OpenBLAS with one thread. With its default, one per core, its worker spins for about
# 0.1 s after each of lifetimes' fits returns, holding one of a 2-core machine's cores, and the
# `clv fit` timed right after shares the other with it (on the 100k table, medians of ten: 32 ms
# right after a fit, 24 ms with one thread). lifetimes' own fits take the same time or less
# with one thread (BG/NBD 0.93 against 0.96 s, MBG/NBD 0.78 against 0.81 s, warmed up). Set
# before numpy loads; a fresh fit's process inherits it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import lifetimes  # noqa: E402

MODELS = [
    ("bg-nbd", "BG/NBD", lifetimes.BetaGeoFitter),
    ("mbg-nbd", "MBG/NBD", lifetimes.ModifiedBetaGeoFitter),
    ("pareto-nbd", "Pareto/NBD", lifetimes.ParetoNBDFitter),
]


def time_clv(binary: str, table: str, model: str, work: str) -> float:
    output = os.path.join(work, f"{model}.json")
    t0 = time.perf_counter()
    subprocess.run([binary, "fit", table, "--model", model, "-o", output], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def time_lifetimes(fitter, summary) -> float:
    t0 = time.perf_counter()
    fitter().fit(summary["frequency"], summary["recency"], summary["T"])
    return time.perf_counter() - t0


# Untimed fits before the rounds. numpy's large temporaries come from fresh memory maps until
# glibc's malloc has raised its mmap threshold (it climbs as mapped blocks are freed): on the
# 100,000-customer table lifetimes' BG/NBD and MBG/NBD fits take 0.75-0.8 s in a fresh process
# and 0.52-0.6 s once about ten have run (1.07-1.2 s with the threshold held at its default,
# MALLOC_MMAP_THRESHOLD_=131072). Without this the models timed first would meet a slower
# lifetimes than those timed after them; with it every model meets its fastest.
WARM_UP_FITS = 12


def warm_up(summary) -> None:
    times = []
    for _ in range(WARM_UP_FITS):
        t0 = time.perf_counter()
        lifetimes.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        times.append(time.perf_counter() - t0)
    print("lifetimes' BG/NBD fit while warming up (s, untimed):", ", ".join(f"{t:.2f}" for t in times), "\n")


def time_lifetimes_fresh(fitter, table: str) -> float:
    """`time_lifetimes` in a Python process of its own (this script, `--time-one-fit`)."""
    done = subprocess.run([sys.executable, __file__, "--time-one-fit", fitter.__name__, table], check=True,
                          capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def compare(binary: str, table: str, summary, rounds: int, work: str, fresh: bool) -> None:
    if fresh:
        print("lifetimes: each fit in a fresh Python process, no warm-up\n")
    else:
        warm_up(summary)
    print("| model | lifetimes fit (s) | whole `clv fit` (s) | ratio | rounds (lifetimes / clv) |")
    print("|---|---|---|---|---|")
    for key, label, fitter in MODELS:
        theirs, ours = [], []
        for _ in range(rounds):
            theirs.append(time_lifetimes_fresh(fitter, table) if fresh else time_lifetimes(fitter, summary))
            ours.append(time_clv(binary, table, key, work))
        t, o = statistics.median(theirs), statistics.median(ours)
        spread = ", ".join(f"{a:.2f}/{b:.4f}" for a, b in zip(theirs, ours))
        print(f"| {label} | {t:.3f} | {o:.4f} | {t / o:.1f}× | {spread} |", flush=True)


def main() -> None:
    if sys.argv[1:2] == ["--time-one-fit"]:
        import pandas as pd

        print(time_lifetimes(getattr(lifetimes, sys.argv[2]), pd.read_csv(sys.argv[3])))
        return
    fresh = "--fresh" in sys.argv
    if fresh:
        sys.argv.remove("--fresh")
    binary = sys.argv[1]
    if len(sys.argv) > 2 and os.path.isfile(sys.argv[2]):
        import pandas as pd

        given = sys.argv[2]
        rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
        frame = pd.read_csv(given)
        with tempfile.TemporaryDirectory() as work:
            if "date" in frame.columns:
                frame["date"] = pd.to_datetime(frame["date"])
                summary = lifetimes.utils.summary_data_from_transaction_data(
                    frame, "customer_id", "date", monetary_value_col="amount", freq="D", freq_multiplier=7
                )
                table = os.path.join(work, "rfm.csv")
                summary.assign(time_unit="weeks").to_csv(table, index_label="customer_id")
            else:
                summary, table = frame, given
            print(f"{given}: {len(summary):,} customers.\n")
            compare(binary, table, summary, rounds, work, fresh)
        return
    import clv
    import clv.lifetimes

    customers = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    log = clv.simulate(customers, seed=seed)
    summary = clv.lifetimes.utils.summary_data_from_transaction_data(
        log, "customer_id", "date", monetary_value_col="amount", freq="D", freq_multiplier=7
    )
    with tempfile.TemporaryDirectory() as work:
        table = os.path.join(work, "rfm.csv")
        summary.assign(time_unit="weeks").to_csv(table, index_label="customer_id")
        print(f"Log: clv.simulate({customers}, seed={seed}): {log.height:,} transactions, "
              f"{len(summary):,} customers.\n")
        compare(binary, table, summary, rounds, work, fresh)


if __name__ == "__main__":
    main()
