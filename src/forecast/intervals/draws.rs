//! Parameter vectors drawn from a fit's normal approximation.

use rand::rngs::StdRng;
use statrs::distribution::Normal;

use crate::error::{ClvError, Result};
use crate::mle::cholesky;
use crate::model_file::ModelFit;

/// `draws` parameter vectors from the normal approximation of a fit: u = ln p (logit p where
/// `is_probability`), Cov(u) = J Cov(p) J with J = diag(du/dp), u ~ N(û, Cov(u)), mapped back.
pub fn parameter_draws(
    params: &[f64],
    covariance: &[Vec<f64>],
    is_probability: &[bool],
    draws: usize,
    rng: &mut StdRng,
) -> Option<Vec<Vec<f64>>> {
    let k = params.len();
    let slope = |i: usize| match is_probability[i] {
        true => 1.0 / (params[i] * (1.0 - params[i])),
        false => 1.0 / params[i],
    };
    let cov_u: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| slope(i) * covariance[i][j] * slope(j)).collect())
        .collect();
    let l = cholesky(&cov_u)?;
    let center: Vec<f64> = (0..k)
        .map(|i| match is_probability[i] {
            true => (params[i] / (1.0 - params[i])).ln(),
            false => params[i].ln(),
        })
        .collect();
    let normal = Normal::standard();
    Some(
        (0..draws)
            .map(|_| {
                let z: Vec<f64> = (0..k)
                    .map(|_| rand::distr::Distribution::sample(&normal, rng))
                    .collect();
                (0..k)
                    .map(|i| {
                        let u = center[i] + (0..=i).map(|j| l[i][j] * z[j]).sum::<f64>();
                        match is_probability[i] {
                            true => 1.0 / (1.0 + (-u).exp()),
                            false => u.exp(),
                        }
                    })
                    .collect()
            })
            .collect(),
    )
}

/// `draws` models of the form of `fit` drawn from its normal approximation (`draws_of` at its
/// parameters, `probabilities` on the logit scale), each vector made a model by `model`; an error
/// naming `label` when a vector describes none.
pub(super) fn drawn_models_of<P, M>(
    fit: &ModelFit<P>,
    values: &[f64],
    probabilities: &[&str],
    (draws, rng): (usize, &mut StdRng),
    label: &str,
    model: impl Fn(&[f64]) -> Option<M>,
) -> Result<Vec<M>> {
    draws_of(fit, values, probabilities, (draws, rng), label)?
        .iter()
        .map(|v| model(v))
        .collect::<Option<_>>()
        .ok_or_else(|| ClvError::Model {
            model: "intervals",
            reason: format!("{label}: a parameter vector drawn from the fit's normal approximation describes no model"),
        })
}

/// `draws` parameter vectors of `fit` (at `values`, the fit's parameters in its
/// `parameter_order`; `probabilities` drawn on the logit scale, the rest on the log scale), or
/// why they cannot be drawn, naming `label` and what answers the question instead.
pub(super) fn draws_of<P>(
    fit: &ModelFit<P>,
    values: &[f64],
    probabilities: &[&str],
    (draws, rng): (usize, &mut StdRng),
    label: &str,
) -> Result<Vec<Vec<f64>>> {
    let hint = "--bootstrap N refits resamples of the customers instead, where they can be fitted; without \
                --interval the point forecasts stand";
    let no_intervals = |why: &str| ClvError::Model {
        model: "intervals",
        reason: format!("{label}: {why}, so its parameters' uncertainty cannot be drawn ({hint})"),
    };
    let covariance = fit
        .covariance
        .as_ref()
        .ok_or_else(|| no_intervals("the fit has no covariance (its information matrix is singular)"))?;
    let is_probability: Vec<bool> = fit
        .parameter_order
        .iter()
        .map(|name| probabilities.contains(&name.as_str()))
        .collect();
    let drawn = parameter_draws(values, covariance, &is_probability, draws, rng)
        .ok_or_else(|| no_intervals("its covariance is not positive definite"))?;
    // A parameter the data do not identify can have a standard error thousands of times its
    // estimate: drawn in its log scale it overflows to ∞ or underflows to 0, where no model is.
    let unbounded: Vec<String> = (0..values.len())
        .filter(|&i| {
            drawn
                .iter()
                .any(|d| !(d[i].is_finite() && (is_probability[i] || d[i] > 0.0)))
        })
        .map(|i| {
            let name = fit.parameter_order.get(i).map_or("?", String::as_str);
            let relative = covariance[i][i].sqrt() / values[i];
            format!(
                "{name} = {:.4e} (standard error {relative:.0} times the estimate)",
                values[i]
            )
        })
        .collect();
    match unbounded.is_empty() {
        true => Ok(drawn),
        false => Err(no_intervals(&format!(
            "the data do not identify {}: drawn from the normal approximation, it leaves the range of \
             floating-point numbers",
            unbounded.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn draws_have_the_fits_covariance_in_the_log_scale() {
        // Two parameters, p = (2, 0.5) with Cov(p) chosen so that Cov(ln p) = [[0.04, 0.01],
        // [0.01, 0.09]]: Cov(p_i, p_j) = p_i p_j Cov(ln p)_ij. 20,000 draws recover Cov(ln p) to
        // within a few standard errors (the SE of a variance estimate is σ²·√(2/n) ≈ 0.0004 for
        // 0.04), and the mean of ln p to within 0.003.
        let p = [2.0, 0.5];
        let log_cov = [[0.04, 0.01], [0.01, 0.09]];
        let cov: Vec<Vec<f64>> = (0..2)
            .map(|i| (0..2).map(|j| p[i] * p[j] * log_cov[i][j]).collect())
            .collect();
        let n = 20_000;
        let draws = parameter_draws(&p, &cov, &[false, false], n, &mut StdRng::seed_from_u64(7)).unwrap();
        let logs: Vec<[f64; 2]> = draws.iter().map(|d| [d[0].ln(), d[1].ln()]).collect();
        let mean = |k: usize| logs.iter().map(|l| l[k]).sum::<f64>() / n as f64;
        let (m0, m1) = (mean(0), mean(1));
        assert!(
            (m0 - 2f64.ln()).abs() < 0.003 && (m1 - 0.5f64.ln()).abs() < 0.003,
            "{m0} {m1}"
        );
        let c = |a: usize, b: usize, ma: f64, mb: f64| {
            logs.iter().map(|l| (l[a] - ma) * (l[b] - mb)).sum::<f64>() / (n - 1) as f64
        };
        assert!((c(0, 0, m0, m0) - 0.04).abs() < 0.0015);
        assert!((c(1, 1, m1, m1) - 0.09).abs() < 0.003);
        assert!((c(0, 1, m0, m1) - 0.01).abs() < 0.0015);
        // A probability is drawn on the logit scale: always inside (0, 1).
        let q = parameter_draws(&[0.99], &[vec![0.0001]], &[true], 1000, &mut StdRng::seed_from_u64(1)).unwrap();
        assert!(q.iter().all(|d| d[0] > 0.0 && d[0] < 1.0));
        // A covariance that is not positive definite has no draws.
        assert!(parameter_draws(
            &p,
            &[vec![1.0, 2.0], vec![2.0, 1.0]],
            &[false, false],
            5,
            &mut StdRng::seed_from_u64(1)
        )
        .is_none());
    }
}
