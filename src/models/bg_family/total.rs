//! The BG family's log-likelihood summed over a table of histories, as the fit maximises it,
//! with its penalty centres and start points.

use super::Dropout;
use crate::models::bg_nbd::BgNbdParams;
use crate::models::histories::Histories;
use crate::models::parallel_sum;
use crate::special::{digamma, ln_gamma};

/// What the likelihood needs of one distinct x (with δ extra dropout chances, see `Dropout`).
struct PerFrequency {
    /// A1 + A2 of eq. (6).
    constant: f64,
    d_r: f64,
    d_a: f64,
    d_b: f64,
    r_plus_x: f64,
    /// ln a − ln(b+x+δ−1), when the customer can have dropped out.
    ln_odds: Option<f64>,
    inv_b: f64,
}

/// Σ over customers of `family_log_likelihood` (eq. 6, or MBG/NBD's), from the value tables:
/// the same sum as `weighted_sum` of it, far fewer special-function calls.
pub(crate) fn family_total(histories: &Histories, p: &BgNbdParams, dropout: Dropout) -> (f64, Vec<f64>) {
    let BgNbdParams { r, alpha, a, b } = *p;
    let ln_alpha = alpha.ln();
    let (lg_r, psi_r, lg_b, psi_b) = (ln_gamma(r), digamma(r), ln_gamma(b), digamma(b));
    let (lg_ab, psi_ab) = (ln_gamma(a + b), digamma(a + b));
    let per_x: Vec<PerFrequency> = histories
        .xs
        .iter()
        .map(|&x| {
            let chances = x + dropout.shift();
            let d_ab = psi_ab - digamma(a + b + chances);
            PerFrequency {
                constant: ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + chances)
                    - lg_b
                    - ln_gamma(a + b + chances),
                d_r: digamma(r + x) - psi_r + ln_alpha,
                d_a: d_ab,
                d_b: d_ab + digamma(b + chances) - psi_b,
                r_plus_x: r + x,
                ln_odds: (chances > 0.0).then(|| a.ln() - (b + chances - 1.0).ln()),
                // Used only with the dropped-out share w, which is 0 without a dropout chance
                // (and 0 × 1/(b−1) would be NaN at b = 1).
                inv_b: if chances > 0.0 { 1.0 / (b + chances - 1.0) } else { 0.0 },
            }
        })
        .collect();
    let logs =
        |values: &[f64]| -> Vec<(f64, f64)> { values.iter().map(|&t| ((alpha + t).ln(), 1.0 / (alpha + t))).collect() };
    let (per_recency, per_age) = (logs(&histories.recencies), logs(&histories.ages));
    let (ll, grad) = parallel_sum(&histories.rows, |row| {
        let f = &per_x[row.x as usize];
        let (ln_t, inv_t) = per_age[row.age as usize];
        let a3 = -f.r_plus_x * ln_t;
        // w = share of the likelihood from "dropped out after the last purchase"
        let (ll, w, ln_tx, inv_tx) = match f.ln_odds {
            Some(ln_odds) => {
                let (ln_tx, inv_tx) = per_recency[row.recency as usize];
                let d = ln_odds - f.r_plus_x * ln_tx - a3;
                let e = (-d.abs()).exp();
                let w = if d >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                (f.constant + a3 + d.max(0.0) + e.ln_1p(), w, ln_tx, inv_tx)
            }
            None => (f.constant + a3, 0.0, 0.0, 0.0),
        };
        let g = [
            f.d_r - (1.0 - w) * ln_t - w * ln_tx,
            r / alpha - f.r_plus_x * ((1.0 - w) * inv_t + w * inv_tx),
            f.d_a + w / a,
            f.d_b - w * f.inv_b,
        ];
        (row.weight * ll, g.map(|gi| row.weight * gi))
    });
    (ll, grad.to_vec())
}

/// The BG family's penalty centres (`Likelihood::penalty_centres`).
pub(crate) fn family_penalty_centres(histories: &Histories) -> Vec<f64> {
    // α is in the data's time unit: centred on the mean observation window.
    vec![1.0, histories.means().1.max(f64::MIN_POSITIVE), 1.0, 1.0]
}

/// The BG family's start points (`Likelihood::start_points`).
pub(crate) fn family_start_points(histories: &Histories) -> Vec<Vec<f64>> {
    // Purchase rate r/α ≈ repeat purchases per unit of time observed; a, b at a modest dropout.
    let t = histories.means().1.max(1e-3);
    let rate = (histories.means().0 / t).max(1e-3 / t);
    vec![
        vec![1.0, 1.0 / rate, 1.0, 2.0],
        vec![0.5, 0.5 / rate, 0.5, 2.0],
        vec![2.0, 2.0 / rate, 2.0, 5.0],
        vec![0.1, 0.1 / rate, 0.2, 0.5],
    ]
}
