//! Scans in several passes that read only their own leaf pages after the first.
//!
//! A scan too large for one pass is cut into key ranges, one per pass (see `ranges`), and
//! the `key` bucket, ordered by revision, mixes every range on every page. The first pass
//! reads every leaf page anyway; [`LeafPasses`] keeps what it found on each (which passes
//! its keys belong to), so that each later pass descends only into the leaves holding keys
//! of its own. On the 8 GiB benchmark snapshot, `ls` runs in 4 passes.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use crate::bbolt::PageId;
use crate::error::MvccError;

use super::newest::{newest_per_key, Folded};
use super::store::{merge_run_scans, scan_record_upto, KeyHistory, KeyState, Scan, Store};

/// A page not read yet: every pass reads it.
const UNKNOWN: u16 = 0;

/// Set in the cell of every page read.
const NOTED: u16 = 1 << 15;

/// Passes a cell has a bit for; passes past them read every page. 15 passes of
/// [`PASS_RECORDS`](super::PASS_RECORDS) cover a snapshot of about 35 GB.
const MAX_NOTED_PASSES: usize = 15;

/// Which passes each leaf page of the `key` bucket holds keys of, as a pass that read the
/// page found. One 2-byte cell per page of the file (4.3 MB for 8 GiB), written by whichever
/// worker reads the page. Clones share the cells.
#[derive(Clone)]
pub struct LeafPasses {
    /// [`UNKNOWN`], or [`NOTED`] and a bit per pass the page holds keys of.
    cells: Arc<[AtomicU16]>,
}

impl LeafPasses {
    /// Nothing known: the first pass reads every page.
    pub fn new(store: &Store<'_>) -> LeafPasses {
        let pages = usize::try_from(store.db().page_limit()).unwrap_or(usize::MAX);
        LeafPasses { cells: std::iter::repeat_with(|| AtomicU16::new(UNKNOWN)).take(pages).collect() }
    }

    /// The cell of `page`; none for a page past the end of the file.
    fn cell(&self, page: PageId) -> Option<&AtomicU16> {
        usize::try_from(page).ok().and_then(|page| self.cells.get(page))
    }

    /// Whether pass `pass` must read page `page`: not known to hold none of its keys.
    fn may_hold(&self, page: PageId, pass: usize) -> bool {
        let Some(cell) = self.cell(page) else { return true };
        let noted = cell.load(Ordering::Relaxed);
        noted == UNKNOWN || pass >= MAX_NOTED_PASSES || noted & (1 << pass) != 0
    }

    /// Notes the passes of `page`'s keys. Every pass that reads a page finds the same
    /// passes on it, so a page noted already is left as it is: a later pass then writes
    /// nothing to the cells shared with the other workers.
    fn note(&self, page: PageId, passes: u16) {
        if let Some(cell) = self.cell(page).filter(|cell| cell.load(Ordering::Relaxed) == UNKNOWN) {
            cell.store(NOTED | passes, Ordering::Relaxed);
        }
    }
}

/// The passes of the records of one leaf page, gathered as a walk meets them (a page's
/// records come one after another).
struct PageNote<'l> {
    leaves: &'l LeafPasses,
    page: Option<PageId>,
    /// A bit per pass met on the page.
    passes: u16,
}

impl<'l> PageNote<'l> {
    fn new(leaves: &'l LeafPasses) -> Self {
        PageNote { leaves, page: None, passes: 0 }
    }

    /// A record of `page` whose key is in `pass` (`None`: in none).
    fn add(&mut self, page: PageId, pass: Option<usize>) {
        if self.page != Some(page) {
            self.flush();
            self.page = Some(page);
        }
        if let Some(pass) = pass.filter(|&pass| pass < MAX_NOTED_PASSES) {
            self.passes |= 1 << pass;
        }
    }

    fn flush(&mut self) {
        if let Some(page) = self.page.take() {
            self.leaves.note(page, self.passes);
        }
        self.passes = 0;
    }
}

impl<'a> Store<'a> {
    /// One pass of a scan in several: [`key_histories_where`](Store::key_histories_where)
    /// of the keys that `pass_of` puts in pass `pass` (`None`: in no pass). Leaf pages
    /// that `leaves` knows hold none of them are not read; pages it does not know yet are
    /// read, and noted with the pass of each of their keys. A first pass (which reads
    /// everything) thus lets every later pass read only its own leaves. Damage is met, and
    /// reported, by the passes that read it: the first pass meets all of it.
    pub fn key_histories_pass(
        &self,
        prefix: &[u8],
        at: Option<i64>,
        pass: usize,
        pass_of: impl Fn(&[u8]) -> Option<usize> + Sync,
        leaves: &LeafPasses,
    ) -> Result<Scan<KeyHistory<'a>>, MvccError> {
        self.scan_noting(prefix, at, Some(pass), &pass_of, |_: &[u8], key_pass| key_pass == Some(pass), leaves)
    }

    /// [`key_histories_pass`](Store::key_histories_pass) with only the keys and whether
    /// each is deleted (see [`Store::key_states`]).
    pub fn key_states_pass(
        &self,
        prefix: &[u8],
        at: Option<i64>,
        pass: usize,
        pass_of: impl Fn(&[u8]) -> Option<usize> + Sync,
        leaves: &LeafPasses,
    ) -> Result<Scan<KeyState<'a>>, MvccError> {
        self.scan_noting(prefix, at, Some(pass), &pass_of, |_: &[u8], key_pass| key_pass == Some(pass), leaves)
    }

    /// [`key_histories_where`](Store::key_histories_where) of the keys `keep` accepts,
    /// which also notes in `leaves`, as a first pass does, which passes (by `pass_of`)
    /// each leaf page holds keys of. A scan that must read everything before the passes
    /// (`extract`'s scan of CRDs and Services on a large snapshot) then spares the first
    /// pass from reading everything again: every pass reads only its own leaves. It reads
    /// every page, so it meets all the damage the passes could meet.
    pub fn key_histories_noting(
        &self,
        prefix: &[u8],
        at: Option<i64>,
        keep: impl Fn(&[u8]) -> bool + Sync,
        pass_of: impl Fn(&[u8]) -> Option<usize> + Sync,
        leaves: &LeafPasses,
    ) -> Result<Scan<KeyHistory<'a>>, MvccError> {
        self.scan_noting(prefix, at, None, &pass_of, |key: &[u8], _| keep(key), leaves)
    }

    /// The scan of the two above: every leaf page, or with `only_pass` those `leaves` does
    /// not know to hold none of its keys, noted by `pass_of`; the records `keep` accepts,
    /// given their key and pass.
    fn scan_noting<T: Folded<'a>>(
        &self,
        prefix: &[u8],
        at: Option<i64>,
        only_pass: Option<usize>,
        pass_of: &(impl Fn(&[u8]) -> Option<usize> + Sync),
        keep: impl Fn(&[u8], Option<usize>) -> bool + Sync,
        leaves: &LeafPasses,
    ) -> Result<Scan<T>, MvccError> {
        let (at, damage) = self.check_revision(at)?;
        let newest = self.newest_possible();
        let per_run = self.par_entry_runs(|entries, errors| {
            let mut note = PageNote::new(leaves);
            let entries = match only_pass {
                Some(pass) => {
                    let known = leaves.clone();
                    entries.skipping(move |page| !known.may_hold(page, pass))
                }
                None => entries,
            };
            let records = entries.filter_map(|entry| {
                let entry = entry.map_err(|e| errors.push(e.into())).ok()?;
                let record = scan_record_upto(&entry, newest).map_err(|e| errors.push(e)).ok()?;
                let key_pass = if record.key.starts_with(prefix) { pass_of(record.key) } else { None };
                note.add(entry.page, key_pass);
                keep(record.key, key_pass).then_some(record)
            });
            let run = newest_per_key(records, prefix, at);
            // Pages after a cut at `at` stay unknown: later passes read them.
            note.flush();
            run
        });
        Ok(merge_run_scans(per_run, damage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvcc::KeyRange;
    use crate::Snapshot;

    /// Passes over consecutive key ranges give, one after another, what one scan gives; and
    /// after the first, a pass reads only the leaf pages holding keys of its range. The
    /// fixture's leaves hold dozens of small records each, so most hold keys of every wide
    /// range: the middle range here is a single key.
    #[test]
    fn passes_read_their_own_leaves_and_add_up_to_one_scan() {
        let snapshot = Snapshot::open(testdata::project_fixtures().join("etcd-3.5-cluster/snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let whole = store.key_histories(b"/registry/", None).unwrap();
        assert!(whole.errors.is_empty());
        let middle = whole.items.len() / 2;
        let bounds: Vec<&[u8]> = vec![whole.items[middle].key, whole.items[middle + 1].key];
        let ranges = KeyRange::cut_at(&bounds);
        let pass_of = |key: &[u8]| Some(KeyRange::index_of(&ranges, key));
        let between = store.compact_revision() + (store.current_revision() - store.compact_revision()) / 2;
        for at in [None, Some(between)] {
            let leaves = LeafPasses::new(&store);
            let mut passes = Vec::new();
            for pass in 0..ranges.len() {
                let scan = store.key_histories_pass(b"/registry/", at, pass, pass_of, &leaves).unwrap();
                assert!(scan.errors.is_empty());
                passes.extend(scan.items);
            }
            assert_eq!(passes, store.key_histories(b"/registry/", at).unwrap().items, "at {at:?}");
            // The first pass noted the leaf pages it read; the single key's pass reads only
            // the few holding its entries, besides the pages no pass noted (branches, other
            // buckets).
            let pages = leaves.cells.len();
            let noted = leaves.cells.iter().filter(|c| c.load(Ordering::Relaxed) != UNKNOWN).count();
            let read = (0..pages as PageId).filter(|&p| leaves.may_hold(p, 1)).count();
            assert!(noted > 50, "{noted} of {pages} pages noted");
            assert!(read - (pages - noted) < noted / 4, "{read} of {pages} pages read, {noted} noted");
        }
    }

    /// A scan of other keys that notes the pages gives what `key_histories_where` gives, and
    /// spares the first pass as well from reading the leaves without keys of its own.
    #[test]
    fn a_noting_scan_lets_even_the_first_pass_read_only_its_own_leaves() {
        let snapshot = Snapshot::open(testdata::project_fixtures().join("etcd-3.5-cluster/snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let whole = store.key_histories(b"/registry/", None).unwrap();
        let middle = whole.items.len() / 2;
        // Pass 0 is a single key; pass 1 everything else.
        let single = whole.items[middle].key;
        let pass_of = |key: &[u8]| Some(usize::from(key != single));
        let services = |key: &[u8]| key.starts_with(b"/registry/services/");
        let leaves = LeafPasses::new(&store);
        let context = store.key_histories_noting(b"/registry/", None, services, pass_of, &leaves).unwrap();
        assert!(context.errors.is_empty());
        assert!(!context.items.is_empty());
        assert_eq!(context.items, store.key_histories_where(b"/registry/", None, services).unwrap().items);
        let pages = leaves.cells.len();
        let noted = leaves.cells.iter().filter(|c| c.load(Ordering::Relaxed) != UNKNOWN).count();
        let read = (0..pages as PageId).filter(|&p| leaves.may_hold(p, 0)).count();
        assert!(noted > 50, "{noted} of {pages} pages noted");
        assert!(read - (pages - noted) < noted / 4, "{read} of {pages} pages read by pass 0, {noted} noted");
        let mut passes = Vec::new();
        for pass in 0..2 {
            passes.extend(store.key_histories_pass(b"/registry/", None, pass, pass_of, &leaves).unwrap().items);
        }
        passes.sort_by_key(|h| h.key);
        assert_eq!(passes, whole.items);
    }
}
