//! The per-customer RFM table the models consume (`RfmTable`), with its customers' ids, read
//! from a summary file or built from `rfm::summarize`'s frame, and validated.

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::conventions::{
    numeric_column_names, SummaryColumn, AGE, CUSTOMER_ID, FIRST_PURCHASE, FREQUENCY, MONETARY_VALUE, RECENCY,
    TIME_UNIT,
};
use super::io::{read_table_with_numbers, require_column};
use super::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};

mod cells;
mod rules;

pub(super) use cells::{date_column, nullable_numeric_column, numeric_column, reconcile_time_unit, resolve_time_unit};
pub(super) use rules::{check_frequency, check_history, follows_the_rules};

/// Customer ids as they were read, integers or text, in one Polars column: a million customers
/// are not a million strings.
#[derive(Debug, Clone)]
pub struct CustomerIds(Series);

impl CustomerIds {
    /// Integer ids stay integers; anything else becomes text.
    pub fn from_column(column: &Column) -> PolarsResult<Self> {
        let series = column.as_materialized_series();
        let series = match series.dtype().is_integer() {
            true => series.clone(),
            false => series.cast(&DataType::String)?,
        };
        Ok(Self(series.with_name("customer_id".into())))
    }

    /// Text ids, for tables built by hand.
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Self {
        let labels: Vec<&str> = labels.iter().map(|s| s.as_ref()).collect();
        Self(Series::new("customer_id".into(), labels))
    }

    /// Index of the first id that is missing or blank.
    fn first_missing(&self) -> Option<usize> {
        match self.0.str() {
            Ok(text) => text.iter().position(|s| s.is_none_or(|s| s.trim().is_empty())),
            Err(_) => (self.0.null_count() > 0).then(|| self.0.iter().position(|v| v.is_null()).unwrap_or(0)),
        }
    }

    /// The id of customer `i`, as text.
    pub fn label(&self, i: usize) -> String {
        match self.0.get(i) {
            Ok(AnyValue::String(s)) => s.to_string(),
            Ok(AnyValue::StringOwned(s)) => s.to_string(),
            Ok(AnyValue::Null) | Err(_) => String::new(),
            Ok(v) => v.to_string(),
        }
    }

    /// The ids as a `customer_id` column.
    pub fn column(&self) -> Column {
        self.0.clone().into_column()
    }

    /// The ids of the customers at `rows`, as a `customer_id` column.
    pub fn column_of(&self, rows: &[usize]) -> PolarsResult<Column> {
        let rows: Vec<IdxSize> = rows.iter().map(|&i| i as IdxSize).collect();
        self.0.take_slice(&rows).map(|s| s.into_column())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An RFM table's columns that the fits read, without its ids or first purchases: what `clv fit`
/// reads of a plain table (`RfmTable::read_plain_numbers`), validated as `RfmTable` is.
#[derive(Debug, Clone)]
pub struct RfmNumbers {
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    pub t: Vec<f64>,
    pub monetary_value: Option<Vec<f64>>,
    pub time_unit: TimeUnit,
}

impl RfmNumbers {
    /// The columns the fits read.
    pub fn slices(&self) -> RfmSlices<'_> {
        RfmSlices {
            frequency: &self.frequency,
            recency: &self.recency,
            t: &self.t,
            monetary_value: self.monetary_value.as_deref(),
            time_unit: self.time_unit,
        }
    }
}

/// The columns the fits read, borrowed from an `RfmTable` or `RfmNumbers`.
#[derive(Debug, Clone, Copy)]
pub struct RfmSlices<'a> {
    pub frequency: &'a [f64],
    pub recency: &'a [f64],
    pub t: &'a [f64],
    pub monetary_value: Option<&'a [f64]>,
    pub time_unit: TimeUnit,
}

impl RfmSlices<'_> {
    /// The first row, if any, that breaks a rule of an RFM table (rule 6 on (x, t_x, T), a
    /// negative monetary value), found in parallel, as an error naming it.
    pub(super) fn check_rules(&self, source: &Path, columns: &RfmColumns) -> Result<()> {
        let (frequency, recency, t) = (self.frequency, self.recency, self.t);
        let bad = |column: &str, i: usize, message: String| ClvError::BadValue {
            path: source.to_path_buf(),
            column: column.to_string(),
            row: i + 1,
            message,
        };
        let breaks_a_rule = |i: usize| {
            !follows_the_rules(frequency[i], recency[i], t[i]) | self.monetary_value.is_some_and(|m| m[i] < 0.0)
        };
        if let Some(i) = (0..frequency.len()).into_par_iter().position_first(breaks_a_rule) {
            if let Err((column, message)) = check_history(frequency[i], recency[i], t[i]) {
                let name = [&columns.frequency, &columns.recency, &columns.age][column as usize];
                return Err(bad(name, i, message));
            }
            if let Some(m) = self.monetary_value {
                return Err(bad(
                    columns.monetary_value.as_deref().unwrap_or("monetary_value"),
                    i,
                    format!("monetary value {} is negative", m[i]),
                ));
            }
        }
        Ok(())
    }
}

/// Per-customer RFM data, validated, as the models consume it.
#[derive(Debug, Clone)]
pub struct RfmTable {
    pub customer_id: CustomerIds,
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    pub t: Vec<f64>,
    pub monetary_value: Option<Vec<f64>>,
    /// Date of the first purchase, as days since 1970-01-01, when the table has it.
    pub first_purchase: Option<Vec<i32>>,
    pub time_unit: TimeUnit,
}

impl RfmTable {
    /// Reads an RFM table (CSV or Parquet) as written by `clv summarize`, or with the papers'
    /// column names (ID, x, t_x, T, zbar). The time unit comes from its `time_unit` column or,
    /// for a table without one, from `time_unit`; when both are there they must agree.
    pub fn read(path: &Path, time_unit: Option<TimeUnit>) -> Result<Self> {
        if let Some(table) = Self::read_plain(path, time_unit)? {
            return Ok(table);
        }
        let (frame, available) = read_summary_table(path)?;
        Self::from_frame(&frame, path, &available, time_unit)
    }

    /// `read` for a table in plain CSV, read in one pass from bytes (`plain_rfm`): `None` when
    /// it is anything else (a compressed summary among them), for `read_summary_table`.
    pub fn read_plain(path: &Path, time_unit: Option<TimeUnit>) -> Result<Option<Self>> {
        super::plain_rfm::read(path, time_unit)
    }

    /// `read_plain`'s numbers alone, for a fit: the ids and first purchases are checked as there
    /// but not kept, which at 100,000 customers spares 7% of `clv fit`'s time (21.1 → 19.6 ms).
    pub fn read_plain_numbers(path: &Path, time_unit: Option<TimeUnit>) -> Result<Option<RfmNumbers>> {
        super::plain_rfm::read_numbers(path, time_unit)
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
        let columns = RfmColumns::find(source, available)?;
        let time_unit = resolve_time_unit(frame, source, available, time_unit)?;

        let customer_id = CustomerIds::from_column(
            frame
                .column(&columns.id)
                .context(|| format!("reading {}", source.display()))?,
        )
        .context(|| format!("reading {}", source.display()))?;
        if let Some(i) = customer_id.first_missing() {
            return Err(ClvError::BadValue {
                path: source.to_path_buf(),
                column: columns.id,
                row: i + 1,
                message: "empty customer id".into(),
            });
        }
        let numbers = |name: &str| numeric_column(frame, source, name);
        let table = Self {
            customer_id,
            frequency: numbers(&columns.frequency)?,
            recency: numbers(&columns.recency)?,
            t: numbers(&columns.age)?,
            monetary_value: columns.monetary_value.as_deref().map(numbers).transpose()?,
            first_purchase: match columns.first_purchase {
                true => Some(date_column(frame, source, FIRST_PURCHASE.name)?),
                false => None,
            },
            time_unit,
        };
        table.check_rules(source, &columns)?;
        Ok(table)
    }

    /// The first row, if any, that breaks a rule of an RFM table (`RfmSlices::check_rules`).
    pub(super) fn check_rules(&self, source: &Path, columns: &RfmColumns) -> Result<()> {
        self.slices().check_rules(source, columns)
    }

    /// The columns the fits read.
    pub fn slices(&self) -> RfmSlices<'_> {
        RfmSlices {
            frequency: &self.frequency,
            recency: &self.recency,
            t: &self.t,
            monetary_value: self.monetary_value.as_deref(),
            time_unit: self.time_unit,
        }
    }

    pub fn len(&self) -> usize {
        self.customer_id.len()
    }

    /// The table of the customers at `rows` only, in that order.
    pub fn rows(&self, rows: &[usize]) -> Result<Self> {
        let pick = |values: &[f64]| rows.iter().map(|&i| values[i]).collect::<Vec<_>>();
        let ids = self
            .customer_id
            .column_of(rows)
            .context(|| "selecting customers".to_string())?;
        Ok(Self {
            customer_id: CustomerIds::from_column(&ids).context(|| "selecting customers".to_string())?,
            frequency: pick(&self.frequency),
            recency: pick(&self.recency),
            t: pick(&self.t),
            monetary_value: self.monetary_value.as_deref().map(pick),
            first_purchase: self
                .first_purchase
                .as_ref()
                .map(|days| rows.iter().map(|&i| days[i]).collect()),
            time_unit: self.time_unit,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.customer_id.is_empty()
    }
}

/// The columns an RFM table is read from, each by its name or another it is read as (the
/// papers' ID, x, t_x, T, zbar).
pub(super) struct RfmColumns {
    pub id: String,
    pub frequency: String,
    pub recency: String,
    pub age: String,
    pub monetary_value: Option<String>,
    /// Whether the table has `first_purchase` and `time_unit` columns.
    pub first_purchase: bool,
    pub time_unit: bool,
}

impl RfmColumns {
    /// The columns of a table with the columns `available`; a missing one is an error that
    /// lists those there are, and a transaction log is named as one.
    pub(super) fn find(source: &Path, available: &[String]) -> Result<Self> {
        let find = |column: &SummaryColumn| {
            column
                .names()
                .find(|n| available.iter().any(|c| c == n))
                .map(str::to_string)
        };
        let pick = |column: &SummaryColumn| match find(column) {
            Some(n) => Ok(n),
            None => require_column(source, available, column.name),
        };
        if find(&FREQUENCY).is_none() {
            if let Some(date) = available.iter().find(|c| c.to_ascii_lowercase().contains("date")) {
                return Err(ClvError::BadFile {
                    path: source.to_path_buf(),
                    message: format!(
                        "this looks like a transaction log (it has a '{date}' column), not an RFM table: \
                         summarize it with `clv summarize`, or run everything with `clv run`"
                    ),
                });
            }
        }
        let has = |name: &str| available.iter().any(|c| c == name);
        Ok(Self {
            id: pick(&CUSTOMER_ID)?,
            frequency: pick(&FREQUENCY)?,
            recency: pick(&RECENCY)?,
            age: pick(&AGE)?,
            monetary_value: find(&MONETARY_VALUE),
            first_purchase: has(FIRST_PURCHASE.name),
            time_unit: has(TIME_UNIT.name),
        })
    }
}

/// A summary table (an RFM table or a compressed summary, CSV or Parquet) and its column names,
/// the summary's numeric columns read as numbers (`read_table_with_numbers`).
pub fn read_summary_table(path: &Path) -> Result<(DataFrame, Vec<String>)> {
    read_table_with_numbers(path, &numeric_column_names())
}
