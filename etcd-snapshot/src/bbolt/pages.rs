//! Which pages of the file hold data and which are free: what a defrag would give back.
//!
//! etcd runs bbolt without syncing its freelist, and bbolt then rebuilds it when it opens
//! the file (`DB.freepages`): every page below the high-water mark that no bucket's tree
//! reaches, apart from the two meta pages, is free. This is the same count, walked the
//! same way (`Tx.checkBucket`: branch and leaf pages with their overflow, nested buckets
//! that have pages of their own; inline buckets have none).

use crate::error::FormatError;

use super::bucket::{Bucket, BucketRoot};
use super::meta::Meta;
use super::page::PageKind;
use super::walk::VisitedPages;
use super::{Db, PageId, BUCKET_LEAF_FLAG};

/// How the pages below the high-water mark are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageUsage {
    pub page_size: u64,
    /// Pages below the high-water mark that the file holds (fewer than the meta page's
    /// `pgid` if the file was cut short).
    pub pages: u64,
    /// The two meta pages, a synced freelist, and every page of every bucket's tree.
    pub in_use: u64,
    /// The rest: pages bbolt would put on its freelist, which a defrag gives back.
    pub free: u64,
}

impl PageUsage {
    /// Bytes of the pages in use: etcd's `dbSizeInUse` for this file.
    pub fn in_use_bytes(&self) -> u64 {
        self.in_use * self.page_size
    }

    /// Bytes of the free pages.
    pub fn free_bytes(&self) -> u64 {
        self.free * self.page_size
    }
}

/// The pages reached so far, and how many.
struct Reached {
    pages: VisitedPages,
    count: u64,
}

impl Reached {
    fn new(pages: u64) -> Reached {
        Reached { pages: VisitedPages::new(pages), count: 0 }
    }

    /// Mark `id` and the `overflow` pages after it; false if `id` was marked before.
    fn mark(&mut self, id: PageId, overflow: u32) -> bool {
        if !self.pages.insert(id) {
            return false;
        }
        self.count += 1;
        for page in id + 1..=id + u64::from(overflow) {
            if self.pages.insert(page) {
                self.count += 1;
            }
        }
        true
    }
}

impl Db<'_> {
    /// Count the pages in use and the free pages. Every page is read at most once, so a
    /// hostile file whose trees share pages or form cycles costs no more than the file's
    /// size; a page that cannot be read as part of a tree is an error naming it, since a
    /// count that skipped it would be wrong.
    pub fn page_usage(&self) -> Result<PageUsage, FormatError> {
        let pages = self.page_limit();
        let mut reached = Reached::new(pages);
        for meta in 0..2.min(pages) {
            reached.mark(meta, 0);
        }
        // A synced freelist's pages are in use. A meta that names a page which is not a
        // freelist (etcd-io/auger's test db names a leaf) has none that can be read: the
        // trees alone decide then, as for a file whose freelist is not synced.
        let freelist = self.meta().active.freelist;
        if freelist != Meta::NO_FREELIST {
            if let Some(page) = self.page(freelist).ok().filter(|p| p.kind == PageKind::Freelist) {
                reached.mark(freelist, page.overflow);
            }
        }
        // Pages are marked when first met, before they wait on the stack: the stack holds
        // each page at most once, whatever the elements point to.
        let reach = |id: PageId, reached: &mut Reached| {
            let page = self.tree_page(id)?;
            match reached.mark(id, page.overflow) {
                true => Ok(page),
                false => Err(FormatError::PageRevisited { page: id }),
            }
        };
        let mut to_visit = vec![reach(self.meta().active.root, &mut reached)?];
        while let Some(page) = to_visit.pop() {
            for index in 0..usize::from(page.count) {
                let child = if page.kind == PageKind::Branch {
                    page.branch_element(index)?.child
                } else {
                    let element = page.leaf_element(index)?;
                    if element.flags & BUCKET_LEAF_FLAG == 0 {
                        continue;
                    }
                    match Bucket::from_value(*self, page.id, index, element.value)?.root() {
                        BucketRoot::Page(root) => root,
                        BucketRoot::Inline { .. } => continue,
                    }
                };
                to_visit.push(reach(child, &mut reached)?);
            }
        }
        Ok(PageUsage { page_size: self.page_size() as u64, pages, in_use: reached.count, free: pages - reached.count })
    }
}
