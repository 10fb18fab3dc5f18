//! An RFM table's lines parsed into its columns: where its cells are (`RfmParser`), the columns
//! as they fill (`Table`, `Numbers`), each part's room in them (`Piece`), and the cells parsed
//! as Polars parses them.

use polars::prelude::*;
use rayon::prelude::*;

use super::super::plain_csv::{count_lines, runs, Cells, PlainTable};
use super::super::plain_fields::{iso_day, RepeatedCells};
use crate::error::{PolarsContext, Result};

/// A number as Polars' CSV reader parses it (fast_float2, after any leading whitespace), if it
/// is a finite one with no whitespace before it; anything else (empty: a null for Polars) is
/// left to Polars' path, which names it.
fn number(cell: &[u8]) -> Option<f64> {
    if cell.first().is_none_or(u8::is_ascii_whitespace) {
        return None;
    }
    fast_float2::parse::<f64, _>(cell).ok().filter(|v| v.is_finite())
}

/// Where an RFM table's cells are on a line (id, frequency, recency, T, monetary value, first
/// purchase, time unit), and which it has.
pub(super) struct RfmParser {
    pub(super) cells: Cells<7>,
    pub(super) keep_ids: bool,
    pub(super) has_monetary_value: bool,
    pub(super) has_first_purchase: bool,
    pub(super) has_time_unit: bool,
}

/// The table as it is read.
pub(super) struct Table {
    /// Whether the first purchases are kept (`RfmParser::keeps_first_purchase`).
    pub(super) keeps_first_purchase: bool,
    pub(super) has_monetary_value: bool,
    pub(super) has_time_unit: bool,
    pub(super) ids: Option<StringChunked>,
    pub(super) numbers: Numbers,
    /// The `time_unit` text of the first row, and whether another row's differs.
    pub(super) unit: Option<Vec<u8>>,
    pub(super) mixed_units: bool,
    /// Each part's ids and `time_unit` text, kept from block to block.
    id_builders: Vec<Option<StringChunkedBuilder>>,
    units: Vec<Option<Vec<u8>>>,
    /// The file, for error messages.
    context: String,
}

impl Table {
    /// An empty table for `parser`'s columns, room made for `expected` rows; `context` names the
    /// file in messages.
    pub(super) fn new(parser: &RfmParser, expected: usize, context: String) -> Self {
        Self {
            keeps_first_purchase: parser.keeps_first_purchase(),
            has_monetary_value: parser.has_monetary_value,
            has_time_unit: parser.has_time_unit,
            ids: None,
            numbers: Numbers::zeroed(expected, parser),
            unit: None,
            mixed_units: false,
            id_builders: Vec::new(),
            units: Vec::new(),
            context,
        }
    }
}

impl RfmParser {
    /// Whether the first purchases are kept (read with the ids, checked without them).
    pub(super) fn keeps_first_purchase(&self) -> bool {
        self.has_first_purchase && self.keep_ids
    }
}

/// The table's columns other than the ids, as they are read (a column it lacks stays empty):
/// their first `rows` values are the rows read so far.
pub(super) struct Numbers {
    pub(super) frequency: Vec<f64>,
    pub(super) recency: Vec<f64>,
    pub(super) t: Vec<f64>,
    pub(super) monetary_value: Vec<f64>,
    pub(super) first_purchase: Vec<i32>,
    pub(super) rows: usize,
}

impl Numbers {
    /// Columns of `expected` zeros, grown if the table has more rows. Zeros, not a capacity to
    /// fill: the allocator takes them from fresh pages, which the kernel zeroes as each core
    /// first writes to them while parsing, where a column grown from its capacity would be
    /// zeroed (and its pages faulted) by one core before the parse (at 100,000 customers, a
    /// quarter of `clv fit`'s page faults, all on the main thread).
    fn zeroed(expected: usize, parser: &RfmParser) -> Self {
        let optional = |has: bool| if has { expected } else { 0 };
        Self {
            frequency: vec![0.0; expected],
            recency: vec![0.0; expected],
            t: vec![0.0; expected],
            monetary_value: vec![0.0; optional(parser.has_monetary_value)],
            first_purchase: vec![0; optional(parser.keeps_first_purchase())],
            rows: 0,
        }
    }

    /// The columns cut to the rows read.
    pub(super) fn truncated(mut self) -> Self {
        let rows = self.rows;
        for column in [
            &mut self.frequency,
            &mut self.recency,
            &mut self.t,
            &mut self.monetary_value,
        ] {
            column.truncate(rows);
        }
        self.first_purchase.truncate(rows);
        self
    }
}

/// One part's rows: their room in the table's columns (empty for a column it lacks), and the
/// part's ids and `time_unit` text.
pub(super) struct Piece<'a> {
    frequency: &'a mut [f64],
    recency: &'a mut [f64],
    t: &'a mut [f64],
    monetary_value: &'a mut [f64],
    first_purchase: &'a mut [i32],
    ids: &'a mut Option<StringChunkedBuilder>,
    unit: &'a mut Option<Vec<u8>>,
}

/// The room after `start` rows in `column` (if the table has it) for `added` more, grown where
/// it is short of them, cut into runs of `lines`.
fn room<'a, T: Copy + Default>(
    column: &'a mut Vec<T>,
    start: usize,
    added: usize,
    lines: &[usize],
    has: bool,
) -> Vec<&'a mut [T]> {
    let (start, added) = if has { (start, added) } else { (0, 0) };
    if column.len() < start + added {
        column.resize(start + added, T::default());
    }
    runs(&mut column[start..start + added], lines)
}

impl PlainTable for Table {
    type Parser = RfmParser;
    type Piece<'a> = Piece<'a>;

    fn pieces(&mut self, parts: &[&[u8]]) -> Vec<Piece<'_>> {
        // Each part's rows get their room in the columns: its lines, counted first.
        let lines: Vec<usize> = parts.par_iter().map(|part| count_lines(part)).collect();
        let keeps_first_purchase = self.keeps_first_purchase;
        let n = &mut self.numbers;
        let (start, added) = (n.rows, lines.iter().sum());
        n.rows += added;
        let frequency = room(&mut n.frequency, start, added, &lines, true);
        let recency = room(&mut n.recency, start, added, &lines, true);
        let t = room(&mut n.t, start, added, &lines, true);
        let monetary_value = room(&mut n.monetary_value, start, added, &lines, self.has_monetary_value);
        let first_purchase = room(&mut n.first_purchase, start, added, &lines, keeps_first_purchase);
        self.id_builders.resize_with(lines.len(), || None);
        self.units.resize_with(lines.len(), || None);
        frequency
            .into_iter()
            .zip(recency)
            .zip(t)
            .zip(monetary_value)
            .zip(first_purchase)
            .zip(self.id_builders.iter_mut().zip(self.units.iter_mut()))
            .map(
                |(((((frequency, recency), t), monetary_value), first_purchase), (ids, unit))| Piece {
                    frequency,
                    recency,
                    t,
                    monetary_value,
                    first_purchase,
                    ids,
                    unit,
                },
            )
            .collect()
    }

    fn parse(parser: &RfmParser, part: &[u8], piece: &mut Piece<'_>) -> Option<()> {
        // The thread's caches, or (were they in use: `parse_with` does not call into rayon, so
        // they never are) fresh ones.
        NUMBER_CELLS.with(|cells| match cells.try_borrow_mut() {
            Ok(mut cells) => parse_with(parser, part, piece, &mut cells),
            Err(_) => parse_with(parser, part, piece, &mut [RepeatedCells::new(), RepeatedCells::new()]),
        })
    }

    fn gather(&mut self) -> Result<()> {
        let context = || format!("reading {}", self.context);
        for builder in self.id_builders.iter_mut() {
            let Some(text) = builder.take().map(|b| b.finish()) else {
                continue;
            };
            match &mut self.ids {
                Some(all) => {
                    all.append(&text).context(context)?;
                }
                None => self.ids = Some(text),
            }
        }
        // Each part holds one unit (`parse`); parts that differ make the table not plain.
        for unit in self.units.iter_mut().filter_map(Option::take) {
            match &self.unit {
                Some(seen) if *seen != unit => self.mixed_units = true,
                Some(_) => {}
                None => self.unit = Some(unit),
            }
        }
        Ok(())
    }
}

thread_local! {
    /// Each thread's caches of recency and of age cells, kept from part to part and table to
    /// table (a value is `number`'s of the cell's own bytes, whichever table it came from, and no
    /// other parser fills them). Caches per part, two of 80 KB built for each of a table's parts
    /// (24 at 100,000 customers), were zeroed 48 times and started cold each time.
    static NUMBER_CELLS: std::cell::RefCell<[RepeatedCells; 2]> =
        std::cell::RefCell::new([RepeatedCells::new(), RepeatedCells::new()]);
}

/// One part's rows parsed into its piece. Recencies and ages repeat (as many values as the log
/// has days): each distinct cell is parsed once, through the thread's cache for its column.
/// Frequencies (short cells, parsed as fast as looked up) and spends (mostly distinct) are
/// parsed cell by cell.
fn parse_with(
    parser: &RfmParser,
    part: &[u8],
    piece: &mut Piece<'_>,
    [recencies, ages]: &mut [RepeatedCells; 2],
) -> Option<()> {
    let rows = piece.frequency.len();
    let mut ids = parser.keep_ids.then(|| {
        piece
            .ids
            .get_or_insert_with(|| StringChunkedBuilder::new("customer_id".into(), rows))
    });
    let mut last_date: Option<(&[u8], i32)> = None;
    let mut row = 0;
    parser.cells.for_each_line(part, |&[id, x, t_x, age, m, first, unit]| {
        let id = std::str::from_utf8(id).ok()?;
        if id.trim().is_empty() {
            return None;
        }
        if let Some(ids) = ids.as_mut() {
            ids.append_value(id);
        }
        *piece.frequency.get_mut(row)? = number(x)?;
        *piece.recency.get_mut(row)? = recencies.parse(t_x, number)?;
        *piece.t.get_mut(row)? = ages.parse(age, number)?;
        if parser.has_monetary_value {
            *piece.monetary_value.get_mut(row)? = number(m)?;
        }
        if parser.has_first_purchase {
            let day = match last_date {
                Some((text, day)) if text == first => day,
                _ => iso_day(first)?,
            };
            last_date = Some((first, day));
            if let Some(slot) = piece.first_purchase.get_mut(row) {
                *slot = day;
            }
        }
        if parser.has_time_unit {
            match &piece.unit {
                Some(seen) if seen.as_slice() == unit => {}
                Some(_) => return None,
                None => *piece.unit = Some(unit.to_vec()),
            }
        }
        row += 1;
        Some(())
    })?;
    // Every line counted is a row: nothing is left of the room as read.
    (row == rows).then_some(())
}
