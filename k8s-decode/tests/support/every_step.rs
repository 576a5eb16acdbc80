//! One stored value through every step `extract` and `get` take with it, checking what
//! must hold whatever the bytes: no panic; the owner peek (when it answers), release
//! detection, the skips decided from the metadata and the two-step decode answer what the
//! full decode answers; both writers write
//! whatever decodes; the YAML written straight from the wire, when that path takes the value,
//! is the tree path's.
//!
//! Shared by `random_damage.rs` and the coverage-guided fuzz target `fuzz/decode`
//! (included there by path), so that what the fuzzer finds is replayed by `cargo test`.

use k8s_decode::clean::{clean, is_controlled, skip_reason, CleanOptions, SkipContext, SkipFacts};
use k8s_decode::encode::Encoder;
use k8s_decode::yaml::YamlError;
use k8s_decode::{detect_kube_version, DecodeOptions, Decoder, Encoding, JsonObject, LeaveOut};
use serde_json::Value;

/// What one value came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    /// The full decode succeeded.
    pub decoded: bool,
    /// ... and the cleaned object was written as YAML.
    pub rendered: bool,
    /// The YAML was also written straight from the wire.
    pub direct: bool,
}

/// Panics (with `context` in the message) where a property fails.
pub fn decode_every_way(decoder: &Decoder, value: &[u8], context: &str) -> Steps {
    let mut steps = Steps::default();
    let peeked = decoder.controlled(value);
    let _ = decoder.selector_owner(value);
    // What `get` does: everything, with the resourceVersion set from the revision.
    let plain = DecodeOptions { mod_revision: Some(5), ..Default::default() };
    let full = decoder.decode(value, &plain);
    if let Ok(d) = &full {
        // The peek may not know (`None`: a damaged value the decode tolerates), but what it
        // answers is the decode's answer: `extract` skips on it without decoding.
        if let (Some(peeked), Encoding::Protobuf) = (peeked, d.encoding) {
            assert_eq!(peeked, is_controlled(&d.object), "{context}: owner peek against the decode");
        }
    }
    // Release detection reads a protobuf value's kind from its envelope and leaves out what
    // it does not read: it answers what it answers for the decoded object itself, as JSON,
    // which it parses whole.
    if let Ok(d) = &full {
        if d.encoding == Encoding::Protobuf && d.warnings.is_empty() {
            let json = serde_json::to_vec(&d.object).expect("a decoded object serialises");
            assert_eq!(detect_kube_version([value]), detect_kube_version([&json[..]]), "{context}: release detection");
        }
    }
    // What `extract` does: the metadata first, then the rest, leaving out what cleaning drops.
    let leave_out = LeaveOut::dropped_by_cleaning();
    let cleaning = DecodeOptions { mod_revision: Some(5), leave_out, ..Default::default() };
    let one_step = decoder.decode(value, &cleaning);
    if let Ok(first) = decoder.decode_metadata(value, leave_out) {
        // Where the metadata (and what the bytes tell) settles the skips, the whole object
        // settles them the same way.
        if let (false, Ok(whole)) = (decoder.skip_needs_content(first.object(), value), &one_step) {
            let context_of = SkipContext { internal: false, service_has_selector: None };
            assert_eq!(
                skip_reason(first.object(), &context_of),
                skip_reason(&whole.object, &context_of),
                "{context}: skips from the metadata against the whole object"
            );
        }
        // What `extract` reads of the metadata from the bytes for the skips, where it can:
        // the skips answer on it what they answer on the decoded metadata.
        if let Some(for_skips) = decoder.peek_for_skips(value) {
            // `extract` takes the owner flag from the same walk where it answers.
            assert_eq!(Some(for_skips.controlled()), decoder.controlled(value), "{context}: owner flag of the peek");
            let has_selector = |ns: &str, name: &str| (ns.len() + name.len()).is_multiple_of(2);
            let context_of = SkipContext { internal: false, service_has_selector: Some(&has_selector) };
            assert_eq!(
                skip_reason(&for_skips, &context_of),
                skip_reason(first.object(), &context_of),
                "{context}: skips from the bytes against the decoded metadata"
            );
            assert_eq!(
                decoder.skip_needs_content(&for_skips, value),
                decoder.skip_needs_content(first.object(), value),
                "{context}: whether the skips need more than the metadata"
            );
            // The direct path after the peek is the direct path.
            assert_eq!(
                decoder.clean_yaml_direct_peeked(&for_skips, false),
                decoder.clean_yaml_direct(value, false),
                "{context}: the direct path after the peek"
            );
        }
        let two_steps = decoder.decode_rest(first, &cleaning);
        match (&two_steps, &one_step) {
            (Ok(a), Ok(b)) => assert_eq!(a.object, b.object, "{context}: two-step decode against one"),
            (Err(_), Err(_)) => {}
            _ => panic!("{context}: two-step decode {:?} but one step {:?}", two_steps.is_ok(), one_step.is_ok()),
        }
    }
    // `extract`'s YAML straight from the wire: where that path takes a value, it writes what
    // decoding, cleaning and writing the tree write.
    if let Ok(direct) = decoder.clean_yaml_direct(value, false) {
        let mut tree = match &one_step {
            Ok(d) => d.object.clone(),
            Err(e) => panic!("{context}: written straight from the wire, but the decode fails: {e}"),
        };
        clean(&mut tree, &CleanOptions::default());
        let tree = k8s_decode::yaml::to_yaml_string(&tree).unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(direct, tree, "{context}: YAML straight from the wire against the tree's");
        steps.direct = true;
    }
    // The same for a value stored as JSON, written from the tree borrowed from it; its
    // skips, decided on that tree, are the decoded object's.
    if let Some(json) = JsonObject::parse(value) {
        let whole = match &one_step {
            Ok(d) => &d.object,
            Err(e) => panic!("{context}: parsed as a JSON object, but the decode fails: {e}"),
        };
        assert_eq!(json.controlled(), whole.controlled(), "{context}: owner flag of the JSON tree");
        if !k8s_decode::clean::skip_needs_content(&json) {
            let context_of = SkipContext { internal: false, service_has_selector: None };
            assert_eq!(skip_reason(&json, &context_of), skip_reason(whole, &context_of), "{context}: JSON skips");
        }
        if let Ok(direct) = json.clean_yaml(false) {
            let mut tree = whole.clone();
            clean(&mut tree, &CleanOptions::default());
            let tree = k8s_decode::yaml::to_yaml_string(&tree).unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(direct, tree, "{context}: YAML from the JSON tree against the tree's");
            steps.direct = true;
        }
    }
    // What `encode` writes for a decoded object reads back as an object that `encode`
    // writes the same: one round may normalise (a present but empty `deletionTimestamp`
    // renders `null`, which encodes as absent, as in Go), the next changes nothing.
    if let Ok(d) = &full {
        if d.encoding == Encoding::Protobuf && d.warnings.is_empty() {
            let encoder = Encoder::new(decoder.version());
            let round = |object: &Value| {
                let bytes = encoder.encode_with(object, d.message).unwrap_or_else(|e| panic!("{context}: encode: {e}"));
                let again = decoder.decode(&bytes, &DecodeOptions::default());
                (bytes, again.unwrap_or_else(|e| panic!("{context}: decode of the encoding: {e}")).object)
            };
            let (first_bytes, first) = round(&d.object);
            let (second_bytes, second) = round(&first);
            assert_eq!(first, second, "{context}: a second encode and decode changes the object");
            assert_eq!(first_bytes, second_bytes, "{context}: a second encode changes the bytes");
        }
    }
    let Ok(mut d) = full else { return steps };
    steps.decoded = true;
    clean(&mut d.object, &CleanOptions::default());
    match k8s_decode::yaml::to_yaml_string(&d.object) {
        Ok(yaml) => {
            assert!(yaml.ends_with('\n'), "{context}: YAML ends with a newline");
            steps.rendered = true;
        }
        Err(YamlError::TooDeep { .. }) => {}
        Err(e) => panic!("{context}: {e}"),
    }
    // kubectl's key order only reorders: the text reads back as the same object.
    let json = k8s_decode::to_kubectl_json_pretty(&d.object);
    assert_eq!(serde_json::from_str::<Value>(&json).ok().as_ref(), Some(&d.object), "{context}: JSON reads back");
    steps
}
