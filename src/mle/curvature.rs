//! The curvature of a log-likelihood at its maximum, in θ = ln(parameters): its Hessian, from the
//! model's closed form or by central differences of the analytic gradient, the covariance it
//! gives, and the small dense linear algebra (Cholesky) both need.

// Small dense matrices: index loops read as the formulas they implement.
#![allow(clippy::needless_range_loop)]

use crate::models::Likelihood;

/// Step in θ for the finite-difference Hessian (relative step in the parameter).
const HESSIAN_STEP: f64 = 1e-5;

/// Total log-likelihood and its gradient with respect to θ = ln(params) (chain rule ∂/∂θ = p ∂/∂p).
pub(super) fn log_space<M: Likelihood>(model: &M, theta: &[f64]) -> (f64, Vec<f64>) {
    let params: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    let (ll, grad) = model.log_likelihood_with_gradient(&params);
    (ll, grad.iter().zip(&params).map(|(g, p)| g * p).collect())
}

/// Hessian of the total log-likelihood in θ: from the model's own (`gradient_and_hessian`) where
/// it has one, by the chain rule ∂²/∂θᵢ∂θⱼ = pᵢpⱼ ∂²/∂pᵢ∂pⱼ + δᵢⱼ pᵢ ∂/∂pᵢ; otherwise by central
/// differences of the analytic gradient, symmetrised.
pub(crate) fn log_space_hessian<M: Likelihood>(model: &M, theta: &[f64]) -> Vec<Vec<f64>> {
    let params: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    if let Some((grad, hessian)) = model.gradient_and_hessian(&params) {
        return (0..theta.len())
            .map(|i| {
                (0..theta.len())
                    .map(|j| params[i] * params[j] * hessian[i][j] + if i == j { params[i] * grad[i] } else { 0.0 })
                    .collect()
            })
            .collect();
    }
    central_difference_hessian(model, theta)
}

/// The Hessian in θ by central differences of the analytic gradient (step `HESSIAN_STEP`),
/// symmetrised: 2k gradient evaluations.
pub(crate) fn central_difference_hessian<M: Likelihood>(model: &M, theta: &[f64]) -> Vec<Vec<f64>> {
    let k = theta.len();
    let mut h = vec![vec![0.0; k]; k];
    for j in 0..k {
        let mut up = theta.to_vec();
        let mut down = theta.to_vec();
        up[j] += HESSIAN_STEP;
        down[j] -= HESSIAN_STEP;
        let (_, g_up) = log_space(model, &up);
        let (_, g_down) = log_space(model, &down);
        for i in 0..k {
            h[i][j] = (g_up[i] - g_down[i]) / (2.0 * HESSIAN_STEP);
        }
    }
    symmetrize(h)
}

fn symmetrize(mut h: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let k = h.len();
    for i in 0..k {
        for j in 0..i {
            let m = 0.5 * (h[i][j] + h[j][i]);
            h[i][j] = m;
            h[j][i] = m;
        }
    }
    h
}

/// Cov(p) from the Hessian of ln L in θ = ln p: Cov(θ) = (−H_θ)⁻¹, then the delta method per
/// element, Cov(p_i, p_j) = p_i p_j Cov(θ_i, θ_j) (the Jacobian of p = e^θ is diag(p)).
pub(super) fn covariance_from_log_hessian(hessian: &[Vec<f64>], params: &[f64]) -> Option<Vec<Vec<f64>>> {
    let information: Vec<Vec<f64>> = hessian.iter().map(|row| row.iter().map(|h| -h).collect()).collect();
    let cov_theta = spd_inverse(&information)?;
    let k = params.len();
    Some(
        (0..k)
            .map(|i| (0..k).map(|j| params[i] * params[j] * cov_theta[i][j]).collect())
            .collect(),
    )
}

/// Cholesky factor L of a symmetric positive-definite matrix (A = L Lᵀ); `None` if not SPD.
pub(crate) fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let k = a.len();
    let mut l = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|m| l[i][m] * l[j][m]).sum::<f64>();
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves A x = b given the Cholesky factor of A.
fn cholesky_solve(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let k = l.len();
    let mut y = vec![0.0; k];
    for i in 0..k {
        y[i] = (b[i] - (0..i).map(|m| l[i][m] * y[m]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        x[i] = (y[i] - (i + 1..k).map(|m| l[m][i] * x[m]).sum::<f64>()) / l[i][i];
    }
    x
}

/// Inverse of a small symmetric positive-definite matrix (by Cholesky); `None` if it is not SPD.
pub fn spd_inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let k = a.len();
    let l = cholesky(a)?;
    let columns: Vec<Vec<f64>> = (0..k)
        .map(|j| cholesky_solve(&l, &(0..k).map(|i| if i == j { 1.0 } else { 0.0 }).collect::<Vec<_>>()))
        .collect();
    Some(symmetrize(
        (0..k).map(|i| (0..k).map(|j| columns[j][i]).collect()).collect(),
    ))
}

/// Newton step H⁻¹ g for a negative-definite H (so θ − H⁻¹ g climbs); `None` if H is not.
pub(super) fn solve_negative_definite(h: &[Vec<f64>], g: &[f64]) -> Option<Vec<f64>> {
    let neg: Vec<Vec<f64>> = h.iter().map(|row| row.iter().map(|v| -v).collect()).collect();
    let l = cholesky(&neg)?;
    Some(cholesky_solve(&l, g).into_iter().map(|s| -s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::Penalized;

    #[test]
    fn spd_inverse_inverts() {
        let a = vec![vec![4.0, 2.0, 0.6], vec![2.0, 5.0, 1.0], vec![0.6, 1.0, 3.0]];
        let inv = spd_inverse(&a).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let e: f64 = (0..3).map(|m| a[i][m] * inv[m][j]).sum();
                assert!((e - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }

    #[test]
    fn the_closed_form_hessian_in_log_parameters_matches_central_differences_with_a_penalty() {
        use crate::models::bg_nbd::BgNbdData;
        let data = BgNbdData::new(
            &[0.0, 2.0, 26.0, 1.0, 5.0, 0.0],
            &[0.0, 30.43, 35.86, 0.5, 20.0, 0.0],
            &[38.86, 38.86, 38.86, 10.0, 20.0, 12.0],
        );
        for penalizer in [0.0, 0.3] {
            let model = Penalized::new(&data, penalizer);
            let theta: Vec<f64> = [0.243f64, 4.414, 0.793, 2.426].iter().map(|p| p.ln()).collect();
            let closed = log_space_hessian(&model, &theta);
            let differences = central_difference_hessian(&model, &theta);
            for i in 0..4 {
                for j in 0..4 {
                    let scale = (differences[i][i] * differences[j][j]).abs().sqrt();
                    assert!(
                        (closed[i][j] - differences[i][j]).abs() <= 1e-7 * scale,
                        "λ {penalizer}, ∂²/∂θ{i}∂θ{j}: {} against {}",
                        closed[i][j],
                        differences[i][j]
                    );
                }
            }
        }
    }
}
