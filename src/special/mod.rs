//! Special functions shared by the models: log-sum-exp, ln Γ ratios, the Gauss hypergeometric
//! function 2F1 in the forms the models need (`hypergeometric`), and adaptive Gauss–Legendre
//! quadrature (`quadrature`).
//!
//! statrs supplies ln Γ, ψ and the regularized incomplete beta function; it has no 2F1, so the
//! series the BG/NBD and Pareto/NBD expressions need are summed here.

mod hypergeometric;
mod quadrature;

pub use hypergeometric::*;
pub use quadrature::*;
pub use statrs::function::beta::{beta_reg, ln_beta};
pub use statrs::function::gamma::{digamma, ln_gamma};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn log_add_exp_matches_direct_sum_and_survives_huge_arguments() {
        assert_close(log_add_exp(1.0, 2.0), (1f64.exp() + 2f64.exp()).ln(), 1e-15);
        // ln(e^1000 + e^1000) = 1000 + ln 2; the direct form overflows.
        assert_close(log_add_exp(1000.0, 1000.0), 1000.0 + std::f64::consts::LN_2, 1e-15);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, -3.0), -3.0);
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
}
