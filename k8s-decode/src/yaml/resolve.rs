//! Would go-yaml v2 read a plain (unquoted) scalar back as something other
//! than a string? A port of `resolve()` (sigs.k8s.io/yaml's goyaml.v2 fork,
//! including its big-integer branch) and `isBase60Float()`. `stringv()` in
//! encode.go quotes a string exactly when this says so.
//!
//! The Go code leans on `strconv.ParseInt`/`ParseUint`/`ParseFloat` and
//! `time.Parse`; the helpers below reimplement the subset of their grammar
//! that matters for a yes/no answer.

/// Strings in go-yaml's `resolveMap`: booleans (YAML 1.1 style, only these
/// exact spellings), nulls, and the special floats.
const RESOLVE_MAP: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", // true
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", // false
    "", "~", "null", "Null", "NULL", // null
    ".nan", ".NaN", ".NAN", // NaN
    ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", // infinities
    "<<",    // merge key (unreachable: '<' has no hint, kept for fidelity)
];

/// `stringv`'s `canUsePlain`: the string resolves to `!!str` when unquoted and
/// is not a YAML 1.1 base-60 float.
pub(crate) fn can_use_plain(s: &str) -> bool {
    !resolves_to_non_string(s) && !is_base60_float(s)
}

/// `resolve("", s)` returns a tag other than `!!str`.
pub(crate) fn resolves_to_non_string(s: &str) -> bool {
    // resolveTable: the first byte hints at what the scalar might be.
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return false,
    };
    if RESOLVE_MAP.contains(&s) {
        return true;
    }
    match hint {
        b'.' => parse_float_ok(s),
        b'D' | b'S' => {
            if is_timestamp(s) {
                return true;
            }
            // go-yaml strips every underscore before trying the numeric forms.
            let plain = s.replace('_', "");
            if parse_int(&plain, 0).is_ok() {
                return true;
            }
            let uint = parse_uint(&plain, 0);
            if uint.is_ok() {
                return true;
            }
            if is_yaml_style_float(&plain) && parse_float_ok(&plain) {
                return true;
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                if parse_int(rest, 2).is_ok() || parse_uint(rest, 2).is_ok() {
                    return true;
                }
            } else if let Some(rest) = plain.strip_prefix("-0b") {
                if parse_int(&format!("-{rest}"), 2).is_ok() {
                    return true;
                }
            }
            // sigs.k8s.io/yaml's fork: an unsigned integer literal too large
            // for uint64 (and not a float) is a big.Int.
            uint == Err(NumError::Range) && is_valid_uint_literal(&plain)
        }
        _ => false, // 'M' and 'N': only the map could match.
    }
}

#[derive(Debug, PartialEq, Eq)]
enum NumError {
    Syntax,
    Range,
}

/// `strconv.ParseUint(s, base, 64)` for base 0 (prefix-detected) or 2..=36.
/// Like Go, overflow is reported as soon as it happens, before later digits
/// are validated.
fn parse_uint(s: &str, base: u32) -> Result<u64, NumError> {
    let (digits, base) = split_base(s, base).ok_or(NumError::Syntax)?;
    let base64 = u64::from(base);
    let mut n: u64 = 0;
    for c in digits.bytes() {
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'z' | b'A'..=b'Z' => u64::from(c.to_ascii_lowercase() - b'a') + 10,
            _ => return Err(NumError::Syntax),
        };
        if d >= base64 {
            return Err(NumError::Syntax);
        }
        n = n.checked_mul(base64).and_then(|m| m.checked_add(d)).ok_or(NumError::Range)?;
    }
    Ok(n)
}

/// Split off a base prefix the way `ParseUint` does for base 0: `0b`/`0o`/`0x`
/// need at least one more character, and a bare leading `0` means octal.
/// `None` for an empty string.
fn split_base(s: &str, base: u32) -> Option<(&str, u32)> {
    if s.is_empty() {
        return None;
    }
    if base != 0 {
        return Some((s, base));
    }
    let b = s.as_bytes();
    if b[0] != b'0' {
        return Some((s, 10));
    }
    if b.len() >= 3 {
        match b[1].to_ascii_lowercase() {
            b'b' => return s.get(2..).map(|r| (r, 2)),
            b'o' => return s.get(2..).map(|r| (r, 8)),
            b'x' => return s.get(2..).map(|r| (r, 16)),
            _ => {}
        }
    }
    s.get(1..).map(|r| (r, 8))
}

/// `strconv.ParseInt(s, base, 64)`: optional sign, then `ParseUint`, then the
/// int64 range check.
fn parse_int(s: &str, base: u32) -> Result<i64, NumError> {
    let (neg, rest) = match s.as_bytes().first() {
        None => return Err(NumError::Syntax),
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        Some(_) => (false, s),
    };
    let un = match parse_uint(rest, base) {
        Ok(n) => n,
        Err(NumError::Range) => return Err(NumError::Range),
        Err(e) => return Err(e),
    };
    const CUTOFF: u64 = 1 << 63;
    if neg {
        if un > CUTOFF {
            return Err(NumError::Range);
        }
        // -(2^63) is representable; wrapping_neg handles it.
        Ok((un as i64).wrapping_neg())
    } else if un >= CUTOFF {
        Err(NumError::Range)
    } else {
        Ok(un as i64)
    }
}

/// `big.Int.SetString(s, 0)` succeeds on an unsigned literal (the only kind
/// that can reach it: `ParseUint` rejects signs with a syntax error).
fn is_valid_uint_literal(s: &str) -> bool {
    match split_base(s, 0) {
        Some((digits, base)) => !(digits.is_empty() && base != 8) && digits.chars().all(|c| c.is_digit(base)),
        None => false,
    }
}

/// `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat(s, 64)` returns no error, for the strings that reach
/// it: those starting with `.` (decimal syntax with Go's digit-separating
/// underscores) and those matching `yamlStyleFloat`. Overflow to ±Inf is an
/// error in Go (`ErrRange`); underflow to zero is not.
fn parse_float_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    // go-yaml never hands ParseFloat a string with a hex prefix or the
    // inf/nan words here: '.'-hinted strings start with '.', and the other
    // caller has already matched yamlStyleFloat.
    let mut underscores = false;
    let mut saw_dot = false;
    let mut saw_digits = false;
    while i < b.len() {
        match b[i] {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            b'0'..=b'9' => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return false;
    }
    if i < b.len() && b[i].eq_ignore_ascii_case(&b'e') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !matches!(b.get(i), Some(b'0'..=b'9')) {
            return false;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            underscores |= b[i] == b'_';
            i += 1;
        }
    }
    if i != b.len() || (underscores && !underscore_ok(s)) {
        return false;
    }
    s.replace('_', "").parse::<f64>().is_ok_and(f64::is_finite)
}

/// `strconv.underscoreOK`: underscores only between digits (or after a base
/// prefix).
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if matches!(b.first(), Some(b'+' | b'-')) {
        b = &b[1..];
    }
    // saw: '^' start, '0' digit or prefix, '_' underscore, '!' other.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`,
/// e.g. `1:30` or `-190:20:30.15`. go-yaml quotes these for YAML 1.1 parsers.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(b'+' | b'-' | b'0'..=b'9') if b.contains(&b':') => {}
        _ => return false,
    }
    let mut i = 0;
    if matches!(b[0], b'+' | b'-') {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    // One or more `:[0-5]?[0-9]` groups. A group is followed by ':', '.' or
    // the end, never a digit, so two digits are taken whenever present.
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let d1 = match b.get(i) {
            Some(d) if d.is_ascii_digit() => *d,
            _ => return false,
        };
        i += 1;
        if b.get(i).is_some_and(u8::is_ascii_digit) {
            if d1 > b'5' {
                return false;
            }
            i += 1;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// `parseTimestamp`: the value starts with a 4-digit year and a dash, and one
/// of go-yaml's `allowedTimestampFormats` parses it with Go's `time.Parse`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let year_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_digits != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    // "2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00",
    // "2006-1-2 15:4:5.999999999", "2006-1-2".
    [Some(b'T'), Some(b't'), Some(b' '), None].into_iter().any(|sep| parse_go_timestamp(b, sep))
}

/// `time.Parse` with the layout `2006-1-2` followed, when `sep` is given, by
/// `<sep>15:4:5.999999999` and, unless `sep` is a space, `Z07:00`.
fn parse_go_timestamp(b: &[u8], sep: Option<u8>) -> bool {
    let mut v = b;
    // stdLongYear: exactly four digits (checked by the caller).
    let year = v.iter().take(4).fold(0u32, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')));
    v = v.get(4..).unwrap_or_default();
    let Some(rest) = skip(v, b"-") else { return false };
    // stdNumMonth: one or two digits, 1..=12.
    let Some((month, rest)) = getnum(rest, false) else { return false };
    if !(1..=12).contains(&month) {
        return false;
    }
    let Some(rest) = skip(rest, b"-") else { return false };
    // stdDay: one or two digits, validated against the month at the end.
    let Some((day, rest)) = getnum(rest, false) else { return false };
    v = rest;

    if let Some(sep) = sep {
        let Some(rest) = skip(v, &[sep]) else { return false };
        let Some((hour, rest)) = getnum(rest, false) else { return false };
        if hour >= 24 {
            return false;
        }
        let Some(rest) = skip(rest, b":") else { return false };
        let Some((min, rest)) = getnum(rest, false) else { return false };
        if min >= 60 {
            return false;
        }
        let Some(rest) = skip(rest, b":") else { return false };
        let Some((sec, rest)) = getnum(rest, false) else { return false };
        if sec >= 60 {
            return false;
        }
        v = rest;
        // stdFracSecond9: optional; '.' or ',' then any number of digits.
        if v.len() >= 2 && matches!(v[0], b'.' | b',') && v[1].is_ascii_digit() {
            let n = 1 + v[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            v = &v[n..];
        }
        if sep != b' ' {
            // stdISO8601ColonTZ: "Z" or "±hh:mm".
            if v.first() == Some(&b'Z') {
                v = &v[1..];
            } else {
                if v.len() < 6 || v[3] != b':' {
                    return false;
                }
                let (Some((hh, _)), Some((mm, _))) = (getnum(&v[1..3], true), getnum(&v[4..6], true)) else {
                    return false;
                };
                if hh > 24 || mm > 60 || !matches!(v[0], b'+' | b'-') {
                    return false;
                }
                v = &v[6..];
            }
        }
    }
    v.is_empty() && day >= 1 && day <= days_in(month, year)
}

/// `time.skip`: match a literal layout fragment. A space in the layout
/// matches any run of spaces (including none at the end of input).
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            prefix = trim_spaces(prefix);
            value = trim_spaces(value);
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    &s[n..]
}

/// `time.getnum`: one or two leading digits (exactly two when `fixed`).
fn getnum(s: &[u8], fixed: bool) -> Option<(u32, &[u8])> {
    let d0 = *s.first().filter(|c| c.is_ascii_digit())?;
    match s.get(1).filter(|c| c.is_ascii_digit()) {
        Some(&d1) => Some((u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'), &s[2..])),
        None if fixed => None,
        None => Some((u32::from(d0 - b'0'), &s[1..])),
    }
}

/// Days in a month of the proleptic Gregorian calendar (`time.daysIn`).
fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
