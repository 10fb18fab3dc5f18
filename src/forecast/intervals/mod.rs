//! Intervals from parameter uncertainty. Parameter vectors are drawn from each fitted model's
//! asymptotic normal distribution — in the scale the fit works in (ln of a positive parameter,
//! logit of a probability), with the full covariance carried there by the delta method — the
//! purchase and spend models independently; every forecast is evaluated at each draw, once per
//! distinct history as the point forecast is, and its quantiles bound the interval.
//!
//! What such an interval means: where the forecast for the *average customer with this history*
//! would lie if the parameters were known, given how well the data pin them down. It is not the
//! range of this customer's own random future (a customer buys 0, 1, 2, … times, whatever the
//! parameters).

mod at_draws;
mod continuous;
mod discrete;
mod drawn_models;
mod draws;
mod predictive;
mod quantiles;
mod retention;

use rayon::prelude::*;

pub use self::continuous::{add_parameter_intervals, add_parameter_intervals_by_group, new_customer_interval};
pub use self::discrete::{add_discrete_intervals, bg_bb_draws, DiscreteDraws};
pub use self::drawn_models::{bootstrap_refits, purchase_draws, DrawnModels, IntervalMethod};
pub use self::draws::parameter_draws;
pub use self::quantiles::{quantile, quantile_pair};
pub use self::retention::{
    add_subscriber_intervals, cohort_intervals, resampled_counts, retention_draws, retention_refits, CohortIntervals,
    CohortModels, RENEWALS,
};
use super::{
    interval_column_names, ForecastColumn, Forecasts, Interval, CHURN_PROBABILITY, EXPECTED_PURCHASES, P_ALIVE,
};
use crate::error::{ClvError, Result};

/// The prefix of the predictive interval's columns: `purchases_q05`, `purchases_q95`.
pub const PURCHASES: &str = "purchases";

/// How many draws and which interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalOptions {
    /// The interval's probability, e.g. 0.9 for the 5% and 95% quantiles.
    pub level: f64,
    pub draws: usize,
    /// Seed of the draws: the same seed gives the same intervals.
    pub seed: u64,
}

impl IntervalOptions {
    pub fn validate(&self) -> Result<()> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(ClvError::InvalidArgument(format!(
                "an interval's level is a probability between 0 and 1 (0.9 for a 90% interval), not {}",
                self.level
            )));
        }
        if self.draws < 20 {
            return Err(ClvError::InvalidArgument(format!(
                "{} draws cannot place the quantiles of an interval: use at least 20 (200 is the default)",
                self.draws
            )));
        }
        Ok(())
    }

    /// The lower and upper quantiles: (1 − level)/2 and (1 + level)/2.
    pub fn quantiles(&self) -> (f64, f64) {
        ((1.0 - self.level) / 2.0, (1.0 + self.level) / 2.0)
    }
}

/// A total over customers: at the fitted parameters, and its interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TotalInterval {
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
}

/// The intervals of the totals over all customers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AggregateIntervals {
    pub level: f64,
    pub draws: usize,
    pub expected_purchases: TotalInterval,
    pub clv: Option<TotalInterval>,
    /// A new customer's expected CLV (`new_customer`), with a spend model of finite mean.
    pub new_customer: Option<TotalInterval>,
    /// Whether each customer's own purchases got their predictive interval (`purchases_q05`,
    /// `purchases_q95`, …): not for the limiting models.
    pub predictive_intervals: bool,
    /// Forecasts that could not be evaluated at a draw (left out of its quantiles).
    pub failed_evaluations: usize,
    /// The total CLV of each group of each grouping asked for (`CustomerGroups`), in its order.
    pub group_clv: Vec<Vec<TotalInterval>>,
    /// Where the draws came from.
    pub method: IntervalMethod,
    /// Bootstrap refits that failed and were left out (`draws` counts the rest).
    pub failed_refits: usize,
}

/// A partition of the customers into groups (tiers, cohorts, …) whose totals get intervals.
#[derive(Debug, Clone, Copy)]
pub struct CustomerGroups<'a> {
    /// Each customer's group, below `groups`.
    pub of_customer: &'a [u32],
    pub groups: usize,
}

/// Adds each customer's predictive interval at `level` of a count of her own, `(lo, hi)`, as the
/// count columns `{prefix}_q05` and `{prefix}_q95` (for 90%): `purchases`, `renewals`.
pub(super) fn push_count_bounds(
    forecasts: &mut Forecasts,
    level: f64,
    prefix: &str,
    (lo, hi): (Vec<f64>, Vec<f64>),
) -> Result<()> {
    let (lo_name, hi_name) = interval_column_names(level, prefix);
    forecasts.push(ForecastColumn::counts(&lo_name, lo))?;
    forecasts.push(ForecastColumn::counts(&hi_name, hi))
}

/// Sets the intervals of P(alive), churn and E[Y] of each customer from her history's bounds
/// (`history_bounds[index_of[i]]`, in that order), at `level`.
pub(super) fn set_history_bounds(
    forecasts: &mut Forecasts,
    level: f64,
    index_of: &[u32],
    history_bounds: &[[(f64, f64); 3]],
) -> Result<()> {
    for (k, name) in [P_ALIVE, CHURN_PROBABILITY, EXPECTED_PURCHASES].into_iter().enumerate() {
        let (lo, hi) = index_of.par_iter().map(|&h| history_bounds[h as usize][k]).unzip();
        forecasts.set_interval(name, Interval { level, lo, hi })?;
    }
    Ok(())
}
