//! The forecast engine: per-customer forecasts as named columns.
//!
//! A forecaster for a summary kind (today `continuous`, for the (x, t_x, T) models) evaluates its
//! models once per distinct history and discounts in one place (`engine`), and hands back a
//! [`Forecasts`] table: named columns in the order the predictions table writes them, each with
//! room for an interval (`clv_lo`, `clv_hi`). Decisions and reports read these columns by name
//! (the names below) and the customers' past through `data::summary::CustomerSummary`, never a
//! summary's fields.

mod continuous;
pub mod dert;
pub mod discrete;
pub(crate) mod engine;
pub mod intervals;
pub mod new_customer;
pub mod retention;

use std::sync::Arc;

use polars::prelude::{DataFrame, Float64Chunked, Int64Chunked, IntoColumn, NewChunkedArray};

pub use continuous::forecast;
pub use engine::{discounted_value, Distinct, DistinctHistories};

use crate::data::rfm::RfmTable;
use crate::data::summary::CustomerSummary;
use crate::data::TimeUnit;
use crate::error::{ClvError, PolarsContext, Result};

/// P(alive | history) at the end of the observation.
pub const P_ALIVE: &str = "p_alive";
/// 1 − P(alive).
pub const CHURN_PROBABILITY: &str = "churn_probability";
/// Expected transactions over the horizon.
pub const EXPECTED_PURCHASES: &str = "expected_purchases";
/// P(at least one transaction over the horizon | history) = 1 − P(Y(horizon) = 0): the chance
/// that a customer is seen again, which, unlike P(alive), a holdout can check.
pub const P_ANY_PURCHASE: &str = "p_any_purchase";
/// E[M | history] of the spend model: the expected value of one future transaction. NaN (written
/// empty) where it is infinite: no repeat purchase under a spend model with q ≤ 1.
pub const EXPECTED_AVG_SPEND: &str = "expected_avg_spend";
/// Discounted CLV; NaN where the expected spend is.
pub const CLV: &str = "clv";
/// E[CLV | alive at the end of the observation]: the CLV of the customer if she is still a
/// customer. Read by the decisions (value at stake), not written.
pub const CLV_IF_ALIVE: &str = "clv_if_alive";

/// How the CLV discounts future purchases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ClvMethod {
    /// Σ over `clv_months` months of each month's expected purchases, discounted at the month's
    /// end (as `lifetimes`' customer_lifetime_value).
    #[default]
    Monthly,
    /// DERT: every future purchase, over an unlimited horizon, discounted continuously at the
    /// equivalent rate (Fader, Hardie & Lee 2005, iso-value curves).
    Dert,
}

/// What to forecast.
#[derive(Debug, Clone, Copy)]
pub struct ForecastOptions {
    /// Horizon of `expected_purchases`, in the data's time unit.
    pub horizon: f64,
    /// Months of future purchases that CLV sums.
    pub clv_months: u32,
    /// Discount rate per month.
    pub monthly_discount_rate: f64,
    /// Fraction of revenue kept as profit.
    pub margin: f64,
    /// Cost to serve one order, in currency, subtracted from each purchase's profit.
    pub cost_per_order: f64,
    pub clv_method: ClvMethod,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        Self {
            horizon: 52.0,
            clv_months: 12,
            monthly_discount_rate: 0.01,
            margin: 1.0,
            cost_per_order: 0.0,
            clv_method: ClvMethod::Monthly,
        }
    }
}

impl ForecastOptions {
    /// Refuses settings that cannot be meant: a horizon or CLV period of nothing, a margin that
    /// is not a fraction of revenue (30 typed for 30%), a negative discount rate or cost.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ClvError::InvalidArgument(m));
        if self.clv_months == 0 {
            return bad("CLV needs at least one month of future purchases (--clv-months ≥ 1)".into());
        }
        if !(self.horizon.is_finite() && self.horizon > 0.0) {
            return bad(format!(
                "the horizon of expected_purchases must be a positive time, not {}",
                self.horizon
            ));
        }
        if !(self.monthly_discount_rate.is_finite() && self.monthly_discount_rate >= 0.0) {
            return bad(format!(
                "the discount rate must be ≥ 0 (per month, e.g. 0.01 for 1%), not {}",
                self.monthly_discount_rate
            ));
        }
        let m = self.margin;
        if m > 1.0 && m <= 100.0 {
            return bad(format!(
                "the margin is the fraction of revenue kept as profit, at most 1: {m} looks like a percentage; \
                 for {m}% use --margin {}",
                m / 100.0
            ));
        }
        if !(m > 0.0 && m <= 1.0) {
            return bad(format!(
                "the margin is the fraction of revenue kept as profit, in (0, 1] (1 = CLV in revenue), not {m}"
            ));
        }
        if self.clv_method == ClvMethod::Dert && self.monthly_discount_rate <= 0.0 {
            return bad(
                "DERT sums every future purchase, without end: it needs a discount rate above 0 (--annual-discount-rate)"
                    .into(),
            );
        }
        if !(self.cost_per_order.is_finite() && self.cost_per_order >= 0.0) {
            return bad(format!(
                "the cost per order must be an amount ≥ 0, not {}",
                self.cost_per_order
            ));
        }
        Ok(())
    }

    /// Settings that are allowed but unusual enough to say so.
    pub fn unusual(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.monthly_discount_rate > 0.05 {
            notes.push(format!(
                "a discount rate of {}% a month is {}% a year: rates are fractions, so 10% a year is \
                 --annual-discount-rate 0.10 and 1% a month --discount-rate 0.01",
                percent(self.monthly_discount_rate, 4),
                percent(annual_rate(self.monthly_discount_rate), 1)
            ));
        }
        notes
    }

    /// Every money setting and both horizons, in one line as a person reads them.
    pub fn describe(&self, unit: TimeUnit) -> String {
        let cost = match self.cost_per_order {
            0.0 => "no cost per order".to_string(),
            c => format!("cost per order {c:.2}"),
        };
        let months = self.horizon / unit.per_month();
        let horizon_months = match (months - f64::from(self.clv_months)).abs() < 1e-9 {
            true if self.clv_method == ClvMethod::Monthly => format!("{} months, as the CLV", self.clv_months),
            true => format!("{} months", self.clv_months),
            false => format!("{} months; the CLV sums {}", trimmed(months, 2), self.clv_months),
        };
        let purchases = match self.clv_method {
            ClvMethod::Monthly => format!("{} months of purchases", self.clv_months),
            ClvMethod::Dert => "every future purchase (DERT, discounted continuously)".to_string(),
        };
        format!(
            "CLV: {purchases}, discounted at {}% a month ({}% a year), margin {}% of spend, {cost}; \
             expected_purchases over {} {unit} ({horizon_months})",
            percent(self.monthly_discount_rate, 4),
            percent(annual_rate(self.monthly_discount_rate), 2),
            percent(self.margin, 2),
            trimmed(self.horizon, 2),
        )
    }
}

/// The monthly rate equivalent to a yearly one: (1 + annual)^(1/12) − 1.
pub fn monthly_rate(annual: f64) -> f64 {
    (1.0 + annual).powf(1.0 / 12.0) - 1.0
}

/// The yearly rate equivalent to a monthly one: (1 + monthly)^12 − 1.
pub fn annual_rate(monthly: f64) -> f64 {
    (1.0 + monthly).powi(12) - 1.0
}

/// `x` to at most `decimals` decimals, without trailing zeros ("12.5", "1", "0.7974").
fn trimmed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => s,
    }
}

/// A fraction as a percentage, e.g. 0.007974 → "0.7974".
fn percent(fraction: f64, decimals: usize) -> String {
    trimmed(100.0 * fraction, decimals)
}

/// An interval around a forecast, per customer, written as columns named after its quantiles:
/// `clv_q05` and `clv_q95` for a 90% interval, `clv_q02_5` and `clv_q97_5` for 95%.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Its probability, e.g. 0.9 for the 5% and 95% quantiles.
    pub level: f64,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl Interval {
    /// The names of the bounds of `name`'s interval: see [`interval_column_names`].
    pub fn column_names(&self, name: &str) -> (String, String) {
        interval_column_names(self.level, name)
    }
}

/// The names of the bounds of `name`'s interval at `level`: `{name}_q{percent}`, the percent
/// with two digits before a decimal underscore (5% → 05, 2.5% → 02_5, 97.5% → 97_5).
pub fn interval_column_names(level: f64, name: &str) -> (String, String) {
    let label = |q: f64| {
        let shown = trimmed(100.0 * q, 4);
        let (whole, decimals) = shown.split_once('.').unwrap_or((&shown, ""));
        match decimals.is_empty() {
            true => format!("{name}_q{whole:0>2}"),
            false => format!("{name}_q{whole:0>2}_{decimals}"),
        }
    };
    (label((1.0 - level) / 2.0), label((1.0 + level) / 2.0))
}

/// One forecast per customer, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastColumn {
    pub name: String,
    pub values: Vec<f64>,
    pub interval: Option<Interval>,
    /// Whether the predictions table carries it (some columns only feed the decisions).
    pub written: bool,
    /// Whether its values are counts (of purchases), written as integers.
    pub counts: bool,
}

impl ForecastColumn {
    /// A written column without an interval.
    pub fn new(name: &str, values: Vec<f64>) -> Self {
        Self {
            name: name.to_string(),
            values,
            interval: None,
            written: true,
            counts: false,
        }
    }

    /// A written column of counts (whole numbers, NaN where there is none), written as integers.
    pub fn counts(name: &str, values: Vec<f64>) -> Self {
        Self {
            counts: true,
            ..Self::new(name, values)
        }
    }

    /// A column the decisions read but the predictions table does not carry.
    pub fn unwritten(name: &str, values: Vec<f64>) -> Self {
        Self {
            written: false,
            ..Self::new(name, values)
        }
    }
}

/// Forecasts for every customer of a summary, in its row order: named columns, in the order the
/// predictions table writes them.
#[derive(Debug, Clone, Default)]
pub struct Forecasts {
    customers: usize,
    columns: Vec<ForecastColumn>,
    /// The distinct histories the forecaster evaluated, kept for the intervals, which evaluate
    /// the same histories at every draw (not part of what the forecasts are: equality ignores it).
    histories: Option<Arc<DistinctHistories>>,
}

impl PartialEq for Forecasts {
    fn eq(&self, other: &Self) -> bool {
        self.customers == other.customers && self.columns == other.columns
    }
}

impl Forecasts {
    /// An empty table for `customers` customers.
    pub fn new(customers: usize) -> Self {
        Self {
            customers,
            columns: Vec::new(),
            histories: None,
        }
    }

    /// Keeps the distinct histories the forecasts were evaluated over (`distinct_histories`).
    pub fn keep_histories(&mut self, histories: Arc<DistinctHistories>) {
        self.histories = Some(histories);
    }

    /// The distinct histories of `rfm`: those the forecaster kept, when they are `rfm`'s (each
    /// customer's history checked against hers), or found afresh.
    pub fn distinct_histories(&self, rfm: &RfmTable) -> Arc<DistinctHistories> {
        match &self.histories {
            Some(kept) if kept.are_of(rfm) => Arc::clone(kept),
            _ => Arc::new(DistinctHistories::of(rfm)),
        }
    }

    /// Adds a column; it must have one value (and interval bound) per customer and a new name.
    pub fn push(&mut self, column: ForecastColumn) -> Result<()> {
        let lengths_ok = column.values.len() == self.customers
            && column
                .interval
                .as_ref()
                .is_none_or(|i| i.lo.len() == self.customers && i.hi.len() == self.customers);
        if !lengths_ok {
            return Err(ClvError::InvalidArgument(format!(
                "forecast column '{}' has {} values for {} customers",
                column.name,
                column.values.len(),
                self.customers
            )));
        }
        if self.column(&column.name).is_some() {
            return Err(ClvError::InvalidArgument(format!(
                "forecast column '{}' is there twice",
                column.name
            )));
        }
        self.columns.push(column);
        Ok(())
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.customers
    }

    pub fn is_empty(&self) -> bool {
        self.customers == 0
    }

    /// The names of the columns, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// The column named `name`, if the forecaster provided it.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.entry(name).map(|c| c.values.as_slice())
    }

    /// Sets the interval of the column named `name`; one bound per customer.
    pub fn set_interval(&mut self, name: &str, interval: Interval) -> Result<()> {
        let customers = self.customers;
        let column =
            self.columns.iter_mut().find(|c| c.name == name).ok_or_else(|| {
                ClvError::InvalidArgument(format!("no forecast column '{name}' to set an interval on"))
            })?;
        if interval.lo.len() != customers || interval.hi.len() != customers {
            return Err(ClvError::InvalidArgument(format!(
                "the interval of '{name}' has {} bounds for {customers} customers",
                interval.lo.len()
            )));
        }
        column.interval = Some(interval);
        Ok(())
    }

    /// The column named `name` with its interval.
    pub fn entry(&self, name: &str) -> Option<&ForecastColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column named `name`, or an error saying what needed it.
    pub fn require(&self, name: &str, needed_by: &str) -> Result<&[f64]> {
        self.column(name).ok_or_else(|| {
            ClvError::InvalidArgument(format!(
                "{needed_by} need the forecast '{name}', which these models do not give (they give: {})",
                self.names().collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// Customers without a spend or CLV forecast: no repeat purchase under a spend model with an
    /// infinite population mean (q ≤ 1).
    pub fn unvalued(&self) -> usize {
        self.column(CLV).map_or(0, |c| c.iter().filter(|v| v.is_nan()).count())
    }

    /// The predictions table: the summary's columns, then each written forecast (and its
    /// interval's bounds). The columns are moved into the table, not copied (at 10M customers
    /// the copies were a gigabyte).
    pub fn into_frame(self, summary: impl CustomerSummary) -> Result<DataFrame> {
        let mut columns = summary.into_columns()?;
        // NaN marks a forecast that does not exist (an infinite expected spend): written empty.
        let floats = |name: String, v: Vec<f64>| match v.iter().any(|x| x.is_nan()) {
            false => Float64Chunked::from_vec(name.into(), v).into_column(),
            true => Float64Chunked::from_iter_options(name.into(), v.into_iter().map(|x| (!x.is_nan()).then_some(x)))
                .into_column(),
        };
        let integers = |name: String, v: Vec<f64>| {
            Int64Chunked::from_iter_options(name.into(), v.into_iter().map(|x| (!x.is_nan()).then_some(x as i64)))
                .into_column()
        };
        for column in self.columns.into_iter().filter(|c| c.written) {
            if column.counts {
                columns.push(integers(column.name, column.values));
            } else if let Some(interval) = column.interval {
                let (lo, hi) = interval.column_names(&column.name);
                columns.push(floats(column.name, column.values));
                columns.push(floats(lo, interval.lo));
                columns.push(floats(hi, interval.hi));
            } else {
                columns.push(floats(column.name, column.values));
            }
        }
        DataFrame::new_infer_height(columns).context(|| "building the predictions table".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rfm::{CustomerIds, RfmTable};
    use crate::data::TimeUnit;

    fn two_customers() -> RfmTable {
        RfmTable {
            customer_id: CustomerIds::from_labels(&["a", "b"]),
            frequency: vec![0.0, 2.0],
            recency: vec![0.0, 3.5],
            t: vec![10.0, 12.0],
            monetary_value: None,
            first_purchase: None,
            time_unit: TimeUnit::Weeks,
        }
    }

    #[test]
    fn the_predictions_table_writes_columns_in_order_with_interval_bounds_counts_as_integers_and_nan_as_empty() {
        let mut f = Forecasts::new(2);
        f.push(ForecastColumn::new(P_ALIVE, vec![1.0, 0.25])).unwrap();
        f.push(ForecastColumn::unwritten(CLV_IF_ALIVE, vec![3.0, 4.0])).unwrap();
        f.push(ForecastColumn {
            interval: Some(Interval {
                level: 0.9,
                lo: vec![f64::NAN, 1.0],
                hi: vec![f64::NAN, 3.0],
            }),
            ..ForecastColumn::new(CLV, vec![f64::NAN, 2.0])
        })
        .unwrap();
        f.push(ForecastColumn::counts("purchases_q95", vec![3.0, f64::NAN]))
            .unwrap();
        assert_eq!(f.column(CLV_IF_ALIVE), Some(&[3.0, 4.0][..]));
        assert_eq!(f.unvalued(), 1);
        let frame = f.into_frame(two_customers()).unwrap();
        let names: Vec<&str> = frame.get_column_names().iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "customer_id",
                "frequency",
                "recency",
                "T",
                "p_alive",
                "clv",
                "clv_q05",
                "clv_q95",
                "purchases_q95"
            ]
        );
        let clv_hi = frame.column("clv_q95").unwrap().f64().unwrap();
        assert_eq!(clv_hi.get(0), None);
        assert_eq!(clv_hi.get(1), Some(3.0));
        // Counts are integers: "3" in a CSV, not "3.0".
        let purchases_hi = frame.column("purchases_q95").unwrap().i64().unwrap();
        assert_eq!((purchases_hi.get(0), purchases_hi.get(1)), (Some(3), None));
        assert_eq!(frame.column("p_alive").unwrap().null_count(), 0);
    }

    #[test]
    fn money_settings_that_cannot_be_meant_are_refused_and_the_rest_described() {
        let ok = ForecastOptions::default();
        assert!(ok.validate().is_ok());
        let refused = |o: ForecastOptions| o.validate().unwrap_err().to_string();
        let m = refused(ForecastOptions { margin: 30.0, ..ok });
        assert!(
            m.contains("looks like a percentage") && m.contains("--margin 0.3"),
            "{m}"
        );
        assert!(refused(ForecastOptions { margin: 1.5, ..ok }).contains("--margin 0.015"));
        assert!(refused(ForecastOptions { margin: 0.0, ..ok }).contains("in (0, 1]"));
        assert!(refused(ForecastOptions { margin: 250.0, ..ok }).contains("in (0, 1]"));
        assert!(refused(ForecastOptions {
            monthly_discount_rate: -0.05,
            ..ok
        })
        .contains("≥ 0"));
        assert!(refused(ForecastOptions { clv_months: 0, ..ok }).contains("--clv-months"));
        assert!(refused(ForecastOptions { horizon: 0.0, ..ok }).contains("positive"));
        // 10% a year is (1.1)^(1/12) − 1 = 0.00797414042890376 a month (and back).
        assert!((monthly_rate(0.10) - 0.00797414042890376).abs() < 1e-15);
        assert!((annual_rate(monthly_rate(0.10)) - 0.10).abs() < 1e-14);
        // 1% a month: 1.01^12 − 1 = 12.68% a year; 12 months in weeks is 365.25/7 = 52.18.
        let line = ok.describe(TimeUnit::Weeks);
        assert_eq!(
            line,
            "CLV: 12 months of purchases, discounted at 1% a month (12.68% a year), margin 100% of spend, \
             no cost per order; expected_purchases over 52 weeks (11.96 months; the CLV sums 12)"
        );
        let by_the_month = ForecastOptions {
            horizon: 12.0 * TimeUnit::Weeks.per_month(),
            monthly_discount_rate: monthly_rate(0.10),
            margin: 0.3,
            cost_per_order: 2.0,
            ..ok
        };
        assert_eq!(
            by_the_month.describe(TimeUnit::Weeks),
            "CLV: 12 months of purchases, discounted at 0.7974% a month (10% a year), margin 30% of spend, \
             cost per order 2.00; expected_purchases over 52.18 weeks (12 months, as the CLV)"
        );
        assert!(by_the_month.unusual().is_empty());
        let yearly_typed_as_monthly = ForecastOptions {
            monthly_discount_rate: 0.10,
            ..ok
        };
        assert!(yearly_typed_as_monthly.unusual()[0].contains("213.8% a year"));
        // Given as a yearly 5 (500%), the note must not send the analyst to the flag she used.
        let five_hundred_percent = ForecastOptions {
            monthly_discount_rate: monthly_rate(5.0),
            ..ok
        };
        let note = &five_hundred_percent.unusual()[0];
        assert!(
            note.contains("500% a year") && note.contains("--annual-discount-rate 0.10"),
            "{note}"
        );
    }

    #[test]
    fn interval_columns_are_named_after_their_quantiles() {
        let named = |level: f64| {
            Interval {
                level,
                lo: vec![],
                hi: vec![],
            }
            .column_names("clv")
        };
        assert_eq!(named(0.9), ("clv_q05".into(), "clv_q95".into()));
        assert_eq!(named(0.95), ("clv_q02_5".into(), "clv_q97_5".into()));
        assert_eq!(named(0.5), ("clv_q25".into(), "clv_q75".into()));
        assert_eq!(named(0.99), ("clv_q00_5".into(), "clv_q99_5".into()));
    }

    #[test]
    fn a_column_of_the_wrong_length_or_a_second_of_one_name_is_refused() {
        let mut f = Forecasts::new(2);
        assert!(f.push(ForecastColumn::new(P_ALIVE, vec![1.0])).is_err());
        f.push(ForecastColumn::new(P_ALIVE, vec![1.0, 0.5])).unwrap();
        assert!(f.push(ForecastColumn::new(P_ALIVE, vec![1.0, 0.5])).is_err());
        let missing = f.require(CLV, "value tiers").unwrap_err().to_string();
        assert!(missing.contains("'clv'") && missing.contains("p_alive"), "{missing}");
    }
}
