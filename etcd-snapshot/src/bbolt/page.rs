//! One logical page (a page and its overflow pages) and its elements, as borrowed views.

use crate::error::FormatError;

use super::PageId;

pub(crate) const PAGE_HEADER_LEN: usize = 16;
pub(crate) const ELEMENT_LEN: usize = 16;

const BRANCH_FLAG: u16 = 0x01;
const LEAF_FLAG: u16 = 0x02;
const META_FLAG: u16 = 0x04;
const FREELIST_FLAG: u16 = 0x10;

/// The type of a page, from its header `flags` (bbolt 1.4 accepts exact values only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Branch,
    Leaf,
    Meta,
    Freelist,
    Unknown(u16),
}

impl PageKind {
    fn from_flags(flags: u16) -> PageKind {
        match flags {
            BRANCH_FLAG => PageKind::Branch,
            LEAF_FLAG => PageKind::Leaf,
            META_FLAG => PageKind::Meta,
            FREELIST_FLAG => PageKind::Freelist,
            other => PageKind::Unknown(other),
        }
    }

    /// The header `flags` value of this kind.
    pub fn flags(self) -> u16 {
        match self {
            PageKind::Branch => BRANCH_FLAG,
            PageKind::Leaf => LEAF_FLAG,
            PageKind::Meta => META_FLAG,
            PageKind::Freelist => FREELIST_FLAG,
            PageKind::Unknown(f) => f,
        }
    }
}

/// A logical page: the header plus `(overflow + 1) * page_size` bytes, or, for an inline
/// bucket, the page image embedded in the bucket value.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// Where the page is: its own id, or for an inline bucket the page holding the bucket value.
    pub id: PageId,
    pub kind: PageKind,
    pub count: u16,
    pub overflow: u32,
    bytes: &'a [u8],
}

/// An element of a branch page: the first key of a child and the child's page id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchElement<'a> {
    pub key: &'a [u8],
    pub child: PageId,
}

/// An element of a leaf page: a key and its value, or a nested bucket when `flags & 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafElement<'a> {
    pub flags: u32,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

impl LeafElement<'_> {
    pub fn is_bucket(&self) -> bool {
        self.flags & super::BUCKET_LEAF_FLAG != 0
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}

impl<'a> Page<'a> {
    /// Header id as written in the page (checked against the position by [`super::Db::page`]).
    pub(crate) fn header_id(bytes: &[u8]) -> u64 {
        u64_at(bytes, 0)
    }

    pub(crate) fn header_overflow(bytes: &[u8]) -> u32 {
        u32_at(bytes, 12)
    }

    /// View `bytes` (at least the 16-byte header) as a page known as `id`.
    pub(crate) fn new(id: PageId, bytes: &'a [u8]) -> Page<'a> {
        debug_assert!(bytes.len() >= PAGE_HEADER_LEN);
        Page {
            id,
            kind: PageKind::from_flags(u16_at(bytes, 8)),
            count: u16_at(bytes, 10),
            overflow: u32_at(bytes, 12),
            bytes,
        }
    }

    /// All bytes of the logical page, header included.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn element_bounds(&self, index: usize) -> Result<usize, FormatError> {
        let start = PAGE_HEADER_LEN + ELEMENT_LEN * index;
        if index >= usize::from(self.count) || start + ELEMENT_LEN > self.bytes.len() {
            return Err(self.out_of_bounds(index, start as u64));
        }
        Ok(start)
    }

    fn out_of_bounds(&self, index: usize, offset: u64) -> FormatError {
        FormatError::ElementOutOfBounds { page: self.id, index, offset, page_len: self.bytes.len() }
    }

    /// `len` bytes at `elem + pos`, where `pos` is relative to the element (bbolt's layout).
    fn slice_from(&self, index: usize, elem: usize, pos: u32, len: u64) -> Result<&'a [u8], FormatError> {
        let start = elem as u64 + u64::from(pos);
        let end = start + len;
        if end > self.bytes.len() as u64 {
            return Err(self.out_of_bounds(index, end));
        }
        Ok(&self.bytes[start as usize..end as usize])
    }

    /// Element `index` of a branch page.
    pub fn branch_element(&self, index: usize) -> Result<BranchElement<'a>, FormatError> {
        let e = self.element_bounds(index)?;
        let pos = u32_at(self.bytes, e);
        let ksize = u32_at(self.bytes, e + 4);
        let child = u64_at(self.bytes, e + 8);
        let key = self.slice_from(index, e, pos, u64::from(ksize))?;
        Ok(BranchElement { key, child })
    }

    /// Element `index` of a leaf page.
    pub fn leaf_element(&self, index: usize) -> Result<LeafElement<'a>, FormatError> {
        let e = self.element_bounds(index)?;
        let flags = u32_at(self.bytes, e);
        let pos = u32_at(self.bytes, e + 4);
        let ksize = u32_at(self.bytes, e + 8);
        let vsize = u32_at(self.bytes, e + 12);
        let kv = self.slice_from(index, e, pos, u64::from(ksize) + u64::from(vsize))?;
        let (key, value) = kv.split_at(ksize as usize);
        Ok(LeafElement { flags, key, value })
    }
}
