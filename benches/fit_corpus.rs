//! The fit corpus timed: every purchase model on logs unlike CDNOW (single cohorts, homogeneous
//! purchase rates or dropout) of up to 10,000 customers, one fit each (best of 3), the slowest
//! printed last. The trust-at-the-edges bar is under 2 seconds per fit in a release build.
//! Run: `cargo bench --bench fit_corpus`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clv::data::io::write_table;
use clv::data::rfm::{summarize, RfmTable, SummaryOptions};
use clv::data::transactions::{LogSpec, Transactions};
use clv::fitting::fit_purchase_model;
use clv::mle::FitOptions;
use clv::models::bg_nbd::BgNbdParams;
use clv::models::pareto_nbd::ParetoNbdParams;
use clv::registry::PURCHASE_MODELS;
use clv::simulate::{simulate, PurchaseProcess, SimulationOptions};
use clv::TimeUnit;

/// (name, customers, seed, purchase process, days, acquisition days)
type Case = (&'static str, usize, u64, PurchaseProcess, u32, u32);

const fn bg(r: f64, alpha: f64, a: f64, b: f64) -> PurchaseProcess {
    PurchaseProcess::BgNbd(BgNbdParams { r, alpha, a, b })
}

const fn pareto(r: f64, alpha: f64, s: f64, beta: f64) -> PurchaseProcess {
    PurchaseProcess::ParetoNbd(ParetoNbdParams { r, alpha, s, beta })
}

const CDNOW: PurchaseProcess = bg(0.243, 4.414, 0.793, 2.426);
const CASES: [Case; 8] = [
    ("single cohort, 40 weeks", 400, 4, CDNOW, 280, 1),
    ("single cohort, 60 weeks", 1_000, 1, CDNOW, 420, 1),
    ("single cohort, 40 weeks", 10_000, 7, CDNOW, 280, 1),
    ("homogeneous purchase rate", 2_000, 3, bg(1e4, 1e5, 0.8, 2.5), 546, 84),
    ("homogeneous dropout", 2_000, 1, bg(0.5, 5.0, 1.5e7, 8.5e7), 546, 84),
    (
        "Pareto/NBD, one purchase rate",
        2_000,
        2,
        pareto(1e4, 1e5, 1.0, 20.0),
        546,
        84,
    ),
    (
        "Pareto/NBD, one dropout rate",
        2_000,
        1,
        pareto(0.5, 5.0, 1e7, 1e7 / 0.03),
        546,
        84,
    ),
    ("CDNOW parameters", 10_000, 42, CDNOW, 546, 84),
];

fn rfm_of(case: &Case) -> RfmTable {
    let (_, customers, seed, purchases, days, acquisition_days) = *case;
    let path: PathBuf = std::env::temp_dir().join(format!("clv-corpus-{customers}-{seed}-{days}-{}.csv", case.0.len()));
    let mut log = simulate(&SimulationOptions {
        customers,
        seed,
        purchases,
        days,
        acquisition_days,
        ..Default::default()
    })
    .expect("simulation runs");
    write_table(&mut log, &path).expect("log written");
    let log = Transactions::load(&path, &LogSpec::default()).expect("log loads");
    let options = SummaryOptions {
        time_unit: TimeUnit::Weeks,
        observation_end: None,
        calibration_end: None,
    };
    let summary = summarize(&log, &options).expect("summary");
    let names: Vec<String> = summary.frame.get_column_names().iter().map(|c| c.to_string()).collect();
    RfmTable::from_frame(&summary.frame, &log.path, &names, None).expect("valid RFM")
}

fn main() {
    let mut slowest: (Duration, String) = (Duration::ZERO, String::new());
    println!(
        "{:<30} {:>9} {:<11} {:>9}  outcome",
        "log", "customers", "model", "seconds"
    );
    for case in &CASES {
        let rfm = rfm_of(case);
        for kind in PURCHASE_MODELS {
            let mut best = Duration::MAX;
            let mut outcome = String::new();
            for _ in 0..3 {
                let started = Instant::now();
                let fit = fit_purchase_model(&rfm, kind, &FitOptions::default());
                best = best.min(started.elapsed());
                outcome = match fit {
                    Ok(fit) => fit.erased().limit.map_or("interior maximum".to_string(), |l| {
                        format!("limit: {}", l.split(':').next().unwrap_or(""))
                    }),
                    Err(e) => format!("refused: {e}"),
                };
            }
            let what = format!("{:<30} {:>9} {:<11}", case.0, case.1, kind.label());
            println!("{what} {:>9.3}  {outcome}", best.as_secs_f64());
            if best > slowest.0 {
                slowest = (best, what);
            }
        }
    }
    println!(
        "slowest: {} {:.3} s",
        slowest.1.split_whitespace().collect::<Vec<_>>().join(" "),
        slowest.0.as_secs_f64()
    );
}
