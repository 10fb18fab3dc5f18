//! Contractual histories (sBG): per cohort, the customers who churned after each number of
//! periods and those still customers.

use crate::models::BitsMap;

/// One distinct contractual history: customers of one cohort who churned at the end of period
/// `duration` (they paid for periods 1..=duration), or, not churned, are still customers after
/// `duration` renewals (right-censored: their lifetime is longer than `duration`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalRow {
    /// Index into `SurvivalHistories::cohorts`.
    pub cohort: u32,
    pub duration: u32,
    pub churned: bool,
    pub weight: f64,
}

/// The contractual summary as a retention model fits it (sBG: Fader & Hardie 2007): per cohort,
/// how many customers churned after each number of periods, and how many are still customers.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalHistories {
    cohorts: Vec<String>,
    rows: Vec<SurvivalRow>,
}

impl SurvivalHistories {
    /// From rows that may repeat a history; a churned customer with a duration of 0 (a lifetime
    /// is at least one period) or a weight that is not a positive number is an error naming the
    /// row (0-based).
    pub fn from_rows(
        cohorts: Vec<String>,
        rows: impl IntoIterator<Item = SurvivalRow>,
    ) -> Result<Self, (usize, String)> {
        let mut index: BitsMap<(u32, u32, bool), usize> = BitsMap::default();
        let mut distinct: Vec<SurvivalRow> = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            if !(row.weight.is_finite() && row.weight > 0.0) {
                return Err((i, format!("a count must be a positive number, not {}", row.weight)));
            }
            if row.churned && row.duration == 0 {
                return Err((i, "a churned customer was a customer for at least one period".into()));
            }
            if row.cohort as usize >= cohorts.len() {
                return Err((i, format!("no cohort number {}", row.cohort)));
            }
            let key = (row.cohort, row.duration, row.churned);
            match index.get(&key) {
                Some(&k) => distinct[k].weight += row.weight,
                None => {
                    index.insert(key, distinct.len());
                    distinct.push(row);
                }
            }
        }
        Ok(Self {
            cohorts,
            rows: distinct,
        })
    }

    /// A cohort's survival table: `active[t]` customers still customers after t periods
    /// (`active[0]` the cohort's size). Those lost between t − 1 and t churned at the end of
    /// period t; the `active[last]` left are censored there. A count that rises is an error
    /// naming the period.
    pub fn from_survival(cohorts: Vec<(String, Vec<f64>)>) -> Result<Self, (usize, String)> {
        let mut rows = Vec::new();
        let mut names = Vec::new();
        for (c, (name, active)) in cohorts.into_iter().enumerate() {
            for (t, pair) in active.windows(2).enumerate() {
                let lost = pair[0] - pair[1];
                if lost.is_nan() || lost < 0.0 {
                    return Err((
                        t + 1,
                        format!(
                            "cohort '{name}' has {} customers after period {} but {} after period {t}: survival cannot rise",
                            pair[1],
                            t + 1,
                            pair[0]
                        ),
                    ));
                }
                if lost > 0.0 {
                    rows.push(SurvivalRow {
                        cohort: c as u32,
                        duration: t as u32 + 1,
                        churned: true,
                        weight: lost,
                    });
                }
            }
            if let Some(&left) = active.last().filter(|&&left| left > 0.0) {
                rows.push(SurvivalRow {
                    cohort: c as u32,
                    duration: active.len() as u32 - 1,
                    churned: false,
                    weight: left,
                });
            }
            names.push(name);
        }
        Self::from_rows(names, rows)
    }

    pub fn cohorts(&self) -> &[String] {
        &self.cohorts
    }

    /// The histories as they were seen after `periods` periods: a longer one is still a customer
    /// then (censored at `periods`), whether or not she churned later. Fitting on them keeps
    /// the later periods as a holdout.
    pub fn censored_at(&self, periods: u32) -> Self {
        let rows = self.rows.iter().map(|r| match r.duration > periods {
            true => SurvivalRow {
                duration: periods,
                churned: false,
                ..*r
            },
            false => *r,
        });
        // The rows were valid and censoring keeps them so (a censored row may have duration 0).
        Self::from_rows(self.cohorts.clone(), rows).unwrap_or_else(|_| self.clone())
    }

    /// The distinct histories, in first-seen order.
    pub fn rows(&self) -> &[SurvivalRow] {
        &self.rows
    }

    /// The share of cohort `cohort` still subscribed after 0, 1, …, `last` periods, by Kaplan &
    /// Meier (1958): S(t) = Π_{j=1..t} (1 − d_j/n_j), d_j the customers who churned at period j
    /// and n_j those at risk then (every history at least j periods long, churned or not). It
    /// uses the customers censored early (a subscription that started late) for the periods they
    /// were seen, where `active_after` stops at the first censoring; for a survival table
    /// (everyone censored at its end) the two agree. `None` once nobody is at risk.
    pub fn kaplan_meier(&self, cohort: u32, last: u32) -> Vec<Option<f64>> {
        let n = last as usize + 1;
        // Per duration (capped at `last` + 1, which is at risk through `last`): all, and churned.
        let (mut ending, mut churned) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        for r in self.rows.iter().filter(|r| r.cohort == cohort) {
            let d = (r.duration as usize).min(n);
            ending[d] += r.weight;
            if r.churned {
                churned[d] += r.weight;
            }
        }
        let mut at_risk: f64 = ending[1..].iter().sum();
        let mut survival = 1.0;
        let mut curve = vec![Some(1.0).filter(|_| ending.iter().sum::<f64>() > 0.0)];
        for j in 1..n {
            if at_risk <= 0.0 {
                curve.push(None);
                continue;
            }
            survival *= 1.0 - churned[j] / at_risk;
            curve.push(Some(survival));
            at_risk -= ending[j];
        }
        curve
    }

    /// Customers still active after `t` periods in cohort `cohort`: the cohort's customers less
    /// those who churned at or before t; `None` after the cohort's last observed period (when
    /// some of it is censored before t).
    pub fn active_after(&self, cohort: u32, t: u32) -> Option<f64> {
        let of_cohort = || self.rows.iter().filter(move |r| r.cohort == cohort);
        if of_cohort().any(|r| !r.churned && r.duration < t) {
            return None;
        }
        let size: f64 = of_cohort().map(|r| r.weight).sum();
        let churned: f64 = of_cohort()
            .filter(|r| r.churned && r.duration <= t)
            .map(|r| r.weight)
            .sum();
        Some(size - churned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_survival_table_becomes_churn_counts_and_the_censored_rest() {
        // Fader & Hardie (2007)'s regular cohort, years 0–7 (shared/REFERENCE.md): 1000, 631,
        // 468, 382, 326, 289, 262, 241. Lost in year t: 369, 163, 86, 56, 37, 27, 21; 241 censored at 7.
        let active = vec![1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
        let h = SurvivalHistories::from_survival(vec![("regular".into(), active.clone())]).unwrap();
        let lost: Vec<(u32, f64)> = h
            .rows()
            .iter()
            .filter(|r| r.churned)
            .map(|r| (r.duration, r.weight))
            .collect();
        assert_eq!(
            lost,
            [
                (1, 369.0),
                (2, 163.0),
                (3, 86.0),
                (4, 56.0),
                (5, 37.0),
                (6, 27.0),
                (7, 21.0)
            ]
        );
        let censored: Vec<&SurvivalRow> = h.rows().iter().filter(|r| !r.churned).collect();
        assert_eq!(
            (censored.len(), censored[0].duration, censored[0].weight),
            (1, 7, 241.0)
        );
        // And back: the table is what the histories say survives, by Kaplan-Meier too.
        let km = h.kaplan_meier(0, 8);
        assert_eq!(km[8], None, "nobody is seen after year 7");
        for (t, &a) in active.iter().enumerate() {
            assert!((km[t].unwrap() - a / 1000.0).abs() < 1e-15, "year {t}");
            assert_eq!(h.active_after(0, t as u32), Some(a));
        }
        assert_eq!(h.active_after(0, 8), None);
        let rising = SurvivalHistories::from_survival(vec![("x".into(), vec![10.0, 8.0, 9.0])]).unwrap_err();
        assert_eq!(rising.0, 2);
    }

    #[test]
    fn histories_censored_at_k_periods_are_the_table_cut_after_k() {
        // The regular cohort's table to year 7, censored at year 4, is its table to year 4:
        // 1000, 631, 468, 382, 326, with the 326 still there censored at 4.
        let active = vec![1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
        let h = SurvivalHistories::from_survival(vec![("regular".into(), active.clone())]).unwrap();
        let cut = SurvivalHistories::from_survival(vec![("regular".into(), active[..5].to_vec())]).unwrap();
        let sorted = |h: &SurvivalHistories| {
            let mut rows: Vec<(u32, bool, f64)> = h.rows().iter().map(|r| (r.duration, r.churned, r.weight)).collect();
            rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
            rows
        };
        assert_eq!(sorted(&h.censored_at(4)), sorted(&cut));
        assert_eq!(sorted(&h.censored_at(7)), sorted(&h));
    }

    #[test]
    fn kaplan_meier_uses_the_subscriptions_censored_early() {
        // a churned after 1 period; b is seen for 1 (started late); c churned after 2; d is seen
        // for 3. S(1) = 1 − 1/4; S(2) = S(1)(1 − 1/2) (c and d at risk); S(3) = S(2) (d, no churn);
        // nobody at risk at 4. `active_after` stops at 2, where b's censoring hides the count.
        let row = |duration, churned| SurvivalRow {
            cohort: 0,
            duration,
            churned,
            weight: 1.0,
        };
        let h = SurvivalHistories::from_rows(
            vec!["all".into()],
            [row(1, true), row(1, false), row(2, true), row(3, false)],
        )
        .unwrap();
        assert_eq!(
            h.kaplan_meier(0, 4),
            [Some(1.0), Some(0.75), Some(0.375), Some(0.375), None]
        );
        assert_eq!(h.active_after(0, 2), None);
    }
}
