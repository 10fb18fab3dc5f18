//! Discrete-time histories (BG/BB): the distinct (x, t_x, n) with their customer counts.

use crate::models::BitsMap;

/// One distinct discrete-time history: x repeat transactions in n opportunities, the last at
/// opportunity t_x (0 when x = 0), and the customers who have it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscreteRow {
    pub x: u32,
    pub t_x: u32,
    pub n: u32,
    pub weight: f64,
}

/// The discrete non-contractual summary as a model fits it (BG/BB: Fader, Hardie & Shang 2010):
/// the distinct (x, t_x, n) with their customer counts. Opportunities are few (six years of a
/// yearly drive), so a table of millions of customers has a few dozen rows.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteHistories {
    rows: Vec<DiscreteRow>,
    n_customers: f64,
}

impl DiscreteHistories {
    /// From rows that may repeat a history; a history that cannot happen (x > t_x, t_x > n, x = 0
    /// with t_x > 0 or x > 0 with t_x = 0) or a weight that is not a positive number is an error
    /// naming the row (0-based, in `rows`).
    pub fn from_rows(rows: impl IntoIterator<Item = DiscreteRow>) -> Result<Self, (usize, String)> {
        let mut index: BitsMap<[u32; 3], usize> = BitsMap::default();
        let mut distinct: Vec<DiscreteRow> = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            let DiscreteRow { x, t_x, n, weight } = row;
            let problem = if !(weight.is_finite() && weight > 0.0) {
                Some(format!("a history's count must be a positive number, not {weight}"))
            } else if x > t_x || t_x > n || (x == 0) != (t_x == 0) {
                Some(format!(
                    "x = {x}, t_x = {t_x}, n = {n} cannot happen: need x ≤ t_x ≤ n, and t_x = 0 exactly when x = 0"
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err((i, problem));
            }
            match index.get(&[x, t_x, n]) {
                Some(&k) => distinct[k].weight += weight,
                None => {
                    index.insert([x, t_x, n], distinct.len());
                    distinct.push(row);
                }
            }
        }
        let n_customers = distinct.iter().map(|r| r.weight).sum();
        Ok(Self {
            rows: distinct,
            n_customers,
        })
    }

    /// The distinct histories, in first-seen order.
    pub fn rows(&self) -> &[DiscreteRow] {
        &self.rows
    }

    /// Number of customers (the rows' weights summed).
    pub fn n_customers(&self) -> f64 {
        self.n_customers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discrete_histories_merge_repeats_and_refuse_impossible_ones() {
        let row = |x, t_x, n, weight| DiscreteRow { x, t_x, n, weight };
        let h = DiscreteHistories::from_rows([row(0, 0, 6, 2.0), row(2, 5, 6, 1.0), row(0, 0, 6, 3.0)]).unwrap();
        assert_eq!(h.rows(), [row(0, 0, 6, 5.0), row(2, 5, 6, 1.0)]);
        assert_eq!(h.n_customers(), 6.0);
        for (bad, why) in [
            (row(3, 2, 6, 1.0), "x > t_x"),
            (row(2, 7, 6, 1.0), "t_x > n"),
            (row(0, 3, 6, 1.0), "t_x > 0 without a transaction"),
            (row(1, 0, 6, 1.0), "a transaction at opportunity 0"),
            (row(1, 1, 6, 0.0), "no customers"),
        ] {
            let err = DiscreteHistories::from_rows([row(0, 0, 6, 1.0), bad]).unwrap_err();
            assert_eq!(err.0, 1, "{why}");
        }
    }
}
