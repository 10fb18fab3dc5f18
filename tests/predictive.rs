//! The predictive distribution of a customer's future purchases, P(Y(t) = k | x, t_x, T)
//! (issue "decision-grade value", item 2): against high-precision values, summing to one with
//! the conditional expectation as its mean.

// The expected values are mpmath's digits, as printed.
#![allow(clippy::excessive_precision)]

use clv::models::bg_nbd::BgNbdParams;
use clv::models::mbg_nbd::MbgNbdParams;
use clv::models::nbd::Nbd;
use clv::models::pareto_nbd::ParetoNbdParams;
use clv::models::purchase_rate::PurchaseRate;
use clv::models::PurchaseModel;

const HORIZON: f64 = 39.0;

fn bg_nbd() -> BgNbdParams {
    BgNbdParams {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    }
}

fn mbg_nbd() -> MbgNbdParams {
    MbgNbdParams {
        r: 0.525,
        alpha: 6.183,
        a: 0.891,
        b: 1.614,
    }
}

fn pareto_nbd() -> ParetoNbdParams {
    ParetoNbdParams {
        r: 0.553,
        alpha: 10.578,
        s: 0.606,
        beta: 11.669,
    }
}

/// P(Y(39) = k | alive at T): the model's PMF with the dead's mass at 0 taken out.
fn given_alive(model: &dyn PurchaseModel, k: u64, x: f64, t_x: f64, t: f64) -> f64 {
    let p_alive = model.p_alive(x, t_x, t).unwrap();
    let pmf = model.probability_of_purchases_given(HORIZON, k, x, t_x, t).unwrap();
    let dead = if k == 0 { 1.0 - p_alive } else { 0.0 };
    (pmf - dead) / p_alive
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn the_distribution_given_alive_matches_mpmath_integrals() {
    // mpmath (30 digits), by numerical integration over the posterior of the alive customer
    // rather than through the new-customer formulas the code uses: λ ~ Gamma(r+x, α+T) by
    // quadrature (in w = λ^(r+x), which takes the density's singularity at 0 away); BG/NBD and MBG/NBD p ~ Beta(a, b+x) (MBG/NBD: b+x+1) with
    // P(Y = k | λ, p) = (1−p)^k Pois(k; λt) + p(1−p)^(k−1) P(Pois(λt) ≥ k) for k ≥ 1, e^(−λt)
    // for k = 0; Pareto/NBD μ ~ Gamma(s, β+T) with P(Y = k | λ, μ) = e^(−μt) Pois(k; λt) +
    // ∫₀ᵗ μe^(−μu) Pois(k; λu) du, the u-integral by quadrature too. t = 39 weeks.
    let cases: [(&dyn PurchaseModel, f64, f64, &[f64]); 7] = [
        (
            &bg_nbd(),
            2.0,
            38.86,
            &[
                0.236659102324716926,
                0.329377919043849432,
                0.198441335599226174,
                0.111275035247431587,
            ],
        ),
        (
            &bg_nbd(),
            0.0,
            38.86,
            &[
                0.855449459216681549,
                0.109872988800717796,
                0.0242841193348417675,
                0.00691905945628977679,
            ],
        ),
        (
            &bg_nbd(),
            6.0,
            30.0,
            &[
                0.00882632620633587564,
                0.112013272798940198,
                0.115701055345740348,
                0.118366679893943274,
            ],
        ),
        (
            &mbg_nbd(),
            2.0,
            38.86,
            &[
                0.207034417075486428,
                0.33166709878364398,
                0.20670217090050804,
                0.118753439201519402,
            ],
        ),
        (
            &mbg_nbd(),
            0.0,
            38.86,
            &[
                0.720760577875326773,
                0.201942644544010048,
                0.0524607412424875644,
                0.0161886651506395317,
            ],
        ),
        (
            &pareto_nbd(),
            2.0,
            38.86,
            &[0.318960688120517409, 0.252295999306112705, 0.174599844597493241],
        ),
        (
            &pareto_nbd(),
            0.0,
            38.86,
            &[0.765362928859537582, 0.155435849131584962, 0.0497047427179328574],
        ),
    ];
    for (model, x, t, expected) in cases {
        // t_x matters to P(alive) only, which the division takes out.
        let t_x = if x > 0.0 { 20.0 } else { 0.0 };
        for (k, &e) in expected.iter().enumerate() {
            let got = given_alive(model, k as u64, x, t_x, t);
            assert!(close(got, e, 1e-9), "{model:?} x = {x}, T = {t}, k = {k}: {got} vs {e}");
        }
    }
}

#[test]
fn every_distribution_sums_to_one_with_the_conditional_expectation_as_its_mean() {
    let nbd = Nbd(PurchaseRate::Gamma { r: 0.385, alpha: 12.07 });
    let models: [&dyn PurchaseModel; 4] = [&bg_nbd(), &mbg_nbd(), &pareto_nbd(), &nbd];
    for model in models {
        for (x, t_x, t) in [
            (0.0, 0.0, 38.86),
            (2.0, 30.43, 38.86),
            (6.0, 7.0, 38.86),
            (20.0, 35.0, 36.0),
        ] {
            let (mut total, mut mean, mut k) = (0.0, 0.0, 0u64);
            // The tail beyond k is below 1e-14 long before 2,000 purchases in 39 weeks.
            while k < 2000 {
                let p = model.probability_of_purchases_given(HORIZON, k, x, t_x, t).unwrap();
                assert!(
                    (0.0..=1.0 + 1e-15).contains(&p),
                    "{model:?} ({x}, {t_x}, {t}) k = {k}: {p}"
                );
                total += p;
                mean += k as f64 * p;
                k += 1;
                if 1.0 - total < 1e-15 && p < 1e-17 {
                    break;
                }
            }
            let expected = model.conditional_expected_purchases(HORIZON, x, t_x, t).unwrap();
            assert!((total - 1.0).abs() < 1e-10, "{model:?} ({x}, {t_x}, {t}): Σ = {total}");
            assert!(
                (mean - expected).abs() < 1e-10 * expected.max(1.0),
                "{model:?} ({x}, {t_x}, {t}): {mean} vs {expected}"
            );
            let none = model.probability_of_no_purchase(HORIZON, x, t_x, t).unwrap();
            let p0 = model.probability_of_purchases_given(HORIZON, 0, x, t_x, t).unwrap();
            assert!((p0 - none).abs() < 1e-13, "{model:?}: {p0} vs {none}");
        }
    }
}
