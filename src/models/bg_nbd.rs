//! BG/NBD purchase model: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way:
//! An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284.
//!
//! While alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase she drops
//! out with probability p ~ Beta(a, b). Data per customer: x repeat purchases, the last at t_x,
//! observed over (0, T].

use serde::{Deserialize, Serialize};

use super::{count_distinct, parallel_sum, sample_rows, table_index, BitsMap, Likelihood};
use crate::special::{beta_expectation, beta_reg, digamma, euler_complement, ln_beta, ln_gamma, log_add_exp, logistic};

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

/// When a BG-type customer may drop out: BG/NBD after each repeat purchase; MBG/NBD also right
/// after the first purchase. With δ = 1 for the latter, every MBG/NBD expression is the BG/NBD one
/// with x + δ dropout opportunities in place of x (see `super::mbg_nbd`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dropout {
    AfterRepeatPurchases,
    AlsoAtFirstPurchase,
}

impl Dropout {
    pub(crate) fn shift(self) -> f64 {
        match self {
            Dropout::AfterRepeatPurchases => 0.0,
            Dropout::AlsoAtFirstPurchase => 1.0,
        }
    }
}

/// ln L = A1 + A2 + ln(e^A3 + δ_{x+δ>0} e^A4), the terms named as in the BG/NBD paper's appendix
/// (eq. 6) and, with δ = 1, the MBG/NBD likelihood as BTYDplus and lifetimes evaluate it:
/// A1 = ln Γ(r+x) − ln Γ(r) + r ln α, A2 = ln B(a, b+x+δ) − ln B(a, b),
/// A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x+δ−1) − (r+x) ln(α+t_x); and the gradient.
pub(crate) fn family_log_likelihood(p: &BgNbdParams, dropout: Dropout, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
    let BgNbdParams { r, alpha, a, b } = *p;
    let chances = x + dropout.shift();
    let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
    let a2 = ln_gamma(a + b) + ln_gamma(b + chances) - ln_gamma(b) - ln_gamma(a + b + chances);
    let ln_at = (alpha + t).ln();
    let a3 = -(r + x) * ln_at;
    let can_have_dropped = chances > 0.0;
    let (ll, w, ln_atx) = if can_have_dropped {
        let ln_atx = (alpha + t_x).ln();
        let a4 = a.ln() - (b + chances - 1.0).ln() - (r + x) * ln_atx;
        // w = share of the likelihood from "dropped out after the last purchase"
        (a1 + a2 + log_add_exp(a3, a4), logistic(a4 - a3), ln_atx)
    } else {
        (a1 + a2 + a3, 0.0, 0.0)
    };
    let d_r = digamma(r + x) - digamma(r) + alpha.ln() - (1.0 - w) * ln_at - w * ln_atx;
    let d_alpha = r / alpha
        - (1.0 - w) * (r + x) / (alpha + t)
        - if can_have_dropped {
            w * (r + x) / (alpha + t_x)
        } else {
            0.0
        };
    let d_ab = digamma(a + b) - digamma(a + b + chances);
    let d_a = d_ab + if can_have_dropped { w / a } else { 0.0 };
    let d_b = d_ab + digamma(b + chances) - digamma(b) - if can_have_dropped { w / (b + chances - 1.0) } else { 0.0 };
    (ll, [d_r, d_alpha, d_a, d_b])
}

/// 1 / (1 + δ_{x+δ>0} · a/(b+x+δ−1) · ((α+T)/(α+t_x))^(r+x)).
pub(crate) fn family_p_alive(p: &BgNbdParams, dropout: Dropout, x: f64, t_x: f64, t: f64) -> f64 {
    let chances = x + dropout.shift();
    if chances == 0.0 {
        return 1.0;
    }
    let BgNbdParams { r, alpha, a, b } = *p;
    // ln((α+T)/(α+t_x)); for α ≫ T − t_x as ln(1 + (T−t_x)/(α+t_x)), where the difference of
    // two close logarithms would lose digits that (r+x) (large with α) then multiplies.
    let gap = if t - t_x < 1e-3 * (alpha + t_x) {
        ((t - t_x) / (alpha + t_x)).ln_1p()
    } else {
        (alpha + t).ln() - (alpha + t_x).ln()
    };
    let log_odds_dead = a.ln() - (b + chances - 1.0).ln() + (r + x) * gap;
    logistic(-log_odds_dead)
}

/// An alive customer's future is the same in both models, but her dropout probability has the
/// posterior Beta(a, b+x+δ): eq. (10) with b + δ in place of b is this times P(alive).
/// It depends on x and T, not on t_x, so forecasts compute it once per distinct (x, T).
pub(crate) fn family_expected_purchases_if_alive(
    p: &BgNbdParams,
    dropout: Dropout,
    horizon: f64,
    x: f64,
    t: f64,
) -> Option<f64> {
    if horizon <= 0.0 {
        return Some(0.0);
    }
    let BgNbdParams { r, alpha, a, b } = *p;
    let b = b + dropout.shift();
    let z = horizon / (alpha + t + horizon);
    match euler_complement(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z) {
        Some(g) => Some((a + b + x - 1.0) * g),
        None => gamma_rate_beta_dropout_expectation(r + x, alpha + t, a, b + x, horizon),
    }
}

/// E[(1 − e^(−λpt))/p] for λ ~ Gamma(shape, rate) and p ~ Beta(a, b): the purchases in (0, t] of
/// a customer who buys at rate λ and drops out with probability p after each purchase (she buys
/// at rate λ until the first of her purchases that is her last, an exponential time of rate λp).
/// Averaged over λ in closed form, E_λ[e^(−λpt)] = (1 + pt/rate)^(−shape), and over p by
/// quadrature: every term is positive, so this holds its accuracy where the Euler-transformed
/// series of eq. (10) alternates (shape ≫ a + b) or needs too many terms (t ≫ rate).
pub(crate) fn gamma_rate_beta_dropout_expectation(shape: f64, rate: f64, a: f64, b: f64, horizon: f64) -> Option<f64> {
    let u = horizon / rate;
    beta_expectation(
        a,
        b,
        |p| purchases_until_dropout(shape, p * u) * u,
        QUADRATURE_TOLERANCE,
    )
}

/// [1 − (1 + w)^(−shape)] / w, w = p·t/rate: the purchases until dropout of
/// `gamma_rate_beta_dropout_expectation` per unit of t/rate. For (shape + 1)·w below 1e-8 the
/// first two terms of the binomial series, shape · (1 − (shape+1) w/2): there the direct form
/// would divide subnormal numbers (p = v^(1/a) underflows for small a).
pub(crate) fn purchases_until_dropout(shape: f64, w: f64) -> f64 {
    if (shape + 1.0) * w < 1e-8 {
        shape * (1.0 - 0.5 * (shape + 1.0) * w)
    } else {
        -(-shape * w.ln_1p()).exp_m1() / w
    }
}

/// Relative accuracy asked of the quadratures that stand in for the hypergeometric series.
pub(crate) const QUADRATURE_TOLERANCE: f64 = 1e-12;

/// Eq. (10) (with b + δ in place of b): the alive customer's expectation times P(alive).
pub(crate) fn family_conditional_expected_purchases(
    p: &BgNbdParams,
    dropout: Dropout,
    horizon: f64,
    x: f64,
    t_x: f64,
    t: f64,
) -> Option<f64> {
    Some(family_expected_purchases_if_alive(p, dropout, horizon, x, t)? * family_p_alive(p, dropout, x, t_x, t))
}

/// Eq. (9); with δ = 1 the customer first survives the drop-out chance at her first purchase
/// (probability b/(a+b)) and then behaves as a BG/NBD customer with b + 1:
/// b/(a−1) · [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))].
pub(crate) fn family_expected_purchases(p: &BgNbdParams, dropout: Dropout, horizon: f64) -> Option<f64> {
    if horizon <= 0.0 {
        return Some(0.0);
    }
    let BgNbdParams { r, alpha, a, b } = *p;
    let shifted = b + dropout.shift();
    let z = horizon / (alpha + horizon);
    let survive_first = if dropout == Dropout::AlsoAtFirstPurchase {
        b / (a + b)
    } else {
        1.0
    };
    match euler_complement(a + shifted - 1.0 - r, a - 1.0, a + shifted - 1.0, z) {
        Some(g) => Some(survive_first * (a + shifted - 1.0) * g),
        None => Some(survive_first * gamma_rate_beta_dropout_expectation(r, alpha, a, shifted, horizon)?),
    }
}

/// Eq. (8), and with δ = 1 its MBG/NBD form: B(a, b+n+δ)/B(a, b) · NB(n) +
/// δ_{n+δ>0} B(a+1, b+n+δ−1)/B(a, b) · I_z(n, r), where I_z(0, r) = 1.
pub(crate) fn family_probability_of_purchases(p: &BgNbdParams, dropout: Dropout, horizon: f64, n: u64) -> f64 {
    let BgNbdParams { r, alpha, a, b } = *p;
    let nf = n as f64;
    let chances = nf + dropout.shift();
    let ln_p = (alpha / (alpha + horizon)).ln();
    let ln_q = (horizon / (alpha + horizon)).ln();
    let first = (ln_beta(a, b + chances) - ln_beta(a, b) + ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0)
        + r * ln_p
        + if n > 0 { nf * ln_q } else { 0.0 })
    .exp();
    if chances == 0.0 {
        return first;
    }
    let tail = if n == 0 {
        1.0
    } else {
        beta_reg(nf, r, horizon / (alpha + horizon))
    };
    first + (ln_beta(a + 1.0, b + chances - 1.0) - ln_beta(a, b)).exp() * tail
}

pub(crate) fn family_probability_of_no_purchase(
    p: &BgNbdParams,
    dropout: Dropout,
    horizon: f64,
    x: f64,
    t_x: f64,
    t: f64,
) -> f64 {
    let BgNbdParams { r, alpha, .. } = *p;
    let p_alive = family_p_alive(p, dropout, x, t_x, t);
    let no_purchase_if_alive = ((r + x) * ((alpha + t) / (alpha + t + horizon.max(0.0))).ln()).exp();
    1.0 - p_alive + p_alive * no_purchase_if_alive
}

/// BG/NBD data for fitting: the distinct (x, t_x, T) rows with the number of customers in each,
/// stored as indices into tables of the distinct x, t_x and T values. A likelihood evaluation
/// then takes ln Γ, ψ and the logarithms once per distinct value (at daily resolution t_x and T
/// take at most as many values as the log has days, x a few hundred) and per row only one exp
/// and one log1p.
#[derive(Debug, Clone)]
pub struct BgNbdData {
    xs: Vec<f64>,
    recencies: Vec<f64>,
    ages: Vec<f64>,
    rows: Vec<IndexedRow>,
    n_customers: f64,
    mean_frequency: f64,
    mean_t: f64,
}

/// One distinct (x, t_x, T): indices into `BgNbdData`'s value tables, and the customers in it.
#[derive(Debug, Clone, Copy)]
struct IndexedRow {
    x: u32,
    recency: u32,
    age: u32,
    weight: f64,
}

/// What the likelihood needs of one distinct x (with δ extra dropout chances, see `Dropout`).
struct PerFrequency {
    /// A1 + A2 of eq. (6).
    constant: f64,
    d_r: f64,
    d_a: f64,
    d_b: f64,
    r_plus_x: f64,
    /// ln a − ln(b+x+δ−1), when the customer can have dropped out.
    ln_odds: Option<f64>,
    inv_b: f64,
}

impl BgNbdData {
    /// From per-customer frequency (x), recency (t_x) and age (T), all validated upstream.
    pub fn new(frequency: &[f64], recency: &[f64], age: &[f64]) -> Self {
        let n = frequency.len() as f64;
        let distinct = count_distinct(frequency.iter().zip(recency).zip(age).map(|((&x, &tx), &t)| [x, tx, t]));
        let (mut xs, mut recencies, mut ages) = (Vec::new(), Vec::new(), Vec::new());
        let (mut x_index, mut recency_index, mut age_index) =
            (BitsMap::default(), BitsMap::default(), BitsMap::default());
        let rows = distinct
            .into_iter()
            .map(|([x, tx, t], weight)| IndexedRow {
                x: table_index(&mut x_index, &mut xs, x, x.to_bits()),
                recency: table_index(&mut recency_index, &mut recencies, tx, tx.to_bits()),
                age: table_index(&mut age_index, &mut ages, t, t.to_bits()),
                weight,
            })
            .collect();
        Self {
            xs,
            recencies,
            ages,
            rows,
            n_customers: n,
            mean_frequency: frequency.iter().sum::<f64>() / n.max(1.0),
            mean_t: age.iter().sum::<f64>() / n.max(1.0),
        }
    }

    /// Σ over customers of a per-customer (log-likelihood, gradient), over the distinct rows.
    pub(crate) fn weighted_sum<const N: usize>(
        &self,
        term: impl Fn(f64, f64, f64) -> (f64, [f64; N]) + Sync,
    ) -> (f64, Vec<f64>) {
        let (ll, grad) = parallel_sum(&self.rows, |row| {
            let (l, g) = term(
                self.xs[row.x as usize],
                self.recencies[row.recency as usize],
                self.ages[row.age as usize],
            );
            (row.weight * l, g.map(|gi| row.weight * gi))
        });
        (ll, grad.to_vec())
    }

    /// Σ over customers of `family_log_likelihood` (eq. 6, or MBG/NBD's), from the value tables:
    /// the same sum as `weighted_sum` of it, far fewer special-function calls.
    pub(crate) fn family_total(&self, p: &BgNbdParams, dropout: Dropout) -> (f64, Vec<f64>) {
        let BgNbdParams { r, alpha, a, b } = *p;
        let ln_alpha = alpha.ln();
        let (lg_r, psi_r, lg_b, psi_b) = (ln_gamma(r), digamma(r), ln_gamma(b), digamma(b));
        let (lg_ab, psi_ab) = (ln_gamma(a + b), digamma(a + b));
        let per_x: Vec<PerFrequency> = self
            .xs
            .iter()
            .map(|&x| {
                let chances = x + dropout.shift();
                let d_ab = psi_ab - digamma(a + b + chances);
                PerFrequency {
                    constant: ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + chances)
                        - lg_b
                        - ln_gamma(a + b + chances),
                    d_r: digamma(r + x) - psi_r + ln_alpha,
                    d_a: d_ab,
                    d_b: d_ab + digamma(b + chances) - psi_b,
                    r_plus_x: r + x,
                    ln_odds: (chances > 0.0).then(|| a.ln() - (b + chances - 1.0).ln()),
                    // Used only with the dropped-out share w, which is 0 without a dropout chance
                    // (and 0 × 1/(b−1) would be NaN at b = 1).
                    inv_b: if chances > 0.0 { 1.0 / (b + chances - 1.0) } else { 0.0 },
                }
            })
            .collect();
        let logs = |values: &[f64]| -> Vec<(f64, f64)> {
            values.iter().map(|&t| ((alpha + t).ln(), 1.0 / (alpha + t))).collect()
        };
        let (per_recency, per_age) = (logs(&self.recencies), logs(&self.ages));
        let (ll, grad) = parallel_sum(&self.rows, |row| {
            let f = &per_x[row.x as usize];
            let (ln_t, inv_t) = per_age[row.age as usize];
            let a3 = -f.r_plus_x * ln_t;
            // w = share of the likelihood from "dropped out after the last purchase"
            let (ll, w, ln_tx, inv_tx) = match f.ln_odds {
                Some(ln_odds) => {
                    let (ln_tx, inv_tx) = per_recency[row.recency as usize];
                    let d = ln_odds - f.r_plus_x * ln_tx - a3;
                    let e = (-d.abs()).exp();
                    let w = if d >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                    (f.constant + a3 + d.max(0.0) + e.ln_1p(), w, ln_tx, inv_tx)
                }
                None => (f.constant + a3, 0.0, 0.0, 0.0),
            };
            let g = [
                f.d_r - (1.0 - w) * ln_t - w * ln_tx,
                r / alpha - f.r_plus_x * ((1.0 - w) * inv_t + w * inv_tx),
                f.d_a + w / a,
                f.d_b - w * f.inv_b,
            ];
            (row.weight * ll, g.map(|gi| row.weight * gi))
        });
        (ll, grad.to_vec())
    }

    /// Mean frequency and mean T over customers, for start points.
    pub(crate) fn means(&self) -> (f64, f64) {
        (self.mean_frequency, self.mean_t)
    }

    /// Number of distinct (x, t_x, T) rows the likelihood is summed over.
    pub fn n_distinct(&self) -> usize {
        self.rows.len()
    }
}

impl Likelihood for BgNbdData {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["r", "alpha", "a", "b"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        self.family_total(&BgNbdParams::from_slice(params), Dropout::AfterRepeatPurchases)
    }

    fn n_customers(&self) -> f64 {
        self.n_customers
    }

    fn warm_start_sample(&self) -> Option<Self> {
        Some(Self {
            xs: self.xs.clone(),
            recencies: self.recencies.clone(),
            ages: self.ages.clone(),
            rows: sample_rows(&self.rows, |r| r.weight, |r, weight| IndexedRow { weight, ..r })?,
            ..*self
        })
    }

    fn penalty_centres(&self) -> Vec<f64> {
        // α is in the data's time unit: centred on the mean observation window.
        vec![1.0, self.mean_t.max(f64::MIN_POSITIVE), 1.0, 1.0]
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // Purchase rate r/α ≈ repeat purchases per unit of time observed; a, b at a modest dropout.
        let t = self.mean_t.max(1e-3);
        let rate = (self.mean_frequency / t).max(1e-3 / t);
        vec![
            vec![1.0, 1.0 / rate, 1.0, 2.0],
            vec![0.5, 0.5 / rate, 0.5, 2.0],
            vec![2.0, 2.0 / rate, 2.0, 5.0],
            vec![0.1, 0.1 / rate, 0.2, 0.5],
        ]
    }
}

impl super::PurchaseModel for BgNbdParams {
    fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(BgNbdParams::p_alive(self, x, t_x, t))
    }
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        BgNbdParams::conditional_expected_purchases(self, horizon, x, t_x, t)
    }
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        BgNbdParams::expected_purchases_if_alive(self, horizon, x, t)
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    /// Rounded published estimates (Fader, Hardie & Lee 2005, CDNOW sample).
    const PAPER: BgNbdParams = BgNbdParams {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

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
            let (ll, grad) = data.family_total(&MLE, dropout);
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
        assert_eq!(data.n_distinct(), 2);
        let (ll, _) = data.log_likelihood_with_gradient(&MLE.to_vec());
        let direct = 2.0 * MLE.log_likelihood(0.0, 0.0, 5.0) + MLE.log_likelihood(1.0, 2.0, 5.0);
        assert_close(ll, direct, 1e-14);
    }
}
