//! What every forecaster shares: evaluation once per distinct history, in parallel, and the
//! monthly discounting of future purchases.

use rayon::prelude::*;

use crate::data::rfm::RfmTable;
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

    /// How many rows have each distinct key, in the order of `values`.
    pub fn counts(&self) -> Vec<f64> {
        let mut counts = vec![0.0; self.values.len()];
        for &k in &self.index_of {
            counts[k as usize] += 1.0;
        }
        counts
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

/// A summary's distinct histories (x, t_x, T) and distinct (x, T) pairs of those histories: what
/// the continuous forecaster evaluates once each, at the estimates and at every draw.
#[derive(Debug, Clone)]
pub struct DistinctHistories {
    pub histories: Distinct<3>,
    /// The (x, T) of `histories.values`, one index per history.
    pub pairs: Distinct<2>,
}

impl DistinctHistories {
    pub fn of(rfm: &RfmTable) -> Self {
        let histories = Distinct::of((0..rfm.len()).map(|i| [rfm.frequency[i], rfm.recency[i], rfm.t[i]]));
        let pairs = Distinct::of(histories.values.iter().map(|&[x, _, t]| [x, t]));
        Self { histories, pairs }
    }

    /// Whether these are `rfm`'s: one per customer, each customer's the same to the bit.
    pub fn are_of(&self, rfm: &RfmTable) -> bool {
        let Distinct { values, index_of } = &self.histories;
        index_of.len() == rfm.len()
            && index_of.par_iter().enumerate().all(|(i, &h)| {
                values[h as usize].map(f64::to_bits) == [rfm.frequency[i], rfm.recency[i], rfm.t[i]].map(f64::to_bits)
            })
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
    fn distinct_histories_are_kept_only_for_the_summary_they_came_from() {
        use crate::data::rfm::CustomerIds;
        let rfm = RfmTable {
            customer_id: CustomerIds::from_labels(&["a", "b", "c"]),
            frequency: vec![2.0, 0.0, 2.0],
            recency: vec![30.0, 0.0, 30.0],
            t: vec![38.0, 38.0, 38.0],
            monetary_value: None,
            first_purchase: None,
            time_unit: crate::data::TimeUnit::Weeks,
        };
        let distinct = DistinctHistories::of(&rfm);
        assert_eq!(distinct.histories.values, [[2.0, 30.0, 38.0], [0.0, 0.0, 38.0]]);
        assert_eq!(distinct.histories.index_of, [0, 1, 0]);
        assert_eq!(distinct.pairs.values, [[2.0, 38.0], [0.0, 38.0]]);
        assert!(distinct.are_of(&rfm));
        // Same length, one recency different; one customer fewer: not theirs.
        let mut other = rfm.clone();
        other.recency[2] = 29.0;
        assert!(!distinct.are_of(&other));
        let mut shorter = rfm.clone();
        shorter.frequency.pop();
        shorter.recency.pop();
        shorter.t.pop();
        shorter.customer_id = CustomerIds::from_labels(&["a", "b"]);
        assert!(!distinct.are_of(&shorter));
        // Forecasts hand back the kept histories for their summary, fresh ones for another.
        let mut forecasts = super::super::Forecasts::new(3);
        let kept = std::sync::Arc::new(distinct);
        forecasts.keep_histories(std::sync::Arc::clone(&kept));
        assert!(std::sync::Arc::ptr_eq(&forecasts.distinct_histories(&rfm), &kept));
        let fresh = forecasts.distinct_histories(&other);
        assert!(!std::sync::Arc::ptr_eq(&fresh, &kept));
        assert_eq!(fresh.histories.values.len(), 3);
    }

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
