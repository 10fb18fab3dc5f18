//! Discrete-time non-contractual summaries: customers who can only buy at discrete occasions
//! (a yearly fundraising drive, a weekly delivery slot), summarised as BG/BB reads them
//! (Fader, Hardie & Shang 2010), with these conventions:
//! - purchase days, the observation and the customers are those of `data::rfm` (rules 1–4 of
//!   `data::conventions`), so both summaries count the same purchases;
//! - the opportunities are the calendar periods (`data::period`) after the one holding the
//!   customer's first purchase, up to the last period complete by the (calibration) end: n of
//!   them. A period with several purchases is one transaction; purchases in a period not yet
//!   complete are not counted (it is not an opportunity yet);
//! - frequency x = opportunities with a transaction; recency t_x = the last such opportunity's
//!   number (1..n), 0 when x = 0; periods = n;
//! - monetary_value = mean amount of those repeat periods (0 when x = 0);
//! - with a calibration end: customers whose first purchase is later are not in the table;
//!   frequency_holdout counts transactions in the periods complete by the observation end after
//!   the calibration's, periods_holdout how many such periods there are.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::conventions::mean_or_zero;
use super::io::{column_names, read_table, require_column, scan_table};
use super::period::Period;
use super::rfm::{date_column, numeric_column, per_customer, CustomerIds};
use super::summary::{CustomerSummary, SummaryKind};
use super::transactions::{epoch_days, from_epoch_days, Transactions};
use crate::error::{ClvError, PolarsContext, Result};
use crate::models::histories::{DiscreteHistories, DiscreteRow};

/// How to summarise a log into discrete opportunities.
#[derive(Debug, Clone, Copy)]
pub struct DiscreteSummaryOptions {
    /// The opportunity: one calendar period.
    pub period: Period,
    /// Last day observed. Default: the last date in the log.
    pub observation_end: Option<NaiveDate>,
    /// Last day of the calibration period; adds holdout columns. Default: no split.
    pub calibration_end: Option<NaiveDate>,
}

/// Per-customer discrete-time histories, in the order of each customer's first row in the log.
#[derive(Debug, Clone)]
pub struct DiscreteSummary {
    pub customer_id: CustomerIds,
    pub frequency: Vec<u32>,
    pub recency: Vec<u32>,
    pub periods: Vec<u32>,
    /// Present when the log has amounts.
    pub monetary_value: Option<Vec<f64>>,
    /// With a calibration end: transactions and opportunities in the holdout.
    pub holdout: Option<(Vec<u32>, Vec<u32>)>,
    /// Day of the first purchase (days since 1970-01-01).
    pub first_purchase: Vec<i32>,
    pub period: Period,
    /// Last day of the (calibration) period the histories run to.
    pub period_end: i32,
}

/// One customer's history, as `summarize_discrete` builds it.
#[derive(Debug, Clone, Copy, Default)]
struct CustomerOpportunities {
    first_day: i32,
    x: u32,
    t_x: u32,
    n: u32,
    repeat_total: f64,
    x_holdout: u32,
    n_holdout: u32,
}

impl CustomerOpportunities {
    /// From the customer's purchase days (in day order): `None` when she first bought after
    /// `period_end`. `last_calibration` and `last_observed` are the last complete periods.
    fn of(
        days: &[(i32, f64)],
        period: Period,
        period_end: i32,
        last_calibration: i32,
        last_observed: i32,
    ) -> Option<Self> {
        let &(first_day, _) = days.first().filter(|(d, _)| *d <= period_end)?;
        let birth = period.index(first_day);
        let mut c = CustomerOpportunities {
            first_day,
            n: (last_calibration - birth).max(0) as u32,
            n_holdout: (last_observed - birth.max(last_calibration)).max(0) as u32,
            ..Default::default()
        };
        // Days are in order, so each period's days are consecutive.
        let mut previous = birth;
        for &(day, amount) in &days[1..] {
            let p = period.index(day);
            if p == birth || p > last_observed {
                continue;
            }
            if p <= last_calibration {
                if p != previous {
                    c.x += 1;
                    c.t_x = (p - birth) as u32;
                }
                c.repeat_total += amount;
            } else if p != previous {
                c.x_holdout += 1;
            }
            previous = p;
        }
        Some(c)
    }
}

/// Where a summary's periods end, in days and period indices.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    observation_end: i32,
    calibration_end: Option<i32>,
    /// Last day of the (calibration) histories.
    period_end: i32,
    last_calibration: i32,
    last_observed: i32,
}

impl Bounds {
    fn of(log: &Transactions, options: &DiscreteSummaryOptions) -> Result<Self> {
        let (first_day, last_day) = log.date_range()?;
        let observation_end = options.observation_end.map(epoch_days).unwrap_or(last_day);
        let calibration_end = options.calibration_end.map(epoch_days);
        if observation_end < first_day || calibration_end.is_some_and(|c| c < first_day || c >= observation_end) {
            return Err(ClvError::InvalidArgument(format!(
                "need first purchase ({}) ≤ calibration end < observation end ({})",
                from_epoch_days(first_day),
                from_epoch_days(observation_end)
            )));
        }
        let period_end = calibration_end.unwrap_or(observation_end);
        Ok(Self {
            observation_end,
            calibration_end,
            period_end,
            last_calibration: options.period.last_complete(period_end),
            last_observed: options.period.last_complete(observation_end),
        })
    }
}

/// Builds the discrete-time summary of `log` (conventions in the module notes).
pub fn summarize_discrete(log: &Transactions, options: &DiscreteSummaryOptions) -> Result<DiscreteSummary> {
    let Bounds {
        observation_end,
        calibration_end,
        period_end,
        last_calibration,
        last_observed,
    } = Bounds::of(log, options)?;
    let period = options.period;
    let customers: Vec<(IdxSize, CustomerOpportunities)> = per_customer(log, observation_end, |first_row, days, _| {
        CustomerOpportunities::of(days, period, period_end, last_calibration, last_observed).map(|c| (first_row, c))
    })?
    .into_iter()
    .flatten()
    .flatten()
    .collect();
    if customers.is_empty() {
        return Err(ClvError::EmptyInput { path: log.path.clone() });
    }
    let ctx = || format!("summarizing {}", log.path.display());
    let first_rows: Vec<IdxSize> = customers.iter().map(|(r, _)| *r).collect();
    let ids = log
        .frame
        .column("customer_id")
        .and_then(|c| c.take_slice(&first_rows))
        .and_then(|c| CustomerIds::from_column(&c))
        .context(ctx)?;
    let of = |f: fn(&CustomerOpportunities) -> u32| customers.iter().map(|(_, c)| f(c)).collect::<Vec<_>>();
    Ok(DiscreteSummary {
        customer_id: ids,
        frequency: of(|c| c.x),
        recency: of(|c| c.t_x),
        periods: of(|c| c.n),
        monetary_value: log.has_amount.then(|| {
            customers
                .iter()
                .map(|(_, c)| mean_or_zero(c.repeat_total, c.x))
                .collect()
        }),
        holdout: calibration_end.map(|_| (of(|c| c.x_holdout), of(|c| c.n_holdout))),
        first_purchase: customers.iter().map(|(_, c)| c.first_day).collect(),
        period,
        period_end,
    })
}

/// Repeat transactions per calendar period of the customers `summarize_discrete` keeps.
#[derive(Debug, Clone)]
pub struct TransactionsByPeriod {
    /// Index (`Period::index`) of the first period counted: the one after the earliest first
    /// purchase's.
    pub first: i32,
    /// The last day observed (days since 1970-01-01), given or the log's last date.
    pub observation_end: i32,
    /// The last period complete by the (calibration) end, and by the observation end.
    pub last_calibration: i32,
    pub last_observed: i32,
    /// Transactions in periods `first`, `first + 1`, …, `last_observed`: customers with a
    /// purchase in the period, after the one of their first purchase.
    pub transactions: Vec<u64>,
}

/// The customers' repeat transactions per calendar period, with the conventions of
/// `summarize_discrete` (the same customers, the same periods).
pub fn transactions_by_period(log: &Transactions, options: &DiscreteSummaryOptions) -> Result<TransactionsByPeriod> {
    let bounds = Bounds::of(log, options)?;
    let period = options.period;
    let per_customer = per_customer(log, bounds.observation_end, |_, days, _| {
        let &(first_day, _) = days.first().filter(|(d, _)| *d <= bounds.period_end)?;
        let birth = period.index(first_day);
        let mut periods: Vec<i32> = days[1..]
            .iter()
            .map(|&(day, _)| period.index(day))
            .filter(|&p| p > birth && p <= bounds.last_observed)
            .collect();
        periods.dedup();
        Some((birth, periods))
    })?;
    let customers: Vec<(i32, Vec<i32>)> = per_customer.into_iter().flatten().flatten().collect();
    let first = customers.iter().map(|(birth, _)| birth + 1).min().unwrap_or(i32::MAX);
    if first == i32::MAX {
        return Err(ClvError::EmptyInput { path: log.path.clone() });
    }
    let mut transactions = vec![0; (bounds.last_observed - first + 1).max(0) as usize];
    for p in customers.iter().flat_map(|(_, periods)| periods) {
        transactions[(p - first) as usize] += 1;
    }
    Ok(TransactionsByPeriod {
        first,
        observation_end: bounds.observation_end,
        last_calibration: bounds.last_calibration,
        last_observed: bounds.last_observed,
        transactions,
    })
}

impl DiscreteSummary {
    /// Reads a discrete summary as `to_frame` writes it — customer_id, frequency, recency,
    /// periods, [monetary_value], first_purchase, [period], [period_end] — for opportunities of
    /// `period` (a `period` column, if any, must say the same). Without `period_end` the
    /// histories are taken to run to the end of the last period any customer's opportunities
    /// reach (first purchase's period + periods).
    pub fn read(path: &Path, period: Period) -> Result<Self> {
        let mut lf = scan_table(path)?;
        let available = column_names(&mut lf, path)?;
        for name in ["customer_id", "frequency", "recency", "periods", "first_purchase"] {
            require_column(path, &available, name)?;
        }
        let frame = lf.collect().context(|| format!("reading {}", path.display()))?;
        if frame.height() == 0 {
            return Err(ClvError::EmptyInput {
                path: path.to_path_buf(),
            });
        }
        if available.iter().any(|c| c == "period") {
            let ctx = || format!("reading column 'period' of {}", path.display());
            let names = frame
                .column("period")
                .and_then(|c| c.cast(&DataType::String))
                .context(ctx)?;
            let mismatch = names
                .str()
                .context(ctx)?
                .iter()
                .enumerate()
                .find(|(_, v)| *v != Some(period.name()))
                .map(|(i, v)| (i, v.unwrap_or("(nothing)").to_string()));
            if let Some((i, other)) = mismatch {
                return Err(ClvError::BadValue {
                    path: path.to_path_buf(),
                    column: "period".into(),
                    row: i + 1,
                    message: format!("the table counts opportunities per {other}, the model per {period}"),
                });
            }
        }
        let customer_id = CustomerIds::from_column(
            frame
                .column("customer_id")
                .context(|| format!("reading {}", path.display()))?,
        )
        .context(|| format!("reading {}", path.display()))?;
        let whole = |name: &str| whole_numbers(&frame, path, name);
        let (frequency, recency, periods) = (whole("frequency")?, whole("recency")?, whole("periods")?);
        let monetary_value = match available.iter().any(|c| c == "monetary_value") {
            true => Some(numeric_column(&frame, path, "monetary_value")?),
            false => None,
        };
        if let Some((i, m)) = monetary_value.iter().flatten().enumerate().find(|(_, m)| **m < 0.0) {
            return Err(ClvError::BadValue {
                path: path.to_path_buf(),
                column: "monetary_value".into(),
                row: i + 1,
                message: format!("monetary value {m} is negative"),
            });
        }
        let first_purchase = date_column(&frame, path, "first_purchase")?;
        let rows = (0..frequency.len()).map(|i| DiscreteRow {
            x: frequency[i],
            t_x: recency[i],
            n: periods[i],
            weight: 1.0,
        });
        DiscreteHistories::from_rows(rows).map_err(|(row, message)| ClvError::BadValue {
            path: path.to_path_buf(),
            column: "frequency, recency, periods".into(),
            row: row + 1,
            message,
        })?;
        let period_end = match available.iter().any(|c| c == "period_end") {
            true => date_column(&frame, path, "period_end")?.into_iter().max().unwrap_or(0),
            false => {
                let last = (0..frequency.len())
                    .map(|i| period.index(first_purchase[i]) + periods[i] as i32)
                    .max()
                    .unwrap_or(0);
                period.start(last + 1) - 1
            }
        };
        Ok(Self {
            customer_id,
            frequency,
            recency,
            periods,
            monetary_value,
            holdout: None,
            first_purchase,
            period,
            period_end,
        })
    }

    /// The distinct (x, t_x, n) with their customer counts, as a model fits them.
    pub fn histories(&self) -> Result<DiscreteHistories> {
        self.histories_of(0..self.len())
    }

    /// The distinct (x, t_x, n) of the customers `rows` (a row may repeat, as in a bootstrap
    /// resample) with their counts; an invalid history is an error naming its customer.
    pub fn histories_of(&self, rows: impl Iterator<Item = usize> + Clone) -> Result<DiscreteHistories> {
        let histories = rows.clone().map(|i| DiscreteRow {
            x: self.frequency[i],
            t_x: self.recency[i],
            n: self.periods[i],
            weight: 1.0,
        });
        DiscreteHistories::from_rows(histories).map_err(|(k, message)| {
            let customer = rows.clone().nth(k).unwrap_or(k);
            ClvError::InvalidArgument(format!("customer '{}': {message}", self.customer_id.label(customer)))
        })
    }

    /// The table `clv` writes: customer_id, frequency, recency, periods, [monetary_value],
    /// [frequency_holdout, periods_holdout], first_purchase, period, period_end (the last day the
    /// histories run to).
    pub fn to_frame(&self) -> Result<DataFrame> {
        let ctx = || "building the discrete summary".to_string();
        let integers =
            |name: &str, v: &[u32]| Column::new(name.into(), v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>());
        let mut columns = vec![
            self.customer_id.column(),
            integers("frequency", &self.frequency),
            integers("recency", &self.recency),
            integers("periods", &self.periods),
        ];
        if let Some(m) = &self.monetary_value {
            columns.push(Column::new("monetary_value".into(), m));
        }
        if let Some((x, n)) = &self.holdout {
            columns.push(integers("frequency_holdout", x));
            columns.push(integers("periods_holdout", n));
        }
        columns.push(
            Column::new("first_purchase".into(), &self.first_purchase)
                .cast(&DataType::Date)
                .context(ctx)?,
        );
        columns.push(Column::new_scalar(
            "period".into(),
            Scalar::from(PlSmallStr::from_static(self.period.name())),
            self.len(),
        ));
        columns.push(
            Column::new_scalar("period_end".into(), Scalar::from(self.period_end), self.len())
                .cast(&DataType::Date)
                .context(ctx)?,
        );
        DataFrame::new_infer_height(columns).context(ctx)
    }
}

/// A column of whole numbers ≥ 0; anything else is an error naming its row.
fn whole_numbers(frame: &DataFrame, path: &Path, name: &str) -> Result<Vec<u32>> {
    let values = frame
        .column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .context(|| format!("reading column '{name}' of {}", path.display()))?;
    let values = values.f64().context(|| format!("reading column '{name}'"))?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => Ok(v as u32),
            _ => Err(ClvError::BadValue {
                path: path.to_path_buf(),
                column: name.to_string(),
                row: i + 1,
                message: format!(
                    "expected a whole number ≥ 0, found {}",
                    v.map_or("nothing".into(), |v| v.to_string())
                ),
            }),
        })
        .collect()
}

/// Reads a table of distinct discrete-time histories with their counts — `frequency` (or `x`),
/// `recency` (or `t_x`), `periods` (or `n`, `n_periods`) and `weights` (or `count`, `customers`;
/// 1 each when absent) — as the BG/BB literature publishes them (`shared/data/donations.csv`).
pub fn read_discrete_histories(path: &Path) -> Result<DiscreteHistories> {
    let (frame, available) = read_table(path)?;
    let find = |names: &[&str]| {
        names
            .iter()
            .find(|n| available.iter().any(|a| a == *n))
            .map(|n| n.to_string())
    };
    let pick = |names: &[&str]| match find(names) {
        Some(name) => Ok(name),
        None => require_column(path, &available, names[0]),
    };
    let integer_column = |name: &str| whole_numbers(&frame, path, name);
    let (x_name, t_x_name, n_name) = (
        pick(&["frequency", "x"])?,
        pick(&["recency", "t_x"])?,
        pick(&["periods", "n", "n_periods"])?,
    );
    let (x, t_x, n) = (
        integer_column(&x_name)?,
        integer_column(&t_x_name)?,
        integer_column(&n_name)?,
    );
    let weights: Vec<f64> = match find(&["weights", "weight", "count", "customers"]) {
        Some(name) => frame
            .column(&name)
            .and_then(|c| c.cast(&DataType::Float64))
            .context(|| format!("reading column '{name}' of {}", path.display()))?
            .f64()
            .context(|| format!("reading column '{name}'"))?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect(),
        None => vec![1.0; x.len()],
    };
    if x.is_empty() {
        return Err(ClvError::EmptyInput {
            path: path.to_path_buf(),
        });
    }
    let rows = (0..x.len()).map(|i| DiscreteRow {
        x: x[i],
        t_x: t_x[i],
        n: n[i],
        weight: weights[i],
    });
    DiscreteHistories::from_rows(rows).map_err(|(row, message)| ClvError::BadValue {
        path: path.to_path_buf(),
        column: format!("{x_name}, {t_x_name}, {n_name}"),
        row: row + 1,
        message,
    })
}

impl CustomerSummary for DiscreteSummary {
    fn kind(&self) -> SummaryKind {
        SummaryKind::DiscreteNonContractual
    }

    fn customer_ids(&self) -> &CustomerIds {
        &self.customer_id
    }

    fn age_in_days(&self, i: usize) -> f64 {
        f64::from(self.period_end - self.first_purchase[i])
    }

    fn repeat_transactions(&self, i: usize) -> f64 {
        f64::from(self.frequency[i])
    }

    fn repeat_revenue(&self, i: usize) -> f64 {
        self.monetary_value
            .as_ref()
            .map_or(0.0, |m| f64::from(self.frequency[i]) * m[i])
    }

    fn first_transaction_days(&self) -> Option<&[i32]> {
        Some(&self.first_purchase)
    }

    fn history_header(&self) -> String {
        format!("{:>9} {:>7} {:>7}", "frequency", "recency", "periods")
    }

    fn history_cells(&self, i: usize) -> String {
        format!("{:>9} {:>7} {:>7}", self.frequency[i], self.recency[i], self.periods[i])
    }

    fn into_columns(self) -> Result<Vec<Column>> {
        Ok(self.to_frame()?.into_columns())
    }
}
