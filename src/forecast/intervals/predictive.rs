//! Each customer's predictive interval of her own purchases.

use super::IntervalOptions;
use crate::data::rfm::RfmTable;
use crate::error::{ClvError, Result};
use crate::forecast::engine::Distinct;
use crate::model_file::FittedModels;

/// The lower and upper `interval.quantiles()` of each customer's own purchases over the horizon,
/// from the predictive distribution P(Y(t) = k | x, t_x, T) at the fitted parameters: the
/// smallest k whose cumulative probability reaches each quantile. `histories` and `pairs` are
/// the caller's distinct (x, t_x, T) and (x, T), `p_alive_of_history` P(alive) at each history.
/// `None` when the model has no predictive distribution (the limiting models).
pub(super) fn predictive_bounds(
    models: &FittedModels,
    rfm: &RfmTable,
    horizon: f64,
    interval: &IntervalOptions,
    (histories, pairs): (&Distinct<3>, &Distinct<2>),
    p_alive_of_history: &[f64],
) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let model = models.purchase.model();
    if rfm.is_empty()
        || model
            .probability_of_purchases_if_alive(horizon, 0, rfm.frequency[0], rfm.t[0])
            .is_none()
    {
        return Ok(None);
    }
    let (q_lo, q_hi) = interval.quantiles();
    // Far beyond any forecast here; a distribution with mass left there is not evaluable.
    const MOST: u64 = 100_000;
    // P(Y ≤ k) = 1 − P(alive) + P(alive) · F(k), F the alive customer's distribution function,
    // which depends on (x, T) only: tabulated once per distinct (x, T), to 1 − 1e-12. Where the
    // probabilities carry more rounding than that (eq. 8's Beta functions of b + x = 10⁴ lose
    // 1e-10 to the logarithms), the table ends once the terms past the mean have vanished, if
    // it then sums to 1 within 1e-8, and is divided by its sum.
    let tables: Vec<Option<Vec<f64>>> = pairs.evaluate(|_, &[x, t]| {
        // Asked only of a table whose terms have become negligible, not of every one.
        let mut mean = None;
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for (k, term) in (0..MOST).zip(model.purchase_probabilities_if_alive(horizon, x, t)) {
            let term = term?;
            total += term;
            cumulative.push(total);
            if total >= 1.0 - 1e-12 {
                return Some(cumulative);
            }
            if term <= 1e-16 * total {
                let mean = *mean.get_or_insert_with(|| {
                    model
                        .expected_purchases_if_alive(horizon, x, t)
                        .unwrap_or(f64::INFINITY)
                });
                if k as f64 > mean {
                    if (1.0 - total).abs() > 1e-8 {
                        return None;
                    }
                    cumulative.iter_mut().for_each(|c| *c /= total);
                    return Some(cumulative);
                }
            }
        }
        None
    });
    // The smallest k with P(Y ≤ k) ≥ q (within rounding).
    let quantile_of = |table: &[f64], p_alive: f64, q: f64| -> f64 {
        smallest_count_reaching(table, (q - 1e-12 - (1.0 - p_alive)) / p_alive)
    };
    let bounds: Vec<Option<(f64, f64)>> = histories.evaluate(|h, _| {
        let table = tables[pairs.index_of[h] as usize].as_deref()?;
        let p_alive = p_alive_of_history[h];
        Some((quantile_of(table, p_alive, q_lo), quantile_of(table, p_alive, q_hi)))
    });
    let mut lo = Vec::with_capacity(rfm.len());
    let mut hi = Vec::with_capacity(rfm.len());
    for (i, &h) in histories.index_of.iter().enumerate() {
        let (l, u) = bounds[h as usize].ok_or_else(|| ClvError::Model {
            model: models.purchase.kind().label(),
            reason: format!(
                "the distribution of the future purchases of customer '{}' (x = {}, t_x = {}, T = {}) could not be \
                 evaluated",
                rfm.customer_id.label(i),
                rfm.frequency[i],
                rfm.recency[i],
                rfm.t[i]
            ),
        })?;
        lo.push(l);
        hi.push(u);
    }
    Ok(Some((lo, hi)))
}

/// The smallest k whose cumulative probability `cumulative[k]` reaches `target` (the last k where
/// none does): a count's quantile from its distribution function.
pub(super) fn smallest_count_reaching(cumulative: &[f64], target: f64) -> f64 {
    cumulative
        .partition_point(|&f| f < target)
        .min(cumulative.len().saturating_sub(1)) as f64
}

/// A count's quantiles `q_lo` and `q_hi` from its distribution function `cumulative` (P(K ≤ k)
/// at k = 0, 1, …): the smallest k reaching each, within rounding (1e-12).
pub(super) fn count_quantiles(cumulative: &[f64], (q_lo, q_hi): (f64, f64)) -> (f64, f64) {
    let quantile = |q: f64| smallest_count_reaching(cumulative, q - 1e-12);
    (quantile(q_lo), quantile(q_hi))
}
