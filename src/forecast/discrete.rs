//! The forecaster of the discrete-time models (x, t_x, n over calendar opportunities): BG/BB's
//! P(alive), churn, expected transactions and, with a spend model, expected spend and CLV.

use super::engine::Distinct;
use super::{
    ForecastColumn, ForecastOptions, Forecasts, CHURN_PROBABILITY, CLV, CLV_IF_ALIVE, EXPECTED_AVG_SPEND,
    EXPECTED_PURCHASES, P_ALIVE, P_ANY_PURCHASE,
};
use crate::data::discrete::DiscreteSummary;
use crate::error::Result;
use crate::models::bg_bb::BgBb;
use crate::models::gamma_gamma::SpendParams;

/// Opportunities in `months` months of `period`s, at least one: 12 months are 12 monthly, 4
/// quarterly or 1 yearly opportunity.
pub fn periods_in_months(months: f64, period: crate::data::period::Period) -> u32 {
    (months / period.months()).round().max(1.0) as u32
}

/// Forecasts for each customer of `summary` from BG/BB and, with amounts, a spend model. The
/// options' horizon is in opportunities (the summary's periods); the CLV sums the opportunities
/// of `clv_months` months, discounted by the monthly rate made a rate per period. Columns:
/// p_alive (alive at the next opportunity, eq. 11), churn_probability, expected_purchases
/// (eq. 13), p_any_purchase, and with spend expected_avg_spend, clv and the unwritten
/// clv_if_alive.
pub fn forecast_discrete(
    model: &BgBb,
    spend: Option<&SpendParams>,
    summary: &DiscreteSummary,
    options: &ForecastOptions,
) -> Result<Forecasts> {
    options.validate()?;
    let n = summary.frequency.len();
    let settings = DiscreteSettings::new(options, summary.period);
    let distinct = distinct_histories(summary);
    let per_history = distinct.evaluate(|_, &history| settings.history_forecast(model, history));
    let of = |i: usize| {
        let f = per_history[distinct.index_of[i] as usize];
        (f.p_alive, f.p_alive_now, f.expected, f.discounted, f.p_any)
    };
    let p_alive: Vec<f64> = (0..n).map(|i| of(i).0).collect();
    let churn = p_alive.iter().map(|p| 1.0 - p).collect();
    let mut forecasts = Forecasts::new(n);
    forecasts.push(ForecastColumn::new(P_ALIVE, p_alive))?;
    forecasts.push(ForecastColumn::new(CHURN_PROBABILITY, churn))?;
    forecasts.push(ForecastColumn::new(
        EXPECTED_PURCHASES,
        (0..n).map(|i| of(i).2).collect(),
    ))?;
    forecasts.push(ForecastColumn::new(P_ANY_PURCHASE, (0..n).map(|i| of(i).4).collect()))?;
    if let (Some(spend), Some(monetary)) = (spend, summary.monetary_value.as_ref()) {
        let expected_spend: Vec<f64> = (0..n)
            .map(|i| {
                spend
                    .conditional_expected_average_spend(f64::from(summary.frequency[i]), monetary[i])
                    .unwrap_or(f64::NAN)
            })
            .collect();
        let value = |i: usize| (options.margin * expected_spend[i] - options.cost_per_order) * of(i).3;
        let clv: Vec<f64> = (0..n).map(value).collect();
        let if_alive: Vec<f64> = (0..n)
            .map(|i| if of(i).1 > 0.0 { clv[i] / of(i).1 } else { 0.0 })
            .collect();
        forecasts.push(ForecastColumn::new(EXPECTED_AVG_SPEND, expected_spend))?;
        forecasts.push(ForecastColumn::new(CLV, clv))?;
        forecasts.push(ForecastColumn::unwritten(CLV_IF_ALIVE, if_alive))?;
    }
    Ok(forecasts)
}

/// What BG/BB forecasts for one history, at one parameter vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HistoryForecast {
    /// P(alive at the next opportunity) (eq. 11).
    pub p_alive: f64,
    /// P(alive now).
    pub p_alive_now: f64,
    /// Expected transactions over the horizon (eq. 13).
    pub expected: f64,
    /// Discounted expected transactions over the CLV's opportunities.
    pub discounted: f64,
    /// P(any transaction over the horizon).
    pub p_any: f64,
}

/// The forecast options in opportunities: the horizon, the CLV's opportunities and the discount
/// rate per opportunity (the monthly rate made a rate per period).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiscreteSettings {
    pub horizon: u32,
    clv_periods: u32,
    discount: f64,
}

impl DiscreteSettings {
    pub fn new(options: &ForecastOptions, period: crate::data::period::Period) -> Self {
        Self {
            horizon: options.horizon.round().max(1.0) as u32,
            clv_periods: periods_in_months(f64::from(options.clv_months), period),
            discount: (1.0 + options.monthly_discount_rate).powf(period.months()) - 1.0,
        }
    }

    /// P(alive), the expected and the discounted transactions of `model` for each of `histories`
    /// ([x, t_x, n]), as `history_forecast` gives them (`BgBb::forecasts_of_histories`).
    pub fn forecasts_of_histories(&self, model: &BgBb, histories: &[[u32; 3]]) -> Vec<[f64; 3]> {
        model.forecasts_of_histories(self.horizon, self.discount, self.clv_periods, histories)
    }

    /// The forecasts of `model` for the history [x, t_x, n].
    pub fn history_forecast(&self, model: &BgBb, [x, t_x, periods]: [f64; 3]) -> HistoryForecast {
        let (x, t_x, periods) = (x as u32, t_x as u32, periods as u32);
        HistoryForecast {
            p_alive: model.p_alive(x, t_x, periods),
            p_alive_now: model.p_alive_now(x, t_x, periods),
            expected: model.expected_transactions(self.horizon, x, t_x, periods),
            discounted: model.discounted_expected_transactions(self.discount, self.clv_periods, x, t_x, periods),
            p_any: 1.0 - model.probability_of_transactions(0, self.horizon, x, t_x, periods),
        }
    }
}

/// The distinct [x, t_x, n] of `summary`'s customers.
pub(crate) fn distinct_histories(summary: &DiscreteSummary) -> Distinct<3> {
    Distinct::of((0..summary.frequency.len()).map(|i| {
        [
            f64::from(summary.frequency[i]),
            f64::from(summary.recency[i]),
            f64::from(summary.periods[i]),
        ]
    }))
}
