//! Mapping key order.
//!
//! `sigs.k8s.io/yaml.JSONToYAML` decodes the JSON into Go maps, so the
//! object's own order is lost and go-yaml sorts the keys. Its order, as
//! observed (and pinned by the unit tests in `yaml.rs`), is a "natural"
//! order decided at the first character where two keys differ:
//!
//! * two letters compare by code point;
//! * a letter sorts after anything that is not a letter;
//! * otherwise the runs of digits starting there are compared by value
//!   (`a2` < `a10`), then by length (`1` < `01`), then the two characters by
//!   code point (so punctuation sorts before digits: `a-b` < `a0`);
//! * when the differing characters include a `0` and the digits just before
//!   them (shared by both keys) are not all zeros, the zero is part of a
//!   larger number, and both values count as if preceded by a `1`;
//! * if one key is a prefix of the other, the shorter comes first.
//!
//! "Letter" means Unicode categories L*, "digit" category Nd; a digit's
//! value is its code point minus that of `0` (only meaningful for ASCII, but
//! that is what the order uses), accumulated with 64-bit wrap-around.

use std::cmp::Ordering;

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        Gc::UppercaseLetter | Gc::LowercaseLetter | Gc::TitlecaseLetter | Gc::ModifierLetter | Gc::OtherLetter
    )
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && get_general_category(c) == Gc::DecimalNumber)
}

/// Value and length of the digit run at the start of `s`, starting the
/// accumulator at `seed`.
fn digit_run(s: &[char], seed: i64) -> (i64, usize) {
    let len = s.iter().take_while(|&&c| is_digit(c)).count();
    let value = s
        .iter()
        .take(len)
        .fold(seed, |acc, &c| acc.wrapping_mul(10).wrapping_add(i64::from(u32::from(c)) - i64::from(u32::from('0'))));
    (value, len)
}

/// Whether key `a` sorts before key `b`.
pub(crate) fn key_less(a: &[char], b: &[char]) -> bool {
    let Some(at) = a.iter().zip(b).position(|(x, y)| x != y) else {
        return a.len() < b.len();
    };
    let (Some(&x), Some(&y)) = (a.get(at), b.get(at)) else { return false };
    match (is_letter(x), is_letter(y)) {
        (true, true) => return x < y,
        (true, false) => return false,
        (false, true) => return true,
        (false, false) => {}
    }
    let shared = a.get(..at).unwrap_or_default();
    let inside_number = (x == '0' || y == '0') && shared.iter().rev().take_while(|&&c| is_digit(c)).any(|&c| c != '0');
    let seed = i64::from(inside_number);
    let (va, la) = digit_run(a.get(at..).unwrap_or_default(), seed);
    let (vb, lb) = digit_run(b.get(at..).unwrap_or_default(), seed);
    match va.cmp(&vb).then(la.cmp(&lb)) {
        Ordering::Equal => x < y,
        o => o == Ordering::Less,
    }
}

/// Sort `items` by [`key_less`] on their keys, stably. A merge sort of our
/// own: the standard sorts may panic on a comparator that is not a total
/// order, and this one is not transitive for some odd key sets.
pub(crate) fn sort_by_go_key<T>(mut items: Vec<(Vec<char>, T)>) -> Vec<(Vec<char>, T)> {
    if items.len() < 2 {
        return items;
    }
    let back = items.split_off(items.len() / 2);
    let front = sort_by_go_key(items);
    let back = sort_by_go_key(back);
    let mut merged = Vec::with_capacity(front.len() + back.len());
    let mut front = front.into_iter().peekable();
    let mut back = back.into_iter().peekable();
    while let (Some(f), Some(b)) = (front.peek(), back.peek()) {
        // Equal keys cannot occur (map keys are distinct); ties keep order.
        let next = if key_less(&b.0, &f.0) { back.next() } else { front.next() };
        merged.extend(next);
    }
    merged.extend(front);
    merged.extend(back);
    merged
}
