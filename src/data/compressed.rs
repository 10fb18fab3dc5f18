//! The compressed RFM summary (rule 10 of `conventions`): each distinct (frequency, recency, T)
//! with the number of customers who have it, and each distinct (frequency, monetary_value) with
//! theirs. A billion customers make tens of thousands of such rows, which a warehouse's
//! `GROUP BY GROUPING SETS` builds (`clv sql --compressed`) and `clv fit` fits, each row weighing
//! as many customers as it counts, to the estimates of the full table.

use std::path::Path;

use polars::prelude::*;

use super::conventions::{AGE, CUSTOMERS, FREQUENCY, MONETARY_VALUE, RECENCY, TIME_UNIT};
use super::io::require_column;
use super::rfm::Summary;
use super::rfm_table::{
    check_frequency, check_history, nullable_numeric_column, read_summary_table, resolve_time_unit, RfmTable,
};
use super::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};
use crate::models::count_distinct_keys;

/// A compressed summary: the rows the purchase model fits on, those Gamma-Gamma fits on, and
/// the unit of recency and T.
#[derive(Debug, Clone, PartialEq)]
pub struct CompressedSummary {
    pub histories: CountedHistories,
    /// None for a summary without amounts.
    pub spend: Option<CountedSpend>,
    pub time_unit: TimeUnit,
}

/// Distinct (x, t_x, T) and the customers with each.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CountedHistories {
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    pub t: Vec<f64>,
    pub customers: Vec<f64>,
}

/// Distinct (x, z̄) and the customers with each.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CountedSpend {
    pub frequency: Vec<f64>,
    pub monetary_value: Vec<f64>,
    pub customers: Vec<f64>,
}

/// Whether a table with these columns is a compressed summary (it has a `customers` column).
pub fn is_compressed(available: &[String]) -> bool {
    available.iter().any(|c| c == CUSTOMERS.name)
}

/// `v` rounded to `decimals` decimals, halves away from zero as a decimal number rounds: the
/// scaled value is first cleaned of binary noise at 6 decimals (35.175 is 35.17499… in binary, and
/// ×100 gives 3517.4999999999995, which is 3517.5), then rounded. `clv sql` rounds the same way
/// (`ROUND(ROUND(v * 100, 6), 0) / 100`), so the warehouse's rows are clv's.
pub fn round_to_decimals(v: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    let scaled = ((v * scale) * 1e6).round() / 1e6;
    scaled.round() / scale
}

impl CompressedSummary {
    /// The compressed summary of a per-customer table, its mean spends rounded to
    /// `spend_decimals` decimals (None: as they are).
    pub fn of(rfm: &RfmTable, spend_decimals: Option<u32>) -> Self {
        let mut histories = CountedHistories::default();
        let keys = rfm.frequency.iter().zip(&rfm.recency).zip(&rfm.t);
        for ([x, tx, t], n) in count_distinct_keys(keys.map(|((&x, &tx), &t)| [x, tx, t])) {
            histories.frequency.push(x);
            histories.recency.push(tx);
            histories.t.push(t);
            histories.customers.push(n);
        }
        let spend = rfm.monetary_value.as_ref().map(|monetary| {
            let rounded = |z: f64| spend_decimals.map_or(z, |d| round_to_decimals(z, d));
            let keys = rfm.frequency.iter().zip(monetary).map(|(&x, &z)| [x, rounded(z)]);
            let mut spend = CountedSpend::default();
            for ([x, z], n) in count_distinct_keys(keys) {
                spend.frequency.push(x);
                spend.monetary_value.push(z);
                spend.customers.push(n);
            }
            spend
        });
        Self {
            histories,
            spend,
            time_unit: rfm.time_unit,
        }
    }

    /// The compressed form of `summarize`'s summary (what `clv summarize --compressed` writes).
    pub fn of_summary(summary: &Summary, spend_decimals: Option<u32>) -> Result<Self> {
        let rfm = summary.rfm_table(Path::new("the summary"))?;
        Ok(Self::of(&rfm, spend_decimals))
    }

    /// Customers in the summary (those of the purchase model's rows).
    pub fn customers(&self) -> f64 {
        self.histories.customers.iter().sum()
    }

    /// The summary as `clv summarize --compressed` writes it: frequency, recency, T,
    /// [monetary_value], customers, time_unit; the history rows first, then the spend rows.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let h = &self.histories;
        let empty = CountedSpend::default();
        let s = self.spend.as_ref().unwrap_or(&empty);
        let none = |n: usize| std::iter::repeat_n(None, n);
        let some = |v: &[f64]| v.iter().map(|&v| Some(v)).collect::<Vec<_>>();
        let whole = |v: &[f64]| v.iter().map(|&v| v as i64).collect::<Vec<_>>();
        let (nh, ns) = (h.frequency.len(), s.frequency.len());
        let mut columns = vec![
            Column::new(
                FREQUENCY.name.into(),
                [whole(&h.frequency), whole(&s.frequency)].concat(),
            ),
            Column::new(
                RECENCY.name.into(),
                some(&h.recency).into_iter().chain(none(ns)).collect::<Vec<_>>(),
            ),
            Column::new(
                AGE.name.into(),
                some(&h.t).into_iter().chain(none(ns)).collect::<Vec<_>>(),
            ),
        ];
        if self.spend.is_some() {
            let monetary: Vec<Option<f64>> = none(nh).chain(some(&s.monetary_value)).collect();
            columns.push(Column::new(MONETARY_VALUE.name.into(), monetary));
        }
        columns.push(Column::new(
            CUSTOMERS.name.into(),
            [whole(&h.customers), whole(&s.customers)].concat(),
        ));
        columns.push(Column::new_scalar(
            TIME_UNIT.name.into(),
            Scalar::from(PlSmallStr::from_static(self.time_unit.name())),
            nh + ns,
        ));
        DataFrame::new_infer_height(columns).context(|| "writing the compressed summary".to_string())
    }

    /// Reads a compressed summary (CSV or Parquet), as `clv summarize --compressed` or
    /// `clv sql --compressed` writes it.
    pub fn read(path: &Path, time_unit: Option<TimeUnit>) -> Result<Self> {
        let (frame, available) = read_summary_table(path)?;
        Self::from_frame(&frame, path, &available, time_unit)
    }

    /// Validates a frame of compressed-summary rows; `source` names it in error messages. A row
    /// with recency and T is a history; a row with a monetary_value is a spend row; a row may
    /// be both (a table grouped by all four columns), and must be one of them.
    pub fn from_frame(
        frame: &DataFrame,
        source: &Path,
        available: &[String],
        time_unit: Option<TimeUnit>,
    ) -> Result<Self> {
        let time_unit = resolve_time_unit(frame, source, available, time_unit)?;
        let bad = |column: &str, i: usize, message: String| ClvError::BadValue {
            path: source.to_path_buf(),
            column: column.to_string(),
            row: i + 1,
            message,
        };
        let column = |name: &str, nulls: bool| -> Result<Vec<Option<f64>>> {
            let name = require_column(source, available, name)?;
            nullable_numeric_column(frame, source, &name, nulls)
        };
        let frequency = column(FREQUENCY.name, false)?;
        let recency = column(RECENCY.name, true)?;
        let age = column(AGE.name, true)?;
        let customers = column(CUSTOMERS.name, false)?;
        let monetary = match available.iter().any(|c| c == MONETARY_VALUE.name) {
            true => Some(column(MONETARY_VALUE.name, true)?),
            false => None,
        };
        let mut histories = CountedHistories::default();
        let mut spend = monetary.as_ref().map(|_| CountedSpend::default());
        for i in 0..frame.height() {
            let (Some(x), Some(n)) = (frequency[i], customers[i]) else {
                continue; // refused by the column reader
            };
            if n < 0.0 || n.fract() != 0.0 {
                return Err(bad(
                    CUSTOMERS.name,
                    i,
                    format!("customers {n} is not a whole number ≥ 0"),
                ));
            }
            let z = monetary.as_ref().and_then(|m| m[i]);
            match (recency[i], age[i]) {
                (Some(tx), Some(t)) => {
                    if let Err((at, message)) = check_history(x, tx, t) {
                        return Err(bad([FREQUENCY.name, RECENCY.name, AGE.name][at as usize], i, message));
                    }
                    histories.frequency.push(x);
                    histories.recency.push(tx);
                    histories.t.push(t);
                    histories.customers.push(n);
                }
                (None, None) if z.is_some() => {}
                (None, None) => {
                    return Err(bad(
                        RECENCY.name,
                        i,
                        "neither a history (recency and T) nor a spend row (monetary_value)".into(),
                    ))
                }
                (Some(_), None) | (None, Some(_)) => {
                    return Err(bad(
                        RECENCY.name,
                        i,
                        "recency and T must both be given or both be empty".into(),
                    ))
                }
            }
            if let (Some(z), Some(spend)) = (z, spend.as_mut()) {
                if z < 0.0 {
                    return Err(bad(MONETARY_VALUE.name, i, format!("monetary value {z} is negative")));
                }
                check_frequency(x).map_err(|message| bad(FREQUENCY.name, i, message))?;
                spend.frequency.push(x);
                spend.monetary_value.push(z);
                spend.customers.push(n);
            }
        }
        if histories.customers.iter().sum::<f64>() == 0.0 {
            return Err(ClvError::EmptyInput {
                path: source.to_path_buf(),
            });
        }
        Ok(Self {
            histories,
            spend,
            time_unit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_round_away_from_zero_as_decimals_do() {
        // 35.175 and 2.675 are 35.17499… and 2.67499… in binary; as decimals they are halves.
        assert_eq!(round_to_decimals(35.175, 2), 35.18);
        assert_eq!(round_to_decimals(2.675, 2), 2.68);
        assert_eq!(round_to_decimals(32.534999, 2), 32.53);
        assert_eq!(round_to_decimals(0.125, 2), 0.13);
        assert_eq!(round_to_decimals(19.99, 2), 19.99);
        assert_eq!(round_to_decimals(1234.5, 0), 1235.0);
        assert_eq!(round_to_decimals(7.0 / 3.0, 4), 2.3333);
    }
}
