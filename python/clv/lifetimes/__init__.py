"""A drop-in for the ``lifetimes`` package (0.11.3), computed by clv.

Change ``from lifetimes import BetaGeoFitter`` to ``from clv.lifetimes import BetaGeoFitter``:
the constructors, ``fit`` arguments, attributes (``params_``, ``summary``, ``data``,
``variance_matrix_``, ``standard_errors_``, ``confidence_intervals_``) and prediction methods
have lifetimes' names, signatures and pandas/numpy return types. The numbers are clv's: the
same maximum-likelihood estimates where lifetimes is right, and correct ones where it is not
(its covariance matrix, its penalizer, its rescaled likelihood); the repository's README lists
every difference ("Moving from lifetimes").

Needs pandas and numpy (``pip install clv[lifetimes]``).
"""

from __future__ import annotations

import pickle
from typing import Any

try:
    import numpy as np
    import pandas as pd
except ImportError as missing:  # polars is clv's only requirement; the drop-in returns pandas
    raise ImportError(
        f"clv.lifetimes returns what lifetimes returns, pandas and numpy objects: install them "
        f"(pip install pandas numpy, or pip install './python[lifetimes]'): {missing}"
    ) from missing
import polars as pl

from clv import _clv

from . import datasets, utils

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "GammaGammaFitter",
    "datasets",
    "utils",
]

_Z95 = 1.96  # lifetimes' confidence intervals use 1.96


def _values(table: Any) -> np.ndarray:
    """The one column of values a clv formula returns, as a numpy array."""
    return pl.DataFrame(table).to_series().to_numpy()


def _shape_like(values: np.ndarray, shape: tuple, *inputs: Any) -> Any:
    """Formula values returned as lifetimes returns them: a Series on the index of a Series
    argument, a float for scalars, else an array of the broadcast shape."""
    series = next((x for x in inputs if isinstance(x, pd.Series)), None)
    if series is not None and values.size == len(series):
        return pd.Series(values, index=series.index)
    if shape == ():
        return values.reshape(()).item()
    return values.reshape(shape)


def _columns(names: tuple, *inputs: Any) -> tuple[dict, tuple]:
    """The broadcast inputs as float columns, and the broadcast shape."""
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in inputs))
    shape = arrays[0].shape
    return {n: np.ascontiguousarray(a.ravel()) for n, a in zip(names, arrays)}, shape


def _check_inputs(frequency: np.ndarray, recency: np.ndarray | None = None, T: np.ndarray | None = None) -> None:
    """lifetimes' checks of a summary, with its messages."""
    if recency is not None:
        if T is not None and np.any(recency > T):
            raise ValueError("Some values in recency vector are larger than T vector.")
        if np.any(recency[frequency == 0] != 0):
            raise ValueError("There exist non-zero recency values when frequency is zero.")
        if np.any(recency < 0):
            raise ValueError("There exist negative recency (ex: last order set before first order)")
    if np.sum((frequency - frequency.astype(int)) ** 2) != 0:
        raise ValueError("There exist non-integer values in the frequency vector.")


def _counts(weights: Any) -> np.ndarray:
    """``weights`` as counts of customers, which they must be."""
    weights = np.asarray(weights)
    if np.any(weights != np.round(weights)) or np.any(weights < 0):
        raise ValueError("weights must be counts of customers (non-negative integers).")
    return weights.astype(np.int64)


class BaseFitter:
    """What every fitter shares: parameters, their covariance, summary, save and load."""

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            return f"<clv.lifetimes.{name}>"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        return f"<clv.lifetimes.{name}: fitted with {self.data.shape[0]:d} subjects, {params}>"

    @property
    def data(self) -> pd.DataFrame:
        """The data of the fit, as lifetimes keeps it (built when first asked for)."""
        if "_data" not in self.__dict__:
            raise AttributeError("data: the model has not been fit yet")
        if isinstance(self._data, dict):
            columns = dict(self._data)
            index = columns.pop("index")
            self._data = pd.DataFrame(columns, index=index)
        return self._data

    def _unload_params(self, *names: str) -> list:
        if not hasattr(self, "params_"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        return [self.params_[x] for x in names]

    def _set_fit(self, fit: dict) -> None:
        names = fit["parameter_order"]
        self.params_ = pd.Series(fit["params"], index=names, dtype=float)
        cov = fit["covariance"]
        if cov is None:
            cov = np.full((len(names), len(names)), np.nan)
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(self.variance_matrix_.values)), index=names)
        self.confidence_intervals_ = pd.DataFrame(
            {
                "lower 95% bound": self.params_ - _Z95 * self.standard_errors_,
                "upper 95% bound": self.params_ + _Z95 * self.standard_errors_,
            },
            index=names,
        )
        #: The total log-likelihood on the papers' scale (CDNOW's BG/NBD: −9582.4).
        self.log_likelihood_ = fit["log_likelihood"]
        #: lifetimes' own scale: the mean negative log-likelihood per customer.
        self._negative_log_likelihood_ = -fit["log_likelihood"] / max(fit["n_customers"], 1)
        self.warnings_ = list(fit["warnings"])
        #: The limiting model, in words, when the maximum lies on a boundary (params_ then hold its
        #: parameters, e.g. lambda and p for homogeneous BG/NBD buyers); None for an interior fit.
        self.limit_ = fit["limit"]

    @property
    def summary(self) -> pd.DataFrame:
        """coef, se(coef) and the 95% bounds of each parameter, as lifetimes' summary."""
        df = pd.DataFrame(index=self.params_.index)
        df["coef"] = self.params_
        df["se(coef)"] = self.standard_errors_
        df["lower 95% bound"] = self.confidence_intervals_["lower 95% bound"]
        df["upper 95% bound"] = self.confidence_intervals_["upper 95% bound"]
        return df

    def print_summary(self) -> None:
        print(self.summary)

    def save_model(self, path: str, save_data: bool = True, save_generate_data_method: bool = True, values_to_save: Any = None) -> None:
        """Pickles the fitter (its clv model travels as the model file's JSON)."""
        state = dict(self.__getstate__())
        if not save_data:
            state.pop("_data", None)
        with open(path, "wb") as f:
            pickle.dump((type(self), state), f)

    def load_model(self, path: str) -> None:
        with open(path, "rb") as f:
            _, state = pickle.load(f)
        self.__setstate__(state)

    def __getstate__(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_models", "_spend", "_discrete", "predict")}
        if "_models" in self.__dict__:
            state["_model_json"] = self._models.to_json()
        if "_spend" in self.__dict__:
            state["_spend_json"] = self._spend.to_json()
        if "_discrete" in self.__dict__:
            state["_discrete_json"] = self._discrete.to_json()
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        text = state.pop("_model_json", None)
        spend = state.pop("_spend_json", None)
        discrete = state.pop("_discrete_json", None)
        self.__dict__.update(state)
        if discrete is not None:
            self._discrete = _clv.DiscreteModel.from_json(discrete)
        if spend is not None:
            self._spend = _clv.SpendModel.from_json(spend)
        if text is not None:
            self._models = _clv.Models.from_json(text)
            self.predict = self.conditional_expected_number_of_purchases_up_to_time


class _PurchaseFitter(BaseFitter):
    """A purchase model: fit on (frequency, recency, T), predictions under lifetimes' names."""

    _model = "bg-nbd"

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        **kwargs: Any,
    ) -> "_PurchaseFitter":
        """Fits the model by maximum likelihood (clv's optimiser; ``initial_params``, ``tol``
        and optimiser ``kwargs`` are accepted and not needed). ``weights`` counts customers with
        each (frequency, recency, T)."""
        frequency = np.asarray(frequency).astype(int)
        recency = np.asarray(recency, dtype=float)
        T = np.asarray(T, dtype=float)
        _check_inputs(frequency, recency, T)
        if weights is None:
            weights = np.ones_like(recency, dtype=int)
            rfm = pl.DataFrame(
                {
                    "customer_id": np.arange(len(frequency), dtype=np.int64),
                    "frequency": frequency.astype(np.int64),
                    "recency": recency,
                    "T": T,
                }
            )
        else:
            weights = _counts(weights)
            # A compressed summary: each row weighs as many customers as it counts.
            rfm = pl.DataFrame(
                {"frequency": frequency.astype(np.int64), "recency": recency, "T": T, "customers": weights.astype(np.int64)}
            )
        self._models = _clv.fit(rfm, self._model, False, float(self.penalizer_coef), "days")
        self._set_fit(self._models.purchase)
        self._data = {"frequency": frequency, "recency": recency, "T": T, "weights": weights, "index": index}
        self.predict = self.conditional_expected_number_of_purchases_up_to_time
        return self

    def _formula(self, formula: str, names: tuple, *inputs: Any) -> Any:
        if not hasattr(self, "_models"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        columns, shape = _columns(names, *inputs)
        values = _values(_clv.per_customer(self._models, formula, pl.DataFrame(columns)))
        return _shape_like(values, shape, *inputs)

    def conditional_expected_number_of_purchases_up_to_time(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """E[Y(t) | frequency, recency, T]: expected purchases in the next t time units."""
        return self._formula("conditional_expected_purchases", ("t", "x", "t_x", "T"), t, frequency, recency, T)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive | frequency, recency, T), as a numpy array (lifetimes' type)."""
        columns, _ = _columns(("x", "t_x", "T"), frequency, recency, T)
        return np.atleast_1d(_values(_clv.per_customer(self._models, "p_alive", pl.DataFrame(columns))))

    def conditional_probability_alive_matrix(self, max_frequency: int | None = None, max_recency: int | None = None) -> np.ndarray:
        """P(alive) on the grid of frequency 0..max_frequency and recency 0..max_recency, at
        T = max_recency: rows recency, columns frequency."""
        max_frequency = max_frequency or int(self.data["frequency"].max())
        max_recency = max_recency or int(self.data["T"].max())
        x, t_x = np.meshgrid(np.arange(max_frequency + 1), np.arange(max_recency + 1))
        alive = self.conditional_probability_alive(x.ravel(), t_x.ravel(), max_recency)
        return alive.reshape(x.shape)

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t]."""
        return self._formula("expected_purchases", ("t",), t)

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """P(X(t) = n): a new customer makes n repeat purchases in (0, t]."""
        return self._formula("probability_of_purchases", ("t", "n"), t, n)

    def conditional_probability_of_n_purchases_up_to_time(self, n: Any, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """P(Y(t) = n | frequency, recency, T): exactly n purchases in the next t time units."""
        return self._formula(
            "probability_of_purchases_given", ("t", "n", "x", "t_x", "T"), t, n, frequency, recency, T
        )


class BetaGeoFitter(_PurchaseFitter):
    """BG/NBD (Fader, Hardie & Lee 2005), as lifetimes' BetaGeoFitter; params_ r, alpha, a, b."""

    _model = "bg-nbd"


class ModifiedBetaGeoFitter(_PurchaseFitter):
    """MBG/NBD (Batislam et al. 2007), as lifetimes' ModifiedBetaGeoFitter; params_ r, alpha, a, b."""

    _model = "mbg-nbd"


class ParetoNBDFitter(_PurchaseFitter):
    """Pareto/NBD (Schmittlein et al. 1987), as lifetimes' ParetoNBDFitter; params_ r, alpha, s, beta."""

    _model = "pareto-nbd"

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(alive | frequency, recency, T); a Series for Series arguments, as lifetimes'."""
        return self._formula("p_alive", ("x", "t_x", "T"), frequency, recency, T)


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend (Fader, Hardie & Lee 2005b), as lifetimes' GammaGammaFitter; params_ p, q, v."""

    def fit(
        self,
        frequency: Any,
        monetary_value: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        q_constraint: bool = False,
        **kwargs: Any,
    ) -> "GammaGammaFitter":
        """Fits Gamma-Gamma to customers' repeat-purchase counts and mean repeat spend (give it
        the customers with frequency > 0, as lifetimes asks). ``q_constraint`` is not needed: a
        fit with q ≤ 1 is reported in ``warnings_``, and its infinite mean is never used."""
        frequency = np.asarray(frequency, dtype=float)
        monetary_value = np.asarray(monetary_value, dtype=float)
        _check_inputs(frequency)
        if weights is None:
            weights = np.ones_like(frequency, dtype=int)
            table = pl.DataFrame({"x": frequency, "zbar": monetary_value})
            self._spend = _clv.fit_spend(table, float(self.penalizer_coef))
        else:
            weights = _counts(weights)
            table = pl.DataFrame({"x": frequency, "zbar": monetary_value, "customers": weights})
            self._spend = _clv.fit_spend(table, float(self.penalizer_coef), True)
        self._set_fit(self._spend.fit)
        self._data = {"monetary_value": monetary_value, "frequency": frequency, "weights": weights, "index": index}
        return self

    def conditional_expected_average_profit(self, frequency: Any = None, monetary_value: Any = None) -> Any:
        """E[M | frequency, monetary_value]: expected spend per transaction (eq. 5)."""
        if monetary_value is None:
            monetary_value = self.data["monetary_value"]
        if frequency is None:
            frequency = self.data["frequency"]
        columns, shape = _columns(("x", "zbar"), frequency, monetary_value)
        values = _values(self._spend.expected_average_spend(pl.DataFrame(columns)))
        return _shape_like(values, shape, frequency, monetary_value)

    def customer_lifetime_value(
        self,
        transaction_prediction_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> pd.Series:
        """lifetimes' CLV: for each of ``time`` months, the month's expected purchases times
        E[M], discounted at ``discount_rate`` per month; a month is 30 days, 4.345 weeks or 1
        month as ``freq`` is "D", "W" or "M" (lifetimes' convention). Returns a Series named clv."""
        adjusted = self.conditional_expected_average_profit(frequency, monetary_value)
        factor = {"W": 4.345, "M": 1.0, "D": 30, "H": 30 * 24}[freq]
        index = frequency.index if isinstance(frequency, pd.Series) else pd.RangeIndex(len(np.atleast_1d(frequency)))
        adjusted = np.asarray(adjusted, dtype=float)
        if isinstance(transaction_prediction_model, _PurchaseFitter):
            # clv's model: clv's month-by-month sum, each month's increment once per distinct (x, T).
            columns, _ = _columns(("x", "t_x", "T"), frequency, recency, T)
            models = transaction_prediction_model._models
            table = _clv.discounted_conditional_purchases(models, time, factor, discount_rate, pl.DataFrame(columns))
            return pd.Series(adjusted * _values(table), index=index, name="clv")
        # Any other model with lifetimes' predict (a lifetimes fitter, say): its loop.
        clv_values = np.zeros(len(index))
        previous = 0.0
        for month in range(1, time + 1):
            cumulative = np.asarray(transaction_prediction_model.predict(month * factor, frequency, recency, T), dtype=float)
            clv_values += adjusted * (cumulative - previous) / (1 + discount_rate) ** month
            previous = cumulative
        return pd.Series(clv_values, index=index, name="clv")


class BetaGeoBetaBinomFitter(BaseFitter):
    """BG/BB (Fader, Hardie & Shang 2010) for discrete opportunities, as lifetimes'
    BetaGeoBetaBinomFitter; params_ alpha, beta, gamma, delta."""

    def fit(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        **kwargs: Any,
    ) -> "BetaGeoBetaBinomFitter":
        """Fits BG/BB by maximum likelihood to (frequency, recency, n_periods) histories, each
        counted ``weights`` times (the papers' histogram: data/donations.csv)."""
        frequency = np.asarray(frequency)
        recency = np.asarray(recency)
        n_periods = np.asarray(n_periods)
        _check_inputs(frequency, recency, n_periods)
        weights = np.ones_like(recency, dtype=float) if weights is None else np.asarray(weights, dtype=float)
        table = pl.DataFrame({"x": frequency, "t_x": recency, "n": n_periods, "weight": weights})
        self._discrete = _clv.fit_bg_bb(table, float(self.penalizer_coef))
        self._set_fit(self._discrete.fit)
        self._data = {"frequency": frequency, "recency": recency, "n_periods": n_periods, "weights": weights, "index": index}
        return self

    def _formula(self, formula: str, names: tuple, *inputs: Any) -> Any:
        if "_discrete" not in self.__dict__:
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        columns, shape = _columns(names, *inputs)
        values = _values(self._discrete.per_history(formula, pl.DataFrame(columns)))
        return _shape_like(values, shape, *inputs)

    def conditional_expected_number_of_purchases_up_to_time(self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any) -> Any:
        """E[X(n, n + m) | x, t_x, n]: expected transactions in the next m opportunities (eq. 13)."""
        return self._formula("expected_transactions", ("m", "x", "t_x", "n"), m_periods_in_future, frequency, recency, n_periods)

    def conditional_probability_alive(self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any) -> Any:
        """P(alive at opportunity n + m | x, t_x, n) (eq. A10)."""
        return self._formula("p_alive_after", ("m", "x", "t_x", "n"), m_periods_in_future, frequency, recency, n_periods)

    def expected_number_of_transactions_in_first_n_periods(self, n: int) -> pd.DataFrame:
        """The expected number of customers (of those fitted) with x transactions in their
        first n opportunities, for each x seen in the data: n customers · P(X(n) = x) (eq. 6),
        a DataFrame indexed by frequency with a column "model", as lifetimes returns it."""
        counts = self.data.groupby("frequency")["weights"].sum()
        x = np.asarray(counts.index)
        probabilities = self._formula("probability_of_transactions_new", ("x", "n"), x, n)
        index = pd.Index(x, name="frequency")
        return pd.DataFrame(np.asarray(probabilities) * counts.sum(), index=index, columns=["model"])
