//! Buckets: a B+tree rooted at a page, or a single leaf page inlined in the parent's value.

use crate::error::FormatError;

use super::page::{Page, PageKind, PAGE_HEADER_LEN};
use super::walk::{Entries, LeafEntry};
use super::{Db, PageId};

const BUCKET_HEADER_LEN: usize = 16;
/// How many subtrees to cut a bucket into per worker thread for a parallel walk: more than
/// one each so that uneven subtrees still balance.
const PARTS_PER_THREAD: usize = 4;
/// Deeper than any real bbolt tree (a 4 KiB-page tree of depth 10 holds more than any disk).
const MAX_TREE_DEPTH: usize = 64;

/// Where a bucket's tree starts.
#[derive(Debug, Clone, Copy)]
pub enum BucketRoot<'a> {
    /// A tree of ordinary pages rooted here.
    Page(PageId),
    /// A single leaf page stored inside the parent's value (`root == 0` in the header).
    /// `at` is the page that holds the value, for error messages.
    Inline { at: PageId, image: &'a [u8] },
}

/// Some of a bucket's leaf pages, each a root to walk, and how many leaf pages it has.
#[derive(Debug, Clone)]
pub struct LeafSample<'a> {
    pub leaf_pages: u64,
    pub sampled: Vec<BucketRoot<'a>>,
}

/// A bucket: ordered key/value entries, some of which may be nested buckets.
#[derive(Debug, Clone, Copy)]
pub struct Bucket<'a> {
    db: Db<'a>,
    root: BucketRoot<'a>,
    pub sequence: u64,
}

impl<'a> Bucket<'a> {
    pub(crate) fn new(db: Db<'a>, root: BucketRoot<'a>) -> Bucket<'a> {
        Bucket { db, root, sequence: 0 }
    }

    /// Open the nested bucket whose value is `value` (found in element `index` of page `at`).
    pub(crate) fn from_value(db: Db<'a>, at: PageId, index: usize, value: &'a [u8]) -> Result<Bucket<'a>, FormatError> {
        if value.len() < BUCKET_HEADER_LEN {
            return Err(FormatError::BucketHeaderTooShort { page: at, index, len: value.len() });
        }
        let root = u64::from_le_bytes(value[0..8].try_into().expect("8 bytes"));
        let sequence = u64::from_le_bytes(value[8..16].try_into().expect("8 bytes"));
        let root = if root == 0 {
            let image = &value[BUCKET_HEADER_LEN..];
            if image.len() < PAGE_HEADER_LEN {
                return Err(FormatError::BadInlineBucket { page: at, index, reason: "shorter than a page header" });
            }
            BucketRoot::Inline { at, image }
        } else {
            BucketRoot::Page(root)
        };
        Ok(Bucket { db, root, sequence })
    }

    pub fn root(&self) -> BucketRoot<'a> {
        self.root
    }

    pub fn db(&self) -> Db<'a> {
        self.db
    }

    /// The inline page image as a page view, checked to be a leaf.
    pub(crate) fn inline_page(at: PageId, image: &'a [u8]) -> Result<Page<'a>, FormatError> {
        let page = Page::new(at, image);
        if page.kind != PageKind::Leaf {
            return Err(FormatError::UnexpectedPageType {
                page: at,
                flags: page.kind.flags(),
                expected: "inline leaf",
            });
        }
        Ok(page)
    }

    /// Every entry in key order (nested buckets appear as entries with the bucket flag).
    /// Damaged pages yield an error item and the walk goes on with the next readable page.
    pub fn entries(&self) -> Entries<'a> {
        Entries::new(self.db, self.root)
    }

    /// [`entries`](Self::entries) from the first entry whose key is `key` or after it,
    /// found by one descent instead of walking every entry before it.
    pub fn entries_from(&self, key: &[u8]) -> Entries<'a> {
        Entries::new(self.db, self.root).starting_at(key)
    }

    /// The entries cut into disjoint runs in key order (see [`partition`](Self::partition)),
    /// a few per thread of the current rayon pool, for walkers running in parallel.
    pub fn parallel_parts(&self) -> Vec<Entries<'a>> {
        self.parts(rayon::current_num_threads() * PARTS_PER_THREAD)
    }

    /// The entries of each of at least `min_parts` subtrees (see
    /// [`partition`](Self::partition)), in key order.
    pub fn parts(&self, min_parts: usize) -> Vec<Entries<'a>> {
        self.partition(min_parts).into_iter().map(|root| Entries::new(self.db, root)).collect()
    }

    /// The last entry in key order, found by descending the rightmost path.
    pub fn last_entry(&self) -> Result<Option<LeafEntry<'a>>, FormatError> {
        let mut page = match self.root {
            BucketRoot::Page(id) => self.db.tree_page(id)?,
            BucketRoot::Inline { at, image } => Self::inline_page(at, image)?,
        };
        // bbolt trees are shallow; the bound turns a branch cycle into an error.
        for _ in 0..MAX_TREE_DEPTH {
            let Some(index) = usize::from(page.count).checked_sub(1) else {
                return Ok(None);
            };
            if page.kind == PageKind::Leaf {
                let e = page.leaf_element(index)?;
                return Ok(Some(LeafEntry { key: e.key, value: e.value, flags: e.flags, page: page.id, index }));
            }
            page = self.db.tree_page(page.branch_element(index)?.child)?;
        }
        Err(FormatError::TreeTooDeep { page: page.id, depth: MAX_TREE_DEPTH })
    }

    /// The value stored under `key` (not a nested bucket).
    pub fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>, FormatError> {
        for entry in self.entries() {
            let entry = entry?;
            if entry.key == key && !entry.is_bucket() {
                return Ok(Some(entry.value));
            }
        }
        Ok(None)
    }

    /// The nested bucket named `name`.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'a>>, FormatError> {
        for entry in self.entries() {
            let entry = entry?;
            if entry.key == name && entry.is_bucket() {
                return Bucket::from_value(self.db, entry.page, entry.index, entry.value).map(Some);
            }
        }
        Ok(None)
    }

    /// About `count` leaf pages spread evenly over the tree (in key order), and how many
    /// leaf pages it has: a cheap sample of a large bucket, which reads the branch pages only
    /// (the sampled leaves are read by whoever walks them). bbolt trees are balanced, so the leaves are the
    /// level where the first page is a leaf. Unreadable branch pages are left out of the
    /// sample; full walks report them.
    pub fn sample_leaves(&self, count: usize) -> LeafSample<'a> {
        let BucketRoot::Page(root) = self.root else {
            return LeafSample { leaf_pages: 1, sampled: vec![self.root] };
        };
        let is_branch = |id: PageId| self.db.tree_page(id).is_ok_and(|page| page.kind == PageKind::Branch);
        let mut level = vec![root];
        for _ in 0..MAX_TREE_DEPTH {
            if !level.first().is_some_and(|&id| is_branch(id)) {
                break;
            }
            let children = || {
                level
                    .iter()
                    .filter_map(|&id| self.db.tree_page(id).ok().filter(|page| page.kind == PageKind::Branch))
                    .flat_map(|page| (0..usize::from(page.count)).filter_map(move |i| page.branch_element(i).ok()))
                    .map(|element| element.child)
            };
            let count_below = children().count();
            // A tree has fewer pages than the file: more means a hostile branch cycle.
            if count_below as u64 > self.db.page_limit() {
                return LeafSample { leaf_pages: 1, sampled: vec![self.root] };
            }
            if children().next().is_some_and(is_branch) {
                level = children().collect();
                continue;
            }
            // The leaf level: sampled without being listed. It is most of the tree's pages:
            // on 2 GiB, a list of 167k page ids, grown by doubling, to keep 4096 of them
            // (`ls` planned its passes in 10.3 ms with the list, 9.0 without).
            let every = count_below.div_ceil(count.max(1)).max(1);
            let sampled = children().step_by(every).map(BucketRoot::Page).collect();
            return LeafSample { leaf_pages: count_below as u64, sampled };
        }
        let leaf_pages = level.len() as u64;
        let every = level.len().div_ceil(count.max(1)).max(1);
        let sampled = level.into_iter().step_by(every).map(BucketRoot::Page).collect();
        LeafSample { leaf_pages, sampled }
    }

    /// Split the tree into at least `min_parts` disjoint subtrees in key order (fewer if the
    /// tree is small), so that independent walkers can cover it in parallel. Descends whole
    /// levels of branch pages; a page that cannot be read stays a part of its own so that its
    /// walker reports the error.
    pub fn partition(&self, min_parts: usize) -> Vec<BucketRoot<'a>> {
        let BucketRoot::Page(root) = self.root else {
            return vec![self.root];
        };
        let mut level = vec![root];
        // The depth bound stops a hostile file with a branch cycle from looping here.
        for _ in 0..MAX_TREE_DEPTH {
            if level.len() >= min_parts {
                break;
            }
            let mut next = Vec::new();
            for &id in &level {
                match self.db.tree_page(id) {
                    Ok(page) if page.kind == PageKind::Branch => {
                        for i in 0..usize::from(page.count) {
                            match page.branch_element(i) {
                                Ok(e) => next.push(e.child),
                                // Keep the parent as one part: its walker reports the bad element.
                                Err(_) => return level.into_iter().map(BucketRoot::Page).collect(),
                            }
                        }
                    }
                    // A leaf level (or an unreadable page) cannot be split further.
                    _ => return level.into_iter().map(BucketRoot::Page).collect(),
                }
            }
            level = next;
        }
        level.into_iter().map(BucketRoot::Page).collect()
    }
}
