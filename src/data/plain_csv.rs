//! A log in plain CSV read in one pass from bytes to columns: the file streamed in blocks, each
//! block's lines parsed on every core. Plain means what most exports are: no quotes (or quotes
//! around a whole field that holds no quote, delimiter or line break), no blank lines, the same
//! number of fields on every line, ISO dates (`YYYY-MM-DD`, a time after them ignored), amounts
//! written as `-?digits[.digits]`, and ids that are not empty. Anything else (a compressed file,
//! another quote, a date in another form, an empty cell, `1e3`) makes `read` return `None`, and
//! the log is read by Polars instead, whose checks name the row. Where both read a file they
//! give the same frame: the same ids (integers when every id is the canonical text of one, else
//! the text), the same days and, amounts being correctly rounded by both parsers, the same bits.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::log_cells::canonical_integer;
use super::plain_fields::{iso_day, plain_amount};
use crate::error::{ClvError, PolarsContext, Result};

/// Bytes read at a time: memory stays bounded by a block and the columns, whatever the file.
const BLOCK_BYTES: usize = 16 << 20;

/// Where the log's three columns are among a line's fields.
#[derive(Debug, Clone, Copy)]
struct Layout {
    delimiter: u8,
    fields: usize,
    id: usize,
    date: usize,
    amount: Option<usize>,
}

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
    let io = |source| ClvError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut buffer = Vec::with_capacity(block_bytes);
    let mut ended = fill(&mut file, &mut buffer, block_bytes).map_err(io)?;
    let Some(header_end) = buffer.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    // Gzip and zstd magic numbers: Polars decompresses those.
    if buffer.starts_with(&[0x1f, 0x8b]) || buffer.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(None);
    }
    let Some(layout) = layout(&buffer[..header_end], delimiter, customer_col, date_col, amount_col) else {
        return Ok(None);
    };
    buffer.drain(..=header_end);
    let context = || format!("reading {}", path.display());
    // Rows expected from the first block's lines, so that the columns grow once or not at all.
    let file_bytes = file.metadata().map_err(io)?.len() as usize;
    let lines_in_block = buffer.iter().filter(|&&b| b == b'\n').count().max(1);
    let expected_rows = (file_bytes as f64 / buffer.len().max(1) as f64 * lines_in_block as f64 * 1.02) as usize;
    let mut columns = Columns {
        ids: Ids::Integer(Vec::with_capacity(expected_rows)),
        days: Vec::with_capacity(expected_rows),
        amounts: Vec::with_capacity(if amount_col.is_some() { expected_rows } else { 0 }),
        has_amount: amount_col.is_some(),
    };
    let mut pieces = Vec::new();
    loop {
        // The block's complete lines; the rest waits for the next block.
        let complete = match ended {
            true => buffer.len(),
            false => buffer.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1),
        };
        if !parse_block(&buffer[..complete], &layout, &mut pieces, &mut columns, &context)? {
            return Ok(None);
        }
        if ended {
            break;
        }
        buffer.drain(..complete);
        ended = fill(&mut file, &mut buffer, block_bytes).map_err(io)?;
    }
    columns.into_frame(path).map(Some)
}

/// Reads into `buffer` until it holds `block_bytes` or the file ends; true at the end.
fn fill(file: &mut File, buffer: &mut Vec<u8>, block_bytes: usize) -> std::io::Result<bool> {
    let wanted = block_bytes.saturating_sub(buffer.len()).max(block_bytes / 4);
    let read = file.by_ref().take(wanted as u64).read_to_end(buffer)?;
    Ok(read < wanted)
}

/// The positions of the three columns in the header, if it is plain: names quoted at most as
/// fields are (`unquoted`), no byte-order mark, no name twice.
fn layout(
    header: &[u8],
    delimiter: u8,
    customer_col: &str,
    date_col: &str,
    amount_col: Option<&str>,
) -> Option<Layout> {
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    let header = std::str::from_utf8(header).ok()?;
    if header.starts_with('\u{feff}') {
        return None;
    }
    let names = header
        .split(delimiter as char)
        .map(|name| unquoted(name.as_bytes()).and_then(|n| std::str::from_utf8(n).ok()))
        .collect::<Option<Vec<&str>>>()?;
    let position = |name: &str| names.iter().position(|&n| n == name);
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return None;
        }
    }
    Some(Layout {
        delimiter,
        fields: names.len(),
        id: position(customer_col)?,
        date: position(date_col)?,
        amount: match amount_col {
            Some(a) => Some(position(a)?),
            None => None,
        },
    })
}

/// The log's columns as they are read.
struct Columns {
    ids: Ids,
    days: Vec<i32>,
    amounts: Vec<f64>,
    has_amount: bool,
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

impl Columns {
    /// Appends a parsed piece (its buffers left empty, to be reused).
    fn append(&mut self, piece: &mut Piece, context: &dyn Fn() -> String) -> Result<()> {
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

    fn into_frame(self, path: &Path) -> Result<DataFrame> {
        let context = || format!("reading {}", path.display());
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

/// One piece of a block, parsed; its buffers are kept from block to block.
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

/// Parses `block` (whole lines) on every core into `columns`; false if a line is not plain.
fn parse_block(
    block: &[u8],
    layout: &Layout,
    pieces: &mut Vec<Piece>,
    columns: &mut Columns,
    context: &dyn Fn() -> String,
) -> Result<bool> {
    let parts = split_at_lines(block, rayon::current_num_threads() * 4);
    pieces.resize_with(parts.len().max(pieces.len()), Piece::default);
    let plain = parts
        .par_iter()
        .zip(pieces.par_iter_mut())
        .all(|(part, piece)| parse_lines(part, layout, piece).is_some());
    if !plain {
        return Ok(false);
    }
    for piece in pieces.iter_mut().take(parts.len()) {
        columns.append(piece, context)?;
    }
    Ok(true)
}

/// `block` cut into about `n` pieces of whole lines.
fn split_at_lines(block: &[u8], n: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(n);
    let mut rest = block;
    let target = block.len() / n.max(1) + 1;
    while !rest.is_empty() {
        let cut = match rest
            .get(target..)
            .and_then(|tail| tail.iter().position(|&b| b == b'\n'))
        {
            Some(p) => target + p + 1,
            None => rest.len(),
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// The lines of `part` into `piece`, or `None` at the first line that is not plain. One SIMD
/// sweep finds every delimiter and line end.
fn parse_lines(part: &[u8], layout: &Layout, piece: &mut Piece) -> Option<()> {
    let mut last_date: (&[u8], i32) = (b"", 0);
    let (mut id, mut date, mut amount): (&[u8], &[u8], &[u8]) = (b"", b"", b"");
    let (mut start, mut index) = (0, 0);
    // A last line without its line end ends at the end of the part.
    let unterminated = (!part.is_empty() && !part.ends_with(b"\n")).then_some(part.len());
    for end in memchr::memchr2_iter(layout.delimiter, b'\n', part).chain(unterminated) {
        let line_ends = end == part.len() || part[end] == b'\n';
        let mut field = &part[start..end];
        if line_ends {
            field = field.strip_suffix(b"\r").unwrap_or(field);
        }
        let field = unquoted(field)?;
        if index == layout.id {
            id = field;
        } else if index == layout.date {
            date = field;
        } else if Some(index) == layout.amount {
            amount = field;
        }
        index += 1;
        start = end + 1;
        if !line_ends {
            continue;
        }
        if index != layout.fields {
            return None;
        }
        index = 0;
        let day = match date.get(..10)? {
            d if d == last_date.0 => last_date.1,
            d => {
                last_date = (d, iso_day(d)?);
                last_date.1
            }
        };
        piece.ids.push(id)?;
        piece.days.push(day);
        if layout.amount.is_some() {
            piece.amounts.push(plain_amount(amount)?);
        }
    }
    Some(())
}

/// A field without quotes, or the text inside quotes that wrap the whole field and hold no quote
/// (as some exports write every field); `None` for any other quote, which may hide a delimiter
/// or a line break inside a field.
fn unquoted(field: &[u8]) -> Option<&[u8]> {
    if !field.contains(&b'"') {
        return Some(field);
    }
    let inside = field.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    (!inside.contains(&b'"')).then_some(inside)
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
