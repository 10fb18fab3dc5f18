//! Scoring a partitioned RFM table (`clv predict DIR --model-file M -o OUT`): a directory of
//! Parquet or CSV partitions — hive-style (`country=FR/part-0.parquet`) or any layout — scored one
//! partition at a time, so memory holds one partition, into the same layout under the output
//! directory (the partition keys stay in the paths). Each output is written whole or not at all
//! and a partition already written is skipped, so a run stopped midway finishes on the next; and
//! `shard` (i of n) takes every n-th partition, so any scheduler can spread the job over machines.

use std::path::{Path, PathBuf};

use crate::data::io::{write_table, TableFormat};
use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::decisions::value_at_stake;
use crate::error::{ClvError, Result};
use crate::forecast::intervals::{add_parameter_intervals_by_group, DrawnModels, IntervalOptions};
use crate::forecast::{forecast, ForecastColumn, ForecastOptions};
use crate::model_file::FittedModels;

/// Which part of the partitions one process scores: those whose index in path order is `index`
/// modulo `count` (`--shard 0/4`, `1/4`, ... on four machines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `i/n`, 0 ≤ i < n.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let bad = || format!("'{text}' is not a shard i/n with 0 ≤ i < n (e.g. 0/4)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        match index < count {
            true => Ok(Shard { index, count }),
            false => Err(bad()),
        }
    }
}

/// What a run over partitions did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionsScored {
    /// Partitions in the input directory, and of those, this shard's.
    pub partitions: usize,
    pub in_shard: usize,
    /// This shard's partitions scored now, and those skipped because their output was there.
    pub scored: usize,
    pub skipped: usize,
    /// Customers scored now.
    pub customers: usize,
}

/// The table files under `dir` (Parquet or CSV, hidden and `_`-prefixed files such as Spark's
/// `_SUCCESS` aside), as paths relative to it, in path order.
pub fn list_partitions(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let io = |source| ClvError::Io {
            path: current.clone(),
            source,
        };
        for entry in std::fs::read_dir(&current).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if TableFormat::from_path(&path).is_ok() {
                found.push(path.strip_prefix(dir).unwrap_or(&path).to_path_buf());
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(ClvError::BadFile {
            path: dir.to_path_buf(),
            message: "holds no .parquet or .csv partition".into(),
        });
    }
    Ok(found)
}

/// Scores this shard's partitions of `input` with `models` into `output`, partition by
/// partition; with `interval`, every forecast gets its interval from parameter draws made once
/// from `interval.seed`, the same in every partition and every shard, so each customer's bounds
/// are those of the whole table scored at once.
pub fn score_partitions(
    models: &FittedModels,
    (input, output): (&Path, &Path),
    options: &ForecastOptions,
    time_unit: Option<TimeUnit>,
    shard: Shard,
    interval: Option<&IntervalOptions>,
) -> Result<PartitionsScored> {
    let drawn = interval
        .map(|i| Ok::<_, ClvError>((i, DrawnModels::normal(models, i, models.gamma_gamma.is_some())?)))
        .transpose()?;
    let partitions = list_partitions(input)?;
    let mut done = PartitionsScored {
        partitions: partitions.len(),
        ..Default::default()
    };
    for (k, relative) in partitions.iter().enumerate() {
        if k % shard.count != shard.index {
            continue;
        }
        done.in_shard += 1;
        let target = output.join(relative);
        if target.exists() {
            done.skipped += 1;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ClvError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let rfm = RfmTable::read(&input.join(relative), time_unit)?;
        let customers = rfm.len();
        let mut forecasts = forecast(models, &rfm, options)?;
        if let Some((interval, drawn)) = &drawn {
            add_parameter_intervals_by_group(models, &rfm, options, interval, drawn, &mut forecasts, &[])?;
        }
        if let Some(values) = value_at_stake(&forecasts) {
            // A forecast column like the others: no CLV (NaN) is written empty, as clv is.
            forecasts.push(ForecastColumn::new("value_at_stake", values))?;
        }
        write_table(&mut forecasts.into_frame(rfm)?, &target)?;
        done.scored += 1;
        done.customers += customers;
    }
    Ok(done)
}
