//! The models: each file holds one model's likelihood and predictions, math first.

pub mod bg_nbd;
pub mod gamma_gamma;

use rayon::prelude::*;

/// A model whose parameters are found by maximum likelihood over (weighted) customers.
///
/// The fit driver (`crate::fit`) works on this trait alone: it never sees the data layout.
pub trait Likelihood: Sync {
    /// Parameter names, in the order of every parameter vector.
    const PARAMETER_NAMES: &'static [&'static str];

    /// Total log-likelihood over all customers and its gradient with respect to the
    /// natural (positive) parameters.
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>);

    /// Number of customers the likelihood sums over.
    fn n_customers(&self) -> f64;

    /// Starting points for the optimiser, data-driven first; later ones are retries.
    fn start_points(&self) -> Vec<Vec<f64>>;
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

/// Collapses rows with identical keys into one row with a count, keeping first-seen order.
/// Customers repeat a lot (every one-time buyer of the same day has the same (x, t_x, T)),
/// so likelihoods are summed over far fewer rows.
pub(crate) fn count_distinct<const K: usize>(keys: impl Iterator<Item = [f64; K]>) -> Vec<([f64; K], f64)> {
    let mut index: std::collections::HashMap<[u64; K], usize> = std::collections::HashMap::new();
    let mut rows: Vec<([f64; K], f64)> = Vec::new();
    for key in keys {
        let bits = key.map(f64::to_bits);
        match index.get(&bits) {
            Some(&i) => rows[i].1 += 1.0,
            None => {
                index.insert(bits, rows.len());
                rows.push((key, 1.0));
            }
        }
    }
    rows
}
