//! DERT, discounted expected residual transactions over an unlimited horizon (issue
//! "decision-grade value", item 3): Pareto/NBD against its closed form, BG/NBD against a
//! brute-force discounted sum of its expected increments.

// The expected values are mpmath's digits, as printed.
#![allow(clippy::excessive_precision)]

mod common;

use clv::forecast::dert::{continuous_rate, dert};
use clv::models::bg_nbd::BgNbdParams;
use clv::models::mbg_nbd::MbgNbdParams;
use clv::models::pareto_nbd::ParetoNbdParams;
use clv::models::PurchaseModel;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn pareto_nbd_dert_matches_the_closed_form_at_the_cdnow_estimates() {
    // Fader, Hardie & Lee (2005, iso-value curves), eq. 2: DERT = α^r β^s δ^(s−1) Γ(r+x+1)
    // U(s, s; δ(β+T)) / [Γ(r) (α+T)^(r+x+1) L(r, α, s, β | x, t_x, T)], with L by the papers'
    // 2F1 form (α < β), at the CDNOW estimates r = 0.553, α = 10.578, s = 0.606, β = 11.669 and
    // 15% a year, δ = ln(1.15)/52 = 0.0026877296610607441802 a week: mpmath (30 digits).
    let model = ParetoNbdParams {
        r: 0.553,
        alpha: 10.578,
        s: 0.606,
        beta: 11.669,
    };
    let delta = continuous_rate(0.15, 52.0);
    assert!(close(delta, 0.0026877296610607441802, 1e-14));
    for ((x, t_x, t), expected) in [
        ((2.0, 30.43, 38.86), 6.5017305375642293186),
        ((0.0, 0.0, 38.86), 0.47845766951460793693),
        ((10.0, 35.0, 38.86), 28.673840769310570159),
    ] {
        let got = dert(&model, delta, x, t_x, t).unwrap();
        // The quadrature's own tolerance (dert.rs); measured: 2e-13.
        assert!(close(got, expected, 1e-10), "({x}, {t_x}, {t}): {got} vs {expected}");
    }
}

/// Σ_m e^(−δ(m − ½)h) (E[Y(mh)] − E[Y((m − 1)h)]) over 12,000 weeks in steps h of a week: the
/// midpoint rule for ∫ e^(−δt) dE[Y(t)], error O((δh)²) ≈ 1e-5 relative, and the tail past
/// 12,000 weeks below e^(−32).
fn brute_force(model: &dyn PurchaseModel, delta: f64, x: f64, t_x: f64, t: f64) -> f64 {
    let mut previous = 0.0;
    let mut sum = 0.0;
    for m in 1..=12_000 {
        let e = model.conditional_expected_purchases(m as f64, x, t_x, t).unwrap();
        sum += (-delta * (m as f64 - 0.5)).exp() * (e - previous);
        previous = e;
    }
    sum
}

#[test]
fn bg_nbd_and_mbg_nbd_dert_equal_the_discounted_sum_of_their_expected_increments() {
    let delta = continuous_rate(0.15, 52.0);
    let bg = BgNbdParams {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    let mbg = MbgNbdParams {
        r: 0.525,
        alpha: 6.183,
        a: 0.891,
        b: 1.614,
    };
    let models: [&dyn PurchaseModel; 2] = [&bg, &mbg];
    for model in models {
        for (x, t_x, t) in [(2.0, 30.43, 38.86), (0.0, 0.0, 38.86), (10.0, 35.0, 38.86)] {
            let got = dert(model, delta, x, t_x, t).unwrap();
            let expected = brute_force(model, delta, x, t_x, t);
            assert!(
                close(got, expected, 2e-5),
                "{model:?} ({x}, {t_x}, {t}): {got} vs {expected}"
            );
        }
    }
}

#[test]
fn clv_by_dert_is_spend_times_dert_and_bounds_a_long_monthly_sum_from_above() {
    // The CLV forecaster with --clv-method dert: each customer's clv = expected spend × DERT at
    // the continuous rate equivalent to the monthly one (ln(1 + d) a month). The month-by-month
    // CLV over 50 years at the same rate discounts each month's purchases at the month's end, so
    // it lies below DERT and above DERT/(1 + d).
    use clv::data::rfm::{CustomerIds, RfmTable};
    use clv::forecast::{forecast, monthly_rate, ClvMethod, ForecastOptions, CLV, EXPECTED_AVG_SPEND};
    use clv::TimeUnit;
    // BG/NBD and Gamma-Gamma at the papers' estimates, as a model file.
    let models = common::papers_models();
    let rfm = RfmTable {
        customer_id: CustomerIds::from_labels(&["a", "b", "c"]),
        frequency: vec![2.0, 0.0, 10.0],
        recency: vec![30.43, 0.0, 35.0],
        t: vec![38.86, 38.86, 38.86],
        monetary_value: Some(vec![22.3, 0.0, 41.0]),
        first_purchase: None,
        time_unit: TimeUnit::Weeks,
    };
    let d = monthly_rate(0.15);
    let by_dert = forecast(
        &models,
        &rfm,
        &ForecastOptions {
            monthly_discount_rate: d,
            clv_method: ClvMethod::Dert,
            ..ForecastOptions::default()
        },
    )
    .unwrap();
    let by_month = forecast(
        &models,
        &rfm,
        &ForecastOptions {
            monthly_discount_rate: d,
            clv_months: 600,
            ..ForecastOptions::default()
        },
    )
    .unwrap();
    let delta = continuous_rate(0.15, 365.25 / 7.0);
    for i in 0..3 {
        let spend = by_dert.column(EXPECTED_AVG_SPEND).unwrap()[i];
        let clv = by_dert.column(CLV).unwrap()[i];
        let expected = spend
            * dert(
                models.purchase.model(),
                delta,
                rfm.frequency[i],
                rfm.recency[i],
                rfm.t[i],
            )
            .unwrap();
        assert!(close(clv, expected, 1e-12), "customer {i}: {clv} vs {expected}");
        let monthly = by_month.column(CLV).unwrap()[i];
        assert!(
            monthly < clv && clv < monthly * (1.0 + d),
            "customer {i}: monthly {monthly}, DERT {clv}"
        );
    }
    // Without discounting DERT has no end, and says so.
    let refused = forecast(
        &models,
        &rfm,
        &ForecastOptions {
            monthly_discount_rate: 0.0,
            clv_method: ClvMethod::Dert,
            ..ForecastOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("needs a discount rate above 0"),
        "{refused}"
    );
}
