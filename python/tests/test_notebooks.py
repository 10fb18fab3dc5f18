"""The notebooks run top to bottom with the package, as an analyst would run them
(notebooks/execute.py, from notebooks/), and show what they promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO


def execute(name: str, tmp_path) -> tuple[dict, str]:
    executed = tmp_path / "executed.ipynb"
    done = subprocess.run(
        [sys.executable, str(REPO / "notebooks" / "execute.py"), str(REPO / "notebooks" / name), str(executed)],
        capture_output=True,
        text=True,
        env={**os.environ, "CLV_NOTEBOOK_OUT": str(tmp_path / "out")},
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    text = executed.read_text()
    notebook = json.loads(text)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(isinstance(c["execution_count"], int) for c in code)
    return notebook, text


def test_the_cdnow_evaluation_notebook_runs_with_the_package(tmp_path):
    _, text = execute("cdnow_evaluation.ipynb", tmp_path)
    assert "import clv" in text and "subprocess" not in text
    assert "1882 transactions by 684 customers in the holdout" in text
    assert text.count("image/png") == 4
    # The evaluation's files went where the notebook was told.
    assert (tmp_path / "out" / "evaluation.json").exists()


def test_the_lifetimes_migration_notebook_runs_side_by_side(tmp_path):
    _, text = execute("lifetimes_migration.ipynb", tmp_path)
    assert "<lifetimes.BetaGeoFitter: fitted with 2357 subjects" in text
    assert "<clv.lifetimes.BetaGeoFitter: fitted with 2357 subjects" in text
    assert "clv.lifetimes: symmetric True" in text
    assert "lifetimes / clv.lifetimes" in text
