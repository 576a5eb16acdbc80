//! A port of the parts of go-yaml v2's `emitterc.go` (itself a port of libyaml)
//! that `yaml.Marshal` exercises when it writes the output of
//! `sigs.k8s.io/yaml.JSONToYAML`: block mappings and sequences, empty flow
//! collections (`{}` / `[]`), and scalars in plain, single-quoted,
//! double-quoted and literal style.
//!
//! The code deliberately mirrors the Go functions (same names, same order of
//! checks, same byte-level tests) because byte-identical output is the goal:
//! every "odd" branch here reproduces an odd branch of go-yaml. The only
//! structural difference is that go-yaml drives the emitter with a queue of
//! events and an explicit state stack, while the caller of this module walks
//! the JSON tree recursively; the emitter state that the Go code consults
//! (`indent`, `column`, `whitespace`, `indention`, contexts) is kept here with
//! identical update rules.
//!
//! Nothing in here indexes a slice directly: [`at`] returns 0 past the end,
//! which is what libyaml's NUL-terminated buffers would show (Go would panic
//! instead, on input that valid UTF-8 cannot produce).

/// go-yaml's default `best_indent`.
const BEST_INDENT: isize = 2;
/// go-yaml v2's default `best_width`: plain and quoted scalars are folded at
/// the first space after column 80 (`column > best_width`).
const BEST_WIDTH: usize = 80;
/// `yaml_emitter_check_simple_key`: keys longer than this are written in the
/// explicit `? key` / `: value` form.
const MAX_SIMPLE_KEY_LEN: usize = 128;

/// Scalar styles, as requested by the encoder and then adjusted by
/// [`Emitter::select_scalar_style`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// Result of `yaml_emitter_analyze_scalar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScalarAnalysis {
    pub(crate) multiline: bool,
    pub(crate) flow_plain_allowed: bool,
    pub(crate) block_plain_allowed: bool,
    pub(crate) single_quoted_allowed: bool,
    pub(crate) block_allowed: bool,
}

/// Byte at `i`, or 0 past the end (libyaml's NUL terminator).
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// `width`: length of the UTF-8 sequence starting with byte `b`. Returns 1 for
/// a stray continuation byte (go-yaml returns 0 and would loop forever; that
/// cannot happen for a Rust `&str`, but a forward step keeps us panic-free).
fn width(b: u8) -> usize {
    if b & 0x80 == 0x00 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        1
    }
}

/// `is_printable`. Note what go-yaml does NOT consider printable: TAB, CR, DEL,
/// C1 controls, U+FEFF, U+FFFE/U+FFFF and every 4-byte sequence (U+10000 and
/// above, e.g. emoji). Such strings are double-quoted with escapes.
fn is_printable(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    let c1 = at(b, i + 1);
    let c2 = at(b, i + 2);
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (c == 0xC2 && c1 >= 0xA0)
        || (c > 0xC2 && c < 0xED)
        || (c == 0xED && c1 < 0xA0)
        || c == 0xEE
        || (c == 0xEF && !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)))
}

/// `is_bom`. go-yaml tests the *start of the value* whatever `i` is, so a value
/// that begins with U+FEFF has every one of its characters escaped.
fn is_bom(b: &[u8]) -> bool {
    at(b, 0) == 0xEF && at(b, 1) == 0xBB && at(b, 2) == 0xBF
}

fn is_space(b: &[u8], i: usize) -> bool {
    at(b, i) == b' '
}

fn is_blank(b: &[u8], i: usize) -> bool {
    matches!(at(b, i), b' ' | b'\t')
}

/// `is_break`: LF, CR, NEL, LS, PS.
fn is_break(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    c == b'\r'
        || c == b'\n'
        || (c == 0xC2 && at(b, i + 1) == 0x85)
        || (c == 0xE2 && at(b, i + 1) == 0x80 && matches!(at(b, i + 2), 0xA8 | 0xA9))
}

/// `is_blankz`: blank, break, or NUL (end of buffer).
fn is_blankz(b: &[u8], i: usize) -> bool {
    is_blank(b, i) || is_break(b, i) || at(b, i) == 0
}

/// `yaml_emitter_analyze_scalar`: which styles can represent `value`.
pub(crate) fn analyze_scalar(value: &str) -> ScalarAnalysis {
    let v = value.as_bytes();
    if v.is_empty() {
        return ScalarAnalysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }

    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;

    // A document marker at the start cannot be plain.
    if v.starts_with(b"---") || v.starts_with(b"...") {
        block_indicators = true;
        flow_indicators = true;
    }

    let mut preceded_by_whitespace = true;
    let mut i = 0;
    while i < v.len() {
        let w = width(v[i]);
        let followed_by_whitespace = i + w >= v.len() || is_blank(v, i + w);

        if i == 0 {
            match v[i] {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%'
                | b'@' | b'`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                b'?' | b':' => {
                    flow_indicators = true;
                    block_indicators |= followed_by_whitespace;
                }
                b'-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match v[i] {
                b',' | b'?' | b'[' | b']' | b'{' | b'}' => flow_indicators = true,
                b':' => {
                    flow_indicators = true;
                    block_indicators |= followed_by_whitespace;
                }
                b'#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }

        // go-yaml runs with `unicode = true`, so only non-printables count.
        if !is_printable(v, i) {
            special_characters = true;
        }
        if is_space(v, i) {
            if i == 0 {
                leading_space = true;
            }
            if i + w == v.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(v, i) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + w == v.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }

        preceded_by_whitespace = is_blankz(v, i);
        i += w;
    }

    let mut a = ScalarAnalysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// `yaml_emitter_check_simple_key` for a scalar key (no anchors or tags).
pub(crate) fn is_simple_key(value: &str, a: &ScalarAnalysis) -> bool {
    !a.multiline && value.len() <= MAX_SIMPLE_KEY_LEN
}

/// Emitter state; field names follow `yaml_emitter_t`.
pub(crate) struct Emitter {
    out: Vec<u8>,
    column: usize,
    indent: isize,
    indents: Vec<isize>,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
    pub(crate) root_context: bool,
    pub(crate) sequence_context: bool,
    pub(crate) mapping_context: bool,
    pub(crate) simple_key_context: bool,
}

impl Emitter {
    /// State after `yaml_emitter_emit_stream_start` and an implicit first
    /// document start (which writes nothing).
    pub(crate) fn new() -> Self {
        Emitter {
            out: Vec::new(),
            column: 0,
            indent: -1,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
            flow_level: 0,
            root_context: false,
            sequence_context: false,
            mapping_context: false,
            simple_key_context: false,
        }
    }

    /// The start of `yaml_emitter_emit_node`: record the node's context.
    pub(crate) fn set_context(&mut self, root: bool, sequence: bool, mapping: bool, simple_key: bool) {
        self.root_context = root;
        self.sequence_context = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
    }

    /// `yaml_emitter_emit_document_end` for an implicit end, then the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.write_indent();
        self.out
    }

    pub(crate) fn indention(&self) -> bool {
        self.indention
    }

    // ---- output primitives -------------------------------------------------

    fn put(&mut self, c: u8) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
    }

    /// `write`: copy one character; the column counts characters, not bytes.
    fn write(&mut self, s: &[u8], i: &mut usize) {
        let w = width(at(s, *i));
        let end = (*i + w).min(s.len());
        if let Some(ch) = s.get(*i..end) {
            self.out.extend_from_slice(ch);
        }
        self.column += 1;
        *i = end.max(*i + 1);
    }

    fn write_all(&mut self, s: &[u8]) {
        let mut i = 0;
        while i < s.len() {
            self.write(s, &mut i);
        }
    }

    /// `write_break`: LF becomes the configured break; other breaks (CR, NEL,
    /// LS, PS) are copied verbatim and reset the column.
    fn write_break(&mut self, s: &[u8], i: &mut usize) {
        if at(s, *i) == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(s, i);
            self.column = 0;
        }
    }

    // ---- indentation and indicators ----------------------------------------

    /// `yaml_emitter_increase_indent`.
    pub(crate) fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    /// Pop the indentation pushed by [`Self::increase_indent`].
    pub(crate) fn decrease_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    /// `yaml_emitter_write_indent`.
    pub(crate) fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    /// `yaml_emitter_write_indicator`.
    pub(crate) fn write_indicator(
        &mut self,
        indicator: &[u8],
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(b' ');
        }
        self.write_all(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    /// An empty mapping or sequence: go-yaml switches to flow style for it
    /// (`yaml_emitter_check_empty_mapping` / `_sequence`) and writes `{}` / `[]`.
    pub(crate) fn write_empty_flow(&mut self, open: u8, close: u8) {
        self.write_indicator(&[open], true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        self.flow_level -= 1;
        self.decrease_indent();
        self.write_indicator(&[close], false, false, false);
    }

    // ---- scalars -----------------------------------------------------------

    /// `yaml_emitter_select_scalar_style` (scalars are never tagged here).
    pub(crate) fn select_scalar_style(&self, requested: ScalarStyle, value: &str, a: &ScalarAnalysis) -> ScalarStyle {
        let mut style = requested;
        if self.simple_key_context && a.multiline {
            style = ScalarStyle::DoubleQuoted;
        }
        if style == ScalarStyle::Plain {
            if (self.flow_level > 0 && !a.flow_plain_allowed) || (self.flow_level == 0 && !a.block_plain_allowed) {
                style = ScalarStyle::SingleQuoted;
            }
            if value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = ScalarStyle::SingleQuoted;
            }
        }
        if style == ScalarStyle::SingleQuoted && !a.single_quoted_allowed {
            style = ScalarStyle::DoubleQuoted;
        }
        if style == ScalarStyle::Literal && (!a.block_allowed || self.flow_level > 0 || self.simple_key_context) {
            style = ScalarStyle::DoubleQuoted;
        }
        style
    }

    /// `yaml_emitter_emit_scalar`: choose the style, then write the scalar one
    /// indentation level deeper (continuation lines of folded scalars and the
    /// body of literal blocks go there).
    pub(crate) fn emit_scalar(&mut self, value: &str, requested: ScalarStyle, a: &ScalarAnalysis) {
        let style = self.select_scalar_style(requested, value, a);
        self.increase_indent(true, false);
        let v = value.as_bytes();
        let allow_breaks = !self.simple_key_context;
        match style {
            ScalarStyle::Plain => self.write_plain_scalar(v, allow_breaks),
            ScalarStyle::SingleQuoted => self.write_single_quoted_scalar(v, allow_breaks),
            ScalarStyle::DoubleQuoted => self.write_double_quoted_scalar(v, allow_breaks),
            ScalarStyle::Literal => self.write_literal_scalar(v),
        }
        self.decrease_indent();
    }

    /// `yaml_emitter_write_plain_scalar`.
    fn write_plain_scalar(&mut self, v: &[u8], allow_breaks: bool) {
        if !self.whitespace {
            self.put(b' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < v.len() {
            if is_space(v, i) {
                // Fold: the first space of a run, past column 80, not followed
                // by another space becomes a line break.
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !is_space(v, i + 1) {
                    self.write_indent();
                    i += width(v[i]);
                } else {
                    self.write(v, &mut i);
                }
                spaces = true;
            } else if is_break(v, i) {
                if !breaks && v[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(v, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(v, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    /// `yaml_emitter_write_single_quoted_scalar`.
    fn write_single_quoted_scalar(&mut self, v: &[u8], allow_breaks: bool) {
        self.write_indicator(b"'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < v.len() {
            if is_space(v, i) {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < v.len() - 1
                    && !is_space(v, i + 1)
                {
                    self.write_indent();
                    i += width(v[i]);
                } else {
                    self.write(v, &mut i);
                }
                spaces = true;
            } else if is_break(v, i) {
                if !breaks && v[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(v, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if v[i] == b'\'' {
                    self.put(b'\'');
                }
                self.write(v, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// `yaml_emitter_write_double_quoted_scalar`.
    fn write_double_quoted_scalar(&mut self, v: &[u8], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator(b"\"", true, false, false);
        let bom = is_bom(v);
        let mut i = 0;
        while i < v.len() {
            let c = v[i];
            if !is_printable(v, i) || bom || is_break(v, i) || c == b'"' || c == b'\\' {
                // Decode the character to escape it.
                let (w, mut ch) = match c {
                    _ if c & 0x80 == 0x00 => (1, u32::from(c & 0x7F)),
                    _ if c & 0xE0 == 0xC0 => (2, u32::from(c & 0x1F)),
                    _ if c & 0xF0 == 0xE0 => (3, u32::from(c & 0x0F)),
                    _ if c & 0xF8 == 0xF0 => (4, u32::from(c & 0x07)),
                    _ => (1, u32::from(c)),
                };
                for k in 1..w {
                    ch = (ch << 6) + (u32::from(at(v, i + k)) & 0x3F);
                }
                i += w;
                self.put(b'\\');
                match ch {
                    0x00 => self.put(b'0'),
                    0x07 => self.put(b'a'),
                    0x08 => self.put(b'b'),
                    0x09 => self.put(b't'),
                    0x0A => self.put(b'n'),
                    0x0B => self.put(b'v'),
                    0x0C => self.put(b'f'),
                    0x0D => self.put(b'r'),
                    0x1B => self.put(b'e'),
                    0x22 => self.put(b'"'),
                    0x5C => self.put(b'\\'),
                    0x85 => self.put(b'N'),
                    0xA0 => self.put(b'_'),
                    0x2028 => self.put(b'L'),
                    0x2029 => self.put(b'P'),
                    _ => {
                        let (letter, digits) = if ch <= 0xFF {
                            (b'x', 2)
                        } else if ch <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(letter);
                        for k in (0..digits).rev() {
                            // Masked to a nibble, so the cast cannot truncate.
                            let digit = ((ch >> (k * 4)) & 0x0F) as u8;
                            self.put(if digit < 10 { digit + b'0' } else { digit + b'A' - 10 });
                        }
                    }
                }
                spaces = false;
            } else if is_space(v, i) {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i < v.len() - 1 {
                    self.write_indent();
                    // A folded line loses its leading spaces, so escape one.
                    if is_space(v, i + 1) {
                        self.put(b'\\');
                    }
                    i += width(v[i]);
                } else {
                    self.write(v, &mut i);
                }
                spaces = true;
            } else {
                self.write(v, &mut i);
                spaces = false;
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// `yaml_emitter_write_block_scalar_hints`: indentation indicator when the
    /// text starts with a space or break, then the chomping indicator.
    fn write_block_scalar_hints(&mut self, v: &[u8]) {
        if is_space(v, 0) || is_break(v, 0) {
            // best_indent is 2, so this is the digit '2'.
            self.write_indicator(b"2", false, false, false);
        }
        let chomp: Option<u8> = if v.is_empty() {
            Some(b'-')
        } else {
            let last = start_of_char_before(v, v.len());
            if !is_break(v, last) {
                Some(b'-')
            } else if last == 0 {
                Some(b'+')
            } else {
                let prev = start_of_char_before(v, last);
                if is_break(v, prev) {
                    Some(b'+')
                } else {
                    None
                }
            }
        };
        if let Some(c) = chomp {
            self.write_indicator(&[c], false, false, false);
        }
    }

    /// `yaml_emitter_write_literal_scalar`.
    fn write_literal_scalar(&mut self, v: &[u8]) {
        self.write_indicator(b"|", true, false, false);
        self.write_block_scalar_hints(v);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < v.len() {
            if is_break(v, i) {
                self.write_break(v, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(v, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// Index of the first byte of the character that ends just before `end`.
fn start_of_char_before(v: &[u8], end: usize) -> usize {
    let mut i = end.saturating_sub(1);
    while i > 0 && at(v, i) & 0xC0 == 0x80 {
        i -= 1;
    }
    i
}
