//! kubectl-identical YAML rendering.
//!
//! `kubectl get -o yaml` marshals the object to JSON and converts it with
//! `sigs.k8s.io/yaml.JSONToYAML`, which decodes the JSON with go-yaml v2 into
//! Go maps and re-encodes it with `yaml.Marshal`. This module reproduces that
//! pipeline byte for byte:
//!
//! * the encoder side (`encode.go`): keys sorted by go-yaml's natural order
//!   ([`sort`]), numbers typed the way go-yaml reads a JSON token
//!   ([`number`]), strings requested plain unless go-yaml would read the
//!   plain form back as something else ([`resolve`]), literal when they
//!   contain a newline;
//! * the emitter side (`emitterc.go`, [`emitter`]): style fallbacks
//!   (plain → single → double quotes, literal → double quotes), escapes,
//!   folding of long plain/quoted scalars past column 80, `? ` keys longer
//!   than 128 bytes, indentless sequences under mapping keys, `{}` and `[]`.

mod emitter;
mod number;
mod resolve;
mod sort;

use emitter::{analyze_scalar, is_simple_key, Emitter, ScalarStyle};
use serde_json::Value;

/// Deepest nesting we render. go-yaml has no limit, but recursion here uses
/// the stack; Kubernetes objects (even CRD schemas) stay far below this.
pub const MAX_DEPTH: usize = 512;

/// Errors from rendering YAML.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The value nests deeper than [`MAX_DEPTH`].
    #[error("value nests deeper than {limit} levels")]
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// Writing to the output failed.
    #[error("writing YAML failed: {0}")]
    Io(#[from] std::io::Error),
    /// Internal invariant: the emitter produced invalid UTF-8 (cannot happen
    /// for `&str` input; reported rather than panicking).
    #[error("internal error: emitted YAML is not UTF-8")]
    NotUtf8,
}

/// Render one object as kubectl would (no leading `---`).
///
/// The output always ends with a newline, as `yaml.Marshal`'s does.
pub fn to_yaml_string(value: &Value) -> Result<String, YamlError> {
    let bytes = render(value)?;
    String::from_utf8(bytes).map_err(|_| YamlError::NotUtf8)
}

/// Stream variant for many objects: writes exactly the bytes of
/// [`to_yaml_string`] to `out`. Callers printing several documents put their
/// own `---\n` between them.
pub fn write_yaml<W: std::io::Write>(value: &Value, mut out: W) -> Result<(), YamlError> {
    let bytes = render(value)?;
    out.write_all(&bytes)?;
    Ok(())
}

fn render(value: &Value) -> Result<Vec<u8>, YamlError> {
    let mut e = Emitter::new();
    // yaml_emitter_emit_document_content: the root node.
    emit_node(&mut e, value, Context::Root, 0)?;
    Ok(e.finish())
}

/// Where a node sits; mirrors the flags `yaml_emitter_emit_node` receives.
#[derive(Clone, Copy)]
enum Context {
    Root,
    SequenceItem,
    /// Mapping value.
    MappingNode,
}

fn emit_node(e: &mut Emitter, value: &Value, ctx: Context, depth: usize) -> Result<(), YamlError> {
    if depth > MAX_DEPTH {
        return Err(YamlError::TooDeep { limit: MAX_DEPTH });
    }
    match ctx {
        Context::Root => e.set_context(true, false, false, false),
        Context::SequenceItem => e.set_context(false, true, false, false),
        Context::MappingNode => e.set_context(false, false, true, false),
    }
    match value {
        Value::Object(map) if map.is_empty() => e.write_empty_flow(b'{', b'}'),
        Value::Array(items) if items.is_empty() => e.write_empty_flow(b'[', b']'),
        Value::Object(map) => {
            // yaml_emitter_emit_block_mapping_key / _value.
            e.increase_indent(false, false);
            let entries = map.iter().map(|(k, v)| (k.chars().collect::<Vec<char>>(), (k, v))).collect();
            for (_, (key, val)) in sort::sort_by_go_key(entries) {
                e.write_indent();
                let (requested, analysis) = (string_style(key), analyze_scalar(key));
                if is_simple_key(key, &analysis) {
                    e.set_context(false, false, true, true);
                    e.emit_scalar(key, requested, &analysis);
                    e.write_indicator(b":", false, false, false);
                } else {
                    e.write_indicator(b"?", true, false, true);
                    e.set_context(false, false, true, false);
                    e.emit_scalar(key, requested, &analysis);
                    e.write_indent();
                    e.write_indicator(b":", true, false, true);
                }
                emit_node(e, val, Context::MappingNode, depth + 1)?;
            }
            e.decrease_indent();
        }
        Value::Array(items) => {
            // yaml_emitter_emit_block_sequence_item: a sequence that is a
            // mapping value is "indentless" (`- ` at the key's column).
            let indentless = e.mapping_context && !e.indention();
            e.increase_indent(false, indentless);
            for item in items {
                e.write_indent();
                e.write_indicator(b"-", true, false, true);
                emit_node(e, item, Context::SequenceItem, depth + 1)?;
            }
            e.decrease_indent();
        }
        Value::String(s) => {
            let analysis = analyze_scalar(s);
            e.emit_scalar(s, string_style(s), &analysis);
        }
        Value::Null => emit_plain(e, "null"),
        Value::Bool(b) => emit_plain(e, if *b { "true" } else { "false" }),
        Value::Number(n) => emit_plain(e, &number::format_number(n)),
    }
    Ok(())
}

/// Non-string scalars (`nilv`, `boolv`, `intv`, `floatv`) request plain style.
fn emit_plain(e: &mut Emitter, text: &str) {
    let analysis = analyze_scalar(text);
    e.emit_scalar(text, ScalarStyle::Plain, &analysis);
}

/// `stringv`: the style go-yaml's encoder requests for a string (the emitter
/// may still fall back to another one).
fn string_style(s: &str) -> ScalarStyle {
    if s.contains('\n') {
        ScalarStyle::Literal
    } else if resolve::can_use_plain(s) {
        ScalarStyle::Plain
    } else {
        ScalarStyle::DoubleQuoted
    }
}
