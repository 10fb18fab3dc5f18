//! `clv predict RFM --model-file MODEL.json -o PREDICTIONS` (or `--model NAME`: fit, then predict)

use std::path::PathBuf;

use clap::Args;

use super::{DecisionArgs, ForecastArgs};
use crate::data::io::{refuse_output_onto_input, write_table, TableFormat};
use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::decisions::decide;
use crate::error::{ClvError, Result};
use crate::fitting::fit_models_using;
use crate::forecast::intervals::add_parameter_intervals_by_group;
use crate::forecast::{forecast, CLV};
use crate::mle::FitOptions;
use crate::model_file::ModelFile;
use crate::registry::PurchaseModelKind;
use crate::report::{fit_report, spend_tail_note};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("models").required(true).args(["model_file", "model"])))]
pub struct PredictArgs {
    /// RFM table from `clv summarize` (CSV or Parquet); for a BG/BB model file, the discrete
    /// summary of `clv summarize --period P`
    pub rfm: PathBuf,
    /// Fitted model file from `clv fit` (or `clv run --model-output`, BG/BB's too)
    #[arg(long)]
    pub model_file: Option<PathBuf>,
    /// Or: the purchase model to fit on this table first (with Gamma-Gamma for spend), as in
    /// `clv fit --model`
    #[arg(long, value_parser = super::model_name_parser())]
    pub model: Option<PurchaseModelKind>,
    /// Penalty of the fit when --model names a model (see `clv fit --help`)
    #[arg(long, default_value_t = 0.0, requires = "model")]
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
    let mut inputs = vec![args.rfm.as_path()];
    inputs.extend(args.model_file.as_deref());
    refuse_output_onto_input(&args.output, &inputs)?;
    // A model file is read first: it is small, and a wrong one should not wait for a large table.
    let from_file = match args.model_file.as_deref().map(ModelFile::read).transpose()? {
        Some(ModelFile::BgBb(models)) => return super::discrete::predict_bg_bb(&args, models),
        Some(ModelFile::Purchase(models)) => Some(models),
        None => None,
    };
    let progress = super::Progress::new();
    let reading = progress.step(&format!("reading {}", args.rfm.display()));
    let rfm = RfmTable::read(&args.rfm, args.time_unit)?;
    drop(reading);
    let models = match (from_file, args.model) {
        (Some(models), _) => models,
        (None, Some(kind)) => {
            let fitting = progress.step(&format!("fitting {} and Gamma-Gamma", kind.label()));
            let models = fit_models_using(&rfm, kind, &options)?;
            drop(fitting);
            say_part!("{}", fit_report(&models));
            models
        }
        (None, None) => {
            return Err(ClvError::InvalidArgument(
                "give --model-file FILE or --model NAME".into(),
            ))
        }
    };
    let options = args.forecast.options(rfm.time_unit)?;
    let interval = args.forecast.interval.options()?;
    let forecasting = progress.step("forecasting each customer");
    let mut forecasts = forecast(&models, &rfm, &options)?;
    drop(forecasting);
    let totals = match &interval {
        Some(interval) => {
            let drawing = progress.step(&args.forecast.interval.progress_label(interval));
            // A bootstrap refits as the stored fit was made: its model and penalizer.
            let (kind, penalizer) = (models.purchase.kind(), models.purchase.erased().penalizer);
            let fit_options = FitOptions::default().with_penalizer(penalizer)?;
            let fit = |resample: &RfmTable| fit_models_using(resample, kind, &fit_options);
            let with_spend = forecasts.column(CLV).is_some();
            let drawn = args
                .forecast
                .interval
                .drawn_models(&models, &rfm, &fit, interval, with_spend)?;
            let totals =
                add_parameter_intervals_by_group(&models, &rfm, &options, interval, &drawn, &mut forecasts, &[])?;
            drop(drawing);
            Some(totals)
        }
        None => None,
    };
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
    let writing = progress.step(&format!("writing {}", args.output.display()));
    write_table(&mut frame, &args.output)?;
    drop(writing);
    super::echo_forecast_settings(&options, rfm_unit);
    if let Some(totals) = &totals {
        super::intervals::echo_total_intervals(totals);
    }
    say!("wrote {customers} predictions to {}", args.output.display());
    Ok(())
}
