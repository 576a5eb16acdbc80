//! What the skips read of an object: from its decoded tree, or from a protobuf value's
//! bytes ([`SkipsPeek`](crate::SkipsPeek)) without building a tree at all.
//!
//! One set of skip rules ([`skip_reason`](super::skip_reason)) reads either. `extract`
//! decides the skips of most objects on what the bytes tell; building even a small tree of
//! that for each object (a few strings and maps, each key hashed) was 4% of `extract -A`.

use std::borrow::Cow;

use serde_json::Value;

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
        metadata_str(self, "name")
    }

    fn namespace(&self) -> Option<Cow<'_, str>> {
        metadata_str(self, "namespace")
    }

    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        let labels = member(member(self, "metadata")?, "labels")?;
        member(labels, key)?.as_str().map(Cow::Borrowed)
    }

    fn annotation(&self, key: &str) -> Option<Cow<'_, str>> {
        let annotations = member(member(self, "metadata")?, "annotations")?;
        member(annotations, key)?.as_str().map(Cow::Borrowed)
    }

    fn controlled(&self) -> bool {
        super::is_controlled(self)
    }

    fn content(&self, key: &str) -> Option<&Value> {
        member(self, key)
    }
}

fn metadata_str<'v>(object: &'v Value, key: &str) -> Option<Cow<'v, str>> {
    member(member(object, "metadata")?, key)?.as_str().map(Cow::Borrowed)
}

/// A group and kind's parts of an object.
pub(crate) fn group_and_kind(object: &(impl SkipFacts + ?Sized)) -> (&str, &str) {
    (super::group_of_api_version(object.api_version()), object.kind())
}
