//! Quantiles of the draws' forecasts.

use wide::f64x4;

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
    let order = |j: usize| match j < smallest {
        true => low[j],
        false => high[n - 1 - j],
    };
    (interpolated(order, n, q_lo, k_lo), interpolated(order, n, q_hi, k_hi))
}

/// The quantile q of n values (type 7) from the order statistic k = ⌊(n−1)q⌋ and the next:
/// `order(j)` is the j-th least value, which the callers keep from the `smallest` least values
/// (below `smallest`) or the greatest (n − 1 − j from the top).
fn interpolated(order: impl Fn(usize) -> f64, n: usize, q: f64, k: usize) -> f64 {
    let h = (n - 1) as f64 * q;
    match k + 1 < n {
        true => order(k) + (h - k as f64) * (order(k + 1) - order(k)),
        false => order(k),
    }
}

/// Significant digits an interval's bounds are given to. Quantiles of a few hundred draws are
/// Monte Carlo estimates good to two or three digits; more would be noise, and at a million
/// customers twice the size of the predictions file.
pub const BOUND_DIGITS: i32 = 6;

/// `value` rounded to [`BOUND_DIGITS`] significant digits away from the interval's centre:
/// down for a lower bound (`up` false), up for an upper one, so that the rounded interval holds
/// the computed one. Zero, NaN and infinities are returned as they are.
pub fn round_bound(value: f64, up: bool) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    // The decimals kept: BOUND_DIGITS − 1 after the leading digit.
    let decimals = BOUND_DIGITS - 1 - value.abs().log10().floor() as i32;
    if !(-22..=22).contains(&decimals) {
        return value;
    }
    // 10^|decimals| is exact up to 10^22, so n / 10^k is the double nearest the decimal n·10^−k.
    let scale = 10f64.powi(decimals.abs());
    let to = |v: f64| match decimals >= 0 {
        true => v * scale,
        false => v / scale,
    };
    let from = |n: f64| match decimals >= 0 {
        true => n / scale,
        false => n * scale,
    };
    let n = match up {
        true => to(value).ceil(),
        false => to(value).floor(),
    };
    // The scaling rounds; one step further out where it landed on the wrong side of `value`.
    let rounded = from(n);
    match (up, rounded < value, rounded > value) {
        (true, true, _) => from(n + 1.0),
        (false, _, true) => from(n - 1.0),
        _ => rounded,
    }
}

/// Values [`ExtremeDraws`] compares at a time into a bit mask (a multiple of the four of `masks`).
const MASKED: usize = 8;
// `masks` compares four at a time into u32 masks, and would leave the rest of a chunk unread.
const _: () = assert!(MASKED.is_multiple_of(4) && MASKED <= 32);

/// [`quantile_pair`] for many value sets drawn at the same parameter draws, one customer after
/// another, which keeps the draws that held the extreme values last time. The same draws tend to
/// give the extreme forecasts for customer after customer, so their values now bound the order
/// statistics the quantiles need (the `m`-th least value is at most the largest of any `m`
/// values), and one pass of vector compares keeps just the values within that bound, typically a
/// few more than needed, where [`quantile_pair`] inserts values one by one into sorted lists.
/// Gives exactly what [`quantile_pair`] gives.
#[derive(Debug, Clone, Default)]
pub struct ExtremeDraws {
    /// Per slot (a kind of value set, chosen by the caller), the draws of the least and of the
    /// greatest values at its last call.
    slots: Vec<(Vec<u32>, Vec<u32>)>,
    /// Scratch: the values within each bound, with their draws.
    low_kept: Vec<(f64, u32)>,
    high_kept: Vec<(f64, u32)>,
}

impl ExtremeDraws {
    /// The interpolated quantiles `q_lo` ≤ `q_hi` of `values`, as [`quantile`] gives them (NaN
    /// ignored), starting from where the extreme draws were at the last call with this `slot`:
    /// value sets whose extremes tend to fall on the same draws should share a slot.
    pub fn quantile_pair(&mut self, slot: usize, values: &[f64], q_lo: f64, q_hi: f64) -> (f64, f64) {
        let n = values.len();
        if n == 0 || n > u32::MAX as usize {
            return quantile_pair(values, q_lo, q_hi);
        }
        let k_lo = (((n - 1) as f64 * q_lo).floor() as usize).min(n - 1);
        let k_hi = (((n - 1) as f64 * q_hi).floor() as usize).min(n - 1);
        // The order statistics k_lo, k_lo + 1 are among the `smallest` least values, k_hi and
        // k_hi + 1 among the `largest` greatest.
        let (smallest, largest) = ((k_lo + 2).min(n), n - k_hi);
        if smallest + largest > n {
            return quantile_pair(values, q_lo, q_hi);
        }
        // Bounds from the last call's extreme draws (any draws, at the first call).
        let hinted = |hint: &mut Vec<u32>, wanted: usize, first: usize| {
            if hint.len() != wanted || hint.iter().any(|&d| d as usize >= n) {
                hint.clear();
                hint.extend((first..first + wanted).map(|d| d as u32));
            }
        };
        if self.slots.len() <= slot {
            self.slots.resize(slot + 1, Default::default());
        }
        let (hint_low, hint_high) = &mut self.slots[slot];
        hinted(hint_low, smallest, 0);
        hinted(hint_high, largest, n - largest);
        let low_bound = hint_low
            .iter()
            .map(|&d| values[d as usize])
            .fold(f64::NEG_INFINITY, f64::max);
        let high_bound = hint_high
            .iter()
            .map(|&d| values[d as usize])
            .fold(f64::INFINITY, f64::min);
        // One pass keeps the values within each bound, with their draws. Eight values at a time
        // are compared into bit masks (vector compares, no branch), and only the few set bits
        // are visited: a typical set of 200 values keeps a dozen at each end. The kept values go
        // into scratch as long as `values`, by index (no capacity to check per value).
        self.low_kept.resize(n, (0.0, 0));
        self.high_kept.resize(n, (0.0, 0));
        let (low_kept, high_kept) = (&mut self.low_kept[..n], &mut self.high_kept[..n]);
        let (mut low_len, mut high_len) = (0, 0);
        let mut nan = false;
        let mut chunks = values.chunks_exact(MASKED);
        for (first, chunk) in (0u32..).step_by(MASKED).zip(&mut chunks) {
            let (low_mask, high_mask, nan_mask) = masks(chunk, low_bound, high_bound);
            nan |= nan_mask != 0;
            keep_set_bits(low_mask, chunk, first, low_kept, &mut low_len);
            keep_set_bits(high_mask, chunk, first, high_kept, &mut high_len);
        }
        let rest = (n - chunks.remainder().len()) as u32;
        for (d, &v) in (rest..).zip(chunks.remainder()) {
            if v <= low_bound {
                low_kept[low_len] = (v, d);
                low_len += 1;
            }
            if v >= high_bound {
                high_kept[high_len] = (v, d);
                high_len += 1;
            }
            nan |= v.is_nan();
        }
        if nan || low_len < smallest || high_len < largest {
            return quantile_pair(values, q_lo, q_hi);
        }
        let ascending = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0);
        let low = &mut low_kept[..low_len];
        if low_len > smallest {
            low.select_nth_unstable_by(smallest - 1, ascending);
        }
        let low = &low[..smallest];
        let high = &mut high_kept[..high_len];
        if high_len > largest {
            high.select_nth_unstable_by(largest - 1, |a, b| ascending(b, a));
        }
        let high = &high[..largest];
        hint_low.clear();
        hint_low.extend(low.iter().map(|&(_, d)| d));
        hint_high.clear();
        hint_high.extend(high.iter().map(|&(_, d)| d));
        // The quantiles need only the two innermost of each end's values: order statistics
        // smallest − 1 and smallest − 2 at the low end (k_lo + 1 and k_lo), n − largest and the
        // next at the high end (k_hi and k_hi + 1). Neither end is sorted.
        let (low_inner, low_next) = innermost_two(low, |a, b| a.total_cmp(&b).is_gt());
        let (high_inner, high_next) = innermost_two(high, |a, b| a.total_cmp(&b).is_lt());
        let order = |j: usize| match j {
            _ if j + 1 == smallest => low_inner,
            _ if j + 2 == smallest => low_next,
            _ if j + largest == n => high_inner,
            _ => high_next,
        };
        (interpolated(order, n, q_lo, k_lo), interpolated(order, n, q_hi, k_hi))
    }
}

/// Bit j set where `chunk[j]` ≤ `low`, where it is ≥ `high`, and where it is NaN: four values
/// compared at once (`wide`, the vector compares of whatever the target has).
fn masks(chunk: &[f64], low: f64, high: f64) -> (u32, u32, u32) {
    let (low, high) = (f64x4::splat(low), f64x4::splat(high));
    let (mut low_mask, mut high_mask, mut nan_mask) = (0, 0, 0);
    for (j, four) in chunk.chunks_exact(4).enumerate() {
        let v = f64x4::new([four[0], four[1], four[2], four[3]]);
        low_mask |= v.simd_le(low).to_bitmask() << (4 * j);
        high_mask |= v.simd_ge(high).to_bitmask() << (4 * j);
        nan_mask |= v.is_nan().to_bitmask() << (4 * j);
    }
    (low_mask, high_mask, nan_mask)
}

/// The values of `chunk` (its first at draw `first`) whose bits are set in `mask`, with their
/// draws, into `kept` from `len` on, `len` advanced past them.
#[inline]
fn keep_set_bits(mut mask: u32, chunk: &[f64], first: u32, kept: &mut [(f64, u32)], len: &mut usize) {
    while mask != 0 {
        let j = mask.trailing_zeros();
        kept[*len] = (chunk[j as usize], first + j);
        *len += 1;
        mask &= mask - 1;
    }
}

/// The innermost value of `set` (the one no other value is `inner` to, where `inner(a, b)` says a
/// lies further in than b) and the next one in: the two order statistics of an end of the draws
/// that the quantiles interpolate between. The second is the first when `set` has one value.
fn innermost_two(set: &[(f64, u32)], inner: impl Fn(f64, f64) -> bool) -> (f64, f64) {
    let mut values = set.iter().map(|&(v, _)| v);
    let Some(first) = values.next() else {
        return (f64::NAN, f64::NAN);
    };
    let (mut innermost, mut next) = (first, None::<f64>);
    for v in values {
        if inner(v, innermost) {
            next = Some(innermost);
            innermost = v;
        } else if next.is_none_or(|n| inner(v, n)) {
            next = Some(v);
        }
    }
    (innermost, next.unwrap_or(innermost))
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

    #[test]
    fn extreme_draws_give_the_same_quantiles_as_a_pair_found_afresh() {
        // One ExtremeDraws over many value sets, as the interval pass uses it: sets that keep the
        // same draws at the extremes (a slope per draw, as a spend line in z̄), sets in random
        // order, sets with ties and with NaN, and sizes that change between calls.
        use rand::RngExt;
        let mut rng = StdRng::seed_from_u64(5);
        let mut extremes = ExtremeDraws::default();
        let slopes: Vec<f64> = (0..200).map(|_| rng.random::<f64>()).collect();
        let levels = [(0.05, 0.95), (0.025, 0.975), (0.0, 1.0), (0.25, 0.75), (0.5, 0.5)];
        for case in 0..3000 {
            let n = [200, 200, 200, 21, 1, 2, 1000][case % 7];
            let values: Vec<f64> = match case % 5 {
                0 | 1 => (0..n).map(|d| 3.0 + slopes[d % 200] * case as f64).collect(),
                2 => (0..n).map(|_| rng.random::<f64>() - 0.5).collect(),
                3 => (0..n).map(|_| (rng.random::<f64>() * 4.0).round()).collect(),
                _ => (0..n)
                    .map(|_| match rng.random::<f64>() < 0.01 {
                        true => f64::NAN,
                        false => rng.random::<f64>(),
                    })
                    .collect(),
            };
            for &(lo, hi) in &levels {
                let expected = quantile_pair(&values, lo, hi);
                let got = extremes.quantile_pair(case % 3, &values, lo, hi);
                assert_eq!(
                    (got.0.to_bits(), got.1.to_bits()),
                    (expected.0.to_bits(), expected.1.to_bits()),
                    "case {case}, n = {n}, ({lo}, {hi}): {got:?} against {expected:?}"
                );
            }
        }
    }

    #[test]
    fn bounds_are_rounded_outward_to_six_significant_digits() {
        // By hand: 4.830354744930079 has its leading digit at 10^0, so five decimals are kept:
        // down 4.83035, up 4.83036.
        assert_eq!(round_bound(4.830354744930079, false), 4.83035);
        assert_eq!(round_bound(4.830354744930079, true), 4.83036);
        // Leading digit at 10^7: kept to 10^2.
        assert_eq!(round_bound(22_272_140.52, false), 22_272_100.0);
        assert_eq!(round_bound(22_368_716.78, true), 22_368_800.0);
        assert_eq!(round_bound(0.000123456789, false), 0.000123456);
        assert_eq!(round_bound(-1.0000001, false), -1.00001);
        assert_eq!(round_bound(-1.0000001, true), -1.0);
        // Values already at six digits stay, and so do 0, 1, NaN and infinity.
        for v in [0.0, 1.0, 0.197612, 1198.58, 12.0] {
            assert_eq!(round_bound(v, false), v);
            assert_eq!(round_bound(v, true), v);
        }
        assert!(round_bound(f64::NAN, true).is_nan());
        assert_eq!(round_bound(f64::INFINITY, false), f64::INFINITY);
        // Over many values: outward, within one unit of the sixth digit, and printed in at most
        // six significant digits.
        use rand::RngExt;
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..20_000 {
            let v = (rng.random::<f64>() - 0.3) * 10f64.powi(rng.random_range(-8..9));
            let unit = 10f64.powi(v.abs().log10().floor() as i32 - (BOUND_DIGITS - 1));
            let (lo, hi) = (round_bound(v, false), round_bound(v, true));
            assert!(
                lo <= v && v <= hi && v - lo < 1.000001 * unit && hi - v < 1.000001 * unit,
                "{v}: {lo}, {hi}"
            );
            for b in [lo, hi] {
                let digits = format!("{:e}", b.abs());
                let mantissa = digits.split('e').next().unwrap().replace('.', "");
                assert!(mantissa.len() <= BOUND_DIGITS as usize, "{v} → {b}");
            }
        }
    }
}
