//! BG/BB at its boundaries: the full model, or its limits with one buying probability p, one
//! dropout probability θ, or both for everyone, or with a dropout split between leaving at once
//! and never (alone or with one p), checked as the other models' limits are (module notes).

use super::{brief, limit_text, simplest_of_the_best, NEAR_LIMIT, SAME_LIKELIHOOD_PER_CUSTOMER, STEPS_INSIDE};
use crate::error::{ClvError, Result};
use crate::mle::{maximize, FitOptions, MleFit};
use crate::model_file::ModelFit;
use crate::models::bg_bb::{total_log_likelihood, BgBb, BgBbData, BgBbForm, Buying};
use crate::models::histories::DiscreteHistories;
use crate::models::sbg::Retention;

const LABEL: &str = "BG/BB";

/// Fits BG/BB (Fader, Hardie & Shang 2010) to discrete-time histories: the interior maximum when
/// there is one, else the best limit that is a maximum. Data that identify no model are refused,
/// saying why.
pub fn fit_bg_bb(histories: &DiscreteHistories, options: &FitOptions) -> Result<ModelFit<BgBb>> {
    let refuse = |reason: &str| {
        Err(ClvError::Model {
            model: LABEL,
            reason: reason.into(),
        })
    };
    if histories.rows().iter().all(|r| r.n == 0) {
        return refuse("no customer had an opportunity after her first transaction: there is nothing to estimate from");
    }
    if histories.rows().iter().all(|r| r.x == 0) {
        return refuse(
            "no customer made a repeat transaction: the most likely transaction probability is 0, so there is no \
             model to forecast from",
        );
    }
    let full = BgBbData {
        histories,
        form: BgBbForm::Full,
    };
    let interior = maximize(&full, LABEL, options);
    let heading_for_limit = match &interior {
        Ok(fit) => {
            let [alpha, beta, gamma, delta] = fit.params[..] else {
                return Err(ClvError::NotConverged {
                    model: LABEL,
                    reason: "the fit returned the wrong number of parameters".into(),
                });
            };
            !fit.warnings.is_empty()
                || 1.0 / (alpha + beta + 1.0) < NEAR_LIMIT
                || 1.0 / (gamma + delta + 1.0) < NEAR_LIMIT
                || gamma + delta < NEAR_LIMIT
        }
        Err(_) => true,
    };
    let to_full = |fit: MleFit| ModelFit::from_mle(fit, |v| full.to_model(v));
    if !heading_for_limit || options.penalizer() > 0.0 {
        return interior.map(to_full);
    }
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * histories.n_customers();
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    for form in BgBbForm::LIMITS {
        let face = BgBbData { histories, form };
        let fit = match maximize(&face, LABEL, &options.unpenalized()) {
            Ok(fit) => fit,
            Err(e) => {
                rejected.push(format!("{}: {}", form_name(form), brief(&e)));
                continue;
            }
        };
        let model = face.to_model(&fit.params);
        let ll = total_log_likelihood(histories, &model).0;
        let inside_better = steps_inside(&model)
            .iter()
            .map(|point| total_log_likelihood(histories, point).0)
            .find(|&inside| inside > ll + tolerance);
        match inside_better {
            Some(inside) => rejected.push(format!(
                "{}: not a maximum (log-likelihood {ll:.4}; a point inside has {inside:.4})",
                form_name(form)
            )),
            None => candidates.push((ll, fit.params.len(), limit_fit(&face, fit, model))),
        }
    }
    let interior_error = match interior {
        Ok(fit) => {
            let ll = total_log_likelihood(histories, &full.to_model(&fit.params)).0;
            candidates.push((ll, 4, to_full(fit)));
            None
        }
        Err(e) => Some(e),
    };
    simplest_of_the_best(candidates, tolerance, LABEL, interior_error, &rejected)
}

fn form_name(form: BgBbForm) -> &'static str {
    match form {
        BgBbForm::Full => "BG/BB",
        BgBbForm::CommonBuying => "one buying probability",
        BgBbForm::CommonDropout => "one dropout probability",
        BgBbForm::Common => "one buying and one dropout probability",
        BgBbForm::SplitDropout => "leaving at once or never",
        BgBbForm::CommonBuyingSplitDropout => "one buying probability, leaving at once or never",
    }
}

/// Points of the full model (or of a larger limiting model) next to `model`: each common
/// probability made a Beta of the same mean with α + β (or γ + δ) = 1/h − 1, and a split dropout
/// one with γ + δ = h, one at a time and together, at each of `STEPS_INSIDE`.
fn steps_inside(model: &BgBb) -> Vec<BgBb> {
    let mut points = Vec::new();
    for h in STEPS_INSIDE {
        let total = 1.0 / h - 1.0;
        let buying = match model.buying {
            Buying::Common { p } => Some(Buying::Beta {
                alpha: p * total,
                beta: (1.0 - p) * total,
            }),
            Buying::Beta { .. } => None,
        };
        let dropout = match model.dropout {
            Retention::Common { theta } => Some(Retention::Beta {
                gamma: theta * total,
                delta: (1.0 - theta) * total,
            }),
            Retention::Split { pi } => Some(Retention::Beta {
                gamma: pi * h,
                delta: (1.0 - pi) * h,
            }),
            Retention::Beta { .. } => None,
        };
        if let Some(buying) = buying {
            points.push(BgBb { buying, ..*model });
        }
        if let Some(dropout) = dropout {
            points.push(BgBb { dropout, ..*model });
        }
        if let (Some(buying), Some(dropout)) = (buying, dropout) {
            points.push(BgBb { buying, dropout });
        }
    }
    points
}

/// A limit's fit as stored: its probabilities (not their odds), with their standard errors and
/// covariance by the delta method, and the limit in words.
fn limit_fit(face: &BgBbData<'_>, mut fit: MleFit, model: BgBb) -> ModelFit<BgBb> {
    let chain = face.odds_chain(&fit.params);
    if let Some(cov) = fit.covariance.as_mut() {
        for (i, row) in cov.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v *= chain[i] * chain[j];
            }
        }
    }
    if let Some(se) = fit.standard_errors.as_mut() {
        se.iter_mut().zip(&chain).for_each(|(s, c)| *s *= c);
    }
    let standard_errors = fit.standard_errors.clone();
    let mut stored = ModelFit::from_mle(fit, |_| model);
    // The errors in the model's own parameters: each in its place of `to_vec`.
    stored.standard_errors = standard_errors.map(|se| {
        let mut m = model;
        m.buying = match m.buying {
            Buying::Beta { .. } => Buying::Beta {
                alpha: se[0],
                beta: se[1],
            },
            Buying::Common { .. } => Buying::Common { p: se[0] },
        };
        let rest = &se[se.len() - model.dropout.to_vec().len()..];
        m.dropout = match m.dropout {
            Retention::Beta { .. } => Retention::Beta {
                gamma: rest[0],
                delta: rest[1],
            },
            Retention::Common { .. } => Retention::Common { theta: rest[0] },
            Retention::Split { .. } => Retention::Split { pi: rest[0] },
        };
        m
    });
    let what = match face.form {
        BgBbForm::CommonBuying => {
            "every customer alive buys at each opportunity with the same probability p (the limit alpha, beta → ∞ \
             with alpha/(alpha + beta) = p)"
        }
        BgBbForm::CommonDropout => {
            "every customer drops out before each opportunity with the same probability theta (the limit gamma, \
             delta → ∞ with gamma/(gamma + delta) = theta)"
        }
        BgBbForm::SplitDropout => {
            "a share pi of customers drop out before their first opportunity and the rest never drop out (the limit \
             gamma, delta → 0 with gamma/(gamma + delta) = pi)"
        }
        BgBbForm::CommonBuyingSplitDropout => {
            "every customer alive buys at each opportunity with the same probability p; a share pi drop out before \
             their first opportunity and the rest never drop out (the limits alpha, beta → ∞ and gamma, delta → 0)"
        }
        _ => "every customer has the same buying probability p and the same dropout probability theta",
    };
    stored.limit = Some(limit_text(form_name(face.form), what));
    stored
}
