//! Revision keys of the `key` bucket: `main` (8 bytes BE) `'_'` `sub` (8 bytes BE) [`'t'`].

use std::fmt;

/// A revision: the transaction's `main` revision and the change's index `sub` within it.
/// Ordering is (main, sub), which is also the byte order of the bucket keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Revision {
    pub main: i64,
    pub sub: i64,
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.main, self.sub)
    }
}

/// A parsed bucket key of the `key` bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RevisionKey {
    pub revision: Revision,
    /// The `'t'` mark: this entry deletes the key.
    pub tombstone: bool,
}

const PUT_LEN: usize = 17;
const TOMBSTONE_LEN: usize = 18;

impl RevisionKey {
    /// Parse a bucket key; `None` if it is not what etcd writes (length 17 or 18, `'_'` at
    /// byte 8, `'t'` at byte 17, non-negative numbers).
    pub fn parse(bytes: &[u8]) -> Option<RevisionKey> {
        let tombstone = match bytes.len() {
            PUT_LEN => false,
            TOMBSTONE_LEN if bytes[17] == b't' => true,
            _ => return None,
        };
        if bytes[8] != b'_' {
            return None;
        }
        let main = i64::from_be_bytes(bytes[0..8].try_into().ok()?);
        let sub = i64::from_be_bytes(bytes[9..17].try_into().ok()?);
        if main < 0 || sub < 0 {
            return None;
        }
        Some(RevisionKey { revision: Revision { main, sub }, tombstone })
    }

    /// The 17- or 18-byte bucket key.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TOMBSTONE_LEN);
        out.extend_from_slice(&self.revision.main.to_be_bytes());
        out.push(b'_');
        out.extend_from_slice(&self.revision.sub.to_be_bytes());
        if self.tombstone {
            out.push(b't');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_put_and_tombstone_keys() {
        // Bytes observed in an etcd 3.4 snapshot: revision 6/0 tombstone.
        let key = [0, 0, 0, 0, 0, 0, 0, 6, b'_', 0, 0, 0, 0, 0, 0, 0, 0, b't'];
        let parsed = RevisionKey::parse(&key).unwrap();
        assert_eq!(parsed, RevisionKey { revision: Revision { main: 6, sub: 0 }, tombstone: true });
        assert_eq!(parsed.to_bytes(), key);
        let put = RevisionKey { revision: Revision { main: 300, sub: 2 }, tombstone: false };
        assert_eq!(RevisionKey::parse(&put.to_bytes()), Some(put));
    }

    #[test]
    fn rejects_malformed_keys() {
        assert_eq!(RevisionKey::parse(b""), None);
        assert_eq!(RevisionKey::parse(b"compact_rev_key00"), None);
        let mut bad_mark = RevisionKey { revision: Revision { main: 1, sub: 0 }, tombstone: true }.to_bytes();
        bad_mark[17] = b'x';
        assert_eq!(RevisionKey::parse(&bad_mark), None);
        let negative = [0xff; 17];
        assert_eq!(RevisionKey::parse(&negative), None);
    }

    #[test]
    fn byte_order_is_revision_order() {
        let a = RevisionKey { revision: Revision { main: 255, sub: 9 }, tombstone: false }.to_bytes();
        let b = RevisionKey { revision: Revision { main: 256, sub: 0 }, tombstone: false }.to_bytes();
        assert!(a < b);
    }
}
