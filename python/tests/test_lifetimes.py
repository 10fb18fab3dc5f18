"""`clv.lifetimes` against `lifetimes` 0.11.3 itself (installed beside it by .ci/run): lifetimes'
quickstart runs with only the import changed, the estimates are the same maximum, and at the
same parameters every prediction method gives lifetimes' numbers, in lifetimes' types."""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest

warnings.simplefilter("ignore")  # lifetimes' own FutureWarnings under pandas 2
import lifetimes  # noqa: E402
import lifetimes.datasets  # noqa: E402
import lifetimes.utils  # noqa: E402

import clv  # noqa: E402
import clv.lifetimes  # noqa: E402
from clv import _clv  # noqa: E402
from conftest import CDNOW_LOG  # noqa: E402

QUICKSTART = """
from lifetimes.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value
from lifetimes import BetaGeoFitter, GammaGammaFitter

data = load_cdnow_summary(index_col=[0])
bgf = BetaGeoFitter(penalizer_coef=0.0)
bgf.fit(data['frequency'], data['recency'], data['T'])
print(bgf)
bgf.summary
t = 1
data['predicted_purchases'] = bgf.conditional_expected_number_of_purchases_up_to_time(t, data['frequency'], data['recency'], data['T'])
top = data.sort_values(by='predicted_purchases').tail(5)
alive = bgf.conditional_probability_alive(data['frequency'], data['recency'], data['T'])

summary_with_money_value = load_cdnow_summary_data_with_monetary_value()
returning_customers_summary = summary_with_money_value[summary_with_money_value['frequency'] > 0]
ggf = GammaGammaFitter(penalizer_coef=0)
ggf.fit(returning_customers_summary['frequency'], returning_customers_summary['monetary_value'])
print(ggf)
profit = ggf.conditional_expected_average_profit(summary_with_money_value['frequency'], summary_with_money_value['monetary_value'])
bgf.fit(summary_with_money_value['frequency'], summary_with_money_value['recency'], summary_with_money_value['T'])
value = ggf.customer_lifetime_value(
    bgf,
    summary_with_money_value['frequency'],
    summary_with_money_value['recency'],
    summary_with_money_value['T'],
    summary_with_money_value['monetary_value'],
    time=12,
    discount_rate=0.01,
)
"""


def run_quickstart(package: str) -> tuple[dict, str]:
    code = QUICKSTART.replace("from lifetimes", f"from {package}")
    scope: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, scope)
    return scope, printed.getvalue()


@pytest.fixture(scope="module")
def quickstarts():
    return run_quickstart("lifetimes"), run_quickstart("clv.lifetimes")


def with_params(fitter, params: pd.Series):
    """`fitter` evaluating its formulas at `params` (lifetimes' estimates), to compare formulas
    at one parameter vector: the two optimisers stop at the same maximum (see
    test_the_estimates_are_the_same_maximum) but not at the same digits."""
    if hasattr(fitter, "_models"):
        model = json.loads(fitter._models.to_json())
        model["purchase"]["params"] = {k: float(params[k]) for k in model["purchase"]["params"]}
        fitter._models = _clv.Models.from_json(json.dumps(model))
    else:
        spend = json.loads(fitter._spend.to_json())
        spend["params"] = {k: float(params[k]) for k in spend["params"]}
        fitter._spend = _clv.SpendModel.from_json(json.dumps(spend))
    fitter.params_ = params.copy()
    return fitter


def test_the_quickstart_runs_with_only_the_import_changed(quickstarts):
    (theirs, their_print), (ours, our_print) = quickstarts
    # lifetimes prints "<lifetimes.BetaGeoFitter: fitted with 2357 subjects, a: 0.79, alpha: 4.41, b: 2.43, r: 0.24>".
    assert our_print.replace("clv.lifetimes", "lifetimes") == their_print
    for name in ("alive", "profit", "value"):
        assert type(ours[name]) is type(theirs[name]), name
    assert list(ours["top"].index) == list(theirs["top"].index)
    assert ours["value"].name == theirs["value"].name and ours["value"].index.equals(theirs["value"].index)


def test_the_estimates_are_the_same_maximum(quickstarts):
    (theirs, _), (ours, _) = quickstarts
    for name in ("bgf", "ggf"):
        assert list(ours[name].params_.index) == list(theirs[name].params_.index)
    # Both optimisers stop on CDNOW's flat maximum: the log-likelihoods agree to 1e-9 (relative)
    # at parameters that differ in the sixth digit.
    data = theirs["summary_with_money_value"]
    f, r, T = data["frequency"].values, data["recency"].values, data["T"].values
    nll = lifetimes.BetaGeoFitter._negative_log_likelihood
    at = {who: nll(np.log(q["bgf"].params_[["r", "alpha", "a", "b"]].values), f, r, T, np.ones(len(f)), 0.0) for who, q in (("theirs", theirs), ("ours", ours))}
    assert at["ours"] <= at["theirs"] + 1e-9 * abs(at["theirs"])
    np.testing.assert_allclose(ours["bgf"].params_.values, theirs["bgf"].params_.values, rtol=1e-5)
    np.testing.assert_allclose(ours["ggf"].params_.values, theirs["ggf"].params_.values, rtol=1e-5)
    # The standard errors (the covariance's diagonal) are lifetimes'; its off-diagonal terms are
    # not (lifetimes scales entry (i, j) by p_j² instead of p_i·p_j; see the README).
    np.testing.assert_allclose(ours["bgf"].standard_errors_.values, theirs["bgf"].standard_errors_.values, rtol=1e-4)


@pytest.mark.parametrize("name", ["BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter"])
def test_every_prediction_is_lifetimes_at_the_same_parameters(name):
    data = lifetimes.datasets.load_cdnow_summary(index_col=[0])
    f, r, T = data["frequency"], data["recency"], data["T"]
    theirs = getattr(lifetimes, name)().fit(f, r, T)
    ours = with_params(getattr(clv.lifetimes, name)().fit(f, r, T), theirs.params_)
    calls = [
        ("conditional_expected_number_of_purchases_up_to_time", (10, f, r, T)),
        ("conditional_expected_number_of_purchases_up_to_time", (np.array([1.0, 5.0, 39.0]), 2, 30.43, 38.86)),
        ("conditional_probability_alive", (f, r, T)),
        ("expected_number_of_purchases_up_to_time", (np.array([1.0, 10.0, 52.0]),)),
        ("expected_number_of_purchases_up_to_time", (39.0,)),
    ]
    if name == "ParetoNBDFitter":
        calls.append(("conditional_probability_of_n_purchases_up_to_time", (2, 39.0, f, r, T)))
    else:
        calls += [
            ("probability_of_n_purchases_up_to_time", (39.0, 0)),
            ("probability_of_n_purchases_up_to_time", (39.0, 3)),
        ]
    for method, args in calls:
        expected = getattr(theirs, method)(*args)
        got = getattr(ours, method)(*args)
        assert type(got) is type(expected) or (np.isscalar(got) and np.isscalar(expected)), (method, type(got), type(expected))
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), rtol=1e-9, atol=1e-12, err_msg=method)
        if isinstance(expected, pd.Series):
            assert got.index.equals(expected.index)


def test_gamma_gamma_and_clv_are_lifetimes_at_the_same_parameters():
    data = lifetimes.datasets.load_cdnow_summary_data_with_monetary_value()
    returning = data[data["frequency"] > 0]
    theirs = lifetimes.GammaGammaFitter().fit(returning["frequency"], returning["monetary_value"])
    ours = with_params(clv.lifetimes.GammaGammaFitter().fit(returning["frequency"], returning["monetary_value"]), theirs.params_)
    f, r, T, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
    expected = theirs.conditional_expected_average_profit(f, m)
    got = ours.conditional_expected_average_profit(f, m)
    pd.testing.assert_series_equal(got, expected, check_names=False, rtol=1e-12)
    bg_theirs = lifetimes.BetaGeoFitter().fit(f, r, T)
    bg_ours = with_params(clv.lifetimes.BetaGeoFitter().fit(f, r, T), bg_theirs.params_)
    for freq in ("D", "W"):
        expected = theirs.customer_lifetime_value(bg_theirs, f, r, T, m, time=12, discount_rate=0.01, freq=freq)
        got = ours.customer_lifetime_value(bg_ours, f, r, T, m, time=12, discount_rate=0.01, freq=freq)
        pd.testing.assert_series_equal(got, expected, rtol=1e-9)
        # With another package's purchase model (lifetimes' own), through its predict.
        got = ours.customer_lifetime_value(bg_theirs, f, r, T, m, time=12, discount_rate=0.01, freq=freq)
        pd.testing.assert_series_equal(got, expected, rtol=1e-9)


def test_the_summaries_are_lifetimes_at_daily_resolution():
    log = pd.read_csv(CDNOW_LOG, parse_dates=["date"])
    args = dict(monetary_value_col="amount", freq="D", freq_multiplier=7)
    theirs = lifetimes.utils.summary_data_from_transaction_data(log, "customer_id", "date", **args)
    ours = clv.lifetimes.utils.summary_data_from_transaction_data(log, "customer_id", "date", **args)
    pd.testing.assert_frame_equal(ours.loc[theirs.index], theirs, rtol=1e-12)
    theirs = lifetimes.utils.calibration_and_holdout_data(log, "customer_id", "date", "1997-09-30", freq="D", freq_multiplier=7)
    ours = clv.lifetimes.utils.calibration_and_holdout_data(log, "customer_id", "date", "1997-09-30", freq="D", freq_multiplier=7)
    assert list(ours.columns) == list(theirs.columns)
    pd.testing.assert_frame_equal(ours.loc[theirs.index], theirs, rtol=1e-12, check_dtype=False)


def test_weights_count_customers():
    data = lifetimes.datasets.load_cdnow_summary(index_col=[0])
    grouped = data.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    whole = clv.lifetimes.BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    weighted = clv.lifetimes.BetaGeoFitter().fit(grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["weights"])
    # Both fits sum the same table of distinct histories with counts: equal to the last bit.
    pd.testing.assert_series_equal(weighted.params_, whole.params_, rtol=0, atol=0)
    pd.testing.assert_frame_equal(weighted.variance_matrix_, whole.variance_matrix_, rtol=0, atol=0)
    assert weighted.log_likelihood_ == whole.log_likelihood_
    # lifetimes' own weighted fit reaches the same maximum.
    theirs = lifetimes.BetaGeoFitter().fit(grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["weights"])
    np.testing.assert_allclose(weighted.params_.values, theirs.params_[weighted.params_.index].values, rtol=1e-4)


def test_gamma_gamma_weights_count_customers():
    data = lifetimes.datasets.load_cdnow_summary_data_with_monetary_value()
    repeat = data[data["frequency"] > 0]
    grouped = repeat.groupby(["frequency", "monetary_value"]).size().rename("weights").reset_index()
    assert len(grouped) < len(repeat)
    whole = clv.lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    weighted = clv.lifetimes.GammaGammaFitter().fit(grouped["frequency"], grouped["monetary_value"], weights=grouped["weights"])
    pd.testing.assert_series_equal(weighted.params_, whole.params_, rtol=0, atol=0)
    assert weighted.log_likelihood_ == whole.log_likelihood_
    with pytest.raises(ValueError, match="counts of customers"):
        clv.lifetimes.GammaGammaFitter().fit(grouped["frequency"], grouped["monetary_value"], weights=-grouped["weights"])


def test_a_saved_fitter_predicts_as_before(tmp_path):
    data = lifetimes.datasets.load_cdnow_summary(index_col=[0])
    fitted = clv.lifetimes.BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    fitted.save_model(tmp_path / "bgf.pkl")
    loaded = clv.lifetimes.BetaGeoFitter()
    loaded.load_model(tmp_path / "bgf.pkl")
    pd.testing.assert_series_equal(loaded.params_, fitted.params_)
    pd.testing.assert_series_equal(loaded.predict(10, data["frequency"], data["recency"], data["T"]), fitted.predict(10, data["frequency"], data["recency"], data["T"]))


def test_lifetimes_input_checks_are_kept():
    with pytest.raises(ValueError, match="recency vector are larger than T"):
        clv.lifetimes.BetaGeoFitter().fit([1, 2], [5.0, 3.0], [4.0, 6.0])
    with pytest.raises(ValueError, match="non-integer"):
        clv.lifetimes.GammaGammaFitter().fit([1.5, 2.0], [10.0, 20.0])


def test_bg_bb_is_the_paper_and_lifetimes_at_the_same_parameters():
    from lifetimes.datasets import load_donations

    d = load_donations()
    pd.testing.assert_frame_equal(clv.lifetimes.datasets.load_donations(), d)
    f, r, n, w = d["frequency"], d["recency"], d["periods"], d["weights"]
    theirs = lifetimes.BetaGeoBetaBinomFitter().fit(f, r, n, weights=w)
    ours = clv.lifetimes.BetaGeoBetaBinomFitter().fit(f, r, n, weights=w)
    # Fader, Hardie & Shang (2010), the 1995 donors: α = 1.204, β = 0.750, γ = 0.657, δ = 2.783,
    # LL = −33,225.6.
    assert [round(ours.params_[k], 3) for k in ("alpha", "beta", "gamma", "delta")] == [1.204, 0.750, 0.657, 2.783]
    assert round(ours.log_likelihood_, 1) == -33225.6
    stored = json.loads(ours._discrete.to_json())
    stored["params"].update({k: float(theirs.params_[k]) for k in ("alpha", "beta", "gamma", "delta")})
    ours._discrete = _clv.DiscreteModel.from_json(json.dumps(stored))
    ours.params_ = theirs.params_.copy()
    for method in ("conditional_expected_number_of_purchases_up_to_time", "conditional_probability_alive"):
        for m in (1, 5):
            expected, got = getattr(theirs, method)(m, f, r, n), getattr(ours, method)(m, f, r, n)
            assert type(got) is type(expected)
            pd.testing.assert_series_equal(got, expected, rtol=1e-9, check_names=False)
    pd.testing.assert_frame_equal(
        ours.expected_number_of_transactions_in_first_n_periods(6),
        theirs.expected_number_of_transactions_in_first_n_periods(6),
        rtol=1e-9,
    )


def test_homogeneous_buyers_get_the_limiting_model_not_an_error():
    # 200 customers with one and the same history: no heterogeneity to estimate. lifetimes stops
    # with "try a larger penalizer"; clv fits the limiting model and names it.
    x, recency, age = np.full(200, 5), np.full(200, 30.0), np.full(200, 40.0)
    fitted = clv.lifetimes.BetaGeoFitter().fit(x, recency, age)
    assert "homogeneous" in fitted.limit_
    assert list(fitted.params_.index) == ["lambda", "p"]
    # Everyone buys at 5 purchases in 40 weeks and is alive: 10 more weeks bring 1.25 purchases.
    np.testing.assert_allclose(fitted.predict(10, x[:2], recency[:2], age[:2]), [1.25, 1.25], rtol=1e-6)
    cdnow = lifetimes.datasets.load_cdnow_summary(index_col=[0])
    assert clv.lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"]).limit_ is None
