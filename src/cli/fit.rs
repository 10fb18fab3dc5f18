//! `clv fit RFM -o MODEL.json`, and `clv fit SUMMARY --model bg-bb --period P -o MODEL.json`

use std::path::PathBuf;

use clap::Args;

use crate::data::compressed::{is_compressed, CompressedSummary};
use crate::data::discrete::{read_discrete_histories, DiscreteSummary};
use crate::data::io::{column_names, refuse_output_onto_input, scan_table, write_text};
use crate::data::period::Period;
use crate::data::rfm::RfmTable;
use crate::data::rfm_table::read_summary_table;
use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::fitting::{fit_bg_bb, fit_compressed, fit_models_to, fit_models_using, fit_spend_to};
use crate::mle::FitOptions;
use crate::model_file::{BgBbModels, FittedModels};
use crate::registry::{PurchaseModelKind, BG_NBD};
use crate::report::{bg_bb_report, fit_report};

#[derive(Debug, Args)]
pub struct FitArgs {
    /// RFM table from `clv summarize` (CSV or Parquet); the papers' column names
    /// ID, x, t_x, T, zbar are accepted too. A table with a `customers` column is a compressed
    /// summary (`clv summarize --compressed`, `clv sql --compressed`): each row weighs as many
    /// customers as it counts
    pub rfm: PathBuf,
    /// Where to write the fitted model (JSON)
    #[arg(short, long)]
    pub output: PathBuf,
    /// Time unit of recency and T, for a table without a time_unit column
    #[arg(long, value_enum)]
    pub time_unit: Option<TimeUnit>,
    /// Penalty λ on the log-parameters: λ·Σ ln²(p/c) is added to the mean negative log-likelihood,
    /// c = 1 for shapes and the data's own scale (mean T, mean spend) for parameters in time or
    /// money units, so it pulls the same in days or weeks, cents or dollars. A fit that reaches a
    /// limit needs no penalty (the limiting model is reported); use it to shrink on purpose
    #[arg(long, default_value_t = 0.0)]
    pub penalizer: f64,
    /// Purchase model to fit (Gamma-Gamma is fitted for spend whatever this is). bg-bb reads a
    /// discrete summary (`clv summarize --period P`) or the papers' weighted histogram (frequency,
    /// recency, periods, weights, as in data/donations.csv)
    #[arg(long, value_parser = super::RunModelParser, default_value_t = super::RunModel::Continuous(BG_NBD))]
    pub model: super::RunModel,
    /// With --model bg-bb: the opportunity, one calendar period (the donations: year)
    #[arg(long = "period", value_name = "PERIOD", value_enum)]
    pub opportunity: Option<Period>,
}

pub fn run(args: FitArgs) -> Result<()> {
    let options = FitOptions::default().with_penalizer(args.penalizer)?;
    refuse_output_onto_input(&args.output, &[&args.rfm])?;
    let model = match args.model {
        super::RunModel::BgBb => return fit_bg_bb_to(&args, &options),
        super::RunModel::Continuous(kind) => kind,
    };
    if args.opportunity.is_some() {
        return Err(ClvError::InvalidArgument(
            "--period is BG/BB's opportunity: use it with --model bg-bb".into(),
        ));
    }
    let models = match RfmTable::read_plain_numbers(&args.rfm, args.time_unit)? {
        Some(rfm) => fit_models_to(rfm.slices(), model, &options)?,
        None => fit_table(&args, model, &options)?,
    };
    write_text(&args.output, &models.to_json()?)?;
    say_part!("{}", fit_report(&models));
    say!("wrote {}", args.output.display());
    Ok(())
}

/// The models fitted to a summary table read by Polars: an RFM table, or a compressed summary.
fn fit_table(args: &FitArgs, model: PurchaseModelKind, options: &FitOptions) -> Result<FittedModels> {
    let (frame, columns) = read_summary_table(&args.rfm)?;
    let models = match is_compressed(&columns) {
        true => {
            let summary = CompressedSummary::from_frame(&frame, &args.rfm, &columns, args.time_unit)?;
            fit_compressed(&summary, model, options)?
        }
        false => {
            let rfm = RfmTable::from_frame(&frame, &args.rfm, &columns, args.time_unit)?;
            fit_models_using(&rfm, model, options)?
        }
    };
    Ok(models)
}

/// `clv fit SUMMARY --model bg-bb --period P`: BG/BB on a discrete summary (with Gamma-Gamma where
/// it has amounts) or on a weighted histogram of histories.
fn fit_bg_bb_to(args: &FitArgs, options: &FitOptions) -> Result<()> {
    let period = super::discrete::opportunity(args.opportunity)?;
    let columns = column_names(&mut scan_table(&args.rfm)?, &args.rfm)?;
    let (histories, spend) = match columns.iter().any(|c| c == "customer_id") {
        true => {
            let summary = DiscreteSummary::read(&args.rfm, period)?;
            let frequency: Vec<f64> = summary.frequency.iter().map(|&x| f64::from(x)).collect();
            let spend = fit_spend_to(&frequency, summary.monetary_value.as_deref(), None, options)?;
            (summary.histories()?, spend)
        }
        false => (
            read_discrete_histories(&args.rfm)?,
            (None, Some("a histogram of histories has no amounts".to_string())),
        ),
    };
    let purchase = fit_bg_bb(&histories, options)?;
    let (gamma_gamma, skipped) = spend;
    say_part!(
        "{}",
        bg_bb_report(&purchase, period, gamma_gamma.as_ref(), skipped.as_deref())
    );
    write_text(&args.output, &BgBbModels::new(period, purchase, gamma_gamma).to_json()?)?;
    say!("wrote {}", args.output.display());
    Ok(())
}
