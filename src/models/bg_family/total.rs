//! The BG family's log-likelihood summed over a table of histories, as the fit maximises it,
//! with its penalty centres and start points.

use super::Dropout;
use crate::models::bg_nbd::BgNbdParams;
use crate::models::histories::{Histories, IndexedRow};
use crate::models::parallel_sum;
use crate::special::{digamma, ln_gamma, trigamma};

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
    /// Second derivatives of A1 + A2 (zeros when the Hessian is not asked for): ∂²/∂r² =
    /// ψ′(r+x) − ψ′(r); ∂²/∂a² = ∂²/∂a∂b = ψ′(a+b) − ψ′(a+b+x+δ); ∂²/∂b² = that + ψ′(b+x+δ) − ψ′(b).
    curvature: [f64; 3],
}

/// The value tables of one evaluation at `p`: what depends on x alone, per distinct x, and
/// (ln(α+t), 1/(α+t)) per distinct t_x and per distinct T.
struct Tables {
    p: BgNbdParams,
    per_x: Vec<PerFrequency>,
    per_recency: Vec<(f64, f64)>,
    per_age: Vec<(f64, f64)>,
}

impl Tables {
    fn new(histories: &Histories, p: &BgNbdParams, dropout: Dropout, curvature: bool) -> Self {
        let BgNbdParams { r, alpha, a, b } = *p;
        let ln_alpha = alpha.ln();
        let (lg_r, psi_r, lg_b, psi_b) = (ln_gamma(r), digamma(r), ln_gamma(b), digamma(b));
        let (lg_ab, psi_ab) = (ln_gamma(a + b), digamma(a + b));
        let (tri_r, tri_b, tri_ab) = match curvature {
            true => (trigamma(r), trigamma(b), trigamma(a + b)),
            false => (0.0, 0.0, 0.0),
        };
        let per_x = histories
            .xs
            .iter()
            .map(|&x| {
                let chances = x + dropout.shift();
                let d_ab = psi_ab - digamma(a + b + chances);
                let curvature = match curvature {
                    true => {
                        let c_ab = tri_ab - trigamma(a + b + chances);
                        [trigamma(r + x) - tri_r, c_ab, c_ab + trigamma(b + chances) - tri_b]
                    }
                    false => [0.0; 3],
                };
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
                    curvature,
                }
            })
            .collect();
        let logs = |values: &[f64]| -> Vec<(f64, f64)> {
            values.iter().map(|&t| ((alpha + t).ln(), 1.0 / (alpha + t))).collect()
        };
        Self {
            p: *p,
            per_x,
            per_recency: logs(&histories.recencies),
            per_age: logs(&histories.ages),
        }
    }

    /// One history's log-likelihood, ln L = A1 + A2 + ln(e^A3 + e^A4), with what its
    /// derivatives need.
    fn row(&self, row: &IndexedRow) -> Row<'_> {
        let f = &self.per_x[row.x as usize];
        let (ln_t, inv_t) = self.per_age[row.age as usize];
        let a3 = -f.r_plus_x * ln_t;
        let (ll_but_tail, tail, w, ln_tx, inv_tx) = match f.ln_odds {
            Some(ln_odds) => {
                let (ln_tx, inv_tx) = self.per_recency[row.recency as usize];
                let d = ln_odds - f.r_plus_x * ln_tx - a3;
                let e = (-d.abs()).exp();
                let w = if d >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                (f.constant + a3 + d.max(0.0), Some(e), w, ln_tx, inv_tx)
            }
            None => (f.constant + a3, None, 0.0, 0.0, 0.0),
        };
        Row {
            f,
            ll_but_tail,
            tail,
            w,
            ln_t,
            inv_t,
            ln_tx,
            inv_tx,
        }
    }
}

/// One history's terms: with u = A3 = −(r+x) ln(α+T) and v = A4 = ln a − ln(b+x+δ−1) −
/// (r+x) ln(α+t_x), ln L = A1 + A2 + ln(e^u + e^v), and w = e^v/(e^u + e^v) the share of the
/// likelihood from "dropped out after the last purchase" (0 without a dropout chance).
struct Row<'a> {
    f: &'a PerFrequency,
    /// ln L but its last term ln(1 + e^−|u−v|), and that term's e^−|u−v| (`None` without a
    /// dropout chance): the term is taken only when ln L is asked for (`ll`), not by the
    /// Hessian's pass, which needs w alone.
    ll_but_tail: f64,
    tail: Option<f64>,
    w: f64,
    ln_t: f64,
    inv_t: f64,
    ln_tx: f64,
    inv_tx: f64,
}

impl Row<'_> {
    /// ln L = A1 + A2 + max(u, v) + ln(1 + e^−|u−v|).
    fn ll(&self) -> f64 {
        match self.tail {
            Some(e) => self.ll_but_tail + e.ln_1p(),
            None => self.ll_but_tail,
        }
    }

    /// ∂ ln L / ∂(r, α, a, b) = ∂(A1 + A2) + (1−w) ∂u + w ∂v.
    fn gradient(&self, p: &BgNbdParams) -> [f64; 4] {
        let Row {
            f,
            w,
            ln_t,
            inv_t,
            ln_tx,
            inv_tx,
            ..
        } = *self;
        [
            f.d_r - (1.0 - w) * ln_t - w * ln_tx,
            p.r / p.alpha - f.r_plus_x * ((1.0 - w) * inv_t + w * inv_tx),
            f.d_a + w / p.a,
            f.d_b - w * f.inv_b,
        ]
    }

    /// The upper triangle of ∂² ln L (rows r, α, a, b: rr, rα, ra, rb, αα, αa, αb, aa, ab, bb):
    /// ∂²(A1 + A2) + (1−w) ∂²u + w ∂²v + w(1−w) Δ Δᵀ, Δ = ∂v − ∂u =
    /// (ln(α+T) − ln(α+t_x), (r+x)(1/(α+T) − 1/(α+t_x)), 1/a, −1/(b+x+δ−1)).
    fn hessian(&self, p: &BgNbdParams) -> [f64; 10] {
        let (f, w, inv_t, inv_tx) = (self.f, self.w, self.inv_t, self.inv_tx);
        let [c_rr, c_ab, c_bb] = f.curvature;
        let s = w * (1.0 - w);
        let delta = [
            self.ln_t - self.ln_tx,
            f.r_plus_x * (inv_t - inv_tx),
            1.0 / p.a,
            -f.inv_b,
        ];
        let outer = |i: usize, j: usize| s * delta[i] * delta[j];
        [
            c_rr + outer(0, 0),
            1.0 / p.alpha - (1.0 - w) * inv_t - w * inv_tx + outer(0, 1),
            outer(0, 2),
            outer(0, 3),
            -p.r / (p.alpha * p.alpha) + f.r_plus_x * ((1.0 - w) * inv_t * inv_t + w * inv_tx * inv_tx) + outer(1, 1),
            outer(1, 2),
            outer(1, 3),
            c_ab - w / (p.a * p.a) + outer(2, 2),
            c_ab + outer(2, 3),
            c_bb + w * f.inv_b * f.inv_b + outer(3, 3),
        ]
    }
}

/// Σ over customers of `family_log_likelihood` (eq. 6, or MBG/NBD's), from the value tables:
/// the same sum as `weighted_sum` of it, far fewer special-function calls.
pub(crate) fn family_total(histories: &Histories, p: &BgNbdParams, dropout: Dropout) -> (f64, Vec<f64>) {
    let tables = Tables::new(histories, p, dropout, false);
    let (ll, grad) = parallel_sum(&histories.rows, |row| {
        let terms = tables.row(row);
        (
            row.weight * terms.ll(),
            terms.gradient(&tables.p).map(|gi| row.weight * gi),
        )
    });
    (ll, grad.to_vec())
}

/// The gradient and Hessian of `family_total` in (r, α, a, b) (`Likelihood::gradient_and_hessian`),
/// in one pass over the rows: the fit's covariance without the 8 gradients of central differences.
pub(crate) fn family_gradient_and_hessian(
    histories: &Histories,
    p: &BgNbdParams,
    dropout: Dropout,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let tables = Tables::new(histories, p, dropout, true);
    let (_, sums) = parallel_sum(&histories.rows, |row| {
        let terms = tables.row(row);
        let mut both = [0.0; 14];
        both[..4].copy_from_slice(&terms.gradient(&tables.p));
        both[4..].copy_from_slice(&terms.hessian(&tables.p));
        (0.0, both.map(|v| row.weight * v))
    });
    let [g_r, g_alpha, g_a, g_b, rr, r_alpha, ra, rb, alpha_alpha, alpha_a, alpha_b, aa, ab, bb] = sums;
    let hessian = vec![
        vec![rr, r_alpha, ra, rb],
        vec![r_alpha, alpha_alpha, alpha_a, alpha_b],
        vec![ra, alpha_a, aa, ab],
        vec![rb, alpha_b, ab, bb],
    ];
    (vec![g_r, g_alpha, g_a, g_b], hessian)
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

#[cfg(test)]
mod tests {
    use crate::models::bg_nbd::BgNbdData;
    use crate::models::mbg_nbd::MbgNbdData;
    use crate::test_support::*;

    /// Histories of every kind the sum meets: no repeat purchase (no dropout chance in BG/NBD,
    /// one in MBG/NBD), the last purchase long before T, at T, and many purchases; one count above 1.
    fn histories() -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let rows = [
            (0.0, 0.0, 38.86, 3.0),
            (2.0, 30.43, 38.86, 1.0),
            (26.0, 35.86, 38.86, 1.0),
            (1.0, 0.5, 10.0, 2.0),
            (5.0, 20.0, 20.0, 1.0),
            (3.0, 1.0, 70.0, 1.0),
        ];
        (
            rows.iter().map(|r| r.0).collect(),
            rows.iter().map(|r| r.1).collect(),
            rows.iter().map(|r| r.2).collect(),
            rows.iter().map(|r| r.3).collect(),
        )
    }

    #[test]
    fn the_hessian_matches_central_differences_of_the_gradient() {
        let (x, t_x, t, counts) = histories();
        let bg = BgNbdData(crate::models::histories::Histories::with_counts(
            &x,
            &t_x,
            &t,
            Some(&counts),
        ));
        let mbg = MbgNbdData(bg.0.clone());
        // The paper's estimates, a point where b < 1, and one where dropout dominates.
        for params in [
            BG_NBD_PAPER.to_vec(),
            vec![1.3, 2.0, 3.0, 0.6],
            vec![0.05, 40.0, 12.0, 1.5],
        ] {
            assert_hessian_matches(&bg, &params);
            assert_hessian_matches(&mbg, &params);
        }
    }
}
