//! Scans in key ranges: bounded memory whatever the snapshot's size.
//!
//! A scan keeps state for every key it is asked for (about 300 B per record at its peak:
//! see `newest`), because the `key` bucket is in revision order and a key's newest entry may
//! come last. A snapshot too large for one pass is therefore cut into consecutive key
//! ranges of about `max_records` records each, estimated from a sample of the bucket's leaf
//! pages, and scanned one range per pass: every pass walks the bucket again (after the
//! first, only into the leaves holding keys of its range: see `passes`) and keeps only its
//! range, so memory is bounded by the range, not by the snapshot.

use rayon::prelude::*;

use crate::bbolt::Entries;

use super::store::{decode_record, Store};

/// Records a scan may keep in one pass: its peak is then about 160 MB (measured: about
/// 300 B per record at the peak of the sort, on a 2 GiB snapshot). Scans in several passes
/// free each pass's memory before the next: an allocator that holds on to freed memory for
/// a while (mimalloc for a second, by default) lets that add up; `etcdsnap` tells it not to.
pub const PASS_RECORDS: usize = 550_000;

/// Leaf pages read to plan ranges, at most: a few MB of a multi-GB file.
pub(crate) const SAMPLED_LEAVES: usize = 4096;

/// Keys `[start, end)`, either end open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    pub start: Option<Vec<u8>>,
    pub end: Option<Vec<u8>>,
}

impl KeyRange {
    /// Every key.
    pub fn all() -> KeyRange {
        KeyRange::default()
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.start.as_deref().is_none_or(|start| key >= start) && self.end.as_deref().is_none_or(|end| key < end)
    }

    /// Which of `ranges` (consecutive, covering every key, as [`cut_at`](Self::cut_at)
    /// makes them) holds `key`.
    pub fn index_of(ranges: &[KeyRange], key: &[u8]) -> usize {
        ranges.partition_point(|range| range.end.as_deref().is_some_and(|end| end <= key))
    }

    /// Consecutive ranges covering every key, cut before each of `bounds` (sorted,
    /// distinct).
    pub fn cut_at(bounds: &[&[u8]]) -> Vec<KeyRange> {
        let mut starts: Vec<Option<Vec<u8>>> = vec![None];
        starts.extend(bounds.iter().map(|b| Some(b.to_vec())));
        let mut ends: Vec<Option<Vec<u8>>> = bounds.iter().map(|b| Some(b.to_vec())).collect();
        ends.push(None);
        starts.into_iter().zip(ends).map(|(start, end)| KeyRange { start, end }).collect()
    }
}

/// Passes of at most `max_records` records for `estimated_records` (at least one).
pub(crate) fn passes_for(estimated_records: f64, max_records: usize) -> usize {
    (estimated_records / max_records.max(1) as f64).ceil().max(1.0) as usize
}

/// The sampled values that cut `sample` into `passes` parts of about as many samples each,
/// sorted and distinct: none for one part (or no sample). Passes are planned by key and by
/// revision alike.
pub(crate) fn cut_points<T: Ord + Copy>(mut sample: Vec<T>, passes: usize) -> Vec<T> {
    if passes <= 1 || sample.is_empty() {
        return Vec::new();
    }
    sample.sort_unstable();
    let mut bounds: Vec<T> = (1..passes).map(|i| sample[i * sample.len() / passes]).collect();
    bounds.dedup();
    bounds
}

/// Keys of records read from a sample of the `key` bucket's leaf pages.
#[derive(Debug, Clone)]
pub struct KeySample<'a> {
    /// The user key of every sampled record that was asked for, in revision order.
    pub keys: Vec<&'a [u8]>,
    /// Records in the bucket per sampled record (leaf pages / sampled leaf pages).
    pub scale: f64,
}

impl KeySample<'_> {
    /// Estimated records of the whole bucket that were asked for. Records, not keys: a key
    /// with history counts once per revision, so plans from it err on the small side.
    pub fn estimated_records(&self) -> f64 {
        self.keys.len() as f64 * self.scale
    }

    /// How many passes of at most `max_records` the asked-for keys need.
    pub fn passes(&self, max_records: usize) -> usize {
        passes_for(self.estimated_records(), max_records)
    }

    /// Consecutive key ranges of at most about `max_records` records each, cut at sampled
    /// keys: one range, every key, when they all fit.
    pub fn ranges(self, max_records: usize) -> Vec<KeyRange> {
        let passes = self.passes(max_records);
        KeyRange::cut_at(&cut_points(self.keys, passes))
    }
}

impl<'a> Store<'a> {
    /// Keys starting with `prefix` that `keep` accepts, from about `SAMPLED_LEAVES` leaf
    /// pages spread evenly over the `key` bucket. Damaged pages are left out.
    pub fn sample_keys(&self, prefix: &[u8], keep: impl Fn(&[u8]) -> bool + Sync) -> KeySample<'a> {
        let bucket = self.key_bucket();
        let sample = bucket.sample_leaves(SAMPLED_LEAVES);
        // In parallel: the sampled leaves are the first pages of the file a command touches,
        // and their page faults were a tenth of `ls` on 2 GiB, on one core.
        let db = self.db();
        let keys: Vec<&'a [u8]> = sample
            .sampled
            .par_iter()
            .flat_map_iter(|&root| {
                Entries::new(db, root)
                    .flatten()
                    .filter_map(|entry| decode_record(&entry).ok().map(|record| record.kv.key))
                    .filter(|key| key.starts_with(prefix) && keep(key))
            })
            .collect();
        let scale =
            if sample.sampled.is_empty() { 0.0 } else { sample.leaf_pages as f64 / sample.sampled.len() as f64 };
        KeySample { keys, scale }
    }

    /// Cut the keys starting with `prefix` that `keep` accepts into consecutive ranges for
    /// scans of bounded memory: one range, every key, when they are at most `max_records`
    /// records; else ranges as [`KeySample::passes`] counts them. Scan each with
    /// [`key_histories_where`](Self::key_histories_where), keeping `range.contains(key)`.
    pub fn plan_ranges(&self, prefix: &[u8], keep: impl Fn(&[u8]) -> bool + Sync, max_records: usize) -> Vec<KeyRange> {
        self.sample_keys(prefix, keep).ranges(max_records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_key_once() {
        let ranges = KeyRange::cut_at(&[b"/registry/m", b"/registry/s"]);
        assert_eq!(ranges.len(), 3);
        for key in [&b""[..], b"/registry/a", b"/registry/m", b"/registry/pods/x", b"/registry/s", b"\xff"] {
            assert_eq!(ranges.iter().filter(|r| r.contains(key)).count(), 1, "{key:?}");
        }
        assert!(ranges[1].contains(b"/registry/m"));
        assert!(!ranges[1].contains(b"/registry/s"));
        assert!(KeyRange::all().contains(b"anything"));
    }
}
