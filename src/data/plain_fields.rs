//! The fields parsed by hand, each exactly as Polars reads it, or `None` where it would need
//! Polars' reading: ISO dates (a plain log's, see `plain_log`, and an RFM table's
//! `first_purchase`) and a plain log's amounts.

use super::transactions::epoch_days;

/// Days since 1970-01-01 of `YYYY-MM-DD`, if those ten bytes are digits and dashes and a date
/// (chrono's calendar, as Polars reads it).
pub(super) fn iso_day(text: &[u8]) -> Option<i32> {
    let digits = |range: std::ops::Range<usize>| {
        text[range]
            .iter()
            .try_fold(0u32, |v, &b| b.is_ascii_digit().then(|| v * 10 + u32::from(b - b'0')))
    };
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
    Some(epoch_days(date))
}

/// An amount written `-?digits[.digits]`, correctly rounded (as Polars' parser rounds it): a
/// mantissa below 2^53 over a power of ten up to 10^22 is two exact doubles, whose quotient IEEE
/// division rounds correctly (Clinger's fast path); any other goes to the standard parser.
pub(super) fn plain_amount(field: &[u8]) -> Option<f64> {
    const POWERS_OF_TEN: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];
    let (negative, unsigned) = match field.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, field),
    };
    let (whole, fraction) = match unsigned.iter().position(|&b| b == b'.') {
        Some(p) => (&unsigned[..p], &unsigned[p + 1..]),
        None => (unsigned, &b""[..]),
    };
    let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if fraction.is_empty() && unsigned.len() != whole.len() {
        return None;
    }
    if whole.len() + fraction.len() <= 15 {
        let mantissa = whole
            .iter()
            .chain(fraction)
            .fold(0u64, |v, &b| v * 10 + u64::from(b - b'0'));
        let value = mantissa as f64 / POWERS_OF_TEN[fraction.len()];
        return Some(if negative { -value } else { value });
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_days_are_chronos_for_every_day_of_eight_centuries() {
        let mut date = chrono::NaiveDate::from_ymd_opt(1600, 1, 1).unwrap();
        while chrono::Datelike::year(&date) < 2400 {
            let text = date.format("%Y-%m-%d").to_string();
            let since_1970 = (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32;
            assert_eq!(iso_day(text.as_bytes()), Some(since_1970), "{text}");
            date = date.succ_opt().unwrap();
        }
        for bad in [
            "1900-02-29",
            "2023-02-29",
            "2024-04-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-01-32",
            "2024/01/01",
            "+024-01-01",
        ] {
            assert_eq!(iso_day(bad.as_bytes()), None, "{bad}");
            assert!(
                chrono::NaiveDate::parse_from_str(bad, "%Y-%m-%d").is_err() || bad.starts_with('+'),
                "{bad}"
            );
        }
        // 30 years of 365 days and 7 leap days, then January's 31 days and 28 of February.
        assert_eq!(iso_day(b"2000-02-29"), Some(30 * 365 + 7 + 31 + 28));
    }

    #[test]
    fn plain_amounts_round_as_the_standard_parser_does() {
        // Every amount with up to 18 digits, split anywhere, against Rust's correctly rounded
        // parser (Polars' fast_float rounds correctly too).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let digits = 1 + (state >> 59) as usize % 18;
            let value = (state >> 3) % 10u64.pow(digits as u32);
            let mut text = format!("{value:0digits$}");
            let point = (state >> 40) as usize % (digits + 1);
            if point > 0 && point < digits {
                text.insert(point, '.');
            }
            if state & 1 == 1 {
                text.insert(0, '-');
            }
            let expected: f64 = text.parse().unwrap();
            assert_eq!(
                plain_amount(text.as_bytes()).map(f64::to_bits),
                Some(expected.to_bits()),
                "{text}"
            );
        }
        for bad in ["", "-", ".5", "5.", "1e3", "+5", " 5", "5 ", "1,5", "inf", "NaN", "--1"] {
            assert_eq!(plain_amount(bad.as_bytes()), None, "{bad}");
        }
    }
}
