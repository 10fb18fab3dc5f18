//! A summary frame's columns read as the table needs them: finite numbers (nullable in a
//! compressed summary), dates as days, and the time unit, each fault named by file, column and
//! row.

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::super::conventions::TIME_UNIT;
use super::super::plain_fields::iso_day;
use super::super::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};

/// A column as finite f64 values; a value that is not a finite number is an error naming its row.
pub(in crate::data) fn numeric_column(frame: &DataFrame, source: &Path, name: &str) -> Result<Vec<f64>> {
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

/// A column as finite f64 values, missing values as `None` where `nulls_allowed` (a compressed
/// summary's rows of one kind leave the other kind's columns empty), else an error naming the row,
/// as is any value that is not a finite number.
pub(in crate::data) fn nullable_numeric_column(
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

/// The time unit of a summary: its `time_unit` column's or, without one, `given` (--time-unit);
/// when both are there they must agree.
pub(in crate::data) fn resolve_time_unit(
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
pub(in crate::data) fn reconcile_time_unit(
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
pub(in crate::data) fn date_column(frame: &DataFrame, source: &Path, name: &str) -> Result<Vec<i32>> {
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
