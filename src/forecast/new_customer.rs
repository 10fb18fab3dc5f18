//! What a customer acquired today is worth: her first purchase, then the repeat purchases a new
//! customer makes, E[X(t)] (BG/NBD: Fader, Hardie & Lee 2005, eq. 9), each worth margin × the
//! population's mean spend per transaction − the cost to serve it, discounted month by month as
//! every CLV here is. This, not the mean residual CLV of the customers already acquired, is the
//! most it pays to spend acquiring one more (the break-even CAC).

use serde::Serialize;

use super::dert::dert;
use super::engine::discounted_value;
use super::intervals::{new_customer_interval, IntervalOptions};
use super::{ClvMethod, ForecastOptions};
use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::error::Result;
use crate::model_file::FittedModels;
use crate::models::PurchaseModel;

/// A new customer's expected CLV and its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NewCustomerValue {
    /// Profit of the first purchase, made at acquisition (not discounted).
    pub first_purchase: f64,
    /// E[X(clv months)]: the repeat purchases expected over the CLV's months; none with DERT,
    /// whose horizon has no end.
    pub repeat_purchases: Option<f64>,
    /// The discounted profit of those repeat purchases.
    pub repeat_value: f64,
    /// first_purchase + repeat_value.
    pub clv: f64,
    /// Its interval from parameter uncertainty, when one was asked for: (level, lo, hi).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64, f64)>,
}

/// The expected CLV of a customer acquired today under `purchases`, each purchase worth
/// `mean_spend` on average; `None` where a series does not converge.
pub fn new_customer_value(
    purchases: &dyn PurchaseModel,
    mean_spend: f64,
    options: &ForecastOptions,
    unit: TimeUnit,
) -> Option<NewCustomerValue> {
    let per_purchase = options.margin * mean_spend - options.cost_per_order;
    let units_per_month = unit.per_month();
    let repeat_value = match options.clv_method {
        ClvMethod::Monthly => discounted_value(
            |t| purchases.expected_purchases(t),
            per_purchase,
            options.clv_months,
            units_per_month,
            options.monthly_discount_rate,
        )?,
        // A customer acquired now is one observed at T = 0 with no repeat purchase, so
        // E[X(t)] = E[Y(t) | 0, 0, 0] and her repeat purchases' DERT is `dert` there: in the
        // model's closed form where it has one (the BG family's needs E[X(t)] at no horizon).
        ClvMethod::Dert => {
            let delta = options.monthly_discount_rate.ln_1p() / units_per_month;
            per_purchase * dert(purchases, delta, 0.0, 0.0, 0.0)?
        }
    };
    Some(NewCustomerValue {
        first_purchase: per_purchase,
        repeat_purchases: match options.clv_method {
            ClvMethod::Monthly => Some(purchases.expected_purchases(f64::from(options.clv_months) * units_per_month)?),
            ClvMethod::Dert => None,
        },
        repeat_value,
        clv: per_purchase + repeat_value,
        interval: None,
    })
}

/// A new customer's value in one acquisition cohort, from models fitted to that cohort alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortNewCustomer {
    pub cohort: String,
    pub customers: usize,
    /// `None` when the cohort could not be valued alone (`note` says why).
    pub value: Option<NewCustomerValue>,
    pub note: Option<String>,
}

/// Fewest customers a cohort is fitted with on its own.
pub const FEWEST_CUSTOMERS_PER_COHORT: usize = 100;

/// A new customer's expected CLV per acquisition cohort: the customers of each cohort
/// (`cohort_of[i]` indexes `names`) fitted alone with `fit`, then valued as a customer acquired
/// now, with an interval when `interval` is given. The pooled fit averages cohorts that need not
/// be alike (a promotion month's customers against a word-of-mouth month's); this shows whether
/// they are. A cohort too small, or whose fit fails, gets a note instead of a value.
pub fn new_customer_by_cohort(
    rfm: &RfmTable,
    names: &[String],
    cohort_of: &[u32],
    fit: &(dyn Fn(&RfmTable) -> Result<FittedModels> + Sync),
    options: &ForecastOptions,
    interval: Option<&IntervalOptions>,
) -> Vec<CohortNewCustomer> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    for (i, &c) in cohort_of.iter().enumerate() {
        if let Some(m) = members.get_mut(c as usize) {
            m.push(i);
        }
    }
    names
        .iter()
        .zip(&members)
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(name, rows)| {
            let valued = match rows.len() < FEWEST_CUSTOMERS_PER_COHORT {
                true => Err(format!(
                    "fewer than {FEWEST_CUSTOMERS_PER_COHORT} customers to fit alone"
                )),
                false => cohort_value(rfm, rows, fit, options, interval),
            };
            let (value, note) = match valued {
                Ok(v) => (Some(v), None),
                Err(why) => (None, Some(why)),
            };
            CohortNewCustomer {
                cohort: name.clone(),
                customers: rows.len(),
                value,
                note,
            }
        })
        .collect()
}

fn cohort_value(
    rfm: &RfmTable,
    rows: &[usize],
    fit: &(dyn Fn(&RfmTable) -> Result<FittedModels> + Sync),
    options: &ForecastOptions,
    interval: Option<&IntervalOptions>,
) -> std::result::Result<NewCustomerValue, String> {
    let cohort = rfm.rows(rows).map_err(|e| e.to_string())?;
    let models = fit(&cohort).map_err(|e| e.to_string())?;
    let mean_spend = models
        .gamma_gamma
        .as_ref()
        .and_then(|g| g.mean_spend)
        .ok_or("its spend model has no finite mean")?;
    let value = new_customer_value(models.purchase.model(), mean_spend, options, rfm.time_unit)
        .ok_or("its expected purchases could not be evaluated")?;
    let interval = match interval {
        Some(i) => new_customer_interval(&models, options, rfm.time_unit, i)
            .map_err(|e| e.to_string())?
            .map(|t| (i.level, t.lo, t.hi)),
        None => None,
    };
    Ok(NewCustomerValue { interval, ..value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::integrate;
    use crate::test_support::*;

    #[test]
    fn a_new_customers_dert_is_her_first_purchase_and_her_discounted_repeat_purchases() {
        // Spend 40 at margin 0.3 less 2 to serve: each purchase is worth 10. Discounted
        // continuously at δ = ln 1.15 / 52 a week (the monthly rate set to match).
        let delta = 0.002687729661060744;
        let options = ForecastOptions {
            monthly_discount_rate: (delta * TimeUnit::Weeks.per_month()).exp_m1(),
            margin: 0.3,
            cost_per_order: 2.0,
            clv_method: ClvMethod::Dert,
            ..ForecastOptions::default()
        };
        // BG/NBD at CDNOW's estimates as printed: δ ∫ e^(−δt) E[X(t)] dt = 3.6556991152323235
        // repeat purchases, mpmath at 30 digits with eq. (9) (the x = T = 0 case of
        // bg_nbd's DERT test).
        let value = new_customer_value(&BG_NBD_PAPER, 40.0, &options, TimeUnit::Weeks).unwrap();
        assert_close(value.first_purchase, 10.0, 1e-15);
        assert_close(value.repeat_value, 36.556991152323235, 1e-11);
        assert_close(value.clv, 46.556991152323235, 1e-11);
        assert_eq!(value.repeat_purchases, None);
        // Each model against the quadrature of its own E[X(t)], in w = e^(−δt/4) (E[X] grows
        // like t, so in e^(−δt) the integrand would be singular at 0), to its 1e-11.
        let models: [&dyn PurchaseModel; 3] = [&BG_NBD_PAPER, &MBG_NBD_BTYDPLUS, &PARETO_NBD_PAPER];
        for model in models {
            let integral = integrate(
                |w| model.expected_purchases(-4.0 * w.ln() / delta).unwrap() * 4.0 * w.powi(3),
                0.0,
                1.0,
                1e-11,
            )
            .unwrap();
            let value = new_customer_value(model, 40.0, &options, TimeUnit::Weeks).unwrap();
            assert_close(value.repeat_value, 10.0 * integral, 1e-9);
        }
    }
}
