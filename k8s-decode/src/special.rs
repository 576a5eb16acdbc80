//! Types whose JSON is custom (a `MarshalJSON` method in Go) or whose protobuf
//! shape is not the image of their Go fields. This is the ONE place where
//! such behaviour is hand-written; everything else comes from the generated
//! schema. Sources: `shared/data/k8s-api-fields/custom-json.md`, FORMATS.md §6.4.

use serde_json::{Map, Value};

use crate::error::{DecodeError, WarningKind};
use crate::render::{utf8_lossy, Renderer};
use crate::schema::Field;
use crate::wire::{Fields, WireValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// Ordinary message: rendered from the schema.
    None,
    /// meta/v1 Time: `{seconds=1, nanos=2}`; JSON is RFC 3339 UTC with whole
    /// seconds (`Time.MarshalJSON`), `null` when zero; nanos are ignored on read.
    Time,
    /// meta/v1 MicroTime: same message, JSON with exactly 6 fractional digits.
    MicroTime,
    /// meta/v1 Duration: `{duration=1}` nanoseconds; JSON is Go's `time.Duration.String()`.
    Duration,
    /// resource.Quantity (`+protobuf.embed=string`): `{string=1}`; JSON is the
    /// stored (canonical) string verbatim, `"0"` for the zero value.
    Quantity,
    /// intstr.IntOrString: `{type=1, intVal=2, strVal=3}`; JSON is a bare
    /// number (type 0) or a string (type 1).
    IntOrString,
    /// runtime.RawExtension `{raw=1}`: raw JSON verbatim (CBOR transcoded),
    /// `null` when nil.
    RawExtension,
    /// runtime.Unknown: `raw` (field 2) as JSON, like RawExtension.
    RuntimeUnknown,
    /// meta/v1 FieldsV1 `{Raw=1}`: raw JSON verbatim (CBOR transcoded), `null` when empty.
    FieldsV1,
    /// apiextensions JSON `{raw=1}`: raw JSON verbatim, `null` when empty.
    ApiextJson,
    /// JSONSchemaPropsOrBool `{allows=1, schema=2}`: the schema if set, else the bool.
    OrBool { schema: u32 },
    /// JSONSchemaPropsOrArray `{schema=1, jSONSchemas=2}`: array if non-empty, else schema or null.
    OrArray { schema: u32 },
    /// JSONSchemaPropsOrStringArray `{schema=1, property=2}`: strings if non-empty, else schema or null.
    OrStringArray { schema: u32 },
    /// `+protobuf.nullable=true` slice alias (ExtraValue, Verbs, …): wrapper
    /// message `{repeated string items = 1}` that renders as a plain array
    /// (`null` when there are no items, as Go's nil slice).
    Nullable,
}

/// Assign the special rendering of a message, by its proto name (and the
/// generated `nullable` flag). Called once per message at schema load.
pub(crate) fn classify(
    name: &str,
    nullable: bool,
    _fields: &[Field],
    lookup: &dyn Fn(&str) -> Result<u32, String>,
) -> Result<Special, String> {
    const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.";
    const APIEXT: [&str; 2] = [
        "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.",
        "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.",
    ];
    if nullable {
        return Ok(Special::Nullable);
    }
    if let Some(t) = name.strip_prefix(META) {
        return Ok(match t {
            "Time" => Special::Time,
            "MicroTime" => Special::MicroTime,
            "Duration" => Special::Duration,
            "FieldsV1" => Special::FieldsV1,
            _ => Special::None,
        });
    }
    match name {
        // QuantityValue has the same protobuf shape and JSON as Quantity.
        "k8s.io.apimachinery.pkg.api.resource.Quantity" | "k8s.io.apimachinery.pkg.api.resource.QuantityValue" => {
            return Ok(Special::Quantity)
        }
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => return Ok(Special::IntOrString),
        "k8s.io.apimachinery.pkg.runtime.RawExtension" => return Ok(Special::RawExtension),
        "k8s.io.apimachinery.pkg.runtime.Unknown" => return Ok(Special::RuntimeUnknown),
        _ => {}
    }
    for pkg in APIEXT {
        if let Some(t) = name.strip_prefix(pkg) {
            let schema = || lookup(&format!("{pkg}JSONSchemaProps"));
            return Ok(match t {
                "JSON" => Special::ApiextJson,
                "JSONSchemaPropsOrBool" => Special::OrBool { schema: schema()? },
                "JSONSchemaPropsOrArray" => Special::OrArray { schema: schema()? },
                "JSONSchemaPropsOrStringArray" => Special::OrStringArray { schema: schema()? },
                _ => Special::None,
            });
        }
    }
    Ok(Special::None)
}

/// Fields of a special message: last occurrence of each of numbers 1..=3 plus
/// the repeated field 2 collected.
struct Parts<'a> {
    single: [Option<WireValue<'a>>; 4],
    repeated2: Vec<&'a [u8]>,
    unknown: Vec<u32>,
}

impl<'a> Renderer<'a> {
    fn parts(&self, buf: &'a [u8]) -> Result<Parts<'a>, DecodeError> {
        let mut p = Parts { single: [None; 4], repeated2: Vec::new(), unknown: Vec::new() };
        for f in Fields::new(buf) {
            let f = f.map_err(|e| self.wire_err(buf, e))?;
            match f.number {
                n @ 1..=3 => {
                    p.single[n as usize] = Some(f.value);
                    if let (2, WireValue::Bytes(b)) = (n, f.value) {
                        p.repeated2.push(b);
                    }
                }
                n => p.unknown.push(n),
            }
        }
        Ok(p)
    }

    pub(crate) fn special(
        &mut self,
        msg: u32,
        special: Special,
        buf: &'a [u8],
        depth: u32,
    ) -> Result<Value, DecodeError> {
        let p = self.parts(buf)?;
        for n in &p.unknown {
            self.warn(
                Some(msg),
                Some(*n),
                WarningKind::UnknownField,
                format!("unknown field {n} in a custom-JSON type; not shown"),
            );
        }
        let varint = |i: usize| match p.single[i] {
            Some(WireValue::Varint(v)) => v,
            _ => 0,
        };
        let bytes = |i: usize| match p.single[i] {
            Some(WireValue::Bytes(b)) => Some(b),
            _ => None,
        };
        Ok(match special {
            Special::None => unreachable!("special() called for an ordinary message"),
            Special::Time | Special::MicroTime => {
                // An empty message is the zero time (→ null). Go's zero time
                // is also reached from seconds = -62135596800, nanos = 0.
                if buf.is_empty() {
                    return Ok(Value::Null);
                }
                let secs = varint(1) as i64;
                let nanos = if special == Special::MicroTime { varint(2) as i64 as i32 } else { 0 };
                match format_time(secs, nanos, special == Special::MicroTime) {
                    TimeText::Zero => Value::Null,
                    TimeText::Text(s) => Value::String(s),
                    TimeText::OutOfRange(s) => {
                        self.warn(
                            Some(msg),
                            None,
                            WarningKind::InvalidValue,
                            "year outside [0,9999]: the API server cannot render this time".into(),
                        );
                        Value::String(s)
                    }
                }
            }
            Special::Duration => Value::String(go_duration(varint(1) as i64)),
            Special::Quantity => match bytes(1) {
                Some(b) if !b.is_empty() => Value::String(utf8_lossy(b)),
                _ => Value::String("0".into()),
            },
            Special::IntOrString => match varint(1) {
                0 => Value::from(i64::from(varint(2) as u32 as i32)),
                1 => Value::String(utf8_lossy(bytes(3).unwrap_or_default())),
                t => {
                    self.warn(
                        Some(msg),
                        Some(1),
                        WarningKind::InvalidValue,
                        format!("IntOrString type {t} is neither 0 (int) nor 1 (string)"),
                    );
                    Value::Null
                }
            },
            Special::RawExtension => self.raw_json(msg, bytes(1), RawKind::RawExtension),
            Special::RuntimeUnknown => self.raw_json(msg, bytes(2), RawKind::RawExtension),
            Special::FieldsV1 => self.raw_json(msg, bytes(1), RawKind::FieldsV1),
            Special::ApiextJson => self.raw_json(msg, bytes(1), RawKind::ApiextJson),
            Special::OrBool { schema } => match bytes(2) {
                Some(b) => self.message(schema, b, depth + 1)?,
                None => Value::Bool(varint(1) != 0),
            },
            Special::OrArray { schema } => {
                if !p.repeated2.is_empty() {
                    let mut arr = Vec::with_capacity(p.repeated2.len());
                    for b in &p.repeated2 {
                        arr.push(self.message(schema, b, depth + 1)?);
                    }
                    Value::Array(arr)
                } else if let Some(b) = bytes(1) {
                    self.message(schema, b, depth + 1)?
                } else {
                    Value::Null
                }
            }
            Special::OrStringArray { schema } => {
                if !p.repeated2.is_empty() {
                    Value::Array(p.repeated2.iter().map(|b| Value::String(utf8_lossy(b))).collect())
                } else if let Some(b) = bytes(1) {
                    self.message(schema, b, depth + 1)?
                } else {
                    Value::Null
                }
            }
            Special::Nullable => {
                let mut items = Vec::new();
                for f in Fields::new(buf) {
                    let f = f.map_err(|e| self.wire_err(buf, e))?;
                    if let (1, WireValue::Bytes(b)) = (f.number, f.value) {
                        items.push(Value::String(utf8_lossy(b)));
                    }
                }
                if items.is_empty() {
                    Value::Null
                } else {
                    Value::Array(items)
                }
            }
        })
    }

    /// Raw JSON carriers: the bytes are JSON text emitted verbatim (key order
    /// kept), or CBOR transcoded to JSON.
    fn raw_json(&mut self, msg: u32, raw: Option<&[u8]>, kind: RawKind) -> Value {
        let Some(raw) = raw else { return Value::Null };
        let trimmed = raw.trim_ascii_start();
        if trimmed.is_empty() {
            if kind == RawKind::RawExtension && !raw.is_empty() {
                self.warn(Some(msg), None, WarningKind::InvalidValue, "raw value is only whitespace".into());
            }
            return Value::Null;
        }
        let is_cbor = match kind {
            RawKind::RawExtension => raw.starts_with(&crate::cbor::SELF_DESCRIBE),
            // FieldsV1: a CBOR map/tag head or CBOR null (custom-json.md).
            RawKind::FieldsV1 => matches!(raw[0], 0xf6 | 0xa0..=0xbf | 0xc0..=0xdb),
            RawKind::ApiextJson => false,
        };
        if is_cbor {
            return match crate::cbor::to_json(raw) {
                Ok(v) => v,
                Err(e) => {
                    self.warn(Some(msg), None, WarningKind::InvalidValue, format!("raw CBOR does not decode: {e}"));
                    let mut m = Map::new();
                    m.insert("base64".into(), Value::String(crate::base64::encode(raw)));
                    Value::Object(m)
                }
            };
        }
        match serde_json::from_slice::<Value>(raw) {
            Ok(v) => v,
            Err(e) => {
                self.warn(
                    Some(msg),
                    None,
                    WarningKind::InvalidValue,
                    format!("raw bytes are not valid JSON ({e}); shown as a base64 object"),
                );
                let mut m = Map::new();
                m.insert("base64".into(), Value::String(crate::base64::encode(raw)));
                Value::Object(m)
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RawKind {
    RawExtension,
    FieldsV1,
    ApiextJson,
}

enum TimeText {
    Zero,
    Text(String),
    OutOfRange(String),
}

/// Seconds between 0001-01-01 and 1970-01-01 (Go's zero time as Unix seconds).
const GO_ZERO_UNIX: i64 = -62_135_596_800;

fn format_time(secs: i64, nanos: i32, micro: bool) -> TimeText {
    // Normalise nanos like time.Unix does.
    let mut secs = secs as i128;
    let mut nanos = nanos as i128;
    secs += nanos.div_euclid(1_000_000_000);
    nanos = nanos.rem_euclid(1_000_000_000);
    if secs == GO_ZERO_UNIX as i128 && nanos == 0 {
        return TimeText::Zero;
    }
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let in_range = (0..=9999).contains(&y);
    if !in_range {
        let mut s = format!("{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
        if micro {
            s.push_str(&format!(".{:06}", nanos / 1000));
        }
        s.push('Z');
        return TimeText::OutOfRange(s);
    }
    // Hot path (every object has timestamps): fixed-width digits by hand.
    let mut b = [0u8; 27];
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, y as u32, 4);
    put(5, m, 2);
    put(8, d, 2);
    put(11, hh as u32, 2);
    put(14, mm as u32, 2);
    put(17, ss as u32, 2);
    let len = if micro {
        put(20, (nanos / 1000) as u32, 6);
        b[19] = b'.';
        27
    } else {
        20
    };
    b[4] = b'-';
    b[7] = b'-';
    b[10] = b'T';
    b[13] = b':';
    b[16] = b':';
    b[len - 1] = b'Z';
    TimeText::Text(String::from_utf8(b[..len].to_vec()).expect("ASCII"))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i128) -> (i128, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Go's `time.Duration.String()`, byte for byte.
pub(crate) fn go_duration(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    // Built backwards, like Go does.
    let mut buf: Vec<u8> = Vec::with_capacity(32);
    let frac = |buf: &mut Vec<u8>, v: u64, prec: usize| -> u64 {
        let mut v = v;
        let mut print = false;
        for _ in 0..prec {
            let digit = (v % 10) as u8;
            print = print || digit != 0;
            if print {
                buf.push(b'0' + digit);
            }
            v /= 10;
        }
        if print {
            buf.push(b'.');
        }
        v
    };
    let int = |buf: &mut Vec<u8>, v: u64| {
        if v == 0 {
            buf.push(b'0');
        } else {
            let mut v = v;
            while v > 0 {
                buf.push(b'0' + (v % 10) as u8);
                v /= 10;
            }
        }
    };
    if u < 1_000_000_000 {
        buf.push(b's');
        let prec;
        if u == 0 {
            return "0s".into();
        } else if u < 1_000 {
            prec = 0;
            buf.push(b'n');
        } else if u < 1_000_000 {
            prec = 3;
            // "µ" (U+00B5) reversed: 0xB5 then 0xC2.
            buf.push(0xb5);
            buf.push(0xc2);
        } else {
            prec = 6;
            buf.push(b'm');
        }
        u = frac(&mut buf, u, prec);
        int(&mut buf, u);
    } else {
        buf.push(b's');
        u = frac(&mut buf, u, 9);
        int(&mut buf, u % 60);
        u /= 60;
        if u > 0 {
            buf.push(b'm');
            int(&mut buf, u % 60);
            u /= 60;
            if u > 0 {
                buf.push(b'h');
                int(&mut buf, u);
            }
        }
    }
    if neg {
        buf.push(b'-');
    }
    buf.reverse();
    String::from_utf8(buf).expect("ASCII and µ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (300_000_000, "300ms"),
            (1_500_000_000, "1.5s"),
            (3_600_000_000_000, "1h0m0s"),
            (300_000_000_000, "5m0s"),
            (-90_000_000_000, "-1m30s"),
            (123_500_000_000, "2m3.5s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (i64::MAX, "2562047h47m16.854775807s"),
        ];
        for (d, s) in cases {
            assert_eq!(go_duration(d), s, "{d}");
        }
    }

    #[test]
    fn times() {
        let t = |s, n, m| match format_time(s, n, m) {
            TimeText::Text(t) => t,
            TimeText::Zero => "zero".into(),
            TimeText::OutOfRange(t) => format!("oor {t}"),
        };
        assert_eq!(t(0, 0, false), "1970-01-01T00:00:00Z");
        assert_eq!(t(1491909641, 50188323, false), "2017-04-11T11:20:41Z");
        assert_eq!(t(1491909641, 50188323, true), "2017-04-11T11:20:41.050188Z");
        assert_eq!(t(GO_ZERO_UNIX, 0, false), "zero");
        assert_eq!(t(951782400, 0, false), "2000-02-29T00:00:00Z");
        assert_eq!(t(-1, 0, false), "1969-12-31T23:59:59Z");
    }
}
