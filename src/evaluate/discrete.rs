//! Holdout evaluation of BG/BB on discrete opportunities, the diagnostics of Fader, Hardie &
//! Shang (2010), §4: the calibration histogram of transactions against Σ P(X(n_i) = x), repeat
//! transactions per calendar period against the cohorts' expected increments of E[X(n)] (eq. 7),
//! and holdout transactions by calibration frequency and by recency against E[X(n, n + n*) |
//! x, t_x, n] (eq. 13).

use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::intervals::bounds_at_draws;
use super::measures::{FitSummary, FrequencyFit, HoldoutAccuracy};
use crate::data::discrete::{DiscreteSummary, TransactionsByPeriod};
use crate::data::period::Period;
use crate::data::summary::CustomerSummary as _;
use crate::data::transactions::from_epoch_days;
use crate::error::{ClvError, PolarsContext, Result};
use crate::fitting::{fit_bg_bb, refit_discrete};
use crate::forecast::engine::Distinct;
use crate::forecast::intervals::{DiscreteDraws, IntervalMethod, IntervalOptions, TotalInterval};
use crate::mle::FitOptions;
use crate::models::bg_bb::BgBb;

/// Customers with one value of a calibration statistic (frequency or recency), and their mean
/// holdout transactions, actual and expected.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionalMean {
    pub value: u32,
    pub customers: u64,
    pub actual: f64,
    pub expected: f64,
}

/// A holdout evaluation of BG/BB.
#[derive(Debug, Clone, Serialize)]
pub struct DiscreteEvaluation {
    pub log: String,
    pub period: Period,
    pub calibration_end: String,
    pub observation_end: String,
    pub customers: u64,
    pub fit: FitSummary,
    /// Customers by calibration transactions 0, 1, …, N (N the most opportunities a customer had).
    pub frequency_actual: Vec<u64>,
    /// Σ over customers of P(X(n_i) = x), the chi-square against `frequency_actual`.
    pub frequency: FrequencyFit,
    /// The calendar periods counted, from the one after the earliest first purchase's to the
    /// last complete one, and how many of them are in the calibration.
    pub periods: Vec<String>,
    pub calibration_periods: usize,
    /// Repeat transactions per period, actual and Σ over first-purchase cohorts of customers ·
    /// (E[X(k)] − E[X(k − 1)]), k the period's opportunity number for the cohort: what the model
    /// expects of these customers knowing only when each started (the paper's figure 3).
    pub actual_by_period: Vec<u64>,
    pub expected_by_period: Vec<f64>,
    pub holdout_transactions: u64,
    pub holdout_customers_with_purchases: u64,
    pub holdout: HoldoutAccuracy,
    pub by_frequency: Vec<ConditionalMean>,
    pub by_recency: Vec<ConditionalMean>,
    /// The holdout total and the transactions per period with their intervals, when asked for.
    pub intervals: Option<DiscreteEvaluationIntervals>,
    #[serde(skip)]
    pub expected_holdout: Vec<f64>,
}

/// The evaluation's aggregate forecasts with intervals from parameter uncertainty, BG/BB's
/// parameters drawn from its fit's normal approximation as `clv run --interval` draws them (the
/// same draws for the same seed): whether the actual holdout total lies inside is the check the
/// point forecast cannot give.
#[derive(Debug, Clone, Serialize)]
pub struct DiscreteEvaluationIntervals {
    pub level: f64,
    pub draws: usize,
    /// Where the models came from: drawn from the fit's normal approximation, or refitted to
    /// resamples of the calibration customers.
    pub method: IntervalMethod,
    /// Bootstrap refits that failed (left out).
    pub failed_refits: usize,
    /// Σ E[X(n, n + n*) | x, t_x, n] over the calibration customers.
    pub holdout_transactions: TotalInterval,
    /// Bounds of the expected repeat transactions of each period (`expected_by_period`).
    pub by_period_lo: Vec<f64>,
    pub by_period_hi: Vec<f64>,
}

/// Fits BG/BB on the calibration histories of `summary` (built with a calibration end) and
/// checks it against the holdout and the transactions of each period; with `interval`, the
/// holdout total and the transactions per period get their intervals, from parameter vectors
/// drawn from the fit's normal approximation or (`IntervalMethod::Bootstrap`) refits to
/// resamples of the calibration customers.
pub fn evaluate_discrete(
    log_name: &str,
    summary: &DiscreteSummary,
    by_period: &TransactionsByPeriod,
    options: &FitOptions,
    interval: Option<(&IntervalOptions, IntervalMethod)>,
) -> Result<DiscreteEvaluation> {
    let (holdout_x, holdout_n) = summary.holdout.as_ref().ok_or_else(|| {
        ClvError::InvalidArgument("an evaluation needs a calibration end (--calibration-end DATE)".into())
    })?;
    let histories = summary.histories()?;
    let fit = fit_bg_bb(&histories, options)?;
    let model = fit.params;

    // Per distinct (x, t_x, n, n*): E[X(n, n + n*) | x, t_x, n] and P(none of them).
    let keys = Distinct::of((0..summary.len()).map(|i| {
        [
            summary.frequency[i],
            summary.recency[i],
            summary.periods[i],
            holdout_n[i],
        ]
        .map(f64::from)
    }));
    let values: Vec<(f64, f64)> = keys.evaluate(|_, &key| {
        let [x, t_x, n, n_star] = key.map(|v| v as u32);
        (
            model.expected_transactions(n_star, x, t_x, n),
            model.probability_of_transactions(0, n_star, x, t_x, n),
        )
    });
    let of = |i: usize| values[keys.index_of[i] as usize];
    let expected_holdout: Vec<f64> = (0..summary.len()).map(|i| of(i).0).collect();
    let actual_holdout: Vec<f64> = holdout_x.iter().map(|&x| f64::from(x)).collect();
    let holdout = HoldoutAccuracy::new(
        &expected_holdout,
        &actual_holdout,
        (0..summary.len()).map(|i| 1.0 - of(i).1).sum(),
    );

    let most = summary.periods.iter().copied().max().unwrap_or(0);
    let mut frequency_actual = vec![0u64; most as usize + 1];
    for &x in &summary.frequency {
        frequency_actual[x as usize] += 1;
    }
    let mut customers_by_n: BTreeMap<u32, f64> = BTreeMap::new();
    for &n in &summary.periods {
        *customers_by_n.entry(n).or_default() += 1.0;
    }
    let expected_frequency: Vec<f64> = (0..=most)
        .map(|x| {
            customers_by_n
                .iter()
                .filter(|(&n, _)| x <= n)
                .map(|(&n, &count)| count * model.probability_of_transactions_new(x, n))
                .sum()
        })
        .collect();
    let frequency = FrequencyFit::new(expected_frequency, &frequency_actual, fit.parameter_order.len());

    let expected_per_period = expected_by_period(&model, summary, by_period);
    let intervals = match interval {
        Some((interval, method)) => {
            let drawn = match method {
                IntervalMethod::NormalApproximation => DiscreteDraws::normal(&fit, None, false, interval)?,
                IntervalMethod::Bootstrap => DiscreteDraws::bootstrap(summary.len(), interval, false, |rows| {
                    refit_discrete(summary, rows, false, options)
                })?,
            };
            let models = drawn.purchase_models();
            let customers = keys.counts();
            // Per draw: the holdout total over the distinct histories, and the periods' curve.
            let at_draws: Vec<(f64, Vec<f64>)> = models
                .par_iter()
                .map(|model| {
                    let total = keys
                        .values
                        .iter()
                        .zip(&customers)
                        .map(|(key, count)| {
                            let [x, t_x, n, n_star] = key.map(|v| v as u32);
                            count * model.expected_transactions(n_star, x, t_x, n)
                        })
                        .sum();
                    (total, expected_by_period(model, summary, by_period))
                })
                .collect();
            let ((lo, hi), (by_period_lo, by_period_hi)) =
                bounds_at_draws(&at_draws, expected_per_period.len(), interval);
            Some(DiscreteEvaluationIntervals {
                level: interval.level,
                draws: models.len(),
                method,
                failed_refits: drawn.failed_refits(),
                holdout_transactions: TotalInterval {
                    estimate: expected_holdout.iter().sum(),
                    lo,
                    hi,
                },
                by_period_lo,
                by_period_hi,
            })
        }
        None => None,
    };
    let conditional = |statistic: &[u32]| {
        let mut groups: BTreeMap<u32, (u64, f64, f64)> = BTreeMap::new();
        for (i, &value) in statistic.iter().enumerate() {
            let g = groups.entry(value).or_default();
            g.0 += 1;
            g.1 += actual_holdout[i];
            g.2 += expected_holdout[i];
        }
        groups
            .into_iter()
            .map(|(value, (customers, actual, expected))| ConditionalMean {
                value,
                customers,
                actual: actual / customers as f64,
                expected: expected / customers as f64,
            })
            .collect::<Vec<_>>()
    };
    let period = summary.period;
    Ok(DiscreteEvaluation {
        log: log_name.to_string(),
        period,
        calibration_end: from_epoch_days(summary.period_end).to_string(),
        observation_end: from_epoch_days(by_period.observation_end).to_string(),
        customers: summary.len() as u64,
        fit: FitSummary::new(&fit.map_params(|p| p.to_vec())),
        frequency_actual,
        frequency,
        periods: (by_period.first..=by_period.last_observed)
            .map(|p| period.label(p))
            .collect(),
        calibration_periods: (by_period.last_calibration - by_period.first + 1).max(0) as usize,
        actual_by_period: by_period.transactions.clone(),
        expected_by_period: expected_per_period,
        holdout_transactions: holdout_x.iter().map(|&x| u64::from(x)).sum(),
        holdout_customers_with_purchases: holdout_x.iter().filter(|&&x| x > 0).count() as u64,
        holdout,
        by_frequency: conditional(&summary.frequency),
        by_recency: conditional(&summary.recency),
        intervals,
        expected_holdout,
    })
}

/// Σ over first-purchase cohorts of customers · (E[X(k)] − E[X(k − 1)]) for each period, k the
/// period's opportunity number for the cohort (eq. 7's increments, α/(α+β) · S(k)).
fn expected_by_period(model: &BgBb, summary: &DiscreteSummary, by_period: &TransactionsByPeriod) -> Vec<f64> {
    let period = summary.period;
    let mut cohorts: BTreeMap<i32, f64> = BTreeMap::new();
    for &day in &summary.first_purchase {
        *cohorts.entry(period.index(day)).or_default() += 1.0;
    }
    let span = by_period.transactions.len() as u32;
    let cumulative: Vec<f64> = (0..=span).map(|k| model.expected_transactions_new(k)).collect();
    (0..span as i32)
        .map(|j| {
            let p = by_period.first + j;
            cohorts
                .iter()
                .filter(|(&birth, _)| birth < p)
                .map(|(&birth, &count)| {
                    let k = (p - birth) as usize;
                    count * (cumulative[k] - cumulative[k - 1])
                })
                .sum()
        })
        .collect()
}

impl DiscreteEvaluation {
    /// Per customer: the calibration history, the holdout transactions and opportunities, and
    /// BG/BB's expectation of them.
    pub fn holdout_frame(&self, summary: &DiscreteSummary) -> Result<DataFrame> {
        let ctx = || "building the holdout predictions table".to_string();
        let integers =
            |name: &str, v: &[u32]| Column::new(name.into(), v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>());
        let mut columns = vec![
            summary.customer_id.column(),
            integers("frequency", &summary.frequency),
            integers("recency", &summary.recency),
            integers("periods", &summary.periods),
        ];
        if let Some((x, n)) = &summary.holdout {
            columns.push(integers("frequency_holdout", x));
            columns.push(integers("periods_holdout", n));
        }
        columns.push(Column::new("predicted_holdout_bg_bb".into(), &self.expected_holdout));
        DataFrame::new_infer_height(columns).context(ctx)
    }
}
