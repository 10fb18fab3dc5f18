//! Quantiles of the draws' forecasts.

/// The interpolated quantile q of `values` (type 7, as numpy's default), NaN ignored; NaN when
/// nothing is left. Reorders `values`.
pub fn quantile(values: &mut Vec<f64>, q: f64) -> f64 {
    values.retain(|v| !v.is_nan());
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    let k = (h.floor() as usize).min(n - 1);
    let (_, &mut below, above) = values.select_nth_unstable_by(k, f64::total_cmp);
    match above.iter().copied().min_by(f64::total_cmp) {
        Some(next) => below + (h - k as f64) * (next - below),
        None => below,
    }
}

/// The interpolated quantiles `q_lo` ≤ `q_hi` of `values`, as [`quantile`] gives them (NaN
/// ignored), without reordering or copying `values`: one pass keeps only the few smallest and
/// largest values the two quantiles need (the 11 at each end for a 90% interval of 200 draws),
/// where a selection would reorder all of them, twice. Falls back to [`quantile`] for central
/// quantiles or when NaN are present.
pub fn quantile_pair(values: &[f64], q_lo: f64, q_hi: f64) -> (f64, f64) {
    // At most this many values kept at each end.
    const KEPT: usize = 32;
    let n = values.len();
    let slow = || {
        let mut copy = values.to_vec();
        (quantile(&mut copy, q_lo), quantile(&mut copy, q_hi))
    };
    if n == 0 || values.iter().any(|v| v.is_nan()) {
        return slow();
    }
    // Sorted, the quantiles need the order statistics k_lo, k_lo + 1, k_hi and k_hi + 1.
    let k_lo = (((n - 1) as f64 * q_lo).floor() as usize).min(n - 1);
    let k_hi = (((n - 1) as f64 * q_hi).floor() as usize).min(n - 1);
    let (smallest, largest) = ((k_lo + 2).min(n), n - k_hi);
    if smallest > KEPT || largest > KEPT || smallest + largest > n {
        return slow();
    }
    // low: the `smallest` least values seen, ascending; high: the `largest` greatest, descending.
    let (mut low, mut high) = ([0.0f64; KEPT], [0.0f64; KEPT]);
    let (mut low_len, mut high_len) = (0, 0);
    for &v in values {
        if low_len < smallest || v < low[low_len - 1] {
            let mut j = low_len.min(smallest - 1);
            while j > 0 && low[j - 1] > v {
                low[j] = low[j - 1];
                j -= 1;
            }
            low[j] = v;
            low_len = (low_len + 1).min(smallest);
        }
        if high_len < largest || v > high[high_len - 1] {
            let mut j = high_len.min(largest - 1);
            while j > 0 && high[j - 1] < v {
                high[j] = high[j - 1];
                j -= 1;
            }
            high[j] = v;
            high_len = (high_len + 1).min(largest);
        }
    }
    // The j-th least value: from `low` below `smallest`, else from `high` (n − 1 − j from the top).
    let order = |j: usize| match j < smallest {
        true => low[j],
        false => high[n - 1 - j],
    };
    let at = |q: f64, k: usize| {
        let h = (n - 1) as f64 * q;
        match k + 1 < n {
            true => order(k) + (h - k as f64) * (order(k + 1) - order(k)),
            false => order(k),
        }
    };
    (at(q_lo, k_lo), at(q_hi, k_hi))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn quantiles_interpolate_as_numpy_does_and_skip_nan() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.05, 0.5, 0.95]) = [1.2, 3.0, 8.8]:
        // h = 4q → 0.2 (1 + 0.2·1), 2 (3), 3.8 (4 + 0.8·6).
        let data = vec![10.0, 3.0, f64::NAN, 1.0, 4.0, 2.0];
        for (q, expected) in [(0.05, 1.2), (0.5, 3.0), (0.95, 8.8), (0.0, 1.0), (1.0, 10.0)] {
            let got = quantile(&mut data.clone(), q);
            assert!((got - expected).abs() < 1e-12, "q = {q}: {got}");
        }
        assert!(quantile(&mut vec![f64::NAN], 0.5).is_nan());
    }

    #[test]
    fn a_pair_of_quantiles_in_one_pass_equals_two_selections() {
        // Against `quantile` (itself checked against numpy above) on random values with ties, for
        // sizes from 1 to 1,000 and the levels an interval uses, including the ends.
        use rand::RngExt;
        let mut rng = StdRng::seed_from_u64(3);
        for n in [1, 2, 3, 5, 20, 21, 199, 200, 201, 1000] {
            for _ in 0..20 {
                let values: Vec<f64> = (0..n)
                    .map(|_| (rng.random::<f64>() * 50.0).round() / 7.0 - 3.0)
                    .collect();
                for (lo, hi) in [(0.05, 0.95), (0.025, 0.975), (0.005, 0.995), (0.0, 1.0), (0.25, 0.75)] {
                    let expected = (quantile(&mut values.clone(), lo), quantile(&mut values.clone(), hi));
                    assert_eq!(quantile_pair(&values, lo, hi), expected, "n = {n}, ({lo}, {hi})");
                }
            }
        }
        let with_nan = [2.0, f64::NAN, 1.0, 3.0];
        assert_eq!(quantile_pair(&with_nan, 0.0, 1.0), (1.0, 3.0));
        let (lo, hi) = quantile_pair(&[], 0.05, 0.95);
        assert!(lo.is_nan() && hi.is_nan());
    }
}
