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
use super::sbg::Retention;
use super::Likelihood;
use crate::special::log_add_exp;

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

/// Which of BG/BB's heterogeneities a fit keeps: both (the full model), or one or both at a
/// limit: one value for everyone, or (the dropout) a share who leave at once and never otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BgBbForm {
    Full,
    /// One buying probability p for everyone (α, β → ∞ with α/(α + β) = p).
    CommonBuying,
    /// One dropout probability θ for everyone (γ, δ → ∞ with γ/(γ + δ) = θ).
    CommonDropout,
    Common,
    /// A share π drop out before their first opportunity, the rest never (γ, δ → 0 with
    /// γ/(γ + δ) = π): data in which nobody seems to leave once she has come back.
    SplitDropout,
    /// One buying probability, and the split dropout.
    CommonBuyingSplitDropout,
}

impl BgBbForm {
    pub const LIMITS: [Self; 5] = [
        Self::CommonBuying,
        Self::CommonDropout,
        Self::Common,
        Self::SplitDropout,
        Self::CommonBuyingSplitDropout,
    ];

    fn common_buying(self) -> bool {
        matches!(self, Self::CommonBuying | Self::Common | Self::CommonBuyingSplitDropout)
    }

    fn common_dropout(self) -> bool {
        matches!(self, Self::CommonDropout | Self::Common)
    }

    fn split_dropout(self) -> bool {
        matches!(self, Self::SplitDropout | Self::CommonBuyingSplitDropout)
    }

    /// The dropout is one parameter, a probability fitted as its odds.
    fn dropout_in_odds(self) -> bool {
        self.common_dropout() || self.split_dropout()
    }
}

/// The BG/BB likelihood over distinct discrete histories, in the form's parameters (a common
/// probability as its odds, so that the optimiser's logarithms cover (0, 1)).
pub struct BgBbData<'a> {
    pub histories: &'a DiscreteHistories,
    pub form: BgBbForm,
}

impl BgBbData<'_> {
    /// The model of an optimiser's vector.
    pub fn to_model(&self, v: &[f64]) -> BgBb {
        let probability = |odds: f64| odds / (1.0 + odds);
        let (buying, rest) = match self.form.common_buying() {
            true => (Buying::Common { p: probability(v[0]) }, &v[1..]),
            false => (
                Buying::Beta {
                    alpha: v[0],
                    beta: v[1],
                },
                &v[2..],
            ),
        };
        let dropout = match (self.form.common_dropout(), self.form.split_dropout()) {
            (true, _) => Retention::Common {
                theta: probability(rest[0]),
            },
            (_, true) => Retention::Split {
                pi: probability(rest[0]),
            },
            _ => Retention::Beta {
                gamma: rest[0],
                delta: rest[1],
            },
        };
        BgBb { buying, dropout }
    }

    /// d probability / d odds for each entry of an optimiser's vector (1 where it is not odds).
    pub fn odds_chain(&self, v: &[f64]) -> Vec<f64> {
        let chain = |odds: f64| 1.0 / ((1.0 + odds) * (1.0 + odds));
        let buy = match self.form.common_buying() {
            true => vec![chain(v[0])],
            false => vec![1.0, 1.0],
        };
        let k = buy.len();
        let drop = match self.form.dropout_in_odds() {
            true => vec![chain(v[k])],
            false => vec![1.0, 1.0],
        };
        buy.into_iter().chain(drop).collect()
    }
}

impl Likelihood for BgBbData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        match self.form {
            BgBbForm::Full => &["alpha", "beta", "gamma", "delta"],
            BgBbForm::CommonBuying => &["p", "gamma", "delta"],
            BgBbForm::CommonDropout => &["alpha", "beta", "theta"],
            BgBbForm::Common => &["p", "theta"],
            BgBbForm::SplitDropout => &["alpha", "beta", "pi"],
            BgBbForm::CommonBuyingSplitDropout => &["p", "pi"],
        }
    }

    /// Σ over histories of count · ln L (eq. 5's sum, the paper's eq. 6).
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let model = self.to_model(params);
        if !model.is_valid() {
            return (f64::NEG_INFINITY, vec![f64::NAN; params.len()]);
        }
        let (ll, g) = total_log_likelihood(self.histories, &model);
        let gradient = model
            .compact(g)
            .iter()
            .zip(self.odds_chain(params))
            .map(|(g, c)| g * c)
            .collect();
        (ll, gradient)
    }

    fn n_customers(&self) -> f64 {
        self.histories.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // The share of opportunities with a transaction estimates E[p] among the alive.
        let (bought, chances) = self.histories.rows().iter().fold((0.0, 0.0), |(b, c), r| {
            (b + r.weight * f64::from(r.x), c + r.weight * f64::from(r.n))
        });
        let p = (bought / chances.max(1.0)).clamp(0.05, 0.95);
        let buying: Vec<Vec<f64>> = match self.form.common_buying() {
            true => vec![vec![p / (1.0 - p)]],
            false => vec![
                vec![p, 1.0 - p],
                vec![3.0 * p, 3.0 * (1.0 - p)],
                vec![0.3 * p, 0.3 * (1.0 - p)],
            ],
        };
        // At the split limit, the share who never came back bounds π, the share who left at once.
        let never_back = self
            .histories
            .rows()
            .iter()
            .fold(0.0, |s, r| s + r.weight * f64::from(r.x == 0))
            / self.histories.n_customers().max(1.0);
        let pi = (0.5 * never_back).clamp(0.01, 0.9);
        let dropout: Vec<Vec<f64>> = match (self.form.common_dropout(), self.form.split_dropout()) {
            (true, _) => vec![vec![0.25]],
            (_, true) => vec![vec![pi / (1.0 - pi)]],
            _ => vec![vec![1.0, 1.0], vec![0.5, 3.0], vec![1.0, 5.0]],
        };
        (0..buying.len().max(dropout.len()))
            .map(|k| {
                let mut v = buying[k.min(buying.len() - 1)].clone();
                v.extend(&dropout[k.min(dropout.len() - 1)]);
                v
            })
            .collect()
    }
}

/// Σ over histories of count · ln L with its gradient in the four slots of `Term`.
pub fn total_log_likelihood(histories: &DiscreteHistories, model: &BgBb) -> Term {
    let longest = histories.rows().iter().map(|r| r.n).max().unwrap_or(0);
    let factors = Factors::new(model, longest);
    let mut gradient = [0.0; 4];
    let mut ll = 0.0;
    for row in histories.rows() {
        let (l, g) = factors.ln_likelihood(row.x, row.t_x, row.n);
        ll += row.weight * l;
        for j in 0..4 {
            gradient[j] += row.weight * g[j];
        }
    }
    (ll, gradient)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forecasts_of_many_histories_are_each_ones_to_the_last_bit() {
        let forms = [
            BgBb::from(BgBbParams {
                alpha: 1.2,
                beta: 0.75,
                gamma: 0.66,
                delta: 2.8,
            }),
            BgBb {
                buying: Buying::Common { p: 0.3 },
                dropout: Retention::Common { theta: 0.1 },
            },
            BgBb {
                buying: Buying::Beta { alpha: 0.5, beta: 2.0 },
                dropout: Retention::Split { pi: 0.2 },
            },
        ];
        let mut histories = Vec::new();
        for n in [0, 1, 2, 6, 40, 77] {
            for t_x in 0..=n {
                for x in 0..=t_x {
                    if (x == 0) == (t_x == 0) {
                        histories.push([x, t_x, n]);
                    }
                }
            }
        }
        for model in forms {
            let together = model.forecasts_of_histories(5, 0.01, 12, &histories);
            for (&[x, t_x, n], got) in histories.iter().zip(together) {
                let alone = [
                    model.p_alive(x, t_x, n),
                    model.expected_transactions(5, x, t_x, n),
                    model.discounted_expected_transactions(0.01, 12, x, t_x, n),
                ];
                assert_eq!(
                    got.map(f64::to_bits),
                    alone.map(f64::to_bits),
                    "{model:?} at {:?}",
                    [x, t_x, n]
                );
            }
        }
    }
    use crate::models::purchase_rate::digamma_difference;
    use crate::special::ln_rising;

    /// Eq. (5)'s factors computed on their own, as the paper writes them: the reference the
    /// tables of `Factors` are tested against.
    trait Direct {
        fn ln_transactions(&self, x: u32, k: u32) -> Term;
        fn ln_alive_after(&self, m: u32) -> Term;
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

    impl Direct for BgBb {
        /// ln P(x transactions in k opportunities while alive): ln B(α + x, β + k − x)/B(α, β) =
        /// ln (α)_x (β)_{k−x}/(α + β)_k, or x ln p + (k − x) ln(1 − p), with its gradient.
        fn ln_transactions(&self, x: u32, k: u32) -> Term {
            match self.buying {
                Buying::Beta { alpha, beta } => {
                    let (a, da) = ln_rising_with_derivative(alpha, x);
                    let (b, db) = ln_rising_with_derivative(beta, k - x);
                    let (ab, dab) = ln_rising_with_derivative(alpha + beta, k);
                    (a + b - ab, [da - dab, db - dab, 0.0, 0.0])
                }
                Buying::Common { p } => {
                    let (x, rest) = (f64::from(x), f64::from(k - x));
                    (
                        x * p.ln() + rest * (-p).ln_1p(),
                        [x / p - rest / (1.0 - p), 0.0, 0.0, 0.0],
                    )
                }
            }
        }

        /// ln B(γ, δ + m)/B(γ, δ): alive after m opportunities (the sBG survival S(m)).
        fn ln_alive_after(&self, m: u32) -> Term {
            let (ln, g) = self.dropout.ln_survival_with_gradient(f64::from(m));
            (ln, [0.0, 0.0, g[0], g[1]])
        }
    }
    use crate::models::histories::DiscreteRow;

    const DONATIONS: BgBbParams = BgBbParams {
        alpha: 1.204,
        beta: 0.750,
        gamma: 0.657,
        delta: 2.783,
    };

    #[test]
    fn p_alive_m_opportunities_on_is_the_sbg_survival_for_a_new_customer() {
        // The empty history (x = t_x = n = 0) has likelihood 1, so P(alive at m) is the sBG
        // survival B(γ, δ+m)/B(γ, δ); at γ = δ = 1 that is Γ(1+m)Γ(2)/Γ(2+m) = 1/(1+m).
        let model = BgBb::from(BgBbParams {
            alpha: 1.204,
            beta: 0.750,
            gamma: 1.0,
            delta: 1.0,
        });
        for m in 0..6u32 {
            let expected = 1.0 / (1.0 + f64::from(m));
            assert!((model.p_alive_after(m, 0, 0, 0) - expected).abs() < 1e-14, "m = {m}");
        }
        // m = 1 and m = 0 are eq. 11's P(alive) and P(alive now).
        let donations = BgBb::from(DONATIONS);
        assert_eq!(donations.p_alive_after(1, 3, 5, 6), donations.p_alive(3, 5, 6));
        assert_eq!(donations.p_alive_after(0, 3, 5, 6), donations.p_alive_now(3, 5, 6));
        // Further on, less likely alive.
        assert!(donations.p_alive_after(5, 3, 5, 6) < donations.p_alive(3, 5, 6));
    }

    #[test]
    fn the_likelihood_of_each_history_sums_to_one_over_all_histories() {
        // Every (x, t_x) possible in n = 4 opportunities: x = 0 (t_x = 0), or 1 ≤ x ≤ t_x ≤ 4; in
        // each form of the model.
        let common = BgBb {
            buying: Buying::Common { p: 0.6 },
            dropout: Retention::Common { theta: 0.2 },
        };
        let split = BgBb {
            dropout: Retention::Split { pi: 0.3 },
            ..BgBb::from(DONATIONS)
        };
        let common_split = BgBb {
            dropout: Retention::Split { pi: 0.3 },
            ..common
        };
        for model in [BgBb::from(DONATIONS), common, split, common_split] {
            let n = 4;
            let mut total = model.ln_likelihood_with_gradient(0, 0, n).0.exp();
            let mut mean = 0.0;
            for t_x in 1..=n {
                for x in 1..=t_x {
                    // The ways to place x − 1 transactions in the t_x − 1 opportunities before the
                    // last: the likelihood is of one sequence.
                    let ways = (1..x).fold(1.0, |c, k| c * f64::from(t_x - k) / f64::from(k));
                    let p = ways * model.ln_likelihood_with_gradient(x, t_x, n).0.exp();
                    total += p;
                    mean += p * f64::from(x);
                }
            }
            assert!((total - 1.0).abs() < 1e-14, "{model:?}: {total}");
            // E[X(n)] from eq. 7 is the mean of that distribution.
            assert!((mean - model.expected_transactions_new(n)).abs() < 1e-13, "{mean}");
        }
    }

    #[test]
    fn gradients_match_finite_differences_in_every_form() {
        let rows = [(0, 0, 6, 10.0), (2, 5, 6, 3.0), (6, 6, 6, 4.0), (3, 3, 11, 2.0)]
            .map(|(x, t_x, n, weight)| DiscreteRow { x, t_x, n, weight });
        let histories = DiscreteHistories::from_rows(rows).unwrap();
        for (form, v) in [
            (BgBbForm::Full, vec![1.204, 0.750, 0.657, 2.783]),
            (BgBbForm::CommonBuying, vec![1.5, 0.657, 2.783]),
            (BgBbForm::CommonDropout, vec![1.204, 0.750, 0.3]),
            (BgBbForm::Common, vec![1.5, 0.3]),
            (BgBbForm::SplitDropout, vec![1.204, 0.750, 0.4]),
            (BgBbForm::CommonBuyingSplitDropout, vec![1.5, 0.4]),
        ] {
            let data = BgBbData {
                histories: &histories,
                form,
            };
            let (_, g) = data.log_likelihood_with_gradient(&v);
            for j in 0..v.len() {
                let h = 1e-6 * v[j];
                let at = |s: f64| {
                    let mut w = v.clone();
                    w[j] += s * h;
                    data.log_likelihood_with_gradient(&w).0
                };
                let fd = (at(1.0) - at(-1.0)) / (2.0 * h);
                assert!(
                    (g[j] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{form:?} d{j}: {} vs {fd}",
                    g[j]
                );
            }
        }
    }

    /// A model `near` a limit and the `limit` itself give the same likelihood, P(alive) and
    /// expected transactions in the next 5 opportunities for each of `histories`.
    fn assert_near_is_limit(near: &BgBb, limit: &BgBb, histories: &[(u32, u32, u32)]) {
        for &(x, t_x, n) in histories {
            let (a, b) = (
                near.ln_likelihood_with_gradient(x, t_x, n).0,
                limit.ln_likelihood_with_gradient(x, t_x, n).0,
            );
            assert!((a - b).abs() < 1e-7, "({x},{t_x},{n}): {a} vs {b}");
            assert!((near.p_alive(x, t_x, n) - limit.p_alive(x, t_x, n)).abs() < 1e-7);
            let (a, b) = (
                near.expected_transactions(5, x, t_x, n),
                limit.expected_transactions(5, x, t_x, n),
            );
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn the_limits_are_where_the_beta_model_goes() {
        // α, β → ∞ with α/(α + β) = 0.6, and γ, δ → ∞ with γ/(γ + δ) = 0.2.
        let near = BgBb::from(BgBbParams {
            alpha: 0.6e9,
            beta: 0.4e9,
            gamma: 0.2e9,
            delta: 0.8e9,
        });
        let limit = BgBb {
            buying: Buying::Common { p: 0.6 },
            dropout: Retention::Common { theta: 0.2 },
        };
        assert_near_is_limit(&near, &limit, &[(0, 0, 6), (2, 5, 6), (6, 6, 6)]);
    }

    #[test]
    fn the_split_dropout_limit_is_where_the_beta_model_goes_and_has_closed_forms() {
        // γ, δ → 0 with γ/(γ + δ) = 0.3: 30% leave before their first opportunity, the rest never.
        let near = BgBb::from(BgBbParams {
            gamma: 0.3e-9,
            delta: 0.7e-9,
            ..DONATIONS
        });
        let limit = BgBb {
            dropout: Retention::Split { pi: 0.3 },
            ..BgBb::from(DONATIONS)
        };
        assert_near_is_limit(&near, &limit, &[(0, 0, 6), (0, 0, 0), (2, 5, 6), (6, 6, 6)]);
        // With one buying probability p = 0.2 the limit is a two-group mixture:
        // L(0, 0, n) = π + (1 − π)(1 − p)^n, and for x ≥ 1 (she came back, so she stays)
        // L(x, t_x, n) = (1 − π) p^x (1 − p)^(n−x), P(alive) = 1, E[X(n, n + 5)] = 5p and
        // DERT(d) = Σ_k p/(1 + d)^k = p/d. At n = 6: (0.8)^6 = 0.262144, so L(0, 0, 6) =
        // 0.3 + 0.7 · 0.262144 = 0.4835008 and P(alive | 0, 0, 6) = 0.1835008/0.4835008.
        let mixture = BgBb {
            buying: Buying::Common { p: 0.2 },
            dropout: Retention::Split { pi: 0.3 },
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
        assert!(close(mixture.ln_likelihood_with_gradient(0, 0, 6).0, 0.4835008f64.ln()));
        assert!(close(mixture.p_alive(0, 0, 6), 0.1835008 / 0.4835008));
        // 0.7 · 0.2² · 0.8⁴ = 0.0114688.
        assert!(close(mixture.ln_likelihood_with_gradient(2, 5, 6).0, 0.0114688f64.ln()));
        assert!(close(mixture.p_alive(2, 5, 6), 1.0));
        assert!(close(mixture.expected_transactions(5, 2, 5, 6), 1.0));
        assert!(close(
            mixture.discounted_expected_residual_transactions(0.1, 2, 5, 6).unwrap(),
            2.0
        ));
    }

    #[test]
    fn the_likelihood_summed_step_by_step_is_eq_5_term_by_term() {
        // Eq. (5) as written: each term's rising factorials and survival on their own, summed
        // with log_add_exp, its gradient weighted by each term's share.
        let direct = |model: &BgBb, x: u32, t_x: u32, n: u32| -> Term {
            let product = |a: Term, b: Term| (a.0 + b.0, std::array::from_fn(|j| a.1[j] + b.1[j]));
            // ln B(γ + 1, δ + m)/B(γ, δ): alive for m opportunities, then dead before m + 1.
            let dead_after = |m: u32| {
                let (ln, g) = model.dropout.ln_churn_at_with_gradient(f64::from(m) + 1.0);
                (ln, [0.0, 0.0, g[0], g[1]])
            };
            let terms: Vec<Term> = std::iter::once(product(model.ln_transactions(x, n), model.ln_alive_after(n)))
                .chain((0..n - t_x).map(|i| product(model.ln_transactions(x, t_x + i), dead_after(t_x + i))))
                .collect();
            let ln = terms.iter().map(|t| t.0).fold(f64::NEG_INFINITY, log_add_exp);
            let mut gradient = [0.0; 4];
            for (l, g) in &terms {
                let w = (l - ln).exp();
                for j in 0..4 {
                    gradient[j] += w * g[j];
                }
            }
            (ln, gradient)
        };
        let beta = BgBb::from(DONATIONS);
        let common = BgBb {
            buying: Buying::Common { p: 0.3 },
            dropout: Retention::Common { theta: 0.05 },
        };
        let split = BgBb {
            dropout: Retention::Split { pi: 0.2 },
            ..beta
        };
        let near_limit = BgBb::from(BgBbParams {
            alpha: 0.3e6,
            beta: 0.7e6,
            gamma: 0.05e6,
            delta: 0.95e6,
        });
        for model in [beta, common, split, near_limit] {
            for (x, t_x, n) in [
                (0, 0, 0),
                (0, 0, 7),
                (3, 5, 6),
                (6, 6, 6),
                (2, 9, 60),
                (40, 300, 365),
                (5, 20, 1200),
            ] {
                let (a, b) = (model.ln_likelihood_with_gradient(x, t_x, n), direct(&model, x, t_x, n));
                assert!(
                    (a.0 - b.0).abs() <= 1e-12 * b.0.abs().max(1.0),
                    "{model:?} ({x},{t_x},{n}): {a:?} vs {b:?}"
                );
                for j in 0..4 {
                    assert!(
                        (a.1[j] - b.1[j]).abs() <= 1e-9 * b.1[j].abs().max(1e-6),
                        "{model:?} ({x},{t_x},{n}) d{j}: {} vs {}",
                        a.1[j],
                        b.1[j]
                    );
                }
            }
        }
    }
}
