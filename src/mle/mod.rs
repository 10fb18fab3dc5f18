//! The maximum-likelihood driver shared by all models.
//!
//! argmin's L-BFGS (More–Thuente line search) minimises the *mean* negative log-likelihood over
//! θ = ln(parameters), so every parameter stays positive and the first step stays small. The
//! optimum is then polished by Newton steps on a Hessian (`curvature`: the model's closed form
//! where it has one, else central differences of the analytic gradient), and that Hessian gives
//! the observed-information covariance.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::error::{ClvError, Result};
use crate::models::Likelihood;
use crate::warnings::FitWarning;

mod curvature;

pub use curvature::spd_inverse;
pub(crate) use curvature::{cholesky, log_space_hessian};
use curvature::{covariance_from_log_hessian, log_space, solve_negative_definite};

/// L-BFGS memory.
const LBFGS_MEMORY: usize = 7;
const MAX_ITERATIONS: u64 = 1000;
/// The gradient (mean, per customer, in θ) at which the search on a warm-start sample stops. The
/// sample's maximum lies a few per cent from the full data's in θ (its standard errors are up to
/// √20 times theirs), so finding it more closely than that buys nothing: at a curvature between
/// 0.01 and 1 per customer this stops within 1e-4 of it, and the Newton steps on all customers
/// (`finish`, to `GRADIENT_TOLERANCE`) cover the rest. Searched to the full fit's 1e-10 instead,
/// the samples of the 100,000-customer benchmark table (a tenth of it, as they were then) took
/// 113 (Gamma-Gamma) and 97 (BG/NBD) likelihood evaluations where this took 32 and 38, for
/// estimates equal to 1e-8.
const SAMPLE_GRADIENT_TOLERANCE: f64 = 1e-6;
/// Largest |∂ mean log-likelihood / ∂θ_i| accepted as a stationary point.
const GRADIENT_TOLERANCE: f64 = 1e-7;
/// Largest expected gain of a Newton step, ½ gᵀ(−H)⁻¹g per customer, accepted as a stationary
/// point where the gradient test cannot be met. A likelihood pinned far more tightly in one
/// direction than in another (a spend model near its limit, p ~ 10⁷, whose mean the data fix to
/// 10⁻⁵) moves its gradient by more than `GRADIENT_TOLERANCE` between neighbouring floating-point
/// values of θ; that test is then out of reach while the optimum is found to within rounding.
/// At a curvature of one per customer this is a distance of 1.4e-7 in θ.
const NEWTON_DECREMENT_TOLERANCE: f64 = 1e-14;
/// |θ| beyond this (a parameter below 1e-10 or above 2e10) is a fit running to a boundary.
const BOUNDARY_LOG: f64 = 23.0;
/// A standard error above this multiple of the estimate marks a parameter the data do not identify.
const MAX_RELATIVE_SE: f64 = 5.0;
/// How far (in θ, summed over polish steps) the optimum may lie from where the Hessian was taken
/// before it is taken again for the covariance: 1e-6 changes standard errors in the 6th digit.
const HESSIAN_REUSE: f64 = 1e-6;

/// Everything a maximum-likelihood fit reports, with parameters in the model's natural scale.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MleFit {
    pub parameter_names: Vec<String>,
    pub params: Vec<f64>,
    /// Standard errors from the observed information; `None` when it is not positive definite.
    pub standard_errors: Option<Vec<f64>>,
    /// Covariance of the natural parameters (inverse observed information, delta method from θ).
    pub covariance: Option<Vec<Vec<f64>>>,
    /// Total log-likelihood on the papers' scale (a sum over customers, not a mean).
    pub log_likelihood: f64,
    pub aic: f64,
    pub bic: f64,
    pub n_customers: f64,
    /// The L2 penalty λ the fit used (0: plain maximum likelihood).
    pub penalizer: f64,
    /// L-BFGS iterations plus Newton polishing steps.
    pub iterations: u64,
    pub warnings: Vec<FitWarning>,
}

/// The objective actually maximised: the log-likelihood minus an optional penalty
/// n · λ · Σ ln²(p_i / c_i), c_i the model's `penalty_centres` (1 for shapes, the data's time or
/// money scale for parameters in those units). On log-parameters and centred in the data's units,
/// it pulls the same however time and money are measured — unlike `lifetimes`' λ · Σ p², whose
/// pull depends on whether α is in days or weeks and v in cents or dollars — and it keeps fits
/// on small data away from the boundary.
struct Penalized<'a, M> {
    model: &'a M,
    penalizer: f64,
    centres: Vec<f64>,
}

impl<'a, M: Likelihood> Penalized<'a, M> {
    fn new(model: &'a M, penalizer: f64) -> Self {
        Self {
            model,
            penalizer,
            centres: model.penalty_centres(),
        }
    }
}

impl<M: Likelihood> Likelihood for Penalized<'_, M> {
    fn parameter_names(&self) -> &'static [&'static str] {
        self.model.parameter_names()
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let (ll, mut grad) = self.model.log_likelihood_with_gradient(params);
        if self.penalizer == 0.0 {
            return (ll, grad);
        }
        let weight = self.penalizer * self.model.n_customers();
        let mut penalty = 0.0;
        for ((g, p), c) in grad.iter_mut().zip(params).zip(&self.centres) {
            let distance = (p / c).ln();
            penalty += distance * distance;
            *g -= 2.0 * weight * distance / p;
        }
        (ll - weight * penalty, grad)
    }

    /// The model's, with the penalty's: −w ln²(p/c) has first derivative −2w ln(p/c)/p and
    /// second 2w (ln(p/c) − 1)/p².
    fn gradient_and_hessian(&self, params: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
        let (mut grad, mut hessian) = self.model.gradient_and_hessian(params)?;
        let weight = self.penalizer * self.model.n_customers();
        if self.penalizer != 0.0 {
            for (i, (p, c)) in params.iter().zip(&self.centres).enumerate() {
                let distance = (p / c).ln();
                grad[i] -= 2.0 * weight * distance / p;
                hessian[i][i] += 2.0 * weight * (distance - 1.0) / (p * p);
            }
        }
        Some((grad, hessian))
    }

    fn n_customers(&self) -> f64 {
        self.model.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        self.model.start_points()
    }

    fn search_gradient_tolerance(&self) -> f64 {
        self.model.search_gradient_tolerance()
    }
}

impl<M: Likelihood> Penalized<'_, M> {
    fn data_log_likelihood(&self, params: &[f64]) -> f64 {
        self.model.log_likelihood_with_gradient(params).0
    }
}

/// How to fit, checked as it is built: `FitOptions::default().with_penalizer(λ)?`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    penalizer: f64,
    max_iterations: u64,
}

impl Default for FitOptions {
    /// Plain maximum likelihood, up to 1,000 L-BFGS iterations from each start point.
    fn default() -> Self {
        Self {
            penalizer: 0.0,
            max_iterations: MAX_ITERATIONS,
        }
    }
}

impl FitOptions {
    /// The L2 penalty λ ≥ 0 on the log-parameters (see `Penalized`); 0 is plain maximum likelihood.
    pub fn with_penalizer(self, penalizer: f64) -> Result<Self> {
        if !(penalizer.is_finite() && penalizer >= 0.0) {
            return Err(ClvError::InvalidArgument(format!(
                "the penalizer must be ≥ 0, not {penalizer}"
            )));
        }
        Ok(Self { penalizer, ..self })
    }

    /// The most L-BFGS iterations from one start point, ≥ 1.
    pub fn with_max_iterations(self, max_iterations: u64) -> Result<Self> {
        if max_iterations == 0 {
            return Err(ClvError::InvalidArgument("the fit needs at least one iteration".into()));
        }
        Ok(Self { max_iterations, ..self })
    }

    pub fn penalizer(&self) -> f64 {
        self.penalizer
    }

    pub fn max_iterations(&self) -> u64 {
        self.max_iterations
    }

    /// The same options without the penalty: a limiting model is compared with the data's own
    /// likelihood, so it is fitted unpenalised.
    pub fn unpenalized(&self) -> Self {
        Self {
            penalizer: 0.0,
            ..*self
        }
    }
}

/// Fits `model` by maximum likelihood (penalised by the options' penalizer, see `Penalized`),
/// trying each of its start points until one converges.
pub fn maximize<M: Likelihood>(model: &M, model_name: &'static str, options: &FitOptions) -> Result<MleFit> {
    let (penalizer, max_iterations) = (options.penalizer, options.max_iterations);
    let objective = Penalized::new(model, penalizer);
    let model = &objective;
    let n = model.n_customers();
    if n < 1.0 {
        return Err(ClvError::Model {
            model: model_name,
            reason: "no customers to fit".into(),
        });
    }
    let mut failures = Vec::new();
    // Many customers: fit a systematic sample first, then take Newton steps on all customers from
    // its maximum with its Hessian (each step one evaluation), instead of the whole L-BFGS run on
    // all of them. The same convergence check applies; if it fails, the full fit below runs.
    if let Some(sample) = objective.model.warm_start_sample() {
        let sample = Penalized {
            model: &sample,
            penalizer,
            centres: objective.centres.clone(),
        };
        if let Some((theta, iters)) = sample.start_points().iter().find_map(|s| {
            run_lbfgs(
                &sample,
                s,
                max_iterations,
                SAMPLE_GRADIENT_TOLERANCE.max(sample.search_gradient_tolerance()),
            )
            .ok()
        }) {
            let hessian = log_space_hessian(&sample, &theta);
            match finish(model, model_name, theta, iters, Some(hessian)) {
                Ok(fit) => return Ok(fit),
                Err(e) => failures.push(format!("from a sample's maximum: {e}")),
            }
        }
    }
    for start in model.start_points() {
        // Later start points are retries, used only when the earlier ones fail.
        match run_lbfgs(model, &start, max_iterations, model.search_gradient_tolerance()).and_then(|(theta, iters)| {
            finish(model, model_name, theta, iters, None).map_err(|e| format!("start {start:?}: {e}"))
        }) {
            Ok(fit) => return Ok(fit),
            Err(reason) => failures.push(reason),
        }
    }
    Err(ClvError::NotConverged {
        model: model_name,
        reason: format!(
            "no start point converged for {} customers (details: {})",
            model.n_customers(),
            failures.join("; ")
        ),
    })
}

/// Newton polish, convergence check, covariance and information criteria. `sample_hessian`:
/// the Hessian of a warm-start sample at `theta`, used for the Newton steps.
fn finish<M: Likelihood>(
    model: &Penalized<'_, M>,
    model_name: &'static str,
    mut theta: Vec<f64>,
    mut iterations: u64,
    sample_hessian: Option<Vec<Vec<f64>>>,
) -> Result<MleFit> {
    let n = model.n_customers();
    let k = theta.len();
    let (mut ll, mut grad) = log_space(model, &theta);
    // Newton steps on one Hessian, taken where L-BFGS stopped: near the optimum the Hessian
    // changes little, and each step then costs one gradient instead of 2k more. It is taken
    // again at the end when the polish moved θ by more than `HESSIAN_REUSE`, or came from a
    // sample (the covariance is the full data's).
    let from_sample = sample_hessian.is_some();
    let mut hessian = match sample_hessian {
        Some(h) => h,
        None => log_space_hessian(model, &theta),
    };
    let mut moved = 0.0f64;
    for _ in 0..8 {
        let Some(step) = solve_negative_definite(&hessian, &grad) else {
            break;
        };
        let candidate: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t - s).collect();
        let (ll_new, grad_new) = log_space(model, &candidate);
        if !(ll_new.is_finite() && ll_new >= ll - 1e-12 * ll.abs()) {
            break;
        }
        let step_size = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        theta = candidate;
        ll = ll_new;
        grad = grad_new;
        moved += step_size;
        iterations += 1;
        if step_size < 1e-12 || grad.iter().all(|g| (g / n).abs() <= 0.01 * GRADIENT_TOLERANCE) {
            break;
        }
    }
    if from_sample || moved > HESSIAN_REUSE {
        hessian = log_space_hessian(model, &theta);
    }
    let max_grad = grad.iter().fold(0.0f64, |m, g| m.max((g / n).abs()));
    let newton_gain = || {
        let step = solve_negative_definite(&hessian, &grad)?;
        Some(-0.5 * grad.iter().zip(&step).map(|(g, s)| g * s).sum::<f64>() / n)
    };
    let stationary =
        max_grad <= GRADIENT_TOLERANCE || newton_gain().is_some_and(|gain| gain <= NEWTON_DECREMENT_TOLERANCE);
    if !(ll.is_finite() && stationary) {
        return Err(ClvError::NotConverged {
            model: model_name,
            reason: format!(
                "the gradient at the last point is {max_grad:.3e} per customer (tolerance {GRADIENT_TOLERANCE:e})"
            ),
        });
    }
    let params: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    // The reported log-likelihood (and AIC, BIC) is the data's, without any penalty: the last
    // evaluation's, at these very parameters, when there is none.
    let ll = if model.penalizer == 0.0 {
        ll
    } else {
        model.data_log_likelihood(&params)
    };
    let mut warnings = Vec::new();
    for (name, t) in model.parameter_names().iter().zip(&theta) {
        if t.abs() > BOUNDARY_LOG {
            warnings.push(FitWarning::AtTheEdge {
                parameter: name.to_string(),
                value: t.exp(),
            });
        }
    }
    let (standard_errors, covariance) = match covariance_from_log_hessian(&hessian, &params) {
        Some(cov) => {
            let se: Vec<f64> = (0..k).map(|i| cov[i][i].sqrt()).collect();
            for ((name, s), p) in model.parameter_names().iter().zip(&se).zip(&params) {
                // A relative standard error above 5 puts e^±10 in the 95% interval of ln p.
                if s / p > MAX_RELATIVE_SE {
                    warnings.push(FitWarning::NotIdentified {
                        parameter: name.to_string(),
                        value: *p,
                        relative_error: s / p,
                    });
                }
            }
            (Some(se), Some(cov))
        }
        None => {
            warnings.push(FitWarning::NoStandardErrors);
            (None, None)
        }
    };
    Ok(MleFit {
        parameter_names: model.parameter_names().iter().map(|s| s.to_string()).collect(),
        params,
        standard_errors,
        covariance,
        log_likelihood: ll,
        aic: 2.0 * k as f64 - 2.0 * ll,
        bic: k as f64 * n.ln() - 2.0 * ll,
        n_customers: n,
        penalizer: model.penalizer,
        iterations,
        warnings,
    })
}

/// (θ, mean negative log-likelihood, its gradient) at one point.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The argmin problem: mean negative log-likelihood over θ = ln(params).
struct MeanNegLogLikelihood<'a, M> {
    model: &'a M,
    n: f64,
    /// The last (θ, cost, gradient): argmin asks for cost and gradient at the same point
    /// separately, and each needs the full pass over the data.
    last: Mutex<Option<Evaluation>>,
}

impl<M: Likelihood> MeanNegLogLikelihood<'_, M> {
    fn evaluate(&self, theta: &Array1<f64>) -> (f64, Vec<f64>) {
        let theta = theta.to_vec();
        if let Ok(guard) = self.last.lock() {
            if let Some((t, c, g)) = guard.as_ref() {
                if *t == theta {
                    return (*c, g.clone());
                }
            }
        }
        let (ll, grad) = if theta.iter().all(|t| t.abs() < 50.0) {
            log_space(self.model, &theta)
        } else {
            (f64::NEG_INFINITY, vec![f64::NAN; theta.len()])
        };
        // A non-finite cost is +∞, never NaN: the line search then backs off instead of looping.
        let cost = if ll.is_finite() { -ll / self.n } else { f64::INFINITY };
        let grad: Vec<f64> = grad.iter().map(|g| -g / self.n).collect();
        if let Ok(mut guard) = self.last.lock() {
            *guard = Some((theta, cost, grad.clone()));
        }
        (cost, grad)
    }
}

impl<M: Likelihood> CostFunction for MeanNegLogLikelihood<'_, M> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(theta).0)
    }
}

impl<M: Likelihood> Gradient for MeanNegLogLikelihood<'_, M> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, theta: &Self::Param) -> std::result::Result<Self::Gradient, argmin::core::Error> {
        let (_, grad) = self.evaluate(theta);
        if grad.iter().all(|g| g.is_finite()) {
            Ok(Array1::from(grad))
        } else {
            Err(argmin::core::Error::msg("non-finite gradient"))
        }
    }
}

/// One L-BFGS run from `start` (natural parameters) until the mean gradient is below
/// `gradient_tolerance`; returns θ and the iteration count, or why it failed.
fn run_lbfgs<M: Likelihood>(
    model: &M,
    start: &[f64],
    max_iterations: u64,
    gradient_tolerance: f64,
) -> std::result::Result<(Vec<f64>, u64), String> {
    let problem = MeanNegLogLikelihood {
        model,
        n: model.n_customers(),
        last: Mutex::new(None),
    };
    let init = Array1::from(start.iter().map(|p| p.ln()).collect::<Vec<_>>());
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), LBFGS_MEMORY)
        .with_tolerance_grad(gradient_tolerance)
        .and_then(|s| s.with_tolerance_cost(1e-15))
        .map_err(|e| e.to_string())?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(init).max_iters(max_iterations))
        .run()
        .map_err(|e| format!("start {start:?}: {e}"))?;
    let state = result.state();
    // A line search that breaks down can end with SolverExit and a wrong point: only
    // SolverConverged counts (shared/DEPS.md, argmin pitfall 2).
    match state.get_termination_status() {
        TerminationStatus::Terminated(TerminationReason::SolverConverged) => {}
        other => return Err(format!("start {start:?}: {other:?}")),
    }
    let theta = state
        .get_best_param()
        .ok_or_else(|| format!("start {start:?}: no parameters"))?
        .to_vec();
    let cost = state.get_best_cost();
    if !cost.is_finite() {
        return Err(format!("start {start:?}: non-finite likelihood"));
    }
    Ok((theta, state.get_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_options_are_checked_as_they_are_built() {
        let options = FitOptions::default().with_penalizer(0.01).unwrap();
        assert_eq!((options.penalizer(), options.max_iterations()), (0.01, MAX_ITERATIONS));
        assert_eq!(options.unpenalized().penalizer(), 0.0);
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            let error = FitOptions::default().with_penalizer(bad).unwrap_err().to_string();
            assert!(error.contains("the penalizer must be ≥ 0"), "{error}");
        }
        assert!(FitOptions::default().with_max_iterations(0).is_err());
        assert_eq!(
            FitOptions::default().with_max_iterations(5).unwrap().max_iterations(),
            5
        );
    }
}
