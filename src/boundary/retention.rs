//! The sBG retention model at its boundary: Beta(γ, δ) churn probabilities, the geometric limit
//! γ, δ → ∞ with γ/(γ + δ) = θ (everyone churns with the same probability), or the split limit
//! γ, δ → 0 with γ/(γ + δ) = π (a share churn at the first chance, the rest never), checked as the
//! purchase models' limits are (module notes).

use super::{brief, first_better_inside, limit_text, simplest_of_the_best, NEAR_LIMIT, SAME_LIKELIHOOD_PER_CUSTOMER};
use crate::error::{ClvError, Result};
use crate::mle::{maximize, FitOptions, MleFit};
use crate::model_file::ModelFit;
use crate::models::histories::SurvivalHistories;
use crate::models::sbg::{Retention, SbgData, SbgForm};
use crate::models::Likelihood;

pub(crate) const SBG_LABEL: &str = "sBG";

/// Fits the sBG model to one cohort of `histories`: the interior maximum when there is one, else
/// the geometric or the split limit when that is a maximum. Data that identify no churn probability are
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
        form: SbgForm::Beta,
    };
    let interior = maximize(&beta, SBG_LABEL, options);
    let heading_for_limit = match &interior {
        Ok(fit) => {
            let total = fit.params[0] + fit.params[1];
            !fit.warnings.is_empty() || 1.0 / (total + 1.0) < NEAR_LIMIT || total < NEAR_LIMIT
        }
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
    for form in [SbgForm::Common, SbgForm::Split] {
        let name = form_name(form);
        // At the split limit nobody churns after the first period: a later churn has probability 0.
        if form == SbgForm::Split && rows.iter().any(|r| r.churned && r.duration > 1) {
            continue;
        }
        let limit = SbgData {
            histories,
            cohort,
            form,
        };
        match maximize(&limit, SBG_LABEL, &options.unpenalized()) {
            Err(e) => rejected.push(format!("{name}: {}", brief(&e))),
            Ok(fit) => {
                let mean = limit.to_model(&fit.params).mean_churn();
                let ll = fit.log_likelihood;
                // The Beta model just inside the limit, with the same mean churn: γ + δ = 1/h − 1
                // next to the geometric limit, γ + δ = h next to the split one.
                let better_inside = first_better_inside(ll, tolerance, |h| {
                    let total = match form {
                        SbgForm::Split => h,
                        _ => 1.0 / h - 1.0,
                    };
                    beta.log_likelihood_with_gradient(&[mean * total, (1.0 - mean) * total])
                        .0
                });
                match better_inside {
                    Some((_, inside_ll)) => rejected.push(format!(
                        "{name}: not a maximum (log-likelihood {ll:.4}; a point inside has {inside_ll:.4})"
                    )),
                    None => candidates.push((ll, 1, limit_fit(fit, form))),
                }
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
        form: SbgForm::Common,
    };
    maximize(&common, SBG_LABEL, &options.unpenalized()).map(|fit| limit_fit(fit, SbgForm::Common))
}

/// A limit's fit (geometric or split), its odds turned back into θ or π (and the standard error
/// and variance by the delta method: d share / d odds = (1 − share)²).
fn limit_fit(mut fit: MleFit, form: SbgForm) -> ModelFit<Retention> {
    let odds = fit.params[0];
    let chain = 1.0 / ((1.0 + odds) * (1.0 + odds));
    if let Some(cov) = fit.covariance.as_mut() {
        cov[0][0] *= chain * chain;
    }
    if let Some(se) = fit.standard_errors.as_mut() {
        se[0] *= chain;
    }
    let share = odds / (1.0 + odds);
    let (model, what): (fn(f64) -> Retention, _) = match form {
        SbgForm::Split => (
            |pi| Retention::Split { pi },
            "a share pi of subscribers churn at the first chance and the rest never churn (the limit gamma, \
             delta → 0 with gamma/(gamma + delta) = pi)",
        ),
        _ => (
            |theta| Retention::Common { theta },
            "every subscriber churns with the same probability theta each period (the limit gamma, delta → ∞ with \
             gamma/(gamma + delta) = theta), so retention does not rise with tenure",
        ),
    };
    fit.parameter_names = vec![model(share).parameter_names()[0].into()];
    let mut stored = ModelFit::from_mle(fit, |v| model(v[0]));
    // The parameter itself, not the standard error mapped through the odds.
    stored.params = model(share);
    stored.limit = Some(limit_text(form_name(form), what));
    stored
}

/// A limit's name, as the terminal and the model file give it.
fn form_name(form: SbgForm) -> &'static str {
    match form {
        SbgForm::Split => "churn at once or never",
        _ => "one churn probability",
    }
}
