//! The NBD model (Ehrenberg 1959; BTYDplus' `nbd`): every customer buys at her own Poisson rate
//! λ ~ Gamma(r, α) and never drops out. The baseline of every BTYD comparison: BG/NBD and
//! Pareto/NBD are this purchase process with a dropout added.
//!
//! The likelihood is BG/NBD's eq. (6) (Fader, Hardie & Lee 2005) without the dropout: its A1·A3
//! term, the purchase process alone. Its limit r, α → ∞ with r/α = λ (every customer buys at the
//! same rate: Poisson purchases) is the maximum when the data's rates vary less than any gamma
//! allows; `PurchaseRate` holds both, and this file's model is that rate with nothing else.

use serde::{Deserialize, Serialize};

use super::histories::Histories;
use super::purchase_rate::PurchaseRate;
use super::{Likelihood, PurchaseModel};

/// The NBD model: a gamma purchase rate `{r, alpha}`, or at its limit one Poisson rate `{lambda}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Nbd(pub PurchaseRate);

impl PurchaseModel for Nbd {
    /// Nobody drops out: P(alive | x, t_x, T) = 1.
    fn p_alive(&self, _x: f64, _t_x: f64, _t: f64) -> Option<f64> {
        Some(1.0)
    }

    /// E[Y(t) | x, t_x, T] = E[Y(t) | x, T, alive], as P(alive) = 1.
    fn conditional_expected_purchases(&self, horizon: f64, x: f64, _t_x: f64, t: f64) -> Option<f64> {
        self.expected_purchases_if_alive(horizon, x, t)
    }

    /// E[Y(t) | x, T, alive] = t · (r+x)/(α+T): λ's posterior given x purchases in T is
    /// Gamma(r+x, α+T) (eq. 6's A1·A3 as a function of λ), or t·λ at the limit.
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> Option<f64> {
        Some(horizon.max(0.0) * self.0.mean_if_alive(x, t))
    }

    /// DERT = δ ∫₀^∞ e^(−δt) t · (r+x)/(α+T) dt = (r+x)/((α+T) δ): purchases at the posterior mean
    /// rate forever, discounted (or λ/δ at the limit).
    fn dert_if_alive_in_closed_form(&self, delta: f64, x: f64, t: f64) -> Option<f64> {
        let value = self.0.mean_if_alive(x, t) / delta;
        value.is_finite().then_some(value)
    }

    /// E[X(t)] = r·t/α (the gamma mixture's mean rate times t), or λ·t.
    fn expected_purchases(&self, horizon: f64) -> Option<f64> {
        Some(horizon.max(0.0) * self.0.mean_if_alive(0.0, 0.0))
    }

    /// P(X(t) = n) = Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n, the negative binomial (BG/NBD's
    /// eq. 8 without its dropout term), or the Poisson probability of mean λt.
    fn probability_of_purchases(&self, horizon: f64, n: u64) -> Option<f64> {
        Some(self.0.ln_purchases_in(n as f64, horizon).exp())
    }

    /// P(Y(t) = 0 | x, t_x, T) = ((α+T)/(α+T+t))^(r+x), or e^(−λt).
    fn probability_of_no_purchase(&self, horizon: f64, x: f64, _t_x: f64, t: f64) -> Option<f64> {
        Some(self.0.ln_none_while_alive(x, t, horizon.max(0.0)).exp())
    }

    /// Nobody drops out: the negative binomial at λ's posterior Gamma(r+x, α+T), or the Poisson
    /// probability of mean λt.
    fn probability_of_purchases_if_alive(&self, horizon: f64, k: u64, x: f64, t: f64) -> Option<f64> {
        let posterior = match self.0 {
            PurchaseRate::Gamma { r, alpha } => PurchaseRate::Gamma {
                r: r + x,
                alpha: alpha + t,
            },
            common => common,
        };
        Some(posterior.ln_purchases_in(k as f64, horizon).exp())
    }
}

/// The NBD likelihood over the distinct customer histories, in (r, α), or in λ at the limit.
pub struct NbdData<'a> {
    pub histories: &'a Histories,
    /// Fit the limit: one Poisson rate λ for every customer.
    pub common_rate: bool,
}

impl NbdData<'_> {
    /// The purchase rate of a parameter vector in `parameter_names` order.
    pub fn rate(&self, params: &[f64]) -> PurchaseRate {
        match self.common_rate {
            true => PurchaseRate::Common { lambda: params[0] },
            false => PurchaseRate::Gamma {
                r: params[0],
                alpha: params[1],
            },
        }
    }
}

impl Likelihood for NbdData<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        match self.common_rate {
            true => &["lambda"],
            false => &["r", "alpha"],
        }
    }

    /// Σ over customers of eq. (6)'s A1·A3 (Fader, Hardie & Lee 2005): ln Γ(r+x) − ln Γ(r) + r ln α
    /// − (r+x) ln(α+T), written without cancellation for large r and α, or x ln λ − λT.
    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let rate = self.rate(params);
        let (ll, mut gradient) = self
            .histories
            .weighted_sum(|x, _t_x, t| rate.ln_purchases_while_alive_with_gradient(x, t));
        gradient.truncate(params.len());
        (ll, gradient)
    }

    /// The gradient and Hessian in (r, α) or λ, summed over the distinct histories
    /// (`PurchaseRate::ln_purchases_while_alive_curvature`).
    fn gradient_and_hessian(&self, params: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
        let rate = self.rate(params);
        let (_, sums) = self.histories.weighted_sum(|x, _t_x, t| {
            let (_, [d_r, d_alpha]) = rate.ln_purchases_while_alive_with_gradient(x, t);
            let [rr, r_alpha, alpha_alpha] = rate.ln_purchases_while_alive_curvature(x, t);
            (0.0, [d_r, d_alpha, rr, r_alpha, alpha_alpha])
        });
        let [d_r, d_alpha, rr, r_alpha, alpha_alpha] = sums[..] else {
            return None;
        };
        Some(match self.common_rate {
            true => (vec![d_r], vec![vec![rr]]),
            false => (vec![d_r, d_alpha], vec![vec![rr, r_alpha], vec![r_alpha, alpha_alpha]]),
        })
    }

    fn n_customers(&self) -> f64 {
        self.histories.n_customers()
    }

    fn penalty_centres(&self) -> Vec<f64> {
        // α is in the data's time unit (centred on the mean observation window), λ in its inverse.
        let (_, mean_t) = self.histories.means();
        let mean_t = mean_t.max(f64::MIN_POSITIVE);
        match self.common_rate {
            true => vec![1.0 / mean_t],
            false => vec![1.0, mean_t],
        }
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        // The rate r/α ≈ repeat purchases per unit of time observed.
        let (mean_frequency, mean_t) = self.histories.means();
        let t = mean_t.max(1e-3);
        let rate = (mean_frequency / t).max(1e-3 / t);
        match self.common_rate {
            true => vec![vec![rate]],
            false => vec![vec![1.0, 1.0 / rate], vec![0.3, 0.3 / rate], vec![5.0, 5.0 / rate]],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDNOW: Nbd = Nbd(PurchaseRate::Gamma {
        r: 0.384767674051841,
        alpha: 12.0720849909709,
    });

    fn close(a: f64, b: f64, tolerance: f64) {
        assert!((a - b).abs() <= tolerance * b.abs().max(1e-300), "{a} vs {b}");
    }

    #[test]
    fn the_hessian_matches_central_differences_of_the_gradient() {
        use crate::test_support::assert_hessian_matches;
        let histories = Histories::with_counts(
            &[0.0, 2.0, 26.0, 1.0, 5.0],
            &[0.0, 30.43, 35.86, 0.5, 20.0],
            &[38.86, 38.86, 38.86, 10.0, 20.0],
            Some(&[3.0, 1.0, 1.0, 2.0, 1.0]),
        );
        let gamma = NbdData {
            histories: &histories,
            common_rate: false,
        };
        // CDNOW's estimates, and far toward the Poisson limit (r ≥ 1000: the stable difference).
        for params in [vec![0.385, 12.07], vec![5000.0, 20000.0]] {
            assert_hessian_matches(&gamma, &params);
        }
        let common = NbdData {
            histories: &histories,
            common_rate: true,
        };
        assert_hessian_matches(&common, &[0.25]);
    }

    #[test]
    fn forecasts_match_the_gamma_poisson_closed_forms() {
        // By hand at r = 0.384767674051841, α = 12.0720849909709 (mpmath, 30 digits):
        // E[X(39)] = r·39/α = 1.2430279690...; E[Y(39) | x = 2, T = 38.86] = 39·(r+2)/(α+38.86)
        // = 1.8260775953...; P(Y(39) = 0 | 2, 38.86) = ((α+38.86)/(α+77.86))^(r+2) = 0.2577184541...
        close(CDNOW.expected_purchases(39.0).unwrap(), 1.243027969008272, 1e-13);
        close(
            CDNOW.conditional_expected_purchases(39.0, 2.0, 30.43, 38.86).unwrap(),
            1.82607759538039,
            1e-13,
        );
        close(
            CDNOW.probability_of_no_purchase(39.0, 2.0, 30.43, 38.86).unwrap(),
            0.2577184541452358,
            1e-12,
        );
        assert_eq!(CDNOW.p_alive(2.0, 30.43, 38.86), Some(1.0));
        // DERT = (r+x)/((α+T) δ) at δ = 0.002 = 23.411251222825514 (mpmath, 30 digits), and as
        // `forecast::dert` integrates it for every model.
        let dert = CDNOW.dert_if_alive_in_closed_form(0.002, 2.0, 38.86).unwrap();
        close(dert, 23.411251222825514, 1e-15);
        let integrated = crate::forecast::dert::integrated_dert_if_alive(&CDNOW, 0.002, 2.0, 38.86).unwrap();
        close(dert, integrated, 1e-9);
    }

    #[test]
    fn purchase_probabilities_are_the_negative_binomial() {
        // P(X(39) = n), mpmath's binomial(n + r − 1, n) (α/(α+39))^r (39/(α+39))^n:
        // n = 0: 0.5740913818..., n = 1: 0.1686788472..., n = 5: 0.0234262028...
        let p = |n| CDNOW.probability_of_purchases(39.0, n).unwrap();
        close(p(0), 0.5740913818133323, 1e-12);
        close(p(1), 0.1686788472174266, 1e-12);
        close(p(5), 0.02342620282171676, 1e-11);
        let total: f64 = (0..3000).map(p).sum();
        close(total, 1.0, 1e-12);
    }
}
