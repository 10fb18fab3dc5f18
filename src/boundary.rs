//! Fits whose maximum lies on the boundary of the parameter space, and data that identify no model.
//!
//! A BG-family likelihood can rise without bound in a direction where a heterogeneity vanishes
//! (a, b → ∞ with a/(a+b) fixed; r, α → ∞ with r/α fixed): its supremum is then the maximum of a
//! *limiting model* (`models::bg_limits`) with fewer parameters. When the interior fit fails or
//! ends near such a boundary, each limiting model is fitted as well, and one is reported when
//! (i) its own maximum converged, (ii) stepping back inside the full model from it, in every
//! direction that leaves the boundary, lowers the likelihood (so it is a maximum of the full
//! model too, not a saddle), and (iii) no interior point found has a higher likelihood.

use crate::data::rfm::RfmTable;
use crate::error::{ClvError, Result};
use crate::fit::{maximize, MleFit};
use crate::model_file::ModelFit;
use crate::models::bg_limits::{
    total_log_likelihood, BgFamilyLimit, DropoutProbability, Limit, LimitData, PurchaseRate,
};
use crate::models::bg_nbd::{BgNbdData, Dropout};
use crate::models::mbg_nbd::MbgNbdData;
use crate::models::pareto_limits::{ParetoDropoutLimit, ParetoLimitData};
use crate::models::pareto_nbd::{ParetoNbdData, ParetoNbdParams, MAX_SHAPE};
use crate::models::{Likelihood, PurchaseModelKind};

/// The result of a BG-family fit: an interior maximum, or a limiting model.
#[derive(Debug)]
pub enum BgFamilyFit {
    Interior(MleFit),
    Limit(ModelFit<BgFamilyLimit>),
}

/// Heterogeneity at or beyond which an interior estimate counts as heading for a limit:
/// 1/(a+b+1) or 1/r below this.
const NEAR_LIMIT: f64 = 1e-3;

/// Distances from a limit, in 1/(a+b+1) or 1/r, at which the full model is evaluated to check that
/// the limiting model is a maximum of it.
const STEPS_INSIDE: [f64; 2] = [1e-4, 1e-2];

/// Log-likelihood per customer within which two fits count as equally good (the sums' rounding is
/// far below it); the one with fewer parameters is then reported.
const SAME_LIKELIHOOD_PER_CUSTOMER: f64 = 1e-8;

/// Refuses data from which no purchase model can be estimated, saying why in terms of the data.
pub fn identifiable(rfm: &RfmTable, kind: PurchaseModelKind) -> Result<()> {
    let refuse = |reason: String| {
        Err(ClvError::Model {
            model: kind.label(),
            reason,
        })
    };
    let n = rfm.len();
    if n < 4 {
        let customers = if n == 1 {
            "1 customer"
        } else {
            &format!("{n} customers")
        };
        return refuse(format!(
            "{customers} cannot identify a model of 4 parameters: fit it on at least 4, and in practice hundreds"
        ));
    }
    if rfm.t.iter().all(|&t| t <= 0.0) {
        return refuse(format!(
            "every customer's observation window is 0 {}: there is nothing to estimate a purchase rate from \
             (did every customer buy for the first time on the last day of the log or of the calibration period?)",
            rfm.time_unit
        ));
    }
    if rfm.frequency.iter().all(|&x| x == 0.0) {
        return refuse(format!(
            "none of the {n} customers made a repeat purchase: the most likely purchase rate is 0, \
             so there is no model to forecast from (is the calibration period long enough for customers to come back?)"
        ));
    }
    Ok(())
}

/// Fits BG/NBD (`Dropout::AfterRepeatPurchases`) or MBG/NBD: the interior maximum when there is one,
/// else the best limiting model that is a maximum (see the module notes).
pub fn fit_bg_family(data: &BgNbdData, dropout: Dropout, label: &'static str, penalizer: f64) -> Result<BgFamilyFit> {
    let interior = match dropout {
        Dropout::AfterRepeatPurchases => maximize(data, label, penalizer),
        Dropout::AlsoAtFirstPurchase => maximize(&MbgNbdData(data.clone()), label, penalizer),
    };
    let heading_for_limit = match &interior {
        Ok(fit) => near_limit(fit),
        Err(_) => true,
    };
    if !heading_for_limit || penalizer > 0.0 {
        return interior.map(BgFamilyFit::Interior);
    }
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * data.n_customers();
    let mut rejected: Vec<String> = Vec::new();
    // (log-likelihood, number of parameters, fit)
    let mut candidates: Vec<(f64, usize, BgFamilyFit)> = Vec::new();
    let mut restarts: Vec<Vec<f64>> = Vec::new();
    for limit in Limit::ALL {
        let face = LimitData { data, limit, dropout };
        let fit = match maximize(&face, label, 0.0) {
            Ok(fit) => fit,
            Err(e) => {
                rejected.push(format!("{}: {e}", limit_name(limit)));
                continue;
            }
        };
        let model = face.to_model(&fit.params);
        let ll = fit.log_likelihood;
        let inside = steps_inside(&model);
        let inside_better = inside
            .iter()
            .map(|point| total_log_likelihood(data, point, dropout))
            .find(|&inside_ll| inside_ll > ll + tolerance);
        if let Some(inside_ll) = inside_better {
            // The maximum lies inside, near this limit: a start for the full model from there.
            restarts.extend(inside.iter().filter(|m| m.limit().is_none()).map(|m| m.to_vec()));
            rejected.push(format!(
                "{}: not a maximum (log-likelihood {ll:.4}; a point inside has {inside_ll:.4})",
                limit_name(limit)
            ));
            continue;
        }
        let k = fit.params.len();
        candidates.push((ll, k, BgFamilyFit::Limit(limit_fit(&face, fit, model))));
    }
    let interior = match interior {
        Err(_) if !restarts.is_empty() => match dropout {
            Dropout::AfterRepeatPurchases => refit_near_limit(data, restarts, label),
            Dropout::AlsoAtFirstPurchase => refit_near_limit(&MbgNbdData(data.clone()), restarts, label),
        },
        other => other,
    };
    if let Ok(fit) = interior.as_ref() {
        // Compared in the stable form the limits use: near a limit (a + b = 10⁷) the ln Γ
        // differences of the fast likelihood carry ~1e-8 per customer of rounding, enough to
        // make a point that merely approaches a limit look better than the limit itself.
        let [r, alpha, a, b] = fit.params[..] else {
            return Err(ClvError::NotConverged {
                model: label,
                reason: "the fit returned the wrong number of parameters".into(),
            });
        };
        let general = BgFamilyLimit {
            rate: PurchaseRate::Gamma { r, alpha },
            dropout: DropoutProbability::Beta { a, b },
        };
        let ll = total_log_likelihood(data, &general, dropout);
        candidates.push((ll, fit.params.len(), BgFamilyFit::Interior(fit.clone())));
    }
    let Some(best) = candidates.iter().map(|c| c.0).reduce(f64::max) else {
        let interior_error = interior.err().map(|e| e.to_string()).unwrap_or_default();
        return Err(ClvError::NotConverged {
            model: label,
            reason: format!(
                "neither the model nor any of its limiting models reached a maximum ({interior_error}; {})",
                rejected.join("; ")
            ),
        });
    };
    // The simplest model among those as likely as the best: a limit is reported rather than an
    // interior point that merely approaches it.
    let chosen = candidates
        .into_iter()
        .filter(|c| c.0 >= best - tolerance)
        .min_by_key(|c| c.1)
        .map(|c| c.2);
    chosen.ok_or_else(|| ClvError::NotConverged {
        model: label,
        reason: "no fit to report".into(),
    })
}

/// An interior estimate near a boundary, or one the fit itself flagged (unidentified parameters,
/// no positive-definite information).
fn near_limit(fit: &MleFit) -> bool {
    let [r, _, a, b] = fit.params[..] else {
        return true;
    };
    !fit.warnings.is_empty() || 1.0 / (a + b + 1.0) < NEAR_LIMIT || 1.0 / r < NEAR_LIMIT
}

fn limit_name(limit: Limit) -> &'static str {
    match limit {
        Limit::HomogeneousDropout => "homogeneous dropout",
        Limit::HomogeneousRate => "homogeneous purchase rate",
        Limit::Homogeneous => "homogeneous purchase rate and dropout",
    }
}

/// What a limit means, for the terminal, the model file and the evaluation.
pub fn limit_description(limit: Limit) -> String {
    let what = match limit {
        Limit::HomogeneousDropout => {
            "every customer has the same dropout probability p at each chance (the limit a, b → ∞ with a/(a+b) = p)"
        }
        Limit::HomogeneousRate => {
            "every customer buys at the same rate lambda while alive (the limit r, alpha → ∞ with r/alpha = lambda)"
        }
        Limit::Homogeneous => {
            "every customer buys at the same rate lambda and has the same dropout probability p (r, alpha, a, b → ∞)"
        }
    };
    format!(
        "{}: {what}; the data's likelihood is highest there, so this limiting model is the maximum-likelihood fit",
        limit_name(limit)
    )
}

/// Points of the full model (or of a larger limiting model) next to `model`, one per direction
/// that leaves its limit and one for all of them, at each of `STEPS_INSIDE`.
fn steps_inside(model: &BgFamilyLimit) -> Vec<BgFamilyLimit> {
    let mut points = Vec::new();
    for h in STEPS_INSIDE {
        let rate = match model.rate {
            PurchaseRate::Common { lambda } => Some(PurchaseRate::Gamma {
                r: 1.0 / h,
                alpha: 1.0 / (h * lambda),
            }),
            PurchaseRate::Gamma { .. } => None,
        };
        let dropout = match model.dropout {
            DropoutProbability::Common { p } => {
                let total = 1.0 / h - 1.0;
                Some(DropoutProbability::Beta {
                    a: p * total,
                    b: (1.0 - p) * total,
                })
            }
            DropoutProbability::Beta { .. } => None,
        };
        if let Some(rate) = rate {
            points.push(BgFamilyLimit { rate, ..*model });
        }
        if let Some(dropout) = dropout {
            points.push(BgFamilyLimit { dropout, ..*model });
        }
        if let (Some(rate), Some(dropout)) = (rate, dropout) {
            points.push(BgFamilyLimit { rate, dropout });
        }
    }
    points
}

/// The limiting model's fit as stored: p (not its odds) with its standard error and covariance
/// by the delta method, and the limit in words.
fn limit_fit(face: &LimitData<'_>, mut fit: MleFit, model: BgFamilyLimit) -> ModelFit<BgFamilyLimit> {
    let last = fit.params.len() - 1;
    let chain = face.p_per_odds(&fit.params);
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
    let standard_errors = fit.standard_errors.as_deref().map(|se| face.limit.model(se));
    let mut stored = ModelFit::from_mle(fit, |_| model);
    stored.standard_errors = standard_errors;
    stored.limit = Some(limit_description(face.limit));
    stored
}

/// A likelihood with other start points: the points next to a limit where the full model was
/// found to rise, when the usual starts failed.
struct Restarted<'a, M> {
    model: &'a M,
    starts: Vec<Vec<f64>>,
}

impl<M: Likelihood> Likelihood for Restarted<'_, M> {
    fn parameter_names(&self) -> &'static [&'static str] {
        self.model.parameter_names()
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        self.model.log_likelihood_with_gradient(params)
    }

    fn n_customers(&self) -> f64 {
        self.model.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        self.starts.clone()
    }
}

/// The interior maximum next to a limit, where the likelihood is nearly flat along a + b and
/// L-BFGS in (ln a, ln b) stalls in the curved valley: fitted in (r, α, p̄/(1−p̄), a + b),
/// p̄ = a/(a+b), where that valley is one axis, from `starts`; then taken as the start of the
/// usual fit, which confirms the maximum and gives the covariance of (r, α, a, b).
fn refit_near_limit<M: Likelihood>(model: &M, starts: Vec<Vec<f64>>, label: &'static str) -> Result<MleFit> {
    let reparameterised = MeanAndTotal { model, starts };
    let fit = maximize(&reparameterised, label, 0.0)?;
    let natural = MeanAndTotal::<M>::natural(&fit.params);
    maximize(
        &Restarted {
            model,
            starts: vec![natural],
        },
        label,
        0.0,
    )
}

/// A BG-family likelihood over (r, α, odds, c) with a = c·p̄, b = c·(1−p̄), p̄ = odds/(1+odds).
struct MeanAndTotal<'a, M> {
    model: &'a M,
    starts: Vec<Vec<f64>>,
}

impl<M> MeanAndTotal<'_, M> {
    fn natural(v: &[f64]) -> Vec<f64> {
        let (odds, total) = (v[2], v[3]);
        let mean = odds / (1.0 + odds);
        vec![v[0], v[1], total * mean, total * (1.0 - mean)]
    }
}

impl<M: Likelihood> Likelihood for MeanAndTotal<'_, M> {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["r", "alpha", "dropout_odds", "a_plus_b"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let (ll, g) = self.model.log_likelihood_with_gradient(&Self::natural(params));
        let (odds, total) = (params[2], params[3]);
        let mean = odds / (1.0 + odds);
        let d_mean_d_odds = 1.0 / ((1.0 + odds) * (1.0 + odds));
        let d_odds = total * (g[2] - g[3]) * d_mean_d_odds;
        let d_total = mean * g[2] + (1.0 - mean) * g[3];
        (ll, vec![g[0], g[1], d_odds, d_total])
    }

    fn n_customers(&self) -> f64 {
        self.model.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        self.starts
            .iter()
            .map(|s| {
                let (a, b) = (s[2], s[3]);
                vec![s[0], s[1], a / b, a + b]
            })
            .collect()
    }
}

/// The result of a Pareto/NBD fit: an interior maximum, or the homogeneous-dropout limit.
#[derive(Debug)]
pub enum ParetoFit {
    Interior(MleFit),
    Limit(ModelFit<ParetoDropoutLimit>),
}

/// Fits Pareto/NBD: the interior maximum when there is one, else the homogeneous-dropout limit
/// (s, β → ∞ with s/β = μ) when it is a maximum (the checks of the module notes; the full model
/// is evaluated at 1/s = 0.1 and 0.01, since nearer the limit its 2F1 costs seconds).
pub fn fit_pareto(data: BgNbdData, label: &'static str, penalizer: f64) -> Result<ParetoFit> {
    let full = ParetoNbdData(data);
    let interior = maximize(&full, label, penalizer);
    // A fit that runs into `MAX_SHAPE` does not converge, so an interior estimate heading for a
    // limit shows as an error or as its warnings.
    let heading_for_limit = match &interior {
        Ok(fit) => !fit.warnings.is_empty(),
        Err(_) => true,
    };
    if !heading_for_limit || penalizer > 0.0 {
        return interior.map(ParetoFit::Interior);
    }
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * full.n_customers();
    let face = ParetoLimitData(&full.0);
    let limit = maximize(&face, label, 0.0).and_then(|fit| {
        let model = ParetoDropoutLimit::from_slice(&fit.params);
        let ll = fit.log_likelihood;
        for h in [1e-1, 1.0 / MAX_SHAPE] {
            let inside = ParetoNbdParams {
                r: model.r,
                alpha: model.alpha,
                s: 1.0 / h,
                beta: 1.0 / (h * model.mu),
            };
            // The likelihood alone: the gradient would cost eight more evaluations of the 2F1.
            let inside_ll = full.0.weighted_sum(|x, tx, t| (inside.log_likelihood(x, tx, t), [0.0; 0])).0;
            if inside_ll > ll + tolerance {
                return Err(ClvError::NotConverged {
                    model: label,
                    reason: format!(
                        "homogeneous dropout is not a maximum (log-likelihood {ll:.4}; at s = {:.0} it is {inside_ll:.4})",
                        1.0 / h
                    ),
                });
            }
        }
        Ok((ll, fit, model))
    });
    let limit_ll = limit.as_ref().map(|l| l.0).unwrap_or(f64::NEG_INFINITY);
    match (interior, limit) {
        (Ok(fit), _) if fit.log_likelihood > limit_ll + tolerance => Ok(ParetoFit::Interior(fit)),
        (_, Ok((_, fit, model))) => {
            let standard_errors = fit.standard_errors.as_deref().map(ParetoDropoutLimit::from_slice);
            let mut stored = ModelFit::from_mle(fit, |_| model);
            stored.standard_errors = standard_errors;
            stored.limit = Some(
                "homogeneous dropout: every customer's lifetime is exponential with the same rate mu (the limit s, beta → ∞ \
                 with s/beta = mu); the data's likelihood is highest there, so this limiting model is the maximum-likelihood fit"
                    .to_string(),
            );
            Ok(ParetoFit::Limit(stored))
        }
        (Ok(fit), Err(_)) => Ok(ParetoFit::Interior(fit)),
        (Err(interior), Err(limit)) => Err(ClvError::NotConverged {
            model: label,
            reason: format!(
                "neither the model nor its homogeneous-dropout limit reached a maximum ({interior}; {limit}); \
                 a limit of homogeneous purchase rates (r → ∞) is not fitted for Pareto/NBD yet: BG/NBD fits it"
            ),
        }),
    }
}
