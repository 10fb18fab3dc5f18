//! One purchase model's holdout diagnostics: its predictions per customer set beside the holdout,
//! the frequency histogram (figure 1), the conditional expectations (figure 4) and the tracking
//! curves (figures 2 and 3).

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::measures::{FitSummary, FrequencyFit, HoldoutAccuracy, Reliability};
use super::{group_of, Actuals, ModelEvaluation, FREQUENCY_GROUPS};
use crate::data::rfm::RfmTable;
use crate::error::{ClvError, Result};
use crate::model_file::PurchaseFit;
use crate::models::PurchaseModel;
use crate::registry::PurchaseModelKind;

fn not_converged(kind: PurchaseModelKind, what: &str) -> ClvError {
    ClvError::Model {
        model: kind.label(),
        reason: format!("{what} could not be evaluated at the fitted parameters"),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn evaluate_model(
    purchase: &PurchaseFit,
    rfm: &RfmTable,
    frequency_holdout: &[f64],
    holdout_length: f64,
    actual: &Actuals,
    ages: &BTreeMap<u64, (f64, f64)>,
    cohorts: &BTreeMap<i32, f64>,
    week_ends: &[f64],
    unit_days: f64,
) -> Result<(ModelEvaluation, Vec<f64>)> {
    let (model, kind, fit) = (purchase.model(), purchase.kind(), &purchase.erased());
    // Per customer: E[Y(holdout)] and P(Y(holdout) = 0).
    let per_customer: Option<Vec<(f64, f64)>> = (0..rfm.len())
        .into_par_iter()
        .map(|i| {
            let (x, tx, t) = (rfm.frequency[i], rfm.recency[i], rfm.t[i]);
            Some((
                model.conditional_expected_purchases(holdout_length, x, tx, t)?,
                model.probability_of_no_purchase(holdout_length, x, tx, t)?,
            ))
        })
        .collect();
    let per_customer = per_customer.ok_or_else(|| not_converged(kind, "a holdout expectation"))?;
    let predicted: Vec<f64> = per_customer.iter().map(|p| p.0).collect();
    let holdout = HoldoutAccuracy::new(
        &predicted,
        frequency_holdout,
        per_customer.iter().map(|p| 1.0 - p.1).sum(),
    );
    let p_any: Vec<f64> = per_customer.iter().map(|p| 1.0 - p.1).collect();
    let reliability = Reliability::new(&p_any, frequency_holdout.iter().map(|&y| y > 0.0));

    let mut conditional_sum = [0.0; FREQUENCY_GROUPS];
    for (&x, p) in rfm.frequency.iter().zip(&predicted) {
        conditional_sum[group_of(x)] += p;
    }
    let conditional_predicted_mean = conditional_sum
        .iter()
        .zip(&actual.frequency)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect();

    // Figure 1 and the implied calibration repeat transactions, over distinct ages T.
    let mut expected = vec![0.0; FREQUENCY_GROUPS];
    let mut predicted_calibration = 0.0;
    for &(t, count) in ages.values() {
        let mut below = 0.0;
        for (g, e) in expected.iter_mut().take(FREQUENCY_GROUPS - 1).enumerate() {
            let p = model
                .probability_of_purchases(t, g as u64)
                .ok_or_else(|| not_converged(kind, "P(X(t) = n)"))?;
            *e += count * p;
            below += p;
        }
        expected[FREQUENCY_GROUPS - 1] += count * (1.0 - below).max(0.0);
        predicted_calibration += count
            * model
                .expected_purchases(t)
                .ok_or_else(|| not_converged(kind, "E[X(t)]"))?;
    }
    let frequency = FrequencyFit::new(expected, &actual.frequency, fit.params.len());

    let expected_cumulative = expected_cumulative_purchases(model, cohorts, week_ends, unit_days)
        .ok_or_else(|| not_converged(kind, "E[X(t)]"))?;
    let expected_weekly = expected_cumulative
        .iter()
        .scan(0.0, |previous, &c| {
            let week = c - *previous;
            *previous = c;
            Some(week)
        })
        .collect();

    Ok((
        ModelEvaluation {
            model: kind,
            label: kind.label(),
            fit: FitSummary::new(fit),
            predicted_calibration_repeat_transactions: predicted_calibration,
            frequency,
            holdout,
            reliability,
            conditional_predicted_mean,
            expected_weekly,
            expected_cumulative,
            intervals: None,
        },
        predicted,
    ))
}

/// Figures 2 and 3: the expected cumulative repeat transactions of the calibration customers at
/// the end of each week (days in `week_ends`), each acquisition-day cohort's count × E[X(age)];
/// `None` where E[X(t)] cannot be evaluated.
pub(super) fn expected_cumulative_purchases(
    model: &dyn PurchaseModel,
    cohorts: &BTreeMap<i32, f64>,
    week_ends: &[f64],
    unit_days: f64,
) -> Option<Vec<f64>> {
    week_ends
        .par_iter()
        .map(|&end| {
            cohorts
                .iter()
                .map(|(&first, &count)| {
                    let age = (end - first as f64).max(0.0) / unit_days;
                    model.expected_purchases(age).map(|e| count * e)
                })
                .sum()
        })
        .collect()
}
