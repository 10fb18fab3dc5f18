//! `clv predict RFM --model MODEL.json -o PREDICTIONS`

use std::path::PathBuf;

use clap::Args;

use super::{DecisionArgs, ForecastArgs};
use crate::data::io::{write_table, TableFormat};
use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::decisions::decide;
use crate::error::Result;
use crate::model_file::FittedModels;
use crate::predict::forecast;

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// RFM table from `clv summarize` (CSV or Parquet)
    pub rfm: PathBuf,
    /// Fitted model from `clv fit`
    #[arg(long)]
    pub model: PathBuf,
    /// Where to write the predictions (.csv or .parquet), one row per customer
    #[arg(short, long)]
    pub output: PathBuf,
    /// Time unit of recency and T, for a table without a time_unit column
    #[arg(long, value_enum)]
    pub time_unit: Option<TimeUnit>,
    #[command(flatten)]
    pub forecast: ForecastArgs,
    #[command(flatten)]
    pub decisions: DecisionArgs,
}

pub fn run(args: PredictArgs) -> Result<()> {
    TableFormat::from_path(&args.output)?;
    let models = FittedModels::read(&args.model)?;
    let rfm = RfmTable::read(&args.rfm, args.time_unit)?;
    let options = args.forecast.options(rfm.time_unit);
    let forecasts = forecast(&models, &rfm, &options)?;
    let mut frame = forecasts.to_frame(&rfm)?;
    if forecasts.clv.is_none() {
        eprintln!(
            "note: no usable spend model or no monetary_value column: no expected_avg_spend, clv or decision columns"
        );
    } else {
        decide(&rfm, &forecasts, &args.decisions.options())?.add_columns(&mut frame)?;
    }
    write_table(&mut frame, &args.output)?;
    println!("wrote {} predictions to {}", rfm.len(), args.output.display());
    Ok(())
}
