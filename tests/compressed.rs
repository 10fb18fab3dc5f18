//! The compressed summary (rule 10): one row per distinct history with its number of customers,
//! fitted to the estimates of the full table it compresses.

mod common;

use clv::data::compressed::CompressedSummary;
use clv::data::rfm::RfmTable;
use clv::fitting::{fit_compressed, fit_models_using};
use clv::mle::FitOptions;
use clv::registry::{BG_NBD, PARETO_NBD};
use clv::{FittedModels, TimeUnit};
use common::{cdnow_calibration_rfm as cdnow_rfm, clv, repeated, repo, s, scratch_dir};

/// The fitted numbers of both models, for exact comparison (the model file less its version).
fn numbers(models: &FittedModels) -> serde_json::Value {
    let mut json: serde_json::Value = serde_json::from_str(&models.to_json().unwrap()).unwrap();
    json["clv_version"] = serde_json::Value::Null;
    json
}

#[test]
fn cdnow_three_times_over_fits_as_its_compressed_summary_to_the_last_digit() {
    // 7,071 customer rows, and the same customers as distinct histories with counts: the fits sum
    // the same weighted table of distinct rows, so estimates, standard errors, covariance and
    // log-likelihood are equal to the last bit, for BG/NBD, Pareto/NBD and Gamma-Gamma.
    let one = cdnow_rfm();
    let full = repeated(&one, 3);
    let compressed = CompressedSummary::of(&full, None);
    assert_eq!(compressed.customers(), 7071.0);
    assert_eq!(compressed.histories.customers.iter().sum::<f64>(), 3.0 * 2357.0);
    assert!(compressed.histories.customers.len() < 2357, "CDNOW's histories repeat");
    assert!(compressed.histories.customers.iter().all(|&n| n % 3.0 == 0.0));
    let options = FitOptions::default();
    for kind in [BG_NBD, PARETO_NBD] {
        let a = fit_models_using(&full, kind, &options).unwrap();
        let b = fit_compressed(&compressed, kind, &options).unwrap();
        assert_eq!(numbers(&a), numbers(&b), "{}", kind.label());
    }
    // The likelihood three times over has its maximum where CDNOW's has it, at three times the
    // log-likelihood: Fader, Hardie & Lee's −9582.4, and Fader & Hardie's Gamma-Gamma.
    let fit = fit_compressed(&compressed, BG_NBD, &options).unwrap();
    let p = fit.bg_nbd().unwrap().params;
    assert_eq!(
        format!("{:.3} {:.3} {:.3} {:.3}", p.r, p.alpha, p.a, p.b),
        "0.243 4.414 0.793 2.426"
    );
    assert_eq!(format!("{:.1}", fit.bg_nbd().unwrap().log_likelihood / 3.0), "-9582.4");
    assert_eq!(fit.bg_nbd().unwrap().n_customers, 7071);
    let gg = fit.gamma_gamma.as_ref().unwrap().fit.params.gamma_gamma().unwrap();
    assert_eq!(format!("{:.2} {:.2} {:.2}", gg.p, gg.q, gg.v), "6.25 3.74 15.44");
}

#[test]
fn spend_rounded_to_cents_is_the_published_summarys_spend() {
    // The published CDNOW summary prints each mean repeat spend to cents. Compressing clv's own
    // summary with the spend rounded to 2 decimals gives the same (x, z̄) values, so Gamma-Gamma
    // on the compressed table is Gamma-Gamma on the published table, bit for bit (v = 15.4477
    // there, against 15.44 on unrounded spend: rounding moves it by 0.5% of its value, about a
    // third of its standard error).
    let compressed = CompressedSummary::of(&cdnow_rfm(), Some(2));
    let published = RfmTable::read(
        &repo("data/cdnow_customers_summary_with_transactions.csv"),
        Some(TimeUnit::Weeks),
    )
    .unwrap();
    let options = FitOptions::default();
    let a = fit_models_using(&published, BG_NBD, &options).unwrap();
    let b = fit_compressed(&compressed, BG_NBD, &options).unwrap();
    let (ga, gb) = (&a.gamma_gamma.unwrap().fit, &b.gamma_gamma.unwrap().fit);
    assert_eq!(ga.params.to_vec(), gb.params.to_vec());
    assert_eq!(ga.log_likelihood, gb.log_likelihood);
    assert_eq!(ga.standard_errors, gb.standard_errors);
    let v = gb.params.gamma_gamma().unwrap().v;
    assert_eq!(format!("{v:.4}"), "15.4477");
}

#[test]
fn summarize_compressed_then_fit_gives_the_full_tables_purchase_model() {
    let dir = scratch_dir("compressed-cli");
    let (full, packed) = (dir.join("rfm.csv"), dir.join("compressed.parquet"));
    let common = [
        "data/cdnow_sample.csv",
        "--time-unit",
        "weeks",
        "--calibration-end",
        "1997-09-30",
    ];
    let log = repo(common[0]);
    let summarize_to = |out: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["summarize", s(&log), "-o", s(out)];
        args.extend_from_slice(&common[1..]);
        args.extend_from_slice(extra);
        let r = clv(&args);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        r.stdout
    };
    summarize_to(&full, &[]);
    let said = summarize_to(&packed, &["--compressed"]);
    assert!(said.contains("for 2357 customers"), "{said}");
    let table = CompressedSummary::read(&packed, None).unwrap();
    assert_eq!(table.customers(), 2357.0);
    assert_eq!(table.spend.as_ref().unwrap().customers.iter().sum::<f64>(), 2357.0);
    let fit = |rfm: &std::path::Path, out: &str| {
        let model = dir.join(out);
        let r = clv(&["fit", s(rfm), "-o", s(&model)]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        FittedModels::read(&model).unwrap()
    };
    let (a, b) = (fit(&full, "full.json"), fit(&packed, "packed.json"));
    let json = |m: &FittedModels| serde_json::to_value(&m.purchase).unwrap();
    assert_eq!(json(&a), json(&b));
    // Gamma-Gamma on cents: the published summary's spend (previous test), v = 15.4477.
    let v = b.gamma_gamma.unwrap().fit.params.gamma_gamma().unwrap().v;
    assert_eq!(format!("{v:.4}"), "15.4477");
}

#[test]
fn a_compressed_table_names_its_bad_rows() {
    let dir = scratch_dir("compressed-bad");
    let cases = [
        (
            "frequency,recency,T,customers,time_unit\n1,2,10,-3,weeks\n",
            "customers -3 is not a whole number",
        ),
        (
            "frequency,recency,T,customers,time_unit\n1,2,10,2.5,weeks\n",
            "customers 2.5 is not a whole number",
        ),
        (
            "frequency,recency,T,customers,time_unit\n1,12,10,2,weeks\n",
            "recency 12 is not between 0 and T = 10",
        ),
        (
            "frequency,recency,T,customers,time_unit\n1,,10,2,weeks\n",
            "both be given or both be empty",
        ),
        (
            "frequency,recency,T,monetary_value,customers,time_unit\n1,,,,2,weeks\n",
            "neither a history",
        ),
        (
            "frequency,recency,T,monetary_value,customers,time_unit\n1,2,10,,4,weeks\n1,,,-5,2,weeks\n",
            "monetary value -5 is negative",
        ),
    ];
    for (i, (text, words)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("bad{i}.csv"));
        std::fs::write(&path, text).unwrap();
        let out = dir.join(format!("m{i}.json"));
        let r = clv(&["fit", s(&path), "-o", s(&out)]);
        assert_eq!(r.code, Some(1), "{text}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(words), "{text}: {}", r.stderr);
        assert!(r.stderr.contains("row"), "names the row: {}", r.stderr);
        assert!(!out.exists());
    }
}
