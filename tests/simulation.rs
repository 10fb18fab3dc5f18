//! `clv simulate`: reproducible from its seed, and fitting what it draws gives back the parameters
//! it was drawn with.

mod common;

use common::{clv, s, scratch_dir};

#[test]
fn the_same_seed_gives_the_same_log_and_another_seed_another() {
    let dir = scratch_dir("sim_seed");
    let (a, b, c) = (dir.join("a.csv"), dir.join("b.csv"), dir.join("c.csv"));
    for (path, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        let r = clv(&["simulate", "--customers", "500", "--seed", seed, "-o", s(path)]);
        assert!(r.success, "{}", r.stderr);
    }
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));
    let text = read(&a);
    assert!(text.starts_with("customer_id,date,amount\n1,2020-"), "{}", &text[..60]);
    // Every customer appears, and every purchase lies in the 546 days from 2020-01-01.
    let ids: std::collections::BTreeSet<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids.len(), 500);
    assert!(text.lines().skip(1).all(|l| {
        let d = l.split(',').nth(1).unwrap();
        ("2020-01-01".."2021-06-30").contains(&d)
    }));
}

#[test]
fn fitting_100000_simulated_customers_recovers_the_parameters_within_3_standard_errors() {
    // Purchase rates Gamma(2.5, 50): mean 0.05 a week with a light tail, so two purchases on one
    // day (which a day-stamped log merges into one) are rare. With the CDNOW estimates, whose
    // rate distribution Gamma(0.243, 4.414) has a long tail, the heaviest buyers' same-day
    // purchases merge and the fitted rate comes out ~3% low: a property of day-stamped data.
    let truth = [2.5, 50.0, 0.8, 2.5, 6.25, 3.74, 15.44];
    let dir = scratch_dir("sim_recovery");
    let (log, rfm, model) = (dir.join("log.csv"), dir.join("rfm.csv"), dir.join("model.json"));
    let params = truth.map(|p| p.to_string()).join(",");
    let r = clv(&[
        "simulate",
        "--customers",
        "100000",
        "--seed",
        "7",
        "-o",
        s(&log),
        "--params",
        &params,
    ]);
    assert!(r.success, "{}", r.stderr);
    assert!(clv(&["summarize", s(&log), "-o", s(&rfm)]).success);
    let r = clv(&["fit", s(&rfm), "-o", s(&model)]);
    assert!(r.success, "{}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let names = [
        ("purchase", "r"),
        ("purchase", "alpha"),
        ("purchase", "a"),
        ("purchase", "b"),
        ("gamma_gamma", "p"),
        ("gamma_gamma", "q"),
        ("gamma_gamma", "v"),
    ];
    for ((model_name, name), true_value) in names.iter().zip(truth) {
        let estimate = json[model_name]["params"][name].as_f64().unwrap();
        let se = json[model_name]["standard_errors"][name].as_f64().unwrap();
        let z = (estimate - true_value) / se;
        assert!(
            z.abs() <= 3.0,
            "{name}: estimate {estimate} ± {se}, truth {true_value}: {z:.2} standard errors off"
        );
    }
    assert_eq!(json["purchase"]["n_customers"], 100000);
}

#[test]
fn a_log_in_partitions_is_the_one_file_log_split_by_customer() {
    use polars::prelude::*;
    let dir = scratch_dir("simulate-partitions");
    let (whole, parts) = (dir.join("log.parquet"), dir.join("log"));
    let args = ["simulate", "--customers", "1000", "--seed", "7"];
    assert!(clv(&[&args[..], &["-o", s(&whole)]].concat()).success);
    let r = clv(&[&args[..], &["-o", s(&parts), "--partitions", "3"]].concat());
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stdout.contains("of 1000 customers") && r.stdout.contains("as 3 Parquet partitions"),
        "{}",
        r.stdout
    );
    let read = |path: &std::path::Path| ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap();
    let mut together = read(&parts.join("part-00000.parquet"));
    // Customers 1–333, 334–666, 667–1000.
    let last_id = |frame: &DataFrame| frame.column("customer_id").unwrap().u64().unwrap().max().unwrap();
    assert_eq!(last_id(&together), 333);
    for part in ["part-00001.parquet", "part-00002.parquet"] {
        together.vstack_mut(&read(&parts.join(part))).unwrap();
    }
    assert_eq!(last_id(&together), 1000);
    assert!(together.equals(&read(&whole)));
    let refused = clv(&[&args[..], &["-o", s(&dir.join("x")), "--partitions", "0"]].concat());
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains("--partitions must be between 1"),
        "{}",
        refused.stderr
    );
}
