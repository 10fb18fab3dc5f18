//! How a transaction log's cells are read and checked: dates by their format, amounts with
//! decimal commas, columns that look like money, text ids that are integers, and the first row
//! where a check fails, with its value quoted as it was written.

use std::path::Path;

use polars::prelude::*;

use super::io::scan_table_with;
use crate::error::{PolarsContext, Result};

/// The date format of a text date column when none is given: ISO dates (a time may follow).
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d";
/// The date format of an integer date column when none is given (20240131).
const DEFAULT_INTEGER_DATE_FORMAT: &str = "%Y%m%d";

/// An amount written with a decimal comma: thousands points dropped, the comma read as the
/// decimal point (1.234,56 → 1234.56).
pub(super) fn parse_decimal_comma(v: &str) -> Option<f64> {
    v.trim().replace('.', "").replace(',', ".").parse().ok()
}

/// A number written with a decimal comma: digits, one comma, one to three digits after it
/// (thousands points allowed before), e.g. `29,33` or `1.234,5`.
pub(super) fn looks_like_decimal_comma(v: &str) -> bool {
    let v = v.trim().trim_start_matches('-');
    match v.split_once(',') {
        Some((whole, fraction)) => {
            !whole.is_empty()
                && whole.chars().all(|c| c.is_ascii_digit() || c == '.')
                && (1..=3).contains(&fraction.len())
                && fraction.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The number in an amount written as money text, and what stands in its way: a currency
/// symbol or code before or after it, or thousands separators (commas; with `decimal_comma`,
/// points are read as such already); `None` when what is left is not a number or there was
/// neither. For the error message only: such amounts are not read, as "1,234" is 1234 in one
/// export and 1.234 in another.
pub(super) fn money_text_as_number(v: &str, decimal_comma: bool) -> Option<(String, &'static str)> {
    const CURRENCY: [&str; 9] = ["$", "€", "£", "¥", "USD", "EUR", "GBP", "JPY", "CHF"];
    let v = v.trim();
    let currency = CURRENCY.iter().any(|c| v.contains(c));
    let mut text = v.to_string();
    for symbol in CURRENCY {
        text = text.replace(symbol, "");
    }
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (text, separators) = match decimal_comma {
        true => (text.replace('.', "").replace(',', "."), false),
        false => (text.replace(',', ""), text.contains(',')),
    };
    let number: f64 = text.parse().ok()?;
    let found = match (currency, separators) {
        (true, true) => "a currency symbol and thousands separators",
        (true, false) => "a currency symbol",
        (false, true) => "thousands separators",
        (false, false) => return None,
    };
    number.is_finite().then_some((text, found))
}

/// A column that could hold amounts of money: a decimal or fractional number, or a number whose
/// name says money (price, revenue, sales, …).
pub(super) fn looks_like_money(name: &str, dtype: &DataType) -> bool {
    const MONEY_WORDS: [&str; 11] = [
        "amount", "price", "revenue", "sales", "spend", "value", "total", "paid", "cost", "gross", "net",
    ];
    let lower = name.to_ascii_lowercase();
    let named = MONEY_WORDS.iter().any(|w| lower.contains(w));
    match dtype {
        DataType::Float32 | DataType::Float64 => !lower.contains("id"),
        DataType::Decimal(_, _) => true,
        dt if dt.is_integer() => named,
        DataType::String => named,
        _ => false,
    }
}

/// The common date formats that read `v` as a plausible date (a year from 1900 to 2199), for
/// the error on a date the default format does not read: European and American orders with
/// points, slashes or dashes, month names, two-digit years, each with or without a time.
fn date_formats_reading(v: &str) -> Vec<String> {
    use chrono::{Datelike, NaiveDate, NaiveDateTime};
    const DATES: [&str; 14] = [
        "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%Y.%m.%d", "%d %b %Y", "%b %d %Y",
        "%d-%b-%Y", "%Y%m%d", "%d.%m.%y", "%d/%m/%y", "%m/%d/%y",
    ];
    const TIMES: [&str; 2] = [" %H:%M", " %H:%M:%S"];
    let v = v.trim();
    let plausible = |year: i32| (1900..2200).contains(&year);
    let mut found: Vec<String> = Vec::new();
    for date in DATES {
        if NaiveDate::parse_from_str(v, date).is_ok_and(|d| plausible(d.year())) {
            found.push(date.to_string());
        }
        for time in TIMES {
            let format = format!("{date}{time}");
            if NaiveDateTime::parse_from_str(v, &format).is_ok_and(|d| plausible(d.year())) {
                found.push(format);
            }
        }
    }
    // A two-digit year only where no four-digit one reads the date.
    if found.iter().any(|f| f.contains("%Y")) {
        found.retain(|f| !f.contains("%y"));
    }
    found
}

/// What the error on an unreadable date `v` adds: the `--date-format` that reads it (both, where
/// day and month could be either), or nothing when no common format does.
pub(super) fn date_format_hint(v: &str) -> String {
    match date_formats_reading(v).as_slice() {
        [] => String::new(),
        [one] => format!("; it reads with --date-format \"{one}\""),
        several => format!(
            "; it reads with --date-format {} (a date whose day is after the 12th tells which)",
            several
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

/// Human-readable description of how dates in a column of `dtype` are parsed.
pub(super) fn describe_date_format(dtype: &DataType, format: Option<&str>) -> String {
    match (dtype, format) {
        (_, Some(f)) => f.to_string(),
        (dt, None) if dt.is_integer() => DEFAULT_INTEGER_DATE_FORMAT.to_string(),
        _ => format!("{DEFAULT_DATE_FORMAT} (ISO date, optionally followed by a time)"),
    }
}

/// True when a chrono format reads a time of day as well as a date.
pub(super) fn has_time_fields(format: &str) -> bool {
    ["%H", "%I", "%M", "%S", "%T", "%R", "%s", "%p", "%z", "%f", "%.f"]
        .iter()
        .any(|f| format.contains(f))
}

/// An expression turning the date column into Int32 days since 1970-01-01 (null where it does not
/// parse), whatever its type: text, Date, Datetime or YYYYMMDD integers.
pub(super) fn date_expr(e: Expr, dtype: &DataType, format: Option<&str>) -> std::result::Result<Expr, String> {
    let parse = |e: Expr, format: &str| {
        let options = StrptimeOptions {
            format: Some(format.into()),
            strict: false,
            exact: true,
            cache: true,
        };
        if has_time_fields(format) {
            e.str()
                .to_datetime(
                    Some(polars::prelude::TimeUnit::Milliseconds),
                    None,
                    options,
                    lit("raise"),
                )
                .cast(DataType::Date)
        } else {
            e.str().to_date(options)
        }
    };
    let days = match dtype {
        DataType::Date => e,
        // A time-zone-aware timestamp (a warehouse's TIMESTAMP WITH TIME ZONE) is dated by its
        // wall clock in its zone, as written, not by UTC.
        DataType::Datetime(_, Some(_)) => e
            .dt()
            .replace_time_zone(None, lit("raise"), NonExistent::Raise)
            .cast(DataType::Date),
        DataType::Datetime(_, None) => e.cast(DataType::Date),
        DataType::String => match format {
            Some(f) => parse(e, f),
            // ISO: the first ten characters are the date; a time after them is ignored.
            None => parse(e.str().slice(lit(0), lit(10)), DEFAULT_DATE_FORMAT),
        },
        dt if dt.is_integer() => parse(e.cast(DataType::String), format.unwrap_or(DEFAULT_INTEGER_DATE_FORMAT)),
        other => return Err(format!("has type {other}, which is not a date")),
    };
    Ok(days.cast(DataType::Int32))
}

/// The customer ids as integers when every `customer_id` is the canonical decimal text of an
/// i64 below 10^18 in magnitude: digits, an optional leading minus, no leading zero, no plus or
/// space, nothing empty or missing ("007" is not "7"); `None` otherwise. Checked and parsed in
/// one pass over the text.
pub(super) fn integer_ids_from_text(frame: &DataFrame) -> Result<Option<Int64Chunked>> {
    let ids = frame
        .column("customer_id")
        .and_then(|c| c.str())
        .context(|| "reading customer ids".to_string())?;
    if ids.null_count() > 0 {
        return Ok(None);
    }
    let mut values = Vec::with_capacity(ids.len());
    for chunk in ids.downcast_iter() {
        for text in chunk.values_iter() {
            match canonical_integer(text) {
                Some(v) => values.push(v),
                None => return Ok(None),
            }
        }
    }
    Ok(Some(Int64Chunked::from_vec("customer_id".into(), values)))
}

/// The integer `text` is the canonical decimal form of (see `integer_ids_from_text`), if it is one.
pub(super) fn canonical_integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.as_bytes()),
        None => (false, text.as_bytes()),
    };
    let canonical = match digits {
        [] => false,
        [b'0'] => !negative,
        [b'0', ..] => false,
        _ => digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit),
    };
    if !canonical {
        return None;
    }
    let magnitude = digits.iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether any row of `frame` meets any of `predicates` (a null counting as not met).
pub(super) fn any_row(frame: &DataFrame, predicates: Vec<Expr>) -> Result<bool> {
    let Some(any) = predicates.into_iter().reduce(|a, b| a.or(b)) else {
        return Ok(false);
    };
    let hit = frame
        .clone()
        .lazy()
        .select([any.any(true).alias("any")])
        .collect()
        .context(|| "validating the log".to_string())?;
    let any = hit
        .column("any")
        .ok()
        .and_then(|c| c.bool().ok().and_then(|b| b.get(0)));
    Ok(any.unwrap_or(false))
}

/// The `__row` of the first row of `frame` where `predicate` holds.
pub(super) fn first_row(frame: &DataFrame, predicate: Expr) -> Result<Option<usize>> {
    let hit = frame
        .clone()
        .lazy()
        .filter(predicate)
        .select([col("__row")])
        .limit(1)
        .collect()
        .context(|| "validating the log".to_string())?;
    let rows = hit
        .column("__row")
        .and_then(|c| c.cast(&DataType::UInt64))
        .context(|| "validating the log".to_string())?;
    // `ChunkedArray::get` panics out of bounds: go through the iterator.
    let first = rows.u64().ok().and_then(|c| c.iter().next().flatten());
    Ok(first.map(|r| r as usize))
}

/// The value of `column` in 1-based data row `row` of an in-memory log, as text.
pub(super) fn raw_cell(frame: &DataFrame, column: &str, row: usize) -> Option<String> {
    raw_text(frame.clone().lazy(), column, row).ok().flatten()
}

/// The raw text of `column` at 1-based data row `row`, read again from the file for an error message.
pub(super) fn raw_value(path: &Path, delimiter: u8, column: &str, row: usize) -> Result<Option<String>> {
    raw_text(scan_table_with(path, delimiter)?, column, row).context(|| format!("reading {}", path.display()))
}

/// The value of `column` at 1-based data row `row` of `rows`, as text.
pub(super) fn raw_text(rows: LazyFrame, column: &str, row: usize) -> PolarsResult<Option<String>> {
    let value = rows
        .slice(row.saturating_sub(1) as i64, 1)
        .select([col(column).cast(DataType::String)])
        .collect()?;
    Ok(value
        .column(column)
        .ok()
        .and_then(|c| c.str().ok().and_then(|s| s.iter().next().flatten().map(str::to_string))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_text_is_recognised_for_the_error_message_only() {
        let read = |v: &str, comma: bool| money_text_as_number(v, comma).map(|(n, what)| (n, what.to_string()));
        assert_eq!(
            read("$10.00", false),
            Some(("10.00".into(), "a currency symbol".into()))
        );
        assert_eq!(
            read("1,234.50 USD", false),
            Some(("1234.50".into(), "a currency symbol and thousands separators".into()))
        );
        assert_eq!(
            read("1,234.50", false),
            Some(("1234.50".into(), "thousands separators".into()))
        );
        // With decimal commas, thousands points are read: only the symbol is in the way.
        assert_eq!(
            read("€ 1.234,50", true),
            Some(("1234.50".into(), "a currency symbol".into()))
        );
        assert_eq!(read("-£3", false), Some(("-3".into(), "a currency symbol".into())));
        // Plain numbers, words and empty text are not money text.
        assert_eq!(money_text_as_number("10.00", false), None);
        assert_eq!(money_text_as_number("ten", false), None);
        assert_eq!(money_text_as_number("$", false), None);
    }

    #[test]
    fn the_formats_that_read_a_date_are_found_for_the_error_message() {
        assert_eq!(date_formats_reading("31.01.2024"), ["%d.%m.%Y"]);
        assert_eq!(date_formats_reading("31/01/2024"), ["%d/%m/%Y"]);
        assert_eq!(date_formats_reading("01/31/2024"), ["%m/%d/%Y"]);
        // Day or month first: both read it, and both are offered.
        assert_eq!(date_formats_reading("01/02/2024"), ["%d/%m/%Y", "%m/%d/%Y"]);
        assert_eq!(date_formats_reading("2024/01/31 13:45"), ["%Y/%m/%d %H:%M"]);
        assert_eq!(date_formats_reading("31-Jan-2024"), ["%d-%b-%Y"]);
        assert_eq!(date_formats_reading("31.01.24"), ["%d.%m.%y"]);
        // Not a date in any of them (and 24 AD is no plausible purchase date).
        assert!(date_formats_reading("yesterday").is_empty());
        assert!(date_formats_reading("2024-13-01").is_empty());
    }

    #[test]
    fn only_the_canonical_text_of_an_integer_is_read_as_one() {
        for (text, value) in [
            ("0", 0),
            ("7", 7),
            ("-12", -12),
            ("999999999999999999", 999_999_999_999_999_999),
        ] {
            assert_eq!(canonical_integer(text), Some(value), "{text}");
        }
        // Leading zeros, signs, spaces, 19 digits, "-0", empty, not digits: text stays text.
        for text in [
            "007",
            "+7",
            " 7",
            "7 ",
            "1000000000000000000",
            "-0",
            "",
            "-",
            "1e3",
            "7a",
            "١٢",
        ] {
            assert_eq!(canonical_integer(text), None, "{text}");
        }
    }
}
