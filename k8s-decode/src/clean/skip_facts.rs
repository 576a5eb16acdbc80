//! What the skips read of an object: from its decoded tree, or from a protobuf value's
//! bytes ([`SkipsPeek`](crate::SkipsPeek)) without building a tree at all.
//!
//! One set of skip rules ([`skip_reason`](super::skip_reason)) reads either. `extract`
//! decides the skips of most objects on what the bytes tell; building even a small tree of
//! that for each object (a few strings and maps, each key hashed) was 3.6% of `extract -A`'s
//! instructions on the 2 GiB benchmark snapshot.

use std::borrow::Cow;

use serde_json::Value;

use super::str_at;
use crate::member::member;

/// An object as the skips see it.
pub trait SkipFacts {
    /// `apiVersion`, `""` when absent.
    fn api_version(&self) -> &str;
    /// `kind`, `""` when absent.
    fn kind(&self) -> &str;
    /// `metadata.name`.
    fn name(&self) -> Option<Cow<'_, str>>;
    /// `metadata.namespace`.
    fn namespace(&self) -> Option<Cow<'_, str>>;
    /// A label, of those the skips read.
    fn label(&self, key: &str) -> Option<Cow<'_, str>>;
    /// An annotation, of those the skips read.
    fn annotation(&self, key: &str) -> Option<Cow<'_, str>>;
    /// Whether an owner reference has `controller: true`.
    fn controlled(&self) -> bool;
    /// A top-level field besides `apiVersion`, `kind` and `metadata` (a Secret's `type`, a
    /// ServiceAccount's `imagePullSecrets`): `None` when only the metadata is at hand, which
    /// [`skip_needs_content`](super::skip_needs_content) tells callers when that matters.
    fn content(&self, key: &str) -> Option<&Value>;
}

/// A decoded object, or its metadata-first decode.
impl SkipFacts for Value {
    fn api_version(&self) -> &str {
        member(self, "apiVersion").and_then(Value::as_str).unwrap_or("")
    }

    fn kind(&self) -> &str {
        member(self, "kind").and_then(Value::as_str).unwrap_or("")
    }

    fn name(&self) -> Option<Cow<'_, str>> {
        str_at(self, &["metadata", "name"]).map(Cow::Borrowed)
    }

    fn namespace(&self) -> Option<Cow<'_, str>> {
        str_at(self, &["metadata", "namespace"]).map(Cow::Borrowed)
    }

    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        str_at(self, &["metadata", "labels", key]).map(Cow::Borrowed)
    }

    fn annotation(&self, key: &str) -> Option<Cow<'_, str>> {
        str_at(self, &["metadata", "annotations", key]).map(Cow::Borrowed)
    }

    fn controlled(&self) -> bool {
        super::is_controlled(self)
    }

    fn content(&self, key: &str) -> Option<&Value> {
        member(self, key)
    }
}

/// A group and kind's parts of an object.
pub(crate) fn group_and_kind(object: &(impl SkipFacts + ?Sized)) -> (&str, &str) {
    (super::group_of_api_version(object.api_version()), object.kind())
}
