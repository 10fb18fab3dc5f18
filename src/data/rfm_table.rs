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
use super::plain_fields::iso_day;
use super::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};

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

/// A column as finite f64 values; a value that is not a finite number is an error naming its row.
pub(super) fn numeric_column(frame: &DataFrame, source: &Path, name: &str) -> Result<Vec<f64>> {
    // The common case, every value there and a finite number, as one copy of the column's values
    // (the four columns of a million-customer summary: 13-18 ms, where the value-by-value read
    // below took 40-55 ms); anything else goes the long way, which names the row at fault.
    let ctx = || format!("reading column '{name}' of {}", source.display());
    let values = frame.column(name).context(ctx)?.cast(&DataType::Float64).context(ctx)?;
    let values = values.f64().context(ctx)?;
    if values.null_count() == 0 {
        let mut out = Vec::with_capacity(values.len());
        for chunk in values.downcast_iter() {
            out.extend_from_slice(chunk.values());
        }
        if out.iter().all(|v| v.is_finite()) {
            return Ok(out);
        }
    }
    // Without nulls allowed every value is `Some`.
    Ok(nullable_numeric_column(frame, source, name, false)?
        .into_iter()
        .flatten()
        .collect())
}

/// A summary table (an RFM table or a compressed summary, CSV or Parquet) and its column names,
/// the summary's numeric columns read as numbers (`read_table_with_numbers`).
pub fn read_summary_table(path: &Path) -> Result<(DataFrame, Vec<String>)> {
    read_table_with_numbers(path, &numeric_column_names())
}

/// A column as finite f64 values, missing values as `None` where `nulls_allowed` (a compressed
/// summary's rows of one kind leave the other kind's columns empty), else an error naming the row,
/// as is any value that is not a finite number.
pub(super) fn nullable_numeric_column(
    frame: &DataFrame,
    source: &Path,
    name: &str,
    nulls_allowed: bool,
) -> Result<Vec<Option<f64>>> {
    let ctx = || format!("reading column '{name}' of {}", source.display());
    let raw = frame.column(name).context(ctx)?;
    let values = raw.cast(&DataType::Float64).context(ctx)?;
    let values = values.f64().context(ctx)?;
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) if v.is_finite() => out.push(Some(v)),
            None if nulls_allowed && raw.get(i).is_ok_and(|v| v.is_null()) => out.push(None),
            _ => {
                return Err(ClvError::BadValue {
                    path: source.to_path_buf(),
                    column: name.to_string(),
                    row: i + 1,
                    message: bad_cell_message(raw, i, "empty, where a number is needed", "a finite number"),
                });
            }
        }
    }
    Ok(out)
}

/// Whether one customer's (x, t_x, T) passes every check of `check_history`, decided without a
/// branch: which customers have repeat purchases is as good as random, and branching on it cost
/// a misprediction every other customer (at 100,000 customers, 0.65 ms of `check_rules`' 0.7).
#[inline]
pub(super) fn follows_the_rules(x: f64, tx: f64, age: f64) -> bool {
    let (repeat, none) = (x > 0.0, x == 0.0);
    whole_and_not_negative(x)
        & (age >= 0.0)
        & (0.0 <= tx)
        & (tx <= age)
        & !(repeat & (tx == 0.0))
        & !(none & (tx > 0.0))
}

/// The checks of rule 6 on one customer's (x, t_x, T): on failure, which of the three is at fault
/// (0, 1, 2) and why.
#[inline]
pub(super) fn check_history(x: f64, tx: f64, age: f64) -> std::result::Result<(), (u8, String)> {
    match follows_the_rules(x, tx, age) {
        true => Ok(()),
        false => history_fault(x, tx, age),
    }
}

/// Which of rule 6's checks on (x, t_x, T) fails first, in `check_history`'s order, and why.
fn history_fault(x: f64, tx: f64, age: f64) -> std::result::Result<(), (u8, String)> {
    check_frequency(x).map_err(|message| (0, message))?;
    if age < 0.0 {
        return Err((2, format!("T {age} is negative")));
    }
    if !(0.0..=age).contains(&tx) {
        return Err((1, format!("recency {tx} is not between 0 and T = {age}")));
    }
    if x > 0.0 && tx == 0.0 {
        return Err((
            1,
            format!("recency is 0 but frequency is {x}: repeat purchases must come after the first"),
        ));
    }
    if x == 0.0 && tx > 0.0 {
        // Pareto/NBD would read it as a customer known to be alive at t_x.
        return Err((
            1,
            format!(
                "recency is {tx} but frequency is 0: recency is the time of the last repeat purchase, 0 without one"
            ),
        ));
    }
    Ok(())
}

/// Rule 6's frequency: a whole number ≥ 0, or why not.
#[inline]
pub(super) fn check_frequency(x: f64) -> std::result::Result<(), String> {
    match whole_and_not_negative(x) {
        true => Ok(()),
        false => Err(format!("frequency {x} is not a whole number ≥ 0")),
    }
}

/// Rule 6's frequency test, without a branch.
#[inline]
fn whole_and_not_negative(x: f64) -> bool {
    // Whole: at least 2^52 (every double there is), or unchanged by truncation to an integer (a
    // conversion, where `fract` calls the C library).
    const WHOLE_FROM: f64 = 4_503_599_627_370_496.0;
    (x >= 0.0) & x.is_finite() & ((x >= WHOLE_FROM) | ((x as u64) as f64 == x))
}

/// The time unit of a summary: its `time_unit` column's or, without one, `given` (--time-unit);
/// when both are there they must agree.
pub(super) fn resolve_time_unit(
    frame: &DataFrame,
    source: &Path,
    available: &[String],
    given: Option<TimeUnit>,
) -> Result<TimeUnit> {
    let unit_in_table = match available.iter().any(|c| c == TIME_UNIT.name) {
        true => Some(table_time_unit(frame, source)?),
        false => None,
    };
    reconcile_time_unit(source, unit_in_table, given)
}

/// The time unit of a summary whose `time_unit` column holds `in_table` (`None`: it has none),
/// `given` the one --time-unit gives: either where only one is there, and they must agree.
pub(super) fn reconcile_time_unit(
    source: &Path,
    in_table: Option<TimeUnit>,
    given: Option<TimeUnit>,
) -> Result<TimeUnit> {
    match (in_table, given) {
        (Some(a), Some(b)) if a != b => Err(ClvError::InvalidArgument(format!(
            "{} is in {a} (its time_unit column) but --time-unit {b} was given",
            source.display()
        ))),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Err(ClvError::InvalidArgument(format!(
            "{} has no time_unit column: say which unit its recency and T are in with --time-unit",
            source.display()
        ))),
    }
}

/// A column of dates (Date, or ISO text) as days since 1970-01-01; a value that is not a date is
/// an error naming its row.
pub(super) fn date_column(frame: &DataFrame, source: &Path, name: &str) -> Result<Vec<i32>> {
    // The common case, text that is all `YYYY-MM-DD`, read byte by byte in parallel (a
    // 100,000-customer table: 6 ms through Polars' strptime, most of it zeroing memory for a
    // column of nulls, by `perf`); anything else goes through Polars, which names the row at
    // fault.
    let text = frame.column(name).ok().and_then(|raw| raw.str().ok());
    if let Some(days) = text.and_then(iso_days) {
        return Ok(days);
    }
    dates_by_polars(frame, source, name)
}

/// The message for cell `i` of `raw`, which is not what its column needs: `empty` where the cell
/// is empty (null), else its value and that it is not `wanted`.
fn bad_cell_message(raw: &Column, i: usize, empty: &str, wanted: &str) -> String {
    match raw.get(i) {
        Ok(v) if v.is_null() => empty.to_string(),
        v => format!("{} is not {wanted}", v.map(|v| v.to_string()).unwrap_or_default()),
    }
}

/// `date_column` through Polars: text as `%Y-%m-%d` (non-strict), anything else cast to a date.
fn dates_by_polars(frame: &DataFrame, source: &Path, name: &str) -> Result<Vec<i32>> {
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
                message: bad_cell_message(raw, i, "empty date", "a YYYY-MM-DD date"),
            })
        })
        .collect()
}

/// Days since 1970-01-01 of text that is all `YYYY-MM-DD` dates, or `None`.
fn iso_days(text: &StringChunked) -> Option<Vec<i32>> {
    if text.null_count() > 0 {
        return None;
    }
    let text = text.rechunk();
    let array = text.downcast_iter().next()?;
    (0..array.len())
        .into_par_iter()
        .map(|i| iso_day(array.value(i).as_bytes()))
        .collect()
}

/// The single time unit named in a table's `time_unit` column.
fn table_time_unit(frame: &DataFrame, source: &Path) -> Result<TimeUnit> {
    let ctx = || format!("reading column 'time_unit' of {}", source.display());
    let column = frame
        .column("time_unit")
        .and_then(|c| c.cast(&DataType::String))
        .context(ctx)?;
    // One distinct valid value (the common case, and a constant column from `summarize`) needs
    // no scan; otherwise the scan finds the first offending row.
    let distinct = column.unique().context(ctx)?;
    if let [Some(unit)] = distinct
        .str()
        .context(ctx)?
        .iter()
        .map(|v| v.and_then(TimeUnit::parse))
        .collect::<Vec<_>>()[..]
    {
        return Ok(unit);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_frequency_is_what_fract_calls_whole() {
        // The definition it replaces: x ≥ 0 with no fractional part (NaN and ±∞ have NaN's).
        let by_fract = |x: f64| x >= 0.0 && x.fract() == 0.0;
        let two_52 = 2f64.powi(52);
        let values = [
            0.0,
            -0.0,
            1.0,
            2.5,
            -1.0,
            0.999_999_999_999_999_9,
            1.0 + f64::EPSILON,
            two_52 - 0.5,
            two_52 - 1.0,
            two_52,
            two_52 + 1.0,
            2f64.powi(63),
            2f64.powi(64) + 4096.0,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for x in values {
            assert_eq!(check_frequency(x).is_ok(), by_fract(x), "{x}");
        }
        // And every quarter from -2 to 2^20.
        for k in -8..(1 << 22) {
            let x = k as f64 / 4.0;
            assert_eq!(check_frequency(x).is_ok(), by_fract(x), "{x}");
        }
    }

    #[test]
    fn the_branch_free_rules_pass_what_the_checks_one_by_one_pass() {
        // Every (x, t_x, T) of values on and around each rule's edges, and values no number
        // should be: the one test passes exactly the histories none of the checks refuses.
        let values = [
            0.0,
            -0.0,
            0.5,
            1.0,
            2.5,
            3.0,
            10.0,
            -1.0,
            2f64.powi(53),
            1e300,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let (mut passed, mut refused) = (0, 0);
        for x in values {
            for tx in values {
                for age in values {
                    let checked = history_fault(x, tx, age).is_ok();
                    assert_eq!(follows_the_rules(x, tx, age), checked, "x {x}, t_x {tx}, T {age}");
                    assert_eq!(check_history(x, tx, age).is_ok(), checked, "x {x}, t_x {tx}, T {age}");
                    if checked {
                        passed += 1;
                    } else {
                        refused += 1;
                    }
                }
            }
        }
        // Both outcomes met many times (e.g. (1, 0.5, 3) passes; (1, 0, 3) and (0, 0.5, 3) do not).
        assert!(passed > 50 && refused > 1000, "{passed} passed, {refused} refused");
        assert!(follows_the_rules(1.0, 0.5, 3.0));
        assert!(!follows_the_rules(1.0, 0.0, 3.0) && !follows_the_rules(0.0, 0.5, 3.0));
    }

    #[test]
    fn dates_read_byte_by_byte_are_polars_dates() {
        let source = Path::new("rfm.csv");
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        // Every third day of two centuries, leap days and century years among them.
        let dates: Vec<String> = (0..(200 * 366 / 3))
            .map(|k| (chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(3 * k)).to_string())
            .collect();
        let frame = df!("first_purchase" => &dates).unwrap();
        let by_bytes = iso_days(frame.column("first_purchase").unwrap().str().unwrap()).unwrap();
        assert_eq!(by_bytes, dates_by_polars(&frame, source, "first_purchase").unwrap());
        assert_eq!(
            by_bytes[0],
            (chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() - epoch).num_days() as i32
        );
        assert_eq!(date_column(&frame, source, "first_purchase").unwrap(), by_bytes);
        // Text the bytes do not read goes through Polars, with its answer: a date it reads, or
        // the row it cannot read named (an empty cell, read as null, as an empty date).
        for odd in [
            Some("2020-01-05 10:30:00"),
            Some("2021-02-30"),
            Some("5 January 2020"),
            Some(""),
            None,
        ] {
            let frame = df!("first_purchase" => [Some("2020-01-04"), odd]).unwrap();
            assert!(iso_days(frame.column("first_purchase").unwrap().str().unwrap()).is_none());
            let ours = date_column(&frame, source, "first_purchase");
            let polars = dates_by_polars(&frame, source, "first_purchase");
            assert_eq!(format!("{ours:?}"), format!("{polars:?}"), "{odd:?}");
            if let Err(e) = ours {
                assert!(e.to_string().contains("data row 2"), "{odd:?}: {e}");
                assert_eq!(odd.is_none(), e.to_string().ends_with(": empty date"), "{odd:?}: {e}");
            }
        }
    }
}
