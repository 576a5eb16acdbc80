//! Encoding of the custom-JSON types (`crate::special`), by the inverse of
//! the decoder's rules (FORMATS.md §6.4, `custom-json.md`). The messages'
//! protobuf writers are gogo-generated (all value fields always written)
//! except Time/MicroTime (`time_proto.go`) and Quantity (`quantity_proto.go`),
//! whose hand-written marshallers are mirrored here.

use serde_json::Value;

use super::timefmt::{parse_go_duration, parse_rfc3339};
use super::{put_bytes, put_varint_field, EncodeError, State};
use crate::special::Special;

/// Go's zero time (0001-01-01T00:00:00Z) as Unix seconds.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

impl State<'_> {
    /// Encode a special message from its JSON value (`None`/null = Go's zero
    /// value of the type).
    pub(super) fn special(&mut self, sp: Special, v: Option<&Value>, depth: u32) -> Result<Vec<u8>, EncodeError> {
        let v = v.filter(|v| !v.is_null());
        let mut out = Vec::new();
        match sp {
            Special::None => {}
            Special::Time | Special::MicroTime => {
                let Some(v) = v else { return Ok(out) };
                let Some((secs, nanos)) = v.as_str().and_then(parse_rfc3339) else {
                    return Err(self.invalid("an RFC 3339 time", v));
                };
                // The zero time is written as an empty message (`Time.Marshal`
                // returns nothing for `IsZero`).
                if secs == GO_ZERO_UNIX && nanos == 0 {
                    return Ok(out);
                }
                // Timestamp is gogo-generated: seconds and nanos always
                // written. Time writes seconds only (`ProtoTime` leaves nanos
                // 0). MicroTime writes nanos; newer servers truncate them to
                // microseconds, and the JSON carries no more anyway (a real
                // 1.24 cluster stored full nanoseconds in Lease times: those
                // sub-microsecond digits cannot be restored from the JSON).
                let nanos = if sp == Special::MicroTime { nanos / 1000 * 1000 } else { 0 };
                put_varint_field(&mut out, 1, secs as u64);
                put_varint_field(&mut out, 2, u64::from(nanos));
            }
            Special::Duration => {
                let d = match v {
                    None => 0,
                    Some(v) => match v.as_str().and_then(parse_go_duration) {
                        Some(d) => d,
                        None => return Err(self.invalid("a Go duration string", v)),
                    },
                };
                put_varint_field(&mut out, 1, d as u64);
            }
            Special::Quantity => {
                // `Quantity.MarshalTo` always writes field 1 with `String()`,
                // which is "0" for the zero value. Go also unmarshals bare
                // JSON numbers into a Quantity.
                let s = match v {
                    None => "0".to_string(),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(other) => return Err(self.invalid("a quantity string", other)),
                };
                put_bytes(&mut out, 1, s.as_bytes());
            }
            Special::IntOrString => {
                // gogo writes all three fields whatever the type.
                let (ty, int_val, str_val) = match v {
                    None => (0, 0, ""),
                    Some(Value::String(s)) => (1, 0, s.as_str()),
                    Some(n @ Value::Number(_)) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
                        Some(i) => (0, i, ""),
                        None => return Err(self.invalid("an int32 or a string", n)),
                    },
                    Some(other) => return Err(self.invalid("an int32 or a string", other)),
                };
                put_varint_field(&mut out, 1, ty);
                put_varint_field(&mut out, 2, i64::from(int_val) as u64);
                put_bytes(&mut out, 3, str_val.as_bytes());
            }
            Special::RawExtension | Special::FieldsV1 | Special::ApiextJson => {
                // `Raw` is written only when non-nil; JSON null means nil.
                if let Some(v) = v {
                    let raw = self.raw_json(v)?;
                    put_bytes(&mut out, 1, &raw);
                }
            }
            Special::RuntimeUnknown => {
                // Never a field type (only the envelope); mirrored for
                // completeness: typeMeta, raw, contentEncoding, contentType.
                let mut tm = Vec::new();
                let s = |k: &str| v.and_then(|v| v.get(k)).and_then(Value::as_str).unwrap_or_default();
                put_bytes(&mut tm, 1, s("apiVersion").as_bytes());
                put_bytes(&mut tm, 2, s("kind").as_bytes());
                put_bytes(&mut out, 1, &tm);
                if let Some(v) = v {
                    let raw = self.raw_json(v)?;
                    put_bytes(&mut out, 2, &raw);
                }
                put_bytes(&mut out, 3, b"");
                put_bytes(&mut out, 4, b"");
            }
            Special::OrBool { schema } => {
                // `UnmarshalJSON`: an object sets Allows = true and Schema.
                let (allows, sch) = match v {
                    None => (false, None),
                    Some(Value::Bool(b)) => (*b, None),
                    Some(o @ Value::Object(_)) => (true, Some(o)),
                    Some(other) => return Err(self.invalid("a boolean or a schema object", other)),
                };
                put_varint_field(&mut out, 1, u64::from(allows));
                if let Some(o) = sch {
                    let b = self.message(schema, Some(o), depth + 1)?;
                    put_bytes(&mut out, 2, &b);
                }
            }
            Special::OrArray { schema } => match v {
                None => {}
                Some(o @ Value::Object(_)) => {
                    let b = self.message(schema, Some(o), depth + 1)?;
                    put_bytes(&mut out, 1, &b);
                }
                Some(Value::Array(a)) => {
                    for (i, item) in a.iter().enumerate() {
                        self.path.push(super::Seg::Index(i));
                        let b = self.message(schema, Some(item), depth + 1);
                        self.path.pop();
                        put_bytes(&mut out, 2, &b?);
                    }
                }
                Some(other) => return Err(self.invalid("a schema object or an array of them", other)),
            },
            Special::OrStringArray { schema } => match v {
                None => {}
                Some(o @ Value::Object(_)) => {
                    let b = self.message(schema, Some(o), depth + 1)?;
                    put_bytes(&mut out, 1, &b);
                }
                Some(Value::Array(a)) => self.strings(a, 2, &mut out)?,
                Some(other) => return Err(self.invalid("a schema object or an array of strings", other)),
            },
            Special::Nullable => match v {
                None => {}
                Some(Value::Array(a)) => self.strings(a, 1, &mut out)?,
                Some(other) => return Err(self.invalid("an array of strings", other)),
            },
        }
        Ok(out)
    }

    fn strings(&mut self, a: &[Value], num: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for (i, s) in a.iter().enumerate() {
            match s {
                Value::String(s) => put_bytes(out, num, s.as_bytes()),
                other => {
                    self.path.push(super::Seg::Index(i));
                    let e = self.invalid("a string", other);
                    self.path.pop();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The bytes of a raw-JSON carrier: compact JSON with Go's escaping, as
    /// encoding/json writes it (key order as in the value).
    fn raw_json(&self, v: &Value) -> Result<Vec<u8>, EncodeError> {
        // serde_json's serialiser recurses; bound the nesting first.
        if json_depth(v) > 512 {
            return Err(EncodeError::TooDeep { limit: 512, path: self.path_string() });
        }
        Ok(crate::to_go_json(v).into_bytes())
    }
}

/// Nesting depth of a JSON value, computed without recursion.
fn json_depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}
