//! The sBG retention model at its boundary: Beta(γ, δ) churn probabilities, or the geometric
//! limit γ, δ → ∞ with γ/(γ + δ) = θ (everyone churns with the same probability), checked as the
//! purchase models' limits are (module notes).

use super::{brief, first_better_inside, limit_text, simplest_of_the_best, NEAR_LIMIT, SAME_LIKELIHOOD_PER_CUSTOMER};
use crate::error::{ClvError, Result};
use crate::mle::{maximize, FitOptions, MleFit};
use crate::model_file::ModelFit;
use crate::models::histories::SurvivalHistories;
use crate::models::sbg::{Retention, SbgData};
use crate::models::Likelihood;

pub(crate) const SBG_LABEL: &str = "sBG";

/// Fits the sBG model to one cohort of `histories`: the interior maximum when there is one, else
/// the geometric limit when that is a maximum. Data that identify no churn probability are
/// refused, saying why.
pub fn fit_sbg(histories: &SurvivalHistories, cohort: u32, options: &FitOptions) -> Result<ModelFit<Retention>> {
    let name = histories.cohorts().get(cohort as usize).cloned().unwrap_or_default();
    let refuse = |reason: String| ClvError::Model {
        model: SBG_LABEL,
        reason: format!("cohort '{name}': {reason}"),
    };
    let rows: Vec<_> = histories.rows().iter().filter(|r| r.cohort == cohort).collect();
    if rows.iter().all(|r| !r.churned) {
        return Err(refuse(
            "no subscriber has churned yet, so the most likely churn probability is 0 and there is no retention \
             model to project from (observe the cohort for longer)"
                .into(),
        ));
    }
    if rows.iter().all(|r| !r.churned || r.duration == 1) && rows.iter().all(|r| r.churned || r.duration <= 1) {
        return Err(refuse(
            "every subscriber was observed for one renewal at most, which shows the churn of the first period \
             but not how retention changes with tenure: the sBG model needs at least two periods"
                .into(),
        ));
    }
    let beta = SbgData {
        histories,
        cohort,
        common: false,
    };
    let interior = maximize(&beta, SBG_LABEL, options);
    let heading_for_limit = match &interior {
        Ok(fit) => !fit.warnings.is_empty() || 1.0 / (fit.params[0] + fit.params[1] + 1.0) < NEAR_LIMIT,
        Err(_) => true,
    };
    let to_beta = |fit: MleFit| {
        ModelFit::from_mle(fit, |v| Retention::Beta {
            gamma: v[0],
            delta: v[1],
        })
    };
    if !heading_for_limit || options.penalizer() > 0.0 {
        return interior.map(to_beta);
    }
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * beta.n_customers();
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    let common = SbgData {
        histories,
        cohort,
        common: true,
    };
    match maximize(&common, SBG_LABEL, &options.unpenalized()) {
        Err(e) => rejected.push(format!("one churn probability: {}", brief(&e))),
        Ok(fit) => {
            let theta = common.to_model(&fit.params).mean_churn();
            let ll = fit.log_likelihood;
            // The Beta model just inside the limit: γ + δ = 1/h − 1 with the same mean θ.
            let better_inside = first_better_inside(ll, tolerance, |h| {
                let total = 1.0 / h - 1.0;
                beta.log_likelihood_with_gradient(&[theta * total, (1.0 - theta) * total])
                    .0
            });
            match better_inside {
                Some((_, inside_ll)) => rejected.push(format!(
                    "one churn probability: not a maximum (log-likelihood {ll:.4}; a point inside has {inside_ll:.4})"
                )),
                None => candidates.push((ll, 1, geometric_fit(fit))),
            }
        }
    }
    let interior_error = match interior {
        Ok(fit) => {
            candidates.push((fit.log_likelihood, 2, to_beta(fit)));
            None
        }
        Err(e) => Some(e),
    };
    simplest_of_the_best(candidates, tolerance, SBG_LABEL, interior_error, &rejected)
}

/// The model with one churn probability θ for everyone (the sBG model's limit, fitted whatever the
/// data say, as the comparison that ignores heterogeneity).
pub fn fit_constant_retention(
    histories: &SurvivalHistories,
    cohort: u32,
    options: &FitOptions,
) -> Result<ModelFit<Retention>> {
    let common = SbgData {
        histories,
        cohort,
        common: true,
    };
    maximize(&common, SBG_LABEL, &options.unpenalized()).map(geometric_fit)
}

/// The geometric limit's fit, its odds turned back into θ (and θ's standard error and variance by
/// the delta method: dθ/d odds = (1 − θ)²).
fn geometric_fit(mut fit: MleFit) -> ModelFit<Retention> {
    let odds = fit.params[0];
    let chain = 1.0 / ((1.0 + odds) * (1.0 + odds));
    if let Some(cov) = fit.covariance.as_mut() {
        cov[0][0] *= chain * chain;
    }
    if let Some(se) = fit.standard_errors.as_mut() {
        se[0] *= chain;
    }
    fit.parameter_names = vec!["theta".into()];
    let mut stored = ModelFit::from_mle(fit, |v| Retention::Common { theta: v[0] });
    // The parameter itself, not the standard error mapped through the odds.
    stored.params = Retention::Common {
        theta: odds / (1.0 + odds),
    };
    stored.limit = Some(limit_text(
        "one churn probability",
        "every subscriber churns with the same probability theta each period (the limit gamma, delta → ∞ with \
         gamma/(gamma + delta) = theta), so retention does not rise with tenure",
    ));
    stored
}
