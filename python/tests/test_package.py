"""The `clv` package against the `clv` command line and the papers, on the CDNOW sample."""

from __future__ import annotations

import threading

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import clv
from conftest import CALIBRATION_END, CDNOW_LOG


@pytest.fixture(scope="module")
def rfm() -> pl.DataFrame:
    return clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=CALIBRATION_END)


@pytest.fixture(scope="module")
def models(rfm: pl.DataFrame) -> clv.FittedModels:
    return clv.fit(rfm)


def test_summarize_gives_the_command_lines_table(rfm, run_cli, tmp_path):
    out = tmp_path / "rfm.parquet"
    run_cli("summarize", CDNOW_LOG, "-o", out, "--time-unit", "weeks", "--calibration-end", CALIBRATION_END)
    assert_frame_equal(rfm, pl.read_parquet(out))
    assert rfm.height == 2357
    # Fader, Hardie & Lee's calibration period: 39 weeks after 1997-01-01's cohort.
    assert rfm["duration_holdout"].unique().to_list() == [39.0]


def test_a_pandas_log_and_a_polars_log_summarize_alike(rfm):
    from_pandas = clv.summarize(pd.read_csv(CDNOW_LOG), calibration_end=CALIBRATION_END)
    from_polars = clv.summarize(pl.read_csv(CDNOW_LOG), calibration_end=CALIBRATION_END)
    assert_frame_equal(from_pandas, rfm)
    assert_frame_equal(from_polars, rfm)


def test_the_fit_reproduces_the_papers(models):
    # Fader, Hardie & Lee (2005), BG/NBD on CDNOW: r = 0.243, α = 4.414, a = 0.793, b = 2.426,
    # LL = −9582.4; Fader & Hardie's Gamma-Gamma: p = 6.25, q = 3.74, γ = 15.44.
    params = models.params
    assert (round(params["r"], 3), round(params["alpha"], 3), round(params["a"], 3), round(params["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(models.log_likelihood, 1) == -9582.4
    spend = models.spend["params"]
    assert (round(spend["p"], 2), round(spend["q"], 2), round(spend["v"], 2)) == (6.25, 3.74, 15.44)
    assert models.model == "bg-nbd" and models.label == "BG/NBD" and models.time_unit == "weeks"
    assert models.n_customers == 2357
    # AIC and BIC from the log-likelihood with 4 parameters and 2,357 customers.
    assert models.aic == pytest.approx(2 * 4 - 2 * models.log_likelihood, rel=1e-12)
    assert models.bic == pytest.approx(4 * __import__("math").log(2357) - 2 * models.log_likelihood, rel=1e-12)


def test_the_summary_and_covariance_are_the_fits(models):
    summary = models.summary()
    assert summary.columns == ["model", "parameter", "estimate", "standard_error", "lower_95", "upper_95"]
    assert summary["parameter"].to_list() == ["r", "alpha", "a", "b", "p", "q", "v"]
    cov = models.covariance
    assert cov["parameter"].to_list() == ["r", "alpha", "a", "b"]
    for name in ["r", "alpha", "a", "b"]:
        row = cov.filter(pl.col("parameter") == name)
        assert row[name].item() == pytest.approx(models.standard_errors[name] ** 2, rel=1e-12)
        assert row[name].item() > 0
    # Symmetric.
    assert cov.filter(pl.col("parameter") == "a")["b"].item() == cov.filter(pl.col("parameter") == "b")["a"].item()
    assert "BG/NBD" in repr(models) and "-9582.4" in repr(models)
    assert "log-likelihood" in models.report()


def test_a_fit_is_the_command_lines_fit_byte_for_byte(rfm, models, run_cli, tmp_path):
    table = tmp_path / "rfm.parquet"
    rfm.write_parquet(table)
    run_cli("fit", table, "-o", tmp_path / "cli.json")
    models.save(tmp_path / "python.json")
    assert (tmp_path / "python.json").read_bytes() == (tmp_path / "cli.json").read_bytes()


def test_a_compressed_summary_is_the_command_lines_and_fits_as_the_full_table(rfm, models, run_cli, tmp_path):
    compressed = clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=CALIBRATION_END, compressed=True)
    assert compressed.columns == ["frequency", "recency", "T", "monetary_value", "customers", "time_unit"]
    histories = compressed.filter(pl.col("recency").is_not_null())
    assert histories["customers"].sum() == rfm.height
    assert histories.height < rfm.height
    run_cli("summarize", CDNOW_LOG, "-o", tmp_path / "c.parquet", "--time-unit", "weeks", "--calibration-end", CALIBRATION_END, "--compressed")
    assert_frame_equal(pl.read_parquet(tmp_path / "c.parquet"), compressed)
    fitted = clv.fit(compressed)
    assert fitted.params == models.params
    assert fitted.log_likelihood == models.log_likelihood
    assert_frame_equal(fitted.covariance, models.covariance, check_exact=True)
    # Gamma-Gamma on spend rounded to cents: the published summary's spend (tests/compressed.rs).
    assert f"{fitted.spend['params']['v']:.4f}" == "15.4477"


def test_predictions_cross_between_python_and_the_command_line(rfm, models, run_cli, tmp_path):
    table = tmp_path / "rfm.parquet"
    rfm.write_parquet(table)
    # A model saved in Python predicts in the command line as in Python, and back.
    models.save(tmp_path / "python.json")
    run_cli("predict", table, "--model-file", tmp_path / "python.json", "-o", tmp_path / "cli.parquet", "--horizon", 39)
    in_python = models.predict(rfm, horizon=39)
    assert_frame_equal(in_python, pl.read_parquet(tmp_path / "cli.parquet"))
    run_cli("fit", table, "-o", tmp_path / "cli.json")
    from_cli = clv.load(tmp_path / "cli.json")
    assert_frame_equal(from_cli.predict(rfm, horizon=39), in_python)
    assert "clv" in in_python.columns and "p_alive" in in_python.columns and "value_tier" in in_python.columns


def test_forecast_settings_reach_the_forecast(rfm, models, run_cli, tmp_path):
    table = tmp_path / "rfm.parquet"
    rfm.write_parquet(table)
    models.save(tmp_path / "m.json")
    run_cli(
        "predict", table, "--model-file", tmp_path / "m.json", "-o", tmp_path / "p.parquet",
        "--clv-months", 24, "--annual-discount-rate", 0.1, "--margin", 0.3, "--clv-method", "dert",
    )
    mine = models.predict(rfm, clv_months=24, annual_discount_rate=0.1, margin=0.3, clv_method="dert")
    assert_frame_equal(mine, pl.read_parquet(tmp_path / "p.parquet"))


def test_pandas_and_polars_tables_fit_and_predict_alike(rfm, models):
    as_pandas = pd.DataFrame({c: rfm[c].to_numpy() for c in ["customer_id", "frequency", "recency", "T", "monetary_value"]})
    fitted = clv.fit(as_pandas, time_unit="weeks")
    assert fitted.to_json() == models.to_json()
    assert_frame_equal(
        fitted.predict(as_pandas, time_unit="weeks"),
        models.predict(rfm.select("customer_id", "frequency", "recency", "T", "monetary_value"), time_unit="weeks"),
    )


@pytest.mark.parametrize("model", ["pareto-nbd", "mbg-nbd", "nbd"])
def test_every_model_fits_as_the_command_line_fits_it(rfm, run_cli, tmp_path, model):
    table = tmp_path / "rfm.parquet"
    rfm.write_parquet(table)
    run_cli("fit", table, "-o", tmp_path / "cli.json", "--model", model)
    fitted = clv.fit(rfm, model)
    assert fitted.model == model
    assert fitted.to_json() + "\n" == (tmp_path / "cli.json").read_text() or fitted.to_json() == (tmp_path / "cli.json").read_text()


def test_a_fit_without_spend_has_no_spend_model(rfm):
    fitted = clv.fit(rfm, spend=False)
    assert fitted.spend is None
    assert "clv" not in fitted.predict(rfm).columns


def test_simulate_gives_the_command_lines_log(run_cli, tmp_path):
    out = tmp_path / "log.parquet"
    run_cli("simulate", "--customers", 500, "--seed", 7, "-o", out)
    assert_frame_equal(clv.simulate(500, seed=7), pl.read_parquet(out))


def test_bad_input_raises_clverror_with_the_command_lines_message(run_cli, tmp_path):
    log = tmp_path / "bad.csv"
    log.write_text("customer_id,date,amount\n1,1997-01-01,10\n2,1997-02-30,5\n")
    with pytest.raises(clv.ClvError) as raised:
        clv.summarize(log)
    cli = run_cli("summarize", log, "-o", tmp_path / "rfm.csv", ok=False)
    assert cli.returncode != 0
    assert f"error: {raised.value}" in cli.stderr
    assert "column 'date', data row 2" in str(raised.value)
    # The same log in memory: the same message, naming the DataFrame instead of the file.
    with pytest.raises(clv.ClvError, match="the DataFrame: column 'date', data row 2"):
        clv.summarize(pl.read_csv(log))
    with pytest.raises(clv.ClvError, match="no column 'when'"):
        clv.summarize(log, date="when")
    assert issubclass(clv.ClvError, Exception)


def test_a_failed_save_leaves_nothing_behind(models, tmp_path):
    # The path is a folder: the write fails, and no temporary file is left beside it.
    (tmp_path / "taken").mkdir()
    with pytest.raises(clv.ClvError):
        models.save(tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
    assert list((tmp_path / "taken").iterdir()) == []


def test_bad_settings_are_refused(rfm, models):
    with pytest.raises(clv.ClvError, match="margin"):
        models.predict(rfm, margin=30)
    with pytest.raises(ValueError, match="model must be one of"):
        clv.fit(rfm, "bg/nbd")
    with pytest.raises(ValueError, match="time_unit"):
        clv.summarize(CDNOW_LOG, time_unit="fortnights")
    with pytest.raises(TypeError, match="expected a path or a polars/pandas DataFrame"):
        clv.fit([1, 2, 3])


def test_fits_run_in_parallel_threads(rfm, models):
    # The GIL is released while clv fits: threads each get the same fit.
    results = [None] * 3

    def work(i: int) -> None:
        results[i] = clv.fit(rfm).to_json()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [models.to_json()] * 3


def test_help_shows_the_docstrings():
    for function in (clv.summarize, clv.fit, clv.load, clv.simulate, clv.FittedModels.predict):
        assert function.__doc__ and len(function.__doc__) > 40
    assert "Arrow" in clv.__doc__


def test_evaluate_gives_the_command_lines_evaluation(run_cli, tmp_path):
    run_cli("evaluate", CDNOW_LOG, "--calibration-end", CALIBRATION_END, "--report-dir", tmp_path / "cli")
    evaluation = clv.evaluate(CDNOW_LOG, CALIBRATION_END, report_dir=tmp_path / "python")
    cli = tmp_path / "cli"
    assert evaluation.data == __import__("json").loads((cli / "evaluation.json").read_text())
    assert_frame_equal(evaluation.holdout, pl.read_csv(cli / "holdout_predictions.csv"), check_dtypes=False)
    assert sorted(p.name for p in evaluation.files) == sorted(p.name for p in cli.iterdir())
    assert set(evaluation.figures) >= {"frequency_histogram", "cumulative_repeat_transactions", "conditional_expectations"}
    comparison = evaluation.comparison()
    assert comparison["model"].to_list() == ["BG/NBD", "Pareto/NBD", "MBG/NBD", "NBD", "actual"]
    assert comparison.filter(pl.col("model") == "actual")["holdout_transactions"].item() == 1882
    # Fader, Hardie & Lee (2005): Pareto/NBD's log-likelihood on CDNOW's calibration period, −9595.0.
    assert round(comparison.filter(pl.col("model") == "Pareto/NBD")["log_likelihood"].item(), 1) == -9595.0
    assert "1882 transactions by 684 customers in the holdout" in evaluation.report
    with pytest.raises(ValueError, match="models must be 'all' or among"):
        clv.evaluate(CDNOW_LOG, CALIBRATION_END, models="bg/nbd")


def test_the_value_report_is_the_command_lines(rfm, models, run_cli, tmp_path):
    table = tmp_path / "rfm.parquet"
    rfm.write_parquet(table)
    models.save(tmp_path / "m.json")
    cli = run_cli("report", table, "--model-file", tmp_path / "m.json", "--report-dir", tmp_path / "cli", "--cac", 20)
    report = models.value_report(rfm, report_dir=tmp_path / "python", cac=20)
    assert report.text in cli.stdout
    csv = sorted(p.name for p in (tmp_path / "cli").iterdir() if p.suffix == ".csv")
    assert sorted(f"{name}.csv" for name in report.tables) == csv
    for name in csv:
        assert (tmp_path / "python" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    tiers = report.tables["value_tiers"]
    assert tiers["customers"].to_list()[-1] == 2357  # the total row
    assert "acquisition" in report.tables


@pytest.mark.parametrize("method", [["--draws", 40], ["--bootstrap", 20]])
def test_intervals_are_the_command_lines(rfm, models, run_cli, tmp_path, method):
    table = tmp_path / "rfm.parquet"
    rfm.write_parquet(table)
    models.save(tmp_path / "m.json")
    run_cli("predict", table, "--model-file", tmp_path / "m.json", "-o", tmp_path / "p.parquet", "--interval", 0.9, *method, "--interval-seed", 7)
    options = {"draws": method[1]} if method[0] == "--draws" else {"bootstrap": method[1]}
    mine = models.predict(rfm, interval=0.9, interval_seed=7, **options)
    assert_frame_equal(mine, pl.read_parquet(tmp_path / "p.parquet"))
    assert {"clv_q05", "clv_q95", "p_alive_q05", "p_alive_q95"} <= set(mine.columns)
    assert (mine["clv_q05"] <= mine["clv_q95"]).all()
    with pytest.raises(clv.ClvError, match="interval"):
        models.predict(rfm, interval=1.5)
