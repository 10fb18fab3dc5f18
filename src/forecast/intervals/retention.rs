//! Intervals of the sBG retention model's forecasts (`clv retention --interval`): each cohort's
//! parameters drawn from its fit's normal approximation (the logarithms of γ and δ, the logit of
//! θ or π at a limit, with their covariance) or refitted to resamples of its subscribers
//! (`--bootstrap`), and every forecast evaluated at each: the projected survival and retention,
//! the value of the base and a new subscriber's, and each subscriber's renewal probability,
//! renewals, DERL and CLV. Each subscriber's own renewals over the horizon get their predictive
//! interval besides, from her remaining lifetime's distribution at the estimates.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::drawn_models::refit_resamples;
use super::draws::drawn_models_of;
use super::predictive::count_quantiles;
use super::quantiles::round_bound;
use super::{
    push_count_bounds, quantile_pair, AggregateIntervals, CustomerGroups, IntervalMethod, IntervalOptions,
    TotalInterval,
};
use crate::data::contractual::ContractualSummary;
use crate::error::{ClvError, Result};
use crate::forecast::engine::Distinct;
use crate::forecast::retention::{RetentionOptions, DERL, EXPECTED_RENEWALS};
use crate::forecast::{Forecasts, Interval};
use crate::forecast::{CHURN_PROBABILITY, CLV, EXPECTED_PURCHASES, P_ALIVE};
use crate::model_file::ModelFit;
use crate::models::histories::{SurvivalHistories, SurvivalRow};
use crate::models::sbg::Retention;

/// The prefix of the predictive interval's columns: `renewals_q05`, `renewals_q95`.
pub const RENEWALS: &str = "renewals";

/// The sBG models of one cohort at which its forecasts are evaluated, one per draw or refit.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortModels {
    pub models: Vec<Retention>,
    pub method: IntervalMethod,
    /// Bootstrap refits that failed (left out).
    pub failed_refits: usize,
}

/// The seed of cohort `cohort`'s draws: cohorts get independent streams from one `--interval-seed`.
fn cohort_seed(interval: &IntervalOptions, cohort: u32) -> u64 {
    interval
        .seed
        .wrapping_add(u64::from(cohort).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// `interval.draws` sBG models of cohort number `cohort`, named `name`, drawn from `fit`'s normal
/// approximation (the log of γ and δ, the logit of θ or π).
pub fn retention_draws(
    fit: &ModelFit<Retention>,
    (cohort, name): (u32, &str),
    interval: &IntervalOptions,
) -> Result<CohortModels> {
    interval.validate()?;
    let mut rng = StdRng::seed_from_u64(cohort_seed(interval, cohort));
    let models = drawn_models_of(
        fit,
        &fit.params.to_vec(),
        &Retention::PROBABILITIES,
        (interval.draws, &mut rng),
        &format!("sBG, cohort '{name}'"),
        |v| fit.params.with_values(v),
    )?;
    Ok(CohortModels {
        models,
        method: IntervalMethod::NormalApproximation,
        failed_refits: 0,
    })
}

/// How many of each of `weights`' rows a resample of as many customers holds (round(Σ weights)
/// drawn with replacement, each row with probability proportional to its weight).
pub fn resampled_counts(weights: &[f64], rng: &mut StdRng) -> Vec<f64> {
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut total = 0.0;
    for w in weights {
        total += w;
        cumulative.push(total);
    }
    let mut counts = vec![0.0; weights.len()];
    if weights.is_empty() || total <= 0.0 {
        return counts;
    }
    let n = total.round().max(1.0) as u64;
    for _ in 0..n {
        let u = rng.random::<f64>() * total;
        let row = cumulative.partition_point(|&c| c <= u).min(weights.len() - 1);
        counts[row] += 1.0;
    }
    counts
}

/// The sBG models `fit` finds on `interval.draws` resamples of cohort `cohort`'s subscribers in
/// `histories` (as many, drawn with replacement; each resample from its own seed). A resample
/// whose fit fails is left out and counted; when more than a tenth fail, the bootstrap is
/// refused with the first failure's message.
pub fn retention_refits(
    histories: &SurvivalHistories,
    cohort: u32,
    interval: &IntervalOptions,
    fit: impl Fn(&SurvivalHistories) -> Result<Retention> + Sync,
) -> Result<CohortModels> {
    let rows: Vec<SurvivalRow> = histories
        .rows()
        .iter()
        .filter(|r| r.cohort == cohort)
        .copied()
        .collect();
    let weights: Vec<f64> = rows.iter().map(|r| r.weight).collect();
    let (models, failed_refits) = refit_resamples(interval, cohort_seed(interval, cohort), "subscribers", |rng| {
        let counts = resampled_counts(&weights, rng);
        let resample = rows
            .iter()
            .zip(&counts)
            .filter(|(_, &count)| count > 0.0)
            .map(|(row, &count)| SurvivalRow { weight: count, ..*row });
        let resampled =
            SurvivalHistories::from_rows(histories.cohorts().to_vec(), resample).map_err(|(row, why)| {
                ClvError::Model {
                    model: "bootstrap",
                    reason: format!("a resampled history (row {row}) is not one: {why}"),
                }
            })?;
        fit(&resampled)
    })?;
    Ok(CohortModels {
        models,
        method: IntervalMethod::Bootstrap,
        failed_refits,
    })
}

/// A cohort's projection and value with their intervals.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortIntervals {
    pub level: f64,
    /// Draws (or refits) the quantiles are taken over.
    pub draws: usize,
    pub method: IntervalMethod,
    pub failed_refits: usize,
    /// Projected survival S(t), t = 0, 1, …: (lower, upper).
    pub survival: Vec<(f64, f64)>,
    /// Projected retention rate r(t), none at t = 0.
    pub retention: Vec<Option<(f64, f64)>>,
    /// The value of the base: the discounted payments still to come from the active subscribers.
    pub value: TotalInterval,
    /// A new subscriber's discounted expected lifetime, times the mean value of a payment.
    pub new_subscriber: Option<TotalInterval>,
}

/// The intervals of a cohort's forecasts at `drawn`: survival and retention for periods
/// 0..=`last`, the value of its base from `groups` (renewals made, weight in value per payment)
/// at `discount` per period, and a new subscriber's value at `unit` per payment; `estimate`
/// gives the point values of the last two.
pub fn cohort_intervals(
    drawn: &CohortModels,
    last: u32,
    (groups, unit, discount): (&[(u32, f64)], f64, f64),
    estimate: (f64, f64),
    interval: &IntervalOptions,
) -> CohortIntervals {
    let (q_lo, q_hi) = interval.quantiles();
    let models = &drawn.models;
    let bounds = |values: Vec<f64>| quantile_pair(&values, q_lo, q_hi);
    let survival = (0..=last)
        .map(|t| bounds(models.iter().map(|m| m.survival(f64::from(t))).collect()))
        .collect();
    let retention = (0..=last)
        .map(|t| (t > 0).then(|| bounds(models.iter().map(|m| m.retention_rate(f64::from(t))).collect())))
        .collect();
    // A draw where a series did not converge is left out of the quantiles (NaN).
    let values: Vec<f64> = models
        .iter()
        .map(|m| {
            groups
                .iter()
                .map(|&(renewals, weight)| {
                    weight
                        * m.discounted_residual_lifetime(f64::from(renewals), discount)
                            .unwrap_or(f64::NAN)
                })
                .sum()
        })
        .collect();
    let (lo, hi) = bounds(values);
    let value = TotalInterval {
        estimate: estimate.0,
        lo,
        hi,
    };
    let new: Vec<f64> = models
        .iter()
        .map(|m| {
            m.discounted_expected_lifetime(discount)
                .map_or(f64::NAN, |del| del * unit)
        })
        .collect();
    let (lo, hi) = bounds(new);
    let new_subscriber = estimate.1.is_finite().then_some(TotalInterval {
        estimate: estimate.1,
        lo,
        hi,
    });
    CohortIntervals {
        level: interval.level,
        draws: models.len(),
        method: drawn.method,
        failed_refits: drawn.failed_refits,
        survival,
        retention,
        value,
        new_subscriber,
    }
}

/// Adds intervals at `interval.level` to the subscriber forecasts `forecasts` of `summary`
/// (p_alive, churn_probability, expected_renewals, derl and, with prices, clv), evaluated at each
/// cohort's models `drawn[k]` (cohort k of `cohorts`), and each subscriber's predictive interval
/// of her own renewals over the horizon (renewals_q05 and renewals_q95 for 90%) from `models`,
/// the fitted ones; returns the totals' intervals, and the total CLV of each group of each of
/// `groupings` (their membership fixed).
pub fn add_subscriber_intervals(
    summary: &ContractualSummary,
    (cohorts, models, drawn): (&[String], &[Retention], &[CohortModels]),
    options: &RetentionOptions,
    interval: &IntervalOptions,
    forecasts: &mut Forecasts,
    groupings: &[CustomerGroups],
) -> Result<AggregateIntervals> {
    interval.validate()?;
    let n = summary.duration.len();
    let (q_lo, q_hi) = interval.quantiles();
    let draws = drawn.iter().map(|d| d.models.len()).min().unwrap_or(0);
    if draws == 0 || drawn.len() < models.len() {
        return Err(ClvError::Model {
            model: "intervals",
            reason: "sBG: no drawn models to evaluate the forecasts at".into(),
        });
    }
    let keys: Vec<[f64; 3]> = (0..n)
        .map(|i| {
            let name = summary.cohort_name(i);
            let k = cohorts
                .iter()
                .position(|c| c == name)
                .filter(|&k| k < models.len())
                .ok_or_else(|| ClvError::InvalidArgument(format!("no retention model for cohort '{name}'")))?;
            Ok([
                k as f64,
                f64::from(summary.duration[i]),
                f64::from(u8::from(summary.churned[i])),
            ])
        })
        .collect::<Result<_>>()?;
    let distinct = Distinct::of(keys.into_iter());
    let horizon = options.horizon;
    // Each distinct (cohort, renewals, churned): (renewal probability, expected renewals, DERL)
    // at each draw; zero for a churned subscriber, NaN where DERL's series did not converge.
    let at_draws: Vec<Vec<[f64; 3]>> = distinct.evaluate(|_, &[k, renewals, churned]| {
        let drawn = &drawn[k as usize].models[..draws];
        drawn
            .iter()
            .map(|m| match churned == 1.0 {
                true => [0.0; 3],
                false => [
                    m.renewal_probability(renewals),
                    m.expected_renewals_within(renewals, horizon),
                    m.discounted_residual_lifetime(renewals, options.discount_per_period)
                        .unwrap_or(f64::NAN),
                ],
            })
            .collect()
    });
    let failed_evaluations = at_draws.iter().flatten().filter(|v| v[2].is_nan()).count();
    let outward = |(lo, hi): (f64, f64)| (round_bound(lo, false), round_bound(hi, true));
    // Each history's bounds, as computed; each column's rounded outward once it is what it shows.
    let history_bounds: Vec<[(f64, f64); 3]> = at_draws
        .par_iter()
        .map(|values| {
            std::array::from_fn(|j| quantile_pair(&values.iter().map(|v| v[j]).collect::<Vec<_>>(), q_lo, q_hi))
        })
        .collect();
    let of = |i: usize| distinct.index_of[i] as usize;
    let level = interval.level;
    let column = |j: usize, map: &dyn Fn(usize, (f64, f64)) -> (f64, f64)| -> (Vec<f64>, Vec<f64>) {
        (0..n).map(|i| outward(map(i, history_bounds[of(i)][j]))).unzip()
    };
    let same = |_: usize, b: (f64, f64)| b;
    let set = |forecasts: &mut Forecasts, name: &str, (lo, hi): (Vec<f64>, Vec<f64>)| {
        forecasts.set_interval(name, Interval { level, lo, hi })
    };
    set(forecasts, P_ALIVE, column(0, &same))?;
    set(
        forecasts,
        CHURN_PROBABILITY,
        column(0, &|_, (lo, hi)| (1.0 - hi, 1.0 - lo)),
    )?;
    set(forecasts, EXPECTED_RENEWALS, column(1, &same))?;
    set(forecasts, EXPECTED_PURCHASES, column(1, &same))?;
    set(forecasts, DERL, column(2, &same))?;
    // Totals at each draw: renewals, and CLV (margin × price × DERL) overall and per group.
    let price = summary.price.as_deref();
    let mut renewals_totals = vec![0.0; draws];
    let mut clv_totals = vec![0.0; draws];
    let mut group_totals: Vec<Vec<Vec<f64>>> = groupings.iter().map(|g| vec![vec![0.0; draws]; g.groups]).collect();
    for i in 0..n {
        let values = &at_draws[of(i)];
        for (total, v) in renewals_totals.iter_mut().zip(values) {
            *total += v[1];
        }
        if let Some(price) = price {
            let per_payment = options.margin * price[i];
            for (d, v) in values.iter().enumerate() {
                let clv = per_payment * v[2];
                clv_totals[d] += clv;
                for (grouping, totals) in groupings.iter().zip(group_totals.iter_mut()) {
                    if let Some(group) = totals.get_mut(grouping.of_customer[i] as usize) {
                        group[d] += clv;
                    }
                }
            }
        }
    }
    let point_total =
        |forecasts: &Forecasts, name: &str| forecasts.column(name).map_or(f64::NAN, |c| c.iter().sum::<f64>());
    let total = |estimate: f64, totals: &[f64]| {
        let (lo, hi) = quantile_pair(totals, q_lo, q_hi);
        TotalInterval { estimate, lo, hi }
    };
    let expected_purchases = total(point_total(forecasts, EXPECTED_RENEWALS), &renewals_totals);
    let clv = match price {
        Some(price) => {
            let bounds = column(2, &|i, (lo, hi)| {
                let per_payment = options.margin * price[i];
                (per_payment * lo, per_payment * hi)
            });
            set(forecasts, CLV, bounds)?;
            Some(total(point_total(forecasts, CLV), &clv_totals))
        }
        None => None,
    };
    // Each group's total CLV at the estimates and its interval.
    let group_clv = match forecasts.column(CLV) {
        Some(point) => groupings
            .iter()
            .zip(&group_totals)
            .map(|(grouping, totals)| {
                let mut estimates = vec![0.0; grouping.groups];
                for (i, v) in point.iter().enumerate() {
                    if let Some(e) = estimates.get_mut(grouping.of_customer[i] as usize) {
                        *e += v;
                    }
                }
                estimates.iter().zip(totals).map(|(&e, t)| total(e, t)).collect()
            })
            .collect(),
        None => Vec::new(),
    };
    // Each subscriber's own renewals over the horizon: P(K ≥ k) = S(n + k)/S(n) for an active
    // subscriber with n renewals, so P(K ≤ k) = 1 − Π_{j=1..k+1} r(n + j) for k < H.
    let predictive: Vec<(f64, f64)> = distinct.evaluate(|_, &[k, renewals, churned]| {
        if churned == 1.0 {
            return (0.0, 0.0);
        }
        let model = &models[k as usize];
        let mut cumulative = Vec::with_capacity(horizon as usize + 1);
        let mut still = 1.0;
        for j in 1..=horizon {
            still *= model.retention_rate(renewals + f64::from(j));
            cumulative.push(1.0 - still);
        }
        cumulative.push(1.0);
        count_quantiles(&cumulative, (q_lo, q_hi))
    });
    push_count_bounds(forecasts, level, RENEWALS, (0..n).map(|i| predictive[of(i)]).unzip())?;
    let method = drawn.first().map_or(IntervalMethod::NormalApproximation, |d| d.method);
    Ok(AggregateIntervals {
        level,
        draws,
        expected_purchases,
        clv,
        new_customer: None,
        predictive_intervals: true,
        failed_evaluations,
        group_clv,
        method,
        failed_refits: drawn.iter().map(|d| d.failed_refits).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resample_holds_as_many_customers_in_proportion_to_the_weights() {
        // 10,000 customers in rows of 5,000, 3,000, 1,999 and 1: a resample holds 10,000, and
        // each row's count is Binomial(10,000, w/10,000): within 4 standard deviations
        // (sqrt(10,000 · 0.5 · 0.5) = 50 for the first) of its weight.
        let weights = [5000.0, 3000.0, 1999.0, 1.0];
        let counts = resampled_counts(&weights, &mut StdRng::seed_from_u64(3));
        assert_eq!(counts.iter().sum::<f64>(), 10_000.0);
        for (count, w) in counts.iter().zip(weights) {
            let p = w / 10_000.0;
            let sd = (10_000.0 * p * (1.0 - p)).sqrt();
            assert!((count - w).abs() <= 4.0 * sd.max(1.0), "{count} for {w}");
        }
        // The same seed, the same resample; nothing to draw from, nothing drawn.
        assert_eq!(counts, resampled_counts(&weights, &mut StdRng::seed_from_u64(3)));
        assert!(resampled_counts(&[], &mut StdRng::seed_from_u64(3)).is_empty());
    }

    #[test]
    fn a_drawn_vector_describes_a_model_of_the_fits_form_or_none() {
        let beta = Retention::Beta { gamma: 0.7, delta: 1.2 };
        assert_eq!(
            beta.with_values(&[0.5, 2.0]),
            Some(Retention::Beta { gamma: 0.5, delta: 2.0 })
        );
        assert_eq!(beta.with_values(&[0.5]), None);
        assert_eq!(beta.with_values(&[0.5, -1.0]), None);
        let split = Retention::Split { pi: 0.3 };
        assert_eq!(split.with_values(&[0.2]), Some(Retention::Split { pi: 0.2 }));
        assert_eq!(Retention::Common { theta: 0.2 }.with_values(&[1.0]), None);
    }
}
