//! Meta pages 0 and 1: which one is active, and the page size.

use crate::error::{FormatError, MetaError};

use super::PageId;

pub(crate) const MAGIC: u32 = 0xED0C_DAED;
pub(crate) const VERSION: u32 = 2;
/// The meta struct starts after the 16-byte page header.
const META_OFFSET: usize = 16;
/// magic..txid, the bytes covered by the checksum.
const CHECKSUMMED_LEN: usize = 56;
pub(crate) const META_LEN: usize = 64;

/// One decoded meta page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub page_size: u32,
    pub flags: u32,
    /// Root page of the root bucket.
    pub root: PageId,
    pub root_sequence: u64,
    /// Freelist page, or `u64::MAX` when the freelist is not synced (etcd on Linux).
    pub freelist: PageId,
    /// High-water mark: number of pages in use.
    pub pgid: u64,
    pub txid: u64,
    pub checksum: u64,
}

/// Which meta slot (page 0 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaSlot {
    Meta0 = 0,
    Meta1 = 1,
}

/// The outcome of choosing the active meta, with the reason if bbolt's first choice was unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaChoice {
    pub active: Meta,
    pub slot: MetaSlot,
    /// The other meta, if it validated too.
    pub other: Option<Meta>,
    /// Set when the meta with the higher txid (or the only candidate) failed validation and the
    /// other one was used instead.
    pub fallback: Option<MetaError>,
}

impl Meta {
    /// Free-list id bbolt writes when the freelist is not persisted.
    pub const NO_FREELIST: PageId = u64::MAX;

    /// Parse and validate the meta struct that starts at `offset` (the page start + 16).
    fn parse_at(data: &[u8], offset: usize) -> Result<Meta, MetaError> {
        let raw = offset.checked_add(META_LEN).and_then(|end| data.get(offset..end)).ok_or(MetaError::OutOfFile)?;
        let u32_at = |o: usize| u32::from_le_bytes(raw[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().expect("8 bytes"));
        let magic = u32_at(0);
        if magic != MAGIC {
            return Err(MetaError::BadMagic(magic));
        }
        let version = u32_at(4);
        if version != VERSION {
            return Err(MetaError::BadVersion(version));
        }
        let meta = Meta {
            page_size: u32_at(8),
            flags: u32_at(12),
            root: u64_at(16),
            root_sequence: u64_at(24),
            freelist: u64_at(32),
            pgid: u64_at(40),
            txid: u64_at(48),
            checksum: u64_at(56),
        };
        let computed = fnv1a64(&raw[..CHECKSUMMED_LEN]);
        if computed != meta.checksum {
            return Err(MetaError::BadChecksum { stored: meta.checksum, computed });
        }
        // bbolt accepts any page size it can mmap; we need one that makes page arithmetic sane.
        if !(512..=(1 << 20)).contains(&meta.page_size) || !meta.page_size.is_power_of_two() {
            return Err(MetaError::BadPageSize(meta.page_size));
        }
        Ok(meta)
    }

    /// Choose the active meta as bbolt does (`db.go` `DB.meta`): the higher txid if it
    /// validates, else the other one. The page size comes from meta 0, or, when meta 0 is
    /// unusable, from probing meta 1 at power-of-two offsets (`getPageSizeFromSecondMeta`).
    pub fn choose(data: &[u8]) -> Result<MetaChoice, FormatError> {
        if data.len() < META_OFFSET + META_LEN {
            return Err(FormatError::TooSmall { len: data.len() });
        }
        if data[META_OFFSET..META_OFFSET + 4] == MAGIC.to_be_bytes() {
            return Err(FormatError::BigEndian);
        }
        let meta0 = Meta::parse_at(data, META_OFFSET);
        let meta1 = match &meta0 {
            Ok(m) => Meta::parse_at(data, m.page_size as usize + META_OFFSET),
            Err(_) => Self::probe_second_meta(data),
        };
        let (meta0, meta1) = match (meta0, meta1) {
            (Err(e0), Err(e1)) => return Err(FormatError::NoValidMeta { meta0: e0, meta1: e1 }),
            // A second meta with a different page size than the first is not from this file.
            (Ok(m0), Ok(m1)) if m0.page_size != m1.page_size => (Ok(m0), Err(MetaError::BadPageSize(m1.page_size))),
            other => other,
        };
        let choice = match (meta0, meta1) {
            (Ok(m0), Ok(m1)) => {
                let (active, slot, other) =
                    if m1.txid > m0.txid { (m1, MetaSlot::Meta1, m0) } else { (m0, MetaSlot::Meta0, m1) };
                MetaChoice { active, slot, other: Some(other), fallback: None }
            }
            (Ok(m0), Err(e1)) => MetaChoice { active: m0, slot: MetaSlot::Meta0, other: None, fallback: Some(e1) },
            (Err(e0), Ok(m1)) => MetaChoice { active: m1, slot: MetaSlot::Meta1, other: None, fallback: Some(e0) },
            (Err(_), Err(_)) => unreachable!("handled above"),
        };
        Ok(choice)
    }

    fn probe_second_meta(data: &[u8]) -> Result<Meta, MetaError> {
        // Report the first candidate that looked like a meta (right magic) over the
        // bad-magic noise of the offsets that were not pages at all.
        let mut first_error: Option<MetaError> = None;
        for shift in 0..15 {
            let page_size = 1024usize << shift;
            if page_size + 1024 >= data.len() {
                break;
            }
            let error = match Meta::parse_at(data, page_size + META_OFFSET) {
                Ok(m) if m.page_size as usize == page_size => return Ok(m),
                Ok(m) => MetaError::BadPageSize(m.page_size),
                Err(e) => e,
            };
            match (first_error, error) {
                (None, e)
                | (
                    Some(MetaError::BadMagic(_)),
                    e @ (MetaError::BadChecksum { .. } | MetaError::BadVersion(_) | MetaError::BadPageSize(_)),
                ) => first_error = Some(e),
                _ => {}
            }
        }
        Err(first_error.unwrap_or(MetaError::OutOfFile))
    }
}

/// FNV-1a, 64-bit (Go's `hash/fnv` `New64a`), bbolt's meta checksum.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_reference_vectors() {
        // Vectors from the FNV reference (draft-eastlake-fnv), as Go's hash/fnv computes them.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn too_small_is_an_error() {
        assert_eq!(Meta::choose(&[0u8; 10]), Err(FormatError::TooSmall { len: 10 }));
    }

    #[test]
    fn zero_file_has_no_valid_meta() {
        let err = Meta::choose(&vec![0u8; 8192]).unwrap_err();
        assert!(matches!(err, FormatError::NoValidMeta { meta0: MetaError::BadMagic(0), .. }), "{err}");
    }
}
