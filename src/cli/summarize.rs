//! `clv summarize LOG -o RFM`

use std::path::PathBuf;

use clap::Args;

use super::{LogArgs, PeriodArgs};
use crate::data::discrete::{summarize_discrete, DiscreteSummaryOptions};
use crate::data::io::{refuse_output_onto_input, write_table, TableFormat};
use crate::data::period::Period;
use crate::data::rfm::{summarize, SummaryOptions};
use crate::data::summary::CustomerSummary as _;
use crate::data::transactions::Transactions;
use crate::error::Result;
use crate::report::summary_report;

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    /// Transaction log, CSV or Parquet (by extension): one row per purchase
    pub log: PathBuf,
    /// Where to write the RFM table (.csv or .parquet)
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub log_args: LogArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Summarise per calendar period for BG/BB instead (each period one opportunity: frequency,
    /// recency and periods count opportunities, as `clv predict` reads them with a BG/BB model
    /// file); --time-unit does not apply
    #[arg(long = "period", value_name = "PERIOD", value_enum)]
    pub opportunity: Option<Period>,
}

pub fn run(args: SummarizeArgs) -> Result<()> {
    TableFormat::from_path(&args.output)?;
    refuse_output_onto_input(&args.output, &[&args.log])?;
    let log = Transactions::load(&args.log, &args.log_args.spec())?;
    super::note_sniffed_delimiter(&log);
    super::note_missing_amounts(&log, &args.log_args);
    if let Some(period) = args.opportunity {
        let summary = summarize_discrete(
            &log,
            &DiscreteSummaryOptions {
                period,
                observation_end: args.period.observation_end,
                calibration_end: args.period.calibration_end,
            },
        )?;
        let customers = summary.len();
        write_table(&mut summary.to_frame()?, &args.output)?;
        say!(
            "{customers} customers; one opportunity per {period}; wrote {}",
            args.output.display()
        );
        return Ok(());
    }
    let mut summary = summarize(
        &log,
        &SummaryOptions {
            time_unit: args.period.time_unit,
            observation_end: args.period.observation_end,
            calibration_end: args.period.calibration_end,
        },
    )?;
    write_table(&mut summary.frame, &args.output)?;
    say_part!("{}", summary_report(&summary));
    say!("wrote {}", args.output.display());
    Ok(())
}
