//! The model registry: every purchase model `clv` fits, listed once.
//!
//! An entry says what a model is called (its command-line key and the papers' label), which
//! summary of a customer it reads, its parameters, how it is fitted (with its limiting models,
//! `boundary`) and how each of its forms is read back from a model file. The command line's
//! choices and `--help`, `clv evaluate`'s list and the model file's tags all come from here:
//! adding a model is its file in `models/` and one entry below.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::boundary::{
    fit_bg_family, fit_pareto, limit_text, BgFamilyFit, ParetoFit, SAME_LIKELIHOOD_PER_CUSTOMER, STEPS_INSIDE,
};
pub use crate::data::summary::SummaryKind;
use crate::error::Result;
use crate::mle::{maximize, FitOptions};
use crate::model_file::{ModelFit, PurchaseFit};
use crate::models::bg_limits::BgFamilyLimitModel;
use crate::models::bg_nbd::{BgNbdParams, Dropout};
use crate::models::histories::Histories;
use crate::models::mbg_nbd::MbgNbdParams;
use crate::models::nbd::{Nbd, NbdData};
use crate::models::pareto_limits::ParetoFamilyLimit;
use crate::models::pareto_nbd::ParetoNbdParams;
use crate::models::purchase_rate::PurchaseRate;
use crate::models::{Likelihood, PurchaseModel};

/// The purchase models, in the order `clv evaluate --model all` fits and reports them.
pub static PURCHASE_MODELS: [PurchaseModelKind; 4] = [BG_NBD, PARETO_NBD, MBG_NBD, NBD];

/// BG/NBD (Fader, Hardie & Lee 2005): gamma purchase rates, a beta dropout chance after each
/// repeat purchase.
pub const BG_NBD: PurchaseModelKind = PurchaseModelKind(&PurchaseModelSpec {
    key: "bg-nbd",
    label: "BG/NBD",
    source: "Fader, Hardie & Lee 2005",
    summary: SummaryKind::ContinuousNonContractual,
    parameter_names: &["r", "alpha", "a", "b"],
    fit: |data, options| fit_bg_family_model(BG_NBD, data, Dropout::AfterRepeatPurchases, options),
    forms: &[
        ModelForm::new("bg_nbd", load::<BgNbdParams>),
        ModelForm {
            tag: "bg_nbd_limit",
            load: |params| load_bg_limit(params, Dropout::AfterRepeatPurchases),
            probabilities: &["p", "pi"],
        },
    ],
});

/// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): gamma purchase rates, gamma dropout rates.
pub const PARETO_NBD: PurchaseModelKind = PurchaseModelKind(&PurchaseModelSpec {
    key: "pareto-nbd",
    label: "Pareto/NBD",
    source: "Schmittlein, Morrison & Colombo 1987",
    summary: SummaryKind::ContinuousNonContractual,
    parameter_names: &["r", "alpha", "s", "beta"],
    fit: |data, options| {
        let kind = PARETO_NBD;
        match fit_pareto(data.clone(), kind.label, options)? {
            ParetoFit::Interior(fit) => PurchaseFit::from_mle(kind, 0, fit),
            ParetoFit::Limit(fit) => PurchaseFit::new(kind, 1, fit.erased()),
        }
    },
    forms: &[
        ModelForm::new("pareto_nbd", load::<ParetoNbdParams>),
        ModelForm {
            tag: "pareto_nbd_limit",
            load: load::<ParetoFamilyLimit>,
            probabilities: &["pi"],
        },
    ],
});

/// MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD with a dropout chance at the first purchase too.
pub const MBG_NBD: PurchaseModelKind = PurchaseModelKind(&PurchaseModelSpec {
    key: "mbg-nbd",
    label: "MBG/NBD",
    source: "Batislam, Denizel & Filiztekin 2007",
    summary: SummaryKind::ContinuousNonContractual,
    parameter_names: &["r", "alpha", "a", "b"],
    fit: |data, options| fit_bg_family_model(MBG_NBD, data, Dropout::AlsoAtFirstPurchase, options),
    forms: &[
        ModelForm::new("mbg_nbd", load::<MbgNbdParams>),
        ModelForm {
            tag: "mbg_nbd_limit",
            load: |params| load_bg_limit(params, Dropout::AlsoAtFirstPurchase),
            probabilities: &["p", "pi"],
        },
    ],
});

/// NBD (Ehrenberg 1959): gamma purchase rates and no dropout, the baseline of every comparison.
pub const NBD: PurchaseModelKind = PurchaseModelKind(&PurchaseModelSpec {
    key: "nbd",
    label: "NBD",
    source: "Ehrenberg 1959",
    summary: SummaryKind::ContinuousNonContractual,
    parameter_names: &["r", "alpha"],
    fit: fit_nbd,
    forms: &[
        ModelForm::new("nbd", load::<Nbd>),
        ModelForm::new("nbd_limit", load::<Nbd>),
    ],
});

/// Reads one form of a model (its parameters, as the model file stores them by name) into the
/// model that forecasts.
pub type Loader = fn(serde_json::Value) -> serde_json::Result<Arc<dyn PurchaseModel>>;

/// Fits a model to the distinct customer histories (`mle::maximize`).
pub type Fitter = fn(&Histories, &FitOptions) -> Result<PurchaseFit>;

/// One way a model's fit is stored: the model itself (first) or one of its limiting models.
#[derive(Debug)]
pub struct ModelForm {
    /// The model file's name for it, e.g. `bg_nbd` or `bg_nbd_limit`.
    pub tag: &'static str,
    pub load: Loader,
    /// Parameters that are probabilities (in (0, 1)); every other parameter is positive.
    pub probabilities: &'static [&'static str],
}

impl ModelForm {
    const fn new(tag: &'static str, load: Loader) -> Self {
        Self {
            tag,
            load,
            probabilities: &[],
        }
    }
}

/// A registry entry.
#[derive(Debug)]
pub struct PurchaseModelSpec {
    /// The command-line spelling, e.g. "bg-nbd".
    pub key: &'static str,
    /// The name the papers use, e.g. "BG/NBD".
    pub label: &'static str,
    /// The paper that defines it.
    pub source: &'static str,
    pub summary: SummaryKind,
    /// The full model's parameters, in the order of every parameter vector.
    pub parameter_names: &'static [&'static str],
    pub fit: Fitter,
    /// The model first, then its limiting models.
    pub forms: &'static [ModelForm],
}

/// A registered purchase model: a handle on its registry entry.
#[derive(Debug, Clone, Copy)]
pub struct PurchaseModelKind(&'static PurchaseModelSpec);

impl std::ops::Deref for PurchaseModelKind {
    type Target = PurchaseModelSpec;

    fn deref(&self) -> &PurchaseModelSpec {
        self.0
    }
}

impl PartialEq for PurchaseModelKind {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for PurchaseModelKind {}

/// The command-line spelling, e.g. "bg-nbd".
impl std::fmt::Display for PurchaseModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key)
    }
}

impl serde::Serialize for PurchaseModelKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key)
    }
}

impl PurchaseModelKind {
    /// The name the papers use, e.g. "BG/NBD".
    pub fn label(self) -> &'static str {
        self.0.label
    }

    /// The command-line spelling, e.g. "bg-nbd".
    pub fn cli_name(self) -> &'static str {
        self.0.key
    }

    /// The model named `key` on the command line.
    pub fn named(key: &str) -> Option<Self> {
        PURCHASE_MODELS.iter().copied().find(|k| k.key == key)
    }

    /// The model and form a model file's tag names, or why none.
    pub fn form_tagged(tag: &str) -> std::result::Result<(Self, usize), String> {
        PURCHASE_MODELS
            .iter()
            .find_map(|&k| k.forms.iter().position(|f| f.tag == tag).map(|i| (k, i)))
            .ok_or_else(|| {
                format!(
                    "unknown purchase model {tag:?} (this clv knows {})",
                    Self::all_tags().join(", ")
                )
            })
    }

    /// Every form's tag, for messages.
    pub fn all_tags() -> Vec<&'static str> {
        PURCHASE_MODELS
            .iter()
            .flat_map(|k| k.forms.iter().map(|f| f.tag))
            .collect()
    }
}

/// The loader of a form whose parameter struct is itself the model.
fn load<P: DeserializeOwned + PurchaseModel + 'static>(
    params: serde_json::Value,
) -> serde_json::Result<Arc<dyn PurchaseModel>> {
    Ok(Arc::new(serde_json::from_value::<P>(params)?))
}

fn load_bg_limit(params: serde_json::Value, dropout: Dropout) -> serde_json::Result<Arc<dyn PurchaseModel>> {
    Ok(Arc::new(BgFamilyLimitModel {
        limit: serde_json::from_value(params)?,
        dropout,
    }))
}

/// BG/NBD or MBG/NBD: the interior maximum, or the limiting model that is the maximum.
fn fit_bg_family_model(
    kind: PurchaseModelKind,
    data: &Histories,
    dropout: Dropout,
    options: &FitOptions,
) -> Result<PurchaseFit> {
    match fit_bg_family(data, dropout, kind.label, options)? {
        BgFamilyFit::Interior(fit) => PurchaseFit::from_mle(kind, 0, fit),
        BgFamilyFit::Limit(fit) => PurchaseFit::new(kind, 1, fit.erased()),
    }
}

/// NBD: the interior maximum, or its limit (one Poisson rate λ for every customer) when the
/// likelihood is highest there: when no interior point beats it and a step inside from it, at
/// r = 1/h for each h of `STEPS_INSIDE` with r/α = λ, lowers the likelihood.
fn fit_nbd(histories: &Histories, options: &FitOptions) -> Result<PurchaseFit> {
    let kind = NBD;
    let full = NbdData {
        histories,
        common_rate: false,
    };
    let interior = maximize(&full, kind.label, options);
    let poisson = NbdData {
        histories,
        common_rate: true,
    };
    let limit = maximize(&poisson, kind.label, options)?;
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * histories.n_customers();
    let rate = poisson.rate(&limit.params);
    let rises_inside = STEPS_INSIDE.iter().filter_map(|&h| rate.step_inside(h)).any(|inside| {
        let PurchaseRate::Gamma { r, alpha } = inside else {
            return false;
        };
        full.log_likelihood_with_gradient(&[r, alpha]).0 > limit.log_likelihood + tolerance
    });
    match interior {
        Ok(fit) if fit.log_likelihood > limit.log_likelihood + tolerance => PurchaseFit::from_mle(kind, 0, fit),
        Err(e) if rises_inside => Err(e),
        _ => {
            let mut fit = ModelFit::from_mle(limit, <[f64]>::to_vec);
            fit.limit = Some(limit_text(
                "homogeneous purchase rate",
                "every customer buys at the same rate lambda (the limit r, alpha → ∞ with r/alpha = lambda)",
            ));
            PurchaseFit::new(kind, 1, fit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_and_tag_is_unique_and_every_model_has_its_interior_form_first() {
        let mut keys: Vec<&str> = PURCHASE_MODELS.iter().map(|k| k.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), PURCHASE_MODELS.len());
        let mut tags = PurchaseModelKind::all_tags();
        let n = tags.len();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), n);
        for kind in PURCHASE_MODELS {
            assert_eq!(kind.forms[0].tag, kind.key.replace('-', "_"));
            assert_eq!(PurchaseModelKind::named(kind.key), Some(kind));
        }
    }
}
