//! The JSON model file `clv fit` writes and `predict` reads: the fitted models, their format and checks.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::period::Period;
use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::mle::MleFit;
use crate::models::bg_bb::BgBb;
use crate::models::bg_nbd::BgNbdParams;
use crate::models::gamma_gamma::SpendParams;
use crate::models::{Parameters, PurchaseModel};
use crate::registry::{ModelForm, PurchaseModelKind};
use crate::warnings::FitWarning;

/// Version of the model-file layout; bumped when a field changes meaning. Version 3 stores the
/// purchase fit under `"purchase"` with its model's tag inside (`{"model": "bg_nbd", "params":
/// ...}`, tags from `registry`); versions 1 and 2 stored it under the tag itself and are read too.
pub const MODEL_FORMAT_VERSION: u32 = 3;
const MODEL_FORMAT_VERSION_U64: u64 = MODEL_FORMAT_VERSION as u64;
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
    pub warnings: Vec<FitWarning>,
    /// For a limiting model (a fit whose maximum lies at a boundary of the parameter space):
    /// which heterogeneity went to its limit, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl<P: Parameters> ModelFit<P> {
    /// The same fit with its parameters as a vector in `parameter_order`, for reports.
    pub fn erased(&self) -> ModelFit<Vec<f64>> {
        self.map_params(|&p| p.to_vec())
    }
}

impl<P> ModelFit<P> {
    /// The same fit with its parameters (and their standard errors) mapped by `f`.
    pub fn map_params<Q>(&self, f: impl Fn(&P) -> Q) -> ModelFit<Q> {
        match self.try_map_params(|p| Ok::<Q, std::convert::Infallible>(f(p))) {
            Ok(fit) => fit,
            Err(never) => match never {},
        }
    }

    /// `map_params` with a map that can fail.
    pub fn try_map_params<Q, E>(
        &self,
        f: impl Fn(&P) -> std::result::Result<Q, E>,
    ) -> std::result::Result<ModelFit<Q>, E> {
        Ok(ModelFit {
            params: f(&self.params)?,
            standard_errors: self.standard_errors.as_ref().map(&f).transpose()?,
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
        })
    }

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

/// Parameters by name, in the model's order: how a model file stores a purchase model's.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedParams(pub Vec<(String, f64)>);

impl NamedParams {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|p| p.1)
    }

    pub fn values(&self) -> Vec<f64> {
        self.0.iter().map(|p| p.1).collect()
    }

    fn from_vec(names: &[String], values: &[f64]) -> Self {
        Self(names.iter().cloned().zip(values.iter().copied()).collect())
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(n, v)| (n.clone(), serde_json::Value::from(*v)))
                .collect(),
        )
    }
}

impl Serialize for NamedParams {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for NamedParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        map.into_iter()
            .map(|(name, value)| match value.as_f64() {
                Some(v) => Ok((name, v)),
                None => Err(serde::de::Error::custom(format!("parameter {name} is not a number"))),
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// A fitted purchase model: the registered model, which of its forms (the model or a limit), the
/// fit as stored, and the model that forecasts, read from the stored parameters by the form's
/// loader (so a fit forecasts exactly as its model file does).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "StoredPurchaseFit", into = "StoredPurchaseFit")]
pub struct PurchaseFit {
    kind: PurchaseModelKind,
    form: &'static ModelForm,
    pub fit: ModelFit<NamedParams>,
    model: Arc<dyn PurchaseModel>,
}

/// A purchase fit in the model file: `{"model": tag, "params": {...}, ...}`.
#[derive(Serialize, Deserialize)]
struct StoredPurchaseFit {
    model: String,
    #[serde(flatten)]
    fit: ModelFit<NamedParams>,
}

impl TryFrom<StoredPurchaseFit> for PurchaseFit {
    type Error = String;

    fn try_from(stored: StoredPurchaseFit) -> std::result::Result<Self, String> {
        let (kind, form) = PurchaseModelKind::form_tagged(&stored.model)?;
        Self::with_form(kind, form, stored.fit).map_err(|e| e.to_string())
    }
}

impl From<PurchaseFit> for StoredPurchaseFit {
    fn from(fit: PurchaseFit) -> Self {
        Self {
            model: fit.form.tag.to_string(),
            fit: fit.fit,
        }
    }
}

impl PurchaseFit {
    /// The fit of `kind` in its form number `form` (0 the model itself, then its limits), with the
    /// parameters in `fit.parameter_order`.
    pub(crate) fn new(kind: PurchaseModelKind, form: usize, fit: ModelFit<Vec<f64>>) -> Result<Self> {
        let named = fit.map_params(|v| NamedParams::from_vec(&fit.parameter_order, v));
        Self::with_form(kind, form, named)
    }

    /// The optimiser's fit of `kind` in its form number `form`, as `new` stores it.
    pub(crate) fn from_mle(kind: PurchaseModelKind, form: usize, fit: MleFit) -> Result<Self> {
        Self::new(kind, form, ModelFit::from_mle(fit, <[f64]>::to_vec))
    }

    fn with_form(kind: PurchaseModelKind, form: usize, fit: ModelFit<NamedParams>) -> Result<Self> {
        let form = kind.forms.get(form).ok_or_else(|| ClvError::Model {
            model: kind.label(),
            reason: format!("no form {form} registered"),
        })?;
        let model = (form.load)(fit.params.to_json()).map_err(|e| ClvError::Model {
            model: kind.label(),
            reason: format!("the parameters {:?} are not a {}: {e}", fit.params.0, form.tag),
        })?;
        Ok(Self { kind, form, fit, model })
    }

    /// The same model at other parameter values (in `fit.parameter_order`), loaded as this fit's
    /// form loads its own: how intervals evaluate drawn parameters.
    pub fn with_values(&self, values: &[f64]) -> Result<Arc<dyn PurchaseModel>> {
        let named = NamedParams::from_vec(&self.fit.parameter_order, values);
        (self.form.load)(named.to_json()).map_err(|e| ClvError::Model {
            model: self.kind.label(),
            reason: format!("the parameters {values:?} are not a {}: {e}", self.form.tag),
        })
    }

    /// The parameters of this fit's form that are probabilities (the rest are positive).
    pub fn probabilities(&self) -> &'static [&'static str] {
        self.form.probabilities
    }

    /// The fitted model, for predictions.
    pub fn model(&self) -> &dyn PurchaseModel {
        self.model.as_ref()
    }

    /// The fitted model, shared.
    pub fn shared_model(&self) -> Arc<dyn PurchaseModel> {
        Arc::clone(&self.model)
    }

    pub fn kind(&self) -> PurchaseModelKind {
        self.kind
    }

    /// The model file's name of this fit's form, e.g. `bg_nbd` or `bg_nbd_limit`.
    pub fn tag(&self) -> &'static str {
        self.form.tag
    }

    /// Estimates, errors and fit statistics with parameters as vectors in `parameter_order`.
    pub fn erased(&self) -> ModelFit<Vec<f64>> {
        self.fit.map_params(NamedParams::values)
    }

    /// The fit with its parameters as the struct `P`, when it is of the form tagged `tag`.
    pub fn typed<P: serde::de::DeserializeOwned>(&self, tag: &str) -> Option<ModelFit<P>> {
        if self.form.tag != tag {
            return None;
        }
        self.fit
            .try_map_params(|p| serde_json::from_value::<P>(p.to_json()))
            .ok()
    }
}

/// BG/BB's tag in a model file. BG/BB reads discrete opportunities, not (x, t_x, T), so it is
/// stored in a file of its own kind (`BgBbModels`) rather than as a registry's purchase model.
pub const BG_BB_TAG: &str = "bg_bb";

/// A BG/BB model file (`clv run --model bg-bb --model-output`): the fit, the opportunity it
/// counts and the spend model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BgBbModels {
    pub format_version: u32,
    /// Always `BG_BB_TAG`.
    pub model: String,
    pub clv_version: String,
    /// One opportunity per period; forecasts must use a summary of the same period.
    pub period: Period,
    pub purchase: ModelFit<BgBb>,
    pub gamma_gamma: Option<GammaGammaFit>,
}

impl BgBbModels {
    pub fn new(period: Period, purchase: ModelFit<BgBb>, gamma_gamma: Option<GammaGammaFit>) -> Self {
        Self {
            format_version: MODEL_FORMAT_VERSION,
            model: BG_BB_TAG.into(),
            clv_version: env!("CARGO_PKG_VERSION").into(),
            period,
            purchase,
            gamma_gamma,
        }
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| ClvError::InvalidArgument(format!("serializing the model: {e}")))
    }

    fn from_value(value: serde_json::Value) -> std::result::Result<Self, String> {
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(MODEL_FORMAT_VERSION_U64) => {}
            Some(v) => {
                return Err(format!(
                    "model format version {v}, but this clv reads BG/BB files of version {MODEL_FORMAT_VERSION}: refit \
                     with `clv run --model bg-bb`"
                ))
            }
            None => return Err("not a clv model file (no format_version)".into()),
        }
        let purchase = value.get("purchase").ok_or("no purchase model in the file")?;
        check_parameters(BG_BB_TAG, purchase, &["p", "theta"])?;
        if let Some(spend) = value.get("gamma_gamma") {
            check_parameters("gamma_gamma", spend, &[])?;
        }
        serde_json::from_value(value).map_err(|e| format!("not a valid clv BG/BB model file: {e}"))
    }
}

/// A model file of either kind.
#[derive(Debug, Clone)]
pub enum ModelFile {
    /// A purchase model of (x, t_x, T) summaries from the registry, with the spend model.
    Purchase(FittedModels),
    /// BG/BB, a model of discrete opportunities, with the spend model.
    BgBb(BgBbModels),
}

impl ModelFile {
    /// Reads a model file of either kind, refusing one that is corrupt or of another format
    /// version.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ClvError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let parsed = serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| format!("not a clv model file (invalid JSON: {e})"))
            .and_then(
                |value| match value.get("model").and_then(|m| m.as_str()) == Some(BG_BB_TAG) {
                    true => BgBbModels::from_value(value).map(Self::BgBb),
                    false => FittedModels::from_value(value).map(Self::Purchase),
                },
            );
        parsed.map_err(|message| ClvError::BadFile {
            path: path.to_path_buf(),
            message,
        })
    }
}

/// The contents of a model file: the purchase and spend fits and the time unit of the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FittedModels {
    pub format_version: u32,
    pub clv_version: String,
    /// Unit of recency, T and the rate parameters; predictions must use data in the same unit.
    pub time_unit: TimeUnit,
    pub purchase: PurchaseFit,
    pub gamma_gamma: Option<GammaGammaFit>,
    /// Why there is no spend model, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma_gamma_skipped: Option<String>,
}

/// The parameters of a stored fit are positive numbers, and those its form registers as
/// probabilities (a limiting BG model's dropout p) are below 1: a hand-edited file with b = −2.4
/// would otherwise forecast NaN. `probabilities` are the names that must lie in (0, 1).
fn check_parameters(key: &str, entry: &serde_json::Value, probabilities: &[&str]) -> std::result::Result<(), String> {
    let Some(params) = entry.get("params").and_then(|p| p.as_object()) else {
        return Ok(());
    };
    for (name, v) in params {
        let is_probability = probabilities.contains(&name.as_str());
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
    Ok(())
}

/// A format 1 or 2 file stores the purchase fit under its tag at the top level (`"bg_nbd": {...}`);
/// format 3 under `"purchase"`, with the tag inside (`{"model": "bg_nbd", ...}`).
fn upgrade_to_format_3(value: &mut serde_json::Value) -> std::result::Result<(), String> {
    let Some(entries) = value.as_object_mut() else {
        return Err("not a clv model file (not a JSON object)".into());
    };
    let Some(tag) = PurchaseModelKind::all_tags()
        .into_iter()
        .find(|t| entries.contains_key(*t))
    else {
        return Err(format!(
            "no purchase model in the file (none of {})",
            PurchaseModelKind::all_tags().join(", ")
        ));
    };
    let mut entry = entries.remove(tag).unwrap_or_default();
    if let Some(fields) = entry.as_object_mut() {
        fields.insert("model".into(), tag.into());
    }
    entries.insert("purchase".into(), entry);
    Ok(())
}

/// Checks the parameters of a format 3 file's purchase and spend fits.
fn check_models(value: &serde_json::Value) -> std::result::Result<(), String> {
    let purchase = value.get("purchase").ok_or("no purchase model in the file")?;
    let tag = purchase.get("model").and_then(|m| m.as_str()).unwrap_or_default();
    let (kind, form) = PurchaseModelKind::form_tagged(tag)?;
    check_parameters(tag, purchase, kind.forms[form].probabilities)?;
    match value.get("gamma_gamma") {
        Some(spend) => check_parameters("gamma_gamma", spend, &[]),
        None => Ok(()),
    }
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
        Self::from_json(&text).map_err(|message| ClvError::BadFile {
            path: path.to_path_buf(),
            message,
        })
    }

    /// A model file's contents, of this format or an earlier readable one; why not, in words.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a clv model file (invalid JSON: {e})"))?;
        Self::from_value(value)
    }

    fn from_value(mut value: serde_json::Value) -> std::result::Result<Self, String> {
        if value.get("model").and_then(|m| m.as_str()) == Some(BG_BB_TAG) {
            return Err(
                "a BG/BB model of discrete opportunities: `clv predict SUMMARY --model-file` forecasts with it, on \
                 a summary from `clv summarize LOG --period P`"
                    .into(),
            );
        }
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(MODEL_FORMAT_VERSION_U64) => {}
            Some(v) if READABLE_FORMAT_VERSIONS.contains(&v) => upgrade_to_format_3(&mut value)?,
            Some(v) => {
                return Err(format!(
                    "model format version {v}, but this clv reads version {MODEL_FORMAT_VERSION}: refit with `clv fit`"
                ))
            }
            None => return Err("not a clv model file (no format_version)".into()),
        }
        check_models(&value)?;
        serde_json::from_value(value).map_err(|e| format!("not a valid clv model file: {e}"))
    }

    /// The BG/NBD fit, when this file holds BG/NBD.
    pub fn bg_nbd(&self) -> Option<ModelFit<BgNbdParams>> {
        self.purchase.typed("bg_nbd")
    }

    /// The spend model, if one was fitted. With q ≤ 1 it forecasts the spend of customers with
    /// repeat purchases only (`GammaGammaParams::conditional_expected_average_spend`).
    pub fn spend_model(&self) -> Option<SpendParams> {
        self.gamma_gamma.as_ref().map(|g| g.fit.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model file of `format_version` with BG/NBD at the CDNOW estimates, stored as that format does.
    fn bg_nbd_file(format_version: u32) -> String {
        let entry = r#""params": {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259},
            "standard_errors": null, "covariance": null, "parameter_order": ["r", "alpha", "a", "b"],
            "log_likelihood": -9582.43, "aic": 19172.86, "bic": 19195.9, "n_customers": 2357, "iterations": 30"#;
        let purchase = match format_version {
            3 => format!(r#""purchase": {{"model": "bg_nbd", {entry}}}"#),
            _ => format!(r#""bg_nbd": {{{entry}}}"#),
        };
        format!(
            r#"{{"format_version": {format_version}, "clv_version": "0.1.0", "time_unit": "weeks", {purchase},
            "gamma_gamma": null}}"#
        )
    }

    #[test]
    fn formats_1_and_2_read_as_format_3_and_forecast_alike() {
        let expected = BgNbdParams {
            r: 0.2426,
            alpha: 4.4136,
            a: 0.7929,
            b: 2.4259,
        };
        for version in [1, 2, 3] {
            let models = FittedModels::from_json(&bg_nbd_file(version)).unwrap();
            assert_eq!(models.purchase.tag(), "bg_nbd");
            assert_eq!(models.purchase.kind().label(), "BG/NBD");
            assert_eq!(models.bg_nbd().unwrap().params, expected);
            let model = models.purchase.model();
            assert_eq!(
                model.p_alive(2.0, 30.43, 38.86),
                Some(expected.p_alive(2.0, 30.43, 38.86))
            );
            // Written back, it is format 3 with the model's tag inside its entry.
            let json: serde_json::Value = serde_json::from_str(&models.to_json().unwrap()).unwrap();
            assert_eq!(json["purchase"]["model"], "bg_nbd");
            assert_eq!(json["purchase"]["params"]["b"], 2.4259);
            assert!(json.get("bg_nbd").is_none());
        }
    }

    #[test]
    fn an_unknown_model_is_refused_naming_the_known_ones() {
        let text = bg_nbd_file(3).replace(r#""model": "bg_nbd""#, r#""model": "bg_cnbd""#);
        let error = FittedModels::from_json(&text).unwrap_err();
        assert!(
            error.contains("bg_cnbd") && error.contains("pareto_nbd_limit"),
            "{error}"
        );
    }
}
