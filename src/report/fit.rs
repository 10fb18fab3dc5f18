//! The log's summary and the fitted models, as the terminal shows them.

use std::fmt::Write as _;

use crate::data::period::Period;
use crate::data::rfm::Summary;
use crate::data::transactions::NegativeAmounts;
use crate::model_file::{FittedModels, GammaGammaFit, ModelFit};
use crate::models::bg_bb::BgBb;
use crate::models::gamma_gamma::SpendParams;

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
    if summary.blank_rows > 0 {
        let _ = writeln!(s, "skipped: {} blank log rows", summary.blank_rows);
    }
    if summary.negative_rows > 0 {
        let _ = match summary.negative_amounts {
            NegativeAmounts::Drop => writeln!(s, "left out: {} log rows with a negative amount", summary.negative_rows),
            _ => writeln!(
                s,
                "netted: {} log rows with a negative amount; {} customer-days whose net amount was ≤ 0 are not purchases",
                summary.negative_rows, summary.return_days_dropped
            ),
        };
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

fn model_table(s: &mut String, fit: &ModelFit<Vec<f64>>) {
    if let Some(limit) = &fit.limit {
        let _ = writeln!(s, "  limiting model, {limit}");
    }
    let estimates = &fit.params;
    let errors = fit.standard_errors.as_ref();
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
    if fit.penalizer > 0.0 {
        let _ = writeln!(
            s,
            "  penalized fit: λ = {} (the log-likelihood above is the data's, without the penalty)",
            fit.penalizer
        );
    }
    for w in &fit.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
}

/// Both fits: parameters with standard errors, log-likelihood, AIC, BIC.
pub fn fit_report(models: &FittedModels) -> String {
    let mut s = String::new();
    let purchase = models.purchase.erased();
    let _ = writeln!(
        s,
        "{} purchase model ({} customers, time unit: {})",
        models.purchase.kind().label(),
        purchase.n_customers,
        models.time_unit
    );
    model_table(&mut s, &purchase);
    spend_model_text(
        &mut s,
        models.gamma_gamma.as_ref(),
        models.gamma_gamma_skipped.as_deref(),
    );
    s
}

/// The BG/BB fit and the spend model beside it, for `clv run --model bg-bb`.
pub fn bg_bb_report(
    fit: &ModelFit<BgBb>,
    period: Period,
    gamma_gamma: Option<&GammaGammaFit>,
    skipped: Option<&str>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "BG/BB purchase model (Fader, Hardie & Shang 2010; {} customers, one opportunity per {period})",
        fit.n_customers
    );
    model_table(&mut s, &fit.erased());
    spend_model_text(&mut s, gamma_gamma, skipped);
    s
}

fn spend_model_text(s: &mut String, gamma_gamma: Option<&GammaGammaFit>, skipped: Option<&str>) {
    match (gamma_gamma, skipped) {
        (Some(gg), _) => {
            let _ = writeln!(
                s,
                "Gamma-Gamma spend model ({} customers with repeat purchases; {} with mean spend ≤ 0 left out)",
                gg.fit.n_customers, gg.excluded_nonpositive_spend
            );
            model_table(s, &gg.fit.erased());
            match gg.mean_spend {
                Some(m) => {
                    let formula = match gg.fit.params {
                        SpendParams::GammaGamma(_) => "p·v/(q−1)",
                        SpendParams::Homogeneous(_) => "p/nu",
                        SpendParams::Constant(_) => "s/(q−1)",
                    };
                    let _ = writeln!(s, "  population mean spend per transaction {formula}: {m:.2}");
                }
                None => {
                    let _ = writeln!(s, "  population mean spend per transaction: infinite (q ≤ 1)");
                }
            }
        }
        (None, reason) => {
            let _ = writeln!(
                s,
                "Gamma-Gamma spend model: not fitted ({})",
                reason.unwrap_or("no monetary values")
            );
        }
    }
}
