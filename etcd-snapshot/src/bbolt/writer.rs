//! Writing a new bbolt file, the one thing this crate writes: a database built from entries
//! given in key order, as `etcdsnap crop` makes a smaller snapshot out of a larger one. The
//! input is never written; the output is a new file.
//!
//! The layout is bbolt's (`page.go`, `node.go`): meta pages 0 and 1, a freelist page (empty:
//! nothing is free in a file written in one go), then each tree bottom-up: leaves in key
//! order, each filled over up to [`MAX_LEAF_PAGES`] pages (a page and its overflow pages),
//! an entry larger than that on a leaf of its own, and branch levels over them until one
//! root is left. bbolt reads such a file as it reads its own.

use std::borrow::Cow;
use std::io::{self, Seek, SeekFrom, Write};

use super::meta::{fnv1a64, MAGIC, META_LEN, VERSION};
use super::page::{PageKind, ELEMENT_LEN, PAGE_HEADER_LEN};
use super::PageId;

/// A leaf grows over up to this many pages before the next entry starts another. Entries
/// of a few KB, most of the `key` bucket, waste the end of almost every page when each
/// leaf is one page: a copy of the 2 GiB benchmark snapshot took 1.91 GB with leaves of
/// one page, 1.67 GB of two, 1.54 GB of four and 1.44 GB of sixteen (bbolt's own file
/// has 1.70 GB in use). bbolt reads such leaves as any node with overflow pages, and
/// splits one into page-sized nodes the first time it writes it.
const MAX_LEAF_PAGES: usize = 16;

/// Pages written before any tree: meta 0, meta 1, the freelist.
const FIRST_TREE_PAGE: PageId = 3;
const FREELIST_PAGE: PageId = 2;

/// A bbolt file being written to `out`. Trees are written with [`TreeWriter`]; [`finish`]
/// then writes the meta and freelist pages in front of them.
///
/// [`finish`]: DbWriter::finish
pub struct DbWriter<W: Write + Seek> {
    out: W,
    page_size: usize,
    next_page: PageId,
}

impl<W: Write + Seek> DbWriter<W> {
    /// Starts a file of pages of `page_size` bytes (a power of two, at least 1 KiB) at the
    /// start of `out`.
    pub fn new(mut out: W, page_size: usize) -> io::Result<DbWriter<W>> {
        if !page_size.is_power_of_two() || !(1024..=(1 << 20)).contains(&page_size) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid page size {page_size}")));
        }
        out.seek(SeekFrom::Start(FIRST_TREE_PAGE * page_size as u64))?;
        Ok(DbWriter { out, page_size, next_page: FIRST_TREE_PAGE })
    }

    /// Writes one node (a page and its overflow pages) whose image, header included, is
    /// `node`; returns its page id. The header's id and overflow are filled in here.
    fn write_node(&mut self, mut node: Vec<u8>) -> io::Result<PageId> {
        let id = self.next_page;
        let pages = node.len().div_ceil(self.page_size).max(1);
        let overflow = u32::try_from(pages - 1)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "node larger than 4 billion pages"))?;
        node[0..8].copy_from_slice(&id.to_le_bytes());
        node[12..16].copy_from_slice(&overflow.to_le_bytes());
        node.resize(pages * self.page_size, 0);
        self.out.write_all(&node)?;
        self.next_page += pages as PageId;
        Ok(id)
    }

    /// Writes the meta pages (both alike, transaction `txid`) with the root bucket's tree at
    /// `root` and `root_sequence`, and the empty freelist; returns the output, positioned at
    /// the end of the database.
    pub fn finish(mut self, root: PageId, root_sequence: u64, txid: u64) -> io::Result<W> {
        let end = self.next_page * self.page_size as u64;
        self.out.seek(SeekFrom::Start(0))?;
        for id in 0..2 {
            let mut page = page_image(self.page_size, id, PageKind::Meta, 0);
            let mut meta = Vec::with_capacity(META_LEN);
            meta.extend_from_slice(&MAGIC.to_le_bytes());
            meta.extend_from_slice(&VERSION.to_le_bytes());
            meta.extend_from_slice(&(self.page_size as u32).to_le_bytes());
            meta.extend_from_slice(&0u32.to_le_bytes()); // flags
            meta.extend_from_slice(&root.to_le_bytes());
            meta.extend_from_slice(&root_sequence.to_le_bytes());
            meta.extend_from_slice(&FREELIST_PAGE.to_le_bytes());
            meta.extend_from_slice(&self.next_page.to_le_bytes()); // high-water mark
            meta.extend_from_slice(&txid.to_le_bytes());
            let checksum = fnv1a64(&meta);
            meta.extend_from_slice(&checksum.to_le_bytes());
            page[PAGE_HEADER_LEN..PAGE_HEADER_LEN + META_LEN].copy_from_slice(&meta);
            self.out.write_all(&page)?;
        }
        self.out.write_all(&page_image(self.page_size, FREELIST_PAGE, PageKind::Freelist, 0))?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A zeroed page with its header.
fn page_image(page_size: usize, id: PageId, kind: PageKind, count: u16) -> Vec<u8> {
    let mut page = vec![0u8; page_size];
    page[0..8].copy_from_slice(&id.to_le_bytes());
    page[8..10].copy_from_slice(&kind.flags().to_le_bytes());
    page[10..12].copy_from_slice(&count.to_le_bytes());
    page
}

/// An entry waiting in the leaf being filled: flags, key, value.
type LeafItem<'a> = (u32, &'a [u8], Cow<'a, [u8]>);

/// One tree (a bucket's) being written: entries are pushed in key order, leaves are
/// written as they fill, and [`finish`](TreeWriter::finish) writes the branch levels.
pub struct TreeWriter<'a> {
    /// The entries of the leaf being filled.
    leaf: Vec<LeafItem<'a>>,
    /// Its size as a node: header, elements, keys and values.
    leaf_len: usize,
    /// The first key and page of each leaf written so far.
    children: Vec<(Vec<u8>, PageId)>,
}

impl Default for TreeWriter<'_> {
    fn default() -> Self {
        TreeWriter::new()
    }
}

impl<'a> TreeWriter<'a> {
    pub fn new() -> TreeWriter<'a> {
        TreeWriter { leaf: Vec::new(), leaf_len: PAGE_HEADER_LEN, children: Vec::new() }
    }

    /// Adds an entry after the ones pushed before (keys must come in increasing order);
    /// `flags` is bbolt's leaf element flags (`BUCKET_LEAF_FLAG` for a nested bucket, whose
    /// value is its bucket header).
    pub fn push<W: Write + Seek>(
        &mut self,
        db: &mut DbWriter<W>,
        flags: u32,
        key: &'a [u8],
        value: Cow<'a, [u8]>,
    ) -> io::Result<()> {
        // bbolt's elements hold 32-bit sizes and offsets.
        if u32::try_from(key.len() + value.len()).is_err() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "entry of 4 GiB or more"));
        }
        let len = ELEMENT_LEN + key.len() + value.len();
        let pages = (self.leaf_len + len).div_ceil(db.page_size);
        if !self.leaf.is_empty() && (pages > MAX_LEAF_PAGES || self.leaf.len() == usize::from(u16::MAX)) {
            self.write_leaf(db)?;
        }
        self.leaf_len += len;
        self.leaf.push((flags, key, value));
        Ok(())
    }

    fn write_leaf<W: Write + Seek>(&mut self, db: &mut DbWriter<W>) -> io::Result<()> {
        let count = self.leaf.len();
        let mut node = page_image(self.leaf_len.max(db.page_size), 0, PageKind::Leaf, count as u16);
        node.truncate(PAGE_HEADER_LEN + count * ELEMENT_LEN);
        for (i, (flags, key, value)) in self.leaf.iter().enumerate() {
            let element = PAGE_HEADER_LEN + i * ELEMENT_LEN;
            // bbolt's `pos` is the distance from the element to its key.
            let pos = (node.len() - element) as u32;
            node[element..element + 4].copy_from_slice(&flags.to_le_bytes());
            node[element + 4..element + 8].copy_from_slice(&pos.to_le_bytes());
            node[element + 8..element + 12].copy_from_slice(&(key.len() as u32).to_le_bytes());
            node[element + 12..element + 16].copy_from_slice(&(value.len() as u32).to_le_bytes());
            node.extend_from_slice(key);
            node.extend_from_slice(value);
        }
        let first = self.leaf.first().map(|(_, key, _)| key.to_vec()).unwrap_or_default();
        let id = db.write_node(node)?;
        self.children.push((first, id));
        self.leaf.clear();
        self.leaf_len = PAGE_HEADER_LEN;
        Ok(())
    }

    /// Writes what is left: the last leaf (an empty one for an empty tree) and the branch
    /// levels. Returns the root page.
    pub fn finish<W: Write + Seek>(mut self, db: &mut DbWriter<W>) -> io::Result<PageId> {
        if !self.leaf.is_empty() || self.children.is_empty() {
            self.write_leaf(db)?;
        }
        let mut level = std::mem::take(&mut self.children);
        while level.len() > 1 {
            level = write_branch_level(db, &level)?;
        }
        Ok(level[0].1)
    }
}

/// Branch pages over `children` (first key and page of each), filled up to the page size
/// with at least two children each but maybe the last (so each level has fewer nodes than
/// the one below); returns their first keys and pages.
fn write_branch_level<W: Write + Seek>(
    db: &mut DbWriter<W>,
    children: &[(Vec<u8>, PageId)],
) -> io::Result<Vec<(Vec<u8>, PageId)>> {
    let mut parents = Vec::new();
    let mut start = 0;
    while start < children.len() {
        let mut end = start;
        let mut len = PAGE_HEADER_LEN;
        while end < children.len() {
            let add = ELEMENT_LEN + children[end].0.len();
            let full = len + add > db.page_size || end - start == usize::from(u16::MAX);
            if full && end - start >= 2 {
                break;
            }
            len += add;
            end += 1;
        }
        let group = &children[start..end];
        let mut node = page_image(db.page_size, 0, PageKind::Branch, group.len() as u16);
        node.truncate(PAGE_HEADER_LEN + group.len() * ELEMENT_LEN);
        for (i, (key, child)) in group.iter().enumerate() {
            let element = PAGE_HEADER_LEN + i * ELEMENT_LEN;
            let pos = (node.len() - element) as u32;
            node[element..element + 4].copy_from_slice(&pos.to_le_bytes());
            node[element + 4..element + 8].copy_from_slice(&(key.len() as u32).to_le_bytes());
            node[element + 8..element + 16].copy_from_slice(&child.to_le_bytes());
            node.extend_from_slice(key);
        }
        let id = db.write_node(node)?;
        parents.push((group[0].0.clone(), id));
        start = end;
    }
    Ok(parents)
}

/// The value of a nested bucket's leaf element: its root page and sequence.
pub fn bucket_header(root: PageId, sequence: u64) -> Vec<u8> {
    let mut header = Vec::with_capacity(16);
    header.extend_from_slice(&root.to_le_bytes());
    header.extend_from_slice(&sequence.to_le_bytes());
    header
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::bbolt::{Bucket, BucketRoot, Db, BUCKET_LEAF_FLAG};

    type Entry = (Vec<u8>, Vec<u8>);

    fn write_bucket(db: &mut DbWriter<&mut Cursor<Vec<u8>>>, entries: &[Entry]) -> PageId {
        let mut tree = TreeWriter::new();
        for (key, value) in entries {
            tree.push(db, 0, key, Cow::Borrowed(value)).unwrap();
        }
        tree.finish(db).unwrap()
    }

    fn read_bucket(bucket: &Bucket<'_>) -> Vec<Entry> {
        bucket.entries().map(|e| e.unwrap()).map(|e| (e.key.to_vec(), e.value.to_vec())).collect()
    }

    /// Small pages, so that the trees have branch levels, a value spanning overflow pages, an
    /// empty bucket and a nested one; read back by the reader, and every page reached
    /// (bbolt's count of free pages is 0: no page was lost or reached twice).
    #[test]
    fn written_trees_read_back() {
        let page_size = 1024;
        let many: Vec<Entry> = (0..4000u32)
            .map(|i| (format!("key-{i:06}").into_bytes(), i.to_le_bytes().repeat(i as usize % 100)))
            .collect();
        let large: Vec<Entry> =
            vec![(b"a".to_vec(), vec![1; 10]), (b"big".to_vec(), vec![7; 5000]), (b"z".to_vec(), vec![])];
        let mut out = Cursor::new(Vec::new());
        let mut db = DbWriter::new(&mut out, page_size).unwrap();
        let nested = write_bucket(&mut db, &large);
        let mut outer = TreeWriter::new();
        outer.push(&mut db, 0, b"first", Cow::Borrowed(b"plain".as_slice())).unwrap();
        outer.push(&mut db, BUCKET_LEAF_FLAG, b"nested", Cow::Owned(bucket_header(nested, 9))).unwrap();
        let outer = outer.finish(&mut db).unwrap();
        let buckets: Vec<(&[u8], PageId)> = vec![
            (b"empty", write_bucket(&mut db, &[])),
            (b"large", write_bucket(&mut db, &large)),
            (b"many", write_bucket(&mut db, &many)),
            (b"outer", outer),
        ];
        let headers: Vec<Vec<u8>> = buckets.iter().map(|&(_, page)| bucket_header(page, 3)).collect();
        let mut root = TreeWriter::new();
        for ((name, _), header) in buckets.iter().zip(&headers) {
            root.push(&mut db, BUCKET_LEAF_FLAG, name, Cow::Borrowed(header)).unwrap();
        }
        let root = root.finish(&mut db).unwrap();
        db.finish(root, 0, 42).unwrap();
        let bytes = out.into_inner();

        let db = Db::new(&bytes).unwrap();
        assert_eq!((db.page_size(), db.meta().active.txid), (page_size, 42));
        assert!(!db.is_truncated());
        let names: Vec<Vec<u8>> = db.root_bucket().entries().map(|e| e.unwrap().key.to_vec()).collect();
        assert_eq!(names, [&b"empty"[..], b"large", b"many", b"outer"]);
        assert!(read_bucket(&db.bucket(b"empty").unwrap().unwrap()).is_empty());
        assert_eq!(read_bucket(&db.bucket(b"large").unwrap().unwrap()), large);
        let many_bucket = db.bucket(b"many").unwrap().unwrap();
        assert_eq!(many_bucket.sequence, 3);
        assert_eq!(read_bucket(&many_bucket), many);
        assert_eq!(many_bucket.get(b"key-001234").unwrap(), Some(1234u32.to_le_bytes().repeat(34).as_slice()));
        let outer = db.bucket(b"outer").unwrap().unwrap();
        assert_eq!(outer.get(b"first").unwrap(), Some(b"plain".as_slice()));
        let nested = outer.bucket(b"nested").unwrap().unwrap();
        assert_eq!((read_bucket(&nested), nested.sequence), (large, 9));
        // Three levels over 4000 entries (800 KB) in leaves of up to 16 pages of 1 KiB.
        let BucketRoot::Page(root) = many_bucket.root() else { panic!("inline") };
        let root = db.page(root).unwrap();
        assert_eq!(root.kind, PageKind::Branch);
        assert_eq!(db.page(root.branch_element(0).unwrap().child).unwrap().kind, PageKind::Branch);
        let usage = db.page_usage().unwrap();
        assert_eq!((usage.free, usage.pages), (0, bytes.len() as u64 / page_size as u64));
    }
}
