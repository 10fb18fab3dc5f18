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
    /// [1 − (1 + pt/(α+T))^−(r+x)]/p; with a beta p and a common λ,
    /// a sum over her Poisson purchase opportunities (`common_rate_beta_dropout_purchases`); with
    /// both heterogeneities, a one-dimensional integral over p.
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
            (PurchaseRate::Common { lambda }, DropoutProbability::Beta { a, b }) => {
                let mut out = [None];
                common_rate_beta_dropout_purchases(lambda, a, b + chances, &[horizon], &mut out);
                out[0]
            }
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

    /// `expected_purchases_if_alive` at each of `horizons`, into `out`, to the last bit: the
    /// homogeneous-rate limit's series shares its survival sums between the horizons.
    pub fn expected_purchases_if_alive_at(
        &self,
        dropout: Dropout,
        horizons: &[f64],
        x: f64,
        t: f64,
        out: &mut [Option<f64>],
    ) {
        match (self.rate, self.dropout) {
            (PurchaseRate::Common { lambda }, DropoutProbability::Beta { a, b }) => {
                let chances = x + dropout.shift();
                common_rate_beta_dropout_purchases(lambda, a, b + chances, horizons, out);
            }
            _ => {
                for (out, &horizon) in out.iter_mut().zip(horizons) {
                    *out = self.expected_purchases_if_alive(dropout, horizon, x, t);
                }
            }
        }
    }

    /// DERT of a customer alive at T at the limits with one purchase rate λ (`None` for the others,
    /// which `forecast::dert` integrates). For a given p her k-th purchase opportunity comes at a
    /// Gamma(k, λ) time, worth E[e^(−δτ)] = ρ^k with ρ = λ/(λ+δ) today, and she takes it if she
    /// survived the k − 1 chances before it: Σ_k ρ^k (1−p)^(k−1) = λ/(δ + λp) (the same as
    /// δ ∫₀^∞ e^(−δt) (1 − e^(−λpt))/p dt). Averaged over p ~ Beta(a, b+x+δ'):
    /// Σ_{j≥0} ρ^(j+1) (b)_j/(a+b)_j, terms falling by ρ at least; for ρ > `MOST_DISCOUNT_RATIO`
    /// (more than ~8,000 terms) the Beta expectation of λ/(δ + λp) by quadrature.
    pub fn dert_if_alive(&self, dropout: Dropout, delta: f64, x: f64) -> Option<f64> {
        let PurchaseRate::Common { lambda } = self.rate else {
            return None;
        };
        if !(lambda > 0.0 && lambda.is_finite() && delta > 0.0 && delta.is_finite()) {
            return None;
        }
        match self.dropout {
            DropoutProbability::Common { p } => Some(lambda / (delta + lambda * p)),
            DropoutProbability::Split { .. } => None,
            DropoutProbability::Beta { a, b } => {
                let b = b + x + dropout.shift();
                if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()) {
                    return None;
                }
                let ratio = lambda / (lambda + delta);
                if ratio > MOST_DISCOUNT_RATIO {
                    let kappa = delta / lambda;
                    return beta_expectation(a, b, |p| 1.0 / (kappa + p), QUADRATURE_TOLERANCE);
                }
                let (mut sum, mut term, mut j) = (0.0, ratio, 0.0);
                // After term j the rest is below term · ratio / (1 − ratio).
                while term * ratio > SERIES_TAIL * (1.0 - ratio) * sum {
                    sum += term;
                    term *= ratio * (b + j) / (a + b + j);
                    j += 1.0;
                }
                Some(sum + term)
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

/// The largest mean number of purchase opportunities in a horizon, λh, for which
/// `common_rate_beta_dropout_purchases` sums its series (about λh + 20√λh terms); beyond it the
/// quadrature over p takes over.
const MOST_OPPORTUNITIES_SUMMED: f64 = 1e5;

/// The largest discount ratio ρ = λ/(λ+δ) per purchase opportunity for which
/// `BgFamilyLimit::dert_if_alive` sums its series (about 39/(1−ρ) terms).
const MOST_DISCOUNT_RATIO: f64 = 0.995;

/// Relative size of the tails the series of `common_rate_beta_dropout_purchases` leaves out.
const SERIES_TAIL: f64 = 1e-17;

/// E[(1 − e^(−mp))/p] for p ~ Beta(a, b) and m = λh at each horizon h, into `out`: the purchases
/// in h of an alive customer of the homogeneous-rate limit, who buys at rate λ and drops out with
/// probability p after each purchase (`None` where a parameter is not finite and positive). Her
/// purchase opportunities in h number N ~ Poisson(m), and she takes the (j+1)-th if she survived
/// the j chances to drop out before it, which she does with probability E[(1−p)^j] =
/// (b)_j/(a+b)_j (a Beta moment). So the expectation is Σ_{k≥1} P(N = k) W_k, with
/// W_k = Σ_{j<k} (b)_j/(a+b)_j: every term positive, about m + 20√m of them. The quadrature over
/// p it replaces took thousands of evaluations per horizon at a ≪ 1, which an interval's draws
/// of a poorly pinned a reach. The Poisson weights are taken relative to the mode by their
/// recurrence and divided by their own sum over the same range, so no ln k! of a large k enters.
fn common_rate_beta_dropout_purchases(lambda: f64, a: f64, b: f64, horizons: &[f64], out: &mut [Option<f64>]) {
    let valid = [lambda, a, b].iter().all(|v| v.is_finite()) && lambda >= 0.0 && a > 0.0 && b > 0.0;
    // W_k for k = 0, 1, …, extended as the horizons need; `survival` is the next (b)_j/(a+b)_j.
    let mut survived_sums = vec![0.0];
    let mut survival = 1.0;
    let mut sum_to = |k: usize| {
        while survived_sums.len() <= k {
            let j = (survived_sums.len() - 1) as f64;
            let last = survived_sums[survived_sums.len() - 1];
            survived_sums.push(last + survival);
            survival *= (b + j) / (a + b + j);
        }
        survived_sums[k]
    };
    for (out, &horizon) in out.iter_mut().zip(horizons) {
        let m = lambda * horizon;
        *out = match (valid, m) {
            (false, _) => None,
            (true, m) if m.is_nan() => None,
            (true, m) if m <= 0.0 => Some(0.0),
            (true, m) if m > MOST_OPPORTUNITIES_SUMMED => {
                beta_expectation(a, b, |p| fixed_rate_purchases_until_dropout(m, p), QUADRATURE_TOLERANCE)
            }
            (true, m) => {
                let mode = m.floor() as usize;
                let (mut purchases, mut weights) = (0.0, 0.0);
                // Down from the mode, where the weights w_(k−1) = w_k · k/m fall: the k terms
                // left below k are each at most w_k W_k.
                let (mut k, mut weight) = (mode, 1.0);
                loop {
                    purchases += weight * sum_to(k);
                    weights += weight;
                    if k == 0 || k as f64 * weight <= SERIES_TAIL * weights {
                        break;
                    }
                    weight *= k as f64 / m;
                    k -= 1;
                }
                // Up from it: past m the terms fall at least by m/k each (W_(k+1) ≤ W_k (k+1)/k,
                // as the survival probabilities fall), so the rest is below term · q/(1−q).
                let (mut k, mut weight) = (mode, 1.0);
                loop {
                    weight *= m / (k + 1) as f64;
                    k += 1;
                    let term = weight * sum_to(k);
                    purchases += term;
                    weights += weight;
                    let q = m / k as f64;
                    if q < 1.0 && term * q <= SERIES_TAIL * (1.0 - q) * purchases {
                        break;
                    }
                }
                Some(purchases / weights)
            }
        };
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
    fn expected_purchases_if_alive_at(&self, horizons: &[f64], x: f64, t: f64, out: &mut [Option<f64>]) {
        self.limit
            .expected_purchases_if_alive_at(self.dropout, horizons, x, t, out);
    }
    fn dert_if_alive_in_closed_form(&self, delta: f64, x: f64, _t: f64) -> Option<f64> {
        self.limit.dert_if_alive(self.dropout, delta, x)
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
    use super::BgFamilyLimitModel;
    use crate::forecast::dert::integrated_dert_if_alive;
    use crate::models::PurchaseModel;
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

    #[test]
    fn homogeneous_rate_expectation_is_the_beta_average_of_the_fixed_rate_one_to_13_digits() {
        // E[(1 − e^(−mp))/p] for p ~ Beta(a, b) = m · ₂F₂(a, 1; a+b, 2; −m) (the series of
        // (1 − e^(−mp))/p in powers of p, averaged with the Beta moments), by mpmath at 40 digits,
        // rounded to the nearest f64: `m * hyp2f2(a, 1, a+b, 2, -m)` with mp.dps = 40 and a, b, m
        // the f64 values below. The first is an interval's draw at the MBG/NBD fit of the
        // nobody-leaves log (a = 0.0074, b = 0.134 + 8 chances), where the quadrature over p
        // made a run with --interval take four minutes; the last (m = 2·10⁵) is past the series'
        // reach, for the quadrature.
        for (a, b, m, expected) in [
            (0.0074, 8.134, 5.85, 5.8370527781662425),
            (1e-3, 0.5, 30.0, 29.871593327497152),
            (0.8, 2.4, 0.01, 0.009987517833133829),
            (2.0, 5.0, 300.0, 5.901320088592593),
            (1e-4, 1e6, 1000.0, 999.99995001666),
            (0.8, 2.4, 2e5, 101.07848067795432),
        ] {
            // λ = 1/4 and h = 4m: m = λh exactly. x = 0 with no chance at the first purchase, so
            // the posterior Beta is Beta(a, b).
            let model = Limit::HomogeneousRate.model(&[0.25, a, b]);
            let value = model.expected_purchases_if_alive(AFTER, 4.0 * m, 0.0, 10.0).unwrap();
            assert_close(value, expected, 1e-13);
        }
    }

    #[test]
    fn the_homogeneous_rate_limit_gives_each_horizon_what_it_gives_alone() {
        // The forecast engine asks every horizon of a monthly CLV at once; the survival sums are
        // shared, and each horizon's value is what a call for it alone gives, to the bit.
        let model = Limit::HomogeneousRate.model(&[0.11, 0.0074, 0.134]);
        let horizons: Vec<f64> = (0..=12).map(|month| month as f64 * 4.348).chain([3e6]).collect();
        for dropout in [AFTER, ALSO] {
            for x in [0.0, 1.0, 7.0, 40.0] {
                let mut together = vec![None; horizons.len()];
                model.expected_purchases_if_alive_at(dropout, &horizons, x, 30.0, &mut together);
                for (&horizon, together) in horizons.iter().zip(&together) {
                    let alone = model.expected_purchases_if_alive(dropout, horizon, x, 30.0);
                    assert_eq!(*together, alone, "{dropout:?}, x = {x}, h = {horizon}");
                    assert!(alone.is_some_and(|v| v.is_finite() && v >= 0.0));
                }
            }
        }
        // Parameters that cannot be evaluated give None, not a value or a hang.
        let mut out = [Some(1.0)];
        Limit::HomogeneousRate
            .model(&[f64::NAN, 0.5, 0.5])
            .expected_purchases_if_alive_at(AFTER, &[52.0], 0.0, 30.0, &mut out);
        assert_eq!(out, [None]);
    }

    #[test]
    fn dert_at_the_limits_with_one_purchase_rate_is_the_discounted_series_of_opportunities() {
        // With p ~ Beta(a, b): E[λ/(δ + λp)] = ρ ₂F₁(1, b; a+b; ρ), ρ = λ/(λ+δ), by mpmath at 40
        // digits, rounded to the nearest f64 (`rho * hyp2f1(1, b, a+b, rho)`, mp.dps = 40, on the
        // f64 values below). The first is an interval's draw at the MBG/NBD fit of the
        // nobody-leaves log, where DERT by the quadrature over v made a run with --interval take
        // eleven minutes; the third has ρ = 0.99977, past the series' reach, for the quadrature
        // over p.
        for (lambda, a, b, delta, expected) in [
            (0.11, 0.0074, 8.134, 0.0023, 47.24841134423362),
            (0.25, 0.8, 2.4, 0.01, 6.575014567470662),
            (10.0, 0.8, 2.4, 0.0023, 36.86404911237344),
            (0.5, 1e-3, 0.05, 0.2, 2.4628722348309617),
        ] {
            let model = Limit::HomogeneousRate.model(&[lambda, a, b]);
            assert_close(model.dert_if_alive(AFTER, delta, 0.0).unwrap(), expected, 1e-12);
        }
        // Against DERT as `forecast::dert` integrates it for every model, δ ∫ e^(−δt) E[Y(t)] dt
        // over the expected purchases, for both dropout rules and a common p (λ/(δ + λp)).
        for limit in [
            Limit::HomogeneousRate.model(&[0.25, 0.8, 2.4]),
            Limit::HomogeneousRate.model(&[0.11, 0.0074, 0.134]),
            Limit::Homogeneous.model(&[0.25, 0.15]),
        ] {
            for dropout in [AFTER, ALSO] {
                let model = BgFamilyLimitModel { limit, dropout };
                for x in [0.0, 3.0] {
                    let closed = model.dert_if_alive_in_closed_form(0.01, x, 20.0).unwrap();
                    let integrated = integrated_dert_if_alive(&model, 0.01, x, 20.0).unwrap();
                    assert_close(closed, integrated, 1e-9);
                }
            }
        }
        // The limits with a gamma purchase rate, and the split dropout, are left to the integral.
        for limit in [
            Limit::HomogeneousDropout.model(&[0.3, 5.0, 0.15]),
            Limit::Homogeneous.model(&[0.25, 0.15]).with_split_dropout(),
        ] {
            assert_eq!(limit.dert_if_alive(AFTER, 0.01, 1.0), None);
        }
    }
}
