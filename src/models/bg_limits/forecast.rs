//! What the BG family's limiting models predict: P(alive), the expected purchases of an alive
//! customer and of a new one, and the purchase distribution, each from the same customer story
//! as the likelihood (see `expected_purchases_if_alive`).

use super::{BgFamilyLimit, DropoutProbability};
use crate::models::bg_family::{
    gamma_rate_beta_dropout_expectation, purchases_until_dropout, Dropout, QUADRATURE_TOLERANCE,
};
use crate::models::purchase_rate::PurchaseRate;
use crate::special::{beta_expectation, beta_reg, logistic};

impl BgFamilyLimit {
    /// P(alive | x, t_x, T): the "alive at T" share of the likelihood (as eq. 2 of Fader, Hardie &
    /// Lee's P(alive) note): 1 / (1 + δ_{c>0} e^(dead − alive)).
    pub fn p_alive(&self, dropout: Dropout, x: f64, t_x: f64, t: f64) -> f64 {
        let chances = x + dropout.shift();
        let ((alive_drop, _), dropped) = self.dropout_terms(chances);
        match dropped {
            None => 1.0,
            Some((dead_drop, _)) => {
                let alive = self.rate_term(x, t).0 + alive_drop;
                let dead = self.rate_term(x, t_x).0 + dead_drop;
                logistic(alive - dead)
            }
        }
    }

    /// E[Y(t) | x, T, alive at T]. An alive customer buys at rate λ until the purchase after which
    /// she drops out, an exponential time of rate λp, so she makes (1 − e^(−λpt))/p purchases in t
    /// on average; λ and p have their posteriors given x purchases by T: Gamma(r+x, α+T) (or λ),
    /// Beta(a, b+x+δ) (or p). With both common this is (1 − e^(−λpt))/p; with a common p,
    /// [1 − (1 + pt/(α+T))^−(r+x)]/p; with a beta p, a one-dimensional integral over p.
    pub fn expected_purchases_if_alive(&self, dropout: Dropout, horizon: f64, x: f64, t: f64) -> Option<f64> {
        if horizon <= 0.0 {
            return Some(0.0);
        }
        let chances = x + dropout.shift();
        match (self.rate, self.dropout) {
            (PurchaseRate::Common { lambda }, DropoutProbability::Common { p }) => {
                Some(fixed_rate_purchases_until_dropout(lambda * horizon, p))
            }
            (PurchaseRate::Gamma { r, alpha }, DropoutProbability::Common { p }) => {
                let u = horizon / (alpha + t);
                Some(purchases_until_dropout(r + x, p * u) * u)
            }
            (PurchaseRate::Common { lambda }, DropoutProbability::Beta { a, b }) => beta_expectation(
                a,
                b + chances,
                |p| fixed_rate_purchases_until_dropout(lambda * horizon, p),
                QUADRATURE_TOLERANCE,
            ),
            (PurchaseRate::Gamma { r, alpha }, DropoutProbability::Beta { a, b }) => {
                gamma_rate_beta_dropout_expectation(r + x, alpha + t, a, b + chances, horizon)
            }
            // Alive after a chance to drop: p = 0, she buys at her rate for the whole horizon.
            // Before any (BG/NBD, no repeat purchase yet): with probability π her next purchase is
            // her last, so she makes one if she buys at all.
            (rate, DropoutProbability::Split { pi }) => {
                let forever = rate.mean_if_alive(x, t) * horizon;
                if chances > 0.0 {
                    return Some(forever);
                }
                let none = rate.ln_none_while_alive(x, t, horizon).exp();
                Some(pi * (1.0 - none) + (1.0 - pi) * forever)
            }
        }
    }

    /// E[Y(t) | x, t_x, T] = P(alive) · E[Y(t) | x, T, alive] (eq. 10 at the limit).
    pub fn conditional_expected_purchases(
        &self,
        dropout: Dropout,
        horizon: f64,
        x: f64,
        t_x: f64,
        t: f64,
    ) -> Option<f64> {
        Some(self.expected_purchases_if_alive(dropout, horizon, x, t)? * self.p_alive(dropout, x, t_x, t))
    }

    /// E[X(t)] for a new customer (eq. 9 at the limit): she survives the first dropout chance
    /// (MBG/NBD only; probability 1 − p or b/(a+b)) and then is an alive customer with x = 0, T = 0.
    pub fn expected_purchases(&self, dropout: Dropout, horizon: f64) -> Option<f64> {
        let survive_first = match (dropout, self.dropout) {
            (Dropout::AfterRepeatPurchases, _) => 1.0,
            (Dropout::AlsoAtFirstPurchase, DropoutProbability::Common { p } | DropoutProbability::Split { pi: p }) => {
                1.0 - p
            }
            (Dropout::AlsoAtFirstPurchase, DropoutProbability::Beta { a, b }) => b / (a + b),
        };
        let shifted = match (dropout, self.dropout) {
            (Dropout::AlsoAtFirstPurchase, DropoutProbability::Beta { a, b }) => BgFamilyLimit {
                dropout: DropoutProbability::Beta { a, b: b + 1.0 },
                ..*self
            },
            _ => *self,
        };
        // Past the first chance to drop, as an alive customer who has had one (so that the
        // split limit's survivor is known to stay).
        let rule = match (dropout, self.dropout) {
            (Dropout::AlsoAtFirstPurchase, DropoutProbability::Split { .. }) => Dropout::AlsoAtFirstPurchase,
            _ => Dropout::AfterRepeatPurchases,
        };
        Some(survive_first * shifted.expected_purchases_if_alive(rule, horizon, 0.0, 0.0)?)
    }

    /// P(X(t) = n) for a new customer (eq. 8 at the limit): survived all n + δ dropout chances
    /// and bought exactly n times, or dropped out at the last of them after at least n purchases
    /// could have happened: S(n+δ) · P(N(t) = n) + δ_{n+δ>0} D(n+δ) · P(N(t) ≥ n), with S and D
    /// the dropout terms and N(t) the purchases of an immortal customer (NBD, or Poisson at the limit).
    pub fn probability_of_purchases(&self, dropout: Dropout, horizon: f64, n: u64) -> f64 {
        let nf = n as f64;
        let chances = nf + dropout.shift();
        let ((survived, _), dropped) = self.dropout_terms(chances);
        let ln_exactly = self.rate.ln_purchases_in(nf, horizon);
        let at_least = match self.rate {
            _ if n == 0 => 1.0,
            PurchaseRate::Gamma { r, alpha } => beta_reg(nf, r, horizon / (alpha + horizon)),
            // P(Poisson(m) ≥ n) = P(Gamma(n, 1) ≤ m), the regularized lower incomplete gamma; 0
            // at m = 0 (a customer observed for no time), which statrs refuses (it would panic).
            PurchaseRate::Common { lambda } => match lambda * horizon {
                m if m <= 0.0 => 0.0,
                m => statrs::function::gamma::checked_gamma_lr(nf, m).unwrap_or(f64::NAN),
            },
        };
        let first = (survived + ln_exactly).exp();
        match dropped {
            Some((dead, _)) => first + dead.exp() * at_least,
            None => first,
        }
    }

    /// P(Y(t) = 0 | x, t_x, T) = 1 − P(alive) + P(alive) · P(no purchase in t | alive), the last
    /// ((α+T)/(α+T+t))^(r+x), or e^(−λt) at the limit: an alive customer drops out only after a purchase.
    pub fn probability_of_no_purchase(&self, dropout: Dropout, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let p_alive = self.p_alive(dropout, x, t_x, t);
        let none_if_alive = self.rate.ln_none_while_alive(x, t, horizon.max(0.0)).exp();
        1.0 - p_alive + p_alive * none_if_alive
    }
}

/// (1 − e^(−mp))/p: the purchases of a customer who buys m times on average in the period if she
/// stays, and drops out with probability p at each purchase. Below mp = 1e-8, m(1 − mp/2), as
/// the direct form would divide subnormal numbers for a p that underflows.
fn fixed_rate_purchases_until_dropout(mean: f64, p: f64) -> f64 {
    let mp = mean * p;
    if mp < 1e-8 {
        mean * (1.0 - 0.5 * mp)
    } else {
        -(-mp).exp_m1() / p
    }
}

/// A limiting BG-family model with the dropout rule of the model it is the limit of (BG/NBD's or
/// MBG/NBD's): what forecasts from a fit at the limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgFamilyLimitModel {
    pub limit: BgFamilyLimit,
    pub dropout: Dropout,
}

impl crate::models::PurchaseModel for BgFamilyLimitModel {
    fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(self.limit.p_alive(self.dropout, x, t_x, t))
    }
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        self.limit
            .conditional_expected_purchases(self.dropout, horizon, x, t_x, t)
    }
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        self.limit.expected_purchases_if_alive(self.dropout, horizon, x, t)
    }
    fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        self.limit.expected_purchases(self.dropout, horizon)
    }
    fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        Some(self.limit.probability_of_purchases(self.dropout, horizon, n))
    }
    fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(self.limit.probability_of_no_purchase(self.dropout, horizon, x, t_x, t))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{limits, AFTER, ALSO};
    use super::super::Limit;
    use crate::special::ln_gamma;
    use crate::test_support::*;

    #[test]
    fn the_homogeneous_limit_is_geometric_dropout_with_poisson_purchases() {
        // λ = 0.06, p = 0.15: an immortal customer's purchases in t are Poisson(λt); the k-th happens
        // if at least k occur and the k−1 before it were survived, so E[X(t)] = Σ_k (1−p)^(k−1)
        // P(Poisson(λt) ≥ k) — summed here term by term, against the closed form (1 − e^(−λpt))/p.
        let (lambda, p) = (0.06, 0.15);
        let model = Limit::Homogeneous.model(&[lambda, p]);
        for t in [1.0, 52.0, 520.0] {
            let m: f64 = lambda * t;
            let mut pmf = (-m).exp();
            let mut at_least = 1.0 - pmf;
            let mut sum = 0.0;
            for k in 1..2000 {
                sum += (1.0 - p).powi(k - 1) * at_least;
                pmf *= m / k as f64;
                at_least -= pmf;
            }
            assert_close(model.expected_purchases(AFTER, t).unwrap(), sum, 1e-12);
            // MBG/NBD: the first purchase is a dropout chance too.
            assert_close(model.expected_purchases(ALSO, t).unwrap(), (1.0 - p) * sum, 1e-12);
        }
        // P(alive) by Bayes: alive at T has likelihood λ^x e^(−λT) (1−p)^x; dropped at t_x,
        // λ^x e^(−λ t_x) p (1−p)^(x−1).
        let (x, tx, t) = (3.0, 20.0, 40.0);
        let alive = (1.0 - p).powf(x) * (-lambda * t).exp();
        let dead = p * (1.0 - p).powf(x - 1.0) * (-lambda * tx).exp();
        assert_close(model.p_alive(AFTER, x, tx, t), alive / (alive + dead), 1e-14);
    }

    #[test]
    fn a_new_customer_observed_for_no_time_has_made_no_purchase() {
        // P(X(0) = 0) = 1 at every limit: `clv evaluate` asks it of customers whose first purchase
        // fell on the calibration end, and the homogeneous-rate limit used to panic inside statrs
        // (its incomplete gamma refuses x = 0).
        for limit in limits() {
            for dropout in [AFTER, ALSO] {
                // Through the logarithms of the dropout terms: 1 to rounding.
                assert_close(limit.probability_of_purchases(dropout, 0.0, 0), 1.0, 1e-15);
                for n in 1..4 {
                    assert_eq!(limit.probability_of_purchases(dropout, 0.0, n), 0.0, "{limit:?} {n}");
                }
            }
        }
    }

    #[test]
    fn limiting_purchase_distributions_sum_to_one_with_their_means() {
        for limit in limits() {
            for dropout in [AFTER, ALSO] {
                let mean = limit.expected_purchases(dropout, 39.0).unwrap();
                assert_pmf_sums_to_one_with_mean(|n| limit.probability_of_purchases(dropout, 39.0, n), mean);
            }
        }
    }

    #[test]
    fn homogeneous_dropout_expectation_is_the_gamma_average_of_the_fixed_rate_one() {
        // With p fixed, E[Y(t) | alive] = E_λ[(1 − e^(−λpt))/p], λ ~ Gamma(r+x, α+T): the closed
        // form against a quadrature of the fixed-rate expression over the gamma density.
        let model = Limit::HomogeneousDropout.model(&[0.3, 5.0, 0.15]);
        let (shape, rate, p, horizon) = (0.3 + 4.0, 5.0 + 30.0, 0.15, 52.0);
        let ln_norm = shape * f64::ln(rate) - ln_gamma(shape);
        let integrand = |l: f64| -(-l * p * horizon).exp_m1() / p * (ln_norm + (shape - 1.0) * l.ln() - rate * l).exp();
        let expected = crate::special::integrate(integrand, 0.0, 10.0, 1e-13).unwrap();
        assert_close(
            model.expected_purchases_if_alive(AFTER, horizon, 4.0, 30.0).unwrap(),
            expected,
            1e-10,
        );
    }
}
