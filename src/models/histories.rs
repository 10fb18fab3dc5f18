//! Customer histories, the summaries the models are fitted on, as weighted tables of distinct
//! histories: customers repeat a lot (every one-time buyer of the same day has the same
//! (x, t_x, T)), so a likelihood sums over far fewer rows than customers, and a table built
//! elsewhere (a warehouse's GROUP BY, a sample) plugs in with its counts.

use super::{count_distinct, parallel_sum, sample_rows, table_index, BitsMap};

/// The continuous non-contractual summary as every purchase model fits it: the distinct
/// (x, t_x, T) rows with the number of customers in each (a weighted table), stored as indices
/// into tables of the distinct x, t_x and T values. A likelihood evaluation can then take ln Γ, ψ
/// and the logarithms once per distinct value (at daily resolution t_x and T take at most as many
/// values as the log has days, x a few hundred) and per row only one exp and one log1p
/// (`bg_family::family_total`); `weighted_sum` sums any per-customer term over the rows.
#[derive(Debug, Clone)]
pub struct Histories {
    pub(crate) xs: Vec<f64>,
    pub(crate) recencies: Vec<f64>,
    pub(crate) ages: Vec<f64>,
    pub(crate) rows: Vec<IndexedRow>,
    n_customers: f64,
    mean_frequency: f64,
    mean_t: f64,
}

/// One distinct (x, t_x, T): indices into `Histories`' value tables, and the customers in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexedRow {
    pub(crate) x: u32,
    pub(crate) recency: u32,
    pub(crate) age: u32,
    pub(crate) weight: f64,
}

impl Histories {
    /// From per-customer frequency (x), recency (t_x) and age (T), all validated upstream.
    pub fn new(frequency: &[f64], recency: &[f64], age: &[f64]) -> Self {
        let n = frequency.len() as f64;
        let distinct = count_distinct(frequency.iter().zip(recency).zip(age).map(|((&x, &tx), &t)| [x, tx, t]));
        let (mut xs, mut recencies, mut ages) = (Vec::new(), Vec::new(), Vec::new());
        let (mut x_index, mut recency_index, mut age_index) =
            (BitsMap::default(), BitsMap::default(), BitsMap::default());
        let rows = distinct
            .into_iter()
            .map(|([x, tx, t], weight)| IndexedRow {
                x: table_index(&mut x_index, &mut xs, x, x.to_bits()),
                recency: table_index(&mut recency_index, &mut recencies, tx, tx.to_bits()),
                age: table_index(&mut age_index, &mut ages, t, t.to_bits()),
                weight,
            })
            .collect();
        Self {
            xs,
            recencies,
            ages,
            rows,
            n_customers: n,
            mean_frequency: frequency.iter().sum::<f64>() / n.max(1.0),
            mean_t: age.iter().sum::<f64>() / n.max(1.0),
        }
    }

    /// Σ over customers of a per-customer (log-likelihood, gradient), over the distinct rows.
    pub(crate) fn weighted_sum<const N: usize>(
        &self,
        term: impl Fn(f64, f64, f64) -> (f64, [f64; N]) + Sync,
    ) -> (f64, Vec<f64>) {
        let (ll, grad) = parallel_sum(&self.rows, |row| {
            let (l, g) = term(
                self.xs[row.x as usize],
                self.recencies[row.recency as usize],
                self.ages[row.age as usize],
            );
            (row.weight * l, g.map(|gi| row.weight * gi))
        });
        (ll, grad.to_vec())
    }

    /// Mean frequency and mean T over customers, for start points.
    pub(crate) fn means(&self) -> (f64, f64) {
        (self.mean_frequency, self.mean_t)
    }

    /// Number of distinct (x, t_x, T) rows the likelihood is summed over.
    pub fn n_distinct(&self) -> usize {
        self.rows.len()
    }

    /// Number of customers (the rows' weights summed).
    pub fn n_customers(&self) -> f64 {
        self.n_customers
    }

    /// A systematic sample of the customers for a warm start (`super::sample_rows`); `None` when
    /// the table is small enough to fit directly.
    pub(crate) fn warm_start_sample(&self) -> Option<Self> {
        Some(Self {
            xs: self.xs.clone(),
            recencies: self.recencies.clone(),
            ages: self.ages.clone(),
            rows: sample_rows(&self.rows, |r| r.weight, |r, weight| IndexedRow { weight, ..r })?,
            ..*self
        })
    }
}
