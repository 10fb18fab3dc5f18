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

use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;
use statrs::distribution::Normal;

use super::continuous::discounted_purchases_if_alive;
use super::engine::Distinct;
use super::new_customer::new_customer_value;
use super::{
    interval_column_names, ForecastColumn, ForecastOptions, Forecasts, Interval, CHURN_PROBABILITY, CLV,
    EXPECTED_AVG_SPEND, EXPECTED_PURCHASES, P_ALIVE,
};
use crate::data::rfm::RfmTable;
use crate::error::{ClvError, Result};
use crate::mle::cholesky;
use crate::model_file::{FittedModels, ModelFit};

/// The prefix of the predictive interval's columns: `purchases_q05`, `purchases_q95`.
pub const PURCHASES: &str = "purchases";

/// A customer's (spend bounds, CLV bounds).
type CustomerBounds = ((f64, f64), (f64, f64));

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
}

/// A partition of the customers into groups (tiers, cohorts, …) whose totals get intervals.
#[derive(Debug, Clone, Copy)]
pub struct CustomerGroups<'a> {
    /// Each customer's group, below `groups`.
    pub of_customer: &'a [u32],
    pub groups: usize,
}

/// The interpolated quantile q of `values` (type 7, as numpy's default), NaN ignored; NaN when
/// nothing is left. Reorders `values`.
pub fn quantile(values: &mut Vec<f64>, q: f64) -> f64 {
    values.retain(|v| !v.is_nan());
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    let k = (h.floor() as usize).min(n - 1);
    let (_, &mut below, above) = values.select_nth_unstable_by(k, f64::total_cmp);
    match above.iter().copied().min_by(f64::total_cmp) {
        Some(next) => below + (h - k as f64) * (next - below),
        None => below,
    }
}

/// The interpolated quantiles `q_lo` ≤ `q_hi` of `values`, as [`quantile`] gives them (NaN
/// ignored), without reordering or copying `values`: one pass keeps only the few smallest and
/// largest values the two quantiles need (the 11 at each end for a 90% interval of 200 draws),
/// where a selection would reorder all of them, twice. Falls back to [`quantile`] for central
/// quantiles or when NaN are present.
pub fn quantile_pair(values: &[f64], q_lo: f64, q_hi: f64) -> (f64, f64) {
    // At most this many values kept at each end.
    const KEPT: usize = 32;
    let n = values.len();
    let slow = || {
        let mut copy = values.to_vec();
        (quantile(&mut copy, q_lo), quantile(&mut copy, q_hi))
    };
    if n == 0 || values.iter().any(|v| v.is_nan()) {
        return slow();
    }
    // Sorted, the quantiles need the order statistics k_lo, k_lo + 1, k_hi and k_hi + 1.
    let k_lo = (((n - 1) as f64 * q_lo).floor() as usize).min(n - 1);
    let k_hi = (((n - 1) as f64 * q_hi).floor() as usize).min(n - 1);
    let (smallest, largest) = ((k_lo + 2).min(n), n - k_hi);
    if smallest > KEPT || largest > KEPT || smallest + largest > n {
        return slow();
    }
    // low: the `smallest` least values seen, ascending; high: the `largest` greatest, descending.
    let (mut low, mut high) = ([0.0f64; KEPT], [0.0f64; KEPT]);
    let (mut low_len, mut high_len) = (0, 0);
    for &v in values {
        if low_len < smallest || v < low[low_len - 1] {
            let mut j = low_len.min(smallest - 1);
            while j > 0 && low[j - 1] > v {
                low[j] = low[j - 1];
                j -= 1;
            }
            low[j] = v;
            low_len = (low_len + 1).min(smallest);
        }
        if high_len < largest || v > high[high_len - 1] {
            let mut j = high_len.min(largest - 1);
            while j > 0 && high[j - 1] < v {
                high[j] = high[j - 1];
                j -= 1;
            }
            high[j] = v;
            high_len = (high_len + 1).min(largest);
        }
    }
    // The j-th least value: from `low` below `smallest`, else from `high` (n − 1 − j from the top).
    let order = |j: usize| match j < smallest {
        true => low[j],
        false => high[n - 1 - j],
    };
    let at = |q: f64, k: usize| {
        let h = (n - 1) as f64 * q;
        match k + 1 < n {
            true => order(k) + (h - k as f64) * (order(k + 1) - order(k)),
            false => order(k),
        }
    };
    (at(q_lo, k_lo), at(q_hi, k_hi))
}

/// `draws` parameter vectors from the normal approximation of a fit: u = ln p (logit p where
/// `is_probability`), Cov(u) = J Cov(p) J with J = diag(du/dp), u ~ N(û, Cov(u)), mapped back.
pub fn parameter_draws(
    params: &[f64],
    covariance: &[Vec<f64>],
    is_probability: &[bool],
    draws: usize,
    rng: &mut StdRng,
) -> Option<Vec<Vec<f64>>> {
    let k = params.len();
    let slope = |i: usize| match is_probability[i] {
        true => 1.0 / (params[i] * (1.0 - params[i])),
        false => 1.0 / params[i],
    };
    let cov_u: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| slope(i) * covariance[i][j] * slope(j)).collect())
        .collect();
    let l = cholesky(&cov_u)?;
    let center: Vec<f64> = (0..k)
        .map(|i| match is_probability[i] {
            true => (params[i] / (1.0 - params[i])).ln(),
            false => params[i].ln(),
        })
        .collect();
    let normal = Normal::standard();
    Some(
        (0..draws)
            .map(|_| {
                let z: Vec<f64> = (0..k)
                    .map(|_| rand::distr::Distribution::sample(&normal, rng))
                    .collect();
                (0..k)
                    .map(|i| {
                        let u = center[i] + (0..=i).map(|j| l[i][j] * z[j]).sum::<f64>();
                        match is_probability[i] {
                            true => 1.0 / (1.0 + (-u).exp()),
                            false => u.exp(),
                        }
                    })
                    .collect()
            })
            .collect(),
    )
}

fn draws_of<P>(
    fit: &ModelFit<P>,
    values: &[f64],
    probabilities: &[&str],
    draws: usize,
    rng: &mut StdRng,
    label: &str,
) -> Result<Vec<Vec<f64>>> {
    let no_intervals = |why: &str| ClvError::Model {
        model: "intervals",
        reason: format!("{label}: {why}, so its parameters' uncertainty cannot be drawn"),
    };
    let covariance = fit
        .covariance
        .as_ref()
        .ok_or_else(|| no_intervals("the fit has no covariance (its information matrix is singular)"))?;
    let is_probability: Vec<bool> = fit
        .parameter_order
        .iter()
        .map(|name| probabilities.contains(&name.as_str()))
        .collect();
    parameter_draws(values, covariance, &is_probability, draws, rng)
        .ok_or_else(|| no_intervals("its covariance is not positive definite"))
}

/// Adds intervals at `interval.level` to the forecasts `forecast` made with `models` for `rfm`
/// (p_alive, churn_probability, expected_purchases and, where they exist, expected_avg_spend and
/// clv), and each customer's predictive interval of her own purchases over the horizon
/// (`predictive_bounds`, as columns purchases_q05 and purchases_q95 for 90%); returns the
/// totals' intervals.
pub fn add_parameter_intervals(
    models: &FittedModels,
    rfm: &RfmTable,
    options: &ForecastOptions,
    interval: &IntervalOptions,
    forecasts: &mut Forecasts,
) -> Result<AggregateIntervals> {
    add_parameter_intervals_by_group(models, rfm, options, interval, forecasts, &[])
}

/// As [`add_parameter_intervals`], with the interval of the total CLV of each group of each of
/// `groupings` besides (`AggregateIntervals::group_clv`), the groups' membership fixed.
pub fn add_parameter_intervals_by_group(
    models: &FittedModels,
    rfm: &RfmTable,
    options: &ForecastOptions,
    interval: &IntervalOptions,
    forecasts: &mut Forecasts,
    groupings: &[CustomerGroups],
) -> Result<AggregateIntervals> {
    interval.validate()?;
    for grouping in groupings {
        if grouping.of_customer.len() != rfm.len()
            || grouping.of_customer.iter().any(|&g| g as usize >= grouping.groups)
        {
            return Err(ClvError::InvalidArgument(
                "a grouping of the customers for intervals must give every customer a group".into(),
            ));
        }
    }
    // Where each grouping's per-draw totals start in one flat vector: group g of grouping k at
    // draw d is at offsets[k] + g · draws + d.
    let mut offsets = vec![0usize];
    for grouping in groupings {
        offsets.push(offsets[offsets.len() - 1] + grouping.groups * interval.draws);
    }
    let mut rng = StdRng::seed_from_u64(interval.seed);
    let purchase_fit = models.purchase.erased();
    let purchase_draws = draws_of(
        &purchase_fit,
        &purchase_fit.params,
        models.purchase.probabilities(),
        interval.draws,
        &mut rng,
        models.purchase.kind().label(),
    )?;
    let purchase_models = purchase_draws
        .iter()
        .map(|v| models.purchase.with_values(v))
        .collect::<Result<Vec<_>>>()?;
    let with_value = forecasts.column(CLV).is_some();
    let spend_models = match (&models.gamma_gamma, with_value) {
        (Some(gg), true) => {
            let values = gg.fit.params.to_vec();
            let draws = draws_of(&gg.fit, &values, &[], interval.draws, &mut rng, "Gamma-Gamma")?;
            Some(draws.iter().map(|v| gg.fit.params.with_values(v)).collect::<Vec<_>>())
        }
        _ => None,
    };
    // A new customer's value at each draw: her first purchase and E[X(t)] repeat purchases at
    // the draw's mean spend.
    let new_customer = match (&spend_models, models.gamma_gamma.as_ref().and_then(|g| g.mean_spend)) {
        (Some(spend), Some(mean_spend)) => {
            let value = |purchases: &dyn crate::models::PurchaseModel, mean: Option<f64>| {
                mean.and_then(|m| new_customer_value(purchases, m, options, rfm.time_unit))
                    .map_or(f64::NAN, |v| v.clv)
            };
            let at_draws: Vec<f64> = purchase_models
                .par_iter()
                .zip(spend)
                .map(|(p, s)| value(p.as_ref(), s.mean_spend()))
                .collect();
            let estimate = value(models.purchase.model(), Some(mean_spend));
            Some((estimate, at_draws))
        }
        _ => None,
    };
    let draws = interval.draws;
    let units_per_month = rfm.time_unit.per_month();

    // As the point forecast: E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | x, T, alive],
    // the second factor and its discounted sum (where the series are) once per distinct (x, T)
    // and draw, P(alive) once per distinct history and draw; NaN where a series does not converge.
    let histories = Distinct::of((0..rfm.len()).map(|i| [rfm.frequency[i], rfm.recency[i], rfm.t[i]]));
    let pairs = Distinct::of(histories.values.iter().map(|&[x, _, t]| [x, t]));
    let if_alive: Vec<Vec<[f64; 2]>> = pairs.evaluate(|_, &[x, t]| {
        purchase_models
            .iter()
            .map(|model| {
                let expected = model
                    .expected_purchases_if_alive(options.horizon, x, t)
                    .unwrap_or(f64::NAN);
                let discounted = match with_value {
                    true => discounted_purchases_if_alive(model.as_ref(), options, units_per_month, x, t)
                        .unwrap_or(f64::NAN),
                    false => 0.0,
                };
                [expected, discounted]
            })
            .collect()
    });
    // The customers of each distinct history, contiguous: those of history h are
    // members[first[h]..first[h + 1]].
    let mut first = vec![0usize; histories.values.len() + 1];
    for &h in &histories.index_of {
        first[h as usize + 1] += 1;
    }
    for h in 0..histories.values.len() {
        first[h + 1] += first[h];
    }
    let mut members = vec![0u32; rfm.len()];
    let mut next = first.clone();
    for (i, &h) in histories.index_of.iter().enumerate() {
        members[next[h as usize]] = i as u32;
        next[h as usize] += 1;
    }
    let (q_lo, q_hi) = interval.quantiles();
    let bounds = |v: &[f64]| quantile_pair(v, q_lo, q_hi);
    let monetary = rfm.monetary_value.as_deref();
    let with_spend = spend_models.is_some() && monetary.is_some();

    // Per distinct history, in parallel: the bounds of P(alive) and E[Y], and for each of its
    // customers with a spend model the bounds of her spend and CLV; the totals per draw summed
    // alongside. Nothing customer × draw is kept (at 1M customers and 200 draws: gigabytes).
    struct Evaluated {
        histories: Vec<(usize, [(f64, f64); 2])>,
        customers: Vec<(u32, CustomerBounds)>,
        expected_totals: Vec<f64>,
        clv_totals: Vec<f64>,
        group_totals: Vec<f64>,
        failed: usize,
        // Scratch, one value per draw, reused from customer to customer.
        spends: Vec<f64>,
        clvs: Vec<f64>,
    }
    let empty = || Evaluated {
        histories: Vec::new(),
        customers: Vec::new(),
        expected_totals: vec![0.0; draws],
        clv_totals: vec![0.0; draws],
        group_totals: vec![0.0; offsets[offsets.len() - 1]],
        failed: 0,
        spends: vec![0.0; draws],
        clvs: vec![0.0; draws],
    };
    let evaluated = histories
        .values
        .par_iter()
        .enumerate()
        .fold(empty, |mut acc, (h, &[x, tx, t])| {
            let pair = &if_alive[pairs.index_of[h] as usize];
            let p_alive: Vec<f64> = purchase_models
                .iter()
                .map(|model| model.p_alive(x, tx, t).unwrap_or(f64::NAN))
                .collect();
            let expected: Vec<f64> = p_alive.iter().zip(pair).map(|(p, v)| p * v[0]).collect();
            let customers = &members[first[h]..first[h + 1]];
            let count = customers.len() as f64;
            for (total, e) in acc.expected_totals.iter_mut().zip(&expected) {
                match e.is_nan() {
                    true => acc.failed += 1,
                    false => *total += count * e,
                }
            }
            if let (true, Some(spend), Some(m)) = (with_spend, &spend_models, monetary) {
                let discounted: Vec<f64> = p_alive.iter().zip(pair).map(|(p, v)| p * v[1]).collect();
                for &i in customers {
                    for (((value, clv), s), d) in acc.spends.iter_mut().zip(&mut acc.clvs).zip(spend).zip(&discounted) {
                        *value = s
                            .conditional_expected_average_spend(x, m[i as usize])
                            .unwrap_or(f64::NAN);
                        *clv = (options.margin * *value - options.cost_per_order) * d;
                    }
                    // Customers without a CLV (an infinite expected spend) are left out of every
                    // total, as they are of the total at the estimates.
                    for (total, c) in acc.clv_totals.iter_mut().zip(&acc.clvs).filter(|(_, c)| !c.is_nan()) {
                        *total += c;
                    }
                    for (grouping, offset) in groupings.iter().zip(&offsets) {
                        let start = offset + grouping.of_customer[i as usize] as usize * draws;
                        let totals = &mut acc.group_totals[start..start + draws];
                        for (total, c) in totals.iter_mut().zip(&acc.clvs).filter(|(_, c)| !c.is_nan()) {
                            *total += c;
                        }
                    }
                    let customer_bounds = (bounds(&acc.spends), bounds(&acc.clvs));
                    acc.customers.push((i, customer_bounds));
                }
            }
            acc.histories.push((h, [bounds(&p_alive), bounds(&expected)]));
            acc
        })
        .reduce(empty, |mut a, b| {
            a.histories.extend(b.histories);
            a.customers.extend(b.customers);
            for (x, y) in a.expected_totals.iter_mut().zip(&b.expected_totals) {
                *x += y;
            }
            for (x, y) in a.clv_totals.iter_mut().zip(&b.clv_totals) {
                *x += y;
            }
            for (x, y) in a.group_totals.iter_mut().zip(&b.group_totals) {
                *x += y;
            }
            a.failed += b.failed;
            a
        });
    let Evaluated {
        histories: history_rows,
        customers: customer_rows,
        expected_totals,
        clv_totals,
        group_totals,
        failed,
        ..
    } = evaluated;
    // rayon's reduce need not keep the order: each row carries its index.
    let mut history_bounds = vec![[(f64::NAN, f64::NAN); 2]; histories.values.len()];
    for (h, b) in history_rows {
        history_bounds[h] = b;
    }
    let mut per_customer: Vec<CustomerBounds> = vec![((f64::NAN, f64::NAN), (f64::NAN, f64::NAN)); rfm.len()];
    for (i, b) in customer_rows {
        per_customer[i as usize] = b;
    }

    let of_customers =
        |pick: &dyn Fn(usize) -> (f64, f64)| -> (Vec<f64>, Vec<f64>) { (0..rfm.len()).map(pick).unzip() };
    let history_of = |i: usize| histories.index_of[i] as usize;
    let level = interval.level;
    let set = |forecasts: &mut Forecasts, name: &str, (lo, hi): (Vec<f64>, Vec<f64>)| {
        forecasts.set_interval(name, Interval { level, lo, hi })
    };
    set(forecasts, P_ALIVE, of_customers(&|i| history_bounds[history_of(i)][0]))?;
    set(
        forecasts,
        CHURN_PROBABILITY,
        of_customers(&|i| {
            let (lo, hi) = history_bounds[history_of(i)][0];
            (1.0 - hi, 1.0 - lo)
        }),
    )?;
    set(
        forecasts,
        EXPECTED_PURCHASES,
        of_customers(&|i| history_bounds[history_of(i)][1]),
    )?;
    let total = |estimate: f64, totals: Vec<f64>| {
        let (lo, hi) = bounds(&totals);
        TotalInterval { estimate, lo, hi }
    };
    let point_total = |name: &str| {
        forecasts
            .column(name)
            .map(|c| c.iter().filter(|v| !v.is_nan()).sum::<f64>())
    };
    let expected_purchases = total(point_total(EXPECTED_PURCHASES).unwrap_or(f64::NAN), expected_totals);
    let clv = match with_spend {
        true => {
            let estimate = point_total(CLV).unwrap_or(f64::NAN);
            set(forecasts, EXPECTED_AVG_SPEND, of_customers(&|i| per_customer[i].0))?;
            set(forecasts, CLV, of_customers(&|i| per_customer[i].1))?;
            Some(total(estimate, clv_totals))
        }
        false => None,
    };
    // Each group's total at the estimates, and the quantiles of its totals at the draws.
    let group_clv = match (with_spend, forecasts.column(CLV)) {
        (true, Some(point)) => groupings
            .iter()
            .zip(&offsets)
            .map(|(grouping, offset)| {
                let mut estimates = vec![0.0; grouping.groups];
                for (&g, &c) in grouping.of_customer.iter().zip(point).filter(|(_, c)| !c.is_nan()) {
                    estimates[g as usize] += c;
                }
                estimates
                    .iter()
                    .enumerate()
                    .map(|(g, &estimate)| {
                        let start = offset + g * draws;
                        let (lo, hi) = bounds(&group_totals[start..start + draws]);
                        TotalInterval { estimate, lo, hi }
                    })
                    .collect()
            })
            .collect(),
        _ => Vec::new(),
    };
    // Each customer's own purchases: the predictive distribution's quantiles, not the parameters'.
    // P(alive) at the estimates is the point forecast's: read from its column, at each history's
    // first customer.
    let p_alive_at = forecasts.require(P_ALIVE, "predictive intervals")?;
    let p_alive_of_history: Vec<f64> = (0..histories.values.len())
        .map(|h| p_alive_at[members[first[h]] as usize])
        .collect();
    let predictive = predictive_bounds(
        models,
        rfm,
        options.horizon,
        interval,
        (&histories, &pairs),
        &p_alive_of_history,
    )?;
    let predictive_intervals = predictive.is_some();
    if let Some((lo, hi)) = predictive {
        let (lo_name, hi_name) = interval_column_names(level, PURCHASES);
        forecasts.push(ForecastColumn::new(&lo_name, lo))?;
        forecasts.push(ForecastColumn::new(&hi_name, hi))?;
    }
    Ok(AggregateIntervals {
        level,
        draws,
        expected_purchases,
        clv,
        new_customer: new_customer.map(|(estimate, at_draws)| total(estimate, at_draws)),
        predictive_intervals,
        failed_evaluations: failed,
        group_clv,
    })
}

/// The lower and upper `interval.quantiles()` of each customer's own purchases over the horizon,
/// from the predictive distribution P(Y(t) = k | x, t_x, T) at the fitted parameters: the
/// smallest k whose cumulative probability reaches each quantile. `histories` and `pairs` are
/// the caller's distinct (x, t_x, T) and (x, T), `p_alive_of_history` P(alive) at each history.
/// `None` when the model has no predictive distribution (the limiting models).
fn predictive_bounds(
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
    // which depends on (x, T) only: tabulated once per distinct (x, T), to 1 − 1e-12.
    let tables: Vec<Option<Vec<f64>>> = pairs.evaluate(|_, &[x, t]| {
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for k in 0..MOST {
            total += model.probability_of_purchases_if_alive(horizon, k, x, t)?;
            cumulative.push(total);
            if total >= 1.0 - 1e-12 {
                return Some(cumulative);
            }
        }
        None
    });
    // The smallest k with P(Y ≤ k) ≥ q (within rounding).
    let quantile_of = |table: &[f64], p_alive: f64, q: f64| -> f64 {
        let target = (q - 1e-12 - (1.0 - p_alive)) / p_alive;
        table.partition_point(|&f| f < target).min(table.len() - 1) as f64
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_as_numpy_does_and_skip_nan() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.05, 0.5, 0.95]) = [1.2, 3.0, 8.8]:
        // h = 4q → 0.2 (1 + 0.2·1), 2 (3), 3.8 (4 + 0.8·6).
        let data = vec![10.0, 3.0, f64::NAN, 1.0, 4.0, 2.0];
        for (q, expected) in [(0.05, 1.2), (0.5, 3.0), (0.95, 8.8), (0.0, 1.0), (1.0, 10.0)] {
            let got = quantile(&mut data.clone(), q);
            assert!((got - expected).abs() < 1e-12, "q = {q}: {got}");
        }
        assert!(quantile(&mut vec![f64::NAN], 0.5).is_nan());
    }

    #[test]
    fn a_pair_of_quantiles_in_one_pass_equals_two_selections() {
        // Against `quantile` (itself checked against numpy above) on random values with ties, for
        // sizes from 1 to 1,000 and the levels an interval uses, including the ends.
        use rand::RngExt;
        let mut rng = StdRng::seed_from_u64(3);
        for n in [1, 2, 3, 5, 20, 21, 199, 200, 201, 1000] {
            for _ in 0..20 {
                let values: Vec<f64> = (0..n)
                    .map(|_| (rng.random::<f64>() * 50.0).round() / 7.0 - 3.0)
                    .collect();
                for (lo, hi) in [(0.05, 0.95), (0.025, 0.975), (0.005, 0.995), (0.0, 1.0), (0.25, 0.75)] {
                    let expected = (quantile(&mut values.clone(), lo), quantile(&mut values.clone(), hi));
                    assert_eq!(quantile_pair(&values, lo, hi), expected, "n = {n}, ({lo}, {hi})");
                }
            }
        }
        let with_nan = [2.0, f64::NAN, 1.0, 3.0];
        assert_eq!(quantile_pair(&with_nan, 0.0, 1.0), (1.0, 3.0));
        let (lo, hi) = quantile_pair(&[], 0.05, 0.95);
        assert!(lo.is_nan() && hi.is_nan());
    }

    #[test]
    fn draws_have_the_fits_covariance_in_the_log_scale() {
        // Two parameters, p = (2, 0.5) with Cov(p) chosen so that Cov(ln p) = [[0.04, 0.01],
        // [0.01, 0.09]]: Cov(p_i, p_j) = p_i p_j Cov(ln p)_ij. 20,000 draws recover Cov(ln p) to
        // within a few standard errors (the SE of a variance estimate is σ²·√(2/n) ≈ 0.0004 for
        // 0.04), and the mean of ln p to within 0.003.
        let p = [2.0, 0.5];
        let log_cov = [[0.04, 0.01], [0.01, 0.09]];
        let cov: Vec<Vec<f64>> = (0..2)
            .map(|i| (0..2).map(|j| p[i] * p[j] * log_cov[i][j]).collect())
            .collect();
        let n = 20_000;
        let draws = parameter_draws(&p, &cov, &[false, false], n, &mut StdRng::seed_from_u64(7)).unwrap();
        let logs: Vec<[f64; 2]> = draws.iter().map(|d| [d[0].ln(), d[1].ln()]).collect();
        let mean = |k: usize| logs.iter().map(|l| l[k]).sum::<f64>() / n as f64;
        let (m0, m1) = (mean(0), mean(1));
        assert!(
            (m0 - 2f64.ln()).abs() < 0.003 && (m1 - 0.5f64.ln()).abs() < 0.003,
            "{m0} {m1}"
        );
        let c = |a: usize, b: usize, ma: f64, mb: f64| {
            logs.iter().map(|l| (l[a] - ma) * (l[b] - mb)).sum::<f64>() / (n - 1) as f64
        };
        assert!((c(0, 0, m0, m0) - 0.04).abs() < 0.0015);
        assert!((c(1, 1, m1, m1) - 0.09).abs() < 0.003);
        assert!((c(0, 1, m0, m1) - 0.01).abs() < 0.0015);
        // A probability is drawn on the logit scale: always inside (0, 1).
        let q = parameter_draws(&[0.99], &[vec![0.0001]], &[true], 1000, &mut StdRng::seed_from_u64(1)).unwrap();
        assert!(q.iter().all(|d| d[0] > 0.0 && d[0] < 1.0));
        // A covariance that is not positive definite has no draws.
        assert!(parameter_draws(
            &p,
            &[vec![1.0, 2.0], vec![2.0, 1.0]],
            &[false, false],
            5,
            &mut StdRng::seed_from_u64(1)
        )
        .is_none());
    }
}
