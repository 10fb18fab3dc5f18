//! `clv report RFM --model-file MODEL.json --report-dir DIR`, and the value report `clv run` writes.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{DecisionArgs, ForecastArgs};
use crate::data::rfm::RfmTable;
use crate::data::summary::CustomerSummary;
use crate::data::TimeUnit;
use crate::decisions::{decide, value_report, CustomerDecisions, Grouping};
use crate::error::Result;
use crate::forecast::intervals::AggregateIntervals;
use crate::forecast::new_customer::{new_customer_value, CohortNewCustomer, NewCustomerValue};
use crate::forecast::{forecast, ForecastOptions, Forecasts};
use crate::model_file::FittedModels;
use crate::report::{value_report_text, write_value_report};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// RFM table from `clv summarize` (CSV or Parquet)
    pub rfm: PathBuf,
    /// Fitted model file from `clv fit` (it needs a spend model: the report is about CLV)
    #[arg(long)]
    pub model_file: PathBuf,
    /// Folder for the report's tables (CSV) and figure (PNG, SVG); created if missing
    #[arg(long)]
    pub report_dir: PathBuf,
    /// Time unit of recency and T, for a table without a time_unit column
    #[arg(long, value_enum)]
    pub time_unit: Option<TimeUnit>,
    /// How many at-risk high-value customers to print (all of them are in the report's files)
    #[arg(long, default_value_t = 10)]
    pub at_risk: usize,
    #[command(flatten)]
    pub forecast: ForecastArgs,
    #[command(flatten)]
    pub decisions: DecisionArgs,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let models = FittedModels::read(&args.model_file)?;
    let rfm = RfmTable::read(&args.rfm, args.time_unit)?;
    let options = args.forecast.options(rfm.time_unit)?;
    super::echo_forecast_settings(&options, rfm.time_unit);
    let forecasts = forecast(&models, &rfm, &options)?;
    let decisions = decide(&rfm, &forecasts, &args.decisions.options())?;
    let settings = options.describe(rfm.time_unit);
    print_and_write(
        &rfm,
        &forecasts,
        &decisions,
        ValueExtras {
            cac: args.decisions.cac,
            new_customer: new_customer(&models, &options, rfm.time_unit, None),
            ..ValueExtras::default()
        },
        &args.report_dir,
        args.at_risk,
        &settings,
    )
}

/// What the value report adds to the forecasts and decisions: acquisition economics (with a
/// CAC), a new customer's value overall and per acquisition cohort, the totals' intervals.
#[derive(Default)]
pub(crate) struct ValueExtras<'a> {
    pub cac: Option<f64>,
    pub new_customer: Option<NewCustomerValue>,
    pub new_customer_by_cohort: Vec<CohortNewCustomer>,
    pub intervals: Option<(&'a [Grouping], &'a AggregateIntervals)>,
}

/// Prints the value report and writes its files into `dir`.
pub(crate) fn print_and_write(
    rfm: &dyn CustomerSummary,
    forecasts: &Forecasts,
    decisions: &CustomerDecisions,
    extras: ValueExtras,
    dir: &Path,
    at_risk: usize,
    settings: &str,
) -> Result<()> {
    let mut report = value_report(rfm, forecasts, decisions, extras.cac)?
        .with_new_customer(extras.new_customer)
        .with_new_customer_by_cohort(extras.new_customer_by_cohort);
    if let Some((groupings, intervals)) = extras.intervals {
        report = report.with_intervals(groupings, intervals);
    }
    say_part!("{}", value_report_text(rfm, forecasts, decisions, &report, at_risk));
    let written = write_value_report(dir, rfm, forecasts, decisions, &report, settings)?;
    say!("wrote the value report ({} files) to {}", written.len(), dir.display());
    Ok(())
}

/// A new customer's expected CLV under `models` (with a spend model of finite mean), with the
/// interval of `totals` when intervals were drawn.
pub(crate) fn new_customer(
    models: &FittedModels,
    options: &ForecastOptions,
    unit: TimeUnit,
    totals: Option<&AggregateIntervals>,
) -> Option<NewCustomerValue> {
    let mean_spend = models.gamma_gamma.as_ref()?.mean_spend?;
    let value = new_customer_value(models.purchase.model(), mean_spend, options, unit)?;
    let interval = totals.and_then(|t| t.new_customer.map(|n| (t.level, n.lo, n.hi)));
    Some(NewCustomerValue { interval, ..value })
}
