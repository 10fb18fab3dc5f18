//! Fitting the models to a summary: the purchase model (interior or limiting, `boundary`) and
//! the spend model, into the `FittedModels` a model file stores; and the retention model of a
//! contractual summary, per cohort.

use rayon::prelude::*;

use crate::boundary::{fit_constant_retention, fit_sbg, fit_spend, identifiable};
use crate::data::compressed::CompressedSummary;
use crate::data::discrete::DiscreteSummary;
use crate::data::rfm::{RfmSlices, RfmTable};
use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::mle::FitOptions;
use crate::model_file::{FittedModels, GammaGammaFit, ModelFit, PurchaseFit, MODEL_FORMAT_VERSION};
use crate::models::bg_bb::BgBb;
use crate::models::gamma_gamma::{GammaGammaData, SpendParams};
use crate::models::histories::{DiscreteHistories, Histories, SurvivalHistories};
use crate::models::sbg::Retention;
use crate::models::Likelihood as _;
use crate::registry::{PurchaseModelKind, BG_NBD};
use crate::warnings::FitWarning;

/// Fits BG/NBD and Gamma-Gamma on `rfm`, the two fits side by side on rayon's pool.
pub fn fit_models(rfm: &RfmTable) -> Result<FittedModels> {
    fit_models_with(rfm, &FitOptions::default())
}

/// As `fit_models`, with other options (an L2 penalizer on both models' parameters, see `FitOptions`).
pub fn fit_models_with(rfm: &RfmTable, options: &FitOptions) -> Result<FittedModels> {
    fit_models_using(rfm, BG_NBD, options)
}

/// Fits the purchase model `kind` and Gamma-Gamma on `rfm`, side by side on rayon's pool.
pub fn fit_models_using(rfm: &RfmTable, kind: PurchaseModelKind, options: &FitOptions) -> Result<FittedModels> {
    fit_models_to(rfm.slices(), kind, options)
}

/// `fit_models_using` on an RFM table's columns alone (`RfmNumbers`, read without the ids).
pub fn fit_models_to(rfm: RfmSlices<'_>, kind: PurchaseModelKind, options: &FitOptions) -> Result<FittedModels> {
    side_by_side(
        rfm.time_unit,
        || fit_purchase_model_on(rfm, kind, options),
        || fit_spend_to(rfm.frequency, rfm.monetary_value, None, options),
    )
}

/// The spend model's fit, or why there is none.
pub type SpendFit = (Option<GammaGammaFit>, Option<String>);

/// Runs the purchase and the spend fit on rayon's pool at once, into the models of a model file.
fn side_by_side(
    time_unit: TimeUnit,
    purchase: impl FnOnce() -> Result<PurchaseFit> + Send,
    spend: impl FnOnce() -> Result<SpendFit> + Send,
) -> Result<FittedModels> {
    let (purchase, spend) = rayon::join(purchase, spend);
    let purchase = purchase?;
    let (gamma_gamma, gamma_gamma_skipped) = spend?;
    Ok(FittedModels {
        format_version: MODEL_FORMAT_VERSION,
        clv_version: env!("CARGO_PKG_VERSION").to_string(),
        time_unit,
        purchase,
        gamma_gamma,
        gamma_gamma_skipped,
    })
}

/// Fits the purchase model `kind` and Gamma-Gamma on a compressed summary, each row weighing as
/// many customers as it counts, side by side on rayon's pool: the estimates, standard errors and
/// log-likelihood of the full table the summary compresses.
pub fn fit_compressed(
    summary: &CompressedSummary,
    kind: PurchaseModelKind,
    options: &FitOptions,
) -> Result<FittedModels> {
    let h = &summary.histories;
    side_by_side(
        summary.time_unit,
        || {
            let histories = Histories::with_counts(&h.frequency, &h.recency, &h.t, Some(&h.customers));
            fit_purchase_model_to(&histories, summary.time_unit, kind, options)
        },
        || match &summary.spend {
            Some(s) => fit_spend_to(&s.frequency, Some(&s.monetary_value), Some(&s.customers), options),
            None => fit_spend_to(&[], None, None, options),
        },
    )
}

/// Fits one purchase model on the frequency, recency and T of `rfm`, as its registry entry says.
pub fn fit_purchase_model(rfm: &RfmTable, kind: PurchaseModelKind, options: &FitOptions) -> Result<PurchaseFit> {
    fit_purchase_model_on(rfm.slices(), kind, options)
}

fn fit_purchase_model_on(rfm: RfmSlices<'_>, kind: PurchaseModelKind, options: &FitOptions) -> Result<PurchaseFit> {
    let histories = Histories::new(rfm.frequency, rfm.recency, rfm.t);
    fit_purchase_model_to(&histories, rfm.time_unit, kind, options)
}

/// As `fit_purchase_model`, on `histories` already built (several models fitted to one table
/// share them), in `time_unit`.
pub fn fit_purchase_model_to(
    histories: &Histories,
    time_unit: TimeUnit,
    kind: PurchaseModelKind,
    options: &FitOptions,
) -> Result<PurchaseFit> {
    if histories.n_customers() == 0.0 {
        return Err(ClvError::Model {
            model: kind.label(),
            reason: "the RFM table has no customers".into(),
        });
    }
    identifiable(histories, time_unit, kind)?;
    (kind.fit)(histories, options)
}

/// Fits Gamma-Gamma on the customers with repeat purchases, or says why there is no spend model.
pub fn fit_spend_model(rfm: &RfmTable, options: &FitOptions) -> Result<SpendFit> {
    fit_spend_to(&rfm.frequency, rfm.monetary_value.as_deref(), None, options)
}

/// Fits Gamma-Gamma to repeat transactions and their mean amounts (any summary kind's), each row
/// one customer or `counts[i]`, or says why there is no spend model.
pub fn fit_spend_to(
    frequency: &[f64],
    monetary_value: Option<&[f64]>,
    counts: Option<&[f64]>,
    options: &FitOptions,
) -> Result<SpendFit> {
    let Some(monetary) = monetary_value else {
        return Ok((
            None,
            Some("there are no amounts (no monetary_value column), and CLV needs them".to_string()),
        ));
    };
    let data = GammaGammaData::with_counts(frequency, monetary, counts);
    if data.n_customers() < 1.0 {
        return Ok((
            None,
            Some(format!(
                "no customer has repeat purchases with a positive mean spend ({} with repeat purchases and spend ≤ 0)",
                data.excluded_nonpositive_spend
            )),
        ));
    }
    if let Some(reason) = data.unidentifiable() {
        return Ok((None, Some(reason)));
    }
    // A spend model that cannot be fitted leaves the purchase forecasts standing: the reason is
    // the model file's and the report's, and there is no CLV (as without amounts).
    let mut fit = match fit_spend(&data, options) {
        Ok(fit) => fit,
        Err(e @ ClvError::NotConverged { .. }) => {
            return Ok((None, Some(format!("{e}; no CLV without a spend model"))));
        }
        Err(e) => return Err(e),
    };
    let mean_spend = fit.params.mean_spend();
    let q = fit.params.q().unwrap_or(f64::INFINITY);
    if mean_spend.is_none() {
        fit.warnings.push(FitWarning::InfiniteMeanSpend { q });
    }
    if let (Some(mean), true) = (mean_spend, q < 2.0) {
        fit.warnings
            .push(FitWarning::InfiniteSpendVariance { q, mean_spend: mean });
    }
    Ok((
        Some(GammaGammaFit {
            fit,
            excluded_nonpositive_spend: data.excluded_nonpositive_spend as u64,
            mean_spend,
        }),
        None,
    ))
}

/// One cohort's retention fits: the sBG model, and the model with one churn probability for
/// everyone that ignores heterogeneity (the comparison of Fader & Hardie 2010).
#[derive(Debug, Clone)]
pub struct CohortFit {
    pub cohort: String,
    pub sbg: ModelFit<Retention>,
    pub constant: ModelFit<Retention>,
}

/// Fits every cohort of `histories`, the cohorts in parallel.
pub fn fit_retention(histories: &SurvivalHistories, options: &FitOptions) -> Result<Vec<CohortFit>> {
    histories
        .cohorts()
        .par_iter()
        .enumerate()
        .map(|(k, cohort)| {
            let k = k as u32;
            let (sbg, constant) = rayon::join(
                || fit_sbg(histories, k, options),
                || fit_constant_retention(histories, k, options),
            );
            Ok(CohortFit {
                cohort: cohort.clone(),
                sbg: sbg?,
                constant: constant?,
            })
        })
        .collect()
}

/// BG/BB (and, `with_spend`, Gamma-Gamma) refitted to the customers `rows` of `summary` (a
/// bootstrap resample: a row may repeat): the models only; a spend model that cannot be fitted
/// is `None`.
pub fn refit_discrete(
    summary: &DiscreteSummary,
    rows: &[usize],
    with_spend: bool,
    options: &FitOptions,
) -> Result<(BgBb, Option<SpendParams>)> {
    let purchase = fit_bg_bb(&summary.histories_of(rows.iter().copied())?, options)?.params;
    let spend = match (with_spend, summary.monetary_value.as_deref()) {
        (true, Some(monetary)) => {
            let frequency: Vec<f64> = rows.iter().map(|&i| f64::from(summary.frequency[i])).collect();
            let monetary: Vec<f64> = rows.iter().map(|&i| monetary[i]).collect();
            fit_spend_to(&frequency, Some(&monetary), None, options)?
                .0
                .map(|g| g.fit.params)
        }
        _ => None,
    };
    Ok((purchase, spend))
}

/// Fits the sBG model to cohort `cohort` of `histories`: the full model, or the limit at which
/// its data's likelihood is highest.
pub fn fit_cohort_sbg(histories: &SurvivalHistories, cohort: u32, options: &FitOptions) -> Result<ModelFit<Retention>> {
    fit_sbg(histories, cohort, options)
}

/// Fits BG/BB (Fader, Hardie & Shang 2010) to discrete-time histories by maximum likelihood: the
/// full model, or the limit at which its data's likelihood is highest (`boundary`).
pub fn fit_bg_bb(histories: &DiscreteHistories, options: &FitOptions) -> Result<ModelFit<BgBb>> {
    crate::boundary::fit_bg_bb(histories, options)
}
