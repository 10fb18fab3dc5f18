//! The BG/BB likelihood as a fit sees it: over the distinct discrete histories, in the
//! parameters of the full model or of one of its limits (`BgBbForm`), common probabilities as
//! their odds. Equation numbers are Fader, Hardie & Shang (2010)'s.

use super::{BgBb, Buying, Factors, Term};
use crate::models::histories::DiscreteHistories;
use crate::models::sbg::Retention;
use crate::models::Likelihood;

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
