//! BG/NBD purchase model: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way:
//! An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284.
//!
//! While alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase she drops
//! out with probability p ~ Beta(a, b). Data per customer: x repeat purchases, the last at t_x,
//! observed over (0, T].

use serde::{Deserialize, Serialize};

pub use super::bg_family::Dropout;
use super::bg_family::{
    alive_posterior, family_conditional_expected_purchases, family_dert_if_alive, family_expected_purchases,
    family_expected_purchases_if_alive, family_expected_purchases_if_alive_at, family_gradient_and_hessian,
    family_log_likelihood, family_p_alive, family_p_alive_of_histories, family_p_alive_ratio, family_penalty_centres,
    family_probability_of_no_purchase, family_probability_of_purchases, family_start_points, family_total,
    family_weighted_expected_purchases_if_alive, purchase_probabilities,
};
use super::histories::Histories;
use super::{Likelihood, PAliveRatio};

/// BG/NBD parameters (r, α, a, b), α in the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbdParams {
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    /// From a vector ordered as `BgNbdData::parameter_names`.
    pub fn from_slice(p: &[f64]) -> Self {
        Self {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    /// One customer's log-likelihood, eq. (6), with its gradient with respect to (r, α, a, b).
    pub fn log_likelihood_with_gradient(&self, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        family_log_likelihood(self, Dropout::AfterRepeatPurchases, x, t_x, t)
    }

    /// One customer's log-likelihood, eq. (6).
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        self.log_likelihood_with_gradient(x, t_x, t).0
    }

    /// P(alive | x, t_x, T) (Fader, Hardie & Lee, "Computing P(alive) using the BG/NBD model", eq. 2):
    /// 1 / (1 + δ_{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        family_p_alive(self, Dropout::AfterRepeatPurchases, x, t_x, t)
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T+t], eq. (10).
    ///
    /// Evaluated as (a+b+x−1) · G · P(alive), with G the Euler-transformed bracket of
    /// `special::euler_complement`, so it stays finite for large x and at a = 1.
    /// `None` when the hypergeometric series does not converge.
    pub fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        family_conditional_expected_purchases(self, Dropout::AfterRepeatPurchases, horizon, x, t_x, t)
    }

    /// E[Y(t) | x, T, alive at T]: eq. (10) divided by P(alive), (a+b+x−1) · G; it does not
    /// depend on t_x.
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        family_expected_purchases_if_alive(self, Dropout::AfterRepeatPurchases, horizon, x, t)
    }

    /// E[X(t)]: expected purchases of a new customer in (0, t], eq. (9).
    pub fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        family_expected_purchases(self, Dropout::AfterRepeatPurchases, horizon)
    }

    /// P(X(t) = n): probability that a new customer makes n purchases in (0, t], eq. (8).
    ///
    /// The bracket 1 − (α/(α+t))^r Σ_{j<n} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j is the upper tail of
    /// a negative binomial, evaluated as the regularized incomplete beta I_z(n, r),
    /// z = t/(α+t), to avoid the cancellation of 1 − (sum close to 1).
    pub fn probability_of_purchases(&self, horizon: f64, n: u64) -> f64 {
        family_probability_of_purchases(self, Dropout::AfterRepeatPurchases, horizon, n)
    }

    /// P(Y(t) = 0 | x, t_x, T): no purchase in (T, T+t]. A customer alive at T has
    /// λ ~ Gamma(r+x, α+T) a posteriori and drops out only after a purchase, so
    /// P = 1 − P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x).
    pub fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        family_probability_of_no_purchase(self, Dropout::AfterRepeatPurchases, horizon, x, t_x, t)
    }
}

/// BG/NBD's likelihood over customer histories.
#[derive(Debug, Clone)]
pub struct BgNbdData(pub Histories);

impl BgNbdData {
    /// From per-customer frequency (x), recency (t_x) and age (T), all validated upstream.
    pub fn new(frequency: &[f64], recency: &[f64], age: &[f64]) -> Self {
        Self(Histories::new(frequency, recency, age))
    }
}

impl Likelihood for BgNbdData {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["r", "alpha", "a", "b"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        family_total(&self.0, &BgNbdParams::from_slice(params), Dropout::AfterRepeatPurchases)
    }

    fn gradient_and_hessian(&self, params: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
        Some(family_gradient_and_hessian(
            &self.0,
            &BgNbdParams::from_slice(params),
            Dropout::AfterRepeatPurchases,
        ))
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers()
    }

    fn warm_start_sample(&self) -> Option<Self> {
        self.0.warm_start_sample().map(Self)
    }

    fn penalty_centres(&self) -> Vec<f64> {
        family_penalty_centres(&self.0)
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        family_start_points(&self.0)
    }
}

impl super::PurchaseModel for BgNbdParams {
    fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(BgNbdParams::p_alive(self, x, t_x, t))
    }
    fn p_alive_of_histories(&self, histories: &[[f64; 3]], p_alive: &mut [f64]) {
        family_p_alive_of_histories(self, Dropout::AfterRepeatPurchases, histories, p_alive);
    }
    fn p_alive_ratio(&self, x: f64) -> Option<PAliveRatio> {
        Some(family_p_alive_ratio(self, Dropout::AfterRepeatPurchases, x))
    }
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        BgNbdParams::conditional_expected_purchases(self, horizon, x, t_x, t)
    }
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        BgNbdParams::expected_purchases_if_alive(self, horizon, x, t)
    }
    fn expected_purchases_if_alive_at(&self, horizons: &[f64], x: f64, t: f64, out: &mut [Option<f64>]) {
        family_expected_purchases_if_alive_at(self, Dropout::AfterRepeatPurchases, horizons, x, t, out);
    }
    fn weighted_expected_purchases_if_alive(
        &self,
        horizons: &[f64],
        weight_sets: &[&[f64]],
        t: f64,
        xs: &[f64],
        out: &mut [Option<f64>],
    ) {
        family_weighted_expected_purchases_if_alive(
            self,
            Dropout::AfterRepeatPurchases,
            horizons,
            weight_sets,
            t,
            xs,
            out,
        );
    }
    fn dert_if_alive_in_closed_form(&self, delta: f64, x: f64, t: f64) -> Option<f64> {
        family_dert_if_alive(self, Dropout::AfterRepeatPurchases, delta, x, t)
    }
    fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        BgNbdParams::expected_purchases(self, horizon)
    }
    fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        Some(BgNbdParams::probability_of_purchases(self, horizon, n))
    }
    fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(BgNbdParams::probability_of_no_purchase(self, horizon, x, t_x, t))
    }
    /// Alive at T, a customer buys at λ ~ Gamma(r+x, α+T) and has survived x dropout chances,
    /// p ~ Beta(a, b+x): from T on she is a new BG/NBD customer with those parameters, so
    /// P(Y(t) = k | alive) is eq. (8) at (r+x, α+T, a, b+x).
    fn probability_of_purchases_if_alive(&self, horizon: f64, k: u64, x: f64, t: f64) -> Option<f64> {
        let posterior = alive_posterior(self, Dropout::AfterRepeatPurchases, x, t);
        Some(posterior.probability_of_purchases(horizon, k))
    }
    /// The same posterior's eq. (8), term after term (`bg_family::purchase_probabilities`).
    fn purchase_probabilities_if_alive<'a>(
        &'a self,
        horizon: f64,
        x: f64,
        t: f64,
    ) -> Box<dyn Iterator<Item = Option<f64>> + 'a> {
        let posterior = alive_posterior(self, Dropout::AfterRepeatPurchases, x, t);
        Box::new(purchase_probabilities(&posterior, horizon).map(Some))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    /// Rounded published estimates (Fader, Hardie & Lee 2005, CDNOW sample).
    const PAPER: BgNbdParams = BG_NBD_PAPER;

    /// Maximum-likelihood estimate on `cdnow_customers_summary.csv` (shared/REFERENCE.md).
    const MLE: BgNbdParams = BgNbdParams {
        r: 0.2425929,
        alpha: 4.4135323,
        a: 0.7928861,
        b: 2.4257535,
    };

    #[test]
    fn conditional_expectation_matches_30_digit_reference() {
        // shared/REFERENCE.md: eq. (10) in 30-digit arithmetic at the rounded parameters.
        let e = PAPER.conditional_expected_purchases(39.0, 2.0, 30.43, 38.86).unwrap();
        assert_close(e, 1.226028, 5e-7);
        let e = PAPER.conditional_expected_purchases(39.0, 26.0, 35.86, 38.86).unwrap();
        assert_close(e, 15.371832, 5e-8);
    }

    #[test]
    fn weighted_expectations_equal_the_horizons_one_by_one() {
        // The family's weighted series (`WeightedEulerComplement`, one series per x) against the
        // default, each horizon's expectation from its own series (or quadrature) then weighted:
        // a year of month ends and a horizon at T = 38.86 weeks, weighted by a 1% monthly
        // discount's differences and by the horizon alone, for BG/NBD and MBG/NBD at CDNOW's
        // estimates, with x up to 500, and at r = 10⁴ ≫ a + b, where every series alternates and
        // each x falls back to the quadrature (the same numbers as one by one, then).
        use crate::models::mbg_nbd::MbgNbdParams;
        use crate::models::{weighted_one_by_one, PurchaseModel};
        let (horizons, monthly, at_horizon) = year_of_month_ends();
        let sets: [&[f64]; 2] = [&monthly, &at_horizon];
        let xs = [0.0, 1.0, 2.0, 7.0, 26.0, 100.0, 500.0];
        let alternating = BgNbdParams { r: 1e4, ..MLE };
        let mbg = MbgNbdParams {
            r: MLE.r,
            alpha: MLE.alpha,
            a: MLE.a,
            b: MLE.b,
        };
        let models: [(&dyn PurchaseModel, f64); 3] = [(&MLE, 1e-12), (&mbg, 1e-12), (&alternating, 0.0)];
        for (model, tolerance) in models {
            for t in [0.5, 38.86, 300.0] {
                let mut got = vec![None; xs.len() * 2];
                model.weighted_expected_purchases_if_alive(&horizons, &sets, t, &xs, &mut got);
                let mut expected = vec![None; xs.len() * 2];
                weighted_one_by_one(model, &horizons, &sets, t, &xs, &mut expected);
                for (got, expected) in got.iter().zip(&expected) {
                    let (got, expected) = (got.unwrap(), expected.unwrap());
                    assert!(
                        (got - expected).abs() <= tolerance * expected.abs(),
                        "{model:?}, T = {t}: {got} against {expected}"
                    );
                }
            }
        }
    }

    #[test]
    fn purchase_probabilities_in_turn_match_40_digit_values_and_eq_8_term_by_term() {
        use crate::models::mbg_nbd::MbgNbdParams;
        use crate::models::PurchaseModel;
        // mpmath at 40 digits (here to the nearest double), eq. (8) at the posterior
        // (r+x, α+T, a, b+x) of the MLE (incomplete beta by betainc): x = 2, T = 30, t = 39 →
        // k = 0..3; x = 300, T = 70, t = 390 → k = 1000, 1573 (near the mode), 2500 (the far
        // tail); x = 3,000, T = 70, t = 39 → k = 1570, where p^(r+x) = e^−1264 is carried in
        // logarithms for 600 terms.
        let reference = [
            (2.0, 30.0, 39.0, 0, 0.18284446947366892),
            (2.0, 30.0, 39.0, 1, 0.3088889206909429),
            (2.0, 30.0, 39.0, 2, 0.20362931979083176),
            (2.0, 30.0, 39.0, 3, 0.1263006320170792),
            (300.0, 70.0, 390.0, 1000, 0.00019138359906928728),
            (300.0, 70.0, 390.0, 1573, 0.0009965440835760246),
            (300.0, 70.0, 390.0, 2500, 3.751033392497485e-18),
            (3000.0, 70.0, 39.0, 1570, 0.005901418614698786),
        ];
        for (x, t, horizon, k, expected) in reference {
            let term = MLE
                .purchase_probabilities_if_alive(horizon, x, t)
                .nth(k)
                .unwrap()
                .unwrap();
            // Relative 1e-12 after 1,570 steps (measured 4e-13 at x = 3,000); the absolute floor is
            // the tail's subtraction.
            assert!(
                (term - expected).abs() <= 1e-12 * expected + 1e-16,
                "x = {x}, k = {k}: {term} against {expected}"
            );
        }
        // Against eq. (8) afresh at each k, for BG/NBD and MBG/NBD customers with x from 0 to
        // 3,000 (where p^(r+x) underflows and only the logarithms carry it), over the CDNOW
        // horizon and ten times it: within 1e-13 + 1e-10 of the term (the direct form's own
        // error: 1.2e-14 at x = 2, k = 1 above, 2.3e-11 of the term at x = 3,000, k = 1,570, where
        // its ln Γ of thousands cancel), the terms summing to 1 within 4 ulps per term summed
        // (the tail loses up to one per subtraction).
        let mbg = MbgNbdParams {
            r: MLE.r,
            alpha: MLE.alpha,
            a: MLE.a,
            b: MLE.b,
        };
        let models: [&dyn PurchaseModel; 2] = [&MLE, &mbg];
        for model in models {
            for (x, t) in [(0.0, 38.86), (2.0, 30.0), (26.0, 38.86), (300.0, 70.0), (3000.0, 70.0)] {
                for horizon in [39.0, 390.0] {
                    let (mut total, mut terms) = (0.0, 0.0);
                    for (k, term) in (0..100_000).zip(model.purchase_probabilities_if_alive(horizon, x, t)) {
                        let direct = model.probability_of_purchases_if_alive(horizon, k, x, t).unwrap();
                        let term = term.unwrap();
                        assert!(
                            (term - direct).abs() <= 1e-13 + 1e-10 * direct,
                            "{model:?}, x = {x}, T = {t}, t = {horizon}, k = {k}: {term} against {direct}"
                        );
                        total += term;
                        terms += 1.0;
                        if total > 1.0 - 1e-13 && term < 1e-17 {
                            break;
                        }
                    }
                    assert!(
                        (total - 1.0).abs() <= 4.0 * f64::EPSILON * terms,
                        "x = {x}, T = {t}, t = {horizon}: {total} after {terms} terms"
                    );
                }
            }
        }
    }

    #[test]
    fn p_alive_matches_30_digit_reference() {
        // shared/REFERENCE.md: P(alive | 2, 30.43, 38.86) = 0.726579 at the rounded parameters.
        assert_close(PAPER.p_alive(2.0, 30.43, 38.86), 0.726579, 1e-6);
    }

    #[test]
    fn p_alive_is_one_for_customers_without_repeat_purchases() {
        assert_eq!(PAPER.p_alive(0.0, 0.0, 38.86), 1.0);
    }

    #[test]
    fn p_alive_is_one_when_the_last_purchase_is_at_t() {
        // t_x = T: P(alive) = 1/(1 + a/(b+x−1)) = (b+x−1)/(a+b+x−1), a closed form.
        let x = 3.0;
        let expected = (PAPER.b + x - 1.0) / (PAPER.a + PAPER.b + x - 1.0);
        assert_close(PAPER.p_alive(x, 20.0, 20.0), expected, 1e-15);
    }

    #[test]
    fn unconditional_expectation_agrees_with_eq_9_summed_directly() {
        // Eq. (9) as printed, (a+b−1)/(a−1) · [1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))], with the
        // plain power series: an evaluation independent of the Euler-transformed one.
        for t in [1.0 / 7.0, 1.0, 3.0, 223.0 / 7.0, 32.0, 78.0] {
            let BgNbdParams { r, alpha, a, b } = MLE;
            let z = t / (alpha + t);
            let f = crate::special::hyp2f1_series(r, b, a + b - 1.0, z).unwrap();
            let direct = (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)).powf(r) * f);
            assert_close(MLE.expected_purchases(t).unwrap(), direct, 1e-12);
        }
    }

    #[test]
    fn probability_of_n_purchases_matches_published_values() {
        // shared/REFERENCE.md, eq. (8) at the rounded parameters.
        assert_close(PAPER.probability_of_purchases(2.0, 10), 1.07868964e-7, 1e-8);
        assert_close(PAPER.probability_of_purchases(39.0, 0), 0.5737863521, 1e-9);
        let p30 = [
            0.001999521447,
            0.00151702363,
            0.001163315007,
            0.0009003147896,
            0.0007023637659,
            0.0005517902426,
            0.0004361912809,
            0.0003467171396,
            0.0002769612648,
            0.000222226048,
        ];
        for (n, expected) in (11..=20).zip(p30) {
            assert_close(PAPER.probability_of_purchases(30.0, n), expected, 1e-9);
        }
    }

    #[test]
    fn probabilities_of_n_purchases_sum_to_one() {
        let total: f64 = (0..2000).map(|n| PAPER.probability_of_purchases(10.0, n)).sum();
        assert!((total - 1.0).abs() < 1e-10, "Σ P(X(10) = n) = {total}");
    }

    #[test]
    fn log_likelihood_is_stable_for_large_frequency() {
        // Fader & Hardie's note on the spreadsheet overflow: (r, α, a, b) = (0.25, 4, 0.8, 2.5),
        // T = 40; values from shared/REFERENCE.md.
        let p = BgNbdParams {
            r: 0.25,
            alpha: 4.0,
            a: 0.8,
            b: 2.5,
        };
        assert_close(p.log_likelihood(200.0, 38.0, 40.0), 100.795693, 1e-8);
        assert_close(p.log_likelihood(0.0, 0.0, 40.0), -0.59947382, 1e-8);
        // Far beyond what a spreadsheet survives: finite and a proper (negative) log-probability.
        let ll = p.log_likelihood(10_000.0, 99_000.0, 100_000.0);
        assert!(ll.is_finite());
    }

    #[test]
    fn gradient_matches_central_differences() {
        for &(x, tx, t) in &[
            (0.0, 0.0, 38.86),
            (2.0, 30.43, 38.86),
            (26.0, 35.86, 38.86),
            (1.0, 0.5, 10.0),
        ] {
            let (_, grad) = MLE.log_likelihood_with_gradient(x, tx, t);
            let ll = |p: &[f64]| BgNbdParams::from_slice(p).log_likelihood(x, tx, t);
            assert_gradient_matches(ll, &MLE.to_vec(), &grad);
        }
    }

    #[test]
    fn conditional_expectation_of_new_customer_equals_unconditional() {
        // With x = 0, t_x = 0, T = 0 eq. (10) reduces to eq. (9).
        let c = MLE.conditional_expected_purchases(20.0, 0.0, 0.0, 0.0).unwrap();
        assert_close(c, MLE.expected_purchases(20.0).unwrap(), 1e-13);
    }

    #[test]
    fn indexed_totals_equal_per_customer_sums_for_both_dropout_rules() {
        // A spread of customers, some sharing x, t_x or T, some identical.
        let mut x = Vec::new();
        let mut tx = Vec::new();
        let mut t = Vec::new();
        for i in 0..300 {
            let xi = (i * 7 % 13) as f64;
            let ti = 20.0 + (i % 11) as f64 * 1.5;
            x.push(xi);
            t.push(ti);
            tx.push(if xi == 0.0 {
                0.0
            } else {
                ti * ((i % 5) as f64 + 1.0) / 5.0
            });
        }
        let data = BgNbdData::new(&x, &tx, &t);
        for dropout in [Dropout::AfterRepeatPurchases, Dropout::AlsoAtFirstPurchase] {
            let (ll, grad) = family_total(&data.0, &MLE, dropout);
            let mut direct = (0.0, [0.0; 4]);
            for i in 0..x.len() {
                let (l, g) = family_log_likelihood(&MLE, dropout, x[i], tx[i], t[i]);
                direct.0 += l;
                for (sum, gk) in direct.1.iter_mut().zip(g) {
                    *sum += gk;
                }
            }
            assert_close(ll, direct.0, 1e-13);
            for (k, (ours, expected)) in grad.iter().zip(direct.1).enumerate() {
                assert!(
                    (ours - expected).abs() <= 1e-11 * (1.0 + expected.abs()),
                    "{dropout:?} {k}"
                );
            }
        }
    }

    #[test]
    fn the_likelihood_is_finite_at_b_equal_one() {
        // Customers without repeat purchases cannot have dropped out: the 1/(b−1) of the
        // "dropped out" term must not reach them (0 × ∞ was NaN at b = 1 exactly).
        let p = BgNbdParams { b: 1.0, ..MLE };
        let data = BgNbdData::new(&[0.0, 2.0], &[0.0, 5.0], &[10.0, 10.0]);
        let (ll, grad) = data.log_likelihood_with_gradient(&p.to_vec());
        assert!(ll.is_finite() && grad.iter().all(|g| g.is_finite()), "{ll} {grad:?}");
        let direct = p.log_likelihood(0.0, 0.0, 10.0) + p.log_likelihood(2.0, 5.0, 10.0);
        assert_close(ll, direct, 1e-14);
    }

    #[test]
    fn distinct_rows_carry_counts() {
        let data = BgNbdData::new(&[0.0, 0.0, 1.0], &[0.0, 0.0, 2.0], &[5.0, 5.0, 5.0]);
        assert_eq!(data.0.n_distinct(), 2);
        let (ll, _) = data.log_likelihood_with_gradient(&MLE.to_vec());
        let direct = 2.0 * MLE.log_likelihood(0.0, 0.0, 5.0) + MLE.log_likelihood(1.0, 2.0, 5.0);
        assert_close(ll, direct, 1e-14);
    }

    #[test]
    fn dert_of_an_alive_customer_matches_the_discounted_integral_of_eq_10_in_mpmath() {
        // δ ∫₀^∞ e^(−δt) E[Y(t) | x, T, alive] dt with E from eq. (10) over P(alive) and mpmath's
        // hyp2f1, at 30 digits, split at α+T, 10(α+T), 1/δ, 10/δ, 100/δ; three of them again at
        // 40 digits in v = e^(−δt), to the same 17 digits. CDNOW's estimates as printed
        // (r = 0.243, α = 4.414, a = 0.793, b = 2.426; δ = ln 1.15 / 52)
        // for a repeat buyer, a one-timer, a customer acquired now and r = 1 (r + x an integer,
        // where the exponential integral's series meets its singular pair); and a fit with
        // α + T ≪ 1/δ (a = 0.18), where DERT weighs horizons of thousands of α+T. MBG/NBD is the
        // same expression with b + 1 (its case below passes b = 1.614 + 1 to mpmath).
        let cdnow_delta = 0.002687729661060744;
        let heavy = BgNbdParams {
            r: 0.2528,
            alpha: 0.3564,
            a: 0.1788,
            b: 0.7186,
        };
        let r_is_one = BgNbdParams { r: 1.0, ..PAPER };
        for (model, delta, x, t, expected) in [
            (PAPER, cdnow_delta, 2.0, 38.86, 7.1149276090864335),
            (PAPER, cdnow_delta, 0.0, 38.86, 1.0187461946469323),
            (PAPER, cdnow_delta, 0.0, 0.0, 3.6556991152323235),
            (heavy, 0.0018, 0.0, 0.5, 52.673351688451234),
            (heavy, 0.0018, 3.0, 2.0, 321.30371421519294),
            (heavy, 0.0018, 500.0, 100.0, 2114.321539307251),
            (r_is_one, cdnow_delta, 2.0, 20.0, 11.351746045780597),
        ] {
            let got = crate::models::PurchaseModel::dert_if_alive_in_closed_form(&model, delta, x, t).unwrap();
            assert_close(got, expected, 1e-12);
        }
        let got =
            crate::models::PurchaseModel::dert_if_alive_in_closed_form(&MBG_NBD_BTYDPLUS, cdnow_delta, 2.0, 38.86)
                .unwrap();
        assert_close(got, 6.973463594309246, 1e-12);
        // No discounting, or none to speak of: not a number to return.
        assert_eq!(
            crate::models::PurchaseModel::dert_if_alive_in_closed_form(&PAPER, 0.0, 2.0, 38.86),
            None
        );
    }
}
