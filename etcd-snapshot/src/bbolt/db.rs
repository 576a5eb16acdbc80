//! A bbolt database image in memory (usually a read-only mapping of the file).

use crate::error::FormatError;

use super::bucket::{Bucket, BucketRoot};
use super::meta::{Meta, MetaChoice};
use super::page::{Page, PageKind, PAGE_HEADER_LEN};
use super::PageId;

/// A bbolt image: the bytes, the page size and the chosen meta. Cheap to copy; all views
/// borrow from `data`.
#[derive(Debug, Clone, Copy)]
pub struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    meta: MetaChoice,
    /// Pages that may be addressed: below the high-water mark and inside the data.
    page_limit: u64,
}

impl<'a> Db<'a> {
    /// Recognise a bbolt image: choose and validate the meta page. Pages are checked as they
    /// are read, so opening is O(1) whatever the size.
    pub fn new(data: &'a [u8]) -> Result<Db<'a>, FormatError> {
        let meta = Meta::choose(data)?;
        let page_size = meta.active.page_size as usize;
        let in_file = (data.len() / page_size) as u64;
        Ok(Db { data, page_size, meta, page_limit: meta.active.pgid.min(in_file) })
    }

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    pub fn meta(&self) -> &MetaChoice {
        &self.meta
    }

    /// `meta.pgid * page_size`: what `tx.Size()` and `etcdutl snapshot status` call the size.
    pub fn size(&self) -> u64 {
        self.meta.active.pgid.saturating_mul(self.page_size as u64)
    }

    /// Number of addressable pages (the high-water mark, capped by the data length).
    pub fn page_limit(&self) -> u64 {
        self.page_limit
    }

    /// The data ends before the high-water mark: the file was cut short (a partial copy or
    /// download). Reachable pages past the end are reported as they are met.
    pub fn is_truncated(&self) -> bool {
        self.page_limit < self.meta.active.pgid
    }

    /// The bytes this database was opened on.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Read logical page `id` with its overflow pages, checking that it lies inside the
    /// database and that its header names it.
    #[inline]
    pub fn page(&self, id: PageId) -> Result<Page<'a>, FormatError> {
        if id >= self.page_limit {
            return Err(FormatError::PageOutOfRange { page: id, limit: self.page_limit });
        }
        let start = id as usize * self.page_size;
        let header = &self.data[start..start + PAGE_HEADER_LEN];
        let found = Page::header_id(header);
        if found != id {
            return Err(FormatError::PageIdMismatch { page: id, found });
        }
        let overflow = Page::header_overflow(header);
        let end_page = id + u64::from(overflow) + 1;
        if end_page > self.page_limit {
            return Err(FormatError::OverflowOutOfRange { page: id, overflow, limit: self.page_limit });
        }
        let end = end_page as usize * self.page_size;
        Ok(Page::new(id, &self.data[start..end]))
    }

    /// A branch or leaf page (anything else inside a tree is corruption).
    pub(crate) fn tree_page(&self, id: PageId) -> Result<Page<'a>, FormatError> {
        let page = self.page(id)?;
        match page.kind {
            PageKind::Branch | PageKind::Leaf => Ok(page),
            other => {
                Err(FormatError::UnexpectedPageType { page: id, flags: other.flags(), expected: "branch or leaf" })
            }
        }
    }

    /// Every page in `[2, page_limit)` that looks like a leaf on its own (header id equal to
    /// its position, leaf flags, at least one element), whether or not the tree reaches it:
    /// free pages keep stale leaves of older transactions until they are reused. Overflow
    /// continuation pages of well-formed pages are stepped over, not read as pages.
    pub fn carve_leaf_pages(&self) -> impl Iterator<Item = Page<'a>> + '_ {
        self.carve_leaf_pages_in(2..self.page_limit)
    }

    /// [`carve_leaf_pages`](Self::carve_leaf_pages) of the pages that start in `ids`, so
    /// that parts of the file can be carved in parallel. A part that starts inside the
    /// overflow of a page of the part before reads those continuation pages as candidates;
    /// they hold that page's bytes, not a header with their own id, so they are not taken.
    pub fn carve_leaf_pages_in(&self, ids: std::ops::Range<PageId>) -> impl Iterator<Item = Page<'a>> + '_ {
        let mut id = ids.start.max(2);
        let end = ids.end.min(self.page_limit);
        std::iter::from_fn(move || {
            while id < end {
                let here = id;
                id += 1;
                let Ok(page) = self.page(here) else { continue };
                if matches!(page.kind, PageKind::Branch | PageKind::Leaf | PageKind::Freelist) {
                    id = here + 1 + u64::from(page.overflow);
                }
                if page.kind == PageKind::Leaf && page.count > 0 {
                    return Some(page);
                }
            }
            None
        })
    }

    /// The root bucket, whose entries name the top-level buckets.
    pub fn root_bucket(&self) -> Bucket<'a> {
        Bucket::new(*self, BucketRoot::Page(self.meta.active.root))
    }

    /// A top-level bucket by name.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'a>>, FormatError> {
        self.root_bucket().bucket(name)
    }
}
