//! The sBG likelihood as a fit sees it: one cohort's survival histories, in (γ, δ) or, at a
//! limit, in the odds of the one churn probability (eq. 10's sum; Fader & Hardie 2007).

use super::Retention;
use crate::models::histories::{SurvivalHistories, SurvivalRow};
use crate::models::Likelihood;

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

    fn rows(&self) -> impl Iterator<Item = &SurvivalRow> {
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
