//! The models at which the forecasts are evaluated: parameter vectors drawn from the fits'
//! normal approximation, or the fits to bootstrap resamples of the customers.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::draws::draws_of;
use super::IntervalOptions;
use crate::data::rfm::RfmTable;
use crate::error::{ClvError, Result};
use crate::model_file::{FittedModels, GammaGammaFit, PurchaseFit};
use crate::models::gamma_gamma::SpendParams;
use crate::models::PurchaseModel;

/// The models at which the forecasts are evaluated, one per draw: the purchase model's and,
/// where CLV is forecast, the spend model's.
pub struct DrawnModels {
    pub(super) purchase: Vec<Arc<dyn PurchaseModel>>,
    pub(super) spend: Option<Vec<SpendParams>>,
    pub(super) method: IntervalMethod,
    /// Bootstrap refits that failed (left out).
    pub(super) failed_refits: usize,
}

/// What `fit` finds on `interval.draws` resamples of `rfm`'s customers (as many, drawn with
/// replacement, each resample from its own seed: `interval.seed` and its number), and how many
/// refits failed (left out). When more than a tenth fail, the bootstrap is refused with the
/// first failure's message.
pub fn bootstrap_refits<T: Send>(
    rfm: &RfmTable,
    interval: &IntervalOptions,
    fit: impl Fn(&RfmTable) -> Result<T> + Sync,
) -> Result<(Vec<T>, usize)> {
    let n = rfm.len();
    refit_resamples(interval, interval.seed, "customers", |rng| {
        let rows: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        fit(&rfm.rows(&rows)?)
    })
}

/// `refit` at `interval.draws` resamples, each drawn with its own generator (seeded from
/// `seed` and the resample's number), in parallel; the refits that succeeded, and how many
/// failed (left out). When more than a tenth fail, the bootstrap is refused with the first
/// failure's message, naming what was resampled (`of_what`: "customers", "subscribers").
pub fn refit_resamples<T: Send>(
    interval: &IntervalOptions,
    seed: u64,
    of_what: &str,
    refit: impl Fn(&mut StdRng) -> Result<T> + Sync,
) -> Result<(Vec<T>, usize)> {
    interval.validate()?;
    let refits: Vec<Result<T>> = (0..interval.draws)
        .into_par_iter()
        .map(|replicate| {
            let seed = seed.wrapping_mul(1_000_003).wrapping_add(replicate as u64);
            refit(&mut StdRng::seed_from_u64(seed))
        })
        .collect();
    let failed = refits.iter().filter(|r| r.is_err()).count();
    if failed * 10 > interval.draws {
        let first = refits.iter().find_map(|r| r.as_ref().err().map(|e| e.to_string()));
        return Err(ClvError::Model {
            model: "bootstrap",
            reason: format!(
                "{failed} of {} refits to resampled {of_what} failed, the first with: {}",
                interval.draws,
                first.unwrap_or_default()
            ),
        });
    }
    Ok((refits.into_iter().flatten().collect(), failed))
}

/// The purchase model of `purchase` at `interval.draws` parameter vectors from its normal
/// approximation, drawn from `rng`.
pub fn purchase_draws(
    purchase: &PurchaseFit,
    interval: &IntervalOptions,
    rng: &mut StdRng,
) -> Result<Vec<Arc<dyn PurchaseModel>>> {
    let fit = purchase.erased();
    let draws = draws_of(
        &fit,
        &fit.params,
        purchase.probabilities(),
        (interval.draws, rng),
        purchase.kind().label(),
    )?;
    draws.iter().map(|v| purchase.with_values(v)).collect()
}

/// The spend model of `gamma_gamma` at `interval.draws` parameter vectors from its normal
/// approximation, drawn from `rng`.
pub(super) fn spend_draws(
    gamma_gamma: &GammaGammaFit,
    interval: &IntervalOptions,
    rng: &mut StdRng,
) -> Result<Vec<SpendParams>> {
    let values = gamma_gamma.fit.params.to_vec();
    let draws = draws_of(&gamma_gamma.fit, &values, &[], (interval.draws, rng), "Gamma-Gamma")?;
    Ok(draws.iter().map(|v| gamma_gamma.fit.params.with_values(v)).collect())
}

/// Where the draws come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// The fits' normal approximation (asymptotic covariance), in the scale they were fitted in.
    NormalApproximation,
    /// Refits to customers resampled with replacement.
    Bootstrap,
}

impl IntervalMethod {
    /// Where `draws` models came from, in words: "200 draws", "200 bootstrap refits".
    pub fn describe(self, draws: usize) -> String {
        match self {
            Self::NormalApproximation => format!("{draws} draws"),
            Self::Bootstrap => format!("{draws} bootstrap refits"),
        }
    }
}

impl DrawnModels {
    /// `interval.draws` parameter vectors from the normal approximation: the purchase model's,
    /// then (`with_spend`, and a spend model fitted) the spend model's, drawn in that order from
    /// `interval.seed`.
    pub fn normal(models: &FittedModels, interval: &IntervalOptions, with_spend: bool) -> Result<Self> {
        interval.validate()?;
        let mut rng = StdRng::seed_from_u64(interval.seed);
        let purchase = purchase_draws(&models.purchase, interval, &mut rng)?;
        let spend = match (&models.gamma_gamma, with_spend) {
            (Some(gg), true) => Some(spend_draws(gg, interval, &mut rng)?),
            _ => None,
        };
        Ok(Self {
            purchase,
            spend,
            method: IntervalMethod::NormalApproximation,
            failed_refits: 0,
        })
    }

    /// The models `fit` finds on `interval.draws` resamples of `rfm`'s customers (as many,
    /// drawn with replacement, each resample from its own seed: `interval.seed` and its number).
    /// A resample whose fit fails is left out and counted; when more than a tenth fail, the
    /// bootstrap is refused with the first failure's message.
    pub fn bootstrap(
        rfm: &RfmTable,
        fit: &(dyn Fn(&RfmTable) -> Result<FittedModels> + Sync),
        interval: &IntervalOptions,
        with_spend: bool,
    ) -> Result<Self> {
        let (fitted, failed_refits) = bootstrap_refits(rfm, interval, |resample| {
            let models = fit(resample)?;
            let spend = models.gamma_gamma.as_ref().map(|g| g.fit.params);
            // A resample whose spend model could not be fitted is a failed refit, not the end of
            // every spend interval.
            if with_spend && spend.is_none() {
                return Err(ClvError::NotConverged {
                    model: "Gamma-Gamma",
                    reason: models.gamma_gamma_skipped.unwrap_or_default(),
                });
            }
            Ok((models.purchase.shared_model(), spend))
        })?;
        let spend = match with_spend && fitted.iter().all(|(_, s)| s.is_some()) {
            true => Some(fitted.iter().filter_map(|(_, s)| *s).collect()),
            false => None,
        };
        Ok(Self {
            purchase: fitted.into_iter().map(|(p, _)| p).collect(),
            spend,
            method: IntervalMethod::Bootstrap,
            failed_refits,
        })
    }

    pub fn method(&self) -> IntervalMethod {
        self.method
    }
}
