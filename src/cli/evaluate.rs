//! `clv evaluate LOG --calibration-end DATE [--model ...|all]`: fit on the calibration period,
//! check against the holdout, compare models; `--model bg-bb --period P` for discrete
//! opportunities.

use std::path::PathBuf;
use std::sync::LazyLock;

use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};

use chrono::NaiveDate;

use super::{sibling_path, LogArgs};
use crate::data::discrete::{summarize_discrete, transactions_by_period, DiscreteSummaryOptions};
use crate::data::period::Period;
use crate::data::rfm::{summarize, SummaryOptions};
use crate::data::transactions::Transactions;
use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::evaluate::{evaluate, evaluate_discrete};
use crate::forecast::intervals::IntervalMethod;
use crate::mle::FitOptions;
use crate::registry::{PurchaseModelKind, PURCHASE_MODELS};
use crate::report::{
    discrete_evaluation_report, evaluation_report, summary_report, write_discrete_evaluation, write_evaluation,
};

/// A purchase model to evaluate, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChoice {
    One(PurchaseModelKind),
    All,
    /// BG/BB, on discrete opportunities (`--period`): evaluated alone.
    BgBb,
    /// sBG, on subscriptions (`--calibration-periods`): evaluated alone.
    Sbg,
}

/// Every registered model, then "all".
static MODEL_CHOICES: LazyLock<Vec<ModelChoice>> = LazyLock::new(|| {
    PURCHASE_MODELS
        .iter()
        .map(|&k| ModelChoice::One(k))
        .chain([ModelChoice::All, ModelChoice::BgBb, ModelChoice::Sbg])
        .collect()
});

impl ValueEnum for ModelChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &MODEL_CHOICES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        match self {
            Self::One(kind) => kind.to_possible_value(),
            Self::All => Some(PossibleValue::new("all").help("every model above")),
            Self::BgBb => Some(PossibleValue::new(super::BG_BB_NAME).help(
                "BG/BB (Fader, Hardie & Shang 2010), one opportunity per --period; evaluated alone, with the \
                 paper's figures",
            )),
            Self::Sbg => Some(PossibleValue::new("sbg").help(
                "sBG retention (Fader & Hardie 2007) of a survival table or subscription log: fitted on tenures \
                 1..=--calibration-periods, projected over the later ones",
            )),
        }
    }
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Transaction log, CSV or Parquet (by extension): one row per purchase
    pub log: PathBuf,
    /// Purchase models to fit and compare (repeat the option or separate with commas)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub model: Vec<ModelChoice>,
    /// Folder for evaluation.json, evaluation.txt, holdout_predictions.csv and the figures (PNG,
    /// SVG); created if missing [default: LOG's folder, LOG_evaluation]
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Penalty λ on the log-parameters (see `clv fit --help`)
    #[arg(long, default_value_t = 0.0)]
    pub penalizer: f64,
    #[command(flatten)]
    pub log_args: LogArgs,
    /// Unit of recency, T and every horizon (see `clv summarize --help`)
    #[arg(long, value_enum, default_value_t = TimeUnit::Weeks)]
    pub time_unit: TimeUnit,
    /// Last day observed (YYYY-MM-DD): the end of the holdout [default: the last date in the log]
    #[arg(long)]
    pub observation_end: Option<NaiveDate>,
    /// Last day of the calibration period (YYYY-MM-DD): the models are fitted on the purchases up
    /// to it and checked on the ones after it
    #[arg(long, required_unless_present = "calibration_periods")]
    pub calibration_end: Option<NaiveDate>,
    /// With --model bg-bb: the opportunity, one calendar period (a yearly drive: year); the
    /// calibration and the holdout count the periods complete by their ends. With --model sbg:
    /// the renewal period [default there: month]
    #[arg(long, value_enum, value_name = "PERIOD")]
    pub period: Option<Period>,
    /// With --model sbg: fit on tenures 1..=K (a subscription seen longer counts as still active
    /// after K) and set the projection beside the actual survival after K, with each model's
    /// error; the same as `clv retention --calibration-periods K`
    #[arg(long, value_name = "K", conflicts_with = "calibration_end")]
    pub calibration_periods: Option<u32>,
    #[command(flatten)]
    pub interval: super::intervals::IntervalArgs,
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    if args.model.contains(&ModelChoice::Sbg) {
        return evaluate_sbg(args);
    }
    let Some(calibration_end) = args.calibration_end else {
        return Err(ClvError::InvalidArgument(
            "--calibration-periods is sBG's holdout (--model sbg); the purchase models need --calibration-end DATE"
                .into(),
        ));
    };
    let options = FitOptions::default().with_penalizer(args.penalizer)?;
    if args.model.contains(&ModelChoice::BgBb) {
        return evaluate_bg_bb(args, calibration_end, options);
    }
    if args.period.is_some() {
        return Err(ClvError::InvalidArgument(
            "--period sets BG/BB's opportunities: use it with --model bg-bb (the other models read time in \
             --time-unit)"
                .into(),
        ));
    }
    let mut kinds: Vec<PurchaseModelKind> = Vec::new();
    for choice in &args.model {
        let add: &[PurchaseModelKind] = match choice {
            ModelChoice::One(kind) => std::slice::from_ref(kind),
            ModelChoice::All => &PURCHASE_MODELS,
            ModelChoice::BgBb | ModelChoice::Sbg => &[],
        };
        for k in add {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
    }
    let progress = super::Progress::new();
    let (dir, log) = folder_and_log(&args, &progress)?;
    let summarizing = progress.step("summarizing the log");
    let summary = summarize(
        &log,
        &SummaryOptions {
            time_unit: args.time_unit,
            observation_end: args.observation_end,
            calibration_end: Some(calibration_end),
        },
    )?;
    drop(summarizing);
    say_part!("{}", summary_report(&summary));
    let fitting = progress.step(&format!("fitting and checking {} models on the holdout", kinds.len()));
    let interval = args.interval.options()?;
    let method = args.interval.method();
    let evaluation = evaluate(&log, &summary, &kinds, &options, interval.as_ref().map(|i| (i, method)))?;
    drop(fitting);
    if interval.is_some() && method == IntervalMethod::NormalApproximation {
        for m in &evaluation.models {
            super::intervals::note_unidentified(m.label, &m.fit.warnings);
        }
    }
    say!();
    say_part!("{}", evaluation_report(&evaluation));
    let writing = progress.step("writing the evaluation and its figures");
    let written = write_evaluation(&dir, &evaluation)?;
    drop(writing);
    say!("\nwrote the evaluation ({} files) to {}", written.len(), dir.display());
    Ok(())
}

/// `clv evaluate LOG --model bg-bb --period P --calibration-end DATE`.
fn evaluate_bg_bb(args: EvaluateArgs, calibration_end: NaiveDate, options: FitOptions) -> Result<()> {
    alone(&args, super::BG_BB_NAME)?;
    let interval = args.interval.options()?;
    let method = args.interval.method();
    let period = super::discrete::opportunity(args.period)?;
    let progress = super::Progress::new();
    let (dir, log) = folder_and_log(&args, &progress)?;
    let summary_options = DiscreteSummaryOptions {
        period,
        observation_end: args.observation_end,
        calibration_end: Some(calibration_end),
    };
    let summary = summarize_discrete(&log, &summary_options)?;
    let by_period = transactions_by_period(&log, &summary_options)?;
    drop(log);
    let fitting = progress.step("fitting BG/BB and checking it on the holdout");
    let evaluation = evaluate_discrete(
        &args.log.display().to_string(),
        &summary,
        &by_period,
        &options,
        interval.as_ref().map(|i| (i, method)),
    )?;
    drop(fitting);
    if interval.is_some() && method == IntervalMethod::NormalApproximation {
        super::intervals::note_unidentified("BG/BB", &evaluation.fit.warnings);
    }
    say_part!("{}", discrete_evaluation_report(&evaluation));
    let written = write_discrete_evaluation(&dir, &evaluation, &summary)?;
    say!("\nwrote the evaluation ({} files) to {}", written.len(), dir.display());
    Ok(())
}

/// BG/BB and sBG are evaluated alone: their likelihoods count opportunities or renewals, not
/// purchases in continuous time, so they cannot be compared with the others on one scale.
fn alone(args: &EvaluateArgs, name: &str) -> Result<()> {
    match args.model.len() > 1 {
        true => Err(ClvError::InvalidArgument(format!(
            "{name} is evaluated alone: its likelihood is not on the other models' scale, so their fits cannot be \
             compared; run evaluate once for each"
        ))),
        false => Ok(()),
    }
}

/// `clv evaluate INPUT --model sbg --calibration-periods K [--period P]`: the retention report of
/// `clv retention --calibration-periods K`, into the evaluation's folder.
fn evaluate_sbg(args: EvaluateArgs) -> Result<()> {
    alone(&args, "sbg")?;
    let Some(k) = args.calibration_periods else {
        return Err(ClvError::InvalidArgument(
            "sBG is fitted on tenures 1..=K and checked on the later ones: give --calibration-periods K".into(),
        ));
    };
    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| sibling_path(&args.log, "evaluation"));
    super::retention::evaluate(super::retention::RetentionEvaluation {
        input: args.log,
        period: args.period.unwrap_or(Period::Month),
        calibration_periods: k,
        observation_end: args.observation_end,
        customer_col: args.log_args.customer_col,
        date_format: args.log_args.date_format,
        report_dir,
        interval: args.interval,
    })
}

/// The evaluation's folder (given, or beside the log) and the log, read.
fn folder_and_log(args: &EvaluateArgs, progress: &super::Progress) -> Result<(PathBuf, Transactions)> {
    let dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| sibling_path(&args.log, "evaluation"));
    let reading = progress.step(&format!("reading {}", args.log.display()));
    let log = Transactions::load(&args.log, &args.log_args.spec())?;
    drop(reading);
    super::note_sniffed_delimiter(&log);
    Ok((dir, log))
}
