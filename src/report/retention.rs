//! The retention report (`clv retention`): the fits per cohort, survival and retention projected
//! next to the actual, and the value of the base with and without heterogeneity; its tables and
//! figures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};

use crate::data::io::{write_table, write_text};
use crate::error::{ClvError, PolarsContext, Result};
use crate::fitting::CohortFit;
use crate::forecast::interval_column_names;
use crate::forecast::intervals::CohortIntervals;
use crate::forecast::retention::ProjectedPeriod;
use crate::models::sbg::Retention;

/// One cohort's projection and value, as the report shows them.
#[derive(Debug, Clone)]
pub struct CohortReport {
    pub fit: CohortFit,
    pub subscribers: f64,
    /// Periods the fit saw (later observed periods are a holdout).
    pub calibration_periods: u32,
    pub projection: Vec<ProjectedPeriod>,
    /// The constant-retention model's survival at the same periods.
    pub constant_survival: Vec<f64>,
    pub value: BaseValue,
    /// With `--interval`: the projection's and the value's intervals from parameter uncertainty.
    pub intervals: Option<CohortIntervals>,
}

/// The discounted payments still to come from a cohort's active subscribers, by the sBG model
/// and by the constant-retention model, and a new subscriber's discounted expected lifetime by
/// each (Fader & Hardie 2010): in payments, or in money when the prices are known.
#[derive(Debug, Clone, Copy)]
pub struct BaseValue {
    pub active: f64,
    pub sbg: f64,
    pub constant: f64,
    pub new_subscriber_sbg: f64,
    pub new_subscriber_constant: f64,
    /// The values are margin × price × payments (else payments).
    pub in_money: bool,
}

/// How far a cohort's projected survival was from the actual in the holdout: the observed periods
/// after those fitted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct HoldoutError {
    pub first_period: u32,
    pub last_period: u32,
    /// Mean |actual − projected| survival over those periods, as a share (0.01 = 1 point).
    pub sbg: f64,
    pub constant: f64,
}

impl CohortReport {
    /// The holdout's survival error by sBG and by constant retention; `None` without a holdout.
    pub fn holdout_error(&self) -> Option<HoldoutError> {
        let holdout: Vec<(u32, f64, f64, f64)> = self
            .projection
            .iter()
            .zip(&self.constant_survival)
            .filter(|(p, _)| p.period > self.calibration_periods)
            .filter_map(|(p, &k)| Some((p.period, p.actual_survival?, p.model_survival, k)))
            .collect();
        let (first, last) = (holdout.first()?.0, holdout.last()?.0);
        let n = holdout.len() as f64;
        Some(HoldoutError {
            first_period: first,
            last_period: last,
            sbg: holdout.iter().map(|h| (h.1 - h.2).abs()).sum::<f64>() / n,
            constant: holdout.iter().map(|h| (h.1 - h.3).abs()).sum::<f64>() / n,
        })
    }
}

fn parameters(model: &Retention) -> String {
    match *model {
        Retention::Beta { gamma, delta } => format!("gamma {gamma:.4}, delta {delta:.4}"),
        Retention::Common { theta } => format!("theta {theta:.4}"),
        Retention::Split { pi } => format!("pi {pi:.4} (the share who churn at the first chance; the rest never do)"),
    }
}

fn standard_errors(se: Option<&Retention>) -> String {
    match se {
        Some(Retention::Beta { gamma, delta }) => format!(" (std. errors {gamma:.4}, {delta:.4})"),
        Some(Retention::Common { theta }) | Some(Retention::Split { pi: theta }) => format!(" (std. error {theta:.4})"),
        None => " (no standard errors: the information matrix is not positive definite)".into(),
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.1}", 100.0 * v))
}

/// The report's text: `settings` says the discount and margin used.
pub fn retention_report_text(cohorts: &[CohortReport], period: &str, settings: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "sBG retention model (Fader & Hardie 2007), per cohort; period: {period}"
    );
    for c in cohorts {
        let fit = &c.fit.sbg;
        let _ = writeln!(
            s,
            "  {:<12} {:>7} subscribers, fitted on periods 1–{}: {}{}, log-likelihood {:.2}",
            c.fit.cohort,
            c.subscribers,
            c.calibration_periods,
            parameters(&fit.params),
            standard_errors(fit.standard_errors.as_ref()),
            fit.log_likelihood
        );
        if let Some(limit) = &fit.limit {
            let _ = writeln!(s, "    limit: {limit}");
        }
        for warning in &fit.warnings {
            let _ = writeln!(s, "    warning: {warning}");
        }
        let _ = writeln!(
            s,
            "    constant retention (one churn probability for everyone): {}, log-likelihood {:.2}",
            parameters(&c.fit.constant.params),
            c.fit.constant.log_likelihood
        );
    }
    let _ = writeln!(
        s,
        "\nSurvival, % still subscribed after each period: actual and projected"
    );
    let _ = write!(s, "  {:>6}", "period");
    for c in cohorts {
        let name: String = c.fit.cohort.chars().take(12).collect();
        let _ = write!(s, " {name:>12} {:>8} {:>8}", "sBG", "constant");
    }
    s.push('\n');
    let rows = cohorts.iter().map(|c| c.projection.len()).max().unwrap_or(0);
    for t in 0..rows {
        let holdout = cohorts.iter().any(|c| {
            t as u32 > c.calibration_periods && c.projection.get(t).is_some_and(|p| p.actual_survival.is_some())
        });
        let _ = write!(s, "  {:>6}", if holdout { format!("{t}*") } else { t.to_string() });
        for c in cohorts {
            match c.projection.get(t) {
                Some(p) => {
                    let _ = write!(
                        s,
                        " {:>12} {:>8.1} {:>8.1}",
                        percent(p.actual_survival),
                        100.0 * p.model_survival,
                        100.0 * c.constant_survival[t]
                    );
                }
                None => {
                    let _ = write!(s, " {:>12} {:>8} {:>8}", "", "", "");
                }
            }
        }
        s.push('\n');
    }
    if cohorts.iter().any(|c| {
        c.projection
            .iter()
            .any(|p| p.period > c.calibration_periods && p.actual_survival.is_some())
    }) {
        let _ = writeln!(s, "  (* a holdout period: observed, not fitted)");
    }
    for c in cohorts {
        if let Some(e) = c.holdout_error() {
            let _ = write!(
                s,
                "  {}: holdout periods {}–{}, mean absolute error of survival: sBG {:.2} points, constant retention {:.2}",
                c.fit.cohort,
                e.first_period,
                e.last_period,
                100.0 * e.sbg,
                100.0 * e.constant
            );
            if let Some(i) = &c.intervals {
                let holdout: Vec<bool> = c
                    .projection
                    .iter()
                    .filter(|p| p.period > c.calibration_periods)
                    .filter_map(|p| {
                        let (lo, hi) = i.survival.get(p.period as usize)?;
                        Some((*lo..=*hi).contains(&p.actual_survival?))
                    })
                    .collect();
                let _ = write!(
                    s,
                    "; the actual inside sBG's {}% interval in {} of {} periods",
                    100.0 * i.level,
                    holdout.iter().filter(|&&inside| inside).count(),
                    holdout.len()
                );
            }
            s.push('\n');
        }
    }
    let _ = writeln!(
        s,
        "\nRetention rate r(t), % of those subscribed in period t who renew at its end:"
    );
    for c in cohorts {
        let shown: Vec<String> = c
            .projection
            .iter()
            .filter_map(|p| Some((p.period, p.model_retention?, p.actual_retention)))
            .take(12)
            .map(|(t, model, actual)| format!("{t}: {:.1} ({})", 100.0 * model, percent(actual)))
            .collect();
        let _ = writeln!(s, "  {:<12} sBG (actual): {}", c.fit.cohort, shown.join(", "));
    }
    let unit = match cohorts.first().is_some_and(|c| c.value.in_money) {
        true => "margin × price",
        false => "payments (one per subscriber per period)",
    };
    let _ = writeln!(
        s,
        "\nValue of the base: the discounted payments still to come from those subscribed now, in {unit}, \
         by sBG and by constant retention; and a new subscriber's ({settings}):"
    );
    let _ = writeln!(
        s,
        "  {:<12} {:>8} {:>14} {:>14} {:>11} {:>20}",
        "cohort", "active", "sBG", "constant", "undervalued", "new: sBG / constant"
    );
    for c in cohorts {
        let v = &c.value;
        let under = match v.sbg > 0.0 {
            true => format!("{:.1}%", 100.0 * (1.0 - v.constant / v.sbg)),
            false => "-".into(),
        };
        let _ = writeln!(
            s,
            "  {:<12} {:>8} {:>14.2} {:>14.2} {:>11} {:>11.2} / {:.2}",
            c.fit.cohort, v.active, v.sbg, v.constant, under, v.new_subscriber_sbg, v.new_subscriber_constant
        );
    }
    let _ = writeln!(
        s,
        "  Constant retention misses that those still subscribed are the loyal ones: it undervalues the base \
         (Fader & Hardie 2010)."
    );
    for c in cohorts {
        if let Some(i) = &c.intervals {
            let _ = writeln!(s, "{}", cohort_intervals_line(c, i));
        }
    }
    s
}

/// A cohort's intervals in one line: the value of its base, a new subscriber's, and the survival
/// projected to the last period shown.
fn cohort_intervals_line(c: &CohortReport, i: &CohortIntervals) -> String {
    let source = i.method.describe(i.draws);
    let mut line = format!(
        "  {}: {}% intervals from parameter uncertainty ({source}): value of the base (sBG) [{:.2}, {:.2}]",
        c.fit.cohort,
        100.0 * i.level,
        i.value.lo,
        i.value.hi
    );
    if let Some(new) = &i.new_subscriber {
        let _ = write!(line, ", a new subscriber [{:.2}, {:.2}]", new.lo, new.hi);
    }
    if let (Some(p), Some(&(lo, hi))) = (c.projection.last(), i.survival.last()) {
        let _ = write!(
            line,
            ", survival after period {} {:.1}% [{:.1}, {:.1}]",
            p.period,
            100.0 * p.model_survival,
            100.0 * lo,
            100.0 * hi
        );
    }
    line
}

/// Writes retention_projection.csv, retention_fits.json and the survival and retention-rate
/// figures (PNG and SVG) into `dir`; returns the paths written.
pub fn write_retention_report(dir: &Path, cohorts: &[CohortReport], period: &str) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| ClvError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let rows: Vec<(&CohortReport, &ProjectedPeriod, f64)> = cohorts
        .iter()
        .flat_map(|c| {
            c.projection
                .iter()
                .zip(&c.constant_survival)
                .map(move |(p, k)| (c, p, *k))
        })
        .collect();
    let mut frame = DataFrame::new_infer_height(vec![
        Column::new(
            "cohort".into(),
            rows.iter().map(|r| r.0.fit.cohort.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "period".into(),
            rows.iter().map(|r| i64::from(r.1.period)).collect::<Vec<_>>(),
        ),
        Column::new(
            "holdout".into(),
            rows.iter()
                .map(|r| r.1.period > r.0.calibration_periods)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "actual_survival".into(),
            rows.iter().map(|r| r.1.actual_survival).collect::<Vec<_>>(),
        ),
        Column::new(
            "sbg_survival".into(),
            rows.iter().map(|r| r.1.model_survival).collect::<Vec<_>>(),
        ),
        Column::new("constant_survival".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new(
            "actual_retention".into(),
            rows.iter().map(|r| r.1.actual_retention).collect::<Vec<_>>(),
        ),
        Column::new(
            "sbg_retention".into(),
            rows.iter().map(|r| r.1.model_retention).collect::<Vec<_>>(),
        ),
    ])
    .context(|| "building the retention projection".to_string())?;
    // With intervals, the bounds of the sBG projection beside it (empty for a cohort without).
    if let Some(level) = cohorts.iter().find_map(|c| c.intervals.as_ref().map(|i| i.level)) {
        type Bounds = fn(&CohortIntervals, usize) -> Option<(f64, f64)>;
        let measures: [(&str, Bounds); 2] = [
            ("sbg_survival", |i, t| i.survival.get(t).copied()),
            ("sbg_retention", |i, t| i.retention.get(t).copied().flatten()),
        ];
        for (name, bounds_at) in measures {
            let (lo_name, hi_name) = interval_column_names(level, name);
            let bounds: Vec<Option<(f64, f64)>> = rows
                .iter()
                .map(|r| r.0.intervals.as_ref().and_then(|i| bounds_at(i, r.1.period as usize)))
                .collect();
            for (column, pick) in [(lo_name, 0), (hi_name, 1)] {
                let values: Vec<Option<f64>> = bounds
                    .iter()
                    .map(|b| b.map(|(lo, hi)| if pick == 0 { lo } else { hi }))
                    .collect();
                frame
                    .with_column(Column::new(column.as_str().into(), values))
                    .context(|| "adding the projection's bounds".to_string())?;
            }
        }
    }
    let path = dir.join("retention_projection.csv");
    write_table(&mut frame, &path)?;
    written.push(path);
    let fits: Vec<serde_json::Value> = cohorts
        .iter()
        .map(|c| {
            serde_json::json!({
                "cohort": c.fit.cohort,
                "period": period,
                "calibration_periods": c.calibration_periods,
                "holdout_error": c.holdout_error(),
                "sbg": c.fit.sbg,
                "constant_retention": c.fit.constant,
                "intervals": c.intervals,
            })
        })
        .collect();
    let path = dir.join("retention_fits.json");
    let text = serde_json::to_string_pretty(&fits).map_err(|e| ClvError::InvalidArgument(e.to_string()))?;
    write_text(&path, &text)?;
    written.push(path);
    #[cfg(feature = "figures")]
    written.extend(figures(dir, cohorts, period)?);
    Ok(written)
}

#[cfg(feature = "figures")]
fn figures(dir: &Path, cohorts: &[CohortReport], period: &str) -> Result<Vec<PathBuf>> {
    use crate::figures::{draw_figure, Figure, Series};
    let last_fitted = cohorts.iter().map(|c| c.calibration_periods).max().unwrap_or(0);
    let x_desc = format!("Tenure ({period}s)");
    let mut written = Vec::new();
    type Measure = fn(&ProjectedPeriod) -> Option<f64>;
    let series = |actual: Measure, model: Measure| -> Vec<Series> {
        cohorts
            .iter()
            .flat_map(|c| {
                [
                    Series {
                        label: format!("{} actual", c.fit.cohort),
                        points: c
                            .projection
                            .iter()
                            .filter_map(|p| Some((f64::from(p.period), 100.0 * actual(p)?)))
                            .collect(),
                    },
                    Series {
                        label: format!("{} sBG", c.fit.cohort),
                        points: c
                            .projection
                            .iter()
                            .filter_map(|p| Some((f64::from(p.period), 100.0 * model(p)?)))
                            .collect(),
                    },
                ]
            })
            .collect()
    };
    let survival = series(|p| p.actual_survival, |p| Some(p.model_survival));
    let retention = series(|p| p.actual_retention, |p| p.model_retention);
    // The sBG series of cohort k is series 2k + 1: its interval shaded in its colour.
    let bands = |bounds_at: fn(&CohortIntervals, usize) -> Option<(f64, f64)>| -> Vec<crate::figures::Band> {
        cohorts
            .iter()
            .enumerate()
            .filter_map(|(k, c)| {
                let i = c.intervals.as_ref()?;
                let points = c
                    .projection
                    .iter()
                    .filter_map(|p| {
                        let (lo, hi) = bounds_at(i, p.period as usize)?;
                        Some((f64::from(p.period), 100.0 * lo, 100.0 * hi))
                    })
                    .collect();
                Some((2 * k + 1, points))
            })
            .collect()
    };
    let survival_bands = bands(|i, t| i.survival.get(t).copied());
    let retention_bands = bands(|i, t| i.retention.get(t).copied().flatten());
    for (name, title, y_desc, series, bands) in [
        (
            "survival",
            "Survival: share still subscribed, actual and sBG projection",
            "% still subscribed",
            survival,
            survival_bands,
        ),
        (
            "retention_rate",
            "Retention rate r(t): actual and sBG, rising with tenure",
            "% of subscribers who renew",
            retention,
            retention_bands,
        ),
    ] {
        let (png, svg) = (dir.join(format!("{name}.png")), dir.join(format!("{name}.svg")));
        draw_figure(
            &Figure {
                title,
                x_desc: &x_desc,
                y_desc,
                categories: None,
                marker: Some((f64::from(last_fitted), "end of the fitted periods")),
                legend_left: false,
                bands,
                series,
            },
            &png,
            &svg,
        )?;
        written.push(png);
        written.push(svg);
    }
    Ok(written)
}
