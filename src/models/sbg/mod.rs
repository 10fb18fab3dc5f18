//! The shifted-beta-geometric (sBG) retention model: Fader & Hardie (2007), "How to Project
//! Customer Retention" (equation numbers below), and Fader & Hardie (2010), "Customer-Base
//! Valuation in a Contractual Setting: The Perils of Ignoring Heterogeneity" (DEL and DERL).
//!
//! A subscriber renews at the end of each period with her own probability 1 − θ, constant over
//! her lifetime; θ ~ Beta(γ, δ) across subscribers (the 2007 paper's α, β). The lifetime T is the
//! number of periods paid for. Because the subscribers most likely to churn leave first, the
//! cohort's retention rate rises with tenure even though nobody's own rate changes.
//!
//! At the limit γ, δ → ∞ with γ/(γ + δ) = θ every subscriber churns with the same probability θ
//! each period (the geometric model the 2010 paper calls "ignoring heterogeneity"). At the other
//! limit, γ, δ → 0 with γ/(γ + δ) = π, Beta(γ, δ) puts all its mass on θ = 1 and θ = 0: a share
//! π churn at the first chance and the rest never do (B(γ, δ + t)/B(γ, δ) = (δ)_t/(γ + δ)_t →
//! δ(t − 1)!/((γ + δ)(t − 1)!) = 1 − π for every t ≥ 1). `Retention` holds all three, as
//! `PurchaseRate` does for the purchase models.
//!
//! Renewals and tenure: a subscriber who has made n renewals has paid n + 1 periods; she is still
//! a subscriber after n periods (T > n), so θ | T > n ~ Beta(γ, δ + n).

use serde::{Deserialize, Serialize};

use super::purchase_rate::digamma_difference;
use crate::special::ln_rising;

mod forms;

pub use forms::{SbgData, SbgForm};

/// The sBG model's churn probability θ across subscribers: Beta(γ, δ), or at its limits one θ
/// for everyone, or θ = 1 for a share π and θ = 0 for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Retention {
    Beta {
        gamma: f64,
        delta: f64,
    },
    Common {
        theta: f64,
    },
    /// A share `pi` churn at the first chance, the rest never (the limit γ, δ → 0 with
    /// γ/(γ + δ) = π).
    Split {
        pi: f64,
    },
}

/// Up to this many periods S(t) is a product of t ratios (exact to rounding); beyond, the ratio
/// of rising factorials by ln Γ (a few digits fewer, no cost growing with t).
const SUMMED_UP_TO: f64 = 1000.0;

/// Terms `discounted_residual_lifetime` may sum: at d = 10⁻⁴ the series needs ~4·10⁵.
const MAX_SERIES_TERMS: usize = 5_000_000;

impl Retention {
    /// The parameters in `parameter_names` order.
    pub fn to_vec(&self) -> Vec<f64> {
        match *self {
            Self::Beta { gamma, delta } => vec![gamma, delta],
            Self::Common { theta } => vec![theta],
            Self::Split { pi } => vec![pi],
        }
    }

    pub fn parameter_names(&self) -> &'static [&'static str] {
        match self {
            Self::Beta { .. } => &["gamma", "delta"],
            Self::Common { .. } => &["theta"],
            Self::Split { .. } => &["pi"],
        }
    }

    /// The parameters of `to_vec` that are probabilities (θ, π), the rest positive.
    pub const PROBABILITIES: [&'static str; 2] = ["theta", "pi"];

    /// The model of this form at the parameters `v` (in `to_vec`'s order); `None` where they
    /// are not as many or describe no model.
    pub fn with_values(&self, v: &[f64]) -> Option<Self> {
        let model = match (*self, v) {
            (Self::Beta { .. }, &[gamma, delta]) => Self::Beta { gamma, delta },
            (Self::Common { .. }, &[theta]) => Self::Common { theta },
            (Self::Split { .. }, &[pi]) => Self::Split { pi },
            _ => return None,
        };
        model.is_valid().then_some(model)
    }

    /// Parameters that can describe a model: positive, and θ and π in (0, 1).
    pub fn is_valid(&self) -> bool {
        match *self {
            Self::Beta { gamma, delta } => gamma > 0.0 && delta > 0.0 && gamma.is_finite() && delta.is_finite(),
            Self::Common { theta: share } | Self::Split { pi: share } => share > 0.0 && share < 1.0,
        }
    }

    /// The mean churn probability per period of a new cohort, E[θ] = γ/(γ + δ) (θ, or π).
    pub fn mean_churn(&self) -> f64 {
        match *self {
            Self::Beta { gamma, delta } => gamma / (gamma + delta),
            Self::Common { theta } => theta,
            Self::Split { pi } => pi,
        }
    }

    /// ln S(t) = ln P(T > t) = ln B(γ, δ + t) − ln B(γ, δ) (eq. 8), with its gradient in (γ, δ)
    /// (or in θ: t ln(1 − θ)).
    pub fn ln_survival_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        match *self {
            Self::Beta { .. } if t <= SUMMED_UP_TO => {
                // Π_{i<t} (δ + i)/(γ + δ + i), as Σ ln(1 − γ/(γ + δ + i)): accurate to the last
                // digits even where (γ + δ + i) is huge (near the limit).
                let mut ln = CompensatedSum::default();
                let mut gradient = [0.0; 2];
                for i in 0..t as u32 {
                    let (step, d_step) = self.ln_retention_with_gradient(f64::from(i));
                    ln.add(step);
                    gradient[0] += d_step[0];
                    gradient[1] += d_step[1];
                }
                (ln.sum, gradient)
            }
            Self::Beta { gamma, delta } => {
                // B(γ, δ + t)/B(γ, δ) = (δ)_t / (γ + δ)_t, rising factorials.
                let d_both = -digamma_difference(gamma + delta, t);
                (
                    ln_rising(delta, t) - ln_rising(gamma + delta, t),
                    [d_both, d_both + digamma_difference(delta, t)],
                )
            }
            Self::Common { theta } => (t * (-theta).ln_1p(), [-t / (1.0 - theta), 0.0]),
            Self::Split { .. } if t < 1.0 => (0.0, [0.0; 2]),
            Self::Split { pi } => ((-pi).ln_1p(), [-1.0 / (1.0 - pi), 0.0]),
        }
    }

    /// ln P(T = t) = ln B(γ + 1, δ + t − 1) − ln B(γ, δ) (eq. 7) for t ≥ 1, with its gradient:
    /// S(t − 1) times the churn probability in period t, γ/(γ + δ + t − 1) (`ln_hazard_with_gradient`).
    /// At the split limit P(T = 1) = π and P(T = t) = 0 after (ln 0 = −∞, with a zero gradient).
    pub fn ln_churn_at_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        let (hazard, d_hazard) = self.ln_hazard_with_gradient(t - 1.0);
        if hazard == f64::NEG_INFINITY {
            return (hazard, [0.0; 2]);
        }
        let (survived, d_survived) = self.ln_survival_with_gradient(t - 1.0);
        (
            survived + hazard,
            [d_survived[0] + d_hazard[0], d_survived[1] + d_hazard[1]],
        )
    }

    /// ln P(T > t + 1 | T > t) = ln r(t + 1), with its gradient: one step of `ln_survival`,
    /// ln(1 − γ/(γ + δ + t)) (ln(1 − θ); at the split limit ln(1 − π) at t = 0, 0 after).
    pub fn ln_retention_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        match *self {
            Self::Beta { gamma, delta } => {
                let total = gamma + delta + t;
                ((-gamma / total).ln_1p(), [-1.0 / total, gamma / ((delta + t) * total)])
            }
            Self::Common { theta: share } => ((-share).ln_1p(), [-1.0 / (1.0 - share), 0.0]),
            Self::Split { pi } if t < 1.0 => ((-pi).ln_1p(), [-1.0 / (1.0 - pi), 0.0]),
            Self::Split { .. } => (0.0, [0.0; 2]),
        }
    }

    /// ln P(T = t + 1 | T > t), with its gradient: the churn at the end of period t + 1 of those
    /// subscribed through t, ln γ − ln(γ + δ + t) (ln θ; at the split limit ln π at t = 0, ln 0
    /// after, with a zero gradient).
    pub fn ln_hazard_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        match *self {
            Self::Beta { gamma, delta } => {
                let total = gamma + delta + t;
                (gamma.ln() - total.ln(), [1.0 / gamma - 1.0 / total, -1.0 / total])
            }
            Self::Common { theta } => (theta.ln(), [1.0 / theta, 0.0]),
            Self::Split { pi } if t < 1.0 => (pi.ln(), [1.0 / pi, 0.0]),
            Self::Split { .. } => (f64::NEG_INFINITY, [0.0; 2]),
        }
    }

    /// S(t) = P(T > t): the share of a cohort still subscribed after t periods (eq. 8).
    pub fn survival(&self, t: f64) -> f64 {
        self.ln_survival_with_gradient(t).0.exp()
    }

    /// r(t) = S(t)/S(t − 1) = (δ + t − 1)/(γ + δ + t − 1): the share of those subscribed in period
    /// t who renew at its end (eq. 9), rising with t; 1 − θ at the geometric limit; 1 − π in the
    /// first period and 1 after it at the split limit.
    pub fn retention_rate(&self, t: f64) -> f64 {
        match *self {
            Self::Beta { gamma, delta } => (delta + t - 1.0) / (gamma + delta + t - 1.0),
            Self::Common { theta } => 1.0 - theta,
            Self::Split { pi } if t < 2.0 => 1.0 - pi,
            Self::Split { .. } => 1.0,
        }
    }

    /// P(renews at the end of the current period | n renewals made) = E[1 − θ | T > n] =
    /// (δ + n)/(γ + δ + n) = r(n + 1).
    pub fn renewal_probability(&self, renewals: f64) -> f64 {
        self.retention_rate(renewals + 1.0)
    }

    /// Expected renewals in the next `periods` renewal dates of a subscriber who has made n:
    /// Σ_{k=1..H} S(n + k)/S(n) = Σ_k Π_{j=1..k} r(n + j).
    pub fn expected_renewals_within(&self, renewals: f64, periods: u32) -> f64 {
        let (mut alive, mut sum) = (1.0, 0.0);
        for k in 1..=periods {
            alive *= self.retention_rate(renewals + f64::from(k));
            sum += alive;
        }
        sum
    }

    /// DERL(d | γ, δ, n renewals): the expected number of payments still to come, each
    /// discounted by 1/(1 + d) per period after the next renewal (which is not discounted),
    /// Σ_{t ≥ n+1} S(t)/S(n) (1 + d)^{−(t − n − 1)} = r(n + 1) · 2F1(1, δ + n + 1; γ + δ + n + 1;
    /// 1/(1 + d)) (Fader & Hardie 2010, eq. 6, with their n − 1 renewals as our n); at the limit
    /// (1 − θ)/(1 − (1 − θ)/(1 + d)), and at the split limit, where nobody churns after the first
    /// period, r(n + 1)/(1 − 1/(1 + d)) = r(n + 1)(1 + d)/d. `None` when d ≤ 0 (the undiscounted sum is infinite for
    /// γ ≤ 1) or the series does not converge.
    pub fn discounted_residual_lifetime(&self, renewals: f64, discount: f64) -> Option<f64> {
        if discount.is_nan() || discount <= 0.0 {
            return None;
        }
        let z = 1.0 / (1.0 + discount);
        match *self {
            Self::Beta { gamma, delta } => {
                Some(self.renewal_probability(renewals) * hyp2f1_one(delta + renewals + 1.0, gamma, discount)?)
            }
            Self::Common { theta } => Some((1.0 - theta) / (1.0 - (1.0 - theta) * z)),
            Self::Split { .. } => Some(self.renewal_probability(renewals) * (1.0 + discount) / discount),
        }
    }

    /// DEL(d | γ, δ): a new subscriber's discounted expected lifetime, her first payment now,
    /// Σ_{t ≥ 1} S(t − 1) (1 + d)^{−(t−1)} = 2F1(1, δ; γ + δ; 1/(1 + d)) (Fader & Hardie 2010,
    /// eq. 4) = 1 + DERL(d | 0 renewals)/(1 + d).
    pub fn discounted_expected_lifetime(&self, discount: f64) -> Option<f64> {
        Some(1.0 + self.discounted_residual_lifetime(0.0, discount)? / (1.0 + discount))
    }

    /// E[lifetime still to come] of a subscriber with n renewals, undiscounted: (δ + n)/(γ − 1)
    /// payments (DERL at d = 0, by Gauss's 2F1(a, b; c; 1)), finite only for γ > 1: with γ ≤ 1
    /// enough subscribers almost never churn that the mean is infinite. At the geometric limit
    /// (1 − θ)/θ; at the split limit infinite, as those who stay never churn.
    pub fn expected_residual_lifetime(&self, renewals: f64) -> Option<f64> {
        match *self {
            Self::Beta { gamma, delta } => (gamma > 1.0).then(|| (delta + renewals) / (gamma - 1.0)),
            Self::Common { theta } => Some((1.0 - theta) / theta),
            Self::Split { .. } => None,
        }
    }
}

/// A running sum that keeps what each addition rounds away (Kahan).
#[derive(Default)]
struct CompensatedSum {
    sum: f64,
    lost: f64,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        let y = x - self.lost;
        let t = self.sum + y;
        self.lost = (t - self.sum) - y;
        self.sum = t;
    }
}

/// 2F1(1, b; b + g; z) = Σ_k (b)_k/(b + g)_k z^k at z = 1/(1 + d), for b, g, d > 0, by its series.
/// Near z = 1 (d = 0.001) it has tens of thousands of terms, and a running product of the ratios
/// (b + j)/(b + g + j) · z would drift by a rounding per term; instead each term is
/// exp(Σ_{j<k} ln(1 − g/(b + g + j)) − k ln(1 + d)), the logarithms summed with compensation, so
/// a term is as accurate as its last exponential. The series stops when its tail (each ratio is
/// below z, so the tail is below term · z/(1 − z) = term/d) is under 10⁻¹⁷ of the sum.
fn hyp2f1_one(b: f64, g: f64, d: f64) -> Option<f64> {
    let ln_z = -d.ln_1p();
    let c = b + g;
    let mut ln_ratios = CompensatedSum::default();
    let mut sum = CompensatedSum { sum: 1.0, lost: 0.0 };
    for k in 1..=MAX_SERIES_TERMS {
        ln_ratios.add((-g / (c + (k - 1) as f64)).ln_1p());
        let term = (ln_ratios.sum + k as f64 * ln_z).exp();
        sum.add(term);
        if term <= 1e-17 * d * sum.sum {
            return sum.sum.is_finite().then_some(sum.sum);
        }
    }
    None
}

#[cfg(test)]
mod tests;
