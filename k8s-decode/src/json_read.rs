//! Parsing a JSON-stored object (custom resources, mostly) into a `Value`, leaving out what
//! [`LeaveOut`] names without building it: `status`, `metadata.managedFields` and the
//! last-applied annotation are often most of such an object's bytes, and most of its nodes.
//! What is left out is still parsed (skipped as [`IgnoredAny`]), so a syntax error anywhere
//! is reported as it would be otherwise.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::clean::LAST_APPLIED;
use crate::decode::LeaveOut;

/// `serde_json::from_slice::<Value>`, without the parts `leave_out` names.
pub(crate) fn parse(value: &[u8], leave_out: LeaveOut) -> serde_json::Result<Value> {
    if !(leave_out.status || leave_out.managed_fields || leave_out.last_applied) {
        return serde_json::from_slice(value);
    }
    let mut de = serde_json::Deserializer::from_slice(value);
    let v = Level::Top(leave_out).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Where in the object a map is, which decides what of it is left out.
#[derive(Clone, Copy)]
pub(crate) enum Level {
    Top(LeaveOut),
    Metadata(LeaveOut),
    Annotations,
}

impl Level {
    /// The level below `key` of a map at this level, or `None` where the value is parsed as
    /// usual; `Err(())`: left out.
    pub(crate) fn below(self, key: &str) -> Result<Option<Level>, ()> {
        match self {
            Level::Top(l) if key == "status" && l.status => Err(()),
            Level::Top(l) if key == "metadata" => Ok(Some(Level::Metadata(l))),
            Level::Metadata(l) if key == "managedFields" && l.managed_fields => Err(()),
            Level::Metadata(l) if key == "annotations" && l.last_applied => Ok(Some(Level::Annotations)),
            Level::Annotations if key == LAST_APPLIED => Err(()),
            _ => Ok(None),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Level {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Builds what `Value`'s own visitor builds; only maps differ.
impl<'de> Visitor<'de> for Level {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match self.below(&key) {
                Err(()) => {
                    map.next_value::<IgnoredAny>()?;
                    // A key given twice keeps its last value, as `Value` does: a left-out
                    // one removes what came before.
                    out.shift_remove(&key);
                    continue;
                }
                Ok(Some(level)) => map.next_value_seed(level)?,
                Ok(None) => map.next_value::<Value>()?,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: LeaveOut = LeaveOut {
        status: true,
        managed_fields: true,
        last_applied: true,
        all_but_metadata: false,
        assigned_metadata: false,
    };

    /// What is left out is what the cleaning removes from the whole parse; nothing else
    /// changes, key order included.
    #[test]
    fn leaves_out_status_managed_fields_and_last_applied() {
        let text = r#"{"apiVersion":"x/v1","kind":"K","metadata":{"annotations":{"a":"1",
            "kubectl.kubernetes.io/last-applied-configuration":"{}","b":"2"},"managedFields":[{"f":{}}],
            "name":"n"},"spec":{"status":1,"managedFields":2,"x":[1.5,-2,null,true]},"status":{"s":1}}"#;
        let mut whole: Value = serde_json::from_str(text).unwrap();
        let got = parse(text.as_bytes(), ALL).unwrap();
        let o = whole.as_object_mut().unwrap();
        o.shift_remove("status");
        let m = o["metadata"].as_object_mut().unwrap();
        m.shift_remove("managedFields");
        m["annotations"].as_object_mut().unwrap().shift_remove(LAST_APPLIED);
        assert_eq!(got, whole);
        assert_eq!(serde_json::to_string(&got).unwrap(), serde_json::to_string(&whole).unwrap());
    }

    /// Only the flags set leave anything out.
    #[test]
    fn keeps_what_is_not_asked_for() {
        let text = br#"{"metadata":{"managedFields":[],"annotations":{"kubectl.kubernetes.io/last-applied-configuration":""}},"status":{}}"#;
        let whole: Value = serde_json::from_slice(text).unwrap();
        assert_eq!(
            parse(text, LeaveOut { status: true, ..Default::default() }).unwrap()["metadata"],
            whole["metadata"]
        );
        let no_status = parse(text, LeaveOut { managed_fields: true, ..Default::default() }).unwrap();
        assert_eq!(no_status["status"], whole["status"]);
        assert!(no_status["metadata"].get("managedFields").is_none());
    }

    /// Syntax errors in what is left out are found, at the same place.
    #[test]
    fn errors_in_what_is_left_out_are_reported() {
        let text = br#"{"metadata":{"managedFields":[{]}}"#;
        let whole = serde_json::from_slice::<Value>(text).unwrap_err();
        let got = parse(text, ALL).unwrap_err();
        assert_eq!((got.line(), got.column()), (whole.line(), whole.column()));
        assert!(parse(br#"{"status":{}} x"#, ALL).is_err());
    }

    /// A key given twice: the last one counts, also when it is left out.
    #[test]
    fn repeated_keys_keep_the_last() {
        let text = br#"{"metadata":{"name":"a","name":"b"},"status":1,"status":2}"#;
        let got = parse(text, ALL).unwrap();
        assert_eq!(got, serde_json::json!({"metadata": {"name": "b"}}));
    }
}
