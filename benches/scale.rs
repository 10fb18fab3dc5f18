//! Criterion benchmarks at 10k, 100k and 1M simulated customers (CDNOW parameters, generated once
//! per size by the bench, not committed): summarize, the distinct-history tables the fits sum
//! over, each fit, the forecasts, and end to end
//! (read CSV → RFM → both fits → forecasts written), and end to end with 90% intervals from 200
//! parameter draws (`end_to_end_interval`); then the `clv run` command itself, as a user runs it
//! (its own process, the value report included), without and with `--interval 0.9` (`clv_run`,
//! `clv_run_interval`), and `clv fit` on the log's RFM table in CSV (`clv_fit`: its own process,
//! both fits, the model file). `CLV_BENCH_SIZES=10000,100000` limits the sizes.
//! Run: `cargo bench --bench scale`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use clv::data::io::write_table;
use clv::data::rfm::{summarize, RfmTable, SummaryOptions};
use clv::data::transactions::{LogSpec, Transactions};
use clv::forecast::intervals::{add_parameter_intervals, IntervalOptions};
use clv::mle::{maximize, FitOptions};
use clv::models::bg_nbd::BgNbdData;
use clv::models::gamma_gamma::GammaGammaData;
use clv::models::histories::Histories;
use clv::simulate::{simulate, SimulationOptions};
use clv::{fit_models, forecast, ForecastOptions, TimeUnit};

fn sizes() -> Vec<usize> {
    std::env::var("CLV_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

const SUMMARY: SummaryOptions = SummaryOptions {
    time_unit: TimeUnit::Weeks,
    observation_end: None,
    calibration_end: None,
};

/// The simulated log of `n` customers, written once to a CSV in the temp folder.
fn simulated_log(n: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("clv-bench-{n}.csv"));
    if !path.exists() {
        let mut log = simulate(&SimulationOptions {
            customers: n,
            seed: 42,
            ..Default::default()
        })
        .expect("simulation runs");
        write_table(&mut log, &path).expect("log written");
    }
    path
}

/// Where the predictions are written: memory (`/dev/shm`) where the machine has it, so that the
/// end-to-end benches time clv rather than the disk. On this machine's ext4 writing a new
/// 188 MB file takes 1.2 s of block allocation (`dd` of 200 MB to a new file: 2.0 s; over an
/// existing one: 0.02 s), more than clv's whole plain run, and it varies from run to run.
fn output_dir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    match shm.is_dir() {
        true => shm.to_path_buf(),
        false => std::env::temp_dir(),
    }
}

fn rfm_of(log: &Transactions) -> RfmTable {
    let summary = summarize(log, &SUMMARY).expect("summary");
    let names: Vec<String> = summary.frame.get_column_names().iter().map(|c| c.to_string()).collect();
    RfmTable::from_frame(&summary.frame, &log.path, &names, None).expect("valid RFM")
}

/// Read, summarize, fit, forecast and write; with `interval`, the forecasts' 90% intervals from
/// 200 parameter draws too (`clv run --interval 0.9`).
fn end_to_end(path: &Path, out: &Path, interval: Option<&IntervalOptions>) {
    let log = Transactions::load(path, &LogSpec::default()).expect("log loads");
    let rfm = rfm_of(&log);
    let models = fit_models(&rfm).expect("fit");
    let options = ForecastOptions::default();
    let mut forecasts = forecast(&models, &rfm, &options).expect("forecast");
    if let Some(interval) = interval {
        add_parameter_intervals(&models, &rfm, &options, interval, &mut forecasts).expect("intervals");
    }
    write_table(&mut forecasts.into_frame(rfm).expect("frame"), out).expect("written");
}

/// `clv ARGS…`, its own process, the printed text discarded.
fn clv(args: &[&std::ffi::OsStr]) {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_clv"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("clv runs");
    assert!(status.success(), "clv {args:?} failed");
}

/// `clv run LOG -o OUT --report-dir DIR EXTRA…` as a user runs it: its own process (fresh
/// memory, as every run of the command has; the in-process `end_to_end` reuses the memory its
/// last iteration freed), the value report written too, the printed summary discarded.
fn clv_run(path: &Path, out: &Path, extra: &[&str]) {
    let report_dir = out.with_extension("report");
    let mut args = vec![
        "run".as_ref(),
        path.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--report-dir".as_ref(),
        report_dir.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    clv(&args);
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in sizes() {
        let path = simulated_log(n);
        let log = Transactions::load(&path, &LogSpec::default()).expect("log loads");
        let rfm = rfm_of(&log);
        let purchases = BgNbdData::new(&rfm.frequency, &rfm.recency, &rfm.t);
        let spend = GammaGammaData::new(&rfm.frequency, rfm.monetary_value.as_deref().expect("amounts"));
        let models = fit_models(&rfm).expect("fit");
        let options = ForecastOptions::default();
        let out = output_dir().join(format!("clv-bench-{n}-predictions.csv"));

        group.bench_with_input(BenchmarkId::new("summarize", n), &log, |b, log| {
            b.iter(|| summarize(black_box(log), &SUMMARY))
        });
        group.bench_with_input(BenchmarkId::new("distinct_histories", n), &rfm, |b, rfm| {
            b.iter(|| Histories::new(black_box(&rfm.frequency), &rfm.recency, &rfm.t))
        });
        group.bench_with_input(BenchmarkId::new("distinct_spend", n), &rfm, |b, rfm| {
            b.iter(|| {
                GammaGammaData::new(
                    black_box(&rfm.frequency),
                    rfm.monetary_value.as_deref().expect("amounts"),
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("fit_bg_nbd", n), &purchases, |b, d| {
            b.iter(|| maximize(black_box(d), "BG/NBD", &FitOptions::default()))
        });
        group.bench_with_input(BenchmarkId::new("fit_gamma_gamma", n), &spend, |b, d| {
            b.iter(|| maximize(black_box(d), "Gamma-Gamma", &FitOptions::default()))
        });
        group.bench_with_input(BenchmarkId::new("forecast_clv", n), &rfm, |b, rfm| {
            b.iter(|| forecast(&models, black_box(rfm), &options))
        });
        group.bench_with_input(BenchmarkId::new("end_to_end", n), &path, |b, path| {
            b.iter(|| end_to_end(path, &out, None))
        });
        let interval = IntervalOptions {
            level: 0.9,
            draws: 200,
            seed: 1,
        };
        group.bench_with_input(BenchmarkId::new("end_to_end_interval", n), &path, |b, path| {
            b.iter(|| end_to_end(path, &out, Some(&interval)))
        });
        for (name, extra) in [("clv_run", &[][..]), ("clv_run_interval", &["--interval", "0.9"][..])] {
            group.bench_with_input(BenchmarkId::new(name, n), &path, |b, path| {
                b.iter(|| clv_run(path, &out, extra))
            });
        }
        // The RFM table as `clv summarize` writes it, fitted by `clv fit` (BG/NBD and Gamma-Gamma).
        let table = output_dir().join(format!("clv-bench-{n}-rfm.csv"));
        let model = output_dir().join(format!("clv-bench-{n}-model.json"));
        clv(&["summarize".as_ref(), path.as_os_str(), "-o".as_ref(), table.as_os_str()]);
        group.bench_with_input(BenchmarkId::new("clv_fit", n), &table, |b, table| {
            b.iter(|| clv(&["fit".as_ref(), table.as_os_str(), "-o".as_ref(), model.as_os_str()]))
        });
    }
    group.finish();
}

criterion_group!(scale, benches);
criterion_main!(scale);
