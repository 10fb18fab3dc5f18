//! `clv run LOG --model bg-bb --period P`: discrete opportunities. Summarises the log per calendar
//! period, fits BG/BB (and Gamma-Gamma where there are amounts), forecasts each customer, prints
//! the fit and the top customers, and writes the predictions and the value report.

use super::predict::PredictArgs;
use super::run::RunArgs;
use super::sibling_path;
use super::ForecastArgs;
use crate::data::discrete::{summarize_discrete, DiscreteSummary, DiscreteSummaryOptions};
use crate::data::io::{write_table, write_text};
use crate::data::period::Period;
use crate::data::summary::CustomerSummary as _;
use crate::data::transactions::Transactions;
use crate::data::TimeUnit;
use crate::decisions::decide;
use crate::error::{ClvError, Result};
use crate::fitting::{fit_bg_bb, fit_spend_to, refit_discrete};
use crate::forecast::discrete::{forecast_discrete, periods_in_months};
use crate::forecast::intervals::{add_discrete_intervals, AggregateIntervals, DiscreteDraws, IntervalOptions};
use crate::forecast::Forecasts;
use crate::forecast::{annual_rate, ForecastOptions, CLV};
use crate::mle::FitOptions;
use crate::model_file::BgBbModels;
use crate::model_file::{GammaGammaFit, ModelFit};
use crate::models::bg_bb::BgBb;
use crate::report::{bg_bb_report, top_customers};

pub fn run_bg_bb(args: RunArgs) -> Result<()> {
    let period = opportunity(args.opportunity)?;
    let interval = args.forecast.interval.options()?;
    let fit_options = FitOptions::default().with_penalizer(args.penalizer)?;
    let output = super::run::checked_outputs(&args)?;
    let (options, clv_periods) = opportunity_options(&args.forecast, period)?;
    let progress = super::Progress::new();
    let reading = progress.step(&format!("reading {}", args.log.display()));
    let log = Transactions::load(&args.log, &args.log_args.spec())?;
    drop(reading);
    super::note_sniffed_delimiter(&log);
    super::note_missing_amounts(&log, &args.log_args);
    let summary = summarize_discrete(
        &log,
        &DiscreteSummaryOptions {
            period,
            observation_end: args.period.observation_end,
            calibration_end: args.period.calibration_end,
        },
    )?;
    drop(log);
    let histories = summary.histories()?;
    say!(
        "{} customers; one opportunity per {period}, {} opportunities after the first purchase at most",
        summary.len(),
        summary.periods.iter().max().copied().unwrap_or(0)
    );
    let fitting = progress.step("fitting BG/BB and Gamma-Gamma");
    let frequency: Vec<f64> = summary.frequency.iter().map(|&x| f64::from(x)).collect();
    let (purchase, spend) = rayon::join(
        || fit_bg_bb(&histories, &fit_options),
        || fit_spend_to(&frequency, summary.monetary_value.as_deref(), None, &fit_options),
    );
    let (purchase, (gamma_gamma, skipped)) = (purchase?, spend?);
    drop(fitting);
    say!();
    say_part!(
        "{}",
        bg_bb_report(&purchase, period, gamma_gamma.as_ref(), skipped.as_deref())
    );
    if let Some(path) = &args.model_output {
        write_text(
            path,
            &BgBbModels::new(period, purchase.clone(), gamma_gamma.clone()).to_json()?,
        )?;
    }
    let forecasting = progress.step("forecasting each customer");
    let spend_params = gamma_gamma.as_ref().map(|g| &g.fit.params);
    let mut forecasts = forecast_discrete(&purchase.params, spend_params, &summary, &options)?;
    drop(forecasting);
    let totals = intervals_of(
        &progress,
        &args.forecast,
        interval.as_ref(),
        (&purchase, gamma_gamma.as_ref(), &fit_options),
        &summary,
        &options,
        &mut forecasts,
    )?;
    say!();
    say_part!("{}", top_customers(&summary, &forecasts, args.top));
    say!("{}", settings(&options, clv_periods, period));
    if let Some(totals) = &totals {
        super::intervals::echo_total_intervals(totals);
    }
    say!();
    let decisions = match forecasts.column(CLV) {
        Some(_) if forecasts.unvalued() == 0 => Some(decide(&summary, &forecasts, &args.decisions.options())?),
        _ => None,
    };
    if let Some(decisions) = &decisions {
        let dir = args
            .report_dir
            .clone()
            .unwrap_or_else(|| sibling_path(&args.log, "report"));
        super::report::print_and_write(
            &summary,
            &forecasts,
            decisions,
            super::report::ValueExtras {
                cac: args.decisions.cac,
                ..Default::default()
            },
            &dir,
            args.at_risk,
            &format!("CLV: {} months of transactions, BG/BB", options.clv_months),
        )?;
    } else {
        say!("no value report: tiers, statuses and CLV:CAC need CLV, and so amounts and a spend model");
    }
    let customers = summary.len();
    let mut frame = forecasts.into_frame(summary)?;
    if let Some(decisions) = decisions {
        decisions.add_columns(&mut frame)?;
    }
    write_table(&mut frame, &output)?;
    say!("wrote {customers} predictions to {}", output.display());
    Ok(())
}

/// With `interval`, adds the intervals of BG/BB's forecasts (`add_discrete_intervals`) at
/// models drawn from the fits' normal approximation or (--bootstrap) refitted to resamples of
/// `summary`'s customers with `fit_options`, showing progress; their totals.
fn intervals_of(
    progress: &super::Progress,
    forecast: &ForecastArgs,
    interval: Option<&IntervalOptions>,
    (purchase, gamma_gamma, fit_options): (&ModelFit<BgBb>, Option<&GammaGammaFit>, &FitOptions),
    summary: &DiscreteSummary,
    options: &ForecastOptions,
    forecasts: &mut Forecasts,
) -> Result<Option<AggregateIntervals>> {
    let Some(interval) = interval else {
        return Ok(None);
    };
    let _drawing = progress.step(&forecast.interval.progress_label(interval));
    let with_spend = gamma_gamma.is_some() && summary.monetary_value.is_some() && forecasts.column(CLV).is_some();
    let drawn = match forecast.interval.bootstrap {
        Some(_) => DiscreteDraws::bootstrap(summary.len(), interval, with_spend, |rows| {
            refit_discrete(summary, rows, with_spend, fit_options)
        })?,
        None => {
            super::intervals::note_unidentified("BG/BB", &purchase.warnings);
            DiscreteDraws::normal(purchase, gamma_gamma, with_spend, interval)?
        }
    };
    add_discrete_intervals(purchase, &drawn, summary, options, interval, forecasts).map(Some)
}

/// The forecast settings of BG/BB, whose horizon and CLV count opportunities: 12 months are 12
/// monthly opportunities, 4 quarterly or 1 yearly. Also the opportunities the CLV counts.
fn opportunity_options(forecast: &ForecastArgs, period: Period) -> Result<(ForecastOptions, u32)> {
    let mut options = forecast.options(TimeUnit::Months)?;
    let clv_periods = periods_in_months(f64::from(options.clv_months), period);
    options.horizon = forecast.horizon.unwrap_or(f64::from(clv_periods));
    Ok((options, clv_periods))
}

/// The settings a BG/BB forecast used, in one line.
fn settings(options: &ForecastOptions, clv_periods: u32, period: Period) -> String {
    let per_period = (1.0 + options.monthly_discount_rate).powf(period.months()) - 1.0;
    let periods = |k: f64| match k == 1.0 {
        true => format!("1 {period}"),
        false => format!("{k} {period}s"),
    };
    format!(
        "CLV: {} months = {} of transactions, discounted at {:.4}% per {period} ({:.2}% a year), margin {}% of \
         spend; expected_purchases over {}",
        options.clv_months,
        periods(f64::from(clv_periods)),
        100.0 * per_period,
        100.0 * annual_rate(options.monthly_discount_rate),
        100.0 * options.margin,
        periods(options.horizon)
    )
}

/// `clv predict SUMMARY --model-file BG_BB.json`: forecasts each customer of a discrete summary
/// (`clv summarize LOG --period P`) with a stored BG/BB fit, and adds the decision columns.
pub fn predict_bg_bb(args: &PredictArgs, models: BgBbModels) -> Result<()> {
    let period = models.period;
    let interval = args.forecast.interval.options()?;
    // A bootstrap refits as the stored fit was made: with its penalizer.
    let fit_options = FitOptions::default().with_penalizer(models.purchase.penalizer)?;
    let (options, clv_periods) = opportunity_options(&args.forecast, period)?;
    let progress = super::Progress::new();
    let reading = progress.step(&format!("reading {}", args.rfm.display()));
    let summary = DiscreteSummary::read(&args.rfm, period)?;
    drop(reading);
    let forecasting = progress.step("forecasting each customer");
    let spend = models.gamma_gamma.as_ref().map(|g| &g.fit.params);
    let mut forecasts = forecast_discrete(&models.purchase.params, spend, &summary, &options)?;
    drop(forecasting);
    let totals = intervals_of(
        &progress,
        &args.forecast,
        interval.as_ref(),
        (&models.purchase, models.gamma_gamma.as_ref(), &fit_options),
        &summary,
        &options,
        &mut forecasts,
    )?;
    let decisions = match forecasts.column(CLV) {
        Some(_) if forecasts.unvalued() == 0 => Some(decide(&summary, &forecasts, &args.decisions.options())?),
        _ => {
            eprintln!("note: no spend model or no monetary_value column: no clv or decision columns");
            None
        }
    };
    let customers = summary.len();
    let mut frame = forecasts.into_frame(summary)?;
    if let Some(decisions) = decisions {
        decisions.add_columns(&mut frame)?;
    }
    write_table(&mut frame, &args.output)?;
    say!("{}", settings(&options, clv_periods, period));
    if let Some(totals) = &totals {
        super::intervals::echo_total_intervals(totals);
    }
    say!("wrote {customers} predictions to {}", args.output.display());
    Ok(())
}

/// BG/BB's opportunity, which it cannot do without.
pub(super) fn opportunity(period: Option<Period>) -> Result<Period> {
    period.ok_or_else(|| {
        ClvError::InvalidArgument(
            "BG/BB counts opportunities to buy: give the opportunity's period, --period day, week, month, quarter or \
             year (a yearly drive: year)"
                .into(),
        )
    })
}
