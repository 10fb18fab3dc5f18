//! Intervals of BG/BB's forecasts, as the continuous models' (`super`): BG/BB's parameters drawn
//! from its fit's normal approximation (the logit of a probability, the log of the rest, with
//! the full covariance), Gamma-Gamma's independently, every forecast evaluated at each draw once
//! per distinct history (a discrete summary has few) and bounded by its quantiles; and each
//! customer's predictive interval of her own transactions, from P(X(n, n + n*) = k | x, t_x, n)
//! at the estimates.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::drawn_models::{refit_resamples, spend_draws};
use super::draws::drawn_models_of;
use super::predictive::count_quantiles;
use super::quantiles::round_bound;
use super::{
    push_count_bounds, quantile_pair, set_history_bounds, AggregateIntervals, IntervalMethod, IntervalOptions,
    TotalInterval, PURCHASES,
};
use crate::data::discrete::DiscreteSummary;
use crate::data::summary::CustomerSummary as _;
use crate::error::{ClvError, Result};
use crate::forecast::discrete::{distinct_histories, DiscreteSettings};
use crate::forecast::{ForecastOptions, Forecasts, Interval, CLV, EXPECTED_AVG_SPEND, EXPECTED_PURCHASES};
use crate::model_file::{GammaGammaFit, ModelFit};
use crate::models::bg_bb::BgBb;
use crate::models::gamma_gamma::SpendParams;

/// `interval.draws` BG/BB models drawn from the fit's normal approximation (the logit of a
/// probability, the log of the rest, with the full covariance), with `rng`.
pub fn bg_bb_draws(purchase: &ModelFit<BgBb>, interval: &IntervalOptions, rng: &mut StdRng) -> Result<Vec<BgBb>> {
    drawn_models_of(
        purchase,
        &purchase.params.to_vec(),
        &BgBb::PROBABILITIES,
        (interval.draws, rng),
        "BG/BB",
        |v| purchase.params.with_values(v),
    )
}

/// The models BG/BB's forecasts are evaluated at, one per draw or bootstrap refit: BG/BB's and,
/// where CLV is forecast, Gamma-Gamma's.
pub struct DiscreteDraws {
    purchase: Vec<BgBb>,
    spend: Option<Vec<SpendParams>>,
    method: IntervalMethod,
    failed_refits: usize,
}

impl DiscreteDraws {
    /// `interval.draws` parameter vectors from the fits' normal approximation: BG/BB's, then
    /// (`with_spend`, and a spend model fitted) Gamma-Gamma's, in that order from `interval.seed`.
    pub fn normal(
        purchase: &ModelFit<BgBb>,
        gamma_gamma: Option<&GammaGammaFit>,
        with_spend: bool,
        interval: &IntervalOptions,
    ) -> Result<Self> {
        interval.validate()?;
        let mut rng = StdRng::seed_from_u64(interval.seed);
        let models = bg_bb_draws(purchase, interval, &mut rng)?;
        let spend = match (gamma_gamma, with_spend) {
            (Some(gg), true) => Some(spend_draws(gg, interval, &mut rng)?),
            _ => None,
        };
        Ok(Self {
            purchase: models,
            spend,
            method: IntervalMethod::NormalApproximation,
            failed_refits: 0,
        })
    }

    /// What `refit` finds on `interval.draws` resamples of `customers` customers (as many, drawn
    /// with replacement, given to `refit` as row numbers; each resample from its own seed). A
    /// resample whose refit fails, or lacks the spend model `with_spend` asks for, is left out
    /// and counted; when more than a tenth fail, the bootstrap is refused.
    pub fn bootstrap(
        customers: usize,
        interval: &IntervalOptions,
        with_spend: bool,
        refit: impl Fn(&[usize]) -> Result<(BgBb, Option<SpendParams>)> + Sync,
    ) -> Result<Self> {
        let (fitted, failed_refits) = refit_resamples(interval, interval.seed, "customers", |rng| {
            let rows: Vec<usize> = (0..customers).map(|_| rng.random_range(0..customers)).collect();
            let (purchase, spend) = refit(&rows)?;
            if with_spend && spend.is_none() {
                return Err(ClvError::NotConverged {
                    model: "Gamma-Gamma",
                    reason: "the spend model could not be fitted to a resample".into(),
                });
            }
            Ok((purchase, spend))
        })?;
        let spend = with_spend.then(|| fitted.iter().filter_map(|(_, s)| *s).collect());
        Ok(Self {
            purchase: fitted.into_iter().map(|(p, _)| p).collect(),
            spend,
            method: IntervalMethod::Bootstrap,
            failed_refits,
        })
    }
}

impl DiscreteDraws {
    /// BG/BB at each draw or refit.
    pub fn purchase_models(&self) -> &[BgBb] {
        &self.purchase
    }

    /// Bootstrap refits that failed (left out).
    pub fn failed_refits(&self) -> usize {
        self.failed_refits
    }
}

/// Adds intervals at `interval.level` to BG/BB's forecasts `forecasts` of `summary` (p_alive,
/// churn_probability, expected_purchases and, with spend models drawn, expected_avg_spend and
/// clv), evaluated at the models `drawn`, and each customer's predictive interval of her own
/// transactions over the horizon at the fitted `purchase` (columns purchases_q05 and
/// purchases_q95 for 90%); returns the totals' intervals.
pub fn add_discrete_intervals(
    purchase: &ModelFit<BgBb>,
    drawn: &DiscreteDraws,
    summary: &DiscreteSummary,
    options: &ForecastOptions,
    interval: &IntervalOptions,
    forecasts: &mut Forecasts,
) -> Result<AggregateIntervals> {
    interval.validate()?;
    let models = &drawn.purchase;
    let draws = models.len();
    let spend = match (&drawn.spend, summary.monetary_value.as_deref(), forecasts.column(CLV)) {
        (Some(spend), Some(monetary), Some(_)) => Some((spend, monetary)),
        _ => None,
    };
    let settings = DiscreteSettings::new(options, summary.period);
    let distinct = distinct_histories(summary);
    // Each history's (P(alive), expected transactions, discounted transactions) at each draw,
    // every history at once per draw (they share its tables).
    let keys: Vec<[u32; 3]> = distinct.values.iter().map(|h| h.map(|v| v as u32)).collect();
    let by_draw: Vec<Vec<[f64; 3]>> = models
        .par_iter()
        .map(|model| settings.forecasts_of_histories(model, &keys))
        .collect();
    let at_draws: Vec<Vec<[f64; 3]>> = (0..keys.len())
        .map(|h| by_draw.iter().map(|values| values[h]).collect())
        .collect();
    let failed_evaluations = at_draws
        .iter()
        .flatten()
        .filter(|v| v.iter().any(|x| !x.is_finite()))
        .count();
    let (q_lo, q_hi) = interval.quantiles();
    let bounds = |values: &[f64]| quantile_pair(values, q_lo, q_hi);
    // Per-customer bounds to six significant digits, rounded outward, as the continuous models'.
    let outward = |(lo, hi): (f64, f64)| (round_bound(lo, false), round_bound(hi, true));
    let column = |h: usize, k: usize| -> Vec<f64> { at_draws[h].iter().map(|v| v[k]).collect() };
    // Each history's bounds of P(alive), churn and expected transactions.
    let history_bounds: Vec<[(f64, f64); 3]> = (0..distinct.values.len())
        .into_par_iter()
        .map(|h| {
            let (alive_lo, alive_hi) = bounds(&column(h, 0));
            [
                outward((alive_lo, alive_hi)),
                outward((1.0 - alive_hi, 1.0 - alive_lo)),
                outward(bounds(&column(h, 1))),
            ]
        })
        .collect();
    let history_of = |i: usize| distinct.index_of[i] as usize;
    let level = interval.level;
    let set = |forecasts: &mut Forecasts, name: &str, (lo, hi): (Vec<f64>, Vec<f64>)| {
        forecasts.set_interval(name, Interval { level, lo, hi })
    };
    set_history_bounds(forecasts, level, &distinct.index_of, &history_bounds)?;
    // The totals at each draw: expected transactions of all customers, and their CLV.
    let mut customers_of_history = vec![0.0; distinct.values.len()];
    for &h in &distinct.index_of {
        customers_of_history[h as usize] += 1.0;
    }
    // A forecast that could not be evaluated at a draw is left out of that draw's total.
    let mut expected_totals = vec![0.0; draws];
    for (values, count) in at_draws.iter().zip(&customers_of_history) {
        for (total, v) in expected_totals.iter_mut().zip(values).filter(|(_, v)| v[1].is_finite()) {
            *total += count * v[1];
        }
    }
    let point_total = |forecasts: &Forecasts, name: &str| {
        forecasts
            .column(name)
            .map_or(f64::NAN, |c| c.iter().filter(|v| !v.is_nan()).sum::<f64>())
    };
    let total = |estimate: f64, totals: &[f64]| {
        let (lo, hi) = bounds(totals);
        TotalInterval { estimate, lo, hi }
    };
    let expected_purchases = total(point_total(forecasts, EXPECTED_PURCHASES), &expected_totals);
    let clv = match spend {
        Some((spend_models, monetary)) => {
            // Each customer's spend and CLV at each draw (value per transaction times the
            // discounted transactions); the CLV totals summed alongside, NaN left out.
            let (margin, cost) = (options.margin, options.cost_per_order);
            let (per_customer, clv_totals) = (0..summary.len())
                .into_par_iter()
                .fold(
                    || (Vec::new(), vec![0.0; draws]),
                    |(mut rows, mut totals), i| {
                        let x = f64::from(summary.frequency[i]);
                        let spends: Vec<f64> = spend_models
                            .iter()
                            .map(|s| s.conditional_expected_average_spend(x, monetary[i]).unwrap_or(f64::NAN))
                            .collect();
                        let clvs: Vec<f64> = spends
                            .iter()
                            .zip(&at_draws[history_of(i)])
                            .map(|(s, v)| (margin * s - cost) * v[2])
                            .collect();
                        for (t, c) in totals.iter_mut().zip(&clvs).filter(|(_, c)| c.is_finite()) {
                            *t += c;
                        }
                        rows.push((i, outward(bounds(&spends)), outward(bounds(&clvs))));
                        (rows, totals)
                    },
                )
                .reduce(
                    || (Vec::new(), vec![0.0; draws]),
                    |(mut rows, mut totals), (more, other)| {
                        rows.extend(more);
                        totals.iter_mut().zip(other).for_each(|(t, o)| *t += o);
                        (rows, totals)
                    },
                );
            let mut spend_bounds = vec![(f64::NAN, f64::NAN); summary.len()];
            let mut clv_bounds = vec![(f64::NAN, f64::NAN); summary.len()];
            for (i, s, c) in per_customer {
                (spend_bounds[i], clv_bounds[i]) = (s, c);
            }
            set(forecasts, EXPECTED_AVG_SPEND, spend_bounds.into_iter().unzip())?;
            set(forecasts, CLV, clv_bounds.into_iter().unzip())?;
            Some(total(point_total(forecasts, CLV), &clv_totals))
        }
        None => None,
    };
    // Each customer's own transactions: the quantiles of their distribution at the estimates.
    let model = &purchase.params;
    let horizon = settings.horizon;
    let predictive: Vec<(f64, f64)> = distinct.evaluate(|_, &[x, t_x, n]| {
        let (x, t_x, n) = (x as u32, t_x as u32, n as u32);
        // P(X ≤ k) for k = 0, 1, … until it reaches the upper quantile (or k = n*); the smallest
        // k with P(X ≤ k) ≥ q (within rounding) for each quantile.
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for k in 0..=horizon {
            total += model.probability_of_transactions(k, horizon, x, t_x, n);
            cumulative.push(total);
            if total >= q_hi - 1e-12 {
                break;
            }
        }
        count_quantiles(&cumulative, (q_lo, q_hi))
    });
    let bounds = (0..summary.len()).map(|i| predictive[history_of(i)]).unzip();
    push_count_bounds(forecasts, level, PURCHASES, bounds)?;
    Ok(AggregateIntervals {
        level,
        draws,
        expected_purchases,
        clv,
        new_customer: None,
        predictive_intervals: true,
        failed_evaluations,
        group_clv: Vec::new(),
        method: drawn.method,
        failed_refits: drawn.failed_refits,
    })
}
