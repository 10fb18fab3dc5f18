//! Reports: the text the command line prints, and the value report's files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};

use crate::data::io::write_table;
use crate::data::rfm::{RfmTable, Summary};
use crate::data::transactions::NegativeAmounts;
use crate::decisions::{CustomerDecisions, GroupTotals, ValueReport};
use crate::error::{ClvError, PolarsContext, Result};
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

pub(crate) fn model_table(s: &mut String, fit: &ModelFit<Vec<f64>>) {
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
    match (&models.gamma_gamma, &models.gamma_gamma_skipped) {
        (Some(gg), _) => {
            let _ = writeln!(
                s,
                "Gamma-Gamma spend model ({} customers with repeat purchases; {} with mean spend ≤ 0 left out)",
                gg.fit.n_customers, gg.excluded_nonpositive_spend
            );
            model_table(&mut s, &gg.fit.erased());
            match gg.mean_spend {
                Some(m) => {
                    let formula = match gg.fit.params.q() {
                        Some(_) => "p·v/(q−1)",
                        None => "p/nu",
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
                reason.as_deref().unwrap_or("no monetary values")
            );
        }
    }
    s
}

/// With a heavy-tailed spend model (q < 2) the share of the forecast CLV held by customers without
/// repeat purchases, whose spend forecast is the population mean that q drives; with q ≤ 1, how
/// many customers have no forecast at all: a line to print.
pub fn spend_tail_note(models: &FittedModels, rfm: &RfmTable, forecasts: &Forecasts) -> Option<String> {
    let q = models.spend_model()?.q()?;
    let clv = forecasts.clv.as_ref()?;
    if q >= 2.0 {
        return None;
    }
    let unvalued = forecasts.unvalued();
    if unvalued > 0 {
        return Some(format!(
            "note: the spend model has q = {q:.4} ≤ 1, an infinite population mean spend: {unvalued} customers \
             without repeat purchases have no spend or CLV forecast (left empty), and totals leave them out"
        ));
    }
    let total: f64 = clv.iter().sum();
    let one_time: f64 = clv
        .iter()
        .zip(&rfm.frequency)
        .filter(|(_, &x)| x == 0.0)
        .map(|(c, _)| c)
        .sum();
    (total > 0.0).then(|| {
        format!(
            "note: the spend model has q = {q:.4} < 2: customers without repeat purchases, valued at the population \
             mean spend, hold {:.1}% of the forecast CLV",
            100.0 * one_time / total
        )
    })
}

/// The `n` customers with the highest CLV (or, without a spend model, expected purchases).
pub fn top_customers(rfm: &RfmTable, forecasts: &Forecasts, horizon: f64, n: usize) -> String {
    let key: &[f64] = forecasts.clv.as_deref().unwrap_or(&forecasts.expected_purchases);
    // Only the first n are needed in order: select them, then sort those (ties in table order).
    // A customer without a CLV (NaN) ranks last.
    let rank = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    let by_key = |i: &usize, j: &usize| rank(key[*j]).total_cmp(&rank(key[*i])).then(i.cmp(j));
    let mut order: Vec<usize> = (0..rfm.len()).collect();
    if n < order.len() {
        if n > 0 {
            order.select_nth_unstable_by(n - 1, by_key);
        }
        order.truncate(n);
    }
    order.sort_by(by_key);
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
            .map_or("—".into(), |v| money(v[i]));
        let clv = forecasts.clv.as_ref().map_or("—".into(), |v| money(v[i]));
        let _ = writeln!(
            s,
            "  {:<14} {:>5} {:>9.2} {:>9.2} {:>8.4} {:>12.4} {:>10} {:>10}",
            rfm.customer_id.label(i),
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
        let total: f64 = clv.iter().filter(|v| !v.is_nan()).sum();
        let unvalued = forecasts.unvalued();
        if unvalued > 0 {
            let valued = rfm.len() - unvalued;
            let _ = writeln!(s, "Total CLV of the {valued} customers with one: {total:.2}");
        } else {
            let _ = writeln!(s, "Total CLV of all {} customers: {total:.2}", rfm.len());
        }
    }
    s
}

/// An amount to two decimals, or "—" where there is none (NaN).
fn money(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else {
        format!("{v:.2}")
    }
}

/// The decision summary: value concentration, tiers, statuses, at-risk high-value customers,
/// acquisition economics and cohorts.
pub fn value_report_text(
    rfm: &RfmTable,
    forecasts: &Forecasts,
    decisions: &CustomerDecisions,
    report: &ValueReport,
    top: usize,
) -> String {
    let mut s = String::new();
    let share = |k: usize| report.concentration.get(k - 1).map_or(f64::NAN, |c| c.1);
    let _ = writeln!(
        s,
        "Value concentration: the top 1% of customers hold {:.1}% of forecast CLV, the top 10% {:.1}%, the top 20% {:.1}%.",
        share(1),
        share(10),
        share(20)
    );
    let total_clv = report.total.clv;
    let cac_header = if report.acquisition.is_some() { "   CLV:CAC" } else { "" };
    let _ = writeln!(s, "Value tiers (customers ranked by CLV):");
    let _ = writeln!(
        s,
        "  {:<12} {:>9} {:>12} {:>13} {:>12} {:>9} {:>10}{cac_header}",
        "tier", "customers", "E[purchases]", "E[revenue]", "CLV", "% of CLV", "mean CLV"
    );
    let row = |s: &mut String, g: &GroupTotals, ratio: Option<f64>| {
        let pct = if total_clv == 0.0 {
            0.0
        } else {
            100.0 * g.clv / total_clv
        };
        let _ = write!(
            s,
            "  {:<12} {:>9} {:>12.1} {:>13.2} {:>12.2} {:>9.1} {:>10.2}",
            g.name,
            g.customers,
            g.expected_purchases,
            g.expected_revenue,
            g.clv,
            pct,
            g.mean_clv()
        );
        if let Some(r) = ratio {
            let _ = write!(s, " {r:>9.2}");
        }
        s.push('\n');
    };
    for (i, tier) in report.tiers.iter().enumerate() {
        row(
            &mut s,
            tier,
            report.acquisition.as_ref().map(|a| a.clv_to_cac_by_tier[i]),
        );
    }
    row(&mut s, &report.total, report.acquisition.as_ref().map(|a| a.clv_to_cac));
    let _ = writeln!(s, "Customer status:");
    for g in report.statuses.iter().filter(|g| g.customers > 0) {
        let _ = writeln!(s, "  {:<18} {:>9} customers   CLV {:>12.2}", g.name, g.customers, g.clv);
    }
    let clv = forecasts.clv.as_deref().unwrap_or(&[]);
    let _ = writeln!(
        s,
        "At-risk high-value customers: {}; by value at stake (CLV if still a customer × churn probability):",
        report.at_risk_high_value.len()
    );
    if !report.at_risk_high_value.is_empty() {
        let _ = writeln!(
            s,
            "  {:<14} {:>8} {:>10} {:>15}",
            "customer_id", "p_alive", "CLV", "value at stake"
        );
        for &i in report.at_risk_high_value.iter().take(top) {
            let _ = writeln!(
                s,
                "  {:<14} {:>8.4} {:>10.2} {:>15.2}",
                rfm.customer_id.label(i),
                forecasts.p_alive[i],
                clv[i],
                decisions.value_at_stake[i]
            );
        }
    }
    if let Some(a) = &report.acquisition {
        let _ = writeln!(
            s,
            "Acquisition at CAC {:.2}: CLV:CAC {:.2}; break-even CAC (mean CLV) {:.2}",
            a.cac, a.clv_to_cac, a.break_even_cac
        );
    }
    if !report.cohorts.is_empty() {
        let _ = writeln!(s, "Cohorts (month of first purchase):");
        let _ = writeln!(
            s,
            "  {:<8} {:>9} {:>10} {:>12}",
            "cohort", "customers", "mean CLV", "CLV"
        );
        for c in &report.cohorts {
            let _ = writeln!(
                s,
                "  {:<8} {:>9} {:>10.2} {:>12.2}",
                c.name,
                c.customers,
                c.mean_clv(),
                c.clv
            );
        }
    }
    s
}

/// One row per group; shares are of `total` (all customers).
fn groups_frame(groups: &[GroupTotals], label: &str, total: &GroupTotals, ratios: Option<&[f64]>) -> Result<DataFrame> {
    let (n, total_clv) = (total.customers, total.clv);
    let mut columns = vec![
        Column::new(label.into(), groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>()),
        Column::new(
            "customers".into(),
            groups.iter().map(|g| g.customers as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "share_of_customers".into(),
            groups
                .iter()
                .map(|g| 100.0 * g.customers as f64 / n.max(1) as f64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "expected_purchases".into(),
            groups.iter().map(|g| g.expected_purchases).collect::<Vec<_>>(),
        ),
        Column::new(
            "expected_revenue".into(),
            groups.iter().map(|g| g.expected_revenue).collect::<Vec<_>>(),
        ),
        Column::new("clv".into(), groups.iter().map(|g| g.clv).collect::<Vec<_>>()),
        Column::new(
            "share_of_clv".into(),
            groups
                .iter()
                .map(|g| {
                    if total_clv == 0.0 {
                        0.0
                    } else {
                        100.0 * g.clv / total_clv
                    }
                })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "mean_clv".into(),
            groups.iter().map(GroupTotals::mean_clv).collect::<Vec<_>>(),
        ),
    ];
    if let Some(r) = ratios {
        columns.push(Column::new("clv_to_cac".into(), r));
    }
    DataFrame::new_infer_height(columns).context(|| format!("building the {label} table"))
}

/// Writes the value report into `dir`: value_tiers.csv, status.csv, value_concentration.csv,
/// at_risk_high_value.csv, cohorts.csv (with first purchases), acquisition.csv (with a CAC) and
/// the value_concentration figure as PNG and SVG. Returns the paths written.
pub fn write_value_report(
    dir: &Path,
    rfm: &RfmTable,
    forecasts: &Forecasts,
    decisions: &CustomerDecisions,
    report: &ValueReport,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| ClvError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut save = |name: &str, mut frame: DataFrame| -> Result<()> {
        let path = dir.join(name);
        write_table(&mut frame, &path)?;
        written.push(path);
        Ok(())
    };
    let mut tiers = report.tiers.clone();
    tiers.push(report.total.clone());
    let tier_ratios: Option<Vec<f64>> = report.acquisition.as_ref().map(|a| {
        let mut r = a.clv_to_cac_by_tier.clone();
        r.push(a.clv_to_cac);
        r
    });
    save(
        "value_tiers.csv",
        groups_frame(&tiers, "tier", &report.total, tier_ratios.as_deref())?,
    )?;
    save(
        "status.csv",
        groups_frame(&report.statuses, "status", &report.total, None)?,
    )?;
    let concentration = DataFrame::new_infer_height(vec![
        Column::new(
            "top_percent_of_customers".into(),
            report.concentration.iter().map(|c| c.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "share_of_clv".into(),
            report.concentration.iter().map(|c| c.1).collect::<Vec<_>>(),
        ),
    ])
    .context(|| "building the concentration table".to_string())?;
    save("value_concentration.csv", concentration)?;
    let clv = forecasts.clv.as_deref().unwrap_or(&[]);
    let at_risk = &report.at_risk_high_value;
    let pick = |v: &[f64]| at_risk.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let at_risk_frame = DataFrame::new_infer_height(vec![
        rfm.customer_id
            .column_of(at_risk)
            .context(|| "building the at-risk table".to_string())?,
        Column::new("frequency".into(), pick(&rfm.frequency)),
        Column::new(
            "historical_repeat_revenue".into(),
            at_risk
                .iter()
                .map(|&i| rfm.frequency[i] * rfm.monetary_value.as_ref().map_or(0.0, |m| m[i]))
                .collect::<Vec<_>>(),
        ),
        Column::new("p_alive".into(), pick(&forecasts.p_alive)),
        Column::new("clv".into(), pick(clv)),
        Column::new("value_at_stake".into(), pick(&decisions.value_at_stake)),
    ])
    .context(|| "building the at-risk table".to_string())?;
    save("at_risk_high_value.csv", at_risk_frame)?;
    if !report.cohorts.is_empty() {
        save(
            "cohorts.csv",
            groups_frame(&report.cohorts, "cohort", &report.total, None)?,
        )?;
    }
    if let Some(a) = &report.acquisition {
        let frame = DataFrame::new_infer_height(vec![
            Column::new("cac".into(), [a.cac]),
            Column::new("mean_clv".into(), [report.total.mean_clv()]),
            Column::new("clv_to_cac".into(), [a.clv_to_cac]),
            Column::new("break_even_cac".into(), [a.break_even_cac]),
        ])
        .context(|| "building the acquisition table".to_string())?;
        save("acquisition.csv", frame)?;
    }
    let (png, svg) = (dir.join("value_concentration.png"), dir.join("value_concentration.svg"));
    crate::figures::value_concentration(&report.concentration, &png, &svg)?;
    written.push(png);
    written.push(svg);
    Ok(written)
}

fn format_interval(e: &crate::evaluate::ParameterEstimate) -> String {
    match (e.standard_error, e.ci95_low, e.ci95_high) {
        (Some(se), Some(lo), Some(hi)) => format!("{:>10.4} {:>10.4} [{:.4}, {:.4}]", e.estimate, se, lo, hi),
        _ => format!("{:>10.4} {:>10}", e.estimate, "—"),
    }
}

/// The holdout evaluation as text: per model the fit, the calibration histogram with its
/// chi-square, the holdout accuracy and the conditional expectations, then the spend model and
/// the comparison across models.
pub fn evaluation_report(ev: &crate::evaluate::Evaluation) -> String {
    let mut s = String::new();
    let a = &ev.actual;
    let _ = writeln!(
        s,
        "Holdout evaluation of {}: calibration {} to {}, holdout to {} ({:.2} {}); {} customers",
        ev.log, ev.first_date, ev.calibration_end, ev.observation_end, ev.holdout_length, ev.time_unit, a.customers
    );
    let _ = writeln!(
        s,
        "Actual: {} repeat transactions in calibration; {} transactions by {} customers in the holdout",
        a.calibration_repeat_transactions, a.holdout_transactions, a.holdout_customers_with_purchases
    );
    for m in &ev.models {
        let _ = writeln!(s, "\n{} ({} customers)", m.label, m.fit.n_customers);
        if let Some(limit) = &m.fit.limit {
            let _ = writeln!(s, "  limiting model, {limit}");
        }
        let _ = writeln!(
            s,
            "  {:<10} {:>10} {:>10} 95% interval (log scale)",
            "parameter", "estimate", "std. error"
        );
        for e in &m.fit.parameters {
            let _ = writeln!(s, "  {:<10} {}", e.name, format_interval(e));
        }
        let _ = writeln!(
            s,
            "  log-likelihood {:.4}   AIC {:.2}   BIC {:.2}",
            m.fit.log_likelihood, m.fit.aic, m.fit.bic
        );
        for w in &m.fit.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
        let _ = writeln!(
            s,
            "  calibration repeat transactions: actual {}, model {:.1}",
            a.calibration_repeat_transactions, m.predicted_calibration_repeat_transactions
        );
        let _ = writeln!(
            s,
            "  holdout transactions: actual {}, model {:.1} ({:+.1}%); customers buying: actual {}, model {:.1}",
            a.holdout_transactions,
            m.holdout.predicted_transactions,
            100.0 * (m.holdout.predicted_transactions / a.holdout_transactions as f64 - 1.0),
            a.holdout_customers_with_purchases,
            m.holdout.predicted_customers_with_purchases
        );
        let _ = writeln!(
            s,
            "  per customer: MAE {:.4}, RMSE {:.4}, correlation {:.4}",
            m.holdout.mean_absolute_error, m.holdout.root_mean_squared_error, m.holdout.correlation
        );
        let _ = writeln!(
            s,
            "  {:<22}{}",
            "calibration repeats",
            ev.frequency_groups
                .iter()
                .map(|g| format!("{g:>8}"))
                .collect::<String>()
        );
        let row = |label: &str, values: Vec<String>| format!("  {label:<22}{}", values.concat());
        let _ = writeln!(
            s,
            "{}",
            row(
                "customers, actual",
                a.frequency.iter().map(|v| format!("{v:>8}")).collect()
            )
        );
        let _ = writeln!(
            s,
            "{}",
            row(
                "customers, model",
                m.frequency.expected.iter().map(|v| format!("{v:>8.1}")).collect()
            )
        );
        let _ = writeln!(
            s,
            "{}",
            row(
                "holdout mean, actual",
                a.conditional_mean.iter().map(|v| format!("{v:>8.3}")).collect()
            )
        );
        let _ = writeln!(
            s,
            "{}",
            row(
                "holdout mean, model",
                m.conditional_predicted_mean
                    .iter()
                    .map(|v| format!("{v:>8.3}"))
                    .collect()
            )
        );
        let _ = writeln!(
            s,
            "  chi-square {:.2} on {} degrees of freedom, p = {:.4}",
            m.frequency.chi_square, m.frequency.degrees_of_freedom, m.frequency.p_value
        );
    }
    match (&ev.spend, &ev.spend_skipped) {
        (Some(sp), _) => {
            let _ = writeln!(s, "\nGamma-Gamma spend model ({} customers)", sp.fit.n_customers);
            for e in &sp.fit.parameters {
                let _ = writeln!(s, "  {:<10} {}", e.name, format_interval(e));
            }
            let _ = writeln!(
                s,
                "  holdout buyers ({}): mean spend per transaction actual {:.2}, predicted {:.2}; MAE {:.2}",
                sp.customers, sp.actual_mean_spend, sp.predicted_mean_spend, sp.mean_absolute_error
            );
            let _ = writeln!(
                s,
                "  of them with calibration repeat purchases ({}): actual {:.2}, predicted {:.2}",
                sp.repeat_customers, sp.repeat_actual_mean_spend, sp.repeat_predicted_mean_spend
            );
        }
        (None, reason) => {
            let _ = writeln!(
                s,
                "\nGamma-Gamma spend model: not evaluated ({})",
                reason.as_deref().unwrap_or("no amounts")
            );
        }
    }
    for note in &ev.notes {
        let _ = writeln!(s, "\nnote: {note}");
    }
    for n in &ev.not_fitted {
        let _ = writeln!(s, "\n{}: not fitted: {}", n.label, n.reason);
    }
    if ev.models.len() > 1 {
        let _ = writeln!(s, "\nComparison");
        let _ = writeln!(
            s,
            "  {:<11} {:>11} {:>10} {:>10} {:>9} {:>8} {:>9} {:>10}",
            "model", "log-lik.", "AIC", "BIC", "chi-sq.", "MAE", "holdout", "calib."
        );
        for m in &ev.models {
            let _ = writeln!(
                s,
                "  {:<11} {:>11.2} {:>10.2} {:>10.2} {:>9.2} {:>8.4} {:>9.1} {:>10.1}",
                m.label,
                m.fit.log_likelihood,
                m.fit.aic,
                m.fit.bic,
                m.frequency.chi_square,
                m.holdout.mean_absolute_error,
                m.holdout.predicted_transactions,
                m.predicted_calibration_repeat_transactions
            );
        }
        let _ = writeln!(
            s,
            "  {:<11} {:>11} {:>10} {:>10} {:>9} {:>8} {:>9} {:>10}",
            "actual", "", "", "", "", "", a.holdout_transactions, a.calibration_repeat_transactions
        );
        if let Some(p) = &ev.preferred {
            let _ = writeln!(
                s,
                "  preferred: {} by BIC (lowest), {} by holdout MAE (lowest)",
                p.by_bic.label(),
                p.by_holdout_error.label()
            );
        }
    }
    s
}

/// Writes the evaluation into `dir`: `evaluation.json` (every number), `evaluation.txt` (the
/// printed report), `holdout_predictions.csv` (per customer) and the four figures of Fader,
/// Hardie & Lee (2005) as PNG and SVG. Returns the files written.
pub fn write_evaluation(dir: &Path, ev: &crate::evaluate::Evaluation) -> Result<Vec<PathBuf>> {
    use crate::figures::{draw_figure, Figure, Series};
    std::fs::create_dir_all(dir).map_err(|source| ClvError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let json = serde_json::to_string_pretty(ev)
        .map_err(|e| ClvError::InvalidArgument(format!("serializing the evaluation: {e}")))?;
    let path = dir.join("evaluation.json");
    crate::data::io::write_text(&path, &json)?;
    written.push(path);
    let path = dir.join("evaluation.txt");
    crate::data::io::write_text(&path, &evaluation_report(ev))?;
    written.push(path);
    let path = dir.join("holdout_predictions.csv");
    write_table(&mut ev.holdout_frame()?, &path)?;
    written.push(path);

    let a = &ev.actual;
    let groups: Vec<(f64, usize)> = (0..ev.frequency_groups.len()).map(|g| (g as f64, g)).collect();
    let weeks =
        |values: &[f64]| -> Vec<(f64, f64)> { values.iter().enumerate().map(|(k, &v)| ((k + 1) as f64, v)).collect() };
    let as_f64 = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let model_series = |pick: &dyn Fn(&crate::evaluate::ModelEvaluation) -> Vec<(f64, f64)>| {
        ev.models
            .iter()
            .map(|m| Series {
                label: m.label.to_string(),
                points: pick(m),
            })
            .collect::<Vec<_>>()
    };
    let calibration_marker = Some((ev.calibration_weeks, "end of calibration"));
    let week_axis = format!("Week since {}", ev.first_date);
    let figures = [
        (
            "frequency_histogram",
            Figure {
                title: "Customers by repeat transactions in the calibration period",
                x_desc: "Repeat transactions in the calibration period",
                y_desc: "Customers",
                categories: Some(&ev.frequency_groups),
                marker: None,
                legend_left: false,
                series: std::iter::once(Series {
                    label: "actual".into(),
                    points: groups.iter().map(|&(x, g)| (x, a.frequency[g] as f64)).collect(),
                })
                .chain(model_series(&|m| {
                    groups.iter().map(|&(x, g)| (x, m.frequency.expected[g])).collect()
                }))
                .collect(),
            },
        ),
        (
            "cumulative_repeat_transactions",
            Figure {
                title: "Cumulative repeat transactions, calibration and holdout",
                x_desc: &week_axis,
                y_desc: "Cumulative repeat transactions",
                categories: None,
                marker: calibration_marker,
                legend_left: true,
                series: std::iter::once(Series {
                    label: "actual".into(),
                    points: weeks(&as_f64(&a.cumulative)),
                })
                .chain(model_series(&|m| weeks(&m.expected_cumulative)))
                .collect(),
            },
        ),
        (
            "weekly_repeat_transactions",
            Figure {
                title: "Weekly repeat transactions, calibration and holdout",
                x_desc: &week_axis,
                y_desc: "Repeat transactions per week",
                categories: None,
                marker: calibration_marker,
                legend_left: true,
                series: std::iter::once(Series {
                    label: "actual".into(),
                    points: weeks(&as_f64(&a.weekly)),
                })
                .chain(model_series(&|m| weeks(&m.expected_weekly)))
                .collect(),
            },
        ),
        (
            "conditional_expectations",
            Figure {
                title: "Holdout transactions by calibration repeat transactions",
                x_desc: "Repeat transactions in the calibration period",
                y_desc: "Mean transactions per customer in the holdout",
                categories: Some(&ev.frequency_groups),
                marker: None,
                legend_left: true,
                series: std::iter::once(Series {
                    label: "actual".into(),
                    points: groups.iter().map(|&(x, g)| (x, a.conditional_mean[g])).collect(),
                })
                .chain(model_series(&|m| {
                    groups
                        .iter()
                        .map(|&(x, g)| (x, m.conditional_predicted_mean[g]))
                        .collect()
                }))
                .collect(),
            },
        ),
    ];
    for (name, figure) in &figures {
        let (png, svg) = (dir.join(format!("{name}.png")), dir.join(format!("{name}.svg")));
        draw_figure(figure, &png, &svg)?;
        written.push(png);
        written.push(svg);
    }
    Ok(written)
}
