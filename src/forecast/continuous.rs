//! The forecaster of the continuous non-contractual models (x, t_x, T): P(alive), churn,
//! expected purchases and, with a spend model, expected spend and discounted CLV.

use rayon::prelude::*;

use super::dert::dert_if_alive;
use std::sync::Arc;

use super::engine::{discounted_cumulative, DistinctHistories};
use super::{
    ClvMethod, ForecastColumn, ForecastOptions, Forecasts, CHURN_PROBABILITY, CLV, CLV_IF_ALIVE, EXPECTED_AVG_SPEND,
    EXPECTED_PURCHASES, P_ALIVE, P_ANY_PURCHASE,
};
use crate::data::rfm::RfmTable;
use crate::error::{ClvError, Result};
use crate::model_file::FittedModels;
use crate::models::PurchaseModel;

/// (P(alive), expected purchases, P(any purchase), (expected spend, CLV, CLV if alive) when there
/// is a spend model).
type CustomerForecast = (f64, f64, f64, Option<(f64, f64, f64)>);

/// (P(alive), expected purchases, P(any purchase), discounted purchases per unit of value
/// (overall and if alive) when CLV is wanted).
type HistoryForecast = (f64, f64, f64, Option<(f64, f64)>);

/// Forecasts for each customer of `rfm` from `models`; the data must be in the models' time unit.
/// Columns: p_alive, churn_probability, expected_purchases, p_any_purchase and, with a spend
/// model and amounts,
/// expected_avg_spend, clv and (unwritten) clv_if_alive.
pub fn forecast(models: &FittedModels, rfm: &RfmTable, options: &ForecastOptions) -> Result<Forecasts> {
    options.validate()?;
    if models.time_unit != rfm.time_unit {
        return Err(ClvError::InvalidArgument(format!(
            "the model was fitted on data in {} but this RFM table is in {}: summarize the log with --time-unit {}",
            models.time_unit, rfm.time_unit, models.time_unit
        )));
    }
    let purchases = models.purchase.model();
    let spend_model = models.spend_model();
    let monetary = rfm.monetary_value.as_ref().filter(|_| spend_model.is_some());
    let units_per_month = rfm.time_unit.per_month();

    // E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | x, T, alive] (the contract of
    // `models::PurchaseModel::expected_purchases_if_alive` every registered model keeps), and the
    // second factor, where the hypergeometric series are, depends on (x, T) only: it and its
    // discounted sum Σ_m (E[Y(m·u)] − E[Y((m−1)·u)]) / (1+d)^m are computed once per distinct
    // (x, T), P(alive) once per distinct (x, t_x, T). Each customer's CLV is her value per
    // purchase times the discounted purchases, as `discounted_value` with a constant value.
    let distinct = Arc::new(DistinctHistories::of(rfm));
    let DistinctHistories { histories, pairs } = distinct.as_ref();
    let with_value = monetary.is_some();
    let if_alive_forecast = IfAliveForecast::new(options, units_per_month, with_value);
    let if_alive: Vec<Option<(f64, Option<f64>)>> = pairs.evaluate(|_, &[x, t]| {
        let (expected, discounted) = if_alive_forecast.at(purchases, x, t, &mut Vec::new());
        let discounted = match with_value {
            true => Some(discounted?),
            false => None,
        };
        Some((expected?, discounted))
    });
    let per_history: Vec<Option<HistoryForecast>> = histories.evaluate(|h, &[x, tx, t]| {
        let p_alive = purchases.p_alive(x, tx, t)?;
        let (expected, discounted) = if_alive[pairs.index_of[h] as usize]?;
        let p_any = 1.0 - purchases.probability_of_no_purchase(options.horizon, x, tx, t)?;
        Some((p_alive, p_alive * expected, p_any, discounted.map(|d| (p_alive * d, d))))
    });

    // Per customer, in parallel: her history's forecast and, with a spend model, her value.
    let rows: Vec<Option<CustomerForecast>> = (0..rfm.len())
        .into_par_iter()
        .map(|i| {
            let (p_alive, expected, p_any, discounted) = per_history[histories.index_of[i] as usize]?;
            let value = match (spend_model, monetary, discounted) {
                (Some(spend_model), Some(m), Some((discounted, discounted_if_alive))) => {
                    // Infinite (q ≤ 1, no repeat purchase): no forecast, NaN, written empty.
                    let spend = spend_model
                        .conditional_expected_average_spend(rfm.frequency[i], m[i])
                        .unwrap_or(f64::NAN);
                    let per_purchase = options.margin * spend - options.cost_per_order;
                    Some((spend, per_purchase * discounted, per_purchase * discounted_if_alive))
                }
                _ => None,
            };
            Some((p_alive, expected, p_any, value))
        })
        .collect();

    let n = rfm.len();
    let (mut p_alive, mut expected_purchases, mut p_any_purchase) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let mut value = with_value.then(|| (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n)));
    for (i, row) in rows.into_iter().enumerate() {
        let (p, e, any, customer_value) = row.ok_or_else(|| ClvError::Model {
            model: models.purchase.kind().label(),
            reason: format!(
                "the expected purchases of customer '{}' (x = {}, t_x = {}, T = {}) did not converge",
                rfm.customer_id.label(i),
                rfm.frequency[i],
                rfm.recency[i],
                rfm.t[i]
            ),
        })?;
        p_alive.push(p);
        expected_purchases.push(e);
        p_any_purchase.push(any);
        if let (Some((spends, clvs, if_alive)), Some((s, c, a))) = (value.as_mut(), customer_value) {
            spends.push(s);
            clvs.push(c);
            if_alive.push(a);
        }
    }
    let churn = p_alive.iter().map(|p| 1.0 - p).collect();
    let mut out = Forecasts::new(n);
    out.keep_histories(distinct);
    out.push(ForecastColumn::new(P_ALIVE, p_alive))?;
    out.push(ForecastColumn::new(CHURN_PROBABILITY, churn))?;
    out.push(ForecastColumn::new(EXPECTED_PURCHASES, expected_purchases))?;
    out.push(ForecastColumn::new(P_ANY_PURCHASE, p_any_purchase))?;
    if let Some((spends, clvs, if_alive)) = value {
        out.push(ForecastColumn::new(EXPECTED_AVG_SPEND, spends))?;
        out.push(ForecastColumn::new(CLV, clvs))?;
        out.push(ForecastColumn::unwritten(CLV_IF_ALIVE, if_alive))?;
    }
    Ok(out)
}

/// What a customer alive at T is expected to do, which depends on (x, T) only: her purchases over
/// the horizon and, when wanted, her discounted purchases per unit of value — the monthly sum
/// over `clv_months` months, or DERT at the continuous rate equivalent to the monthly one,
/// ln(1 + d) per month.
pub(super) struct IfAliveForecast {
    with_value: bool,
    method: ClvMethod,
    monthly_discount_rate: f64,
    dert_rate: f64,
    /// Each month's end and then the horizon (the monthly sum's), or the horizon alone:
    /// `expected_purchases_if_alive_at` evaluates them at once.
    horizons: Vec<f64>,
    /// Weights over `horizons`: the expectation at the horizon, and (the monthly sum's) each
    /// month end's share of the discounted sum: Σ_m (E_m − E_(m−1)) v^m = Σ_(m<M) E_m (v^m −
    /// v^(m+1)) + E_M v^M, v = 1/(1+d).
    at_horizon: Vec<f64>,
    month_weights: Option<Vec<f64>>,
}

impl IfAliveForecast {
    pub(super) fn new(options: &ForecastOptions, units_per_month: f64, with_value: bool) -> Self {
        let monthly = with_value && options.clv_method == ClvMethod::Monthly;
        let month_ends = (1..=options.clv_months)
            .filter(|_| monthly)
            .map(|month| month as f64 * units_per_month);
        let horizons: Vec<f64> = month_ends.chain([options.horizon]).collect();
        let months = horizons.len() - 1;
        let mut at_horizon = vec![0.0; horizons.len()];
        at_horizon[months] = 1.0;
        let factor = |month: usize| 1.0 / (1.0 + options.monthly_discount_rate).powi(month as i32);
        let month_weights = monthly.then(|| {
            (1..=months)
                .map(|m| match m < months {
                    true => factor(m) - factor(m + 1),
                    false => factor(m),
                })
                .chain([0.0])
                .collect()
        });
        Self {
            with_value,
            method: options.clv_method,
            monthly_discount_rate: options.monthly_discount_rate,
            dert_rate: options.monthly_discount_rate.ln_1p() / units_per_month,
            horizons,
            at_horizon,
            month_weights,
        }
    }

    /// `at` for each x of `xs` at one T, into `out` (cleared first), with the models' weighted
    /// expectations (`weighted_expected_purchases_if_alive`), which share the work between the
    /// x; the same values to rounding (the monthly sum is weighted, not differenced).
    pub(super) fn at_each_x(
        &self,
        purchases: &dyn PurchaseModel,
        t: f64,
        xs: &[f64],
        out: &mut Vec<(Option<f64>, Option<f64>)>,
        scratch: &mut Vec<Option<f64>>,
    ) {
        // The monthly weights exist exactly when the monthly sum is wanted.
        let sets: Vec<&[f64]> = self
            .month_weights
            .as_deref()
            .into_iter()
            .chain([self.at_horizon.as_slice()])
            .collect();
        scratch.clear();
        scratch.resize(xs.len() * sets.len(), None);
        purchases.weighted_expected_purchases_if_alive(&self.horizons, &sets, t, xs, scratch);
        out.clear();
        out.extend(xs.iter().zip(scratch.chunks(sets.len())).map(|(&x, each)| {
            let expected = each[sets.len() - 1];
            let discounted = match (self.with_value, self.method) {
                (false, _) => None,
                (true, ClvMethod::Monthly) => each[0],
                (true, ClvMethod::Dert) => dert_if_alive(purchases, self.dert_rate, x, t),
            };
            (expected, discounted)
        }));
    }

    /// (E[Y(horizon) | x, T, alive], the discounted purchases if alive (`None` when not wanted)),
    /// each `None` where it cannot be evaluated; `scratch` is reused from call to call.
    pub(super) fn at(
        &self,
        purchases: &dyn PurchaseModel,
        x: f64,
        t: f64,
        scratch: &mut Vec<Option<f64>>,
    ) -> (Option<f64>, Option<f64>) {
        scratch.clear();
        scratch.resize(self.horizons.len(), None);
        purchases.expected_purchases_if_alive_at(&self.horizons, x, t, scratch);
        let (cumulative, expected) = scratch.split_at(self.horizons.len() - 1);
        let discounted = match (self.with_value, self.method) {
            (false, _) => None,
            (true, ClvMethod::Monthly) => cumulative
                .iter()
                .all(Option::is_some)
                .then(|| discounted_cumulative(cumulative.iter().flatten().copied(), 1.0, self.monthly_discount_rate)),
            (true, ClvMethod::Dert) => dert_if_alive(purchases, self.dert_rate, x, t),
        };
        (expected[0], discounted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rfm::CustomerIds;
    use crate::forecast::engine::discounted_value;
    use crate::models::bg_nbd::BgNbdParams;
    use crate::test_support::assert_close;

    /// BG/NBD's published CDNOW estimates (Fader, Hardie & Lee 2005).
    const PAPER: BgNbdParams = crate::test_support::BG_NBD_PAPER;

    #[test]
    fn undiscounted_value_telescopes_to_spend_times_expected_purchases() {
        // d = 0: Σ (E[Y(m u)] − E[Y((m−1) u)]) = E[Y(12 u)], so CLV = spend · E[Y(12 months)].
        let model = PAPER;
        let per_month = crate::data::TimeUnit::Weeks.per_month();
        let e = |h| model.conditional_expected_purchases(h, 2.0, 30.43, 38.86);
        let v = discounted_value(e, 24.66, 12, per_month, 0.0).unwrap();
        let direct = 24.66 * e(12.0 * per_month).unwrap();
        assert!((v - direct).abs() < 1e-12 * direct, "{v} vs {direct}");
    }

    #[test]
    fn each_x_at_one_t_gives_what_each_pair_gives() {
        // `at_each_x` (weighted series, shared between the x) against `at` (each month end's
        // expectation, then differenced and discounted): monthly at 1% and 0% a month, DERT,
        // and without value, at CDNOW's published BG/NBD estimates.
        let model = PAPER;
        let per_month = crate::data::TimeUnit::Weeks.per_month();
        let xs = [0.0, 1.0, 3.0, 12.0, 60.0];
        for (rate, method, with_value) in [
            (0.01, ClvMethod::Monthly, true),
            (0.0, ClvMethod::Monthly, true),
            (0.01, ClvMethod::Dert, true),
            (0.01, ClvMethod::Monthly, false),
        ] {
            let options = ForecastOptions {
                monthly_discount_rate: rate,
                clv_method: method,
                ..ForecastOptions::default()
            };
            let forecast = IfAliveForecast::new(&options, per_month, with_value);
            let (mut each, mut scratch) = (Vec::new(), Vec::new());
            for t in [1.0, 38.86, 77.0] {
                forecast.at_each_x(&model, t, &xs, &mut each, &mut scratch);
                for (&x, &(expected, discounted)) in xs.iter().zip(&each) {
                    let (one_expected, one_discounted) = forecast.at(&model, x, t, &mut Vec::new());
                    assert_close(expected.unwrap(), one_expected.unwrap(), 1e-13);
                    match (discounted, one_discounted) {
                        (Some(d), Some(one)) => assert_close(d, one, 1e-12),
                        (None, None) => assert!(!with_value),
                        other => panic!("{other:?} at x = {x}, T = {t}"),
                    }
                }
            }
        }
    }

    #[test]
    fn margin_and_cost_to_serve_set_the_value_of_each_purchase() {
        // One customer, CDNOW-like: x = 2, t_x = 30.43, T = 38.86 at the published parameters;
        // spend 24.663714 (Gamma-Gamma eq. 5, shared/REFERENCE.md), margin 30%, $2 to serve an order.
        // Profit per purchase = 0.3 · 24.663714 − 2 = 5.3991142; with d = 0 the sum telescopes, so
        // CLV = 5.3991142 · E[Y(12 months)].
        let models = FittedModels::from_json(
            r#"{"format_version": 1, "clv_version": "test", "time_unit": "weeks",
              "bg_nbd": {"params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                         "standard_errors": null, "covariance": null, "parameter_order": ["r","alpha","a","b"],
                         "log_likelihood": 0, "aic": 0, "bic": 0, "n_customers": 1, "iterations": 0},
              "gamma_gamma": {"params": {"p": 6.25, "q": 3.74, "v": 15.44},
                         "standard_errors": null, "covariance": null, "parameter_order": ["p","q","v"],
                         "log_likelihood": 0, "aic": 0, "bic": 0, "n_customers": 1, "iterations": 0,
                         "excluded_nonpositive_spend": 0, "mean_spend": 35.218978}}"#,
        )
        .unwrap();
        let rfm = RfmTable {
            customer_id: CustomerIds::from_labels(&["c"]),
            frequency: vec![2.0],
            recency: vec![30.43],
            t: vec![38.86],
            monetary_value: Some(vec![22.35]),
            first_purchase: None,
            time_unit: crate::data::TimeUnit::Weeks,
        };
        let options = ForecastOptions {
            horizon: 39.0,
            clv_months: 12,
            monthly_discount_rate: 0.0,
            margin: 0.3,
            cost_per_order: 2.0,
            clv_method: ClvMethod::Monthly,
        };
        let f = forecast(&models, &rfm, &options).unwrap();
        let twelve_months_in_weeks = 365.25 / 7.0;
        let e12 = models
            .bg_nbd()
            .unwrap()
            .params
            .conditional_expected_purchases(twelve_months_in_weeks, 2.0, 30.43, 38.86)
            .unwrap();
        let expected = (0.3 * 24.663714 - 2.0) * e12;
        let clv = f.column(CLV).unwrap()[0];
        assert!((clv - expected).abs() < 1e-7 * expected, "{clv} vs {expected}");
        assert!((f.column(EXPECTED_AVG_SPEND).unwrap()[0] - 24.663714).abs() < 5e-7);
        assert!((f.column(EXPECTED_PURCHASES).unwrap()[0] - 1.226028).abs() < 5e-7);
    }

    #[test]
    fn forecasts_per_distinct_history_equal_the_direct_per_customer_formulas() {
        // Customers sharing (x, T) with different t_x, and repeated histories: the forecast
        // factors E[Y] into P(alive) and the alive customer's expectation and computes each once
        // per distinct value; it must give each customer what the formulas give her directly.
        let customers = [
            (0.0, 0.0, 38.86, 0.0),
            (2.0, 30.43, 38.86, 22.35),
            (2.0, 10.0, 38.86, 40.0),
            (2.0, 30.43, 38.86, 22.35),
            (7.0, 36.0, 52.0, 15.0),
            (7.0, 5.0, 52.0, 15.0),
            (0.0, 0.0, 38.86, 0.0),
        ];
        let rfm = RfmTable {
            customer_id: CustomerIds::from_labels(&["a", "b", "c", "d", "e", "f", "g"]),
            frequency: customers.iter().map(|c| c.0).collect(),
            recency: customers.iter().map(|c| c.1).collect(),
            t: customers.iter().map(|c| c.2).collect(),
            monetary_value: Some(customers.iter().map(|c| c.3).collect()),
            first_purchase: None,
            time_unit: crate::data::TimeUnit::Weeks,
        };
        let options = ForecastOptions {
            horizon: 39.0,
            clv_months: 12,
            monthly_discount_rate: 0.01,
            margin: 0.3,
            cost_per_order: 2.0,
            clv_method: ClvMethod::Monthly,
        };
        let fit = |params: &str| {
            format!(
                r#"{{"params": {{{params}}}, "standard_errors": null, "covariance": null, "parameter_order": [],
                    "log_likelihood": 0, "aic": 0, "bic": 0, "n_customers": 1, "iterations": 0}}"#
            )
        };
        for (key, params) in [
            ("bg_nbd", r#""r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426"#),
            ("mbg_nbd", r#""r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614"#),
            (
                "pareto_nbd",
                r#""r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669"#,
            ),
            // The limiting models go through the same engine.
            ("bg_nbd_limit", r#""r": 0.243, "alpha": 4.414, "p": 0.25"#),
            ("mbg_nbd_limit", r#""lambda": 0.05, "a": 0.891, "b": 1.614"#),
            ("pareto_nbd_limit", r#""lambda": 0.06, "s": 0.606, "beta": 11.669"#),
            ("pareto_nbd_limit", r#""lambda": 0.06, "mu": 0.05"#),
        ] {
            let json = format!(
                r#"{{"format_version": 2, "clv_version": "test", "time_unit": "weeks", "{key}": {},
                    "gamma_gamma": {}}}"#,
                fit(params),
                fit(r#""p": 6.25, "q": 3.74, "v": 15.44"#).replace(
                    r#""iterations": 0}"#,
                    r#""iterations": 0, "excluded_nonpositive_spend": 0, "mean_spend": 35.2}"#
                )
            );
            let models = FittedModels::from_json(&json).unwrap();
            let f = forecast(&models, &rfm, &options).unwrap();
            let model = models.purchase.model();
            let spend_model = models.spend_model().unwrap();
            for (i, &(x, tx, t, m)) in customers.iter().enumerate() {
                let close = |ours: f64, direct: f64| {
                    assert!(
                        (ours - direct).abs() <= 1e-13 * direct.abs().max(1e-300),
                        "{key} {i}: {ours} vs {direct}"
                    )
                };
                close(f.column(P_ALIVE).unwrap()[i], model.p_alive(x, tx, t).unwrap());
                close(
                    f.column(EXPECTED_PURCHASES).unwrap()[i],
                    model.conditional_expected_purchases(39.0, x, tx, t).unwrap(),
                );
                let spend = spend_model.conditional_expected_average_spend(x, m).unwrap();
                let direct_clv = discounted_value(
                    |h| model.conditional_expected_purchases(h, x, tx, t),
                    0.3 * spend - 2.0,
                    12,
                    crate::data::TimeUnit::Weeks.per_month(),
                    0.01,
                )
                .unwrap();
                close(f.column(CLV).unwrap()[i], direct_clv);
                // E[CLV | alive]: the same sum over the alive customer's expectations.
                let direct_if_alive = discounted_value(
                    |h| model.expected_purchases_if_alive(h, x, t),
                    0.3 * spend - 2.0,
                    12,
                    crate::data::TimeUnit::Weeks.per_month(),
                    0.01,
                )
                .unwrap();
                close(f.column(CLV_IF_ALIVE).unwrap()[i], direct_if_alive);
            }
        }
    }

    #[test]
    fn clv_at_pareto_nbds_double_limit_has_a_closed_form() {
        // One purchase rate λ and one dropout rate μ: E[Y(t) | alive] = λ(1 − e^(−μt))/μ, so the
        // increase in month m is (λ/μ) e^(−μ(m−1)u)(1 − e^(−μu)) with u weeks a month, and
        // CLV = P(alive) · value · (λ/μ)(1 − e^(−μu)) Σ_{m=1..M} e^(−μ(m−1)u)/(1+d)^m
        //     = P(alive) · value · (λ/μ)(1 − e^(−μu)) · (1 − ρ^M)/((1+d)(1 − ρ)), ρ = e^(−μu)/(1+d);
        // P(alive) = e^(−kT)/(e^(−kT) + μ/k (e^(−k t_x) − e^(−kT))), k = λ + μ (x purchases cancel).
        let (lambda, mu, d, months) = (0.06f64, 0.05f64, 0.01f64, 12);
        let (x, tx, t, m) = (3.0, 20.0, 40.0, 22.0);
        let json = r#"{"format_version": 2, "clv_version": "test", "time_unit": "weeks",
            "pareto_nbd_limit": {"params": {"lambda": 0.06, "mu": 0.05}, "standard_errors": null,
                "covariance": null, "parameter_order": [], "log_likelihood": 0, "aic": 0, "bic": 0,
                "n_customers": 1, "iterations": 0},
            "gamma_gamma": {"params": {"p": 6.25, "nu": 0.25}, "standard_errors": null, "covariance": null,
                "parameter_order": [], "log_likelihood": 0, "aic": 0, "bic": 0, "n_customers": 1,
                "iterations": 0, "excluded_nonpositive_spend": 0, "mean_spend": 25.0}}"#;
        let models = FittedModels::from_json(json).unwrap();
        let rfm = RfmTable {
            customer_id: CustomerIds::from_labels(&["a"]),
            frequency: vec![x],
            recency: vec![tx],
            t: vec![t],
            monetary_value: Some(vec![m]),
            first_purchase: None,
            time_unit: crate::data::TimeUnit::Weeks,
        };
        let options = ForecastOptions {
            horizon: 39.0,
            clv_months: months,
            monthly_discount_rate: d,
            margin: 0.3,
            cost_per_order: 2.0,
            clv_method: ClvMethod::Monthly,
        };
        let f = forecast(&models, &rfm, &options).unwrap();
        let k = lambda + mu;
        let p_alive = (-k * t).exp() / ((-k * t).exp() + mu / k * ((-k * tx).exp() - (-k * t).exp()));
        // The homogeneous spend limit: every customer spends p/ν = 25.
        let value = 0.3 * 25.0 - 2.0;
        let u = crate::data::TimeUnit::Weeks.per_month();
        let rho = (-mu * u).exp() / (1.0 + d);
        let sum = (1.0 - rho.powi(months as i32)) / ((1.0 + d) * (1.0 - rho));
        let clv = p_alive * value * lambda / mu * (1.0 - (-mu * u).exp()) * sum;
        let close =
            |ours: f64, expected: f64| assert!((ours - expected).abs() <= 1e-12 * expected, "{ours} vs {expected}");
        close(f.column(P_ALIVE).unwrap()[0], p_alive);
        close(f.column(EXPECTED_AVG_SPEND).unwrap()[0], 25.0);
        close(f.column(CLV).unwrap()[0], clv);
        close(f.column(CLV_IF_ALIVE).unwrap()[0], clv / p_alive);
        close(
            f.column(EXPECTED_PURCHASES).unwrap()[0],
            p_alive * lambda * (1.0 - (-mu * 39.0).exp()) / mu,
        );
    }
}
