//! Forecasts of Pareto/NBD's limiting models: an alive customer buys at her posterior rate for as
//! long as she lives after T (Fader & Hardie's note, §§4–6, before its integrals are taken).

use super::ParetoFamilyLimit;
use crate::models::lifetime::Lifetime;
use crate::models::pareto_nbd::purchases_over_a_lifetime;
use crate::models::PurchaseModel;
use crate::special::logistic;

impl ParetoFamilyLimit {
    /// P(alive | x, t_x, T) (note §5): the "alive at T" share of the likelihood.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        match self.as_general() {
            Some(general) => general.p_alive(x, t_x, t),
            None => self.p_alive_by_quadrature(x, t_x, t),
        }
    }

    /// P(alive) from the integral form, for any member of the family.
    pub(crate) fn p_alive_by_quadrature(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let (alive, died) = self.log_terms(x, t_x, t)?;
        Some(logistic(alive - died))
    }

    /// E[Y(t) | x, T, alive at T]: the posterior mean rate, (r+x)/(α+T) or λ, times the expected
    /// time alive in (T, T+t] (note §6 without its P(alive)).
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        self.rate.mean_if_alive(x, t) * self.lifetime.alive_at(t).expected_time_alive(horizon)
    }

    /// E[Y(t) | x, t_x, T] = P(alive) · E[Y(t) | x, T, alive] (note §6).
    pub fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(self.expected_purchases_if_alive(horizon, x, t) * self.p_alive(x, t_x, t)?)
    }

    /// E[X(t)]: the mean rate times the expected time alive in (0, t] (note §4), of a customer
    /// not known to be alive at any time (at the split limit, a share π are gone from time 0).
    pub fn expected_purchases(&self, horizon: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        self.rate.mean_if_alive(0.0, 0.0) * self.lifetime.expected_time_alive(horizon)
    }

    /// P(X(t) = n) = S(t) P(N(t) = n) + ∫₀ᵗ f(τ) P(N(τ) = n) dτ, N(τ) the purchases of a customer
    /// alive for τ (NBD, or Poisson at the limit).
    pub fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        let lifetime = self.lifetime;
        if let Lifetime::Split { pi } = lifetime {
            // The leavers buy nothing again; the rest buy at their rate throughout.
            let stayers = (1.0 - pi) * self.rate.ln_purchases_in(n as f64, horizon.max(0.0)).exp();
            return Some(stayers + if n == 0 { pi } else { 0.0 });
        }
        let survival = |tau: f64| lifetime.ln_survival(tau).exp();
        purchases_over_a_lifetime(
            horizon,
            |tau| self.rate.ln_purchases_in(n as f64, tau).exp(),
            survival,
            |tau| lifetime.hazard(tau) * survival(tau),
        )
    }

    /// P(Y(t) = 0 | x, t_x, T) = 1 − P(alive) + P(alive) · [A(t)S(t) + ∫₀ᵗ f(τ)A(τ) dτ], with
    /// A(τ) the chance of no purchase in τ at the posterior rate and S, f the remaining lifetime's
    /// from T: no purchase before the period ends or she dies.
    pub fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let p_alive = self.p_alive(x, t_x, t)?;
        let horizon = horizon.max(0.0);
        let outlives = self.rate.ln_none_while_alive(x, t, horizon) + self.lifetime.alive_at(t).ln_survival(horizon);
        let died_first = self.dies_before_buying(x, t, horizon)?;
        Some(1.0 - p_alive + p_alive * (outlives.exp() + died_first))
    }
}

impl PurchaseModel for ParetoFamilyLimit {
    fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        ParetoFamilyLimit::p_alive(self, x, t_x, t)
    }
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        ParetoFamilyLimit::conditional_expected_purchases(self, horizon, x, t_x, t)
    }
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        Some(ParetoFamilyLimit::expected_purchases_if_alive(self, horizon, x, t))
    }
    fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        Some(ParetoFamilyLimit::expected_purchases(self, horizon))
    }
    fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        ParetoFamilyLimit::probability_of_purchases(self, horizon, n)
    }
    fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        ParetoFamilyLimit::probability_of_no_purchase(self, horizon, x, t_x, t)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::*;
    use crate::test_support::*;

    /// The model's value at 1/shape = 1e-2 and 1e-3 approaches the limit's to first order.
    fn approaches(what: &str, model: impl Fn(&ParetoFamilyLimit) -> f64, limit: &ParetoFamilyLimit) {
        let at_limit = model(limit);
        let far = (model(&near(limit, 1e-2)) - at_limit).abs();
        let close = (model(&near(limit, 1e-3)) - at_limit).abs();
        assert!(
            close <= 0.15 * far + 1e-10 * at_limit.abs(),
            "{what} at {limit:?}: {far:e} at 1/shape = 1e-2, {close:e} at 1e-3 (limit {at_limit})"
        );
    }

    #[test]
    fn the_model_next_to_each_limit_approaches_it() {
        for limit in LIMITS {
            for (x, tx, t) in CUSTOMERS {
                let what = format!("({x}, {tx}, {t})");
                approaches(&what, |m| m.log_likelihood(x, tx, t), &limit);
                approaches(&what, |m| m.p_alive(x, tx, t).unwrap(), &limit);
                for horizon in [1.0, 52.0] {
                    approaches(
                        &what,
                        |m| m.conditional_expected_purchases(horizon, x, tx, t).unwrap(),
                        &limit,
                    );
                    approaches(
                        &what,
                        |m| m.probability_of_no_purchase(horizon, x, tx, t).unwrap(),
                        &limit,
                    );
                }
            }
            approaches("E[X]", |m| m.expected_purchases(39.0), &limit);
            for n in [0, 2] {
                approaches("P(X = n)", |m| m.probability_of_purchases(39.0, n).unwrap(), &limit);
            }
        }
    }

    #[test]
    fn with_both_rates_common_every_expression_has_a_closed_form() {
        // λ = 0.06, μ = 0.05, k = λ + μ = 0.11. Customer x = 2, t_x = 30.43, T = 38.86:
        // L = λ^x [e^(−kT) + μ/k (e^(−k t_x) − e^(−kT))], P(alive) = λ^x e^(−kT) / L;
        // P(Y(t) = 0 | alive) = e^(−kt) + μ/k (1 − e^(−kt)); E[Y(t) | alive] = λ(1 − e^(−μt))/μ.
        let (lambda, mu) = (0.06f64, 0.05f64);
        let k = lambda + mu;
        let (x, tx, t) = (2.0, 30.43, 38.86);
        let alive = lambda.powf(x) * (-k * t).exp();
        let likelihood = alive + lambda.powf(x) * mu / k * ((-k * tx).exp() - (-k * t).exp());
        assert_close(BOTH.log_likelihood(x, tx, t), likelihood.ln(), 1e-13);
        let p_alive = alive / likelihood;
        assert_close(BOTH.p_alive(x, tx, t).unwrap(), p_alive, 1e-13);
        let h = 52.0;
        let none_if_alive = (-k * h).exp() + mu / k * (1.0 - (-k * h).exp());
        assert_close(
            BOTH.probability_of_no_purchase(h, x, tx, t).unwrap(),
            1.0 - p_alive + p_alive * none_if_alive,
            1e-13,
        );
        let if_alive = lambda * (1.0 - (-mu * h).exp()) / mu;
        assert_close(
            BOTH.conditional_expected_purchases(h, x, tx, t).unwrap(),
            p_alive * if_alive,
            1e-13,
        );
        // P(X(t) = 0) = e^(−kt) + μ/k (1 − e^(−kt)) for a new customer (x = 0 purchases by t).
        assert_close(BOTH.probability_of_purchases(h, 0).unwrap(), none_if_alive, 1e-12);
    }

    #[test]
    fn at_the_split_limit_a_share_leave_at_once_and_the_rest_never() {
        // A share π leave with their first purchase, the rest never, so with R(τ) =
        // E[λ^x e^(−λτ)] the likelihood is (1 − π) R(T) + π [x = 0], P(alive) its first term's
        // share, and an alive customer buys at her posterior mean rate for the whole horizon.
        // One rate λ = 0.06 or Gamma(0.55, 10.6), π = 0.1; T = 38.86, horizon 52:
        //   one rate: R(T) = λ^x e^(−λT); P(N(t) = n) Poisson(λt), P(X(t) = 0) = π + (1−π)e^(−λt);
        //   Gamma: R(T) = Γ(r+x)/Γ(r) α^r/(α+T)^(r+x); E[Y(t) | alive] = (r+x)/(α+T) · t.
        let (pi, t, h) = (0.1f64, 38.86f64, 52.0f64);
        let lambda = 0.06f64;
        for (x, tx) in [(0.0, 0.0), (2.0, 30.43)] {
            let stays = (1.0 - pi) * lambda.powf(x) * (-lambda * t).exp();
            let leaves = if x == 0.0 { pi } else { 0.0 };
            let m = SPLIT_ONE_RATE;
            assert_close(m.log_likelihood(x, tx, t), (stays + leaves).ln(), 1e-13);
            let p_alive = stays / (stays + leaves);
            assert_close(m.p_alive(x, tx, t).unwrap(), p_alive, 1e-13);
            assert_close(
                m.conditional_expected_purchases(h, x, tx, t).unwrap(),
                p_alive * lambda * h,
                1e-13,
            );
            assert_close(
                m.probability_of_no_purchase(h, x, tx, t).unwrap(),
                1.0 - p_alive + p_alive * (-lambda * h).exp(),
                1e-13,
            );
        }
        let (r, alpha) = (0.55f64, 10.6f64);
        for (x, tx) in [(0.0, 0.0), (3.0, 20.0)] {
            // Γ(r+x)/Γ(r) = r(r+1)…(r+x−1).
            let rising: f64 = (0..x as u32).map(|k| r + f64::from(k)).product();
            let stays = (1.0 - pi) * rising * alpha.powf(r) / (alpha + t).powf(r + x);
            let leaves = if x == 0.0 { pi } else { 0.0 };
            assert_close(SPLIT.log_likelihood(x, tx, t), (stays + leaves).ln(), 1e-12);
            let p_alive = stays / (stays + leaves);
            assert_close(SPLIT.p_alive(x, tx, t).unwrap(), p_alive, 1e-12);
            assert_close(
                SPLIT.conditional_expected_purchases(h, x, tx, t).unwrap(),
                p_alive * (r + x) / (alpha + t) * h,
                1e-12,
            );
        }
        // Seen on her first day (T = 0), a customer is alive with probability 1 − π: the leavers
        // leave with the first purchase.
        assert_close(SPLIT.p_alive(0.0, 0.0, 0.0).unwrap(), 1.0 - pi, 1e-13);
        // A new customer: E[X(t)] = (1 − π) r t/α, P(X(t) = 0) = π + (1 − π)(α/(α+t))^r.
        assert_close(SPLIT.expected_purchases(h), (1.0 - pi) * r * h / alpha, 1e-13);
        assert_close(
            SPLIT.probability_of_purchases(h, 0).unwrap(),
            pi + (1.0 - pi) * (alpha / (alpha + h)).powf(r),
            1e-13,
        );
        assert_close(
            SPLIT_ONE_RATE.probability_of_purchases(h, 2).unwrap(),
            (1.0 - pi) * (lambda * h).powi(2) / 2.0 * (-lambda * h).exp(),
            1e-13,
        );
        // Files: {"lambda", "pi"} and {"r", "alpha", "pi"}.
        let read: ParetoFamilyLimit = serde_json::from_str(r#"{"lambda": 0.06, "pi": 0.1}"#).unwrap();
        assert_eq!(read, SPLIT_ONE_RATE);
    }

    #[test]
    fn probabilities_of_n_purchases_sum_to_one_with_the_closed_form_mean() {
        for limit in LIMITS {
            for t in [1.0, 39.0] {
                let pmf = |n| limit.probability_of_purchases(t, n).unwrap();
                assert_pmf_sums_to_one_with_mean(pmf, limit.expected_purchases(t));
            }
        }
    }
}
