//! What a customer acquired today is worth: her first purchase, then the repeat purchases a new
//! customer makes, E[X(t)] (BG/NBD: Fader, Hardie & Lee 2005, eq. 9), each worth margin × the
//! population's mean spend per transaction − the cost to serve it, discounted month by month as
//! every CLV here is. This, not the mean residual CLV of the customers already acquired, is the
//! most it pays to spend acquiring one more (the break-even CAC).

use serde::Serialize;

use super::engine::discounted_value;
use super::ForecastOptions;
use crate::data::TimeUnit;
use crate::models::PurchaseModel;

/// A new customer's expected CLV and its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NewCustomerValue {
    /// Profit of the first purchase, made at acquisition (not discounted).
    pub first_purchase: f64,
    /// E[X(clv months)]: the repeat purchases expected over the CLV's months.
    pub repeat_purchases: f64,
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
    let repeat_value = discounted_value(
        |t| purchases.expected_purchases(t),
        per_purchase,
        options.clv_months,
        units_per_month,
        options.monthly_discount_rate,
    )?;
    Some(NewCustomerValue {
        first_purchase: per_purchase,
        repeat_purchases: purchases.expected_purchases(f64::from(options.clv_months) * units_per_month)?,
        repeat_value,
        clv: per_purchase + repeat_value,
        interval: None,
    })
}
