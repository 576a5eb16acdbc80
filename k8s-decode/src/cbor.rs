//! A small CBOR (RFC 8949) reader that transcodes to JSON, for CBOR-stored
//! custom resources and CBOR inside RawExtension/FieldsV1.
//!
//! Kubernetes decodes CBOR into unstructured Go maps, which encoding/json
//! writes with sorted keys, so map keys are sorted here too. Byte strings
//! become JSON strings (Kubernetes encodes Go strings as CBOR byte strings).
//! Bounded: nesting depth is limited and no allocation is sized from a length
//! prefix beyond what the remaining input can hold.

use std::collections::BTreeMap;

use serde_json::Value;

/// The self-describe tag 55799 as it appears at the start of a value.
pub const SELF_DESCRIBE: [u8; 3] = [0xd9, 0xd9, 0xf7];

const MAX_DEPTH: u32 = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {offset}")]
pub struct CborError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Decode exactly one CBOR data item filling `buf` into JSON.
pub fn to_json(buf: &[u8]) -> Result<Value, CborError> {
    let mut r = Reader { buf, pos: 0 };
    let v = r.item(0)?;
    if r.pos != buf.len() {
        return Err(CborError { offset: r.pos, reason: "trailing bytes after CBOR item" });
    }
    Ok(v)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

enum Head {
    Len(u64),
    Indefinite,
}

impl Reader<'_> {
    fn err(&self, reason: &'static str) -> CborError {
        CborError { offset: self.pos, reason }
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.err("truncated CBOR"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&[u8], CborError> {
        let remaining = (self.buf.len() - self.pos) as u64;
        if n > remaining {
            return Err(self.err("CBOR length exceeds remaining bytes"));
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn argument(&mut self, info: u8) -> Result<Head, CborError> {
        Ok(Head::Len(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().expect("2"))),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().expect("4"))),
            27 => u64::from_be_bytes(self.take(8)?.try_into().expect("8")),
            31 => return Ok(Head::Indefinite),
            _ => return Err(self.err("reserved CBOR additional info")),
        }))
    }

    fn string_bytes(&mut self, major: u8, head: Head) -> Result<Vec<u8>, CborError> {
        match head {
            Head::Len(n) => Ok(self.take(n)?.to_vec()),
            Head::Indefinite => {
                let mut out = Vec::new();
                loop {
                    let b = self.byte()?;
                    if b == 0xff {
                        return Ok(out);
                    }
                    if b >> 5 != major || b & 31 == 31 {
                        return Err(self.err("bad chunk in indefinite-length string"));
                    }
                    let h = self.argument(b & 31)?;
                    out.extend(self.string_bytes(major, h)?);
                }
            }
        }
    }

    fn item(&mut self, depth: u32) -> Result<Value, CborError> {
        if depth > MAX_DEPTH {
            return Err(self.err("CBOR nesting too deep"));
        }
        let ib = self.byte()?;
        let (major, info) = (ib >> 5, ib & 31);
        if major == 7 {
            return self.simple(info);
        }
        let head = self.argument(info)?;
        match major {
            0 => match head {
                Head::Len(n) => Ok(Value::from(n)),
                Head::Indefinite => Err(self.err("indefinite integer")),
            },
            1 => match head {
                Head::Len(n) => Ok(if n <= i64::MAX as u64 {
                    Value::from(-1 - n as i64)
                } else {
                    serde_json::Number::from_f64(-1.0 - n as f64).map_or(Value::Null, Value::Number)
                }),
                Head::Indefinite => Err(self.err("indefinite integer")),
            },
            2 | 3 => {
                let b = self.string_bytes(major, head)?;
                Ok(Value::String(String::from_utf8_lossy(&b).into_owned()))
            }
            4 => {
                let mut arr = Vec::new();
                match head {
                    Head::Len(n) => {
                        let cap = n.min((self.buf.len() - self.pos) as u64) as usize;
                        arr.reserve(cap);
                        for _ in 0..n {
                            arr.push(self.item(depth + 1)?);
                        }
                    }
                    Head::Indefinite => loop {
                        if self.buf.get(self.pos) == Some(&0xff) {
                            self.pos += 1;
                            break;
                        }
                        arr.push(self.item(depth + 1)?);
                    },
                }
                Ok(Value::Array(arr))
            }
            5 => {
                let mut m = BTreeMap::new();
                let mut entry = |r: &mut Self| -> Result<(), CborError> {
                    // Keys are strings, as in the API server's unstructured objects
                    // (`map[string]interface{}`) and in JSON. Another key cannot come from
                    // the API server; written as its JSON text, a map key nested in map
                    // keys would double its escapes at every level (a few hundred bytes
                    // of input, gigabytes of key).
                    let at = r.pos;
                    let Value::String(k) = r.item(depth + 1)? else {
                        return Err(CborError { offset: at, reason: "map key is not a string" });
                    };
                    let v = r.item(depth + 1)?;
                    m.insert(k, v);
                    Ok(())
                };
                match head {
                    Head::Len(n) => {
                        for _ in 0..n {
                            entry(self)?;
                        }
                    }
                    Head::Indefinite => loop {
                        if self.buf.get(self.pos) == Some(&0xff) {
                            self.pos += 1;
                            break;
                        }
                        entry(self)?;
                    },
                }
                Ok(Value::Object(m.into_iter().collect()))
            }
            // Tags (self-describe 55799 and others): the content is rendered.
            6 => self.item(depth + 1),
            _ => unreachable!("major type is 3 bits"),
        }
    }

    fn simple(&mut self, info: u8) -> Result<Value, CborError> {
        let float = |f: f64| {
            serde_json::Number::from_f64(f)
                .map(|n| crate::render::float_value(f).unwrap_or(Value::Number(n)))
                .unwrap_or(Value::Null)
        };
        Ok(match info {
            20 => Value::Bool(false),
            21 => Value::Bool(true),
            22 | 23 => Value::Null,
            24 => {
                self.byte()?;
                Value::Null
            }
            25 => {
                let h = u16::from_be_bytes(self.take(2)?.try_into().expect("2"));
                float(half_to_f64(h))
            }
            26 => float(f64::from(f32::from_be_bytes(self.take(4)?.try_into().expect("4")))),
            27 => float(f64::from_be_bytes(self.take(8)?.try_into().expect("8"))),
            31 => return Err(self.err("unexpected CBOR break")),
            0..=19 => Value::Null,
            _ => return Err(self.err("reserved CBOR simple value")),
        })
    }
}

fn half_to_f64(h: u16) -> f64 {
    let exp = (h >> 10) & 0x1f;
    let mant = f64::from(h & 0x3ff);
    let v = match exp {
        0 => mant * 2f64.powi(-24),
        31 => {
            if mant == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        e => (mant + 1024.0) * 2f64.powi(i32::from(e) - 25),
    };
    if h & 0x8000 != 0 {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_basic_items() {
        // 55799({"b": [1, -2, true, null], "a": h'6869'})
        let buf = [0xd9, 0xd9, 0xf7, 0xa2, 0x61, b'b', 0x84, 0x01, 0x21, 0xf5, 0xf6, 0x41, b'a', 0x42, b'h', b'i'];
        let v = to_json(&buf).unwrap();
        assert_eq!(v.to_string(), r#"{"a":"hi","b":[1,-2,true,null]}"#);
        assert_eq!(to_json(&[0xf9, 0x3c, 0x00]).unwrap().to_string(), "1");
        assert_eq!(to_json(&[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).unwrap().to_string(), "1.5");
    }

    #[test]
    fn rejects_hostile_lengths() {
        assert!(to_json(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(to_json(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        let deep = vec![0x81u8; 10_000];
        assert!(to_json(&deep).is_err());
    }

    #[test]
    fn map_keys_must_be_strings() {
        // {1: "x"}
        assert_eq!(to_json(&[0xa1, 0x01, 0x61, b'x']), Err(CborError { offset: 1, reason: "map key is not a string" }));
        // Maps keyed by maps keyed by maps…: found by fuzzing, where stringified keys grew
        // exponentially (1 s for 210 bytes). Now an error at the first non-string key.
        let mut nested = vec![0xd9, 0xd9, 0xf7];
        nested.extend(std::iter::repeat_n(0xa1u8, 150));
        nested.extend([0x61, b'k', 0x61, b'v']);
        assert_eq!(to_json(&nested).unwrap_err().reason, "map key is not a string");
    }
}
