//! The CSV text of a table's rows, byte for byte as Polars' writer formats them (its defaults:
//! comma, `"` quotes where necessary, empty for null, floats in their shortest round-trip form
//! by `zmij`, dates as `YYYY-MM-DD`), without its per-value dispatch: one match per cell on a
//! column kind fixed per table. A table with a column of another type is `None`, and Polars
//! writes it.

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;

/// One column's values, as the arrays of a rechunked frame hold them.
enum Cells<'a> {
    Signed(&'a [i64]),
    Signed32(&'a [i32]),
    Unsigned32(&'a [u32]),
    Unsigned(&'a [u64]),
    Float(&'a [f64]),
    /// Days since 1970-01-01.
    Date(&'a [i32]),
    Text(&'a Utf8ViewArray),
    Boolean(&'a BooleanArray),
}

struct ColumnCells<'a> {
    cells: Cells<'a>,
    validity: Option<&'a Bitmap>,
}

/// The rows of a frame as CSV text.
pub(super) struct CsvRows<'a> {
    columns: Vec<ColumnCells<'a>>,
}

fn primitive<T: polars_arrow::types::NativeType>(array: &dyn Array) -> Option<(&[T], Option<&Bitmap>)> {
    let array = array.as_any().downcast_ref::<PrimitiveArray<T>>()?;
    Some((array.values().as_slice(), array.validity()))
}

impl<'a> CsvRows<'a> {
    /// The rows of `frame`, whose columns must each be one chunk (`DataFrame::rechunk_mut`);
    /// `None` if a column has a type this writer does not format.
    pub(super) fn of(frame: &'a DataFrame) -> Option<Self> {
        let mut columns = Vec::with_capacity(frame.width());
        for column in frame.columns() {
            let series = column.as_materialized_series();
            let [chunk] = series.chunks().as_slice() else {
                return None;
            };
            let array: &dyn Array = chunk.as_ref();
            let (cells, validity) = match series.dtype() {
                DataType::Int64 => primitive::<i64>(array).map(|(v, b)| (Cells::Signed(v), b))?,
                DataType::Int32 => primitive::<i32>(array).map(|(v, b)| (Cells::Signed32(v), b))?,
                DataType::UInt32 => primitive::<u32>(array).map(|(v, b)| (Cells::Unsigned32(v), b))?,
                DataType::UInt64 => primitive::<u64>(array).map(|(v, b)| (Cells::Unsigned(v), b))?,
                DataType::Float64 => primitive::<f64>(array).map(|(v, b)| (Cells::Float(v), b))?,
                DataType::Date => primitive::<i32>(array).map(|(v, b)| (Cells::Date(v), b))?,
                DataType::String => {
                    let text = array.as_any().downcast_ref::<Utf8ViewArray>()?;
                    (Cells::Text(text), text.validity())
                }
                DataType::Boolean => {
                    let flags = array.as_any().downcast_ref::<BooleanArray>()?;
                    (Cells::Boolean(flags), flags.validity())
                }
                _ => return None,
            };
            columns.push(ColumnCells { cells, validity });
        }
        Some(CsvRows { columns })
    }

    /// Appends rows `rows` to `out`, each ended by a newline.
    pub(super) fn write(&self, rows: std::ops::Range<usize>, out: &mut Vec<u8>) {
        let mut floats = zmij::Buffer::new();
        for row in rows {
            for (i, column) in self.columns.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if column.validity.is_some_and(|v| !v.get_bit(row)) {
                    continue;
                }
                match &column.cells {
                    Cells::Signed(v) => write_integer(out, v[row] < 0, v[row].unsigned_abs()),
                    Cells::Signed32(v) => write_integer(out, v[row] < 0, u64::from(v[row].unsigned_abs())),
                    Cells::Unsigned32(v) => write_integer(out, false, u64::from(v[row])),
                    Cells::Unsigned(v) => write_integer(out, false, v[row]),
                    Cells::Float(v) => out.extend_from_slice(floats.format(v[row]).as_bytes()),
                    Cells::Date(v) => write_date(out, v[row]),
                    Cells::Text(t) => write_text(out, t.value(row)),
                    Cells::Boolean(b) => out.extend_from_slice(if b.value(row) { b"true" } else { b"false" }),
                }
            }
            out.push(b'\n');
        }
    }
}

/// Decimal digits, a minus first when `negative`.
fn write_integer(out: &mut Vec<u8>, negative: bool, mut magnitude: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[start..]);
}

/// `YYYY-MM-DD` for years 0 to 9999, digit by digit (Polars' `Display` through `write!` costs
/// more than the rest of the row); chrono's form (`+10000-01-01`) outside them, as Polars.
fn write_date(out: &mut Vec<u8>, days: i32) {
    use chrono::Datelike;
    let date = super::transactions::from_epoch_days(days);
    let (year, month, day) = (date.year(), date.month(), date.day());
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(date.to_string().as_bytes());
        return;
    }
    let year = year as u32;
    let text = [
        b'0' + (year / 1000) as u8,
        b'0' + (year / 100 % 10) as u8,
        b'0' + (year / 10 % 10) as u8,
        b'0' + (year % 10) as u8,
        b'-',
        b'0' + (month / 10) as u8,
        b'0' + (month % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
    ];
    out.extend_from_slice(&text);
}

/// Text quoted where necessary, as Polars does: an empty string as `""` (apart from null), and
/// text holding a comma, a quote or a line break in quotes, its quotes doubled.
fn write_text(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        out.extend_from_slice(b"\"\"");
        return;
    }
    if memchr::memchr3(b',', b'\n', b'\r', bytes).is_none() && memchr::memchr(b'"', bytes).is_none() {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for piece in bytes.split_inclusive(|&b| b == b'"') {
        out.extend_from_slice(piece);
        if piece.ends_with(b"\"") {
            out.push(b'"');
        }
    }
    out.push(b'"');
}
