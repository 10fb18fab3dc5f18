//! `clv summarize LOG -o RFM`

use std::path::PathBuf;

use clap::Args;

use super::{LogArgs, PeriodArgs};
use crate::data::compressed::CompressedSummary;
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
    /// Write the compressed summary instead: one row per distinct (frequency, recency, T) with
    /// its number of `customers`, and one per distinct (frequency, monetary_value), which
    /// `clv fit` fits to the estimates of the full table (what `clv sql --compressed` builds in
    /// a warehouse)
    #[arg(long, conflicts_with = "opportunity")]
    pub compressed: bool,
    /// With --compressed: decimals the mean spends are rounded to before they are counted (2:
    /// cents; rounding makes fewer spend rows and moves Gamma-Gamma's estimates by far less
    /// than their standard errors)
    #[arg(long, default_value_t = 2, requires = "compressed", value_parser = clap::value_parser!(u32).range(0..=12))]
    pub spend_decimals: u32,
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
    say_part!("{}", summary_report(&summary));
    if args.compressed {
        let compressed = CompressedSummary::of_summary(&summary, Some(args.spend_decimals))?;
        write_table(&mut compressed.to_frame()?, &args.output)?;
        say!(
            "compressed: {} distinct histories and {} distinct (frequency, monetary_value) for {} customers",
            compressed.histories.customers.len(),
            compressed.spend.as_ref().map_or(0, |s| s.customers.len()),
            compressed.customers()
        );
    } else {
        write_table(&mut summary.frame, &args.output)?;
    }
    say!("wrote {}", args.output.display());
    Ok(())
}
