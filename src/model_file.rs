//! The JSON model file `clv fit` writes and `predict` reads: the fitted models, their format and checks.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::mle::MleFit;
use crate::models::bg_limits::BgFamilyLimit;
use crate::models::bg_nbd::BgNbdParams;
use crate::models::gamma_gamma::SpendParams;
use crate::models::mbg_nbd::MbgNbdParams;
use crate::models::pareto_limits::ParetoFamilyLimit;
use crate::models::pareto_nbd::ParetoNbdParams;
use crate::models::{Parameters, PurchaseModel, PurchaseModelKind};

/// Version of the model-file layout; bumped when a field changes meaning. Version 2 names the
/// purchase model by its key (`bg_nbd`, `pareto_nbd` or `mbg_nbd`); version 1 files, which
/// always hold `bg_nbd`, read as version 2.
pub const MODEL_FORMAT_VERSION: u32 = 2;
const READABLE_FORMAT_VERSIONS: [u64; 2] = [1, 2];

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
    /// For a limiting model (a fit whose maximum lies at a boundary of the parameter space):
    /// which heterogeneity went to its limit, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl<P: Parameters> ModelFit<P> {
    /// The same fit with its parameters as a vector in `parameter_order`, for reports.
    pub fn erased(&self) -> ModelFit<Vec<f64>> {
        ModelFit {
            params: self.params.to_vec(),
            standard_errors: self.standard_errors.map(P::to_vec),
            covariance: self.covariance.clone(),
            parameter_order: self.parameter_order.clone(),
            log_likelihood: self.log_likelihood,
            aic: self.aic,
            bic: self.bic,
            n_customers: self.n_customers,
            penalizer: self.penalizer,
            iterations: self.iterations,
            warnings: self.warnings.clone(),
            limit: self.limit.clone(),
        }
    }
}

impl<P> ModelFit<P> {
    pub(crate) fn from_mle(fit: MleFit, to_params: impl Fn(&[f64]) -> P) -> Self {
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
            limit: None,
        }
    }
}

/// The Gamma-Gamma fit with what the spend model needs reported beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GammaGammaFit {
    #[serde(flatten)]
    pub fit: ModelFit<SpendParams>,
    /// Customers with repeat purchases whose mean repeat spend is not positive, left out of the fit.
    pub excluded_nonpositive_spend: u64,
    /// Population mean spend per transaction, p·v/(q−1) or p/nu at the homogeneous limit; absent
    /// when q ≤ 1 (infinite mean), when customers without repeat purchases get no spend forecast.
    pub mean_spend: Option<f64>,
}

/// A fitted purchase model, stored under its own key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseFit {
    BgNbd(ModelFit<BgNbdParams>),
    ParetoNbd(ModelFit<ParetoNbdParams>),
    MbgNbd(ModelFit<MbgNbdParams>),
    /// BG/NBD at a limit of its heterogeneity (see `models::bg_limits`).
    BgNbdLimit(ModelFit<BgFamilyLimit>),
    /// MBG/NBD at a limit of its heterogeneity.
    MbgNbdLimit(ModelFit<BgFamilyLimit>),
    /// Pareto/NBD at a limit: one dropout rate, one purchase rate, or both (see `models::pareto_limits`).
    ParetoNbdLimit(ModelFit<ParetoFamilyLimit>),
}

impl PurchaseFit {
    /// The fitted model, for predictions.
    pub fn model(&self) -> PurchaseModel {
        match self {
            Self::BgNbd(f) => PurchaseModel::BgNbd(f.params),
            Self::ParetoNbd(f) => PurchaseModel::ParetoNbd(f.params),
            Self::MbgNbd(f) => PurchaseModel::MbgNbd(f.params),
            Self::BgNbdLimit(f) => PurchaseModel::BgNbdLimit(f.params),
            Self::MbgNbdLimit(f) => PurchaseModel::MbgNbdLimit(f.params),
            Self::ParetoNbdLimit(f) => PurchaseModel::ParetoNbdLimit(f.params),
        }
    }

    pub fn kind(&self) -> PurchaseModelKind {
        self.model().kind()
    }

    /// Estimates, errors and fit statistics with parameters as vectors in `parameter_order`.
    pub fn erased(&self) -> ModelFit<Vec<f64>> {
        match self {
            Self::BgNbd(f) => f.erased(),
            Self::ParetoNbd(f) => f.erased(),
            Self::MbgNbd(f) => f.erased(),
            Self::BgNbdLimit(f) | Self::MbgNbdLimit(f) => f.erased(),
            Self::ParetoNbdLimit(f) => f.erased(),
        }
    }
}

/// The contents of a model file: the purchase and spend fits and the time unit of the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FittedModels {
    pub format_version: u32,
    pub clv_version: String,
    /// Unit of recency, T and the rate parameters; predictions must use data in the same unit.
    pub time_unit: TimeUnit,
    #[serde(flatten)]
    pub purchase: PurchaseFit,
    pub gamma_gamma: Option<GammaGammaFit>,
    /// Why there is no spend model, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma_gamma_skipped: Option<String>,
}

/// Every model's parameters in a model file are positive numbers, and a limiting model's dropout
/// probability p is below 1: a hand-edited file with b = −2.4 would otherwise forecast NaN.
fn check_parameters(value: &serde_json::Value) -> std::result::Result<(), String> {
    let Some(entries) = value.as_object() else {
        return Ok(());
    };
    for (key, entry) in entries {
        let Some(params) = entry.get("params").and_then(|p| p.as_object()) else {
            continue;
        };
        for (name, v) in params {
            // A limiting BG model's p is a probability (Gamma-Gamma's p is a shape).
            let is_probability = key.ends_with("_limit") && name == "p";
            let ok = match v.as_f64().filter(|x| x.is_finite()) {
                Some(x) if is_probability => x > 0.0 && x < 1.0,
                Some(x) => x > 0.0,
                None => false,
            };
            if !ok {
                let range = if is_probability {
                    "a probability between 0 and 1"
                } else {
                    "a positive number"
                };
                return Err(format!(
                    "{key}: {name} = {v} is not a valid parameter (it must be {range})"
                ));
            }
        }
    }
    Ok(())
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
            Some(v) if READABLE_FORMAT_VERSIONS.contains(&v) => {}
            Some(v) => {
                return Err(bad(format!(
                    "model format version {v}, but this clv reads version {MODEL_FORMAT_VERSION}: refit with `clv fit`"
                )))
            }
            None => return Err(bad("not a clv model file (no format_version)".into())),
        }
        check_parameters(&value).map_err(bad)?;
        serde_json::from_value(value).map_err(|e| bad(format!("not a valid clv model file: {e}")))
    }

    /// The BG/NBD fit, when this file holds BG/NBD.
    pub fn bg_nbd(&self) -> Option<&ModelFit<BgNbdParams>> {
        match &self.purchase {
            PurchaseFit::BgNbd(f) => Some(f),
            _ => None,
        }
    }

    /// The spend model, if one was fitted. With q ≤ 1 it forecasts the spend of customers with
    /// repeat purchases only (`GammaGammaParams::conditional_expected_average_spend`).
    pub fn spend_model(&self) -> Option<SpendParams> {
        self.gamma_gamma.as_ref().map(|g| g.fit.params)
    }
}
