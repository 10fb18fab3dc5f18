//! Tests of the sBG model and its likelihood.

use super::*;

/// Fader & Hardie (2007)'s regular cohort's estimates, to the digits `REFERENCE.md`'s
/// recomputation gives (γ = 0.704077298473516, δ = 1.18204302620948).
const REGULAR: Retention = Retention::Beta {
    gamma: 0.704,
    delta: 1.182,
};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn survival_and_retention_are_the_papers_closed_forms() {
    // S(t) = Π_{i=1..t} (δ + i − 1)/(γ + δ + i − 1): S(1) = 1.182/1.886 = 0.626723223753977,
    // S(2) = S(1) · 2.182/2.886 = 0.473847...; r(1) = S(1), r(2) = 2.182/2.886.
    let s1 = 1.182 / 1.886;
    let s2 = s1 * 2.182 / 2.886;
    assert!(close(REGULAR.survival(1.0), s1, 1e-14));
    assert!(close(REGULAR.survival(2.0), s2, 1e-14));
    assert!(close(REGULAR.retention_rate(2.0), 2.182 / 2.886, 1e-15));
    assert_eq!(REGULAR.survival(0.0), 1.0);
    // P(T = t) = γ/(γ + δ + t − 1) · Π_{i=1..t−1} (δ + i − 1)/(γ + δ + i − 1) (eq. 7 written as
    // a product: the chance to survive t − 1 renewals, then churn).
    let (gamma, delta) = (0.704, 1.182);
    let mut survived = 1.0;
    for t in 1..1200 {
        let t = f64::from(t);
        let p = REGULAR.ln_churn_at_with_gradient(t).0.exp();
        let expected = survived * gamma / (gamma + delta + t - 1.0);
        // The product's own rounding grows with t: t · 2ε. Beyond 1000 periods S(t) comes from
        // ln Γ values near ln Γ(1000) ≈ 5900, each good to ~5900 ε ≈ 1.3e-12 absolute.
        let tolerance = match t <= SUMMED_UP_TO {
            true => 1e-13 + t * 4e-16,
            false => 1e-11,
        };
        assert!(close(p, expected, tolerance), "t = {t}: {p} vs {expected}");
        survived *= (delta + t - 1.0) / (gamma + delta + t - 1.0);
    }
}

#[test]
fn gradients_match_finite_differences() {
    for model in [
        REGULAR,
        Retention::Beta {
            gamma: 3.0,
            delta: 40.0,
        },
        Retention::Common { theta: 0.2 },
        Retention::Split { pi: 0.3 },
    ] {
        let v = model.to_vec();
        for t in [1.0, 2.0, 7.0, 40.0, 1500.0] {
            for churned in [true, false] {
                if churned && t > 1.0 && matches!(model, Retention::Split { .. }) {
                    // ln 0 with a zero gradient: checked in the split limit's own test.
                    continue;
                }
                let f = |m: &Retention| match churned {
                    true => m.ln_churn_at_with_gradient(t),
                    false => m.ln_survival_with_gradient(t),
                };
                let (_, g) = f(&model);
                for i in 0..v.len() {
                    let h = 1e-6 * v[i];
                    let at = |s: f64| {
                        let mut w = v.clone();
                        w[i] += s * h;
                        let m = match model {
                            Retention::Beta { .. } => Retention::Beta {
                                gamma: w[0],
                                delta: w[1],
                            },
                            Retention::Common { .. } => Retention::Common { theta: w[0] },
                            Retention::Split { .. } => Retention::Split { pi: w[0] },
                        };
                        f(&m).0
                    };
                    let fd = (at(1.0) - at(-1.0)) / (2.0 * h);
                    assert!(
                        (g[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                        "{model:?} t={t} {churned} d{i}: {} vs {fd}",
                        g[i]
                    );
                }
            }
        }
    }
}

#[test]
#[allow(clippy::excessive_precision)] // mpmath's digits, as printed
fn derl_and_del_match_high_precision_values() {
    // mpmath (mp.dps = 40), γ = 0.704, δ = 1.182:
    //   DERL(d | n renewals) = (δ+n)/(γ+δ+n) · hyp2f1(1, δ+n+1, γ+δ+n+1, 1/(1+d)),
    //   checked there against nsum(S(t)/S(n) (1+d)^-(t-n-1), [n+1, inf]) (equal to 20 digits);
    //   DEL(d) = hyp2f1(1, δ, γ+δ, 1/(1+d)).
    // (The 2010 paper's n − 1 renewals are our n: its n = 1, 2, 5, 10, 100 are our 0, 1, 4, 9, 99.)
    let derl = [
        (0.0, 0.001, 20.357650588541793815),
        (0.0, 0.01, 8.5029471720112697931),
        (0.0, 0.1, 2.9646621461320315146),
        (0.0, 0.5, 1.3611236313598731563),
        (1.0, 0.001, 31.514163738578521961),
        (1.0, 0.01, 12.69298134524313653),
        (1.0, 0.1, 4.1034586195985724029),
        (1.0, 0.5, 1.757714681148122808),
        (4.0, 0.001, 56.048746774805442076),
        (4.0, 0.01, 21.00789859219021886),
        (4.0, 0.1, 5.8944228598441600446),
        (4.0, 0.5, 2.2509860432096495537),
        (9.0, 0.001, 85.524674863374743241),
        (9.0, 0.01, 29.71452361432899038),
        (9.0, 0.1, 7.2786182342018969092),
        (9.0, 0.5, 2.5381758904760372724),
        (99.0, 0.001, 297.76088711763249984),
        (99.0, 0.01, 68.887741387197856961),
        (99.0, 0.1, 10.269044500493881816),
        (99.0, 0.5, 2.9391939801121969826),
    ];
    for (n, d, expected) in derl {
        let got = REGULAR.discounted_residual_lifetime(n, d).unwrap();
        assert!(
            close(got, expected, 1e-13),
            "DERL(n = {n}, d = {d}) = {got}, not {expected}"
        );
    }
    for (d, expected) in [
        (0.001, 21.337313275266527287),
        (0.01, 9.4187595762487819733),
        (0.1, 3.6951474055745741042),
        (0.5, 1.9074157542399154375),
    ] {
        let got = REGULAR.discounted_expected_lifetime(d).unwrap();
        assert!(close(got, expected, 1e-13), "DEL(d = {d}) = {got}, not {expected}");
    }
    assert_eq!(REGULAR.discounted_residual_lifetime(3.0, 0.0), None);
    // γ = 3, δ = 5, n = 3: mpmath gives DERL(0.1) = 2.5848214280313242728, and the
    // undiscounted residual lifetime (δ + n)/(γ − 1) = 4 (its d → 0 limit).
    let light = Retention::Beta { gamma: 3.0, delta: 5.0 };
    assert!(close(
        light.discounted_residual_lifetime(3.0, 0.1).unwrap(),
        2.5848214280313242728,
        1e-13
    ));
    assert_eq!(light.expected_residual_lifetime(3.0), Some(4.0));
    assert_eq!(REGULAR.expected_residual_lifetime(3.0), None);
}

#[test]
fn the_geometric_limit_is_where_the_beta_model_goes() {
    // γ, δ → ∞ with γ/(γ + δ) = 0.2: every formula tends to the geometric one.
    let limit = Retention::Common { theta: 0.2 };
    let near = Retention::Beta {
        gamma: 0.2e9,
        delta: 0.8e9,
    };
    for t in [1.0, 5.0, 30.0] {
        assert!(close(near.survival(t), limit.survival(t), 1e-6));
        assert!(close(near.retention_rate(t), limit.retention_rate(t), 1e-6));
    }
    for (n, d) in [(0.0, 0.1), (7.0, 0.01)] {
        let (a, b) = (
            near.discounted_residual_lifetime(n, d).unwrap(),
            limit.discounted_residual_lifetime(n, d).unwrap(),
        );
        assert!(close(a, b, 1e-6), "{a} vs {b}");
    }
    // Geometric closed forms: S(t) = 0.8^t; DERL(0.1) = 0.8/(1 − 0.8/1.1) = 2.9333…;
    // expected renewals in 3 periods 0.8 + 0.64 + 0.512.
    assert!(close(limit.survival(3.0), 0.512, 1e-15));
    assert!(close(
        limit.discounted_residual_lifetime(5.0, 0.1).unwrap(),
        0.8 / (1.0 - 0.8 / 1.1),
        1e-15
    ));
    assert!(close(limit.expected_renewals_within(5.0, 3), 1.952, 1e-15));
    assert_eq!(limit.expected_residual_lifetime(2.0), Some(4.0));
}

#[test]
fn the_split_limit_is_where_the_beta_model_goes() {
    // γ, δ → 0 with γ/(γ + δ) = 0.3: 30% churn at the first chance, the rest never.
    let limit = Retention::Split { pi: 0.3 };
    let near = Retention::Beta {
        gamma: 0.3e-9,
        delta: 0.7e-9,
    };
    for t in [0.0, 1.0, 5.0, 30.0] {
        assert!(close(near.survival(t), limit.survival(t), 1e-6), "S({t})");
    }
    for t in [1.0, 2.0, 10.0] {
        assert!(close(near.retention_rate(t), limit.retention_rate(t), 1e-6), "r({t})");
    }
    for t in [1.0, 2.0, 6.0] {
        let (a, b) = (
            near.ln_churn_at_with_gradient(t).0.exp(),
            limit.ln_churn_at_with_gradient(t).0.exp(),
        );
        assert!((a - b).abs() < 1e-6, "P(T = {t}): {a} vs {b}");
    }
    for (n, d) in [(0.0, 0.1), (7.0, 0.01)] {
        let (a, b) = (
            near.discounted_residual_lifetime(n, d).unwrap(),
            limit.discounted_residual_lifetime(n, d).unwrap(),
        );
        assert!(close(a, b, 1e-6), "DERL({n}, {d}): {a} vs {b}");
    }
    // Closed forms: S(t) = 0.7 for t ≥ 1, P(T = 1) = 0.3 and 0 after; nobody left after the
    // first period churns, so DERL(d | n ≥ 1) = Σ_k (1 + d)^−k = (1 + d)/d = 11 at d = 0.1,
    // DERL(0.1 | 0) = 0.7 · 11 = 7.7 and DEL(0.1) = 1 + 7.7/1.1 = 8; renewals in the next 3
    // periods 0.7 · 3 for a new subscriber, 3 for one who has renewed.
    assert!(close(limit.survival(3.0), 0.7, 1e-15));
    assert_eq!(limit.ln_churn_at_with_gradient(1.0).0, 0.3f64.ln());
    assert_eq!(limit.ln_churn_at_with_gradient(2.0).0, f64::NEG_INFINITY);
    assert!(close(
        limit.discounted_residual_lifetime(5.0, 0.1).unwrap(),
        11.0,
        1e-14
    ));
    assert!(close(limit.discounted_residual_lifetime(0.0, 0.1).unwrap(), 7.7, 1e-14));
    assert!(close(limit.discounted_expected_lifetime(0.1).unwrap(), 8.0, 1e-14));
    assert!(close(limit.expected_renewals_within(0.0, 3), 2.1, 1e-14));
    assert_eq!(limit.expected_renewals_within(5.0, 3), 3.0);
    assert_eq!(limit.expected_residual_lifetime(2.0), None);
}

#[test]
fn expected_renewals_add_up_the_survival_ratios() {
    // Σ_{k=1..3} S(n + k)/S(n) for n = 2.
    let s = |t: f64| REGULAR.survival(t);
    let expected = (s(3.0) + s(4.0) + s(5.0)) / s(2.0);
    assert!(close(REGULAR.expected_renewals_within(2.0, 3), expected, 1e-13));
    assert!(close(REGULAR.renewal_probability(2.0), s(3.0) / s(2.0), 1e-14));
}
