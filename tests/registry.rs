//! What every model of the registry must keep, checked for each one: a new model is held to the
//! contract the forecast engine and the reports rely on as soon as it is registered.

mod common;

use clv::data::rfm::RfmTable;
use clv::data::TimeUnit;
use clv::fitting::fit_purchase_model;
use clv::mle::FitOptions;
use clv::model_file::FittedModels;
use clv::registry::PURCHASE_MODELS;
use common::repo;

#[test]
fn every_registered_model_keeps_the_forecast_contract_and_round_trips_through_its_model_file() {
    let rfm = RfmTable::read(
        &repo("data/cdnow_customers_summary_with_transactions.csv"),
        Some(TimeUnit::Weeks),
    )
    .unwrap();
    let customers = [
        (0.0, 0.0, 38.86),
        (2.0, 30.43, 38.86),
        (7.0, 12.0, 35.0),
        (26.0, 35.86, 38.86),
    ];
    for kind in PURCHASE_MODELS {
        let fit = fit_purchase_model(&rfm, kind, &FitOptions::default()).unwrap();
        assert_eq!(fit.kind(), kind);
        assert_eq!(
            fit.fit.parameter_order.len(),
            kind.parameter_names.len(),
            "{}",
            kind.label()
        );
        let model = fit.model();
        for &(x, t_x, t) in &customers {
            let p_alive = model.p_alive(x, t_x, t).unwrap();
            assert!((0.0..=1.0).contains(&p_alive), "{}: {p_alive}", kind.label());
            // E[Y(t) | x, t_x, T] = P(alive) · E[Y(t) | x, T, alive], the latter free of t_x: the
            // forecast engine computes it once per distinct (x, T).
            let if_alive = model.expected_purchases_if_alive(39.0, x, t).unwrap();
            let conditional = model.conditional_expected_purchases(39.0, x, t_x, t).unwrap();
            assert!(
                (conditional - p_alive * if_alive).abs() <= 1e-12 * conditional.max(1e-300),
                "{}: {conditional} vs {p_alive} · {if_alive}",
                kind.label()
            );
            // At many horizons at once (the CLV's month ends), exactly as at each: more of them
            // than a model may evaluate side by side (16 for the BG family). At CDNOW's estimates
            // every horizon takes the series; where the BG family integrates instead, the horizons
            // share panels and agree to the quadrature's tolerance (tests/high_precision.rs).
            let mut horizons = vec![0.0, 4.35, 8.7, 39.0, 52.18, 520.0, 5200.0];
            horizons.extend((1..=12).map(|month| month as f64 * 4.348));
            let mut at = vec![None; horizons.len()];
            model.expected_purchases_if_alive_at(&horizons, x, t, &mut at);
            for (&h, got) in horizons.iter().zip(&at) {
                let one = model.expected_purchases_if_alive(h, x, t);
                assert_eq!(got.map(f64::to_bits), one.map(f64::to_bits), "{}: {h}", kind.label());
            }
            let no_purchase = model.probability_of_no_purchase(39.0, x, t_x, t).unwrap();
            assert!((0.0..=1.0).contains(&no_purchase), "{}", kind.label());
        }
        // P(alive) over many histories at once (the interval pass's batch) is `p_alive` at each,
        // to the last bit: every summary of CDNOW, as given (unsorted) and sorted by x, then T,
        // with a history whose T − t_x is tiny beside α (the ln_1p branch).
        let mut histories: Vec<[f64; 3]> = (0..rfm.len())
            .map(|i| [rfm.frequency[i], rfm.recency[i], rfm.t[i]])
            .chain([[3.0, 38.86 - 1e-6, 38.86], [0.0, 0.0, 1e-9]])
            .collect();
        for sorted in [false, true] {
            if sorted {
                histories.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[2].total_cmp(&b[2])));
            }
            let mut batch = vec![0.0; histories.len()];
            model.p_alive_of_histories(&histories, &mut batch);
            for (&[x, t_x, t], p) in histories.iter().zip(&batch) {
                let one = model.p_alive(x, t_x, t).unwrap_or(f64::NAN);
                assert_eq!(p.to_bits(), one.to_bits(), "{}: ({x}, {t_x}, {t})", kind.label());
            }
        }
        // A new customer's purchase counts are a distribution whose mean is E[X(t)].
        let probabilities: Vec<f64> = (0..2000)
            .map(|n| model.probability_of_purchases(39.0, n).unwrap())
            .collect();
        let total: f64 = probabilities.iter().sum();
        let mean: f64 = probabilities.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        let expected = model.expected_purchases(39.0).unwrap();
        assert!((total - 1.0).abs() < 1e-9, "{}: {total}", kind.label());
        assert!(
            (mean - expected).abs() < 1e-7 * expected,
            "{}: {mean} vs {expected}",
            kind.label()
        );

        // The model file stores the fit under "purchase" with its tag, and reading it back gives
        // the same forecasts to the last bit.
        let json = serde_json::json!({
            "format_version": clv::model_file::MODEL_FORMAT_VERSION,
            "clv_version": "test",
            "time_unit": "weeks",
            "purchase": fit,
            "gamma_gamma": null,
        });
        assert_eq!(json["purchase"]["model"], fit.tag());
        let read = FittedModels::from_json(&json.to_string()).unwrap();
        for &(x, t_x, t) in &customers {
            assert_eq!(
                read.purchase.model().conditional_expected_purchases(39.0, x, t_x, t),
                model.conditional_expected_purchases(39.0, x, t_x, t),
                "{}",
                kind.label()
            );
        }
    }
}
