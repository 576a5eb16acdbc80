//! Looking up a key of a decoded object without hashing it.
//!
//! `serde_json`'s maps (insertion-ordered, so `-o json` keeps the fields' order) hash every
//! key looked up with SipHash: about 280 instructions for a short key. The skips ask each
//! object's top level, metadata and labels for a few keys, and those maps hold a handful
//! of entries, which a scan compares in a fraction of one hash: on the 2 GiB benchmark
//! snapshot those lookups were 2.5% of `extract -A`.

use serde_json::Value;

/// Maps this small are scanned rather than hashed into.
const SCAN_AT_MOST: usize = 16;

/// `value.get(key)` for a string key: the member `key` of an object, `None` for anything
/// else.
pub(crate) fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    let map = value.as_object()?;
    if map.len() <= SCAN_AT_MOST {
        map.iter().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        map.get(key)
    }
}

/// [`member`] for changing it: `value.get_mut(key)` for a string key.
pub(crate) fn member_mut<'v>(value: &'v mut Value, key: &str) -> Option<&'v mut Value> {
    let map = value.as_object_mut()?;
    if map.len() <= SCAN_AT_MOST {
        map.iter_mut().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        map.get_mut(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_as_get_does_for_small_and_large_maps() {
        let small = json!({"a": 1, "metadata": {"name": "x"}, "": 3});
        let large: Value = (0..40).map(|i| (format!("k{i}"), json!(i))).collect::<serde_json::Map<_, _>>().into();
        for v in [&small, &large, &json!([1, 2]), &json!("metadata"), &json!(null)] {
            for key in ["a", "metadata", "", "k0", "k39", "k40", "missing"] {
                assert_eq!(member(v, key), v.get(key), "{key} in {v}");
                let (mut a, mut b) = (v.clone(), v.clone());
                assert_eq!(member_mut(&mut a, key), b.get_mut(key), "{key} in {v}");
            }
        }
    }
}
