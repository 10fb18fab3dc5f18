//! Messy real-world exports: each case either works as documented or fails with one clear line,
//! a non-zero exit code and no output file.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{assert_summarize_fails, clv, column, csv_header_and_rows, s, scratch_dir, Outcome};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `clv summarize LOG -o out.csv EXTRA...`: the output's lines on success.
fn summarize_ok(dir: &Path, log: &Path, extra: &[&str]) -> (Vec<String>, String) {
    let out = dir.join(format!("rfm-{}.csv", log.file_name().unwrap().to_string_lossy()));
    let mut args = vec!["summarize", s(log), "-o", s(&out), "--time-unit", "days"];
    args.extend_from_slice(extra);
    let r = clv(&args);
    assert!(r.success, "{}", r.stderr);
    (
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
        r.stdout,
    )
}

const PLAIN: &[u8] = b"customer_id,date,amount\n1,2020-01-01,5\n1,2020-01-05,6\n2,2020-01-02,3\n";
/// customer 1: days 0 and 4 (x = 1, t_x = 4, T = 4 days, repeat spend 6); customer 2: x = 0, T = 3.
const PLAIN_RFM: [&str; 3] = [
    "customer_id,frequency,recency,T,monetary_value,first_purchase,time_unit",
    "1,1,4.0,4.0,6.0,2020-01-01,days",
    "2,0,0.0,3.0,0.0,2020-01-02,days",
];

#[test]
fn gzip_compressed_csv_reads_like_plain_csv() {
    let dir = scratch_dir("gzip");
    let mut gz = Vec::new();
    {
        // A gzip member with a stored (uncompressed) deflate block, written by hand so the test
        // needs no compression crate: header, block, CRC-32 and size trailer.
        gz.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let n = PLAIN.len() as u16;
        gz.push(1);
        gz.extend_from_slice(&n.to_le_bytes());
        gz.extend_from_slice(&(!n).to_le_bytes());
        gz.extend_from_slice(PLAIN);
        gz.extend_from_slice(&crc32(PLAIN).to_le_bytes());
        gz.extend_from_slice(&(PLAIN.len() as u32).to_le_bytes());
    }
    for name in ["log.csv.gz", "log_gz_content.csv"] {
        let log = write(&dir, name, &gz);
        let (lines, _) = summarize_ok(&dir, &log, &[]);
        assert_eq!(lines, PLAIN_RFM, "{name}");
    }
}

/// CRC-32 (IEEE), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn bom_crlf_and_quoted_fields_are_read() {
    let dir = scratch_dir("bom");
    let log = write(
        &dir,
        "bom.csv",
        b"\xef\xbb\xbfcustomer_id,date,amount\r\n\"1\",2020-01-01,\"5\"\r\n1,2020-01-05,6\r\n\"2, Jr.\",2020-01-02,3\r\n",
    );
    let (lines, _) = summarize_ok(&dir, &log, &[]);
    assert_eq!(lines[1], PLAIN_RFM[1]);
    assert_eq!(lines[2], "\"2, Jr.\",0,0.0,3.0,0.0,2020-01-02,days");
}

#[test]
fn semicolon_delimited_files_are_read_by_their_header_or_the_delimiter_option() {
    let dir = scratch_dir("semicolon");
    let log = write(
        &dir,
        "semi.csv",
        b"customer_id;date;amount\n1;2020-01-01;5\n1;2020-01-05;6\n2;2020-01-02;3\n",
    );
    let (lines, _) = summarize_ok(&dir, &log, &["--delimiter", ";"]);
    assert_eq!(lines, PLAIN_RFM);
    // Without the option the header's ';' is used; a delimiter given that does not split the
    // header is explained.
    let (lines, _) = summarize_ok(&dir, &log, &[]);
    assert_eq!(lines, PLAIN_RFM);
    assert_summarize_fails(&dir, &log, &["--delimiter", ","], &["semi.csv", "--delimiter ';'"]);
}

#[test]
fn ids_are_integers_only_when_every_id_is_written_as_one() {
    let dir = scratch_dir("ids");
    // "007" and "7" are different customers; so are "-3" and "3". Read as integers they would
    // merge, so with "007" in the file every id stays text.
    let log = write(
        &dir,
        "ids.csv",
        b"customer_id,date,amount\n007,2020-01-01,5\n7,2020-01-02,6\n-3,2020-01-03,1\n3,2020-01-04,2\n7,2020-01-05,4\n",
    );
    let (lines, _) = summarize_ok(&dir, &log, &[]);
    let ids: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids, ["007", "7", "-3", "3"]);
    assert!(lines[2].starts_with("7,1,3.0,"), "{}", lines[2]);
    // All canonical: integers (the same text comes back out), negative and zero included.
    let log = write(
        &dir,
        "int_ids.csv",
        b"customer_id,date,amount\n0,2020-01-01,5\n-3,2020-01-02,6\n123456789012345678,2020-01-03,1\n",
    );
    let (lines, _) = summarize_ok(&dir, &log, &[]);
    let ids: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids, ["0", "-3", "123456789012345678"]);
    let dtype = |path: &Path| {
        let log = clv::data::transactions::Transactions::load(path, &Default::default()).unwrap();
        log.frame.column("customer_id").unwrap().dtype().clone()
    };
    assert_eq!(dtype(&log), polars::prelude::DataType::Int64);
    assert_eq!(dtype(&dir.join("ids.csv")), polars::prelude::DataType::String);
}

#[test]
fn negative_amounts_error_by_default_and_can_be_dropped_or_netted() {
    let dir = scratch_dir("negative");
    // Customer 1 buys 10 on day 0, buys 8 and returns 3 on day 2, returns 4 on day 5.
    let log = write(
        &dir,
        "returns.csv",
        b"customer_id,date,amount\n1,2020-01-01,10\n1,2020-01-03,8\n1,2020-01-03,-3\n1,2020-01-06,-4\n2,2020-01-06,1\n",
    );
    assert_summarize_fails(
        &dir,
        &log,
        &[],
        &[
            "column 'amount'",
            "row 3",
            "negative amount -3",
            "--negative-amounts drop or net",
        ],
    );
    // drop: days 0 and 2, repeat spend 8; T = 5 days (observed to Jan 6).
    let (lines, out) = summarize_ok(&dir, &log, &["--negative-amounts", "drop"]);
    assert_eq!(lines[1], "1,1,2.0,5.0,8.0,2020-01-01,days");
    assert!(out.contains("left out: 2 log rows with a negative amount"), "{out}");
    // net: day 2 nets to 5 (a purchase), day 5 nets to −4 (not a purchase).
    let (lines, out) = summarize_ok(&dir, &log, &["--negative-amounts", "net"]);
    assert_eq!(lines[1], "1,1,2.0,5.0,5.0,2020-01-01,days");
    assert!(
        out.contains("netted: 2 log rows") && out.contains("1 customer-days"),
        "{out}"
    );
    // A customer whose only day is a return has no purchase, and that day is counted too.
    let log = write(
        &dir,
        "only_returns.csv",
        b"customer_id,date,amount\n1,2020-01-01,10\n1,2020-01-06,-4\n2,2020-01-06,1\n3,2020-01-04,-2\n",
    );
    let (lines, out) = summarize_ok(&dir, &log, &["--negative-amounts", "net"]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        out.contains("netted: 2 log rows") && out.contains("2 customer-days"),
        "{out}"
    );
}

#[test]
fn zero_amounts_are_purchases_and_zero_spenders_are_left_out_of_the_spend_fit() {
    // The CDNOW sample (946 customers with repeat purchases, all with positive spend) plus three
    // customers whose repeat purchases were free.
    let dir = scratch_dir("zero");
    let mut text = std::fs::read_to_string(common::repo("data/cdnow_sample.csv")).unwrap();
    for c in ["z1", "z2", "z3"] {
        text += &format!("{c},1997-01-05,1,12.00\n{c},1997-02-10,1,0\n{c},1997-03-10,2,0.00\n");
    }
    let log = write(&dir, "zero.csv", text.as_bytes());
    let (rfm, model) = (dir.join("rfm.csv"), dir.join("model.json"));
    assert!(clv(&["summarize", s(&log), "-o", s(&rfm), "--calibration-end", "1997-09-30"]).success);
    let r = clv(&["fit", s(&rfm), "-o", s(&model)]);
    assert!(r.success, "{}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(json["gamma_gamma"]["excluded_nonpositive_spend"], 3, "{}", r.stdout);
    assert_eq!(json["gamma_gamma"]["n_customers"], 946);
    // Their free purchases still count as purchases: 2,360 customers for BG/NBD, and the three
    // have x = 2.
    assert_eq!(json["purchase"]["n_customers"], 2360);
    let table = std::fs::read_to_string(&rfm).unwrap();
    assert!(table.lines().any(|l| l.starts_with("z1,2,")), "{table}");
    assert!(r.stdout.contains("3 with mean spend ≤ 0 left out"), "{}", r.stdout);
}

#[test]
fn rows_after_the_observation_end_are_left_out_and_counted() {
    let dir = scratch_dir("after");
    let log = write(
        &dir,
        "after.csv",
        b"customer_id,date,amount\n1,2020-01-01,5\n1,2020-01-05,6\n2,2020-01-02,3\n1,2020-03-01,9\n",
    );
    let (lines, out) = summarize_ok(&dir, &log, &["--observation-end", "2020-01-05"]);
    assert_eq!(lines, PLAIN_RFM);
    assert!(
        out.contains("left out: 1 log rows dated after the observation end 2020-01-05"),
        "{out}"
    );
}

#[test]
fn mixed_date_formats_and_odd_amounts_name_the_row() {
    let dir = scratch_dir("mixed");
    let log = write(
        &dir,
        "mixed.csv",
        b"customer_id,date,amount\n1,2020-01-01,5\n1,01/05/2020,6\n",
    );
    // 01/05/2020 reads day first and month first: both formats are offered, and the way to tell.
    assert_summarize_fails(
        &dir,
        &log,
        &[],
        &[
            "column 'date'",
            "row 2",
            "'01/05/2020'",
            "%Y-%m-%d",
            r#"it reads with --date-format "%d/%m/%Y" or "%m/%d/%Y""#,
        ],
    );
    let log = write(
        &dir,
        "european.csv",
        b"customer_id,date,amount\n1,31.01.2020,5\n1,05.02.2020,6\n",
    );
    assert_summarize_fails(&dir, &log, &[], &["row 1", r#"it reads with --date-format "%d.%m.%Y""#]);
    let r = clv(&[
        "summarize",
        s(&log),
        "-o",
        s(&dir.join("eu.csv")),
        "--date-format",
        "%d.%m.%Y",
    ]);
    assert!(r.success, "{}", r.stderr);
    let log = write(
        &dir,
        "inf.csv",
        b"customer_id,date,amount\n1,2020-01-01,5\n1,2020-01-05,inf\n",
    );
    assert_summarize_fails(&dir, &log, &[], &["column 'amount'", "row 2", "not a finite amount"]);
    let log = write(
        &dir,
        "dollars.csv",
        b"customer_id,date,amount\n1,2020-01-01,$5.00\n1,2020-01-05,\"$1,234.50\"\n",
    );
    assert_summarize_fails(
        &dir,
        &log,
        &[],
        &[
            "row 1",
            "'$5.00' is not a number: it has a currency symbol",
            "(5.00 here)",
        ],
    );
    let log = write(&dir, "empty_amount.csv", b"customer_id,date,amount\n1,2020-01-01,\n");
    assert_summarize_fails(&dir, &log, &[], &["row 1", "empty amount"]);
}

#[test]
fn a_failed_run_leaves_the_previous_output_intact() {
    let dir = scratch_dir("intact");
    let out = dir.join("rfm.csv");
    std::fs::write(&out, "previous contents\n").unwrap();
    let bad = write(&dir, "bad.csv", b"customer_id,date,amount\n1,not-a-date,5\n");
    let r = clv(&["summarize", s(&bad), "-o", s(&out)]);
    assert!(!r.success);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous contents\n");
    let leftovers = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".clv-"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn duplicate_rows_are_summed_into_their_day() {
    // An exact duplicate row cannot add a transaction (same customer, same day); it adds its amount.
    let dir = scratch_dir("dupes");
    let log = write(
        &dir,
        "dupes.csv",
        b"customer_id,date,amount\n1,2020-01-01,5\n1,2020-01-05,6\n1,2020-01-05,6\n2,2020-01-02,3\n",
    );
    let (lines, _) = summarize_ok(&dir, &log, &[]);
    assert_eq!(lines[1], "1,1,4.0,4.0,12.0,2020-01-01,days");
}

/// A log where nobody ever comes back.
fn one_time_buyers(dir: &Path) -> PathBuf {
    let mut f = std::fs::File::create(dir.join("once.csv")).unwrap();
    writeln!(f, "customer_id,date,amount").unwrap();
    for c in 0..200 {
        writeln!(f, "{c},2020-{:02}-{:02},{}", 1 + c % 6, 1 + c % 28, 5 + c % 11).unwrap();
    }
    writeln!(f, "last,2020-12-31,1").unwrap();
    dir.join("once.csv")
}

#[test]
fn a_log_without_repeat_purchases_is_refused_in_terms_of_the_data() {
    // Nobody came back, so the most likely purchase rate is 0: there is nothing to forecast from,
    // and a fit would only report its start values.
    let dir = scratch_dir("norepeat");
    let log = one_time_buyers(&dir);
    let pred = dir.join("pred.csv");
    let r = clv(&["run", s(&log), "-o", s(&pred)]);
    assert!(!r.success);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("none of the 201 customers made a repeat purchase"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("penalizer"), "{}", r.stderr);
    assert!(!pred.exists());
}

#[test]
fn a_log_where_every_customer_bought_on_one_day_is_refused_in_terms_of_the_data() {
    // Case 3 of the trust-at-the-edges issue: every customer's T is 0. It used to "fit" in 0
    // iterations and forecast 6.10 purchases a year for everyone from the start values.
    let dir = scratch_dir("oneday");
    let mut log = String::from("customer_id,date,amount\n");
    for c in 0..300 {
        log += &format!("{c},2020-03-01,{}\n", 5 + c % 7);
    }
    let log = write(&dir, "oneday.csv", log.as_bytes());
    let pred = dir.join("pred.csv");
    let r = clv(&["run", s(&log), "-o", s(&pred)]);
    assert!(!r.success);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("every customer's observation window is 0 weeks"),
        "{}",
        r.stderr
    );
    assert!(!pred.exists());
}

#[test]
fn too_few_customers_are_refused_and_identical_ones_fit_the_limiting_model() {
    let dir = scratch_dir("degenerate");
    let single = write(
        &dir,
        "single.csv",
        b"customer_id,date,amount\n1,2020-01-01,5\n1,2020-02-01,6\n1,2020-03-01,7\n",
    );
    let pred = dir.join("p.csv");
    let r = clv(&["run", s(&single), "-o", s(&pred)]);
    assert!(!r.success);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("1 customer cannot identify a model of 4 parameters"),
        "{}",
        r.stderr
    );
    assert!(!pred.exists());
    // Fifty customers with the same history (and one newcomer): no heterogeneity to estimate, so
    // the fit is the limiting model with one purchase rate and one dropout probability, said so.
    let mut same = String::from("customer_id,date,amount\n");
    for c in 0..50 {
        same += &format!("{c},2020-01-01,5\n{c},2020-02-01,6\n{c},2020-03-01,7\n");
    }
    same += "x,2020-05-01,5\n";
    let same = write(&dir, "same.csv", same.as_bytes());
    let r = clv(&["run", s(&same), "-o", s(&pred)]);
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("limiting model, homogeneous purchase rate and dropout"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("  lambda ") && r.stdout.contains("  p "),
        "{}",
        r.stdout
    );
    // Their mean spends are all 6.5: no spend model, and the reason is given.
    assert!(
        r.stdout
            .contains("every customer with repeat purchases has the same mean repeat spend"),
        "{}",
        r.stdout
    );
    assert!(pred.exists());
}

#[test]
fn an_rfm_table_with_impossible_rows_is_refused_with_the_row() {
    let dir = scratch_dir("rfm_rows");
    let model = dir.join("m.json");
    let cases: [(&str, &[&str]); 6] = [
        (
            "customer_id,frequency,recency,T\na,2,0,10\n",
            &["column 'recency'", "row 1", "recency is 0 but frequency is 2"],
        ),
        (
            "customer_id,frequency,recency,T\na,1,3,10\nb,0,4,10\n",
            &["column 'recency'", "row 2", "recency is 4 but frequency is 0"],
        ),
        (
            "customer_id,frequency,recency,T\na,1,5,4\n",
            &["row 1", "recency 5 is not between 0 and T = 4"],
        ),
        (
            "customer_id,frequency,recency,T\na,1.5,2,4\n",
            &["column 'frequency'", "not a whole number"],
        ),
        (
            "customer_id,frequency,recency,T\na,1,2,x\n",
            &["column 'T'", "row 1", "not a finite number"],
        ),
        (
            "customer_id,frequency,recency,T\na,1,2,4\nb,1,,4\n",
            &["column 'recency'", "row 2", "empty, where a number is needed"],
        ),
    ];
    for (text, words) in cases {
        let rfm = write(&dir, "rfm.csv", text.as_bytes());
        let r = clv(&["fit", s(&rfm), "-o", s(&model), "--time-unit", "weeks"]);
        assert_eq!(r.code, Some(1), "{text}: {}", r.stdout);
        for w in words {
            assert!(r.stderr.contains(w), "{text}: missing '{w}' in {}", r.stderr);
        }
        assert!(!model.exists());
    }
}

#[test]
fn corrupt_compressed_input_is_an_error_not_a_crash() {
    let dir = scratch_dir("corrupt_gz");
    let log = write(
        &dir,
        "log.csv.gz",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffnot really deflate data",
    );
    let r = clv(&["summarize", s(&log), "-o", s(&dir.join("o.csv"))]);
    // Exit code 1, an input error: a panic would be exit code 70 ("internal error").
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(!dir.join("o.csv").exists());
}

#[test]
fn a_closed_standard_output_stops_the_printing_not_the_run() {
    // `clv run log.csv -o x.csv | head -1`: the reader goes away; the predictions must still be
    // written and the run end with exit 0, not "internal error … this is a bug" (exit 70).
    use std::process::{Command, Stdio};
    let dir = scratch_dir("closed_pipe");
    let pred = dir.join("pred.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_clv"))
        .args(["run", s(&common::repo("data/cdnow_sample.csv")), "-o", s(&pred)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&pred).unwrap().lines().count(), 2358);
}

#[test]
fn a_model_file_with_an_impossible_parameter_is_refused_on_reading() {
    // A hand-edited b = -2.4 (or p = 1.5) used to give NaN forecasts for every customer.
    let dir = scratch_dir("bad_model");
    let rfm = write(
        &dir,
        "rfm.csv",
        b"customer_id,frequency,recency,T\na,1,3,10\nb,0,0,10\n",
    );
    // Format 3 (`"purchase": {"model": KEY, ...}`), and format 2, which stored the fit under KEY.
    let entry = r#""params": PARAMS, "standard_errors": null, "covariance": null, "parameter_order": [],
        "log_likelihood": 0, "aic": 0, "bic": 0, "n_customers": 2, "iterations": 0"#;
    let head = r#""clv_version": "test", "time_unit": "weeks", "gamma_gamma": null"#;
    let formats = [
        format!(r#"{{"format_version": 3, {head}, "purchase": {{"model": KEY, {entry}}}}}"#),
        format!(r#"{{"format_version": 2, {head}, KEY: {{{entry}}}}}"#),
    ];
    let cases = [
        (
            r#""bg_nbd""#,
            r#"{"r": 0.24, "alpha": 4.4, "a": 0.79, "b": -2.4}"#,
            "b = -2.4",
        ),
        (r#""bg_nbd_limit""#, r#"{"r": 0.24, "alpha": 4.4, "p": 1.5}"#, "p = 1.5"),
        (
            r#""pareto_nbd""#,
            r#"{"r": 0.55, "alpha": 0, "s": 0.6, "beta": 11.7}"#,
            "alpha = 0",
        ),
    ];
    for (base, (key, params, words)) in formats.iter().flat_map(|f| cases.iter().map(move |c| (f, c))) {
        let model = write(
            &dir,
            "m.json",
            base.replace("KEY", key).replace("PARAMS", params).as_bytes(),
        );
        let pred = dir.join("p.csv");
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
        assert_eq!(r.code, Some(1), "{}", r.stdout);
        assert!(r.stderr.contains("m.json") && r.stderr.contains(words), "{}", r.stderr);
        assert!(!pred.exists());
    }
}

/// `clv simulate` of 3,000 customers (seed 5) with `params` into `dir/log.csv`, then `clv run` on
/// it (with `extra` arguments): its outcome, and the predictions' header and rows.
fn simulated_run(dir: &Path, params: &str, extra: &[&str]) -> (Outcome, Vec<String>, Vec<Vec<String>>) {
    let (log, pred) = (dir.join("log.csv"), dir.join("pred.csv"));
    let r = clv(&[
        "simulate",
        "--customers",
        "3000",
        "--seed",
        "5",
        "--params",
        params,
        "-o",
        s(&log),
    ]);
    assert!(r.success, "{}", r.stderr);
    let mut args = vec!["run", s(&log), "-o", s(&pred)];
    args.extend_from_slice(extra);
    let r = clv(&args);
    assert!(r.success, "{}", r.stderr);
    let (header, rows) = csv_header_and_rows(&pred);
    (r, header, rows)
}

#[test]
fn a_spend_model_with_q_below_one_values_the_customers_it_can_and_leaves_the_rest_empty() {
    // Spend ν ~ Gamma(q = 0.8, ·): the population mean p·v/(q−1) is infinite. Customers with repeat
    // purchases still have E[M | x, z̄] = p(v + x z̄)/(px + q − 1) (checked here against the
    // model file's parameters); those without get an empty spend and CLV, the run says so, and
    // the value report, which needs every customer's CLV, is not written.
    let dir = scratch_dir("spend_q_below_one");
    let model = dir.join("model.json");
    let (r, header, rows) = simulated_run(
        &dir,
        "0.243,4.414,0.793,2.426,6.25,0.8,15.44",
        &["--model-output", s(&model)],
    );
    assert!(
        r.stdout
            .contains("≤ 1: the population mean spend p·v/(q−1) is infinite"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no value report"), "{}", r.stdout);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let gg = &json["gamma_gamma"]["params"];
    let (p, q, v) = (
        gg["p"].as_f64().unwrap(),
        gg["q"].as_f64().unwrap(),
        gg["v"].as_f64().unwrap(),
    );
    assert!(q < 1.0, "q = {q}");
    let col = |name: &str| column(&header, name);
    let (x_col, m_col, spend_col, clv_col) = (
        col("frequency"),
        col("monetary_value"),
        col("expected_avg_spend"),
        col("clv"),
    );
    let (mut empty, mut valued) = (0, 0);
    for f in &rows {
        let x: f64 = f[x_col].parse().unwrap();
        if x == 0.0 {
            assert!(f[spend_col].is_empty() && f[clv_col].is_empty(), "{f:?}");
            empty += 1;
        } else {
            let zbar: f64 = f[m_col].parse().unwrap();
            let expected = p * (v + x * zbar) / (p * x + q - 1.0);
            let spend: f64 = f[spend_col].parse().unwrap();
            assert!(
                (spend - expected).abs() <= 1e-9 * expected,
                "{f:?}: {spend} vs {expected}"
            );
            assert!(f[clv_col].parse::<f64>().unwrap().is_finite(), "{f:?}");
            valued += 1;
        }
    }
    assert!(empty > 0 && valued > 0);
    assert!(
        r.stdout.contains(&format!(
            "{empty} customers without repeat purchases have no spend or CLV"
        )),
        "{}",
        r.stdout
    );
    // The holdout evaluation checks the spend of the buyers it can forecast and says who is left out.
    let out = dir.join("eval");
    let log = dir.join("log.csv");
    let r = clv(&[
        "evaluate",
        s(&log),
        "--calibration-end",
        "2020-12-31",
        "--report-dir",
        s(&out),
    ]);
    assert!(r.success, "{}", r.stderr);
    assert!(r.stdout.contains("are left out of the spend check"), "{}", r.stdout);
}

#[test]
fn a_heavy_tailed_spend_model_says_how_much_of_the_clv_rests_on_it() {
    // Spend ν ~ Gamma(q = 1.5, ·): q < 2, infinite variance across customers. The fit warns, and
    // the run says which share of the forecast CLV sits with customers without repeat purchases
    // (valued at p·v/(q−1)) — checked here against the predictions file itself.
    let dir = scratch_dir("heavy_spend");
    let (r, header, rows) = simulated_run(&dir, "0.243,4.414,0.793,2.426,2,1.5,10", &[]);
    assert!(
        r.stdout.contains("warning: q = ") && r.stdout.contains("< 2: spend"),
        "{}",
        r.stdout
    );
    let (x, clv_col) = (column(&header, "frequency"), column(&header, "clv"));
    let (mut total, mut one_time) = (0.0, 0.0);
    for f in &rows {
        let value: f64 = f[clv_col].parse().unwrap();
        total += value;
        if f[x] == "0" {
            one_time += value;
        }
    }
    let share = format!("hold {:.1}% of the forecast CLV", 100.0 * one_time / total);
    assert!(r.stdout.contains(&share), "{share} not in {}", r.stdout);
}

#[test]
fn a_spend_likelihood_rising_towards_constant_spend_per_customer_fits_that_limit() {
    // 35 simulated customers (seed 2; 23 with repeat purchases, 10 of them with one). Gamma-
    // Gamma's likelihood rises with p at its best q and s = p·v all the way to p → ∞, each
    // customer always spending her own mean (an independent profile in pure Python, the note's
    // eq. (3) summed over the 23: −108.296 at p = 1, −104.295 at p = 6.25, −103.650 at p = 30,
    // −103.5314 at p = 10⁶, best of a grid in q and s; −104.826 at the simulation's own
    // 6.25, 3.74, 15.44). No interior start settles. clv used to stand in the homogeneous limit
    // (log-likelihood −115.39, far below); now it fits the constant-spend limit, whose
    // maximum can be no lower than any point of the grid.
    let dir = scratch_dir("flat_spend");
    let (log, model, out) = (dir.join("log.csv"), dir.join("model.json"), dir.join("p.csv"));
    let r = clv(&["simulate", "--customers", "35", "--seed", "2", "-o", s(&log)]);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&["run", s(&log), "--model-output", s(&model), "-o", s(&out)]);
    assert!(r.success, "{}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let spend = &json["gamma_gamma"];
    assert!(
        spend["params"]["s"].is_f64() && spend["params"]["q"].is_f64(),
        "{spend}"
    );
    assert!(
        spend["limit"]
            .as_str()
            .unwrap()
            .starts_with("constant spend per customer"),
        "{spend}"
    );
    let ll = spend["log_likelihood"].as_f64().unwrap();
    assert!((-103.5315..-103.5).contains(&ll), "{ll}");
    // A customer with repeat purchases is forecast her own mean spend; one without, s/(q−1).
    let (q, scale) = (
        spend["params"]["q"].as_f64().unwrap(),
        spend["params"]["s"].as_f64().unwrap(),
    );
    let (header, rows) = csv_header_and_rows(&out);
    assert_eq!(rows.len(), 35);
    let (x, z, m) = (
        column(&header, "frequency"),
        column(&header, "monetary_value"),
        column(&header, "expected_avg_spend"),
    );
    for row in &rows {
        let forecast: f64 = row[m].parse().unwrap();
        let expected = match row[x].parse::<f64>().unwrap() > 0.0 {
            true => row[z].parse::<f64>().unwrap(),
            false => scale / (q - 1.0),
        };
        assert!((forecast - expected).abs() <= 1e-9 * expected, "{row:?}");
    }
}

#[test]
fn heavy_buyers_whose_purchase_probabilities_carry_rounding_still_get_their_predictive_interval() {
    // 300 customers (seed 3) buying at r = 100, α = 50 (two a week) with a, b = 200, 20,000: one
    // made 145 repeat purchases. Eq. (8) at her posterior (b + x ≈ 2·10⁴) sums to 1 only
    // within ~1e-10 (its Beta functions' logarithms round), never to 1 − 1e-12: the run stopped
    // with "the distribution of the future purchases ... could not be evaluated" after tabulating
    // 100,000 terms. Now the table ends where the terms past the mean vanish and is normalised.
    let dir = scratch_dir("predictive_rounding");
    let (log, pred) = (dir.join("log.csv"), dir.join("pred.csv"));
    let params = "100,50,200,20000,6,4,15";
    let r = clv(&[
        "simulate",
        "--customers",
        "300",
        "--seed",
        "3",
        "--params",
        params,
        "-o",
        s(&log),
    ]);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&["run", s(&log), "--model", "bg-nbd", "--interval", "0.9", "-o", s(&pred)]);
    assert!(r.success, "{}", r.stderr);
    let (header, rows) = csv_header_and_rows(&pred);
    let (x, expected, lo, hi) = (
        column(&header, "frequency"),
        column(&header, "expected_purchases"),
        column(&header, "purchases_q05"),
        column(&header, "purchases_q95"),
    );
    let number = |row: &[String], col: usize| row[col].parse::<f64>().unwrap();
    for row in &rows {
        let (lo, hi) = (number(row, lo), number(row, hi));
        assert!(lo <= hi, "{row:?}");
    }
    // The heaviest buyer (169 purchases), alive with near certainty, expects 66 purchases over
    // the 52-week horizon: her 90% interval holds that mean.
    let heaviest = rows
        .iter()
        .max_by(|a, b| number(a, x).total_cmp(&number(b, x)))
        .unwrap();
    assert_eq!(number(heaviest, x), 169.0);
    let mean = number(heaviest, expected);
    assert!(
        number(heaviest, lo) <= mean && mean <= number(heaviest, hi),
        "{heaviest:?}"
    );
}

#[test]
fn a_spend_model_that_cannot_be_fitted_leaves_no_spend_model_and_says_why() {
    // One L-BFGS iteration per start cannot reach a maximum, of the model or of either limit:
    // the spend fit is then no model with its reason (and `clv run` goes on without CLV, as
    // without amounts), not an error that takes the purchase forecasts with it.
    let rfm = clv::RfmTable::read(
        &common::repo("data/cdnow_customers_summary_with_transactions.csv"),
        Some(clv::TimeUnit::Weeks),
    )
    .unwrap();
    let options = clv::mle::FitOptions::default().with_max_iterations(1).unwrap();
    let (spend, reason) =
        clv::fitting::fit_spend_to(&rfm.frequency, rfm.monetary_value.as_deref(), None, &options).unwrap();
    assert!(spend.is_none());
    let reason = reason.unwrap();
    assert!(
        reason.contains("did not converge") && reason.ends_with("no CLV without a spend model"),
        "{reason}"
    );
}

#[test]
fn an_interval_on_a_parameter_the_data_do_not_identify_is_refused_naming_it() {
    // 1,000 one-time buyers and one customer who came back once: Pareto/NBD reaches its limit of
    // homogeneous rates with a dropout rate μ near 0 whose standard error is thousands of times
    // the estimate. Drawn in its log scale, μ overflows; that run used to end in "the parameters
    // [.., inf] are not a pareto_nbd_limit: data did not match any variant of untagged enum".
    // Now the run names the parameter, writes nothing, and points to what still works.
    let dir = scratch_dir("unidentified_interval");
    let mut f = std::fs::File::create(dir.join("one_repeat.csv")).unwrap();
    writeln!(f, "customer_id,date,amount").unwrap();
    for c in 0..1000 {
        writeln!(f, "{c},2024-{:02}-{:02},20", 1 + c % 3, 1 + (c * 7) % 28).unwrap();
    }
    writeln!(f, "0,2024-05-30,25").unwrap();
    let log = dir.join("one_repeat.csv");
    let pred = dir.join("pred.csv");
    let with_interval = [
        "run",
        s(&log),
        "-o",
        s(&pred),
        "--model",
        "pareto-nbd",
        "--interval",
        "0.9",
    ];
    let r = clv(&with_interval);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("the data do not identify mu = "), "{}", r.stderr);
    // Before drawing, the run says why the draws would be poor there.
    assert!(
        r.stderr
            .contains("note: Pareto/NBD: the data do not identify mu (see the fit's warnings)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("without --interval the point forecasts stand"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("untagged enum"), "{}", r.stderr);
    assert!(!pred.exists());
    // Without --interval the same run writes its point forecasts.
    let r = clv(&with_interval[..6]);
    assert!(r.success, "{}", r.stderr);
    assert!(pred.exists());
}
