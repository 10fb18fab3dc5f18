//! Plain-text reports printed by the command line.

use std::fmt::Write as _;

use crate::data::rfm::{RfmTable, Summary};
use crate::model_file::{FittedModels, ModelFit};
use crate::predict::Forecasts;

/// What a summary holds and what it left out.
pub fn summary_report(summary: &Summary) -> String {
    let mut s = String::new();
    let n = summary.frame.height();
    let _ = write!(
        s,
        "{n} customers; purchases from {} to {} (time unit: {})",
        summary.first_date, summary.observation_end, summary.time_unit
    );
    if let Some(cal) = summary.calibration_end {
        let _ = write!(s, "; calibration period ends {cal}");
    }
    s.push('\n');
    if summary.rows_after_observation_end > 0 {
        let _ = writeln!(
            s,
            "left out: {} log rows dated after the observation end {}",
            summary.rows_after_observation_end, summary.observation_end
        );
    }
    if summary.customers_after_calibration > 0 {
        let _ = writeln!(
            s,
            "left out: {} customers whose first purchase is after the calibration end",
            summary.customers_after_calibration
        );
    }
    s
}

fn model_table<P: serde::Serialize>(s: &mut String, fit: &ModelFit<P>) {
    let values = |p: &P| -> Vec<f64> {
        let v = serde_json::to_value(p).unwrap_or_default();
        fit.parameter_order
            .iter()
            .map(|name| v.get(name).and_then(|x| x.as_f64()).unwrap_or(f64::NAN))
            .collect()
    };
    let estimates = values(&fit.params);
    let errors = fit.standard_errors.as_ref().map(values);
    let _ = writeln!(s, "  {:<10} {:>12} {:>12}", "parameter", "estimate", "std. error");
    for (i, name) in fit.parameter_order.iter().enumerate() {
        let se = errors.as_ref().map_or("—".to_string(), |e| format!("{:.4}", e[i]));
        let _ = writeln!(s, "  {:<10} {:>12.4} {:>12}", name, estimates[i], se);
    }
    let _ = writeln!(
        s,
        "  log-likelihood {:.4}   AIC {:.2}   BIC {:.2}   iterations {}",
        fit.log_likelihood, fit.aic, fit.bic, fit.iterations
    );
    for w in &fit.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
}

/// Both fits: parameters with standard errors, log-likelihood, AIC, BIC.
pub fn fit_report(models: &FittedModels) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "BG/NBD purchase model ({} customers, time unit: {})",
        models.bg_nbd.n_customers, models.time_unit
    );
    model_table(&mut s, &models.bg_nbd);
    match (&models.gamma_gamma, &models.gamma_gamma_skipped) {
        (Some(gg), _) => {
            let _ = writeln!(
                s,
                "Gamma-Gamma spend model ({} customers with repeat purchases; {} with mean spend ≤ 0 left out)",
                gg.fit.n_customers, gg.excluded_nonpositive_spend
            );
            model_table(&mut s, &gg.fit);
            match gg.mean_spend {
                Some(m) => {
                    let _ = writeln!(s, "  population mean spend per transaction p·v/(q−1): {m:.2}");
                }
                None => {
                    let _ = writeln!(
                        s,
                        "  warning: q = {:.4} ≤ 1, so the mean spend is infinite: no spend or CLV forecasts from this fit",
                        gg.fit.params.q
                    );
                }
            }
        }
        (None, reason) => {
            let _ = writeln!(
                s,
                "Gamma-Gamma spend model: not fitted ({})",
                reason.as_deref().unwrap_or("no monetary values")
            );
        }
    }
    s
}

/// The `n` customers with the highest CLV (or, without a spend model, expected purchases).
pub fn top_customers(rfm: &RfmTable, forecasts: &Forecasts, horizon: f64, n: usize) -> String {
    let key: &[f64] = forecasts.clv.as_deref().unwrap_or(&forecasts.expected_purchases);
    let mut order: Vec<usize> = (0..rfm.len()).collect();
    order.sort_by(|&i, &j| key[j].total_cmp(&key[i]));
    let mut s = String::new();
    let by = if forecasts.clv.is_some() {
        "CLV"
    } else {
        "expected purchases"
    };
    let _ = writeln!(s, "Top {} customers by {by}:", n.min(order.len()));
    let _ = writeln!(
        s,
        "  {:<14} {:>5} {:>9} {:>9} {:>8} {:>12} {:>10} {:>10}",
        "customer_id",
        "x",
        "recency",
        "T",
        "p_alive",
        format!("E[Y({horizon:.4})]"),
        "E[spend]",
        "CLV"
    );
    for &i in order.iter().take(n) {
        let spend = forecasts
            .expected_avg_spend
            .as_ref()
            .map_or("—".into(), |v| format!("{:.2}", v[i]));
        let clv = forecasts.clv.as_ref().map_or("—".into(), |v| format!("{:.2}", v[i]));
        let _ = writeln!(
            s,
            "  {:<14} {:>5} {:>9.2} {:>9.2} {:>8.4} {:>12.4} {:>10} {:>10}",
            rfm.customer_id[i],
            rfm.frequency[i],
            rfm.recency[i],
            rfm.t[i],
            forecasts.p_alive[i],
            forecasts.expected_purchases[i],
            spend,
            clv
        );
    }
    if let Some(clv) = &forecasts.clv {
        let total: f64 = clv.iter().sum();
        let _ = writeln!(s, "Total CLV of all {} customers: {total:.2}", rfm.len());
    }
    s
}
