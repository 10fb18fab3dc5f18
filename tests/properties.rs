//! Properties that must hold for any legal parameters and data (proptest), and a fuzzer that
//! drives the log reader and summary with random bytes and CSV-like text: never a panic.

use std::path::PathBuf;

use proptest::prelude::*;

use clv::data::conventions::without_float_noise;
use clv::data::rfm::{summarize, SummaryOptions};
use clv::data::transactions::{LogSpec, NegativeAmounts, Transactions};
use clv::forecast::discounted_value;
use clv::models::bg_nbd::BgNbdParams;
use clv::models::gamma_gamma::GammaGammaParams;
use clv::TimeUnit;

fn bg_nbd() -> impl Strategy<Value = BgNbdParams> {
    (0.01f64..10.0, 0.1f64..200.0, 0.05f64..10.0, 0.05f64..20.0).prop_map(|(r, alpha, a, b)| BgNbdParams {
        r,
        alpha,
        a,
        b,
    })
}

/// (x, t_x, T) with 0 < t_x ≤ T when x > 0, and t_x = 0 when x = 0.
fn customer() -> impl Strategy<Value = (f64, f64, f64)> {
    (0u32..2000, 0.0f64..=1.0, 0.01f64..5000.0).prop_map(|(x, share, t)| {
        let tx = if x == 0 { 0.0 } else { (share * t).max(t * 1e-6) };
        (x as f64, tx, t)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn p_alive_is_a_probability(p in bg_nbd(), (x, tx, t) in customer()) {
        let alive = p.p_alive(x, tx, t);
        prop_assert!((0.0..=1.0).contains(&alive), "P(alive) = {alive}");
    }

    #[test]
    fn expected_purchases_are_non_negative_and_grow_with_the_horizon(
        p in bg_nbd(), (x, tx, t) in customer(), h in 0.0f64..500.0, more in 0.0f64..500.0,
    ) {
        let near = p.conditional_expected_purchases(h, x, tx, t).unwrap();
        let far = p.conditional_expected_purchases(h + more, x, tx, t).unwrap();
        prop_assert!(near >= 0.0, "E[Y({h})] = {near}");
        // Equal up to rounding when `more` is tiny.
        prop_assert!(far >= near * (1.0 - 1e-12), "E[Y({})] = {far} < E[Y({h})] = {near}", h + more);
    }

    #[test]
    fn clv_is_non_negative_and_falls_with_the_discount_rate(
        p in bg_nbd(), (x, tx, t) in customer(), spend in 0.0f64..1000.0, d in 0.0f64..0.5, more in 0.0f64..0.5,
    ) {
        let cumulative = |h: f64| p.conditional_expected_purchases(h, x, tx, t);
        let low = discounted_value(cumulative, spend, 12, 4.348, d).unwrap();
        let high = discounted_value(cumulative, spend, 12, 4.348, d + more).unwrap();
        prop_assert!(low >= 0.0);
        prop_assert!(high <= low * (1.0 + 1e-12) + 1e-300, "CLV at {} = {high} > CLV at {d} = {low}", d + more);
    }

    #[test]
    fn bg_nbd_gradient_matches_finite_differences(p in bg_nbd(), (x, tx, t) in customer()) {
        let (_, grad) = p.log_likelihood_with_gradient(x, tx, t);
        let v = p.to_vec();
        for i in 0..4 {
            let h = 1e-6 * v[i];
            let (mut up, mut down) = (v.clone(), v.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (BgNbdParams::from_slice(&up).log_likelihood(x, tx, t)
                - BgNbdParams::from_slice(&down).log_likelihood(x, tx, t)) / (2.0 * h);
            // Central differences are exact to O(h²) plus rounding of ~1e-16·|ll|/h.
            let ll = p.log_likelihood(x, tx, t).abs();
            let tol = 1e-5 * (1.0 + fd.abs()) + 1e-9 * ll / h.min(1.0);
            prop_assert!((grad[i] - fd).abs() <= tol, "d/dp{i}: analytic {}, finite difference {fd}", grad[i]);
        }
    }

    #[test]
    fn gamma_gamma_gradient_matches_finite_differences(
        p in 0.1f64..20.0, q in 0.5f64..20.0, v in 0.1f64..500.0, x in 1u32..200, z in 0.01f64..1000.0,
    ) {
        let model = GammaGammaParams { p, q, v };
        let x = x as f64;
        let (ll, grad) = model.log_likelihood_with_gradient(x, z);
        let base = model.to_vec();
        for i in 0..3 {
            let h = 1e-6 * base[i];
            let (mut up, mut down) = (base.clone(), base.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (GammaGammaParams::from_slice(&up).log_likelihood_with_gradient(x, z).0
                - GammaGammaParams::from_slice(&down).log_likelihood_with_gradient(x, z).0) / (2.0 * h);
            let tol = 1e-5 * (1.0 + fd.abs()) + 1e-9 * ll.abs() / h.min(1.0);
            prop_assert!((grad[i] - fd).abs() <= tol, "d/d{i}: analytic {}, finite difference {fd}", grad[i]);
        }
    }
}

fn fuzz_file(bytes: &[u8]) -> FuzzFile {
    let name = format!("clv-fuzz-{}-{:?}.csv", std::process::id(), std::thread::current().id());
    let path = std::env::temp_dir().join(name.replace(['(', ')'], ""));
    std::fs::write(&path, bytes).unwrap();
    FuzzFile(path)
}

/// One thread's fuzzed log, removed when dropped.
struct FuzzFile(PathBuf);

impl std::ops::Deref for FuzzFile {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for FuzzFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The whole summarize path on `bytes`: it may refuse the input, never panic.
fn summarize_bytes(bytes: &[u8]) {
    let path = fuzz_file(bytes);
    if let Ok(log) = Transactions::load(&path, &LogSpec::default()) {
        let _ = summarize(
            &log,
            &SummaryOptions {
                time_unit: TimeUnit::Weeks,
                observation_end: None,
                calibration_end: None,
            },
        );
    }
}

/// CSV-like text: a header that is usually right, then rows of fields drawn from pieces that
/// break parsers (quotes, delimiters, signs, exponents, odd dates, empty fields, CR, BOM).
fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just("customer_id,date,amount".to_string()),
        Just("\u{feff}customer_id,date,amount".to_string()),
        Just("customer_id,date".to_string()),
        Just("date,customer_id,amount,extra".to_string()),
    ];
    let field = prop_oneof![
        Just(String::new()),
        "[0-9]{1,4}".prop_map(|s| s),
        Just("2020-01-01".to_string()),
        Just("1970-01-01".to_string()),
        Just("2020-02-30".to_string()),
        Just("9999-12-31".to_string()),
        Just("0001-01-01".to_string()),
        Just("-1.5".to_string()),
        Just("1e308".to_string()),
        Just("NaN".to_string()),
        Just("\"a,b\"".to_string()),
        Just("\"".to_string()),
        Just("\r".to_string()),
        Just("x".to_string()),
    ];
    let row = proptest::collection::vec(field, 0..5).prop_map(|f| f.join(","));
    (header, proptest::collection::vec(row, 0..12)).prop_map(|(h, rows)| {
        let mut text = h;
        for r in rows {
            text.push('\n');
            text.push_str(&r);
        }
        text.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn summarize_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        summarize_bytes(&bytes);
    }

    #[test]
    fn summarize_never_panics_on_csv_like_text(bytes in csv_like()) {
        summarize_bytes(&bytes);
    }
}

/// One log row: (customer 0..5, day of January 2020 1..=28, whole amount, possibly a return).
type LogRow = (u8, i32, i32);

/// The RFM summary of `rows`, computed the plain way from the conventions (one map per customer
/// and day): what `summarize` must reproduce. Amounts are whole numbers, so sums are exact.
/// Rows: customer_id, x, recency, T, monetary_value, x_holdout, monetary_value_holdout.
fn reference_summary(
    rows: &[LogRow],
    unit: f64,
    net: bool,
    cal: Option<i32>,
    obs: i32,
) -> Vec<(u8, i64, f64, f64, f64, i64, f64)> {
    use std::collections::BTreeMap;
    let mut order: Vec<u8> = Vec::new();
    let mut days: BTreeMap<u8, BTreeMap<i32, (f64, bool)>> = BTreeMap::new();
    for &(c, d, a) in rows {
        if !net && a < 0 {
            continue; // --negative-amounts drop: the row is not in the log
        }
        if !order.contains(&c) {
            order.push(c);
        }
        if d <= obs {
            let day = days.entry(c).or_default().entry(d).or_insert((0.0, false));
            day.0 += f64::from(a);
            day.1 |= a < 0;
        }
    }
    let period_end = cal.unwrap_or(obs);
    let mut out = Vec::new();
    for c in order {
        let kept: Vec<(i32, f64)> = days
            .get(&c)
            .into_iter()
            .flatten()
            .filter(|(_, &(amount, has_return))| !(net && has_return && amount <= 0.0))
            .map(|(&d, &(amount, _))| (d, amount))
            .collect();
        let calibration: Vec<&(i32, f64)> = kept.iter().filter(|(d, _)| *d <= period_end).collect();
        let holdout: Vec<&(i32, f64)> = kept.iter().filter(|(d, _)| *d > period_end).collect();
        let Some(&&(first, _)) = calibration.first() else {
            continue;
        };
        let last = calibration[calibration.len() - 1].0;
        let x = calibration.len() as i64 - 1;
        let repeat: f64 = calibration[1..].iter().map(|(_, a)| a).sum();
        // Means to 12 significant digits (rule 7; the rounding has its own test).
        let m = if x > 0 {
            without_float_noise(repeat / x as f64)
        } else {
            0.0
        };
        let holdout_total: f64 = holdout.iter().map(|(_, a)| a).sum();
        let mh = if holdout.is_empty() {
            0.0
        } else {
            without_float_noise(holdout_total / holdout.len() as f64)
        };
        out.push((
            c,
            x,
            f64::from(last - first) / unit,
            f64::from(period_end - first) / unit,
            m,
            holdout.len() as i64,
            mh,
        ));
    }
    out
}

fn log_rows() -> impl Strategy<Value = Vec<LogRow>> {
    prop::collection::vec((0u8..5, 1i32..=28, -6i32..20), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn summaries_match_a_plain_reference(
        rows in log_rows(),
        net in any::<bool>(),
        weeks in any::<bool>(),
        cal in prop::option::of(5i32..20),
        obs in 20i32..=28,
    ) {
        let mut text = String::from("customer_id,date,amount\n");
        for (c, d, a) in &rows {
            text += &format!("c{c},2020-01-{d:02},{a}\n");
        }
        let path = fuzz_file(text.as_bytes());
        let spec = LogSpec {
            negative_amounts: if net { NegativeAmounts::Net } else { NegativeAmounts::Drop },
            ..LogSpec::default()
        };
        let Ok(log) = Transactions::load(&path, &spec) else {
            // Only a log whose every row is a dropped return is refused.
            prop_assert!(!net && rows.iter().all(|r| r.2 < 0));
            return Ok(());
        };
        let january = |d: i32| chrono::NaiveDate::from_ymd_opt(2020, 1, d as u32).unwrap();
        let unit = if weeks { TimeUnit::Weeks } else { TimeUnit::Days };
        let options = SummaryOptions {
            time_unit: unit,
            observation_end: Some(january(obs)),
            calibration_end: cal.map(january),
        };
        let expected = reference_summary(&rows, unit.days(), net, cal, obs);
        let summary = match summarize(&log, &options) {
            Ok(s) => s,
            Err(e) => {
                prop_assert!(expected.is_empty(), "{e}");
                return Ok(());
            }
        };
        let f = &summary.frame;
        let ints = |name: &str| f.column(name).unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>();
        let floats = |name: &str| f.column(name).unwrap().f64().unwrap().into_no_null_iter().collect::<Vec<_>>();
        let ids: Vec<String> = f.column("customer_id").unwrap().str().unwrap().iter().map(|s| s.unwrap_or_default().to_string()).collect();
        prop_assert_eq!(ids, expected.iter().map(|e| format!("c{}", e.0)).collect::<Vec<_>>());
        prop_assert_eq!(ints("frequency"), expected.iter().map(|e| e.1).collect::<Vec<_>>());
        prop_assert_eq!(floats("recency"), expected.iter().map(|e| e.2).collect::<Vec<_>>());
        prop_assert_eq!(floats("T"), expected.iter().map(|e| e.3).collect::<Vec<_>>());
        prop_assert_eq!(floats("monetary_value"), expected.iter().map(|e| e.4).collect::<Vec<_>>());
        if cal.is_some() {
            prop_assert_eq!(ints("frequency_holdout"), expected.iter().map(|e| e.5).collect::<Vec<_>>());
            prop_assert_eq!(floats("monetary_value_holdout"), expected.iter().map(|e| e.6).collect::<Vec<_>>());
        }
    }
}
