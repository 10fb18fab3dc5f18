//! Loading and validating a transaction log (one row per purchase: customer, date, amount).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

use super::io::{column_names, require_column, scan_table_with};
use super::log_cells::{
    any_row, date_expr, date_format_hint, describe_date_format, first_row, integer_ids_from_text,
    looks_like_decimal_comma, looks_like_money, money_text_as_number, parse_decimal_comma, raw_cell, raw_value,
};
use super::plain_log;
use crate::error::{ClvError, PolarsContext, Result};

/// What to do with negative amounts (returns, refunds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum NegativeAmounts {
    /// Stop with an error naming the first such row (the default: a return changes both the
    /// purchase count and the spend, and the right treatment depends on the business).
    #[default]
    Error,
    /// Leave rows with a negative amount out, and count them.
    Drop,
    /// Net them into the customer's purchases of the same day; a day whose net amount is ≤ 0 and
    /// that holds a return is not a purchase (such days are counted).
    Net,
}

/// Which columns of the log hold what, and how dates are written.
#[derive(Debug, Clone)]
pub struct LogSpec {
    pub customer_col: String,
    pub date_col: String,
    /// Without an amount column there is no monetary value (and no spend model).
    pub amount_col: Option<String>,
    /// When false, a log without `amount_col` is read without amounts instead of refused.
    pub amount_required: bool,
    /// A chrono format such as `%Y%m%d` or `%d/%m/%Y %H:%M`; `None` means an ISO date
    /// (`YYYY-MM-DD`), optionally followed by a time, which is ignored.
    pub date_format: Option<String>,
    /// Field delimiter of a delimited-text log; `None`: a tab for `.tsv` and `.tab` files, else a
    /// comma, or the one the header shows when it reads as a single column (';', tab or '|').
    pub delimiter: Option<u8>,
    /// Amounts written with a decimal comma (`29,33`, `1.234,56`).
    pub decimal_comma: bool,
    pub negative_amounts: NegativeAmounts,
}

impl Default for LogSpec {
    fn default() -> Self {
        Self {
            customer_col: "customer_id".into(),
            date_col: "date".into(),
            amount_col: Some("amount".into()),
            amount_required: true,
            date_format: None,
            delimiter: None,
            decimal_comma: false,
            negative_amounts: NegativeAmounts::Error,
        }
    }
}

/// A validated log: columns `customer_id` (integer if the file's ids are, else text), `date` (Int32 days since 1970-01-01) and,
/// when the log has amounts, `amount` (Float64, finite, ≥ 0).
#[derive(Debug, Clone)]
pub struct Transactions {
    pub path: PathBuf,
    pub frame: DataFrame,
    pub has_amount: bool,
    pub negative_amounts: NegativeAmounts,
    /// Rows with a negative amount: left out (drop) or kept to be netted (net).
    pub negative_rows: usize,
    /// Blank rows (every field empty, as an extra newline at the end of an export), skipped.
    pub blank_rows: usize,
    /// The delimiter read from the header when none was given and a comma did not split it.
    pub sniffed_delimiter: Option<u8>,
    /// Read without amounts: the other numeric columns that look like money (a decimal or
    /// fractional type, or a name such as price or revenue), for the note that names the flag.
    pub money_like_columns: Vec<String>,
}

/// Days since 1970-01-01, the representation of dates in every frame here.
pub fn epoch_days(date: NaiveDate) -> i32 {
    // 1970-01-01 is day 719,163 counted from 0001-01-01 (day 0 of the common era's count).
    chrono::Datelike::num_days_from_ce(&date) - 719_163
}

/// The date `days` after 1970-01-01.
pub fn from_epoch_days(days: i32) -> NaiveDate {
    days.checked_add(719_163)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MAX)
}

impl Transactions {
    /// Reads the log at `path` (CSV or Parquet), keeping only the three columns, and checks every
    /// value: a missing column, an empty id, an unparseable date or an amount that is not a
    /// finite non-negative number is an error naming the file, column and data row.
    pub fn load(path: &Path, spec: &LogSpec) -> Result<Self> {
        let mut delimiter = spec.delimiter.unwrap_or_else(|| default_delimiter(path));
        let mut lf = scan_table_with(path, delimiter)?;
        let mut available = column_names(&mut lf, path)?;
        let mut sniffed_delimiter = None;
        // A header read as one column that holds another delimiter.
        let other = match available.as_slice() {
            [only] => [b';', b'\t', b'|', b',']
                .into_iter()
                .find(|&d| d != delimiter && only.as_bytes().contains(&d))
                .map(|d| (d, only.clone())),
            _ => None,
        };
        match (other, spec.delimiter) {
            // No delimiter given: read with the header's (and say so).
            (Some((d, _)), None) => {
                delimiter = d;
                sniffed_delimiter = Some(d);
                lf = scan_table_with(path, delimiter)?;
                available = column_names(&mut lf, path)?;
            }
            (Some((d, only)), Some(_)) => {
                let shown = if d == b'\t' {
                    "tab".to_string()
                } else {
                    (d as char).to_string()
                };
                return Err(ClvError::BadFile {
                    path: path.to_path_buf(),
                    message: format!("the header is one column, '{only}': the file looks delimited by '{shown}'; use --delimiter '{shown}'"),
                });
            }
            (None, _) => {}
        }
        let mut log = Self::validate(lf, &available, path, LogSource::File { delimiter }, spec)?;
        log.sniffed_delimiter = sniffed_delimiter;
        Ok(log)
    }

    /// A log already in memory (a DataFrame handed over by a Python caller), checked as `load`
    /// checks a file; `name` stands for the file in error messages.
    pub fn from_frame(frame: &DataFrame, name: &Path, spec: &LogSpec) -> Result<Self> {
        let available: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        Self::validate(frame.clone().lazy(), &available, name, LogSource::Frame(frame), spec)
    }

    /// Keeps the log's three columns from `lf` (with columns `available`) and checks every value.
    fn validate(
        mut lf: LazyFrame,
        available: &[String],
        path: &Path,
        source: LogSource<'_>,
        spec: &LogSpec,
    ) -> Result<Self> {
        let raw_value = |column: &str, row: usize| match source {
            LogSource::File { delimiter } => raw_value(path, delimiter, column, row),
            LogSource::Frame(frame) => Ok(raw_cell(frame, column, row)),
        };
        recognise_other_tables(path, available, &spec.date_col)?;
        let customer_col = require_column(path, available, &spec.customer_col)?;
        let date_col = require_column(path, available, &spec.date_col)?;
        let amount_col = match &spec.amount_col {
            Some(c) if spec.amount_required || available.iter().any(|a| a == c) => {
                Some(require_column(path, available, c)?)
            }
            _ => None,
        };
        let schema = lf
            .collect_schema()
            .context(|| format!("reading the header of {}", path.display()))?;
        let money_like_columns = match &amount_col {
            Some(_) => Vec::new(),
            None => schema
                .iter()
                .filter(|(name, dtype)| {
                    let name = name.as_str();
                    name != customer_col && name != date_col && looks_like_money(name, dtype)
                })
                .map(|(name, _)| name.to_string())
                .collect(),
        };
        let date_dtype = schema.get(date_col.as_str()).cloned().unwrap_or(DataType::String);
        let date_format = describe_date_format(&date_dtype, spec.date_format.as_deref());

        // Integer ids stay integers (grouping by them is several times faster than by text);
        // anything else is read as text.
        let id_dtype = schema.get(customer_col.as_str()).cloned().unwrap_or(DataType::String);
        let id = match id_dtype.is_integer() {
            true => col(customer_col.as_str()),
            false => col(customer_col.as_str()).cast(DataType::String),
        };
        let mut columns = vec![
            col("__row"),
            id.alias("customer_id"),
            date_expr(col(date_col.as_str()), &date_dtype, spec.date_format.as_deref())
                .map_err(|message| ClvError::BadFile {
                    path: path.to_path_buf(),
                    message: format!("column '{date_col}': {message}"),
                })?
                .alias("date"),
        ];
        if let Some(a) = &amount_col {
            // With decimal commas the text is kept, and parsed below.
            let amount = match spec.decimal_comma {
                true => col(a.as_str()).cast(DataType::String),
                false => col(a.as_str()).cast(DataType::Float64),
            };
            columns.push(amount.alias("amount"));
        }
        // A blank line (every field of the log empty) is no transaction: skipped and counted, as
        // every CSV reader analysts use does. Row numbers still count it.
        let blank = [Some(&customer_col), Some(&date_col), amount_col.as_ref()]
            .into_iter()
            .flatten()
            .map(|c| col(c.as_str()).is_null())
            .reduce(|a, b| a.and(b))
            .unwrap_or(lit(false));
        columns.push(blank.alias("__blank"));
        // A plain CSV log is read in one pass (`plain_log`); anything else by Polars.
        let plain = match (source, spec.date_format.is_none() && !spec.decimal_comma) {
            (LogSource::File { delimiter }, true) => {
                plain_log::read(path, delimiter, &customer_col, &date_col, amount_col.as_deref())?
            }
            _ => None,
        };
        let (mut frame, blank_rows) = match plain {
            Some(frame) => (frame, 0),
            None => {
                let frame = lf
                    .with_row_index("__row", Some(1))
                    .select(columns)
                    .collect()
                    .context(|| format!("reading {}", path.display()))?;
                let blank_rows = frame
                    .column("__blank")
                    .and_then(|c| c.bool().map(|b| b.sum().unwrap_or(0) as usize))
                    .context(|| format!("reading {}", path.display()))?;
                let frame = frame
                    .lazy()
                    .filter(col("__blank").not())
                    .collect()
                    .and_then(|f| f.drop("__blank"))
                    .context(|| format!("reading {}", path.display()))?;
                (frame, blank_rows)
            }
        };
        if frame.height() == 0 {
            return Err(ClvError::EmptyInput {
                path: path.to_path_buf(),
            });
        }
        if spec.decimal_comma && amount_col.is_some() {
            let text = frame
                .column("amount")
                .and_then(|c| c.str().cloned())
                .context(|| format!("reading {}", path.display()))?;
            let amounts: Float64Chunked = text.iter().map(|v| v.and_then(parse_decimal_comma)).collect();
            frame
                .with_column(amounts.with_name("amount".into()).into_column())
                .context(|| format!("reading {}", path.display()))?;
        }
        // Text ids that are all canonical integers (CSV is read as text) become integers: the
        // same ids, grouped several times faster. "007" is not "7", so any other text stays text.
        // Integer in a typed file or from the plain reader; CSV read by Polars is text.
        let integer_ids = frame.column("customer_id").is_ok_and(|c| c.dtype().is_integer());
        let as_integers = match integer_ids {
            true => None,
            false => integer_ids_from_text(&frame)?,
        };
        let integer_ids = integer_ids || as_integers.is_some();
        if let Some(ids) = as_integers {
            frame
                .with_column(ids.into_column())
                .context(|| format!("reading {}", path.display()))?;
        }

        let bad = |column: &str, row: usize, message: String| ClvError::BadValue {
            path: path.to_path_buf(),
            column: column.to_string(),
            row,
            message,
        };
        let missing_id = match integer_ids {
            true => col("customer_id").is_null(),
            false => col("customer_id")
                .is_null()
                .or(col("customer_id").str().strip_chars(lit(NULL)).eq(lit(""))),
        };
        let missing_date = col("date").is_null();
        let (missing_amount, infinite_amount) = (col("amount").is_null(), col("amount").is_finite().not());
        let negative_amount = col("amount").lt(lit(0.0));
        let mut suspect = vec![missing_id.clone(), missing_date.clone()];
        if amount_col.is_some() {
            suspect.extend([missing_amount.clone(), infinite_amount.clone()]);
            if spec.negative_amounts == NegativeAmounts::Error {
                suspect.push(negative_amount.clone());
            }
        }
        // One pass over a valid log; the checks one by one (each names its first row) only when
        // something is wrong.
        if any_row(&frame, suspect)? {
            if let Some(row) = first_row(&frame, missing_id)? {
                return Err(bad(&customer_col, row, "empty customer id".into()));
            }
            if let Some(row) = first_row(&frame, missing_date)? {
                let raw = raw_value(&date_col, row)?;
                let message = match raw {
                    Some(v) if !v.trim().is_empty() => {
                        let hint = match spec.date_format {
                            None => date_format_hint(&v),
                            Some(_) => String::new(),
                        };
                        format!("cannot parse '{v}' as a date with format {date_format}{hint}")
                    }
                    _ => "empty date".into(),
                };
                return Err(bad(&date_col, row, message));
            }
            if let Some(a) = &amount_col {
                if let Some(row) = first_row(&frame, missing_amount)? {
                    let message = match raw_value(a, row)? {
                        Some(v) if !spec.decimal_comma && looks_like_decimal_comma(&v) => {
                            format!("'{v}' is not a number; if commas are decimal points here, add --decimal-comma")
                        }
                        Some(v) if !v.trim().is_empty() => match money_text_as_number(&v, spec.decimal_comma) {
                            Some((n, found)) => format!(
                                "'{v}' is not a number: it has {found}, and clv reads an amount as the number \
                                 alone ({n} here); export the amounts without them"
                            ),
                            None => format!("'{v}' is not a number"),
                        },
                        _ => "empty amount".into(),
                    };
                    return Err(bad(a, row, message));
                }
                if let Some(row) = first_row(&frame, infinite_amount)? {
                    let v = raw_value(a, row)?.unwrap_or_default();
                    return Err(bad(a, row, format!("'{v}' is not a finite amount")));
                }
                if spec.negative_amounts == NegativeAmounts::Error {
                    if let Some(row) = first_row(&frame, negative_amount)? {
                        let v = raw_value(a, row)?.unwrap_or_default();
                        return Err(bad(
                            a,
                            row,
                            format!("negative amount {v}: if these are returns, choose --negative-amounts drop or net"),
                        ));
                    }
                }
            }
        }
        let mut frame = frame.drop("__row").context(|| "dropping the row index".to_string())?;
        let mut negative_rows = 0;
        if amount_col.is_some() {
            let amounts = frame
                .column("amount")
                .and_then(|c| c.f64().cloned())
                .context(|| "counting negative amounts".to_string())?;
            negative_rows = amounts.iter().filter(|v| v.is_some_and(|v| v < 0.0)).count();
            if spec.negative_amounts == NegativeAmounts::Drop && negative_rows > 0 {
                frame = frame
                    .lazy()
                    .filter(col("amount").gt_eq(lit(0.0)))
                    .collect()
                    .context(|| "dropping negative amounts".to_string())?;
                if frame.height() == 0 {
                    return Err(ClvError::BadFile {
                        path: path.to_path_buf(),
                        message: format!("all {negative_rows} rows have negative amounts: no purchases left"),
                    });
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            frame,
            has_amount: amount_col.is_some(),
            negative_amounts: spec.negative_amounts,
            negative_rows,
            blank_rows,
            sniffed_delimiter: None,
            money_like_columns,
        })
    }

    /// First and last purchase dates, as days since 1970-01-01.
    pub fn date_range(&self) -> Result<(i32, i32)> {
        let dates = self
            .frame
            .column("date")
            .and_then(|c| c.i32().cloned())
            .context(|| "reading dates".to_string())?;
        match (dates.min(), dates.max()) {
            (Some(lo), Some(hi)) => Ok((lo, hi)),
            _ => Err(ClvError::EmptyInput {
                path: self.path.clone(),
            }),
        }
    }
}

/// A comma for `.csv` and other text, a tab for `.tsv` and `.tab`.
fn default_delimiter(path: &Path) -> u8 {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("tsv") | Some("tab") => b'\t',
        _ => b',',
    }
}

/// An RFM table or a predictions table given where a log belongs: say what it is and what to do.
fn recognise_other_tables(path: &Path, available: &[String], date_col: &str) -> Result<()> {
    let has = |name: &str| available.iter().any(|c| c == name);
    if has(date_col) {
        return Ok(());
    }
    let what = match (has("p_alive") || has("clv"), has("frequency") || has("x"), has("T")) {
        (true, _, _) => "a predictions table (it has p_alive or clv columns)",
        (false, true, true) => "an RFM table (it has frequency and T columns), not a transaction log: fit it with `clv fit` or forecast it with `clv predict`",
        _ => return Ok(()),
    };
    Err(ClvError::BadFile {
        path: path.to_path_buf(),
        message: format!(
            "this looks like {what}; a transaction log has one row per purchase, with a '{date_col}' column"
        ),
    })
}

/// Where a log's rows come from, so that a bad value is quoted as it was written.
#[derive(Clone, Copy)]
enum LogSource<'a> {
    File { delimiter: u8 },
    Frame(&'a DataFrame),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(dates: &[&str], amounts: &[f64]) -> DataFrame {
        let ids: Vec<i64> = (1..=dates.len() as i64).collect();
        df!("customer_id" => ids, "date" => dates, "amount" => amounts).unwrap_or_default()
    }

    #[test]
    fn a_log_in_memory_is_read_as_the_same_log_in_a_file() {
        let dir = std::env::temp_dir().join(format!("clv-unit-{}-frame-log", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.csv");
        std::fs::write(
            &path,
            "customer_id,date,amount\n1,1997-01-01,29.33\n2,1997-01-18,29.73\n",
        )
        .unwrap();
        let from_file = Transactions::load(&path, &LogSpec::default()).unwrap();
        let in_memory = frame(&["1997-01-01", "1997-01-18"], &[29.33, 29.73]);
        let from_frame = Transactions::from_frame(&in_memory, Path::new("the DataFrame"), &LogSpec::default()).unwrap();
        assert!(from_file.frame.equals(&from_frame.frame));
        assert!(from_frame.has_amount);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_value_in_memory_is_quoted_with_its_column_and_row() {
        let bad_date = frame(&["1997-01-01", "1997-13-01"], &[1.0, 2.0]);
        let e = Transactions::from_frame(&bad_date, Path::new("the DataFrame"), &LogSpec::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the DataFrame: column 'date', data row 2: cannot parse '1997-13-01' as a date with format %Y-%m-%d \
             (ISO date, optionally followed by a time)"
        );
        let negative = frame(&["1997-01-01", "1997-01-02"], &[1.0, -2.5]);
        let e = Transactions::from_frame(&negative, Path::new("the DataFrame"), &LogSpec::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("column 'amount', data row 2: negative amount -2.5"),
            "{e}"
        );
    }
}
