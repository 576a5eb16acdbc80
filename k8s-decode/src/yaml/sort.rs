//! Mapping key order. `sigs.k8s.io/yaml.JSONToYAML` decodes the JSON into Go
//! maps, so the insertion order is lost and go-yaml's encoder sorts the keys
//! with `keyList.Less` (sorter.go). For string keys that is a "natural" order,
//! not a bytewise one:
//!
//! * characters are compared one by one (as runes);
//! * two letters compare by code point;
//! * a letter sorts after any non-letter;
//! * otherwise the runs of digits starting there are compared as numbers
//!   (`a2` < `a10`), then by run length (`1` < `01`), then by code point,
//!   so non-digit punctuation sorts before digits (`a-b` < `a0`);
//! * a proper prefix sorts first.
//!
//! `unicode.IsLetter` / `unicode.IsDigit` are the general categories L* / Nd.

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// Go's `unicode.IsLetter`.
fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        Gc::UppercaseLetter | Gc::LowercaseLetter | Gc::TitlecaseLetter | Gc::ModifierLetter | Gc::OtherLetter
    )
}

/// Go's `unicode.IsDigit`.
fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    get_general_category(c) == Gc::DecimalNumber
}

/// `keyList.Less` for two string keys.
pub(crate) fn key_less(a: &[char], b: &[char]) -> bool {
    for i in 0..a.len().min(b.len()) {
        let (ac, bc) = (a[i], b[i]);
        if ac == bc {
            continue;
        }
        let al = is_letter(ac);
        let bl = is_letter(bc);
        if al && bl {
            return ac < bc;
        }
        if al || bl {
            return bl;
        }
        // Numeric runs. Go accumulates `rune - '0'` in an int64 even for
        // non-ASCII digits, with wrapping overflow; so do we.
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ac == '0' || bc == '0' {
            // A zero inside a number ("10" vs "1a"...) counts as a digit of
            // that number rather than a leading zero.
            for &p in a[..i].iter().rev() {
                if !is_digit(p) {
                    break;
                }
                if p != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < a.len() && is_digit(a[ai]) {
            an = an.wrapping_mul(10).wrapping_add(i64::from(a[ai] as i32 - '0' as i32));
            ai += 1;
        }
        let mut bi = i;
        while bi < b.len() && is_digit(b[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(i64::from(b[bi] as i32 - '0' as i32));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ac < bc;
    }
    a.len() < b.len()
}

/// Sort `items` by `keyList.Less` on their keys. A hand-written merge sort:
/// `slice::sort_by` may panic on a comparator that is not a total order, and
/// nothing proves `keyList.Less` is one for every odd key.
pub(crate) fn sort_by_go_key<T>(items: Vec<(Vec<char>, T)>) -> Vec<(Vec<char>, T)> {
    if items.len() <= 1 {
        return items;
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = sort_by_go_key(left);
    let right = sort_by_go_key(right);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => key_less(&b.0, &a.0),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        if let Some(item) = next {
            out.push(item);
        }
    }
    out
}
