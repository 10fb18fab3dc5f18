//! The value report: totals by tier, status and cohort, value concentration and acquisition
//! economics (CLV:CAC), from the per-customer decisions.

use chrono::Datelike;
use rayon::slice::ParallelSliceMut;

use super::{CustomerDecisions, Status};
use crate::data::summary::CustomerSummary;
use crate::data::transactions::from_epoch_days;
use crate::error::{ClvError, Result};
use crate::forecast::intervals::{AggregateIntervals, CustomerGroups};
use crate::forecast::new_customer::{CohortNewCustomer, NewCustomerValue};
use crate::forecast::{Forecasts, CLV, EXPECTED_AVG_SPEND, EXPECTED_PURCHASES};

/// Totals of one group of customers (a tier, a status or a cohort).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTotals {
    pub name: String,
    pub customers: usize,
    pub expected_purchases: f64,
    /// Expected purchases × expected spend over the forecast horizon (undiscounted revenue).
    pub expected_revenue: f64,
    pub clv: f64,
    /// The interval of `clv` from parameter uncertainty (`ValueReport::interval_level`), the
    /// group's membership fixed.
    pub clv_interval: Option<(f64, f64)>,
}

impl GroupTotals {
    pub fn mean_clv(&self) -> f64 {
        if self.customers == 0 {
            0.0
        } else {
            self.clv / self.customers as f64
        }
    }
}

/// Acquisition economics for a given cost to acquire a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Acquisition {
    pub cac: f64,
    /// The value of a customer acquired now divided by CAC: a new customer's expected CLV when
    /// it is known (`with_new_customer`), else the mean CLV of the current customers.
    pub clv_to_cac: f64,
    /// The CAC at which acquiring one more customer just pays back: a new customer's expected
    /// CLV when it is known, else the mean CLV of the current customers.
    pub break_even_cac: f64,
    /// The mean residual CLV of the customers already acquired: what they are still worth.
    pub mean_clv: f64,
    /// A customer acquired now: her first purchase and her expected repeat purchases.
    pub new_customer: Option<NewCustomerValue>,
    /// Mean CLV / CAC per tier, in tier order.
    pub clv_to_cac_by_tier: Vec<f64>,
    /// A new customer's value per acquisition cohort, each cohort fitted alone (empty when not
    /// asked for): `with_new_customer_by_cohort`.
    pub new_customer_by_cohort: Vec<CohortNewCustomer>,
}

impl ValueReport {
    /// The acquisition economics with a new customer's expected CLV as the value of acquiring
    /// one (the break-even CAC); the current customers' mean CLV stays beside it.
    pub fn with_new_customer(mut self, new_customer: Option<NewCustomerValue>) -> Self {
        if let (Some(a), Some(v)) = (self.acquisition.as_mut(), new_customer) {
            a.new_customer = Some(v);
            a.break_even_cac = v.clv;
            a.clv_to_cac = v.clv / a.cac;
        }
        self
    }

    /// The acquisition economics with a new customer's value per acquisition cohort.
    pub fn with_new_customer_by_cohort(mut self, by_cohort: Vec<CohortNewCustomer>) -> Self {
        if let Some(a) = self.acquisition.as_mut() {
            a.new_customer_by_cohort = by_cohort;
        }
        self
    }
}

/// The value report: concentration, tiers, at-risk customers, cohorts, acquisition economics.
#[derive(Debug, Clone)]
pub struct ValueReport {
    pub total: GroupTotals,
    /// (percent of customers, share of total CLV in percent) for the top 1, 2, ..., 100%.
    pub concentration: Vec<(f64, f64)>,
    pub tiers: Vec<GroupTotals>,
    pub statuses: Vec<GroupTotals>,
    /// Customers with status "at risk high value", largest value at stake first.
    pub at_risk_high_value: Vec<usize>,
    /// Customers by month of first purchase (YYYY-MM), in month order; empty without first purchases.
    pub cohorts: Vec<GroupTotals>,
    pub acquisition: Option<Acquisition>,
    /// The level of the groups' CLV intervals, when they were drawn (`with_intervals`).
    pub interval_level: Option<f64>,
}

/// A partition of the customers for the report: the groups' names, and each customer's group.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub names: Vec<String>,
    pub of_customer: Vec<u32>,
}

impl Grouping {
    /// As the intervals take it.
    pub fn customer_groups(&self) -> CustomerGroups<'_> {
        CustomerGroups {
            of_customer: &self.of_customer,
            groups: self.names.len(),
        }
    }
}

/// The report's partitions of the customers: value tiers, statuses and, with first purchases,
/// cohorts by month of first purchase, in that order.
pub fn report_groupings(summary: &dyn CustomerSummary, decisions: &CustomerDecisions) -> Vec<Grouping> {
    let status_position = |s: Status| Status::ALL.iter().position(|&t| t == s).unwrap_or(0) as u32;
    let mut groupings = vec![
        Grouping {
            names: decisions.tier_names.clone(),
            of_customer: decisions.tier.iter().map(|&t| t as u32).collect(),
        },
        Grouping {
            names: Status::ALL.iter().map(|s| s.as_str().to_string()).collect(),
            of_customer: decisions.status.iter().map(|&s| status_position(s)).collect(),
        },
    ];
    // Cohorts by month of first purchase: month numbers are a short contiguous range.
    if let Some(first) = summary.first_transaction_days().filter(|f| !f.is_empty()) {
        let months: Vec<i32> = first.iter().map(|&d| month_number(d)).collect();
        let lowest = months.iter().copied().min().unwrap_or(0);
        let highest = months.iter().copied().max().unwrap_or(0);
        groupings.push(Grouping {
            names: (lowest..=highest)
                .map(|m| format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1))
                .collect(),
            of_customer: months.iter().map(|&m| (m - lowest) as u32).collect(),
        });
    }
    groupings
}

impl ValueReport {
    /// The report with the intervals of its totals: `intervals` drawn with the groupings of
    /// `report_groupings` (tiers, statuses, cohorts) in `AggregateIntervals::group_clv`.
    pub fn with_intervals(mut self, groupings: &[Grouping], intervals: &AggregateIntervals) -> Self {
        let Some(total) = intervals.clv else {
            return self;
        };
        self.total.clv_interval = Some((total.lo, total.hi));
        let groups = [&mut self.tiers, &mut self.statuses, &mut self.cohorts];
        for ((report_groups, grouping), totals) in groups.into_iter().zip(groupings).zip(&intervals.group_clv) {
            for group in report_groups.iter_mut() {
                if let Some(k) = grouping.names.iter().position(|n| *n == group.name) {
                    group.clv_interval = totals.get(k).map(|t| (t.lo, t.hi));
                }
            }
        }
        self.interval_level = Some(intervals.level);
        self
    }
}

/// Share of the total held by the top `percent` of customers (ranked by CLV), in percent.
pub fn top_share_of_value(clv: &[f64], percent: f64) -> f64 {
    concentration_curve(clv, &[percent])[0].1
}

/// (percent, share of total CLV held by the top `percent` of customers) for each of `percents`,
/// from one sort and running sums.
fn concentration_curve(clv: &[f64], percents: &[f64]) -> Vec<(f64, f64)> {
    let total: f64 = clv.iter().sum();
    let mut sorted = clv.to_vec();
    sorted.par_sort_unstable_by(|a, b| b.total_cmp(a));
    let mut cumulative = Vec::with_capacity(clv.len() + 1);
    cumulative.push(0.0);
    for v in sorted {
        cumulative.push(cumulative[cumulative.len() - 1] + v);
    }
    percents
        .iter()
        .map(|&percent| {
            let count = (((clv.len() as f64) * percent / 100.0).round() as usize).min(clv.len());
            let share = if total == 0.0 {
                0.0
            } else {
                100.0 * cumulative[count] / total
            };
            (percent, share)
        })
        .collect()
}

impl GroupTotals {
    fn empty(name: String) -> Self {
        GroupTotals {
            name,
            customers: 0,
            expected_purchases: 0.0,
            expected_revenue: 0.0,
            clv: 0.0,
            clv_interval: None,
        }
    }

    fn add(&mut self, i: usize, columns: &TotalledColumns) {
        self.customers += 1;
        self.expected_purchases += columns.expected_purchases[i];
        self.expected_revenue += columns.expected_purchases[i] * columns.spend.get(i).copied().unwrap_or(0.0);
        self.clv += columns.clv.get(i).copied().unwrap_or(0.0);
    }
}

/// The forecasts a group's totals add up (spend and CLV empty without a spend model).
struct TotalledColumns<'a> {
    expected_purchases: &'a [f64],
    spend: &'a [f64],
    clv: &'a [f64],
}

impl<'a> TotalledColumns<'a> {
    fn of(forecasts: &'a Forecasts) -> Result<Self> {
        Ok(Self {
            expected_purchases: forecasts.require(EXPECTED_PURCHASES, "the value report's totals")?,
            spend: forecasts.column(EXPECTED_AVG_SPEND).unwrap_or(&[]),
            clv: forecasts.column(CLV).unwrap_or(&[]),
        })
    }
}

/// Totals of the groups `group_of` puts each customer in (one pass over the customers).
fn group_totals(
    names: Vec<String>,
    group_of: impl Fn(usize) -> usize,
    n: usize,
    columns: &TotalledColumns,
) -> Vec<GroupTotals> {
    let mut groups: Vec<GroupTotals> = names.into_iter().map(GroupTotals::empty).collect();
    for i in 0..n {
        groups[group_of(i)].add(i, columns);
    }
    groups
}

/// Months since year 0 (year · 12 + month − 1) of a day given as days since 1970-01-01.
fn month_number(day: i32) -> i32 {
    let date = from_epoch_days(day);
    date.year() * 12 + date.month0() as i32
}

/// Builds the value report from the decisions; `cac` adds acquisition economics.
pub fn value_report(
    summary: &dyn CustomerSummary,
    forecasts: &Forecasts,
    decisions: &CustomerDecisions,
    cac: Option<f64>,
) -> Result<ValueReport> {
    let columns = TotalledColumns::of(forecasts)?;
    let clv = columns.clv;
    let n = clv.len();
    let total = group_totals(vec!["all customers".into()], |_| 0, n, &columns).remove(0);
    let percents: Vec<f64> = (1..=100).map(f64::from).collect();
    let concentration = concentration_curve(clv, &percents);
    let mut groupings = report_groupings(summary, decisions).into_iter().map(|grouping| {
        let Grouping { names, of_customer } = grouping;
        group_totals(names, |i| of_customer[i] as usize, n, &columns)
    });
    let tiers = groupings.next().unwrap_or_default();
    let statuses = groupings.next().unwrap_or_default();
    let mut cohorts = groupings.next().unwrap_or_default();
    cohorts.retain(|c| c.customers > 0);
    let mut at_risk_high_value: Vec<usize> = (0..n)
        .filter(|&i| decisions.status[i] == Status::AtRiskHighValue)
        .collect();
    at_risk_high_value.sort_by(|&i, &j| decisions.value_at_stake[j].total_cmp(&decisions.value_at_stake[i]));

    let acquisition = match cac {
        None => None,
        Some(c) if !(c.is_finite() && c > 0.0) => {
            return Err(ClvError::InvalidArgument(format!(
                "--cac must be a positive amount, not {c}"
            )))
        }
        Some(c) => Some(Acquisition {
            cac: c,
            clv_to_cac: total.mean_clv() / c,
            break_even_cac: total.mean_clv(),
            mean_clv: total.mean_clv(),
            new_customer: None,
            new_customer_by_cohort: Vec::new(),
            clv_to_cac_by_tier: tiers.iter().map(|t| t.mean_clv() / c).collect(),
        }),
    };
    Ok(ValueReport {
        total,
        concentration,
        tiers,
        statuses,
        at_risk_high_value,
        cohorts,
        acquisition,
        interval_level: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::ten_customers;
    use super::super::{decide, DecisionOptions};
    use super::*;

    #[test]
    fn concentration_shares_are_cumulative_and_reach_100() {
        let (rfm, f) = ten_customers();
        let d = decide(&rfm, &f, &DecisionOptions::default()).unwrap();
        let report = value_report(&rfm, &f, &d, None).unwrap();
        // Top 10% = 1 customer = 10 of 55; top 20% = 19 of 55.
        assert!((top_share_of_value(f.column(CLV).unwrap(), 10.0) - 1000.0 / 55.0).abs() < 1e-12);
        assert!((report.concentration[19].1 - 1900.0 / 55.0).abs() < 1e-12);
        assert!((report.concentration[99].1 - 100.0).abs() < 1e-12);
        assert!(report.concentration.windows(2).all(|w| w[1].1 >= w[0].1));
    }

    #[test]
    fn clv_to_cac_arithmetic() {
        let (rfm, f) = ten_customers();
        let options = DecisionOptions {
            tiers: vec![20.0, 30.0, 50.0],
            ..Default::default()
        };
        let d = decide(&rfm, &f, &options).unwrap();
        let a = value_report(&rfm, &f, &d, Some(2.0)).unwrap().acquisition.unwrap();
        // Mean CLV 5.5: CLV:CAC 2.75 and break-even CAC 5.5; tiers: (10+9)/2 = 9.5 → 4.75,
        // (8+7+6)/3 = 7 → 3.5, (5+4+3+2+1)/5 = 3 → 1.5.
        assert_eq!(a.clv_to_cac, 2.75);
        assert_eq!(a.break_even_cac, 5.5);
        assert_eq!(a.clv_to_cac_by_tier, vec![4.75, 3.5, 1.5]);
        assert!(value_report(&rfm, &f, &d, Some(0.0)).is_err());
    }

    #[test]
    fn cohorts_group_by_month_of_first_purchase() {
        let (rfm, f) = ten_customers();
        let d = decide(&rfm, &f, &DecisionOptions::default()).unwrap();
        let report = value_report(&rfm, &f, &d, None).unwrap();
        // Days 0 → 1970-01, 31 → 1970-02, 59 → 1970-03, 130 → 1970-05.
        let names: Vec<&str> = report.cohorts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["1970-01", "1970-02", "1970-03", "1970-05"]);
        assert_eq!(report.cohorts[1].customers, 4);
        assert_eq!(report.cohorts[1].clv, 8.0 + 7.0 + 6.0 + 5.0);
        assert_eq!(report.cohorts[1].mean_clv(), 6.5);
    }
}
