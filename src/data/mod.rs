//! Data in and out: transaction logs, RFM summaries, and the tables `clv` writes.

pub mod compressed;
pub mod contractual;
pub mod conventions;
mod csv_text;
pub mod discrete;
pub mod io;
mod log_cells;
pub mod period;
mod plain_csv;
mod plain_fields;
mod plain_log;
mod plain_rfm;
pub mod rfm;
pub mod rfm_table;
pub mod sql;
pub mod summary;
pub mod transactions;

use serde::{Deserialize, Serialize};

/// Average days in a month, 365.25/12: the one month length used everywhere (summaries in
/// months, CLV's monthly discounting), so weeks, days and months never mix silently.
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// The unit in which recency, T, horizons and the rate parameter α are measured.
/// Times are always measured at daily resolution and divided by the unit's length in days,
/// so weeks are fractional (days/7), as in the papers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Days,
    Weeks,
    Months,
}

impl TimeUnit {
    /// Length of one unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
            TimeUnit::Months => DAYS_PER_MONTH,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "days" | "day" | "d" => Some(TimeUnit::Days),
            "weeks" | "week" | "w" => Some(TimeUnit::Weeks),
            "months" | "month" | "m" => Some(TimeUnit::Months),
            _ => None,
        }
    }

    /// How many of this unit make one month of `DAYS_PER_MONTH` days.
    pub fn per_month(self) -> f64 {
        DAYS_PER_MONTH / self.days()
    }
}

impl std::fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
