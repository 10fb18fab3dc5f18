//! Simulated transaction logs: BG/NBD purchases (Fader, Hardie & Lee 2005, section 2) or
//! Pareto/NBD purchases (Schmittlein, Morrison & Colombo 1987), and Gamma-Gamma spend (Fader &
//! Hardie 2013), for what-if studies, power checks, tests and benchmarks.
//!
//! Each customer enters on a day drawn uniformly from the acquisition window and buys then; while
//! alive she buys at Poisson rate λ ~ Gamma(r, α) per time unit. Under BG/NBD she drops out after
//! each *repeat* purchase with probability p ~ Beta(a, b) (no dropout at the first purchase, as in
//! the BG/NBD likelihood); under Pareto/NBD she leaves after an exponential lifetime of rate
//! μ ~ Gamma(s, β) from her first purchase. Every purchase's value is Gamma(p, ν) with
//! ν ~ Gamma(q, γ) per customer. Purchase times are recorded as days, so the log looks like an export.

use chrono::NaiveDate;
use polars::prelude::*;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use statrs::distribution::{Beta, Gamma};

use crate::data::transactions::epoch_days;
use crate::data::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};
use crate::models::bg_nbd::BgNbdParams;
use crate::models::gamma_gamma::GammaGammaParams;
use crate::models::pareto_nbd::ParetoNbdParams;
use crate::special::logistic;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimulationOptions {
    pub customers: usize,
    pub seed: u64,
    /// How customers buy and leave, α (and β) per `time_unit`.
    pub purchases: PurchaseProcess,
    pub spend: GammaGammaParams,
    pub time_unit: TimeUnit,
    /// Length of the whole log in days, from `start`.
    pub days: u32,
    /// Customers' first purchases fall in the first this-many days.
    pub acquisition_days: u32,
    pub start: NaiveDate,
}

impl Default for SimulationOptions {
    /// The CDNOW estimates (weeks), 78 weeks of data with a 12-week acquisition window.
    fn default() -> Self {
        Self {
            customers: 10_000,
            seed: 1,
            purchases: PurchaseProcess::BgNbd(BgNbdParams {
                r: 0.243,
                alpha: 4.414,
                a: 0.793,
                b: 2.426,
            }),
            spend: GammaGammaParams {
                p: 6.25,
                q: 3.74,
                v: 15.44,
            },
            time_unit: TimeUnit::Weeks,
            days: 546,
            acquisition_days: 84,
            start: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
        }
    }
}

/// The purchase model a log is simulated from.
#[derive(Debug, Clone, Copy)]
pub enum PurchaseProcess {
    /// Dropout with probability p ~ Beta(a, b) after each repeat purchase.
    BgNbd(BgNbdParams),
    /// An exponential lifetime of rate μ ~ Gamma(s, β) from the first purchase.
    ParetoNbd(ParetoNbdParams),
}

/// One customer's purchases as (day offset from `start`, amount).
fn customer_purchases(i: usize, o: &SimulationOptions, dists: &Distributions) -> Vec<(u32, f64)> {
    let mut rng = customer_rng(o.seed, i);
    let entry = rng.random_range(0..o.acquisition_days);
    let last_day = o.days - 1 - entry;
    let unit_days = o.time_unit.days();
    let rate = dists.rate.sample(&mut rng);
    // Exponential waiting time by inversion; 1 − U is in (0, 1].
    let exponential = |rng: &mut StdRng, rate: f64| -(1.0 - rng.random::<f64>()).ln() / rate;
    // (dropout probability after each repeat purchase, lifetime in time units)
    let (dropout, lifetime) = match &dists.leaving {
        Leaving::AfterPurchase(beta) => (beta.sample(&mut rng), f64::INFINITY),
        Leaving::Lifetime(gamma) => {
            let mu = gamma.sample(&mut rng);
            (0.0, exponential(&mut rng, mu))
        }
    };
    let value = Gamma::new(o.spend.p, dists.spend_scale.sample(&mut rng)).ok();
    let amount = |rng: &mut StdRng| value.as_ref().map_or(0.0, |g| g.sample(rng));
    let mut out = vec![(entry, amount(&mut rng))];
    let mut t = 0.0;
    loop {
        t += exponential(&mut rng, rate);
        let day = t * unit_days;
        if day > last_day as f64 || t > lifetime {
            break;
        }
        out.push((entry + day as u32, amount(&mut rng)));
        if matches!(dists.leaving, Leaving::AfterPurchase(_)) && rng.random::<f64>() < dropout {
            break;
        }
    }
    out
}

struct Distributions {
    rate: Gamma,
    leaving: Leaving,
    spend_scale: Gamma,
}

/// How customers leave: the distribution of p (BG/NBD) or of μ (Pareto/NBD).
enum Leaving {
    AfterPurchase(BetaDraws),
    Lifetime(Gamma),
}

/// Below this smaller shape a Beta is drawn through the logarithms of its gammas.
const LOG_DRAW_SHAPE: f64 = 0.1;

/// Draws of a probability ~ Beta(a, b), right at any shapes. statrs draws X/(X + Y) with
/// X ~ Gamma(a), Y ~ Gamma(b); when both shapes are small (Beta(3e-7, 7e-7): 30% of customers
/// leave at once, the rest never) both gammas underflow to 0 and the draw is 0/0, a NaN that no
/// uniform is below: nobody left. Below `LOG_DRAW_SHAPE` the gammas are drawn as logarithms,
/// ln X = ln X' + ln U / a with X' ~ Gamma(a + 1) and U uniform on (0, 1] (Stuart's theorem), and
/// X/(X + Y) = logistic(ln X − ln Y).
enum BetaDraws {
    Direct(Beta),
    InLogs { a: f64, b: f64, x: Gamma, y: Gamma },
}

impl BetaDraws {
    fn new(a: f64, b: f64) -> std::result::Result<Self, String> {
        let direct = Beta::new(a, b).map_err(|e| e.to_string())?;
        if a.min(b) >= LOG_DRAW_SHAPE {
            return Ok(Self::Direct(direct));
        }
        let gamma = |shape: f64| Gamma::new(shape + 1.0, 1.0).map_err(|e| e.to_string());
        Ok(Self::InLogs {
            a,
            b,
            x: gamma(a)?,
            y: gamma(b)?,
        })
    }

    fn sample(&self, rng: &mut StdRng) -> f64 {
        match self {
            Self::Direct(beta) => beta.sample(rng),
            Self::InLogs { a, b, x, y } => {
                let mut ln_gamma =
                    |g: &Gamma, shape: f64| g.sample(rng).ln() + (1.0 - rng.random::<f64>()).ln() / shape;
                let ln_x = ln_gamma(x, *a);
                let ln_y = ln_gamma(y, *b);
                logistic(ln_x - ln_y)
            }
        }
    }
}

/// A simulated log with columns customer_id (integer), date (Date) and amount, in customer order.
pub fn simulate(o: &SimulationOptions) -> Result<DataFrame> {
    simulate_customers(o, 0..o.customers)
}

/// The part of `simulate(o)`'s log that holds customers `range` (0-based; ids are one more), the
/// same rows as there: each customer's purchases come from her own generator. A log too large
/// for memory is written range by range (`clv simulate --partitions`).
pub fn simulate_customers(o: &SimulationOptions, range: std::ops::Range<usize>) -> Result<DataFrame> {
    check_population(o.customers, o.acquisition_days, o.days)?;
    let dist_err = |e: String| ClvError::InvalidArgument(format!("simulation parameters: {e}"));
    let ((r, alpha), leaving) = match o.purchases {
        PurchaseProcess::BgNbd(BgNbdParams { r, alpha, a, b }) => (
            (r, alpha),
            Leaving::AfterPurchase(BetaDraws::new(a, b).map_err(dist_err)?),
        ),
        PurchaseProcess::ParetoNbd(ParetoNbdParams { r, alpha, s, beta }) => (
            (r, alpha),
            Leaving::Lifetime(Gamma::new(s, beta).map_err(|e| dist_err(e.to_string()))?),
        ),
    };
    let dists = Distributions {
        rate: Gamma::new(r, alpha).map_err(|e| dist_err(e.to_string()))?,
        leaving,
        spend_scale: Gamma::new(o.spend.q, o.spend.v).map_err(|e| dist_err(e.to_string()))?,
    };
    Gamma::new(o.spend.p, 1.0).map_err(|e| dist_err(e.to_string()))?;
    let first = range.start;
    let per_customer: Vec<Vec<(u32, f64)>> = range
        .into_par_iter()
        .map(|i| customer_purchases(i, o, &dists))
        .collect();
    let start = epoch_days(o.start);
    log_frame(first, per_customer, |day| start + day as i32)
}

/// Refuses a simulation of nobody, or an acquisition window outside the log.
fn check_population(customers: usize, acquisition_days: u32, days: u32) -> Result<()> {
    if customers == 0 {
        return Err(ClvError::InvalidArgument("--customers must be at least 1".into()));
    }
    if acquisition_days == 0 || acquisition_days > days {
        return Err(ClvError::InvalidArgument(format!(
            "the acquisition window ({acquisition_days} days) must be between 1 and the log's length ({days} days)"
        )));
    }
    Ok(())
}

/// One generator per customer, seeded from (seed, customer): a log does not depend on how rayon
/// schedules the work.
fn customer_rng(seed: u64, customer: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (customer as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The log of each customer's (day, amount) purchases, `date_of(day)` days since 1970-01-01:
/// customer_id (1, 2, …), date and amount in cents, as an export would have them.
/// `first` is the index of the first customer in `per_customer`.
fn log_frame<D: Copy>(first: usize, per_customer: Vec<Vec<(D, f64)>>, date_of: impl Fn(D) -> i32) -> Result<DataFrame> {
    let rows: usize = per_customer.iter().map(Vec::len).sum();
    let (mut ids, mut dates, mut amounts) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for (i, purchases) in per_customer.iter().enumerate() {
        for &(day, amount) in purchases {
            ids.push((first + i) as u64 + 1);
            dates.push(date_of(day));
            amounts.push((amount * 100.0).round() / 100.0);
        }
    }
    let ctx = || "building the simulated log".to_string();
    let date = Column::new("date".into(), dates).cast(&DataType::Date).context(ctx)?;
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids),
        date,
        Column::new("amount".into(), amounts),
    ])
    .context(ctx)
}

/// What subscription log to simulate (sBG: Fader & Hardie 2007): each subscriber starts on a day
/// drawn uniformly from the acquisition window, on a plan drawn uniformly from `prices`, churns
/// with her own probability θ ~ Beta(gamma, delta) at each renewal, and ends on the anniversary
/// at which she does not renew; those whose end falls after the log's last day are still active.
#[derive(Debug, Clone)]
pub struct SubscriptionSimulation {
    pub subscribers: usize,
    pub seed: u64,
    pub gamma: f64,
    pub delta: f64,
    pub period: crate::data::period::Period,
    /// Price per period of each plan.
    pub prices: Vec<f64>,
    /// Length of the log in days, from `start`.
    pub days: u32,
    pub acquisition_days: u32,
    pub start: NaiveDate,
}

/// A simulated subscription log: customer_id, start, end (empty while active) and price.
pub fn simulate_subscriptions(o: &SubscriptionSimulation) -> Result<DataFrame> {
    check_population(o.subscribers, o.acquisition_days, o.days)?;
    if o.prices.is_empty() || o.prices.iter().any(|p| !(p.is_finite() && *p >= 0.0)) {
        return Err(ClvError::InvalidArgument(format!(
            "the plans' prices must be amounts ≥ 0, not {:?}",
            o.prices
        )));
    }
    let churn = BetaDraws::new(o.gamma, o.delta)
        .map_err(|e| ClvError::InvalidArgument(format!("simulation parameters gamma, delta: {e}")))?;
    let first = epoch_days(o.start);
    let last = first + o.days as i32 - 1;
    let rows: Vec<(i32, Option<i32>, f64)> = (0..o.subscribers)
        .into_par_iter()
        .map(|i| {
            let mut rng = customer_rng(o.seed, i);
            let start = first + rng.random_range(0..o.acquisition_days) as i32;
            let price = o.prices[rng.random_range(0..o.prices.len())];
            let theta: f64 = churn.sample(&mut rng);
            // Periods paid: geometric, P(T = t) = θ(1 − θ)^(t−1), by inversion (1 − U in (0, 1]).
            let u = 1.0 - rng.random::<f64>();
            let periods = 1.0 + (u.ln() / (-theta).ln_1p()).floor();
            let end = (periods < f64::from(u32::MAX))
                .then(|| o.period.after(start, periods as u32))
                .filter(|&end| end <= last);
            (start, end, price)
        })
        .collect();
    let ctx = || "building the simulated subscription log".to_string();
    let date = |name: &str, days: Vec<Option<i32>>| Column::new(name.into(), days).cast(&DataType::Date).context(ctx);
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), (1..=o.subscribers as u64).collect::<Vec<_>>()),
        date("start", rows.iter().map(|r| Some(r.0)).collect())?,
        date("end", rows.iter().map(|r| r.1).collect())?,
        Column::new("price".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
    ])
    .context(ctx)
}

/// What discrete-time log to simulate (BG/BB: Fader, Hardie & Shang 2010): each customer buys
/// first on a day drawn uniformly from the acquisition window; at each later opportunity (the
/// anniversary of that day, one per `period`) she has died before it with probability θ ~
/// Beta(gamma, delta), else buys with probability p ~ Beta(alpha, beta); each purchase is worth
/// Gamma(p, ν) with ν ~ Gamma(q, v), as in `simulate`.
#[derive(Debug, Clone)]
pub struct DiscreteSimulation {
    pub customers: usize,
    pub seed: u64,
    pub purchases: crate::models::bg_bb::BgBbParams,
    pub spend: GammaGammaParams,
    pub period: crate::data::period::Period,
    pub days: u32,
    pub acquisition_days: u32,
    pub start: NaiveDate,
}

/// A simulated discrete-time log: customer_id, date, amount.
pub fn simulate_discrete(o: &DiscreteSimulation) -> Result<DataFrame> {
    check_population(o.customers, o.acquisition_days, o.days)?;
    let dist_err = |e: String| ClvError::InvalidArgument(format!("simulation parameters: {e}"));
    let b = o.purchases;
    let buys = BetaDraws::new(b.alpha, b.beta).map_err(dist_err)?;
    let dies = BetaDraws::new(b.gamma, b.delta).map_err(dist_err)?;
    let spend_scale = Gamma::new(o.spend.q, o.spend.v).map_err(|e| dist_err(e.to_string()))?;
    Gamma::new(o.spend.p, 1.0).map_err(|e| dist_err(e.to_string()))?;
    let first = epoch_days(o.start);
    let last = first + o.days as i32 - 1;
    let per_customer: Vec<Vec<(i32, f64)>> = (0..o.customers)
        .into_par_iter()
        .map(|i| {
            let mut rng = customer_rng(o.seed, i);
            let entry = first + rng.random_range(0..o.acquisition_days) as i32;
            let (p, theta): (f64, f64) = (buys.sample(&mut rng), dies.sample(&mut rng));
            let value = Gamma::new(o.spend.p, spend_scale.sample(&mut rng)).ok();
            let amount = |rng: &mut StdRng| value.as_ref().map_or(0.0, |g| g.sample(rng));
            let mut out = vec![(entry, amount(&mut rng))];
            for k in 1.. {
                let day = o.period.after(entry, k);
                if day > last || rng.random::<f64>() < theta {
                    break;
                }
                if rng.random::<f64>() < p {
                    out.push((day, amount(&mut rng)));
                }
            }
            out
        })
        .collect();
    log_frame(0, per_customer, |day| day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_draws_with_tiny_shapes_are_the_two_point_limit_and_small_ones_have_the_betas_moments() {
        // Beta(3e-7, 7e-7): θ is (within 1e-6) 1 for 30% and 0 for 70%. 100,000 draws: the share
        // at 1 within 4 standard errors (√(0.21/10⁵) = 0.00145) of 0.3.
        let mut rng = customer_rng(7, 0);
        let tiny = BetaDraws::new(3e-7, 7e-7).unwrap();
        let draws: Vec<f64> = (0..100_000).map(|_| tiny.sample(&mut rng)).collect();
        assert!(draws.iter().all(|d| *d < 1e-6 || *d > 1.0 - 1e-6));
        let share = draws.iter().filter(|d| **d > 0.5).count() as f64 / 1e5;
        assert!((share - 0.3).abs() < 4.0 * 0.00145, "{share}");
        // Beta(0.05, 0.08), drawn in logs: mean a/(a + b) = 0.384615…, variance
        // ab/((a + b)²(a + b + 1)) = 0.004/(0.0169 · 1.13) = 0.209458…; the sample mean within 4
        // standard errors (√(0.2095/10⁵) = 0.00145), the variance within 0.005.
        let small = BetaDraws::new(0.05, 0.08).unwrap();
        assert!(matches!(small, BetaDraws::InLogs { .. }));
        let draws: Vec<f64> = (0..100_000).map(|_| small.sample(&mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / 1e5;
        let variance = draws.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / 1e5;
        assert!((mean - 0.05 / 0.13).abs() < 4.0 * 0.00145, "{mean}");
        assert!((variance - 0.004 / (0.0169 * 1.13)).abs() < 0.005, "{variance}");
        assert!(draws.iter().all(|d| d.is_finite()));
    }
}
