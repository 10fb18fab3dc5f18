//! End-to-end tests of the `clv` binary: the README's main command, the summarize → fit →
//! predict pipeline, and clear errors (non-zero exit, no output file) on bad input.

mod common;

use std::path::Path;

use common::{assert_summarize_fails, clv, column, csv_header_and_rows, repo, s, scratch_dir};

#[test]
fn run_on_the_bundled_cdnow_sample_prints_the_fit_and_writes_predictions() {
    let dir = scratch_dir("run");
    let out = dir.join("predictions.csv");
    let r = clv(&["run", s(&repo("data/cdnow_sample.csv")), "-o", s(&out)]);
    assert!(r.success, "{}", r.stderr);
    for expected in [
        "BG/NBD",
        "Gamma-Gamma",
        "log-likelihood",
        "Top 10 customers by CLV",
        "2357 customers",
    ] {
        assert!(r.stdout.contains(expected), "missing '{expected}' in:\n{}", r.stdout);
    }
    let (header, rows) = csv_header_and_rows(&out);
    assert_eq!(rows.len(), 2357);
    let clv_col = column(&header, "clv");
    let total: f64 = rows.iter().map(|r| r[clv_col].parse::<f64>().unwrap()).sum();
    assert!(
        r.stdout.contains(&format!("{total:.2}")),
        "the printed total CLV must be the file's sum {total:.2}"
    );
}

#[test]
fn summarize_fit_predict_write_every_promised_column() {
    let dir = scratch_dir("pipeline");
    let (rfm, model, pred) = (dir.join("rfm.csv"), dir.join("model.json"), dir.join("pred.parquet"));
    let r = clv(&[
        "summarize",
        s(&repo("data/cdnow_sample.csv")),
        "-o",
        s(&rfm),
        "--time-unit",
        "weeks",
        "--calibration-end",
        "1997-09-30",
    ]);
    assert!(r.success, "{}", r.stderr);
    let (header, rows) = csv_header_and_rows(&rfm);
    for c in [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "frequency_holdout",
        "monetary_value_holdout",
        "duration_holdout",
        "first_purchase",
        "time_unit",
    ] {
        column(&header, c);
    }
    assert_eq!(rows.len(), 2357);

    let r = clv(&["fit", s(&rfm), "-o", s(&model)]);
    assert!(r.success, "{}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    for key in ["r", "alpha", "a", "b"] {
        assert!(json["purchase"]["params"][key].is_f64());
        assert!(json["purchase"]["standard_errors"][key].as_f64().unwrap() > 0.0);
    }
    for key in ["p", "q", "v"] {
        assert!(json["gamma_gamma"]["params"][key].is_f64());
    }
    for key in ["log_likelihood", "aic", "bic", "n_customers", "iterations"] {
        assert!(json["purchase"][key].is_number(), "{key}");
        assert!(json["gamma_gamma"][key].is_number(), "{key}");
    }
    assert_eq!(json["time_unit"], "weeks");
    assert_eq!(json["purchase"]["n_customers"], 2357);
    assert_eq!(json["purchase"]["model"], "bg_nbd");
    assert_eq!(json["format_version"], 3);
    assert_eq!(json["gamma_gamma"]["n_customers"], 946);

    let csv_pred = dir.join("pred.csv");
    let r = clv(&[
        "predict",
        s(&rfm),
        "--model-file",
        s(&model),
        "-o",
        s(&csv_pred),
        "--horizon",
        "39",
    ]);
    assert!(r.success, "{}", r.stderr);
    let (header, rows) = csv_header_and_rows(&csv_pred);
    let (p, churn, e) = (
        column(&header, "p_alive"),
        column(&header, "churn_probability"),
        column(&header, "expected_purchases"),
    );
    column(&header, "expected_avg_spend");
    column(&header, "clv");
    for row in &rows {
        let (p, c): (f64, f64) = (row[p].parse().unwrap(), row[churn].parse().unwrap());
        assert!((p + c - 1.0).abs() < 1e-12 && (0.0..=1.0).contains(&p));
    }
    // Σ E[Y(39) | x, t_x, T] over the customers is 1653.4233 in 30-digit arithmetic (mpmath) at
    // the reference MLE on the rounded published summary (tests/published_numbers.rs); fitted on
    // the exact summary the parameters move in the 5th digit and the sum by about 0.015.
    let total: f64 = rows.iter().map(|r| r[e].parse::<f64>().unwrap()).sum();
    assert!((total - 1653.4233).abs() < 0.05, "{total}");

    let r = clv(&["predict", s(&rfm), "--model-file", s(&model), "-o", s(&pred)]);
    assert!(r.success, "{}", r.stderr);
    assert!(std::fs::read(&pred).unwrap().starts_with(b"PAR1"));

    // Parquet in and out: the RFM table as Parquet fits to the same model.
    let (rfm_pq, model_pq) = (dir.join("rfm.parquet"), dir.join("model_pq.json"));
    let r = clv(&[
        "summarize",
        s(&repo("data/cdnow_sample.csv")),
        "-o",
        s(&rfm_pq),
        "--calibration-end",
        "1997-09-30",
    ]);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&["fit", s(&rfm_pq), "-o", s(&model_pq)]);
    assert!(r.success, "{}", r.stderr);
    let from_pq: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model_pq).unwrap()).unwrap();
    assert_eq!(from_pq["purchase"]["params"], json["purchase"]["params"]);
}

#[test]
fn a_parquet_log_with_typed_date_columns_summarizes_like_the_csv() {
    // The bundled log as Parquet with typed columns (integer ids, a Date column), written here
    // with Polars, must give byte for byte the RFM table the CSV gives.
    use polars::prelude::*;
    let dir = scratch_dir("parquet_log");
    let csv_rfm = dir.join("from_csv.csv");
    let pq_rfm = dir.join("from_parquet.csv");
    let log_pq = dir.join("log.parquet");
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(repo("data/cdnow_sample.csv")))
        .unwrap()
        .finish()
        .unwrap()
        .lazy()
        .with_column(col("date").str().to_date(StrptimeOptions::default()))
        .collect()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&log_pq).unwrap())
        .finish(&mut df)
        .unwrap();
    assert!(clv(&["summarize", s(&repo("data/cdnow_sample.csv")), "-o", s(&csv_rfm)]).success);
    let r = clv(&["summarize", s(&log_pq), "-o", s(&pq_rfm)]);
    assert!(r.success, "{}", r.stderr);
    // Equal up to float rounding: Polars sums a group's amounts in chunk order, which depends on
    // the reader, so a mean can differ in its last bit.
    let (a, b) = (csv_header_and_rows(&csv_rfm), csv_header_and_rows(&pq_rfm));
    assert_eq!(a.0, b.0);
    assert_eq!(a.1.len(), b.1.len());
    for (x, y) in a.1.iter().zip(&b.1) {
        for (u, v) in x.iter().zip(y) {
            match (u.parse::<f64>(), v.parse::<f64>()) {
                (Ok(u), Ok(v)) => assert!((u - v).abs() <= 1e-12 * u.abs().max(1.0), "{x:?} vs {y:?}"),
                _ => assert_eq!(u, v),
            }
        }
    }
    // `clv run` on a Parquet log writes Parquet predictions beside it by default.
    let r = clv(&["run", s(&log_pq), "--report-dir", s(&dir.join("report"))]);
    assert!(r.success, "{}", r.stderr);
    assert!(r.stdout.contains("log_predictions.parquet"), "{}", r.stdout);
    let predictions = ParquetReader::new(std::fs::File::open(dir.join("log_predictions.parquet")).unwrap())
        .finish()
        .unwrap();
    assert_eq!(predictions.height(), 2357);
    assert!(!dir.join("log_predictions.csv").exists());
}

#[test]
fn predict_refuses_a_model_fitted_in_another_time_unit() {
    let dir = scratch_dir("units");
    let (weeks, days, model, pred) = (
        dir.join("w.csv"),
        dir.join("d.csv"),
        dir.join("m.json"),
        dir.join("p.csv"),
    );
    let log = repo("data/cdnow_sample.csv");
    assert!(clv(&["summarize", s(&log), "-o", s(&weeks)]).success);
    assert!(clv(&["summarize", s(&log), "-o", s(&days), "--time-unit", "days"]).success);
    assert!(clv(&["fit", s(&weeks), "-o", s(&model)]).success);
    let r = clv(&["predict", s(&days), "--model-file", s(&model), "-o", s(&pred)]);
    assert!(!r.success);
    assert!(
        r.stderr.contains("fitted on data in weeks") && r.stderr.contains("days"),
        "{}",
        r.stderr
    );
    assert!(!pred.exists());
}

#[test]
fn a_spend_model_with_q_at_most_one_values_only_customers_with_repeat_purchases() {
    let dir = scratch_dir("q");
    let (model, pred) = (dir.join("m.json"), dir.join("p.csv"));
    let rfm = repo("data/cdnow_customers_summary_with_transactions.csv");
    assert!(clv(&["fit", s(&rfm), "-o", s(&model), "--time-unit", "weeks"]).success);
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    json["gamma_gamma"]["params"]["q"] = serde_json::json!(0.9);
    std::fs::write(&model, serde_json::to_string(&json).unwrap()).unwrap();
    let r = clv(&[
        "predict",
        s(&rfm),
        "--model-file",
        s(&model),
        "-o",
        s(&pred),
        "--time-unit",
        "weeks",
    ]);
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stderr.contains("have no CLV") && r.stdout.contains("have no spend or CLV forecast"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // An empty spend and CLV for the customers without repeat purchases, values for the rest,
    // and no decision columns (they need every customer's CLV).
    let (header, rows) = csv_header_and_rows(&pred);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (x, spend, clv_col) = (col("frequency"), col("expected_avg_spend"), col("clv"));
    assert!(!header.iter().any(|h| h == "value_tier"), "{header:?}");
    for row in &rows {
        let one_time = row[x] == "0";
        assert_eq!(row[spend].is_empty(), one_time, "{row:?}");
        assert_eq!(row[clv_col].is_empty(), one_time, "{row:?}");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_input_gets_a_one_line_error_naming_file_column_and_row() {
    let dir = scratch_dir("bad");
    let missing = dir.join("nope.csv");
    assert_summarize_fails(&dir, &missing, &[], &["nope.csv", "No such file"]);

    let empty = write(&dir, "empty.csv", "");
    assert_summarize_fails(&dir, &empty, &[], &["empty.csv", "no data rows"]);
    let header_only = write(&dir, "header.csv", "customer_id,date,amount\n");
    assert_summarize_fails(&dir, &header_only, &[], &["header.csv", "no data rows"]);

    let typo = write(&dir, "typo.csv", "customer_id,dat,amount\n1,2020-01-01,5\n");
    assert_summarize_fails(
        &dir,
        &typo,
        &[],
        &[
            "typo.csv",
            "no column 'date'",
            "did you mean 'dat'",
            "customer_id, dat, amount",
        ],
    );

    let bad_date = write(
        &dir,
        "baddate.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n1,2020-13-45,5\n",
    );
    assert_summarize_fails(
        &dir,
        &bad_date,
        &[],
        &["baddate.csv", "column 'date'", "row 2", "'2020-13-45'", "%Y-%m-%d"],
    );

    let bad_amount = write(
        &dir,
        "badamount.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n1,2020-01-02,$5\n",
    );
    assert_summarize_fails(
        &dir,
        &bad_amount,
        &[],
        &["column 'amount'", "row 2", "'$5' is not a number"],
    );

    let negative = write(
        &dir,
        "neg.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n2,2020-01-02,-3\n",
    );
    assert_summarize_fails(&dir, &negative, &[], &["column 'amount'", "row 2", "negative"]);

    let nan = write(&dir, "nan.csv", "customer_id,date,amount\n1,2020-01-01,NaN\n");
    assert_summarize_fails(&dir, &nan, &[], &["row 1", "not a finite amount"]);

    let no_id = write(
        &dir,
        "noid.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n,2020-01-02,5\n",
    );
    assert_summarize_fails(
        &dir,
        &no_id,
        &[],
        &["column 'customer_id'", "row 2", "empty customer id"],
    );

    // A blank line (or one of empty fields) is skipped and counted, wherever it is; an empty id
    // in a row with other fields is still an error, with the row counted past the blank lines.
    let blank = write(
        &dir,
        "blank.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n\n1,2020-02-01,7\n,,\n\n",
    );
    let rfm = dir.join("blank_rfm.csv");
    let r = clv(&["summarize", s(&blank), "-o", s(&rfm)]);
    assert!(r.success, "{}", r.stderr);
    assert!(r.stdout.contains("skipped: 3 blank log rows"), "{}", r.stdout);
    let (_, rows) = csv_header_and_rows(&rfm);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1], "1", "one repeat purchase: {rows:?}");
    let blank_then_no_id = write(
        &dir,
        "blank_noid.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n\n,2020-01-02,5\n",
    );
    assert_summarize_fails(
        &dir,
        &blank_then_no_id,
        &[],
        &["column 'customer_id'", "row 3", "empty customer id"],
    );

    let model_as_log = write(&dir, "model.json", "{\"format_version\": 3}");
    assert_summarize_fails(
        &dir,
        &model_as_log,
        &[],
        &["model.json", "this is JSON", "clv predict --model"],
    );

    assert_summarize_fails(&dir, &dir, &[], &["not a regular file"]);

    let good = write(
        &dir,
        "good.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n1,2020-02-01,7\n",
    );
    assert_summarize_fails(
        &dir,
        &good,
        &["--calibration-end", "2019-01-01"],
        &["calibration end 2019-01-01", "before the first purchase"],
    );
    assert_summarize_fails(
        &dir,
        &good,
        &["--calibration-end", "2020-03-01", "--observation-end", "2020-02-15"],
        &["must be before the observation end"],
    );
}

#[test]
fn a_corrupt_or_foreign_model_file_is_refused() {
    let dir = scratch_dir("model");
    let rfm = repo("data/cdnow_customers_summary_with_transactions.csv");
    let pred = dir.join("p.csv");
    let corrupt = write(&dir, "corrupt.json", "{\"bg_nbd\": ");
    let r = clv(&[
        "predict",
        s(&rfm),
        "--model-file",
        s(&corrupt),
        "-o",
        s(&pred),
        "--time-unit",
        "weeks",
    ]);
    assert!(!r.success && r.stderr.contains("not a clv model file"), "{}", r.stderr);
    let old = write(&dir, "old.json", "{\"format_version\": 0}");
    let r = clv(&[
        "predict",
        s(&rfm),
        "--model-file",
        s(&old),
        "-o",
        s(&pred),
        "--time-unit",
        "weeks",
    ]);
    assert!(!r.success && r.stderr.contains("format version 0"), "{}", r.stderr);
    assert!(!pred.exists());
}

#[test]
fn fit_checks_every_column_of_an_rfm_table_it_does_not_keep() {
    // `clv fit` reads a plain table's numbers without keeping its ids: a blank id, a date that
    // is not one, a history that breaks a rule are still refused, by file, column and row, and
    // no model file is left.
    let dir = scratch_dir("fitchecks");
    let header = "customer_id,frequency,recency,T,monetary_value,first_purchase,time_unit";
    let good = "1,2,3,5,10,2020-01-01,weeks";
    for (name, row, expected) in [
        (
            "blank_id",
            " ,1,1,5,10,2020-01-01,weeks",
            ["column 'customer_id'", "row 2", "empty customer id"],
        ),
        (
            "bad_date",
            "2,1,1,5,10,2020-13-01,weeks",
            ["column 'first_purchase'", "row 2", "2020-13-01"],
        ),
        (
            "recency_after_t",
            "2,1,6,5,10,2020-01-01,weeks",
            ["column 'recency'", "row 2", "6"],
        ),
    ] {
        let table = write(&dir, &format!("{name}.csv"), &format!("{header}\n{good}\n{row}\n"));
        let model = dir.join(format!("{name}.json"));
        let r = clv(&["fit", s(&table), "-o", s(&model)]);
        assert!(!r.success, "{name}: {}", r.stdout);
        for text in expected {
            assert!(r.stderr.contains(text), "{name}: {text} in {}", r.stderr);
        }
        assert!(r.stderr.contains(&format!("{name}.csv")), "{name}: {}", r.stderr);
        assert!(!model.exists(), "{name}");
    }
}

#[test]
fn an_rfm_table_without_a_unit_needs_one() {
    let dir = scratch_dir("nounit");
    let r = clv(&[
        "fit",
        s(&repo("data/cdnow_customers_summary.csv")),
        "-o",
        s(&dir.join("m.json")),
    ]);
    assert!(!r.success && r.stderr.contains("--time-unit"), "{}", r.stderr);
}

#[test]
fn dates_in_other_formats_parse_with_date_format() {
    let dir = scratch_dir("formats");
    let log = write(
        &dir,
        "log.csv",
        "cust,when,value\na,01/02/2020 10:30,5\na,15/02/2020 09:00,7\nb,03/02/2020 23:59,1\n",
    );
    let out = dir.join("rfm.csv");
    let r = clv(&[
        "summarize",
        s(&log),
        "-o",
        s(&out),
        "--customer-col",
        "cust",
        "--date-col",
        "when",
        "--amount-col",
        "value",
        "--date-format",
        "%d/%m/%Y %H:%M",
        "--time-unit",
        "days",
    ]);
    assert!(r.success, "{}", r.stderr);
    let (header, rows) = csv_header_and_rows(&out);
    let (x, tx, t, m) = (
        column(&header, "frequency"),
        column(&header, "recency"),
        column(&header, "T"),
        column(&header, "monetary_value"),
    );
    // a: purchases on Feb 1 and Feb 15, observed to Feb 15 (the log's last date): x = 1, t_x = T = 14 days.
    assert_eq!(rows[0][0], "a");
    assert_eq!(
        (
            rows[0][x].as_str(),
            rows[0][tx].parse::<f64>().unwrap(),
            rows[0][t].parse::<f64>().unwrap()
        ),
        ("1", 14.0, 14.0)
    );
    assert_eq!(rows[0][m].parse::<f64>().unwrap(), 7.0);
    // b: one purchase on Feb 3: x = 0, T = 12 days, monetary value 0.
    assert_eq!(
        (
            rows[1][x].as_str(),
            rows[1][t].parse::<f64>().unwrap(),
            rows[1][m].parse::<f64>().unwrap()
        ),
        ("0", 12.0, 0.0)
    );
}

#[test]
fn same_day_purchases_are_one_transaction() {
    let dir = scratch_dir("sameday");
    let log = write(
        &dir,
        "log.csv",
        "customer_id,date,amount\n1,2020-01-01,5\n1,2020-01-08,3\n1,2020-01-08,4\n1,2020-01-15,10\n",
    );
    let out = dir.join("rfm.csv");
    assert!(clv(&["summarize", s(&log), "-o", s(&out)]).success);
    let (header, rows) = csv_header_and_rows(&out);
    // Days 0, 7, 14: x = 2, t_x = T = 2 weeks, repeat spend (3+4 + 10)/2 = 8.5.
    assert_eq!(rows[0][column(&header, "frequency")], "2");
    assert_eq!(rows[0][column(&header, "recency")].parse::<f64>().unwrap(), 2.0);
    assert_eq!(rows[0][column(&header, "monetary_value")].parse::<f64>().unwrap(), 8.5);
}

#[test]
fn help_explains_each_option_with_its_default() {
    let r = clv(&["predict", "--help"]);
    assert!(r.success);
    for w in [
        "--horizon",
        "--clv-months",
        "[default: 12]",
        "--discount-rate",
        "[default: 0.01]",
        "--margin",
        "[default: 1]",
    ] {
        assert!(r.stdout.contains(w), "missing '{w}' in:\n{}", r.stdout);
    }
    let r = clv(&["summarize", "--help"]);
    for w in [
        "--time-unit",
        "[default: weeks]",
        "--calibration-end",
        "--observation-end",
        "--date-format",
        "--amount-col",
    ] {
        assert!(r.stdout.contains(w), "missing '{w}' in:\n{}", r.stdout);
    }
}

#[test]
fn run_writes_a_value_report_whose_totals_reconcile() {
    let dir = scratch_dir("report");
    let (pred, report) = (dir.join("pred.csv"), dir.join("report"));
    let r = clv(&[
        "run",
        s(&repo("data/cdnow_sample.csv")),
        "-o",
        s(&pred),
        "--report-dir",
        s(&report),
        "--cac",
        "20",
    ]);
    assert!(r.success, "{}", r.stderr);
    for w in [
        "Value concentration",
        "Value tiers",
        "top 1%",
        "bottom 50%",
        "Customer status",
        "CLV:CAC",
        "Cohorts",
    ] {
        assert!(r.stdout.contains(w), "missing '{w}' in:\n{}", r.stdout);
    }
    let (header, rows) = csv_header_and_rows(&pred);
    let (clv_col, tier_col, status_col) = (
        column(&header, "clv"),
        column(&header, "value_tier"),
        column(&header, "status"),
    );
    column(&header, "clv_percentile");
    column(&header, "value_at_stake");
    let total_clv: f64 = rows.iter().map(|r| r[clv_col].parse::<f64>().unwrap()).sum();

    // Tiers partition the customers, their CLVs add up to the file's total, shares add to 100%.
    let (th, tiers) = csv_header_and_rows(&report.join("value_tiers.csv"));
    let (name, customers, clv_c, share) = (
        column(&th, "tier"),
        column(&th, "customers"),
        column(&th, "clv"),
        column(&th, "share_of_clv"),
    );
    let (body, total_row) = tiers.split_at(tiers.len() - 1);
    assert_eq!(total_row[0][name], "all customers");
    assert_eq!(
        body.iter()
            .map(|t| t[customers].parse::<usize>().unwrap())
            .sum::<usize>(),
        2357
    );
    let tier_clv: f64 = body.iter().map(|t| t[clv_c].parse::<f64>().unwrap()).sum();
    assert!(
        (tier_clv - total_clv).abs() < 1e-6 * total_clv,
        "{tier_clv} vs {total_clv}"
    );
    assert!((total_row[0][clv_c].parse::<f64>().unwrap() - total_clv).abs() < 1e-6 * total_clv);
    // The tables are written to 10 significant digits: each share (< 100) is within 5e-9 of its
    // value, so the four add up to 100 within 2e-8.
    let shares: f64 = body.iter().map(|t| t[share].parse::<f64>().unwrap()).sum();
    assert!((shares - 100.0).abs() < 2e-8, "{shares}");
    // CDNOW: 2,357 customers, so the tiers hold round(23.57) = 24, 236 − 24 = 212, 1179 − 236 = 943, 1178.
    let sizes: Vec<usize> = body.iter().map(|t| t[customers].parse().unwrap()).collect();
    assert_eq!(sizes, vec![24, 212, 943, 1178]);
    for (t, size) in body.iter().zip(&sizes) {
        assert_eq!(rows.iter().filter(|r| r[tier_col] == t[name]).count(), *size);
    }

    // Every status counted once; the concentration curve ends at 100%.
    let (sh, statuses) = csv_header_and_rows(&report.join("status.csv"));
    let counted: usize = statuses
        .iter()
        .map(|s| s[column(&sh, "customers")].parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, 2357);
    // Everyone in CDNOW was acquired in Q1 1997, so no one is "new": the customers without repeat
    // purchases are exactly the "one-time" ones.
    let x_col = column(&header, "frequency");
    for row in &rows {
        assert_eq!(row[status_col] == "one-time", row[x_col] == "0", "{row:?}");
    }
    let (_, conc) = csv_header_and_rows(&report.join("value_concentration.csv"));
    assert_eq!(conc.len(), 100);
    assert!((conc[99][1].parse::<f64>().unwrap() - 100.0).abs() < 1e-9);

    // CLV:CAC = a new customer's CLV / CAC, and the current customers' mean CLV beside it.
    let (ah, acq) = csv_header_and_rows(&report.join("acquisition.csv"));
    let at = |name: &str| acq[0][column(&ah, name)].parse::<f64>().unwrap();
    assert!((at("clv_to_cac") - at("new_customer_clv") / 20.0).abs() < 1e-9 * at("clv_to_cac"));
    assert!((at("mean_clv") - total_clv / 2357.0).abs() < 1e-9 * at("mean_clv"));

    // Cohorts: the CDNOW cohort was acquired in January–March 1997.
    let (_, cohorts) = csv_header_and_rows(&report.join("cohorts.csv"));
    let months: Vec<&str> = cohorts.iter().map(|c| c[0].as_str()).collect();
    assert_eq!(months, vec!["1997-01", "1997-02", "1997-03"]);
    for figure in ["value_concentration.png", "value_concentration.svg"] {
        assert!(std::fs::metadata(report.join(figure)).unwrap().len() > 1000, "{figure}");
    }
}

#[test]
fn run_with_timings_prints_each_step_on_standard_error_only() {
    let dir = scratch_dir("timings");
    let out = dir.join("predictions.csv");
    let r = clv(&[
        "run",
        s(&repo("data/cdnow_sample.csv")),
        "--timings",
        "-o",
        s(&out),
        "--report-dir",
        s(&dir.join("report")),
    ]);
    assert!(r.success, "{}", r.stderr);
    let steps: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("timing: "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["read", "summarize", "fit", "forecast", "report", "write", "total"]
    );
    assert!(!r.stdout.contains("timing:"));
    // Without the flag, nothing is printed about timings.
    let quiet = clv(&[
        "run",
        s(&repo("data/cdnow_sample.csv")),
        "-o",
        s(&out),
        "--report-dir",
        s(&dir.join("report")),
    ]);
    assert!(quiet.success && !quiet.stderr.contains("timing:"), "{}", quiet.stderr);
}

#[test]
fn an_output_onto_an_input_is_refused_before_anything_is_read() {
    // `clv summarize log.csv -o log.csv` used to replace the analyst's export with its RFM table.
    // The same file under another name (a symlink, a hard link, ./) is refused too, and the
    // input is left as it was.
    let dir = scratch_dir("output_onto_input");
    let text = "customer_id,date,amount\n1,2020-01-01,5\n1,2020-02-01,7\n2,2020-01-03,4\n";
    let log = write(&dir, "log.csv", text);
    let linked = dir.join("linked.csv");
    let hard = dir.join("hard.csv");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&log, &linked).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(&log, &linked).unwrap();
    std::fs::hard_link(&log, &hard).unwrap();
    let dotted = dir.join(".").join("log.csv");
    let mut attempts = vec![
        vec!["summarize", s(&log), "-o", s(&log)],
        vec!["summarize", s(&log), "-o", s(&dotted)],
        vec!["summarize", s(&log), "-o", s(&hard)],
        vec!["run", s(&log), "-o", s(&log)],
        vec!["run", s(&log), "-o", s(&hard)],
    ];
    if cfg!(unix) {
        attempts.push(vec!["summarize", s(&log), "-o", s(&linked)]);
    }
    for args in attempts {
        let r = clv(&args);
        assert_eq!(r.code, Some(1), "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.contains("would destroy the input") && r.stderr.lines().count() == 1,
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(std::fs::read_to_string(&log).unwrap(), text, "{args:?}");
    }
    // fit and predict: the RFM table and the model file are inputs too.
    let rfm = dir.join("rfm.csv");
    assert!(clv(&["summarize", s(&log), "-o", s(&rfm)]).success);
    let rfm_text = std::fs::read_to_string(&rfm).unwrap();
    let r = clv(&["fit", s(&rfm), "-o", s(&rfm)]);
    assert!(
        !r.success && r.stderr.contains("would destroy the input"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&rfm).unwrap(), rfm_text);
}
