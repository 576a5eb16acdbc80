//! kubectl-identical YAML rendering.
//!
//! `kubectl get -o yaml` marshals the object to JSON and converts it with
//! `sigs.k8s.io/yaml.JSONToYAML` (go-yaml v2 underneath). This module writes
//! the same bytes. It is original code: the rules were taken from the YAML
//! specs and from observing the Go library as a black box (the unit tests
//! below and the shared fixtures hold its output), not from its source.
//!
//! * keys in go-yaml's natural order (`sort`), numbers typed and printed as
//!   the JSON → YAML round trip does (`number`);
//! * strings plain unless plain text would load as another type
//!   (`implicit`), and the quoting, literal-block and folding rules of
//!   `scalar`;
//! * block layout (below): two-space indentation, sequences under a key at
//!   the key's column, mappings and sequences inside a sequence item on the
//!   `- ` line, `{}` / `[]` for empty collections, `? key` / `: value` for
//!   keys that are too long or span lines;
//! * a raw NEL inside a JSON string is folded like a line break, as kubectl's
//!   YAML parse of its own JSON does (`as_kubectl_reads`).
//!
//! A differential test against the Go library on random documents found no
//! differences except inputs on which kubectl itself fails or is
//! nondeterministic:
//!
//! * kubectl fails ("control characters are not allowed") on strings with
//!   DEL, C1 controls other than NEL, U+FFFE/U+FFFF, and on keys longer than
//!   1024 characters or containing NEL, and on strings where a NEL is
//!   followed by `---` or `...` (its YAML parse sees a document marker);
//!   we render them instead;
//! * for key sets where go-yaml's key comparison is not transitive, Go's
//!   order depends on its random map iteration; ours is one of the orders Go
//!   can produce.

pub(crate) mod implicit;
pub(crate) mod number;
pub(crate) mod scalar;
pub(crate) mod sort;

use std::borrow::Cow;

use scalar::{key_style, letters_key_style, printable_ascii_style, string_style, Out, Style};
use serde_json::{Number, Value};

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
    /// Internal invariant: the output was not UTF-8 (cannot happen: the
    /// writer builds a `String`; kept for callers matching on it).
    #[error("internal error: emitted YAML is not UTF-8")]
    NotUtf8,
}

/// Render one object as kubectl would (no leading `---`).
///
/// The output always ends with a newline, as `yaml.Marshal`'s does.
pub fn to_yaml_string(value: &Value) -> Result<String, YamlError> {
    to_yaml_string_sized(value, 4096)
}

/// [`to_yaml_string`] into a buffer of `expected_len` bytes to begin with. A caller that
/// knows about how long the YAML will be (twice the stored value is plenty) saves the
/// copies of a growing buffer: a 1 MB ConfigMap's was copied nine times.
pub fn to_yaml_string_sized(value: &Value, expected_len: usize) -> Result<String, YamlError> {
    tree_to_yaml_string(value, expected_len)
}

/// [`to_yaml_string_sized`] of any tree the emitter writes.
pub(crate) fn tree_to_yaml_string<T: YamlTree>(tree: &T, expected_len: usize) -> Result<String, YamlError> {
    let mut emitter = Emitter { out: Out::with_capacity(expected_len), entries: Vec::new(), scratch: Vec::new() };
    emitter.node(tree, Place::Root, 0, 0)?;
    let mut out = emitter.out;
    if out.column > 0 {
        out.newline();
    }
    Ok(out.text)
}

/// Write `value` into `out` as [`Emitter::node`] does: for values made elsewhere (the
/// direct renderer's custom-JSON types).
pub(crate) fn emit_value(
    out: &mut Out,
    value: &Value,
    place: Place,
    indent: usize,
    depth: usize,
) -> Result<(), YamlError> {
    let mut emitter =
        Emitter { out: std::mem::replace(out, Out::with_capacity(0)), entries: Vec::new(), scratch: Vec::new() };
    let r = emitter.node(value, place, indent, depth);
    *out = emitter.out;
    r
}

/// Stream variant for many objects: writes exactly the bytes of
/// [`to_yaml_string`] to `out`. Callers printing several documents put their
/// own `---\n` between them.
pub fn write_yaml<W: std::io::Write>(value: &Value, mut out: W) -> Result<(), YamlError> {
    out.write_all(to_yaml_string(value)?.as_bytes())?;
    Ok(())
}

/// A tree the emitter writes: serde_json's `Value`, or the borrowed tree of a value stored
/// as JSON (`crate::json_direct`).
pub(crate) trait YamlTree: Sized {
    /// A mapping's entries, in their order in the tree.
    type Entries<'t>: ExactSizeIterator<Item = (&'t str, &'t Self)>
    where
        Self: 't;

    fn view(&self) -> View<'_, Self>;
}

/// One node of a [`YamlTree`].
pub(crate) enum View<'t, T: YamlTree + 't> {
    Null,
    Bool(bool),
    Number(&'t Number),
    String(&'t str),
    Array(&'t [T]),
    Object(T::Entries<'t>),
}

impl YamlTree for Value {
    type Entries<'t> = std::iter::Map<serde_json::map::Iter<'t>, fn((&'t String, &'t Value)) -> (&'t str, &'t Value)>;

    fn view<'s>(&'s self) -> View<'s, Self> {
        match self {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Number(n) => View::Number(n),
            Value::String(s) => View::String(s),
            Value::Array(items) => View::Array(items),
            Value::Object(map) => {
                View::Object(map.iter().map(value_entry as fn((&'s String, &'s Value)) -> (&'s str, &'s Value)))
            }
        }
    }
}

fn value_entry<'t>((key, value): (&'t String, &'t Value)) -> (&'t str, &'t Value) {
    (key, value)
}

/// A mapping entry as found in the JSON.
struct Entry<'a, T> {
    key: &'a str,
    value: &'a T,
    /// The key has a NEL, so kubectl reads it differently (rare).
    nel: bool,
    /// The key is ASCII letters only (most field names): its style is quick to tell.
    letters: bool,
}

impl<T> Clone for Entry<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Entry<'_, T> {}

impl<T> Entry<'_, T> {
    /// The key as kubectl reads it.
    fn read_key(&self) -> Cow<'_, str> {
        if self.nel {
            as_kubectl_reads(self.key)
        } else {
            Cow::Borrowed(self.key)
        }
    }
}

/// Key order of the entries, on the keys as kubectl reads them.
fn entry_less<T>(a: &Entry<'_, T>, b: &Entry<'_, T>) -> bool {
    if !a.nel && !b.nel {
        return sort::key_less(a.key, b.key);
    }
    sort::key_less(&a.read_key(), &b.read_key())
}

/// The output and scratch space reused across all mappings of a document.
struct Emitter<'a, T> {
    out: Out,
    /// Entries of the mappings being written, outermost first: each mapping
    /// pushes its entries, sorts them in place and pops them when done.
    entries: Vec<Entry<'a, T>>,
    /// Working space of the merge sort.
    scratch: Vec<Entry<'a, T>>,
}

/// Where a node starts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The document itself, at column 0.
    Root,
    /// Right after `key:` on a simple key's line.
    KeyValue,
    /// Right after `- ` or after `:` of an explicit key: collections start
    /// on this same line.
    Inline,
}

impl<'a, T: YamlTree> Emitter<'a, T> {
    /// Write `value` whose block content belongs at column `indent`: the
    /// column of a mapping's keys or a sequence's dashes, or for a scalar the
    /// column of its continuation lines and literal-block body.
    fn node(&mut self, value: &'a T, place: Place, indent: usize, depth: usize) -> Result<(), YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::TooDeep { limit: MAX_DEPTH });
        }
        // Scalars and empty collections follow `key:` / `-` / `:` after a space.
        let lead = if place == Place::Root { "" } else { " " };
        let out = &mut self.out;
        match value.view() {
            View::Object(map) if map.len() == 0 => {
                out.put_ascii(lead);
                out.put_ascii("{}");
            }
            View::Array([]) => {
                out.put_ascii(lead);
                out.put_ascii("[]");
            }
            View::Object(map) => {
                let start = self.entries.len();
                // Field names (most keys) are letters only; their natural order is byte order.
                let mut letters_only = true;
                self.entries.extend(map.map(|(k, v)| {
                    let letters = k.bytes().all(|b| b.is_ascii_alphabetic());
                    letters_only &= letters;
                    Entry { key: k, value: v, nel: !letters && k.contains('\u{85}'), letters: letters && !k.is_empty() }
                }));
                if let Some(entries) = self.entries.get_mut(start..) {
                    if letters_only {
                        entries.sort_unstable_by(|a, b| a.key.cmp(b.key));
                    } else {
                        sort::merge_sort(entries, &mut self.scratch, &entry_less);
                    }
                }
                for i in start..self.entries.len() {
                    let Some(&e) = self.entries.get(i) else { break };
                    if i == start && place == Place::Inline {
                        self.out.put_ascii(" ");
                    } else {
                        self.out.line(indent);
                    }
                    let key = e.read_key();
                    let style = if e.letters { letters_key_style(&key) } else { key_style(&key) };
                    self.entry(&key, style, e.value, indent, depth)?;
                }
                self.entries.truncate(start);
            }
            View::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n == 0 && place == Place::Inline {
                        self.out.put_ascii(" ");
                    } else {
                        self.out.line(indent);
                    }
                    self.out.put_ascii("-");
                    self.node(item, Place::Inline, indent + 2, depth + 1)?;
                }
            }
            View::String(s) => {
                out.put_ascii(lead);
                // Continuation lines of a root scalar are indented too.
                let continuation = if place == Place::Root { 2 } else { indent };
                // Printable ASCII (most strings) has no NEL: kubectl reads it as it is.
                if let Some(style) = printable_ascii_style(s) {
                    out.scalar(s, style, continuation, true);
                } else {
                    let s = as_kubectl_reads(s);
                    out.scalar(&s, string_style(&s), continuation, true);
                }
            }
            View::Null => {
                out.put_ascii(lead);
                out.put_ascii("null");
            }
            View::Bool(b) => {
                out.put_ascii(lead);
                out.put_ascii(if b { "true" } else { "false" });
            }
            View::Number(n) => {
                out.put_ascii(lead);
                number::write_number(out, n);
            }
        }
        Ok(())
    }

    /// One mapping entry whose key starts at the current position (column
    /// `indent`), the key of style `style`, on the entry's line if `simple`.
    fn entry(
        &mut self,
        key: &str,
        (style, simple): (Style, bool),
        value: &'a T,
        indent: usize,
        depth: usize,
    ) -> Result<(), YamlError> {
        if simple {
            self.out.scalar(key, style, indent + 2, false);
            self.out.put_ascii(":");
            // A sequence under a simple key keeps the key's column; a mapping
            // is indented below it.
            let child = if matches!(value.view(), View::Array(_)) { indent } else { indent + 2 };
            return self.node(value, Place::KeyValue, child, depth + 1);
        }
        self.out.put_ascii("? ");
        self.out.scalar(key, style, indent + 2, true);
        self.out.line(indent);
        self.out.put_ascii(":");
        self.node(value, Place::Inline, indent + 2, depth + 1)
    }
}

/// The string go-yaml reads back from the JSON kubectl feeds it.
///
/// `JSONToYAML` parses the JSON text as YAML, where a JSON string is a
/// double-quoted scalar. `encoding/json` escapes every line break except
/// NEL (U+0085), which it writes raw, and a raw NEL inside a double-quoted
/// YAML scalar is a line break subject to line folding: a run of spaces and
/// NELs containing `k` NELs becomes one space if `k == 1`, else `k - 1`
/// newlines (YAML 1.1 line folding in double-quoted scalars). kubectl
/// prints the folded text.
pub(crate) fn as_kubectl_reads(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ' ' && c != '\u{85}' {
            out.push(c);
            continue;
        }
        // A run of spaces and NELs.
        let mut spaces = usize::from(c == ' ');
        let mut nels = usize::from(c == '\u{85}');
        while let Some(&n) = chars.peek() {
            match n {
                ' ' => spaces += 1,
                '\u{85}' => nels += 1,
                _ => break,
            }
            chars.next();
        }
        match nels {
            0 => out.extend(std::iter::repeat_n(' ', spaces)),
            1 => out.push(' '),
            k => out.extend(std::iter::repeat_n('\n', k - 1)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    //! Expected strings were produced by `sigs.k8s.io/yaml.JSONToYAML`
    //! (go-yaml v2.4.0) for the same JSON.

    use super::*;

    fn y(json: &str) -> String {
        let value: Value = serde_json::from_str(json).expect("test JSON parses");
        to_yaml_string(&value).expect("renders")
    }

    /// Natural key order: digit runs compare as numbers, a non-letter
    /// sorts before a letter, letters by code point, a prefix first.
    #[test]
    fn keys_use_go_yaml_natural_order() {
        let got = y(r##"{"a10":1,"a9":2,"Z":3,"_":4,"1":5,"01":6,"B":7,"a":8,"ab":9,"abc":10,"a-b":11,"a0":12}"##);
        assert_eq!(
            got,
            "_: 4\n\"1\": 5\n\"01\": 6\nB: 7\nZ: 3\na: 8\na-b: 11\na0: 12\na9: 2\na10: 1\nab: 9\nabc: 10\n"
        );
    }

    /// Keys of letters only (most field names) sort by code point, a prefix first.
    #[test]
    fn letters_only_keys_sort_by_code_point() {
        assert_eq!(y(r##"{"b":1,"B":2,"ab":3,"a":4,"Ab":5}"##), "Ab: 5\nB: 2\na: 4\nab: 3\nb: 1\n");
    }

    /// A zero preceded by a non-zero digit is part of a number.
    #[test]
    fn zero_inside_number_sorts_numerically() {
        assert_eq!(y(r##"{"x100":1,"x20":2,"x3":3}"##), "x3: 3\nx20: 2\nx100: 1\n");
    }

    /// Letters are Unicode categories L*: U+2160 `Ⅰ` is a
    /// letter-like number (Nl) and sorts with the non-letters; other letters
    /// compare by code point; non-ASCII digits (Nd) join numeric runs.
    #[test]
    fn keys_use_unicode_letter_categories() {
        assert_eq!(
            y(r##"{"é":1,"~":2,"z":3,"a٣":4,"a1":5,"Ⅰ":6,"ǅ":7}"##),
            "\"~\": 2\nⅠ: 6\na1: 5\na٣: 4\nz: 3\né: 1\nǅ: 7\n"
        );
    }

    /// `keyList.Less` is not transitive for some keys (here
    /// 1Ab9 < 9:b < 1900 < 1Ab9); Go's output then depends on its random map
    /// order. We must stay deterministic and must not panic.
    #[test]
    fn non_transitive_keys_render_deterministically() {
        let input = r##"{"1Ab9":1,"9:b":2,"1900":3}"##;
        let first = y(input);
        assert_eq!(first, y(input));
        // Go's insertion sort yields this order when its map iteration happens
        // to visit the keys in this (JSON) order.
        assert_eq!(first, "1Ab9: 1\n9:b: 2\n\"1900\": 3\n");
    }

    /// YAML 1.1 booleans and nulls in exactly these
    /// spellings are quoted; other casings are plain strings.
    #[test]
    fn quotes_bool_and_null_words() {
        let got = y(r##"["yes","No","on","Off","y","N","~","null","NULL","","yES","nUll","true","True","<<"]"##);
        assert_eq!(
            got,
            "- \"yes\"\n- \"No\"\n- \"on\"\n- \"Off\"\n- \"y\"\n- \"N\"\n- \"~\"\n- \"null\"\n- \"NULL\"\n- \"\"\n\
             - yES\n- nUll\n- \"true\"\n- \"True\"\n- <<\n"
        );
    }

    /// Strings that read as Go integers (base prefixes, octal
    /// leading zero, underscores removed) or as finite decimal floats
    /// are numbers, so they are double-quoted.
    #[test]
    fn quotes_number_like_strings() {
        let got = y(
            r##"["1.5","1e3","0x1F","0o17","0b101","0777","08","1_000","+1","-1",".5",".inf","-.Inf",".5_5","._5","1.","12abc","0x","1e","e3"]"##,
        );
        assert_eq!(
            got,
            "- \"1.5\"\n- \"1e3\"\n- \"0x1F\"\n- \"0o17\"\n- \"0b101\"\n- \"0777\"\n- \"08\"\n- \"1_000\"\n- \"+1\"\n\
             - \"-1\"\n- \".5\"\n- \".inf\"\n- \"-.Inf\"\n- \".5_5\"\n- ._5\n- \"1.\"\n- 12abc\n- 0x\n- 1e\n- e3\n"
        );
    }

    /// A lowercase `0b` prefix takes a sign after it; other prefixes do not.
    #[test]
    fn quotes_signed_binary_after_prefix() {
        assert_eq!(
            y(r##"["0b-1","0b+1","0B-1","0x-1","-0b-1"]"##),
            "- \"0b-1\"\n- \"0b+1\"\n- 0B-1\n- 0x-1\n- -0b-1\n"
        );
    }

    /// Sexagesimal numbers are quoted; the final
    /// `'1:2:'` is single-quoted by the emitter because of `: ` at the end.
    #[test]
    fn quotes_base60_floats() {
        assert_eq!(y(r##"["1:20","1:60","-1:20:30.5","1:2:"]"##), "- \"1:20\"\n- 1:60\n- \"-1:20:30.5\"\n- '1:2:'\n");
    }

    /// Timestamps: the four accepted layouts, with Go's
    /// `time.Parse` range checks (month, day-of-month incl. leap years, hour).
    #[test]
    fn quotes_timestamps() {
        let got = y(
            r##"["2001-12-14","2001-13-01","2001-02-29","2000-02-29","2001-12-14t21:59:43.10-05:00","2001-12-14 21:59:43.10","2001-12-14T21:59:43Z","2001-12-14T25:00:00Z","2001-1-2","20011-1-1"]"##,
        );
        assert_eq!(
            got,
            "- \"2001-12-14\"\n- 2001-13-01\n- 2001-02-29\n- \"2000-02-29\"\n- \"2001-12-14t21:59:43.10-05:00\"\n\
             - \"2001-12-14 21:59:43.10\"\n- \"2001-12-14T21:59:43Z\"\n- 2001-12-14T25:00:00Z\n- \"2001-1-2\"\n- 20011-1-1\n"
        );
    }

    /// Indicators, `: `, ` #`, leading or
    /// trailing spaces and document markers rule out plain style; the
    /// emitter falls back to single quotes (doubling embedded quotes).
    #[test]
    fn single_quotes_when_plain_is_not_allowed() {
        let got = y(
            r##"["- a","-a","-",": a","a:b","a: b","a:","#a","a#b","a #b","*a","&a","!a","|a",">a","'a","\"a","%a","@a","`a","{a","a{","?a","? a"," lead","trail ","---x","...x","--x","it's"]"##,
        );
        assert_eq!(
            got,
            "- '- a'\n- -a\n- '-'\n- ': a'\n- a:b\n- 'a: b'\n- 'a:'\n- '#a'\n- a#b\n- 'a #b'\n- '*a'\n- '&a'\n\
             - '!a'\n- '|a'\n- '>a'\n- '''a'\n- '\"a'\n- '%a'\n- '@a'\n- '`a'\n- '{a'\n- a{\n- ?a\n- '? a'\n\
             - ' lead'\n- 'trail '\n- '---x'\n- '...x'\n- --x\n- it's\n"
        );
    }

    /// Non-printable characters: TAB, chars
    /// above U+FFFF, a leading BOM (which escapes the whole value) force
    /// double quotes with escapes; a space before a line break rules out a
    /// literal block.
    #[test]
    fn double_quotes_with_escapes() {
        let got = y(r##"["a\tb","\ud83d\ude00","\ufeffab","a \nb","a\n ","é漢","x\\y\"z"]"##);
        assert_eq!(
            got,
            "- \"a\\tb\"\n- \"\\U0001F600\"\n- \"\\uFEFF\\x61\\x62\"\n- \"a \\nb\"\n- \"a\\n \"\n- é漢\n- x\\y\"z\n"
        );
    }

    /// kubectl itself fails on DEL ("control characters are not allowed");
    /// we render it escaped rather than fail.
    #[test]
    fn renders_control_characters_kubectl_rejects() {
        assert_eq!(y(r##"["\u007f","\u0080","\uffff"]"##), "- \"\\x7F\"\n- \"\\x80\"\n- \"\\uFFFF\"\n");
    }

    /// Text with a newline is a literal block;
    /// the header has `2` for a leading space/break and the
    /// chomping indicator (`-` no final break, none for one, `+` for more).
    #[test]
    fn literal_blocks_with_hints() {
        let got = y(r##"["a\nb","a\n","a\n\n","\na","  a\nb","\n","a\n\nb\n"]"##);
        assert_eq!(
            got,
            "- |-\n  a\n  b\n- |\n  a\n- |+\n  a\n\n- |2-\n\n  a\n- |2-\n    a\n  b\n- |2+\n\n- |\n  a\n\n  b\n"
        );
    }

    /// Plain and quoted scalars fold at the
    /// first single space once past column 80 (best_width); double-quoted
    /// continuation lines escape a leading space; no spaces, no folding.
    #[test]
    fn folds_long_scalars_at_80_columns() {
        let words = "word ".repeat(30);
        let value = serde_json::json!({
            "plain": words,
            "single": format!("- {}end", "word ".repeat(30)),
            "double": format!("\t{}  spaced {}", "word ".repeat(20), "word ".repeat(10)),
            "nofold": "x".repeat(100),
        });
        let got = to_yaml_string(&value).expect("renders");
        let expected = format!(
            "double: \"\\t{w14}word\n  {w4}word   spaced {w10}\"\nnofold: {x}\n\
             plain: '{w14}word\n  {w14}word '\nsingle: '- {w14}word\n  {w15}end'\n",
            w4 = "word ".repeat(4),
            w10 = "word ".repeat(10),
            w14 = "word ".repeat(14),
            w15 = "word ".repeat(15),
            x = "x".repeat(100),
        );
        assert_eq!(got, expected);
    }

    /// A sequence that is a mapping
    /// value is indentless; nested sequences and mappings in sequences share
    /// the `- ` line; empty collections are flow `{}` / `[]`.
    #[test]
    fn block_layout_and_empty_collections() {
        let got = y(r##"{"m":{"s":["a",["b","c"],{"k":"v","l":["x"]}],"e":{},"q":[]},"n":null}"##);
        assert_eq!(
            got,
            "m:\n  e: {}\n  q: []\n  s:\n  - a\n  - - b\n    - c\n  - k: v\n    l:\n    - x\n\"n\": null\n"
        );
    }

    /// Keys over 128 bytes or spanning lines
    /// use the explicit `? key` / `: value` form.
    #[test]
    fn long_and_multiline_keys_use_explicit_form() {
        let mut map = serde_json::Map::new();
        map.insert("k".repeat(129), Value::from(1));
        map.insert("k".repeat(128), Value::from(2));
        map.insert("multi\nline".into(), Value::from("v"));
        map.insert("multi2\nline".into(), serde_json::json!({"a": 1}));
        let got = to_yaml_string(&Value::Object(map)).expect("renders");
        let expected = format!(
            "{k128}: 2\n? {k129}\n: 1\n? |-\n  multi\n  line\n: v\n? |-\n  multi2\n  line\n: a: 1\n",
            k128 = "k".repeat(128),
            k129 = "k".repeat(129)
        );
        assert_eq!(got, expected);
    }

    /// encoding/json → go-yaml number typing: integral floats below 1e21
    /// print as integers (from the shortest digits), others with
    /// `FormatFloat(f, 'g', -1, 64)` (exponent from 1e+06, ties to even).
    #[test]
    fn numbers_as_kubectl_prints_them() {
        // Built from f64s directly: serde_json's default float parser is not
        // correctly rounded (it reads 818245902023728.25 two ULPs off).
        // 818245902023728.2 below is exactly ...728.25, a tie between the
        // shortest candidates ...728.2 and ...728.3; Go picks the even one.
        let floats =
            [1e6, 123456.0, 1234567.5, 0.5, 1e-7, 1e21, 1e20, 1e18, -0.0, 818245902023728.2, 3.948970500172141e16];
        let mut items: Vec<Value> = floats.into_iter().map(Value::from).collect();
        items.extend([Value::from(u64::MAX), Value::from(i64::MIN)]);
        items.extend([0.0001, 0.00001, 100.0].map(Value::from));
        items.push(Value::Bool(true));
        let got = to_yaml_string(&Value::Array(items)).expect("renders");
        assert_eq!(
            got,
            "- 1000000\n- 123456\n- 1.2345675e+06\n- 0.5\n- 1e-07\n- 1e+21\n- 1e+20\n- 1000000000000000000\n- 0\n\
             - 8.182459020237282e+14\n- 39489705001721410\n- 18446744073709551615\n- -9223372036854775808\n\
             - 0.0001\n- 1e-05\n- 100\n- true\n"
        );
    }

    /// kubectl's YAML parse of the JSON folds a
    /// raw NEL (which encoding/json does not escape) like a line break.
    #[test]
    fn nel_is_folded_like_kubectl() {
        assert_eq!(
            y(r##"["a\u0085b","a \u0085 b","a\u0085\u0085b","\u0085"]"##),
            "- a b\n- a b\n- |-\n  a\n  b\n- ' '\n"
        );
    }

    /// A scalar or empty collection at the root ends with a newline too.
    #[test]
    fn root_scalars_and_empties() {
        assert_eq!(y(r##""plain root""##), "plain root\n");
        assert_eq!(y("[]"), "[]\n");
        assert_eq!(y("{}"), "{}\n");
        assert_eq!(y("null"), "null\n");
    }

    #[test]
    fn write_yaml_writes_the_same_bytes() {
        let value: Value = serde_json::from_str(r##"{"b":[1,{}],"a":"x"}"##).expect("parses");
        let mut out = Vec::new();
        write_yaml(&value, &mut out).expect("writes");
        assert_eq!(out, to_yaml_string(&value).expect("renders").into_bytes());
    }

    #[test]
    fn too_deep_is_an_error_not_a_crash() {
        let mut value = Value::Null;
        for _ in 0..=MAX_DEPTH + 1 {
            value = Value::Array(vec![value]);
        }
        assert!(matches!(to_yaml_string(&value), Err(YamlError::TooDeep { .. })));
    }
}
