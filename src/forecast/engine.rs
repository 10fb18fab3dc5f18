//! What every forecaster shares: evaluation once per distinct history, in parallel, and the
//! monthly discounting of future purchases.

use rayon::prelude::*;

use crate::models::{table_index, BitsMap};

/// The distinct values of a per-customer key (a history, or part of one) and each customer's
/// index into them, in first-seen order. A million customers have tens of thousands of distinct
/// histories, so a model's forecast is computed once per distinct key, not once per customer.
#[derive(Debug, Clone)]
pub struct Distinct<const N: usize> {
    /// The distinct keys.
    pub values: Vec<[f64; N]>,
    /// For each row, the index of its key in `values`.
    pub index_of: Vec<u32>,
}

impl<const N: usize> Distinct<N> {
    /// Keys are compared by their exact bit patterns.
    pub fn of(keys: impl Iterator<Item = [f64; N]>) -> Self {
        let mut index: BitsMap<[u64; N], u32> = BitsMap::default();
        let mut values = Vec::new();
        let index_of = keys
            .map(|key| table_index(&mut index, &mut values, key, key.map(f64::to_bits)))
            .collect();
        Self { values, index_of }
    }

    /// `evaluate(k, key)` at each distinct key (the k-th), in parallel.
    pub fn evaluate<T: Send>(&self, evaluate: impl Fn(usize, &[f64; N]) -> T + Sync) -> Vec<T> {
        self.values
            .par_iter()
            .enumerate()
            .map(|(k, key)| evaluate(k, key))
            .collect()
    }
}

/// Discounted value of future purchases, computed as `lifetimes`' `customer_lifetime_value`:
/// Σ_{m=1..months} value · (E[Y(m·u)] − E[Y((m−1)·u)]) / (1+d)^m, with u the time units per
/// month, E[Y(t)] the cumulative expected purchases by t, and `value_per_purchase` the profit of
/// one purchase (margin · expected spend − cost to serve it).
pub fn discounted_value(
    cumulative_purchases: impl Fn(f64) -> Option<f64>,
    value_per_purchase: f64,
    months: u32,
    units_per_month: f64,
    monthly_discount_rate: f64,
) -> Option<f64> {
    let cumulative = (1..=months)
        .map(|month| cumulative_purchases(month as f64 * units_per_month))
        .collect::<Option<Vec<f64>>>()?;
    Some(discounted_cumulative(
        cumulative,
        value_per_purchase,
        monthly_discount_rate,
    ))
}

/// As [`discounted_value`], from the cumulative expected purchases at the end of each month
/// (`cumulative[m − 1]` by month m), already computed.
pub fn discounted_cumulative(
    cumulative: impl IntoIterator<Item = f64>,
    value_per_purchase: f64,
    monthly_discount_rate: f64,
) -> f64 {
    let mut previous = 0.0;
    let mut value = 0.0;
    for (month, cumulative) in (1..).zip(cumulative) {
        value += value_per_purchase * (cumulative - previous) / (1.0 + monthly_discount_rate).powi(month);
        previous = cumulative;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keys_keep_first_seen_order_and_index_every_row() {
        let rows = [[1.0, 2.0], [0.5, 2.0], [1.0, 2.0], [-0.0, 2.0], [0.0, 2.0]];
        let d = Distinct::of(rows.into_iter());
        // −0.0 and 0.0 are different bit patterns: kept apart, each evaluated as given.
        assert_eq!(d.values.len(), 4);
        assert_eq!(d.index_of, [0, 1, 0, 2, 3]);
        for (row, &i) in rows.iter().zip(&d.index_of) {
            assert_eq!(d.values[i as usize].map(f64::to_bits), row.map(f64::to_bits));
        }
        assert_eq!(d.evaluate(|_, [a, b]| a + b), [3.0, 2.5, 2.0, 2.0]);
    }

    #[test]
    fn discounting_matches_a_hand_computation() {
        // Cumulative purchases E(t) = t, one unit per month, spend 10, three months at 10%:
        // 10·(1/1.1 + 1/1.1² + 1/1.1³) = 10·(0.909090909 + 0.826446281 + 0.751314801) = 24.86851991.
        let v = discounted_value(Some, 10.0, 3, 1.0, 0.1).unwrap();
        assert!((v - 24.868519909842).abs() < 1e-9, "{v}");
        // Two purchases a month instead of one: twice the value.
        let twice = discounted_value(|t| Some(2.0 * t), 10.0, 3, 1.0, 0.1).unwrap();
        assert!((twice - 2.0 * v).abs() < 1e-12);
    }
}
