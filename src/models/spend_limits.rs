//! The two limits of the Gamma-Gamma spend model (`gamma_gamma`), where a fit on a log whose
//! spends carry no heterogeneity across customers, or none within a customer, ends: the
//! homogeneous limit (q, v → ∞ with q/v = ν) and the constant-spend limit (p → ∞ with p·v = s),
//! each with its likelihood over the Gamma-Gamma fit data. Equation numbers are those of Fader &
//! Hardie (2013), "The Gamma-Gamma Model of Monetary Value".

use serde::{Deserialize, Serialize};

use super::gamma_gamma::GammaGammaData;
use super::Likelihood;
use crate::special::{ln_gamma_density_relative, ln_minus_digamma};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::gamma_gamma::{GammaGammaParams, SpendParams};
    use crate::test_support::*;

    use crate::test_support::GAMMA_GAMMA_PAPER as PAPER;

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
}
