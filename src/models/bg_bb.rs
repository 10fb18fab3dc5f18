//! The beta-geometric/beta-Bernoulli (BG/BB) model of discrete-time, non-contractual customers:
//! Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
//! Setting" (equation numbers below). At each opportunity (a yearly drive, a weekly slot) a
//! customer alive buys with her own probability p ~ Beta(α, β), and before each opportunity after
//! her first purchase she dies with her own probability θ ~ Beta(γ, δ): the dropout process is the
//! sBG model of subscriptions (`sbg::Retention`), whose survival, churn and discounted residual
//! lifetime the formulas below reuse.
//!
//! A history is (x, t_x, n): x transactions in the n opportunities after the first, the last at
//! opportunity t_x (0 when x = 0).

use serde::{Deserialize, Serialize};

use super::histories::DiscreteHistories;
use super::purchase_rate::digamma_difference;
use super::sbg::Retention;
use super::Likelihood;
use crate::special::{ln_rising, log_add_exp};

/// BG/BB's parameters: p ~ Beta(alpha, beta), θ ~ Beta(gamma, delta).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgBbParams {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

/// Up to this many opportunities the rising factorials are summed term by term (exact to
/// rounding); beyond, by ln Γ.
const SUMMED_UP_TO: u32 = 1000;

/// ln (z)_n = ln Γ(z + n) − ln Γ(z) and its derivative in z, ψ(z + n) − ψ(z).
fn ln_rising_with_derivative(z: f64, n: u32) -> (f64, f64) {
    if n > SUMMED_UP_TO {
        let n = f64::from(n);
        return (ln_rising(z, n), digamma_difference(z, n));
    }
    (0..n).fold((0.0, 0.0), |(ln, d), i| {
        let w = z + f64::from(i);
        (ln + w.ln(), d + 1.0 / w)
    })
}

/// A log-probability with its gradient in (α, β, γ, δ).
type Term = (f64, [f64; 4]);

impl BgBbParams {
    pub fn from_slice(v: &[f64]) -> Self {
        Self {
            alpha: v[0],
            beta: v[1],
            gamma: v[2],
            delta: v[3],
        }
    }

    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.alpha, self.beta, self.gamma, self.delta]
    }

    /// The dropout process: the sBG model with θ ~ Beta(γ, δ).
    pub fn dropout(&self) -> Retention {
        Retention::Beta {
            gamma: self.gamma,
            delta: self.delta,
        }
    }

    fn is_valid(&self) -> bool {
        self.to_vec().iter().all(|v| v.is_finite() && *v > 0.0)
    }

    /// ln B(α + x, β + k − x)/B(α, β) = ln (α)_x (β)_{k−x}/(α + β)_k: x transactions in k
    /// opportunities while alive, with its gradient.
    fn ln_transactions(&self, x: u32, k: u32) -> Term {
        let (a, da) = ln_rising_with_derivative(self.alpha, x);
        let (b, db) = ln_rising_with_derivative(self.beta, k - x);
        let (ab, dab) = ln_rising_with_derivative(self.alpha + self.beta, k);
        (a + b - ab, [da - dab, db - dab, 0.0, 0.0])
    }

    /// ln B(γ, δ + m)/B(γ, δ): alive after m opportunities (the sBG survival S(m)).
    fn ln_alive_after(&self, m: u32) -> Term {
        let (ln, g) = self.dropout().ln_survival_with_gradient(f64::from(m));
        (ln, [0.0, 0.0, g[0], g[1]])
    }

    /// ln B(γ + 1, δ + m)/B(γ, δ): alive for m opportunities, then dead before opportunity m + 1
    /// (the sBG churn at period m + 1).
    fn ln_dead_after(&self, m: u32) -> Term {
        let (ln, g) = self.dropout().ln_churn_at_with_gradient(f64::from(m) + 1.0);
        (ln, [0.0, 0.0, g[0], g[1]])
    }

    /// The terms of eq. (5): alive through n, then, for each i < n − t_x, dead right after
    /// opportunity t_x + i.
    fn likelihood_terms(&self, x: u32, t_x: u32, n: u32) -> impl Iterator<Item = Term> + '_ {
        let product = |a: Term, b: Term| (a.0 + b.0, std::array::from_fn(|j| a.1[j] + b.1[j]));
        std::iter::once(product(self.ln_transactions(x, n), self.ln_alive_after(n)))
            .chain((0..n - t_x).map(move |i| product(self.ln_transactions(x, t_x + i), self.ln_dead_after(t_x + i))))
    }

    /// ln L(α, β, γ, δ | x, t_x, n), eq. (5), with its gradient: a log-sum-exp of its terms.
    pub fn ln_likelihood_with_gradient(&self, x: u32, t_x: u32, n: u32) -> Term {
        let terms: Vec<Term> = self.likelihood_terms(x, t_x, n).collect();
        let ln = terms.iter().map(|t| t.0).fold(f64::NEG_INFINITY, log_add_exp);
        let mut gradient = [0.0; 4];
        for (l, g) in &terms {
            let w = (l - ln).exp();
            for j in 0..4 {
                gradient[j] += w * g[j];
            }
        }
        (ln, gradient)
    }

    /// P(alive at opportunity n + 1 | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L
    /// (eq. 11).
    pub fn p_alive(&self, x: u32, t_x: u32, n: u32) -> f64 {
        let ln_l = self.ln_likelihood_with_gradient(x, t_x, n).0;
        (self.ln_transactions(x, n).0 + self.ln_alive_after(n + 1).0 - ln_l).exp()
    }

    /// ln [B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ) / L]: the posterior weight of being alive
    /// at n, times E[p | alive]; what eqs. (13) and (14) multiply.
    fn ln_alive_buyer(&self, x: u32, t_x: u32, n: u32) -> f64 {
        let ln_l = self.ln_likelihood_with_gradient(x, t_x, n).0;
        let next_purchase = ((self.alpha + f64::from(x)) / (self.alpha + self.beta + f64::from(n))).ln();
        self.ln_transactions(x, n).0 + next_purchase + self.ln_alive_after(n).0 - ln_l
    }

    /// E[X(n, n + n*) | x, t_x, n]: expected transactions in the next n* opportunities (eq. 13),
    /// as the weight of an alive buyer times Σ_{t=n+1..n+n*} S(t)/S(n) (the sBG renewals to
    /// expect), which stays finite at γ = 1 where eq. 13's δ/(γ − 1) form divides by zero.
    pub fn expected_transactions(&self, n_star: u32, x: u32, t_x: u32, n: u32) -> f64 {
        self.ln_alive_buyer(x, t_x, n).exp() * self.dropout().expected_renewals_within(f64::from(n), n_star)
    }

    /// DERT(d | x, t_x, n): discounted expected residual transactions (eq. 14),
    /// Σ_{t > n} E[transaction at t] / (1 + d)^(t − n) = weight · S(n+1)/S(n) · 2F1(1, δ+n+1;
    /// γ+δ+n+1; 1/(1+d)) / (1 + d), the 2F1 as in the sBG's DERL. `None` when d ≤ 0.
    pub fn discounted_expected_residual_transactions(&self, discount: f64, x: u32, t_x: u32, n: u32) -> Option<f64> {
        let derl = self.dropout().discounted_residual_lifetime(f64::from(n), discount)?;
        Some(self.ln_alive_buyer(x, t_x, n).exp() * derl / (1.0 + discount))
    }

    /// P(alive at opportunity n | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ) / L: the
    /// first term of eq. (5) over the whole (alive now, before the next opportunity's dropout).
    pub fn p_alive_now(&self, x: u32, t_x: u32, n: u32) -> f64 {
        let ln_l = self.ln_likelihood_with_gradient(x, t_x, n).0;
        (self.ln_transactions(x, n).0 + self.ln_alive_after(n).0 - ln_l).exp()
    }

    /// Σ_{k=1..H} E[transaction at opportunity n + k | x, t_x, n] / (1 + d)^k: eq. (14)'s sum
    /// stopped after `periods` opportunities (the CLV over a set number of months).
    pub fn discounted_expected_transactions(&self, discount: f64, periods: u32, x: u32, t_x: u32, n: u32) -> f64 {
        let dropout = self.dropout();
        let z = 1.0 / (1.0 + discount);
        let (mut alive, mut factor, mut sum) = (1.0, 1.0, 0.0);
        for k in 1..=periods {
            alive *= dropout.retention_rate(f64::from(n + k));
            factor *= z;
            sum += alive * factor;
        }
        self.ln_alive_buyer(x, t_x, n).exp() * sum
    }

    /// P(X(n, n + n*) = k | x, t_x, n): exactly k transactions in the next n* opportunities (the
    /// distribution behind eq. 13). Given p and θ, a customer alive at n either survives the n*
    /// opportunities (k of n* bought) or dies before opportunity n + j (k of the j − 1 before it
    /// bought); integrated over the posterior, with those dead by n buying nothing:
    /// 1{k = 0} (1 − P(alive at n)) + [C(n*, k) B(α+x+k, β+n−x+n*−k)/B(α,β) · B(γ, δ+n+n*)/B(γ,δ)
    /// + Σ_{j=k+1..n*} C(j−1, k) B(α+x+k, β+n−x+j−1−k)/B(α,β) · B(γ+1, δ+n+j−1)/B(γ,δ)] / L.
    pub fn probability_of_transactions(&self, k: u32, n_star: u32, x: u32, t_x: u32, n: u32) -> f64 {
        if k > n_star {
            return 0.0;
        }
        let ln_l = self.ln_likelihood_with_gradient(x, t_x, n).0;
        let ln_choose = |m: u32, k: u32| (0..k).map(|i| (f64::from(m - i) / f64::from(i + 1)).ln()).sum::<f64>();
        let survives =
            ln_choose(n_star, k) + self.ln_transactions(x + k, n + n_star).0 + self.ln_alive_after(n + n_star).0;
        let dies = ((k + 1)..=n_star)
            .map(|j| ln_choose(j - 1, k) + self.ln_transactions(x + k, n + j - 1).0 + self.ln_dead_after(n + j - 1).0);
        let alive = std::iter::once(survives)
            .chain(dies)
            .fold(f64::NEG_INFINITY, log_add_exp);
        let dead_by_n = match k {
            0 => 1.0 - self.p_alive_now(x, t_x, n),
            _ => 0.0,
        };
        dead_by_n + (alive - ln_l).exp()
    }

    /// E[X(n)]: a new customer's expected transactions in her first n opportunities (eq. 7),
    /// α/(α+β) · Σ_{t=1..n} S(t).
    pub fn expected_transactions_new(&self, n: u32) -> f64 {
        self.alpha / (self.alpha + self.beta) * self.dropout().expected_renewals_within(0.0, n)
    }
}

/// The BG/BB likelihood over distinct discrete histories.
pub struct BgBbData<'a>(pub &'a DiscreteHistories);

impl Likelihood for BgBbData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["alpha", "beta", "gamma", "delta"]
    }

    /// Σ over histories of count · ln L (eq. 5's sum, the paper's eq. 6).
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let model = BgBbParams::from_slice(params);
        if !model.is_valid() {
            return (f64::NEG_INFINITY, vec![f64::NAN; 4]);
        }
        let mut gradient = vec![0.0; 4];
        let mut ll = 0.0;
        for row in self.0.rows() {
            let (l, g) = model.ln_likelihood_with_gradient(row.x, row.t_x, row.n);
            ll += row.weight * l;
            for j in 0..4 {
                gradient[j] += row.weight * g[j];
            }
        }
        (ll, gradient)
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // The share of opportunities with a transaction estimates E[p] among the alive.
        let (bought, chances) = self.0.rows().iter().fold((0.0, 0.0), |(b, c), r| {
            (b + r.weight * f64::from(r.x), c + r.weight * f64::from(r.n))
        });
        let p = (bought / chances.max(1.0)).clamp(0.05, 0.95);
        vec![
            vec![p, 1.0 - p, 1.0, 1.0],
            vec![3.0 * p, 3.0 * (1.0 - p), 0.5, 3.0],
            vec![0.3 * p, 0.3 * (1.0 - p), 1.0, 5.0],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DONATIONS: BgBbParams = BgBbParams {
        alpha: 1.204,
        beta: 0.750,
        gamma: 0.657,
        delta: 2.783,
    };

    #[test]
    fn the_likelihood_of_each_history_sums_to_one_over_all_histories() {
        // Every (x, t_x) possible in n = 4 opportunities: x = 0 (t_x = 0), or 1 ≤ x ≤ t_x ≤ 4.
        let n = 4;
        let mut total = DONATIONS.ln_likelihood_with_gradient(0, 0, n).0.exp();
        let mut mean = 0.0;
        for t_x in 1..=n {
            for x in 1..=t_x {
                // The number of ways to place x − 1 transactions in the t_x − 1 opportunities
                // before the last: the likelihood is of one sequence.
                let ways = (1..x).fold(1.0, |c, k| c * f64::from(t_x - k) / f64::from(k));
                let p = ways * DONATIONS.ln_likelihood_with_gradient(x, t_x, n).0.exp();
                total += p;
                mean += p * f64::from(x);
            }
        }
        assert!((total - 1.0).abs() < 1e-14, "{total}");
        // E[X(n)] from eq. 7 is the mean of that distribution.
        assert!((mean - DONATIONS.expected_transactions_new(n)).abs() < 1e-13, "{mean}");
    }

    #[test]
    fn gradients_match_finite_differences() {
        let v = DONATIONS.to_vec();
        for (x, t_x, n) in [(0, 0, 6), (2, 5, 6), (6, 6, 6), (3, 3, 11)] {
            let (_, g) = DONATIONS.ln_likelihood_with_gradient(x, t_x, n);
            for j in 0..4 {
                let h = 1e-6 * v[j];
                let at = |s: f64| {
                    let mut w = v.clone();
                    w[j] += s * h;
                    BgBbParams::from_slice(&w).ln_likelihood_with_gradient(x, t_x, n).0
                };
                let fd = (at(1.0) - at(-1.0)) / (2.0 * h);
                assert!(
                    (g[j] - fd).abs() < 1e-7 * (1.0 + fd.abs()),
                    "({x},{t_x},{n}) d{j}: {} vs {fd}",
                    g[j]
                );
            }
        }
    }
}
