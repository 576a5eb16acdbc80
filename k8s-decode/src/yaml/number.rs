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
    // encoding/json uses 'f' formatting for 1e-6 <= |f| < 1e21, so integral
    // values in that range come out as integer tokens.
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
        // Integral and below 1e21, so exactly representable as an i128.
        let i = f as i128;
        if i >= i128::from(i64::MIN) && i <= i128::from(u64::MAX) {
            return i.to_string();
        }
    }
    go_format_float_g(f)
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
    // Rust's `{:e}` prints the shortest round-tripping digits, the same digits
    // Go's shortest formatting picks: "d[.ddd]e[-]x".
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    // %e when the exponent is < -4 or >= the precision, which for the
    // shortest formatting Go fixes at 6 (hence 1e+06 but 100000).
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        // At least two exponent digits.
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else {
        // %f with exactly the significant digits.
        let dp = exp + 1; // position of the decimal point within `digits`
        if dp <= 0 {
            out.push_str("0.");
            for _ in 0..-dp {
                out.push('0');
            }
            out.push_str(&digits);
        } else if dp >= nd {
            out.push_str(&digits);
            for _ in 0..(dp - nd) {
                out.push('0');
            }
        } else {
            let (int, frac) = digits.split_at(usize::try_from(dp).unwrap_or(0));
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    }
    out
}
