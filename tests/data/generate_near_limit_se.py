"""Standard errors at 40 digits for tests/high_precision.rs' near-limit fits.

The tables (clv summarize of clv simulate logs, in weeks):
  near_limit_bg_nbd_300.csv  clv simulate --customers 300 --seed 2 --params 20,80,0.5,200,40,3000,2000
  near_limit_spend_300.csv   clv simulate --customers 300 --seed 1 --params 0.243,4.414,0.793,2.426,6.25,5000,12000
  near_limit_pareto_nbd_1000.csv  clv simulate --model pareto-nbd --customers 1000 --seed 2
                                  --params 2,20,20,1500,6.25,3.74,15.44
  pareto_nbd_dropout_limit_1000.csv  the same with --seed 1
  bg_nbd_dropout_limit_1000.csv  clv simulate --customers 1000 --seed 3 --params 0.8,8,60,180,6.25,3.74,15.44
BG/NBD's fit on the first lies where a and b are barely identified (b ≈ 1170 ± 120000); Gamma-
Gamma's on the second where q and v are (q ≈ 4400 ± 53000); Pareto/NBD's on the third where s
and beta are (s ≈ 73 ± 1600, beta ≈ 5600 ± 126000); on the fourth, Pareto/NBD's likelihood is
highest at its homogeneous-dropout limit (r, alpha, mu), whose likelihood is Γ(r+x)α^r/Γ(r) ·
[e^(−μT)/(α+T)^(r+x) + μ e^(μα) μ^(r+x−1) Γ(1−r−x; μ(α+t_x), μ(α+T))], the last an incomplete
gamma function between two bounds (mpmath's gammainc); on the fifth, BG/NBD's is highest at its
homogeneous-dropout limit (r, alpha, p): eq. 6 with (1−p)^x and p(1−p)^(x−1) in place of the two
Beta-function ratios, p differenced in its odds. Pareto/NBD also on CDNOW's calibration summary, given as an argument (clv summarize data/cdnow_sample.csv -o CDNOW_RFM.csv
--time-unit weeks --calibration-end 1997-09-30). At the estimates clv fit reports, this takes
the Hessian of the total log-likelihood (BG/NBD eq. 6; Gamma-Gamma's note eq. 3; Pareto/NBD:
Fader & Hardie's 2005 note, eq. 22 with A0 by mpmath's 2F1) in θ = ln p by central differences
of step 1e-10 in 40-digit arithmetic (error ~1e-20), inverts it and maps it back by the delta
method: SE(p_i) = p_i √((−H⁻¹)_ii).

    python3 tests/data/generate_near_limit_se.py CDNOW_RFM.csv   (needs mpmath; ~75 s)
"""
import collections
import csv
import os
import sys

import mpmath as mp

mp.mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))


def rows(name, key):
    counts = collections.Counter()
    with open(os.path.join(HERE, name)) as f:
        for r in csv.DictReader(f):
            k = key(r)
            if k is not None:
                counts[k] += 1
    return list(counts.items())


def bg_nbd(table):
    xs = sorted({x for (x, _, _), _ in table})

    def total(theta):
        r, alpha, a, b = [mp.e**t for t in theta]
        constant = {
            x: mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + mp.loggamma(a + b) + mp.loggamma(b + x)
            - mp.loggamma(b) - mp.loggamma(a + b + x)
            for x in xs
        }
        s = mp.mpf(0)
        for (x, t_x, t), n in table:
            term = (alpha + t) ** (-(r + x))
            if x > 0:
                term += a / (b + x - 1) * (alpha + t_x) ** (-(r + x))
            s += n * (constant[x] + mp.log(term))
        return s

    return total


def gamma_gamma(table):
    def total(theta):
        p, q, v = [mp.e**t for t in theta]
        s = mp.mpf(0)
        for (x, z), n in table:
            px = p * x
            s += n * (mp.loggamma(px + q) - mp.loggamma(px) - mp.loggamma(q) + q * mp.log(v) + (px - 1) * mp.log(z)
                      + px * mp.log(x) - (px + q) * mp.log(v + x * z))
        return s

    return total


def pareto_nbd(table):
    def total(theta):
        r, alpha, s, beta = [mp.e**t for t in theta]
        out = mp.mpf(0)
        for (x, t_x, t), n in table:
            rsx = r + s + x
            # A0 with the 2F1 whose argument is in [0, 1): in (alpha - beta) when alpha >= beta.
            if alpha >= beta:
                b2, big, diff = s + 1, alpha, alpha - beta
            else:
                b2, big, diff = r + x, beta, beta - alpha
            a0 = (mp.hyp2f1(rsx, b2, rsx + 1, diff / (big + t_x)) / (big + t_x) ** rsx
                  - mp.hyp2f1(rsx, b2, rsx + 1, diff / (big + t)) / (big + t) ** rsx)
            out += n * (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta)
                        + mp.log(1 / ((alpha + t) ** (r + x) * (beta + t) ** s) + s / rsx * a0))
        return out

    return total


def pareto_nbd_dropout_limit(table):
    def total(theta):
        r, alpha, mu = [mp.e**t for t in theta]
        out = mp.mpf(0)
        for (x, t_x, t), n in table:
            k = r + x
            # μ ∫ from t_x to T of e^(−μτ) (α+τ)^(−k) dτ: alive until T, or gone at τ after t_x.
            gone = mu * mp.e**(mu * alpha) * mu**(k - 1) * mp.gammainc(1 - k, mu * (alpha + t_x), mu * (alpha + t))
            out += n * (mp.loggamma(k) - mp.loggamma(r) + r * mp.log(alpha)
                        + mp.log(mp.e**(-mu * t) / (alpha + t) ** k + gone))
        return out

    return total


def bg_nbd_dropout_limit(table):
    def total(theta):
        r, alpha, odds = [mp.e**t for t in theta]
        p = odds / (1 + odds)
        out = mp.mpf(0)
        for (x, t_x, t), n in table:
            term = (1 - p) ** x / (alpha + t) ** (r + x)
            if x > 0:
                term += p * (1 - p) ** (x - 1) / (alpha + t_x) ** (r + x)
            out += n * (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + mp.log(term))
        return out

    return total


def standard_errors(total, params):
    theta = [mp.log(mp.mpf(p)) for p in params]
    k, h = len(theta), mp.mpf("1e-10")

    def at(steps):
        t = list(theta)
        for i, s in steps:
            t[i] += s * h
        return total(t)

    f0 = total(theta)
    hessian = mp.matrix(k, k)
    for i in range(k):
        hessian[i, i] = (at([(i, 1)]) - 2 * f0 + at([(i, -1)])) / h**2
        for j in range(i + 1, k):
            value = (at([(i, 1), (j, 1)]) - at([(i, 1), (j, -1)]) - at([(i, -1), (j, 1)]) + at([(i, -1), (j, -1)]))
            hessian[i, j] = hessian[j, i] = value / (4 * h * h)
    covariance = -(hessian**-1)
    return [mp.mpf(params[i]) * mp.sqrt(covariance[i, i]) for i in range(k)]


# The estimates clv fit reports for the two tables (r, alpha, a, b) and (p, q, v).
BG_NBD = ["13.590750062484291", "56.629858407773824", "2.941980475107244", "1169.6436435221988"]
GAMMA_GAMMA = ["6.55821846675269", "4365.496935094559", "10021.56383671045"]
# And (r, alpha, s, beta) for Pareto/NBD on the third and on CDNOW's calibration summary.
PARETO_NBD = ["1.8786482383979457", "20.208496941092257", "72.90089413145222", "5646.721058357539"]
PARETO_NBD_DROPOUT_LIMIT = ["1.8614965639501795", "19.959865152725538", "0.011891697697863335"]
BG_NBD_DROPOUT_LIMIT = ["0.7665336070796078", "7.69149421662199", "0.2426356640644633"]
PARETO_NBD_CDNOW = ["0.5532770468531606", "10.577683463302028", "0.6062399891278816", "11.668735288857087"]

purchases = rows("near_limit_bg_nbd_300.csv",
                 lambda r: (int(r["frequency"]), mp.mpf(r["recency"]), mp.mpf(r["T"])))
spends = rows("near_limit_spend_300.csv",
              lambda r: (int(r["frequency"]), mp.mpf(r["monetary_value"]))
              if int(r["frequency"]) > 0 and float(r["monetary_value"]) > 0 else None)
print("BG/NBD r, alpha, a, b:", [mp.nstr(s, 17) for s in standard_errors(bg_nbd(purchases), BG_NBD)])
print("Gamma-Gamma p, q, v:", [mp.nstr(s, 17) for s in standard_errors(gamma_gamma(spends), GAMMA_GAMMA)])
history = lambda r: (int(float(r["frequency"])), mp.mpf(r["recency"]), mp.mpf(r["T"]))
print("Pareto/NBD r, alpha, s, beta:",
      [mp.nstr(s, 17) for s in standard_errors(pareto_nbd(rows("near_limit_pareto_nbd_1000.csv", history)), PARETO_NBD)])
limit = pareto_nbd_dropout_limit(rows("pareto_nbd_dropout_limit_1000.csv", history))
print("Pareto/NBD's dropout limit r, alpha, mu:",
      [mp.nstr(s, 17) for s in standard_errors(limit, PARETO_NBD_DROPOUT_LIMIT)])
# p differenced in its odds o = p/(1−p): `standard_errors` gives SE(o) = o·SE(ln o), and
# SE(p) = SE(o)·dp/do = SE(o)·(1−p)².
r, alpha, p = [mp.mpf(v) for v in BG_NBD_DROPOUT_LIMIT]
limit = bg_nbd_dropout_limit(rows("bg_nbd_dropout_limit_1000.csv", history))
se_r, se_alpha, se_odds = standard_errors(limit, [r, alpha, p / (1 - p)])
print("BG/NBD's dropout limit r, alpha, p:", [mp.nstr(s, 17) for s in (se_r, se_alpha, se_odds * (1 - p) ** 2)])
if len(sys.argv) > 1:
    cdnow = rows(os.path.abspath(sys.argv[1]), history)
    print("Pareto/NBD on CDNOW r, alpha, s, beta:",
          [mp.nstr(s, 17) for s in standard_errors(pareto_nbd(cdnow), PARETO_NBD_CDNOW)])
