//! Pareto/NBD purchase model: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers:
//! Who Are They and What Will They Do Next?", Management Science 33(1), with the likelihood and
//! expressions of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related
//! Expressions" (§3 likelihood, §4 mean, §5 P(alive), §6 conditional expectation).
//!
//! While alive a customer buys at Poisson rate λ ~ Gamma(r, α); her lifetime is exponential with
//! rate μ ~ Gamma(s, β), λ and μ independent. Data per customer: x repeat purchases, the last at
//! t_x, observed over (0, T].

use serde::{Deserialize, Serialize};

use super::histories::Histories;
use super::pareto_limits::ParetoFamilyLimit;
use super::purchase_rate::digamma_difference;
use super::Likelihood;
use crate::special::{
    integrate, ln_gamma, ln_hyp2f1_c_is_a_plus_1_near_one, ln_hyp2f1_c_is_a_plus_1_with_gradient, log_add_exp, logistic,
};

/// Pareto/NBD parameters (r, α, s, β), α and β in the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

/// Relative accuracy asked of the quadratures behind P(X(t) = n) and P(Y(t) = 0).
const QUADRATURE_TOLERANCE: f64 = 1e-12;

impl ParetoNbdParams {
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.s, self.beta]
    }

    /// From a vector ordered as `ParetoNbdData::parameter_names`.
    pub fn from_slice(p: &[f64]) -> Self {
        Self {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        }
    }

    /// ln[2F1(r+s+x, b; r+s+x+1; |α−β|/(m+τ)) / (m+τ)^(r+s+x)], m = max(α, β), with b = s+1 when
    /// α ≥ β and b = r+x otherwise: the function whose difference at t_x and T is the note's A₀ (§3).
    fn ln_a0_part(&self, x: f64, tau: f64) -> Option<f64> {
        let Self { r, alpha, s, beta } = *self;
        let (m, b) = if alpha >= beta { (alpha, s + 1.0) } else { (beta, r + x) };
        let a = r + s + x;
        // 1 − z = (min(α, β) + τ)/(m + τ), formed without cancelling when z is near 1.
        let z = (alpha - beta).abs() / (m + tau);
        let one_minus_z = (alpha.min(beta) + tau) / (m + tau);
        Some(ln_hyp2f1_c_is_a_plus_1_near_one(a, b, z, one_minus_z)? - a * (m + tau).ln())
    }

    /// The two log-terms of the likelihood after the common factor Γ(r+x)α^r β^s / Γ(r) (§3):
    /// "alive at T", −(r+x) ln(α+T) − s ln(β+T), and "died in (t_x, T]", ln(s/(r+s+x)) + ln A₀,
    /// with A₀ = F(t_x) − F(T) taken in log space as ln F(t_x) + ln(1 − e^(ln F(T) − ln F(t_x))).
    fn log_terms(&self, x: f64, t_x: f64, t: f64) -> Option<(f64, f64)> {
        let Self { r, alpha, s, beta } = *self;
        let alive = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
        if t_x >= t {
            return Some((alive, f64::NEG_INFINITY));
        }
        let at_tx = self.ln_a0_part(x, t_x)?;
        let at_t = self.ln_a0_part(x, t)?;
        let gap = at_t - at_tx;
        let ln_a0 = if gap < 0.0 {
            at_tx + (-gap.exp_m1()).ln()
        } else {
            f64::NEG_INFINITY
        };
        Some((alive, s.ln() - (r + s + x).ln() + ln_a0))
    }

    /// Whether the likelihood is better taken in the note's integral form before the integral is
    /// taken (`ParetoFamilyLimit::log_likelihood_by_quadrature`, with an analytic gradient) than
    /// as the 2F1: when its series would need more than a few hundred terms, about 37/(1−z) with
    /// 1 − z = (min(α, β) + t_x)/(max(α, β) + t_x), largest at t_x = 0, as when α and β drift
    /// apart on the way to a limit; and when r or s is large, where the closed form's
    /// ln Γ(r+x) − ln Γ(r) and r ln α − (r+x) ln(α+T) cancel and the integral form's stable ln Γ
    /// ratios do not. Decided for the parameters, not per customer: a likelihood summed from both
    /// forms would carry the finite-difference gradient's bias (~1e-8 per customer) on some
    /// customers and not others, and a search stalls on it.
    fn integral_form_is_better(&self) -> bool {
        self.integral_form_is_better_at(0.0)
    }

    /// `integral_form_is_better` for one customer, as P(alive) may decide (no search needs the
    /// customers' values to come from one form): the series' length at t_x, about
    /// 37 (max(α, β) + t_x)/(min(α, β) + t_x) terms, falls as t_x grows. At t_x = 0 it is the
    /// likelihood's rule.
    fn integral_form_is_better_at(&self, t_x: f64) -> bool {
        let (lo, hi) = (self.alpha.min(self.beta), self.alpha.max(self.beta));
        hi + t_x > LONG_SERIES_RATIO * (lo + t_x) || self.r > LARGE_SHAPE || self.s > LARGE_SHAPE
    }

    /// One customer's log-likelihood (§3): ln[Γ(r+x)α^r β^s/Γ(r)] + ln(e^alive + e^died).
    /// NaN when the hypergeometric function cannot be evaluated (never seen for finite input).
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if t_x < t && self.integral_form_is_better() {
            return ParetoFamilyLimit::general(*self).log_likelihood_by_quadrature(x, t_x, t);
        }
        self.closed_form_log_likelihood(x, t_x, t)
    }

    /// The log-likelihood in the note's closed form (the 2F1), whatever the parameters.
    fn closed_form_log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, s, beta } = *self;
        match self.log_terms(x, t_x, t) {
            Some((alive, died)) => {
                ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + log_add_exp(alive, died)
            }
            None => f64::NAN,
        }
    }

    /// `ln_a0_part` with its gradient in (r, α, s, β): with a = r+s+x, m = max(α, β) and
    /// z = |α−β|/(m+τ), ∂/∂a, ∂/∂b and ∂/∂z of ln 2F1 from its series, less a ln(m+τ).
    fn ln_a0_part_with_gradient(&self, x: f64, tau: f64) -> Option<(f64, [f64; 4])> {
        let Self { r, alpha, s, beta } = *self;
        let a = r + s + x;
        let alpha_is_max = alpha >= beta;
        let (hi, lo, b) = if alpha_is_max {
            (alpha, beta, s + 1.0)
        } else {
            (beta, alpha, r + x)
        };
        let (hi_tau, lo_tau) = (hi + tau, lo + tau);
        let z = (hi - lo) / hi_tau;
        let (ln_f, [f_a, f_b, f_z]) = ln_hyp2f1_c_is_a_plus_1_with_gradient(a, b, z, lo_tau / hi_tau)?;
        let ln_hi_tau = hi_tau.ln();
        // ∂z/∂max = (min+τ)/(max+τ)², ∂z/∂min = −1/(max+τ).
        let d_hi = f_z * lo_tau / (hi_tau * hi_tau) - a / hi_tau;
        let d_lo = -f_z / hi_tau;
        // b is s+1 (α ≥ β) or r+x (α < β).
        let (d_r, d_s) = match alpha_is_max {
            true => (f_a - ln_hi_tau, f_a + f_b - ln_hi_tau),
            false => (f_a + f_b - ln_hi_tau, f_a - ln_hi_tau),
        };
        let (d_alpha, d_beta) = if alpha_is_max { (d_hi, d_lo) } else { (d_lo, d_hi) };
        Some((ln_f - a * ln_hi_tau, [d_r, d_alpha, d_s, d_beta]))
    }

    /// One customer's log-likelihood with its gradient with respect to (r, α, s, β) (§3,
    /// differentiated): ln L = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β + ln(e^alive + e^died), the
    /// last term's gradient the two terms' gradients weighted by their shares of L, and
    /// ∂ ln A₀ = (∂ ln F(t_x) − w ∂ ln F(T)) / (1 − w), w = F(T)/F(t_x).
    pub fn log_likelihood_with_gradient(&self, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        // Where the series is long the integral form gives the gradient analytically, for the
        // cost of one likelihood.
        if t_x < t && self.integral_form_is_better() {
            return ParetoFamilyLimit::general(*self)
                .log_likelihood_with_gradient(x, t_x, t)
                .unwrap_or((f64::NAN, [f64::NAN; 4]));
        }
        self.closed_form_log_likelihood_with_gradient(x, t_x, t)
            .unwrap_or((f64::NAN, [f64::NAN; 4]))
    }

    /// `log_likelihood_with_gradient` in the note's closed form, whatever the parameters.
    fn closed_form_log_likelihood_with_gradient(&self, x: f64, t_x: f64, t: f64) -> Option<(f64, [f64; 4])> {
        let Self { r, alpha, s, beta } = *self;
        let (ln_alpha_t, ln_beta_t) = ((alpha + t).ln(), (beta + t).ln());
        let alive = -(r + x) * ln_alpha_t - s * ln_beta_t;
        let d_alive = [-ln_alpha_t, -(r + x) / (alpha + t), -ln_beta_t, -s / (beta + t)];
        let common = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let d_common = [digamma_difference(r, x) + alpha.ln(), r / alpha, beta.ln(), s / beta];
        // No interval (t_x, T] in which to have died unseen, or A₀ = 0: "alive at T" alone.
        let alive_only = || Some((common + alive, std::array::from_fn(|i| d_common[i] + d_alive[i])));
        if t_x >= t {
            return alive_only();
        }
        let (at_tx, d_at_tx) = self.ln_a0_part_with_gradient(x, t_x)?;
        let (at_t, d_at_t) = self.ln_a0_part_with_gradient(x, t)?;
        let gap = at_t - at_tx;
        if gap >= 0.0 {
            // A₀ = 0: not seen for finite input.
            return alive_only();
        }
        let one_minus_w = -gap.exp_m1();
        let w = 1.0 - one_minus_w;
        let died = s.ln() - (r + s + x).ln() + at_tx + one_minus_w.ln();
        let inv_a = 1.0 / (r + s + x);
        let share_alive = logistic(alive - died);
        let gradient = std::array::from_fn(|i| {
            let d_ln_a0 = (d_at_tx[i] - w * d_at_t[i]) / one_minus_w;
            let d_died = d_ln_a0
                + match i {
                    0 => -inv_a,
                    2 => 1.0 / s - inv_a,
                    _ => 0.0,
                };
            d_common[i] + share_alive * d_alive[i] + (1.0 - share_alive) * d_died
        });
        Some((common + log_add_exp(alive, died), gradient))
    }

    /// P(alive | x, t_x, T) (§5): the "alive at T" share of the likelihood, 1 / (1 + e^(died − alive)).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        if t_x < t && self.integral_form_is_better_at(t_x) {
            return ParetoFamilyLimit::general(*self).p_alive_by_quadrature(x, t_x, t);
        }
        let (alive, died) = self.log_terms(x, t_x, t)?;
        Some(logistic(alive - died))
    }

    /// E[Y(t) | x, t_x, T], expected purchases in (T, T+t] (§6):
    /// (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive),
    /// with the bracket over (s−1) written as −expm1(−(s−1)L)/(s−1), L = ln((β+T+t)/(β+T)),
    /// which is L itself at s = 1.
    pub fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        Some(self.expected_purchases_if_alive(horizon, x, t) * self.p_alive(x, t_x, t)?)
    }

    /// E[Y(t) | x, T, alive at T]: the above without its P(alive) factor; it does not depend on t_x.
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let Self { r, alpha, s, beta } = *self;
        let bracket = expm1_ratio(s - 1.0, (horizon / (beta + t)).ln_1p());
        (r + x) * (beta + t) / (alpha + t) * bracket
    }

    /// E[X(t)], expected purchases of a new customer in (0, t] (§4):
    /// rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)], with the same s → 1 limit as above.
    pub fn expected_purchases(&self, horizon: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let Self { r, alpha, s, beta } = *self;
        r * beta / alpha * expm1_ratio(s - 1.0, (horizon / beta).ln_1p())
    }

    /// P(X(t) = n) for a new customer, from the lifetime ω ~ Pareto(s, β) (Fader & Hardie 2006,
    /// "Deriving an Expression for P(X(t) = x) Under the Pareto/NBD Model", §3 before the
    /// integral is taken in closed form):
    /// (β/(β+t))^s NB(n; t) + ∫₀ᵗ sβ^s/(β+τ)^(s+1) NB(n; τ) dτ, NB(n; τ) the NBD probability
    /// Γ(r+n)/(Γ(r) n!) (α/(α+τ))^r (τ/(α+τ))^n of n purchases while alive for τ.
    pub fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        let Self { r, alpha, s, beta } = *self;
        let nf = n as f64;
        let ln_coefficient = ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0);
        let nbd = |tau: f64| {
            if tau <= 0.0 {
                return if n == 0 { 1.0 } else { 0.0 };
            }
            let ln_tail = if n == 0 { 0.0 } else { nf * (tau / (alpha + tau)).ln() };
            (ln_coefficient + r * (alpha / (alpha + tau)).ln() + ln_tail).exp()
        };
        let survival = |tau: f64| (s * (beta / (beta + tau)).ln()).exp();
        purchases_over_a_lifetime(horizon, nbd, survival, |tau| s / (beta + tau) * survival(tau))
    }

    /// P(Y(t) = 0 | x, t_x, T): no purchase in (T, T+t]. Dead customers buy nothing; an alive one,
    /// with λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T) a posteriori (§5), buys nothing if she
    /// outlives the period without a purchase or dies at τ before her next purchase:
    /// 1 − P(alive) + P(alive)·[A(t)B(t) + ∫₀ᵗ s/(β+T+τ) B(τ)A(τ) dτ],
    /// A(τ) = ((α+T)/(α+T+τ))^(r+x), B(τ) = ((β+T)/(β+T+τ))^s.
    pub fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        if self.r > LARGE_SHAPE || self.s > LARGE_SHAPE {
            // The integrand can fall off within 1/(s+r+x) of 0: the form that looks for its mass.
            return ParetoFamilyLimit::general(*self).probability_of_no_purchase(horizon, x, t_x, t);
        }
        let Self { r, alpha, s, beta } = *self;
        let p_alive = self.p_alive(x, t_x, t)?;
        let survival = |tau: f64| {
            ((r + x) * ((alpha + t) / (alpha + t + tau)).ln() + s * ((beta + t) / (beta + t + tau)).ln()).exp()
        };
        let died_first = if horizon > 0.0 {
            integrate(
                |tau| s / (beta + t + tau) * survival(tau),
                0.0,
                horizon,
                QUADRATURE_TOLERANCE,
            )?
        } else {
            0.0
        };
        Some(1.0 - p_alive + p_alive * (survival(horizon.max(0.0)) + died_first))
    }
}

/// P(X(t) = n) for a new customer who makes n purchases in τ alive with probability
/// `purchases_while_alive(τ)` and whose lifetime has survival function `survival` and density
/// `death_density`: S(t) P(N(t) = n) + ∫₀ᵗ f(τ) P(N(τ) = n) dτ (Fader & Hardie 2006, "Deriving an
/// Expression for P(X(t) = x) Under the Pareto/NBD Model", §3). Pareto/NBD and its limits differ
/// only in these three functions.
pub(crate) fn purchases_over_a_lifetime(
    horizon: f64,
    purchases_while_alive: impl Fn(f64) -> f64,
    survival: impl Fn(f64) -> f64,
    death_density: impl Fn(f64) -> f64,
) -> Option<f64> {
    let survived = survival(horizon) * purchases_while_alive(horizon);
    if horizon <= 0.0 {
        return Some(survived);
    }
    let died = integrate(
        |tau| death_density(tau) * purchases_while_alive(tau),
        0.0,
        horizon,
        QUADRATURE_TOLERANCE,
    )?;
    Some(survived + died)
}

/// [1 − e^(−εL)] / ε, and its limit L at ε = 0.
pub(crate) fn expm1_ratio(eps: f64, l: f64) -> f64 {
    if eps == 0.0 {
        l
    } else {
        -(-eps * l).exp_m1() / eps
    }
}

/// max(α, β)/min(α, β) beyond which the likelihood is integrated rather than summed as a 2F1
/// series of up to about 37·ratio terms: past ~700 terms, 60 points of quadrature cost less.
const LONG_SERIES_RATIO: f64 = 20.0;

/// r or s beyond which the likelihood is taken in its integral form (`integral_form_is_better`).
const LARGE_SHAPE: f64 = 1e2;

/// Largest r and s a Pareto/NBD fit explores (1/r, 1/s below 1e-3: a heterogeneity all but at its
/// limit, which the limiting model then describes).
pub const MAX_SHAPE: f64 = 1e3;

/// Pareto/NBD data for fitting: the same distinct (x, t_x, T) rows as BG/NBD.
#[derive(Debug, Clone)]
pub struct ParetoNbdData(pub Histories);

impl ParetoNbdData {
    /// The total log-likelihood and gradient in (r, α, s, β), −∞ where r or s exceeds `max_shape`.
    pub(crate) fn log_likelihood_with_shapes_up_to(&self, params: &[f64], max_shape: f64) -> (f64, Vec<f64>) {
        let model = ParetoNbdParams::from_slice(params);
        if model.r > max_shape || model.s > max_shape {
            return (f64::NEG_INFINITY, vec![f64::NAN; 4]);
        }
        self.0
            .weighted_sum(|x, tx, t| model.log_likelihood_with_gradient(x, tx, t))
    }
}

impl Likelihood for ParetoNbdData {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["r", "alpha", "s", "beta"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        // Beyond these shapes a heterogeneity has all but vanished and the likelihood is all but
        // flat: a fit heading there is stopped at the edge (the line search backs off from −∞)
        // instead of crawling on, and the limits are fitted (`boundary::fit_pareto`).
        self.log_likelihood_with_shapes_up_to(params, MAX_SHAPE)
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers()
    }

    fn warm_start_sample(&self) -> Option<Self> {
        self.0.warm_start_sample().map(ParetoNbdData)
    }

    fn penalty_centres(&self) -> Vec<f64> {
        // α and β are in the data's time unit: centred on the mean observation window.
        let t = self.0.means().1.max(f64::MIN_POSITIVE);
        vec![1.0, t, 1.0, t]
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // Purchase rate r/α ≈ repeat purchases per unit of time; mean lifetime β/(s−1) ~ the span observed.
        let (mean_frequency, mean_t) = self.0.means();
        let t = mean_t.max(1e-3);
        let rate = (mean_frequency / t).max(1e-3 / t);
        vec![
            vec![1.0, 1.0 / rate, 1.0, t],
            vec![0.5, 0.5 / rate, 0.5, 0.5 * t],
            vec![2.0, 2.0 / rate, 2.0, 4.0 * t],
            vec![0.1, 0.1 / rate, 0.2, 0.1 * t],
        ]
    }
}

impl super::PurchaseModel for ParetoNbdParams {
    fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        ParetoNbdParams::p_alive(self, x, t_x, t)
    }
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        ParetoNbdParams::conditional_expected_purchases(self, horizon, x, t_x, t)
    }
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        Some(ParetoNbdParams::expected_purchases_if_alive(self, horizon, x, t))
    }
    fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        Some(ParetoNbdParams::expected_purchases(self, horizon))
    }
    fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        ParetoNbdParams::probability_of_purchases(self, horizon, n)
    }
    fn probability_of_no_purchase(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        ParetoNbdParams::probability_of_no_purchase(self, horizon, x, t_x, t)
    }
    /// Alive at T, λ ~ Gamma(r+x, α+T) and, the lifetime being memoryless, μ ~ Gamma(s, β+T):
    /// from T on a new Pareto/NBD customer at (r+x, α+T, s, β+T) (Fader & Hardie 2006's P(X(t) =
    /// n)).
    fn probability_of_purchases_if_alive(&self, horizon: f64, k: u64, x: f64, t: f64) -> Option<f64> {
        let posterior = ParetoNbdParams {
            r: self.r + x,
            alpha: self.alpha + t,
            s: self.s,
            beta: self.beta + t,
        };
        posterior.probability_of_purchases(horizon, k)
    }
}

#[cfg(test)]
mod tests;
