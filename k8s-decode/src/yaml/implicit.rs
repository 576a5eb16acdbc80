//! Which strings would change type if printed without quotes.
//!
//! kubectl's YAML is read back by YAML 1.1 tools (and by go-yaml itself), so
//! go-yaml quotes a string whenever its plain form would load as a null,
//! boolean, number or timestamp. The rules below were established by feeding
//! strings through `sigs.k8s.io/yaml.JSONToYAML` and recording which came
//! back quoted; they are a mix of the YAML 1.1 type repository and Go's
//! `strconv`/`time` parsers:
//!
//! * a fixed list of words (nulls, YAML 1.1 booleans, `.inf`/`.nan`);
//! * text starting with a digit or a sign is read with every `_` removed,
//!   as a Go integer literal (`0x`, `0o`, `0b`, leading-zero octal) that fits
//!   int64 (or uint64 when unsigned), or as a decimal float of the YAML
//!   shape `[-+]?(.d+|d+(.d*)?)([eE][-+]?d+)?` whose value is finite;
//! * text starting with `.` must be a Go float literal as written (so `_` is
//!   only accepted between two digits, `.5_5` but not `._5`);
//! * text starting with a digit may also be a date or timestamp in one of
//!   four layouts, range-checked like Go's `time.Parse`;
//! * sexagesimal numbers (`1:20`, `-1:20:30.5`) are quoted as well.

use std::borrow::Cow;

/// True when `s`, written as a plain scalar, would not load as the string
/// `s`.
pub(crate) fn reads_as_other_type(s: &str) -> bool {
    if is_reserved_word(s) {
        return true;
    }
    match s.as_bytes().first() {
        Some(b'0'..=b'9') => number_without_underscores(s) || is_timestamp(s) || is_sexagesimal(s),
        Some(b'+' | b'-') => number_without_underscores(s) || is_sexagesimal(s),
        Some(b'.') => is_go_float_starting_with_dot(s),
        _ => false,
    }
}

/// Exact spellings (case variants are listed, not case-folded: `nUll` and
/// `yES` stay plain).
fn is_reserved_word(s: &str) -> bool {
    matches!(
        s,
        // null
        "" | "~" | "null" | "Null" | "NULL"
        // booleans, YAML 1.1
        | "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "true" | "True" | "TRUE"
        | "false" | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF"
        // special floats
        | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        | ".NAN"
    )
}

/// `s` without its underscores (borrowed when it has none).
fn without_underscores(s: &str) -> Cow<'_, str> {
    if s.contains('_') {
        Cow::Owned(s.chars().filter(|&c| c != '_').collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Integer or float after dropping every underscore.
fn number_without_underscores(s: &str) -> bool {
    let t = without_underscores(s);
    let t = t.as_ref();
    is_go_integer(t) || is_signed_binary(t) || (has_yaml_float_shape(t) && t.parse::<f64>().is_ok_and(f64::is_finite))
}

/// A Go integer literal (base chosen by prefix) within range: int64 when a
/// sign is written, int64 or uint64 otherwise.
fn is_go_integer(t: &str) -> bool {
    let (sign, body) = match t.as_bytes().first() {
        Some(b'+') => (Some(false), &t[1..]),
        Some(b'-') => (Some(true), &t[1..]),
        _ => (None, t),
    };
    let prefixed = |radix| (radix, body.get(2..).unwrap_or_default());
    let (radix, digits) = match body.as_bytes() {
        [b'0', b'x' | b'X', ..] => prefixed(16),
        [b'0', b'o' | b'O', ..] => prefixed(8),
        [b'0', b'b' | b'B', ..] => prefixed(2),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() {
        return false;
    }
    let mut value: u128 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { return false };
        let Some(v) = value.checked_mul(u128::from(radix)).and_then(|v| v.checked_add(u128::from(d))) else {
            return false;
        };
        value = v;
    }
    match sign {
        Some(true) => value <= 1u128 << 63,
        Some(false) => value <= i64::MAX as u128,
        None => value <= u128::from(u64::MAX),
    }
}

/// A lowercase `0b` prefix followed by a signed binary int64: `0b-1` and
/// `0b+1` are integers to go-yaml (`0B-1`, `0x-1`, `0o-7` are not).
fn is_signed_binary(t: &str) -> bool {
    let Some(rest) = t.strip_prefix("0b") else { return false };
    let (negative, digits) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c == b'0' || c == b'1') {
        return false;
    }
    let Ok(value) = u64::from_str_radix(digits, 2) else { return false };
    if negative {
        value <= 1u64 << 63
    } else {
        value <= i64::MAX as u64
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, whole string.
fn has_yaml_float_shape(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_digits = count_digits(b, i);
    i += int_digits;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac = count_digits(b, i);
        if int_digits == 0 && frac == 0 {
            return false;
        }
        i += frac;
    } else if int_digits == 0 {
        return false;
    }
    exponent_ends_at(b, i) == Some(b.len())
}

/// If an optional `[eE][-+]?[0-9]+` starts at `i`, where it ends (or `i`
/// when there is no `e` at all); `None` for a malformed exponent.
fn exponent_ends_at(b: &[u8], i: usize) -> Option<usize> {
    if !matches!(b.get(i), Some(b'e' | b'E')) {
        return Some(i);
    }
    let mut j = i + 1;
    if matches!(b.get(j), Some(b'+' | b'-')) {
        j += 1;
    }
    let n = count_digits(b, j);
    (n > 0).then_some(j + n)
}

fn count_digits(b: &[u8], from: usize) -> usize {
    b.get(from..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// `.digits[e[sign]digits]` where an underscore may only sit between two
/// digits, with a finite value.
fn is_go_float_starting_with_dot(s: &str) -> bool {
    let b = s.as_bytes();
    let underscores_ok = b.iter().enumerate().all(|(i, &c)| {
        c != b'_'
            || (i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_digit) && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    if !underscores_ok {
        return false;
    }
    let t = without_underscores(s);
    let tb = t.as_bytes();
    let frac = count_digits(tb, 1);
    frac > 0 && exponent_ends_at(tb, 1 + frac) == Some(tb.len()) && t.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Sexagesimal numbers of YAML 1.1: `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`.
fn is_sexagesimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        // One digit, or two with the first in 0..=5.
        match (b.get(i + 1), b.get(i + 2)) {
            (Some(b'0'..=b'5'), Some(d)) if d.is_ascii_digit() => i += 3,
            (Some(d), _) if d.is_ascii_digit() => i += 2,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// `YYYY-M-D`, `YYYY-M-DTh:m:s[.frac](Z|±hh:mm)` (`T` or `t`), or
/// `YYYY-M-D h:m:s[.frac]` (one or more spaces), with Go's range checks.
fn is_timestamp(s: &str) -> bool {
    let mut p = Cursor { b: s.as_bytes(), i: 0 };
    let Some(year) = p.fixed_digits(4) else { return false };
    if !p.eat(b'-') {
        return false;
    }
    let Some(month) = p.short_number() else { return false };
    if !p.eat(b'-') {
        return false;
    }
    let Some(day) = p.short_number() else { return false };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    if p.at_end() {
        return true;
    }
    let zoned = if p.eat(b'T') || p.eat(b't') {
        true
    } else if p.eat(b' ') {
        while p.eat(b' ') {}
        false
    } else {
        return false;
    };
    let time_ok = p.short_number().is_some_and(|h| h <= 23)
        && p.eat(b':')
        && p.short_number().is_some_and(|m| m <= 59)
        && p.eat(b':')
        && p.short_number().is_some_and(|s| s <= 59);
    if !time_ok {
        return false;
    }
    // Optional fraction: `.` or `,` and 1..=9 digits; a separator without a
    // digit after it is left in place (and then fails below).
    if matches!(p.peek(0), Some(b'.' | b',')) && p.peek(1).is_some_and(|c| c.is_ascii_digit()) {
        p.i += 1;
        let n = count_digits(p.b, p.i);
        if n > 9 {
            return false;
        }
        p.i += n;
    }
    // Offsets are not range-checked.
    if zoned && !p.eat(b'Z') {
        let ok =
            (p.eat(b'+') || p.eat(b'-')) && p.fixed_digits(2).is_some() && p.eat(b':') && p.fixed_digits(2).is_some();
        if !ok {
            return false;
        }
    }
    p.at_end()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A byte cursor for the timestamp shapes.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.b.get(self.i + ahead).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek(0) == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    /// Exactly `n` digits.
    fn fixed_digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..n {
            let c = self.peek(k).filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }

    /// One digit, or two when a second follows.
    fn short_number(&mut self) -> Option<u32> {
        let first = self.fixed_digits(1)?;
        match self.peek(0) {
            Some(c) if c.is_ascii_digit() => {
                self.i += 1;
                Some(first * 10 + u32::from(c - b'0'))
            }
            _ => Some(first),
        }
    }
}
