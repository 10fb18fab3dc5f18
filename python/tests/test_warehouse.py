"""`clv sql` against `clv summarize`: the query run by DuckDB and by Spark SQL builds clv's RFM
summary (integers and dates exactly, times and money to 1e-9), and its compressed form fits to the
estimates of the full table; and clv's scorer inside Spark (`clv.spark`) predicts as `clv predict`.

No BigQuery runs here. Its query is read by sqlglot as GoogleSQL (a syntax error fails the test),
written by sqlglot for DuckDB and run there: that checks it parses and means what the DuckDB query
means (DATE_DIFF's argument order, ERROR, the casts), as sqlglot understands BigQuery."""

from __future__ import annotations

import datetime as dt
import os
import sys

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import clv
import clv.spark
from conftest import CALIBRATION_END, CDNOW_LOG

duckdb = pytest.importorskip("duckdb")

# The dialects whose queries run in DuckDB: BigQuery's through sqlglot (`summary_sql`).
IN_DUCKDB = ["duckdb", "bigquery"]


def summary_sql(run_cli, dialect: str, *args: object) -> str:
    """`clv sql`'s query in `dialect`; BigQuery's read as GoogleSQL and written for DuckDB."""
    sql = run_cli("sql", "--dialect", dialect, "--table", "log", *args).stdout
    if dialect != "bigquery":
        return sql
    sqlglot = pytest.importorskip("sqlglot")
    (tree,) = sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    return tree.sql(dialect="duckdb")


def assert_same_summary(got: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Same customers and columns; integers, dates and text equal, floats to 1e-9."""
    assert got.columns == expected.columns
    assert got.height == expected.height
    key = got.columns[0] if "customer_id" in got.columns else None
    if key is None:  # a compressed summary: no ids, order by every column
        got, expected = got.sort(got.columns, nulls_last=True), expected.sort(expected.columns, nulls_last=True)
    else:
        got, expected = got.sort(key), expected.sort(key)
    got = got.cast({c: t for c, t in expected.schema.items()})
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def duckdb_log(log: pl.DataFrame | None = None):
    con = duckdb.connect()
    if log is None:
        con.execute(f"CREATE TABLE log AS SELECT * FROM read_csv('{CDNOW_LOG}')")
    else:
        con.register("log_frame", log.to_arrow())
        con.execute("CREATE TABLE log AS SELECT * FROM log_frame")
    return con


def run_duckdb(con, sql: str) -> pl.DataFrame:
    return pl.from_arrow(con.execute(sql).arrow())


CASES = [
    ("weeks", None),
    ("weeks", CALIBRATION_END),
    ("days", CALIBRATION_END),
    ("months", None),
]


@pytest.mark.parametrize("dialect", IN_DUCKDB)
@pytest.mark.parametrize("time_unit, calibration_end", CASES)
def test_duckdb_builds_the_summary_clv_builds_on_cdnow(run_cli, dialect, time_unit, calibration_end):
    period = ["--time-unit", time_unit] + (["--calibration-end", calibration_end] if calibration_end else [])
    got = run_duckdb(duckdb_log(), summary_sql(run_cli, dialect, *period))
    expected = clv.summarize(CDNOW_LOG, time_unit=time_unit, calibration_end=calibration_end)
    assert_same_summary(got, expected)


def random_log(seed: int, customers: int = 400) -> pl.DataFrame:
    """Same-day repeats, returns (some netting a day to ≤ 0, some of a day alone), zero amounts,
    customers whose first purchase falls after the calibration end, timestamps."""
    rng = np.random.default_rng(seed)
    rows = []
    start = dt.datetime(2024, 1, 1, 9, 30)
    for c in range(customers):
        first = int(rng.integers(0, 300))
        days = first + np.concatenate([[0], rng.integers(0, 400 - first, size=int(rng.poisson(2.5)))])
        for day in days:
            for _ in range(1 + int(rng.random() < 0.2)):  # a second purchase the same day
                amount = float(np.round(rng.gamma(2.0, 20.0), 2))
                if rng.random() < 0.1:
                    amount = -amount  # a return
                elif rng.random() < 0.03:
                    amount = 0.0
                rows.append((f"c{c:04d}", start + dt.timedelta(days=int(day), hours=float(rng.integers(0, 12))), amount))
    return pl.DataFrame(rows, schema=["customer_id", "date", "amount"], orient="row")


@pytest.mark.parametrize("dialect", IN_DUCKDB)
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("negative_amounts", ["drop", "net"])
def test_duckdb_builds_the_summary_clv_builds_on_random_logs(run_cli, dialect, seed, negative_amounts):
    log = random_log(seed)
    con = duckdb_log(log)
    for calibration_end, observation_end in [(None, None), ("2024-09-30", None), ("2024-06-30", "2024-12-31")]:
        args = ["--negative-amounts", negative_amounts, "--time-unit", "weeks"]
        args += ["--calibration-end", calibration_end] if calibration_end else []
        args += ["--observation-end", observation_end] if observation_end else []
        got = run_duckdb(con, summary_sql(run_cli, dialect, *args))
        expected = clv.summarize(
            log,
            time_unit="weeks",
            calibration_end=calibration_end,
            observation_end=observation_end,
            negative_amounts=negative_amounts,
        )
        assert_same_summary(got, expected)
        compressed = run_duckdb(con, summary_sql(run_cli, dialect, *args, "--compressed"))
        assert_same_summary(
            compressed,
            clv.summarize(
                log,
                time_unit="weeks",
                calibration_end=calibration_end,
                observation_end=observation_end,
                negative_amounts=negative_amounts,
                compressed=True,
            ),
        )


@pytest.mark.parametrize("dialect", IN_DUCKDB)
def test_a_return_stops_the_query_unless_told_what_it_is(run_cli, dialect):
    con = duckdb_log(random_log(1))
    with pytest.raises(duckdb.Error, match="a negative amount"):
        con.execute(summary_sql(run_cli, dialect)).fetchall()


def test_the_compressed_summary_from_duckdb_fits_as_the_full_table(run_cli):
    con = duckdb_log()
    compressed = run_duckdb(con, summary_sql(run_cli, "duckdb", "--calibration-end", CALIBRATION_END, "--compressed"))
    full = clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=CALIBRATION_END)
    histories = compressed.filter(pl.col("recency").is_not_null())
    assert histories["customers"].sum() == full.height == 2357
    assert compressed.height < full.height
    ours, theirs = clv.fit(compressed), clv.fit(full)
    assert ours.params == theirs.params
    assert ours.log_likelihood == theirs.log_likelihood
    assert ours.standard_errors == theirs.standard_errors
    # Gamma-Gamma on spend rounded to cents: the published summary's (v = 15.4477).
    assert ours.spend["params"] == clv.fit(clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=CALIBRATION_END, compressed=True)).spend["params"]
    assert f"{ours.spend['params']['v']:.4f}" == "15.4477"


@pytest.fixture(scope="module")
def spark():
    """Spark in local mode on this machine's cores, its Python workers this interpreter."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("clv-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


def spark_log(spark):
    log = spark.read.csv(str(CDNOW_LOG), header=True, schema="customer_id BIGINT, date DATE, quantity BIGINT, amount DOUBLE")
    log.createOrReplaceTempView("log")
    return log


def to_polars(df) -> pl.DataFrame:
    """A (small) Spark result as a Polars frame, its Spark types kept."""
    rows = [row.asDict() for row in df.collect()]
    return pl.DataFrame(rows, schema=df.columns, orient="row", infer_schema_length=None)


@pytest.mark.parametrize("calibration_end", [None, CALIBRATION_END])
def test_spark_sql_builds_the_summary_clv_builds(spark, run_cli, calibration_end):
    spark_log(spark)
    period = ["--calibration-end", calibration_end] if calibration_end else []
    got = to_polars(spark.sql(summary_sql(run_cli, "spark", *period)))
    assert_same_summary(got, clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=calibration_end))
    compressed = to_polars(spark.sql(summary_sql(run_cli, "spark", *period, "--compressed")))
    assert_same_summary(compressed, clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=calibration_end, compressed=True))


def test_a_spark_job_predicts_what_clv_predict_writes(spark, run_cli, tmp_path):
    # The three steps of "When one machine is not enough": the compressed summary in Spark SQL,
    # the fit on it, the scoring in Spark; against `clv predict` on the full summary.
    spark_log(spark)
    compressed = to_polars(spark.sql(summary_sql(run_cli, "spark", "--calibration-end", CALIBRATION_END, "--compressed")))
    models = clv.fit(compressed)
    models.save(tmp_path / "model.json")
    rfm = spark.sql(summary_sql(run_cli, "spark", "--calibration-end", CALIBRATION_END)).repartition(3)
    predictions = to_polars(clv.spark.predict(models, rfm, clv_months=24, discount_rate=0.01))
    full = clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=CALIBRATION_END)
    full.write_parquet(tmp_path / "rfm.parquet")
    run_cli(
        "predict", tmp_path / "rfm.parquet", "--model-file", tmp_path / "model.json", "-o", tmp_path / "p.parquet",
        "--clv-months", 24, "--discount-rate", 0.01,
    )
    expected = pl.read_parquet(tmp_path / "p.parquet").drop(clv.spark.RANKED_COLUMNS)
    assert predictions.height == 2357
    assert predictions.columns == expected.columns
    got = predictions.sort("customer_id").cast(dict(expected.schema))
    # Spark's mean spends are its sums over counts, clv's are those to 12 significant digits
    # (rule 7): they differ by a few 1e-12, and so do the forecasts that read them.
    assert_frame_equal(got, expected.sort("customer_id"), check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def test_a_spark_job_bounds_each_customer_as_clv_predict_does(spark, run_cli, tmp_path):
    # With interval=, every batch draws the same parameter vectors from the seed, so a Spark job's
    # bounds are `clv predict --interval`'s for the whole table. The bounds are written to six
    # significant digits, rounded outward, from mean spends that differ by a few 1e-12 (see
    # above): a bound may land one unit of its sixth digit apart, 1e-5 of itself at most.
    spark_log(spark)
    full = clv.summarize(CDNOW_LOG, time_unit="weeks", calibration_end=CALIBRATION_END)
    full.write_parquet(tmp_path / "rfm.parquet")
    models = clv.fit(full)
    models.save(tmp_path / "model.json")
    rfm = spark.sql(summary_sql(run_cli, "spark", "--calibration-end", CALIBRATION_END)).repartition(3)
    options = dict(clv_months=24, discount_rate=0.01, interval=0.9, draws=50, interval_seed=5)
    predictions = to_polars(clv.spark.predict(models, rfm, **options))
    run_cli(
        "predict", tmp_path / "rfm.parquet", "--model-file", tmp_path / "model.json", "-o", tmp_path / "p.parquet",
        "--clv-months", 24, "--discount-rate", 0.01, "--interval", 0.9, "--draws", 50, "--interval-seed", 5,
    )
    expected = pl.read_parquet(tmp_path / "p.parquet").drop(clv.spark.RANKED_COLUMNS)
    assert "clv_q95" in expected.columns and "purchases_q05" in expected.columns
    assert predictions.columns == expected.columns
    got = predictions.sort("customer_id").cast(dict(expected.schema))
    assert_frame_equal(got, expected.sort("customer_id"), check_exact=False, rel_tol=1e-5, abs_tol=1e-12)
    with pytest.raises(ValueError, match="bootstrap refits the models to resamples of a whole table"):
        clv.spark.scorer(models, interval=0.9, bootstrap=20)
