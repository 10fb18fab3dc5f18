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

use super::sbg::Retention;
use crate::special::log_add_exp;

mod forms;

pub use forms::{total_log_likelihood, BgBbData, BgBbForm};

/// Σ e^{l_i} and Σ e^{l_i} g_i over terms (l_i, g_i), kept relative to the largest l_i so far:
/// ln Σ e^{l_i} and the gradient of that, Σ w_i g_i with w_i = e^{l_i}/Σ e^{l_j}.
struct LogSumExp {
    top: f64,
    sum: f64,
    gradient: [f64; 4],
}

impl Default for LogSumExp {
    fn default() -> Self {
        Self {
            top: f64::NEG_INFINITY,
            sum: 0.0,
            gradient: [0.0; 4],
        }
    }
}

impl LogSumExp {
    fn add(&mut self, (l, g): Term) {
        if l == f64::NEG_INFINITY {
            return;
        }
        if l > self.top {
            let scale = (self.top - l).exp();
            self.sum *= scale;
            self.gradient.iter_mut().for_each(|v| *v *= scale);
            self.top = l;
        }
        let w = (l - self.top).exp();
        self.sum += w;
        for (v, g) in self.gradient.iter_mut().zip(g) {
            *v += w * g;
        }
    }

    /// (ln Σ e^{l_i}, its gradient); ln 0 with a zero gradient when every term was.
    fn total(self) -> Term {
        if self.sum == 0.0 {
            return (f64::NEG_INFINITY, [0.0; 4]);
        }
        (self.top + self.sum.ln(), self.gradient.map(|v| v / self.sum))
    }
}

/// Eq. (5)'s factors for every count up to the longest history, each with its gradient, built
/// once per parameter vector: ln (α)_x, ln (β)_m and ln (α + β)_k (x ln p, m ln(1 − p) and 0 with
/// one buying probability), the dropout's ln S(t) and ln P(T = t + 1 | T > t). Each term of a
/// history's likelihood is then a sum of five entries: a fit's likelihood costs one exponential
/// per term instead of the O(n) logarithms of each term's own rising factorials, O(n²) a history
/// (a daily summary of a year has n in the hundreds).
struct Factors {
    bought: Vec<Term>,
    missed: Vec<Term>,
    chances: Vec<Term>,
    survived: Vec<Term>,
    hazard: Vec<Term>,
}

impl Factors {
    /// The factors of histories of up to `n` opportunities.
    fn new(model: &BgBb, n: u32) -> Self {
        let len = n as usize + 1;
        // Σ_{i<m} f(i) for m = 0..=n, f(i) a log-term with its gradient.
        let cumulative = |f: &dyn Fn(f64) -> Term| -> Vec<Term> {
            let mut out = Vec::with_capacity(len);
            let mut acc: Term = (0.0, [0.0; 4]);
            out.push(acc);
            for i in 0..n {
                let (l, g) = f(f64::from(i));
                acc = (acc.0 + l, std::array::from_fn(|j| acc.1[j] + g[j]));
                out.push(acc);
            }
            out
        };
        let (bought, missed, chances) = match model.buying {
            Buying::Beta { alpha, beta } => (
                cumulative(&|i| ((alpha + i).ln(), [1.0 / (alpha + i), 0.0, 0.0, 0.0])),
                cumulative(&|i| ((beta + i).ln(), [0.0, 1.0 / (beta + i), 0.0, 0.0])),
                cumulative(&|i| {
                    let w = 1.0 / (alpha + beta + i);
                    ((alpha + beta + i).ln(), [w, w, 0.0, 0.0])
                }),
            ),
            // x ln p + m ln(1 − p), each a product as `BgBb::ln_transactions` has it.
            Buying::Common { p } => {
                let times = |(l, g): (f64, f64)| -> Vec<Term> {
                    (0..len)
                        .map(|i| (i as f64 * l, [i as f64 * g, 0.0, 0.0, 0.0]))
                        .collect()
                };
                (
                    times((p.ln(), 1.0 / p)),
                    times(((-p).ln_1p(), -1.0 / (1.0 - p))),
                    vec![(0.0, [0.0; 4]); len],
                )
            }
        };
        let dropout = |(l, g): (f64, [f64; 2])| (l, [0.0, 0.0, g[0], g[1]]);
        let survived = cumulative(&|t| dropout(model.dropout.ln_retention_with_gradient(t)));
        let hazard = (0..len)
            .map(|t| dropout(model.dropout.ln_hazard_with_gradient(t as f64)))
            .collect();
        Self {
            bought,
            missed,
            chances,
            survived,
            hazard,
        }
    }

    /// ln B(α + x, β + m − x)/B(α, β) = ln (α)_x (β)_{m−x}/(α+β)_m: x transactions in m
    /// opportunities while alive.
    fn ln_transactions(&self, x: u32, m: u32) -> f64 {
        self.bought[x as usize].0 + self.missed[(m - x) as usize].0 - self.chances[m as usize].0
    }

    /// ln L(x, t_x, n), eq. (5), with its gradient: the log-sum-exp of its terms, for k = t_x, …,
    /// n − 1 "x transactions in k opportunities, then dead before k + 1", ln (α)_x (β)_{k−x}/
    /// (α+β)_k + ln S(k) + ln P(T = k + 1 | T > k), and "x transactions in n opportunities, alive
    /// through n".
    fn ln_likelihood(&self, x: u32, t_x: u32, n: u32) -> Term {
        let (x, t_x, n) = (x as usize, t_x as usize, n as usize);
        let sum = |terms: [&Term; 4]| -> Term {
            (
                terms[0].0 + terms[1].0 - terms[2].0 + terms[3].0,
                std::array::from_fn(|j| terms[0].1[j] + terms[1].1[j] - terms[2].1[j] + terms[3].1[j]),
            )
        };
        let bought = &self.bought[x];
        let mut total = LogSumExp::default();
        for k in t_x..n {
            let (l, g) = sum([bought, &self.missed[k - x], &self.chances[k], &self.survived[k]]);
            let (h, dh) = self.hazard[k];
            total.add((l + h, std::array::from_fn(|j| g[j] + dh[j])));
        }
        total.add(sum([bought, &self.missed[n - x], &self.chances[n], &self.survived[n]]));
        total.total()
    }
}

/// BG/BB's parameters: p ~ Beta(alpha, beta), θ ~ Beta(gamma, delta).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgBbParams {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

/// A log-probability with its gradient: the buying probability's parameters in the first two
/// slots (α, β, or p and 0), the dropout's in the last two (γ, δ, or θ and 0).
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
}

/// The buying probability p across customers: Beta(α, β), or at its limit (α, β → ∞ with
/// α/(α + β) = p) one p for everyone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Buying {
    Beta { alpha: f64, beta: f64 },
    Common { p: f64 },
}

impl Buying {
    fn to_vec(self) -> Vec<f64> {
        match self {
            Self::Beta { alpha, beta } => vec![alpha, beta],
            Self::Common { p } => vec![p],
        }
    }

    fn is_valid(self) -> bool {
        match self {
            Self::Beta { alpha, beta } => alpha > 0.0 && beta > 0.0 && alpha.is_finite() && beta.is_finite(),
            Self::Common { p } => p > 0.0 && p < 1.0,
        }
    }

    /// E[p | x transactions in k opportunities alive]: (α + x)/(α + β + k), or p.
    fn posterior_mean(self, x: u32, k: u32) -> f64 {
        match self {
            Self::Beta { alpha, beta } => (alpha + f64::from(x)) / (alpha + beta + f64::from(k)),
            Self::Common { p } => p,
        }
    }
}

/// The BG/BB model: its buying probability and its dropout (the sBG process), each Beta across
/// customers or at its limit one value for everyone (Beta in both: `BgBbParams`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgBb {
    #[serde(flatten)]
    pub buying: Buying,
    #[serde(flatten)]
    pub dropout: Retention,
}

impl From<BgBbParams> for BgBb {
    fn from(p: BgBbParams) -> Self {
        Self {
            buying: Buying::Beta {
                alpha: p.alpha,
                beta: p.beta,
            },
            dropout: Retention::Beta {
                gamma: p.gamma,
                delta: p.delta,
            },
        }
    }
}

impl BgBb {
    /// The parameters: the buying probability's, then the dropout's.
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = self.buying.to_vec();
        v.extend(self.dropout.to_vec());
        v
    }

    fn is_valid(&self) -> bool {
        self.buying.is_valid() && self.dropout.is_valid()
    }

    /// The names of `to_vec`'s parameters.
    pub fn parameter_names(&self) -> Vec<&'static str> {
        let buying: &[&str] = match self.buying {
            Buying::Beta { .. } => &["alpha", "beta"],
            Buying::Common { .. } => &["p"],
        };
        buying.iter().chain(self.dropout.parameter_names()).copied().collect()
    }

    /// The parameters of `to_vec` that are probabilities (p, θ, π), the rest positive.
    pub const PROBABILITIES: [&'static str; 3] = ["p", "theta", "pi"];

    /// The model of this form at the parameters `v` (in `to_vec`'s order); `None` where they
    /// are not as many or describe no model.
    pub fn with_values(&self, v: &[f64]) -> Option<Self> {
        if v.len() != self.to_vec().len() {
            return None;
        }
        let (buying, rest) = match self.buying {
            Buying::Beta { .. } => (
                Buying::Beta {
                    alpha: v[0],
                    beta: v[1],
                },
                &v[2..],
            ),
            Buying::Common { .. } => (Buying::Common { p: v[0] }, &v[1..]),
        };
        let dropout = match self.dropout {
            Retention::Beta { .. } => Retention::Beta {
                gamma: rest[0],
                delta: rest[1],
            },
            Retention::Common { .. } => Retention::Common { theta: rest[0] },
            Retention::Split { .. } => Retention::Split { pi: rest[0] },
        };
        let model = Self { buying, dropout };
        model.is_valid().then_some(model)
    }

    /// A term's gradient in `to_vec` order.
    fn compact(&self, g: [f64; 4]) -> Vec<f64> {
        let (b, d) = (self.buying.to_vec().len(), self.dropout.to_vec().len());
        g[..b].iter().chain(&g[2..2 + d]).copied().collect()
    }

    /// ln L(α, β, γ, δ | x, t_x, n), eq. (5), with its gradient (`Factors::ln_likelihood`).
    pub fn ln_likelihood_with_gradient(&self, x: u32, t_x: u32, n: u32) -> Term {
        Factors::new(self, n).ln_likelihood(x, t_x, n)
    }

    /// P(alive at opportunity n + 1 | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L
    /// (eq. 11).
    pub fn p_alive(&self, x: u32, t_x: u32, n: u32) -> f64 {
        self.p_alive_after(1, x, t_x, n)
    }

    /// P(alive at opportunity n + m | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+m)/B(γ,δ) / L
    /// (eq. 11 carried m opportunities on, the appendix's eq. A10): `p_alive` is m = 1,
    /// `p_alive_now` m = 0.
    /// Numerator and likelihood from one table of factors, so that the "alive" term is the same
    /// number in both (P(alive) = 1 exactly where no other term is possible).
    pub fn p_alive_after(&self, m: u32, x: u32, t_x: u32, n: u32) -> f64 {
        let factors = Factors::new(self, n + m);
        let ln_l = factors.ln_likelihood(x, t_x, n).0;
        Self::p_alive_after_from(&factors, ln_l, m, x, n)
    }

    /// [`Self::p_alive_after`] from `factors` of at least n + m opportunities and the history's
    /// ln L, `ln_l`.
    fn p_alive_after_from(factors: &Factors, ln_l: f64, m: u32, x: u32, n: u32) -> f64 {
        (factors.ln_transactions(x, n) + factors.survived[(n + m) as usize].0 - ln_l).exp()
    }

    /// ln [B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ) / L]: the posterior weight of being alive
    /// at n, times E[p | alive]; what eqs. (13) and (14) multiply.
    fn ln_alive_buyer(&self, x: u32, t_x: u32, n: u32) -> f64 {
        let factors = Factors::new(self, n);
        let ln_l = factors.ln_likelihood(x, t_x, n).0;
        self.ln_alive_buyer_from(&factors, ln_l, x, n)
    }

    /// [`Self::ln_alive_buyer`] from `factors` of at least n opportunities and the history's ln L,
    /// `ln_l`.
    fn ln_alive_buyer_from(&self, factors: &Factors, ln_l: f64, x: u32, n: u32) -> f64 {
        let next_purchase = self.buying.posterior_mean(x, n).ln();
        factors.ln_transactions(x, n) + next_purchase + factors.survived[n as usize].0 - ln_l
    }

    /// E[X(n, n + n*) | x, t_x, n]: expected transactions in the next n* opportunities (eq. 13),
    /// as the weight of an alive buyer times Σ_{t=n+1..n+n*} S(t)/S(n) (the sBG renewals to
    /// expect), which stays finite at γ = 1 where eq. 13's δ/(γ − 1) form divides by zero.
    pub fn expected_transactions(&self, n_star: u32, x: u32, t_x: u32, n: u32) -> f64 {
        self.ln_alive_buyer(x, t_x, n).exp() * self.dropout.expected_renewals_within(f64::from(n), n_star)
    }

    /// DERT(d | x, t_x, n): discounted expected residual transactions (eq. 14),
    /// Σ_{t > n} E[transaction at t] / (1 + d)^(t − n) = weight · S(n+1)/S(n) · 2F1(1, δ+n+1;
    /// γ+δ+n+1; 1/(1+d)) / (1 + d), the 2F1 as in the sBG's DERL. `None` when d ≤ 0.
    pub fn discounted_expected_residual_transactions(&self, discount: f64, x: u32, t_x: u32, n: u32) -> Option<f64> {
        let derl = self.dropout.discounted_residual_lifetime(f64::from(n), discount)?;
        Some(self.ln_alive_buyer(x, t_x, n).exp() * derl / (1.0 + discount))
    }

    /// P(alive at opportunity n | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ) / L: the
    /// first term of eq. (5) over the whole (alive now, before the next opportunity's dropout).
    pub fn p_alive_now(&self, x: u32, t_x: u32, n: u32) -> f64 {
        self.p_alive_after(0, x, t_x, n)
    }

    /// Σ_{k=1..H} E[transaction at opportunity n + k | x, t_x, n] / (1 + d)^k: eq. (14)'s sum
    /// stopped after `periods` opportunities (the CLV over a set number of months).
    pub fn discounted_expected_transactions(&self, discount: f64, periods: u32, x: u32, t_x: u32, n: u32) -> f64 {
        self.ln_alive_buyer(x, t_x, n).exp() * self.discounted_survival(discount, periods, n)
    }

    /// Σ_{k=1..periods} S(n + k)/S(n) / (1 + discount)^k: what an alive buyer at n multiplies in
    /// the discounted expected transactions.
    fn discounted_survival(&self, discount: f64, periods: u32, n: u32) -> f64 {
        let z = 1.0 / (1.0 + discount);
        let (mut alive, mut factor, mut sum) = (1.0, 1.0, 0.0);
        for k in 1..=periods {
            alive *= self.dropout.retention_rate(f64::from(n + k));
            factor *= z;
            sum += alive * factor;
        }
        sum
    }

    /// [`Self::p_alive`], [`Self::expected_transactions`] over `n_star` and
    /// [`Self::discounted_expected_transactions`] at `discount` over `periods`, of each of
    /// `histories` ([x, t_x, n]): the same numbers to the last bit, from one table of factors for
    /// all of them (`Factors` of the longest history, whose entries are every shorter one's too)
    /// and the sums over the future once per n, where each alone builds its own table.
    pub fn forecasts_of_histories(
        &self,
        n_star: u32,
        discount: f64,
        periods: u32,
        histories: &[[u32; 3]],
    ) -> Vec<[f64; 3]> {
        let longest = histories.iter().map(|h| h[2]).max().unwrap_or(0);
        let factors = Factors::new(self, longest + 1);
        let mut future = std::collections::HashMap::new();
        histories
            .iter()
            .map(|&[x, t_x, n]| {
                let ln_l = factors.ln_likelihood(x, t_x, n).0;
                let p_alive = Self::p_alive_after_from(&factors, ln_l, 1, x, n);
                let alive_buyer = self.ln_alive_buyer_from(&factors, ln_l, x, n).exp();
                let (renewals, discounted) = *future.entry(n).or_insert_with(|| {
                    (
                        self.dropout.expected_renewals_within(f64::from(n), n_star),
                        self.discounted_survival(discount, periods, n),
                    )
                });
                [p_alive, alive_buyer * renewals, alive_buyer * discounted]
            })
            .collect()
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
        // Every factor from one table (`Factors`): O(n + n*) logarithms, not O(n · n*).
        let factors = Factors::new(self, n + n_star);
        let ln_l = factors.ln_likelihood(x, t_x, n).0;
        let ln_choose = |m: u32, k: u32| (0..k).map(|i| (f64::from(m - i) / f64::from(i + 1)).ln()).sum::<f64>();
        let (survived, hazard) = (
            |m: u32| factors.survived[m as usize].0,
            |m: u32| factors.hazard[m as usize].0,
        );
        let survives = ln_choose(n_star, k) + factors.ln_transactions(x + k, n + n_star) + survived(n + n_star);
        let dies = ((k + 1)..=n_star).map(|j| {
            let m = n + j - 1;
            ln_choose(j - 1, k) + factors.ln_transactions(x + k, m) + survived(m) + hazard(m)
        });
        let alive = std::iter::once(survives)
            .chain(dies)
            .fold(f64::NEG_INFINITY, log_add_exp);
        let dead_by_n = match k {
            0 => 1.0 - (factors.ln_transactions(x, n) + survived(n) - ln_l).exp(),
            _ => 0.0,
        };
        dead_by_n + (alive - ln_l).exp()
    }

    /// P(X(n) = x): a new customer's transactions in her first n opportunities, the distribution
    /// whose mean is eq. (7): C(n, x) B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ) + Σ_{i=x..n−1}
    /// C(i, x) B(α+x, β+i−x)/B(α,β) · B(γ+1, δ+i)/B(γ,δ); `probability_of_transactions` after the
    /// empty history (x = t_x = n = 0, whose likelihood is 1).
    pub fn probability_of_transactions_new(&self, x: u32, n: u32) -> f64 {
        self.probability_of_transactions(x, n, 0, 0, 0)
    }

    /// E[X(n)]: a new customer's expected transactions in her first n opportunities (eq. 7),
    /// α/(α+β) · Σ_{t=1..n} S(t).
    pub fn expected_transactions_new(&self, n: u32) -> f64 {
        self.buying.posterior_mean(0, 0) * self.dropout.expected_renewals_within(0.0, n)
    }
}

#[cfg(test)]
mod tests;
