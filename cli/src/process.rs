//! The work `extract` does for each selected object, on every core: decrypt, decide the
//! skips from the key and the metadata before decoding the rest, decode, filter by label,
//! clean, move namespaces, render.

use anyhow::{bail, Result};
use etcd_snapshot::KeyHistory;
use k8s_decode::clean::{
    clean, is_controlled, reads_managed_fields, skip_by_kind, skip_needs_content, skip_reason, CleanOptions, Skip,
    SkipContext, SkipFacts,
};
use k8s_decode::encryption::EncryptionKeys;
use k8s_decode::keys::{parse_key_ref, ObjectKeyRef};
use k8s_decode::namespace_map::NamespaceMap;
use k8s_decode::resources::{ResourceInfo, ResourceTable};
use k8s_decode::{DecodeError, DecodeOptions, Decoder, JsonObject, LeaveOut};
use serde_json::{json, Value};

use super::select::Selection;
use super::{storage_name, Format, DELETED_ANNOTATION};
use crate::render::{explain, kubectl_name, plaintext};

/// One object ready to write.
pub(super) struct Item {
    pub(super) resource: String,
    /// The namespace it was moved from by `--namespace-mapping`.
    pub(super) moved_from: Option<String>,
    /// The rendered file/document (for `--format json` on a stream: the List item, indented).
    pub(super) rendered: Vec<u8>,
}

pub(super) enum Outcome {
    Keep(Box<Item>),
    Skipped(Skip, String),
    Filtered,
    Undecodable(String, String),
    /// Writing the object's file failed: the run stops.
    Failed(anyhow::Error),
}

/// Everything the per-object work needs, shared by the worker threads.
pub(super) struct Processing<'a> {
    pub(super) decoder: &'a Decoder,
    /// `--encryption-config`'s keys, for values encrypted at rest.
    pub(super) keys: Option<&'a EncryptionKeys>,
    pub(super) table: &'a ResourceTable,
    pub(super) selection: &'a Selection,
    pub(super) prefix: &'a str,
    pub(super) cleaning: bool,
    pub(super) skipping: bool,
    pub(super) clean_options: &'a CleanOptions,
    pub(super) namespaces: &'a NamespaceMap,
    pub(super) has_selector: &'a (dyn Fn(&str, &str) -> bool + Sync),
    pub(super) format: Format,
    /// Render as an item of a streamed `v1/List`.
    pub(super) list_item: bool,
}

impl Processing<'_> {
    pub(super) fn process(&self, history: &KeyHistory<'_>) -> Outcome {
        // Only errors show the key: no copy of it for every object.
        let raw_key = || String::from_utf8_lossy(history.key).into_owned();
        // Candidates were parsed once already; parsing again is cheaper than keeping millions.
        let key = match parse_key_ref(history.key, self.prefix, self.table) {
            Ok(key) => key,
            Err(e) => return Outcome::Undecodable(raw_key(), e.to_string()),
        };
        let (record, deleted_at) = match (history.is_deleted(), history.last_put) {
            (true, Some(put)) => (put.record(), Some(history.last.revision_key.revision.main)),
            _ => (history.last.record(), None),
        };
        let record = match record {
            Ok(record) => record,
            Err(e) => return Outcome::Undecodable(raw_key(), e.to_string()),
        };
        let info = key.info;
        let resource = storage_name(&key);
        let named = || self.named(&key);
        // What the key alone decides was decided when the candidates were chosen
        // (`skip_by_key`): those never get here.
        let value = match plaintext(self.keys, record.kv.key, record.kv.value) {
            Ok(value) => value,
            Err(e) => return Outcome::Undecodable(raw_key(), e.to_string()),
        };
        let value = value.as_ref();
        // Whether the YAML may be written straight from the wire (`clean_yaml_direct`).
        let direct = self.cleaning && deleted_at.is_none() && self.format == Format::Yaml && self.namespaces.is_empty();
        // What the cleaning drops is not even decoded.
        let leave_out = if self.cleaning { LeaveOut::dropped_by_cleaning() } else { LeaveOut::default() };
        // The metadata decoded to decide the skips, reused by the full decode.
        let mut metadata_first = None;
        // Whether the label selector and the skips were decided from that metadata: the full
        // decode reuses it and adds nothing they read, so they would answer the same again.
        let mut decided = false;
        // Whether the direct path was asked already (it answers the same again).
        let mut direct_asked = false;
        // An object stored as JSON (custom resources, mostly) that the direct path may
        // write: its skips and its YAML come from a tree borrowed from the value, not from
        // serde_json's. Where that gives up, the tree path below decides, and parses again.
        if direct && self.selection.labels.is_none() {
            if let Some(json) = JsonObject::parse(value) {
                if self.skipping {
                    if json.controlled() {
                        return Outcome::Skipped(Skip::Owned, resource);
                    }
                    if !skip_needs_content(&json) {
                        if let Some(skip) = self.skip_reason(&json, info, named) {
                            return Outcome::Skipped(skip, resource);
                        }
                    }
                }
                if let Ok(yaml) = json.clean_yaml(self.clean_options.keep_owner_references) {
                    return Outcome::Keep(Box::new(Item { resource, moved_from: None, rendered: yaml.into_bytes() }));
                }
            }
        }
        if self.skipping {
            // An object the direct path below may write: its skips are decided on what the
            // bytes tell of its metadata, without building the metadata's tree. One walk of
            // the metadata tells that and whether it is owned.
            let peeked =
                (direct && self.selection.labels.is_none()).then(|| self.decoder.peek_for_skips(value)).flatten();
            // Owned objects are most of what is skipped; their owner references are read
            // from the bytes, without decoding even the metadata.
            let controlled = match &peeked {
                Some(peeked) => Some(peeked.controlled()),
                None => self.decoder.controlled(value),
            };
            if controlled == Some(true) {
                return Outcome::Skipped(Skip::Owned, resource);
            }
            if let Some(peeked) = &peeked {
                if !self.decoder.skip_needs_content(peeked, value) {
                    if let Some(skip) = self.skip_reason(peeked, info, named) {
                        return Outcome::Skipped(skip, resource);
                    }
                    direct_asked = true;
                    if let Ok(yaml) =
                        self.decoder.clean_yaml_direct_peeked(peeked, self.clean_options.keep_owner_references)
                    {
                        return Outcome::Keep(Box::new(Item {
                            resource,
                            moved_from: None,
                            rendered: yaml.into_bytes(),
                        }));
                    }
                }
            }
            // A value that fails here fails the full decode below too, which reports it.
            if let Ok(partial) = self.decoder.decode_metadata(value, leave_out) {
                let object = partial.object();
                if is_controlled(object) {
                    return Outcome::Skipped(Skip::Owned, resource);
                }
                // Most kinds' other skips follow from the metadata too, and are decided
                // before decoding the rest (managed Endpoints were one full decode in nine
                // on the 2 GiB benchmark snapshot). The label selector comes first, as it
                // does after the full decode.
                if !self.decoder.skip_needs_content(object, value) {
                    if self.selection.labels.as_ref().is_some_and(|l| !l.matches(object)) {
                        return Outcome::Filtered;
                    }
                    if let Some(skip) = self.skip_reason(object, info, named) {
                        return Outcome::Skipped(skip, resource);
                    }
                    decided = true;
                }
                metadata_first = Some(partial);
            }
        }
        // What the tree path below would write, written straight from the wire: once the
        // skips and the label selector are settled without the rest of the object.
        let settled = decided || !self.skipping && self.selection.labels.is_none();
        if settled && direct && !direct_asked {
            if let Ok(yaml) = self.decoder.clean_yaml_direct(value, self.clean_options.keep_owner_references) {
                return Outcome::Keep(Box::new(Item { resource, moved_from: None, rendered: yaml.into_bytes() }));
            }
        }
        let options = DecodeOptions {
            key: Some(record.kv.key),
            mod_revision: Some(record.kv.mod_revision),
            leave_out,
            ..Default::default()
        };
        let decoded = match metadata_first {
            Some(first) => self.decoder.decode_rest(first, &options),
            None => self.decoder.decode(value, &options),
        };
        let mut object = match decoded {
            Ok(decoded) => decoded.object,
            Err(e) => return Outcome::Undecodable(raw_key(), describe(&e)),
        };
        if !decided && self.selection.labels.as_ref().is_some_and(|l| !l.matches(&object)) {
            return Outcome::Filtered;
        }
        if self.skipping && !decided {
            if let Some(skip) = self.skip_reason(&object, info, named) {
                return Outcome::Skipped(skip, resource);
            }
        }
        if self.cleaning {
            if leave_out.managed_fields && reads_managed_fields(&object, self.clean_options) {
                // A Service with node ports: its managedFields and last-applied annotation tell
                // those a user chose.
                let options = DecodeOptions { leave_out: leave_out.keeping_node_port_owners(), ..options };
                object = match self.decoder.decode(value, &options) {
                    Ok(decoded) => decoded.object,
                    Err(e) => return Outcome::Undecodable(raw_key(), describe(&e)),
                };
            }
            clean(&mut object, self.clean_options);
        }
        // Explicitly asked for, so done with --raw too.
        self.namespaces.apply(&mut object);
        if let Some(revision) = deleted_at {
            mark_deleted(&mut object, revision);
        }
        let rendered = match render(&object, self.format, self.list_item, value.len()) {
            Ok(bytes) => bytes,
            Err(e) => return Outcome::Undecodable(raw_key(), format!("cannot render: {e}")),
        };
        let moved_from = moved_from(&key, self.namespaces).map(str::to_string);
        Outcome::Keep(Box::new(Item { resource, moved_from, rendered }))
    }

    /// Why the object at `key` is skipped, if the key alone tells: Events (a large share of
    /// a cluster's objects), Leases, the API server's own records. Decided while the
    /// candidates are chosen, with the key at hand: such an object costs no second reading
    /// of its key, no decryption and no decoding.
    pub(super) fn skip_by_key(&self, key: &ObjectKeyRef<'_>) -> Option<Skip> {
        if !self.skipping {
            return None;
        }
        let info = key.info?;
        if info.internal {
            return Some(Skip::ApiserverInternal);
        }
        skip_by_kind(&info.group, &info.kind).filter(|_| !self.named(key))
    }

    /// Whether `key`'s resource was named on the command line: by-kind skips spare it.
    fn named(&self, key: &ObjectKeyRef<'_>) -> bool {
        self.selection.resources.as_ref().is_some_and(|r| r.contains(key))
    }

    /// Why `object` is skipped, if it is; by-kind skips do not apply to resources named on
    /// the command line.
    fn skip_reason(
        &self,
        object: &(impl SkipFacts + ?Sized),
        info: Option<&ResourceInfo>,
        named: impl Fn() -> bool,
    ) -> Option<Skip> {
        let context = SkipContext {
            internal: info.is_some_and(|i| i.internal),
            service_has_selector: Some(&|ns: &str, name: &str| (self.has_selector)(ns, name)),
        };
        skip_reason(object, &context).filter(|s| !(s.is_by_kind() && named())).filter(|s| {
            // `default` or `kube-system` moved by --namespace-mapping is a namespace no
            // cluster has: its objects need it.
            *s != Skip::ClusterDefaults || !self.namespaces.renames_namespace_object(object)
        })
    }
}

/// The namespace `key`'s object is moved from by `namespaces`: its own, or the one a
/// Namespace object names.
pub(super) fn moved_from<'k>(key: &ObjectKeyRef<'k>, namespaces: &NamespaceMap) -> Option<&'k str> {
    let namespace = key.namespace_of()?;
    (namespaces.target(namespace) != namespace).then_some(namespace)
}

/// A decode error, told without any bytes of the value (Secrets!).
fn describe(e: &DecodeError) -> String {
    match e {
        DecodeError::UnrecognizedFormat { .. } => "unrecognised value encoding".into(),
        DecodeError::Json { line, column, .. } => format!("invalid JSON at line {line}, column {column}"),
        DecodeError::Wire { offset, path, reason } => {
            format!("malformed protobuf at byte {offset} (in {path}): {reason}")
        }
        DecodeError::Cbor { offset, .. } => format!("malformed CBOR at byte {offset}"),
        other => explain(other),
    }
}

fn mark_deleted(object: &mut Value, revision: i64) {
    let Some(obj) = object.as_object_mut() else { return };
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else { return };
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(DELETED_ANNOTATION.into(), json!(revision.to_string()));
    }
}

/// `stored_len`: the length of the stored value, from which the YAML's is guessed.
fn render(object: &Value, format: Format, list_item: bool, stored_len: usize) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Yaml => k8s_decode::yaml::to_yaml_string_sized(object, 2 * stored_len + 1024)?.into_bytes(),
        // As `kubectl get -o json`: keys sorted at every level (see `to_kubectl_json`).
        Format::Json if list_item => indent_list_item(&k8s_decode::to_kubectl_json_pretty(object)),
        Format::Json => k8s_decode::to_kubectl_json_pretty(object).into_bytes(),
        Format::Jsonl => {
            let mut line = k8s_decode::to_kubectl_json(object).into_bytes();
            line.push(b'\n');
            line
        }
        Format::Name => match kubectl_name(object) {
            Some(name) => format!("{name}\n").into_bytes(),
            None => bail!("the object has no kind or name"),
        },
    })
}

/// An object's pretty JSON as an element of a List's `items`, as Go's `MarshalIndent` nests
/// it: every line indented by two levels, no final newline. JSON strings never hold a raw
/// newline, so splitting at newlines only splits between tokens.
fn indent_list_item(pretty: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(pretty.len() + pretty.len() / 4);
    for (n, line) in pretty.trim_end_matches('\n').split('\n').enumerate() {
        if n > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(b"        ");
        out.extend_from_slice(line.as_bytes());
    }
    out
}
