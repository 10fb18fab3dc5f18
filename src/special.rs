//! Special functions shared by the models: log-sum-exp and the Gauss hypergeometric series 2F1.
//!
//! statrs supplies ln Γ, ψ and the regularized incomplete beta function; it has no 2F1, so the
//! series the BG/NBD expectations need are summed here.

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
    let mut term = big_a * z / c;
    let mut sum = term;
    let mut converged = term == 0.0;
    for k in 1..MAX_SERIES_TERMS {
        if converged {
            break;
        }
        let k = k as f64;
        let ratio = (big_a + k) * (eps + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        converged = term == 0.0 || (term.abs() <= f64::EPSILON * 0.5 * sum.abs() && ratio.abs() < 1.0);
    }
    if !converged {
        return None;
    }
    let value = head - (eps * log_1mz).exp() * sum;
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, rel: f64) {
        let err = ((actual - expected) / expected).abs();
        assert!(
            err <= rel,
            "actual {actual}, expected {expected}, relative error {err:e}"
        );
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
