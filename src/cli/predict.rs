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
use crate::scoring::{score_partitions, Shard};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("models").required(true).args(["model_file", "model"])))]
pub struct PredictArgs {
    /// RFM table from `clv summarize` (CSV or Parquet); for a BG/BB model file, the discrete
    /// summary of `clv summarize --period P`. Or a directory of RFM partitions (Parquet or CSV,
    /// hive-style country=FR/part-0.parquet or any layout): each is scored alone, with
    /// --model-file, into the same path under the --output directory; partitions already written
    /// there are skipped, so a rerun finishes a stopped job. The ranked columns (value_tier,
    /// clv_percentile, status) compare each customer with all others and are left out
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
    /// Where to write the predictions (.csv or .parquet), one row per customer; for a directory
    /// of partitions, the directory of their predictions
    #[arg(short, long)]
    pub output: PathBuf,
    /// With a directory of partitions: score only shard I of N (the partitions whose index in
    /// path order is I modulo N), e.g. 0/4 … 3/4 on four machines
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Time unit of recency and T, for a table without a time_unit column
    #[arg(long, value_enum)]
    pub time_unit: Option<TimeUnit>,
    #[command(flatten)]
    pub forecast: ForecastArgs,
    #[command(flatten)]
    pub decisions: DecisionArgs,
}

pub fn run(args: PredictArgs) -> Result<()> {
    if args.rfm.is_dir() {
        return predict_partitions(&args);
    }
    if args.shard.is_some() {
        return Err(ClvError::InvalidArgument(
            "--shard splits a directory of partitions: give a directory as the RFM table".into(),
        ));
    }
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

/// `clv predict DIR --model-file M -o OUT [--shard I/N]`: the partitions of DIR, one at a time.
fn predict_partitions(args: &PredictArgs) -> Result<()> {
    let refuse = |message: &str| {
        Err(ClvError::InvalidArgument(format!(
            "{message} (the RFM table is a directory of partitions)"
        )))
    };
    let Some(model_file) = args.model_file.as_deref() else {
        return refuse("partitions are scored with a fitted model: give --model-file (fit it with `clv fit`, on a compressed summary for a large table)");
    };
    if args.forecast.interval.bootstrap.is_some() {
        return refuse(
            "--bootstrap refits the models to resamples of a whole table; partitions get their intervals from the \
             normal approximation's draws (--interval with --draws)",
        );
    }
    let interval = args.forecast.interval.options()?;
    let (input, output) = (absolute(&args.rfm), absolute(&args.output));
    if output.starts_with(&input) || input.starts_with(&output) {
        return refuse("--output must be a directory outside the input directory, and not contain it");
    }
    if output.is_file() {
        return refuse("--output must be a directory");
    }
    let models = match ModelFile::read(model_file)? {
        ModelFile::Purchase(models) => models,
        ModelFile::BgBb(_) => return refuse("BG/BB models score one discrete summary at a time"),
    };
    let options = args.forecast.options(models.time_unit)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let progress = super::Progress::new();
    let scoring = progress.step(&format!("scoring the partitions of {}", args.rfm.display()));
    let done = score_partitions(
        &models,
        (&args.rfm, &args.output),
        &options,
        args.time_unit,
        shard,
        interval.as_ref(),
    )?;
    drop(scoring);
    super::echo_forecast_settings(&options, models.time_unit);
    let of_shard = match shard == Shard::ALL {
        true => String::new(),
        false => format!(", shard {}/{}: {} of them", shard.index, shard.count, done.in_shard),
    };
    say!(
        "{} partitions{of_shard}; scored {} ({} customers) into {}; {} already there, skipped",
        done.partitions,
        done.scored,
        done.customers,
        args.output.display(),
        done.skipped
    );
    if let Some(interval) = &interval {
        say!(
            "each forecast with its {}% interval from parameter uncertainty ({} draws, the same in every partition)",
            100.0 * interval.level,
            interval.draws
        );
    }
    Ok(())
}

/// `path` made absolute (not resolved), to compare directories.
fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
