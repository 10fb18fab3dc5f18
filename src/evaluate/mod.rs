//! Holdout evaluation: fit on the calibration period, predict the holdout, and set the
//! predictions beside what happened — the diagnostics of Fader, Hardie & Lee (2005), §4 and
//! figures 1–4, for each purchase model, and the spend model's holdout check.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;
use serde::Serialize;

use crate::data::rfm::{repeat_transactions_by_day, RfmTable, Summary};
use crate::data::transactions::{epoch_days, Transactions};
use crate::data::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};
use crate::fitting::{fit_purchase_model, fit_purchase_model_to, fit_spend_model};
use crate::forecast::intervals::{bootstrap_refits, purchase_draws, IntervalMethod, IntervalOptions};
use crate::mle::FitOptions;
use crate::model_file::PurchaseFit;
use crate::models::histories::Histories;
use crate::registry::PurchaseModelKind;

mod discrete;
mod intervals;
mod measures;
mod model;
mod spend;
mod verdict;

pub use discrete::{evaluate_discrete, ConditionalMean, DiscreteEvaluation};
use intervals::evaluation_intervals;
pub use intervals::EvaluationIntervals;
pub use measures::{FitSummary, FrequencyFit, HoldoutAccuracy, ParameterEstimate, Reliability, ReliabilityBin};
use model::evaluate_model;

use spend::evaluate_spend;
pub use spend::SpendEvaluation;
pub use verdict::{Candidate, Verdict};

/// Calibration frequencies are grouped 0, 1, …, 6 and "7+" in the histogram and the conditional
/// expectations, as in the paper's figures 1 and 4.
pub const FREQUENCY_GROUPS: usize = 8;

/// Everything measured for one purchase model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEvaluation {
    pub model: PurchaseModelKind,
    pub label: &'static str,
    pub fit: FitSummary,
    /// Σ over customers of E[X(T_i)]: the calibration repeat transactions the model implies.
    pub predicted_calibration_repeat_transactions: f64,
    pub frequency: FrequencyFit,
    pub holdout: HoldoutAccuracy,
    /// P(at least one holdout purchase | x, t_x, T) against who bought: the check P(alive) itself
    /// cannot have, since nobody's being alive is observed.
    pub reliability: Reliability,
    /// Figure 4: mean predicted holdout transactions by calibration frequency group.
    pub conditional_predicted_mean: Vec<f64>,
    /// Figures 2 and 3: expected repeat transactions of the calibration customers, per week
    /// and cumulative, over calibration and holdout.
    pub expected_weekly: Vec<f64>,
    pub expected_cumulative: Vec<f64>,
    /// The holdout total and the cumulative curve with their intervals, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intervals: Option<EvaluationIntervals>,
}

/// What the data say, model-free.
#[derive(Debug, Clone, Serialize)]
pub struct Actuals {
    pub customers: u64,
    pub calibration_repeat_transactions: u64,
    pub holdout_transactions: u64,
    pub holdout_customers_with_purchases: u64,
    /// Customers by calibration frequency group 0..6, 7+.
    pub frequency: Vec<u64>,
    /// Mean holdout transactions by calibration frequency group.
    pub conditional_mean: Vec<f64>,
    /// Repeat transactions of the calibration customers per week since the first date, and cumulative.
    pub weekly: Vec<u64>,
    pub cumulative: Vec<u64>,
}

/// A model the evaluation could not fit or evaluate, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct NotFitted {
    pub model: PurchaseModelKind,
    pub label: &'static str,
    pub reason: String,
}

/// Which model the data prefer.
#[derive(Debug, Clone, Serialize)]
pub struct Preferred {
    /// Lowest BIC: the likelihood, penalised for the number of parameters.
    pub by_bic: PurchaseModelKind,
    /// Lowest per-customer mean absolute error in the holdout.
    pub by_holdout_error: PurchaseModelKind,
}

/// A holdout evaluation of one or more purchase models and the spend model.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub log: String,
    pub time_unit: TimeUnit,
    pub first_date: String,
    pub calibration_end: String,
    pub observation_end: String,
    /// Length of the holdout period in the time unit.
    pub holdout_length: f64,
    /// Weeks from the first date to the end of the calibration period (where the figures mark it).
    pub calibration_weeks: f64,
    pub frequency_groups: Vec<String>,
    pub actual: Actuals,
    pub models: Vec<ModelEvaluation>,
    /// Why a number of the evaluation is missing (written as null in the JSON): a statistic that
    /// is undefined on these data.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Models that could not be fitted or evaluated on these data, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_fitted: Vec<NotFitted>,
    pub spend: Option<SpendEvaluation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_skipped: Option<String>,
    pub preferred: Option<Preferred>,
    /// One recommendation with its reason (`verdict`'s rules), with two or more models.
    pub verdict: Option<Verdict>,
    #[serde(skip)]
    pub holdout_predictions: Vec<(PurchaseModelKind, Vec<f64>)>,
    #[serde(skip)]
    pub rfm: RfmTable,
    #[serde(skip)]
    pub frequency_holdout: Vec<f64>,
}

fn group_of(x: f64) -> usize {
    (x.max(0.0) as usize).min(FREQUENCY_GROUPS - 1)
}

fn float_column(frame: &DataFrame, name: &str, source: &Path) -> Result<Vec<f64>> {
    let column = frame
        .column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .context(|| format!("reading column {name} of the summary of {}", source.display()))?;
    let values = column
        .f64()
        .context(|| format!("reading column {name} of the summary of {}", source.display()))?;
    Ok(values.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// Fits each of `kinds` (and Gamma-Gamma) on the calibration part of `summary`, which must have
/// been built with a calibration end from `log`, and evaluates them on the holdout.
pub fn evaluate(
    log: &Transactions,
    summary: &Summary,
    kinds: &[PurchaseModelKind],
    options: &FitOptions,
    interval: Option<(&IntervalOptions, IntervalMethod)>,
) -> Result<Evaluation> {
    let calibration_end = summary.calibration_end.ok_or_else(|| {
        ClvError::InvalidArgument("an evaluation needs a calibration end (--calibration-end DATE)".into())
    })?;
    let source = log.path.as_path();
    let rfm = summary.rfm_table(source)?;
    let frequency_holdout = float_column(&summary.frame, "frequency_holdout", source)?;
    let holdout_length = float_column(&summary.frame, "duration_holdout", source)?
        .first()
        .copied()
        .unwrap_or(0.0);
    let spend_holdout = match summary.frame.column("monetary_value_holdout").is_ok() {
        true => Some(float_column(&summary.frame, "monetary_value_holdout", source)?),
        false => None,
    };

    let histories = Histories::new(&rfm.frequency, &rfm.recency, &rfm.t);
    let (purchase_fits, spend_fit) = rayon::join(
        || {
            kinds
                .par_iter()
                .map(|&kind| (kind, fit_purchase_model_to(&histories, rfm.time_unit, kind, options)))
                .collect::<Vec<(PurchaseModelKind, Result<PurchaseFit>)>>()
        },
        || fit_spend_model(&rfm, options),
    );
    // One model that cannot be fitted does not hide the others; only when none can is it an error.
    let mut not_fitted = Vec::new();
    let mut fitted = Vec::new();
    for (kind, fit) in purchase_fits {
        match fit {
            Ok(fit) => fitted.push(fit),
            Err(e) => not_fitted.push(NotFitted {
                model: kind,
                label: kind.label(),
                reason: e.to_string(),
            }),
        }
    }
    if fitted.is_empty() {
        let reasons: Vec<String> = not_fitted.iter().map(|n| n.reason.clone()).collect();
        return Err(ClvError::Model {
            model: "evaluation",
            reason: format!("no purchase model could be fitted: {}", reasons.join("; ")),
        });
    }
    let purchase_fits = fitted;
    let (spend_fit, spend_skipped) = spend_fit?;

    let unit_days = summary.time_unit.days();
    let first_day = epoch_days(summary.first_date);
    let observation_end = epoch_days(summary.observation_end);
    let n_weeks = ((observation_end - first_day + 1) as usize).div_ceil(7);
    // The last day of each week. As in the RFM summary, a purchase on day d is at time d − (first
    // purchase day), so the expected purchases through day d are E[X((d − first)/unit)].
    let week_ends: Vec<f64> = (1..=n_weeks)
        .map(|k| (first_day + 7 * k as i32 - 1).min(observation_end) as f64)
        .collect();

    let actual = actuals(log, summary, &rfm, &frequency_holdout, first_day, n_weeks)?;
    let firsts = rfm
        .first_purchase
        .as_ref()
        .ok_or_else(|| ClvError::InvalidArgument("the summary has no first_purchase column".into()))?;
    let mut cohorts: BTreeMap<i32, f64> = BTreeMap::new();
    for &day in firsts {
        *cohorts.entry(day).or_default() += 1.0;
    }
    let mut ages: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for &t in &rfm.t {
        ages.entry(t.to_bits()).or_insert((t, 0.0)).1 += 1.0;
    }

    let mut models = Vec::with_capacity(purchase_fits.len());
    let mut holdout_predictions = Vec::with_capacity(purchase_fits.len());
    let mut interval_notes = Vec::new();
    for fit in &purchase_fits {
        let kind = fit.kind();
        let evaluated = evaluate_model(
            fit,
            &rfm,
            &frequency_holdout,
            holdout_length,
            &actual,
            &ages,
            &cohorts,
            &week_ends,
            unit_days,
        );
        match evaluated {
            Ok((mut evaluation, predictions)) => {
                if let Some((interval, method)) = interval {
                    // The models each aggregate is evaluated at: drawn from the fit's normal
                    // approximation, or refitted to resampled customers.
                    let drawn = match method {
                        IntervalMethod::NormalApproximation => {
                            purchase_draws(fit, interval, &mut StdRng::seed_from_u64(interval.seed))
                        }
                        IntervalMethod::Bootstrap => bootstrap_refits(&rfm, interval, |resample| {
                            fit_purchase_model(resample, kind, options).map(|p| p.shared_model())
                        })
                        .map(|(refits, _)| refits),
                    };
                    match drawn {
                        Ok(drawn) => {
                            evaluation.intervals = Some(evaluation_intervals(
                                &drawn,
                                (interval, method),
                                &rfm,
                                holdout_length,
                                evaluation.holdout.predicted_transactions,
                                &cohorts,
                                &week_ends,
                                unit_days,
                            ))
                        }
                        Err(e) => interval_notes.push(format!("{}: no intervals: {e}", kind.label())),
                    }
                }
                models.push(evaluation);
                holdout_predictions.push((kind, predictions));
            }
            Err(e) => not_fitted.push(NotFitted {
                model: kind,
                label: kind.label(),
                reason: e.to_string(),
            }),
        }
    }

    let spend = match (&spend_fit, &spend_holdout, &rfm.monetary_value) {
        (Some(gg), Some(holdout), Some(calibration)) => {
            evaluate_spend(gg, &rfm.frequency, calibration, &frequency_holdout, holdout)
        }
        _ => None,
    };
    let spend_skipped = match (&spend_fit, &spend) {
        (Some(_), None) => Some("the log has no amounts".into()),
        _ => spend_skipped,
    };

    let lowest =
        |key: fn(&ModelEvaluation) -> f64| models.iter().min_by(|a, b| key(a).total_cmp(&key(b))).map(|m| m.model);
    let preferred = lowest(|m| m.fit.bic)
        .zip(lowest(|m| m.holdout.mean_absolute_error))
        .map(|(by_bic, by_holdout_error)| Preferred {
            by_bic,
            by_holdout_error,
        });

    let candidates: Vec<Candidate> = models
        .iter()
        .filter_map(|m| {
            let predicted = &holdout_predictions.iter().find(|(k, _)| *k == m.model)?.1;
            Some(Candidate {
                model: m.model,
                mean_absolute_error: m.holdout.mean_absolute_error,
                bic: m.fit.bic,
                p_value: m.frequency.p_value,
                parameters: m.fit.parameters.len(),
                errors: frequency_holdout.iter().zip(predicted).map(|(a, p)| a - p).collect(),
            })
        })
        .collect();
    let verdict = verdict::verdict(&candidates);

    let mut notes = undefined_statistics(&models, spend.as_ref());
    notes.extend(interval_notes);
    Ok(Evaluation {
        notes,
        log: source.display().to_string(),
        time_unit: summary.time_unit,
        first_date: summary.first_date.to_string(),
        calibration_end: calibration_end.to_string(),
        observation_end: summary.observation_end.to_string(),
        holdout_length,
        calibration_weeks: (epoch_days(calibration_end) + 1 - first_day) as f64 / 7.0,
        frequency_groups: (0..FREQUENCY_GROUPS)
            .map(|g| {
                if g + 1 == FREQUENCY_GROUPS {
                    format!("{g}+")
                } else {
                    g.to_string()
                }
            })
            .collect(),
        actual,
        models,
        not_fitted,
        spend,
        spend_skipped,
        preferred,
        verdict,
        holdout_predictions,
        rfm,
        frequency_holdout,
    })
}

fn actuals(
    log: &Transactions,
    summary: &Summary,
    rfm: &RfmTable,
    frequency_holdout: &[f64],
    first_day: i32,
    n_weeks: usize,
) -> Result<Actuals> {
    let mut frequency = vec![0u64; FREQUENCY_GROUPS];
    let mut holdout_sum = [0.0; FREQUENCY_GROUPS];
    for (&x, &y) in rfm.frequency.iter().zip(frequency_holdout) {
        frequency[group_of(x)] += 1;
        holdout_sum[group_of(x)] += y;
    }
    let mut weekly = vec![0u64; n_weeks];
    for (day, n) in repeat_transactions_by_day(log, summary)? {
        let week = ((day - first_day) / 7) as usize;
        if let Some(w) = weekly.get_mut(week) {
            *w += n;
        }
    }
    let cumulative = weekly
        .iter()
        .scan(0u64, |total, &w| {
            *total += w;
            Some(*total)
        })
        .collect();
    Ok(Actuals {
        customers: rfm.len() as u64,
        calibration_repeat_transactions: rfm.frequency.iter().sum::<f64>() as u64,
        holdout_transactions: frequency_holdout.iter().sum::<f64>() as u64,
        holdout_customers_with_purchases: frequency_holdout.iter().filter(|&&y| y > 0.0).count() as u64,
        conditional_mean: holdout_sum
            .iter()
            .zip(&frequency)
            .map(|(s, &n)| if n > 0 { s / n as f64 } else { f64::NAN })
            .collect(),
        frequency,
        weekly,
        cumulative,
    })
}

/// A line for each statistic that came out NaN or infinite, saying why, so that the null the
/// JSON holds for it is explained and nothing undefined reaches a file unannounced.
fn undefined_statistics(models: &[ModelEvaluation], spend: Option<&SpendEvaluation>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(spend) = spend {
        if spend.without_forecast > 0 {
            notes.push(format!(
                "spend: {} holdout buyers without repeat purchases in calibration are left out of the spend check: \
                 with q ≤ 1 their expected spend is infinite",
                spend.without_forecast
            ));
        }
        if spend.customers == 0 {
            notes.push(
                "spend: no customer bought in the holdout, so there is no holdout spend to check the spend model against"
                    .to_string(),
            );
        } else if spend.repeat_customers == 0 {
            notes.push(
                "spend: none of the holdout buyers made repeat purchases in calibration, so the check of their own-spend forecasts is empty"
                    .to_string(),
            );
        }
    }
    for m in models {
        if !m.frequency.chi_square.is_finite() || !m.frequency.p_value.is_finite() {
            notes.push(format!(
                "{}: the chi-square of the frequency histogram is undefined (a group the model expects no customers in has some)",
                m.label
            ));
        }
        if !m.holdout.correlation.is_finite() {
            notes.push(format!(
                "{}: the correlation of predicted and actual holdout transactions is undefined (one of them is the same for every customer)",
                m.label
            ));
        }
        for e in &m.fit.parameters {
            let interval = [e.standard_error, e.ci95_low, e.ci95_high];
            if interval.iter().any(|v| v.is_some_and(|v| !v.is_finite())) {
                notes.push(format!(
                    "{}: the standard error or interval of {} is not finite (the observed information is singular in it)",
                    m.label, e.name
                ));
            }
        }
    }
    notes
}

/// Counts held as f64 (whole numbers, validated on reading), as integers.
fn whole(counts: &[f64]) -> Vec<i64> {
    counts.iter().map(|&x| x as i64).collect()
}

impl Evaluation {
    /// Per customer: calibration frequency, holdout transactions, and each model's prediction.
    pub fn holdout_frame(&self) -> Result<DataFrame> {
        let ctx = || "building the holdout predictions table".to_string();
        let rfm = &self.rfm;
        let mut columns = vec![
            rfm.customer_id.column(),
            // Counts are written as integers, as in every other table.
            Column::new("frequency".into(), whole(&rfm.frequency)),
            Column::new("recency".into(), &rfm.recency),
            Column::new("T".into(), &rfm.t),
            Column::new("frequency_holdout".into(), whole(&self.frequency_holdout)),
        ];
        for (kind, predicted) in &self.holdout_predictions {
            let name = format!("predicted_holdout_{}", kind.cli_name().replace('-', "_"));
            columns.push(Column::new(name.into(), predicted));
        }
        DataFrame::new_infer_height(columns).context(ctx)
    }
}
