"""Generates tests/data/pareto_nbd_extreme_grid.csv for tests/high_precision.rs.

    pip install mpmath && python3 tests/data/generate_pareto_grid.py

Pareto/NBD P(alive) and E[Y(t) | x, t_x, T] at 40 digits over every combination of r, alpha, s,
beta in {1e-3, order 1, 1e6}, for three customers (up to x = 10,000) and horizons of 52 and
3,650 (up to 10 years in days). Independent of clv's two forms (the note's 2F1 and its
integral by Gauss-Legendre quadrature): P(alive) is "alive at T" over the whole likelihood
(Fader & Hardie's note, section 3, before the integral is taken),
    alive = R(T) S(T),  died = integral over (t_x, T] of f(tau) R(tau),
R(tau) = (alpha/(alpha+tau))^r / (alpha+tau)^x up to a constant, S(tau) = (beta/(beta+tau))^s,
f = -S', integrated by mpmath's tanh-sinh quadrature with break points at the integrand's own
scales; E[Y(t) | alive] is the note's section 6 bracket in closed form.
A point mpmath cannot integrate within 20 seconds is left out (and counted on stderr).
"""
import csv
import multiprocessing as mproc
import os
import sys

from mpmath import mp, mpf, quad, log1p, exp, expm1, log

HERE = os.path.dirname(os.path.abspath(__file__))
CUSTOMERS = [(0, 0, 10), (3, 30, 40), (10000, 3000, 3650)]  # x, t_x, T
HORIZONS = [52, 3650]
VALUES = {"r": ["1e-3", "0.55", "1e6"], "alpha": ["1e-3", "10.6", "1e6"],
          "s": ["1e-3", "0.6", "1e6"], "beta": ["1e-3", "11.7", "1e6"]}


def row(args):
    r, al, s, be, x, tx, T = args
    mp.dps = 40
    R, AL, S, BE, X, TX, TT = (mpf(v) for v in (r, al, s, be, x, tx, T))
    # Everything relative to the customer at t_x: ln R(tau)/R(t_x) and ln S(tau)/S(t_x).
    ln_rate = lambda tau: -(R + X) * log1p((tau - TX) / (AL + TX))
    ln_life = lambda tau: -S * log1p((tau - TX) / (BE + TX))
    alive = exp(ln_rate(TT) + ln_life(TT))
    if TX >= TT:
        p = mpf(1)
    else:
        density = lambda tau: S / (BE + tau) * exp(ln_life(tau) + ln_rate(tau))
        scales = [(AL + TX) / (R + X + 1), (BE + TX) / (S + 1)]
        points = {TX, TT}
        for w in scales:
            k = w
            while TX + k < TT:
                points.add(TX + k)
                k *= 10
        died = quad(density, sorted(points))
        p = alive / (alive + died)
    out = []
    for h in HORIZONS:
        H = mpf(h)
        L = log1p(H / (BE + TT))
        bracket = -expm1(-(S - 1) * L) / (S - 1)
        e = (R + X) / (AL + TT) * (BE + TT) * bracket * p
        fmt = lambda v: mp.nstr(v, 17, min_fixed=-30, max_fixed=30)
        out.append([r, al, s, be, x, tx, T, h, fmt(p), fmt(e)])
    return out


def worker(args, queue):
    queue.put(row(args))


if __name__ == "__main__":
    points = [(r, al, s, be, x, tx, T) for r in VALUES["r"] for al in VALUES["alpha"] for s in VALUES["s"]
              for be in VALUES["beta"] for (x, tx, T) in CUSTOMERS]
    left_out = 0
    ctx = mproc.get_context("fork")
    with open(os.path.join(HERE, "pareto_nbd_extreme_grid.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["r", "alpha", "s", "beta", "x", "t_x", "T", "horizon", "p_alive", "conditional_expected_purchases"])
        for p in points:
            queue = ctx.Queue()
            proc = ctx.Process(target=worker, args=(p, queue))
            proc.start()
            try:
                w.writerows(queue.get(timeout=20))
                f.flush()
            except Exception:  # an integral mpmath cannot take in time: no reference value
                left_out += 1
                print("left out", p, file=sys.stderr)
            proc.kill()
    print(f"{left_out} points left out", file=sys.stderr)
