//! `clv run LOG`: summarize, fit and predict in one go.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::{sibling_path, DecisionArgs, ForecastArgs, LogArgs, PeriodArgs};
use crate::data::io::{refuse_output_onto_input, write_table, write_text, TableFormat};
use crate::data::period::Period;
use crate::data::rfm::{summarize, RfmTable, SummaryOptions};
use crate::data::transactions::Transactions;
use crate::decisions::{decide, report_groupings, Grouping};
use crate::error::ClvError;
use crate::error::Result;
use crate::fitting::fit_models_using;
use crate::forecast::intervals::add_parameter_intervals_by_group;
use crate::forecast::new_customer::new_customer_by_cohort;
use crate::forecast::{forecast, CLV};
use crate::mle::FitOptions;
use crate::registry::BG_NBD;
use crate::report::{fit_report, spend_tail_note, summary_report, top_customers};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Transaction log, CSV or Parquet (by extension): one row per purchase
    pub log: PathBuf,
    /// Where to write the predictions (.csv or .parquet) [default: LOG's folder,
    /// LOG_predictions.parquet for a Parquet log, else LOG_predictions.csv]
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write the fitted model (JSON) here, for `clv predict --model-file` or `clv report`
    /// (with --model bg-bb: a BG/BB model file, which `clv predict` reads with a summary from
    /// `clv summarize --period`)
    #[arg(long)]
    pub model_output: Option<PathBuf>,
    /// Folder for the value report (tables and figure) [default: LOG's folder, LOG_report]
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// How many of the most valuable customers to print (all of them are in the predictions)
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// How many at-risk high-value customers to print (all of them are in the report's files)
    #[arg(long, default_value_t = 10)]
    pub at_risk: usize,
    /// Penalty λ on the log-parameters: λ·Σ ln²(p/c) is added to the mean negative log-likelihood,
    /// c = 1 for shapes and the data's own scale (mean T, mean spend) for parameters in time or
    /// money units, so it pulls the same in days or weeks, cents or dollars. A fit that reaches a
    /// limit needs no penalty (the limiting model is reported); use it to shrink on purpose
    #[arg(long, default_value_t = 0.0)]
    pub penalizer: f64,
    /// Purchase model (compare them with `clv evaluate`)
    #[arg(long, value_parser = super::RunModelParser, default_value_t = super::RunModel::Continuous(BG_NBD))]
    pub model: super::RunModel,
    /// The opportunity of a discrete-time model (--model bg-bb): each calendar period is one
    /// chance to buy, taken or not (a yearly drive, a weekly slot)
    #[arg(long = "period", value_name = "PERIOD", value_enum)]
    pub opportunity: Option<Period>,
    /// Print the wall-clock time of each step (read, summarize, fit, forecast, report, write)
    /// on standard error
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub log_args: LogArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub forecast: ForecastArgs,
    #[command(flatten)]
    pub decisions: DecisionArgs,
}

pub fn run(args: RunArgs) -> Result<()> {
    let model = match args.model {
        super::RunModel::BgBb => return super::discrete::run_bg_bb(args),
        super::RunModel::Continuous(kind) => kind,
    };
    if let Some(period) = args.opportunity {
        return Err(ClvError::InvalidArgument(format!(
            "--period {period} is the opportunity of a discrete-time model: use it with --model bg-bb ({} is a \
             continuous-time model, measured in --time-unit)",
            model.cli_name()
        )));
    }
    let options = FitOptions::default().with_penalizer(args.penalizer)?;
    let started = Instant::now();
    let mut step_started = started;
    let mut timing = |step: &str| {
        if args.timings {
            let now = Instant::now();
            eprintln!("timing: {step:<10} {:>8.3} s", (now - step_started).as_secs_f64());
            step_started = now;
        }
    };
    let output = checked_outputs(&args)?;
    // Money settings that cannot be meant are refused before any work (the summary is in
    // --time-unit, so these are the settings the forecast uses).
    let forecast_options = args.forecast.options(args.period.time_unit)?;
    let interval = args.forecast.interval.options()?;
    let progress = super::Progress::new();
    let reading = progress.step(&format!("reading {}", args.log.display()));
    let log = Transactions::load(&args.log, &args.log_args.spec())?;
    drop(reading);
    super::note_sniffed_delimiter(&log);
    super::note_missing_amounts(&log, &args.log_args);
    timing("read");
    let summarizing = progress.step("summarizing the log");
    let summary = summarize(
        &log,
        &SummaryOptions {
            time_unit: args.period.time_unit,
            observation_end: args.period.observation_end,
            calibration_end: args.period.calibration_end,
        },
    )?;
    drop(summarizing);
    timing("summarize");
    // Each table is dropped once the next is built: at 10M customers they are gigabytes.
    drop(log);
    say_part!("{}", summary_report(&summary));
    let rfm = summary.rfm_table(&args.log)?;
    drop(summary);
    let fitting = progress.step(&format!("fitting {} and Gamma-Gamma", model.label()));
    let models = fit_models_using(&rfm, model, &options)?;
    drop(fitting);
    timing("fit");
    say!();
    say_part!("{}", fit_report(&models));
    if let Some(path) = &args.model_output {
        write_text(path, &models.to_json()?)?;
    }
    let forecasting = progress.step("forecasting each customer");
    let mut forecasts = forecast(&models, &rfm, &forecast_options)?;
    drop(forecasting);
    // Decisions read the forecasts at the estimates; the intervals then bound the totals of the
    // groups they make (tiers, statuses, cohorts).
    let decisions = match forecasts.column(CLV) {
        Some(_) if forecasts.unvalued() == 0 => Some(decide(&rfm, &forecasts, &args.decisions.options())?),
        _ => None,
    };
    let groupings = match &decisions {
        Some(decisions) => report_groupings(&rfm, decisions),
        None => Vec::new(),
    };
    let totals = match &interval {
        Some(interval) => {
            let drawing = progress.step(&args.forecast.interval.progress_label(interval));
            let groups: Vec<_> = groupings.iter().map(Grouping::customer_groups).collect();
            let fit = |resample: &RfmTable| fit_models_using(resample, model, &options);
            let with_spend = forecasts.column(CLV).is_some();
            let drawn = args
                .forecast
                .interval
                .drawn_models(&models, &rfm, &fit, interval, with_spend)?;
            let totals = add_parameter_intervals_by_group(
                &models,
                &rfm,
                &forecast_options,
                interval,
                &drawn,
                &mut forecasts,
                &groups,
            )?;
            drop(drawing);
            Some(totals)
        }
        None => None,
    };
    timing("forecast");
    say!();
    say_part!("{}", top_customers(&rfm, &forecasts, args.top));
    super::echo_forecast_settings(&forecast_options, rfm.time_unit);
    if let Some(totals) = &totals {
        super::intervals::echo_total_intervals(totals);
    }
    if let Some(note) = spend_tail_note(&models, &rfm, &forecasts) {
        say!("{note}");
    }
    say!();
    if let Some(decisions) = &decisions {
        let dir = args
            .report_dir
            .clone()
            .unwrap_or_else(|| sibling_path(&args.log, "report"));
        let settings = forecast_options.describe(rfm.time_unit);
        // With a CAC, a new customer is also valued per acquisition cohort (the third grouping,
        // after tiers and statuses), each cohort fitted alone.
        let new_customer_by_cohort = match (args.decisions.cac, groupings.get(2)) {
            (Some(_), Some(cohorts)) => {
                let valuing = progress.step("valuing a new customer per acquisition cohort");
                let fit = |cohort: &RfmTable| fit_models_using(cohort, model, &options);
                let by_cohort = new_customer_by_cohort(
                    &rfm,
                    &cohorts.names,
                    &cohorts.of_customer,
                    &fit,
                    &forecast_options,
                    interval.as_ref(),
                );
                drop(valuing);
                by_cohort
            }
            _ => Vec::new(),
        };
        super::report::print_and_write(
            &rfm,
            &forecasts,
            decisions,
            super::report::ValueExtras {
                cac: args.decisions.cac,
                new_customer: super::report::new_customer(&models, &forecast_options, rfm.time_unit, totals.as_ref()),
                new_customer_by_cohort,
                intervals: totals.as_ref().map(|t| (groupings.as_slice(), t)),
            },
            &dir,
            args.at_risk,
            &settings,
        )?;
    } else if forecasts.unvalued() > 0 {
        say!(
            "no value report: tiers, statuses and CLV:CAC need a CLV for every customer, and {} have none",
            forecasts.unvalued()
        );
    } else {
        say!("no value report: tiers, statuses and CLV:CAC need CLV, and so a spend model");
    }
    timing("report");
    // The report is done with the tables: they move into the predictions table, not copied.
    let customers = rfm.len();
    let mut frame = forecasts.into_frame(rfm)?;
    if let Some(decisions) = decisions {
        decisions.add_columns(&mut frame)?;
    }
    let writing = progress.step(&format!("writing {}", output.display()));
    write_table(&mut frame, &output)?;
    drop(writing);
    drop(frame);
    timing("write");
    say!("wrote {customers} predictions to {}", output.display());
    if args.timings {
        eprintln!("timing: {:<10} {:>8.3} s", "total", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The predictions' path (given, or beside the log), checked with the model file's before any
/// work: a known format, and neither of them the log itself.
pub(crate) fn checked_outputs(args: &RunArgs) -> Result<PathBuf> {
    // Parquet in, Parquet out: a log kept as Parquet is read by tools that read Parquet, and
    // writing it is several times faster than CSV at millions of customers.
    let default_name = match TableFormat::from_path(&args.log) {
        Ok(TableFormat::Parquet) => "predictions.parquet",
        _ => "predictions.csv",
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| sibling_path(&args.log, default_name));
    TableFormat::from_path(&output)?;
    refuse_output_onto_input(&output, &[&args.log])?;
    if let Some(model_output) = &args.model_output {
        refuse_output_onto_input(model_output, &[&args.log])?;
    }
    Ok(output)
}
