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

/// Read a varint at `*pos`.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let start = *pos;
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos) else {
            return Err(WireError { offset: start, reason: "truncated varint" });
        };
        *pos += 1;
        if i == 9 && b > 1 {
            return Err(WireError { offset: start, reason: "varint overflows 64 bits" });
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(WireError { offset: start, reason: "varint longer than 10 bytes" })
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
