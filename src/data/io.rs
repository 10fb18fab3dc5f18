//! Reading and writing tables as CSV or Parquet, chosen by file extension. Every output is
//! written to a temporary file beside its target and renamed into place only when complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use super::csv_text::CsvRows;
use crate::error::{ClvError, PolarsContext, Result};

/// The table formats `clv` reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
}

impl TableFormat {
    /// By extension, case-insensitive: `.csv` (also `.csv.gz`, gzip- or zstd-compressed CSV is
    /// recognised by its content), `.parquet` or `.pq`.
    pub fn from_path(path: &Path) -> Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".csv.gz") || name.ends_with(".csv.zst") {
            return Ok(TableFormat::Csv);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") => Ok(TableFormat::Csv),
            Some("parquet") | Some("pq") => Ok(TableFormat::Parquet),
            _ => Err(ClvError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Refuses an output path that is one of the command's inputs, also through a symlink or a hard
/// link: writing it would replace the analyst's data (a log summarised onto itself is gone).
/// Checked before anything is read; an output that does not exist yet is no input.
pub fn refuse_output_onto_input(output: &Path, inputs: &[&Path]) -> Result<()> {
    let Ok(written) = std::fs::metadata(output) else {
        return Ok(());
    };
    for input in inputs {
        let Ok(read) = std::fs::metadata(input) else {
            continue;
        };
        if same_file(output, &written, input, &read) {
            return Err(ClvError::InvalidArgument(format!(
                "the output {} is the input {}: writing it would destroy the input; choose another output path",
                output.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// One file behind two paths: the same device and inode (a hard link or a symlink to it).
#[cfg(unix)]
fn same_file(_: &Path, a: &std::fs::Metadata, _: &Path, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// One file behind two paths, as far as their canonical forms tell (symlinks; not hard links).
#[cfg(not(unix))]
fn same_file(a: &Path, _: &std::fs::Metadata, b: &Path, _: &std::fs::Metadata) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// Checks that `path` is a readable, non-empty regular file, and tells its format: Parquet by
/// extension or by its first bytes (`PAR1`), CSV for `.csv` and any other delimited text (`.tsv`,
/// `.txt`, …); a JSON file (a model file given where a table belongs) is refused with what to do.
pub fn check_input(path: &Path) -> Result<TableFormat> {
    let meta = std::fs::metadata(path).map_err(|source| ClvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(ClvError::BadFile {
            path: path.to_path_buf(),
            message: "is not a regular file".into(),
        });
    }
    if meta.len() == 0 {
        return Err(ClvError::EmptyInput {
            path: path.to_path_buf(),
        });
    }
    if let Ok(format) = TableFormat::from_path(path) {
        return Ok(format);
    }
    let mut head = [0u8; 64];
    let read = File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|source| ClvError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let head = &head[..read];
    if head.starts_with(b"PAR1") {
        return Ok(TableFormat::Parquet);
    }
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Err(ClvError::BadFile {
            path: path.to_path_buf(),
            message: "this is JSON (a clv model file?), not a table: logs and RFM tables are CSV or Parquet; \
                      a model file goes to `clv predict --model-file FILE` or `clv report --model-file FILE`"
                .into(),
        });
    }
    Ok(TableFormat::Csv)
}

/// A lazy scan of a comma-separated or Parquet table; see `scan_table_with`.
pub fn scan_table(path: &Path) -> Result<LazyFrame> {
    scan_table_with(path, b',')
}

/// A lazy scan of a table. CSV columns are all read as text, so that every value is parsed
/// (and any failure reported with its row) by `clv`, not guessed by schema inference. A UTF-8
/// BOM, CRLF line ends, quoted fields and gzip/zstd compression are handled by the reader.
pub fn scan_table_with(path: &Path, delimiter: u8) -> Result<LazyFrame> {
    let format = check_input(path)?;
    let source = PlRefPath::from(path.to_string_lossy().as_ref());
    let context = || format!("reading {}", path.display());
    match format {
        TableFormat::Csv => LazyCsvReader::new(source)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_separator(delimiter)
            .finish()
            .context(context),
        TableFormat::Parquet => LazyFrame::scan_parquet(source, Default::default()).context(context),
    }
}

/// A whole table (CSV or Parquet) and its column names, CSV columns all as text (`scan_table`).
pub fn read_table(path: &Path) -> Result<(DataFrame, Vec<String>)> {
    read_table_with_numbers(path, &[])
}

/// As `read_table`, with the CSV columns named in `numeric` (those present) parsed as numbers as
/// they are read instead of kept as text for a second pass. Should any of them hold something
/// that is not a number, the table is read again all as text, so that the caller's checks name
/// the value and its row. The CSV is read whole at once (Polars' eager reader: half the time of a
/// lazy scan on a table of 100,000 rows).
pub fn read_table_with_numbers(path: &Path, numeric: &[&str]) -> Result<(DataFrame, Vec<String>)> {
    if check_input(path)? == TableFormat::Csv {
        if let Ok(frame) = read_csv(path, numeric) {
            let available = frame.get_column_names().iter().map(|n| n.to_string()).collect();
            return Ok((frame, available));
        }
        if !numeric.is_empty() {
            return read_table_with_numbers(path, &[]);
        }
    }
    let mut lf = scan_table(path)?;
    let available = column_names(&mut lf, path)?;
    let frame = lf.collect().context(|| format!("reading {}", path.display()))?;
    Ok((frame, available))
}

/// A CSV file read at once, the columns in `numeric` as Float64 and the rest as text; any
/// failure (read again by the lazy scan, whose errors say more) as Polars reports it.
fn read_csv(path: &Path, numeric: &[&str]) -> PolarsResult<DataFrame> {
    let numbers = Schema::from_iter(numeric.iter().map(|&n| Field::new(n.into(), DataType::Float64)));
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_schema_overwrite(Some(Arc::new(numbers)))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}

/// Column names of a scanned table.
pub fn column_names(lf: &mut LazyFrame, path: &Path) -> Result<Vec<String>> {
    let schema = lf
        .collect_schema()
        .context(|| format!("reading the header of {}", path.display()))?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// The column named `wanted`, or an error that lists the columns there are and suggests the
/// closest name.
pub fn require_column(path: &Path, available: &[String], wanted: &str) -> Result<String> {
    if available.iter().any(|c| c == wanted) {
        return Ok(wanted.to_string());
    }
    let suggestion = available
        .iter()
        .map(|c| (edit_distance(&c.to_lowercase(), &wanted.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone());
    Err(ClvError::MissingColumn {
        path: path.to_path_buf(),
        column: wanted.to_string(),
        available: available.to_vec(),
        suggestion,
    })
}

/// Levenshtein distance, for "did you mean" suggestions on column names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Writes `df` to `path` (CSV or Parquet by extension) atomically: into a temporary file in the
/// same folder, renamed over `path` only when complete, so a failed or interrupted write leaves
/// any previous file intact and no partial one behind.
pub fn write_table(df: &mut DataFrame, path: &Path) -> Result<()> {
    let format = TableFormat::from_path(path)?;
    write_atomically(path, |file| {
        let context = || format!("writing {}", path.display());
        match format {
            TableFormat::Csv => write_csv(df, file).map_err(|e| match e {
                CsvWriteError::Polars(source) => ClvError::Polars {
                    context: context(),
                    source,
                },
                CsvWriteError::Io(source) => ClvError::Io {
                    path: path.to_path_buf(),
                    source,
                },
            }),
            TableFormat::Parquet => ParquetWriter::new(file).finish(df).map(|_| ()).context(context),
        }
    })
}

/// Rows formatted by one task: their text (about 400 KB of predictions) stays in the core's cache
/// until it is written. Polars' own writer formats 1,024 rows per thread and then writes, with
/// the cores idle meanwhile.
const CSV_ROWS_PER_TASK: usize = 2048;
/// Tasks formatted in parallel before their text is handed to the writing thread.
const CSV_TASKS_PER_ROUND: usize = 8;
/// Rounds whose buffers go round between the formatters and the writing thread: sized once,
/// they serve the whole table (fresh pages, and buffers grown by copying, cost more than the
/// formatting here).
const CSV_ROUNDS_IN_FLIGHT: usize = 3;

enum CsvWriteError {
    Polars(PolarsError),
    Io(std::io::Error),
}

/// `df` as CSV with a header (Polars' format, byte for byte): rows formatted in parallel
/// (`csv_text`, or Polars' serializer for the types it leaves), a round at a time, while a
/// thread of its own writes the round before.
fn write_csv(df: &mut DataFrame, file: &mut BufWriter<File>) -> std::result::Result<(), CsvWriteError> {
    use std::sync::mpsc::sync_channel;
    df.rechunk_mut();
    let frame: &DataFrame = df;
    let own_rows = CsvRows::of(frame);
    let format = |offset: usize, rows: usize, header: bool, buffer: &mut Vec<u8>| {
        buffer.clear();
        if let (Some(own), false) = (&own_rows, header) {
            own.write(offset..offset + rows, buffer);
            return Ok(());
        }
        CsvWriter::new(&mut *buffer)
            .include_header(header)
            .n_threads(1)
            .with_batch_size(std::num::NonZeroUsize::new(rows.max(1)).unwrap_or(std::num::NonZeroUsize::MIN))
            .finish(&mut frame.slice(offset as i64, rows))
    };
    let mut header = Vec::new();
    format(0, 0, true, &mut header).map_err(CsvWriteError::Polars)?;
    file.write_all(&header).map_err(CsvWriteError::Io)?;
    let height = frame.height();
    let round_rows = CSV_ROWS_PER_TASK * CSV_TASKS_PER_ROUND;
    // Formatted rounds go to the writer; its emptied buffers come back to be filled again.
    let (to_writer, written) = sync_channel::<Vec<Vec<u8>>>(1);
    let (to_formatters, emptied) = sync_channel::<Vec<Vec<u8>>>(CSV_ROUNDS_IN_FLIGHT);
    let task_bytes = CSV_ROWS_PER_TASK * (header.len() + 16 * frame.width());
    for _ in 0..CSV_ROUNDS_IN_FLIGHT.min(height.div_ceil(round_rows)) {
        let round = (0..CSV_TASKS_PER_ROUND)
            .map(|_| Vec::with_capacity(task_bytes))
            .collect();
        // The channel holds them all: this cannot block.
        let _ = to_formatters.send(round);
    }
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for round in written {
                for buffer in &round {
                    file.write_all(buffer)?;
                }
                // The channel holds every round there is: this cannot block. Once the
                // formatters are done, the rounds wait in it until it is dropped.
                let _ = to_formatters.send(round);
            }
            Ok(())
        });
        let mut formatted = Ok(());
        for start in (0..height).step_by(round_rows) {
            // A writer that stopped has dropped its sender, and its error is told below.
            let Ok(mut buffers) = emptied.recv() else {
                break;
            };
            let tasks = (height - start).div_ceil(CSV_ROWS_PER_TASK).min(CSV_TASKS_PER_ROUND);
            buffers.resize_with(tasks, Vec::new);
            let result = buffers.par_iter_mut().enumerate().try_for_each(|(i, buffer)| {
                let offset = start + i * CSV_ROWS_PER_TASK;
                format(offset, CSV_ROWS_PER_TASK.min(height - offset), false, buffer)
            });
            if let Err(e) = result {
                formatted = Err(CsvWriteError::Polars(e));
                break;
            }
            // A writer that stopped has its error to tell, below.
            if to_writer.send(buffers).is_err() {
                break;
            }
        }
        drop(to_writer);
        let wrote = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the CSV writing thread panicked")));
        formatted.and(wrote.map_err(CsvWriteError::Io))
    })
}

/// Writes text (JSON, reports) to `path` atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |file| {
        file.write_all(text.as_bytes()).map_err(|source| ClvError::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

fn write_atomically(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let io_err = |source| ClvError::Io {
        path: path.to_path_buf(),
        source,
    };
    with_temp_path(path, |tmp| {
        let mut writer = BufWriter::new(File::create(tmp).map_err(io_err)?);
        write(&mut writer)?;
        // Flushed, not synced: the rename keeps a failed run from leaving a partial file, and
        // an fsync (which guards only against the machine crashing) took 0.1 s per 170 MB here.
        writer.into_inner().map(|_| ()).map_err(|e| io_err(e.into_error()))
    })
}

/// Runs `write` on a temporary path beside `path` (same folder, same extension, so writers that
/// go by extension still work), then renames it over `path`; on failure the temporary file is
/// removed and any previous `path` is left as it was.
pub fn with_temp_path(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| ClvError::InvalidArgument(format!("{} is not a file name", path.display())))?;
    // A folder that is not there yet is made, as for every output of every command.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ClvError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let tmp = TempFile(path.with_file_name(format!(".clv-{}-{}", std::process::id(), file_name.to_string_lossy())));
    write(&tmp.0)?;
    std::fs::rename(&tmp.0, path).map_err(|source| ClvError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A temporary file removed when dropped, also when a write fails or panics; after a successful
/// rename there is nothing left to remove.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("amount", "amount"), 0);
        assert_eq!(edit_distance("amount", "amuont"), 2);
        assert_eq!(edit_distance("date", "dates"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn missing_column_suggests_the_closest_name() {
        let cols = vec!["customer_id".to_string(), "date".to_string(), "amount".to_string()];
        let err = require_column(Path::new("log.csv"), &cols, "ammount").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("no column 'ammount'") && msg.contains("did you mean 'amount'"),
            "{msg}"
        );
        assert!(require_column(Path::new("log.csv"), &cols, "zzzzzzzzzz")
            .unwrap_err()
            .to_string()
            .contains("the columns are: customer_id, date, amount"));
    }

    #[test]
    fn csv_written_in_parallel_rounds_is_polars_csv_byte_for_byte() {
        let dir = std::env::temp_dir().join(format!("clv-unit-{}-csv-rounds", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // More rows than a round, not a multiple of a task; every column type the tables have.
        for rows in [0, 1, 2047, 40_001] {
            let ids: Vec<i64> = (0..rows as i64).map(|i| i * 7919 - 5).collect();
            let values: Vec<Option<f64>> = (0..rows)
                .map(|i| match i % 7 {
                    0 => None,
                    1 => Some(f64::NAN),
                    2 => Some(1e-300 * i as f64),
                    3 => Some(f64::INFINITY),
                    _ => Some(i as f64 / 7.0),
                })
                .collect();
            let words: Vec<Option<&str>> = (0..rows)
                .map(|i| {
                    [
                        Some("top 1%"),
                        Some("at risk, high value"),
                        Some("say \"hi\""),
                        Some(""),
                        None,
                        Some("a\r\nb"),
                    ][i % 6]
                })
                .collect();
            // Days from before year 0 to after year 9999.
            let days: Vec<i32> = (0..rows as i64)
                .map(|i| ((i * 977) % 4_000_000 - 1_000_000) as i32)
                .collect();
            let flags: Vec<Option<bool>> = (0..rows).map(|i| [Some(true), Some(false), None][i % 3]).collect();
            let small: Vec<i32> = (0..rows as i32).map(|i| i - 20).collect();
            let counts: Vec<u32> = (0..rows as u32).map(|i| i * 3).collect();
            let big: Vec<u64> = (0..rows as u64).map(|i| u64::MAX - i).collect();
            let mut frame = df!(
                "customer_id" => ids, "value" => values, "tier" => words, "day" => days, "flag" => flags,
                "small" => small, "count" => counts, "big" => big
            )
            .unwrap();
            frame
                .with_column(frame.column("day").unwrap().cast(&DataType::Date).unwrap())
                .unwrap();
            assert!(super::super::csv_text::CsvRows::of(&frame).is_some());
            // A type the own writer leaves to Polars: the same bytes too.
            let mut other = frame.clone();
            other
                .with_column(Column::new("ratio".into(), vec![0.1f32; rows]))
                .unwrap();
            assert!(super::super::csv_text::CsvRows::of(&other).is_none());
            for (name, frame) in [("own", &mut frame), ("polars", &mut other)] {
                let path = dir.join(format!("rounds-{rows}-{name}.csv"));
                write_table(frame, &path).unwrap();
                let mut expected = Vec::new();
                CsvWriter::new(&mut expected)
                    .include_header(true)
                    .finish(frame)
                    .unwrap();
                assert_eq!(std::fs::read(&path).unwrap(), expected, "{rows} rows, {name}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
