//! What a customer acquired today is worth: her first purchase, then the repeat purchases a new
//! customer makes, E[X(t)] (BG/NBD: Fader, Hardie & Lee 2005, eq. 9), each worth margin × the
//! population's mean spend per transaction − the cost to serve it, discounted month by month as
//! every CLV here is. This, not the mean residual CLV of the customers already acquired, is the
//! most it pays to spend acquiring one more (the break-even CAC).

use serde::Serialize;

use super::engine::discounted_value;
use super::{ClvMethod, ForecastOptions};
use crate::data::TimeUnit;
use crate::models::PurchaseModel;
use crate::special::integrate;

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
        // ∫₀^∞ e^(−δt) dE[X(t)] = ∫₀¹ E[X(−ln v / δ)] dv, as `dert`.
        ClvMethod::Dert => {
            let delta = options.monthly_discount_rate.ln_1p() / units_per_month;
            let failed = std::cell::Cell::new(false);
            let integral = integrate(
                |v| {
                    purchases.expected_purchases(-v.ln() / delta).unwrap_or_else(|| {
                        failed.set(true);
                        f64::NAN
                    })
                },
                0.0,
                1.0,
                1e-10,
            )?;
            if failed.get() {
                return None;
            }
            per_purchase * integral
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
