//! Numbers as `kubectl get -o yaml` prints them.
//!
//! kubectl serializes the object with Go's `encoding/json`, and
//! `sigs.k8s.io/yaml.JSONToYAML` re-reads that JSON with go-yaml, which types
//! each number token by itself: a token that parses as int64/uint64 becomes an
//! integer (printed with `FormatInt`), anything else a float64 (printed with
//! `strconv.FormatFloat(f, 'g', -1, 64)`, i.e. `1e+06`, `1.5`, `.inf`).
//!
//! A float64 that happens to be integral is written by `encoding/json`
//! without a fraction (`'f'` format below 1e21), so go-yaml reads it back as an
//! integer whenever it fits in 64 bits: a `serde_json` float `1e18` prints as
//! `1000000000000000000`, and `-0.0` (JSON `-0`) as `0`.

use serde_json::Number;

use super::scalar::Out;

/// Write the plain scalar go-yaml emits for a JSON number; integers (the
/// common case) without allocating.
pub(crate) fn write_number(out: &mut Out, n: &Number) {
    if let Some(i) = n.as_i64() {
        if i < 0 {
            out.put_ascii("-");
        }
        write_u64(out, i.unsigned_abs());
    } else if let Some(u) = n.as_u64() {
        write_u64(out, u);
    } else {
        out.put(&format_number(n));
    }
}

/// Decimal digits of `v`.
fn write_u64(out: &mut Out, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(d) = buf.get_mut(start) {
            // `v % 10` is below 10.
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || start == 0 {
            break;
        }
    }
    let digits = buf.get(start..).unwrap_or_default();
    out.put_ascii(std::str::from_utf8(digits).unwrap_or_default());
}

/// The plain scalar go-yaml emits for a JSON number.
pub(crate) fn format_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        Some(f) => format_f64(f),
        // Only reachable with serde_json's arbitrary_precision feature, for a
        // token no f64 can hold; go-yaml would keep such a token as a plain
        // string, i.e. print it verbatim.
        None => n.to_string(),
    }
}

/// A float64 value through the encoding/json → go-yaml pipeline.
pub(crate) fn format_f64(f: f64) -> String {
    if let Some(int) = json_integer_token(f) {
        return int;
    }
    go_format_float_g(f)
}

/// If `encoding/json` writes `f` as a token go-yaml types as an integer,
/// that integer as `strconv.FormatInt`/`FormatUint` prints it.
///
/// encoding/json uses `strconv.FormatFloat(f, 'f', -1, 64)` for
/// 1e-6 <= |f| < 1e21 (and zero): the shortest round-tripping digits,
/// padded with zeros. So 39489705001721408.0 is written `39489705001721410`,
/// and that is what kubectl shows, not the exact value.
fn json_integer_token(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    if f == 0.0 {
        // "0" or "-0"; ParseInt reads both as 0.
        return Some("0".to_owned());
    }
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        return None; // 'e' format: never an integer token
    }
    let (digits, exp) = shortest_digits(abs);
    let dp = usize::try_from(exp.checked_add(1)?).ok()?;
    if dp < digits.len() {
        return None; // has a fraction
    }
    let mut text = String::with_capacity(dp + 1);
    if f < 0.0 {
        text.push('-');
    }
    text.push_str(&digits);
    text.extend(std::iter::repeat_n('0', dp - digits.len()));
    // Below 1e21 the value fits an i128; go-yaml accepts it as an integer
    // only within int64 or uint64 range (otherwise it becomes a float).
    let n: i128 = text.parse().ok()?;
    (n >= i128::from(i64::MIN) && n <= i128::from(u64::MAX)).then(|| n.to_string())
}

/// Shortest round-tripping decimal digits of a finite, non-zero `abs`, and
/// the decimal exponent of the first digit (`abs = d.ddd × 10^exp`), as Go's
/// `strconv` picks them for precision -1.
///
/// Rust's `{:e}` yields the same shortest length and the candidate closest
/// to the exact binary value, except on an exact tie between two candidates,
/// where Go's Ryū rounds half to even and Rust rounds up (818245902023728.25
/// is `...728.2` in Go). [`go_tie_break`] applies Go's choice.
fn shortest_digits(abs: f64) -> (String, i32) {
    let sci = format!("{abs:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits = go_tie_break(abs, digits, exp);
    (digits, exp)
}

/// If the exact value of `abs` lies exactly halfway between `digits` and its
/// neighbour at the same length, return the candidate with an even last
/// digit (provided it still round-trips).
fn go_tie_break(abs: f64, digits: String, exp: i32) -> String {
    // Every f64 has at most 767 significant decimal digits, so 800 digits
    // after the point is its exact expansion.
    let exact = format!("{abs:.800e}");
    let Some((mantissa, exact_exp)) = exact.split_once('e') else { return digits };
    if exact_exp.parse::<i32>().ok() != Some(exp) {
        return digits; // rounding crossed a power of ten: no tie possible
    }
    let exact_digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let n = digits.len();
    let is_tie = exact_digits.get(n) == Some(&b'5') && exact_digits.iter().skip(n + 1).all(|&d| d == b'0');
    let last_is_odd = digits.bytes().last().is_some_and(|d| (d - b'0') % 2 == 1);
    if !is_tie || !last_is_odd {
        return digits;
    }
    // The two candidates are the truncation and the truncation plus one unit.
    let Some(lower) = exact_digits.get(..n) else { return digits };
    let alternative = if lower == digits.as_bytes() { increment(lower) } else { lower.to_vec() };
    let Ok(alternative) = String::from_utf8(alternative) else { return digits };
    // Only a candidate of the same length that reads back as `abs` is valid.
    let round_trips = alternative.len() == n
        && format!("{}.{}e{exp}", &alternative[..1], &alternative[1..]).parse::<f64>().ok() == Some(abs);
    if round_trips {
        alternative.trim_end_matches('0').to_owned()
    } else {
        digits
    }
}

/// Add one unit in the last place to a string of decimal digits.
fn increment(digits: &[u8]) -> Vec<u8> {
    let mut out = digits.to_vec();
    for d in out.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return out;
        }
    }
    out.insert(0, b'1');
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` with go-yaml's spellings of the
/// non-finite values.
pub(crate) fn go_format_float_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (digits, exp) = shortest_digits(f.abs());
    let (first, rest) = digits.split_at(digits.len().min(1));
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    // %e when the exponent is < -4 or >= the precision, which for the
    // shortest formatting Go fixes at 6 (hence 1e+06 but 100000).
    if !(-4..6).contains(&exp) {
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        // At least two exponent digits.
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp < 0 {
        // %f: 0.000ddd
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', usize::try_from(-exp - 1).unwrap_or(0)));
        out.push_str(&digits);
    } else {
        // %f with exactly the significant digits: ddd000 or ddd.ddd
        let dp = usize::try_from(exp).unwrap_or(0) + 1;
        if dp >= digits.len() {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', dp - digits.len()));
        } else {
            let (int, frac) = digits.split_at(dp);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    }
    out
}
