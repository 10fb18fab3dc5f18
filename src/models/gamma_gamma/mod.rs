//! Gamma-Gamma spend model: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"
//! (and Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis").
//!
//! A customer's transaction values are Gamma(p, ν); across customers ν ~ Gamma(q, γ). Data per
//! customer: x repeat transactions with mean value z̄. `v` is γ, as `lifetimes` names it.

use serde::{Deserialize, Serialize};

mod data;

pub use data::GammaGammaData;
use data::SpendRow;

pub use super::spend_limits::{ConstantSpend, ConstantSpendData, HomogeneousSpend, HomogeneousSpendData};
use super::{parallel_sum, sample_rows, Likelihood};
use crate::special::{digamma, ln_gamma, trigamma};

/// Gamma-Gamma parameters (p, q, γ = v), v in currency units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaParams {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

impl GammaGammaParams {
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.p, self.q, self.v]
    }

    /// From a vector ordered as `GammaGammaData::parameter_names`.
    pub fn from_slice(p: &[f64]) -> Self {
        Self {
            p: p[0],
            q: p[1],
            v: p[2],
        }
    }

    /// One customer's log-likelihood of the mean spend z̄ over x transactions (note eq. 3),
    /// with its gradient with respect to (p, q, v):
    /// ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln z̄ + px ln x − (px+q) ln(v + x z̄).
    pub fn log_likelihood_with_gradient(&self, x: f64, zbar: f64) -> (f64, [f64; 3]) {
        let Self { p, q, v } = *self;
        let px = p * x;
        let ln_vxz = (v + x * zbar).ln();
        let ll = ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q) + q * v.ln() + (px - 1.0) * zbar.ln() + px * x.ln()
            - (px + q) * ln_vxz;
        let psi_pxq = digamma(px + q);
        let d_p = x * (psi_pxq - digamma(px) + zbar.ln() + x.ln() - ln_vxz);
        let d_q = psi_pxq - digamma(q) + v.ln() - ln_vxz;
        let d_v = q / v - (px + q) / (v + x * zbar);
        (ll, [d_p, d_q, d_v])
    }

    /// Population mean spend per transaction, E[Z] = p·v/(q−1); infinite when q ≤ 1.
    pub fn mean_spend(&self) -> Option<f64> {
        (self.q > 1.0).then(|| self.p * self.v / (self.q - 1.0))
    }

    /// E[M | x, z̄]: a customer's expected spend per transaction (note eq. 5):
    /// (q−1)/(px+q−1) · pv/(q−1) + px/(px+q−1) · z̄ = p(v + x z̄)/(px+q−1), the mean of
    /// p·ν over ν's posterior Gamma(px+q, v + x z̄) (rate), finite wherever px + q > 1 — for every
    /// customer with repeat purchases once px > 1 − q, even when q ≤ 1 makes the population mean
    /// infinite. `None` where it is infinite: x = 0 (no spend seen) with q ≤ 1.
    pub fn conditional_expected_average_spend(&self, x: f64, zbar: f64) -> Option<f64> {
        let Self { p, q, v } = *self;
        (p * x + q > 1.0).then(|| p * (v + x * zbar) / (p * x + q - 1.0))
    }
}

/// A fitted spend model: Gamma-Gamma, or one of its limits. Serialised by its parameters' names,
/// `{"p", "q", "v"}`, `{"p", "nu"}` or `{"q", "s"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SpendParams {
    GammaGamma(GammaGammaParams),
    Homogeneous(HomogeneousSpend),
    Constant(ConstantSpend),
}

impl SpendParams {
    pub fn to_vec(&self) -> Vec<f64> {
        match self {
            Self::GammaGamma(g) => g.to_vec(),
            Self::Homogeneous(h) => h.to_vec(),
            Self::Constant(c) => c.to_vec(),
        }
    }

    /// The same model at other values of its parameters, in `to_vec`'s order.
    pub fn with_values(&self, v: &[f64]) -> Self {
        match self {
            Self::GammaGamma(_) => Self::GammaGamma(GammaGammaParams::from_slice(v)),
            Self::Homogeneous(_) => Self::Homogeneous(HomogeneousSpend { p: v[0], nu: v[1] }),
            Self::Constant(_) => Self::Constant(ConstantSpend { q: v[0], s: v[1] }),
        }
    }

    /// E[M | x, z̄] (see `GammaGammaParams::conditional_expected_average_spend`); p/ν at the
    /// homogeneous limit; z̄ at the constant-spend limit once x > 0, else the population mean.
    pub fn conditional_expected_average_spend(&self, x: f64, zbar: f64) -> Option<f64> {
        match self {
            Self::GammaGamma(g) => g.conditional_expected_average_spend(x, zbar),
            Self::Homogeneous(h) => Some(h.p / h.nu),
            Self::Constant(c) => match x > 0.0 {
                true => Some(zbar),
                false => c.mean_spend(),
            },
        }
    }

    /// E[M | x, z̄] as a line in z̄, (intercept, slope): eq. (5) is p·v/(px+q−1) + p·x/(px+q−1)·z̄;
    /// (p/ν, 0) at the limit; `None` where it is infinite. For many customers of one x at once.
    pub fn spend_line(&self, x: f64) -> Option<(f64, f64)> {
        match self {
            Self::GammaGamma(GammaGammaParams { p, q, v }) => {
                let denominator = p * x + q - 1.0;
                (denominator > 0.0).then(|| (p * v / denominator, p * x / denominator))
            }
            Self::Homogeneous(h) => Some((h.p / h.nu, 0.0)),
            Self::Constant(c) => match x > 0.0 {
                true => Some((0.0, 1.0)),
                false => c.mean_spend().map(|mean| (mean, 0.0)),
            },
        }
    }

    /// The population mean spend per transaction: p·v/(q−1) (none when q ≤ 1), p/ν, or s/(q−1).
    pub fn mean_spend(&self) -> Option<f64> {
        match self {
            Self::GammaGamma(g) => g.mean_spend(),
            Self::Homogeneous(h) => Some(h.p / h.nu),
            Self::Constant(c) => c.mean_spend(),
        }
    }

    /// The Gamma-Gamma parameters, unless this is one of its limits.
    pub fn gamma_gamma(&self) -> Option<GammaGammaParams> {
        match self {
            Self::GammaGamma(g) => Some(*g),
            Self::Homogeneous(_) | Self::Constant(_) => None,
        }
    }

    /// q, the tail of spend across customers; none at the homogeneous limit (no tail).
    pub fn q(&self) -> Option<f64> {
        match self {
            Self::GammaGamma(g) => Some(g.q),
            Self::Homogeneous(_) => None,
            Self::Constant(c) => Some(c.q),
        }
    }
}

/// The terms of one evaluation at (p, q, v) that depend on x alone, per distinct x:
/// (ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + px ln x, ψ(px+q), ψ(px), ln x), and with the
/// Hessian also (ψ′(px+q), ψ′(px)); zeros in their place otherwise.
struct SpendTables {
    params: GammaGammaParams,
    ln_v: f64,
    psi_q: f64,
    per_x: Vec<[f64; 6]>,
}

/// One customer's log-likelihood (note eq. 3) and its gradient in (p, q, v), with her x and
/// v + x z̄, which the Hessian needs too.
struct SpendTerms {
    ll: f64,
    gradient: [f64; 3],
    x: f64,
    v_xz: f64,
}

impl SpendTables {
    fn new(data: &GammaGammaData, params: &[f64], curvature: bool) -> Self {
        let params = GammaGammaParams::from_slice(params);
        let GammaGammaParams { p, q, v } = params;
        let (ln_v, lg_q) = (v.ln(), ln_gamma(q));
        let per_x = data
            .xs
            .iter()
            .map(|&x| {
                let px = p * x;
                let (tri_pxq, tri_px) = match curvature {
                    true => (trigamma(px + q), trigamma(px)),
                    false => (0.0, 0.0),
                };
                [
                    ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + px * x.ln(),
                    digamma(px + q),
                    digamma(px),
                    x.ln(),
                    tri_pxq,
                    tri_px,
                ]
            })
            .collect();
        Self {
            params,
            ln_v,
            psi_q: digamma(q),
            per_x,
        }
    }

    fn row(&self, data: &GammaGammaData, row: &SpendRow) -> SpendTerms {
        let GammaGammaParams { p, q, v } = self.params;
        let x = data.xs[row.x as usize];
        let [constant, psi_pxq, psi_px, ln_x, ..] = self.per_x[row.x as usize];
        let px = p * x;
        let v_xz = v + x * row.zbar;
        let ln_vxz = v_xz.ln();
        SpendTerms {
            ll: constant + (px - 1.0) * row.ln_zbar - (px + q) * ln_vxz,
            gradient: [
                x * (psi_pxq - psi_px + row.ln_zbar + ln_x - ln_vxz),
                psi_pxq - self.psi_q + self.ln_v - ln_vxz,
                q / v - (px + q) / v_xz,
            ],
            x,
            v_xz,
        }
    }
}

impl Likelihood for GammaGammaData {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["p", "q", "v"]
    }

    /// Σ of `GammaGammaParams::log_likelihood_with_gradient` over customers, the terms in x alone
    /// taken once per distinct x: per customer one logarithm remains.
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let tables = SpendTables::new(self, params, false);
        let (ll, grad) = parallel_sum(&self.rows, |row| {
            let terms = tables.row(self, row);
            (row.weight * terms.ll, terms.gradient.map(|gi| row.weight * gi))
        });
        (ll, grad.to_vec())
    }

    /// The gradient and the Hessian in (p, q, v), per customer with s = v + x z̄:
    /// ∂²/∂p² = x² (ψ′(px+q) − ψ′(px)), ∂²/∂p∂q = x ψ′(px+q), ∂²/∂p∂v = −x/s,
    /// ∂²/∂q² = ψ′(px+q) − ψ′(q), ∂²/∂q∂v = 1/v − 1/s, ∂²/∂v² = (px+q)/s² − q/v².
    fn gradient_and_hessian(&self, params: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
        let tables = SpendTables::new(self, params, true);
        let GammaGammaParams { p, q, v } = tables.params;
        let tri_q = trigamma(q);
        let (_, sums) = parallel_sum(&self.rows, |row| {
            let SpendTerms { gradient, x, v_xz, .. } = tables.row(self, row);
            let [.., tri_pxq, tri_px] = tables.per_x[row.x as usize];
            let inv_s = 1.0 / v_xz;
            let [d_p, d_q, d_v] = gradient;
            let both = [
                d_p,
                d_q,
                d_v,
                x * x * (tri_pxq - tri_px),
                x * tri_pxq,
                -x * inv_s,
                tri_pxq - tri_q,
                1.0 / v - inv_s,
                (p * x + q) * inv_s * inv_s - q / (v * v),
            ];
            (0.0, both.map(|value| row.weight * value))
        });
        let [d_p, d_q, d_v, pp, pq, pv, qq, qv, vv] = sums;
        Some((
            vec![d_p, d_q, d_v],
            vec![vec![pp, pq, pv], vec![pq, qq, qv], vec![pv, qv, vv]],
        ))
    }

    fn n_customers(&self) -> f64 {
        self.n_customers
    }

    /// Why the data cannot identify the spend model, in terms of the data, when that is so.
    fn unidentifiable(&self) -> Option<String> {
        let first = self.rows.first()?.zbar;
        if self.rows.iter().all(|row| row.zbar == first) {
            return Some(format!(
                "every customer with repeat purchases has the same mean repeat spend ({first}): \
                 how spend varies across customers cannot be estimated from that"
            ));
        }
        None
    }

    fn warm_start_sample(&self) -> Option<Self> {
        Some(Self {
            xs: self.xs.clone(),
            rows: sample_rows(&self.rows, |r| r.weight, |r, weight| SpendRow { weight, ..r })?,
            ..*self
        })
    }

    fn penalty_centres(&self) -> Vec<f64> {
        // v is in money (the mean spend is p·v/(q−1)): centred on the mean repeat spend.
        vec![1.0, 1.0, self.mean_spend.max(f64::MIN_POSITIVE)]
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // Chosen so that the population mean p·v/(q−1) equals the sample mean spend.
        let m = self.mean_spend.max(1e-6);
        vec![
            vec![2.0, 3.0, m],
            vec![1.0, 2.0, m],
            vec![5.0, 4.0, 0.6 * m],
            vec![0.5, 1.5, 0.5 * m],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    use crate::test_support::GAMMA_GAMMA_PAPER as PAPER;

    #[test]
    fn the_hessian_matches_central_differences_of_the_gradient() {
        let data = GammaGammaData::with_counts(
            &[1.0, 2.0, 15.0, 2.0, 40.0],
            &[11.77, 22.35, 80.0, 5.0, 31.2],
            Some(&[2.0, 1.0, 1.0, 3.0, 1.0]),
        );
        // The paper's estimates, q < 1, and a large p (spend nearly constant per customer).
        for params in [PAPER.to_vec(), vec![2.0, 0.7, 40.0], vec![900.0, 4.0, 3.0]] {
            assert_hessian_matches(&data, &params);
        }
    }

    #[test]
    fn the_spend_line_is_eq_5_in_z_bar() {
        // At the paper's estimates, x = 2, z̄ = 40: p(v + x z̄)/(px + q − 1) = 6.25·95.44/15.24
        // = 39.14041994750656 (596.5/15.24 by hand); the line gives intercept pv/15.24 =
        // 6.332020997375328 and slope px/15.24 = 0.8202099737532809.
        let (intercept, slope) = SpendParams::GammaGamma(PAPER).spend_line(2.0).unwrap();
        assert!((intercept - 6.332020997375328).abs() < 1e-13);
        assert!((slope - 0.8202099737532809).abs() < 1e-15);
        assert!((intercept + slope * 40.0 - 39.14041994750656).abs() < 1e-12);
        let direct = PAPER.conditional_expected_average_spend(2.0, 40.0).unwrap();
        assert!((intercept + slope * 40.0 - direct).abs() < 1e-12);
        // Infinite where px + q ≤ 1 (x = 0, q < 1); constant at the homogeneous limit.
        let heavy = SpendParams::GammaGamma(GammaGammaParams {
            p: 2.0,
            q: 0.8,
            v: 10.0,
        });
        assert!(heavy.spend_line(0.0).is_none());
        let limit = SpendParams::Homogeneous(HomogeneousSpend { p: 6.0, nu: 0.2 });
        assert_eq!(limit.spend_line(3.0), Some((30.0, 0.0)));
    }

    #[test]
    fn data_total_equals_the_per_customer_sum() {
        let x: Vec<f64> = (0..200).map(|i| (i % 9 + 1) as f64).collect();
        let z: Vec<f64> = (0..200).map(|i| 5.0 + (i * 37 % 101) as f64 / 3.0).collect();
        let data = GammaGammaData::new(&x, &z);
        let (ll, grad) = data.log_likelihood_with_gradient(&PAPER.to_vec());
        let mut direct = (0.0, [0.0; 3]);
        for (&xi, &zi) in x.iter().zip(&z) {
            let (l, g) = PAPER.log_likelihood_with_gradient(xi, zi);
            direct.0 += l;
            for (sum, gk) in direct.1.iter_mut().zip(g) {
                *sum += gk;
            }
        }
        assert_close(ll, direct.0, 1e-13);
        for (ours, expected) in grad.iter().zip(direct.1) {
            assert!(
                (ours - expected).abs() <= 1e-11 * (1.0 + expected.abs()),
                "{ours} vs {expected}"
            );
        }
    }

    #[test]
    fn conditional_spend_matches_reference_table() {
        // shared/REFERENCE.md, eq. (5) at the rounded parameters.
        assert_close(
            PAPER.conditional_expected_average_spend(2.0, 22.35).unwrap(),
            24.663714,
            1e-7,
        );
        assert_close(
            PAPER.conditional_expected_average_spend(1.0, 11.77).unwrap(),
            18.916852,
            1e-7,
        );
        assert_close(PAPER.mean_spend().unwrap(), 35.218978, 1e-7);
    }

    #[test]
    fn conditional_spend_of_a_customer_without_repeat_purchases_is_the_population_mean() {
        assert_close(
            PAPER.conditional_expected_average_spend(0.0, 0.0).unwrap(),
            PAPER.mean_spend().unwrap(),
            1e-15,
        );
    }

    #[test]
    fn with_q_at_most_one_only_customers_with_repeat_purchases_have_an_expected_spend() {
        let heavy_tailed = GammaGammaParams { q: 0.9, ..PAPER };
        assert!(heavy_tailed.mean_spend().is_none());
        assert!(GammaGammaParams { q: 1.0, ..PAPER }.mean_spend().is_none());
        // x = 2, z̄ = 10: ν | data ~ Gamma(px + q, v + x z̄) = Gamma(13.4, 35.44) (rate), and
        // E[M] = E[p/ν] = p · 35.44 / 12.4 = 6.25 · 35.44 / 12.4 = 17.862903225806452.
        assert_close(
            heavy_tailed.conditional_expected_average_spend(2.0, 10.0).unwrap(),
            17.862903225806452,
            1e-15,
        );
        // No repeat purchase: the prior's mean, infinite; nor where px + q ≤ 1 (0.05·2 + 0.9 = 1).
        assert!(heavy_tailed.conditional_expected_average_spend(0.0, 0.0).is_none());
        let thin = GammaGammaParams {
            p: 0.05,
            ..heavy_tailed
        };
        assert!(thin.conditional_expected_average_spend(2.0, 10.0).is_none());
    }

    #[test]
    fn likelihood_integrates_to_one_over_mean_spend() {
        // The density of z̄ must integrate to 1: trapezoid rule in u = ln z̄ over a wide range.
        let x = 3.0;
        let (lo, hi, n) = (-12.0f64, 12.0f64, 200_000);
        let h = (hi - lo) / n as f64;
        let total: f64 = (0..=n)
            .map(|i| {
                let u = lo + i as f64 * h;
                let w = if i == 0 || i == n { 0.5 } else { 1.0 };
                w * (PAPER.log_likelihood_with_gradient(x, u.exp()).0 + u).exp()
            })
            .sum::<f64>()
            * h;
        assert!((total - 1.0).abs() < 1e-8, "∫ f(z̄) dz̄ = {total}");
    }

    #[test]
    fn gradient_matches_central_differences() {
        let p = PAPER.to_vec();
        for &(x, z) in &[(1.0, 11.77), (2.0, 22.35), (15.0, 80.0)] {
            let (_, grad) = PAPER.log_likelihood_with_gradient(x, z);
            for i in 0..3 {
                let h = 1e-6 * p[i];
                let mut up = p.clone();
                let mut down = p.clone();
                up[i] += h;
                down[i] -= h;
                let fd = (GammaGammaParams::from_slice(&up).log_likelihood_with_gradient(x, z).0
                    - GammaGammaParams::from_slice(&down).log_likelihood_with_gradient(x, z).0)
                    / (2.0 * h);
                assert!(
                    (grad[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "d/d{i}: {} vs {fd}",
                    grad[i]
                );
            }
        }
    }
}
