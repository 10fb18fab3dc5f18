//! The spend model's holdout check: Gamma-Gamma fitted on the calibration period, its
//! E[M | x, z̄] against each holdout buyer's mean spend per transaction.

use serde::Serialize;

use super::FitSummary;
use crate::model_file::GammaGammaFit;

/// The spend model's holdout check: Gamma-Gamma fitted on the calibration period, its
/// E[M | x, z̄] against the mean spend per transaction in the holdout.
#[derive(Debug, Clone, Serialize)]
pub struct SpendEvaluation {
    pub fit: FitSummary,
    /// Customers with at least one holdout transaction (and a positive holdout spend).
    pub customers: u64,
    /// Mean over those customers of their mean holdout spend per transaction.
    pub actual_mean_spend: f64,
    /// Mean over the same customers of E[M | x, z̄] from the calibration period.
    pub predicted_mean_spend: f64,
    pub mean_absolute_error: f64,
    /// The same for the holdout buyers who also made repeat purchases in calibration (whose
    /// prediction uses their own spend, not only the population mean).
    pub repeat_customers: u64,
    pub repeat_actual_mean_spend: f64,
    pub repeat_predicted_mean_spend: f64,
    /// Holdout buyers left out of the above for want of a forecast: without repeat purchases in
    /// calibration under a spend model with q ≤ 1 (an infinite expected spend).
    #[serde(skip_serializing_if = "is_zero")]
    pub without_forecast: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub(super) fn evaluate_spend(
    gg: &GammaGammaFit,
    frequency: &[f64],
    calibration_spend: &[f64],
    frequency_holdout: &[f64],
    holdout_spend: &[f64],
) -> Option<SpendEvaluation> {
    let params = gg.fit.params;
    let mut without_forecast = 0;
    let mut all = (0u64, 0.0, 0.0, 0.0);
    let mut repeat = (0u64, 0.0, 0.0);
    for i in 0..frequency.len() {
        if frequency_holdout[i] <= 0.0 || holdout_spend[i] <= 0.0 {
            continue;
        }
        let x = frequency[i];
        let zbar = if x > 0.0 { calibration_spend[i] } else { 0.0 };
        let Some(predicted) = params.conditional_expected_average_spend(x, zbar) else {
            without_forecast += 1;
            continue;
        };
        all = (
            all.0 + 1,
            all.1 + holdout_spend[i],
            all.2 + predicted,
            all.3 + (predicted - holdout_spend[i]).abs(),
        );
        if x > 0.0 {
            repeat = (repeat.0 + 1, repeat.1 + holdout_spend[i], repeat.2 + predicted);
        }
    }
    let mean = |s: f64, n: u64| if n > 0 { s / n as f64 } else { f64::NAN };
    Some(SpendEvaluation {
        fit: FitSummary::new(&gg.fit.erased()),
        customers: all.0,
        actual_mean_spend: mean(all.1, all.0),
        predicted_mean_spend: mean(all.2, all.0),
        mean_absolute_error: mean(all.3, all.0),
        repeat_customers: repeat.0,
        repeat_actual_mean_spend: mean(repeat.1, repeat.0),
        repeat_predicted_mean_spend: mean(repeat.2, repeat.0),
        without_forecast,
    })
}
