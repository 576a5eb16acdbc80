//! Errors and warnings.

use std::fmt;

/// A value could not be decoded at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The value is encrypted at rest (`k8s:enc:<provider>:<version>:<key name>:…`).
    #[error(
        "value is encrypted with provider {provider:?} ({version}), key {key_name:?}; it needs the cluster's encryption keys"
    )]
    Encrypted {
        provider: String,
        version: String,
        /// The key (or KMS provider) name as far as it could be read; names may
        /// themselves contain `:`, so this is the text up to the next `:`.
        key_name: String,
    },
    /// The first bytes match no known encoding.
    #[error("unrecognised value encoding; first bytes: {prefix}")]
    UnrecognizedFormat {
        /// The first bytes, escaped (printable ASCII kept, others as `\xNN`), at most 32.
        prefix: String,
    },
    /// The value is empty.
    #[error("empty value")]
    Empty,
    /// Malformed protobuf.
    #[error("malformed protobuf at byte {offset} (in {path}): {reason}")]
    Wire {
        /// Offset from the start of the decoded buffer.
        offset: usize,
        /// JSON-style path of the field being decoded (`spec.containers[0]`), or `<envelope>`.
        path: String,
        reason: String,
    },
    /// The stored JSON does not parse.
    #[error("invalid JSON value at line {line}, column {column}: {reason}")]
    Json { line: usize, column: usize, reason: String },
    /// Malformed CBOR.
    #[error("malformed CBOR at byte {offset}: {reason}")]
    Cbor { offset: usize, reason: String },
    /// Content encoding in the protobuf envelope that is not supported.
    #[error("unsupported envelope contentEncoding {0:?}")]
    ContentEncoding(String),
    /// Nesting deeper than the decoder allows (hostile input).
    #[error("nesting deeper than {limit} levels at {path}")]
    TooDeep { limit: u32, path: String },
    /// `decode_as` was given a message name that the schema does not know.
    #[error("unknown protobuf message {0:?}")]
    UnknownMessage(String),
    /// The stored object is not a JSON object.
    /// The decoded object does not fit the Rust type asked for (`Decoder::decode_into`).
    #[error("decoded {kind} does not fit the requested type: {reason}")]
    Typed { kind: String, reason: String },
    #[error("stored value is not a JSON object")]
    NotAnObject,
}

/// Something noteworthy that did not stop decoding: an unknown field kept
/// under [`UNKNOWN_FIELDS_KEY`](crate::UNKNOWN_FIELDS_KEY), an unknown kind, a
/// raw value that is not valid JSON, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// JSON-style path of the object holding the problem (`spec.template.spec`), `""` for the root.
    pub path: String,
    /// Protobuf message type being decoded there, if any.
    pub message_type: Option<String>,
    /// Protobuf field number, if the warning is about one field.
    pub field: Option<u32>,
    pub kind: WarningKind,
    pub detail: String,
}

/// Class of a [`Warning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// A field number the schema does not know for that message in any release.
    UnknownField,
    /// A known field number with an unexpected wire type (kept as unknown).
    WireTypeMismatch,
    /// The envelope's (apiVersion, kind) is not in the schema.
    UnknownKind,
    /// A value the API server could not have rendered (bad raw JSON, bad
    /// IntOrString type, year out of range, NaN, …); rendered best-effort.
    InvalidValue,
    /// Something about the envelope (content type, extra fields).
    Envelope,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "<root>" } else { &self.path };
        write!(f, "{path}")?;
        if let Some(m) = &self.message_type {
            write!(f, " ({m}")?;
            if let Some(n) = self.field {
                write!(f, " field {n}")?;
            }
            write!(f, ")")?;
        }
        write!(f, ": {}", self.detail)
    }
}
