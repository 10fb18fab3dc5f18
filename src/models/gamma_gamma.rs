//! Gamma-Gamma spend model: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"
//! (and Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis").
//!
//! A customer's transaction values are Gamma(p, ν); across customers ν ~ Gamma(q, γ). Data per
//! customer: x repeat transactions with mean value z̄. `v` is γ, as `lifetimes` names it.

use serde::{Deserialize, Serialize};

use super::{count_distinct, parallel_sum, sample_rows, table_index, BitsMap, Likelihood};
use crate::special::{digamma, ln_gamma, ln_gamma_density_relative, ln_minus_digamma};

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

/// Gamma-Gamma at its homogeneous limit: every customer's transaction values are Gamma(p, ν) with
/// the same ν (q, v → ∞ with q/v = ν), so a customer's mean z̄ of x values is Gamma(px, xν) and
/// E[M] = p/ν whatever her history. The note's eq. (3) tends to it: ln Γ(px+q) − ln Γ(q) ≈ px ln q
/// and q ln v − (px+q) ln(v + x z̄) ≈ −px ln v − x z̄ q/v.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HomogeneousSpend {
    pub p: f64,
    /// The common rate ν of the transaction values' gamma distribution (per currency unit).
    pub nu: f64,
}

impl HomogeneousSpend {
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.p, self.nu]
    }

    /// ln of the Gamma(px, xν) density of z̄, with its gradient in (p, ν):
    /// px ln(xν) − ln Γ(px) + (px−1) ln z̄ − xνz̄, computed as the density of shape px at its
    /// mean p/ν times 1 + u, u = νz̄/p − 1, which keeps its digits as p grows without bound
    /// (`ln_gamma_density_relative`); the gradient likewise, x [ln(1 + u) + ln(px) − ψ(px)] and
    /// −x (νz̄ − p)/ν.
    pub fn log_likelihood_with_gradient(&self, x: f64, zbar: f64) -> (f64, [f64; 2]) {
        let Self { p, nu } = *self;
        let px = p * x;
        let excess = nu.mul_add(zbar, -p);
        let u = excess / p;
        let ll = ln_gamma_density_relative(px, u) - zbar.ln();
        (ll, [x * (u.ln_1p() + ln_minus_digamma(px)), -x * excess / nu])
    }
}

/// Gamma-Gamma at its other limit, p → ∞ with p·v = s: every transaction of a customer is worth
/// her own mean ζ = p/ν (no spread within a customer, as with one product at a fixed price), and
/// across customers ζ ~ InvGamma(q, s), since ν ~ Gamma(q, v) (rate). The note's eq. (3) tends
/// to that density of z̄ = ζ, and eq. (5) to E[M] = z̄ for a customer with repeat purchases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConstantSpend {
    pub q: f64,
    /// The scale s = p·v of the inverse-gamma mean spend across customers (currency units).
    pub s: f64,
}

impl ConstantSpend {
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.q, self.s]
    }

    /// ln of the InvGamma(q, s) density of z̄, with its gradient in (q, s):
    /// q ln s − ln Γ(q) − (q+1) ln z̄ − s/z̄. As 1/z̄ is Gamma(q, s), this is the gamma density
    /// of shape q at its mean q/s times 1 + u, u = s/(qz̄) − 1, less ln z̄ (see
    /// `HomogeneousSpend`); the gradient ln(1 + u) + ln q − ψ(q) and −(s − qz̄)/(s z̄).
    pub fn log_likelihood_with_gradient(&self, zbar: f64) -> (f64, [f64; 2]) {
        let Self { q, s } = *self;
        let excess = (-q).mul_add(zbar, s);
        let u = excess / (q * zbar);
        let ll = ln_gamma_density_relative(q, u) - zbar.ln();
        (ll, [u.ln_1p() + ln_minus_digamma(q), -excess / (s * zbar)])
    }

    /// The population mean spend per transaction, s/(q−1); none when q ≤ 1.
    pub fn mean_spend(&self) -> Option<f64> {
        (self.q > 1.0).then(|| self.s / (self.q - 1.0))
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

/// The homogeneous-spend limit's likelihood over the Gamma-Gamma fit data, in (p, ν).
pub struct HomogeneousSpendData<'a>(pub &'a GammaGammaData);

impl Likelihood for HomogeneousSpendData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["p", "nu"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let model = HomogeneousSpend {
            p: params[0],
            nu: params[1],
        };
        self.0
            .weighted_sum(|x, zbar| model.log_likelihood_with_gradient(x, zbar))
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // p/ν at the sample mean spend.
        let m = self.0.mean_spend.max(1e-6);
        let mut starts = vec![vec![2.0, 2.0 / m], vec![1.0, 1.0 / m], vec![5.0, 5.0 / m]];
        // By moments, for spends far less spread than those: z̄ | x is Gamma(px, νx), so
        // E[x (z̄ − m)²] = m²/p.
        let p = m * m / self.0.spread(|x| x);
        if p.is_finite() && p > 5.0 {
            starts.push(vec![p, p / m]);
        }
        starts
    }
}

/// The constant-spend limit's likelihood over the Gamma-Gamma fit data, in (q, s).
pub struct ConstantSpendData<'a>(pub &'a GammaGammaData);

impl Likelihood for ConstantSpendData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["q", "s"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let model = ConstantSpend {
            q: params[0],
            s: params[1],
        };
        self.0.weighted_sum(|_, zbar| model.log_likelihood_with_gradient(zbar))
    }

    fn n_customers(&self) -> f64 {
        self.0.n_customers
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // s/(q−1) at the sample mean spend.
        let m = self.0.mean_spend.max(1e-6);
        let mut starts = vec![vec![10.0, 9.0 * m], vec![3.0, 2.0 * m], vec![50.0, 49.0 * m]];
        // By moments, for spends far less spread across customers than those: z̄ is inverse
        // gamma (q, s), with mean s/(q − 1) = m and variance m²/(q − 2).
        let q = 2.0 + m * m / self.0.spread(|_| 1.0);
        if q.is_finite() && q > 50.0 {
            starts.push(vec![q, (q - 1.0) * m]);
        }
        starts
    }
}

/// Gamma-Gamma data for fitting: distinct (x, z̄) of customers with x > 0 and z̄ > 0, with counts,
/// x as an index into a table of distinct x (ln Γ and ψ are then taken once per x and
/// evaluation) and ln z̄ computed once.
#[derive(Debug, Clone)]
pub struct GammaGammaData {
    xs: Vec<f64>,
    rows: Vec<SpendRow>,
    n_customers: f64,
    mean_spend: f64,
    /// Customers with x > 0 whose mean repeat spend is not positive: left out of the fit.
    pub excluded_nonpositive_spend: usize,
}

#[derive(Debug, Clone, Copy)]
struct SpendRow {
    x: u32,
    zbar: f64,
    ln_zbar: f64,
    weight: f64,
}

impl GammaGammaData {
    /// From per-customer frequency and mean repeat spend; keeps customers with x > 0 and z̄ > 0.
    pub fn new(frequency: &[f64], monetary_value: &[f64]) -> Self {
        Self::with_counts(frequency, monetary_value, None)
    }

    /// As `new`, each row standing for `counts[i]` customers (a compressed summary's spend rows).
    pub fn with_counts(frequency: &[f64], monetary_value: &[f64], counts: Option<&[f64]>) -> Self {
        let count = |i: usize| counts.map_or(1.0, |c| c[i]);
        let repeaters = || (0..frequency.len()).filter(|&i| frequency[i] > 0.0 && count(i) > 0.0);
        let kept = || repeaters().filter(|&i| monetary_value[i] > 0.0);
        let excluded = repeaters().map(count).sum::<f64>() - kept().map(count).sum::<f64>();
        let distinct = count_distinct(kept().map(|i| ([frequency[i], monetary_value[i]], count(i))));
        let n: f64 = distinct.iter().map(|r| r.1).sum();
        let mean_spend = distinct.iter().map(|([_, z], w)| z * w).sum::<f64>() / n.max(1.0);
        let mut xs: Vec<f64> = Vec::new();
        let mut index: BitsMap<u64, u32> = BitsMap::default();
        let rows = distinct
            .into_iter()
            .map(|([x, zbar], weight)| SpendRow {
                x: table_index(&mut index, &mut xs, x, x.to_bits()),
                zbar,
                ln_zbar: zbar.ln(),
                weight,
            })
            .collect();
        Self {
            xs,
            rows,
            n_customers: n,
            mean_spend,
            excluded_nonpositive_spend: excluded as usize,
        }
    }
}

impl GammaGammaData {
    /// The customers' mean of `factor(x)·(z̄ − m)²`, m the mean spend: the spread of their mean
    /// spends, for start points by moments.
    fn spread(&self, factor: impl Fn(f64) -> f64) -> f64 {
        let m = self.mean_spend;
        let sum: f64 = self
            .rows
            .iter()
            .map(|r| r.weight * factor(self.xs[r.x as usize]) * (r.zbar - m).powi(2))
            .sum();
        sum / self.n_customers.max(1.0)
    }

    /// Σ over customers of a limit's log-likelihood with its gradient, `term(x, z̄)` taken once per
    /// distinct (x, z̄) and weighed by its count.
    fn weighted_sum<const K: usize>(&self, term: impl Fn(f64, f64) -> (f64, [f64; K]) + Sync) -> (f64, Vec<f64>) {
        let (ll, grad) = parallel_sum(&self.rows, |row| {
            let (l, g) = term(self.xs[row.x as usize], row.zbar);
            (row.weight * l, g.map(|gi| row.weight * gi))
        });
        (ll, grad.to_vec())
    }
}

impl Likelihood for GammaGammaData {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["p", "q", "v"]
    }

    /// Σ of `GammaGammaParams::log_likelihood_with_gradient` over customers, the terms in x alone
    /// taken once per distinct x: per customer one logarithm remains.
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let GammaGammaParams { p, q, v } = GammaGammaParams::from_slice(params);
        let (ln_v, lg_q, psi_q) = (v.ln(), ln_gamma(q), digamma(q));
        // Per x: (ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + px ln x, ψ(px+q), ψ(px), ln x).
        let per_x: Vec<[f64; 4]> = self
            .xs
            .iter()
            .map(|&x| {
                let px = p * x;
                [
                    ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + px * x.ln(),
                    digamma(px + q),
                    digamma(px),
                    x.ln(),
                ]
            })
            .collect();
        let (ll, grad) = parallel_sum(&self.rows, |row| {
            let x = self.xs[row.x as usize];
            let [constant, psi_pxq, psi_px, ln_x] = per_x[row.x as usize];
            let px = p * x;
            let v_xz = v + x * row.zbar;
            let ln_vxz = v_xz.ln();
            let ll = constant + (px - 1.0) * row.ln_zbar - (px + q) * ln_vxz;
            let g = [
                x * (psi_pxq - psi_px + row.ln_zbar + ln_x - ln_vxz),
                psi_pxq - psi_q + ln_v - ln_vxz,
                q / v - (px + q) / v_xz,
            ];
            (row.weight * ll, g.map(|gi| row.weight * gi))
        });
        (ll, grad.to_vec())
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

    /// Rounded published estimates (Fader & Hardie 2013, CDNOW sample).
    const PAPER: GammaGammaParams = GammaGammaParams {
        p: 6.25,
        q: 3.74,
        v: 15.44,
    };

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
    fn the_homogeneous_limit_is_the_models_limit_and_its_gradient_the_derivative() {
        // q, v → ∞ with q/v = ν: eq. (3) approaches the Gamma(px, xν) density to first order in
        // 1/q (its distance shrinks 100-fold from q = 10⁵ to 10⁷), and the gradient is that
        // density's derivative (central differences, relative step 1e-6).
        let limit = HomogeneousSpend { p: 6.25, nu: 0.2 };
        for (x, zbar) in [(1.0, 31.0), (4.0, 12.5), (40.0, 80.0)] {
            let (ll, gradient) = limit.log_likelihood_with_gradient(x, zbar);
            let distance = |q: f64| {
                let near = GammaGammaParams { p: 6.25, q, v: q / 0.2 };
                (near.log_likelihood_with_gradient(x, zbar).0 - ll).abs()
            };
            let (far, close) = (distance(1e5), distance(1e7));
            assert!(
                close < 0.02 * far,
                "({x}, {zbar}): {far:e} at q = 1e5, {close:e} at 1e7"
            );
            let v = limit.to_vec();
            for i in 0..2 {
                let at = |sign: f64| {
                    let mut w = v.clone();
                    w[i] *= 1.0 + sign * 1e-6;
                    HomogeneousSpend { p: w[0], nu: w[1] }
                        .log_likelihood_with_gradient(x, zbar)
                        .0
                };
                assert_close(gradient[i], (at(1.0) - at(-1.0)) / (2e-6 * v[i]), 1e-7);
            }
        }
        let spend = SpendParams::Homogeneous(limit);
        assert_eq!(spend.conditional_expected_average_spend(3.0, 100.0), Some(31.25));
        assert_eq!(spend.mean_spend(), Some(31.25));
        let read: SpendParams = serde_json::from_str(r#"{"p": 6.25, "nu": 0.2}"#).unwrap();
        assert_eq!(read, spend);
        let read: SpendParams = serde_json::from_str(r#"{"p": 6.25, "q": 3.74, "v": 15.44}"#).unwrap();
        assert_eq!(read, SpendParams::GammaGamma(PAPER));
    }

    #[test]
    fn the_constant_spend_limit_is_the_models_limit_and_its_gradient_the_derivative() {
        // p → ∞ with p·v = s: eq. (3) approaches the InvGamma(q, s) density of z̄ to first order in
        // 1/p (its distance shrinks 100-fold from p = 10³ to 10⁵; further out ln Γ(px) of 10⁹
        // rounds more than the distance), eq. (5) approaches z̄, and the
        // gradient is that density's derivative (central differences, relative step 1e-6).
        let limit = ConstantSpend { q: 3.74, s: 96.5 };
        for (x, zbar) in [(1.0, 31.0), (4.0, 12.5), (40.0, 80.0)] {
            let (ll, gradient) = limit.log_likelihood_with_gradient(zbar);
            let near = |p: f64| GammaGammaParams {
                p,
                q: 3.74,
                v: 96.5 / p,
            };
            let distance = |p: f64| (near(p).log_likelihood_with_gradient(x, zbar).0 - ll).abs();
            let (far, close) = (distance(1e3), distance(1e5));
            assert!(
                close < 0.02 * far,
                "({x}, {zbar}): {far:e} at p = 1e3, {close:e} at 1e5"
            );
            let spend = near(1e9).conditional_expected_average_spend(x, zbar).unwrap();
            assert_close(spend, zbar, 1e-7);
            let v = limit.to_vec();
            for i in 0..2 {
                let at = |sign: f64| {
                    let mut w = v.clone();
                    w[i] *= 1.0 + sign * 1e-6;
                    ConstantSpend { q: w[0], s: w[1] }.log_likelihood_with_gradient(zbar).0
                };
                assert_close(gradient[i], (at(1.0) - at(-1.0)) / (2e-6 * v[i]), 1e-7);
            }
        }
        // s/(q−1) = 96.5/2.74 = 35.218978102189781 (PAPER's p·v/(q−1), as s = p·v).
        let spend = SpendParams::Constant(limit);
        assert_eq!(spend.conditional_expected_average_spend(3.0, 100.0), Some(100.0));
        assert_close(
            spend.conditional_expected_average_spend(0.0, 0.0).unwrap(),
            35.21897810218978,
            1e-15,
        );
        assert_eq!(spend.spend_line(3.0), Some((0.0, 1.0)));
        assert_eq!(spend.q(), Some(3.74));
        assert!(SpendParams::Constant(ConstantSpend { q: 0.9, s: 1.0 })
            .mean_spend()
            .is_none());
        let read: SpendParams = serde_json::from_str(r#"{"q": 3.74, "s": 96.5}"#).unwrap();
        assert_eq!(read, spend);
    }

    #[test]
    fn the_limits_likelihoods_keep_their_digits_at_huge_parameters() {
        // A spend model near its limit (the cohort of `boundary::spend`'s tests: 200 customers
        // of x = 9 and z̄ = 10.00444… or 10.00555…) puts p or q near 10⁸, where each term of the
        // textbook forms is about 6e9. 40-digit mpmath of those forms:
        // Gamma(9p, 9ν) at z̄ = 10.0044444444, p = 36036009, ν = 3601800: 6.076640349721265371905632;
        // InvGamma(q, s) at z̄ = 10.0055555556, q = 324324083, s = 3244862440: 6.076527018633574371734505;
        // and at ordinary values, Gamma(3·6.25, 3·0.4) at 12.5: −2.417455911833161439577045,
        // InvGamma(3.74, 40) at 12.5: −2.850550102782584609935136.
        let homogeneous = |p, nu, x, zbar| HomogeneousSpend { p, nu }.log_likelihood_with_gradient(x, zbar).0;
        let constant = |q, s, zbar| ConstantSpend { q, s }.log_likelihood_with_gradient(zbar).0;
        assert_close(
            homogeneous(36036009.0, 3601800.0, 9.0, 10.0044444444),
            6.0766403497212655,
            1e-12,
        );
        // At ordinary values both forms rest on statrs' ln Γ (about 1e-15 relative on ln Γ(18.75)
        // ≈ 36), which leaves the sum of −2.4 good to about 1e-13 relative.
        assert_close(homogeneous(6.25, 0.4, 3.0, 12.5), -2.4174559118331613, 1e-13);
        assert_close(
            constant(324324083.0, 3244862440.0, 10.0055555556),
            6.076527018633574,
            1e-12,
        );
        assert_close(constant(3.74, 40.0, 12.5), -2.850550102782585, 1e-13);
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

    #[test]
    fn customers_without_positive_spend_are_counted_not_fitted() {
        let data = GammaGammaData::new(&[0.0, 1.0, 2.0, 3.0], &[0.0, 0.0, 10.0, -5.0]);
        assert_eq!(data.excluded_nonpositive_spend, 2);
        assert_eq!(data.n_customers(), 1.0);
    }
}
