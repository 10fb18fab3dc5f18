//! The holdout evaluation of BG/BB (`clv evaluate --model bg-bb`): its text and its files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::evaluation::{write_fit, write_holdout, write_holdout_interval, write_json_and_text};
use crate::data::discrete::DiscreteSummary;
use crate::data::io::write_table;
use crate::error::Result;
use crate::evaluate::{ConditionalMean, DiscreteEvaluation};

/// The BG/BB evaluation as text: the fit, the calibration histogram with its chi-square, the
/// holdout accuracy, the transactions per period and the conditional expectations.
pub fn discrete_evaluation_report(ev: &DiscreteEvaluation) -> String {
    let mut s = String::new();
    let period = ev.period;
    let _ = writeln!(
        s,
        "Holdout evaluation of BG/BB on {}: one opportunity per {period}; calibration to {}, holdout to {}; {} customers",
        ev.log, ev.calibration_end, ev.observation_end, ev.customers
    );
    let _ = writeln!(s, "\nBG/BB ({} customers)", ev.fit.n_customers);
    write_fit(&mut s, &ev.fit);
    write_holdout(
        &mut s,
        &ev.holdout,
        ev.holdout_transactions,
        ev.holdout_customers_with_purchases,
    );
    if let Some(i) = &ev.intervals {
        let drawn = i.method.describe(i.draws);
        write_holdout_interval(
            &mut s,
            i.level,
            &drawn,
            &i.holdout_transactions,
            ev.holdout_transactions,
        );
    }
    let _ = writeln!(
        s,
        "\nCustomers by transactions in the calibration ({period}s with a transaction)"
    );
    let _ = writeln!(s, "  {:>12} {:>10} {:>10}", "transactions", "actual", "model");
    for (x, (a, e)) in ev.frequency_actual.iter().zip(&ev.frequency.expected).enumerate() {
        let _ = writeln!(s, "  {x:>12} {a:>10} {e:>10.1}");
    }
    let _ = writeln!(
        s,
        "  chi-square {:.2} on {} degrees of freedom, p = {:.4}",
        ev.frequency.chi_square, ev.frequency.degrees_of_freedom, ev.frequency.p_value
    );
    let _ = writeln!(
        s,
        "\nRepeat transactions per {period} (model: knowing only when each customer started)"
    );
    let bounds_title = ev
        .intervals
        .as_ref()
        .map(|i| format!(" {:>21}", format!("{}% interval", 100.0 * i.level)));
    let _ = writeln!(
        s,
        "  {:>10} {:>10} {:>10}{}",
        period.name(),
        "actual",
        "model",
        bounds_title.unwrap_or_default()
    );
    for (j, label) in ev.periods.iter().enumerate() {
        if j == ev.calibration_periods {
            let width = if ev.intervals.is_some() { 54 } else { 32 };
            let _ = writeln!(s, "  {:-^width$}", " holdout ");
        }
        let bounds = ev.intervals.as_ref().map(|i| {
            format!(
                " {:>21}",
                format!("[{:.1}, {:.1}]", i.by_period_lo[j], i.by_period_hi[j])
            )
        });
        let _ = writeln!(
            s,
            "  {label:>10} {:>10} {:>10.1}{}",
            ev.actual_by_period[j],
            ev.expected_by_period[j],
            bounds.unwrap_or_default()
        );
    }
    let conditional = |s: &mut String, title: &str, rows: &[ConditionalMean]| {
        let _ = writeln!(s, "\nMean holdout transactions by calibration {title}");
        let _ = writeln!(
            s,
            "  {:>10} {:>10} {:>10} {:>10}",
            title, "customers", "actual", "model"
        );
        for r in rows {
            let _ = writeln!(
                s,
                "  {:>10} {:>10} {:>10.3} {:>10.3}",
                r.value, r.customers, r.actual, r.expected
            );
        }
    };
    conditional(&mut s, "frequency", &ev.by_frequency);
    conditional(&mut s, "recency", &ev.by_recency);
    s
}

/// Writes the BG/BB evaluation into `dir`: `evaluation.json`, `evaluation.txt`,
/// `holdout_predictions.csv` and the figures of Fader, Hardie & Shang (2010) as PNG and SVG.
pub fn write_discrete_evaluation(
    dir: &Path,
    ev: &DiscreteEvaluation,
    summary: &DiscreteSummary,
) -> Result<Vec<PathBuf>> {
    let mut written = write_json_and_text(dir, ev, &discrete_evaluation_report(ev))?;
    let path = dir.join("holdout_predictions.csv");
    write_table(&mut ev.holdout_frame(summary)?, &path)?;
    written.push(path);
    #[cfg(feature = "figures")]
    write_figures(dir, ev, &mut written)?;
    Ok(written)
}

/// The calibration histogram, the transactions per period and the two conditional expectations.
#[cfg(feature = "figures")]
fn write_figures(dir: &Path, ev: &DiscreteEvaluation, written: &mut Vec<PathBuf>) -> Result<()> {
    use crate::figures::{draw_figure, Figure, Series};
    let period = ev.period;
    let series = |label: &str, points: Vec<(f64, f64)>| Series {
        label: label.to_string(),
        points,
    };
    let at = |values: &mut dyn Iterator<Item = f64>| values.enumerate().map(|(k, v)| (k as f64, v)).collect();
    let conditional = |rows: &[ConditionalMean]| {
        let labels: Vec<String> = rows.iter().map(|r| r.value.to_string()).collect();
        let actual = at(&mut rows.iter().map(|r| r.actual));
        let expected = at(&mut rows.iter().map(|r| r.expected));
        (labels, actual, expected)
    };
    let transactions: Vec<String> = (0..ev.frequency_actual.len()).map(|x| x.to_string()).collect();
    let (frequency_labels, frequency_actual, frequency_model) = conditional(&ev.by_frequency);
    let (recency_labels, recency_actual, recency_model) = conditional(&ev.by_recency);
    let period_axis = format!(
        "{} (1 = {})",
        period.name(),
        ev.periods.first().map_or("", |p| p.as_str())
    );
    let by_period = |values: &mut dyn Iterator<Item = f64>| -> Vec<(f64, f64)> {
        values.enumerate().map(|(k, v)| ((k + 1) as f64, v)).collect()
    };
    // With intervals, BG/BB's transactions per period are shaded between their bounds.
    let period_bands: Vec<crate::figures::Band> = ev
        .intervals
        .iter()
        .map(|i| {
            let points = (i.by_period_lo.iter().zip(&i.by_period_hi).enumerate())
                .map(|(k, (&lo, &hi))| ((k + 1) as f64, lo, hi))
                .collect();
            (1, points)
        })
        .collect();
    let period_title = match &ev.intervals {
        Some(i) => format!(
            "Repeat transactions per {period}, calibration and holdout (shaded: {}% intervals)",
            100.0 * i.level
        ),
        None => format!("Repeat transactions per {period}, calibration and holdout"),
    };
    let figures = [
        (
            "frequency_histogram",
            Figure {
                title: "Customers by transactions in the calibration period",
                x_desc: "Opportunities with a transaction in the calibration period",
                y_desc: "Customers",
                categories: Some(&transactions),
                marker: None,
                legend_left: false,
                bands: Vec::new(),
                series: vec![
                    series("actual", at(&mut ev.frequency_actual.iter().map(|&v| v as f64))),
                    series("BG/BB", at(&mut ev.frequency.expected.iter().copied())),
                ],
            },
        ),
        (
            "repeat_transactions_by_period",
            Figure {
                title: &period_title,
                x_desc: &period_axis,
                y_desc: "Repeat transactions",
                categories: None,
                marker: Some((ev.calibration_periods as f64 + 0.5, "end of calibration")),
                legend_left: false,
                bands: period_bands,
                series: vec![
                    series("actual", by_period(&mut ev.actual_by_period.iter().map(|&v| v as f64))),
                    series("BG/BB", by_period(&mut ev.expected_by_period.iter().copied())),
                ],
            },
        ),
        (
            "conditional_expectations_by_frequency",
            Figure {
                title: "Holdout transactions by calibration frequency",
                x_desc: "Opportunities with a transaction in the calibration period",
                y_desc: "Mean transactions per customer in the holdout",
                categories: Some(&frequency_labels),
                marker: None,
                legend_left: true,
                bands: Vec::new(),
                series: vec![series("actual", frequency_actual), series("BG/BB", frequency_model)],
            },
        ),
        (
            "conditional_expectations_by_recency",
            Figure {
                title: "Holdout transactions by calibration recency",
                x_desc: "Opportunity of the last calibration transaction (0: none)",
                y_desc: "Mean transactions per customer in the holdout",
                categories: Some(&recency_labels),
                marker: None,
                legend_left: true,
                bands: Vec::new(),
                series: vec![series("actual", recency_actual), series("BG/BB", recency_model)],
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
