//! The shifted-beta-geometric (sBG) retention model: Fader & Hardie (2007), "How to Project
//! Customer Retention" (equation numbers below), and Fader & Hardie (2010), "Customer-Base
//! Valuation in a Contractual Setting: The Perils of Ignoring Heterogeneity" (DEL and DERL).
//!
//! A subscriber renews at the end of each period with her own probability 1 − θ, constant over
//! her lifetime; θ ~ Beta(γ, δ) across subscribers (the 2007 paper's α, β). The lifetime T is the
//! number of periods paid for. Because the subscribers most likely to churn leave first, the
//! cohort's retention rate rises with tenure even though nobody's own rate changes.
//!
//! At the limit γ, δ → ∞ with γ/(γ + δ) = θ every subscriber churns with the same probability θ
//! each period (the geometric model the 2010 paper calls "ignoring heterogeneity"). At the other
//! limit, γ, δ → 0 with γ/(γ + δ) = π, Beta(γ, δ) puts all its mass on θ = 1 and θ = 0: a share
//! π churn at the first chance and the rest never do (B(γ, δ + t)/B(γ, δ) = (δ)_t/(γ + δ)_t →
//! δ(t − 1)!/((γ + δ)(t − 1)!) = 1 − π for every t ≥ 1). `Retention` holds all three, as
//! `PurchaseRate` does for the purchase models.
//!
//! Renewals and tenure: a subscriber who has made n renewals has paid n + 1 periods; she is still
//! a subscriber after n periods (T > n), so θ | T > n ~ Beta(γ, δ + n).

use serde::{Deserialize, Serialize};

use super::histories::SurvivalHistories;
use super::purchase_rate::digamma_difference;
use super::Likelihood;
use crate::special::ln_rising;

/// The sBG model's churn probability θ across subscribers: Beta(γ, δ), or at its limits one θ
/// for everyone, or θ = 1 for a share π and θ = 0 for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Retention {
    Beta {
        gamma: f64,
        delta: f64,
    },
    Common {
        theta: f64,
    },
    /// A share `pi` churn at the first chance, the rest never (the limit γ, δ → 0 with
    /// γ/(γ + δ) = π).
    Split {
        pi: f64,
    },
}

/// Up to this many periods S(t) is a product of t ratios (exact to rounding); beyond, the ratio
/// of rising factorials by ln Γ (a few digits fewer, no cost growing with t).
const SUMMED_UP_TO: f64 = 1000.0;

/// Terms `discounted_residual_lifetime` may sum: at d = 10⁻⁴ the series needs ~4·10⁵.
const MAX_SERIES_TERMS: usize = 5_000_000;

impl Retention {
    /// The parameters in `parameter_names` order.
    pub fn to_vec(&self) -> Vec<f64> {
        match *self {
            Self::Beta { gamma, delta } => vec![gamma, delta],
            Self::Common { theta } => vec![theta],
            Self::Split { pi } => vec![pi],
        }
    }

    pub fn parameter_names(&self) -> &'static [&'static str] {
        match self {
            Self::Beta { .. } => &["gamma", "delta"],
            Self::Common { .. } => &["theta"],
            Self::Split { .. } => &["pi"],
        }
    }

    /// The parameters of `to_vec` that are probabilities (θ, π), the rest positive.
    pub const PROBABILITIES: [&'static str; 2] = ["theta", "pi"];

    /// The model of this form at the parameters `v` (in `to_vec`'s order); `None` where they
    /// are not as many or describe no model.
    pub fn with_values(&self, v: &[f64]) -> Option<Self> {
        let model = match (*self, v) {
            (Self::Beta { .. }, &[gamma, delta]) => Self::Beta { gamma, delta },
            (Self::Common { .. }, &[theta]) => Self::Common { theta },
            (Self::Split { .. }, &[pi]) => Self::Split { pi },
            _ => return None,
        };
        model.is_valid().then_some(model)
    }

    /// Parameters that can describe a model: positive, and θ and π in (0, 1).
    pub fn is_valid(&self) -> bool {
        match *self {
            Self::Beta { gamma, delta } => gamma > 0.0 && delta > 0.0 && gamma.is_finite() && delta.is_finite(),
            Self::Common { theta: share } | Self::Split { pi: share } => share > 0.0 && share < 1.0,
        }
    }

    /// The mean churn probability per period of a new cohort, E[θ] = γ/(γ + δ) (θ, or π).
    pub fn mean_churn(&self) -> f64 {
        match *self {
            Self::Beta { gamma, delta } => gamma / (gamma + delta),
            Self::Common { theta } => theta,
            Self::Split { pi } => pi,
        }
    }

    /// ln S(t) = ln P(T > t) = ln B(γ, δ + t) − ln B(γ, δ) (eq. 8), with its gradient in (γ, δ)
    /// (or in θ: t ln(1 − θ)).
    pub fn ln_survival_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        match *self {
            Self::Beta { .. } if t <= SUMMED_UP_TO => {
                // Π_{i<t} (δ + i)/(γ + δ + i), as Σ ln(1 − γ/(γ + δ + i)): accurate to the last
                // digits even where (γ + δ + i) is huge (near the limit).
                let mut ln = CompensatedSum::default();
                let mut gradient = [0.0; 2];
                for i in 0..t as u32 {
                    let (step, d_step) = self.ln_retention_with_gradient(f64::from(i));
                    ln.add(step);
                    gradient[0] += d_step[0];
                    gradient[1] += d_step[1];
                }
                (ln.sum, gradient)
            }
            Self::Beta { gamma, delta } => {
                // B(γ, δ + t)/B(γ, δ) = (δ)_t / (γ + δ)_t, rising factorials.
                let d_both = -digamma_difference(gamma + delta, t);
                (
                    ln_rising(delta, t) - ln_rising(gamma + delta, t),
                    [d_both, d_both + digamma_difference(delta, t)],
                )
            }
            Self::Common { theta } => (t * (-theta).ln_1p(), [-t / (1.0 - theta), 0.0]),
            Self::Split { .. } if t < 1.0 => (0.0, [0.0; 2]),
            Self::Split { pi } => ((-pi).ln_1p(), [-1.0 / (1.0 - pi), 0.0]),
        }
    }

    /// ln P(T = t) = ln B(γ + 1, δ + t − 1) − ln B(γ, δ) (eq. 7) for t ≥ 1, with its gradient:
    /// S(t − 1) times the churn probability in period t, γ/(γ + δ + t − 1) (`ln_hazard_with_gradient`).
    /// At the split limit P(T = 1) = π and P(T = t) = 0 after (ln 0 = −∞, with a zero gradient).
    pub fn ln_churn_at_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        let (hazard, d_hazard) = self.ln_hazard_with_gradient(t - 1.0);
        if hazard == f64::NEG_INFINITY {
            return (hazard, [0.0; 2]);
        }
        let (survived, d_survived) = self.ln_survival_with_gradient(t - 1.0);
        (
            survived + hazard,
            [d_survived[0] + d_hazard[0], d_survived[1] + d_hazard[1]],
        )
    }

    /// ln P(T > t + 1 | T > t) = ln r(t + 1), with its gradient: one step of `ln_survival`,
    /// ln(1 − γ/(γ + δ + t)) (ln(1 − θ); at the split limit ln(1 − π) at t = 0, 0 after).
    pub fn ln_retention_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        match *self {
            Self::Beta { gamma, delta } => {
                let total = gamma + delta + t;
                ((-gamma / total).ln_1p(), [-1.0 / total, gamma / ((delta + t) * total)])
            }
            Self::Common { theta: share } => ((-share).ln_1p(), [-1.0 / (1.0 - share), 0.0]),
            Self::Split { pi } if t < 1.0 => ((-pi).ln_1p(), [-1.0 / (1.0 - pi), 0.0]),
            Self::Split { .. } => (0.0, [0.0; 2]),
        }
    }

    /// ln P(T = t + 1 | T > t), with its gradient: the churn at the end of period t + 1 of those
    /// subscribed through t, ln γ − ln(γ + δ + t) (ln θ; at the split limit ln π at t = 0, ln 0
    /// after, with a zero gradient).
    pub fn ln_hazard_with_gradient(&self, t: f64) -> (f64, [f64; 2]) {
        match *self {
            Self::Beta { gamma, delta } => {
                let total = gamma + delta + t;
                (gamma.ln() - total.ln(), [1.0 / gamma - 1.0 / total, -1.0 / total])
            }
            Self::Common { theta } => (theta.ln(), [1.0 / theta, 0.0]),
            Self::Split { pi } if t < 1.0 => (pi.ln(), [1.0 / pi, 0.0]),
            Self::Split { .. } => (f64::NEG_INFINITY, [0.0; 2]),
        }
    }

    /// S(t) = P(T > t): the share of a cohort still subscribed after t periods (eq. 8).
    pub fn survival(&self, t: f64) -> f64 {
        self.ln_survival_with_gradient(t).0.exp()
    }

    /// r(t) = S(t)/S(t − 1) = (δ + t − 1)/(γ + δ + t − 1): the share of those subscribed in period
    /// t who renew at its end (eq. 9), rising with t; 1 − θ at the geometric limit; 1 − π in the
    /// first period and 1 after it at the split limit.
    pub fn retention_rate(&self, t: f64) -> f64 {
        match *self {
            Self::Beta { gamma, delta } => (delta + t - 1.0) / (gamma + delta + t - 1.0),
            Self::Common { theta } => 1.0 - theta,
            Self::Split { pi } if t < 2.0 => 1.0 - pi,
            Self::Split { .. } => 1.0,
        }
    }

    /// P(renews at the end of the current period | n renewals made) = E[1 − θ | T > n] =
    /// (δ + n)/(γ + δ + n) = r(n + 1).
    pub fn renewal_probability(&self, renewals: f64) -> f64 {
        self.retention_rate(renewals + 1.0)
    }

    /// Expected renewals in the next `periods` renewal dates of a subscriber who has made n:
    /// Σ_{k=1..H} S(n + k)/S(n) = Σ_k Π_{j=1..k} r(n + j).
    pub fn expected_renewals_within(&self, renewals: f64, periods: u32) -> f64 {
        let (mut alive, mut sum) = (1.0, 0.0);
        for k in 1..=periods {
            alive *= self.retention_rate(renewals + f64::from(k));
            sum += alive;
        }
        sum
    }

    /// DERL(d | γ, δ, n renewals): the expected number of payments still to come, each
    /// discounted by 1/(1 + d) per period after the next renewal (which is not discounted),
    /// Σ_{t ≥ n+1} S(t)/S(n) (1 + d)^{−(t − n − 1)} = r(n + 1) · 2F1(1, δ + n + 1; γ + δ + n + 1;
    /// 1/(1 + d)) (Fader & Hardie 2010, eq. 6, with their n − 1 renewals as our n); at the limit
    /// (1 − θ)/(1 − (1 − θ)/(1 + d)), and at the split limit, where nobody churns after the first
    /// period, r(n + 1)/(1 − 1/(1 + d)) = r(n + 1)(1 + d)/d. `None` when d ≤ 0 (the undiscounted sum is infinite for
    /// γ ≤ 1) or the series does not converge.
    pub fn discounted_residual_lifetime(&self, renewals: f64, discount: f64) -> Option<f64> {
        if discount.is_nan() || discount <= 0.0 {
            return None;
        }
        let z = 1.0 / (1.0 + discount);
        match *self {
            Self::Beta { gamma, delta } => {
                Some(self.renewal_probability(renewals) * hyp2f1_one(delta + renewals + 1.0, gamma, discount)?)
            }
            Self::Common { theta } => Some((1.0 - theta) / (1.0 - (1.0 - theta) * z)),
            Self::Split { .. } => Some(self.renewal_probability(renewals) * (1.0 + discount) / discount),
        }
    }

    /// DEL(d | γ, δ): a new subscriber's discounted expected lifetime, her first payment now,
    /// Σ_{t ≥ 1} S(t − 1) (1 + d)^{−(t−1)} = 2F1(1, δ; γ + δ; 1/(1 + d)) (Fader & Hardie 2010,
    /// eq. 4) = 1 + DERL(d | 0 renewals)/(1 + d).
    pub fn discounted_expected_lifetime(&self, discount: f64) -> Option<f64> {
        Some(1.0 + self.discounted_residual_lifetime(0.0, discount)? / (1.0 + discount))
    }

    /// E[lifetime still to come] of a subscriber with n renewals, undiscounted: (δ + n)/(γ − 1)
    /// payments (DERL at d = 0, by Gauss's 2F1(a, b; c; 1)), finite only for γ > 1: with γ ≤ 1
    /// enough subscribers almost never churn that the mean is infinite. At the geometric limit
    /// (1 − θ)/θ; at the split limit infinite, as those who stay never churn.
    pub fn expected_residual_lifetime(&self, renewals: f64) -> Option<f64> {
        match *self {
            Self::Beta { gamma, delta } => (gamma > 1.0).then(|| (delta + renewals) / (gamma - 1.0)),
            Self::Common { theta } => Some((1.0 - theta) / theta),
            Self::Split { .. } => None,
        }
    }
}

/// A running sum that keeps what each addition rounds away (Kahan).
#[derive(Default)]
struct CompensatedSum {
    sum: f64,
    lost: f64,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        let y = x - self.lost;
        let t = self.sum + y;
        self.lost = (t - self.sum) - y;
        self.sum = t;
    }
}

/// 2F1(1, b; b + g; z) = Σ_k (b)_k/(b + g)_k z^k at z = 1/(1 + d), for b, g, d > 0, by its series.
/// Near z = 1 (d = 0.001) it has tens of thousands of terms, and a running product of the ratios
/// (b + j)/(b + g + j) · z would drift by a rounding per term; instead each term is
/// exp(Σ_{j<k} ln(1 − g/(b + g + j)) − k ln(1 + d)), the logarithms summed with compensation, so
/// a term is as accurate as its last exponential. The series stops when its tail (each ratio is
/// below z, so the tail is below term · z/(1 − z) = term/d) is under 10⁻¹⁷ of the sum.
fn hyp2f1_one(b: f64, g: f64, d: f64) -> Option<f64> {
    let ln_z = -d.ln_1p();
    let c = b + g;
    let mut ln_ratios = CompensatedSum::default();
    let mut sum = CompensatedSum { sum: 1.0, lost: 0.0 };
    for k in 1..=MAX_SERIES_TERMS {
        ln_ratios.add((-g / (c + (k - 1) as f64)).ln_1p());
        let term = (ln_ratios.sum + k as f64 * ln_z).exp();
        sum.add(term);
        if term <= 1e-17 * d * sum.sum {
            return sum.sum.is_finite().then_some(sum.sum);
        }
    }
    None
}

/// Which form of the sBG model a fit takes: Beta churn probabilities, or one of their limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbgForm {
    Beta,
    /// One churn probability θ for everyone.
    Common,
    /// A share π churn at the first chance, the rest never.
    Split,
}

/// The sBG likelihood of one cohort: Σ over churned subscribers of ln P(T = t) and over those
/// still subscribed of ln S(t) (eq. 10's sum), in (γ, δ), or at a limit in the odds θ/(1 − θ)
/// (π/(1 − π)).
pub struct SbgData<'a> {
    pub histories: &'a SurvivalHistories,
    pub cohort: u32,
    pub form: SbgForm,
}

impl SbgData<'_> {
    /// The model of an optimiser's vector: (γ, δ), or the odds of θ or π.
    pub fn to_model(&self, v: &[f64]) -> Retention {
        match self.form {
            SbgForm::Beta => Retention::Beta {
                gamma: v[0],
                delta: v[1],
            },
            SbgForm::Common => Retention::Common {
                theta: v[0] / (1.0 + v[0]),
            },
            SbgForm::Split => Retention::Split {
                pi: v[0] / (1.0 + v[0]),
            },
        }
    }

    fn rows(&self) -> impl Iterator<Item = &super::histories::SurvivalRow> {
        self.histories.rows().iter().filter(move |r| r.cohort == self.cohort)
    }
}

impl Likelihood for SbgData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        match self.form {
            SbgForm::Beta => &["gamma", "delta"],
            SbgForm::Common => &["theta"],
            SbgForm::Split => &["pi"],
        }
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let model = self.to_model(params);
        if !model.is_valid() {
            return (f64::NEG_INFINITY, vec![f64::NAN; params.len()]);
        }
        let (mut ll, mut gradient) = (0.0, [0.0; 2]);
        for row in self.rows() {
            let t = f64::from(row.duration);
            let (l, g) = match row.churned {
                true => model.ln_churn_at_with_gradient(t),
                false => model.ln_survival_with_gradient(t),
            };
            ll += row.weight * l;
            gradient[0] += row.weight * g[0];
            gradient[1] += row.weight * g[1];
        }
        let mut gradient = gradient[..params.len()].to_vec();
        if self.form != SbgForm::Beta {
            // dθ/d odds = 1/(1 + odds)².
            gradient[0] /= (1.0 + params[0]) * (1.0 + params[0]);
        }
        (ll, gradient)
    }

    fn n_customers(&self) -> f64 {
        self.rows().map(|r| r.weight).sum()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // The churn of the first period estimates E[θ] = γ/(γ + δ) (and θ, and π).
        let size = self.n_customers();
        let first: f64 = self
            .rows()
            .filter(|r| r.churned && r.duration == 1)
            .map(|r| r.weight)
            .sum();
        let theta = (first / size.max(1.0)).clamp(0.01, 0.99);
        match self.form {
            SbgForm::Common | SbgForm::Split => vec![vec![theta / (1.0 - theta)]],
            SbgForm::Beta => [1.0, 0.3, 5.0]
                .iter()
                .map(|&spread| vec![spread * theta, spread * (1.0 - theta)])
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fader & Hardie (2007)'s regular cohort's estimates, to the digits `REFERENCE.md`'s
    /// recomputation gives (γ = 0.704077298473516, δ = 1.18204302620948).
    const REGULAR: Retention = Retention::Beta {
        gamma: 0.704,
        delta: 1.182,
    };

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn survival_and_retention_are_the_papers_closed_forms() {
        // S(t) = Π_{i=1..t} (δ + i − 1)/(γ + δ + i − 1): S(1) = 1.182/1.886 = 0.626723223753977,
        // S(2) = S(1) · 2.182/2.886 = 0.473847...; r(1) = S(1), r(2) = 2.182/2.886.
        let s1 = 1.182 / 1.886;
        let s2 = s1 * 2.182 / 2.886;
        assert!(close(REGULAR.survival(1.0), s1, 1e-14));
        assert!(close(REGULAR.survival(2.0), s2, 1e-14));
        assert!(close(REGULAR.retention_rate(2.0), 2.182 / 2.886, 1e-15));
        assert_eq!(REGULAR.survival(0.0), 1.0);
        // P(T = t) = γ/(γ + δ + t − 1) · Π_{i=1..t−1} (δ + i − 1)/(γ + δ + i − 1) (eq. 7 written as
        // a product: the chance to survive t − 1 renewals, then churn).
        let (gamma, delta) = (0.704, 1.182);
        let mut survived = 1.0;
        for t in 1..1200 {
            let t = f64::from(t);
            let p = REGULAR.ln_churn_at_with_gradient(t).0.exp();
            let expected = survived * gamma / (gamma + delta + t - 1.0);
            // The product's own rounding grows with t: t · 2ε. Beyond 1000 periods S(t) comes from
            // ln Γ values near ln Γ(1000) ≈ 5900, each good to ~5900 ε ≈ 1.3e-12 absolute.
            let tolerance = match t <= SUMMED_UP_TO {
                true => 1e-13 + t * 4e-16,
                false => 1e-11,
            };
            assert!(close(p, expected, tolerance), "t = {t}: {p} vs {expected}");
            survived *= (delta + t - 1.0) / (gamma + delta + t - 1.0);
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        for model in [
            REGULAR,
            Retention::Beta {
                gamma: 3.0,
                delta: 40.0,
            },
            Retention::Common { theta: 0.2 },
            Retention::Split { pi: 0.3 },
        ] {
            let v = model.to_vec();
            for t in [1.0, 2.0, 7.0, 40.0, 1500.0] {
                for churned in [true, false] {
                    if churned && t > 1.0 && matches!(model, Retention::Split { .. }) {
                        // ln 0 with a zero gradient: checked in the split limit's own test.
                        continue;
                    }
                    let f = |m: &Retention| match churned {
                        true => m.ln_churn_at_with_gradient(t),
                        false => m.ln_survival_with_gradient(t),
                    };
                    let (_, g) = f(&model);
                    for i in 0..v.len() {
                        let h = 1e-6 * v[i];
                        let at = |s: f64| {
                            let mut w = v.clone();
                            w[i] += s * h;
                            let m = match model {
                                Retention::Beta { .. } => Retention::Beta {
                                    gamma: w[0],
                                    delta: w[1],
                                },
                                Retention::Common { .. } => Retention::Common { theta: w[0] },
                                Retention::Split { .. } => Retention::Split { pi: w[0] },
                            };
                            f(&m).0
                        };
                        let fd = (at(1.0) - at(-1.0)) / (2.0 * h);
                        assert!(
                            (g[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                            "{model:?} t={t} {churned} d{i}: {} vs {fd}",
                            g[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    #[allow(clippy::excessive_precision)] // mpmath's digits, as printed
    fn derl_and_del_match_high_precision_values() {
        // mpmath (mp.dps = 40), γ = 0.704, δ = 1.182:
        //   DERL(d | n renewals) = (δ+n)/(γ+δ+n) · hyp2f1(1, δ+n+1, γ+δ+n+1, 1/(1+d)),
        //   checked there against nsum(S(t)/S(n) (1+d)^-(t-n-1), [n+1, inf]) (equal to 20 digits);
        //   DEL(d) = hyp2f1(1, δ, γ+δ, 1/(1+d)).
        // (The 2010 paper's n − 1 renewals are our n: its n = 1, 2, 5, 10, 100 are our 0, 1, 4, 9, 99.)
        let derl = [
            (0.0, 0.001, 20.357650588541793815),
            (0.0, 0.01, 8.5029471720112697931),
            (0.0, 0.1, 2.9646621461320315146),
            (0.0, 0.5, 1.3611236313598731563),
            (1.0, 0.001, 31.514163738578521961),
            (1.0, 0.01, 12.69298134524313653),
            (1.0, 0.1, 4.1034586195985724029),
            (1.0, 0.5, 1.757714681148122808),
            (4.0, 0.001, 56.048746774805442076),
            (4.0, 0.01, 21.00789859219021886),
            (4.0, 0.1, 5.8944228598441600446),
            (4.0, 0.5, 2.2509860432096495537),
            (9.0, 0.001, 85.524674863374743241),
            (9.0, 0.01, 29.71452361432899038),
            (9.0, 0.1, 7.2786182342018969092),
            (9.0, 0.5, 2.5381758904760372724),
            (99.0, 0.001, 297.76088711763249984),
            (99.0, 0.01, 68.887741387197856961),
            (99.0, 0.1, 10.269044500493881816),
            (99.0, 0.5, 2.9391939801121969826),
        ];
        for (n, d, expected) in derl {
            let got = REGULAR.discounted_residual_lifetime(n, d).unwrap();
            assert!(
                close(got, expected, 1e-13),
                "DERL(n = {n}, d = {d}) = {got}, not {expected}"
            );
        }
        for (d, expected) in [
            (0.001, 21.337313275266527287),
            (0.01, 9.4187595762487819733),
            (0.1, 3.6951474055745741042),
            (0.5, 1.9074157542399154375),
        ] {
            let got = REGULAR.discounted_expected_lifetime(d).unwrap();
            assert!(close(got, expected, 1e-13), "DEL(d = {d}) = {got}, not {expected}");
        }
        assert_eq!(REGULAR.discounted_residual_lifetime(3.0, 0.0), None);
        // γ = 3, δ = 5, n = 3: mpmath gives DERL(0.1) = 2.5848214280313242728, and the
        // undiscounted residual lifetime (δ + n)/(γ − 1) = 4 (its d → 0 limit).
        let light = Retention::Beta { gamma: 3.0, delta: 5.0 };
        assert!(close(
            light.discounted_residual_lifetime(3.0, 0.1).unwrap(),
            2.5848214280313242728,
            1e-13
        ));
        assert_eq!(light.expected_residual_lifetime(3.0), Some(4.0));
        assert_eq!(REGULAR.expected_residual_lifetime(3.0), None);
    }

    #[test]
    fn the_geometric_limit_is_where_the_beta_model_goes() {
        // γ, δ → ∞ with γ/(γ + δ) = 0.2: every formula tends to the geometric one.
        let limit = Retention::Common { theta: 0.2 };
        let near = Retention::Beta {
            gamma: 0.2e9,
            delta: 0.8e9,
        };
        for t in [1.0, 5.0, 30.0] {
            assert!(close(near.survival(t), limit.survival(t), 1e-6));
            assert!(close(near.retention_rate(t), limit.retention_rate(t), 1e-6));
        }
        for (n, d) in [(0.0, 0.1), (7.0, 0.01)] {
            let (a, b) = (
                near.discounted_residual_lifetime(n, d).unwrap(),
                limit.discounted_residual_lifetime(n, d).unwrap(),
            );
            assert!(close(a, b, 1e-6), "{a} vs {b}");
        }
        // Geometric closed forms: S(t) = 0.8^t; DERL(0.1) = 0.8/(1 − 0.8/1.1) = 2.9333…;
        // expected renewals in 3 periods 0.8 + 0.64 + 0.512.
        assert!(close(limit.survival(3.0), 0.512, 1e-15));
        assert!(close(
            limit.discounted_residual_lifetime(5.0, 0.1).unwrap(),
            0.8 / (1.0 - 0.8 / 1.1),
            1e-15
        ));
        assert!(close(limit.expected_renewals_within(5.0, 3), 1.952, 1e-15));
        assert_eq!(limit.expected_residual_lifetime(2.0), Some(4.0));
    }

    #[test]
    fn the_split_limit_is_where_the_beta_model_goes() {
        // γ, δ → 0 with γ/(γ + δ) = 0.3: 30% churn at the first chance, the rest never.
        let limit = Retention::Split { pi: 0.3 };
        let near = Retention::Beta {
            gamma: 0.3e-9,
            delta: 0.7e-9,
        };
        for t in [0.0, 1.0, 5.0, 30.0] {
            assert!(close(near.survival(t), limit.survival(t), 1e-6), "S({t})");
        }
        for t in [1.0, 2.0, 10.0] {
            assert!(close(near.retention_rate(t), limit.retention_rate(t), 1e-6), "r({t})");
        }
        for t in [1.0, 2.0, 6.0] {
            let (a, b) = (
                near.ln_churn_at_with_gradient(t).0.exp(),
                limit.ln_churn_at_with_gradient(t).0.exp(),
            );
            assert!((a - b).abs() < 1e-6, "P(T = {t}): {a} vs {b}");
        }
        for (n, d) in [(0.0, 0.1), (7.0, 0.01)] {
            let (a, b) = (
                near.discounted_residual_lifetime(n, d).unwrap(),
                limit.discounted_residual_lifetime(n, d).unwrap(),
            );
            assert!(close(a, b, 1e-6), "DERL({n}, {d}): {a} vs {b}");
        }
        // Closed forms: S(t) = 0.7 for t ≥ 1, P(T = 1) = 0.3 and 0 after; nobody left after the
        // first period churns, so DERL(d | n ≥ 1) = Σ_k (1 + d)^−k = (1 + d)/d = 11 at d = 0.1,
        // DERL(0.1 | 0) = 0.7 · 11 = 7.7 and DEL(0.1) = 1 + 7.7/1.1 = 8; renewals in the next 3
        // periods 0.7 · 3 for a new subscriber, 3 for one who has renewed.
        assert!(close(limit.survival(3.0), 0.7, 1e-15));
        assert_eq!(limit.ln_churn_at_with_gradient(1.0).0, 0.3f64.ln());
        assert_eq!(limit.ln_churn_at_with_gradient(2.0).0, f64::NEG_INFINITY);
        assert!(close(
            limit.discounted_residual_lifetime(5.0, 0.1).unwrap(),
            11.0,
            1e-14
        ));
        assert!(close(limit.discounted_residual_lifetime(0.0, 0.1).unwrap(), 7.7, 1e-14));
        assert!(close(limit.discounted_expected_lifetime(0.1).unwrap(), 8.0, 1e-14));
        assert!(close(limit.expected_renewals_within(0.0, 3), 2.1, 1e-14));
        assert_eq!(limit.expected_renewals_within(5.0, 3), 3.0);
        assert_eq!(limit.expected_residual_lifetime(2.0), None);
    }

    #[test]
    fn expected_renewals_add_up_the_survival_ratios() {
        // Σ_{k=1..3} S(n + k)/S(n) for n = 2.
        let s = |t: f64| REGULAR.survival(t);
        let expected = (s(3.0) + s(4.0) + s(5.0)) / s(2.0);
        assert!(close(REGULAR.expected_renewals_within(2.0, 3), expected, 1e-13));
        assert!(close(REGULAR.renewal_probability(2.0), s(3.0) / s(2.0), 1e-14));
    }
}
