//! How the purchase rate varies across customers, in every model here: λ ~ Gamma(r, α), or one
//! common rate λ at the limit r, α → ∞ with r/α = λ. The purchase part of BG/NBD's eq. (6)
//! (Fader, Hardie & Lee 2005), of Pareto/NBD's and of the NBD's likelihood, their limits, and the
//! forecasts of a customer alive throughout.

use serde::{Deserialize, Serialize};

use crate::special::{digamma, ln_gamma, ln_minus_digamma, ln_rising};

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
