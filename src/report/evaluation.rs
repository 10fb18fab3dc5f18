//! The holdout evaluation (`clv evaluate`): its text and its files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::data::io::write_table;
use crate::error::{ClvError, Result};
use crate::forecast::intervals::TotalInterval;

fn format_interval(e: &crate::evaluate::ParameterEstimate) -> String {
    match (e.standard_error, e.ci95_low, e.ci95_high) {
        (Some(se), Some(lo), Some(hi)) => format!("{:>10.4} {:>10.4} [{:.4}, {:.4}]", e.estimate, se, lo, hi),
        _ => format!("{:>10.4} {:>10}", e.estimate, "—"),
    }
}

/// A fit's lines in an evaluation: its limit, parameters with intervals, likelihood, warnings.
pub(super) fn write_fit(s: &mut String, fit: &crate::evaluate::FitSummary) {
    if let Some(limit) = &fit.limit {
        let _ = writeln!(s, "  limiting model, {limit}");
    }
    let _ = writeln!(
        s,
        "  {:<10} {:>10} {:>10} 95% interval (log scale)",
        "parameter", "estimate", "std. error"
    );
    for e in &fit.parameters {
        let _ = writeln!(s, "  {:<10} {}", e.name, format_interval(e));
    }
    let _ = writeln!(
        s,
        "  log-likelihood {:.4}   AIC {:.2}   BIC {:.2}",
        fit.log_likelihood, fit.aic, fit.bic
    );
    for w in &fit.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
}

/// The holdout total's interval at `level` from the models `drawn` ("200 parameter draws"), and
/// whether the `actual` total lies inside it.
pub(super) fn write_holdout_interval(s: &mut String, level: f64, drawn: &str, total: &TotalInterval, actual: u64) {
    let where_actual = match ((actual as f64) < total.lo, actual as f64 > total.hi) {
        (true, _) => "below it",
        (_, true) => "above it",
        _ => "inside it",
    };
    let _ = writeln!(
        s,
        "  holdout transactions, {}% interval from parameter uncertainty ({drawn}): [{:.1}, {:.1}]; the actual \
         {actual} lies {where_actual}",
        100.0 * level,
        total.lo,
        total.hi,
    );
}

/// A model's holdout accuracy against the actual transactions and buyers, in two lines.
pub(super) fn write_holdout(
    s: &mut String,
    holdout: &crate::evaluate::HoldoutAccuracy,
    transactions: u64,
    buyers: u64,
) {
    let _ = writeln!(
        s,
        "  holdout transactions: actual {transactions}, model {:.1} ({:+.1}%); customers buying: actual {buyers}, \
         model {:.1}",
        holdout.predicted_transactions,
        100.0 * (holdout.predicted_transactions / transactions as f64 - 1.0),
        holdout.predicted_customers_with_purchases
    );
    // The correlation is undefined where every customer is forecast (or bought) the same.
    let correlation = match holdout.correlation.is_nan() {
        true => "— (no spread to correlate)".to_string(),
        false => format!("{:.4}", holdout.correlation),
    };
    let _ = writeln!(
        s,
        "  per customer: MAE {:.4}, RMSE {:.4}, correlation {correlation}",
        holdout.mean_absolute_error, holdout.root_mean_squared_error
    );
}

/// A group's mean in a column of width 8, or "—" for a group without customers (NaN).
fn group_mean(v: f64) -> String {
    match v.is_nan() {
        true => format!("{:>8}", "—"),
        false => format!("{v:>8.3}"),
    }
}

/// P(any holdout purchase), predicted against observed, by bin, with the Brier score.
fn write_reliability(s: &mut String, r: &crate::evaluate::Reliability) {
    let _ = writeln!(
        s,
        "  P(any purchase in the holdout), predicted vs observed share (Brier score {:.4}):",
        r.brier_score
    );
    let cells: Vec<String> = r
        .bins
        .iter()
        .map(|b| {
            format!(
                "{:.0}–{:.0}%: {:.1}% vs {:.1}% ({})",
                100.0 * b.low,
                100.0 * b.high,
                100.0 * b.predicted,
                100.0 * b.observed,
                b.customers
            )
        })
        .collect();
    for line in cells.chunks(3) {
        let _ = writeln!(s, "    {}", line.join("; "));
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
        write_fit(&mut s, &m.fit);
        let _ = writeln!(
            s,
            "  calibration repeat transactions: actual {}, model {:.1}",
            a.calibration_repeat_transactions, m.predicted_calibration_repeat_transactions
        );
        write_holdout(
            &mut s,
            &m.holdout,
            a.holdout_transactions,
            a.holdout_customers_with_purchases,
        );
        if let Some(i) = &m.intervals {
            let drawn = i.method.describe(i.draws);
            write_holdout_interval(&mut s, i.level, &drawn, &i.holdout_transactions, a.holdout_transactions);
        }
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
                a.conditional_mean.iter().map(|&v| group_mean(v)).collect()
            )
        );
        let _ = writeln!(
            s,
            "{}",
            row(
                "holdout mean, model",
                m.conditional_predicted_mean.iter().map(|&v| group_mean(v)).collect()
            )
        );
        let _ = writeln!(
            s,
            "  chi-square {:.2} on {} degrees of freedom, p = {:.4}",
            m.frequency.chi_square, m.frequency.degrees_of_freedom, m.frequency.p_value
        );
        write_reliability(&mut s, &m.reliability);
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
        if let Some(v) = &ev.verdict {
            let _ = writeln!(s, "\nRecommended: {}: {}", v.recommended.label(), v.reason);
            for note in &v.notes {
                let _ = writeln!(s, "  note: {note}");
            }
        }
    }
    s
}

/// Creates `dir` and writes `evaluation.json` (every number of `evaluation`) and
/// `evaluation.txt` (`text`, the printed report) into it; returns the files written.
pub(super) fn write_json_and_text(dir: &Path, evaluation: &impl serde::Serialize, text: &str) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| ClvError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let json = serde_json::to_string_pretty(evaluation)
        .map_err(|e| ClvError::InvalidArgument(format!("serializing the evaluation: {e}")))?;
    let (json_path, text_path) = (dir.join("evaluation.json"), dir.join("evaluation.txt"));
    crate::data::io::write_text(&json_path, &json)?;
    crate::data::io::write_text(&text_path, text)?;
    Ok(vec![json_path, text_path])
}

/// Writes the evaluation into `dir`: `evaluation.json` (every number), `evaluation.txt` (the
/// printed report), `holdout_predictions.csv` (per customer) and the four figures of Fader,
/// Hardie & Lee (2005) as PNG and SVG. Returns the files written.
pub fn write_evaluation(dir: &Path, ev: &crate::evaluate::Evaluation) -> Result<Vec<PathBuf>> {
    let mut written = write_json_and_text(dir, ev, &evaluation_report(ev))?;
    let path = dir.join("holdout_predictions.csv");
    write_table(&mut ev.holdout_frame()?, &path)?;
    written.push(path);

    // The figures need plotters (the `figures` feature, on with the command line).
    #[cfg(feature = "figures")]
    write_figures(dir, ev, &mut written)?;
    Ok(written)
}

/// The four figures of Fader, Hardie & Lee (2005) and the reliability diagram of P(any holdout
/// purchase), as PNG and SVG, added to `written`.
#[cfg(feature = "figures")]
fn write_figures(dir: &Path, ev: &crate::evaluate::Evaluation, written: &mut Vec<PathBuf>) -> Result<()> {
    use crate::figures::{draw_figure, Figure, Series};
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
    // With intervals, each model's cumulative forecast is shaded between its bounds.
    let cumulative_bands: Vec<crate::figures::Band> = ev
        .models
        .iter()
        .enumerate()
        .filter_map(|(j, m)| {
            let i = m.intervals.as_ref()?;
            let points = (i.cumulative_lo.iter().zip(&i.cumulative_hi).enumerate())
                .map(|(k, (&lo, &hi))| ((k + 1) as f64, lo, hi))
                .collect();
            Some((j + 1, points))
        })
        .collect();
    let cumulative_title = match ev.models.iter().find_map(|m| m.intervals.as_ref()) {
        Some(i) => format!(
            "Cumulative repeat transactions, calibration and holdout (shaded: {}% intervals)",
            100.0 * i.level
        ),
        None => "Cumulative repeat transactions, calibration and holdout".to_string(),
    };
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
                bands: Vec::new(),
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
                title: &cumulative_title,
                x_desc: &week_axis,
                y_desc: "Cumulative repeat transactions",
                categories: None,
                marker: calibration_marker,
                legend_left: true,
                bands: cumulative_bands,
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
                bands: Vec::new(),
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
                bands: Vec::new(),
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
        (
            "reliability",
            Figure {
                title: "P(any purchase in the holdout): predicted against observed",
                x_desc: "Predicted probability of at least one holdout purchase (mean of the bin)",
                y_desc: "Share of the bin's customers who bought",
                categories: None,
                marker: None,
                legend_left: true,
                bands: Vec::new(),
                series: std::iter::once(Series {
                    label: "perfect calibration".into(),
                    points: vec![(0.0, 0.0), (1.0, 1.0)],
                })
                .chain(model_series(&|m| {
                    m.reliability.bins.iter().map(|b| (b.predicted, b.observed)).collect()
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
    Ok(())
}
