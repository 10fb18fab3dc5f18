//! Pareto/NBD's limiting models: Pareto/NBD when a heterogeneity goes to its limit.
//!
//! In Pareto/NBD (Schmittlein, Morrison & Colombo 1987) the purchase rate λ ~ Gamma(r, α) and the
//! dropout rate μ ~ Gamma(s, β). When every customer has (nearly) the same dropout rate the
//! likelihood rises towards s, β → ∞ with s/β = μ, where the lifetime becomes exponential with
//! that one rate; when every customer buys at the same rate, towards r, α → ∞ with r/α = λ, where
//! purchases become Poisson with that one rate. When nobody seems to leave but some never come
//! back, towards s, β → 0 with s·ln β → ln(1 − π): the dropout rate is then 0 with probability
//! 1 − π and infinite with probability π, so a share π leave at once, with their first
//! purchase, and the rest never. The supremum is then attained by the limiting model.
//!
//! Every member of the family has the likelihood of Fader & Hardie's note (§3) before the
//! integrals are taken: with R(τ) = E_λ[λ^x e^(−λτ)] the purchase part for a customer alive for τ
//! and S, f the lifetime's survival function and density,
//! L(x, t_x, T) = R(T) S(T) + ∫_{t_x}^T f(τ) R(τ) dτ,
//! "alive at T" plus "died in (t_x, T]". The note's closed form (a 2F1) holds only for both
//! heterogeneities; at a limit the integral is taken by quadrature, or in closed form when both
//! are at their limits. The forecasts follow from the same two pieces: an alive customer buys at
//! her posterior rate for as long as she lives after T.

mod forecast;

use serde::{Deserialize, Serialize};

use super::bg_limits::{probability_of_odds, split_start_odds, Limit};
use super::histories::Histories;
use super::lifetime::Lifetime;
use super::pareto_nbd::{ParetoNbdParams, MAX_SHAPE};
use super::purchase_rate::PurchaseRate;
use super::Likelihood;
use crate::special::{integrate_decreasing_with, log_add_exp, logistic};

/// Relative accuracy of the quadratures over the lifetime.
const QUADRATURE_TOLERANCE: f64 = 1e-12;

/// A Pareto/NBD-family model in which either heterogeneity may be at its limit. Serialised with
/// the parameters by name: `{"r", "alpha", "mu"}`, `{"lambda", "s", "beta"}`, `{"lambda", "mu"}`,
/// `{"r", "alpha", "pi"}` or `{"lambda", "pi"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoFamilyLimit {
    #[serde(flatten)]
    pub rate: PurchaseRate,
    #[serde(flatten)]
    pub lifetime: Lifetime,
}

/// The parameters of each Pareto/NBD limit, in the optimiser's order.
pub fn parameter_names(limit: Limit) -> &'static [&'static str] {
    match limit {
        Limit::HomogeneousDropout => &["r", "alpha", "mu"],
        Limit::HomogeneousRate => &["lambda", "s", "beta"],
        Limit::Homogeneous => &["lambda", "mu"],
    }
}

impl ParetoFamilyLimit {
    /// The model at `limit` from its parameters in `parameter_names` order.
    pub fn at_limit(limit: Limit, v: &[f64]) -> Self {
        let (rate, lifetime) = match limit {
            Limit::HomogeneousDropout => (
                PurchaseRate::Gamma { r: v[0], alpha: v[1] },
                Lifetime::Exponential { mu: v[2] },
            ),
            Limit::HomogeneousRate => (
                PurchaseRate::Common { lambda: v[0] },
                Lifetime::Pareto { s: v[1], beta: v[2] },
            ),
            Limit::Homogeneous => (
                PurchaseRate::Common { lambda: v[0] },
                Lifetime::Exponential { mu: v[1] },
            ),
        };
        Self { rate, lifetime }
    }

    /// The general model (both heterogeneities), for comparisons with its limits.
    pub fn general(p: ParetoNbdParams) -> Self {
        Self {
            rate: PurchaseRate::Gamma { r: p.r, alpha: p.alpha },
            lifetime: Lifetime::Pareto { s: p.s, beta: p.beta },
        }
    }

    /// This model with its common dropout rate μ made the split limit's π = μ (a share π leave
    /// at once, the rest never); any other lifetime unchanged.
    pub fn with_split_lifetime(mut self) -> Self {
        if let Lifetime::Exponential { mu } = self.lifetime {
            self.lifetime = Lifetime::Split { pi: mu };
        }
        self
    }

    /// Which limit this is, the split lifetime counted with the one dropout rate (its lifetime
    /// has one parameter too); `None` for the general model.
    pub fn limit(&self) -> Option<Limit> {
        match (self.rate, self.lifetime) {
            (PurchaseRate::Gamma { .. }, Lifetime::Exponential { .. } | Lifetime::Split { .. }) => {
                Some(Limit::HomogeneousDropout)
            }
            (PurchaseRate::Common { .. }, Lifetime::Pareto { .. }) => Some(Limit::HomogeneousRate),
            (PurchaseRate::Common { .. }, Lifetime::Exponential { .. } | Lifetime::Split { .. }) => {
                Some(Limit::Homogeneous)
            }
            (PurchaseRate::Gamma { .. }, Lifetime::Pareto { .. }) => None,
        }
    }

    /// Whether the lifetime is split between leaving at once and never.
    pub fn is_split(&self) -> bool {
        matches!(self.lifetime, Lifetime::Split { .. })
    }

    /// The parameters in `parameter_names` order (r, α, s, β for the general model).
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = match self.rate {
            PurchaseRate::Gamma { r, alpha } => vec![r, alpha],
            PurchaseRate::Common { lambda } => vec![lambda],
        };
        match self.lifetime {
            Lifetime::Pareto { s, beta } => v.extend([s, beta]),
            Lifetime::Exponential { mu } => v.push(mu),
            Lifetime::Split { pi } => v.push(pi),
        }
        v
    }

    /// The general model's parameters, when this is it.
    pub(super) fn as_general(&self) -> Option<ParetoNbdParams> {
        match (self.rate, self.lifetime) {
            (PurchaseRate::Gamma { r, alpha }, Lifetime::Pareto { s, beta }) => {
                Some(ParetoNbdParams { r, alpha, s, beta })
            }
            _ => None,
        }
    }

    /// ∫₀ᵈ f(u) P(no purchase in u) du for a customer alive at `from` with x purchases: the
    /// chance that she dies within d before buying again, f her remaining lifetime's density.
    pub(super) fn dies_before_buying(&self, x: f64, from: f64, d: f64) -> Option<f64> {
        if d <= 0.0 {
            return Some(0.0);
        }
        Some(self.dies_before_buying_with_gradient(x, from, d)?.0)
    }

    /// `dies_before_buying` with its gradient in the parameters, rate's first (r, α or λ, 0), then
    /// the lifetime's (s, β or μ, 0): the integrand differentiated under the integral, on the
    /// same quadrature nodes. (β and β + from move together, as do α and α + from.)
    fn dies_before_buying_with_gradient(&self, x: f64, from: f64, d: f64) -> Option<(f64, [f64; 4])> {
        let remaining = self.lifetime.alive_at(from);
        if let Lifetime::Split { .. } = remaining {
            // Who is there never leaves.
            return Some((0.0, [0.0; 4]));
        }
        if let (PurchaseRate::Common { lambda }, Lifetime::Exponential { mu }) = (self.rate, remaining) {
            // I = μ/k (1 − e^(−kd)), k = λ + μ: d ln I/dλ = −1/k + d/(e^(kd) − 1), d ln I/dμ adds 1/μ.
            let k = lambda + mu;
            let value = mu / k * -(-k * d).exp_m1();
            let shared = -1.0 / k + d / (k * d).exp_m1();
            return Some((value, [value * shared, 0.0, value * (1.0 / mu + shared), 0.0]));
        }
        let rate = self.rate;
        // With a Pareto lifetime the integral is taken in y = ln(1 + u/β), where the density
        // s/(β+u) (1+u/β)^(−s) du is s e^(−sy) dy: as s, β → 0 (nobody leaves but a share at
        // once: β = 1.3e-21) its mass is spread evenly over the 22 decades of u up to a year,
        // each a piece of the quadrature in u. `to_u` gives u and du/dy (1 and the identity in u).
        let (span, to_u): (f64, &dyn Fn(f64) -> (f64, f64)) = match remaining {
            Lifetime::Pareto { beta, .. } => ((d / beta).ln_1p(), &move |y: f64| (beta * y.exp_m1(), beta * y.exp())),
            _ => (d, &|u: f64| (u, 1.0)),
        };
        // The integrand falls off from 0 at the rate d ln g/du: (s+1)/(β+from) or μ, plus
        // (r+x)/(α+from) or λ; its mass can lie far inside [0, d]. In y, times du/dy = β at 0.
        let decay = (match remaining {
            Lifetime::Pareto { s, beta } => (s + 1.0) / beta,
            Lifetime::Exponential { mu } => mu,
            Lifetime::Split { .. } => 0.0,
        } + match rate {
            PurchaseRate::Gamma { r, alpha } => (r + x) / (alpha + from),
            PurchaseRate::Common { lambda } => lambda,
        }) * to_u(0.0).1;
        let [value, d_rate_0, d_rate_1, d_life_0, d_life_1] = integrate_decreasing_with(
            |v| {
                let (u, du) = to_u(v);
                let (ln_none, d_rate) = match rate {
                    PurchaseRate::Gamma { r, alpha } => {
                        let a = alpha + from;
                        let l = (u / a).ln_1p();
                        (-(r + x) * l, [-l, (r + x) * u / (a * (a + u))])
                    }
                    PurchaseRate::Common { lambda } => (-lambda * u, [-u, 0.0]),
                };
                // The density as hazard × e^(ln S): one logarithm fewer per node.
                let (hazard, ln_survival, d_life) = match remaining {
                    Lifetime::Pareto { s, beta } => {
                        // ln(1 + u/β) is y itself.
                        let l = v;
                        let d_beta = -1.0 / (beta + u) + s * u / (beta * (beta + u));
                        (s / (beta + u), -s * l, [1.0 / s - l, d_beta])
                    }
                    Lifetime::Exponential { mu } => (mu, -mu * u, [1.0 / mu - u, 0.0]),
                    Lifetime::Split { .. } => (0.0, 0.0, [0.0, 0.0]),
                };
                let g = hazard * du * (ln_none + ln_survival).exp();
                [g, g * d_rate[0], g * d_rate[1], g * d_life[0], g * d_life[1]]
            },
            span,
            1.0 / decay,
            QUADRATURE_TOLERANCE,
        )?;
        Some((value, [d_rate_0, d_rate_1, d_life_0, d_life_1]))
    }

    /// One customer's log-likelihood (module notes) with its gradient in the order of `to_vec`, in
    /// the first `to_vec().len()` entries, zeros after: ln(e^alive + e^died), each term's gradient
    /// in closed form and the integral's differentiated under it. `None` if the quadrature fails.
    pub fn log_likelihood_with_gradient(&self, x: f64, t_x: f64, t: f64) -> Option<(f64, [f64; 4])> {
        let (alive_rate, d_alive_rate) = self.rate.ln_purchases_while_alive_with_gradient(x, t);
        let (alive_life, d_alive_life) = self.lifetime.ln_survival_with_gradient(t);
        let alive = alive_rate + alive_life;
        // [rate 0, rate 1, lifetime 0, lifetime 1]
        let d_alive = [d_alive_rate[0], d_alive_rate[1], d_alive_life[0], d_alive_life[1]];
        let died_before_t = match t_x >= t {
            true => None,
            false => Some(self.dies_before_buying_with_gradient(x, t_x, t - t_x)?),
        };
        let died = match (self.lifetime.ln_leaving_at_once(), died_before_t) {
            // Left with the first purchase, so bought nothing since (R(0) = 1).
            (Some((ln_pi, d_pi)), _) if x == 0.0 => Some((ln_pi, [0.0, 0.0, d_pi, 0.0])),
            // Nobody dies between t_x and T (at the split limit, nobody after time 0).
            (_, None | Some((0.0, _))) => None,
            (_, Some((integral, d_integral))) => {
                let (dead_rate, d_dead_rate) = self.rate.ln_purchases_while_alive_with_gradient(x, t_x);
                let (dead_life, d_dead_life) = self.lifetime.ln_survival_with_gradient(t_x);
                let d_died = [
                    d_dead_rate[0] + d_integral[0] / integral,
                    d_dead_rate[1] + d_integral[1] / integral,
                    d_dead_life[0] + d_integral[2] / integral,
                    d_dead_life[1] + d_integral[3] / integral,
                ];
                Some((dead_rate + dead_life + integral.ln(), d_died))
            }
        };
        let (ll, gradient) = match died {
            None => (alive, d_alive),
            Some((died, d_died)) => {
                let w = logistic(died - alive);
                let mixed = std::array::from_fn(|i| (1.0 - w) * d_alive[i] + w * d_died[i]);
                (log_add_exp(alive, died), mixed)
            }
        };
        // Packed as `to_vec`: a common rate has one parameter, so the lifetime's follow at 1.
        let mut packed = [0.0; 4];
        let rate_parameters = match self.rate {
            PurchaseRate::Gamma { .. } => 2,
            PurchaseRate::Common { .. } => 1,
        };
        packed[..rate_parameters].copy_from_slice(&gradient[..rate_parameters]);
        packed[rate_parameters..rate_parameters + 2].copy_from_slice(&gradient[2..]);
        Some((ll, packed))
    }

    /// The likelihood's two log-terms (module notes): alive at T, ln R(T) + ln S(T); died in
    /// (t_x, T], ln R(t_x) + ln S(t_x) + ln ∫₀^(T−t_x) [dies before buying again, from t_x].
    pub(super) fn log_terms(&self, x: f64, t_x: f64, t: f64) -> Option<(f64, f64)> {
        let alive = self.rate.ln_purchases_while_alive(x, t) + self.lifetime.ln_survival(t);
        if let (Some((ln_pi, _)), true) = (self.lifetime.ln_leaving_at_once(), x == 0.0) {
            // Left with the first purchase (R(0) = 1); nobody leaves later.
            return Some((alive, ln_pi));
        }
        if t_x >= t {
            return Some((alive, f64::NEG_INFINITY));
        }
        let at_tx = self.rate.ln_purchases_while_alive(x, t_x) + self.lifetime.ln_survival(t_x);
        Some((alive, at_tx + self.dies_before_buying(x, t_x, t - t_x)?.ln()))
    }

    /// One customer's log-likelihood (note §3 before its integral is taken); NaN if the
    /// quadrature fails. The general model's is the note's closed form.
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        match self.as_general() {
            Some(general) => general.log_likelihood(x, t_x, t),
            None => self.log_likelihood_by_quadrature(x, t_x, t),
        }
    }

    /// The log-likelihood from the integral form, for any member of the family.
    pub(crate) fn log_likelihood_by_quadrature(&self, x: f64, t_x: f64, t: f64) -> f64 {
        match self.log_terms(x, t_x, t) {
            Some((alive, died)) => log_add_exp(alive, died),
            None => f64::NAN,
        }
    }
}

/// A limiting model's likelihood over the BG/NBD fit data, with its analytic gradient. The
/// optimiser works on positive parameters (it fits their logarithms), so the split limit's π
/// enters as its odds π/(1−π); `to_model` converts.
pub struct ParetoLimitData<'a> {
    pub data: &'a Histories,
    pub limit: Limit,
    /// At a limit with one dropout rate, the split lifetime (a share π leave at once, the rest
    /// never) in place of one rate for everyone.
    pub split: bool,
}

impl ParetoLimitData<'_> {
    /// The model from its parameters in `parameter_names` order (π itself).
    pub fn natural_model(&self, v: &[f64]) -> ParetoFamilyLimit {
        let model = ParetoFamilyLimit::at_limit(self.limit, v);
        match self.split {
            true => model.with_split_lifetime(),
            false => model,
        }
    }

    /// The model from the optimiser's vector (odds in place of π).
    pub fn to_model(&self, v: &[f64]) -> ParetoFamilyLimit {
        let mut natural = v.to_vec();
        if let (true, Some(last)) = (self.split, natural.last_mut()) {
            *last = probability_of_odds(*last).0;
        }
        self.natural_model(&natural)
    }

    /// dπ/d odds at the optimiser's vector, for the last parameter (1 when it is not π).
    pub fn pi_per_odds(&self, v: &[f64]) -> f64 {
        match (self.split, v.last()) {
            (true, Some(&o)) => probability_of_odds(o).1,
            _ => 1.0,
        }
    }
}

impl Likelihood for ParetoLimitData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        match (self.split, self.limit) {
            (true, Limit::HomogeneousDropout) => &["r", "alpha", "pi"],
            (true, Limit::Homogeneous) => &["lambda", "pi"],
            _ => parameter_names(self.limit),
        }
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let k = params.len();
        let model = self.to_model(params);
        // A shape left beyond `MAX_SHAPE` is a second limit, which the smaller model describes.
        let shape_too_large = match (model.rate, model.lifetime) {
            (PurchaseRate::Gamma { r, .. }, _) if r > MAX_SHAPE => true,
            (_, Lifetime::Pareto { s, .. }) if s > MAX_SHAPE => true,
            _ => false,
        };
        if shape_too_large || params.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return (f64::NEG_INFINITY, vec![f64::NAN; k]);
        }
        let (ll, mut gradient) = self.data.weighted_sum(|x, tx, t| {
            model
                .log_likelihood_with_gradient(x, tx, t)
                .unwrap_or((f64::NAN, [f64::NAN; 4]))
        });
        gradient.truncate(k);
        let chain = self.pi_per_odds(params);
        if let Some(last) = gradient.last_mut() {
            *last *= chain;
        }
        (ll, gradient)
    }

    fn n_customers(&self) -> f64 {
        self.data.n_customers()
    }

    fn search_gradient_tolerance(&self) -> f64 {
        // The quadrature's log-likelihood is good to ~1e-13 and its gradient to ~1e-11 relative
        // (tested), so mean gradients below ~1e-9 are rounding.
        1e-8
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        let (mean_frequency, mean_t) = self.data.means();
        let t = mean_t.max(1e-3);
        let rate = (mean_frequency / t).max(1e-3 / t);
        // The lifetime's one parameter: μ, or at the split limit the odds of π.
        let life = match self.split {
            false => [1.0 / t, 0.5 / t, 4.0 / t],
            true => split_start_odds(self.data),
        };
        match self.limit {
            Limit::HomogeneousDropout => vec![
                vec![1.0, 1.0 / rate, life[0]],
                vec![0.5, 0.5 / rate, life[1]],
                vec![2.0, 2.0 / rate, life[2]],
            ],
            Limit::HomogeneousRate => vec![
                vec![rate, 1.0, t],
                vec![2.0 * rate, 0.5, 0.5 * t],
                vec![0.5 * rate, 2.0, 4.0 * t],
            ],
            Limit::Homogeneous => vec![
                vec![rate, life[0]],
                vec![2.0 * rate, life[1]],
                vec![0.5 * rate, life[2]],
            ],
        }
    }
}

/// Σ over customers of the log-likelihood of any Pareto/NBD-family model (limiting or general);
/// the likelihood alone, without the finite-difference gradient the fit needs.
pub fn total_log_likelihood(data: &Histories, model: &ParetoFamilyLimit) -> f64 {
    data.weighted_sum(|x, tx, t| (model.log_likelihood(x, tx, t), [0.0; 0]))
        .0
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::test_support::*;

    pub(super) const PAPER: ParetoNbdParams = PARETO_NBD_PAPER;

    pub(super) const DROPOUT: ParetoFamilyLimit = ParetoFamilyLimit {
        rate: PurchaseRate::Gamma { r: 0.55, alpha: 10.6 },
        lifetime: Lifetime::Exponential { mu: 0.05 },
    };
    pub(super) const RATE: ParetoFamilyLimit = ParetoFamilyLimit {
        rate: PurchaseRate::Common { lambda: 0.06 },
        lifetime: Lifetime::Pareto { s: 0.6, beta: 11.7 },
    };
    pub(super) const BOTH: ParetoFamilyLimit = ParetoFamilyLimit {
        rate: PurchaseRate::Common { lambda: 0.06 },
        lifetime: Lifetime::Exponential { mu: 0.05 },
    };
    pub(super) const SPLIT: ParetoFamilyLimit = ParetoFamilyLimit {
        rate: PurchaseRate::Gamma { r: 0.55, alpha: 10.6 },
        lifetime: Lifetime::Split { pi: 0.1 },
    };
    pub(super) const SPLIT_ONE_RATE: ParetoFamilyLimit = ParetoFamilyLimit {
        rate: PurchaseRate::Common { lambda: 0.06 },
        lifetime: Lifetime::Split { pi: 0.1 },
    };
    pub(super) const LIMITS: [ParetoFamilyLimit; 5] = [DROPOUT, RATE, BOTH, SPLIT, SPLIT_ONE_RATE];

    /// A member of the family rebuilt from `to_vec`'s parameters, as `model` is.
    pub(super) fn like(model: &ParetoFamilyLimit, v: &[f64]) -> ParetoFamilyLimit {
        match (model.limit(), model.is_split()) {
            (Some(limit), true) => ParetoFamilyLimit::at_limit(limit, v).with_split_lifetime(),
            (Some(limit), false) => ParetoFamilyLimit::at_limit(limit, v),
            (None, _) => ParetoFamilyLimit::general(ParetoNbdParams::from_slice(v)),
        }
    }

    /// The model next to `limit`, 1/shape = h from it in each direction that leaves it (at the
    /// split limit, s = h and β = (1 − π)^(1/h)).
    pub(super) fn near(limit: &ParetoFamilyLimit, h: f64) -> ParetoFamilyLimit {
        let rate = match limit.rate {
            PurchaseRate::Common { lambda } => PurchaseRate::Gamma {
                r: 1.0 / h,
                alpha: 1.0 / (h * lambda),
            },
            gamma => gamma,
        };
        let lifetime = match limit.lifetime {
            Lifetime::Exponential { mu } => Lifetime::Pareto {
                s: 1.0 / h,
                beta: 1.0 / (h * mu),
            },
            Lifetime::Split { pi } => Lifetime::Pareto {
                s: h,
                beta: (1.0 - pi).powf(1.0 / h),
            },
            pareto => pareto,
        };
        ParetoFamilyLimit { rate, lifetime }
    }

    pub(super) const CUSTOMERS: [(f64, f64, f64); 4] = [
        (0.0, 0.0, 38.86),
        (1.0, 0.5, 10.0),
        (2.0, 30.43, 38.86),
        (26.0, 35.86, 38.86),
    ];

    #[test]
    fn the_integral_form_of_the_likelihood_is_the_notes_closed_form() {
        // The general model by quadrature of ∫ f(τ)R(τ) dτ against the note's 2F1 (§3): two
        // independent evaluations of the same likelihood, and of P(alive).
        let general = ParetoFamilyLimit::general(PAPER);
        for (x, tx, t) in CUSTOMERS.into_iter().chain([(100.0, 70.0, 78.0), (3.0, 1.0, 300.0)]) {
            assert_close(
                general.log_likelihood_by_quadrature(x, tx, t),
                PAPER.log_likelihood(x, tx, t),
                1e-11,
            );
            assert_close(
                general.p_alive_by_quadrature(x, tx, t).unwrap(),
                PAPER.p_alive(x, tx, t).unwrap(),
                1e-11,
            );
        }
    }

    #[test]
    fn a_lifetime_at_the_edge_of_nobody_leaving_is_integrated_over_all_its_decades() {
        // The fit to `log_where_nobody_leaves(2000, 0)`, rounded: one rate λ = 0.1114 and a
        // Pareto lifetime with s = 0.00107, β = 1.32e-21, whose density s/(β+τ)(1+τ/β)^(−s) dτ
        // spreads 5% of the customers' deaths evenly over the 22 decades of τ from β to a year.
        // L = λ^x e^(−λT) (1+T/β)^(−s) + ∫_(t_x)^T f(τ) λ^x e^(−λτ) dτ by mpmath at 40 digits,
        // split at t_x + 10^k β for k = 0..24 (and again in y = ln(1 + τ/β), to the same digits
        // for t_x = 0).
        let model = ParetoFamilyLimit::at_limit(Limit::HomogeneousRate, &[0.1114, 0.00107, 1.32e-21]);
        for (x, tx, t, ln_likelihood, p_alive) in [
            (0.0, 0.0, 38.86, -2.744956658228497, 0.19409539268924542),
            (0.0, 0.0, 5.0, -0.5199647370289616, 0.9137489814428852),
            (3.0, 20.0, 40.0, -11.092177030830001, 0.9969088417639319),
        ] {
            assert_close(model.log_likelihood(x, tx, t), ln_likelihood, 1e-12);
            assert_close(model.p_alive(x, tx, t).unwrap(), p_alive, 1e-12);
        }
    }

    #[test]
    fn without_repeat_purchases_the_likelihood_has_a_closed_form() {
        // x = 0, t_x = 0: ∫₀ᵀ μe^(−μτ)(α+τ)^−r dτ has no elementary form, but with r → 0 it is
        // 1 − e^(−μT) and the likelihood 1: check the limit model at a tiny r against that,
        // and at r = 1 against Σ = e^(−μT) α/(α+T) + ∫₀ᵀ μe^(−μτ) α/(α+τ) dτ computed here
        // by a fine midpoint sum (independent of the adaptive quadrature).
        let at = |r: f64| ParetoFamilyLimit {
            rate: PurchaseRate::Gamma { r, alpha: 10.6 },
            ..DROPOUT
        };
        assert!(at(1e-12).log_likelihood(0.0, 0.0, 30.0).abs() < 1e-10);
        let (alpha, mu, t) = (10.6, 0.05, 30.0);
        let steps = 200_000;
        let h = t / steps as f64;
        let integral: f64 = (0..steps)
            .map(|i| {
                let tau = (i as f64 + 0.5) * h;
                mu * (-mu * tau).exp() * alpha / (alpha + tau)
            })
            .sum::<f64>()
            * h;
        let expected = ((-mu * t).exp() * alpha / (alpha + t) + integral).ln();
        assert_close(at(1.0).log_likelihood(0.0, 0.0, t), expected, 1e-9);
    }

    #[test]
    fn the_gradient_is_the_likelihoods_derivative() {
        // Against central differences of the log-likelihood (relative step 1e-6, error ~1e-9),
        // for every member of the family, the general model included (there by quadrature).
        let general = ParetoFamilyLimit::general(PAPER);
        for model in LIMITS.into_iter().chain([general]) {
            let v = model.to_vec();
            let rebuild = |p: &[f64]| like(&model, p);
            for (x, tx, t) in CUSTOMERS.into_iter().chain([(0.0, 0.0, 0.0), (5.0, 20.0, 20.0)]) {
                let (ll, gradient) = model.log_likelihood_with_gradient(x, tx, t).unwrap();
                let direct = model.log_likelihood_by_quadrature(x, tx, t);
                assert!(
                    (ll - direct).abs() <= 1e-13 * direct.abs().max(1.0),
                    "{ll} against {direct}"
                );
                for i in 0..v.len() {
                    let at = |sign: f64| {
                        let mut p = v.clone();
                        p[i] *= 1.0 + sign * 1e-6;
                        rebuild(&p).log_likelihood_by_quadrature(x, tx, t)
                    };
                    let numeric = (at(1.0) - at(-1.0)) / (2e-6 * v[i]);
                    assert!(
                        (gradient[i] - numeric).abs() <= 1e-6 * numeric.abs().max(1e-3),
                        "{model:?} ({x}, {tx}, {t}) parameter {i}: {} against {numeric}",
                        gradient[i]
                    );
                }
            }
        }
    }

    #[test]
    fn files_of_the_first_limit_still_read() {
        // Model files written before the other limits existed hold {"r", "alpha", "mu"}.
        let read: ParetoFamilyLimit = serde_json::from_str(r#"{"r": 0.55, "alpha": 10.6, "mu": 0.05}"#).unwrap();
        assert_eq!(read, DROPOUT);
        for limit in LIMITS {
            let text = serde_json::to_string(&limit).unwrap();
            assert_eq!(
                serde_json::from_str::<ParetoFamilyLimit>(&text).unwrap(),
                limit,
                "{text}"
            );
        }
    }
}
