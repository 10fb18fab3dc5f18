//! Properties that must hold for any legal parameters and data (proptest), and a fuzzer that
//! drives the log reader and summary with random bytes and CSV-like text: never a panic.

use std::path::PathBuf;

use proptest::prelude::*;

use clv::data::rfm::{summarize, SummaryOptions};
use clv::data::transactions::{LogSpec, Transactions};
use clv::models::bg_nbd::BgNbdParams;
use clv::models::gamma_gamma::GammaGammaParams;
use clv::predict::discounted_value;
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

fn fuzz_file(bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clv-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("log-{:?}.csv", std::thread::current().id()).replace(['(', ')'], ""));
    std::fs::write(&path, bytes).unwrap();
    path
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
