"""The CDNOW summaries of lifetimes' quickstart and the donations of its BG/BB example (copies of
the repository's data/ files), loaded as lifetimes loads them, so that its examples run with only
the import changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["load_dataset", "load_cdnow_summary", "load_cdnow_summary_data_with_monetary_value", "load_donations"]

_HERE = Path(__file__).parent


def load_dataset(filename: str, **kwargs: Any) -> pd.DataFrame:
    """A data set of this folder, read by ``pandas.read_csv(**kwargs)``."""
    return pd.read_csv(_HERE / filename, **kwargs)


def load_cdnow_summary(**kwargs: Any) -> pd.DataFrame:
    """CDNOW's 2,357 customers: ID, frequency, recency, T (weeks)."""
    return load_dataset("cdnow_customers_summary.csv", **kwargs)


def load_cdnow_summary_data_with_monetary_value(**kwargs: Any) -> pd.DataFrame:
    """CDNOW's customers with their mean repeat spend, indexed by customer_id."""
    df = load_dataset("cdnow_customers_summary_with_transactions.csv", **kwargs)
    df.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return df.set_index("customer_id")


def load_donations(**kwargs: Any) -> pd.DataFrame:
    """The 1995 donors of Fader, Hardie & Shang (2010): frequency, recency, periods, weights."""
    return load_dataset("donations.csv", **kwargs)
