"""BG/BB's maximum and standard errors at 40 digits for tests/bg_bb.rs: on the donations data
(data/donations.csv) and on a simulated table near the limit of one dropout probability for
everyone (near_limit_bg_bb_5000.csv, written here).

The simulated table: 5,000 customers over 6 opportunities, each with a purchase probability
p ~ Beta(1.2, 0.75) and a dropout probability θ ~ Beta(8, 32); a customer alive at the beginning of
an opportunity dies then with probability θ, and otherwise buys with probability p. Its fit lies
out towards the limit, γ ≈ 14 ± 18, δ ≈ 58 ± 78. The log-likelihood, Σ count · ln L with L by
Fader, Hardie & Shang (2010), eq. (5), and mpmath's beta function, is maximised in ln p by
findroot on its score from the estimates given below; its Hessian there, by mpmath's own
differentiation, gives SE(p_i) = p_i √((−H⁻¹)_ii).

    python3 tests/data/generate_bg_bb_se.py   (needs mpmath; ~6 s)
"""
import collections
import csv
import os
import random

import mpmath as mp

mp.mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))


def simulate(path, seed=5, customers=5000, opportunities=6):
    rng = random.Random(seed)
    counts = collections.Counter()
    for _ in range(customers):
        p, theta = rng.betavariate(1.2, 0.75), rng.betavariate(8, 32)
        x = t_x = 0
        for t in range(1, opportunities + 1):
            if rng.random() < theta:
                break
            if rng.random() < p:
                x, t_x = x + 1, t
        counts[(x, t_x)] += 1
    with open(path, "w") as f:
        f.write("frequency,recency,periods,weights\n")
        for (x, t_x), w in sorted(counts.items()):
            f.write(f"{x},{t_x},{opportunities},{w}\n")


def fit(path, start):
    with open(path) as f:
        rows = [(int(r["frequency"]), int(r["recency"]), int(r["periods"]), int(r["weights"]))
                for r in csv.DictReader(f)]

    def total(*theta):
        a, b, g, d = [mp.e**t for t in theta]
        b_ab, b_gd = mp.beta(a, b), mp.beta(g, d)
        s = mp.mpf(0)
        for x, t_x, n, w in rows:
            likelihood = mp.beta(a + x, b + n - x) / b_ab * mp.beta(g, d + n) / b_gd
            for i in range(n - t_x):
                likelihood += mp.beta(a + x, b + t_x - x + i) / b_ab * mp.beta(g + 1, d + t_x + i) / b_gd
            s += w * mp.log(likelihood)
        return s

    def unit(*axes):
        order = [0, 0, 0, 0]
        for i in axes:
            order[i] += 1
        return tuple(order)

    score = lambda *theta: [mp.diff(total, theta, unit(i)) for i in range(4)]
    theta = list(mp.findroot(score, [mp.log(mp.mpf(v)) for v in start]))
    hessian = mp.matrix(4, 4)
    for i in range(4):
        for j in range(i, 4):
            hessian[i, j] = hessian[j, i] = mp.diff(total, theta, unit(i, j))
    covariance = -(hessian**-1)
    params = [mp.e**t for t in theta]
    print(os.path.basename(path), "alpha, beta, gamma, delta:", [mp.nstr(p, 17) for p in params])
    print("  log-likelihood:", mp.nstr(total(*theta), 17))
    print("  standard errors:", [mp.nstr(params[i] * mp.sqrt(covariance[i, i]), 17) for i in range(4)])


near = os.path.join(HERE, "near_limit_bg_bb_5000.csv")
simulate(near)
fit(os.path.join(HERE, "..", "..", "data", "donations.csv"), ["1.204", "0.750", "0.657", "2.783"])
fit(near, ["1.06", "0.69", "14.3", "58.4"])
