//! MBG/NBD purchase model: Batislam, Denizel & Filiztekin (2007), "Empirical validation and
//! comparison of models for customer base analysis", International Journal of Research in
//! Marketing 24(3), 201–209.
//!
//! BG/NBD in which a customer may also drop out right after her first purchase: after each of her
//! x + 1 purchases she leaves with probability p ~ Beta(a, b). So a customer with no repeat
//! purchase is not certainly alive, which BG/NBD assumes. Every expression is BG/NBD's with one
//! more dropout opportunity; `bg_nbd`'s `family_*` functions carry both.

use serde::{Deserialize, Serialize};

use super::bg_family::{
    alive_posterior, family_conditional_expected_purchases, family_dert_if_alive, family_expected_purchases,
    family_expected_purchases_if_alive, family_expected_purchases_if_alive_at, family_gradient_and_hessian,
    family_log_likelihood, family_p_alive, family_p_alive_of_histories, family_p_alive_ratio, family_penalty_centres,
    family_probability_of_no_purchase, family_probability_of_purchases, family_start_points, family_total,
    family_weighted_expected_purchases_if_alive, purchase_probabilities, Dropout,
};
use super::bg_nbd::BgNbdParams;
use super::histories::Histories;
use super::{Likelihood, PAliveRatio};

const DROPOUT: Dropout = Dropout::AlsoAtFirstPurchase;

/// MBG/NBD parameters (r, α, a, b), α in the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MbgNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl MbgNbdParams {
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    /// From a vector ordered as `MbgNbdData::parameter_names`.
    pub fn from_slice(p: &[f64]) -> Self {
        Self {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    fn same_numbers(&self) -> BgNbdParams {
        BgNbdParams {
            r: self.r,
            alpha: self.alpha,
            a: self.a,
            b: self.b,
        }
    }

    /// One customer's log-likelihood (BG/NBD eq. 6 with x + 1 dropout chances) with its gradient:
    /// Γ(r+x)α^r/Γ(r) · [B(a, b+x+1)/B(a, b) (α+T)^−(r+x) + B(a+1, b+x)/B(a, b) (α+t_x)^−(r+x)].
    pub fn log_likelihood_with_gradient(&self, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        family_log_likelihood(&self.same_numbers(), DROPOUT, x, t_x, t)
    }

    /// One customer's log-likelihood.
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        self.log_likelihood_with_gradient(x, t_x, t).0
    }

    /// P(alive | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)), below 1 even at x = 0.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        family_p_alive(&self.same_numbers(), DROPOUT, x, t_x, t)
    }

    /// E[Y(t) | x, t_x, T] (BG/NBD eq. 10 with b + 1): (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x)
    /// 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))] · P(alive), via the Euler-transformed bracket.
    pub fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        family_conditional_expected_purchases(&self.same_numbers(), DROPOUT, horizon, x, t_x, t)
    }

    /// E[Y(t) | x, T, alive at T]: the above divided by P(alive); it does not depend on t_x.
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        family_expected_purchases_if_alive(&self.same_numbers(), DROPOUT, horizon, x, t)
    }

    /// E[X(t)] (BG/NBD eq. 9 after surviving the first chance): b/(a−1) · [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))].
    pub fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        family_expected_purchases(&self.same_numbers(), DROPOUT, horizon)
    }

    /// P(X(t) = n) (BG/NBD eq. 8 with n + 1 dropout chances): B(a, b+n+1)/B(a, b) · NB(n) + B(a+1, b+n)/B(a, b) · I_z(n, r), with
    /// NB(n) the negative binomial probability of n purchases and I_z(0, r) = 1.
    pub fn probability_of_purchases(&self, horizon: f64, n: u64) -> f64 {
        family_probability_of_purchases(&self.same_numbers(), DROPOUT, horizon, n)
    }

    /// P(Y(t) = 0 | x, t_x, T) = 1 − P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x).
    pub fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        family_probability_of_no_purchase(&self.same_numbers(), DROPOUT, horizon, x, t_x, t)
    }
}

/// MBG/NBD data for fitting: the same distinct (x, t_x, T) rows as BG/NBD.
#[derive(Debug, Clone)]
pub struct MbgNbdData(pub Histories);

impl Likelihood for MbgNbdData {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["r", "alpha", "a", "b"]
    }

    /// Eq. (6) with one more dropout chance, summed over the value tables (`family_total`).
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        family_total(&self.0, &BgNbdParams::from_slice(params), DROPOUT)
    }

    fn gradient_and_hessian(&self, params: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
        Some(family_gradient_and_hessian(
            &self.0,
            &BgNbdParams::from_slice(params),
            DROPOUT,
        ))
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers()
    }

    fn warm_start_sample(&self) -> Option<Self> {
        self.0.warm_start_sample().map(MbgNbdData)
    }

    fn penalty_centres(&self) -> Vec<f64> {
        family_penalty_centres(&self.0)
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        family_start_points(&self.0)
    }
}

impl super::PurchaseModel for MbgNbdParams {
    fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(MbgNbdParams::p_alive(self, x, t_x, t))
    }
    fn p_alive_of_histories(&self, histories: &[[f64; 3]], p_alive: &mut [f64]) {
        family_p_alive_of_histories(&self.same_numbers(), DROPOUT, histories, p_alive);
    }
    fn p_alive_ratio(&self, x: f64) -> Option<PAliveRatio> {
        Some(family_p_alive_ratio(&self.same_numbers(), DROPOUT, x))
    }
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        MbgNbdParams::conditional_expected_purchases(self, horizon, x, t_x, t)
    }
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        MbgNbdParams::expected_purchases_if_alive(self, horizon, x, t)
    }
    fn expected_purchases_if_alive_at(&self, horizons: &[f64], x: f64, t: f64, out: &mut [Option<f64>]) {
        family_expected_purchases_if_alive_at(&self.same_numbers(), DROPOUT, horizons, x, t, out);
    }
    fn weighted_expected_purchases_if_alive(
        &self,
        horizons: &[f64],
        weight_sets: &[&[f64]],
        t: f64,
        xs: &[f64],
        out: &mut [Option<f64>],
    ) {
        family_weighted_expected_purchases_if_alive(&self.same_numbers(), DROPOUT, horizons, weight_sets, t, xs, out);
    }
    fn dert_if_alive_in_closed_form(&self, delta: f64, x: f64, t: f64) -> Option<f64> {
        family_dert_if_alive(&self.same_numbers(), DROPOUT, delta, x, t)
    }
    fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        MbgNbdParams::expected_purchases(self, horizon)
    }
    fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        Some(MbgNbdParams::probability_of_purchases(self, horizon, n))
    }
    fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(MbgNbdParams::probability_of_no_purchase(self, horizon, x, t_x, t))
    }
    /// Alive at T, a customer has survived x + 1 dropout chances (one at her first purchase), so
    /// p ~ Beta(a, b+x+1), and from T on drops out only after purchases: a new BG/NBD customer
    /// at (r+x, α+T, a, b+x+1) (eq. 8).
    fn probability_of_purchases_if_alive(&self, horizon: f64, k: u64, x: f64, t: f64) -> Option<f64> {
        let posterior = alive_posterior(&self.same_numbers(), DROPOUT, x, t);
        Some(posterior.probability_of_purchases(horizon, k))
    }
    /// The same posterior's eq. (8), term after term (`bg_family::purchase_probabilities`).
    fn purchase_probabilities_if_alive<'a>(
        &'a self,
        horizon: f64,
        x: f64,
        t: f64,
    ) -> Box<dyn Iterator<Item = Option<f64>> + 'a> {
        let posterior = alive_posterior(&self.same_numbers(), DROPOUT, x, t);
        Box::new(purchase_probabilities(&posterior, horizon).map(Some))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    /// R's BTYDplus estimate on CDNOW (shared/REFERENCE.md).
    const CDNOW: MbgNbdParams = MBG_NBD_BTYDPLUS;

    #[test]
    fn likelihood_of_a_customer_without_repeat_purchases_has_a_closed_form() {
        // x = 0: L = B(a, b+1)/B(a, b) (α/(α+T))^r + B(a+1, b)/B(a, b) = b/(a+b) (α/(α+T))^r + a/(a+b).
        let MbgNbdParams { r, alpha, a, b } = CDNOW;
        let t = 30.0;
        let expected = (b / (a + b) * (alpha / (alpha + t)).powf(r) + a / (a + b)).ln();
        assert_close(CDNOW.log_likelihood(0.0, 0.0, t), expected, 1e-14);
        // ... and P(alive) is the first share of it.
        let alive = b / (a + b) * (alpha / (alpha + t)).powf(r);
        assert_close(CDNOW.p_alive(0.0, 0.0, t), alive / (alive + a / (a + b)), 1e-14);
    }

    #[test]
    fn probabilities_of_n_purchases_sum_to_one_and_have_the_model_mean() {
        for t in [1.0, 39.0, 78.0] {
            let mean = CDNOW.expected_purchases(t).unwrap();
            assert_pmf_sums_to_one_with_mean(|n| CDNOW.probability_of_purchases(t, n), mean);
        }
    }

    #[test]
    fn unconditional_expectation_agrees_with_eq_3_summed_directly() {
        // b/(a−1) · [1 − (α/(α+t))^r 2F1(r, b+1; a+b; z)] (lifetimes' and BTYDplus' form) with
        // the plain power series.
        let MbgNbdParams { r, alpha, a, b } = CDNOW;
        for t in [1.0, 10.0, 39.0] {
            let z = t / (alpha + t);
            let f = crate::special::hyp2f1_series(r, b + 1.0, a + b, z).unwrap();
            let direct = b / (a - 1.0) * (1.0 - (alpha / (alpha + t)).powf(r) * f);
            assert_close(CDNOW.expected_purchases(t).unwrap(), direct, 1e-12);
        }
    }

    #[test]
    fn conditional_expectation_of_a_new_customer_is_the_alive_share_of_a_fresh_start() {
        // T = 0, x = 0: P(alive) = b/(a+b) and E[Y(t)] = E[X(t)] (the first dropout chance is the
        // only thing that has happened).
        let c = CDNOW.conditional_expected_purchases(20.0, 0.0, 0.0, 0.0).unwrap();
        assert_close(c, CDNOW.expected_purchases(20.0).unwrap(), 1e-13);
    }

    #[test]
    fn gradient_matches_central_differences() {
        for &(x, tx, t) in &[(0.0, 0.0, 38.86), (2.0, 30.43, 38.86), (26.0, 35.86, 38.86)] {
            let (_, grad) = CDNOW.log_likelihood_with_gradient(x, tx, t);
            let ll = |p: &[f64]| MbgNbdParams::from_slice(p).log_likelihood(x, tx, t);
            assert_gradient_matches(ll, &CDNOW.to_vec(), &grad);
        }
    }
}
