//! `--interval`, `--draws`, `--interval-seed`: the options of intervals from parameter
//! uncertainty, and how their totals are printed.

use clap::Args;

use crate::error::{ClvError, Result};
use crate::forecast::interval_column_names;
use crate::forecast::intervals::{AggregateIntervals, IntervalOptions, TotalInterval};

/// Intervals from parameter uncertainty.
#[derive(Debug, Args)]
pub struct IntervalArgs {
    /// Add an interval of this probability to every forecast and to the totals (0.9: columns
    /// p_alive_q05 and p_alive_q95, …, clv_q05 and clv_q95), from the fitted parameters'
    /// uncertainty: where the forecast for the average customer with this history lies, given
    /// how well the data pin the parameters down. It is not the range of one customer's own
    /// future purchases, which vary far more (BG/NBD, Pareto/NBD, MBG/NBD, NBD)
    #[arg(long, value_name = "LEVEL")]
    pub interval: Option<f64>,
    /// Parameter vectors drawn for --interval, from each fit's normal approximation in its log
    /// scale with the full covariance (purchase and spend models independently)
    #[arg(long, default_value_t = 200, requires = "interval")]
    pub draws: usize,
    /// Seed of those draws: the same seed gives the same intervals
    #[arg(long, default_value_t = 1, requires = "interval")]
    pub interval_seed: u64,
}

impl IntervalArgs {
    /// The interval asked for, checked.
    pub fn options(&self) -> Result<Option<IntervalOptions>> {
        let Some(level) = self.interval else {
            return Ok(None);
        };
        let options = IntervalOptions {
            level,
            draws: self.draws,
            seed: self.interval_seed,
        };
        options.validate()?;
        Ok(Some(options))
    }

    /// Refuses --interval where intervals are not built yet.
    pub fn refuse(&self, model: &str) -> Result<()> {
        match self.interval {
            Some(_) => Err(ClvError::InvalidArgument(format!(
                "--interval is built for the continuous-time purchase models; {model} forecasts have no intervals yet"
            ))),
            None => Ok(()),
        }
    }
}

/// Prints the totals' intervals.
pub(crate) fn echo_total_intervals(totals: &AggregateIntervals) {
    let show = |t: &TotalInterval, decimals: usize| {
        format!("{:.decimals$} [{:.decimals$}, {:.decimals$}]", t.estimate, t.lo, t.hi)
    };
    let mut line = format!(
        "Totals with their {}% interval from parameter uncertainty ({} draws): expected purchases {}",
        100.0 * totals.level,
        totals.draws,
        show(&totals.expected_purchases, 1)
    );
    if let Some(clv) = &totals.clv {
        line.push_str(&format!(", CLV {}", show(clv, 2)));
    }
    say!("{line}");
    match totals.predictive_intervals {
        true => {
            let (lo, hi) = interval_column_names(totals.level, crate::forecast::intervals::PURCHASES);
            say!(
                "Each customer's own purchases over the horizon: {lo} to {hi}, their {}% predictive interval (her \
                 future is random even with known parameters)",
                100.0 * totals.level
            );
        }
        false => eprintln!("note: a limiting model has no predictive distribution here: no purchases_q columns"),
    }
    if totals.failed_evaluations > 0 {
        eprintln!(
            "note: {} forecasts did not converge at a drawn parameter vector and were left out of their quantiles",
            totals.failed_evaluations
        );
    }
}
