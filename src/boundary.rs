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
use crate::models::pareto_limits::{
    total_log_likelihood as pareto_total_log_likelihood, Lifetime, ParetoFamilyLimit, ParetoLimitData,
};
use crate::models::pareto_nbd::{ParetoNbdData, ParetoNbdParams};
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
                rejected.push(format!("{}: {}", limit_name(limit), brief(&e)));
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
    simplest_of_the_best(candidates, tolerance, label, interior.err(), &rejected)
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
            search_tolerance: model.search_gradient_tolerance(),
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

/// The result of a Pareto/NBD fit: an interior maximum, or a limiting model.
#[derive(Debug)]
pub enum ParetoFit {
    Interior(MleFit),
    Limit(ModelFit<ParetoFamilyLimit>),
}

/// Fits Pareto/NBD: the interior maximum when there is one, else the best of its limiting models
/// (one dropout rate, one purchase rate, or both) that is a maximum, by the checks of the module
/// notes. A fit heading for a limit runs to the edge (`MAX_SHAPE`) and shows as an error or warnings.
pub fn fit_pareto(data: BgNbdData, label: &'static str, penalizer: f64) -> Result<ParetoFit> {
    let full = ParetoNbdData(data);
    let interior = maximize(&full, label, penalizer);
    let heading_for_limit = match &interior {
        Ok(fit) => !fit.warnings.is_empty(),
        Err(_) => true,
    };
    if !heading_for_limit || penalizer > 0.0 {
        return interior.map(ParetoFit::Interior);
    }
    let data = &full.0;
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * full.n_customers();
    let mut rejected: Vec<String> = Vec::new();
    // (log-likelihood, number of parameters, fit)
    let mut candidates: Vec<(f64, usize, ParetoFit)> = Vec::new();
    // (log-likelihood, r, α, s, β) of points of the full model better than a limit next to them.
    let mut restarts: Vec<(f64, Vec<f64>)> = Vec::new();
    for limit in Limit::ALL {
        let face = ParetoLimitData { data, limit };
        let fit = match maximize(&face, label, 0.0) {
            Ok(fit) => fit,
            Err(e) => {
                rejected.push(format!("{}: {}", pareto_limit_name(limit), brief(&e)));
                continue;
            }
        };
        let model = ParetoFamilyLimit::at_limit(limit, &fit.params);
        let ll = fit.log_likelihood;
        let better_inside: Vec<(ParetoFamilyLimit, f64)> = pareto_steps_inside(&model)
            .into_iter()
            .map(|point| (point, pareto_total_log_likelihood(data, &point)))
            .filter(|(_, inside_ll)| *inside_ll > ll + tolerance)
            .collect();
        // The maximum lies inside, near this limit: starts for the full model from there.
        restarts.extend(
            better_inside
                .iter()
                .filter(|(point, _)| point.limit().is_none())
                .map(|(point, inside_ll)| (*inside_ll, point.to_vec())),
        );
        if let Some((point, inside_ll)) = better_inside.first() {
            rejected.push(format!(
                "{}: not a maximum (log-likelihood {ll:.4}; at {} it is {inside_ll:.4})",
                pareto_limit_name(limit),
                describe_point(point)
            ));
            continue;
        }
        let standard_errors = fit
            .standard_errors
            .as_deref()
            .map(|se| ParetoFamilyLimit::at_limit(limit, se));
        let k = fit.params.len();
        let mut stored = ModelFit::from_mle(fit, |_| model);
        stored.standard_errors = standard_errors;
        stored.limit = Some(pareto_limit_description(limit));
        candidates.push((ll, k, ParetoFit::Limit(stored)));
    }
    let interior = match interior {
        Err(_) if !restarts.is_empty() => {
            restarts.sort_by(|a, b| b.0.total_cmp(&a.0));
            let starts = restarts.into_iter().take(2).map(|(_, start)| start).collect();
            refit_pareto_near_limit(&full, starts, label)
        }
        other => other,
    };
    let interior = match interior {
        Ok(fit) => {
            candidates.push((fit.log_likelihood, fit.params.len(), ParetoFit::Interior(fit)));
            None
        }
        Err(e) => Some(e),
    };
    simplest_of_the_best(candidates, tolerance, label, interior, &rejected)
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
        let interior_error = interior_error.map(|e| brief(&e)).unwrap_or_default();
        return Err(ClvError::NotConverged {
            model: label,
            reason: format!(
                "neither the model nor any of its limiting models reached a maximum ({interior_error}; {})",
                rejected.join("; ")
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

/// An error without the optimiser's trace of every start point (`fit::maximize`'s "details"),
/// which says nothing to an analyst reading why a limit was not reported.
fn brief(error: &ClvError) -> String {
    let message = error.to_string();
    message.split(" (details:").next().unwrap_or_default().to_string()
}

fn pareto_limit_name(limit: Limit) -> &'static str {
    match limit {
        Limit::HomogeneousDropout => "homogeneous dropout",
        Limit::HomogeneousRate => "homogeneous purchase rate",
        Limit::Homogeneous => "homogeneous purchase and dropout rates",
    }
}

/// What a Pareto/NBD limit means, for the terminal, the model file and the evaluation.
pub fn pareto_limit_description(limit: Limit) -> String {
    let what = match limit {
        Limit::HomogeneousDropout => {
            "every customer's lifetime is exponential with the same rate mu (the limit s, beta → ∞ with s/beta = mu)"
        }
        Limit::HomogeneousRate => {
            "every customer buys at the same rate lambda while alive (the limit r, alpha → ∞ with r/alpha = lambda)"
        }
        Limit::Homogeneous => {
            "every customer buys at the same rate lambda and has the same dropout rate mu (r, alpha, s, beta → ∞)"
        }
    };
    format!(
        "{}: {what}; the data's likelihood is highest there, so this limiting model is the maximum-likelihood fit",
        pareto_limit_name(limit)
    )
}

/// Points of the full model (or of a larger limiting model) next to `model`, one per direction
/// that leaves its limit and one for all of them, at each of `STEPS_INSIDE`.
fn pareto_steps_inside(model: &ParetoFamilyLimit) -> Vec<ParetoFamilyLimit> {
    let mut points = Vec::new();
    for h in STEPS_INSIDE {
        let rate = match model.rate {
            PurchaseRate::Common { lambda } => Some(PurchaseRate::Gamma {
                r: 1.0 / h,
                alpha: 1.0 / (h * lambda),
            }),
            PurchaseRate::Gamma { .. } => None,
        };
        let lifetime = match model.lifetime {
            Lifetime::Exponential { mu } => Some(Lifetime::Pareto {
                s: 1.0 / h,
                beta: 1.0 / (h * mu),
            }),
            Lifetime::Pareto { .. } => None,
        };
        if let Some(rate) = rate {
            points.push(ParetoFamilyLimit { rate, ..*model });
        }
        if let Some(lifetime) = lifetime {
            points.push(ParetoFamilyLimit { lifetime, ..*model });
        }
        if let (Some(rate), Some(lifetime)) = (rate, lifetime) {
            points.push(ParetoFamilyLimit { rate, lifetime });
        }
    }
    points
}

/// A point inside, by its shapes: "r = 100", "s = 10", "r = s = 10".
fn describe_point(point: &ParetoFamilyLimit) -> String {
    match (point.rate, point.lifetime) {
        (PurchaseRate::Gamma { r, .. }, Lifetime::Pareto { s, .. }) if r == s => format!("r = s = {r:.0}"),
        (PurchaseRate::Gamma { r, .. }, Lifetime::Pareto { s, .. }) => format!("r = {r:.0}, s = {s:.0}"),
        (PurchaseRate::Gamma { r, .. }, _) => format!("r = {r:.0}"),
        (_, Lifetime::Pareto { s, .. }) => format!("s = {s:.0}"),
        _ => "the limit".to_string(),
    }
}

/// The interior Pareto/NBD maximum next to a limit, where the likelihood is nearly flat along r
/// (or s) with r/α (or s/β) fixed, and L-BFGS in (ln r, ln α, ln s, ln β) stalls in the curved
/// valley: fitted in (r, λ, s, μ), λ = r/α and μ = s/β the mean rates, where that valley is one
/// axis, from `starts`; then taken as the start of the usual parameterisation, which confirms the
/// maximum and gives the covariance of (r, α, s, β).
fn refit_pareto_near_limit(model: &ParetoNbdData, starts: Vec<Vec<f64>>, label: &'static str) -> Result<MleFit> {
    let wide = WideParetoNbd(model);
    let reparameterised = ShapesAndMeanRates { model: &wide, starts };
    let fit = maximize(&reparameterised, label, 0.0)?;
    maximize(
        &Restarted {
            model: &wide,
            starts: vec![ShapesAndMeanRates::natural(&fit.params)],
            search_tolerance: NEAR_LIMIT_SEARCH_TOLERANCE,
        },
        label,
        0.0,
    )
}

/// The search tolerance of the fits next to a Pareto/NBD limit: there the likelihood is taken by
/// quadrature (good to ~1e-13 relative), and along the flat valley a search asked for mean
/// gradients of 1e-10 breaks down in rounding before it gets there; Newton steps finish.
const NEAR_LIMIT_SEARCH_TOLERANCE: f64 = 1e-8;

/// Largest r and s the search next to a Pareto/NBD limit explores: where the likelihood is in
/// its integral form, which stays accurate and fast for any shape.
const NEAR_LIMIT_MAX_SHAPE: f64 = 1e6;

/// Pareto/NBD's likelihood in (r, α, s, β) with shapes up to `NEAR_LIMIT_MAX_SHAPE`, not
/// `ParetoNbdData`'s `MAX_SHAPE`: the search next to a limit starts beyond that.
struct WideParetoNbd<'a>(&'a ParetoNbdData);

impl Likelihood for WideParetoNbd<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        self.0.parameter_names()
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let model = ParetoNbdParams::from_slice(params);
        if model.r > NEAR_LIMIT_MAX_SHAPE || model.s > NEAR_LIMIT_MAX_SHAPE {
            return (f64::NEG_INFINITY, vec![f64::NAN; 4]);
        }
        self.0
             .0
            .weighted_sum(|x, tx, t| model.log_likelihood_with_gradient(x, tx, t))
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        self.0.start_points()
    }
}

/// Pareto/NBD's likelihood over (r, λ, s, μ) with α = r/λ, β = s/μ.
struct ShapesAndMeanRates<'a> {
    model: &'a WideParetoNbd<'a>,
    starts: Vec<Vec<f64>>,
}

impl ShapesAndMeanRates<'_> {
    fn natural(v: &[f64]) -> Vec<f64> {
        vec![v[0], v[0] / v[1], v[2], v[2] / v[3]]
    }
}

impl Likelihood for ShapesAndMeanRates<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["r", "lambda", "s", "mu"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let (ll, g) = self.model.log_likelihood_with_gradient(&Self::natural(params));
        let [r, lambda, s, mu] = [params[0], params[1], params[2], params[3]];
        // α = r/λ: ∂/∂r = ∂/∂r + (1/λ) ∂/∂α, ∂/∂λ = −(r/λ²) ∂/∂α; likewise for s, μ and β.
        let gradient = vec![
            g[0] + g[1] / lambda,
            -g[1] * r / (lambda * lambda),
            g[2] + g[3] / mu,
            -g[3] * s / (mu * mu),
        ];
        (ll, gradient)
    }

    fn n_customers(&self) -> f64 {
        self.model.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        self.starts
            .iter()
            .map(|v| vec![v[0], v[0] / v[1], v[2], v[2] / v[3]])
            .collect()
    }

    fn search_gradient_tolerance(&self) -> f64 {
        NEAR_LIMIT_SEARCH_TOLERANCE
    }
}
