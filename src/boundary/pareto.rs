//! Pareto/NBD at its boundaries: the interior fit, the three limiting models of
//! `models::pareto_limits` and the two in which the lifetime is split (a share leave at once, the
//! rest never), and the refit next to a limit in (r, r/α, s, s/β).

use super::{
    brief, last_parameter_rescaled, limit_text, simplest_of_the_best, Restarted, SAME_LIKELIHOOD_PER_CUSTOMER,
    STEPS_INSIDE,
};
use crate::error::Result;
use crate::mle::{maximize, FitOptions, MleFit};
use crate::model_file::ModelFit;
use crate::models::bg_limits::Limit;
use crate::models::histories::Histories;
use crate::models::lifetime::Lifetime;
use crate::models::pareto_limits::{
    total_log_likelihood as pareto_total_log_likelihood, ParetoFamilyLimit, ParetoLimitData,
};
use crate::models::pareto_nbd::ParetoNbdData;
use crate::models::purchase_rate::PurchaseRate;
use crate::models::Likelihood;

/// The result of a Pareto/NBD fit: an interior maximum, or a limiting model.
#[derive(Debug)]
pub enum ParetoFit {
    Interior(MleFit),
    Limit(ModelFit<ParetoFamilyLimit>),
}

/// Fits Pareto/NBD: the interior maximum when there is one, else the best of its limiting models
/// (one dropout rate, one purchase rate, or both; leaving at once or never, with or without one
/// purchase rate) that is a maximum, by the checks of the module notes. A fit heading for a
/// limit runs to the edge (`MAX_SHAPE`) and shows as an error or warnings.
pub fn fit_pareto(data: Histories, label: &'static str, options: &FitOptions) -> Result<ParetoFit> {
    let full = ParetoNbdData(data);
    let interior = maximize(&full, label, options);
    let heading_for_limit = match &interior {
        Ok(fit) => !fit.warnings.is_empty(),
        Err(_) => true,
    };
    if !heading_for_limit || options.penalizer() > 0.0 {
        return interior.map(ParetoFit::Interior);
    }
    let data = &full.0;
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * full.n_customers();
    let mut rejected: Vec<String> = Vec::new();
    // (log-likelihood, number of parameters, fit)
    let mut candidates: Vec<(f64, usize, ParetoFit)> = Vec::new();
    // (log-likelihood, r, α, s, β) of points of the full model better than a limit next to them.
    let mut restarts: Vec<(f64, Vec<f64>)> = Vec::new();
    let faces = Limit::ALL
        .map(|limit| (limit, false))
        .into_iter()
        .chain([(Limit::HomogeneousDropout, true), (Limit::Homogeneous, true)]);
    for (limit, split) in faces {
        let face = ParetoLimitData { data, limit, split };
        let mut fit = match maximize(&face, label, &options.unpenalized()) {
            Ok(fit) => fit,
            Err(e) => {
                rejected.push(format!("{}: {}", pareto_limit_name(limit, split), brief(&e)));
                continue;
            }
        };
        let model = face.to_model(&fit.params);
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
                pareto_limit_name(limit, split),
                describe_point(point)
            ));
            continue;
        }
        // π is stored as itself, its standard error and covariance by the delta method.
        let chain = face.pi_per_odds(&fit.params);
        last_parameter_rescaled(&mut fit, chain);
        let standard_errors = fit.standard_errors.as_deref().map(|se| face.natural_model(se));
        let k = fit.params.len();
        let mut stored = ModelFit::from_mle(fit, |_| model);
        stored.standard_errors = standard_errors;
        stored.limit = Some(pareto_limit_description(limit, split));
        candidates.push((ll, k, ParetoFit::Limit(stored)));
    }
    // A start inside is worth a search only if it beats every limit accepted: from anything lower
    // the search would climb for seconds towards at best another local maximum.
    let best_limit = candidates.iter().map(|c| c.0).fold(f64::NEG_INFINITY, f64::max);
    restarts.retain(|(inside_ll, _)| *inside_ll > best_limit + tolerance);
    let interior = match interior {
        Err(_) if !restarts.is_empty() => {
            restarts.sort_by(|a, b| b.0.total_cmp(&a.0));
            let starts = restarts.into_iter().take(2).map(|(_, start)| start).collect();
            refit_pareto_near_limit(&full, starts, label, options)
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

/// A limit's name; `split`: its lifetime split between leaving at once and never.
fn pareto_limit_name(limit: Limit, split: bool) -> &'static str {
    match (limit, split) {
        (Limit::HomogeneousDropout, false) => "homogeneous dropout",
        (Limit::HomogeneousRate, _) => "homogeneous purchase rate",
        (Limit::Homogeneous, false) => "homogeneous purchase and dropout rates",
        (Limit::HomogeneousDropout, true) => "leaving at once or never",
        (Limit::Homogeneous, true) => "homogeneous purchase rate, leaving at once or never",
    }
}

/// What a Pareto/NBD limit means, for the terminal, the model file and the evaluation; `split`:
/// its lifetime split between leaving at once and never.
pub fn pareto_limit_description(limit: Limit, split: bool) -> String {
    let what = match (limit, split) {
        (Limit::HomogeneousDropout, false) => {
            "every customer's lifetime is exponential with the same rate mu (the limit s, beta → ∞ with s/beta = mu)"
        }
        (Limit::HomogeneousRate, _) => {
            "every customer buys at the same rate lambda while alive (the limit r, alpha → ∞ with r/alpha = lambda)"
        }
        (Limit::Homogeneous, false) => {
            "every customer buys at the same rate lambda and has the same dropout rate mu (r, alpha, s, beta → ∞)"
        }
        (Limit::HomogeneousDropout, true) => {
            "a share pi of customers leave at once, with their first purchase, and the rest never do (the \
             limit s, beta → 0 with s·ln(beta) → ln(1 − pi))"
        }
        (Limit::Homogeneous, true) => {
            "every customer buys at the same rate lambda while alive, and a share pi leave at once, with \
             their first purchase, while the rest never do (r, alpha → ∞; s, beta → 0)"
        }
    };
    limit_text(pareto_limit_name(limit, split), what)
}

/// Points of the full model (or of a larger limiting model) next to `model`, one per direction
/// that leaves its limit and one for all of them, at each of `STEPS_INSIDE`.
fn pareto_steps_inside(model: &ParetoFamilyLimit) -> Vec<ParetoFamilyLimit> {
    let mut points = Vec::new();
    for h in STEPS_INSIDE {
        let rate = model.rate.step_inside(h);
        let lifetime = match model.lifetime {
            Lifetime::Exponential { mu } => Some(Lifetime::Pareto {
                s: 1.0 / h,
                beta: 1.0 / (h * mu),
            }),
            // s = h and (β·m)^s = 1 − π at m = 1: β = (1 − π)^(1/h), where it is not below the
            // smallest double.
            Lifetime::Split { pi } => Some(Lifetime::Pareto {
                s: h,
                beta: ((-pi).ln_1p() / h).exp(),
            })
            .filter(|inside| matches!(inside, Lifetime::Pareto { beta, .. } if *beta > 1e-300)),
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

/// A point inside, by its shapes: "r = 100", "s = 10", "r = s = 10", "s = 1e-2" (next to the
/// split limit, where s is small).
fn describe_point(point: &ParetoFamilyLimit) -> String {
    let shape = |v: f64| match v >= 1.0 {
        true => format!("{v:.0}"),
        false => format!("{v:e}"),
    };
    match (point.rate, point.lifetime) {
        (PurchaseRate::Gamma { r, .. }, Lifetime::Pareto { s, .. }) if r == s => format!("r = s = {}", shape(r)),
        (PurchaseRate::Gamma { r, .. }, Lifetime::Pareto { s, .. }) => format!("r = {}, s = {}", shape(r), shape(s)),
        (PurchaseRate::Gamma { r, .. }, _) => format!("r = {}", shape(r)),
        (_, Lifetime::Pareto { s, .. }) => format!("s = {}", shape(s)),
        _ => "the limit".to_string(),
    }
}

/// The interior Pareto/NBD maximum next to a limit, where the likelihood is nearly flat along r
/// (or s) with r/α (or s/β) fixed, and L-BFGS in (ln r, ln α, ln s, ln β) stalls in the curved
/// valley: fitted in (r, λ, s, μ), λ = r/α and μ = s/β the mean rates, where that valley is one
/// axis, from `starts`; then taken as the start of the usual parameterisation, which confirms the
/// maximum and gives the covariance of (r, α, s, β).
fn refit_pareto_near_limit(
    model: &ParetoNbdData,
    starts: Vec<Vec<f64>>,
    label: &'static str,
    options: &FitOptions,
) -> Result<MleFit> {
    let options = &options.unpenalized();
    let wide = WideParetoNbd(model);
    let reparameterised = ShapesAndMeanRates { model: &wide, starts };
    let fit = maximize(&reparameterised, label, options)?;
    maximize(
        &Restarted {
            model: &wide,
            starts: vec![ShapesAndMeanRates::natural(&fit.params)],
            search_tolerance: NEAR_LIMIT_SEARCH_TOLERANCE,
        },
        label,
        options,
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
        self.0.log_likelihood_with_shapes_up_to(params, NEAR_LIMIT_MAX_SHAPE)
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
