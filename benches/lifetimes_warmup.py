"""lifetimes' BG/NBD and MBG/NBD fitters, each six times and then again, in one process.

    python benches/lifetimes_warmup.py RFM_TABLE.csv
    MALLOC_MMAP_THRESHOLD_=67108864 python benches/lifetimes_warmup.py RFM_TABLE.csv
    MALLOC_MMAP_THRESHOLD_=131072 python benches/lifetimes_warmup.py RFM_TABLE.csv

How long a fit takes depends on glibc's malloc: its large numpy temporaries come from fresh memory
maps until malloc's mmap threshold (which climbs as mapped blocks are freed, unless it is set)
has risen past them. Run it in the virtualenv of benches/lifetimes-requirements.txt; the table
is an RFM table with frequency, recency and T (benches/compare_models.py's).
"""

import sys
import time
import warnings

import pandas as pd

warnings.simplefilter("ignore")

import lifetimes  # noqa: E402

table = pd.read_csv(sys.argv[1])
for name, fitter in [("BG/NBD", lifetimes.BetaGeoFitter), ("MBG/NBD", lifetimes.ModifiedBetaGeoFitter)] * 2:
    times = []
    for _ in range(6):
        t0 = time.perf_counter()
        fitter().fit(table["frequency"], table["recency"], table["T"])
        times.append(time.perf_counter() - t0)
    print(f"{name:8} " + " ".join(f"{t:.3f}" for t in times))
