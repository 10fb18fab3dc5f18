//! Tests of the Pareto/NBD model and its likelihood.

use super::*;
use crate::test_support::*;

const PAPER: ParetoNbdParams = PARETO_NBD_PAPER;

#[test]
fn likelihood_without_repeat_purchases_has_a_closed_form() {
    // x = 0, α = β: 2F1(·; z = 0) = 1, so A₀ = (α+0)^−(r+s) − (α+T)^−(r+s) and
    // L = α^(r+s) {(α+T)^−(r+s) + s/(r+s) [α^−(r+s) − (α+T)^−(r+s)]}
    //   = s/(r+s) + r/(r+s) (α/(α+T))^(r+s).
    let p = ParetoNbdParams {
        r: 0.7,
        alpha: 5.0,
        s: 1.3,
        beta: 5.0,
    };
    let t = 30.0;
    let expected = (1.3 / 2.0 + 0.7 / 2.0 * (5.0f64 / 35.0).powf(2.0)).ln();
    assert_close(p.log_likelihood(0.0, 0.0, t), expected, 1e-14);
    // The same customer just either side of α = β: the likelihood is continuous through it.
    for beta in [5.0 - 1e-9, 5.0 + 1e-9] {
        let q = ParetoNbdParams { beta, ..p };
        assert_close(q.log_likelihood(0.0, 0.0, t), expected, 1e-8);
    }
}

#[test]
fn p_alive_is_one_minus_the_died_share_and_one_when_t_x_is_t() {
    // With t_x = T there is no interval in which to have died unseen.
    assert_eq!(PAPER.p_alive(3.0, 20.0, 20.0), Some(1.0));
    let p = PAPER.p_alive(2.0, 30.43, 38.86).unwrap();
    assert!(p > 0.0 && p < 1.0);
}

#[test]
fn probabilities_of_n_purchases_sum_to_one_and_have_the_closed_form_mean() {
    // Σ_n P(X(t) = n) = 1 and Σ_n n P(X(t) = n) = E[X(t)] of §4: the quadrature against the
    // closed-form mean, two independent evaluations.
    for t in [1.0, 39.0, 78.0] {
        let pmf = |n| PAPER.probability_of_purchases(t, n).unwrap();
        assert_pmf_sums_to_one_with_mean(pmf, PAPER.expected_purchases(t));
    }
}

#[test]
fn p_alive_takes_the_closed_form_where_this_customers_series_is_short() {
    // A fit with β/α = 31 (a young customer base: α = 0.42, β = 13.1) is past the ratio at
    // which the likelihood is integrated, so P(alive) was integrated for every customer. The
    // series' length falls with t_x: (13.1 + 20)/(0.42 + 20) = 1.6 at t_x = 20. Each form
    // against the other, two independent evaluations, on both sides of the switch.
    let young = ParetoNbdParams {
        r: 0.273,
        alpha: 0.42,
        s: 0.385,
        beta: 13.1,
    };
    assert!(young.integral_form_is_better());
    let integrated = ParetoFamilyLimit::general(young);
    for (x, tx, t) in [
        (0.0, 0.0, 3.0),
        (1.0, 0.2, 2.0),
        (4.0, 20.0, 30.0),
        (500.0, 100.0, 104.0),
    ] {
        assert_eq!(young.integral_form_is_better_at(tx), tx < 1.0, "t_x = {tx}");
        let closed = {
            let (alive, died) = young.log_terms(x, tx, t).unwrap();
            logistic(alive - died)
        };
        assert_close(young.p_alive(x, tx, t).unwrap(), closed, 1e-11);
        assert_close(integrated.p_alive_by_quadrature(x, tx, t).unwrap(), closed, 1e-11);
    }
}

#[test]
fn conditional_expectation_of_new_customer_equals_unconditional() {
    // x = 0, t_x = 0, T = 0: P(alive) = 1 and eq. §6 reduces to §4.
    let c = PAPER.conditional_expected_purchases(20.0, 0.0, 0.0, 0.0).unwrap();
    assert_close(c, PAPER.expected_purchases(20.0), 1e-14);
    // The s = 1 limit: rβ/α · ln(1 + t/β).
    let one = ParetoNbdParams { s: 1.0, ..PAPER };
    assert_close(
        one.expected_purchases(20.0),
        PAPER.r * PAPER.beta / PAPER.alpha * (20.0f64 / PAPER.beta).ln_1p(),
        1e-15,
    );
}

#[test]
fn no_purchase_probability_of_new_customer_equals_p_x_zero() {
    // x = 0, t_x = 0, T = 0: P(Y(t) = 0 | history) is the unconditional P(X(t) = 0).
    for t in [1.0, 10.0, 52.0] {
        assert_close(
            PAPER.probability_of_no_purchase(t, 0.0, 0.0, 0.0).unwrap(),
            PAPER.probability_of_purchases(t, 0).unwrap(),
            1e-11,
        );
    }
}

#[test]
fn gradient_matches_analytic_derivative_where_one_exists() {
    // x = 0, α = β (above): ln L = ln[s/(r+s) + r/(r+s) w^(r+s)], w = α/(α+T).
    // ∂/∂r = [−s/(r+s)² + s/(r+s)² w^(r+s) + r/(r+s) w^(r+s) ln w] / L.
    let (r, alpha, s, t) = (0.7, 5.0, 1.3, 30.0);
    let p = ParetoNbdParams {
        r,
        alpha,
        s,
        beta: alpha,
    };
    let w: f64 = alpha / (alpha + t);
    let wp = w.powf(r + s);
    let l = s / (r + s) + r / (r + s) * wp;
    let d_r = (-s / (r + s).powi(2) + s / (r + s).powi(2) * wp + r / (r + s) * wp * w.ln()) / l;
    let (_, g) = p.log_likelihood_with_gradient(0.0, 0.0, t);
    assert!((g[0] - d_r).abs() < 1e-9, "{} vs {d_r}", g[0]);
}

#[test]
fn gradient_is_the_derivative_of_the_closed_form() {
    // Against central differences of the closed-form log-likelihood in each parameter (step
    // 1e-6 relative: truncation ~1e-12, rounding ~1e-10 of ln L's size): α above, below and at
    // β; no repeat purchases, many, and a last purchase at T.
    let customers = [
        (0.0, 0.0, 38.0),
        (2.0, 30.43, 38.86),
        (40.0, 20.0, 70.0),
        (3.0, 25.0, 25.0),
    ];
    let points = [
        PAPER,
        ParetoNbdParams {
            alpha: 3.0,
            beta: 40.0,
            ..PAPER
        },
        ParetoNbdParams {
            beta: PAPER.alpha,
            ..PAPER
        },
        ParetoNbdParams {
            r: 2.5,
            alpha: 7.0,
            s: 0.2,
            beta: 1.5,
        },
    ];
    for p in points {
        for &(x, t_x, t) in &customers {
            let (value, gradient) = p.log_likelihood_with_gradient(x, t_x, t);
            assert_close(value, p.log_likelihood(x, t_x, t), 1e-14);
            let center = p.to_vec();
            for i in 0..4 {
                let at = |factor: f64| {
                    let mut q = center.clone();
                    q[i] *= factor;
                    ParetoNbdParams::from_slice(&q).log_likelihood(x, t_x, t)
                };
                let h = 1e-6;
                let numeric = (at(1.0 + h) - at(1.0 - h)) / (2.0 * h * center[i]);
                let scale = value.abs().max(1.0) / center[i];
                assert!(
                    (gradient[i] - numeric).abs() < 1e-8 * scale,
                    "{p:?} ({x}, {t_x}, {t}) ∂{i}: {} vs {numeric}",
                    gradient[i]
                );
            }
        }
    }
}

#[test]
fn log_likelihood_is_finite_for_extreme_customers() {
    for &(x, tx, t) in &[
        (10_000.0, 99_000.0, 100_000.0),
        (0.0, 0.0, 100_000.0),
        (500.0, 1.0, 2.0),
    ] {
        for params in [
            PAPER,
            ParetoNbdParams {
                alpha: 1e4,
                beta: 0.01,
                ..PAPER
            },
            ParetoNbdParams {
                alpha: 0.01,
                beta: 1e4,
                ..PAPER
            },
        ] {
            let ll = params.log_likelihood(x, tx, t);
            assert!(ll.is_finite(), "{params:?} {x} {tx} {t}: {ll}");
            let p = params.p_alive(x, tx, t).unwrap();
            assert!((0.0..=1.0).contains(&p));
        }
    }
}
