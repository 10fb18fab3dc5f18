//! Expectations under a Beta density by the trapezoidal rule in a doubly-exponential variable:
//! few nodes for an integrand analytic on (0, 1), where the adaptive `beta_expectation` pays
//! for its robustness with hundreds.

use super::{log_add_exp, logistic};

/// E[h(p)] for p ~ Beta(a, b), for h analytic on (0, 1) and bounded by a power of p(1−p), by
/// the trapezoidal rule in τ, with p = logistic(t) and t = t* + w sinh τ: in t = ln(p/(1−p)) the
/// density times dp/dt is p^a (1−p)^b, smooth and log-concave, with its mode at t* = ln(a/b) and
/// curvature ab/(a+b) = 1/w² there; the sinh makes both tails fall doubly exponentially in τ, so
/// the rule converges exponentially in the number of nodes (Takahasi & Mori's DE rule; Bailey,
/// Jeyabalan & Li 2005 for the sinh–sinh form). The step is halved, reusing the nodes, until two
/// successive estimates agree to `rel_tol`; numerator and denominator share every node, and their
/// ratio divides out B(a, b).
///
/// `None` where the density's logarithm is too large to keep `rel_tol` of its differences
/// (a + b > `MAX_CONCENTRATION`), an integrand is not finite, or `MAX_LEVELS` halvings do not
/// agree: the caller then has `beta_expectation`, which also cuts the interval at the features
/// of a concentrated density.
pub fn beta_expectation_sinh(a: f64, b: f64, h: impl Fn(f64) -> f64, rel_tol: f64) -> Option<f64> {
    if !(a > 0.0 && b > 0.0 && a + b <= MAX_CONCENTRATION) {
        return None;
    }
    let centre = (a / b).ln();
    let scale = ((a + b) / (a * b)).sqrt();
    let ln_density_at_centre = ln_density(a, b, centre);
    // The terms at τ, of the numerator and the denominator (dt/dτ = w cosh τ).
    let terms = |tau: f64| -> (f64, f64) {
        let t = centre + scale * tau.sinh();
        let density = (ln_density(a, b, t) - ln_density_at_centre).exp() * scale * tau.cosh();
        (h(logistic(t)) * density, density)
    };
    // Level 0: step 1/2, every τ = k/2 out to where both sums stop changing.
    let mut step = INITIAL_STEP;
    let (mut numerator, mut denominator) = terms(0.0);
    for side in [1.0, -1.0] {
        let (n, d) = sum_outwards(&terms, side * step, side * step)?;
        numerator += n;
        denominator += d;
    }
    let mut estimate = numerator / denominator;
    for _ in 0..MAX_LEVELS {
        // The midpoints τ = (2k+1) step/2 on both sides.
        let half = step / 2.0;
        for side in [1.0, -1.0] {
            let (n, d) = sum_outwards(&terms, side * half, side * step)?;
            numerator += n;
            denominator += d;
        }
        step = half;
        let refined = numerator / denominator;
        if !refined.is_finite() {
            return None;
        }
        let change = (refined - estimate).abs();
        estimate = refined;
        if change <= rel_tol * refined.abs() {
            return Some(refined);
        }
    }
    None
}

/// Σ over τ = first, first + stride, … (stride signed) of `terms`, until both terms fall below
/// `TAIL` of the sums so far (and stay: the density is log-concave in t and doubly exponential in
/// τ beyond its mode) or τ passes `MAX_TAU`; `None` if a term is not finite.
fn sum_outwards(terms: &impl Fn(f64) -> (f64, f64), first: f64, stride: f64) -> Option<(f64, f64)> {
    let (mut numerator, mut denominator) = (0.0, 0.0);
    let mut tau = first;
    while tau.abs() <= MAX_TAU {
        let (n, d) = terms(tau);
        if !(n.is_finite() && d.is_finite()) {
            return None;
        }
        numerator += n;
        denominator += d;
        if tau.abs() >= 1.0 && n.abs() <= TAIL * numerator.abs() && d <= TAIL * denominator {
            break;
        }
        tau += stride;
    }
    Some((numerator, denominator))
}

/// a ln p + b ln(1−p) at p = logistic(t), each logarithm as −ln(1 + e^(∓t)) without overflow.
fn ln_density(a: f64, b: f64, t: f64) -> f64 {
    -a * log_add_exp(0.0, -t) - b * log_add_exp(0.0, t)
}

/// Beyond this a + b the log-density (about (a+b) times an O(1) number) keeps fewer than 12
/// digits of its differences, which the weights need; `beta_expectation` measures them from
/// the mode.
const MAX_CONCENTRATION: f64 = 1e4;

/// The first step in τ.
const INITIAL_STEP: f64 = 0.5;

/// Halvings of the step before giving up (the step then is 2^-9: thousands of nodes).
const MAX_LEVELS: usize = 8;

/// Where a side's sum stops: a term below this share of the sum so far.
const TAIL: f64 = 1e-18;

/// The farthest τ: t − t* = w sinh 12 ≈ 8·10⁴ w.
const MAX_TAU: f64 = 12.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::beta_expectation;
    use crate::test_support::*;

    #[test]
    fn sinh_trapezoid_gives_beta_moments_in_closed_form() {
        // E[p^k (1−p)^m] = B(a+k, b+m)/B(a, b) = (a)_k (b)_m / (a+b)_(k+m); E[1/(1+cp)] against
        // `beta_expectation`. Densities infinite at one end, both ends, concentrated (a+b = 5000)
        // and against an end (a = 0.01, b = 300).
        let rising = |x: f64, k: i32| (0..k).map(|j| x + j as f64).product::<f64>();
        for (a, b) in [
            (0.18, 0.72),
            (0.5, 3.0),
            (2.0, 0.3),
            (40.0, 60.0),
            (0.01, 300.0),
            (2500.0, 2500.0),
        ] {
            for (k, m) in [(1, 0), (0, 2), (2, 3)] {
                let moment = beta_expectation_sinh(a, b, |p| p.powi(k) * (1.0 - p).powi(m), 1e-12).unwrap();
                let expected = rising(a, k) * rising(b, m) / rising(a + b, k + m);
                assert_close(moment, expected, 1e-11);
            }
            let stieltjes = |p: f64| 1.0 / (1.0 + 500.0 * p);
            let sinh = beta_expectation_sinh(a, b, stieltjes, 1e-12).unwrap();
            assert_close(sinh, beta_expectation(a, b, stieltjes, 1e-12).unwrap(), 1e-11);
        }
    }

    #[test]
    fn sinh_trapezoid_declines_what_it_cannot_do() {
        assert!(beta_expectation_sinh(0.0, 1.0, |_| 1.0, 1e-12).is_none());
        assert!(beta_expectation_sinh(1.0, f64::NAN, |_| 1.0, 1e-12).is_none());
        assert!(beta_expectation_sinh(1e5, 1e5, |_| 1.0, 1e-12).is_none());
        assert!(beta_expectation_sinh(1.0, 2.0, |_| f64::NAN, 1e-12).is_none());
    }
}
