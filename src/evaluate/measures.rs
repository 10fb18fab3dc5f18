//! The measures every holdout evaluation reports, whatever the model: parameter estimates with
//! their intervals, the calibration histogram's chi-square, and per-customer holdout accuracy.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::model_file::ModelFit;
use crate::warnings::FitWarning;

/// z of a two-sided 95% normal interval.
const Z_95: f64 = 1.959963984540054;

/// An estimate with its standard error and 95% interval. The interval is the normal one for
/// ln(parameter), the scale the fit works in, mapped back: p · exp(±1.96 · SE/p). It stays
/// positive, as the parameter does.
#[derive(Debug, Clone, Serialize)]
pub struct ParameterEstimate {
    pub name: String,
    pub estimate: f64,
    pub standard_error: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

pub(super) fn estimates(fit: &ModelFit<Vec<f64>>) -> Vec<ParameterEstimate> {
    fit.parameter_order
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let estimate = fit.params[i];
            let se = fit.standard_errors.as_ref().map(|s| s[i]);
            let spread = se.map(|se| (Z_95 * se / estimate).exp());
            ParameterEstimate {
                name: name.clone(),
                estimate,
                standard_error: se,
                ci95_low: spread.map(|f| estimate / f),
                ci95_high: spread.map(|f| estimate * f),
            }
        })
        .collect()
}

/// The fit statistics every model reports.
#[derive(Debug, Clone, Serialize)]
pub struct FitSummary {
    pub parameters: Vec<ParameterEstimate>,
    pub log_likelihood: f64,
    pub aic: f64,
    pub bic: f64,
    pub n_customers: u64,
    pub iterations: u64,
    pub warnings: Vec<FitWarning>,
    /// For a limiting model: which heterogeneity went to its limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl FitSummary {
    pub fn new(fit: &ModelFit<Vec<f64>>) -> Self {
        Self {
            parameters: estimates(fit),
            log_likelihood: fit.log_likelihood,
            aic: fit.aic,
            bic: fit.bic,
            n_customers: fit.n_customers,
            iterations: fit.iterations,
            warnings: fit.warnings.clone(),
            limit: fit.limit.clone(),
        }
    }
}

/// Figure 1: customers by number of repeat transactions in the calibration period.
#[derive(Debug, Clone, Serialize)]
pub struct FrequencyFit {
    /// Σ over customers of P(X(T_i) = n), and for "7+" the rest.
    pub expected: Vec<f64>,
    /// Σ (actual − expected)² / expected over the groups.
    pub chi_square: f64,
    /// Groups − 1 − parameters.
    pub degrees_of_freedom: u32,
    pub p_value: f64,
}

impl FrequencyFit {
    /// The chi-square of `observed` customers per group against `expected`, on groups − 1 −
    /// `parameters` degrees of freedom (at least 1).
    pub fn new(expected: Vec<f64>, observed: &[u64], parameters: usize) -> Self {
        let chi_square: f64 = expected
            .iter()
            .zip(observed)
            .map(|(e, &o)| (o as f64 - e).powi(2) / e)
            .sum();
        let degrees_of_freedom = (expected.len().saturating_sub(1)).saturating_sub(parameters).max(1) as u32;
        let p_value = ChiSquared::new(f64::from(degrees_of_freedom))
            .map(|d| d.sf(chi_square))
            .unwrap_or(f64::NAN);
        Self {
            expected,
            chi_square,
            degrees_of_freedom,
            p_value,
        }
    }
}

/// Customers whose predicted probability of buying in the holdout lies in [low, high), and the
/// share of them who did.
#[derive(Debug, Clone, Serialize)]
pub struct ReliabilityBin {
    pub low: f64,
    pub high: f64,
    pub customers: u64,
    /// Mean predicted P(at least one holdout purchase).
    pub predicted: f64,
    /// Share who made at least one.
    pub observed: f64,
}

/// How well P(at least one purchase in the holdout) is calibrated: a reliability diagram (ten
/// bins of predicted probability, empty ones left out) and the Brier score, the mean squared
/// difference between the prediction and whether the customer bought (0 is perfect; predicting
/// the overall share for everyone scores share × (1 − share)).
#[derive(Debug, Clone, Serialize)]
pub struct Reliability {
    pub bins: Vec<ReliabilityBin>,
    pub brier_score: f64,
}

impl Reliability {
    /// From each customer's predicted probability of buying and whether she bought.
    pub fn new(predicted: &[f64], bought: impl Iterator<Item = bool>) -> Self {
        const BINS: usize = 10;
        let mut sums = [(0u64, 0.0, 0u64); BINS];
        let mut squared = 0.0;
        let mut n = 0usize;
        for (&p, b) in predicted.iter().zip(bought) {
            let bin = ((p * BINS as f64).floor().max(0.0) as usize).min(BINS - 1);
            sums[bin].0 += 1;
            sums[bin].1 += p;
            sums[bin].2 += u64::from(b);
            squared += (p - f64::from(u8::from(b))).powi(2);
            n += 1;
        }
        let bins = sums
            .iter()
            .enumerate()
            .filter(|(_, s)| s.0 > 0)
            .map(|(k, &(customers, p, bought))| ReliabilityBin {
                low: k as f64 / BINS as f64,
                high: (k + 1) as f64 / BINS as f64,
                customers,
                predicted: p / customers as f64,
                observed: bought as f64 / customers as f64,
            })
            .collect();
        Self {
            bins,
            brier_score: squared / n.max(1) as f64,
        }
    }
}

/// Per-customer holdout accuracy of E[Y(holdout) | x, t_x, T] against the holdout transactions.
#[derive(Debug, Clone, Serialize)]
pub struct HoldoutAccuracy {
    pub predicted_transactions: f64,
    /// Σ over customers of 1 − P(Y(holdout) = 0 | x, t_x, T).
    pub predicted_customers_with_purchases: f64,
    pub mean_absolute_error: f64,
    pub root_mean_squared_error: f64,
    /// Pearson correlation of predicted and actual holdout transactions.
    pub correlation: f64,
}

impl HoldoutAccuracy {
    /// Accuracy of `predicted` holdout transactions against `actual`, per customer;
    /// `predicted_customers_with_purchases` is Σ 1 − P(none).
    pub fn new(predicted: &[f64], actual: &[f64], predicted_customers_with_purchases: f64) -> Self {
        let n = predicted.len() as f64;
        let (mut abs, mut sq) = (0.0, 0.0);
        for (p, y) in predicted.iter().zip(actual) {
            abs += (p - y).abs();
            sq += (p - y) * (p - y);
        }
        Self {
            predicted_transactions: predicted.iter().sum(),
            predicted_customers_with_purchases,
            mean_absolute_error: abs / n,
            root_mean_squared_error: (sq / n).sqrt(),
            correlation: pearson(predicted, actual),
        }
    }
}

/// Pearson correlation; NaN when either side is constant.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_symmetric_in_the_log_parameter() {
        let fit = ModelFit {
            params: vec![2.0],
            standard_errors: Some(vec![0.5]),
            covariance: None,
            parameter_order: vec!["r".into()],
            log_likelihood: 0.0,
            aic: 0.0,
            bic: 0.0,
            n_customers: 1,
            penalizer: 0.0,
            iterations: 0,
            warnings: vec![],
            limit: None,
        };
        let e = &estimates(&fit)[0];
        // 2 · exp(±1.96 · 0.25) = 2 · e^(±0.48999) = 3.2646…, 1.2253…
        assert!((e.ci95_high.unwrap() - 2.0 * (Z_95 * 0.25f64).exp()).abs() < 1e-15);
        assert!((e.ci95_low.unwrap() * e.ci95_high.unwrap() - 4.0).abs() < 1e-12);
    }

    #[test]
    fn reliability_bins_and_brier_score_match_a_hand_count() {
        // Predictions 0.05, 0.05, 0.15, 0.95 for customers who bought: no, yes, no, yes. Bins
        // [0, 0.1): 2 customers, mean 0.05, observed 1/2; [0.1, 0.2): 1, 0.15, 0; [0.9, 1): 1,
        // 0.95, 1. Brier: (0.05² + 0.95² + 0.15² + 0.05²)/4 = (0.0025 + 0.9025 + 0.0225 +
        // 0.0025)/4 = 0.2325.
        let r = Reliability::new(&[0.05, 0.05, 0.15, 0.95], [false, true, false, true].into_iter());
        let bins: Vec<(u64, f64, f64)> = r.bins.iter().map(|b| (b.customers, b.predicted, b.observed)).collect();
        assert_eq!(bins.len(), 3);
        for (got, want) in bins.iter().zip([(2, 0.05, 0.5), (1, 0.15, 0.0), (1, 0.95, 1.0)]) {
            assert_eq!(got.0, want.0);
            assert!(
                (got.1 - want.1).abs() < 1e-15 && (got.2 - want.2).abs() < 1e-15,
                "{got:?}"
            );
        }
        assert!((r.brier_score - 0.2325).abs() < 1e-15);
        // A probability of exactly 1 falls in the last bin.
        assert_eq!(Reliability::new(&[1.0], [true].into_iter()).bins[0].low, 0.9);
    }

    #[test]
    fn pearson_correlation_of_a_line_is_one_and_of_its_mirror_minus_one() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&a, &[2.0, 4.0, 6.0, 8.0]) - 1.0).abs() < 1e-15);
        assert!((pearson(&a, &[8.0, 6.0, 4.0, 2.0]) + 1.0).abs() < 1e-15);
        // By hand: a = (1,2,3,4), b = (1,3,2,4): Σ(a−ā)(b−b̄) = 4, Σ(a−ā)² = Σ(b−b̄)² = 5 → 0.8.
        assert!((pearson(&a, &[1.0, 3.0, 2.0, 4.0]) - 0.8).abs() < 1e-15);
    }
}
