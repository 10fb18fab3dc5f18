//! Fits whose maximum lies on the boundary of the parameter space, and data that identify no model.
//!
//! A likelihood can rise without bound in a direction where a heterogeneity vanishes (BG/NBD:
//! a, b → ∞ with a/(a+b) fixed; r, α → ∞ with r/α fixed; Pareto/NBD: s, β → ∞ with s/β fixed):
//! its supremum is then the maximum of a *limiting model* (`models::bg_limits`,
//! `models::pareto_limits`) with fewer parameters. When the interior fit fails or ends near such
//! a boundary, each limiting model is fitted as well, and one is reported when (i) its own
//! maximum converged, (ii) stepping back inside the full model from it, in every direction that
//! leaves the boundary, lowers the likelihood (so it is a maximum of the full model too, not a
//! saddle), and (iii) no interior point found has a higher likelihood.

mod bg_bb;
mod bg_family;
mod pareto;
mod retention;
mod spend;

pub use bg_bb::fit_bg_bb;
pub use bg_family::{fit_bg_family, limit_description, BgFamilyFit};
pub use pareto::{fit_pareto, pareto_limit_description, ParetoFit};
pub use retention::{fit_constant_retention, fit_sbg};
pub use spend::fit_spend;

use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::mle::MleFit;
use crate::models::histories::Histories;
use crate::models::Likelihood;
use crate::registry::PurchaseModelKind;

/// Heterogeneity at or beyond which an interior estimate counts as heading for a limit:
/// 1/(a+b+1) or 1/r below this.
const NEAR_LIMIT: f64 = 1e-3;

/// Distances from a limit, in 1/(a+b+1) or 1/r, at which the full model is evaluated to check that
/// the limiting model is a maximum of it.
pub(crate) const STEPS_INSIDE: [f64; 2] = [1e-4, 1e-2];

/// Log-likelihood per customer within which two fits count as equally good (the sums' rounding is
/// far below it); the one with fewer parameters is then reported.
pub(crate) const SAME_LIKELIHOOD_PER_CUSTOMER: f64 = 1e-8;

/// The covariance and standard errors of `fit` for its last parameter in another scale, whose
/// derivative there is `chain` (the delta method): a probability fitted as its odds, stored as
/// itself.
fn last_parameter_rescaled(fit: &mut MleFit, chain: f64) {
    let Some(last) = fit.params.len().checked_sub(1) else {
        return;
    };
    if let Some(cov) = fit.covariance.as_mut() {
        for (i, row) in cov.iter_mut().enumerate() {
            row[last] *= chain;
            if i == last {
                row.iter_mut().for_each(|v| *v *= chain);
            }
        }
    }
    if let Some(se) = fit.standard_errors.as_mut() {
        se[last] *= chain;
    }
}

/// Refuses data from which no purchase model can be estimated, saying why in terms of the data.
pub fn identifiable(histories: &Histories, time_unit: TimeUnit, kind: PurchaseModelKind) -> Result<()> {
    let refuse = |reason: String| {
        Err(ClvError::Model {
            model: kind.label(),
            reason,
        })
    };
    let n = histories.n_customers();
    if n < kind.parameter_names.len() as f64 {
        let customers = if n == 1.0 {
            "1 customer"
        } else {
            &format!("{n} customers")
        };
        let k = kind.parameter_names.len();
        return refuse(format!(
            "{customers} cannot identify a model of {k} parameters: fit it on at least {k}, and in practice hundreds"
        ));
    }
    if histories.every_customer(|_, _, t| t <= 0.0) {
        return refuse(format!(
            "every customer's observation window is 0 {}: there is nothing to estimate a purchase rate from \
             (did every customer buy for the first time on the last day of the log or of the calibration period?)",
            time_unit
        ));
    }
    if histories.every_customer(|x, _, _| x == 0.0) {
        return refuse(format!(
            "none of the {n} customers made a repeat purchase: the most likely purchase rate is 0, \
             so there is no model to forecast from (is the calibration period long enough for customers to come back?)"
        ));
    }
    Ok(())
}

/// The fit with the fewest parameters among the candidates (log-likelihood, parameters, fit)
/// within `tolerance` of the best: a limit is reported rather than an interior point that merely
/// approaches it. With no candidate, why: the interior fit's error and each limit's rejection.
fn simplest_of_the_best<T>(
    candidates: Vec<(f64, usize, T)>,
    tolerance: f64,
    label: &'static str,
    interior_error: Option<ClvError>,
    rejected: &[String],
) -> Result<T> {
    let Some(best) = candidates.iter().map(|c| c.0).reduce(f64::max) else {
        let reasons: Vec<String> = interior_error
            .map(|e| format!("the model itself: {}", brief(&e)))
            .into_iter()
            .chain(rejected.iter().cloned())
            .collect();
        return Err(ClvError::NotConverged {
            model: label,
            reason: format!(
                "neither the model nor any of its limiting models reached a maximum ({})",
                reasons.join("; ")
            ),
        });
    };
    candidates
        .into_iter()
        .filter(|c| c.0 >= best - tolerance)
        .min_by_key(|c| c.1)
        .map(|c| c.2)
        .ok_or_else(|| ClvError::NotConverged {
            model: label,
            reason: "no fit to report".into(),
        })
}

/// The first step h of `STEPS_INSIDE` at which the full model just inside a limit, whose
/// log-likelihood `inside_ll(h)` gives, is more likely than the limit's `ll` by more than
/// `tolerance`: then the limit is not a maximum. (h, that log-likelihood).
fn first_better_inside(ll: f64, tolerance: f64, inside_ll: impl Fn(f64) -> f64) -> Option<(f64, f64)> {
    STEPS_INSIDE
        .iter()
        .map(|&h| (h, inside_ll(h)))
        .find(|&(_, inside)| inside > ll + tolerance)
}

/// A limit as the terminal, the model file and the evaluation state it: its name, what it means,
/// and why it is the fit.
pub(crate) fn limit_text(name: &str, what: &str) -> String {
    format!(
        "{name}: {what}; the data's likelihood is highest there, so this limiting model is the maximum-likelihood fit"
    )
}

/// An error without the optimiser's trace of every start point (`mle::maximize`'s "details"),
/// which says nothing to an analyst reading why a limit was not reported, and without the
/// "… fit did not converge" the enclosing message already says.
fn brief(error: &ClvError) -> String {
    let message = match error {
        ClvError::NotConverged { reason, .. } => reason.clone(),
        other => other.to_string(),
    };
    message.split(" (details:").next().unwrap_or_default().to_string()
}

/// A likelihood with other start points: the points next to a limit where the full model was
/// found to rise, when the usual starts failed.
struct Restarted<'a, M> {
    model: &'a M,
    starts: Vec<Vec<f64>>,
    /// The search's gradient tolerance (see `Likelihood::search_gradient_tolerance`).
    search_tolerance: f64,
}

impl<M: Likelihood> Likelihood for Restarted<'_, M> {
    fn parameter_names(&self) -> &'static [&'static str] {
        self.model.parameter_names()
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        self.model.log_likelihood_with_gradient(params)
    }

    fn gradient_and_hessian(&self, params: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
        self.model.gradient_and_hessian(params)
    }

    fn n_customers(&self) -> f64 {
        self.model.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        self.starts.clone()
    }

    fn search_gradient_tolerance(&self) -> f64 {
        self.search_tolerance
    }
}
