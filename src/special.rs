//! Special functions shared by the models: log-sum-exp, the Gauss hypergeometric function 2F1 in
//! the forms the models need, and adaptive Gauss–Legendre quadrature.
//!
//! statrs supplies ln Γ, ψ and the regularized incomplete beta function; it has no 2F1, so the
//! series the BG/NBD and Pareto/NBD expressions need are summed here.

use std::sync::OnceLock;

pub use statrs::function::beta::{beta_reg, ln_beta};
pub use statrs::function::gamma::{digamma, ln_gamma};

/// The most terms a hypergeometric series may take before it is declared non-convergent.
const MAX_SERIES_TERMS: usize = 1_000_000;

/// ln(e^a + e^b), without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// e^d / (1 + e^d): the weight of the second term in ln(e^u + e^(u+d)), stable for any d.
pub fn logistic(d: f64) -> f64 {
    if d >= 0.0 {
        1.0 / (1.0 + (-d).exp())
    } else {
        let e = d.exp();
        e / (1.0 + e)
    }
}

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
    if !(0.0..1.0).contains(&z) {
        return None;
    }
    let log_1mz = (-z).ln_1p();
    let head = if eps == 0.0 {
        -log_1mz
    } else {
        -(eps * log_1mz).exp_m1() / eps
    };
    if z == 0.0 {
        return Some(head);
    }
    // Beyond this many terms (|A| for the terms to turn, ~37/(1−z) for the tail) the caller's
    // quadrature is faster; the series would also accumulate rounding.
    let needed = big_a.abs() + 40.0 / (1.0 - z);
    if needed.is_nan() || needed >= EULER_SERIES_TERMS as f64 || (c <= 0.0 && c.fract() == 0.0) {
        return None;
    }
    let mut term = big_a * z / c;
    let mut sum = term;
    let mut magnitude = term.abs();
    let mut converged = term == 0.0;
    for k in 1..EULER_SERIES_TERMS {
        if converged {
            break;
        }
        let k = k as f64;
        let ratio = (big_a + k) * (eps + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        magnitude += term.abs();
        converged = term == 0.0 || (term.abs() <= f64::EPSILON * 0.5 * sum.abs() && ratio.abs() < 1.0);
    }
    if !converged {
        return None;
    }
    let scale = (eps * log_1mz).exp();
    let value = head - scale * sum;
    // Rounding grows with the terms' magnitudes, not their sum: when the terms alternate (A < 0,
    // as when r ≫ a + b) or the result cancels against the head, the series cannot deliver
    // `EULER_RELATIVE_ACCURACY`, and the caller integrates instead.
    let rounding = 64.0 * f64::EPSILON * (head.abs() + scale * magnitude);
    (value.is_finite() && rounding <= EULER_RELATIVE_ACCURACY * value.abs()).then_some(value)
}

/// Terms `euler_complement` may sum.
const EULER_SERIES_TERMS: usize = 100_000;

/// Relative accuracy `euler_complement` guarantees, or it returns `None`.
pub const EULER_RELATIVE_ACCURACY: f64 = 1e-11;

/// ln Γ(z + n) − ln Γ(z) for z > 0, n ≥ 0, without the cancellation of two large ln Γ values
/// when z is large (z = 10⁶: ln Γ(z) ≈ 1.3·10⁷, so the plain difference keeps 9 digits at most).
/// For z ≥ `STIRLING_FROM`, Stirling's series (A&S 6.1.41) gives
/// (z − ½) ln(1 + n/z) + n ln(z + n) − n + c(z + n) − c(z), c(w) = 1/(12w) − 1/(360w³) + …
pub fn ln_rising(z: f64, n: f64) -> f64 {
    if n == 0.0 {
        return 0.0;
    }
    if z < STIRLING_FROM {
        return ln_gamma(z + n) - ln_gamma(z);
    }
    (z - 0.5) * (n / z).ln_1p() + n * (z + n).ln() - n + stirling_correction(z + n) - stirling_correction(z)
}

/// Where `ln_rising` switches from ln Γ differences to Stirling's series (error < 1e-17 there).
const STIRLING_FROM: f64 = 1000.0;

/// ln Γ(w) − [(w − ½) ln w − w + ½ ln 2π] for w ≥ 1000 (A&S 6.1.41; three terms reach 1e-20).
fn stirling_correction(w: f64) -> f64 {
    let inv = 1.0 / w;
    let inv2 = inv * inv;
    inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))
}

/// E[h(p)] for p ~ Beta(a, b), by adaptive Gauss–Legendre quadrature of h against the
/// unnormalised density, divided by the same quadrature of the density: so no ln B(a, b) of
/// large arguments enters. The interval is cut at the mode, at multiples of the standard
/// deviation around it and at multiples of 1/(a+b) from either end, so a density concentrated in
/// a sliver (a + b = 10⁶) or against an end (a = 10⁻³, b = 10⁶) is found, and an endpoint where
/// the density is infinite (a < 1 or b < 1) is integrated in p^a (or (1−p)^b), where it is finite.
/// Each piece is accurate to `rel_tol` of the whole integral (estimated by a coarse first pass).
/// `None` if the quadrature does not reach `rel_tol` within its panel budget.
pub fn beta_expectation(a: f64, b: f64, h: impl Fn(f64) -> f64, rel_tol: f64) -> Option<f64> {
    if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()) {
        return None;
    }
    let centre = if a > 1.0 && b > 1.0 {
        (a - 1.0) / (a + b - 2.0)
    } else {
        a / (a + b)
    };
    let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
    let mut cuts = vec![0.0, centre, 1.0];
    for k in [1.0, 3.0, 10.0, 30.0, 100.0] {
        cuts.push(centre - k * sd);
        cuts.push(centre + k * sd);
    }
    // With a ≪ 1 (or b ≪ 1) the mass lies within ~1/(a+b) of an end, far beyond a few standard
    // deviations (sd ≈ √a/b): cut there too, so that no panel's nodes step over it.
    for k in [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0] {
        cuts.push(k / (a + b));
        cuts.push(1.0 - k / (a + b));
    }
    cuts.retain(|c| (0.0..=1.0).contains(c));
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let density = BetaDensity {
        a,
        b,
        centre,
        ln_at_centre: (a - 1.0) * centre.ln() + (b - 1.0) * (-centre).ln_1p(),
    };
    let whole = |f: &dyn Fn(f64) -> f64, tolerance: f64, floor: f64| -> Option<f64> {
        let pieces: Vec<(f64, f64)> = cuts.windows(2).filter(|w| w[1] > w[0]).map(|w| (w[0], w[1])).collect();
        let per_piece = floor / pieces.len().max(1) as f64;
        pieces
            .into_iter()
            .map(|(lo, hi)| density.integrate(f, lo, hi, tolerance, per_piece))
            .sum()
    };
    // A piece far in a tail is refined to rel_tol of the whole, not to the last digit of its own
    // tiny value (which it may never reach): the whole comes from a coarse first pass.
    let numerator_scale = whole(&|p| h(p).abs(), 1e-3, 0.0)?;
    let denominator_scale = whole(&|_| 1.0, 1e-3, 0.0)?;
    let numerator = whole(&h, rel_tol, rel_tol * numerator_scale)?;
    let denominator = whole(&|_| 1.0, rel_tol, rel_tol * denominator_scale)?;
    let value = numerator / denominator;
    (value.is_finite() && denominator > 0.0).then_some(value)
}

/// The Beta(a, b) density divided by its value at `centre`, for `beta_expectation`.
struct BetaDensity {
    a: f64,
    b: f64,
    centre: f64,
    /// ln of the unnormalised density at `centre`, (a−1) ln c + (b−1) ln(1−c).
    ln_at_centre: f64,
}

impl BetaDensity {
    /// ∫ f(p) · density(p) dp on [lo, hi], in the variable that keeps the integrand finite.
    fn integrate(&self, f: &dyn Fn(f64) -> f64, lo: f64, hi: f64, rel_tol: f64, abs_tol: f64) -> Option<f64> {
        let Self {
            a,
            b,
            centre,
            ln_at_centre: shift,
        } = *self;
        if lo == 0.0 && a < 1.0 {
            // p = v^(1/a): p^(a−1) dp = dv / a.
            let g = |v: f64| {
                let p = v.powf(1.0 / a);
                f(p) * ((b - 1.0) * (-p).ln_1p() - shift).exp() / a
            };
            integrate_to(g, 0.0, hi.powf(a), rel_tol, abs_tol)
        } else if hi == 1.0 && b < 1.0 {
            // 1 − p = w^(1/b): (1−p)^(b−1) dp = dw / b.
            let g = |w: f64| {
                let q = w.powf(1.0 / b);
                f(1.0 - q) * ((a - 1.0) * (-q).ln_1p() - shift).exp() / b
            };
            integrate_to(g, 0.0, (1.0 - lo).powf(b), rel_tol, abs_tol)
        } else {
            // In d = p − centre, the log-density relative to the centre has no cancellation of
            // large terms: at a + b = 10⁶ the plain one would carry 1e-11 of noise.
            let relative = |d: f64| (a - 1.0) * (d / centre).ln_1p() + (b - 1.0) * (-d / (1.0 - centre)).ln_1p();
            integrate_to(
                |d| f(centre + d) * relative(d).exp(),
                lo - centre,
                hi - centre,
                rel_tol,
                abs_tol,
            )
        }
    }
}

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

/// Series terms `ln_hyp2f1_c_is_a_plus_1` sums before it integrates instead (z ≳ 0.9995).
const HYP2F1_SERIES_TERMS: usize = 60_000;

/// Gauss–Legendre points per panel of `integrate`.
const GAUSS_POINTS: usize = 20;

/// Nodes and weights of the `GAUSS_POINTS`-point Gauss–Legendre rule on [−1, 1], found once by
/// Newton's method on the Legendre polynomial (three-term recurrence), to machine precision.
fn gauss_legendre() -> &'static [(f64, f64)] {
    static RULE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = GAUSS_POINTS;
        (1..=n)
            .map(|i| {
                let mut x = (std::f64::consts::PI * (i as f64 - 0.25) / (n as f64 + 0.5)).cos();
                let mut derivative = 1.0;
                for _ in 0..100 {
                    let (mut p0, mut p1) = (1.0, x);
                    for k in 2..=n {
                        let k = k as f64;
                        (p0, p1) = (p1, ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k);
                    }
                    derivative = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                    let step = p1 / derivative;
                    x -= step;
                    if step.abs() < 1e-16 {
                        break;
                    }
                }
                (x, 2.0 / ((1.0 - x * x) * derivative * derivative))
            })
            .collect()
    })
}

/// One Gauss–Legendre panel of a vector of integrands.
fn gauss_panel<const N: usize>(f: &impl Fn(f64) -> [f64; N], lo: f64, hi: f64) -> [f64; N] {
    let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let mut sum = [0.0; N];
    for &(x, w) in gauss_legendre() {
        let values = f(mid + half * x);
        for (s, v) in sum.iter_mut().zip(values) {
            *s += w * v;
        }
    }
    sum.map(|s| half * s)
}

/// A panel of `integrate`: its halves' values, their sum and the error estimate |sum − coarse|
/// of the first integrand.
struct Panel<const N: usize> {
    lo: f64,
    hi: f64,
    left: [f64; N],
    right: [f64; N],
    value: [f64; N],
    error: f64,
}

impl<const N: usize> PartialEq for Panel<N> {
    fn eq(&self, other: &Self) -> bool {
        self.error.total_cmp(&other.error).is_eq()
    }
}
impl<const N: usize> Eq for Panel<N> {}
impl<const N: usize> PartialOrd for Panel<N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<const N: usize> Ord for Panel<N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.error.total_cmp(&other.error)
    }
}

/// A panel's value from its two halves, and the error estimate against `coarse`.
fn refine<const N: usize>(f: &impl Fn(f64) -> [f64; N], lo: f64, hi: f64, coarse: [f64; N]) -> Panel<N> {
    let mid = 0.5 * (lo + hi);
    let (left, right) = (gauss_panel(f, lo, mid), gauss_panel(f, mid, hi));
    let value = std::array::from_fn(|i| left[i] + right[i]);
    Panel {
        lo,
        hi,
        left,
        right,
        value,
        error: (value[0] - coarse[0]).abs(),
    }
}

/// Most panels `integrate` splits the interval into before giving up.
const MAX_PANELS: usize = 2000;

/// ∫_lo^hi f by globally adaptive Gauss–Legendre quadrature (as QUADPACK's QAG): the panel with
/// the largest error estimate is halved until the summed estimates are within `rel_tol` of the
/// integral. `None` if the integrand is not finite or `MAX_PANELS` do not reach the tolerance.
pub fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64, rel_tol: f64) -> Option<f64> {
    integrate_to(f, lo, hi, rel_tol, 0.0)
}

/// As `integrate`, also done when the error estimate is below `abs_tol`: for one piece of a larger
/// integral, whose accuracy is measured against the whole.
pub fn integrate_to(f: impl Fn(f64) -> f64, lo: f64, hi: f64, rel_tol: f64, abs_tol: f64) -> Option<f64> {
    integrate_with(|u| [f(u)], lo, hi, rel_tol, abs_tol).map(|[v]| v)
}

/// As `integrate_to` for a vector of integrands on the same panels, the panels chosen for the
/// first: an integral with its derivatives in parameters (differentiated under the integral),
/// at the cost of one set of nodes.
pub fn integrate_with<const N: usize>(
    f: impl Fn(f64) -> [f64; N],
    lo: f64,
    hi: f64,
    rel_tol: f64,
    abs_tol: f64,
) -> Option<[f64; N]> {
    let first = refine(&f, lo, hi, gauss_panel(&f, lo, hi));
    let mut panels = std::collections::BinaryHeap::from([first]);
    loop {
        let mut total = [0.0; N];
        let mut error = 0.0;
        for p in &panels {
            for (t, v) in total.iter_mut().zip(p.value) {
                *t += v;
            }
            error += p.error;
        }
        if !total.iter().all(|t| t.is_finite()) || !error.is_finite() {
            return None;
        }
        // Below 1e-300 relative precision runs out in the subnormal range: the value is 0.
        if error <= rel_tol * total[0].abs() || error <= abs_tol || error <= 1e8 * f64::MIN_POSITIVE {
            return Some(total);
        }
        if panels.len() >= MAX_PANELS {
            return None;
        }
        let worst = panels.pop()?;
        let mid = 0.5 * (worst.lo + worst.hi);
        panels.push(refine(&f, worst.lo, mid, worst.left));
        panels.push(refine(&f, mid, worst.hi, worst.right));
    }
}

/// ∫₀ᵈ f for a vector of integrands whose first is positive and non-increasing, as
/// `integrate_with`, when most of it may lie within `scale` of 0 (a density of lifetimes of
/// rate 10⁹ on a span of years, where every node of a panel over [0, d] falls where f is 0):
/// taken over [0, 100·scale], [100·scale, 10⁴·scale], … — the first node of a Gauss–Legendre
/// panel sits at 0.34% of its width, so each panel sees the mass it holds, and adapts — and
/// stopped when the rest, at most f(a)·(d − a) from the next start a on, is below `rel_tol` of
/// the total.
pub fn integrate_decreasing_with<const N: usize>(
    f: impl Fn(f64) -> [f64; N],
    d: f64,
    scale: f64,
    rel_tol: f64,
) -> Option<[f64; N]> {
    let mut total = [0.0; N];
    const GROWTH: f64 = 100.0;
    let (mut lo, mut hi) = (0.0, if scale > 0.0 { (GROWTH * scale).min(d) } else { d });
    loop {
        let piece = integrate_with(&f, lo, hi, rel_tol, rel_tol * total[0])?;
        for (t, p) in total.iter_mut().zip(piece) {
            *t += p;
        }
        if hi >= d || f(hi)[0] * (d - hi) <= rel_tol * total[0] {
            return Some(total);
        }
        (lo, hi) = (hi, (GROWTH * hi).min(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn a_decreasing_integrand_with_its_mass_next_to_0_is_found() {
        // ∫₀¹⁰ k e^(−ku) du = 1 − e^(−10k) = 1 for k = 10⁹ (a Gauss–Legendre panel over [0, 10]
        // puts its first node at 0.034, where the integrand is e^(−3.4e7) = 0), and the power
        // law ∫₀ᵈ (s/B)(1 + u/B)^−(s+1) du = 1 − (1 + d/B)^−s at s = 10⁶, B = 10⁻³, d = 10.
        let k = 1e9;
        let [exponential] = integrate_decreasing_with(|u| [k * (-k * u).exp()], 10.0, 1.0 / k, 1e-12).unwrap();
        assert_close(exponential, 1.0, 1e-12);
        let (s, b, d) = (1e6f64, 1e-3f64, 10.0f64);
        let [power] = integrate_decreasing_with(
            |u| [s / b * (-(s + 1.0) * (u / b).ln_1p()).exp()],
            d,
            b / (s + 1.0),
            1e-12,
        )
        .unwrap();
        assert_close(power, 1.0 - (-s * (d / b).ln_1p()).exp(), 1e-12);
        // An integrand spread over the whole range: one piece, as `integrate`.
        let [spread] = integrate_decreasing_with(|u| [(-0.1 * u).exp()], 10.0, 10.0, 1e-12).unwrap();
        assert_close(spread, (1.0 - (-1.0f64).exp()) / 0.1, 1e-13);
    }

    #[test]
    fn log_add_exp_matches_direct_sum_and_survives_huge_arguments() {
        assert_close(log_add_exp(1.0, 2.0), (1f64.exp() + 2f64.exp()).ln(), 1e-15);
        // ln(e^1000 + e^1000) = 1000 + ln 2; the direct form overflows.
        assert_close(log_add_exp(1000.0, 1000.0), 1000.0 + std::f64::consts::LN_2, 1e-15);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, -3.0), -3.0);
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
    fn beta_expectation_gives_the_beta_moments_however_lopsided_or_peaked() {
        // E[p^k] = a(a+1)…(a+k−1) / ((a+b)(a+b+1)…(a+b+k−1)) for k = 1, 2, 3, for Beta(a, b)
        // with ends where the density is infinite
        // (a or b = 1e-3), mass within 1/(a+b) of an end (a = 1e-3, b = 10⁶), and a sliver
        // (a + b = 10⁶).
        for (a, b) in [
            (0.8, 2.4),
            (1e-3, 1e-3),
            (1e-3, 0.8),
            (0.8, 1e-3),
            (1e-3, 1e6),
            (1e6, 1e-3),
            (1.5e5, 8.5e5),
            (0.8, 1e6),
        ] {
            let mean = beta_expectation(a, b, |p| p, 1e-12).unwrap();
            assert_close(mean, a / (a + b), 1e-12);
            let second = beta_expectation(a, b, |p| p * p, 1e-12).unwrap();
            assert_close(second, a * (a + 1.0) / ((a + b) * (a + b + 1.0)), 1e-12);
            let cube = beta_expectation(a, b, |p| p.powi(3), 1e-12).unwrap();
            let expected = a * (a + 1.0) * (a + 2.0) / ((a + b) * (a + b + 1.0) * (a + b + 2.0));
            assert_close(cube, expected, 1e-12);
        }
    }

    #[test]
    fn ln_rising_matches_ln_gamma_differences_and_stirling_beyond() {
        // Below 1000 it is the plain difference; above, Stirling's series must agree with the
        // difference where the latter still has digits (z = 1000..5000, n ≤ 50: |ln Γ| < 4e4,
        // so the plain difference is good to ~1e-11 absolute) and with Σ ln(z+j) for integer n.
        for z in [1000.0, 1234.5, 5000.0] {
            for n in [1.0, 7.0, 50.0] {
                let plain = ln_gamma(z + n) - ln_gamma(z);
                assert!((ln_rising(z, n) - plain).abs() < 1e-10, "{z} {n}");
            }
        }
        for z in [1e4, 1e6, 1e9] {
            let n = 25.0;
            let sum: f64 = (0..25).map(|j| (z + j as f64).ln()).sum();
            assert_close(ln_rising(z, n), sum, 1e-15);
        }
        assert_eq!(ln_rising(3.0, 0.0), 0.0);
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
