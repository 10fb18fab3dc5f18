//! Tests of the BG/BB model and its likelihood in every form.

use super::*;
use crate::models::histories::DiscreteHistories;
use crate::models::Likelihood;

#[test]
fn forecasts_of_many_histories_are_each_ones_to_the_last_bit() {
    let forms = [
        BgBb::from(BgBbParams {
            alpha: 1.2,
            beta: 0.75,
            gamma: 0.66,
            delta: 2.8,
        }),
        BgBb {
            buying: Buying::Common { p: 0.3 },
            dropout: Retention::Common { theta: 0.1 },
        },
        BgBb {
            buying: Buying::Beta { alpha: 0.5, beta: 2.0 },
            dropout: Retention::Split { pi: 0.2 },
        },
    ];
    let mut histories = Vec::new();
    for n in [0, 1, 2, 6, 40, 77] {
        for t_x in 0..=n {
            for x in 0..=t_x {
                if (x == 0) == (t_x == 0) {
                    histories.push([x, t_x, n]);
                }
            }
        }
    }
    for model in forms {
        let together = model.forecasts_of_histories(5, 0.01, 12, &histories);
        for (&[x, t_x, n], got) in histories.iter().zip(together) {
            let alone = [
                model.p_alive(x, t_x, n),
                model.expected_transactions(5, x, t_x, n),
                model.discounted_expected_transactions(0.01, 12, x, t_x, n),
            ];
            assert_eq!(
                got.map(f64::to_bits),
                alone.map(f64::to_bits),
                "{model:?} at {:?}",
                [x, t_x, n]
            );
        }
    }
}
use crate::models::purchase_rate::digamma_difference;
use crate::special::ln_rising;

/// Eq. (5)'s factors computed on their own, as the paper writes them: the reference the
/// tables of `Factors` are tested against.
trait Direct {
    fn ln_transactions(&self, x: u32, k: u32) -> Term;
    fn ln_alive_after(&self, m: u32) -> Term;
}

/// Up to this many opportunities the rising factorials are summed term by term (exact to
/// rounding); beyond, by ln Γ.
const SUMMED_UP_TO: u32 = 1000;

/// ln (z)_n = ln Γ(z + n) − ln Γ(z) and its derivative in z, ψ(z + n) − ψ(z).
fn ln_rising_with_derivative(z: f64, n: u32) -> (f64, f64) {
    if n > SUMMED_UP_TO {
        let n = f64::from(n);
        return (ln_rising(z, n), digamma_difference(z, n));
    }
    (0..n).fold((0.0, 0.0), |(ln, d), i| {
        let w = z + f64::from(i);
        (ln + w.ln(), d + 1.0 / w)
    })
}

impl Direct for BgBb {
    /// ln P(x transactions in k opportunities while alive): ln B(α + x, β + k − x)/B(α, β) =
    /// ln (α)_x (β)_{k−x}/(α + β)_k, or x ln p + (k − x) ln(1 − p), with its gradient.
    fn ln_transactions(&self, x: u32, k: u32) -> Term {
        match self.buying {
            Buying::Beta { alpha, beta } => {
                let (a, da) = ln_rising_with_derivative(alpha, x);
                let (b, db) = ln_rising_with_derivative(beta, k - x);
                let (ab, dab) = ln_rising_with_derivative(alpha + beta, k);
                (a + b - ab, [da - dab, db - dab, 0.0, 0.0])
            }
            Buying::Common { p } => {
                let (x, rest) = (f64::from(x), f64::from(k - x));
                (
                    x * p.ln() + rest * (-p).ln_1p(),
                    [x / p - rest / (1.0 - p), 0.0, 0.0, 0.0],
                )
            }
        }
    }

    /// ln B(γ, δ + m)/B(γ, δ): alive after m opportunities (the sBG survival S(m)).
    fn ln_alive_after(&self, m: u32) -> Term {
        let (ln, g) = self.dropout.ln_survival_with_gradient(f64::from(m));
        (ln, [0.0, 0.0, g[0], g[1]])
    }
}
use crate::models::histories::DiscreteRow;

const DONATIONS: BgBbParams = BgBbParams {
    alpha: 1.204,
    beta: 0.750,
    gamma: 0.657,
    delta: 2.783,
};

#[test]
fn p_alive_m_opportunities_on_is_the_sbg_survival_for_a_new_customer() {
    // The empty history (x = t_x = n = 0) has likelihood 1, so P(alive at m) is the sBG
    // survival B(γ, δ+m)/B(γ, δ); at γ = δ = 1 that is Γ(1+m)Γ(2)/Γ(2+m) = 1/(1+m).
    let model = BgBb::from(BgBbParams {
        alpha: 1.204,
        beta: 0.750,
        gamma: 1.0,
        delta: 1.0,
    });
    for m in 0..6u32 {
        let expected = 1.0 / (1.0 + f64::from(m));
        assert!((model.p_alive_after(m, 0, 0, 0) - expected).abs() < 1e-14, "m = {m}");
    }
    // m = 1 and m = 0 are eq. 11's P(alive) and P(alive now).
    let donations = BgBb::from(DONATIONS);
    assert_eq!(donations.p_alive_after(1, 3, 5, 6), donations.p_alive(3, 5, 6));
    assert_eq!(donations.p_alive_after(0, 3, 5, 6), donations.p_alive_now(3, 5, 6));
    // Further on, less likely alive.
    assert!(donations.p_alive_after(5, 3, 5, 6) < donations.p_alive(3, 5, 6));
}

#[test]
fn the_likelihood_of_each_history_sums_to_one_over_all_histories() {
    // Every (x, t_x) possible in n = 4 opportunities: x = 0 (t_x = 0), or 1 ≤ x ≤ t_x ≤ 4; in
    // each form of the model.
    let common = BgBb {
        buying: Buying::Common { p: 0.6 },
        dropout: Retention::Common { theta: 0.2 },
    };
    let split = BgBb {
        dropout: Retention::Split { pi: 0.3 },
        ..BgBb::from(DONATIONS)
    };
    let common_split = BgBb {
        dropout: Retention::Split { pi: 0.3 },
        ..common
    };
    for model in [BgBb::from(DONATIONS), common, split, common_split] {
        let n = 4;
        let mut total = model.ln_likelihood_with_gradient(0, 0, n).0.exp();
        let mut mean = 0.0;
        for t_x in 1..=n {
            for x in 1..=t_x {
                // The ways to place x − 1 transactions in the t_x − 1 opportunities before the
                // last: the likelihood is of one sequence.
                let ways = (1..x).fold(1.0, |c, k| c * f64::from(t_x - k) / f64::from(k));
                let p = ways * model.ln_likelihood_with_gradient(x, t_x, n).0.exp();
                total += p;
                mean += p * f64::from(x);
            }
        }
        assert!((total - 1.0).abs() < 1e-14, "{model:?}: {total}");
        // E[X(n)] from eq. 7 is the mean of that distribution.
        assert!((mean - model.expected_transactions_new(n)).abs() < 1e-13, "{mean}");
    }
}

#[test]
fn gradients_match_finite_differences_in_every_form() {
    let rows = [(0, 0, 6, 10.0), (2, 5, 6, 3.0), (6, 6, 6, 4.0), (3, 3, 11, 2.0)]
        .map(|(x, t_x, n, weight)| DiscreteRow { x, t_x, n, weight });
    let histories = DiscreteHistories::from_rows(rows).unwrap();
    for (form, v) in [
        (BgBbForm::Full, vec![1.204, 0.750, 0.657, 2.783]),
        (BgBbForm::CommonBuying, vec![1.5, 0.657, 2.783]),
        (BgBbForm::CommonDropout, vec![1.204, 0.750, 0.3]),
        (BgBbForm::Common, vec![1.5, 0.3]),
        (BgBbForm::SplitDropout, vec![1.204, 0.750, 0.4]),
        (BgBbForm::CommonBuyingSplitDropout, vec![1.5, 0.4]),
    ] {
        let data = BgBbData {
            histories: &histories,
            form,
        };
        let (_, g) = data.log_likelihood_with_gradient(&v);
        for j in 0..v.len() {
            let h = 1e-6 * v[j];
            let at = |s: f64| {
                let mut w = v.clone();
                w[j] += s * h;
                data.log_likelihood_with_gradient(&w).0
            };
            let fd = (at(1.0) - at(-1.0)) / (2.0 * h);
            assert!(
                (g[j] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "{form:?} d{j}: {} vs {fd}",
                g[j]
            );
        }
    }
}

/// A model `near` a limit and the `limit` itself give the same likelihood, P(alive) and
/// expected transactions in the next 5 opportunities for each of `histories`.
fn assert_near_is_limit(near: &BgBb, limit: &BgBb, histories: &[(u32, u32, u32)]) {
    for &(x, t_x, n) in histories {
        let (a, b) = (
            near.ln_likelihood_with_gradient(x, t_x, n).0,
            limit.ln_likelihood_with_gradient(x, t_x, n).0,
        );
        assert!((a - b).abs() < 1e-7, "({x},{t_x},{n}): {a} vs {b}");
        assert!((near.p_alive(x, t_x, n) - limit.p_alive(x, t_x, n)).abs() < 1e-7);
        let (a, b) = (
            near.expected_transactions(5, x, t_x, n),
            limit.expected_transactions(5, x, t_x, n),
        );
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn the_limits_are_where_the_beta_model_goes() {
    // α, β → ∞ with α/(α + β) = 0.6, and γ, δ → ∞ with γ/(γ + δ) = 0.2.
    let near = BgBb::from(BgBbParams {
        alpha: 0.6e9,
        beta: 0.4e9,
        gamma: 0.2e9,
        delta: 0.8e9,
    });
    let limit = BgBb {
        buying: Buying::Common { p: 0.6 },
        dropout: Retention::Common { theta: 0.2 },
    };
    assert_near_is_limit(&near, &limit, &[(0, 0, 6), (2, 5, 6), (6, 6, 6)]);
}

#[test]
fn the_split_dropout_limit_is_where_the_beta_model_goes_and_has_closed_forms() {
    // γ, δ → 0 with γ/(γ + δ) = 0.3: 30% leave before their first opportunity, the rest never.
    let near = BgBb::from(BgBbParams {
        gamma: 0.3e-9,
        delta: 0.7e-9,
        ..DONATIONS
    });
    let limit = BgBb {
        dropout: Retention::Split { pi: 0.3 },
        ..BgBb::from(DONATIONS)
    };
    assert_near_is_limit(&near, &limit, &[(0, 0, 6), (0, 0, 0), (2, 5, 6), (6, 6, 6)]);
    // With one buying probability p = 0.2 the limit is a two-group mixture:
    // L(0, 0, n) = π + (1 − π)(1 − p)^n, and for x ≥ 1 (she came back, so she stays)
    // L(x, t_x, n) = (1 − π) p^x (1 − p)^(n−x), P(alive) = 1, E[X(n, n + 5)] = 5p and
    // DERT(d) = Σ_k p/(1 + d)^k = p/d. At n = 6: (0.8)^6 = 0.262144, so L(0, 0, 6) =
    // 0.3 + 0.7 · 0.262144 = 0.4835008 and P(alive | 0, 0, 6) = 0.1835008/0.4835008.
    let mixture = BgBb {
        buying: Buying::Common { p: 0.2 },
        dropout: Retention::Split { pi: 0.3 },
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
    assert!(close(mixture.ln_likelihood_with_gradient(0, 0, 6).0, 0.4835008f64.ln()));
    assert!(close(mixture.p_alive(0, 0, 6), 0.1835008 / 0.4835008));
    // 0.7 · 0.2² · 0.8⁴ = 0.0114688.
    assert!(close(mixture.ln_likelihood_with_gradient(2, 5, 6).0, 0.0114688f64.ln()));
    assert!(close(mixture.p_alive(2, 5, 6), 1.0));
    assert!(close(mixture.expected_transactions(5, 2, 5, 6), 1.0));
    assert!(close(
        mixture.discounted_expected_residual_transactions(0.1, 2, 5, 6).unwrap(),
        2.0
    ));
}

#[test]
fn the_likelihood_summed_step_by_step_is_eq_5_term_by_term() {
    // Eq. (5) as written: each term's rising factorials and survival on their own, summed
    // with log_add_exp, its gradient weighted by each term's share.
    let direct = |model: &BgBb, x: u32, t_x: u32, n: u32| -> Term {
        let product = |a: Term, b: Term| (a.0 + b.0, std::array::from_fn(|j| a.1[j] + b.1[j]));
        // ln B(γ + 1, δ + m)/B(γ, δ): alive for m opportunities, then dead before m + 1.
        let dead_after = |m: u32| {
            let (ln, g) = model.dropout.ln_churn_at_with_gradient(f64::from(m) + 1.0);
            (ln, [0.0, 0.0, g[0], g[1]])
        };
        let terms: Vec<Term> = std::iter::once(product(model.ln_transactions(x, n), model.ln_alive_after(n)))
            .chain((0..n - t_x).map(|i| product(model.ln_transactions(x, t_x + i), dead_after(t_x + i))))
            .collect();
        let ln = terms.iter().map(|t| t.0).fold(f64::NEG_INFINITY, log_add_exp);
        let mut gradient = [0.0; 4];
        for (l, g) in &terms {
            let w = (l - ln).exp();
            for j in 0..4 {
                gradient[j] += w * g[j];
            }
        }
        (ln, gradient)
    };
    let beta = BgBb::from(DONATIONS);
    let common = BgBb {
        buying: Buying::Common { p: 0.3 },
        dropout: Retention::Common { theta: 0.05 },
    };
    let split = BgBb {
        dropout: Retention::Split { pi: 0.2 },
        ..beta
    };
    let near_limit = BgBb::from(BgBbParams {
        alpha: 0.3e6,
        beta: 0.7e6,
        gamma: 0.05e6,
        delta: 0.95e6,
    });
    for model in [beta, common, split, near_limit] {
        for (x, t_x, n) in [
            (0, 0, 0),
            (0, 0, 7),
            (3, 5, 6),
            (6, 6, 6),
            (2, 9, 60),
            (40, 300, 365),
            (5, 20, 1200),
        ] {
            let (a, b) = (model.ln_likelihood_with_gradient(x, t_x, n), direct(&model, x, t_x, n));
            assert!(
                (a.0 - b.0).abs() <= 1e-12 * b.0.abs().max(1.0),
                "{model:?} ({x},{t_x},{n}): {a:?} vs {b:?}"
            );
            for j in 0..4 {
                assert!(
                    (a.1[j] - b.1[j]).abs() <= 1e-9 * b.1[j].abs().max(1e-6),
                    "{model:?} ({x},{t_x},{n}) d{j}: {} vs {}",
                    a.1[j],
                    b.1[j]
                );
            }
        }
    }
}
