//! `mvccpb.KeyValue`, the value of every entry in the `key` bucket.

use prost::encoding::{decode_key, decode_varint, skip_field, DecodeContext, WireType};

use super::RevisionKey;
use crate::MvccError;

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
    /// Decode, borrowing the byte fields. Unknown fields are skipped as proto3 requires.
    #[inline]
    pub fn decode(buf: &'a [u8]) -> Result<KeyValueRef<'a>, prost::DecodeError> {
        match Self::decode_common(buf) {
            Some(kv) => Ok(kv),
            None => Self::decode_any(buf),
        }
    }

    /// The encoding etcd writes (one-byte tags of the six known fields, well-formed
    /// varints), decoded inline: every scan decodes every record, and prost's general
    /// varint reader was a tenth of reading the key space. `None` for anything else,
    /// which [`decode_any`](Self::decode_any) then decodes or rejects.
    #[inline]
    fn decode_common(buf: &'a [u8]) -> Option<KeyValueRef<'a>> {
        Self::decode_inline(buf, false).map(|(kv, _)| kv)
    }

    /// What every scan reads of a record: [`decode_common`](Self::decode_common) up to and
    /// including the value (key, revisions, version, value), and the bytes after the value
    /// unread. etcd writes only the lease there, at the far end of the value: reading it
    /// was a cache miss per record (the lease-bearing Events are most of a cluster's
    /// records), 3% of `ls` on the 2 GiB benchmark snapshot. `None` for another layout,
    /// which [`decode_any`](Self::decode_any) then decodes whole.
    #[inline]
    pub(crate) fn decode_head(buf: &'a [u8]) -> Option<(KeyValueRef<'a>, &'a [u8])> {
        Self::decode_inline(buf, true)
    }

    /// What a scan reads of a record: [`decode_head`](Self::decode_head)'s head, or the
    /// whole record for another layout.
    #[inline]
    pub(crate) fn decode_scan(buf: &'a [u8]) -> Result<KeyValueRef<'a>, prost::DecodeError> {
        match Self::decode_head(buf) {
            Some((head, _)) => Ok(head),
            None => Self::decode_any(buf),
        }
    }

    /// etcd's layout decoded inline to the end, or up to the value (`stop_at_value`): the
    /// record, and the bytes not read.
    #[inline(always)]
    fn decode_inline(buf: &'a [u8], stop_at_value: bool) -> Option<(KeyValueRef<'a>, &'a [u8])> {
        let mut kv = KeyValueRef::default();
        let mut pos = 0;
        while let Some(&tag) = buf.get(pos) {
            pos += 1;
            match tag {
                0x0a | 0x2a => {
                    let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                    let end = pos.checked_add(len)?;
                    let bytes = buf.get(pos..end)?;
                    pos = end;
                    if tag == 0x0a {
                        kv.key = bytes;
                    } else {
                        kv.value = bytes;
                        if stop_at_value {
                            break;
                        }
                    }
                }
                0x10 => kv.create_revision = varint(buf, &mut pos)? as i64,
                0x18 => kv.mod_revision = varint(buf, &mut pos)? as i64,
                0x20 => kv.version = varint(buf, &mut pos)? as i64,
                0x30 => kv.lease = varint(buf, &mut pos)? as i64,
                _ => return None,
            }
        }
        Some((kv, &buf[pos..]))
    }

    /// The fields after a [`decode_head`](Self::decode_head)'s value: the lease; unknown
    /// fields are skipped as proto3 requires. One of the head's fields again would, by
    /// protobuf's rule, replace what the scan read: etcd never writes that, so it is damage.
    fn decode_rest(mut self, mut rest: &'a [u8]) -> Result<KeyValueRef<'a>, prost::DecodeError> {
        while !rest.is_empty() {
            let (tag, wire_type) = decode_key(&mut rest)?;
            match (tag, wire_type) {
                (6, WireType::Varint) => self.lease = decode_varint(&mut rest)? as i64,
                (1 | 5, WireType::LengthDelimited) | (2..=4, WireType::Varint) => {
                    return Err(prost::DecodeError::new(format!("field {tag} again after the value")));
                }
                _ => skip_field(wire_type, tag, &mut rest, DecodeContext::default())?,
            }
        }
        Ok(self)
    }

    /// The whole record as a scan's [`decode_head`](Self::decode_head) reads it, with the
    /// rest after it: what [`RecordRef::record`] gives.
    fn decode_scanned(buf: &'a [u8]) -> Result<KeyValueRef<'a>, prost::DecodeError> {
        match Self::decode_head(buf) {
            Some((head, rest)) => head.decode_rest(rest),
            None => Self::decode_any(buf),
        }
    }

    /// Decode with prost's wire primitives: any field layout, and prost's errors.
    pub(crate) fn decode_any(mut buf: &'a [u8]) -> Result<KeyValueRef<'a>, prost::DecodeError> {
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

/// A varint as prost reads it, or `None` where prost would fail (truncated, or more than
/// 64 bits).
#[inline]
fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let byte = *buf.get(*pos)?;
        *pos += 1;
        if i == 9 && byte > 1 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
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

    /// The whole record. A scan reads each record only up to the end of its value: the
    /// bytes after it (etcd writes the lease there) are read here, and their damage is an
    /// error naming the revision.
    pub fn record(&self) -> Result<Record<'a>, MvccError> {
        let kv = KeyValueRef::decode_scanned(self.raw)
            .map_err(|e| MvccError::BadRecord { revision: self.revision_key.revision, reason: e.to_string() })?;
        Ok(Record { revision_key: self.revision_key, kv, raw: self.raw })
    }

    /// The record's value, which the scan that made this read already; empty for bytes
    /// that are no `KeyValue` (a `RecordRef` made by hand).
    pub fn value(&self) -> &'a [u8] {
        KeyValueRef::decode_scan(self.raw).map(|kv| kv.value).unwrap_or_default()
    }
}

impl<'a> From<Record<'a>> for RecordRef<'a> {
    fn from(record: Record<'a>) -> Self {
        RecordRef { revision_key: record.revision_key, raw: record.raw }
    }
}

/// What a scan reads of one entry of the `key` bucket: its revision key, its user key and
/// its bytes. The rest of the record is read when asked for ([`RecordRef::record`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScannedRecord<'a> {
    pub revision_key: RevisionKey,
    pub key: &'a [u8],
    pub raw: &'a [u8],
}

impl ScannedRecord<'_> {
    pub fn is_tombstone(&self) -> bool {
        self.revision_key.tombstone
    }
}

impl<'a> From<Record<'a>> for ScannedRecord<'a> {
    fn from(record: Record<'a>) -> Self {
        ScannedRecord { revision_key: record.revision_key, key: record.kv.key, raw: record.raw }
    }
}

impl<'a> From<ScannedRecord<'a>> for RecordRef<'a> {
    fn from(record: ScannedRecord<'a>) -> Self {
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

    /// Real records, each cut short at every length, with bytes flipped, with unknown and
    /// repeated fields, and varints of every length up to overflow.
    fn varied_records() -> Vec<Vec<u8>> {
        let record = KeyValue {
            key: b"/registry/pods/ns/p".to_vec(),
            create_revision: 2,
            mod_revision: 1 << 40,
            version: 3,
            value: vec![7; 300],
            lease: -1,
        };
        let mut inputs = vec![record.encode_to_vec(), KeyValue { lease: 0, ..record.clone() }.encode_to_vec()];
        let bytes = inputs[0].clone();
        for cut in 0..bytes.len() {
            inputs.push(bytes[..cut].to_vec());
        }
        for at in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut flipped = bytes.clone();
                flipped[at] ^= flip;
                inputs.push(flipped);
            }
        }
        // An unknown field, a repeated key (the last wins), a two-byte tag for field 1.
        inputs.push([&bytes[..], &[0x38, 0x01][..]].concat());
        inputs.push([&bytes[..], &[0x0a, 0x01, b'x'][..]].concat());
        inputs.push([&[0x8a, 0x00, 0x01, b'y'][..], &bytes[..]].concat());
        for len in 1..=11 {
            let mut varint = vec![0xff; len - 1];
            varint.push(0x01);
            inputs.push([&[0x18][..], &varint[..]].concat());
            let mut high = vec![0x80; len - 1];
            high.push(0x02);
            inputs.push([&[0x18][..], &high[..]].concat());
        }
        inputs
    }

    /// The inline decoder agrees with prost's on every input it accepts, and leaves the
    /// rest to it.
    #[test]
    fn common_layout_decodes_as_prost_does() {
        let inputs = varied_records();
        let mut accepted = 0;
        for input in &inputs {
            let any = KeyValueRef::decode_any(input).map_err(|e| e.to_string());
            if let Some(common) = KeyValueRef::decode_common(input) {
                accepted += 1;
                assert_eq!(Ok(common), any, "{input:02x?}");
            }
            assert_eq!(KeyValueRef::decode(input).map_err(|e| e.to_string()), any, "{input:02x?}");
        }
        assert!(accepted > inputs.len() / 4, "{accepted} of {}", inputs.len());
    }

    /// What scans read, and what `RecordRef::record` reads after them, agree with prost: the
    /// head stops at the value and leaves exactly the bytes after it unread, and head and
    /// rest together decode as prost does, except where the rest holds one of the head's
    /// fields again, which is an error.
    #[test]
    fn head_and_rest_decode_as_prost_does() {
        let (mut heads, mut repeats) = (0, 0);
        for input in varied_records() {
            let any = KeyValueRef::decode_any(&input).map_err(|e| e.to_string());
            if let Some((head, rest)) = KeyValueRef::decode_head(&input) {
                heads += 1;
                if !head.value.is_empty() {
                    let value_end = head.value.as_ptr() as usize + head.value.len() - input.as_ptr() as usize;
                    assert_eq!(rest, &input[value_end..], "{input:02x?}");
                }
                assert_eq!(head.lease, 0, "{input:02x?}");
                let scanned = KeyValueRef::decode_scanned(&input).map_err(|e| e.to_string());
                if scanned.as_ref().is_err_and(|e| e.contains("again after the value")) {
                    repeats += 1;
                    continue;
                }
                assert_eq!(scanned, any, "{input:02x?}");
            } else {
                assert_eq!(KeyValueRef::decode_scanned(&input).map_err(|e| e.to_string()), any);
            }
        }
        assert!(heads > 100 && repeats >= 1, "{heads} heads, {repeats} with a repeated field");
    }

    #[test]
    fn empty_value_decodes_as_empty_record() {
        // `etcdutl snapshot restore --bump-revision` writes an empty value.
        assert_eq!(KeyValueRef::decode(&[]).unwrap(), KeyValueRef::default());
    }
}
