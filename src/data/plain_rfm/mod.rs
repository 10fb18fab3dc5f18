//! An RFM table in plain CSV (`plain_csv`) read in one pass from bytes into an `RfmTable`. Its
//! cells are plain when the numbers are finite and parsed as Polars parses them (fast_float2: `8`,
//! `51.142857142857146`, `1e-05`), with nothing before them; the ids are not blank;
//! `first_purchase` holds `YYYY-MM-DD` dates and `time_unit` the same text on every row. Anything
//! else (a compressed summary, a missing column, an empty cell, a date in another form) makes
//! `read` return `None`, and the table is read by Polars instead, whose checks name the row at
//! fault. Where both read a table they give the same one: the same ids (as text, as Polars reads
//! a CSV's), the same days and, the parser being the same, the same bits.

use std::path::Path;

use polars::prelude::*;

use super::compressed::is_compressed;
use super::conventions::{FIRST_PURCHASE, TIME_UNIT};
use super::io::{check_input, TableFormat};
use super::plain_csv::{read_plain, Cells};
use super::rfm_table::{reconcile_time_unit, CustomerIds, RfmColumns, RfmNumbers, RfmTable};
use super::TimeUnit;
use crate::error::{PolarsContext, Result};

mod lines;

use lines::{Numbers, RfmParser, Table};

/// The RFM table at `path` when it is a plain CSV (see the module's text), checked as
/// `RfmTable::from_frame` checks one, its time unit as there; `None` otherwise.
pub(super) fn read(path: &Path, time_unit: Option<TimeUnit>) -> Result<Option<RfmTable>> {
    match read_in_blocks(path, time_unit, BLOCK_BYTES, Ids::Keep)? {
        Some(read) => read.into_table(path),
        None => Ok(None),
    }
}

/// `read`'s numbers alone: the ids (none blank, UTF-8) and the first purchases (dates) are
/// checked as `read` checks them, so that the same files are plain, but not kept.
pub(super) fn read_numbers(path: &Path, time_unit: Option<TimeUnit>) -> Result<Option<RfmNumbers>> {
    Ok(read_in_blocks(path, time_unit, BLOCK_BYTES, Ids::Check)?.map(|table| table.numbers))
}

/// Bytes read at a time. Smaller than a log's blocks: an RFM table has a tenth of a log's bytes
/// per customer, and a buffer reused block after block costs fewer fresh pages (the
/// 100,000-customer benchmark table, 5.7 MB, with this reader's first version: 4,382 page faults
/// for the whole `clv fit` where a block of 16 MB took 6,358).
const BLOCK_BYTES: usize = 2 << 20;

/// Whether a read keeps the customer ids, or only checks them (a fit never reads them: at
/// 100,000 customers their column is an eighth of the pages `clv fit` touches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ids {
    Keep,
    Check,
}

/// What `read_in_blocks` read: the ids when kept, the numbers, checked, and the first purchases
/// when the table has them and the ids are kept.
struct Read {
    ids: Option<StringChunked>,
    numbers: RfmNumbers,
    first_purchase: Option<Vec<i32>>,
}

impl Read {
    /// The table, when its ids were kept.
    fn into_table(self, path: &Path) -> Result<Option<RfmTable>> {
        let Some(ids) = self.ids else {
            return Ok(None);
        };
        let context = || format!("reading {}", path.display());
        // The parts' ids stay the parts' chunks: whatever needs them in one (a file's writer)
        // joins them.
        let customer_id = CustomerIds::from_column(&ids.into_series().into_column()).context(context)?;
        let RfmNumbers {
            frequency,
            recency,
            t,
            monetary_value,
            time_unit,
        } = self.numbers;
        Ok(Some(RfmTable {
            customer_id,
            frequency,
            recency,
            t,
            monetary_value,
            first_purchase: self.first_purchase,
            time_unit,
        }))
    }
}

/// The table, `block_bytes` at a time.
fn read_in_blocks(path: &Path, time_unit: Option<TimeUnit>, block_bytes: usize, ids: Ids) -> Result<Option<Read>> {
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if !is_csv || check_input(path)? != TableFormat::Csv {
        return Ok(None);
    }
    let mut columns = None;
    let start = |names: &[String], expected_rows: usize| {
        if is_compressed(names) {
            return None;
        }
        let found = RfmColumns::find(path, names).ok()?;
        let position = |name: &str| names.iter().position(|n| n == name);
        let cells = Cells::new(
            b',',
            names.len(),
            [
                position(&found.id),
                position(&found.frequency),
                position(&found.recency),
                position(&found.age),
                found.monetary_value.as_deref().and_then(position),
                position(FIRST_PURCHASE.name).filter(|_| found.first_purchase),
                position(TIME_UNIT.name).filter(|_| found.time_unit),
            ],
        );
        let parser = RfmParser {
            cells,
            keep_ids: ids == Ids::Keep,
            has_monetary_value: found.monetary_value.is_some(),
            has_first_purchase: found.first_purchase,
            has_time_unit: found.time_unit,
        };
        let table = Table::new(&parser, expected_rows, path.display().to_string());
        columns = Some(found);
        Some((parser, table))
    };
    let Some(table) = read_plain(path, b',', block_bytes, start)? else {
        return Ok(None);
    };
    let Some(columns) = columns else {
        return Ok(None);
    };
    if table.numbers.rows == 0 {
        return Ok(None);
    }
    // A unit Polars' path would refuse (rows that differ, a word it does not know) is left to it.
    let unit_text = table.unit.as_deref().and_then(|text| std::str::from_utf8(text).ok());
    let unit_in_table = match (table.has_time_unit, unit_text.and_then(TimeUnit::parse)) {
        (false, _) => None,
        (true, Some(unit)) if !table.mixed_units => Some(unit),
        (true, _) => return Ok(None),
    };
    let time_unit = reconcile_time_unit(path, unit_in_table, time_unit)?;
    let Numbers {
        frequency,
        recency,
        t,
        monetary_value,
        first_purchase,
        ..
    } = table.numbers.truncated();
    let numbers = RfmNumbers {
        frequency,
        recency,
        t,
        monetary_value: table.has_monetary_value.then_some(monetary_value),
        time_unit,
    };
    numbers.slices().check_rules(path, &columns)?;
    Ok(Some(Read {
        first_purchase: table.keeps_first_purchase.then_some(first_purchase),
        ids: table.ids,
        numbers,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rfm_table::{read_summary_table, RfmSlices};

    /// `text` as `name.csv` in a folder of its own, which the caller removes.
    fn table_file(name: &str, text: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("clv-unit-{}-plain-rfm-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// The table read the long way, by Polars: the reference.
    fn by_polars(path: &Path, unit: Option<TimeUnit>) -> Result<RfmTable> {
        let (frame, columns) = read_summary_table(path)?;
        RfmTable::from_frame(&frame, path, &columns, unit)
    }

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    fn assert_same(name: &str, plain: &RfmTable, polars: &RfmTable) {
        assert!(
            plain.customer_id.column().equals(&polars.customer_id.column()),
            "{name}: ids"
        );
        assert_eq!(plain.customer_id.column().dtype(), &DataType::String, "{name}");
        assert_same_numbers(name, plain.slices(), polars.slices());
        assert_eq!(plain.first_purchase, polars.first_purchase, "{name}: first purchase");
    }

    fn assert_same_numbers(name: &str, plain: RfmSlices<'_>, polars: RfmSlices<'_>) {
        assert_eq!(bits(plain.frequency), bits(polars.frequency), "{name}: frequency");
        assert_eq!(bits(plain.recency), bits(polars.recency), "{name}: recency");
        assert_eq!(bits(plain.t), bits(polars.t), "{name}: T");
        assert_eq!(
            plain.monetary_value.map(bits),
            polars.monetary_value.map(bits),
            "{name}: monetary value"
        );
        assert_eq!(plain.time_unit, polars.time_unit, "{name}: time unit");
    }

    #[test]
    fn a_plain_rfm_table_reads_as_polars_reads_it() {
        let summarized = "customer_id,frequency,recency,T,monetary_value,first_purchase,time_unit\n\
                          1,0,0.0,76.14285714285714,0.0,2020-01-12,weeks\n\
                          2,8,51.142857142857146,76.42857142857143,30.18875,2020-01-10,weeks\n\
                          a-17,2,3.5,9,1e1,2020-01-10,weeks\n\
                          0042,1,1e-05,0.5,12345678901234567890.5,1999-12-31,weeks\n";
        let cases: Vec<(&str, String, Option<TimeUnit>)> = vec![
            ("summarized", summarized.to_string(), None),
            (
                "crlf_unterminated",
                summarized.replace('\n', "\r\n").trim_end().to_string(),
                None,
            ),
            (
                "every_field_quoted",
                summarized
                    .lines()
                    .map(|l| l.split(',').map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(","))
                    .collect::<Vec<_>>()
                    .join("\n"),
                None,
            ),
            // The papers' names, floats for counts, no time unit column (given), an extra column.
            (
                "papers",
                "ID,x,t_x,T,zbar,segment\n1,2.0,30.43,38.86,22.35,a\n2,1.0,1.71,38.86,11.77,b\n3,0.0,0.0,38.86,0,\n"
                    .to_string(),
                Some(TimeUnit::Weeks),
            ),
            // No monetary value, no first purchase, the unit in another spelling.
            (
                "no_spend",
                "customer_id,frequency,recency,T,time_unit\n7,3,4.25,10,Days\n8,0,0,2,Days\n".to_string(),
                None,
            ),
        ];
        for (name, text, unit) in cases {
            let (dir, path) = table_file(name, &text);
            let polars = by_polars(&path, unit).unwrap();
            for block_bytes in [BLOCK_BYTES, 40, 97, 1000] {
                let refused = format!("{name}: the plain reader refused it ({block_bytes})");
                let read = |ids| read_in_blocks(&path, unit, block_bytes, ids).unwrap();
                let plain = read(Ids::Keep).and_then(|read| read.into_table(&path).unwrap());
                assert_same(name, &plain.unwrap_or_else(|| panic!("{refused}")), &polars);
                // Without the ids, the same numbers and nothing else.
                let numbers = read(Ids::Check).unwrap_or_else(|| panic!("{refused}"));
                assert!(numbers.ids.is_none() && numbers.first_purchase.is_none(), "{name}");
                assert_same_numbers(name, numbers.numbers.slices(), polars.slices());
            }
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn anything_else_is_left_to_polars() {
        let header = "customer_id,frequency,recency,T,monetary_value,first_purchase,time_unit";
        let row = "2,8,51.1,76.4,30.1,2020-01-10,weeks";
        let refused = [
            ("empty_cell", format!("{header}\n{row}\n3,,1,2,3,2020-01-10,weeks\n")),
            (
                "leading_space",
                format!("{header}\n{row}\n3, 1,1,2,3,2020-01-10,weeks\n"),
            ),
            (
                "not_a_number",
                format!("{header}\n{row}\n3,one,1,2,3,2020-01-10,weeks\n"),
            ),
            ("infinite", format!("{header}\n{row}\n3,1,1,inf,3,2020-01-10,weeks\n")),
            ("blank_id", format!("{header}\n{row}\n ,1,1,2,3,2020-01-10,weeks\n")),
            ("slashed_date", format!("{header}\n{row}\n3,1,1,2,3,2020/01/10,weeks\n")),
            (
                "date_and_time",
                format!("{header}\n{row}\n3,1,1,2,3,2020-01-10 10:00,weeks\n"),
            ),
            ("two_units", format!("{header}\n{row}\n3,1,1,2,3,2020-01-10,days\n")),
            ("unknown_unit", format!("{header}\n3,1,1,2,3,2020-01-10,fortnights\n")),
            (
                "quote_inside",
                format!("{header}\n{row}\n\"3,4\",1,1,2,3,2020-01-10,weeks\n"),
            ),
            ("short_line", format!("{header}\n{row}\n3,1,1,2,3,2020-01-10\n")),
            ("no_rows", format!("{header}\n")),
            ("missing_column", "customer_id,frequency,T\n1,0,3\n".to_string()),
            (
                "compressed",
                "frequency,recency,T,customers,time_unit\n0,0,3,10,weeks\n".to_string(),
            ),
        ];
        for (name, text) in refused {
            let (dir, path) = table_file(name, &text);
            assert!(read(&path, None).unwrap().is_none(), "{name}");
            assert!(read_numbers(&path, None).unwrap().is_none(), "{name}");
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn a_table_that_breaks_a_rule_fails_as_polars_path_fails() {
        let header = "customer_id,frequency,recency,T,monetary_value,time_unit";
        let cases = [
            (
                "recency_after_t",
                format!("{header}\n1,1,2,3,4,weeks\n2,1,5,3,4,weeks\n"),
                None,
            ),
            (
                "negative_spend",
                format!("{header}\n1,1,2,3,4,weeks\n2,1,2,3,-4,weeks\n"),
                None,
            ),
            ("fractional_frequency", format!("{header}\n1,1.5,2,3,4,weeks\n"), None),
            (
                "unit_disagrees",
                format!("{header}\n1,1,2,3,4,weeks\n"),
                Some(TimeUnit::Days),
            ),
        ];
        for (name, text, unit) in cases {
            let (dir, path) = table_file(name, &text);
            let plain = read(&path, unit).map(|_| ()).unwrap_err().to_string();
            let numbers = read_numbers(&path, unit).map(|_| ()).unwrap_err().to_string();
            let polars = by_polars(&path, unit).map(|_| ()).unwrap_err().to_string();
            assert_eq!(plain, polars, "{name}");
            assert_eq!(numbers, polars, "{name}");
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
