//! Special functions shared by the models: log-sum-exp, ln Γ ratios, the Gauss hypergeometric
//! function 2F1 in the forms the models need (`hypergeometric`), and adaptive Gauss–Legendre
//! quadrature (`quadrature`).
//!
//! statrs supplies ln Γ, ψ and the regularized incomplete beta function; it has no 2F1, so the
//! series the BG/NBD and Pareto/NBD expressions need are summed here.

mod exponential_integral;
mod hypergeometric;
mod quadrature;
mod sinh_trapezoid;

pub use exponential_integral::*;
pub use hypergeometric::*;
pub use quadrature::*;
pub use sinh_trapezoid::*;
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

/// ψ′(x), the trigamma function, for x > 0 (NaN elsewhere): the recurrence
/// ψ′(x) = ψ′(x + 1) + 1/x² (A&S 6.4.6) up to x ≥ 10, then the asymptotic series A&S 6.4.12,
/// 1/x + 1/(2x²) + Σ B₂ₖ/x^(2k+1), to B₁₆, whose first omitted term is below 1e-17 there.
/// statrs has ψ but not ψ′; the likelihoods' Hessians need it.
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut shifted) = (x, 0.0);
    while x < 10.0 {
        shifted += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // B₂ … B₁₆: 1/6, −1/30, 1/42, −1/30, 5/66, −691/2730, 7/6, −3617/510.
    let series = inv2
        * (1.0 / 6.0
            + inv2
                * (-1.0 / 30.0
                    + inv2
                        * (1.0 / 42.0
                            + inv2
                                * (-1.0 / 30.0
                                    + inv2
                                        * (5.0 / 66.0
                                            + inv2
                                                * (-691.0 / 2730.0 + inv2 * (7.0 / 6.0 - inv2 * 3617.0 / 510.0)))))));
    shifted + inv * (1.0 + inv * 0.5 + series)
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

/// ln w − ψ(w) for w > 0, without the cancellation of two large values when w is large
/// (A&S 6.3.18 for w ≥ `STIRLING_FROM`: 1/(2w) + 1/(12w²) − 1/(120w⁴) + 1/(252w⁶), error below
/// 1e-22 there).
pub fn ln_minus_digamma(w: f64) -> f64 {
    if w < STIRLING_FROM {
        return w.ln() - digamma(w);
    }
    let inv = 1.0 / w;
    let inv2 = inv * inv;
    inv / 2.0 + inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 / 252.0))
}

/// ln of the gamma density of shape y and mean μ at z = μ(1 + u), plus ln z:
/// y [ln(1 + u) − u] + ½ ln y − ½ ln 2π − c(y), with c(y) = ln Γ(y) − [(y − ½) ln y − y + ½ ln 2π]
/// (Stirling's remainder, A&S 6.1.41). Written so, it keeps its digits when y is huge (a spend
/// model near its limit: y = 10⁹ makes each term of the textbook form about 2·10¹⁰, which leaves
/// 10⁻⁶ of the density's logarithm) and u is the relative distance from the mean.
pub fn ln_gamma_density_relative(y: f64, u: f64) -> f64 {
    let correction = if y < STIRLING_FROM {
        ln_gamma(y) - ((y - 0.5) * y.ln() - y + LN_SQRT_2PI)
    } else {
        stirling_correction(y)
    };
    y * (u.ln_1p() - u) + 0.5 * y.ln() - LN_SQRT_2PI - correction
}

/// ½ ln 2π.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_7;

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
    fn trigamma_matches_closed_forms_and_high_precision_values() {
        use std::f64::consts::PI;
        // ψ′(1) = π²/6, ψ′(½) = π²/2 (A&S 6.4.2, 6.4.4); ψ′(n + 1) = π²/6 − Σ_{k≤n} 1/k² (6.4.6).
        assert_close(trigamma(1.0), PI * PI / 6.0, 1e-15);
        assert_close(trigamma(0.5), PI * PI / 2.0, 1e-15);
        let below_five: f64 = (1..=4).map(|k| 1.0 / f64::from(k * k)).sum();
        assert_close(trigamma(5.0), PI * PI / 6.0 - below_five, 1e-15);
        // ψ′(¼) = π² + 8G, G = 0.9159655941772190150546 (Catalan's constant).
        assert_close(trigamma(0.25), PI * PI + 8.0 * 0.915_965_594_177_219, 1e-15);
        // mpmath.psi(1, x) at 30 digits, here to f64's: across the recurrence's range, the
        // series' start and far beyond it (BG/NBD's r, Gamma-Gamma's q, a large p·x + q).
        // 18.141779787095829501, 1000001.6425331958273, 0.3058775600434973254,
        // 0.068938227847683806226, 8.103727271269666527e-4, 1.0000000500000016667e-7.
        for (x, exact) in [
            (0.243, 18.141_779_787_095_828),
            (1e-3, 1_000_001.642_533_195_8),
            (3.7442, 0.305_877_560_043_497_3),
            (15.0, 0.068_938_227_847_683_8),
            (1234.5, 8.103_727_271_269_667e-4),
            (1e7, 1.000_000_050_000_001_7e-7),
        ] {
            assert_close(trigamma(x), exact, 2e-15);
        }
        assert!(trigamma(0.0).is_nan() && trigamma(-1.5).is_nan() && trigamma(f64::NAN).is_nan());
    }

    #[test]
    fn log_add_exp_matches_direct_sum_and_survives_huge_arguments() {
        assert_close(log_add_exp(1.0, 2.0), (1f64.exp() + 2f64.exp()).ln(), 1e-15);
        // ln(e^1000 + e^1000) = 1000 + ln 2; the direct form overflows.
        assert_close(log_add_exp(1000.0, 1000.0), 1000.0 + std::f64::consts::LN_2, 1e-15);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, -3.0), -3.0);
    }

    #[test]
    fn ln_minus_digamma_and_the_relative_gamma_density_keep_their_digits_at_huge_arguments() {
        // ln w − ψ(w), 40-digit mpmath: 0.2131340912289118779578369 (2.5),
        // 3.333703703687242801837697e-4 (1500), 5.00000008333333333333325e-8 (1e7),
        // 1.54320987733704211756338e-9 (3.24e8; the plain difference has no digit left there).
        // Below the switch it is statrs' ψ (about 1e-15 relative on 0.70), less 0.92: 1e-14.
        assert_close(ln_minus_digamma(2.5), 0.2131340912289119, 1e-14);
        assert_close(ln_minus_digamma(1500.0), 0.0003333703703687243, 1e-15);
        assert_close(ln_minus_digamma(1e7), 5.000000083333333e-08, 1e-15);
        assert_close(ln_minus_digamma(3.24e8), 1.5432098773370421e-09, 1e-15);
        // The density of shape y and mean μ at μ(1+u), plus ln z, against the textbook form
        // y ln(y/μ) − ln Γ(y) + (y−1) ln z − yz/μ + ln z where that keeps its digits (y ≤ 50),
        // on both sides of the Stirling switch.
        for (y, u) in [(2.5, 0.3), (50.0, -0.2), (999.0, 0.01), (1001.0, 0.01)] {
            let (mu, z): (f64, f64) = (7.0, 7.0 * (1.0 + u));
            let textbook = y * (y / mu).ln() - ln_gamma(y) + (y - 1.0) * z.ln() - y * z / mu + z.ln();
            assert_close(ln_gamma_density_relative(y, u), textbook, 1e-12);
        }
        // y = 3.24e8, u = −5.5e-5 (μ = 1): 40-digit mpmath of the textbook form gives
        // 8.389120534175194117068507, whose terms are each about 6e9; in doubles that form keeps
        // about six digits.
        assert_close(ln_gamma_density_relative(3.24e8, -5.5e-5), 8.389120534175195, 1e-13);
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
