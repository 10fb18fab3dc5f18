//! The forecasts' value: the top customers, the spend-tail note, and the value report's text and files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::{ChunkApply, Column, DataFrame, IntoColumn};

use crate::data::conventions::to_significant_digits;
use crate::data::io::write_table;
use crate::data::summary::CustomerSummary;
use crate::decisions::{Acquisition, CustomerDecisions, GroupTotals, ValueReport};
use crate::error::{ClvError, PolarsContext, Result};
use crate::forecast::new_customer::NewCustomerValue;
use crate::forecast::{interval_column_names, Forecasts, CLV, EXPECTED_AVG_SPEND, EXPECTED_PURCHASES, P_ALIVE};
use crate::model_file::FittedModels;

/// With a heavy-tailed spend model (q < 2) the share of the forecast CLV held by customers without
/// repeat purchases, whose spend forecast is the population mean that q drives; with q ≤ 1, how
/// many customers have no forecast at all: a line to print.
pub fn spend_tail_note(models: &FittedModels, summary: &dyn CustomerSummary, forecasts: &Forecasts) -> Option<String> {
    let q = models.spend_model()?.q()?;
    let clv = forecasts.column(CLV)?;
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
        .enumerate()
        .filter(|&(i, _)| summary.repeat_transactions(i) == 0.0)
        .map(|(_, c)| c)
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
pub fn top_customers(summary: &dyn CustomerSummary, forecasts: &Forecasts, n: usize) -> String {
    let column = |name| forecasts.column(name).unwrap_or(&[]);
    let (clv, spend) = (forecasts.column(CLV), forecasts.column(EXPECTED_AVG_SPEND));
    let (p_alive, expected) = (column(P_ALIVE), column(EXPECTED_PURCHASES));
    let key: &[f64] = clv.unwrap_or(expected);
    // Only the first n are needed in order: select them, then sort those (ties in table order).
    // A customer without a CLV (NaN) ranks last.
    let rank = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    let by_key = |i: &usize, j: &usize| rank(key[*j]).total_cmp(&rank(key[*i])).then(i.cmp(j));
    let mut order: Vec<usize> = (0..summary.len()).collect();
    if n < order.len() {
        if n > 0 {
            order.select_nth_unstable_by(n - 1, by_key);
        }
        order.truncate(n);
    }
    order.sort_by(by_key);
    let mut s = String::new();
    let by = if clv.is_some() { "CLV" } else { "expected purchases" };
    let _ = writeln!(s, "Top {} customers by {by}:", n.min(order.len()));
    let _ = writeln!(
        s,
        "  {:<14} {} {:>8} {:>18} {:>18} {:>10}",
        "customer_id",
        summary.history_header(),
        "p_alive",
        "expected_purchases",
        "expected_avg_spend",
        "clv"
    );
    for &i in order.iter().take(n) {
        let spend = spend.map_or("—".into(), |v| money(v[i]));
        let value = clv.map_or("—".into(), |v| money(v[i]));
        let _ = writeln!(
            s,
            "  {:<14} {} {:>8.4} {:>18.4} {:>18} {:>10}",
            summary.customer_label(i),
            summary.history_cells(i),
            p_alive[i],
            expected[i],
            spend,
            value
        );
    }
    if let Some(clv) = clv {
        let total: f64 = clv.iter().filter(|v| !v.is_nan()).sum();
        let unvalued = forecasts.unvalued();
        if unvalued > 0 {
            let valued = summary.len() - unvalued;
            let _ = writeln!(s, "Total CLV of the {valued} customers with one: {total:.2}");
        } else {
            let _ = writeln!(s, "Total CLV of all {} customers: {total:.2}", summary.len());
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
    summary: &dyn CustomerSummary,
    forecasts: &Forecasts,
    decisions: &CustomerDecisions,
    report: &ValueReport,
    at_risk_listed: usize,
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
    let cac_header = if report.acquisition.is_some() {
        "  clv_to_cac"
    } else {
        ""
    };
    // With intervals: each total CLV followed by its interval.
    let interval_of = |g: &GroupTotals| match g.clv_interval {
        Some((lo, hi)) => format!(" [{lo:.2}, {hi:.2}]"),
        None => String::new(),
    };
    let interval_header = report.interval_level.map_or(String::new(), |level| {
        format!(" (CLV with its {}% interval from parameter uncertainty)", 100.0 * level)
    });
    let _ = writeln!(s, "Value tiers (customers ranked by CLV){interval_header}:");
    let _ = writeln!(
        s,
        "  {:<12} {:>9} {:>18} {:>16} {:>12} {:>12} {:>10}{cac_header}",
        "tier", "customers", "expected_purchases", "expected_revenue", "clv", "share_of_clv", "mean_clv"
    );
    let row = |s: &mut String, g: &GroupTotals, ratio: Option<f64>| {
        let pct = if total_clv == 0.0 {
            0.0
        } else {
            100.0 * g.clv / total_clv
        };
        let _ = write!(
            s,
            "  {:<12} {:>9} {:>18.1} {:>16.2} {:>12.2} {:>11.1}% {:>10.2}",
            g.name,
            g.customers,
            g.expected_purchases,
            g.expected_revenue,
            g.clv,
            pct,
            g.mean_clv()
        );
        if let Some(r) = ratio {
            let _ = write!(s, " {r:>11.2}");
        }
        s.push_str(&interval_of(g));
        s.push('\n');
    };
    for (i, tier) in report.tiers.iter().enumerate() {
        row(
            &mut s,
            tier,
            report.acquisition.as_ref().map(|a| a.clv_to_cac_by_tier[i]),
        );
    }
    row(
        &mut s,
        &report.total,
        report.acquisition.as_ref().map(|a| a.mean_clv / a.cac),
    );
    let _ = writeln!(s, "Customer status:");
    for g in report.statuses.iter().filter(|g| g.customers > 0) {
        let _ = writeln!(
            s,
            "  {:<18} {:>9} customers   CLV {:>12.2}{}",
            g.name,
            g.customers,
            g.clv,
            interval_of(g)
        );
    }
    let clv = forecasts.column(CLV).unwrap_or(&[]);
    let p_alive = forecasts.column(P_ALIVE).unwrap_or(&[]);
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
        for &i in report.at_risk_high_value.iter().take(at_risk_listed) {
            let _ = writeln!(
                s,
                "  {:<14} {:>8.4} {:>10.2} {:>15.2}",
                summary.customer_label(i),
                p_alive[i],
                clv[i],
                decisions.value_at_stake[i]
            );
        }
    }
    if let Some(a) = &report.acquisition {
        match &a.new_customer {
            Some(v) => {
                let interval = v.interval.map_or(String::new(), |(level, lo, hi)| {
                    format!(" ({}% interval {lo:.2} to {hi:.2})", 100.0 * level)
                });
                let repeats = match v.repeat_purchases {
                    Some(n) => format!("{n:.2} expected repeat purchases"),
                    None => "her repeat purchases, without end (DERT),".to_string(),
                };
                let _ = writeln!(
                    s,
                    "Acquisition at CAC {:.2}: a customer acquired now is worth {:.2}{interval}: her first purchase \
                     {:.2} and {repeats} worth {:.2}. CLV:CAC {:.2}; break-even CAC {:.2}.",
                    a.cac, v.clv, v.first_purchase, v.repeat_value, a.clv_to_cac, a.break_even_cac
                );
                let _ = writeln!(
                    s,
                    "  (The mean CLV of the current customers, {:.2}, is what those already acquired are still worth, \
                     not what acquiring one more is worth.)",
                    a.mean_clv
                );
                if !a.new_customer_by_cohort.is_empty() {
                    let _ = writeln!(
                        s,
                        "  A customer acquired now, valued as each acquisition cohort's customers were (each cohort \
                         fitted alone):"
                    );
                    for c in &a.new_customer_by_cohort {
                        let _ = match &c.value {
                            Some(v) => writeln!(
                                s,
                                "    {:<8} {:>9} customers   {:>10.2}{}   CLV:CAC {:.2}",
                                c.cohort,
                                c.customers,
                                v.clv,
                                v.interval
                                    .map_or(String::new(), |(_, lo, hi)| format!(" [{lo:.2}, {hi:.2}]")),
                                v.clv / a.cac
                            ),
                            None => writeln!(
                                s,
                                "    {:<8} {:>9} customers   not valued: {}",
                                c.cohort,
                                c.customers,
                                c.note.as_deref().unwrap_or("")
                            ),
                        };
                    }
                }
            }
            None => {
                let _ = writeln!(
                    s,
                    "Acquisition at CAC {:.2}: CLV:CAC {:.2}; break-even CAC (mean CLV of the current customers) {:.2}",
                    a.cac, a.clv_to_cac, a.break_even_cac
                );
            }
        }
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
                "  {:<8} {:>9} {:>10.2} {:>12.2}{}",
                c.name,
                c.customers,
                c.mean_clv(),
                c.clv,
                interval_of(c)
            );
        }
    }
    s
}

/// One row per group; shares are of `total` (all customers).
fn groups_frame(
    groups: &[GroupTotals],
    label: &str,
    total: &GroupTotals,
    ratios: Option<&[f64]>,
    interval_level: Option<f64>,
) -> Result<DataFrame> {
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
    if let Some(level) = interval_level {
        let (lo, hi) = interval_column_names(level, "clv");
        let bound = |pick: fn((f64, f64)) -> f64| -> Vec<f64> {
            groups.iter().map(|g| g.clv_interval.map_or(f64::NAN, pick)).collect()
        };
        columns.push(Column::new(lo.into(), bound(|b| b.0)));
        columns.push(Column::new(hi.into(), bound(|b| b.1)));
    }
    if let Some(r) = ratios {
        columns.push(Column::new("clv_to_cac".into(), r));
    }
    DataFrame::new_infer_height(columns).context(|| format!("building the {label} table"))
}

/// Significant digits of the value report's tables: fewer than the summary's 12, so that a
/// product of its 12-digit means (historical repeat revenue = frequency × mean) reads as the sum
/// it is (808.33, not 808.329999999).
const REPORT_DIGITS: i32 = 10;

/// A report table as people read it: every float to `REPORT_DIGITS` significant digits, so that
/// totals and shares show no binary noise (670.17, not 670.1700000000001; 100, not
/// 100.00000000000001).
fn for_people(frame: DataFrame) -> Result<DataFrame> {
    let columns = frame
        .columns()
        .iter()
        .map(|column| match column.f64() {
            Ok(values) => values
                .apply_values(|v| to_significant_digits(v, REPORT_DIGITS))
                .with_name(column.name().clone())
                .into_column(),
            Err(_) => column.clone(),
        })
        .collect();
    DataFrame::new_infer_height(columns).context(|| "rounding a report table".to_string())
}

/// Writes the value report into `dir`: value_tiers.csv, status.csv, value_concentration.csv,
/// at_risk_high_value.csv, cohorts.csv (with first purchases), acquisition.csv (with a CAC) and
/// the value_concentration figure as PNG and SVG, captioned with `settings` (the forecast's
/// months, discount and margin). Returns the paths written.
pub fn write_value_report(
    dir: &Path,
    summary: &dyn CustomerSummary,
    forecasts: &Forecasts,
    decisions: &CustomerDecisions,
    report: &ValueReport,
    settings: &str,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| ClvError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut save = |name: &str, frame: DataFrame| -> Result<()> {
        let path = dir.join(name);
        write_table(&mut for_people(frame)?, &path)?;
        written.push(path);
        Ok(())
    };
    let mut tiers = report.tiers.clone();
    tiers.push(report.total.clone());
    let tier_ratios: Option<Vec<f64>> = report.acquisition.as_ref().map(|a| {
        let mut r = a.clv_to_cac_by_tier.clone();
        r.push(a.mean_clv / a.cac);
        r
    });
    save(
        "value_tiers.csv",
        groups_frame(
            &tiers,
            "tier",
            &report.total,
            tier_ratios.as_deref(),
            report.interval_level,
        )?,
    )?;
    save(
        "status.csv",
        groups_frame(&report.statuses, "status", &report.total, None, report.interval_level)?,
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
    let clv = forecasts.column(CLV).unwrap_or(&[]);
    let p_alive = forecasts.column(P_ALIVE).unwrap_or(&[]);
    let at_risk = &report.at_risk_high_value;
    let pick = |v: &[f64]| at_risk.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let of_each = |f: &dyn Fn(usize) -> f64| at_risk.iter().map(|&i| f(i)).collect::<Vec<_>>();
    let at_risk_frame = DataFrame::new_infer_height(vec![
        summary.customer_column_of(at_risk)?,
        Column::new(
            "frequency".into(),
            at_risk
                .iter()
                .map(|&i| summary.repeat_transactions(i) as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "historical_repeat_revenue".into(),
            of_each(&|i| summary.repeat_revenue(i)),
        ),
        Column::new("p_alive".into(), pick(p_alive)),
        Column::new("clv".into(), pick(clv)),
        Column::new("value_at_stake".into(), pick(&decisions.value_at_stake)),
    ])
    .context(|| "building the at-risk table".to_string())?;
    save("at_risk_high_value.csv", at_risk_frame)?;
    if !report.cohorts.is_empty() {
        save(
            "cohorts.csv",
            groups_frame(&report.cohorts, "cohort", &report.total, None, report.interval_level)?,
        )?;
    }
    if let Some(a) = &report.acquisition {
        let frame = DataFrame::new_infer_height(vec![
            Column::new("cac".into(), [a.cac]),
            Column::new("mean_clv".into(), [report.total.mean_clv()]),
            Column::new("clv_to_cac".into(), [a.clv_to_cac]),
            Column::new("break_even_cac".into(), [a.break_even_cac]),
            Column::new("new_customer_clv".into(), [a.new_customer.map(|v| v.clv)]),
        ])
        .context(|| "building the acquisition table".to_string())?;
        save("acquisition.csv", frame)?;
        if !a.new_customer_by_cohort.is_empty() {
            save("new_customer_by_cohort.csv", new_customer_by_cohort_frame(a)?)?;
        }
    }
    // The figure needs plotters (the `figures` feature, on with the command line).
    #[cfg(not(feature = "figures"))]
    let _ = settings;
    #[cfg(feature = "figures")]
    {
        let (png, svg) = (dir.join("value_concentration.png"), dir.join("value_concentration.svg"));
        crate::figures::value_concentration(&report.concentration, settings, &png, &svg)?;
        written.push(png);
        written.push(svg);
    }
    Ok(written)
}

/// One row per acquisition cohort: a new customer's value from the cohort's own fit.
fn new_customer_by_cohort_frame(a: &Acquisition) -> Result<DataFrame> {
    let rows = &a.new_customer_by_cohort;
    let value = |pick: &dyn Fn(&NewCustomerValue) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter().map(|c| c.value.as_ref().and_then(pick)).collect()
    };
    let mut columns = vec![
        Column::new(
            "cohort".into(),
            rows.iter().map(|c| c.cohort.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "customers".into(),
            rows.iter().map(|c| c.customers as u64).collect::<Vec<_>>(),
        ),
        Column::new("new_customer_clv".into(), value(&|v| Some(v.clv))),
    ];
    if let Some(level) = rows.iter().find_map(|c| c.value.and_then(|v| v.interval)).map(|i| i.0) {
        let (lo, hi) = interval_column_names(level, "new_customer_clv");
        columns.push(Column::new(lo.into(), value(&|v| v.interval.map(|i| i.1))));
        columns.push(Column::new(hi.into(), value(&|v| v.interval.map(|i| i.2))));
    }
    columns.extend([
        Column::new("first_purchase".into(), value(&|v| Some(v.first_purchase))),
        Column::new("repeat_purchases".into(), value(&|v| v.repeat_purchases)),
        Column::new("repeat_value".into(), value(&|v| Some(v.repeat_value))),
        Column::new("clv_to_cac".into(), value(&|v| Some(v.clv / a.cac))),
        Column::new("note".into(), rows.iter().map(|c| c.note.clone()).collect::<Vec<_>>()),
    ]);
    DataFrame::new_infer_height(columns).context(|| "building the new customer by cohort table".to_string())
}
