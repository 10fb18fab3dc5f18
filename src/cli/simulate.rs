//! `clv simulate --customers N --seed S [-o LOG]`

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Args;

use crate::data::io::{write_table, TableFormat};
use crate::data::period::Period;
use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::models::bg_bb::BgBbParams;
use crate::models::bg_nbd::BgNbdParams;
use crate::models::gamma_gamma::GammaGammaParams;
use crate::models::pareto_nbd::ParetoNbdParams;
use crate::simulate::{
    simulate, simulate_customers, simulate_discrete, simulate_subscriptions, DiscreteSimulation, PurchaseProcess,
    SimulationOptions, SubscriptionSimulation,
};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of customers
    #[arg(long)]
    pub customers: usize,
    /// Seed of the random generator: the same seed gives the same log
    #[arg(long)]
    pub seed: u64,
    /// Where to write the log (.csv or .parquet) [default: simulated_N_S.csv]
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Parameters r,alpha,a,b,p,q,v (BG/NBD purchases with alpha per --time-unit, Gamma-Gamma
    /// spend), or r,alpha,s,beta,p,q,v with --model pareto-nbd (alpha and beta per --time-unit)
    /// [default: the CDNOW estimates 0.243,4.414,0.793,2.426,6.25,3.74,15.44 for BG/NBD;
    /// 0.553,10.578,0.606,11.669,6.25,3.74,15.44 for Pareto/NBD]
    #[arg(long, value_delimiter = ',')]
    pub params: Option<Vec<f64>>,
    /// The model to simulate from: bg-nbd or pareto-nbd (a transaction log); bg-bb (a
    /// transaction log with one opportunity per --period; --params alpha,beta,gamma,delta,p,q,v,
    /// default the donations estimates 1.204,0.750,0.657,2.783 with the CDNOW spend); or sbg (a
    /// subscription log: customer_id, start, end, price; --params gamma,delta, default Fader &
    /// Hardie 2007's regular cohort 0.704,1.182, one churn chance per --period)
    #[arg(long, default_value = "bg-nbd", value_parser = ["bg-nbd", "pareto-nbd", "bg-bb", "sbg"])]
    pub model: String,
    /// sbg: the renewal period; bg-bb: the opportunity
    #[arg(long, value_enum, default_value_t = Period::Month)]
    pub period: Period,
    /// sbg: the plans' prices per period, each subscriber on one of them at random
    #[arg(long, value_delimiter = ',', default_value = "9.99,19.99,49.99")]
    pub prices: Vec<f64>,
    /// Time unit of alpha
    #[arg(long, value_enum, default_value_t = TimeUnit::Weeks)]
    pub time_unit: TimeUnit,
    /// Length of the log in days
    #[arg(long, default_value_t = 546)]
    pub days: u32,
    /// First purchases fall uniformly in the first this-many days
    #[arg(long, default_value_t = 84)]
    pub acquisition_days: u32,
    /// First day of the log (YYYY-MM-DD)
    #[arg(long, default_value = "2020-01-01")]
    pub start: NaiveDate,
    /// Write the log as this many Parquet partitions of consecutive customers into the --output
    /// directory (part-00000.parquet, …), one partition in memory at a time: the same rows as
    /// the one-file log (BG/NBD and Pareto/NBD)
    #[arg(long, value_name = "K")]
    pub partitions: Option<usize>,
}

pub fn run(args: SimulateArgs) -> Result<()> {
    if args.partitions.is_some() && (args.model == "bg-bb" || args.model == "sbg") {
        return Err(ClvError::InvalidArgument(
            "--partitions splits a BG/NBD or Pareto/NBD log".into(),
        ));
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("simulated_{}_{}.csv", args.customers, args.seed)));
    if args.partitions.is_none() {
        TableFormat::from_path(&output)?;
    }
    if args.model == "bg-bb" {
        let (purchases, spend) = match args.params.as_deref() {
            None => ([1.204, 0.750, 0.657, 2.783], [6.25, 3.74, 15.44]),
            Some(&[alpha, beta, gamma, delta, p, q, v]) => ([alpha, beta, gamma, delta], [p, q, v]),
            Some(other) => {
                return Err(ClvError::InvalidArgument(format!(
                    "--params takes alpha,beta,gamma,delta,p,q,v for bg-bb, not {} numbers",
                    other.len()
                )))
            }
        };
        let mut log = simulate_discrete(&DiscreteSimulation {
            customers: args.customers,
            seed: args.seed,
            purchases: BgBbParams::from_slice(&purchases),
            spend: GammaGammaParams::from_slice(&spend),
            period: args.period,
            days: args.days,
            acquisition_days: args.acquisition_days,
            start: args.start,
        })?;
        write_table(&mut log, &output)?;
        say!(
            "wrote {} transactions of {} customers to {}",
            log.height(),
            args.customers,
            output.display()
        );
        return Ok(());
    }
    if args.model == "sbg" {
        let (gamma, delta) = match args.params.as_deref() {
            None => (0.704, 1.182),
            Some(&[gamma, delta]) => (gamma, delta),
            Some(other) => {
                return Err(ClvError::InvalidArgument(format!(
                    "--params takes gamma,delta for sbg, not {} numbers",
                    other.len()
                )))
            }
        };
        let mut log = simulate_subscriptions(&SubscriptionSimulation {
            subscribers: args.customers,
            seed: args.seed,
            gamma,
            delta,
            period: args.period,
            prices: args.prices.clone(),
            days: args.days,
            acquisition_days: args.acquisition_days,
            start: args.start,
        })?;
        write_table(&mut log, &output)?;
        say!("wrote {} subscriptions to {}", log.height(), output.display());
        return Ok(());
    }
    let mut options = SimulationOptions {
        customers: args.customers,
        seed: args.seed,
        time_unit: args.time_unit,
        days: args.days,
        acquisition_days: args.acquisition_days,
        start: args.start,
        ..Default::default()
    };
    let pareto = args.model == "pareto-nbd";
    if pareto {
        // Fader, Hardie & Lee's (2005) CDNOW estimates.
        options.purchases = PurchaseProcess::ParetoNbd(ParetoNbdParams {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        });
    }
    if let Some(p) = &args.params {
        let [r, alpha, c, d, sp, q, v] = p[..] else {
            return Err(ClvError::InvalidArgument(format!(
                "--params takes 7 numbers, not {}",
                p.len()
            )));
        };
        options.purchases = if pareto {
            PurchaseProcess::ParetoNbd(ParetoNbdParams {
                r,
                alpha,
                s: c,
                beta: d,
            })
        } else {
            PurchaseProcess::BgNbd(BgNbdParams { r, alpha, a: c, b: d })
        };
        options.spend = GammaGammaParams { p: sp, q, v };
    }
    if let Some(k) = args.partitions {
        return write_partitions(&options, k, args.output.as_deref());
    }
    let mut log = simulate(&options)?;
    write_table(&mut log, &output)?;
    say!(
        "wrote {} transactions of {} customers to {}",
        log.height(),
        args.customers,
        output.display()
    );
    Ok(())
}

/// `clv simulate --partitions K -o DIR`: K Parquet files of consecutive customers.
fn write_partitions(options: &SimulationOptions, k: usize, dir: Option<&Path>) -> Result<()> {
    let Some(dir) = dir else {
        return Err(ClvError::InvalidArgument(
            "--partitions writes into a directory: give it with -o DIR".into(),
        ));
    };
    if k == 0 || k > options.customers {
        return Err(ClvError::InvalidArgument(format!(
            "--partitions must be between 1 and the number of customers ({}), not {k}",
            options.customers
        )));
    }
    if dir.is_file() {
        return Err(ClvError::InvalidArgument(format!(
            "{} is a file: --partitions writes into a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|source| ClvError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let n = options.customers;
    let mut transactions = 0;
    for part in 0..k {
        let range = (part * n / k)..((part + 1) * n / k);
        let mut log = simulate_customers(options, range)?;
        transactions += log.height();
        write_table(&mut log, &dir.join(format!("part-{part:05}.parquet")))?;
    }
    say!(
        "wrote {transactions} transactions of {n} customers to {} as {k} Parquet partitions",
        dir.display()
    );
    Ok(())
}
