"""Generates the high-precision reference tables used by tests/high_precision.rs.

    pip install mpmath && python3 tests/data/generate_high_precision.py

Every value is computed with mpmath at 40 significant digits straight from the papers' equations,
with mpmath's own 2F1 (no transformation shared with clv's code), and printed to 17 digits.
- bg_nbd_high_precision.csv: per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6),
  P(alive) and E[Y(t) | x, t_x, T] (eq. 10), including x up to 10,000, T up to 100,000 days and
  t_x = T.
- euler_complement_high_precision.csv: [1 - (1-z)^e 2F1(A, e; c; z)] / e, the bracket clv evaluates
  for eqs. 9 and 10, for z up to 0.999 and c up to 10,000.
- hyp2f1_high_precision.csv: ln 2F1(a, b; a+1; z), the function of the Pareto/NBD likelihood, at the
  (a, b) the likelihood uses (a = r+s+x, b = s+1 or r+x) for x up to 10,000 and z up to 1 - 1e-6
  (z is a double, converted exactly).
- pareto_nbd_high_precision.csv: per-customer Pareto/NBD log-likelihood, P(alive) and
  E[Y(t) | x, t_x, T] (Fader & Hardie 2005 note, sections 3, 5 and 6), with the untransformed 2F1s
  of the note, for the CDNOW estimates in weeks and days and for alpha >> beta and alpha << beta.
"""
import csv
import os

from mpmath import mp, mpf, hyp2f1, loggamma, log, exp

mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))


def bgnbd_loglik(r, al, a, b, x, tx, T):
    a1 = loggamma(r + x) - loggamma(r) + r * log(al)
    a2 = loggamma(a + b) + loggamma(b + x) - loggamma(b) - loggamma(a + b + x)
    a3 = -(r + x) * log(al + T)
    if x == 0:
        return a1 + a2 + a3
    a4 = log(a) - log(b + x - 1) - (r + x) * log(al + tx)
    return a1 + a2 + log(exp(a3) + exp(a4))


def p_alive(r, al, a, b, x, tx, T):
    if x == 0:
        return mpf(1)
    return 1 / (1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))


def conditional_expectation(r, al, a, b, x, tx, T, t):
    z = t / (al + T + t)
    bracket = 1 - ((al + T) / (al + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return (a + b + x - 1) / (a - 1) * bracket * p_alive(r, al, a, b, x, tx, T)


def fmt(v):
    return mp.nstr(v, 17, min_fixed=-30, max_fixed=30)


# (r, alpha, a, b) in weeks (CDNOW) and in days (alpha x 7), and a heavy-buyer population.
PARAMS = [
    ("0.243", "4.414", "0.793", "2.426"),
    ("0.243", "30.898", "0.793", "2.426"),
    ("2.5", "10", "1.6", "6"),
]
CUSTOMERS = [  # x, t_x, T, horizon
    (0, 0, 38.86, 39), (1, 0.5, 38.86, 39), (2, 30.43, 38.86, 39), (26, 35.86, 38.86, 39),
    (5, 40, 40, 52), (100, 999, 1000, 365), (1000, 99000, 100000, 3650), (10000, 100000, 100000, 3650),
    (10000, 50000, 100000, 365), (3, 1, 100000, 36500),
]

with open(os.path.join(HERE, "bg_nbd_high_precision.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["r", "alpha", "a", "b", "x", "t_x", "T", "horizon", "log_likelihood", "p_alive", "conditional_expected_purchases"])
    for r, al, a, b in PARAMS:
        R, AL, A, B = map(mpf, (r, al, a, b))
        for x, tx, T, t in CUSTOMERS:
            X, TX, TT, H = map(mpf, (str(x), str(tx), str(T), str(t)))
            w.writerow([r, al, a, b, x, tx, T, t,
                        fmt(bgnbd_loglik(R, AL, A, B, X, TX, TT)),
                        fmt(p_alive(R, AL, A, B, X, TX, TT)),
                        fmt(conditional_expectation(R, AL, A, B, X, TX, TT, H))])

with open(os.path.join(HERE, "euler_complement_high_precision.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["A", "eps", "c", "z", "value"])
    for A, e, c in [("1.976", "-0.207", "2.219"), ("1.976", "-0.207", "10001.2"), ("-0.5", "0.6", "3.1"),
                    ("5.1", "0.6", "7.6"), ("0.3", "1e-9", "2.5"), ("0.3", "0", "2.5")]:
        for z in ["0.01", "0.3", "0.5", "0.9", "0.99", "0.999"]:
            Av, ev, cv, zv = map(mpf, (A, e, c, z))
            if ev == 0:
                # The limit e -> 0: -ln(1-z) - d/de 2F1(A, e; c; z) at e = 0.
                val = -log(1 - zv) - mp.diff(lambda s: hyp2f1(Av, s, cv, zv), 0)
            else:
                val = (1 - (1 - zv) ** ev * hyp2f1(Av, ev, cv, zv)) / ev
            w.writerow([A, e, c, z, fmt(val)])


def pnbd(r, al, s, be, x, tx, T, t):
    a = r + s + x
    if al >= be:
        F = lambda tau: hyp2f1(a, s + 1, a + 1, (al - be) / (al + tau)) / (al + tau) ** a
    else:
        F = lambda tau: hyp2f1(a, r + x, a + 1, (be - al) / (be + tau)) / (be + tau) ** a
    died = s / (r + s + x) * (F(tx) - F(T))
    alive = 1 / ((al + T) ** (r + x) * (be + T) ** s)
    ll = loggamma(r + x) - loggamma(r) + r * log(al) + s * log(be) + log(alive + died)
    p = alive / (alive + died)
    ey = (r + x) * (be + T) / ((al + T) * (s - 1)) * (1 - ((be + T) / (be + T + t)) ** (s - 1)) * p
    return ll, p, ey


PNBD_PARAMS = [
    ("0.553", "10.578", "0.606", "11.669"),
    ("0.553", "74.046", "0.606", "81.683"),
    ("0.553", "10000", "0.606", "0.01"),
    ("2.5", "0.01", "1.3", "5000"),
]
with open(os.path.join(HERE, "pareto_nbd_high_precision.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["r", "alpha", "s", "beta", "x", "t_x", "T", "horizon", "log_likelihood", "p_alive", "conditional_expected_purchases"])
    for r, al, s_, be in PNBD_PARAMS:
        R, AL, S, BE = map(mpf, (r, al, s_, be))
        for x, tx, T, t in CUSTOMERS:
            X, TX, TT, H = map(mpf, (str(x), str(tx), str(T), str(t)))
            ll, p, ey = pnbd(R, AL, S, BE, X, TX, TT, H)
            w.writerow([r, al, s_, be, x, tx, T, t, fmt(ll), fmt(p), fmt(ey)])

with open(os.path.join(HERE, "hyp2f1_high_precision.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["a", "b", "z", "ln_value"])
    r, s_ = mpf("0.553"), mpf("0.606")
    for x in [0, 2, 100, 10000]:
        for b in [s_ + 1, r + x]:
            a = r + s_ + x
            for z in [0.0, 0.05, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.999999]:
                # a and b as the doubles clv will hold, so both sides see the same arguments.
                av, bv = float(a), float(b)
                w.writerow([repr(av), repr(bv), repr(z), fmt(log(hyp2f1(mpf(av), mpf(bv), mpf(av) + 1, mpf(z), maxterms=10**7)))])
print("written")
