//! From forecasts to decisions: value tiers, customer status and value at stake per customer
//! (here), and the value report that totals them (`value_report`). Pure arithmetic on the
//! per-customer forecasts.

mod value_report;

pub use value_report::{
    report_groupings, top_share_of_value, value_report, Acquisition, GroupTotals, Grouping, ValueReport,
};

use polars::prelude::{Column, DataFrame, Float64Chunked, IntoColumn};
use rayon::slice::ParallelSliceMut;

use crate::data::summary::CustomerSummary;
use crate::error::{ClvError, PolarsContext, Result};
use crate::forecast::{Forecasts, CLV, CLV_IF_ALIVE, P_ALIVE};

/// How customers are tiered and labelled.
#[derive(Debug, Clone)]
pub struct DecisionOptions {
    /// Tier sizes in percent of customers, most valuable first; they must add up to 100.
    pub tiers: Vec<f64>,
    /// A customer whose first purchase is at most this many days before the end of the period is `new`.
    pub new_within_days: f64,
    /// P(alive) below this is `lapsed`.
    pub lapsed_below: f64,
    /// P(alive) below this (and not lapsed) is at risk.
    pub at_risk_below: f64,
    /// "High value" is the top this-percent of customers: by CLV for active customers, by
    /// historical repeat revenue (frequency × monetary_value) for customers at risk.
    pub high_value_top_percent: f64,
}

impl Default for DecisionOptions {
    fn default() -> Self {
        Self {
            tiers: vec![1.0, 9.0, 40.0, 50.0],
            new_within_days: 30.0,
            lapsed_below: 0.1,
            at_risk_below: 0.5,
            high_value_top_percent: 10.0,
        }
    }
}

impl DecisionOptions {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ClvError::InvalidArgument(m));
        if self.tiers.is_empty() || self.tiers.iter().any(|t| !(t.is_finite() && *t > 0.0)) {
            return bad(format!("tiers must be positive percentages, not {:?}", self.tiers));
        }
        let total: f64 = self.tiers.iter().sum();
        if (total - 100.0).abs() > 1e-9 {
            return bad(format!("tiers must add up to 100%, not {total}% ({:?})", self.tiers));
        }
        if !(0.0..=1.0).contains(&self.lapsed_below)
            || !(0.0..=1.0).contains(&self.at_risk_below)
            || self.lapsed_below > self.at_risk_below
        {
            return bad(format!(
                "need 0 ≤ lapsed threshold ({}) ≤ at-risk threshold ({}) ≤ 1",
                self.lapsed_below, self.at_risk_below
            ));
        }
        if !(self.high_value_top_percent > 0.0 && self.high_value_top_percent <= 100.0) {
            return bad(format!(
                "the high-value share must be in (0, 100], not {}",
                self.high_value_top_percent
            ));
        }
        if !(self.new_within_days.is_finite() && self.new_within_days >= 0.0) {
            return bad(format!("--new-within-days must be ≥ 0, not {}", self.new_within_days));
        }
        Ok(())
    }

    /// Display names of the tiers: "top 1%", "next 9%", ..., "bottom 50%".
    pub fn tier_names(&self) -> Vec<String> {
        let n = self.tiers.len();
        self.tiers
            .iter()
            .enumerate()
            .map(|(i, t)| match i {
                0 => format!("top {t}%"),
                i if i + 1 == n => format!("bottom {t}%"),
                _ => format!("next {t}%"),
            })
            .collect()
    }
}

/// A customer's status, from value and churn risk. The first rule that holds, in this order:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// First purchase within the last `new_within_days` of the period.
    New,
    /// No repeat purchase yet (x = 0): her P(alive) says little of her churn risk whatever the
    /// model (BG/NBD and the NBD give 1 by construction; MBG/NBD and Pareto/NBD only the
    /// population's dropout after T), so she is not classed by it.
    OneTime,
    /// P(alive) < `lapsed_below`.
    Lapsed,
    /// P(alive) < `at_risk_below` and historical repeat revenue in the top `high_value_top_percent`.
    AtRiskHighValue,
    /// P(alive) < `at_risk_below`.
    AtRisk,
    /// CLV in the top `high_value_top_percent`.
    ActiveHighValue,
    /// Everyone else.
    Active,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::OneTime => "one-time",
            Status::Lapsed => "lapsed",
            Status::AtRiskHighValue => "at risk high value",
            Status::AtRisk => "at risk",
            Status::ActiveHighValue => "active high value",
            Status::Active => "active",
        }
    }

    pub const ALL: [Status; 7] = [
        Status::ActiveHighValue,
        Status::Active,
        Status::AtRiskHighValue,
        Status::AtRisk,
        Status::Lapsed,
        Status::OneTime,
        Status::New,
    ];
}

/// Per-customer decision columns.
#[derive(Debug, Clone)]
pub struct CustomerDecisions {
    pub tier_names: Vec<String>,
    /// Index into `tier_names` of each customer's value tier.
    pub tier: Vec<usize>,
    /// Percent of customers with a strictly lower CLV (0 for the least valuable, near 100 for the most).
    pub clv_percentile: Vec<f64>,
    pub status: Vec<Status>,
    /// E[CLV | alive] × (1 − P(alive)): the value the customer is worth if she is still a
    /// customer, times the chance that she is not — what winning her back would recover. (CLV
    /// itself already contains P(alive), so CLV × (1 − P(alive)) would vanish for exactly the
    /// customers most likely lost.)
    pub value_at_stake: Vec<f64>,
}

impl CustomerDecisions {
    /// Appends value_tier, clv_percentile, status and value_at_stake to a predictions table
    /// (the numbers are moved into it, not copied).
    pub fn add_columns(self, frame: &mut DataFrame) -> Result<()> {
        let tiers: Vec<&str> = self.tier.iter().map(|&t| self.tier_names[t].as_str()).collect();
        let status: Vec<&str> = self.status.iter().map(|s| s.as_str()).collect();
        let columns = [
            Column::new("value_tier".into(), tiers),
            Float64Chunked::from_vec("clv_percentile".into(), self.clv_percentile).into_column(),
            Column::new("status".into(), status),
            Float64Chunked::from_vec("value_at_stake".into(), self.value_at_stake).into_column(),
        ];
        frame
            .hstack_mut(&columns)
            .map(|_| ())
            .context(|| "adding decision columns".to_string())
    }
}

/// Customer indices by `key`, largest first; ties keep table order. The (key, index) pairs are
/// sorted in parallel, contiguous in memory rather than looked up through the indices.
fn descending(key: &[f64]) -> Vec<usize> {
    let mut pairs: Vec<(f64, usize)> = key.iter().copied().zip(0..).collect();
    pairs.par_sort_unstable_by(|(a, i), (b, j)| b.total_cmp(a).then(i.cmp(j)));
    pairs.into_iter().map(|(_, i)| i).collect()
}

/// How many of `n` customers the first tiers hold together: round(n · cumulative% / 100).
fn tier_boundaries(n: usize, tiers: &[f64]) -> Vec<usize> {
    let mut cumulative = 0.0;
    let mut bounds: Vec<usize> = tiers
        .iter()
        .map(|t| {
            cumulative += t;
            ((n as f64) * cumulative / 100.0).round() as usize
        })
        .collect();
    if let Some(last) = bounds.last_mut() {
        *last = n;
    }
    bounds
}

/// How many of `n` customers the top `percent` are: round(n · percent/100), at least one when
/// percent > 0 and there are customers.
fn top_count(n: usize, percent: f64) -> usize {
    (((n as f64) * percent / 100.0).round() as usize).clamp(usize::from(n > 0), n)
}

/// Membership in the top `percent` of customers by `key`: the first `top_count` in descending
/// order, ties in table order. Found without sorting: the cut-off value is selected in linear
/// time, everyone above it is in, and of those equal to it the first ones in table order.
fn top_share(key: &[f64], percent: f64) -> Vec<bool> {
    let n = key.len();
    let count = top_count(n, percent);
    if count == 0 {
        return vec![false; n];
    }
    let mut values = key.to_vec();
    let (_, &mut cutoff, _) = values.select_nth_unstable_by(count - 1, |a, b| b.total_cmp(a));
    let above = key.iter().filter(|v| v.total_cmp(&cutoff).is_gt()).count();
    let mut ties_left = count - above;
    key.iter()
        .map(|v| match v.total_cmp(&cutoff) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal if ties_left > 0 => {
                ties_left -= 1;
                true
            }
            _ => false,
        })
        .collect()
}

/// Each customer's value at stake, E[CLV | alive] × (1 − P(alive)): what she is worth if she is
/// still a customer, times the chance that she is not; None without a spend model.
pub fn value_at_stake(forecasts: &Forecasts) -> Option<Vec<f64>> {
    let if_alive = forecasts.column(CLV_IF_ALIVE)?;
    let p_alive = forecasts.column(P_ALIVE)?;
    Some(if_alive.iter().zip(p_alive).map(|(v, p)| v * (1.0 - p)).collect())
}

/// Tiers, percentiles and statuses for every customer; customers need a CLV (a spend model).
pub fn decide(
    summary: &dyn CustomerSummary,
    forecasts: &Forecasts,
    options: &DecisionOptions,
) -> Result<CustomerDecisions> {
    options.validate()?;
    let clv = forecasts.column(CLV).ok_or_else(|| {
        ClvError::InvalidArgument(
            "value tiers and statuses need CLV, which needs monetary values and a spend model".into(),
        )
    })?;
    let p_alive = forecasts.require(P_ALIVE, "customer statuses")?;
    let unvalued = forecasts.unvalued();
    if unvalued > 0 {
        return Err(ClvError::InvalidArgument(format!(
            "value tiers and statuses need a CLV for every customer, and {unvalued} customers have none \
             (no repeat purchase, and the spend model's q ≤ 1 makes their expected spend infinite)"
        )));
    }
    let n = clv.len();
    // One sort by CLV gives the tiers, the percentiles and the high-CLV share.
    let order = descending(clv);
    let bounds = tier_boundaries(n, &options.tiers);
    let mut tier = vec![0; n];
    let mut current = 0;
    for (rank, &i) in order.iter().enumerate() {
        while current + 1 < bounds.len() && rank >= bounds[current] {
            current += 1;
        }
        tier[i] = current;
    }
    // Percentile: the customers strictly below, i.e. those after the run of equal CLVs.
    let mut clv_percentile = vec![0.0; n];
    let mut start = 0;
    while start < n {
        let value = clv[order[start]];
        let mut end = start + 1;
        while end < n && clv[order[end]].total_cmp(&value).is_eq() {
            end += 1;
        }
        let below = 100.0 * (n - end) as f64 / n as f64;
        for &i in &order[start..end] {
            clv_percentile[i] = below;
        }
        start = end;
    }
    let mut high_clv = vec![false; n];
    for &i in order.iter().take(top_count(n, options.high_value_top_percent)) {
        high_clv[i] = true;
    }

    let historical: Vec<f64> = (0..n).map(|i| summary.repeat_revenue(i)).collect();
    let high_history = top_share(&historical, options.high_value_top_percent);
    let status = (0..n)
        .map(|i| {
            let p = p_alive[i];
            if summary.age_in_days(i) <= options.new_within_days + 1e-9 {
                Status::New
            } else if summary.repeat_transactions(i) == 0.0 {
                Status::OneTime
            } else if p < options.lapsed_below {
                Status::Lapsed
            } else if p < options.at_risk_below && high_history[i] {
                Status::AtRiskHighValue
            } else if p < options.at_risk_below {
                Status::AtRisk
            } else if high_clv[i] {
                Status::ActiveHighValue
            } else {
                Status::Active
            }
        })
        .collect();
    forecasts.require(CLV_IF_ALIVE, "values at stake")?;
    let value_at_stake = value_at_stake(forecasts).unwrap_or_default();
    Ok(CustomerDecisions {
        tier_names: options.tier_names(),
        tier,
        clv_percentile,
        status,
        value_at_stake,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rfm::{CustomerIds, RfmTable};
    use crate::data::TimeUnit;
    use crate::forecast::{ForecastColumn, EXPECTED_AVG_SPEND, EXPECTED_PURCHASES};

    /// Ten hand-made customers with CLVs 10, 9, ..., 1 (customer i has CLV 10 − i).
    pub(super) fn ten_customers() -> (RfmTable, Forecasts) {
        ten_customers_with_clv((0..10).map(|i| (10 - i) as f64).collect())
    }

    /// The ten customers, with CLVs `clv`.
    fn ten_customers_with_clv(clv: Vec<f64>) -> (RfmTable, Forecasts) {
        let n = 10;
        let rfm = RfmTable {
            customer_id: CustomerIds::from_labels(&(0..n).map(|i| format!("c{i}")).collect::<Vec<_>>()),
            frequency: vec![3.0, 2.0, 0.0, 5.0, 1.0, 1.0, 8.0, 1.0, 1.0, 1.0],
            recency: vec![10.0; n],
            t: vec![20.0, 20.0, 20.0, 20.0, 20.0, 20.0, 20.0, 20.0, 20.0, 3.0],
            monetary_value: Some(vec![10.0, 10.0, 0.0, 50.0, 10.0, 10.0, 100.0, 10.0, 10.0, 10.0]),
            first_purchase: Some(vec![0, 0, 31, 31, 31, 31, 59, 59, 59, 130]),
            time_unit: TimeUnit::Weeks,
        };
        let p_alive = vec![0.9, 0.8, 1.0, 0.3, 0.05, 0.6, 0.4, 0.9, 0.9, 1.0];
        let clv_if_alive = (0..n).map(|i| clv[i] / p_alive[i]).collect();
        let mut forecasts = Forecasts::new(n);
        for column in [
            ForecastColumn::new(P_ALIVE, p_alive),
            ForecastColumn::new(EXPECTED_PURCHASES, vec![2.0; n]),
            ForecastColumn::new(EXPECTED_AVG_SPEND, vec![5.0; n]),
            ForecastColumn::new(CLV, clv),
            ForecastColumn::unwritten(CLV_IF_ALIVE, clv_if_alive),
        ] {
            forecasts.push(column).unwrap();
        }
        (rfm, forecasts)
    }

    #[test]
    fn tier_boundaries_round_cumulative_shares() {
        // 2,357 customers (CDNOW): 1% → round(23.57) = 24, 10% → round(235.7) = 236,
        // 50% → round(1178.5) = 1179 (half away from zero), 100% → 2357.
        assert_eq!(
            tier_boundaries(2357, &[1.0, 9.0, 40.0, 50.0]),
            vec![24, 236, 1179, 2357]
        );
        assert_eq!(tier_boundaries(10, &[1.0, 9.0, 40.0, 50.0]), vec![0, 1, 5, 10]);
    }

    #[test]
    fn tiers_partition_customers_by_clv_rank() {
        let (rfm, f) = ten_customers();
        let options = DecisionOptions {
            tiers: vec![20.0, 30.0, 50.0],
            ..Default::default()
        };
        let d = decide(&rfm, &f, &options).unwrap();
        assert_eq!(d.tier, vec![0, 0, 1, 1, 1, 2, 2, 2, 2, 2]);
        assert_eq!(d.tier_names, vec!["top 20%", "next 30%", "bottom 50%"]);
        let report = value_report(&rfm, &f, &d, None).unwrap();
        let members: usize = report.tiers.iter().map(|t| t.customers).sum();
        assert_eq!(members, 10);
        assert_eq!(report.tiers[0].clv, 19.0);
        assert_eq!(report.tiers.iter().map(|t| t.clv).sum::<f64>(), report.total.clv);
        assert_eq!(report.total.clv, 55.0);
        // Revenue = purchases × spend = 2 × 5 per customer.
        assert_eq!(report.tiers[1].expected_revenue, 30.0);
    }

    #[test]
    fn percentile_counts_customers_strictly_below() {
        let (rfm, f) = ten_customers();
        let d = decide(&rfm, &f, &DecisionOptions::default()).unwrap();
        // CLV 10 beats 9 of 10 customers; CLV 1 beats none.
        assert_eq!(d.clv_percentile[0], 90.0);
        assert_eq!(d.clv_percentile[9], 0.0);
        assert_eq!(d.clv_percentile[4], 50.0);
    }

    #[test]
    fn status_rules_apply_in_order() {
        let (rfm, f) = ten_customers();
        let options = DecisionOptions {
            high_value_top_percent: 20.0,
            ..Default::default()
        };
        let d = decide(&rfm, &f, &options).unwrap();
        use Status::*;
        // c0: p 0.9, CLV top 20% → active high value. c1: p 0.8, CLV 9 top-2 → active high value.
        // c2: x = 0 → one-time. c3: p 0.3, history 5×50 = 250 (2nd) → at risk high value.
        // c4: p 0.05 → lapsed. c5: p 0.6 → active. c6: p 0.4, history 800 (1st) → at risk high value.
        // c7, c8: active. c9: T = 3 weeks = 21 days ≤ 30 → new.
        assert_eq!(
            d.status,
            vec![
                ActiveHighValue,
                ActiveHighValue,
                OneTime,
                AtRiskHighValue,
                Lapsed,
                Active,
                AtRiskHighValue,
                Active,
                Active,
                New
            ]
        );
        // Value at stake = E[CLV | alive] × (1 − P(alive)) = CLV/P(alive) × (1 − P(alive)):
        // c3 7/0.3 × 0.7 = 16.333…, c6 4/0.4 × 0.6 = 6; c4, nearly lost: 6/0.05 × 0.95 = 114.
        assert!((d.value_at_stake[3] - 49.0 / 3.0).abs() < 1e-12);
        assert!((d.value_at_stake[6] - 6.0).abs() < 1e-12);
        assert!((d.value_at_stake[4] - 114.0).abs() < 1e-12);
        let report = value_report(&rfm, &f, &d, None).unwrap();
        assert_eq!(report.at_risk_high_value, vec![3, 6]);
        assert_eq!(report.statuses.iter().map(|s| s.customers).sum::<usize>(), 10);
    }

    #[test]
    fn top_share_takes_ties_in_table_order() {
        // Values 5, 7, 7, 1, 7, 3: the top 50% is 3 customers. Sorted descending with ties in
        // table order: 7 (1), 7 (2), 7 (4), 5 (0), ... → customers 1, 2 and 4. At 33.3%
        // (round(1.998) = 2): customers 1 and 2, the first two sevens.
        let key = [5.0, 7.0, 7.0, 1.0, 7.0, 3.0];
        assert_eq!(top_share(&key, 50.0), vec![false, true, true, false, true, false]);
        assert_eq!(top_share(&key, 33.3), vec![false, true, true, false, false, false]);
        // 4 customers: 7, 7, 7 and then 5 (customer 0).
        assert_eq!(top_share(&key, 66.7), vec![true, true, true, false, true, false]);
        assert_eq!(top_share(&key, 100.0), vec![true; 6]);
        assert_eq!(top_share(&[], 10.0), Vec::<bool>::new());
    }

    #[test]
    fn percentile_and_tiers_with_tied_clv() {
        // CLVs 4, 4, 4, 2, 2, 9, 1, 1, 1, 1: a customer at 4 has the six at 2 and 1 below (60%),
        // at 2 the four at 1 (40%), at 1 nobody, at 9 everybody else (90%).
        let (rfm, f) = ten_customers_with_clv(vec![4.0, 4.0, 4.0, 2.0, 2.0, 9.0, 1.0, 1.0, 1.0, 1.0]);
        let options = DecisionOptions {
            tiers: vec![20.0, 30.0, 50.0],
            ..Default::default()
        };
        let d = decide(&rfm, &f, &options).unwrap();
        assert_eq!(
            d.clv_percentile,
            vec![60.0, 60.0, 60.0, 40.0, 40.0, 90.0, 0.0, 0.0, 0.0, 0.0]
        );
        // Ranks: 9 (5), 4 (0) | 4 (1), 4 (2), 2 (3) | 2 (4) and the 1s: ties split in table order.
        assert_eq!(d.tier, vec![0, 1, 1, 1, 2, 0, 2, 2, 2, 2]);
    }

    #[test]
    fn tiers_must_add_up_to_100() {
        let (rfm, f) = ten_customers();
        let options = DecisionOptions {
            tiers: vec![10.0, 80.0],
            ..Default::default()
        };
        let err = decide(&rfm, &f, &options).unwrap_err().to_string();
        assert!(err.contains("add up to 100"), "{err}");
    }
}
