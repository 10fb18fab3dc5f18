//! Per-customer forecasts: P(alive), churn, expected purchases, expected spend and discounted CLV.

use polars::prelude::*;
use rayon::prelude::*;

use crate::data::rfm::RfmTable;
use crate::error::{ClvError, PolarsContext, Result};
use crate::model_file::FittedModels;
use crate::models::{table_index, BitsMap};

/// What to forecast.
#[derive(Debug, Clone, Copy)]
pub struct ForecastOptions {
    /// Horizon of `expected_purchases`, in the data's time unit.
    pub horizon: f64,
    /// Months of future purchases that CLV sums.
    pub clv_months: u32,
    /// Discount rate per month.
    pub monthly_discount_rate: f64,
    /// Fraction of revenue kept as profit.
    pub margin: f64,
    /// Cost to serve one order, in currency, subtracted from each purchase's profit.
    pub cost_per_order: f64,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        Self {
            horizon: 52.0,
            clv_months: 12,
            monthly_discount_rate: 0.01,
            margin: 1.0,
            cost_per_order: 0.0,
        }
    }
}

impl ForecastOptions {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ClvError::InvalidArgument(m));
        if !(self.horizon.is_finite() && self.horizon >= 0.0) {
            return bad(format!("the horizon must be a number ≥ 0, not {}", self.horizon));
        }
        if !(self.monthly_discount_rate.is_finite() && self.monthly_discount_rate > -1.0) {
            return bad(format!(
                "the discount rate must be > −1, not {}",
                self.monthly_discount_rate
            ));
        }
        if !self.margin.is_finite() {
            return bad(format!("the margin must be a finite number, not {}", self.margin));
        }
        if !(self.cost_per_order.is_finite() && self.cost_per_order >= 0.0) {
            return bad(format!(
                "the cost per order must be a number ≥ 0, not {}",
                self.cost_per_order
            ));
        }
        Ok(())
    }
}

/// Forecasts for every customer of an RFM table, in its row order.
#[derive(Debug, Clone)]
pub struct Forecasts {
    pub p_alive: Vec<f64>,
    pub expected_purchases: Vec<f64>,
    /// E[M | x, z̄] of the Gamma-Gamma model; absent without a spend model. NaN (written as
    /// empty) for a customer whose expected spend is infinite: no repeat purchase under q ≤ 1.
    pub expected_avg_spend: Option<Vec<f64>>,
    /// Discounted CLV; NaN where the expected spend is.
    pub clv: Option<Vec<f64>>,
    /// E[CLV | alive at T]: the CLV of the customer if she is still a customer (CLV / P(alive),
    /// computed without the division, so also where P(alive) = 0). Present with `clv`.
    pub clv_if_alive: Option<Vec<f64>>,
}

/// Discounted value of future purchases, computed as `lifetimes`' `customer_lifetime_value`:
/// Σ_{m=1..months} value · (E[Y(m·u)] − E[Y((m−1)·u)]) / (1+d)^m, with u the time units per
/// month, E[Y(t)] the cumulative expected purchases by t, and `value_per_purchase` the profit of
/// one purchase (margin · expected spend − cost to serve it).
pub fn discounted_value(
    cumulative_purchases: impl Fn(f64) -> Option<f64>,
    value_per_purchase: f64,
    months: u32,
    units_per_month: f64,
    monthly_discount_rate: f64,
) -> Option<f64> {
    let mut previous = 0.0;
    let mut value = 0.0;
    for month in 1..=months {
        let cumulative = cumulative_purchases(month as f64 * units_per_month)?;
        value += value_per_purchase * (cumulative - previous) / (1.0 + monthly_discount_rate).powi(month as i32);
        previous = cumulative;
    }
    Some(value)
}

/// (P(alive), expected purchases, (expected spend, CLV, CLV if alive) when there is a spend model).
type CustomerForecast = (f64, f64, Option<(f64, f64, f64)>);

/// (P(alive), expected purchases, discounted purchases per unit of value (overall and if alive)
/// when CLV is wanted).
type HistoryForecast = (f64, f64, Option<(f64, f64)>);

/// Forecasts for each customer of `rfm` from `models`; the data must be in the models' time unit.
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
    let mut history_index: BitsMap<[u64; 3], u32> = BitsMap::default();
    let mut histories: Vec<[f64; 3]> = Vec::new();
    let history_of: Vec<u32> = (0..rfm.len())
        .map(|i| {
            let key = [rfm.frequency[i], rfm.recency[i], rfm.t[i]];
            table_index(&mut history_index, &mut histories, key, key.map(f64::to_bits))
        })
        .collect();
    let mut pair_index: BitsMap<[u64; 2], u32> = BitsMap::default();
    let mut pairs: Vec<[f64; 2]> = Vec::new();
    let pair_of: Vec<u32> = histories
        .iter()
        .map(|&[x, _, t]| table_index(&mut pair_index, &mut pairs, [x, t], [x.to_bits(), t.to_bits()]))
        .collect();
    let with_value = monetary.is_some();
    let if_alive: Vec<Option<(f64, Option<f64>)>> = pairs
        .par_iter()
        .map(|&[x, t]| {
            let expected = purchases.expected_purchases_if_alive(options.horizon, x, t)?;
            let discounted = match with_value {
                true => Some(discounted_value(
                    |h| purchases.expected_purchases_if_alive(h, x, t),
                    1.0,
                    options.clv_months,
                    units_per_month,
                    options.monthly_discount_rate,
                )?),
                false => None,
            };
            Some((expected, discounted))
        })
        .collect();
    let per_history: Vec<Option<HistoryForecast>> = histories
        .par_iter()
        .zip(&pair_of)
        .map(|(&[x, tx, t], &pair)| {
            let p_alive = purchases.p_alive(x, tx, t)?;
            let (expected, discounted) = if_alive[pair as usize]?;
            Some((p_alive, p_alive * expected, discounted.map(|d| (p_alive * d, d))))
        })
        .collect();
    let rows: Vec<Option<CustomerForecast>> = (0..rfm.len())
        .into_par_iter()
        .map(|i| {
            let (p_alive, expected, discounted) = per_history[history_of[i] as usize]?;
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
            Some((p_alive, expected, value))
        })
        .collect();

    let mut out = Forecasts {
        p_alive: Vec::with_capacity(rows.len()),
        expected_purchases: Vec::with_capacity(rows.len()),
        expected_avg_spend: monetary.map(|_| Vec::with_capacity(rows.len())),
        clv: monetary.map(|_| Vec::with_capacity(rows.len())),
        clv_if_alive: monetary.map(|_| Vec::with_capacity(rows.len())),
    };
    for (i, row) in rows.into_iter().enumerate() {
        let (p, e, value) = row.ok_or_else(|| ClvError::Model {
            model: models.purchase.kind().label(),
            reason: format!(
                "the expected purchases of customer '{}' (x = {}, t_x = {}, T = {}) did not converge",
                rfm.customer_id.label(i),
                rfm.frequency[i],
                rfm.recency[i],
                rfm.t[i]
            ),
        })?;
        out.p_alive.push(p);
        out.expected_purchases.push(e);
        if let (Some(spends), Some(clvs), Some(if_alive), Some((s, c, a))) = (
            out.expected_avg_spend.as_mut(),
            out.clv.as_mut(),
            out.clv_if_alive.as_mut(),
            value,
        ) {
            spends.push(s);
            clvs.push(c);
            if_alive.push(a);
        }
    }
    Ok(out)
}

impl Forecasts {
    /// Customers without a spend or CLV forecast: no repeat purchase under a spend model with an
    /// infinite population mean (q ≤ 1).
    pub fn unvalued(&self) -> usize {
        self.clv.as_ref().map_or(0, |c| c.iter().filter(|v| v.is_nan()).count())
    }

    /// The predictions table: the RFM inputs, then p_alive, churn_probability,
    /// expected_purchases and, with a spend model, expected_avg_spend and clv.
    pub fn to_frame(&self, rfm: &RfmTable) -> Result<DataFrame> {
        self.clone().into_frame(rfm.clone())
    }

    /// As `to_frame`, moving the columns into the table instead of copying them (at 10M
    /// customers the copies were a gigabyte).
    pub fn into_frame(self, rfm: RfmTable) -> Result<DataFrame> {
        let ctx = || "building the predictions table".to_string();
        let floats = |name: &str, v: Vec<f64>| Float64Chunked::from_vec(name.into(), v).into_column();
        // NaN marks a forecast that does not exist (an infinite expected spend): written empty.
        let optional_floats = |name: &str, v: Vec<f64>| {
            Float64Chunked::from_iter_options(name.into(), v.into_iter().map(|x| (!x.is_nan()).then_some(x)))
                .into_column()
        };
        let churn: Vec<f64> = self.p_alive.iter().map(|p| 1.0 - p).collect();
        let frequency: Vec<i64> = rfm.frequency.iter().map(|&x| x as i64).collect();
        let mut columns: Vec<Column> = vec![
            rfm.customer_id.column(),
            Int64Chunked::from_vec("frequency".into(), frequency).into_column(),
            floats("recency", rfm.recency),
            floats("T", rfm.t),
        ];
        if let Some(m) = rfm.monetary_value {
            columns.push(floats("monetary_value", m));
        }
        if let Some(first) = rfm.first_purchase {
            let dates = Int32Chunked::from_vec("first_purchase".into(), first)
                .into_column()
                .cast(&DataType::Date)
                .context(ctx)?;
            columns.push(dates);
        }
        columns.push(floats("p_alive", self.p_alive));
        columns.push(floats("churn_probability", churn));
        columns.push(floats("expected_purchases", self.expected_purchases));
        if let (Some(s), Some(c)) = (self.expected_avg_spend, self.clv) {
            columns.push(optional_floats("expected_avg_spend", s));
            columns.push(optional_floats("clv", c));
        }
        DataFrame::new_infer_height(columns).context(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rfm::CustomerIds;
    use crate::models::bg_nbd::BgNbdParams;

    #[test]
    fn discounting_matches_a_hand_computation() {
        // Cumulative purchases E(t) = t, one unit per month, spend 10, three months at 10%:
        // 10·(1/1.1 + 1/1.1² + 1/1.1³) = 10·(0.909090909 + 0.826446281 + 0.751314801) = 24.86851991.
        let v = discounted_value(Some, 10.0, 3, 1.0, 0.1).unwrap();
        assert!((v - 24.868519909842).abs() < 1e-9, "{v}");
        // Two purchases a month instead of one: twice the value.
        let twice = discounted_value(|t| Some(2.0 * t), 10.0, 3, 1.0, 0.1).unwrap();
        assert!((twice - 2.0 * v).abs() < 1e-12);
    }

    #[test]
    fn undiscounted_value_telescopes_to_spend_times_expected_purchases() {
        // d = 0: Σ (E[Y(m u)] − E[Y((m−1) u)]) = E[Y(12 u)], so CLV = spend · E[Y(12 months)].
        let model = BgNbdParams {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let per_month = crate::data::TimeUnit::Weeks.per_month();
        let e = |h| model.conditional_expected_purchases(h, 2.0, 30.43, 38.86);
        let v = discounted_value(e, 24.66, 12, per_month, 0.0).unwrap();
        let direct = 24.66 * e(12.0 * per_month).unwrap();
        assert!((v - direct).abs() < 1e-12 * direct, "{v} vs {direct}");
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
        let clv = f.clv.unwrap()[0];
        assert!((clv - expected).abs() < 1e-7 * expected, "{clv} vs {expected}");
        assert!((f.expected_avg_spend.unwrap()[0] - 24.663714).abs() < 5e-7);
        assert!((f.expected_purchases[0] - 1.226028).abs() < 5e-7);
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
                close(f.p_alive[i], model.p_alive(x, tx, t).unwrap());
                close(
                    f.expected_purchases[i],
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
                close(f.clv.as_ref().unwrap()[i], direct_clv);
                // E[CLV | alive]: the same sum over the alive customer's expectations.
                let direct_if_alive = discounted_value(
                    |h| model.expected_purchases_if_alive(h, x, t),
                    0.3 * spend - 2.0,
                    12,
                    crate::data::TimeUnit::Weeks.per_month(),
                    0.01,
                )
                .unwrap();
                close(f.clv_if_alive.as_ref().unwrap()[i], direct_if_alive);
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
        close(f.p_alive[0], p_alive);
        close(f.expected_avg_spend.as_ref().unwrap()[0], 25.0);
        close(f.clv.as_ref().unwrap()[0], clv);
        close(f.clv_if_alive.as_ref().unwrap()[0], clv / p_alive);
        close(
            f.expected_purchases[0],
            p_alive * lambda * (1.0 - (-mu * 39.0).exp()) / mu,
        );
    }
}
