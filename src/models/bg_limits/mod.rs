//! The BG family's limiting models: BG/NBD and MBG/NBD when a heterogeneity goes to its limit.
//!
//! In BG/NBD (Fader, Hardie & Lee 2005) the purchase rate λ ~ Gamma(r, α) and the dropout
//! probability p ~ Beta(a, b). When every customer has (nearly) the same dropout probability the
//! likelihood rises towards a, b → ∞ with a/(a+b) = p fixed and has no maximum inside the
//! parameter space; likewise r, α → ∞ with r/α = λ when every customer buys at the same rate.
//! The supremum is then attained by the *limiting model*, in which that quantity is one number:
//! B(a, b+c)/B(a, b) → (1−p)^c, B(a+1, b+c−1)/B(a, b) → p(1−p)^(c−1), and
//! Γ(r+x)/Γ(r) · α^r/(α+τ)^(r+x) → λ^x e^(−λτ). Those limits, term by term in eq. (6), give the
//! likelihoods below; the forecasts follow from the same customer story (see `expected_purchases_if_alive`).
//!
//! The general case (both heterogeneities) is here too, written with stable ln Γ ratios
//! (`special::ln_rising`), so that points next to a limit (a + b = 10⁶) can be compared with it.
//! This file holds the models and their likelihoods; `forecast` what they predict.

mod forecast;

pub use forecast::BgFamilyLimitModel;

use serde::{Deserialize, Serialize};

use super::bg_family::Dropout;
use super::histories::Histories;
use super::purchase_rate::{digamma_difference, PurchaseRate};
use super::Likelihood;
use crate::special::{ln_rising, log_add_exp, logistic};

/// A log-likelihood term with its gradient in (up to) two parameters.
pub(super) type Term = (f64, [f64; 2]);

/// How the dropout probability varies across customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DropoutProbability {
    /// p ~ Beta(a, b).
    Beta { a: f64, b: f64 },
    /// Every customer drops out with probability p at each chance (the limit a, b → ∞, a/(a+b) = p).
    Common { p: f64 },
    /// A share π drop out at the first chance (p = 1) and the rest never (p = 0): the limit
    /// a, b → 0 with a/(a+b) = π, where B(a, b+c)/B(a, b) → 1 − π for c ≥ 1 and
    /// B(a+1, b+c−1)/B(a, b) → π at c = 1 and 0 after.
    Split { pi: f64 },
}

/// A BG-family model in which either heterogeneity may be at its limit. Serialised with the
/// parameters by name: `{"r", "alpha", "p"}`, `{"lambda", "a", "b"}` or `{"lambda", "p"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgFamilyLimit {
    #[serde(flatten)]
    pub rate: PurchaseRate,
    #[serde(flatten)]
    pub dropout: DropoutProbability,
}

/// Which heterogeneity a limiting model has taken to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    HomogeneousDropout,
    HomogeneousRate,
    Homogeneous,
}

impl Limit {
    pub const ALL: [Limit; 3] = [Limit::HomogeneousDropout, Limit::HomogeneousRate, Limit::Homogeneous];

    pub fn parameter_names(self) -> &'static [&'static str] {
        match self {
            Limit::HomogeneousDropout => &["r", "alpha", "p"],
            Limit::HomogeneousRate => &["lambda", "a", "b"],
            Limit::Homogeneous => &["lambda", "p"],
        }
    }

    /// The model from its parameters in `parameter_names` order.
    pub fn model(self, v: &[f64]) -> BgFamilyLimit {
        match self {
            Limit::HomogeneousDropout => BgFamilyLimit {
                rate: PurchaseRate::Gamma { r: v[0], alpha: v[1] },
                dropout: DropoutProbability::Common { p: v[2] },
            },
            Limit::HomogeneousRate => BgFamilyLimit {
                rate: PurchaseRate::Common { lambda: v[0] },
                dropout: DropoutProbability::Beta { a: v[1], b: v[2] },
            },
            Limit::Homogeneous => BgFamilyLimit {
                rate: PurchaseRate::Common { lambda: v[0] },
                dropout: DropoutProbability::Common { p: v[1] },
            },
        }
    }
}

impl BgFamilyLimit {
    /// This model with its common dropout probability p made the split limit's π = p (a share π
    /// drop at the first chance, the rest never); any other dropout unchanged.
    pub fn with_split_dropout(mut self) -> Self {
        if let DropoutProbability::Common { p } = self.dropout {
            self.dropout = DropoutProbability::Split { pi: p };
        }
        self
    }

    /// Which limit this is; `None` for the general model (both heterogeneities).
    pub fn limit(&self) -> Option<Limit> {
        match (self.rate, self.dropout) {
            (PurchaseRate::Gamma { .. }, DropoutProbability::Common { .. } | DropoutProbability::Split { .. }) => {
                Some(Limit::HomogeneousDropout)
            }
            (PurchaseRate::Common { .. }, DropoutProbability::Beta { .. }) => Some(Limit::HomogeneousRate),
            (PurchaseRate::Common { .. }, DropoutProbability::Common { .. } | DropoutProbability::Split { .. }) => {
                Some(Limit::Homogeneous)
            }
            (PurchaseRate::Gamma { .. }, DropoutProbability::Beta { .. }) => None,
        }
    }

    /// The parameters in the order of `Limit::parameter_names` (r, α, a, b for the general model).
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = match self.rate {
            PurchaseRate::Gamma { r, alpha } => vec![r, alpha],
            PurchaseRate::Common { lambda } => vec![lambda],
        };
        match self.dropout {
            DropoutProbability::Beta { a, b } => v.extend([a, b]),
            DropoutProbability::Common { p } | DropoutProbability::Split { pi: p } => v.push(p),
        }
        v
    }

    /// Every parameter finite and positive, and p < 1.
    pub fn is_valid(&self) -> bool {
        let dropout_ok = match self.dropout {
            DropoutProbability::Common { p } | DropoutProbability::Split { pi: p } => p < 1.0,
            DropoutProbability::Beta { .. } => true,
        };
        dropout_ok && self.to_vec().iter().all(|v| v.is_finite() && *v > 0.0)
    }

    /// ln of the purchase part of eq. (6) for a customer observed to τ (τ = T if alive at T, t_x if
    /// she dropped out after her last purchase): ln[Γ(r+x)/Γ(r) α^r (α+τ)^−(r+x)], or x ln λ − λτ
    /// at the limit; with its gradient in the rate's parameters.
    pub(super) fn rate_term(&self, x: f64, tau: f64) -> (f64, [f64; 2]) {
        self.rate.ln_purchases_while_alive_with_gradient(x, tau)
    }

    /// ln of the dropout part of eq. (6) with c dropout chances passed: survived all c,
    /// ln B(a, b+c)/B(a, b) or c ln(1−p); and (when c > 0) survived c − 1 and dropped at the last,
    /// ln B(a+1, b+c−1)/B(a, b) or ln p + (c−1) ln(1−p); each with its gradient.
    pub(super) fn dropout_terms(&self, c: f64) -> (Term, Option<Term>) {
        match self.dropout {
            DropoutProbability::Beta { a, b } => {
                let survived = ln_rising(b, c) - ln_rising(a + b, c);
                let d_ab = -digamma_difference(a + b, c);
                let d_survived = [d_ab, d_ab + digamma_difference(b, c)];
                let dropped = (c > 0.0).then(|| {
                    let ratio = a.ln() - (b + c - 1.0).ln();
                    (
                        survived + ratio,
                        [d_survived[0] + 1.0 / a, d_survived[1] - 1.0 / (b + c - 1.0)],
                    )
                });
                ((survived, d_survived), dropped)
            }
            DropoutProbability::Common { p } => {
                let ln_q = (-p).ln_1p();
                let survived = (c * ln_q, [-c / (1.0 - p), 0.0]);
                let dropped = (c > 0.0).then(|| (p.ln() + (c - 1.0) * ln_q, [1.0 / p - (c - 1.0) / (1.0 - p), 0.0]));
                (survived, dropped)
            }
            // Survived c ≥ 1 chances: p = 0, probability 1 − π; dropped at the first: π; at a
            // later one: 0 (ln 0 with a zero gradient).
            DropoutProbability::Split { pi } => {
                let survived = match c > 0.0 {
                    true => ((-pi).ln_1p(), [-1.0 / (1.0 - pi), 0.0]),
                    false => (0.0, [0.0; 2]),
                };
                let dropped = (c > 0.0).then(|| match c < 2.0 {
                    true => (pi.ln(), [1.0 / pi, 0.0]),
                    false => (f64::NEG_INFINITY, [0.0; 2]),
                });
                (survived, dropped)
            }
        }
    }

    /// One customer's log-likelihood, eq. (6) at this model's limits, with its gradient in the
    /// order of `to_vec` (p, not a transform of it) in the first `to_vec().len()` entries, zeros
    /// after: an array, as this runs once per distinct customer and evaluation.
    pub fn log_likelihood_with_gradient(&self, dropout: Dropout, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        let chances = x + dropout.shift();
        let (alive_rate, d_alive_rate) = self.rate_term(x, t);
        let ((alive_drop, d_alive_drop), dropped) = self.dropout_terms(chances);
        let alive = alive_rate + alive_drop;
        let (ll, w, d_dead_rate, d_dead_drop) = match dropped {
            Some((dead_drop, d_dead_drop)) => {
                let (dead_rate, d_dead_rate) = self.rate_term(x, t_x);
                let dead = dead_rate + dead_drop;
                (
                    log_add_exp(alive, dead),
                    logistic(dead - alive),
                    d_dead_rate,
                    d_dead_drop,
                )
            }
            None => (alive, 0.0, [0.0; 2], [0.0; 2]),
        };
        let mix = |a: f64, d: f64| (1.0 - w) * a + w * d;
        let rate_gradient = [0, 1].map(|i| mix(d_alive_rate[i], d_dead_rate[i]));
        let dropout_gradient = [0, 1].map(|i| mix(d_alive_drop[i], d_dead_drop[i]));
        let rate_parameters = match self.rate {
            PurchaseRate::Gamma { .. } => 2,
            PurchaseRate::Common { .. } => 1,
        };
        let mut gradient = [0.0; 4];
        gradient[..2].copy_from_slice(&rate_gradient);
        // The dropout's entries follow the rate's (a common rate's second entry is 0, overwritten).
        gradient[rate_parameters..rate_parameters + 2].copy_from_slice(&dropout_gradient);
        (ll, gradient)
    }
}

/// A limiting model's likelihood over the BG/NBD fit data. The optimiser works on positive
/// parameters (it fits their logarithms), so p enters as its odds p/(1−p); `to_model` converts.
pub struct LimitData<'a> {
    pub data: &'a Histories,
    pub limit: Limit,
    pub dropout: Dropout,
    /// At a limit with one dropout parameter, the split (a share π drop at the first chance,
    /// the rest never) in place of one p for everyone.
    pub split: bool,
}

impl LimitData<'_> {
    /// The model from the optimiser's vector (odds in place of p or π).
    pub fn to_model(&self, v: &[f64]) -> BgFamilyLimit {
        let mut natural = v.to_vec();
        if let Some(last) = natural.last_mut() {
            if self.has_common_p() {
                *last = probability_of_odds(*last).0;
            }
        }
        self.natural_model(&natural)
    }

    /// The model from its parameters in `parameter_names` order (p or π itself).
    pub fn natural_model(&self, v: &[f64]) -> BgFamilyLimit {
        let model = self.limit.model(v);
        match self.split {
            true => model.with_split_dropout(),
            false => model,
        }
    }

    fn has_common_p(&self) -> bool {
        matches!(self.limit, Limit::HomogeneousDropout | Limit::Homogeneous)
    }

    /// d p / d odds at the optimiser's vector, for the last parameter (1 when it is not p).
    pub fn p_per_odds(&self, v: &[f64]) -> f64 {
        match (self.has_common_p(), v.last()) {
            (true, Some(&o)) => probability_of_odds(o).1,
            _ => 1.0,
        }
    }
}

impl Likelihood for LimitData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        match (self.split, self.limit) {
            (true, Limit::HomogeneousDropout) => &["r", "alpha", "pi"],
            (true, Limit::Homogeneous) => &["lambda", "pi"],
            _ => self.limit.parameter_names(),
        }
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let model = self.to_model(params);
        if !model.is_valid() {
            return (f64::NEG_INFINITY, vec![f64::NAN; params.len()]);
        }
        let dropout = self.dropout;
        let (ll, mut gradient) = self
            .data
            .weighted_sum(|x, tx, t| model.log_likelihood_with_gradient(dropout, x, tx, t));
        gradient.truncate(params.len());
        let chain = self.p_per_odds(params);
        if let Some(last) = gradient.last_mut() {
            *last *= chain;
        }
        (ll, gradient)
    }

    fn n_customers(&self) -> f64 {
        self.data.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        let (mean_frequency, mean_t) = self.data.means();
        let t = mean_t.max(1e-3);
        let rate = (mean_frequency / t).max(1e-3 / t);
        // Dropout odds: p = 0.1, 0.3, 0.02; at the split limit, π half the share who never came
        // back (those who dropped at once are among them).
        let odds = match self.split {
            false => [1.0 / 9.0, 3.0 / 7.0, 0.02 / 0.98],
            true => split_start_odds(self.data),
        };
        match self.limit {
            Limit::HomogeneousDropout => vec![
                vec![1.0, 1.0 / rate, odds[0]],
                vec![0.5, 0.5 / rate, odds[1]],
                vec![2.0, 2.0 / rate, odds[2]],
            ],
            Limit::HomogeneousRate => vec![
                vec![rate, 1.0, 2.0],
                vec![2.0 * rate, 0.5, 2.0],
                vec![0.5 * rate, 2.0, 5.0],
            ],
            Limit::Homogeneous => vec![
                vec![rate, odds[0]],
                vec![2.0 * rate, odds[1]],
                vec![0.5 * rate, odds[2]],
            ],
        }
    }
}

/// A probability fitted as its odds o (the optimiser works on positive parameters): p = o/(1+o),
/// and dp/do = 1/(1+o)², the chain rule's factor for its gradient and covariance.
pub(crate) fn probability_of_odds(odds: f64) -> (f64, f64) {
    (odds / (1.0 + odds), 1.0 / ((1.0 + odds) * (1.0 + odds)))
}

/// Three starts for a split limit's π (a share leave at once, the rest never), as odds: half
/// the share who never came back (those who left at once are among them), a quarter, and 1%.
pub(crate) fn split_start_odds(data: &Histories) -> [f64; 3] {
    let never_back = data.weighted_sum(|x, _, _| (f64::from(x == 0.0), [0.0; 0])).0;
    let pi = (0.5 * never_back / data.n_customers().max(1.0)).clamp(0.01, 0.9);
    [pi / (1.0 - pi), 0.5 * pi / (1.0 - 0.5 * pi), 0.01 / 0.99]
}

/// Σ over customers of the log-likelihood of any BG-family model (limiting or general).
pub fn total_log_likelihood(data: &Histories, model: &BgFamilyLimit, dropout: Dropout) -> f64 {
    data.weighted_sum(|x, tx, t| (model.log_likelihood_with_gradient(dropout, x, tx, t).0, [0.0; 0]))
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::bg_family::family_log_likelihood;
    use crate::models::bg_nbd::BgNbdParams;
    use crate::test_support::*;

    pub(super) const AFTER: Dropout = Dropout::AfterRepeatPurchases;
    pub(super) const ALSO: Dropout = Dropout::AlsoAtFirstPurchase;

    /// The CDNOW maximum-likelihood estimate (shared/REFERENCE.md).
    const MLE: BgNbdParams = BgNbdParams {
        r: 0.2425929,
        alpha: 4.4135323,
        a: 0.7928861,
        b: 2.4257535,
    };

    fn general(p: BgNbdParams) -> BgFamilyLimit {
        BgFamilyLimit {
            rate: PurchaseRate::Gamma { r: p.r, alpha: p.alpha },
            dropout: DropoutProbability::Beta { a: p.a, b: p.b },
        }
    }

    const CUSTOMERS: [(f64, f64, f64); 5] = [
        (0.0, 0.0, 38.86),
        (1.0, 0.5, 10.0),
        (2.0, 30.43, 38.86),
        (26.0, 35.86, 38.86),
        (200.0, 38.0, 40.0),
    ];

    #[test]
    fn the_general_case_is_eq_6_for_both_dropout_rules() {
        for dropout in [AFTER, ALSO] {
            for (x, tx, t) in CUSTOMERS {
                let (ll, g) = general(MLE).log_likelihood_with_gradient(dropout, x, tx, t);
                let (expected, expected_g) = family_log_likelihood(&MLE, dropout, x, tx, t);
                assert_close(ll, expected, 1e-13);
                for (ours, theirs) in g.iter().zip(expected_g) {
                    assert!(
                        (ours - theirs).abs() <= 1e-10 * (1.0 + theirs.abs()),
                        "{ours} vs {theirs}"
                    );
                }
            }
        }
    }

    #[test]
    fn limiting_gradients_match_central_differences() {
        for limit in Limit::ALL {
            let v: &[f64] = match limit {
                Limit::HomogeneousDropout => &[0.3, 5.0, 0.15],
                Limit::HomogeneousRate => &[0.06, 0.8, 2.4],
                Limit::Homogeneous => &[0.06, 0.15],
            };
            for dropout in [AFTER, ALSO] {
                for (x, tx, t) in CUSTOMERS {
                    for form in [|m| m, BgFamilyLimit::with_split_dropout] {
                        let model = |p: &[f64]| form(limit.model(p));
                        let (_, g) = model(v).log_likelihood_with_gradient(dropout, x, tx, t);
                        let ll = |p: &[f64]| model(p).log_likelihood_with_gradient(dropout, x, tx, t).0;
                        assert_gradient_matches(ll, v, &g[..v.len()]);
                        assert!(g[v.len()..].iter().all(|&gi| gi == 0.0), "{g:?}");
                    }
                }
            }
        }
    }

    /// The general model at distance h from a limit: 1/(a+b+1) = h and/or 1/r = h; next to the
    /// split limit a + b = `h_split`.
    fn near(limit: BgFamilyLimit, h: f64, h_split: f64) -> BgFamilyLimit {
        let rate = match limit.rate {
            PurchaseRate::Common { lambda } => PurchaseRate::Gamma {
                r: 1.0 / h,
                alpha: 1.0 / (h * lambda),
            },
            gamma => gamma,
        };
        let dropout = match limit.dropout {
            DropoutProbability::Common { p } => DropoutProbability::Beta {
                a: p * (1.0 / h - 1.0),
                b: (1.0 - p) * (1.0 / h - 1.0),
            },
            // The split limit is at a + b → 0: a + b = h.
            DropoutProbability::Split { pi } => DropoutProbability::Beta {
                a: pi * h_split,
                b: (1.0 - pi) * h_split,
            },
            beta => beta,
        };
        BgFamilyLimit { rate, dropout }
    }

    pub(super) fn limits() -> [BgFamilyLimit; 5] {
        [
            Limit::HomogeneousDropout.model(&[0.3, 5.0, 0.15]),
            Limit::HomogeneousRate.model(&[0.06, 0.8, 2.4]),
            Limit::Homogeneous.model(&[0.06, 0.15]),
            Limit::HomogeneousDropout.model(&[0.3, 5.0, 0.15]).with_split_dropout(),
            Limit::Homogeneous.model(&[0.06, 0.15]).with_split_dropout(),
        ]
    }

    /// f at the general model 1e-5 and 1e-6 from the limit, and at the limit: the distance to the
    /// limit's value must shrink tenfold (first order in h), down to rounding.
    /// Next to the split limit the dropout's distances are a + b = 1e-2 and 1e-3 (at 1e-6 the
    /// general model's ln Γ ratios of a ~ 1e-7 carry rounding of 1e-11 relative).
    fn approaches(what: &str, f: impl Fn(&BgFamilyLimit) -> f64, limit: BgFamilyLimit) {
        let at = f(&limit);
        let far = (f(&near(limit, 1e-5, 1e-2)) - at).abs();
        let close = (f(&near(limit, 1e-6, 1e-3)) - at).abs();
        assert!(
            close <= 0.15 * far + 1e-11 * at.abs().max(1e-300),
            "{what}: {far:e} at h = 1e-5, {close:e} at h = 1e-6 (limit {at})"
        );
    }

    #[test]
    fn every_prediction_next_to_a_limit_approaches_the_limit() {
        for limit in limits() {
            for dropout in [AFTER, ALSO] {
                for (x, tx, t) in CUSTOMERS {
                    let what = |name: &str| format!("{name} {limit:?} {dropout:?} ({x}, {tx}, {t})");
                    approaches(
                        &what("log-likelihood"),
                        |m| m.log_likelihood_with_gradient(dropout, x, tx, t).0,
                        limit,
                    );
                    approaches(&what("P(alive)"), |m| m.p_alive(dropout, x, tx, t), limit);
                    for horizon in [1.0, 52.0, 520.0] {
                        approaches(
                            &what("E[Y]"),
                            |m| m.conditional_expected_purchases(dropout, horizon, x, tx, t).unwrap(),
                            limit,
                        );
                        approaches(
                            &what("P(Y = 0)"),
                            |m| m.probability_of_no_purchase(dropout, horizon, x, tx, t),
                            limit,
                        );
                    }
                }
                approaches("E[X]", |m| m.expected_purchases(dropout, 52.0).unwrap(), limit);
                for n in [0, 1, 5] {
                    approaches("P(X = n)", |m| m.probability_of_purchases(dropout, 52.0, n), limit);
                }
            }
        }
    }

    #[test]
    fn the_split_limit_with_one_rate_is_a_mixture_of_leaving_at_once_and_never() {
        // λ = 0.06, π = 0.15. MBG/NBD (a chance to drop at the first purchase): a share π never
        // buy again, the rest buy as a Poisson process forever. L(0, 0, T) = π + (1 − π) e^(−λT),
        // L(x ≥ 1, t_x, T) = (1 − π) λ^x e^(−λT); P(alive | 0, 0, T) = (1 − π) e^(−λT)/L; an alive
        // customer expects λt; a new one (1 − π) λt.
        let (lambda, pi) = (0.06, 0.15);
        let model = Limit::Homogeneous.model(&[lambda, pi]).with_split_dropout();
        let t = 40.0;
        let none = pi + (1.0 - pi) * (-lambda * t).exp();
        assert_close(
            model.log_likelihood_with_gradient(ALSO, 0.0, 0.0, t).0,
            none.ln(),
            1e-14,
        );
        let three = (1.0 - pi) * lambda.powi(3) * (-lambda * t).exp();
        assert_close(
            model.log_likelihood_with_gradient(ALSO, 3.0, 20.0, t).0,
            three.ln(),
            1e-14,
        );
        assert_close(
            model.p_alive(ALSO, 0.0, 0.0, t),
            (1.0 - pi) * (-lambda * t).exp() / none,
            1e-14,
        );
        assert_eq!(model.p_alive(ALSO, 3.0, 20.0, t), 1.0);
        assert_close(
            model.expected_purchases_if_alive(ALSO, 52.0, 3.0, t).unwrap(),
            lambda * 52.0,
            1e-14,
        );
        assert_close(
            model.expected_purchases(ALSO, 52.0).unwrap(),
            (1.0 - pi) * lambda * 52.0,
            1e-14,
        );
        // BG/NBD (chances only after repeat purchases): before the first repeat purchase nobody
        // has dropped, so L(0, 0, T) = e^(−λT) and P(alive) = 1; she then makes one more purchase
        // at most with probability π: E[Y(t) | alive, x = 0] = π (1 − e^(−λt)) + (1 − π) λt. After
        // one, L(1, t_x, T) = λ [(1 − π) e^(−λT) + π e^(−λ t_x)].
        assert_close(
            model.log_likelihood_with_gradient(AFTER, 0.0, 0.0, t).0,
            -lambda * t,
            1e-14,
        );
        assert_eq!(model.p_alive(AFTER, 0.0, 0.0, t), 1.0);
        let expected = pi * -(-lambda * 52.0f64).exp_m1() + (1.0 - pi) * lambda * 52.0;
        assert_close(model.expected_purchases(AFTER, 52.0).unwrap(), expected, 1e-14);
        let one = lambda * ((1.0 - pi) * (-lambda * t).exp() + pi * (-lambda * 20.0f64).exp());
        assert_close(
            model.log_likelihood_with_gradient(AFTER, 1.0, 20.0, t).0,
            one.ln(),
            1e-14,
        );
    }
}
