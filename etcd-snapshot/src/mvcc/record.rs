//! `mvccpb.KeyValue`, the value of every entry in the `key` bucket.

use prost::encoding::{decode_key, decode_varint, skip_field, DecodeContext, WireType};

use super::RevisionKey;

/// Owned `mvccpb.KeyValue` (etcd `api/mvccpb/kv.proto`), for embedding users who want a
/// plain prost message. The scan paths use the borrowing [`KeyValueRef`] instead.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValue {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(int64, tag = "2")]
    pub create_revision: i64,
    #[prost(int64, tag = "3")]
    pub mod_revision: i64,
    #[prost(int64, tag = "4")]
    pub version: i64,
    #[prost(bytes = "vec", tag = "5")]
    pub value: Vec<u8>,
    #[prost(int64, tag = "6")]
    pub lease: i64,
}

/// `mvccpb.KeyValue` borrowed from the snapshot: `key` and `value` point into the mapping, so
/// a scan of a multi-GB file copies no values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyValueRef<'a> {
    pub key: &'a [u8],
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub value: &'a [u8],
    pub lease: i64,
}

impl<'a> KeyValueRef<'a> {
    /// Decode with prost's wire primitives, borrowing the byte fields. Unknown fields are
    /// skipped as proto3 requires.
    pub fn decode(mut buf: &'a [u8]) -> Result<KeyValueRef<'a>, prost::DecodeError> {
        let mut kv = KeyValueRef::default();
        while !buf.is_empty() {
            let (tag, wire_type) = decode_key(&mut buf)?;
            match (tag, wire_type) {
                (1, WireType::LengthDelimited) => kv.key = take_bytes(&mut buf)?,
                (5, WireType::LengthDelimited) => kv.value = take_bytes(&mut buf)?,
                (2, WireType::Varint) => kv.create_revision = decode_varint(&mut buf)? as i64,
                (3, WireType::Varint) => kv.mod_revision = decode_varint(&mut buf)? as i64,
                (4, WireType::Varint) => kv.version = decode_varint(&mut buf)? as i64,
                (6, WireType::Varint) => kv.lease = decode_varint(&mut buf)? as i64,
                _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
            }
        }
        Ok(kv)
    }

    pub fn to_owned(&self) -> KeyValue {
        KeyValue {
            key: self.key.to_vec(),
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
            value: self.value.to_vec(),
            lease: self.lease,
        }
    }
}

fn take_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], prost::DecodeError> {
    let len = decode_varint(buf)?;
    if len > buf.len() as u64 {
        return Err(prost::DecodeError::new("buffer underflow"));
    }
    let (head, tail) = buf.split_at(len as usize);
    *buf = tail;
    Ok(head)
}

/// One entry of the `key` bucket: its revision key and its decoded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub revision_key: RevisionKey,
    pub kv: KeyValueRef<'a>,
    /// The encoded `KeyValue` as stored.
    pub raw: &'a [u8],
}

impl Record<'_> {
    pub fn is_tombstone(&self) -> bool {
        self.revision_key.tombstone
    }
}

/// A record as scans keep it: its revision key and the still-encoded `KeyValue`, decoded
/// again when asked for. Less than half the size of a [`Record`], which counts when a scan
/// holds one per key of a snapshot with millions of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    pub revision_key: RevisionKey,
    /// The encoded `KeyValue` as stored.
    pub raw: &'a [u8],
}

impl<'a> RecordRef<'a> {
    pub fn is_tombstone(&self) -> bool {
        self.revision_key.tombstone
    }

    /// The decoded record. A `RecordRef` is only made from a [`Record`], whose bytes
    /// decoded, so decoding them again gives the same record.
    pub fn record(&self) -> Record<'a> {
        Record { revision_key: self.revision_key, kv: KeyValueRef::decode(self.raw).unwrap_or_default(), raw: self.raw }
    }
}

impl<'a> From<Record<'a>> for RecordRef<'a> {
    fn from(record: Record<'a>) -> Self {
        RecordRef { revision_key: record.revision_key, raw: record.raw }
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn borrowed_decode_agrees_with_prost() {
        let owned = KeyValue {
            key: b"/registry/pods/ns/p".to_vec(),
            create_revision: 2,
            mod_revision: 7,
            version: 3,
            value: vec![0x6b, 0x38, 0x73, 0x00, 1, 2, 3],
            lease: 0x2040a229a4efd90a,
        };
        let bytes = owned.encode_to_vec();
        let borrowed = KeyValueRef::decode(&bytes).unwrap();
        assert_eq!(borrowed.to_owned(), owned);
        assert_eq!(KeyValue::decode(bytes.as_slice()).unwrap(), owned);
    }

    #[test]
    fn tombstone_value_has_only_the_key() {
        // Observed in an etcd 3.4 snapshot: a tombstone for "baz".
        let kv = KeyValueRef::decode(&[0x0a, 0x03, b'b', b'a', b'z']).unwrap();
        assert_eq!(kv, KeyValueRef { key: b"baz", ..Default::default() });
    }

    #[test]
    fn truncated_and_hostile_values_are_errors() {
        assert!(KeyValueRef::decode(&[0x0a, 0x05, b'a']).is_err());
        // A length prefix of 2^63: must not allocate or panic.
        let mut hostile = vec![0x2a];
        hostile.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert!(KeyValueRef::decode(&hostile).is_err());
        assert!(KeyValueRef::decode(&[0x10]).is_err());
    }

    #[test]
    fn empty_value_decodes_as_empty_record() {
        // `etcdutl snapshot restore --bump-revision` writes an empty value.
        assert_eq!(KeyValueRef::decode(&[]).unwrap(), KeyValueRef::default());
    }
}
