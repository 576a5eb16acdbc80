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
struct Traits {
    plain: bool,
    single: bool,
    literal: bool,
}

impl Traits {
    fn of(s: &str) -> Traits {
        let chars: Vec<char> = s.chars().collect();
        let (Some(&first), Some(&last)) = (chars.first(), chars.last()) else {
            return Traits { plain: false, single: true, literal: true };
        };
        // Non-printable text and byte order marks only survive escaped.
        let special = chars.iter().any(|&c| !is_printable(c) || c == BOM);
        let multiline = chars.iter().any(|&c| is_break(c));
        let pairs = || chars.windows(2).filter_map(|w| w.first().zip(w.get(1)));
        let space_then_break = pairs().any(|(&a, &b)| a == ' ' && is_break(b));
        let break_then_space = pairs().any(|(&a, &b)| is_break(a) && b == ' ');
        let second = chars.get(1).copied();
        // Characters that start another construct when they open a plain
        // scalar; `-`, `?`, `:` only when a space (or nothing) follows.
        let bad_start = "#,[]{}&*!|>'\"%@`".contains(first)
            || ("-?:".contains(first) && second.is_none_or(|c| c == ' '))
            || s.starts_with("---")
            || s.starts_with("...");
        // `: ` starts a value and ` #` a comment anywhere in the text.
        let bad_inside = pairs().any(|(&a, &b)| (a == ':' && b == ' ') || (a == ' ' && b == '#')) || last == ':';
        let plain = !(special || multiline || bad_start || bad_inside || first == ' ' || last == ' ');
        let single = !(special || space_then_break || break_then_space);
        let literal = !(special || space_then_break || last == ' ');
        Traits { plain, single, literal }
    }
}

/// The style kubectl uses for a string.
pub(crate) fn string_style(s: &str) -> Style {
    let traits = Traits::of(s);
    if s.contains('\n') {
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

/// Whether a key fits on the `key: value` line; otherwise it is written as
/// `? key` / `: value`.
pub(crate) fn is_simple_key(s: &str) -> bool {
    s.len() <= MAX_SIMPLE_KEY_BYTES && !s.chars().any(is_break)
}

/// The output text and the current column (in characters).
pub(crate) struct Out {
    pub(crate) text: String,
    pub(crate) column: usize,
}

impl Out {
    pub(crate) fn new() -> Out {
        Out { text: String::new(), column: 0 }
    }

    /// Append text that contains no line break.
    pub(crate) fn put(&mut self, s: &str) {
        self.text.push_str(s);
        self.column += s.chars().count();
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
            self.put_char(' ');
        }
    }

    /// Write `s` in `style`. `indent` is the column of continuation lines
    /// and of a literal block's body; `fold` is false for keys on the key
    /// line.
    pub(crate) fn scalar(&mut self, s: &str, style: Style, indent: usize, fold: bool) {
        match style {
            Style::Plain => self.folded(s, None, indent, fold),
            Style::Single => self.folded(s, Some('\''), indent, fold),
            Style::Double => self.double_quoted(s, indent, fold),
            Style::Literal => self.literal(s, indent),
        }
    }

    /// Plain or single-quoted text. Only LS/PS can be line breaks here (a
    /// `\n` always selects another style); they are written raw and the
    /// next line is indented when it has content.
    fn folded(&mut self, s: &str, quote: Option<char>, indent: usize, fold: bool) {
        if let Some(q) = quote {
            self.put_char(q);
        }
        let chars: Vec<char> = s.chars().collect();
        let mut line_start = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next = chars.get(i + 1).copied();
                let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
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
                continue;
            }
            if is_break(c) {
                self.text.push(c);
                self.column = 0;
                line_start = true;
                continue;
            }
            if line_start {
                self.pad(indent);
                line_start = false;
            }
            if c == '\'' && quote.is_some() {
                self.put("''");
            } else {
                self.put_char(c);
            }
        }
        if let Some(q) = quote {
            self.put_char(q);
        }
    }

    /// Double-quoted text with escapes. A leading byte order mark makes
    /// kubectl escape every character of the value.
    fn double_quoted(&mut self, s: &str, indent: usize, fold: bool) {
        self.put_char('"');
        let chars: Vec<char> = s.chars().collect();
        let escape_all = chars.first() == Some(&BOM);
        for (i, &c) in chars.iter().enumerate() {
            let needs_escape = escape_all || !is_printable(c) || c == BOM || is_break(c) || c == '"' || c == '\\';
            if needs_escape {
                self.put(&escape(c));
                continue;
            }
            if c == ' ' {
                let next = chars.get(i + 1).copied();
                let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
                let can_fold = fold && self.column > FOLD_COLUMN && prev.is_some_and(|p| p != ' ') && next.is_some();
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
        let chars: Vec<char> = s.chars().collect();
        self.put_char('|');
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.put_char('2');
        }
        let n = chars.len();
        let ends_with_break = chars.last().is_some_and(|&c| is_break(c));
        let before_last_is_break = n >= 2 && chars.get(n - 2).is_some_and(|&c| is_break(c));
        if !ends_with_break {
            self.put_char('-');
        } else if n == 1 || before_last_is_break {
            self.put_char('+');
        }
        self.newline();
        let mut line_start = true;
        for &c in &chars {
            if is_break(c) {
                if c == '\n' {
                    self.newline();
                } else {
                    self.text.push(c);
                    self.column = 0;
                }
                line_start = true;
                continue;
            }
            if line_start {
                self.pad(indent);
                line_start = false;
            }
            self.put_char(c);
        }
    }
}

/// Escape sequence for one character inside double quotes.
fn escape(c: char) -> String {
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
        return format!("\\{short}");
    }
    let code = u32::from(c);
    if code <= 0xFF {
        format!("\\x{code:02X}")
    } else if code <= 0xFFFF {
        format!("\\u{code:04X}")
    } else {
        format!("\\U{code:08X}")
    }
}
