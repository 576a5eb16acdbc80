//! Sorting byte-string keys.
//!
//! A comparison sort of user keys spends most of its time in `memcmp`: keys scattered
//! across a multi-GB mapping make every comparison two cache (and TLB) misses, and the
//! comparisons deep in the sort are between keys that share long prefixes
//! (`/registry/pods/<namespace>/…`), so each one rescans those prefixes. Profiled on a 2 GiB
//! snapshot, sorting and merging per-thread results this way was over half of `etcdsnap ls`.
//!
//! This is a most-significant-digit radix sort whose digits are 8-byte big-endian chunks:
//! - the bytes every key starts with (`/registry/`) are skipped;
//! - each key is read 64 bytes at a time into a slot (one miss for eight levels; most
//!   Kubernetes keys are shorter), the first 64 while the keys are read front to back, so
//!   that most keys are never read again;
//! - a level sorts the slots of a group, which sit together in memory, by their digit, and
//!   only groups whose digits tie go on to the next 8 bytes. A shared prefix is then read
//!   once per key instead of once per comparison.
//!
//! Groups of one level are sorted in parallel on the current rayon pool, and a large group
//! is itself sorted in parallel. The levels are a loop, not recursion, so a hostile
//! snapshot of long keys with equal prefixes cannot overflow the stack. Callers pass keys in
//! compact memory (copies) for the best speed.

use std::cmp::Ordering;

use rayon::prelude::*;

/// Groups this small are finished with an insertion sort on the remaining bytes.
const SMALL_GROUP: usize = 16;

/// Groups this large are sorted by a parallel sort: the first level is one group of every
/// key, and a few resources can hold most keys of a snapshot.
const PARALLEL_GROUP: usize = 1 << 15;

/// Bytes of a key read into a slot at once: eight levels' digits. Reading the keys again
/// after the first 32 bytes, in key order and so a cache miss each, was a third of the sort
/// on the 2 GiB benchmark snapshot (keys of 57 bytes on average); 64 bytes cover 88% of its
/// keys, at 80 bytes a slot instead of 48.
const CACHED: usize = 64;

/// One key's place in the sort.
#[derive(Clone, Copy)]
struct Slot {
    /// `CACHED` bytes of the key from the last multiple of `CACHED` at or below the current
    /// depth, big-endian, zero-padded past its end.
    cache: [u64; CACHED / 8],
    len: u32,
    /// Index of the item in the input.
    index: u32,
    /// The key is equal to the previous slot's (only meaningful once sorted).
    equal_to_previous: bool,
}

impl Slot {
    /// A slot with the first `CACHED` bytes of `key` loaded.
    fn new(key: &[u8], index: u32) -> Slot {
        let mut slot = Slot {
            cache: [0; CACHED / 8],
            // Only a crafted file holds a key of 4 GiB or more; its order past that is unspecified.
            len: u32::try_from(key.len()).unwrap_or(u32::MAX),
            index,
            equal_to_previous: false,
        };
        slot.load(key, 0);
        slot
    }

    /// The digit at `depth`, packed so that comparing digits orders keys: 8 bytes of key,
    /// then how many of those bytes the key has (0–8; of two keys with equal padded bytes
    /// the shorter is a prefix of the longer and sorts first; 8 means the key goes on past
    /// this digit).
    fn digit(&self, depth: usize) -> u128 {
        let present = (self.len as usize).saturating_sub(depth).min(8) as u128;
        (u128::from(self.cache[(depth % CACHED) / 8]) << 8) | present
    }

    fn load(&mut self, key: &[u8], depth: usize) {
        let rest = key.get(depth..).unwrap_or_default();
        let mut bytes = [0u8; CACHED];
        if let Some(head) = rest.get(..CACHED) {
            bytes.copy_from_slice(head);
        } else {
            bytes[..rest.len()].copy_from_slice(rest);
        }
        for (digit, chunk) in self.cache.iter_mut().zip(bytes.chunks_exact(8)) {
            *digit = u64::from_be_bytes(chunk.try_into().expect("8-byte chunks"));
        }
    }
}

/// Items in key order.
pub(crate) struct SortedOrder {
    /// Input indexes in key order; equal keys keep their input order (a stable sort).
    pub indexes: Vec<u32>,
    /// `equal_to_previous[i]`: the key of `indexes[i]` equals that of `indexes[i - 1]`.
    pub equal_to_previous: Vec<bool>,
}

/// Sort `items` by `key`, stably, and tell which neighbours have equal keys.
///
/// # Panics
/// If there are more than `u32::MAX` items.
pub(crate) fn sorted_order<T: Sync>(items: &[T], key: impl Fn(&T) -> &[u8] + Sync) -> SortedOrder {
    let count = u32::try_from(items.len()).expect("at most u32::MAX keys");
    let skip = common_prefix_len(items, &key);
    let key_at = |index: u32| &key(&items[index as usize])[skip..];
    // Made in input order, so that the keys are read front to back; later levels read them
    // in key order, a cache miss each.
    let mut slots: Vec<Slot> = (0..count).into_par_iter().map(|index| Slot::new(key_at(index), index)).collect();
    let key_of = |slot: &Slot| key_at(slot.index);
    // Groups of slots whose keys are equal up to `depth`: at first, all of them.
    let mut groups: Vec<(usize, usize, usize)> = if count > 1 { vec![(0, slots.len(), 0)] } else { Vec::new() };
    while !groups.is_empty() {
        let parts = split_groups(&mut slots, &groups);
        groups = parts
            .into_par_iter()
            .flat_map_iter(|(start, depth, group)| {
                sort_level(group, depth, &key_of).into_iter().map(move |(s, e, d)| (start + s, start + e, d))
            })
            .collect();
    }
    SortedOrder {
        indexes: slots.par_iter().map(|s| s.index).collect(),
        equal_to_previous: slots.par_iter().map(|s| s.equal_to_previous).collect(),
    }
}

/// How many bytes every key starts with: no level needs to sort on them.
fn common_prefix_len<T: Sync>(items: &[T], key: &(impl Fn(&T) -> &[u8] + Sync)) -> usize {
    let Some(first) = items.first().map(key) else {
        return 0;
    };
    items
        .par_iter()
        .with_min_len(1 << 12)
        .fold(
            || first.len(),
            |common, item| {
                let other = key(item);
                let limit = common.min(other.len());
                first[..limit].iter().zip(other).take_while(|(a, b)| a == b).count()
            },
        )
        .min()
        .unwrap_or(0)
}

/// Disjoint mutable views of `groups` (sorted, non-overlapping ranges), with their starts
/// and depths.
fn split_groups<'s>(
    mut slots: &'s mut [Slot],
    groups: &[(usize, usize, usize)],
) -> Vec<(usize, usize, &'s mut [Slot])> {
    let mut parts = Vec::with_capacity(groups.len());
    let mut offset = 0;
    for &(start, end, depth) in groups {
        let (_, rest) = std::mem::take(&mut slots).split_at_mut(start - offset);
        let (group, rest) = rest.split_at_mut(end - start);
        parts.push((start, depth, group));
        slots = rest;
        offset = end;
    }
    parts
}

/// Sort one group, whose keys are equal before `depth`, by the digit at `depth`; return the
/// sub-groups (start, end, depth within the group) whose keys are still equal after it.
fn sort_level<'k>(
    group: &mut [Slot],
    depth: usize,
    key_of: &(impl Fn(&Slot) -> &'k [u8] + Sync),
) -> Vec<(usize, usize, usize)> {
    if group.len() <= SMALL_GROUP {
        finish_small(group, depth, key_of);
        return Vec::new();
    }
    if loads_at(depth) {
        if group.len() >= PARALLEL_GROUP {
            group.par_iter_mut().for_each(|slot| slot.load(key_of(slot), depth));
        } else {
            for slot in group.iter_mut() {
                slot.load(key_of(slot), depth);
            }
        }
    }
    let first = group[0].digit(depth);
    if group.iter().any(|s| s.digit(depth) != first) {
        // By digit alone, not by (digit, input index): most levels have few distinct digits
        // (`pods/<namespace>/` splits into a handful of groups), and the sort's
        // equal-element partitioning then makes a level O(n log distinct) instead of
        // O(n log n). Input order is restored where it matters, among equal keys, below.
        if group.len() >= PARALLEL_GROUP {
            match dominant_digit(group, depth) {
                Some(pivot) => sort_around(group, depth, pivot),
                None => group.par_sort_unstable_by_key(|s| s.digit(depth)),
            }
        } else {
            group.sort_unstable_by_key(|s| s.digit(depth));
        }
    }
    let mut next = Vec::new();
    let mut run_start = 0;
    while run_start < group.len() {
        let digit = group[run_start].digit(depth);
        let run_len = group[run_start..].iter().take_while(|s| s.digit(depth) == digit).count();
        let run = run_start..run_start + run_len;
        if digit & 0xff == 8 {
            if run_len > 1 {
                next.push((run.start, run.end, depth + 8));
            }
        } else {
            // Keys that end in this digit and share it are equal keys: put them back in
            // input order (the stable part of the sort).
            let equal = &mut group[run.clone()];
            equal.sort_unstable_by_key(|s| s.index);
            for slot in &mut equal[1..] {
                slot.equal_to_previous = true;
            }
        }
        run_start = run.end;
    }
    next
}

/// Evenly spaced slots a large group's digits are sampled from, to tell whether one digit
/// holds nearly the whole group.
const DOMINANCE_SAMPLES: usize = 32;

/// The digit at `depth` that all but a few sampled slots of `group` share, if there is one:
/// then nearly every slot likely has it. That is the shape of a Kubernetes key space, whose
/// keys all start with `/registry/` but one (`compact_rev_key`, which kube-apiserver's
/// compactor writes): the common prefix cannot be skipped, and sorting the first level
/// moved every slot to set that one aside (19 of 130 ms of the sort on the 2 GiB benchmark
/// snapshot; 9 ms split this way).
fn dominant_digit(group: &[Slot], depth: usize) -> Option<u128> {
    let step = group.len() / DOMINANCE_SAMPLES;
    let pivot = group[DOMINANCE_SAMPLES / 2 * step].digit(depth);
    let agree = (0..DOMINANCE_SAMPLES).filter(|i| group[i * step].digit(depth) == pivot).count();
    (agree >= DOMINANCE_SAMPLES - DOMINANCE_SAMPLES / 8).then_some(pivot)
}

/// Sort `group` by digit by splitting it, in one pass, into the slots whose digit is below
/// `pivot`, equal to it and above it (Dijkstra's three-way partition), then sorting the two
/// outer parts alone. Only slots off the pivot cause swaps, so with few of them the pass
/// mostly reads the group. Correct for any pivot; fast when it dominates.
fn sort_around(group: &mut [Slot], depth: usize, pivot: u128) {
    let (mut below, mut at, mut above) = (0, 0, group.len());
    while at < above {
        let digit = group[at].digit(depth);
        if digit < pivot {
            group.swap(below, at);
            below += 1;
            at += 1;
        } else if digit > pivot {
            above -= 1;
            group.swap(at, above);
        } else {
            at += 1;
        }
    }
    group[..below].par_sort_unstable_by_key(|s| s.digit(depth));
    group[above..].par_sort_unstable_by_key(|s| s.digit(depth));
}

/// Whether a level at `depth` must load the slots' next `CACHED` bytes: at every multiple of
/// `CACHED` but the first, which [`Slot::new`] loads.
fn loads_at(depth: usize) -> bool {
    depth > 0 && depth.is_multiple_of(CACHED)
}

/// Insertion sort of a small group on the bytes from `depth` on, equal keys in input order
/// (the group itself is not: levels above sort by digit only), marking equal neighbours.
/// The digits the slots still cache are compared first: reading the keys is a cache miss
/// each, and most small groups differ within those bytes.
fn finish_small<'k>(group: &mut [Slot], depth: usize, key_of: &impl Fn(&Slot) -> &'k [u8]) {
    // A group past a multiple of `CACHED` has its slots loaded for that multiple (by
    // `Slot::new` or `sort_level`); at a multiple where loading is due, nothing is loaded yet.
    let cached_until = if loads_at(depth) { depth } else { depth - depth % CACHED + CACHED };
    let compare = |a: &Slot, b: &Slot| {
        let mut at = depth;
        while at < cached_until {
            let (x, y) = (a.digit(at), b.digit(at));
            if x != y {
                return x.cmp(&y);
            }
            if x & 0xff != 8 {
                // Both keys end within this digit, with the same bytes.
                return Ordering::Equal;
            }
            at += 8;
        }
        let rest = |slot: &Slot| key_of(slot).get(at..).unwrap_or_default();
        rest(a).cmp(rest(b))
    };
    let before = |a: &Slot, b: &Slot| compare(a, b).then(a.index.cmp(&b.index)) == Ordering::Less;
    for i in 1..group.len() {
        let mut j = i;
        while j > 0 && before(&group[j], &group[j - 1]) {
            group.swap(j, j - 1);
            j -= 1;
        }
    }
    for i in 1..group.len() {
        group[i].equal_to_previous = compare(&group[i], &group[i - 1]) == Ordering::Equal;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(keys: &[&[u8]]) {
        let mut expected: Vec<(usize, &[u8])> = keys.iter().copied().enumerate().collect();
        expected.sort_by(|a, b| a.1.cmp(b.1)); // std's stable sort
        let order = sorted_order(keys, |k| k);
        let got: Vec<(usize, &[u8])> = order.indexes.iter().map(|&i| (i as usize, keys[i as usize])).collect();
        assert_eq!(got, expected);
        let equal: Vec<bool> = (0..got.len()).map(|i| i > 0 && got[i].1 == got[i - 1].1).collect();
        assert_eq!(order.equal_to_previous, equal);
    }

    fn slots(keys: &[&[u8]]) -> Vec<Slot> {
        keys.iter().enumerate().map(|(i, key)| Slot::new(key, i as u32)).collect()
    }

    #[test]
    fn sorts_like_a_stable_comparison_sort() {
        check(&[]);
        check(&[b"only"]);
        check(&[b"b", b"a"]);
        // Prefixes, zero bytes and keys that end inside and on digit boundaries.
        let tricky: Vec<&[u8]> = vec![
            b"/registry/pods/a/x",
            b"/registry/pods/a",
            b"/registry/pods/a\0",
            b"/registry/pods/a\0\0",
            b"/registry",
            b"/registry/",
            b"",
            b"/registry/pods/a/x",
            b"/registr",
            b"/registr\0",
            b"/registry/pods/\0",
            b"\xff\xff",
            b"/registry/pods/b/y",
            b"/registry/pods/a/x",
        ];
        check(&tricky);
        // Many copies so groups are larger than SMALL_GROUP at several depths.
        let many: Vec<&[u8]> = tricky.iter().cycle().take(tricky.len() * 9).copied().collect();
        check(&many);
    }

    #[test]
    fn sorts_generated_kubernetes_like_keys() {
        // Deterministic pseudo-random keys with long shared prefixes.
        let mut state = 0x2545f4914f6cdd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let resources = ["pods", "configmaps", "secrets", "services/specs", "events"];
        let owned: Vec<Vec<u8>> = (0..5000)
            .map(|_| {
                let r = resources[(next() % 5) as usize];
                let ns = next() % 7;
                let name = next() % 300;
                let mut key = format!("/registry/{r}/namespace-{ns}/app-{name}").into_bytes();
                if next() % 4 == 0 {
                    key.push(0);
                }
                key
            })
            .collect();
        let keys: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        check(&keys);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        pool.install(|| check(&keys));
    }

    /// Small groups are finished on the digits their slots cache, then on the keys: groups
    /// that end at a multiple of the cache width (nothing cached for them yet), within the
    /// cached digits, and past them; with equal keys, and keys ending inside a digit.
    #[test]
    fn small_groups_compare_cached_digits_then_keys() {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for shared in [30, 32, 36, 40, 63, 64, 70] {
            for n in 0..(SMALL_GROUP + 3) {
                let mut key = vec![b'k'; shared];
                key.extend_from_slice(format!("{}", (n * 7919) % 23).as_bytes());
                if n % 4 == 0 {
                    key.extend_from_slice(&[0, 0, 1]);
                }
                keys.push(key.clone());
                if n % 5 == 0 {
                    keys.push(key); // an equal key, later in the input
                }
            }
            // A group of a few, below the small-group size from the start.
            for tail in [&b"b"[..], b"a\0", b"a", b""] {
                let mut key = vec![b'q'; shared];
                key.extend_from_slice(tail);
                keys.push(key);
            }
        }
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        check(&refs);
        // Again past the parallel size, so that the groups go through several levels.
        let many: Vec<Vec<u8>> = (0..PARALLEL_GROUP + 100)
            .map(|i| {
                let mut key = keys[i % keys.len()].clone();
                key.extend_from_slice(format!("/{}", i % 37).as_bytes());
                key
            })
            .collect();
        check(&many.iter().map(Vec::as_slice).collect::<Vec<_>>());
    }

    /// Large groups where one digit holds nearly every key are split around it: keys below
    /// and above it (`compact_rev_key` beside `/registry/…`), equal keys among them; and
    /// groups whose sampled slots agree although most slots do not, which must sort all
    /// the same.
    #[test]
    fn a_dominant_digit_is_split_around() {
        let mut dominated: Vec<Vec<u8>> = (0..PARALLEL_GROUP + 500)
            .map(|i| format!("/registry/pods/ns-{}/p-{}", i % 97, i % 4000).into_bytes())
            .collect();
        for (at, outlier) in
            [(0, "compact_rev_key"), (7, "/r"), (PARALLEL_GROUP / 2, "/registrz"), (9, "compact_rev_key")]
        {
            dominated.insert(at, outlier.as_bytes().to_vec());
        }
        let keys: Vec<&[u8]> = dominated.iter().map(Vec::as_slice).collect();
        assert!(dominant_digit(&slots(&keys), 0).is_some());
        check(&keys);
        // Every sampled slot (a multiple of len / DOMINANCE_SAMPLES) has the same first 8
        // bytes; every other slot differs there, some below and some above.
        let len = PARALLEL_GROUP + 64;
        let step = len / DOMINANCE_SAMPLES;
        let misleading: Vec<Vec<u8>> = (0..len)
            .map(|i| match (i % step, i % 3) {
                (0, _) => format!("mmmmmmmm{i}"),
                (_, 0) => format!("aaaa{i}"),
                _ => format!("zzzz{}", i % 50),
            })
            .map(String::into_bytes)
            .collect();
        let keys: Vec<&[u8]> = misleading.iter().map(Vec::as_slice).collect();
        assert!(dominant_digit(&slots(&keys), 0).is_some());
        check(&keys);
    }

    #[test]
    fn long_equal_prefixes_are_skipped_in_one_pass() {
        // Keys of 256 KiB that differ only in their last byte.
        let base = vec![b'k'; 1 << 18];
        let owned: Vec<Vec<u8>> = (0..40u8)
            .rev()
            .map(|i| {
                let mut key = base.clone();
                key.push(i % 30);
                key
            })
            .collect();
        let keys: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        check(&keys);
    }
}
