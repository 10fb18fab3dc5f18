//! Intervals from parameter uncertainty (issue "decision-grade value"): their width against the
//! delta method, and the command line's columns and refusals; a new customer's CLV.

// The expected values are mpmath's digits, as printed.
#![allow(clippy::excessive_precision)]

mod common;

use clv::data::rfm::{CustomerIds, RfmTable};
use clv::forecast::intervals::{
    add_parameter_intervals, add_parameter_intervals_by_group, CustomerGroups, IntervalOptions,
};
use clv::forecast::EXPECTED_PURCHASES;
use clv::{fit_models, forecast, ForecastOptions, TimeUnit};
use common::{clv, csv_header_and_rows, published_summary, repo, s, scratch_dir};

/// The papers' CDNOW calibration summary without amounts (purchases only).
fn cdnow_purchases() -> RfmTable {
    let rows = published_summary();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    RfmTable {
        customer_id: CustomerIds::from_labels(&ids),
        frequency: rows.iter().map(|r| r.x).collect(),
        recency: rows.iter().map(|r| r.t_x).collect(),
        t: rows.iter().map(|r| r.t).collect(),
        monetary_value: None,
        first_purchase: None,
        time_unit: TimeUnit::Weeks,
    }
}

#[test]
fn the_interval_of_total_expected_purchases_has_the_delta_methods_width() {
    // The total E[Σ Y(39 weeks)] of the 2,357 CDNOW customers as a function of BG/NBD's
    // parameters, f(θ): its standard error by the delta method is √(∇fᵀ Σ ∇f), Σ the fit's
    // covariance and ∇f by central differences. With 2,000 draws the 90% interval's half-width
    // is 1.645 of it, to within the draws' noise (the 5% and 95% quantiles of 2,000 normal
    // draws scatter by ≈ 2.5% of the half-width) and the curvature of f over ±2 SE.
    let rfm = cdnow_purchases();
    let models = fit_models(&rfm).unwrap();
    let options = ForecastOptions {
        horizon: 39.0,
        ..ForecastOptions::default()
    };
    let mut forecasts = forecast(&models, &rfm, &options).unwrap();
    let interval = IntervalOptions {
        level: 0.9,
        draws: 2000,
        seed: 11,
    };
    let totals = add_parameter_intervals(&models, &rfm, &options, &interval, &mut forecasts).unwrap();
    let fit = models.purchase.erased();
    let total = |params: &[f64]| -> f64 {
        let model = models.purchase.with_values(params).unwrap();
        (0..rfm.len())
            .map(|i| {
                model
                    .conditional_expected_purchases(39.0, rfm.frequency[i], rfm.recency[i], rfm.t[i])
                    .unwrap()
            })
            .sum()
    };
    let at_estimate = total(&fit.params);
    let gradient: Vec<f64> = (0..fit.params.len())
        .map(|k| {
            let h = 1e-5 * fit.params[k];
            let (mut up, mut down) = (fit.params.clone(), fit.params.clone());
            up[k] += h;
            down[k] -= h;
            (total(&up) - total(&down)) / (2.0 * h)
        })
        .collect();
    let cov = fit.covariance.as_ref().unwrap();
    let variance: f64 = (0..4)
        .flat_map(|i| (0..4).map(move |j| (i, j)))
        .map(|(i, j)| gradient[i] * cov[i][j] * gradient[j])
        .sum();
    let half_width = 1.6448536269514722 * variance.sqrt();
    let t = totals.expected_purchases;
    assert!(
        (t.estimate - at_estimate).abs() < 1e-8 * at_estimate,
        "{t:?} vs {at_estimate}"
    );
    assert!(t.lo < t.estimate && t.estimate < t.hi, "{t:?}");
    let measured = (t.hi - t.lo) / 2.0;
    assert!(
        (measured / half_width - 1.0).abs() < 0.06,
        "interval half-width {measured} vs delta method {half_width} (total {at_estimate})"
    );
    assert!(totals.clv.is_none() && totals.failed_evaluations == 0);
    // Every customer's bounds hold her forecast at the estimates.
    let e = forecasts.entry(EXPECTED_PURCHASES).unwrap();
    let bounds = e.interval.as_ref().unwrap();
    for i in 0..rfm.len() {
        assert!(
            bounds.lo[i] <= e.values[i] && e.values[i] <= bounds.hi[i],
            "customer {i}"
        );
    }
}

#[test]
fn predict_with_an_interval_writes_quantile_columns_the_same_for_the_same_seed() {
    let dir = scratch_dir("intervals_predict");
    let (summary, model, a, b) = (
        dir.join("rfm.csv"),
        dir.join("model.json"),
        dir.join("a.csv"),
        dir.join("b.csv"),
    );
    let log = repo("data/cdnow_sample.csv");
    let r = clv(&[
        "summarize",
        s(&log),
        "--calibration-end",
        "1997-09-30",
        "-o",
        s(&summary),
    ]);
    assert!(r.success, "{}", r.stderr);
    let r = clv(&["fit", s(&summary), "-o", s(&model)]);
    assert!(r.success, "{}", r.stderr);
    let predict = |out: &std::path::Path, seed: &str| {
        clv(&[
            "predict",
            s(&summary),
            "--model-file",
            s(&model),
            "--interval",
            "0.8",
            "--draws",
            "100",
            "--interval-seed",
            seed,
            "-o",
            s(out),
        ])
    };
    let r = predict(&a, "5");
    assert!(r.success, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Totals with their 80% interval from parameter uncertainty (100 draws): expected purchases"),
        "{}",
        r.stdout
    );
    let (header, rows) = csv_header_and_rows(&a);
    for name in [
        "p_alive",
        "churn_probability",
        "expected_purchases",
        "expected_avg_spend",
        "clv",
    ] {
        let (point, lo, hi) = (
            common::column(&header, name),
            common::column(&header, &format!("{name}_q10")),
            common::column(&header, &format!("{name}_q90")),
        );
        for row in &rows {
            let v = |k: usize| row[k].parse::<f64>().unwrap();
            assert!(v(lo) <= v(point) && v(point) <= v(hi), "{name}: {row:?}");
        }
    }
    assert!(predict(&b, "5").success);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(predict(&b, "6").success);
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // Too few draws to place a 5% quantile, and an interval that is not a probability.
    let r = clv(&[
        "predict",
        s(&summary),
        "--model-file",
        s(&model),
        "--interval",
        "0.9",
        "--draws",
        "5",
        "-o",
        s(&b),
    ]);
    assert!(r.code == Some(1) && r.stderr.contains("at least 20"), "{}", r.stderr);
    let r = clv(&[
        "predict",
        s(&summary),
        "--model-file",
        s(&model),
        "--interval",
        "90",
        "-o",
        s(&b),
    ]);
    assert!(
        r.code == Some(1) && r.stderr.contains("between 0 and 1"),
        "{}",
        r.stderr
    );
}

/// Coverage by simulation (ignored by default: ~2 minutes in the dev profile). Run it with
/// `cargo test --test intervals coverage -- --ignored --nocapture`; CLV_COVERAGE_LOGS sets the
/// number of logs (default 200).
///
/// Each log: 10,000 customers drawn from BG/NBD with known parameters (rates Gamma(2.5, 50), as
/// in the simulation tests, so that same-day purchases rarely merge), 78 weeks, acquired over the
/// first 12; fitted on the first 39 weeks; the 90% interval of Σ E[Y(holdout) | x, t_x, T]
/// (200 draws) checked against the same sum at the true parameters, and each customer's 90%
/// predictive interval of her holdout purchases against what she did.
#[test]
#[ignore]
fn coverage_of_the_aggregate_holdout_forecast_by_simulation() {
    use chrono::NaiveDate;
    use clv::data::io::write_table;
    use clv::simulate::{simulate, PurchaseProcess, SimulationOptions};
    use clv::{summarize, BgNbdParams, LogSpec, SummaryOptions, Transactions};

    let logs: u64 = std::env::var("CLV_COVERAGE_LOGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let truth = BgNbdParams {
        r: 2.5,
        alpha: 50.0,
        a: 0.8,
        b: 2.5,
    };
    let dir = scratch_dir("intervals_coverage");
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let calibration_end = start + chrono::Days::new(39 * 7 - 1);
    let mut covered = 0;
    let (mut customers, mut inside) = (0u64, 0u64);
    // The model's own probability that each customer's count falls inside her interval, and the
    // randomized coverage (below), summed over customers.
    let (mut content, mut randomized) = (0.0, 0.0);
    for seed in 0..logs {
        let mut log = simulate(&SimulationOptions {
            customers: 10_000,
            seed: 1000 + seed,
            purchases: PurchaseProcess::BgNbd(truth),
            start,
            ..SimulationOptions::default()
        })
        .unwrap();
        let path = dir.join("log.parquet");
        write_table(&mut log, &path).unwrap();
        let log = Transactions::load(&path, &LogSpec::default()).unwrap();
        let summary = summarize(
            &log,
            &SummaryOptions {
                time_unit: TimeUnit::Weeks,
                observation_end: None,
                calibration_end: Some(calibration_end),
            },
        )
        .unwrap();
        let names: Vec<String> = summary.frame.get_column_names().iter().map(|c| c.to_string()).collect();
        let mut rfm = RfmTable::from_frame(&summary.frame, &path, &names, Some(TimeUnit::Weeks)).unwrap();
        rfm.monetary_value = None;
        let holdout = summary
            .frame
            .column("duration_holdout")
            .unwrap()
            .f64()
            .unwrap()
            .get(0)
            .unwrap();
        let models = fit_models(&rfm).unwrap();
        let options = ForecastOptions {
            horizon: holdout,
            ..ForecastOptions::default()
        };
        let mut forecasts = forecast(&models, &rfm, &options).unwrap();
        let interval = IntervalOptions {
            level: 0.9,
            draws: 200,
            seed,
        };
        let t = add_parameter_intervals(&models, &rfm, &options, &interval, &mut forecasts)
            .unwrap()
            .expected_purchases;
        // Each customer's 90% predictive interval against her simulated holdout purchases.
        let actual = summary
            .frame
            .column("frequency_holdout")
            .unwrap()
            .cast(&polars::prelude::DataType::Float64)
            .unwrap();
        let actual: Vec<f64> = actual.f64().unwrap().into_no_null_iter().collect();
        let (lo, hi) = (
            forecasts.column("purchases_q05").unwrap(),
            forecasts.column("purchases_q95").unwrap(),
        );
        customers += actual.len() as u64;
        inside += (0..actual.len())
            .filter(|&i| lo[i] <= actual[i] && actual[i] <= hi[i])
            .count() as u64;
        // A count's interval cannot hold exactly 90%: [0, 0] holds P(Y = 0), 97% for most of
        // these customers. Two checks that can: (1) the share inside against the model's own
        // content of the intervals, Σ P(lo ≤ Y ≤ hi) / n; (2) randomized coverage (Czado,
        // Gneiting & Held 2009): a count y stands for the band [F(y−1), F(y)] of the predictive
        // distribution function, of which the part inside [0.05, 0.95] counts as covered — its
        // mean is 0.90 exactly when the predictive distributions are right.
        let model = models.purchase.model();
        for i in 0..rfm.len() {
            let (x, t_x, t_cal) = (rfm.frequency[i], rfm.recency[i], rfm.t[i]);
            let mut cumulative = vec![0.0];
            for k in 0..=(actual[i].max(hi[i]) as u64) {
                let p = model.probability_of_purchases_given(holdout, k, x, t_x, t_cal).unwrap();
                cumulative.push(cumulative[k as usize] + p);
            }
            // cumulative[k + 1] = F(k), cumulative[0] = F(−1) = 0.
            let f = |k: f64| cumulative[k as usize];
            content += f(hi[i] + 1.0) - f(lo[i]);
            let (below, at) = (f(actual[i]), f(actual[i] + 1.0));
            randomized += ((at.min(0.95) - below.max(0.05)).max(0.0)) / (at - below);
        }
        let true_total: f64 = (0..rfm.len())
            .map(|i| {
                truth
                    .conditional_expected_purchases(holdout, rfm.frequency[i], rfm.recency[i], rfm.t[i])
                    .unwrap()
            })
            .sum();
        let hit = t.lo <= true_total && true_total <= t.hi;
        covered += u64::from(hit);
        eprintln!(
            "log {seed}: true {true_total:.1}, estimate {:.1}, 90% interval [{:.1}, {:.1}] {}",
            t.estimate,
            t.lo,
            t.hi,
            if hit { "covers" } else { "misses" }
        );
    }
    let share = covered as f64 / logs as f64;
    eprintln!("coverage: {covered} of {logs} = {:.1}%", 100.0 * share);
    // A central interval of a discrete distribution holds at least its level, often more: a
    // customer almost sure to buy nothing has [0, 0], which covers ~97% of such customers.
    let own = inside as f64 / customers as f64;
    let (content, randomized) = (content / customers as f64, randomized / customers as f64);
    eprintln!(
        "predictive intervals: {inside} of {customers} customers' holdout purchases inside = {:.2}%, against \
         the model's {:.2}%; randomized coverage {:.2}%",
        100.0 * own,
        100.0 * content,
        100.0 * randomized
    );
    assert!(own >= 0.88, "predictive coverage {own}");
    assert!(
        (own - content).abs() < 0.01,
        "inside {own}, the model's content {content}"
    );
    assert!((0.88..=0.92).contains(&randomized), "randomized coverage {randomized}");
    assert!((0.85..=0.95).contains(&share), "coverage {share}");
}

#[test]
fn a_new_customers_clv_is_her_first_purchase_and_eq_9s_repeat_purchases_discounted() {
    // mpmath (30 digits): E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))]
    // (eq. 9) at t_m = m · 365.25/12/7 weeks; mean spend p·v/(q−1) = 35.218978102189781022.
    // 12 months at 1% a month, margin 1: first purchase 35.2189781021897810 + Σ_m 35.2189… ·
    // (E[X(t_m)] − E[X(t_{m−1})]) / 1.01^m = 48.368486348480600927, total 83.587464450670381948;
    // E[X(t_12)] = 1.4492383657471949642. 24 months at 10% a year, margin 0.3, cost 2 per order:
    // 26.080640362320911415.
    use clv::forecast::new_customer::new_customer_value;
    let models = common::papers_models();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs();
    let v = new_customer_value(
        models.purchase.model(),
        models.gamma_gamma.as_ref().unwrap().mean_spend.unwrap(),
        &ForecastOptions::default(),
        TimeUnit::Weeks,
    )
    .unwrap();
    assert!(close(v.first_purchase, 35.218978102189781022), "{v:?}");
    assert!(close(v.repeat_purchases.unwrap(), 1.4492383657471949642), "{v:?}");
    assert!(close(v.repeat_value, 48.368486348480600927), "{v:?}");
    assert!(close(v.clv, 83.587464450670381948), "{v:?}");
    let v = new_customer_value(
        models.purchase.model(),
        35.218978102189781022,
        &ForecastOptions {
            clv_months: 24,
            monthly_discount_rate: clv::forecast::monthly_rate(0.10),
            margin: 0.3,
            cost_per_order: 2.0,
            ..ForecastOptions::default()
        },
        TimeUnit::Weeks,
    )
    .unwrap();
    assert!(close(v.clv, 26.080640362320911415), "{v:?}");
}

#[test]
fn the_break_even_cac_is_a_new_customers_clv_not_the_current_customers_mean() {
    let dir = scratch_dir("intervals_cac");
    let report = dir.join("report");
    let r = clv(&[
        "run",
        s(&repo("data/cdnow_sample.csv")),
        "--calibration-end",
        "1997-09-30",
        "--cac",
        "20",
        "--interval",
        "0.9",
        "-o",
        s(&dir.join("p.csv")),
        "--report-dir",
        s(&report),
    ]);
    assert!(r.success, "{}", r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("Acquisition at CAC 20.00"))
        .unwrap();
    assert!(
        line.contains("a customer acquired now is worth") && line.contains("90% interval"),
        "{line}"
    );
    assert!(
        r.stdout.contains("is what those already acquired are still worth"),
        "{}",
        r.stdout
    );
    let (header, rows) = csv_header_and_rows(&report.join("acquisition.csv"));
    let at = |name: &str| rows[0][common::column(&header, name)].parse::<f64>().unwrap();
    assert_eq!(at("break_even_cac"), at("new_customer_clv"));
    assert!((at("clv_to_cac") - at("new_customer_clv") / 20.0).abs() < 1e-8);
    assert!(
        at("new_customer_clv") > at("mean_clv"),
        "a new customer still has her first purchase ahead"
    );
}

#[test]
fn a_groups_clv_interval_is_that_of_its_customers_alone() {
    // The draws depend on the seed and the fits only, so the interval of the total CLV of a group
    // of customers (tiers, statuses, cohorts in the value report) must be the interval that the
    // same draws give a table holding that group alone. CDNOW with spend, customers split by the
    // parity of their row.
    let rows = published_summary();
    let table = |keep: &dyn Fn(usize) -> bool| {
        let kept: Vec<usize> = (0..rows.len()).filter(|&i| keep(i)).collect();
        let ids: Vec<&str> = kept.iter().map(|&i| rows[i].id.as_str()).collect();
        RfmTable {
            customer_id: CustomerIds::from_labels(&ids),
            frequency: kept.iter().map(|&i| rows[i].x).collect(),
            recency: kept.iter().map(|&i| rows[i].t_x).collect(),
            t: kept.iter().map(|&i| rows[i].t).collect(),
            monetary_value: Some(kept.iter().map(|&i| rows[i].zbar).collect()),
            first_purchase: None,
            time_unit: TimeUnit::Weeks,
        }
    };
    let all = table(&|_| true);
    let models = fit_models(&all).unwrap();
    let options = ForecastOptions::default();
    let interval = IntervalOptions {
        level: 0.9,
        draws: 300,
        seed: 5,
    };
    let parity: Vec<u32> = (0..all.len()).map(|i| (i % 2) as u32).collect();
    let groups = [CustomerGroups {
        of_customer: &parity,
        groups: 2,
    }];
    let mut forecasts = forecast(&models, &all, &options).unwrap();
    let drawn = clv::forecast::intervals::DrawnModels::normal(&models, &interval, true).unwrap();
    let by_group =
        add_parameter_intervals_by_group(&models, &all, &options, &interval, &drawn, &mut forecasts, &groups).unwrap();
    let total = by_group.clv.unwrap();
    let halves = &by_group.group_clv[0];
    assert_eq!(halves.len(), 2);
    assert!(close_to(halves[0].estimate + halves[1].estimate, total.estimate, 1e-12));
    for (group, half) in halves.iter().enumerate() {
        let alone = table(&|i| i % 2 == group);
        let mut alone_forecasts = forecast(&models, &alone, &options).unwrap();
        let expected = add_parameter_intervals(&models, &alone, &options, &interval, &mut alone_forecasts)
            .unwrap()
            .clv
            .unwrap();
        for (got, want) in [
            (half.estimate, expected.estimate),
            (half.lo, expected.lo),
            (half.hi, expected.hi),
        ] {
            assert!(
                close_to(got, want, 1e-12),
                "group {group}: {half:?} against {expected:?}"
            );
        }
        assert!(half.lo < half.estimate && half.estimate < half.hi, "{half:?}");
    }
}

/// |got − want| ≤ tolerance · |want|.
fn close_to(got: f64, want: f64, tolerance: f64) -> bool {
    (got - want).abs() <= tolerance * want.abs()
}

#[test]
fn a_new_customer_per_cohort_is_the_pooled_value_for_one_cohort_and_small_cohorts_get_a_note() {
    // One cohort holding every CDNOW customer is the pooled fit: its value and interval are the
    // new customer's of `clv run` (the interval from the same draws as every other interval), and
    // a cohort of fewer than 100 customers is not fitted alone.
    use clv::forecast::new_customer::{new_customer_by_cohort, new_customer_value, FEWEST_CUSTOMERS_PER_COHORT};
    let rows = published_summary();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let rfm = RfmTable {
        customer_id: CustomerIds::from_labels(&ids),
        frequency: rows.iter().map(|r| r.x).collect(),
        recency: rows.iter().map(|r| r.t_x).collect(),
        t: rows.iter().map(|r| r.t).collect(),
        monetary_value: Some(rows.iter().map(|r| r.zbar).collect()),
        first_purchase: None,
        time_unit: TimeUnit::Weeks,
    };
    let models = fit_models(&rfm).unwrap();
    let options = ForecastOptions::default();
    let interval = IntervalOptions {
        level: 0.9,
        draws: 200,
        seed: 9,
    };
    let mut forecasts = forecast(&models, &rfm, &options).unwrap();
    let pooled = add_parameter_intervals(&models, &rfm, &options, &interval, &mut forecasts)
        .unwrap()
        .new_customer
        .unwrap();
    let mean_spend = models.gamma_gamma.as_ref().unwrap().mean_spend.unwrap();
    let point = new_customer_value(models.purchase.model(), mean_spend, &options, TimeUnit::Weeks).unwrap();
    assert_eq!(point.clv, pooled.estimate);

    // Cohort "all" holds everyone but the last 50, who form cohort "few".
    let n = rfm.len();
    let cohort_of: Vec<u32> = (0..n).map(|i| u32::from(i >= n - 50)).collect();
    let names = vec!["all".to_string(), "few".to_string()];
    let everyone_but = rfm.rows(&(0..n - 50).collect::<Vec<_>>()).unwrap();
    let fit = |cohort: &RfmTable| fit_models(cohort);
    let by_cohort = new_customer_by_cohort(&rfm, &names, &cohort_of, &fit, &options, Some(&interval));
    assert_eq!(by_cohort.len(), 2);
    let (first, few) = (&by_cohort[0], &by_cohort[1]);
    assert_eq!((first.customers, few.customers), (n - 50, 50));
    let alone = fit_models(&everyone_but).unwrap();
    let mut alone_forecasts = forecast(&alone, &everyone_but, &options).unwrap();
    let expected = add_parameter_intervals(&alone, &everyone_but, &options, &interval, &mut alone_forecasts)
        .unwrap()
        .new_customer
        .unwrap();
    let value = first.value.unwrap();
    assert_eq!(value.clv, expected.estimate);
    assert_eq!(value.interval, Some((0.9, expected.lo, expected.hi)));
    assert!(few.value.is_none());
    assert!(
        few.note
            .as_deref()
            .unwrap()
            .contains(&FEWEST_CUSTOMERS_PER_COHORT.to_string()),
        "{few:?}"
    );
}

#[test]
fn a_bootstrap_interval_is_as_wide_as_the_normal_approximations_on_cdnow() {
    // With 2,357 customers the likelihood is close to normal around its maximum, so refits to
    // resampled customers spread the 39-week total of expected purchases as the normal draws do.
    // Each interval's width has a Monte Carlo error of ≈ 4.5% with 400 draws (the 5% and 95%
    // quantiles of n normal draws each scatter by √(0.05·0.95/n)/φ(1.645) = 0.106σ for n = 400,
    // against a width of 3.29σ); 15% is three of those.
    use clv::forecast::intervals::DrawnModels;
    let rfm = cdnow_purchases();
    let models = fit_models(&rfm).unwrap();
    let options = ForecastOptions {
        horizon: 39.0,
        ..ForecastOptions::default()
    };
    let interval = IntervalOptions {
        level: 0.9,
        draws: 400,
        seed: 2,
    };
    let width = |drawn: &DrawnModels| {
        let mut forecasts = forecast(&models, &rfm, &options).unwrap();
        let t = add_parameter_intervals_by_group(&models, &rfm, &options, &interval, drawn, &mut forecasts, &[])
            .unwrap()
            .expected_purchases;
        assert!(t.lo < t.estimate && t.estimate < t.hi, "{t:?}");
        t.hi - t.lo
    };
    let normal = width(&DrawnModels::normal(&models, &interval, false).unwrap());
    let fit = |resample: &RfmTable| fit_models(resample);
    let bootstrap = width(&DrawnModels::bootstrap(&rfm, &fit, &interval, false).unwrap());
    eprintln!("widths: bootstrap {bootstrap:.1}, normal approximation {normal:.1}");
    assert!(
        (bootstrap / normal - 1.0).abs() < 0.15,
        "bootstrap width {bootstrap}, normal {normal}"
    );

    // Refits that fail are refused once they are more than a tenth, with the first one's message.
    let failing =
        |_: &RfmTable| -> clv::Result<clv::FittedModels> { Err(clv::ClvError::InvalidArgument("no fit here".into())) };
    let refused = DrawnModels::bootstrap(&rfm, &failing, &IntervalOptions { draws: 20, ..interval }, false);
    let message = refused.err().unwrap().to_string();
    assert!(
        message.contains("20 of 20 refits") && message.contains("no fit here"),
        "{message}"
    );
}

#[test]
fn the_evaluations_holdout_interval_is_the_forecasts_interval_over_the_holdout() {
    // `clv evaluate --interval` and `clv run --interval` draw BG/NBD's parameters alike (same
    // seed, same fit), so the interval of the holdout total in the evaluation must be that of the
    // total of expected_purchases forecast over the holdout's length from the calibration summary.
    use clv::evaluate::evaluate;
    use clv::forecast::intervals::IntervalMethod;
    use clv::mle::FitOptions;
    use clv::registry::BG_NBD;
    use clv::{summarize, LogSpec, SummaryOptions, Transactions};
    let log = Transactions::load(&repo("data/cdnow_sample.csv"), &LogSpec::default()).unwrap();
    let summary = summarize(
        &log,
        &SummaryOptions {
            time_unit: TimeUnit::Weeks,
            observation_end: None,
            calibration_end: chrono::NaiveDate::from_ymd_opt(1997, 9, 30),
        },
    )
    .unwrap();
    let interval = IntervalOptions {
        level: 0.9,
        draws: 200,
        seed: 4,
    };
    let evaluation = evaluate(
        &log,
        &summary,
        &[BG_NBD],
        &FitOptions::default(),
        Some((&interval, IntervalMethod::NormalApproximation)),
    )
    .unwrap();
    let intervals = evaluation.models[0].intervals.as_ref().unwrap();
    assert_eq!(
        intervals.cumulative_lo.len(),
        evaluation.models[0].expected_cumulative.len()
    );

    let mut rfm = evaluation.rfm.clone();
    rfm.monetary_value = None;
    let models = fit_models(&rfm).unwrap();
    let options = ForecastOptions {
        horizon: evaluation.holdout_length,
        ..ForecastOptions::default()
    };
    let mut forecasts = forecast(&models, &rfm, &options).unwrap();
    let expected = add_parameter_intervals(&models, &rfm, &options, &interval, &mut forecasts)
        .unwrap()
        .expected_purchases;
    let got = intervals.holdout_transactions;
    for (g, e) in [
        (got.estimate, expected.estimate),
        (got.lo, expected.lo),
        (got.hi, expected.hi),
    ] {
        assert!(close_to(g, e, 1e-9), "{got:?} against {expected:?}");
    }
    // The cumulative curve's bounds hold its value at the estimates in every week.
    let curve = &evaluation.models[0].expected_cumulative;
    for (w, c) in curve.iter().enumerate().skip(1) {
        assert!(
            intervals.cumulative_lo[w] <= *c && *c <= intervals.cumulative_hi[w],
            "week {w}"
        );
    }
}
