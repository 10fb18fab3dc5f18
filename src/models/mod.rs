//! The models: each file holds one model's likelihood and predictions, math first.

pub mod bg_bb;
pub mod bg_family;
pub mod bg_limits;
pub mod bg_nbd;
pub mod gamma_gamma;
pub mod histories;
pub mod lifetime;
pub mod mbg_nbd;
pub mod nbd;
pub mod pareto_limits;
pub mod pareto_nbd;
pub mod purchase_rate;
pub mod sbg;
pub mod spend_limits;

use rayon::prelude::*;
use serde::Serialize;

use bg_limits::BgFamilyLimit;
use bg_nbd::BgNbdParams;
use gamma_gamma::{GammaGammaParams, SpendParams};
use mbg_nbd::MbgNbdParams;
use pareto_limits::ParetoFamilyLimit;
use pareto_nbd::ParetoNbdParams;

/// A model's parameter struct: named fields, convertible to the optimiser's vector.
pub trait Parameters: Copy + Serialize {
    fn to_vec(self) -> Vec<f64>;
}

macro_rules! parameters {
    ($($t:ty),*) => {$(
        impl Parameters for $t {
            fn to_vec(self) -> Vec<f64> {
                <$t>::to_vec(&self)
            }
        }
    )*};
}
parameters!(
    BgNbdParams,
    ParetoNbdParams,
    MbgNbdParams,
    GammaGammaParams,
    SpendParams,
    BgFamilyLimit,
    ParetoFamilyLimit,
    sbg::Retention,
    bg_bb::BgBbParams,
    bg_bb::BgBb
);

/// P(alive | x, t_x, T) = 1 / (1 + k · R(T) / R(t_x)), R(t) = (1 + t/α)^e, for the histories of
/// one x (`PurchaseModel::p_alive_ratio`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PAliveRatio {
    pub k: f64,
    pub e: f64,
    pub alpha: f64,
}

impl PAliveRatio {
    /// ln R(t) = e · ln(1 + t/α), which `exp` turns into R(t).
    pub fn ln_r(&self, t: f64) -> f64 {
        self.e * (t / self.alpha).ln_1p()
    }

    /// P(alive) from R(t_x) and R(T).
    pub fn p_alive(&self, r_t_x: f64, r_t: f64) -> f64 {
        r_t_x / (r_t_x + self.k * r_t)
    }
}

/// A fitted purchase model: the forecasts every model offers, whatever the model, for a customer
/// with x repeat purchases, the last at t_x, observed to T (the continuous non-contractual
/// summary). `None` where the model's special functions cannot be evaluated.
pub trait PurchaseModel: std::fmt::Debug + Send + Sync {
    /// P(alive | x, t_x, T).
    fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64>;

    /// `p_alive` at each of `histories` ([x, t_x, T]), into `p_alive` (NaN where it cannot be
    /// evaluated). A model may share work between neighbouring histories (sorted by x, then T),
    /// but gives exactly what `p_alive` gives.
    fn p_alive_of_histories(&self, histories: &[[f64; 3]], p_alive: &mut [f64]) {
        for (p, &[x, t_x, t]) in p_alive.iter_mut().zip(histories) {
            *p = self.p_alive(x, t_x, t).unwrap_or(f64::NAN);
        }
    }

    /// P(alive | x, t_x, T) of the histories of one x as 1 / (1 + k · R(T) / R(t_x)), with
    /// R(t) = (1 + t/α)^e, where the model has that form: `Some(PAliveRatio { k, e, alpha })`.
    /// Many histories of one x then take R once per distinct time rather than a power each
    /// (`PAliveRatio::p_alive`, to within a few units in the 13th digit of `p_alive`).
    fn p_alive_ratio(&self, _x: f64) -> Option<PAliveRatio> {
        None
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T+t].
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64>;

    /// E[Y(t) | x, T, alive at T]. Every model registered factorises E[Y(t) | x, t_x, T] as this
    /// times P(alive | x, t_x, T), and this does not depend on t_x (the forecast engine relies on
    /// both; a model for which they fail must not be registered as this summary kind).
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64>;

    /// `expected_purchases_if_alive` at each of `horizons`, into `out`. A model may share work
    /// between the horizons, but gives what `expected_purchases_if_alive` gives: to the last bit
    /// where it sums a series, to the quadrature's tolerance where it integrates (on panels the
    /// horizons share).
    fn expected_purchases_if_alive_at(&self, horizons: &[f64], x: f64, t: f64, out: &mut [Option<f64>]) {
        for (out, &horizon) in out.iter_mut().zip(horizons) {
            *out = self.expected_purchases_if_alive(horizon, x, t);
        }
    }

    /// Σ_j w_j E[Y(h_j) | x, T, alive at T] for each weight set w (over `horizons`) and each x of
    /// `xs`, all at one T, into `out[i · sets + s]` (`None` where it cannot be evaluated): the
    /// discounted purchases of a monthly CLV are the month ends' expectations weighted by the
    /// discount factors' differences. A model may share work between the x (the BG family sums
    /// one series per x for all horizons and sets); the default weighs
    /// `expected_purchases_if_alive_at`.
    fn weighted_expected_purchases_if_alive(
        &self,
        horizons: &[f64],
        weight_sets: &[&[f64]],
        t: f64,
        xs: &[f64],
        out: &mut [Option<f64>],
    ) {
        weighted_one_by_one(self, horizons, weight_sets, t, xs, out);
    }

    /// DERT of a customer alive at T with x repeat purchases, δ ∫₀^∞ e^(−δt) E[Y(t) | x, T, alive] dt
    /// at the continuous discount rate δ, where the model has it in closed form or as a series;
    /// `None` sends `forecast::dert` to its quadrature of `expected_purchases_if_alive`.
    fn dert_if_alive_in_closed_form(&self, _delta: f64, _x: f64, _t: f64) -> Option<f64> {
        None
    }

    /// E[X(t)]: expected repeat purchases of a new customer in (0, t].
    fn expected_purchases(&self, horizon: f64) -> Option<f64>;

    /// P(X(t) = n): a new customer makes n repeat purchases in (0, t].
    fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64>;

    /// P(Y(t) = 0 | x, t_x, T): no purchase in (T, T+t].
    fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64>;

    /// P(Y(t) = k | x, T, alive at T): exactly k purchases in (T, T+t] by a customer alive at T.
    /// Like `expected_purchases_if_alive` it does not depend on t_x. `None` where it is not built
    /// (the limiting models) or cannot be evaluated.
    fn probability_of_purchases_if_alive(&self, _horizon: f64, _k: u64, _x: f64, _t: f64) -> Option<f64> {
        None
    }

    /// `probability_of_purchases_if_alive` at k = 0, 1, 2, … in turn (`None` where a term cannot
    /// be evaluated), to within a few ulps of 1 per term: a model may derive each term from the
    /// one before.
    fn purchase_probabilities_if_alive<'a>(
        &'a self,
        horizon: f64,
        x: f64,
        t: f64,
    ) -> Box<dyn Iterator<Item = Option<f64>> + 'a> {
        Box::new((0..).map(move |k| self.probability_of_purchases_if_alive(horizon, k, x, t)))
    }

    /// P(Y(t) = k | x, t_x, T): exactly k purchases in (T, T+t], the predictive distribution of
    /// one customer's future: the dead's mass at 0 and P(alive) times the alive customer's.
    fn probability_of_purchases_given(&self, horizon: f64, k: u64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let p_alive = self.p_alive(x, t_x, t)?;
        let dead = if k == 0 { 1.0 - p_alive } else { 0.0 };
        Some(dead + p_alive * self.probability_of_purchases_if_alive(horizon, k, x, t)?)
    }
}

/// A model whose parameters are found by maximum likelihood over (weighted) customers.
///
/// The fit driver (`crate::mle`) works on this trait alone: it never sees the data layout.
pub trait Likelihood: Sync {
    /// Parameter names, in the order of every parameter vector.
    fn parameter_names(&self) -> &'static [&'static str];

    /// Total log-likelihood over all customers and its gradient with respect to the
    /// natural (positive) parameters.
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>);

    /// Number of customers the likelihood sums over.
    fn n_customers(&self) -> f64;

    /// The gradient and the Hessian (the matrix of second derivatives) of the total
    /// log-likelihood with respect to the natural parameters, where the model has them in closed
    /// form; `None`, the default, leaves the Hessian to central differences of the gradient
    /// (`mle::log_space_hessian`), 2k gradients for k parameters.
    fn gradient_and_hessian(&self, _params: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
        None
    }

    /// Why these data cannot identify the model, in terms of the data (checked before fitting);
    /// `None` when nothing rules a fit out.
    fn unidentifiable(&self) -> Option<String> {
        None
    }

    /// Where the penalizer centres each parameter, in the parameter's own units: 1 for a unit-free
    /// shape, the data's own time or money scale (mean T, mean spend) for a parameter measured in
    /// time or money. The penalty on ln(p/centre) then pulls the same whatever the units.
    fn penalty_centres(&self) -> Vec<f64> {
        vec![1.0; self.parameter_names().len()]
    }

    /// The mean gradient (per customer, in log-parameters) at which the L-BFGS search stops and
    /// Newton steps take over (`mle::finish`, which checks the maximum to its own tolerance). A
    /// likelihood computed by quadrature is smooth only to ~1e-13 relative, and a search asked
    /// to go below the gradient that resolves spends its line searches on rounding.
    fn search_gradient_tolerance(&self) -> f64 {
        1e-10
    }

    /// Starting points for the optimiser, data-driven first; later ones are retries.
    fn start_points(&self) -> Vec<Vec<f64>>;

    /// A systematic sample of the customers (see `sample_rows`) whose maximum lies close to this
    /// one's, for the fit to start from; `None` when the data are small enough to fit directly.
    fn warm_start_sample(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// Customers a warm-start sample keeps: a twentieth of them, at least `WARM_START_MIN` (enough
/// that its maximum is a few per cent from the full one in ln p: standard errors shrink as 1/√n)
/// and at most `WARM_START_MAX` (few enough that its fit costs little). Between 40,000 and
/// 1,000,000 customers this halves the sample a tenth kept: on 9 simulated tables of 45,000 to
/// 300,000 customers (CDNOW's parameters, a single cohort, homogeneous purchase rates or
/// dropout, Pareto/NBD's), the three purchase models and Gamma-Gamma converged to the same
/// log-likelihood, limits and warnings, parameters within 6e-7 of a tenth's sample, at most two
/// Newton steps more; the whole `clv fit` at 100,000 customers 15.9 → 14.8 ms.
fn warm_start_customers(total: f64) -> f64 {
    (total / 20.0).clamp(WARM_START_MIN, WARM_START_MAX)
}
const WARM_START_MIN: f64 = 5_000.0;
const WARM_START_MAX: f64 = 50_000.0;
/// Customers from which a fit starts from a warm-start sample; fewer are fitted directly.
const WARM_START_FROM: f64 = 40_000.0;

/// `PurchaseModel::weighted_expected_purchases_if_alive` from `expected_purchases_if_alive_at`,
/// one x at a time.
pub(crate) fn weighted_one_by_one<M: PurchaseModel + ?Sized>(
    model: &M,
    horizons: &[f64],
    weight_sets: &[&[f64]],
    t: f64,
    xs: &[f64],
    out: &mut [Option<f64>],
) {
    if weight_sets.is_empty() {
        return;
    }
    let mut each = vec![None; horizons.len()];
    for (&x, out) in xs.iter().zip(out.chunks_mut(weight_sets.len())) {
        model.expected_purchases_if_alive_at(horizons, x, t, &mut each);
        weigh(&each, weight_sets, out);
    }
}

/// Each weight set's Σ_j w_j e_j over the horizons' expectations `each`, into `out`; `None`
/// where an expectation with a weight is.
pub(crate) fn weigh(each: &[Option<f64>], weight_sets: &[&[f64]], out: &mut [Option<f64>]) {
    for (out, weights) in out.iter_mut().zip(weight_sets) {
        *out = weights
            .iter()
            .zip(each)
            .filter(|(w, _)| **w != 0.0)
            .map(|(w, e)| e.map(|e| w * e))
            .sum::<Option<f64>>();
    }
}

/// Every k-th customer, in row order, of weighted rows (distinct customer histories), k chosen
/// to keep about `warm_start_customers`: a row of w customers keeps the number of multiples of
/// k its cumulative span (W, W + w] holds, each standing for k customers. A systematic sample of
/// customers, so heavy rows (one-time buyers of one day) are kept in proportion, not by chance.
/// `None` below `WARM_START_FROM` customers.
pub(crate) fn sample_rows<R: Copy>(
    rows: &[R],
    weight: impl Fn(&R) -> f64,
    with_weight: impl Fn(R, f64) -> R,
) -> Option<Vec<R>> {
    let total: f64 = rows.iter().map(&weight).sum();
    if total < WARM_START_FROM {
        return None;
    }
    let k = (total / warm_start_customers(total)).floor();
    // Multiples of k up to the cumulative weight before the row: the last row's count after it.
    let (mut cumulative, mut before) = (0.0, 0.0);
    let sample = rows
        .iter()
        .filter_map(|row| {
            cumulative += weight(row);
            let after = (cumulative / k).floor();
            let kept = after - before;
            before = after;
            (kept > 0.0).then(|| with_weight(*row, kept * k))
        })
        .collect();
    Some(sample)
}

/// Rows per parallel work unit; the partial sums are added in a fixed order, so a fit gives
/// the same digits on every run whatever the thread scheduling.
const CHUNK_ROWS: usize = 2048;

/// Σ over rows of `term(row)` = (log-likelihood, gradient), in parallel, deterministic.
pub(crate) fn parallel_sum<R: Sync, const N: usize>(
    rows: &[R],
    term: impl Fn(&R) -> (f64, [f64; N]) + Sync,
) -> (f64, [f64; N]) {
    let partials: Vec<(f64, [f64; N])> = rows
        .par_chunks(CHUNK_ROWS)
        .map(|chunk| {
            chunk.iter().fold((0.0, [0.0; N]), |(ll, mut g), row| {
                let (l, dg) = term(row);
                for (gi, di) in g.iter_mut().zip(dg) {
                    *gi += di;
                }
                (ll + l, g)
            })
        })
        .collect();
    partials.into_iter().fold((0.0, [0.0; N]), |(ll, mut g), (l, dg)| {
        for (gi, di) in g.iter_mut().zip(dg) {
            *gi += di;
        }
        (ll + l, g)
    })
}

/// The hash map of the distinct-value tables: keys are float bit patterns, hashed with foldhash
/// (the hasher Polars already builds on), several times faster than the standard SipHash here.
pub(crate) type BitsMap<K, V> = polars::prelude::PlHashMap<K, V>;

/// Index of `value` in `values`, appended if new; `bits` is its exact identity (f64 bit patterns,
/// so that the lookup is by value without float hashing). Builds the tables of distinct values
/// the likelihoods and forecasts are computed over.
pub(crate) fn table_index<T, B: std::hash::Hash + Eq>(
    index: &mut BitsMap<B, u32>,
    values: &mut Vec<T>,
    value: T,
    bits: B,
) -> u32 {
    *index.entry(bits).or_insert_with(|| {
        values.push(value);
        (values.len() - 1) as u32
    })
}

/// Sorts keys of the data the two fits of `clv fit` build side by side (the purchase model's
/// histories, Gamma-Gamma's spends), each on a core of its own: in parallel only where the pool
/// has cores to spare beyond those two. On two cores a parallel sort only adds its own work to
/// the other core's (`clv fit`, median of 60: 14.9 ms with both sorts parallel, 14.4 ms with
/// each on its own core; at 1,000,000 customers, median of 12, 102 and 98 ms).
pub(crate) fn sort_beside_the_other_fit<T: Ord + Send>(keys: &mut [T]) {
    if rayon::current_num_threads() > 2 {
        keys.par_sort_unstable();
    } else {
        keys.sort_unstable();
    }
}

/// Collapses rows with identical keys into one row carrying the sum of their weights (a count
/// when each row is one customer), in ascending order of the keys' bit patterns (numeric order
/// for the non-negative values of a summary), whatever order the rows came in. Customers repeat
/// a lot (every one-time buyer of the same day has the same (x, t_x, T)), so likelihoods are
/// summed over far fewer rows. A parallel sort, not a hash map: at a million customers the map's
/// cache misses cost several times the sort.
pub(crate) fn count_distinct<const K: usize>(rows: impl Iterator<Item = ([f64; K], f64)>) -> Vec<([f64; K], f64)> {
    let mut keyed: Vec<([u64; K], f64)> = rows.map(|(key, weight)| (key.map(f64::to_bits), weight)).collect();
    keyed.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut distinct: Vec<([f64; K], f64)> = Vec::new();
    for (bits, weight) in keyed {
        match distinct.last_mut() {
            Some((key, total)) if key.map(f64::to_bits) == bits => *total += weight,
            _ => distinct.push((bits.map(f64::from_bits), weight)),
        }
    }
    distinct
}

/// `count_distinct` of rows of one customer each (every weight 1): the same rows, in the same
/// order, with the same counts, from the keys alone, sorted and counted run by run. Each row
/// sorted is then K·8 bytes, not K·8 + 8, and no weight is summed. (Gamma-Gamma's own data of
/// customers one by one go further: `GammaGammaData::one_by_one`.)
pub(crate) fn count_distinct_keys<const K: usize>(keys: impl Iterator<Item = [f64; K]>) -> Vec<([f64; K], f64)> {
    let mut bits: Vec<[u64; K]> = keys.map(|key| key.map(f64::to_bits)).collect();
    bits.par_sort_unstable();
    bits.chunk_by(|a, b| a == b)
        .map(|same| (same[0].map(f64::from_bits), same.len() as f64))
        .collect()
}
