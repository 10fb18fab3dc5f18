//! `clv evaluate LOG --calibration-end DATE [--model ...|all]`: fit on the calibration period,
//! check against the holdout, compare models.

use std::path::PathBuf;
use std::sync::LazyLock;

use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};

use chrono::NaiveDate;

use super::{sibling_path, LogArgs};
use crate::data::rfm::{summarize, SummaryOptions};
use crate::data::transactions::Transactions;
use crate::data::TimeUnit;
use crate::error::Result;
use crate::evaluate::evaluate;
use crate::mle::FitOptions;
use crate::registry::{PurchaseModelKind, PURCHASE_MODELS};
use crate::report::{evaluation_report, summary_report, write_evaluation};

/// A purchase model to evaluate, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChoice {
    One(PurchaseModelKind),
    All,
}

/// Every registered model, then "all".
static MODEL_CHOICES: LazyLock<Vec<ModelChoice>> = LazyLock::new(|| {
    PURCHASE_MODELS
        .iter()
        .map(|&k| ModelChoice::One(k))
        .chain([ModelChoice::All])
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
    #[arg(long)]
    pub calibration_end: NaiveDate,
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    let calibration_end = args.calibration_end;
    let options = FitOptions::default().with_penalizer(args.penalizer)?;
    let mut kinds: Vec<PurchaseModelKind> = Vec::new();
    for choice in &args.model {
        let add: &[PurchaseModelKind] = match choice {
            ModelChoice::One(kind) => std::slice::from_ref(kind),
            ModelChoice::All => &PURCHASE_MODELS,
        };
        for k in add {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
    }
    let dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| sibling_path(&args.log, "evaluation"));
    let progress = super::Progress::new();
    let reading = progress.step(&format!("reading {}", args.log.display()));
    let log = Transactions::load(&args.log, &args.log_args.spec())?;
    drop(reading);
    super::note_sniffed_delimiter(&log);
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
    let evaluation = evaluate(&log, &summary, &kinds, &options)?;
    drop(fitting);
    say!();
    say_part!("{}", evaluation_report(&evaluation));
    let writing = progress.step("writing the evaluation and its figures");
    let written = write_evaluation(&dir, &evaluation)?;
    drop(writing);
    say!("\nwrote the evaluation ({} files) to {}", written.len(), dir.display());
    Ok(())
}
