//! Contractual summaries: subscriptions (software, telecom, insurance, memberships), summarised
//! as a retention model reads them (sBG: Fader & Hardie 2007), with these conventions:
//! - a subscription's periods run from its start date by calendar anniversaries (`data::period`:
//!   a monthly plan started 31 January renews on 29 February, then 31 March); period k is
//!   [start + (k − 1) periods, start + k periods);
//! - the end date is the first day without service. A subscription that ended by the observation
//!   end has churned, and paid for every period that began before its end: that many periods
//!   (at least one; an end on the start day is a churn after the first period);
//! - a subscription with no end date, or one ending after the observation end, is still active:
//!   it has renewed once per whole period completed by the observation end, and its lifetime is
//!   longer than that (right-censored);
//! - subscriptions starting after the observation end are left out (counted); an end before the
//!   start is an error naming its row;
//! - the observation end defaults to the latest start or end date in the table.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

use super::io::{column_names, require_column, scan_table_with};
use super::log_cells::{date_expr, describe_date_format, first_row, raw_value};
use super::period::Period;
use super::rfm::CustomerIds;
use super::summary::{CustomerSummary, SummaryKind};
use super::transactions::{epoch_days, from_epoch_days};
use crate::error::{ClvError, PolarsContext, Result};
use crate::models::histories::{SurvivalHistories, SurvivalRow};

/// Which columns of a subscription log hold what, and how dates are written.
#[derive(Debug, Clone)]
pub struct SubscriptionSpec {
    pub customer_col: String,
    pub start_col: String,
    /// Empty while the subscription is active.
    pub end_col: String,
    /// Price per period; without it there is no value, only retention.
    pub price_col: Option<String>,
    /// Cohort or plan: each is its own population in the fit.
    pub cohort_col: Option<String>,
    /// A chrono format; `None` means ISO dates (as for transaction logs).
    pub date_format: Option<String>,
    pub delimiter: u8,
}

impl Default for SubscriptionSpec {
    fn default() -> Self {
        Self {
            customer_col: "customer_id".into(),
            start_col: "start".into(),
            end_col: "end".into(),
            price_col: None,
            cohort_col: None,
            date_format: None,
            delimiter: b',',
        }
    }
}

/// A validated subscription log, one row per subscription.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    pub path: PathBuf,
    pub customer_id: CustomerIds,
    /// Days since 1970-01-01.
    pub start: Vec<i32>,
    pub end: Vec<Option<i32>>,
    pub price: Option<Vec<f64>>,
    pub cohort: Option<Vec<String>>,
}

impl Subscriptions {
    /// Reads the log at `path` (CSV or Parquet) and checks every value: a missing column, an
    /// empty id, an unparseable or empty start, an unparseable end, an end before its start or a
    /// price that is not a finite number ≥ 0 is an error naming the file, column and data row.
    pub fn load(path: &Path, spec: &SubscriptionSpec) -> Result<Self> {
        let mut lf = scan_table_with(path, spec.delimiter)?;
        let available = column_names(&mut lf, path)?;
        let customer_col = require_column(path, &available, &spec.customer_col)?;
        let start_col = require_column(path, &available, &spec.start_col)?;
        let end_col = require_column(path, &available, &spec.end_col)?;
        let price_col = spec
            .price_col
            .as_ref()
            .map(|c| require_column(path, &available, c))
            .transpose()?;
        let cohort_col = spec
            .cohort_col
            .as_ref()
            .map(|c| require_column(path, &available, c))
            .transpose()?;
        let ctx = || format!("reading {}", path.display());
        let schema = lf.collect_schema().context(ctx)?;
        let date = |name: &str| -> Result<Expr> {
            let dtype = schema.get(name).cloned().unwrap_or(DataType::String);
            date_expr(col(name), &dtype, spec.date_format.as_deref()).map_err(|message| ClvError::BadFile {
                path: path.to_path_buf(),
                message: format!("column '{name}': {message}"),
            })
        };
        let mut columns = vec![
            col("__row"),
            col(customer_col.as_str()).alias("customer_id"),
            date(&start_col)?.alias("start"),
            date(&end_col)?.alias("end"),
            col(end_col.as_str()).is_null().alias("__no_end"),
        ];
        if let Some(p) = &price_col {
            columns.push(col(p.as_str()).cast(DataType::Float64).alias("price"));
        }
        if let Some(c) = &cohort_col {
            columns.push(col(c.as_str()).cast(DataType::String).alias("cohort"));
        }
        let frame = lf
            .with_row_index("__row", Some(1))
            .select(columns)
            .collect()
            .context(ctx)?;
        if frame.height() == 0 {
            return Err(ClvError::EmptyInput {
                path: path.to_path_buf(),
            });
        }
        let bad = |column: &str, row: usize, message: String| ClvError::BadValue {
            path: path.to_path_buf(),
            column: column.to_string(),
            row,
            message,
        };
        let raw = |column: &str, row: usize| raw_value(path, spec.delimiter, column, row);
        let unparsed = |column: &str, row: usize| -> Result<ClvError> {
            let dtype = schema.get(column).cloned().unwrap_or(DataType::String);
            let format = describe_date_format(&dtype, spec.date_format.as_deref());
            Ok(match raw(column, row)? {
                Some(v) if !v.trim().is_empty() => bad(
                    column,
                    row,
                    format!("cannot parse '{v}' as a date with format {format}"),
                ),
                _ => bad(column, row, "empty date".into()),
            })
        };
        let id_missing = col("customer_id").is_null().or(col("customer_id")
            .cast(DataType::String)
            .str()
            .strip_chars(lit(NULL))
            .eq(lit("")));
        if let Some(row) = first_row(&frame, id_missing)? {
            return Err(bad(&customer_col, row, "empty customer id".into()));
        }
        if let Some(row) = first_row(&frame, col("start").is_null())? {
            return Err(unparsed(&start_col, row)?);
        }
        if let Some(row) = first_row(&frame, col("end").is_null().and(col("__no_end").not()))? {
            return Err(unparsed(&end_col, row)?);
        }
        if let Some(row) = first_row(&frame, col("end").lt(col("start")))? {
            return Err(bad(&end_col, row, "the subscription ends before it starts".into()));
        }
        if let Some(p) = &price_col {
            let not_a_price = col("price")
                .is_null()
                .or(col("price").is_finite().not())
                .or(col("price").lt(lit(0.0)));
            if let Some(row) = first_row(&frame, not_a_price)? {
                let shown = raw(p, row)?.unwrap_or_default();
                return Err(bad(p, row, format!("'{shown}' is not a price (a finite number ≥ 0)")));
            }
        }
        let days = |name: &str| -> Result<Vec<Option<i32>>> {
            Ok(frame
                .column(name)
                .and_then(|c| c.i32().cloned())
                .context(ctx)?
                .iter()
                .collect())
        };
        let start: Vec<i32> = days("start")?.into_iter().map(|d| d.unwrap_or_default()).collect();
        let price = match price_col {
            Some(_) => Some(
                frame
                    .column("price")
                    .and_then(|c| c.f64().cloned())
                    .context(ctx)?
                    .iter()
                    .map(|p| p.unwrap_or_default())
                    .collect(),
            ),
            None => None,
        };
        let cohort = match cohort_col {
            Some(_) => Some(
                frame
                    .column("cohort")
                    .and_then(|c| c.str().cloned())
                    .context(ctx)?
                    .iter()
                    .map(|c| c.unwrap_or_default().to_string())
                    .collect(),
            ),
            None => None,
        };
        let customer_id = frame
            .column("customer_id")
            .and_then(CustomerIds::from_column)
            .context(ctx)?;
        Ok(Self {
            path: path.to_path_buf(),
            customer_id,
            start,
            end: days("end")?,
            price,
            cohort,
        })
    }
}

/// How to summarise a subscription log.
#[derive(Debug, Clone, Copy)]
pub struct ContractualOptions {
    /// The renewal period.
    pub period: Period,
    /// Last day observed. Default: the latest start or end date in the log.
    pub observation_end: Option<NaiveDate>,
}

/// Per-subscription retention histories, in the log's order.
#[derive(Debug, Clone)]
pub struct ContractualSummary {
    pub customer_id: CustomerIds,
    /// Start day (days since 1970-01-01).
    pub start: Vec<i32>,
    /// For a churned subscription the periods it paid for (its lifetime); for an active one the
    /// renewals seen so far (its lifetime is longer).
    pub duration: Vec<u32>,
    pub churned: Vec<bool>,
    pub price: Option<Vec<f64>>,
    pub cohort: Option<Vec<String>>,
    pub period: Period,
    pub observation_end: i32,
    /// Subscriptions starting after the observation end, left out.
    pub started_after_observation_end: usize,
}

/// Builds the retention summary of `log` (conventions in the module notes).
pub fn summarize_subscriptions(log: &Subscriptions, options: &ContractualOptions) -> Result<ContractualSummary> {
    let latest = log.start.iter().copied().chain(log.end.iter().flatten().copied()).max();
    let observation_end = match (options.observation_end, latest) {
        (Some(day), _) => epoch_days(day),
        (None, Some(day)) => day,
        (None, None) => return Err(ClvError::EmptyInput { path: log.path.clone() }),
    };
    let period = options.period;
    let kept: Vec<usize> = (0..log.start.len())
        .filter(|&i| log.start[i] <= observation_end)
        .collect();
    if kept.is_empty() {
        return Err(ClvError::InvalidArgument(format!(
            "{}: every subscription starts after the observation end {}",
            log.path.display(),
            from_epoch_days(observation_end)
        )));
    }
    let (duration, churned): (Vec<u32>, Vec<bool>) = kept
        .iter()
        .map(|&i| match log.end[i] {
            // Periods begun before the end: whole periods to the day before it, plus the one running.
            Some(end) if end <= observation_end => (period.whole_periods(log.start[i], end - 1) + 1, true),
            _ => (period.whole_periods(log.start[i], observation_end), false),
        })
        .unzip();
    let pick = |v: &[f64]| kept.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let customer_id = log
        .customer_id
        .column_of(&kept)
        .and_then(|c| CustomerIds::from_column(&c))
        .context(|| format!("summarizing {}", log.path.display()))?;
    Ok(ContractualSummary {
        customer_id,
        start: kept.iter().map(|&i| log.start[i]).collect(),
        duration,
        churned,
        price: log.price.as_deref().map(pick),
        cohort: log
            .cohort
            .as_ref()
            .map(|c| kept.iter().map(|&i| c[i].clone()).collect()),
        period,
        observation_end,
        started_after_observation_end: log.start.len() - kept.len(),
    })
}

impl ContractualSummary {
    /// Subscription i's cohort: its cohort column's value, or "all" without one.
    pub fn cohort_name(&self, i: usize) -> &str {
        self.cohort.as_ref().map_or("all", |c| c[i].as_str())
    }

    /// Per cohort (one, "all", without a cohort column), the churned and censored counts by
    /// duration, as a retention model fits them.
    pub fn histories(&self) -> Result<SurvivalHistories> {
        let mut names: Vec<String> = Vec::new();
        let cohort_of = |i: usize, names: &mut Vec<String>| -> u32 {
            let name = self.cohort_name(i);
            match names.iter().position(|n| n == name) {
                Some(k) => k as u32,
                None => {
                    names.push(name.to_string());
                    (names.len() - 1) as u32
                }
            }
        };
        let rows: Vec<SurvivalRow> = (0..self.len())
            .map(|i| SurvivalRow {
                cohort: cohort_of(i, &mut names),
                duration: self.duration[i],
                churned: self.churned[i],
                weight: 1.0,
            })
            .collect();
        SurvivalHistories::from_rows(names, rows).map_err(|(i, message)| {
            ClvError::InvalidArgument(format!("subscription of '{}': {message}", self.customer_id.label(i)))
        })
    }
}

/// Reads a cohort survival table — `period` (0, 1, 2, …) and `active` (customers still
/// subscribed after that many periods; period 0 is the cohort's size), with an optional `cohort`
/// column — as the retention papers publish it (Fader & Hardie 2007's regular and high-end
/// cohorts), into churned and censored counts.
pub fn read_survival_table(path: &Path) -> Result<SurvivalHistories> {
    survival_histories(path, read_survival_counts(path)?)
}

/// The churned and censored counts of survival `tables` read from `path` (for errors naming its
/// rows), each cut after `periods` periods when given: the calibration part of a table whose
/// later periods are a holdout.
pub fn survival_histories(path: &Path, tables: Vec<SurvivalCounts>) -> Result<SurvivalHistories> {
    let rows_of: Vec<Vec<usize>> = tables.iter().map(|t| t.rows.clone()).collect();
    SurvivalHistories::from_survival(tables.into_iter().map(|t| (t.cohort, t.active)).collect()).map_err(
        |(period, message)| {
            // The period's row, in the first cohort that has it and rises there: the message names the cohort.
            let row = rows_of.iter().find_map(|rows| rows.get(period).copied()).unwrap_or(0);
            ClvError::BadValue {
                path: path.to_path_buf(),
                column: "active".into(),
                row: row + 1,
                message,
            }
        },
    )
}

/// One cohort of a survival table as read: customers active after periods 0, 1, 2, … and the
/// table's data rows (0-based) they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalCounts {
    pub cohort: String,
    pub active: Vec<f64>,
    pub rows: Vec<usize>,
}

impl SurvivalCounts {
    /// The first `periods` periods only (and period 0).
    pub fn truncated(&self, periods: usize) -> Self {
        let keep = (periods + 1).min(self.active.len());
        Self {
            cohort: self.cohort.clone(),
            active: self.active[..keep].to_vec(),
            rows: self.rows[..keep].to_vec(),
        }
    }
}

/// Reads a cohort survival table (see `read_survival_table`) as counts, each cohort's periods
/// checked to run 0, 1, 2, … and its counts to be numbers ≥ 0.
pub fn read_survival_counts(path: &Path) -> Result<Vec<SurvivalCounts>> {
    let mut lf = super::io::scan_table(path)?;
    let available = column_names(&mut lf, path)?;
    let period_col = require_column(path, &available, "period")?;
    let active_col = require_column(path, &available, "active")?;
    let has_cohort = available.iter().any(|c| c == "cohort");
    let frame = lf.collect().context(|| format!("reading {}", path.display()))?;
    if frame.height() == 0 {
        return Err(ClvError::EmptyInput {
            path: path.to_path_buf(),
        });
    }
    let numbers = |name: &str| -> Result<Vec<Option<f64>>> {
        Ok(frame
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .context(|| format!("reading column '{name}' of {}", path.display()))?
            .f64()
            .context(|| format!("reading column '{name}'"))?
            .iter()
            .collect())
    };
    let (periods, active) = (numbers(&period_col)?, numbers(&active_col)?);
    let cohorts: Vec<String> = match has_cohort {
        true => frame
            .column("cohort")
            .and_then(|c| c.cast(&DataType::String))
            .context(|| format!("reading column 'cohort' of {}", path.display()))?
            .str()
            .context(|| "reading column 'cohort'".to_string())?
            .iter()
            .map(|c| c.unwrap_or_default().to_string())
            .collect(),
        false => vec!["all".to_string(); frame.height()],
    };
    let bad = |column: &str, row: usize, message: String| ClvError::BadValue {
        path: path.to_path_buf(),
        column: column.to_string(),
        row: row + 1,
        message,
    };
    // Each cohort's rows, in file order, must be its periods 0, 1, 2, … in order.
    let mut tables: Vec<(String, Vec<f64>, Vec<usize>)> = Vec::new();
    for row in 0..frame.height() {
        let count = match active[row] {
            Some(a) if a >= 0.0 && a.is_finite() => a,
            other => {
                return Err(bad(&active_col, row, format!("expected a count ≥ 0, found {other:?}")));
            }
        };
        let k = match tables.iter().position(|(name, _, _)| *name == cohorts[row]) {
            Some(k) => k,
            None => {
                tables.push((cohorts[row].clone(), Vec::new(), Vec::new()));
                tables.len() - 1
            }
        };
        let expected = tables[k].1.len() as f64;
        if periods[row] != Some(expected) {
            return Err(bad(
                &period_col,
                row,
                format!(
                    "cohort '{}' needs period {expected} here (periods 0, 1, 2, … in order), found {:?}",
                    cohorts[row], periods[row]
                ),
            ));
        }
        tables[k].1.push(count);
        tables[k].2.push(row);
    }
    Ok(tables
        .into_iter()
        .map(|(cohort, active, rows)| SurvivalCounts { cohort, active, rows })
        .collect())
}

impl CustomerSummary for ContractualSummary {
    fn kind(&self) -> SummaryKind {
        SummaryKind::Contractual
    }

    fn customer_ids(&self) -> &CustomerIds {
        &self.customer_id
    }

    fn age_in_days(&self, i: usize) -> f64 {
        f64::from(self.observation_end - self.start[i])
    }

    /// Renewals: the periods paid after the first.
    fn repeat_transactions(&self, i: usize) -> f64 {
        match self.churned[i] {
            true => f64::from(self.duration[i] - 1),
            false => f64::from(self.duration[i]),
        }
    }

    fn repeat_revenue(&self, i: usize) -> f64 {
        self.price.as_ref().map_or(0.0, |p| p[i] * self.repeat_transactions(i))
    }

    fn first_transaction_days(&self) -> Option<&[i32]> {
        Some(&self.start)
    }

    fn history_header(&self) -> String {
        format!("{:>8} {:>8}", "periods", "churned")
    }

    fn history_cells(&self, i: usize) -> String {
        format!(
            "{:>8} {:>8}",
            self.duration[i],
            if self.churned[i] { "yes" } else { "no" }
        )
    }

    fn into_columns(self) -> Result<Vec<Column>> {
        let ctx = || "building the retention summary".to_string();
        let mut columns = vec![
            self.customer_id.column(),
            Column::new("start".into(), self.start)
                .cast(&DataType::Date)
                .context(ctx)?,
            Column::new("periods".into(), self.duration),
            Column::new("churned".into(), self.churned),
        ];
        if let Some(price) = self.price {
            columns.push(Column::new("price".into(), price));
        }
        if let Some(cohort) = self.cohort {
            columns.push(Column::new("cohort".into(), cohort));
        }
        Ok(columns)
    }
}
