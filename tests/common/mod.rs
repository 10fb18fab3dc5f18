//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of the `clv` binary printed and how it ended.
pub struct Outcome {
    pub success: bool,
    /// The exit code: 0 on success, 1 for an error in the input or arguments.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `clv` binary built for these tests.
pub fn clv(args: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_clv")).args(args).output().unwrap();
    Outcome {
        success: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A CSV file's header and rows, split on commas (the tests' outputs quote nothing).
pub fn csv_header_and_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_string).collect();
    let rows = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    (header, rows)
}

/// The position of `name` in a header.
pub fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// A path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A fresh, empty folder for one test's files, removed when the test passes (a failed test
/// leaves it behind, to be looked at).
pub fn scratch_dir(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("clv-test-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A test's folder; see `scratch_dir`.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The published CDNOW calibration summary (ID, x, t_x, T, zbar), as printed (2 decimals).
pub struct PublishedRow {
    pub id: String,
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
    pub zbar: f64,
}

pub fn published_summary() -> Vec<PublishedRow> {
    let text = std::fs::read_to_string(repo("data/cdnow_customers_summary_with_transactions.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            PublishedRow {
                id: f[0].to_string(),
                x: f[1].parse().unwrap(),
                t_x: f[2].parse().unwrap(),
                t: f[3].parse().unwrap(),
                zbar: f[4].parse().unwrap(),
            }
        })
        .collect()
}

/// Runs `clv summarize` on `log` and checks it fails with all of `words` in its one-line
/// message and leaves no output file.
pub fn assert_summarize_fails(dir: &Path, log: &Path, extra: &[&str], words: &[&str]) {
    let out = dir.join("rfm.csv");
    let mut args = vec!["summarize", s(log), "-o", s(&out)];
    args.extend_from_slice(extra);
    let r = clv(&args);
    assert_eq!(r.code, Some(1), "expected exit code 1, got:\n{}{}", r.stdout, r.stderr);
    for w in words {
        assert!(r.stderr.contains(w), "missing '{w}' in: {}", r.stderr);
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
    assert!(!out.exists(), "no output file may be left behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".clv-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// BG/NBD at Fader, Hardie & Lee's estimates and Gamma-Gamma at Fader & Hardie's, as a model file.
pub fn papers_models() -> clv::FittedModels {
    clv::FittedModels::from_json(
        r#"{"format_version": 3, "clv_version": "0.1.0", "time_unit": "weeks",
        "purchase": {"model": "bg_nbd", "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
            "standard_errors": null, "covariance": null, "parameter_order": ["r", "alpha", "a", "b"],
            "log_likelihood": -9582.4, "aic": 0.0, "bic": 0.0, "n_customers": 2357, "iterations": 0},
        "gamma_gamma": {"params": {"p": 6.25, "q": 3.74, "v": 15.44}, "standard_errors": null,
            "covariance": null, "parameter_order": ["p", "q", "v"], "log_likelihood": 0.0, "aic": 0.0,
            "bic": 0.0, "n_customers": 946, "iterations": 0, "excluded_nonpositive_spend": 0,
            "mean_spend": 35.218978102189781}}"#,
    )
    .unwrap()
}

/// clv's own summary of the CDNOW sample, calibration to 1997-09-30, in weeks, as the models read it.
pub fn cdnow_calibration_rfm() -> clv::RfmTable {
    let log = clv::Transactions::load(&repo("data/cdnow_sample.csv"), &clv::LogSpec::default()).unwrap();
    let options = clv::SummaryOptions {
        time_unit: clv::TimeUnit::Weeks,
        observation_end: None,
        calibration_end: chrono::NaiveDate::from_ymd_opt(1997, 9, 30),
    };
    let summary = clv::summarize(&log, &options).unwrap();
    let names: Vec<String> = summary.frame.get_column_names().iter().map(|c| c.to_string()).collect();
    clv::RfmTable::from_frame(&summary.frame, &repo("data/cdnow_sample.csv"), &names, None).unwrap()
}

/// Each customer of `rfm` `copies` times over, under new ids.
pub fn repeated(rfm: &clv::RfmTable, copies: usize) -> clv::RfmTable {
    let times = |v: &[f64]| {
        v.iter()
            .flat_map(|&x| std::iter::repeat_n(x, copies))
            .collect::<Vec<_>>()
    };
    let ids: Vec<String> = (0..rfm.len() * copies).map(|i| i.to_string()).collect();
    clv::RfmTable {
        customer_id: clv::data::rfm::CustomerIds::from_labels(&ids),
        frequency: times(&rfm.frequency),
        recency: times(&rfm.recency),
        t: times(&rfm.t),
        monetary_value: rfm.monetary_value.as_deref().map(times),
        first_purchase: None,
        time_unit: rfm.time_unit,
    }
}

/// A log in which nobody leaves: each of `customers` buys 1 to 8 times on days drawn uniformly
/// from 300 days from 2024-01-01 (so how often she buys has nothing to do with when she
/// started), at 9.99 or 19.99; except that, with `one_timers` > 0, that many customers in ten
/// (drawn at random) buy once and never again. Drawn by a xorshift generator: the same log every
/// time.
pub fn log_where_nobody_leaves(customers: u64, one_timers: u64) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut text = String::from("customer_id,date,amount\n");
    for customer in 0..customers {
        let purchases = match one_timers > 0 && next(10) < one_timers {
            true => 1,
            false => next(8) + 1,
        };
        for _ in 0..purchases {
            let day = start + chrono::Days::new(next(300));
            let price = if next(2) == 0 { "9.99" } else { "19.99" };
            text.push_str(&format!("{customer},{day},{price}\n"));
        }
    }
    text
}
