//! The evaluation's aggregate forecasts with intervals from parameter uncertainty: the holdout
//! total of transactions and the cumulative repeat transactions of the calibration customers
//! (figure 3), each evaluated at every drawn (or bootstrap-refitted) model. Whether the actual
//! total lies inside is the aggregate check the point forecast cannot give.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use super::model::expected_cumulative_purchases;
use crate::data::rfm::RfmTable;
use crate::forecast::engine::Distinct;
use crate::forecast::intervals::{quantile_pair, IntervalMethod, IntervalOptions, TotalInterval};
use crate::models::PurchaseModel;

/// One model's evaluated aggregates with their intervals.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationIntervals {
    pub level: f64,
    pub method: IntervalMethod,
    /// Models the intervals were evaluated at (draws or refits).
    pub draws: usize,
    /// Σ E[Y(holdout) | x, t_x, T] over the calibration customers.
    pub holdout_transactions: TotalInterval,
    /// Bounds of the expected cumulative repeat transactions at the end of each week.
    pub cumulative_lo: Vec<f64>,
    pub cumulative_hi: Vec<f64>,
    /// Draws at which a forecast could not be evaluated (left out).
    pub failed_draws: usize,
}

/// The intervals at `models` (one per draw) of the holdout total, whose value at the estimates
/// is `holdout_estimate`, and of the cumulative curve: each acquisition-day cohort's E[X(age)]
/// at each week's end, as `evaluate_model` computes it at the estimates.
#[allow(clippy::too_many_arguments)]
pub(super) fn evaluation_intervals(
    models: &[Arc<dyn PurchaseModel>],
    (interval, method): (&IntervalOptions, IntervalMethod),
    rfm: &RfmTable,
    holdout_length: f64,
    holdout_estimate: f64,
    cohorts: &BTreeMap<i32, f64>,
    week_ends: &[f64],
    unit_days: f64,
) -> EvaluationIntervals {
    let histories = Distinct::of((0..rfm.len()).map(|i| [rfm.frequency[i], rfm.recency[i], rfm.t[i]]));
    let counts = histories.counts();
    // Per draw: the holdout total and the curve; None where something does not converge.
    let at_draws: Vec<Option<(f64, Vec<f64>)>> = models
        .par_iter()
        .map(|model| {
            let mut total = 0.0;
            for (&[x, tx, t], count) in histories.values.iter().zip(&counts) {
                total += count * model.conditional_expected_purchases(holdout_length, x, tx, t)?;
            }
            let curve = expected_cumulative_purchases(model.as_ref(), cohorts, week_ends, unit_days)?;
            Some((total, curve))
        })
        .collect();
    let failed_draws = at_draws.iter().filter(|d| d.is_none()).count();
    let evaluated: Vec<(f64, Vec<f64>)> = at_draws.into_iter().flatten().collect();
    let ((lo, hi), (cumulative_lo, cumulative_hi)) = bounds_at_draws(&evaluated, week_ends.len(), interval);
    EvaluationIntervals {
        level: interval.level,
        method,
        draws: evaluated.len(),
        holdout_transactions: TotalInterval {
            estimate: holdout_estimate,
            lo,
            hi,
        },
        cumulative_lo,
        cumulative_hi,
        failed_draws,
    }
}

/// The bounds at `interval`'s quantiles of a total and of each of the `len` points of a curve,
/// from their values at every draw (`evaluated`: the total and the curve of each).
pub(super) fn bounds_at_draws(
    evaluated: &[(f64, Vec<f64>)],
    len: usize,
    interval: &IntervalOptions,
) -> ((f64, f64), (Vec<f64>, Vec<f64>)) {
    let (q_lo, q_hi) = interval.quantiles();
    let totals: Vec<f64> = evaluated.iter().map(|(total, _)| *total).collect();
    let curve = (0..len)
        .map(|k| {
            let at_k: Vec<f64> = evaluated.iter().map(|(_, curve)| curve[k]).collect();
            quantile_pair(&at_k, q_lo, q_hi)
        })
        .unzip();
    (quantile_pair(&totals, q_lo, q_hi), curve)
}
