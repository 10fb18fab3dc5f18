//! `clv fit RFM -o MODEL.json`

use std::path::PathBuf;

use clap::Args;

use crate::data::io::{refuse_output_onto_input, write_text};
use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::error::Result;
use crate::fitting::fit_models_using;
use crate::mle::FitOptions;
use crate::registry::{PurchaseModelKind, BG_NBD};
use crate::report::fit_report;

#[derive(Debug, Args)]
pub struct FitArgs {
    /// RFM table from `clv summarize` (CSV or Parquet); the papers' column names
    /// ID, x, t_x, T, zbar are accepted too
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
    /// Purchase model to fit (Gamma-Gamma is fitted for spend whatever this is)
    #[arg(long, value_parser = super::model_name_parser(), default_value_t = BG_NBD)]
    pub model: PurchaseModelKind,
}

pub fn run(args: FitArgs) -> Result<()> {
    let options = FitOptions::default().with_penalizer(args.penalizer)?;
    refuse_output_onto_input(&args.output, &[&args.rfm])?;
    let rfm = RfmTable::read(&args.rfm, args.time_unit)?;
    let models = fit_models_using(&rfm, args.model, &options)?;
    write_text(&args.output, &models.to_json()?)?;
    say_part!("{}", fit_report(&models));
    say!("wrote {}", args.output.display());
    Ok(())
}
