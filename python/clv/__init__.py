"""clv: probabilistic customer-lifetime value, from Rust.

The same summaries, fits and forecasts as the ``clv`` command line, on Polars (or pandas)
DataFrames::

    import clv
    rfm = clv.summarize("transactions.csv", time_unit="weeks", calibration_end="1997-09-30")
    models = clv.fit(rfm, model="bg-nbd")          # BG/NBD and Gamma-Gamma
    models.summary()                               # estimates and standard errors
    predictions = models.predict(rfm, horizon=39)  # the columns of `clv predict`
    models.save("model.json")                      # the command line's model file

Tables cross into Rust as Arrow buffers (no per-row Python work), and the GIL is released
while clv works. Every error of clv (a missing column, an unparseable date, a model that
cannot be fitted) is raised as :class:`ClvError`, with the command line's message.

``clv.lifetimes`` is a drop-in for the ``lifetimes`` package (``BetaGeoFitter`` and friends).
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import os as _os
import pathlib as _pathlib
import tempfile as _tempfile
from typing import Any as _Any

import polars as _pl

from . import _clv
from ._clv import ClvError

__version__: str = _clv.__version__

__all__ = [
    "ClvError",
    "Evaluation",
    "FittedModels",
    "ValueReport",
    "MODELS",
    "evaluate",
    "fit",
    "load",
    "predict",
    "simulate",
    "summarize",
]

#: The purchase models ``fit`` takes (``model=``), as ``clv fit --model`` names them.
MODELS = ("bg-nbd", "pareto-nbd", "mbg-nbd", "nbd")


def _table(data: _Any) -> _Any:
    """A path (as text) or an Arrow-exportable table, from what a caller hands in."""
    if isinstance(data, (str, _os.PathLike)):
        return _os.fspath(data)
    if isinstance(data, _pl.LazyFrame):
        return data.collect()
    if isinstance(data, _pl.DataFrame):
        return data
    if type(data).__module__.startswith("pandas"):
        return _pl.from_pandas(data)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    raise TypeError(f"expected a path or a polars/pandas DataFrame, not {type(data).__name__}")


def _date(value: _Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str):
        return value
    if hasattr(value, "strftime"):  # a pandas Timestamp
        return value.strftime("%Y-%m-%d")
    raise TypeError(f"{name} must be a date or 'YYYY-MM-DD', not {value!r}")


def summarize(
    log: _Any,
    *,
    customer: str = "customer_id",
    date: str = "date",
    amount: str | None = "amount",
    time_unit: str = "weeks",
    calibration_end: _Any = None,
    observation_end: _Any = None,
    date_format: str | None = None,
    negative_amounts: str = "error",
    compressed: bool = False,
    spend_decimals: int = 2,
) -> _pl.DataFrame:
    """The RFM summary of a transaction log, exactly as ``clv summarize`` writes it.

    Parameters
    ----------
    log : path, polars.DataFrame or pandas.DataFrame
        One row per purchase: a customer id, a date (a date, a datetime, or text) and an amount.
    customer, date, amount : str
        The log's column names. A log without the amount column is summarised without monetary
        values; ``amount=None`` ignores amounts.
    time_unit : {"days", "weeks", "months"}
        Unit of recency and T (fractional: days / 7 for weeks, as the papers).
    calibration_end : date or "YYYY-MM-DD", optional
        Last day of the calibration period: adds frequency_holdout, monetary_value_holdout and
        duration_holdout.
    observation_end : date or "YYYY-MM-DD", optional
        Last day observed (default: the log's last date).
    date_format : str, optional
        A chrono/strftime format for text dates (default ISO, YYYY-MM-DD).
    negative_amounts : {"error", "drop", "net"}
        What a negative amount (a return) is: an error, left out, or netted against the day.
    compressed : bool
        Return the compressed summary instead (``clv summarize --compressed``): one row per
        distinct (frequency, recency, T) with its number of ``customers``, and one per distinct
        (frequency, monetary_value), which :func:`fit` fits to the full table's estimates.
    spend_decimals : int
        With ``compressed``: decimals the mean spends are rounded to (2: cents).

    Returns
    -------
    polars.DataFrame
        customer_id, frequency, recency, T, monetary_value (repeat purchases only), [holdout
        columns], first_purchase, time_unit; compressed: frequency, recency, T, monetary_value,
        customers, time_unit.
    """
    return _pl.DataFrame(
        _clv.summarize(
            _table(log),
            customer,
            date,
            amount,
            time_unit,
            _date(calibration_end, "calibration_end"),
            _date(observation_end, "observation_end"),
            date_format,
            negative_amounts,
            spend_decimals if compressed else None,
        )
    )


class FittedModels:
    """A fitted purchase model and (when fitted) Gamma-Gamma, as a clv model file holds them.

    Attributes
    ----------
    model : str
        The purchase model ("bg-nbd", ...); ``label`` is its name in the papers.
    params, standard_errors : dict
        The purchase model's estimates and their standard errors (observed information).
    covariance : polars.DataFrame or None
        The purchase model's covariance matrix, one row per parameter.
    log_likelihood, aic, bic : float
        On the papers' scale (CDNOW's BG/NBD: −9582.4), not divided by the number of customers.
    warnings : list of str
        What the fit noticed (a limit reached, a flat likelihood...); ``limit`` names the limiting
        model when the maximum lies on a boundary.
    spend : dict or None
        Gamma-Gamma's fit (params, standard_errors, covariance, log_likelihood, mean_spend...);
        ``spend_skipped`` says why there is none.
    """

    def __init__(self, models: _clv.Models) -> None:
        self._models = models
        self._purchase = models.purchase
        self._spend = models.spend

    model = property(lambda self: self._models.model)
    label = property(lambda self: self._models.label)
    time_unit = property(lambda self: self._models.time_unit)
    params = property(lambda self: dict(self._purchase["params"]))
    standard_errors = property(lambda self: self._purchase["standard_errors"])
    log_likelihood = property(lambda self: self._purchase["log_likelihood"])
    aic = property(lambda self: self._purchase["aic"])
    bic = property(lambda self: self._purchase["bic"])
    n_customers = property(lambda self: self._purchase["n_customers"])
    warnings = property(lambda self: list(self._purchase["warnings"]))
    limit = property(lambda self: self._purchase["limit"])
    spend = property(lambda self: self._spend)
    spend_skipped = property(lambda self: self._models.spend_skipped)

    @property
    def covariance(self) -> _pl.DataFrame | None:
        cov = self._purchase["covariance"]
        if cov is None:
            return None
        names = self._purchase["parameter_order"]
        return _pl.DataFrame({"parameter": names, **{n: [row[i] for row in cov] for i, n in enumerate(names)}})

    def summary(self) -> _pl.DataFrame:
        """Estimates, standard errors and 95% Wald bounds of every parameter, both models."""
        rows = []
        for name, fit in ((self.label, self._purchase), ("Gamma-Gamma", self._spend)):
            if fit is None:
                continue
            errors = fit["standard_errors"] or {}
            for parameter, estimate in fit["params"].items():
                se = errors.get(parameter)
                rows.append(
                    {
                        "model": name,
                        "parameter": parameter,
                        "estimate": estimate,
                        "standard_error": se,
                        "lower_95": None if se is None else estimate - 1.959963984540054 * se,
                        "upper_95": None if se is None else estimate + 1.959963984540054 * se,
                    }
                )
        return _pl.DataFrame(rows, schema_overrides={"standard_error": _pl.Float64, "lower_95": _pl.Float64, "upper_95": _pl.Float64})

    def report(self) -> str:
        """The fit report ``clv fit`` prints."""
        return self._models.report()

    def save(self, path: str | _os.PathLike[str]) -> None:
        """Writes the model file (the command line's format; written whole or not at all)."""
        self._models.save(_os.fspath(path))

    def to_json(self) -> str:
        """The model file's text."""
        return self._models.to_json()

    def predict(
        self,
        rfm: _Any,
        *,
        horizon: float | None = None,
        clv_months: int = 12,
        discount_rate: float = 0.01,
        annual_discount_rate: float | None = None,
        margin: float = 1.0,
        cost_per_order: float = 0.0,
        clv_method: str = "monthly",
        time_unit: str | None = None,
        interval: float | None = None,
        draws: int = 200,
        bootstrap: int | None = None,
        interval_seed: int = 1,
    ) -> _pl.DataFrame:
        """Per-customer forecasts, with the columns and numbers of ``clv predict``.

        Parameters
        ----------
        rfm : path, polars.DataFrame or pandas.DataFrame
            An RFM table (``summarize``'s, or one with the papers' names ID, x, t_x, T, zbar).
        horizon : float, optional
            Horizon of expected_purchases, in the table's time unit (default: ``clv_months``).
        clv_months : int
            Months of future purchases CLV sums (``clv_method="monthly"``).
        discount_rate, annual_discount_rate : float
            Discount rate per month, or per year (converted to the equivalent monthly rate).
        margin, cost_per_order : float
            Profit as a fraction of revenue, and a cost per order subtracted from each purchase.
        clv_method : {"monthly", "dert"}
            Month-by-month sum, or DERT (every future purchase, continuous discounting).
        time_unit : str, optional
            For a table without a time_unit column.
        interval : float, optional
            A level such as 0.9: adds each forecast's interval from parameter uncertainty
            (``p_alive_q05``, ``clv_q95``, ...) and each customer's predictive interval of her
            purchases, as ``clv predict --interval``. The first answers "how sure is the
            estimate for a customer like this one", the second "how many will she buy".
        draws : int
            Parameter draws from the fit's asymptotic normal distribution (``--draws``).
        bootstrap : int, optional
            Refit to this many resamples of the customers instead (``--bootstrap``).
        interval_seed : int
            Seed of the draws or resamples: the same seed, the same intervals.
        """
        settings = _forecast_settings(horizon, clv_months, discount_rate, annual_discount_rate, margin, cost_per_order, clv_method)
        table = self._models.predict(_table(rfm), settings, time_unit, interval, draws, bootstrap, interval_seed)
        return _pl.DataFrame(table)

    def value_report(
        self,
        rfm: _Any,
        *,
        report_dir: str | _os.PathLike[str] | None = None,
        cac: float | None = None,
        at_risk: int = 10,
        horizon: float | None = None,
        clv_months: int = 12,
        discount_rate: float = 0.01,
        annual_discount_rate: float | None = None,
        margin: float = 1.0,
        cost_per_order: float = 0.0,
        clv_method: str = "monthly",
        time_unit: str | None = None,
    ) -> "ValueReport":
        """The value report of ``clv report``: value tiers, statuses, the concentration of value,
        the high-value customers at risk, cohorts and, with ``cac`` (the cost of acquiring a
        customer), CLV:CAC against the value of a new customer. Forecast settings as in
        :meth:`predict`; the files go to ``report_dir`` (default: a new temporary folder)."""
        folder = _folder(report_dir, "clv-value-report-")
        settings = _forecast_settings(horizon, clv_months, discount_rate, annual_discount_rate, margin, cost_per_order, clv_method)
        text, files = self._models.value_report(_table(rfm), str(folder), settings, time_unit, cac, at_risk)
        return ValueReport(text, files, folder)

    def __repr__(self) -> str:
        return repr(self._models)

    def _repr_markdown_(self) -> str:
        return "```\n" + self.report() + "\n```"


class ValueReport:
    """The value report: ``text`` as ``clv report`` prints it, and its tables as DataFrames
    (``tables["value_tiers"]``, ``"status"``, ``"value_concentration"``,
    ``"at_risk_high_value"``, ``"cohorts"``, ``"acquisition"``...), read from the files written to
    ``report_dir``; ``figure()`` shows the concentration curve inline."""

    def __init__(self, text: str, files: list, report_dir: _pathlib.Path) -> None:
        self.text = text
        self.report_dir = report_dir
        self.files = [_pathlib.Path(f) for f in files]
        self.tables = {f.stem: _pl.read_csv(f) for f in self.files if f.suffix == ".csv"}

    def figure(self) -> _Any:
        """The concentration of value (share of CLV against share of customers), for Jupyter."""
        from IPython.display import Image

        return Image(filename=str(self.report_dir / "value_concentration.png"))

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return "```\n" + self.text + "\n```"


def _forecast_settings(*settings: _Any) -> _clv.ForecastSettings:
    """predict's and value_report's settings (horizon, clv_months, discount_rate,
    annual_discount_rate, margin, cost_per_order, clv_method), checked."""
    return _clv.ForecastSettings(*settings)


def _folder(path: _Any, prefix: str) -> _pathlib.Path:
    """`path`, or a new temporary folder."""
    return _pathlib.Path(path) if path is not None else _pathlib.Path(_tempfile.mkdtemp(prefix=prefix))


def fit(
    rfm: _Any,
    model: str = "bg-nbd",
    *,
    spend: bool = True,
    penalizer: float = 0.0,
    time_unit: str | None = None,
) -> FittedModels:
    """Fits a purchase model and Gamma-Gamma by maximum likelihood, as ``clv fit`` does.

    Parameters
    ----------
    rfm : path, polars.DataFrame or pandas.DataFrame
        An RFM table from :func:`summarize` (or with the papers' names ID, x, t_x, T, zbar), or a
        compressed summary (a ``customers`` column: ``summarize(..., compressed=True)``, ``clv sql
        --compressed``), whose rows weigh as many customers as they count.
    model : {"bg-nbd", "pareto-nbd", "mbg-nbd", "nbd"}
        The purchase model.
    spend : bool
        Also fit Gamma-Gamma on the customers with repeat purchases (needs monetary_value).
    penalizer : float
        λ of the penalty λ·Σ ln²(p/c) on the log-parameters (see ``clv fit --help``); 0 is plain
        maximum likelihood, and a fit that reaches a limit needs none (the limit is reported).
    time_unit : str, optional
        For a table without a time_unit column.
    """
    return FittedModels(_clv.fit(_table(rfm), model, spend, penalizer, time_unit))


def load(path: str | _os.PathLike[str]) -> FittedModels:
    """Reads a model file written by ``clv fit`` or :meth:`FittedModels.save`."""
    return FittedModels(_clv.Models.read(_os.fspath(path)))


def predict(models: FittedModels, rfm: _Any, **options: _Any) -> _pl.DataFrame:
    """``models.predict(rfm, **options)``."""
    return models.predict(rfm, **options)


def simulate(
    customers: int = 10_000,
    *,
    seed: int = 1,
    r: float = 0.243,
    alpha: float = 4.414,
    a: float = 0.793,
    b: float = 2.426,
    p: float = 6.25,
    q: float = 3.74,
    gamma: float = 15.44,
    time_unit: str = "weeks",
    days: int = 546,
    acquisition_days: int = 84,
    start: _Any = "2020-01-01",
) -> _pl.DataFrame:
    """A transaction log simulated from BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, gamma),
    the same log as ``clv simulate --customers N --seed S`` (defaults: CDNOW's estimates, in
    weeks, over 546 days with first purchases in the first 84)."""
    return _pl.DataFrame(
        _clv.simulate(
            customers, seed, r, alpha, a, b, p, q, gamma, time_unit, days, acquisition_days, _date(start, "start")
        )
    )


class Evaluation:
    """A holdout evaluation, as ``clv evaluate`` writes it.

    Attributes
    ----------
    report : str
        The report ``clv evaluate`` prints.
    data : dict
        Everything in it, as ``evaluation.json`` holds it (``data["actual"]``, ``data["models"]``).
    holdout : polars.DataFrame
        Each customer's calibration history, actual holdout purchases and every model's forecast.
    report_dir : pathlib.Path
        The folder with evaluation.json, holdout_predictions.csv and the figures.
    figures : dict
        The papers' figures by name ("frequency_histogram", "cumulative_repeat_transactions",
        "weekly_repeat_transactions", "conditional_expectations", ...): PNG paths;
        :meth:`figure` shows one inline in Jupyter.
    """

    def __init__(self, report: str, holdout: _pl.DataFrame, files: list, report_dir: _pathlib.Path) -> None:
        self.report = report
        self.holdout = holdout
        self.report_dir = report_dir
        self.files = [_pathlib.Path(f) for f in files]
        self.data = _json.loads((report_dir / "evaluation.json").read_text())
        self.figures = {f.stem: f for f in self.files if f.suffix == ".png"}

    def comparison(self) -> _pl.DataFrame:
        """One row per model (log-likelihood, BIC, the histogram's chi-square, predicted
        calibration and holdout transactions, holdout buyers, mean absolute error) and the actual
        figures in the last row."""
        rows = [
            {
                "model": m["label"],
                "log_likelihood": m["fit"]["log_likelihood"],
                "BIC": m["fit"]["bic"],
                "chi_square": m["frequency"]["chi_square"],
                "calibration_repeats": m["predicted_calibration_repeat_transactions"],
                "holdout_transactions": m["holdout"]["predicted_transactions"],
                "holdout_buyers": m["holdout"]["predicted_customers_with_purchases"],
                "MAE": m["holdout"]["mean_absolute_error"],
            }
            for m in self.data["models"]
        ]
        actual = self.data["actual"]
        rows.append(
            {
                "model": "actual",
                "calibration_repeats": float(actual["calibration_repeat_transactions"]),
                "holdout_transactions": float(actual["holdout_transactions"]),
                "holdout_buyers": float(actual["holdout_customers_with_purchases"]),
            }
        )
        return _pl.DataFrame(rows, infer_schema_length=None)

    def parameters(self) -> _pl.DataFrame:
        """Each model's estimates and standard errors on the calibration period."""
        return _pl.DataFrame(
            [
                {"model": m["label"], "parameter": p["name"], "estimate": p["estimate"], "standard_error": p.get("standard_error")}
                for m in self.data["models"]
                for p in m["fit"]["parameters"]
            ],
            schema_overrides={"standard_error": _pl.Float64},
        )

    def figure(self, name: str) -> _Any:
        """The figure `name` (a key of ``figures``) as an IPython image, shown inline in Jupyter."""
        from IPython.display import Image

        try:
            return Image(filename=str(self.figures[name]))
        except KeyError:
            raise KeyError(f"no figure {name!r}; the figures are {', '.join(self.figures)}") from None

    def __repr__(self) -> str:
        return self.report

    def _repr_markdown_(self) -> str:
        return "```\n" + self.report + "\n```"


def evaluate(
    log: _Any,
    calibration_end: _Any,
    *,
    models: str | list[str] = "all",
    report_dir: str | _os.PathLike[str] | None = None,
    customer: str = "customer_id",
    date: str = "date",
    amount: str | None = "amount",
    time_unit: str = "weeks",
    observation_end: _Any = None,
    date_format: str | None = None,
    penalizer: float = 0.0,
) -> Evaluation:
    """Fits purchase models on the calibration period and checks them on the holdout, as
    ``clv evaluate`` does: fit statistics, the calibration histogram, holdout forecasts against
    what happened, per customer and in total, and the papers' diagnostic figures.

    Parameters
    ----------
    log : path, polars.DataFrame or pandas.DataFrame
        The transaction log (as for :func:`summarize`).
    calibration_end : date or "YYYY-MM-DD"
        Last day of the calibration period; the holdout runs from the next day to
        ``observation_end`` (default: the log's last date).
    models : "all", a model name, or a list of names
        Purchase models to compare (see ``MODELS``).
    report_dir : path, optional
        Where the evaluation's files go (default: a new temporary folder).
    """
    names = [models] if isinstance(models, str) else list(models)
    folder = _folder(report_dir, "clv-evaluation-")
    report, holdout, files = _clv.evaluate(
        _table(log),
        _date(calibration_end, "calibration_end"),
        names,
        str(folder),
        customer,
        date,
        amount,
        time_unit,
        _date(observation_end, "observation_end"),
        date_format,
        penalizer,
    )
    return Evaluation(report, _pl.DataFrame(holdout), files, folder)
