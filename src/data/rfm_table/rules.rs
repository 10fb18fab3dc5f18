//! The rules an RFM table's rows keep (rule 6 on each customer's (x, t_x, T)): decided without a
//! branch for the whole table, and the fault named for the row that breaks one.

/// Whether one customer's (x, t_x, T) passes every check of `check_history`, decided without a
/// branch: which customers have repeat purchases is as good as random, and branching on it cost
/// a misprediction every other customer (at 100,000 customers, 0.65 ms of `check_rules`' 0.7).
#[inline]
pub(in crate::data) fn follows_the_rules(x: f64, tx: f64, age: f64) -> bool {
    let (repeat, none) = (x > 0.0, x == 0.0);
    whole_and_not_negative(x)
        & (age >= 0.0)
        & (0.0 <= tx)
        & (tx <= age)
        & !(repeat & (tx == 0.0))
        & !(none & (tx > 0.0))
}

/// The checks of rule 6 on one customer's (x, t_x, T): on failure, which of the three is at fault
/// (0, 1, 2) and why.
#[inline]
pub(in crate::data) fn check_history(x: f64, tx: f64, age: f64) -> std::result::Result<(), (u8, String)> {
    match follows_the_rules(x, tx, age) {
        true => Ok(()),
        false => history_fault(x, tx, age),
    }
}

/// Which of rule 6's checks on (x, t_x, T) fails first, in `check_history`'s order, and why.
fn history_fault(x: f64, tx: f64, age: f64) -> std::result::Result<(), (u8, String)> {
    check_frequency(x).map_err(|message| (0, message))?;
    if age < 0.0 {
        return Err((2, format!("T {age} is negative")));
    }
    if !(0.0..=age).contains(&tx) {
        return Err((1, format!("recency {tx} is not between 0 and T = {age}")));
    }
    if x > 0.0 && tx == 0.0 {
        return Err((
            1,
            format!("recency is 0 but frequency is {x}: repeat purchases must come after the first"),
        ));
    }
    if x == 0.0 && tx > 0.0 {
        // Pareto/NBD would read it as a customer known to be alive at t_x.
        return Err((
            1,
            format!(
                "recency is {tx} but frequency is 0: recency is the time of the last repeat purchase, 0 without one"
            ),
        ));
    }
    Ok(())
}

/// Rule 6's frequency: a whole number ≥ 0, or why not.
#[inline]
pub(in crate::data) fn check_frequency(x: f64) -> std::result::Result<(), String> {
    match whole_and_not_negative(x) {
        true => Ok(()),
        false => Err(format!("frequency {x} is not a whole number ≥ 0")),
    }
}

/// Rule 6's frequency test, without a branch.
#[inline]
fn whole_and_not_negative(x: f64) -> bool {
    // Whole: at least 2^52 (every double there is), or unchanged by truncation to an integer (a
    // conversion, where `fract` calls the C library).
    const WHOLE_FROM: f64 = 4_503_599_627_370_496.0;
    (x >= 0.0) & x.is_finite() & ((x >= WHOLE_FROM) | ((x as u64) as f64 == x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_frequency_is_what_fract_calls_whole() {
        // The definition it replaces: x ≥ 0 with no fractional part (NaN and ±∞ have NaN's).
        let by_fract = |x: f64| x >= 0.0 && x.fract() == 0.0;
        let two_52 = 2f64.powi(52);
        let values = [
            0.0,
            -0.0,
            1.0,
            2.5,
            -1.0,
            0.999_999_999_999_999_9,
            1.0 + f64::EPSILON,
            two_52 - 0.5,
            two_52 - 1.0,
            two_52,
            two_52 + 1.0,
            2f64.powi(63),
            2f64.powi(64) + 4096.0,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for x in values {
            assert_eq!(check_frequency(x).is_ok(), by_fract(x), "{x}");
        }
        // And every quarter from -2 to 2^20.
        for k in -8..(1 << 22) {
            let x = k as f64 / 4.0;
            assert_eq!(check_frequency(x).is_ok(), by_fract(x), "{x}");
        }
    }

    #[test]
    fn the_branch_free_rules_pass_what_the_checks_one_by_one_pass() {
        // Every (x, t_x, T) of values on and around each rule's edges, and values no number
        // should be: the one test passes exactly the histories none of the checks refuses.
        let values = [
            0.0,
            -0.0,
            0.5,
            1.0,
            2.5,
            3.0,
            10.0,
            -1.0,
            2f64.powi(53),
            1e300,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let (mut passed, mut refused) = (0, 0);
        for x in values {
            for tx in values {
                for age in values {
                    let checked = history_fault(x, tx, age).is_ok();
                    assert_eq!(follows_the_rules(x, tx, age), checked, "x {x}, t_x {tx}, T {age}");
                    assert_eq!(check_history(x, tx, age).is_ok(), checked, "x {x}, t_x {tx}, T {age}");
                    if checked {
                        passed += 1;
                    } else {
                        refused += 1;
                    }
                }
            }
        }
        // Both outcomes met many times (e.g. (1, 0.5, 3) passes; (1, 0, 3) and (0, 0.5, 3) do not).
        assert!(passed > 50 && refused > 1000, "{passed} passed, {refused} refused");
        assert!(follows_the_rules(1.0, 0.5, 3.0));
        assert!(!follows_the_rules(1.0, 0.0, 3.0) && !follows_the_rules(0.0, 0.5, 3.0));
    }
}
