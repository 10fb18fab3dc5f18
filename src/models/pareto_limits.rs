//! Pareto/NBD at its homogeneous-dropout limit: every customer's lifetime is exponential with the
//! same rate μ (the limit s, β → ∞ with s/β = μ of Schmittlein, Morrison & Colombo 1987).
//!
//! With the lifetime density sβ^s/(β+τ)^(s+1) → μe^(−μτ) and survival (β/(β+τ))^s → e^(−μτ),
//! the likelihood of Fader & Hardie's note (§3) becomes
//! Γ(r+x)α^r/Γ(r) · [e^(−μT)(α+T)^−(r+x) + ∫_{t_x}^T μe^(−μτ)(α+τ)^−(r+x) dτ],
//! and the forecasts follow from the same two pieces (alive with λ ~ Gamma(r+x, α+T), dead).

use serde::{Deserialize, Serialize};

use super::bg_nbd::BgNbdData;
use super::pareto_nbd::purchases_over_a_lifetime;
use super::Likelihood;
use crate::special::{integrate, ln_rising, log_add_exp, logistic};

/// Relative accuracy of the quadratures over the lifetime.
const QUADRATURE_TOLERANCE: f64 = 1e-12;

/// Pareto/NBD with one dropout rate: (r, α, μ), α and 1/μ in the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoDropoutLimit {
    pub r: f64,
    pub alpha: f64,
    pub mu: f64,
}

impl ParetoDropoutLimit {
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.mu]
    }

    pub fn from_slice(p: &[f64]) -> Self {
        Self {
            r: p[0],
            alpha: p[1],
            mu: p[2],
        }
    }

    /// The note's two log-terms at the limit, after the factor Γ(r+x)α^r/Γ(r): alive at T,
    /// −μT − (r+x) ln(α+T), and died in (t_x, T], ln ∫ μe^(−μτ)(α+τ)^−(r+x) dτ, the integral taken
    /// from t_x as e^(−μt_x)(α+t_x)^−(r+x) · μ∫₀^(T−t_x) e^(−μu)(1 + u/(α+t_x))^−(r+x) du.
    fn log_terms(&self, x: f64, t_x: f64, t: f64) -> Option<(f64, f64)> {
        let Self { r, alpha, mu } = *self;
        let k = r + x;
        let alive = -mu * t - k * (alpha + t).ln();
        if t_x >= t {
            return Some((alive, f64::NEG_INFINITY));
        }
        let base = alpha + t_x;
        let tail = integrate(
            |u| (-mu * u - k * (u / base).ln_1p()).exp(),
            0.0,
            t - t_x,
            QUADRATURE_TOLERANCE,
        )?;
        Some((alive, -mu * t_x - k * base.ln() + (mu * tail).ln()))
    }

    /// One customer's log-likelihood (the note's §3 at the limit); NaN if the quadrature fails.
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, .. } = *self;
        match self.log_terms(x, t_x, t) {
            Some((alive, died)) => ln_rising(r, x) + r * alpha.ln() + log_add_exp(alive, died),
            None => f64::NAN,
        }
    }

    /// P(alive | x, t_x, T) (§5): the "alive at T" share of the likelihood.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let (alive, died) = self.log_terms(x, t_x, t)?;
        Some(logistic(alive - died))
    }

    /// E[Y(t) | x, T, alive] = (r+x)/(α+T) · (1 − e^(−μt))/μ: the posterior mean rate times the
    /// expected time alive in (T, T+t] (the limit of §6's bracket).
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        let Self { r, alpha, mu } = *self;
        if horizon <= 0.0 {
            return 0.0;
        }
        (r + x) / (alpha + t) * (-(-mu * horizon).exp_m1() / mu)
    }

    /// E[Y(t) | x, t_x, T] = P(alive) · E[Y(t) | x, T, alive].
    pub fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(self.expected_purchases_if_alive(horizon, x, t) * self.p_alive(x, t_x, t)?)
    }

    /// E[X(t)] = r/α · (1 − e^(−μt))/μ (§4 at the limit).
    pub fn expected_purchases(&self, horizon: f64) -> f64 {
        self.expected_purchases_if_alive(horizon, 0.0, 0.0)
    }

    /// P(X(t) = n) = e^(−μt) NB(n; t) + ∫₀ᵗ μe^(−μτ) NB(n; τ) dτ, NB(n; τ) the NBD probability of n
    /// purchases in τ (the lifetime argument of `ParetoNbdParams::probability_of_purchases`).
    pub fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        let Self { r, alpha, mu } = *self;
        let survival = |tau: f64| (-mu * tau).exp();
        purchases_over_a_lifetime(r, alpha, n, horizon, survival, |tau| mu * survival(tau))
    }

    /// P(Y(t) = 0 | x, t_x, T) = 1 − P(alive) + P(alive) · [A(t)e^(−μt) + ∫₀ᵗ μe^(−μτ)A(τ) dτ],
    /// A(τ) = ((α+T)/(α+T+τ))^(r+x): no purchase before the period ends or she dies.
    pub fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let Self { r, alpha, mu } = *self;
        let p_alive = self.p_alive(x, t_x, t)?;
        let horizon = horizon.max(0.0);
        let none = |tau: f64| (-(r + x) * (tau / (alpha + t)).ln_1p()).exp();
        let died_first = if horizon > 0.0 {
            integrate(
                |tau| mu * (-mu * tau).exp() * none(tau),
                0.0,
                horizon,
                QUADRATURE_TOLERANCE,
            )?
        } else {
            0.0
        };
        Some(1.0 - p_alive + p_alive * (none(horizon) * (-mu * horizon).exp() + died_first))
    }
}

/// The limit's likelihood over the BG/NBD fit data, with a central-difference gradient in
/// ln(parameter) as `ParetoNbdParams::log_likelihood_with_gradient`.
pub struct ParetoLimitData<'a>(pub &'a BgNbdData);

impl Likelihood for ParetoLimitData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["r", "alpha", "mu"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        const STEP: f64 = 1e-5;
        let center = [params[0], params[1], params[2]];
        self.0.weighted_sum(|x, tx, t| {
            let ll = |p: &[f64; 3]| ParetoDropoutLimit::from_slice(p).log_likelihood(x, tx, t);
            let mut gradient = [0.0; 3];
            for (i, g) in gradient.iter_mut().enumerate() {
                let at = |sign: f64| {
                    let mut p = center;
                    p[i] *= (sign * STEP).exp();
                    ll(&p)
                };
                *g = (at(1.0) - at(-1.0)) / (2.0 * STEP) / center[i];
            }
            (ll(&center), gradient)
        })
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        let (mean_frequency, mean_t) = self.0.means();
        let t = mean_t.max(1e-3);
        let rate = (mean_frequency / t).max(1e-3 / t);
        vec![
            vec![1.0, 1.0 / rate, 1.0 / t],
            vec![0.5, 0.5 / rate, 0.5 / t],
            vec![2.0, 2.0 / rate, 4.0 / t],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::pareto_nbd::ParetoNbdParams;
    use crate::test_support::*;

    const LIMIT: ParetoDropoutLimit = ParetoDropoutLimit {
        r: 0.55,
        alpha: 10.6,
        mu: 0.05,
    };

    /// The full model 1/s = h from the limit: s = 1/h, β = s/μ.
    fn near(h: f64) -> ParetoNbdParams {
        ParetoNbdParams {
            r: LIMIT.r,
            alpha: LIMIT.alpha,
            s: 1.0 / h,
            beta: 1.0 / (h * LIMIT.mu),
        }
    }

    const CUSTOMERS: [(f64, f64, f64); 4] = [
        (0.0, 0.0, 38.86),
        (1.0, 0.5, 10.0),
        (2.0, 30.43, 38.86),
        (26.0, 35.86, 38.86),
    ];

    /// The full model's value at 1/s = 1e-2 and 1e-3 approaches the limit's to first order in 1/s.
    fn approaches(what: &str, full: impl Fn(&ParetoNbdParams) -> f64, limit: f64) {
        let far = (full(&near(1e-2)) - limit).abs();
        let close = (full(&near(1e-3)) - limit).abs();
        assert!(
            close <= 0.15 * far + 1e-10 * limit.abs(),
            "{what}: {far:e} at 1/s = 1e-2, {close:e} at 1e-3 (limit {limit})"
        );
    }

    #[test]
    fn the_full_model_next_to_the_limit_approaches_it() {
        for (x, tx, t) in CUSTOMERS {
            let what = format!("({x}, {tx}, {t})");
            approaches(&what, |p| p.log_likelihood(x, tx, t), LIMIT.log_likelihood(x, tx, t));
            approaches(
                &what,
                |p| p.p_alive(x, tx, t).unwrap(),
                LIMIT.p_alive(x, tx, t).unwrap(),
            );
            for horizon in [1.0, 52.0] {
                approaches(
                    &what,
                    |p| p.conditional_expected_purchases(horizon, x, tx, t).unwrap(),
                    LIMIT.conditional_expected_purchases(horizon, x, tx, t).unwrap(),
                );
                approaches(
                    &what,
                    |p| p.probability_of_no_purchase(horizon, x, tx, t).unwrap(),
                    LIMIT.probability_of_no_purchase(horizon, x, tx, t).unwrap(),
                );
            }
        }
        approaches("E[X]", |p| p.expected_purchases(39.0), LIMIT.expected_purchases(39.0));
        for n in [0, 2] {
            approaches(
                "P(X = n)",
                |p| p.probability_of_purchases(39.0, n).unwrap(),
                LIMIT.probability_of_purchases(39.0, n).unwrap(),
            );
        }
    }

    #[test]
    fn without_repeat_purchases_the_likelihood_has_a_closed_form() {
        // x = 0, t_x = 0: ∫₀ᵀ μe^(−μτ)(α+τ)^−r dτ has no elementary form, but with r → 0 it is
        // 1 − e^(−μT) and the likelihood 1: check the limit model at a tiny r against that,
        // and at r = 1 against Σ = e^(−μT) α/(α+T) + μα e^(μα) [E₁(μα) − E₁(μ(α+T))] computed here
        // by a fine midpoint sum (independent of the adaptive quadrature).
        let tiny = ParetoDropoutLimit { r: 1e-12, ..LIMIT };
        assert!(tiny.log_likelihood(0.0, 0.0, 30.0).abs() < 1e-10);
        let one = ParetoDropoutLimit { r: 1.0, ..LIMIT };
        let (alpha, mu, t) = (one.alpha, one.mu, 30.0);
        let steps = 200_000;
        let h = t / steps as f64;
        let integral: f64 = (0..steps)
            .map(|i| {
                let tau = (i as f64 + 0.5) * h;
                mu * (-mu * tau).exp() * alpha / (alpha + tau)
            })
            .sum::<f64>()
            * h;
        let expected = ((-mu * t).exp() * alpha / (alpha + t) + integral).ln();
        assert_close(one.log_likelihood(0.0, 0.0, t), expected, 1e-9);
    }

    #[test]
    fn probabilities_of_n_purchases_sum_to_one_with_the_closed_form_mean() {
        for t in [1.0, 39.0] {
            let pmf = |n| LIMIT.probability_of_purchases(t, n).unwrap();
            assert_pmf_sums_to_one_with_mean(pmf, LIMIT.expected_purchases(t));
        }
    }
}
