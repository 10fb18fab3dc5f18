//! The Gauss hypergeometric function 2F1 in the forms the BG/NBD and Pareto/NBD expressions need.

use super::quadrature::integrate;

/// The most terms a hypergeometric series may take before it is declared non-convergent.
const MAX_SERIES_TERMS: usize = 1_000_000;

/// Gauss hypergeometric function 2F1(a, b; c; z) by its power series, for |z| < 1
/// (Abramowitz & Stegun 15.1.1). Returns `None` when the series does not converge in
/// `MAX_SERIES_TERMS` terms or `c` is a non-positive integer.
pub fn hyp2f1_series(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if z.abs() >= 1.0 || (c <= 0.0 && c.fract() == 0.0) {
        return None;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..MAX_SERIES_TERMS {
        let k = k as f64;
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 || (term.abs() <= f64::EPSILON * 0.5 * sum.abs() && ratio.abs() < 1.0) {
            return sum.is_finite().then_some(sum);
        }
    }
    None
}

/// [1 − (1−z)^ε · 2F1(A, ε; c; z)] / ε for 0 ≤ z < 1, including its limit ε → 0.
///
/// This is the bracket of the BG/NBD expectations (Fader, Hardie & Lee 2005, eqs. 9 and 10)
/// after Euler's transformation 2F1(α, β; γ; z) = (1−z)^(γ−α−β) 2F1(γ−α, γ−β; γ; z)
/// (A&S 15.3.3), which turns (1−z)^(r+x) 2F1(r+x, b+x; a+b+x−1; z) into
/// (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z): the series no longer grows with x, and
/// writing 2F1(A, ε; c; z) = 1 + ε S removes the 0/0 at a = 1:
/// the result is −expm1(ε ln(1−z))/ε − (1−z)^ε S, with S = Σ_{k≥1} (A)_k (1+ε)_{k−1} z^k / ((c)_k k!).
pub fn euler_complement(big_a: f64, eps: f64, c: f64, z: f64) -> Option<f64> {
    let mut series = match EulerSeries::start(big_a, eps, c, z) {
        EulerStart::Series(series) => series,
        EulerStart::Done(result) => return result,
    };
    for k in 1..EULER_SERIES_TERMS {
        if series.converged {
            break;
        }
        series.add(euler_coefficient(big_a, eps, c, k as f64));
    }
    series.value(eps)
}

/// [`euler_complement`]`(big_a, eps, c, z)` at each z of `zs`, into `out`: the series'
/// coefficients (A+k)(ε+k)/((c+k)(k+1)) are computed once for every z, each z's terms summed as
/// `euler_complement` sums them, so each result is the same to the last bit. Up to
/// [`EULER_SIDE_BY_SIDE`] z are summed side by side, without allocating; more in turn.
pub fn euler_complement_many(big_a: f64, eps: f64, c: f64, zs: &[f64], out: &mut [Option<f64>]) {
    for (zs, out) in zs.chunks(EULER_SIDE_BY_SIDE).zip(out.chunks_mut(EULER_SIDE_BY_SIDE)) {
        let mut series = [None; EULER_SIDE_BY_SIDE];
        let series = &mut series[..zs.len()];
        for ((series, &z), out) in series.iter_mut().zip(zs).zip(out.iter_mut()) {
            match EulerSeries::start(big_a, eps, c, z) {
                EulerStart::Series(started) => *series = Some(started),
                EulerStart::Done(result) => *out = result,
            }
        }
        for k in 1..EULER_SERIES_TERMS {
            if series.iter().flatten().all(|s| s.converged) {
                break;
            }
            let coefficient = euler_coefficient(big_a, eps, c, k as f64);
            for s in series.iter_mut().flatten().filter(|s| !s.converged) {
                s.add(coefficient);
            }
        }
        for (s, out) in series.iter().zip(out.iter_mut()) {
            if let Some(s) = s {
                *out = s.value(eps);
            }
        }
    }
}

/// Σ_j w_j · [`euler_complement`]`(A, ε, c, z_j)` for one (A, ε), the same z_j and weight sets
/// w, at many c: the discounted sum of a BG-family customer's expected purchases over month ends
/// (weights the discount factors' differences) is this at c = a+b+x−1, for every x of one T.
///
/// Writing each bracket as head(z) − (1−z)^ε Σ_k σ_k z^k (`euler_complement`), with σ_k the
/// series' coefficients, which depend on c but not on z:
/// Σ_j w_j bracket(z_j) = H − Σ_k σ_k M_k, H = Σ_j w_j head(z_j), M_k = Σ_j w_j (1−z_j)^ε z_j^k.
/// H and the moments M_k depend on (A, ε, z) only, so they are computed once, and each c costs
/// one series of terms σ_k M_k where one z at a time costs a series per z.
#[derive(Debug, Clone)]
pub struct WeightedEulerComplement {
    big_a: f64,
    eps: f64,
    zs: Vec<f64>,
    /// Weight sets one after another, `zs.len()` weights each.
    weights: Vec<f64>,
    sets: usize,
    /// Per set, H.
    heads: Vec<f64>,
    /// Per z, (1−z)^ε z^k at the last k whose moments are in `moments`.
    powers: Vec<f64>,
    /// M_k for k = 1, 2, …, each k's sets side by side.
    moments: Vec<f64>,
    /// The largest z, which bounds the ratio M_(k+1)/M_k.
    z_max: f64,
}

impl WeightedEulerComplement {
    /// `None` where the weighted series cannot serve: a z outside (0, 1), a weight negative or
    /// not finite, more than [`MAX_WEIGHT_SETS`] weight sets, or a series that would need more
    /// terms than `euler_complement` sums (there
    /// the caller evaluates each z as `euler_complement` and its fallback do).
    pub fn new(big_a: f64, eps: f64, zs: &[f64], weight_sets: &[&[f64]]) -> Option<Self> {
        let valid_z = zs.iter().all(|z| z.is_finite() && *z > 0.0 && *z < 1.0);
        let valid_weights = weight_sets
            .iter()
            .all(|w| w.len() == zs.len() && w.iter().all(|w| w.is_finite() && *w >= 0.0));
        let few_sets = weight_sets.len() <= MAX_WEIGHT_SETS;
        if zs.is_empty() || !valid_z || !valid_weights || !few_sets || !big_a.is_finite() || !eps.is_finite() {
            return None;
        }
        let z_max = zs.iter().copied().fold(0.0, f64::max);
        let needed = big_a.abs() + 40.0 / (1.0 - z_max);
        if needed >= EULER_SERIES_TERMS as f64 {
            return None;
        }
        let log_1mz: Vec<f64> = zs.iter().map(|z| (-z).ln_1p()).collect();
        let heads = weight_sets
            .iter()
            .map(|w| w.iter().zip(&log_1mz).map(|(w, &l)| w * euler_head(eps, l)).sum())
            .collect();
        Some(Self {
            big_a,
            eps,
            zs: zs.to_vec(),
            weights: weight_sets.concat(),
            sets: weight_sets.len(),
            heads,
            powers: log_1mz.iter().map(|l| (eps * l).exp()).collect(),
            moments: Vec::new(),
            z_max,
        })
    }

    /// Extends the moments to M_k.
    fn moments_to(&mut self, k: usize) {
        while self.moments.len() < k * self.sets {
            for (power, z) in self.powers.iter_mut().zip(&self.zs) {
                *power *= z;
            }
            for w in self.weights.chunks(self.zs.len()) {
                self.moments.push(w.iter().zip(&self.powers).map(|(w, p)| w * p).sum());
            }
        }
    }

    /// Σ_j w_j · euler_complement(A, ε, c, z_j) for each weight set, into `out`; `None` for all
    /// where the series does not converge or its rounding would exceed
    /// [`EULER_RELATIVE_ACCURACY`] of a result (terms that alternate or cancel against H), as
    /// `euler_complement` declines.
    pub fn at(&mut self, c: f64, out: &mut [Option<f64>]) {
        out.iter_mut().for_each(|o| *o = None);
        let sets = self.sets;
        if (c <= 0.0 && c.fract() == 0.0) || !c.is_finite() {
            return;
        }
        let (mut sums, mut magnitudes) = ([0.0; MAX_WEIGHT_SETS], [0.0; MAX_WEIGHT_SETS]);
        // σ_1 = A/c; σ_(k+1) = σ_k · (A+k)(ε+k)/((c+k)(k+1)).
        let mut sigma = self.big_a / c;
        for k in 1..EULER_SERIES_TERMS {
            self.moments_to(k);
            let moments = &self.moments[(k - 1) * sets..k * sets];
            let mut small = true;
            for s in 0..sets {
                let term = sigma * moments[s];
                sums[s] += term;
                magnitudes[s] += term.abs();
                small &= term.abs() <= f64::EPSILON * 0.5 * sums[s].abs();
            }
            let ratio = euler_coefficient(self.big_a, self.eps, c, k as f64);
            // The next terms shrink by at most |ratio| · z_max each (M_(k+1) ≤ z_max M_k).
            if sigma == 0.0 || (small && (ratio * self.z_max).abs() < 1.0) {
                for s in 0..sets {
                    out[s] = within_accuracy(self.heads[s] - sums[s], self.heads[s], magnitudes[s]);
                }
                if out.iter().any(Option::is_none) {
                    out.iter_mut().for_each(|o| *o = None);
                }
                return;
            }
            sigma *= ratio;
        }
    }
}

/// The most weight sets [`WeightedEulerComplement`] sums at once.
pub const MAX_WEIGHT_SETS: usize = 4;

/// How many z [`euler_complement_many`] sums side by side (a year of month ends and a horizon).
pub const EULER_SIDE_BY_SIDE: usize = 16;

/// The ratio of the k-th term of `euler_complement`'s series to the one before, without its z.
fn euler_coefficient(big_a: f64, eps: f64, c: f64, k: f64) -> f64 {
    (big_a + k) * (eps + k) / ((c + k) * (k + 1.0))
}

/// `euler_complement`'s series at one z, summed term by term.
#[derive(Debug, Clone, Copy)]
struct EulerSeries {
    z: f64,
    log_1mz: f64,
    head: f64,
    term: f64,
    sum: f64,
    magnitude: f64,
    converged: bool,
}

enum EulerStart {
    Series(EulerSeries),
    /// No series to sum: the result at z = 0, or `None` (z outside [0, 1), too many terms).
    Done(Option<f64>),
}

impl EulerSeries {
    /// The head −expm1(ε ln(1−z))/ε and the first term A z / c.
    fn start(big_a: f64, eps: f64, c: f64, z: f64) -> EulerStart {
        if !(0.0..1.0).contains(&z) {
            return EulerStart::Done(None);
        }
        let log_1mz = (-z).ln_1p();
        let head = euler_head(eps, log_1mz);
        if z == 0.0 {
            return EulerStart::Done(Some(head));
        }
        // Beyond this many terms (|A| for the terms to turn, ~37/(1−z) for the tail) the
        // caller's quadrature is faster; the series would also accumulate rounding.
        let needed = big_a.abs() + 40.0 / (1.0 - z);
        if needed.is_nan() || needed >= EULER_SERIES_TERMS as f64 || (c <= 0.0 && c.fract() == 0.0) {
            return EulerStart::Done(None);
        }
        let term = big_a * z / c;
        EulerStart::Series(Self {
            z,
            log_1mz,
            head,
            term,
            sum: term,
            magnitude: term.abs(),
            converged: term == 0.0,
        })
    }

    /// Adds the next term, `coefficient` (`euler_coefficient`) times z times the last.
    fn add(&mut self, coefficient: f64) {
        let ratio = coefficient * self.z;
        self.term *= ratio;
        self.sum += self.term;
        self.magnitude += self.term.abs();
        self.converged =
            self.term == 0.0 || (self.term.abs() <= f64::EPSILON * 0.5 * self.sum.abs() && ratio.abs() < 1.0);
    }

    /// head − (1−z)^ε S, where the series converged and its rounding allows.
    fn value(&self, eps: f64) -> Option<f64> {
        if !self.converged {
            return None;
        }
        let scale = (eps * self.log_1mz).exp();
        within_accuracy(self.head - scale * self.sum, self.head, scale * self.magnitude)
    }
}

/// The head −expm1(ε ln(1−z))/ε of `euler_complement`'s bracket (−ln(1−z) at ε = 0), from ln(1−z).
fn euler_head(eps: f64, log_1mz: f64) -> f64 {
    if eps == 0.0 {
        -log_1mz
    } else {
        -(eps * log_1mz).exp_m1() / eps
    }
}

/// `value` = head − series, where its rounding allows [`EULER_RELATIVE_ACCURACY`]. Rounding grows
/// with the terms' magnitudes (`magnitude`, the sum of their absolute values), not their sum: when
/// the terms alternate (A < 0, as when r ≫ a + b) or the result cancels against the head, the
/// series cannot deliver it, and the caller integrates instead.
fn within_accuracy(value: f64, head: f64, magnitude: f64) -> Option<f64> {
    let rounding = 64.0 * f64::EPSILON * (head.abs() + magnitude);
    (value.is_finite() && rounding <= EULER_RELATIVE_ACCURACY * value.abs()).then_some(value)
}

/// Terms `euler_complement` may sum.
const EULER_SERIES_TERMS: usize = 100_000;

/// Relative accuracy `euler_complement` guarantees, or it returns `None`.
pub const EULER_RELATIVE_ACCURACY: f64 = 1e-11;

/// ln 2F1(a, b; a+1; z) for a > 0, b < a + 1 and 0 ≤ z < 1: the hypergeometric function of the
/// Pareto/NBD likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model", eq. 22).
///
/// Euler's transformation (A&S 15.3.3) gives (1−z)^(1−b) Σ_k (a+1−b)_k / (a+1)_k z^k: every term
/// is positive and smaller than the one before, so nothing overflows or cancels for large a
/// (large x) or large b. The term ratio rises towards z, so the tail after a term is at most
/// term · z/(1−z), which is the stopping rule. Near z = 1 the series needs about 37/(1−z) terms;
/// past `HYP2F1_SERIES_TERMS` it switches to the integral a ∫₀¹ t^(a−1) (1−zt)^(−b) dt
/// (A&S 15.3.1), integrated in u = t^a by adaptive Gauss–Legendre quadrature.
pub fn ln_hyp2f1_c_is_a_plus_1(a: f64, b: f64, z: f64) -> Option<f64> {
    ln_hyp2f1_c_is_a_plus_1_near_one(a, b, z, 1.0 - z)
}

/// As `ln_hyp2f1_c_is_a_plus_1`, given 1 − z as well: near z = 1 the caller can often form 1 − z
/// without the cancellation of subtracting z from 1, and the result depends on ln(1−z).
pub fn ln_hyp2f1_c_is_a_plus_1_near_one(a: f64, b: f64, z: f64, one_minus_z: f64) -> Option<f64> {
    if !(a > 0.0 && b < a + 1.0 && (0.0..1.0).contains(&z) && one_minus_z > 0.0) {
        return None;
    }
    let p = a + 1.0 - b;
    let log_1mz = one_minus_z.ln();
    let tail_factor = z / one_minus_z;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..HYP2F1_SERIES_TERMS {
        if term * tail_factor <= 0.5 * f64::EPSILON * sum {
            return Some((1.0 - b) * log_1mz + sum.ln());
        }
        let k = k as f64;
        term *= (p + k) / (a + 1.0 + k) * z;
        sum += term;
    }
    // The integrand (1 − z u^(1/a))^(−b), scaled by (1−z)^b to stay within [(1−z)^b, 1], is
    // (1 + z/(1−z) · (1 − u^(1/a)))^(−b), with 1 − u^(1/a) = −expm1(ln(u)/a) free of cancellation.
    let scaled = integrate(
        |u| (1.0 - tail_factor * (u.ln() / a).exp_m1()).powf(-b),
        0.0,
        1.0,
        1e-13,
    )?;
    Some(scaled.ln() - b * log_1mz)
}

/// `ln_hyp2f1_c_is_a_plus_1_near_one` with its gradient in (a, b, z), each partial with the other
/// two held, from the same Euler-transformed series ln F = (1−b) ln(1−z) + ln S, S = Σ_k t_k,
/// t_k = (p)_k / (a+1)_k z^k, p = a+1−b, differentiated term by term:
/// ∂ ln t_k/∂p = Σ_{j<k} 1/(p+j), ∂ ln t_k/∂a (through (a+1)_k) = −Σ_{j<k} 1/(a+1+j), and
/// ∂ ln t_k/∂z = k/z, so ∂F/∂a = (S_p + S_a)/S, ∂F/∂b = −ln(1−z) − S_p/S and
/// ∂F/∂z = −(1−b)/(1−z) + S_z/S (∂ ln F/∂z at z = 0 is ab/(a+1), the series' first coefficient).
/// The series runs until the tails of all four sums are below half an ulp of S (the weights grow
/// at most linearly, so the tail after t_k is bounded as for S with an extra 1/(1−z)).
/// `None` where the series would need more than `HYP2F1_SERIES_TERMS` terms or the arguments are
/// outside the domain.
pub fn ln_hyp2f1_c_is_a_plus_1_with_gradient(a: f64, b: f64, z: f64, one_minus_z: f64) -> Option<(f64, [f64; 3])> {
    if !(a > 0.0 && b < a + 1.0 && (0.0..1.0).contains(&z) && one_minus_z > 0.0) {
        return None;
    }
    let log_1mz = one_minus_z.ln();
    if z == 0.0 {
        return Some((0.0, [0.0, 0.0, a * b / (a + 1.0)]));
    }
    let p = a + 1.0 - b;
    let tail_factor = z / one_minus_z;
    let inv_1mz = 1.0 / one_minus_z;
    let (mut term, mut sum) = (1.0, 1.0);
    // Running Σ_{j<k} 1/(p+j) and Σ_{j<k} 1/(a+1+j), and the weighted sums.
    let (mut d_p, mut d_a) = (0.0, 0.0);
    let (mut sum_p, mut sum_a, mut sum_k) = (0.0, 0.0, 0.0);
    for k in 0..HYP2F1_SERIES_TERMS {
        let kf = k as f64;
        let growth = (1.0 / (p + kf) + 1.0 / (a + 1.0 + kf)) * inv_1mz;
        let tail = term * (tail_factor * (1.0 + d_p + d_a + growth) + (kf + inv_1mz) * inv_1mz);
        if tail <= 0.5 * f64::EPSILON * sum {
            let (ln_sum, inv_sum) = (sum.ln(), 1.0 / sum);
            let d_b = -log_1mz - sum_p * inv_sum;
            let d_a_total = (sum_p - sum_a) * inv_sum;
            let d_z = -(1.0 - b) * inv_1mz + sum_k / z * inv_sum;
            return Some(((1.0 - b) * log_1mz + ln_sum, [d_a_total, d_b, d_z]));
        }
        d_p += 1.0 / (p + kf);
        d_a += 1.0 / (a + 1.0 + kf);
        term *= (p + kf) / (a + 1.0 + kf) * z;
        sum += term;
        sum_p += term * d_p;
        sum_a += term * d_a;
        sum_k += term * (kf + 1.0);
    }
    None
}

/// Series terms `ln_hyp2f1_c_is_a_plus_1` sums before it integrates instead (z ≳ 0.9995).
const HYP2F1_SERIES_TERMS: usize = 60_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn euler_complement_at_many_z_is_euler_complement_at_each_to_the_last_bit() {
        // Parameters where the series converges quickly, slowly (z near 1), alternates (A < 0),
        // is refused (too many terms) or has ε = 0; z outside [0, 1) and z = 0 included; more z
        // than are summed side by side (`EULER_SIDE_BY_SIDE`), so that the second batch is
        // checked too.
        let mut zs = vec![0.0, 0.05, 0.3, 0.41, 0.7, 0.95, 0.9995, 1.0, -0.1];
        zs.extend((1..=12).map(|month| month as f64 / (month as f64 + 30.0)));
        assert!(zs.len() > EULER_SIDE_BY_SIDE);
        for (big_a, eps, c) in [
            (1.4, -0.2, 3.2),
            (-30.0, 0.5, 2.0),
            (0.9, 0.0, 1.5),
            (2.0e5, 0.3, 5.0),
            (5.0, 1.7, 40.0),
        ] {
            let mut many = vec![Some(f64::NAN); zs.len()];
            euler_complement_many(big_a, eps, c, &zs, &mut many);
            for (&z, got) in zs.iter().zip(&many) {
                let one = euler_complement(big_a, eps, c, z);
                assert_eq!(
                    got.map(f64::to_bits),
                    one.map(f64::to_bits),
                    "({big_a}, {eps}, {c}, {z})"
                );
            }
        }
    }

    #[test]
    fn ln_hyp2f1_gradient_matches_the_untransformed_series_and_a_closed_form() {
        // Independently of the Euler-transformed series: F = Σ_k a/(a+k) (b)_k/k! z^k (A&S
        // 15.1.1 with c = a+1, (a)_k/(a+1)_k = a/(a+k)), differentiated term by term:
        // ∂F/∂a = Σ k/(a+k)² (b)_k/k! z^k, ∂F/∂b = Σ a/(a+k) (b)_k/k! [Σ_{j<k} 1/(b+j)] z^k,
        // ∂F/∂z = Σ a/(a+k) (b)_k/k! k z^(k−1); summed to 4000 terms (z ≤ 0.8: the rest < 1e-300).
        let untransformed = |a: f64, b: f64, z: f64| {
            let (mut coefficient, mut psi) = (1.0, 0.0); // (b)_k/k!, Σ_{j<k} 1/(b+j)
            let (mut f, mut fa, mut fb, mut fz) = (0.0, 0.0, 0.0, 0.0);
            for k in 0..4000 {
                let kf = k as f64;
                let zk = z.powi(k);
                f += a / (a + kf) * coefficient * zk;
                fa += kf / ((a + kf) * (a + kf)) * coefficient * zk;
                fb += a / (a + kf) * coefficient * psi * zk;
                if k > 0 {
                    fz += a / (a + kf) * coefficient * kf * z.powi(k - 1);
                }
                psi += 1.0 / (b + kf);
                coefficient *= (b + kf) / (kf + 1.0);
            }
            (f.ln(), [fa / f, fb / f, fz / f])
        };
        for &(a, b, z) in &[
            (1.0, 1.0, 0.5),
            (3.7, 1.3, 0.2),
            (0.4, 1.2, 0.75),
            (25.0, 0.3, 0.6),
            (2.0, -0.5, 0.8),
        ] {
            let (value, gradient) = ln_hyp2f1_c_is_a_plus_1_with_gradient(a, b, z, 1.0 - z).unwrap();
            let (expected, expected_gradient) = untransformed(a, b, z);
            assert_close(value, expected, 1e-13);
            for (g, e) in gradient.iter().zip(expected_gradient) {
                assert!(
                    (g - e).abs() < 1e-12 * (1.0 + e.abs()),
                    "({a}, {b}, {z}): {gradient:?} vs {expected_gradient:?}"
                );
            }
        }
        // 2F1(1, 1; 2; z) = −ln(1−z)/z: ∂ ln F/∂z = 1/((1−z)(−ln(1−z))) − 1/z; at b = 0, F = 1 and
        // ∂ ln F/∂b = Σ_{k≥1} z^k/(k(k+1)) = 1 + (1−z) ln(1−z)/z (a = 1); at z = 0, ∂/∂z = ab/(a+1).
        let z: f64 = 0.7;
        let (_, g) = ln_hyp2f1_c_is_a_plus_1_with_gradient(1.0, 1.0, z, 1.0 - z).unwrap();
        assert_close(g[2], 1.0 / ((1.0 - z) * -(1.0 - z).ln()) - 1.0 / z, 1e-14);
        let (value, g) = ln_hyp2f1_c_is_a_plus_1_with_gradient(1.0, 0.0, z, 1.0 - z).unwrap();
        assert!(value.abs() < 1e-15, "{value}");
        assert_close(g[1], 1.0 + (1.0 - z) * (1.0 - z).ln() / z, 1e-14);
        assert_eq!(
            ln_hyp2f1_c_is_a_plus_1_with_gradient(3.0, 2.0, 0.0, 1.0),
            Some((0.0, [0.0, 0.0, 1.5]))
        );
        // Its value is the plain function's.
        let plain = ln_hyp2f1_c_is_a_plus_1(3.7, 1.3, 0.2).unwrap();
        assert_close(
            ln_hyp2f1_c_is_a_plus_1_with_gradient(3.7, 1.3, 0.2, 0.8).unwrap().0,
            plain,
            1e-15,
        );
    }

    #[test]
    fn hyp2f1_series_matches_closed_forms() {
        // 2F1(1,1;2;z) = −ln(1−z)/z; at z = 0.7 the value 1.719961149037051 is also what
        // Cephes and SciPy's xsf give (see shared/DEPS.md).
        assert_close(hyp2f1_series(1.0, 1.0, 2.0, 0.7).unwrap(), -(0.3f64).ln() / 0.7, 1e-14);
        assert_close(hyp2f1_series(1.0, 1.0, 2.0, 0.7).unwrap(), 1.719961149037051, 1e-14);
        // 2F1(a,b;b;z) = (1−z)^(−a)
        assert_close(hyp2f1_series(2.5, 3.0, 3.0, 0.4).unwrap(), 0.6f64.powf(-2.5), 1e-14);
        // 2F1(1/2,1/2;3/2;z²) = arcsin(z)/z
        let z = 0.9f64;
        assert_close(hyp2f1_series(0.5, 0.5, 1.5, z * z).unwrap(), z.asin() / z, 1e-13);
        // Negative z: 2F1(1,1;2;−z) = ln(1+z)/z
        assert_close(hyp2f1_series(1.0, 1.0, 2.0, -0.5).unwrap(), 1.5f64.ln() / 0.5, 1e-14);
        assert!(hyp2f1_series(1.0, 1.0, 2.0, 1.0).is_none());
    }

    #[test]
    fn euler_complement_equals_untransformed_bracket() {
        // For a, b, r, x where both forms are well conditioned, the transformed bracket must equal
        // [1 − (1−z)^(r+x) 2F1(r+x, b+x; a+b+x−1; z)] / (a−1) summed directly.
        let (r, a, b): (f64, f64, f64) = (0.243, 1.793, 2.426);
        for &(x, z) in &[(0.0f64, 0.3f64), (2.0, 0.45), (7.0, 0.2)] {
            let c = a + b + x - 1.0;
            let direct = (1.0 - (1.0 - z).powf(r + x) * hyp2f1_series(r + x, b + x, c, z).unwrap()) / (a - 1.0);
            let transformed = euler_complement(a + b - 1.0 - r, a - 1.0, c, z).unwrap();
            assert_close(transformed, direct, 1e-12);
        }
    }

    #[test]
    fn euler_complement_declines_what_it_cannot_sum_accurately() {
        // A = a+b−1−r with r = 10⁴ ≫ a+b: the terms alternate and cancel to ~1e-4000 of their
        // size; the series must say so rather than return a number (it returned 22.39 for 10.87).
        assert!(euler_complement(2.3 - 1e4, -0.2, 2.3, 52.0 / 10062.0).is_none());
        // z within 1e-7 of 1 would need ~4·10⁸ terms: declined before summing.
        assert!(euler_complement(1.0, -0.2, 2.3, 1.0 - 1e-7).is_none());
    }

    #[test]
    fn weighted_brackets_equal_the_weighted_sum_of_each_bracket() {
        // Against Σ_j w_j euler_complement(A, ε, c, z_j) (itself checked against the
        // untransformed bracket above): a year of month ends at T = 30 and α = 4.4 weighted by a
        // 1% monthly discount's differences, and the horizon alone, for c from 0.3 to 5,000 at
        // parameters where the series converge fast, slowly, with ε < 0, ε = 0 and ε > 0.
        let (horizons, monthly, at_horizon) = year_of_month_ends();
        let zs: Vec<f64> = horizons.iter().map(|h| h / (4.4 + 30.0 + h)).collect();
        let sets: [&[f64]; 2] = [&monthly, &at_horizon];
        for (big_a, eps) in [(1.4, -0.2), (2.0, 0.0), (0.9, 1.3), (-0.6, -0.5), (40.0, 2.0)] {
            let mut weighted = WeightedEulerComplement::new(big_a, eps, &zs, &sets).unwrap();
            for c in [0.3, 1.0, 2.5, 17.0, 120.0, 5000.0] {
                let mut got = [None; 2];
                weighted.at(c, &mut got);
                for (set, got) in sets.iter().zip(got) {
                    let expected: f64 = set
                        .iter()
                        .zip(&zs)
                        .map(|(w, &z)| w * euler_complement(big_a, eps, c, z).unwrap())
                        .sum();
                    let got = got.unwrap_or_else(|| panic!("({big_a}, {eps}, {c}) declined"));
                    assert_close(got, expected, 1e-13);
                }
            }
        }
    }

    #[test]
    fn weighted_brackets_decline_what_cannot_be_summed_accurately() {
        let sets: [&[f64]; 1] = [&[0.5, 0.5]];
        // Terms that alternate and cancel (r ≫ a + b, as for one bracket above).
        let mut weighted = WeightedEulerComplement::new(2.3 - 1e4, -0.2, &[0.002, 0.005], &sets).unwrap();
        let mut out = [Some(1.0)];
        weighted.at(2.3, &mut out);
        assert_eq!(out, [None]);
        // z at or next to 1, z = 0, a negative weight: not a weighted series at all.
        assert!(WeightedEulerComplement::new(1.0, -0.2, &[0.3, 1.0 - 1e-7], &sets).is_none());
        assert!(WeightedEulerComplement::new(1.0, -0.2, &[0.3, 1.0], &sets).is_none());
        assert!(WeightedEulerComplement::new(1.0, -0.2, &[0.0, 0.3], &sets).is_none());
        assert!(WeightedEulerComplement::new(1.0, -0.2, &[0.2, 0.3], &[&[0.5, -0.1]]).is_none());
        // c a non-positive integer: the series is not defined.
        let mut weighted = WeightedEulerComplement::new(1.0, -0.2, &[0.2, 0.3], &sets).unwrap();
        weighted.at(0.0, &mut out);
        assert_eq!(out, [None]);
    }

    #[test]
    fn euler_complement_is_continuous_through_a_equal_one() {
        // ε = 0 is the limit −ln(1−z) − S(ε=0); the values at ε = ±1e−9 must agree with it.
        let at_zero = euler_complement(1.5, 0.0, 3.0, 0.6).unwrap();
        let below = euler_complement(1.5, -1e-9, 3.0, 0.6).unwrap();
        let above = euler_complement(1.5, 1e-9, 3.0, 0.6).unwrap();
        assert_close(below, at_zero, 1e-8);
        assert_close(above, at_zero, 1e-8);
        // With A = 0 the series vanishes and the value is −ln(1−z) exactly.
        assert_close(euler_complement(0.0, 0.0, 3.0, 0.6).unwrap(), -(0.4f64).ln(), 1e-15);
    }
}
