//! Calendar periods: the opportunities of a discrete-time summary (a yearly drive, a weekly slot)
//! and the renewal periods of a subscription. Periods follow the calendar (a month is a calendar
//! month, not 30.44 days), and consecutive periods have consecutive indices.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::transactions::{epoch_days, from_epoch_days};

/// A calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    /// Monday to Sunday (ISO 8601 weeks).
    Week,
    Month,
    Quarter,
    Year,
}

impl Period {
    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// The period's mean length in months (a year is 12, a day 12/365.25): how a monthly
    /// discount rate becomes a rate per period.
    pub fn months(self) -> f64 {
        match self {
            Period::Day => 12.0 / 365.25,
            Period::Week => 7.0 * 12.0 / 365.25,
            Period::Month => 1.0,
            Period::Quarter => 3.0,
            Period::Year => 12.0,
        }
    }

    /// Index of the period holding `day` (days since 1970-01-01).
    pub fn index(self, day: i32) -> i32 {
        let date = from_epoch_days(day);
        match self {
            Period::Day => day,
            // 1970-01-01 was a Thursday: the Monday of its week is day −3.
            Period::Week => (day + 3).div_euclid(7),
            Period::Month => date.year() * 12 + date.month0() as i32,
            Period::Quarter => date.year() * 4 + (date.month0() / 3) as i32,
            Period::Year => date.year(),
        }
    }

    /// First day of the period with index `index` (days since 1970-01-01).
    pub fn start(self, index: i32) -> i32 {
        let first_of =
            |year: i32, month0: i32| NaiveDate::from_ymd_opt(year, month0 as u32 + 1, 1).map_or(i32::MAX, epoch_days);
        match self {
            Period::Day => index,
            Period::Week => 7 * index - 3,
            Period::Month => first_of(index.div_euclid(12), index.rem_euclid(12)),
            Period::Quarter => first_of(index.div_euclid(4), 3 * index.rem_euclid(4)),
            Period::Year => first_of(index, 0),
        }
    }

    /// The day `k` periods after `start` (its anniversary: a month after 31 January is the last
    /// day of February, two months after it 31 March).
    pub fn after(self, start: i32, k: u32) -> i32 {
        let months = |m: u32| {
            from_epoch_days(start)
                .checked_add_months(Months::new(m))
                .map_or(i32::MAX, epoch_days)
        };
        match self {
            Period::Day => start.saturating_add(k as i32),
            Period::Week => start.saturating_add(7 * k as i32),
            Period::Month => months(k),
            Period::Quarter => months(3 * k),
            Period::Year => months(12 * k),
        }
    }

    /// Whole periods from `start` completed by `day`: the largest k with `after(start, k) ≤ day`
    /// (0 when `day` is before the first anniversary, or before `start`).
    pub fn whole_periods(self, start: i32, day: i32) -> u32 {
        let longest = match self {
            Period::Day => 1,
            Period::Week => 7,
            Period::Month => 31,
            Period::Quarter => 92,
            Period::Year => 366,
        };
        // A lower bound, then up by the few periods shorter than the longest.
        let mut k = ((day - start).max(0) / longest) as u32;
        while self.after(start, k + 1) <= day {
            k += 1;
        }
        k
    }

    /// The period with index `index` as people write it: 1996, 1996-Q1, 1996-03, or its first
    /// day for weeks and days.
    pub fn label(self, index: i32) -> String {
        match self {
            Period::Year => index.to_string(),
            Period::Quarter => format!("{}-Q{}", index.div_euclid(4), index.rem_euclid(4) + 1),
            Period::Month => format!("{}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1),
            Period::Week | Period::Day => from_epoch_days(self.start(index)).to_string(),
        }
    }

    /// Index of the last period that has ended by the end of `day` (the period holding `day` if
    /// `day` is its last day, else the one before).
    pub fn last_complete(self, day: i32) -> i32 {
        let holding = self.index(day);
        match self.start(holding + 1) - 1 == day {
            true => holding,
            false => holding - 1,
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i32 {
        epoch_days(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn periods_follow_the_calendar() {
        // 2024-03-04 is a Monday; 2024-03-03 a Sunday, the end of the week before.
        assert_eq!(
            Period::Week.index(day(2024, 3, 4)),
            Period::Week.index(day(2024, 3, 10))
        );
        assert_eq!(
            Period::Week.index(day(2024, 3, 3)) + 1,
            Period::Week.index(day(2024, 3, 4))
        );
        assert_eq!(Period::Week.start(Period::Week.index(day(2024, 3, 7))), day(2024, 3, 4));
        // Months, quarters and years are consecutive across year ends.
        assert_eq!(
            Period::Month.index(day(2024, 12, 31)) + 1,
            Period::Month.index(day(2025, 1, 1))
        );
        assert_eq!(
            Period::Quarter.index(day(2024, 12, 31)) + 1,
            Period::Quarter.index(day(2025, 1, 1))
        );
        assert_eq!(
            Period::Quarter.start(Period::Quarter.index(day(2024, 8, 15))),
            day(2024, 7, 1)
        );
        assert_eq!(
            Period::Month.start(Period::Month.index(day(2024, 2, 29))),
            day(2024, 2, 1)
        );
        assert_eq!(
            Period::Year.start(Period::Year.index(day(1969, 7, 20))),
            day(1969, 1, 1)
        );
        for p in [Period::Day, Period::Week, Period::Month, Period::Quarter, Period::Year] {
            for d in [day(1965, 3, 1), day(1999, 12, 31), day(2024, 2, 29)] {
                let i = p.index(d);
                assert!(p.start(i) <= d && d < p.start(i + 1), "{p} {d}");
            }
        }
    }

    #[test]
    fn anniversaries_follow_the_calendar_and_count_whole_periods() {
        let start = day(2024, 1, 31);
        assert_eq!(Period::Month.after(start, 1), day(2024, 2, 29));
        assert_eq!(Period::Month.after(start, 2), day(2024, 3, 31));
        assert_eq!(Period::Quarter.after(start, 1), day(2024, 4, 30));
        assert_eq!(Period::Year.after(day(2024, 2, 29), 1), day(2025, 2, 28));
        assert_eq!(Period::Week.after(start, 2), start + 14);
        // By 2024-03-30 one month has passed (29 February), by 31 March two.
        assert_eq!(Period::Month.whole_periods(start, day(2024, 2, 28)), 0);
        assert_eq!(Period::Month.whole_periods(start, day(2024, 2, 29)), 1);
        assert_eq!(Period::Month.whole_periods(start, day(2024, 3, 30)), 1);
        assert_eq!(Period::Month.whole_periods(start, day(2024, 3, 31)), 2);
        assert_eq!(Period::Year.whole_periods(day(2000, 6, 1), day(2010, 5, 31)), 9);
        assert_eq!(Period::Year.whole_periods(day(2000, 6, 1), day(2010, 6, 1)), 10);
        assert_eq!(Period::Day.whole_periods(10, 9), 0);
        for p in [Period::Day, Period::Week, Period::Month, Period::Quarter, Period::Year] {
            for d in (start..start + 800).step_by(37) {
                let k = p.whole_periods(start, d);
                assert!(p.after(start, k) <= d && d < p.after(start, k + 1), "{p} {d}");
            }
        }
    }

    #[test]
    fn a_period_is_complete_on_its_last_day() {
        assert_eq!(Period::Year.last_complete(day(2001, 12, 31)), 2001);
        assert_eq!(Period::Year.last_complete(day(2001, 12, 30)), 2000);
        assert_eq!(Period::Month.last_complete(day(2024, 2, 29)), 2024 * 12 + 1);
        assert_eq!(Period::Month.last_complete(day(2024, 2, 28)), 2024 * 12);
        assert_eq!(Period::Day.last_complete(17), 17);
    }
}
