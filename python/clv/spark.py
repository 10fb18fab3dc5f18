"""clv's predictions inside Spark: a fitted model scores a Spark DataFrame of RFM rows on the
executors, Arrow batch by Arrow batch (``DataFrame.mapInArrow``), with clv's numbers.

    import clv, clv.spark
    models = clv.fit(compressed_summary)          # or clv.load("model.json")
    rfm = spark.sql(open("summary.sql").read())    # `clv sql --dialect spark`
    predictions = clv.spark.predict(models, rfm, clv_months=12, discount_rate=0.01)
    predictions.write.parquet("predictions/")

The model travels once, as a broadcast of its JSON model file; each Python worker rebuilds it once.
The columns are those of ``clv predict`` that belong to one customer alone (P(alive), churn,
expected purchases and spend, CLV, value at stake); the value tiers, CLV percentiles and statuses
rank each customer among all the others, which no batch can do: rank the ``clv`` column with
Spark (``percent_rank().over(Window.orderBy("clv"))``) where they are needed.

Needs pyspark and pyarrow (Spark's Arrow exchange).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Iterator

import polars as pl

from clv import FittedModels, _clv

__all__ = ["predict", "scorer", "output_schema"]

#: The columns of ``clv predict`` that rank a customer among all the others.
RANKED_COLUMNS = ("value_tier", "clv_percentile", "status")

_SPARK_TYPES = {
    pl.Int64: "BIGINT",
    pl.Int32: "INT",
    pl.UInt32: "BIGINT",
    pl.UInt64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Float32: "FLOAT",
    pl.String: "STRING",
    pl.Date: "DATE",
    pl.Boolean: "BOOLEAN",
}


def _score(models: FittedModels, batch: Any, options: dict) -> Any:
    """One Arrow batch of RFM rows → its predictions, as an Arrow table with Spark's Arrow types
    (plain strings, not Polars' large or view strings)."""
    import pyarrow as pa

    predictions = models.predict(pl.from_arrow(batch), **options)
    table = predictions.drop([c for c in RANKED_COLUMNS if c in predictions.columns]).to_arrow()
    plain = lambda t: pa.string() if pa.types.is_large_string(t) or pa.types.is_string_view(t) else t  # noqa: E731
    return table.cast(pa.schema([pa.field(f.name, plain(f.type)) for f in table.schema]))


#: The Polars type of each Spark type, for the one-row sample `output_schema` predicts.
_POLARS_TYPES = {
    "long": pl.Int64,
    "integer": pl.Int32,
    "short": pl.Int16,
    "double": pl.Float64,
    "float": pl.Float32,
    "string": pl.String,
    "date": pl.Date,
    "boolean": pl.Boolean,
}


def output_schema(models: FittedModels, schema: Any, **options: Any) -> str:
    """The Spark DDL schema of the predictions of a DataFrame with Spark schema ``schema``: that of
    the predictions of a one-row sample of it (x = 1, t_x = 1, T = 2)."""
    columns = []
    for field in schema.fields:
        dtype = _POLARS_TYPES.get(field.dataType.typeName(), pl.Float64)
        if field.name == "time_unit":
            value: Any = models.time_unit
        elif dtype == pl.Date:
            value = _dt.date(2000, 1, 1)
        elif dtype == pl.String:
            value = "1"
        elif field.name in ("frequency", "x", "recency", "t_x"):
            value = 1
        else:
            value = 2
        columns.append(pl.lit(value).cast(dtype).alias(field.name))
    predictions = models.predict(pl.select(columns), **options)
    return ", ".join(
        f"`{name}` {_SPARK_TYPES.get(dtype, 'STRING')}" for name, dtype in predictions.schema.items() if name not in RANKED_COLUMNS
    )


def scorer(models: FittedModels, spark: Any = None, **options: Any) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """A function for ``DataFrame.mapInArrow``: RFM batches in, prediction batches out.

    ``options`` are :meth:`clv.FittedModels.predict`'s (horizon, clv_months, discount_rate,
    margin...). With ``spark`` (a SparkSession), the model is broadcast once; without, it travels
    in the function (its JSON is a few kilobytes either way). ``interval=0.9`` adds every
    forecast's bounds: the parameter draws come from ``interval_seed`` alone, the same in every
    batch, so each customer's bounds are those ``clv predict --interval`` writes for the whole
    table. ``bootstrap``, which refits to resamples of a whole table, is refused: a batch is not
    the table."""
    if options.get("bootstrap") is not None:
        raise ValueError(
            "bootstrap refits the models to resamples of a whole table, and Spark scores batches: "
            "use interval= with draws= (the normal approximation's draws, the same in every batch)"
        )
    text = models.to_json()
    shipped = spark.sparkContext.broadcast(text) if spark is not None else None

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        model = FittedModels(_clv.Models.from_json(shipped.value if shipped is not None else text))
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = _score(model, batch, options)
            yield from table.to_batches()

    return score


def predict(models: FittedModels, df: Any, **options: Any) -> Any:
    """The predictions of the RFM rows of Spark DataFrame ``df``, as a Spark DataFrame (lazy: a
    Spark job computes it where it is used). ``options`` as :meth:`clv.FittedModels.predict`'s."""
    schema = output_schema(models, df.schema, **options)
    return df.mapInArrow(scorer(models, df.sparkSession, **options), schema)
