//! How the purchase rate varies across customers, in every model here: λ ~ Gamma(r, α), or one
//! common rate λ at the limit r, α → ∞ with r/α = λ. The purchase part of BG/NBD's eq. (6)
//! (Fader, Hardie & Lee 2005), of Pareto/NBD's and of the NBD's likelihood, their limits, and the
//! forecasts of a customer alive throughout.

use serde::{Deserialize, Serialize};

use crate::special::{digamma, ln_gamma, ln_minus_digamma, ln_rising, trigamma};

/// How the purchase rate varies across customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PurchaseRate {
    /// λ ~ Gamma(r, α), α in the data's time unit.
    Gamma { r: f64, alpha: f64 },
    /// Every customer buys at rate λ while alive (the limit r, α → ∞, r/α = λ).
    Common { lambda: f64 },
}

impl PurchaseRate {
    /// ln E_λ[λ^x e^(−λτ)]: the purchase part of a likelihood for x purchases by a customer alive
    /// for τ, ln[Γ(r+x)/Γ(r) α^r (α+τ)^−(r+x)] (eq. 6's first factor), or x ln λ − λτ at the limit.
    pub fn ln_purchases_while_alive(&self, x: f64, tau: f64) -> f64 {
        match *self {
            // r ln α − (r+x) ln(α+τ) = −r ln(1 + τ/α) − x ln(α+τ): no cancellation for large r, α.
            Self::Gamma { r, alpha } => ln_rising(r, x) - r * (tau / alpha).ln_1p() - x * (alpha + tau).ln(),
            Self::Common { lambda } => x * lambda.ln() - lambda * tau,
        }
    }

    /// `ln_purchases_while_alive` with its gradient in the rate's parameters, (r, α) or (λ, 0).
    pub(crate) fn ln_purchases_while_alive_with_gradient(&self, x: f64, tau: f64) -> (f64, [f64; 2]) {
        let value = self.ln_purchases_while_alive(x, tau);
        match *self {
            Self::Gamma { r, alpha } => {
                let d_r = digamma_difference(r, x) - (tau / alpha).ln_1p();
                let d_alpha = r / alpha - (r + x) / (alpha + tau);
                (value, [d_r, d_alpha])
            }
            Self::Common { lambda } => (value, [x / lambda - tau, 0.0]),
        }
    }

    /// The second derivatives of `ln_purchases_while_alive` in the rate's parameters, (∂r², ∂r∂α,
    /// ∂α²) = (ψ′(r+x) − ψ′(r), τ/(α(α+τ)), x/(α+τ)² − r τ(2α+τ)/(α²(α+τ)²)), each written without
    /// the cancellation of large terms as r, α grow; or (−x/λ², 0, 0).
    pub(crate) fn ln_purchases_while_alive_curvature(&self, x: f64, tau: f64) -> [f64; 3] {
        match *self {
            Self::Gamma { r, alpha } => {
                let after = alpha + tau;
                [
                    trigamma_difference(r, x),
                    tau / (alpha * after),
                    x / (after * after) - r * tau * (2.0 * alpha + tau) / (alpha * alpha * after * after),
                ]
            }
            Self::Common { lambda } => [-x / (lambda * lambda), 0.0, 0.0],
        }
    }

    /// The gamma rate with the same mean 1/h away from this common rate (r = 1/h, α = r/λ): a
    /// step inside the full model from the limit; `None` for a gamma rate.
    pub fn step_inside(&self, h: f64) -> Option<PurchaseRate> {
        match *self {
            Self::Common { lambda } => Some(Self::Gamma {
                r: 1.0 / h,
                alpha: 1.0 / (h * lambda),
            }),
            Self::Gamma { .. } => None,
        }
    }

    /// E[λ | x purchases in T]: (r+x)/(α+T), the Gamma(r+x, α+T) posterior's mean, or λ.
    pub fn mean_if_alive(&self, x: f64, t: f64) -> f64 {
        match *self {
            Self::Gamma { r, alpha } => (r + x) / (alpha + t),
            Self::Common { lambda } => lambda,
        }
    }

    /// ln P(no purchase in the next τ | x purchases in T, alive throughout):
    /// −(r+x) ln(1 + τ/(α+T)), or −λτ.
    pub fn ln_none_while_alive(&self, x: f64, t: f64, tau: f64) -> f64 {
        match *self {
            Self::Gamma { r, alpha } => -(r + x) * (tau / (alpha + t)).ln_1p(),
            Self::Common { lambda } => -lambda * tau,
        }
    }

    /// ln P(N(τ) = n) for a new customer alive throughout τ: the NBD probability
    /// Γ(r+n)/(Γ(r) n!) (α/(α+τ))^r (τ/(α+τ))^n, or the Poisson probability of mean λτ.
    pub fn ln_purchases_in(&self, n: f64, tau: f64) -> f64 {
        if tau <= 0.0 {
            return if n == 0.0 { 0.0 } else { f64::NEG_INFINITY };
        }
        let ln_coefficient = -ln_gamma(n + 1.0);
        match *self {
            Self::Gamma { r, alpha } => {
                let tail = if n == 0.0 { 0.0 } else { n * (tau / (alpha + tau)).ln() };
                ln_coefficient + ln_rising(r, n) - r * (tau / alpha).ln_1p() + tail
            }
            Self::Common { lambda } => {
                let mean = lambda * tau;
                ln_coefficient + if n == 0.0 { 0.0 } else { n * mean.ln() } - mean
            }
        }
    }
}

/// ψ′(z + n) − ψ′(z), without the cancellation of two large trigammas (ψ′(z) ≈ 1/z): for
/// z ≥ 1000, −n/(z(z+n)) plus the difference of ψ′(w) − 1/w = 1/(2w²) + 1/(6w³) − 1/(30w⁵)
/// + 1/(42w⁷) (A&S 6.4.12, the next term below 1e-22 of the first there).
pub(crate) fn trigamma_difference(z: f64, n: f64) -> f64 {
    if n == 0.0 {
        return 0.0;
    }
    if z < 1000.0 {
        return trigamma(z + n) - trigamma(z);
    }
    let beyond_reciprocal = |w: f64| {
        let inv2 = 1.0 / (w * w);
        inv2 * (0.5 + (1.0 / w) * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 / 42.0)))
    };
    -n / (z * (z + n)) + beyond_reciprocal(z + n) - beyond_reciprocal(z)
}

/// ψ(z + n) − ψ(z), without the cancellation of two large digammas (ψ(z) ≈ ln z; for z ≥ 1000
/// ln(1 + n/z) less the difference of ln w − ψ(w), whose asymptotic series A&S 6.3.18
/// `special::ln_minus_digamma` sums there).
pub(crate) fn digamma_difference(z: f64, n: f64) -> f64 {
    if n == 0.0 {
        return 0.0;
    }
    if z < 1000.0 {
        return digamma(z + n) - digamma(z);
    }
    (n / z).ln_1p() - ln_minus_digamma(z + n) + ln_minus_digamma(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_differences_keep_their_digits_for_large_arguments() {
        // ψ′(z + n) − ψ′(z), 40-digit mpmath: on both sides of z = 1000, and at z = 10⁶, where the
        // plain difference of two trigammas near 1e-6 would keep 6 digits of 3e-12.
        for (z, n, exact) in [
            (999.5, 4.0, -3.992_026_924_220_621e-6),
            (2500.0, 7.0, -1.117_318_970_783_112_4e-6),
            (1e6, 3.0, -2.999_994_000_015e-12),
            (1e6, 0.5, -5.000_002_5e-13),
        ] {
            let ours = trigamma_difference(z, n);
            assert!(
                (ours - exact).abs() <= 1e-14 * exact.abs(),
                "z {z}, n {n}: {ours} against {exact}"
            );
        }
        assert_eq!(trigamma_difference(5.0, 0.0), 0.0);
    }
}
