//! The field rules every object gets (`metadata`, `last-applied`, `owner-references`,
//! `template-metadata`, `status`), written once over any tree that can look up, test and
//! remove members ([`CleanTree`]).
//!
//! Two trees are cleaned: serde_json's `Value`, by [`clean`](super::clean), and the
//! borrowed tree of custom resources stored as JSON ([`crate::JsonObject`]), which only
//! these rules apply to. One implementation keeps the two from drifting apart.

use serde_json::{Map, Value};

use super::{CleanOptions, ASSIGNED_METADATA, LAST_APPLIED, RULES};
use crate::member::{member, member_mut};

/// What the rules need of a JSON tree.
pub(crate) trait CleanTree: Sized {
    /// The member `key` of an object; `None` for anything else.
    fn member(&self, key: &str) -> Option<&Self>;
    fn member_mut(&mut self, key: &str) -> Option<&mut Self>;
    fn is_null(&self) -> bool;
    fn is_empty_object(&self) -> bool;
    /// The items of an array; none for anything else.
    fn items_mut(&mut self) -> &mut [Self];
    /// Remove the members named `keys` from an object; whether any was there (`false` for
    /// anything not an object).
    fn remove_members(&mut self, keys: &[&str]) -> bool;
}

impl CleanTree for Value {
    fn member(&self, key: &str) -> Option<&Value> {
        member(self, key)
    }

    fn member_mut(&mut self, key: &str) -> Option<&mut Value> {
        member_mut(self, key)
    }

    fn is_null(&self) -> bool {
        Value::is_null(self)
    }

    fn is_empty_object(&self) -> bool {
        self.as_object().is_some_and(|map| map.is_empty())
    }

    fn items_mut(&mut self) -> &mut [Value] {
        self.as_array_mut().map_or(&mut [], Vec::as_mut_slice)
    }

    fn remove_members(&mut self, keys: &[&str]) -> bool {
        self.as_object_mut().is_some_and(|map| remove_all(map, keys))
    }
}

/// Remove `keys` from a map; true if any was there.
pub(super) fn remove_all(map: &mut Map<String, Value>, keys: &[&str]) -> bool {
    // Most objects come without them (the decode left them out), and comparing the few keys
    // a map holds is cheaper than hashing every key asked for (SipHash, in serde_json's
    // maps): the metadata rule alone asked ten times per object.
    if !map.keys().any(|k| keys.contains(&k.as_str())) {
        return false;
    }
    let mut any = false;
    for k in keys {
        any |= map.shift_remove(*k).is_some();
    }
    any
}

/// Apply the rule `id` if it is one every object gets: whether it changed `obj`, or `None`
/// for a rule of some kinds only.
pub(crate) fn every_object_rule<T: CleanTree>(obj: &mut T, id: &str, options: &CleanOptions) -> Option<bool> {
    let changed = match id {
        "metadata" => obj.member_mut("metadata").is_some_and(|m| {
            // `|`, not `||`: both are removed.
            m.remove_members(ASSIGNED_METADATA) | m.remove_members(&["managedFields"])
        }),
        "last-applied" => remove_annotations(obj, &[LAST_APPLIED]),
        "owner-references" => {
            !options.keep_owner_references
                && obj.member_mut("metadata").is_some_and(|m| m.remove_members(&["ownerReferences"]))
        }
        "template-metadata" => clean_templates(obj),
        "status" => obj.remove_members(&["status"]),
        _ => return None,
    };
    Some(changed)
}

/// Apply every rule every object gets, in [`RULES`]' order: all the cleaning of a kind
/// without rules of its own.
pub(crate) fn clean_every_object<T: CleanTree>(obj: &mut T, options: &CleanOptions) {
    for rule in RULES {
        every_object_rule(obj, rule.id, options);
    }
}

/// Remove annotations; drop the annotations map when it is left empty (or was).
pub(crate) fn remove_annotations<T: CleanTree>(obj: &mut T, keys: &[&str]) -> bool {
    let Some(meta) = obj.member_mut("metadata") else { return false };
    let Some(annotations) = meta.member_mut("annotations") else { return false };
    let removed = annotations.remove_members(keys);
    if annotations.is_empty_object() {
        meta.remove_members(&["annotations"]);
    }
    removed
}

/// `creationTimestamp: null` in nested templates' metadata, and template claims' status.
fn clean_templates<T: CleanTree>(obj: &mut T) -> bool {
    fn null_timestamp<T: CleanTree>(meta: Option<&mut T>) -> bool {
        meta.is_some_and(|m| {
            m.member("creationTimestamp").is_some_and(T::is_null) && m.remove_members(&["creationTimestamp"])
        })
    }
    let Some(spec) = obj.member_mut("spec") else { return false };
    let mut changed = false;
    if let Some(template) = spec.member_mut("template") {
        changed |= null_timestamp(template.member_mut("metadata"));
    }
    if let Some(job_template) = spec.member_mut("jobTemplate") {
        changed |= null_timestamp(job_template.member_mut("metadata"));
        if let Some(t) = job_template.member_mut("spec").and_then(|s| s.member_mut("template")) {
            changed |= null_timestamp(t.member_mut("metadata"));
        }
    }
    if let Some(claims) = spec.member_mut("volumeClaimTemplates") {
        for claim in claims.items_mut() {
            changed |= null_timestamp(claim.member_mut("metadata"));
            changed |= claim.remove_members(&["status"]);
        }
    }
    changed
}
