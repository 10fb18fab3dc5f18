"""Shared fixtures: the repository's data, the `clv` command line built by `cargo test` (or
CLV_BIN), and a runner that returns its standard error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
CDNOW_LOG = DATA / "cdnow_sample.csv"
CALIBRATION_END = "1997-09-30"


@pytest.fixture(scope="session")
def clv_bin() -> Path:
    path = Path(os.environ.get("CLV_BIN", REPO / "target" / "debug" / "clv"))
    if not path.exists():
        pytest.fail(f"the clv command line is not built at {path}: run `cargo build` (or set CLV_BIN)")
    return path


@pytest.fixture(scope="session")
def run_cli(clv_bin: Path):
    def run(*args: object, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(clv_bin), *map(str, args)],
            capture_output=True,
            text=True,
            env={**os.environ, "CLV_NO_PROGRESS": "1"},
        )
        if ok and done.returncode != 0:
            raise AssertionError(f"clv {' '.join(map(str, args))} failed:\n{done.stderr}")
        return done

    return run
