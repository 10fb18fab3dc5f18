//! How long a customer stays from her first purchase, in the Pareto/NBD family: a Pareto
//! (exponential-gamma mixture) lifetime, one exponential rate for everyone, or the split between
//! leaving at once and never (`models::pareto_limits`).

use serde::{Deserialize, Serialize};

use super::pareto_nbd::expm1_ratio;

/// How long customers stay, from their first purchase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Lifetime {
    /// Exponential with rate μ ~ Gamma(s, β), β in the data's time unit: survival (β/(β+τ))^s.
    Pareto { s: f64, beta: f64 },
    /// Exponential with the same rate μ for every customer (the limit s, β → ∞, s/β = μ).
    Exponential { mu: f64 },
    /// A share π leave at once, with their first purchase, and the rest never (the limit s, β → 0
    /// with (β·m)^s → 1 − π for every m > 0): a lifetime of 0 with probability π, else none
    /// ending. Survival is 1 − π from time 0 on, where every other member has S(0) = 1: the
    /// leavers are gone from the first purchase, as at MBG/NBD's split limit, so that a customer
    /// seen on her first day is alive with probability 1 − π, not 1.
    Split { pi: f64 },
}

impl Lifetime {
    /// ln S(τ): −s ln(1 + τ/β), −μτ, or ln(1 − π).
    pub(crate) fn ln_survival(&self, tau: f64) -> f64 {
        self.ln_survival_with_gradient(tau).0
    }

    /// `ln_survival` with its gradient in (s, β), or (μ, 0).
    pub(crate) fn ln_survival_with_gradient(&self, tau: f64) -> (f64, [f64; 2]) {
        match *self {
            Self::Pareto { s, beta } => {
                let l = (tau / beta).ln_1p();
                (-s * l, [-l, s * tau / (beta * (beta + tau))])
            }
            Self::Exponential { mu } => (-mu * tau, [-tau, 0.0]),
            Self::Split { pi } => ((-pi).ln_1p(), [-1.0 / (1.0 - pi), 0.0]),
        }
    }

    /// The hazard f(τ)/S(τ) after time 0: s/(β+τ), μ, or 0 (the split limit's leavers are gone
    /// at time 0: `ln_leaving_at_once`).
    pub(crate) fn hazard(&self, tau: f64) -> f64 {
        match *self {
            Self::Pareto { s, beta } => s / (beta + tau),
            Self::Exponential { mu } => mu,
            Self::Split { .. } => 0.0,
        }
    }

    /// The remaining lifetime of a customer known to be alive at t: μ ~ Gamma(s, β+t) a
    /// posteriori (note §5), so survival ((β+t)/(β+t+τ))^s; the exponential has no memory; at
    /// the split limit, whoever is there never leaves.
    pub(crate) fn alive_at(&self, t: f64) -> Self {
        match *self {
            Self::Pareto { s, beta } => Self::Pareto { s, beta: beta + t },
            Self::Split { .. } => Self::Split { pi: 0.0 },
            exponential => exponential,
        }
    }

    /// ln P(lifetime = 0) with its derivative in the lifetime's first parameter: ln π at the
    /// split limit; `None` for the lifetimes without that atom.
    pub(crate) fn ln_leaving_at_once(&self) -> Option<(f64, f64)> {
        match *self {
            Self::Split { pi } if pi > 0.0 => Some((pi.ln(), 1.0 / pi)),
            _ => None,
        }
    }

    /// ∫₀ʰ S(u) du, the expected time alive in the next h: β/(s−1) · [1 − (β/(β+h))^(s−1)]
    /// (the bracket of note §4 and §6, ln(1 + h/β)·β at s = 1), (1 − e^(−μh))/μ, or (1 − π)·h.
    pub(crate) fn expected_time_alive(&self, horizon: f64) -> f64 {
        match *self {
            Self::Pareto { s, beta } => beta * expm1_ratio(s - 1.0, (horizon / beta).ln_1p()),
            Self::Exponential { mu } => -(-mu * horizon).exp_m1() / mu,
            Self::Split { pi } => (1.0 - pi) * horizon,
        }
    }
}
