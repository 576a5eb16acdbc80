//! Parsing the JSON text forms of meta/v1 Time, MicroTime and Duration back
//! into what their protobuf messages hold (the inverse of `special.rs`'s
//! `format_time` and `go_duration`).

/// An RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, …)` accepts it:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. Returns Unix seconds (floor,
/// like Go's `Time.Unix`) and the nanoseconds within that second.
pub(super) fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |a, &c| a * 10 + i64::from(c - b'0')))
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some((secs, nanos))
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) → days since 1970-01-01, proleptic Gregorian
/// (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` with units
/// ns, us, µs, μs, ms, s, m, h; `"0"` alone is allowed. Nanoseconds.
pub(super) fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    // Accumulate in u128 and check against i64 limits at the end of each
    // component (Go's own overflow rule allows exactly i64::MIN).
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..n];
            rest = &r[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let mut v: u128 = 0;
        for c in int_part.bytes() {
            v = v.checked_mul(10)?.checked_add(u128::from(c - b'0'))?;
            if v > 1 << 63 {
                return None;
            }
        }
        v = v.checked_mul(unit)?;
        // Fraction: Go scales digit by digit and truncates.
        let mut scale: u128 = 1;
        let mut f: u128 = 0;
        for c in frac_part.bytes() {
            if scale > 1 << 63 {
                break;
            }
            f = f * 10 + u128::from(c - b'0');
            scale *= 10;
        }
        v += f * unit / scale;
        total = total.checked_add(v)?;
        if total > 1 << 63 {
            return None;
        }
    }
    if neg {
        Some((total as i128).wrapping_neg() as i64)
    } else if total > i64::MAX as u128 {
        None
    } else {
        Some(total as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_rfc3339("2017-04-11T11:20:41Z"), Some((1491909641, 0)));
        assert_eq!(parse_rfc3339("2017-04-11T11:20:41.050188Z"), Some((1491909641, 50_188_000)));
        assert_eq!(parse_rfc3339("2017-04-11T13:20:41+02:00"), Some((1491909641, 0)));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some((-1, 0)));
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), Some((-62_135_596_800, 0)));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some((951782400, 0)));
        assert_eq!(parse_rfc3339("2001-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2001-02-28T00:00:00"), None);
        assert_eq!(parse_rfc3339("2001-02-28T00:00:00.Z"), None);
        assert_eq!(parse_rfc3339("ü001-02-28T00:00:00Z"), None);
    }

    #[test]
    fn durations() {
        let cases = [
            ("0s", 0),
            ("0", 0),
            ("1ns", 1),
            ("1.1µs", 1_100),
            ("1.1us", 1_100),
            ("2.2ms", 2_200_000),
            ("300ms", 300_000_000),
            ("1.5s", 1_500_000_000),
            ("1h0m0s", 3_600_000_000_000),
            ("5m0s", 300_000_000_000),
            ("-1m30s", -90_000_000_000),
            ("2m3.5s", 123_500_000_000),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("2562047h47m16.854775807s", i64::MAX),
        ];
        for (s, d) in cases {
            assert_eq!(parse_go_duration(s), Some(d), "{s}");
            if s != "0" && s != "1.1us" {
                assert_eq!(crate::special::go_duration(d), s);
            }
        }
        for bad in ["", "-", "1", "1x", ".s", "2562047h47m16.854775808s", "1.2.3s"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }
}
