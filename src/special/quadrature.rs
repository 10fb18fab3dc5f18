//! Adaptive Gauss–Legendre quadrature, and expectations under a Beta density taken with it.

use std::sync::OnceLock;

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
}
