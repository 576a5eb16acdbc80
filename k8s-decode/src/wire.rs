//! Minimal protobuf wire-format reader over a byte slice.
//!
//! Never panics and never allocates based on a length prefix: every length is
//! checked against the remaining input first.

/// Wire types of the protobuf encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Bytes,
    Fixed32,
}

impl WireType {
    pub fn name(self) -> &'static str {
        match self {
            WireType::Varint => "varint",
            WireType::Fixed64 => "fixed64",
            WireType::Bytes => "bytes",
            WireType::Fixed32 => "fixed32",
        }
    }
}

/// One field occurrence: its number and value.
#[derive(Debug, Clone, Copy)]
pub struct WireField<'a> {
    pub number: u32,
    pub value: WireValue<'a>,
}

#[derive(Debug, Clone, Copy)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

impl WireValue<'_> {
    pub fn wire_type(&self) -> WireType {
        match self {
            WireValue::Varint(_) => WireType::Varint,
            WireValue::Fixed64(_) => WireType::Fixed64,
            WireValue::Fixed32(_) => WireType::Fixed32,
            WireValue::Bytes(_) => WireType::Bytes,
        }
    }
}

/// Low-level failure while reading wire data, with the offset (relative to the
/// start of the slice being read) where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Read a varint at `*pos`. Inlined for its one-byte form: nearly every tag and length
/// is below 128, and the call was a twentieth of decoding.
#[inline]
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    match buf.get(*pos) {
        Some(&b) if b < 0x80 => {
            *pos += 1;
            Ok(u64::from(b))
        }
        _ => read_long_varint(buf, pos),
    }
}

/// A varint of two or more bytes (or none at all).
#[cold]
fn read_long_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let start = *pos;
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = buf.get(start + i) else {
            return Err(WireError { offset: start, reason: "truncated varint" });
        };
        // The tenth byte holds bit 63 only.
        if i == 9 && b > 1 {
            break;
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *pos = start + i + 1;
            return Ok(v);
        }
    }
    Err(WireError { offset: start, reason: "varint overflows 64 bits" })
}

/// Iterator over the fields of one message.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0, failed: false }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<WireField<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let r = self.read_one();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

impl<'a> Fields<'a> {
    #[inline]
    fn read_one(&mut self) -> Result<WireField<'a>, WireError> {
        let offset = self.pos;
        let tag = read_varint(self.buf, &mut self.pos)?;
        let number = tag >> 3;
        if number == 0 || number > 0x1fff_ffff {
            return Err(WireError { offset, reason: "invalid field number" });
        }
        let number = number as u32;
        let value = match tag & 7 {
            0 => WireValue::Varint(read_varint(self.buf, &mut self.pos)?),
            1 => {
                let b = self.take(8, offset)?;
                WireValue::Fixed64(u64::from_le_bytes(b.try_into().expect("8 bytes")))
            }
            2 => {
                let len = read_varint(self.buf, &mut self.pos)?;
                let remaining = self.buf.len() - self.pos;
                if len > remaining as u64 {
                    return Err(WireError { offset, reason: "length prefix exceeds remaining bytes" });
                }
                WireValue::Bytes(self.take(len as usize, offset)?)
            }
            5 => {
                let b = self.take(4, offset)?;
                WireValue::Fixed32(u32::from_le_bytes(b.try_into().expect("4 bytes")))
            }
            3 | 4 => return Err(WireError { offset, reason: "groups are not supported" }),
            _ => return Err(WireError { offset, reason: "invalid wire type" }),
        };
        Ok(WireField { number, value })
    }

    fn take(&mut self, n: usize, offset: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(WireError { offset, reason: "truncated field" })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

/// True when `buf` parses completely as a sequence of protobuf fields.
pub fn looks_like_message(buf: &[u8]) -> bool {
    !buf.is_empty() && Fields::new(buf).all(|f| f.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(buf: &[u8]) -> (Result<u64, WireError>, usize) {
        let mut pos = 0;
        (read_varint(buf, &mut pos), pos)
    }

    #[test]
    fn varints_of_one_to_ten_bytes() {
        assert_eq!(varint(&[0x00]), (Ok(0), 1));
        assert_eq!(varint(&[0x7f, 0xff]), (Ok(127), 1));
        assert_eq!(varint(&[0x80, 0x01]), (Ok(128), 2));
        assert_eq!(varint(&[0xac, 0x02]), (Ok(300), 2));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&max), (Ok(u64::MAX), 10));
        // Read from where `pos` is, not from the start.
        let mut pos = 1;
        assert_eq!(read_varint(&[0xff, 0x05, 0x80, 0x01], &mut pos), Ok(5));
        assert_eq!(read_varint(&[0xff, 0x05, 0x80, 0x01], &mut pos), Ok(128));
        assert_eq!(pos, 4);
    }

    #[test]
    fn bad_varints_name_where_they_start() {
        let at = |offset, reason| Err(WireError { offset, reason });
        assert_eq!(varint(&[]).0, at(0, "truncated varint"));
        assert_eq!(varint(&[0x80, 0x80]).0, at(0, "truncated varint"));
        let mut pos = 2;
        assert_eq!(read_varint(&[0x01, 0x02], &mut pos), at(2, "truncated varint"));
        let too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(varint(&too_big).0, at(0, "varint overflows 64 bits"));
        let too_long = [0x80; 11];
        assert_eq!(varint(&too_long).0, at(0, "varint overflows 64 bits"));
    }

    #[test]
    fn fields_of_every_wire_type_then_an_error_ends_them() {
        // 1: varint 150; 2: bytes "hi"; 3: fixed64; 4: fixed32; then a truncated length.
        let mut buf = vec![0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x19];
        buf.extend_from_slice(&7u64.to_le_bytes());
        buf.push(0x25);
        buf.extend_from_slice(&9u32.to_le_bytes());
        buf.extend_from_slice(&[0x2a, 0x05, b'x']);
        let fields: Vec<_> = Fields::new(&buf).collect();
        assert_eq!(fields.len(), 5);
        let ok: Vec<_> = fields[..4].iter().map(|f| f.as_ref().unwrap()).collect();
        assert!(matches!(ok[0], WireField { number: 1, value: WireValue::Varint(150) }));
        assert!(matches!(ok[1], WireField { number: 2, value: WireValue::Bytes(b"hi") }));
        assert!(matches!(ok[2], WireField { number: 3, value: WireValue::Fixed64(7) }));
        assert!(matches!(ok[3], WireField { number: 4, value: WireValue::Fixed32(9) }));
        let last = fields[4].as_ref().unwrap_err();
        assert_eq!((last.offset, last.reason), (buf.len() - 3, "length prefix exceeds remaining bytes"));
        assert!(!looks_like_message(&buf));
        assert!(looks_like_message(&buf[..buf.len() - 3]));
    }
}
