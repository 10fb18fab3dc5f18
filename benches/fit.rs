//! Criterion benchmarks of the core pipeline on the bundled CDNOW sample (2,357 customers):
//! likelihood + gradient, both fits, and the per-customer forecasts. Run: `cargo bench`.

use std::hint::black_box;
use std::path::Path;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};

use clv::data::rfm::{summarize, RfmTable, SummaryOptions};
use clv::data::transactions::{LogSpec, Transactions};
use clv::models::bg_nbd::BgNbdData;
use clv::models::Likelihood;
use clv::{fit_models, forecast, ForecastOptions, TimeUnit};

fn cdnow() -> (Transactions, RfmTable) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/cdnow_sample.csv");
    let log = Transactions::load(&path, &LogSpec::default()).expect("bundled data loads");
    let summary = summarize(
        &log,
        &SummaryOptions {
            time_unit: TimeUnit::Weeks,
            observation_end: None,
            calibration_end: NaiveDate::from_ymd_opt(1997, 9, 30),
        },
    )
    .expect("bundled data summarizes");
    let names: Vec<String> = summary.frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let rfm = RfmTable::from_frame(&summary.frame, &path, &names, None).expect("valid RFM");
    (log, rfm)
}

fn benches(c: &mut Criterion) {
    let (log, rfm) = cdnow();
    let options = SummaryOptions {
        time_unit: TimeUnit::Weeks,
        observation_end: None,
        calibration_end: NaiveDate::from_ymd_opt(1997, 9, 30),
    };
    c.bench_function("summarize cdnow sample", |b| {
        b.iter(|| summarize(black_box(&log), &options))
    });
    let data = BgNbdData::new(&rfm.frequency, &rfm.recency, &rfm.t);
    let params = [0.243, 4.414, 0.793, 2.426];
    c.bench_function("bg/nbd log-likelihood + gradient", |b| {
        b.iter(|| data.log_likelihood_with_gradient(black_box(&params)))
    });
    c.bench_function("fit bg/nbd + gamma-gamma", |b| b.iter(|| fit_models(black_box(&rfm))));
    let models = fit_models(&rfm).expect("CDNOW fits");
    let forecast_options = ForecastOptions::default();
    c.bench_function("forecast p_alive, purchases, 12-month clv", |b| {
        b.iter(|| forecast(&models, black_box(&rfm), &forecast_options))
    });
}

criterion_group!(core, benches);
criterion_main!(core);
