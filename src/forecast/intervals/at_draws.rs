//! What the intervals' pass over the distinct histories (`continuous`) evaluates at every draw
//! before it bounds anything: each (x, T)'s forecasts if alive, P(alive) from a table of powers
//! of the times, and a block's P(alive) turned from draw after draw to history after history.

use rayon::prelude::*;

use crate::forecast::continuous::IfAliveForecast;
use crate::forecast::engine::Distinct;
use crate::models::{PAliveRatio, PurchaseModel};

/// Each distinct (x, T)'s expected purchases over the horizon and discounted purchases (0 without
/// value) if alive, at each draw: pair p's at draw d at p · draws + d, NaN where they cannot be
/// evaluated. The pairs of one T are evaluated together at each draw, which lets a model share
/// work between their x (`IfAliveForecast::at_each_x`); (T, draw) tasks in parallel.
pub(super) fn if_alive_at_draws(
    pairs: &Distinct<2>,
    models: &[std::sync::Arc<dyn PurchaseModel>],
    if_alive_forecast: &IfAliveForecast,
    with_value: bool,
) -> Vec<[f64; 2]> {
    let draws = models.len();
    let mut by_t: Vec<u32> = (0..pairs.values.len() as u32).collect();
    by_t.sort_unstable_by(|&a, &b| {
        let (a, b) = (pairs.values[a as usize], pairs.values[b as usize]);
        a[1].total_cmp(&b[1]).then(a[0].total_cmp(&b[0]))
    });
    let groups: Vec<&[u32]> = by_t
        .chunk_by(|&a, &b| pairs.values[a as usize][1].to_bits() == pairs.values[b as usize][1].to_bits())
        .collect();
    let evaluated: Vec<Vec<[f64; 2]>> = (0..groups.len() * draws)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(xs, each, scratch), task| {
                let (group, model) = (groups[task / draws], &models[task % draws]);
                let t = pairs.values[group[0] as usize][1];
                xs.clear();
                xs.extend(group.iter().map(|&p| pairs.values[p as usize][0]));
                if_alive_forecast.at_each_x(model.as_ref(), t, xs, each, scratch);
                each.iter()
                    .map(|&(expected, discounted)| {
                        let discounted = match with_value {
                            true => discounted.unwrap_or(f64::NAN),
                            false => 0.0,
                        };
                        [expected.unwrap_or(f64::NAN), discounted]
                    })
                    .collect()
            },
        )
        .collect();
    let mut at_draws = vec![[f64::NAN; 2]; pairs.values.len() * draws];
    for (task, values) in evaluated.iter().enumerate() {
        let (group, d) = (groups[task / draws], task % draws);
        for (&p, &value) in group.iter().zip(values) {
            at_draws[p as usize * draws + d] = value;
        }
    }
    at_draws
}

/// `by_row`, rows of `len` values, rewritten column after column into `by_column`: value j of
/// row d goes to j · rows + d. In square tiles, each a few cache lines of either.
pub(super) fn transpose(by_row: &[f64], len: usize, by_column: &mut Vec<f64>) {
    const TILE: usize = 8;
    let rows = by_row.len() / len.max(1);
    by_column.resize(by_row.len(), 0.0);
    for d0 in (0..rows).step_by(TILE) {
        for j0 in (0..len).step_by(TILE) {
            for d in d0..(d0 + TILE).min(rows) {
                for j in j0..(j0 + TILE).min(len) {
                    by_column[j * rows + d] = by_row[d * len + j];
                }
            }
        }
    }
}

/// The powers R(t) = (1 + t/α)^e of `PAliveRatio` at every draw and time, for the histories of
/// one x: P(alive | x, t_x, T) = 1 / (1 + k · R(T) / R(t_x)) then takes two lookups and a
/// division per history and draw, where the model's own P(alive) takes a logarithm and a power.
pub(super) struct PowersOfTimes {
    ratios: Vec<PAliveRatio>,
    /// R at time i and draw d at i · draws + d: a history's two times read two runs of draws.
    powers: Vec<f64>,
}

/// Values the tables of one pass hold at most together: 8M (64 MB; the 1M-customer log's 24
/// tables of 200 draws by 545 times hold 2.6M).
const MAX_TABLED_POWERS: usize = 1 << 23;

impl PowersOfTimes {
    /// The table for the histories of `x`, where it is safe and does some good: every model has
    /// the ratio form, someone can have dropped out (k > 0 at some draw; otherwise P(alive) = 1
    /// costs nothing), and every ln R is finite and at most `MAX_LN_POWER`, so that R neither
    /// overflows nor loses more than a few units in the 13th digit to the rounding of e·ln(1+t/α).
    /// Whether it pays for its histories is `of_groups`' choice.
    pub(super) fn new(models: &[std::sync::Arc<dyn PurchaseModel>], x: f64, times: &[f64]) -> Option<Self> {
        const MAX_LN_POWER: f64 = 600.0;
        let (&first, &last) = (times.first()?, times.last()?);
        if first < 0.0 {
            return None;
        }
        let ratios: Vec<PAliveRatio> = models.iter().map(|m| m.p_alive_ratio(x)).collect::<Option<_>>()?;
        let usable = |q: &PAliveRatio| {
            let top = q.ln_r(last);
            q.k.is_finite() && q.k >= 0.0 && q.alpha > 0.0 && top.is_finite() && (0.0..=MAX_LN_POWER).contains(&top)
        };
        if !ratios.iter().all(usable) || ratios.iter().all(|q| q.k == 0.0) {
            return None;
        }
        let mut powers = vec![0.0; ratios.len() * times.len()];
        powers
            .par_chunks_mut(ratios.len())
            .zip(times)
            .for_each(|(at_draws, &t)| {
                for (power, ratio) in at_draws.iter_mut().zip(&ratios) {
                    *power = ratio.ln_r(t).exp();
                }
            });
        Some(Self { ratios, powers })
    }

    /// The tables of groups of histories, each (x, how many histories), for those that get one
    /// (`new`): groups with at least as many histories as times (a table costs one power per time
    /// and draw), the largest first, while all the tables together hold at most
    /// `MAX_TABLED_POWERS` values.
    pub(super) fn of_groups(
        models: &[std::sync::Arc<dyn PurchaseModel>],
        groups: &[(f64, usize)],
        times: &[f64],
    ) -> Vec<Option<Self>> {
        let per_table = models.len() * times.len();
        let mut by_size: Vec<usize> = (0..groups.len()).collect();
        by_size.sort_by_key(|&g| std::cmp::Reverse(groups[g].1));
        let (mut tabled, mut room) = (vec![false; groups.len()], MAX_TABLED_POWERS);
        for g in by_size {
            if groups[g].1 >= times.len() && per_table <= room {
                tabled[g] = true;
                room -= per_table;
            }
        }
        groups
            .par_iter()
            .zip(&tabled)
            .map(|(&(x, _), &tabled)| match tabled {
                true => Self::new(models, x, times),
                false => None,
            })
            .collect()
    }

    /// P(alive) of the histories whose (t_x, T) are at `time_index` in the times, at every draw:
    /// history j's into `p_alive[j · draws..]`, as the pass reads them (no transposing).
    pub(super) fn p_alive(&self, time_index: &[[u32; 2]], p_alive: &mut [f64]) {
        let draws = self.ratios.len();
        for (&[t_x, t], out) in time_index.iter().zip(p_alive.chunks_mut(draws)) {
            let at_t_x = &self.powers[t_x as usize * draws..][..draws];
            let at_t = &self.powers[t as usize * draws..][..draws];
            for (((p, ratio), &r_t_x), &r_t) in out.iter_mut().zip(&self.ratios).zip(at_t_x).zip(at_t) {
                *p = ratio.p_alive(r_t_x, r_t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::models::bg_nbd::BgNbdParams;
    use crate::test_support::{BG_NBD_PAPER, MBG_NBD_BTYDPLUS};

    /// Weeks at daily resolution over 78 weeks, as a summary of a year and a half has them.
    fn times() -> Vec<f64> {
        (0..=546).map(|day| day as f64 / 7.0).collect()
    }

    /// Every (t_x, T) with t_x ≤ T on a coarser grid of the times, as indices into them.
    fn histories() -> Vec<[u32; 2]> {
        let mut pairs = Vec::new();
        for t in (0..=546u32).step_by(13) {
            for t_x in (0..=t).step_by(3) {
                pairs.push([t_x, t]);
            }
            pairs.push([t, t]);
        }
        pairs
    }

    #[test]
    fn p_alive_from_the_table_of_powers_is_the_models_own_to_the_12th_digit() {
        let models: Vec<Arc<dyn PurchaseModel>> = vec![
            // CDNOW's BG/NBD estimates (Fader, Hardie & Lee 2005), and MBG/NBD near them.
            Arc::new(BG_NBD_PAPER),
            Arc::new(MBG_NBD_BTYDPLUS),
            // Purchase rates nearly alike (α ≫ T: ln(1 + t/α) small, e large) and very unlike.
            Arc::new(BgNbdParams {
                r: 2.0e4,
                alpha: 9.0e4,
                a: 0.5,
                b: 3.0,
            }),
            Arc::new(BgNbdParams {
                r: 0.05,
                alpha: 0.02,
                a: 2.0,
                b: 0.7,
            }),
        ];
        let (times, histories) = (times(), histories());
        let mut worst: f64 = 0.0;
        // The four models as the draws of one table: history j's P(alive) at draw d is at
        // j · draws + d.
        let draws = models.len();
        for x in [1.0, 2.0, 7.0, 30.0] {
            let powers = PowersOfTimes::new(&models, x, &times).expect("a table");
            let mut p_alive = vec![0.0; histories.len() * draws];
            powers.p_alive(&histories, &mut p_alive);
            for (at_draws, &[t_x, t]) in p_alive.chunks(draws).zip(&histories) {
                for (d, (&p, model)) in at_draws.iter().zip(&models).enumerate() {
                    let own = model.p_alive(x, times[t_x as usize], times[t as usize]).unwrap();
                    let relative = ((p - own) / own).abs();
                    assert!(
                        relative < 1e-12,
                        "draw {d}, x = {x}, t_x = {t_x}, T = {t}: {p} against {own}"
                    );
                    worst = worst.max(relative);
                }
            }
        }
        // Measured: 6.1e-14 at most, over the 4 models, 4 x and 3,985 histories.
        assert!(worst > 0.0 && worst < 1e-12, "{worst}");
    }

    #[test]
    fn the_table_of_powers_is_left_where_it_cannot_serve() {
        let cdnow: Arc<dyn PurchaseModel> = Arc::new(BG_NBD_PAPER);
        let times = times();
        let many = times.len();
        let one = std::slice::from_ref(&cdnow);
        // BG/NBD at x = 0: nobody can have dropped out, P(alive) = 1 without any power.
        assert!(PowersOfTimes::new(one, 0.0, &times).is_none());
        // Fewer histories than times: the table would cost more powers than it saves.
        let tabled = |histories: usize| PowersOfTimes::of_groups(one, &[(1.0, histories)], &times)[0].is_some();
        assert!(!tabled(many - 1));
        assert!(tabled(many));
        // R(78) = (1 + 78/4.414)^(0.243 + 300) would overflow: e·ln(1 + t/α) = 890 > 600.
        assert!(PowersOfTimes::new(one, 300.0, &times).is_none());
        // A model without the ratio form (Pareto/NBD) at any of the draws.
        let pareto: Arc<dyn PurchaseModel> = Arc::new(crate::models::pareto_nbd::ParetoNbdParams {
            r: 0.55,
            alpha: 10.58,
            s: 0.61,
            beta: 11.67,
        });
        assert!(PowersOfTimes::new(&[cdnow, pareto], 1.0, &times).is_none());
    }

    #[test]
    fn tables_go_to_the_largest_groups_while_they_fit() {
        let cdnow: Arc<dyn PurchaseModel> = Arc::new(BG_NBD_PAPER);
        let models = vec![cdnow; 200];
        let times = times();
        // A table is 200 × 547 = 109,400 values: 76 fit in 2^23 (8,388,608), not 77.
        let per_table = models.len() * times.len();
        assert_eq!(MAX_TABLED_POWERS / per_table, 76);
        // 80 groups of x = 1, with 600 + g histories each (the largest last), and one too small.
        let mut groups: Vec<(f64, usize)> = (0..80).map(|g| (1.0, 600 + g)).collect();
        groups.push((1.0, times.len() - 1));
        let tables = PowersOfTimes::of_groups(&models, &groups, &times);
        let tabled: Vec<bool> = tables.iter().map(Option::is_some).collect();
        // The four smallest of the 80 and the one with fewer histories than times go without.
        assert_eq!(tabled.iter().filter(|&&t| t).count(), 76);
        assert!(tabled[..4].iter().all(|&t| !t) && tabled[4..80].iter().all(|&t| t) && !tabled[80]);
    }
}
