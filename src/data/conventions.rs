//! The summary conventions, written once. Every rule by which a transaction log becomes a
//! customer summary is numbered here, with the columns it defines; `rfm.rs` and `discrete.rs`
//! cite the rule each step applies, `RfmTable` reads the same names, and any other
//! implementation (the warehouse SQL of the scale issue) follows this list and is tested against
//! the Polars builders.
//!
//! 1. **A transaction is a customer-day**: a customer's rows on one day are one transaction, their
//!    amounts summed (in log order, so sums do not depend on threads).
//! 2. **Returns** (negative amounts) are refused, dropped or netted into their day as the log's
//!    `NegativeAmounts` says; a netted day holding a return whose net amount is ≤ 0 is not a
//!    transaction (and is counted).
//! 3. **The observation**: rows dated after the observation end (default: the last date in the
//!    log) are left out and counted; the calibration period, with a calibration end, runs to it,
//!    else to the observation end.
//! 4. **Customers** are those whose first transaction is in the calibration period; those who
//!    first buy later are left out and counted.
//! 5. **Times** are whole days divided by the time unit's length in days (`in_units`): weeks are
//!    fractional (days / 7) and months are 365.25/12 days, as in the papers.
//! 6. **frequency** (x) counts the calibration transactions after the first; **recency** (t_x)
//!    is the time from the first to the last of them (0 when x = 0); **T** the time from the first
//!    to the calibration end.
//! 7. **monetary_value** is the mean amount of the repeat transactions only, the first excluded
//!    (`mean_or_zero`: 0 when x = 0), as the Gamma-Gamma model reads it.
//! 8. **The holdout** (with a calibration end): frequency_holdout counts the transactions after
//!    the calibration end up to the observation end, monetary_value_holdout is their mean amount
//!    (every holdout transaction counts: none is "first"; 0 when none), duration_holdout is the
//!    holdout's length in the time unit.
//! 9. **first_purchase** is the date of the first transaction (the acquisition cohort).
//!
//! The discrete-time summary (`discrete.rs`) applies rules 1–4 and 9 and counts transactions per
//! calendar period instead of per day (its module notes).

use super::TimeUnit;

/// One column of the RFM summary: its name, other names a table may give it when read (ours and
/// `lifetimes`' first, then the papers'), and the rule that defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryColumn {
    pub name: &'static str,
    pub also_read_as: &'static [&'static str],
    pub rule: u8,
}

impl SummaryColumn {
    /// The names it is read by, its own first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name).chain(self.also_read_as.iter().copied())
    }
}

pub const CUSTOMER_ID: SummaryColumn = SummaryColumn {
    name: "customer_id",
    also_read_as: &["ID", "id", "customer"],
    rule: 4,
};
pub const FREQUENCY: SummaryColumn = SummaryColumn {
    name: "frequency",
    also_read_as: &["x"],
    rule: 6,
};
pub const RECENCY: SummaryColumn = SummaryColumn {
    name: "recency",
    also_read_as: &["t_x"],
    rule: 6,
};
pub const AGE: SummaryColumn = SummaryColumn {
    name: "T",
    also_read_as: &[],
    rule: 6,
};
pub const MONETARY_VALUE: SummaryColumn = SummaryColumn {
    name: "monetary_value",
    also_read_as: &["zbar"],
    rule: 7,
};
pub const FREQUENCY_HOLDOUT: SummaryColumn = SummaryColumn {
    name: "frequency_holdout",
    also_read_as: &[],
    rule: 8,
};
pub const MONETARY_VALUE_HOLDOUT: SummaryColumn = SummaryColumn {
    name: "monetary_value_holdout",
    also_read_as: &[],
    rule: 8,
};
pub const DURATION_HOLDOUT: SummaryColumn = SummaryColumn {
    name: "duration_holdout",
    also_read_as: &[],
    rule: 8,
};
pub const FIRST_PURCHASE: SummaryColumn = SummaryColumn {
    name: "first_purchase",
    also_read_as: &[],
    rule: 9,
};
pub const TIME_UNIT: SummaryColumn = SummaryColumn {
    name: "time_unit",
    also_read_as: &[],
    rule: 5,
};

/// The RFM summary's columns in the order `clv summarize` writes them (the amount columns only
/// with amounts, the holdout ones only with a calibration end).
pub const RFM_COLUMNS: [SummaryColumn; 10] = [
    CUSTOMER_ID,
    FREQUENCY,
    RECENCY,
    AGE,
    MONETARY_VALUE,
    FREQUENCY_HOLDOUT,
    MONETARY_VALUE_HOLDOUT,
    DURATION_HOLDOUT,
    FIRST_PURCHASE,
    TIME_UNIT,
];

/// Rule 5: a span of whole days in the time unit.
pub fn in_units(days: i32, unit: TimeUnit) -> f64 {
    f64::from(days) / unit.days()
}

/// Rules 7 and 8: the mean amount of `transactions` transactions totalling `total`, 0 without any.
pub fn mean_or_zero(total: f64, transactions: u32) -> f64 {
    match transactions {
        0 => 0.0,
        n => total / f64::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_days_over_the_units_length_and_means_leave_out_nothing_or_are_zero() {
        // 10 days: 10/7 = 1.4285714285714286 weeks, 10/(365.25/12) = 0.3285420944558522 months.
        assert_eq!(in_units(10, TimeUnit::Weeks), 10.0 / 7.0);
        assert!((in_units(10, TimeUnit::Months) - 0.3285420944558522).abs() < 1e-16);
        assert_eq!(in_units(10, TimeUnit::Days), 10.0);
        assert_eq!(mean_or_zero(90.0, 2), 45.0);
        assert_eq!(mean_or_zero(0.0, 0), 0.0);
    }

    #[test]
    fn every_column_has_a_rule_and_no_name_is_read_twice() {
        let mut names: Vec<&str> = RFM_COLUMNS.iter().flat_map(|c| c.names()).collect();
        assert!(RFM_COLUMNS.iter().all(|c| (1..=9).contains(&c.rule)));
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }
}
