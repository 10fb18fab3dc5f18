//! `clv evaluate` on the bundled CDNOW sample, and `--model` in fit, predict and run.

mod common;

use std::collections::BTreeMap;

use common::{clv, repo, s, scratch_dir};

/// Holdout facts recounted straight from the log, independently of clv: per customer, the
/// same-day-merged transactions after 1997-09-30 and their mean value.
fn holdout_from_the_log() -> BTreeMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(repo("data/cdnow_sample.csv")).unwrap();
    let mut days: BTreeMap<(String, String), f64> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1] > "1997-09-30" {
            *days.entry((f[0].to_string(), f[1].to_string())).or_default() += f[3].parse::<f64>().unwrap();
        }
    }
    let mut customers: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for ((id, _), amount) in days {
        customers.entry(id).or_default().push(amount);
    }
    customers
}

#[test]
fn evaluate_all_models_on_cdnow_reports_the_holdout_facts_and_writes_the_figures() {
    let dir = scratch_dir("evaluate");
    let out = dir.join("evaluation");
    let r = clv(&[
        "evaluate",
        s(&repo("data/cdnow_sample.csv")),
        "--calibration-end",
        "1997-09-30",
        "--model",
        "all",
        "--report-dir",
        s(&out),
    ]);
    assert!(r.success, "{}", r.stderr);
    for expected in [
        "BG/NBD",
        "Pareto/NBD",
        "MBG/NBD",
        "Gamma-Gamma",
        "Comparison",
        "chi-square",
    ] {
        assert!(r.stdout.contains(expected), "missing '{expected}' in:\n{}", r.stdout);
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("evaluation.json")).unwrap()).unwrap();
    let a = &json["actual"];

    // shared/REFERENCE.md: weeks 40–78 hold 1,882 transactions by 684 customers; the calibration
    // period 2,457 repeat transactions. The holdout is also recounted from the log here.
    let holdout = holdout_from_the_log();
    assert_eq!(holdout.len(), 684);
    assert_eq!(holdout.values().map(Vec::len).sum::<usize>(), 1882);
    assert_eq!(a["holdout_transactions"], 1882);
    assert_eq!(a["holdout_customers_with_purchases"], 684);
    assert_eq!(a["calibration_repeat_transactions"], 2457);
    assert_eq!(a["customers"], 2357);
    // The weekly counts of figures 2–3, counted day by day from the log: 39 calibration weeks add
    // up to the papers' 2,457 and all 78 weeks to 2,457 + the 1,882 recounted above.
    let cumulative: Vec<u64> = a["cumulative"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(cumulative.len(), 78);
    assert_eq!(cumulative[38], 2457);
    assert_eq!(cumulative[77], 4339);
    assert_eq!(json["calibration_weeks"], 39.0);

    // Figure 1's actual counts against the published summary file's x column.
    let mut published = [0u64; 8];
    for row in common::published_summary() {
        published[(row.x as usize).min(7)] += 1;
    }
    let ours: Vec<u64> = a["frequency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(ours, published);

    let models = json["models"].as_array().unwrap();
    // `--model all` is every model of the registry.
    assert_eq!(models.len(), clv::registry::PURCHASE_MODELS.len());
    for m in models {
        let label = m["label"].as_str().unwrap();
        // The expected histogram covers every customer (the 7+ group is the rest) ...
        let expected: f64 = m["frequency"]["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((expected - 2357.0).abs() < 1e-6, "{label}: {expected}");
        // ... and the cohort sums of figure 2 at the calibration end equal Σ E[X(T_i)] per customer.
        let at_calibration_end = m["expected_cumulative"][38].as_f64().unwrap();
        let per_customer = m["predicted_calibration_repeat_transactions"].as_f64().unwrap();
        assert!(
            (at_calibration_end - per_customer).abs() < 1e-9 * per_customer,
            "{label}"
        );
        for key in ["mean_absolute_error", "root_mean_squared_error", "correlation"] {
            assert!(m["holdout"][key].as_f64().unwrap() > 0.0, "{label} {key}");
        }
        // The reliability diagram bins every customer; its observed shares add back up to the 684
        // holdout buyers, and its predicted means to the model's expected number of buyers
        // (Σ 1 − P(Y = 0), reported above).
        let bins = m["reliability"]["bins"].as_array().unwrap();
        let of = |key: &str| -> f64 {
            bins.iter()
                .map(|b| b["customers"].as_f64().unwrap() * b[key].as_f64().unwrap())
                .sum()
        };
        let binned: f64 = bins.iter().map(|b| b["customers"].as_f64().unwrap()).sum();
        assert_eq!(binned, 2357.0, "{label}");
        assert!((of("observed") - 684.0).abs() < 1e-9, "{label}: {}", of("observed"));
        let buyers = m["holdout"]["predicted_customers_with_purchases"].as_f64().unwrap();
        assert!((of("predicted") - buyers).abs() < 1e-9 * buyers, "{label}");
        for b in bins {
            let p = b["predicted"].as_f64().unwrap();
            assert!(
                b["low"].as_f64().unwrap() <= p && p <= b["high"].as_f64().unwrap(),
                "{label}: {b}"
            );
        }
        let brier = m["reliability"]["brier_score"].as_f64().unwrap();
        // Better than saying 684/2357 to everyone: 0.29 · 0.71 = 0.2059.
        assert!(
            brier > 0.0 && brier < 684.0 / 2357.0 * (1.0 - 684.0 / 2357.0),
            "{label}: {brier}"
        );
    }
    // The totals are the per-customer predictions of holdout_predictions.csv summed (E[Y(39)] itself
    // is checked against mpmath in published_numbers.rs and high_precision.rs).
    let holdout_csv = std::fs::read_to_string(out.join("holdout_predictions.csv")).unwrap();
    let header: Vec<&str> = holdout_csv.lines().next().unwrap().split(',').collect();
    for m in models {
        let name = format!("predicted_holdout_{}", m["model"].as_str().unwrap().replace('-', "_"));
        let i = header.iter().position(|h| *h == name).unwrap();
        let total: f64 = holdout_csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(i).unwrap().parse::<f64>().unwrap())
            .sum();
        let reported = m["holdout"]["predicted_transactions"].as_f64().unwrap();
        assert!(
            (total - reported).abs() < 1e-9 * reported,
            "{name}: {total} vs {reported}"
        );
    }
    assert_eq!(models[0]["label"], "BG/NBD");
    // Pareto/NBD with the paper's digits, its 95% interval around the estimate.
    let pareto = &models[1]["fit"];
    let r = &pareto["parameters"][0];
    assert_eq!(format!("{:.3}", r["estimate"].as_f64().unwrap()), "0.553");
    assert!(r["ci95_low"].as_f64().unwrap() < 0.553 && r["ci95_high"].as_f64().unwrap() > 0.553);
    assert_eq!(format!("{:.1}", pareto["log_likelihood"].as_f64().unwrap()), "-9595.0");
    // All three models have four parameters, so BIC ranks them by log-likelihood: MBG/NBD
    // (−9582.14) above BG/NBD (−9582.43, the paper's −9582.4) above Pareto/NBD (−9595.0).
    assert_eq!(json["preferred"]["by_bic"], "mbg-nbd");

    // The spend check: the mean holdout spend per transaction, recounted from the log.
    let means: Vec<f64> = holdout
        .values()
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        .collect();
    let actual_mean = means.iter().sum::<f64>() / means.len() as f64;
    let spend = &json["spend"];
    assert_eq!(spend["customers"], 684);
    assert!((spend["actual_mean_spend"].as_f64().unwrap() - actual_mean).abs() < 1e-9 * actual_mean);
    assert!(spend["predicted_mean_spend"].as_f64().unwrap() > 0.0);

    for name in [
        "frequency_histogram",
        "cumulative_repeat_transactions",
        "weekly_repeat_transactions",
        "conditional_expectations",
    ] {
        let png = std::fs::read(out.join(format!("{name}.png"))).unwrap();
        assert_eq!(&png[..4], b"\x89PNG", "{name}");
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("actual") && svg.contains("MBG/NBD"),
            "{name}"
        );
    }
    let svg = std::fs::read_to_string(out.join("reliability.svg")).unwrap();
    assert!(svg.contains("perfect calibration") && svg.contains("Pareto/NBD"));
    let svg = std::fs::read_to_string(out.join("cumulative_repeat_transactions.svg")).unwrap();
    assert!(svg.contains("Week since 1997-01-01") && svg.contains("end of calibration"));
    assert!(holdout_csv
        .lines()
        .next()
        .unwrap()
        .contains("predicted_holdout_pareto_nbd"));
    assert_eq!(holdout_csv.lines().count(), 2358);
}

#[test]
fn evaluate_without_a_calibration_end_fails_clearly_and_writes_nothing() {
    let dir = scratch_dir("evaluate-no-calibration");
    let out = dir.join("evaluation");
    let r = clv(&["evaluate", s(&repo("data/cdnow_sample.csv")), "--report-dir", s(&out)]);
    // A required argument, as clap reports them (exit code 2, the usage shown).
    assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--calibration-end"), "{}", r.stderr);
    assert!(!out.exists());
}

#[test]
fn every_purchase_model_fits_predicts_and_runs_from_the_command_line() {
    let dir = scratch_dir("models");
    let rfm = dir.join("rfm.csv");
    let r = clv(&[
        "summarize",
        s(&repo("data/cdnow_sample.csv")),
        "--calibration-end",
        "1997-09-30",
        "-o",
        s(&rfm),
    ]);
    assert!(r.success, "{}", r.stderr);

    // A model file names its model; predictions from it work as from BG/NBD's.
    let model = dir.join("pareto.json");
    let r = clv(&["fit", s(&rfm), "--model", "pareto-nbd", "-o", s(&model)]);
    assert!(r.success, "{}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(
        format!("{:.3}", json["purchase"]["params"]["beta"].as_f64().unwrap()),
        "11.669"
    );
    assert_eq!(json["format_version"], 3);
    assert_eq!(json["purchase"]["model"], "pareto_nbd");
    let from_file = dir.join("from_file.csv");
    let r = clv(&["predict", s(&rfm), "--model-file", s(&model), "-o", s(&from_file)]);
    assert!(r.success, "{}", r.stderr);

    // --model with a model's name fits it first.
    let named = dir.join("named.csv");
    let r = clv(&["predict", s(&rfm), "--model", "pareto-nbd", "-o", s(&named)]);
    assert!(r.success, "{}", r.stderr);
    assert!(r.stdout.contains("Pareto/NBD purchase model"), "{}", r.stdout);
    // The model file stores the parameters exactly, so both give the same digits.
    let same = std::fs::read_to_string(&from_file).unwrap() == std::fs::read_to_string(&named).unwrap();
    assert!(
        same,
        "predictions from the model file differ from those of the fit itself"
    );

    let run_out = dir.join("mbg.csv");
    let r = clv(&[
        "run",
        s(&repo("data/cdnow_sample.csv")),
        "--model",
        "mbg-nbd",
        "-o",
        s(&run_out),
        "--report-dir",
        s(&dir.join("report")),
    ]);
    assert!(r.success, "{}", r.stderr);
    assert!(r.stdout.contains("MBG/NBD purchase model"), "{}", r.stdout);
    let text = std::fs::read_to_string(&run_out).unwrap();
    assert_eq!(text.lines().count(), 2358);
    // MBG/NBD lets customers without repeat purchases be dead: some have P(alive) < 1.
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let (x, p) = (
        header.iter().position(|h| *h == "frequency").unwrap(),
        header.iter().position(|h| *h == "p_alive").unwrap(),
    );
    assert!(text.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split(',').collect();
        f[x] == "0" && f[p].parse::<f64>().unwrap() < 1.0
    }));
}

#[test]
fn undefined_statistics_are_explained_and_every_model_that_fits_is_reported() {
    // A holdout in which nobody buys: the correlation of predicted and actual holdout
    // transactions and the holdout spend check are undefined. They are written as null in the
    // JSON, and each is explained in a note there and in the text, never left unannounced.
    let dir = scratch_dir("eval_undefined");
    let log = dir.join("log.csv");
    let r = clv(&[
        "simulate",
        "--customers",
        "500",
        "--seed",
        "3",
        "--days",
        "200",
        "-o",
        s(&log),
    ]);
    assert!(r.success, "{}", r.stderr);
    let out = dir.join("eval");
    let r = clv(&[
        "evaluate",
        s(&log),
        "--calibration-end",
        "2020-07-18",
        "--observation-end",
        "2020-12-31",
        "--model",
        "all",
        "--report-dir",
        s(&out),
    ]);
    assert!(r.success, "{}", r.stderr);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("evaluation.json")).unwrap()).unwrap();
    let notes: Vec<&str> = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for model in ["BG/NBD", "Pareto/NBD", "MBG/NBD"] {
        let m = json["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["label"] == model)
            .unwrap();
        assert!(m["holdout"]["correlation"].is_null());
        let expected = format!("{model}: the correlation of predicted and actual holdout transactions is undefined");
        assert!(notes.iter().any(|n| n.starts_with(&expected)), "{notes:?}");
        assert!(r.stdout.contains(&format!("note: {expected}")), "{}", r.stdout);
    }
    assert!(json["spend"]["actual_mean_spend"].is_null());
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("spend: no customer bought in the holdout")),
        "{notes:?}"
    );
}

#[test]
fn a_cohort_that_buys_alike_is_evaluated_without_nan_and_day_zero_customers_without_a_panic() {
    // 200 customers who all first bought on 2024-01-01 and then every 30 days: every model
    // reaches its limit of homogeneous rates, every customer has the same calibration history (so
    // the per-customer correlation has no spread to work on, and the groups of 0–4 and 6+
    // calibration repeats are empty), and a few more customers first buy on the calibration end
    // itself (T = 0: P(X(0) = n) at the limit used to panic inside statrs). The report shows "—"
    // for what is undefined, never NaN.
    let dir = scratch_dir("eval_cohort");
    let log = dir.join("cohort.csv");
    let mut text = String::from("customer_id,date,amount\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for c in 0..200 {
        for k in 0..10 {
            let day = start + chrono::Days::new(30 * k);
            text.push_str(&format!(
                "{c},{day},{}\n",
                if (c + k) % 2 == 0 { "10.00" } else { "10.01" }
            ));
        }
    }
    std::fs::write(&log, &text).unwrap();
    let evaluate = |log: &std::path::Path| {
        let r = clv(&["evaluate", s(log), "--calibration-end", "2024-06-01", "--model", "all"]);
        assert!(r.success, "{}", r.stderr);
        assert!(!r.stdout.contains("NaN"), "{}", r.stdout);
        r.stdout
    };
    let stdout = evaluate(&log);
    assert!(stdout.contains("correlation — (no spread to correlate)"), "{stdout}");
    assert!(stdout.contains("holdout mean, actual         —"), "{stdout}");
    for c in 200..205 {
        text.push_str(&format!("{c},2024-06-01,12.00\n{c},2024-07-01,12.00\n"));
    }
    let log = dir.join("cohort_and_day_zero.csv");
    std::fs::write(&log, &text).unwrap();
    evaluate(&log);
}
