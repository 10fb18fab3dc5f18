//! Customer histories, the summaries the models are fitted on, as weighted tables of distinct
//! histories: customers repeat a lot (every one-time buyer of the same day has the same
//! (x, t_x, T)), so a likelihood sums over far fewer rows than customers, and a table built
//! elsewhere (a warehouse's GROUP BY, a sample) plugs in with its counts.

use rayon::prelude::*;

use super::{count_distinct, parallel_sum, sample_rows, sort_beside_the_other_fit, table_index, BitsMap};

mod discrete;
mod survival;

pub use discrete::{DiscreteHistories, DiscreteRow};
pub use survival::{SurvivalHistories, SurvivalRow};

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
        Self::with_counts(frequency, recency, age, None)
    }

    /// As `new`, each row standing for `counts[i]` customers (a compressed summary: one row per
    /// distinct history with its number of customers); counts validated upstream (finite, ≥ 0).
    pub fn with_counts(frequency: &[f64], recency: &[f64], age: &[f64], counts: Option<&[f64]>) -> Self {
        let ValueTables {
            xs,
            recencies,
            ages,
            rows,
        } = by_ranks(frequency, recency, age, counts).unwrap_or_else(|| {
            let count = |i: usize| counts.map_or(1.0, |c| c[i]);
            by_hashing(count_distinct(
                (0..frequency.len()).map(|i| ([frequency[i], recency[i], age[i]], count(i))),
            ))
        });
        let n: f64 = rows.iter().map(|r| r.weight).sum();
        let (mut total_x, mut total_t) = (0.0, 0.0);
        for row in &rows {
            total_x += row.weight * xs[row.x as usize];
            total_t += row.weight * ages[row.age as usize];
        }
        Self {
            xs,
            recencies,
            ages,
            rows,
            n_customers: n,
            mean_frequency: total_x / n.max(1.0),
            mean_t: total_t / n.max(1.0),
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

    /// Whether every customer's (x, t_x, T) satisfies `holds` (rows counting no customer aside).
    pub fn every_customer(&self, holds: impl Fn(f64, f64, f64) -> bool) -> bool {
        self.rows.iter().filter(|r| r.weight > 0.0).all(|r| {
            holds(
                self.xs[r.x as usize],
                self.recencies[r.recency as usize],
                self.ages[r.age as usize],
            )
        })
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

/// The distinct (x, t_x, T) rows, ascending by the bit patterns of x, then t_x, then T (as
/// `count_distinct` orders them), with the customers in each, as indices into tables of the
/// distinct values.
struct ValueTables {
    xs: Vec<f64>,
    recencies: Vec<f64>,
    ages: Vec<f64>,
    rows: Vec<IndexedRow>,
}

/// `ValueTables` of `count_distinct`'s rows, each value's index by a hash map.
fn by_hashing(distinct: Vec<([f64; 3], f64)>) -> ValueTables {
    let (mut xs, mut recencies, mut ages) = (Vec::new(), Vec::new(), Vec::new());
    let (mut x_index, mut recency_index, mut age_index) = (BitsMap::default(), BitsMap::default(), BitsMap::default());
    let rows = distinct
        .into_iter()
        .map(|([x, tx, t], weight)| IndexedRow {
            x: table_index(&mut x_index, &mut xs, x, x.to_bits()),
            recency: table_index(&mut recency_index, &mut recencies, tx, tx.to_bits()),
            age: table_index(&mut age_index, &mut ages, t, t.to_bits()),
            weight,
        })
        .collect();
    ValueTables {
        xs,
        recencies,
        ages,
        rows,
    }
}

/// `ValueTables` of the customers (x, t_x, T), each `counts[i]` of them or one, the same rows in
/// the same order with the same sums as `by_hashing(count_distinct(…))`, by a cheaper route where
/// it applies: each customer's history as one u64, x (a whole number below 2^21) above the ranks
/// of her t_x and T among their distinct values (by bit pattern, as `count_distinct` orders
/// them), each in as many bits as its values need. The sort then compares one integer where
/// `count_distinct` compares three, and moves 8 bytes (16 with counts) where it moves 32; the
/// ranks are the indices into the tables of t_x and T, whose values they sort; and the rows come
/// straight from the sorted keys. At 100,000 customers this touches 2.6 MB where the sort of
/// 16-byte keys, the (x, t_x, T) rows and the tables' hash maps touched 5.5, and a fresh page
/// costs more than its work here. One customer at a time, the one-time buyers are counted by
/// T alone and only the others sorted (at 100,000 customers, half of them: the histories 3.3 →
/// 3.0 ms). `None` for any other table (an x that is not such a whole number, more than 2^21
/// distinct times): `count_distinct`'s.
fn by_ranks(frequency: &[f64], recency: &[f64], age: &[f64], counts: Option<&[f64]>) -> Option<ValueTables> {
    const BITS: u32 = 21;
    // x's own value is its key where it is a whole number below 2^21 (not -0, whose bits differ).
    let small_whole = |x: f64| x.to_bits() < (1u64 << 63) && x < f64::from(1u32 << BITS) && x == (x as u64) as f64;
    if !frequency.par_iter().all(|&x| small_whole(x)) {
        return None;
    }
    let (recency_rank, age_rank) = rayon::join(|| ranks_by_bits(recency, BITS), || ranks_by_bits(age, BITS));
    let (recency_rank, age_rank) = (recency_rank?, age_rank?);
    // Bits that hold every rank below `n`.
    let width = |n: usize| u64::BITS - (n.max(2) as u64 - 1).leading_zeros();
    let (age_bits, recency_bits) = (width(age_rank.values.len()), width(recency_rank.values.len()));
    let key = |i: usize| {
        ((frequency[i] as u64) << (recency_bits + age_bits))
            | (u64::from(recency_rank.of_row[i]) << age_bits)
            | u64::from(age_rank.of_row[i])
    };
    let (age_mask, recency_mask) = ((1u64 << age_bits) - 1, (1u64 << recency_bits) - 1);
    let mut xs: Vec<f64> = Vec::new();
    let mut row = |key: u64, weight: f64| {
        let x = (key >> (recency_bits + age_bits)) as f64;
        if xs.last() != Some(&x) {
            xs.push(x);
        }
        IndexedRow {
            x: (xs.len() - 1) as u32,
            recency: ((key >> age_bits) & recency_mask) as u32,
            age: (key & age_mask) as u32,
            weight,
        }
    };
    let rows: Vec<IndexedRow> = match counts {
        None => {
            // The keys below 2^age_bits, x = 0 and the first recency (every one-time buyer of a
            // checked table, bar a recency written -0: half a summary's customers), are the
            // smallest there are, each T's rank one: they are counted by that rank, and only the
            // others are sorted. Each customer goes one way or the other without a branch (which
            // way is as good as random). Not where T takes too many values for a small count.
            let counted_by_age = age_rank.values.len() <= 1 << 16;
            let mut by_age = vec![0u32; if counted_by_age { age_rank.values.len() } else { 0 }];
            // Zeros, not a capacity: only the pages the sorted keys fill are touched.
            let mut sorted = vec![0u64; frequency.len()];
            let mut kept = 0;
            for i in 0..frequency.len() {
                let key = key(i);
                let first = counted_by_age && key >> age_bits == 0;
                if let Some(count) = by_age.get_mut((key & age_mask) as usize) {
                    *count += u32::from(first);
                }
                if let Some(slot) = sorted.get_mut(kept) {
                    *slot = key;
                }
                kept += usize::from(!first);
            }
            sorted.truncate(kept);
            sort_beside_the_other_fit(&mut sorted);
            let firsts: Vec<IndexedRow> = by_age
                .iter()
                .enumerate()
                .filter(|&(_, &count)| count > 0)
                .map(|(age, &count)| row(age as u64, f64::from(count)))
                .collect();
            firsts
                .into_iter()
                .chain(
                    sorted
                        .chunk_by(|a, b| a == b)
                        .map(|same| row(same[0], same.len() as f64)),
                )
                .collect()
        }
        Some(counts) => {
            let mut keyed: Vec<(u64, f64)> = (0..frequency.len())
                .into_par_iter()
                .map(|i| (key(i), counts[i]))
                .collect();
            keyed.par_sort_unstable_by_key(|&(key, _)| key);
            keyed
                .chunk_by(|a, b| a.0 == b.0)
                // Summed from the first count on, as `count_distinct` sums them.
                .map(|same| row(same[0].0, same[1..].iter().fold(same[0].1, |total, r| total + r.1)))
                .collect()
        }
    };
    Some(ValueTables {
        xs,
        recencies: recency_rank.values,
        ages: age_rank.values,
        rows,
    })
}

/// The distinct values of a column, ascending by bit pattern, and each row's rank among them.
struct RanksByBits {
    values: Vec<f64>,
    of_row: Vec<u32>,
}

/// `RanksByBits` of `column`, or `None` past 2^`bits` distinct values.
fn ranks_by_bits(column: &[f64], bits: u32) -> Option<RanksByBits> {
    let (mut index, mut seen): (BitsMap<u64, u32>, Vec<u64>) = (BitsMap::default(), Vec::new());
    // The last value met in each of 1,024 slots, with its number, in front of the hash map: a
    // column of daily times holds a few hundred values, each met again and again.
    let mut recent = vec![(u64::MAX, 0u32); 1024];
    let first_seen: Vec<u32> = column
        .iter()
        .map(|v| {
            let bits = v.to_bits();
            let slot = (bits.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize;
            match recent.get_mut(slot) {
                Some((held, number)) if *held == bits => *number,
                Some(entry) => {
                    let number = table_index(&mut index, &mut seen, bits, bits);
                    *entry = (bits, number);
                    number
                }
                None => table_index(&mut index, &mut seen, bits, bits),
            }
        })
        .collect();
    if seen.len() > 1 << bits {
        return None;
    }
    let mut ascending: Vec<u32> = (0..seen.len() as u32).collect();
    ascending.sort_unstable_by_key(|&k| seen[k as usize]);
    let mut rank = vec![0u32; seen.len()];
    for (r, &k) in ascending.iter().enumerate() {
        rank[k as usize] = r as u32;
    }
    Some(RanksByBits {
        values: ascending.iter().map(|&k| f64::from_bits(seen[k as usize])).collect(),
        // In place: the first-seen numbers become the ranks, with no second column of pages.
        of_row: first_seen.into_iter().map(|k| rank[k as usize]).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_keyed_by_ranks_count_as_the_general_sort_does() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        // Daily-resolution weeks over a year, with the repeats a summary has; -0.0 (bits apart
        // from 0.0) among the times; counts as weights. Enough customers that T can take more
        // values than are counted by T alone (2^16).
        let n = 140_000;
        let mut frequency = Vec::with_capacity(n);
        let (mut recency, mut age) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let t = rng.random_range(0..365u32) as f64 / 7.0;
            let x = rng.random_range(0..6u32) as f64;
            let t_x = match (x, rng.random_range(0..50u32)) {
                (_, 0) => -0.0,
                (0.0, _) => 0.0,
                _ => rng.random_range(0..=(t * 7.0) as u32) as f64 / 7.0,
            };
            frequency.push(x);
            recency.push(t_x);
            age.push(t);
        }
        let counts: Vec<f64> = (0..n).map(|_| rng.random_range(1..4u32) as f64).collect();
        // Each table's rows as (x, t_x, T) and weight, in bits.
        let bits = |tables: &ValueTables| -> Vec<([u64; 3], u64)> {
            let ValueTables {
                xs,
                recencies,
                ages,
                rows,
            } = tables;
            rows.iter()
                .map(|r| {
                    let history = [xs[r.x as usize], recencies[r.recency as usize], ages[r.age as usize]];
                    (history.map(f64::to_bits), r.weight.to_bits())
                })
                .collect()
        };
        // As drawn; with every recency of +0 written -0 (the first recency is then a repeat
        // buyer's, and no customer is counted by T alone); with T in more values than are
        // counted by T alone (a millionth of a week times the row added to every other customer's).
        let negative_zeros: Vec<f64> = recency.iter().map(|&t| if t == 0.0 { -0.0 } else { t }).collect();
        let many_ages: Vec<f64> = (0..n)
            .map(|i| age[i] + if i % 2 == 0 { i as f64 * 1e-6 } else { 0.0 })
            .collect();
        let tables = [(&recency, &age), (&negative_zeros, &age), (&recency, &many_ages)];
        for (recency, age) in tables {
            for counts in [Some(counts.as_slice()), None] {
                let count = |i: usize| counts.map_or(1.0, |c| c[i]);
                let general = by_hashing(count_distinct(
                    (0..n).map(|i| ([frequency[i], recency[i], age[i]], count(i))),
                ));
                let ranked = by_ranks(&frequency, recency, age, counts).unwrap();
                assert!(
                    ranked.rows.len() > 1000 && ranked.rows.len() < n,
                    "{}",
                    ranked.rows.len()
                );
                assert_eq!(bits(&ranked), bits(&general));
            }
        }
        // An x that is not a small whole number, or -0.0 as an x: left to the general sort.
        for odd in [2.5, (1u64 << 21) as f64, -0.0] {
            let mut frequency = frequency.clone();
            frequency[n / 2] = odd;
            assert!(by_ranks(&frequency, &recency, &age, Some(&counts)).is_none());
        }
    }

    #[test]
    fn counted_rows_are_the_customers_they_count_whatever_their_order() {
        // Five customers: (0, 0, 10) three times, (2, 4.5, 10) twice. As rows of one customer in
        // any order, or as two counted rows (and a zero-count row), the table is the same.
        let expanded = Histories::new(&[2.0, 0.0, 0.0, 2.0, 0.0], &[4.5, 0.0, 0.0, 4.5, 0.0], &[10.0; 5]);
        let counted = Histories::with_counts(&[0.0, 2.0, 1.0], &[0.0, 4.5, 1.0], &[10.0; 3], Some(&[3.0, 2.0, 0.0]));
        for h in [&expanded, &counted] {
            assert_eq!(h.n_customers, 5.0);
            assert_eq!(h.means(), (4.0 / 5.0, 10.0));
            let term = |x: f64, t_x: f64, t: f64| (x + 10.0 * t_x + 100.0 * t, [1.0]);
            // Σ per customer: 3 × 1000 + 2 × (2 + 45 + 1000) = 5094; 5 customers.
            assert_eq!(h.weighted_sum(term), (5094.0, vec![5.0]));
        }
        let rows = |h: &Histories| -> Vec<(f64, f64, f64, f64)> {
            h.rows
                .iter()
                .filter(|r| r.weight > 0.0)
                .map(|r| {
                    (
                        h.xs[r.x as usize],
                        h.recencies[r.recency as usize],
                        h.ages[r.age as usize],
                        r.weight,
                    )
                })
                .collect()
        };
        assert_eq!(rows(&expanded), vec![(0.0, 0.0, 10.0, 3.0), (2.0, 4.5, 10.0, 2.0)]);
        assert_eq!(rows(&counted), rows(&expanded));
    }
}
