//! BG/BB (issue "subscriptions and discrete opportunities"): Fader, Hardie & Shang (2010)'s
//! estimates on the donations data reproduced, and the per-customer formulas against
//! high-precision values.

// The expected values are mpmath's digits, as printed.
#![allow(clippy::excessive_precision)]

mod common;

use std::path::Path;

use clv::data::discrete::read_discrete_histories;
use clv::fitting::fit_bg_bb;
use clv::mle::FitOptions;
use clv::models::bg_bb::{BgBb, BgBbParams, Buying};
use clv::models::sbg::Retention;
use common::{clv, column, csv_header_and_rows, log_where_nobody_leaves, repo, s, scratch_dir};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

/// `clv evaluate` of the donations log with BG/BB by year, calibrated to 2001 and observed to
/// 2006 (a five-year holdout), into `report`, with `extra` arguments.
fn evaluate_donations_to_2006(log: &Path, report: &Path, extra: &[&str]) -> common::Outcome {
    let mut args = vec![
        "evaluate",
        s(log),
        "--model",
        "bg-bb",
        "--period",
        "year",
        "--calibration-end",
        "2001-12-31",
        "--observation-end",
        "2006-12-31",
        "--report-dir",
        s(report),
    ];
    args.extend(extra);
    clv(&args)
}

/// The total expected purchases and its 90% interval from `draws` parameter draws, as `clv run`
/// prints them: [estimate, lo, hi].
fn printed_purchases_interval(stdout: &str, source: &str) -> [f64; 3] {
    let start = format!("Totals with their 90% interval from parameter uncertainty ({source})");
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no totals in:\n{stdout}"));
    let numbers: Vec<f64> = line
        .rsplit("expected purchases ")
        .next()
        .unwrap()
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect();
    [numbers[0], numbers[1], numbers[2]]
}

/// The maximum on the donations data to 15 digits: mpmath (30 digits), findroot on the score of
/// Σ count · ln L from the published estimates, L by eq. (5) with mpmath's beta function.
const MLE: BgBbParams = BgBbParams {
    alpha: 1.20352235160191,
    beta: 0.749716358172939,
    gamma: 0.656718208441832,
    delta: 2.78344223257738,
};

#[test]
fn the_papers_estimates_on_the_donations_are_reproduced() {
    // Fader, Hardie & Shang (2010), shared/REFERENCE.md: α = 1.204, β = 0.750, γ = 0.657,
    // δ = 2.783, log-likelihood −33,225.58 (mpmath: −33225.581274347).
    let histories = read_discrete_histories(&repo("data/donations.csv")).unwrap();
    assert_eq!(histories.n_customers(), 11_104.0);
    let fit = fit_bg_bb(&histories, &FitOptions::default()).unwrap();
    let (Buying::Beta { alpha, beta }, Retention::Beta { gamma, delta }) = (fit.params.buying, fit.params.dropout)
    else {
        panic!("not the full model: {:?}", fit.params);
    };
    assert_eq!(
        format!("{alpha:.3} {beta:.3} {gamma:.3} {delta:.3} {:.2}", fit.log_likelihood),
        "1.204 0.750 0.657 2.783 -33225.58"
    );
    for (got, expected) in fit.params.to_vec().iter().zip(MLE.to_vec()) {
        assert!(close(*got, expected, 1e-6), "{got} vs {expected}");
    }
    assert!(
        close(fit.log_likelihood, -33225.581274347, 1e-12),
        "{}",
        fit.log_likelihood
    );
    assert!(fit.standard_errors.is_some() && fit.warnings.is_empty());
}

#[test]
fn p_alive_conditional_expectations_and_dert_match_high_precision_values() {
    // mpmath (30 digits) at the maximum above, n = 6 (the donations' opportunities):
    //   P(alive) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L (eq. 11);
    //   E[X(n, n+5)] by eq. (13)'s closed form, δ/(γ−1) · Γ(γ+δ)/Γ(1+δ) · [Γ(1+δ+n)/Γ(γ+δ+n)
    //   − Γ(1+δ+n+5)/Γ(γ+δ+n+5)] · B(α+x+1, β+n−x)/B(α,β) / L — an independent form of the sum
    //   clv computes;
    //   DERT(0.1) = B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+1)/(B(γ,δ) · 1.1) · hyp2f1(1, δ+n+1,
    //   γ+δ+n+1, 1/1.1) / L (eq. 14).
    let cases = [
        ((0, 0), 0.10813328186466922, 0.072863341050477002, 0.11475271563248921),
        ((1, 1), 0.069461807373092387, 0.085695709031319769, 0.1349624542001591),
        ((3, 5), 0.76682599562722299, 1.8047029371231998, 2.8422325954192689),
        ((6, 6), 0.93043357551548886, 3.7525442218870337, 5.9098942456430804),
        ((2, 6), 0.93043357551548886, 1.6688168236913187, 2.6282251081390689),
        ((4, 4), 0.20017903426770147, 0.58319199085176657, 0.91847098582806349),
    ];
    let model = BgBb::from(MLE);
    for ((x, t_x), p_alive, expected_5, dert) in cases {
        assert!(close(model.p_alive(x, t_x, 6), p_alive, 1e-13), "P(alive | {x}, {t_x})");
        assert!(
            close(model.expected_transactions(5, x, t_x, 6), expected_5, 1e-13),
            "E[X] | {x}, {t_x}"
        );
        let got = model.discounted_expected_residual_transactions(0.1, x, t_x, 6).unwrap();
        assert!(close(got, dert, 1e-13), "DERT | {x}, {t_x}: {got}");
    }
    // E[X(n)] = α/(α+β) · δ/(γ−1) · [1 − Γ(γ+δ)/Γ(γ+δ+n) · Γ(1+δ+n)/Γ(1+δ)] (eq. 7):
    // 2.2201693442122306 for n = 6, 3.3886542320963541 for n = 11.
    assert!(close(model.expected_transactions_new(6), 2.2201693442122306, 1e-13));
    assert!(close(model.expected_transactions_new(11), 3.3886542320963541, 1e-13));
}

/// The donations histogram as a log: every donor first gives on 1 March 1995, then in x of the
/// six years 1996–2001, the last in year t_x (the others the earliest ones).
fn donations_log() -> String {
    let text = std::fs::read_to_string(repo("data/donations.csv")).unwrap();
    let mut log = String::from("customer_id,date\n");
    let mut id = 0;
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let v: Vec<u32> = line.split(',').map(|f| f.parse().unwrap()).collect();
        let (x, t_x, weight) = (v[0], v[1], v[3]);
        for _ in 0..weight {
            id += 1;
            log.push_str(&format!("d{id},1995-03-01\n"));
            let years = (1..x).chain((x > 0).then_some(t_x));
            for year in years {
                log.push_str(&format!("d{id},{}-03-01\n", 1995 + year));
            }
        }
    }
    log
}

#[test]
fn run_with_bg_bb_fits_a_yearly_log_and_forecasts_each_donor() {
    let dir = scratch_dir("bg_bb_run");
    let log = dir.join("donations.csv");
    std::fs::write(&log, donations_log()).unwrap();
    let out = dir.join("pred.csv");
    let r = clv(&[
        "run",
        s(&log),
        "--model",
        "bg-bb",
        "--period",
        "year",
        "--observation-end",
        "2001-12-31",
        "--horizon",
        "5",
        "-o",
        s(&out),
    ]);
    assert!(r.success, "{}", r.stderr);
    for line in [
        "alpha            1.2035",
        "beta             0.7497",
        "gamma            0.6567",
        "delta            2.7834",
    ] {
        assert!(r.stdout.contains(line), "no '{line}' in:\n{}", r.stdout);
    }
    assert!(r.stdout.contains("log-likelihood -33225.5813"), "{}", r.stdout);
    // A donor who gave in all six years: P(alive) and E[X(6, 11)] as above (mpmath).
    let (header, rows) = csv_header_and_rows(&out);
    assert_eq!(rows.len(), 11_104);
    let (x, p, e) = (
        column(&header, "frequency"),
        column(&header, "p_alive"),
        column(&header, "expected_purchases"),
    );
    let loyal = rows.iter().find(|row| row[x] == "6").unwrap();
    assert!(close(loyal[p].parse().unwrap(), 0.93043357551548886, 1e-7), "{loyal:?}");
    assert!(close(loyal[e].parse().unwrap(), 3.7525442218870337, 1e-7), "{loyal:?}");
    // The opportunity is required, and only for BG/BB.
    let r = clv(&["run", s(&log), "--model", "bg-bb", "-o", s(&out)]);
    assert!(
        r.code == Some(1) && r.stderr.contains("give the opportunity's period"),
        "{}",
        r.stderr
    );
    let r = clv(&["run", s(&log), "--period", "year", "-o", s(&out)]);
    assert!(
        r.code == Some(1) && r.stderr.contains("use it with --model bg-bb"),
        "{}",
        r.stderr
    );
}

/// Simulates 20,000 customers who first buy in 2000, one opportunity a year to 2009, from BG/BB
/// with `params` (`--params`; `None`: the donations estimates) and `seed`; runs BG/BB on the
/// log. Run's stdout and the model file's purchase fit.
fn simulate_and_run_yearly(dir: &std::path::Path, seed: &str, params: Option<&str>) -> (String, serde_json::Value) {
    let (log, model) = (dir.join("log.csv"), dir.join("model.json"));
    let mut simulate = vec![
        "simulate",
        "--model",
        "bg-bb",
        "--customers",
        "20000",
        "--seed",
        seed,
        "--period",
        "year",
        "--days",
        "3653",
        "--acquisition-days",
        "366",
        "--start",
        "2000-01-01",
        "-o",
        s(&log),
    ];
    if let Some(params) = params {
        simulate.extend(["--params", params]);
    }
    let r = clv(&simulate);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&[
        "run",
        s(&log),
        "--model",
        "bg-bb",
        "--period",
        "year",
        "--observation-end",
        "2009-12-31",
        "-o",
        s(&dir.join("p.csv")),
        "--report-dir",
        s(&dir.join("report")),
        "--model-output",
        s(&model),
    ]);
    assert!(r.success, "{}", r.stderr);
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    (r.stdout, record["purchase"].clone())
}

#[test]
fn a_simulated_yearly_log_gives_back_its_parameters() {
    // 20,000 customers who first buy in 2000, one opportunity a year to 2009, drawn from the
    // donations estimates: each estimate within 4 of its standard errors of the truth (a correct
    // simulation and fit miss that once in 16,000 seeds).
    let dir = scratch_dir("bg_bb_recovery");
    let (_, purchase) = simulate_and_run_yearly(&dir, "1", None);
    for (name, truth) in [("alpha", 1.204), ("beta", 0.750), ("gamma", 0.657), ("delta", 2.783)] {
        let estimate = purchase["params"][name].as_f64().unwrap();
        let se = purchase["standard_errors"][name].as_f64().unwrap();
        assert!(
            (estimate - truth).abs() < 4.0 * se,
            "{name}: {estimate} ± {se}, truth {truth}"
        );
    }
}

#[test]
fn the_distribution_of_future_transactions_sums_to_one_with_eq_13_as_its_mean() {
    // Σ_k P(X(6, 11) = k | x, t_x, 6) = 1, and Σ_k k P(...) is eq. (13)'s closed form (the mpmath
    // values of the test above).
    for ((x, t_x), mean) in [
        ((0, 0), 0.072863341050477002),
        ((3, 5), 1.8047029371231998),
        ((6, 6), 3.7525442218870337),
    ] {
        let model = BgBb::from(MLE);
        let p: Vec<f64> = (0..=5)
            .map(|k| model.probability_of_transactions(k, 5, x, t_x, 6))
            .collect();
        let total: f64 = p.iter().sum();
        let expected: f64 = p.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        assert!((total - 1.0).abs() < 1e-13, "({x}, {t_x}): {total}");
        assert!(close(expected, mean, 1e-12), "({x}, {t_x}): {expected} vs {mean}");
        assert_eq!(model.probability_of_transactions(6, 5, x, t_x, 6), 0.0);
    }
}

#[test]
fn a_log_with_one_buying_probability_for_everyone_is_fitted_at_that_limit() {
    // Every customer alive buys at each opportunity with p = 0.6 (alpha, beta = 3000, 2000: the
    // limit to 1 part in 5000), dropout as in the donations; 20,000 customers, 2000 to 2009.
    let dir = scratch_dir("bg_bb_limit");
    let (stdout, purchase) = simulate_and_run_yearly(&dir, "4", Some("3000,2000,0.657,2.783,6.25,3.74,15.44"));
    assert!(stdout.contains("limiting model, one buying probability"), "{stdout}");
    assert!(purchase["params"]["alpha"].is_null(), "{purchase}");
    for (name, truth) in [("p", 0.6), ("gamma", 0.657), ("delta", 2.783)] {
        let estimate = purchase["params"][name].as_f64().unwrap();
        let se = purchase["standard_errors"][name].as_f64().unwrap();
        assert!(
            (estimate - truth).abs() < 4.0 * se,
            "{name}: {estimate} ± {se}, truth {truth}"
        );
    }
}

#[test]
fn a_new_donors_transactions_in_six_years_match_high_precision_values() {
    // mpmath (30 digits) at the maximum above: P(X(6) = x) = C(6, x) B(α+x, β+6−x)/B(α,β) ·
    // B(γ, δ+6)/B(γ,δ) + Σ_{i=x..5} C(i, x) B(α+x, β+i−x)/B(α,β) · B(γ+1, δ+i)/B(γ,δ), and its
    // mean E[X(6)] = Σ x P(X(6) = x).
    let expected = [
        0.31113850790061775047,
        0.17008774888605645309,
        0.12147715628894608385,
        0.1002682400048914845,
        0.091671686530041851395,
        0.092504145723240625823,
        0.11285251466620575088,
    ];
    let model = BgBb::from(MLE);
    for (x, e) in expected.iter().enumerate() {
        let p = model.probability_of_transactions_new(x as u32, 6);
        assert!(close(p, *e, 1e-13), "P(X(6) = {x}) = {p}, mpmath {e}");
    }
    assert_eq!(model.probability_of_transactions_new(7, 6), 0.0);
    assert!(close(model.expected_transactions_new(6), 2.2201693442122281143, 1e-13));
}

#[test]
fn evaluate_with_bg_bb_sets_the_papers_diagnostics_beside_the_data() {
    // The donations log observed to 2006 with no gift after 2001: the calibration diagnostics are
    // the paper's (figure 2's histogram, figure 3's yearly repeat transactions to 2001), the
    // holdout a check of the bookkeeping (every donor expected to give, none gave).
    let dir = scratch_dir("bg_bb_evaluate");
    let log = dir.join("donations.csv");
    std::fs::write(&log, donations_log()).unwrap();
    let report = dir.join("evaluation");
    let r = evaluate_donations_to_2006(&log, &report, &[]);
    assert!(r.success, "{}", r.stderr);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("evaluation.json")).unwrap()).unwrap();
    let numbers = |key: &str| -> Vec<f64> {
        json[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    // 11,104 · P(X(6) = x), mpmath at the maximum (the test above); the fit is at the maximum to
    // 1e-6 (the first test), so the expected counts agree to a few parts in a million.
    let expected_counts = [
        3454.88199172846,
        1888.65436363077,
        1348.88234343246,
        1113.37853701432,
        1017.92240722958,
        1027.16603411086,
        1253.11432285355,
    ];
    let model_counts: Vec<f64> = json["frequency"]["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (got, want) in model_counts.iter().zip(expected_counts) {
        assert!(close(*got, want, 1e-5), "{got} vs {want}");
    }
    // The donations' own counts by x (data/donations.csv summed by frequency).
    let text = std::fs::read_to_string(repo("data/donations.csv")).unwrap();
    let mut by_x = [0.0; 7];
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let v: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
        by_x[v[0] as usize] += v[3];
    }
    assert_eq!(numbers("frequency_actual"), by_x.to_vec());
    // Yearly repeat transactions 1996–2006: every donor started in 1995, so year 1995 + k expects
    // 11,104 · α/(α+β) · B(γ, δ+k)/B(γ,δ) (eq. 7's increments; mpmath).
    let increments = [
        5535.81802807388,
        4717.04750256058,
        4147.62110078405,
        3724.67848568184,
        3395.91350789277,
        3131.68177313946,
        2913.82186955883,
        2730.53351027491,
        2573.78823697188,
        2437.91751344652,
        2318.79506481315,
    ];
    let periods: Vec<&str> = json["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(periods, (1996..=2006).map(|y| y.to_string()).collect::<Vec<_>>());
    assert_eq!(json["calibration_periods"], 6);
    for (got, want) in numbers("expected_by_period").iter().zip(increments) {
        assert!(close(*got, want, 1e-5), "{got} vs {want}");
    }
    // The actual yearly transactions add up to the calibration's x (Σ x · count over the
    // histogram), and are nil in the holdout.
    let actual = numbers("actual_by_period");
    let total_x: f64 = by_x.iter().enumerate().map(|(x, c)| x as f64 * c).sum();
    assert_eq!(actual[..6].iter().sum::<f64>(), total_x);
    assert!(actual[6..].iter().all(|&a| a == 0.0));
    // The holdout expectation: Σ over donors of E[X(6, 11) | x, t_x, 6], which is the conditional
    // means by frequency weighted by their customers.
    let predicted = json["holdout"]["predicted_transactions"].as_f64().unwrap();
    let by_frequency: f64 = json["by_frequency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["customers"].as_f64().unwrap() * g["expected"].as_f64().unwrap())
        .sum();
    assert!(close(by_frequency, predicted, 1e-12), "{by_frequency} vs {predicted}");
    assert_eq!(json["holdout_transactions"], 0);
    let (header, rows) = csv_header_and_rows(&report.join("holdout_predictions.csv"));
    assert_eq!(rows.len(), 11_104);
    let predicted_column = column(&header, "predicted_holdout_bg_bb");
    let sum: f64 = rows.iter().map(|r| r[predicted_column].parse::<f64>().unwrap()).sum();
    assert!(close(sum, predicted, 1e-9), "{sum} vs {predicted}");
    for figure in [
        "frequency_histogram",
        "repeat_transactions_by_period",
        "conditional_expectations_by_recency",
    ] {
        assert!(report.join(format!("{figure}.svg")).exists(), "no {figure}");
    }
    // BG/BB reads opportunities, so it is evaluated alone and needs its period.
    let r = clv(&[
        "evaluate",
        s(&log),
        "--model",
        "bg-bb,bg-nbd",
        "--period",
        "year",
        "--calibration-end",
        "2000-12-31",
    ]);
    assert!(
        r.code == Some(1) && r.stderr.contains("evaluated alone"),
        "{}",
        r.stderr
    );
    let r = clv(&[
        "evaluate",
        s(&log),
        "--model",
        "bg-bb",
        "--calibration-end",
        "2000-12-31",
    ]);
    assert!(
        r.code == Some(1) && r.stderr.contains("give the opportunity's period"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bg_bb_model_file_forecasts_a_summary_as_run_did() {
    // run writes the model; summarize --period writes the discrete summary; predict with the
    // model file gives run's predictions byte for byte (observed to mid-year: the histories end
    // on 31 August, which the summary's period_end carries to the forecast).
    let dir = scratch_dir("bg_bb_model_file");
    let log = dir.join("donations.csv");
    std::fs::write(&log, donations_log()).unwrap();
    let (model, summary, by_run, by_predict) = (
        dir.join("bg_bb.json"),
        dir.join("summary.csv"),
        dir.join("run.csv"),
        dir.join("predict.csv"),
    );
    let end = ["--observation-end", "2001-08-31"];
    let r = clv(&[
        &[
            "run",
            s(&log),
            "--model",
            "bg-bb",
            "--period",
            "year",
            "--model-output",
            s(&model),
            "-o",
            s(&by_run),
        ][..],
        &end,
    ]
    .concat());
    assert!(r.success, "{}", r.stderr);
    let r = clv(&[&["summarize", s(&log), "--period", "year", "-o", s(&summary)][..], &end].concat());
    assert!(r.success, "{}", r.stderr);
    let r = clv(&["predict", s(&summary), "--model-file", s(&model), "-o", s(&by_predict)]);
    assert!(r.success, "{}", r.stderr);
    assert_eq!(std::fs::read(&by_run).unwrap(), std::fs::read(&by_predict).unwrap());
    let (header, rows) = csv_header_and_rows(&by_predict);
    assert_eq!(rows.len(), 11_104);
    assert_eq!(rows[0][column(&header, "period_end")], "2001-08-31");
    // clv fit on the summary stores the same fit: predict with it gives the same bytes again.
    let fitted = dir.join("fitted.json");
    let r = clv(&[
        "fit",
        s(&summary),
        "--model",
        "bg-bb",
        "--period",
        "year",
        "-o",
        s(&fitted),
    ]);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&["predict", s(&summary), "--model-file", s(&fitted), "-o", s(&by_predict)]);
    assert!(r.success, "{}", r.stderr);
    assert_eq!(std::fs::read(&by_run).unwrap(), std::fs::read(&by_predict).unwrap());
    // And on the papers' weighted histogram, the papers' estimates (no amounts, no spend model).
    let r = clv(&[
        "fit",
        s(&repo("data/donations.csv")),
        "--model",
        "bg-bb",
        "--period",
        "year",
        "-o",
        s(&fitted),
    ]);
    assert!(r.success, "{}", r.stderr);
    for line in [
        "alpha            1.2035",
        "delta            2.7834",
        "log-likelihood -33225.5813",
    ] {
        assert!(r.stdout.contains(line), "no '{line}' in:\n{}", r.stdout);
    }
    let r = clv(&[
        "fit",
        s(&repo("data/donations.csv")),
        "--model",
        "bg-bb",
        "-o",
        s(&fitted),
    ]);
    assert!(
        r.code == Some(1) && r.stderr.contains("give the opportunity's period"),
        "{}",
        r.stderr
    );
    // A summary per quarter does not go with a yearly model, and a continuous-time command says
    // where a BG/BB model file goes.
    let quarterly = dir.join("quarterly.csv");
    let r = clv(&[
        &["summarize", s(&log), "--period", "quarter", "-o", s(&quarterly)][..],
        &end,
    ]
    .concat());
    assert!(r.success, "{}", r.stderr);
    let r = clv(&[
        "predict",
        s(&quarterly),
        "--model-file",
        s(&model),
        "-o",
        s(&by_predict),
    ]);
    assert!(
        r.code == Some(1) && r.stderr.contains("period") && r.stderr.contains("per quarter, the model per year"),
        "{}",
        r.stderr
    );
    let r = clv(&[
        "report",
        s(&summary),
        "--model-file",
        s(&model),
        "--report-dir",
        s(&dir),
    ]);
    assert!(
        r.code == Some(1) && r.stderr.contains("a BG/BB model of discrete opportunities"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_log_where_customers_leave_at_once_or_never_is_fitted_at_that_limit() {
    // gamma, delta = 3e-7, 7e-7: 30% of customers leave before their first opportunity and the
    // rest never leave (the simulator draws such Betas in logarithms; a 0/0 draw would leave
    // nobody). 20,000 customers, 2000 to 2009; buying as in the donations, then nearly one buying
    // probability 0.3 for everyone (alpha, beta = 3000, 7000, which this sample cannot tell from
    // the limit: its maximum has alpha + beta ≈ 500). Each estimate within 4 of its standard
    // errors of the truth.
    let dir = scratch_dir("bg_bb_split");
    // (parameters, the limit reported, estimates and their truths, the mean buying probability)
    for (params, limit, truths, mean_buying_truth) in [
        (
            "1.204,0.750,3e-7,7e-7,6.25,3.74,15.44",
            "limiting model, leaving at once or never",
            vec![("alpha", 1.204), ("beta", 0.750), ("pi", 0.3)],
            1.204 / 1.954,
        ),
        (
            "3000,7000,3e-7,7e-7,6.25,3.74,15.44",
            "leaving at once or never",
            vec![("pi", 0.3)],
            0.3,
        ),
    ] {
        let (stdout, purchase) = simulate_and_run_yearly(&dir, "5", Some(params));
        assert!(stdout.contains(limit), "{stdout}");
        for (name, truth) in truths {
            let estimate = purchase["params"][name].as_f64().unwrap();
            let se = purchase["standard_errors"][name].as_f64().unwrap();
            assert!(
                (estimate - truth).abs() < 4.0 * se,
                "{name}: {estimate} ± {se}, truth {truth}"
            );
        }
        let params = &purchase["params"];
        let mean_buying = params["p"].as_f64().unwrap_or_else(|| {
            let (alpha, beta) = (params["alpha"].as_f64().unwrap(), params["beta"].as_f64().unwrap());
            alpha / (alpha + beta)
        });
        assert!((mean_buying - mean_buying_truth).abs() < 0.01, "{params}");
        // Those who came back never leave: P(alive) = 1 for every repeat customer.
        let (header, rows) = csv_header_and_rows(&dir.join("p.csv"));
        let (x, alive) = (column(&header, "frequency"), column(&header, "p_alive"));
        for row in rows.iter().filter(|row| row[x] != "0") {
            assert_eq!(row[alive].parse::<f64>().unwrap(), 1.0, "{row:?}");
        }
    }
}

#[test]
fn a_weekly_log_where_nobody_leaves_fits_instead_of_failing() {
    // 2,000 customers, each buying 1 to 8 times on days drawn uniformly from 300 (so nobody
    // leaves, and how often a customer buys has nothing to do with when she started): weekly
    // opportunities. The likelihood is highest at one buying probability and a dropout next to
    // (or at) its split limit, gamma, delta → 0: a share "left" at once (the customers who never
    // came back) and the rest stay. The fit used to end in "neither the model nor any of its
    // limiting models reached a maximum"; it ends at gamma + delta ≈ 0.007 on this log.
    let dir = scratch_dir("bg_bb_nobody_leaves");
    let log = dir.join("log.csv");
    std::fs::write(&log, log_where_nobody_leaves(2000, 0)).unwrap();
    let predictions = dir.join("p.csv");
    let r = clv(&[
        "run",
        s(&log),
        "--model",
        "bg-bb",
        "--period",
        "week",
        "-o",
        s(&predictions),
        "--report-dir",
        s(&dir.join("report")),
    ]);
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stdout.contains("limiting model, one buying probability"),
        "{}",
        r.stdout
    );
    let (header, rows) = csv_header_and_rows(&predictions);
    let (x, alive) = (column(&header, "frequency"), column(&header, "p_alive"));
    assert_eq!(rows.len(), 2000);
    let mut repeaters = (0.0, 0.0);
    for row in &rows {
        let p_alive: f64 = row[alive].parse().unwrap();
        assert!(p_alive > 0.0 && p_alive <= 1.0, "{row:?}");
        if row[x] != "0" {
            repeaters = (repeaters.0 + p_alive, repeaters.1 + 1.0);
        }
    }
    // Who came back stays: the model finds almost no dropout among them.
    let mean = repeaters.0 / repeaters.1;
    assert!(mean > 0.99, "{mean}");
}

#[test]
fn intervals_of_bg_bb_forecasts_agree_with_the_delta_method_and_the_predictive_distribution() {
    // Issue "decision-grade value", for discrete opportunities: `--interval` with BG/BB. The total
    // of E[X(6, 11)] over the donors has, by the delta method in the scale the parameters are
    // drawn in (their logarithms), the standard deviation sqrt(gᵀ Σ_u g), g_j = ∂ total / ∂ ln p_j
    // by central differences and Σ_u[i][j] = Cov(p_i, p_j) / (p_i p_j) from the model file's
    // covariance; with the likelihood this close to normal, the 5% and 95% quantiles of 2,000
    // draws must lie at the total ∓ 1.645 sd, to a tenth of that half-width (their Monte Carlo
    // error is about 3% of it, one standard deviation). Measured with seed 1: half-width 254.5,
    // the lower bound 0.4% of it from the delta method's, the upper 6.6% (further out: the draws
    // are normal in the parameters' logarithms, and the total is not linear in them).
    let dir = scratch_dir("bg_bb_intervals");
    let (log, out, model) = (dir.join("donations.csv"), dir.join("pred.csv"), dir.join("model.json"));
    std::fs::write(&log, donations_log()).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            s(&log),
            "--model",
            "bg-bb",
            "--period",
            "year",
            "--observation-end",
            "2001-12-31",
            "--horizon",
            "5",
            "-o",
            s(&out),
            "--model-output",
            s(&model),
        ];
        args.extend(extra);
        clv(&args)
    };
    let r = run(&["--interval", "0.9", "--draws", "2000"]);
    assert!(r.success, "{}", r.stderr);
    let [estimate, lo, hi] = printed_purchases_interval(&r.stdout, "2000 draws");

    let fit: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let names = ["alpha", "beta", "gamma", "delta"];
    let params: Vec<f64> = names
        .iter()
        .map(|n| fit["purchase"]["params"][n].as_f64().unwrap())
        .collect();
    let covariance: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            (0..4)
                .map(|j| fit["purchase"]["covariance"][i][j].as_f64().unwrap())
                .collect()
        })
        .collect();
    let histories = read_discrete_histories(&repo("data/donations.csv")).unwrap();
    let total = |p: &[f64]| -> f64 {
        let model = BgBb::from(BgBbParams::from_slice(p));
        histories
            .rows()
            .iter()
            .map(|r| r.weight * model.expected_transactions(5, r.x, r.t_x, r.n))
            .sum()
    };
    assert!(
        close(total(&params), estimate, 1e-5),
        "{} vs {estimate}",
        total(&params)
    );
    let step = 1e-5;
    let gradient: Vec<f64> = (0..4)
        .map(|j| {
            let at = |sign: f64| {
                let mut p = params.clone();
                p[j] *= (sign * step).exp();
                total(&p)
            };
            (at(1.0) - at(-1.0)) / (2.0 * step)
        })
        .collect();
    let variance: f64 = (0..4)
        .flat_map(|i| (0..4).map(move |j| (i, j)))
        .map(|(i, j)| gradient[i] * covariance[i][j] / (params[i] * params[j]) * gradient[j])
        .sum();
    let half_width = 1.6448536269514722 * variance.sqrt();
    assert!(half_width > 100.0, "{half_width}");
    for (bound, delta) in [(lo, estimate - half_width), (hi, estimate + half_width)] {
        assert!(
            (bound - delta).abs() < 0.1 * half_width,
            "bound {bound} against the delta method's {delta} (half-width {half_width})"
        );
    }

    // Per donor: the bounds hold the point forecast here, churn's are P(alive)'s from 1, donors of
    // one history share them, and the predictive interval of her own transactions is the 5% and
    // 95% quantiles of P(X(6, 11) = k | x, t_x, 6) at the estimates.
    let (header, rows) = csv_header_and_rows(&out);
    let at = |row: &Vec<String>, name: &str| -> f64 { row[column(&header, name)].parse().unwrap() };
    let model = BgBb::from(BgBbParams::from_slice(&params));
    let mut seen = std::collections::HashMap::new();
    for row in &rows {
        for name in ["p_alive", "churn_probability", "expected_purchases"] {
            let (q05, point, q95) = (
                at(row, &format!("{name}_q05")),
                at(row, name),
                at(row, &format!("{name}_q95")),
            );
            assert!(q05 < point && point < q95, "{name}: {q05} {point} {q95}");
        }
        assert!((at(row, "churn_probability_q05") - (1.0 - at(row, "p_alive_q95"))).abs() < 2e-6);
        let history = (at(row, "frequency") as u32, at(row, "recency") as u32);
        let bounds = [at(row, "p_alive_q05"), at(row, "expected_purchases_q95")];
        assert_eq!(*seen.entry(history).or_insert(bounds), bounds, "{history:?}");
        let (x, t_x) = history;
        let cumulative = |k: u32| {
            (0..=k)
                .map(|j| model.probability_of_transactions(j, 5, x, t_x, 6))
                .sum::<f64>()
        };
        for (name, q) in [("purchases_q05", 0.05), ("purchases_q95", 0.95)] {
            let k = at(row, name) as u32;
            assert!(cumulative(k) >= q - 1e-12, "{name} = {k} at {history:?}");
            assert!(k == 0 || cumulative(k - 1) < q - 1e-12, "{name} = {k} at {history:?}");
        }
    }
    assert_eq!(seen.len(), 22);

    // The bootstrap answers the same question without the normal approximation: BG/BB refitted
    // to 400 resamples of the 11,104 donors. With this many donors the likelihood is close to
    // normal, so its interval of the five-year total holds the estimate and is as wide as 400
    // draws' to within a quarter (each bound's Monte Carlo error at 400 is about 6% of the
    // half-width). Measured with seed 1: widths 508.1 (bootstrap) and 535.2.
    let r = run(&["--interval", "0.9", "--bootstrap", "400"]);
    assert!(r.success, "{}", r.stderr);
    let [b_estimate, b_lo, b_hi] = printed_purchases_interval(&r.stdout, "400 bootstrap refits");
    let r = run(&["--interval", "0.9", "--draws", "400"]);
    assert!(r.success, "{}", r.stderr);
    let [n_estimate, n_lo, n_hi] = printed_purchases_interval(&r.stdout, "400 draws");
    assert_eq!(b_estimate, n_estimate);
    assert!(b_lo < b_estimate && b_estimate < b_hi, "[{b_lo}, {b_hi}]");
    let (b, n) = (b_hi - b_lo, n_hi - n_lo);
    assert!((b / n - 1.0).abs() < 0.25, "bootstrap width {b}, normal {n}");
}

#[test]
fn bg_bb_intervals_with_amounts_bound_spend_and_clv_and_predict_gives_runs() {
    // CDNOW by month, with Gamma-Gamma: the spend and CLV columns get their bounds, the total CLV
    // its interval; predict with run's model file and the same seed writes the same bytes.
    let dir = scratch_dir("bg_bb_intervals_spend");
    let (model, summary, by_run, by_predict) = (
        dir.join("bg_bb.json"),
        dir.join("summary.csv"),
        dir.join("run.csv"),
        dir.join("predict.csv"),
    );
    let log = repo("data/cdnow_sample.csv");
    let interval = ["--interval", "0.8", "--draws", "300", "--interval-seed", "7"];
    let r = clv(&[
        &[
            "run",
            s(&log),
            "--model",
            "bg-bb",
            "--period",
            "month",
            "--model-output",
            s(&model),
            "--report-dir",
            s(&dir.join("report")),
            "-o",
            s(&by_run),
        ][..],
        &interval,
    ]
    .concat());
    assert!(r.success, "{}", r.stderr);
    let totals = r
        .stdout
        .lines()
        .find(|l| l.starts_with("Totals with their 80% interval from parameter uncertainty (300 draws)"))
        .unwrap_or_else(|| panic!("no totals in:\n{}", r.stdout));
    assert!(totals.contains(", CLV "), "{totals}");
    let r = clv(&["summarize", s(&log), "--period", "month", "-o", s(&summary)]);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&[
        &["predict", s(&summary), "--model-file", s(&model), "-o", s(&by_predict)][..],
        &interval,
    ]
    .concat());
    assert!(r.success, "{}", r.stderr);
    let (header, rows) = csv_header_and_rows(&by_run);
    let (predicted_header, predicted) = csv_header_and_rows(&by_predict);
    assert_eq!(header, predicted_header);
    assert_eq!(rows, predicted);
    let at = |row: &Vec<String>, name: &str| -> f64 { row[column(&header, name)].parse().unwrap() };
    let mut inside = 0;
    for row in &rows {
        for name in ["expected_avg_spend", "clv"] {
            let (lo, hi) = (at(row, &format!("{name}_q10")), at(row, &format!("{name}_q90")));
            assert!(lo <= hi, "{name}: {lo} > {hi}");
            inside += usize::from(lo <= at(row, name) && at(row, name) <= hi);
        }
    }
    // The point forecast at the estimates lies inside nearly every interval (the draws are
    // centred on the estimates; a skewed forecast can leave it just outside).
    assert!(
        inside as f64 >= 0.95 * 2.0 * rows.len() as f64,
        "{inside} of {}",
        2 * rows.len()
    );
    // --bootstrap refits BG/BB and Gamma-Gamma to resamples of the customers; predict refits as
    // the stored fit was made, so with the same seed it writes run's bytes, spend and CLV bounds
    // included.
    let bootstrap = ["--interval", "0.8", "--bootstrap", "50", "--interval-seed", "7"];
    let (by_run_refits, by_predict_refits) = (dir.join("run_refits.csv"), dir.join("predict_refits.csv"));
    let r = clv(&[
        &[
            "run",
            s(&log),
            "--model",
            "bg-bb",
            "--period",
            "month",
            "--report-dir",
            s(&dir.join("report_refits")),
            "-o",
            s(&by_run_refits),
        ][..],
        &bootstrap,
    ]
    .concat());
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stdout.lines().any(|l| l
            .starts_with("Totals with their 80% interval from parameter uncertainty (50 bootstrap refits)")
            && l.contains(", CLV ")),
        "{}",
        r.stdout
    );
    let r = clv(&[
        &[
            "predict",
            s(&summary),
            "--model-file",
            s(&model),
            "-o",
            s(&by_predict_refits),
        ][..],
        &bootstrap,
    ]
    .concat());
    assert!(r.success, "{}", r.stderr);
    let (refits_header, refits) = csv_header_and_rows(&by_run_refits);
    assert_eq!(refits_header, header);
    assert_eq!(refits, csv_header_and_rows(&by_predict_refits).1);
    // A fit without a covariance has no draws: the refusal says why, and what answers instead.
    let mut fit: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    fit["purchase"]["covariance"] = serde_json::Value::Null;
    let without = dir.join("no_covariance.json");
    std::fs::write(&without, fit.to_string()).unwrap();
    let r = clv(&[
        &[
            "predict",
            s(&summary),
            "--model-file",
            s(&without),
            "-o",
            s(&by_predict),
        ][..],
        &interval,
    ]
    .concat());
    assert!(
        r.code == Some(1)
            && r.stderr.contains("BG/BB: the fit has no covariance")
            && r.stderr
                .contains("--bootstrap N refits resamples of the customers instead"),
        "{}",
        r.stderr
    );
}

#[test]
fn evaluate_with_bg_bb_bounds_the_holdout_as_run_bounds_the_same_forecast() {
    // Issue "decision-grade value": the cohort forecasts of `evaluate --model bg-bb` get intervals.
    // The donations calibrated to 2001 with a five-year holdout: the holdout total is
    // Σ E[X(6, 11) | x, t_x, 6], the very total whose interval `clv run --observation-end
    // 2001-12-31 --horizon 5 --interval 0.9` prints (checked against the delta method above).
    // Drawn with the same seed from the same fit, the two intervals are the same, to the one
    // decimal run prints. Each year's bounds hold its expected transactions, and the holdout,
    // where nobody gave, lies below its interval. `--bootstrap` bounds it too.
    let dir = scratch_dir("bg_bb_evaluate_intervals");
    let log = dir.join("donations.csv");
    std::fs::write(&log, donations_log()).unwrap();
    let report = dir.join("evaluation");
    let evaluate = |extra: &[&str]| {
        let mut args = vec!["--interval", "0.9"];
        args.extend(extra);
        evaluate_donations_to_2006(&log, &report, &args)
    };
    let r = evaluate(&[]);
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("holdout transactions, 90% interval from parameter uncertainty (200 draws): [")
            && r.stdout.contains("the actual 0 lies below it"),
        "{}",
        r.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("evaluation.json")).unwrap()).unwrap();
    let intervals = &json["intervals"];
    let total = |key: &str| intervals["holdout_transactions"][key].as_f64().unwrap();
    let predicted = json["holdout"]["predicted_transactions"].as_f64().unwrap();
    assert!(close(total("estimate"), predicted, 1e-12), "{intervals}");
    assert!(total("lo") < predicted && predicted < total("hi"), "{intervals}");
    let numbers = |value: &serde_json::Value| -> Vec<f64> {
        value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
    };
    let expected = numbers(&json["expected_by_period"]);
    let (lo, hi) = (numbers(&intervals["by_period_lo"]), numbers(&intervals["by_period_hi"]));
    assert_eq!((lo.len(), hi.len()), (expected.len(), expected.len()));
    for ((lo, hi), e) in lo.iter().zip(&hi).zip(&expected) {
        assert!(lo < e && e < hi, "{lo} {e} {hi}");
    }

    let r = clv(&[
        "run",
        s(&log),
        "--model",
        "bg-bb",
        "--period",
        "year",
        "--observation-end",
        "2001-12-31",
        "--horizon",
        "5",
        "-o",
        s(&dir.join("pred.csv")),
        "--report-dir",
        s(&dir.join("run_report")),
        "--interval",
        "0.9",
    ]);
    assert!(r.success, "{}", r.stderr);
    let printed = printed_purchases_interval(&r.stdout, "200 draws");
    for (run, evaluated) in printed.iter().zip([total("estimate"), total("lo"), total("hi")]) {
        assert!(
            (run - evaluated).abs() <= 0.05 + 1e-9 * run,
            "run {run}, evaluate {evaluated}"
        );
    }

    // Refits to resamples of the calibration donors bound the same total.
    let r = evaluate(&["--bootstrap", "50"]);
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("holdout transactions, 90% interval from parameter uncertainty (50 bootstrap refits): ["),
        "{}",
        r.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("evaluation.json")).unwrap()).unwrap();
    let refitted = &json["intervals"]["holdout_transactions"];
    let bound = |key: &str| refitted[key].as_f64().unwrap();
    assert!(bound("lo") < predicted && predicted < bound("hi"), "{refitted}");
    assert_eq!(json["intervals"]["method"], "bootstrap");
}

#[test]
fn standard_errors_match_a_40_digit_hessian_on_the_donations_and_near_a_limit() {
    // BG/BB's Hessian is taken by central differences of its analytic gradient. Against the
    // standard errors of a Hessian taken by mpmath from the likelihood itself at its 40-digit
    // maximum (tests/data/generate_bg_bb_se.py): on the donations, and on 5,000 simulated
    // customers whose fit lies out towards one dropout probability for everyone (γ ≈ 14 ± 18,
    // δ ≈ 58 ± 78), where the Hessian is nearly singular. They agree to 8.2e-8 when written.
    let cases = [
        (
            repo("data/donations.csv"),
            [
                1.2035223516019139,
                0.7497163581729389,
                0.6567182084418324,
                2.7834422325773807,
            ],
            -33225.581274347007,
            [
                0.06939136238888156,
                0.029447716660385764,
                0.051009858956413186,
                0.3208190030432685,
            ],
        ),
        (
            repo("tests/data/near_limit_bg_bb_5000.csv"),
            [
                1.0578745038644053,
                0.6856699903412018,
                14.321069760065897,
                58.37156244944973,
            ],
            -13723.258029091396,
            [
                0.09485815761124844,
                0.042813331976732515,
                18.497484958983003,
                78.34221120525686,
            ],
        ),
    ];
    for (path, estimates, ll, standard_errors) in cases {
        let fit = fit_bg_bb(&read_discrete_histories(&path).unwrap(), &FitOptions::default()).unwrap();
        let name = path.display();
        let params = fit.params.to_vec();
        assert_eq!(params.len(), 4, "{name}: not the full model: {:?}", fit.params);
        for (got, expected) in params.iter().zip(estimates) {
            assert!(close(*got, expected, 1e-9), "{name}: {got} vs {expected}");
        }
        assert!(close(fit.log_likelihood, ll, 1e-12), "{name}: {}", fit.log_likelihood);
        let se = fit.standard_errors.unwrap().to_vec();
        for (got, expected) in se.iter().zip(standard_errors) {
            assert!(close(*got, expected, 1e-6), "{name}: SE {got} vs {expected}");
        }
    }
}
