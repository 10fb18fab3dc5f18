//! `clv predict RFM --model MODEL.json -o PREDICTIONS`

use std::path::PathBuf;

use clap::Args;

use super::{DecisionArgs, ForecastArgs};
use crate::data::io::{refuse_output_onto_input, write_table, TableFormat};
use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::decisions::decide;
use crate::error::Result;
use crate::fitting::fit_models_using;
use crate::forecast::{forecast, CLV};
use crate::mle::FitOptions;
use crate::model_file::FittedModels;
use crate::registry::PurchaseModelKind;
use crate::report::{fit_report, spend_tail_note};

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// RFM table from `clv summarize` (CSV or Parquet)
    pub rfm: PathBuf,
    /// A model file from `clv fit`, or the name of a purchase model (as `clv fit --model`) to fit
    /// on this table, with Gamma-Gamma, before predicting
    #[arg(long)]
    pub model: PathBuf,
    /// Penalty of the fit when --model names a model (see `clv fit --help`)
    #[arg(long, default_value_t = 0.0)]
    pub penalizer: f64,
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
    let options = FitOptions::default().with_penalizer(args.penalizer)?;
    TableFormat::from_path(&args.output)?;
    refuse_output_onto_input(&args.output, &[&args.rfm, &args.model])?;
    let named = args
        .model
        .to_str()
        .and_then(PurchaseModelKind::named)
        .filter(|_| !args.model.exists());
    let (models, rfm) = match named {
        Some(kind) => {
            let rfm = RfmTable::read(&args.rfm, args.time_unit)?;
            let models = fit_models_using(&rfm, kind, &options)?;
            say_part!("{}", fit_report(&models));
            (models, rfm)
        }
        None => (
            FittedModels::read(&args.model)?,
            RfmTable::read(&args.rfm, args.time_unit)?,
        ),
    };
    let options = args.forecast.options(rfm.time_unit)?;
    let forecasts = forecast(&models, &rfm, &options)?;
    let mut decisions = None;
    if forecasts.column(CLV).is_none() {
        eprintln!("note: no spend model or no monetary_value column: no expected_avg_spend, clv or decision columns");
    } else if forecasts.unvalued() > 0 {
        eprintln!(
            "note: {} customers have no CLV (see below), so there are no decision columns",
            forecasts.unvalued()
        );
    } else {
        decisions = Some(decide(&rfm, &forecasts, &args.decisions.options())?);
    }
    if let Some(note) = spend_tail_note(&models, &rfm, &forecasts) {
        say!("{note}");
    }
    let (customers, rfm_unit) = (rfm.len(), rfm.time_unit);
    let mut frame = forecasts.into_frame(rfm)?;
    if let Some(decisions) = decisions {
        decisions.add_columns(&mut frame)?;
    }
    write_table(&mut frame, &args.output)?;
    super::echo_forecast_settings(&options, rfm_unit);
    say!("wrote {customers} predictions to {}", args.output.display());
    Ok(())
}
