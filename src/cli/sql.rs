//! `clv sql --dialect D --table T`: the query that builds clv's RFM summary in a warehouse.

use std::path::PathBuf;

use clap::Args;

use super::PeriodArgs;
use crate::data::io::write_text;
use crate::data::sql::{summary_sql, Dialect, SqlOptions};
use crate::data::transactions::NegativeAmounts;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQL dialect of the query
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// The transactions table, as the query's FROM clause takes it: a table name (a view, a
    /// catalog.schema.table) or any table expression, e.g. DuckDB's read_parquet('log/*.parquet')
    #[arg(long)]
    pub table: String,
    /// Column holding the customer id
    #[arg(long, default_value = "customer_id")]
    pub customer_col: String,
    /// Column holding the purchase date (a DATE, a TIMESTAMP, or ISO text)
    #[arg(long, default_value = "date")]
    pub date_col: String,
    /// Column holding the purchase amount
    #[arg(long, default_value = "amount", conflicts_with = "no_amount")]
    pub amount_col: String,
    /// The table has no amounts: no monetary_value column, so no spend model and no CLV
    #[arg(long)]
    pub no_amount: bool,
    /// Negative amounts (returns), as `clv summarize` takes them: error = the query fails on the
    /// first one; drop = those rows are left out; net = summed into their day, a day whose net
    /// is ≤ 0 then not being a purchase
    #[arg(long, value_enum, default_value_t = NegativeAmounts::Error)]
    pub negative_amounts: NegativeAmounts,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Build the compressed summary instead (as `clv summarize --compressed`): one row per
    /// distinct (frequency, recency, T) with its number of `customers`, and one per distinct
    /// (frequency, monetary_value); `clv fit` fits it to the estimates of the full table
    #[arg(long)]
    pub compressed: bool,
    /// With --compressed: decimals the mean spends are rounded to (2: cents)
    #[arg(long, default_value_t = 2, requires = "compressed", value_parser = clap::value_parser!(u32).range(0..=12))]
    pub spend_decimals: u32,
    /// Write the query to this file instead of standard output
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: SqlArgs) -> Result<()> {
    let sql = summary_sql(&SqlOptions {
        dialect: args.dialect,
        table: args.table,
        customer_col: args.customer_col,
        date_col: args.date_col,
        amount_col: (!args.no_amount).then_some(args.amount_col),
        negative_amounts: args.negative_amounts,
        time_unit: args.period.time_unit,
        observation_end: args.period.observation_end,
        calibration_end: args.period.calibration_end,
        compressed: args.compressed.then_some(args.spend_decimals),
    })?;
    match args.output {
        Some(path) => write_text(&path, &sql),
        None => {
            say_part!("{sql}");
            Ok(())
        }
    }
}
