//! Recency/frequency/monetary summaries, following the conventions of the BTYD literature
//! (Fader, Hardie & Lee 2005) and `lifetimes`, written once in `data::conventions` (the rule
//! numbers below are its): same-day purchases are one transaction; frequency counts repeat
//! transactions; times are days over the unit's length; monetary_value is the mean of the repeat
//! transactions; the holdout counts and averages every transaction after the calibration end.

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use super::conventions::{
    in_units, mean_or_zero, AGE, DURATION_HOLDOUT, FIRST_PURCHASE, FREQUENCY, FREQUENCY_HOLDOUT, MONETARY_VALUE,
    MONETARY_VALUE_HOLDOUT, RECENCY, TIME_UNIT,
};
use super::transactions::{epoch_days, from_epoch_days, NegativeAmounts, Transactions};
use super::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};

pub(super) use super::rfm_table::{date_column, numeric_column};
pub use super::rfm_table::{CustomerIds, RfmNumbers, RfmSlices, RfmTable};

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
    /// Blank log rows skipped.
    pub blank_rows: usize,
    /// With `NegativeAmounts::Net`: customer-days holding a return whose net amount is ≤ 0,
    /// which are not counted as purchases.
    pub return_days_dropped: usize,
}

impl Summary {
    /// The summary as the RFM table the models read, checked as a file of it would be; `source`
    /// names it in error messages.
    pub fn rfm_table(&self, source: &std::path::Path) -> Result<RfmTable> {
        let names: Vec<String> = self.frame.get_column_names().iter().map(|c| c.to_string()).collect();
        RfmTable::from_frame(&self.frame, source, &names, Some(self.time_unit))
    }
}

/// Builds the RFM summary of `log`: Polars groups the rows by customer, then each customer's
/// rows are sorted by day and summarised in one pass, customers in parallel.
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
    let unit = options.time_unit;
    let ctx = || format!("summarizing {}", log.path.display());

    let histories = per_customer(log, observation_end, |first_row, days, returns_dropped| {
        (first_row, CustomerDays::of(days, returns_dropped, period_end))
    })?;
    let rows_after_observation_end = log
        .frame
        .column("date")
        .and_then(|c| c.i32())
        .context(ctx)?
        .iter()
        .filter(|d| d.is_some_and(|d| d > observation_end))
        .count();
    let return_days_dropped = histories.iter().flatten().map(|(_, c)| c.return_days_dropped).sum();
    // Customers with a purchase by the observation end, and of those, the ones in the table.
    let observed = histories
        .iter()
        .flatten()
        .filter(|(_, c)| c.calibration_days + c.holdout_days > 0)
        .count();
    let customers: Vec<(IdxSize, CustomerDays)> = histories
        .into_iter()
        .flatten()
        .filter(|(_, c)| c.calibration_days > 0)
        .collect();
    let customers_after_calibration = observed - customers.len();
    if customers.is_empty() {
        return Err(ClvError::EmptyInput { path: log.path.clone() });
    }

    let first_rows: Vec<IdxSize> = customers.iter().map(|(r, _)| *r).collect();
    let ids = log
        .frame
        .column("customer_id")
        .and_then(|c| c.take_slice(&first_rows))
        .context(ctx)?;
    let days = |f: fn(&CustomerDays) -> f64| -> Vec<f64> { customers.iter().map(|(_, c)| f(c)).collect() };
    let mut columns = vec![
        ids,
        // Rule 6.
        Column::new(
            FREQUENCY.name.into(),
            customers
                .iter()
                .map(|(_, c)| i64::from(c.calibration_days) - 1)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            RECENCY.name.into(),
            customers
                .iter()
                .map(|(_, c)| in_units(c.last - c.first, unit))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            AGE.name.into(),
            customers
                .iter()
                .map(|(_, c)| in_units(period_end - c.first, unit))
                .collect::<Vec<_>>(),
        ),
    ];
    if log.has_amount {
        columns.push(Column::new(
            MONETARY_VALUE.name.into(),
            days(CustomerDays::monetary_value),
        ));
    }
    // Rule 8.
    if let Some(cal) = calibration_end {
        columns.push(Column::new(
            FREQUENCY_HOLDOUT.name.into(),
            customers
                .iter()
                .map(|(_, c)| i64::from(c.holdout_days))
                .collect::<Vec<_>>(),
        ));
        if log.has_amount {
            columns.push(Column::new(
                MONETARY_VALUE_HOLDOUT.name.into(),
                days(CustomerDays::monetary_value_holdout),
            ));
        }
        columns.push(Column::new_scalar(
            DURATION_HOLDOUT.name.into(),
            Scalar::from(in_units(observation_end - cal, unit)),
            customers.len(),
        ));
    }
    columns.push(
        Column::new(
            FIRST_PURCHASE.name.into(),
            customers.iter().map(|(_, c)| c.first).collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)
        .context(ctx)?,
    );
    columns.push(Column::new_scalar(
        TIME_UNIT.name.into(),
        Scalar::from(PlSmallStr::from_static(options.time_unit.name())),
        customers.len(),
    ));
    let frame = DataFrame::new_infer_height(columns).context(ctx)?;
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
        blank_rows: log.blank_rows,
        return_days_dropped,
    })
}

/// `visit(first row, purchase days, return days dropped)` for each customer with a log row by
/// `observation_end`, customers in parallel and in the order of their first row in the log
/// (`None` for the others). Polars groups the rows by customer; `purchase_days` makes each
/// customer's days. The summary and the repeat transactions per day both go through here, so
/// they count the same purchases.
pub(super) fn per_customer<T: Send>(
    log: &Transactions,
    observation_end: i32,
    visit: impl Fn(IdxSize, &[(i32, f64)], usize) -> T + Sync,
) -> Result<Vec<Option<T>>> {
    let ctx = || format!("summarizing {}", log.path.display());
    let dates = log.frame.column("date").and_then(|c| c.i32()).context(ctx)?.rechunk();
    let amounts = match log.has_amount {
        true => Some(log.frame.column("amount").and_then(|c| c.f64()).context(ctx)?.rechunk()),
        false => None,
    };
    let rows = LogRows {
        date: dates.cont_slice().context(ctx)?,
        amount: amounts.as_ref().map(|a| a.cont_slice()).transpose().context(ctx)?,
        observation_end,
        net_returns: log.has_amount && log.negative_amounts == NegativeAmounts::Net,
    };
    let scratch = || (Vec::new(), Vec::new());
    // Customers whose rows are runs of the log, (first row, rows).
    let over_runs = |runs: &[[IdxSize; 2]]| -> Vec<Option<T>> {
        runs.par_iter()
            .map_init(scratch, |scratch, &[first, len]| {
                rows.customer(scratch, first, first as usize..(first + len) as usize, &visit)
            })
            .collect()
    };
    let integer_ids = log
        .frame
        .column("customer_id")
        .context(ctx)?
        .i64()
        .ok()
        .map(|c| c.rechunk());
    if let Some(ids) = integer_ids {
        let ids = ids.cont_slice().context(ctx)?;
        return Ok(match CustomerRows::of(ids) {
            CustomerRows::Runs(runs) => over_runs(&runs),
            CustomerRows::Sorted { rows: members, groups } => groups
                .par_iter()
                .map_init(scratch, |scratch, &[start, len]| {
                    let members = &members[start as usize..(start + len) as usize];
                    rows.customer(scratch, members[0], members.iter().map(|&r| r as usize), &visit)
                })
                .collect(),
        });
    }
    let groups = log.frame.group_by_stable(["customer_id"]).context(ctx)?;
    let n_groups = groups.get_groups().len();
    Ok(match &**groups.get_groups() {
        GroupsType::Idx(idx) => (0..n_groups)
            .into_par_iter()
            .map_init(scratch, |scratch, g| {
                let members = idx.all()[g].iter().map(|&r| r as usize);
                rows.customer(scratch, idx.first()[g], members, &visit)
            })
            .collect(),
        GroupsType::Slice { groups, .. } => over_runs(groups),
    })
}

/// Each customer's log rows, customers in the order of their first row and rows in log order
/// (what Polars' stable group-by gives, without its hash table).
enum CustomerRows {
    /// A log whose ids never decrease (exported by customer): each customer's rows are one run,
    /// [first row, rows], as Polars' slice groups.
    Runs(Vec<[IdxSize; 2]>),
    /// Any other log: the rows sorted by (id, row), and each customer's [start, rows] in them.
    Sorted {
        rows: Vec<IdxSize>,
        groups: Vec<[IdxSize; 2]>,
    },
}

impl CustomerRows {
    fn of(ids: &[i64]) -> Self {
        let runs_of = |n: usize, same: &dyn Fn(usize) -> bool| {
            let mut runs = Vec::new();
            let mut start = 0;
            for r in 1..=n {
                if r == n || !same(r) {
                    runs.push([start as IdxSize, (r - start) as IdxSize]);
                    start = r;
                }
            }
            runs
        };
        if ids.is_sorted() {
            return CustomerRows::Runs(runs_of(ids.len(), &|r| ids[r] == ids[r - 1]));
        }
        let mut pairs: Vec<(i64, IdxSize)> = ids.iter().enumerate().map(|(r, &id)| (id, r as IdxSize)).collect();
        pairs.par_sort_unstable();
        let mut groups = runs_of(pairs.len(), &|r| pairs[r].0 == pairs[r - 1].0);
        let rows: Vec<IdxSize> = pairs.into_iter().map(|(_, r)| r).collect();
        // In the order of each customer's first row, which is the first of its sorted rows.
        groups.par_sort_unstable_by_key(|&[start, _]| rows[start as usize]);
        CustomerRows::Sorted { rows, groups }
    }
}

/// A purchase day (days since 1970-01-01) and its amount.
type DayAmount = (i32, f64);

/// The log's dates and amounts as plain slices (a log without amounts has none), and which of
/// its rows are purchases.
struct LogRows<'a> {
    date: &'a [i32],
    amount: Option<&'a [f64]>,
    observation_end: i32,
    /// Net same-day returns into the day's amount; a day with a return and a net ≤ 0 is dropped.
    net_returns: bool,
}

impl LogRows<'_> {
    /// `visit(first row, purchase days, return days dropped)` of the customer whose rows are
    /// `members`, or `None` when none of them is by the observation end.
    fn customer<T>(
        &self,
        (buffer, days): &mut (Vec<DayAmount>, Vec<DayAmount>),
        first: IdxSize,
        members: impl Iterator<Item = usize>,
        visit: &impl Fn(IdxSize, &[(i32, f64)], usize) -> T,
    ) -> Option<T> {
        let dropped = self.purchase_days(members, buffer, days)?;
        Some(visit(first, days, dropped))
    }

    /// One customer's purchase days up to the observation end into `days`, in day order, same-day
    /// rows merged (amounts summed in log order, so sums do not depend on threads) and, when
    /// netting, days holding a return whose net is ≤ 0 left out: returns how many were left
    /// out, or `None` when none of `members` is by the observation end. `buffer` is scratch.
    fn purchase_days(
        &self,
        members: impl Iterator<Item = usize>,
        buffer: &mut Vec<(i32, f64)>,
        days: &mut Vec<(i32, f64)>,
    ) -> Option<usize> {
        buffer.clear();
        days.clear();
        for r in members {
            let day = self.date[r];
            if day <= self.observation_end {
                buffer.push((day, self.amount.map_or(0.0, |a| a[r])));
            }
        }
        if buffer.is_empty() {
            return None;
        }
        buffer.sort_by_key(|&(day, _)| day);
        let mut dropped = 0;
        for run in buffer.chunk_by(|a, b| a.0 == b.0) {
            let amount: f64 = run.iter().map(|&(_, a)| a).sum();
            if self.net_returns && amount <= 0.0 && run.iter().any(|&(_, a)| a < 0.0) {
                dropped += 1;
            } else {
                days.push((run[0].0, amount));
            }
        }
        Some(dropped)
    }
}

/// One customer's purchase days, split at the calibration end.
#[derive(Debug, Clone, Copy, Default)]
struct CustomerDays {
    /// First and last purchase day in the calibration period.
    first: i32,
    last: i32,
    calibration_days: u32,
    /// Spend on calibration days after the first (the repeat transactions).
    repeat_total: f64,
    holdout_days: u32,
    holdout_total: f64,
    return_days_dropped: usize,
}

impl CustomerDays {
    /// From the customer's purchase days (in day order) and the period's end.
    fn of(days: &[(i32, f64)], return_days_dropped: usize, period_end: i32) -> Self {
        let mut c = CustomerDays {
            return_days_dropped,
            ..Default::default()
        };
        for &(day, amount) in days {
            if day > period_end {
                c.holdout_days += 1;
                c.holdout_total += amount;
            } else if c.calibration_days == 0 {
                (c.first, c.last, c.calibration_days) = (day, day, 1);
            } else {
                c.last = day;
                c.calibration_days += 1;
                c.repeat_total += amount;
            }
        }
        c
    }

    /// Rule 7: the mean of the repeat transactions.
    fn monetary_value(&self) -> f64 {
        mean_or_zero(self.repeat_total, self.calibration_days.saturating_sub(1))
    }

    /// Rule 8: the mean of every holdout transaction.
    fn monetary_value_holdout(&self) -> f64 {
        mean_or_zero(self.holdout_total, self.holdout_days)
    }
}

/// Repeat transactions per day (same-day purchases merged, as in `summarize`) of the customers
/// `summary` holds, i.e. those whose first purchase is by the end of its calibration period,
/// up to its observation end: (day as days since 1970-01-01, transactions), in day order.
pub fn repeat_transactions_by_day(log: &Transactions, summary: &Summary) -> Result<Vec<(i32, u64)>> {
    let observation_end = epoch_days(summary.observation_end);
    let period_end = epoch_days(summary.calibration_end.unwrap_or(summary.observation_end));
    let repeat_days = per_customer(log, observation_end, |_, days, _| match days.first() {
        Some(&(first, _)) if first <= period_end => days[1..].iter().map(|&(day, _)| day).collect(),
        _ => Vec::new(),
    })?;
    let mut per_day = std::collections::BTreeMap::<i32, u64>::new();
    for day in repeat_days.into_iter().flatten().flatten() {
        *per_day.entry(day).or_default() += 1;
    }
    Ok(per_day.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each customer's rows as Polars' stable group-by lists them: (first row, rows).
    fn polars_groups(ids: &[i64]) -> Vec<Vec<IdxSize>> {
        let frame = df!("customer_id" => ids).unwrap();
        let groups = frame.group_by_stable(["customer_id"]).unwrap();
        match &**groups.get_groups() {
            GroupsType::Idx(idx) => idx.all().iter().map(|g| g.to_vec()).collect(),
            GroupsType::Slice { groups, .. } => groups
                .iter()
                .map(|&[first, len]| (first..first + len).collect())
                .collect(),
        }
    }

    fn our_groups(ids: &[i64]) -> Vec<Vec<IdxSize>> {
        match CustomerRows::of(ids) {
            CustomerRows::Runs(runs) => runs
                .iter()
                .map(|&[first, len]| (first..first + len).collect())
                .collect(),
            CustomerRows::Sorted { rows, groups } => groups
                .iter()
                .map(|&[start, len]| rows[start as usize..(start + len) as usize].to_vec())
                .collect(),
        }
    }

    #[test]
    fn customers_rows_are_polars_stable_groups_whatever_the_order_of_the_log() {
        let sorted: Vec<i64> = (0..3000).map(|r| r / 7 - 100).collect();
        let shuffled: Vec<i64> = (0..3000i64).map(|r| (r * 7919 % 3001) % 431 - 200).collect();
        let one_customer = vec![42i64; 50];
        let runs_out_of_order: Vec<i64> = (0..600).map(|r| [5, 3, 9][r / 200]).collect();
        for ids in [sorted, shuffled, one_customer, runs_out_of_order] {
            assert_eq!(our_groups(&ids), polars_groups(&ids));
        }
        assert!(matches!(CustomerRows::of(&[1, 1, 2, 3, 3]), CustomerRows::Runs(_)));
        assert!(matches!(CustomerRows::of(&[1, 2, 1]), CustomerRows::Sorted { .. }));
    }
}
