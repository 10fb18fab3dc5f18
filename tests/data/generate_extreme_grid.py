"""Generates tests/data/bg_nbd_extreme_grid.csv for tests/high_precision.rs.

    pip install mpmath && python3 tests/data/generate_extreme_grid.py

BG/NBD P(alive) and E[Y(t) | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10, straight from the paper
with mpmath's own 2F1 at 60 digits) over every combination of r, alpha, a, b in {1e-3, order 1, 1e6},
for three customers (up to x = 10,000) and horizons of 52 and 3,650 (up to 10 years in days):
where the series clv sums alternate (r >> a + b) or would need millions of terms. A point whose
2F1 mpmath cannot sum within 10 seconds is left out (and counted on stderr).
"""
import csv
import multiprocessing as mproc
import os
import sys

from mpmath import mp, mpf, hyp2f1

HERE = os.path.dirname(os.path.abspath(__file__))
CUSTOMERS = [(0, 0, 10), (3, 30, 40), (10000, 3000, 3650)]  # x, t_x, T
HORIZONS = [52, 3650]
VALUES = {"r": ["1e-3", "1", "1e6"], "alpha": ["1e-3", "4.4", "1e6"], "a": ["1e-3", "0.8", "1e6"], "b": ["1e-3", "2.5", "1e6"]}


def row(args):
    r, al, a, b, x, tx, T, t = args
    mp.dps = 60
    R, AL, A, B, X, TX, TT, H = (mpf(v) for v in (r, al, a, b, x, tx, T, t))
    if X == 0:
        p = mpf(1)
    else:
        p = 1 / (1 + A / (B + X - 1) * ((AL + TT) / (AL + TX)) ** (R + X))
    z = H / (AL + TT + H)
    f = hyp2f1(R + X, B + X, A + B + X - 1, z, maxterms=10**7)
    e = (A + B + X - 1) / (A - 1) * (1 - ((AL + TT) / (AL + TT + H)) ** (R + X) * f) * p
    fmt = lambda v: mp.nstr(v, 17, min_fixed=-30, max_fixed=30)
    return [r, al, a, b, x, tx, T, t, fmt(p), fmt(e)]


def worker(args, queue):
    queue.put(row(args))


if __name__ == "__main__":
    points = [(r, al, a, b, x, tx, T, t) for r in VALUES["r"] for al in VALUES["alpha"] for a in VALUES["a"]
              for b in VALUES["b"] for (x, tx, T) in CUSTOMERS for t in HORIZONS]
    left_out = 0
    ctx = mproc.get_context("fork")
    with open(os.path.join(HERE, "bg_nbd_extreme_grid.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["r", "alpha", "a", "b", "x", "t_x", "T", "horizon", "p_alive", "conditional_expected_purchases"])
        for p in points:
            queue = ctx.Queue()
            proc = ctx.Process(target=worker, args=(p, queue))
            proc.start()
            try:
                w.writerow(queue.get(timeout=10))
                f.flush()
            except Exception:  # a 2F1 mpmath cannot sum in time (or at all): no reference value
                left_out += 1
                print("left out", p, file=sys.stderr)
            proc.terminate()
            proc.join()
    print(f"written; {left_out} of {len(points)} points left out", file=sys.stderr)
