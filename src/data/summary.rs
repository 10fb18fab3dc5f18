//! Summary kinds: what a model reads of each customer, and what forecasts, decisions and reports
//! read of a customer's past whatever the kind.
//!
//! The continuous non-contractual summary of `data::rfm` (x, t_x, T) is what the purchase models
//! read today; `data::discrete` (x, t_x, n) and `data::contractual` (periods paid, churned or
//! not) are the summaries of discrete-opportunity and subscription customers. The
//! decisions (`decisions`) and the value report (`report::value`) see a summary only through
//! [`CustomerSummary`], so a contractual or discrete summary that implements it gets tiers,
//! statuses and cohorts without editing them.

use polars::prelude::{Column, DataType, Float64Chunked, Int32Chunked, Int64Chunked, IntoColumn};

use super::rfm::{CustomerIds, RfmTable};
use crate::error::{PolarsContext, Result};

/// What a model reads of each customer: the summary kind its likelihood and forecasts take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryKind {
    /// Non-contractual, continuous time: x repeat purchases, the last at t_x, observed to T
    /// (`data::rfm`), fitted on the table of distinct histories (`models::histories::Histories`).
    ContinuousNonContractual,
    /// Non-contractual, discrete opportunities: x transactions in n opportunities, the last at
    /// opportunity t_x (`data::discrete`; `models::histories::DiscreteHistories`).
    DiscreteNonContractual,
    /// Contractual: the periods a customer paid for, and whether she has churned or is still a
    /// customer (`data::contractual`; `models::histories::SurvivalHistories`).
    Contractual,
}

/// A customer's past as decisions and reports need it, one row per customer, in table order.
pub trait CustomerSummary: Sync {
    fn kind(&self) -> SummaryKind;

    /// The customers' ids, one per row.
    fn customer_ids(&self) -> &CustomerIds;

    /// Number of customers.
    fn len(&self) -> usize {
        self.customer_ids().len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Customer `i`'s id, as text.
    fn customer_label(&self, i: usize) -> String {
        self.customer_ids().label(i)
    }

    /// The ids of the customers at `rows`, as a `customer_id` column.
    fn customer_column_of(&self, rows: &[usize]) -> Result<Column> {
        self.customer_ids()
            .column_of(rows)
            .context(|| "selecting customers".to_string())
    }

    /// Days from the customer's first transaction to the end of the observation.
    fn age_in_days(&self, i: usize) -> f64;

    /// Transactions after the first (the x of every model).
    fn repeat_transactions(&self, i: usize) -> f64;

    /// Revenue of those repeat transactions; 0 without amounts.
    fn repeat_revenue(&self, i: usize) -> f64;

    /// Day of each customer's first transaction (days since 1970-01-01), when the summary has it.
    fn first_transaction_days(&self) -> Option<&[i32]>;

    /// Header of the summary's part of a printed customer row, as wide as `history_cells`.
    fn history_header(&self) -> String;

    /// The summary's part of customer `i`'s printed row.
    fn history_cells(&self, i: usize) -> String;

    /// The summary's columns, which lead the predictions table; moved, not copied.
    fn into_columns(self) -> Result<Vec<Column>>
    where
        Self: Sized;
}

impl CustomerSummary for RfmTable {
    fn kind(&self) -> SummaryKind {
        SummaryKind::ContinuousNonContractual
    }

    fn customer_ids(&self) -> &CustomerIds {
        &self.customer_id
    }

    fn age_in_days(&self, i: usize) -> f64 {
        self.t[i] * self.time_unit.days()
    }

    fn repeat_transactions(&self, i: usize) -> f64 {
        self.frequency[i]
    }

    fn repeat_revenue(&self, i: usize) -> f64 {
        // monetary_value is the mean of the repeat transactions (data::rfm's conventions).
        self.monetary_value.as_ref().map_or(0.0, |m| self.frequency[i] * m[i])
    }

    fn first_transaction_days(&self) -> Option<&[i32]> {
        self.first_purchase.as_deref()
    }

    fn history_header(&self) -> String {
        format!("{:>9} {:>9} {:>9}", "frequency", "recency", "T")
    }

    fn history_cells(&self, i: usize) -> String {
        format!("{:>9} {:>9.2} {:>9.2}", self.frequency[i], self.recency[i], self.t[i])
    }

    fn into_columns(self) -> Result<Vec<Column>> {
        let floats = |name: &str, v: Vec<f64>| Float64Chunked::from_vec(name.into(), v).into_column();
        let frequency: Vec<i64> = self.frequency.iter().map(|&x| x as i64).collect();
        let mut columns: Vec<Column> = vec![
            self.customer_id.column(),
            Int64Chunked::from_vec("frequency".into(), frequency).into_column(),
            floats("recency", self.recency),
            floats("T", self.t),
        ];
        if let Some(m) = self.monetary_value {
            columns.push(floats("monetary_value", m));
        }
        if let Some(first) = self.first_purchase {
            let dates = Int32Chunked::from_vec("first_purchase".into(), first)
                .into_column()
                .cast(&DataType::Date)
                .context(|| "building the predictions table".to_string())?;
            columns.push(dates);
        }
        Ok(columns)
    }
}
