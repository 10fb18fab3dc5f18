"""lifetimes' summaries of a transaction log, built by clv (``clv.summarize``).

Same arguments and columns as ``lifetimes.utils``; the numbers follow the papers: recency and
T in fractional units of ``freq`` (days / 7 for weeks, not whole calendar weeks), purchases
merged by day (not by ``freq`` period), and the holdout's monetary value averaged over days
with purchases, as the calibration's is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

import clv

__all__ = ["summary_data_from_transaction_data", "calibration_and_holdout_data"]

_UNITS = {"D": "days", "W": "weeks", "M": "months"}


def _unit(freq: str) -> str:
    try:
        return _UNITS[freq]
    except KeyError:
        raise ValueError(f"freq must be one of {', '.join(_UNITS)} (days, weeks, months), not {freq!r}") from None


def _summary(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, freq, freq_multiplier, include_first_transaction, **periods):
    if include_first_transaction:
        raise ValueError(
            "include_first_transaction=True is not supported: clv counts repeat purchases, as the models read them"
        )
    frame = transactions
    if isinstance(frame, pd.DataFrame):
        columns = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
        frame = frame[columns].reset_index(drop=True)
    rfm = clv.summarize(
        frame,
        customer=customer_id_col,
        date=datetime_col,
        amount=monetary_value_col,
        time_unit=_unit(freq),
        date_format=datetime_format,
        **periods,
    )
    # Column by column through numpy: no pyarrow needed.
    index = pd.Index(rfm["customer_id"].to_numpy(), name=customer_id_col)
    columns = [c for c in rfm.columns if c not in ("customer_id", "first_purchase", "time_unit")]
    df = pd.DataFrame({c: rfm[c].to_numpy() for c in columns}, index=index)
    for column in ("recency", "T", "duration_holdout"):
        if column in df:
            df[column] = df[column] / freq_multiplier
    return df.astype(float)


def summary_data_from_transaction_data(
    transactions: Any,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """frequency, recency, T (and monetary_value) per customer, indexed by customer id."""
    df = _summary(
        transactions,
        customer_id_col,
        datetime_col,
        monetary_value_col,
        datetime_format,
        freq,
        freq_multiplier,
        include_first_transaction,
        observation_end=observation_period_end,
    )
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if monetary_value_col else [])
    return df[columns]


def calibration_and_holdout_data(
    transactions: Any,
    customer_id_col: str,
    datetime_col: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    datetime_format: str | None = None,
    monetary_value_col: str | None = None,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """The calibration summary (frequency_cal, recency_cal, T_cal[, monetary_value_cal]) and
    the holdout's (frequency_holdout[, monetary_value_holdout], duration_holdout)."""
    df = _summary(
        transactions,
        customer_id_col,
        datetime_col,
        monetary_value_col,
        datetime_format,
        freq,
        freq_multiplier,
        include_first_transaction,
        calibration_end=calibration_period_end,
        observation_end=observation_period_end,
    )
    renamed = {"frequency": "frequency_cal", "recency": "recency_cal", "T": "T_cal", "monetary_value": "monetary_value_cal"}
    columns = ["frequency_cal", "recency_cal", "T_cal"] + (["monetary_value_cal"] if monetary_value_col else [])
    columns += ["frequency_holdout"] + (["monetary_value_holdout"] if monetary_value_col else []) + ["duration_holdout"]
    return df.rename(columns=renamed)[columns]
