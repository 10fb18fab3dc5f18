#!/usr/bin/env bash
# Every test: the Rust suite (`cargo test`, which also runs the notebook), then the Python
# package's (pytest on python/tests, against the `clv` binary that `cargo test` built).
#
#   bash tests/run.sh
#
# Python runs in the throw-away virtualenv target/python-venv, made here on first use and kept up
# to date with notebooks/requirements.txt and python/tests/requirements.txt. The extension is built
# into it by `maturin develop`, with the tests' build profile: it shares their compiled Polars.
# The Spark tests need a Java runtime (17 or later) on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/python-venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
    -r notebooks/requirements.txt -r python/tests/requirements.txt
cargo test
VIRTUAL_ENV="$PWD/$VENV" "$VENV/bin/maturin" develop --quiet -m python/Cargo.toml
CLV_BIN="$PWD/target/debug/clv" "$VENV/bin/python" -m pytest -q python/tests
