//! A log in plain CSV (`plain_csv`) read in one pass from bytes to columns. Its cells are plain
//! when they hold ISO dates (`YYYY-MM-DD`, a time after them ignored), amounts written as
//! `-?digits[.digits]`, and ids that are not empty. Anything else (a compressed file, a quote
//! inside a field, a date in another form, an empty cell, `1e3`) makes `read` return `None`, and
//! the log is read by Polars instead, whose checks name the row. Where both read a file they
//! give the same frame: the same ids (integers when every id is the canonical text of one, else
//! the text), the same days and, amounts being correctly rounded by both parsers, the same bits.

use std::path::Path;

use polars::prelude::*;

use super::log_cells::canonical_integer;
use super::plain_csv::{read_plain, Cells, PlainTable};
use super::plain_fields::{iso_day, plain_amount};
use crate::error::{PolarsContext, Result};

/// Bytes read at a time: memory stays bounded by a block and the columns, whatever the file.
const BLOCK_BYTES: usize = 16 << 20;

/// The log at `path` as columns `__row` (1-based data row), `customer_id` (Int64 or String),
/// `date` (Int32 days since 1970-01-01) and, when `amount_col` is given, `amount` (Float64);
/// `None` when the file is not plain CSV (see the module's text).
pub(super) fn read(
    path: &Path,
    delimiter: u8,
    customer_col: &str,
    date_col: &str,
    amount_col: Option<&str>,
) -> Result<Option<DataFrame>> {
    read_in_blocks(path, delimiter, customer_col, date_col, amount_col, BLOCK_BYTES)
}

/// `read`, `block_bytes` at a time.
fn read_in_blocks(
    path: &Path,
    delimiter: u8,
    customer_col: &str,
    date_col: &str,
    amount_col: Option<&str>,
    block_bytes: usize,
) -> Result<Option<DataFrame>> {
    let start = |names: &[String], expected_rows: usize| {
        let position = |name: &str| names.iter().position(|n| n == name);
        let (id, date) = (position(customer_col)?, position(date_col)?);
        let amount = match amount_col {
            Some(a) => Some(position(a)?),
            None => None,
        };
        let parser = LogParser {
            cells: Cells::new(delimiter, names.len(), [Some(id), Some(date), amount]),
            has_amount: amount.is_some(),
        };
        let log = Log {
            ids: Ids::Integer(Vec::with_capacity(expected_rows)),
            days: Vec::with_capacity(expected_rows),
            amounts: Vec::with_capacity(if amount.is_some() { expected_rows } else { 0 }),
            has_amount: amount.is_some(),
            pieces: Vec::new(),
            in_block: 0,
            context: path.display().to_string(),
        };
        Some((parser, log))
    };
    match read_plain(path, delimiter, block_bytes, start)? {
        Some(log) => log.into_frame().map(Some),
        None => Ok(None),
    }
}

/// Where the log's cells are on a line (id, date, amount).
struct LogParser {
    cells: Cells<3>,
    has_amount: bool,
}

/// The log's columns as they are read, and the pieces a block is parsed into.
struct Log {
    ids: Ids,
    days: Vec<i32>,
    amounts: Vec<f64>,
    has_amount: bool,
    /// Kept from block to block, with their buffers; the first `in_block` hold the block's rows.
    pieces: Vec<Piece>,
    in_block: usize,
    /// The file, for error messages.
    context: String,
}

/// Ids: integers while every one is canonical, else text.
enum Ids {
    Integer(Vec<i64>),
    Text(StringChunked),
}

/// Canonical integers as the text they were read from.
fn integers_as_text(values: &[i64]) -> StringChunked {
    StringChunked::from_iter_values("customer_id".into(), values.iter().map(i64::to_string))
}

impl PlainTable for Log {
    type Parser = LogParser;
    type Piece<'a> = &'a mut Piece;

    fn pieces(&mut self, parts: &[&[u8]]) -> Vec<&mut Piece> {
        self.in_block = parts.len();
        if self.pieces.len() < parts.len() {
            self.pieces.resize_with(parts.len(), Piece::default);
        }
        self.pieces.iter_mut().take(parts.len()).collect()
    }

    fn parse(parser: &LogParser, part: &[u8], piece: &mut &mut Piece) -> Option<()> {
        let mut last_date: (&[u8], i32) = (b"", 0);
        parser.cells.for_each_line(part, |&[id, date, amount]| {
            let day = match date.get(..10)? {
                d if d == last_date.0 => last_date.1,
                d => {
                    last_date = (d, iso_day(d)?);
                    last_date.1
                }
            };
            piece.ids.push(id)?;
            piece.days.push(day);
            if parser.has_amount {
                piece.amounts.push(plain_amount(amount)?);
            }
            Some(())
        })
    }

    fn gather(&mut self) -> Result<()> {
        let mut pieces = std::mem::take(&mut self.pieces);
        let appended = pieces
            .iter_mut()
            .take(self.in_block)
            .try_for_each(|piece| self.append(piece));
        self.pieces = pieces;
        appended
    }
}

impl Log {
    /// Appends a parsed piece, leaving its buffers empty to be reused.
    fn append(&mut self, piece: &mut Piece) -> Result<()> {
        let context = || format!("reading {}", self.context);
        self.days.extend_from_slice(&piece.days);
        self.amounts.extend_from_slice(&piece.amounts);
        piece.days.clear();
        piece.amounts.clear();
        let text = match (&mut self.ids, &mut piece.ids) {
            (Ids::Integer(all), IdBuilder::Integer(values)) => {
                all.extend_from_slice(values);
                values.clear();
                return Ok(());
            }
            (_, IdBuilder::Integer(values)) => {
                let text = integers_as_text(values);
                values.clear();
                text
            }
            (_, text) => match std::mem::replace(text, IdBuilder::Integer(Vec::new())) {
                IdBuilder::Text(builder) => builder.finish(),
                IdBuilder::Integer(_) => return Ok(()),
            },
        };
        if let Ids::Integer(all) = &self.ids {
            self.ids = Ids::Text(integers_as_text(all));
        }
        if let Ids::Text(all) = &mut self.ids {
            all.append(&text).context(context)?;
        }
        Ok(())
    }

    fn into_frame(self) -> Result<DataFrame> {
        let context = || format!("reading {}", self.context);
        let rows = self.days.len();
        let ids = match self.ids {
            Ids::Integer(all) => Int64Chunked::from_vec("customer_id".into(), all).into_column(),
            Ids::Text(text) => text.rechunk().into_owned().into_column(),
        };
        let row_numbers: Vec<IdxSize> = (1..=rows as IdxSize).collect();
        let mut columns = vec![
            IdxCa::from_vec("__row".into(), row_numbers).into_column(),
            ids,
            Int32Chunked::from_vec("date".into(), self.days).into_column(),
        ];
        if self.has_amount {
            columns.push(Float64Chunked::from_vec("amount".into(), self.amounts).into_column());
        }
        DataFrame::new(rows, columns).context(context)
    }
}

/// One piece of a block, parsed.
struct Piece {
    ids: IdBuilder,
    days: Vec<i32>,
    amounts: Vec<f64>,
}

impl Default for Piece {
    fn default() -> Self {
        Piece {
            ids: IdBuilder::Integer(Vec::new()),
            days: Vec::new(),
            amounts: Vec::new(),
        }
    }
}

/// Ids as they are parsed: integers while every one is canonical, else text.
enum IdBuilder {
    Integer(Vec<i64>),
    Text(StringChunkedBuilder),
}

impl IdBuilder {
    /// Appends one id, as text from the first that is not a canonical integer on (the integers
    /// before it turned back into their text). A field Polars would read otherwise (empty,
    /// blank, quoted, not UTF-8) is `None`.
    fn push(&mut self, field: &[u8]) -> Option<()> {
        let text = std::str::from_utf8(field).ok()?;
        if let IdBuilder::Integer(values) = self {
            if let Some(v) = canonical_integer(text) {
                values.push(v);
                return Some(());
            }
            let mut builder = StringChunkedBuilder::new("customer_id".into(), values.len() * 2 + 16);
            for v in values.iter() {
                builder.append_value(v.to_string());
            }
            *self = IdBuilder::Text(builder);
        }
        if text.trim().is_empty() || text.contains('"') {
            return None;
        }
        if let IdBuilder::Text(builder) = self {
            builder.append_value(text);
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::transactions::{LogSpec, NegativeAmounts, Transactions};

    /// `text` written to a log file of its own; the folder is removed by the caller.
    fn log_file(name: &str, text: &[u8]) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("clv-unit-{}-plain-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// The log in `text`, read by the plain reader and by Polars: the reference is the file
    /// read by Polars as text, then checked as a log in memory (which never takes the plain
    /// path).
    fn both_ways(name: &str, text: &str, spec: LogSpec) -> (Transactions, Transactions) {
        let (dir, path) = log_file(name, text.as_bytes());
        let in_blocks = |block_bytes| {
            let (id, date, amount) = (&spec.customer_col, &spec.date_col, spec.amount_col.as_deref());
            read_in_blocks(&path, b',', id, date, amount, block_bytes).unwrap()
        };
        let plain = in_blocks(BLOCK_BYTES);
        assert!(plain.is_some(), "{name}: the plain reader refused the log");
        // Blocks of a few lines, cut inside lines: the same frame.
        for block_bytes in [40, 97, 1000] {
            let frame = in_blocks(block_bytes);
            assert!(
                frame.unwrap().equals(plain.as_ref().unwrap()),
                "{name}, blocks of {block_bytes}"
            );
        }
        let fast = Transactions::load(&path, &spec).unwrap();
        let as_text = super::super::io::scan_table_with(&path, b',')
            .unwrap()
            .collect()
            .unwrap();
        let reference = Transactions::from_frame(&as_text, &path, &spec).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        (fast, reference)
    }

    fn refused(name: &str, text: &[u8]) -> bool {
        let (dir, path) = log_file(name, text);
        let plain = read(&path, b',', "customer_id", "date", Some("amount")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        plain.is_none()
    }

    /// A log of `n` rows whose ids, dates and amounts vary with the row.
    fn rows(n: usize, id: impl Fn(usize) -> String, line_end: &str) -> String {
        let mut text = format!("amount,note,customer_id,date{line_end}");
        for r in 0..n {
            let date =
                chrono::NaiveDate::from_ymd_opt(1996, 12, 25).unwrap() + chrono::Duration::days((r * 7 % 400) as i64);
            let amount = match r % 5 {
                0 => format!("{}", r * 3),
                1 => format!("{}.{:02}", r % 97, r % 100),
                2 => "0.1000000000000000055511151231257827".to_string(),
                3 => "123456789012345678.5".to_string(),
                _ => format!("{}.9999999999999999", r % 13),
            };
            text += &format!("{amount},n{r},{},{date}{line_end}", id(r / 3));
        }
        text
    }

    #[test]
    fn a_plain_log_reads_as_polars_reads_it() {
        let spec = LogSpec::default;
        for (name, text) in [
            ("integer-ids", rows(500, |c| (c * 7919 % 1000).to_string(), "\n")),
            ("crlf", rows(300, |c| c.to_string(), "\r\n")),
            (
                "text-ids-late",
                rows(400, |c| if c == 120 { "C-120".into() } else { c.to_string() }, "\n"),
            ),
            ("leading-zeros", rows(60, |c| format!("00{c}"), "\n")),
            (
                "no-final-newline",
                rows(40, |c| c.to_string(), "\n").trim_end().to_string(),
            ),
            (
                "quoted",
                "\"customer_id\",\"date\",\"amount\",\"note\"\n\"7\",\"1997-01-01\",\"3.5\",\"x\"\n\"007\",1997-01-02,\"4\",\"\"\n".into(),
            ),
            (
                "quoted-integers",
                "\"customer_id\",\"date\",\"amount\"\r\n\"7\",\"1997-01-01\",\"3.5\"\r\n\"12\",\"1997-01-02\",\"4\"\r\n".into(),
            ),
            (
                "times-ignored",
                "customer_id,date,amount\n1,1997-01-01 10:30:00,3.5\n2,1997-01-02T09:00,4\n".into(),
            ),
        ] {
            let (fast, reference) = both_ways(name, &text, spec());
            assert!(
                fast.frame.equals(&reference.frame),
                "{name}:\n{}\n{}",
                fast.frame,
                reference.frame
            );
            assert_eq!(
                fast.frame.column("customer_id").unwrap().dtype(),
                reference.frame.column("customer_id").unwrap().dtype()
            );
        }
        // Ids with a leading zero stay text, as Polars' path keeps them ("007" is not "7").
        let (fast, _) = both_ways("zeros-text", &rows(10, |c| format!("00{c}"), "\n"), spec());
        assert_eq!(fast.frame.column("customer_id").unwrap().dtype(), &DataType::String);
        // A log read without amounts.
        let no_amounts = || LogSpec {
            amount_col: None,
            amount_required: false,
            ..LogSpec::default()
        };
        let (fast, reference) = both_ways("no-amounts", &rows(50, |c| c.to_string(), "\n"), no_amounts());
        assert!(fast.frame.equals(&reference.frame) && !fast.has_amount);
        assert_eq!(fast.frame.width(), 2);
        // Negative amounts netted the same way.
        let text = "customer_id,date,amount\n1,1997-01-01,10.5\n1,1997-01-01,-10.5\n1,1997-02-01,-1\n2,1997-01-03,4\n";
        let net = || LogSpec {
            negative_amounts: NegativeAmounts::Net,
            ..LogSpec::default()
        };
        let (fast, reference) = both_ways("net", text, net());
        assert!(fast.frame.equals(&reference.frame));
        assert_eq!((fast.negative_rows, reference.negative_rows), (2, 2));
    }

    #[test]
    fn anything_but_plain_csv_is_left_to_polars() {
        let ok = "customer_id,date,amount\n1,1997-01-01,3.5\n";
        assert!(!refused("ok", ok.as_bytes()));
        for (name, text) in [
            ("quote-inside", "customer_id,date,amount\n\"1\"\"\",1997-01-01,3.5\n"),
            ("half-quoted", "customer_id,date,amount\n\"1,1997-01-01,3.5\n"),
            (
                "quoted-line-break",
                "customer_id,date,amount,note\n1,1997-01-01,3.5,\"a\nb\"\n",
            ),
            (
                "quoted-other",
                "customer_id,date,amount,note\n1,1997-01-01,3.5,\"a,b\"\n",
            ),
            (
                "blank-line",
                "customer_id,date,amount\n1,1997-01-01,3.5\n\n2,1997-01-02,1\n",
            ),
            ("ragged", "customer_id,date,amount\n1,1997-01-01,3.5,9\n"),
            ("exponent", "customer_id,date,amount\n1,1997-01-01,3e2\n"),
            ("trailing-point", "customer_id,date,amount\n1,1997-01-01,3.\n"),
            ("empty-amount", "customer_id,date,amount\n1,1997-01-01,\n"),
            ("short-date", "customer_id,date,amount\n1,1997-1-1,3\n"),
            ("no-such-day", "customer_id,date,amount\n1,1997-02-29,3\n"),
            ("slashes", "customer_id,date,amount\n1,01/02/1997,3\n"),
            ("empty-id", "customer_id,date,amount\n,1997-01-01,3\n"),
            ("blank-id", "customer_id,date,amount\n  ,1997-01-01,3\n"),
            ("bom", "\u{feff}customer_id,date,amount\n1,1997-01-01,3\n"),
            ("no-amount-column", "customer_id,date\n1,1997-01-01\n"),
            ("twice", "customer_id,date,amount,date\n1,1997-01-01,3,1997-01-01\n"),
        ] {
            assert!(refused(name, text.as_bytes()), "{name}");
        }
        assert!(refused("gzip", &[0x1f, 0x8b, b'\n', 0]));
    }
}
