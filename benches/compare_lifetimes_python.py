"""clv.lifetimes against lifetimes, in one Python process, on one RFM table.

    python benches/compare_lifetimes_python.py [CUSTOMERS (1000000)] [SEED (42)]

Run it in a virtualenv with lifetimes (benches/lifetimes-requirements.txt) and clv built
optimised (`pip install ./python`, or `maturin build --release -m python/Cargo.toml` and install
the wheel). The log is `clv.simulate(CUSTOMERS, seed=SEED)`, the log of
`clv simulate --customers CUSTOMERS --seed SEED` that benches/compare_lifetimes.sh times the command
line on; both libraries get the same summary (weeks at daily resolution), and run the same steps
as that script: BG/NBD and Gamma-Gamma fits, then P(alive), expected purchases over 12 months and
a 12-month CLV at 1% a month (lifetimes' customer_lifetime_value, freq="W"). Prints a Markdown
table of times and ratios, and the estimates side by side.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

warnings.simplefilter("ignore")

# numpy's OpenBLAS with one thread: with one per core its worker spins for about 0.1 s after
# lifetimes' last step, holding a core that clv's first step, timed right after, would share
# (compare_models.py says more). lifetimes' BG/NBD and MBG/NBD fits are no slower with one
# thread (measured there); its other steps were not timed both ways. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import lifetimes  # noqa: E402

import clv  # noqa: E402
import clv.lifetimes  # noqa: E402

HORIZON_WEEKS = 365.25 / 7  # 12 months of 365.25/12 days, in weeks


def steps(package, summary):
    """Times of each step with `package` (lifetimes or clv.lifetimes), and its estimates."""
    f, r, T, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]
    times = {}
    t0 = time.perf_counter()
    bgf = package.BetaGeoFitter().fit(f, r, T)
    repeat = summary[summary["frequency"] > 0]
    ggf = package.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    times["BG/NBD + Gamma-Gamma fit"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    bgf.conditional_probability_alive(f, r, T)
    bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, f, r, T)
    ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W")
    times["P(alive), expected purchases, 12-month CLV"] = time.perf_counter() - t1
    times["fit + predictions"] = time.perf_counter() - t0
    return times, {**bgf.params_.to_dict(), **ggf.params_.to_dict()}


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    log = clv.simulate(customers, seed=seed)
    summary = clv.lifetimes.utils.summary_data_from_transaction_data(
        log, "customer_id", "date", monetary_value_col="amount", freq="D", freq_multiplier=7
    )
    theirs, their_params = steps(lifetimes, summary)
    ours, our_params = steps(clv.lifetimes, summary)
    print(f"Log: clv.simulate({customers}, seed={seed}): {log.height:,} transactions, {len(summary):,} customers.\n")
    print("| step | lifetimes (s) | clv.lifetimes (s) | lifetimes / clv.lifetimes |")
    print("|---|---|---|---|")
    for step in theirs:
        print(f"| {step} | {theirs[step]:.3f} | {ours[step]:.3f} | {theirs[step] / ours[step]:.1f}× |")
    print("\n| parameter | lifetimes | clv.lifetimes | relative difference |")
    print("|---|---|---|---|")
    for name, value in their_params.items():
        print(f"| {name} | {value:.6f} | {our_params[name]:.6f} | {abs(our_params[name] - value) / abs(value):.1e} |")


if __name__ == "__main__":
    main()
