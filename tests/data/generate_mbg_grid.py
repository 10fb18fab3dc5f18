"""Generates tests/data/mbg_nbd_extreme_grid.csv for tests/high_precision.rs.

    pip install mpmath && python3 tests/data/generate_mbg_grid.py

MBG/NBD (Batislam, Denizel & Filiztekin 2007) P(alive) and E[Y(t) | x, t_x, T] at 40 digits over
the grid of generate_extreme_grid.py (r, alpha, a, b in {1e-3, order 1, 1e6}, x up to 10,000,
horizons up to 3,650). P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)); E[Y | alive]
is taken from the customer story rather than the paper's 2F1 (which mpmath cannot sum in time at
these extremes): an alive customer buys at rate lambda ~ Gamma(r+x, alpha+T) until the purchase
after which she drops out, p ~ Beta(a, b+x+1) (she has survived x+1 chances), so
    E[Y(t) | alive] = E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p],
integrated over the beta density by mpmath's tanh-sinh quadrature with break points at the
density's own scales. At moderate points the script checks this against the paper's closed form
(a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))].
"""
import csv
import os

from mpmath import mp, mpf, quad, log1p, exp, expm1, log, loggamma, hyp2f1

from generate_extreme_grid import CUSTOMERS, HORIZONS, VALUES

HERE = os.path.dirname(os.path.abspath(__file__))


def p_alive(R, AL, A, B, X, TX, TT):
    return 1 / (1 + A / (B + X) * exp((R + X) * (log(AL + TT) - log(AL + TX))))


def if_alive(R, AL, A, B, X, TT, H):
    a, b = A, B + X + 1
    k = R + X
    u = H / (AL + TT)
    ln_norm = loggamma(a) + loggamma(b) - loggamma(a + b)
    # (1 - (1 + p u)^-k) / p, without cancelling for small p u.
    g = lambda p: -expm1(-k * log1p(p * u)) / p if p > 0 else k * u
    half = mpf(1) / 2
    mean = a / (a + b)
    sd = (a * b / ((a + b) ** 2 * (a + b + 1))) ** mpf("0.5")

    def breaks(lo, hi):
        points = {lo, hi}
        for j in range(-40, 41):
            q = mean + j * sd
            if lo < q < hi:
                points.add(q)
        for scale in (1 / (k * u) if k * u > 0 else None, 1 / (a + b)):
            s = scale
            while s is not None and s < hi:
                if s > lo:
                    points.add(s)
                s *= 10
        return sorted(points)

    # Below 1/2: with a < 1 the density p^(a-1) holds its mass at p ~ 1e-(1/a) and beyond, out of
    # any quadrature's reach in p; in w = p^a it is flat: p^(a-1) dp = dw / a.
    if a < 1:
        lower = quad(lambda w: g(w ** (1 / a)) * exp((b - 1) * log1p(-(w ** (1 / a)))) / a, [0, half ** a])
    else:
        lower = quad(lambda p: g(p) * exp((a - 1) * log(p) + (b - 1) * log1p(-p)), breaks(mpf(0), half))
    # Above 1/2 the same for b < 1 in w = (1-p)^b.
    if b < 1:
        upper = quad(lambda w: g(1 - w ** (1 / b)) * exp((a - 1) * log1p(-(w ** (1 / b)))) / b, [0, half ** b])
    else:
        upper = quad(lambda p: g(p) * exp((a - 1) * log(p) + (b - 1) * log1p(-p)), breaks(half, mpf(1)))
    return (lower + upper) / exp(ln_norm)


def row(r, al, a, b, x, tx, T, t):
    mp.dps = 40
    R, AL, A, B, X, TX, TT, H = (mpf(v) for v in (r, al, a, b, x, tx, T, t))
    p = p_alive(R, AL, A, B, X, TX, TT)
    e = p * if_alive(R, AL, A, B, X, TT, H)
    fmt = lambda v: mp.nstr(v, 17, min_fixed=-30, max_fixed=30)
    return [r, al, a, b, x, tx, T, t, fmt(p), fmt(e)]


def closed_form_check():
    mp.dps = 40
    for (r, al, a, b, x, tx, T, t) in [("0.25", "4.4", "0.8", "2.5", 3, 30, 40, 52), ("1", "10", "3", "5", 20, 70, 78, 3650),
                                       ("1e-3", "1e-3", "1e-3", "1e-3", 0, 0, 10, 52)]:
        R, AL, A, B, X, TX, TT, H = (mpf(v) for v in (r, al, a, b, x, tx, T, t))
        z = H / (AL + TT + H)
        closed = (A + B + X) / (A - 1) * (1 - ((AL + TT) / (AL + TT + H)) ** (R + X) * hyp2f1(R + X, B + X + 1, A + B + X, z))
        ours = if_alive(R, AL, A, B, X, TT, H)
        assert abs(ours / closed - 1) < mpf("1e-25"), (ours, closed)


if __name__ == "__main__":
    closed_form_check()
    points = [(r, al, a, b, x, tx, T, t) for r in VALUES["r"] for al in VALUES["alpha"] for a in VALUES["a"]
              for b in VALUES["b"] for (x, tx, T) in CUSTOMERS for t in HORIZONS]
    with open(os.path.join(HERE, "mbg_nbd_extreme_grid.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["r", "alpha", "a", "b", "x", "t_x", "T", "horizon", "p_alive", "conditional_expected_purchases"])
        for p in points:
            w.writerow(row(*p))
