//! The NBD model (Ehrenberg's gamma-Poisson purchases without dropout), added through the model
//! registry: its CDNOW maximum against an independent computation, `clv fit/predict/evaluate
//! --model nbd` end to end, and its Poisson limit.

mod common;

use clv::data::rfm::RfmTable;
use clv::data::TimeUnit;
use clv::fitting::fit_purchase_model;
use clv::mle::FitOptions;
use clv::registry::NBD;
use common::{clv, column, csv_header_and_rows, repo, s, scratch_dir};

/// The NBD's maximum on the published CDNOW summary (2,357 customers, t_x and T to 2 decimals), by
/// mpmath at 40 digits, independently of clv: with the (x, T) counts of
/// data/cdnow_customers_summary_with_transactions.csv,
///   ln L(r, α) = Σ lnΓ(r+x) − lnΓ(r) + r ln α − (r+x) ln(α+T),
/// and `mpmath.findroot` on its two partial derivatives
///   Σ ψ(r+x) − ψ(r) + ln α − ln(α+T) = 0,   Σ r/α − (r+x)/(α+T) = 0
/// from (0.38, 12) gives r = 0.384767674051841, α = 12.0720849909709, ln L = −9763.66022223277.
const CDNOW_R: f64 = 0.384767674051841;
const CDNOW_ALPHA: f64 = 12.0720849909709;
const CDNOW_LOG_LIKELIHOOD: f64 = -9763.66022223277;

#[test]
fn the_cdnow_maximum_matches_an_independent_40_digit_computation() {
    let rfm = RfmTable::read(
        &repo("data/cdnow_customers_summary_with_transactions.csv"),
        Some(TimeUnit::Weeks),
    )
    .unwrap();
    let fit = fit_purchase_model(&rfm, NBD, &FitOptions::default()).unwrap();
    assert_eq!(fit.tag(), "nbd");
    let (r, alpha) = (fit.fit.params.get("r").unwrap(), fit.fit.params.get("alpha").unwrap());
    // The optimiser stops at a mean gradient of 1e-10 per customer in log-parameters: the
    // estimates agree to ~1e-8, far inside the standard errors (0.021 and 0.81).
    assert!((r - CDNOW_R).abs() < 1e-7 * CDNOW_R, "r = {r}");
    assert!((alpha - CDNOW_ALPHA).abs() < 1e-7 * CDNOW_ALPHA, "alpha = {alpha}");
    assert!(
        (fit.fit.log_likelihood - CDNOW_LOG_LIKELIHOOD).abs() < 1e-8,
        "{}",
        fit.fit.log_likelihood
    );
    assert!(fit.fit.warnings.is_empty(), "{:?}", fit.fit.warnings);
    assert!(fit.fit.limit.is_none());
}

#[test]
fn fit_predict_and_evaluate_take_the_nbd_by_name() {
    let dir = scratch_dir("nbd_cli");
    let log = repo("data/cdnow_sample.csv");
    let (rfm, model, pred) = (dir.join("rfm.csv"), dir.join("nbd.json"), dir.join("pred.csv"));
    let r = clv(&[
        "summarize",
        s(&log),
        "-o",
        s(&rfm),
        "--time-unit",
        "weeks",
        "--calibration-end",
        "1997-09-30",
    ]);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&["fit", s(&rfm), "--model", "nbd", "-o", s(&model)]);
    assert!(r.success, "{}", r.stderr);
    assert!(r.stdout.contains("NBD purchase model (2357 customers"), "{}", r.stdout);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(json["purchase"]["model"], "nbd");
    let (r_hat, alpha_hat) = (
        json["purchase"]["params"]["r"].as_f64().unwrap(),
        json["purchase"]["params"]["alpha"].as_f64().unwrap(),
    );
    // Our own summary has exact times (the published file rounds them), so the estimates move
    // in the fourth digit only.
    assert_eq!(format!("{r_hat:.3} {alpha_hat:.2}"), "0.385 12.07");

    let r = clv(&[
        "predict",
        s(&rfm),
        "--model-file",
        s(&model),
        "-o",
        s(&pred),
        "--horizon",
        "39",
    ]);
    assert!(r.success, "{}", r.stderr);
    let (header, rows) = csv_header_and_rows(&pred);
    let (x, t, p_alive, expected) = (
        column(&header, "frequency"),
        column(&header, "T"),
        column(&header, "p_alive"),
        column(&header, "expected_purchases"),
    );
    assert_eq!(rows.len(), 2357);
    for row in &rows {
        // Nobody drops out, and E[Y(39) | x, T] = 39 (r+x)/(α+T), the posterior mean rate.
        assert_eq!(row[p_alive], "1.0");
        let (x, t): (f64, f64) = (row[x].parse().unwrap(), row[t].parse().unwrap());
        let direct = 39.0 * (r_hat + x) / (alpha_hat + t);
        let ours: f64 = row[expected].parse().unwrap();
        assert!((ours - direct).abs() <= 1e-12 * direct, "{ours} vs {direct}");
    }

    let out = dir.join("evaluation");
    let r = clv(&[
        "evaluate",
        s(&log),
        "--calibration-end",
        "1997-09-30",
        "--model",
        "nbd,bg-nbd",
        "--report-dir",
        s(&out),
    ]);
    assert!(r.success, "{}", r.stderr);
    let evaluation: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("evaluation.json")).unwrap()).unwrap();
    assert_eq!(evaluation["models"][0]["model"], "nbd");
    // Figure 1's chi-square has 8 groups − 1 − 2 parameters = 5 degrees of freedom for the NBD.
    assert!(r.stdout.contains("on 5 degrees of freedom"), "{}", r.stdout);
    // Without dropout the NBD overforecasts CDNOW's holdout, as in Fader, Hardie & Lee's comparisons.
    assert_eq!(evaluation["preferred"]["by_bic"], "bg-nbd");
}

#[test]
fn purchase_rates_less_varied_than_any_gamma_give_the_poisson_limit() {
    // 300 customers observed for 10 weeks with 4, 5, 5, 6 repeat purchases: less spread than a
    // Poisson's (variance 0.5 against a mean of 5), so the likelihood rises towards r, α → ∞. The
    // limit's maximum is closed-form: λ = Σx/ΣT = 1500/3000 = 0.5, its standard error
    // √(λ/ΣT) = √(0.5/3000) = 0.0129099444873580563, ln L = Σ x ln λ − λT = 1500 ln 0.5 − 1500
    // = −2539.72077083991796 (mpmath, 30 digits).
    let dir = scratch_dir("nbd_limit");
    let mut text = String::from("customer_id,frequency,recency,T\n");
    for i in 0..300 {
        text.push_str(&format!("c{i},{},9,10\n", [4, 5, 5, 6][i % 4]));
    }
    let (rfm, model) = (dir.join("rfm.csv"), dir.join("model.json"));
    std::fs::write(&rfm, text).unwrap();
    let r = clv(&[
        "fit",
        s(&rfm),
        "--model",
        "nbd",
        "--time-unit",
        "weeks",
        "-o",
        s(&model),
    ]);
    assert!(r.success, "{}", r.stderr);
    assert!(r.stdout.contains("homogeneous purchase rate"), "{}", r.stdout);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let fit = &json["purchase"];
    assert_eq!(fit["model"], "nbd_limit");
    let lambda = fit["params"]["lambda"].as_f64().unwrap();
    assert!((lambda - 0.5).abs() < 1e-12, "{lambda}");
    let se = fit["standard_errors"]["lambda"].as_f64().unwrap();
    assert!((se - 0.012909944487358).abs() < 1e-9, "{se}");
    let ll = fit["log_likelihood"].as_f64().unwrap();
    assert!((ll + 2539.720770839918).abs() < 1e-9, "{ll}");
}
