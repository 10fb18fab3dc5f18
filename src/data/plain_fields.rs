//! The fields parsed by hand, each exactly as Polars reads it, or `None` where it would need
//! Polars' reading: ISO dates (a plain log's, see `plain_log`, and an RFM table's
//! `first_purchase`) and a plain log's amounts; and `RepeatedCells`, which parses a column's
//! repeated cells once.

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

/// A column's numbers parsed once per distinct cell while the cell keeps coming back: an RFM
/// table at daily resolution has as many recencies and ages as its log has days (at 100,000
/// customers of a year's log, 545 recencies and 84 ages, each written in 16 to 18 digits), and
/// a cell met again costs a hash and a compare where parsing it costs tens of nanoseconds. The
/// value is the parser's of the same bytes, so the column is the same to the bit. A cache of
/// recent cells, two per set of a small table: a column of mostly distinct cells only refills
/// it.
pub(super) struct RepeatedCells {
    slots: Vec<CachedCell>,
}

/// A cell as `cell_words` keys it, and its value.
#[derive(Debug, Clone, Copy, Default)]
struct CachedCell {
    length: usize,
    words: [u64; 3],
    value: f64,
}

impl CachedCell {
    fn holds(&self, length: usize, words: [u64; 3]) -> Option<f64> {
        (self.length == length && self.words == words).then_some(self.value)
    }
}

impl RepeatedCells {
    /// Sets of two slots: a power of two, more than a year's days, in a few dozen kilobytes.
    const SETS: usize = 1024;

    pub(super) fn new() -> Self {
        Self {
            slots: vec![CachedCell::default(); 2 * Self::SETS],
        }
    }

    /// `parse(cell)`, taken from the cache when the cell is one of the last two parsed in its
    /// set (the last first: a new cell takes the first slot, and the one it held moves on).
    pub(super) fn parse(&mut self, cell: &[u8], parse: impl FnOnce(&[u8]) -> Option<f64>) -> Option<f64> {
        let Some(words) = cell_words(cell) else {
            return parse(cell);
        };
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let [first, middle, last] = words;
        let hash = ((first.wrapping_mul(K) ^ middle).wrapping_mul(K) ^ last).wrapping_mul(K);
        let set = (hash >> (u64::BITS - Self::SETS.trailing_zeros())) as usize;
        let Some([newest, older]) = self.slots.get_mut(2 * set..2 * set + 2) else {
            return parse(cell);
        };
        if let Some(value) = newest
            .holds(cell.len(), words)
            .or_else(|| older.holds(cell.len(), words))
        {
            return Some(value);
        }
        let value = parse(cell)?;
        *older = *newest;
        *newest = CachedCell {
            length: cell.len(),
            words,
            value,
        };
        Some(value)
    }
}

/// A cell of 8 to 24 bytes as three words that cover every byte of it: the first eight, the next
/// eight or none, the last eight (overlapping the others where the cell is shorter than 24).
/// With its length, they tell it from any other cell. `None` for other lengths: a shorter cell
/// (a one-time buyer's recency, `0.0`) parses no slower than it is looked up (caching them too,
/// padded into a word, made `clv fit` at 100,000 customers 14.1 → 14.4 ms), and a longer one is
/// not a number written in full.
fn cell_words(cell: &[u8]) -> Option<[u64; 3]> {
    let word = |at: usize| {
        cell.get(at..)?
            .first_chunk::<8>()
            .map(|bytes| u64::from_le_bytes(*bytes))
    };
    let n = cell.len();
    match n {
        8..=16 => Some([word(0)?, 0, word(n - 8)?]),
        17..=24 => Some([word(0)?, word(8)?, word(n - 8)?]),
        _ => None,
    }
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

    #[test]
    fn repeated_cells_parse_as_their_parser_does_cell_by_cell() {
        // Weeks at daily resolution as a summary writes them (16 to 18 digits), and numbers of
        // every length from 1 to 30 bytes, drawn at random 100,000 times. Each value must be the
        // parser's of its own cell, to the bit, whatever its slot held before.
        let parse = |cell: &[u8]| fast_float2::parse::<f64, _>(cell).ok();
        let weeks = |days: u32| -> Vec<String> { (0..days).map(|day| (f64::from(day) / 7.0).to_string()).collect() };
        let mut odd: Vec<String> = (1..=30).map(|n| "7".repeat(n)).collect();
        odd.extend((1..=28).map(|n| format!("0.{}", "3".repeat(n))));
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        // Cells parsed (not taken from the cache) in 100,000 draws from `cells`.
        let mut draws = |cells: &[String]| {
            let (mut cache, mut parsed, mut lengths) = (RepeatedCells::new(), 0, std::collections::BTreeSet::new());
            for _ in 0..100_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let cell = cells[(state % cells.len() as u64) as usize].as_bytes();
                let value = cache.parse(cell, |c| {
                    parsed += 1;
                    parse(c)
                });
                assert_eq!(value.map(f64::to_bits), parse(cell).map(f64::to_bits), "{cell:?}");
                lengths.insert(cell.len());
            }
            (parsed, lengths.len())
        };
        // More distinct cells than slots (eight years of days): slots are shared and refilled.
        let (_, lengths) = draws(&[weeks(3000), odd.clone()].concat());
        assert_eq!(lengths, 30);
        // A year and a half of days and 48 odd cells: most come from the cache. Parsed are each
        // cell's first draw, the 97 cells shorter than 8 bytes (whole weeks, "1" to "78", and 12
        // odd ones) or longer than 24 (6), 16% of draws, and cells whose set of two holds three
        // or more of the 499 cached (with a random hash, 1 − e^−λ(1 + λ + λ²/2) ≈ 1.4% of the
        // 1,024 sets at λ = 499/1024, about 45 cells, each missed about a third of the time):
        // 22.6% of draws when written.
        let (parsed, _) = draws(&[weeks(548), odd[..48].to_vec()].concat());
        assert!(parsed < 25_000, "{parsed}");
        // What the parser refuses is refused, and not remembered.
        let mut cache = RepeatedCells::new();
        assert_eq!(cache.parse(b"12.5.7.9.11", parse), None);
        assert_eq!(cache.parse(b"12.5.7.9.11", |_| Some(1.0)), Some(1.0));
    }

    #[test]
    fn cells_that_differ_in_any_byte_have_different_words() {
        // Cells of 8 to 24 bytes: a change in any one byte changes the words.
        for n in 8..=24 {
            let cell: Vec<u8> = (0..n).map(|i| b'0' + (i % 10) as u8).collect();
            let words = cell_words(&cell).unwrap();
            for at in 0..n {
                let mut other = cell.clone();
                other[at] = b'.';
                assert_ne!(cell_words(&other), Some(words), "{n} bytes, byte {at}");
            }
        }
        assert_eq!(cell_words(b"1234567"), None);
        assert_eq!(cell_words(&[b'1'; 25]), None);
    }
}
