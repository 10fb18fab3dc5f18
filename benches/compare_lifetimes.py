"""clv against lifetimes on one simulated log; run by benches/compare_lifetimes.sh.

    python compare_lifetimes.py CLV_BINARY CUSTOMERS SEED WORK_DIR

Each side runs in its own process, so that its peak memory (ru_maxrss from wait4) is its own:
lifetimes in a child Python process timing its steps, clv as `clv run --timings`. Both use weeks
at daily resolution (lifetimes: freq="D", freq_multiplier=7), a 12-month horizon and a 12-month
CLV at 1% a month.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import time

HORIZON_WEEKS = 365.25 / 7 / 12 * 12  # 12 months of 365.25/12 days, in weeks


def lifetimes_side(log, out):
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    t = {}
    t0 = time.perf_counter()
    df = pd.read_csv(log, parse_dates=["date"])
    t["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    s = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount", freq="D", freq_multiplier=7
    )
    t["summarize"] = time.perf_counter() - t1
    f, r, T, m = s["frequency"], s["recency"], s["T"], s["monetary_value"]
    t2 = time.perf_counter()
    bgf = BetaGeoFitter().fit(f, r, T)
    t["fit_bg_nbd"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    repeat = s[s["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    t["fit_gamma_gamma"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    p_alive = bgf.conditional_probability_alive(f, r, T)
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, f, r, T)
    clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W")
    t["forecast"] = time.perf_counter() - t4
    t5 = time.perf_counter()
    pd.DataFrame({"p_alive": p_alive, "expected_purchases": expected, "clv": clv}).to_csv(out + ".csv")
    t["write"] = time.perf_counter() - t5
    t["total"] = time.perf_counter() - t0
    params = {**{k: float(v) for k, v in bgf.params_.items()}, **{k: float(v) for k, v in ggf.params_.items()}}
    json.dump({"times": t, "params": params, "customers": len(s)}, open(out, "w"))


def polars_side(log, out):
    import polars as pl

    t0 = time.perf_counter()
    df = pl.read_csv(log, try_parse_dates=True)
    agg = df.group_by("customer_id").agg(
        pl.col("date").min().alias("first"),
        pl.col("date").max().alias("last"),
        pl.col("date").n_unique().alias("days"),
        pl.col("amount").sum().alias("spend"),
    )
    json.dump({"times": {"total": time.perf_counter() - t0}, "customers": agg.height}, open(out, "w"))


def measured_rss(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024, err


def main():
    if sys.argv[1] == "--lifetimes":
        return lifetimes_side(sys.argv[2], sys.argv[3])
    if sys.argv[1] == "--polars":
        return polars_side(sys.argv[2], sys.argv[3])
    clv, customers, seed, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    log = os.path.join(work, f"log_{customers}_{seed}.csv")
    if not os.path.exists(log):
        subprocess.run([clv, "simulate", "--customers", str(customers), "--seed", str(seed), "-o", log], check=True,
                       stdout=subprocess.DEVNULL)
    size_mb = os.path.getsize(log) / 1e6
    with open(log) as fh:
        rows = sum(1 for _ in fh) - 1

    py = sys.executable
    me = os.path.abspath(__file__)
    lt_json, pl_json = os.path.join(work, "lifetimes.json"), os.path.join(work, "polars.json")
    _, lt_rss, _ = measured_rss([py, me, "--lifetimes", log, lt_json])
    lt = json.load(open(lt_json))
    _, pl_rss, _ = measured_rss([py, me, "--polars", log, pl_json])
    polars_total = json.load(open(pl_json))["times"]["total"]
    model = os.path.join(work, "clv_model.json")
    clv_wall, clv_rss, err = measured_rss([
        clv, "run", log, "--timings", "-o", os.path.join(work, "clv_predictions.csv"),
        "--report-dir", os.path.join(work, "clv_report"), "--model-output", model,
    ])
    ct = {}
    for line in err.splitlines():
        if line.startswith("timing:"):
            name, seconds = line.split()[1], float(line.split()[2])
            ct[name] = seconds
    fitted = json.load(open(model))
    ours = {**fitted["purchase"]["params"], **fitted["gamma_gamma"]["params"]}

    lt_t = lt["times"]
    steps = [
        ("read + RFM summary", lt_t["read"] + lt_t["summarize"], ct["read"] + ct["summarize"]),
        ("BG/NBD + Gamma-Gamma fit", lt_t["fit_bg_nbd"] + lt_t["fit_gamma_gamma"], ct["fit"]),
        ("P(alive), expected purchases, 12-month CLV", lt_t["forecast"], ct["forecast"]),
        ("write predictions", lt_t["write"], ct["write"]),
        ("end to end (one process, wall clock)", lt_t["total"], clv_wall),
    ]
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"## clv vs lifetimes, {datetime.date.today()}, {os.cpu_count()} cores ({cpu}), {platform.system()}")
    print()
    print(f"Log: `clv simulate --customers {customers} --seed {seed}`: {rows:,} transactions, {size_mb:.0f} MB CSV, "
          f"{lt['customers']:,} customers.")
    print()
    print("| step | lifetimes (s) | clv (s) | lifetimes / clv |")
    print("|---|---|---|---|")
    for name, a, b in steps:
        print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.1f}× |")
    print(f"| peak memory (MB) | {lt_rss:.0f} | {clv_rss:.0f} | {lt_rss / clv_rss:.1f}× |")
    print()
    print(f"clv's end to end also writes the value report ({ct.get('report', 0.0):.3f} s). "
          f"Polars alone (Python, read + per-customer aggregates): {polars_total:.3f} s, {pl_rss:.0f} MB; "
          f"clv end to end / Polars alone = {clv_wall / polars_total:.2f}; clv's read and summary / Polars alone = "
          f"{(ct['read'] + ct['summarize']) / polars_total:.2f}.")
    print()
    print("| parameter | lifetimes | clv | relative difference |")
    print("|---|---|---|---|")
    for name in ["r", "alpha", "a", "b", "p", "q", "v"]:
        a, b = lt["params"][name], ours[name]
        print(f"| {name} | {a:.6f} | {b:.6f} | {abs(a - b) / abs(b):.1e} |")


if __name__ == "__main__":
    main()
