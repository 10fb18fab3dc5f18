//! The BG family (BG/NBD, MBG/NBD) at its boundaries: the interior fit, the three limiting models
//! of `models::bg_limits` and the two in which the dropout is split (a share drop at the first
//! chance, the rest never), and the refit next to a limit in mean-and-total coordinates.

use super::{
    brief, last_parameter_rescaled, limit_text, simplest_of_the_best, Restarted, NEAR_LIMIT,
    SAME_LIKELIHOOD_PER_CUSTOMER, STEPS_INSIDE,
};
use crate::error::{ClvError, Result};
use crate::mle::{maximize, FitOptions, MleFit};
use crate::model_file::ModelFit;
use crate::models::bg_limits::{total_log_likelihood, BgFamilyLimit, DropoutProbability, Limit, LimitData};
use crate::models::bg_nbd::{BgNbdData, Dropout};
use crate::models::histories::Histories;
use crate::models::mbg_nbd::MbgNbdData;
use crate::models::purchase_rate::PurchaseRate;
use crate::models::Likelihood;

/// The result of a BG-family fit: an interior maximum, or a limiting model.
#[derive(Debug)]
pub enum BgFamilyFit {
    Interior(MleFit),
    Limit(ModelFit<BgFamilyLimit>),
}

/// Fits BG/NBD (`Dropout::AfterRepeatPurchases`) or MBG/NBD: the interior maximum when there is one,
/// else the best limiting model that is a maximum (see the module notes).
pub fn fit_bg_family(
    data: &Histories,
    dropout: Dropout,
    label: &'static str,
    options: &FitOptions,
) -> Result<BgFamilyFit> {
    let interior = match dropout {
        Dropout::AfterRepeatPurchases => maximize(&BgNbdData(data.clone()), label, options),
        Dropout::AlsoAtFirstPurchase => maximize(&MbgNbdData(data.clone()), label, options),
    };
    let heading_for_limit = match &interior {
        Ok(fit) => near_limit(fit),
        Err(_) => true,
    };
    if !heading_for_limit || options.penalizer() > 0.0 {
        return interior.map(BgFamilyFit::Interior);
    }
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * data.n_customers();
    let mut rejected: Vec<String> = Vec::new();
    // (log-likelihood, number of parameters, fit)
    let mut candidates: Vec<(f64, usize, BgFamilyFit)> = Vec::new();
    let mut restarts: Vec<Vec<f64>> = Vec::new();
    let faces = Limit::ALL
        .map(|limit| (limit, false))
        .into_iter()
        .chain([(Limit::HomogeneousDropout, true), (Limit::Homogeneous, true)]);
    for (limit, split) in faces {
        let face = LimitData {
            data,
            limit,
            dropout,
            split,
        };
        let fit = match maximize(&face, label, &options.unpenalized()) {
            Ok(fit) => fit,
            Err(e) => {
                rejected.push(format!("{}: {}", limit_name(limit, split), brief(&e)));
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
                limit_name(limit, split)
            ));
            continue;
        }
        let k = fit.params.len();
        candidates.push((ll, k, BgFamilyFit::Limit(limit_fit(&face, fit, model))));
    }
    let interior = match interior {
        Err(_) if !restarts.is_empty() => match dropout {
            Dropout::AfterRepeatPurchases => refit_near_limit(&BgNbdData(data.clone()), restarts, label, options),
            Dropout::AlsoAtFirstPurchase => refit_near_limit(&MbgNbdData(data.clone()), restarts, label, options),
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
    !fit.warnings.is_empty() || 1.0 / (a + b + 1.0) < NEAR_LIMIT || 1.0 / r < NEAR_LIMIT || a + b < NEAR_LIMIT
}

/// A limit's name; `split`: its dropout split between at once and never.
fn limit_name(limit: Limit, split: bool) -> &'static str {
    match (limit, split) {
        (Limit::HomogeneousDropout, false) => "homogeneous dropout",
        (Limit::HomogeneousRate, _) => "homogeneous purchase rate",
        (Limit::Homogeneous, false) => "homogeneous purchase rate and dropout",
        (Limit::HomogeneousDropout, true) => "dropping out at once or never",
        (Limit::Homogeneous, true) => "homogeneous purchase rate, dropping out at once or never",
    }
}

/// What a limit means, for the terminal, the model file and the evaluation; `split`: its dropout
/// split between at once and never.
pub fn limit_description(limit: Limit, split: bool) -> String {
    let what = match (limit, split) {
        (Limit::HomogeneousDropout, true) => {
            "a share pi of customers drop out at their first chance and the rest never do (the limit a, b → 0 with \
             a/(a+b) = pi)"
        }
        (Limit::Homogeneous, true) => {
            "every customer buys at the same rate lambda while alive; a share pi drop out at their first chance and \
             the rest never do (the limits r, alpha → ∞ and a, b → 0)"
        }
        (Limit::HomogeneousDropout, false) => {
            "every customer has the same dropout probability p at each chance (the limit a, b → ∞ with a/(a+b) = p)"
        }
        (Limit::HomogeneousRate, _) => {
            "every customer buys at the same rate lambda while alive (the limit r, alpha → ∞ with r/alpha = lambda)"
        }
        (Limit::Homogeneous, false) => {
            "every customer buys at the same rate lambda and has the same dropout probability p (r, alpha, a, b → ∞)"
        }
    };
    limit_text(limit_name(limit, split), what)
}

/// Points of the full model (or of a larger limiting model) next to `model`, one per direction
/// that leaves its limit and one for all of them, at each of `STEPS_INSIDE`.
fn steps_inside(model: &BgFamilyLimit) -> Vec<BgFamilyLimit> {
    let mut points = Vec::new();
    for h in STEPS_INSIDE {
        let rate = model.rate.step_inside(h);
        let dropout = match model.dropout {
            DropoutProbability::Common { p } => {
                let total = 1.0 / h - 1.0;
                Some(DropoutProbability::Beta {
                    a: p * total,
                    b: (1.0 - p) * total,
                })
            }
            DropoutProbability::Split { pi } => Some(DropoutProbability::Beta {
                a: pi * h,
                b: (1.0 - pi) * h,
            }),
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
    let chain = face.p_per_odds(&fit.params);
    last_parameter_rescaled(&mut fit, chain);
    let standard_errors = fit.standard_errors.as_deref().map(|se| face.natural_model(se));
    let mut stored = ModelFit::from_mle(fit, |_| model);
    stored.standard_errors = standard_errors;
    stored.limit = Some(limit_description(face.limit, face.split));
    stored
}

/// The interior maximum next to a limit, where the likelihood is nearly flat along a + b and
/// L-BFGS in (ln a, ln b) stalls in the curved valley: fitted in (r, α, p̄/(1−p̄), a + b),
/// p̄ = a/(a+b), where that valley is one axis, from `starts`; then taken as the start of the
/// usual fit, which confirms the maximum and gives the covariance of (r, α, a, b).
fn refit_near_limit<M: Likelihood>(
    model: &M,
    starts: Vec<Vec<f64>>,
    label: &'static str,
    options: &FitOptions,
) -> Result<MleFit> {
    let options = &options.unpenalized();
    let reparameterised = MeanAndTotal { model, starts };
    let fit = maximize(&reparameterised, label, options)?;
    let natural = MeanAndTotal::<M>::natural(&fit.params);
    maximize(
        &Restarted {
            model,
            starts: vec![natural],
            search_tolerance: model.search_gradient_tolerance(),
        },
        label,
        options,
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
