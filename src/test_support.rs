//! Assertions shared by the unit tests of the models and special functions.

use crate::models::bg_nbd::BgNbdParams;
use crate::models::gamma_gamma::GammaGammaParams;
use crate::models::mbg_nbd::MbgNbdParams;
use crate::models::pareto_nbd::ParetoNbdParams;
use crate::models::Likelihood;

/// BG/NBD's published CDNOW estimates, rounded (Fader, Hardie & Lee 2005).
pub(crate) const BG_NBD_PAPER: BgNbdParams = BgNbdParams {
    r: 0.243,
    alpha: 4.414,
    a: 0.793,
    b: 2.426,
};

/// MBG/NBD's estimates on CDNOW by R's BTYDplus (shared/REFERENCE.md).
pub(crate) const MBG_NBD_BTYDPLUS: MbgNbdParams = MbgNbdParams {
    r: 0.525,
    alpha: 6.183,
    a: 0.891,
    b: 1.614,
};

/// Pareto/NBD's published CDNOW estimates, rounded (Fader, Hardie & Lee 2005).
pub(crate) const PARETO_NBD_PAPER: ParetoNbdParams = ParetoNbdParams {
    r: 0.553,
    alpha: 10.578,
    s: 0.606,
    beta: 11.669,
};

/// Gamma-Gamma's published CDNOW estimates, rounded (Fader & Hardie 2013).
pub(crate) const GAMMA_GAMMA_PAPER: GammaGammaParams = GammaGammaParams {
    p: 6.25,
    q: 3.74,
    v: 15.44,
};

/// |actual − expected| ≤ rel · |expected|.
pub(crate) fn assert_close(actual: f64, expected: f64, rel: f64) {
    let err = ((actual - expected) / expected).abs();
    assert!(
        err <= rel,
        "actual {actual}, expected {expected}, relative error {err:e}"
    );
}

/// A distribution of purchase counts sums to one and has the given mean (counts up to 3,000).
pub(crate) fn assert_pmf_sums_to_one_with_mean(pmf: impl Fn(u64) -> f64, mean: f64) {
    let probabilities: Vec<f64> = (0..3000).map(pmf).collect();
    let total: f64 = probabilities.iter().sum();
    let first_moment: f64 = probabilities.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    assert!((total - 1.0).abs() < 1e-10, "Σ P(X = n) = {total}");
    assert_close(first_moment, mean, 1e-9);
}

/// An analytic gradient agrees with central differences (relative step 1e-6) of `log_likelihood`.
pub(crate) fn assert_gradient_matches(log_likelihood: impl Fn(&[f64]) -> f64, params: &[f64], gradient: &[f64]) {
    for (i, analytic) in gradient.iter().enumerate() {
        let h = 1e-6 * params[i];
        let mut up = params.to_vec();
        let mut down = params.to_vec();
        up[i] += h;
        down[i] -= h;
        let fd = (log_likelihood(&up) - log_likelihood(&down)) / (2.0 * h);
        assert!(
            (analytic - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "parameter {i}: analytic {analytic}, finite difference {fd}"
        );
    }
}

/// `model`'s closed-form Hessian (`Likelihood::gradient_and_hessian`) at `params` against central
/// differences of its analytic gradient (relative step 1e-5), entry by entry to 1e-6 of the
/// larger of the difference and the geometric mean of the two diagonal entries; its gradient
/// against `log_likelihood_with_gradient`'s.
pub(crate) fn assert_hessian_matches(model: &impl Likelihood, params: &[f64]) {
    let (gradient, hessian) = model.gradient_and_hessian(params).expect("a closed-form Hessian");
    let (_, expected_gradient) = model.log_likelihood_with_gradient(params);
    for (g, e) in gradient.iter().zip(&expected_gradient) {
        assert!((g - e).abs() <= 1e-12 * (1.0 + e.abs()), "gradient {g} against {e}");
    }
    for j in 0..params.len() {
        let h = 1e-5 * params[j];
        let (mut up, mut down) = (params.to_vec(), params.to_vec());
        up[j] += h;
        down[j] -= h;
        let (_, g_up) = model.log_likelihood_with_gradient(&up);
        let (_, g_down) = model.log_likelihood_with_gradient(&down);
        for i in 0..params.len() {
            let fd = (g_up[i] - g_down[i]) / (2.0 * h);
            let scale = fd.abs().max((hessian[i][i] * hessian[j][j]).abs().sqrt());
            assert!(
                (hessian[i][j] - fd).abs() <= 1e-6 * scale,
                "∂²/∂p{i}∂p{j}: closed form {}, central difference {fd}",
                hessian[i][j]
            );
        }
    }
}

/// A year of month ends in weeks (4.348 each) and a 52-week horizon, with two weight sets over
/// them: each month end's share of the sum discounted at 1% a month (v^m − v^(m+1), v^12 for the
/// last month, 0 at the horizon) and the horizon alone.
pub(crate) fn year_of_month_ends() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let horizons: Vec<f64> = (1..=12).map(|m| m as f64 * 4.348).chain([52.0]).collect();
    let factor = |m: i32| 1.01f64.powi(-m);
    let mut monthly: Vec<f64> = (1..12).map(|m| factor(m) - factor(m + 1)).collect();
    monthly.extend([factor(12), 0.0]);
    let mut at_horizon = vec![0.0; 13];
    at_horizon[12] = 1.0;
    (horizons, monthly, at_horizon)
}
