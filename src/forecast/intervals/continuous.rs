//! Intervals of the continuous-time purchase models' forecasts (BG/NBD, Pareto/NBD, MBG/NBD,
//! NBD): every forecast evaluated at each drawn or refitted model, once per distinct history as
//! the point forecast is, bounded by its quantiles; and each customer's predictive interval of
//! her own purchases.

use rayon::prelude::*;

use super::at_draws::{if_alive_at_draws, transpose, PowersOfTimes};
use super::predictive::predictive_bounds;
use super::quantiles::{round_bound, ExtremeDraws};
use super::{
    push_count_bounds, quantile_pair, set_history_bounds, AggregateIntervals, CustomerGroups, DrawnModels,
    IntervalOptions, TotalInterval, PURCHASES,
};
use crate::data::rfm::RfmTable;
use crate::data::TimeUnit;
use crate::error::{ClvError, Result};
use crate::forecast::continuous::IfAliveForecast;
use crate::forecast::engine::DistinctHistories;
use crate::forecast::new_customer::new_customer_value;
use crate::forecast::{ForecastOptions, Forecasts, Interval, CLV, EXPECTED_AVG_SPEND, EXPECTED_PURCHASES, P_ALIVE};
use crate::model_file::FittedModels;
use crate::models::{BitsMap, PurchaseModel};

/// A customer's (spend bounds, CLV bounds).
type CustomerBounds = ((f64, f64), (f64, f64));

/// Adds intervals at `interval.level` to the forecasts `forecast` made with `models` for `rfm`
/// (p_alive, churn_probability, expected_purchases and, where they exist, expected_avg_spend and
/// clv), and each customer's predictive interval of her own purchases over the horizon
/// (`predictive_bounds`, as columns purchases_q05 and purchases_q95 for 90%); returns the
/// totals' intervals.
pub fn add_parameter_intervals(
    models: &FittedModels,
    rfm: &RfmTable,
    options: &ForecastOptions,
    interval: &IntervalOptions,
    forecasts: &mut Forecasts,
) -> Result<AggregateIntervals> {
    let drawn = DrawnModels::normal(models, interval, forecasts.column(CLV).is_some())?;
    add_parameter_intervals_by_group(models, rfm, options, interval, &drawn, forecasts, &[])
}

/// As [`add_parameter_intervals`], at the models `drawn` (from the normal approximation or a
/// bootstrap), with the interval of the total CLV of each group of each of `groupings` besides
/// (`AggregateIntervals::group_clv`), the groups' membership fixed.
pub fn add_parameter_intervals_by_group(
    models: &FittedModels,
    rfm: &RfmTable,
    options: &ForecastOptions,
    interval: &IntervalOptions,
    drawn: &DrawnModels,
    forecasts: &mut Forecasts,
    groupings: &[CustomerGroups],
) -> Result<AggregateIntervals> {
    interval.validate()?;
    let draws = drawn.purchase.len();
    for grouping in groupings {
        if grouping.of_customer.len() != rfm.len()
            || grouping.of_customer.iter().any(|&g| g as usize >= grouping.groups)
        {
            return Err(ClvError::InvalidArgument(
                "a grouping of the customers for intervals must give every customer a group".into(),
            ));
        }
    }
    // The groups of all groupings numbered one after another: group g of grouping k is
    // first_group[k] + g, and its total at draw d is at (first_group[k] + g) · draws + d.
    let mut first_group = vec![0usize];
    for grouping in groupings {
        first_group.push(first_group[first_group.len() - 1] + grouping.groups);
    }
    let all_groups = first_group[groupings.len()];
    let with_value = forecasts.column(CLV).is_some();
    let new_customer = new_customer_at_draws(models, drawn, options, rfm.time_unit);
    let (purchase_models, spend_models) = (&drawn.purchase, &drawn.spend);
    let units_per_month = rfm.time_unit.per_month();

    // As the point forecast: E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | x, T, alive],
    // the second factor and its discounted sum (where the series are) once per distinct (x, T)
    // and draw, P(alive) once per distinct history and draw; NaN where a series does not converge.
    let distinct = forecasts.distinct_histories(rfm);
    let DistinctHistories { histories, pairs } = distinct.as_ref();
    let if_alive_forecast = IfAliveForecast::new(options, units_per_month, with_value);
    let if_alive = if_alive_at_draws(pairs, purchase_models, &if_alive_forecast, with_value);
    // Histories in the order of x, then T, then t_x: neighbours share most terms of P(alive)
    // (`p_alive_of_histories`) and their extreme draws (`ExtremeDraws`). History `order[r]` is
    // the r-th evaluated; every table below is laid out in that order, so that the pass reads
    // each one front to back rather than from wherever a history's first customer put it.
    let mut order: Vec<u32> = (0..histories.values.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| {
        let (a, b) = (histories.values[a as usize], histories.values[b as usize]);
        a[0].total_cmp(&b[0])
            .then(a[2].total_cmp(&b[2]))
            .then(a[1].total_cmp(&b[1]))
    });
    let mut rank = vec![0u32; order.len()];
    for (r, &h) in order.iter().enumerate() {
        rank[h as usize] = r as u32;
    }
    let ordered_histories: Vec<[f64; 3]> = order.par_iter().map(|&h| histories.values[h as usize]).collect();
    let ordered_pairs: Vec<u32> = order.par_iter().map(|&h| pairs.index_of[h as usize]).collect();
    // Every t_x and T of the histories, sorted and distinct, and each evaluated history's
    // (t_x, T) as indices into them (`PowersOfTimes`).
    let mut times: Vec<f64> = ordered_histories.iter().flat_map(|&[_, t_x, t]| [t_x, t]).collect();
    times.par_sort_unstable_by(f64::total_cmp);
    times.dedup_by(|a, b| a.to_bits() == b.to_bits());
    let index_of_time = |t: f64| times.binary_search_by(|v| v.total_cmp(&t)).unwrap_or(0) as u32;
    let time_index: Vec<[u32; 2]> = ordered_histories
        .par_iter()
        .map(|&[_, t_x, t]| [index_of_time(t_x), index_of_time(t)])
        .collect();
    // The customers of each history, contiguous: those of the r-th evaluated history are
    // members[first[r]..first[r + 1]]; customer i is at members[position[i]].
    let mut first = vec![0usize; histories.values.len() + 1];
    for &h in &histories.index_of {
        first[rank[h as usize] as usize + 1] += 1;
    }
    for r in 0..histories.values.len() {
        first[r + 1] += first[r];
    }
    let (mut members, mut position) = (vec![0u32; rfm.len()], vec![0u32; rfm.len()]);
    let mut next = first.clone();
    for (i, &h) in histories.index_of.iter().enumerate() {
        let r = rank[h as usize] as usize;
        members[next[r]] = i as u32;
        position[i] = next[r] as u32;
        next[r] += 1;
    }
    let (q_lo, q_hi) = interval.quantiles();
    let bounds = |v: &[f64]| quantile_pair(v, q_lo, q_hi);
    // Per-customer bounds are given to six significant digits, rounded outward (`round_bound`).
    let outward = |(lo, hi): (f64, f64)| (round_bound(lo, false), round_bound(hi, true));
    let monetary = rfm.monetary_value.as_deref();
    let with_spend = spend_models.is_some() && monetary.is_some();
    // Each member's mean spend and groups, in the order of `members`: read where a history's
    // customers are, next to each other, rather than each from wherever she is in the table.
    let member_spend: Vec<f64> = match monetary {
        Some(m) if with_spend => members.par_iter().map(|&i| m[i as usize]).collect(),
        _ => Vec::new(),
    };
    let member_groups: Vec<Vec<u32>> = groupings
        .iter()
        .map(|grouping| members.par_iter().map(|&i| grouping.of_customer[i as usize]).collect())
        .collect();

    // Per distinct history, in parallel: the bounds of P(alive) and E[Y], and for each of its
    // customers with a spend model the bounds of her spend and CLV; the totals per draw summed
    // alongside. Nothing customer × draw is kept (at 1M customers and 200 draws: gigabytes).
    // Each block of histories writes its bounds into its own part of two tables laid out as the
    // pass reads: `by_rank`, each history's bounds of P(alive), churn and E[Y] (rounded,
    // `outward`) in the evaluated order, and `by_member`, each customer's in the order of
    // `members`.
    struct Evaluated {
        expected_totals: Vec<f64>,
        clv_totals: Vec<f64>,
        group_totals: Vec<f64>,
        failed: usize,
        // Scratch, one value per draw, reused from customer to customer.
        spends: Vec<f64>,
        clvs: Vec<f64>,
        // The customers with a mean spend of the history being evaluated, and the sum of their
        // mean spends: in all, and per group (numbered as `first_group` numbers them), with the
        // groups the history's customers fall in.
        history_spend: (f64, f64),
        group_spend: Vec<(f64, f64)>,
        touched_groups: Vec<usize>,
        // Each draw's CLV per customer and per unit of mean spend, D·(m·a − c) and D·m·b, for
        // the history being evaluated (NaN where it has none).
        per_customer_value: Vec<f64>,
        per_spend_value: Vec<f64>,
        // Each draw's spend line at `lines_x`, the x of the history before, and the bounds of
        // the spends of that x found so far, by mean spend (its bits).
        lines: Vec<(f64, f64)>,
        lines_x: f64,
        spend_bounds: BitsMap<u64, (f64, f64)>,
        // Where the extreme draws of P(alive), E[Y], spend and CLV were last (`spend_slot`).
        extremes: ExtremeDraws,
        // The P(alive) of a block's histories at every draw: by draw, then by history, as a model
        // gives it (without a table of powers); and by history, then by draw.
        p_alive_block: Vec<f64>,
        p_alive_by_history: Vec<f64>,
        p_alive: Vec<f64>,
        expected: Vec<f64>,
        discounted: Vec<f64>,
        // The positions in `members` of the history's customers, by mean spend.
        by_spend: Vec<u32>,
    }
    let empty = || Evaluated {
        expected_totals: vec![0.0; draws],
        clv_totals: vec![0.0; draws],
        group_totals: vec![0.0; all_groups * draws],
        failed: 0,
        spends: vec![0.0; draws],
        clvs: vec![0.0; draws],
        history_spend: (0.0, 0.0),
        group_spend: vec![(0.0, 0.0); all_groups],
        touched_groups: Vec::new(),
        per_customer_value: Vec::with_capacity(draws),
        per_spend_value: Vec::with_capacity(draws),
        lines: Vec::with_capacity(draws),
        lines_x: f64::NAN,
        spend_bounds: BitsMap::default(),
        extremes: Default::default(),
        p_alive_block: Vec::new(),
        p_alive_by_history: Vec::new(),
        p_alive: Vec::with_capacity(draws),
        expected: Vec::with_capacity(draws),
        discounted: Vec::with_capacity(draws),
        by_spend: Vec::new(),
    };
    // The r-th history's bounds, into `bounds` and (its customers', from position `first[r]` of
    // `members` on) `customer_bounds`, and its share of the totals, with its P(alive) at every
    // draw at acc.p_alive_by_history[j · draws..].
    let evaluate_history = |acc: &mut Evaluated,
                            r: usize,
                            j: usize,
                            bounds: &mut [(f64, f64); 3],
                            customer_bounds: &mut [CustomerBounds]| {
        let [x, _, _] = ordered_histories[r];
        let pair = &if_alive[ordered_pairs[r] as usize * draws..][..draws];
        let (mut p_alive, mut expected) = (std::mem::take(&mut acc.p_alive), std::mem::take(&mut acc.expected));
        p_alive.clear();
        p_alive.extend_from_slice(&acc.p_alive_by_history[j * draws..(j + 1) * draws]);
        expected.clear();
        expected.extend(p_alive.iter().zip(pair).map(|(p, v)| p * v[0]));
        let count = (first[r + 1] - first[r]) as f64;
        for (total, e) in acc.expected_totals.iter_mut().zip(&expected) {
            match e.is_nan() {
                true => acc.failed += 1,
                false => *total += count * e,
            }
        }
        if let (true, Some(spend)) = (with_spend, &spend_models) {
            let mut discounted = std::mem::take(&mut acc.discounted);
            discounted.clear();
            discounted.extend(p_alive.iter().zip(pair).map(|(p, v)| p * v[1]));
            // Each draw's E[M | x, z̄] as a line in z̄, once per x (the histories come in the
            // order of x): customers of one x with the same mean spend share its bounds, whatever
            // their history.
            if x.to_bits() != acc.lines_x.to_bits() {
                acc.lines_x = x;
                acc.lines.clear();
                acc.lines
                    .extend(spend.iter().map(|s| s.spend_line(x).unwrap_or((f64::NAN, f64::NAN))));
                acc.spend_bounds.clear();
            }
            // Each draw's CLV is a line in z̄, (m·(a + b·z̄) − c)·D = u + v·z̄, with u = D·(m·a − c)
            // and v = D·m·b.
            let evaluated = acc.lines.len().min(discounted.len());
            acc.per_customer_value.resize(evaluated, 0.0);
            acc.per_spend_value.resize(evaluated, 0.0);
            for (((u, v), &(intercept, slope)), d) in acc
                .per_customer_value
                .iter_mut()
                .zip(acc.per_spend_value.iter_mut())
                .zip(&acc.lines)
                .zip(&discounted)
            {
                *u = d * (options.margin * intercept - options.cost_per_order);
                *v = d * options.margin * slope;
            }
            // Customers of one history with the same mean spend (every one without repeat
            // purchases, about half of a typical log) share their spend and CLV at each draw:
            // evaluated, bounded and added up once per run of them.
            let mut by_spend = std::mem::take(&mut acc.by_spend);
            by_spend.clear();
            by_spend.extend(first[r] as u32..first[r + 1] as u32);
            let spend_at = |k: u32| member_spend[k as usize];
            if by_spend.len() > 1 {
                by_spend.sort_unstable_by(|&a, &b| spend_at(a).total_cmp(&spend_at(b)));
            }
            for run in by_spend.chunk_by(|&a, &b| spend_at(a).to_bits() == spend_at(b).to_bits()) {
                let zbar = spend_at(run[0]);
                for ((clv, u), v) in acc
                    .clvs
                    .iter_mut()
                    .zip(&acc.per_customer_value)
                    .zip(&acc.per_spend_value)
                {
                    *clv = u + v * zbar;
                }
                // The history's customers with a mean spend, and the sum of their mean spends,
                // in all and per group: the totals below need no more.
                let in_run = run.len() as f64;
                acc.history_spend.0 += in_run;
                acc.history_spend.1 += in_run * zbar;
                for (groups, first) in member_groups.iter().zip(&first_group) {
                    for &k in run {
                        let g = first + groups[k as usize] as usize;
                        let (n, z) = &mut acc.group_spend[g];
                        if *n == 0.0 {
                            acc.touched_groups.push(g);
                        }
                        (*n, *z) = (*n + 1.0, *z + zbar);
                    }
                }
                let spend_bounds = match acc.spend_bounds.get(&zbar.to_bits()) {
                    Some(&bounds) => bounds,
                    None => {
                        for (value, &(intercept, slope)) in acc.spends.iter_mut().zip(&acc.lines) {
                            *value = intercept + slope * zbar;
                        }
                        let bounds =
                            outward(
                                acc.extremes
                                    .quantile_pair(2 + 2 * spend_slot(zbar), &acc.spends, q_lo, q_hi),
                            );
                        acc.spend_bounds.insert(zbar.to_bits(), bounds);
                        bounds
                    }
                };
                let customer_bounds_of_run = (
                    spend_bounds,
                    outward(
                        acc.extremes
                            .quantile_pair(3 + 2 * spend_slot(zbar), &acc.clvs, q_lo, q_hi),
                    ),
                );
                for &k in run {
                    customer_bounds[k as usize - first[r]] = customer_bounds_of_run;
                }
            }
            // Summed over n customers whose mean spends add up to Z, the CLVs at a draw are
            // n·u + Z·v. Customers without a CLV (an infinite expected spend, at every z̄ of a
            // draw) are left out of every total, as they are of the total at the estimates.
            let add = |totals: &mut [f64], (n, z): (f64, f64), u: &[f64], v: &[f64]| {
                for ((total, u), v) in totals.iter_mut().zip(u).zip(v) {
                    let c = n * u + z * v;
                    *total += if c.is_nan() { 0.0 } else { c };
                }
            };
            let (u, v) = (&acc.per_customer_value, &acc.per_spend_value);
            add(&mut acc.clv_totals, std::mem::take(&mut acc.history_spend), u, v);
            for g in acc.touched_groups.drain(..) {
                let spent = std::mem::take(&mut acc.group_spend[g]);
                add(&mut acc.group_totals[g * draws..(g + 1) * draws], spent, u, v);
            }
            (acc.discounted, acc.by_spend) = (discounted, by_spend);
        }
        let alive = acc.extremes.quantile_pair(0, &p_alive, q_lo, q_hi);
        let churn = (1.0 - alive.1, 1.0 - alive.0);
        let expected_bounds = acc.extremes.quantile_pair(1, &expected, q_lo, q_hi);
        *bounds = [outward(alive), outward(churn), outward(expected_bounds)];
        (acc.p_alive, acc.expected) = (p_alive, expected);
    };
    let merge = |mut a: Evaluated, b: Evaluated| {
        for (x, y) in a.expected_totals.iter_mut().zip(&b.expected_totals) {
            *x += y;
        }
        for (x, y) in a.clv_totals.iter_mut().zip(&b.clv_totals) {
            *x += y;
        }
        for (x, y) in a.group_totals.iter_mut().zip(&b.group_totals) {
            *x += y;
        }
        a.failed += b.failed;
        a
    };
    // P(alive) of the histories from `start`, `len` of them, at every draw (history j's at
    // j · draws of acc.p_alive_by_history), then each history's bounds, into the block's parts of
    // `by_rank` and `by_member`: from a table of R(t) at every draw where the histories' x has one
    // (`PowersOfTimes`), else from the model.
    let evaluate_block = |acc: &mut Evaluated,
                          (start, len): (usize, usize),
                          powers: Option<&PowersOfTimes>,
                          bounds: &mut [[(f64, f64); 3]],
                          customer_bounds: &mut [CustomerBounds]| {
        match powers {
            Some(powers) => {
                acc.p_alive_by_history.resize(draws * len, 0.0);
                powers.p_alive(&time_index[start..start + len], &mut acc.p_alive_by_history);
            }
            None => {
                acc.p_alive_block.resize(draws * len, 0.0);
                let block = &ordered_histories[start..start + len];
                for (model, p_alive) in purchase_models.iter().zip(acc.p_alive_block.chunks_mut(len)) {
                    model.p_alive_of_histories(block, p_alive);
                }
                transpose(&acc.p_alive_block, len, &mut acc.p_alive_by_history);
            }
        }
        let first_member = first[start];
        for (j, bounds) in bounds.iter_mut().enumerate() {
            let r = start + j;
            let members = match with_spend {
                true => &mut customer_bounds[first[r] - first_member..first[r + 1] - first_member],
                false => &mut [],
            };
            evaluate_history(acc, r, j, bounds, members);
        }
    };
    // The histories of each x (a range of the evaluated order), their tables of powers where they
    // get one, and blocks of them, in parallel: no block waits for another.
    let x_groups: Vec<std::ops::Range<usize>> = ordered_histories
        .chunk_by(|a, b| a[0].to_bits() == b[0].to_bits())
        .scan(0, |start, group| {
            let range = *start..*start + group.len();
            *start = range.end;
            Some(range)
        })
        .collect();
    let sizes: Vec<(f64, usize)> = x_groups
        .iter()
        .map(|group| (ordered_histories[group.start][0], group.len()))
        .collect();
    let powers = PowersOfTimes::of_groups(purchase_models, &sizes, &times);
    let blocks: Vec<(usize, usize, usize)> = x_groups
        .iter()
        .enumerate()
        .flat_map(|(g, group)| {
            group
                .clone()
                .step_by(HISTORIES_PER_BLOCK)
                .map(move |start| (g, start, (group.end - start).min(HISTORIES_PER_BLOCK)))
        })
        .collect();
    // Each block's parts of the two tables: its histories, and (with a spend model) their
    // customers, contiguous in `members`.
    let unset = (f64::NAN, f64::NAN);
    let mut by_rank = vec![[unset; 3]; histories.values.len()];
    let mut by_member: Vec<CustomerBounds> = match with_spend {
        true => vec![(unset, unset); rfm.len()],
        false => Vec::new(),
    };
    let mut parts = Vec::with_capacity(blocks.len());
    let (mut rest_of_ranks, mut rest_of_members) = (&mut by_rank[..], &mut by_member[..]);
    for &(g, start, len) in &blocks {
        let (bounds, later) = std::mem::take(&mut rest_of_ranks).split_at_mut(len);
        rest_of_ranks = later;
        let customers = match with_spend {
            true => first[start + len] - first[start],
            false => 0,
        };
        let (customer_bounds, later) = std::mem::take(&mut rest_of_members).split_at_mut(customers);
        rest_of_members = later;
        parts.push(((g, start, len), bounds, customer_bounds));
    }
    let evaluated = parts
        .into_par_iter()
        .fold(empty, |mut acc, ((g, start, len), bounds, customer_bounds)| {
            evaluate_block(&mut acc, (start, len), powers[g].as_ref(), bounds, customer_bounds);
            acc
        })
        .reduce(empty, merge);
    let Evaluated {
        expected_totals,
        clv_totals,
        group_totals,
        failed,
        ..
    } = evaluated;
    // Back from the evaluated order: history h's bounds, and customer i's.
    let history_bounds: Vec<[(f64, f64); 3]> = rank.par_iter().map(|&r| by_rank[r as usize]).collect();
    let customer = |i: usize| by_member[position[i] as usize];

    let of_customers = |pick: &(dyn Fn(usize) -> (f64, f64) + Sync)| -> (Vec<f64>, Vec<f64>) {
        (0..rfm.len()).into_par_iter().map(pick).unzip()
    };
    let level = interval.level;
    let set = |forecasts: &mut Forecasts, name: &str, (lo, hi): (Vec<f64>, Vec<f64>)| {
        forecasts.set_interval(name, Interval { level, lo, hi })
    };
    set_history_bounds(forecasts, level, &histories.index_of, &history_bounds)?;
    let total = |estimate: f64, totals: &[f64]| {
        let (lo, hi) = bounds(totals);
        TotalInterval { estimate, lo, hi }
    };
    let point_total = |name: &str| {
        forecasts
            .column(name)
            .map(|c| c.iter().filter(|v| !v.is_nan()).sum::<f64>())
    };
    let expected_purchases = total(point_total(EXPECTED_PURCHASES).unwrap_or(f64::NAN), &expected_totals);
    let clv = match with_spend {
        true => {
            let estimate = point_total(CLV).unwrap_or(f64::NAN);
            set(forecasts, EXPECTED_AVG_SPEND, of_customers(&|i| customer(i).0))?;
            set(forecasts, CLV, of_customers(&|i| customer(i).1))?;
            Some(total(estimate, &clv_totals))
        }
        false => None,
    };
    // Each group's total at the estimates, and the quantiles of its totals at the draws.
    let group_clv = match (with_spend, forecasts.column(CLV)) {
        (true, Some(point)) => groupings
            .iter()
            .zip(&first_group)
            .map(|(grouping, first)| {
                let mut estimates = vec![0.0; grouping.groups];
                for (&g, &c) in grouping.of_customer.iter().zip(point).filter(|(_, c)| !c.is_nan()) {
                    estimates[g as usize] += c;
                }
                estimates
                    .iter()
                    .enumerate()
                    .map(|(g, &estimate)| {
                        let start = (first + g) * draws;
                        let (lo, hi) = bounds(&group_totals[start..start + draws]);
                        TotalInterval { estimate, lo, hi }
                    })
                    .collect()
            })
            .collect(),
        _ => Vec::new(),
    };
    // Each customer's own purchases: the predictive distribution's quantiles, not the parameters'.
    // P(alive) at the estimates is the point forecast's: read from its column, at each history's
    // first customer.
    let p_alive_at = forecasts.require(P_ALIVE, "predictive intervals")?;
    let p_alive_of_history: Vec<f64> = (0..histories.values.len())
        .map(|h| p_alive_at[members[first[rank[h] as usize]] as usize])
        .collect();
    let predictive = predictive_bounds(
        models,
        rfm,
        options.horizon,
        interval,
        (histories, pairs),
        &p_alive_of_history,
    )?;
    let predictive_intervals = predictive.is_some();
    if let Some(bounds) = predictive {
        push_count_bounds(forecasts, level, PURCHASES, bounds)?;
    }
    Ok(AggregateIntervals {
        level,
        draws,
        expected_purchases,
        clv,
        new_customer: new_customer.map(|(estimate, at_draws)| total(estimate, &at_draws)),
        predictive_intervals,
        failed_evaluations: failed,
        group_clv,
        method: drawn.method,
        failed_refits: drawn.failed_refits,
    })
}

/// Histories whose P(alive) is evaluated together at each draw (`p_alive_of_histories`).
const HISTORIES_PER_BLOCK: usize = 256;

/// The `ExtremeDraws` slots of a mean spend's spend and CLV: one per quarter-octave of z̄ + 1
/// (64 in all), as the draws that give the extreme spends change with z̄; 0 and 1 are P(alive)'s
/// and E[Y]'s.
fn spend_slot(zbar: f64) -> usize {
    ((zbar + 1.0).log2() * 4.0).clamp(0.0, 63.0) as usize
}

/// A new customer's CLV at the estimates and at each draw (NaN where it cannot be evaluated):
/// her first purchase and E[X(t)] repeat purchases at the draw's mean spend. `None` without a
/// spend model of finite mean.
fn new_customer_at_draws(
    models: &FittedModels,
    drawn: &DrawnModels,
    options: &ForecastOptions,
    unit: TimeUnit,
) -> Option<(f64, Vec<f64>)> {
    let spend = drawn.spend.as_ref()?;
    let mean_spend = models.gamma_gamma.as_ref()?.mean_spend?;
    let value = |purchases: &dyn PurchaseModel, mean: Option<f64>| {
        mean.and_then(|m| new_customer_value(purchases, m, options, unit))
            .map_or(f64::NAN, |v| v.clv)
    };
    let at_draws: Vec<f64> = drawn
        .purchase
        .par_iter()
        .zip(spend)
        .map(|(p, s)| value(p.as_ref(), s.mean_spend()))
        .collect();
    Some((value(models.purchase.model(), Some(mean_spend)), at_draws))
}

/// The interval of a new customer's expected CLV alone (as `AggregateIntervals::new_customer`,
/// the same draws for the same seed); `None` without a spend model of finite mean.
pub fn new_customer_interval(
    models: &FittedModels,
    options: &ForecastOptions,
    unit: TimeUnit,
    interval: &IntervalOptions,
) -> Result<Option<TotalInterval>> {
    interval.validate()?;
    let drawn = DrawnModels::normal(models, interval, true)?;
    let (q_lo, q_hi) = interval.quantiles();
    Ok(
        new_customer_at_draws(models, &drawn, options, unit).map(|(estimate, at_draws)| {
            let (lo, hi) = quantile_pair(&at_draws, q_lo, q_hi);
            TotalInterval { estimate, lo, hi }
        }),
    )
}
