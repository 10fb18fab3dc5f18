//! Fitting both models on an RFM table, and the JSON model file `clv fit` writes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::fit::{maximize, MleFit};
use crate::models::bg_nbd::{BgNbdData, BgNbdParams};
use crate::models::gamma_gamma::{GammaGammaData, GammaGammaParams};
use crate::models::Likelihood as _;

/// Version of the model-file layout; bumped when a field changes meaning.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// One fitted model as stored: parameters by name, their standard errors and covariance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFit<P> {
    pub params: P,
    /// Standard errors from the observed information at the optimum (absent if it is singular).
    pub standard_errors: Option<P>,
    /// Covariance matrix of the parameters, rows and columns in `parameter_order`.
    pub covariance: Option<Vec<Vec<f64>>>,
    pub parameter_order: Vec<String>,
    /// Total log-likelihood, on the papers' scale.
    pub log_likelihood: f64,
    pub aic: f64,
    pub bic: f64,
    pub n_customers: u64,
    /// L2 penalty of the fit (0 = plain maximum likelihood).
    #[serde(default)]
    pub penalizer: f64,
    pub iterations: u64,
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl<P> ModelFit<P> {
    fn from_mle(fit: MleFit, to_params: impl Fn(&[f64]) -> P) -> Self {
        Self {
            params: to_params(&fit.params),
            standard_errors: fit.standard_errors.as_deref().map(&to_params),
            covariance: fit.covariance,
            parameter_order: fit.parameter_names,
            log_likelihood: fit.log_likelihood,
            aic: fit.aic,
            bic: fit.bic,
            n_customers: fit.n_customers.round() as u64,
            penalizer: fit.penalizer,
            iterations: fit.iterations,
            warnings: fit.warnings,
        }
    }
}

/// The Gamma-Gamma fit with what the spend model needs reported beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GammaGammaFit {
    #[serde(flatten)]
    pub fit: ModelFit<GammaGammaParams>,
    /// Customers with repeat purchases whose mean repeat spend is not positive, left out of the fit.
    pub excluded_nonpositive_spend: u64,
    /// Population mean spend per transaction p·v/(q−1); absent when q ≤ 1 (infinite mean),
    /// in which case no spend or CLV forecasts are made from this fit.
    pub mean_spend: Option<f64>,
}

/// The contents of a model file: both fits and the time unit of the data they were fitted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FittedModels {
    pub format_version: u32,
    pub clv_version: String,
    /// Unit of recency, T and α; predictions must use data in the same unit.
    pub time_unit: TimeUnit,
    pub bg_nbd: ModelFit<BgNbdParams>,
    pub gamma_gamma: Option<GammaGammaFit>,
    /// Why there is no spend model, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma_gamma_skipped: Option<String>,
}

/// Fits BG/NBD and Gamma-Gamma on `rfm`, the two fits side by side on rayon's pool.
pub fn fit_models(rfm: &RfmTable) -> Result<FittedModels> {
    fit_models_with(rfm, 0.0)
}

/// As `fit_models`, with an L2 penalizer λ ≥ 0 on both models' parameters (see `fit::maximize`).
pub fn fit_models_with(rfm: &RfmTable, penalizer: f64) -> Result<FittedModels> {
    if rfm.is_empty() {
        return Err(ClvError::Model {
            model: "BG/NBD",
            reason: "the RFM table has no customers".into(),
        });
    }
    let purchase_data = BgNbdData::new(&rfm.frequency, &rfm.recency, &rfm.t);
    let spend_data = rfm
        .monetary_value
        .as_ref()
        .map(|m| GammaGammaData::new(&rfm.frequency, m));
    let (bg_nbd, gamma_gamma) = rayon::join(
        || maximize(&purchase_data, "BG/NBD", penalizer),
        || match &spend_data {
            None => Ok(Err("the RFM table has no monetary_value column".to_string())),
            Some(data) if data.n_customers() < 1.0 => Ok(Err(format!(
                "no customer has repeat purchases with a positive mean spend ({} with repeat purchases and spend ≤ 0)",
                data.excluded_nonpositive_spend
            ))),
            Some(data) => {
                maximize(data, "Gamma-Gamma", penalizer).map(|fit| Ok((fit, data.excluded_nonpositive_spend)))
            }
        },
    );
    let bg_nbd = ModelFit::from_mle(bg_nbd?, BgNbdParams::from_slice);
    let (gamma_gamma, gamma_gamma_skipped) = match gamma_gamma? {
        Ok((fit, excluded)) => {
            let fit = ModelFit::from_mle(fit, GammaGammaParams::from_slice);
            let mean_spend = fit.params.mean_spend();
            (
                Some(GammaGammaFit {
                    fit,
                    excluded_nonpositive_spend: excluded as u64,
                    mean_spend,
                }),
                None,
            )
        }
        Err(reason) => (None, Some(reason)),
    };
    Ok(FittedModels {
        format_version: MODEL_FORMAT_VERSION,
        clv_version: env!("CARGO_PKG_VERSION").to_string(),
        time_unit: rfm.time_unit,
        bg_nbd,
        gamma_gamma,
        gamma_gamma_skipped,
    })
}

impl FittedModels {
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| ClvError::InvalidArgument(format!("serializing the model: {e}")))
    }

    /// Reads a model file, refusing one that is corrupt or of another format version.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ClvError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |message: String| ClvError::BadFile {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a clv model file (invalid JSON: {e})")))?;
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == MODEL_FORMAT_VERSION as u64 => {}
            Some(v) => {
                return Err(bad(format!(
                    "model format version {v}, but this clv reads version {MODEL_FORMAT_VERSION}: refit with `clv fit`"
                )))
            }
            None => return Err(bad("not a clv model file (no format_version)".into())),
        }
        serde_json::from_value(value).map_err(|e| bad(format!("not a valid clv model file: {e}")))
    }

    /// The spend model, if there is one with a finite mean (q > 1).
    pub fn usable_spend_model(&self) -> Option<GammaGammaParams> {
        self.gamma_gamma
            .as_ref()
            .map(|g| g.fit.params)
            .filter(|p| p.mean_spend().is_some())
    }
}
