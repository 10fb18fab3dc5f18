//! The `clv` command line: one file per subcommand, each an argument struct and a `run`.

/// Prints a line on standard output, as `println!`, but a closed pipe (`clv run … | head -2`)
/// only stops the printing: the command's files are still written and it still exits 0.
macro_rules! say {
    () => {
        $crate::cli::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// As `say!`, without the newline (`print!`).
macro_rules! say_part {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

pub mod discrete;
pub mod evaluate;
pub mod fit;
pub mod intervals;
pub mod predict;
pub mod report;
pub mod retention;
pub mod run;
pub mod simulate;
pub mod sql;
pub mod summarize;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::data::transactions::{LogSpec, NegativeAmounts, Transactions};
use crate::data::TimeUnit;
use crate::decisions::DecisionOptions;
use crate::error::{ClvError, Result};
use crate::forecast::{monthly_rate, ClvMethod, ForecastOptions};
use crate::registry::{PurchaseModelKind, PURCHASE_MODELS};

/// Customer-lifetime value from a transaction log: BG/NBD, Pareto/NBD, MBG/NBD or NBD purchases,
/// Gamma-Gamma spend.
#[derive(Debug, Parser)]
#[command(
    name = "clv",
    version,
    about,
    long_about = None,
    after_help = "Start with `clv run LOG`: it summarizes a transaction log (customer_id, date, amount; CSV or \
Parquet), fits the models, prints them with the top customers, and writes per-customer predictions and a \
value report beside the log.\n\nExamples:\n  clv run orders.csv --margin 0.3 --annual-discount-rate 0.10\n  \
clv run export.parquet --customer-col user_id --date-col order_date --amount-col revenue\n  \
clv evaluate orders.csv --calibration-end 2024-06-30      (which model forecasts best?)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a recency/frequency/monetary (RFM) table from a transaction log
    Summarize(summarize::SummarizeArgs),
    /// Print the SQL that builds the RFM summary (or the compressed one) in a warehouse: DuckDB,
    /// Spark SQL or BigQuery
    Sql(sql::SqlArgs),
    /// Fit BG/NBD and Gamma-Gamma to an RFM table and write the model as JSON
    Fit(fit::FitArgs),
    /// Forecast churn, purchases, spend and CLV for each customer of an RFM table
    ///
    /// value_at_stake = E[CLV | alive] × (1 − P(alive)): what the customer is worth if she is still
    /// a customer, times the chance that she is not (CLV itself already includes P(alive)).
    Predict(predict::PredictArgs),
    /// Summarize, fit and predict in one go, print the results and write the value report
    ///
    /// value_at_stake = E[CLV | alive] × (1 − P(alive)): what the customer is worth if she is still
    /// a customer, times the chance that she is not (CLV itself already includes P(alive)).
    Run(run::RunArgs),
    /// Fit on a calibration period, check the holdout, compare BG/NBD, Pareto/NBD and MBG/NBD
    Evaluate(evaluate::EvaluateArgs),
    /// Value report from an RFM table and a model: tiers, statuses, concentration, CLV:CAC, cohorts
    ///
    /// value_at_stake = E[CLV | alive] × (1 − P(alive)): what the customer is worth if she is still
    /// a customer, times the chance that she is not (CLV itself already includes P(alive)).
    Report(report::ReportArgs),
    /// Write a log simulated from a model: BG/NBD, Pareto/NBD or BG/BB purchases with Gamma-Gamma
    /// spend, or sBG subscriptions
    Simulate(simulate::SimulateArgs),
    /// Subscriptions: fit the sBG retention model per cohort, project survival and retention,
    /// value the base
    ///
    /// The input is a cohort survival table (period, active[, cohort]) or a subscription log
    /// (customer_id, start, end[, price, cohort]). Each subscriber churns with her own
    /// probability θ per period, θ ~ Beta(gamma, delta) (Fader & Hardie 2007), so a cohort's
    /// retention rate rises with tenure; the value of the base is the discounted expected
    /// residual lifetime (DERL, Fader & Hardie 2010) of those still subscribed, next to the value
    /// a constant retention rate gives.
    Retention(retention::RetentionArgs),
}

/// Runs the parsed command, printing its report on standard output.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Summarize(args) => summarize::run(args),
        Command::Sql(args) => sql::run(args),
        Command::Fit(args) => fit::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Run(args) => run::run(args),
        Command::Report(args) => report::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Retention(args) => retention::run(args),
    }
}

/// Where the columns of a transaction log are and how its dates are written.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Column holding the customer id
    #[arg(long, env = "CLV_CUSTOMER_COL", default_value = "customer_id")]
    pub customer_col: String,
    /// Column holding the purchase date
    #[arg(long, env = "CLV_DATE_COL", default_value = "date")]
    pub date_col: String,
    /// Column holding the purchase amount [default: "amount" if the log has it; without an
    /// amount column there is no monetary value, so no spend model and no CLV]
    #[arg(long, env = "CLV_AMOUNT_COL")]
    pub amount_col: Option<String>,
    /// chrono format of the dates, e.g. %Y%m%d or "%d/%m/%Y %H:%M" [default: ISO date
    /// YYYY-MM-DD, optionally followed by a time, which is ignored; integer columns: %Y%m%d]
    #[arg(long, env = "CLV_DATE_FORMAT")]
    pub date_format: Option<String>,
    /// Field delimiter of a delimited-text log (.csv, .tsv, .txt, …): one character, e.g. ';'
    /// ("tab" for a tab) [default: a tab for .tsv, else a comma, or the ';', tab or '|' the
    /// header shows]
    #[arg(long, env = "CLV_DELIMITER", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Amounts are written with a decimal comma (29,33 or 1.234,56)
    #[arg(long, env = "CLV_DECIMAL_COMMA")]
    pub decimal_comma: bool,
    /// Negative amounts (returns): error = stop and name the row (the default, because a return
    /// changes both the purchase count and the spend and the right treatment depends on the
    /// business); drop = leave those rows out (counted); net = sum them into the customer's
    /// purchases of that day, a day whose net is ≤ 0 then not being a purchase (counted)
    #[arg(long, env = "CLV_NEGATIVE_AMOUNTS", value_enum, default_value_t = NegativeAmounts::Error)]
    pub negative_amounts: NegativeAmounts,
}

fn parse_delimiter(s: &str) -> std::result::Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" => Ok(s.as_bytes()[0]),
        _ => Err(format!(
            "the delimiter must be one ASCII character (or \"tab\"), not '{s}'"
        )),
    }
}

impl LogArgs {
    pub fn spec(&self) -> LogSpec {
        LogSpec {
            customer_col: self.customer_col.clone(),
            date_col: self.date_col.clone(),
            amount_required: self.amount_col.is_some(),
            amount_col: Some(self.amount_col.clone().unwrap_or_else(|| "amount".into())),
            date_format: self.date_format.clone(),
            delimiter: self.delimiter,
            decimal_comma: self.decimal_comma,
            negative_amounts: self.negative_amounts,
        }
    }
}

/// The periods of a summary.
#[derive(Debug, Args)]
pub struct PeriodArgs {
    /// Unit of recency, T and every horizon. Times are measured in days and divided by 1, 7 or
    /// 365.25/12 = 30.4375, so weeks and months are fractional, as in the papers
    #[arg(long, value_enum, default_value_t = TimeUnit::Weeks)]
    pub time_unit: TimeUnit,
    /// Last day observed (YYYY-MM-DD); later purchases are left out and counted [default: the
    /// last date in the log]
    #[arg(long)]
    pub observation_end: Option<NaiveDate>,
    /// Last day of the calibration period (YYYY-MM-DD): the models are fitted on the purchases
    /// up to it, and later ones are the holdout (`summarize` writes them as frequency_holdout,
    /// monetary_value_holdout and duration_holdout columns) [default: no holdout]
    #[arg(long)]
    pub calibration_end: Option<NaiveDate>,
}

/// What to forecast and how to value it.
#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// Horizon of the expected_purchases column, in the data's time unit [default: the CLV's
    /// --clv-months, e.g. 52.18 weeks for 12 months]. It does not change the CLV
    #[arg(long, allow_negative_numbers = true)]
    pub horizon: Option<f64>,
    /// Months of future purchases the clv column sums (a month is 365.25/12 days)
    #[arg(long, default_value_t = 12)]
    pub clv_months: u32,
    /// How the CLV discounts: monthly, --clv-months months of purchases each discounted at its
    /// month's end; or dert, every future purchase over an unlimited horizon discounted
    /// continuously at the same yearly rate (Fader, Hardie & Lee's DERT; --clv-months does not
    /// apply). The monthly sum over a long horizon approaches DERT from below
    #[arg(long, value_enum, default_value_t = ClvMethod::Monthly)]
    pub clv_method: ClvMethod,
    #[command(flatten)]
    pub discount: DiscountArgs,
    /// Fraction of spend kept as profit in the CLV, in (0, 1], e.g. 0.3 for 30% (1 = revenue-based CLV)
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub margin: f64,
    /// Cost to serve one order (currency), subtracted from each expected purchase's profit in the CLV
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub cost_per_order: f64,
    #[command(flatten)]
    pub interval: intervals::IntervalArgs,
}

/// The discount rate, monthly or yearly (one of them).
#[derive(Debug, Args)]
pub struct DiscountArgs {
    /// Discount rate per month; month m's purchases are divided by (1 + rate)^m
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub discount_rate: f64,
    /// Discount rate per year instead, e.g. 0.10 for 10% (used as the monthly rate
    /// (1 + rate)^(1/12) − 1)
    #[arg(long, conflicts_with = "discount_rate", allow_negative_numbers = true)]
    pub annual_discount_rate: Option<f64>,
}

impl DiscountArgs {
    /// The monthly rate given or implied; a negative yearly rate is an error (a monthly one is
    /// checked with the other forecast settings).
    pub fn monthly(&self) -> Result<f64> {
        match self.annual_discount_rate {
            Some(annual) if !(annual.is_finite() && annual >= 0.0) => Err(ClvError::InvalidArgument(format!(
                "the annual discount rate must be ≥ 0 (e.g. 0.10 for 10%), not {annual}"
            ))),
            Some(annual) => Ok(monthly_rate(annual)),
            None => Ok(self.discount_rate),
        }
    }
}

impl ForecastArgs {
    /// The forecast settings, checked: what cannot be meant is an error.
    pub fn options(&self, unit: TimeUnit) -> Result<ForecastOptions> {
        let monthly_discount_rate = self.discount.monthly()?;
        let options = ForecastOptions {
            horizon: self.horizon.unwrap_or(self.clv_months as f64 * unit.per_month()),
            clv_months: self.clv_months,
            monthly_discount_rate,
            margin: self.margin,
            cost_per_order: self.cost_per_order,
            clv_method: self.clv_method,
        };
        options.validate()?;
        Ok(options)
    }
}

/// What a long command is doing, on standard error when it is a terminal: one line, rewritten at
/// each step and cleared when the step ends, so it never mixes with the report or reaches a file
/// or a pipe (nothing is shown when standard error is not a terminal, or with CLV_NO_PROGRESS set).
pub(crate) struct Progress {
    shown: bool,
}

/// A step being shown; the line is cleared when it is dropped.
pub(crate) struct Step<'a>(&'a Progress);

impl Progress {
    pub(crate) fn new() -> Self {
        use std::io::IsTerminal as _;
        Self {
            shown: std::io::stderr().is_terminal() && std::env::var_os("CLV_NO_PROGRESS").is_none(),
        }
    }

    /// Shows `what` until the returned step is dropped.
    pub(crate) fn step(&self, what: &str) -> Step<'_> {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{what}…");
            let _ = err.flush();
        }
        Step(self)
    }
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        if self.0.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// Says, on standard error, which delimiter a log was read with when it was read from its header.
pub(crate) fn note_sniffed_delimiter(log: &Transactions) {
    if let Some(d) = log.sniffed_delimiter {
        let shown = if d == b'\t' {
            "tab".to_string()
        } else {
            format!("'{}'", d as char)
        };
        eprintln!(
            "note: {} read with the delimiter its header shows, {shown}",
            log.path.display()
        );
    }
}

/// Says, on standard error, that a log read without amounts gives no CLV, and names the flag
/// with the columns that look like money.
pub(crate) fn note_missing_amounts(log: &Transactions, args: &LogArgs) {
    if log.has_amount {
        return;
    }
    let hint = match log.money_like_columns.as_slice() {
        [] => "name its amount column with --amount-col".to_string(),
        [one] => format!("column '{one}' looks like money: add --amount-col {one}"),
        many => format!(
            "columns {} look like money: add --amount-col with the one holding each purchase's amount",
            many.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ")
        ),
    };
    eprintln!(
        "note: {} has no amount column ('{}'), and CLV needs one: without amounts there is no spend model, \
         no CLV and no value report; {hint}",
        log.path.display(),
        args.amount_col.as_deref().unwrap_or("amount")
    );
}

/// Prints the forecast settings (every money setting and both horizons) and warns, on standard
/// error, of unusual ones.
pub(crate) fn echo_forecast_settings(options: &ForecastOptions, unit: TimeUnit) {
    for note in options.unusual() {
        eprintln!("warning: {note}");
    }
    say!("{}", options.describe(unit));
}

/// `stem_suffix` beside `input` (e.g. `log_predictions.csv` for `log.csv`).
pub(crate) fn sibling_path(input: &Path, suffix: &str) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "clv".into());
    input.with_file_name(format!("{stem}_{suffix}"))
}

/// How customers are tiered and labelled (see the README's "Decisions" section).
#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// Value tiers as percentages of customers ranked by CLV, most valuable first; they must add
    /// up to 100. Named "top 1%", "next 9%", ..., "bottom 50%"
    #[arg(long, value_delimiter = ',', default_value = "1,9,40,50")]
    pub tiers: Vec<f64>,
    /// Status "new": first purchase at most this many days before the end of the period
    #[arg(long, default_value_t = 30.0)]
    pub new_within_days: f64,
    /// Status "lapsed": P(alive) below this
    #[arg(long, default_value_t = 0.1)]
    pub lapsed_below: f64,
    /// Status "at risk" / "at risk high value": P(alive) below this (and not lapsed)
    #[arg(long, default_value_t = 0.5)]
    pub at_risk_below: f64,
    /// "High value" = the top this-percent of customers: by CLV for "active high value", by
    /// historical repeat revenue (frequency × monetary_value) for "at risk high value"
    #[arg(long, default_value_t = 10.0)]
    pub high_value_top: f64,
    /// Cost to acquire a customer (currency): adds CLV:CAC overall and per tier, and the
    /// break-even acquisition cost
    #[arg(long)]
    pub cac: Option<f64>,
}

impl DecisionArgs {
    pub fn options(&self) -> DecisionOptions {
        DecisionOptions {
            tiers: self.tiers.clone(),
            new_within_days: self.new_within_days,
            lapsed_below: self.lapsed_below,
            at_risk_below: self.at_risk_below,
            high_value_top_percent: self.high_value_top,
        }
    }
}

/// Set once standard output refused a write (a reader that closed the pipe): nothing more is printed.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; once a write fails (the reader has gone, as `head` does after its
/// lines), the rest of the output is dropped quietly, as ripgrep and xsv do: a closed pipe is not
/// an error of the run, whose files are written all the same.
pub(crate) fn write_stdout(text: std::fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(text).and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// `--model`: a purchase model's name (a fitted model file goes in `--model-file`, and a path
/// given to `--model` is refused with that tip).
pub(crate) fn model_name_parser() -> ModelNameParser {
    ModelNameParser
}

#[derive(Clone)]
pub(crate) struct ModelNameParser;

impl clap::builder::TypedValueParser for ModelNameParser {
    type Value = PurchaseModelKind;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<PurchaseModelKind, clap::Error> {
        use clap::error::{ContextKind, ContextValue};
        clap::builder::EnumValueParser::<PurchaseModelKind>::new()
            .parse_ref(cmd, arg, value)
            .map_err(|mut error| {
                let text = value.to_string_lossy();
                if std::path::Path::new(value).exists() || text.ends_with(".json") {
                    error.insert(
                        ContextKind::Suggested,
                        ContextValue::StyledStrs(vec![format!(
                            "--model takes a model's name; a fitted model file goes in --model-file {text}"
                        )
                        .into()]),
                    );
                }
                error
            })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            PURCHASE_MODELS.iter().filter_map(clap::ValueEnum::to_possible_value),
        ))
    }
}

/// `clv run --model`: a registered purchase model of (x, t_x, T) summaries, or BG/BB, the model
/// of discrete opportunities (with `--period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunModel {
    Continuous(PurchaseModelKind),
    BgBb,
}

impl std::fmt::Display for RunModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Continuous(kind) => kind.fmt(f),
            Self::BgBb => f.write_str(BG_BB_NAME),
        }
    }
}

/// BG/BB's name on the command line.
pub(crate) const BG_BB_NAME: &str = "bg-bb";

/// Parses `clv run --model`: the registry's names (with `ModelNameParser`'s tip for a path), or bg-bb.
#[derive(Clone)]
pub(crate) struct RunModelParser;

impl clap::builder::TypedValueParser for RunModelParser {
    type Value = RunModel;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<RunModel, clap::Error> {
        if value == BG_BB_NAME {
            return Ok(RunModel::BgBb);
        }
        let parsed = ModelNameParser.parse_ref(cmd, arg, value).map(RunModel::Continuous);
        parsed.map_err(|_| {
            let mut error = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            use clap::error::{ContextKind, ContextValue};
            error.insert(ContextKind::InvalidArg, ContextValue::String("--model <MODEL>".into()));
            error.insert(
                ContextKind::InvalidValue,
                ContextValue::String(value.to_string_lossy().into()),
            );
            error.insert(
                ContextKind::ValidValue,
                ContextValue::Strings(
                    self.possible_values()
                        .into_iter()
                        .flatten()
                        .map(|v| v.get_name().to_string())
                        .collect(),
                ),
            );
            error
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            PURCHASE_MODELS
                .iter()
                .filter_map(clap::ValueEnum::to_possible_value)
                .chain([clap::builder::PossibleValue::new(BG_BB_NAME)
                    .help("BG/BB (Fader, Hardie & Shang 2010): discrete opportunities, one per --period")]),
        ))
    }
}

/// `--model`'s choices and their help, from the model registry.
impl clap::ValueEnum for PurchaseModelKind {
    fn value_variants<'a>() -> &'a [Self] {
        &PURCHASE_MODELS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.key).help(format!("{} ({})", self.label, self.source)))
    }
}
