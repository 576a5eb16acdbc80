//! Scalar styles and the text writer.
//!
//! Everything here was derived from the YAML spec (what each style can
//! represent) and from observing kubectl's output for probe strings:
//!
//! * A string is asked for as a literal block if it has a `\n`, double
//!   quoted if its plain form would load as another type, plain otherwise.
//! * Plain falls back to single quotes, single quotes and literal blocks to
//!   double quotes, when the text cannot be represented that way (see
//!   [`Traits`]).
//! * Plain and quoted scalars (except keys written on the key line) are
//!   folded: once past column 80, a single space between two non-spaces
//!   becomes a line break followed by the continuation indent. Double quotes
//!   may break before a run of spaces and then escape the first one (`\ `).

use super::implicit::reads_as_other_type;

/// Column after which plain and quoted scalars are folded.
const FOLD_COLUMN: usize = 80;

/// Keys longer than this (in UTF-8 bytes) need the explicit `? ` form.
const MAX_SIMPLE_KEY_BYTES: usize = 128;

const BOM: char = '\u{FEFF}';

/// YAML line breaks (NEL, LS and PS included).
fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Characters that may appear raw in the output. Tab, CR, DEL, C1 controls
/// and everything outside the Basic Multilingual Plane are not among them:
/// kubectl escapes those inside double quotes.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
}

/// The scalar styles the output uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// What a string's characters allow.
#[derive(Debug, PartialEq, Eq)]
struct Traits {
    plain: bool,
    single: bool,
    literal: bool,
    /// The text has a `\n` (which asks for a literal block).
    newline: bool,
}

impl Traits {
    /// One pass over the characters (no allocation).
    fn of(s: &str) -> Traits {
        if s.is_ascii() {
            return Traits::of_ascii(s.as_bytes());
        }
        Traits::of_chars(s)
    }

    /// [`Traits::of_chars`] for ASCII text (configuration files, certificates, scripts:
    /// the long multi-line values), with the same rules: of ASCII, only `\n`
    /// and `' '..='~'` are printable, and `\n`, `\r` are breaks.
    fn of_ascii(b: &[u8]) -> Traits {
        let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
            return Traits { plain: false, single: true, literal: true, newline: false };
        };
        let special = !b.iter().fold(true, |ok, &c| ok & (c == b'\n' || (b' '..=b'~').contains(&c)));
        let newline = memchr::memchr(b'\n', b).is_some();
        let multiline = newline || memchr::memchr(b'\r', b).is_some();
        // Looked for around the breaks and the spaces only, found with vectorised searches:
        // byte-by-byte pairs over multi-line values (configuration files in ConfigMaps) were
        // a fifth of writing YAML.
        let (mut space_then_break, mut break_then_space) = (false, false);
        for i in memchr::memchr2_iter(b'\n', b'\r', b) {
            space_then_break |= i > 0 && b[i - 1] == b' ';
            break_then_space |= b.get(i + 1) == Some(&b' ');
        }
        // Only plain style cares, and a break rules it out anyway.
        let bad_inside = !multiline && marks_value_or_comment(b);
        let plain =
            !(special || multiline || opens_another_construct(b) || bad_inside || first == b' ' || last == b' ');
        let single = !(special || space_then_break || break_then_space);
        let literal = !(special || space_then_break || last == b' ');
        Traits { plain, single, literal, newline }
    }

    fn of_chars(s: &str) -> Traits {
        let Some(first) = s.chars().next() else {
            return Traits { plain: false, single: true, literal: true, newline: false };
        };
        // Non-printable text and byte order marks only survive escaped.
        let mut special = false;
        let mut multiline = false;
        let mut newline = false;
        let mut space_then_break = false;
        let mut break_then_space = false;
        let mut prev: Option<char> = None;
        for c in s.chars() {
            let brk = is_break(c);
            special |= !is_printable(c) || c == BOM;
            multiline |= brk;
            newline |= c == '\n';
            if let Some(p) = prev {
                space_then_break |= p == ' ' && brk;
                break_then_space |= c == ' ' && is_break(p);
            }
            prev = Some(c);
        }
        let last = prev.unwrap_or(first);
        let bad_inside = !multiline && marks_value_or_comment(s.as_bytes());
        let plain = !(special
            || multiline
            || opens_another_construct(s.as_bytes())
            || bad_inside
            || first == ' '
            || last == ' ');
        let single = !(special || space_then_break || break_then_space);
        let literal = !(special || space_then_break || last == ' ');
        Traits { plain, single, literal, newline }
    }
}

/// Whether plain text opening with these bytes would open another construct: an indicator
/// character, `-`, `?` or `:` followed by a space or nothing, or a document marker. Bytes
/// answer for any UTF-8 text, since every indicator is ASCII.
#[inline]
fn opens_another_construct(b: &[u8]) -> bool {
    let Some(&first) = b.first() else { return false };
    // `matches!` rather than a search of a list of indicators: this runs on every string
    // written, and `<[u8]>::contains` calls the standard library's memchr.
    matches!(
        first,
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`'
    ) || (matches!(first, b'-' | b'?' | b':') && b.get(1).is_none_or(|&c| c == b' '))
        || b.starts_with(b"---")
        || b.starts_with(b"...")
}

/// Whether the text holds `: ` (which starts a value) or ` #` (a comment), or ends in `:`,
/// anywhere plain style would misread it. Looked for only around the spaces, found with a
/// vectorised search: long values make this one of the hottest loops of `extract`.
fn marks_value_or_comment(b: &[u8]) -> bool {
    b.last() == Some(&b':')
        || memchr::memchr_iter(b' ', b).any(|i| (i > 0 && b[i - 1] == b':') || b.get(i + 1) == Some(&b'#'))
}

/// Style of a non-empty string of printable ASCII (`' '..='~'`), the
/// overwhelmingly common case, in one pass over the bytes; `None` for any
/// other string. Same rules as [`Traits`]: such a string has no break and
/// nothing special, so it is double-quoted if it reads as another type,
/// plain if plain is allowed, single-quoted otherwise.
#[inline]
pub(crate) fn printable_ascii_style(s: &str) -> Option<Style> {
    let b = s.as_bytes();
    let (&first, &last) = (b.first()?, b.last()?);
    // Two simple passes the compiler vectorises: long values (Secret data, certificates,
    // configuration files) make this one of the hottest loops of `extract`.
    if !b.iter().fold(true, |ok, c| ok & (b' '..=b'~').contains(c)) {
        return None;
    }
    if reads_as_other_type(s) {
        return Some(Style::Double);
    }
    let plain = !(opens_another_construct(b) || marks_value_or_comment(b) || first == b' ' || last == b' ');
    Some(if plain { Style::Plain } else { Style::Single })
}

/// The style kubectl uses for a string.
pub(crate) fn string_style(s: &str) -> Style {
    printable_ascii_style(s).unwrap_or_else(|| any_string_style(s))
}

/// [`string_style`] for any string, without the fast path.
#[inline]
fn any_string_style(s: &str) -> Style {
    let traits = Traits::of(s);
    if traits.newline {
        return if traits.literal { Style::Literal } else { Style::Double };
    }
    if reads_as_other_type(s) {
        return Style::Double;
    }
    if traits.plain {
        Style::Plain
    } else if traits.single {
        Style::Single
    } else {
        Style::Double
    }
}

/// A key's style, and whether it fits on the `key: value` line (otherwise it is written as
/// `? key` / `: value`): one pass for printable ASCII, which has no line break.
pub(crate) fn key_style(s: &str) -> (Style, bool) {
    match printable_ascii_style(s) {
        Some(style) => (style, s.len() <= MAX_SIMPLE_KEY_BYTES),
        None => (any_string_style(s), is_simple_key(s)),
    }
}

/// Whether a key is ASCII letters only, as most field names are: its style is quick to
/// tell, and its natural order is byte order.
pub(crate) fn letters_only(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphabetic())
}

/// What a key's text tells its writer, worked out once for each of the schema's field
/// names: those are written on every object, a hundred or so each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// ASCII letters only, and plain on the `key: value` line: written as it is.
    PlainLetters,
    /// ASCII letters only (so in byte order), but quoted (`y`, `on` …) or too long for the
    /// key line.
    Letters,
    /// Anything else.
    Other,
}

impl KeyKind {
    pub(crate) fn of(key: &str) -> KeyKind {
        if !letters_only(key) {
            KeyKind::Other
        } else if letters_key_style(key) == (Style::Plain, true) {
            KeyKind::PlainLetters
        } else {
            KeyKind::Letters
        }
    }

    /// Whether the key is ASCII letters only.
    pub(crate) fn letters(self) -> bool {
        self != KeyKind::Other
    }
}

/// [`key_style`] of a key made of ASCII letters only, as most field names are: plain unless
/// it reads as another type (`y`, `no`, `on`, `null` …), and it has no line break. A quarter
/// of the general path's work, on most keys of every object.
pub(crate) fn letters_key_style(s: &str) -> (Style, bool) {
    debug_assert!(!s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()));
    let style = if reads_as_other_type(s) { Style::Double } else { Style::Plain };
    (style, s.len() <= MAX_SIMPLE_KEY_BYTES)
}

/// Whether a key fits on the `key: value` line.
fn is_simple_key(s: &str) -> bool {
    s.len() <= MAX_SIMPLE_KEY_BYTES
        && if s.is_ascii() { !s.bytes().any(|b| b == b'\n' || b == b'\r') } else { !s.chars().any(is_break) }
}

/// Spaces for indentation, copied in slices.
const SPACES: &str = "                                                                ";

/// The output text and the current column (in characters).
pub(crate) struct Out {
    pub(crate) text: String,
    pub(crate) column: usize,
}

/// Number of characters in `s` (its length when ASCII).
fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

impl Out {
    pub(crate) fn with_capacity(capacity: usize) -> Out {
        Out { text: String::with_capacity(capacity), column: 0 }
    }

    /// Append text that contains no line break.
    pub(crate) fn put(&mut self, s: &str) {
        self.text.push_str(s);
        self.column += char_count(s);
    }

    /// Append ASCII text that contains no line break.
    pub(crate) fn put_ascii(&mut self, s: &str) {
        self.text.push_str(s);
        self.column += s.len();
    }

    pub(crate) fn put_char(&mut self, c: char) {
        self.text.push(c);
        self.column += 1;
    }

    /// End the line (if anything is on it) and indent the next one.
    pub(crate) fn line(&mut self, indent: usize) {
        if self.column > 0 {
            self.newline();
        }
        self.pad(indent);
    }

    pub(crate) fn newline(&mut self) {
        self.text.push('\n');
        self.column = 0;
    }

    fn pad(&mut self, indent: usize) {
        while self.column < indent {
            let n = (indent - self.column).min(SPACES.len());
            self.text.push_str(SPACES.get(..n).unwrap_or_default());
            self.column += n;
        }
    }

    /// Write `s` in `style`. `indent` is the column of continuation lines
    /// and of a literal block's body; `fold` is false for keys on the key
    /// line.
    pub(crate) fn scalar(&mut self, s: &str, style: Style, indent: usize, fold: bool) {
        match style {
            Style::Plain => self.plain(s, indent, fold),
            Style::Single => self.folded(s, Some('\''), indent, fold),
            Style::Double => self.double_quoted(s, indent, fold),
            Style::Literal => self.literal(s, indent),
        }
    }

    /// Plain text. It has no line breaks (they rule out plain style), so
    /// it is written as it is unless a space may get folded: that needs a
    /// space past [`FOLD_COLUMN`].
    fn plain(&mut self, s: &str, indent: usize, fold: bool) {
        // A space at byte `i` sits at most at column `column + i`. The search is the memchr
        // crate's: long plain scalars are mostly base64 (Secrets' data) without a space, and
        // `str::contains` searched them at a quarter of its speed.
        if !fold || self.column + s.len() <= FOLD_COLUMN + 1 || memchr::memchr(b' ', s.as_bytes()).is_none() {
            self.put(s);
        } else {
            self.folded(s, None, indent, fold);
        }
    }

    /// Plain or single-quoted text. Only LS/PS can be line breaks here (a
    /// `\n` always selects another style); they are written raw and the
    /// next line is indented when it has content.
    fn folded(&mut self, s: &str, quote: Option<char>, indent: usize, fold: bool) {
        if let Some(q) = quote {
            self.put_char(q);
        }
        let mut line_start = false;
        let mut prev: Option<char> = None;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                let next = chars.peek().copied();
                let can_fold = fold
                    && self.column > FOLD_COLUMN
                    && prev.is_some_and(|p| p != ' ')
                    && next.is_some_and(|n| n != ' ');
                if can_fold {
                    self.newline();
                    self.pad(indent);
                } else {
                    self.put_char(' ');
                }
            } else if is_break(c) {
                self.text.push(c);
                self.column = 0;
                line_start = true;
            } else {
                if line_start {
                    self.pad(indent);
                    line_start = false;
                }
                if c == '\'' && quote.is_some() {
                    self.put_ascii("''");
                } else {
                    self.put_char(c);
                }
            }
            prev = Some(c);
        }
        if let Some(q) = quote {
            self.put_char(q);
        }
    }

    /// Double-quoted text with escapes. A leading byte order mark makes
    /// kubectl escape every character of the value.
    fn double_quoted(&mut self, s: &str, indent: usize, fold: bool) {
        self.put_char('"');
        let escape_all = s.starts_with(BOM);
        let mut prev: Option<char> = None;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            let p = prev;
            prev = Some(c);
            let needs_escape = escape_all || !is_printable(c) || c == BOM || is_break(c) || c == '"' || c == '\\';
            if needs_escape {
                self.escape(c);
                continue;
            }
            if c == ' ' {
                let next = chars.peek().copied();
                let can_fold = fold && self.column > FOLD_COLUMN && p.is_some_and(|p| p != ' ') && next.is_some();
                if can_fold {
                    self.newline();
                    self.pad(indent);
                    // A space opening a continuation line would be eaten by
                    // line folding on reading; escape it.
                    if next == Some(' ') {
                        self.put_char('\\');
                    }
                    continue;
                }
            }
            self.put_char(c);
        }
        self.put_char('"');
    }

    /// `|` block: an indentation indicator when the text starts with a space
    /// or a break, then `-` (no final break), nothing (one), or `+` (more, or
    /// the text is a lone break).
    fn literal(&mut self, s: &str, indent: usize) {
        self.put_char('|');
        if s.chars().next().is_some_and(|c| c == ' ' || is_break(c)) {
            self.put_char('2');
        }
        let mut from_end = s.chars().rev();
        let last = from_end.next();
        let before_last = from_end.next();
        let ends_with_break = last.is_some_and(is_break);
        if !ends_with_break {
            self.put_char('-');
        } else if before_last.is_none_or(is_break) {
            self.put_char('+');
        }
        self.newline();
        if s.is_ascii() {
            self.literal_ascii_body(s, indent);
        } else {
            self.literal_body(s, indent);
        }
    }

    /// The lines of a literal block, each indented, with its breaks.
    fn literal_body(&mut self, s: &str, indent: usize) {
        let mut line_start = true;
        for line in s.split_inclusive(is_break) {
            let (body, brk) = match line.chars().next_back().filter(|&c| is_break(c)) {
                Some(c) => (line.get(..line.len() - c.len_utf8()).unwrap_or_default(), Some(c)),
                None => (line, None),
            };
            line_start = self.literal_line(body, brk, indent, line_start, false);
        }
    }

    /// The body of a literal block of ASCII text (configuration files, scripts,
    /// certificates: most long values), where only `\n` and `\r` are breaks: found with a
    /// vectorised search rather than character by character. Same output as
    /// [`Out::literal_body`].
    fn literal_ascii_body(&mut self, s: &str, indent: usize) {
        let mut line_start = true;
        let mut rest = s;
        while !rest.is_empty() {
            let (body, brk, after) = match memchr::memchr2(b'\n', b'\r', rest.as_bytes()) {
                Some(at) => (&rest[..at], Some(char::from(rest.as_bytes()[at])), &rest[at + 1..]),
                None => (rest, None, ""),
            };
            line_start = self.literal_line(body, brk, indent, line_start, true);
            rest = after;
        }
    }

    /// One line of a literal block: `body` (indented if it starts the line), then its
    /// break. Returns whether the next text starts a line.
    fn literal_line(&mut self, body: &str, brk: Option<char>, indent: usize, line_start: bool, ascii: bool) -> bool {
        if !body.is_empty() {
            if line_start {
                self.pad(indent);
            }
            if ascii {
                self.put_ascii(body);
            } else {
                self.put(body);
            }
        }
        match brk {
            Some('\n') => {
                self.newline();
                true
            }
            Some(c) => {
                self.text.push(c);
                self.column = 0;
                true
            }
            None => line_start && body.is_empty(),
        }
    }

    /// Escape sequence for one character inside double quotes.
    fn escape(&mut self, c: char) {
        let short = match c {
            '\0' => "0",
            '\u{7}' => "a",
            '\u{8}' => "b",
            '\t' => "t",
            '\n' => "n",
            '\u{B}' => "v",
            '\u{C}' => "f",
            '\r' => "r",
            '\u{1B}' => "e",
            '"' => "\"",
            '\\' => "\\",
            '\u{85}' => "N",
            '\u{A0}' => "_",
            '\u{2028}' => "L",
            '\u{2029}' => "P",
            _ => "",
        };
        if !short.is_empty() {
            self.put_char('\\');
            self.put_ascii(short);
            return;
        }
        let code = u32::from(c);
        let (prefix, digits) = if code <= 0xFF {
            ('x', 2)
        } else if code <= 0xFFFF {
            ('u', 4)
        } else {
            ('U', 8)
        };
        self.put_char('\\');
        self.put_char(prefix);
        for shift in (0..digits).rev() {
            let nibble = (code >> (4 * shift)) & 0xF;
            self.put_char(char::from_digit(nibble, 16).unwrap_or('0').to_ascii_uppercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of at most `max_len` pieces of `alphabet`, each once, sorted.
    fn strings_over(alphabet: &[&str], max_len: usize) -> Vec<String> {
        let (mut all, mut longest) = (vec![String::new()], vec![String::new()]);
        for _ in 0..max_len {
            longest = longest.iter().flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}"))).collect();
            all.extend(longest.iter().cloned());
        }
        all.sort();
        all.dedup();
        all
    }

    /// The printable-ASCII fast path picks the general rules' style, on every string of up
    /// to four characters over the characters that matter to the rules.
    #[test]
    fn printable_ascii_style_agrees_with_the_general_rules() {
        let alphabet = [" ", ":", "#", "a", "-", "?", ".", "'", "\"", "1", "{", "@", "~", "y"];
        let strings = strings_over(&alphabet, 4);
        let mut fast = 0;
        for s in &strings {
            if let Some(style) = printable_ascii_style(s) {
                assert_eq!(style, any_string_style(s), "{s:?}");
                fast += 1;
            }
        }
        assert!(fast > 30_000, "{fast}");
        let long = ["k".repeat(128), "k".repeat(129), format!("{}\u{e9}", "k".repeat(127)), "a\nb".into()];
        for s in strings.iter().chain(&long) {
            assert_eq!(key_style(s), (string_style(s), is_simple_key(s)), "{s:?}");
        }
    }

    /// The style of a key of letters only is the general one, on every such key of up to
    /// four letters over those that spell YAML 1.1's other types (and long keys).
    #[test]
    fn letters_key_style_agrees_with_the_general_one() {
        let alphabet = ["a", "e", "f", "l", "n", "o", "r", "s", "t", "u", "y", "F", "L", "N", "O", "S", "T", "U", "Y"];
        let strings = strings_over(&alphabet, 4);
        let long = ["k".repeat(128), "k".repeat(129)];
        for s in strings.iter().chain(&long).filter(|s| !s.is_empty()) {
            assert_eq!(letters_key_style(s), key_style(s), "{s:?}");
        }
        for other_type in ["y", "N", "yes", "No", "on", "OFF", "true", "null"] {
            assert_eq!(letters_key_style(other_type), (Style::Double, true), "{other_type}");
        }
        assert_eq!(letters_key_style("name"), (Style::Plain, true));
    }

    #[test]
    fn key_kinds_follow_the_styles() {
        assert_eq!(KeyKind::of("containerPort"), KeyKind::PlainLetters);
        assert_eq!(KeyKind::of("kind"), KeyKind::PlainLetters);
        for quoted in ["y", "No", "on", "null"] {
            assert_eq!(KeyKind::of(quoted), KeyKind::Letters, "{quoted}");
        }
        assert_eq!(KeyKind::of(&"k".repeat(129)), KeyKind::Letters);
        for other in ["", "x-y", "a1", "é", "$ref"] {
            assert_eq!(KeyKind::of(other), KeyKind::Other, "{other:?}");
        }
        // Every kind agrees with the general style and key order rules.
        let alphabet = ["a", "n", "o", "y", "N", "O", "Y", "-", "1"];
        for s in strings_over(&alphabet, 3).iter().filter(|s| !s.is_empty()) {
            let kind = KeyKind::of(s);
            assert_eq!(kind == KeyKind::PlainLetters, letters_only(s) && key_style(s) == (Style::Plain, true), "{s:?}");
            assert_eq!(kind.letters(), letters_only(s), "{s:?}");
        }
    }

    /// The ASCII literal body is the general one, on every string of up to five characters
    /// over the characters that matter to it, at two indents.
    #[test]
    fn ascii_literal_body_agrees_with_the_general_one() {
        let alphabet = ["\n", "\r", " ", "a", "#"];
        let strings = strings_over(&alphabet, 5);
        assert!(strings.len() > 3000);
        for s in &strings {
            for indent in [0, 6] {
                let (mut fast, mut general) = (Out::with_capacity(16), Out::with_capacity(16));
                fast.literal_ascii_body(s, indent);
                general.literal_body(s, indent);
                assert_eq!((fast.text, fast.column), (general.text, general.column), "{s:?}");
            }
        }
    }

    /// The indicators are YAML 1.2's (c-indicator), each followed by a letter, and no
    /// other byte is one.
    #[test]
    fn indicators_are_the_specs() {
        for b in 0..=u8::MAX {
            let indicator = b"-?:,[]{}#&*!|>'\"%@`".contains(&b);
            let opens = opens_another_construct(&[b, b'x']) || opens_another_construct(&[b]);
            assert_eq!(opens, indicator, "{:?}", char::from(b));
        }
    }

    /// The ASCII fast path agrees with the general one on every string of up to four
    /// characters over the characters that matter to the rules.
    #[test]
    fn ascii_traits_agree_with_char_traits() {
        let alphabet = [" ", ":", "#", "\n", "\r", "\t", "a", "-", "?", ".", "'", "\"", "\u{7f}", "\u{1}", "{", "@"];
        let strings = strings_over(&alphabet, 4);
        assert!(strings.len() > 60_000);
        for s in &strings {
            assert_eq!(Traits::of_ascii(s.as_bytes()), Traits::of_chars(s), "{s:?}");
        }
    }
}
