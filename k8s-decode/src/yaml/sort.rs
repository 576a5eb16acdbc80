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
    if c.is_ascii() {
        // The only ASCII characters in categories L*.
        return c.is_ascii_alphabetic();
    }
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
fn digit_run(s: &str, seed: i64) -> (i64, usize) {
    s.chars().take_while(|&c| is_digit(c)).fold((seed, 0), |(acc, len), c| {
        (acc.wrapping_mul(10).wrapping_add(i64::from(u32::from(c)) - i64::from(u32::from('0'))), len + 1)
    })
}

/// Whether key `a` sorts before key `b`.
pub(crate) fn key_less(a: &str, b: &str) -> bool {
    let Some(mut at) = a.bytes().zip(b.bytes()).position(|(x, y)| x != y) else {
        return a.len() < b.len();
    };
    // The first differing character starts at the char boundary at or
    // before the first differing byte (the same in both keys: the bytes
    // before it are equal).
    while at > 0 && !a.is_char_boundary(at) {
        at -= 1;
    }
    let (Some(shared), Some(ra), Some(rb)) = (a.get(..at), a.get(at..), b.get(at..)) else { return false };
    let (Some(x), Some(y)) = (ra.chars().next(), rb.chars().next()) else { return false };
    match (is_letter(x), is_letter(y)) {
        (true, true) => return x < y,
        (true, false) => return false,
        (false, true) => return true,
        (false, false) => {}
    }
    let inside_number = (x == '0' || y == '0') && shared.chars().rev().take_while(|&c| is_digit(c)).any(|c| c != '0');
    let seed = i64::from(inside_number);
    let (va, la) = digit_run(ra, seed);
    let (vb, lb) = digit_run(rb, seed);
    match va.cmp(&vb).then(la.cmp(&lb)) {
        Ordering::Equal => x < y,
        o => o == Ordering::Less,
    }
}

/// Sort `items` by `less`, stably, in place; `scratch` is working space
/// (reused across calls). A top-down merge sort of our own, splitting at
/// `len / 2`: the standard sorts may panic on a comparator that is not a
/// total order, and [`key_less`] is not transitive for some odd key sets,
/// where the result depends on the exact merge tree (kept as it was).
pub(crate) fn merge_sort<T: Copy>(items: &mut [T], scratch: &mut Vec<T>, less: &impl Fn(&T, &T) -> bool) {
    let n = items.len();
    if n < 2 {
        return;
    }
    let mid = n / 2;
    let (front, back) = items.split_at_mut(mid);
    merge_sort(front, scratch, less);
    merge_sort(back, scratch, less);
    // A single front item that goes first: the merge changes nothing.
    if let ([f], Some(b)) = (&*front, back.first()) {
        if !less(b, f) {
            return;
        }
    }
    scratch.clear();
    scratch.extend_from_slice(items);
    let (front, back) = scratch.split_at(mid);
    let mut front = front.iter().peekable();
    let mut back = back.iter().peekable();
    for slot in items.iter_mut() {
        let next = match (front.peek(), back.peek()) {
            // Equal keys cannot occur (map keys are distinct); ties keep order.
            (Some(&f), Some(&b)) => {
                if less(b, f) {
                    back.next()
                } else {
                    front.next()
                }
            }
            (Some(_), None) => front.next(),
            _ => back.next(),
        };
        if let Some(&v) = next {
            *slot = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to three characters from `alphabet`.
    fn strings(alphabet: &str) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..3 {
            last = last.iter().flat_map(|s| alphabet.chars().map(move |c| format!("{s}{c}"))).collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    /// The emitter sorts maps whose keys are all ASCII letters by byte order: between such
    /// keys, the natural order is exactly that (and total, so any sort gives its result).
    #[test]
    fn letters_only_keys_sort_in_byte_order() {
        let keys = strings("aAbzZ");
        for a in &keys {
            for b in &keys {
                assert_eq!(key_less(a, b), a < b, "{a:?} {b:?}");
            }
        }
    }

    /// With other characters byte order differs: digits compare as numbers, and anything
    /// that is not a letter sorts before letters.
    #[test]
    fn other_keys_do_not_sort_in_byte_order() {
        assert!(key_less("a9", "a10") && "a9" > "a10");
        assert!(key_less("a-b", "ab") && key_less("_", "A") && "_" > "A");
    }
}
