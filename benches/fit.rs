//! Criterion benchmarks of the core pipeline on the bundled CDNOW sample (2,357 customers):
//! likelihood + gradient, both fits, and the per-customer forecasts; and BG/BB's likelihood and
//! fit on a daily discrete summary (2,000 customers, a year of daily opportunities). Run:
//! `cargo bench --bench fit`.

use std::hint::black_box;
use std::path::Path;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};

use clv::data::rfm::{summarize, RfmTable, SummaryOptions};
use clv::data::transactions::{LogSpec, Transactions};
use clv::fitting::fit_bg_bb;
use clv::mle::FitOptions;
use clv::models::bg_bb::{total_log_likelihood, BgBb, BgBbParams};
use clv::models::bg_nbd::BgNbdData;
use clv::models::histories::{DiscreteHistories, DiscreteRow};
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

/// 2,000 discrete histories (x ≤ t_x ≤ n ≤ 365, one opportunity a day), drawn by a fixed
/// xorshift: BG/BB's cost grows with n, and a daily summary has n in the hundreds.
fn daily_histories() -> DiscreteHistories {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % u64::from(m)) as u32
    };
    let rows: Vec<DiscreteRow> = (0..2000)
        .map(|_| {
            let n = 1 + next(365);
            let t_x = next(n + 1);
            let x = if t_x == 0 { 0 } else { 1 + next(t_x.min(30)) };
            DiscreteRow { x, t_x, n, weight: 1.0 }
        })
        .collect();
    DiscreteHistories::from_rows(rows).expect("valid histories")
}

fn bg_bb_benches(c: &mut Criterion) {
    let histories = daily_histories();
    let model = BgBb::from(BgBbParams {
        alpha: 0.5,
        beta: 20.0,
        gamma: 0.3,
        delta: 30.0,
    });
    c.bench_function("bg/bb log-likelihood + gradient, 2000 daily histories", |b| {
        b.iter(|| total_log_likelihood(black_box(&histories), &model))
    });
    c.bench_function("fit bg/bb, 2000 daily histories", |b| {
        b.iter(|| fit_bg_bb(black_box(&histories), &FitOptions::default()))
    });
}

criterion_group!(core, benches, bg_bb_benches);
criterion_main!(core);
