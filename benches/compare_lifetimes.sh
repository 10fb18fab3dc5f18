#!/usr/bin/env bash
# Side by side: clv against Python's lifetimes on one simulated log, step by step.
#
#   bash benches/compare_lifetimes.sh [CUSTOMERS (1000000)] [SEED (42)]
#
# Builds clv in release, installs lifetimes into a throw-away virtualenv (target/lifetimes-venv,
# from benches/lifetimes-requirements.txt), simulates a log with `clv simulate` (kept in
# target/compare for reruns), runs both and prints a Markdown table: times per step, the ratio
# lifetimes/clv, peak memory, Polars alone reading and aggregating the log, and the fitted
# parameters of both side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${1:-1000000}
SEED=${2:-42}
cargo build --release --quiet
VENV=target/lifetimes-venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r benches/lifetimes-requirements.txt
fi
mkdir -p target/compare
"$VENV/bin/python" benches/compare_lifetimes.py target/release/clv "$CUSTOMERS" "$SEED" target/compare
