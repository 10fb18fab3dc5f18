//! The discrete and contractual summary kinds: each builder against hand-worked histories and
//! against the published tables it must reproduce (BG/BB's donations histogram, the sBG paper's
//! cohorts), their refusals, and decisions made on a summary that is not an RFM table.

mod common;

use std::fmt::Write as _;

use chrono::NaiveDate;
use clv::data::contractual::{
    read_survival_counts, read_survival_table, summarize_subscriptions, survival_histories, ContractualOptions,
    SubscriptionSpec, Subscriptions,
};
use clv::data::discrete::{read_discrete_histories, summarize_discrete, DiscreteSummaryOptions};
use clv::data::period::Period;
use clv::data::summary::{CustomerSummary, SummaryKind};
use clv::decisions::{decide, value_report, DecisionOptions, Status};
use clv::forecast::{ForecastColumn, Forecasts, CLV, CLV_IF_ALIVE, EXPECTED_PURCHASES, P_ALIVE};
use clv::models::histories::{DiscreteRow, SurvivalHistories};
use clv::{ClvError, LogSpec, Transactions};
use common::{repo, scratch_dir};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_yearly_log_gives_opportunities_by_hand() {
    let dir = scratch_dir("discrete_by_hand");
    // a: first 1995-03-01; 1996 twice (one transaction, 30 + 20), 1999 (40); 2001-08 is in an
    //    unfinished year when the observation ends 2001-06-30 → x = 2, t_x = 1999 − 1995 = 4,
    //    n = 2000 − 1995 = 5, monetary = (50 + 40)/2 = 45.
    // b: 1995-06-01 and 1995-08-01: both in her first year → x = 0, t_x = 0, n = 5.
    // c: first purchase 2001-05-01, in the unfinished year → n = 0.
    // d: first purchase after the observation end → not in the table.
    let log = write(
        &dir,
        "log.csv",
        "customer_id,date,amount\n\
         a,1995-03-01,10\na,1996-05-01,30\na,1996-07-01,20\na,1999-02-02,40\na,2001-06-01,5\n\
         b,1995-06-01,10\nb,1995-08-01,15\nc,2001-05-01,10\nd,2001-07-01,10\n",
    );
    let log = Transactions::load(&log, &LogSpec::default()).unwrap();
    let options = DiscreteSummaryOptions {
        period: Period::Year,
        observation_end: Some(date("2001-06-30")),
        calibration_end: None,
    };
    let s = summarize_discrete(&log, &options).unwrap();
    let ids: Vec<String> = (0..s.len()).map(|i| s.customer_label(i)).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(s.frequency, [2, 0, 0]);
    assert_eq!(s.recency, [4, 0, 0]);
    assert_eq!(s.periods, [5, 5, 0]);
    assert_eq!(s.monetary_value.as_deref(), Some(&[45.0, 0.0, 0.0][..]));
    // 2001-06-01 is now in a finished year (2001 ends 2001-12-31): x = 3, t_x = n = 6.
    let to_year_end = DiscreteSummaryOptions {
        observation_end: Some(date("2001-12-31")),
        ..options
    };
    let s = summarize_discrete(&log, &to_year_end).unwrap();
    assert_eq!((s.frequency[0], s.recency[0], s.periods[0]), (3, 6, 6));
    // d now in the table, with no finished year after her first: n = 0.
    assert_eq!(s.len(), 4);
    assert_eq!(s.periods[3], 0);
    // Calibration to 1997-12-31, holdout to 2001-12-31: a has 1996 in calibration (x = 1,
    // t_x = 1, n = 2) and 1999, 2001 in the 4 holdout years.
    let split = DiscreteSummaryOptions {
        calibration_end: Some(date("1997-12-31")),
        ..to_year_end
    };
    let s = summarize_discrete(&log, &split).unwrap();
    assert_eq!((s.frequency[0], s.recency[0], s.periods[0]), (1, 1, 2));
    let (x_holdout, n_holdout) = s.holdout.as_ref().unwrap();
    assert_eq!((x_holdout[0], n_holdout[0]), (2, 4));
    assert_eq!(s.len(), 2, "c and d first bought after the calibration end");
    assert_eq!(s.kind(), SummaryKind::DiscreteNonContractual);
    let frame = s.to_frame().unwrap();
    let names: Vec<&str> = frame.get_column_names().iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "frequency",
            "recency",
            "periods",
            "monetary_value",
            "frequency_holdout",
            "periods_holdout",
            "first_purchase",
            "period",
            "period_end"
        ]
    );
}

#[test]
fn the_donations_histogram_read_and_rebuilt_from_a_log() {
    // The published histogram: 11,104 donors, 6 opportunities (shared/data/README.md), 24,615
    // repeat donations (Σ x · count over its 22 rows, summed by hand with awk).
    let published = read_discrete_histories(&repo("data/donations.csv")).unwrap();
    assert_eq!(published.n_customers(), 11104.0);
    assert_eq!(published.rows().len(), 22);
    let donations: f64 = published.rows().iter().map(|r| f64::from(r.x) * r.weight).sum();
    assert_eq!(donations, 24615.0);
    assert!(published.rows().iter().all(|r| r.n == 6));

    // A log with, for every donor of a row, a first gift in 1995 and gifts in years
    // 1995 + t_x − x + 1, …, 1995 + t_x (the last at opportunity t_x); summarised yearly to
    // 2001-12-31 it must give back the published histogram.
    let dir = scratch_dir("donations");
    let mut log = String::from("customer_id,date\n");
    let mut id = 0;
    for r in published.rows() {
        for _ in 0..r.weight as u32 {
            id += 1;
            writeln!(log, "{id},1995-0{}-15", 1 + id % 9).unwrap();
            for year in (1995 + r.t_x - r.x + 1)..=(1995 + r.t_x) {
                writeln!(log, "{id},{year}-11-0{}", 1 + id % 9).unwrap();
            }
        }
    }
    let path = write(&dir, "donations_log.csv", &log);
    let spec = LogSpec {
        amount_col: None,
        ..LogSpec::default()
    };
    let log = Transactions::load(&path, &spec).unwrap();
    let summary = summarize_discrete(
        &log,
        &DiscreteSummaryOptions {
            period: Period::Year,
            observation_end: Some(date("2001-12-31")),
            calibration_end: None,
        },
    )
    .unwrap();
    let rebuilt = summary.histories().unwrap();
    let mut ours: Vec<DiscreteRow> = rebuilt.rows().to_vec();
    let mut theirs: Vec<DiscreteRow> = published.rows().to_vec();
    for rows in [&mut ours, &mut theirs] {
        rows.sort_by_key(|r| (r.x, r.t_x, r.n));
    }
    assert_eq!(ours, theirs);
}

#[test]
fn impossible_discrete_histories_are_refused_with_their_row() {
    let dir = scratch_dir("discrete_bad");
    let path = write(&dir, "h.csv", "x,t_x,n,count\n0,0,6,10\n3,2,6,4\n");
    match read_discrete_histories(&path) {
        Err(ClvError::BadValue { row, message, .. }) => {
            assert_eq!(row, 2);
            assert!(message.contains("x ≤ t_x ≤ n"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let path = write(&dir, "h2.csv", "frequency,recency,periods\n1,1.5,6\n");
    let err = read_discrete_histories(&path).unwrap_err().to_string();
    assert!(
        err.contains("column 'recency', data row 1") && err.contains("whole number"),
        "{err}"
    );
    let path = write(&dir, "h3.csv", "frequency,recency\n1,1\n");
    let err = read_discrete_histories(&path).unwrap_err().to_string();
    assert!(err.contains("no column 'periods'"), "{err}");
}

#[test]
fn subscriptions_become_paid_periods_and_censored_renewals_by_hand() {
    let dir = scratch_dir("subscriptions");
    // Monthly plans observed to 2024-06-30:
    // m1 started 2024-01-31, ended 2024-03-31 (service to 30 March): periods began 31 Jan,
    //    29 Feb → paid 2, churned.
    // m2 started 2024-01-31, ended 2024-04-01: the third period began 31 March → paid 3, churned.
    // m3 started 2024-01-15, active: anniversaries 15 Feb … 15 Jun → 5 renewals, censored.
    // m4 started 2024-03-10, ends 2024-09-10 (after the observation end): active, 3 renewals.
    // m5 started and ended 2024-05-05: churned after its first period.
    // m6 starts 2024-07-01: after the observation end, left out.
    let path = write(
        &dir,
        "subs.csv",
        "customer_id,start,end,price,plan\n\
         m1,2024-01-31,2024-03-31,10,basic\nm2,2024-01-31,2024-04-01,10,basic\n\
         m3,2024-01-15,,25,pro\nm4,2024-03-10,2024-09-10,25,pro\nm5,2024-05-05,2024-05-05,10,basic\n\
         m6,2024-07-01,,10,basic\n",
    );
    let spec = SubscriptionSpec {
        price_col: Some("price".into()),
        cohort_col: Some("plan".into()),
        ..SubscriptionSpec::default()
    };
    let subs = Subscriptions::load(&path, &spec).unwrap();
    let options = ContractualOptions {
        period: Period::Month,
        observation_end: Some(date("2024-06-30")),
    };
    let s = summarize_subscriptions(&subs, &options).unwrap();
    assert_eq!(s.duration, [2, 3, 5, 3, 1]);
    assert_eq!(s.churned, [true, true, false, false, true]);
    assert_eq!(s.started_after_observation_end, 1);
    // Renewals and their revenue: m3 renewed 5 times at 25.
    assert_eq!(s.repeat_transactions(2), 5.0);
    assert_eq!(s.repeat_revenue(2), 125.0);
    assert_eq!(s.repeat_transactions(0), 1.0);
    let h = s.histories().unwrap();
    assert_eq!(h.cohorts(), ["basic", "pro"]);
    // basic: 3 subscriptions, churned after 2, 3 and 1 periods.
    assert_eq!(h.active_after(0, 0), Some(3.0));
    assert_eq!(h.active_after(0, 1), Some(2.0));
    assert_eq!(h.active_after(0, 3), Some(0.0));
    // pro: censored at 3 and 5; after 4 periods the one censored at 3 is unknown.
    assert_eq!(h.active_after(1, 3), Some(2.0));
    assert_eq!(h.active_after(1, 4), None);
    // Without an observation end: the latest date in the log, 2024-09-10 — m4 has churned.
    let s = summarize_subscriptions(
        &subs,
        &ContractualOptions {
            observation_end: None,
            ..options
        },
    )
    .unwrap();
    assert_eq!((s.duration[3], s.churned[3]), (6, true));
    assert_eq!(s.started_after_observation_end, 0);
}

#[test]
fn a_subscription_log_rebuilt_from_the_retention_papers_cohorts_gives_their_survival() {
    // Fader & Hardie (2007): 1,000 customers per cohort; a customer lost in year t ends on her
    // t-th anniversary, the rest are active on 2007-01-01, seven years after the start (the
    // table's years 8–12 are the papers' holdout, cut here).
    let path = repo("data/retention_cohorts.csv");
    let counts = read_survival_counts(&path).unwrap();
    assert_eq!(counts.iter().map(|c| c.active.len()).collect::<Vec<_>>(), [13, 13]);
    let published = survival_histories(&path, counts.iter().map(|c| c.truncated(7)).collect()).unwrap();
    assert_eq!(published.cohorts(), ["regular", "high end"]);
    let regular = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
    let high_end = [1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0];
    for (t, (&r, &h)) in regular.iter().zip(&high_end).enumerate() {
        assert_eq!(published.active_after(0, t as u32), Some(r));
        assert_eq!(published.active_after(1, t as u32), Some(h));
    }
    let mut log = String::from("customer_id,start,end,cohort\n");
    let mut id = 0;
    for (cohort, active) in [("regular", regular), ("high end", high_end)] {
        for t in 1..active.len() {
            for _ in 0..(active[t - 1] - active[t]) as u32 {
                id += 1;
                writeln!(log, "{id},2000-01-01,{}-01-01,{cohort}", 2000 + t).unwrap();
            }
        }
        for _ in 0..active[7] as u32 {
            id += 1;
            writeln!(log, "{id},2000-01-01,,{cohort}").unwrap();
        }
    }
    let dir = scratch_dir("retention");
    let path = write(&dir, "subs.csv", &log);
    let spec = SubscriptionSpec {
        cohort_col: Some("cohort".into()),
        ..SubscriptionSpec::default()
    };
    let subs = Subscriptions::load(&path, &spec).unwrap();
    let s = summarize_subscriptions(
        &subs,
        &ContractualOptions {
            period: Period::Year,
            observation_end: Some(date("2007-01-01")),
        },
    )
    .unwrap();
    let ours = s.histories().unwrap();
    let sorted = |h: &SurvivalHistories| {
        let mut rows: Vec<_> = h
            .rows()
            .iter()
            .map(|r| (r.cohort, r.duration, r.churned, r.weight as u64))
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(ours.cohorts(), published.cohorts());
    assert_eq!(sorted(&ours), sorted(&published));
}

#[test]
fn bad_subscriptions_and_survival_tables_name_their_row() {
    let dir = scratch_dir("subscriptions_bad");
    let load = |text: &str| {
        let path = write(&dir, "s.csv", text);
        let spec = SubscriptionSpec {
            price_col: Some("price".into()),
            ..SubscriptionSpec::default()
        };
        Subscriptions::load(&path, &spec).unwrap_err().to_string()
    };
    let err = load("customer_id,start,end,price\na,2024-01-01,,5\nb,2024-03-01,2024-02-01,5\n");
    assert!(
        err.contains("column 'end', data row 2") && err.contains("ends before it starts"),
        "{err}"
    );
    let err = load("customer_id,start,end,price\na,2024-13-01,,5\n");
    assert!(
        err.contains("column 'start', data row 1") && err.contains("'2024-13-01'"),
        "{err}"
    );
    let err = load("customer_id,start,end,price\na,2024-01-01,soon,5\n");
    assert!(
        err.contains("column 'end', data row 1") && err.contains("'soon'"),
        "{err}"
    );
    let err = load("customer_id,start,end,price\na,2024-01-01,,-5\n");
    assert!(
        err.contains("column 'price', data row 1") && err.contains("not a price"),
        "{err}"
    );
    let err = load("customer_id,begin,end,price\na,2024-01-01,,5\n");
    assert!(err.contains("no column 'start'"), "{err}");

    let table = |text: &str| {
        read_survival_table(&write(&dir, "t.csv", text))
            .unwrap_err()
            .to_string()
    };
    let err = table("cohort,period,active\nx,0,100\nx,1,90\nx,2,95\n");
    assert!(
        err.contains("column 'active', data row 3") && err.contains("cannot rise"),
        "{err}"
    );
    let err = table("cohort,period,active\nx,0,100\nx,2,90\n");
    assert!(
        err.contains("column 'period', data row 2") && err.contains("needs period 1"),
        "{err}"
    );
}

#[test]
fn decisions_read_any_summary_kind_through_its_columns() {
    // Four subscriptions, monthly, observed to 2024-06-30, with made-up forecasts: the decisions
    // take ages, renewals and cohorts from the contractual summary, the rest from the columns.
    let dir = scratch_dir("contractual_decisions");
    let path = write(
        &dir,
        "subs.csv",
        "customer_id,start,end,price\ns1,2023-01-10,,20\ns2,2022-12-10,,20\ns3,2024-06-20,,20\ns4,2023-03-01,,20\n",
    );
    let spec = SubscriptionSpec {
        price_col: Some("price".into()),
        ..SubscriptionSpec::default()
    };
    let subs = Subscriptions::load(&path, &spec).unwrap();
    let s = summarize_subscriptions(
        &subs,
        &ContractualOptions {
            period: Period::Month,
            observation_end: Some(date("2024-06-30")),
        },
    )
    .unwrap();
    let mut f = Forecasts::new(4);
    let p_alive = vec![0.95, 0.3, 1.0, 0.05];
    let clv = vec![300.0, 90.0, 50.0, 10.0];
    let if_alive: Vec<f64> = clv.iter().zip(&p_alive).map(|(c, p)| c / p).collect();
    for column in [
        ForecastColumn::new(P_ALIVE, p_alive),
        ForecastColumn::new(EXPECTED_PURCHASES, vec![6.0, 2.0, 5.0, 0.5]),
        ForecastColumn::new(CLV, clv),
        ForecastColumn::unwritten(CLV_IF_ALIVE, if_alive),
    ] {
        f.push(column).unwrap();
    }
    let options = DecisionOptions {
        tiers: vec![25.0, 75.0],
        high_value_top_percent: 25.0,
        ..DecisionOptions::default()
    };
    let d = decide(&s, &f, &options).unwrap();
    // s3 started 10 days before the end: new. s4 (P(alive) 0.05) lapsed. s2 (0.3) at risk, and
    // its 18 renewals (10 January 2023 … 10 June 2024) × 20 are the top 25% of revenue (s1 has
    // 17, s4 15) → at risk high value. s1 is the top CLV: active high value.
    assert_eq!(
        d.status,
        [
            Status::ActiveHighValue,
            Status::AtRiskHighValue,
            Status::New,
            Status::Lapsed
        ]
    );
    assert_eq!(s.repeat_transactions(1), 18.0);
    assert_eq!(s.repeat_revenue(0), 340.0);
    let report = value_report(&s, &f, &d, None).unwrap();
    // Cohorts by month of start: 2022-12, 2023-01, 2023-03, 2024-06.
    let cohorts: Vec<&str> = report.cohorts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cohorts, ["2022-12", "2023-01", "2023-03", "2024-06"]);
    assert_eq!(report.total.clv, 450.0);
    // And its predictions table: the summary's columns, then the written forecasts.
    let frame = f.into_frame(s).unwrap();
    let names: Vec<&str> = frame.get_column_names().iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "start",
            "periods",
            "churned",
            "price",
            "p_alive",
            "expected_purchases",
            "clv"
        ]
    );
}

#[test]
fn the_rfm_summary_writes_the_conventions_columns_in_their_order() {
    let log = Transactions::load(&repo("data/cdnow_sample.csv"), &LogSpec::default()).unwrap();
    let summary = clv::summarize(
        &log,
        &clv::SummaryOptions {
            time_unit: clv::TimeUnit::Weeks,
            observation_end: None,
            calibration_end: Some(date("1997-09-30")),
        },
    )
    .unwrap();
    let written: Vec<&str> = summary.frame.get_column_names().iter().map(|c| c.as_str()).collect();
    let spec: Vec<&str> = clv::data::conventions::RFM_COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(written, spec);
}
