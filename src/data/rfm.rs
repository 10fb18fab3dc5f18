//! Recency/frequency/monetary summaries, with the conventions of the BTYD literature
//! (Fader, Hardie & Lee 2005) and `lifetimes`:
//! - purchases on the same day are one transaction, their amounts summed;
//! - frequency x = number of repeat transactions (transactions after the first);
//! - recency t_x = time from the first to the last transaction; T = time from the first
//!   transaction to the end of the (calibration) period; both at daily resolution in the unit;
//! - monetary_value = mean value of the repeat transactions only (0 when x = 0);
//! - with a calibration end: customers whose first purchase is later are not in the table;
//!   frequency_holdout counts transactions in (calibration end, observation end],
//!   monetary_value_holdout is their mean value (0 when none), duration_holdout the period's length;
//! - first_purchase is the date of the first transaction (the customer's acquisition cohort).

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::io::{column_names, require_column, scan_table};
use super::transactions::{epoch_days, from_epoch_days, NegativeAmounts, Transactions};
use super::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};

/// How to summarise a log.
#[derive(Debug, Clone, Copy)]
pub struct SummaryOptions {
    pub time_unit: TimeUnit,
    /// Last day observed; purchases after it are left out (and counted). Default: the last date in the log.
    pub observation_end: Option<NaiveDate>,
    /// Last day of the calibration period; adds holdout columns. Default: no split.
    pub calibration_end: Option<NaiveDate>,
}

/// An RFM summary as written by `clv summarize`, with what was left out of it.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Columns: customer_id, frequency, recency, T, [monetary_value], [frequency_holdout,
    /// [monetary_value_holdout], duration_holdout], first_purchase, time_unit.
    pub frame: DataFrame,
    pub time_unit: TimeUnit,
    pub first_date: NaiveDate,
    pub observation_end: NaiveDate,
    pub calibration_end: Option<NaiveDate>,
    /// Log rows dated after the observation end, left out.
    pub rows_after_observation_end: usize,
    /// Customers whose first purchase is after the calibration end, not in the table.
    pub customers_after_calibration: usize,
    /// How negative amounts were handled, and how many log rows had one.
    pub negative_amounts: NegativeAmounts,
    pub negative_rows: usize,
    /// With `NegativeAmounts::Net`: customer-days holding a return whose net amount is ≤ 0,
    /// which are not counted as purchases.
    pub return_days_dropped: usize,
}

/// Builds the RFM summary of `log` with Polars' lazy engine (no loop over rows).
pub fn summarize(log: &Transactions, options: &SummaryOptions) -> Result<Summary> {
    let (first_day, last_day) = log.date_range()?;
    let observation_end = options.observation_end.map(epoch_days).unwrap_or(last_day);
    let arg_err = |m: String| Err(ClvError::InvalidArgument(m));
    if observation_end < first_day {
        return arg_err(format!(
            "the observation end {} is before the first purchase in {} ({})",
            from_epoch_days(observation_end),
            log.path.display(),
            from_epoch_days(first_day)
        ));
    }
    let calibration_end = options.calibration_end.map(epoch_days);
    if let Some(cal) = calibration_end {
        if cal >= observation_end {
            return arg_err(format!(
                "the calibration end {} must be before the observation end {}",
                from_epoch_days(cal),
                from_epoch_days(observation_end)
            ));
        }
        if cal < first_day {
            return arg_err(format!(
                "the calibration end {} is before the first purchase in {} ({}): no customer to calibrate on",
                from_epoch_days(cal),
                log.path.display(),
                from_epoch_days(first_day)
            ));
        }
    }
    let period_end = calibration_end.unwrap_or(observation_end);
    let unit = options.time_unit.days();
    let ctx = || format!("summarizing {}", log.path.display());

    // Same-day purchases are one transaction: counts are of distinct days and mean spend is the
    // total over the days' count, so the rows need not be merged by day first (a two-key
    // group-by, the slowest step on millions of rows) — except to net returns day by day.
    let (daily, rows_after_observation_end, return_days_dropped) = purchases(log, observation_end, false)?;

    let mut calibration_aggs = vec![
        col("__order").min(),
        col("date").n_unique().alias("n_days"),
        col("date").min().alias("first"),
        col("date").max().alias("last"),
    ];
    if log.has_amount {
        // Repeat spend summed directly over the repeat days (not total minus first, which leaves
        // float residue): the first day's amounts are masked before grouping (a filter inside the
        // aggregation is evaluated group by group, several times slower on a million customers).
        calibration_aggs.push(col("repeat_amount").sum().alias("repeat_total"));
    }
    let x = (col("n_days").cast(DataType::Int64) - lit(1i64)).alias("frequency");
    let mut columns = vec![
        col("__order"),
        col("customer_id"),
        x,
        ((col("last") - col("first")).cast(DataType::Float64) / lit(unit)).alias("recency"),
        ((lit(period_end) - col("first")).cast(DataType::Float64) / lit(unit)).alias("T"),
        col("first").alias("first_purchase"),
    ];
    if log.has_amount {
        columns.push(
            when(col("n_days").gt(lit(1)))
                .then(col("repeat_total") / (col("n_days").cast(DataType::Float64) - lit(1.0)))
                .otherwise(lit(0.0))
                .alias("monetary_value"),
        );
    }
    // Customers come out in the order of their first row in the log.
    let mut calibration = daily.clone().filter(col("date").lt_eq(lit(period_end)));
    if log.has_amount {
        let first_day = col("date")
            .min()
            .over([col("customer_id")])
            .context(|| format!("summarizing {}", log.path.display()))?;
        calibration = calibration.with_column(
            when(col("date").gt(first_day))
                .then(col("amount"))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("repeat_amount"),
        );
    }
    let mut table = calibration
        .group_by([col("customer_id")])
        .agg(calibration_aggs)
        .select(columns);

    let mut customers_after_calibration = 0;
    if let Some(cal) = calibration_end {
        let holdout_days = col("date").n_unique();
        let mut holdout_aggs = vec![holdout_days.clone().cast(DataType::Int64).alias("frequency_holdout")];
        if log.has_amount {
            holdout_aggs
                .push((col("amount").sum() / holdout_days.cast(DataType::Float64)).alias("monetary_value_holdout"));
        }
        let holdout = daily
            .clone()
            .filter(col("date").gt(lit(cal)))
            .group_by([col("customer_id")])
            .agg(holdout_aggs);
        let mut fill = vec![col("frequency_holdout").fill_null(lit(0i64))];
        if log.has_amount {
            fill.push(col("monetary_value_holdout").fill_null(lit(0.0)));
        }
        fill.push(lit((observation_end - cal) as f64 / unit).alias("duration_holdout"));
        table = table
            .left_join(holdout, col("customer_id"), col("customer_id"))
            .with_columns(fill);

        let all_customers = daily
            .select([col("customer_id").n_unique().alias("n")])
            .collect()
            .context(ctx)?;
        let n_all = all_customers
            .column("n")
            .and_then(|c| c.cast(&DataType::UInt64))
            .ok()
            .and_then(|c| c.u64().ok().and_then(|c| c.iter().next().flatten()))
            .unwrap_or(0) as usize;
        let frame = table.collect().context(ctx)?;
        customers_after_calibration = n_all.saturating_sub(frame.height());
        table = frame.lazy();
    }
    let frame = table
        .sort(["__order"], SortMultipleOptions::default())
        .select([
            all().exclude_cols(["__order", "first_purchase"]).as_expr(),
            col("first_purchase").cast(DataType::Date),
            lit(options.time_unit.name()).alias("time_unit"),
        ])
        .collect()
        .context(ctx)?;
    Ok(Summary {
        frame,
        time_unit: options.time_unit,
        first_date: from_epoch_days(first_day),
        observation_end: from_epoch_days(observation_end),
        calibration_end: calibration_end.map(from_epoch_days),
        rows_after_observation_end,
        customers_after_calibration,
        negative_amounts: log.negative_amounts,
        negative_rows: log.negative_rows,
        return_days_dropped,
    })
}

/// The log's purchases up to `observation_end` (columns customer_id, date, __order, [amount]):
/// with `merge_days`, or to net returns (`NegativeAmounts::Net`, where days whose net is ≤ 0 are
/// removed), one row per customer and day, amounts summed; otherwise the log's rows as they are.
/// Also returns the number of log rows after the observation end and of removed return days.
fn purchases(log: &Transactions, observation_end: i32, merge_days: bool) -> Result<(LazyFrame, usize, usize)> {
    let ctx = || format!("summarizing {}", log.path.display());
    let observed = log
        .frame
        .clone()
        .lazy()
        .with_row_index("__order", None)
        .filter(col("date").lt_eq(lit(observation_end)));
    let rows_after_observation_end = log
        .frame
        .column("date")
        .and_then(|c| c.i32().cloned())
        .context(ctx)?
        .iter()
        .filter(|d| d.is_some_and(|d| d > observation_end))
        .count();

    let netting = log.has_amount && log.negative_amounts == NegativeAmounts::Net;
    if !(merge_days || netting) {
        return Ok((observed, rows_after_observation_end, 0));
    }
    // One transaction per customer and day, amounts summed.
    let mut day_aggs = vec![col("__order").min()];
    if log.has_amount {
        day_aggs.push(col("amount").sum());
    } else {
        day_aggs.push(len().alias("purchases"));
    }
    if netting {
        day_aggs.push(col("amount").lt(lit(0.0)).any(true).alias("has_return"));
    }
    let mut daily = observed
        .group_by([col("customer_id"), col("date")])
        .agg(day_aggs)
        .collect()
        .context(ctx)?;
    let mut return_days_dropped = 0;
    if netting {
        let before = daily.height();
        daily = daily
            .lazy()
            .filter(col("has_return").and(col("amount").lt_eq(lit(0.0))).not())
            .collect()
            .context(ctx)?;
        return_days_dropped = before - daily.height();
    }
    Ok((daily.lazy(), rows_after_observation_end, return_days_dropped))
}

/// Repeat transactions per day (same-day purchases merged, as in `summarize`) of the customers
/// `summary` holds, i.e. those whose first purchase is by the end of its calibration period,
/// up to its observation end: (day as days since 1970-01-01, transactions), in day order.
pub fn repeat_transactions_by_day(log: &Transactions, summary: &Summary) -> Result<Vec<(i32, u64)>> {
    let observation_end = epoch_days(summary.observation_end);
    let period_end = epoch_days(summary.calibration_end.unwrap_or(summary.observation_end));
    let (daily, _, _) = purchases(log, observation_end, true)?;
    let firsts = daily
        .clone()
        .group_by([col("customer_id")])
        .agg([col("date").min().alias("first")]);
    let per_day = daily
        .inner_join(firsts, col("customer_id"), col("customer_id"))
        .filter(col("date").gt(col("first")).and(col("first").lt_eq(lit(period_end))))
        .group_by([col("date")])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .sort(["date"], SortMultipleOptions::default())
        .collect()
        .context(|| format!("counting repeat transactions in {}", log.path.display()))?;
    let (days, counts) = per_day
        .column("date")
        .and_then(|c| c.i32().cloned())
        .and_then(|d| per_day.column("n").and_then(|c| c.u64().cloned()).map(|n| (d, n)))
        .context(|| format!("counting repeat transactions in {}", log.path.display()))?;
    Ok(days
        .iter()
        .zip(counts.iter())
        .filter_map(|(d, n)| Some((d?, n?)))
        .collect())
}

/// Per-customer RFM data, validated, as the models consume it.
#[derive(Debug, Clone)]
pub struct RfmTable {
    pub customer_id: Vec<String>,
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    pub t: Vec<f64>,
    pub monetary_value: Option<Vec<f64>>,
    /// Date of the first purchase, as days since 1970-01-01, when the table has it.
    pub first_purchase: Option<Vec<i32>>,
    pub time_unit: TimeUnit,
}

/// Accepted names of each RFM column: ours and `lifetimes`' first, then the papers' (x, t_x, zbar).
const CUSTOMER_NAMES: &[&str] = &["customer_id", "ID", "id", "customer"];
const FREQUENCY_NAMES: &[&str] = &["frequency", "x"];
const RECENCY_NAMES: &[&str] = &["recency", "t_x"];
const AGE_NAMES: &[&str] = &["T"];
const MONETARY_NAMES: &[&str] = &["monetary_value", "zbar"];

impl RfmTable {
    /// Reads an RFM table (CSV or Parquet) as written by `clv summarize`, or with the papers'
    /// column names (ID, x, t_x, T, zbar). The time unit comes from its `time_unit` column or,
    /// for a table without one, from `time_unit`; when both are there they must agree.
    pub fn read(path: &Path, time_unit: Option<TimeUnit>) -> Result<Self> {
        let mut lf = scan_table(path)?;
        let available = column_names(&mut lf, path)?;
        let frame = lf.collect().context(|| format!("reading {}", path.display()))?;
        Self::from_frame(&frame, path, &available, time_unit)
    }

    /// Validates a frame with RFM columns; `source` names it in error messages.
    pub fn from_frame(
        frame: &DataFrame,
        source: &Path,
        available: &[String],
        time_unit: Option<TimeUnit>,
    ) -> Result<Self> {
        if frame.height() == 0 {
            return Err(ClvError::EmptyInput {
                path: source.to_path_buf(),
            });
        }
        let find = |names: &[&str]| {
            names
                .iter()
                .find(|n| available.iter().any(|c| c == *n))
                .map(|n| n.to_string())
        };
        let pick = |names: &[&str]| match find(names) {
            Some(n) => Ok(n),
            None => require_column(source, available, names[0]),
        };
        let id_col = pick(CUSTOMER_NAMES)?;
        let x_col = pick(FREQUENCY_NAMES)?;
        let tx_col = pick(RECENCY_NAMES)?;
        let t_col = pick(AGE_NAMES)?;
        let m_col = find(MONETARY_NAMES);

        let unit_in_table = match available.iter().any(|c| c == "time_unit") {
            true => Some(table_time_unit(frame, source)?),
            false => None,
        };
        let time_unit = match (unit_in_table, time_unit) {
            (Some(a), Some(b)) if a != b => {
                return Err(ClvError::InvalidArgument(format!(
                    "{} is in {a} (its time_unit column) but --time-unit {b} was given",
                    source.display()
                )))
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                return Err(ClvError::InvalidArgument(format!(
                    "{} has no time_unit column: say which unit its recency and T are in with --time-unit",
                    source.display()
                )))
            }
        };

        let customer_id: Vec<String> = frame
            .column(&id_col)
            .and_then(|c| c.cast(&DataType::String))
            .context(|| format!("reading {}", source.display()))?
            .str()
            .context(|| format!("reading {}", source.display()))?
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect();
        let numbers = |name: &str| numeric_column(frame, source, name);
        let frequency = numbers(&x_col)?;
        let recency = numbers(&tx_col)?;
        let t = numbers(&t_col)?;
        let monetary_value = m_col.as_deref().map(numbers).transpose()?;
        let first_purchase = match available.iter().any(|c| c == "first_purchase") {
            true => Some(date_column(frame, source, "first_purchase")?),
            false => None,
        };

        let bad = |column: &str, i: usize, message: String| ClvError::BadValue {
            path: source.to_path_buf(),
            column: column.to_string(),
            row: i + 1,
            message,
        };
        for i in 0..frame.height() {
            let (x, tx, age) = (frequency[i], recency[i], t[i]);
            if customer_id[i].trim().is_empty() {
                return Err(bad(&id_col, i, "empty customer id".into()));
            }
            if x < 0.0 || x.fract() != 0.0 {
                return Err(bad(&x_col, i, format!("frequency {x} is not a whole number ≥ 0")));
            }
            if age < 0.0 {
                return Err(bad(&t_col, i, format!("T {age} is negative")));
            }
            if !(0.0..=age).contains(&tx) {
                return Err(bad(&tx_col, i, format!("recency {tx} is not between 0 and T = {age}")));
            }
            if x > 0.0 && tx == 0.0 {
                return Err(bad(
                    &tx_col,
                    i,
                    format!("recency is 0 but frequency is {x}: repeat purchases must come after the first"),
                ));
            }
            if let Some(m) = &monetary_value {
                if m[i] < 0.0 {
                    return Err(bad(
                        m_col.as_deref().unwrap_or("monetary_value"),
                        i,
                        format!("monetary value {} is negative", m[i]),
                    ));
                }
            }
        }
        Ok(Self {
            customer_id,
            frequency,
            recency,
            t,
            monetary_value,
            first_purchase,
            time_unit,
        })
    }

    pub fn len(&self) -> usize {
        self.customer_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customer_id.is_empty()
    }
}

/// A column as finite f64 values; a value that is not a finite number is an error naming its row.
fn numeric_column(frame: &DataFrame, source: &Path, name: &str) -> Result<Vec<f64>> {
    let ctx = || format!("reading column '{name}' of {}", source.display());
    let raw = frame.column(name).context(ctx)?;
    let values = raw.cast(&DataType::Float64).context(ctx)?;
    let values = values.f64().context(ctx)?;
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) if v.is_finite() => out.push(v),
            _ => {
                let shown = raw.get(i).map(|v| v.to_string()).unwrap_or_default();
                return Err(ClvError::BadValue {
                    path: source.to_path_buf(),
                    column: name.to_string(),
                    row: i + 1,
                    message: format!("{shown} is not a finite number"),
                });
            }
        }
    }
    Ok(out)
}

/// A column of dates (Date, or ISO text) as days since 1970-01-01; a value that is not a date is
/// an error naming its row.
fn date_column(frame: &DataFrame, source: &Path, name: &str) -> Result<Vec<i32>> {
    let ctx = || format!("reading column '{name}' of {}", source.display());
    let raw = frame.column(name).context(ctx)?;
    let as_date = match raw.dtype() {
        DataType::String => col(name).str().to_date(StrptimeOptions {
            format: Some("%Y-%m-%d".into()),
            strict: false,
            ..Default::default()
        }),
        _ => col(name).cast(DataType::Date),
    };
    let days = frame
        .clone()
        .lazy()
        .select([as_date.cast(DataType::Int32)])
        .collect()
        .context(ctx)?;
    let days = days.column(name).and_then(|c| c.i32().cloned()).context(ctx)?;
    days.iter()
        .enumerate()
        .map(|(i, d)| {
            d.ok_or_else(|| ClvError::BadValue {
                path: source.to_path_buf(),
                column: name.to_string(),
                row: i + 1,
                message: format!(
                    "{} is not a YYYY-MM-DD date",
                    raw.get(i).map(|v| v.to_string()).unwrap_or_default()
                ),
            })
        })
        .collect()
}

/// The single time unit named in a table's `time_unit` column.
fn table_time_unit(frame: &DataFrame, source: &Path) -> Result<TimeUnit> {
    let ctx = || format!("reading column 'time_unit' of {}", source.display());
    let column = frame
        .column("time_unit")
        .and_then(|c| c.cast(&DataType::String))
        .context(ctx)?;
    let mut found: Option<TimeUnit> = None;
    for (i, v) in column.str().context(ctx)?.iter().enumerate() {
        let bad = |message: String| ClvError::BadValue {
            path: source.to_path_buf(),
            column: "time_unit".into(),
            row: i + 1,
            message,
        };
        let unit = v
            .and_then(TimeUnit::parse)
            .ok_or_else(|| bad(format!("'{}' is not days, weeks or months", v.unwrap_or(""))))?;
        match found {
            Some(f) if f != unit => return Err(bad(format!("{unit} here but {f} above: one table, one unit"))),
            _ => found = Some(unit),
        }
    }
    found.ok_or_else(|| ClvError::EmptyInput {
        path: source.to_path_buf(),
    })
}
