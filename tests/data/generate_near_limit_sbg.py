"""The near-limit sBG cohort of tests/retention.rs and its maximum and standard errors at 40 digits.

2,000 subscribers, each with a churn probability θ ~ Beta(80, 240) (nearly the same for
everyone: the sBG model near its constant-churn limit), renewing each period with probability
1 − θ, counted as still subscribed after periods 0 to 12. The sBG log-likelihood (Fader & Hardie
2007: ln P(T = t) = ln B(γ + 1, δ + t − 1) − ln B(γ, δ) for each churn in period t, ln S(12) =
ln B(γ, δ + 12) − ln B(γ, δ) for each subscriber left) is maximised in (ln γ, ln δ) by findroot on
its score, and its Hessian there, by mpmath's own differentiation, gives the standard errors
SE(p_i) = p_i √((−H⁻¹)_ii).

    python3 tests/data/generate_near_limit_sbg.py   (needs mpmath; under a second)
"""
import random

import mpmath as mp

mp.mp.dps = 40
rng = random.Random(7)
PERIODS = 12
active = [0] * (PERIODS + 1)
for _ in range(2000):
    theta = rng.betavariate(80, 240)
    lifetime = 1
    while rng.random() >= theta and lifetime <= PERIODS:
        lifetime += 1
    for k in range(min(lifetime, PERIODS + 1)):
        active[k] += 1
print("active after periods 0 to 12:", active)


def total(ln_gamma, ln_delta):
    g, d = mp.e**ln_gamma, mp.e**ln_delta
    ln_b = mp.log(mp.beta(g, d))
    s = sum((active[t - 1] - active[t]) * (mp.log(mp.beta(g + 1, d + t - 1)) - ln_b) for t in range(1, PERIODS + 1))
    return s + active[PERIODS] * (mp.log(mp.beta(g, d + PERIODS)) - ln_b)


score = lambda a, b: [mp.diff(total, (a, b), (1, 0)), mp.diff(total, (a, b), (0, 1))]
a, b = mp.findroot(score, [mp.log(20), mp.log(60)])
hessian = mp.matrix([[mp.diff(total, (a, b), (2, 0)), mp.diff(total, (a, b), (1, 1))],
                     [mp.diff(total, (a, b), (1, 1)), mp.diff(total, (a, b), (0, 2))]])
covariance = -(hessian**-1)
g, d = mp.e**a, mp.e**b
print("gamma, delta:", mp.nstr(g, 17), mp.nstr(d, 17), "log-likelihood:", mp.nstr(total(a, b), 17))
print("standard errors:", mp.nstr(g * mp.sqrt(covariance[0, 0]), 17), mp.nstr(d * mp.sqrt(covariance[1, 1]), 17))
