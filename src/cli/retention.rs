//! `clv retention INPUT`: subscriptions. Fits the sBG retention model per cohort to a cohort
//! survival table or a subscription log, projects survival and retention next to the actual,
//! values the base with and without heterogeneity and, for a log, forecasts each subscriber.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::sibling_path;
use crate::data::contractual::{
    read_survival_counts, summarize_subscriptions, survival_histories, ContractualOptions, ContractualSummary,
    SubscriptionSpec, Subscriptions,
};
use crate::data::io::{column_names, refuse_output_onto_input, scan_table, write_table, TableFormat};
use crate::data::period::Period;
use crate::decisions::{decide, report_groupings, Grouping};
use crate::error::{ClvError, Result};
use crate::fitting::{fit_cohort_sbg, fit_retention, CohortFit};
use crate::forecast::interval_column_names;
use crate::forecast::intervals::{
    add_subscriber_intervals, cohort_intervals, retention_draws, retention_refits, AggregateIntervals, CohortModels,
    IntervalOptions, RENEWALS,
};
use crate::forecast::retention::{forecast_subscribers, project, residual_payments, RetentionOptions};
use crate::forecast::CLV;
use crate::forecast::{annual_rate, ClvMethod, ForecastOptions};
use crate::mle::FitOptions;
use crate::models::histories::SurvivalHistories;
use crate::models::sbg::Retention;
use crate::report::{retention_report_text, write_retention_report, BaseValue, CohortReport};

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// A cohort survival table (columns period, active, optional cohort: subscribers still
    /// active after 0, 1, 2, … periods) or a subscription log (one row per subscription: customer,
    /// start date, end date empty while active, optional price per period and cohort or plan)
    pub input: PathBuf,
    /// The renewal period: a subscription log's periods run from each start date by calendar
    /// anniversaries; for a survival table, the length of its periods (for discounting)
    #[arg(long, value_enum, default_value_t = Period::Month)]
    pub period: Period,
    /// Fit on periods 1..=K only: a subscription seen longer counts as still active after K, and
    /// the later periods are a holdout, shown next to the projection with the error of each
    /// model [default: every period observed]
    #[arg(long)]
    pub calibration_periods: Option<u32>,
    /// Periods projected beyond the last one observed, and the horizon of expected_renewals
    #[arg(long, default_value_t = 5)]
    pub horizon: u32,
    // Converted to the renewal period: (1 + monthly rate)^months − 1.
    #[command(flatten)]
    pub discount: super::DiscountArgs,
    /// Fraction of the price kept as profit, in (0, 1]
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub margin: f64,
    /// Price per period of a survival table's subscribers, to value the base in money [default:
    /// values in payments]
    #[arg(long)]
    pub price: Option<f64>,
    /// Where to write each subscriber's forecast (a subscription log only; .csv or .parquet)
    /// [default: INPUT's folder, INPUT_retention.csv]
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Folder for retention_projection.csv, retention_fits.json and the survival and
    /// retention-rate figures; created if missing [default: INPUT's folder, INPUT_retention_report]
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Last day observed, for a subscription log (YYYY-MM-DD) [default: its latest date]
    #[arg(long)]
    pub observation_end: Option<NaiveDate>,
    /// Subscription log: column of the customer id
    #[arg(long, env = "CLV_CUSTOMER_COL", default_value = "customer_id")]
    pub customer_col: String,
    /// Subscription log: column of the start date
    #[arg(long, default_value = "start")]
    pub start_col: String,
    /// Subscription log: column of the end date (the first day without service; empty while active)
    #[arg(long, default_value = "end")]
    pub end_col: String,
    /// Subscription log: column of the price per period [default: "price" if the log has it]
    #[arg(long)]
    pub price_col: Option<String>,
    /// Subscription log: column of the cohort or plan, each fitted on its own [default: "cohort"
    /// if the log has it]
    #[arg(long)]
    pub cohort_col: Option<String>,
    /// Subscription log: chrono format of the dates [default: ISO YYYY-MM-DD]
    #[arg(long, env = "CLV_DATE_FORMAT")]
    pub date_format: Option<String>,
    /// How many at-risk high-value subscribers to print (a subscription log with prices)
    #[arg(long, default_value_t = 10)]
    pub at_risk: usize,
    #[command(flatten)]
    pub decisions: super::DecisionArgs,
    #[command(flatten)]
    pub interval: super::intervals::IntervalArgs,
}

/// The settings, checked: (per-period discount rate, retention options, their description).
fn settings(args: &RetentionArgs) -> Result<(RetentionOptions, String)> {
    // An interval's level and draws are checked before anything is read or fitted.
    args.interval.options()?;
    let monthly = args.discount.monthly()?;
    ForecastOptions {
        horizon: f64::from(args.horizon.max(1)),
        clv_months: 1,
        monthly_discount_rate: monthly,
        margin: args.margin,
        cost_per_order: 0.0,
        clv_method: ClvMethod::Monthly,
    }
    .validate()?;
    let per_period = (1.0 + monthly).powf(args.period.months()) - 1.0;
    if per_period < 1e-4 {
        return Err(ClvError::InvalidArgument(format!(
            "the value of the base needs a discount rate of at least 0.01% per {}: without discounting, the \
             expected remaining lifetime of sBG subscribers is infinite when gamma ≤ 1",
            args.period
        )));
    }
    let rate = |r: f64| {
        let shown = format!("{:.4}", 100.0 * r);
        shown.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    let per = match args.period {
        Period::Year => String::new(),
        period => format!("{}% per {period}, ", rate(per_period)),
    };
    let description = format!(
        "discounted at {per}{}% a year, margin {}% of the price",
        rate(annual_rate(monthly)),
        rate(args.margin)
    );
    Ok((
        RetentionOptions {
            horizon: args.horizon,
            discount_per_period: per_period,
            margin: args.margin,
        },
        description,
    ))
}

pub fn run(args: RetentionArgs) -> Result<()> {
    let (options, described) = settings(&args)?;
    let fit_options = FitOptions::default();
    let mut lf = scan_table(&args.input)?;
    let columns = column_names(&mut lf, &args.input)?;
    let is_table = is_survival_table(&columns);
    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| sibling_path(&args.input, "retention_report"));
    let progress = super::Progress::new();
    if is_table {
        if args.output.is_some() {
            return Err(ClvError::InvalidArgument(
                "-o writes each subscriber's forecast, and a survival table has no subscribers: give a subscription log, \
                 or leave -o out (the projection goes to --report-dir)"
                    .into(),
            ));
        }
        let reading = progress.step(&format!("reading {}", args.input.display()));
        let counts = read_survival_counts(&args.input)?;
        drop(reading);
        let observed = counts.iter().map(|c| c.active.len() - 1).max().unwrap_or(0) as u32;
        let k = args.calibration_periods.unwrap_or(observed);
        let fitted = survival_histories(&args.input, counts.iter().map(|c| c.truncated(k as usize)).collect())?;
        let all = survival_histories(&args.input, counts)?;
        say!(
            "{}: survival table, {} cohort{}, periods 0–{observed}, fitted on 1–{k}",
            args.input.display(),
            all.cohorts().len(),
            if all.cohorts().len() == 1 { "" } else { "s" }
        );
        let fitting = progress.step("fitting sBG per cohort");
        let fits = fit_retention(&fitted, &fit_options)?;
        drop(fitting);
        let drawn = cohort_draws(&fits, &fitted, &args, &fit_options, &progress)?;
        let value_per_payment = args.price.map(|p| p * args.margin);
        let cohorts = fits
            .into_iter()
            .enumerate()
            .map(|(c, fit)| {
                let c = c as u32;
                // Everyone active after K periods has made K renewals.
                let active = fitted.active_after(c, k).unwrap_or(0.0);
                let groups = [(k, active * value_per_payment.unwrap_or(1.0))];
                cohort_report(
                    fit,
                    &all,
                    c,
                    k,
                    observed,
                    active,
                    &groups,
                    value_per_payment.is_some(),
                    &options,
                    drawn_of(&drawn, c),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        print_and_write(&cohorts, &args, &described, &report_dir)
    } else {
        log_cohorts(
            &args,
            &columns,
            &options,
            &described,
            &fit_options,
            &progress,
            &report_dir,
        )
    }
}

/// Prints the retention report and writes its files into `report_dir`.
fn print_and_write(
    cohorts: &[CohortReport],
    args: &RetentionArgs,
    described: &str,
    report_dir: &std::path::Path,
) -> Result<()> {
    say!();
    say_part!("{}", retention_report_text(cohorts, args.period.name(), described));
    let written = write_retention_report(report_dir, cohorts, args.period.name())?;
    say!(
        "wrote the retention report ({} files) to {}",
        written.len(),
        report_dir.display()
    );
    Ok(())
}

/// A subscription log: summarised, fitted per cohort, each subscriber forecast and written.
fn log_cohorts(
    args: &RetentionArgs,
    columns: &[String],
    options: &RetentionOptions,
    described: &str,
    fit_options: &FitOptions,
    progress: &super::Progress,
    report_dir: &std::path::Path,
) -> Result<()> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| sibling_path(&args.input, "retention.csv"));
    TableFormat::from_path(&output)?;
    refuse_output_onto_input(&output, &[&args.input])?;
    let default_named = |flag: &Option<String>, name: &str| {
        flag.clone()
            .or_else(|| columns.iter().any(|c| c == name).then(|| name.to_string()))
    };
    let spec = SubscriptionSpec {
        customer_col: args.customer_col.clone(),
        start_col: args.start_col.clone(),
        end_col: args.end_col.clone(),
        price_col: default_named(&args.price_col, "price"),
        cohort_col: default_named(&args.cohort_col, "cohort"),
        date_format: args.date_format.clone(),
        delimiter: b',',
    };
    let reading = progress.step(&format!("reading {}", args.input.display()));
    let log = Subscriptions::load(&args.input, &spec)?;
    let summary = summarize_subscriptions(
        &log,
        &ContractualOptions {
            period: args.period,
            observation_end: args.observation_end,
        },
    )?;
    drop(reading);
    let histories = summary.histories()?;
    let observed = summary.duration.iter().copied().max().unwrap_or(0);
    let k = args.calibration_periods.unwrap_or(observed).min(observed);
    let fitted = match k < observed {
        true => histories.censored_at(k),
        false => histories.clone(),
    };
    say!(
        "{}: {} subscriptions, {} still active, {} cohort{} ({}); renewal period: {}",
        args.input.display(),
        summary.duration.len(),
        summary.churned.iter().filter(|&&c| !c).count(),
        histories.cohorts().len(),
        if histories.cohorts().len() == 1 { "" } else { "s" },
        histories.cohorts().join(", "),
        args.period
    );
    if summary.started_after_observation_end > 0 {
        say!(
            "left out: {} subscriptions starting after the observation end",
            summary.started_after_observation_end
        );
    }
    if k < observed {
        say!("fitted on tenures 1–{k} {}s; later ones are a holdout", args.period);
    }
    let fitting = progress.step("fitting sBG per cohort");
    let fits = fit_retention(&fitted, fit_options)?;
    drop(fitting);
    let drawn = cohort_draws(&fits, &fitted, args, fit_options, progress)?;
    let models: Vec<Retention> = fits.iter().map(|f| f.sbg.params).collect();
    let mut forecasts = forecast_subscribers(&summary, histories.cohorts(), &models, options)?;
    let reports = fits
        .into_iter()
        .enumerate()
        .map(|(c, fit)| {
            let groups = active_groups(&summary, histories.cohorts(), c, args.margin);
            let active = (0..summary.duration.len())
                .filter(|&i| !summary.churned[i] && cohort_index(&summary, histories.cohorts(), i) == Some(c))
                .count() as f64;
            cohort_report(
                fit,
                &histories,
                c as u32,
                k,
                observed,
                active,
                &groups,
                summary.price.is_some(),
                options,
                drawn_of(&drawn, c as u32),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    print_and_write(&reports, args, described, report_dir)?;
    // With prices, each subscriber's value: tiers, statuses and value at stake, as for purchases.
    let decisions = match forecasts.column(CLV) {
        Some(_) => Some(decide(&summary, &forecasts, &args.decisions.options())?),
        None => None,
    };
    // The decisions read the forecasts at the estimates; the intervals then bound the totals of
    // their groups, the membership fixed.
    let groupings: Vec<Grouping> = decisions
        .as_ref()
        .map(|d| report_groupings(&summary, d))
        .unwrap_or_default();
    let totals = match &drawn {
        Some((interval, drawn)) => {
            let groups: Vec<_> = groupings.iter().map(Grouping::customer_groups).collect();
            let totals = add_subscriber_intervals(
                &summary,
                (histories.cohorts(), &models, drawn),
                options,
                interval,
                &mut forecasts,
                &groups,
            )?;
            say!();
            echo_subscriber_intervals(&totals, args.horizon, args.period);
            Some(totals)
        }
        None => None,
    };
    if let Some(decisions) = &decisions {
        say!();
        super::report::print_and_write(
            &summary,
            &forecasts,
            decisions,
            super::report::ValueExtras {
                cac: args.decisions.cac,
                intervals: totals.as_ref().map(|t| (groupings.as_slice(), t)),
                ..Default::default()
            },
            report_dir,
            args.at_risk,
            &format!("residual CLV: margin × price × DERL, {}", args.period),
        )?;
    }
    let subscribers = summary.duration.len();
    let mut frame = forecasts.into_frame(summary)?;
    if let Some(decisions) = decisions {
        decisions.add_columns(&mut frame)?;
    }
    write_table(&mut frame, &output)?;
    say!("wrote {subscribers} subscriber forecasts to {}", output.display());
    Ok(())
}

/// Each cohort's sBG models for `--interval`: drawn from its fit's normal approximation, or
/// (`--bootstrap`) refitted to resamples of its subscribers in `fitted`, the histories fitted.
fn cohort_draws(
    fits: &[CohortFit],
    fitted: &SurvivalHistories,
    args: &RetentionArgs,
    fit_options: &FitOptions,
    progress: &super::Progress,
) -> Result<Option<(IntervalOptions, Vec<CohortModels>)>> {
    let Some(interval) = args.interval.options()? else {
        return Ok(None);
    };
    let _drawing = progress.step(&args.interval.progress_label(&interval));
    let drawn = fits
        .iter()
        .enumerate()
        .map(|(c, fit)| {
            let c = c as u32;
            match args.interval.bootstrap {
                Some(_) => retention_refits(fitted, c, &interval, |resample| {
                    Ok(fit_cohort_sbg(resample, c, fit_options)?.params)
                }),
                None => {
                    let label = format!("sBG, cohort '{}'", fit.cohort);
                    super::intervals::note_unidentified(&label, &fit.sbg.warnings);
                    retention_draws(&fit.sbg, (c, &fit.cohort), &interval)
                }
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((interval, drawn)))
}

/// Cohort `c`'s drawn models, with the interval asked for.
fn drawn_of(drawn: &Option<(IntervalOptions, Vec<CohortModels>)>, c: u32) -> Option<(&IntervalOptions, &CohortModels)> {
    drawn
        .as_ref()
        .and_then(|(interval, models)| Some((interval, models.get(c as usize)?)))
}

/// Prints the subscribers' totals with their intervals, and what the predictive columns hold.
fn echo_subscriber_intervals(totals: &AggregateIntervals, horizon: u32, period: Period) {
    let show = super::intervals::shown_total;
    let mut line = format!(
        "Subscribers' totals with their {}% interval from parameter uncertainty ({}): expected renewals in \
         the next {horizon} {period}s {}",
        100.0 * totals.level,
        totals.method.describe(totals.draws),
        show(&totals.expected_purchases, 1)
    );
    if let Some(clv) = &totals.clv {
        line.push_str(&format!(", residual CLV {}", show(clv, 2)));
    }
    say!("{line}");
    let (lo, hi) = interval_column_names(totals.level, RENEWALS);
    say!(
        "Each subscriber's own renewals over those {horizon} {period}s: {lo} to {hi}, their {}% predictive interval \
         (whether she renews is random even with known parameters)",
        100.0 * totals.level
    );
    super::intervals::note_left_out(totals, "DERL series did not converge");
}

fn cohort_index(summary: &ContractualSummary, cohorts: &[String], i: usize) -> Option<usize> {
    let name = summary.cohort_name(i);
    cohorts.iter().position(|c| c == name)
}

/// Cohort `c`'s active subscribers grouped by renewals made: (renewals, Σ margin × price, or
/// the count without prices).
fn active_groups(summary: &ContractualSummary, cohorts: &[String], c: usize, margin: f64) -> Vec<(u32, f64)> {
    let mut groups: Vec<(u32, f64)> = Vec::new();
    for i in (0..summary.duration.len()).filter(|&i| !summary.churned[i]) {
        if cohort_index(summary, cohorts, i) != Some(c) {
            continue;
        }
        let weight = summary.price.as_ref().map_or(1.0, |p| margin * p[i]);
        match groups.iter_mut().find(|g| g.0 == summary.duration[i]) {
            Some(g) => g.1 += weight,
            None => groups.push((summary.duration[i], weight)),
        }
    }
    groups
}

/// One cohort's projection to `observed` + horizon periods and the value of its base: `groups`
/// are its active subscribers as (renewals made, weight in value per payment).
#[allow(clippy::too_many_arguments)]
fn cohort_report(
    fit: CohortFit,
    histories: &SurvivalHistories,
    cohort: u32,
    calibration_periods: u32,
    observed: u32,
    active: f64,
    groups: &[(u32, f64)],
    in_money: bool,
    options: &RetentionOptions,
    drawn: Option<(&IntervalOptions, &CohortModels)>,
) -> Result<CohortReport> {
    let (sbg, constant) = (fit.sbg.params, fit.constant.params);
    let last = observed.max(calibration_periods) + options.horizon;
    let projection = project(&sbg, histories, cohort, last);
    let constant_survival = (0..=last).map(|t| constant.survival(f64::from(t))).collect();
    let d = options.discount_per_period;
    let value_by = |model: &Retention| -> Result<f64> {
        groups
            .iter()
            .map(|&(renewals, weight)| residual_payments(model, renewals, weight, d))
            .sum()
    };
    let per_new = |model: &Retention| {
        model
            .discounted_expected_lifetime(d)
            .map(|del| del * groups_unit(groups, active))
            .unwrap_or(f64::NAN)
    };
    let value = BaseValue {
        active,
        sbg: value_by(&sbg)?,
        constant: value_by(&constant)?,
        new_subscriber_sbg: per_new(&sbg),
        new_subscriber_constant: per_new(&constant),
        in_money,
    };
    let intervals = drawn.map(|(interval, models)| {
        cohort_intervals(
            models,
            last,
            (groups, groups_unit(groups, active), d),
            (value.sbg, value.new_subscriber_sbg),
            interval,
        )
    });
    Ok(CohortReport {
        intervals,
        subscribers: histories.active_after(cohort, 0).unwrap_or(0.0),
        fit,
        calibration_periods,
        projection,
        constant_survival,
        value,
    })
}

/// The mean value of one payment among the active subscribers (1 without prices).
fn groups_unit(groups: &[(u32, f64)], active: f64) -> f64 {
    match active > 0.0 {
        true => groups.iter().map(|g| g.1).sum::<f64>() / active,
        false => 1.0,
    }
}

/// `clv evaluate --model sbg`: what `clv retention --calibration-periods K` reports, with the
/// evaluation's inputs; a subscription log's forecasts go into the report folder.
pub struct RetentionEvaluation {
    pub input: PathBuf,
    pub period: Period,
    pub calibration_periods: u32,
    pub observation_end: Option<NaiveDate>,
    pub customer_col: String,
    pub date_format: Option<String>,
    pub report_dir: PathBuf,
    pub interval: super::intervals::IntervalArgs,
}

pub fn evaluate(e: RetentionEvaluation) -> Result<()> {
    let is_log = !is_survival_table(&column_names(&mut scan_table(&e.input)?, &e.input)?);
    run(RetentionArgs {
        output: is_log.then(|| e.report_dir.join("subscriber_forecasts.csv")),
        input: e.input,
        period: e.period,
        calibration_periods: Some(e.calibration_periods),
        horizon: 5,
        discount: defaults()?,
        margin: 1.0,
        price: None,
        report_dir: Some(e.report_dir),
        observation_end: e.observation_end,
        customer_col: e.customer_col,
        start_col: "start".into(),
        end_col: "end".into(),
        price_col: None,
        cohort_col: None,
        date_format: e.date_format,
        at_risk: 10,
        decisions: defaults()?,
        interval: e.interval,
    })
}

/// A survival table has period and active columns; anything else is read as a subscription log.
fn is_survival_table(columns: &[String]) -> bool {
    columns.iter().any(|c| c == "period") && columns.iter().any(|c| c == "active")
}

/// A group of options at the defaults its `--help` states.
fn defaults<T: clap::Args + clap::FromArgMatches>() -> Result<T> {
    let command = T::augment_args(clap::Command::new("clv"));
    let matches = command
        .try_get_matches_from(["clv"])
        .map_err(|e| ClvError::InvalidArgument(e.to_string()))?;
    T::from_arg_matches(&matches).map_err(|e| ClvError::InvalidArgument(e.to_string()))
}
