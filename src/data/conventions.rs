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
//!    (`mean_or_zero`: 0 when x = 0), as the Gamma-Gamma model reads it, to 12 significant
//!    digits (`without_float_noise`: a mean of whole cents reads 808.33, not the
//!    808.3300000000002 that adding in binary leaves).
//! 8. **The holdout** (with a calibration end): frequency_holdout counts the transactions after
//!    the calibration end up to the observation end, monetary_value_holdout is their mean amount
//!    (every holdout transaction counts: none is "first"; 0 when none; 12 significant digits, as
//!    in rule 7), duration_holdout is the
//!    holdout's length in the time unit.
//! 9. **first_purchase** is the date of the first transaction (the acquisition cohort).
//! 10. **The compressed summary** (`compressed.rs`, `clv summarize --compressed`, `clv sql
//!     --compressed`) has one row per distinct (frequency, recency, T) with **customers**, the
//!     number of customers with that history, and one row per distinct (frequency,
//!     monetary_value) with its customers (monetary_value rounded to the given decimals, cents by
//!     default), each kind of row leaving the other's columns empty: the two grouping sets of
//!     one SQL `GROUP BY GROUPING SETS`. The purchase model fits on the first kind, Gamma-Gamma
//!     on the second, each row weighing as many customers as it counts.
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
pub const CUSTOMERS: SummaryColumn = SummaryColumn {
    name: "customers",
    also_read_as: &[],
    rule: 10,
};
pub const TIME_UNIT: SummaryColumn = SummaryColumn {
    name: "time_unit",
    also_read_as: &[],
    rule: 5,
};

/// The summary columns a reader takes as numbers (rules 6, 7 and 10).
pub static NUMERIC_COLUMNS: [SummaryColumn; 5] = [FREQUENCY, RECENCY, AGE, MONETARY_VALUE, CUSTOMERS];

/// Every name the numeric columns are read by.
pub fn numeric_column_names() -> Vec<&'static str> {
    NUMERIC_COLUMNS.iter().flat_map(SummaryColumn::names).collect()
}

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

/// Rules 7 and 8: the mean amount of `transactions` transactions totalling `total`, 0 without
/// any, to 12 significant digits.
pub fn mean_or_zero(total: f64, transactions: u32) -> f64 {
    match transactions {
        0 => 0.0,
        n => without_float_noise(total / f64::from(n)),
    }
}

/// Significant digits kept by `without_float_noise`: far beyond any amount's precision (a
/// trillion in cents is 14 digits, but no customer's mean purchase is), far short of the 17 at
/// which binary rounding shows.
pub const SIGNIFICANT_DIGITS: i32 = 12;

/// `v` to `SIGNIFICANT_DIGITS` significant digits: the nearest double to the decimal with that
/// many digits, so that it prints as such (13.38, not 13.379999999999999). Zero, non-finite and
/// subnormal-scale values (below 1e-280) are returned as they are.
pub fn without_float_noise(v: f64) -> f64 {
    to_significant_digits(v, SIGNIFICANT_DIGITS)
}

/// `v` to `digits` significant digits (1 to 15), as `without_float_noise`.
pub fn to_significant_digits(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() || v.abs() < 1e-280 {
        return v;
    }
    // v = m · 10^e with m of `digits` digits; 10^k is exact for k ≤ 22, and one correctly
    // rounded division or multiplication by it gives the nearest double to m · 10^e.
    let exponent = digits - 1 - v.abs().log10().floor() as i32;
    match exponent {
        0..=22 => {
            let scale = 10f64.powi(exponent);
            (v * scale).round() / scale
        }
        -22..=-1 => {
            let scale = 10f64.powi(-exponent);
            (v / scale).round() * scale
        }
        // Values beyond 1e33 or below 1e-11: no amount, left as computed.
        _ => v,
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
    fn float_noise_goes_and_twelve_significant_digits_stay() {
        let shown = |v: f64| without_float_noise(v).to_string();
        // Sums in binary: 0.1 + 0.2 = 0.30000000000000004; the CDNOW sample's means and products.
        assert_eq!(shown(0.1 + 0.2), "0.3");
        assert_eq!(shown(808.3300000000002), "808.33");
        assert_eq!(shown(100.00000000000001), "100");
        assert_eq!(shown(13.379999999999999), "13.38");
        assert_eq!(shown(-670.1700000000001), "-670.17");
        // A real repeating decimal keeps 12 digits: 71.2/3 = 23.7333…, 1e6/7 = 142857.142857…
        assert_eq!(shown(71.2 / 3.0), "23.7333333333");
        assert_eq!(shown(1e6 / 7.0), "142857.142857");
        assert_eq!(shown(1.0 / 7.0), "0.142857142857");
        // Large amounts: 12 digits, then zeros (10^k multiplications are exact to 10^22).
        assert_eq!(shown(1234567890123456.0), "1234567890120000");
        assert_eq!(shown(2.5e25 / 3.0), "8333333333330000000000000");
        // A product of a 12-digit mean, 19 × (808.33 / 19 to 12 digits) = 808.3299999995…, reads
        // as 808.33 at 10 digits.
        let mean = without_float_noise(808.33 / 19.0);
        assert_eq!(mean.to_string(), "42.5436842105");
        assert_eq!(to_significant_digits(19.0 * mean, 10).to_string(), "808.33");
        // Left alone: zero, non-finite, and scales no amount has.
        assert_eq!(without_float_noise(0.0), 0.0);
        assert!(without_float_noise(f64::NAN).is_nan());
        assert_eq!(without_float_noise(f64::INFINITY), f64::INFINITY);
        assert_eq!(without_float_noise(1e-300 / 3.0), 1e-300 / 3.0);
        assert_eq!(without_float_noise(1e40 / 3.0), 1e40 / 3.0);
        // The mean of rules 7 and 8 is the rounded one: (19.99 + 19.99 + 12.34) / 3 = 17.44, which
        // the division in binary gives as 17.439999999999998.
        assert_eq!(((19.99 + 19.99 + 12.34) / 3.0).to_string(), "17.439999999999998");
        assert_eq!(mean_or_zero(19.99 + 19.99 + 12.34, 3).to_string(), "17.44");
    }

    #[test]
    fn every_column_has_a_rule_and_no_name_is_read_twice() {
        let mut names: Vec<&str> = RFM_COLUMNS.iter().flat_map(|c| c.names()).collect();
        assert!(RFM_COLUMNS.iter().all(|c| (1..=9).contains(&c.rule)));
        assert_eq!(CUSTOMERS.rule, 10);
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }
}
