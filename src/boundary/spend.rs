//! The spend model at its boundary: Gamma-Gamma, or its limit in which every customer's
//! transaction values have the same gamma rate ν (q, v → ∞ with q/v = ν), or its limit in which
//! each customer always spends her own mean (p → ∞ with p·v = s), checked as the purchase
//! models' limits are (module notes).

use super::{
    brief, first_better_inside, limit_text, simplest_of_the_best, Restarted, NEAR_LIMIT, SAME_LIKELIHOOD_PER_CUSTOMER,
};
use crate::error::Result;
use crate::mle::{maximize, FitOptions, MleFit};
use crate::model_file::ModelFit;
use crate::models::gamma_gamma::{
    ConstantSpend, ConstantSpendData, GammaGammaData, GammaGammaParams, HomogeneousSpend, HomogeneousSpendData,
    SpendParams,
};
use crate::models::Likelihood;
use crate::warnings::FitWarning;

const LABEL: &str = "Gamma-Gamma";
/// What the homogeneous-spend limit is, for its `limit` text.
const HOMOGENEOUS_SPEND: &str =
    "every customer's transaction values are Gamma(p, nu) with the same rate nu (the limit \
                                 q, v → ∞ with q/v = nu), so every customer is forecast the same spend p/nu";
/// The 95% point of the χ² distribution with one degree of freedom.
const CHI_SQUARE_1_95: f64 = 3.841458820694124;

/// Fits the spend model: Gamma-Gamma's interior maximum when there is one, else whichever of its
/// limits (homogeneous spend, constant spend per customer) is a maximum.
pub fn fit_spend(data: &GammaGammaData, options: &FitOptions) -> Result<ModelFit<SpendParams>> {
    let interior = maximize(data, LABEL, options);
    let heading_for_limit = match &interior {
        Ok(fit) => !fit.warnings.is_empty() || 1.0 / fit.params[1] < NEAR_LIMIT || 1.0 / fit.params[0] < NEAR_LIMIT,
        Err(_) => true,
    };
    let to_interior =
        |fit: MleFit| ModelFit::from_mle(fit, |v| SpendParams::GammaGamma(GammaGammaParams::from_slice(v)));
    if !heading_for_limit || options.penalizer() > 0.0 {
        return interior.map(to_interior);
    }
    let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * data.n_customers();
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    let mut restart = None;
    let mut almost = None;
    // Where the homogeneous limit stands among the candidates, when it is a maximum.
    let mut homogeneous = None;
    match maximize(&HomogeneousSpendData(data), LABEL, &options.unpenalized()) {
        Err(e) => rejected.push(format!("homogeneous spend: {}", brief(&e))),
        Ok(fit) => {
            let (p, nu, ll) = (fit.params[0], fit.params[1], fit.log_likelihood);
            // The full model just inside the limit, at q = 1/h with the same q/v.
            let better_inside = first_better_inside(ll, tolerance, |h| {
                data.log_likelihood_with_gradient(&[p, 1.0 / h, 1.0 / (h * nu)]).0
            })
            .map(|(h, inside_ll)| (1.0 / h, inside_ll));
            let mut stored = ModelFit::from_mle(fit, |v| {
                SpendParams::Homogeneous(HomogeneousSpend { p: v[0], nu: v[1] })
            });
            stored.limit = Some(limit_text("homogeneous spend", HOMOGENEOUS_SPEND));
            match better_inside {
                Some((q, inside_ll)) => {
                    // The maximum lies inside, near the limit: a start for the full model there.
                    restart = Some(vec![p, q, q / nu]);
                    rejected.push(format!(
                        "homogeneous spend: not a maximum (log-likelihood {ll:.4}; at q = {q:.0} it is {inside_ll:.4})"
                    ));
                    // Should that start not settle either, the limit stands in where the data
                    // cannot tell it from the rise inside.
                    let gain = inside_ll - ll;
                    if cannot_tell_apart(gain) {
                        mark_almost_maximum(&mut stored, q, gain);
                        almost = Some(stored);
                    }
                }
                None => {
                    homogeneous = Some(candidates.len());
                    candidates.push((ll, 2, stored));
                }
            }
        }
    }
    match maximize(&ConstantSpendData(data), LABEL, &options.unpenalized()) {
        Err(e) => rejected.push(format!("constant spend per customer: {}", brief(&e))),
        Ok(fit) => {
            let (q, scale, ll) = (fit.params[0], fit.params[1], fit.log_likelihood);
            // The full model just inside the limit, at p = 1/h with the same p·v.
            let better_inside = first_better_inside(ll, tolerance, |h| {
                data.log_likelihood_with_gradient(&[1.0 / h, q, scale * h]).0
            })
            .map(|(h, inside_ll)| (1.0 / h, inside_ll));
            match better_inside {
                Some((p, inside_ll)) => rejected.push(format!(
                    "constant spend per customer: not a maximum (log-likelihood {ll:.4}; at p = {p:.0} it is \
                     {inside_ll:.4})"
                )),
                None => {
                    let mut stored =
                        ModelFit::from_mle(fit, |v| SpendParams::Constant(ConstantSpend { q: v[0], s: v[1] }));
                    stored.limit = Some(limit_text(
                        "constant spend per customer",
                        "each customer's transactions are all worth her own mean (the limit p → ∞ with p·v = s: no \
                         spread within a customer), inverse-gamma across customers, so a customer with repeat \
                         purchases is forecast her own mean spend",
                    ));
                    candidates.push((ll, 2, stored));
                }
            }
        }
    }
    let interior = match (interior, restart) {
        (Err(_), Some(start)) => refit_near_limit(data, start, options),
        (interior, _) => interior,
    };
    // An interior maximum whose q the data do not identify, no higher than the homogeneous limit
    // by more than the data can tell: the limit stands in, which has the same forecasts with one
    // parameter fewer and none unidentified (q ~ 10⁷ ± 2·10⁹ would leave no interval).
    let limit_stands_in = match (&interior, homogeneous) {
        (Ok(fit), Some(at)) => {
            let gain = fit.log_likelihood - candidates[at].0;
            (not_identified(fit, "q") && cannot_tell_apart(gain)).then_some((at, fit.params[1], gain))
        }
        _ => None,
    };
    if let Some((at, q, gain)) = limit_stands_in {
        mark_almost_maximum(&mut candidates[at].2, q, gain);
    }
    let interior_error = match interior {
        Ok(_) if limit_stands_in.is_some() => None,
        Ok(fit) => {
            candidates.push((fit.log_likelihood, 3, to_interior(fit)));
            None
        }
        Err(e) => {
            if let Some(limit) = almost.take() {
                candidates.push((limit.log_likelihood, 2, limit));
            }
            Some(e)
        }
    };
    simplest_of_the_best(candidates, tolerance, LABEL, interior_error, &rejected)
}

/// Whether the data can not tell a limit from the full model's maximum `gain` above it inside:
/// a likelihood-ratio statistic 2·gain below χ²₁'s 95% point.
fn cannot_tell_apart(gain: f64) -> bool {
    2.0 * gain < CHI_SQUARE_1_95
}

/// Whether `fit` warns that the data do not identify `parameter`.
fn not_identified(fit: &MleFit, parameter: &str) -> bool {
    fit.warnings
        .iter()
        .any(|w| matches!(w, FitWarning::NotIdentified { parameter: p, .. } if p == parameter))
}

/// Marks the homogeneous-spend limit as standing in for a maximum `gain` higher inside it, at
/// q = `q`, that the data cannot tell from it.
fn mark_almost_maximum(limit: &mut ModelFit<SpendParams>, q: f64, gain: f64) {
    limit.limit = Some(format!(
        "homogeneous spend: {HOMOGENEOUS_SPEND}; the data's likelihood is as high there as the data can tell"
    ));
    limit.warnings.push(FitWarning::LimitAlmostMaximum {
        parameter: "q".into(),
        value: q,
        gain,
    });
}

/// The interior maximum next to the limit, where the likelihood is nearly flat along q with q/v
/// fixed and L-BFGS in (ln p, ln q, ln v) stalls in the curved valley: fitted in (p, q, ν = q/v),
/// where the valley is one axis, from `start`; then confirmed in (p, q, v), which gives the
/// covariance.
fn refit_near_limit(data: &GammaGammaData, start: Vec<f64>, options: &FitOptions) -> Result<MleFit> {
    let options = &options.unpenalized();
    let fit = maximize(
        &ShapeAndMeanRate {
            data,
            start: start.clone(),
        },
        LABEL,
        options,
    )?;
    let [p, q, nu] = [fit.params[0], fit.params[1], fit.params[2]];
    maximize(
        &Restarted {
            model: data,
            starts: vec![vec![p, q, q / nu]],
            search_tolerance: data.search_gradient_tolerance(),
        },
        LABEL,
        options,
    )
}

/// Gamma-Gamma's likelihood over (p, q, ν) with v = q/ν, ν the mean rate of the values' gamma.
struct ShapeAndMeanRate<'a> {
    data: &'a GammaGammaData,
    /// (p, q, v)
    start: Vec<f64>,
}

impl Likelihood for ShapeAndMeanRate<'_> {
    fn parameter_names(&self) -> &'static [&'static str] {
        &["p", "q", "nu"]
    }

    fn log_likelihood_with_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let [p, q, nu] = [params[0], params[1], params[2]];
        let (ll, g) = self.data.log_likelihood_with_gradient(&[p, q, q / nu]);
        // v = q/ν: ∂/∂q = ∂/∂q + (1/ν) ∂/∂v, ∂/∂ν = −(q/ν²) ∂/∂v.
        (ll, vec![g[0], g[1] + g[2] / nu, -g[2] * q / (nu * nu)])
    }

    fn n_customers(&self) -> f64 {
        self.data.n_customers()
    }

    fn start_points(&self) -> Vec<Vec<f64>> {
        let [p, q, v] = [self.start[0], self.start[1], self.start[2]];
        vec![vec![p, q, q / v]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::gamma_gamma::GammaGammaData;
    use crate::test_support::assert_close;

    #[test]
    fn spends_that_barely_vary_fit_the_homogeneous_limit_at_its_closed_form_mean() {
        // 200 customers of nine repeat purchases each, worth 10.00 or 10.01: mean repeat spends
        // 90.05/9 and 90.04/9, a spread of 5.6e-5 of the mean. Every earlier start point failed
        // here (the likelihood's terms are ~6e9 at p ~ 3.6e7), and the run printed "Gamma-Gamma
        // fit did not converge" four times over. The homogeneous limit's maximum solves
        // Σ x (p/ν − z̄) = 0, so p/ν = the mean z̄ = 10.005, and, with that,
        // ln(9p) − ψ(9p) = −½ [ln(z̄₁/10.005) + ln(z̄₂/10.005)], which 40-digit mpmath's findroot
        // solves as p = 36036008.962962962925. Along ln p (p/ν fixed) the curvature is about ½ per
        // customer, so the stopping rule (mle's gradient and Newton-gain tolerances) leaves up to
        // ~2e-7 in ln p; the mean is pinned to rounding.
        let frequency = vec![9.0; 200];
        let monetary: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 90.05 / 9.0 } else { 90.04 / 9.0 })
            .collect();
        let fit = fit_spend(&GammaGammaData::new(&frequency, &monetary), &FitOptions::default()).unwrap();
        let SpendParams::Homogeneous(HomogeneousSpend { p, nu }) = fit.params else {
            panic!("expected the homogeneous limit, got {:?}", fit.params);
        };
        assert!(fit.limit.as_deref().unwrap().starts_with("homogeneous spend:"));
        assert_close(p / nu, 10.005, 1e-12);
        assert_close(p, 36036008.96296296, 1e-6);
    }

    #[test]
    fn an_interior_maximum_the_data_cannot_tell_from_the_homogeneous_limit_gives_way_to_it() {
        // The spend of fit_corpus's log where nobody leaves (tests/common's
        // log_where_nobody_leaves(2000, 0): every price 9.99 or 19.99, for everybody) as `clv
        // summarize` writes it: (x, z̄, customers). Gamma-Gamma's likelihood rises toward the limit
        // q, v → ∞ with q/v fixed, and then a hair more: its maximum lies at q ≈ 8.6e6, 2.3e-5
        // above the limit (more than the 1.8e-5 within which two fits count as equal), and q's
        // standard error there is about 240 times q. The limit stands in, saying so.
        let rows: [(f64, f64, f64); 54] = [
            (1.0, 9.99, 141.0),
            (1.0, 19.99, 111.0),
            (2.0, 9.99, 56.0),
            (2.0, 14.99, 138.0),
            (2.0, 19.99, 55.0),
            (2.0, 24.985, 1.0),
            (3.0, 9.99, 20.0),
            (3.0, 13.3233333333, 102.0),
            (3.0, 16.6533333333, 3.0),
            (3.0, 16.6566666667, 92.0),
            (3.0, 19.9866666667, 3.0),
            (3.0, 19.99, 31.0),
            (3.0, 23.32, 1.0),
            (4.0, 9.99, 13.0),
            (4.0, 12.4875, 1.0),
            (4.0, 12.49, 63.0),
            (4.0, 14.9875, 1.0),
            (4.0, 14.99, 99.0),
            (4.0, 17.4875, 3.0),
            (4.0, 17.49, 53.0),
            (4.0, 19.9875, 5.0),
            (4.0, 19.99, 17.0),
            (4.0, 22.4875, 1.0),
            (4.0, 24.985, 1.0),
            (4.0, 24.9875, 1.0),
            (5.0, 9.99, 4.0),
            (5.0, 11.99, 43.0),
            (5.0, 13.99, 77.0),
            (5.0, 15.988, 5.0),
            (5.0, 15.99, 75.0),
            (5.0, 17.988, 6.0),
            (5.0, 17.99, 29.0),
            (5.0, 19.988, 3.0),
            (5.0, 19.99, 12.0),
            (5.0, 21.988, 2.0),
            (6.0, 9.99, 4.0),
            (6.0, 11.6566666667, 22.0),
            (6.0, 13.3216666667, 1.0),
            (6.0, 13.3233333333, 59.0),
            (6.0, 14.9883333333, 1.0),
            (6.0, 14.99, 76.0),
            (6.0, 16.655, 7.0),
            (6.0, 16.6566666667, 44.0),
            (6.0, 18.3216666667, 6.0),
            (6.0, 18.3233333333, 32.0),
            (6.0, 19.9883333333, 2.0),
            (6.0, 19.99, 5.0),
            (7.0, 11.4185714286, 8.0),
            (7.0, 12.8471428571, 41.0),
            (7.0, 14.2757142857, 66.0),
            (7.0, 15.7042857143, 60.0),
            (7.0, 17.1328571429, 43.0),
            (7.0, 18.5614285714, 14.0),
            (7.0, 19.99, 2.0),
        ];
        let column = |f: fn(&(f64, f64, f64)) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
        let counts = column(|r| r.2);
        let data = GammaGammaData::with_counts(&column(|r| r.0), &column(|r| r.1), Some(&counts));
        let interior = maximize(&data, LABEL, &FitOptions::default()).unwrap();
        assert!(not_identified(&interior, "q"), "{:?}", interior.warnings);
        let fit = fit_spend(&data, &FitOptions::default()).unwrap();
        assert!(matches!(fit.params, SpendParams::Homogeneous(_)), "{:?}", fit.params);
        assert!(fit
            .limit
            .as_deref()
            .unwrap()
            .ends_with("as high there as the data can tell"));
        let [FitWarning::LimitAlmostMaximum { parameter, value, gain }] = &fit.warnings[..] else {
            panic!("{:?}", fit.warnings);
        };
        let tolerance = SAME_LIKELIHOOD_PER_CUSTOMER * data.n_customers();
        assert_eq!((parameter.as_str(), *value), ("q", interior.params[1]));
        assert_close(*gain, interior.log_likelihood - fit.log_likelihood, 1e-12);
        assert!(*gain > tolerance && cannot_tell_apart(*gain), "gain {gain}");
        let text = fit.warnings[0].to_string();
        assert!(
            text.starts_with("the likelihood is 2.3e-5 higher inside this limit, at q = 8567"),
            "{text}"
        );
    }
}
