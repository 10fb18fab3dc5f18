//! The retention forecaster (sBG: Fader & Hardie 2007, 2010): per cohort, survival and retention
//! projected next to the actual, and the discounted value of the subscribers still there; per
//! subscriber, the chance she renews, the renewals to expect and her discounted residual value.

use super::engine::Distinct;
use super::{
    ForecastColumn, Forecasts, CHURN_PROBABILITY, CLV, CLV_IF_ALIVE, EXPECTED_AVG_SPEND, EXPECTED_PURCHASES, P_ALIVE,
};
use crate::data::contractual::ContractualSummary;
use crate::error::{ClvError, Result};
use crate::models::histories::SurvivalHistories;
use crate::models::sbg::Retention;

/// Expected renewals over the horizon (payments after the current one).
pub const EXPECTED_RENEWALS: &str = "expected_renewals";
/// Discounted expected residual lifetime, in payments (Fader & Hardie 2010).
pub const DERL: &str = "derl";
/// Expected payments still to come, undiscounted: (δ + n)/(γ − 1); infinite (written empty) when
/// γ ≤ 1, where enough subscribers almost never leave that the mean has no bound.
pub const EXPECTED_REMAINING_PERIODS: &str = "expected_remaining_periods";

/// What a retention forecast needs.
#[derive(Debug, Clone, Copy)]
pub struct RetentionOptions {
    /// Renewal periods projected (and the horizon of `expected_renewals`).
    pub horizon: u32,
    /// Discount rate per renewal period.
    pub discount_per_period: f64,
    /// Fraction of the price kept as profit.
    pub margin: f64,
}

/// One period of a cohort's projection: survival S(t) and retention r(t) as observed (when the
/// data reach period t) and as the model projects them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectedPeriod {
    pub period: u32,
    pub actual_survival: Option<f64>,
    pub model_survival: f64,
    /// r(t) = S(t)/S(t − 1); none for period 0.
    pub actual_retention: Option<f64>,
    pub model_retention: Option<f64>,
}

/// Survival and retention of a cohort of `histories` for periods 0..=`last`, actual where
/// observed (Kaplan–Meier, so a log of subscriptions started at different times shows every
/// period someone was seen in), projected by `model`.
pub fn project(model: &Retention, histories: &SurvivalHistories, cohort: u32, last: u32) -> Vec<ProjectedPeriod> {
    let observed = histories.kaplan_meier(cohort, last);
    let actual = |t: u32| observed[t as usize];
    (0..=last)
        .map(|t| {
            let previous = t.checked_sub(1);
            ProjectedPeriod {
                period: t,
                actual_survival: actual(t),
                model_survival: model.survival(f64::from(t)),
                actual_retention: previous
                    .and_then(|p| Some((actual(t)?, actual(p)?)))
                    .filter(|(_, before)| *before > 0.0)
                    .map(|(now, before)| now / before),
                model_retention: previous.map(|_| model.retention_rate(f64::from(t))),
            }
        })
        .collect()
}

/// The discounted expected payments still to come from subscribers who have made `renewals`
/// renewals, `count` of them: count · DERL(d | renewals), each payment worth one price.
pub fn residual_payments(model: &Retention, renewals: u32, count: f64, discount_per_period: f64) -> Result<f64> {
    let derl = model
        .discounted_residual_lifetime(f64::from(renewals), discount_per_period)
        .ok_or_else(|| ClvError::Model {
            model: "sBG",
            reason: format!(
                "the discounted residual lifetime at a discount of {discount_per_period} per period did not converge \
                 (a rate per period of at least 1e-4 is needed)"
            ),
        })?;
    Ok(count * derl)
}

/// Per subscriber of `summary`: p_alive (the chance she is still a subscriber after her next
/// renewal date: 0 once churned), churn_probability, expected_renewals over the horizon, derl,
/// expected_remaining_periods (empty when infinite) and, with prices, clv = margin · price · DERL (the residual value of her payments still to
/// come) and the unwritten clv_if_alive (the same if she renews: DERL / P(renews)).
/// `models[k]` is the model of the summary's cohort k (`ContractualSummary::histories` order).
pub fn forecast_subscribers(
    summary: &ContractualSummary,
    cohorts: &[String],
    models: &[Retention],
    options: &RetentionOptions,
) -> Result<Forecasts> {
    let n = summary.duration.len();
    let cohort_of = |i: usize| -> Result<usize> {
        let name = summary.cohort_name(i);
        cohorts
            .iter()
            .position(|c| c == name)
            .filter(|&k| k < models.len())
            .ok_or_else(|| ClvError::InvalidArgument(format!("no retention model for cohort '{name}'")))
    };
    let keys: Vec<[f64; 3]> = (0..n)
        .map(|i| {
            Ok([
                cohort_of(i)? as f64,
                f64::from(summary.duration[i]),
                if summary.churned[i] { 1.0 } else { 0.0 },
            ])
        })
        .collect::<Result<_>>()?;
    let distinct = Distinct::of(keys.into_iter());
    // (renewal probability, expected renewals, DERL, expected remaining periods), per distinct
    // (cohort, renewals, churned).
    let per_history = distinct.evaluate(|_, &[k, renewals, churned]| {
        if churned == 1.0 {
            return Some((0.0, 0.0, 0.0, 0.0));
        }
        let model = &models[k as usize];
        Some((
            model.renewal_probability(renewals),
            model.expected_renewals_within(renewals, options.horizon),
            model.discounted_residual_lifetime(renewals, options.discount_per_period)?,
            model.expected_residual_lifetime(renewals).unwrap_or(f64::NAN),
        ))
    });
    let mut columns: [Vec<f64>; 4] = std::array::from_fn(|_| Vec::with_capacity(n));
    for i in 0..n {
        let (renews, renewals, derl, remaining) =
            per_history[distinct.index_of[i] as usize].ok_or_else(|| ClvError::Model {
                model: "sBG",
                reason: format!(
                    "the discounted residual lifetime at a discount of {} per period did not converge",
                    options.discount_per_period
                ),
            })?;
        columns[0].push(renews);
        columns[1].push(renewals);
        columns[2].push(derl);
        columns[3].push(remaining);
    }
    let [renews, renewals, derl, remaining] = columns;
    let value = summary.price.as_ref().map(|price| {
        let value: Vec<f64> = (0..n).map(|i| options.margin * price[i] * derl[i]).collect();
        let if_renews: Vec<f64> = (0..n)
            .map(|i| if renews[i] > 0.0 { value[i] / renews[i] } else { 0.0 })
            .collect();
        (value, if_renews)
    });
    let churn = renews.iter().map(|p| 1.0 - p).collect();
    let mut forecasts = Forecasts::new(n);
    forecasts.push(ForecastColumn::new(P_ALIVE, renews))?;
    forecasts.push(ForecastColumn::new(CHURN_PROBABILITY, churn))?;
    // The value report totals transactions and their revenue: here renewals, each paying the price.
    forecasts.push(ForecastColumn::unwritten(EXPECTED_PURCHASES, renewals.clone()))?;
    forecasts.push(ForecastColumn::new(EXPECTED_RENEWALS, renewals))?;
    forecasts.push(ForecastColumn::new(DERL, derl))?;
    forecasts.push(ForecastColumn::new(EXPECTED_REMAINING_PERIODS, remaining))?;
    if let (Some((value, if_renews)), Some(price)) = (value, &summary.price) {
        forecasts.push(ForecastColumn::unwritten(EXPECTED_AVG_SPEND, price.clone()))?;
        forecasts.push(ForecastColumn::new(CLV, value))?;
        forecasts.push(ForecastColumn::unwritten(CLV_IF_ALIVE, if_renews))?;
    }
    Ok(forecasts)
}
